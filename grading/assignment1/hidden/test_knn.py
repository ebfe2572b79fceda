"""k-nearest neighbours: every distance version and the vote, against the reference."""
import numpy as np
import pytest

MODULE = "classifiers.k_nearest_neighbor"


def blobs(seed, num_train=60, num_test=25, dim=9):
    rng = np.random.default_rng(seed)
    X_train = rng.normal(size=(num_train, dim)) * rng.uniform(0.5, 3)
    X_test = rng.normal(size=(num_test, dim))
    return X_train, rng.integers(0, 5, num_train), X_test


def trained(module, X_train, y_train):
    clf = module.KNearestNeighbor()
    clf.train(X_train, y_train)
    return clf


@pytest.mark.parametrize("method", ["compute_distances_two_loops", "compute_distances_one_loop",
                                    "compute_distances_no_loops"])
@pytest.mark.parametrize("seed", [1001, 1002])
def test_distances(student, reference, method, seed):
    X_train, y_train, X_test = blobs(seed)
    mine = getattr(trained(student(MODULE), X_train, y_train), method)(X_test)
    expected = getattr(trained(reference(MODULE), X_train, y_train), method)(X_test)
    assert mine.shape == expected.shape
    np.testing.assert_allclose(mine, expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("k", [1, 3, 6])
def test_predict_labels(student, reference, k):
    rng = np.random.default_rng(2000 + k)
    X_train, y_train, _ = blobs(k, num_train=30)
    dists = rng.integers(0, 8, size=(40, 30)).astype(float)  # many ties, in distance and in votes
    mine = trained(student(MODULE), X_train, y_train).predict_labels(dists, k=k)
    expected = trained(reference(MODULE), X_train, y_train).predict_labels(dists, k=k)
    np.testing.assert_array_equal(mine, expected)
