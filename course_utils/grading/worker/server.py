"""The worker's request loop: one JSON line in, one JSON line out.

Requests (``wire`` values; ``target`` is a Ref from an earlier answer)::

    {"op": "import", "module": "classifiers.k_nearest_neighbor"}   -> Ref to course_utils.<module>
    {"op": "getattr", "target": ref, "name": "W"}                   -> value (or Ref)
    {"op": "setattr", "target": ref, "name": "W", "value": v}       -> None
    {"op": "call", "target": ref, "args": [...], "kwargs": {...}}   -> {"result", "args", "kwargs"}
    {"op": "release", "ids": [3, 4]}                                -> None
    {"op": "probe", "base": ref, "kind": "quadratic_loss"}          -> Ref to a subclass (see PROBES)

Answers are ``{"ok": value}`` or ``{"error": {"type", "message", "frames"}}`` where
frames are the student's kit frames of the traceback (file, line, function), never the
worker's own. Anything that is not plain data comes back as a Ref held in the table.
A call also sends back its arguments as they are after the call, so the harness can
mirror in-place changes (a ``bn_param``'s running statistics, or a forbidden change
to an input) into its own copies.
Student output on stdout is sent to stderr, so only answers use the channel.

The grader does not import this file from the student's kit (which has its own
``course_utils``): ``install(folder)`` copies it there as the stand-alone module
``course_kit_worker`` (and ``wire`` as ``course_kit_wire``); the folder is mounted
read-only in the sandbox and the worker runs as ``python -m course_kit_worker``.
"""
import importlib
import os
import shutil
import sys
import traceback
from pathlib import Path

import numpy as np

from course_utils.grading import wire

PACKAGE = "course_utils"
MODULE_NAME = "course_kit_worker"
_WIRE_IMPORT = "from course_utils.grading import wire"


class ObjectTable:
    """The worker's objects that the harness holds references to."""

    def __init__(self):
        self.objects, self.next_id = {}, 1

    def ref(self, obj):
        for ref_id, held in self.objects.items():
            if held is obj:
                return wire.Ref(ref_id, type(obj).__name__)
        ref_id, self.next_id = self.next_id, self.next_id + 1
        self.objects[ref_id] = obj
        return wire.Ref(ref_id, type(obj).__name__)

    def resolve(self, value):
        """Replace Refs inside a decoded request value by the objects they name."""
        if isinstance(value, wire.Ref):
            if value.id not in self.objects:
                raise LookupError(f"the worker holds no object {value.id} (it was restarted?)")
            return self.objects[value.id]
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if isinstance(value, tuple):
            return tuple(self.resolve(v) for v in value)
        if isinstance(value, dict):
            return {k: self.resolve(v) for k, v in value.items()}
        return value


def student_frames(tb, kit):
    """(file relative to the kit, line, function) of the traceback frames inside the kit."""
    frames = []
    for frame in traceback.extract_tb(tb):
        path = Path(frame.filename)
        try:
            rel = path.resolve().relative_to(kit)
        except (OSError, ValueError):
            continue
        frames.append([rel.as_posix(), frame.lineno, frame.name])
    return frames[-8:]


class QuadraticLoss:
    """Stand-in ``loss(X_batch, y_batch, reg)`` for a linear classifier's training loop:
    loss 0.5 * sum(W**2), gradient W, whatever the data. It records (W, X_batch,
    y_batch, reg) of every call in ``self.recorded``, so a check of ``train`` sees the
    minibatches and the steps without depending on how they were drawn, or on the
    student's own loss functions (other questions)."""

    def loss(self, X_batch, y_batch, reg):
        W = np.array(self.W, dtype=np.float64)
        self.__dict__.setdefault("recorded", []).append((W.copy(), np.array(X_batch), np.array(y_batch), reg))
        return 0.5 * float(np.sum(W * W)), W


PROBES = {"quadratic_loss": QuadraticLoss}


def handle(request, table):
    op = request.get("op")
    if op == "import":
        name = request.get("module")
        if not isinstance(name, str) or not all(part.isidentifier() for part in name.split(".")):
            raise ValueError(f"bad module name {name!r}")
        return importlib.import_module(f"{PACKAGE}.{name}")
    if op == "probe":
        base = table.resolve(request.get("base"))
        kind = PROBES.get(request.get("kind"))
        if not isinstance(base, type) or kind is None:
            raise ValueError(f"a probe needs a class and one of {sorted(PROBES)}")
        return type(f"{kind.__name__}{base.__name__}", (kind, base), {})
    if op == "release":
        for ref_id in request.get("ids", []):
            table.objects.pop(ref_id, None)
        return None
    target = table.resolve(request.get("target"))
    if op == "getattr":
        return getattr(target, str(request.get("name")))
    if op == "setattr":
        setattr(target, str(request.get("name")), table.resolve(request.get("value")))
        return None
    if op == "call":
        args = table.resolve(request.get("args") or [])
        kwargs = table.resolve(request.get("kwargs") or {})
        result = target(*args, **kwargs)
        return {"result": result, "args": args, "kwargs": kwargs}
    raise ValueError(f"unknown request {op!r}")


def serve(channel_in, channel_out, kit):
    """Answer requests until the harness closes the channel."""
    table = ObjectTable()
    for line in channel_in:
        try:
            request = wire.loads(line)
            answer = {"ok": handle(request, table)}
            text = wire.dumps(answer, make_ref=table.ref)
        except BaseException as exc:  # the student's exception (or exit) is an answer too
            error = {"type": type(exc).__name__, "message": _message(exc),
                     "frames": student_frames(exc.__traceback__, kit)}
            text = wire.dumps({"error": error})
        channel_out.write(text + "\n")
        channel_out.flush()


def _message(exc):
    try:
        return str(exc)[:2000]
    except Exception:  # a hostile __str__
        return f"(a {type(exc).__name__} whose message could not be read)"


def install(folder):
    """Copy the worker into ``folder`` as ``course_kit_worker`` / ``course_kit_wire``; return the folder."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    text = Path(__file__).read_text(encoding="utf-8")
    (folder / f"{MODULE_NAME}.py").write_text(text.replace(_WIRE_IMPORT, "import course_kit_wire as wire"),
                                             encoding="utf-8")
    shutil.copyfile(Path(wire.__file__), folder / "course_kit_wire.py")
    return folder


def main():
    kit = Path.cwd().resolve()  # the harness starts the worker in the kit, with it on PYTHONPATH
    channel_out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # student prints go to stderr, never into the channel
    sys.stdout = sys.stderr
    serve(sys.stdin, channel_out, kit)


if __name__ == "__main__":
    main()
