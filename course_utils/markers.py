"""Solution markers and answer markers: find them, check them, strip them.

The instructor's source holds every reference solution between the two exact
lines ``START`` and ``END`` below (comment lines reading "START OF YOUR CODE"
and "END OF YOUR CODE"; they are not spelled out here, or this file would
count as an exercise),
and every reference answer of an inline question (markdown) between
``<!-- BEGIN ANSWER -->`` and ``<!-- END ANSWER -->``. The student release keeps
the marker lines and replaces what is between them: code becomes ``pass``
(indented like the start line), an answer becomes ``ANSWER_PLACEHOLDER``.
The same functions tell a student (validate, collect) and the grader which
regions are still stubs and which answers are still placeholders.

Markers are matched on the stripped line; they must balance and never nest,
otherwise ``MarkerError`` names the file and the line.
"""
import ast
import re
from dataclasses import dataclass

START = "# *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****"
END = "# *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****"
ANSWER_BEGIN = "<!-- BEGIN ANSWER -->"
ANSWER_END = "<!-- END ANSWER -->"
ANSWER_PLACEHOLDER = "*Your answer:* fill this in."
INSTRUCTOR_BEGIN = "<!-- BEGIN INSTRUCTOR -->"
INSTRUCTOR_END = "<!-- END INSTRUCTOR -->"


class MarkerError(ValueError):
    """Unbalanced or nested markers; ``str()`` reads ``file:line: problem``."""

    def __init__(self, filename, line, problem):
        self.filename, self.line, self.problem = filename, line, problem
        super().__init__(f"{filename}:{line}: {problem}")


@dataclass(frozen=True)
class Region:
    """One marked region: 1-based line numbers of its marker lines, the body between them."""

    start: int
    end: int
    indent: str
    body: tuple

    @property
    def is_stub(self):
        """True when the body holds no code: only ``pass``, comments or blank lines."""
        return all(not line.strip() or line.strip() == "pass" or line.strip().startswith("#")
                   for line in self.body)


def find_regions(text, filename="<text>", begin=START, end=END):
    """All regions of ``text`` delimited by ``begin``/``end`` lines, in order.

    Raises MarkerError for an end without a start, a start inside a region
    (nesting) or a start that is never closed.
    """
    regions, open_at, indent, body = [], None, "", []
    for number, line in enumerate(text.splitlines(), start=1):
        marker = line.strip()
        if marker == begin:
            if open_at is not None:
                raise MarkerError(filename, number, f"nested marker: region opened at line {open_at} is not closed")
            open_at, indent, body = number, line[: len(line) - len(line.lstrip())], []
        elif marker == end:
            if open_at is None:
                raise MarkerError(filename, number, "end marker without a start marker")
            regions.append(Region(open_at, number, indent, tuple(body)))
            open_at = None
        elif open_at is not None:
            body.append(line)
    if open_at is not None:
        raise MarkerError(filename, open_at, "start marker is never closed")
    return regions


def _replace_regions(text, regions, make_body):
    """Rebuild ``text`` with each region's body replaced by ``make_body(region)`` lines."""
    lines = text.splitlines()
    out, previous = [], 0
    for region in regions:
        out.extend(lines[previous: region.start])  # up to and including the begin line
        out.extend(make_body(region))
        previous = region.end - 1  # keep the end line
    out.extend(lines[previous:])
    trailing = "\n" if text.endswith("\n") else ""
    return "\n".join(out) + trailing


def strip_solutions(text, filename="<text>"):
    """Replace every solution region's body with ``pass`` (indented like the start line)."""
    regions = find_regions(text, filename)
    return _replace_regions(text, regions, lambda r: [f"{r.indent}pass"])


def strip_answers(text, filename="<text>"):
    """Replace every reference answer with ``ANSWER_PLACEHOLDER``."""
    regions = find_regions(text, filename, ANSWER_BEGIN, ANSWER_END)
    return _replace_regions(text, regions, lambda r: [ANSWER_PLACEHOLDER])


def strip_instructor_blocks(text, filename="<text>"):
    """Remove instructor-only blocks (markers included), e.g. from the README."""
    regions = find_regions(text, filename, INSTRUCTOR_BEGIN, INSTRUCTOR_END)
    lines = text.splitlines()
    drop = {n for r in regions for n in range(r.start, r.end + 1)}
    kept = [line for number, line in enumerate(lines, start=1) if number not in drop]
    return "\n".join(kept) + ("\n" if text.endswith("\n") else "")


def has_solution_markers(text):
    """True when ``text`` contains at least one solution start line."""
    return any(line.strip() == START for line in text.splitlines())


def answers(text, filename="<text>"):
    """The written answers of a markdown text: one stripped string per answer region."""
    return ["\n".join(r.body).strip() for r in find_regions(text, filename, ANSWER_BEGIN, ANSWER_END)]


def is_placeholder_answer(answer):
    """True when an answer is empty or still the release's placeholder."""
    return answer.strip() in ("", ANSWER_PLACEHOLDER)


def region_owners(text, regions):
    """Qualified name of the function enclosing each region (``Class.method``), or None.

    Uses the syntax tree; when the text does not parse (a student's syntax
    error) every owner is None.
    """
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return [None] * len(regions)
    spans = []

    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = f"{prefix}{child.name}"
                if not isinstance(child, ast.ClassDef):
                    spans.append((child.lineno, child.end_lineno, name))
                visit(child, name + ".")
            else:
                visit(child, prefix)

    visit(tree, "")
    owners = []
    for region in regions:
        inside = [(lo, hi, name) for lo, hi, name in spans if lo <= region.start <= hi]  # END may trail the body
        owners.append(max(inside)[2] if inside else None)  # innermost = latest start
    return owners


def stub_functions(text, filename="<text>"):
    """Names of the functions whose solution regions are all still stubs."""
    regions = find_regions(text, filename)
    status = {}
    for region, owner in zip(regions, region_owners(text, regions)):
        key = owner or f"line {region.start}"
        status[key] = status.get(key, True) and region.is_stub
    return sorted(name for name, stub in status.items() if stub)


def notebook_source(cell):
    """A notebook cell's source as one string (nbformat allows a list of lines)."""
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def strip_notebook(nb, filename="<notebook>"):
    """Student version of a notebook node, in place: stubs, placeholders, no outputs.

    Code cells: solution regions become ``pass``, outputs and execution counts
    are cleared and execution timing metadata dropped. Markdown cells: reference
    answers become the placeholder. Returns ``nb``.
    """
    for index, cell in enumerate(nb.cells, start=1):
        where = f"{filename} (cell {index})"
        if cell.cell_type == "code":
            cell.source = strip_solutions(notebook_source(cell), where)
            cell.outputs = []
            cell.execution_count = None
            cell.metadata.pop("execution", None)
        elif cell.cell_type == "markdown":
            cell.source = strip_answers(notebook_source(cell), where)
    nb.metadata.pop("widgets", None)
    return nb


def check_notebook_markers(nb, filename="<notebook>"):
    """Raise MarkerError when any cell of a notebook has unbalanced or nested markers."""
    for index, cell in enumerate(nb.cells, start=1):
        where = f"{filename} (cell {index})"
        source = notebook_source(cell)
        if cell.cell_type == "code":
            find_regions(source, where)
        elif cell.cell_type == "markdown":
            find_regions(source, where, ANSWER_BEGIN, ANSWER_END)


_GRADED_TAG = re.compile(r"^graded:(?P<notebook>[^.]+)\.(?P<question>.+)$")


def graded_tag(cell):
    """The ``graded:<notebook>.<question>`` tag of a cell, or None."""
    for tag in cell.get("metadata", {}).get("tags", []):
        if _GRADED_TAG.match(tag):
            return tag
    return None
