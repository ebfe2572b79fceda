import hashlib
import json
import os
import shutil
import stat
import subprocess
import zipfile

import nbformat
import pytest
from toy_kit import REPO

from course_utils.grading.collect import export_answers
from course_utils.grading.kit import notebooks
from course_utils.tools.release import write_release


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    out = tmp_path_factory.mktemp("collect") / "kit"
    write_release(REPO, out)
    folder = out / "assignments" / "assignment9"  # our own small assignment, independent of the real ones
    folder.mkdir()
    for name in ("first", "second"):
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_markdown_cell("# hi"), nbformat.v4.new_code_cell("x = 1"),
                    nbformat.v4.new_code_cell(""), nbformat.v4.new_code_cell("print(x)"),
                    nbformat.v4.new_markdown_cell("**Inline Question 1:** why?"),
                    nbformat.v4.new_markdown_cell("**Your answer:**\n<!-- BEGIN ANSWER -->\n"
                                                  "*Your answer:* fill this in.\n<!-- END ANSWER -->")]
        nbformat.write(nb, folder / f"{name}.ipynb")
    listing = {"notebooks": [f"assignments/assignment9/{n}.ipynb" for n in ("first", "second")],
               "questions": [{"name": "affine", "title": "Affine layer", "points": 1, "cells": [], "public": [],
                              "functions": ["course_utils/layers.py::affine_forward",
                                            "course_utils/layers.py::affine_backward"]}]}
    (folder / "questions.json").write_text(json.dumps(listing))  # as the release writes it
    return out


@pytest.fixture
def kit(release, tmp_path):
    copy = tmp_path / "kit"
    shutil.copytree(release, copy, symlinks=True)
    return copy


def run_all(path, answer=None, error=False, order=None):
    """Pretend the student ran the notebook top to bottom."""
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    for count, cell in zip(order or range(1, len(code) + 1), code):
        cell.execution_count = count
    if error:
        code[-1].outputs = [nbformat.v4.new_output("error", ename="NameError", evalue="name 'x' is not defined",
                                                   traceback=[])]
    if answer:
        nb.cells[-1].source = f"**Your answer:**\n<!-- BEGIN ANSWER -->\n{answer}\n<!-- END ANSWER -->"
    nbformat.write(nb, path)


def collect(kit, *args, cwd=None):
    return subprocess.run(["bash", str(kit / "collect_submission.sh"), *args], cwd=cwd or kit,
                          capture_output=True, text=True, timeout=300)


def snapshot(kit):
    return {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in kit.rglob("*") if p.is_file()}


def zip_names(kit, assignment="assignment9"):
    with zipfile.ZipFile(kit / f"{assignment}_submission.zip") as archive:
        return sorted(archive.namelist())


def summary_line(proc, rel):
    return next(line.split(maxsplit=1)[1] for line in proc.stdout.splitlines() if line.strip().startswith(rel))


def test_unfinished_work_is_zipped_with_a_summary(kit):
    folder = kit / "assignments" / "assignment9"
    run_all(folder / "first.ipynb", error=True)  # second.ipynb was never run
    proc = collect(kit, "assignment9", "--no-export")
    assert proc.returncode == 0, proc.stderr
    assert zip_names(kit) == ["assignments/assignment9/first.ipynb", "assignments/assignment9/second.ipynb",
                              "course_utils/layers.py"]  # the assignment's own module only
    assert summary_line(proc, "assignments/assignment9/first.ipynb") == "errors in cell 4; 1 written answer not given"
    assert summary_line(proc, "assignments/assignment9/second.ipynb") == "2 cells not run; 1 written answer not given"
    assert summary_line(proc, "course_utils/layers.py") == "stubs left in functions affine_backward, affine_forward"
    assert "Unfinished work is graded as it is" in proc.stdout
    assert len(proc.stdout.splitlines()) < 10
    assert stat.S_IMODE(os.stat(kit / "assignment9_submission.zip").st_mode) == 0o644


def test_strict_refuses_what_was_not_run(kit):
    proc = collect(kit, "assignment9", "--strict")
    assert proc.returncode == 1
    assert "assignments/assignment9/first.ipynb: 2 cells not run" in proc.stderr
    assert "Restart & Run All" in proc.stderr
    assert not (kit / "assignment9_submission.zip").exists()


def test_writes_zip_with_only_notebooks_and_the_assignments_modules(kit):
    folder = kit / "assignments" / "assignment9"
    run_all(folder / "first.ipynb", answer="Because it is linear.")
    run_all(folder / "second.ipynb", answer="Also linear.")
    (kit / "datasets" / "cifar-10-batches-py").mkdir()
    (kit / "datasets" / "cifar-10-batches-py" / "data_batch_1").write_bytes(b"\0" * 1000)
    (folder / ".ipynb_checkpoints").mkdir()
    (folder / ".ipynb_checkpoints" / "first-checkpoint.ipynb").write_text("{}")
    (folder / "model.pkl").write_bytes(b"checkpoint")
    (kit / "course_utils" / "__pycache__").mkdir(exist_ok=True)
    (kit / "course_utils" / "__pycache__" / "layers.cpython-311.pyc").write_bytes(b"x")
    before = snapshot(kit)
    proc = collect(kit, "assignment9", "--strict")
    assert proc.returncode == 0, proc.stderr
    assert zip_names(kit) == ["assignments/assignment9/first.ipynb", "assignments/assignment9/second.ipynb",
                              "course_utils/layers.py"]
    assert summary_line(proc, "assignments/assignment9/first.ipynb") == "ok"
    after = snapshot(kit)
    assert {p: h for p, h in after.items() if p in before} == before  # originals untouched
    new = sorted(p.name for p in set(after) - set(before))
    assert new[0] == "assignment9_answers.html" or new[0] == "assignment9_answers.pdf"
    assert new[1:] == ["assignment9_submission.zip"]
    exported = kit / new[0]
    assert exported.suffix == ".pdf" or "Because it is linear." in exported.read_text()


def test_exported_answers_say_your_answer_once(kit):
    folder = kit / "assignments" / "assignment9"
    run_all(folder / "first.ipynb", answer="Because it is linear.")  # second.ipynb keeps the placeholder
    exported = export_answers(kit, notebooks(kit, "assignment9"), kit / "assignment9_answers")
    if exported.suffix == ".pdf":
        pytest.skip("LaTeX is installed: the export is a PDF")
    text = exported.read_text()
    assert text.count("Your answer:") == 2 and "fill this in" not in text
    assert "Because it is linear." in text and "(not answered)" in text


@pytest.mark.parametrize("problem, expected", [
    ("error", "first.ipynb: errors in cell 4"),
    ("order", "first.ipynb: run out of order (cell 4)"),
])
def test_strict_refuses_errors_and_disorder(kit, problem, expected):
    folder = kit / "assignments" / "assignment9"
    run_all(folder / "second.ipynb")
    run_all(folder / "first.ipynb", error=problem == "error", order=[5, 2, 3] if problem == "order" else None)
    proc = collect(kit, "assignment9", "--strict")
    assert proc.returncode == 1 and expected in proc.stderr, proc.stderr
    assert not (kit / "assignment9_submission.zip").exists()
    assert collect(kit, "assignment9", "--no-export").returncode == 0  # without --strict it is zipped


def test_a_missing_file_stops_it(kit):
    (kit / "assignments" / "assignment9" / "first.ipynb").unlink()
    proc = collect(kit, "assignment9")
    assert proc.returncode == 1
    assert "assignments/assignment9/first.ipynb is missing: put it back" in proc.stderr
    assert not (kit / "assignment9_submission.zip").exists()


def test_untouched_release_of_assignment1_is_zipped_with_one_line_per_file(kit):
    proc = collect(kit, "assignment1", "--no-export")
    assert proc.returncode == 0, proc.stderr
    names = zip_names(kit, "assignment1")
    modules = [n for n in names if n.startswith("course_utils/")]
    assert modules == ["course_utils/classifiers/fc_net.py", "course_utils/classifiers/k_nearest_neighbor.py",
                       "course_utils/classifiers/linear_classifier.py", "course_utils/classifiers/linear_svm.py",
                       "course_utils/classifiers/neural_net.py", "course_utils/classifiers/softmax.py",
                       "course_utils/layers.py"]
    assert [n for n in names if n not in modules] == notebooks(kit, "assignment1")
    assert "not run" in summary_line(proc, "assignments/assignment1/knn.ipynb")
    assert len(proc.stdout.splitlines()) == 1 + len(names) + 3  # header, one line per file, blank, result, hint


def test_assignment_from_the_current_folder_or_asked_for(kit):
    folder = kit / "assignments" / "assignment9"
    for name in ("first", "second"):
        run_all(folder / f"{name}.ipynb")
    proc = collect(kit, "--no-export", cwd=folder)
    assert proc.returncode == 0, proc.stderr
    assert (kit / "assignment9_submission.zip").exists()
    proc = collect(kit)
    assert proc.returncode == 2 and "say which assignment" in proc.stderr
    proc = collect(kit, "assignment8")
    assert proc.returncode == 2 and "there is no assignments/assignment8" in proc.stderr
    assert "the assignments of this kit: assignment1, assignment2, assignment3, assignment9" in proc.stderr
