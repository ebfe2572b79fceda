"""``course-kit release OUT [--assignment N]``: write the student kit from the source.

What goes in (everything else stays out):
- top-level files (README.md without its instructor-only blocks, requirements.txt,
  setup.py, pyproject.toml, collect_submission.sh, ...), except dot-files and
  leftovers such as submission zips;
- ``course_utils/``: solution regions become ``pass`` stubs; the instructor-only
  subcommands (release, grade, gradescope) are left out;
- ``assignments/assignmentN/``: notebooks with stubs, answer placeholders and no
  outputs, plus ``questions.json``: the notebooks a submission needs (read by
  collect_submission.sh) and the public part of the grading manifest (read by
  ``course-kit validate``);
- ``datasets/``: the download script and its README, no data;
- ``tests/``: the public tests (see ``is_public_test``) and shared helpers;
- ``benchmarks/`` (except those of the instructor tooling).
Left out: ``grading/`` (manifests, hidden tests), ``.ci/``, ``.git``, build and
cache folders, compiled extensions, downloaded data.

Releasing is deterministic (sorted walk, no timestamps): the same source gives
byte-identical output. Unbalanced or nested markers anywhere stop the release
before anything is written, with the file and line.
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
    "course_utils/tools/gradescope.py",
}
SKIPPED_NAMES = {"__pycache__", ".ipynb_checkpoints", ".pytest_cache", "build", "dist", ".DS_Store"}
SKIPPED_SUFFIXES = (".pyc", ".pyo", ".so", ".pyd", ".o", ".egg-info", "_submission.zip")
DATASET_FILES = (".sh", ".md", ".py", ".txt")
INSTRUCTOR_MODULES = ("course_utils.tools", "course_utils.grading", "course_utils.markers")


def configure(parser):
    parser.add_argument("out", help="folder to write the student kit to (must be new or empty)")
    parser.add_argument("--assignment", help="release only this assignment's notebooks (e.g. 1 or assignment1)")
    parser.add_argument("--source", default=None, help="instructor source folder (default: this kit)")
    parser.add_argument("--force", action="store_true", help="replace OUT if it is not empty")


def main(args):
    from course_utils.grading.kit import normalize_assignment, source_root
    from course_utils.markers import MarkerError

    source = Path(args.source or source_root()).resolve()
    out = Path(args.out).resolve()
    try:
        only = normalize_assignment(args.assignment) if args.assignment else None
        files = write_release(source, out, only, force=args.force)
    except (MarkerError, ValueError, FileExistsError, FileNotFoundError) as exc:
        print(f"course-kit release: {exc}", file=sys.stderr)
        return 2
    print(f"Wrote the student kit ({len(files)} files) to {out}")
    return 0


def write_release(source, out, assignment=None, force=False):
    """Render the release of ``source`` into ``out``; return the relative paths written."""
    source, out = Path(source).resolve(), Path(out).resolve()
    rendered = render_release(source, assignment)  # raises before anything is written
    if out.exists() and any(out.iterdir()):
        if not force:
            raise FileExistsError(f"{out} is not empty (use --force to replace it)")
        shutil.rmtree(out)
    for rel, (data, mode) in rendered.items():
        target = out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        os.chmod(target, mode)
    return sorted(rendered)


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
    public_tests = select_tests(source / "tests", editable_module_names)
    selected = []
    for entry in sorted(source.iterdir()):
        if entry.is_file() and is_kept(entry.name) and (not entry.name.startswith(".") or entry.name == ".gitignore"):
            selected.append(entry.name)
    for top in INCLUDED_DIRS:
        for path in sorted((source / top).rglob("*")):
            rel = path.relative_to(source).as_posix()
            parts = path.relative_to(source).parts
            if not path.is_file() or path.is_symlink() or any(not is_kept(p) for p in parts):
                continue
            if rel in INSTRUCTOR_ONLY:
                continue
            if top == "assignments" and (len(parts) < 3 or parts[1] not in chosen_assignments):
                continue
            if top == "datasets" and (len(parts) != 2 or path.suffix not in DATASET_FILES):
                continue
            if top == "tests" and path.suffix == ".py" and rel not in public_tests:
                continue
            if top == "benchmarks" and path.suffix == ".py" and \
                    any(n.startswith(INSTRUCTOR_MODULES) for n in imported_modules(path)):
                continue
            if top == "course_utils" and path.suffix == ".c" and path.with_suffix(".pyx").exists():
                continue  # generated by Cython
            selected.append(rel)
    return selected


def select_tests(folder, editable_module_names):
    """Kit-relative paths of the tests/ Python files that ship: the public tests,
    ``conftest.py``, and the helper modules those import."""
    if not folder.is_dir():
        return set()
    tests = [p for p in sorted(folder.glob("test_*.py")) if is_public_test(p, editable_module_names)]
    wanted = {name for p in tests for name in imported_modules(p)}
    helpers = [p for p in sorted(folder.glob("*.py"))
               if not p.name.startswith("test_") and (p.name == "conftest.py" or p.stem in wanted)]
    return {f"tests/{p.name}" for p in tests + helpers}


def is_kept(name):
    return name not in SKIPPED_NAMES and not name.endswith(SKIPPED_SUFFIXES)


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
