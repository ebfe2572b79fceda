"""One grading manifest per assignment: ``grading/assignmentN/manifest.toml``.

::

    assignment = "assignment1"
    shared_tests = ["test_layers.py"]   # hidden tests shared by assignments, from grading/shared/
    pretrained = ["all_classes"]        # pretrained networks its notebooks load (course_utils.pretrained.TASKS)

    [questions.knn_no_loops]
    title = "k-NN: fully vectorised distances"
    points = 4
    functions = ["course_utils/classifiers/k_nearest_neighbor.py::KNearestNeighbor.compute_distances_no_loops"]
    hidden = ["test_knn.py::test_no_loops*"]       # node ids under grading/assignmentN/hidden/ (* and ? wild)
    cells = ["graded:knn.distances_no_loops"]      # graded reference-notebook cells (tags)
    public = ["tests/test_k_nearest_neighbor.py::*no_loops*"]   # students' own checks (validate)

    [answers.knn_inline1]
    title = "k-NN: bright rows and columns of the distance matrix"
    points = 2
    notebook = "knn"        # a notebook of the assignment (its stem)
    question = 1            # its first inline question (answer region), counted from the top

A question's checks are its matching hidden tests plus its graded cells; its
score is ``points * passed / checks``. ``functions`` name the student regions
of the question (``path::qualified.name``), used to tell "not started" apart.
``pretrained`` tasks are trained (once, cached) by the harness before a batch and
copied read-only into every sandbox, so the notebooks load them instead of training.
An ``answers`` entry is a written answer, scored by hand (``course-kit answers``);
that the notebook exists and has that many inline questions is checked against
the source when grading (``grading.harness.written.check_answers``).
"""
import tomllib
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path

_QUESTION_KEYS = {"title", "points", "functions", "hidden", "cells", "public"}
_ANSWER_KEYS = {"title", "points", "notebook", "question"}
_TOP_KEYS = {"assignment", "shared_tests", "pretrained", "questions", "answers"}
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
class Answer:
    """A written answer: the ``question``-th inline question (1-based) of ``notebook`` (a stem)."""
    name: str
    title: str
    points: float
    notebook: str
    question: int


@dataclass
class Manifest:
    assignment: str
    questions: dict
    path: Path = None
    shared_tests: list = field(default_factory=list)
    answers: dict = field(default_factory=dict)
    pretrained: list = field(default_factory=list)

    @property
    def max_points(self):
        """Points of the auto-graded questions."""
        return sum(q.points for q in self.questions.values())

    @property
    def written_points(self):
        """Points of the written answers (scored by hand)."""
        return sum(a.points for a in self.answers.values())

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
        return Manifest(self.assignment, kept, self.path, list(self.shared_tests), dict(self.answers),
                        list(self.pretrained))

    def public(self):
        """What students may see (written to the release as questions.json), in manifest order."""
        return {
            "questions": [
                {"name": name, "title": q.title, "points": q.points, "functions": q.functions,
                 "cells": q.cells, "public": q.public}
                for name, q in self.questions.items()
            ],
            "answers": [
                {"name": name, "title": a.title, "points": a.points, "notebook": a.notebook, "question": a.question}
                for name, a in self.answers.items()
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
        points = _points(spec, f"{where}: [questions.{name}]")
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
        questions[name] = Question(name, spec.get("title", name), points, **lists)
    if not questions:
        raise ManifestError(f"{where}: no [questions.*] tables")
    shared = data.get("shared_tests", [])
    if not isinstance(shared, list) or not all(isinstance(n, str) and "/" not in n for n in shared):
        raise ManifestError(f"{where}: shared_tests must be a list of file names in grading/shared/")
    pretrained = data.get("pretrained", [])
    if not isinstance(pretrained, list) or not all(isinstance(n, str) for n in pretrained):
        raise ManifestError(f"{where}: pretrained must be a list of task names of course_utils.pretrained.TASKS")
    from course_utils.pretrained import TASKS

    unknown = [n for n in pretrained if n not in TASKS]
    if unknown:
        raise ManifestError(f"{where}: pretrained names unknown task(s) {unknown}; expected some of {sorted(TASKS)}")
    return Manifest(data["assignment"], questions, path, shared, _answers(data.get("answers", {}), questions, where),
                    pretrained)


def _points(spec, table):
    points = spec.get("points")
    if isinstance(points, bool) or not isinstance(points, (int, float)) or points <= 0:
        raise ManifestError(f"{table} needs points > 0, got {points!r}")
    return float(points)


def _answers(data, questions, where):
    """The ``[answers.*]`` tables as {name: Answer}; one entry per inline question at most."""
    if not isinstance(data, dict):
        raise ManifestError(f"{where}: 'answers' must be tables [answers.<name>]")
    found, taken = {}, {}
    for name, spec in data.items():
        table = f"{where}: [answers.{name}]"
        if not isinstance(spec, dict):
            raise ManifestError(f"{table} must be a table")
        if name in questions:
            raise ManifestError(f"{table}: the name is already a [questions.{name}]; give the answer another name")
        unknown = set(spec) - _ANSWER_KEYS
        if unknown:
            raise ManifestError(f"{table} has unknown key(s) {sorted(unknown)}; expected {sorted(_ANSWER_KEYS)}")
        notebook, number = spec.get("notebook"), spec.get("question")
        if not isinstance(notebook, str) or not notebook or "/" in notebook or notebook.endswith(".ipynb"):
            raise ManifestError(f"{table} needs notebook = the notebook's stem, such as \"knn\", got {notebook!r}")
        if isinstance(number, bool) or not isinstance(number, int) or number < 1:
            raise ManifestError(f"{table} needs question = the inline question's number in its notebook "
                                f"(1 for the first), got {number!r}")
        if (notebook, number) in taken:
            raise ManifestError(f"{table}: {notebook} question {number} is already [answers.{taken[notebook, number]}]")
        taken[notebook, number] = name
        title = spec.get("title", name)
        if not isinstance(title, str):
            raise ManifestError(f"{table} title must be a string")
        found[name] = Answer(name, title, _points(spec, table), notebook, number)
    return found
