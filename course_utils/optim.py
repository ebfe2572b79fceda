"""First-order update rules for training neural networks.

Every rule has the same signature::

    next_w, config = rule(w, dw, config=None)

w:      current parameter values (any shape).
dw:     gradient of the loss with respect to w (same shape as w).
config: dict of hyperparameters (learning rate, decay rates, ...) and of the
        state a rule carries from one step to the next (velocity, moment
        estimates, step count). Pass None on the first call; the rule creates the
        dict, fills in the defaults of any hyperparameter you did not set, and
        returns it so the caller can hand it back on the next step. Each
        parameter array needs its own config because the state has its shape.

Rules never modify ``w`` or ``dw``; they return a new array. The only thing
they change in place is ``config`` (its state entries), as documented.
"""
import numpy as np

from course_utils.checks import check_array, implemented


def _prepare(w, dw, config):
    """Validate w and dw; return the config dict to use (a new one if None)."""
    check_array(w, "w")
    check_array(dw, "dw", shape=w.shape)
    if config is None:
        config = {}
    elif not isinstance(config, dict):
        raise ValueError(f"config must be a dict or None, got {type(config).__name__}")
    return config


def sgd(w, dw, config=None):
    """Vanilla stochastic gradient descent: step against the gradient.

    config keys:
    - learning_rate: step size (default 1e-2).

    This rule is the worked example for the others: validate, fill in the
    defaults with ``setdefault``, compute the step, return ``(next_w, config)``.
    """
    config = _prepare(w, dw, config)
    config.setdefault("learning_rate", 1e-2)

    next_w = w - config["learning_rate"] * dw
    return next_w, config


def sgd_momentum(w, dw, config=None):
    """Stochastic gradient descent with (classical) momentum.

    A velocity accumulates a decaying sum of past steps; the parameter moves
    by the velocity, which damps oscillation across steep directions and
    speeds progress along consistent ones.

    config keys:
    - learning_rate: step size (default 1e-2).
    - momentum: fraction of the previous velocity kept, in [0, 1) (default 0.9).
    - velocity: array shaped like w, the state (zeros on the first step).
    """
    config = _prepare(w, dw, config)
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    config.setdefault("velocity", np.zeros_like(w))

    next_w = None
    # TODO: compute the new velocity from config["velocity"], momentum,
    # learning_rate and dw, then move w by the new velocity to get next_w.
    # Store the new velocity in config["velocity"] for the next step.
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    v = config["momentum"] * config["velocity"] - config["learning_rate"] * dw
    next_w = w + v
    config["velocity"] = v
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return implemented(next_w, "sgd_momentum"), config


def rmsprop(w, dw, config=None):
    """RMSProp: divide each step by a running root-mean-square of the gradient.

    Directions with consistently large gradients get smaller steps, rarely
    updated ones get larger steps, so one learning rate suits every weight.

    config keys:
    - learning_rate: step size (default 1e-2).
    - decay_rate: how much of the old squared-gradient average is kept, in
      [0, 1) (default 0.99).
    - epsilon: small constant that keeps the division finite (default 1e-8).
    - cache: array shaped like w, the moving average of dw**2 (zeros at first).
    """
    config = _prepare(w, dw, config)
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("decay_rate", 0.99)
    config.setdefault("epsilon", 1e-8)
    config.setdefault("cache", np.zeros_like(w))

    next_w = None
    # TODO: update config["cache"] as a moving average of the squared
    # gradient (weight decay_rate on the old value), then scale the gradient
    # step elementwise by 1 / (sqrt(cache) + epsilon) to get next_w.
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    decay = config["decay_rate"]
    cache = decay * config["cache"] + (1 - decay) * dw**2
    next_w = w - config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"])
    config["cache"] = cache
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return implemented(next_w, "rmsprop"), config


def adam(w, dw, config=None):
    """Adam: momentum on the gradient plus RMSProp-style scaling, bias-corrected.

    Both moving averages start at zero, so early on they underestimate the
    true moments; dividing by (1 - beta**t) corrects for that.

    config keys:
    - learning_rate: step size (default 1e-3).
    - beta1: decay of the first-moment (mean) average (default 0.9).
    - beta2: decay of the second-moment (squared) average (default 0.999).
    - epsilon: small constant that keeps the division finite (default 1e-8).
    - m, v: arrays shaped like w, the two moving averages (zeros at first).
    - t: number of steps taken so far (0 at first); incremented BEFORE use,
      so the first step uses t = 1.
    """
    config = _prepare(w, dw, config)
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-8)
    config.setdefault("m", np.zeros_like(w))
    config.setdefault("v", np.zeros_like(w))
    config.setdefault("t", 0)

    next_w = None
    # TODO: increment config["t"] first; update the first moment m and the
    # second moment v from dw; correct both for their zero start using t;
    # step w by learning_rate * m_hat / (sqrt(v_hat) + epsilon). Store t, m
    # and v back in config.
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    beta1, beta2 = config["beta1"], config["beta2"]
    t = config["t"] + 1
    m = beta1 * config["m"] + (1 - beta1) * dw
    v = beta2 * config["v"] + (1 - beta2) * dw**2
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    next_w = w - config["learning_rate"] * m_hat / (np.sqrt(v_hat) + config["epsilon"])
    config["t"], config["m"], config["v"] = t, m, v
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return implemented(next_w, "adam"), config
