"""The clean folders a submission is graded in.

Once per batch (``prepare``):
- the student release of the assignment (``release/``), built from the source;
- the reference package: the instructor's ``course_utils`` copied as
  ``course_utils_reference`` (imports renamed), which only the harness imports;
- the hidden tests and the streaming pytest plugin;
- the manifest's pretrained networks, trained into the source's ``datasets/pretrained`` if missing.

Per submission (``build``), two folders that never mix::

    <job>/sandbox/kit/   the release's course_utils + the student's editable files (and
                         copies of the manifest's pretrained checkpoints in datasets/pretrained):
                         the only folder student code (worker, notebook kernel) sees
    <job>/harness/hidden/   hidden tests and conftest (pytest.ini makes it the rootdir)
    <job>/harness/student/  the student's own notebooks (read as data, never executed)

Reference notebooks are read from the source by the harness and never copied into
a sandbox. Nothing in a sandbox links back to the source or to another sandbox.
"""
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from course_utils.grading.kit import editable_modules, notebooks
from course_utils.grading.harness.tests_step import install_plugin
from course_utils.grading.worker.server import install as install_worker

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
    worker: Path           # folder holding the worker module (mounted read-only for student code)
    hidden: list           # hidden test files/folders to copy, in order (shared ones first)
    editable: list         # editable module paths
    notebooks: list        # the assignment's notebook paths (kit-relative)
    pretrained: list = ()  # checkpoint files of the manifest's pretrained networks, copied into every kit


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
    worker = install_worker(work / "worker")
    return BatchContext(source, assignment, release, reference, grader, worker,
                        hidden_sources(source, assignment, manifest),
                        editable_modules(source), notebooks(source, assignment),
                        pretrained_checkpoints(source, manifest))


def pretrained_checkpoints(source, manifest):
    """Checkpoints of the manifest's pretrained tasks in the source's datasets folder, trained
    here (by the instructor's code, once: they are cached) when missing or stale."""
    from course_utils.pretrained import pretrained_net

    folder = Path(source) / "datasets" / "pretrained"
    paths = []
    for task in manifest.pretrained:
        print(f"pretrained network {task!r}: checking its checkpoint in {folder}")
        paths.append(Path(pretrained_net(task, folder=folder).checkpoint))
    return paths


def write_reference_package(package, target):
    """Copy ``package`` to ``target`` with every ``course_utils`` import renamed."""
    shutil.copytree(package, target, ignore=_IGNORED)
    for path in target.rglob("*.py"):
        path.write_text(_PACKAGE_NAME.sub(REFERENCE_PACKAGE, path.read_text(encoding="utf-8")), encoding="utf-8")


@dataclass
class Box:
    """One submission's folders: ``sandbox`` (holds ``kit``) for student code, ``harness`` for the grader."""
    sandbox: Path
    kit: Path
    harness: Path


def build(context, student_files, dest):
    """Make the folders for one submission under ``dest``; return a Box.

    student_files: {kit-relative path: file path} of the files the student handed in
    (only editable modules and the assignment's notebooks are used).
    """
    dest = Path(dest).resolve()
    if dest.exists():
        shutil.rmtree(dest)
    box = Box(dest / "sandbox", dest / "sandbox" / "kit", dest / "harness")
    shutil.copytree(context.release / "course_utils", box.kit / "course_utils", ignore=_IGNORED)
    for compiled in (context.source / "course_utils").glob("*.so"):
        shutil.copy2(compiled, box.kit / "course_utils" / compiled.name)
    for rel in context.editable:
        if rel in student_files:
            shutil.copyfile(student_files[rel], box.kit / rel)
    (box.kit / "assignments" / context.assignment).mkdir(parents=True)
    _copy_checkpoints(context, box.kit / "datasets" / "pretrained")
    student = box.harness / "student"
    student.mkdir(parents=True)
    for rel in context.notebooks:
        if rel in student_files:
            shutil.copyfile(student_files[rel], student / Path(rel).name)
    hidden = box.harness / "hidden"
    hidden.mkdir()
    for item in context.hidden:
        if item.is_dir():
            shutil.copytree(item, hidden, ignore=_IGNORED, dirs_exist_ok=True)
        else:
            shutil.copyfile(item, hidden / item.name)
    (hidden / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    return box


def _copy_checkpoints(context, folder):
    """Read-only copies of the batch's pretrained checkpoints, where the kit's notebooks look."""
    if not context.pretrained:
        return
    folder.mkdir(parents=True)
    for checkpoint in context.pretrained:
        shutil.copyfile(checkpoint, folder / checkpoint.name)
        os.chmod(folder / checkpoint.name, 0o444)


def harness_path(context):
    """PYTHONPATH of the harness's hidden-test process: the plugin and the reference, no student code."""
    return ":".join([str(context.grader), str(context.reference)])


def readable_data(context):
    """Folders student code may read besides its kit: the source's downloaded datasets."""
    datasets = context.source / "datasets"
    return [str(datasets)] if datasets.is_dir() else []
