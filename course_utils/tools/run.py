"""``course-kit run assignmentN``: execute the notebooks headless, then tabulate results.

Notebooks are copied into a build folder (``KIT/build/assignmentN/`` unless
``--out``) and executed there with their stored outputs cleared, so the source
notebooks (the graded reference) are never touched and a notebook that stops
early shows nothing of an earlier run. Executed copies of an earlier run are
replaced only with ``--force``. Works from any folder of the kit. A progress
bar follows the cells; at the end a table shows each notebook's reported
dataset, best validation accuracy, test accuracy and any further numbers it
reported, such as a fooling success rate or transfer accuracies (see
``course_utils.results``), and for a notebook that failed, the cell and its
whole error message.
"""
import shutil
import sys
import tempfile
import time
from pathlib import Path


def configure(parser):
    parser.add_argument("assignment", help="e.g. assignment1 (or 1)")
    parser.add_argument("--root", help="kit folder (default: the kit around the current folder)")
    parser.add_argument("--out", help="where executed notebooks go (default: KIT/build)")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these notebooks (stem names)")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds allowed per cell (default: 1800)")
    parser.add_argument("--force", action="store_true", help="replace the executed notebooks of an earlier run")


def main(args):
    try:
        notebooks, targets = plan(args)
    except (ValueError, FileNotFoundError) as exc:
        print(f"course-kit run: {exc}", file=sys.stderr)
        return 2
    rows = []
    for path, target in zip(notebooks, targets):
        target.parent.mkdir(exist_ok=True)
        shutil.copyfile(path, target)
        start = time.perf_counter()
        record, error = execute_notebook(target, timeout=args.timeout)
        rows.append((path.stem, record or {}, time.perf_counter() - start, error))
    print(format_table(rows))
    for name, _, _, error in rows:
        if error is not None:
            print(f"\n{name} failed at {error}")
    print(f"\nExecuted notebooks are in {targets[0].parent}/")
    return 1 if any(error is not None for *_, error in rows) else 0


def plan(args):
    """(source notebooks, executed copies to write), after checking that nothing is in the way."""
    from course_utils.grading.kit import existing_assignment, open_kit
    from course_utils.tools.outputs import OutputError, check_folder, check_new_file, check_parent

    root = open_kit(args.root)
    assignment = existing_assignment(root, args.assignment)
    notebooks = sorted((root / "assignments" / assignment).glob("*.ipynb"))
    if args.only:
        unknown = set(args.only) - {p.stem for p in notebooks}
        if unknown:
            raise ValueError(f"no notebook(s) {sorted(unknown)} in assignments/{assignment}; "
                             f"its notebooks: {', '.join(p.stem for p in notebooks)}")
        notebooks = [p for p in notebooks if p.stem in args.only]
    if not notebooks:
        raise ValueError(f"assignments/{assignment} holds no notebooks")
    out = Path(args.out) if args.out else root / "build"
    check_folder(out)
    if not out.exists():
        check_parent(out)
    check_folder(out / assignment)
    targets = [out / assignment / p.name for p in notebooks]
    for path, target in zip(notebooks, targets):
        if target.resolve() == path.resolve():
            raise OutputError(f"--out {args.out} would replace the source notebooks: choose another folder")
        if target.exists() or target.is_symlink():
            check_new_file(target, args.force)
    out.mkdir(exist_ok=True)
    return notebooks, targets


def execute_notebook(path, timeout):
    """Execute ``path`` in place (stored outputs cleared first) with a per-cell progress bar.

    Returns (results of ``course_utils.results`` or None, None or the failing cell and its
    whole error message as plain text). The kernel talks over local sockets in a private
    folder, so it prints no warning about unencrypted TCP and leaves nothing behind."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError
    from tqdm.auto import tqdm
    from traitlets.config import Config

    from course_utils.results import find_results

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    code_cells = [cell for cell in nb.cells if cell.cell_type == "code"]
    for cell in code_cells:
        cell.outputs, cell.execution_count = [], None
    failed_at = []
    bar = tqdm(total=len(code_cells), desc=path.stem, unit="cell", file=sys.stdout)
    error = None
    with tempfile.TemporaryDirectory(prefix="course-kit-kernel-") as sockets:
        config = Config()
        config.KernelManager.transport, config.KernelManager.ip = "ipc", str(Path(sockets) / "kernel")
        client = NotebookClient(
            nb, config=config, timeout=timeout, kernel_name="python3",
            resources={"metadata": {"path": str(path.parent)}},
            on_cell_executed=lambda cell, **_: bar.update(cell.cell_type == "code"),
            on_cell_error=lambda cell, cell_index, **_: failed_at.append(cell_index + 1),
        )
        try:
            client.execute()
        except CellExecutionError as exc:
            error = f"{exc.ename}: {exc.evalue}".strip()
        except Exception as exc:  # kernel died, timeout: report it, keep going
            error = f"{type(exc).__name__}: {exc}"
        finally:
            bar.close()
            nbformat.write(nb, path)
    if error is not None and failed_at:
        error = f"cell {failed_at[-1]}: {error}"
    return find_results(nb), error


def format_table(rows):
    """rows: (name, results dict, seconds, error or None) -> aligned text table."""
    header = ("notebook", "dataset", "best val", "test", "time", "status", "other results")
    lines = [header]
    for name, record, seconds, error in rows:
        others = [f"{key} {_value(value)}" for key, value in record.items()
                  if key not in ("dataset", "best_val", "test") and value is not None]
        lines.append((
            name,
            str(record.get("dataset", "-")),
            _acc(record.get("best_val")),
            _acc(record.get("test")),
            f"{seconds:.0f}s",
            "ok" if error is None else "FAILED (below)",
            ", ".join(others),
        ))
    widths = [max(len(row[i]) for row in lines) for i in range(len(header))]
    text = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in lines]
    text.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(text)


def _acc(value):
    return "-" if value is None else f"{value:.3f}"


def _value(value):
    return f"{value:.3f}" if isinstance(value, float) else str(value)
