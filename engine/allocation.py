"""Impossible allocations fail at once, naming the user's line (issue 13): `check_allocation(public, dims, dtype)`.

Kiln builds `zeros`, `ones` and `fill` as broadcasts of a scalar, which cost nothing until an op reads them; a shape
whose bytes exceed this machine's memory would then fail (or page for minutes) far from the line that asked for it.
"""
from __future__ import annotations

import os
from typing import Any, Sequence

from engine.errors import InvalidArgumentError

_MAX_ELEMENTS = 2**63 - 1


def physical_memory() -> int:
    """Bytes of RAM (plus nothing for swap: a tensor that only fits in swap is not a tensor one can compute with)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 1 << 62


def _user_line() -> str:
    from engine.trace import user_location
    loc = user_location()
    return f" (at {loc[0]}:{loc[1]})" if loc else ""


def check_allocation(public: str, dims: Sequence[int], dtype: Any) -> None:
    count = 1
    for d in dims:
        count *= int(d)
    shape = "[" + ",".join(str(int(d)) for d in dims) + "]"
    if count > _MAX_ELEMENTS:
        raise InvalidArgumentError(f"{public}: shape {shape} would have more than 2**63 - 1 elements{_user_line()}")
    itemsize = getattr(getattr(dtype, "np", None), "itemsize", 8)
    need = count * itemsize
    have = physical_memory()
    if need > have:
        raise MemoryError(f"{public}: a {getattr(dtype, 'name', dtype)} tensor of shape {shape} needs "
                          f"{need / 2**30:,.1f} GiB; this machine has {have / 2**30:,.1f} GiB of memory"
                          f"{_user_line()}")
