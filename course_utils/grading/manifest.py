"""One grading manifest per assignment: ``grading/assignmentN/manifest.toml``.

::

    assignment = "assignment1"
    shared_tests = ["test_layers.py"]   # hidden tests shared by assignments, from grading/shared/

    [questions.knn_no_loops]
    title = "k-NN: fully vectorised distances"
    points = 4
    functions = ["course_utils/classifiers/k_nearest_neighbor.py::KNearestNeighbor.compute_distances_no_loops"]
    hidden = ["test_knn.py::test_no_loops*"]       # node ids under grading/assignmentN/hidden/ (* and ? wild)
    cells = ["graded:knn.distances_no_loops"]      # graded reference-notebook cells (tags)
    public = ["tests/test_k_nearest_neighbor.py::*no_loops*"]   # students' own checks (validate)

A question's checks are its matching hidden tests plus its graded cells; its
score is ``points * passed / checks``. ``functions`` name the student regions
of the question (``path::qualified.name``), used to tell "not started" apart.
"""
import tomllib
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path

_QUESTION_KEYS = {"title", "points", "functions", "hidden", "cells", "public"}
_TOP_KEYS = {"assignment", "shared_tests", "questions"}
# Points for "the notebook was run top to bottom" are not offered: a stored execution_count
# proves nothing (anyone can write 1..n into a notebook file), and re-running every
# student's notebook to check would cost as much as the course's whole compute.
_DROPPED = {"run_points": "run_points are no longer supported (the grader cannot verify that a notebook "
                          "was run: execution counts are easy to fake); give those points to questions"}


class ManifestError(ValueError):
    """A manifest that cannot be used; the message names the file and the problem."""


@dataclass
class Question:
    name: str
    title: str
    points: float
    functions: list = field(default_factory=list)
    hidden: list = field(default_factory=list)
    cells: list = field(default_factory=list)
    public: list = field(default_factory=list)

    def matches_hidden(self, node_id):
        return any(node_matches(node_id, pattern) for pattern in self.hidden)

    def matches_public(self, node_id):
        return any(node_matches(node_id, pattern) for pattern in self.public)


@dataclass
class Manifest:
    assignment: str
    questions: dict
    path: Path = None
    shared_tests: list = field(default_factory=list)

    @property
    def max_points(self):
        return sum(q.points for q in self.questions.values())

    def cell_notebooks(self):
        """Notebook stems whose graded cells the manifest uses, sorted."""
        return sorted({tag_notebook(tag) for q in self.questions.values() for tag in q.cells})

    def restricted(self, notebooks=None, questions=None):
        """A copy keeping only some questions and only the cells of some notebooks."""
        kept = {}
        for name, q in self.questions.items():
            if questions is not None and name not in questions:
                continue
            cells = [t for t in q.cells if notebooks is None or tag_notebook(t) in notebooks]
            if q.hidden or cells:
                kept[name] = Question(q.name, q.title, q.points, list(q.functions), list(q.hidden), cells, list(q.public))
        return Manifest(self.assignment, kept, self.path, list(self.shared_tests))

    def public(self):
        """What students may see (written to the release as questions.json), in manifest order."""
        return {
            "questions": [
                {"name": name, "title": q.title, "points": q.points, "functions": q.functions,
                 "cells": q.cells, "public": q.public}
                for name, q in self.questions.items()
            ],
        }


def node_matches(node_id, pattern):
    """Shell-style match where only ``*`` and ``?`` are wild: brackets are literal,
    so ``test_x.py::test_forward[*-affine]`` matches parametrized ids."""
    return fnmatchcase(node_id, pattern.replace("[", "[[]"))


def tag_notebook(tag):
    """``graded:knn.distances`` -> ``knn``."""
    return tag.split(":", 1)[1].split(".", 1)[0]


def load_manifest(path):
    """Read and check a manifest file; raise ManifestError naming the file."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ManifestError(f"{path}: cannot read the manifest: {exc}") from exc
    return manifest_from_dict(data, path)


def manifest_from_dict(data, path=None):
    where = path or "<manifest>"
    for key in set(data) & set(_DROPPED):
        raise ManifestError(f"{where}: {_DROPPED[key]}")
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise ManifestError(f"{where}: unknown key(s) {sorted(unknown)}; expected {sorted(_TOP_KEYS)}")
    if not isinstance(data.get("assignment"), str):
        raise ManifestError(f"{where}: 'assignment' must be a string such as \"assignment1\"")
    questions = {}
    for name, spec in data.get("questions", {}).items():
        if not isinstance(spec, dict):
            raise ManifestError(f"{where}: [questions.{name}] must be a table")
        unknown = set(spec) - _QUESTION_KEYS
        if unknown:
            raise ManifestError(f"{where}: [questions.{name}] has unknown key(s) {sorted(unknown)}")
        points = spec.get("points")
        if isinstance(points, bool) or not isinstance(points, (int, float)) or points <= 0:
            raise ManifestError(f"{where}: [questions.{name}] needs points > 0, got {points!r}")
        lists = {}
        for key in ("functions", "hidden", "cells", "public"):
            value = spec.get(key, [])
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ManifestError(f"{where}: [questions.{name}] {key} must be a list of strings")
            lists[key] = value
        if not lists["hidden"] and not lists["cells"]:
            raise ManifestError(f"{where}: [questions.{name}] has no hidden tests and no cells to grade")
        bad = [t for t in lists["cells"] if not t.startswith("graded:") or "." not in t]
        if bad:
            raise ManifestError(f"{where}: [questions.{name}] cells must be tags 'graded:<notebook>.<name>', got {bad}")
        questions[name] = Question(name, spec.get("title", name), float(points), **lists)
    if not questions:
        raise ManifestError(f"{where}: no [questions.*] tables")
    shared = data.get("shared_tests", [])
    if not isinstance(shared, list) or not all(isinstance(n, str) and "/" not in n for n in shared):
        raise ManifestError(f"{where}: shared_tests must be a list of file names in grading/shared/")
    return Manifest(data["assignment"], questions, path, shared)
