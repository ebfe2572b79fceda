"""The two-layer network of CS231n's 2016-2019 assignment 1, in one class (optional exercise).

Unlike the modular ``fc_net.TwoLayerNet`` (assembled from ``course_utils.layers``
and trained by the Solver), this network writes out its own forward and
backward pass in ``loss`` and has its own gradient descent loop in ``train``.
It keeps the conventions of CS231n's 2017-2019 ``neural_net.py``, so existing
notebooks and answer keys carry over:

- input (D) - fully connected - ReLU - fully connected - softmax over C classes;
- parameters W1 (D, H), b1 (H,), W2 (H, C), b2 (C,); the weights start as
  ``std`` times standard normal draws, the biases at zero;
- loss = mean over the N examples of the softmax cross-entropy
  + ``reg * (sum(W1 * W1) + sum(W2 * W2))``: no factor 0.5 (the modular
  networks use ``0.5 * reg``), biases not regularised, so the regularisation
  gradient of a weight matrix W is ``2 * reg * W``;
- ``reg`` is an argument of ``loss`` and ``train``, not an attribute of the network.
"""
import numpy as np

from course_utils.checks import (
    check_array,
    check_labels,
    check_nonnegative,
    check_positive_int,
    implemented,
)


def _random_source(seed):
    """``np.random`` itself (NumPy's global state) for seed None, else ``np.random.default_rng(seed)``.

    Both offer ``standard_normal(shape)`` and ``choice(n, size)``.
    """
    return np.random if seed is None else np.random.default_rng(seed)


class TwoLayerNet:
    """A two-layer fully connected network with a ReLU and a softmax loss.

    input_size: D, values per example; hidden_size: H; output_size: C, classes.
    std: standard deviation of the initial weights.
    seed: None draws the initial weights from NumPy's global random state, as
    CS231n did (``np.random.seed(0)`` right before construction reproduces its
    toy example); an int or a ``np.random.Generator`` uses
    ``np.random.default_rng(seed)`` instead. W1 is drawn before W2.
    Parameters (self.params): W1 (D, H), b1 (H,), W2 (H, C), b2 (C,), float64.
    """

    def __init__(self, input_size, hidden_size, output_size, std=1e-4, seed=None):
        D = check_positive_int(input_size, "input_size")
        H = check_positive_int(hidden_size, "hidden_size")
        C = check_positive_int(output_size, "output_size")
        std = check_nonnegative(std, "std")
        rng = _random_source(seed)
        self.params = {
            "W1": std * rng.standard_normal((D, H)),
            "b1": np.zeros(H),
            "W2": std * rng.standard_normal((H, C)),
            "b2": np.zeros(C),
        }

    def _check_data(self, X, y, X_name="X", y_name="y"):
        D, C = self.params["W1"].shape[0], self.params["W2"].shape[1]
        check_array(X, X_name, ndim=2, shape=(None, D), floating=True)
        if y is not None:
            check_labels(y, y_name, X.shape[0], num_classes=C)

    def loss(self, X, y=None, reg=0.0):
        """Class scores, or the loss and its gradients, for a minibatch.

        X: (N, D) float inputs. y: (N,) integer labels in [0, C), or None.
        reg: regularisation strength (loss term ``reg * sum(W * W)`` per weight matrix).
        Returns scores (N, C) when y is None; otherwise (loss, grads) with loss
        a float and grads a dict with the gradients of W1, b1, W2, b2 (each
        shaped like its parameter).
        """
        self._check_data(X, y)
        reg = check_nonnegative(reg, "reg")
        W1, b1 = self.params["W1"], self.params["b1"]
        W2, b2 = self.params["W2"], self.params["b2"]
        N = X.shape[0]

        scores = None
        # TODO: forward pass: hidden = ReLU(X @ W1 + b1) of shape (N, H), then
        # the class scores hidden @ W2 + b2 of shape (N, C). No softmax here.
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        hidden = np.maximum(0, X @ W1 + b1)
        scores = hidden @ W2 + b2
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        scores = implemented(scores, "TwoLayerNet.loss (forward pass)")
        if y is None:
            return scores

        loss, grads = 0.0, {}
        # TODO: the loss is the mean over the N examples of -log(softmax
        # probability of the correct class) plus reg * (sum(W1 * W1) + sum(W2 * W2)).
        # Shift each row of scores by its maximum before exponentiating. Then
        # backpropagate by hand through the second layer, the ReLU and the first
        # layer, and store the gradients in grads["W1"], grads["b1"], grads["W2"],
        # grads["b2"]; each weight gradient gets 2 * reg * W from the regularisation.
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        rows = np.arange(N)
        shifted = scores - scores.max(axis=1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        loss = float(-log_probs[rows, y].mean() + reg * (np.sum(W1 * W1) + np.sum(W2 * W2)))
        dscores = np.exp(log_probs)
        dscores[rows, y] -= 1
        dscores /= N
        grads["W2"] = hidden.T @ dscores + 2 * reg * W2
        grads["b2"] = dscores.sum(axis=0)
        dhidden = (dscores @ W2.T) * (hidden > 0)
        grads["W1"] = X.T @ dhidden + 2 * reg * W1
        grads["b1"] = dhidden.sum(axis=0)
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        return loss, grads

    def train(self, X, y, X_val, y_val, learning_rate=1e-3, learning_rate_decay=0.95,
              reg=5e-6, num_iters=100, batch_size=200, verbose=False, seed=None):
        """Stochastic gradient descent on minibatches.

        X: (N, D) training inputs, y: (N,) their labels; X_val: (N_val, D) and
        y_val: (N_val,) validation data.
        learning_rate: step size; learning_rate_decay: factor applied to it once per epoch.
        reg: regularisation strength handed to ``loss``.
        num_iters: number of steps; batch_size: examples per step, drawn with replacement.
        verbose: print the loss every 100 steps.
        seed: a random source for the minibatches (``rng``): None = NumPy's
        global state (``np.random``), else ``np.random.default_rng(seed)``.
        Any other source (e.g. ``np.random.choice``) is fine too.

        An epoch is E = max(1, N // batch_size) steps. After each step whose
        index is a multiple of E (step 0 included) the method records the
        accuracy on that step's minibatch and on the whole validation set, then
        multiplies the learning rate by learning_rate_decay.
        Returns a dict: loss_history (one float per step), train_acc_history
        and val_acc_history (one float per epoch).
        """
        self._check_data(X, y)
        self._check_data(X_val, y_val, "X_val", "y_val")
        learning_rate = check_nonnegative(learning_rate, "learning_rate")
        learning_rate_decay = check_nonnegative(learning_rate_decay, "learning_rate_decay")
        num_iters = check_positive_int(num_iters, "num_iters", minimum=0)
        batch_size = check_positive_int(batch_size, "batch_size")
        num_train = X.shape[0]
        if num_train == 0:
            raise ValueError(f"X must contain at least one example, got shape {X.shape}")
        rng = _random_source(seed)
        iterations_per_epoch = max(1, num_train // batch_size)

        loss_history, train_acc_history, val_acc_history = [], [], []
        for it in range(num_iters):
            X_batch, y_batch = None, None
            # TODO: draw batch_size indices in [0, num_train) with replacement
            # (e.g. rng.choice(num_train, batch_size)) and take those rows of X
            # and y as X_batch (batch_size, D) and y_batch (batch_size,).
            # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
            idx = rng.choice(num_train, batch_size)
            X_batch, y_batch = X[idx], y[idx]
            # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
            X_batch = implemented(X_batch, "TwoLayerNet.train (minibatch)")

            loss, grads = self.loss(X_batch, y=y_batch, reg=reg)
            loss_history.append(loss)
            # TODO: one gradient descent step: move every parameter of
            # self.params against its gradient in grads, scaled by learning_rate.
            # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
            for name, grad in grads.items():
                self.params[name] -= learning_rate * grad
            # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****

            if verbose and it % 100 == 0:
                print(f"iteration {it} / {num_iters}: loss {loss:f}")
            if it % iterations_per_epoch == 0:
                train_acc_history.append(float(np.mean(self.predict(X_batch) == y_batch)))
                val_acc_history.append(float(np.mean(self.predict(X_val) == y_val)))
                learning_rate *= learning_rate_decay

        return {
            "loss_history": loss_history,
            "train_acc_history": train_acc_history,
            "val_acc_history": val_acc_history,
        }

    def predict(self, X):
        """Predicted labels: for X (N, D), an int array (N,) of the highest-scoring classes."""
        self._check_data(X, None)
        y_pred = None
        # TODO: compute the class scores (self.loss(X) returns them) and take
        # the index of the largest score of each row.
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        y_pred = np.argmax(self.loss(X), axis=1)
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        return implemented(y_pred, "TwoLayerNet.predict")
