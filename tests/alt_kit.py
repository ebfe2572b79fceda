"""A second, independent solution set and a set of mutants, as kits for the grader.

``tests/alt_solutions/<module>.py`` holds, for one ``course_utils`` module, ``MODULE`` (its
kit-relative path) and ``BODIES``: the region's owner (qualified function name, or
``(name, index)`` when a function has several regions, index from 0 in file order) -> the
code that replaces the region's body, written at indentation zero. ``alt_module`` puts them
into a released module (the code before and after each region stays as released);
``write_alt_kit`` does that for a whole release.

``MUTANTS``: one genuine bug per manifest question, in the reference solution: a line
fragment of one function's region replaced by a wrong one. ``CALLS`` states which other
questions' functions each question's checks run (the student's layers inside the student's
networks, a backward test running the student's forward, a notebook cell training with the
student's loss), so a mutant may also cost those questions points, and only those.
"""
import importlib.util
import shutil
import textwrap
from dataclasses import dataclass
from pathlib import Path

from course_utils.grading.kit import editable_modules
from course_utils.markers import find_regions, region_owners

ALT_DIR = Path(__file__).resolve().parent / "alt_solutions"


def load_alternatives(folder=ALT_DIR):
    """{kit-relative module path: {owner key: body text}} from every file of ``folder``."""
    found = {}
    for path in sorted(Path(folder).glob("*.py")):
        if path.name.startswith("_"):
            continue
        spec = importlib.util.spec_from_file_location(f"alt_solutions_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        if module.MODULE in found:
            raise ValueError(f"{path}: {module.MODULE} already has alternatives in another file")
        found[module.MODULE] = dict(module.BODIES)
    return found


def region_keys(text, filename="<text>"):
    """(regions, keys): the key of each region is its owner, or (owner, index) when the owner
    has several regions."""
    regions = find_regions(text, filename)
    owners = region_owners(text, regions)
    if None in owners:
        raise ValueError(f"{filename}: a region outside any function (or the module does not parse)")
    counts = {owner: owners.count(owner) for owner in owners}
    seen, keys = {}, []
    for owner in owners:
        index = seen.get(owner, 0)
        seen[owner] = index + 1
        keys.append(owner if counts[owner] == 1 else (owner, index))
    return regions, keys


def alt_module(released, bodies, filename="<text>"):
    """``released`` (stubbed regions) with every region's body replaced by ``bodies[key]``,
    indented like the region. Every region needs a body and every body a region."""
    regions, keys = region_keys(released, filename)
    missing = [key for key in keys if key not in bodies]
    unused = [key for key in bodies if key not in keys]
    if missing or unused:
        raise KeyError(f"{filename}: regions without an alternative {missing}, alternatives without a region {unused}")
    lines, out, previous = released.splitlines(), [], 0
    for region, key in zip(regions, keys):
        out += lines[previous:region.start]  # up to and including the start marker
        body = textwrap.dedent(bodies[key]).strip("\n").splitlines()
        out += [f"{region.indent}{line}" if line.strip() else "" for line in body]
        previous = region.end - 1  # the end marker comes next
    return "\n".join(out + lines[previous:]) + ("\n" if released.endswith("\n") else "")


def write_alt_kit(release, out, alternatives=None):
    """Copy the release folder to ``out`` with the alternative bodies in every module that has
    them; -> the kit-relative paths changed. Modules without alternatives stay released."""
    alternatives = load_alternatives() if alternatives is None else alternatives
    release, out = Path(release), Path(out)
    shutil.copytree(release, out)
    present = set(editable_modules(release))
    unknown = sorted(set(alternatives) - present)
    if unknown:
        raise ValueError(f"alternatives for modules that are not editable in the release: {unknown}")
    for rel in sorted(alternatives):
        text = (release / rel).read_text(encoding="utf-8")
        (out / rel).write_text(alt_module(text, alternatives[rel], rel), encoding="utf-8")
    return sorted(alternatives)


# ---------------------------------------------------------------------------------------------
# Mutants
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Mutant:
    """One genuine bug: in ``path``, inside the regions of ``function``, the fragment
    ``original`` (it must occur exactly once there) becomes ``replacement``."""
    question: str
    path: str
    function: str
    original: str
    replacement: str
    bug: str

    @property
    def name(self):
        return f"mutant_{self.question}"


def mutate(text, mutant):
    """The module text with the mutant's bug, applied inside its function's regions only."""
    regions, keys = region_keys(text, mutant.path)
    mine = [r for r, key in zip(regions, keys) if (key[0] if isinstance(key, tuple) else key) == mutant.function]
    if not mine:
        raise ValueError(f"{mutant.path}: no solution region in {mutant.function}")
    lines = text.splitlines(keepends=True)
    hits = [n for r in mine for n in range(r.start, r.end - 1) if mutant.original in lines[n]]
    count = sum(lines[n].count(mutant.original) for n in hits)
    if count != 1:
        raise ValueError(f"{mutant.path}::{mutant.function}: {mutant.original!r} occurs {count} times "
                         "in its regions, expected once (has the reference changed?)")
    lines[hits[0]] = lines[hits[0]].replace(mutant.original, mutant.replacement)
    return "".join(lines)


KNN = "course_utils/classifiers/k_nearest_neighbor.py"
LINEAR = "course_utils/classifiers/linear_classifier.py"
SVM = "course_utils/classifiers/linear_svm.py"
SOFTMAX = "course_utils/classifiers/softmax.py"
LAYERS = "course_utils/layers.py"
FC_NET = "course_utils/classifiers/fc_net.py"
OPTIM = "course_utils/optim.py"
CNN = "course_utils/classifiers/cnn.py"
RNN_LAYERS = "course_utils/rnn_layers.py"
RNN = "course_utils/classifiers/rnn.py"
CHAR_RNN = "course_utils/char_rnn.py"
NEURAL_NET = "course_utils/classifiers/neural_net.py"
NET_VIS = "course_utils/net_visualization.py"
TRANSFER = "course_utils/transfer.py"

# the layer questions assignments 1 and 2 share (same names, same functions)
_LAYER_MUTANTS = [
    Mutant("affine_forward", LAYERS, "affine_forward",
           "out = x.reshape(x.shape[0], D) @ w + b", "out = x.reshape(x.shape[0], D) @ w", "bias left out"),
    Mutant("affine_backward", LAYERS, "affine_backward",
           "db = dout.sum(axis=0)", "db = dout.mean(axis=0)", "db averaged instead of summed over the batch"),
    Mutant("relu_forward", LAYERS, "relu_forward",
           "out = np.maximum(x, 0)", "out = np.maximum(x, 0.01 * x)", "leaky: negative inputs scaled by 0.01"),
    Mutant("relu_backward", LAYERS, "relu_backward",
           "dx = dout * (x > 0)", "dx = (x > 0).astype(dout.dtype)", "the upstream gradient is not multiplied in"),
    Mutant("loss_layers", LAYERS, "svm_loss",
           "margins[rows, y] = 0", "pass  # the correct class is not excluded",
           "svm_loss counts the correct class's own margin"),
]

MUTANTS = {
    "assignment1": [
        Mutant("knn_two_loops", KNN, "KNearestNeighbor.compute_distances_two_loops",
               "np.sqrt(np.sum(diff * diff))", "np.sum(diff * diff)", "squared distances (no square root)"),
        Mutant("knn_predict_labels", KNN, "KNearestNeighbor.predict_labels",
               "y_pred[i] = np.argmax(np.bincount(self.y_train[nearest]))",
               "y_pred[i] = len(np.bincount(self.y_train[nearest])) - 1 "
               "- np.argmax(np.bincount(self.y_train[nearest])[::-1])",
               "a tied vote goes to the larger label"),
        Mutant("knn_one_loop", KNN, "KNearestNeighbor.compute_distances_one_loop",
               "diff = self.X_train - X[i]", "diff = self.X_train - X[i - 1]", "off by one: row i measures X[i - 1]"),
        Mutant("knn_no_loops", KNN, "KNearestNeighbor.compute_distances_no_loops",
               "dists *= -2.0", "dists *= -1.0", "the cross term is not doubled"),
        Mutant("svm_loss_naive", SVM, "svm_loss_naive",
               "dW[:, y[i]] -= X[i]", "dW[:, y[i]] += X[i]", "wrong sign of the correct class's gradient"),
        Mutant("svm_loss_vectorized", SVM, "svm_loss_vectorized",
               "/ num_train + reg * np.sum(W * W)", "/ num_train", "regularisation left out of the loss"),
        Mutant("linear_classifier_train", LINEAR, "LinearClassifier.train",
               "self.W -= learning_rate * grad", "self.W += learning_rate * grad", "steps up the gradient"),
        Mutant("linear_classifier_predict", LINEAR, "LinearClassifier.predict",
               "np.argmax(X @ self.W, axis=1)", "np.argmin(X @ self.W, axis=1)", "the lowest score wins"),
        Mutant("softmax_loss_naive", SOFTMAX, "softmax_loss_naive",
               "dW /= num_train", "dW /= num_train - 1", "off by one in the gradient's average"),
        Mutant("softmax_loss_vectorized", SOFTMAX, "softmax_loss_vectorized",
               "+ 2 * reg * W", "+ reg * W", "regularisation gradient reg * W instead of 2 * reg * W"),
        *_LAYER_MUTANTS,
        Mutant("two_layer_net", FC_NET, "TwoLayerNet.loss",
               "(np.sum(W1 * W1) + np.sum(W2 * W2))", "np.sum(W1 * W1)", "W2 left out of the regularisation loss"),
        Mutant("neural_net_optional", NEURAL_NET, "TwoLayerNet.loss",
               "+ reg * (np.sum(W1 * W1)", "+ 0.5 * reg * (np.sum(W1 * W1)",
               "the modular networks' 0.5 * reg in the loss (this net documents reg * sum(W * W))"),
    ],
    "assignment2": [
        *_LAYER_MUTANTS,
        Mutant("fc_net", FC_NET, "FullyConnectedNet.loss",
               "loss += 0.5 * self.reg * float(np.sum(W * W))", "loss += self.reg * float(np.sum(W * W))",
               "regularisation loss without the factor 0.5"),
        Mutant("sgd_momentum", OPTIM, "sgd_momentum", "next_w = w + v", "next_w = w - v", "steps against the velocity"),
        Mutant("rmsprop", OPTIM, "rmsprop", "(np.sqrt(cache) + config", "(cache + config",
               "divides by the mean square, not its root"),
        Mutant("adam", OPTIM, "adam", "m_hat = m / (1 - beta1**t)", "m_hat = m", "no bias correction of m"),
        Mutant("dropout_forward", LAYERS, "dropout_forward", "out = x\n", "out = x * p\n",
               "test mode scales by p (non-inverted dropout)"),
        Mutant("dropout_backward", LAYERS, "dropout_backward", "dx = dout * mask", "dx = dout * (mask != 0)",
               "the gradient is masked but not scaled by 1 / p"),
        Mutant("fc_dropout", FC_NET, "FullyConnectedNet.loss",
               "dout = dropout_backward(dout, drop_cache)", "dout = dout",
               "the backward pass skips the dropout layers"),
        Mutant("batchnorm_forward", LAYERS, "batchnorm_forward",
               "(1 - momentum) * var.ravel()", "(1 - momentum) * std.ravel()",
               "the running variance tracks the standard deviation"),
        Mutant("batchnorm_backward", LAYERS, "batchnorm_backward",
               "dvar = dstd / (2 * std)", "dvar = dstd / std", "derivative of the square root without the 1/2"),
        Mutant("batchnorm_backward_alt", LAYERS, "batchnorm_backward_alt",
               "dxhat = dout * gamma", "dxhat = dout", "gamma left out of dx"),
        Mutant("layernorm", LAYERS, "layernorm_backward",
               "xhat, std, axis=1)", "xhat, std, axis=0)", "the backward pass standardises along the batch axis"),
        Mutant("fc_net_normalization", FC_NET, "FullyConnectedNet.loss",
               'dout, grads[f"gamma{i}"], grads[f"beta{i}"] = norm_backward',
               'dout, grads[f"beta{i}"], grads[f"gamma{i}"] = norm_backward',
               "gamma and beta gradients swapped"),
        Mutant("conv_naive", LAYERS, "conv_backward_naive",
               "dx_pad[:, :, pad:pad + H, pad:pad + W]", "dx_pad[:, :, :H, :W]",
               "dx cropped from the corner instead of from inside the padding"),
        Mutant("max_pool_naive", LAYERS, "max_pool_backward_naive",
               "dx[:, :, rows, cols] += grad", "dx[:, :, rows, cols] = grad",
               "overlapping windows overwrite instead of adding up"),
        Mutant("three_layer_convnet", CNN, "ThreeLayerConvNet.loss",
               'for name in ("W1", "W2", "W3"):', 'for name in ("W2", "W3"):', "W1 left out of the regularisation"),
        Mutant("spatial_batchnorm", LAYERS, "spatial_batchnorm_backward",
               "dout_rows = dout.transpose(0, 2, 3, 1).reshape(-1, C)", "dout_rows = dout.reshape(-1, C)",
               "dout flattened without moving the channel axis last"),
        Mutant("spatial_groupnorm", LAYERS, "spatial_groupnorm_backward",
               "dxhat = (dout * gamma).reshape", "dxhat = dout.reshape", "gamma left out of dx"),
    ],
    "assignment3": [
        Mutant("rnn_step_forward", RNN_LAYERS, "rnn_step_forward",
               "prev_h @ Wh + b)", "prev_h @ Wh)", "bias left out"),
        Mutant("rnn_step_backward", RNN_LAYERS, "rnn_step_backward",
               "(1 - next_h ** 2)", "(1 - next_h)", "wrong derivative of tanh"),
        Mutant("rnn_forward", RNN_LAYERS, "rnn_forward",
               "rnn_step_forward(x[:, t, :], prev_h,", "rnn_step_forward(x[:, t, :], h0,",
               "every step starts from h0 (the state is not carried)"),
        Mutant("rnn_backward", RNN_LAYERS, "rnn_backward",
               "rnn_step_backward(dh[:, t, :] + dprev_h, cache[t])", "rnn_step_backward(dh[:, t, :], cache[t])",
               "no gradient flows back from step t + 1"),
        Mutant("word_embedding_forward", RNN_LAYERS, "word_embedding_forward",
               "out = W[x]", "out = W[x - 1]", "off by one in the word index"),
        Mutant("word_embedding_backward", RNN_LAYERS, "word_embedding_backward",
               "np.add.at(dW, x, dout)", "dW[x] += dout", "a repeated word keeps only one of its gradients"),
        Mutant("captioning_loss", RNN, "CaptioningRNN.loss",
               'grads["b_proj"] = dh0.sum(axis=0)', 'grads["b_proj"] = dh0.mean(axis=0)',
               "b_proj gradient averaged over the batch"),
        Mutant("captioning_sample", RNN, "CaptioningRNN.sample",
               "finished |= word == self._end", "finished = finished", "keeps writing words after <END>"),
        Mutant("lstm_step_forward", RNN_LAYERS, "lstm_step_forward",
               "i = sigmoid(a[:, :H])", "i = sigmoid(a[:, H:2 * H])", "the input gate reads the forget block"),
        Mutant("lstm_step_backward", RNN_LAYERS, "lstm_step_backward",
               "df = dc * prev_c", "df = dnext_c * prev_c", "forget-gate gradient misses the path through next_h"),
        Mutant("lstm_forward", RNN_LAYERS, "lstm_forward",
               "prev_h, prev_c, step_cache = lstm_step_forward", "prev_h, _, step_cache = lstm_step_forward",
               "the cell state is not carried between steps"),
        Mutant("lstm_backward", RNN_LAYERS, "lstm_backward",
               "dh[:, t, :] + dprev_h, dprev_c, cache[t]", "dh[:, t, :] + dprev_h, 0 * dprev_c, cache[t]",
               "no cell-state gradient flows back from step t + 1"),
        Mutant("lstm_captioning", RNN, "CaptioningRNN.loss",
               'lstm_forward(x, h0, p["Wx"]', 'lstm_forward(x, 0 * h0, p["Wx"]',
               "the LSTM ignores the image features"),
        Mutant("char_rnn_loss", CHAR_RNN, "CharRNN.loss", "dscores /= T", "dscores /= 1",
               "the score gradient is not divided by T"),
        Mutant("char_rnn_sample", CHAR_RNN, "CharRNN.sample", "z = scores / temperature", "z = scores",
               "the temperature is ignored"),
        Mutant("dead_filters", NET_VIS, "dead_filters",
               "np.any(per_unit > threshold, axis=1)", "np.any(per_unit >= threshold, axis=1)",
               "a value equal to the threshold counts as firing (no ReLU unit is ever dead)"),
        Mutant("top_activating_images", NET_VIS, "top_activating_images",
               "reshape(N, -1).max(axis=1)", "reshape(N, -1).mean(axis=1)",
               "a conv unit's response is its mean over the positions, not its largest value"),
        Mutant("saliency_maps", NET_VIS, "saliency_maps",
               "saliency = np.abs(dX).max(axis=1)", "saliency = dX.max(axis=1)",
               "largest signed derivative over the channels, no absolute value"),
        Mutant("occlusion_maps", NET_VIS, "occlusion_maps",
               "i * S:i * S + P, j * S:j * S + P", "i:i + P, j:j + P",
               "the patch corner ignores the stride (moves one pixel per position)"),
        Mutant("fooling_images", NET_VIS, "make_fooling_images",
               "np.clip(updated, X[active] - max_change, X[active] + max_change)",
               "np.clip(updated, X_fooling[active] - max_change, X_fooling[active] + max_change)",
               "max_change measured from the current image, not the original (the budget never binds)"),
        Mutant("class_visualization", NET_VIS, "class_visualization_step",
               "- 2.0 * l2_reg * X", "- l2_reg * X",
               "gradient of the L2 penalty without the factor 2"),
        Mutant("nearest_neighbors", NET_VIS, "nearest_neighbors",
               "all_distances = np.sqrt(np.maximum(squared, 0.0))", "all_distances = np.maximum(squared, 0.0)",
               "returns squared distances (the order is right, the distances are not)"),
        Mutant("transfer_extract_features", TRANSFER, "extract_features",
               "for i in range(0, len(X), batch_size)]", "for i in range(0, len(X) - batch_size + 1, batch_size)]",
               "the last, partial batch is dropped (fewer rows than images unless batch_size divides N)"),
        Mutant("transfer_net", TRANSFER, "transfer_net",
               ", mean=pretrained.mean, std=pretrained.std)", ")",
               "the preprocessing statistics (mean, std) are not carried over to the new net"),
        Mutant("transfer_fine_tune_configs", TRANSFER, "fine_tune_configs",
               "config = copy.deepcopy(optim_config)", "config = optim_config",
               "no copy: every name shares optim_config itself, scaled again for each pretrained name"),
        Mutant("transfer_affine_to_conv", TRANSFER, "affine_to_conv",
               "W.T.reshape(W.shape[1], C, HH, WW)", "W.reshape(W.shape[1], C, HH, WW)",
               "W reshaped without the transpose (filter m is a row-major chunk of W, not its column m)"),
        Mutant("transfer_fully_convolutional", TRANSFER, "fully_convolutional_scores",
               "hidden = np.maximum(conv_forward_fast(features, w5, b5, no_pad)[0], 0)",
               "hidden = conv_forward_fast(features, w5, b5, no_pad)[0]",
               "no ReLU after fc1"),
    ],
}

# question -> the other questions whose functions its checks run (hidden tests, and the graded
# cells of its notebooks). A mutant of question q may cost points to q and to the questions
# that list q here, nothing else.
_LAYERS_OF_NETWORKS = {"affine_forward", "affine_backward", "relu_forward", "relu_backward", "loss_layers"}
CALLS = {
    "assignment1": {
        "two_layer_net": _LAYERS_OF_NETWORKS,  # TwoLayerNet.loss: affine_relu, affine, softmax_loss
        "relu_backward": {"affine_forward", "affine_backward"},  # cell two_layer_net.affine_relu
        # cells svm/softmax.linear_classifier_train train a LinearSVM / Softmax
        "linear_classifier_train": {"svm_loss_vectorized", "softmax_loss_vectorized"},
    },
    "assignment2": {
        "relu_backward": {"affine_forward", "affine_backward"},  # cell FullyConnectedNets.affine_relu
        "fc_net": _LAYERS_OF_NETWORKS,
        "fc_dropout": _LAYERS_OF_NETWORKS | {"fc_net", "dropout_forward", "dropout_backward"},
        "fc_net_normalization": _LAYERS_OF_NETWORKS | {"fc_net", "batchnorm_forward", "batchnorm_backward",
                                                       "layernorm"},
        "three_layer_convnet": _LAYERS_OF_NETWORKS,  # conv and pool through the fast layers (not exercises)
        "dropout_backward": {"dropout_forward"},  # the cache comes from the student's forward
        "batchnorm_backward": {"batchnorm_forward"},
        "batchnorm_backward_alt": {"batchnorm_forward", "batchnorm_backward"},  # the cell compares the two
        "spatial_batchnorm": {"batchnorm_forward", "batchnorm_backward_alt"},
    },
    "assignment3": {
        "rnn_step_backward": {"rnn_step_forward"},
        "rnn_forward": {"rnn_step_forward"},
        "rnn_backward": {"rnn_step_forward", "rnn_step_backward", "rnn_forward"},
        "lstm_step_backward": {"lstm_step_forward"},
        "lstm_forward": {"lstm_step_forward"},
        "lstm_backward": {"lstm_step_forward", "lstm_step_backward", "lstm_forward"},
        "captioning_loss": {"rnn_step_forward", "rnn_step_backward", "rnn_forward", "rnn_backward",
                            "word_embedding_forward", "word_embedding_backward"},
        "captioning_sample": {"rnn_step_forward"},
        "lstm_captioning": {"lstm_step_forward", "lstm_step_backward", "lstm_forward", "lstm_backward",
                            "word_embedding_forward", "word_embedding_backward", "captioning_loss",
                            "captioning_sample"},
        "char_rnn_loss": {"rnn_step_forward", "rnn_step_backward", "rnn_forward", "rnn_backward",
                          "lstm_step_forward", "lstm_step_backward", "lstm_forward", "lstm_backward",
                          "word_embedding_forward", "word_embedding_backward"},
        "char_rnn_sample": {"rnn_step_forward", "lstm_step_forward"},
        # fully_convolutional_scores turns fc1 and the scores layer into convolutions with the
        # student's own affine_to_conv, as its docstring asks
        "transfer_fully_convolutional": {"transfer_affine_to_conv"},
    },
}


def may_lose(assignment, question):
    """The questions a mutant of ``question`` may cost points: itself and its callers."""
    calls = CALLS[assignment]
    return {question} | {caller for caller, callees in calls.items() if question in callees}


def write_mutant(reference, folder, files, mutant):
    """``folder`` <- the reference's ``files`` with the mutant's bug in its module."""
    for rel in files:
        (Path(folder) / rel).parent.mkdir(parents=True, exist_ok=True)
        data = (Path(reference) / rel).read_bytes()
        if rel == mutant.path:
            data = mutate(data.decode("utf-8"), mutant).encode("utf-8")
        (Path(folder) / rel).write_bytes(data)
