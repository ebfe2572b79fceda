"""Grade one submission (a zip, or a folder as Gradescope provides it).

1. Fingerprint the original (sha256), copy it into the work folder, make the
   copy read-only, and unpack the copy safely.
2. Build the sandbox (the release plus only the files students may edit) and,
   apart from it, the harness's folder (hidden tests, the student's notebooks).
3. Hidden tests in a harness process whose calls into student code go to a
   contained worker; then each reference notebook the manifest uses, run cell by
   cell in a contained kernel and compared here; then the checks of the student's
   own notebooks (read as data), whose written answers wait for a TA (``written``).
4. Score per the manifest; check the original's fingerprint again.

Any failure, including the grader's own, ends as a record with zero points
and a readable reason: never an exception out of ``grade_submission``.
"""
import hashlib
import json
import os
import shutil
import stat
import sys
import time
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path

from course_utils.grading.harness import sandbox as sandboxes
from course_utils.grading.harness import containment, written
from course_utils.grading.harness.containment import ContainmentLimits
from course_utils.grading.harness.notebook_runner import run_reference_notebook
from course_utils.grading.harness.worker_client import StudentKit
from course_utils.grading.kit import assignment_functions
from course_utils.grading.notebook_checks import check_notebook
from course_utils.grading.harness.safezip import UnsafeSubmission, copy_folder, extract_zip, match_files
from course_utils.grading.harness.scoring import score_questions
from course_utils.grading.students import student_id
from course_utils.grading.harness.tests_step import run_tests
from course_utils.markers import MarkerError, stub_functions


def sha256(path):
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def folder_fingerprint(folder):
    digest = hashlib.sha256()
    for path in sorted(Path(folder).rglob("*")):
        if path.is_file() and not path.is_symlink():
            digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
            digest.update(sha256(path).encode())
    return digest.hexdigest()


def fingerprint(path):
    path = Path(path)
    return folder_fingerprint(path) if path.is_dir() else sha256(path)


def empty_record(student, submission, assignment, manifest, level):
    return {
        "student": student, "submission": Path(submission).name, "assignment": assignment,
        "sha256": None, "error": None, "items": [], "notes": [], "missing": [],
        "answers": {}, "written": {}, "stubs": {}, "score": 0.0, "max_score": manifest.max_points, "seconds": 0.0,
        "isolation": {"level": str(level), "description": level.description},
    }


def grade_submission(submission, context, manifest, work, limits=ContainmentLimits(), expected_hidden=(),
                     keep=False, student=None, job_slot=0, level=None):
    """Grade ``submission`` with a prepared BatchContext; return the result record (dict).

    job_slot: which of the concurrent jobs this is (its own uid at the full isolation
    level); level: the isolation level (default: the best this machine offers)."""
    start = time.monotonic()
    submission = Path(submission)
    student = student or student_id(submission)
    level = containment.detect_isolation() if level is None else containment.IsolationLevel(level)
    record = empty_record(student, submission, context.assignment, manifest, level)
    job = Job(context, manifest, limits, expected_hidden, job_slot, level)
    work = Path(work).resolve() / student
    try:
        before = fingerprint(submission)
        record["sha256"] = before
        _grade(submission, job, work, record)
        if fingerprint(submission) != before:
            record["notes"].append("WARNING: the original submission changed during grading")
    except UnsafeSubmission as exc:
        record["error"] = f"submission refused: {exc}"
    except Exception as exc:  # the grader's own failure must not stop the batch
        record["error"] = f"grading failed: {type(exc).__name__}: {exc}"
        record["notes"].append(traceback.format_exc()[-3000:])
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
    if record["error"]:
        record["items"] = [asdict(item) for item in _zero_items(job.manifest, context, record["error"])]
    record["written"] = written.entries(job.manifest, record["answers"])
    record["score"] = round(sum(item["score"] for item in record["items"]), 2)
    record["max_score"] = round(sum(item["max_score"] for item in record["items"]), 2)
    record["seconds"] = round(time.monotonic() - start, 1)
    return record


@dataclass(frozen=True)
class Job:
    """What grading one submission needs besides the submission itself."""
    context: object
    manifest: object
    limits: ContainmentLimits
    expected_hidden: tuple
    slot: int
    level: object


def _grade(submission, job, work, record):
    context, manifest = job.context, job.manifest
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    unpacked = work / "unpacked"
    if submission.is_dir():
        files = copy_folder(submission, unpacked)
    else:
        private = work / "submission.zip"
        shutil.copyfile(submission, private)
        os.chmod(private, stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
        files = extract_zip(private, unpacked)
    wanted = context.editable + context.notebooks
    found = match_files(files, wanted)
    # Modules other assignments use may be left out (the release's copy is graded then);
    # only the assignment's own files count as missing.
    own = set(assignment_functions(context.source, context.assignment)) | set(context.notebooks)
    record["missing"] = [rel for rel in wanted if rel not in found and rel in own]
    if not found:
        raise UnsafeSubmission("it holds none of the expected files "
                               f"(e.g. {wanted[-1] if wanted else 'notebooks'}); was it made by collect_submission.sh?")
    student_files = {rel: unpacked / found[rel] for rel in found}
    record["stubs"] = _stubs(student_files, context)
    box = sandboxes.build(context, student_files, work / "job")
    readonly = sandboxes.readable_data(context)

    hidden_outcomes = {}
    if any(q.hidden for q in manifest.questions.values()):
        kit = StudentKit(box.sandbox, box.kit, context.worker, job.limits, job.limits.test_seconds, job.slot,
                         job.level, readonly)
        env = {"PYTHONPATH": sandboxes.harness_path(context), **kit.environment()}
        hidden = box.harness / "hidden"
        hidden_outcomes, notes = run_tests([hidden], hidden / "pytest.ini", hidden, env, job.limits,
                                           expected=job.expected_hidden, extra=["--assert=plain"])
        record["notes"] += [f"hidden tests: {n}" for n in notes]
    cell_outcomes = {}
    for stem in manifest.cell_notebooks():
        notebook = context.source / "assignments" / context.assignment / f"{stem}.ipynb"
        if not notebook.exists():
            record["notes"].append(f"reference notebook {stem}.ipynb is missing from the source")
            continue
        outcomes, notes = run_reference_notebook(notebook, box.sandbox, box.kit, context.assignment, job.limits,
                                                 job.slot, job.level, readonly)
        cell_outcomes.update(outcomes)
        record["notes"] += [f"{stem}.ipynb: {n}" for n in notes]
    reports = [asdict(check_notebook(box.harness / "student" / Path(rel).name)) for rel in context.notebooks]
    not_started = _not_started(manifest, record["stubs"])
    items = score_questions(manifest, hidden_outcomes, cell_outcomes, not_started)
    record["items"] = [asdict(item) for item in items]
    record["answers"] = {Path(r["path"]).name: r["answers"] for r in reports if r["answers"]}
    record["notebooks"] = {Path(r["path"]).name: r["problems"] for r in reports}


def _stubs(student_files, context):
    """{editable module: functions whose regions are still stubs} (release files count as stubs)."""
    found = {}
    for rel in context.editable:
        path = student_files.get(rel, context.release / rel)
        try:
            names = stub_functions(Path(path).read_text(encoding="utf-8", errors="replace"), rel)
        except MarkerError as exc:
            names = [f"(markers damaged: {exc.problem})"]
        if names:
            found[rel] = names
    return found


def _not_started(manifest, stubs):
    names = set()
    for name, question in manifest.questions.items():
        wanted = [f.split("::", 1) for f in question.functions if "::" in f]
        if wanted and all(func in stubs.get(path, []) for path, func in wanted):
            names.add(name)
    return names


def _zero_items(manifest, context, reason):
    """Every item at zero, so the maximum is the same for every submission."""
    items = score_questions(manifest, {}, {})
    for item in items:
        item.note = reason
    return items
