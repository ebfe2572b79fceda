"""End to end: grade submissions built from a release, including hostile ones.

The toy kit (tests/toy_kit.py) keeps this fast; the real assignments are graded
in tests/test_grade_assignments.py. All submissions go through ONE
``course-kit grade -j 2`` batch, which is itself the test that a bad
submission never stops the batch.
"""
import csv
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from toy_kit import TOY_MODULE, check_results_schema, make_toy_source, toy_notebook, toy_submission, zip_files

from course_utils.tools.release import write_release

RIGHT_DOUBLE = "    out = 2 * x\n"
RIGHT_SQUARE = "    out = x * x\n"


def replace_body(module, right, wrong):
    assert right in module
    return module.replace(right, wrong)


def sha(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def grade_cli(*args):
    return subprocess.run([sys.executable, "-m", "course_utils", "grade", *map(str, args)],
                          capture_output=True, text=True, timeout=900)


def build_submissions(folder, source, release):
    """{student: zip path}: every case the grader must survive, built from the release."""
    folder.mkdir()
    released_module = (release / "course_utils" / "toy.py").read_text()
    released_nb = nbformat.read(release / "assignments" / "assignment1" / "toy.ipynb", as_version=4)
    run_nb = toy_notebook()  # a student's notebook, run top to bottom
    cases = {
        "reference": (TOY_MODULE, nbformat.read(source / "assignments/assignment1/toy.ipynb", as_version=4)),
        "untouched_release": (released_module, released_nb),
        "broken_square": (replace_body(TOY_MODULE, RIGHT_SQUARE, "    out = x * x + 1\n"), run_nb),
        "endless_loop": (replace_body(TOY_MODULE, RIGHT_DOUBLE, "    while True:\n        pass\n"), run_nb),
        "memory_bomb": (replace_body(TOY_MODULE, RIGHT_SQUARE,
                                     "    hog = []\n    while True:\n        hog.append(bytearray(50 * 2**20))\n"),
                        run_nb),
        "os_exit": (replace_body(TOY_MODULE, RIGHT_DOUBLE, "    import os\n    os._exit(3)\n"), run_nb),
        "deleter": (replace_body(TOY_MODULE, RIGHT_DOUBLE,
                                 "    import glob, os, shutil\n"
                                 "    for p in glob.glob('../../**/*.zip', recursive=True):\n"
                                 "        open(p, 'wb').write(b'overwritten')\n"
                                 "    shutil.rmtree(os.getcwd(), ignore_errors=True)\n"
                                 "    out = 2 * x\n"), run_nb),
        "syntax_error": (TOY_MODULE.replace("def square(x):", "def square(x)"), run_nb),
    }
    paths = {name: toy_submission(folder / f"{name}.zip", module, nb) for name, (module, nb) in cases.items()}
    paths["missing_module"] = zip_files(folder / "missing_module.zip",
                                        {"assignments/assignment1/toy.ipynb": nbformat.writes(run_nb)})
    paths["corrupt_zip"] = folder / "corrupt_zip.zip"
    paths["corrupt_zip"].write_bytes(b"PK\x03\x04 this is not really a zip")
    paths["zip_slip"] = zip_files(folder / "zip_slip.zip", {"../../escape.py": "x = 1\n",
                                                            "course_utils/toy.py": TOY_MODULE})
    return paths


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("grade")
    source = make_toy_source(base / "src")
    release = base / "release"
    write_release(source, release)
    submissions = build_submissions(base / "submissions", source, release)
    before = {name: (sha(p), os.stat(p).st_mode) for name, p in submissions.items()}
    out = base / "out"
    proc = grade_cli(*submissions.values(), "--out", out, "--source", source, "-j", "2",
                     "--timeout", "60", "--test-timeout", "4", "--memory", "700")
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = {p.stem: json.loads(p.read_text()) for p in (out / "results").glob("*.json")}
    return {"base": base, "source": source, "out": out, "proc": proc, "submissions": submissions,
            "before": before, "results": results}


def scores(graded, student):
    return {t["name"].split(":")[0]: t["score"] for t in graded["results"][student]["tests"]
            if "written" not in t.get("tags", [])}


def outputs(graded, student):
    return "\n".join(t["output"] for t in graded["results"][student]["tests"])


def test_every_submission_graded_and_originals_untouched(graded):
    assert set(graded["results"]) == set(graded["submissions"])
    for name, path in graded["submissions"].items():
        assert (sha(path), os.stat(path).st_mode) == graded["before"][name], name
    assert not (graded["base"] / "escape.py").exists()
    assert "grading" in graded["proc"].stderr  # the progress bar
    assert not list(graded["out"].glob(".work"))


def test_reference_scores_full_marks(graded):
    assert scores(graded, "reference") == {"double": 4, "square": 6}
    assert graded["results"]["reference"]["score"] == 10


def test_untouched_release_scores_zero(graded):
    result = graded["results"]["untouched_release"]
    assert result["score"] == 0
    assert "not started" in outputs(graded, "untouched_release")
    assert "NotImplementedError: double is not implemented yet" in outputs(graded, "untouched_release")


def test_one_broken_function_loses_exactly_its_points(graded):
    assert scores(graded, "broken_square") == {"double": 4, "square": 0}
    text = outputs(graded, "broken_square")
    assert "output differs from the reference from line 1: your code printed '17 3.25'" in text
    assert "square(-3) is wrong" in text


def test_endless_loop_costs_its_question_only(graded):
    assert scores(graded, "endless_loop") == {"double": 0, "square": 6}
    text = outputs(graded, "endless_loop")
    assert "stopped after 4 s (endless loop?)" in text and "the cell ran longer than 4 s (endless loop?)" in text


def test_memory_bomb_costs_its_question_only(graded):
    assert scores(graded, "memory_bomb") == {"double": 4, "square": 0}
    assert "MemoryError" in outputs(graded, "memory_bomb")


def test_os_exit_is_reported_and_other_tests_resume(graded):
    assert scores(graded, "os_exit")["double"] == 0
    text = outputs(graded, "os_exit")
    assert "PASS test_toy.py::test_square" in text
    assert "stopped the worker: exited with code 3" in text


def test_deleting_files_hurts_only_the_deleter(graded):
    assert graded["results"]["deleter"]["score"] < 10
    assert graded["results"]["reference"]["score"] == 10


def test_syntax_error_and_missing_files(graded):
    assert scores(graded, "syntax_error") == {"double": 0, "square": 0}
    assert "SyntaxError" in outputs(graded, "syntax_error")
    missing = graded["results"]["missing_module"]
    assert missing["score"] == 0
    assert "course_utils/toy.py" in missing["output"]


def test_refused_zips_get_zero_with_a_reason(graded):
    for name, words in (("corrupt_zip", "not a readable zip"), ("zip_slip", "points outside")):
        result = graded["results"][name]
        assert result["score"] == 0 and words in result["output"], result["output"]
        assert sum(t["max_score"] for t in result["tests"]) == 12  # same maximum for everyone: 10 + 2 written
        [written] = [t for t in result["tests"] if "written" in t.get("tags", [])]
        assert (written["score"], written["status"]) == (0, "failed") and written["output"].startswith("unanswered")


def test_results_json_schema(graded):
    for data in graded["results"].values():
        check_results_schema(data)


def test_grades_csv_schema(graded):
    with open(graded["out"] / "grades.csv", newline="") as handle:
        rows = list(csv.reader(handle))
    header, body = rows[0], rows[1:]
    assert header == ["student", "double", "square", "total", "max_total", "why", "written_total", "written_max",
                      "combined_total", "combined_max", "isolation", "error"]
    assert sorted(r[0] for r in body) == sorted(graded["submissions"])
    by_student = {r[0]: dict(zip(header, r)) for r in body}
    for row in by_student.values():
        assert abs(float(row["double"]) + float(row["square"]) - float(row["total"])) < 1e-6
        assert (row["max_total"], row["written_max"], row["combined_max"]) == ("10", "2", "12")
        assert row["isolation"] == "full"  # CI grades as root: the full isolation level
    reference = by_student["reference"]
    assert [reference[c] for c in ("double", "square", "total", "max_total")] == ["4", "6", "10", "10"]
    assert reference["why"] == reference["written_total"] == reference["combined_total"] == ""  # waits for a TA
    assert by_student["corrupt_zip"]["error"].startswith("submission refused")
    assert by_student["corrupt_zip"]["why"] == "unanswered" and by_student["corrupt_zip"]["combined_total"] == "0"


def test_feedback_is_readable(graded):
    text = (graded["out"] / "feedback" / "broken_square.md").read_text()
    assert "**Score: 4 / 10**" in text and "| Square a number | 0 / 6 |" in text
    assert "Because doubling is linear." in text  # written answers collected for hand grading


def test_rerun_skips_graded_unless_forced(graded):
    submissions = graded["submissions"]
    proc = grade_cli(*submissions.values(), "--out", graded["out"], "--source", graded["source"], "--quiet")
    assert proc.returncode == 0 and f"graded 0, skipped {len(submissions)}" in proc.stdout
    proc = grade_cli(submissions["corrupt_zip"], "--out", graded["out"], "--source", graded["source"],
                     "--quiet", "--force", "--assignment", "1")
    assert proc.returncode == 0 and "graded 1, skipped 0" in proc.stdout
    with open(graded["out"] / "grades.csv", newline="") as handle:
        assert len(list(csv.reader(handle))) == len(submissions) + 1  # earlier rows kept


def test_grade_reports_bad_manifest(graded, tmp_path):
    manifest = tmp_path / "manifest.toml"
    manifest.write_text('assignment = "assignment1"\n[questions.q]\npoints = 1\nhidden = ["test_toy.py::nope*"]\n')
    proc = grade_cli(graded["submissions"]["reference"], "--out", tmp_path / "out", "--source", graded["source"],
                     "--manifest", manifest, "--quiet")
    assert proc.returncode == 2 and "matches no hidden test" in proc.stderr


def test_one_submission_is_one_self_contained_job(graded, tmp_path):
    """The job a batch runs, as a command a cluster engine could run: spec in, record out."""
    from course_utils.grading.harness.batch import calibrate
    from course_utils.grading.harness.containment import ContainmentLimits
    from course_utils.grading.harness.job import job_spec
    from course_utils.grading.manifest import load_manifest
    from course_utils.grading.harness.sandbox import prepare

    source = graded["source"]
    manifest = load_manifest(source / "grading" / "assignment1" / "manifest.toml")
    context = prepare(source, "assignment1", tmp_path / "batch", manifest)
    limits = ContainmentLimits(wall_seconds=60, cpu_seconds=60, memory_mb=1500, test_seconds=8)
    expected = calibrate(context, manifest, tmp_path / "batch", limits)
    spec = job_spec(context, manifest, graded["submissions"]["broken_square"], "broken_square", tmp_path / "work",
                    limits, expected, slot=7, level=None)
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    proc = subprocess.run([sys.executable, "-m", "course_utils.grading.harness.job", str(tmp_path / "spec.json"),
                           str(tmp_path / "record.json")], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    record = json.loads((tmp_path / "record.json").read_text())
    assert record["student"] == "broken_square" and record["score"] == 4
    assert record["isolation"]["level"] in ("full", "user-namespace", "rlimits")
