"""Classifiers built on course_utils: k-nearest neighbour, linear models and networks.

Each one lives in its own module, e.g.
``from course_utils.classifiers.k_nearest_neighbor import KNearestNeighbor``,
and is also available from the package itself, as CS231n's notebooks import
them: ``from course_utils.classifiers import KNearestNeighbor``.

The package re-exports lazily: a name's module is imported only when the name
is first used, so importing one classifier never runs the code of the others
(an unfinished or broken module costs only its own exercises).
``TwoLayerNet`` is the modular network of ``fc_net``; the 2016-2019
monolithic one is imported from ``course_utils.classifiers.neural_net``.
"""
import importlib

_EXPORTS = {  # name -> module of this package that defines it
    "KNearestNeighbor": "k_nearest_neighbor",
    "LinearClassifier": "linear_classifier",
    "LinearSVM": "linear_classifier",
    "Softmax": "linear_classifier",
    "svm_loss_naive": "linear_svm",
    "svm_loss_vectorized": "linear_svm",
    "softmax_loss_naive": "softmax",
    "softmax_loss_vectorized": "softmax",
    "TwoLayerNet": "fc_net",
    "FullyConnectedNet": "fc_net",
    "ThreeLayerConvNet": "cnn",
    "CaptioningRNN": "rnn",
}
__all__ = list(_EXPORTS)


def __getattr__(name):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS))
