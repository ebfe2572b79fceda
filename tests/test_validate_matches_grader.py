"""``course-kit validate`` says what ``course-kit grade`` will say, question by question.

Partial submissions of assignment 1 are built from the release: some questions
implemented (the reference's region bodies put back), one of them wrong, the rest
left as stubs. Each is checked with ``validate`` in its own kit, zipped with
``collect_submission.sh`` and graded in one ``grade`` batch (only the public
command lines; the shortest reference notebook keeps it to a couple of minutes).
For every question: done <-> full points, failing <-> partial or zero points,
not started <-> not started.
"""
import json
import shutil
import subprocess
import sys

import pytest
from partial_kit import partial_module
from toy_kit import REPO

from course_utils.tools.release import write_release

ASSIGNMENT, NOTEBOOK = "assignment1", "softmax"
CASES = {  # name: (questions implemented, {function: wrong line added})
    # the two-loop distances and the vote, while predict()'s default (no loops) is a stub
    "vote": (["knn_two_loops", "knn_predict_labels"], {}),
    "linear": (["svm_loss_naive", "svm_loss_vectorized", "softmax_loss_naive", "softmax_loss_vectorized",
                "linear_classifier_train", "linear_classifier_predict"], {"svm_loss_vectorized": "loss = loss + 0.5"}),
    # a network whose affine backward pass is still a stub
    "layers": (["affine_forward", "relu_forward", "relu_backward", "loss_layers", "two_layer_net"], {}),
}


def course_kit(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "course_utils", *map(str, args)], capture_output=True, text=True,
                          timeout=1200, cwd=cwd)


def build_kit(release, kit, questions, implemented, wrong):
    shutil.copytree(release, kit)
    functions = {}
    for name in implemented:
        for target in questions[name]["functions"]:
            path, function = target.split("::")
            functions.setdefault(path, set()).add(function)
    for path, names in functions.items():
        text = partial_module((release / path).read_text(), (REPO / path).read_text(), names, wrong)
        (kit / path).write_text(text)


def validate_verdicts(proc, questions):
    verdicts = {}
    for name, spec in questions.items():
        row = next(line for line in proc.stdout.splitlines() if line.startswith(spec["title"] + "  "))
        rest = row[len(spec["title"]):].strip()
        verdicts[name] = "not started" if rest.startswith("not started") else rest.split()[0]
    return verdicts


def grader_verdicts(results, questions):
    verdicts = {}
    for test in results["tests"]:
        name = test["name"].split(":")[0]
        if name in questions:
            verdicts[name] = ("not started" if "not started" in test["output"]
                              else "done" if test["score"] >= test["max_score"] else "failing")
    return verdicts


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory):
    base = tmp_path_factory.mktemp("validate-grade")
    release = base / "release"
    write_release(REPO, release, ASSIGNMENT)
    listing = json.loads((release / "assignments" / ASSIGNMENT / "questions.json").read_text())
    questions = {spec["name"]: spec for spec in listing["questions"]}
    subs = base / "subs"
    subs.mkdir()
    by_validate = {}
    for case, (implemented, wrong) in CASES.items():
        kit = base / case
        build_kit(release, kit, questions, implemented, wrong)
        proc = course_kit("validate", ASSIGNMENT, "--root", kit)
        assert proc.returncode == 1, proc.stdout + proc.stderr  # something is left in every case
        by_validate[case] = validate_verdicts(proc, questions)
        proc = subprocess.run(["bash", "collect_submission.sh", ASSIGNMENT, "--no-export"], cwd=kit,
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        shutil.copyfile(kit / f"{ASSIGNMENT}_submission.zip", subs / f"{case}_{ASSIGNMENT}_submission.zip")
    out = base / "grades"
    proc = course_kit("grade", subs, "--out", out, "--notebooks", NOTEBOOK, "-j", "2", "--quiet")
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = {p.stem: json.loads(p.read_text()) for p in (out / "results").glob("*.json")}
    assert sorted(results) == sorted(CASES)  # student ids: the zip names without _assignment1_submission
    by_grader = {case: grader_verdicts(data, questions) for case, data in results.items()}
    return by_validate, by_grader


@pytest.mark.parametrize("case", CASES)
def test_validate_and_grader_agree_on_every_question(verdicts, case):
    by_validate, by_grader = verdicts
    assert by_validate[case] == by_grader[case]


def test_the_cases_cover_every_verdict(verdicts):
    by_validate, _ = verdicts
    assert by_validate["vote"]["knn_predict_labels"] == "done"  # its public test needs no distances
    assert by_validate["vote"]["knn_no_loops"] == "not started"
    assert by_validate["linear"]["svm_loss_vectorized"] == "failing"  # wrong
    assert by_validate["layers"]["two_layer_net"] == "failing"  # builds on a stubbed layer
