"""Solver: training loop, options, best-parameter restore and checkpoints.

The models here are small stand-ins written in this file so the loop is
tested on its own: a linear softmax classifier and a scripted model whose
validation accuracy is known in advance.
"""
import os
import pickle

import numpy as np
import pytest
from sklearn.datasets import load_digits

from course_utils import optim, solver as solver_module
from course_utils.solver import Solver


class LinearSoftmax:
    """scores = X @ W + b with a mean softmax cross-entropy loss."""

    def __init__(self, D, C, seed=0):
        rng = np.random.default_rng(seed)
        self.params = {"W": 1e-3 * rng.standard_normal((D, C)), "b": np.zeros(C)}

    def loss(self, X, y=None):
        X = X.reshape(X.shape[0], -1)
        scores = X @ self.params["W"] + self.params["b"]
        if y is None:
            return scores
        shifted = scores - scores.max(axis=1, keepdims=True)
        probs = np.exp(shifted)
        probs /= probs.sum(axis=1, keepdims=True)
        N = X.shape[0]
        loss = -np.mean(np.log(probs[np.arange(N), y]))
        dscores = probs
        dscores[np.arange(N), y] -= 1
        dscores /= N
        return loss, {"W": X.T @ dscores, "b": dscores.sum(axis=0)}


class Scripted:
    """Predicts class 1 only while w == 3, so the best validation check is known."""

    def __init__(self):
        self.params = {"w": np.array([0.0])}

    def loss(self, X, y=None):
        w = self.params["w"][0]
        scores = np.tile([-0.5, -abs(w - 3.0)], (X.shape[0], 1))
        if y is None:
            return scores
        return 0.0, {"w": np.zeros(1)}


def add_one(w, dw, config=None):
    config = {} if config is None else config
    config.setdefault("learning_rate", 1.0)
    return w + 1.0, config


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    X = (X[:50] / 16.0).reshape(50, 1, 8, 8)
    y = y[:50].astype(np.int64)
    return {"X_train": X, "y_train": y, "X_val": X, "y_val": y}


def scripted_data(n=10):
    X = np.zeros((n, 2))
    return {"X_train": X, "y_train": np.zeros(n, dtype=int), "X_val": X, "y_val": np.ones(n, dtype=int)}


@pytest.mark.parametrize(
    "rule, lr", [("sgd", 2.0), ("sgd_momentum", 0.2), ("rmsprop", 3e-2), ("adam", 5e-2)]
)
def test_overfits_small_digits_set(digits, rule, lr):
    model = LinearSoftmax(64, 10)
    solver = Solver(model, digits, update_rule=rule, optim_config={"learning_rate": lr},
                    batch_size=25, num_epochs=40, num_train_samples=None, verbose=False, seed=0)
    solver.train()
    assert len(solver.loss_history) == 40 * 2
    assert len(solver.train_acc_history) == len(solver.val_acc_history) == 41
    assert solver.loss_history[-1] < 0.5 * solver.loss_history[0]
    assert solver.best_val_acc == 1.0
    assert solver.check_accuracy(digits["X_train"], digits["y_train"]) == 1.0


def test_seeded_runs_repeat(digits):
    histories = []
    for _ in range(2):
        solver = Solver(LinearSoftmax(64, 10), digits, optim_config={"learning_rate": 0.5},
                        batch_size=10, num_epochs=2, num_train_samples=20, verbose=False, seed=3)
        solver.train()
        histories.append((solver.loss_history, solver.train_acc_history))
    assert histories[0] == histories[1]


def test_lr_decay_and_separate_configs(digits):
    optim_config = {"learning_rate": 0.1, "momentum": 0.5}
    model = LinearSoftmax(64, 10)
    solver = Solver(model, digits, update_rule="sgd_momentum", optim_config=optim_config,
                    lr_decay=0.5, batch_size=25, num_epochs=3, verbose=False)
    solver.train()
    assert optim_config == {"learning_rate": 0.1, "momentum": 0.5}
    assert set(solver.optim_configs) == {"W", "b"}
    for name, config in solver.optim_configs.items():
        assert config["learning_rate"] == pytest.approx(0.1 * 0.5**3, rel=1e-12)
        assert config["velocity"].shape == model.params[name].shape
    assert solver.optim_configs["W"] is not solver.optim_configs["b"]


def test_best_params_restored():
    model = Scripted()
    solver = Solver(model, scripted_data(), update_rule=add_one, batch_size=10, num_epochs=6, verbose=False)
    solver.train()
    # one iteration per epoch: the checks see w = 1, 2, ..., 6; only w = 3 predicts the labels
    assert solver.val_acc_history == [0.0, 0.0, 1.0, 0.0, 0.0, 0.0]
    assert solver.best_val_acc == 1.0
    assert solver.best_params["w"][0] == 3.0
    assert model.params["w"][0] == 3.0
    assert model.params["w"] is not solver.best_params["w"]


def test_verbose_output(capsys):
    Solver(Scripted(), scripted_data(), update_rule=add_one, batch_size=5, num_epochs=2, print_every=3).train()
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "(Iteration 1 / 4) loss: 0.000000"
    # w = 1 after the first iteration, 4 at the end: both predict class 0 everywhere
    assert "(Epoch 0 / 2) train acc: 1.000000; val_acc: 0.000000" in lines
    assert "(Iteration 4 / 4) loss: 0.000000" in lines
    assert lines[-1] == "(Epoch 2 / 2) train acc: 1.000000; val_acc: 0.000000"


def test_checkpoints_written_and_loadable(digits, tmp_path):
    name = str(tmp_path / "digits")
    solver = Solver(LinearSoftmax(64, 10), digits, update_rule="adam", batch_size=25, num_epochs=2,
                    checkpoint_name=name, verbose=False, seed=0)
    solver.train()
    assert sorted(os.listdir(tmp_path)) == ["digits_epoch_1.pkl", "digits_epoch_2.pkl"]
    with open(f"{name}_epoch_2.pkl", "rb") as f:
        checkpoint = pickle.load(f)
    assert checkpoint["epoch"] == 2
    assert checkpoint["update_rule"] == "adam"
    assert checkpoint["loss_history"] == solver.loss_history
    assert checkpoint["val_acc_history"] == solver.val_acc_history
    assert checkpoint["model"].params["W"].shape == (64, 10)
    assert checkpoint["model"].loss(digits["X_val"]).shape == (50, 10)


def test_checkpoint_write_is_atomic(digits, tmp_path, monkeypatch):
    solver = Solver(LinearSoftmax(64, 10), digits, checkpoint_name=str(tmp_path / "ck"), verbose=False)
    target = tmp_path / "ck_epoch_0.pkl"
    target.write_bytes(b"previous checkpoint")

    def broken_dump(obj, f):
        f.write(b"half a pick")
        raise OSError("disk full")

    monkeypatch.setattr(solver_module.pickle, "dump", broken_dump)
    with pytest.raises(OSError, match="disk full"):
        solver._save_checkpoint()
    assert os.listdir(tmp_path) == ["ck_epoch_0.pkl"]
    assert target.read_bytes() == b"previous checkpoint"


def test_check_accuracy_batches_and_subsamples():
    class Identity:
        params = {}

        def loss(self, X, y=None):
            return X

    X = np.eye(3)[[0, 1, 2, 0, 1, 2, 0]]
    y = np.array([0, 1, 2, 0, 0, 0, 0])
    solver = Solver(Identity(), {"X_train": X, "y_train": y, "X_val": X, "y_val": y}, seed=0)
    assert solver.check_accuracy(X, y, batch_size=3) == pytest.approx(5 / 7)
    # a subsample of the 6 correct examples is always fully right
    right = y == np.argmax(X, axis=1)
    assert solver.check_accuracy(X[right], y[right], num_samples=2, batch_size=1) == 1.0


def test_update_rule_resolution(digits):
    assert Solver(LinearSoftmax(64, 10), digits, update_rule="rmsprop").update_rule is optim.rmsprop
    assert Solver(LinearSoftmax(64, 10), digits, update_rule=add_one).update_rule is add_one


def test_bad_options_raise(digits):
    model = LinearSoftmax(64, 10)
    with pytest.raises(ValueError, match=r"unknown Solver option\(s\) \['learning_rate', 'momentum'\]"):
        Solver(model, digits, learning_rate=1e-3, momentum=0.9)
    with pytest.raises(ValueError, match=r"data is missing key\(s\) \['y_val'\]"):
        Solver(model, {k: v for k, v in digits.items() if k != "y_val"})
    with pytest.raises(ValueError, match="update_rule must be one of"):
        Solver(model, digits, update_rule="newton")
    with pytest.raises(ValueError, match="batch_size must be an integer >= 1, got 0"):
        Solver(model, digits, batch_size=0)
    with pytest.raises(ValueError, match="lr_decay must be a positive number"):
        Solver(model, digits, lr_decay=-1)
    with pytest.raises(ValueError, match=r"data\['y_train'\] must have shape \(50,\)"):
        Solver(model, {**digits, "y_train": digits["y_train"][:10]})
    with pytest.raises(ValueError, match="model must have a dict attribute 'params'"):
        Solver(object(), digits)


def test_missing_gradient_raises(digits):
    class NoGradForB(LinearSoftmax):
        def loss(self, X, y=None):
            out = super().loss(X, y)
            if y is None:
                return out
            return out[0], {"W": out[1]["W"]}

    solver = Solver(NoGradForB(64, 10), digits, verbose=False)
    with pytest.raises(ValueError, match="no gradient for parameter 'b'"):
        solver.train()
