"""The Gradescope bundle, run locally the way Gradescope runs it (paths from environment variables)."""
import json
import os
import subprocess
import sys
import zipfile

import pytest
from toy_kit import check_results_schema, make_toy_source, toy_submission

from course_utils.grading.harness.autograder import find_submission


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    base = tmp_path_factory.mktemp("gradescope")
    source = make_toy_source(base / "src")
    out = base / "autograder.zip"
    proc = subprocess.run([sys.executable, "-m", "course_utils", "gradescope", "assignment1", str(out),
                           "--source", str(source)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    unpacked = base / "autograder" / "source"
    with zipfile.ZipFile(out) as archive:
        archive.extractall(unpacked)
        names = archive.namelist()
    for name in ("setup.sh", "run_autograder"):
        os.chmod(unpacked / name, 0o755)
    return {"base": base, "source": source, "zip": out, "unpacked": unpacked, "names": names}


def run_autograder(bundle, submission_dir, source=None):
    results = submission_dir.parent / "results" / "results.json"
    env = {**os.environ, "COURSE_KIT_SOURCE": str(source or bundle["unpacked"] / "kit"),
           "COURSE_KIT_SUBMISSION": str(submission_dir), "COURSE_KIT_RESULTS": str(results),
           "COURSE_KIT_TIMEOUT": "60"}
    proc = subprocess.run(["bash", str(bundle["unpacked"] / "run_autograder")], env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0
    data = json.loads(results.read_text())
    check_results_schema(data)
    return data


def test_bundle_layout(bundle):
    names = bundle["names"]
    assert names[:2] == ["setup.sh", "run_autograder"]
    assert "kit/grading/assignment1/hidden/test_toy.py" in names
    assert "kit/grading/assignment1/manifest.toml" in names
    assert "kit/assignments/assignment1/toy.ipynb" in names  # the reference, outputs stored
    assert not any(n.startswith("kit/tests/") or n.startswith("kit/.ci") for n in names)
    with zipfile.ZipFile(bundle["zip"]) as archive:
        mode = archive.getinfo("run_autograder").external_attr >> 16
    assert mode & 0o111


def test_grades_an_uploaded_zip(bundle, tmp_path):
    folder = tmp_path / "submission"
    folder.mkdir()
    toy_submission(folder / "assignment1_submission.zip")
    data = run_autograder(bundle, folder)
    assert data["score"] == 10 and len(data["tests"]) == 3  # 2 questions, 1 written answer
    assert data["extra_data"]["course_kit"]["isolation"]["level"] == "full"  # root: student code drops its uid


def test_always_writes_results(bundle, tmp_path):
    folder = tmp_path / "submission"
    folder.mkdir()
    (folder / "upload.zip").write_bytes(b"not a zip at all")
    data = run_autograder(bundle, folder)
    assert data["score"] == 0 and "not a readable zip" in data["output"]
    (tmp_path / "empty-kit").mkdir()
    broken = run_autograder(bundle, folder, source=tmp_path / "empty-kit")  # the grader itself fails
    assert broken["score"] == 0 and broken["tests"] == [] and "could not grade" in broken["output"]
    assert "manifest" in broken["output"]
    gone = run_autograder(bundle, folder, source=tmp_path / "no-such-kit")  # Python never even starts
    assert gone["score"] == 0 and "crashed before grading" in gone["output"]


def test_find_submission_prefers_unpacked_files(tmp_path):
    (tmp_path / "a.zip").write_bytes(b"x")
    assert find_submission(tmp_path, ["assignments/assignment1/toy.ipynb"]) == tmp_path / "a.zip"
    (tmp_path / "toy.ipynb").write_text("{}")
    assert find_submission(tmp_path, ["assignments/assignment1/toy.ipynb"]) == tmp_path


def test_bundle_never_overwrites_or_creates_folders_unasked(bundle, tmp_path):
    def gradescope(out, *extra):
        return subprocess.run([sys.executable, "-m", "course_utils", "gradescope", "assignment1", str(out),
                               "--source", str(bundle["source"]), *extra], capture_output=True, text=True)

    existing = tmp_path / "autograder.zip"
    existing.write_bytes(b"an older bundle")
    proc = gradescope(existing)
    assert proc.returncode == 2 and "already exists: add --force" in proc.stderr
    assert existing.read_bytes() == b"an older bundle"
    assert gradescope(existing, "--force").returncode == 0 and zipfile.is_zipfile(existing)
    proc = gradescope(tmp_path)
    assert proc.returncode == 2 and "is a folder: give the path of the file" in proc.stderr
    proc = gradescope(tmp_path / "new" / "autograder.zip")
    assert proc.returncode == 2 and "does not exist: create it first" in proc.stderr
    assert not (tmp_path / "new").exists()
    assert "Traceback" not in proc.stderr


def test_setup_trains_the_pretrained_networks_the_manifest_names(bundle):
    from toy_kit import REPO

    from course_utils.tools.gradescope import SETUP_SH, setup_script

    assert setup_script(bundle["source"], "assignment1") == SETUP_SH   # no pretrained networks
    with zipfile.ZipFile(bundle["zip"]) as archive:
        assert archive.read("setup.sh").decode() == SETUP_SH
    script = setup_script(REPO, "assignment3")
    assert script.startswith(SETUP_SH)
    assert script.rstrip().endswith("course-kit pretrain --quiet all_classes classes_0_4")
