"""Recurrent layers: vanilla RNN, LSTM, word embeddings and time-distributed helpers.

Shapes: N = batch, T = time steps, D = input size, H = hidden size, V = vocabulary.
Every forward returns ``(out, cache)``; every backward takes ``(dout, cache)`` and
returns the gradients in the order of the forward's inputs. Arrays keep the dtype
they come in with, so the same code runs float64 gradient checks and float32 training.

The LSTM pre-activation ``a = x @ Wx + prev_h @ Wh + b`` has 4H columns laid out as
four blocks of H: input gate i, forget gate f, output gate o, block input g.

``affine_forward`` / ``affine_backward`` are the layers of ``course_utils.layers``,
available here too because CS231n's recurrent-layer module defined them.
"""
import numpy as np

from course_utils.checks import check_array, implemented
from course_utils.layers import affine_backward, affine_forward

__all__ = [
    "affine_forward", "affine_backward", "sigmoid",
    "rnn_step_forward", "rnn_step_backward", "rnn_forward", "rnn_backward",
    "word_embedding_forward", "word_embedding_backward",
    "lstm_step_forward", "lstm_step_backward", "lstm_forward", "lstm_backward",
    "temporal_affine_forward", "temporal_affine_backward", "temporal_softmax_loss",
]

# Gate blocks per recurrent cell: Wx is (D, g*H), Wh (H, g*H), b (g*H,).
CELL_GATES = {"rnn": 1, "lstm": 4}


def sigmoid(x):
    """Logistic function 1 / (1 + exp(-x)) without overflow for large |x|.

    exp is only ever taken of -|x| <= 0, so it lies in (0, 1]: positive entries use
    1 / (1 + e^-x), negative ones the equal form e^x / (1 + e^x).
    """
    x = np.asarray(x)
    z = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))


def _check_rnn_params(x, prev_h, Wx, Wh, b, gates=1):
    """Shared shape checks of one recurrent step: x (N, D), prev_h (N, H), Wx (D, gH), Wh (H, gH), b (gH,)."""
    check_array(x, "x", ndim=2, floating=True)
    check_array(prev_h, "prev_h", ndim=2, floating=True)
    N, D = x.shape
    H = prev_h.shape[1]
    check_array(prev_h, "prev_h", shape=(N, None))
    check_array(Wx, "Wx", shape=(D, gates * H), floating=True)
    check_array(Wh, "Wh", shape=(H, gates * H), floating=True)
    check_array(b, "b", shape=(gates * H,), floating=True)


def _check_sequence_params(x, h0, Wx, Wh, b, gates=1):
    """Shape checks of a whole sequence: x (N, T, D), h0 (N, H) and the step weights."""
    check_array(x, "x", ndim=3, floating=True)
    check_array(h0, "h0", ndim=2, floating=True)
    N, T, D = x.shape
    H = h0.shape[1]
    check_array(h0, "h0", shape=(N, None))
    check_array(Wx, "Wx", shape=(D, gates * H), floating=True)
    check_array(Wh, "Wh", shape=(H, gates * H), floating=True)
    check_array(b, "b", shape=(gates * H,), floating=True)


# ---------------------------------------------------------------------------
# Vanilla RNN
# ---------------------------------------------------------------------------

def rnn_step_forward(x, prev_h, Wx, Wh, b):
    """One time step of a tanh RNN.

    x: (N, D) inputs; prev_h: (N, H) previous hidden state;
    Wx: (D, H); Wh: (H, H); b: (H,).
    Returns next_h (N, H) = tanh(x @ Wx + prev_h @ Wh + b) and a cache for the backward pass.
    """
    _check_rnn_params(x, prev_h, Wx, Wh, b)
    next_h, cache = None, None
    # TODO: compute the new hidden state with the formula above and keep in
    # cache whatever the backward pass needs (the inputs, weights and next_h).
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    next_h = np.tanh(x @ Wx + prev_h @ Wh + b)
    cache = (x, prev_h, Wx, Wh, next_h)
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return implemented(next_h, "rnn_step_forward"), cache


def rnn_step_backward(dnext_h, cache):
    """Backward pass of one tanh RNN step.

    dnext_h: (N, H) upstream gradient of next_h; cache: from rnn_step_forward.
    Returns dx (N, D), dprev_h (N, H), dWx (D, H), dWh (H, H), db (H,).
    """
    check_array(dnext_h, "dnext_h", ndim=2, floating=True)
    dx, dprev_h, dWx, dWh, db = None, None, None, None, None
    # TODO: backpropagate through tanh (its derivative is 1 - tanh^2, and next_h
    # is that tanh) and then through the two matrix products and the bias.
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    x, prev_h, Wx, Wh, next_h = cache
    da = dnext_h * (1 - next_h ** 2)
    dx = da @ Wx.T
    dprev_h = da @ Wh.T
    dWx = x.T @ da
    dWh = prev_h.T @ da
    db = da.sum(axis=0)
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return implemented(dx, "rnn_step_backward"), dprev_h, dWx, dWh, db


def rnn_forward(x, h0, Wx, Wh, b):
    """Run a tanh RNN over a whole sequence.

    x: (N, T, D) inputs; h0: (N, H) initial hidden state; Wx: (D, H); Wh: (H, H); b: (H,).
    Returns h (N, T, H), the hidden state at every step (h0 itself is not included), and a cache.
    """
    _check_sequence_params(x, h0, Wx, Wh, b)
    h, cache = None, None
    # TODO: loop over the T time steps with rnn_step_forward, feeding each step
    # the previous hidden state, store the states in h and the step caches in cache.
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    N, T, _ = x.shape
    h = np.empty((N, T, h0.shape[1]), dtype=np.result_type(x, h0, Wx))
    step_caches = []
    prev_h = h0
    for t in range(T):
        prev_h, step_cache = rnn_step_forward(x[:, t, :], prev_h, Wx, Wh, b)
        h[:, t, :] = prev_h
        step_caches.append(step_cache)
    cache = step_caches
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return implemented(h, "rnn_forward"), cache


def rnn_backward(dh, cache):
    """Backward pass of rnn_forward.

    dh: (N, T, H) upstream gradients of every hidden state (the loss may read each one).
    Returns dx (N, T, D), dh0 (N, H), dWx (D, H), dWh (H, H), db (H,).
    """
    check_array(dh, "dh", ndim=3, floating=True)
    dx, dh0, dWx, dWh, db = None, None, None, None, None
    # TODO: walk the steps backwards. The gradient reaching h[:, t] is the upstream
    # dh[:, t] plus what flows back from step t + 1; weight gradients add up over time.
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    N, T, H = dh.shape
    D = cache[0][0].shape[1]
    dx = np.empty((N, T, D), dtype=dh.dtype)
    dWx = np.zeros_like(cache[0][2])
    dWh = np.zeros_like(cache[0][3])
    db = np.zeros(H, dtype=dWx.dtype)
    dprev_h = np.zeros((N, H), dtype=dh.dtype)
    for t in reversed(range(T)):
        dx_t, dprev_h, dWx_t, dWh_t, db_t = rnn_step_backward(dh[:, t, :] + dprev_h, cache[t])
        dx[:, t, :] = dx_t
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    dh0 = dprev_h
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return implemented(dx, "rnn_backward"), dh0, dWx, dWh, db


# ---------------------------------------------------------------------------
# Word embeddings
# ---------------------------------------------------------------------------

def word_embedding_forward(x, W):
    """Look up a vector for every word index.

    x: integer indices in [0, V), any shape: usually (N, T), or (N,) for one
    time step (as CaptioningRNN.sample feeds it); lists are converted.
    W: (V, D) one row per word.
    Returns out of shape x.shape + (D,), e.g. (N, T, D) with out[n, t] = W[x[n, t]],
    and a cache.
    """
    check_array(W, "W", ndim=2, floating=True)
    x = _check_indices(x, "x", W.shape[0])
    out, cache = None, None
    # TODO: select the rows of W named by x (integer array indexing does it in one step).
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    out = W[x]
    cache = (x, W.shape, W.dtype)
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return implemented(out, "word_embedding_forward"), cache


def word_embedding_backward(dout, cache):
    """Backward pass of word_embedding_forward.

    dout: x.shape + (D,) upstream gradients, e.g. (N, T, D). Returns dW (V, D);
    a word used k times collects the sum of its k upstream rows. (x is integer
    data and gets no gradient.)
    """
    check_array(dout, "dout", floating=True)
    if dout.ndim < 1:
        raise ValueError("dout must have shape x.shape + (D,), got a 0-dimensional array")
    dW = None
    # TODO: scatter-add every row of dout into the row of dW of its word;
    # np.add.at adds correctly when the same word appears more than once.
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    x, W_shape, W_dtype = cache
    dW = np.zeros(W_shape, dtype=W_dtype)
    np.add.at(dW, x, dout)
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return implemented(dW, "word_embedding_backward")


def _check_indices(x, name, V):
    """Require integer indices in [0, V), of any shape -> numpy array (lists are converted)."""
    if isinstance(x, (list, tuple)):
        x = np.asarray(x)
    if not isinstance(x, np.ndarray) or not np.issubdtype(x.dtype, np.integer):
        got = getattr(x, "dtype", type(x).__name__)
        raise ValueError(f"{name} must be a numpy array of integer word indices, got {got}")
    if x.size and (x.min() < 0 or x.max() >= V):
        raise ValueError(
            f"{name} must hold word indices in [0, {V - 1}], got values from {x.min()} to {x.max()}"
        )
    return x


# ---------------------------------------------------------------------------
# LSTM
# ---------------------------------------------------------------------------

def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
    """One time step of an LSTM.

    x: (N, D); prev_h, prev_c: (N, H); Wx: (D, 4H); Wh: (H, 4H); b: (4H,).
    a = x @ Wx + prev_h @ Wh + b is split into four H-wide blocks i, f, o, g;
    i, f, o go through sigmoid, g through tanh;
    next_c = f * prev_c + i * g and next_h = o * tanh(next_c).
    Returns next_h (N, H), next_c (N, H) and a cache.
    """
    _check_rnn_params(x, prev_h, Wx, Wh, b, gates=4)
    check_array(prev_c, "prev_c", shape=prev_h.shape, floating=True)
    next_h, next_c, cache = None, None, None
    # TODO: compute the gate activations, then the new cell and hidden state.
    # Use the numerically stable sigmoid defined in this module.
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    H = prev_h.shape[1]
    a = x @ Wx + prev_h @ Wh + b
    i = sigmoid(a[:, :H])
    f = sigmoid(a[:, H:2 * H])
    o = sigmoid(a[:, 2 * H:3 * H])
    g = np.tanh(a[:, 3 * H:])
    next_c = f * prev_c + i * g
    tanh_c = np.tanh(next_c)
    next_h = o * tanh_c
    cache = (x, prev_h, prev_c, Wx, Wh, i, f, o, g, tanh_c)
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return implemented(next_h, "lstm_step_forward"), next_c, cache


def lstm_step_backward(dnext_h, dnext_c, cache):
    """Backward pass of one LSTM step.

    dnext_h, dnext_c: (N, H) upstream gradients of next_h and next_c.
    Returns dx (N, D), dprev_h (N, H), dprev_c (N, H), dWx (D, 4H), dWh (H, 4H), db (4H,).
    """
    check_array(dnext_h, "dnext_h", ndim=2, floating=True)
    check_array(dnext_c, "dnext_c", shape=dnext_h.shape, floating=True)
    dx, dprev_h, dprev_c, dWx, dWh, db = None, None, None, None, None, None
    # TODO: next_c receives gradient both directly (dnext_c) and through
    # next_h = o * tanh(next_c). From dnext_c get the gradients of f, prev_c, i, g;
    # push them through the sigmoid / tanh derivatives into da (N, 4H) laid out
    # i, f, o, g, and from da get the input, hidden-state and weight gradients.
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    x, prev_h, prev_c, Wx, Wh, i, f, o, g, tanh_c = cache
    do = dnext_h * tanh_c
    dc = dnext_c + dnext_h * o * (1 - tanh_c ** 2)
    dprev_c = dc * f
    di = dc * g
    df = dc * prev_c
    dg = dc * i
    da = np.concatenate(
        [di * i * (1 - i), df * f * (1 - f), do * o * (1 - o), dg * (1 - g ** 2)], axis=1
    )
    dx = da @ Wx.T
    dprev_h = da @ Wh.T
    dWx = x.T @ da
    dWh = prev_h.T @ da
    db = da.sum(axis=0)
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return implemented(dx, "lstm_step_backward"), dprev_h, dprev_c, dWx, dWh, db


def lstm_forward(x, h0, Wx, Wh, b):
    """Run an LSTM over a whole sequence; the initial cell state is zero.

    x: (N, T, D); h0: (N, H); Wx: (D, 4H); Wh: (H, 4H); b: (4H,).
    Returns h (N, T, H), the hidden state at every step, and a cache.
    """
    _check_sequence_params(x, h0, Wx, Wh, b, gates=4)
    h, cache = None, None
    # TODO: loop over time with lstm_step_forward starting from h0 and a zero
    # cell state; keep every hidden state in h and every step cache.
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    N, T, _ = x.shape
    h = np.empty((N, T, h0.shape[1]), dtype=np.result_type(x, h0, Wx))
    prev_h, prev_c = h0, np.zeros_like(h0)
    cache = []
    for t in range(T):
        prev_h, prev_c, step_cache = lstm_step_forward(x[:, t, :], prev_h, prev_c, Wx, Wh, b)
        h[:, t, :] = prev_h
        cache.append(step_cache)
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return implemented(h, "lstm_forward"), cache


def lstm_backward(dh, cache):
    """Backward pass of lstm_forward.

    dh: (N, T, H) upstream gradients of the hidden states (no gradient arrives
    at the cell states from outside). Returns dx (N, T, D), dh0 (N, H),
    dWx (D, 4H), dWh (H, 4H), db (4H,).
    """
    check_array(dh, "dh", ndim=3, floating=True)
    dx, dh0, dWx, dWh, db = None, None, None, None, None
    # TODO: walk backwards through time, carrying both the hidden-state and the
    # cell-state gradient from step t + 1 to step t; sum the weight gradients.
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    N, T, H = dh.shape
    D = cache[0][0].shape[1]
    dx = np.empty((N, T, D), dtype=dh.dtype)
    dWx = np.zeros_like(cache[0][3])
    dWh = np.zeros_like(cache[0][4])
    db = np.zeros(4 * H, dtype=dWx.dtype)
    dprev_h = np.zeros((N, H), dtype=dh.dtype)
    dprev_c = np.zeros((N, H), dtype=dh.dtype)
    for t in reversed(range(T)):
        dx_t, dprev_h, dprev_c, dWx_t, dWh_t, db_t = lstm_step_backward(
            dh[:, t, :] + dprev_h, dprev_c, cache[t]
        )
        dx[:, t, :] = dx_t
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    dh0 = dprev_h
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return implemented(dx, "lstm_backward"), dh0, dWx, dWh, db


# ---------------------------------------------------------------------------
# Time-distributed output layer and loss (given, not exercises)
# ---------------------------------------------------------------------------

def temporal_affine_forward(x, w, b):
    """The same affine map applied at every time step.

    x: (N, T, D); w: (D, M); b: (M,). Returns out (N, T, M) = x @ w + b and a cache.
    """
    check_array(x, "x", ndim=3, floating=True)
    check_array(w, "w", shape=(x.shape[2], None), floating=True)
    check_array(b, "b", shape=(w.shape[1],), floating=True)
    out = x @ w + b
    return out, (x, w)


def temporal_affine_backward(dout, cache):
    """Backward pass of temporal_affine_forward.

    dout: (N, T, M). Returns dx (N, T, D), dw (D, M), db (M,).
    """
    check_array(dout, "dout", ndim=3, floating=True)
    x, w = cache
    dx = dout @ w.T
    dw = x.reshape(-1, x.shape[2]).T @ dout.reshape(-1, dout.shape[2])
    db = dout.sum(axis=(0, 1))
    return dx, dw, db


def temporal_softmax_loss(x, y, mask, verbose=False):
    """Softmax cross-entropy summed over the time steps where mask is True, divided by N.

    x: (N, T, V) scores; y: (N, T) integer targets in [0, V); mask: (N, T) bool,
    False at padding steps, which then add nothing to the loss or the gradient.
    Returns loss (float) and dx (N, T, V).
    """
    check_array(x, "x", ndim=3, floating=True)
    N, T, V = x.shape
    if not isinstance(y, np.ndarray) or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"y must be a numpy array of integer targets, got {getattr(y, 'dtype', type(y).__name__)}")
    check_array(y, "y", shape=(N, T))
    if y.size and (y.min() < 0 or y.max() >= V):
        raise ValueError(f"y must hold targets in [0, {V - 1}], got values from {y.min()} to {y.max()}")
    check_array(mask, "mask", shape=(N, T))
    if mask.dtype != np.bool_:
        raise ValueError(f"mask must have dtype bool, got {mask.dtype}")

    flat_x = x.reshape(N * T, V)
    flat_y = y.reshape(N * T)
    flat_mask = mask.reshape(N * T)
    shifted = flat_x - flat_x.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    picked = log_probs[np.arange(N * T), flat_y]
    loss = -np.sum(picked * flat_mask) / N

    dx_flat = np.exp(log_probs)
    dx_flat[np.arange(N * T), flat_y] -= 1
    dx_flat *= flat_mask[:, None] / N
    if verbose:
        print(f"temporal_softmax_loss: dx has shape {dx_flat.shape}, {int(flat_mask.sum())} masked-in steps")
    return float(loss), dx_flat.reshape(N, T, V)
