"""The pretrained-network cache: training once, reuse, a changed recipe, damaged files, atomic
writes, the class filter, augmentation and ``course-kit pretrain``."""
import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from course_utils import pretrained
from course_utils.cli import main as cli
from course_utils.pretrained import (
    AugmentingSolver,
    CheckpointError,
    Recipe,
    cache_dir,
    load_checkpoint,
    pretrained_net,
    task_data,
)

TINY = Recipe(dataset="digits", num_filters=(4, 8), hidden_dim=16, num_epochs=3, learning_rate=3e-3, batch_size=50,
              flip=False, dropout_keep_ratio=1.0, seed=0)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty cache folder, and a count of the training runs."""
    monkeypatch.setenv(pretrained.CACHE_ENV, str(tmp_path / "cache"))
    runs = []
    original = pretrained.train

    def counted(recipe, progress=True):
        runs.append(recipe)
        return original(recipe, progress=progress)

    monkeypatch.setattr(pretrained, "train", counted)
    return tmp_path / "cache", runs


def test_trains_once_then_reuses_the_checkpoint(cache):
    folder, runs = cache
    first = pretrained_net("tiny", recipe=TINY, progress=False)
    assert len(runs) == 1
    assert first.checkpoint == str(folder / "digits-tiny.npz")
    assert 0.2 < first.test_accuracy <= 1.0            # three epochs of a tiny net: far better than chance (0.1)
    assert len(first.class_names) == 10
    second = pretrained_net("tiny", recipe=TINY, progress=False)
    assert len(runs) == 1                              # loaded, not trained
    assert second.recipe == TINY
    assert second.test_accuracy == first.test_accuracy
    for name, value in first.params.items():
        assert np.array_equal(second.params[name], value)
    assert np.allclose(second.mean, first.mean) and np.allclose(second.std, first.std)
    X = second.preprocess(task_data(TINY)["X_test"][:5])
    assert np.array_equal(second.loss(X), first.loss(X))


def test_a_changed_recipe_trains_again_and_replaces_the_file(cache, capsys):
    folder, runs = cache
    pretrained_net("tiny", recipe=TINY, progress=False)
    changed = dataclasses.replace(TINY, seed=1)
    net = pretrained_net("tiny", recipe=changed, progress=False)
    assert len(runs) == 2 and runs[1] == changed
    assert "another recipe" in capsys.readouterr().out
    _, stored = load_checkpoint(folder / "digits-tiny.npz")
    assert json.loads(stored)["seed"] == 1
    assert net.recipe == changed
    pretrained_net("tiny", recipe=changed, progress=False)
    assert len(runs) == 2


def test_rebuild_trains_even_when_cached(cache):
    _, runs = cache
    pretrained_net("tiny", recipe=TINY, progress=False)
    pretrained_net("tiny", recipe=TINY, progress=False, rebuild=True)
    assert len(runs) == 2


@pytest.mark.parametrize("damage", ["truncate", "flip_byte", "edit_array", "garbage"])
def test_a_damaged_checkpoint_raises_a_clear_error(cache, damage):
    folder, runs = cache
    pretrained_net("tiny", recipe=TINY, progress=False)
    path = folder / "digits-tiny.npz"
    data = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "flip_byte":
        # inside the stored (uncompressed) parameters: the zip still opens, the digest catches it
        with np.load(path) as stored:
            w = stored["param_W5"]
        offset = data.find(w.tobytes()[:64])
        assert offset > 0
        path.write_bytes(data[:offset] + bytes([data[offset] ^ 0xFF]) + data[offset + 1:])
    elif damage == "edit_array":
        with np.load(path) as stored:
            arrays = {k: stored[k] for k in stored.files}
        arrays["param_b6"] = arrays["param_b6"] + 1.0
        with open(path, "wb") as f:
            np.savez(f, **arrays)
    else:
        path.write_bytes(b"not a checkpoint at all")
    with pytest.raises(CheckpointError) as caught:
        pretrained_net("tiny", recipe=TINY, progress=False)
    message = str(caught.value)
    assert str(path) in message and "course-kit pretrain --force" in message
    assert len(runs) == 1                              # nothing retrained silently
    pretrained_net("tiny", recipe=TINY, progress=False, rebuild=True)
    assert load_checkpoint(path)[0].test_accuracy > 0.2


def test_a_failed_write_leaves_the_old_checkpoint(cache, monkeypatch):
    folder, _ = cache
    net = pretrained_net("tiny", recipe=TINY, progress=False)
    before = (folder / "digits-tiny.npz").read_bytes()

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken)
    with pytest.raises(OSError, match="disk full"):
        pretrained.save_checkpoint(folder / "digits-tiny.npz", net, TINY)
    assert (folder / "digits-tiny.npz").read_bytes() == before
    assert sorted(p.name for p in folder.iterdir()) == ["digits-tiny.npz", "digits-tiny.npz.lock"]


def test_cache_folder_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(pretrained.CACHE_ENV, str(tmp_path / "elsewhere"))
    assert cache_dir() == tmp_path / "elsewhere"
    monkeypatch.delenv(pretrained.CACHE_ENV)
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "data"))
    assert cache_dir() == tmp_path / "data" / "pretrained"


def test_class_filter_keeps_and_relabels():
    data = task_data(dataclasses.replace(TINY, classes=(7, 3)))
    for split in ("train", "val", "test"):
        assert set(np.unique(data[f"y_{split}"])) == {0, 1}
        assert len(data[f"X_{split}"]) == len(data[f"y_{split}"])
    assert data["class_names"] == [task_data(TINY)["class_names"][c] for c in (7, 3)]
    full = task_data(TINY)
    assert len(data["y_train"]) == int(np.sum(np.isin(full["y_train"], [7, 3])))


def test_augmented_batches_are_flipped_and_shifted_copies():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 1, 6, 6))
    data = {"X_train": X, "y_train": np.arange(30) % 3, "X_val": X, "y_val": np.arange(30) % 3}

    class Model:
        params = {"w": np.zeros(1)}

        def loss(self, X, y=None):
            return np.zeros((len(X), 3))

    solver = AugmentingSolver(Model(), data, flip=True, shift=1, batch_size=30, seed=0, verbose=False)
    batch, _ = solver._sample_batch()
    assert batch.shape == (30, 1, 6, 6)
    replay = AugmentingSolver(Model(), data, batch_size=30, seed=0, verbose=False)
    originals, _ = replay._sample_batch()           # same generator: the same images, unaugmented
    moved = 0
    for image, original in zip(batch, originals):
        padded = [np.pad(o, ((0, 0), (1, 1), (1, 1)), mode="edge") for o in (original, original[..., ::-1])]
        candidates = [p[:, dy:dy + 6, dx:dx + 6] for p in padded for dy in range(3) for dx in range(3)]
        assert any(np.array_equal(image, c) for c in candidates)
        moved += not np.array_equal(image, original)
    assert moved > 15


def test_weight_averaging_ends_with_the_running_average():
    X = np.zeros((30, 1, 2, 2))
    data = {"X_train": X, "y_train": np.arange(30) % 3, "X_val": X, "y_val": np.arange(30) % 3}

    class Model:   # every step's gradient is 1, so plain SGD with rate 1 walks w = -1, -2, -3
        def __init__(self):
            self.params = {"w": np.zeros(1)}

        def loss(self, X, y=None):
            return np.zeros((len(X), 3)) if y is None else (0.0, {"w": np.ones(1)})

    options = dict(update_rule="sgd", optim_config={"learning_rate": 1.0}, batch_size=6, num_epochs=1,
                   seed=0, verbose=False)
    model = Model()
    AugmentingSolver(model, data, average=0.6, **options).train()
    # the plain mean while there are fewer than 1 / (1 - 0.6) = 2.5 steps: -1, then -1.5;
    # then decay 0.6: 0.6 * -1.5 + 0.4 * -3 = -2.1, 0.6 * -2.1 + 0.4 * -4 = -2.86, 0.6 * -2.86 + 0.4 * -5
    assert model.params["w"] == pytest.approx([-3.716])
    plain = Model()
    AugmentingSolver(plain, data, **options).train()
    assert plain.params["w"] == pytest.approx([-1.0])     # no averaging: the best-validation (first) weights
    with pytest.raises(ValueError, match="average must be None or a decay in"):
        AugmentingSolver(Model(), data, average=1.0, **options)


def test_pretrain_command(cache, monkeypatch, capsys):
    _, runs = cache
    monkeypatch.setattr(pretrained, "TASKS", {"tiny": TINY})
    monkeypatch.setattr("course_utils.tools.pretrain.TASKS", {"tiny": TINY})
    assert cli(["pretrain", "--quiet"]) == 0
    assert cli(["pretrain", "tiny", "--quiet"]) == 0
    assert len(runs) == 1
    out = capsys.readouterr().out
    assert "tiny: digits, 10 classes, test accuracy" in out
    assert cli(["pretrain", "nonsense"]) == 2
    assert "unknown task" in capsys.readouterr().out


def test_unknown_task_is_refused():
    with pytest.raises(ValueError, match="unknown task 'nonsense'"):
        pretrained_net("nonsense")


def test_a_checkpoint_of_an_older_recipe_format_is_retrained(cache):
    folder, runs = cache
    net = pretrained_net("tiny", recipe=TINY, progress=False)
    old = json.loads(TINY.as_json())
    old["format"] = 1
    del old["dropout_keep_ratio"]
    path = folder / "digits-tiny.npz"
    with np.load(path) as stored:
        arrays = {k: stored[k] for k in stored.files if k != "digest"}
    arrays["recipe"] = np.array(json.dumps(old, sort_keys=True))
    arrays["digest"] = np.array(pretrained._digest(arrays))
    with open(path, "wb") as f:
        np.savez(f, **arrays)
    with pytest.raises(CheckpointError, match="format 1"):
        load_checkpoint(path)
    again = pretrained_net("tiny", recipe=TINY, progress=False)
    assert len(runs) == 2 and again.recipe == TINY and net.recipe == TINY


def test_two_processes_asking_at_once_train_once(cache, tmp_path):
    folder, _ = cache
    script = tmp_path / "ask.py"
    script.write_text(
        "import sys\n"
        "sys.path.insert(0, sys.argv[1])\n"
        "from test_pretrained import TINY\n"
        "from course_utils import pretrained\n"
        "calls = []\n"
        "original = pretrained.train\n"
        "pretrained.train = lambda recipe, progress=True: calls.append(1) or original(recipe, False)\n"
        "pretrained.pretrained_net('tiny', recipe=TINY, progress=False)\n"
        "print('trained' if calls else 'loaded')\n")
    env = {**os.environ, pretrained.CACHE_ENV: str(folder), "OPENBLAS_NUM_THREADS": "1"}
    tests = str(Path(__file__).parent)
    procs = [subprocess.Popen([sys.executable, str(script), tests], env=env, stdout=subprocess.PIPE, text=True)
             for _ in range(2)]
    outputs = sorted(p.communicate(timeout=300)[0].strip() for p in procs)
    assert outputs == ["loaded", "trained"]
    assert sorted(p.name for p in folder.iterdir()) == ["digits-tiny.npz", "digits-tiny.npz.lock"]
