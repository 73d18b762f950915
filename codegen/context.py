"""The lowering context: what the `lower` facets of the op table are written against (like `em` for gradients).

It owns the LLVM function being built and offers: loops and loop nests, the static workspace that holds every
materialized intermediate (its size is known at compile time, so the caller passes one block of memory), error
exits that report an op's failure with a value, calls to the vector math library, and `lower_region`, which lowers
a closed region with given argument values.
"""
from __future__ import annotations

from typing import Any, Callable, Optional, Sequence

import llvmlite.ir as lir

from codegen.values import I64, PTR, Buffer, CValue, Lazy, Scalar, constant, reg_type
from ir.types import DType, TensorType

_ALIGN = 64
# Math functions with an LLVM intrinsic, which becomes a libm call for one value.
_LIBM = {"exp": "llvm.exp", "log": "llvm.log", "sin": "llvm.sin", "cos": "llvm.cos", "tanh": "llvm.tanh",
         "pow": "llvm.pow"}
#: Loops that run fewer times than this in all, counting the trips of the loops around them, are not offered to
#: the loop vectorizer (see `for_range`).
SMALL_LOOP_WORK = 1024


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
        self.errors: list[ErrorInfo] = []
        self.prints: list[Any] = []
        self.entry = fn.append_basic_block("entry")  # holds only stack slots; branches to body at the end
        self.b = lir.IRBuilder(fn.append_basic_block("body"))
        self.exit_block = fn.append_basic_block("fail")
        self.lower_block: Callable[..., list[CValue]] = None  # type: ignore[assignment]  (set by the driver)
        # How many times code at the builder's position runs per call, from the static trip counts of the loops
        # around it; None inside a while_loop's or cond's region (unknown: maybe many).
        self._runs = runs

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
    def alloc(self, ttype: TensorType) -> Buffer:
        """A buffer in the workspace, for the lifetime of one call."""
        nbytes = max(ttype.size, 1) * (1 if ttype.dtype.is_bool else ttype.dtype.size)
        size = (nbytes + _ALIGN - 1) // _ALIGN * _ALIGN
        self.workspace_size += size
        self.buffer_sizes.append(size)
        arg = lir.Argument(self.fn, PTR)
        arg.add_attribute("noalias")
        self.buffer_args.append(arg)
        return Buffer(ttype, arg)

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
            if isinstance(v, Buffer):
                return v
            into = self.alloc(v.type)
        self.store_all(into, v)
        return into

    def buffer(self, v: CValue) -> Buffer:
        """`v` as a Buffer even for shape () (ops that need memory: BLAS, reshape views)."""
        if isinstance(v, Buffer):
            return v
        out = self.alloc(v.type)
        self.store_all(out, v)
        return out

    def store_all(self, dst: Buffer, v: CValue) -> None:
        if not dst.type.shape:
            dst.store(self.b, [], v.load(self.b, []))
            return
        self.loop_nest(dst.type.shape, lambda idx: dst.store(self.b, idx, v.load(self.b, idx)))

    # ---- loops
    def for_range(self, n: lir.Value | int, body: Callable[[lir.Value], None], start: int = 0,
                  vectorize: bool = True) -> None:
        """for (i = start; i < n; i++) body(i), with `self.b` positioned in the body. LLVM's loop vectorizer is
        told to leave the loop alone when `vectorize` is False (loops that are vector code already) and when the
        body runs fewer than SMALL_LOOP_WORK times per call, counting the loops around it (vector code would save
        little there, and the vectorizer's analysis of such loops was a fifth of the optimizer's time on an MLP
        training step)."""
        b = self.b
        trips = n - start if isinstance(n, int) else None
        n = self.i64(n) if isinstance(n, int) else n
        pre = b.block
        head = b.append_basic_block("loop.head")
        loop_body = b.append_basic_block("loop.body")
        after = b.append_basic_block("loop.end")
        b.branch(head)
        b.position_at_end(head)
        i = b.phi(I64, name="i")
        i.add_incoming(self.i64(start), pre)
        b.cbranch(b.icmp_signed("<", i, n), loop_body, after)
        b.position_at_end(loop_body)
        outer = self._runs
        self._runs = None if outer is None or trips is None else outer * max(trips, 0)
        body(i)
        runs, self._runs = self._runs, outer
        nxt = b.add(i, self.i64(1), flags=["nsw"])
        i.add_incoming(nxt, b.block)
        latch = b.branch(head)
        if not vectorize or (runs is not None and runs < SMALL_LOOP_WORK):
            latch.set_metadata("llvm.loop", self._loop_id("llvm.loop.vectorize.enable"))
        b.position_at_end(after)

    def _loop_id(self, disabled: str) -> lir.Value:
        """A fresh loop ID `!N = !{!N, !{!"<disabled>", i1 false}}` (a loop ID must refer to itself, which
        llvmlite's metadata builder cannot say directly: the node is made, then pointed at itself)."""
        m = self.module
        prop = m.add_metadata([lir.MetaDataString(m, disabled), lir.Constant(lir.IntType(1), 0)])
        node = m.add_metadata([prop, lir.MetaDataString(m, f"kiln.loop.{len(m.metadata)}")])
        node.operands = (node, prop)
        return node

    def loop_nest(self, shape: Sequence[int], body: Callable[[list[lir.Value]], None]) -> None:
        """Nested loops over `shape` in row-major order (the innermost loop walks contiguous memory)."""
        if any(d == 0 for d in shape):
            return

        def level(k: int, idx: list[lir.Value]) -> None:
            if k == len(shape):
                body(idx)
                return
            if shape[k] == 1:
                level(k + 1, idx + [self.i64(0)])
                return
            self.for_range(shape[k], lambda i: level(k + 1, idx + [i]))
        level(0, [])

    # ---- elementwise helpers
    def lazy(self, ttype: TensorType, fn: Callable[[lir.IRBuilder, Sequence[lir.Value]], lir.Value],
             cheap: bool = False) -> CValue:
        if not ttype.shape:
            return Scalar(ttype, fn(self.b, []))
        return Lazy(ttype, fn, cheap)

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

    def fail_if(self, cond: lir.Value, code: int, value: Optional[lir.Value] = None) -> None:
        """If `cond`, record (code, value) in the status words and leave the function."""
        b = self.b
        with b.if_then(cond, likely=False):
            b.store(lir.Constant(I64, code), self.status)
            slot = b.gep(self.status, [self.i64(1)], inbounds=True, source_etype=I64)
            b.store(b.sext(value, I64) if value is not None and value.type.width < 64 else
                    (value if value is not None else self.i64(0)), slot)
            b.branch(self.exit_block)

    # ---- regions
    def lower_region(self, block: Any, args: Sequence[CValue]) -> list[CValue]:
        outer, self._runs = self._runs, None  # a while_loop's body may run any number of times
        try:
            return self.lower_block(self, block, list(args))
        finally:
            self._runs = outer

