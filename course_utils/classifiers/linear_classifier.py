"""Linear classifiers (scores = X @ W) trained by minibatch stochastic gradient descent.

``LinearClassifier`` holds the training loop and prediction; its subclasses
``LinearSVM`` and ``Softmax`` only choose the loss.
"""
import numbers

import numpy as np

from course_utils.checks import check_array, check_labels, check_positive_int, implemented
from course_utils.classifiers.linear_svm import svm_loss_vectorized
from course_utils.classifiers.softmax import softmax_loss_vectorized


class LinearClassifier:
    """Base class: weights W of shape (D, C), created on the first ``train`` call."""

    def __init__(self):
        self.W = None

    def train(self, X, y, learning_rate=1e-3, reg=1e-5, num_iters=100, batch_size=200,
              verbose=False, seed=None):
        """Minimise the loss with stochastic gradient descent.

        X: (N, D) float training data; y: (N,) labels in [0, C).
        learning_rate: step size; reg: regularisation strength;
        num_iters: number of steps; batch_size: examples per step, drawn with
        replacement; verbose: print the loss every 100 steps;
        seed: seed for np.random.default_rng (weight initialisation and sampling).
        On the first call W is initialised to 0.001 * standard normal (D, C),
        C = max(y) + 1; later calls continue from the current W.
        Returns the list of minibatch losses, one per step.
        """
        check_array(X, "X", ndim=2, floating=True)
        num_train, dim = X.shape
        if num_train == 0:
            raise ValueError(f"X must contain at least one example, got shape {X.shape}")
        num_classes = None if self.W is None else self.W.shape[1]
        check_labels(y, "y", num_train, num_classes=num_classes)
        if y.min() < 0:
            raise ValueError(f"y must hold non-negative class labels, got minimum {y.min()}")
        for value, name in ((learning_rate, "learning_rate"), (reg, "reg")):
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value >= 0:
                raise ValueError(f"{name} must be a non-negative number, got {value!r}")
        num_iters = check_positive_int(num_iters, "num_iters", minimum=0)
        batch_size = check_positive_int(batch_size, "batch_size")

        rng = np.random.default_rng(seed)
        if self.W is None:
            self.W = 0.001 * rng.standard_normal((dim, int(y.max()) + 1))
        elif self.W.shape[0] != dim:
            raise ValueError(
                f"X must have shape (N, {self.W.shape[0]}) to match the trained weights, got {X.shape}"
            )

        loss_history = []
        for it in range(num_iters):
            X_batch = None
            y_batch = None
            # TODO: draw batch_size training examples with replacement: take
            # their indices from rng.choice(num_train, batch_size, replace=True)
            # and store the rows of X in X_batch (batch_size, D) and the
            # matching labels in y_batch (batch_size,).
            # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
            idx = rng.choice(num_train, batch_size, replace=True)
            X_batch = X[idx]
            y_batch = y[idx]
            # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
            X_batch = implemented(X_batch, "minibatch sampling in LinearClassifier.train")

            loss, grad = self.loss(X_batch, y_batch, reg)
            loss_history.append(float(loss))

            # TODO: take one gradient-descent step: move self.W against the
            # gradient, scaled by the learning rate.
            # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
            self.W -= learning_rate * grad
            # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****

            if verbose and it % 100 == 0:
                print(f"iteration {it} / {num_iters}: loss {loss:f}")
        return loss_history

    def predict(self, X):
        """Predicted labels for X: (N, D) float data; returns (N,) integer labels."""
        if self.W is None:
            raise ValueError("the classifier has no weights yet: call train(X, y) before predict")
        check_array(X, "X", shape=(None, self.W.shape[0]), floating=True)
        y_pred = None
        # TODO: score every example with the weights and predict the class with
        # the highest score.
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        y_pred = np.argmax(X @ self.W, axis=1)
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        return implemented(y_pred, "LinearClassifier.predict")

    def loss(self, X_batch, y_batch, reg):
        """Loss and gradient on a minibatch: returns (loss, dW), dW shaped like W.

        X_batch: (N, D); y_batch: (N,); reg: regularisation strength.
        Subclasses choose the loss.
        """
        raise NotImplementedError(
            "LinearClassifier is a base class: use LinearSVM or Softmax, which define loss()"
        )


class LinearSVM(LinearClassifier):
    """Linear classifier with the multiclass SVM (hinge) loss."""

    def loss(self, X_batch, y_batch, reg):
        return svm_loss_vectorized(self.W, X_batch, y_batch, reg)


class Softmax(LinearClassifier):
    """Linear classifier with the softmax (cross-entropy) loss."""

    def loss(self, X_batch, y_batch, reg):
        return softmax_loss_vectorized(self.W, X_batch, y_batch, reg)
