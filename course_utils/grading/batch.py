"""Grade many submissions: shared preparation, a thread per running submission
(the work itself happens in limited subprocesses), a progress bar, outputs
written as each submission finishes, and the gradebook rebuilt at the end.

A submission whose ``results/<student>.json`` already records the same sha256
is skipped unless ``force``.
"""
import shutil
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from course_utils.grading import feedback, gradebook, results_json
from course_utils.grading import sandbox as sandboxes
from course_utils.grading.manifest import ManifestError
from course_utils.grading.nbval_step import graded_cells
from course_utils.grading.pipeline import fingerprint, grade_submission, student_name
from course_utils.grading.runner import StepLimits, run_step
from course_utils.grading.tests_step import PLUGIN_ENV, pytest_command, read_stream


def student_ids(submissions):
    """{submission path: unique student id}, in the given order."""
    ids, used = {}, set()
    for path in submissions:
        base = student_name(path)
        name, n = base, 2
        while name in used:
            name, n = f"{base}-{n}", n + 1
        used.add(name)
        ids[path] = name
    return ids


def calibrate(context, manifest, work, limits):
    """Hidden test ids of the reference solution; check that the manifest's patterns and tags exist."""
    expected = []
    if any(q.hidden for q in manifest.questions.values()):
        reference_files = {rel: context.source / rel for rel in context.editable}
        box = sandboxes.build(context, reference_files, Path(work) / "calibration")
        stream = box / "hidden" / "stream.jsonl"
        env = {**PLUGIN_ENV, "PYTHONPATH": sandboxes.python_path(context, box, True), "COURSE_KIT_STREAM": str(stream)}
        result = run_step(pytest_command(box / "hidden" / "pytest.ini", [box / "hidden"], ["--collect-only"]),
                          box / "hidden", limits, env)
        expected, _, _, errors = read_stream(stream)
        if errors or result.returncode not in (0, 5):
            detail = errors[0]["text"][-1500:] if errors else result.stdout[-1500:] + result.stderr[-1500:]
            raise ManifestError(f"the hidden tests of {context.assignment} do not load with the reference "
                                f"solution:\n{detail}")
    tags = set()
    for stem in manifest.cell_notebooks():
        path = context.source / "assignments" / context.assignment / f"{stem}.ipynb"
        if path.exists():
            tags.update(graded_cells(path).values())
    for name, question in manifest.questions.items():
        for pattern in question.hidden:
            if not any(question.matches_hidden(node) for node in expected):
                raise ManifestError(f"{manifest.path}: [questions.{name}] hidden pattern {pattern!r} "
                                    "matches no hidden test")
        missing = [t for t in question.cells if t not in tags]
        if missing:
            raise ManifestError(f"{manifest.path}: [questions.{name}] no reference notebook cell has tag(s) {missing}")
    return expected


def grade_batch(submissions, out, source, assignment, manifest, jobs=1, limits=StepLimits(),
                force=False, keep=False, progress=True):
    """Grade ``submissions`` into ``out``; return {student: record} of this run (graded or skipped)."""
    out = Path(out).resolve()
    results_dir, feedback_dir = out / "results", out / "feedback"
    results_dir.mkdir(parents=True, exist_ok=True)
    feedback_dir.mkdir(parents=True, exist_ok=True)
    ids = student_ids(submissions)
    records, todo = {}, []
    for path, student in ids.items():
        previous = results_json.read_record(results_dir / f"{student}.json")
        if not force and previous and previous.get("sha256") == fingerprint(path):
            records[student] = {**previous, "skipped": True}
        else:
            todo.append(path)
    # Sandboxes live in a fresh temporary folder, away from the outputs and the submissions.
    work = out / ".work" if keep else Path(tempfile.mkdtemp(prefix="course-kit-grade-"))
    try:
        if todo:
            context = sandboxes.prepare(source, assignment, work / "_batch", manifest)
            expected = calibrate(context, manifest, work / "_batch", limits)
            bar = _progress(len(todo), progress)
            with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
                futures = {pool.submit(grade_submission, path, context, manifest, work, limits, expected,
                                       keep, ids[path]): path for path in todo}
                for future in as_completed(futures):
                    record = future.result()
                    results_json.write(record, results_dir / f"{record['student']}.json")
                    feedback.write(record, feedback_dir / f"{record['student']}.md")
                    records[record["student"]] = record
                    bar.set_postfix_str(f"{record['student']}: {record['score']:g}/{record['max_score']:g}")
                    bar.update(1)
            bar.close()
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
    gradebook.write(results_dir, out / "grades.csv")
    return records


def _progress(total, enabled):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="grading", unit="submission", file=sys.stderr, disable=not enabled)
