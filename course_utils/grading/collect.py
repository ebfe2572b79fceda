"""Make a student's submission zip: ``collect_submission.sh [assignmentN] [--strict]``.

Zips what exists: the assignment's notebooks and the ``course_utils`` modules
its questions name (``functions`` in ``questions.json``), nothing else, into
``<assignment>_submission.zip`` in the kit folder (mode 0644), and prints one
line per file saying where the work stands: ``ok``, ``3 cells not run``,
``errors in cells 12, 25``, ``stubs left in functions ...``. Unfinished work
is submitted and graded as it is, so the zip is written (exit 0) whenever
the files exist; only a missing file stops it (exit 1). With ``--strict``
(for courses that want it) a notebook that was not run top to bottom, or
shows an error, stops it too. Reads the originals only. When nbconvert can,
the written answers are also exported to ``<assignment>_answers.pdf`` (or
``.html`` without LaTeX) for hand grading.

``python3 -m course_utils.grading.collect [assignmentN] [--root KIT] [--strict]``
"""
import argparse
import os
import sys
import zipfile
from pathlib import Path

from course_utils.files import atomic_write
from course_utils.grading.kit import (assignment_at, assignment_functions, assignments, existing_assignment, open_kit,
                                      required_notebooks)
from course_utils.grading.notebook_checks import check_notebook
from course_utils.grading.zipout import add_entry
from course_utils.markers import MarkerError, is_placeholder_answer, stub_functions


def pick_assignment(root, requested, cwd):
    """The assignment to collect: the argument, else the assignment folder we are in."""
    if requested:
        return existing_assignment(root, requested)
    found = assignment_at(root, cwd)
    if found:
        return found
    known = assignments(root)
    raise ValueError(f"say which assignment to collect, e.g. `bash collect_submission.sh {known[0] if known else 'assignment1'}`"
                     f" (the assignments of this kit: {', '.join(known) or 'none'})")


def notebook_summary(report):
    """Where a notebook stands, in one line: ``ok`` or what is left to do."""
    parts = []
    if report.not_run:
        parts.append(f"{_cells(report.not_run)} not run")
    if report.out_of_order:
        parts.append(f"run out of order ({_cells(report.out_of_order, count=False)})")
    if report.error_cells:
        parts.append(f"errors in {_cells(report.error_cells, count=False)}")
    if report.stub_cells:
        parts.append(f"stubs left in {_cells(report.stub_cells, count=False)}")
    if report.unanswered:
        parts.append(f"{report.unanswered} written answer{'s' * (report.unanswered > 1)} not given")
    return "; ".join(parts + report.damaged) or "ok"


def _cells(numbers, count=True):
    if count:
        return f"{len(numbers)} cell{'s' * (len(numbers) > 1)}"
    return f"cell{'s' * (len(numbers) > 1)} {', '.join(map(str, numbers))}"


def module_summary(path, rel, functions=None):
    """Where an editable module stands, in one line; only ``functions`` count (None: all)."""
    try:
        stubs = stub_functions(Path(path).read_text(encoding="utf-8"), rel)
    except MarkerError as exc:
        return f"{exc} (restore the marker lines)"
    stubs = [name for name in stubs if functions is None or name in functions]
    return f"stubs left in functions {', '.join(stubs)}" if stubs else "ok"


def collect(root, assignment, strict=False, export=True, echo=print):
    """Check and zip; return (zip path or None, {file: summary}, [problems that stopped the zip])."""
    root = Path(root)
    notebooks, functions = required_notebooks(root, assignment), assignment_functions(root, assignment)
    summaries, problems = {}, []
    if not notebooks:
        problems.append(f"assignments/{assignment} holds no notebooks")
    for rel in notebooks:
        report = check_notebook(root / rel)
        if not report.exists:
            problems.append(f"{rel} is missing: put it back (from your kit's download) and run it")
            continue
        summaries[rel] = notebook_summary(report)
        if strict and report.problems:
            problems.append(f"{rel}: {summaries[rel]}")
    for rel, names in functions.items():
        if not (root / rel).is_file():
            problems.append(f"{rel} is missing: put it back (from your kit's download)")
            continue
        summaries[rel] = module_summary(root / rel, rel, names)
    if problems:
        return None, summaries, problems
    target = root / f"{assignment}_submission.zip"
    write_zip(root, list(functions) + notebooks, target)
    if export:
        exported = export_answers(root, notebooks, root / f"{assignment}_answers")
        if exported:
            echo(f"Written answers exported to {exported}")
    return target, summaries, problems


def write_zip(root, files, target):
    """Zip ``files`` (kit-relative) into ``target`` atomically, with fixed timestamps."""
    target = Path(target)
    with atomic_write(target) as f, zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED) as archive:
        for rel in sorted(files):
            add_entry(archive, rel, (Path(root) / rel).read_bytes())
    return target


def export_answers(root, required, stem):
    """Write the inline questions and answers to ``stem``.pdf or .html; return the path or None."""
    try:
        import nbformat
        from nbconvert import HTMLExporter, PDFExporter
    except ImportError:
        return None
    cells = []
    for rel in required:
        report = check_notebook(Path(root) / rel)
        if report.answers:
            cells.append(nbformat.v4.new_markdown_cell(f"# {Path(rel).stem}"))
            for question, answer in report.answers:
                given = "*(not answered)*" if is_placeholder_answer(answer) else answer
                cells.append(nbformat.v4.new_markdown_cell(question))
                cells.append(nbformat.v4.new_markdown_cell(f"**Your answer:**\n\n{given}"))
    if not cells:
        return None
    nb = nbformat.v4.new_notebook(cells=cells)
    for exporter, suffix in ((PDFExporter, ".pdf"), (HTMLExporter, ".html")):
        try:
            body, _ = exporter().from_notebook_node(nb)
        except Exception:  # no LaTeX, no pandoc...: try the next format
            continue
        path = Path(f"{stem}{suffix}")
        path.write_bytes(body if isinstance(body, bytes) else body.encode("utf-8"))
        return path
    return None


def main(argv=None):
    parser = argparse.ArgumentParser(prog="collect_submission.sh", description=__doc__.splitlines()[0])
    parser.add_argument("assignment", nargs="?", help="e.g. assignment1 (default: the folder you are in)")
    parser.add_argument("--root", help="kit folder (default: found from this script)")
    parser.add_argument("--strict", action="store_true",
                        help="write no zip while a notebook was not run top to bottom or shows an error")
    parser.add_argument("--no-export", action="store_true", help="do not export the written answers")
    args = parser.parse_args(argv)
    cwd = os.environ.get("COLLECT_CWD", os.getcwd())
    try:
        root = open_kit(args.root, cwd)
        assignment = pick_assignment(root, args.assignment, cwd)
    except (ValueError, FileNotFoundError) as exc:
        print(f"collect_submission: {exc}", file=sys.stderr)
        return 2
    target, summaries, problems = collect(root, assignment, strict=args.strict, export=not args.no_export)
    width = max(map(len, summaries), default=0)
    print(f"{assignment}:")
    for rel, summary in summaries.items():
        print(f"  {rel.ljust(width)}  {summary}")
    if problems:
        print(f"\nNo submission written for {assignment}:", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        if args.strict:
            print("This course wants every notebook run top to bottom without errors: open each one, run "
                  "Kernel > Restart & Run All, save, and run this again.", file=sys.stderr)
        return 1
    with zipfile.ZipFile(target) as archive:
        count = len(archive.namelist())
    print(f"\nWrote {target} ({count} files): upload it.")
    if any(summary != "ok" for summary in summaries.values()):
        print("Unfinished work is graded as it is. For every point: finish the stubs, run each notebook "
              "top to bottom (Kernel > Restart & Run All), save, and collect again.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
