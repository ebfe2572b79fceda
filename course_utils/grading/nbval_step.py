"""Run an instructor's reference notebook against a student's modules with nbval.

nbval runs in lax mode: every cell must run, and cells starting with
``# NBVAL_CHECK_OUTPUT`` must reproduce the stored reference output after both
sides are sanitised (negative zeros, trailing zeros of floats, runs of
spaces, numpy's bracket padding, memory addresses). Each graded cell carries a
``graded:<notebook>.<question>`` tag; the result is one Outcome per tag.
"""
import json
from pathlib import Path

from course_utils.grading.runner import StepLimits
from course_utils.grading.tests_step import Outcome, run_tests
from course_utils.markers import graded_tag

# nbval's format: pairs of lines "regex: ..." / "replace: ..." (re.sub semantics;
# the replacement is the rest of the line, so a single space or nothing is spelled literally).
SANITIZE = "\n".join([
    "[negative zero]", r"regex: -(0(?:\.0*)?(?:e[-+]?\d+)?)(?![0-9.])", r"replace: \1",
    "[trailing zeros of floats]", r"regex: (\d\.\d*?)0+(?![0-9])", r"replace: \1",
    "[runs of spaces]", r"regex: [ \t]+", "replace:  ",
    "[numpy bracket padding]", r"regex: (?<=\[) +| +(?=\])", "replace: ",
    "[addresses]", r"regex: 0x[0-9a-fA-F]+", "replace: 0xADDRESS",
]) + "\n"


def write_sanitize_file(folder):
    path = Path(folder) / "nbval_sanitize.cfg"
    path.write_text(SANITIZE, encoding="utf-8")
    return path


def graded_cells(notebook_path):
    """{code-cell index (nbval's 'Cell N'): graded tag} of a reference notebook."""
    nb = json.loads(Path(notebook_path).read_text(encoding="utf-8"))
    found, index = {}, 0
    for cell in nb["cells"]:
        if cell.get("cell_type") != "code":
            continue
        tag = graded_tag(cell)
        if tag is not None:
            found[index] = tag
        index += 1
    return found


def run_notebook(notebook, ini, cwd, env, limits=StepLimits()):
    """Run ``notebook`` under nbval; return ({tag: Outcome}, notes)."""
    notebook = Path(notebook)
    cells = graded_cells(notebook)
    sanitize = write_sanitize_file(Path(ini).parent)
    extra = ["-p", "nbval.plugin", "--nbval-lax", "--nbval-current-env", f"--nbval-sanitize-with={sanitize}",
             f"--nbval-cell-timeout={max(1, int(limits.test_seconds))}"]
    stream = Path(ini).with_name(f"stream-{notebook.stem}.jsonl")
    outcomes, notes = run_tests([notebook], ini, cwd, env, limits, extra=extra, max_rounds=1, stream=stream)
    by_cell = {}
    for nodeid, outcome in outcomes.items():
        if "::Cell " in nodeid:
            by_cell[int(nodeid.rsplit("::Cell ", 1)[1])] = outcome
    reason = f"the notebook did not reach this cell ({notes[-1]})" if notes else "the notebook did not reach this cell"
    results = {}
    for index, tag in cells.items():
        outcome = by_cell.get(index, Outcome(False, reason))
        if not outcome.passed and "outputs differ" in outcome.detail:
            outcome = Outcome(False, "output differs from the reference", outcome.detail)
        results[tag] = outcome
    return results, notes
