"""``course-kit validate [assignmentN]``: where do I stand? (students, inside their kit)

Runs the public checks of each question (the kit's tests listed for it in
``assignments/<a>/questions.json``) on your code, looks at your notebooks, and
prints one row per question:

- ``done``: its code is written and its public tests pass;
- ``failing``: with the first error (a public test, or an error shown in the
  question's graded notebook cell);
- ``not started``: its code regions still hold the ``pass`` stub.

Notes on a row: ``stub still present`` (some of its regions are still stubs),
``notebook not run top to bottom``. Nothing in your kit is changed. The
hidden tests the course grades with are not in your kit: passing here is
necessary, not sufficient.
"""
import json
import sys
import tempfile
from pathlib import Path


def configure(parser):
    parser.add_argument("assignment", nargs="?", help="e.g. assignment1 (default: the one you are in, else all)")
    parser.add_argument("--root", help="kit folder (default: the kit around the current folder)")
    parser.add_argument("--timeout", type=float, default=900, help="seconds allowed for the public tests")


def main(args):
    from course_utils.grading.kit import assignment_at, assignments, existing_assignment, open_kit, question_list

    try:
        root = open_kit(args.root)
        if args.assignment:
            chosen = [existing_assignment(root, args.assignment)]
        else:
            here = assignment_at(root, Path.cwd())
            chosen = [here] if here else [a for a in assignments(root) if question_list(root, a)]
            if not chosen:
                raise ValueError(f"no assignment of {root} lists questions (no assignments/*/questions.json): "
                                 "is this the kit your course handed out?")
        listed = {a: question_list(root, a) for a in chosen}
        empty = [a for a, questions in listed.items() if not questions]
        if empty:
            raise ValueError(f"{', '.join(empty)} lists no questions (no questions.json in assignments/{empty[0]}): "
                             "is this the kit your course handed out?")
    except (ValueError, FileNotFoundError) as exc:
        print(f"course-kit validate: {exc}", file=sys.stderr)
        return 2
    all_done = True
    for assignment, questions in listed.items():
        rows = validate(root, assignment, {spec["name"]: spec for spec in questions}, args.timeout)
        print(format_rows(assignment, rows))
        all_done &= all(status == "done" for _, status, _, _ in rows)
    return 0 if all_done else 1


def validate(root, assignment, questions, timeout=900):
    """[(title, status, first error or '', notes)] per question."""
    from course_utils.grading.kit import notebooks
    from course_utils.grading.notebook_checks import check_notebook
    from course_utils.markers import MarkerError, stub_functions

    root = Path(root)
    stubs = {}
    for spec in questions.values():
        for target in spec["functions"]:
            path = target.split("::", 1)[0]
            if path not in stubs:
                try:
                    stubs[path] = set(stub_functions((root / path).read_text(encoding="utf-8"), path))
                except (OSError, MarkerError) as exc:
                    stubs[path] = {f"!{exc}"}
    outcomes = run_public_tests(root, questions, timeout)
    reports = {Path(rel).stem: (check_notebook(root / rel), _tagged_cells(root / rel)) for rel in notebooks(root, assignment)}
    rows = []
    for name, spec in questions.items():
        targets = [t.split("::", 1) for t in spec["functions"] if "::" in t]
        stubbed = [f for p, f in targets if f in stubs.get(p, set())]
        notes = []
        failures = [o.message for node, o in sorted(outcomes.items())
                    if not o.passed and any(_match(node, pattern) for pattern in spec["public"])]
        for tag in spec["cells"]:
            stem = tag.split(":", 1)[1].split(".", 1)[0]
            report, cells = reports.get(stem, (None, {}))
            if report is None:
                continue
            if not report.run_ok and "notebook not run top to bottom" not in notes:
                notes.append("notebook not run top to bottom")
            error = cells.get(tag)
            if error:
                failures.append(f"{stem}.ipynb: {error}")
        if targets and len(stubbed) == len(targets):
            status, detail = "not started", ""
        elif failures:
            status, detail = "failing", failures[0]
        else:
            status, detail = "done", ""
        if stubbed and status != "not started":
            notes.insert(0, "stub still present")
            if status == "done":
                status = "failing"
                detail = f"still a stub: {', '.join(stubbed)}"
        rows.append((spec.get("title", name), status, detail, notes))
    return rows


def _match(node, pattern):
    from course_utils.grading.manifest import node_matches

    return node_matches(node, pattern)


def _tagged_cells(path):
    """{graded tag: error text} for the graded cells of a student's notebook that show an error."""
    from course_utils.markers import graded_tag

    try:
        nb = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    errors = {}
    for cell in nb.get("cells", []):
        tag = graded_tag(cell) if cell.get("cell_type") == "code" else None
        if tag is None:
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                errors[tag] = f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"
    return errors


def run_public_tests(root, questions, timeout):
    """Run the public test files the questions name; {nodeid: Outcome} (ids relative to the kit)."""
    from course_utils.grading.harness.runner import StepLimits
    from course_utils.grading.harness.tests_step import install_plugin, run_tests

    files = sorted({p.split("::", 1)[0] for spec in questions.values() for p in spec["public"]})
    files = [f for f in files if (Path(root) / f).exists()]
    if not files:
        return {}
    with tempfile.TemporaryDirectory(prefix="course-kit-validate-") as tmp:
        plugin = install_plugin(Path(tmp) / "plugin")
        ini = Path(tmp) / "pytest.ini"
        ini.write_text("[pytest]\n", encoding="utf-8")
        limits = StepLimits(wall_seconds=timeout, cpu_seconds=int(timeout), memory_mb=4096)
        outcomes, _ = run_tests(files, ini, root, {"PYTHONPATH": f"{root}:{plugin}"}, limits,
                                rootdir=root)
    return outcomes


def format_rows(assignment, rows):
    width = max([len(r[0]) for r in rows] + [8])
    lines = [f"{assignment}", f"{'question'.ljust(width)}  {'status'.ljust(11)}  details", "-" * (width + 30)]
    for title, status, detail, notes in rows:
        extra = "; ".join(([detail] if detail else []) + notes)
        lines.append(f"{title.ljust(width)}  {status.ljust(11)}  {extra}".rstrip())
    return "\n".join(lines)
