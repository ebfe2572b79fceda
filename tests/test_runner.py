import os
import sys
import time

from course_utils.grading.harness.runner import StepLimits, kill_token_processes, run_step


def test_normal_exit_and_output(tmp_path):
    result = run_step([sys.executable, "-c", "print('hi'); import sys; sys.exit(3)"], tmp_path)
    assert result.returncode == 3 and result.stdout.strip() == "hi" and result.reason is None


def test_wall_timeout_kills_the_whole_group(tmp_path):
    marker = tmp_path / "child.pid"
    code = ("import subprocess, sys, time\n"
            f"p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
            f"open({str(marker)!r}, 'w').write(str(p.pid))\n"
            "time.sleep(60)\n")
    start = time.monotonic()
    result = run_step([sys.executable, "-c", code], tmp_path, StepLimits(wall_seconds=3))
    assert time.monotonic() - start < 20
    assert result.timed_out and "timed out after 3 s" in result.reason
    child = int(marker.read_text())
    time.sleep(0.2)
    assert not os.path.exists(f"/proc/{child}") or "Z" in open(f"/proc/{child}/stat").read().split()[2]


def test_new_session_children_are_found_by_token(tmp_path):
    # like a Jupyter kernel: a child in its own session survives a group kill, not the token sweep
    marker = tmp_path / "child.pid"
    code = ("import subprocess, sys\n"
            "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'], start_new_session=True)\n"
            f"open({str(marker)!r}, 'w').write(str(p.pid))\n")
    result = run_step([sys.executable, "-c", code], tmp_path, StepLimits(wall_seconds=20))
    assert result.returncode == 0
    child = int(marker.read_text())
    time.sleep(0.2)
    assert not os.path.exists(f"/proc/{child}") or "Z" in open(f"/proc/{child}/stat").read().split()[2]
    assert kill_token_processes("no-such-token") == []


def test_memory_and_cpu_limits(tmp_path):
    hog = run_step([sys.executable, "-c", "x = bytearray(900 * 2**20)"], tmp_path, StepLimits(memory_mb=400))
    assert hog.returncode == 1 and "MemoryError" in hog.stderr
    spin = run_step([sys.executable, "-c", "while True: pass"], tmp_path, StepLimits(wall_seconds=30, cpu_seconds=1))
    assert not spin.timed_out and spin.returncode < 0 and "CPU time" in spin.reason
