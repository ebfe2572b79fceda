"""Attacks on the containment of student code; each one must fail.

They run at the level this machine offers (as root with bubblewrap: "full"); checks that
need a namespace level run at every such level available here, checks that need a
per-job uid only at "full", and the last tests force the "rlimits" fallback.
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
import uuid

import pytest

from course_utils.grading.harness.containment import (
    ContainmentError, ContainmentLimits, IsolationLevel, detect_isolation, job_uid, level_problem,
    run_contained, spawn)

FULL, USER_NAMESPACE, RLIMITS = IsolationLevel
LEVEL = detect_isolation()
NAMESPACE_LEVELS = [level for level in (FULL, USER_NAMESPACE) if level_problem(level) is None]
needs_full = pytest.mark.skipif(LEVEL is not FULL, reason=f"needs the full level here: {level_problem(FULL)}")
namespace_levels = pytest.mark.parametrize(
    "level", NAMESPACE_LEVELS or [pytest.param(None, marks=pytest.mark.skip(
        reason=f"needs bubblewrap namespaces: {level_problem(USER_NAMESPACE)}"))], ids=str)
LIMITS = ContainmentLimits(wall_seconds=30, cpu_seconds=30, memory_mb=1024, file_mb=64,
                           processes=64, open_files=256, tmp_mb=64)
SLOT = 100 + os.getpid() % 800    # slots SLOT..SLOT+3; another run of these tests picks other uids


def run(argv, **options):
    return run_contained(argv, **{"job_slot": SLOT, "limits": LIMITS, **options})


def start(argv, **options):
    return spawn(argv, **{"job_slot": SLOT, "limits": LIMITS, **options})


def python(code, *args):
    return [sys.executable, "-c", textwrap.dedent(code), *map(str, args)]


def survivors(marker, uid=None):
    """Processes still carrying the attack's marker in their environment, or running as ``uid``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            environ = open(f"/proc/{entry}/environ", "rb").read()
            status = open(f"/proc/{entry}/status").read()
        except OSError:
            continue
        state = status.split("State:")[1].split()[0]
        uids = status.split("Uid:")[1].split("\n")[0].split()
        if state != "Z" and (f"ATTACK_MARKER={marker}".encode() in environ.split(b"\0")
                             or (uid is not None and str(uid) in uids)):
            found.append(int(entry))
    return found


@pytest.fixture
def job(tmp_path):
    """A sandbox, an outside folder next to it, and an instructor's secret that must stay unseen."""
    class Job:
        sandbox = tmp_path / "sandbox"
        outside = tmp_path / "outside"
        secret_token = uuid.uuid4().hex
        marker = uuid.uuid4().hex
        env = {"ATTACK_MARKER": marker}
    for folder in (Job.sandbox, Job.outside, tmp_path / "instructor"):
        folder.mkdir()
    Job.secret = tmp_path / "instructor" / f"solution_{Job.secret_token}.py"
    Job.secret.write_text(f"ANSWER = '{Job.secret_token}'\n")
    (tmp_path / f"expected_{Job.secret_token}.json").write_text(Job.secret_token)
    return Job


# --- levels -----------------------------------------------------------------------------

@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("bwrap"), reason="only as root with bwrap installed")
def test_root_with_bubblewrap_gets_the_full_level():
    assert detect_isolation() is FULL, level_problem(FULL)


def test_every_level_reports_itself_in_one_line():
    for level in IsolationLevel:
        assert str(level) == level.value and "\n" not in level.description and len(level.description) > 40
    assert IsolationLevel("rlimits") is RLIMITS and RLIMITS.strength < USER_NAMESPACE.strength < FULL.strength


def test_the_grader_python_stack_and_the_students_kit_import_inside(job):
    kit = job.sandbox / "course_utils"
    kit.mkdir()
    (kit / "__init__.py").write_text("FROM = 'sandbox'\n")
    result = run(python("""
        import os, sys, tempfile
        import numpy, scipy, scipy.linalg, pytest, ipykernel, matplotlib
        import matplotlib.pyplot as plt
        plt.plot([1, 2]); plt.savefig("plot.png")
        import course_utils
        for folder in (os.environ["HOME"], os.environ["MPLCONFIGDIR"]):
            os.makedirs(folder, exist_ok=True)
            tempfile.NamedTemporaryFile(dir=folder).close()      # both writable
        print(course_utils.FROM, course_utils.__file__, os.environ["HOME"], sys.flags.dont_write_bytecode,
              sys.flags.no_user_site)
    """), sandbox=job.sandbox, env={"PYTHONPATH": str(job.sandbox)})
    assert result.returncode == 0, result.stderr
    origin, path, home, no_bytecode, no_user_site = result.stdout.split()
    assert origin == "sandbox" and path.startswith(str(job.sandbox)) and no_bytecode == no_user_site == "1"
    assert result.level is LEVEL and (job.sandbox / "plot.png").exists()


# --- the process tree ends with the step ----------------------------------------------------

@namespace_levels
def test_a_double_forked_setsid_daemon_dies_with_the_step(job, level):
    late, busy = job.outside / "daemon_was_here", job.outside / "busy"
    result = run(python("""
        import os, sys, time
        late, busy = sys.argv[1:]
        for kind in ("late", "no-token", "busy"):
            if os.fork() == 0:
                os.setsid()
                if os.fork() == 0:
                    if kind == "no-token":   # a daemon that sheds the step's token too
                        os.execve("/bin/sh", ["sh", "-c", f"sleep 1.5; echo x > {late}.2"], {})
                    if kind == "busy":       # one that keeps writing, to catch any moment it outlives the step
                        with open(busy, "a") as out:
                            while True:
                                out.write("x"); out.flush()
                    time.sleep(1.5)
                    open(late, "w").write("survived")
                    os._exit(0)
                os._exit(0)
        time.sleep(0.3)
        print("parent leaves")
    """, late, busy), sandbox=job.sandbox, writable=[job.outside], env=job.env, level=level)
    assert result.returncode == 0 and "parent leaves" in result.stdout, result.stderr
    size = busy.stat().st_size
    assert survivors(job.marker, job_uid(SLOT) if level is FULL else None) == []
    time.sleep(2.0)
    assert sorted(p.name for p in job.outside.iterdir()) == ["busy"] and busy.stat().st_size == size > 0


@needs_full
def test_a_fork_bomb_is_held_by_the_process_limit_and_ends_with_the_step(job):
    limits = ContainmentLimits(wall_seconds=3, cpu_seconds=30, processes=32)
    start = time.monotonic()
    result = run(python("""
        import os, time
        forked = 0
        while True:
            try:
                if os.fork() == 0:
                    forked = -1          # children join the bomb
                    continue
                if forked >= 0:
                    forked += 1
            except OSError:
                if forked >= 0:
                    os.write(1, f"held at {forked}\\n".encode())
                    forked = -2
                time.sleep(0.02)
    """), sandbox=job.sandbox, limits=limits, env=job.env)
    assert time.monotonic() - start < 10
    held = int(result.stdout.split("held at ")[1].split()[0])
    assert 0 < held < 32 and result.timed_out and "wall-clock" in result.reason
    assert survivors(job.marker, job_uid(SLOT)) == []


def test_an_endless_loop_is_stopped_by_the_wall_limit(job):
    start = time.monotonic()
    result = run(python("while True: pass"), sandbox=job.sandbox,
                           limits=ContainmentLimits(wall_seconds=1.5, cpu_seconds=30), env=job.env)
    assert result.timed_out and result.returncode < 0 and "1.5 s" in result.reason
    assert time.monotonic() - start < 5 and survivors(job.marker) == []


def test_a_cpu_hog_is_stopped_by_the_cpu_limit(job):
    result = run(python("while True: pass"), sandbox=job.sandbox,
                           limits=ContainmentLimits(wall_seconds=20, cpu_seconds=1))
    assert not result.timed_out and result.returncode == -signal.SIGXCPU and "CPU" in result.reason


# --- resources ---------------------------------------------------------------------------

def test_a_memory_bomb_is_stopped(job):
    result = run(python("""
        import numpy as np
        try:
            np.ones(2**31)          # 16 GiB at once
            print("BIG ALLOCATION WORKED")
        except MemoryError:
            pass
        chunks = []
        try:
            while True:
                chunks.append(bytearray(32 * 2**20))
        except MemoryError:
            print("held at", 32 * len(chunks), "MB")
    """), sandbox=job.sandbox, limits=ContainmentLimits(wall_seconds=20, memory_mb=512))
    assert result.returncode == 0, result.stderr
    assert "WORKED" not in result.stdout and int(result.stdout.split()[2]) < 512


def test_a_file_size_bomb_is_stopped(job):
    targets = ["bomb.bin"] + (["/tmp/bomb.bin"] if LEVEL is not RLIMITS else [])   # /tmp: its own only
    result = run(python("""
        import errno, sys
        block = b"x" * 2**20
        for path in sys.argv[1:]:
            written = 0
            try:
                with open(path, "wb") as out:
                    while written < 2048:     # 2 GiB, in MiB
                        out.write(block); out.flush()
                        written += 1
            except OSError as error:
                print(path, written, errno.errorcode[error.errno])
    """, *targets), sandbox=job.sandbox, limits=ContainmentLimits(wall_seconds=30, file_mb=16, tmp_mb=64))
    lines = result.stdout.splitlines()
    assert result.returncode == 0 and len(lines) == len(targets), result.stderr
    assert all(int(line.split()[1]) <= 16 and line.endswith("EFBIG") for line in lines)
    assert (job.sandbox / "bomb.bin").stat().st_size <= 16 * 2**20


@namespace_levels
def test_the_private_tmp_is_size_limited(job, level):
    result = run(python("""
        import errno
        block, total = b"x" * 2**20, 0
        try:
            for n in range(100):
                with open(f"/tmp/part{n}", "wb") as out:
                    for _ in range(10):
                        out.write(block); out.flush(); total += 1
        except OSError as error:
            print(total, errno.errorcode[error.errno])
    """), sandbox=job.sandbox, limits=ContainmentLimits(wall_seconds=30, file_mb=64, tmp_mb=32), level=level)
    total, code = result.stdout.split()
    assert int(total) <= 32 and code == "ENOSPC"


def test_open_files_are_limited(job):
    result = run(python("""
        import errno
        files = []
        try:
            while True:
                files.append(open("/dev/null"))
        except OSError as error:
            print(len(files), errno.errorcode[error.errno])
    """), sandbox=job.sandbox, limits=ContainmentLimits(wall_seconds=20, open_files=64))
    opened, code = result.stdout.split()
    assert int(opened) < 64 and code == "EMFILE"


# --- the filesystem -----------------------------------------------------------------------

@namespace_levels
def test_writing_outside_the_sandbox_fails_and_changes_nothing(job, level):
    site_packages = [p for p in sys.path if p.endswith("site-packages")]
    blocked = [f"/work/attack-{job.marker}", f"/root/attack-{job.marker}",
               os.path.join(os.path.expanduser("~"), f"attack-{job.marker}"),
               *(os.path.join(p, f"attack-{job.marker}.pth") for p in site_packages),
               os.path.join(sys.base_prefix, f"attack-{job.marker}"), f"/etc/attack-{job.marker}",
               f"/attack-{job.marker}"]
    # under the host's /tmp: inside, these land in the job's private /tmp, never on the host
    host_tmp = [f"/tmp/attack-{job.marker}", str(job.outside / "attack"), str(job.secret)]
    before = {p: sorted(os.listdir(p)) for p in site_packages}
    result = run(python("""
        import os, sys
        for path in sys.argv[1:]:
            try:
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "w") as out:
                    out.write("import os; os.system('echo pwned')")
                print("WROTE", path)
            except OSError as error:
                print("blocked", path, error.strerror)
    """, *blocked, *host_tmp), sandbox=job.sandbox, level=level)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("blocked") >= len(blocked) and "WROTE /tmp/attack" in result.stdout
    assert not any(os.path.lexists(p) for p in blocked + host_tmp[:2])
    assert list(job.outside.iterdir()) == [] and job.secret.read_text().startswith("ANSWER")
    assert before == {p: sorted(os.listdir(p)) for p in site_packages}


@namespace_levels
def test_the_instructors_source_and_secrets_are_unreadable(job, level):
    result = run(python("""
        import os, sys
        for path in sys.argv[1:]:
            try:
                print("LEAKED", path, open(path).read()[:20])
            except OSError as error:
                print("blocked", path, error.strerror)
        print("visible:", os.path.exists("/work/main"), os.path.exists(os.path.dirname(sys.argv[1])))
    """, job.secret, job.sandbox.parent / f"expected_{job.secret_token}.json", "/work/main/README.md",
        "/etc/shadow", "/root/.bash_history"), sandbox=job.sandbox, level=level)
    assert result.returncode == 0, result.stderr
    assert "LEAKED" not in result.stdout and "ANSWER" not in result.stdout
    assert "visible: False False" in result.stdout


@namespace_levels
def test_searching_the_whole_filesystem_finds_no_secret(job, level):
    result = run(python("""
        import os, sys
        token, found, seen = sys.argv[1], [], 0
        for root, dirs, files in os.walk("/"):
            if root in ("/proc", "/sys"):
                dirs[:] = []
                continue
            seen += len(files)
            found += [os.path.join(root, n) for n in dirs + files if token in n]
            if not root.startswith(("/usr", sys.base_prefix, sys.prefix)):
                for name in files:
                    try:
                        path = os.path.join(root, name)
                        if os.path.isfile(path) and token in open(path, errors="replace").read(2**20):
                            found.append(os.path.join(root, name))
                    except OSError:
                        pass
        print(seen, found, sorted(os.listdir("/")))
    """, job.secret_token), sandbox=job.sandbox, level=level,
        limits=ContainmentLimits(wall_seconds=60, file_mb=64, tmp_mb=64))
    assert result.returncode == 0, result.stderr
    seen, rest = result.stdout.split(" ", 1)
    assert int(seen) > 1000 and rest.startswith("[] ")
    assert "'home'" not in rest and "'var'" not in rest  # only what Python needs is mounted


@needs_full
def test_concurrent_jobs_have_their_own_uid_tmp_and_sandbox(tmp_path):
    sandboxes = [tmp_path / "a", tmp_path / "b"]
    for sandbox in sandboxes:
        sandbox.mkdir()
    first = start(python("""
        import os, sys
        open("/tmp/first_was_here", "w").write("x")
        open("mine.txt", "w").write("private")
        print(os.getuid(), flush=True)
        sys.stdin.readline()
    """), sandbox=sandboxes[0], job_slot=SLOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        first_uid = int(first.stdout.readline())
        second = run(python("""
            import os, sys
            try:
                seen = open(sys.argv[1]).read()
            except OSError as error:
                seen = error.strerror.replace(" ", "_")
            print(os.getuid(), os.path.exists("/tmp/first_was_here"), seen)
        """, sandboxes[0] / "mine.txt"), sandbox=sandboxes[1], job_slot=SLOT + 1)
        second_uid, sees_tmp, seen = second.stdout.split()
        assert first_uid == job_uid(SLOT) != int(second_uid) == job_uid(SLOT + 1)
        assert sees_tmp == "False" and seen == "No_such_file_or_directory"
        mode = os.stat(sandboxes[0]).st_mode & 0o777
        assert os.stat(sandboxes[0]).st_uid == job_uid(SLOT) and mode & 0o007 == 0   # closed on the host too
    finally:
        first.stdin.write(b"\n")
        first.stdin.close()
        assert first.wait() == 0


# --- network -------------------------------------------------------------------------------

@namespace_levels
def test_the_network_is_loopback_only(job, level):
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    port, contacted = server.getsockname()[1], []

    def accept_all():
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline and not contacted:
            try:
                contacted.append(server.accept())
            except (socket.timeout, OSError):
                pass
    listener = threading.Thread(target=accept_all)
    listener.start()
    try:
        result = run(python("""
            import socket, sys
            attempts = {"host 127.0.0.1": ("127.0.0.1", int(sys.argv[1])), "outbound": ("1.1.1.1", 53),
                        "outbound 2": ("8.8.8.8", 443)}
            for name, address in attempts.items():
                try:
                    socket.create_connection(address, timeout=2).close()
                    print("CONNECTED", name)
                except OSError as error:
                    print("blocked", name)
            try:
                socket.getaddrinfo("pypi.org", 443)
                print("RESOLVED")
            except OSError:
                print("blocked dns")
            print([name for _, name in socket.if_nameindex()])
        """, port), sandbox=job.sandbox, level=level)
    finally:
        contacted.append(None)
        listener.join()
        server.close()
    assert result.returncode == 0, result.stderr
    assert "CONNECTED" not in result.stdout and "RESOLVED" not in result.stdout
    assert result.stdout.count("blocked") == 4 and "['lo']" in result.stdout
    assert contacted == [None]


# --- privileges ----------------------------------------------------------------------------

@namespace_levels
def test_it_runs_without_root_or_the_graders_uid_and_without_capabilities(job, level):
    result = run(python("""
        import os
        status = dict(line.split(":", 1) for line in open("/proc/self/status").read().splitlines())
        print(os.getuid(), os.geteuid(), os.getgid(), os.getgroups() == [], status["CapEff"].strip(),
              status["CapBnd"].strip(), status["NoNewPrivs"].strip(), os.getpid())
    """), sandbox=job.sandbox, job_slot=SLOT + 2, level=level)
    uid, euid, gid, no_groups, cap_eff, cap_bnd, no_new_privs, pid = result.stdout.split()
    assert int(cap_eff, 16) == 0 and int(cap_bnd, 16) == 0 and no_new_privs == "1" and int(pid) < 10
    if level is FULL:
        assert int(uid) == int(euid) == int(gid) == job_uid(SLOT + 2) and no_groups == "True"
        assert int(uid) not in (0, os.getuid())


# --- talking to a contained worker ------------------------------------------------------------

@namespace_levels
def test_stdin_and_stdout_round_trip(job, level):
    worker = start(python("""
        import sys
        for line in sys.stdin:
            print(line.strip().upper(), flush=True)
    """), sandbox=job.sandbox, stdin=subprocess.PIPE, stdout=subprocess.PIPE, level=level)
    with worker:
        for word in ("ping", "array", "done"):
            worker.stdin.write(f"{word}\n".encode())
            worker.stdin.flush()
            assert worker.stdout.readline() == f"{word.upper()}\n".encode()
        worker.stdin.close()
        assert worker.wait(timeout=10) == 0


@namespace_levels
def test_a_unix_socket_made_inside_a_writable_folder_is_reachable_from_outside(job, level):
    path = job.outside / "worker.sock"
    worker = start(python("""
        import socket, sys
        server = socket.socket(socket.AF_UNIX)
        server.bind(sys.argv[1]); server.listen(1)
        print("listening", flush=True)
        connection, _ = server.accept()
        connection.sendall(connection.recv(100)[::-1])
    """, path), sandbox=job.sandbox, writable=[job.outside], stdout=subprocess.PIPE, level=level)
    with worker:
        assert worker.stdout.readline() == b"listening\n"
        with socket.socket(socket.AF_UNIX) as client:
            client.settimeout(10)
            client.connect(str(path))
            client.sendall(b"hello")
            assert client.recv(100) == b"olleh"
        assert worker.wait(timeout=10) == 0


# --- how a run ended ------------------------------------------------------------------------

def test_exit_codes_and_signals_are_reported_in_words(job):
    cases = {"import sys; sys.exit(3)": (3, "exited with code 3"),
             "import os, signal; os.kill(os.getpid(), signal.SIGTERM)": (-signal.SIGTERM, "SIGTERM"),
             "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)": (-signal.SIGSEGV, "segmentation fault"),
             "print('fine')": (0, None)}
    for code, (returncode, words) in cases.items():
        result = run(python(code), sandbox=job.sandbox)
        assert result.returncode == returncode, (code, result)
        assert result.reason == words if words is None else words in result.reason
    worker = start(python("import time; time.sleep(60)"), sandbox=job.sandbox, env=job.env)
    worker.kill()
    assert worker.returncode == -signal.SIGKILL and worker.reason() == "ended by the grader"
    assert survivors(job.marker) == []


def test_requests_that_cannot_be_contained_get_clear_errors(job, tmp_path):
    with pytest.raises(ContainmentError, match="sandbox .* does not exist"):
        run(python("pass"), sandbox=tmp_path / "missing")
    with pytest.raises(ContainmentError, match="readonly path .* does not exist"):
        run(python("pass"), sandbox=job.sandbox, readonly=[tmp_path / "missing"])
    with pytest.raises(ContainmentError, match="replace the sandbox's own /tmp"):
        run(python("pass"), sandbox=job.sandbox, writable=["/tmp"])
    with pytest.raises(ContainmentError, match="argv is empty"):
        run([], sandbox=job.sandbox)
    with pytest.raises(ContainmentError, match="job slot must be in"):
        job_uid(-1)
    if LEVEL is not RLIMITS:
        with pytest.raises(ContainmentError, match="cwd .* is not inside"):
            run(python("pass"), sandbox=job.sandbox, cwd=tmp_path)
    busy = start(python("import time; time.sleep(30)"), sandbox=job.sandbox, job_slot=SLOT + 3)
    with busy:
        with pytest.raises(ContainmentError, match=f"slot {SLOT + 3} is already running"):
            start(python("pass"), sandbox=job.outside, job_slot=SLOT + 3)
        if LEVEL is FULL:   # the slot's uid is machine-wide: another grader process is refused too
            other = subprocess.run(python(f"""
                from course_utils.grading.harness.containment import spawn, ContainmentError
                try:
                    spawn(["true"], sandbox={str(job.outside)!r}, job_slot={SLOT + 3})
                except ContainmentError as error:
                    print(error)
            """), capture_output=True, text=True, timeout=60)
            assert "in use by another grader on this machine" in other.stdout, other.stderr
    if LEVEL is not FULL:
        with pytest.raises(ContainmentError, match="full is not available"):
            run(python("pass"), sandbox=job.sandbox, level="full")


# --- the rlimits fallback -----------------------------------------------------------------------

def test_the_rlimits_level_still_limits_and_ends_the_tree(job):
    late = job.outside / "daemon_was_here"
    daemon = run(python("""
        import os, sys, time
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                time.sleep(1.5)
                open(sys.argv[1], "w").write("survived")
            os._exit(0)
        time.sleep(0.3)
    """, late), sandbox=job.sandbox, env=job.env, level="rlimits")
    assert daemon.level is RLIMITS and daemon.returncode == 0 and survivors(job.marker) == []
    loop = run(python("while True: pass"), sandbox=job.sandbox, level="rlimits",
                         limits=ContainmentLimits(wall_seconds=1.5, cpu_seconds=30), env=job.env)
    cpu = run(python("while True: pass"), sandbox=job.sandbox, level="rlimits",
                        limits=ContainmentLimits(wall_seconds=20, cpu_seconds=1))
    bombs = run(python("""
        import errno
        try:
            bytearray(2**31); print("MEMORY BOMB WORKED")
        except MemoryError:
            print("memory held")
        try:
            with open("bomb.bin", "wb") as out:
                for _ in range(2048):
                    out.write(b"x" * 2**20); out.flush()
        except OSError as error:
            print("file held", errno.errorcode[error.errno])
    """), sandbox=job.sandbox, level="rlimits", limits=ContainmentLimits(memory_mb=512, file_mb=16))
    assert loop.timed_out and "wall-clock" in loop.reason and survivors(job.marker) == []
    assert cpu.returncode == -signal.SIGXCPU and "CPU" in cpu.reason
    assert bombs.stdout.split("\n")[:2] == ["memory held", "file held EFBIG"], bombs.stderr
    assert (job.sandbox / "bomb.bin").stat().st_size <= 16 * 2**20
    time.sleep(1.5)
    assert not late.exists()
    assert all(r.level is RLIMITS for r in (loop, cpu, bombs)) and "network" in RLIMITS.description


@pytest.mark.skipif(os.geteuid() == 0, reason="root is exempt from RLIMIT_NPROC at the rlimits level")
def test_the_rlimits_level_holds_a_fork_bomb(job):
    result = run(python("""
        import os, time
        forked = 0
        try:
            while True:
                if os.fork() == 0:
                    time.sleep(30); os._exit(0)
                forked += 1
        except OSError:
            print(forked)
    """), sandbox=job.sandbox, level="rlimits", env=job.env,
        limits=ContainmentLimits(wall_seconds=20, processes=16))
    assert 0 < int(result.stdout) <= 16 and survivors(job.marker) == []


def test_two_graders_reserve_different_slots():
    """Two batches on one machine never share a job slot (a uid at the full level)."""
    from course_utils.grading.harness.containment import reserve_slots

    level = detect_isolation()
    with reserve_slots(2, level) as first, reserve_slots(2, level) as second:
        if level is IsolationLevel.FULL:
            assert not set(first.slots) & set(second.slots)
        assert len(first.slots) == len(second.slots) == 2
