"""Fast convolution and max pooling: im2col plus matrix multiplies.

Same results as the naive layers in ``course_utils.layers`` (up to float
rounding), many times faster. The unfolding (im2col) and folding (col2im)
run in a compiled Cython core when it is built (``pip install -e .``);
otherwise a pure-numpy core takes over after ONE ``RuntimeWarning``. Both
cores produce the same column layout (see ``course_utils.im2col``)::

    cols: (C*HH*WW, N*H'*W'),  row = (c, i, j) filter tap, column = (n, oh, ow)

so a convolution is the single product ``w.reshape(F, -1) @ cols`` ->
(F, N, H', W'), and its backward pass is ``dw = dout_t @ cols.T`` and
``dx = col2im(w.T @ dout_t)`` with ``dout_t`` = dout as (F, N*H'*W').

Because the batch is the outermost column index, the columns of images n0:n1
are exactly ``im2col(x[n0:n1])``. The layers use that to run those products
block by block (each block's columns about ``CHUNK_BYTES``, so they are still
in the CPU cache when the matmul reads them, and the full column matrix,
often hundreds of MB, is never allocated); each block's product writes
straight into its slice of the (N, F, H', W') output, so no transpose copy is
needed either. Blocks are shared by ``THREADS`` worker threads, each calling
single-threaded BLAS (see ``_thread_pool``).

``active_core()`` says which core runs; ``use_core("numpy")`` /
``using_core("numpy")`` force one (tests run both paths this way).
"""
import contextlib
import importlib
import math
import os
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from course_utils.checks import check_dout
from course_utils.conv_shapes import conv_geometry, pool_geometry
from course_utils.im2col import col2im_indices, im2col_indices

EXTENSION = "course_utils.im2col_cython"
BUILD_HINT = "build it with `pip install -e .` in the kit folder (needs a C compiler)"
CORES = ("cython", "numpy")
LAYOUT_VERSION = 1  # must match im2col_cython.LAYOUT_VERSION
CHUNK_BYTES = 1 << 21  # columns of one block of images: about 2 MB, cache sized
THREADS = None  # threads that share the blocks of a batch; None = as many as BLAS uses


def _load_extension():
    """Import the compiled core; if that fails, warn once and return None."""
    try:
        module = importlib.import_module(EXTENSION)
        if getattr(module, "LAYOUT_VERSION", None) != LAYOUT_VERSION:
            raise ImportError(f"{module.__file__} is a stale build with another column layout")
    except Exception as exc:  # a missing, stale or ABI-incompatible binary: fall back, never crash
        warnings.warn(
            f"the compiled im2col core is not available ({exc}); using the slower "
            f"numpy core instead. To get the fast one, {BUILD_HINT}.",
            RuntimeWarning,
            stacklevel=2,
        )
        return None
    return module


_extension = _load_extension()
_active = "cython" if _extension is not None else "numpy"


def active_core():
    """Name of the im2col core in use: "cython" (compiled) or "numpy" (fallback)."""
    return _active


def extension_path():
    """File of the compiled extension, or None when it could not be imported."""
    return None if _extension is None else _extension.__file__


def use_core(name):
    """Select the im2col core: "cython", "numpy" or "auto" (best available).

    Returns the name of the previously active core, so a caller can restore it.
    Asking for "cython" when it is not built raises ValueError.
    """
    global _active
    if name not in CORES + ("auto",):
        raise ValueError(f"core must be one of {CORES + ('auto',)}, got {name!r}")
    if name == "cython" and _extension is None:
        raise ValueError(f"the compiled core {EXTENSION} is not built; {BUILD_HINT}")
    previous = _active
    _active = ("cython" if _extension is not None else "numpy") if name == "auto" else name
    return previous


@contextlib.contextmanager
def using_core(name):
    """Context manager: run the block with core ``name``, then restore the previous one."""
    previous = use_core(name)
    try:
        yield name
    finally:
        use_core(previous)


def _im2col(x, field_height, field_width, padding, stride, out=None):
    if _active == "cython" and x.dtype in (np.float32, np.float64):
        return _extension.im2col_cython(x, field_height, field_width, padding, stride, out=out)
    return im2col_indices(x, field_height, field_width, padding, stride, out=out)


def _col2im(cols, x_shape, field_height, field_width, padding, stride, out=None):
    if _active == "cython" and cols.dtype in (np.float32, np.float64):
        return _extension.col2im_cython(cols, *x_shape, field_height, field_width, padding, stride,
                                        out=out)
    dx = col2im_indices(cols, x_shape, field_height, field_width, padding, stride)
    if out is None:
        return dx
    out[...] = dx
    return out


def _prefix(flat, shape):
    """C-contiguous array of ``shape`` over the start of the 1-D buffer ``flat``."""
    return flat[:int(np.prod(shape))].reshape(shape)


def _batch_chunks(N, bytes_per_image, workers):
    """Balanced slices of the batch whose columns take about CHUNK_BYTES (>= 1 image each).

    When the batch needs several blocks anyway, their number is rounded up to
    a multiple of ``workers`` so that the threads get equal shares. Returns
    the slices and the largest block size.
    """
    if N == 0:
        return [], 1
    size = max(1, min(N, CHUNK_BYTES // max(1, bytes_per_image)))
    count = math.ceil(N / size)
    if count > 1 and workers > 1:
        count = min(N, math.ceil(count / workers) * workers)
    chunks = [slice(k * N // count, (k + 1) * N // count) for k in range(count)]
    return chunks, math.ceil(N / count)


_pool_lock = threading.Lock()
_pool = None  # (executor, BLAS controller, worker count), made on first use


def _thread_pool():
    """Worker threads for batch blocks, sized like the BLAS thread pool.

    Splitting the batch over our own threads, each calling single-threaded
    BLAS, keeps im2col/col2im parallel too and avoids BLAS threads spinning
    for each of many small products on a busy machine. Without threadpoolctl
    (a scikit-learn dependency) the blocks simply run one after another.
    """
    global _pool
    with _pool_lock:
        if _pool is None:
            try:
                from threadpoolctl import ThreadpoolController
                blas = ThreadpoolController().select(user_api="blas")
                workers = max([lib["num_threads"] for lib in blas.info()] + [1])
            except ImportError:
                blas, workers = None, 1
            workers = min(workers, os.cpu_count() or 1)
            executor = ThreadPoolExecutor(workers, "course-utils-conv") if workers > 1 else None
            _pool = (executor, blas, workers)
        return _pool


def worker_threads():
    """Threads a large batch is split over: ``THREADS`` if set, else the BLAS thread count."""
    if THREADS is not None:
        return max(1, int(THREADS))
    executor, blas, workers = _thread_pool()
    return workers if blas is not None else 1


def _run_blocks(work, chunks, workers):
    """work(list of slices) for each worker's share of the blocks; list of results."""
    workers = min(workers, len(chunks))
    if workers <= 1:
        return [work(chunks)]
    executor, blas, pool_workers = _thread_pool()
    count = len(chunks)
    shares = [chunks[k * count // workers:(k + 1) * count // workers] for k in range(workers)]
    with _single_threaded_blas(blas):
        if executor is None or pool_workers < workers:   # THREADS asks for more than we keep
            with ThreadPoolExecutor(workers) as extra:
                return list(extra.map(work, shares))
        return list(executor.map(work, shares))


_blas_limit = None   # threadpoolctl limiter while any parallel section runs
_blas_users = 0


@contextlib.contextmanager
def _single_threaded_blas(blas):
    """BLAS on one thread while inside; reference counted, so overlapping calls
    from several user threads restore the original setting only at the very end."""
    global _blas_limit, _blas_users
    if blas is None:
        yield
        return
    with _pool_lock:
        if _blas_users == 0:
            _blas_limit = blas.limit(limits=1)
        _blas_users += 1
    try:
        yield
    finally:
        with _pool_lock:
            _blas_users -= 1
            if _blas_users == 0:
                _blas_limit.restore_original_limits()
                _blas_limit = None


def conv_forward_fast(x, w, b, conv_param):
    """Convolution (cross-correlation) by im2col and matmul.

    x: (N, C, H, W), w: (F, C, HH, WW), b: (F,), conv_param: ``stride``, ``pad``.
    Returns out (N, F, H', W') with H' = 1 + (H + 2*pad - HH) // stride, and a
    cache (x, w, b, conv_param) for ``conv_backward_fast``. The dtype is that
    of x, w and b together (float32 inputs give float32 output).

    ``w.reshape(F, -1) @ cols`` is formed one cache-sized block of images at a
    time (see the module docstring); the result equals one matmul over all
    columns.
    """
    stride, pad, out_h, out_w = conv_geometry(x, w, b, conv_param)
    dtype = np.result_type(x, w, b)
    N = x.shape[0]
    F, C, HH, WW = w.shape
    K, P = C * HH * WW, out_h * out_w
    xc = np.ascontiguousarray(x, dtype=dtype)
    # the bias rides along as an extra column of w against a row of ones in cols
    wb = np.empty((F, K + 1), dtype=dtype)
    wb[:, :K] = w.reshape(F, K)
    wb[:, K] = b
    out = np.empty((N, F, P), dtype=dtype)
    workers = worker_threads()
    chunks, size = _batch_chunks(N, (K + 1) * P * dtype.itemsize, workers)

    def work(parts):
        buffer = np.empty((K + 1) * size * P, dtype=dtype)
        for part in parts:
            m = part.stop - part.start
            cols = _prefix(buffer, (K + 1, m * P))
            _im2col(xc[part], HH, WW, pad, stride, out=cols[:K])
            cols[K] = 1
            # (F, K+1) @ (m, K+1, P) -> (m, F, P): lands in out without a transpose copy
            np.matmul(wb, cols.reshape(K + 1, m, P).transpose(1, 0, 2), out=out[part])

    _run_blocks(work, chunks, workers)
    cache = (x, w, b, conv_param)
    return out.reshape(N, F, out_h, out_w), cache


def conv_backward_fast(dout, cache, input_grad=True):
    """Backward pass of ``conv_forward_fast``.

    dout: (N, F, H', W'). Returns dx (N, C, H, W), dw (F, C, HH, WW), db (F,).
    Per block of images: the columns are rebuilt (cheaper than keeping them),
    ``dw += dout_block @ cols.T`` and ``dx_block = col2im(w.T @ dout_block)``.
    input_grad=False skips dx (returned as None): a network's first layer needs
    only dw and db during training.
    """
    x, w, b, conv_param = cache
    stride, pad, out_h, out_w = conv_geometry(x, w, b, conv_param)
    dtype = np.result_type(x, w, b)
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    K, P = C * HH * WW, out_h * out_w
    check_dout(dout, (N, F, out_h, out_w))
    dout = dout.reshape(N, F, P)
    xc = np.ascontiguousarray(x, dtype=dtype)
    w2 = np.ascontiguousarray(w.reshape(F, K), dtype=dtype)
    dx = np.empty((N, C, H, W), dtype=dtype) if input_grad else None
    workers = worker_threads()
    chunks, size = _batch_chunks(N, K * P * dtype.itemsize, workers)

    def work(parts):
        cols_buf = np.empty(K * size * P, dtype=dtype)
        dcols_buf = np.empty(K * size * P, dtype=dtype) if input_grad else None
        dout_buf = np.empty(F * size * P, dtype=dtype)
        dw_t, dw_part = np.zeros((K, F), dtype=dtype), np.empty((K, F), dtype=dtype)
        for part in parts:
            m = part.stop - part.start
            cols = _im2col(xc[part], HH, WW, pad, stride, out=_prefix(cols_buf, (K, m * P)))
            # (m, F, P) -> (F, m*P): the column order of cols (a view for a single image)
            if m == 1 and dout.dtype == dtype:
                dout_t = dout[part.start]
            else:
                dout_t = _prefix(dout_buf, (F, m, P))
                np.copyto(dout_t, dout[part].transpose(1, 0, 2), casting="same_kind")
                dout_t = dout_t.reshape(F, m * P)
            # dw is formed transposed, dw.T += cols @ dout_t.T: the faster orientation in BLAS
            dw_t += np.matmul(cols, dout_t.T, out=dw_part)
            if input_grad:
                dcols = np.matmul(w2.T, dout_t, out=_prefix(dcols_buf, (K, m * P)))
                _col2im(dcols, (m, C, H, W), HH, WW, pad, stride, out=dx[part])
        return dw_t

    dw = sum(_run_blocks(work, chunks, workers)).T.reshape(w.shape)
    db = dout.sum(axis=(0, 2))
    dx = None if dx is None else dx.astype(x.dtype, copy=False)
    return dx, dw.astype(w.dtype), db.astype(b.dtype, copy=False)


def max_pool_forward_fast(x, pool_param):
    """Max pooling, x: (N, C, H, W) -> out (N, C, H', W'), and a cache.

    pool_param: ``pool_height``, ``pool_width``, ``stride`` (no padding). When
    the windows are square, as wide as the stride and tile H and W exactly, a
    reshape does the job; otherwise windows are unfolded with im2col. Where
    several entries of a window tie for the max, the gradient goes to the
    first one in row-major order, like the naive layer.
    """
    ph, pw, stride, out_h, out_w = pool_geometry(x, pool_param)
    if ph == pw == stride and x.shape[2] % ph == 0 and x.shape[3] % pw == 0:
        out, saved = _pool_forward_reshape(x, ph, pw, out_h, out_w)
        return out, ("reshape", x, saved, pool_param)
    out, saved = _pool_forward_im2col(x, ph, pw, stride, out_h, out_w)
    return out, ("im2col", x, saved, pool_param)


def _pool_forward_reshape(x, ph, pw, out_h, out_w):
    """Windows that tile x exactly: a reshape exposes window offsets as axes 3 and 5.

    The maximum is taken offset by offset with ``np.maximum`` on strided slices,
    which is many times faster than ``max(axis=(3, 5))`` over the 6-D view.
    """
    N, C = x.shape[:2]
    windows = x.reshape(N, C, out_h, ph, out_w, pw)
    out = windows[:, :, :, 0, :, 0].copy()
    for i in range(ph):
        for j in range(pw):
            if i or j:
                np.maximum(out, windows[:, :, :, i, :, j], out=out)
    return out, out


def _pool_forward_im2col(x, ph, pw, stride, out_h, out_w):
    """Any windows: unfold each channel as its own image, (ph*pw, N*C*H'*W') columns."""
    N, C, H, W = x.shape
    cols = _im2col(x.reshape(N * C, 1, H, W), ph, pw, 0, stride)
    arg = cols.argmax(axis=0)
    out = np.take_along_axis(cols, arg[None], axis=0).reshape(N, C, out_h, out_w)
    return out, arg


def max_pool_backward_fast(dout, cache):
    """Backward pass of ``max_pool_forward_fast``: dout (N, C, H', W') -> dx (N, C, H, W)."""
    method, x, saved, pool_param = cache
    ph, pw, stride, out_h, out_w = pool_geometry(x, pool_param)
    N, C, H, W = x.shape
    check_dout(dout, (N, C, out_h, out_w))
    if method == "reshape":
        return _pool_backward_reshape(dout, x, saved, ph, pw)
    return _pool_backward_im2col(dout, x, saved, ph, pw, stride)


def _pool_backward_im2col(dout, x, arg, ph, pw, stride):
    N, C, H, W = x.shape
    dcols = np.zeros((ph * pw, arg.size), dtype=x.dtype)
    np.put_along_axis(dcols, arg[None], dout.reshape(1, -1), axis=0)
    return _col2im(dcols, (N * C, 1, H, W), ph, pw, 0, stride).reshape(x.shape)


def _pool_backward_reshape(dout, x, out, ph, pw):
    """Route dout to the first maximum of each window, offset by offset (row-major)."""
    N, C, H, W = x.shape
    out_h, out_w = out.shape[2:]
    windows = x.reshape(N, C, out_h, ph, out_w, pw)
    dx = np.empty((N, C, out_h, ph, out_w, pw), dtype=x.dtype)
    free = np.ones(out.shape, dtype=bool)   # windows whose maximum is not claimed yet
    hit = np.empty(out.shape, dtype=bool)
    for i in range(ph):
        for j in range(pw):
            np.equal(windows[:, :, :, i, :, j], out, out=hit)
            hit &= free
            free ^= hit
            np.multiply(hit, dout, out=dx[:, :, :, i, :, j], casting="same_kind")
    return dx.reshape(N, C, H, W)
