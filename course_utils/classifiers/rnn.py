"""Image captioning with a recurrent network.

The image feature vector sets the network's initial hidden state; the network
then reads a caption one word at a time and at each step scores every word of
the vocabulary as the next one:

    h0 = features @ W_proj + b_proj                       (N, H)
    x  = W_embed[captions_in]                             (N, T, W)
    h  = rnn_forward or lstm_forward(x, h0, Wx, Wh, b)    (N, T, H)
    scores = h @ W_vocab + b_vocab                        (N, T, V)

Training minimises temporal_softmax_loss of the scores against the caption
shifted by one word; padding (<NULL>) targets are masked out.

The module also provides every layer of ``course_utils.layers`` and of
``course_utils.rnn_layers`` (their ``__all__``, imported by name): the names
CS231n's notebooks get from ``from ...classifiers.rnn import *``.
"""
import numpy as np

from course_utils import layers, rnn_layers
from course_utils.checks import check_array, check_positive_int
from course_utils.layers import (
    affine_backward,
    affine_forward,
    batchnorm_backward,
    batchnorm_backward_alt,
    batchnorm_forward,
    conv_backward_naive,
    conv_forward_naive,
    dropout_backward,
    dropout_forward,
    layernorm_backward,
    layernorm_forward,
    max_pool_backward_naive,
    max_pool_forward_naive,
    relu_backward,
    relu_forward,
    softmax_loss,
    spatial_batchnorm_backward,
    spatial_batchnorm_forward,
    spatial_groupnorm_backward,
    spatial_groupnorm_forward,
    svm_loss,
)
from course_utils.rnn_layers import (
    CELL_GATES,
    lstm_backward,
    lstm_forward,
    lstm_step_backward,
    lstm_step_forward,
    rnn_backward,
    rnn_forward,
    rnn_step_backward,
    rnn_step_forward,
    sigmoid,
    temporal_affine_backward,
    temporal_affine_forward,
    temporal_softmax_loss,
    word_embedding_backward,
    word_embedding_forward,
)

__all__ = ["CaptioningRNN", *dict.fromkeys([*layers.__all__, *rnn_layers.__all__])]


class CaptioningRNN:
    """Caption generator: image features -> initial hidden state -> RNN/LSTM over words.

    word_to_idx: dict word -> index, V = len(word_to_idx) entries; it must contain
        "<NULL>" (padding); sample() also needs "<START>" and "<END>".
    input_dim: D, size of an image feature vector.
    wordvec_dim: W, size of a word vector.
    hidden_dim: H, size of the recurrent hidden state.
    cell_type: "rnn" or "lstm".
    dtype: floating dtype of the parameters (float64 for gradient checks).
    seed: seed of the weight initialisation (None: fresh randomness).

    Parameters (self.params): W_proj (D, H), b_proj (H,), W_embed (V, W),
    Wx (W, gH), Wh (H, gH), b (gH,) with g = 1 for "rnn" and 4 for "lstm",
    W_vocab (H, V), b_vocab (V,).
    """

    def __init__(self, word_to_idx, input_dim=512, wordvec_dim=128, hidden_dim=128,
                 cell_type="rnn", dtype=np.float32, seed=None):
        if cell_type not in CELL_GATES:
            raise ValueError(f"cell_type must be 'rnn' or 'lstm', got {cell_type!r}")
        if not isinstance(word_to_idx, dict) or "<NULL>" not in word_to_idx:
            raise ValueError("word_to_idx must be a dict word -> index that contains '<NULL>'")
        input_dim = check_positive_int(input_dim, "input_dim")
        wordvec_dim = check_positive_int(wordvec_dim, "wordvec_dim")
        hidden_dim = check_positive_int(hidden_dim, "hidden_dim")
        if not np.issubdtype(np.dtype(dtype), np.floating):
            raise ValueError(f"dtype must be a floating-point dtype, got {dtype}")

        self.cell_type = cell_type
        self.dtype = np.dtype(dtype)
        self.input_dim = input_dim
        self.word_to_idx = dict(word_to_idx)
        self.idx_to_word = {i: w for w, i in word_to_idx.items()}
        self._null = word_to_idx["<NULL>"]
        self._start = word_to_idx.get("<START>")
        self._end = word_to_idx.get("<END>")

        V, H, W, D = len(word_to_idx), hidden_dim, wordvec_dim, input_dim
        g = CELL_GATES[cell_type]
        rng = np.random.default_rng(seed)
        params = {
            "W_embed": rng.standard_normal((V, W)) / 100,
            "W_proj": rng.standard_normal((D, H)) / np.sqrt(D),
            "b_proj": np.zeros(H),
            "Wx": rng.standard_normal((W, g * H)) / np.sqrt(W),
            "Wh": rng.standard_normal((H, g * H)) / np.sqrt(H),
            "b": np.zeros(g * H),
            "W_vocab": rng.standard_normal((H, V)) / np.sqrt(H),
            "b_vocab": np.zeros(V),
        }
        self.params = {k: v.astype(self.dtype) for k, v in params.items()}

    # -- input checks (not part of the exercise) ---------------------------------
    def _check_features(self, features):
        check_array(features, "features", ndim=2, floating=True)
        check_array(features, "features", shape=(None, self.input_dim))
        return features.astype(self.dtype, copy=False)

    def _check_captions(self, captions, n):
        V = len(self.word_to_idx)
        if not isinstance(captions, np.ndarray) or not np.issubdtype(captions.dtype, np.integer):
            got = getattr(captions, "dtype", type(captions).__name__)
            raise ValueError(f"captions must be a numpy array of integer word indices, got {got}")
        if captions.ndim != 2 or captions.shape[0] != n or captions.shape[1] < 2:
            raise ValueError(
                f"captions must have shape ({n}, T) with T >= 2 to match the features, got {captions.shape}"
            )
        if captions.min() < 0 or captions.max() >= V:
            raise ValueError(
                f"captions must hold word indices in [0, {V - 1}], "
                f"got values from {captions.min()} to {captions.max()}"
            )

    def loss(self, features, captions):
        """Training loss and gradients for a minibatch.

        features: (N, D) image features; captions: (N, T) integer word indices,
        each row usually <START> w1 ... wk <END> <NULL> ... <NULL>.
        The network reads captions[:, :-1] and predicts captions[:, 1:]; steps
        whose target is <NULL> do not count. No regularisation.
        Returns (loss, grads) with grads[name] shaped like self.params[name].
        """
        features = self._check_features(features)
        self._check_captions(captions, features.shape[0])
        captions_in = captions[:, :-1]
        captions_out = captions[:, 1:]
        mask = captions_out != self._null
        loss, grads = 0.0, {}
        # TODO: forward pass: project the features to h0 (affine), embed captions_in,
        # run the recurrent layer chosen by self.cell_type, score the vocabulary at
        # every step with a temporal affine layer and compute temporal_softmax_loss
        # against captions_out with mask. Then backward pass through the same layers
        # in reverse order, storing in grads one gradient per entry of self.params.
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        p = self.params
        h0 = features @ p["W_proj"] + p["b_proj"]
        x, embed_cache = word_embedding_forward(captions_in, p["W_embed"])
        if self.cell_type == "rnn":
            h, rec_cache = rnn_forward(x, h0, p["Wx"], p["Wh"], p["b"])
        else:
            h, rec_cache = lstm_forward(x, h0, p["Wx"], p["Wh"], p["b"])
        scores, affine_cache = temporal_affine_forward(h, p["W_vocab"], p["b_vocab"])
        loss, dscores = temporal_softmax_loss(scores, captions_out, mask)

        dh, grads["W_vocab"], grads["b_vocab"] = temporal_affine_backward(dscores, affine_cache)
        if self.cell_type == "rnn":
            dx, dh0, grads["Wx"], grads["Wh"], grads["b"] = rnn_backward(dh, rec_cache)
        else:
            dx, dh0, grads["Wx"], grads["Wh"], grads["b"] = lstm_backward(dh, rec_cache)
        grads["W_embed"] = word_embedding_backward(dx, embed_cache)
        grads["W_proj"] = features.T @ dh0
        grads["b_proj"] = dh0.sum(axis=0)
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        return loss, grads

    def sample(self, features, max_length=30):
        """Greedy captions for a batch of images.

        features: (N, D). Starting from h0 = features @ W_proj + b_proj (and a zero
        cell state for the LSTM) with <START> as the first input, each step feeds
        the previous word, takes the highest-scoring word and records it.
        Returns captions (N, max_length) int64: captions[:, t] is the word chosen at
        step t. Once a caption has produced <END>, its remaining entries stay <NULL>.
        """
        features = self._check_features(features)
        max_length = check_positive_int(max_length, "max_length")
        if self._start is None or self._end is None:
            raise ValueError("sample needs '<START>' and '<END>' in word_to_idx")
        N = features.shape[0]
        captions = np.full((N, max_length), self._null, dtype=np.int64)
        # TODO: greedy decoding, one step at a time with rnn_step_forward or
        # lstm_step_forward: embed the previous word (<START> at the first step),
        # update the hidden (and cell) state, score the vocabulary with W_vocab,
        # b_vocab and pick the argmax. Keep track of which captions have already
        # produced <END>: their later entries must stay <NULL>.
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        p = self.params
        h = features @ p["W_proj"] + p["b_proj"]
        c = np.zeros_like(h)
        word = np.full(N, self._start, dtype=np.int64)
        finished = np.zeros(N, dtype=bool)
        for t in range(max_length):
            x = p["W_embed"][word]
            if self.cell_type == "rnn":
                h, _ = rnn_step_forward(x, h, p["Wx"], p["Wh"], p["b"])
            else:
                h, c, _ = lstm_step_forward(x, h, c, p["Wx"], p["Wh"], p["b"])
            scores = h @ p["W_vocab"] + p["b_vocab"]
            word = scores.argmax(axis=1)
            captions[~finished, t] = word[~finished]
            finished |= word == self._end
            if finished.all():
                break
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        return captions
