"""Vectorizable math functions written in LLVM IR, for float32 and float64.

What it owns: `define_math(module, name, ty)`, which defines (once per module) an internal, `alwaysinline`
function `kiln.<name>.<f32|f64>` taking and returning scalars of `ty`, and `MATH_FUNCTIONS`, the names it knows.
The bodies are branch-free straight-line code (range reduction + polynomial, with `select` for special cases), so
once inlined into an elementwise loop the loop vectorizer turns them into <16 x float> / <8 x double> code with no
libm calls. The one exception is sin and cos of huge arguments, which branch to an exact path (the C library's
functions) that vector code enters only when some lane needs it (`vmath_lanes`). They use no fast-math flags:
NaN, inf, -0.0 and denormals behave as numpy's do. The bodies live in `vmath_exp`, `vmath_log`, `vmath_trig`,
`vmath_erf` and `vmath_pow`; each documents its scheme and where its coefficients come from.

    >>> import llvmlite.ir as ir
    >>> m = ir.Module()
    >>> define_math(m, "exp", ir.FloatType()).name
    'kiln.exp.f32'

Measured accuracy: max error in ulps of the result, against the correctly rounded value (float64 math rounded to
float32; 80-bit long double math, or mpmath for erf, rounded to float64). The float32 figures are exhaustive:
every finite float32 input (for sin/cos every one below 2^24) against numpy's float64 functions (scipy's erf for
erf). pow float32 and all float64 figures come from a few million random and edge-case points per function (erf
float64: 350,000 against mpmath). tests/test_vmath.py re-checks them (MAX_ULP) on a few hundred thousand points.

    function   float32  float64   inputs
    exp          1        1       whole finite range: overflow to inf, denormal results, underflow to 0
    expm1        1        2       whole finite range
    log          1        1       denormals to max
    log1p        1        1       (-1, max]
    tanh         1        1       all reals
    logistic     2        2       all reals
    sin, cos     2        2       all reals; see below
    erf          1        2       all reals
    pow          1        1       x > 0 of any size with y across the whole range where x**y does not overflow or
                                  flush to 0 (and a little beyond); negative x with integer y

sin/cos reduce the argument with a three-part pi/2 (Cody-Waite, each step fused with fma), which stays exact while
the quadrant count is representable: |x| < 2^24 for float32 and 2^53 for float64. At and beyond that, up to ±max,
the C library's sin and cos give the result (glibc's: < 1 ulp); the figures above cover both ranges.

Throughput on the development machine (AMD znver5, AVX-512, one thread; 4M float32 elements; ns/element, numpy
in brackets): exp 0.20 (0.38), expm1 0.19 (0.42), log 0.35 (0.32), log1p 0.39 (0.42), tanh 0.35 (0.19),
logistic 0.26 (scipy expit 2.7), sin 0.51 (1.1), cos 0.48 (1.1), erf 0.43 (scipy 16), pow 1.7 (0.60).
`python tests/test_vmath.py` prints this table. (sin and cos were measured before their exact path for huge
arguments came in; side by side with that version they are now 15-20% faster, see `vmath_trig`.)

Special values follow numpy (C99 Annex F): NaN in gives NaN out; exp(+inf) = inf, exp(-inf) = 0; log(0) = -inf,
log(x < 0) = nan; log1p(-1) = -inf; tanh(±inf) = ±1; sin(±inf) = nan; -0.0 is kept by expm1, log1p, sin, tanh,
erf; pow follows C's pow (pow(x, ±0) = 1 even for NaN x, pow(1, y) = 1, pow(-8, 1/3) = nan, pow(±0, y < 0) = inf
with the sign of zero for odd integer y, ...).
"""
from __future__ import annotations

from typing import Callable

import llvmlite.ir as ir

from codegen import vmath_erf, vmath_exp, vmath_log, vmath_pow, vmath_trig
from codegen.vmath_emit import MathBuilder, FloatTy

MATH_FUNCTIONS: tuple[str, ...] = ("exp", "expm1", "log", "log1p", "tanh", "logistic", "sin", "cos", "erf", "pow")

# name -> (number of arguments, body builder)
_BODIES: dict[str, tuple[int, Callable[..., ir.Value]]] = {
    "exp": (1, vmath_exp.exp),
    "expm1": (1, vmath_exp.expm1),
    "log": (1, vmath_log.log),
    "log1p": (1, vmath_log.log1p),
    "tanh": (1, vmath_exp.tanh),
    "logistic": (1, vmath_exp.logistic),
    "sin": (1, vmath_trig.sin),
    "cos": (1, vmath_trig.cos),
    "erf": (1, vmath_erf.erf),
    "pow": (2, vmath_pow.pow),
}
assert tuple(_BODIES) == MATH_FUNCTIONS

# Measured max error in ulps, (float32, float64), as in the table above; tests/test_vmath.py asserts it.
MAX_ULP: dict[str, tuple[int, int]] = dict(exp=(1, 1), expm1=(1, 2), log=(1, 1), log1p=(1, 1), tanh=(1, 1),
                                          logistic=(2, 2), sin=(2, 2), cos=(2, 2), erf=(1, 2), pow=(1, 1))


def math_function_name(name: str, ty: FloatTy) -> str:
    suffix = "f64" if isinstance(ty, ir.DoubleType) else "f32"
    return f"kiln.{name}.{suffix}"


def define_math(module: ir.Module, name: str, ty: FloatTy) -> ir.Function:
    """The function `kiln.<name>.<f32|f64>` in `module`, defined on first use.

    It is internal and `alwaysinline`, takes one scalar of `ty` (two for pow: base, exponent) and returns one.
    """
    if name not in _BODIES:
        raise ValueError(f"unknown math function {name!r}; known: {', '.join(MATH_FUNCTIONS)}")
    if not isinstance(ty, (ir.FloatType, ir.DoubleType)):
        raise TypeError(f"math functions are defined for float and double, not {ty}")
    fname = math_function_name(name, ty)
    existing = module.globals.get(fname)
    if existing is not None:
        return existing
    nargs, body = _BODIES[name]
    fn = ir.Function(module, ir.FunctionType(ty, [ty] * nargs), name=fname)
    fn.linkage = "internal"
    fn.attributes.add("alwaysinline")
    fn.attributes.add("nounwind")
    builder = ir.IRBuilder(fn.append_basic_block("entry"))
    builder.ret(body(MathBuilder(builder, ty), *fn.args))
    return fn
