"""``course-kit run assignmentN``: execute the notebooks headless, then tabulate results.

Notebooks are copied into a build folder and executed there, so the source
notebooks (the graded reference) are never touched. A progress bar follows
the cells; at the end a table shows each notebook's reported dataset, best
validation accuracy and test accuracy (see ``course_utils.results``).
"""
import shutil
import sys
import time
from pathlib import Path


def configure(parser):
    parser.add_argument("assignment", help="assignment folder name, e.g. assignment1")
    parser.add_argument("--root", default=".", help="kit folder holding assignments/ (default: .)")
    parser.add_argument("--out", default="build", help="where executed notebooks go (default: build)")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these notebooks (stem names)")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds allowed per cell (default: 1800)")


def main(args):
    source = Path(args.root) / "assignments" / args.assignment
    if not source.is_dir():
        found = sorted(p.name for p in (Path(args.root) / "assignments").glob("assignment*"))
        print(f"course-kit run: no folder {source}; assignments present: {found or 'none'}", file=sys.stderr)
        return 2
    notebooks = sorted(source.glob("*.ipynb"))
    if args.only:
        wanted = set(args.only)
        unknown = wanted - {p.stem for p in notebooks}
        if unknown:
            print(f"course-kit run: no notebook(s) {sorted(unknown)} in {source}", file=sys.stderr)
            return 2
        notebooks = [p for p in notebooks if p.stem in wanted]
    build = Path(args.out) / args.assignment
    build.mkdir(parents=True, exist_ok=True)
    rows, failed = [], 0
    for path in notebooks:
        target = build / path.name
        shutil.copyfile(path, target)
        start = time.perf_counter()
        record, error = execute_notebook(target, timeout=args.timeout)
        seconds = time.perf_counter() - start
        failed += error is not None
        rows.append((path.stem, record or {}, seconds, error))
    print(format_table(rows))
    print(f"\nExecuted notebooks are in {build}/")
    return 1 if failed else 0


def execute_notebook(path, timeout):
    """Execute ``path`` in place with a per-cell progress bar; return (results, error)."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError
    from tqdm.auto import tqdm

    from course_utils.results import find_results

    nb = nbformat.read(path, as_version=4)
    code_cells = sum(cell.cell_type == "code" for cell in nb.cells)
    bar = tqdm(total=code_cells, desc=path.stem, unit="cell", file=sys.stdout)
    client = NotebookClient(
        nb, timeout=timeout, kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        on_cell_executed=lambda cell, **_: bar.update(cell.cell_type == "code"),
    )
    error = None
    try:
        client.execute()
    except CellExecutionError as exc:
        error = str(exc).strip().splitlines()[-1] if str(exc).strip() else "cell failed"
    except Exception as exc:  # kernel died, timeout: report it, keep going
        error = f"{type(exc).__name__}: {exc}"
    finally:
        bar.close()
        nbformat.write(nb, path)
    return find_results(nb), error


def format_table(rows):
    """rows: (name, results dict, seconds, error or None) -> aligned text table."""
    header = ("notebook", "dataset", "best val", "test", "time", "status")
    lines = [header]
    for name, record, seconds, error in rows:
        lines.append((
            name,
            str(record.get("dataset", "-")),
            _acc(record.get("best_val")),
            _acc(record.get("test")),
            f"{seconds:.0f}s",
            "ok" if error is None else f"FAILED: {error[:60]}",
        ))
    widths = [max(len(row[i]) for row in lines) for i in range(len(header))]
    text = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in lines]
    text.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(text)


def _acc(value):
    return "-" if value is None else f"{value:.3f}"
