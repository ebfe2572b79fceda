"""The clean folders a submission is graded in.

Once per batch (``prepare``):
- the student release of the assignment (``release/``), built from the source;
- the reference package: the instructor's ``course_utils`` copied as
  ``course_utils_reference`` (imports renamed), so hidden tests can compare a
  student's function with the reference on fresh random inputs;
- the hidden tests and the streaming pytest plugin.

Per submission (``build``)::

    sandbox/kit/        the release's course_utils + the student's editable files,
                        assignments/<a>/ holding the REFERENCE notebooks (for nbval)
    sandbox/hidden/     hidden tests (pytest.ini makes it the rootdir)
    sandbox/nbval/      pytest.ini + sanitize rules for nbval
    sandbox/student/    the student's own notebooks (checked, never executed)

Nothing in a sandbox links back to the source or to another sandbox.
"""
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from course_utils.grading.kit import editable_modules, notebooks
from course_utils.grading.tests_step import install_plugin

REFERENCE_PACKAGE = "course_utils_reference"
_PACKAGE_NAME = re.compile(r"\bcourse_utils\b")
_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints")


@dataclass
class BatchContext:
    source: Path
    assignment: str
    release: Path          # the student release (stubs)
    reference: Path        # folder holding course_utils_reference/
    grader: Path           # folder holding the pytest plugin
    hidden: list           # hidden test files/folders to copy, in order (shared ones first)
    editable: list         # editable module paths
    notebooks: list        # the assignment's notebook paths (kit-relative)


def hidden_sources(source, assignment, manifest):
    """What goes into a sandbox's hidden/: grading/shared/conftest.py and the manifest's
    shared tests, then the assignment's own hidden/ folder (which may override them)."""
    from course_utils.grading.manifest import ManifestError

    shared = Path(source) / "grading" / "shared"
    names = (["conftest.py"] if (shared / "conftest.py").exists() else []) + list(manifest.shared_tests)
    missing = [n for n in names if not (shared / n).is_file()]
    if missing:
        raise ManifestError(f"{manifest.path}: shared_tests {missing} are not in {shared}")
    own = Path(source) / "grading" / assignment / "hidden"
    return [shared / n for n in names] + ([own] if own.is_dir() else [])


def prepare(source, assignment, work, manifest):
    """Build the per-batch folders under ``work``; return a BatchContext."""
    from course_utils.tools.release import write_release

    source, work = Path(source).resolve(), Path(work).resolve()
    release = work / "release"
    if release.exists():
        shutil.rmtree(release)
    write_release(source, release, assignment)
    reference = work / "reference"
    if reference.exists():
        shutil.rmtree(reference)
    write_reference_package(source / "course_utils", reference / REFERENCE_PACKAGE)
    grader = install_plugin(work / "grader")
    return BatchContext(source, assignment, release, reference, grader,
                        hidden_sources(source, assignment, manifest),
                        editable_modules(source), notebooks(source, assignment))


def write_reference_package(package, target):
    """Copy ``package`` to ``target`` with every ``course_utils`` import renamed."""
    shutil.copytree(package, target, ignore=_IGNORED)
    for path in target.rglob("*.py"):
        path.write_text(_PACKAGE_NAME.sub(REFERENCE_PACKAGE, path.read_text(encoding="utf-8")), encoding="utf-8")


def build(context, student_files, dest):
    """Make the sandbox for one submission in ``dest``.

    student_files: {kit-relative path: file path} of the files the student handed in
    (only editable modules and the assignment's notebooks are used).
    Returns the sandbox path.
    """
    dest = Path(dest).resolve()
    if dest.exists():
        shutil.rmtree(dest)
    kit = dest / "kit"
    shutil.copytree(context.release / "course_utils", kit / "course_utils", ignore=_IGNORED)
    for compiled in (context.source / "course_utils").glob("*.so"):
        shutil.copy2(compiled, kit / "course_utils" / compiled.name)
    for rel in context.editable:
        if rel in student_files:
            shutil.copyfile(student_files[rel], kit / rel)
    assignment_dir = kit / "assignments" / context.assignment
    assignment_dir.mkdir(parents=True)
    for rel in context.notebooks:
        shutil.copyfile(context.source / rel, kit / rel)  # reference notebooks, outputs stored
    student = dest / "student"
    student.mkdir()
    for rel in context.notebooks:
        if rel in student_files:
            shutil.copyfile(student_files[rel], student / Path(rel).name)
    hidden = dest / "hidden"
    hidden.mkdir()
    for item in context.hidden:
        if item.is_dir():
            shutil.copytree(item, hidden, ignore=_IGNORED, dirs_exist_ok=True)
        else:
            shutil.copyfile(item, hidden / item.name)
    (hidden / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    nbval = dest / "nbval"
    nbval.mkdir()
    (nbval / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    return dest


def python_path(context, sandbox, with_reference):
    """PYTHONPATH for a step: the sandbox kit first, then the plugin (and the reference)."""
    parts = [str(Path(sandbox) / "kit"), str(context.grader)]
    if with_reference:
        parts.append(str(context.reference))
    return ":".join(parts)
