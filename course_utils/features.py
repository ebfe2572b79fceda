"""Hand-designed image features: histogram of oriented gradients and colour histograms.

Each feature function maps one image (H, W, C) to a 1-D vector;
``extract_features`` applies a list of them to a whole stack of images and
concatenates the results, one row per image.
"""
import numbers

import numpy as np
from matplotlib.colors import rgb_to_hsv
from tqdm.auto import tqdm

from course_utils.checks import check_array, check_positive_int

# ITU-R BT.601 luma weights for turning RGB into gray.
_GRAY_WEIGHTS = np.array([0.299, 0.587, 0.114])


def extract_features(imgs, feature_fns, verbose=False):
    """Apply every feature function to every image and stack the results.

    imgs: (N, H, W, C) images (or (N, H, W) gray images).
    feature_fns: list of callables, each mapping one image to a 1-D array.
    verbose: show a progress bar.
    Returns features: (N, F), F = total length of the feature vectors, with the
    blocks in the order of feature_fns.
    """
    check_array(imgs, "imgs")
    if imgs.ndim not in (3, 4) or imgs.shape[0] == 0:
        raise ValueError(f"imgs must have shape (N, H, W, C) or (N, H, W) with N >= 1, got {imgs.shape}")
    feature_fns = list(feature_fns)
    if not feature_fns or not all(callable(fn) for fn in feature_fns):
        raise ValueError("feature_fns must be a non-empty list of callables")

    # The first image fixes the length of each block.
    first = [np.ravel(fn(imgs[0])) for fn in feature_fns]
    bounds = np.cumsum([0] + [f.size for f in first])
    features = np.empty((imgs.shape[0], bounds[-1]))
    features[0] = np.concatenate(first)
    for i in tqdm(range(1, imgs.shape[0]), disable=not verbose, desc="features"):
        for fn, lo, hi in zip(feature_fns, bounds[:-1], bounds[1:]):
            features[i, lo:hi] = np.ravel(fn(imgs[i]))
    return features


def rgb2gray(rgb):
    """Gray version of RGB images: 0.299 R + 0.587 G + 0.114 B (ITU-R BT.601 luma).

    rgb: (..., 3), e.g. one image (H, W, 3) or a stack (N, H, W, 3).
    Returns float64 of shape rgb.shape[:-1]. (CS231n's version weighted blue
    with 0.144, a typo for 0.114, so its gray values differ slightly.)
    """
    check_array(rgb, "rgb")
    if rgb.ndim < 1 or rgb.shape[-1] != 3:
        raise ValueError(f"rgb must have shape (..., 3) with R, G, B on the last axis, got {rgb.shape}")
    return rgb.astype(np.float64) @ _GRAY_WEIGHTS


def _to_gray(im):
    """(H, W), (H, W, 1) or (H, W, 3) image -> (H, W) float gray image."""
    check_array(im, "im")
    if im.ndim == 2:
        return im.astype(np.float64)
    if im.ndim == 3 and im.shape[2] == 1:
        return im[:, :, 0].astype(np.float64)
    if im.ndim == 3 and im.shape[2] == 3:
        return rgb2gray(im)
    raise ValueError(f"im must have shape (H, W), (H, W, 1) or (H, W, 3), got {im.shape}")


def hog_feature(im, pixels_per_cell=8, num_bins=9):
    """Histogram of oriented gradients of the gray version of an image.

    im: (H, W, 3) colour (converted to gray), (H, W, 1) or (H, W) gray image.
    pixels_per_cell: side of the square cells; the image must hold at least
    one cell. When H or W is not a multiple of it, the cells cover a centred
    region and the leftover border rows/columns (at most pixels_per_cell - 1)
    are ignored, e.g. a 28x28 image with 8-pixel cells gives 3x3 cells over
    its central 24x24 pixels.
    num_bins: orientation bins over the unsigned angles [0, 180) degrees; bin 0
    holds (near-)horizontal gradients, i.e. vertical edges.
    Returns (cells_y * cells_x * num_bins,): for each cell (row-major) the mean
    over its pixels of the gradient magnitude falling into each orientation bin.
    """
    gray = _to_gray(im)
    cell = check_positive_int(pixels_per_cell, "pixels_per_cell")
    num_bins = check_positive_int(num_bins, "num_bins")
    H, W = gray.shape
    cells_y, cells_x = H // cell, W // cell
    if cells_y == 0 or cells_x == 0:
        raise ValueError(
            f"im of size {H}x{W} is smaller than one {cell}x{cell} cell: lower pixels_per_cell"
        )

    # Central differences inside, one-sided at the border.
    gy, gx = np.gradient(gray)
    magnitude = np.hypot(gx, gy)
    angle = np.rad2deg(np.arctan2(gy, gx)) % 180.0
    bins = np.minimum((angle * (num_bins / 180.0)).astype(np.intp), num_bins - 1)

    top = (H - cells_y * cell) // 2
    left = (W - cells_x * cell) // 2
    window = (slice(top, top + cells_y * cell), slice(left, left + cells_x * cell))
    # Cell index of every pixel in the covered region, then one flat
    # (cell, bin) index so a single bincount builds every histogram.
    cell_rows = np.arange(cells_y * cell) // cell
    cell_cols = np.arange(cells_x * cell) // cell
    cell_index = cell_rows[:, None] * cells_x + cell_cols[None, :]
    flat = cell_index * num_bins + bins[window]
    hist = np.bincount(
        flat.ravel(), weights=magnitude[window].ravel(), minlength=cells_y * cells_x * num_bins
    )
    return hist / (cell * cell)


def color_histogram_hsv(im, nbin=10, xmin=0, xmax=255, normalized=True):
    """Histogram of hue for colour images, of intensity for gray images.

    im: (H, W, 3) RGB image, or (H, W, 1) / (H, W) gray image, with pixel
    values in [xmin, xmax].
    nbin: number of equal-width bins.
    normalized: return fractions of the pixels (summing to 1) instead of counts.
    For colour images each pixel's hue (its position on the colour wheel,
    0 = red) is binned over the full wheel; for gray images, which have no hue,
    the pixel values themselves are binned over [xmin, xmax].
    Returns (nbin,) histogram.
    """
    check_array(im, "im")
    nbin = check_positive_int(nbin, "nbin")
    if not (isinstance(xmin, numbers.Real) and isinstance(xmax, numbers.Real) and xmax > xmin):
        raise ValueError(f"xmin and xmax must be numbers with xmin < xmax, got {xmin!r} and {xmax!r}")
    if im.ndim == 3 and im.shape[2] == 3:
        rgb = np.clip((im.astype(np.float64) - xmin) / (xmax - xmin), 0.0, 1.0)
        values = rgb_to_hsv(rgb)[:, :, 0]
        lo, hi = 0.0, 1.0
    elif im.ndim == 2 or (im.ndim == 3 and im.shape[2] == 1):
        values = im.reshape(im.shape[0], im.shape[1]).astype(np.float64)
        lo, hi = float(xmin), float(xmax)
    else:
        raise ValueError(f"im must have shape (H, W, 3), (H, W, 1) or (H, W), got {im.shape}")
    hist, _ = np.histogram(values, bins=nbin, range=(lo, hi))
    hist = hist.astype(np.float64)
    if normalized and hist.sum() > 0:
        hist /= hist.sum()
    return hist
