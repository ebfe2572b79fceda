"""The kit's own pretrained ConvNet: trained once, cached as an ``.npz`` checkpoint, reused.

Assignment 3's NetworkVisualization and TransferLearning notebooks study a trained
``DeepConvNet``. ``pretrained_net(task)`` returns one, training it on first use
(a few minutes on 2 cores, with a progress bar) and loading the checkpoint after::

    net = pretrained_net("all_classes")   # every class of the best dataset present
    net = pretrained_net("classes_0_4")   # only classes 0-4: the transfer notebook's source task

A **recipe** (``Recipe``) fixes everything training depends on: dataset, classes,
architecture, optimiser settings, epochs and seed. The checkpoint stores its recipe
and a SHA-256 digest of its contents; it is reused only while the recipe is the same
(a changed recipe retrains and replaces it) and a file whose digest does not match
raises ``CheckpointError`` naming the file and the command that rebuilds it.
Checkpoints are written atomically into the cache folder: ``$COURSE_KIT_CACHE``, else
``datasets/pretrained`` of the kit. ``course-kit pretrain`` builds them ahead of time.
"""
import contextlib
import dataclasses
import fcntl
import hashlib
import json
import os
import time
import zipfile
from pathlib import Path

import numpy as np

from course_utils.classifiers.deep_conv_net import DeepConvNet
from course_utils.data_utils import data_dir, load_dataset, resolve_dataset_name
from course_utils.files import atomic_write
from course_utils.solver import Solver

CACHE_ENV = "COURSE_KIT_CACHE"
FORMAT_VERSION = 2  # 2: dropout and separate flip / shift settings
REBUILD = "course-kit pretrain --force"


class CheckpointError(RuntimeError):
    """A checkpoint file is unreadable or its contents do not match its digest."""


@dataclasses.dataclass(frozen=True)
class Recipe:
    """Everything a pretrained network depends on; two equal recipes give the same training run.

    dataset: registry name, or "auto" (resolved when training: cifar10 > fashion_mnist > digits).
    classes: original labels kept, relabelled 0..k-1 in this order (None = all classes).
    num_training: training images taken before the class filter (None = all).
    flip: each training image is flipped left-right with probability 1/2;
    shift: and moved by up to this many pixels along each axis (edge pixels repeated).
    average: the weight-averaging decay of AugmentingSolver (None = keep the best-validation weights).
    The rest are DeepConvNet and Solver settings (Adam).
    """
    dataset: str = "auto"
    classes: tuple | None = None
    num_training: int | None = None
    num_filters: tuple = (8, 32)
    hidden_dim: int = 256
    reg: float = 1e-4
    learning_rate: float = 1.5e-3
    lr_decay: float = 0.75
    batch_size: int = 50
    num_epochs: int = 7
    seed: int = 0
    flip: bool = False
    shift: int = 0
    dropout_keep_ratio: float = 0.5
    average: float | None = 0.998

    def resolved(self):
        """This recipe with "auto" replaced by the dataset it picks on this machine."""
        if self.dataset != "auto":
            return self
        return dataclasses.replace(self, dataset=resolve_dataset_name("auto")[0])

    def as_json(self):
        fields = dataclasses.asdict(self)
        fields["classes"] = None if self.classes is None else list(self.classes)
        fields["num_filters"] = list(self.num_filters)
        return json.dumps({"format": FORMAT_VERSION, **fields}, sort_keys=True)


TASKS = {
    "all_classes": Recipe(),
    "classes_0_4": Recipe(classes=(0, 1, 2, 3, 4)),
}


def cache_dir():
    """Folder of the checkpoints: $COURSE_KIT_CACHE, else ``<datasets folder>/pretrained``."""
    env = os.environ.get(CACHE_ENV)
    return Path(env) if env else data_dir() / "pretrained"


def checkpoint_path(task, recipe, folder=None):
    """Where the checkpoint of ``task`` trained by ``recipe`` (resolved) lives in ``folder``
    (default ``cache_dir()``)."""
    return Path(folder or cache_dir()) / f"{recipe.dataset}-{task}.npz"


def pretrained_net(task="all_classes", recipe=None, progress=True, rebuild=False, folder=None):
    """A trained DeepConvNet for ``task`` (a name of TASKS), from the cache or trained now.

    recipe: overrides TASKS[task] (tests use tiny ones). rebuild: train even if cached.
    folder: the checkpoint folder (default ``cache_dir()``).
    The model gets attributes ``class_names``, ``test_accuracy``, ``recipe`` and ``checkpoint``.
    Raises CheckpointError for a corrupt checkpoint (delete it or run ``course-kit pretrain --force``).
    """
    if recipe is None:
        if task not in TASKS:
            raise ValueError(f"unknown task {task!r}; expected one of {sorted(TASKS)} or a recipe")
        recipe = TASKS[task]
    recipe = recipe.resolved()
    path = checkpoint_path(task, recipe, folder)
    with _training_lock(path):
        if path.exists() and not rebuild:
            arrays = read_checkpoint(path)
            if str(arrays["recipe"]) == recipe.as_json():
                return _model_from(arrays, path)
            print(f"{path} was trained by another recipe (or an older kit); training again.")
        model = train(recipe, progress=progress)
        save_checkpoint(path, model, recipe)
    model.checkpoint = str(path)
    return model


@contextlib.contextmanager
def _training_lock(path):
    """Hold ``<path>.lock`` (an exclusive flock): a second process asking for the same network
    waits for the first one's training instead of training too. A folder that cannot hold the
    lock (read-only, as in the grader's sandbox) is used without it."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path.with_name(path.name + ".lock"), "a")
    except OSError:
        yield
        return
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def task_data(recipe):
    """load_dataset splits of the recipe's dataset, keeping (and relabelling) its classes."""
    data = load_dataset(recipe.dataset, num_training=recipe.num_training)
    if recipe.classes is None:
        return data
    classes = np.asarray(recipe.classes)
    relabel = {int(c): i for i, c in enumerate(classes)}
    for split in ("train", "val", "test"):
        keep = np.isin(data[f"y_{split}"], classes)
        data[f"X_{split}"] = data[f"X_{split}"][keep]
        data[f"y_{split}"] = np.array([relabel[int(c)] for c in data[f"y_{split}"][keep]], dtype=np.int64)
    data["class_names"] = [data["class_names"][int(c)] for c in classes]
    return data


def train(recipe, progress=True):
    """Train a DeepConvNet by ``recipe`` (resolved); return it with its test accuracy set."""
    data = task_data(recipe)
    pixels = data["X_train"] / 255.0
    mean, std = pixels.mean(axis=(0, 1, 2)), pixels.std(axis=(0, 1, 2))
    _, H, W, C = data["X_train"].shape
    model = DeepConvNet(input_dim=(C, H, W), num_filters=recipe.num_filters, hidden_dim=recipe.hidden_dim,
                        num_classes=len(data["class_names"]), reg=recipe.reg, seed=recipe.seed, mean=mean, std=std,
                        dropout_keep_ratio=recipe.dropout_keep_ratio)
    splits = {f"{k}_{s}": data[f"{k}_{s}"] if k == "y" else model.preprocess(data[f"{k}_{s}"])
              for k in ("X", "y") for s in ("train", "val")}
    start = time.monotonic()
    solver = AugmentingSolver(model, splits, flip=recipe.flip, shift=recipe.shift, average=recipe.average,
                              update_rule="adam", optim_config={"learning_rate": recipe.learning_rate},
                              lr_decay=recipe.lr_decay, batch_size=recipe.batch_size, num_epochs=recipe.num_epochs,
                              num_val_samples=None, verbose=False, progress=progress, seed=recipe.seed)
    solver.train()
    model.training_seconds = time.monotonic() - start
    model.class_names = list(data["class_names"])
    model.test_accuracy = accuracy(model, model.preprocess(data["X_test"]), data["y_test"])
    model.recipe = recipe
    if progress:
        print(f"trained on {recipe.dataset} in {model.training_seconds:.0f} s: "
              f"test accuracy {model.test_accuracy:.4f}")
    return model


class AugmentingSolver(Solver):
    """A Solver whose minibatches (N, C, H, W) are randomly flipped left-right and shifted,
    and which can average its weights.

    flip: flip each image with probability 1/2. shift: largest shift in pixels along each
    axis (edge pixels fill the border). Both draw from the solver's generator.
    average: None, or a decay d in (0, 1): after step t the solver updates a running
    average of the parameters, ``avg = d_t * avg + (1 - d_t) * params`` with
    ``d_t = min(d, (t - 1) / t)``, and training ends with that average in the model instead
    of the best-validation parameters. So the average is the plain mean of the steps so
    far until there are 1 / (1 - d) of them, then weighs about the last 1 / (1 - d) steps:
    it smooths out the noise of the final minibatch updates, and a short run still ends
    on its own trained weights rather than near the initial ones.
    """

    def __init__(self, model, data, flip=False, shift=0, average=None, **kwargs):
        self.flip, self.shift = bool(flip), int(shift)
        if average is not None and not 0.0 < average < 1.0:
            raise ValueError(f"average must be None or a decay in (0, 1), got {average!r}")
        self.average = average
        super().__init__(model, data, **kwargs)

    def _reset(self):
        super()._reset()
        self.averaged_params = None

    def _sample_batch(self):
        X, y = super()._sample_batch()
        if self.flip:
            flipped = self.rng.random(len(X)) < 0.5
            X = np.where(flipped[:, None, None, None], X[..., ::-1], X)
        if self.shift:
            s = self.shift
            padded = np.pad(X, ((0, 0), (0, 0), (s, s), (s, s)), mode="edge")
            H, W = X.shape[2:]
            dy, dx = self.rng.integers(0, 2 * s + 1, size=(2, len(X)))
            rows = (dy[:, None] + np.arange(H))[:, :, None]       # (N, H, 1)
            cols = (dx[:, None] + np.arange(W))[:, None, :]       # (N, 1, W)
            n = np.arange(len(X))[:, None, None]
            X = padded.transpose(0, 2, 3, 1)[n, rows, cols].transpose(0, 3, 1, 2)   # via (N, H, W, C)
        return np.ascontiguousarray(X), y

    def _step(self):
        super()._step()
        if self.average is None:
            return
        if self.averaged_params is None:
            self.averaged_params = {k: v.copy() for k, v in self.model.params.items()}
            return
        steps = len(self.loss_history)       # one loss per step since the last reset
        decay = min(self.average, (steps - 1) / steps)
        for name, value in self.model.params.items():
            average = self.averaged_params[name]
            average *= decay
            average += (1.0 - decay) * value

    def train(self):
        super().train()
        if self.averaged_params is not None:
            self.model.params.update({k: v.copy() for k, v in self.averaged_params.items()})


def accuracy(model, X, y, batch_size=500):
    """Fraction of X (N, C, H, W) whose highest score is the label y (N,)."""
    predictions = [np.argmax(model.loss(X[i:i + batch_size]), axis=1) for i in range(0, len(X), batch_size)]
    return float(np.mean(np.concatenate(predictions) == y)) if len(X) else 0.0


def _digest(arrays):
    digest = hashlib.sha256()
    for name in sorted(arrays):
        value = np.ascontiguousarray(arrays[name])
        digest.update(f"{name}:{value.dtype.str}:{value.shape}".encode())
        digest.update(value.tobytes())
    return digest.hexdigest()


def save_checkpoint(path, model, recipe):
    """Write ``model`` (parameters, statistics, class names, recipe) atomically to ``path``."""
    arrays = {f"param_{k}": v for k, v in model.params.items()}
    arrays.update(mean=model.mean, std=model.std, recipe=np.array(recipe.as_json()),
                  class_names=np.array(json.dumps(model.class_names)),
                  test_accuracy=np.array(model.test_accuracy), input_dim=np.array(model.input_dim))
    arrays["digest"] = np.array(_digest(arrays))
    with atomic_write(path) as f:
        np.savez(f, **arrays)


def read_checkpoint(path):
    """{name: array} of a checkpoint whose digest matches; CheckpointError if it is damaged."""
    path = Path(path)
    problem = f"checkpoint {path} is damaged"
    fix = f"delete it, or run `{REBUILD}` to train it again"
    try:
        with np.load(path, allow_pickle=False) as stored:
            arrays = {k: stored[k] for k in stored.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise CheckpointError(f"{problem} ({exc}); {fix}") from None
    if "digest" not in arrays or "recipe" not in arrays or str(arrays.pop("digest")) != _digest(arrays):
        raise CheckpointError(f"{problem} (its contents do not match its checksum); {fix}")
    return arrays


def load_checkpoint(path):
    """(DeepConvNet, recipe JSON) from a checkpoint of this kit's format; CheckpointError if it
    is damaged or was written by another version of the kit."""
    arrays = read_checkpoint(path)
    return _model_from(arrays, Path(path)), str(arrays["recipe"])


def _model_from(arrays, path):
    recipe = json.loads(str(arrays["recipe"]))
    if recipe.get("format") != FORMAT_VERSION:
        raise CheckpointError(f"checkpoint {path} has format {recipe.get('format')!r}, this kit reads "
                              f"{FORMAT_VERSION}; run `{REBUILD}`")
    fields = {k: tuple(v) if isinstance(v, list) else v for k, v in recipe.items() if k != "format"}
    params = {k[len("param_"):]: v for k, v in arrays.items() if k.startswith("param_")}
    model = DeepConvNet(input_dim=tuple(int(d) for d in arrays["input_dim"]), num_filters=fields["num_filters"],
                        hidden_dim=fields["hidden_dim"], num_classes=params["W6"].shape[1], reg=fields["reg"],
                        dtype=params["W1"].dtype, mean=arrays["mean"], std=arrays["std"],
                        dropout_keep_ratio=fields["dropout_keep_ratio"])
    model.params = params
    model.class_names = json.loads(str(arrays["class_names"]))
    model.test_accuracy = float(arrays["test_accuracy"])
    model.recipe = Recipe(**fields)
    model.checkpoint = str(path)
    return model
