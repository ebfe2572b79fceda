"""Minibatch training loop for classification models.

A model only has to expose

- ``model.params``: dict mapping a parameter name to a numpy array;
- ``model.loss(X, y=None)``: class scores (N, C) when ``y`` is None, otherwise
  ``(loss, grads)`` where ``grads`` maps every name of ``params`` to an array
  of the same shape.

Typical use::

    solver = Solver(model, data, update_rule="adam",
                    optim_config={"learning_rate": 1e-3},
                    lr_decay=0.95, num_epochs=10, batch_size=100, seed=0)
    solver.train()
    plt.plot(solver.loss_history)

After ``train()`` the model holds the parameters that gave the best
validation accuracy (``solver.best_params``).
"""
import copy
import pickle

import numpy as np
from tqdm.auto import tqdm

from course_utils import optim
from course_utils.checks import check_array, check_keys, check_labels, check_positive_int
from course_utils.files import atomic_write

UPDATE_RULES = ("sgd", "sgd_momentum", "rmsprop", "adam")


class Solver:
    """Train a model with minibatch gradient descent and track its progress.

    Solver(model, data, **options)

    data: dict with ``X_train`` (N_train, ...), ``y_train`` (N_train,) integer
    labels, ``X_val`` (N_val, ...), ``y_val`` (N_val,).

    Options (keyword only; any other name raises ValueError):
    - update_rule: name of a rule in ``course_utils.optim`` ("sgd",
      "sgd_momentum", "rmsprop", "adam") or a callable with the same
      signature ``rule(w, dw, config) -> (next_w, config)``. Default "sgd".
    - optim_config: dict of hyperparameters handed to the update rule; every
      parameter gets its own deep copy (the rule keeps per-parameter state in
      it). Default {}.
    - lr_decay: after each epoch every config's learning_rate is multiplied
      by this. Default 1.0.
    - batch_size: examples per gradient step. Default 100.
    - num_epochs: passes over the training set. Default 10.
    - num_train_samples: training examples used to measure train accuracy
      each epoch (None = all). Default 1000.
    - num_val_samples: validation examples used each epoch (None = all).
    - checkpoint_name: if set, a pickle ``<checkpoint_name>_epoch_<e>.pkl`` is
      written after every epoch. Default None.
    - print_every: print the loss every this many iterations (if verbose).
    - verbose: print progress. Default True.
    - progress: show a progress bar over the iterations (with the latest
      loss) instead of printed lines. Default False.
    - seed: seed of ``np.random.default_rng`` that draws the minibatches
      (a second generator with the same seed draws accuracy subsamples), so
      a seeded run is reproducible. Default None.

    Attributes filled by ``train()``: ``loss_history`` (one float per
    iteration), ``train_acc_history`` and ``val_acc_history`` (one float per
    accuracy check: after the first iteration and after every epoch),
    ``best_val_acc``, ``best_params`` (copies of the params at the best
    validation accuracy, copied back into ``model.params`` when training ends),
    ``epoch``, ``optim_configs`` (one config dict per parameter).

    Hooks for subclasses (CaptioningSolver uses them):
    - ``data_keys``: class attribute, the keys ``data`` must have; each becomes
      an attribute of the solver (``self.X_train`` ...).
    - ``_check_data()``: validate the data beyond the keys.
    - ``_num_train_examples()``: size of the training set (sets the number of
      iterations per epoch).
    - ``_sample_batch()``: draw one minibatch and return the positional
      arguments of ``model.loss`` as a tuple.
    - ``_end_of_epoch(epoch)``: bookkeeping run after the first iteration
      (epoch 0) and after each completed epoch: here, measure train and
      validation accuracy and remember the best parameters.
    The loop in ``train()``, the update in ``_step()`` and the checkpointing
    are shared.
    """

    data_keys = ("X_train", "y_train", "X_val", "y_val")

    _defaults = {
        "update_rule": "sgd",
        "optim_config": None,
        "lr_decay": 1.0,
        "batch_size": 100,
        "num_epochs": 10,
        "num_train_samples": 1000,
        "num_val_samples": None,
        "checkpoint_name": None,
        "print_every": 10,
        "verbose": True,
        "progress": False,
        "seed": None,
    }

    def __init__(self, model, data, **kwargs):
        unknown = sorted(set(kwargs) - set(self._defaults))
        if unknown:
            raise ValueError(
                f"unknown Solver option(s) {unknown}; expected some of {sorted(self._defaults)}"
            )
        options = {**self._defaults, **kwargs}

        if not isinstance(getattr(model, "params", None), dict) or not callable(getattr(model, "loss", None)):
            raise ValueError("model must have a dict attribute 'params' and a method 'loss(X, y=None)'")
        if not isinstance(data, dict):
            raise ValueError(f"data must be a dict, got {type(data).__name__}")
        check_keys(data, "data", self.data_keys)
        self.model = model
        self.data = data
        for key in self.data_keys:
            setattr(self, key, data[key])
        self._check_data()

        self.update_rule = self._resolve_update_rule(options["update_rule"])
        self._update_rule_arg = options["update_rule"]
        optim_config = options["optim_config"]
        if optim_config is None:
            optim_config = {}
        if not isinstance(optim_config, dict):
            raise ValueError(f"optim_config must be a dict, got {type(optim_config).__name__}")
        self.optim_config = optim_config
        lr_decay = options["lr_decay"]
        if isinstance(lr_decay, bool) or not isinstance(lr_decay, (int, float)) or lr_decay <= 0:
            raise ValueError(f"lr_decay must be a positive number, got {lr_decay!r}")
        self.lr_decay = float(lr_decay)
        self.batch_size = check_positive_int(options["batch_size"], "batch_size")
        self.num_epochs = check_positive_int(options["num_epochs"], "num_epochs")
        self.num_train_samples = self._optional_count(options["num_train_samples"], "num_train_samples")
        self.num_val_samples = self._optional_count(options["num_val_samples"], "num_val_samples")
        self.checkpoint_name = options["checkpoint_name"]
        self.print_every = check_positive_int(options["print_every"], "print_every")
        self.verbose = bool(options["verbose"])
        self.progress = bool(options["progress"])
        self.seed = options["seed"]
        self.rng = np.random.default_rng(self.seed)
        self._eval_rng = np.random.default_rng(self.seed)

        self._reset()

    @staticmethod
    def _resolve_update_rule(rule):
        if callable(rule):
            return rule
        if isinstance(rule, str) and rule in UPDATE_RULES:
            return getattr(optim, rule)
        raise ValueError(f"update_rule must be one of {list(UPDATE_RULES)} or a callable, got {rule!r}")

    @staticmethod
    def _optional_count(value, name):
        return None if value is None else check_positive_int(value, name)

    def _check_data(self):
        """Validate X_train/y_train and X_val/y_val (shapes and labels)."""
        for split in ("train", "val"):
            X = check_array(self.data[f"X_{split}"], f"data['X_{split}']")
            if X.ndim < 2:
                raise ValueError(f"data['X_{split}'] must have shape (N, ...), got {X.shape}")
            check_labels(self.data[f"y_{split}"], f"data['y_{split}']", X.shape[0])

    def _reset(self):
        """Clear the histories and give every parameter a fresh optimizer config."""
        self.epoch = 0
        self.best_val_acc = 0.0
        self.best_params = {}
        self.loss_history = []
        self.train_acc_history = []
        self.val_acc_history = []
        self.optim_configs = {name: copy.deepcopy(self.optim_config) for name in self.model.params}

    def _num_train_examples(self):
        return self.X_train.shape[0]

    def _sample_batch(self):
        """Draw batch_size training examples (with replacement); return (X_batch, y_batch)."""
        idx = self.rng.choice(self._num_train_examples(), self.batch_size)
        return self.X_train[idx], self.y_train[idx]

    def _step(self):
        """One gradient step on one minibatch; appends the loss to loss_history."""
        loss, grads = self.model.loss(*self._sample_batch())
        self.loss_history.append(float(loss))
        for name, w in self.model.params.items():
            if name not in grads:
                raise ValueError(f"model.loss returned no gradient for parameter {name!r}")
            next_w, config = self.update_rule(w, grads[name], self.optim_configs[name])
            self.model.params[name] = next_w
            self.optim_configs[name] = config

    def _save_checkpoint(self):
        """Pickle the model and the training state to <checkpoint_name>_epoch_<epoch>.pkl.

        The file is written under a temporary name in the same folder and then
        renamed, so a crash never leaves a half-written checkpoint behind.
        """
        if self.checkpoint_name is None:
            return None
        checkpoint = {
            "model": self.model,
            "update_rule": self._update_rule_arg,
            "lr_decay": self.lr_decay,
            "optim_config": self.optim_config,
            "batch_size": self.batch_size,
            "num_train_samples": self.num_train_samples,
            "num_val_samples": self.num_val_samples,
            "epoch": self.epoch,
            "loss_history": self.loss_history,
            "train_acc_history": self.train_acc_history,
            "val_acc_history": self.val_acc_history,
        }
        filename = f"{self.checkpoint_name}_epoch_{self.epoch}.pkl"
        with atomic_write(filename) as f:
            pickle.dump(checkpoint, f)
        if self.verbose:
            print(f'Saved checkpoint to "{filename}"')
        return filename

    def check_accuracy(self, X, y, num_samples=None, batch_size=100):
        """Fraction of examples of X whose highest score is the label in y.

        X: (N, ...), y: (N,). num_samples: if set and smaller than N, measure on
        that many examples drawn without replacement. batch_size: examples per
        forward pass (bounds memory). Returns a float in [0, 1].
        """
        check_array(X, "X")
        check_labels(y, "y", X.shape[0])
        batch_size = check_positive_int(batch_size, "batch_size")
        N = X.shape[0]
        if num_samples is not None and N > num_samples:
            idx = self._eval_rng.choice(N, num_samples, replace=False)
            X, y = X[idx], y[idx]
            N = num_samples
        if N == 0:
            return 0.0
        predictions = []
        for start in range(0, N, batch_size):
            scores = self.model.loss(X[start:start + batch_size])
            predictions.append(np.argmax(scores, axis=1))
        return float(np.mean(np.concatenate(predictions) == y))

    def _end_of_epoch(self, epoch):
        """Measure train/val accuracy, print them and remember the best parameters."""
        train_acc = self.check_accuracy(self.X_train, self.y_train, num_samples=self.num_train_samples)
        val_acc = self.check_accuracy(self.X_val, self.y_val, num_samples=self.num_val_samples)
        self.train_acc_history.append(train_acc)
        self.val_acc_history.append(val_acc)
        if self.verbose:
            print(f"(Epoch {epoch} / {self.num_epochs}) train acc: {train_acc:.6f}; val_acc: {val_acc:.6f}")
        if val_acc > self.best_val_acc or not self.best_params:
            self.best_val_acc = val_acc
            self.best_params = {name: w.copy() for name, w in self.model.params.items()}

    def train(self):
        """Run num_epochs epochs of minibatch updates; then restore best_params."""
        iterations_per_epoch = max(self._num_train_examples() // self.batch_size, 1)
        num_iterations = self.num_epochs * iterations_per_epoch
        bar = tqdm(total=num_iterations, desc="training", unit="step", disable=not self.progress)
        for t in range(num_iterations):
            self._step()
            bar.update()
            if t % self.print_every == 0:
                bar.set_postfix(loss=f"{self.loss_history[-1]:.4f}", refresh=False)
            if self.verbose and t % self.print_every == 0:
                print(f"(Iteration {t + 1} / {num_iterations}) loss: {self.loss_history[-1]:.6f}")
            epoch_end = (t + 1) % iterations_per_epoch == 0
            if epoch_end:
                self.epoch += 1
                for config in self.optim_configs.values():
                    if "learning_rate" in config:
                        config["learning_rate"] *= self.lr_decay
            if t == 0 or epoch_end:
                self._end_of_epoch(self.epoch)
            if epoch_end:
                self._save_checkpoint()
        bar.close()
        for name, w in self.best_params.items():
            self.model.params[name] = w.copy()
