"""k-nearest-neighbour classifier with L2 (Euclidean) distance.

Training only memorises the data; prediction measures the distance from every
test point to every training point and lets the k closest training points vote.
The three ``compute_distances_*`` methods compute the same matrix with two, one
and zero Python loops, to show what vectorisation buys.
"""
import numpy as np

from course_utils.checks import check_array, check_positive_int

# Upper bound on the bytes of one chunk's distance matrix in ``predict``: the
# no-loop distance is computed for a block of test rows at a time so that a
# large test set (say 10k x 60k) never needs its full distance matrix in memory.
_CHUNK_BYTES = 128 * 2**20


def _check_points(X, name):
    """Require a 2-D real-valued (integer or float) array; return it as float64."""
    check_array(X, name, ndim=2)
    if X.dtype == np.bool_ or not (
        np.issubdtype(X.dtype, np.integer) or np.issubdtype(X.dtype, np.floating)
    ):
        raise ValueError(f"{name} must hold integer or floating-point values, got dtype {X.dtype}")
    return np.asarray(X, dtype=np.float64)


class KNearestNeighbor:
    """kNN classifier; call ``train`` once, then ``predict``."""

    def __init__(self):
        self.X_train = None
        self.y_train = None

    def train(self, X, y):
        """Memorise the training data.

        X: (num_train, D) integer or float features.
        y: (num_train,) non-negative integer labels.
        """
        X = _check_points(X, "X")
        if X.shape[0] == 0:
            raise ValueError("X must contain at least one training point, got shape (0, D)")
        if not isinstance(y, np.ndarray) or not np.issubdtype(y.dtype, np.integer):
            got = getattr(y, "dtype", type(y).__name__)
            raise ValueError(f"y must be a numpy array of integer labels, got {got}")
        if y.shape != (X.shape[0],):
            raise ValueError(f"y must have shape ({X.shape[0]},) to match X, got {y.shape}")
        if y.min() < 0:
            raise ValueError(f"y must hold non-negative class labels, got minimum {y.min()}")
        self.X_train = X
        self.y_train = y

    def predict(self, X, k=1, num_loops=0):
        """Predict labels for test points.

        X: (num_test, D) integer or float features.
        k: number of neighbours that vote (1 <= k <= num_train).
        num_loops: which distance implementation to use (0, 1 or 2).
        Returns y_pred: (num_test,) integer labels.
        """
        X = self._check_test(X)
        k = self._check_k(k)
        if (
            isinstance(num_loops, bool)
            or not isinstance(num_loops, (int, np.integer))
            or num_loops not in (0, 1, 2)
        ):
            raise ValueError(f"num_loops must be 0, 1 or 2, got {num_loops!r}")
        if num_loops == 2:
            return self.predict_labels(self.compute_distances_two_loops(X), k=k)
        if num_loops == 1:
            return self.predict_labels(self.compute_distances_one_loop(X), k=k)
        # No-loop path: work through the test set in blocks of rows so that only
        # one block's (rows, num_train) distance matrix exists at a time.
        rows = max(1, _CHUNK_BYTES // (8 * self.X_train.shape[0]))
        y_pred = np.empty(X.shape[0], dtype=self.y_train.dtype)
        for start in range(0, X.shape[0], rows):
            block = X[start:start + rows]
            y_pred[start:start + rows] = self.predict_labels(
                self.compute_distances_no_loops(block), k=k
            )
        return y_pred

    def compute_distances_two_loops(self, X):
        """L2 distances with a double loop over test and training points.

        X: (num_test, D). Returns dists: (num_test, num_train) where
        dists[i, j] is the Euclidean distance between X[i] and self.X_train[j].
        """
        X = self._check_test(X)
        num_test = X.shape[0]
        num_train = self.X_train.shape[0]
        dists = np.zeros((num_test, num_train))
        # TODO: for every pair (i, j) fill dists[i, j] with the distance between
        # test point i and training point j. Use only the two loops below and
        # elementwise arithmetic: no loop over the D features, no np.linalg.norm.
        for i in range(num_test):
            for j in range(num_train):
                # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
                diff = X[i] - self.X_train[j]
                dists[i, j] = np.sqrt(np.sum(diff * diff))
                # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        return dists

    def compute_distances_one_loop(self, X):
        """L2 distances with one loop over the test points.

        X: (num_test, D). Returns dists: (num_test, num_train).
        """
        X = self._check_test(X)
        num_test = X.shape[0]
        num_train = self.X_train.shape[0]
        dists = np.zeros((num_test, num_train))
        # TODO: fill row i of dists in one step per test point, letting
        # broadcasting handle all training points at once; no np.linalg.norm.
        for i in range(num_test):
            # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
            diff = self.X_train - X[i]
            dists[i, :] = np.sqrt(np.sum(diff * diff, axis=1))
            # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        return dists

    def compute_distances_no_loops(self, X):
        """L2 distances without any Python loop.

        X: (num_test, D). Returns dists: (num_test, num_train).
        """
        X = self._check_test(X)
        num_test = X.shape[0]
        num_train = self.X_train.shape[0]
        dists = np.zeros((num_test, num_train))
        # TODO: compute the whole matrix with no loops and without building a
        # (num_test, num_train, D) array. Expand the square of the difference:
        # ||a - b||^2 = ||a||^2 + ||b||^2 - 2 a.b, so one matrix product gives every
        # a.b term. Rounding can make tiny squared distances negative: clip them
        # at 0 before the square root.
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        test_sq = np.einsum("ij,ij->i", X, X)
        train_sq = np.einsum("ij,ij->i", self.X_train, self.X_train)
        dists = X @ self.X_train.T
        dists *= -2.0
        dists += test_sq[:, None]
        dists += train_sq[None, :]
        np.maximum(dists, 0.0, out=dists)
        np.sqrt(dists, out=dists)
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        return dists

    def predict_labels(self, dists, k=1):
        """Majority vote among the k nearest training points of each test point.

        dists: (num_test, num_train) distances, as from compute_distances_*.
        k: number of voters (1 <= k <= num_train).
        Returns y_pred: (num_test,) labels. Ties in the vote go to the smaller
        label; among training points at equal distance the one with the smaller
        index counts as nearer.
        """
        self._require_trained()
        num_train = self.X_train.shape[0]
        check_array(dists, "dists", shape=(None, num_train))
        k = self._check_k(k)
        num_test = dists.shape[0]
        y_pred = np.zeros(num_test, dtype=self.y_train.dtype)
        # TODO: for each test point i, find the labels of its k nearest training
        # points (equal distances: smaller training index first, as a stable sort
        # gives) and store the most common of them in y_pred[i], taking the
        # smaller label when several are equally common.
        for i in range(num_test):
            # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
            row = dists[i]
            # Sorting the whole row is O(num_train log num_train); a partition
            # finds the k-th smallest distance in linear time. Every point at or
            # below it is a candidate; a stable sort of the few candidates then
            # applies the index tie rule exactly.
            kth = np.partition(row, k - 1)[k - 1]
            candidates = np.flatnonzero(row <= kth)
            nearest = candidates[np.argsort(row[candidates], kind="stable")[:k]]
            # argmax returns the first maximum, i.e. the smallest tied label
            y_pred[i] = np.argmax(np.bincount(self.y_train[nearest]))
            # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        return y_pred

    def _require_trained(self):
        if self.X_train is None:
            raise ValueError("the classifier has no training data: call train(X, y) before predicting")

    def _check_test(self, X):
        self._require_trained()
        X = _check_points(X, "X")
        D = self.X_train.shape[1]
        if X.shape[1] != D:
            raise ValueError(f"X must have shape (num_test, {D}) to match the training data, got {X.shape}")
        return X

    def _check_k(self, k):
        k = check_positive_int(k, "k")
        num_train = self.X_train.shape[0]
        if k > num_train:
            raise ValueError(f"k must be at most the number of training points ({num_train}), got {k}")
        return k
