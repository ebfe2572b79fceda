"""The plain-data format between the grader's harness and the worker that runs student code.

A message is one line of JSON. Values are None, booleans, numbers, strings, lists,
tuples, dicts with string keys, numpy arrays and numpy scalars of numeric or boolean
dtype, and references to objects that live in the worker. Reading a message never
runs code: it is ``json.loads`` plus ``numpy.frombuffer`` on a checked dtype, and
anything else is refused. Messages and nesting are bounded, so a hostile peer can
send wrong values but cannot make the reader run, recurse without end or exhaust memory.

Encoded forms (``{"$": kind, ...}`` for everything JSON lacks)::

    {"$": "nd", "dtype": "<f8", "shape": [2, 3], "data": "<base64>"}   numpy array
    {"$": "np", "dtype": "<i8", "data": "<base64>"}                      numpy scalar
    {"$": "tuple", "items": [...]}                                      tuple
    {"$": "dict", "items": [[key, value], ...]}                         dict (key order kept)
    {"$": "float", "repr": "nan" | "inf" | "-inf"}                      non-finite float
    {"$": "dtype", "str": "<f4"}                                         numpy dtype (np.float32 arrives as np.dtype)
    {"$": "ref", "id": 7, "type": "KNearestNeighbor"}                   object in the worker
"""
import base64
import json
import math

import numpy as np

MAX_MESSAGE_BYTES = 512 * 2**20
MAX_DEPTH = 32
_KINDS = "biufc"  # bool, signed, unsigned, float, complex: dtypes that hold no objects


class WireError(ValueError):
    """A message that is not valid plain data."""


class Ref:
    """A handle to an object that stays in the worker (id and its type's name)."""

    __slots__ = ("id", "type_name")

    def __init__(self, id, type_name):
        self.id, self.type_name = int(id), str(type_name)

    def __repr__(self):
        return f"<{self.type_name} object in the worker, ref {self.id}>"

    def __eq__(self, other):
        return isinstance(other, Ref) and other.id == self.id

    def __hash__(self):
        return hash(self.id)


def dumps(value, make_ref=None):
    """One message (str, no newline). ``make_ref(obj) -> Ref`` handles non-plain objects
    (the worker's object table); without it they are an error."""
    return json.dumps(_encode(value, make_ref, 0), separators=(",", ":"), allow_nan=False)


def loads(text):
    """The value of one message; WireError for anything that is not plain data."""
    if len(text) > MAX_MESSAGE_BYTES:
        raise WireError(f"message of {len(text)} bytes is larger than {MAX_MESSAGE_BYTES}")
    try:
        raw = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise WireError(f"not a JSON message: {exc}") from None
    return _decode(raw, 0)


def _dtype_of(value):
    dtype = np.dtype(value.dtype)
    if dtype.kind not in _KINDS or dtype.fields is not None or dtype.subdtype is not None:
        raise WireError(f"arrays of dtype {dtype} cannot be sent (only numbers and booleans)")
    return dtype


def _encode(value, make_ref, depth):
    if depth > MAX_DEPTH:
        raise WireError(f"value nested deeper than {MAX_DEPTH} levels")
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int) and not isinstance(value, np.integer):
        return value
    if isinstance(value, float) and not isinstance(value, np.floating):
        return value if math.isfinite(value) else {"$": "float", "repr": repr(value)}
    if isinstance(value, Ref):
        return {"$": "ref", "id": value.id, "type": value.type_name}
    if isinstance(value, np.ndarray) and value.dtype.kind in _KINDS:
        dtype = _dtype_of(value)
        data = np.ascontiguousarray(value).tobytes()
        return {"$": "nd", "dtype": dtype.str, "shape": list(value.shape),
                "data": base64.b64encode(data).decode("ascii")}
    if isinstance(value, np.generic) and np.dtype(type(value)).kind in _KINDS:
        return {"$": "np", "dtype": value.dtype.str, "data": base64.b64encode(value.tobytes()).decode("ascii")}
    if isinstance(value, np.dtype) or (isinstance(value, type) and issubclass(value, np.generic)):
        return {"$": "dtype", "str": _dtype_of(np.empty(0, dtype=value)).str}
    if isinstance(value, list):
        return [_encode(v, make_ref, depth + 1) for v in value]
    if isinstance(value, tuple):
        return {"$": "tuple", "items": [_encode(v, make_ref, depth + 1) for v in value]}
    if isinstance(value, dict):
        return {"$": "dict", "items": [[_encode(k, make_ref, depth + 1), _encode(v, make_ref, depth + 1)]
                                       for k, v in value.items()]}
    if make_ref is not None:
        return _encode(make_ref(value), None, depth)
    raise WireError(f"a {type(value).__name__} cannot be sent as plain data")


def _decode(raw, depth):
    if depth > MAX_DEPTH:
        raise WireError(f"value nested deeper than {MAX_DEPTH} levels")
    if raw is None or isinstance(raw, (bool, int, float, str)):
        return raw
    if isinstance(raw, list):
        return [_decode(v, depth + 1) for v in raw]
    if not isinstance(raw, dict):
        raise WireError(f"unexpected JSON value of type {type(raw).__name__}")
    kind = raw.get("$")
    if kind == "nd":
        dtype, shape = _checked_dtype(raw.get("dtype")), raw.get("shape")
        if not isinstance(shape, list) or not all(isinstance(n, int) and n >= 0 for n in shape):
            raise WireError(f"bad array shape {shape!r}")
        data = _bytes(raw.get("data"))
        if len(data) != dtype.itemsize * math.prod(shape):
            raise WireError(f"array data of {len(data)} bytes does not fit shape {shape} of {dtype}")
        return np.frombuffer(data, dtype=dtype).reshape(shape).copy()
    if kind == "np":
        dtype = _checked_dtype(raw.get("dtype"))
        data = _bytes(raw.get("data"))
        if len(data) != dtype.itemsize:
            raise WireError(f"scalar data of {len(data)} bytes for {dtype}")
        return np.frombuffer(data, dtype=dtype)[0]
    if kind == "tuple":
        return tuple(_decode(v, depth + 1) for v in _items(raw))
    if kind == "dict":
        pairs = _items(raw)
        if not all(isinstance(p, list) and len(p) == 2 for p in pairs):
            raise WireError("dict items must be [key, value] pairs")
        result = {}
        for key, value in pairs:
            key = _decode(key, depth + 1)
            if not isinstance(key, (str, int, float, bool, tuple)) and key is not None:
                raise WireError(f"dict key of type {type(key).__name__}")
            result[key] = _decode(value, depth + 1)
        return result
    if kind == "float":
        text = raw.get("repr")
        if text not in ("nan", "inf", "-inf"):
            raise WireError(f"bad non-finite float {text!r}")
        return float(text)
    if kind == "dtype":
        return _checked_dtype(raw.get("str"))
    if kind == "ref":
        if not isinstance(raw.get("id"), int) or not isinstance(raw.get("type"), str):
            raise WireError("a ref needs an integer id and a type name")
        return Ref(raw["id"], raw["type"][:200])
    raise WireError(f"unknown encoded kind {kind!r}")


def _checked_dtype(text):
    if not isinstance(text, str) or len(text) > 8:
        raise WireError(f"bad dtype {text!r}")
    try:
        dtype = np.dtype(text)
    except TypeError:
        raise WireError(f"bad dtype {text!r}") from None
    if dtype.kind not in _KINDS:
        raise WireError(f"dtype {dtype} is not allowed (only numbers and booleans)")
    return dtype


def _bytes(text):
    if not isinstance(text, str):
        raise WireError("array data must be a base64 string")
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError):
        raise WireError("array data is not valid base64") from None


def _items(raw):
    items = raw.get("items")
    if not isinstance(items, list):
        raise WireError("encoded container without a list of items")
    return items
