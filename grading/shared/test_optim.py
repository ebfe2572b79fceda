"""Update rules: three steps from the same start, weights and state compared."""
import numpy as np
import pytest
from conftest import assert_same


@pytest.mark.parametrize("rule", ["sgd_momentum", "rmsprop", "adam"])
def test_update_rule(student, reference, rule):
    r = np.random.default_rng(10001)
    w, grads = r.normal(size=(5, 4)), [r.normal(size=(5, 4)) for _ in range(3)]
    mine_w, expected_w, mine_config, expected_config = w.copy(), w.copy(), None, None
    for step, dw in enumerate(grads):
        mine_w, mine_config = getattr(student("optim"), rule)(mine_w, dw.copy(), mine_config)
        expected_w, expected_config = getattr(reference("optim"), rule)(expected_w, dw.copy(), expected_config)
        assert_same(mine_w, expected_w, where=f"{rule} weights after step {step + 1}")
        assert_same(mine_config, expected_config, where=f"{rule} config after step {step + 1}")
