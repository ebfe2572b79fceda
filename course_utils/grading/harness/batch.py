"""Grade many submissions: shared preparation, one job per submission (a thread
each, up to ``jobs`` at once, each with its own job slot: its own uid at the full
isolation level), a progress bar, outputs written as each submission finishes.

Every output comes from the harness's own records, kept in ``<out>/.ledger.json``
(written only here, never visible to student code): a submission is skipped as
"already graded" only when the ledger holds a record for the same submission hash
AND its results file is still the one the ledger wrote; ``grades.csv`` is rebuilt
from the ledger, never from files in the output folder. A submission graded again
keeps the TA's scores of the written answers it did not change (``written.carry_scores``).
"""
import hashlib
import json
import queue
import shutil
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from course_utils.grading.harness import feedback, gradebook, results_json, written
from course_utils.grading.harness import sandbox as sandboxes
from course_utils.grading.harness import containment
from course_utils.grading.harness.containment import ContainmentLimits
from course_utils.grading.harness.notebook_runner import graded_cells
from course_utils.grading.manifest import ManifestError
from course_utils.grading.harness.job import job_spec, run_job
from course_utils.grading.harness.pipeline import fingerprint
from course_utils.grading.harness.runner import run_step
from course_utils.grading.students import unique_ids
from course_utils.grading.harness.tests_step import PLUGIN_ENV, pytest_command, read_stream

LEDGER = ".ledger.json"


def calibrate(context, manifest, work, limits):
    """Hidden test ids of the reference solution; check that the manifest's patterns, tags and
    inline questions exist."""
    written.check_answers(manifest, context.source, context.assignment)
    expected = []
    if any(q.hidden for q in manifest.questions.values()):
        box = sandboxes.build(context, {}, Path(work) / "calibration")
        hidden = box.harness / "hidden"
        stream = hidden / "stream.jsonl"
        env = {**PLUGIN_ENV, "PYTHONPATH": sandboxes.harness_path(context), "COURSE_KIT_STREAM": str(stream)}
        result = run_step(pytest_command(hidden / "pytest.ini", [hidden], ["--collect-only"]), hidden, limits, env)
        expected, _, _, errors = read_stream(stream)
        if errors or result.returncode not in (0, 5):
            detail = errors[0]["text"][-1500:] if errors else result.stdout[-1500:] + result.stderr[-1500:]
            raise ManifestError(f"the hidden tests of {context.assignment} do not load with the reference "
                                f"solution:\n{detail}")
    tags = set()
    for stem in manifest.cell_notebooks():
        path = context.source / "assignments" / context.assignment / f"{stem}.ipynb"
        if path.exists():
            notebook = json.loads(path.read_text(encoding="utf-8"))
            tags.update(tag for _, _, tag, _ in graded_cells(notebook) if tag)
    for name, question in manifest.questions.items():
        for pattern in question.hidden:
            if not any(question.matches_hidden(node) for node in expected):
                raise ManifestError(f"{manifest.path}: [questions.{name}] hidden pattern {pattern!r} "
                                    "matches no hidden test")
        missing = [t for t in question.cells if t not in tags]
        if missing:
            raise ManifestError(f"{manifest.path}: [questions.{name}] no reference notebook cell has tag(s) {missing}")
    return expected


def grade_batch(submissions, out, source, assignment, manifest, jobs=1, limits=ContainmentLimits(),
                force=False, keep=False, progress=True, level=None):
    """Grade ``submissions`` into ``out``; return {student: record} of this run (graded or skipped)."""
    out = Path(out).resolve()
    results_dir, feedback_dir = out / "results", out / "feedback"
    results_dir.mkdir(parents=True, exist_ok=True)
    feedback_dir.mkdir(parents=True, exist_ok=True)
    level = containment.detect_isolation() if level is None else containment.IsolationLevel(level)
    ledger = Ledger(out / LEDGER)
    ids = unique_ids(submissions)
    records, todo = {}, []
    for path, student in ids.items():
        previous = ledger.unchanged(student, fingerprint(path), results_dir / f"{student}.json")
        if previous and not force:
            records[student] = {**previous, "skipped": True}
        else:
            todo.append(path)
    # Jobs live in a fresh temporary folder, away from the outputs and the submissions.
    work = out / ".work" if keep else Path(tempfile.mkdtemp(prefix="course-kit-grade-"))
    try:
        if todo:
            context = sandboxes.prepare(source, assignment, work / "_batch", manifest)
            expected = calibrate(context, manifest, work / "_batch", limits)
            reservation = containment.reserve_slots(max(1, jobs), level)  # machine-wide: own uids
            slots = queue.Queue()
            for slot in reservation.slots:
                slots.put(slot)

            def job(path):
                slot = slots.get()
                try:
                    return run_job(job_spec(context, manifest, path, ids[path], work, limits, expected, slot, level),
                                   keep=keep)
                finally:
                    slots.put(slot)

            bar = _progress(len(todo), progress)
            with reservation, ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
                futures = {pool.submit(job, path): path for path in todo}
                for future in as_completed(futures):
                    record = future.result()
                    previous = ledger.record(record["student"])
                    if previous:
                        written.carry_scores(previous, record)
                    write_outputs(record, out, ledger)
                    records[record["student"]] = record
                    bar.set_postfix_str(f"{record['student']}: {record['score']:g}/{record['max_score']:g}")
                    bar.update(1)
            bar.close()
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
    gradebook.write(ledger.records(), out / "grades.csv")
    return records


def write_outputs(record, out, ledger):
    """A record's results file and feedback page in ``out``, and its ledger entry."""
    results = results_json.write(record, Path(out) / "results" / f"{record['student']}.json")
    feedback.write(record, Path(out) / "feedback" / f"{record['student']}.md")
    ledger.store(record, results)


class Ledger:
    """The harness's own record of what it graded: {student: {record, results file sha256}}."""

    def __init__(self, path):
        self.path = Path(path)
        try:
            self.entries = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.entries = {}
        if not isinstance(self.entries, dict):
            self.entries = {}

    def unchanged(self, student, submission_sha256, results_path):
        """The stored record when the submission and its results file are as graded, else None."""
        entry = self.entries.get(student)
        if not isinstance(entry, dict) or entry.get("record", {}).get("sha256") != submission_sha256:
            return None
        if not results_path.is_file() or _file_sha256(results_path) != entry.get("results_sha256"):
            return None
        return entry["record"]

    def record(self, student):
        """The stored record of ``student``, or None."""
        entry = self.entries.get(student)
        return entry.get("record") if isinstance(entry, dict) else None

    def store(self, record, results_path):
        self.entries[record["student"]] = {"record": record, "results_sha256": _file_sha256(results_path)}
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.entries, indent=1), encoding="utf-8")
        tmp.replace(self.path)

    def records(self):
        return [entry["record"] for entry in self.entries.values() if isinstance(entry, dict) and "record" in entry]


def _file_sha256(path):
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _progress(total, enabled):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="grading", unit="submission", file=sys.stderr, disable=not enabled)
