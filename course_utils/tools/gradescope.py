"""``course-kit gradescope assignmentN OUT.zip``: a Gradescope autograder bundle.

The bundle holds ``setup.sh`` (installs Python 3.11+ and the kit into
``/autograder/venv`` and trains the manifest's pretrained networks, so that no
submission waits for them), ``run_autograder`` (grades ``/autograder/submission``
with the same code as ``course-kit grade`` and always writes
``/autograder/results/results.json``) and ``kit/``: the instructor's source
for this assignment (reference modules and notebooks, manifest, hidden tests).
``run_autograder`` reads ``COURSE_KIT_SOURCE``, ``COURSE_KIT_SUBMISSION``,
``COURSE_KIT_RESULTS`` and ``COURSE_KIT_PYTHON`` when set, so it can be tried
locally. The zip is deterministic (sorted entries, fixed timestamps) and made
from the source's own files only (see ``kit.source_files``), so an earlier
bundle, grades or submissions lying in the folder never end up in it. OUT must
be new (``--force`` replaces it) and its folder must exist.
"""
import sys
import zipfile
from pathlib import Path

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once when it builds the autograder image.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
PY=python3
if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  apt-get install -y -qq python3.11 python3.11-venv python3.11-dev
  PY=python3.11
fi
apt-get install -y -qq build-essential python3-venv >/dev/null 2>&1 || true
# bubblewrap: student code runs contained (own uid, no network, private /tmp, PID namespace)
apt-get install -y -qq bubblewrap
apt-get install -y -qq dataset-fashion-mnist >/dev/null 2>&1 || true  # else the notebooks use digits
"$PY" -m venv /autograder/venv
/autograder/venv/bin/python -m pip install --quiet --upgrade pip
/autograder/venv/bin/python -m pip install --quiet -e /autograder/source/kit
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission. It always leaves a results file.
SOURCE="${{COURSE_KIT_SOURCE:-/autograder/source/kit}}"
SUBMISSION="${{COURSE_KIT_SUBMISSION:-/autograder/submission}}"
RESULTS="${{COURSE_KIT_RESULTS:-/autograder/results/results.json}}"
PY="${{COURSE_KIT_PYTHON:-/autograder/venv/bin/python}}"
[ -x "$PY" ] || PY=python3
mkdir -p "$(dirname "$RESULTS")"
rm -f "$RESULTS"
cd "$SOURCE" && PYTHONPATH="$SOURCE" "$PY" -m course_utils.grading.harness.autograder \\
  --source "$SOURCE" --assignment {assignment} --submission "$SUBMISSION" --results "$RESULTS"
if [ ! -s "$RESULTS" ]; then
  printf '%s\\n' '{{"score": 0, "output": "The autograder crashed before grading this submission; please tell the course staff.", "tests": []}}' > "$RESULTS"
fi
exit 0
"""


def configure(parser):
    parser.add_argument("assignment", help="e.g. assignment1")
    parser.add_argument("out", help="the bundle zip to write, e.g. autograder.zip")
    parser.add_argument("--source", help="instructor source folder (default: this kit)")
    parser.add_argument("--force", action="store_true", help="replace OUT if it exists")


def main(args):
    from course_utils.grading.kit import normalize_assignment, source_root
    from course_utils.tools.outputs import check_new_file

    source = Path(args.source or source_root()).resolve()
    try:
        assignment = normalize_assignment(args.assignment)
        check_new_file(args.out, args.force)
        files = bundle_files(source, assignment)
    except (ValueError, FileNotFoundError) as exc:
        print(f"course-kit gradescope: {exc}", file=sys.stderr)
        return 2
    write_bundle(source, assignment, files, Path(args.out))
    print(f"Wrote {args.out}: upload it as the Gradescope autograder of {assignment} "
          f"({len(files)} kit files).")
    return 0


def bundle_files(source, assignment):
    """Kit-relative paths of the source files the autograder needs."""
    from course_utils.grading.kit import source_files

    manifest = source / "grading" / assignment / "manifest.toml"
    if not manifest.exists():
        raise FileNotFoundError(f"no manifest {manifest}: write it before building the bundle")
    folders = ("course_utils/", f"assignments/{assignment}/", f"grading/{assignment}/", "grading/shared/")
    return [rel for rel in source_files(source)
            if ("/" not in rel and not rel.startswith(".")) or rel.startswith(folders)]


def setup_script(source, assignment):
    """SETUP_SH, plus training the pretrained networks the assignment's manifest names."""
    from course_utils.grading.manifest import load_manifest

    tasks = load_manifest(source / "grading" / assignment / "manifest.toml").pretrained
    if not tasks:
        return SETUP_SH
    return SETUP_SH + ("# the pretrained networks the notebooks load, cached in the kit's datasets/pretrained\n"
                       f"cd /autograder/source/kit && /autograder/venv/bin/course-kit pretrain --quiet {' '.join(tasks)}\n")


def write_bundle(source, assignment, files, out):
    from course_utils.files import atomic_write
    from course_utils.grading.zipout import add_entry

    with atomic_write(out) as f, zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED) as archive:
        add_entry(archive, "setup.sh", setup_script(source, assignment).encode(), 0o755)
        add_entry(archive, "run_autograder", RUN_AUTOGRADER.format(assignment=assignment).encode(), 0o755)
        for rel in files:
            path = source / rel
            add_entry(archive, f"kit/{rel}", path.read_bytes(), path.stat().st_mode & 0o777)
    return out
