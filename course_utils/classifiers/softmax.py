"""Softmax (cross-entropy) loss for a linear classifier, naive and vectorised.

For scores s = x W the class probabilities are p_j = exp(s_j) / sum_k exp(s_k)
and the loss of one example is -log p_y. Subtracting max_k s_k from every score
leaves p unchanged and keeps exp from overflowing. The loss and gradient must stay
finite for any finite scores (a separate stability check uses scores of 1000), so take
log p_y = s_y - max - log(sum(exp(s - max))) rather than the log of a probability that
can underflow to 0.
"""
import numpy as np

from course_utils.classifiers.linear_svm import check_loss_inputs


def softmax_loss_naive(W, X, y, reg):
    """Softmax loss and gradient, with explicit loops.

    W: (D, C) weights; X: (N, D) minibatch; y: (N,) labels in [0, C);
    reg: regularisation strength.
    Returns (loss, dW): a float and the gradient with W's shape.
    """
    check_loss_inputs(W, X, y, reg)
    loss = 0.0
    dW = np.zeros_like(W)
    # TODO: loop over the examples. For each, compute its scores, shift them by
    # their maximum (numerical stability), turn them into probabilities and add
    # -log(probability of the correct class) to the loss. The gradient of that
    # term with respect to column j of W is (p_j - [j == y]) * x: add it with a
    # loop over the classes. Average over the examples, then add the
    # regularisation reg * sum(W * W) and its gradient 2 * reg * W.
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    num_train = X.shape[0]
    num_classes = W.shape[1]
    for i in range(num_train):
        scores = X[i] @ W
        scores = scores - np.max(scores)
        exp_scores = np.exp(scores)
        total = np.sum(exp_scores)
        loss += np.log(total) - scores[y[i]]
        for j in range(num_classes):
            p_j = exp_scores[j] / total
            dW[:, j] += (p_j - (j == y[i])) * X[i]
    loss /= num_train
    dW /= num_train
    loss += reg * np.sum(W * W)
    dW += 2 * reg * W
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return loss, dW


def softmax_loss_vectorized(W, X, y, reg):
    """Softmax loss and gradient without loops.

    Same inputs and outputs as softmax_loss_naive.
    """
    check_loss_inputs(W, X, y, reg)
    loss = 0.0
    dW = np.zeros_like(W)
    # TODO: same quantities as the naive version, computed on the whole batch
    # at once: an (N, C) score matrix shifted row by row, the (N, C)
    # probabilities, the mean of -log p_y, and dW = X.T @ (P - Y) / N where Y
    # is the one-hot matrix of the labels. Add the regularisation as before.
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    num_train = X.shape[0]
    rows = np.arange(num_train)
    scores = X @ W
    scores -= np.max(scores, axis=1, keepdims=True)
    log_norm = np.log(np.sum(np.exp(scores), axis=1))
    loss = np.mean(log_norm - scores[rows, y]) + reg * np.sum(W * W)
    probs = np.exp(scores - log_norm[:, None])
    probs[rows, y] -= 1.0
    dW = X.T @ probs / num_train + 2 * reg * W
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return loss, dW
