import numpy as np
import pytest

from course_utils.checks import check_array, check_keys, check_labels, check_positive_int
from course_utils.conv_shapes import conv_output_shape, output_size, pool_output_shape


def test_check_array_messages():
    x = np.zeros((2, 3))
    assert check_array(x, "x", ndim=2, shape=(None, 3), floating=True) is x
    with pytest.raises(ValueError, match=r"x must have shape \(any, 4\), got \(2, 3\)"):
        check_array(x, "x", ndim=2, shape=(None, 4))
    with pytest.raises(ValueError, match="numpy array"):
        check_array([1, 2], "x")
    with pytest.raises(ValueError, match="floating-point"):
        check_array(np.zeros(2, dtype=int), "x", floating=True)


def test_check_labels():
    y = np.array([0, 2, 1])
    assert check_labels(y, "y", 3, num_classes=3) is y
    with pytest.raises(ValueError, match=r"labels in \[0, 1\]"):
        check_labels(y, "y", 3, num_classes=2)
    with pytest.raises(ValueError, match="integer labels"):
        check_labels(y.astype(float), "y", 3)
    with pytest.raises(ValueError, match=r"shape \(4,\)"):
        check_labels(y, "y", 4)


def test_small_checks():
    assert check_positive_int(3, "k") == 3
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="k must be an integer >= 1"):
            check_positive_int(bad, "k")
    with pytest.raises(ValueError, match=r"missing key\(s\) \['mode'\]"):
        check_keys({"p": 0.5}, "dropout_param", ["p", "mode"])


def test_output_size_rule():
    assert output_size(32, 3, 1, 1) == 32
    assert output_size(31, 3, 1, 2) == 16
    assert output_size(5, 2, 0, 2) == 2  # floor: the last column is not covered
    assert conv_output_shape(28, 28, 7, 5, 3, 1) == (28, 30)
    assert pool_output_shape(4, 6, 2, 3, 1) == (3, 4)
    with pytest.raises(ValueError, match="larger than the padded input"):
        output_size(3, 7, 1, 1)
    with pytest.raises(ValueError, match="stride must be an integer >= 1"):
        output_size(8, 3, 1, 0)
    with pytest.raises(ValueError, match="pad must be an integer >= 0"):
        output_size(8, 3, -1, 1)


def test_implemented_passes_values_and_names_stubs():
    from course_utils.checks import implemented
    assert implemented(0.0, "f") == 0.0
    with pytest.raises(NotImplementedError, match="affine_forward is not implemented yet"):
        implemented(None, "affine_forward")
