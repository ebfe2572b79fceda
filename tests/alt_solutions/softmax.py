"""Second solutions of course_utils/classifiers/softmax.py (see tests/alt_kit.py).

Probabilities first, then their log (after the max shift), an outer product per example
in the naive version and a one-hot matrix in the vectorised one.
"""
MODULE = "course_utils/classifiers/softmax.py"

BODIES = {
    "softmax_loss_naive": """
        N, C = X.shape[0], W.shape[1]
        for n in range(N):
            f = X[n].dot(W)
            f = f - f.max()
            p = np.exp(f) / np.sum(np.exp(f))
            loss -= np.log(p[y[n]])
            target = np.zeros(C)
            target[y[n]] = 1.0
            dW += np.outer(X[n], p - target)
        loss = loss / N + reg * np.sum(W ** 2)
        dW = dW / N + 2 * reg * W
    """,
    "softmax_loss_vectorized": """
        N = X.shape[0]
        S = X.dot(W)
        S = S - S.max(axis=1, keepdims=True)
        P = np.exp(S)
        P /= P.sum(axis=1, keepdims=True)
        loss = -np.log(P[np.arange(N), y]).sum() / N + reg * np.sum(W ** 2)
        Y = np.zeros_like(P)
        Y[np.arange(N), y] = 1.0
        dW = X.T.dot(P - Y) / N + 2 * reg * W
    """,
}
