"""Pure-numpy im2col / col2im: the reference core of the fast convolution.

Column layout (shared with ``im2col_cython``, so the two are interchangeable)::

    cols[(c*fh + i)*fw + j, (n*H' + oh)*W' + ow] = x_padded[n, c, oh*stride + i, ow*stride + j]

``cols`` has shape ``(C*fh*fw, N*H'*W')``: one ROW per filter tap (channel,
kernel row, kernel column) in the order of ``w.reshape(F, -1)``, one COLUMN per
output position with the batch index outermost. A convolution is then the
single matmul ``w.reshape(F, -1) @ cols`` whose result ``(F, N, H', W')`` only
needs its first two axes swapped to become ``(N, F, H', W')``, and every
row of ``cols`` is made of contiguous runs of ``W'`` values, which keeps the
copies cache friendly. H', W' come from ``course_utils.conv_shapes``.
"""
import numpy as np

from course_utils.checks import check_array
from course_utils.conv_shapes import conv_output_shape


def get_im2col_indices(x_shape, field_height=3, field_width=3, padding=1, stride=1):
    """Index arrays that define the column layout.

    x_shape: (N, C, H, W). Returns integer arrays ``(n, c, h, w)`` of shape
    ``(C*fh*fw, N*H'*W')`` (broadcast views) such that, for the zero-padded
    input ``x_padded``, ``x_padded[n, c, h, w]`` equals ``im2col_indices(x, ...)``.
    Handy for reading the layout; the copies below use strided views instead
    of fancy indexing because they are much faster.
    """
    N, C, H, W = x_shape
    out_h, out_w = conv_output_shape(H, W, field_height, field_width, padding, stride)
    # rows: (c, i, j); columns: (n, oh, ow)
    c = np.arange(C).repeat(field_height * field_width)[:, None]
    i = np.tile(np.arange(field_height).repeat(field_width), C)[:, None]
    j = np.tile(np.arange(field_width), C * field_height)[:, None]
    n = np.arange(N).repeat(out_h * out_w)[None, :]
    oh = np.tile(np.arange(out_h).repeat(out_w), N)[None, :]
    ow = np.tile(np.arange(out_w), N * out_h)[None, :]
    shape = (C * field_height * field_width, N * out_h * out_w)
    return tuple(np.broadcast_to(a, shape) for a in (n, c, i + stride * oh, j + stride * ow))


def window_view(x_padded, field_height, field_width, stride, out_h, out_w):
    """Strided, copy-free view ``(C, fh, fw, N, H', W')`` of the windows of ``x_padded``.

    x_padded: (N, C, Hp, Wp). ``window_view(...)[c, i, j, n, oh, ow]`` is
    ``x_padded[n, c, oh*stride + i, ow*stride + j]``; reshaping it to
    ``(C*fh*fw, N*H'*W')`` gives the column layout. Read-only.
    """
    sn, sc, sh, sw = x_padded.strides
    N, C = x_padded.shape[:2]
    return np.lib.stride_tricks.as_strided(
        x_padded,
        shape=(C, field_height, field_width, N, out_h, out_w),
        strides=(sc, sh, sw, sn, sh * stride, sw * stride),
        writeable=False,
    )


def im2col_indices(x, field_height, field_width, padding=1, stride=1, out=None):
    """Unfold every receptive field of x into a column.

    x: (N, C, H, W) -> cols: (C*fh*fw, N*H'*W') in the layout of the module
    docstring, same dtype as x. out: optional C-contiguous array of that shape
    to write into.
    """
    check_array(x, "x", ndim=4)
    N, C, H, W = x.shape
    out_h, out_w = conv_output_shape(H, W, field_height, field_width, padding, stride)
    if padding:
        p = padding
        x = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    windows = window_view(x, field_height, field_width, stride, out_h, out_w)
    shape = (C * field_height * field_width, N * out_h * out_w)
    if out is None:
        out = np.empty(shape, dtype=x.dtype)
    elif out.shape != shape or not out.flags.c_contiguous:
        raise ValueError(f"out must be a C-contiguous array of shape {shape}, got {out.shape}")
    np.copyto(out.reshape(windows.shape), windows, casting="same_kind")
    return out


def col2im_indices(cols, x_shape, field_height=3, field_width=3, padding=1, stride=1):
    """Fold columns back into an image, summing where receptive fields overlap.

    cols: (C*fh*fw, N*H'*W') -> (N, C, H, W) = x_shape, dtype of cols. This is
    the adjoint (transpose) of ``im2col_indices``: the backward pass of an
    unfold. Overlaps are accumulated by one strided slice-add per kernel
    offset (fh*fw adds in total), which is exact and much faster than
    ``np.add.at``.
    """
    N, C, H, W = x_shape
    out_h, out_w = conv_output_shape(H, W, field_height, field_width, padding, stride)
    check_array(cols, "cols", shape=(C * field_height * field_width, N * out_h * out_w))
    taps = cols.reshape(C, field_height, field_width, N, out_h, out_w)
    x_padded = np.zeros((N, C, H + 2 * padding, W + 2 * padding), dtype=cols.dtype)
    h_stop, w_stop = stride * (out_h - 1) + 1, stride * (out_w - 1) + 1
    for i in range(field_height):
        for j in range(field_width):
            target = x_padded[:, :, i:i + h_stop:stride, j:j + w_stop:stride]
            target += taps[:, i, j].transpose(1, 0, 2, 3)
    if padding:
        return x_padded[:, :, padding:padding + H, padding:padding + W].copy()
    return x_padded
