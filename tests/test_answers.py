"""Written answers on the toy kit (one inline question, ``[answers.why]``, 2 points):
their grades.csv columns and results before and after scoring, ``course-kit answers
export`` (one page per question, a scores.csv template), ``course-kit answers import``
(validated, merged into the grader's ledger) and a re-run of ``course-kit grade``
that keeps the imported scores."""
import csv
import hashlib
import json
import subprocess
import sys
import tomllib
from pathlib import Path

import nbformat
import pytest
from toy_kit import MANIFEST, check_results_schema, make_toy_source, toy_notebook, toy_submission

from course_utils.grading.harness.written import check_answers
from course_utils.grading.manifest import ManifestError, manifest_from_dict
from course_utils.tools.release import write_release

CAROL = "It is <b>linear</b> & simple."


def course_kit(*args):
    return subprocess.run([sys.executable, "-m", "course_utils", *map(str, args)], capture_output=True, text=True,
                          timeout=900)


def grades(out):
    with open(Path(out) / "grades.csv", newline="") as handle:
        return {row["student"]: row for row in csv.DictReader(handle)}


def results(out, student):
    return json.loads((Path(out) / "results" / f"{student}.json").read_text())


def written_test(out, student):
    [test] = [t for t in results(out, student)["tests"] if "written" in t.get("tags", [])]
    return test


def snapshot(folder):
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(Path(folder).rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("answers")
    source = make_toy_source(base / "src")
    release = base / "release"
    write_release(source, release)
    subs = base / "subs"
    subs.mkdir()
    toy_submission(subs / "alice_assignment1_submission.zip")  # answers "Because doubling is linear."
    toy_submission(subs / "bob_assignment1_submission.zip",  # the release's notebook: the placeholder
                   notebook=nbformat.read(release / "assignments" / "assignment1" / "toy.ipynb", as_version=4))
    toy_submission(subs / "carol_assignment1_submission.zip", notebook=toy_notebook(answer=CAROL))
    out = base / "grades"
    proc = course_kit("grade", subs, "--out", out, "--source", source, "-j", "2", "--quiet",
                      "--timeout", "60", "--test-timeout", "8")
    assert proc.returncode == 0, proc.stderr[-3000:]
    before = {"grades": grades(out), "alice": results(out, "alice"), "bob": results(out, "bob")}
    return {"base": base, "source": source, "release": release, "subs": subs, "out": out, "before": before}


@pytest.fixture(scope="module")
def imported(graded):
    scores = graded["base"] / "scores.csv"
    scores.write_text("student,question,points,comment\nalice,why,2,clear and right\n"
                      "bob,why,,unanswered\ncarol,why,1.5,\"linear, but why?\"\n")
    proc = course_kit("answers", "import", scores, "--out", graded["out"])
    assert proc.returncode == 0, proc.stderr
    assert "imported 2 score(s) for 2 student(s)" in proc.stdout
    return graded


def test_release_lists_the_written_answers(graded):
    listing = json.loads((graded["release"] / "assignments" / "assignment1" / "questions.json").read_text())
    assert listing["answers"] == [{"name": "why", "title": "Why doubling works", "points": 2.0,
                                   "notebook": "toy", "question": 1}]


def test_before_scoring_answers_wait_and_unanswered_shows(graded):
    rows = graded["before"]["grades"]
    assert (rows["alice"]["total"], rows["alice"]["why"], rows["alice"]["combined_total"]) == ("10", "", "")
    assert rows["alice"]["written_total"] == "" and rows["alice"]["combined_max"] == "12"
    bob = rows["bob"]
    assert (bob["why"], bob["written_total"], bob["combined_total"]) == ("unanswered", "0", "10")
    alice, bob = graded["before"]["alice"], graded["before"]["bob"]
    for data in (alice, bob):
        check_results_schema(data)
        assert data["score"] == 10
    test = next(t for t in alice["tests"] if "written" in t.get("tags", []))
    assert (test["name"], test["score"], test["max_score"]) == ("why: Why doubling works", 0, 2)
    assert test["status"] == "failed"
    assert test["output"].startswith("to be graded by hand") and "Because doubling is linear." in test["output"]
    test = next(t for t in bob["tests"] if "written" in t.get("tags", []))
    assert test["status"] == "failed" and test["output"].startswith("unanswered")
    assert "fill this in" not in test["output"]
    assert "written answers: 0 / 2 points so far, 1 to be graded by hand" in alice["output"]


def test_export_writes_one_page_per_question_and_a_template(graded, tmp_path):
    before = snapshot(graded["subs"])
    out = tmp_path / "export"
    proc = course_kit("answers", "export", graded["subs"], "--out", out, "--source", graded["source"])
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in out.iterdir()) == ["index.html", "scores.csv", "why.html"]
    page = (out / "why.html").read_text()
    assert "Because doubling is linear." in page  # alice's answer, and the reference answer
    assert "It is &lt;b&gt;linear&lt;/b&gt; &amp; simple." in page and "<b>linear" not in page  # escaped
    bob = page[page.index('<section id="bob">'):]
    assert "unanswered" in bob.split("</section>")[0]
    assert "**Inline Question 1:** why?" in page and "2 of 3 answered" in page
    assert 'href="why.html"' in (out / "index.html").read_text()
    with open(out / "scores.csv", newline="") as handle:
        assert list(csv.reader(handle)) == [["student", "question", "points", "comment"], ["alice", "why", "", ""],
                                            ["bob", "why", "", "unanswered"], ["carol", "why", "", ""]]
    again = course_kit("answers", "export", graded["subs"], "--out", out, "--source", graded["source"])
    assert again.returncode == 2 and "is not empty: add --force" in again.stderr
    into_grades = course_kit("answers", "export", graded["subs"], "--out", graded["out"], "--source",
                             graded["source"], "--force")
    assert into_grades.returncode == 2 and "is a grade folder" in into_grades.stderr
    into_subs = course_kit("answers", "export", graded["subs"], "--out", graded["subs"], "--source",
                           graded["source"], "--force")
    assert into_subs.returncode == 2 and "holds submissions" in into_subs.stderr
    assert snapshot(graded["subs"]) == before  # originals untouched


def test_import_fills_the_columns_results_and_feedback(imported):
    out = imported["out"]
    rows = grades(out)
    assert [rows["alice"][c] for c in ("total", "why", "written_total", "combined_total")] == ["10", "2", "2", "12"]
    assert [rows["carol"][c] for c in ("why", "written_total", "combined_total")] == ["1.5", "1.5", "11.5"]
    assert rows["bob"]["why"] == "unanswered" and rows["bob"]["combined_total"] == "10"
    alice = results(out, "alice")
    check_results_schema(alice)
    assert alice["score"] == 12
    test = written_test(out, "alice")
    assert (test["score"], test["status"]) == (2, "passed") and "clear and right" in test["output"]
    test = written_test(out, "carol")
    assert (test["score"], test["status"]) == (1.5, "failed") and "linear, but why?" in test["output"]
    feedback = (out / "feedback" / "carol.md").read_text()
    assert "| Why doubling works | 1.5 / 2 | scored |" in feedback and "> **TA:** linear, but why?" in feedback
    assert results(out, "bob") == imported["before"]["bob"]  # not in the scores: left alone


def test_rerun_keeps_imported_scores(imported):
    out, subs, source = imported["out"], imported["subs"], imported["source"]
    scored = grades(out)
    proc = course_kit("grade", subs, "--out", out, "--source", source, "--quiet")
    assert proc.returncode == 0 and "graded 0, skipped 3" in proc.stdout
    assert grades(out) == scored
    proc = course_kit("grade", subs / "alice_assignment1_submission.zip", "--out", out, "--source", source,
                      "--quiet", "--force", "--timeout", "60", "--test-timeout", "8")
    assert proc.returncode == 0 and "graded 1, skipped 0" in proc.stdout, proc.stderr[-2000:]
    assert grades(out)["alice"]["why"] == "2" and written_test(out, "alice")["score"] == 2  # answer unchanged


@pytest.mark.parametrize("rows, message", [
    ("dave,why,1,", "row 3: unknown student 'dave'; graded students: alice, bob, carol"),
    ("alice,how,1,", "row 3: unknown question 'how'; the written answers of alice: why"),
    ("alice,why,3,", "row 3: 3 points for why, which takes 0 to 2 points"),
    ("alice,why,-1,", "row 3: -1 points for why, which takes 0 to 2 points"),
    ("alice,why,two,", "row 3: points 'two' is not a number"),
    ("carol,why,1,again", "row 3: carol, why was already given in row 2"),
    ("alice,why,1,a,b", "row 3: more cells than the header has columns"),
])
def test_bad_score_files_change_nothing(imported, tmp_path, rows, message):
    before = snapshot(imported["out"])
    scores = tmp_path / "scores.csv"
    scores.write_text(f"student,question,points,comment\ncarol,why,0,first row is fine\n{rows}\n")
    proc = course_kit("answers", "import", scores, "--out", imported["out"])
    assert proc.returncode == 2 and f"{scores} {message}" in proc.stderr, proc.stderr
    assert snapshot(imported["out"]) == before


def test_import_needs_a_grade_folder_and_the_header(graded, tmp_path):
    scores = tmp_path / "scores.csv"
    scores.write_text("student,question,points,comment\nalice,why,1,\n")
    proc = course_kit("answers", "import", scores, "--out", tmp_path)
    assert proc.returncode == 2 and "holds no grades (.ledger.json is missing)" in proc.stderr
    scores.write_text("name,answer,points\nalice,why,1\n")
    proc = course_kit("answers", "import", scores, "--out", graded["out"])
    assert proc.returncode == 2 and "the header must be student,question,points,comment" in proc.stderr


@pytest.mark.parametrize("entry, message", [
    ('notebook = "knn"\nquestion = 1',
     r"\[answers.bad\]: 'knn' is not a notebook of assignment1 \(its notebooks: toy\)"),
    ('notebook = "toy"\nquestion = 2', r"\[answers.bad\]: question 2, but toy.ipynb has 1 inline question"),
])
def test_answers_are_checked_against_the_notebooks(tmp_path, entry, message):
    source = make_toy_source(tmp_path / "src")
    manifest = tmp_path / "manifest.toml"
    manifest.write_text(MANIFEST + f"\n[answers.bad]\npoints = 1\n{entry}\n")
    with pytest.raises(ManifestError, match=message):
        check_answers(manifest_from_dict(tomllib.loads(manifest.read_text()), manifest), source, "assignment1")
    sub = toy_submission(tmp_path / "alice.zip")
    proc = course_kit("answers", "export", sub, "--out", tmp_path / "export", "--source", source,
                      "--manifest", manifest)
    assert proc.returncode == 2 and "[answers.bad]" in proc.stderr and not (tmp_path / "export").exists()
    proc = course_kit("grade", sub, "--out", tmp_path / "grades", "--source", source, "--manifest", manifest, "--quiet")
    assert proc.returncode == 2 and "[answers.bad]" in proc.stderr
