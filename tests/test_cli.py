import subprocess
import sys

import nbformat
import pytest

from course_utils import __version__
from course_utils.cli import main
from course_utils.results import RESULTS_MIME, find_results, report_results
from course_utils.tools.run import format_table


def test_help_lists_commands(capsys):
    assert main([]) == 2
    out = capsys.readouterr().out
    for command in ("run", "datasets", "release", "grade"):
        assert command in out


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0 and capsys.readouterr().out.strip() == f"course-kit {__version__}"


def test_file_system_errors_are_one_line_not_a_traceback(monkeypatch, capsys):
    from course_utils.tools import core

    def denied(args):
        raise PermissionError(13, "Permission denied", "/srv/kit/autograder.zip")

    monkeypatch.setattr(core, "main", denied)
    assert main(["core"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("course-kit core: [Errno 13] Permission denied: '/srv/kit/autograder.zip': check that path")


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
                          ("svm", {}, 1.0, "cell 3: ValueError: boom"),
                          ("vis", {"dataset": "fashion_mnist", "fooling_success": 0.9, "fooled": 9,
                                   "note": None}, 2.0, None)])
    lines = table.splitlines()
    assert lines[0].split() == ["notebook", "dataset", "best", "val", "test", "time", "status", "other", "results"]
    assert "0.500" in lines[2] and "0.250" in lines[2] and lines[2].endswith("ok")
    assert lines[3].endswith("FAILED (below)")
    assert lines[4].split()[-5:] == ["ok", "fooling_success", "0.900,", "fooled", "9"]
    assert lines[4].endswith("fooling_success 0.900, fooled 9")


def kit_with_notebook(root, *sources):
    """A minimal kit folder (course_utils/ and assignments/) with one notebook of these cells."""
    folder = root / "assignments" / "assignment7"
    folder.mkdir(parents=True)
    (root / "course_utils").mkdir()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    nbformat.write(nb, folder / "demo.ipynb")
    return folder / "demo.ipynb"


REPORT = "from course_utils.results import report_results\nreport_results('digits', best_val={}, test={})"


def test_run_executes_copy_and_reports(tmp_path, capfd):
    notebook = kit_with_notebook(tmp_path, REPORT.format(0.75, 0.5))
    source_bytes = notebook.read_bytes()
    code = main(["run", "assignment7", "--root", str(tmp_path), "--out", str(tmp_path / "build")])
    captured = capfd.readouterr()  # file descriptors: what the kernel process prints too
    assert code == 0
    assert "0.750" in captured.out and "0.500" in captured.out
    assert "without encryption" not in captured.out + captured.err
    assert notebook.read_bytes() == source_bytes  # source untouched
    executed = nbformat.read(tmp_path / "build" / "assignment7" / "demo.ipynb", as_version=4)
    assert find_results(executed)["test"] == 0.5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["assignments", "build", "course_utils"]  # no sockets left


def test_run_failure_shows_the_whole_error_and_no_stale_numbers(tmp_path, monkeypatch, capsys):
    hint = "DatasetError: CIFAR-10 file data_batch_1: missing. To fix it run: bash datasets/get_datasets.sh cifar10"
    notebook = kit_with_notebook(tmp_path, "x = 1", f"raise RuntimeError({hint!r})", REPORT.format(0.75, 0.5))
    nb = nbformat.read(notebook, as_version=4)  # committed outputs of an earlier, successful run
    nb.cells[2].outputs = [nbformat.v4.new_output("display_data", data={"text/plain": "x", RESULTS_MIME:
                                                                           {"dataset": "digits", "test": 0.5}})]
    nbformat.write(nb, notebook)
    monkeypatch.chdir(notebook.parent)  # from a subfolder of the kit, like validate
    assert main(["run", "7"]) == 1
    out = capsys.readouterr().out
    assert "0.500" not in out and "FAILED (below)" in out
    assert f"demo failed at cell 2: RuntimeError: {hint}" in out and "\x1b[" not in out
    assert (tmp_path / "build" / "assignment7" / "demo.ipynb").exists()


def test_run_never_replaces_files_unasked(tmp_path, capsys):
    notebook = kit_with_notebook(tmp_path, "x = 1")
    (tmp_path / "file.txt").write_text("mine")
    for out, words in ((tmp_path / "file.txt", "is a file, not a folder"),
                       (tmp_path / "missing" / "build", "does not exist"),
                       (tmp_path / "assignments", "would replace the source notebooks")):
        assert main(["run", "assignment7", "--root", str(tmp_path), "--out", str(out), "--force"]) == 2
        assert words in capsys.readouterr().err
    assert main(["run", "assignment7", "--root", str(tmp_path)]) == 0
    assert main(["run", "assignment7", "--root", str(tmp_path)]) == 2
    assert "demo.ipynb already exists: add --force" in capsys.readouterr().err
    assert main(["run", "assignment7", "--root", str(tmp_path), "--force"]) == 0
    assert (tmp_path / "file.txt").read_text() == "mine" and not (tmp_path / "missing").exists()
    assert notebook.exists()


def test_run_unknown_assignment(tmp_path, capsys):
    kit_with_notebook(tmp_path, "x = 1")
    assert main(["run", "assignment9", "--root", str(tmp_path)]) == 2
    assert "there is no assignments/assignment9" in capsys.readouterr().err
    assert main(["run", "assignment7", "--root", str(tmp_path / "nowhere")]) == 2
    assert "there is no such folder" in capsys.readouterr().err
