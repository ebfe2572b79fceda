"""``course-kit grade SUBMISSIONS... --out DIR [-j N] [--timeout S]`` (instructors).

SUBMISSIONS are zips made by ``collect_submission.sh``, folders holding such
zips, or unpacked submission folders. Writes ``DIR/grades.csv``,
``DIR/results/<student>.json`` (Gradescope's results.json format) and
``DIR/feedback/<student>.md``. The student id is the zip's file name without
``.zip``. Re-running skips submissions already graded (same sha256) unless
``--force``. See ``course_utils/grading`` for the grading model.
"""
import re
import sys
from pathlib import Path


def configure(parser):
    parser.add_argument("submissions", nargs="+", help="submission zips, folders of zips, or unpacked submissions")
    parser.add_argument("--out", required=True, help="folder for grades.csv, results/ and feedback/")
    parser.add_argument("--assignment", help="e.g. assignment1 (default: guessed from the zip names)")
    parser.add_argument("-j", "--jobs", type=int, default=1, help="submissions graded in parallel (default: 1)")
    parser.add_argument("--timeout", type=float, default=900,
                        help="wall-time (and CPU-time) limit of each step's process, seconds (default: 900)")
    parser.add_argument("--test-timeout", type=float, default=300,
                        help="time limit of each hidden test and each notebook cell, seconds (default: 300)")
    parser.add_argument("--memory", type=int, default=3072, help="memory limit of each step, MB (default: 3072)")
    parser.add_argument("--manifest", help="manifest to use (default: grading/<assignment>/manifest.toml)")
    parser.add_argument("--notebooks", nargs="+", metavar="NAME",
                        help="run only these reference notebooks (stems); other graded cells are dropped")
    parser.add_argument("--source", help="instructor source folder (default: this kit)")
    parser.add_argument("--force", action="store_true", help="grade again what is already graded")
    parser.add_argument("--keep", action="store_true", help="keep the sandboxes (in DIR/.work) for inspection")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--isolation", choices=["full", "user-namespace", "rlimits"],
                        help="containment level for student code (default: the strongest available)")
    parser.add_argument("--require-isolation", action="store_true",
                        help="refuse to grade unless student code can run at the full isolation level "
                             "(root: own uid per job, no network, private /tmp, PID namespace)")


def main(args):
    from course_utils.grading.batch import grade_batch
    from course_utils.grading.kit import normalize_assignment, source_root
    from course_utils.grading.manifest import ManifestError, load_manifest
    from course_utils.grading.harness import containment

    source = Path(args.source or source_root()).resolve()
    submissions = expand(args.submissions)
    if not submissions:
        print("course-kit grade: no submissions found in " + " ".join(args.submissions), file=sys.stderr)
        return 2
    try:
        assignment = normalize_assignment(args.assignment) if args.assignment else guess_assignment(source, submissions)
        manifest = load_manifest(args.manifest or source / "grading" / assignment / "manifest.toml")
        if args.notebooks:
            manifest = manifest.restricted(notebooks=set(args.notebooks))
        limits = containment.ContainmentLimits(wall_seconds=args.timeout, cpu_seconds=int(args.timeout),
                                               memory_mb=args.memory,
                                               test_seconds=min(args.test_timeout, args.timeout))
        level = containment.IsolationLevel(args.isolation) if args.isolation else containment.detect_isolation()
        if args.isolation and containment.level_problem(level):
            print(f"course-kit grade: --isolation {level} is not available here: "
                  f"{containment.level_problem(level)}", file=sys.stderr)
            return 2
        if args.require_isolation and level is not containment.IsolationLevel.FULL:
            problem = containment.level_problem(containment.IsolationLevel.FULL)
            print(f"course-kit grade: --require-isolation: the full isolation level is not available here "
                  f"({problem}); only '{level}' is: {level.description}. Run as root with bubblewrap "
                  "installed (apt-get install -y bubblewrap), or drop --require-isolation.", file=sys.stderr)
            return 2
        print(f"isolation level: {level} ({level.description})", file=sys.stderr)
        records = grade_batch(submissions, args.out, source, assignment, manifest, jobs=args.jobs,
                              limits=limits, force=args.force, keep=args.keep, progress=not args.quiet,
                              level=level)
    except (ManifestError, ValueError, FileNotFoundError) as exc:
        print(f"course-kit grade: {exc}", file=sys.stderr)
        return 2
    skipped = sum(1 for r in records.values() if r.get("skipped"))
    for student in sorted(records):
        record = records[student]
        flag = " (already graded)" if record.get("skipped") else ""
        error = f"  [{record['error']}]" if record.get("error") else ""
        print(f"{student}: {record['score']:g} / {record['max_score']:g}{flag}{error}")
    print(f"graded {len(records) - skipped}, skipped {skipped}; gradebook: {Path(args.out) / 'grades.csv'}")
    return 0


def expand(paths):
    """Zip files stay; a folder holding zips becomes its zips; other folders stay (unpacked submissions)."""
    found = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            zips = sorted(p for p in path.glob("*.zip") if p.is_file())
            found.extend(zips or [path])
        elif path.exists():
            found.append(path)
        else:
            print(f"course-kit grade: {path} does not exist (skipped)", file=sys.stderr)
    return found


def guess_assignment(source, submissions):
    from course_utils.grading.kit import assignments

    names = {m.group(0) for p in submissions for m in [re.search(r"assignment\d+", Path(p).name)] if m}
    if len(names) == 1:
        return names.pop()
    graded = [a for a in assignments(source) if (source / "grading" / a / "manifest.toml").exists()]
    if len(graded) == 1:
        return graded[0]
    raise ValueError(f"say which assignment with --assignment (manifests exist for {graded})")
