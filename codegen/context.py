"""The lowering context: what the `lower` facets of the op table are written against (like `em` for gradients).

It owns the LLVM function being built and offers: loops and loop nests (trip counts static or run-time), the static
workspace that holds every materialized intermediate of a known size (the caller passes one block of memory), heap
blocks for intermediates of run-time size (linked into one list that both exits of the function free; a loop frees
each trip's blocks at the end of the trip), error exits that report an op's failure with up to two values, run-time
checks that two dims the IR assumes equal are, calls to the vector math library, and `lower_region`, which lowers a
closed region with given argument values.
"""
from __future__ import annotations

from typing import Any, Callable, Optional, Sequence

import llvmlite.ir as lir

from codegen import interrupt
from codegen.values import (I8, I64, PTR, Buffer, CValue, Dim, Lazy, Scalar, as_i64, constant, is_static_dims,
                            num_elements, reg_type)
from ir.types import DType, TensorType, uint8

_ALIGN = 64
#: Bytes before a heap block's data: the link to the previous block (padded so the data stays 64-byte aligned).
_HEAP_HEADER = 64
# Math functions with an LLVM intrinsic, which becomes a libm call for one value.
_LIBM = {"exp": "llvm.exp", "log": "llvm.log", "sin": "llvm.sin", "cos": "llvm.cos", "tanh": "llvm.tanh",
         "pow": "llvm.pow"}
#: Loops that run fewer times than this in all, counting the trips of the loops around them, are not offered to
#: the loop vectorizer (see `for_range`).
SMALL_LOOP_WORK = 1024
#: A loop of fewer static trips than this, inside loops of run-time trip counts, is not offered to the loop
#: vectorizer either: it fills less than one 16-lane vector, so vector code would be a masked or scalar remainder
#: anyway (see `for_range`).
SHORT_LOOP_TRIPS = 16


def _at(op: Any) -> str:
    return f" (at {op.loc[0]}:{op.loc[1]})" if getattr(op, "loc", None) else ""


class ErrorInfo:
    """One way the compiled function can fail: the runtime turns (code, value) into this exception."""

    def __init__(self, kind: type, message: str) -> None:
        self.kind = kind
        self.message = message  # may contain {value}


class LowerContext:
    def __init__(self, module: lir.Module, fn: lir.Function, workspace: lir.Value, status: lir.Value,
                 runs: Optional[int] = 1) -> None:
        """`runs`: how many times `fn` itself runs per call (None: many, e.g. once per chunk of rows)."""
        self.module = module
        self.fn = fn
        self.workspace = workspace
        self.status = status
        self.workspace_size = 0
        self.buffer_sizes: list[int] = []  # bytes of each workspace buffer, in allocation order
        self.scalar = False                # lowering a shape-() elementwise op (see `math`)
        # Each buffer is its own `noalias` argument of `fn`, so LLVM knows intermediates never overlap. They are
        # made as buffers are allocated; the driver appends them to `fn`'s signature when lowering is done.
        self.buffer_args: list[lir.Argument] = []
        # Or each buffer is an address in `workspace`, computed in the entry block: for a body that only calls
        # outlined segments (codegen.outline), whose own buffers are `noalias` arguments; a thousand arguments
        # live across a thousand calls cost LLVM's register allocator seconds.
        self.buffers_in_workspace = False
        self.errors: list[ErrorInfo] = []
        self.failures = 0                  # exits to `exit_block` emitted (fail_if calls)
        self.prints: list[Any] = []
        self._heap_head: Optional[lir.Value] = None  # the slot of the newest heap block (see `heap_alloc`)
        self._owned: list[lir.Value] = []            # slots of malloc'ed pointers both exits free
        self.entry = fn.append_basic_block("entry")  # holds only stack slots; branches to body at the end
        self.b = lir.IRBuilder(fn.append_basic_block("body"))
        self.exit_block = fn.append_basic_block("fail")
        self.lower_block: Callable[..., list[CValue]] = None  # type: ignore[assignment]  (set by the driver)
        self.probe: Any = None  # the profiling variant's kernel timer (codegen.profile.KernelProbe)
        # How many times code at the builder's position runs per call, from the static trip counts of the loops
        # around it; None inside a while_loop's or cond's region (unknown: maybe many).
        self._runs = runs
        self._loops: list[interrupt.LoopWork] = []  # the work of the loops being emitted, innermost last

    @property
    def runs(self) -> Optional[int]:
        """How many times code at the builder's position runs per call (None: unknown, e.g. once per chunk of rows
        of a tiled function, or inside a while_loop)."""
        return self._runs

    # ---- types and constants
    def const(self, dtype: DType, value: Any) -> lir.Constant:
        return constant(dtype, value)

    def i64(self, n: int) -> lir.Constant:
        return lir.Constant(I64, int(n))

    def reg(self, dtype: DType) -> lir.Type:
        return reg_type(dtype)

    # ---- memory
    def alloc(self, ttype: TensorType, dims: Optional[Sequence[Dim]] = None, here: bool = False) -> Buffer:
        """A buffer for the lifetime of one call (of one loop trip, inside a loop's region): in the workspace when
        its size is static (see `alloc_bytes` for `here`), else a heap block of the run-time size `dims` gives."""
        if dims is not None and not is_static_dims(dims):
            elem = 1 if ttype.dtype.is_bool else ttype.dtype.size
            nbytes = self.b.mul(as_i64(num_elements(self.b, dims)), self.i64(elem), flags=["nsw"])
            return Buffer(ttype, self.heap_alloc(nbytes), dims, self.b)
        nbytes = max(ttype.size, 1) * (1 if ttype.dtype.is_bool else ttype.dtype.size)
        return Buffer(ttype, self.alloc_bytes(nbytes, here).ptr)

    def alloc_bytes(self, nbytes: int, here: bool = False) -> Buffer:
        """`nbytes` of workspace (rounded up to the alignment), as a Buffer of bytes. With `buffers_in_workspace`
        and `here`, its address is computed at the builder's position (which must dominate every use) rather than
        in the entry block."""
        size = (nbytes + _ALIGN - 1) // _ALIGN * _ALIGN
        offset = self.workspace_size
        self.workspace_size += size
        self.buffer_sizes.append(size)
        if self.buffers_in_workspace:
            b = self.b if here else lir.IRBuilder(self.entry)
            ptr = b.gep(self.workspace, [self.i64(offset)], inbounds=True, source_etype=lir.IntType(8))
            return Buffer(TensorType(uint8, (size,)), ptr)
        arg = lir.Argument(self.fn, PTR)
        arg.add_attribute("noalias")
        self.buffer_args.append(arg)
        return Buffer(TensorType(uint8, (size,)), arg)

    def _libc(self, name: str, ret: lir.Type, args: list[lir.Type]) -> lir.Function:
        f = self.module.globals.get(name)
        return f if f is not None else lir.Function(self.module, lir.FunctionType(ret, args), name)

    def heap_head(self) -> lir.Value:
        """The slot holding this call's newest heap block (null: none); made on first use."""
        if self._heap_head is None:
            self._heap_head = self.entry_alloca(PTR)
            lir.IRBuilder(self.entry).store(lir.Constant(PTR, None), self._heap_head)
        return self._heap_head

    def heap_alloc(self, nbytes: lir.Value) -> lir.Value:
        """`nbytes` of 64-byte aligned memory on the heap, freed by `free_heap` (MemoryError if there is none)."""
        b = self.b
        total = b.and_(b.add(nbytes, self.i64(_HEAP_HEADER + _ALIGN - 1)), self.i64(-_ALIGN))
        block = b.call(self._libc("aligned_alloc", PTR, [I64, I64]), [self.i64(_ALIGN), total])
        code = self.error(MemoryError, "a compiled function could not allocate {value} bytes for an intermediate")
        self.fail_if(b.icmp_unsigned("==", block, lir.Constant(PTR, None)), code, nbytes)
        head = self.heap_head()
        b.store(b.load(head, typ=PTR), block)
        b.store(block, head)
        return b.gep(block, [self.i64(_HEAP_HEADER)], inbounds=True, source_etype=I8)

    def heap_mark(self) -> lir.Value:
        """The newest heap block now, to free back to with `free_heap(mark)`."""
        return self.b.load(self.heap_head(), typ=PTR)

    def free_heap(self, mark: Optional[lir.Value] = None) -> None:
        """Free the heap blocks made since `mark` (all of them without one); a no-op when nothing uses the heap."""
        if self._heap_head is None:
            return
        b = self.b
        free = self._libc("free", lir.VoidType(), [PTR])
        stop = mark if mark is not None else lir.Constant(PTR, None)
        pre = b.block
        loop, body, done = (b.append_basic_block(n) for n in ("heap.head", "heap.free", "heap.end"))
        first = b.load(self._heap_head, typ=PTR)
        b.branch(loop)
        b.position_at_end(loop)
        cur = b.phi(PTR)
        cur.add_incoming(first, pre)
        b.cbranch(b.icmp_unsigned("!=", cur, stop), body, done)
        b.position_at_end(body)
        nxt = b.load(cur, typ=PTR)
        b.call(free, [cur])
        cur.add_incoming(nxt, body)
        b.branch(loop)
        b.position_at_end(done)
        b.store(stop, self._heap_head)

    def owned_slot(self) -> lir.Value:
        """A slot for a pointer from malloc/realloc that both exits of the function free (null until set)."""
        slot = self.entry_alloca(PTR)
        lir.IRBuilder(self.entry).store(lir.Constant(PTR, None), slot)
        self._owned.append(slot)
        return slot

    def free_owned(self) -> None:
        free = self._libc("free", lir.VoidType(), [PTR])
        for slot in self._owned:
            self.b.call(free, [self.b.load(slot, typ=PTR)])

    def entry_alloca(self, ty: lir.Type) -> lir.Value:
        """A stack slot in the entry block (where mem2reg promotes it to registers)."""
        return lir.IRBuilder(self.entry).alloca(ty)

    def finish(self) -> None:
        lir.IRBuilder(self.entry).branch(self.fn.blocks[1])

    def materialize(self, v: CValue, into: Optional[Buffer] = None) -> CValue:
        """`v` in memory (a Buffer), or kept as a Scalar for shape (). `into` names the destination."""
        if into is None:
            if isinstance(v, Scalar) or (not v.type.shape and not isinstance(v, Buffer)):
                return v if isinstance(v, Scalar) else Scalar(v.type, v.load(self.b, []))
            if isinstance(v, Buffer) and v.dense:
                return v
            into = self.alloc(v.type, v.dims)
        self.store_all(into, v)
        return into

    def buffer(self, v: CValue) -> Buffer:
        """`v` as a dense row-major Buffer even for shape () (ops that need memory: BLAS, reshape views)."""
        if isinstance(v, Buffer) and v.dense:
            return v
        out = self.alloc(v.type, v.dims)
        self.store_all(out, v)
        return out

    def store_all(self, dst: Buffer, v: CValue) -> None:
        if not dst.type.shape:
            dst.store(self.b, [], v.load(self.b, []))
            return
        if isinstance(v, Buffer) and v.dense and dst.dense and v.type.dtype is dst.type.dtype:
            # a copy of a whole array (a Variable's new array, a snapshot): one memcpy, no loops for LLVM
            if v.ptr is not dst.ptr:
                elem = 1 if dst.type.dtype.is_bool else dst.type.dtype.size
                count = num_elements(self.b, dst.dims)
                nbytes = self.i64(count * elem) if isinstance(count, int) else self.b.mul(count, self.i64(elem))
                memcpy = self.module.declare_intrinsic("llvm.memcpy", [PTR, PTR, I64])
                self.b.call(memcpy, [dst.ptr, v.ptr, nbytes, lir.Constant(lir.IntType(1), 0)])
            return
        self.loop_nest(dst.dims, lambda idx: dst.store(self.b, idx, v.load(self.b, idx)))

    # ---- loops
    def for_range(self, n: lir.Value | int, body: Callable[[lir.Value], None], start: Dim = 0,
                  vectorize: bool = True) -> None:
        """for (i = start; i < n; i++) body(i), with `self.b` positioned in the body. LLVM's loop vectorizer is
        told to leave the loop alone when `vectorize` is False (loops that are vector code already) and when the
        body runs fewer than SMALL_LOOP_WORK times per call, counting the loops around it (vector code would save
        little there, and the vectorizer's analysis of such loops was a fifth of the optimizer's time on an MLP
        training step). Long loop nests poll for Ctrl-C (codegen.interrupt): a loop of more than
        2 * BLOCK_TRIPS static trips runs in blocks of BLOCK_TRIPS trips, and a loop whose trips each do much work
        polls in its latch every few trips."""
        static = isinstance(n, int) and isinstance(start, int)
        if static and n - start > 2 * interrupt.BLOCK_TRIPS:
            size = interrupt.BLOCK_TRIPS
            blocks = -(-(n - start) // size)
            last = self.i64(n)

            def block(k: lir.Value) -> None:
                lo = self.b.add(self.i64(start), self.b.mul(k, self.i64(size)), flags=["nsw"])
                hi = self.b.add(lo, self.i64(size), flags=["nsw"])
                hi = self.b.select(self.b.icmp_signed("<", hi, last), hi, last)
                self._range(lo, hi, size, body, vectorize)
            self._range(self.i64(0), self.i64(blocks), blocks, block, vectorize)
            return
        self._range(as_i64(start), self.i64(n) if isinstance(n, int) else n,
                    n - start if static else None, body, vectorize)  # type: ignore[operator]

    def add_work(self, count: int) -> None:
        """Counts work done at the builder's position outside any loop of ours (a BLAS call), in element steps, so
        that the loops around it poll for Ctrl-C as they would around as long a loop."""
        if self._loops:
            self._loops[-1].add(count, 0)

    def _range(self, lo: lir.Value, hi: lir.Value, trips: Optional[int], body: Callable[[lir.Value], None],
               vectorize: bool) -> None:
        """for (i = lo; i < hi; i++) body(i); `trips`: the static trip count (at most, for a block), or None."""
        b = self.b
        pre = b.block
        head = b.append_basic_block("loop.head")
        loop_body = b.append_basic_block("loop.body")
        after = b.append_basic_block("loop.end")
        b.branch(head)
        b.position_at_end(head)
        i = b.phi(I64, name="i")
        i.add_incoming(lo, pre)
        b.cbranch(b.icmp_signed("<", i, hi), loop_body, after)
        b.position_at_end(loop_body)
        outer = self._runs
        self._runs = None if outer is None or trips is None else outer * max(trips, 0)
        self._loops.append(interrupt.LoopWork())
        body(i)
        inner = self._loops.pop()
        runs, self._runs = self._runs, outer
        every = interrupt.poll_every(trips, inner.between_polls())
        if every is not None:
            interrupt.emit_loop_poll(self, b.sub(i, lo) if every > 1 else i, every)
        if self._loops:
            self._loops[-1].add_loop(trips, inner, every)
        nxt = b.add(i, self.i64(1), flags=["nsw"])
        i.add_incoming(nxt, b.block)
        latch = b.branch(head)
        if runs is None and trips is not None and trips < SHORT_LOOP_TRIPS:
            latch.set_metadata("llvm.loop", self._loop_id("llvm.loop.vectorize.enable", "llvm.loop.unroll.disable"))
        elif not vectorize or (runs is not None and runs < SMALL_LOOP_WORK):
            latch.set_metadata("llvm.loop", self._loop_id("llvm.loop.vectorize.enable"))
        b.position_at_end(after)

    def _loop_id(self, disabled: str, *flags: str) -> lir.Value:
        """A fresh loop ID `!N = !{!N, !{!"<disabled>", i1 false}, !{!"<flag>"}...}` (a loop ID must refer to
        itself, which llvmlite's metadata builder cannot say directly: the node is made, then pointed at itself)."""
        m = self.module
        props = [m.add_metadata([lir.MetaDataString(m, disabled), lir.Constant(lir.IntType(1), 0)])]
        props += [m.add_metadata([lir.MetaDataString(m, flag)]) for flag in flags]
        node = m.add_metadata(props + [lir.MetaDataString(m, f"kiln.loop.{len(m.metadata)}")])
        node.operands = (node, *props)
        return node

    def loop_nest(self, shape: Sequence[Dim], body: Callable[[list[lir.Value]], None]) -> None:
        """Nested loops over `shape` (static sizes, or run-time i64 values) in row-major order (the innermost loop
        walks contiguous memory)."""
        if any(isinstance(d, int) and d == 0 for d in shape):
            return

        def level(k: int, idx: list[lir.Value]) -> None:
            if k == len(shape):
                body(idx)
                return
            if isinstance(shape[k], int) and shape[k] == 1:
                level(k + 1, idx + [self.i64(0)])
                return
            self.for_range(shape[k], lambda i: level(k + 1, idx + [i]))
        level(0, [])

    # ---- elementwise helpers
    def lazy(self, ttype: TensorType, fn: Callable[[lir.IRBuilder, Sequence[lir.Value]], lir.Value],
             cheap: bool = False, dims: Optional[Sequence[Dim]] = None) -> CValue:
        if not ttype.shape:
            return Scalar(ttype, fn(self.b, []))
        return Lazy(ttype, fn, cheap, dims)

    def math(self, name: str, *args: lir.Value) -> lir.Value:
        if self.scalar and name in _LIBM:
            # One value at a time (a scalar loop's body): libm's version is shorter on the dependency chain than
            # the branch-free vector one, and it is what numpy itself calls.
            return self.intrinsic(_LIBM[name], *args)
        from codegen.vmath import define_math
        f = define_math(self.module, name, args[0].type)
        return self.b.call(f, list(args))

    def intrinsic(self, name: str, *args: lir.Value) -> lir.Value:
        ty = args[0].type
        f = self.module.declare_intrinsic(name, [ty], lir.FunctionType(ty, [a.type for a in args]))
        return self.b.call(f, list(args))

    def flags(self, instr: lir.Instruction, *flags: str) -> lir.Instruction:
        """Fast-math flags on an arithmetic instruction or an intrinsic call (llvmlite keeps a call's apart)."""
        if isinstance(instr, lir.CallInstr):
            for flag in flags:
                instr.fastmath.add(flag)
        else:
            instr.flags.extend(flags)
        return instr

    # ---- failures
    def error(self, kind: type, message: str) -> int:
        self.errors.append(ErrorInfo(kind, message))
        return len(self.errors)

    def fail_if(self, cond: lir.Value, code: int, value: Optional[lir.Value] = None,
                value2: Optional[lir.Value] = None) -> None:
        """If `cond`, record (code, value[, value2]) in the status words (0, 1 and 3) and leave the function."""
        b = self.b
        self.failures += 1
        with b.if_then(cond, likely=False):
            b.store(lir.Constant(I64, code), self.status)
            for word, v in ((1, value), (3, value2)):
                if word == 3 and v is None:
                    continue
                slot = b.gep(self.status, [self.i64(word)], inbounds=True, source_etype=I64)
                b.store(b.sext(v, I64) if v is not None and v.type.width < 64 else
                        (v if v is not None else self.i64(0)), slot)
            b.branch(self.exit_block)

    def same_dim(self, op: Any, a: Dim, b: Dim, what: str) -> Dim:
        """The dim that `a` and `b` both are (the IR assumes them equal): checked at run time when either is
        unknown, failing with a ValueError naming the op and both sizes; a static one is preferred."""
        if a is b or (isinstance(a, int) and isinstance(b, int)):
            return a
        code = self.error(ValueError, f"{op.opdef.name}: {what} has size {{value}} in one operand and {{value2}} "
                                      f"in another (they must be equal)" + _at(op))
        self.fail_if(self.b.icmp_signed("!=", as_i64(a), as_i64(b)), code, as_i64(a), as_i64(b))
        return a if isinstance(a, int) else b

    # ---- regions
    def lower_region(self, block: Any, args: Sequence[CValue]) -> list[CValue]:
        outer, self._runs = self._runs, None  # a while_loop's body may run any number of times
        try:
            return self.lower_block(self, block, list(args))
        finally:
            self._runs = outer

