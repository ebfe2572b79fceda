import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from toy_kit import REPO, TOY_MODULE, make_toy_source

from course_utils.cli import main
from course_utils.grading.kit import editable_modules
from course_utils.grading.manifest import node_matches
from course_utils.markers import ANSWER_PLACEHOLDER, END, START
from course_utils.tools.release import render_release, write_release


def tree(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(Path(folder).rglob("*")) if p.is_file()}


@pytest.fixture
def toy(tmp_path):
    return make_toy_source(tmp_path / "src")


def test_release_contents(toy, tmp_path, capsys):
    assert main(["release", str(tmp_path / "out"), "--source", str(toy)]) == 0
    assert "Wrote the student kit" in capsys.readouterr().out
    files = tree(tmp_path / "out")
    assert sorted(files) == [
        "README.md", "assignments/assignment1/questions.json", "assignments/assignment1/toy.ipynb",
        "collect_submission.sh", "course_utils/__init__.py", "course_utils/plumbing.py", "course_utils/toy.py",
        "datasets/get_datasets.sh", "requirements.txt", "tests/test_toy.py",
    ]  # no grading/, .ci/, data, tooling tests
    module = files["course_utils/toy.py"].decode()
    assert "out = 2 * x" not in module and "out = x * x" not in module
    assert module.count(START) == 2 and module.count(END) == 2 and "    pass" in module
    assert "secret" not in files["README.md"].decode() and "Grade with" not in files["README.md"].decode()
    assert os.access(tmp_path / "out" / "collect_submission.sh", os.X_OK)
    nb = nbformat.reads(files["assignments/assignment1/toy.ipynb"].decode(), as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.outputs == [] and c.execution_count is None for c in code)
    assert "best = double(1)" not in code[3].source
    assert ANSWER_PLACEHOLDER in nb.cells[-1].source and "linear" not in nb.cells[-1].source
    assert code[1].metadata["tags"] == ["graded:toy.double"]
    questions = json.loads(files["assignments/assignment1/questions.json"])
    assert [q["name"] for q in questions["questions"]] == ["double", "square"]
    assert questions["notebooks"] == ["assignments/assignment1/toy.ipynb"]
    assert "hidden" not in json.dumps(questions)


def test_release_is_deterministic(toy, tmp_path):
    write_release(toy, tmp_path / "a")
    write_release(toy, tmp_path / "b")
    assert tree(tmp_path / "a") == tree(tmp_path / "b")


def test_release_refuses_bad_markers_before_writing(toy, tmp_path, capsys):
    text = (toy / "course_utils" / "toy.py").read_text()
    (toy / "course_utils" / "toy.py").write_text(text.replace(END, START, 1))
    assert main(["release", str(tmp_path / "out"), "--source", str(toy)]) == 2
    assert "course_utils/toy.py:10: nested marker: region opened at line 8" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_release_refuses_unbalanced_notebook_markers(toy, tmp_path):
    path = toy / "assignments" / "assignment1" / "toy.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[4].source = nb.cells[4].source.replace(END, "")
    nbformat.write(nb, path)
    with pytest.raises(ValueError, match=r"toy.ipynb \(cell 5\):2: start marker is never closed"):
        render_release(toy)


def test_release_refuses_non_empty_output_unless_forced(toy, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    assert main(["release", str(out), "--source", str(toy)]) == 2
    assert "is not empty: add --force" in capsys.readouterr().err
    assert (out / "keep.txt").exists()
    assert main(["release", str(out), "--source", str(toy), "--force"]) == 0
    assert not (out / "keep.txt").exists() and (out / "course_utils" / "toy.py").exists()


def test_release_onto_a_file_a_missing_folder_or_the_source_is_an_error(toy, tmp_path, capsys):
    (tmp_path / "file.txt").write_text("mine")
    for out, words in ((tmp_path / "file.txt", "is a file, not a folder"),
                       (tmp_path / "missing" / "kit", f"the folder {tmp_path / 'missing'} does not exist"),
                       (toy, "holds files of the source"), (toy / "course_utils", "holds files of the source")):
        assert main(["release", str(out), "--source", str(toy), "--force"]) == 2
        err = capsys.readouterr().err
        assert words in err and "Traceback" not in err, err
    assert (tmp_path / "file.txt").read_text() == "mine" and not (tmp_path / "missing").exists()
    assert (toy / "course_utils" / "toy.py").read_text() == TOY_MODULE


def plant_generated_files(source):
    """What commands and tools leave in a working copy: none of it may reach a release."""
    planted = {
        "autograder.zip": b"PK solutions", "assignment1_answers.html": b"reference answers",
        "assignment1_answers.pdf": b"%PDF", "assignment1_submission.zip": b"PK",
        "build/assignment1/toy.ipynb": b"{}", "grades/grades.csv": b"student,total",
        "grades/results/alice.json": b"{}", "grades/feedback/alice.md": b"# alice",
        "answers/why.html": b"reference answers", "answers/scores.csv": b"student,question,points,comment",
        "course_utils/__pycache__/toy.cpython-311.pyc": b"\0", "tests/__pycache__/test_toy.cpython-311.pyc": b"\0",
        ".pytest_cache/v/cache/lastfailed": b"{}", ".venv/bin/python": b"",
        "assignments/assignment1/.ipynb_checkpoints/toy-checkpoint.ipynb": b"{}",
        "course_utils/.ipynb_checkpoints/toy-checkpoint.py": TOY_MODULE.encode(),
        "assignments/assignment1/model_epoch_3.pkl": b"checkpoint",
        "datasets/cifar-10-batches-py/data_batch_1": b"\0" * 64,
    }
    for rel, data in planted.items():
        (source / rel).parent.mkdir(parents=True, exist_ok=True)
        (source / rel).write_bytes(data)
    return planted


def git(folder, *args):
    subprocess.run(["git", "-C", str(folder), *args], check=True, capture_output=True)


def bundle(source, out):
    proc = subprocess.run([sys.executable, "-m", "course_utils", "gradescope", "assignment1", str(out),
                           "--source", str(source)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return out.read_bytes()


@pytest.mark.parametrize("tracked_by_git", [False, True])
def test_generated_files_never_reach_the_release_or_the_bundle(toy, tmp_path, tracked_by_git):
    if tracked_by_git:
        shutil.copy2(REPO / ".gitignore", toy / ".gitignore")
        git(toy, "init", "-q")
        git(toy, "add", ".")
    write_release(toy, tmp_path / "before")
    bundle_before = bundle(toy, tmp_path / "before.zip")
    plant_generated_files(toy)
    if tracked_by_git:
        git(toy, "add", ".")  # what git add picks up is what the .gitignore lets through
    write_release(toy, tmp_path / "after")
    assert tree(tmp_path / "after") == tree(tmp_path / "before")
    assert bundle(toy, tmp_path / "after.zip") == bundle_before


def test_git_checkout_releases_tracked_files_only(toy, tmp_path, capsys):
    git(toy, "init", "-q")
    git(toy, "add", ".")
    (toy / "course_utils" / "scratch.py").write_text("x = 1\n")  # not added
    assert main(["release", str(tmp_path / "out"), "--source", str(toy)]) == 0
    assert not (tmp_path / "out" / "course_utils" / "scratch.py").exists()
    assert "Left out 1 file(s) git does not track (git add them to release them): course_utils/scratch.py" \
        in capsys.readouterr().out


def test_release_single_assignment(toy, tmp_path):
    (toy / "assignments" / "assignment2").mkdir()
    nbformat.write(nbformat.v4.new_notebook(), toy / "assignments" / "assignment2" / "other.ipynb")
    files = write_release(toy, tmp_path / "out", "assignment2")
    assert "assignments/assignment2/other.ipynb" in files
    assert not any(f.startswith("assignments/assignment1") for f in files)
    with pytest.raises(ValueError, match="no assignments/assignment7"):
        write_release(toy, tmp_path / "x", "assignment7")


# --- the real kit ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_release(tmp_path_factory):
    out = tmp_path_factory.mktemp("release") / "kit"
    write_release(REPO, out)
    return out


def test_real_release_has_what_students_need(real_release):
    for rel in ("README.md", "collect_submission.sh", "requirements.txt", "setup.py", "datasets/get_datasets.sh"):
        assert (real_release / rel).is_file(), rel
    assert not (real_release / "grading").exists() and not (real_release / ".ci").exists()
    assert not (real_release / "course_utils" / "tools" / "grade.py").exists()
    assert not list(real_release.rglob("*.so")) and not list(real_release.rglob("__pycache__"))
    assert not (real_release / "tests" / "test_release.py").exists()
    assert editable_modules(real_release) == editable_modules(REPO)
    for nb_path in real_release.glob("assignments/*/*.ipynb"):
        nb = nbformat.read(nb_path, as_version=4)
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), nb_path


def test_real_release_is_deterministic(real_release, tmp_path):
    write_release(REPO, tmp_path / "again")
    assert tree(tmp_path / "again") == tree(real_release)


def test_real_release_modules_import(real_release):
    modules = [p.relative_to(real_release).with_suffix("").as_posix().replace("/", ".")
               for p in sorted((real_release / "course_utils").rglob("*.py")) if p.name != "__main__.py"]
    code = "import importlib, sys\nfor m in sys.argv[1:]:\n    importlib.import_module(m)\nprint('ok')"
    proc = subprocess.run([sys.executable, "-c", code, *modules], cwd=real_release, capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": str(real_release)})
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-2000:]


def test_real_release_public_tests_fail_on_stubs_not_imports(real_release, tmp_path):
    assert list((real_release / "tests").glob("test_*.py"))  # the public tests ship
    ini = tmp_path / "pytest.ini"
    ini.write_text("[pytest]\n")
    env = {**os.environ, "PYTHONPATH": str(real_release), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    command = [sys.executable, "-m", "pytest", "-c", str(ini), "--rootdir", str(real_release), "-p", "no:cacheprovider",
               "-q", "--tb=line", "-o", "addopts=", "tests"]
    collect = subprocess.run([*command, "--collect-only"], cwd=real_release, capture_output=True, text=True, env=env)
    assert collect.returncode == 0, collect.stdout[-3000:]  # every public test file imports
    proc = subprocess.run(command, cwd=real_release, capture_output=True, text=True, env=env, timeout=600)
    out = proc.stdout
    assert proc.returncode == 1 and " failed" in out.splitlines()[-1], out[-3000:]
    assert "ImportError" not in out and "ModuleNotFoundError" not in out, out[-3000:]


def test_every_public_pattern_names_released_tests(real_release, tmp_path):
    """A question's public checks must exist in the kit students get, or validate would say
    "done" for it on no evidence."""
    ini = tmp_path / "pytest.ini"
    ini.write_text("[pytest]\n")
    env = {**os.environ, "PYTHONPATH": str(real_release), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    proc = subprocess.run([sys.executable, "-m", "pytest", "-c", str(ini), "--rootdir", str(real_release),
                           "-p", "no:cacheprovider", "-q", "--collect-only", "tests"],
                          cwd=real_release, capture_output=True, text=True, env=env, timeout=600)
    ids = [line for line in proc.stdout.splitlines() if "::" in line]
    unmatched = []
    for listing in real_release.glob("assignments/*/questions.json"):
        for question in json.loads(listing.read_text())["questions"]:
            unmatched += [(question["name"], pattern) for pattern in question["public"]
                          if not any(node_matches(node, pattern) for node in ids)]
    assert ids and not unmatched
