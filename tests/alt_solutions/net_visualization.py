"""Second solutions of course_utils/net_visualization.py (see tests/alt_kit.py).

Dead units by a loop over the units; the top images by repeated first-argmax selection
(no sort); saliency with np.eye one-hot rows and a running maximum over the channels;
occlusion one image at a time, all patch positions of it scored in one batch, log-sum-exp
softmax; fooling images with the gradient taken for the not-yet-fooled images only and
np.minimum / np.maximum clipping; the class step normalised image by image with
np.linalg.norm; the class loop draws all offsets before the loop (another use of the
generator: one (num_iterations, 2) draw of [0, 2 max_jitter] shifted down, oy first);
nearest neighbours by a loop over the queries with direct differences.
"""
MODULE = "course_utils/net_visualization.py"

BODIES = {
    "dead_filters": """
        F = activations.shape[1]
        dead = np.zeros(F, dtype=bool)
        for f in range(F):
            dead[f] = not np.any(activations[:, f] > threshold)
    """,
    "top_activating_images": """
        unit_acts = activations[:, unit]
        if unit_acts.ndim == 3:
            unit_acts = unit_acts.max(axis=2).max(axis=1)
        left = np.array(unit_acts, dtype=np.float64)
        picked = []
        for _ in range(k):
            best = int(np.argmax(left))  # the first of equal maxima: the smaller index
            picked.append(best)
            left[best] = -np.inf
        indices = np.array(picked, dtype=np.int64)
        responses = unit_acts[indices]
    """,
    "saliency_maps": """
        class_scores = model.loss(X)
        one_hot = np.eye(class_scores.shape[1], dtype=class_scores.dtype)[np.asarray(y)]
        grad = np.abs(model.backward(X, "scores", one_hot))
        saliency = grad[:, 0].copy()
        for c in range(1, grad.shape[1]):
            saliency = np.maximum(saliency, grad[:, c])
    """,
    "occlusion_maps": """
        probs = np.empty((N, Hp, Wp), dtype=np.float64)
        corners = [(i * S, j * S) for i in range(Hp) for j in range(Wp)]
        for n in range(N):
            batch = np.repeat(X[n:n + 1], len(corners), axis=0)
            for b, (top, left) in enumerate(corners):
                batch[b, :, top:top + P, left:left + P] = fill
            s = np.asarray(model.loss(batch), dtype=np.float64)
            m = s.max(axis=1)
            log_norm = m + np.log(np.exp(s - m[:, None]).sum(axis=1))
            probs[n] = np.exp(s[:, y[n]] - log_norm).reshape(Hp, Wp)
    """,
    "make_fooling_images": """
        X_fooling = np.array(X, copy=True)
        target = np.asarray(target_y)
        step = 0
        while step < max_iters:
            step += 1
            scores = model.loss(X_fooling)
            todo = np.flatnonzero(np.argmax(scores, axis=1) != target)
            if todo.size == 0:
                break
            current = X_fooling[todo]
            dout = np.zeros((todo.size, scores.shape[1]), dtype=scores.dtype)
            dout[np.arange(todo.size), target[todo]] = 1
            moved = current + learning_rate * np.sign(model.backward(current, "scores", dout))
            if max_change is not None:
                moved = np.minimum(np.maximum(moved, X[todo] - max_change), X[todo] + max_change)
            if bounds is not None:
                moved = np.minimum(np.maximum(moved, low), high)
            X_fooling[todo] = moved
    """,
    "class_visualization_step": """
        scores = model.loss(X)
        pick = np.eye(scores.shape[1])[np.asarray(target_y)]
        d = np.asarray(model.backward(X, "scores", pick), dtype=np.float64) - 2 * l2_reg * X.astype(np.float64)
        X_next = X.copy()
        for n in range(len(X)):
            length = np.linalg.norm(d[n])
            if length > 0:
                X_next[n] = X[n] + learning_rate * (d[n] / length)
    """,
    "class_visualization": """
        shifts = rng.integers(0, 2 * max_jitter + 1, size=(num_iterations, 2)) - max_jitter
        X = np.array(X_init, copy=True)
        since_blur = 0
        for oy, ox in shifts:
            X = jitter(X, ox, oy)
            X = class_visualization_step(model, X, target_y, learning_rate=learning_rate, l2_reg=l2_reg)
            X = jitter(X, -ox, -oy)
            if bounds is not None:
                X = np.clip(X, low, high)
            since_blur += 1
            if blur_every > 0 and since_blur == blur_every:
                X = blur_image(X, blur_sigma)
                since_blur = 0
    """,
    "nearest_neighbors": """
        Q = queries.shape[0]
        indices = np.empty((Q, k), dtype=np.int64)
        distances = np.empty((Q, k), dtype=np.float64)
        db = database.astype(np.float64)
        for q in range(Q):
            diff = db - queries[q].astype(np.float64)
            row = np.sqrt(np.einsum("ij,ij->i", diff, diff))
            order = np.argsort(row, kind="stable")[:k]
            indices[q] = order
            distances[q] = row[order]
    """,
}
