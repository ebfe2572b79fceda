import numpy as np
import pytest

from course_utils.vis_utils import vis_grid, vis_nn, visualize_grid


def test_grid_shape_range_and_layout():
    rng = np.random.default_rng(0)
    Xs = rng.standard_normal((5, 4, 3, 2))
    grid = visualize_grid(Xs, ubound=1.0, padding=2)
    # 5 images -> 3x3 tiles: 3*4 + 2*2 rows, 3*3 + 2*2 columns
    assert grid.shape == (16, 13, 2)
    assert grid.min() == 0.0 and grid.max() == 1.0
    # tile (1, 1) is image 4, rescaled to [0, 1] on its own
    tile = grid[6:10, 5:8]
    img = Xs[4]
    np.testing.assert_allclose(tile, (img - img.min()) / (img.max() - img.min()))
    # padding rows/columns and the unused tiles are blank
    assert np.all(grid[4:6] == 0) and np.all(grid[:, 3:5] == 0)
    assert np.all(grid[12:, 5:] == 0)


def test_grid_gray_and_constant_images():
    Xs = np.zeros((4, 2, 2, 1))
    Xs[0] = [[[0.0], [1.0]], [[2.0], [4.0]]]
    Xs[3] = 9.0  # constant image: all zeros rather than a division by zero
    grid = visualize_grid(Xs)
    assert grid.shape == (5, 5, 1)
    np.testing.assert_allclose(grid[:2, :2, 0], [[0.0, 63.75], [127.5, 255.0]])
    assert np.all(grid[3:, 3:] == 0)


def test_single_image_has_no_padding():
    Xs = np.arange(12, dtype=np.uint8).reshape(1, 2, 2, 3)
    grid = visualize_grid(Xs, padding=3)
    assert grid.shape == (2, 2, 3)
    np.testing.assert_allclose(grid.ravel(), np.arange(12) * 255.0 / 11)


def test_bad_input():
    with pytest.raises(ValueError, match="Xs must have 4 dimensions"):
        visualize_grid(np.zeros((2, 3, 3)))
    with pytest.raises(ValueError, match="at least one image"):
        visualize_grid(np.zeros((0, 3, 3, 1)))
    with pytest.raises(ValueError, match="padding must be an integer >= 0"):
        visualize_grid(np.zeros((1, 3, 3, 1)), padding=-1)
    with pytest.raises(ValueError, match="ubound must be a positive number"):
        visualize_grid(np.zeros((1, 3, 3, 1)), ubound=0)


# ------------------------------------------------------------- vis_grid and vis_nn (joint scaling)

def test_vis_grid_scales_all_images_together():
    Xs = np.array([2.0, 4.0, 3.0]).reshape(3, 1, 1, 1)
    grid = vis_grid(Xs)
    # 3 images -> 2x2 tiles one pixel apart; the gap and the unused tile take the minimum (0 after scaling)
    np.testing.assert_allclose(grid[..., 0], [[0.0, 0.0, 1.0], [0.0, 0.0, 0.0], [0.5, 0.0, 0.0]])
    big = vis_grid(np.random.default_rng(0).standard_normal((5, 4, 3, 2)))
    assert big.shape == (3 * 4 + 2, 3 * 3 + 2, 2) and big.min() == 0.0 and big.max() == 1.0
    np.testing.assert_array_equal(vis_grid(np.ones((2, 2, 2, 3))), np.zeros((5, 5, 3)))


def test_vis_nn_lays_rows_out_as_given():
    a, b = np.full((2, 1, 1), 1.0), np.full((2, 1, 1), 5.0)
    grid = vis_nn([[a, b, a], [b, b, b]])
    assert grid.shape == (5, 5, 1)
    np.testing.assert_allclose(grid[[0, 1, 3, 4]][:, [0, 2, 4], 0], [[0, 1, 0], [0, 1, 0], [1, 1, 1], [1, 1, 1]])
    assert np.all(grid[2] == 0) and np.all(grid[:, [1, 3]] == 0)


def test_vis_grid_and_vis_nn_bad_input():
    with pytest.raises(ValueError, match="Xs must have 4 dimensions"):
        vis_grid(np.zeros((2, 3, 3)))
    with pytest.raises(ValueError, match="equally long"):
        vis_nn([[np.zeros((2, 2, 3))], []])
    with pytest.raises(ValueError, match="non-empty list"):
        vis_nn([])
    with pytest.raises(ValueError, match=r"each image of rows must have shape \(2, 2, 3\)"):
        vis_nn([[np.zeros((2, 2, 3)), np.zeros((2, 3, 3))]])
