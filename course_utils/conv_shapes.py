"""The one output-size rule for every convolution and pooling path.

A window of size ``field`` slides with ``stride`` over an axis of length
``size`` padded by ``pad`` zeros on both sides; it fits
``1 + (size + 2*pad - field) // stride`` times.
"""
from course_utils.checks import check_positive_int


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
