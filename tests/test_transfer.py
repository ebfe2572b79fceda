import numpy as np
import pytest

from course_utils.classifiers.deep_conv_net import DeepConvNet
from course_utils.fast_layers import conv_forward_fast
from course_utils.transfer import (
    affine_to_conv,
    conv_trunk,
    extract_features,
    fine_tune_configs,
    fully_convolutional_scores,
    labelled_subset,
    resize_images,
    train_network,
    transfer_net,
)


def small_net(seed=0, num_classes=3, hidden_dim=6, input_dim=(1, 8, 8), dtype=np.float64):
    net = DeepConvNet(input_dim=input_dim, num_filters=(3, 4), hidden_dim=hidden_dim, num_classes=num_classes,
                      dtype=dtype, seed=seed, mean=[0.3], std=[0.2])
    rng = np.random.default_rng(seed + 100)
    for name in net.params:  # non-zero biases, so that a forgotten bias shows
        if name.startswith("b"):
            net.params[name] = 0.1 * rng.standard_normal(net.params[name].shape)
    return net


def images(n, shape=(1, 8, 8), seed=1):
    return np.random.default_rng(seed).standard_normal((n, *shape))


# --- extract_features ----------------------------------------------------------------------


@pytest.mark.parametrize("layer", ["conv2", "pool2", "fc1", "scores"])
@pytest.mark.parametrize("batch_size", [1, 3, 100])
def test_extract_features_matches_activations(layer, batch_size):
    net, X = small_net(), images(7)
    features = extract_features(net, X, layer=layer, batch_size=batch_size)
    expected = net.activations(X, layer).reshape(7, -1)
    assert features.shape == expected.shape
    assert features.dtype == net.dtype
    np.testing.assert_allclose(features, expected, rtol=1e-12, atol=1e-12)


def test_extract_features_default_layer_is_fc1():
    net, X = small_net(), images(4)
    np.testing.assert_allclose(extract_features(net, X), net.activations(X, "fc1"), rtol=1e-12)


def test_extract_features_bad_input():
    net, X = small_net(), images(3)
    with pytest.raises(ValueError, match="unknown layer"):
        extract_features(net, X, layer="fc2")
    with pytest.raises(ValueError):
        extract_features(net, X[0], layer="fc1")
    with pytest.raises(ValueError):
        extract_features(net, X, batch_size=0)
    with pytest.raises(ValueError):
        extract_features(net, X[:0])


# --- transfer_net ------------------------------------------------------------------------


def test_transfer_net_copies_all_but_the_last_layer():
    pretrained = small_net(seed=3, num_classes=5)
    before = {k: v.copy() for k, v in pretrained.params.items()}
    net = transfer_net(pretrained, 2, reg=0.25, seed=0)
    assert isinstance(net, DeepConvNet)
    assert (net.input_dim, net.num_filters, net.hidden_dim, net.num_classes) == ((1, 8, 8), (3, 4), 6, 2)
    assert net.reg == 0.25 and net.dtype == pretrained.dtype
    np.testing.assert_array_equal(net.mean, pretrained.mean)
    np.testing.assert_array_equal(net.std, pretrained.std)
    assert set(net.params) == set(pretrained.params)
    for name in pretrained.params:
        np.testing.assert_array_equal(pretrained.params[name], before[name], err_msg=f"pretrained {name} changed")
        if name in ("W6", "b6"):
            continue
        np.testing.assert_array_equal(net.params[name], pretrained.params[name], err_msg=name)
        assert not np.shares_memory(net.params[name], pretrained.params[name]), f"{name} is shared, not copied"
        assert net.params[name].dtype == pretrained.dtype
    assert net.params["W6"].shape == (6, 2)
    np.testing.assert_array_equal(net.params["b6"], np.zeros(2))
    # same codes, new scores
    X = images(5)
    np.testing.assert_allclose(net.activations(X, "fc1"), pretrained.activations(X, "fc1"), rtol=1e-12)
    assert net.loss(X).shape == (5, 2)


def test_transfer_net_last_layer_statistics():
    # He initialisation of the new layer: mean 0, standard deviation sqrt(2 / hidden_dim)
    pretrained = small_net(hidden_dim=200, num_classes=4)
    W6 = transfer_net(pretrained, 60).params["W6"]
    assert W6.shape == (200, 60)
    std = np.sqrt(2 / 200)
    assert abs(W6.mean()) < 5 * std / np.sqrt(W6.size)
    assert W6.std() == pytest.approx(std, rel=0.05)


def test_transfer_net_training_one_net_leaves_the_other():
    pretrained = small_net(seed=4)
    net = transfer_net(pretrained, 3, seed=1)
    for name in net.params:
        net.params[name] += 1.0  # in place
    assert not any(np.any(pretrained.params[k] == net.params[k]) for k in ("W1", "W5", "b5"))


def test_transfer_net_bad_num_classes():
    with pytest.raises(ValueError):
        transfer_net(small_net(), 0)
    with pytest.raises(ValueError):
        transfer_net(small_net(), 2.5)


# --- fine_tune_configs --------------------------------------------------------------------


def test_fine_tune_configs_values_and_copies():
    names = ["W1", "b1", "W2", "b2", "W6", "b6"]
    base = {"learning_rate": 1e-3, "beta1": 0.9, "state": np.zeros(2)}
    configs = fine_tune_configs(names, base, 0.1)
    assert list(configs) == names
    for name in names:
        expected = 1e-3 if name in ("W6", "b6") else 1e-4
        assert configs[name]["learning_rate"] == pytest.approx(expected, rel=1e-12), name
        assert configs[name]["beta1"] == 0.9
    assert base == {"learning_rate": 1e-3, "beta1": 0.9, "state": base["state"]} and base["learning_rate"] == 1e-3
    configs["W1"]["state"][0] = 5.0
    configs["W1"]["beta1"] = 0.5
    assert base["state"][0] == 0 and configs["W2"]["state"][0] == 0 and configs["W2"]["beta1"] == 0.9


def test_fine_tune_configs_from_params_dict_and_custom_new_params():
    params = small_net().params
    configs = fine_tune_configs(params, {"learning_rate": 2.0}, 0.0, new_params=("W5", "b5", "W6", "b6"))
    assert set(configs) == set(params)
    assert {k for k, c in configs.items() if c["learning_rate"] == 2.0} == {"W5", "b5", "W6", "b6"}
    assert all(c["learning_rate"] == 0.0 for k, c in configs.items() if k not in ("W5", "b5", "W6", "b6"))


def test_fine_tune_configs_bad_input():
    with pytest.raises(ValueError, match="learning_rate"):
        fine_tune_configs(["W1", "W6", "b6"], {"beta1": 0.9}, 0.1)
    with pytest.raises(ValueError):
        fine_tune_configs(["W1", "W6", "b6"], {"learning_rate": 1.0}, -0.1)
    with pytest.raises(ValueError):
        fine_tune_configs(["W1", "b1"], {"learning_rate": 1.0}, 0.1)  # no W6, b6


# --- affine_to_conv and fully_convolutional_scores -----------------------------------------


def test_affine_to_conv_hand_built():
    # input (C=2, HH=1, WW=2) flattened as [x[0,0,0], x[0,0,1], x[1,0,0], x[1,0,1]]
    W = np.array([[1.0, 10.0], [2.0, 20.0], [3.0, 30.0], [4.0, 40.0]])
    b = np.array([0.5, -0.5])
    w, b_conv = affine_to_conv(W, b, (2, 1, 2))
    assert w.shape == (2, 2, 1, 2)
    np.testing.assert_array_equal(w[0], [[[1.0, 2.0]], [[3.0, 4.0]]])
    np.testing.assert_array_equal(w[1], 10 * w[0])
    np.testing.assert_array_equal(b_conv, b)
    assert not np.shares_memory(b_conv, b)


@pytest.mark.parametrize("in_shape", [(3, 2, 2), (4, 3, 5), (7, 1, 1)])
def test_affine_to_conv_convolution_equals_affine(in_shape):
    rng = np.random.default_rng(5)
    D, M = int(np.prod(in_shape)), 6
    W, b = rng.standard_normal((D, M)), rng.standard_normal(M)
    x = rng.standard_normal((4, *in_shape))
    w, b_conv = affine_to_conv(W, b, in_shape)
    assert w.shape == (M, *in_shape) and b_conv.shape == (M,)
    out, _ = conv_forward_fast(x, np.ascontiguousarray(w), b_conv, {"stride": 1, "pad": 0})
    np.testing.assert_allclose(out.reshape(4, M), x.reshape(4, -1) @ W + b, rtol=1e-10, atol=1e-12)


def test_affine_to_conv_bad_input():
    W, b = np.zeros((12, 3)), np.zeros(3)
    with pytest.raises(ValueError):
        affine_to_conv(W, b, (2, 2, 2))
    with pytest.raises(ValueError):
        affine_to_conv(W, np.zeros(4), (3, 2, 2))
    with pytest.raises(ValueError):
        affine_to_conv(W.ravel(), b, (3, 2, 2))


def test_fully_convolutional_scores_own_size_equals_loss():
    net, X = small_net(), images(5)
    scores = fully_convolutional_scores(net, X)
    assert scores.shape == (5, 3, 1, 1)
    np.testing.assert_allclose(scores[:, :, 0, 0], net.loss(X), rtol=1e-10, atol=1e-12)


def test_fully_convolutional_scores_slides_the_head_over_the_trunk():
    net = small_net(input_dim=(1, 8, 12))
    X = images(2, shape=(1, 20, 16), seed=2)
    scores = fully_convolutional_scores(net, X)
    assert scores.shape == (2, 3, 5 - 2 + 1, 4 - 3 + 1)
    trunk = conv_trunk(net, X)  # (2, 4, 5, 4)
    p = net.params
    for i in range(scores.shape[2]):
        for j in range(scores.shape[3]):
            window = trunk[:, :, i:i + 2, j:j + 3].reshape(2, -1)
            expected = np.maximum(window @ p["W5"] + p["b5"], 0) @ p["W6"] + p["b6"]
            np.testing.assert_allclose(scores[:, :, i, j], expected, rtol=1e-10, atol=1e-12)


def test_fully_convolutional_scores_bad_input():
    net = small_net()
    for shape in [(1, 2, 8, 8), (1, 1, 4, 8), (1, 1, 10, 8)]:
        with pytest.raises(ValueError):
            fully_convolutional_scores(net, np.zeros(shape))


# --- provided helpers ------------------------------------------------------------------------


def test_resize_images_matches_scipy_and_keeps_constants():
    zoom = pytest.importorskip("scipy.ndimage").zoom
    x = np.random.default_rng(0).uniform(0, 255, size=(3, 8, 8, 2))
    out = resize_images(x, 28)
    assert out.shape == (3, 28, 28, 2)
    expected = zoom(x, (1, 3.5, 3.5, 1), order=1, grid_mode=True, mode="nearest")
    np.testing.assert_allclose(out, expected, atol=1e-9)
    np.testing.assert_allclose(resize_images(np.full((1, 5, 3, 1), 7.0), (10, 4)), 7.0)
    np.testing.assert_allclose(resize_images(x, 8), x)


def test_labelled_subset():
    y = np.array([0, 1, 2] * 10 + [1, 1])
    idx = labelled_subset(y, 4, seed=0)
    assert np.all(np.diff(idx) > 0)
    assert np.bincount(y[idx]).tolist() == [4, 4, 4]
    np.testing.assert_array_equal(idx, labelled_subset(y, 4, seed=0))
    with pytest.raises(ValueError, match="only 10"):
        labelled_subset(y, 11)


def test_conv_trunk_equals_pool2_activations():
    net, X = small_net(), images(3)
    np.testing.assert_allclose(conv_trunk(net, X), net.activations(X, "pool2"), rtol=1e-12)


def test_train_network_fits_a_few_images_and_respects_configs():
    net = small_net(seed=7, dtype=np.float64)
    X, y = images(12, seed=4), np.arange(12) % 3
    frozen = {k: v.copy() for k, v in net.params.items()}
    configs = fine_tune_configs(net.params, {"learning_rate": 1e-2}, 0.0)
    solver = train_network(net, X, y, num_steps=60, learning_rate=1e-2, batch_size=12, optim_configs=configs,
                           seed=0)
    assert len(solver.loss_history) == 60
    assert solver.loss_history[-1] < solver.loss_history[0]
    for name in frozen:
        same = np.array_equal(net.params[name], frozen[name])
        assert same == (name not in ("W6", "b6")), name
