"""Speed of the convolution / max-pool layers: naive vs fast vs PyTorch CPU.

Run from the kit folder::

    python benchmarks/bench_conv.py             # both shapes, float32 and float64
    python benchmarks/bench_conv.py --shape a --dtype float64 --repeats 3
    python benchmarks/bench_conv.py --threads 1 --cpu-time   # fair on a busy machine

Every number is the best of ``--repeats`` runs, timed in this process, so the
ratios compare like with like even on a busy machine. Columns:

* ``naive`` - ``course_utils.layers`` loop versions (on shape (b) they run on
  a reduced batch and are scaled up linearly in N, as stated in the output);
* ``fast/cython`` and ``fast/numpy`` - ``course_utils.fast_layers`` with the
  compiled core and with the forced numpy fallback;
* ``torch`` - ``torch.nn.functional.conv2d`` / ``max_pool2d`` with autograd
  backward, only when ``import torch`` works (never a kit dependency).

GFLOP/s counts 2*N*F*H'*W'*C*HH*WW for the forward and twice that for the
backward (dw and dx are one such product each); it is printed next to a plain
numpy matmul of the same size and dtype as the forward's product, measured in
the same run, which is the ceiling an im2col convolution can approach.

``--threads N`` gives every contender N threads (BLAS, the kit's worker
threads, PyTorch). On a machine shared with other jobs, wall times of
multi-threaded code swing wildly; ``--threads 1 --cpu-time`` then measures
the CPU time each single-threaded contender needs, which stays comparable.
"""
import argparse
import time
import warnings

import numpy as np

from course_utils import fast_layers
from course_utils.conv_shapes import conv_output_shape
from course_utils.layers import (
    conv_backward_naive,
    conv_forward_naive,
    max_pool_backward_naive,
    max_pool_forward_naive,
)

# name: (x shape, w shape, stride, pad, naive batch)
SHAPES = {
    "a": ((100, 3, 31, 31), (25, 3, 3, 3), 2, 1, 100),
    "b": ((64, 32, 32, 32), (64, 32, 3, 3), 1, 1, 4),
}
POOL = {"pool_height": 2, "pool_width": 2, "stride": 2}


CLOCK = time.perf_counter


def best_time(fn, repeats, min_time=0.05):
    """Best time of one call of fn over `repeats` rounds (each round >= min_time)."""
    fn()  # warm up (allocations, BLAS threads, lazy imports)
    best = float("inf")
    for _ in range(repeats):
        calls, start = 0, CLOCK()
        while True:
            fn()
            calls += 1
            elapsed = CLOCK() - start
            if elapsed >= min_time:
                break
        best = min(best, elapsed / calls)
    return best


def matmul_gflops(F, K, cols, dtype, repeats):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((F, K)).astype(dtype)
    b = rng.standard_normal((K, cols)).astype(dtype)
    out = np.empty((F, cols), dtype=dtype)
    seconds = best_time(lambda: np.matmul(a, b, out=out), repeats)
    return 2.0 * F * K * cols / seconds / 1e9


def conv_timings(x, w, b, conv_param, repeats):
    """(forward seconds, backward seconds) of the fast layers with the active core."""
    out, cache = fast_layers.conv_forward_fast(x, w, b, conv_param)
    dout = np.random.default_rng(1).standard_normal(out.shape).astype(x.dtype)
    fwd = best_time(lambda: fast_layers.conv_forward_fast(x, w, b, conv_param), repeats)
    bwd = best_time(lambda: fast_layers.conv_backward_fast(dout, cache), repeats)
    return fwd, bwd


def naive_conv_timings(x, w, b, conv_param, repeats):
    out, cache = conv_forward_naive(x, w, b, conv_param)
    dout = np.random.default_rng(1).standard_normal(out.shape).astype(x.dtype)
    fwd = best_time(lambda: conv_forward_naive(x, w, b, conv_param), repeats, min_time=0)
    bwd = best_time(lambda: conv_backward_naive(dout, cache), repeats, min_time=0)
    return fwd, bwd


def torch_conv_timings(torch, x, w, b, conv_param, repeats):
    """(forward, backward) for conv2d under autograd (the backward re-runs one kept graph)."""
    tx = torch.from_numpy(x).requires_grad_()
    tw = torch.from_numpy(w).requires_grad_()
    tb = torch.from_numpy(b).requires_grad_()
    kwargs = {"stride": conv_param["stride"], "padding": conv_param["pad"]}
    out = torch.nn.functional.conv2d(tx, tw, tb, **kwargs)
    dout = torch.from_numpy(np.random.default_rng(1).standard_normal(tuple(out.shape)).astype(x.dtype))
    fwd = best_time(lambda: torch.nn.functional.conv2d(tx, tw, tb, **kwargs), repeats)
    bwd = best_time(lambda: out.backward(dout, retain_graph=True), repeats)
    return fwd, bwd


def pool_timings(x, repeats, naive_scale):
    rows = {}
    n_naive = max(1, x.shape[0] // naive_scale)
    xn = x[:n_naive]
    out, cache = max_pool_forward_naive(xn, POOL)
    dout = np.ones_like(out)
    rows["naive"] = tuple(naive_scale * t for t in (
        best_time(lambda: max_pool_forward_naive(xn, POOL), repeats, min_time=0),
        best_time(lambda: max_pool_backward_naive(dout, cache), repeats, min_time=0)))
    out, cache = fast_layers.max_pool_forward_fast(x, POOL)
    dout = np.ones_like(out)
    rows["fast"] = (best_time(lambda: fast_layers.max_pool_forward_fast(x, POOL), repeats),
                    best_time(lambda: fast_layers.max_pool_backward_fast(dout, cache), repeats))
    return rows


def torch_pool_timings(torch, x, repeats):
    tx = torch.from_numpy(x).requires_grad_()
    out = torch.nn.functional.max_pool2d(tx, 2, 2)
    dout = torch.ones_like(out)
    fwd = best_time(lambda: torch.nn.functional.max_pool2d(tx, 2, 2), repeats)
    return fwd, best_time(lambda: out.backward(dout, retain_graph=True), repeats)


def _yes(ok):
    return "reached" if ok else "NOT reached"


def run_case(name, dtype, repeats, torch):
    x_shape, w_shape, stride, pad, naive_n = SHAPES[name]
    rng = np.random.default_rng(0)
    x = rng.standard_normal(x_shape).astype(dtype)
    w = (rng.standard_normal(w_shape) * 0.1).astype(dtype)
    b = rng.standard_normal(w_shape[0]).astype(dtype)
    conv_param = {"stride": stride, "pad": pad}
    N, F = x_shape[0], w_shape[0]
    out_h, out_w = conv_output_shape(x_shape[2], x_shape[3], w_shape[2], w_shape[3], pad, stride)
    K = int(np.prod(w_shape[1:]))
    flops = 2.0 * N * F * out_h * out_w * K

    print(f"\n=== shape ({name}): x {x_shape}, w {w_shape}, stride {stride}, pad {pad}, "
          f"{np.dtype(dtype).name} ===")
    peak = matmul_gflops(F, K, N * out_h * out_w, dtype, repeats)
    print(f"numpy matmul ({F}x{K}) @ ({K}x{N * out_h * out_w}): {peak:7.1f} GFLOP/s  (same-run ceiling)")

    rows = {}
    scale = N // naive_n
    times = naive_conv_timings(x[:naive_n], w, b, conv_param, max(1, repeats // 2))
    rows["naive"] = tuple(scale * t for t in times)
    naive_note = "" if scale == 1 else f"  (timed on N={naive_n}, scaled x{scale})"
    for core in fast_layers.CORES:
        if core == "cython" and fast_layers.extension_path() is None:
            print("fast/cython: compiled core not built (pip install -e .), skipped")
            continue
        with fast_layers.using_core(core):
            rows[f"fast/{core}"] = conv_timings(x, w, b, conv_param, repeats)
    if torch is not None:
        rows["torch"] = torch_conv_timings(torch, x, w, b, conv_param, repeats)

    print(f"{'conv':<12} {'forward ms':>11} {'backward ms':>12} {'fwd+bwd ms':>11} "
          f"{'fwd GFLOP/s':>12} {'bwd GFLOP/s':>12} {'fwd % matmul':>13}")
    for label, (fwd, bwd) in rows.items():
        print(f"{label:<12} {1e3 * fwd:11.2f} {1e3 * bwd:12.2f} {1e3 * (fwd + bwd):11.2f} "
              f"{flops / fwd / 1e9:12.1f} {2 * flops / bwd / 1e9:12.1f} "
              f"{100 * flops / fwd / 1e9 / peak:12.0f}%" + (naive_note if label == "naive" else ""))

    fast = rows.get("fast/cython", rows["fast/numpy"])
    label = "fast/cython" if "fast/cython" in rows else "fast/numpy"
    naive = rows["naive"]
    print(f"speed-up {label} over naive: forward {naive[0] / fast[0]:.0f}x, "
          f"backward {naive[1] / fast[1]:.0f}x")
    nf = rows["fast/numpy"]
    print(f"speed-up fast/numpy over naive: forward {naive[0] / nf[0]:.0f}x, backward {naive[1] / nf[1]:.0f}x")
    goals = []
    if name == "a":
        goals.append(f"forward >= 150x naive: {_yes(naive[0] / fast[0] >= 150)}")
        goals.append(f"backward >= 400x naive: {_yes(naive[1] / fast[1] >= 400)}")
    if name == "b":
        goals.append(f"forward >= 60% of matmul: {_yes(flops / fast[0] / 1e9 >= 0.6 * peak)}")
    if "torch" in rows:
        t = rows["torch"]
        print(f"torch / {label} time: forward {t[0] / fast[0]:.2f}, backward {t[1] / fast[1]:.2f}, "
              f"fwd+bwd {sum(t) / sum(fast):.2f}  (> 1 means the kit is faster)")
        bound = 1.0 if dtype == np.float64 else 1 / 1.5
        goals.append(f"fwd+bwd {'no slower than' if bound == 1 else 'within 1.5x of'} torch: "
                     f"{_yes(sum(t) / sum(fast) >= bound)}")
    print("goals: " + "; ".join(goals))

    # max pooling 2x2 stride 2 on this conv's output (reshape path)
    y, _ = fast_layers.conv_forward_fast(x, w, b, conv_param)
    y = y[:, :, : out_h - out_h % 2, : out_w - out_w % 2].copy()
    prow = pool_timings(y, repeats, scale)
    if torch is not None:
        prow["torch"] = torch_pool_timings(torch, y, repeats)
    print(f"max pool 2x2/2 on {y.shape}:  " + ",  ".join(
        f"{k} {1e3 * f:.2f} + {1e3 * g:.2f} ms" for k, (f, g) in prow.items()))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shape", choices=sorted(SHAPES), nargs="+", default=sorted(SHAPES))
    parser.add_argument("--dtype", choices=["float32", "float64"], nargs="+",
                        default=["float64", "float32"])
    parser.add_argument("--repeats", type=int, default=5, help="timing rounds, best kept (default 5)")
    parser.add_argument("--no-torch", action="store_true", help="skip the PyTorch reference")
    parser.add_argument("--threads", type=int, help="threads for every contender (default: as configured)")
    parser.add_argument("--cpu-time", action="store_true",
                        help="time with process CPU time instead of wall time (use with --threads 1)")
    args = parser.parse_args()
    global CLOCK
    if args.cpu_time:
        CLOCK = time.process_time

    torch = None
    if not args.no_torch:
        try:
            import torch
        except ImportError:
            print("PyTorch not importable: its column is skipped")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        print(f"im2col core: {fast_layers.active_core()} ({fast_layers.extension_path()})")
    limit = None
    if args.threads:
        from threadpoolctl import threadpool_limits
        limit = threadpool_limits(limits=args.threads, user_api="blas")
        fast_layers.THREADS = args.threads
        if torch is not None:
            torch.set_num_threads(args.threads)
    if torch is not None:
        print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"timing: best of {args.repeats}, {'process CPU time' if args.cpu_time else 'wall time'}, "
          f"threads: {args.threads or 'as configured'}")
    for name in args.shape:
        for dtype in args.dtype:
            run_case(name, np.dtype(dtype).type, args.repeats, torch)
    if limit is not None:
        limit.restore_original_limits()


if __name__ == "__main__":
    main()
