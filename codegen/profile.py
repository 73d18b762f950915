"""Per-kernel instrumentation of compiled code (the profiling variant) and the machine's measured peaks.

A kernel is what one top-level op of a function lowers to when that is a loop nest or a call (a reduction with the
elementwise chain fused into it, a matmul, a while_loop, a materialized intermediate), or the store of a result that
evaluates the fused chain feeding it. Lazy elementwise ops and scalar code are not kernels: they run inside the
kernel that consumes them.

`KernelProbe` is used by the lowering driver (codegen.lower) only when a function is compiled with `profile=True`:
around each kernel it reads the monotonic clock (`clock_gettime`, nanoseconds) at entry and exit and adds the
difference and one run into two int64 counters of a counter array that is the first buffer of the workspace the
runtime passes (`COUNTERS_OFFSET`). The normal build has no probe, so it carries no cost; the disk cache keys the
variant by its compile options. Counts accumulate per workspace; `CompiledFunction.take_counters` sums and clears
them. A tiled function's kernel runs once per chunk of rows, so its runs count chunks.

Each kernel's bytes and floating-point operations per run are counted statically from the IR: the bytes of every
array it reads from memory (parameters and materialized values reached through the lazy ops fused into it) and
writes, and one operation per element of each fused elementwise op and reduced element, 2·M·N·K for a contraction.

The machine's peaks, to compare the achieved rates with, are measured by codegen.peaks.
"""
from __future__ import annotations

import math
import os
from typing import Any, NamedTuple, Optional

import llvmlite.ir as lir

from codegen.values import I32, I64, PTR, Lazy, Scalar
from ir.core import Block, Op
from ir.opdef import Kind
from ir.types import TensorType, int64

#: Where the counter array sits in the workspace passed to the native entry (the body's buffers start at 64).
COUNTERS_OFFSET = 64
_CLOCK_MONOTONIC = 1


class KernelInfo(NamedTuple):
    """One instrumented kernel: its name, the IR ops it runs, and what one run moves and computes."""
    name: str
    ops: tuple[str, ...]
    bytes: int
    flops: int
    loc: Optional[str]

    @classmethod
    def from_json(cls, j: list) -> "KernelInfo":
        """The inverse of `list(info)` through JSON (the disk cache's metadata)."""
        return cls(j[0], tuple(j[1]), int(j[2]), int(j[3]), j[4])


def nbytes(t: Any) -> int:
    """Bytes of a value of type t; 0 when its size is known only at run time (the kernel's time is still measured,
    its bytes and FLOPs are not counted)."""
    t = getattr(t, "value_type", t)  # a Variable reference: its value
    if not t.is_static:
        return 0
    return t.size * (1 if t.dtype.is_bool else t.dtype.size)


def op_flops(op: Op) -> int:
    """Floating-point operations of one op by its kind: one per element (reductions: per element reduced), 2·M·N·K
    for a contraction (K from the operand and result sizes: a.size·b.size = batch·M·N·K²)."""
    results = [r.type for r in op.results if isinstance(r.type, TensorType)]
    if not results or not results[0].dtype.is_floating or \
            not all(t.is_static for t in results + [v.type for v in op.operands if isinstance(v.type, TensorType)]):
        return 0
    kind = op.opdef.kind
    if kind is Kind.ELEMENTWISE:
        return results[0].size
    if kind is Kind.REDUCE:
        return op.operands[0].type.size if op.operands else 0
    if kind is Kind.LINALG and len(op.operands) == 2 and results[0].rank >= 2:
        a, b, out = op.operands[0].type, op.operands[1].type, results[0]
        batch = out.size // max(out.shape[-1] * out.shape[-2], 1)
        k = math.isqrt(a.size * b.size // max(out.size * batch, 1))
        return 2 * out.size * k
    return 0


class KernelProbe:
    """Instruments the kernels of one function's top-level block while it is lowered (see the module doc)."""

    def __init__(self, ctx: Any, block: Block) -> None:
        self.ctx = ctx
        self.block = block
        self.kernels: list[KernelInfo] = []
        self.producer = {id(r): op for op in block.ops for r in op.results}
        self.env: dict[int, Any] = {}  # the driver's values of the block's SSA values, as it lowers them
        slots = len(block.ops) + len(block.ops[-1].operands) if block.ops else 1
        # The first buffer of the workspace (allocated before any other): COUNTERS_OFFSET in the whole workspace.
        self.counters = ctx.alloc(TensorType(int64, (2 * slots,)))
        self.timespec = ctx.entry_alloca(lir.ArrayType(I64, 2))
        self._clock = lir.Function(ctx.module, lir.FunctionType(I32, [I32, PTR]), "clock_gettime")

    def begin(self) -> tuple[lir.Block, int]:
        b = self.ctx.b
        return b.block, len(b.block.instructions)

    def end(self, mark: tuple[lir.Block, int], ops: list[Op], reads: list[Any], writes: list[Any],
            name: str) -> None:
        """Closes the window opened by `begin`: instruments it when what was emitted is a kernel."""
        b = self.ctx.b
        block, start = mark
        new = block.instructions[start:]
        if b.block is block and not any(isinstance(i, lir.CallInstr) for i in new):
            return  # lazy or scalar code: not a kernel
        k, env = len(self.kernels), self.env
        fused = self._fused(reads, env)
        moved = sum(nbytes(t) for t in fused.values()) + sum(nbytes(t) for t in writes)
        ran = ops + fused_ops(self, reads, env)
        flops = sum(op_flops(op) for op in ran)
        loc = next((f"{os.path.basename(str(op.loc[0]))}:{op.loc[1]}" for op in ran
                    if isinstance(op.loc, tuple) and len(op.loc) == 2), None)
        self.kernels.append(KernelInfo(name, tuple(op.opdef.name for op in ran), moved, flops, loc))
        after = b.block
        b.position_before(new[0])  # a kernel emitted at least a call or the branch into its loops here
        t0 = self._now()
        b.position_at_end(after)
        elapsed = b.sub(self._now(), t0)
        for slot, value in ((2 * k, elapsed), (2 * k + 1, lir.Constant(I64, 1))):
            p = b.gep(self.counters.ptr, [lir.Constant(I64, slot)], inbounds=True, source_etype=I64)
            b.store(b.add(b.load(p, typ=I64), value), p)

    def _now(self) -> lir.Value:
        b = self.ctx.b
        b.call(self._clock, [lir.Constant(I32, _CLOCK_MONOTONIC), self.timespec])
        sec = b.load(b.gep(self.timespec, [lir.Constant(I32, 0), lir.Constant(I32, 0)], inbounds=True), typ=I64)
        nsec = b.load(b.gep(self.timespec, [lir.Constant(I32, 0), lir.Constant(I32, 1)], inbounds=True), typ=I64)
        return b.add(b.mul(sec, lir.Constant(I64, 1_000_000_000)), nsec)

    def _fused(self, values: list[Any], env: dict[int, Any]) -> dict[int, Any]:
        """The memory a kernel reads: {id: type} of the arrays behind `values`, through lazy (fused) producers."""
        found: dict[int, Any] = {}
        for v in values:
            cv = env.get(id(v))
            if isinstance(cv, Lazy) and id(v) in self.producer:
                found.update(self._fused(self.producer[id(v)].operands, env))
            elif not isinstance(cv, Scalar) and cv is not None:
                found[id(v)] = v.type
        return found


def fused_ops(probe: KernelProbe, values: list[Any], env: dict[int, Any]) -> list[Op]:
    """The lazy ops a kernel evaluates for `values` (each once)."""
    out: dict[int, Op] = {}
    stack = list(values)
    while stack:
        v = stack.pop()
        op = probe.producer.get(id(v))
        if op is not None and isinstance(env.get(id(v)), Lazy) and id(op) not in out:
            out[id(op)] = op
            stack.extend(op.operands)
    return list(out.values())
