"""The checks every public op makes before `dispatch.apply`: convert operands, refuse mixed dtypes, broadcast.

This is where TensorFlow's observable dtype rules live, once: the IR below never promotes or broadcasts.
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

from autodiff import tape as _tape
from engine import dispatch
from engine.convert import beside, convert_to_tensor
from engine.dispatch import apply
from engine.errors import InvalidDTypeError
from engine.tensor import Tensor, TensorLike
from ir.opdef import OPS, OpDef
from ir.ops_state import InvalidArgumentError
from ir.types import ALL_DTYPES, DType

BROADCAST_TO = OPS["broadcast_to"]
DIM = OPS["dim"]
CONVERT = OPS["convert"]


def raw_shape(t: Tensor) -> tuple[int, ...]:
    return t._value.shape if t._node is None else t._node.type.shape


def as_tensor(x: Any) -> Tensor:
    if type(x) is Tensor:
        return x
    if isinstance(x, TensorLike):
        return x.value()  # type: ignore[attr-defined]
    return convert_to_tensor(x)


def convert_pair(x: Any, y: Any) -> tuple[Tensor, Tensor]:
    """Two operands as tensors: a Python or numpy value next to a tensor takes its dtype (see `beside`)."""
    xt = isinstance(x, TensorLike)
    yt = isinstance(y, TensorLike)
    if xt:
        x = as_tensor(x)
    if yt:
        y = as_tensor(y)
    if xt and not yt:
        y = beside(y, x.dtype)
    elif yt and not xt:
        x = beside(x, y.dtype)
    elif not xt and not yt:
        x = convert_to_tensor(x)
        y = convert_to_tensor(y, dtype_hint=x.dtype)
        if x.dtype is not y.dtype and not isinstance(x, (np.ndarray, np.generic)):
            x = convert_to_tensor(x.numpy().tolist(), dtype_hint=y.dtype)
    return x, y


def convert_all(values: Sequence[Any], dtype: Optional[DType] = None) -> list[Tensor]:
    """The operands of a many-input op (concat, stack) as tensors: Python and numpy values take the dtype of the
    first tensor among them (else `dtype`, else the first value's own), as TensorFlow's eager conversion does."""
    first = next((v for v in values if isinstance(v, TensorLike)), None)
    if first is not None:
        dtype = first.dtype
    elif dtype is None and values:
        dtype = as_tensor(values[0]).dtype
    return [as_tensor(v) if isinstance(v, TensorLike) else beside(v, dtype) for v in values]


def mixed_dtypes(opname: str, *ts: Tensor) -> InvalidDTypeError:
    desc = " and ".join(f"{t.dtype.name} {tuple(raw_shape(t))}" for t in ts)
    return InvalidDTypeError(f"{opname}: cannot mix dtypes ({desc}); tensors of different dtypes never mix implicitly, "
                     f"cast one with engine.cast")


def check_dtype(opdef: OpDef, t: Tensor, public: str) -> None:
    allowed: Sequence[DType] = opdef.dtypes or ALL_DTYPES
    if t.dtype not in allowed:
        raise InvalidDTypeError(f"{public}: dtype {t.dtype.name} is not supported (allowed: "
                        f"{', '.join(d.name for d in allowed)})")


def floating(x: Any, public: str) -> Tensor:
    """`x` as a tensor, which must be floating-point (for composites whose pieces would name another op)."""
    x = as_tensor(x)
    if not x.dtype.is_floating:
        raise InvalidDTypeError(f"{public}: expected a floating-point tensor, got {x.dtype.name}")
    return x


def broadcast_shapes(opname: str, *shapes: Sequence[Optional[int]]) -> tuple[Optional[int], ...]:
    """numpy's broadcast of static shapes; with unknown dims (None, while tracing), a known dim other than 1 wins
    (the unknown one must be it or 1 at run time) and unknown dims meeting only 1s or each other stay unknown."""
    if all(None not in s for s in shapes):
        try:
            return tuple(np.broadcast_shapes(*shapes))
        except ValueError:
            pass
    else:
        rank = max(len(s) for s in shapes)
        out: list[Optional[int]] = []
        for i in range(rank):
            dims = [s[i - rank + len(s)] for s in shapes if i - rank + len(s) >= 0]
            known = {d for d in dims if d is not None and d != 1}
            if len(known) > 1:
                break
            out.append(known.pop() if known else None if None in dims else 1)
        else:
            return tuple(out)
    raise InvalidArgumentError(f"{opname}: incompatible shapes {' and '.join(str(tuple(s)) for s in shapes)} "
                               f"cannot be broadcast together")


def run_time_sizes(shape: Sequence[Optional[int]], sources: Sequence[Tensor]) -> list[Tensor]:
    """The size operands of a row making `shape` (ir.ops_dims): for each unknown dim, a `dim` of the first source
    whose dim at that axis (aligned from the right, as broadcasting aligns) is unknown too."""
    sizes = []
    for i, d in enumerate(shape):
        if d is not None:
            continue
        for s in sources:
            ss = raw_shape(s)
            j = i - len(shape) + len(ss)
            if 0 <= j < len(ss) and ss[j] is None:
                sizes.append(apply(DIM, s, axis=j))
                break
        else:
            raise ValueError(f"the size of unknown dim {i} of shape {tuple(shape)} comes from none of the operands")
    return sizes


def broadcast(t: Tensor, shape: tuple[Optional[int], ...], *sources: Tensor) -> Tensor:
    """t broadcast to `shape`; unknown dims of `shape` are sizes of t or of `sources` (run_time_sizes)."""
    if raw_shape(t) == shape:
        return t
    return apply(BROADCAST_TO, t, *run_time_sizes(shape, (t,) + sources), shape=shape)


def unary(opdef: OpDef, x: Any, public: str) -> Tensor:
    if type(x) is not Tensor:
        x = as_tensor(x)
    check_dtype(opdef, x, public)
    return apply(opdef, x)


def _np_dtypes(opdef: OpDef) -> frozenset:
    """The numpy dtypes of the eager fast path (a dtype not imported yet, bfloat16, takes `apply`)."""
    return frozenset(d.np for d in opdef.dtypes or ALL_DTYPES if d.loaded)


_NP_DTYPES = {opdef: _np_dtypes(opdef) for opdef in OPS.values() if opdef.kind == "elementwise"}


def binary(opdef: OpDef, x: Any, y: Any, public: str) -> Tensor:
    """Elementwise binary op with TensorFlow's rules: equal dtypes, numpy broadcasting."""
    # The fast paths skip `apply`, so they are not taken while a hook watches every op (dispatch.after_op: check
    # numerics, the profiler's eager counts).
    if type(x) is Tensor and type(y) is Tensor and not dispatch._tracer and dispatch.after_op is None:
        # The eager fast path (two eager tensors of one type): what `apply` would do, without the generic checks.
        xv, yv = x._value, y._value
        if xv.dtype == yv.dtype and xv.shape == yv.shape and xv.dtype in _NP_DTYPES[opdef] and x._node is None \
                and y._node is None:
            result = Tensor(opdef.eager(xv, yv))
            if _tape.active:
                _tape.record(opdef, (x, y), (result,), {})
            return result
    elif not _tape.active and not dispatch._tracer and dispatch.after_op is None:
        # An eager tensor with a Python number (`x * 2.0`): the number takes the tensor's dtype and numpy
        # broadcasts it. Nothing records this op, so no broadcast_to needs to exist for a gradient rule.
        fast = _with_python_scalar(opdef, x, y)
        if fast is not None:
            return fast
    if type(x) is not Tensor or type(y) is not Tensor:
        x, y = convert_pair(x, y)
    dx = x.dtype
    if dx is not y.dtype:
        raise mixed_dtypes(public, x, y)
    if dx not in opdef.dtypes:
        check_dtype(opdef, x, public)
    sx, sy = raw_shape(x), raw_shape(y)
    if sx != sy:
        shape = broadcast_shapes(public, sx, sy)
        x, y = broadcast(x, shape, y), broadcast(y, shape, x)
    return apply(opdef, x, y)


_PY_NUMBERS = (float, int)


def _with_python_scalar(opdef: OpDef, x: Any, y: Any) -> Any:
    if type(x) is Tensor and type(y) in _PY_NUMBERS and x._node is None:
        t, v, tensor_first = x, y, True
    elif type(y) is Tensor and type(x) in _PY_NUMBERS and y._node is None:
        t, v, tensor_first = y, x, False
    else:
        return None
    tv = t._value
    dt = tv.dtype
    if dt not in _NP_DTYPES[opdef] or (dt.kind != "f" and type(v) is float):
        return None
    try:
        s = dt.type(v)
    except OverflowError:
        return None  # the general path names the problem
    if dt.kind != "f" and s != v:
        return None
    return Tensor(opdef.eager(tv, s) if tensor_first else opdef.eager(s, tv))


def cast(x: Any, dtype: DType) -> Tensor:
    x = as_tensor(x)
    return x if x.dtype is dtype else apply(CONVERT, x, dtype=dtype)


def full(value: Any, dtype: DType, shape: Sequence[Optional[int]], *like: Tensor) -> Tensor:
    """`value` broadcast to `shape`; its unknown dims are those of `like` (run_time_sizes)."""
    c = apply(OPS["constant"], value=np.asarray(value, dtype=dtype.np))
    return broadcast(c, tuple(shape), *like)
