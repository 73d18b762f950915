"""The lowering driver: an ir.Function to one LLVM function, reading each op's `lower` facet (DESIGN §8).

Calling convention of the generated `i32 @kiln_body(...)`: one pointer per parameter (tensor data, or a
Variable's current array), one per result, one per Variable the function assigns (its new array), then the
workspace (static size `Lowered.workspace_size`), the status words (`[code, value, _, value2]`) and the run-time
dims (i64) of the parameters' unknown dimensions, in parameter order. It returns 0, or an error code indexing
`Lowered.errors`. `i32 @kiln_entry(ptr argv, ptr workspace, ptr status, i64 begin, i64 end)` (codegen.chunk_loop)
takes the data pointers as one array, followed by the unknown dims, and the range of row chunks to run.

Unknown dimensions: one kernel serves every size. A result whose unknown dims are each a parameter's unknown dim
(the batch dimension passing through) is allocated by the runtime, as static results are (`Lowered.result_dims`
says which parameter dim each is; the entry checks the array it is given). Any other result with unknown dims is
allocated by the kernel once its dims are computed (they may depend on values): its pointer argument is then a
descriptor `i64[1 + rank]` that receives the data pointer (from `aligned_alloc`; the runtime owns and frees it) and
the dims.

Fusion: elementwise ops and views produce `Lazy` values that the consuming loop nest evaluates per element; a Lazy
value used more than once, or captured by a loop or branch, is materialized into the workspace first, unless it is
cheap to recompute.

A large or repetitive top-level block of a static function is lowered by `lower_outlined`: its segments of pure ops
become calls of shared LLVM functions (codegen.outline), which keeps LLVM's time proportional to the distinct code.
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

import llvmlite.ir as lir
import numpy as np

import codegen.rules  # noqa: F401  (attaches the lower facets to the op table)
from codegen import interrupt, outline, streaming
from codegen.chunk_loop import emit_entry
from codegen.chunks import RunTimeRows
from codegen.context import ErrorInfo, LowerContext
from codegen.profile import KernelProbe
from codegen.rules.stack import free_stacks
from codegen.values import I32, I64, PTR, Buffer, CValue, Dim, Lazy, Scalar, as_i64, num_elements, round_to
from ir.analysis import assigned_refs
from ir.passes.forward_reads import written_operands
from ir.core import Block, Function, Op
from ir.opdef import Kind
from ir.types import RefType, TensorType


class VarRef(CValue):
    """A Variable inside compiled code: the buffer that holds its current value.

    A Variable the function assigns has two arrays: `old`, the one the call found (never written during the call),
    and `buffer`, the new one that assigns write and the caller swaps in. Until an op that may write it has been
    lowered (`fresh`), a read is the old array itself; after, a read takes a snapshot of the new one."""

    def __init__(self, type: RefType, buffer: Buffer, mutable: bool,  # noqa: A002
                 old: Optional[Buffer] = None) -> None:
        self.type = type
        self.buffer = buffer
        self.mutable = mutable  # assigned somewhere in the function: reads after a write take snapshots
        self.old = old
        self.fresh = old is not None


class Lowered:
    def __init__(self, module: lir.Module, params: list[TensorType], results: list[TensorType],
                 assigned: list[int], workspace_size: int, errors: list[ErrorInfo], prints: list[Any]) -> None:
        self.module = module
        self.params = params
        self.results = results
        self.assigned = assigned          # indices (into params) of the Variable refs the function assigns
        self.workspace_size = workspace_size
        self.errors = errors
        self.prints = prints
        self.chunks = 1                   # > 1: the body is one chunk of rows; kiln_entry loops over chunks
        self.row_tiles: Optional[RunTimeRows] = None  # chunks of a run-time row count (codegen.chunks)
        # Per result: None (static, or allocated by the kernel when its type has unknown dims), or its dims with
        # each unknown one as the index of the parameters' unknown dim it equals (the runtime allocates it).
        self.result_dims: list[Any] = [None] * len(results)
        self.kernels: list[Any] = []      # the profiling variant's timed kernels (codegen.profile.KernelInfo)


def _assigned_params(fn: Function) -> set[int]:
    """Indices of the reference parameters that reach an `assign` (directly or captured into regions)."""
    written = assigned_refs(fn.block)
    return {i for i, p in enumerate(fn.params) if isinstance(p.type, RefType) and id(p) in written}


def use_counts(block: Block) -> dict[int, int]:
    """How many ops of `block` read each value's elements (a value read more than once is materialized); a rule
    marked `reads_dims_only` (`dim`) does not count: it reads the dims, which a fused value has too."""
    counts: dict[int, int] = {}
    for op in block.ops:
        if getattr(op.opdef.lower, "reads_dims_only", False):
            continue
        for v in op.operands:
            counts[id(v)] = counts.get(id(v), 0) + 1
    return counts


def lower_block(ctx: LowerContext, block: Block, args: list[CValue]) -> list[CValue]:
    env: dict[int, CValue] = {id(a): v for a, v in zip(block.args, args)}
    probe = ctx.probe if ctx.probe is not None and ctx.probe.block is block else None
    if probe is not None:
        probe.env = env
    return lower_ops(ctx, block.ops, env, use_counts(block), probe) or []


def lower_ops(ctx: LowerContext, ops: Sequence[Op], env: dict[int, CValue], uses: dict[int, int],
              probe: Any = None) -> Optional[list[CValue]]:
    """Lowers `ops` in order, their results entering `env`; the terminator's values if `ops` ends the block. With
    `probe` (the profiling variant, codegen.profile), each op's kernel is timed."""
    for op in ops:
        mark = probe.begin() if probe is not None and not op.opdef.terminator else None
        operands = [env[id(v)] for v in op.operands]
        rule = op.opdef.lower
        if rule is None:
            raise NotImplementedError(f"codegen: op {op.opdef.name} has no lower rule")
        if op.opdef.terminator:
            return list(rule(ctx, op, *operands))
        if op.regions:  # an expression captured by a loop or branch is computed once, not on every trip
            operands = [ctx.materialize(o) if isinstance(o, Lazy) and not o.cheap else o for o in operands]
        # from here on (and inside its regions) a Variable this op may write is read from its new array
        for k in written_operands(op):
            if isinstance(operands[k], VarRef):
                operands[k].fresh = False
        if op.opdef.kind is Kind.ELEMENTWISE:
            results: Any = [_elementwise(ctx, op, rule, operands)]
            if getattr(rule, "may_fail", None) is not None and rule.may_fail(op):
                results = [ctx.materialize(results[0])]  # its checks run here, in program order
        else:
            results = rule(ctx, op, *operands)
            if results is None:
                results = []
            elif isinstance(results, CValue):
                results = [results]
        for r, cv in zip(op.results, results):
            if isinstance(cv, Lazy) and not cv.cheap and uses.get(id(r), 0) > 1:
                cv = ctx.materialize(cv)
            env[id(r)] = cv
        if mark is not None:
            probe.end(mark, [op], op.operands, [r.type for r in op.results if isinstance(env[id(r)], Buffer)],
                      op.opdef.name)
    return None


def lower_outlined(ctx: LowerContext, block: Block, args: list[CValue], items: list[outline.Item],
                   destinations: dict[int, lir.Value]) -> list[CValue]:
    """`lower_block` for a large top-level block, planned as `items`: its segments become calls of shared functions
    (codegen.outline); `destinations` maps returned values to their result pointers."""
    env: dict[int, CValue] = {id(a): v for a, v in zip(block.args, args)}
    uses = use_counts(block)
    outliner = outline.Outliner(ctx, uses, lower_ops, destinations)
    for item in items:
        if isinstance(item, outline.Segment):
            outliner.call(item, env)
            continue
        outs = lower_ops(ctx, [item], env, uses)
        if outs is not None:
            return outs
    return []


def elementwise_dims(ctx: LowerContext, op: Op, operands: Sequence[CValue]) -> tuple[Dim, ...]:
    """The result dims of an op whose operands and result have one shape: static where the type says, else the
    operands' run-time dims, checked equal at run time where two of them are unknown."""
    t = op.results[0].type
    if t.is_static:
        out: list[Dim] = list(t.shape)
        for o in operands:
            for k, d in enumerate(o.dims):
                ctx.same_dim(op, out[k], d, f"dimension {k}")
        return tuple(out)
    dims: list[Dim] = []
    for k, d in enumerate(t.shape):
        cur: Dim = d if d is not None else operands[0].dims[k]
        for o in operands:
            if o.dims:
                cur = ctx.same_dim(op, cur, o.dims[k], f"dimension {k}")
        dims.append(cur)
    return tuple(dims)


def _elementwise(ctx: LowerContext, op: Op, rule: Any, operands: list[CValue]) -> CValue:
    dtype = op.results[0].type.dtype

    def element(b: lir.IRBuilder, idx: Sequence[lir.Value]) -> lir.Value:
        # float16/bfloat16 compute in float32 registers; each op's result is rounded as numpy rounds it
        return round_to(b, dtype, rule(ctx, op, *[o.load(b, idx) for o in operands]))
    if not op.results[0].type.shape:  # computed here, once: scalar code
        ctx.scalar = True
        try:
            return ctx.lazy(op.results[0].type, element)
        finally:
            ctx.scalar = False
    return ctx.lazy(op.results[0].type, element, dims=elementwise_dims(ctx, op, operands))


def lower_function(fn: Function, name: str = "kiln_body", chunk_bytes: Sequence[int] = (),
                   profile: bool = False, chunks: int = 1, row_tiles: Optional[RunTimeRows] = None) -> Lowered:
    """Lower `fn`. With `chunk_bytes` (one entry per pointer: the bytes a chunk advances it, 0 if not split), `fn`
    is the kernel of one chunk of rows and `kiln_entry` loops over a range of `chunks` chunks (see codegen.tiling),
    or, with `row_tiles`, of chunks of a run-time row count (codegen.chunk_loop).
    With `profile`, every kernel is timed into counters in the workspace (codegen.profile; `Lowered.kernels`).
    Big results are written with non-temporal stores (codegen.streaming; decided per call in a kernel tiled over a
    run-time row count).

    Each workspace buffer is passed to the body as its own `noalias` argument (a loop storing one intermediate
    while loading another then vectorizes); the body's signature gets them once lowering has allocated them all."""
    module = lir.Module(name=fn.name)
    params = [p.type for p in fn.params]
    results = fn.result_types
    assigned = sorted(_assigned_params(fn))
    n_ptrs = len(params) + len(results) + len(assigned)
    body = lir.Function(module, lir.FunctionType(I32, [PTR] * (n_ptrs + 3)), name)
    for a in body.args[:n_ptrs]:
        a.add_attribute("noalias")
    body.attributes.add("nounwind")
    # kiln_entry calls the body and kiln_py calls kiln_entry; inlined, a small body was optimized and compiled in
    # all three (a 32x784 @ 784x128 matmul: 38 -> 20 ms of LLVM time when it stays one function).
    body.attributes.add("noinline")
    ctx = LowerContext(module, body, body.args[n_ptrs], body.args[n_ptrs + 1], runs=None if any(chunk_bytes) else 1)
    ctx.lower_block = lower_block
    ctx.probe = KernelProbe(ctx, fn.block) if profile else None
    b = ctx.b
    args: list[CValue] = []
    out_of_var = {pi: body.args[len(params) + len(results) + k] for k, pi in enumerate(assigned)}
    run_dims = _param_dims(b, body.args[n_ptrs + 2], params)
    dim_index = {id(d): j for j, d in enumerate(d for ds in run_dims for d in ds if not isinstance(d, int))}
    for i, (p, t) in enumerate(zip(body.args, params)):
        if isinstance(t, RefType):
            buf = Buffer(t.value_type, p)
            if i in out_of_var:
                # assigns update the new array; the caller swaps it in afterwards (after a failure too: it must
                # hold the old value until the first assign)
                new = Buffer(t.value_type, out_of_var[i])
                ctx.store_all(new, buf)
                args.append(VarRef(t, new, True, old=buf))
            else:
                args.append(VarRef(t, buf, False))
        elif not t.shape:
            args.append(Scalar(t, Buffer(t, p).load(b, [])))
        else:
            args.append(Buffer(t, p, run_dims[i], b))
    static = all(t.is_static for t in params + results) and not any(
        not v.type.is_static for op in fn.walk() for v in op.results)
    items = outline.worth_outlining(fn.block, use_counts(fn.block)) if static and not profile else None
    outlined = items is not None
    ctx.buffers_in_workspace = outlined
    if outlined:
        destinations: dict[int, lir.Value] = {}
        for k, v in enumerate(fn.block.ops[-1].operands):
            destinations.setdefault(id(v), body.args[len(params) + k])
        outs = lower_outlined(ctx, fn.block, args, items, destinations)
    else:
        outs = lower_block(ctx, fn.block, args)
    result_dims: list[Any] = []
    returned = fn.block.ops[-1].operands if fn.block.ops else []
    streamed = False
    for k, (cv, t) in enumerate(zip(outs, results)):
        ptr = body.args[len(params) + k]
        known = None if t.is_static else tuple(
            d if isinstance(d, int) else ("param_dim", dim_index.get(id(d))) for d in cv.dims)
        if known is not None and ("param_dim", None) not in known:
            out = Buffer(t, ptr, cv.dims, b)
        else:
            known = None
            out = Buffer(t, ptr) if t.is_static else _new_result(ctx, t, cv.dims, ptr)
        result_dims.append(known)
        mark = ctx.probe.begin() if ctx.probe is not None else None
        if isinstance(cv, Buffer) and cv.ptr is ptr:  # an outlined segment wrote it there
            pass
        elif t.is_static and mark is None and streaming.streams(t.size * t.dtype.np.itemsize * chunks, out):
            streaming.store_streaming(ctx, out, cv)
            streamed = True
        elif row_tiles is not None and mark is None and _may_stream(out):
            _store_by_call_size(ctx, out, cv, body.args[n_ptrs + 2], len(dim_index))
            streamed = True
        else:
            ctx.store_all(out, cv)
        if mark is not None and k < len(returned):  # the fused chain feeding a result runs in this store
            ctx.probe.end(mark, [], [returned[k]], [t], f"result {k}")
    _free_all(ctx)
    b.ret(lir.Constant(I32, 0))
    b.position_at_end(ctx.exit_block)
    _free_all(ctx)
    b.ret(b.trunc(b.load(ctx.status, typ=I64), I32))
    ctx.finish()
    body.args = body.args + tuple(ctx.buffer_args)
    body.ftype = lir.FunctionType(I32, [PTR] * len(body.args))
    # A tiled kernel's chunk loop (run by pool threads too) polls for Ctrl-C between chunks (codegen.interrupt).
    poll = interrupt.interrupt_code(ctx) if any(chunk_bytes) else 0
    emit_entry(module, body, n_ptrs, list(chunk_bytes) or [0] * n_ptrs, [] if outlined else ctx.buffer_sizes, poll,
               streamed, len(dim_index), row_tiles)
    lowered = Lowered(module, params, results, assigned, ctx.workspace_size, ctx.errors, ctx.prints)
    lowered.result_dims = result_dims
    lowered.row_tiles = row_tiles
    lowered.kernels = ctx.probe.kernels if ctx.probe is not None else []
    return lowered


#: A result of a kernel over a run-time row count gets the streaming store (a second copy of its store loop, ~30 ms
#: more LLVM time for relu(x@W+b)) only when calls of at most this many rows can reach STREAM_BYTES.
STREAM_MAX_ROWS = 4096


def _may_stream(out: Buffer) -> bool:
    t = out.type
    row_bytes = t.dtype.np.itemsize * int(np.prod(t.shape[1:], dtype=np.int64)) if t.rank > 1 else 0
    return row_bytes * STREAM_MAX_ROWS >= streaming.STREAM_BYTES and streaming.streams(streaming.STREAM_BYTES, out)


def _store_by_call_size(ctx: LowerContext, out: Buffer, cv: CValue, dims: lir.Value, n_dims: int) -> None:
    """A result of a kernel tiled over a run-time row count: streamed when the whole call's result (its row count
    is the slot after the run-time dims, codegen.chunk_loop) is big enough, else stored normally."""
    b = ctx.b
    rows = b.load(b.gep(dims, [ctx.i64(n_dims)], inbounds=True, source_etype=I64), typ=I64)
    row_bytes = out.type.dtype.np.itemsize
    for d in out.type.shape[1:]:
        row_bytes *= d
    big = b.icmp_signed(">=", b.mul(rows, ctx.i64(row_bytes)), ctx.i64(streaming.STREAM_BYTES))
    with b.if_else(big) as (then, otherwise):
        with then:
            streaming.store_streaming(ctx, out, cv)
        with otherwise:
            ctx.store_all(out, cv)


def _free_all(ctx: LowerContext) -> None:
    """At an exit of the function (success or error): free its stacks, heap blocks and owned buffers."""
    free_stacks(ctx)
    ctx.free_heap()
    ctx.free_owned()


def _param_dims(b: lir.IRBuilder, dims_ptr: lir.Value, params: Sequence[Any]) -> list[tuple[Dim, ...]]:
    """Each parameter's dims: static ones as ints, unknown ones loaded from the run-time dims array."""
    out, j = [], 0
    for t in params:
        if isinstance(t, RefType) or not t.shape:
            out.append(())
            continue
        dims: list[Dim] = []
        for d in t.shape:
            if d is None:
                p = b.gep(dims_ptr, [lir.Constant(I64, j)], inbounds=True, source_etype=I64)
                dims.append(b.load(p, typ=I64, name=f"size{j}"))
                j += 1
            else:
                dims.append(d)
        out.append(tuple(dims))
    return out


def _new_result(ctx: LowerContext, t: TensorType, dims: Sequence[Dim], desc: lir.Value) -> Buffer:
    """A result of unknown dims: memory of its run-time size (the runtime takes it over) whose pointer and dims go
    into the result's descriptor `i64[1 + rank]`."""
    b = ctx.b
    elem = 1 if t.dtype.is_bool else t.dtype.size
    nbytes = b.mul(as_i64(num_elements(b, dims)), ctx.i64(elem), flags=["nsw"])
    total = b.and_(b.add(nbytes, ctx.i64(63)), ctx.i64(-64))
    total = b.select(b.icmp_signed("==", total, ctx.i64(0)), ctx.i64(64), total)
    aligned_alloc = ctx._libc("aligned_alloc", PTR, [I64, I64])
    ptr = b.call(aligned_alloc, [ctx.i64(64), total])
    code = ctx.error(MemoryError, "a compiled function could not allocate {value} bytes for a result")
    ctx.fail_if(b.icmp_unsigned("==", ptr, lir.Constant(PTR, None)), code, nbytes)
    b.store(b.ptrtoint(ptr, I64), desc)
    for k, d in enumerate(dims):
        b.store(as_i64(d), b.gep(desc, [ctx.i64(k + 1)], inbounds=True, source_etype=I64))
    return Buffer(t, ptr, dims, b)
