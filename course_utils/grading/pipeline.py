"""Grade one submission (a zip, or a folder as Gradescope provides it).

1. Fingerprint the original (sha256), copy it into the work folder, make the
   copy read-only, and unpack the copy safely.
2. Build the sandbox: the release plus only the files students may edit.
3. Hidden tests, then nbval over each reference notebook the manifest uses,
   then the checks of the student's own notebooks: each in limited processes.
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
from dataclasses import asdict
from pathlib import Path

from course_utils.grading import sandbox as sandboxes
from course_utils.grading.nbval_step import run_notebook
from course_utils.grading.runner import StepLimits, run_step
from course_utils.grading.safezip import UnsafeSubmission, copy_folder, extract_zip, match_files
from course_utils.grading.scoring import score_notebooks, score_questions
from course_utils.grading.tests_step import run_tests
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


def student_name(path):
    """A file-system-safe student id from the submission's file name."""
    stem = Path(path).name
    for suffix in (".zip",):
        stem = stem[: -len(suffix)] if stem.endswith(suffix) else stem
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in stem).strip("._")
    return safe or "submission"


def empty_record(student, submission, assignment, manifest):
    return {
        "student": student, "submission": str(submission), "assignment": assignment,
        "sha256": None, "error": None, "items": [], "notes": [], "missing": [],
        "answers": {}, "stubs": {}, "score": 0.0, "max_score": manifest.max_points, "seconds": 0.0,
    }


def grade_submission(submission, context, manifest, work, limits=StepLimits(), expected_hidden=(),
                     keep=False, student=None):
    """Grade ``submission`` with a prepared BatchContext; return the result record (dict)."""
    start = time.monotonic()
    submission = Path(submission)
    student = student or student_name(submission)
    record = empty_record(student, submission, context.assignment, manifest)
    work = Path(work).resolve() / student
    try:
        before = fingerprint(submission)
        record["sha256"] = before
        _grade(submission, context, manifest, work, limits, expected_hidden, record)
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
        record["items"] = [asdict(item) for item in _zero_items(manifest, context, record["error"])]
    record["score"] = round(sum(item["score"] for item in record["items"]), 2)
    record["max_score"] = round(sum(item["max_score"] for item in record["items"]), 2)
    record["seconds"] = round(time.monotonic() - start, 1)
    return record


def _grade(submission, context, manifest, work, limits, expected_hidden, record):
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
    record["missing"] = [rel for rel in wanted if rel not in found]
    if not found:
        raise UnsafeSubmission("it holds none of the expected files "
                               f"(e.g. {wanted[-1] if wanted else 'notebooks'}); was it made by collect_submission.sh?")
    student_files = {rel: unpacked / found[rel] for rel in found}
    record["stubs"] = _stubs(student_files, context)
    box = sandboxes.build(context, student_files, work / "sandbox")

    hidden_outcomes = {}
    if any(q.hidden for q in manifest.questions.values()):
        env = {"PYTHONPATH": sandboxes.python_path(context, box, with_reference=True)}
        hidden_outcomes, notes = run_tests([box / "hidden"], box / "hidden" / "pytest.ini", box / "hidden",
                                           env, limits, expected=expected_hidden)
        record["notes"] += [f"hidden tests: {n}" for n in notes]
    cell_outcomes = {}
    for stem in manifest.cell_notebooks():
        notebook = box / "kit" / "assignments" / context.assignment / f"{stem}.ipynb"
        if not notebook.exists():
            record["notes"].append(f"reference notebook {stem}.ipynb is missing from the source")
            continue
        env = {"PYTHONPATH": sandboxes.python_path(context, box, with_reference=False)}
        outcomes, notes = run_notebook(notebook, box / "nbval" / "pytest.ini", notebook.parent, env, limits)
        cell_outcomes.update(outcomes)
        record["notes"] += [f"{stem}.ipynb: {n}" for n in notes]
    reports = _check_notebooks(context, box, work, limits, record)
    not_started = _not_started(manifest, record["stubs"])
    items = score_questions(manifest, hidden_outcomes, cell_outcomes, not_started)
    items += score_notebooks(manifest, reports)
    record["items"] = [asdict(item) for item in items]
    record["answers"] = {Path(r["path"]).name: r["answers"] for r in reports if r["answers"]}


def _check_notebooks(context, box, work, limits, record):
    """Run the notebook checks as a limited step; return their reports (dicts)."""
    paths = [str(box / "student" / Path(rel).name) for rel in context.notebooks]
    out = work / "notebook_checks.json"
    grader_root = str(Path(sandboxes.__file__).resolve().parents[2])
    result = run_step([sys.executable, "-m", "course_utils.grading.notebook_checks", str(out), *paths],
                      cwd=work, limits=limits, env={"PYTHONPATH": grader_root})
    if result.returncode != 0 or not out.exists():
        record["notes"].append(f"notebook checks failed: {result.reason or result.stderr[-300:]}")
        return [{"path": p, "exists": Path(p).exists(), "problems": ["could not be checked"],
                 "stub_cells": [], "answers": [], "unanswered": 0} for p in paths]
    return json.loads(out.read_text(encoding="utf-8"))


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
    items += score_notebooks(manifest, [{"path": rel, "exists": False, "problems": [reason]}
                                        for rel in context.notebooks])
    for item in items:
        item.note = reason
    return items
