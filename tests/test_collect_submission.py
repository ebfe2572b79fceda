import hashlib
import json
import shutil
import subprocess
import zipfile

import nbformat
import pytest
from toy_kit import REPO

from course_utils.grading.kit import editable_modules, notebooks
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
    listing = {"notebooks": [f"assignments/assignment9/{n}.ipynb" for n in ("first", "second")], "questions": {}}
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


def test_refuses_notebooks_that_were_not_run(kit):
    proc = collect(kit, "assignment9")
    assert proc.returncode == 1
    assert "assignments/assignment9/first.ipynb: cell 2 was not run" in proc.stderr
    assert "Restart & Run All" in proc.stderr
    assert not (kit / "assignment9_submission.zip").exists()


def test_writes_zip_with_only_notebooks_and_editable_modules(kit):
    folder = kit / "assignments" / "assignment9"
    run_all(folder / "first.ipynb", answer="Because it is linear.")
    run_all(folder / "second.ipynb")
    (kit / "datasets" / "cifar-10-batches-py").mkdir()
    (kit / "datasets" / "cifar-10-batches-py" / "data_batch_1").write_bytes(b"\0" * 1000)
    (folder / ".ipynb_checkpoints").mkdir()
    (folder / ".ipynb_checkpoints" / "first-checkpoint.ipynb").write_text("{}")
    (folder / "model.pkl").write_bytes(b"checkpoint")
    (kit / "course_utils" / "__pycache__").mkdir(exist_ok=True)
    (kit / "course_utils" / "__pycache__" / "layers.cpython-311.pyc").write_bytes(b"x")
    before = snapshot(kit)
    proc = collect(kit, "assignment9")
    assert proc.returncode == 0, proc.stderr
    target = kit / "assignment9_submission.zip"
    with zipfile.ZipFile(target) as archive:
        names = sorted(archive.namelist())
    assert names == sorted(editable_modules(kit) + notebooks(kit, "assignment9"))
    assert "warning: course_utils/layers.py: not implemented yet: " in proc.stdout  # the release's stubs
    assert "written answer(s) still say" in proc.stdout  # second.ipynb is unanswered
    after = snapshot(kit)
    assert {p: h for p, h in after.items() if p in before} == before  # originals untouched
    new = sorted(p.name for p in set(after) - set(before))
    assert new[0] == "assignment9_answers.html" or new[0] == "assignment9_answers.pdf"
    assert new[1:] == ["assignment9_submission.zip"]
    exported = kit / new[0]
    assert exported.suffix == ".pdf" or "Because it is linear." in exported.read_text()


@pytest.mark.parametrize("problem, expected", [
    ("error", "first.ipynb: cell 4 shows an error: NameError"),
    ("order", "first.ipynb: cell 4 ran before cell 2"),
    ("missing", "first.ipynb: missing"),
])
def test_refuses_errors_disorder_and_missing(kit, problem, expected):
    folder = kit / "assignments" / "assignment9"
    run_all(folder / "second.ipynb")
    if problem == "missing":
        (folder / "first.ipynb").unlink()
    else:
        run_all(folder / "first.ipynb", error=problem == "error", order=[5, 2, 3] if problem == "order" else None)
    proc = collect(kit, "assignment9")
    assert proc.returncode == 1 and expected in proc.stderr, proc.stderr
    assert not (kit / "assignment9_submission.zip").exists()


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
