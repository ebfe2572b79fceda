"""Second solutions of course_utils/layers.py (see tests/alt_kit.py).

Other choices than the reference: loops for the SVM loss layer, probabilities-then-log
softmax, normalisation layers that compute their statistics themselves and keep dict
caches (inverse standard deviations, not standard deviations), the staged batch-norm
graph, a boolean dropout mask from the global np.random (np.random.seed for a seed),
convolution by tensordot per output position, pooling with four loops and
np.unravel_index, spatial batch norm through np.moveaxis and the graph backward, group
norm in a five-dimensional view.
"""
MODULE = "course_utils/layers.py"

BODIES = {
    "affine_forward": """
        out = np.dot(x.reshape(-1, D), w) + b
    """,
    "affine_backward": """
        N = x.shape[0]
        db = np.sum(dout, axis=0)
        dw = np.dot(x.reshape(N, -1).T, dout)
        dx = np.dot(dout, w.T).reshape(*x.shape)
    """,
    "relu_forward": """
        out = x.copy()
        out[out < 0] = 0
    """,
    "relu_backward": """
        dx = np.where(x > 0, dout, 0.0)
    """,
    "svm_loss": """
        N, C = x.shape
        dx = np.zeros_like(x)
        total = 0.0
        for n in range(N):
            correct = x[n, y[n]]
            for c in range(C):
                if c == y[n]:
                    continue
                margin = x[n, c] - correct + 1.0
                if margin > 0:
                    total += margin
                    dx[n, c] += 1.0
                    dx[n, y[n]] -= 1.0
        loss = float(total) / N
        dx /= N
    """,
    "softmax_loss": """
        N = x.shape[0]
        e = np.exp(x - np.max(x, axis=1, keepdims=True))
        probs = e / np.sum(e, axis=1, keepdims=True)
        loss = -np.sum(np.log(probs[np.arange(N), y])) / N
        dx = probs.copy()
        dx[np.arange(N), y] -= 1.0
        dx = dx / N
    """,
    "_standardize": """
        count = x.shape[axis]
        mean = x.sum(axis=axis, keepdims=True) / count
        var = ((x - mean) ** 2).sum(axis=axis, keepdims=True) / count
        xhat = (x - mean) / np.sqrt(var + eps)
    """,
    "_standardize_backward": """
        n = dxhat.shape[axis]
        dx = (n * dxhat - dxhat.sum(axis=axis, keepdims=True)
              - xhat * (dxhat * xhat).sum(axis=axis, keepdims=True)) / (n * std)
    """,
    "batchnorm_forward": """
        if mode == "train":
            mu = np.mean(x, axis=0)
            xc = x - mu
            var = np.mean(xc ** 2, axis=0)
            inv_std = 1.0 / np.sqrt(var + eps)
            xn = xc * inv_std
            running_mean *= momentum
            running_mean += (1 - momentum) * mu
            running_var *= momentum
            running_var += (1 - momentum) * var
            cache = {"mode": mode, "xn": xn, "xc": xc, "inv_std": inv_std, "gamma": gamma}
        else:
            inv_std = 1.0 / np.sqrt(running_var + eps)
            xn = (x - running_mean) * inv_std
            cache = {"mode": mode, "xn": xn, "inv_std": inv_std, "gamma": gamma}
        out = xn * gamma + beta
    """,
    "batchnorm_backward": """
        c = cache
        dbeta = np.sum(dout, axis=0)
        dgamma = np.sum(dout * c["xn"], axis=0)
        dxn = dout * c["gamma"]
        if c["mode"] == "train":
            N = dout.shape[0]
            xc, inv_std = c["xc"], c["inv_std"]
            dinv = np.sum(dxn * xc, axis=0)        # xn = xc * inv_std
            dxc = dxn * inv_std
            dsqrt = -dinv * inv_std ** 2           # inv_std = 1 / sqrtvar
            dvar = 0.5 * inv_std * dsqrt           # sqrtvar = sqrt(var + eps)
            dsq = np.ones_like(xc) * dvar / N      # var = mean(xc ** 2)
            dxc = dxc + 2 * xc * dsq
            dmu = -np.sum(dxc, axis=0)             # xc = x - mu
            dx = dxc + np.ones_like(xc) * dmu / N  # mu = mean(x)
        else:
            dx = dxn * c["inv_std"]
    """,
    "batchnorm_backward_alt": """
        xn, inv_std = cache["xn"], cache["inv_std"]
        dbeta = dout.sum(axis=0)
        dgamma = (dout * xn).sum(axis=0)
        dxn = dout * cache["gamma"]
        if cache["mode"] == "train":
            N = dout.shape[0]
            dx = inv_std / N * (N * dxn - dxn.sum(axis=0) - xn * (dxn * xn).sum(axis=0))
        else:
            dx = dxn * inv_std
    """,
    "layernorm_forward": """
        mu = x.mean(axis=1, keepdims=True)
        sigma = np.sqrt(x.var(axis=1, keepdims=True) + eps)
        xn = (x - mu) / sigma
        out = xn * gamma + beta
        cache = {"xn": xn, "sigma": sigma, "gamma": gamma}
    """,
    "layernorm_backward": """
        xn, sigma = cache["xn"], cache["sigma"]
        D = dout.shape[1]
        dgamma = np.sum(dout * xn, axis=0)
        dbeta = np.sum(dout, axis=0)
        dxn = dout * cache["gamma"]
        dx = (D * dxn - dxn.sum(axis=1, keepdims=True)
              - xn * (dxn * xn).sum(axis=1, keepdims=True)) / (D * sigma)
    """,
    "dropout_forward": """
        if mode == "train":
            if seed is not None:
                np.random.seed(seed)
            mask = np.random.rand(*x.shape) < p      # kept units; scaled when applied
            out = x * mask / p
        else:
            out = x
    """,
    "dropout_backward": """
        if dropout_param["mode"] == "train":
            dx = dout * mask / float(dropout_param["p"])
        else:
            dx = dout
    """,
    "conv_forward_naive": """
        N, C, H, W = x.shape
        F, _, HH, WW = w.shape
        padded = np.pad(x, [(0, 0), (0, 0), (pad, pad), (pad, pad)], mode="constant")
        out = np.zeros((N, F, H_out, W_out), dtype=np.result_type(x, w, b))
        for i in range(H_out):
            for j in range(W_out):
                r, s = i * stride, j * stride
                patch = padded[:, :, r:r + HH, s:s + WW]
                out[:, :, i, j] = np.tensordot(patch, w, axes=([1, 2, 3], [1, 2, 3])) + b
    """,
    "conv_backward_naive": """
        N, C, H, W = x.shape
        F, _, HH, WW = w.shape
        padded = np.pad(x, [(0, 0), (0, 0), (pad, pad), (pad, pad)], mode="constant")
        dpadded = np.zeros(padded.shape, dtype=np.result_type(dout, w))
        dw = np.zeros(w.shape, dtype=np.result_type(dout, x))
        db = np.zeros(F, dtype=dout.dtype)
        for i in range(H_out):
            for j in range(W_out):
                r, s = i * stride, j * stride
                g = dout[:, :, i, j]                                   # (N, F)
                dw += np.tensordot(g, padded[:, :, r:r + HH, s:s + WW], axes=([0], [0]))
                dpadded[:, :, r:r + HH, s:s + WW] += np.tensordot(g, w, axes=([1], [0]))
                db += g.sum(axis=0)
        dx = dpadded[:, :, pad:pad + H, pad:pad + W]
    """,
    "max_pool_forward_naive": """
        N, C, H, W = x.shape
        out = np.zeros((N, C, H_out, W_out), dtype=x.dtype)
        for n in range(N):
            for c in range(C):
                for i in range(H_out):
                    for j in range(W_out):
                        r, s = i * stride, j * stride
                        out[n, c, i, j] = np.max(x[n, c, r:r + ph, s:s + pw])
    """,
    "max_pool_backward_naive": """
        N, C, H, W = x.shape
        dx = np.zeros_like(x)
        for n in range(N):
            for c in range(C):
                for i in range(H_out):
                    for j in range(W_out):
                        r, s = i * stride, j * stride
                        window = x[n, c, r:r + ph, s:s + pw]
                        u, v = np.unravel_index(np.argmax(window), window.shape)
                        dx[n, c, r + u, s + v] += dout[n, c, i, j]
    """,
    "spatial_batchnorm_forward": """
        N, C, H, W = x.shape
        flat = np.moveaxis(x, 1, -1).reshape(-1, C)
        flat_out, bn_cache = batchnorm_forward(flat, gamma, beta, bn_param)
        out = np.moveaxis(flat_out.reshape(N, H, W, C), -1, 1)
        cache = (bn_cache, (N, C, H, W))
    """,
    "spatial_batchnorm_backward": """
        bn_cache, (N, C, H, W) = cache
        flat = np.moveaxis(dout, 1, -1).reshape(-1, C)
        dflat, dgamma, dbeta = batchnorm_backward(flat, bn_cache)
        dx = np.moveaxis(dflat.reshape(N, H, W, C), -1, 1)
    """,
    "spatial_groupnorm_forward": """
        N, C, H, W = x.shape
        grouped = x.reshape(N, G, C // G, H, W)
        mu = grouped.mean(axis=(2, 3, 4), keepdims=True)
        var = grouped.var(axis=(2, 3, 4), keepdims=True)
        inv = 1.0 / np.sqrt(var + eps)
        xn = ((grouped - mu) * inv).reshape(N, C, H, W)
        out = xn * gamma + beta
        cache = {"G": G, "xn": xn, "inv": inv.reshape(N, G, 1), "gamma": gamma}
    """,
    "spatial_groupnorm_backward": """
        G, xn, inv = cache["G"], cache["xn"], cache["inv"]
        N, C, H, W = dout.shape
        dbeta = dout.sum(axis=(0, 2, 3)).reshape(1, C, 1, 1)
        dgamma = (dout * xn).sum(axis=(0, 2, 3)).reshape(1, C, 1, 1)
        dxn = (dout * cache["gamma"]).reshape(N, G, -1)
        xg = xn.reshape(N, G, -1)
        M = dxn.shape[2]
        dx = inv / M * (M * dxn - dxn.sum(axis=2, keepdims=True)
                        - xg * (dxn * xg).sum(axis=2, keepdims=True))
        dx = dx.reshape(N, C, H, W)
    """,
}
