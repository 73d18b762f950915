"""Independent oracles and hypothesis strategies shared by the op-level tests.

- `assert_tensor(got, want)`: a Tensor equals a numpy result in dtype, shape and value (exact for integers and
  bools, relative tolerance for floats).
- `directional_fd(f, xs, ds)`: the float64 central difference of a scalar function along a direction, the oracle
  for every gradient test.
- strategies for dtypes, shapes (scalars and size-0 dimensions included) and arrays of a dtype in a range.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

FLOATS = (np.float32, np.float64)
INTS = (np.int32, np.int64)
NUMERIC = FLOATS + INTS
ALL = NUMERIC + (np.bool_,)

# Relative tolerance when a float result is compared with numpy's result in the same dtype.
RTOL = {np.dtype(np.float32): 1e-6, np.dtype(np.float64): 1e-12}


def assert_tensor(got: Any, want: Any, rtol: float | None = None, atol: float = 0.0) -> None:
    """`got` is an engine Tensor equal to the numpy value `want`: same dtype, same shape, same values."""
    import engine

    want = np.asarray(want)
    assert isinstance(got, engine.Tensor), f"expected an engine.Tensor, got {type(got).__name__}"
    assert got.dtype.name == want.dtype.name, f"dtype {got.dtype.name}, expected {want.dtype.name}"
    assert tuple(got.shape) == want.shape, f"shape {tuple(got.shape)}, expected {want.shape}"
    value = np.asarray(got.numpy())
    assert value.dtype == want.dtype
    if want.dtype.kind == "f":
        np.testing.assert_allclose(value, want, rtol=RTOL[want.dtype] if rtol is None else rtol, atol=atol,
                                   equal_nan=True)
    else:
        np.testing.assert_array_equal(value, want)


def directional_fd(f: Callable[..., float], xs: Sequence[np.ndarray], ds: Sequence[np.ndarray],
                   eps: float = 1e-6) -> float:
    """(f(x + eps d) - f(x - eps d)) / (2 eps), all in float64."""
    plus = f(*[x + eps * d for x, d in zip(xs, ds)])
    minus = f(*[x - eps * d for x, d in zip(xs, ds)])
    return (float(plus) - float(minus)) / (2 * eps)


# ---- strategies ------------------------------------------------------------------------------------------------------
def shapes(min_dims: int = 0, max_dims: int = 3, min_side: int = 0, max_side: int = 4) -> st.SearchStrategy:
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def elements(dtype: Any, lo: float = -10, hi: float = 10) -> st.SearchStrategy:
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return st.booleans()
    if dtype.kind in "iu":
        return st.integers(int(np.ceil(lo)), int(np.floor(hi)))
    # The bounds, rounded inward to the nearest values of the dtype.
    lo_d, hi_d = dtype.type(lo), dtype.type(hi)
    lo_d = lo_d if lo_d >= lo else np.nextafter(lo_d, dtype.type(np.inf))
    hi_d = hi_d if hi_d <= hi else np.nextafter(hi_d, dtype.type(-np.inf))
    return st.floats(float(lo_d), float(hi_d), width=8 * dtype.itemsize, allow_nan=False, allow_infinity=False,
                     allow_subnormal=False)


def arrays(dtype: Any, shape: Any, lo: float = -10, hi: float = 10) -> st.SearchStrategy:
    return hnp.arrays(np.dtype(dtype), shape, elements=elements(dtype, lo, hi))
