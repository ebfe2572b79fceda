"""A two-layer network small enough to follow by hand, shared by the network tests."""
import numpy as np

HAND_PARAMS = {
    "W1": np.array([[1.0, -1.0], [2.0, 0.0]]),
    "b1": np.array([0.0, 1.0]),
    "W2": np.array([[0.5, 0.0], [-1.0, 1.0]]),
    "b2": np.array([0.0, -1.0]),
}
HAND_X = np.array([[1.0, 1.0], [-1.0, 2.0]])
HAND_Y = np.array([0, 1])
