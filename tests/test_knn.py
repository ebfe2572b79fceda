import numpy as np
import pytest
from scipy.spatial.distance import cdist

from course_utils.classifiers import k_nearest_neighbor as knn_module
from course_utils.classifiers.k_nearest_neighbor import KNearestNeighbor


def _blobs(seed, num_train=120, num_test=40, dim=7, num_classes=4):
    rng = np.random.default_rng(seed)
    centres = 3.0 * rng.standard_normal((num_classes, dim))
    y_train = rng.integers(0, num_classes, num_train)
    y_test = rng.integers(0, num_classes, num_test)
    X_train = centres[y_train] + rng.standard_normal((num_train, dim))
    X_test = centres[y_test] + rng.standard_normal((num_test, dim))
    return X_train, y_train, X_test, y_test


@pytest.fixture
def trained():
    X_train, y_train, X_test, _ = _blobs(0)
    clf = KNearestNeighbor()
    clf.train(X_train, y_train)
    return clf, X_train, X_test


@pytest.mark.parametrize(
    "method", ["compute_distances_two_loops", "compute_distances_one_loop", "compute_distances_no_loops"]
)
def test_distances_match_scipy(trained, method):
    clf, X_train, X_test = trained
    dists = getattr(clf, method)(X_test)
    assert dists.shape == (X_test.shape[0], X_train.shape[0])
    np.testing.assert_allclose(dists, cdist(X_test, X_train), rtol=1e-6, atol=1e-9)


def test_distances_fixed_values_and_integer_input():
    clf = KNearestNeighbor()
    clf.train(np.array([[0, 0], [3, 4], [1, 1]], dtype=np.uint8), np.array([0, 1, 0]))
    X = np.array([[0, 0], [6, 8]], dtype=np.uint8)  # uint8 must not wrap around
    expected = np.array([[0.0, 5.0, np.sqrt(2)], [10.0, 5.0, np.sqrt(25 + 49)]])
    for dists in (
        clf.compute_distances_two_loops(X),
        clf.compute_distances_one_loop(X),
        clf.compute_distances_no_loops(X),
    ):
        np.testing.assert_allclose(dists, expected, rtol=1e-12, atol=1e-7)


def test_no_loop_distance_of_a_point_to_itself_is_zero():
    rng = np.random.default_rng(3)
    X = 1e3 * rng.standard_normal((20, 50))
    clf = KNearestNeighbor()
    clf.train(X, np.zeros(20, dtype=int))
    dists = clf.compute_distances_no_loops(X)
    assert np.all(dists >= 0)  # clipped before the square root, so never NaN
    assert np.all(np.diag(dists) < 1e-3)


def _sklearn_predictions(X_train, y_train, X_test, k):
    neighbors = pytest.importorskip("sklearn.neighbors")
    return neighbors.KNeighborsClassifier(n_neighbors=k, algorithm="brute").fit(X_train, y_train).predict(X_test)


# The vote (predict_labels) is checked on distances computed here, so its tests need
# none of the distance exercises; predict() with each num_loops needs all of them.
@pytest.mark.parametrize("k", [1, 3, 7])
def test_predict_labels_match_sklearn(k):
    X_train, y_train, X_test, _ = _blobs(1)
    # continuous random data: no two training points at the same distance
    clf = KNearestNeighbor()
    clf.train(X_train, y_train)
    expected = _sklearn_predictions(X_train, y_train, X_test, k)
    np.testing.assert_array_equal(clf.predict_labels(cdist(X_test, X_train), k=k), expected)


@pytest.mark.parametrize("k", [1, 3, 7])
def test_predict_with_each_distance_version_matches_sklearn(k):
    X_train, y_train, X_test, _ = _blobs(1)
    clf = KNearestNeighbor()
    clf.train(X_train, y_train)
    expected = _sklearn_predictions(X_train, y_train, X_test, k)
    for num_loops in (0, 1, 2):
        np.testing.assert_array_equal(clf.predict(X_test, k=k, num_loops=num_loops), expected)


def test_chunked_predict_equals_unchunked(monkeypatch):
    X_train, y_train, X_test, _ = _blobs(2, num_train=200, num_test=57)
    clf = KNearestNeighbor()
    clf.train(X_train, y_train)
    whole = clf.predict_labels(clf.compute_distances_no_loops(X_test), k=5)
    # 200 training points * 8 bytes * 10 rows: chunks of 10 test rows (last one 7)
    monkeypatch.setattr(knn_module, "_CHUNK_BYTES", 200 * 8 * 10)
    calls = []
    original = clf.compute_distances_no_loops

    def counting(X):
        calls.append(X.shape[0])
        return original(X)

    monkeypatch.setattr(clf, "compute_distances_no_loops", counting)
    np.testing.assert_array_equal(clf.predict(X_test, k=5), whole)
    assert calls == [10] * 5 + [7]


def test_predict_labels_hand_computed():
    clf = KNearestNeighbor()
    clf.train(np.zeros((5, 1)), np.array([2, 0, 1, 1, 2]))
    dists = np.array(
        [
            [0.5, 0.1, 0.9, 0.2, 0.3],  # order 1,3,4,0,2 -> labels 0,1,2,2,1
            [9.0, 8.0, 1.0, 2.0, 3.0],  # order 2,3,4,1,0 -> labels 1,1,2,0,2
        ]
    )
    np.testing.assert_array_equal(clf.predict_labels(dists, k=1), [0, 1])
    np.testing.assert_array_equal(clf.predict_labels(dists, k=2), [0, 1])  # {0,1} tie -> 0
    np.testing.assert_array_equal(clf.predict_labels(dists, k=3), [0, 1])  # three-way tie -> 0
    np.testing.assert_array_equal(clf.predict_labels(dists, k=4), [2, 1])  # 2 wins twice
    np.testing.assert_array_equal(clf.predict_labels(dists, k=5), [1, 1])  # 1,2 tie at 2 -> 1


def test_tie_rules_with_equal_distances():
    # Training points at 1, -1 (label 3), 2, -2 (label 1), 5 (label 0); test point at 0.
    X_train = np.array([[1.0], [-1.0], [2.0], [-2.0], [5.0]])
    y_train = np.array([3, 1, 1, 3, 0])
    clf = KNearestNeighbor()
    clf.train(X_train, y_train)
    dists = np.abs(X_train.T)  # distances from the test point at 0: (1, 5)
    # k=1: points 0 and 1 are equally near; the smaller index (label 3) wins.
    # k=3: labels 3, 1, 1 -> 1.  k=2 and k=4: tie between labels 1 and 3 -> 1.
    assert [clf.predict_labels(dists, k=k)[0] for k in (1, 2, 3, 4)] == [3, 1, 1, 1]
    # Reversed order 5, -2, 2, -1, 1: now the point at -1 (label 1, index 3)
    # comes before the point at 1 (label 3, index 4), so k=1 answers 1.
    clf.train(X_train[::-1].copy(), y_train[::-1].copy())
    assert clf.predict_labels(dists[:, ::-1].copy(), k=1)[0] == 1
    assert clf.predict_labels(np.array([[1.0, 1.0, 1.0, 1.0, 1.0]]), k=1)[0] == 0


def test_predict_labels_keeps_label_dtype():
    clf = KNearestNeighbor()
    clf.train(np.eye(3), np.array([0, 2, 1], dtype=np.uint8))
    pred = clf.predict_labels(cdist(np.eye(3), np.eye(3)))
    assert pred.dtype == np.uint8
    np.testing.assert_array_equal(pred, [0, 2, 1])


def test_predict_before_train():
    with pytest.raises(ValueError, match="call train"):
        KNearestNeighbor().predict(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="call train"):
        KNearestNeighbor().compute_distances_no_loops(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="call train"):
        KNearestNeighbor().predict_labels(np.zeros((2, 3)))


@pytest.mark.parametrize(
    "X, y, match",
    [
        (np.zeros(4), np.zeros(4, dtype=int), "X must have 2 dimensions"),
        ([[0.0, 1.0]], np.zeros(1, dtype=int), "X must be a numpy array"),
        (np.array([["a", "b"]]), np.zeros(1, dtype=int), "integer or floating-point"),
        (np.zeros((0, 3)), np.zeros(0, dtype=int), "at least one training point"),
        (np.zeros((4, 3)), np.zeros(4), "integer labels"),
        (np.zeros((4, 3)), np.zeros(3, dtype=int), r"shape \(4,\)"),
        (np.zeros((4, 3)), np.array([0, 1, -1, 2]), "non-negative"),
    ],
)
def test_train_rejects_bad_input(X, y, match):
    with pytest.raises(ValueError, match=match):
        KNearestNeighbor().train(X, y)


def test_predict_rejects_bad_input(trained):
    clf, X_train, X_test = trained
    num_train = X_train.shape[0]
    with pytest.raises(ValueError, match=r"shape \(num_test, 7\)"):
        clf.predict(np.zeros((2, 6)))
    with pytest.raises(ValueError, match="X must have 2 dimensions"):
        clf.predict(np.zeros(7))
    with pytest.raises(ValueError, match="X must have 2 dimensions"):
        clf.compute_distances_two_loops(np.zeros(7))
    with pytest.raises(ValueError, match="integer or floating-point"):
        clf.compute_distances_one_loop(np.zeros((2, 7), dtype=bool))
    with pytest.raises(ValueError, match="k must be an integer >= 1"):
        clf.predict(X_test, k=0)
    with pytest.raises(ValueError, match="k must be an integer >= 1"):
        clf.predict(X_test, k=2.0)
    with pytest.raises(ValueError, match=f"at most the number of training points \\({num_train}\\)"):
        clf.predict(X_test, k=num_train + 1)
    with pytest.raises(ValueError, match="num_loops must be 0, 1 or 2"):
        clf.predict(X_test, num_loops=3)
    with pytest.raises(ValueError, match="num_loops must be 0, 1 or 2"):
        clf.predict(X_test, num_loops=1.0)
    with pytest.raises(ValueError, match=r"dists must have shape \(any, 120\)"):
        clf.predict_labels(np.zeros((3, 5)))


def test_predict_labels_accepts_k_equal_to_num_train(trained):
    clf, X_train, X_test = trained
    counts = np.bincount(clf.y_train)
    pred = clf.predict_labels(cdist(X_test, X_train), k=X_train.shape[0])
    # with every point voting, the overall most common label wins everywhere
    assert np.all(pred == np.argmax(counts))
