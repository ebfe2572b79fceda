"""The harness's view of student code: proxies whose calls run in a contained worker.

``StudentKit(sandbox, ...)`` starts ``python -m course_utils.grading.worker`` contained in
the submission's sandbox and talks to it over its stdin/stdout in the ``wire`` format.
``kit.module("classifiers.k_nearest_neighbor")`` returns a proxy: attribute reads,
attribute writes and calls (functions, classes, methods of the worker's objects) are
requests; plain data comes back as copies, everything else as further proxies. So a
hidden test reads like ordinary pytest code, while the student's functions, the
objects they create and everything they patch stay in the worker's process.

A student exception is raised here as a ``StudentCodeError`` that is also an instance
of the same built-in exception type (``pytest.raises(ValueError)`` works). A call that
outlives its time limit, or a worker that dies, raises ``WorkerCrashed``; the next
request starts a fresh worker (objects of the old one are gone).
"""
import builtins
import dataclasses
import json
import os
import select
import subprocess
import sys
import time

import numpy as np

from course_utils.grading import wire
from course_utils.grading.harness import containment

WORKER_MODULE = "course_kit_worker"  # installed by course_utils.grading.worker.server.install
ENVIRONMENT = "COURSE_KIT_WORKER"  # how the harness's pytest process learns its worker


class StudentCodeError(Exception):
    """An exception raised by student code in the worker (type name, message, student frames)."""

    def __init__(self, type_name, message, frames=()):
        self.type_name, self.message, self.frames = type_name, message, [tuple(f) for f in frames]
        super().__init__(self.describe())

    def describe(self):
        text = f"{self.type_name}: {self.message}" if self.message else self.type_name
        where = "".join(f"\n  in {path}, line {line}, in {func}" for path, line, func in self.frames)
        return text + where


class WorkerCrashed(StudentCodeError):
    """The worker ended or stopped answering during a request."""

    def __init__(self, reason):
        super().__init__("the student's code stopped the worker", reason)


_ERROR_TYPES = {}


def _error_type(type_name):
    """A StudentCodeError subclass that is also the built-in exception named ``type_name``."""
    base = getattr(builtins, type_name, None)
    if not (isinstance(base, type) and issubclass(base, Exception)) or base is StopIteration:
        return StudentCodeError
    if type_name not in _ERROR_TYPES:
        _ERROR_TYPES[type_name] = type(type_name, (StudentCodeError, base), {})
    return _ERROR_TYPES[type_name]


class Remote:
    """A proxy of an object in the worker: attributes and calls become requests."""

    __slots__ = ("_kit", "_ref", "_generation")

    def __init__(self, kit, ref, generation):
        object.__setattr__(self, "_kit", kit)
        object.__setattr__(self, "_ref", ref)
        object.__setattr__(self, "_generation", generation)

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return self._kit.request({"op": "getattr", "target": self._checked_ref(), "name": name})

    def __setattr__(self, name, value):
        self._kit.request({"op": "setattr", "target": self._checked_ref(), "name": name, "value": value})

    def __call__(self, *args, **kwargs):
        answer = self._kit.request({"op": "call", "target": self._checked_ref(), "args": list(args),
                                    "kwargs": kwargs})
        return _mirror_arguments(args, kwargs, answer)

    def __repr__(self):
        return f"<student {self._ref.type_name} (in the worker)>"

    def _checked_ref(self):
        if self._generation != self._kit.generation:
            raise WorkerCrashed("this object belonged to a worker that has been restarted after an earlier failure")
        return self._ref


def mirror(mine, after):
    """Copy in-place changes the worker made to an argument into the harness's original
    (arrays of the same shape, dicts and lists; other values are immutable anyway)."""
    if isinstance(mine, np.ndarray):
        if mine.flags.writeable and not np.array_equal(mine, after, equal_nan=mine.dtype.kind in "fc"):
            np.copyto(mine, after, casting="unsafe")
    elif isinstance(mine, dict):
        for key in [k for k in mine if k not in after]:
            del mine[key]
        for key, value in after.items():
            if _mirrors(mine.get(key), value):
                mirror(mine[key], value)
            else:
                mine[key] = value
    elif isinstance(mine, list):
        if len(mine) != len(after):
            mine[:] = after
        for i, value in enumerate(after[:len(mine)]):
            if _mirrors(mine[i], value):
                mirror(mine[i], value)
            else:
                mine[i] = value


def _mirrors(mine, after):
    """Can ``after`` be copied into ``mine`` in place?"""
    if isinstance(mine, np.ndarray):
        return isinstance(after, np.ndarray) and after.shape == mine.shape
    return isinstance(mine, (dict, list)) and type(after) is type(mine)


def _mirror_arguments(args, kwargs, answer):
    if not isinstance(answer, dict) or set(answer) != {"result", "args", "kwargs"}:
        raise WorkerCrashed("the worker's answer to a call is malformed")
    for mine, after in zip(args, answer["args"]):
        if _mirrors(mine, after):
            mirror(mine, after)
    for name, value in kwargs.items():
        if _mirrors(value, answer["kwargs"].get(name)):
            mirror(value, answer["kwargs"][name])
    return answer["result"]


class StudentKit:
    """A student's kit, reachable only through a contained worker process."""

    def __init__(self, sandbox, kit, worker, limits=containment.ContainmentLimits(), call_seconds=60.0,
                 job_slot=0, level=None, readonly=()):
        """sandbox: the job's folder (writable for student code), holding kit (the student's
        kit); worker: the folder where ``worker.server.install`` put the worker module."""
        self.sandbox, self.kit, self.worker = os.fspath(sandbox), os.fspath(kit), os.fspath(worker)
        self.limits, self.call_seconds, self.job_slot = limits, call_seconds, job_slot
        self.level, self.readonly = level, tuple(readonly)
        self.process, self.generation, self._buffer = None, 0, b""
        self.log_path = os.path.join(self.sandbox, "worker.log")
        self.crashes = []

    @classmethod
    def from_environment(cls):
        """The StudentKit described by ``environment()`` in the COURSE_KIT_WORKER variable."""
        try:
            spec = json.loads(os.environ[ENVIRONMENT])
        except (KeyError, ValueError):
            raise RuntimeError(f"{ENVIRONMENT} is not set: hidden tests run only inside the grader") from None
        return cls(spec["sandbox"], spec["kit"], spec["worker"], containment.ContainmentLimits(**spec["limits"]),
                   spec["call_seconds"], spec["slot"], spec["level"], spec["readonly"])

    def environment(self):
        """{COURSE_KIT_WORKER: spec} for a harness process that should use this kit."""
        spec = {"sandbox": self.sandbox, "kit": self.kit, "worker": self.worker,
                "limits": dataclasses.asdict(self.limits),
                "call_seconds": self.call_seconds, "slot": self.job_slot,
                "level": None if self.level is None else str(self.level), "readonly": list(self.readonly)}
        return {ENVIRONMENT: json.dumps(spec)}

    # -- the public part ---------------------------------------------------------------
    def module(self, name):
        """Proxy of ``course_utils.<name>`` as the student's kit has it."""
        return self.request({"op": "import", "module": name})

    def probe(self, base, kind):
        """A subclass of the student's class ``base`` (a proxy) with a stand-in method from
        the worker's PROBES (e.g. "quadratic_loss"); returns a proxy of the new class."""
        return self.request({"op": "probe", "base": base, "kind": kind})

    def close(self):
        if self.process is not None:
            try:
                self.process.stdin.close()
            except OSError:
                pass
            self.process.kill()
            self.process = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- requests ------------------------------------------------------------------------
    def request(self, message):
        if self.process is None or self.process.poll() is not None:
            self._start()
        try:
            text = wire.dumps(self._outgoing(message))
        except wire.WireError as exc:
            raise TypeError(f"hidden tests may pass only plain data or student objects: {exc}") from None
        try:
            self.process.stdin.write((text + "\n").encode("utf-8"))
            self.process.stdin.flush()
            answer = wire.loads(self._read_line())
        except (OSError, wire.WireError, _Timeout) as exc:
            raise self._crashed(exc) from None
        except BaseException:  # e.g. the test's own time limit: the worker is in an unknown state
            self.close()
            raise
        if not isinstance(answer, dict) or not ({"ok"} == set(answer) or {"error"} == set(answer)):
            raise self._crashed(wire.WireError("the worker's answer is not {ok: ...} or {error: ...}"))
        if "error" in answer:
            error = answer["error"] if isinstance(answer["error"], dict) else {}
            type_name = str(error.get("type", "Exception"))[:100]
            frames = [f for f in error.get("frames", []) if isinstance(f, list) and len(f) == 3]
            raise _error_type(type_name)(type_name, str(error.get("message", ""))[:2000], frames[:8])
        return self._incoming(answer["ok"])

    def _outgoing(self, value):
        if isinstance(value, Remote):
            return value._checked_ref()
        if isinstance(value, list):
            return [self._outgoing(v) for v in value]
        if isinstance(value, tuple):
            return tuple(self._outgoing(v) for v in value)
        if isinstance(value, dict):
            return {k: self._outgoing(v) for k, v in value.items()}
        return value

    def _incoming(self, value):
        if isinstance(value, wire.Ref):
            return Remote(self, value, self.generation)
        if isinstance(value, list):
            return [self._incoming(v) for v in value]
        if isinstance(value, tuple):
            return tuple(self._incoming(v) for v in value)
        if isinstance(value, dict):
            return {k: self._incoming(v) for k, v in value.items()}
        return value

    # -- the process -----------------------------------------------------------------------
    def _start(self):
        self.close()
        self.generation += 1
        self._buffer = b""
        log = open(self.log_path, "ab")
        try:
            self.process = containment.spawn(
                [sys.executable, "-m", WORKER_MODULE], sandbox=self.sandbox, cwd=self.kit,
                limits=self.limits, env={"PYTHONPATH": f"{self.kit}:{self.worker}"}, job_slot=self.job_slot,
                readonly=(self.worker, *self.readonly), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                level=self.level)
        finally:
            log.close()

    def _read_line(self):
        deadline = time.monotonic() + self.call_seconds
        out = self.process.stdout
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _Timeout(f"no answer within {self.call_seconds:g} s (endless loop?)")
            ready, _, _ = select.select([out], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(out.fileno(), 1 << 20)
            if not chunk:
                raise OSError("the worker ended")
            self._buffer += chunk
            if len(self._buffer) > wire.MAX_MESSAGE_BYTES:
                raise wire.WireError("the worker's answer is too large")
        line, self._buffer = self._buffer.split(b"\n", 1)
        return line.decode("utf-8", errors="replace")

    def _crashed(self, exc):
        process, self.process = self.process, None
        ended_by_itself = process is not None and not isinstance(exc, _Timeout) and _exited(process)
        reason = (process.reason() if ended_by_itself else None) or str(exc) or type(exc).__name__
        if process is not None:
            process.kill()
        self.crashes.append(reason)
        return WorkerCrashed(reason)


class _Timeout(Exception):
    pass


def _exited(process, patience=2.0):
    """Did the process end (waiting a moment for it to be reaped)?"""
    deadline = time.monotonic() + patience
    while process.poll() is None:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True
