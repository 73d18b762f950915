"""Nested structures of lists, tuples, namedtuples and dicts, flattened in TensorFlow's order (dict keys sorted).

A composite value (a traced `TensorArray`) is a structure too: its `_kiln_components()` lists the tensors it is made
of (None: it is a leaf right now), and `_kiln_rebuild(components)` makes a new one of the same kind from them.
"""
from __future__ import annotations

from typing import Any, Callable, Iterator


def is_nested(x: Any) -> bool:
    return isinstance(x, (list, tuple, dict)) or _components(x) is not None


def _components(x: Any) -> Any:
    get = getattr(type(x), "_kiln_components", None)
    return None if get is None else get(x)


def _children(x: Any) -> Iterator[Any]:
    parts = _components(x)
    if parts is not None:
        yield from parts
    elif isinstance(x, dict):
        for k in sorted(x, key=_sort_key):
            yield x[k]
    else:
        yield from x


def _sort_key(k: Any) -> Any:
    return (type(k).__name__, k) if not isinstance(k, (int, float, str)) else (0, str(type(k)), k)


def flatten(x: Any) -> list[Any]:
    if not is_nested(x):
        return [x]
    out: list[Any] = []
    for c in _children(x):
        out.extend(flatten(c))
    return out


def pack_sequence_as(structure: Any, flat: list[Any]) -> Any:
    it = iter(flat)
    result = _pack(structure, it)
    rest = list(it)
    if rest:
        raise ValueError(f"pack_sequence_as: {len(rest)} value(s) left over for structure {structure!r}")
    return result


def _pack(structure: Any, it: Iterator[Any]) -> Any:
    if not is_nested(structure):
        try:
            return next(it)
        except StopIteration:
            raise ValueError("pack_sequence_as: too few values for the structure") from None
    parts = _components(structure)
    if parts is not None:
        return structure._kiln_rebuild([_pack(c, it) for c in parts])
    if isinstance(structure, dict):
        packed = {k: _pack(structure[k], it) for k in sorted(structure, key=_sort_key)}
        return type(structure)((k, packed[k]) for k in structure) if type(structure) is not dict else \
            {k: packed[k] for k in structure}
    items = [_pack(c, it) for c in structure]
    if isinstance(structure, tuple) and hasattr(structure, "_fields"):
        return type(structure)(*items)
    return type(structure)(items)


def map_structure(fn: Callable[..., Any], *structures: Any) -> Any:
    flats = [flatten(s) for s in structures]
    if len({len(f) for f in flats}) > 1:
        raise ValueError("map_structure: the structures have different numbers of leaves")
    return pack_sequence_as(structures[0], [fn(*xs) for xs in zip(*flats)])


def assert_same_structure(a: Any, b: Any) -> None:
    """ValueError unless `a` and `b` nest the same containers (leaves may differ)."""
    if is_nested(a) != is_nested(b):
        raise ValueError(f"structures differ: {a!r} vs {b!r}")
    if not is_nested(a):
        return
    if (_components(a) is None) != (_components(b) is None) or \
            (_components(a) is not None and (type(a) is not type(b) or len(_components(a)) != len(_components(b)))):
        raise ValueError(f"structures differ: {a!r} vs {b!r}")
    if _components(a) is not None:
        return
    if isinstance(a, dict) != isinstance(b, dict):
        raise ValueError(f"structures differ: {a!r} vs {b!r}")
    if isinstance(a, dict):
        if set(a) != set(b):
            raise ValueError(f"dict keys differ: {sorted(map(str, a))} vs {sorted(map(str, b))}")
        for k in a:
            assert_same_structure(a[k], b[k])
        return
    if len(a) != len(b):
        raise ValueError(f"lengths differ: {len(a)} vs {len(b)}")
    for x, y in zip(a, b):
        assert_same_structure(x, y)
