"""Grading throughput: submissions graded per minute with ``-j 1`` and ``-j 2``,
and what containing student code costs.

Builds N copies of the reference submission of an assignment (the instructor's
editable modules and executed notebooks, zipped as collect_submission.sh does),
grades them with ``course-kit grade`` once with one job (the baseline, timed in
the same run) and once with ``-j 2``, and prints submissions per minute and the
ratio. By default only one short reference notebook is run under nbval
(``--notebooks``); ``--all-notebooks`` grades with the full manifest.

``--isolation-cost`` instead grades the same submissions with ``-j 1`` at the
strongest isolation level and at the ``rlimits`` level (no namespaces, no uid
change), alternating, and prints the ratio: the price of the containment.

    python3 benchmarks/bench_grade.py [--assignment assignment1] [-n 4] [--notebooks softmax]
    python3 benchmarks/bench_grade.py --all-notebooks -n 2 --isolation-cost
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from course_utils.grading.collect import write_zip
from course_utils.grading.kit import editable_files, source_root


def grade(submissions, out, assignment, jobs, notebooks, isolation=None):
    command = [sys.executable, "-m", "course_utils", "grade", str(submissions), "--out", str(out),
               "--assignment", assignment, "-j", str(jobs), "--quiet", "--force"]
    if isolation:
        command += ["--isolation", isolation]
    if notebooks:
        command += ["--notebooks", *notebooks]
    start = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"grading failed:\n{proc.stderr[-3000:]}")
    return seconds, proc.stdout


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", default="assignment1")
    parser.add_argument("-n", type=int, default=4, help="number of submissions (default: 4)")
    parser.add_argument("--notebooks", nargs="+", default=["softmax"], help="reference notebooks to run")
    parser.add_argument("--all-notebooks", action="store_true", help="run every graded notebook")
    parser.add_argument("--isolation-cost", action="store_true",
                        help="compare the strongest isolation level with the rlimits level (-j 1)")
    args = parser.parse_args()
    root = source_root()
    notebooks = None if args.all_notebooks else args.notebooks
    print(f"{os.cpu_count()} CPUs; {args.n} copies of the {args.assignment} reference submission; "
          f"notebooks: {'all' if notebooks is None else ', '.join(notebooks)}")
    with tempfile.TemporaryDirectory(prefix="bench-grade-") as tmp:
        subs = Path(tmp) / "submissions"
        subs.mkdir()
        files = editable_files(root, args.assignment)
        for i in range(args.n):
            write_zip(root, files, subs / f"student{i:02d}.zip")
        if args.isolation_cost:
            times = {"full": [], "rlimits": []}
            for round_ in range(2):
                for level in ("rlimits", "full") if round_ % 2 else ("full", "rlimits"):
                    seconds, stdout = grade(subs, Path(tmp) / f"out-{level}", args.assignment, 1, notebooks, level)
                    times[level].append(seconds)
                    print(f"{level:>8}: {seconds:6.1f} s for {args.n} submissions "
                          f"({stdout.splitlines()[0].split(':', 1)[1].strip()})")
            cost = min(times["full"]) / min(times["rlimits"])
            print(f"containment costs {100 * (cost - 1):+.1f} % of grading time (best of 2 each)")
            return
        rates = {}
        for jobs in (1, 2):
            seconds, stdout = grade(subs, Path(tmp) / f"out{jobs}", args.assignment, jobs, notebooks)
            rates[jobs] = args.n * 60 / seconds
            score = stdout.splitlines()[0].split(":", 1)[1].strip()
            print(f"-j {jobs}: {seconds:6.1f} s for {args.n} submissions = {rates[jobs]:.2f} per minute "
                  f"(each scored {score})")
        print(f"speed-up of -j 2 over -j 1: {rates[2] / rates[1]:.2f}x")


if __name__ == "__main__":
    main()
