"""k-nearest neighbours: every distance version and the vote, against the reference."""
import numpy as np
import pytest
from conftest import assert_same

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
    assert_same(mine, expected, rtol=1e-6, atol=1e-6, where=method)


@pytest.mark.parametrize("k", [1, 3, 6])
def test_predict_labels(student, reference, k):
    """The majority vote of the k nearest, ties in the vote to the smaller label (the docstring).
    Distances are distinct (the order of equal distances is not specified); with five
    labels and k up to 6, tied votes happen and test the documented rule."""
    rng = np.random.default_rng(2000 + k)
    X_train, y_train, _ = blobs(k, num_train=30)
    dists = rng.permutation(40 * 30).reshape(40, 30) / 7.0
    mine = trained(student(MODULE), X_train, y_train).predict_labels(dists, k=k)
    expected = trained(reference(MODULE), X_train, y_train).predict_labels(dists, k=k)
    assert_same(mine, expected, rtol=0, atol=0, where=f"labels predicted with k={k}")
