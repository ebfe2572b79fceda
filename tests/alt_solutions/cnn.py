"""Second solutions of course_utils/classifiers/cnn.py (see tests/alt_kit.py).

Weights from np.random.normal (global state, the seed is not used); the forward pass
through the separate fast layers (conv, relu, pool, affine, relu, affine) with a dict of
caches, not the sandwich layers.
"""
MODULE = "course_utils/classifiers/cnn.py"

BODIES = {
    "ThreeLayerConvNet.__init__": """
        F, k = self.num_filters, self.filter_size
        self.params["W1"] = np.random.normal(0.0, weight_scale, (F, C, k, k))
        self.params["W2"] = np.random.normal(0.0, weight_scale, (self.pooled_dim, self.hidden_dim))
        self.params["W3"] = np.random.normal(0.0, weight_scale, (self.hidden_dim, self.num_classes))
        for name, size in (("b1", F), ("b2", self.hidden_dim), ("b3", self.num_classes)):
            self.params[name] = np.zeros(size)
    """,
    ("ThreeLayerConvNet.loss", 0): """
        p = self.params
        caches = {}
        a, caches["conv"] = conv_forward_fast(X, p["W1"], p["b1"], self.conv_param)
        a, caches["relu1"] = relu_forward(a)
        a, caches["pool"] = max_pool_forward_fast(a, self.pool_param)
        a, caches["fc1"] = affine_forward(a, p["W2"], p["b2"])
        a, caches["relu2"] = relu_forward(a)
        scores, caches["fc2"] = affine_forward(a, p["W3"], p["b3"])
    """,
    ("ThreeLayerConvNet.loss", 1): """
        p = self.params
        data_loss, d = softmax_loss(scores, y)
        loss = data_loss + 0.5 * self.reg * (np.sum(p["W1"] ** 2) + np.sum(p["W2"] ** 2) + np.sum(p["W3"] ** 2))
        d, grads["W3"], grads["b3"] = affine_backward(d, caches["fc2"])
        d = relu_backward(d, caches["relu2"])
        d, grads["W2"], grads["b2"] = affine_backward(d, caches["fc1"])
        d = max_pool_backward_fast(d, caches["pool"])
        d = relu_backward(d, caches["relu1"])
        d, grads["W1"], grads["b1"] = conv_backward_fast(d, caches["conv"])
        for name in ("W1", "W2", "W3"):
            grads[name] = grads[name] + self.reg * p[name]
    """,
}
