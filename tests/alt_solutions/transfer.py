"""Second solutions of course_utils/transfer.py (see tests/alt_kit.py).

The codes fill a preallocated (N, D) array batch by batch in a while loop (the array made
once the first batch shows D); the transferred net gets its fresh W6 from another random
source (its own PCG64DXSM generator, ``normal(0, sqrt(2 / hidden_dim))``, cast to the dtype)
and a new params dict of explicit copies, b6 made here; the fine-tuning configs are one
deep copy per name, zipped into a dict, the frozen names' learning rates then scaled in
place; the filters by splitting W's rows as (C, HH, WW, M) and moving the output axis first
(a C-ordered copy); the score map with fc1 as a convolution (conv_forward_fast) and the
scores layer as a 1x1 convolution written as an einsum over the channels.
"""
MODULE = "course_utils/transfer.py"

BODIES = {
    "extract_features": """
        N = len(X)
        start = 0
        while start < N:
            stop = min(start + batch_size, N)
            codes = net.activations(X[start:stop], layer)
            rows = codes.reshape(stop - start, -1)
            if features is None:
                features = np.empty((N, rows.shape[1]), dtype=rows.dtype)
            features[start:stop] = rows
            start = stop
    """,
    "transfer_net": """
        C, H, W = pretrained.input_dim
        net = DeepConvNet(input_dim=(C, H, W), num_filters=tuple(pretrained.num_filters),
                          hidden_dim=pretrained.hidden_dim, num_classes=num_classes, reg=reg,
                          dtype=pretrained.dtype, mean=np.array(pretrained.mean, dtype=float),
                          std=np.array(pretrained.std, dtype=float))
        source = np.random.Generator(np.random.PCG64DXSM(seed))
        fresh = {
            "W6": source.normal(0.0, np.sqrt(2.0 / net.hidden_dim),
                                size=(net.hidden_dim, num_classes)).astype(net.dtype),
            "b6": np.zeros(num_classes, dtype=net.dtype),
        }
        params = {}
        for name in net.params:
            params[name] = fresh[name] if name in fresh else np.array(pretrained.params[name], copy=True)
        net.params = params
    """,
    "fine_tune_configs": """
        copies = [copy.deepcopy(optim_config) for _ in names]
        configs = dict(zip(names, copies))
        kept = set(new_params)
        for name, config in configs.items():
            if name in kept:
                continue
            config["learning_rate"] = config["learning_rate"] * pretrained_lr_scale
    """,
    "affine_to_conv": """
        M = W.shape[1]
        blocks = W.reshape(C, HH, WW, M)
        w = np.array(np.moveaxis(blocks, -1, 0), dtype=W.dtype, order="C")
        b_conv = np.array(b, dtype=np.asarray(b).dtype, copy=True)
    """,
    "fully_convolutional_scores": """
        trunk = conv_trunk(net, X)
        F2 = trunk.shape[1]
        fc_filters, fc_bias = affine_to_conv(net.params["W5"], net.params["b5"], (F2, H // 4, W // 4))
        fc_maps, _ = conv_forward_fast(trunk, fc_filters, fc_bias, {"stride": 1, "pad": 0})
        fc_maps = fc_maps * (fc_maps > 0)
        # the scores layer is a 1x1 convolution: at every position, the hidden vector times W6
        scores = np.einsum("nhij,hk->nkij", fc_maps, net.params["W6"]) + net.params["b6"][None, :, None, None]
    """,
}
