"""Second solutions of course_utils/classifiers/rnn.py (see tests/alt_kit.py).

The projection through affine_forward / affine_backward, the recurrent pair chosen once;
sampling through word_embedding_forward on 1-D indices and affine_forward, with a
per-caption loop that records words until <END> (no early exit).
"""
MODULE = "course_utils/classifiers/rnn.py"

BODIES = {
    "CaptioningRNN.loss": """
        forward, backward = {"rnn": (rnn_forward, rnn_backward),
                             "lstm": (lstm_forward, lstm_backward)}[self.cell_type]
        h0, proj_cache = affine_forward(features, self.params["W_proj"], self.params["b_proj"])
        vectors, embed_cache = word_embedding_forward(captions_in, self.params["W_embed"])
        states, rec_cache = forward(vectors, h0, self.params["Wx"], self.params["Wh"], self.params["b"])
        vocab_scores, out_cache = temporal_affine_forward(states, self.params["W_vocab"], self.params["b_vocab"])
        loss, dscores = temporal_softmax_loss(vocab_scores, captions_out, mask)
        dstates, grads["W_vocab"], grads["b_vocab"] = temporal_affine_backward(dscores, out_cache)
        dvectors, dh0, grads["Wx"], grads["Wh"], grads["b"] = backward(dstates, rec_cache)
        grads["W_embed"] = word_embedding_backward(dvectors, embed_cache)
        _, grads["W_proj"], grads["b_proj"] = affine_backward(dh0, proj_cache)
    """,
    "CaptioningRNN.sample": """
        state, _ = affine_forward(features, self.params["W_proj"], self.params["b_proj"])
        cell = np.zeros_like(state)
        words = np.full(N, self._start, dtype=np.int64)
        done = [False] * N
        for t in range(max_length):
            vectors, _ = word_embedding_forward(words, self.params["W_embed"])
            if self.cell_type == "lstm":
                state, cell, _ = lstm_step_forward(vectors, state, cell, self.params["Wx"], self.params["Wh"],
                                                   self.params["b"])
            else:
                state, _ = rnn_step_forward(vectors, state, self.params["Wx"], self.params["Wh"], self.params["b"])
            scores, _ = affine_forward(state, self.params["W_vocab"], self.params["b_vocab"])
            words = np.argmax(scores, axis=1)
            for n in range(N):
                if not done[n]:
                    captions[n, t] = words[n]
                    done[n] = words[n] == self._end
    """,
}
