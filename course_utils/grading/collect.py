"""Make a student's submission zip: ``collect_submission.sh [assignmentN]``.

Checks that every notebook of the assignment exists and was run top to bottom
(every code cell run, in order, no error outputs), warns about code regions
still holding the stub and unanswered written questions, then writes
``<assignment>_submission.zip`` in the kit folder with the notebooks and the
``course_utils`` files students may edit, nothing else. Exits non-zero, saying
what to fix, when a notebook is missing or not run. Reads the originals only.
When nbconvert can, the written answers are also exported to
``<assignment>_answers.pdf`` (or ``.html`` without LaTeX) for hand grading.

``python3 -m course_utils.grading.collect [assignmentN] [--root KIT]``
"""
import argparse
import os
import sys
import zipfile
from pathlib import Path

from course_utils.files import atomic_write
from course_utils.grading.kit import assignments, editable_modules, find_root, normalize_assignment, required_notebooks
from course_utils.grading.notebook_checks import check_notebook
from course_utils.grading.zipout import add_entry
from course_utils.markers import MarkerError, stub_functions


def pick_assignment(root, requested, cwd):
    """The assignment to collect: the argument, else the assignment folder we are in."""
    known = assignments(root)
    if requested:
        name = normalize_assignment(requested)
        if name not in known:
            raise ValueError(f"there is no assignments/{name} in {root}; choose one of {', '.join(known)}")
        return name
    cwd = Path(cwd).resolve()
    for name in known:
        if cwd.is_relative_to((root / "assignments" / name).resolve()):
            return name
    raise ValueError(f"say which assignment to collect, e.g. `bash collect_submission.sh {known[0] if known else 'assignment1'}`"
                     f" (choose one of {', '.join(known)})")


def collect(root, assignment, out=None, export=True, echo=print):
    """Check and zip; return (zip path or None, list of problems, list of warnings)."""
    root = Path(root)
    required = required_notebooks(root, assignment)
    problems, warnings = [], []
    if not required:
        problems.append(f"assignments/{assignment} holds no notebooks")
    for rel in required:
        report = check_notebook(root / rel)
        if not report.exists:
            problems.append(f"{rel}: missing")
            continue
        for problem in report.problems:
            problems.append(f"{rel}: {problem}")
        if report.stub_cells:
            warnings.append(f"{rel}: cell(s) {', '.join(map(str, report.stub_cells))} still hold the stub (`pass`)")
        if report.unanswered:
            warnings.append(f"{rel}: {report.unanswered} written answer(s) still say '*Your answer:* fill this in.'")
    modules = editable_modules(root)
    for rel in modules:
        try:
            stubs = stub_functions((root / rel).read_text(encoding="utf-8"), rel)
        except MarkerError as exc:
            problems.append(f"{exc} (restore the marker lines)")
            continue
        if stubs:
            warnings.append(f"{rel}: not implemented yet: {', '.join(stubs)}")
    if problems:
        return None, problems, warnings
    target = Path(out) if out else root / f"{assignment}_submission.zip"
    write_zip(root, modules + required, target)
    if export:
        exported = export_answers(root, required, root / f"{assignment}_answers")
        if exported:
            echo(f"Written answers exported to {exported}")
    return target, problems, warnings


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
                cells.append(nbformat.v4.new_markdown_cell(question))
                cells.append(nbformat.v4.new_markdown_cell(f"**Your answer:** {answer}"))
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
    parser.add_argument("--no-export", action="store_true", help="do not export the written answers")
    args = parser.parse_args(argv)
    cwd = os.environ.get("COLLECT_CWD", os.getcwd())
    try:
        root = Path(args.root).resolve() if args.root else find_root(cwd)
        assignment = pick_assignment(root, args.assignment, cwd)
    except (ValueError, FileNotFoundError) as exc:
        print(f"collect_submission: {exc}", file=sys.stderr)
        return 2
    target, problems, warnings = collect(root, assignment, export=not args.no_export)
    for warning in warnings:
        print(f"warning: {warning}")
    if problems:
        print(f"\nNo submission written for {assignment}. Fix these first:", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        print("Open each notebook, run Kernel > Restart & Run All, save, and run this again.", file=sys.stderr)
        return 1
    with zipfile.ZipFile(target) as archive:
        names = archive.namelist()
    print(f"Wrote {target} ({len(names)} files):")
    for name in names:
        print(f"  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
