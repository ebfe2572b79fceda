import numpy as np
import pytest

from course_utils.features import color_histogram_hsv, extract_features, hog_feature, rgb2gray


def _vertical_edge(size=16):
    im = np.zeros((size, size))
    im[:, size // 2:] = 255.0
    return im


def test_hog_vertical_edge_is_all_in_the_horizontal_gradient_bin():
    feats = hog_feature(_vertical_edge()).reshape(2, 2, 9)
    # central differences: columns 7 and 8 carry gx = 255 / 2 on all 8 rows of
    # each cell; mean over the 64 pixels of a cell = 8 * 127.5 / 64
    np.testing.assert_allclose(feats[:, :, 0], 8 * 127.5 / 64)
    np.testing.assert_array_equal(feats[:, :, 1:], 0.0)


def test_hog_horizontal_edge_lands_in_the_90_degree_bin():
    feats = hog_feature(_vertical_edge().T).reshape(2, 2, 9)
    # 90 degrees falls in bin 4, which covers [80, 100)
    np.testing.assert_allclose(feats[:, :, 4], 8 * 127.5 / 64)
    assert feats.sum() == pytest.approx(4 * 8 * 127.5 / 64)


def test_hog_orientation_is_unsigned():
    # a dark-to-bright and a bright-to-dark edge give the same histogram
    np.testing.assert_allclose(hog_feature(_vertical_edge()), hog_feature(255.0 - _vertical_edge()))


def test_hog_diagonal_ramp():
    r, c = np.mgrid[0:8, 0:8]
    feats = hog_feature((r + c).astype(float))
    # gradient (1, 1) everywhere: 45 degrees -> bin 2 ([40, 60)), magnitude sqrt(2)
    expected = np.zeros(9)
    expected[2] = np.sqrt(2)
    np.testing.assert_allclose(feats, expected)


def test_hog_shapes_and_channel_handling():
    rng = np.random.default_rng(0)
    gray = rng.uniform(0, 255, (28, 28))
    assert hog_feature(gray).shape == (3 * 3 * 9,)
    assert hog_feature(gray, pixels_per_cell=7).shape == (4 * 4 * 9,)
    assert hog_feature(gray, pixels_per_cell=4).shape == (7 * 7 * 9,)
    np.testing.assert_array_equal(hog_feature(gray[:, :, None]), hog_feature(gray))
    # a colour image whose channels are equal has that gray image as its luma
    rgb = np.repeat(gray[:, :, None], 3, axis=2)
    np.testing.assert_allclose(hog_feature(rgb), hog_feature(gray), rtol=1e-12)
    assert hog_feature(rng.uniform(0, 255, (32, 32, 3))).shape == (4 * 4 * 9,)
    np.testing.assert_array_equal(hog_feature(np.full((16, 16), 7.0)), 0.0)


def test_hog_ignores_the_border_outside_the_centred_cells():
    # 28x28 with 8-pixel cells covers rows/columns 2..25; an edge between
    # columns 0 and 1 only has gradient in columns 0 and 1
    im = np.zeros((28, 28))
    im[:, 1:] = 1.0
    np.testing.assert_array_equal(hog_feature(im), 0.0)
    im = np.zeros((28, 28))
    im[:, 3:] = 1.0  # gradient in columns 2 and 3: first column of cells only
    feats = hog_feature(im).reshape(3, 3, 9)
    np.testing.assert_allclose(feats[:, 0, 0], 2 * 8 * 0.5 / 64)
    assert feats[:, 1:].sum() == 0.0


def test_hog_bad_input():
    with pytest.raises(ValueError, match="smaller than one 8x8 cell"):
        hog_feature(np.zeros((7, 20)))
    with pytest.raises(ValueError, match=r"im must have shape \(H, W\), \(H, W, 1\) or \(H, W, 3\)"):
        hog_feature(np.zeros((16, 16, 4)))
    with pytest.raises(ValueError, match="pixels_per_cell must be an integer >= 1"):
        hog_feature(np.zeros((16, 16)), pixels_per_cell=0)


@pytest.mark.parametrize("rgb, bin_index", [((255, 0, 0), 0), ((0, 255, 0), 3), ((0, 0, 255), 6)])
def test_hue_histogram_of_pure_colours(rgb, bin_index):
    im = np.empty((4, 5, 3))
    im[:] = rgb
    expected = np.zeros(10)
    expected[bin_index] = 1.0  # hue 0, 1/3, 2/3 of the wheel
    np.testing.assert_allclose(color_histogram_hsv(im), expected)
    counts = color_histogram_hsv(im, normalized=False)
    assert counts[bin_index] == 20 and counts.sum() == 20


def test_hue_histogram_mixture_and_bins():
    im = np.zeros((2, 2, 3))
    im[0, :] = (255, 0, 0)  # red, hue 0
    im[1, 0] = (0, 255, 255)  # cyan, hue 1/2
    im[1, 1] = (255, 255, 0)  # yellow, hue 1/6
    np.testing.assert_allclose(color_histogram_hsv(im, nbin=6), [0.5, 0.25, 0, 0.25, 0, 0])
    assert color_histogram_hsv(im / 255.0, nbin=6, xmax=1.0)[0] == pytest.approx(0.5)


def test_gray_histogram_is_over_intensity():
    im = np.zeros((4, 4))
    im[:, :2] = 255.0
    im[0, 2] = 100.0  # bin 3 of [0, 255) split in 10
    expected = np.zeros(10)
    expected[[0, 3, 9]] = [7 / 16, 1 / 16, 8 / 16]
    np.testing.assert_allclose(color_histogram_hsv(im), expected)
    np.testing.assert_allclose(color_histogram_hsv(im[:, :, None]), expected)


def test_color_histogram_bad_input():
    with pytest.raises(ValueError, match=r"im must have shape \(H, W, 3\)"):
        color_histogram_hsv(np.zeros((4, 4, 2)))
    with pytest.raises(ValueError, match="nbin must be an integer >= 1"):
        color_histogram_hsv(np.zeros((4, 4, 3)), nbin=0)
    with pytest.raises(ValueError, match="xmin < xmax"):
        color_histogram_hsv(np.zeros((4, 4, 3)), xmin=5, xmax=5)


@pytest.mark.parametrize("verbose", [False, True])
def test_extract_features_stacks_each_function(verbose, capsys):
    rng = np.random.default_rng(1)
    imgs = rng.uniform(0, 255, (3, 16, 16, 3))
    fns = [hog_feature, lambda im: color_histogram_hsv(im, nbin=5)]
    feats = extract_features(imgs, fns, verbose=verbose)
    assert feats.shape == (3, 36 + 5)
    for i in range(3):
        np.testing.assert_allclose(feats[i, :36], hog_feature(imgs[i]))
        np.testing.assert_allclose(feats[i, 36:], color_histogram_hsv(imgs[i], nbin=5))
    assert ("features" in capsys.readouterr().err) == verbose


def test_extract_features_gray_stack():
    imgs = np.zeros((2, 28, 28, 1))
    imgs[1, :, 14:] = 255.0
    feats = extract_features(imgs, [hog_feature])
    assert feats.shape == (2, 81)
    assert feats[0].sum() == 0.0 and feats[1].reshape(3, 3, 9)[:, 1, 0].min() > 0


def test_extract_features_bad_input():
    with pytest.raises(ValueError, match=r"imgs must have shape \(N, H, W, C\)"):
        extract_features(np.zeros((0, 8, 8, 1)), [hog_feature])
    with pytest.raises(ValueError, match="non-empty list of callables"):
        extract_features(np.zeros((1, 8, 8, 1)), [])
    with pytest.raises(ValueError, match="non-empty list of callables"):
        extract_features(np.zeros((1, 8, 8, 1)), [hog_feature, 3])


def test_rgb2gray_weights_and_shapes():
    rgb = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255], [10, 10, 10]]], dtype=np.uint8)
    np.testing.assert_allclose(rgb2gray(rgb), [[0.299 * 255, 0.587 * 255, 0.114 * 255, 10.0]])
    stack = np.random.default_rng(0).random((2, 5, 4, 3))
    assert rgb2gray(stack).shape == (2, 5, 4)
    np.testing.assert_allclose(rgb2gray(stack)[1], rgb2gray(stack[1]))
    im = np.random.default_rng(1).random((8, 8, 3)) * 255
    np.testing.assert_allclose(hog_feature(im), hog_feature(rgb2gray(im)))  # HOG's gray conversion
    with pytest.raises(ValueError, match=r"rgb must have shape \(\.\.\., 3\)"):
        rgb2gray(np.zeros((4, 4)))
