"""The generated GEMM: C[m, n] = A'[m, k] @ B'[k, n] (A' = A or A transposed, likewise B'; all row-major in
memory) as one LLVM function per dtype and pair of transposes in a module, `void worker(ptr args)`, shared by
every product of that kind in the function: the shape comes in `args`, so a function with many products compiles
one worker, with one micro-kernel.

The structure is BLIS's, with the loops a dense layer's shapes need:
- k is cut into blocks of at most `kc_limit` rows (a B micro-panel of a block takes half of L1), of equal length;
  C accumulates over the blocks;
- n is cut into micro-panels of `nr` vectors; each is read from B in place (rows a row stride apart) or packed
  first into a contiguous kc x nr-vector buffer on the thread's stack: when B is transposed (lanes x lanes blocks
  of B's rows, transposed in registers: no transpose is ever materialized), when B is too large for the L2 cache,
  and for the ragged last panel (zero-padded);
- m is cut into chunks of rows whose A stays in L2 (`Gemm.row_chunk`), each passed over by every panel, and into
  row blocks of `mr`. A is read in place (`ta` only changes its strides), or, when a unit of work has many panels
  (`Gemm.pack_a`), each chunk is first packed into k-major blocks of mr rows (a heap buffer of the worker's: at
  a quarter of L2 it is too large for the stack of every thread that may call; without memory, A is read in place);
- the micro-kernel holds an mr x nr-vector tile of C in registers, and per step of k loads nr vectors of B,
  broadcasts mr elements of A and issues mr * nr FMAs. The tile is stored once per k block; on the first k block
  of a long one it prefetches its lines of C first.
Ragged edges run the same micro-kernel: rows past m read row m - 1 again, and an edge tile loads and stores C with
lane masks; a panel of one vector (n <= lanes, or the last columns) runs a one-vector tile.

No IR optimization pass runs on a worker (codegen.gemm_library hands it to codegen as emitted, 4-5x cheaper to
build than with the O3 pipeline), so it is emitted the way O3 would have left it: loops rotated and the register
tile in phis (codegen.rules.gemm_ir), the edge tile sharing the interior one's k loop, loop invariants computed in
the worker's first block or the loop's preheader, nothing the k loop does not need live across it.

Threads: the work is a grid of units (a few row blocks by all panels, or, when B is packed, all rows by a few
panels, so each panel is packed once); the threads of a team (codegen.gemm_threads) claim units from a shared
counter, so a thread that the OS preempts holds up no other.
"""
from __future__ import annotations

from typing import Callable

import llvmlite.ir as lir

from codegen.rules import gemm_plan
from codegen.rules.gemm_ir import branch_values, counted_loop, lane_mask, transpose
from codegen.rules.gemm_plan import Gemm, kc_limit, mr_for
from codegen.values import I1, I32, I64, PTR, reg_type
from ir.types import DType, as_dtype, float32, float64

#: args of the worker, one i64 each (pointers as integers)
ARGS = ("a", "b", "c", "counter", "m", "n", "k", "row_grain", "panel_grain", "pack_all", "pack_a")
#: The shortest k block whose tiles prefetch a fresh C (see `tile`).
PREFETCH_MIN_K = 64


class _Emitter:
    """Builds one worker. Every shape is a run-time i64 (`self.arg`); the register tile is static."""

    def __init__(self, module: lir.Module, dtype: DType, ta: bool, tb: bool, vector_bytes: int,
                 fn: lir.Function) -> None:
        self.module, self.dtype, self.ta, self.tb, self.fn = module, dtype, ta, tb, fn
        self.lanes = vector_bytes // dtype.size
        self.mr, self.nr = mr_for(vector_bytes), Gemm.nr
        self.kc_limit = kc_limit(vector_bytes)
        self.a_chunk_bytes = gemm_plan.a_chunk_bytes()
        self.width = self.nr * self.lanes  # columns of a panel
        self.fty = reg_type(dtype)
        self.vty = lir.VectorType(self.fty, self.lanes)
        self.entry = lir.IRBuilder(fn.append_basic_block("entry"))
        self.b = lir.IRBuilder(fn.append_basic_block("body"))
        bits = dtype.size * 8
        self.fma = self._declare(f"llvm.fma.v{self.lanes}f{bits}", self.vty, [self.vty] * 3)
        mty = lir.VectorType(I1, self.lanes)
        self.mload = self._declare(f"llvm.masked.load.v{self.lanes}f{bits}.p0", self.vty, [PTR, I32, mty, self.vty])
        self.mstore = self._declare(f"llvm.masked.store.v{self.lanes}f{bits}.p0", lir.VoidType(),
                                    [self.vty, PTR, I32, mty])
        self.prefetch = self._declare("llvm.prefetch.p0", lir.VoidType(), [PTR, I32, I32, I32])
        self.zero = lir.Constant(self.vty, None)
        self.fzero = lir.Constant(self.fty, 0.0)

    def _declare(self, name: str, ret: lir.Type, args: list[lir.Type]) -> lir.Function:
        f = self.module.globals.get(name)
        return f if f is not None else lir.Function(self.module, lir.FunctionType(ret, args), name)

    # ---- small helpers
    def i64(self, v: int) -> lir.Constant:
        return lir.Constant(I64, v)

    def at(self, base: lir.Value, index: lir.Value) -> lir.Value:
        return self.b.gep(base, [index], inbounds=True, source_etype=self.fty)

    def min(self, x: lir.Value, y: lir.Value) -> lir.Value:
        return self.b.select(self.b.icmp_signed("<", x, y), x, y)

    def max(self, x: lir.Value, y: lir.Value) -> lir.Value:
        return self.b.select(self.b.icmp_signed(">", x, y), x, y)

    def stack(self, elements: int) -> lir.Value:
        """A 64-byte aligned buffer of `elements` on the worker's stack, as an opaque `ptr`."""
        slot = self.entry.alloca(self.fty, size=self.i64(elements))
        slot.align = 64
        return self.entry.inttoptr(self.entry.ptrtoint(slot, I64), PTR)

    def vload(self, ptr: lir.Value) -> lir.Value:
        return self.b.load(ptr, typ=self.vty, align=self.dtype.size)

    def vstore(self, v: lir.Value, ptr: lir.Value) -> None:
        self.b.store(v, ptr, align=self.dtype.size)

    def loop(self, start: lir.Value | int, end: lir.Value | int, body: Callable[[lir.Value], None]) -> None:
        """for (i = start; i < end; i++) body(i) (codegen.rules.gemm_ir: rotated, ready for codegen)."""
        start = self.i64(start) if isinstance(start, int) else start
        end = self.i64(end) if isinstance(end, int) else end

        def each(i: lir.Value, _: list[lir.Value]) -> None:
            body(i)
        counted_loop(self.b, start, end, each)

    # ---- the worker
    def build(self) -> None:
        b = self.b
        args = self.fn.args[0]
        raw = {name: b.load(b.gep(args, [self.i64(i)], inbounds=True, source_etype=I64), typ=I64)
               for i, name in enumerate(ARGS)}
        self.arg = raw
        self.pa, self.pb, self.pc, counter = (b.inttoptr(raw[n], PTR) for n in ("a", "b", "c", "counter"))
        m, n, k = raw["m"], raw["n"], raw["k"]
        self.buf = self.stack(-(-self.kc_limit // self.lanes) * self.lanes * self.width)  # whole blocks of k
        wants_a = b.icmp_signed("!=", raw["pack_a"], self.i64(0))
        alloc = self._declare("aligned_alloc", PTR, [I64, I64])
        with b.if_then(wants_a):
            heap = b.call(alloc, [self.i64(64), self.i64(self.a_chunk_bytes)])
        got = b.phi(PTR)
        got.add_incoming(heap, heap.parent)
        got.add_incoming(lir.Constant(PTR, None), wants_a.parent)
        self.abuf = got
        self.packs_a = b.icmp_unsigned("!=", b.ptrtoint(got, I64), self.i64(0))
        # A'[i, kk] is at a tile's base + i * a_row + kk * a_step (read in place, or packed by `pack_a`); these and
        # other invariants are computed once here, where O3's LICM would have moved them (no IR pass runs)
        self.a_row = b.select(self.packs_a, self.i64(1), self.i64(1) if self.ta else k)
        self.a_step = b.select(self.packs_a, self.i64(self.mr), m if self.ta else self.i64(1))
        blocks = b.sdiv(b.add(k, self.i64(self.kc_limit - 1)), self.i64(self.kc_limit))
        self.kc = b.sdiv(b.add(k, b.sub(blocks, self.i64(1))), blocks)
        self.blocks = blocks
        row_blocks = b.sdiv(b.add(m, self.i64(self.mr - 1)), self.i64(self.mr))
        panels = b.sdiv(b.add(n, self.i64(self.width - 1)), self.i64(self.width))
        self.row_blocks, self.panels = row_blocks, panels
        rg, pg = raw["row_grain"], raw["panel_grain"]
        self.pu = b.sdiv(b.add(panels, b.sub(pg, self.i64(1))), pg)
        ru = b.sdiv(b.add(row_blocks, b.sub(rg, self.i64(1))), rg)
        units = b.mul(ru, self.pu)
        claim, run, done = (b.append_basic_block(x) for x in ("gemm.claim", "gemm.unit", "gemm.done"))
        b.branch(claim)
        b.position_at_end(claim)
        u = b.atomic_rmw("add", counter, self.i64(1), "monotonic")
        b.cbranch(b.icmp_signed("<", u, units), run, done)
        b.position_at_end(run)
        self.unit(u)
        b.branch(claim)
        b.position_at_end(done)
        with b.if_then(self.packs_a):
            b.call(self._declare("free", lir.VoidType(), [PTR]), [self.abuf])
        b.ret_void()
        self.entry.branch(self.fn.blocks[1])

    def unit(self, u: lir.Value) -> None:
        """Unit `u` of the grid: its row blocks by its panels, over all of k."""
        b, rg, pg = self.b, self.arg["row_grain"], self.arg["panel_grain"]
        r0 = b.mul(b.sdiv(u, self.pu), rg)
        p0 = b.mul(b.srem(u, self.pu), pg)
        r1 = self.min(b.add(r0, rg), self.row_blocks)
        p1 = self.min(b.add(p0, pg), self.panels)

        # Row blocks per chunk (Gemm.row_chunk): a chunk's rows of A (chunk x kc) stay in L2 while every panel
        # passes over them and C streams past (without chunks, 1024x128x784 ran 11% behind OpenBLAS, with them
        # 2-4%; chunks of half of L2 gained nothing; one row block per chunk packs B^T again per block: 3.4x slower).
        chunk = b.sdiv(self.i64(self.a_chunk_bytes), b.mul(self.kc, self.i64(self.mr * self.dtype.size)))
        chunk = self.max(chunk, self.i64(1))
        chunks = b.sdiv(b.add(b.sub(r1, r0), b.sub(chunk, self.i64(1))), chunk)

        def k_block(kb: lir.Value) -> None:
            k0 = b.mul(kb, self.kc)
            klen = self.min(self.kc, b.sub(self.arg["k"], k0))
            first = b.icmp_signed("==", kb, self.i64(0))

            def rows(ch: lir.Value) -> None:
                c0 = b.add(r0, b.mul(ch, chunk))
                c1 = self.min(b.add(c0, chunk), r1)
                with b.if_then(self.packs_a):
                    self.pack_a(c0, c1, k0, klen)
                self.loop(p0, p1, lambda p: self.panel(b.mul(p, self.i64(self.width)), k0, klen, first, c0, c1))
            self.loop(0, chunks, rows)
        self.loop(0, self.blocks, k_block)

    def panel(self, j0: lir.Value, k0: lir.Value, klen: lir.Value, first: lir.Value, r0: lir.Value,
              r1: lir.Value) -> None:
        """Row blocks [r0, r1) of the panel at column j0: its B read in place, or packed first."""
        b = self.b
        n = self.arg["n"]
        cols = self.min(self.i64(self.width), b.sub(n, j0))
        if self.tb:
            self.pack(j0, k0, klen, cols)
            src, stride = self.buf, self.i64(self.width)
        else:
            ragged = b.icmp_signed("<", cols, self.i64(self.width))
            packed = b.or_(ragged, b.icmp_signed("!=", self.arg["pack_all"], self.i64(0)))
            with b.if_then(packed):
                self.pack(j0, k0, klen, cols)
            in_place = self.at(self.pb, b.add(b.mul(k0, n), j0))
            src = b.select(packed, self.buf, in_place)
            stride = b.select(packed, self.i64(self.width), n)

        def rows(vectors: int) -> None:
            self.loop(r0, r1, lambda rb: self.tile(rb, r0, j0, cols, src, stride, k0, klen, first, vectors))
        with b.if_else(b.icmp_signed("<=", cols, self.i64(self.lanes))) as (narrow, wide):
            with narrow:  # a panel of one vector (n <= lanes, or the last few columns): half the FMAs
                rows(1)
            with wide:
                rows(self.nr)

    def pack_a(self, r0: lir.Value, r1: lir.Value, k0: lir.Value, klen: lir.Value) -> None:
        """abuf[rb - r0][kk][r] = A'[rb * mr + r, k0 + kk] for row blocks [r0, r1): each block's mr x klen slice
        of A', k-major, so a step of the micro-kernel broadcasts mr consecutive elements (rows past m repeat the
        last row, as the tile does)."""
        b, mr = self.b, self.mr
        m, k = self.arg["m"], self.arg["k"]
        last_row = b.sub(m, self.i64(1))

        def block(rb: lir.Value) -> None:
            rows = [self.min(b.add(b.mul(rb, self.i64(mr)), self.i64(r)), last_row) for r in range(mr)]
            dst = self.at(self.abuf, b.mul(b.sub(rb, r0), b.mul(klen, self.i64(mr))))

            def step(kk: lir.Value) -> None:
                kabs = b.add(k0, kk)
                for r, row in enumerate(rows):
                    src = b.add(b.mul(kabs, m), row) if self.ta else b.add(b.mul(row, k), kabs)
                    b.store(b.load(self.at(self.pa, src), typ=self.fty),
                            self.at(dst, b.add(b.mul(kk, self.i64(mr)), self.i64(r))))
            self.loop(0, klen, step)
        self.loop(r0, r1, block)

    def pack(self, j0: lir.Value, k0: lir.Value, klen: lir.Value, cols: lir.Value) -> None:
        """buf[kk, c] = B'[k0 + kk, j0 + c] for c < cols, 0 up to the panel's width."""
        b, w = self.b, self.width
        if self.tb:
            self.pack_transposed(j0, k0, klen, cols)
            return
        n = self.arg["n"]
        masks = [lane_mask(b, self.lanes, b.sub(cols, self.i64(c * self.lanes))) for c in range(self.nr)]

        def row(kk: lir.Value) -> None:
            src = b.add(b.mul(b.add(k0, kk), n), j0)
            for c in range(self.nr):
                v = b.call(self.mload, [self.at(self.pb, b.add(src, self.i64(c * self.lanes))),
                                        lir.Constant(I32, self.dtype.size), masks[c], self.zero])
                self.vstore(v, self.at(self.buf, b.add(b.mul(kk, self.i64(w)), self.i64(c * self.lanes))))
        self.loop(0, klen, row)

    def pack_transposed(self, j0: lir.Value, k0: lir.Value, klen: lir.Value, cols: lir.Value) -> None:
        """`pack` when B' = B^T (B is [n, k], a column of B' a row of B): buf[kk, c] = B[j0 + c, k0 + kk] in
        lanes x lanes blocks, each read as rows of B (masked past klen and past cols: zeros) and transposed in
        registers; the last block's rows past klen are written too (the buffer has room) and never read. Scalar
        copies, a column at a time, took 45% of g @ W^T's time at 32x128x784 (stores a panel row apart)."""
        b, lanes, k = self.b, self.lanes, self.arg["k"]
        none = lir.Constant(lir.VectorType(I1, lanes), None)
        align = lir.Constant(I32, self.dtype.size)
        base = self.at(self.pb, b.add(b.mul(j0, k), k0))

        def block(step: lir.Value) -> None:
            kk0 = b.mul(step, self.i64(lanes))
            in_k = lane_mask(b, self.lanes, b.sub(klen, kk0))

            def columns(cb: lir.Value) -> None:  # columns [cb * lanes, (cb + 1) * lanes) of the panel
                c0 = b.mul(cb, self.i64(lanes))
                # row c of B, from its k0 + kk0; a column past `cols` is never read (no lane on), so its address
                # may lie past B (not inbounds)
                starts = [b.gep(base, [b.add(b.mul(c0, k), kk0)], source_etype=self.fty)]
                for _ in range(lanes - 1):
                    starts.append(b.gep(starts[-1], [k], source_etype=self.fty))
                rows = [b.call(self.mload, [p, align, b.select(b.icmp_signed("<", b.add(c0, self.i64(i)), cols),
                                                               in_k, none), self.zero])
                        for i, p in enumerate(starts)]
                out = self.at(self.buf, b.add(b.mul(kk0, self.i64(self.width)), c0))
                for t, v in enumerate(transpose(b, rows)):
                    self.vstore(v, self.at(out, self.i64(t * self.width)))
            self.loop(0, self.nr, columns)
        self.loop(0, b.sdiv(b.add(klen, self.i64(lanes - 1)), self.i64(lanes)), block)

    def tile(self, rb: lir.Value, a0: lir.Value, j0: lir.Value, cols: lir.Value, src: lir.Value, stride: lir.Value,
             k0: lir.Value, klen: lir.Value, first: lir.Value, vectors: int) -> None:
        """The micro-kernel: C[i0:i0+mr, j0:j0+vectors*lanes] (+)= A'[i0:, k0:k0+klen] @ B'[k0:, j0:] (i0 = rb *
        mr), the tile of C in registers (phis) over the k loop. A tile that crosses an edge of C loads and stores
        it with masks (rows past m: none of their lanes; they read row m - 1 of A again); one inside C computes no
        masks and clamps no rows (with a short k, d @ W2^T at k = 10, that per-tile work had cost a third of the
        time). Only C's loads and stores are emitted twice: the k loop is shared."""
        b, mr = self.b, self.mr
        m, n, k = self.arg["m"], self.arg["n"], self.arg["k"]
        i0 = b.mul(rb, self.i64(mr))
        rows = self.min(self.i64(mr), b.sub(m, i0))
        short = b.icmp_signed("<", rows, self.i64(mr))
        edge = b.or_(short, b.icmp_signed("<", cols, self.i64(vectors * self.lanes)))
        tile = [(r, c) for r in range(mr) for c in range(vectors)]  # the accumulators, in this order
        align = lir.Constant(I32, self.dtype.size)
        c_tile = b.gep(self.pc, [b.add(b.mul(i0, n), j0)], source_etype=self.fty)

        def c_rows() -> list[lir.Value]:
            """C's rows, a row of C apart (past m only in an edge tile, whose masks then have no lane on: not
            inbounds); made where they are used, so that only one pointer is live across the k loop (the loop
            needs every register: 8 rows of A, the B panel, the offsets, the register tile)."""
            rows = [c_tile]
            for _ in range(mr - 1):
                rows.append(b.gep(rows[-1], [n], source_etype=self.fty))
            return rows

        def c_ptrs() -> list[lir.Value]:
            rows = c_rows()
            return [b.gep(rows[r], [self.i64(c * self.lanes)], source_etype=self.fty) for r, c in tile]

        def masks() -> list[lir.Value]:
            none = lir.Constant(lir.VectorType(I1, self.lanes), None)
            in_cols = [lane_mask(b, self.lanes, b.sub(cols, self.i64(c * self.lanes))) for c in range(vectors)]
            return [b.select(b.icmp_signed("<", self.i64(r), rows), in_cols[c], none) for r, c in tile]

        def load_c() -> list[lir.Value]:
            def masked() -> list[lir.Value]:
                return [b.call(self.mload, [p, align, mask, self.zero]) for p, mask in zip(c_ptrs(), masks())]
            return branch_values(b, edge, masked, lambda: [self.vload(p) for p in c_ptrs()])

        # A fresh C is a store miss per line: on the first k block of a long one, its lines are fetched while
        # the tile computes (1024x128x784: 7% faster; with a short k block or C already loaded it cost up to 10%).
        with b.if_then(b.and_(first, b.icmp_signed(">=", klen, self.i64(PREFETCH_MIN_K)))):
            rows_c = c_rows()
            for r in range(mr):
                for c in sorted({0, vectors * self.lanes - 1}):
                    b.call(self.prefetch, [b.gep(rows_c[r], [self.i64(c)], source_etype=self.fty),
                                           lir.Constant(I32, 1), lir.Constant(I32, 3), lir.Constant(I32, 1)])
        # the first k block starts from 0, later ones from C
        accs = branch_values(b, first, lambda: [self.zero] * len(tile), load_c)
        # A' row r at step kk: a_rows[r] + kk * a_step; rows past m (a short tile) read row m - 1 again
        in_place = self.at(self.pa, b.add(b.mul(k0, m), i0) if self.ta else b.add(b.mul(i0, k), k0))
        block = self.at(self.abuf, b.mul(b.sub(rb, a0), b.mul(klen, self.i64(mr))))
        a_rows = [b.select(self.packs_a, block, in_place)]
        for _ in range(mr - 1):
            a_rows.append(self.at(a_rows[-1], self.a_row))

        def clamped() -> list[lir.Value]:
            out = a_rows[:1]
            for r in range(1, mr):
                out.append(b.select(b.icmp_signed("<", self.i64(r), rows), a_rows[r], out[-1]))
            return out
        a_rows = branch_values(b, short, clamped, lambda: a_rows)
        splat_mask = lir.Constant(lir.VectorType(I32, self.lanes), [lir.Constant(I32, 0)] * self.lanes)

        def step(_: lir.Value, carried: list[lir.Value]) -> list[lir.Value]:
            *accs, row_b, offset = carried  # B's row and A's offset at this step, advanced by adds (no multiply)
            bvs = [self.vload(self.at(row_b, self.i64(c * self.lanes))) for c in range(vectors)]
            out = []
            for r in range(mr):
                scalar = b.load(self.at(a_rows[r], offset), typ=self.fty)
                splat = b.shuffle_vector(b.insert_element(self.zero, scalar, lir.Constant(I32, 0)), self.zero,
                                         splat_mask)
                out += [b.call(self.fma, [splat, bvs[c], accs[r * vectors + c]]) for c in range(vectors)]
            return out + [self.at(row_b, stride), b.add(offset, self.a_step)]
        *accs, _, _ = counted_loop(b, self.i64(0), klen, step, accs + [self.at(src, self.i64(0)), self.i64(0)])
        with b.if_else(edge) as (masked, whole):
            with masked:
                for v, p, mask in zip(accs, c_ptrs(), masks()):
                    b.call(self.mstore, [v, p, align, mask])
            with whole:
                for v, p in zip(accs, c_ptrs()):
                    self.vstore(v, p)


def worker_name(dtype: DType, ta: bool, tb: bool, vector_bytes: int) -> str:
    return f"kiln_gemm.{dtype.name}.{'T' if ta else 'N'}{'T' if tb else 'N'}.v{vector_bytes}"


#: Every worker there can be (codegen.gemm_library finds the ones an object file names among these).
VARIANTS = [worker_name(d, ta, tb, v) for d in (float32, float64) for ta in (False, True) for tb in (False, True)
            for v in (64, 32)]


def worker(module: lir.Module, dtype: DType, ta: bool, tb: bool) -> lir.Function:
    """The declaration, in `module`, of the worker `void (ptr args)` for products of `dtype` with these transposes
    on this host; `args` holds `ARGS`, one i64 each. Its code is a library (codegen.gemm_library)."""
    name = worker_name(dtype, ta, tb, gemm_plan.host_vector_bytes())
    fn = module.globals.get(name)
    if fn is None:
        fn = lir.Function(module, lir.FunctionType(lir.VoidType(), [PTR]), name)
    return fn


def define_worker(module: lir.Module, name: str) -> lir.Function:
    """Worker `name` (one of VARIANTS) with its code, in `module`."""
    _, dtype_name, trans, width = name.split(".")
    fn = lir.Function(module, lir.FunctionType(lir.VoidType(), [PTR]), name)
    fn.attributes.add("nounwind")
    _Emitter(module, as_dtype(dtype_name), trans[0] == "T", trans[1] == "T", int(width[1:]), fn).build()
    return fn
