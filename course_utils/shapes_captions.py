"""A captioning data set the kit generates itself: coloured shapes and their descriptions.

It stands in for COCO when the COCO captioning files are not downloaded. Each
image (RGB, ``image_size`` x ``image_size``, uint8, dark background with a little
pixel noise) holds one to three non-overlapping shapes. Every shape has

- a type: circle, square or triangle (an isosceles triangle pointing up);
- a colour: red, green, blue, yellow or purple (the shapes of one image all
  have different colours);
- a size: big or small.

Its caption comes from a small grammar and is fully determined by the image:

    one shape:    "a big red circle"
    two shapes:   "a big red circle left of a small blue square"   (or "... above ...")
    three shapes: "a small green triangle left of a big red circle left of a small blue square"

Two shapes are named left to right joined by "left of" when they are further
apart horizontally than vertically, otherwise top to bottom joined by "above".
Three shapes are always named left to right. Placement keeps these relations
unambiguous (a clear margin in the deciding coordinate).

The returned dict has the layout of :func:`course_utils.coco_utils.load_coco_data`
(one caption per image, so ``*_image_idxs`` is ``arange(N)``), with ``train_images``
and ``val_images`` in place of the COCO URLs.

Image features
--------------
COCO features come from a pretrained CNN. Here :func:`image_features` computes a
hand-made descriptor from the pixels alone (not from the generator's labels):
every pixel is assigned to the nearest palette colour (or background), and for each
of the five colours c the descriptor holds

- ``present``: 1 if any pixel has colour c;
- shape evidence: the fill ratio of the colour's bounding box (area / box area:
  about 0.6 for a triangle, 0.8 for a circle, 1 for a square), encoded as soft
  one-hot scores around those three values;
- size: the box side divided by the image size, and soft one-hot small/big scores;
- position: the centroid (x, y) scaled to [0, 1], each also as soft scores over
  four bins;
- a 4 x 4 grid of the fraction of each cell covered by colour c.

Then for every pair of colours (c, d) both present, tanh-squashed differences
of their centroids in x and in y (who is left of / above whom). A colour that is
absent contributes zeros. ``FEATURE_DIM`` is the length of the descriptor.
"""
import numpy as np

from course_utils.checks import check_array, check_positive_int

SHAPES = ("circle", "square", "triangle")
COLOURS = ("red", "green", "blue", "yellow", "purple")
SIZES = ("big", "small")
PALETTE = np.array(
    [[220, 40, 40], [40, 190, 60], [50, 80, 230], [230, 210, 40], [160, 60, 200]], dtype=np.float64
)
BACKGROUND = np.array([30, 30, 35], dtype=np.float64)
SPECIAL_TOKENS = ("<NULL>", "<START>", "<END>", "<UNK>")
WORDS = ("a", "above", "left", "of") + SIZES + COLOURS + SHAPES

_FILL_PROTOTYPES = np.array([0.6, 0.8, 1.0])  # triangle, circle, square
_GRID = 4
_POS_BINS = np.linspace(0.125, 0.875, 4)
_PER_COLOUR = 1 + 3 + 1 + 2 + 2 + 2 * len(_POS_BINS) + _GRID * _GRID
_PAIRS = [(c, d) for c in range(len(COLOURS)) for d in range(c + 1, len(COLOURS))]
FEATURE_DIM = len(COLOURS) * _PER_COLOUR + 2 * len(_PAIRS)
MAX_CAPTION_LENGTH = 3 * 4 + 2 * 2 + 2  # three "a size colour shape" + two relations + <START>, <END>


def vocabulary():
    """-> (idx_to_word list, word_to_idx dict); the special tokens take indices 0..3."""
    idx_to_word = list(SPECIAL_TOKENS) + sorted(WORDS)
    return idx_to_word, {w: i for i, w in enumerate(idx_to_word)}


# ---------------------------------------------------------------------------
# scene sampling and drawing
# ---------------------------------------------------------------------------

def _side_ranges(image_size):
    """Box sides (min, max inclusive) of small and big shapes for this image size."""
    small = (max(4, round(image_size * 0.15)), max(5, round(image_size * 0.17)))
    big = (max(small[1] + 3, round(image_size * 0.27)), max(small[1] + 5, round(image_size * 0.33)))
    return {"small": small, "big": big}


def _sample_scene(rng, image_size, max_tries=200):
    """Draw one scene: list of dicts with shape, colour, size, side, top, left."""
    sides = _side_ranges(image_size)
    margin = max(2, image_size // 16)
    while True:
        count = int(rng.integers(1, 4))
        colours = rng.choice(len(COLOURS), size=count, replace=False)
        objects = []
        for colour in colours:
            size = SIZES[int(rng.integers(2))]
            lo, hi = sides[size]
            objects.append({
                "shape": SHAPES[int(rng.integers(3))],
                "colour": COLOURS[int(colour)],
                "size": size,
                "side": int(rng.integers(lo, hi + 1)),
            })
        for _ in range(max_tries):
            for obj in objects:
                obj["top"] = int(rng.integers(1, image_size - obj["side"]))
                obj["left"] = int(rng.integers(1, image_size - obj["side"]))
            if _valid_layout(objects, margin):
                return objects


def _centre(obj):
    return obj["left"] + obj["side"] / 2, obj["top"] + obj["side"] / 2


def _valid_layout(objects, margin):
    """Boxes do not touch and the spatial relation the caption states is clear-cut."""
    for i, a in enumerate(objects):
        for b in objects[i + 1:]:
            apart_x = a["left"] + a["side"] + 1 < b["left"] or b["left"] + b["side"] + 1 < a["left"]
            apart_y = a["top"] + a["side"] + 1 < b["top"] or b["top"] + b["side"] + 1 < a["top"]
            if not (apart_x or apart_y):
                return False
    centres = [_centre(o) for o in objects]
    if len(objects) == 2:
        dx = abs(centres[0][0] - centres[1][0])
        dy = abs(centres[0][1] - centres[1][1])
        return abs(dx - dy) >= margin
    if len(objects) == 3:
        xs = sorted(c[0] for c in centres)
        return xs[1] - xs[0] >= margin and xs[2] - xs[1] >= margin
    return True


def _shape_mask(obj, rows, cols):
    top, left, side = obj["top"], obj["left"], obj["side"]
    if obj["shape"] == "square":
        return (rows >= top) & (rows < top + side) & (cols >= left) & (cols < left + side)
    if obj["shape"] == "circle":
        r = side / 2
        return (rows + 0.5 - top - r) ** 2 + (cols + 0.5 - left - r) ** 2 <= r * r
    # triangle with its apex at the top centre and its base on the bottom row
    depth = (rows + 1 - top) / side  # in (0, 1] inside the box
    half_width = depth * side / 2
    inside_rows = (rows >= top) & (rows < top + side)
    return inside_rows & (np.abs(cols + 0.5 - left - side / 2) <= half_width)


def _draw(objects, image_size, rng, noise):
    rows, cols = np.mgrid[:image_size, :image_size]
    image = np.broadcast_to(BACKGROUND, (image_size, image_size, 3)).copy()
    for obj in objects:
        image[_shape_mask(obj, rows, cols)] = PALETTE[COLOURS.index(obj["colour"])]
    if noise:
        image += rng.normal(0.0, noise, size=image.shape)
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


def _phrase(obj):
    return ["a", obj["size"], obj["colour"], obj["shape"]]


def caption_words(objects):
    """The caption (list of words) the grammar gives a scene."""
    if len(objects) == 2:
        (ax, ay), (bx, by) = _centre(objects[0]), _centre(objects[1])
        if abs(ax - bx) >= abs(ay - by):
            first, second = sorted(objects, key=lambda o: _centre(o)[0])
            return _phrase(first) + ["left", "of"] + _phrase(second)
        first, second = sorted(objects, key=lambda o: _centre(o)[1])
        return _phrase(first) + ["above"] + _phrase(second)
    words = []
    for k, obj in enumerate(sorted(objects, key=lambda o: _centre(o)[0])):
        if k:
            words += ["left", "of"]
        words += _phrase(obj)
    return words


def encode_caption(words, word_to_idx, length=MAX_CAPTION_LENGTH):
    """<START> words <END> as indices, padded with <NULL> to ``length``; unknown words -> <UNK>."""
    ids = [word_to_idx["<START>"]] + [word_to_idx.get(w, word_to_idx["<UNK>"]) for w in words]
    ids.append(word_to_idx["<END>"])
    if len(ids) > length:
        raise ValueError(f"caption of {len(ids)} tokens does not fit length {length}")
    return np.array(ids + [word_to_idx["<NULL>"]] * (length - len(ids)), dtype=np.int32)


# ---------------------------------------------------------------------------
# features
# ---------------------------------------------------------------------------

def _soft_onehot(values, centres, width):
    """(N,) values -> (N, len(centres)) Gaussian bumps exp(-((v - centre) / width)^2)."""
    return np.exp(-(((values[:, None] - centres[None, :]) / width) ** 2))


def image_features(images):
    """Hand-made descriptor of shape images (see the module docstring).

    images: (N, S, S, 3) uint8 or float RGB in [0, 255]. Returns (N, FEATURE_DIM) float32.
    """
    check_array(images, "images", ndim=4)
    N, S, S2, C = images.shape
    if S != S2 or C != 3:
        raise ValueError(f"images must have shape (N, S, S, 3), got {images.shape}")
    colours = np.vstack([PALETTE, BACKGROUND])
    pixels = images.reshape(-1, 3).astype(np.float32)
    # nearest palette colour of each pixel: |p - c|^2 = |p|^2 - 2 p.c + |c|^2, and |p|^2
    # is the same for every c, so the argmin only needs the last two terms
    colours = colours.astype(np.float32)
    dist = (colours ** 2).sum(axis=1) - 2 * pixels @ colours.T
    labels = dist.argmin(axis=1).reshape(N, S, S)  # index len(PALETTE) = background

    coords = (np.arange(S) + 0.5) / S
    cell = S // _GRID
    blocks = []
    centroids = np.zeros((N, len(COLOURS), 2))
    present = np.zeros((N, len(COLOURS)), dtype=bool)
    for c in range(len(COLOURS)):
        mask = labels == c
        area = mask.sum(axis=(1, 2)).astype(np.float64)
        has = area > 0
        rows_any, cols_any = mask.any(axis=2), mask.any(axis=1)
        height = np.where(has, S - rows_any[:, ::-1].argmax(1) - rows_any.argmax(1), 0)
        width = np.where(has, S - cols_any[:, ::-1].argmax(1) - cols_any.argmax(1), 0)
        side = np.maximum(height, width)
        fill = area / np.maximum(height * width, 1)
        safe_area = np.maximum(area, 1)
        cx = (mask.sum(axis=1) * coords).sum(axis=1) / safe_area
        cy = (mask.sum(axis=2) * coords).sum(axis=1) / safe_area
        centroids[:, c] = np.stack([cx, cy], axis=1)
        present[:, c] = has
        grid = mask[:, :cell * _GRID, :cell * _GRID].reshape(N, _GRID, cell, _GRID, cell).mean(axis=(2, 4))
        small_big = _soft_onehot(side / S, np.array([0.15, 0.30]), 0.06)
        block = np.hstack([
            has[:, None].astype(np.float64),
            _soft_onehot(fill, _FILL_PROTOTYPES, 0.07),
            (side / S)[:, None],
            small_big,
            np.stack([cx, cy], axis=1),
            _soft_onehot(cx, _POS_BINS, 0.15),
            _soft_onehot(cy, _POS_BINS, 0.15),
            grid.reshape(N, -1),
        ])
        blocks.append(block * has[:, None])
    pair_feats = []
    for c, d in _PAIRS:
        both = present[:, c] & present[:, d]
        delta = np.tanh((centroids[:, c] - centroids[:, d]) * 8.0)
        pair_feats.append(delta * both[:, None])
    return np.hstack(blocks + pair_feats).astype(np.float32)


# ---------------------------------------------------------------------------
# the data set
# ---------------------------------------------------------------------------

def make_shapes_captions(num_train=4000, num_val=500, image_size=48, noise=6.0, seed=0):
    """Generate the captioning set; the same arguments always give the same arrays.

    num_train, num_val: number of images (one caption each) in the two splits.
    image_size: side S of the square RGB images (>= 24).
    noise: standard deviation of the Gaussian pixel noise (0 for clean images).
    seed: seed of the generator that draws scenes and noise.

    Returns a dict with the layout of load_coco_data:
      train_captions (num_train, MAX_CAPTION_LENGTH) int32, train_image_idxs (num_train,) int32,
      train_features (num_train, FEATURE_DIM) float32, train_images (num_train, S, S, 3) uint8,
      the same four for val, idx_to_word (list), word_to_idx (dict),
      and train_scenes / val_scenes (list of the drawn objects, for inspection).
    """
    num_train = check_positive_int(num_train, "num_train")
    num_val = check_positive_int(num_val, "num_val")
    image_size = check_positive_int(image_size, "image_size", minimum=24)
    if not isinstance(noise, (int, float)) or noise < 0:
        raise ValueError(f"noise must be a number >= 0, got {noise!r}")
    rng = np.random.default_rng(seed)
    idx_to_word, word_to_idx = vocabulary()
    data = {"idx_to_word": idx_to_word, "word_to_idx": word_to_idx}
    for split, n in (("train", num_train), ("val", num_val)):
        scenes = [_sample_scene(rng, image_size) for _ in range(n)]
        images = np.stack([_draw(scene, image_size, rng, noise) for scene in scenes])
        data[f"{split}_captions"] = np.stack([encode_caption(caption_words(s), word_to_idx) for s in scenes])
        data[f"{split}_image_idxs"] = np.arange(n, dtype=np.int32)
        data[f"{split}_features"] = image_features(images)
        data[f"{split}_images"] = images
        data[f"{split}_scenes"] = scenes
    return data
