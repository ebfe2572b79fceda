"""Time the three kNN distance implementations against scikit-learn.

Computes the (num_test, num_train) L2 distance matrix between random float64
points with KNearestNeighbor's two-loop, one-loop and no-loop methods and with
sklearn.metrics.pairwise.euclidean_distances (the baseline, timed in the same
run), and prints each time and its ratio to the baseline (ratio < 1 = faster
than scikit-learn). The baseline and the no-loop method report the best of
--repeat runs; the slow one-loop and two-loop versions run once.

    python3 benchmarks/bench_knn.py [--num-test 500] [--num-train 5000] [--dims 784 3072]
"""
import argparse
import time

import numpy as np
from sklearn.metrics.pairwise import euclidean_distances

from course_utils.classifiers.k_nearest_neighbor import KNearestNeighbor


def best_time(fn, repeat):
    """Smallest wall-clock time of ``repeat`` calls, and the last result."""
    best = np.inf
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-test", type=int, default=500)
    parser.add_argument("--num-train", type=int, default=5000)
    parser.add_argument("--dims", type=int, nargs="+", default=[784, 3072])
    parser.add_argument("--repeat", type=int, default=3, help="runs of the baseline and the no-loop method (best kept)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    print(f"L2 distances, {args.num_test} test x {args.num_train} train points, float64")
    print(f"{'D':>5}  {'method':<22}{'time (s)':>10}{'vs sklearn':>12}{'max |diff|':>12}")
    for dim in args.dims:
        X_train = rng.standard_normal((args.num_train, dim))
        X_test = rng.standard_normal((args.num_test, dim))
        y_train = np.zeros(args.num_train, dtype=np.int64)
        knn = KNearestNeighbor()
        knn.train(X_train, y_train)

        base_time, reference = best_time(lambda: euclidean_distances(X_test, X_train), args.repeat)
        runs = [
            ("sklearn (baseline)", base_time, reference),
            ("no loops", *best_time(lambda: knn.compute_distances_no_loops(X_test), args.repeat)),
            ("one loop", *best_time(lambda: knn.compute_distances_one_loop(X_test), 1)),
            ("two loops", *best_time(lambda: knn.compute_distances_two_loops(X_test), 1)),
        ]
        for name, seconds, dists in runs:
            diff = np.max(np.abs(dists - reference))
            print(f"{dim:>5}  {name:<22}{seconds:>10.4f}{seconds / base_time:>11.2f}x{diff:>12.1e}")


if __name__ == "__main__":
    main()
