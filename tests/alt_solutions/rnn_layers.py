"""Second solutions of course_utils/rnn_layers.py (see tests/alt_kit.py).

Dict caches for the steps, other orders of the products, np.stack of per-step results,
the first step's gradients as the start of the sums, np.take and a Python loop for the
embedding, the three sigmoid gates computed in one call with the gate gradients written
into a preallocated array.
"""
MODULE = "course_utils/rnn_layers.py"

BODIES = {
    "rnn_step_forward": """
        pre = prev_h.dot(Wh) + x.dot(Wx) + b
        next_h = np.tanh(pre)
        cache = {"x": x, "h": prev_h, "Wx": Wx, "Wh": Wh, "out": next_h}
    """,
    "rnn_step_backward": """
        dpre = (1 - cache["out"] * cache["out"]) * dnext_h
        db = np.sum(dpre, axis=0)
        dWh = cache["h"].T.dot(dpre)
        dWx = cache["x"].T.dot(dpre)
        dprev_h = dpre.dot(cache["Wh"].T)
        dx = dpre.dot(cache["Wx"].T)
    """,
    "rnn_forward": """
        N, T, D = x.shape
        states, steps = [], []
        state = h0
        for t in range(T):
            state, step = rnn_step_forward(x[:, t], state, Wx, Wh, b)
            states.append(state)
            steps.append(step)
        h = np.stack(states, axis=1)
        cache = {"steps": steps, "D": D}
    """,
    "rnn_backward": """
        N, T, H = dh.shape
        steps = cache["steps"]
        dxs = [None] * T
        carry = np.zeros((N, H), dtype=dh.dtype)
        for t in range(T - 1, -1, -1):
            dxs[t], carry, gx, gh, gb = rnn_step_backward(dh[:, t] + carry, steps[t])
            if t == T - 1:
                dWx, dWh, db = gx, gh, gb
            else:
                dWx, dWh, db = dWx + gx, dWh + gh, db + gb
        dx = np.stack(dxs, axis=1)
        dh0 = carry
    """,
    "word_embedding_forward": """
        out = np.take(W, x, axis=0)
        cache = (x, W)
    """,
    "word_embedding_backward": """
        x, W = cache
        dW = np.zeros_like(W)
        rows = dout.reshape(-1, dout.shape[-1])
        for word, row in zip(x.reshape(-1), rows):
            dW[word] += row
    """,
    "lstm_step_forward": """
        H = prev_h.shape[1]
        a = np.dot(x, Wx) + np.dot(prev_h, Wh) + b
        ifo = sigmoid(a[:, :3 * H])
        g = np.tanh(a[:, 3 * H:])
        i, f, o = ifo[:, :H], ifo[:, H:2 * H], ifo[:, 2 * H:]
        next_c = i * g + f * prev_c
        next_h = o * np.tanh(next_c)
        cache = {"x": x, "h": prev_h, "c": prev_c, "Wx": Wx, "Wh": Wh, "ifo": ifo, "g": g, "next_c": next_c}
    """,
    "lstm_step_backward": """
        N, H = dnext_h.shape
        ifo, g = cache["ifo"], cache["g"]
        i, f, o = ifo[:, :H], ifo[:, H:2 * H], ifo[:, 2 * H:]
        tc = np.tanh(cache["next_c"])
        dc = dnext_c + dnext_h * o * (1 - tc * tc)
        dgates = np.empty((N, 4 * H), dtype=np.result_type(dnext_h, ifo))
        dgates[:, :H] = dc * g * i * (1 - i)
        dgates[:, H:2 * H] = dc * cache["c"] * f * (1 - f)
        dgates[:, 2 * H:3 * H] = dnext_h * tc * o * (1 - o)
        dgates[:, 3 * H:] = dc * i * (1 - g * g)
        dprev_c = f * dc
        dx = dgates.dot(cache["Wx"].T)
        dprev_h = dgates.dot(cache["Wh"].T)
        dWx = cache["x"].T.dot(dgates)
        dWh = cache["h"].T.dot(dgates)
        db = dgates.sum(axis=0)
    """,
    "lstm_forward": """
        N, T, D = x.shape
        H = h0.shape[1]
        h = np.zeros((N, T, H), dtype=np.result_type(x, h0, Wx, Wh, b))
        state, cell = h0, np.zeros((N, H), dtype=h0.dtype)
        steps = []
        for t in range(T):
            state, cell, step = lstm_step_forward(x[:, t, :], state, cell, Wx, Wh, b)
            h[:, t, :] = state
            steps.append(step)
        cache = (steps, D)
    """,
    "lstm_backward": """
        steps, D = cache
        N, T, H = dh.shape
        dx = np.zeros((N, T, D), dtype=dh.dtype)
        dWx = np.zeros((D, 4 * H), dtype=dh.dtype)
        dWh = np.zeros((H, 4 * H), dtype=dh.dtype)
        db = np.zeros(4 * H, dtype=dh.dtype)
        dstate = np.zeros((N, H), dtype=dh.dtype)
        dcell = np.zeros((N, H), dtype=dh.dtype)
        for t in reversed(range(T)):
            dx[:, t, :], dstate, dcell, gx, gh, gb = lstm_step_backward(dh[:, t, :] + dstate, dcell, steps[t])
            dWx += gx
            dWh += gh
            db += gb
        dh0 = dstate
    """,
}
