"""Second solutions of course_utils/optim.py (see tests/alt_kit.py).

Momentum: the step first, the velocity as the difference; RMSProp written on config
directly; Adam in its "efficient" form (bias corrections folded into the step size and
epsilon), which is algebraically the same update.
"""
MODULE = "course_utils/optim.py"

BODIES = {
    "sgd_momentum": """
        next_w = w + config["momentum"] * config["velocity"] - config["learning_rate"] * dw
        config["velocity"] = next_w - w
    """,
    "rmsprop": """
        rho = config["decay_rate"]
        config["cache"] = rho * config["cache"] + (1.0 - rho) * (dw * dw)
        step = dw / (np.sqrt(config["cache"]) + config["epsilon"])
        next_w = w - config["learning_rate"] * step
    """,
    "adam": """
        config["t"] += 1
        t = config["t"]
        b1, b2 = config["beta1"], config["beta2"]
        config["m"] = b1 * config["m"] + (1 - b1) * dw
        config["v"] = b2 * config["v"] + (1 - b2) * dw * dw
        root = np.sqrt(1 - b2 ** t)
        step_size = config["learning_rate"] * root / (1 - b1 ** t)
        next_w = w - step_size * config["m"] / (np.sqrt(config["v"]) + config["epsilon"] * root)
    """,
}
