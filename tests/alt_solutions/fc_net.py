"""Second solutions of course_utils/classifiers/fc_net.py (see tests/alt_kit.py).

Weights from the global np.random (np.random.normal / np.random.randn, the seed is not
used); TwoLayerNet computed directly with numpy (no layer functions, probabilities-then-
log softmax); FullyConnectedNet with a dict of caches keyed by layer and the simplified
batch-norm backward.
"""
MODULE = "course_utils/classifiers/fc_net.py"

BODIES = {
    "TwoLayerNet.__init__": """
        self.params = {
            "W1": np.random.normal(0.0, weight_scale, (self.input_dim, self.hidden_dim)),
            "W2": weight_scale * np.random.randn(self.hidden_dim, self.num_classes),
            "b1": np.zeros(self.hidden_dim),
            "b2": np.zeros(self.num_classes),
        }
    """,
    ("TwoLayerNet.loss", 0): """
        flat = X.reshape(X.shape[0], -1)
        pre = flat.dot(self.params["W1"]) + self.params["b1"]
        hidden = np.maximum(0, pre)
        scores = hidden.dot(self.params["W2"]) + self.params["b2"]
    """,
    ("TwoLayerNet.loss", 1): """
        N = X.shape[0]
        W1, W2 = self.params["W1"], self.params["W2"]
        shifted = scores - scores.max(axis=1, keepdims=True)
        probs = np.exp(shifted)
        probs /= probs.sum(axis=1, keepdims=True)
        loss = -np.mean(np.log(probs[np.arange(N), y]))
        loss += 0.5 * self.reg * (np.sum(W1 ** 2) + np.sum(W2 ** 2))
        dscores = probs.copy()
        dscores[np.arange(N), y] -= 1
        dscores /= N
        grads["W2"] = hidden.T.dot(dscores) + self.reg * W2
        grads["b2"] = dscores.sum(axis=0)
        dpre = dscores.dot(W2.T) * (pre > 0)
        grads["W1"] = flat.T.dot(dpre) + self.reg * W1
        grads["b1"] = dpre.sum(axis=0)
    """,
    "FullyConnectedNet.__init__": """
        sizes = [self.input_dim] + list(self.hidden_dims) + [self.num_classes]
        for layer, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
            self.params["W%d" % layer] = np.random.randn(n_in, n_out) * weight_scale
            self.params["b%d" % layer] = np.zeros(n_out)
        if self.normalization in ("batchnorm", "layernorm"):
            for layer in range(1, self.num_layers):
                self.params["gamma%d" % layer] = np.ones(sizes[layer])
                self.params["beta%d" % layer] = np.zeros(sizes[layer])
    """,
    ("FullyConnectedNet.loss", 0): """
        cache = {}
        h = X
        for l in range(1, self.num_layers):
            h, cache["affine", l] = affine_forward(h, self.params["W%d" % l], self.params["b%d" % l])
            if self.normalization == "batchnorm":
                h, cache["norm", l] = batchnorm_forward(
                    h, self.params["gamma%d" % l], self.params["beta%d" % l], self.bn_params[l - 1])
            elif self.normalization == "layernorm":
                h, cache["norm", l] = layernorm_forward(
                    h, self.params["gamma%d" % l], self.params["beta%d" % l], self.bn_params[l - 1])
            h, cache["relu", l] = relu_forward(h)
            if self.use_dropout:
                h, cache["dropout", l] = dropout_forward(h, self.dropout_param)
        last = self.num_layers
        scores, cache["affine", last] = affine_forward(h, self.params["W%d" % last], self.params["b%d" % last])
    """,
    ("FullyConnectedNet.loss", 1): """
        last = self.num_layers
        loss, dh = softmax_loss(scores, y)
        loss += 0.5 * self.reg * sum(np.sum(self.params["W%d" % l] ** 2) for l in range(1, last + 1))
        dh, dW, grads["b%d" % last] = affine_backward(dh, cache["affine", last])
        grads["W%d" % last] = dW + self.reg * self.params["W%d" % last]
        for l in range(last - 1, 0, -1):
            if self.use_dropout:
                dh = dropout_backward(dh, cache["dropout", l])
            dh = relu_backward(dh, cache["relu", l])
            if self.normalization == "batchnorm":
                dh, grads["gamma%d" % l], grads["beta%d" % l] = batchnorm_backward_alt(dh, cache["norm", l])
            elif self.normalization == "layernorm":
                dh, grads["gamma%d" % l], grads["beta%d" % l] = layernorm_backward(dh, cache["norm", l])
            dh, dW, grads["b%d" % l] = affine_backward(dh, cache["affine", l])
            grads["W%d" % l] = dW + self.reg * self.params["W%d" % l]
    """,
}
