"""Hostile submissions: every way seen (and the generic forms) to take points without
solving anything, each graded in ONE batch (-j 2) with an honest submission.

Each hostile submission is the untouched release (both functions stubbed) plus an
attack that tries to obtain or forge the right answers. The honest submission must
keep full marks, each hostile one must score exactly what the stub scores (0) with a
readable reason, nothing outside the sandboxes may change and no process may survive.
CI runs this as root, so the full isolation level is what is attacked.
"""
import csv
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import nbformat
import pytest
from toy_kit import TOY_MODULE, make_toy_source, toy_notebook, toy_submission

from course_utils.grading.harness import containment
from course_utils.tools.release import write_release

TOKEN = uuid.uuid4().hex[:12]
HOST_MARKER = Path("/tmp") / f"course-kit-pwned-{TOKEN}"
HOME_CANARY = Path.home() / f".course-kit-canary-{TOKEN}"

# Each attack replaces the release's stubs with functions that try to cheat.
UNSOLVED = '''

def double(x):
    raise NotImplementedError("double is not implemented yet")


def square(x):
    raise NotImplementedError("square is not implemented yet")
'''

FIND_FILES = '''
import os, time


def _find(wanted, roots=("..", "../..", "../../..", "../../../..", "/tmp", "/work", "/root", "/home", "/srv", "/opt", "/")):
    """Paths of files whose name is in ``wanted`` or that lie under a folder named so, likely places first."""
    deadline, seen = time.monotonic() + 6, set()
    for root in roots:
        for folder, dirs, files in os.walk(root):
            dirs[:] = [d for d in dirs if d not in ("proc", "sys", "dev", "usr", "lib", "venv")]
            if time.monotonic() > deadline:
                return
            for name in files:
                path = os.path.realpath(os.path.join(folder, name))
                if path not in seen and (name in wanted or any(w in path for w in wanted if w.endswith("/"))):
                    seen.add(path)
                    yield path
'''

STEAL_FROM_FILES = FIND_FILES + '''

def _stolen(name, x):
    """Find a solved toy.py anywhere we can read and run its function."""
    for path in _find({"toy.py"}, ROOTS):
        try:
            text = open(path).read()
        except OSError:
            continue
        if "out = 2 * x" in text and "out = x * x" in text:
            space = {}
            exec(compile(text, path, "exec"), space)
            return space[name](x)
    raise NotImplementedError("nothing to steal")


def double(x):
    return _stolen("double", x)


def square(x):
    return _stolen("square", x)
'''

ATTACKS = {
    # the instructor's package, by import and by path
    "import_reference": FIND_FILES + '''

def _reference():
    import importlib, os, sys
    try:
        return importlib.import_module("course_utils_reference.toy")
    except ImportError:
        pass
    for path in _find({"course_utils_reference/"}):
        sys.path.insert(0, path.split("course_utils_reference/")[0])
        try:
            return importlib.import_module("course_utils_reference.toy")
        except ImportError:
            sys.path.pop(0)
    raise NotImplementedError("no reference found")


def double(x):
    return _reference().double(x)


def square(x):
    return _reference().square(x)
''',
    # searching the whole file system for solved modules and hidden tests
    "search_filesystem": STEAL_FROM_FILES.replace("ROOTS", '("..", "../..", "/tmp", "/work", "/root", "/")'),
    # a concurrent student's unpacked files (the honest one runs at the same time)
    "read_neighbour": STEAL_FROM_FILES.replace("ROOTS", '("/tmp",)'),
    # forging the grader's stream of test reports, then leaving
    "forge_stream": '''
import glob, json, os

for path in [os.environ.get("COURSE_KIT_STREAM", "")] + glob.glob("/tmp/**/stream*.jsonl", recursive=True) \\
        + glob.glob("../../**/stream*.jsonl", recursive=True):
    if path:
        try:
            with open(path, "a") as handle:
                for node in ("test_toy.py::test_double[0]", "test_toy.py::test_double[1]", "test_toy.py::test_square"):
                    handle.write(json.dumps({"event": "report", "nodeid": node, "when": "call",
                                             "outcome": "passed", "first": "", "text": ""}) + "\\n")
        except OSError:
            pass


def double(x):
    os._exit(0)


def square(x):
    os._exit(0)
''',
    # patching every grader, pytest and numpy comparison module that can be reached
    "patch_grader_modules": '''
import sys
import numpy as np
import numpy.testing

np.allclose = lambda *a, **k: True
np.array_equal = lambda *a, **k: True
numpy.testing.assert_allclose = lambda *a, **k: None
try:
    import _pytest.python
    _pytest.python.Function.runtest = lambda self: None
except Exception:
    pass
for name, module in list(sys.modules.items()):
    if any(word in name for word in ("course_kit", "grading", "pytest", "nbval", "wire")):
        for attr in dir(module):
            if attr in ("_write", "write", "_message", "dumps", "compare", "_describe", "rel_error"):
                try:
                    setattr(module, attr, lambda *a, **k: None)
                except Exception:
                    pass
try:
    import course_kit_worker
    original = course_kit_worker.handle
    course_kit_worker.handle = lambda request, table: 42 if request.get("op") == "call" else original(request, table)
except Exception:
    pass

''' + UNSOLVED,
    # replaying the reference notebooks' stored outputs through an IPython input transformer
    "replay_outputs": FIND_FILES + '''
import json


def _stored_outputs():
    found = {}
    for path in [p for p in _find({"toy.ipynb"})][:50]:
        try:
            nb = json.load(open(path))
        except Exception:
            continue
        for cell in nb.get("cells", []):
            if cell.get("outputs") and "NBVAL_CHECK_OUTPUT" in "".join(cell.get("source", "")):
                text = "".join("".join(o.get("text", "")) for o in cell["outputs"])
                found["".join(cell["source"])] = text
    return found


try:
    ip = get_ipython()  # noqa: F821 (only inside the kernel)
except NameError:
    ip = None
if ip is None:
    try:
        from IPython import get_ipython
        ip = get_ipython()
    except Exception:
        ip = None
if ip is not None:
    stored = _stored_outputs()

    def replay(lines):
        text = "".join(lines)
        if text in stored:
            return ["print(" + repr(stored[text].rstrip("\\n")) + ")\\n"]
        return lines

    ip.input_transformers_post.append(replay)

''' + UNSOLVED,
    # a double-forked setsid daemon that outlives its step and forges results
    "escaping_daemon": f'''
import glob, json, os, time

if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        time.sleep(2)
        for path in glob.glob("/tmp/**/results/*.json", recursive=True) + glob.glob("/**/grades.csv", recursive=True):
            try:
                open(path, "w").write(json.dumps({{"score": 10, "tests": []}}))
            except OSError:
                pass
        try:
            open("{HOST_MARKER}", "w").write("daemon survived")
        except OSError:
            pass
        time.sleep(3600)
    os._exit(0)

''' + UNSOLVED,
    # writing where later processes (other students, the next batch) would run it
    "write_site_packages": f'''
import os, site, sys

for folder in set(site.getsitepackages() + [site.getusersitepackages()] + [p for p in sys.path if "site-packages" in p]):
    for name, text in (("course_kit_pwned_{TOKEN}.pth", "import os\\n"), ("sitecustomize.py", "PWNED = 1\\n")):
        try:
            open(os.path.join(folder, name), "w").write(text)
        except OSError:
            pass

''' + UNSOLVED,
    # filling the disk outside the sandbox, deleting the grader's files, writing to $HOME and /tmp
    "damage_host": f'''
import glob, os

for target in ("/tmp/course-kit-hog-{TOKEN}", "../../../hog-{TOKEN}", "/work/hog-{TOKEN}"):
    try:
        with open(target, "wb") as handle:
            for _ in range(2048):
                handle.write(b"\\0" * 2**20)
    except (OSError, Exception):
        pass
for pattern in ("/root/.course-kit-canary-*", os.path.expanduser("~") + "/.course-kit-canary-*"):
    for path in glob.glob(pattern):
        try:
            os.remove(path)
        except OSError:
            pass
for target in ("{HOST_MARKER}", "/root/course-kit-pwned-{TOKEN}"):
    try:
        open(target, "w").write("written from student code")
    except OSError:
        pass

''' + UNSOLVED,
}


def released_stubs(release):
    return (release / "course_utils" / "toy.py").read_text()


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    base = tmp_path_factory.mktemp("hostile")
    source = make_toy_source(base / "src")
    release = base / "release"
    write_release(source, release)
    stubs = released_stubs(release)
    folder = base / "submissions"
    folder.mkdir()
    run_nb = toy_notebook()
    subs = {"honest": toy_submission(folder / "honest.zip", TOY_MODULE, run_nb)}
    for name, attack in ATTACKS.items():
        subs[name] = toy_submission(folder / f"{name}.zip", stubs + "\n" + attack, run_nb)
    faked = toy_notebook(executed=False)
    for number, cell in enumerate(c for c in faked.cells if c.cell_type == "code"):
        cell.execution_count = number + 1  # looks run, never was
    subs["fake_execution_counts"] = toy_submission(folder / "fake_execution_counts.zip", stubs, faked)

    HOME_CANARY.write_text("the grader's own file")
    site_before = site_listing()
    source_before = tree_digest(source)
    out = base / "out"
    proc = subprocess.run([sys.executable, "-m", "course_utils", "grade", *map(str, subs.values()),
                           "--out", str(out), "--source", str(source), "-j", "2", "--timeout", "60",
                           "--test-timeout", "8", "--memory", "1500", "--quiet", "--keep"],
                          capture_output=True, text=True, timeout=900)
    time.sleep(4)  # give any escaped daemon the time to act
    results = {p.stem: json.loads(p.read_text()) for p in (out / "results").glob("*.json")}
    yield {"proc": proc, "results": results, "subs": subs, "out": out, "source": source,
           "site_before": site_before, "source_before": source_before}
    HOME_CANARY.unlink(missing_ok=True)


def site_listing():
    import site

    folders = set(site.getsitepackages()) | {p for p in sys.path if p.endswith("site-packages")}
    return {folder: sorted(os.listdir(folder)) for folder in folders if os.path.isdir(folder)}


def tree_digest(folder):
    import hashlib

    digest = hashlib.sha256()
    for path in sorted(Path(folder).rglob("*")):
        if path.is_file():
            digest.update(str(path).encode() + path.read_bytes())
    return digest.hexdigest()


def test_runs_at_the_full_level_here():
    if os.geteuid() != 0:
        pytest.skip("the full isolation level needs root (CI and Gradescope have it)")
    assert containment.detect_isolation() is containment.IsolationLevel.FULL


def test_batch_finished(batch):
    assert batch["proc"].returncode == 0, batch["proc"].stderr[-3000:]
    assert set(batch["results"]) == set(batch["subs"])


def test_honest_submission_keeps_full_marks(batch):
    assert batch["results"]["honest"]["score"] == 10


@pytest.mark.parametrize("attack", sorted(ATTACKS) + ["fake_execution_counts"])
def test_attack_scores_what_the_stub_scores(batch, attack):
    result = batch["results"][attack]
    assert result["score"] == 0, "\n".join(t["output"] for t in result["tests"])
    failures = [t["output"] for t in result["tests"] if t["status"] == "failed" and "written" not in t.get("tags", [])]
    assert failures and all("FAIL" in text for text in failures)  # a reason for every lost question


def test_grades_csv_matches_the_harness(batch):
    with open(batch["out"] / "grades.csv", newline="") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    assert set(rows) == set(batch["subs"])  # no forged extra student
    assert rows["honest"]["total"] == "10"
    assert all(rows[name]["total"] == "0" for name in batch["subs"] if name != "honest")


def test_nothing_outside_the_sandboxes_changed(batch):
    assert not HOST_MARKER.exists()
    assert HOME_CANARY.exists()
    assert not Path(f"/root/course-kit-pwned-{TOKEN}").exists()
    assert not Path(f"/tmp/course-kit-hog-{TOKEN}").exists() and not Path(f"/work/hog-{TOKEN}").exists()
    assert site_listing() == batch["site_before"]
    assert tree_digest(batch["source"]) == batch["source_before"]


def test_no_process_survives(batch):
    """No process of this batch is left: none running as a job uid from inside its job folders
    (kept in <out>/.work for this check), none carrying the attacks' token."""
    work = str(batch["out"] / ".work")
    left = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            uid = int((entry / "status").read_text().split("Uid:")[1].split()[0])
            cmdline = (entry / "cmdline").read_bytes()
            cwd = os.readlink(entry / "cwd")
        except (OSError, IndexError, ValueError):
            continue
        job_uid = containment.JOB_UID_BASE <= uid < containment.JOB_UID_BASE + containment.MAX_SLOTS
        if (job_uid and (cwd.startswith(work) or work.encode() in cmdline)) or TOKEN.encode() in cmdline:
            left.append((entry.name, uid, cwd, cmdline[:80]))
    assert not left


def test_rerun_regrades_a_tampered_result(batch):
    target = batch["out"] / "results" / "replay_outputs.json"
    forged = json.loads(target.read_text())
    forged["score"] = 10
    target.write_text(json.dumps(forged))
    proc = subprocess.run([sys.executable, "-m", "course_utils", "grade", str(batch["subs"]["replay_outputs"]),
                           str(batch["subs"]["honest"]), "--out", str(batch["out"]), "--source",
                           str(batch["source"]), "--timeout", "60", "--test-timeout", "8", "--quiet"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "graded 1, skipped 1" in proc.stdout  # the honest one is unchanged, the forged one regraded
    assert json.loads(target.read_text())["score"] == 0


def test_feedback_and_results_leak_nothing(batch):
    hidden_source = (batch["source"] / "grading" / "assignment1" / "hidden" / "test_toy.py").read_text()
    for name in batch["subs"]:
        texts = [(batch["out"] / "feedback" / f"{name}.md").read_text(),
                 (batch["out"] / "results" / f"{name}.json").read_text()]
        for text in texts:
            assert "random.Random(seed)" not in text and "reference(" not in text
            assert str(batch["source"]) not in text and str(batch["out"] / ".work") not in text
            assert "Traceback" not in text
        assert hidden_source not in texts[0]


def test_the_attacks_are_live_without_containment(tmp_path):
    """The same attack that scores 0 above takes full marks at the weakest level, which is why
    every record names its level and --require-isolation exists."""
    from course_utils.grading.harness.batch import grade_batch
    from course_utils.grading.manifest import load_manifest

    source = make_toy_source(tmp_path / "src")
    write_release(source, tmp_path / "release")
    stubs = released_stubs(tmp_path / "release")
    attack = toy_submission(tmp_path / "import_reference.zip", stubs + "\n" + ATTACKS["import_reference"],
                            toy_notebook())
    manifest = load_manifest(source / "grading" / "assignment1" / "manifest.toml")
    limits = containment.ContainmentLimits(wall_seconds=60, cpu_seconds=60, memory_mb=1500, test_seconds=8)
    records = grade_batch([attack], tmp_path / "out", source, "assignment1", manifest, limits=limits,
                          progress=False, level="rlimits")
    record = records["import_reference"]
    assert record["isolation"]["level"] == "rlimits"
    assert record["score"] == 10
