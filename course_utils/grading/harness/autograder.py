"""Gradescope entry point: grade the one submission in ``/autograder/submission``.

Gradescope runs this as root in a container; student code then runs contained at
the full isolation level (its own unprivileged uid, no network, private /tmp, a PID
namespace), exactly as ``course-kit grade`` does on an instructor's root machine.

Runs the same pipeline as ``course-kit grade`` and ALWAYS writes the results
file, even when the submission (or the grader) breaks everything: then with
zero points and the reason. Paths come from options or, for running the
bundle's ``run_autograder`` locally, from environment variables:
``COURSE_KIT_SOURCE``, ``COURSE_KIT_SUBMISSION``, ``COURSE_KIT_RESULTS``,
``COURSE_KIT_MANIFEST`` (a manifest to use instead of the assignment's).
"""
import argparse
import json
import os
import sys
import tempfile
import traceback
from pathlib import Path

DEFAULT_RESULTS = "/autograder/results/results.json"
DEFAULT_SUBMISSION = "/autograder/submission"


def find_submission(folder, wanted):
    """The zip to grade when the folder holds only an uploaded zip, else the folder itself."""
    folder = Path(folder)
    names = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    zips = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix == ".zip")
    provides = any(n == w or n.endswith("/" + w) or n.rsplit("/", 1)[-1] == w.rsplit("/", 1)[-1]
                   for n in names for w in wanted if not n.endswith(".zip"))
    if len(zips) == 1 and not provides:
        return zips[0]
    return folder


def fallback(reason):
    return {"score": 0.0, "output": f"The autograder could not grade this submission: {reason}",
            "output_format": "text", "visibility": "visible", "stdout_visibility": "hidden", "tests": []}


def run(source, assignment, submission, results, manifest_path=None, timeout=900.0, memory_mb=3072):
    from course_utils.grading.harness import results_json, sandbox
    from course_utils.grading.harness.batch import calibrate
    from course_utils.grading.kit import source_root
    from course_utils.grading.manifest import load_manifest
    from course_utils.grading.harness.pipeline import grade_submission
    from course_utils.grading.harness.containment import ContainmentLimits

    source = Path(source or source_root()).resolve()
    manifest = load_manifest(manifest_path or source / "grading" / assignment / "manifest.toml")
    limits = ContainmentLimits(wall_seconds=timeout, cpu_seconds=int(timeout), memory_mb=memory_mb,
                               test_seconds=min(300.0, timeout))
    with tempfile.TemporaryDirectory(prefix="course-kit-autograder-") as tmp:
        context = sandbox.prepare(source, assignment, Path(tmp) / "batch", manifest)
        expected = calibrate(context, manifest, Path(tmp) / "batch", limits)
        target = find_submission(submission, context.editable + context.notebooks)
        record = grade_submission(target, context, manifest, Path(tmp) / "work", limits, expected,
                                  student="submission")
    results_json.write(record, results)
    return record


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default=os.environ.get("COURSE_KIT_SOURCE"))
    parser.add_argument("--assignment", required=True)
    parser.add_argument("--submission", default=os.environ.get("COURSE_KIT_SUBMISSION", DEFAULT_SUBMISSION))
    parser.add_argument("--results", default=os.environ.get("COURSE_KIT_RESULTS", DEFAULT_RESULTS))
    parser.add_argument("--manifest", default=os.environ.get("COURSE_KIT_MANIFEST"))
    parser.add_argument("--timeout", type=float, default=float(os.environ.get("COURSE_KIT_TIMEOUT", 900)))
    args = parser.parse_args(argv)
    results = Path(args.results)
    try:
        results.parent.mkdir(parents=True, exist_ok=True)
        record = run(args.source, args.assignment, args.submission, results, args.manifest, args.timeout)
        print(f"score: {record['score']:g} / {record['max_score']:g}")
    except BaseException as exc:  # whatever happens, Gradescope gets a results file
        traceback.print_exc()
        results.parent.mkdir(parents=True, exist_ok=True)
        results.write_text(json.dumps(fallback(f"{type(exc).__name__}: {exc}"), indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
