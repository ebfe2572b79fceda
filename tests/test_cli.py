import subprocess
import sys

import nbformat

from course_utils.cli import main
from course_utils.results import RESULTS_MIME, find_results, report_results
from course_utils.tools.run import format_table


def test_help_lists_commands(capsys):
    assert main([]) == 2
    out = capsys.readouterr().out
    for command in ("run", "datasets", "release", "grade"):
        assert command in out


def test_python_dash_m_matches_console_command():
    proc = subprocess.run([sys.executable, "-m", "course_utils", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0 and "course-kit" in proc.stdout


def test_report_results_outside_jupyter_prints(capsys):
    record = report_results("digits", best_val=0.91234, test=0.9)
    assert record == {"dataset": "digits", "best_val": 0.91234, "test": 0.9}
    assert "best_val: 0.9123" in capsys.readouterr().out


def test_find_results_takes_last_record():
    nb = nbformat.v4.new_notebook()
    out = lambda d: nbformat.v4.new_output("display_data", data={"text/plain": "x", RESULTS_MIME: d})
    nb.cells = [nbformat.v4.new_code_cell(outputs=[out({"test": 0.1})]),
                nbformat.v4.new_code_cell(outputs=[out({"test": 0.2})])]
    assert find_results(nb) == {"test": 0.2}
    assert find_results(nbformat.v4.new_notebook()) is None


def test_format_table():
    table = format_table([("knn", {"dataset": "digits", "best_val": 0.5, "test": 0.25}, 3.2, None),
                          ("svm", {}, 1.0, "ValueError: boom")])
    lines = table.splitlines()
    assert lines[0].split() == ["notebook", "dataset", "best", "val", "test", "time", "status"]
    assert "0.500" in lines[2] and "0.250" in lines[2] and lines[2].endswith("ok")
    assert "FAILED: ValueError: boom" in lines[3]


def test_run_executes_copy_and_reports(tmp_path, capsys):
    folder = tmp_path / "assignments" / "assignmentX"
    folder.mkdir(parents=True)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        "from course_utils.results import report_results\n"
        "report_results('digits', best_val=0.75, test=0.5)")]
    nbformat.write(nb, folder / "demo.ipynb")
    source_bytes = (folder / "demo.ipynb").read_bytes()
    code = main(["run", "assignmentX", "--root", str(tmp_path), "--out", str(tmp_path / "build")])
    out = capsys.readouterr().out
    assert code == 0
    assert "0.750" in out and "0.500" in out
    assert (folder / "demo.ipynb").read_bytes() == source_bytes  # source untouched
    executed = nbformat.read(tmp_path / "build" / "assignmentX" / "demo.ipynb", as_version=4)
    assert find_results(executed)["test"] == 0.5


def test_run_unknown_assignment(tmp_path, capsys):
    (tmp_path / "assignments").mkdir()
    assert main(["run", "assignment9", "--root", str(tmp_path)]) == 2
    assert "no folder" in capsys.readouterr().err
