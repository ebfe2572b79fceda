"""``course-kit validate`` inside a student kit (the toy kit's release)."""
import subprocess
import sys

import nbformat
import pytest
from toy_kit import TOY_MODULE, make_toy_source, toy_notebook

from course_utils.tools.release import write_release


@pytest.fixture
def student_kit(tmp_path):
    source = make_toy_source(tmp_path / "src")
    write_release(source, tmp_path / "kit")
    return tmp_path / "kit"


def validate(kit, *args):
    return subprocess.run([sys.executable, "-m", "course_utils", "validate", *args, "--root", str(kit)],
                          capture_output=True, text=True, timeout=300)


def rows(output):
    return {line.split("  ")[0]: line for line in output.splitlines()}


def test_fresh_kit_is_not_started(student_kit):
    proc = validate(student_kit, "assignment1")
    assert proc.returncode == 1
    table = rows(proc.stdout)
    assert "not started" in table["Double a number"] and "not started" in table["Square a number"]
    assert "notebook not run top to bottom" in table["Double a number"]


def test_rows_follow_the_work(student_kit):
    module = student_kit / "course_utils" / "toy.py"
    released = module.read_text()
    done_double = TOY_MODULE.split("def square")[0] + "def square" + released.split("def square")[1]
    module.write_text(done_double)
    nb = toy_notebook(error_in=3)  # the student ran it; the square cell shows an error
    nbformat.write(nb, student_kit / "assignments" / "assignment1" / "toy.ipynb")
    table = rows(validate(student_kit, "assignment1").stdout)
    assert "  done  " in table["Double a number"]
    assert "notebook not run top to bottom" in table["Double a number"]  # the error is in the same notebook
    assert "not started" in table["Square a number"]

    module.write_text(TOY_MODULE.replace("out = x * x", "out = x * x + 1"))
    proc = validate(student_kit, "assignment1")
    table = rows(proc.stdout)
    assert "failing" in table["Square a number"] and "assert 10 == 9" in table["Square a number"]
    assert proc.returncode == 1

    module.write_text(TOY_MODULE)
    nbformat.write(toy_notebook(), student_kit / "assignments" / "assignment1" / "toy.ipynb")
    proc = validate(student_kit)
    assert proc.returncode == 0, proc.stdout
    assert all(line.rstrip().endswith("done") for title, line in rows(proc.stdout).items() if "number" in title)


def test_partial_stub_is_flagged(student_kit):
    module = student_kit / "course_utils" / "toy.py"
    text = TOY_MODULE + "\n\ndef extra(x):\n    out = None\n    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****\n" \
        "    pass\n    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****\n    return out\n"
    module.write_text(text)
    questions = student_kit / "assignments" / "assignment1" / "questions.json"
    questions.write_text(questions.read_text().replace('"course_utils/toy.py::double"',
                                                       '"course_utils/toy.py::double", "course_utils/toy.py::extra"'))
    table = rows(validate(student_kit, "assignment1").stdout)
    assert "failing" in table["Double a number"] and "stub still present" in table["Double a number"]


def test_unknown_assignment_and_root_are_errors(student_kit, tmp_path):
    proc = validate(student_kit, "assignment9")
    assert proc.returncode == 2
    assert "there is no assignments/assignment9" in proc.stderr and "assignments of this kit: assignment1" in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "course_utils", "validate", "--root", str(tmp_path / "nonexistent")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "there is no such folder" in proc.stderr and "\x1b[" not in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "course_utils", "validate", "--root", str(tmp_path)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "is not a course kit" in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "course_utils", "validate", "--root",
                           str(student_kit / "README.md")], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "is a file, not a folder" in proc.stderr
