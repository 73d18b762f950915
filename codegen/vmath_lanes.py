"""A rare exact path for some elements of vectorized math, taken only where an element needs it.

What it owns: `where_rare(mb, cond, fast, x, exact)`, which returns `exact(x)` where `cond` holds and `fast`
elsewhere, and `rare_vector_widths`. The math bodies are branch-free so that LLVM's loop vectorizer turns them into
vector code; a few arguments (sin and cos of huge x) need a slow exact computation that vector code should not pay
for on every element. The scheme:

- The body of `kiln.<f>.<ty>` branches, weighted as unlikely, to a call of a scalar function `<name>` =
  `kiln.<f>.<ty>.exact`, `noinline`, without memory effects. In a loop that is not vectorized this stays an ordinary
  branch around a call.
- That function declares masked vector variants in LLVM's vector function ABI (the `vector-function-abi-variant`
  attribute, names `_ZGV_LLVM_M<N>v_<name>`), one per vector width N of `rare_vector_widths`. The loop vectorizer
  replaces the conditional call by a call of the variant of its width, with the lanes' condition as the mask.
- Each variant `<name>.v<N>` tests whether any lane of its mask is set, and only then stores the vector to the
  stack and calls `<name>.lanes`, which applies the scalar function to the lanes in the mask, out of line. The
  variants are `alwaysinline`; `llvm_setup.optimize` runs the always-inliner once more after the default pipeline
  (the vectorizer makes these calls after the pipeline's inliner has run) and then drops them. In the vector loop
  the rare path thus costs one comparison, a test of the mask, a branch that is not taken and a blend.

Until then the variants have external linkage, marked with `llvm_setup.VECTOR_VARIANT_MARK`: nothing calls them
before the vectorizer does, and an internal function without callers is deleted early in the pipeline.

The price is compile time. On the development machine (AVX-512, 3 widths), optimizing and emitting a function
with one sin took 22 ms instead of 15, the compile-time benchmark's function with sin and cos 50 instead of 35:
the loop vectorizer and instcombine work harder with the variants, and the register allocator saves every live
vector register around the rare call. Tried and dropped: one width only (about half the cost, but short inner
loops and vector epilogues then call the scalar function lane by lane, behind a branch each); an exact path
without calls, inline in the variants (Payne-Hanek for float in double arithmetic: correctly rounded, but twice
the compile time); `preserve_allcc` (x86 does not preserve the upper halves of zmm registers under it).
"""
from __future__ import annotations

import functools
from typing import Callable

import llvmlite.binding as llvm
import llvmlite.ir as ir

from codegen import llvm_setup
from codegen.llvm_setup import VECTOR_VARIANT_MARK
from codegen.vmath_emit import FloatTy, MathBuilder, Val

#: The exact function's body: one scalar result from one scalar argument.
ExactBody = Callable[[ir.IRBuilder, Val], Val]


@functools.cache
def rare_vector_widths(is_f64: bool) -> tuple[int, ...]:
    """The vector widths (lanes) that get a variant: every power of two from a 128-bit register's up to the host's
    widest (512 bits with AVX-512, 256 with AVX). The narrower ones are needed too: the loop vectorizer uses them
    for short inner loops, vector epilogues and on CPUs that prefer 256 bits, and without a variant it would call
    the scalar function lane by lane, behind a branch each. Each variant costs compile time (mostly in the loop
    vectorizer and instcombine, about 1.5 ms per width for each of sin and cos a function calls)."""
    llvm_setup.ensure_initialized()
    features = llvm.get_host_cpu_features()
    widest = 512 if features.get("avx512f") else 256 if features.get("avx") else 128
    return tuple(bits // (64 if is_f64 else 32) for bits in (128, 256, 512) if bits <= widest)


class _Attributes(ir.FunctionAttributes):
    """Function attributes that also print attributes llvmlite does not know (`memory(none)`, `willreturn`,
    string attributes)."""

    def __init__(self, names: tuple[str, ...], raw: tuple[str, ...]) -> None:
        super().__init__(names)
        self.raw = raw

    def _to_list(self, ret_type: ir.Type) -> list[str]:
        return super()._to_list(ret_type) + list(self.raw)


def where_rare(mb: MathBuilder, cond: Val, fast: Val, x: Val, exact: ExactBody) -> Val:
    """`exact(x)` where `cond` (expected to be rare), `fast` elsewhere. `exact` builds the body of the exact
    function, `<the function being built>.exact`, defined in the module on first use."""
    b = mb.b
    callee = _exact_function(b.module, mb.ty, f"{b.function.name}.exact", exact)
    here = b.block
    rare = b.append_basic_block("rare")
    join = b.append_basic_block("join")
    b.cbranch(cond, rare, join).set_weights([1, 1 << 20])
    b.position_at_end(rare)
    slow = b.call(callee, [x])
    b.branch(join)
    b.position_at_end(join)
    result = b.phi(mb.ty)
    result.add_incoming(fast, here)
    result.add_incoming(slow, rare)
    return result


def _exact_function(module: ir.Module, ty: FloatTy, name: str, body: ExactBody) -> ir.Function:
    existing = module.globals.get(name)
    if existing is not None:
        return existing
    widths = rare_vector_widths(isinstance(ty, ir.DoubleType))
    mappings = ",".join(f"_ZGV_LLVM_M{n}v_{name}({name}.v{n})" for n in widths)
    fn = ir.Function(module, ir.FunctionType(ty, [ty]), name=name)
    fn.linkage = "internal"
    fn.attributes = _Attributes(("noinline", "nounwind"),
                                ("memory(none)", "willreturn", f'"vector-function-abi-variant"="{mappings}"'))
    b = ir.IRBuilder(fn.append_basic_block("entry"))
    b.ret(body(b, fn.args[0]))
    lanes = _lanes_function(module, fn)
    for n in widths:
        _masked_variant(module, fn, lanes, n)
    return fn


def _lanes_function(module: ir.Module, scalar: ir.Function) -> ir.Function:
    """`void <scalar>.lanes(ptr xs, i64 bits)`: xs[i] = scalar(xs[i]) for each bit i set in `bits`.

    Out of line and `optnone`: the vector loops that reach it stay small, and it costs the compiler next to
    nothing (its time goes into the scalar calls anyway)."""
    ty = scalar.ftype.return_type
    i64 = ir.IntType(64)
    fn = ir.Function(module, ir.FunctionType(ir.VoidType(), [ir.PointerType(), i64]), name=f"{scalar.name}.lanes")
    fn.linkage = "internal"
    fn.attributes = _Attributes(("noinline", "nounwind", "optnone"), ("memory(argmem: readwrite)", "willreturn"))
    xs, bits = fn.args
    entry, lane, done = (fn.append_basic_block(s) for s in ("entry", "lane", "done"))
    b = ir.IRBuilder(entry)
    zero = ir.Constant(i64, 0)
    b.cbranch(b.icmp_unsigned("!=", bits, zero), lane, done)
    b.position_at_end(lane)
    left = b.phi(i64)
    left.add_incoming(bits, entry)
    cttz = module.declare_intrinsic("llvm.cttz", [i64], ir.FunctionType(i64, [i64, ir.IntType(1)]))
    slot = b.gep(xs, [b.call(cttz, [left, ir.Constant(ir.IntType(1), 1)])], inbounds=True, source_etype=ty)
    b.store(b.call(scalar, [b.load(slot, typ=ty)]), slot)
    rest = b.and_(left, b.sub(left, ir.Constant(i64, 1)))  # the lowest set bit cleared
    left.add_incoming(rest, lane)
    b.cbranch(b.icmp_unsigned("!=", rest, zero), lane, done)
    b.position_at_end(done)
    b.ret_void()
    return fn


def _masked_variant(module: ir.Module, scalar: ir.Function, lanes: ir.Function, n: int) -> None:
    """`<N x ty> <scalar>.v<N>(<N x ty> x, <N x i1> mask)`: `scalar` of the lanes in `mask` (the others keep x),
    through `lanes`, which is called only when some lane is in the mask."""
    ty = scalar.ftype.return_type
    vty = ir.VectorType(ty, n)
    fn = ir.Function(module, ir.FunctionType(vty, [vty, ir.VectorType(ir.IntType(1), n)]), name=f"{scalar.name}.v{n}")
    fn.attributes = _Attributes(("alwaysinline", "nounwind"),
                                ("memory(none)", "willreturn", VECTOR_VARIANT_MARK.decode()))
    x, mask = fn.args
    entry, rare, done = (fn.append_basic_block(s) for s in ("entry", "rare", "done"))
    b = ir.IRBuilder(entry)
    slot = b.alloca(vty)  # in the entry block, so that inlining makes it a static stack slot of the caller
    bits = b.bitcast(mask, ir.IntType(n))
    b.cbranch(b.icmp_unsigned("!=", bits, ir.Constant(bits.type, 0)), rare, done).set_weights([1, 1 << 20])
    b.position_at_end(rare)
    b.store(x, slot)
    b.call(lanes, [slot, b.zext(bits, ir.IntType(64))])
    exact = b.load(slot, typ=vty)
    b.branch(done)
    b.position_at_end(done)
    result = b.phi(vty)
    result.add_incoming(x, entry)
    result.add_incoming(exact, rare)
    b.ret(result)
