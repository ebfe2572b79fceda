"""Pictures of many images at once (e.g. learned weights or filters).

``visualize_grid`` rescales every image on its own; ``vis_grid`` and ``vis_nn``
(CS231n's other two helpers) rescale the whole picture together, so tiles stay
comparable with each other.
"""
import math

import numpy as np

from course_utils.checks import check_array, check_positive_int


def _tile(images, n_rows, n_cols, padding, fill):
    """Lay images (N, H, W, C) out row by row on an n_rows x n_cols grid.

    Neighbouring tiles are ``padding`` pixels apart; gaps and unused tiles hold ``fill``.
    Returns (n_rows*H + (n_rows-1)*padding, n_cols*W + (n_cols-1)*padding, C) float64.
    """
    N, H, W, C = images.shape
    step_y, step_x = H + padding, W + padding
    grid = np.full((n_rows * step_y - padding, n_cols * step_x - padding, C), fill, dtype=np.float64)
    for n in range(N):
        r, c = divmod(n, n_cols)
        grid[r * step_y:r * step_y + H, c * step_x:c * step_x + W] = images[n]
    return grid


def _to_unit_range(grid):
    """Shift and scale to [0, 1] (a constant picture becomes all zeros)."""
    low, high = grid.min(), grid.max()
    return (grid - low) / (high - low) if high > low else np.zeros_like(grid)


def visualize_grid(Xs, ubound=255.0, padding=1):
    """Tile a stack of images into one square grid image.

    Xs: (N, H, W, C) images, N >= 1 (C = 1 for gray, 3 for colour).
    ubound: each image is rescaled on its own to [0, ubound] (a constant image
    becomes all zeros).
    padding: number of blank (zero) pixels between neighbouring tiles.
    Returns grid: (G*H + (G-1)*padding, G*W + (G-1)*padding, C) with
    G = ceil(sqrt(N)) tiles per side, filled row by row; unused tiles stay 0.
    """
    _check_images(Xs, "Xs")
    padding = check_positive_int(padding, "padding", minimum=0)
    if not ubound > 0:
        raise ValueError(f"ubound must be a positive number, got {ubound!r}")
    G = math.ceil(math.sqrt(Xs.shape[0]))
    tiles = np.stack([ubound * _to_unit_range(img.astype(np.float64)) for img in Xs])
    return _tile(tiles, G, G, padding, 0.0)


def vis_grid(Xs):
    """Tile a stack of images into a square grid, rescaled together to [0, 1].

    Xs: (N, H, W, C) images, N >= 1. Tiles are one pixel apart; the gaps and
    unused tiles take the smallest value of Xs, so they come out as 0.
    Returns (G*H + G - 1, G*W + G - 1, C) float64, G = ceil(sqrt(N)), filled row by row.
    """
    _check_images(Xs, "Xs")
    G = math.ceil(math.sqrt(Xs.shape[0]))
    return _to_unit_range(_tile(Xs, G, G, 1, float(Xs.min())))


def vis_nn(rows):
    """Tile a table of images, e.g. one row per query image and its nearest neighbours.

    rows: list of R lists of D images each, every image (H, W, C) of one shape.
    Tiles are one pixel apart; the gaps take the smallest value, and the
    whole picture is rescaled to [0, 1].
    Returns (R*H + R - 1, D*W + D - 1, C) float64.
    """
    if not isinstance(rows, (list, tuple)) or not rows or \
            any(not isinstance(row, (list, tuple)) or len(row) != len(rows[0]) for row in rows) or not rows[0]:
        raise ValueError("rows must be a non-empty list of equally long, non-empty lists of images (H, W, C)")
    images = [img for row in rows for img in row]
    for img in images:
        check_array(img, "each image of rows", ndim=3, shape=images[0].shape)
    stack = np.stack(images)
    return _to_unit_range(_tile(stack, len(rows), len(rows[0]), 1, float(stack.min())))


def images_at_points(points, images, canvas_size=1000, background=255.0):
    """Paste small images onto one picture at the places given by 2-D points (e.g. a t-SNE map).

    points: (N, 2) coordinates (x to the right, y upwards), N >= 1; images: (N, H, W, C),
    drawn in order (later images cover earlier ones). The points are scaled, with one
    factor for both axes, so that every thumbnail fits inside a square canvas of
    canvas_size x canvas_size pixels (canvas_size > H and > W); each image is centred on
    its point, rounded to whole pixels. background: value of the empty canvas.
    Returns canvas: (canvas_size, canvas_size, C) float64, with the images' own values.
    """
    points = check_array(points, "points", ndim=2)
    _check_images(images, "images")
    N, H, W, C = images.shape
    if points.shape != (N, 2):
        raise ValueError(f"points must have shape ({N}, 2) to match the images, got {points.shape}")
    if not np.all(np.isfinite(points)):
        raise ValueError("points must be finite")
    size = check_positive_int(canvas_size, "canvas_size")
    if size <= max(H, W):
        raise ValueError(f"canvas_size must be larger than the images ({H}x{W}), got {size}")
    low = points.min(axis=0)
    span = float((points.max(axis=0) - low).max())
    room = min(size - H, size - W)
    scale = room / span if span > 0 else 0.0
    # centre of each image in pixels; y grows upwards in the points, downwards in rows
    cx = np.rint(W / 2 + (points[:, 0] - low[0]) * scale).astype(int)
    cy = np.rint(H / 2 + (points[:, 1] - low[1]) * scale).astype(int)
    canvas = np.full((size, size, C), float(background))
    for n in range(N):
        top = size - (cy[n] + (H - H // 2))
        left = cx[n] - W // 2
        top = min(max(top, 0), size - H)
        left = min(max(left, 0), size - W)
        canvas[top:top + H, left:left + W] = images[n]
    return canvas


def _check_images(Xs, name):
    check_array(Xs, name, ndim=4)
    if Xs.shape[0] == 0:
        raise ValueError(f"{name} must contain at least one image, got shape (0, H, W, C)")
