"""Run an instructor's reference notebook against a student's modules, trusting nothing
the kernel says about itself.

The kernel (ipykernel) runs contained in the submission's sandbox, with the student's
kit on its path, and talks to the harness over Unix sockets (ZeroMQ's ipc transport)
in a folder of the sandbox, so it needs no network. It receives the cells' sources one
at a time and never sees the notebook file, its stored outputs or the harness's folders.
The harness collects what each cell printed and compares every graded cell
(``# NBVAL_CHECK_OUTPUT``, tag ``graded:<notebook>.<question>``) with the stored output
after sanitising both sides the same way (negative zeros, trailing zeros of floats,
runs of spaces, numpy's bracket padding, memory addresses). As with nbval's lax mode,
every cell runs even when an earlier one failed; when the kernel dies or a cell
outlives its time limit, the cells not reached fail with the reason.
"""
import json
import os
import queue
import re
import secrets
import sys
import time
from pathlib import Path

from course_utils.grading.harness import containment
from course_utils.grading.harness.tests_step import Outcome
from course_utils.markers import graded_tag

CHECK_MARKER = "# NBVAL_CHECK_OUTPUT"
SANITIZE = (
    (re.compile(r"-(0(?:\.0*)?(?:e[-+]?\d+)?)(?![0-9.])"), r"\1"),   # negative zero
    (re.compile(r"(\d\.\d*?)0+(?![0-9])"), r"\1"),                  # trailing zeros of floats
    (re.compile(r"[ \t]+"), " "),                                   # runs of spaces
    (re.compile(r"(?<=\[) +| +(?=\])"), ""),                        # numpy bracket padding
    (re.compile(r"0x[0-9a-fA-F]+"), "0xADDRESS"),                   # addresses
)
STARTUP_SECONDS = 60


def sanitize(text):
    for pattern, replacement in SANITIZE:
        text = pattern.sub(replacement, text)
    return text.strip()


def output_text(outputs):
    """What a cell showed on stdout and as plain-text results, in order (errors apart)."""
    parts = []
    for output in outputs:
        kind = output.get("output_type")
        if kind == "stream" and output.get("name") == "stdout":
            parts.append(_joined(output.get("text", "")))
        elif kind in ("execute_result", "display_data") and "text/plain" in output.get("data", {}):
            if "image/png" not in output["data"]:  # a figure's text is just its size
                parts.append(_joined(output["data"]["text/plain"]) + "\n")
    return "".join(parts)


def _joined(text):
    """Stored notebooks may hold text as a list of lines."""
    return "".join(text) if isinstance(text, list) else str(text)


def graded_cells(notebook):
    """[(code-cell index, cell, tag or None)] of a notebook (nbformat-like dict)."""
    found, index = [], 0
    for cell in notebook["cells"]:
        if cell.get("cell_type") != "code":
            continue
        source = "".join(cell.get("source", ""))
        found.append((index, source, graded_tag(cell) if source.lstrip().startswith(CHECK_MARKER) else None,
                      cell.get("outputs", [])))
        index += 1
    return found


def compare(stored_outputs, fresh_outputs):
    """None when the graded outputs agree, else a message naming the first differing line."""
    before, after = sanitize(output_text(stored_outputs)), sanitize(output_text(fresh_outputs))
    if before == after:
        return None
    old, new = before.splitlines(), after.splitlines()
    for number in range(max(len(old), len(new))):
        mine = new[number] if number < len(new) else "(nothing)"
        if number >= len(old) or old[number] != mine:
            return f"output differs from the reference from line {number + 1}: your code printed {mine[:200]!r}"
    return "output differs from the reference"


def run_reference_notebook(notebook_path, sandbox, kit, assignment, limits, job_slot=0, level=None, readonly=(),
                           log_path=None):
    """Run every code cell of ``notebook_path`` in a contained kernel; return ({tag: Outcome}, notes)."""
    notebook = json.loads(Path(notebook_path).read_text(encoding="utf-8"))
    cells = graded_cells(notebook)
    results, notes = {}, []
    kernel = ContainedKernel(sandbox, kit, Path(kit) / "assignments" / assignment, limits, job_slot, level,
                             readonly, log_path)
    try:
        kernel.start()
    except Exception as exc:  # the student's code cannot prevent a start; this is the grader's problem
        reason = f"the notebook kernel did not start: {exc}"
        return {tag: Outcome(False, reason) for _, _, tag, _ in cells if tag}, [reason]
    try:
        stopped = None
        for index, source, tag, stored in cells:
            if stopped is not None:
                if tag:
                    results[tag] = Outcome(False, f"the notebook did not reach this cell ({stopped})")
                continue
            outputs, error, stopped = kernel.run_cell(source, limits.test_seconds)
            if stopped is not None:
                notes.append(f"cell {index}: {stopped}")
                if tag:
                    results[tag] = Outcome(False, stopped)
                continue
            if tag is None:
                if error:
                    notes.append(f"cell {index}: {error}")
                continue
            if error:
                results[tag] = Outcome(False, error)
            else:
                difference = compare(stored, outputs)
                results[tag] = Outcome(difference is None, difference or "")
    finally:
        kernel.stop()
    return results, notes


class ContainedKernel:
    """An ipykernel running contained in a sandbox, reached over ipc sockets in it."""

    def __init__(self, sandbox, kit, cwd, limits, job_slot, level, readonly, log_path):
        self.sandbox, self.kit, self.cwd = Path(sandbox), Path(kit), Path(cwd)
        self.limits, self.job_slot, self.level, self.readonly = limits, job_slot, level, tuple(readonly)
        self.log_path = log_path or os.devnull
        self.process = self.client = None

    def start(self):
        from jupyter_client import BlockingKernelClient
        from jupyter_client.connect import write_connection_file

        folder = self.sandbox / ".k"
        folder.mkdir(exist_ok=True)
        self.cwd.mkdir(parents=True, exist_ok=True)
        connection, _ = write_connection_file(str(folder / "c.json"), transport="ipc", ip=str(folder / "s"),
                                              key=secrets.token_hex(16).encode())
        home = self.sandbox / ".home"
        home.mkdir(exist_ok=True)
        env = {"PYTHONPATH": str(self.kit), "HOME": str(home), "IPYTHONDIR": str(home / ".ipython"),
               "MPLCONFIGDIR": str(home / ".matplotlib"), "JUPYTER_RUNTIME_DIR": str(folder),
               "JUPYTER_PLATFORM_DIRS": "1", "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
        with open(self.log_path, "ab") as log:
            self.process = containment.spawn(
                [sys.executable, "-m", "ipykernel_launcher", "-f", connection,
                 "--HistoryManager.hist_file=:memory:"],
                sandbox=str(self.sandbox), cwd=str(self.cwd), limits=self.limits, env=env,
                job_slot=self.job_slot, level=self.level, readonly=self.readonly, stdout=log, stderr=log)
        self.client = BlockingKernelClient()
        self.client.load_connection_file(connection)
        self.client.start_channels(hb=False)  # liveness comes from the process, not heartbeats
        self._wait_ready()

    def _wait_ready(self):
        """Until the kernel answers kernel_info (a busy machine may take a while to start it)."""
        deadline = time.monotonic() + STARTUP_SECONDS
        msg_id = self.client.kernel_info()
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the kernel ended while starting ({self.process.reason() or 'exited'})")
            try:
                reply = self.client.get_shell_msg(timeout=1.0)
            except queue.Empty:
                continue
            if reply.get("parent_header", {}).get("msg_id") == msg_id:
                while True:  # drop the start-up chatter on iopub
                    try:
                        self.client.get_iopub_msg(timeout=0.2)
                    except queue.Empty:
                        return
        raise RuntimeError(f"the kernel did not answer within {STARTUP_SECONDS} s")

    def run_cell(self, source, seconds):
        """Execute one cell -> (outputs, error text or None, why the kernel stopped or None)."""
        outputs, error = [], None
        if self.process.poll() is not None:
            return outputs, None, f"the kernel ended ({self.process.reason() or 'exited'})"
        msg_id = self.client.execute(source, allow_stdin=False, stop_on_error=False)
        deadline = time.monotonic() + seconds
        while True:
            if time.monotonic() > deadline:
                why = f"the cell ran longer than {seconds:g} s (endless loop?)"
                if self._interrupt(msg_id):
                    return outputs, why, None
                self.process.kill()
                return outputs, error, why
            try:
                message = self.client.get_iopub_msg(timeout=0.5)
            except queue.Empty:
                if self.process.poll() is not None:
                    return outputs, error, f"the kernel ended ({self.process.reason() or 'exited'})"
                continue
            if message.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, content = message["msg_type"], message["content"]
            if kind == "stream":
                outputs.append({"output_type": "stream", "name": content.get("name"), "text": content.get("text", "")})
            elif kind in ("execute_result", "display_data"):
                outputs.append({"output_type": kind, "data": dict(content.get("data", {}))})
            elif kind == "error":
                error = f"the cell raised {content.get('ename')}: {str(content.get('evalue'))[:300]}"
            elif kind == "status" and content.get("execution_state") == "idle":
                return outputs, error, None

    def _interrupt(self, msg_id, patience=10.0):
        """Ask the kernel to interrupt the running cell; True when it is idle again in time."""
        self.client.control_channel.send(self.client.session.msg("interrupt_request", {}))
        deadline = time.monotonic() + patience
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                message = self.client.get_iopub_msg(timeout=0.5)
            except queue.Empty:
                continue
            if message.get("parent_header", {}).get("msg_id") == msg_id and message["msg_type"] == "status" \
                    and message["content"].get("execution_state") == "idle":
                return True
        return False

    def stop(self):
        if self.client is not None:
            self.client.stop_channels()
        if self.process is not None:
            self.process.kill()
