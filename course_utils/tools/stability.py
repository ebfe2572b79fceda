"""``course-kit stability``: do the notebooks give the same graded results on any machine?

Floating-point results depend on the CPU's BLAS kernel and on the number of BLAS
threads. A well-posed computation changes only in its last digits; a chaotic
training run (a learning rate at the edge of stability) can end somewhere else
entirely. This command re-executes notebooks (copies, in a build folder) with

- a BLAS thread count (``--threads``, default 1, where CI's test run uses all cores),
- every model's initial weights perturbed (``--perturb``, default 1e-12 relative,
  at least one unit in the last place of the weights' dtype, so float32 weights
  move too): a CPU-independent stand-in for another machine's rounding,
- optionally every integer seed shifted (``--seed-offset``), to see that asserted
  training outcomes hold for other seeds, not just the committed one,

and fails when a cell raises (a failed assert) or, without a seed offset, when a
cell marked ``# NBVAL_CHECK_OUTPUT`` prints anything other than its stored output.
The headline numbers each notebook reports are tabulated for comparison.

The perturbation and seed offset are installed in the kernel by an IPython startup
file, so neither the notebooks nor the library carry test hooks.
"""
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

PERTURB_ENV = "COURSE_KIT_PERTURB"
SEED_OFFSET_ENV = "COURSE_KIT_SEED_OFFSET"
CHECK_MARKER = "# NBVAL_CHECK_OUTPUT"

# (module, class, attribute holding the weights, the method whose first call perturbs them):
# every trainable model of the kit.
MODELS = (
    ("course_utils.classifiers.linear_classifier", "LinearSVM", "W", "loss"),
    ("course_utils.classifiers.linear_classifier", "Softmax", "W", "loss"),
    ("course_utils.classifiers.fc_net", "TwoLayerNet", "params", "loss"),
    ("course_utils.classifiers.fc_net", "FullyConnectedNet", "params", "loss"),
    ("course_utils.classifiers.cnn", "ThreeLayerConvNet", "params", "loss"),
    ("course_utils.classifiers.rnn", "CaptioningRNN", "params", "loss"),
    ("course_utils.char_rnn", "CharRNN", "params", "loss"),
    # every use of the deeper net (scores, activations, input gradients) runs its forward pass
    ("course_utils.classifiers.deep_conv_net", "DeepConvNet", "params", "_forward"),
)

STARTUP = "from course_utils.tools.stability import install_in_kernel\ninstall_in_kernel()\n"


def configure(parser):
    parser.add_argument("assignments", nargs="*", metavar="ASSIGNMENT",
                        help="assignment folders to check (default: all)")
    parser.add_argument("--root", default=".", help="kit folder holding assignments/ (default: .)")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="check only these notebooks (stem names)")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads (default: 1)")
    parser.add_argument("--perturb", type=float, default=1e-12,
                        help="relative perturbation of initial weights (default: 1e-12; 0 turns it off)")
    parser.add_argument("--seed-offset", type=int, default=0,
                        help="add this to every integer seed; graded outputs then legitimately change, "
                             "so only errors and failed asserts count (default: 0)")
    parser.add_argument("--out", default=None, help="keep the executed copies here (default: a temporary folder)")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds allowed per cell (default: 1800)")


def main(args):
    root = Path(args.root).resolve()
    folders = sorted((root / "assignments").glob("assignment*"))
    if args.assignments:
        named = {p.name: p for p in folders}
        unknown = [a for a in args.assignments if a not in named]
        if unknown:
            print(f"course-kit stability: no assignment(s) {unknown} in {root / 'assignments'}; "
                  f"present: {sorted(named)}", file=sys.stderr)
            return 2
        folders = [named[a] for a in args.assignments]
    notebooks = [nb for folder in folders for nb in sorted(folder.glob("*.ipynb"))]
    if args.only:
        unknown = set(args.only) - {nb.stem for nb in notebooks}
        if unknown:
            print(f"course-kit stability: no notebook(s) {sorted(unknown)}", file=sys.stderr)
            return 2
        notebooks = [nb for nb in notebooks if nb.stem in set(args.only)]
    if not notebooks:
        print(f"course-kit stability: no notebooks under {root / 'assignments'}", file=sys.stderr)
        return 2
    if args.threads < 1 or args.perturb < 0:
        print("course-kit stability: --threads must be >= 1 and --perturb >= 0", file=sys.stderr)
        return 2

    work = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="course-kit-stability-"))
    print(f"stability: {len(notebooks)} notebook(s), {args.threads} BLAS thread(s), "
          f"initial weights perturbed by {args.perturb:g}, seed offset {args.seed_offset}")
    rows, failures = [], []
    try:
        with kernel_settings(work / ".ipython", args.threads, args.perturb, args.seed_offset):
            for notebook in notebooks:
                copy = work / notebook.parent.name / notebook.name
                copy.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(notebook, copy)
                start = time.perf_counter()
                problems, record = check_notebook(notebook, copy, args.timeout,
                                                  compare=args.seed_offset == 0)
                rows.append((notebook.stem, record, time.perf_counter() - start, problems))
                failures += [f"{notebook.parent.name}/{notebook.name}: {p}" for p in problems]
    finally:
        if not args.out:
            shutil.rmtree(work, ignore_errors=True)
    print(format_rows(rows))
    if failures:
        print("\nstability check FAILED:\n" + "\n".join(f"- {f}" for f in failures))
        return 1
    print("\nstability check passed: every cell ran"
          + (" and every graded output matched the stored one." if args.seed_offset == 0 else "."))
    return 0


class kernel_settings:
    """Context manager: the environment every kernel started inside it inherits."""

    def __init__(self, ipython_dir, threads, perturb, seed_offset):
        self.values = {
            "IPYTHONDIR": str(ipython_dir),
            "OPENBLAS_NUM_THREADS": str(threads), "OMP_NUM_THREADS": str(threads),
            "MKL_NUM_THREADS": str(threads),
            PERTURB_ENV: repr(perturb), SEED_OFFSET_ENV: str(seed_offset),
        }
        startup = Path(ipython_dir) / "profile_default" / "startup"
        startup.mkdir(parents=True, exist_ok=True)
        (startup / "00-course-kit-stability.py").write_text(STARTUP, encoding="utf-8")

    def __enter__(self):
        self.saved = {key: os.environ.get(key) for key in self.values}
        os.environ.update(self.values)
        return self

    def __exit__(self, *exc):
        for key, value in self.saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def check_notebook(original, copy, timeout, compare=True):
    """Execute ``copy``; return (problems, results record). Compares graded cells with ``original``."""
    import nbformat

    from course_utils.tools.run import execute_notebook

    record, error = execute_notebook(copy, timeout=timeout)
    problems = [f"execution stopped: {error}"] if error else []
    if compare:
        stored = nbformat.read(original, as_version=4)
        fresh = nbformat.read(copy, as_version=4)
        problems += graded_differences(stored, fresh)
    return problems, record or {}


def graded_differences(stored, fresh):
    """One line per graded cell (``# NBVAL_CHECK_OUTPUT``) whose text output changed."""
    problems = []
    index = 0
    for old, new in zip(stored.cells, fresh.cells):
        if old.cell_type != "code":
            continue
        index += 1
        if not old.source.lstrip().startswith(CHECK_MARKER):
            continue
        before, after = output_text(old), output_text(new)
        if before != after:
            problems.append(f"code cell {index}: graded output changed\n{_first_difference(before, after)}")
    return problems


def output_text(cell):
    """The text a cell showed: streams, plain-text results and errors, in order."""
    parts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            parts.append(output.get("text", ""))
        elif output.get("output_type") == "error":
            parts.append(f"{output.get('ename')}: {output.get('evalue')}\n")
        elif "text/plain" in output.get("data", {}):
            parts.append(output["data"]["text/plain"] + "\n")
    return "".join(parts)


def _first_difference(before, after):
    old_lines, new_lines = before.splitlines(), after.splitlines()
    for i in range(max(len(old_lines), len(new_lines))):
        old = old_lines[i] if i < len(old_lines) else "<nothing>"
        new = new_lines[i] if i < len(new_lines) else "<nothing>"
        if old != new:
            return f"    stored: {old}\n    now:    {new}"
    return "    (same lines, different line endings)"


def format_rows(rows):
    """rows: (notebook, results record, seconds, problems) -> a table with every reported number."""
    lines = []
    for name, record, seconds, problems in rows:
        numbers = "  ".join(f"{k}={_fmt(v)}" for k, v in record.items() if v is not None and k != "dataset")
        status = "ok" if not problems else f"{len(problems)} problem(s)"
        lines.append(f"{name:<24} {seconds:6.0f}s  {status:<14} {numbers}")
    return "\n".join(lines)


def _fmt(value):
    return f"{value:.4f}" if isinstance(value, float) else str(value)


# ---------------------------------------------------------------------------
# inside the kernel (run by the IPython startup file)
# ---------------------------------------------------------------------------

def install_in_kernel():
    """Apply the perturbation and seed offset named in the environment to this process."""
    perturb = float(os.environ.get(PERTURB_ENV) or 0.0)
    offset = int(os.environ.get(SEED_OFFSET_ENV) or 0)
    if perturb > 0:
        perturb_models(perturb)
    if offset:
        shift_seeds(offset)


def perturb_weights(value, relative, rng):
    """``value`` with every entry moved by +-max(relative * |entry|, one ulp), as the same dtype."""
    import numpy as np

    value = np.asarray(value)
    if not np.issubdtype(value.dtype, np.floating):
        return value
    step = np.maximum(relative * np.abs(value), np.spacing(np.abs(value)))
    signs = rng.choice(np.array([-1.0, 1.0]), size=value.shape)
    return (value + signs * step).astype(value.dtype)


def perturb_models(relative):
    """Perturb each model's weights once, when its method (``loss``) is first called (its initial weights)."""
    import importlib

    import numpy as np

    rng = np.random.Generator(np.random.PCG64(20261201))

    def wrap(cls, attribute, method):
        original = getattr(cls, method)

        def perturbing(self, *args, **kwargs):
            if not getattr(self, "_stability_perturbed", False):
                self._stability_perturbed = True
                weights = getattr(self, attribute, None)
                if isinstance(weights, dict):
                    for name in sorted(weights):
                        weights[name] = perturb_weights(weights[name], relative, rng)
                elif weights is not None:
                    setattr(self, attribute, perturb_weights(weights, relative, rng))
            return original(self, *args, **kwargs)

        perturbing.__wrapped__ = original
        setattr(cls, method, perturbing)

    for module_name, class_name, attribute, method in MODELS:
        wrap(getattr(importlib.import_module(module_name), class_name), attribute, method)


def shift_seeds(offset):
    """Add ``offset`` to every integer seed given to numpy's generators."""
    import numbers

    import numpy as np

    def shifted(seed):
        return seed + offset if isinstance(seed, numbers.Integral) and not isinstance(seed, bool) else seed

    default_rng, legacy_seed = np.random.default_rng, np.random.seed
    np.random.default_rng = lambda seed=None: default_rng(shifted(seed))
    np.random.seed = lambda seed=None: legacy_seed(shifted(seed))
