"""A pytest plugin that streams every test's outcome to a JSON-lines file.

The grader loads it with ``-p course_kit_stream`` (a copy under that name, so
it works whatever the sandbox's ``course_utils`` holds). Each line is written
and flushed as soon as it is known, so when student code kills the test
process (``os._exit``, a timeout, a memory limit) the outcomes so far survive
and the test that was running is known. The file is named by the
``COURSE_KIT_STREAM`` environment variable.

With ``COURSE_KIT_TEST_TIMEOUT`` set, a test function running longer than that
many seconds is stopped by an alarm (``TestTimeLimit``, a BaseException so a
student's ``except Exception`` cannot swallow it) and fails; code stuck where
the alarm cannot reach it is left to the step's wall-time limit.
It also provides the hidden tests' fixtures: ``student("layers")``, a proxy of the
student's module whose calls run in the contained worker (see
``course_utils.grading.harness.worker_client``; the worker is described by the
``COURSE_KIT_WORKER`` variable), and ``reference("layers")``, the instructor's module
(``course_utils_reference``), imported here in the harness.
"""
import importlib
import json
import os
import re
import signal

import pytest

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_NAMED_ERROR = re.compile(r"^[\w.]*(Error|Exception|Exit|Limit|Interrupt)\b")
_ERROR_LINE = re.compile(r"^E\s+([\w.]*(?:Error|Exception)\b.*)$")

_EVENTS = None


@pytest.fixture(scope="session")
def student_kit():
    from course_utils.grading.harness.worker_client import StudentKit

    kit = StudentKit.from_environment()
    yield kit
    kit.close()


@pytest.fixture
def student(student_kit):
    """student("classifiers.linear_svm") -> proxy of the student's module."""
    return student_kit.module


@pytest.fixture
def reference():
    """reference("classifiers.linear_svm") -> the instructor's module."""
    return lambda name: importlib.import_module(f"course_utils_reference.{name}")


def _write(record):
    global _EVENTS
    path = os.environ.get("COURSE_KIT_STREAM")
    if not path:
        return
    if _EVENTS is None:
        _EVENTS = open(path, "a", encoding="utf-8")
    _EVENTS.write(json.dumps(record) + "\n")
    _EVENTS.flush()


def _message(report, limit=3000):
    """(first line, detail) of a failed report. The detail (pytest's traceback, which shows
    the test's source) is kept only for collection errors, which only the grader sees."""
    exc = getattr(report, "_course_kit_exception", None)
    if exc is not None:
        return _describe(exc)[:limit], ""
    crash = getattr(getattr(report, "longrepr", None), "reprcrash", None)
    first = crash.message.strip().splitlines()[0] if crash is not None and crash.message.strip() else ""
    text = _ANSI.sub("", getattr(report, "longreprtext", "") or "")
    first = _ANSI.sub("", first)
    if not _NAMED_ERROR.match(first):  # e.g. 'File "x.py", line 3' of a SyntaxError
        named = [m.group(1) for m in map(_ERROR_LINE.match, text.splitlines()) if m]
        lines = [line for line in text.strip().splitlines() if line.strip()]
        first = named[-1] if named else first or (lines[-1].strip() if lines else "")
    return first[:500], text[-limit:]


def _describe(exc):
    """What a student may read about a failed check: the check's own message, or the
    exception their code raised (type, message and the frames in their own files)."""
    if any(cls.__name__ == "StudentCodeError" for cls in type(exc).__mro__):
        return str(exc)
    if isinstance(exc, AssertionError):
        return str(exc).strip() or "a check of the result failed"
    return f"{type(exc).__name__}: {exc}".strip()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    if call.excinfo is not None:
        outcome.get_result()._course_kit_exception = call.excinfo.value


def pytest_collection_finish(session):
    _write({"event": "collected", "items": [item.nodeid for item in session.items]})


def pytest_collectreport(report):
    if report.failed:
        first, text = _message(report)
        _write({"event": "collect_error", "nodeid": report.nodeid, "first": first, "text": text})


def pytest_runtest_logstart(nodeid, location):
    _write({"event": "start", "nodeid": nodeid})


def pytest_runtest_logreport(report):
    if report.when == "call" or report.outcome != "passed":
        first, text = _message(report) if report.outcome != "passed" else ("", "")
        _write({"event": "report", "nodeid": report.nodeid, "when": report.when,
                "outcome": report.outcome, "first": first, "text": text})


class TestTimeLimit(BaseException):
    """A test ran past COURSE_KIT_TEST_TIMEOUT."""


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    seconds = float(os.environ.get("COURSE_KIT_TEST_TIMEOUT") or 0)
    if seconds <= 0 or not isinstance(item, pytest.Function):
        yield
        return

    def stop(signum, frame):
        raise TestTimeLimit(f"stopped after {seconds:g} s (endless loop?)")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
