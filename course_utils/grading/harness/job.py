"""Grading one submission as a self-contained job, for a batch or a cluster engine.

A job's inputs are a JSON spec naming the prepared batch (``sandbox.prepare``: the
release, the reference package, the worker and plugin folders, the hidden tests),
the manifest, the submission, the limits, the job slot and the isolation level; its
output is the grading record, written as JSON. Nothing else is shared between jobs,
so any scheduler can run them where the prepared batch folder is visible::

    python -m course_utils.grading.harness.job SPEC.json RECORD.json

``course-kit grade`` runs the same function (``run_job``) in threads of one process.
"""
import dataclasses
import json
import sys
from pathlib import Path

from course_utils.grading.harness.containment import ContainmentLimits
from course_utils.grading.manifest import Answer, Manifest, Question
from course_utils.grading.harness.sandbox import BatchContext

_PATHS = ("source", "release", "reference", "grader", "worker")


def job_spec(context, manifest, submission, student, work, limits, expected_hidden, slot, level):
    """The JSON-ready description of one job."""
    ctx = dataclasses.asdict(context)
    for key in _PATHS:
        ctx[key] = str(ctx[key])
    ctx["hidden"] = [str(p) for p in ctx["hidden"]]
    questions = {name: dataclasses.asdict(q) for name, q in manifest.questions.items()}
    answers = {name: dataclasses.asdict(a) for name, a in manifest.answers.items()}
    manifest_data = {"assignment": manifest.assignment, "questions": questions, "answers": answers,
                     "path": str(manifest.path) if manifest.path else None, "shared_tests": list(manifest.shared_tests)}
    return {"context": ctx, "manifest": manifest_data, "submission": str(submission), "student": student,
            "work": str(work), "limits": dataclasses.asdict(limits), "expected_hidden": list(expected_hidden),
            "slot": slot, "level": None if level is None else str(level)}


def run_job(spec, keep=False):
    """Grade the submission a spec describes; return the record (never raises for the submission).
    keep: leave the job's folders in place for inspection."""
    from course_utils.grading.harness.pipeline import grade_submission

    ctx = dict(spec["context"])
    for key in _PATHS:
        ctx[key] = Path(ctx[key])
    ctx["hidden"] = [Path(p) for p in ctx["hidden"]]
    context = BatchContext(**ctx)
    data = spec["manifest"]
    manifest = Manifest(data["assignment"], {name: Question(**q) for name, q in data["questions"].items()},
                        data["path"], list(data["shared_tests"]),
                        {name: Answer(**a) for name, a in data["answers"].items()})
    return grade_submission(spec["submission"], context, manifest, spec["work"],
                            ContainmentLimits(**spec["limits"]), tuple(spec["expected_hidden"]),
                            keep=keep, student=spec["student"], job_slot=spec["slot"], level=spec["level"])


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2:
        print("usage: python -m course_utils.grading.harness.job SPEC.json RECORD.json", file=sys.stderr)
        return 2
    spec = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    record = run_job(spec)
    Path(argv[1]).write_text(json.dumps(record, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
