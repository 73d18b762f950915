"""IR building blocks of the generated GEMM's worker (codegen.rules.gemm_kernel) in the form LLVM's code generator
takes without optimization passes: counted loops already rotated (a guard, then the body with its test at the
bottom), values carried around a loop and out of a branch as phis (no allocas for SROA to promote); lane masks, and
the in-register transpose the transposed-B pack uses.

The worker is built with a short pass list (codegen.gemm_passes) instead of the O3 pipeline, so what O3 would have
done to these loops (rotate them, promote the register tile out of memory) is done here at emit time.
"""
from __future__ import annotations

from typing import Callable, Optional, Sequence

import llvmlite.ir as lir

from codegen.values import I64

#: body(i, carried values) -> the carried values for the next iteration (None when nothing is carried)
Body = Callable[[lir.Value, list[lir.Value]], Optional[Sequence[lir.Value]]]


def counted_loop(b: lir.IRBuilder, start: lir.Value, end: lir.Value, body: Body,
                 carried: Sequence[lir.Value] = ()) -> list[lir.Value]:
    """for (i = start; i < end; i++) carried = body(i, carried); returns the carried values after the loop (the
    initial ones when it runs no iteration). Rotated: one compare and branch per iteration, at the bottom."""
    pre = b.block
    loop, done = b.append_basic_block("gemm.loop"), b.append_basic_block("gemm.done")
    b.cbranch(b.icmp_signed("<", start, end), loop, done)
    b.position_at_end(loop)
    i = b.phi(I64)
    i.add_incoming(start, pre)
    phis = []
    for v in carried:
        phi = b.phi(v.type)
        phi.add_incoming(v, pre)
        phis.append(phi)
    new = list(body(i, list(phis)) or ())
    assert len(new) == len(phis), "a loop body returns one value per carried value"
    following = b.add(i, lir.Constant(I64, 1), flags=["nsw"])
    latch = b.block
    i.add_incoming(following, latch)
    for phi, v in zip(phis, new):
        phi.add_incoming(v, latch)
    b.cbranch(b.icmp_signed("<", following, end), loop, done)
    b.position_at_end(done)
    out = []
    for v, w in zip(carried, new):
        phi = b.phi(v.type)
        phi.add_incoming(v, pre)
        phi.add_incoming(w, latch)
        out.append(phi)
    return out


def branch_values(b: lir.IRBuilder, cond: lir.Value, then: Callable[[], Sequence[lir.Value]],
                  otherwise: Callable[[], Sequence[lir.Value]]) -> list[lir.Value]:
    """`then()` if cond else `otherwise()`, each emitted in its own block, their values merged by phis."""
    with b.if_else(cond) as (yes, no):
        with yes:
            first = list(then())
            first_block = b.block
        with no:
            second = list(otherwise())
            second_block = b.block
    out = []
    for v, w in zip(first, second):
        phi = b.phi(v.type)
        phi.add_incoming(v, first_block)
        phi.add_incoming(w, second_block)
        out.append(phi)
    return out


def lane_mask(b: lir.IRBuilder, lanes: int, valid: lir.Value) -> lir.Value:
    """<lanes x i1>: lane l is on when l < valid (a run-time count)."""
    vi = lir.VectorType(I64, lanes)
    splat = b.shuffle_vector(b.insert_element(lir.Constant(vi, None), valid, lir.Constant(lir.IntType(32), 0)),
                             lir.Constant(vi, None), _mask([0] * lanes))
    return b.icmp_signed("<", lir.Constant(vi, list(range(lanes))), splat)


def transpose(b: lir.IRBuilder, rows: Sequence[lir.Value]) -> list[lir.Value]:
    """The transpose of a square block held as `lanes` vectors of `lanes` elements (lanes a power of two): at each
    distance d = lanes/2, ..., 1, rows i and i + d (i & d == 0) swap their off-diagonal d x d sub-blocks, two
    two-source shuffles per pair (lanes * log2(lanes) shuffles, where scalar copies take lanes^2 loads and stores)."""
    lanes = len(rows)
    out = list(rows)
    d = lanes // 2
    while d:
        low = [j if j & d == 0 else lanes + j - d for j in range(lanes)]   # a's low halves, then b's
        high = [j + d if j & d == 0 else lanes + j for j in range(lanes)]  # a's high halves, then b's
        for i in range(lanes):
            if i & d == 0:
                a, c = out[i], out[i + d]
                out[i] = b.shuffle_vector(a, c, _mask(low))
                out[i + d] = b.shuffle_vector(a, c, _mask(high))
        d //= 2
    return out


def _mask(indices: list[int]) -> lir.Constant:
    return lir.Constant(lir.VectorType(lir.IntType(32), len(indices)), indices)
