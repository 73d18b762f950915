"""`kiln_entry`, the chunk loop: runs a lowered body once, or chunk by chunk over a range of row chunks.

`i32 @kiln_entry(ptr argv, ptr workspace, ptr status, i64 begin, i64 end)` reads the data pointers from `argv`
(the run-time dims of the parameters' unknown dimensions follow them) and calls the body for chunks [begin, end),
advancing each split pointer by its bytes per chunk (an untiled function has one chunk). The native entry
(codegen.entry) has checked the range.

A function tiled over a run-time row count (`codegen.chunks.RunTimeRows`) gives each chunk its own copy of the
run-time dims with every split parameter's leading dim set to the chunk's rows (`rows` per chunk, the rows left in
the last one), so the body, compiled for `?` rows, reads and writes exactly its chunk; the call's row count follows
the dims (the body streams a big call's results, codegen.lower). When the split parameters'
row counts differ, the chunks would not line up: the call's first range (begin 0) runs the body whole, which reports
what the untiled function reports, and the others do nothing.
"""
from __future__ import annotations

from typing import Optional, Sequence

import llvmlite.ir as lir

from codegen import interrupt, streaming
from codegen.chunks import RunTimeRows
from codegen.values import I32, I64, PTR

I8 = lir.IntType(8)


def emit_entry(module: lir.Module, body: lir.Function, n_ptrs: int, chunk_bytes: list[int],
               buffer_sizes: Sequence[int], poll: int = 0, fence: bool = False, n_dims: int = 0,
               rows: Optional[RunTimeRows] = None) -> None:
    """Emits `kiln_entry` calling `body`; with `fence` (the body wrote non-temporal stores), a store fence before it
    returns; with `poll`, an interrupt check between chunks (codegen.interrupt); with `rows`, chunks of a run-time
    row count (`n_dims`: how many run-time dims there are)."""
    entry = lir.Function(module, lir.FunctionType(I32, [PTR, PTR, PTR, I64, I64]), "kiln_entry")
    b = lir.IRBuilder(entry.append_basic_block("entry"))
    argv, ws, status, begin, end = entry.args
    base = [b.load(b.gep(argv, [lir.Constant(I64, i)], inbounds=True, source_etype=PTR), typ=PTR)
            for i in range(n_ptrs)]
    dims = b.gep(argv, [lir.Constant(I64, n_ptrs)], inbounds=True, source_etype=PTR)  # the unknown dims follow
    buffers, offset = [], 0
    for size in buffer_sizes:
        buffers.append(b.gep(ws, [lir.Constant(I64, offset)], inbounds=True, source_etype=I8))
        offset += size

    def finish(code: lir.Value) -> None:
        if fence:
            streaming.fence(b, module)
        b.ret(code)
    if not any(chunk_bytes):
        finish(b.call(body, base + [ws, status, dims] + buffers))
        return
    chunk_dims, n_rows = dims, None
    if rows is not None:
        chunk_dims, n_rows = _chunk_dims(entry, b, dims, n_dims, rows, begin)
        whole, first, rest, chunked = (entry.append_basic_block(n) for n in ("rows.differ", "rows.whole",
                                                                             "rows.rest", "rows.agree"))
        same = lir.Constant(lir.IntType(1), 1)
        for s in rows.slots[1:]:
            same = b.and_(same, b.icmp_signed("==", b.load(_slot(b, chunk_dims, s), typ=I64), n_rows))
        b.cbranch(same, chunked, whole)
        b.position_at_end(whole)  # the split parameters' rows differ: the first range runs the body whole
        b.cbranch(b.icmp_signed("==", begin, lir.Constant(I64, 0)), first, rest)
        b.position_at_end(first)
        finish(b.call(body, base + [ws, status, chunk_dims] + buffers))
        b.position_at_end(rest)
        b.ret(lir.Constant(I32, 0))
        b.position_at_end(chunked)
    pre = b.block
    head, loop, done = (entry.append_basic_block(n) for n in ("chunk.head", "chunk.body", "chunk.end"))
    b.branch(head)
    b.position_at_end(head)
    c = b.phi(I64)
    c.add_incoming(begin, pre)
    b.cbranch(b.icmp_signed("<", c, end), loop, done)
    b.position_at_end(loop)
    if rows is not None:  # this chunk's rows: `rows.rows`, or those left
        left = b.sub(n_rows, b.mul(c, lir.Constant(I64, rows.rows)))
        here = b.select(b.icmp_signed("<", left, lir.Constant(I64, rows.rows)), left, lir.Constant(I64, rows.rows))
        for s in rows.slots:
            b.store(here, _slot(b, chunk_dims, s))
    ptrs = [p if nbytes == 0 else b.gep(p, [b.mul(c, lir.Constant(I64, nbytes))], inbounds=True, source_etype=I8)
            for p, nbytes in zip(base, chunk_bytes)]
    code = b.call(body, ptrs + [ws, status, chunk_dims] + buffers)
    fail = entry.append_basic_block("chunk.fail")
    nxt = entry.append_basic_block("chunk.next")
    b.cbranch(b.icmp_signed("!=", code, lir.Constant(I32, 0)), fail, nxt)
    b.position_at_end(fail)
    b.ret(code)
    b.position_at_end(nxt)
    if poll:
        stop = entry.append_basic_block("chunk.interrupted")
        go = entry.append_basic_block("chunk.go")
        b.cbranch(interrupt.interrupted(b, module, status), stop, go)
        b.position_at_end(stop)
        b.store(lir.Constant(I64, poll), status)
        b.ret(lir.Constant(I32, poll))
        b.position_at_end(go)
    c.add_incoming(b.add(c, lir.Constant(I64, 1)), b.block)
    b.branch(head)
    b.position_at_end(done)
    finish(lir.Constant(I32, 0))


def _chunk_dims(entry: lir.Function, b: lir.IRBuilder, dims: lir.Value, n_dims: int, rows: RunTimeRows,
                begin: lir.Value) -> tuple[lir.Value, lir.Value]:
    """The chunks' copy of the run-time dims, with the call's row count (the driver parameter's) in a slot after
    them (a result streams when the whole call's is big, codegen.lower), and that row count."""
    copy = b.alloca(lir.ArrayType(I64, n_dims + 1))
    for s in range(n_dims):
        b.store(b.load(b.gep(dims, [lir.Constant(I64, s)], inbounds=True, source_etype=I64), typ=I64),
                _slot(b, copy, s))
    n_rows = b.load(_slot(b, copy, rows.slots[0]), typ=I64)
    b.store(n_rows, _slot(b, copy, n_dims))
    return copy, n_rows


def _slot(b: lir.IRBuilder, dims: lir.Value, slot: int) -> lir.Value:
    """The address of run-time dim `slot` in the chunks' copy of the dims."""
    return b.gep(dims, [lir.Constant(I32, 0), lir.Constant(I32, slot)], inbounds=True)
