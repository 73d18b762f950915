"""Observations: what a program produced, as plain JSON, and the comparison of two of them.

`observe(tf, value)` works for TensorFlow and Kiln alike (it only uses what both expose: `tf.is_tensor`,
`tf.Variable`, `tf.DType`, `tf.TensorShape`, `.numpy()`, `.dtype.name`). Floats are stored as Python floats (a
float32 widens exactly), with NaN and infinities as strings, so the golden files stay valid JSON.
"""
from __future__ import annotations

import math
from typing import Any, Optional

import numpy as np

# name -> (rtol, atol) for floating-point leaves. Integers, booleans and everything structural compare exactly.
TOLERANCES: dict[str, tuple[float, float]] = {
    "exact": (0.0, 0.0),            # shape ops, integer programs, exactly representable float results
    "arith": (1e-5, 1e-6),          # float arithmetic: + - * / matmul, reductions
    "transc": (1e-4, 1e-5),         # chains of transcendental functions (exp, log, tanh, sin, ...)
    "grad": (1e-4, 1e-5),           # gradients, including through loops and conds
    "loose": (1e-3, 1e-4),          # many steps of an optimizer or a training loop
}


def _floats(a: np.ndarray) -> list:
    out = []
    for x in a.reshape(-1).tolist():
        out.append(x if math.isfinite(x) else repr(float(x)))
    return out


def _array(a: np.ndarray) -> dict:
    a = np.asarray(a)
    name = a.dtype.name
    if a.dtype.kind == "f" or name == "bfloat16":
        values = _floats(a.astype(np.float64))
    elif a.dtype.kind == "c":
        values = [[z.real, z.imag] for z in a.reshape(-1).tolist()]
    elif a.dtype.kind in "SUO":
        values = [x.decode() if isinstance(x, bytes) else str(x) for x in a.reshape(-1).tolist()]
    else:
        values = a.reshape(-1).tolist()
    return {"dtype": name, "shape": list(a.shape), "v": values}


def observe(tf: Any, value: Any) -> Any:
    """The JSON form of what a program left in `result`."""
    if value is None:
        return None
    if isinstance(value, tf.Variable):
        return {"variable": _tensor(value)}
    if tf.is_tensor(value):
        return {"tensor": _tensor(value)}
    if isinstance(value, tf.DType):
        return {"dtype": value.name}
    if isinstance(value, tf.TensorShape):
        dims = None if value.rank is None else [None if d is None else int(d) for d in value.as_list()]
        return {"shape": dims}
    if isinstance(value, bool):
        return {"bool": value}
    if isinstance(value, int):
        return {"int": value}
    if isinstance(value, float):
        return {"float": value if math.isfinite(value) else repr(value)}
    if isinstance(value, str):
        return {"str": value}
    if isinstance(value, (np.ndarray, np.generic)):
        return {"ndarray" if isinstance(value, np.ndarray) else "npscalar": _array(np.asarray(value))}
    if isinstance(value, tuple):
        return {"tuple": [observe(tf, v) for v in value]}
    if isinstance(value, list):
        return {"list": [observe(tf, v) for v in value]}
    if isinstance(value, dict):
        return {"dict": {str(k): observe(tf, v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}}
    return {"object": type(value).__name__}


def _tensor(t: Any) -> dict:
    a = np.asarray(t.numpy())
    out = _array(a)
    out["dtype"] = t.dtype.name
    return out


def observe_error(exc: BaseException) -> dict:
    """The exception's type; `mro` lets a Kiln exception match TF's when it derives from a class of that name."""
    return {"error": type(exc).__name__, "mro": [c.__name__ for c in type(exc).__mro__[:-2]],
            "message": str(exc).splitlines()[0][:300] if str(exc) else ""}


# ---- comparison -----------------------------------------------------------------------------------------------------
def _num(x: Any) -> float:
    return float(x)  # finite floats, or 'nan' / 'inf' / '-inf'



def _close_leaf(a: dict, b: dict, rtol: float, atol: float) -> Optional[str]:
    if a["dtype"] != b["dtype"]:
        return f"dtype {b['dtype']} != {a['dtype']}"
    if a["shape"] != b["shape"]:
        return f"shape {b['shape']} != {a['shape']}"
    if a["v"] == b["v"]:
        return None
    kind = np.dtype(a["dtype"]).kind if a["dtype"] not in ("bfloat16", "string") else "f"
    if kind != "f":
        return f"values {b['v'][:8]} != {a['v'][:8]}"
    x = np.array([_num(v) for v in a["v"]], dtype=np.float64)
    y = np.array([_num(v) for v in b["v"]], dtype=np.float64)
    same_nan = np.isnan(x) == np.isnan(y)
    both_inf = np.isinf(x) | np.isinf(y)
    ok = same_nan & np.where(both_inf, x == y, np.abs(x - y) <= atol + rtol * np.abs(x))
    ok |= np.isnan(x) & np.isnan(y)
    if ok.all():
        return None
    i = int(np.argmin(ok))
    return f"value at flat index {i}: {y[i]!r} != {x[i]!r} (rtol {rtol}, atol {atol}; {int((~ok).sum())} differ)"


def compare(expected: Any, actual: Any, tol: str, path: str = "result") -> Optional[str]:
    """None if `actual` matches `expected` (TF's observation) within the tolerance class; else where it differs."""
    rtol, atol = TOLERANCES[tol]
    if expected is None or actual is None:
        return None if expected is actual else f"{path}: {_short(actual)} where TensorFlow gives {_short(expected)}"
    if "error" in expected or "error" in actual:
        if "error" in expected and "error" in actual and expected["error"] in actual["mro"]:
            return None
        return f"{path}: {_short(actual)} where TensorFlow gives {_short(expected)}"
    (ek, ev), = expected.items()
    (ak, av), = actual.items()
    if ek != ak:
        return f"{path}: {ak} where TensorFlow gives {ek} ({_short(actual)} vs {_short(expected)})"
    if ek in ("tensor", "variable", "ndarray", "npscalar"):
        why = _close_leaf(ev, av, rtol, atol)
        return None if why is None else f"{path}: {why}"
    if ek == "float":
        e, a = _num(ev), _num(av)
        if e == a or (math.isnan(e) and math.isnan(a)) or abs(e - a) <= atol + rtol * abs(e):
            return None
        return f"{path}: {a!r} != {e!r}"
    if ek in ("list", "tuple"):
        if len(ev) != len(av):
            return f"{path}: {ak} of length {len(av)} where TensorFlow gives length {len(ev)}"
        for i, (e, a) in enumerate(zip(ev, av)):
            why = compare(e, a, tol, f"{path}[{i}]")
            if why:
                return why
        return None
    if ek == "dict":
        if list(ev) != list(av):
            return f"{path}: keys {list(av)} where TensorFlow gives {list(ev)}"
        for k in ev:
            why = compare(ev[k], av[k], tol, f"{path}[{k!r}]")
            if why:
                return why
        return None
    return None if ev == av else f"{path}: {av!r} where TensorFlow gives {ev!r}"


def _short(obs: Any) -> str:
    text = repr(obs)
    return text if len(text) < 160 else text[:157] + "..."
