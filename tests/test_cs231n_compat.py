"""CS231n compatibility: instructors' material runs with only ``cs231n`` renamed to ``course_utils``.

1. The notebooks in tests/cs231n_style/ are written in the style of the official 2019 and
   2022 assignment notebooks (own cells, the same import lines, star imports included, and
   the same calls). Each is executed against the kit in a scratch folder that holds small
   data files in the real formats; any interface error fails the test with the cell's
   traceback.
2. Direct checks of what those notebooks rely on: the package re-exports, the namespaces
   that CS231n's star imports provided, timing.
They are not collected by nbval (see norecursedirs in pyproject.toml): only this file runs
them, after writing their data.
"""
import importlib
import inspect
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import numpy as np
import pytest
from dataset_files import write_cifar, write_imagenet_val, write_tiny_imagenet
from nbclient import NotebookClient
from PIL import Image

from course_utils import classifiers, fast_layers, layer_utils, layers, rnn_layers
from course_utils.classifiers import cnn, fc_net, rnn
from course_utils.timing import time_function

STYLE_DIR = Path(__file__).parent / "cs231n_style"
NOTEBOOKS = sorted(p.stem for p in STYLE_DIR.glob("*.ipynb"))


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    """A folder laid out like a CS231n assignment: datasets/ (also COURSE_DATA_DIR) and styles/."""
    datasets = tmp_path / "datasets"
    write_cifar(datasets / "cifar-10-batches-py")
    write_tiny_imagenet(datasets / "tiny-imagenet-200")
    write_imagenet_val(datasets)
    (tmp_path / "styles").mkdir()
    gradient = np.linspace(0, 255, 24 * 32 * 3).reshape(24, 32, 3).astype(np.uint8)
    Image.fromarray(gradient).save(tmp_path / "styles" / "example.jpg", quality=95)
    monkeypatch.setenv("COURSE_DATA_DIR", str(datasets))
    monkeypatch.delenv("COURSE_DATASET", raising=False)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.setenv(variable, "1")  # tiny matrices: more BLAS threads only fight over the cores
    return tmp_path


def test_the_style_notebooks_are_there():
    assert NOTEBOOKS == ["assignment1", "assignment2", "assignment3"]


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_cs231n_style_notebook_runs(name, scratch):
    nb = nbformat.read(STYLE_DIR / f"{name}.ipynb", as_version=4)
    client = NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(scratch)}})
    client.execute()  # raises CellExecutionError (with the traceback) at the first failing cell
    outputs = [out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs]
    assert not [out for out in outputs if out.output_type == "error"]
    stderr = "".join(out.get("text", "") for out in outputs if out.get("name") == "stderr")
    if name == "assignment2":  # the 2019 keyword is accepted, and users are told about the new one
        assert "DeprecationWarning: FullyConnectedNet(dropout=...) is deprecated" in stderr


# --------------------------------------------------------------------- package re-exports

def test_classifiers_package_reexports_the_classes():
    expected = {
        "KNearestNeighbor": "k_nearest_neighbor", "LinearClassifier": "linear_classifier",
        "LinearSVM": "linear_classifier", "Softmax": "linear_classifier", "TwoLayerNet": "fc_net",
        "FullyConnectedNet": "fc_net", "ThreeLayerConvNet": "cnn", "CaptioningRNN": "rnn",
    }
    for name, module in expected.items():
        assert getattr(classifiers, name) is getattr(importlib.import_module(f"course_utils.classifiers.{module}"), name)
    namespace = {}
    exec("from course_utils.classifiers import *", namespace)
    assert set(expected) <= set(namespace) and namespace["TwoLayerNet"] is fc_net.TwoLayerNet
    assert set(expected) <= set(dir(classifiers))
    with pytest.raises(AttributeError, match="has no attribute 'NoSuchNet'"):
        classifiers.NoSuchNet  # noqa: B018


def test_reexports_import_only_the_module_asked_for():
    """A broken or unfinished classifier module must not break the import of the others."""
    code = ("import sys\nfrom course_utils.classifiers import KNearestNeighbor\n"
            "print(sorted(m for m in sys.modules if m.startswith('course_utils.classifiers.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['course_utils.classifiers.k_nearest_neighbor']"


# --------------------------------------------------------- namespaces of the star imports

def public_functions(module, suffix=""):
    """Names of the public functions defined in ``module`` itself (not imported into it)."""
    return {name for name, obj in inspect.getmembers(module, inspect.isfunction)
            if not name.startswith("_") and obj.__module__ == module.__name__ and name.endswith(suffix)}


@pytest.mark.parametrize("module", [layers, layer_utils, rnn_layers])
def test_layer_modules_list_all_their_layers(module):
    assert public_functions(module) <= set(module.__all__)
    assert len(module.__all__) == len(set(module.__all__))


STAR_IMPORTS = {  # CS231n model module -> what its own star imports pulled into its namespace
    "fc_net": (fc_net, [public_functions(layers), public_functions(layer_utils)]),
    "cnn": (cnn, [public_functions(layers), public_functions(fast_layers, "_fast"), public_functions(layer_utils)]),
    "rnn": (rnn, [public_functions(layers), set(rnn_layers.__all__)]),
}


@pytest.mark.parametrize("name", sorted(STAR_IMPORTS))
def test_model_modules_provide_what_cs231n_star_imports_did(name):
    module, sources = STAR_IMPORTS[name]
    wanted = set().union(*sources)
    namespace = {}
    exec(f"from course_utils.classifiers.{name} import *", namespace)
    missing = wanted - set(namespace)
    assert not missing, f"from course_utils.classifiers.{name} import * lacks {sorted(missing)}"
    for function in wanted:
        source = next(m for m in (layers, layer_utils, fast_layers, rnn_layers) if hasattr(m, function))
        assert namespace[function] is getattr(source, function)
    assert len(module.__all__) == len(set(module.__all__))


def test_names_the_official_notebooks_call_after_the_star_imports():
    namespace = {}
    exec("from course_utils.classifiers.fc_net import *", namespace)
    for name in ("svm_loss", "softmax_loss", "batchnorm_backward_alt", "affine_relu_forward",
                 "layernorm_forward", "dropout_forward", "TwoLayerNet", "FullyConnectedNet"):
        assert name in namespace, name
    exec("from course_utils.rnn_layers import *", namespace)
    assert namespace["affine_forward"] is layers.affine_forward
    assert namespace["affine_backward"] is layers.affine_backward


# ------------------------------------------------------------------------------- timing

def test_time_function_measures_one_call():
    calls = []

    def slow(a, b=0):
        calls.append((a, b))
        time.sleep(0.02)

    seconds = time_function(slow, 1, b=2)
    assert calls == [(1, 2)] and isinstance(seconds, float) and 0.02 <= seconds < 1.0
