"""Character-level language model built from the recurrent layers.

The model reads a text one character at a time and at every step predicts the
next character:

    x (N, T) char ids -> embedding (N, T, W) -> rnn | lstm (N, T, H), h0 = 0
      -> temporal affine (N, T, V) scores -> softmax cross-entropy against y = x shifted by one

Training uses truncated backpropagation through time: minibatches of windows of
``seq_length`` characters cut at random places in the text, each starting from a
zero hidden state, so gradients never flow further back than one window.
Quality is measured in bits per character (cross-entropy with log base 2);
``unigram_bits_per_char`` is the baseline of a model that ignores context.

The text comes from ``load_python_corpus``: the Python standard library's own
source files, which every Python installation carries, or any text file you name.
"""
import math
import os
import sysconfig
from collections import Counter

import numpy as np

from course_utils import optim
from course_utils.checks import check_positive_int
from course_utils.rnn_layers import (
    CELL_GATES,
    lstm_backward,
    lstm_forward,
    lstm_step_forward,
    rnn_backward,
    rnn_forward,
    rnn_step_forward,
    temporal_affine_backward,
    temporal_affine_forward,
    temporal_softmax_loss,
    word_embedding_backward,
    word_embedding_forward,
)

_SKIP_DIRS = {"site-packages", "dist-packages", "__pycache__", "test", "tests", "idle_test"}


# ---------------------------------------------------------------------------
# text helpers
# ---------------------------------------------------------------------------

class CharVocab:
    """The characters of a text, each with an index (sorted by code point).

    chars: the characters (str); char_to_idx: dict char -> index; len(vocab) = V.
    """

    def __init__(self, chars):
        self.chars = "".join(sorted(set(chars)))
        if not self.chars:
            raise ValueError("a vocabulary needs at least one character")
        self.char_to_idx = {ch: i for i, ch in enumerate(self.chars)}

    @classmethod
    def from_text(cls, text):
        """Vocabulary of every character that occurs in text."""
        if not isinstance(text, str):
            raise ValueError(f"text must be a str, got {type(text).__name__}")
        return cls(text)

    def __len__(self):
        return len(self.chars)

    def encode(self, text):
        """str -> int64 array of indices; a character outside the vocabulary raises ValueError."""
        try:
            return np.array([self.char_to_idx[ch] for ch in text], dtype=np.int64)
        except KeyError as err:
            raise ValueError(f"character {err.args[0]!r} is not in the vocabulary") from None

    def decode(self, ids):
        """Sequence of indices -> str."""
        return "".join(self.chars[int(i)] for i in ids)


def split_text(text, val_fraction=0.1):
    """-> (train_text, val_text): the last val_fraction of the characters is validation."""
    if not 0 < val_fraction < 1:
        raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction!r}")
    cut = int(round(len(text) * (1 - val_fraction)))
    return text[:cut], text[cut:]


def load_python_corpus(max_chars=300_000, path=None):
    """Text to train on, the same on every run of one Python installation.

    path: a text file to read instead (UTF-8); its first max_chars characters.
    Otherwise: the ASCII-only ``.py`` files of the standard library
    (``sysconfig.get_paths()["stdlib"]``, test and third-party folders skipped), in
    sorted path order, joined by newlines until max_chars characters. If that folder
    is missing, the docstrings of a few built-in modules are used.
    max_chars: int >= 1, or None for everything.
    """
    if max_chars is not None:
        max_chars = check_positive_int(max_chars, "max_chars")
    if path is not None:
        path = os.fspath(path)
        if not os.path.isfile(path):
            raise ValueError(f"text file {path} does not exist")
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read() if max_chars is None else f.read(max_chars)
        if not text:
            raise ValueError(f"text file {path} is empty")
        return text

    pieces, total = [], 0
    for source in _stdlib_sources(sysconfig.get_paths().get("stdlib", "")):
        pieces.append(source)
        total += len(source) + 1
        if max_chars is not None and total >= max_chars:
            break
    if not pieces:
        import json
        import re
        import string
        pieces = [m.__doc__ or "" for m in (os, re, json, string, math)]
    text = "\n".join(pieces)
    return text if max_chars is None else text[:max_chars]


def _stdlib_sources(root):
    """Yield the text of each ASCII-only .py file under root, in sorted path order."""
    if not root or not os.path.isdir(root):
        return
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
        for name in sorted(files):
            if not name.endswith(".py"):
                continue
            try:
                with open(os.path.join(folder, name), "rb") as f:
                    raw = f.read()
                yield raw.decode("ascii").replace("\r\n", "\n")
            except (OSError, UnicodeDecodeError):
                continue


def _as_ids(data, vocab, what):
    if isinstance(data, str):
        return vocab.encode(data)
    if not isinstance(data, np.ndarray) or data.ndim != 1 or not np.issubdtype(data.dtype, np.integer):
        raise ValueError(f"{what} must be a str or a 1-D integer array of character ids")
    if data.size and (data.min() < 0 or data.max() >= len(vocab)):
        raise ValueError(f"{what} holds ids outside [0, {len(vocab) - 1}]")
    return data


# ---------------------------------------------------------------------------
# the model
# ---------------------------------------------------------------------------

class CharRNN:
    """Character-level language model.

    vocab: a CharVocab (V characters).
    wordvec_dim: W, size of a character embedding; hidden_dim: H; cell_type: "rnn" or "lstm";
    dtype: floating dtype of the parameters; seed: seed of the initialisation.
    Parameters: W_embed (V, W), Wx (W, gH), Wh (H, gH), b (gH,), W_vocab (H, V),
    b_vocab (V,), with g = 1 for "rnn" and 4 for "lstm".
    """

    def __init__(self, vocab, wordvec_dim=32, hidden_dim=128, cell_type="lstm", dtype=np.float32, seed=None):
        if not isinstance(vocab, CharVocab):
            raise ValueError(f"vocab must be a CharVocab, got {type(vocab).__name__}")
        if cell_type not in CELL_GATES:
            raise ValueError(f"cell_type must be 'rnn' or 'lstm', got {cell_type!r}")
        W = check_positive_int(wordvec_dim, "wordvec_dim")
        H = check_positive_int(hidden_dim, "hidden_dim")
        self.vocab = vocab
        self.cell_type = cell_type
        self.dtype = np.dtype(dtype)
        self.hidden_dim = H
        V, g = len(vocab), CELL_GATES[cell_type]
        rng = np.random.default_rng(seed)
        params = {
            "W_embed": rng.standard_normal((V, W)) / 10,
            "Wx": rng.standard_normal((W, g * H)) / np.sqrt(W),
            "Wh": rng.standard_normal((H, g * H)) / np.sqrt(H),
            "b": np.zeros(g * H),
            "W_vocab": rng.standard_normal((H, V)) / np.sqrt(H),
            "b_vocab": np.zeros(V),
        }
        if cell_type == "lstm":
            params["b"][H:2 * H] = 1.0  # forget gates start open: memory is kept by default
        self.params = {k: v.astype(self.dtype) for k, v in params.items()}

    def _check_ids(self, ids, name):
        V = len(self.vocab)
        if not isinstance(ids, np.ndarray) or ids.ndim != 2 or not np.issubdtype(ids.dtype, np.integer):
            raise ValueError(f"{name} must be an integer array of shape (N, T), "
                             f"got {getattr(ids, 'dtype', type(ids).__name__)} {getattr(ids, 'shape', '')}")
        if ids.size and (ids.min() < 0 or ids.max() >= V):
            raise ValueError(f"{name} must hold character ids in [0, {V - 1}], "
                             f"got values from {ids.min()} to {ids.max()}")

    def loss(self, x, y):
        """Mean cross-entropy per character (in nats) and its gradients.

        x: (N, T) input character ids; y: (N, T) target ids (the next characters).
        The hidden state starts at zero. Returns (loss, grads), grads shaped like params.
        """
        self._check_ids(x, "x")
        self._check_ids(y, "y")
        if x.shape != y.shape:
            raise ValueError(f"x and y must have the same shape, got {x.shape} and {y.shape}")
        N, T = x.shape
        mask = np.ones((N, T), dtype=bool)
        loss, grads = 0.0, {}
        # TODO: embed x, run the recurrent layer chosen by self.cell_type from a zero
        # h0, score the vocabulary with a temporal affine layer and take
        # temporal_softmax_loss against y (every step counts). That loss is summed over
        # T and averaged over N: divide it (and the score gradient) by T to get the
        # mean per character. Backpropagate into grads for every parameter.
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        p = self.params
        h0 = np.zeros((N, self.hidden_dim), dtype=self.dtype)
        emb, emb_cache = word_embedding_forward(x, p["W_embed"])
        if self.cell_type == "rnn":
            h, rec_cache = rnn_forward(emb, h0, p["Wx"], p["Wh"], p["b"])
        else:
            h, rec_cache = lstm_forward(emb, h0, p["Wx"], p["Wh"], p["b"])
        scores, affine_cache = temporal_affine_forward(h, p["W_vocab"], p["b_vocab"])
        loss, dscores = temporal_softmax_loss(scores, y, mask)
        loss /= T
        dscores /= T

        dh, grads["W_vocab"], grads["b_vocab"] = temporal_affine_backward(dscores, affine_cache)
        if self.cell_type == "rnn":
            demb, _, grads["Wx"], grads["Wh"], grads["b"] = rnn_backward(dh, rec_cache)
        else:
            demb, _, grads["Wx"], grads["Wh"], grads["b"] = lstm_backward(dh, rec_cache)
        grads["W_embed"] = word_embedding_backward(demb, emb_cache)
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        return loss, grads

    def sample(self, seed_text, length=200, temperature=1.0, rng=None):
        """Continue seed_text by ``length`` characters drawn one at a time.

        seed_text: non-empty str of vocabulary characters; the model reads it first.
        temperature: > 0 divides the scores before the softmax (lower = more
            conservative); 0 always takes the most likely character.
        rng: np.random.Generator, an int seed or None.
        Returns seed_text followed by the generated characters.
        """
        if not isinstance(seed_text, str) or not seed_text:
            raise ValueError("seed_text must be a non-empty str")
        ids = self.vocab.encode(seed_text)
        length = check_positive_int(length, "length", minimum=0)
        if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or temperature < 0:
            raise ValueError(f"temperature must be a number >= 0, got {temperature!r}")
        rng = np.random.default_rng(rng)
        generated = []
        # TODO: starting from zero hidden (and cell) state, feed the seed characters one
        # step at a time (rnn_step_forward / lstm_step_forward on their embeddings).
        # Then repeat `length` times: score the vocabulary from the current hidden state,
        # pick the next character (argmax when temperature == 0, otherwise draw from
        # softmax(scores / temperature) with rng.choice), append its id to generated
        # and feed it back in as the next input.
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        p = self.params
        h = np.zeros((1, self.hidden_dim), dtype=self.dtype)
        c = np.zeros_like(h)

        def step(char_id, h, c):
            emb = p["W_embed"][[char_id]]
            if self.cell_type == "rnn":
                return rnn_step_forward(emb, h, p["Wx"], p["Wh"], p["b"])[0], c
            next_h, next_c, _ = lstm_step_forward(emb, h, c, p["Wx"], p["Wh"], p["b"])
            return next_h, next_c

        for char_id in ids:
            h, c = step(int(char_id), h, c)
        for _ in range(length):
            scores = (h @ p["W_vocab"] + p["b_vocab"])[0].astype(np.float64)
            if temperature == 0:
                next_id = int(scores.argmax())
            else:
                z = scores / temperature
                probs = np.exp(z - z.max())
                next_id = int(rng.choice(len(probs), p=probs / probs.sum()))
            generated.append(next_id)
            h, c = step(next_id, h, c)
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        return seed_text + self.vocab.decode(generated)


# ---------------------------------------------------------------------------
# training and evaluation
# ---------------------------------------------------------------------------

def sample_windows(ids, batch_size, seq_length, rng):
    """Random training windows: x (B, T) = ids[s:s+T], y (B, T) = ids[s+1:s+T+1]."""
    starts = rng.integers(0, len(ids) - seq_length, size=batch_size)
    offsets = np.arange(seq_length)
    x = ids[starts[:, None] + offsets]
    return x, ids[starts[:, None] + offsets + 1]


def train_char_rnn(model, data, num_iterations=1000, batch_size=32, seq_length=50,
                   update_rule="adam", optim_config=None, grad_clip=5.0, seed=None,
                   verbose=False, print_every=100):
    """Train a CharRNN with truncated BPTT on random windows of the text.

    data: training text (str) or its 1-D array of character ids.
    seq_length: T, characters per window (gradients flow back at most T steps).
    update_rule: name of a rule in course_utils.optim; optim_config: its
        hyperparameters (each parameter gets its own copy).
    grad_clip: clip every gradient entry to [-grad_clip, grad_clip] (None: no clipping);
        recurrent nets occasionally produce exploding gradients.
    seed: seed of the window sampling.
    Returns the loss history (nats per character, one value per iteration).
    """
    ids = _as_ids(data, model.vocab, "data")
    num_iterations = check_positive_int(num_iterations, "num_iterations")
    batch_size = check_positive_int(batch_size, "batch_size")
    seq_length = check_positive_int(seq_length, "seq_length")
    if len(ids) <= seq_length:
        raise ValueError(f"the text has {len(ids)} characters; it needs more than seq_length={seq_length}")
    if update_rule not in ("sgd", "sgd_momentum", "rmsprop", "adam"):
        raise ValueError(f"update_rule must name a rule of course_utils.optim, got {update_rule!r}")
    rule = getattr(optim, update_rule)
    configs = {name: dict(optim_config or {}) for name in model.params}
    rng = np.random.default_rng(seed)
    history = []
    for it in range(num_iterations):
        x, y = sample_windows(ids, batch_size, seq_length, rng)
        loss, grads = model.loss(x, y)
        history.append(float(loss))
        for name, w in model.params.items():
            dw = grads[name] if grad_clip is None else np.clip(grads[name], -grad_clip, grad_clip)
            model.params[name], configs[name] = rule(w, dw, configs[name])
        if verbose and (it % print_every == 0 or it == num_iterations - 1):
            print(f"(Iteration {it + 1} / {num_iterations}) loss: {loss:.4f} nats/char")
    return history


def bits_per_char(model, data, seq_length=100, batch_size=64):
    """Average cross-entropy of the model on a text, in bits per character.

    data: text (str) or 1-D array of character ids. The text is cut into consecutive
    windows of seq_length + 1 characters overlapping by one (each window's first
    character is context only, so every later character is predicted exactly once);
    each window starts from a zero hidden state, as in training.
    """
    ids = _as_ids(data, model.vocab, "data")
    seq_length = check_positive_int(seq_length, "seq_length")
    batch_size = check_positive_int(batch_size, "batch_size")
    if len(ids) < 2:
        raise ValueError("bits_per_char needs a text of at least 2 characters")
    full = (len(ids) - 1) // seq_length
    offsets = np.arange(seq_length)
    starts = np.arange(full) * seq_length
    total_nats, total_chars = 0.0, 0
    for k in range(0, full, batch_size):
        s = starts[k:k + batch_size, None] + offsets
        loss, _ = model.loss(ids[s], ids[s + 1])
        total_nats += loss * s.size
        total_chars += s.size
    tail = full * seq_length
    if tail < len(ids) - 1:
        loss, _ = model.loss(ids[None, tail:-1], ids[None, tail + 1:])
        total_nats += loss * (len(ids) - 1 - tail)
        total_chars += len(ids) - 1 - tail
    return total_nats / total_chars / math.log(2)


def unigram_bits_per_char(train_text, val_text):
    """Bits per character of val_text under character frequencies counted on train_text.

    Add-one smoothing over the characters of both texts gives unseen characters a
    small probability. This is what a model achieves that ignores all context.
    """
    if not isinstance(train_text, str) or not isinstance(val_text, str) or not val_text:
        raise ValueError("train_text and val_text must be strings (val_text non-empty)")
    counts = Counter(train_text)
    alphabet = set(train_text) | set(val_text)
    total = len(train_text) + len(alphabet)
    val_counts = Counter(val_text)
    nats = -sum(n * math.log((counts[ch] + 1) / total) for ch, n in val_counts.items())
    return nats / len(val_text) / math.log(2)
