import math

import numpy as np
import pytest

from course_utils.captioning_solver import CaptioningSolver
from course_utils.classifiers.rnn import CaptioningRNN
from course_utils.gradient_check import eval_numerical_gradient, rel_error
from course_utils.shapes_captions import make_shapes_captions

WORDS = ["<NULL>", "<START>", "<END>", "a", "cat", "dog", "sits", "runs"]
W2I = {w: i for i, w in enumerate(WORDS)}


def _batch(rng, N=3, T=6, D=5):
    features = rng.standard_normal((N, D))
    captions = rng.integers(3, len(WORDS), size=(N, T))
    captions[:, 0] = W2I["<START>"]
    captions[0, 3] = W2I["<END>"]
    captions[0, 4:] = W2I["<NULL>"]
    captions[1, -1] = W2I["<END>"]
    return features, captions


@pytest.mark.parametrize("cell_type", ["rnn", "lstm"])
def test_captioning_rnn_gradcheck(cell_type):
    rng = np.random.default_rng(0)
    model = CaptioningRNN(W2I, input_dim=5, wordvec_dim=4, hidden_dim=3, cell_type=cell_type,
                          dtype=np.float64, seed=1)
    for name in model.params:  # larger weights than the default init: a stronger test
        model.params[name] = rng.standard_normal(model.params[name].shape) * 0.5
    features, captions = _batch(rng)
    loss, grads = model.loss(features, captions)
    assert set(grads) == set(model.params)
    for name, param in model.params.items():
        numeric = eval_numerical_gradient(lambda _: model.loss(features, captions)[0], param,
                                          verbose=False)
        assert grads[name].shape == param.shape
        assert rel_error(numeric, grads[name]) < 1e-5, name


def test_loss_is_log_v_per_step_with_uniform_scores():
    # zero output weights make every word equally likely: log(V) per counted step
    rng = np.random.default_rng(2)
    model = CaptioningRNN(W2I, input_dim=5, wordvec_dim=4, hidden_dim=3, dtype=np.float64, seed=0)
    model.params["W_vocab"][:] = 0
    features, captions = _batch(rng)
    counted = int((captions[:, 1:] != W2I["<NULL>"]).sum())
    loss, _ = model.loss(features, captions)
    assert loss == pytest.approx(counted * math.log(len(WORDS)) / captions.shape[0], rel=1e-12)


@pytest.mark.parametrize("cell_type", ["rnn", "lstm"])
def test_initial_loss_is_near_log_v_per_step(cell_type):
    words = ["<NULL>", "<START>", "<END>"] + [f"w{i}" for i in range(47)]
    w2i = {w: i for i, w in enumerate(words)}
    rng = np.random.default_rng(3)
    N, T = 20, 11
    captions = rng.integers(3, 50, size=(N, T))
    model = CaptioningRNN(w2i, input_dim=30, wordvec_dim=16, hidden_dim=32, cell_type=cell_type, seed=0)
    loss, grads = model.loss(rng.standard_normal((N, 30)).astype(np.float32), captions)
    per_step = loss / (T - 1)
    assert abs(per_step - math.log(50)) < 0.5
    assert grads["W_vocab"].dtype == np.float32


def _sign_model(cell_type="rnn"):
    """h0 = feature; rnn with Wh = -1 flips the sign of h each step; h > 0 -> <END>, h < 0 -> 'a'."""
    model = CaptioningRNN(W2I, input_dim=1, wordvec_dim=2, hidden_dim=1, cell_type=cell_type,
                          dtype=np.float64, seed=0)
    p = model.params
    p["W_proj"][:] = 1.0
    p["b_proj"][:] = 0.0
    p["Wx"][:] = 0.0
    p["Wh"][:] = -1.0
    p["b"][:] = 0.0
    p["W_vocab"][:] = 0.0
    p["W_vocab"][0, W2I["<END>"]] = 1.0
    p["W_vocab"][0, W2I["a"]] = -1.0
    p["b_vocab"][:] = -10.0  # every other word is never chosen
    p["b_vocab"][[W2I["<END>"], W2I["a"]]] = 0.0
    return model


def test_sample_stops_at_end_and_pads_with_null():
    model = _sign_model()
    features = np.array([[1.0], [-1.0]])
    captions = model.sample(features, max_length=5)
    NULL, END, A = W2I["<NULL>"], W2I["<END>"], W2I["a"]
    # row 0: h1 = tanh(-1) < 0 -> 'a'; h2 > 0 -> <END>; then padding although the model
    # would go on producing words
    assert captions.tolist() == [[A, END, NULL, NULL, NULL], [END, NULL, NULL, NULL, NULL]]
    assert np.issubdtype(captions.dtype, np.integer)
    assert np.array_equal(model.sample(features, max_length=5), captions)


def test_sample_runs_to_max_length_without_end():
    model = _sign_model()
    model.params["Wh"][:] = 1.0  # the sign never flips: a row starting negative never ends
    captions = model.sample(np.array([[-1.0], [-2.0]]), max_length=7)
    assert captions.shape == (2, 7)
    assert np.all(captions == W2I["a"])


def test_lstm_sample_forced_end_and_determinism():
    rng = np.random.default_rng(4)
    model = CaptioningRNN(W2I, input_dim=5, wordvec_dim=4, hidden_dim=3, cell_type="lstm", seed=0)
    features = rng.standard_normal((4, 5)).astype(np.float32)
    first = model.sample(features, max_length=6)
    assert first.shape == (4, 6)
    assert np.array_equal(first, model.sample(features, max_length=6))
    model.params["W_vocab"][:] = 0
    model.params["b_vocab"][W2I["<END>"]] = 10.0
    forced = model.sample(features, max_length=6)
    assert np.all(forced[:, 0] == W2I["<END>"]) and np.all(forced[:, 1:] == W2I["<NULL>"])


def test_same_seed_same_parameters():
    a = CaptioningRNN(W2I, input_dim=5, wordvec_dim=4, hidden_dim=3, cell_type="lstm", seed=7)
    b = CaptioningRNN(W2I, input_dim=5, wordvec_dim=4, hidden_dim=3, cell_type="lstm", seed=7)
    assert all(np.array_equal(a.params[k], b.params[k]) for k in a.params)
    assert a.params["Wx"].shape == (4, 12) and a.params["W_vocab"].shape == (3, len(WORDS))


def test_bad_captions_and_features_raise():
    model = CaptioningRNN(W2I, input_dim=5, wordvec_dim=4, hidden_dim=3)
    features = np.zeros((2, 5), dtype=np.float32)
    good = np.ones((2, 4), dtype=np.int64)
    with pytest.raises(ValueError, match="integer word indices"):
        model.loss(features, good.astype(np.float64))
    with pytest.raises(ValueError, match=r"shape \(2, T\)"):
        model.loss(features, good[0])
    with pytest.raises(ValueError, match=r"shape \(2, T\)"):
        model.loss(features, np.ones((3, 4), dtype=np.int64))
    with pytest.raises(ValueError, match=r"indices in \[0, 7\]"):
        model.loss(features, good * 8)
    with pytest.raises(ValueError, match=r"indices in \[0, 7\]"):
        model.loss(features, -good)
    with pytest.raises(ValueError, match="features must have shape"):
        model.loss(np.zeros((2, 4), dtype=np.float32), good)
    with pytest.raises(ValueError, match="floating-point"):
        model.sample(np.zeros((2, 5), dtype=np.int64))


def test_constructor_checks_tokens_and_cell_type():
    with pytest.raises(ValueError, match="<NULL>"):
        CaptioningRNN({"a": 0, "b": 1})
    with pytest.raises(ValueError, match="cell_type"):
        CaptioningRNN(W2I, cell_type="gru")
    no_start = CaptioningRNN({"<NULL>": 0, "x": 1}, input_dim=2, wordvec_dim=2, hidden_dim=2)
    loss, _ = no_start.loss(np.zeros((1, 2), dtype=np.float32), np.array([[1, 1, 0]]))
    assert loss > 0
    with pytest.raises(ValueError, match="<START>"):
        no_start.sample(np.zeros((1, 2), dtype=np.float32))


# ---------------------------------------------------------------- CaptioningSolver

@pytest.fixture(scope="module")
def tiny_shapes():
    return make_shapes_captions(num_train=40, num_val=10, image_size=32, seed=3)


def test_captioning_solver_overfits_small_data(tiny_shapes):
    data = tiny_shapes
    model = CaptioningRNN(data["word_to_idx"], input_dim=data["train_features"].shape[1],
                          wordvec_dim=16, hidden_dim=32, cell_type="lstm", seed=0)
    solver = CaptioningSolver(model, data, update_rule="adam", optim_config={"learning_rate": 1e-2},
                              num_epochs=25, batch_size=20, verbose=False, seed=0)
    solver.train()
    assert len(solver.loss_history) == 25 * 2
    assert len(solver.epoch_loss_history) == 26  # after the first iteration and every epoch
    assert solver.loss_history[-1] < 0.3 * solver.loss_history[0]
    assert solver.train_acc_history == [] and solver.val_acc_history == []
    assert solver.optim_configs["W_embed"]["t"] == 50


def test_captioning_solver_is_reproducible(tiny_shapes):
    def run():
        model = CaptioningRNN(tiny_shapes["word_to_idx"], input_dim=tiny_shapes["train_features"].shape[1],
                              wordvec_dim=8, hidden_dim=8, seed=0)
        solver = CaptioningSolver(model, tiny_shapes, num_epochs=2, batch_size=10, verbose=False, seed=5)
        solver.train()
        return solver.loss_history
    assert run() == run()


def test_captioning_solver_rejects_bad_options_and_data(tiny_shapes):
    model = CaptioningRNN(tiny_shapes["word_to_idx"], input_dim=tiny_shapes["train_features"].shape[1])
    with pytest.raises(ValueError, match="unknown Solver option"):
        CaptioningSolver(model, tiny_shapes, learning_rate=1e-3)
    with pytest.raises(ValueError, match="train_image_idxs"):
        CaptioningSolver(model, {"train_captions": tiny_shapes["train_captions"],
                                 "train_features": tiny_shapes["train_features"]})
    bad = dict(tiny_shapes, train_image_idxs=tiny_shapes["train_image_idxs"] + 1000)
    with pytest.raises(ValueError, match="must index rows"):
        CaptioningSolver(model, bad)
    bad = dict(tiny_shapes, train_captions=tiny_shapes["train_captions"].astype(np.float32))
    with pytest.raises(ValueError, match="integer array"):
        CaptioningSolver(model, bad)
