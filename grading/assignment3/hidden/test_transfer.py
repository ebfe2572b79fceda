"""Transfer learning (course_utils/transfer.py): codes, the transferred network, fine-tuning
configs and the affine layers as convolutions, compared with the reference on seeded inputs."""
import numpy as np
import pytest
from conftest import assert_same

ARCH = dict(input_dim=(1, 8, 8), num_filters=(3, 4), hidden_dim=6, num_classes=3, dtype=np.float64)


def seeded_params(reference, seed, **arch):
    """Parameters of a small DeepConvNet (the reference's draws, non-zero biases)."""
    net = reference("classifiers.deep_conv_net").DeepConvNet(**{**ARCH, **arch}, seed=seed)
    rng = np.random.default_rng(seed + 1000)
    return {k: v if k.startswith("W") else 0.1 * rng.standard_normal(v.shape) for k, v in net.params.items()}


def nets(student, reference, seed, **arch):
    """The same small DeepConvNet in the worker (for the student's functions) and here."""
    params = seeded_params(reference, seed, **arch)
    settings = {**ARCH, **arch, "mean": [0.25], "std": [0.5]}
    mine = student("classifiers.deep_conv_net").DeepConvNet(**settings, seed=0)
    mine.params = {k: v.copy() for k, v in params.items()}
    expected = reference("classifiers.deep_conv_net").DeepConvNet(**settings, seed=0)
    expected.params = {k: v.copy() for k, v in params.items()}
    return mine, expected


@pytest.mark.parametrize("layer", ["conv1", "pool1", "conv4", "pool2", "fc1", "scores"])
def test_extract_features(student, reference, layer):
    mine, expected = nets(student, reference, 31)
    X = np.random.default_rng(31001).normal(size=(7, 1, 8, 8))
    want = reference("transfer").extract_features(expected, X, layer=layer, batch_size=3)
    for batch_size in (1, 3, 50):
        got = student("transfer").extract_features(mine, X, layer=layer, batch_size=batch_size)
        assert_same(got, want, rtol=1e-8, atol=1e-10, where=f"features at {layer} (batch_size={batch_size})")


def test_extract_features_default_layer(student, reference):
    mine, expected = nets(student, reference, 32)
    X = np.random.default_rng(32001).normal(size=(5, 1, 8, 8))
    assert_same(student("transfer").extract_features(mine, X), reference("transfer").extract_features(expected, X),
                rtol=1e-8, atol=1e-10, where="features with the default layer")


def test_transfer_net_copies(student, reference):
    mine, expected = nets(student, reference, 33)
    before = seeded_params(reference, 33)
    new = student("transfer").transfer_net(mine, 4, reg=0.3, seed=2)
    assert new.num_classes == 4, "num_classes of the new net"
    assert tuple(new.input_dim) == (1, 8, 8) and tuple(new.num_filters) == (3, 4) and new.hidden_dim == 6, \
        "architecture of the new net"
    assert new.reg == pytest.approx(0.3), "reg of the new net"
    assert np.dtype(new.dtype) == np.float64, "dtype of the new net"
    assert_same(new.mean, np.array([0.25]), where="mean")
    assert_same(new.std, np.array([0.5]), where="std")
    params = new.params
    assert set(params) == set(before), "parameter names"
    for name, value in before.items():
        if name not in ("W6", "b6"):
            assert_same(params[name], value, rtol=0, atol=0, where=name)
    assert np.shape(params["W6"]) == (6, 4), "shape of W6"
    assert_same(params["b6"], np.zeros(4), rtol=0, atol=0, where="b6")
    assert_same(mine.params, before, rtol=0, atol=0, where="the pretrained net's params after transfer_net")
    X = np.random.default_rng(33001).normal(size=(3, 1, 8, 8))
    assert_same(new.activations(X, "fc1"), expected.activations(X, "fc1"), rtol=1e-8, atol=1e-10,
                where="fc1 codes of the new net")


def test_transfer_net_last_layer_statistics(student, reference):
    mine, _ = nets(student, reference, 34, hidden_dim=300)
    W6 = np.asarray(student("transfer").transfer_net(mine, 50).params["W6"])
    assert W6.shape == (300, 50), "shape of W6"
    std = np.sqrt(2 / 300)
    assert abs(W6.mean()) < 5 * std / np.sqrt(W6.size), "W6 should have mean 0"
    assert abs(W6.std() / std - 1) < 0.05, "W6 should have standard deviation sqrt(2 / hidden_dim)"
    W6_again = np.asarray(student("transfer").transfer_net(mine, 50).params["W6"])
    assert W6_again.shape == (300, 50)


@pytest.mark.parametrize("scale", [0.0, 0.05, 1.0])
def test_fine_tune_configs(student, reference, scale):
    names = list(seeded_params(reference, 35))
    config = {"learning_rate": 3e-3, "beta1": 0.8, "epsilon": 1e-6}
    for new_params in (("W6", "b6"), ("W5", "b5", "W6", "b6")):
        got = student("transfer").fine_tune_configs(names, dict(config), scale, new_params=new_params)
        want = reference("transfer").fine_tune_configs(names, dict(config), scale, new_params=new_params)
        assert_same(got, want, rtol=1e-12, atol=0, where=f"configs (new_params={new_params})")
    got = student("transfer").fine_tune_configs(names, dict(config), scale)
    assert_same(got, reference("transfer").fine_tune_configs(names, dict(config), scale), rtol=1e-12, atol=0,
                where="configs with the default new_params")


def test_fine_tune_configs_leave_the_input(student):
    config = {"learning_rate": 1e-2, "beta1": 0.9}
    student("transfer").fine_tune_configs(["W1", "b1", "W6", "b6"], config, 0.1)
    assert config == {"learning_rate": 1e-2, "beta1": 0.9}, "optim_config was changed"


@pytest.mark.parametrize("in_shape", [(4, 2, 2), (3, 5, 4), (8, 1, 1)])
def test_affine_to_conv(student, reference, in_shape):
    r = np.random.default_rng(36000 + in_shape[1])
    W, b = r.normal(size=(int(np.prod(in_shape)), 5)), r.normal(size=5)
    got = student("transfer").affine_to_conv(W.copy(), b.copy(), in_shape)
    want = reference("transfer").affine_to_conv(W, b, in_shape)
    assert_same(tuple(got), tuple(want), rtol=0, atol=0, where="(w, b_conv)")


@pytest.mark.parametrize("size", [(8, 8), (16, 12), (20, 24)])
def test_fully_convolutional_scores(student, reference, size):
    mine, expected = nets(student, reference, 37)
    X = np.random.default_rng(37000 + size[0]).normal(size=(3, 1, *size))
    assert_same(student("transfer").fully_convolutional_scores(mine, X),
                reference("transfer").fully_convolutional_scores(expected, X), rtol=1e-8, atol=1e-10,
                where=f"score map of a {size[0]}x{size[1]} image")


def test_fully_convolutional_scores_other_input_size(student, reference):
    mine, expected = nets(student, reference, 38, input_dim=(1, 12, 8))
    X = np.random.default_rng(38001).normal(size=(2, 1, 20, 20))
    assert_same(student("transfer").fully_convolutional_scores(mine, X),
                reference("transfer").fully_convolutional_scores(expected, X), rtol=1e-8, atol=1e-10,
                where="score map of a net with 12x8 inputs")
