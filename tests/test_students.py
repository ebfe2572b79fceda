"""Student ids and the assignment of a submission, and what ``course-kit grade`` refuses before grading."""
import subprocess
import sys

import pytest
from toy_kit import REPO, zip_files

from course_utils.grading.students import batch_assignment, held_assignments, student_id, unique_ids


@pytest.mark.parametrize("name, expected", [
    ("alice_assignment1_submission.zip", "alice"), ("bob-assignment2-submission.zip", "bob"),
    ("carol_submission.zip", "carol"), ("dave_assignment3.zip", "dave"), ("erin.zip", "erin"),
    ("Frank Li_Assignment1_Submission.ZIP", "Frank_Li"), ("subs/grace_assignment1_submission.zip", "grace"),
])
def test_student_id_drops_the_submission_suffix(name, expected):
    assert student_id(name) == expected


def test_ids_are_unique():
    ids = unique_ids(["a/alice_assignment1_submission.zip", "b/alice.zip", "c/alice_submission.zip", "bob.zip"])
    assert list(ids.values()) == ["alice", "alice-2", "alice-3", "bob"]


def test_assignment_from_the_contents_before_the_name(tmp_path):
    inside = zip_files(tmp_path / "x_assignment2_submission.zip", {"assignments/assignment1/knn.ipynb": "{}",
                                                                  "course_utils/layers.py": ""})
    assert held_assignments(inside, REPO) == ["assignment1"]  # the name says 2, the contents 1
    flat = zip_files(tmp_path / "upload.zip", {"knn.ipynb": "{}", "svm.ipynb": "{}"})  # notebook names only
    assert held_assignments(flat, REPO) == ["assignment1"]
    broken = tmp_path / "y_assignment3_submission.zip"
    broken.write_bytes(b"not a zip")
    assert held_assignments(broken, REPO) == ["assignment3"]  # nothing readable inside: the name
    folder = tmp_path / "unpacked" / "assignments" / "assignment2"
    folder.mkdir(parents=True)
    (folder / "Dropout.ipynb").write_text("{}")
    assert held_assignments(tmp_path / "unpacked", REPO) == ["assignment2"]


def test_batch_assignment_agrees_with_the_contents_or_says_why_not():
    held = {"alice.zip": ["assignment1"], "bob.zip": ["assignment1"], "corrupt.zip": []}
    assert batch_assignment(held, None, REPO) == "assignment1"
    assert batch_assignment(held, "assignment1", REPO) == "assignment1"
    with pytest.raises(ValueError, match=r"--assignment assignment2, but these submissions hold another "
                                         r"assignment: alice.zip \(assignment1\); bob.zip \(assignment1\)"):
        batch_assignment(held, "assignment2", REPO)
    with pytest.raises(ValueError, match=r"different assignments \(assignment1: alice.zip; assignment2: carol.zip\)"):
        batch_assignment({"alice.zip": ["assignment1"], "carol.zip": ["assignment2"]}, None, REPO)
    with pytest.raises(ValueError, match="cannot tell which assignment the submissions hold: say it with --assignment"):
        batch_assignment({"corrupt.zip": []}, None, REPO)


def grade(*args):
    return subprocess.run([sys.executable, "-m", "course_utils", "grade", *map(str, args)],
                          capture_output=True, text=True, timeout=120)


def test_grade_refuses_what_is_not_a_submission(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "notes.txt").write_text("x")
    sub = zip_files(tmp_path / "alice_assignment1_submission.zip", {"assignments/assignment1/knn.ipynb": "{}"})
    (tmp_path / "out.txt").write_text("x")
    for args, words in (
        ([tmp_path / "empty"], "holds no submission zips and is not an unpacked submission"),
        ([tmp_path / "missing.zip"], "missing.zip does not exist"),
        ([tmp_path / "notes.txt"], "notes.txt is not a zip"),
        ([sub, "--assignment", "2"], "--assignment assignment2, but these submissions hold another assignment"),
        ([sub, "--assignment", "two"], "assignment must look like 'assignment1' or '1'"),
    ):
        proc = grade(*args, "--out", tmp_path / "grades")
        assert proc.returncode == 2 and words in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr and "\x1b[" not in proc.stderr
    proc = grade(sub, "--out", tmp_path / "out.txt")
    assert proc.returncode == 2 and "is a file, not a folder" in proc.stderr
    proc = grade(sub, "--out", tmp_path / "no" / "grades")
    assert proc.returncode == 2 and "does not exist: create it first" in proc.stderr
    assert not (tmp_path / "grades").exists() and not (tmp_path / "no").exists()
