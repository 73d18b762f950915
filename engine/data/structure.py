"""tf.data's element structure: tuples (namedtuples too) and dicts nest; everything else, lists included, is one
component (TF converts a list to a tensor)."""
from __future__ import annotations

from typing import Any, Callable

__all__ = ["map_structure", "flatten", "pack_as"]


def _is_struct(x: Any) -> bool:
    return isinstance(x, (tuple, dict))


def map_structure(fn: Callable[..., Any], *structures: Any) -> Any:
    first = structures[0]
    if isinstance(first, dict):
        return type(first)((k, map_structure(fn, *[s[k] for s in structures])) for k in first)
    if isinstance(first, tuple):
        items = [map_structure(fn, *parts) for parts in zip(*structures)]
        return type(first)(*items) if hasattr(first, "_fields") else tuple(items)
    return fn(*structures)


def flatten(x: Any) -> list:
    if isinstance(x, dict):
        return [leaf for k in x for leaf in flatten(x[k])]
    if isinstance(x, tuple):
        return [leaf for item in x for leaf in flatten(item)]
    return [x]


def pack_as(structure: Any, flat: list) -> Any:
    it = iter(flat)
    return map_structure(lambda _: next(it), structure)
