"""A pytest plugin that streams every test's outcome to a JSON-lines file.

The grader loads it with ``-p course_kit_stream`` (a copy under that name, so
it works whatever the sandbox's ``course_utils`` holds). Each line is written
and flushed as soon as it is known, so when student code kills the test
process (``os._exit``, a timeout, a memory limit) the outcomes so far survive
and the test that was running is known. The file is named by the
``COURSE_KIT_STREAM`` environment variable. Self-contained: standard library only.
"""
import json
import os
import re

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")

_EVENTS = None


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
    crash = getattr(getattr(report, "longrepr", None), "reprcrash", None)
    first = crash.message.strip().splitlines()[0] if crash is not None and crash.message.strip() else ""
    text = _ANSI.sub("", getattr(report, "longreprtext", "") or "")
    first = _ANSI.sub("", first)
    if not first:
        lines = [line for line in text.strip().splitlines() if line.strip()]
        first = lines[-1].strip() if lines else ""
    return first[:500], text[-limit:]


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
