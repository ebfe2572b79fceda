"""Run one grading step in its own process, under limits.

Each step gets a new session (its own process group), CPU-time, address-space,
file-size and core-dump limits set with ``resource.setrlimit`` before it
starts, and a wall-clock limit enforced here: on timeout the whole process group
is killed. Jupyter kernels start their own session, so every step also carries
a unique token in its environment and, when it ends, any process still holding
that token (e.g. a kernel stuck in an endless loop) is killed by its id.
Output goes to files (bounded by the file-size limit), never to pipes.
"""
import os
import resource
import signal
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

TOKEN_VARIABLE = "COURSE_KIT_STEP_TOKEN"
QUIET_THREADS = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                 "MPLBACKEND": "Agg", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0"}


@dataclass(frozen=True)
class StepLimits:
    """wall/cpu/memory/file: per process; test_seconds: per test function and per notebook cell."""
    wall_seconds: float = 900.0
    cpu_seconds: int = 900
    memory_mb: int = 3072
    file_mb: int = 256
    test_seconds: float = 300.0


@dataclass
class StepResult:
    returncode: int
    timed_out: bool
    seconds: float
    stdout: str
    stderr: str
    limits: StepLimits

    @property
    def reason(self):
        """Why the step ended abnormally, in words, or None when it exited normally."""
        if self.timed_out:
            return f"timed out after {self.limits.wall_seconds:g} s (endless loop?)"
        if self.returncode < 0:
            sig = -self.returncode
            if sig == signal.SIGXCPU:
                return f"stopped: used more than {self.limits.cpu_seconds} s of CPU time"
            if sig == signal.SIGKILL:
                return f"killed (CPU time over {self.limits.cpu_seconds} s, or out of memory)"
            if sig == signal.SIGSEGV:
                return f"crashed (segmentation fault; memory limit is {self.limits.memory_mb} MB)"
            return f"killed by signal {signal.Signals(sig).name}"
        return None


def _limit_resources(limits):
    def apply():
        mb = 2**20
        resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 5))
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_mb * mb, limits.memory_mb * mb))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_mb * mb, limits.file_mb * mb))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    return apply


def run_step(command, cwd, limits=StepLimits(), env=None, tail_chars=20000):
    """Run ``command`` (argv list) in ``cwd`` under ``limits``; never raises for the step's failures."""
    token = uuid.uuid4().hex
    full_env = {**os.environ, **QUIET_THREADS, **(env or {}), TOKEN_VARIABLE: token}
    start = time.monotonic()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            command, cwd=cwd, env=full_env, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
            start_new_session=True, preexec_fn=_limit_resources(limits),
        )
        timed_out = False
        try:
            proc.wait(timeout=limits.wall_seconds)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill_group(proc.pid)
            proc.wait()
        finally:
            _kill_group(proc.pid)
            kill_token_processes(token)
        seconds = time.monotonic() - start
        return StepResult(proc.returncode, timed_out, seconds, _tail(out, tail_chars), _tail(err, tail_chars), limits)


def _kill_group(pgid):
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def kill_token_processes(token):
    """SIGKILL every process whose environment carries this step's token; return their ids."""
    needle = f"{TOKEN_VARIABLE}={token}".encode()
    killed = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if needle in environ.split(b"\0"):
            try:
                os.kill(int(entry.name), signal.SIGKILL)
                killed.append(int(entry.name))
            except (ProcessLookupError, PermissionError):
                pass
    return killed


def _tail(handle, chars):
    handle.seek(0, os.SEEK_END)
    size = handle.tell()
    handle.seek(max(0, size - chars * 4))
    return handle.read().decode("utf-8", errors="replace")[-chars:]
