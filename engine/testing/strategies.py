"""Hypothesis strategies for property-testing tensor code: dtypes, shapes, broadcastable shape pairs, and arrays
with finite values in a chosen domain.

>>> from hypothesis import given
>>> from engine.testing import strategies as kst
>>> @given(kst.arrays(kst.float_dtypes(), kst.shapes(max_rank=2), domain="positive"))
... def test_log_is_finite(x): ...
"""
from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st

from ir.types import ALL_DTYPES, FLOAT_DTYPES, INT_DTYPES, DType

__all__ = ["dtypes", "float_dtypes", "int_dtypes", "shapes", "broadcastable_shapes", "arrays", "DOMAINS"]

#: domain name -> (low, high, keep-away-from-zero)
DOMAINS = {
    "real": (-3.0, 3.0, 0.0),
    "positive": (0.1, 3.0, 0.0),        # log, sqrt, rsqrt, pow bases
    "nonzero": (-3.0, 3.0, 0.25),       # divisors
    "unit": (-0.95, 0.95, 0.0),         # inside (-1, 1)
    "small": (-1.0, 1.0, 0.0),
}


def dtypes() -> st.SearchStrategy[DType]:
    return st.sampled_from(ALL_DTYPES)


def float_dtypes() -> st.SearchStrategy[DType]:
    return st.sampled_from(FLOAT_DTYPES)


def int_dtypes() -> st.SearchStrategy[DType]:
    return st.sampled_from(INT_DTYPES)


def shapes(min_rank: int = 0, max_rank: int = 3, min_side: int = 1, max_side: int = 4
           ) -> st.SearchStrategy[tuple[int, ...]]:
    return st.lists(st.integers(min_side, max_side), min_size=min_rank, max_size=max_rank).map(tuple)


@st.composite
def broadcastable_shapes(draw: Any, max_rank: int = 3, max_side: int = 4) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Two shapes that broadcast together (numpy's rules): each side may drop leading axes or use 1s."""
    base = draw(shapes(0, max_rank, 1, max_side))

    def derive() -> tuple[int, ...]:
        keep = draw(st.integers(0, len(base)))
        dims = base[len(base) - keep:]
        return tuple(1 if draw(st.booleans()) else d for d in dims)
    return derive(), derive()


@st.composite
def arrays(draw: Any, dtype: Any, shape: Any, domain: str = "real", distinct: bool = False) -> np.ndarray:
    """Arrays of the given dtype/shape (values or strategies) with finite values in `domain` (see DOMAINS);
    `distinct` keeps values apart (for max/min/sort-like ops whose gradient needs a unique extremum)."""
    dt = draw(dtype) if isinstance(dtype, st.SearchStrategy) else dtype
    shp = draw(shape) if isinstance(shape, st.SearchStrategy) else tuple(shape)
    n = int(np.prod(shp, dtype=np.int64))
    if dt.is_bool:
        return np.asarray(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool).reshape(shp)
    if dt.is_integer:
        low = 0 if dt.is_unsigned else -20
        return np.asarray(draw(st.lists(st.integers(low, 20), min_size=n, max_size=n)), dtype=dt.np).reshape(shp)
    lo, hi, gap = DOMAINS[domain]
    seed = draw(st.integers(0, 2 ** 32 - 1))
    rng = np.random.default_rng(seed)
    if distinct:
        values = np.linspace(lo, hi, max(n, 1))[:n]
        rng.shuffle(values)
    else:
        values = rng.uniform(lo, hi, size=n)
    if gap:
        values = np.where(np.abs(values) < gap, np.copysign(gap, values) + values, values)
    return values.astype(dt.np).reshape(shp)


