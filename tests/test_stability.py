"""course-kit stability: perturbation, seed offset, and the graded-output comparison."""
import json
import os
import subprocess
import sys

import nbformat
import numpy as np
import pytest

from course_utils.cli import main
from course_utils.tools.stability import PERTURB_ENV, SEED_OFFSET_ENV, graded_differences, perturb_weights


def test_perturb_weights_moves_float64_by_the_relative_size():
    w = np.random.default_rng(0).normal(size=(50, 40))
    moved = perturb_weights(w, 1e-12, np.random.default_rng(1))
    ratio = np.abs(moved - w) / np.abs(w)
    assert moved.dtype == np.float64
    assert np.all(ratio > 0.5e-12) and np.all(ratio < 2e-12)


def test_perturb_weights_moves_float32_by_one_ulp():
    w = np.random.default_rng(0).normal(size=(30, 20)).astype(np.float32)
    moved = perturb_weights(w, 1e-12, np.random.default_rng(1))
    assert moved.dtype == np.float32
    steps = np.abs(moved.astype(np.float64) - w) / np.spacing(np.abs(w))
    assert np.all((steps > 0.99) & (steps < 2.01))


def test_perturb_weights_leaves_integer_arrays_alone():
    idx = np.arange(6)
    assert perturb_weights(idx, 1e-12, np.random.default_rng(1)) is idx


def run_in_kernel_like_process(code, **env):
    """Run ``code`` after install_in_kernel() in a fresh interpreter; return its JSON output."""
    script = "from course_utils.tools.stability import install_in_kernel\ninstall_in_kernel()\n" + code
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


MODEL_CODE = """
import json
import numpy as np
from course_utils.classifiers.fc_net import TwoLayerNet
from course_utils.classifiers.linear_classifier import Softmax

net = TwoLayerNet(4, 5, 3, weight_scale=0.1, seed=0)
initial = {k: v.copy() for k, v in net.params.items()}
X, y = np.random.default_rng(5).normal(size=(6, 4)), np.array([0, 1, 2, 0, 1, 2])
net.loss(X, y)
first = {k: v.copy() for k, v in net.params.items()}
net.loss(X, y)
clf = Softmax()
clf.train(np.ones((4, 3)), np.array([0, 1, 0, 1]), num_iters=0, seed=0)
w0 = clf.W.copy()
clf.loss(np.ones((4, 3)), np.array([0, 1, 0, 1]), 0.0)
print(json.dumps({
    "moved_at_first_loss": float(max(np.max(np.abs(first[k] - initial[k]) / np.abs(initial[k]).clip(1e-300))
                                     for k in ("W1", "W2"))),
    "moved_again": float(max(np.max(np.abs(net.params[k] - first[k])) for k in first)),
    "linear_moved": float(np.max(np.abs(clf.W - w0) / np.abs(w0))),
}))
"""


def test_models_are_perturbed_once_at_their_first_loss():
    found = run_in_kernel_like_process(MODEL_CODE, **{PERTURB_ENV: "1e-12"})
    assert 0.5e-12 < found["moved_at_first_loss"] < 2e-12
    assert found["moved_again"] == 0.0
    assert 0.5e-12 < found["linear_moved"] < 2e-12


def test_without_the_setting_nothing_is_perturbed():
    found = run_in_kernel_like_process(MODEL_CODE, **{PERTURB_ENV: "0"})
    assert found["moved_at_first_loss"] == 0.0 and found["linear_moved"] == 0.0


def test_seed_offset_shifts_integer_seeds_only():
    code = """
import json
import numpy as np
np.random.seed(1)
legacy = float(np.random.rand())
print(json.dumps({"new": float(np.random.default_rng(2).random()), "legacy": legacy,
                  "generator_kept": float(np.random.default_rng(np.random.Generator(np.random.PCG64(9))).random())}))
"""
    found = run_in_kernel_like_process(code, **{SEED_OFFSET_ENV: "3"})
    assert found["new"] == np.random.default_rng(5).random()
    np.random.seed(4)
    assert found["legacy"] == np.random.rand()
    assert found["generator_kept"] == np.random.Generator(np.random.PCG64(9)).random()


def graded(source, text):
    cell = nbformat.v4.new_code_cell(source)
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
    return cell


def test_graded_differences_reports_only_graded_cells():
    stored = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# title"),
        graded("# NBVAL_CHECK_OUTPUT\nprint(x)", "0.1234\n"),
        graded("# NBVAL_IGNORE_OUTPUT\nprint(t)", "took 3 s\n"),
        graded("# NBVAL_CHECK_OUTPUT\nprint(y)", "a\nb\n"),
    ])
    fresh = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# title"),
        graded("# NBVAL_CHECK_OUTPUT\nprint(x)", "0.1234\n"),
        graded("# NBVAL_IGNORE_OUTPUT\nprint(t)", "took 5 s\n"),
        graded("# NBVAL_CHECK_OUTPUT\nprint(y)", "a\nc\n"),
    ])
    problems = graded_differences(stored, fresh)
    assert len(problems) == 1
    assert problems[0].startswith("code cell 3: graded output changed")
    assert "stored: b" in problems[0] and "now:    c" in problems[0]


def toy_kit(root, graded_source):
    """A kit folder with one executed notebook whose graded cell prints a trained weight."""
    from course_utils.tools.run import execute_notebook

    folder = root / "assignments" / "assignment1"
    folder.mkdir(parents=True)
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell(
            "import numpy as np\nfrom course_utils.classifiers.fc_net import TwoLayerNet\n"
            "net = TwoLayerNet(4, 5, 3, weight_scale=0.1, seed=0)\n"
            "X, y = np.random.default_rng(5).normal(size=(6, 4)), np.array([0, 1, 2, 0, 1, 2])\n"
            "loss, grads = net.loss(X, y)"),
        nbformat.v4.new_code_cell("# NBVAL_CHECK_OUTPUT\n" + graded_source),
        nbformat.v4.new_code_cell("assert loss > 0"),
    ])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = folder / "toy.ipynb"
    nbformat.write(nb, path)
    _, error = execute_notebook(path, timeout=120)
    assert error is None, error
    return root


@pytest.mark.parametrize("graded_source, expected_code", [
    ("print(round(float(loss), 6))", 0),          # rounded far above the perturbation: stable
    ("print(repr(float(net.params['W1'][0, 0])))", 1),  # every digit: the perturbation shows
])
def test_stability_command_flags_outputs_that_change(tmp_path, capsys, graded_source, expected_code):
    kit = toy_kit(tmp_path / "kit", graded_source)
    code = main(["stability", "--root", str(kit), "--threads", "1", "--perturb", "1e-12"])
    out = capsys.readouterr().out
    assert code == expected_code, out
    if expected_code:
        assert "toy.ipynb: code cell 2: graded output changed" in out
    else:
        assert "stability check passed" in out


def test_stability_command_with_seed_offset_checks_asserts_only(tmp_path, capsys):
    kit = toy_kit(tmp_path / "kit", "print(repr(float(net.params['W1'][0, 0])))")
    assert main(["stability", "--root", str(kit), "--seed-offset", "1"]) == 0
    assert "every cell ran." in capsys.readouterr().out


def test_stability_command_names_unknown_assignments(tmp_path, capsys):
    (tmp_path / "assignments" / "assignment1").mkdir(parents=True)
    assert main(["stability", "assignment7", "--root", str(tmp_path)]) == 2
    assert "no assignment(s) ['assignment7']" in capsys.readouterr().err
