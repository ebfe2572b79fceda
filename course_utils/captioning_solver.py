"""Training loop for captioning models: the classification Solver with caption minibatches.

Typical use::

    data = load_captioning_data()
    model = CaptioningRNN(data["word_to_idx"], input_dim=data["train_features"].shape[1],
                          cell_type="lstm", seed=0)
    solver = CaptioningSolver(model, data, update_rule="adam", num_epochs=10,
                              batch_size=100, optim_config={"learning_rate": 5e-3},
                              lr_decay=0.95, seed=0)
    solver.train()
    plt.plot(solver.loss_history)

Everything except the data handling is inherited from Solver: the options (same
names, defaults and checks), the update loop, learning-rate decay and
checkpointing. Captioning has no accuracy: ``train_acc_history`` and
``val_acc_history`` stay empty, no "best" parameters are kept (the model ends with
its final parameters), and at the end of each epoch the mean training loss of that
epoch is printed (if verbose) and appended to ``epoch_loss_history``. Measure
caption quality with ``coco_utils.caption_bleu``.
"""
import numpy as np

from course_utils.checks import check_array
from course_utils.coco_utils import sample_coco_minibatch
from course_utils.solver import Solver


class CaptioningSolver(Solver):
    """Solver for models with ``loss(features, captions) -> (loss, grads)``.

    data: a captioning dict (see coco_utils) with at least train_captions (N, T) int,
    train_image_idxs (N,) int indexing the rows of train_features (M, D).
    Options: exactly those of Solver (num_train_samples and num_val_samples are
    accepted but unused, since there is no accuracy to measure).
    """

    data_keys = ("train_captions", "train_image_idxs", "train_features")

    def _check_data(self):
        captions = self.train_captions
        if not isinstance(captions, np.ndarray) or not np.issubdtype(captions.dtype, np.integer) \
                or captions.ndim != 2:
            raise ValueError("data['train_captions'] must be an integer array of shape (N, T), got "
                             f"{getattr(captions, 'dtype', type(captions).__name__)} "
                             f"{getattr(captions, 'shape', '')}")
        features = check_array(self.train_features, "data['train_features']", ndim=2)
        idxs = self.train_image_idxs
        if not isinstance(idxs, np.ndarray) or not np.issubdtype(idxs.dtype, np.integer) \
                or idxs.shape != (captions.shape[0],):
            raise ValueError(f"data['train_image_idxs'] must be an integer array of shape "
                             f"({captions.shape[0]},), one image per caption")
        if idxs.size and (idxs.min() < 0 or idxs.max() >= features.shape[0]):
            raise ValueError(f"data['train_image_idxs'] must index rows 0..{features.shape[0] - 1} "
                             f"of data['train_features'], got values from {idxs.min()} to {idxs.max()}")

    def _reset(self):
        super()._reset()
        self.epoch_loss_history = []
        self._epoch_start = 0

    def _num_train_examples(self):
        return self.train_captions.shape[0]

    def _sample_batch(self):
        """A minibatch of training captions and their image features: (features, captions)."""
        captions, features, _ = sample_coco_minibatch(
            self.data, batch_size=self.batch_size, split="train", rng=self.rng
        )
        return features, captions

    def _end_of_epoch(self, epoch):
        """Record (and print) the mean training loss since the previous call."""
        recent = self.loss_history[self._epoch_start:]
        self._epoch_start = len(self.loss_history)
        mean_loss = float(np.mean(recent))
        self.epoch_loss_history.append(mean_loss)
        if self.verbose:
            print(f"(Epoch {epoch} / {self.num_epochs}) mean training loss: {mean_loss:.6f}")
