"""codegen.vmath: accuracy in ulps, special values, and vectorization of the math functions written in LLVM IR.

Each function and dtype is compiled once (module-scope cache) into a loop kernel
`void k(ptr noalias x[, ptr noalias x2], ptr noalias y, i64 n)`, optimized for the host CPU, run on numpy arrays
and compared with an independent reference:
- float32: numpy's float64 functions (math.erf for erf), rounded to float32;
- float64: numpy's 80-bit long double functions (libm's *l), mpmath for erf, rounded to float64.
Errors are counted in ulps between bit patterns (±0 equal, NaN only equal to NaN). The asserted bounds are the
measured ones that codegen.vmath documents (MAX_ULP); those never exceed the targets in TARGET_ULP.

`python tests/test_vmath.py` prints throughput (ns/element over 4M float32) next to numpy's.
"""
from __future__ import annotations

import ctypes
import math
import os
import re
import sys
import time
from typing import Callable

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import llvmlite.binding as llvm  # noqa: E402
import llvmlite.ir as ir  # noqa: E402

from codegen import llvm_setup, vmath  # noqa: E402
from codegen.vmath import MATH_FUNCTIONS, MAX_ULP, define_math  # noqa: E402

DTYPES = (np.float32, np.float64)
TARGET_ULP = {np.float32: dict(exp=2, expm1=2, log=2, log1p=2, tanh=4, logistic=4, sin=4, cos=4, erf=4, pow=4),
              np.float64: dict.fromkeys(MATH_FUNCTIONS, 4)}
# sin/cos: the Cody-Waite reduction of the vector path is exact below these; at and beyond them an exact path takes
# over (codegen/vmath_trig.py). The inputs cover both sides and the seam.
TRIG_LIMIT = {np.float32: 2.0 ** 24, np.float64: 2.0 ** 53}
EXTENDED = np.finfo(np.longdouble).nmant >= 63

# ---- compiling kernels ---------------------------------------------------------------------------------------------

_jit: llvm.LLJIT | None = None
_kernels: dict[tuple[str, type], "Kernel"] = {}


class Kernel:
    """A compiled elementwise loop over one math function, callable on numpy arrays."""

    def __init__(self, name: str, dtype: type) -> None:
        global _jit
        ty = ir.FloatType() if dtype == np.float32 else ir.DoubleType()
        module = ir.Module(name=f"vmath_{name}")
        fn = define_math(module, name, ty)
        self.nargs, self.dtype = len(fn.args), dtype
        i64 = ir.IntType(64)
        kfn = ir.Function(module, ir.FunctionType(ir.VoidType(), [ir.PointerType()] * (self.nargs + 1) + [i64]),
                          name="k")
        for arg in kfn.args[:-1]:
            arg.add_attribute("noalias")
        n = kfn.args[-1]
        entry, loop, done = (kfn.append_basic_block(s) for s in ("entry", "loop", "done"))
        b = ir.IRBuilder(entry)
        b.cbranch(b.icmp_signed(">", n, ir.Constant(i64, 0)), loop, done)
        b.position_at_end(loop)
        i = b.phi(i64)
        i.add_incoming(ir.Constant(i64, 0), entry)
        xs = [b.load(b.gep(p, [i], inbounds=True, source_etype=ty), typ=ty) for p in kfn.args[:self.nargs]]
        b.store(b.call(fn, xs), b.gep(kfn.args[self.nargs], [i], inbounds=True, source_etype=ty))
        nxt = b.add(i, ir.Constant(i64, 1))
        i.add_incoming(nxt, loop)
        b.cbranch(b.icmp_signed("<", nxt, n), loop, done)
        b.position_at_end(done)
        b.ret_void()

        ref = llvm_setup.optimize(llvm_setup.parse(module))
        self.llvm_ir = str(ref)
        self.asm = llvm_setup.host_target_machine().emit_assembly(ref)
        if _jit is None:
            _jit = llvm.create_lljit_compiler(llvm_setup.host_target_machine())
        self._tracker = (llvm.JITLibraryBuilder().add_ir(ref).add_current_process().export_symbol("k")
                         .link(_jit, f"vmath_{name}_{np.dtype(dtype).name}"))
        proto = ctypes.CFUNCTYPE(None, *[ctypes.c_void_p] * (self.nargs + 1), ctypes.c_int64)
        self._fn = proto(self._tracker["k"])

    def __call__(self, *args: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        arrays = [np.ascontiguousarray(a, dtype=self.dtype) for a in np.broadcast_arrays(*args)]
        if out is None:
            out = np.empty(arrays[0].shape, self.dtype)
        self._fn(*[a.ctypes.data for a in arrays], out.ctypes.data, out.size)
        return out


def kernel(name: str, dtype: type) -> Kernel:
    if (name, dtype) not in _kernels:
        _kernels[name, dtype] = Kernel(name, dtype)
    return _kernels[name, dtype]


# ---- references and ulps -------------------------------------------------------------------------------------------

def _logistic(x: np.ndarray) -> np.ndarray:
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


_NUMPY = dict(exp=np.exp, expm1=np.expm1, log=np.log, log1p=np.log1p, tanh=np.tanh, logistic=_logistic,
              sin=np.sin, cos=np.cos, pow=np.power)


def reference(name: str, dtype: type, *args: np.ndarray) -> np.ndarray:
    """The correctly rounded result, to within a tiny fraction of an ulp of `dtype`."""
    with np.errstate(all="ignore"):
        if dtype == np.float32:
            wide = [a.astype(np.float64) for a in args]
            if name == "erf":
                return np.vectorize(math.erf, otypes=[np.float64])(*wide).astype(np.float32)
            return _NUMPY[name](*wide).astype(np.float32)
        if name == "erf":
            mpmath = pytest.importorskip("mpmath")
            with mpmath.workprec(90):  # mpmath has no -0.0; erf is odd
                return np.copysign([float(mpmath.erf(float(v))) for v in args[0]], args[0])
        if not EXTENDED:
            pytest.skip("float64 references need an 80-bit long double")
        return _NUMPY[name](*[a.astype(np.longdouble) for a in args]).astype(np.float64)


def ulp_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """|a - b| in ulps of their dtype, counted on the bit patterns; ±0 are equal, NaN is at infinite distance from
    everything but NaN."""
    ity = np.int32 if a.dtype == np.float32 else np.int64
    big = np.int64(np.iinfo(ity).max)

    def ordered(v: np.ndarray) -> np.ndarray:
        i = v.view(ity).astype(np.int64)
        return np.where(i < 0, -(i & big), i)

    d = np.abs(ordered(a) - ordered(b)).astype(np.float64)
    na, nb = np.isnan(a), np.isnan(b)
    d[na & nb] = 0.0
    d[na ^ nb] = np.inf
    return d


def test_ulp_distance_counts_representable_steps() -> None:
    x = np.array([1.0, 0.0, -0.0, np.nan, np.finfo(np.float32).max, -1.0], np.float32)
    y = np.array([np.nextafter(np.float32(1), np.float32(3)), -0.0, np.float32(1e-45), np.nan, np.inf,
                  np.nextafter(np.float32(-1), np.float32(3))], np.float32)
    assert ulp_distance(x, y).tolist() == [1.0, 0.0, 1.0, 0.0, 1.0, 1.0]
    assert ulp_distance(np.array([np.nan]), np.array([1.0])).tolist() == [np.inf]


# ---- inputs --------------------------------------------------------------------------------------------------------

def _mags(rng: np.random.Generator, lo: float, hi: float, n: int) -> np.ndarray:
    """Log-uniform magnitudes in [lo, hi]."""
    return np.exp(rng.uniform(np.log(lo), np.log(hi), n))


def _signed(rng: np.random.Generator, lo: float, hi: float, n: int) -> np.ndarray:
    return _mags(rng, lo, hi, n) * rng.choice([-1.0, 1.0], n)


def _around(dtype: type, points: list[float], steps: int = 300) -> np.ndarray:
    """The `steps` representable numbers on each side of each point."""
    out = []
    for p in points:
        v = np.full(steps, p, dtype)
        up, down = v.copy(), v.copy()
        for j in range(steps):
            up[j:] = np.nextafter(up[j:], dtype(np.inf))
            down[j:] = np.nextafter(down[j:], dtype(-np.inf))
        out += [up, down, np.array([p], dtype)]
    return np.concatenate(out)


def unary_inputs(name: str, dtype: type) -> np.ndarray:
    rng = np.random.default_rng(sum(map(ord, name)) + (64 if dtype == np.float64 else 32))
    fi = np.finfo(dtype)
    tiny, big = float(fi.smallest_subnormal), float(fi.max)
    lmax, lmin, lnorm = math.log(big), math.log(tiny), math.log(float(fi.smallest_normal))
    n = 25_000 if (name == "erf" and dtype == np.float64) else 100_000  # mpmath is slow
    parts = {
        "exp": [rng.uniform(lmin - 3, lmax + 3, 2 * n), rng.uniform(-2, 2, n), _signed(rng, tiny, 1, n),
                _around(dtype, [lmax, lnorm, lmin, math.log(2) / 2])],
        "expm1": [rng.uniform(-60, lmax + 3, n), rng.uniform(-2, 2, n), _signed(rng, tiny, 1, n),
                  _around(dtype, [lmax, math.log(2) / 2, -math.log(2) / 2])],
        "log": [_mags(rng, tiny, big, 2 * n), rng.uniform(0.5, 2, n), 1 + _signed(rng, fi.eps / 4, 0.3, n),
                _around(dtype, [1.0, math.sqrt(2), math.sqrt(0.5), float(fi.smallest_normal)])],
        "log1p": [_signed(rng, tiny, 1, n) * 0.9999, _mags(rng, 1, big, n), rng.uniform(-1, 1, n),
                  -1 + _mags(rng, fi.eps / 4, 1, n),
                  _around(dtype, [-1.0, math.sqrt(2) - 1, math.sqrt(0.5) - 1, 1.0])],
        "tanh": [rng.uniform(-25, 25, n), _signed(rng, tiny, 40, 2 * n), _around(dtype, [0.625, -0.625])],
        "logistic": [rng.uniform(-800, 800, n), _signed(rng, tiny, 800, n), rng.uniform(-20, 20, n)],
        "erf": [rng.uniform(-7, 7, n), _signed(rng, tiny, 10, n // 2), _around(dtype, [1.0, 1.25, 2.0, 3.25], 100)],
    }
    if name in ("sin", "cos"):
        lim = TRIG_LIMIT[dtype]
        k = rng.integers(0, int(lim / 1.6), n).astype(np.longdouble)
        near = (k * (np.longdouble(np.pi) / 2)).astype(dtype)
        with np.errstate(over="ignore"):  # the neighbours of ±max include ±inf (dropped below)
            seams = _around(dtype, [lim, -lim, big, -big], 100)
        parts[name] = [rng.uniform(-10, 10, n), _signed(rng, tiny, lim, n), rng.uniform(-lim, lim, n // 2),
                       near, np.nextafter(near, dtype(np.inf)), np.nextafter(near, dtype(-np.inf)),
                       _signed(rng, lim, big, n // 2), rng.uniform(-1, 1, n // 10) * big, seams]
    with np.errstate(over="ignore"):
        x = np.concatenate([np.asarray(p).astype(dtype) for p in parts[name]])
    return x[np.isfinite(x)]


def pow_inputs(dtype: type) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(99 if dtype == np.float64 else 98)
    fi = np.finfo(dtype)
    n = 100_000
    zlo, zhi = 1.02 * math.log(float(fi.smallest_subnormal)), 1.02 * math.log(float(fi.max))
    lx = rng.uniform(math.log(float(fi.smallest_subnormal)), math.log(float(fi.max)), n)
    x_near1 = 1 + _signed(rng, float(fi.eps), 0.1, n)
    xs = [np.exp(lx), x_near1, -_mags(rng, 1e-3, 1e3, n), rng.uniform(0, 10, n), _mags(rng, 0.1, 10, n)]
    ys = [rng.uniform(zlo, zhi, n) / lx, rng.uniform(zlo, zhi, n) / np.log(x_near1),
          rng.integers(-40, 40, n).astype(float), rng.uniform(-10, 10, n), rng.integers(-30, 30, n).astype(float)]
    with np.errstate(over="ignore"):
        x, y = np.concatenate(xs).astype(dtype), np.concatenate(ys).astype(dtype)
    keep = np.isfinite(x) & np.isfinite(y)
    return x[keep], y[keep]


# ---- tests ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("name", MATH_FUNCTIONS)
def test_accuracy_in_ulps(name: str, dtype: type) -> None:
    args = pow_inputs(dtype) if name == "pow" else (unary_inputs(name, dtype),)
    got = kernel(name, dtype)(*args)
    want = reference(name, dtype, *args)
    d = ulp_distance(got, want)
    worst = int(np.argmax(d))
    where = ", ".join(f"{a[worst]!r}" for a in args)
    bound = MAX_ULP[name][0 if dtype == np.float32 else 1]
    assert bound <= TARGET_ULP[dtype][name]
    assert d[worst] <= bound, f"{name}({where}) = {got[worst]!r}, want {want[worst]!r}: {d[worst]} ulp"


_SPECIAL_INPUTS = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 1e-30, -1e-30, 1e-45, -1e-45,
                   1e-310, -1e-310, 3e38, -3e38, 1e300, -1e300, 88.8, -88.8, 710.0, -710.0, -104.0, -746.0]
# Outputs that must match exactly (sign of zero included): the rest need only be within the function's bound.
_EXACT_OUTPUTS = (0.0, 1.0, -1.0, np.inf, -np.inf)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("name", [n for n in MATH_FUNCTIONS if n != "pow"])
def test_special_values_match_numpy(name: str, dtype: type) -> None:
    with np.errstate(all="ignore"):
        x = np.array(_SPECIAL_INPUTS, dtype=dtype)
    with np.errstate(all="ignore"):
        numpy_says = _NUMPY[name](x) if name in _NUMPY else reference(name, dtype, x)
    want = reference(name, dtype, x)
    got = kernel(name, dtype)(x)
    bound = MAX_ULP[name][0 if dtype == np.float32 else 1]
    for xi, g, w, ns in zip(x, got, want, numpy_says):
        if np.isnan(ns) or ns in _EXACT_OUTPUTS:
            assert (np.isnan(g) and np.isnan(ns)) or (g == ns and np.signbit(g) == np.signbit(ns)), \
                f"{name}({xi!r}) = {g!r}, numpy gives {ns!r}"
        else:
            assert ulp_distance(np.array([g]), np.array([w]))[0] <= bound, f"{name}({xi!r}) = {g!r}, want {w!r}"


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_signed_zero_and_limits(dtype: type) -> None:
    def f(name: str, v: float) -> np.ndarray:
        return kernel(name, dtype)(np.array([v], dtype))[0]

    for name in ("expm1", "log1p", "sin", "tanh", "erf"):
        assert f(name, -0.0) == 0 and np.signbit(f(name, -0.0)), name
    assert f("exp", np.inf) == np.inf and f("exp", -np.inf) == 0 and f("exp", 1e-40) == 1
    assert f("log", 0.0) == -np.inf and np.isnan(f("log", -1.0)) and f("log", np.inf) == np.inf
    assert f("log1p", -1.0) == -np.inf and np.isnan(f("log1p", -2.0))
    assert f("tanh", np.inf) == 1 and f("tanh", -np.inf) == -1 and np.isnan(f("sin", np.inf))
    assert f("logistic", np.inf) == 1 and f("logistic", -np.inf) == 0 and f("erf", -np.inf) == -1


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_pow_special_grid_matches_numpy(dtype: type) -> None:
    vals = [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -2.0, 3.0, -3.0, 2.5, -2.5, 1e-45, -1e-45, 1e-310, 3e38, -3e38,
            np.inf, -np.inf, np.nan]
    x, y = (g.ravel() for g in np.meshgrid(np.array(vals, dtype), np.array(vals, dtype)))
    with np.errstate(all="ignore"):
        want = np.power(x, y)
    got = kernel("pow", dtype)(x, y)
    for xi, yi, g, w in zip(x, y, got, want):
        msg = f"pow({xi!r}, {yi!r}) = {g!r}, numpy gives {w!r}"
        if np.isnan(w):
            assert np.isnan(g), msg
        else:
            assert np.signbit(g) == np.signbit(w), msg
            assert g == w if w in _EXACT_OUTPUTS else ulp_distance(np.array([g]), np.array([w]))[0] <= 1, msg


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("name", ["sin", "cos"])
def test_trig_huge_lanes_in_every_part_of_the_loop(name: str, dtype: type) -> None:
    """Huge arguments (the exact path) next to ordinary ones, at every position of arrays of every length up to a
    few vectors: the vector loop, its epilogue and the scalar remainder each take the exact path for the huge lanes
    only and keep the vector path's results for the others."""
    rng = np.random.default_rng(7)
    big = float(np.finfo(dtype).max)
    k = kernel(name, dtype)
    for n in range(1, 70):
        x = rng.uniform(-10, 10, n).astype(dtype)
        huge = rng.random(n) < 0.2
        x[huge] = _signed(rng, TRIG_LIMIT[dtype], big, int(huge.sum())).astype(dtype)
        got, want = k(x), reference(name, dtype, x)
        d = ulp_distance(got, want)
        assert d.max() <= MAX_ULP[name][0 if dtype == np.float32 else 1], (n, x[np.argmax(d)])
        fast_only = x.copy()
        fast_only[huge] = 1.0
        assert np.array_equal(k(fast_only)[~huge], got[~huge]), n


# The intrinsics the bodies call: each has a vector form and is an instruction, not a call, on x86-64.
_BODY_INTRINSICS = {f"llvm.{i}.{suffix}" for suffix in ("f32", "f64")
                    for i in ("fma", "fabs", "copysign", "rint", "floor", "minnum", "maxnum")}


def _blocks(llvm_ir: str, function: str) -> dict[str, str]:
    """The basic blocks of `function` in LLVM IR text, label -> instructions."""
    body = llvm_ir[llvm_ir.index(f"define void @{function}("):]
    body = body[body.index("{") + 1:body.index("\n}\n")]
    parts = re.split(r"^([\w.]+):", body, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2]))


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("name", MATH_FUNCTIONS)
def test_loop_vectorizes_without_calls(name: str, dtype: type) -> None:
    """The loop runs in vector registers and calls nothing, except on an exact path (vmath_lanes.where_rare) in
    blocks of its own, which the vector loop enters only when some lane needs it."""
    k = kernel(name, dtype)
    assert re.search(r"%[zy]mm\d", k.asm), f"{name}: no vector registers in the loop"
    blocks = _blocks(k.llvm_ir, "k")
    assert "vector.body" in blocks, f"{name}: the loop was not vectorized"
    for label, text in blocks.items():
        # LLVM intrinsics are instructions, except those that become C library calls (the exact path's).
        callees = {c for c in re.findall(r"call [^@]*@\"?([\w.]+)\"?\(", text)
                   if not c.startswith("llvm.") or c.split(".")[1] in ("sin", "cos")}
        assert not callees or (name in ("sin", "cos") and label.startswith("rare")), (name, label, callees)
    if name not in ("sin", "cos"):
        assert not re.search(r"\bcall", k.asm), f"{name}: the loop calls out"


@pytest.mark.parametrize("ty", [ir.FloatType(), ir.DoubleType()], ids=["f32", "f64"])
def test_bodies_are_straight_line_without_fast_math(ty: ir.Type) -> None:
    """Each body is one straight-line block of vectorizable instructions; sin and cos add an exact path for huge
    arguments: a branch, weighted as unlikely, to a call of their exact function."""
    module = ir.Module()
    for name in MATH_FUNCTIONS:
        fn = define_math(module, name, ty)
        assert [blk.name for blk in fn.blocks] == (["entry", "rare", "join"] if name in ("sin", "cos") else
                                                   ["entry"]), name
        text = str(fn)
        assert not re.search(r"\b(fast|nnan|ninf|nsz|arcp|afn|reassoc)\b", text), name
        # Only LLVM intrinsics that have vector forms (float pow works in double internally).
        callees = set(re.findall(r'call \S+ @"?([\w.]+)"?\(', str(fn.blocks[0])))
        assert callees and callees <= _BODY_INTRINSICS, (name, callees)
        if name in ("sin", "cos"):
            rare = str(fn.blocks[1])
            assert re.findall(r'call \S+ @"?([\w.]+)"?\(', rare) == [f"{fn.name}.exact"], rare
            assert "!prof" in str(fn.blocks[0]) and "branch_weights" in str(module)


def test_documented_table_matches_max_ulp() -> None:
    rows = re.findall(r"^    ([a-z0-9, ]+?)\s{2,}(\d+)\s+(\d+)\s{2,}", vmath.__doc__, re.M)
    documented = {name.strip(): (int(a), int(b)) for names, a, b in rows for name in names.split(",")}
    assert documented == MAX_ULP


def test_define_math_defines_once_internal_alwaysinline() -> None:
    module = ir.Module()
    f = define_math(module, "pow", ir.DoubleType())
    assert define_math(module, "pow", ir.DoubleType()) is f
    assert f.name == "kiln.pow.f64" and f.linkage == "internal" and "alwaysinline" in f.attributes
    assert [str(a.type) for a in f.args] == ["double", "double"]
    assert define_math(module, "exp", ir.FloatType()).name == "kiln.exp.f32"
    with pytest.raises(ValueError, match="unknown math function"):
        define_math(module, "gamma", ir.FloatType())
    with pytest.raises(TypeError):
        define_math(module, "exp", ir.IntType(32))
    llvm_setup.parse(module)  # verifies


# TensorFlow 2.21's answers (tf.sin, tf.cos, tf.tan, eager, on this machine) for arguments beyond the vector path's
# reduction, up to ±max.
_TF_HUGE = {
    np.float32: ([1e30, -3e38, 3.4028235e38, 16777216.0, 5e7, 1e10, 123456789.0], {
        "sin": [-0.791163444519043, -0.8749048709869385, -0.5218765139579773, -0.7795636653900146,
                0.8256467580795288, -0.48750603199005127, -0.9604127407073975],
        "cos": [-0.6116048097610474, -0.4842947721481323, 0.8530210256576538, 0.6263229846954346,
                0.5641874074935913, 0.8731196522712708, -0.27858102321624756],
        "tan": [1.2935861349105835, 1.8065544366836548, -0.6117979288101196, -1.2446671724319458,
                1.4634263515472412, -0.558349609375, 3.447516441345215]}),
    np.float64: ([1e300, -1.7976931348623157e308, 2.0 ** 53, 1e17, 1e22], {
        "sin": [-0.8178819121159085, -0.004961954789184062, -0.848925964814655, -0.4645301048353727,
                -0.8522008497671888],
        "cos": [-0.5753861119575491, -0.9999876894265599, -0.5285117844130887, -0.8855573282976307,
                0.523214785395139],
        "tan": [1.4214488238747245, 0.004962015874444895, 1.6062574002155612, 0.5245624309025501,
                -1.6287782256068988]}),
}


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("shape", [(), (40,), (2000,)], ids=["scalar", "short", "vectorized"])
def test_compiled_trig_of_huge_arguments_is_eager_and_tensorflow(dtype: type, shape: tuple[int, ...]) -> None:
    """Through the engine: a compiled function's sin, cos and tan (sin/cos) give eager's values and TensorFlow's
    for huge arguments, in a 0-d op (the C library), a loop too short to vectorize and a vectorized loop. sin and
    cos agree with TF to 1 ulp, tan to 2 (it is a quotient)."""
    import engine as tf
    points, answers = _TF_HUGE[dtype]
    if shape:
        cases = [(np.resize(np.array(points, dtype), shape),
                  {name: np.resize(np.array(a, dtype), shape) for name, a in answers.items()})]
    else:
        cases = [(np.array(p, dtype), {name: np.array(a[i], dtype) for name, a in answers.items()})
                 for i, p in enumerate(points)]
    for name, f, bound in (("sin", tf.sin, 1), ("cos", tf.cos, 1), ("tan", tf.math.tan, 2)):
        compiled_f = tf.function(lambda t: f(t))
        for x, want in cases:
            compiled = np.atleast_1d(compiled_f(tf.constant(x)).numpy())
            eager = np.atleast_1d(f(tf.constant(x)).numpy())
            assert ulp_distance(compiled, eager).max() <= bound, (name, x)
            assert ulp_distance(compiled, np.atleast_1d(want[name])).max() <= bound, (name, x)


# ---- throughput (not a test) ---------------------------------------------------------------------------------------

def _numpy_baselines() -> dict[str, Callable[..., object]]:
    base: dict[str, Callable[..., object]] = dict(
        exp=np.exp, expm1=np.expm1, log=np.log, log1p=np.log1p, tanh=np.tanh, sin=np.sin, cos=np.cos, pow=np.power,
        logistic=lambda x, out: np.divide(1, 1 + np.exp(-x), out=out))
    try:  # scipy is not a dependency; when present its ufuncs are the fairer baseline
        import scipy.special as sp
        base.update(logistic=sp.expit, erf=sp.erf)
    except ImportError:
        pass
    return base


def _best(fn: Callable[[], object], repeats: int = 7) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def print_throughput(n: int = 4 << 20) -> None:
    rng = np.random.default_rng(0)
    domains = dict(exp=(-80, 80), expm1=(-10, 10), log=(1e-3, 1e3), log1p=(-0.9, 100), tanh=(-5, 5),
                   logistic=(-10, 10), sin=(-100, 100), cos=(-100, 100), erf=(-3, 3), pow=(0.1, 10))
    base = _numpy_baselines()
    print(f"{'function':10s} {'kiln ns/el':>11s} {'numpy ns/el':>12s}   (float32, n = {n})")
    for name in MATH_FUNCTIONS:
        lo, hi = domains[name]
        args = [rng.uniform(lo, hi, n).astype(np.float32)] + ([rng.uniform(-3, 3, n).astype(np.float32)]
                                                              if name == "pow" else [])
        out = np.empty(n, np.float32)
        k = kernel(name, np.float32)
        ours = _best(lambda: k(*args, out=out)) / n * 1e9
        theirs = f"{_best(lambda: base[name](*args, out=out)) / n * 1e9:12.3f}" if name in base else "         n/a"
        print(f"{name:10s} {ours:11.3f} {theirs}")


if __name__ == "__main__":
    print_throughput()
