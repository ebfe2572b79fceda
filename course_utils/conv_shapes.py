"""The one output-size rule for every convolution and pooling path.

A window of size ``field`` slides with ``stride`` over an axis of length
``size`` padded by ``pad`` zeros on both sides; it fits
``1 + (size + 2*pad - field) // stride`` times.
"""
from course_utils.checks import check_array, check_keys, check_positive_int


def output_size(size, field, pad, stride, axis="height"):
    """Number of window positions along one axis; ValueError if none fit."""
    check_positive_int(stride, "stride")
    check_positive_int(pad, "pad", minimum=0)
    check_positive_int(field, f"filter {axis}")
    if field > size + 2 * pad:
        raise ValueError(
            f"filter {axis} {field} is larger than the padded input {axis} "
            f"{size} + 2*{pad} = {size + 2 * pad}"
        )
    return 1 + (size + 2 * pad - field) // stride


def conv_output_shape(H, W, HH, WW, pad, stride):
    """(H', W') of a convolution: x (N, C, H, W), w (F, C, HH, WW)."""
    return output_size(H, HH, pad, stride, "height"), output_size(W, WW, pad, stride, "width")


def pool_output_shape(H, W, pool_height, pool_width, stride):
    """(H', W') of an unpadded pooling window."""
    return (output_size(H, pool_height, 0, stride, "height"),
            output_size(W, pool_width, 0, stride, "width"))


def conv_geometry(x, w, b, conv_param):
    """Validate a convolution's inputs; return (stride, pad, H', W').

    x: (N, C, H, W); w: (F, C, HH, WW); b: (F,); conv_param: {'stride', 'pad'}.
    Shared by the naive and the fast layers so both refuse the same inputs.
    """
    check_array(x, "x", ndim=4, floating=True)
    check_array(w, "w", ndim=4, floating=True)
    if w.shape[1] != x.shape[1]:
        raise ValueError(
            f"w must have as many channels as x: x has C={x.shape[1]} (x {x.shape}), "
            f"w has {w.shape[1]} (w {w.shape})"
        )
    check_array(b, "b", ndim=1, shape=(w.shape[0],), floating=True)
    check_keys(conv_param, "conv_param", ["stride", "pad"])
    stride, pad = conv_param["stride"], conv_param["pad"]
    H_out, W_out = conv_output_shape(x.shape[2], x.shape[3], w.shape[2], w.shape[3], pad, stride)
    return int(stride), int(pad), H_out, W_out


def pool_geometry(x, pool_param):
    """Validate a max-pool's inputs; return (pool_height, pool_width, stride, H', W').

    x: (N, C, H, W); pool_param: {'pool_height', 'pool_width', 'stride'}.
    """
    check_array(x, "x", ndim=4, floating=True)
    check_keys(pool_param, "pool_param", ["pool_height", "pool_width", "stride"])
    ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    H_out, W_out = pool_output_shape(x.shape[2], x.shape[3], ph, pw, stride)
    return int(ph), int(pw), int(stride), H_out, W_out
