"""``course-kit release OUT [--assignment N]``: write the student kit from the source.

The release is built from an allowlist, never from whatever lies in the folder:
the source's own files are what git tracks when the source is a git checkout,
else the kit's include list (``kit.KIT_FILES``); build folders, grades,
Gradescope bundles, submission zips, exported answers, caches and data are
never among them. Of those files, what goes in:
- top-level files (README.md without its instructor-only blocks, requirements.txt,
  setup.py, pyproject.toml, collect_submission.sh, .gitignore);
- ``course_utils/``: solution regions become ``pass`` stubs; the instructor-only
  subcommands (release, grade, answers, gradescope) are left out;
- ``assignments/assignmentN/``: notebooks with stubs, answer placeholders and no
  outputs, plus ``questions.json``: the notebooks a submission needs (read by
  collect_submission.sh) and the public part of the grading manifest (read by
  ``course-kit validate``);
- ``datasets/``: the download script and its README, no data;
- ``tests/``: the public tests (see ``is_public_test``) and shared helpers;
- ``benchmarks/`` (except those of the instructor tooling).
Left out: ``grading/`` (manifests, hidden tests), ``.ci/`` and other dot-files.

Releasing is deterministic (sorted, no timestamps): the same source gives
byte-identical output. Unbalanced or nested markers anywhere stop the release
before anything is written, with the file and line. OUT must be a new or
empty folder in an existing one (``--force`` replaces a non-empty OUT).
"""
import ast
import json
import os
import shutil
import sys
from pathlib import Path

INCLUDED_DIRS = ("course_utils", "assignments", "datasets", "tests", "benchmarks")
INSTRUCTOR_ONLY = {
    "course_utils/tools/release.py",
    "course_utils/tools/grade.py",
    "course_utils/tools/answers.py",
    "course_utils/tools/gradescope.py",
}
DATASET_FILES = (".sh", ".md", ".py", ".txt")
INSTRUCTOR_MODULES = ("course_utils.tools", "course_utils.grading", "course_utils.markers")


def configure(parser):
    parser.add_argument("out", help="folder to write the student kit to (must be new or empty)")
    parser.add_argument("--assignment", help="release only this assignment's notebooks (e.g. 1 or assignment1)")
    parser.add_argument("--source", default=None, help="instructor source folder (default: this kit)")
    parser.add_argument("--force", action="store_true", help="replace OUT if it is not empty")


def main(args):
    from course_utils.grading.kit import normalize_assignment, source_root, untracked_files
    from course_utils.markers import MarkerError
    from course_utils.tools.outputs import check_parent

    source = Path(args.source or source_root()).resolve()
    out = Path(args.out).resolve()
    try:
        only = normalize_assignment(args.assignment) if args.assignment else None
        check_parent(out)
        files = write_release(source, out, only, force=args.force)
    except (MarkerError, ValueError, FileNotFoundError) as exc:
        print(f"course-kit release: {exc}", file=sys.stderr)
        return 2
    print(f"Wrote the student kit ({len(files)} files) to {out}")
    untracked = [rel for rel in untracked_files(source) if rel.split("/")[0] in INCLUDED_DIRS]
    if untracked:
        print(f"Left out {len(untracked)} file(s) git does not track (git add them to release them): "
              + ", ".join(untracked[:5]) + (", ..." if len(untracked) > 5 else ""))
    return 0


def write_release(source, out, assignment=None, force=False):
    """Render the release of ``source`` into ``out``; return the relative paths written.

    ``out`` must be a new or empty folder (``force`` replaces a non-empty one) and
    may not hold any file of the source."""
    from course_utils.tools.outputs import OutputError, check_empty_folder

    source, out = Path(source).resolve(), Path(out).resolve()
    rendered = render_release(source, assignment)  # raises before anything is written
    if source.is_relative_to(out) or (out.is_relative_to(source) and _holds_source_files(source, out)):
        raise OutputError(f"{out} holds files of the source {source}: write the release to a folder of its own")
    check_empty_folder(out, force)
    if out.exists():
        shutil.rmtree(out)
    for rel, (data, mode) in rendered.items():
        target = out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        os.chmod(target, mode)
    return sorted(rendered)


def _holds_source_files(source, folder):
    from course_utils.grading.kit import source_files

    prefix = folder.relative_to(source).as_posix() + "/"
    return any(rel.startswith(prefix) for rel in source_files(source))


def render_release(source, assignment=None):
    """{relative path: (bytes, mode)} of the whole release, in sorted order."""
    from course_utils.grading.kit import assignments, editable_modules, notebooks

    source = Path(source)
    if not (source / "course_utils").is_dir():
        raise FileNotFoundError(f"{source} has no course_utils/ folder: not a kit source")
    known = assignments(source)
    if assignment is not None and assignment not in known:
        raise ValueError(f"no assignments/{assignment} in {source}; present: {known}")
    chosen = [assignment] if assignment else known
    editable = {_module_name(rel) for rel in editable_modules(source)}
    rendered = {}
    for rel in select_files(source, chosen, editable):
        path = source / rel
        rendered[rel] = (render_file(path, rel), path.stat().st_mode & 0o777)
    for name in chosen:
        listing = {"assignment": name, "notebooks": notebooks(source, name), "questions": [],
                   **(public_questions(source, name) or {})}
        text = json.dumps(listing, indent=1, sort_keys=True) + "\n"
        rendered[f"assignments/{name}/questions.json"] = (text.encode(), 0o644)
    return dict(sorted(rendered.items()))


def select_files(source, chosen_assignments, editable_module_names):
    """Relative posix paths of the source files that belong in the release."""
    from course_utils.grading.kit import source_files

    files = source_files(source)
    public_tests = select_tests(source, files, editable_module_names)
    selected = []
    for rel in files:
        parts = rel.split("/")
        top, suffix = parts[0], Path(rel).suffix
        if len(parts) == 1:
            if not rel.startswith(".") or rel == ".gitignore":
                selected.append(rel)
            continue
        if top not in INCLUDED_DIRS or rel in INSTRUCTOR_ONLY:
            continue
        if top == "assignments" and (len(parts) < 3 or parts[1] not in chosen_assignments):
            continue
        if top == "datasets" and (len(parts) != 2 or suffix not in DATASET_FILES):
            continue
        if top == "tests" and suffix == ".py" and rel not in public_tests:
            continue
        if top == "benchmarks" and suffix == ".py" and \
                any(n.startswith(INSTRUCTOR_MODULES) for n in imported_modules(source / rel)):
            continue
        selected.append(rel)
    return selected


def select_tests(source, files, editable_module_names):
    """Kit-relative paths of the tests/ Python files that ship: the public tests,
    ``conftest.py``, and the helper modules those import."""
    in_tests = [rel for rel in files if rel.startswith("tests/") and rel.count("/") == 1 and rel.endswith(".py")]
    tests = [rel for rel in in_tests
             if Path(rel).name.startswith("test_") and is_public_test(source / rel, editable_module_names)]
    wanted = {name for rel in tests for name in imported_modules(source / rel)}
    helpers = [rel for rel in in_tests if not Path(rel).name.startswith("test_")
               and (Path(rel).name == "conftest.py" or Path(rel).stem in wanted)]
    return set(tests + helpers)


def render_file(path, rel):
    """The released bytes of one source file."""
    from course_utils.markers import strip_instructor_blocks, strip_solutions

    if path.suffix == ".ipynb":
        return render_notebook(path, rel)
    if path.suffix in (".py", ".pyx"):
        return strip_solutions(path.read_text(encoding="utf-8"), rel).encode("utf-8")
    if rel == "README.md":
        return strip_instructor_blocks(path.read_text(encoding="utf-8"), rel).encode("utf-8")
    return path.read_bytes()


def render_notebook(path, rel):
    import nbformat

    from course_utils.markers import strip_notebook

    nb = nbformat.read(path, as_version=4)
    strip_notebook(nb, rel)
    text = nbformat.writes(nb)
    return (text if text.endswith("\n") else text + "\n").encode("utf-8")


def imported_modules(path):
    """Dotted names a Python file imports (``from a import b`` gives ``a`` and ``a.b``)."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except SyntaxError:
        return set()
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
            imported.update(f"{node.module}.{alias.name}" for alias in node.names)
    return imported


def is_public_test(path, editable_module_names):
    """A test ships to students when it imports a student-editable module and
    nothing instructor-only (the tooling: ``course_utils.tools``,
    ``course_utils.grading``, ``course_utils.markers``). Tests of the tooling,
    of data downloads and of other fixed plumbing stay with the instructor."""
    imported = imported_modules(path)
    if any(name.startswith(INSTRUCTOR_MODULES) for name in imported):
        return False
    return bool(imported & editable_module_names)


def _module_name(rel):
    return rel.rsplit(".", 1)[0].replace("/", ".")


def public_questions(source, assignment):
    """The public part of an assignment's manifest (no hidden tests), or None if it has none."""
    from course_utils.grading.manifest import load_manifest

    path = Path(source) / "grading" / assignment / "manifest.toml"
    if not path.exists():
        return None
    return load_manifest(path).public()
