"""Every layer of layers.py against the reference: forward outputs, then gradients
(the student's forward feeds the student's backward, as in the notebooks).
Dropout draws its mask from the student's own random source, so it is checked for
what its docstring states (keep probability p, inverted scaling, the same seed giving
the same mask, identity in test mode) instead of against the reference's mask."""
import numpy as np
import pytest
from conftest import assert_same, forward_backward


def rng(seed):
    return np.random.default_rng(seed)


def bn(mode="train"):
    return {"mode": mode, "momentum": 0.8, "eps": 1e-5}


# name -> (forward, backward, argument builder)
CASES = {
    "affine": ("affine_forward", "affine_backward",
               lambda r: (r.normal(size=(4, 3, 2)), r.normal(size=(6, 5)), r.normal(size=5))),
    "relu": ("relu_forward", "relu_backward", lambda r: (r.normal(size=(5, 7)),)),
    "batchnorm": ("batchnorm_forward", "batchnorm_backward",
                  lambda r: (3 + 2 * r.normal(size=(8, 5)), r.normal(size=5), r.normal(size=5), bn())),
    "batchnorm_alt": ("batchnorm_forward", "batchnorm_backward_alt",
                      lambda r: (3 + 2 * r.normal(size=(8, 5)), r.normal(size=5), r.normal(size=5), bn())),
    "layernorm": ("layernorm_forward", "layernorm_backward",
                  lambda r: (3 + 2 * r.normal(size=(4, 6)), r.normal(size=6), r.normal(size=6), {"eps": 1e-5})),
    "conv_naive": ("conv_forward_naive", "conv_backward_naive",
                   lambda r: (r.normal(size=(2, 3, 7, 6)), r.normal(size=(4, 3, 3, 2)), r.normal(size=4),
                              {"stride": 2, "pad": 1})),
    "max_pool_naive": ("max_pool_forward_naive", "max_pool_backward_naive",
                       lambda r: (r.normal(size=(2, 3, 8, 6)), {"pool_height": 2, "pool_width": 3, "stride": 2})),
    "spatial_batchnorm": ("spatial_batchnorm_forward", "spatial_batchnorm_backward",
                          lambda r: (r.normal(size=(3, 4, 5, 5)), r.normal(size=4), r.normal(size=4), bn())),
    "spatial_groupnorm": ("spatial_groupnorm_forward", "spatial_groupnorm_backward",
                          lambda r: (r.normal(size=(3, 6, 4, 4)), r.normal(size=(1, 6, 1, 1)),
                                     r.normal(size=(1, 6, 1, 1)), 3, {"eps": 1e-5})),
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("seed", [6001, 6002])
def test_forward(student, reference, case, seed):
    forward, _, build = CASES[case]
    args = build(rng(seed))
    mine, _, mine_args = forward_backward(student("layers"), forward, None, args, seed)
    expected, _, expected_args = forward_backward(reference("layers"), forward, None, args, seed)
    assert_same(mine, expected, where=forward)
    assert_same(mine_args, expected_args, where=f"{forward} inputs and parameter dicts after the call")


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("seed", [7001, 7002])
def test_backward(student, reference, case, seed):
    forward, backward, build = CASES[case]
    args = build(rng(seed))
    _, mine, _ = forward_backward(student("layers"), forward, backward, args, seed)
    _, expected, _ = forward_backward(reference("layers"), forward, backward, args, seed)
    assert_same(mine, expected, rtol=1e-5, atol=1e-7, where=backward)


@pytest.mark.parametrize("seed", [8001, 8002])
def test_batchnorm_test_mode(student, reference, seed):
    r = rng(seed)
    x, gamma, beta = r.normal(size=(6, 4)), r.normal(size=4), r.normal(size=4)
    param = {"mode": "test", "running_mean": r.normal(size=4), "running_var": r.uniform(0.5, 2, 4)}
    mine, _, _ = forward_backward(student("layers"), "batchnorm_forward", None, (x, gamma, beta, param), seed)
    expected, _, _ = forward_backward(reference("layers"), "batchnorm_forward", None, (x, gamma, beta, param), seed)
    assert_same(mine, expected, where="batchnorm_forward (test mode)")


@pytest.mark.parametrize("loss", ["svm_loss", "softmax_loss"])
@pytest.mark.parametrize("seed", [9001, 9002])
def test_loss(student, reference, loss, seed):
    r = rng(seed)
    x, y = 3 * r.normal(size=(12, 7)), r.integers(0, 7, 12)
    assert_same(getattr(student("layers"), loss)(x, y), getattr(reference("layers"), loss)(x, y), where=loss)


@pytest.mark.parametrize("p", [0.3, 0.75])
def test_dropout_forward(student, p):
    layers = student("layers")
    x = 1.0 + np.random.default_rng(14001).random((200, 100))  # no zeros: a zero output means dropped
    out, _ = layers.dropout_forward(x, {"mode": "train", "p": p, "seed": 5})
    kept = out != 0
    assert abs(kept.mean() - p) < 0.02, f"fraction of units kept {kept.mean():.3f}, expected p = {p}"
    assert_same(out[kept], x[kept] / p, where="kept units (inverted dropout: x / p)")
    again, _ = layers.dropout_forward(x, {"mode": "train", "p": p, "seed": 5})
    assert_same(again, out, rtol=0, atol=0, where="output with the same seed (the same mask)")
    test_out, _ = layers.dropout_forward(x, {"mode": "test", "p": p})
    assert_same(test_out, x, rtol=0, atol=0, where="test-mode output (identity)")


@pytest.mark.parametrize("p", [0.3, 0.75])
def test_dropout_backward(student, p):
    layers = student("layers")
    r = np.random.default_rng(14002)
    x, dout = 1.0 + r.random((40, 30)), r.normal(size=(40, 30))
    out, cache = layers.dropout_forward(x, {"mode": "train", "p": p, "seed": 9})
    dx = layers.dropout_backward(dout, cache)
    assert_same(dx, dout * (out != 0) / p, where="dx (the upstream gradient through the same mask, / p)")
    _, test_cache = layers.dropout_forward(x, {"mode": "test", "p": p})
    assert_same(layers.dropout_backward(dout, test_cache), dout, where="dx in test mode")

