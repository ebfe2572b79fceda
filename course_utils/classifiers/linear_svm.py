"""Multiclass SVM (hinge) loss for a linear classifier, naive and vectorised.

For scores s = x W and correct class y the loss of one example is
sum over j != y of max(0, s_j - s_y + 1); the data loss is its mean over the
batch and the regulariser adds reg * sum(W * W).
"""
import numbers

import numpy as np

from course_utils.checks import check_array, check_labels


def check_loss_inputs(W, X, y, reg):
    """Validate the arguments shared by the linear-classifier losses.

    W: (D, C) float weights; X: (N, D) float data, N >= 1; y: (N,) labels in
    [0, C); reg: a non-negative real number.
    """
    check_array(W, "W", ndim=2, floating=True)
    D, C = W.shape
    check_array(X, "X", shape=(None, D), floating=True)
    if X.shape[0] == 0:
        raise ValueError(f"X must contain at least one example, got shape {X.shape}")
    check_labels(y, "y", X.shape[0], num_classes=C)
    if isinstance(reg, bool) or not isinstance(reg, numbers.Real) or not reg >= 0:
        raise ValueError(f"reg must be a non-negative number, got {reg!r}")


def svm_loss_naive(W, X, y, reg):
    """Multiclass SVM loss and gradient, with explicit loops.

    W: (D, C) weights; X: (N, D) minibatch; y: (N,) labels in [0, C);
    reg: regularisation strength.
    Returns (loss, dW): a float and the gradient with W's shape.
    """
    check_loss_inputs(W, X, y, reg)
    loss = 0.0
    dW = np.zeros_like(W)
    # TODO: loop over the examples and, inside, over the classes. Add up the
    # positive margins s_j - s_y + 1 (j != y) and, at the same time, their
    # gradient: each positive margin adds x to column j of dW and subtracts x
    # from column y. Average both over the examples, then add the
    # regularisation reg * sum(W * W) and its gradient 2 * reg * W.
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    num_train = X.shape[0]
    num_classes = W.shape[1]
    for i in range(num_train):
        scores = X[i] @ W
        correct_score = scores[y[i]]
        for j in range(num_classes):
            if j == y[i]:
                continue
            margin = scores[j] - correct_score + 1.0
            if margin > 0:
                loss += margin
                dW[:, j] += X[i]
                dW[:, y[i]] -= X[i]
    loss /= num_train
    dW /= num_train
    loss += reg * np.sum(W * W)
    dW += 2 * reg * W
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return loss, dW


def svm_loss_vectorized(W, X, y, reg):
    """Multiclass SVM loss and gradient without loops over examples.

    Same inputs and outputs as svm_loss_naive.
    """
    check_loss_inputs(W, X, y, reg)
    loss = 0.0
    dW = np.zeros_like(W)
    # TODO: compute all scores with one matrix product, then the (N, C) matrix
    # of margins with the correct-class entries set to zero; the loss follows
    # from its positive part. For the gradient, build an (N, C) matrix of
    # coefficients (1 where a margin is positive, minus the number of positive
    # margins in the correct-class column) and multiply by X.T.
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    num_train = X.shape[0]
    rows = np.arange(num_train)
    scores = X @ W
    margins = scores - scores[rows, y][:, None] + 1.0
    margins[rows, y] = 0.0
    positive = margins > 0
    loss = np.sum(margins[positive]) / num_train + reg * np.sum(W * W)
    coeff = positive.astype(W.dtype)
    coeff[rows, y] = -np.sum(positive, axis=1)
    dW = X.T @ coeff / num_train + 2 * reg * W
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return loss, dW
