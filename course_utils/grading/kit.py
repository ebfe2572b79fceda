"""The layout of a kit (the instructor's source or a student release).

What students edit derives from the files themselves, so there is no second list
to keep in sync: the files a student may edit are the ``course_utils`` modules
that contain solution markers, plus the assignment's notebooks; an assignment's
own modules are those its questions' ``functions`` name. The source's own files
(what a release or bundle may hold) are what git tracks, or ``KIT_FILES``.
"""
import glob
import json
import re
import subprocess
from pathlib import Path

from course_utils.markers import has_solution_markers

ASSIGNMENT_NAME = re.compile(r"^assignment\d+$")

# What a kit is made of, for a source that is not a git checkout (glob patterns; hidden
# files and folders never match a wildcard): anything else lying in the folder is not its own.
KIT_FILES = (
    "README.md", "requirements.txt", "setup.py", "pyproject.toml", "collect_submission.sh", ".gitignore",
    "course_utils/**/*.py", "course_utils/**/*.pyx",
    "assignments/assignment*/*.ipynb",
    "datasets/get_datasets.sh", "datasets/README.md",
    "tests/*.py", "tests/cs231n_style/*.ipynb", "tests/alt_solutions/*.py", "benchmarks/*.py", "docs/*.md",
    "grading/README.md", "grading/*/manifest.toml", "grading/**/*.py",
    ".ci/run",
)


def normalize_assignment(name):
    """``"1"``, ``"assignment1"`` or ``"assignments/assignment1/"`` -> ``"assignment1"``."""
    text = str(name).strip().rstrip("/").split("/")[-1]
    if text.isdigit():
        text = f"assignment{text}"
    if not ASSIGNMENT_NAME.match(text):
        raise ValueError(f"assignment must look like 'assignment1' or '1', got {name!r}")
    return text


def assignments(root):
    """Names of the assignment folders of a kit, in numeric order."""
    folder = Path(root) / "assignments"
    found = [p.name for p in folder.glob("assignment*") if p.is_dir() and ASSIGNMENT_NAME.match(p.name)]
    return sorted(found, key=lambda n: int(n[len("assignment"):]))


def notebooks(root, assignment):
    """Relative paths (posix strings) of an assignment's notebooks, sorted."""
    folder = Path(root) / "assignments" / assignment
    return sorted(f"assignments/{assignment}/{p.name}" for p in folder.glob("*.ipynb"))


def required_notebooks(root, assignment):
    """The notebooks a submission must hold: as listed by the release (questions.json), so a
    deleted notebook still counts as missing; in the source, the notebooks present."""
    listing = Path(root) / "assignments" / assignment / "questions.json"
    if listing.exists():
        return sorted(json.loads(listing.read_text(encoding="utf-8")).get("notebooks", []))
    return notebooks(root, assignment)


def editable_modules(root):
    """Relative paths of the ``course_utils`` files that hold solution markers, sorted."""
    package = Path(root) / "course_utils"
    found = []
    for path in sorted(package.rglob("*")):
        if path.suffix not in (".py", ".pyx") or "__pycache__" in path.parts or not path.is_file():
            continue
        if has_solution_markers(path.read_text(encoding="utf-8", errors="replace")):
            found.append(path.relative_to(root).as_posix())
    return found


def question_list(root, assignment):
    """The public question list of an assignment (dicts with name, title, points, functions,
    cells, public): ``questions.json`` in a release, the manifest in the source; None if neither."""
    listing = Path(root) / "assignments" / assignment / "questions.json"
    manifest = Path(root) / "grading" / assignment / "manifest.toml"
    if listing.exists():
        return json.loads(listing.read_text(encoding="utf-8")).get("questions", [])
    if manifest.exists():
        from course_utils.grading.manifest import load_manifest

        return load_manifest(manifest).public()["questions"]
    return None


def assignment_functions(root, assignment):
    """{editable module: set of the functions the assignment's questions name in it}, from
    their ``functions`` entries. Without a question list nothing tells which modules are the
    assignment's own, so every editable module, with None for "all of its functions"."""
    questions = question_list(root, assignment)
    if questions is None:
        return {rel: None for rel in editable_modules(root)}
    found = {}
    for spec in questions:
        for target in spec.get("functions", []):
            path, _, function = target.partition("::")
            found.setdefault(path, set()).add(function)
    return dict(sorted(found.items()))


def editable_files(root, assignment):
    """Everything a student may hand in for ``assignment``: editable modules + its notebooks."""
    return editable_modules(root) + notebooks(root, assignment)


def is_kit(folder):
    return (Path(folder) / "course_utils").is_dir() and (Path(folder) / "assignments").is_dir()


def source_files(source):
    """Kit-relative posix paths of a source's own files, sorted: what git tracks
    (``git ls-files``) when ``source`` is the top of a git checkout, else what matches
    ``KIT_FILES``. Build folders, caches, downloaded data, grades, bundles, submission
    zips and exported answers lying in the folder are never among them."""
    source = Path(source)
    names = None
    if (source / ".git").exists():
        try:
            listing = subprocess.run(["git", "-C", str(source), "ls-files", "-z"], capture_output=True, check=True)
            names = listing.stdout.decode("utf-8", "surrogateescape").split("\0")
        except (OSError, subprocess.CalledProcessError):
            names = None  # no usable git: the include list is just as safe
    if names is None:
        names = [name for pattern in KIT_FILES for name in glob.glob(pattern, root_dir=source, recursive=True)]
    return sorted({Path(name).as_posix() for name in names
                   if name and (source / name).is_file() and not (source / name).is_symlink()})


def untracked_files(source):
    """Files of a git checkout that git neither tracks nor ignores (so no release holds them)."""
    if not (Path(source) / ".git").exists():
        return []
    try:
        listing = subprocess.run(["git", "-C", str(source), "ls-files", "-z", "--others", "--exclude-standard"],
                                 capture_output=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return []
    return sorted(name for name in listing.stdout.decode("utf-8", "surrogateescape").split("\0") if name)


def find_root(start="."):
    """The kit folder holding ``start`` (the nearest parent with course_utils/ and assignments/)."""
    here = Path(start).resolve()
    for folder in (here, *here.parents):
        if is_kit(folder):
            return folder
    raise FileNotFoundError(f"{here} is not inside a course kit (no course_utils/ and assignments/ above it): "
                            "run this from the kit's folder or one of its subfolders, or give --root KIT")


def open_kit(root=None, start="."):
    """``root`` when given (it must be a kit), else the kit around ``start``; FileNotFoundError says why not."""
    if root is None:
        return find_root(start)
    folder = Path(root).resolve()
    if not folder.is_dir():
        problem = "is a file, not a folder" if folder.exists() else "there is no such folder"
        raise FileNotFoundError(f"--root {root}: {problem}; give the folder of your course kit "
                                "(the one holding course_utils/ and assignments/)")
    if not is_kit(folder):
        raise FileNotFoundError(f"--root {root}: {folder} is not a course kit (it has no course_utils/ and "
                                "assignments/ folders); give the folder of your course kit")
    return folder


def existing_assignment(root, name):
    """``name`` normalised (``1`` -> ``assignment1``), checked to exist in the kit; ValueError lists what does."""
    present = assignments(root)
    choices = ", ".join(present) or "none"
    try:
        normalized = normalize_assignment(name)
    except ValueError as exc:
        raise ValueError(f"{exc}; the assignments of this kit: {choices}") from None
    if normalized not in present:
        raise ValueError(f"there is no assignments/{normalized} in {root}; the assignments of this kit: {choices}")
    return normalized


def assignment_at(root, folder):
    """The assignment whose folder holds ``folder``, or None."""
    here = Path(folder).resolve()
    for name in assignments(root):
        if here.is_relative_to((Path(root) / "assignments" / name).resolve()):
            return name
    return None


def source_root():
    """The folder of the course_utils package that is running (the instructor's source)."""
    return Path(__file__).resolve().parents[2]
