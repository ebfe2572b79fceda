"""``course-kit grade SUBMISSIONS... --out DIR [-j N] [--timeout S]`` (instructors).

SUBMISSIONS are zips made by ``collect_submission.sh``, folders holding such
zips, or unpacked submission folders (holding ``assignments/``, ``course_utils/``
or notebooks); anything else is an error. Writes ``DIR/grades.csv``,
``DIR/results/<student>.json`` (Gradescope's results.json format) and
``DIR/feedback/<student>.md``. The student id is the zip's name without
``_assignmentN_submission.zip`` (``alice_assignment1_submission.zip`` -> ``alice``),
made unique. The assignment is the one the submissions hold (their notebooks);
``--assignment`` must agree with them. Re-running skips submissions already graded
(same sha256) unless ``--force``. See ``course_utils/grading`` for the grading model.
"""
import sys
from pathlib import Path


def configure(parser):
    parser.add_argument("submissions", nargs="+", help="submission zips, folders of zips, or unpacked submissions")
    parser.add_argument("--out", required=True, help="folder for grades.csv, results/ and feedback/")
    parser.add_argument("--assignment", help="e.g. assignment1 (default: the one the submissions hold)")
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
    from course_utils.grading.harness.batch import grade_batch
    from course_utils.grading.harness import containment
    from course_utils.grading.kit import normalize_assignment, source_root
    from course_utils.grading.manifest import ManifestError, load_manifest
    from course_utils.grading.students import batch_assignment, held_assignments
    from course_utils.tools.outputs import check_folder, check_parent

    source = Path(args.source or source_root()).resolve()
    try:
        submissions = expand(args.submissions)
        check_folder(args.out)
        if not Path(args.out).exists():
            check_parent(args.out)
        requested = normalize_assignment(args.assignment) if args.assignment else None
        assignment = batch_assignment({p: held_assignments(p, source) for p in submissions}, requested, source)
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
    """Submission zips, each folder of zips as its zips, unpacked submission folders as they are;
    ValueError for anything else (a missing path, a folder with no submission in it, another file)."""
    found = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            zips = sorted(p for p in path.glob("*.zip") if p.is_file())
            if not zips and not _looks_unpacked(path):
                raise ValueError(f"{path} holds no submission zips and is not an unpacked submission (no "
                                 "assignments/, course_utils/ or notebooks in it): give the zips made by "
                                 "collect_submission.sh, or the folder that holds them")
            found.extend(zips or [path])
        elif path.is_file() and path.suffix.lower() == ".zip":
            found.append(path)
        elif path.exists():
            raise ValueError(f"{path} is not a zip: give the zips made by collect_submission.sh")
        else:
            raise ValueError(f"{path} does not exist: check the path")
    return found


def _looks_unpacked(folder):
    return (folder / "assignments").is_dir() or (folder / "course_utils").is_dir() or any(folder.glob("*.ipynb"))
