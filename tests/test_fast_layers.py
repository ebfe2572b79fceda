"""Fast conv / max pool: equal to the naive layers on both cores, gradients, fallback, errors."""
import importlib
import sys
import threading
import warnings

import numpy as np
import pytest

from course_utils import cli, fast_layers
from course_utils.fast_layers import (
    conv_backward_fast,
    conv_forward_fast,
    max_pool_backward_fast,
    max_pool_forward_fast,
)
from course_utils.gradient_check import eval_numerical_gradient_array, rel_error
from course_utils.layers import (
    conv_backward_naive,
    conv_forward_naive,
    max_pool_backward_naive,
    max_pool_forward_naive,
)

COMPILED_BUILT = fast_layers.extension_path() is not None
CORE_PARAMS = [
    pytest.param("numpy", id="numpy"),
    pytest.param("cython", id="cython", marks=pytest.mark.skipif(
        not COMPILED_BUILT, reason="compiled core not built: run `pip install -e .`")),
]


@pytest.fixture(params=CORE_PARAMS)
def core(request):
    with fast_layers.using_core(request.param):
        yield request.param


# x shape, w shape, stride, pad
CONV_CASES = [
    ((2, 3, 7, 9), (4, 3, 3, 3), 2, 1),   # non-square input
    ((1, 1, 5, 5), (2, 1, 3, 3), 1, 0),   # batch of one, one channel
    ((3, 2, 8, 6), (3, 2, 1, 4), 3, 2),   # non-square filter, stride 3, pad 2
    ((2, 4, 6, 11), (5, 4, 5, 2), 2, 2),  # floor rule: (6 + 4 - 5) % 2 != 0
    ((1, 2, 4, 4), (1, 2, 4, 4), 1, 0),   # the filter covers the whole input
    ((2, 3, 6, 7), (2, 3, 2, 2), 3, 0),   # stride larger than the filter
]
# x shape, pool_height, pool_width, stride
POOL_CASES = [
    ((2, 3, 8, 6), 2, 2, 2),    # windows tile the input: reshape path
    ((1, 1, 9, 6), 3, 3, 3),    # tiling with 3x3 windows: reshape path
    ((2, 2, 7, 5), 2, 2, 2),    # odd sizes, last row/column dropped: im2col path
    ((2, 3, 7, 8), 3, 2, 1),    # overlapping, non-square windows
    ((1, 2, 6, 9), 3, 3, 2),    # overlapping windows, stride 2
    ((3, 1, 5, 5), 1, 1, 2),    # 1x1 windows, stride 2
]


def inputs(x_shape, w_shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(x_shape).astype(dtype)
    w = rng.standard_normal(w_shape).astype(dtype)
    b = rng.standard_normal(w_shape[0]).astype(dtype)
    return x, w, b


def assert_close(fast, naive, dtype):
    """float64: tiny relative error; float32: compared with a float64 reference."""
    assert fast.dtype == dtype
    if dtype == np.float64:
        assert rel_error(fast, naive) < 1e-10
    else:
        scale = np.abs(naive).max() + 1e-30
        np.testing.assert_allclose(fast, naive, rtol=1e-4, atol=1e-5 * scale)


# ---------------------------------------------------------------- convolution

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("x_shape, w_shape, stride, pad", CONV_CASES)
def test_conv_fast_equals_naive(core, dtype, x_shape, w_shape, stride, pad):
    conv_param = {"stride": stride, "pad": pad}
    x, w, b = inputs(x_shape, w_shape, dtype)
    x64, w64, b64 = (a.astype(np.float64) for a in (x, w, b))
    out_naive, cache_naive = conv_forward_naive(x64, w64, b64, conv_param)
    out_fast, cache_fast = conv_forward_fast(x, w, b, conv_param)
    assert out_fast.shape == out_naive.shape
    assert_close(out_fast, out_naive, dtype)

    dout = np.random.default_rng(1).standard_normal(out_naive.shape)
    grads_naive = conv_backward_naive(dout, cache_naive)
    grads_fast = conv_backward_fast(dout.astype(dtype), cache_fast)
    for fast, naive, like in zip(grads_fast, grads_naive, (x, w, b)):
        assert fast.shape == like.shape
        assert_close(fast, naive, dtype)


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("chunk_bytes", [1, 3 * 27 * 16 * 8])
def test_conv_in_uneven_batch_blocks(core, chunk_bytes, threads, monkeypatch):
    # blocks of 1 image, or of 3 images with the last block holding the remaining 2,
    # shared by 1, 2 or 3 threads
    monkeypatch.setattr(fast_layers, "CHUNK_BYTES", chunk_bytes)
    monkeypatch.setattr(fast_layers, "THREADS", threads)
    conv_param = {"stride": 2, "pad": 1}
    for dtype in (np.float32, np.float64):
        x, w, b = inputs((5, 3, 7, 8), (4, 3, 3, 3), dtype)
        x64, w64, b64 = (a.astype(np.float64) for a in (x, w, b))
        out_naive, cache_naive = conv_forward_naive(x64, w64, b64, conv_param)
        out, cache = conv_forward_fast(x, w, b, conv_param)
        assert_close(out, out_naive, dtype)
        dout = np.random.default_rng(2).standard_normal(out.shape)
        for fast, naive in zip(conv_backward_fast(dout.astype(dtype), cache),
                               conv_backward_naive(dout, cache_naive)):
            assert_close(fast, naive, dtype)


def test_concurrent_calls_from_user_threads(monkeypatch):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    blas_threads = [lib["num_threads"] for lib in threadpoolctl.threadpool_info()]
    monkeypatch.setattr(fast_layers, "CHUNK_BYTES", 1 << 12)
    monkeypatch.setattr(fast_layers, "THREADS", 2)
    x, w, b = inputs((16, 4, 8, 8), (5, 4, 3, 3), np.float64)
    conv_param = {"stride": 1, "pad": 1}
    expected = conv_forward_naive(x, w, b, conv_param)[0]
    errors = []

    def user():
        for _ in range(5):
            out, cache = conv_forward_fast(x, w, b, conv_param)
            conv_backward_fast(out, cache)
            errors.append(rel_error(out, expected))

    threads = [threading.Thread(target=user) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(errors) == 15 and max(errors) < 1e-10
    # the single-threaded BLAS setting of the parallel sections is undone at the end
    assert [lib["num_threads"] for lib in threadpoolctl.threadpool_info()] == blas_threads


def test_batch_blocks_cover_the_batch_in_equal_shares(monkeypatch):
    monkeypatch.setattr(fast_layers, "CHUNK_BYTES", 100)
    chunks, size = fast_layers._batch_chunks(10, 30, workers=2)    # 3 images fit a block
    assert size == 3 and [(c.start, c.stop) for c in chunks] == [(0, 2), (2, 5), (5, 7), (7, 10)]
    chunks, size = fast_layers._batch_chunks(7, 30, workers=1)     # one thread: 3 blocks
    assert size == 3 and [(c.start, c.stop) for c in chunks] == [(0, 2), (2, 4), (4, 7)]
    chunks, size = fast_layers._batch_chunks(7, 30, workers=2)     # 3 blocks -> 4 for 2 threads
    assert size == 2 and [(c.start, c.stop) for c in chunks] == [(0, 1), (1, 3), (3, 5), (5, 7)]
    chunks, size = fast_layers._batch_chunks(5, 1, workers=2)      # everything fits one block
    assert size == 5 and len(chunks) == 1


def test_empty_batch(core):
    x = np.zeros((0, 3, 5, 5))
    out, cache = conv_forward_fast(x, np.ones((2, 3, 3, 3)), np.zeros(2), {"stride": 1, "pad": 1})
    assert out.shape == (0, 2, 5, 5)
    dx, dw, db = conv_backward_fast(out, cache)
    assert dx.shape == x.shape and np.array_equal(dw, np.zeros((2, 3, 3, 3))) and np.array_equal(db, [0, 0])
    for pool_param in ({"pool_height": 2, "pool_width": 2, "stride": 2},
                       {"pool_height": 3, "pool_width": 2, "stride": 1}):
        out, cache = max_pool_forward_fast(x, pool_param)
        assert out.shape[0] == 0 and max_pool_backward_fast(out, cache).shape == x.shape


def test_conv_mixed_dtypes_follow_numpy_promotion(core):
    x, w, b = inputs((2, 2, 5, 5), (3, 2, 3, 3), np.float32)
    out, cache = conv_forward_fast(x, w.astype(np.float64), b, {"stride": 1, "pad": 1})
    assert out.dtype == np.float64
    dx, dw, db = conv_backward_fast(np.ones_like(out), cache)
    assert (dx.dtype, dw.dtype, db.dtype) == (np.float32, np.float64, np.float32)


def test_conv_fixed_values(core):
    x = np.ones((1, 1, 3, 3))
    w = np.ones((1, 1, 2, 2))
    b = np.array([0.5])
    out, _ = conv_forward_fast(x, w, b, {"stride": 1, "pad": 0})
    assert np.array_equal(out, np.full((1, 1, 2, 2), 4.5))
    # pad 1, stride 2: the windows hold 1, 2, 2 and 4 of the ones
    out, cache = conv_forward_fast(x, w, b, {"stride": 2, "pad": 1})
    assert np.array_equal(out, [[[[1.5, 2.5], [2.5, 4.5]]]])
    dx, dw, db = conv_backward_fast(np.ones_like(out), cache)
    # the four windows do not overlap and each pixel lies in exactly one
    assert np.array_equal(dx, np.ones_like(x))
    assert np.array_equal(dw, [[[[1.0, 2.0], [2.0, 4.0]]]])
    assert np.array_equal(db, [4.0])


def test_conv_backward_without_input_gradient(core):
    x, w, b = inputs((3, 2, 6, 6), (4, 2, 3, 3), np.float64, seed=6)
    out, cache = conv_forward_fast(x, w, b, {"stride": 1, "pad": 1})
    dout = np.random.default_rng(7).standard_normal(out.shape)
    _, dw, db = conv_backward_fast(dout, cache)
    dx_skipped, dw_only, db_only = conv_backward_fast(dout, cache, input_grad=False)
    assert dx_skipped is None
    assert np.array_equal(dw_only, dw) and np.array_equal(db_only, db)


def test_conv_numerical_gradient(core):
    conv_param = {"stride": 2, "pad": 1}
    x, w, b = inputs((2, 2, 5, 4), (3, 2, 3, 2), np.float64, seed=4)
    out, cache = conv_forward_fast(x, w, b, conv_param)
    dout = np.random.default_rng(5).standard_normal(out.shape)
    dx, dw, db = conv_backward_fast(dout, cache)
    dx_num = eval_numerical_gradient_array(lambda v: conv_forward_fast(v, w, b, conv_param)[0], x, dout)
    dw_num = eval_numerical_gradient_array(lambda v: conv_forward_fast(x, v, b, conv_param)[0], w, dout)
    db_num = eval_numerical_gradient_array(lambda v: conv_forward_fast(x, w, v, conv_param)[0], b, dout)
    assert rel_error(dx, dx_num) < 1e-8
    assert rel_error(dw, dw_num) < 1e-8
    assert rel_error(db, db_num) < 1e-8


def test_conv_leaves_inputs_alone_and_accepts_views(core):
    x, w, b = inputs((3, 5, 4, 2), (2, 4, 3, 2), np.float64)
    x = x.transpose(3, 2, 1, 0)                     # (2, 4, 5, 3), not contiguous
    w = w.transpose(0, 1, 3, 2)                     # (2, 4, 2, 3)
    saved = [a.copy() for a in (x, w, b)]
    conv_param = {"stride": 1, "pad": 1}
    out, cache = conv_forward_fast(x, w, b, conv_param)
    conv_backward_fast(np.ones_like(out), cache)
    for a, before in zip((x, w, b), saved):
        assert np.array_equal(a, before)
    out_naive, _ = conv_forward_naive(x, w, b, conv_param)
    assert rel_error(out, out_naive) < 1e-10


# ---------------------------------------------------------------- max pooling

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("x_shape, ph, pw, stride", POOL_CASES)
@pytest.mark.parametrize("relu", [False, True], ids=["distinct", "ties"])
def test_pool_fast_equals_naive(core, dtype, x_shape, ph, pw, stride, relu):
    pool_param = {"pool_height": ph, "pool_width": pw, "stride": stride}
    x = np.random.default_rng(6).standard_normal(x_shape).astype(dtype)
    if relu:  # zeros everywhere: windows whose maximum is tied
        x = np.maximum(x - 1.0, 0.0).astype(dtype)
    out_naive, cache_naive = max_pool_forward_naive(x, pool_param)
    out_fast, cache_fast = max_pool_forward_fast(x, pool_param)
    assert out_fast.dtype == dtype and np.array_equal(out_fast, out_naive)
    dout = np.random.default_rng(7).standard_normal(out_naive.shape).astype(dtype)
    dx_fast = max_pool_backward_fast(dout, cache_fast)
    assert dx_fast.dtype == dtype
    # every dx entry receives the same dout values in both versions
    np.testing.assert_allclose(dx_fast, max_pool_backward_naive(dout, cache_naive), rtol=1e-6)


def test_pool_picks_reshape_only_when_windows_tile(core):
    x = np.zeros((1, 1, 4, 6))
    assert max_pool_forward_fast(x, {"pool_height": 2, "pool_width": 2, "stride": 2})[1][0] == "reshape"
    assert max_pool_forward_fast(x, {"pool_height": 2, "pool_width": 3, "stride": 2})[1][0] == "im2col"
    assert max_pool_forward_fast(x, {"pool_height": 4, "pool_width": 4, "stride": 4})[1][0] == "im2col"


@pytest.mark.parametrize("relu", [False, True], ids=["distinct", "ties"])
def test_pool_reshape_path_equals_im2col_path(core, relu):
    x = np.random.default_rng(8).standard_normal((3, 2, 6, 8))
    if relu:
        x = np.maximum(x, 0.0)
    out_r, arg_r = fast_layers._pool_forward_reshape(x, 2, 2, 3, 4)
    out_i, arg_i = fast_layers._pool_forward_im2col(x, 2, 2, 2, 3, 4)
    assert np.array_equal(out_r, out_i)
    dout = np.random.default_rng(9).standard_normal(out_r.shape)
    dx_r = fast_layers._pool_backward_reshape(dout, x, arg_r, 2, 2)
    dx_i = fast_layers._pool_backward_im2col(dout, x, arg_i, 2, 2, 2)
    assert np.array_equal(dx_r, dx_i)


def test_pool_fixed_values(core):
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    out, cache = max_pool_forward_fast(x, {"pool_height": 2, "pool_width": 2, "stride": 2})
    assert np.array_equal(out, [[[[5.0, 7.0], [13.0, 15.0]]]])
    dx = max_pool_backward_fast(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]), cache)
    expected = np.zeros((4, 4))
    expected[1, 1], expected[1, 3], expected[3, 1], expected[3, 3] = 1, 2, 3, 4
    assert np.array_equal(dx[0, 0], expected)
    # overlapping 3x3 windows, stride 1: the 15 at the corner wins all four windows
    out, cache = max_pool_forward_fast(x, {"pool_height": 3, "pool_width": 3, "stride": 1})
    assert np.array_equal(out, [[[[10.0, 11.0], [14.0, 15.0]]]])
    dx = max_pool_backward_fast(np.ones((1, 1, 2, 2)), cache)
    assert dx.sum() == 4.0 and dx[0, 0, 2, 2] == dx[0, 0, 3, 3] == 1.0


@pytest.mark.parametrize("pool_param", [
    {"pool_height": 2, "pool_width": 2, "stride": 2},
    {"pool_height": 3, "pool_width": 2, "stride": 1},
])
def test_pool_tie_goes_to_first_maximum(core, pool_param):
    x = np.zeros((1, 1, 4, 4))
    out, cache = max_pool_forward_fast(x, pool_param)
    dx = max_pool_backward_fast(np.ones_like(out), cache)
    # every window is all zeros: its gradient lands on its top-left entry
    expected = np.zeros((4, 4))
    s = pool_param["stride"]
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            expected[i * s, j * s] += 1.0
    assert np.array_equal(dx[0, 0], expected)


def test_pool_numerical_gradient(core):
    x = np.random.default_rng(10).standard_normal((2, 2, 5, 6))
    pool_param = {"pool_height": 2, "pool_width": 3, "stride": 1}
    out, cache = max_pool_forward_fast(x, pool_param)
    dout = np.random.default_rng(11).standard_normal(out.shape)
    dx_num = eval_numerical_gradient_array(lambda v: max_pool_forward_fast(v, pool_param)[0], x, dout)
    assert rel_error(max_pool_backward_fast(dout, cache), dx_num) < 1e-8


# ---------------------------------------------------------------- core selection

def test_active_core_and_use_core():
    assert fast_layers.active_core() in ("cython", "numpy")
    with fast_layers.using_core("numpy"):
        assert fast_layers.active_core() == "numpy"
    assert fast_layers.active_core() == ("cython" if COMPILED_BUILT else "numpy")
    with pytest.raises(ValueError, match="core must be one of"):
        fast_layers.use_core("fortran")


@pytest.fixture
def reload_fast_layers(monkeypatch):
    """Reload fast_layers under a patched import; restore the real module afterwards."""
    def reload():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            importlib.reload(fast_layers)
        return [w for w in caught if issubclass(w.category, RuntimeWarning)]
    yield reload
    monkeypatch.undo()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        importlib.reload(fast_layers)


def test_fallback_when_extension_is_missing(monkeypatch, reload_fast_layers):
    monkeypatch.setitem(sys.modules, fast_layers.EXTENSION, None)   # import now fails
    caught = reload_fast_layers()
    assert len(caught) == 1
    assert "numpy core" in str(caught[0].message)
    assert "pip install -e ." in str(caught[0].message)
    assert fast_layers.active_core() == "numpy"
    assert fast_layers.extension_path() is None
    with pytest.raises(ValueError, match="not built"):
        fast_layers.use_core("cython")
    x, w, b = inputs((2, 3, 6, 5), (4, 3, 3, 2), np.float32)
    conv_param = {"stride": 2, "pad": 1}
    with warnings.catch_warnings():
        warnings.simplefilter("error")     # no further warning on use
        for _ in range(2):
            out, cache = fast_layers.conv_forward_fast(x, w, b, conv_param)
            dx, dw, db = fast_layers.conv_backward_fast(np.ones_like(out), cache)
            pooled, _ = fast_layers.max_pool_forward_fast(x, {"pool_height": 3, "pool_width": 2, "stride": 1})
    out_naive, cache_naive = conv_forward_naive(x, w, b, conv_param)
    assert out.dtype == np.float32
    assert_close(out, out_naive, np.float32)
    assert_close(dx, conv_backward_naive(np.ones_like(out_naive), cache_naive)[0], np.float32)


def test_course_kit_core_without_extension(monkeypatch, reload_fast_layers, capsys):
    monkeypatch.setitem(sys.modules, fast_layers.EXTENSION, None)
    reload_fast_layers()
    assert cli.main(["core"]) == 0
    printed = capsys.readouterr().out
    assert "active core: numpy" in printed
    assert "not found" in printed and "pip install -e ." in printed


def test_course_kit_core_reports_active_core(capsys):
    assert cli.main(["core"]) == 0
    printed = capsys.readouterr().out
    assert f"active core: {fast_layers.active_core()}" in printed
    if COMPILED_BUILT:
        assert fast_layers.extension_path() in printed


@pytest.mark.skipif(not COMPILED_BUILT, reason="compiled core not built: run `pip install -e .`")
def test_stale_extension_is_refused(monkeypatch, reload_fast_layers):
    compiled = importlib.import_module(fast_layers.EXTENSION)
    monkeypatch.setattr(compiled, "LAYOUT_VERSION", 0)
    caught = reload_fast_layers()
    assert len(caught) == 1 and "stale build" in str(caught[0].message)
    assert fast_layers.active_core() == "numpy"


# ---------------------------------------------------------------- invalid input

def _messages(naive, fast, *args):
    with pytest.raises(ValueError) as from_naive:
        naive(*args)
    with pytest.raises(ValueError) as from_fast:
        fast(*args)
    return str(from_naive.value), str(from_fast.value)


@pytest.mark.parametrize("change, match", [
    (lambda a: a.update(w=np.zeros((2, 4, 3, 3))), "w must have as many channels as x"),
    (lambda a: a.update(b=np.zeros(3)), r"b must have shape \(2,\)"),
    (lambda a: a.update(x=np.zeros((3, 5, 5))), "x must have 4 dimensions"),
    (lambda a: a.update(x=np.zeros((1, 3, 5, 5), dtype=int)), "floating-point dtype"),
    (lambda a: a.update(p={"stride": 1}), r"missing key\(s\) \['pad'\]"),
    (lambda a: a.update(p={"stride": 0, "pad": 1}), "stride must be an integer >= 1"),
    (lambda a: a.update(p={"stride": 1, "pad": -1}), "pad must be an integer >= 0"),
    (lambda a: a.update(x=np.zeros((1, 3, 1, 5))), "filter height 3 is larger than the padded input height"),
])
def test_conv_invalid_input(core, change, match):
    args = {"x": np.zeros((1, 3, 5, 5)), "w": np.zeros((2, 3, 3, 3)), "b": np.zeros(2),
            "p": {"stride": 1, "pad": 0}}
    change(args)
    naive, fast = _messages(conv_forward_naive, conv_forward_fast, *args.values())
    assert naive == fast
    with pytest.raises(ValueError, match=match):
        conv_forward_fast(*args.values())


def test_conv_backward_wrong_dout(core):
    x, w, b = inputs((2, 3, 5, 5), (4, 3, 3, 3), np.float64)
    _, cache = conv_forward_fast(x, w, b, {"stride": 1, "pad": 1})
    with pytest.raises(ValueError, match=r"dout must have shape \(2, 4, 5, 5\), got \(2, 4, 3, 3\)"):
        conv_backward_fast(np.zeros((2, 4, 3, 3)), cache)


@pytest.mark.parametrize("pool_param, x_shape, match", [
    ({"pool_height": 2, "stride": 2}, (1, 1, 4, 4), r"missing key\(s\) \['pool_width'\]"),
    ({"pool_height": 5, "pool_width": 2, "stride": 2}, (1, 1, 4, 4), "filter height 5 is larger"),
    ({"pool_height": 2, "pool_width": 0, "stride": 2}, (1, 1, 4, 4), "filter width must be an integer >= 1"),
    ({"pool_height": 2, "pool_width": 2, "stride": 2}, (4, 4), "x must have 4 dimensions"),
])
def test_pool_invalid_input(core, pool_param, x_shape, match):
    x = np.zeros(x_shape)
    naive, fast = _messages(max_pool_forward_naive, max_pool_forward_fast, x, pool_param)
    assert naive == fast
    with pytest.raises(ValueError, match=match):
        max_pool_forward_fast(x, pool_param)


def test_pool_backward_wrong_dout(core):
    _, cache = max_pool_forward_fast(np.zeros((1, 2, 4, 4)), {"pool_height": 2, "pool_width": 2, "stride": 2})
    with pytest.raises(ValueError, match=r"dout must have shape \(1, 2, 2, 2\)"):
        max_pool_backward_fast(np.zeros((1, 2, 4, 4)), cache)
