"""An independent second solution set (tests/alt_solutions/, put into the release by
tests/alt_kit.py) graded as a submission scores full marks, question by question, with every
hidden test and every graded reference notebook; and one mutant per question (a genuine bug in
the reference solution) loses points on its own question, and elsewhere only on questions
whose checks run the mutated function (alt_kit.CALLS).

All grading runs start together (one process per batch, the machine's cores shared) and the
tests read their results: the full-notebook runs take minutes, the mutant batches seconds.
Each batch reserves its own job slots (one uid each) machine-wide, so they run side by side.
Mutants are graded with the hidden tests only: ``--manifest`` with a copy of the manifest
whose questions keep their hidden tests and drop their graded cells (``grade`` has no
``--no-notebooks``); a notebook would cost tens of seconds per mutant.
"""
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from alt_kit import (
    MUTANTS,
    load_alternatives,
    may_lose,
    mutate,
    region_keys,
    write_alt_kit,
    write_mutant,
)
from toy_kit import REPO, check_results_schema

from course_utils.grading.collect import write_zip
from course_utils.grading.kit import assignments, editable_modules, notebooks
from course_utils.grading.manifest import load_manifest
from course_utils.tools.release import write_release

ASSIGNMENTS = [a for a in assignments(REPO) if (REPO / "grading" / a / "manifest.toml").exists()]
GRADE_TIMEOUT = 2400  # seconds for all batches together (6 to 10 minutes on 2 shared cores)


def manifest_of(assignment):
    return load_manifest(REPO / "grading" / assignment / "manifest.toml")


def named_modules():
    """Kit-relative paths of the modules whose functions a manifest question names."""
    return sorted({target.split("::")[0] for a in ASSIGNMENTS for q in manifest_of(a).questions.values()
                   for target in q.functions})


def without_cells(text):
    """Manifest text with every question's ``cells = [...]`` (one or several lines) emptied."""
    out, skipping = [], False
    for line in text.splitlines():
        if skipping:
            skipping = "]" not in line
            continue
        if re.match(r"^\s*cells\s*=\s*\[", line):
            out.append("cells = []")
            skipping = "]" not in line
            continue
        out.append(line)
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------------------------
# what the two sets cover
# ---------------------------------------------------------------------------------------------

def test_every_region_of_every_graded_module_has_an_alternative():
    alternatives = load_alternatives()
    for rel in named_modules():
        assert rel in alternatives, f"no tests/alt_solutions file for {rel}"
        text = (REPO / rel).read_text(encoding="utf-8")
        _, keys = region_keys(text, rel)
        assert sorted(map(str, keys)) == sorted(map(str, alternatives[rel])), rel
    assert set(alternatives) == set(named_modules()), "alternatives for a module no question names"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_one_mutant_per_question_in_its_own_code(assignment):
    manifest = manifest_of(assignment)
    mutants = MUTANTS[assignment]
    assert sorted(m.question for m in mutants) == sorted(manifest.questions), "one mutant per question"
    for mutant in mutants:
        question = manifest.questions[mutant.question]
        targets = question.functions or [f for q in manifest.questions.values() for f in q.functions]
        assert f"{mutant.path}::{mutant.function}" in targets, mutant
        text = (REPO / mutant.path).read_text(encoding="utf-8")
        assert mutate(text, mutant) != text  # the fragment occurs exactly once in the function's regions


# ---------------------------------------------------------------------------------------------
# (a) in process: the alternative modules give the reference's values
# ---------------------------------------------------------------------------------------------

PROBE = r'''
import json, sys
import numpy as np
import course_utils
from course_utils import layers as L, optim, rnn_layers as R
from course_utils.classifiers import (cnn, fc_net, k_nearest_neighbor, linear_classifier, linear_svm, neural_net,
                                      rnn, softmax)
from course_utils import char_rnn

assert course_utils.__file__.startswith(sys.argv[1]), course_utils.__file__
out = {}
r = np.random.default_rng(0)

def put(name, value):
    if isinstance(value, dict):
        for key in sorted(value):
            put(f"{name}.{key}", value[key])
    elif isinstance(value, (tuple, list)) and not np.isscalar(value):
        for i, v in enumerate(value):
            put(f"{name}[{i}]", v)
    else:
        out[name] = np.asarray(value, dtype=float).ravel().tolist()

knn = k_nearest_neighbor.KNearestNeighbor()
knn.train(r.normal(size=(30, 5)), r.integers(0, 4, 30))
Xt = r.normal(size=(7, 5))
for m in ("two_loops", "one_loop", "no_loops"):
    put(f"knn.{m}", getattr(knn, f"compute_distances_{m}")(Xt))
dists = r.permutation(7 * 30).reshape(7, 30) / 3.0
for k in (1, 4):
    put(f"knn.vote{k}", knn.predict_labels(dists, k=k))

W, X, y = 0.01 * r.normal(size=(6, 4)), 3 * r.normal(size=(20, 6)), r.integers(0, 4, 20)
for mod, f in ((linear_svm, "svm_loss_naive"), (linear_svm, "svm_loss_vectorized"),
               (softmax, "softmax_loss_naive"), (softmax, "softmax_loss_vectorized")):
    put(f, getattr(mod, f)(W, X, y, 0.3))
clf = linear_classifier.Softmax()
clf.W = W.copy()
put("predict", clf.predict(X))
history = linear_classifier.Softmax().train(X, y, num_iters=7, batch_size=5)
put("train.history_length", len(history))

def fb(name, forward, backward, *args):
    o, cache = forward(*args)
    put(f"{name}.out", o)
    if backward is not None:
        put(f"{name}.grads", backward(np.random.default_rng(1).normal(size=np.shape(o)), cache))

bn = {"mode": "train", "momentum": 0.8}
fb("affine", L.affine_forward, L.affine_backward, r.normal(size=(3, 2, 4)), r.normal(size=(8, 5)), r.normal(size=5))
fb("relu", L.relu_forward, L.relu_backward, r.normal(size=(4, 6)))
put("svm_loss", L.svm_loss(r.normal(size=(6, 5)), r.integers(0, 5, 6)))
put("softmax_loss", L.softmax_loss(r.normal(size=(6, 5)), r.integers(0, 5, 6)))
xb, g, b = 2 + r.normal(size=(9, 4)), r.normal(size=4), r.normal(size=4)
fb("batchnorm", L.batchnorm_forward, L.batchnorm_backward, xb, g, b, bn)
fb("batchnorm_alt", L.batchnorm_forward, L.batchnorm_backward_alt, xb, g, b, dict(bn))
put("bn.running", [bn["running_mean"], bn["running_var"]])
bn["mode"] = "test"
fb("batchnorm_test", L.batchnorm_forward, L.batchnorm_backward, xb, g, b, bn)
fb("layernorm", L.layernorm_forward, L.layernorm_backward, xb, g, b, {})
fb("conv", L.conv_forward_naive, L.conv_backward_naive, r.normal(size=(2, 3, 6, 5)), r.normal(size=(4, 3, 3, 2)),
   r.normal(size=4), {"stride": 2, "pad": 1})
fb("pool", L.max_pool_forward_naive, L.max_pool_backward_naive, r.normal(size=(2, 3, 7, 6)),
   {"pool_height": 3, "pool_width": 2, "stride": 2})
fb("spatial_bn", L.spatial_batchnorm_forward, L.spatial_batchnorm_backward, r.normal(size=(2, 3, 4, 4)),
   r.normal(size=3), r.normal(size=3), {"mode": "train"})
fb("groupnorm", L.spatial_groupnorm_forward, L.spatial_groupnorm_backward, r.normal(size=(2, 6, 3, 3)),
   r.normal(size=(1, 6, 1, 1)), r.normal(size=(1, 6, 1, 1)), 2, {})
xd = 1 + r.random((300, 100))
kept, _ = L.dropout_forward(xd, {"mode": "train", "p": 0.6, "seed": 3})
put("dropout.kept_fraction", round(float(np.mean(kept != 0)), 1))
put("dropout.kept_values", np.unique(np.round(kept[kept != 0] / xd[kept != 0], 9)))
same, cache = L.dropout_forward(xd, {"mode": "train", "p": 0.6, "seed": 3})
put("dropout.same_seed", np.array_equal(same, kept))
put("dropout.backward", np.array_equal(L.dropout_backward(np.ones_like(xd), cache), (kept != 0) / 0.6))

w0 = r.normal(size=(3, 4))
for rule in ("sgd_momentum", "rmsprop", "adam"):
    w, config = w0.copy(), None
    for step in range(2):
        w, config = getattr(optim, rule)(w, np.cos(w0 + step), config)
    put(rule, [w, config])

def with_params(model, seed):
    g = np.random.default_rng(seed)
    model.params = {k: 0.3 * g.normal(size=v.shape) for k, v in sorted(model.params.items())}
    return model

Xn, yn = r.normal(size=(5, 7)), r.integers(0, 3, 5)
nets = {"two_layer": fc_net.TwoLayerNet(input_dim=7, hidden_dim=6, num_classes=3, reg=0.2),
        "fc": fc_net.FullyConnectedNet([6, 5], input_dim=7, num_classes=3, reg=0.1, dtype=np.float64),
        "fc_bn": fc_net.FullyConnectedNet([6, 5], input_dim=7, num_classes=3, normalization="batchnorm",
                                          dtype=np.float64),
        "fc_ln": fc_net.FullyConnectedNet([6, 5], input_dim=7, num_classes=3, normalization="layernorm",
                                          dtype=np.float64)}
for name, net in nets.items():
    put(f"{name}.param_shapes", [np.shape(v) for _, v in sorted(net.params.items())])
    with_params(net, 5)
    put(f"{name}.scores", net.loss(Xn))
    put(f"{name}.loss", net.loss(Xn, yn))
old_net = with_params(neural_net.TwoLayerNet(7, 6, 3), 9)
put("neural_net.scores", old_net.loss(Xn))
put("neural_net.loss", old_net.loss(Xn, yn, reg=0.3))
put("neural_net.predict", old_net.predict(Xn))
stats = old_net.train(Xn, yn, Xn, yn, num_iters=9, batch_size=2)
put("neural_net.train", [len(stats["loss_history"]), len(stats["train_acc_history"]), len(stats["val_acc_history"])])
conv_net = cnn.ThreeLayerConvNet(input_dim=(2, 6, 6), num_filters=3, filter_size=3, hidden_dim=4, num_classes=3,
                                  reg=0.1, dtype=np.float64)
put("cnn.param_shapes", [np.shape(v) for _, v in sorted(conv_net.params.items())])
with_params(conv_net, 6)
put("cnn.loss", conv_net.loss(r.normal(size=(2, 2, 6, 6)), np.array([0, 2])))

N, T, D, H = 2, 4, 3, 5
fb("rnn_step", R.rnn_step_forward, R.rnn_step_backward, r.normal(size=(N, D)), r.normal(size=(N, H)),
   r.normal(size=(D, H)), r.normal(size=(H, H)), r.normal(size=H))
fb("rnn", R.rnn_forward, R.rnn_backward, r.normal(size=(N, T, D)), r.normal(size=(N, H)),
   0.5 * r.normal(size=(D, H)), 0.5 * r.normal(size=(H, H)), r.normal(size=H))
fb("embedding", R.word_embedding_forward, R.word_embedding_backward, r.integers(0, 4, (N, T)), r.normal(size=(4, D)))
o = R.lstm_step_forward(r.normal(size=(N, D)), r.normal(size=(N, H)), r.normal(size=(N, H)),
                        0.5 * r.normal(size=(D, 4 * H)), 0.5 * r.normal(size=(H, 4 * H)), r.normal(size=4 * H))
put("lstm_step.out", o[:2])
put("lstm_step.grads", R.lstm_step_backward(r.normal(size=(N, H)), r.normal(size=(N, H)), o[2]))
fb("lstm", R.lstm_forward, R.lstm_backward, r.normal(size=(N, T, D)), r.normal(size=(N, H)),
   0.5 * r.normal(size=(D, 4 * H)), 0.5 * r.normal(size=(H, 4 * H)), r.normal(size=4 * H))

words = {"<NULL>": 0, "<START>": 1, "<END>": 2, "a": 3, "b": 4, "c": 5}
captions = r.integers(0, 6, (3, 5))
captions[:, 0] = 1
captions[1, 3:] = 0
feats = r.normal(size=(3, 4))
vocab = char_rnn.CharVocab("abcde")
for cell in ("rnn", "lstm"):
    model = with_params(rnn.CaptioningRNN(words, input_dim=4, wordvec_dim=3, hidden_dim=5, cell_type=cell,
                                          dtype=np.float64), 7)
    put(f"captioning_{cell}.loss", model.loss(feats, captions))
    model.params = {k: 3 * v for k, v in model.params.items()}
    put(f"captioning_{cell}.sample", model.sample(feats, max_length=6))
    chars = with_params(char_rnn.CharRNN(vocab, wordvec_dim=3, hidden_dim=4, cell_type=cell, dtype=np.float64), 8)
    put(f"char_{cell}.loss", chars.loss(r.integers(0, 5, (2, 6)), r.integers(0, 5, (2, 6))))
    chars.params = {k: 3 * v for k, v in chars.params.items()}
    put(f"char_{cell}.greedy", vocab.encode(chars.sample("ab", length=12, temperature=0)))
    put(f"char_{cell}.sampled_length", len(chars.sample("ab", length=12, temperature=0.7, rng=1)))
print(json.dumps(out))
'''


def probe(kit):
    env = {**os.environ, "PYTHONPATH": str(kit)}
    proc = subprocess.run([sys.executable, "-c", PROBE, str(kit)], capture_output=True, text=True, env=env,
                          cwd=kit, timeout=300)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout.splitlines()[-1])


def test_alternative_modules_give_the_reference_values(tmp_path):
    release = tmp_path / "release"
    write_release(REPO, release)
    write_alt_kit(release, tmp_path / "alt")
    mine, expected = probe(tmp_path / "alt"), probe(REPO)
    assert sorted(mine) == sorted(expected)
    wrong = [name for name in expected
             if len(mine[name]) != len(expected[name])
             or not np.allclose(mine[name], expected[name], rtol=1e-6, atol=1e-9)]
    assert not wrong, f"alternative solutions differ from the reference in {wrong}"


# ---------------------------------------------------------------------------------------------
# (b) and (c): graded by the real grader
# ---------------------------------------------------------------------------------------------

def grade_command(subs, out, assignment, *options):
    return [sys.executable, "-m", "course_utils", "grade", str(subs), "--out", str(out), "--assignment", assignment,
            "--timeout", "1800", "--quiet", *options]


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Build every submission and run every batch at once
    -> {(kind, assignment): (results {student: results.json} or None, log, seconds to finish, manifest)};
    the manifest is the copy both batches of the assignment were graded with."""
    root = tmp_path_factory.mktemp("alternative_solutions")
    batches = {}
    for assignment in ASSIGNMENTS:
        work = root / assignment
        release = work / "release"
        write_release(REPO, release, assignment)
        files = editable_modules(release) + notebooks(release, assignment)
        write_alt_kit(release, work / "alt")
        reference = work / "reference"  # a snapshot: the source may change while we grade
        for rel in files:
            (reference / rel).parent.mkdir(parents=True, exist_ok=True)
            (reference / rel).write_bytes((REPO / rel).read_bytes())
        alt_subs, mutant_subs = work / "alt_subs", work / "mutant_subs"
        alt_subs.mkdir()
        mutant_subs.mkdir()
        write_zip(work / "alt", files, alt_subs / "alternative.zip")
        for mutant in MUTANTS[assignment]:
            write_mutant(reference, work / mutant.name, files, mutant)
            write_zip(work / mutant.name, files, mutant_subs / f"{mutant.name}.zip")
        full, hidden_only = work / "manifest.toml", work / "hidden_only.toml"  # what the tests check against
        full.write_text((REPO / "grading" / assignment / "manifest.toml").read_text())
        hidden_only.write_text(without_cells(full.read_text()))
        batches["alt", assignment] = (work / "alt_out", 1, grade_command(
            alt_subs, work / "alt_out", assignment, "-j", "1", "--manifest", str(full)))
        batches["mutants", assignment] = (work / "mutant_out", 2, grade_command(
            mutant_subs, work / "mutant_out", assignment, "-j", "2", "--manifest", str(hidden_only)))
    start = time.monotonic()
    running, finished = {}, {}
    for key, (out, _, command) in batches.items():
        with open(f"{out}.log", "w") as log:
            running[key] = (out, subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT))
    while len(finished) < len(running):
        if time.monotonic() - start > GRADE_TIMEOUT:
            for _, process in running.values():
                process.kill()
            raise AssertionError(f"grading took longer than {GRADE_TIMEOUT} s; finished: {sorted(finished)}")
        for key, (_, process) in running.items():
            if key not in finished and process.poll() is not None:
                finished[key] = round(time.monotonic() - start)
        time.sleep(1)
    graded = {}
    for key, (out, process) in running.items():
        log = Path(f"{out}.log").read_text(errors="replace")
        results = {p.stem: json.loads(p.read_text()) for p in (out / "results").glob("*.json")} \
            if process.returncode == 0 else None
        graded[key] = (results, log, finished[key], load_manifest(root / key[1] / "manifest.toml"))
    return graded


def batch(graded, kind, assignment):
    """-> (results, manifest) of a batch, its results checked against the Gradescope schema."""
    results, log, seconds, manifest = graded[kind, assignment]
    print(f"{kind} {assignment}: graded after {seconds} s")
    assert results is not None, f"course-kit grade failed:\n{log[-4000:]}"
    for data in results.values():
        check_results_schema(data)
    return results, manifest


def lost_points(data, questions):
    """{question: points lost} for the manifest's code questions (written answers left out)."""
    tests = {t["name"].split(":")[0]: t for t in data["tests"]}
    missing = sorted(set(questions) - set(tests))
    assert not missing, f"no result for {missing}"
    return {name: round(tests[name]["max_score"] - tests[name]["score"], 4) for name in questions}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_alternative_solutions_score_full_marks(graded, assignment):
    """Every hidden test and every graded cell of every reference notebook the manifest uses."""
    results, manifest = batch(graded, "alt", assignment)
    data = results["alternative"]
    lost = lost_points(data, manifest.questions)
    tests = {t["name"].split(":")[0]: t for t in data["tests"]}
    failing = {name: tests[name]["output"] for name, points in lost.items() if points}
    assert not failing, "questions the alternative solutions lose points on:\n" + "\n\n".join(
        f"--- {name} ({lost[name]} of {manifest.questions[name].points} points lost)\n{output}"
        for name, output in failing.items())
    for name, question in manifest.questions.items():
        assert tests[name]["max_score"] == question.points, name


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_each_mutant_loses_points_on_its_own_question_only(graded, assignment):
    """Hidden tests only. A mutant of question q must lose points on q; any other question
    that loses points must be one whose checks run q's functions (alt_kit.CALLS)."""
    results, manifest = batch(graded, "mutants", assignment)
    problems = []
    for mutant in MUTANTS[assignment]:
        assert mutant.name in results, f"{mutant.name} was not graded"
        lost = {name: points for name, points in lost_points(results[mutant.name], manifest.questions).items()
                if points}
        print(f"{mutant.name} ({mutant.bug}): lost {lost}")
        if not lost.get(mutant.question):
            problems.append(f"{mutant.name} ({mutant.bug}) loses nothing on its own question; lost {lost}")
        unexpected = set(lost) - may_lose(assignment, mutant.question)
        if unexpected:
            problems.append(f"{mutant.name} ({mutant.bug}) also loses points on {sorted(unexpected)}, "
                            "whose checks do not call its function")
    assert not problems, "\n".join(problems)


def test_hidden_only_manifest_keeps_hidden_tests_and_drops_cells(tmp_path):
    for assignment in ASSIGNMENTS:
        full = manifest_of(assignment)
        path = tmp_path / f"{assignment}.toml"
        path.write_text(without_cells((REPO / "grading" / assignment / "manifest.toml").read_text()))
        trimmed = load_manifest(path)
        assert list(trimmed.questions) == list(full.questions)
        for name, question in full.questions.items():
            assert trimmed.questions[name].hidden == question.hidden and not trimmed.questions[name].cells
