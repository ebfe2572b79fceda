"""Second solutions of course_utils/classifiers/linear_svm.py (see tests/alt_kit.py).

Naive: the correct-class column gets (number of positive margins) * x once per example;
vectorised: the classic CS231n formulation with np.maximum and a count matrix.
"""
MODULE = "course_utils/classifiers/linear_svm.py"

BODIES = {
    "svm_loss_naive": """
        N, C = X.shape[0], W.shape[1]
        for n in range(N):
            s = X[n].dot(W)
            positive = 0
            for c in range(C):
                if c == y[n]:
                    continue
                m = s[c] - s[y[n]] + 1
                if m > 0:
                    loss += m
                    dW[:, c] += X[n]
                    positive += 1
            dW[:, y[n]] -= positive * X[n]
        loss = loss / N + reg * np.sum(W ** 2)
        dW = dW / N + 2 * reg * W
    """,
    "svm_loss_vectorized": """
        N = X.shape[0]
        idx = np.arange(N)
        S = X.dot(W)
        M = np.maximum(0, S - S[idx, y].reshape(-1, 1) + 1)
        M[idx, y] = 0
        loss = M.sum() / N + reg * (W ** 2).sum()
        G = (M > 0).astype(X.dtype)
        G[idx, y] = -G.sum(axis=1)
        dW = X.T.dot(G) / N + 2 * reg * W
    """,
}
