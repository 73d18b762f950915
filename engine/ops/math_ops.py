"""Elementwise public ops with TensorFlow's names and signatures (tf.add, tf.math.log1p, tf.where, ...).

Each is one line over a row of the op table, or a composite of rows; dtype and broadcasting rules are the funnel's.
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from engine.convert import convert_to_tensor
from engine.dispatch import apply
from engine.errors import InvalidDTypeError
from engine.ops.funnel import (as_tensor, binary, broadcast_shapes, broadcast_together, cast as _cast,
                               convert_pair, floating, full, mixed_dtypes, raw_shape, unary)
from engine.tensor import Tensor, TensorLike
from ir.opdef import OPS
from ir.ops_state import InvalidArgumentError
from ir.types import DType, as_dtype, bool_, float32, float64

_O = OPS


def add(x: Any, y: Any, name: Optional[str] = None) -> Tensor:
    """x + y with broadcasting. `tf.add`."""
    return binary(_O["add"], x, y, "add")


def subtract(x: Any, y: Any, name: Optional[str] = None) -> Tensor:
    return binary(_O["sub"], x, y, "subtract")


def multiply(x: Any, y: Any, name: Optional[str] = None) -> Tensor:
    return binary(_O["mul"], x, y, "multiply")


def divide(x: Any, y: Any, name: Optional[str] = None) -> Tensor:
    """True division; integer operands are converted first, as TensorFlow's truediv does: 8- and 16-bit ones to
    float32, 32- and 64-bit ones to float64."""
    if not isinstance(x, Tensor) or not isinstance(y, Tensor):
        x, y = convert_pair(x, y)
    if x.dtype is not y.dtype:
        raise mixed_dtypes("divide", x, y)
    if x.dtype.is_integer:
        to = float32 if x.dtype.size <= 2 else float64
        x, y = _cast(x, to), _cast(y, to)
    return binary(_O["div"], x, y, "divide")


truediv = divide


def floordiv(x: Any, y: Any, name: Optional[str] = None) -> Tensor:
    """Division rounding toward -inf (`//`)."""
    return binary(_O["floordiv"], x, y, "floordiv")


def floormod(x: Any, y: Any, name: Optional[str] = None) -> Tensor:
    """Remainder with the sign of the divisor (`%`), as Python and tf.math.floormod."""
    return binary(_O["mod"], x, y, "floormod")


mod = floormod


def pow(x: Any, y: Any, name: Optional[str] = None) -> Tensor:  # noqa: A001  (TensorFlow's name)
    return binary(_O["pow"], x, y, "pow")


def maximum(x: Any, y: Any, name: Optional[str] = None) -> Tensor:
    return binary(_O["maximum"], x, y, "maximum")


def minimum(x: Any, y: Any, name: Optional[str] = None) -> Tensor:
    return binary(_O["minimum"], x, y, "minimum")


def squared_difference(x: Any, y: Any, name: Optional[str] = None) -> Tensor:
    d = subtract(x, y)
    return multiply(d, d)


def negative(x: Any, name: Optional[str] = None) -> Tensor:
    return unary(_O["neg"], x, "negative")


def abs(x: Any, name: Optional[str] = None) -> Tensor:  # noqa: A001
    return unary(_O["abs"], x, "abs")


def sign(x: Any, name: Optional[str] = None) -> Tensor:
    return unary(_O["sign"], x, "sign")


def square(x: Any, name: Optional[str] = None) -> Tensor:
    x = as_tensor(x)
    return multiply(x, x)


def reciprocal(x: Any, name: Optional[str] = None) -> Tensor:
    """1 / x of a floating-point tensor (TensorFlow has no integer kernel)."""
    x = floating(x, "reciprocal")
    return divide(full(1, x.dtype, ()), x)


def _unary_public(opname: str, public: str) -> Any:
    opdef = _O[opname]

    def fn(x: Any, name: Optional[str] = None) -> Tensor:
        return unary(opdef, x, public)
    fn.__name__ = public
    fn.__doc__ = f"Elementwise {public}, as `tf.math.{public}`; floating-point dtypes only."
    return fn


sqrt = _unary_public("sqrt", "sqrt")
rsqrt = _unary_public("rsqrt", "rsqrt")
exp = _unary_public("exp", "exp")
expm1 = _unary_public("expm1", "expm1")
log = _unary_public("log", "log")
log1p = _unary_public("log1p", "log1p")
sin = _unary_public("sin", "sin")
cos = _unary_public("cos", "cos")
tanh = _unary_public("tanh", "tanh")
sigmoid = _unary_public("logistic", "sigmoid")
erf = _unary_public("erf", "erf")
floor = _unary_public("floor", "floor")
ceil = _unary_public("ceil", "ceil")
_round = _unary_public("round", "round")


def round(x: Any, name: Optional[str] = None) -> Tensor:  # noqa: A001
    """Rounds half to even, as tf.math.round; integer tensors come back unchanged."""
    x = as_tensor(x)
    return x if x.dtype.is_integer else _round(x)


def tan(x: Any, name: Optional[str] = None) -> Tensor:
    return divide(sin(x), cos(x))


def softplus(x: Any, name: Optional[str] = None) -> Tensor:
    """log(1 + exp(x)) without overflow; its gradient is sigmoid(x) everywhere (0.5 at 0), as TensorFlow's."""
    relu_part, log_part = softplus_pieces(floating(x, "softplus"))
    return add(relu_part, log_part)


def softplus_pieces(x: Tensor) -> tuple[Tensor, Tensor]:
    """max(x, 0) and log1p(exp(-|x|)), whose sum is softplus(x), written so that their gradients sum to sigmoid(x)
    at 0 too: both are taken by `where` on the sign of x from pieces that are smooth where they are taken
    (x and -x for x > 0, 0 and x otherwise). Built from maximum and abs instead, their kink conventions (all of the
    gradient to x at a tie, none at |0|) would give 1 at 0 instead of TensorFlow's 0.5."""
    zero = full(0, x.dtype, ())
    positive = greater(x, zero)
    return where(positive, x, zero), log1p(exp(where(positive, negative(x), x)))


def log_sigmoid(x: Any, name: Optional[str] = None) -> Tensor:
    """log(sigmoid(x)) = -softplus(-x); the gradient is sigmoid(-x) (0.5 at 0)."""
    return negative(softplus(negative(floating(x, "log_sigmoid"))))


def is_nan(x: Any, name: Optional[str] = None) -> Tensor:
    x = floating(x, "is_nan")
    return not_equal(x, x)


def is_inf(x: Any, name: Optional[str] = None) -> Tensor:
    x = floating(x, "is_inf")
    return equal(abs(x), full(np.inf, x.dtype, ()))


def is_finite(x: Any, name: Optional[str] = None) -> Tensor:
    x = floating(x, "is_finite")
    return logical_not(logical_or(is_nan(x), is_inf(x)))


def divide_no_nan(x: Any, y: Any, name: Optional[str] = None) -> Tensor:
    """x / y, and 0 wherever y is 0; integers are divided as floats (float64), as `divide` does."""
    x, y = convert_pair(x, y)
    if x.dtype is y.dtype and x.dtype.is_integer:
        x, y = _cast(x, float64), _cast(y, float64)
    zero = full(0, y.dtype, ())
    is_zero = equal(y, zero)
    safe = where(is_zero, full(1, y.dtype, ()), y)
    return where(is_zero, full(0, y.dtype, ()), divide(x, safe))


# ---- comparisons and logic -------------------------------------------------------------------------------------------
def equal(x: Any, y: Any, name: Optional[str] = None) -> Tensor:
    return binary(_O["eq"], x, y, "equal")


def not_equal(x: Any, y: Any, name: Optional[str] = None) -> Tensor:
    return binary(_O["ne"], x, y, "not_equal")


def less(x: Any, y: Any, name: Optional[str] = None) -> Tensor:
    return binary(_O["lt"], x, y, "less")


def less_equal(x: Any, y: Any, name: Optional[str] = None) -> Tensor:
    return binary(_O["le"], x, y, "less_equal")


def greater(x: Any, y: Any, name: Optional[str] = None) -> Tensor:
    return binary(_O["gt"], x, y, "greater")


def greater_equal(x: Any, y: Any, name: Optional[str] = None) -> Tensor:
    return binary(_O["ge"], x, y, "greater_equal")


def logical_and(x: Any, y: Any, name: Optional[str] = None) -> Tensor:
    return binary(_O["logical_and"], x, y, "logical_and")


def logical_or(x: Any, y: Any, name: Optional[str] = None) -> Tensor:
    return binary(_O["logical_or"], x, y, "logical_or")


def logical_not(x: Any, name: Optional[str] = None) -> Tensor:
    return unary(_O["logical_not"], x, "logical_not")


def logical_xor(x: Any, y: Any, name: Optional[str] = None) -> Tensor:
    return binary(_O["ne"], *_bools(x, y, "logical_xor"), "logical_xor")


def _bools(x: Any, y: Any, public: str) -> tuple[Tensor, Tensor]:
    x, y = convert_pair(x, y)
    for t in (x, y):
        if t.dtype is not bool_:
            raise InvalidDTypeError(f"{public}: expected bool tensors, got {t.dtype.name}")
    return x, y


def tensor_equals(x: Any, y: Any) -> Any:
    """`x == y` as TensorFlow 2: elementwise; a bool scalar False when the shapes cannot broadcast; Python False
    against None. An operand that does not convert (a string, a float next to an integer tensor) is a TypeError,
    and so are tensors of two dtypes."""
    if y is None:
        return False
    x, y = convert_pair(x, y)
    if x.dtype is not y.dtype:
        raise mixed_dtypes("equal", x, y)
    try:
        broadcast_shapes("equal", raw_shape(x), raw_shape(y))
    except ValueError:
        return full(False, bool_, ())
    return equal(x, y)


def tensor_not_equals(x: Any, y: Any) -> Any:
    """`x != y`: the negation of `tensor_equals` (Python True against None)."""
    r = tensor_equals(x, y)
    return True if r is False else logical_not(r)


# ---- select, cast, clip ----------------------------------------------------------------------------------------------
def where(condition: Any, x: Any = None, y: Any = None, name: Optional[str] = None) -> Tensor:
    """`tf.where`: elements of x where condition holds, else of y, all three broadcast together.

    With only `condition`, the int64 coordinates of its true elements, shape [n, rank] (in a traced function n is
    known when it runs).
    """
    c = as_tensor(condition)
    if x is None and y is None:  # numeric conditions count as true where non-zero, as in TensorFlow
        return apply(_O["argwhere"], c)
    if c.dtype is not bool_:
        raise InvalidDTypeError(f"where: condition must be bool, got {c.dtype.name}")
    if x is None or y is None:
        raise ValueError("where: give both x and y, or neither")
    x, y = convert_pair(x, y)
    if x.dtype is not y.dtype:
        raise mixed_dtypes("where", x, y)
    shape = broadcast_shapes("where", raw_shape(c), raw_shape(x), raw_shape(y))
    return apply(_O["select"], *broadcast_together(shape, c, x, y))


def cast(x: Any, dtype: Any, name: Optional[str] = None) -> Tensor:
    """Converts to `dtype`; floats to integers truncate toward zero, numbers to bool test for non-zero."""
    return _cast(as_tensor(x), as_dtype(dtype))


def saturate_cast(value: Any, dtype: Any, name: Optional[str] = None) -> Tensor:
    """Casts to `dtype`, clamping values outside its range to its bounds first, as `tf.dtypes.saturate_cast`.

    The bounds are the source values nearest the destination's range from inside (float32 to int32 saturates at
    2147483520, float16 to int32 at +-65504: TensorFlow's answers); NaN casts as `cast` does. TF 2.21 overflows
    computing some bounds (int64 to uint64 or bfloat16 gives all zeros or -2**63; float32/float64/bfloat16 to int64
    casts inf to -2**63); Kiln clamps to the largest source value in range there.
    """
    dt = as_dtype(dtype)
    x = as_tensor(value)
    src = x.dtype
    if src is bool_ or dt is bool_:
        raise TypeError(f"saturate_cast: bool has no range to saturate to (from {src.name} to {dt.name})")
    lo, hi = _inner_bound(src, max(_exact(src.min), _exact(dt.min)), dt), \
        _inner_bound(src, min(_exact(src.max), _exact(dt.max)), dt)
    if lo is not None or hi is not None:
        x = clip_by_value(x, full(lo if lo is not None else src.min, src, ()),
                          full(hi if hi is not None else src.max, src, ()))
    return cast(x, dt)


def _exact(v: Any) -> Any:
    """A dtype bound as an exact Python number (int for integers, float for floats)."""
    return int(v) if isinstance(v, (int, np.integer)) else float(v)


def _inner_bound(src: DType, bound: Any, dt: DType) -> Any:
    """`bound` as a `src` value no farther from zero than `bound` and within `dt`'s range; None when it is `src`'s
    own extreme (nothing to clamp)."""
    if src.is_integer and bound in (_exact(src.min), _exact(src.max)):
        return None  # (a float source is always clamped: inf to its finite maximum, as TF does)
    v = np.asarray(bound, dtype=np.float64 if src.is_floating else object).astype(src.np)
    if src.is_floating and not _exact(dt.min) <= float(v) <= _exact(dt.max):
        # one step toward zero: the magnitude bits minus one (the float rounded away from zero, out of range)
        bits = v.view(np.dtype(f"u{src.size}"))
        v = (bits - bits.dtype.type(1)).view(src.np)
    return v[()]


def clip_by_value(t: Any, clip_value_min: Any, clip_value_max: Any, name: Optional[str] = None) -> Tensor:
    """maximum(minimum(t, max), min), in TensorFlow's order (so min wins when min > max); at a bound the gradient
    goes to t (ties of maximum and minimum go to their first operand)."""
    t = as_tensor(t)
    return maximum(minimum(t, clip_value_max), clip_value_min)


def add_n(inputs: Any, name: Optional[str] = None) -> Tensor:
    """The sum of tensors of one shape and dtype (no broadcasting, as TensorFlow's AddN)."""
    ts = [as_tensor(v) if isinstance(v, TensorLike) else None for v in inputs]
    first = next((t for t in ts if t is not None), None)
    ts = [t if t is not None else convert_to_tensor(v, dtype_hint=first.dtype if first is not None else None)
          for t, v in zip(ts, inputs)]
    if not ts:
        raise ValueError("add_n needs at least one input")
    for t in ts[1:]:
        if t.dtype is not ts[0].dtype:
            raise mixed_dtypes("add_n", ts[0], t)
        if raw_shape(t) != raw_shape(ts[0]):
            raise InvalidArgumentError(f"add_n: inputs must have the same shape, got {tuple(raw_shape(ts[0]))} and "
                                       f"{tuple(raw_shape(t))}")
    acc = ts[0]
    for t in ts[1:]:
        acc = add(acc, t)
    return acc


def truncatediv(x: Any, y: Any, name: Optional[str] = None) -> Tensor:
    """x / y rounded toward zero (C's integer division), as `tf.truncatediv`; floats too."""
    x, y = convert_pair(x, y)
    q = floordiv(x, y)
    return where(_floor_differs(x, y), add(q, full(1, q.dtype, ())), q)


def truncatemod(x: Any, y: Any, name: Optional[str] = None) -> Tensor:
    """The remainder with the sign of x (C's `%`, fmod for floats), as `tf.truncatemod`."""
    x, y = convert_pair(x, y)
    r = floormod(x, y)
    return where(_floor_differs(x, y), subtract(r, y), r)


def _floor_differs(x: Tensor, y: Tensor) -> Tensor:
    """Where rounding x / y toward zero differs from rounding it down: a nonzero remainder of the other sign."""
    zero = full(0, x.dtype, ())
    r = floormod(x, y)
    return logical_and(not_equal(r, zero), not_equal(less(r, zero), less(x, zero)))
