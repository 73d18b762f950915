"""The generated GEMM: C[m, n] = A'[m, k] @ B'[k, n] as one LLVM function, `void worker(ptr args)`, for one static
shape, dtype and pair of transposes (A' = A or A transposed, likewise B'; all row-major in memory).

The structure is BLIS's, with the loops a dense layer's shapes need:
- k is cut into blocks of `kc` (a B micro-panel of kc rows stays in L1); C is accumulated over the blocks;
- n is cut into micro-panels of `nr` vectors; each is read from B in place (rows a row stride apart) or, when B is
  transposed or too large for the L2 cache, packed first into a contiguous kc x nr-vector buffer on the thread's
  stack (packing reads the transposed operand directly: no transpose is ever materialized);
- m is cut into row blocks of `mr`; the micro-kernel holds an mr x nr-vector tile of C in registers, and per step
  of k loads nr vectors of B, broadcasts mr elements of A (in place: `ta` only changes A's strides) and issues
  mr * nr FMAs. The tile is stored once per k block.
Ragged edges cost no scalar code: the last column panel has fewer vectors and its last vector is masked (masked
loads of B and C, a masked store of C); the last row block has fewer rows; the k loop's length is a run-time value.

Threads: `args` is {A, B, C, counter}; under `GOMP_parallel` (codegen.gemm_threads) the threads claim units of
work (a few row blocks, or, when B is packed, a few column panels, each then packed once) from the shared counter.
"""
from __future__ import annotations

import functools
import glob
import itertools
from dataclasses import dataclass
from typing import Callable, Optional

import llvmlite.ir as lir

from codegen.values import I1, I32, I64, PTR, reg_type
from ir.types import DType

_ids = itertools.count()


@functools.cache
def host_vector_bytes() -> int:
    """64 where the host has AVX-512 (32 vector registers), else 32 (AVX2: 16 registers)."""
    import llvmlite.binding as llvm
    from codegen import llvm_setup
    llvm_setup.ensure_initialized()
    return 64 if llvm.get_host_cpu_features().get("avx512f") else 32


@functools.cache
def l1_data_bytes() -> int:
    """The L1 data cache of cpu0 (sysfs), 32 KiB if unknown."""
    for index in sorted(glob.glob("/sys/devices/system/cpu/cpu0/cache/index*")):
        try:
            with open(f"{index}/level") as f:
                level = f.read().strip()
            with open(f"{index}/type") as f:
                kind = f.read().strip()
            with open(f"{index}/size") as f:
                size = f.read().strip()
        except OSError:
            continue
        if level == "1" and kind in ("Data", "Unified") and size.endswith("K"):
            return int(size[:-1]) * 1024
    return 32 * 1024


@dataclass(frozen=True)
class Gemm:
    """One generated GEMM: shape, dtype, transposes, and how B is read."""
    dtype: DType
    m: int
    n: int
    k: int
    ta: bool
    tb: bool
    pack_b: bool

    @property
    def lanes(self) -> int:
        return host_vector_bytes() // self.dtype.size

    @property
    def mr(self) -> int:
        """Rows of the register tile: mr * nr accumulators, nr vectors of B and one broadcast fit the registers
        (32 with AVX-512: 8 x 2; 16 with AVX2: 6 x 2)."""
        return 8 if host_vector_bytes() == 64 else 6

    nr = 2

    @property
    def kc(self) -> int:
        """Rows of k per block: a B micro-panel takes at most half of L1, and the k blocks are of equal length."""
        limit = max(16, l1_data_bytes() // 2 // (self.nr * host_vector_bytes()))
        blocks = -(-self.k // limit)
        return -(-self.k // blocks)

    @property
    def panel(self) -> int:
        return self.nr * self.lanes

    @property
    def row_blocks(self) -> int:
        return self.m // self.mr

    @property
    def full_panels(self) -> int:
        return self.n // self.panel

    #: Row blocks per unit of work when the threads share rows; column panels per unit when they share panels.
    ROW_GRAIN, PANEL_GRAIN = 4, 2

    def split_rows(self) -> bool:
        """A packed B's panels are shared (each is then packed once); a B read in place, the row blocks."""
        if self.pack_b and self.full_panels >= 2:
            return False
        return self.row_blocks >= 2 or self.full_panels < 2

    def units(self) -> int:
        """How many pieces of work the threads share (the last one also takes the ragged rows or columns)."""
        if self.split_rows():
            return max(1, -(-self.row_blocks // self.ROW_GRAIN))
        return max(1, -(-self.full_panels // self.PANEL_GRAIN))


class _Emitter:
    def __init__(self, module: lir.Module, g: Gemm, fn: lir.Function, team: bool) -> None:
        self.module, self.g, self.fn = module, g, fn
        self.fty = reg_type(g.dtype)
        self.vty = lir.VectorType(self.fty, g.lanes)
        self.entry = fn.append_basic_block("entry")
        self.b = lir.IRBuilder(fn.append_basic_block("body"))
        self.team = team
        bits = g.dtype.size * 8
        self.fma = self._declare(f"llvm.fma.v{g.lanes}f{bits}", self.vty, [self.vty] * 3)
        mty = lir.VectorType(I1, g.lanes)
        self.mload = self._declare(f"llvm.masked.load.v{g.lanes}f{bits}.p0", self.vty, [PTR, I32, mty, self.vty])
        self.mstore = self._declare(f"llvm.masked.store.v{g.lanes}f{bits}.p0", lir.VoidType(),
                                    [self.vty, PTR, I32, mty])
        self.zero = lir.Constant(self.vty, None)

    def _declare(self, name: str, ret: lir.Type, args: list[lir.Type]) -> lir.Function:
        f = self.module.globals.get(name)
        return f if f is not None else lir.Function(self.module, lir.FunctionType(ret, args), name)

    # ---- small helpers
    def i64(self, v: int) -> lir.Constant:
        return lir.Constant(I64, v)

    def at(self, base: lir.Value, index: lir.Value) -> lir.Value:
        return self.b.gep(base, [index], inbounds=True, source_etype=self.fty)

    def mask(self, valid: int) -> lir.Constant:
        return lir.Constant(lir.VectorType(I1, self.g.lanes), [lir.Constant(I1, int(i < valid))
                                                               for i in range(self.g.lanes)])

    def vload(self, ptr: lir.Value, valid: Optional[int]) -> lir.Value:
        if valid is None:
            return self.b.load(ptr, typ=self.vty, align=self.g.dtype.size)
        return self.b.call(self.mload, [ptr, lir.Constant(I32, self.g.dtype.size), self.mask(valid), self.zero])

    def vstore(self, v: lir.Value, ptr: lir.Value, valid: Optional[int]) -> None:
        if valid is None:
            self.b.store(v, ptr, align=self.g.dtype.size)
        else:
            self.b.call(self.mstore, [v, ptr, lir.Constant(I32, self.g.dtype.size), self.mask(valid)])

    def loop(self, start: lir.Value | int, end: lir.Value | int, body: Callable[[lir.Value], None]) -> None:
        """for (i = start; i < end; i++) body(i); the loop vectorizer is told to leave it alone (it is vector
        code already)."""
        b = self.b
        start = self.i64(start) if isinstance(start, int) else start
        end = self.i64(end) if isinstance(end, int) else end
        pre = b.block
        head, loop_body, after = (b.append_basic_block(n) for n in ("gemm.head", "gemm.body", "gemm.end"))
        b.branch(head)
        b.position_at_end(head)
        i = b.phi(I64)
        i.add_incoming(start, pre)
        b.cbranch(b.icmp_signed("<", i, end), loop_body, after)
        b.position_at_end(loop_body)
        body(i)
        i.add_incoming(b.add(i, self.i64(1), flags=["nsw"]), b.block)
        b.branch(head).set_metadata("llvm.loop", self._no_vectorize())
        b.position_at_end(after)

    def _no_vectorize(self) -> lir.Value:
        m = self.module
        prop = m.add_metadata([lir.MetaDataString(m, "llvm.loop.vectorize.enable"), lir.Constant(I1, 0)])
        node = m.add_metadata([prop, lir.MetaDataString(m, f"kiln.gemm.loop.{len(m.metadata)}")])
        node.operands = (node, prop)
        return node

    # ---- the GEMM
    def build(self) -> None:
        """Units of work are claimed one at a time from a counter shared by the team (`args[3]`), so a thread that
        the OS preempts holds up no other; alone, the worker runs them in order."""
        g, b = self.g, self.b
        args = self.fn.args[0]
        pa, pb, pc = (b.load(b.gep(args, [self.i64(i)], inbounds=True, source_etype=PTR), typ=PTR) for i in range(3))
        buf = None
        if g.pack_b:
            entry = lir.IRBuilder(self.entry)
            slot = entry.alloca(self.fty, size=self.i64(g.kc * g.panel))
            slot.align = 64
            buf = entry.inttoptr(entry.ptrtoint(slot, I64), PTR)  # an opaque `ptr` (llvmlite types an alloca's)
        work = functools.partial(self.unit, pa, pb, pc, buf)
        if not self.team:
            self.loop(0, g.units(), work)
        else:
            counter = b.load(b.gep(args, [self.i64(3)], inbounds=True, source_etype=PTR), typ=PTR)
            claim, run, done = (b.append_basic_block(n) for n in ("gemm.claim", "gemm.unit", "gemm.done"))
            b.branch(claim)
            b.position_at_end(claim)
            u = b.atomic_rmw("add", counter, self.i64(1), "monotonic")
            b.cbranch(b.icmp_signed("<", u, self.i64(g.units())), run, done)
            b.position_at_end(run)
            work(u)
            b.branch(claim)
            b.position_at_end(done)
        b.ret_void()
        lir.IRBuilder(self.entry).branch(self.fn.blocks[1])

    def unit(self, pa: lir.Value, pb: lir.Value, pc: lir.Value, buf: Optional[lir.Value], u: lir.Value) -> None:
        """Unit `u`: its row blocks (or column panels) over all of k."""
        g, b = self.g, self.b
        last = b.icmp_signed("==", u, self.i64(g.units() - 1))

        def span(grain: int, count: int) -> tuple[lir.Value, lir.Value]:
            lo = b.mul(u, self.i64(grain))
            hi = b.add(lo, self.i64(grain))
            return lo, b.select(b.icmp_signed("<", hi, self.i64(count)), hi, self.i64(count))
        if g.split_rows():
            rows, panels = span(g.ROW_GRAIN, g.row_blocks), (self.i64(0), self.i64(g.full_panels))
            own_row_tail, own_col_tail = last, None
        else:
            rows, panels = (self.i64(0), self.i64(g.row_blocks)), span(g.PANEL_GRAIN, g.full_panels)
            own_row_tail, own_col_tail = None, last
        blocks = -(-g.k // g.kc)
        tail_cols = g.n - g.full_panels * g.panel

        def k_block(kb: lir.Value) -> None:
            k0 = b.mul(kb, self.i64(g.kc))
            klen = b.select(b.icmp_signed("==", kb, self.i64(blocks - 1)), self.i64(g.k - (blocks - 1) * g.kc),
                            self.i64(g.kc))
            first = b.icmp_signed("==", kb, self.i64(0))
            ctx = (pa, pb, pc, buf, k0, klen, first, rows, own_row_tail)
            self.loop(panels[0], panels[1], lambda p: self.panel(ctx, b.mul(p, self.i64(g.panel)), g.panel))
            if tail_cols:
                self._guarded(own_col_tail, lambda: self.panel(ctx, self.i64(g.full_panels * g.panel), tail_cols))
        self.loop(0, blocks, k_block)

    def _guarded(self, cond: Optional[lir.Value], emit: Callable[[], None]) -> None:
        if cond is None:
            emit()
            return
        with self.b.if_then(cond):
            emit()

    def panel(self, ctx: tuple, j0: lir.Value, cols: int) -> None:
        """All the row blocks of one column panel of `cols` columns (packed first when B is)."""
        g = self.g
        pa, pb, pc, buf, k0, klen, first, rows, own_row_tail = ctx
        vecs = -(-cols // g.lanes)
        valid = cols - (vecs - 1) * g.lanes
        valid = None if valid == g.lanes else valid
        if buf is not None:
            self.pack(pb, buf, k0, klen, j0, cols, vecs)
        tile = functools.partial(self.tile, pa, pb, pc, buf, k0, klen, first, j0, vecs, valid)
        self.loop(rows[0], rows[1], lambda ib: tile(self.b.mul(ib, self.i64(g.mr)), g.mr))
        if g.m % g.mr:
            self._guarded(own_row_tail, lambda: tile(self.i64(g.row_blocks * g.mr), g.m % g.mr))

    def pack(self, pb: lir.Value, buf: lir.Value, k0: lir.Value, klen: lir.Value, j0: lir.Value, cols: int,
             vecs: int) -> None:
        """buf[kk, c] = B'[k0 + kk, j0 + c] for c < cols, 0 up to the panel's width."""
        g, b = self.g, self.b
        width = g.panel
        if g.tb:  # B is [n, k]: walk each column of B' (a row of B) contiguously
            def column(c: lir.Value) -> None:
                src = b.add(b.mul(b.add(j0, c), self.i64(g.k)), k0)
                self.loop(0, klen, lambda kk: b.store(b.load(self.at(pb, b.add(src, kk)), typ=self.fty),
                                                       self.at(buf, b.add(b.mul(kk, self.i64(width)), c))))
            self.loop(0, cols, column)
            if cols < width:
                zero = lir.Constant(self.fty, 0.0)
                self.loop(0, klen, lambda kk: self.loop(cols, width, lambda c: b.store(
                    zero, self.at(buf, b.add(b.mul(kk, self.i64(width)), c)))))
            return
        valid = cols - (vecs - 1) * g.lanes

        def row(kk: lir.Value) -> None:
            src = b.add(b.mul(b.add(k0, kk), self.i64(g.n)), j0)
            for c in range(g.nr):
                dst = self.at(buf, b.add(b.mul(kk, self.i64(width)), self.i64(c * g.lanes)))
                if c >= vecs:
                    self.vstore(self.zero, dst, None)
                    continue
                v = self.vload(self.at(pb, b.add(src, self.i64(c * g.lanes))),
                               valid if c == vecs - 1 and valid < g.lanes else None)
                self.vstore(v, dst, None)
        self.loop(0, klen, row)

    def tile(self, pa: lir.Value, pb: lir.Value, pc: lir.Value, buf: Optional[lir.Value], k0: lir.Value,
             klen: lir.Value, first: lir.Value, j0: lir.Value, vecs: int, valid: Optional[int], i0: lir.Value,
             rows: int) -> None:
        """The micro-kernel: C[i0:i0+rows, j0:j0+vecs vectors] (+)= A'[i0:, k0:k0+klen] @ B'[k0:, j0:]."""
        g, b = self.g, self.b
        entry = lir.IRBuilder(self.entry)
        accs = [[entry.alloca(self.vty) for _ in range(vecs)] for _ in range(rows)]
        c_row = [b.add(b.mul(b.add(i0, self.i64(r)), self.i64(g.n)), j0) for r in range(rows)]

        def c_ptr(r: int, c: int) -> lir.Value:
            return self.at(pc, b.add(c_row[r], self.i64(c * g.lanes)))

        def tail(c: int) -> Optional[int]:
            return valid if c == vecs - 1 else None
        for r in range(rows):
            for c in range(vecs):
                b.store(b.select(first, self.zero, self.vload(c_ptr(r, c), tail(c))), accs[r][c])
        splat_mask = lir.Constant(lir.VectorType(I32, g.lanes), [lir.Constant(I32, 0)] * g.lanes)
        a_rows = [b.add(i0, self.i64(r)) for r in range(rows)]

        def step(kk: lir.Value) -> None:
            kabs = b.add(k0, kk)
            if buf is not None:
                base = b.mul(kk, self.i64(g.panel))
                bvs = [self.vload(self.at(buf, b.add(base, self.i64(c * g.lanes))), None) for c in range(vecs)]
            else:
                base = b.add(b.mul(kabs, self.i64(g.n)), j0)
                bvs = [self.vload(self.at(pb, b.add(base, self.i64(c * g.lanes))), tail(c)) for c in range(vecs)]
            for r in range(rows):
                index = b.add(b.mul(kabs, self.i64(g.m)), a_rows[r]) if g.ta else \
                    b.add(b.mul(a_rows[r], self.i64(g.k)), kabs)
                scalar = b.load(self.at(pa, index), typ=self.fty)
                splat = b.shuffle_vector(b.insert_element(self.zero, scalar, lir.Constant(I32, 0)), self.zero,
                                         splat_mask)
                for c in range(vecs):
                    acc = b.load(accs[r][c], typ=self.vty)
                    b.store(b.call(self.fma, [splat, bvs[c], acc]), accs[r][c])
        self.loop(0, klen, step)
        for r in range(rows):
            for c in range(vecs):
                self.vstore(b.load(accs[r][c], typ=self.vty), c_ptr(r, c), tail(c))


def define_gemm(module: lir.Module, g: Gemm, team: bool) -> lir.Function:
    """Add the worker `void (ptr args)` of `g` to `module` (internal, not inlined: its caller may hand it to a
    thread team); `team`: it may run under GOMP_parallel and asks libgomp for its thread's share."""
    fn = lir.Function(module, lir.FunctionType(lir.VoidType(), [PTR]), f"kiln_gemm.{next(_ids)}")
    fn.linkage = "internal"
    fn.attributes.add("nounwind")
    fn.attributes.add("noinline")
    _Emitter(module, g, fn, team).build()
    return fn
