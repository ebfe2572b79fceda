"""Whose submission it is and which assignment it holds, read from the submission.

- ``student_id(path)``: the file (or folder) name without ``.zip`` and without the
  ``_assignmentN_submission`` (or ``_submission``) that collect_submission.sh puts
  there: ``alice_assignment1_submission.zip`` -> ``alice``; file-system safe.
- ``unique_ids(paths)``: one id per submission, ``-2``, ``-3``... where two would clash.
- ``held_assignments(path, source)``: the assignments a submission holds, from its
  contents (``assignments/assignmentN/`` notebooks inside, else notebook names that
  belong to one assignment of the source); from its name only when the contents say
  nothing (an unreadable zip).
- ``batch_assignment(held, requested, source)``: the assignment of a batch, or a
  ValueError naming the submissions that do not fit and what to do.

Only names are read (a zip's directory, a folder's listing): nothing is unpacked here.
"""
import re
import zipfile
from pathlib import Path, PurePosixPath

from course_utils.grading.kit import assignments, notebooks

_SUFFIX = re.compile(r"[_-](?:assignment\d+[_-])?submission$|[_-]assignment\d+$", re.IGNORECASE)
_IN_ASSIGNMENT = re.compile(r"(?:^|/)assignments/(assignment\d+)/[^/]+\.ipynb$")
_NAMED = re.compile(r"assignment\d+")


def student_id(path):
    """``alice_assignment1_submission.zip`` -> ``alice`` (``_submission``, ``_assignmentN`` dropped too)."""
    stem = Path(path).name
    stem = stem[:-len(".zip")] if stem.lower().endswith(".zip") else stem
    stem = _SUFFIX.sub("", stem) or stem
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in stem).strip("._")
    return safe or "submission"


def unique_ids(paths):
    """{path: student id}, in the given order, no two alike."""
    ids, used = {}, set()
    for path in paths:
        base = student_id(path)
        name, n = base, 2
        while name in used:
            name, n = f"{base}-{n}", n + 1
        used.add(name)
        ids[path] = name
    return ids


def _names(path):
    """Posix paths inside a zip or folder submission; None when they cannot be read."""
    path = Path(path)
    if path.is_dir():
        return [p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file()]
    try:
        with zipfile.ZipFile(path) as archive:
            return archive.namelist()
    except (OSError, zipfile.BadZipFile):
        return None


def held_assignments(path, source):
    """Sorted names of the assignments the submission at ``path`` holds (maybe none)."""
    names = _names(path) or []
    found = {m.group(1) for name in names for m in [_IN_ASSIGNMENT.search(name)] if m}
    if not found:
        owner = {PurePosixPath(rel).name: a for a in assignments(source) for rel in notebooks(source, a)}
        found = {owner[PurePosixPath(name).name] for name in names if PurePosixPath(name).name in owner}
    if not found:
        found = set(_NAMED.findall(Path(path).name.lower()))
    return sorted(found)


def batch_assignment(held, requested, source):
    """The assignment to grade ``held`` ({submission: held assignments}) as.

    ``requested`` (from --assignment) must be held by every submission whose contents
    tell; without it, the one assignment all of them hold, else the only one with a
    manifest. Otherwise ValueError saying which submissions disagree and what to do."""
    told = {path: names for path, names in held.items() if names}
    if requested:
        wrong = [f"{Path(p).name} ({', '.join(names)})" for p, names in told.items() if requested not in names]
        if wrong:
            raise ValueError(f"--assignment {requested}, but these submissions hold another assignment: "
                             f"{'; '.join(wrong)}. Grade them with the --assignment they hold, or leave "
                             "--assignment out to use what the submissions hold")
        return requested
    common = set.intersection(*map(set, told.values())) if told else set()
    if len(common) == 1:
        return common.pop()
    if told and not common:
        by_assignment = {}
        for path, names in told.items():
            by_assignment.setdefault(", ".join(names), []).append(Path(path).name)
        listing = "; ".join(f"{names}: {', '.join(paths)}" for names, paths in sorted(by_assignment.items()))
        raise ValueError(f"the submissions hold different assignments ({listing}): grade each assignment "
                         "separately, with --assignment")
    graded = [a for a in assignments(source) if (Path(source) / "grading" / a / "manifest.toml").exists()]
    if len(graded) == 1:
        return graded[0]
    raise ValueError(f"cannot tell which assignment the submissions hold: say it with --assignment "
                     f"(manifests exist for {', '.join(graded) or 'none'})")
