"""Elementwise rows of the op table: unary math, binary arithmetic, comparisons, logic, select, convert.

Every elementwise op takes operands of one exact type (the tracer and the eager funnel insert `broadcast_to` and
`convert` first), so the kernels and the gradient rules never broadcast or promote.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Callable, Optional

import numpy as np

from ir.opdef import NONDIFF, OpDef, check_arity, check_dtype, check_same, fail, merge_shapes, register
from ir.ops_state import IntegerDivisionByZeroError, InvalidArgumentError
from ir.types import ALL_DTYPES, FLOAT_DTYPES, NUMERIC_DTYPES, SIGNED_DTYPES, TensorType, as_dtype, bool_

if TYPE_CHECKING:
    from ir.emitter import Emitter

# Which dtypes each row takes follows TF 2.21's kernels: neg, abs, sign and pow have no unsigned kernels; the
# transcendental functions take floats only; + - * // % min/max and comparisons take every numeric dtype.
_SIGNED = SIGNED_DTYPES


def half_in_float32(fn: Callable[..., Any]) -> Callable[..., Any]:
    """A float kernel that computes float16/bfloat16 in float32 and rounds once at the end, as TF's CPU kernels
    (Eigen) and compiled code do. numpy's own float16 loops do the same per op; ml_dtypes' bfloat16 loops too,
    but not every numpy function has a bfloat16 loop, so the kernel never relies on one."""
    def kernel(*arrays: Any, **attrs: Any) -> Any:
        dt = arrays[0].dtype
        if dt.itemsize != 2 or dt.kind in "iub":
            return fn(*arrays, **attrs)
        r = np.asarray(fn(*[a.astype(np.float32) for a in arrays], **attrs))
        with np.errstate(over="ignore"):  # overflow to inf is the result, as in TF
            return r.astype(dt) if r.dtype == np.float32 else r
    kernel.__name__ = getattr(fn, "__name__", "kernel")
    return kernel


def _quiet(fn: Callable[..., Any]) -> Callable[..., Any]:
    """numpy warns on log(0), 1/0, overflow; TensorFlow returns inf/nan silently, and so do we."""
    def kernel(*arrays: Any, **attrs: Any) -> Any:
        with np.errstate(all="ignore"):
            return fn(*arrays, **attrs)
    kernel.__name__ = getattr(fn, "__name__", "kernel")
    return kernel


def _infer(allowed: tuple, what: str, nin: int, result_dtype: Any = None) -> Callable[..., tuple[TensorType, ...]]:
    def infer(name: str, types: list[TensorType]) -> tuple[TensorType, ...]:
        check_arity(name, types, nin)
        t = check_same(name, types)
        check_dtype(name, t, allowed, what)
        return (t if result_dtype is None else TensorType(result_dtype, t.shape),)
    return infer


def _row(name: str, kernel: Any, vjp: Any, allowed: tuple, what: str, nin: int, result_dtype: Any = None,
         jvp: Optional[Callable[..., Any]] = None, doc: str = "") -> OpDef:
    infer_impl = _infer(allowed, what, nin, result_dtype)
    kernel = half_in_float32(kernel)
    return register(OpDef(name=name, infer=lambda types, **attrs: infer_impl(name, types), eager=kernel, vjp=vjp,
                          jvp=jvp, kind="elementwise", doc=doc, dtypes=allowed))


def unary_float(name: str, kernel: Any, vjp: Any, doc: str = "") -> OpDef:
    return _row(name, kernel, vjp, FLOAT_DTYPES, "a floating-point", 1, doc=doc)


def binary(name: str, kernel: Any, vjp: Any, allowed: tuple = NUMERIC_DTYPES, what: str = "a numeric",
           doc: str = "") -> OpDef:
    return _row(name, kernel, vjp, allowed, what, 2, doc=doc)


def compare(name: str, kernel: Any, allowed: tuple = NUMERIC_DTYPES, what: str = "a numeric") -> OpDef:
    return _row(name, kernel, NONDIFF, allowed, what, 2, result_dtype=bool_)


# ---- unary -------------------------------------------------------------------------------------------------------
_row("neg", np.negative, lambda em, g, out, x: (em.neg(g),), _SIGNED, "a numeric", 1)
_row("abs", np.abs, lambda em, g, out, x: (em.mul(g, em.sign(x)),), _SIGNED, "a numeric", 1)
_row("sign", np.sign, lambda em, g, out, x: (em.zeros_like(x),), _SIGNED, "a numeric", 1)
unary_float("exp", _quiet(np.exp), lambda em, g, out, x: (em.mul(g, out),))
unary_float("expm1", _quiet(np.expm1), lambda em, g, out, x: (em.mul(g, em.add(out, em.scalar_like(out, 1))),))
unary_float("log", _quiet(np.log), lambda em, g, out, x: (em.div(g, x),))
unary_float("log1p", _quiet(np.log1p), lambda em, g, out, x: (em.div(g, em.add(x, em.scalar_like(x, 1))),))
def _zero_where_g_is(em: Emitter, g: Any, ct: Any) -> Any:
    """0 where the incoming cotangent is 0, else `ct`: TensorFlow's sqrt and rsqrt gradients, so that a branch
    `where` did not take (sqrt(0), sqrt(-1)) gives 0 rather than 0 * inf = NaN."""
    zero = em.zeros_like(g)
    return em.select(em.eq(g, zero), zero, ct)


unary_float("sqrt", _quiet(np.sqrt), lambda em, g, out, x: (
    _zero_where_g_is(em, g, em.div(g, em.mul(em.scalar_like(out, 2), out))),))
unary_float("rsqrt", _quiet(lambda x: np.reciprocal(np.sqrt(x))), lambda em, g, out, x: (
    _zero_where_g_is(em, g, em.mul(g, em.mul(em.scalar_like(out, -0.5), em.mul(out, em.mul(out, out))))),))
unary_float("sin", np.sin, lambda em, g, out, x: (em.mul(g, em.cos(x)),))
unary_float("cos", np.cos, lambda em, g, out, x: (em.neg(em.mul(g, em.sin(x))),))
unary_float("tanh", np.tanh,
            lambda em, g, out, x: (em.mul(g, em.sub(em.scalar_like(out, 1), em.mul(out, out))),))


def _logistic(x: np.ndarray) -> np.ndarray:
    # exp(-|x|) never overflows; the two halves meet at 0.
    with np.errstate(all="ignore"):
        e = np.exp(-np.abs(x))
        return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


unary_float("logistic", _logistic,
            lambda em, g, out, x: (em.mul(g, em.mul(out, em.sub(em.scalar_like(out, 1), out))),))

_erf_scalar = np.frompyfunc(math.erf, 1, 1)


def _erf(x: np.ndarray) -> np.ndarray:
    return np.asarray(_erf_scalar(np.asarray(x, dtype=np.float64)), dtype=np.float64).astype(x.dtype)


unary_float("erf", _erf, lambda em, g, out, x: (
    em.mul(g, em.mul(em.scalar_like(x, 2 / math.sqrt(math.pi)), em.exp(em.neg(em.mul(x, x))))),))
# Piecewise constant: TensorFlow registers no gradient, so a tape gives None (sign, by contrast, gives zeros).
unary_float("floor", np.floor, NONDIFF)
unary_float("ceil", np.ceil, NONDIFF)
_row("round", np.round, NONDIFF, NUMERIC_DTYPES, "a numeric", 1,
     doc="Rounds half to even, as TensorFlow does; the identity on integers.")


def _relu(x: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return np.where(x <= 0, np.zeros((), x.dtype), x)  # NaN stays NaN; -0.0 becomes 0.0


def _relu_vjp(em: Emitter, g: Any, out: Any, x: Any) -> tuple:
    # g * (x > 0), a product as TensorFlow's ReluGrad: NaN and inf coming from upstream pass where x <= 0 too.
    return (em.mul(g, em.convert(em.gt(x, em.zeros_like(x)), dtype=em.dtype(x))),)


_row("relu", _relu, _relu_vjp, _SIGNED, "a numeric", 1,
     doc="max(x, 0) with NaN kept and -0.0 made 0.0, as TensorFlow's vectorized kernel (its scalar tail keeps -0.0).")


# ---- binary arithmetic ----------------------------------------------------------------------------------------------
binary("add", np.add, lambda em, g, out, x, y: (g, g))
binary("sub", np.subtract, lambda em, g, out, x, y: (g, em.neg(g)))
binary("mul", np.multiply, lambda em, g, out, x, y: (em.mul(g, y), em.mul(g, x)))
binary("div", _quiet(np.true_divide),
       lambda em, g, out, x, y: (em.div(g, y), em.neg(em.div(em.mul(g, out), y))),
       FLOAT_DTYPES, "a floating-point", doc="Floating-point division; the funnel converts integers first.")


def _int_zero_check(name: str, y: np.ndarray) -> None:
    if y.dtype.kind in "iu" and not np.all(y):
        raise IntegerDivisionByZeroError(f"{name}: integer division by zero")


def _floordiv(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    _int_zero_check("floordiv", y)
    with np.errstate(all="ignore"):
        return np.floor_divide(x, y)


def _mod(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    _int_zero_check("mod", y)
    with np.errstate(all="ignore"):
        return np.mod(x, y)


binary("floordiv", _floordiv, NONDIFF, doc="Floor division, rounding toward -inf as Python and TensorFlow do.")
binary("mod", _mod, lambda em, g, out, x, y: (g, em.neg(em.mul(g, em.floor(em.div(x, y))))),
       doc="Floor modulo: the result has the sign of the divisor, as in Python and TensorFlow.")


def _pow(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    if x.dtype.kind in "iu" and np.any(y < 0):
        raise InvalidArgumentError(f"pow: integers to negative integer powers are not allowed (exponent {y.min()})")
    with np.errstate(all="ignore"):
        return np.power(x, y)


def _pow_vjp(em: Emitter, g: Any, out: Any, x: Any, y: Any) -> tuple:
    if not em.dtype(x).is_floating:
        return (None, None)
    one = em.scalar_like(y, 1)
    gx = em.mul(g, em.mul(y, em.pow(x, em.sub(y, one))))
    # d/dy x**y = log(x) x**y, taken as 0 where x <= 0 (as TensorFlow does) so no NaN leaks from unused branches.
    zero = em.zeros_like(x)
    positive = em.gt(x, zero)
    safe_x = em.select(positive, x, em.scalar_like(x, 1))
    gy = em.mul(g, em.select(positive, em.mul(em.log(safe_x), out), zero))
    return (gx, gy)


binary("pow", _pow, _pow_vjp, _SIGNED, "a signed numeric")


def _max_vjp(pick_x: str) -> Callable[..., tuple]:
    def vjp(em: Emitter, g: Any, out: Any, x: Any, y: Any) -> tuple:
        mask = getattr(em, pick_x)(x, y)
        zero = em.zeros_like(g)
        return (em.select(mask, g, zero), em.select(mask, zero, g))
    return vjp


def _xlogy(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        return np.where(x == 0, np.zeros((), x.dtype), x * np.log(y))


def _xlogy_vjp(em: Emitter, g: Any, out: Any, x: Any, y: Any) -> tuple:
    # TensorFlow's rule: d/dx = log(y) and d/dy = x / y where x != 0, both 0 where x == 0 (whatever y is).
    zero = em.zeros_like(x)
    nonzero = em.ne(x, zero)
    return (em.mul(g, em.select(nonzero, em.log(y), zero)), em.mul(g, em.select(nonzero, em.div(x, y), zero)))


binary("xlogy", _xlogy, _xlogy_vjp, FLOAT_DTYPES, "a floating-point",
       doc="x * log(y), and 0 where x == 0 (even where log(y) is NaN or -inf), as tf.math.xlogy.")


binary("maximum", np.maximum, _max_vjp("ge"), doc="Ties send the gradient to the first operand.")
binary("minimum", np.minimum, _max_vjp("le"), doc="Ties send the gradient to the first operand.")


# ---- comparisons and logic ------------------------------------------------------------------------------------------
compare("eq", np.equal, ALL_DTYPES, "any")
compare("ne", np.not_equal, ALL_DTYPES, "any")
compare("lt", np.less)
compare("le", np.less_equal)
compare("gt", np.greater)
compare("ge", np.greater_equal)
_row("logical_and", np.logical_and, NONDIFF, (bool_,), "a bool", 2)
_row("logical_or", np.logical_or, NONDIFF, (bool_,), "a bool", 2)
_row("logical_not", np.logical_not, NONDIFF, (bool_,), "a bool", 1)


register(OpDef("stop_gradient", lambda types, **attrs: (types[0],), lambda x: x, NONDIFF, "elementwise",
               dtypes=ALL_DTYPES, doc="The identity, through which no gradient flows."))


# ---- select and convert ---------------------------------------------------------------------------------------------
def _select_infer(types: list[TensorType], **attrs: Any) -> tuple[TensorType, ...]:
    check_arity("select", types, 3)
    c, a, b = types
    if c.dtype is not bool_:
        raise TypeError(f"select: the condition must be bool, got {c.dtype.name}")
    t = check_same("select", [a, b])
    try:
        return (t.with_shape(merge_shapes("select", [c.shape, t.shape])),)
    except ValueError:
        raise fail("select", f"condition shape {c.shape} differs from the branches' shape {t.shape}") from None


def _select_vjp(em: Emitter, g: Any, out: Any, c: Any, a: Any, b: Any) -> tuple:
    zero = em.zeros_like(g)
    return (None, em.select(c, g, zero), em.select(c, zero, g))


register(OpDef("select", _select_infer, lambda c, a, b: np.where(c, a, b), _select_vjp, "elementwise",
               dtypes=ALL_DTYPES,
               doc="select(c, a, b): a where c is true, else b; the gradient of the side not taken is zero."))


def _convert_infer(types: list[TensorType], *, dtype: Any) -> tuple[TensorType, ...]:
    check_arity("convert", types, 1)
    return (TensorType(as_dtype(dtype), types[0].shape),)


def float_to_int_range(dst: Any) -> tuple[int, float, float]:
    """(bits of the intermediate integer, lo, hi) of TF's float-to-integer cast on x86: values truncated toward zero
    in [lo, hi) convert exactly (wrapping to the destination's width); NaN and the rest give -2**31 (destinations of
    up to 32 bits) or -2**63, wrapped. uint32 goes through int64 (so [2**31, 2**32) is exact) but keeps 2**31 for
    invalid values, as TF does."""
    if dst.bits <= 16 or dst.bits == 32 and not dst.is_unsigned:
        return 32, -2.0 ** 31, 2.0 ** 31
    if dst.bits == 32:
        return 64, -2.0 ** 31, 2.0 ** 32
    return 64, -2.0 ** 63, 2.0 ** 63


def float_to_int(x: np.ndarray, dst: Any) -> np.ndarray:
    """TF 2.21's float-to-integer cast (for float32 sources; out of range TF's kernels for other sources differ by
    vector path, and Kiln keeps this one rule): -1.0 casts to 255 as uint8, 300.0 to 44, NaN to 0 as uint8 and to
    INT32_MIN as int32. See `float_to_int_range`."""
    bits, lo, hi = float_to_int_range(dst)
    wide = np.int32 if bits == 32 else np.int64
    invalid = -(1 << 31) if dst.bits <= 32 else -(1 << 63)
    x = np.asarray(x).astype(np.float64)
    ok = (x >= lo) & (x < hi)
    t = np.trunc(np.where(ok, x, 0.0)).astype(wide)
    return np.where(ok, t, wide(invalid)).astype(wide).astype(dst.np)


def _convert_kernel(x: np.ndarray, *, dtype: Any) -> np.ndarray:
    dst = as_dtype(dtype)
    x = np.asarray(x)
    with np.errstate(all="ignore"):
        if dst.is_integer and x.dtype.kind not in "iub":
            return float_to_int(x, dst)
        return x.astype(dst.np)


def _convert_vjp(em: Emitter, g: Any, out: Any, x: Any, *, dtype: Any) -> tuple:
    src = em.dtype(x)
    if not (src.is_floating and as_dtype(dtype).is_floating):
        return (None,)
    return (em.convert(g, dtype=src),)


register(OpDef("convert", _convert_infer, _convert_kernel, _convert_vjp, "elementwise", attrs=("dtype",),
               dtypes=ALL_DTYPES,
               doc="Casts to `dtype`; floats to integers truncate toward zero, as TensorFlow's cast does."))
