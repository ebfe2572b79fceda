"""image_utils: ImageNet normalisation, reading images from files and URLs, the gentle blur."""
import io
import urllib.error
import urllib.request

import numpy as np
import pytest
from PIL import Image

from course_utils.image_utils import (
    SQUEEZENET_MEAN,
    SQUEEZENET_STD,
    blur_image,
    deprocess_image,
    image_from_url,
    load_image,
    preprocess_image,
)


def rgb_image(height=6, width=4):
    """uint8 (H, W, 3) with distinct values: pixel (i, j) = (10i + j, 100 + j, 255 - i)."""
    i, j = np.mgrid[:height, :width]
    return np.stack([10 * i + j, 100 + j, 255 - i], axis=-1).astype(np.uint8)


def png_bytes(array):
    out = io.BytesIO()
    Image.fromarray(array).save(out, format="PNG")
    return out.getvalue()


# ----------------------------------------------------------------- normalisation

def test_preprocess_fixed_values():
    img = np.array([[[255, 0, 128]]], dtype=np.uint8)
    out = preprocess_image(img)
    assert out.dtype == np.float32 and out.shape == (1, 1, 3)
    expected = [(1 - 0.485) / 0.229, (0 - 0.456) / 0.224, (128 / 255 - 0.406) / 0.225]
    np.testing.assert_allclose(out[0, 0], expected, rtol=1e-6)
    np.testing.assert_array_equal(SQUEEZENET_MEAN, np.float32([0.485, 0.456, 0.406]))
    np.testing.assert_array_equal(SQUEEZENET_STD, np.float32([0.229, 0.224, 0.225]))


def test_deprocess_undoes_preprocess_for_every_value():
    img = np.arange(256, dtype=np.uint8).repeat(3).reshape(16, 16, 3)
    back = deprocess_image(preprocess_image(img))
    assert back.dtype == np.uint8
    np.testing.assert_array_equal(back, img)


def test_deprocess_clips_or_rescales():
    img = np.zeros((1, 2, 3), dtype=np.float32)
    img[0, 0] = (2.0 - SQUEEZENET_MEAN) / SQUEEZENET_STD   # twice the brightest value
    img[0, 1] = (-1.0 - SQUEEZENET_MEAN) / SQUEEZENET_STD  # below black
    np.testing.assert_array_equal(deprocess_image(img), [[[255] * 3, [0] * 3]])
    img[0, 1] = (0.5 - SQUEEZENET_MEAN) / SQUEEZENET_STD
    # rescale maps the range [0.5, 2] of the whole image onto [0, 255]
    np.testing.assert_array_equal(deprocess_image(img, rescale=True), [[[255] * 3, [0] * 3]])
    img[0, 0] = img[0, 1]
    np.testing.assert_array_equal(deprocess_image(img, rescale=True), np.zeros((1, 2, 3)))


def test_normalisation_needs_rgb_on_the_last_axis():
    with pytest.raises(ValueError, match=r"img must have shape \(\.\.\., 3\) .* got \(4, 4\)"):
        preprocess_image(np.zeros((4, 4)))
    with pytest.raises(ValueError, match="img must be a numpy array"):
        deprocess_image([[0.0, 0.0, 0.0]])


# -------------------------------------------------------------------- blur

def test_blur_impulse_response_and_constant_image():
    X = np.zeros((1, 1, 5, 5))
    X[0, 0, 2, 2] = 1.0
    w = np.array([0.05, 0.9, 0.05])
    expected = np.zeros((5, 5))
    expected[1:4, 1:4] = np.outer(w, w)
    np.testing.assert_allclose(blur_image(X)[0, 0], expected, atol=1e-15)
    assert X[0, 0, 2, 2] == 1.0 and X.sum() == 1.0  # input untouched
    const = np.full((2, 3, 4, 6), 7.0, dtype=np.float32)
    out = blur_image(const)
    assert out.dtype == np.float32 and out.shape == const.shape
    np.testing.assert_allclose(out, 7.0, rtol=1e-6)  # edges repeat: no dark border


def test_blur_edge_pixels_and_bad_input():
    X = np.array([[[[1.0, 0.0, 0.0]]]])  # one row: the edge pixel is repeated beyond the border
    np.testing.assert_allclose(blur_image(X)[0, 0, 0], [0.95, 0.05, 0.0])
    with pytest.raises(ValueError, match="X must have 4 dimensions"):
        blur_image(np.zeros((3, 4, 4)))
    with pytest.raises(ValueError, match="floating-point"):
        blur_image(np.zeros((1, 3, 4, 4), dtype=np.uint8))


# ------------------------------------------------------------------ files and URLs

@pytest.mark.parametrize("mode", ["RGB", "L", "RGBA"])
def test_load_image_gives_rgb_uint8(tmp_path, mode):
    rgb = rgb_image()
    source = {"RGB": rgb, "L": rgb[..., 0], "RGBA": np.dstack([rgb, np.full(rgb.shape[:2], 9, np.uint8)])}[mode]
    path = tmp_path / "img.png"
    path.write_bytes(png_bytes(source))
    img = load_image(path)
    assert img.dtype == np.uint8 and img.shape == (6, 4, 3)
    expected = rgb if mode != "L" else np.repeat(rgb[..., :1], 3, axis=2)
    np.testing.assert_array_equal(img, expected)


def test_load_image_size_is_the_shorter_side(tmp_path):
    path = tmp_path / "img.png"
    path.write_bytes(png_bytes(rgb_image(6, 4)))
    assert load_image(str(path), size=2).shape == (3, 2, 3)
    assert load_image(path, size=8).shape == (12, 8, 3)
    with pytest.raises(ValueError, match="size must be an integer >= 1"):
        load_image(path, size=0)


def test_load_image_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="image file .*nothing.png not found"):
        load_image(tmp_path / "nothing.png")
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not an image")
    with pytest.raises(ValueError, match="bad.jpg is not a readable image"):
        load_image(bad)


def test_image_from_url_local_path_and_file_url(tmp_path):
    folder = tmp_path / "with space"
    folder.mkdir()
    path = folder / "img.png"
    path.write_bytes(png_bytes(rgb_image()))
    np.testing.assert_array_equal(image_from_url(str(path)), rgb_image())
    url = path.as_uri()  # file:///.../with%20space/img.png
    assert "%20" in url
    np.testing.assert_array_equal(image_from_url(url), rgb_image())
    with pytest.raises(FileNotFoundError):
        image_from_url((folder / "missing.png").as_uri())
    with pytest.raises(ValueError, match="names host 'example.org'"):
        image_from_url("file://example.org/img.png")
    with pytest.raises(ValueError, match="scheme 'ftp' is not supported"):
        image_from_url("ftp://example.org/img.png")


def test_image_from_url_http(monkeypatch):
    requested = []

    def fake_urlopen(url, timeout):
        requested.append((url, timeout))
        return io.BytesIO(png_bytes(rgb_image()))

    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen)
    np.testing.assert_array_equal(image_from_url("https://example.org/cat.png"), rgb_image())
    assert requested == [("https://example.org/cat.png", 30)]


def test_image_from_url_offline_is_a_clear_error(monkeypatch):
    def offline(url, timeout):
        raise urllib.error.URLError("Temporary failure in name resolution")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(ConnectionError, match=r"could not download http://example.org/a.jpg "
                                              r"\(Temporary failure in name resolution\).*local"):
        image_from_url("http://example.org/a.jpg")
