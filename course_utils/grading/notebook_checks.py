"""Was a notebook run top to bottom? What did the student write?

Reads the notebook JSON only (nothing is executed). A notebook counts as run
when every non-empty code cell has an execution count, the counts increase
from top to bottom, and no cell holds an error output. The written answers
are the texts between the answer markers, each paired with the inline
question above it.

``python -m course_utils.grading.notebook_checks OUT.json NOTEBOOK...`` writes
the reports as JSON (the grader runs it as a limited step).
"""
import json
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

from course_utils.markers import (ANSWER_BEGIN, ANSWER_END, MarkerError, answers, find_regions,
                                  is_placeholder_answer, notebook_source)


@dataclass
class NotebookReport:
    path: str
    exists: bool = True
    problems: list = field(default_factory=list)     # why it does not count as run top to bottom
    not_run: list = field(default_factory=list)      # the same by kind: cells (1-based) never run,
    out_of_order: list = field(default_factory=list)  # run before the cell above them,
    error_cells: list = field(default_factory=list)  # showing an error,
    damaged: list = field(default_factory=list)      # and what makes the file unusable (texts)
    stub_cells: list = field(default_factory=list)   # code cells (1-based) whose student region is a stub
    answers: list = field(default_factory=list)      # [question, answer] pairs
    unanswered: int = 0

    @property
    def run_ok(self):
        return self.exists and not self.problems


def check_notebook(path):
    """NotebookReport for the notebook file at ``path``."""
    path = Path(path)
    report = NotebookReport(str(path))
    if not path.is_file():
        report.exists = False
        report.problems.append("missing")
        return report
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
        cells = nb["cells"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        _damaged(report, f"not a readable notebook ({type(exc).__name__})")
        return report
    last_count, last_cell, previous_markdown = None, None, ""
    for number, cell in enumerate(cells, start=1):
        source = notebook_source(cell)
        if cell.get("cell_type") == "markdown":
            _collect_answers(report, source, previous_markdown, number)
            previous_markdown = source
            continue
        if cell.get("cell_type") != "code":
            continue
        try:
            if any(r.is_stub for r in find_regions(source, f"{path.name} cell {number}")):
                report.stub_cells.append(number)
        except MarkerError as exc:
            _damaged(report, f"cell {number}: {exc.problem}")
        if not source.strip():
            continue
        count = cell.get("execution_count")
        if count is None:
            report.not_run.append(number)
            report.problems.append(f"cell {number} was not run")
            continue
        if last_count is not None and count <= last_count:
            report.out_of_order.append(number)
            report.problems.append(f"cell {number} ran before cell {last_cell} (run the notebook top to bottom)")
        last_count, last_cell = count, number
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                error = f"{output.get('ename', 'Error')}: {output.get('evalue', '')}".strip()
                report.error_cells.append(number)
                report.problems.append(f"cell {number} shows an error: {error[:200]}")
                break
    return report


def _damaged(report, problem):
    report.damaged.append(problem)
    report.problems.append(problem)


def _collect_answers(report, source, question, number):
    if ANSWER_BEGIN not in source and ANSWER_END not in source:
        return
    try:
        found = answers(source, f"markdown cell {number}")
    except MarkerError as exc:
        _damaged(report, f"cell {number}: {exc.problem}")
        return
    for answer in found:
        report.answers.append([question.strip(), answer])
        report.unanswered += is_placeholder_answer(answer)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    out, paths = argv[0], argv[1:]
    reports = [asdict(check_notebook(p)) for p in paths]
    Path(out).write_text(json.dumps(reports, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
