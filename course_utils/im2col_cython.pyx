# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Compiled im2col / col2im for float32 and float64 (the fast convolution core).

Same column layout as ``course_utils.im2col`` (the numpy fallback), so the two
are interchangeable::

    cols[(c*fh + i)*fw + j, (n*H' + oh)*W' + ow] = x_padded[n, c, oh*stride + i, ow*stride + j]

cols: (C*fh*fw, N*H'*W'), one row per filter tap, one column per output
position, batch index outermost; a convolution is the single matmul
``w.reshape(F, -1) @ cols``. Padding is never materialised: the copy loops
compute the in-bounds range of every row and write zeros elsewhere. The inner
loops run without the GIL on raw contiguous rows.
"""
import numpy as np

from libc.string cimport memcpy, memset

from course_utils.conv_shapes import conv_output_shape

# bumped whenever the column layout changes; fast_layers refuses a stale build
LAYOUT_VERSION = 1

ctypedef fused real:
    float
    double


def _float_array(a, name):
    a = np.ascontiguousarray(a)
    if a.dtype != np.float32 and a.dtype != np.float64:
        raise ValueError(f"{name} must be float32 or float64 for the compiled core, got {a.dtype}")
    return a


def _output(out, shape, dtype):
    if out is None:
        return np.empty(shape, dtype=dtype)
    if not isinstance(out, np.ndarray) or out.shape != shape or out.dtype != dtype \
            or not out.flags.c_contiguous or not out.flags.writeable:
        raise ValueError(f"out must be a writeable C-contiguous {np.dtype(dtype).name} array "
                         f"of shape {shape}")
    return out


def im2col_cython(x, int field_height, int field_width, int padding, int stride, out=None):
    """x: (N, C, H, W) float32/float64 -> cols: (C*fh*fw, N*H'*W'), same dtype.

    out: optional C-contiguous array of that shape and dtype to write into.
    """
    x = _float_array(x, "x")
    if x.ndim != 4:
        raise ValueError(f"x must have 4 dimensions (N, C, H, W), got shape {x.shape}")
    N, C, H, W = x.shape
    cdef Py_ssize_t out_h, out_w
    out_h, out_w = conv_output_shape(H, W, field_height, field_width, padding, stride)
    cols = _output(out, (C * field_height * field_width, N * out_h * out_w), x.dtype)
    cdef float[:, :, :, ::1] x32
    cdef float[:, ::1] cols32
    cdef double[:, :, :, ::1] x64
    cdef double[:, ::1] cols64
    if x.dtype == np.float32:
        x32, cols32 = x, cols
        with nogil:
            _im2col[float](x32, cols32, field_height, field_width, padding, stride, out_h, out_w)
    else:
        x64, cols64 = x, cols
        with nogil:
            _im2col[double](x64, cols64, field_height, field_width, padding, stride, out_h, out_w)
    return cols


def col2im_cython(cols, int N, int C, int H, int W, int field_height, int field_width,
                  int padding, int stride, out=None):
    """cols: (C*fh*fw, N*H'*W') -> (N, C, H, W), summing overlapping windows (adjoint of im2col).

    out: optional C-contiguous (N, C, H, W) array of the dtype of cols; it is
    overwritten (zeroed, then accumulated into).
    """
    cols = _float_array(cols, "cols")
    cdef Py_ssize_t out_h, out_w
    out_h, out_w = conv_output_shape(H, W, field_height, field_width, padding, stride)
    expected = (C * field_height * field_width, N * out_h * out_w)
    if cols.shape != expected:
        raise ValueError(f"cols must have shape {expected}, got {cols.shape}")
    dx = _output(out, (N, C, H, W), cols.dtype)
    dx[...] = 0
    cdef float[:, ::1] cols32
    cdef float[:, :, :, ::1] dx32
    cdef double[:, ::1] cols64
    cdef double[:, :, :, ::1] dx64
    if cols.dtype == np.float32:
        cols32, dx32 = cols, dx
        with nogil:
            _col2im[float](cols32, dx32, field_height, field_width, padding, stride, out_h, out_w)
    else:
        cols64, dx64 = cols, dx
        with nogil:
            _col2im[double](cols64, dx64, field_height, field_width, padding, stride, out_h, out_w)
    return dx


cdef inline void _valid_range(Py_ssize_t j, Py_ssize_t size, Py_ssize_t pad, Py_ssize_t stride,
                              Py_ssize_t out_len, Py_ssize_t* lo, Py_ssize_t* hi) noexcept nogil:
    """Output positions o in [lo, hi) whose input index o*stride + j - pad lies in [0, size)."""
    cdef Py_ssize_t first = 0, last
    if pad - j > 0:
        first = (pad - j + stride - 1) // stride
    last = size - 1 + pad - j
    if last >= 0:
        last = last // stride + 1
    else:
        last = 0
    if first > out_len:
        first = out_len
    if last > out_len:
        last = out_len
    if last < first:
        last = first
    lo[0] = first
    hi[0] = last


cdef void _im2col(const real[:, :, :, ::1] x, real[:, ::1] cols, Py_ssize_t fh, Py_ssize_t fw,
                  Py_ssize_t pad, Py_ssize_t stride, Py_ssize_t out_h, Py_ssize_t out_w) noexcept nogil:
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3]
    cdef Py_ssize_t c, i, j, n, oh, ow, ih, row, lo = 0, hi = 0
    cdef real* dst
    cdef const real* src
    for c in range(C):
        for i in range(fh):
            for j in range(fw):
                row = (c * fh + i) * fw + j
                _valid_range(j, W, pad, stride, out_w, &lo, &hi)
                for n in range(N):
                    for oh in range(out_h):
                        dst = &cols[row, (n * out_h + oh) * out_w]
                        ih = oh * stride + i - pad
                        if ih < 0 or ih >= H or lo == hi:
                            memset(dst, 0, out_w * sizeof(real))
                            continue
                        if lo > 0:
                            memset(dst, 0, lo * sizeof(real))
                        if hi < out_w:
                            memset(dst + hi, 0, (out_w - hi) * sizeof(real))
                        src = &x[n, c, ih, 0] + (j - pad)
                        if stride == 1:
                            memcpy(dst + lo, src + lo, (hi - lo) * sizeof(real))
                        else:
                            for ow in range(lo, hi):
                                dst[ow] = src[ow * stride]


cdef void _col2im(const real[:, ::1] cols, real[:, :, :, ::1] dx, Py_ssize_t fh, Py_ssize_t fw,
                  Py_ssize_t pad, Py_ssize_t stride, Py_ssize_t out_h, Py_ssize_t out_w) noexcept nogil:
    cdef Py_ssize_t N = dx.shape[0], C = dx.shape[1], H = dx.shape[2], W = dx.shape[3]
    cdef Py_ssize_t c, i, j, n, oh, ow, ih, row, lo = 0, hi = 0
    cdef real* dst
    cdef const real* src
    # one (n, c) image plane at a time, so the accumulation target stays in L1
    for c in range(C):
        for n in range(N):
            for i in range(fh):
                for oh in range(out_h):
                    ih = oh * stride + i - pad
                    if ih < 0 or ih >= H:
                        continue
                    for j in range(fw):
                        _valid_range(j, W, pad, stride, out_w, &lo, &hi)
                        row = (c * fh + i) * fw + j
                        src = &cols[row, (n * out_h + oh) * out_w]
                        dst = &dx[n, c, ih, 0] + (j - pad)
                        if stride == 1:
                            for ow in range(lo, hi):
                                dst[ow] += src[ow]
                        else:
                            for ow in range(lo, hi):
                                dst[ow * stride] += src[ow]
