"""A tiny instructor source for the tooling tests: two student functions, one
notebook with graded cells and an inline question, a manifest (two questions and
the written answer) and hidden tests.

Small enough that releasing and grading it takes seconds, shaped exactly like
the real kit (course_utils/, assignments/assignmentN/, grading/assignmentN/).
"""
import shutil
import zipfile
from pathlib import Path

import nbformat

from course_utils.markers import END, START

REPO = Path(__file__).resolve().parents[1]

TOY_MODULE = f'''\
"""Toy exercises."""


def double(x):
    """Return 2 * x."""
    out = None
    # TODO: compute twice x.
    {START}
    out = 2 * x
    {END}
    if out is None:
        raise NotImplementedError("double is not implemented yet")
    return out


def square(x):
    """Return x * x."""
    out = None
    {START}
    out = x * x
    {END}
    if out is None:
        raise NotImplementedError("square is not implemented yet")
    return out
'''

HIDDEN_TESTS = '''\
import random

import pytest


@pytest.mark.parametrize("seed", [0, 1])
def test_double(student, reference, seed):
    x = random.Random(seed).randint(-50, 50)
    assert student("toy").double(x) == reference("toy").double(x), "double(x) is wrong"


def test_square(student, reference):
    for x in (-3, 0, 7):
        assert student("toy").square(x) == reference("toy").square(x), f"square({x}) is wrong"
'''

PUBLIC_TESTS = '''\
from course_utils.toy import double, square


def test_double_small():
    assert double(4) == 8


def test_square_small():
    assert square(3) == 9
'''

MANIFEST = '''\
assignment = "assignment1"

[questions.double]
title = "Double a number"
points = 4
functions = ["course_utils/toy.py::double"]
hidden = ["test_toy.py::test_double*"]
cells = ["graded:toy.double"]
public = ["tests/test_toy.py::test_double*"]

[questions.square]
title = "Square a number"
points = 6
functions = ["course_utils/toy.py::square"]
hidden = ["test_toy.py::test_square*"]
cells = ["graded:toy.square"]
public = ["tests/test_toy.py::test_square*"]

[answers.why]
title = "Why doubling works"
points = 2
notebook = "toy"
question = 1
'''

README = """# Toy kit

Run `bash collect_submission.sh assignment1`.

<!-- BEGIN INSTRUCTOR -->
Grade with course-kit grade.
<!-- END INSTRUCTOR -->
"""


def _stream(text):
    return nbformat.v4.new_output("stream", name="stdout", text=text)


def toy_notebook(executed=True, answer="Because doubling is linear.", error_in=None):
    """The toy notebook; executed=True stores outputs and counts like a run notebook."""
    cells = [
        nbformat.v4.new_markdown_cell("# Toy notebook"),
        nbformat.v4.new_code_cell("from course_utils.toy import double, square"),
        nbformat.v4.new_code_cell("# NBVAL_CHECK_OUTPUT\nprint(double(21))", outputs=[_stream("42\n")]),
        nbformat.v4.new_code_cell("# NBVAL_CHECK_OUTPUT\nprint(square(-4), square(1.5))",
                                  outputs=[_stream("16 2.25\n")]),
        nbformat.v4.new_code_cell(f"best = None\n{START}\nbest = double(1)\n{END}\nprint(best)",
                                  outputs=[_stream("2\n")]),
        nbformat.v4.new_markdown_cell("**Inline Question 1:** why?"),
        nbformat.v4.new_markdown_cell(f"**Your answer:**\n<!-- BEGIN ANSWER -->\n{answer}\n<!-- END ANSWER -->"),
    ]
    cells[2].metadata["tags"] = ["graded:toy.double"]
    cells[3].metadata["tags"] = ["graded:toy.square"]
    count = 0
    for cell in cells:
        if cell.cell_type == "code":
            count += 1
            cell.execution_count = count if executed else None
            if not executed:
                cell.outputs = []
    if error_in is not None:
        cells[error_in].outputs = [nbformat.v4.new_output("error", ename="ValueError", evalue="boom", traceback=[])]
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def make_toy_source(root):
    """Write the toy instructor source into ``root``; return root."""
    root = Path(root)
    (root / "course_utils").mkdir(parents=True)
    (root / "course_utils" / "__init__.py").write_text('"""Toy kit."""\n')
    (root / "course_utils" / "toy.py").write_text(TOY_MODULE)
    (root / "course_utils" / "plumbing.py").write_text('"""No exercises here."""\nVALUE = 1\n')
    folder = root / "assignments" / "assignment1"
    folder.mkdir(parents=True)
    nbformat.write(toy_notebook(), folder / "toy.ipynb")
    hidden = root / "grading" / "assignment1" / "hidden"
    hidden.mkdir(parents=True)
    (hidden / "test_toy.py").write_text(HIDDEN_TESTS)
    (root / "grading" / "assignment1" / "manifest.toml").write_text(MANIFEST)
    (root / "tests").mkdir()
    (root / "tests" / "test_toy.py").write_text(PUBLIC_TESTS)
    (root / "tests" / "test_tooling.py").write_text("from course_utils.grading import kit\n")
    (root / "datasets").mkdir()
    (root / "datasets" / "get_datasets.sh").write_text("#!/bin/sh\necho get\n")
    (root / "datasets" / "big.bin").write_bytes(b"\0" * 100)
    (root / "README.md").write_text(README)
    (root / "requirements.txt").write_text("numpy\n")
    shutil.copy2(REPO / "collect_submission.sh", root / "collect_submission.sh")
    (root / ".ci").mkdir()
    (root / ".ci" / "run").write_text("secret\n")
    return root


def zip_files(target, files):
    """Write a zip at ``target`` from {name in zip: bytes or str}."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return target


def toy_submission(target, module=TOY_MODULE, notebook=None):
    """A toy submission zip with the given module text and notebook node."""
    nb = notebook if notebook is not None else toy_notebook()
    return zip_files(target, {"course_utils/toy.py": module,
                              "assignments/assignment1/toy.ipynb": nbformat.writes(nb)})


VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}


def check_results_schema(data):
    """Gradescope's results.json: the keys and types its autograder spec gives."""
    assert isinstance(data["score"], (int, float))
    assert isinstance(data["tests"], list)
    for key, kind in (("output", str), ("execution_time", (int, float)), ("extra_data", dict)):
        assert key not in data or isinstance(data[key], kind), key
    for key in ("visibility", "stdout_visibility"):
        assert key not in data or data[key] in VISIBILITY, key
    assert data.get("output_format", "text") in {"text", "html", "simple_format", "md", "ansi"}
    for test in data["tests"]:
        assert set(test) <= {"score", "max_score", "status", "name", "name_format", "number", "output",
                             "output_format", "tags", "visibility", "extra_data"}, test.keys()
        assert isinstance(test["name"], str) and test["name"]
        assert isinstance(test["score"], (int, float)) and isinstance(test["max_score"], (int, float))
        assert 0 <= test["score"] <= test["max_score"] or test["max_score"] == 0
        assert test["status"] in {"passed", "failed"} and isinstance(test["output"], str)
        assert test["visibility"] in VISIBILITY
    assert abs(data["score"] - sum(t["score"] for t in data["tests"])) < 1e-6
