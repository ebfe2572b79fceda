"""``course-kit core``: which convolution core is active, and how to build the fast one.

The fast conv layers unfold images with a compiled Cython extension when it is
built, and with plain numpy otherwise (same results, slower). This command
never fails: it reports what it finds and exits 0.
"""
import warnings


def configure(parser):
    """The command takes no options."""


def main(args):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        from course_utils import fast_layers
    core = fast_layers.active_core()
    print(f"active core: {core}")
    print(f"threads:     {fast_layers.worker_threads()} (blocks of a batch run in parallel)")
    if core == "cython":
        print(f"extension:   {fast_layers.extension_path()}")
        return 0
    print(f"extension:   not found ({fast_layers.EXTENSION} could not be imported)")
    for warning in caught:
        if issubclass(warning.category, RuntimeWarning):
            print(f"reason:      {warning.message}")
    print("The numpy core gives the same results, only slower. To build the compiled")
    print("core, run `pip install -e .` in the kit folder (a C compiler is needed),")
    print("then check again with `course-kit core`.")
    return 0
