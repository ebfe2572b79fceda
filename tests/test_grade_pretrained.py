"""The grader trains a manifest's pretrained networks once (trusted side) and gives every
sandbox read-only copies, so reference notebooks load them instead of training."""
import os
import stat
from pathlib import Path

import numpy as np

from course_utils import pretrained
from course_utils.grading.harness import sandbox as sandboxes
from course_utils.grading.manifest import manifest_from_dict
from course_utils.pretrained import Recipe, load_checkpoint

TINY = Recipe(dataset="digits", num_filters=(4, 8), hidden_dim=16, num_epochs=1, learning_rate=3e-3, batch_size=50,
              flip=False, dropout_keep_ratio=1.0, seed=0)
QUESTION = {"title": "Q", "points": 1, "cells": ["graded:nb.q"]}


def test_checkpoints_are_built_once_in_the_source_and_copied_read_only(tmp_path, monkeypatch):
    monkeypatch.setitem(pretrained.TASKS, "all_classes", TINY)
    monkeypatch.delenv(pretrained.CACHE_ENV, raising=False)
    runs = []
    original = pretrained.train
    monkeypatch.setattr(pretrained, "train", lambda recipe, progress=True: runs.append(recipe) or original(recipe, False))
    source = tmp_path / "source"
    manifest = manifest_from_dict({"assignment": "assignment3", "pretrained": ["all_classes"],
                                   "questions": {"q": QUESTION}})
    paths = sandboxes.pretrained_checkpoints(source, manifest)
    assert paths == [source / "datasets" / "pretrained" / "digits-all_classes.npz"]
    assert sandboxes.pretrained_checkpoints(source, manifest) == paths and len(runs) == 1

    release = tmp_path / "release"
    (release / "course_utils").mkdir(parents=True)
    (release / "course_utils" / "__init__.py").write_text("")
    (source / "course_utils").mkdir()
    context = sandboxes.BatchContext(source, "assignment3", release, tmp_path / "ref", tmp_path / "grader",
                                     tmp_path / "worker", [], [], [], paths)
    box = sandboxes.build(context, {}, tmp_path / "job")
    copy = box.kit / "datasets" / "pretrained" / "digits-all_classes.npz"
    assert copy.read_bytes() == paths[0].read_bytes()
    assert stat.S_IMODE(os.stat(copy).st_mode) == 0o444
    assert not copy.is_symlink()
    # what a kernel in that kit finds: the same network, without training
    monkeypatch.setenv("COURSE_DATA_DIR", str(box.kit / "datasets"))
    net = pretrained.pretrained_net("all_classes")
    assert len(runs) == 1 and Path(net.checkpoint) == copy
    reference, _ = load_checkpoint(paths[0])
    assert all(np.array_equal(net.params[k], reference.params[k]) for k in net.params)


def test_no_pretrained_networks_no_datasets_folder(tmp_path):
    release = tmp_path / "release"
    (release / "course_utils").mkdir(parents=True)
    (tmp_path / "source" / "course_utils").mkdir(parents=True)
    context = sandboxes.BatchContext(tmp_path / "source", "assignment1", release, tmp_path / "ref",
                                     tmp_path / "grader", tmp_path / "worker", [], [], [])
    box = sandboxes.build(context, {}, tmp_path / "job")
    assert not (box.kit / "datasets").exists()
