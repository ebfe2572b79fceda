"""Pictures of many images at once (e.g. learned weights or filters)."""
import math

import numpy as np

from course_utils.checks import check_array, check_positive_int


def visualize_grid(Xs, ubound=255.0, padding=1):
    """Tile a stack of images into one square grid image.

    Xs: (N, H, W, C) images, N >= 1 (C = 1 for gray, 3 for colour).
    ubound: each image is rescaled on its own to [0, ubound] (a constant image
    becomes all zeros).
    padding: number of blank (zero) pixels between neighbouring tiles.
    Returns grid: (G*H + (G-1)*padding, G*W + (G-1)*padding, C) with
    G = ceil(sqrt(N)) tiles per side, filled row by row; unused tiles stay 0.
    """
    check_array(Xs, "Xs", ndim=4)
    N, H, W, C = Xs.shape
    if N == 0:
        raise ValueError("Xs must contain at least one image, got shape (0, H, W, C)")
    padding = check_positive_int(padding, "padding", minimum=0)
    if not ubound > 0:
        raise ValueError(f"ubound must be a positive number, got {ubound!r}")
    G = math.ceil(math.sqrt(N))
    step_y, step_x = H + padding, W + padding
    grid = np.zeros((G * H + (G - 1) * padding, G * W + (G - 1) * padding, C))
    for n in range(N):
        img = Xs[n].astype(np.float64)
        low, high = img.min(), img.max()
        tile = ubound * (img - low) / (high - low) if high > low else np.zeros_like(img)
        r, c = divmod(n, G)
        grid[r * step_y:r * step_y + H, c * step_x:c * step_x + W] = tile
    return grid
