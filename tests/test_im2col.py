"""im2col / col2im: the documented layout, numpy == Cython, and the adjoint identity."""
import numpy as np
import pytest

from course_utils.im2col import col2im_indices, get_im2col_indices, im2col_indices

try:
    from course_utils import im2col_cython as compiled
except ImportError:  # reported by the skip reason below, never silently
    compiled = None

needs_compiled = pytest.mark.skipif(
    compiled is None, reason="compiled core not built: run `pip install -e .`"
)

# (N, C, H, W), field_height, field_width, padding, stride: awkward on purpose
CASES = [
    ((2, 3, 7, 5), 3, 2, 1, 2),
    ((1, 1, 4, 4), 4, 4, 2, 3),
    ((3, 2, 9, 8), 1, 3, 0, 1),
    ((2, 2, 5, 6), 3, 3, 2, 1),
    ((1, 3, 6, 11), 5, 3, 2, 3),    # (6 + 4 - 5) % 3 != 0: floor rule, no divisibility needed
    ((2, 1, 3, 3), 3, 3, 0, 1),     # one window covers the whole input
    ((1, 2, 2, 2), 1, 1, 2, 2),     # padding wider than the filter
]
DTYPES = [np.float32, np.float64]


def numpy_core(x, fh, fw, pad, stride):
    return im2col_indices(x, fh, fw, pad, stride)


def compiled_core(x, fh, fw, pad, stride):
    return compiled.im2col_cython(x, fh, fw, pad, stride)


def numpy_fold(cols, shape, fh, fw, pad, stride):
    return col2im_indices(cols, shape, fh, fw, pad, stride)


def compiled_fold(cols, shape, fh, fw, pad, stride):
    return compiled.col2im_cython(cols, *shape, fh, fw, pad, stride)


CORES = [
    pytest.param((numpy_core, numpy_fold), id="numpy"),
    pytest.param((compiled_core, compiled_fold), id="cython", marks=needs_compiled),
]


def test_fixed_values_one_channel():
    x = np.arange(1.0, 5.0).reshape(1, 1, 2, 2)        # [[1, 2], [3, 4]]
    assert np.array_equal(im2col_indices(x, 2, 2, padding=0), [[1.0], [2.0], [3.0], [4.0]])
    cols = im2col_indices(x, 2, 2, padding=1, stride=1)  # 3x3 output positions
    assert cols.shape == (4, 9)
    # tap (0, 0) sees the top-left corner of each window of the zero-padded 4x4 image
    assert np.array_equal(cols[0], [0, 0, 0, 0, 1, 2, 0, 3, 4])
    # tap (1, 1) sees the bottom-right corner
    assert np.array_equal(cols[3], [1, 2, 0, 3, 4, 0, 0, 0, 0])


def test_fixed_values_batch_order():
    # columns run over (n, oh, ow) with the batch outermost
    x = np.stack([np.full((1, 2, 2), 1.0), np.full((1, 2, 2), 2.0)])
    cols = im2col_indices(x, 1, 1, padding=0)
    assert np.array_equal(cols, [[1, 1, 1, 1, 2, 2, 2, 2]])


def test_col2im_counts_window_overlaps():
    # folding all-ones columns counts how many windows cover each pixel
    ones = np.ones((4, 4))
    counts = col2im_indices(ones, (1, 1, 3, 3), 2, 2, padding=0, stride=1)
    assert np.array_equal(counts[0, 0], [[1, 2, 1], [2, 4, 2], [1, 2, 1]])


@pytest.mark.parametrize("core", CORES)
@pytest.mark.parametrize("shape, fh, fw, pad, stride", CASES)
def test_layout_matches_index_helper(core, shape, fh, fw, pad, stride):
    unfold, _ = core
    x = np.random.default_rng(0).standard_normal(shape)
    x_padded = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    expected = x_padded[get_im2col_indices(shape, fh, fw, pad, stride)]
    assert np.array_equal(unfold(x, fh, fw, pad, stride), expected)


@needs_compiled
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, fh, fw, pad, stride", CASES)
def test_numpy_and_compiled_agree(dtype, shape, fh, fw, pad, stride):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape).astype(dtype)
    cols_np = im2col_indices(x, fh, fw, pad, stride)
    cols_cy = compiled.im2col_cython(x, fh, fw, pad, stride)
    assert cols_np.dtype == cols_cy.dtype == dtype
    assert np.array_equal(cols_np, cols_cy)
    c = rng.standard_normal(cols_np.shape).astype(dtype)
    dx_np = col2im_indices(c, shape, fh, fw, pad, stride)
    dx_cy = compiled.col2im_cython(c, *shape, fh, fw, pad, stride)
    assert dx_np.dtype == dx_cy.dtype == dtype
    assert dx_np.shape == dx_cy.shape == shape
    np.testing.assert_allclose(dx_np, dx_cy, rtol=1e-5 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("core", CORES)
@pytest.mark.parametrize("shape, fh, fw, pad, stride", CASES)
def test_col2im_is_adjoint_of_im2col(core, shape, fh, fw, pad, stride):
    # <im2col(x), c> == <x, col2im(c)> for all x, c: col2im is the transpose of im2col
    unfold, fold = core
    rng = np.random.default_rng(2)
    x = rng.standard_normal(shape)
    cols = unfold(x, fh, fw, pad, stride)
    c = rng.standard_normal(cols.shape)
    left = np.sum(cols * c)
    right = np.sum(x * fold(c, shape, fh, fw, pad, stride))
    assert left == pytest.approx(right, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("core", CORES)
def test_non_contiguous_input(core):
    unfold, _ = core
    x = np.random.default_rng(3).standard_normal((5, 4, 3, 2)).transpose(3, 2, 1, 0)
    expected = im2col_indices(np.ascontiguousarray(x), 3, 2, 1, 2)
    assert np.array_equal(unfold(x, 3, 2, 1, 2), expected)


@pytest.mark.parametrize("core", CORES)
def test_filter_larger_than_padded_input(core):
    unfold, fold = core
    with pytest.raises(ValueError, match="filter height 6 is larger than the padded input height"):
        unfold(np.zeros((1, 1, 3, 3)), 6, 1, 1, 1)
    with pytest.raises(ValueError, match="stride must be an integer >= 1, got 0"):
        unfold(np.zeros((1, 1, 3, 3)), 2, 2, 0, 0)
    with pytest.raises(ValueError, match="pad must be an integer >= 0, got -1"):
        fold(np.zeros((4, 4)), (1, 1, 3, 3), 2, 2, -1, 1)


@pytest.mark.parametrize("core", CORES)
def test_col2im_wrong_cols_shape(core):
    _, fold = core
    with pytest.raises(ValueError, match=r"cols must have shape \(4, 4\), got \(4, 5\)"):
        fold(np.zeros((4, 5)), (1, 1, 3, 3), 2, 2, 0, 1)


def test_im2col_needs_4d_input():
    with pytest.raises(ValueError, match="x must have 4 dimensions"):
        im2col_indices(np.zeros((3, 3)), 2, 2)


@needs_compiled
def test_compiled_core_needs_float32_or_float64():
    with pytest.raises(ValueError, match="float32 or float64 for the compiled core, got int64"):
        compiled.im2col_cython(np.zeros((1, 1, 3, 3), dtype=np.int64), 2, 2, 0, 1)
    with pytest.raises(ValueError, match="x must have 4 dimensions"):
        compiled.im2col_cython(np.zeros((3, 3)), 2, 2, 0, 1)
