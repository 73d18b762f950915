"""Outlining: a large function's body is lowered as calls of small LLVM functions, one per segment of its ops, and
segments with the same structure share one function (a compile-time measure; DESIGN §8).

LLVM's time grows faster than the size of one function (an unrolled 50-layer `tanh(x @ w)` gradient: 2.2 s of O3,
25 layers: 0.7 s), and a program that repeats a layer repeats the same code. So in a function of at least
`MIN_OPS` top-level ops, or whose segments repeat (`worth_outlining`), `plan` splits the top-level block into:
- segments: runs of outlinable ops (plain, pure ops of the elementwise, shape, reduce, linalg and constant kinds),
  cut only where every value that crosses the cut is in memory anyway (a reduction's or matmul's result, an
  elementwise result used more than once, a scalar), so outlining costs no fusion;
- inline ops: everything else (Variable reads and assigns, effects, control flow, stacks, random numbers), lowered
  in the body as before;
- free ops (constants and shape ops of constants): lowered in the body and again inside each segment that uses
  them, so a constant shared by every layer (CSE's doing) never pins a cut.

`Outliner.call` lowers a segment once per structural key (its ops, attrs, types, operand wiring, which results are
used more than once, how its inputs are held, and the loop context) into `i32 @kiln_seg<n>(inputs..., ptr status,
buffers..., outputs...)` and emits a call of it; a later segment with the same key only emits a call. Each call
site gets its own workspace buffers, as inline code would. A segment whose code can fail is keyed by its ops'
source locations too, so an error names the right line.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Union

import llvmlite.ir as lir

from codegen.values import I32, I64, PTR, Buffer, CValue, Lazy, Scalar, llvm_type
from ir.core import Block, Op, Value
from ir.opdef import Kind
from ir.passes.common import attrs_key
from ir.types import RefType, StackType

#: A function is outlined when its top-level block has at least MIN_OPS ops, or when at least MIN_REPEATS of its
#: segments, and at least half of them, repeat an earlier one's structure (25 identical layers: one function instead
#: of 25 copies of a matmul kernel; the MNIST training step's 10 repeats among 51 segments made its compile slower);
#: otherwise it is lowered as one LLVM function, exactly as before outlining existed.
MIN_OPS = 1024
MIN_REPEATS = 8
#: A segment is cut (where it may be) once it has this many ops: fewer, larger calls.
MIN_SEGMENT_OPS = 8

_OUTLINABLE = {Kind.ELEMENTWISE, Kind.SHAPE, Kind.REDUCE, Kind.LINALG, Kind.CONSTANT}
# Kinds whose results are in memory (or registers) once lowered: crossing a cut costs them nothing.
_MATERIALIZING = {Kind.REDUCE, Kind.LINALG}


def _outlinable(op: Op) -> bool:
    d = op.opdef
    return (d.kind in _OUTLINABLE and not op.regions and not d.terminator and not d.effect and d.deterministic
            and d.lower is not None
            and not any(isinstance(v.type, (RefType, StackType)) for v in list(op.operands) + list(op.results)))


@dataclass
class Segment:
    ops: list[Op]                     # free ops it uses first (cloned), then its own ops, in program order
    inputs: list[Value]               # values from outside, in order of first use
    outputs: list[Value]              # its values used after it


Item = Union[Op, Segment]


def plan(block: Block, uses: dict[int, int]) -> list[Item]:
    """The block's ops in order, runs of outlinable ops grouped into segments (see the module docstring)."""
    ops = block.ops
    last_use: dict[int, int] = {}
    for i, op in enumerate(ops):
        for v in op.operands:
            last_use[id(v)] = i
    free: dict[int, Op] = {}          # id(result) -> free op
    for op in ops:
        if _outlinable(op) and op.opdef.kind in (Kind.CONSTANT, Kind.SHAPE) and \
                all(id(v) in free for v in op.operands):
            for r in op.results:
                free[id(r)] = op
    items: list[Item] = []
    current: list[Op] = []
    pending: dict[int, int] = {}      # unmaterialized values of `current` still used later: id -> last use

    def close(end: int) -> None:
        if current:
            items.append(_segment(current, free, last_use, end))
            current.clear()
        pending.clear()

    for i, op in enumerate(ops):
        if op.results and id(op.results[0]) in free:
            items.append(op)          # lowered in the body too, for inline users
            continue
        if not _outlinable(op):
            close(i)
            items.append(op)
            continue
        for k in [k for k, last in pending.items() if last < i]:
            del pending[k]
        if len(current) >= MIN_SEGMENT_OPS and not pending:
            close(i)
        current.append(op)
        for r in op.results:
            if not _in_memory(op, r, uses) and last_use.get(id(r), -1) > i:
                pending[id(r)] = last_use[id(r)]
    close(len(ops))
    return items


def _in_memory(op: Op, v: Value, uses: dict[int, int]) -> bool:
    if not v.type.shape or op.opdef.kind in _MATERIALIZING:
        return True
    return op.opdef.kind is Kind.ELEMENTWISE and uses.get(id(v), 0) > 1  # lower_block materializes it


def _segment(own: list[Op], free: dict[int, Op], last_use: dict[int, int], end: int) -> Segment:
    defined = {id(r) for op in own for r in op.results}
    clones: dict[int, Op] = {}        # id(op) -> op, for the free ops it uses (and theirs)

    def pull(v: Value) -> None:
        op = free.get(id(v))
        if op is None or id(op) in clones:
            return
        for u in op.operands:
            pull(u)
        clones[id(op)] = op
    inputs: list[Value] = []
    seen: set[int] = set()
    for op in own:
        for v in op.operands:
            if id(v) in free:
                pull(v)
            elif id(v) not in defined and id(v) not in seen:
                seen.add(id(v))
                inputs.append(v)
    outputs = [r for op in own for r in op.results if last_use.get(id(r), -1) >= end]
    return Segment(list(clones.values()) + own, inputs, outputs)


@dataclass
class _Compiled:
    fn: lir.Function
    buffer_sizes: list[int]
    outputs: list[tuple[str, int]]    # per output: ("in", k) an input's pointer, ("buf", k) a buffer, ("out", k)
    fails: bool
    located: bool = False             # keyed by source locations too (its code can fail)
    by_location: dict[Any, "_Compiled"] = field(default_factory=dict)


class Outliner:
    """Lowers the segments of one function body (`ctx`) as calls of shared LLVM functions."""

    def __init__(self, ctx: Any, uses: dict[int, int],
                 lower_ops: Callable[[Any, list[Op], dict[int, CValue], dict[int, int]], None],
                 destinations: dict[int, lir.Value]) -> None:
        """`destinations`: id(value) -> the result pointer a returned value is written to. A segment computes such
        a value straight into it: each copy at the end would be one more loop in the body, and LLVM's loop passes
        cost the body's size per loop."""
        self.ctx = ctx
        self.uses = uses
        self.lower_ops = lower_ops
        self.destinations = destinations
        self.cache: dict[Any, _Compiled] = {}
        self.stats = {"segments": 0, "functions": 0}

    def call(self, seg: Segment, env: dict[int, CValue]) -> None:
        """Lower `seg` (or find its function) and call it; its outputs enter `env`."""
        ctx = self.ctx
        args = []
        for v in seg.inputs:
            cv = env[id(v)]
            if isinstance(cv, Lazy) or (not isinstance(cv, (Buffer, Scalar)) and v.type.shape):
                cv = ctx.buffer(cv)
            elif not isinstance(cv, (Buffer, Scalar)):
                cv = Scalar(v.type, cv.load(ctx.b, []))
            env[id(v)] = cv
            args.append(cv)
        key = self._key(seg, args)
        compiled = self.cache.get(key)
        if compiled is not None and compiled.located:
            compiled = compiled.by_location.get(_locations(seg))
        if compiled is None:
            compiled = self._lower(seg, args)
            first = self.cache.setdefault(key, compiled)
            if compiled.fails:
                first.located = True
                first.by_location[_locations(seg)] = compiled
            self.stats["functions"] += 1
        self.stats["segments"] += 1
        self._emit_call(seg, compiled, args, env)

    def _key(self, seg: Segment, args: list[CValue]) -> Any:
        index = {id(v): ("in", k) for k, v in enumerate(seg.inputs)}
        entries = []
        for j, op in enumerate(seg.ops):
            for r, res in enumerate(op.results):
                index[id(res)] = ("op", j, r)
            entries.append((op.opdef.name, tuple(index[id(v)] for v in op.operands), attrs_key(op.attrs),
                            tuple((res.type, self.uses.get(id(res), 0) > 1) for res in op.results)))
        held = tuple((type(a).__name__, v.type) for a, v in zip(args, seg.inputs))
        return (self.ctx._runs, held, tuple(entries), tuple(index[id(v)] for v in seg.outputs))

    def _lower(self, seg: Segment, args: list[CValue]) -> _Compiled:
        from codegen.context import LowerContext
        outer = self.ctx
        types = [PTR if isinstance(a, Buffer) else llvm_type(a.type) for a in args] + [PTR]
        fn = lir.Function(outer.module, lir.FunctionType(I32, types), outer.module.get_unique_name("kiln_seg"))
        fn.linkage = "internal"
        fn.attributes.add("nounwind")
        fn.attributes.add("noinline")  # one copy of the code however many calls share it
        for a, arg in zip(args, fn.args):
            if isinstance(a, Buffer):
                arg.add_attribute("noalias")  # inputs are only read; everything written is the call's own memory
        status = fn.args[len(args)]
        ctx = LowerContext(outer.module, fn, status, status, runs=outer._runs)
        ctx.lower_block = outer.lower_block
        ctx.errors, ctx.prints = outer.errors, outer.prints  # shared tables: error codes index the function's
        env: dict[int, CValue] = {}
        for v, a, arg in zip(seg.inputs, args, fn.args):
            env[id(v)] = Buffer(v.type, arg) if isinstance(a, Buffer) else Scalar(v.type, arg)
        self.lower_ops(ctx, seg.ops, env, self.uses)
        position = {id(arg): ("in", k) for k, arg in enumerate(fn.args[:len(args)])}
        position.update({id(arg): ("buf", k) for k, arg in enumerate(ctx.buffer_args)})
        outputs, out_args = [], []
        for v in seg.outputs:
            cv = env[id(v)]
            if isinstance(cv, Buffer) and id(cv.ptr) in position:
                outputs.append(position[id(cv.ptr)])
                continue
            arg = lir.Argument(fn, PTR)
            arg.add_attribute("noalias")
            out_args.append(arg)
            ctx.store_all(Buffer(v.type, arg), cv)
            outputs.append(("out", len(out_args) - 1))
        b = ctx.b
        b.ret(lir.Constant(I32, 0))
        b.position_at_end(ctx.exit_block)
        b.ret(b.trunc(b.load(ctx.status, typ=I64), I32))
        ctx.finish()
        fn.args = fn.args + tuple(ctx.buffer_args) + tuple(out_args)
        fn.ftype = lir.FunctionType(I32, [a.type for a in fn.args])
        return _Compiled(fn, list(ctx.buffer_sizes), outputs, ctx.failures > 0)

    def _emit_call(self, seg: Segment, compiled: _Compiled, args: list[CValue], env: dict[int, CValue]) -> None:
        ctx = self.ctx
        b = ctx.b
        # Addresses made at the call: computed once in the entry block, a thousand of them live across a thousand
        # calls made LLVM's optimizer and register allocator quadratic.
        destination: dict[tuple[str, int], lir.Value] = {}
        for v, where in zip(seg.outputs, compiled.outputs):
            # A buffer the segment allocated is written in place of the result array only when it is exactly the
            # result's size (a rule may return the start of a larger scratch buffer).
            if where[0] == "in" or (where[0] == "buf" and compiled.buffer_sizes[where[1]] != _padded(v.type)):
                continue
            ptr = self.destinations.pop(id(v), None)
            if ptr is not None:
                destination[where] = ptr
        buffers = [Buffer(ctx.alloc_bytes(size, here=True).type, destination[("buf", k)])
                   if ("buf", k) in destination else ctx.alloc_bytes(size, here=True)
                   for k, size in enumerate(compiled.buffer_sizes)]
        outs = [Buffer(v.type, destination[where]) if where in destination else ctx.alloc(v.type, here=True)
                for v, where in zip(seg.outputs, compiled.outputs) if where[0] == "out"]
        values = [a.ptr if isinstance(a, Buffer) else a.value for a in args]
        code = b.call(compiled.fn, values + [ctx.status] + [buf.ptr for buf in buffers] + [o.ptr for o in outs])
        if compiled.fails:
            with b.if_then(b.icmp_signed("!=", code, lir.Constant(I32, 0)), likely=False):
                b.branch(ctx.exit_block)
        pointers = {"in": [a.ptr if isinstance(a, Buffer) else None for a in args],
                    "buf": [buf.ptr for buf in buffers], "out": [o.ptr for o in outs]}
        for v, (where, k) in zip(seg.outputs, compiled.outputs):
            ptr = pointers[where][k]
            if not v.type.shape:
                env[id(v)] = Scalar(v.type, Buffer(v.type, ptr).load(b, []))
            else:
                env[id(v)] = Buffer(v.type, ptr)


def _padded(t: Any) -> int:
    """The workspace bytes `LowerContext.alloc` gives a tensor of type `t`."""
    from codegen.context import _ALIGN
    nbytes = max(t.size, 1) * (1 if t.dtype.is_bool else t.dtype.size)
    return (nbytes + _ALIGN - 1) // _ALIGN * _ALIGN


def _locations(seg: Segment) -> tuple:
    return tuple(op.loc for op in seg.ops)


def worth_outlining(block: Block, uses: dict[int, int]) -> Optional[list[Item]]:
    """The plan of `block` if outlining it pays (see MIN_OPS), else None."""
    items = plan(block, uses)
    if len(block.ops) >= MIN_OPS:
        return items
    segments = [item for item in items if isinstance(item, Segment)]
    shapes = {_structure(seg) for seg in segments}
    repeats = len(segments) - len(shapes)
    return items if repeats >= MIN_REPEATS and 2 * repeats >= len(segments) else None


def _structure(seg: Segment) -> tuple:
    """The segment's ops, attrs, types and wiring (what `Outliner._key` adds is known only while lowering)."""
    index = {id(v): ("in", k, v.type) for k, v in enumerate(seg.inputs)}
    entries = []
    for j, op in enumerate(seg.ops):
        for r, res in enumerate(op.results):
            index[id(res)] = ("op", j, r)
        entries.append((op.opdef.name, tuple(index[id(v)] for v in op.operands), attrs_key(op.attrs),
                        tuple(res.type for res in op.results)))
    return tuple(entries)

