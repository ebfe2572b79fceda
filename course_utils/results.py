"""Headline results that a notebook reports and ``course-kit run`` collects.

A notebook's last cell calls ``report_results(dataset=..., best_val=..., test=...)``.
In Jupyter this shows a one-line summary and attaches the numbers as a
machine-readable output (MIME type ``RESULTS_MIME``) that the runner finds in
the executed notebook; outside Jupyter it just prints the summary.
"""
import json

RESULTS_MIME = "application/vnd.course-kit.results+json"


def report_results(dataset, best_val=None, test=None, **extra):
    """Show and record a notebook's headline results.

    dataset: name of the dataset used; best_val / test: accuracies in [0, 1]
    (or None); extra: further named numbers or strings. Returns the record.
    """
    record = {"dataset": dataset, "best_val": best_val, "test": test, **extra}
    json.dumps(record)  # fail here, clearly, if a value cannot be stored
    summary = "  ".join(f"{k}: {_fmt(v)}" for k, v in record.items() if v is not None)
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        get_ipython = None
    if get_ipython is not None and get_ipython() is not None:
        display({"text/plain": summary, RESULTS_MIME: record}, raw=True)
    else:
        print(summary)
    return record


def find_results(notebook):
    """The last results record stored in an executed notebook (nbformat node) or None."""
    found = None
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if RESULTS_MIME in data:
                found = dict(data[RESULTS_MIME])
    return found


def _fmt(value):
    return f"{value:.4f}" if isinstance(value, float) else str(value)
