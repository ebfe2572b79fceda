"""Run pytest on student code in limited processes and read back each test's outcome.

One process runs the tests; ``pytest_stream`` records every outcome as it
happens. When the process dies in the middle (endless loop killed, memory
limit, ``os._exit``), the test that was running fails with the reason and a
new process resumes with the tests not yet run, so one hostile function costs
only the tests that call it.
"""
import json
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from course_utils.grading.harness.runner import StepLimits, run_step

PLUGIN_NAME = "course_kit_stream"
PLUGIN_ENV = {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}


@dataclass
class Outcome:
    passed: bool
    message: str = ""   # one line: the first error
    detail: str = ""    # longer text (traceback tail, output diff)


def install_plugin(folder):
    """Copy the streaming plugin into ``folder`` as an importable module; return the folder."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(Path(__file__).with_name("pytest_stream.py"), folder / f"{PLUGIN_NAME}.py")
    return folder


def pytest_command(ini, targets, extra=(), rootdir=None):
    """argv of a pytest run that ignores the kit's own configuration (node ids relative to rootdir).

    Run it with ``PLUGIN_ENV`` in the environment: installed plugins are not
    auto-loaded (several take seconds to import); add ``-p name`` for one you need.
    """
    return [sys.executable, "-m", "pytest", "-c", str(ini), "--rootdir", str(rootdir or Path(ini).parent),
            "-p", PLUGIN_NAME, "-p", "no:cacheprovider", "-q", "--no-header", "-o", "addopts=",
            *extra, *[str(t) for t in targets]]


def read_stream(path):
    """Parse a stream file -> (collected ids, {nodeid: Outcome}, started ids, collect errors)."""
    collected, outcomes, started, errors = [], {}, [], []
    if not Path(path).exists():
        return collected, outcomes, started, errors
    for line in Path(path).read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line cut by a kill
        kind = event.get("event")
        if kind == "collected":
            collected = list(event.get("items", []))
        elif kind == "start":
            started.append(event["nodeid"])
        elif kind == "collect_error":
            errors.append(event)
        elif kind == "report":
            nodeid, outcome = event["nodeid"], event["outcome"]
            previous = outcomes.get(nodeid)
            if outcome == "passed":
                if previous is None:
                    outcomes[nodeid] = Outcome(True)
            else:
                word = "skipped" if outcome == "skipped" else f"failed ({event['when']})"
                if previous is None or previous.passed:
                    outcomes[nodeid] = Outcome(False, event.get("first") or word, event.get("text", ""))
    return collected, outcomes, started, errors


def run_tests(targets, ini, cwd, env, limits=StepLimits(), expected=(), extra=(), max_rounds=6, stream=None,
              rootdir=None):
    """Run pytest on ``targets``; return ({nodeid: Outcome}, notes).

    ``expected``: node ids that must get an outcome (a test that never ran,
    e.g. because its file failed to import, fails with the reason). ``stream``:
    path of the JSON-lines file (default: next to ``ini``).
    """
    stream = Path(stream or Path(ini).with_name("stream.jsonl"))
    outcomes, notes, done = {}, [], []
    collect_errors = []
    for _ in range(max_rounds):
        stream.unlink(missing_ok=True)
        deselect = [arg for nodeid in done for arg in ("--deselect", nodeid)]
        result = run_step(pytest_command(ini, targets, [*extra, *deselect], rootdir), cwd, limits,
                          {**PLUGIN_ENV, **env, "COURSE_KIT_STREAM": str(stream),
                           "COURSE_KIT_TEST_TIMEOUT": str(limits.test_seconds)})
        collected, round_outcomes, started, errors = read_stream(stream)
        collect_errors.extend(errors)
        outcomes.update(round_outcomes)
        unfinished = [n for n in started if n not in round_outcomes]
        if not unfinished:
            if result.reason or result.returncode not in (0, 1, 5):
                notes.append(_process_note(result, "outside any test"))
            break
        culprit = unfinished[-1]
        why = result.reason or f"the test process exited with code {result.returncode} during this test " \
                               "(os._exit or sys.exit in the code under test?)"
        outcomes[culprit] = Outcome(False, why, result.stderr[-2000:])
        notes.append(f"{culprit}: {why}")
        done = list(outcomes)
        remaining = [n for n in (collected or expected) if n not in outcomes]
        if not remaining:
            break
    for nodeid in expected:
        if nodeid not in outcomes:
            outcomes[nodeid] = Outcome(False, _missing_reason(nodeid, collect_errors, notes))
    return outcomes, notes


def _process_note(result, when):
    tail = (result.stderr.strip() or result.stdout.strip()).splitlines()[-1:] or [""]
    return f"test process ended abnormally {when}: {result.reason or 'exit code %d' % result.returncode} {tail[0]}".strip()


def _missing_reason(nodeid, collect_errors, notes):
    test_file = nodeid.split("::", 1)[0]
    for error in collect_errors:
        if error["nodeid"] in (test_file, "") or test_file.startswith(error["nodeid"]):
            return f"could not load the tests: {error['first']}"
    if collect_errors:
        return f"could not load the tests: {collect_errors[0]['first']}"
    return f"not run ({notes[-1]})" if notes else "not run"
