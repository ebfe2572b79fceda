"""Second solutions of course_utils/char_rnn.py (see tests/alt_kit.py).

The loss divides the gradients by T at the end instead of the score gradient; sampling
inverts the cumulative distribution with one rng.random() per character (another use of
the generator than rng.choice), probabilities from the tempered scores.
"""
MODULE = "course_utils/char_rnn.py"

BODIES = {
    "CharRNN.loss": """
        forward, backward = {"rnn": (rnn_forward, rnn_backward),
                             "lstm": (lstm_forward, lstm_backward)}[self.cell_type]
        h0 = np.zeros((N, self.hidden_dim), dtype=self.params["Wh"].dtype)
        vectors, embed_cache = word_embedding_forward(x, self.params["W_embed"])
        states, rec_cache = forward(vectors, h0, self.params["Wx"], self.params["Wh"], self.params["b"])
        scores, out_cache = temporal_affine_forward(states, self.params["W_vocab"], self.params["b_vocab"])
        total, dscores = temporal_softmax_loss(scores, y, mask)
        loss = total / T
        dstates, grads["W_vocab"], grads["b_vocab"] = temporal_affine_backward(dscores, out_cache)
        dvectors, _, grads["Wx"], grads["Wh"], grads["b"] = backward(dstates, rec_cache)
        grads["W_embed"] = word_embedding_backward(dvectors, embed_cache)
        grads = {name: value / T for name, value in grads.items()}
    """,
    "CharRNN.sample": """
        V = len(self.vocab)
        state = np.zeros((1, self.hidden_dim))
        cell = np.zeros((1, self.hidden_dim))

        def feed(char_id, state, cell):
            vector, _ = word_embedding_forward(np.array([char_id]), self.params["W_embed"])
            if self.cell_type == "lstm":
                state, cell, _ = lstm_step_forward(vector, state, cell, self.params["Wx"], self.params["Wh"],
                                                   self.params["b"])
            else:
                state, _ = rnn_step_forward(vector, state, self.params["Wx"], self.params["Wh"], self.params["b"])
            return state, cell

        for char_id in ids.tolist():
            state, cell = feed(char_id, state, cell)
        while len(generated) < length:
            scores = (state.dot(self.params["W_vocab"]) + self.params["b_vocab"]).ravel()
            if temperature == 0:
                choice = int(np.argmax(scores))
            else:
                z = scores / temperature
                probs = np.exp(z - np.max(z))
                cdf = np.cumsum(probs / probs.sum())
                choice = min(int(np.searchsorted(cdf, rng.random(), side="right")), V - 1)
            generated.append(choice)
            state, cell = feed(choice, state, cell)
    """,
}
