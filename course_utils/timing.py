"""Wall-clock timing of one call, as CS231n's k-NN notebook measures its distance functions."""
import time


def time_function(f, *args, **kwargs):
    """Call ``f(*args, **kwargs)`` once and return the seconds it took (float).

    Uses ``time.perf_counter``; the result of f is discarded. A single run of
    a fast function is noisy: compare timings of a second or more.
    """
    start = time.perf_counter()
    f(*args, **kwargs)
    return time.perf_counter() - start
