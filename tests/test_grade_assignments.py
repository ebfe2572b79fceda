"""End to end on the real assignments: submissions built from the release, graded with
the real hidden tests and ONE short reference notebook (the CI budget), plus checks
that every manifest matches its hidden tests and notebooks."""
import json
import subprocess
import sys

import pytest
from toy_kit import REPO, check_results_schema

from course_utils.grading.harness.batch import calibrate
from course_utils.grading.collect import write_zip
from course_utils.grading.kit import assignments, editable_modules, notebooks
from course_utils.grading.manifest import load_manifest
from course_utils.grading.harness.runner import StepLimits
from course_utils.grading.harness.sandbox import prepare
from course_utils.markers import find_regions, region_owners
from course_utils.tools.release import write_release

MANIFESTS = [a for a in assignments(REPO) if (REPO / "grading" / a / "manifest.toml").exists()]
SHORT_NOTEBOOK = {"assignment1": "softmax", "assignment2": "Dropout", "assignment3": "RNN_Captioning"}
# assignment -> (module, function, a wrong last line for its region, the question that must lose points)
BROKEN = {"assignment1": ("course_utils/classifiers/linear_svm.py", "svm_loss_vectorized",
                          "loss = loss + 0.5", "svm_loss_vectorized"),
          "assignment2": ("course_utils/layers.py", "spatial_groupnorm_forward", "out = out + 0.01",
                          "spatial_groupnorm"),
          "assignment3": ("course_utils/char_rnn.py", "CharRNN.sample", "generated = generated[::-1]",
                          "char_rnn_sample")}  # leaves: other questions build on the layers


@pytest.mark.parametrize("assignment", MANIFESTS)
def test_manifest_matches_hidden_tests_and_notebooks(assignment, tmp_path):
    manifest = load_manifest(REPO / "grading" / assignment / "manifest.toml")
    context = prepare(REPO, assignment, tmp_path, manifest)
    expected = calibrate(context, manifest, tmp_path, StepLimits(wall_seconds=300))
    assert expected  # raises above when a pattern or tag matches nothing
    for name, question in manifest.questions.items():
        for target in question.functions:
            path, function = target.split("::")
            text = (REPO / path).read_text()
            assert function in region_owners(text, find_regions(text, path)), (name, target)


# Appended to every released module: make every comparison helper a student could reach say
# "equal". Stubs plus these patches must still score what the stubs score.
PATCH_HELPERS = """

def _everything_matches():
    import sys
    import numpy as np
    import numpy.testing
    np.allclose = lambda *a, **k: True
    np.isclose = lambda a, b, *r, **k: np.ones(np.broadcast(a, b).shape, dtype=bool)
    np.array_equal = lambda *a, **k: True
    numpy.testing.assert_allclose = lambda *a, **k: None
    numpy.testing.assert_array_equal = lambda *a, **k: None
    for module in list(sys.modules.values()):
        if hasattr(module, "rel_error"):
            module.rel_error = lambda *a, **k: 0.0
    main = sys.modules.get("__main__")
    if main is not None:
        main.rel_error = lambda *a, **k: 0.0


_everything_matches()
"""


def break_function(text, function, wrong_line):
    """Insert ``wrong_line`` at the end of ``function``'s solution region."""
    regions = find_regions(text)
    owners = region_owners(text, regions)
    region = [r for r, owner in zip(regions, owners) if owner == function][-1]
    lines = text.splitlines(keepends=True)
    lines.insert(region.end - 1, f"{region.indent}{wrong_line}\n")
    return "".join(lines)


@pytest.mark.parametrize("assignment", sorted(SHORT_NOTEBOOK))
def test_reference_full_release_zero_broken_loses_one_question(assignment, tmp_path):
    """Every hidden test of the assignment and one short reference notebook, through the
    contained worker and kernel: the reference solution scores full marks."""
    stem = SHORT_NOTEBOOK[assignment]
    manifest = load_manifest(REPO / "grading" / assignment / "manifest.toml").restricted(notebooks={stem})
    release = tmp_path / "release"
    write_release(REPO, release, assignment)
    files = editable_modules(release) + notebooks(release, assignment)
    subs = tmp_path / "subs"
    subs.mkdir()
    reference, broken = tmp_path / "reference", tmp_path / "broken"
    for folder in (reference, broken):  # a snapshot: the source may change while we grade
        for rel in files:
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            (folder / rel).write_bytes((REPO / rel).read_bytes())
    path, function, wrong, question = BROKEN[assignment]
    (broken / path).write_text(break_function((reference / path).read_text(), function, wrong))
    write_zip(reference, files, subs / "reference.zip")
    write_zip(release, files, subs / "untouched_release.zip")
    patched = tmp_path / "patched"
    for rel in files:
        (patched / rel).parent.mkdir(parents=True, exist_ok=True)
        text = (release / rel).read_bytes()
        (patched / rel).write_bytes(text + PATCH_HELPERS.encode() if rel.endswith(".py") else text)
    write_zip(patched, files, subs / "patched_helpers.zip")
    write_zip(broken, files, subs / "broken.zip")
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "course_utils", "grade", str(subs), "--out", str(out),
                           "--notebooks", stem, "--assignment", assignment,
                           "-j", "2", "--timeout", "600", "--quiet"], capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = {p.stem: json.loads(p.read_text()) for p in (out / "results").glob("*.json")}
    for data in results.values():
        check_results_schema(data)
    full = manifest.max_points
    graded = results["reference"]
    assert graded["score"] == full, [t for t in graded["tests"] if t["status"] == "failed"]
    assert results["untouched_release"]["score"] == 0
    assert results["patched_helpers"]["score"] == 0, [t for t in results["patched_helpers"]["tests"] if t["score"]]
    lost = {t["name"].split(":")[0]: t["max_score"] - t["score"] for t in results["broken"]["tests"]
            if "written" not in t.get("tags", [])}  # written answers wait for a TA
    assert {name for name, points in lost.items() if points} == {question}
    assert 0 < lost[question] <= manifest.questions[question].points
    assert abs(results["broken"]["score"] - (full - lost[question])) < 0.02
    assert sum(t["max_score"] for t in results["broken"]["tests"]) == manifest.max_points + manifest.written_points
