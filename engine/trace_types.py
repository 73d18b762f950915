"""Trace keys as types: which traced signature serves a call, and how `reduce_retracing` relaxes one.

A cache key (engine.function's `_key`) is a nest of leaves: ("T", dtype, shape) for tensors and arrays, and
Variables, Python values and other objects compared by identity or value. A key is a *supertype* of another when
the structures and every non-tensor leaf are equal and each tensor leaf has the same dtype and rank with equal or
unknown (None) dims: a concrete function traced for the supertype runs the call. TensorFlow 2.21's rules:
- dispatch: an exact key first, else the most specific traced supertype;
- `reduce_retracing=True`: on a miss, the call's key is relaxed against every traced key in turn (the most
  specific common supertype, where one exists: each dim that differs becomes None) and traced with that. TF turns
  a rank change into an unknown rank, which Kiln's IR does not have: Kiln relaxes it to every dim None at the
  call's rank, which gives TF's trace counts for the sequences recorded in tests/oracle.
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from engine import nest

_STRUCTURES = ("list", "tuple", "dict")


def _is_tensor_leaf(k: Any) -> bool:
    return isinstance(k, tuple) and len(k) == 3 and k[0] == "T" and isinstance(k[2], tuple)


def is_supertype(general: Any, specific: Any) -> bool:
    """`general` accepts every call that `specific` describes."""
    if _is_tensor_leaf(general) and _is_tensor_leaf(specific):
        return general[1] == specific[1] and len(general[2]) == len(specific[2]) and \
            all(g is None or g == s for g, s in zip(general[2], specific[2]))
    if isinstance(general, tuple) and isinstance(specific, tuple) and general[:1] == specific[:1] and \
            general[:1] and general[0] in _STRUCTURES or _named_structure(general, specific):
        return len(general) == len(specific) and all(is_supertype(g, s) for g, s in zip(general[1:], specific[1:]))
    return general == specific


def _named_structure(a: Any, b: Any) -> bool:
    """Two keys of a namedtuple (or a dict entry): a name, then keys."""
    return isinstance(a, tuple) and isinstance(b, tuple) and len(a) == len(b) and len(a) > 0 and \
        isinstance(a[0], str) and a[0] == b[0] and a[0] not in ("T", "V", "P", "O") and \
        any(isinstance(x, tuple) for x in a[1:])


def common_supertype(a: Any, b: Any) -> Optional[Any]:
    """The most specific key that is a supertype of both, or None where they differ in more than tensor dims."""
    if _is_tensor_leaf(a) and _is_tensor_leaf(b):
        if a[1] != b[1]:
            return None
        if len(a[2]) != len(b[2]):
            return ("T", a[1], (None,) * len(a[2]))
        return ("T", a[1], tuple(x if x == y else None for x, y in zip(a[2], b[2])))
    if isinstance(a, tuple) and isinstance(b, tuple) and a[:1] == b[:1] and len(a) == len(b) and \
            (a[:1] and a[0] in _STRUCTURES or _named_structure(a, b)):
        parts = [common_supertype(x, y) for x, y in zip(a[1:], b[1:])]
        return None if any(p is None for p, x in zip(parts, a[1:]) if x is not None) else (a[0],) + tuple(parts)
    return a if a == b else None


def relax(key: Any, traced: list[Any]) -> Any:
    """TensorFlow's `reduce_retracing` rule: the call's key relaxed against each traced key in turn."""
    relaxed = key
    for other in traced:
        st = common_supertype(relaxed, other)
        if st is not None:
            relaxed = st
    return relaxed


def unknown_dims(key: Any) -> int:
    """How many tensor dims the key leaves unknown (fewer is more specific)."""
    if _is_tensor_leaf(key):
        return sum(1 for d in key[2] if d is None)
    if isinstance(key, tuple):
        return sum(unknown_dims(k) for k in key if isinstance(k, tuple))
    return 0


def most_specific_supertype(key: Any, traced: list[Any]) -> Optional[Any]:
    """The traced key that serves a call of `key`, if any: the supertype with the fewest unknown dims."""
    candidates = [k for k in traced if is_supertype(k, key)]
    return min(candidates, key=unknown_dims) if candidates else None


def respec(value: Any, key: Any, spec: Any) -> Any:
    """`value` (the bound arguments) with each tensor leaf replaced by `spec(shape, dtype_name)` of the matching
    tensor leaf of `key`, so that tracing makes parameters of the key's (relaxed) types."""
    leaves = nest.flatten(value)
    shapes = iter(_tensor_leaves(key))
    out = []
    for leaf in leaves:
        if _tensor_like(leaf):
            _, dtype, shape = next(shapes)
            out.append(spec(shape, dtype))
        else:
            out.append(leaf)
    return nest.pack_sequence_as(value, out) if nest.is_nested(value) else out[0]


def _tensor_leaves(key: Any) -> list[Any]:
    if _is_tensor_leaf(key):
        return [key]
    if isinstance(key, tuple):
        return [leaf for k in key if isinstance(k, tuple) for leaf in _tensor_leaves(k)]
    return []


def _tensor_like(x: Any) -> bool:
    from engine.concrete import TensorSpec, is_numpy_scalar
    from engine.tensor import Tensor
    return isinstance(x, (Tensor, np.ndarray, TensorSpec)) or is_numpy_scalar(x)
