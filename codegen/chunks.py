"""How many rows one chunk of a row-tiled function holds: the one place that counts them.

`codegen.tiling` plans the split (and asks the count to decide whether BLAS would get enough rows per chunk);
`codegen.runtime` compiles the chunk kernel for that many rows and loops over the chunks. A function whose row
count is known only at run time (a `?` leading dim) has a fixed number of rows per chunk (a power of two) and a last
chunk of the rows left; `RunTimeRows` says, per call, how many chunks there are and whether a call's rows are
worth a pool round trip.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from ir.core import Function
from ir.opdef import Kind
from ir.types import TensorType

if TYPE_CHECKING:
    from codegen.tiling import Plan

#: Elements of the widest split array that one chunk aims at (a chunk's intermediates stay in the L1/L2 cache).
TARGET_ELEMENTS = 1 << 14
#: A chunk may be this many times smaller than the aim, at most.
MAX_SHORTFALL = 8


#: A call whose rows do at least this many element operations (per `row_work`) is shared among threads: a pool round
#: trip costs 50-70 µs here, about what 2^17 element operations take on one core.
SPLIT_WORK = 1 << 17

#: Multiply-adds of a contraction that count as one element operation. Kiln's product kernels do 22-46 GMAC/s on
#: one core here (1024x10 @ 10x128 in 59 µs, 32x784 @ 784x128 in 70 µs), so SPLIT_WORK (2^17 element
#: operations, about two pool round trips of 50-70 µs) is 4.2M multiply-adds, 90-190 µs on one core: a product
#: shares its chunks only when half its time saves more than a round trip. Sharing 32x784 @ 784x128 (3.2M) made it
#: 2.9x numpy's time instead of 1.15x.
MACS_PER_ELEMENT_OP = 32


class RunTimeRows(NamedTuple):
    """How a kernel tiled over a run-time row count splits a call: `param` is the parameter whose leading dim is
    the row count, `slots` the run-time-dims slots of every split parameter's leading dim (the chunk loop checks
    them equal, see codegen.chunk_loop), `rows` the rows per chunk, `row_work` the element operations per row."""
    param: int
    slots: tuple[int, ...]
    rows: int
    row_work: int

    def chunks(self, n: int) -> int:
        """Chunks of a call with n rows (the last one may be shorter)."""
        return -(-n // self.rows)

    def split_rows(self) -> int:
        """Calls with at least this many rows are shared among threads."""
        return max(2 * self.rows, -(-SPLIT_WORK // max(self.row_work, 1)))


def _row_size(t: "TensorType") -> int:
    """Elements per row of a value with the split rows (an unknown inner dim counted as 1)."""
    size = 1
    for d in t.shape[1:]:
        size *= d if d is not None else 1
    return size


def row_work(fn: Function, p: "Plan") -> int:
    """Element operations per row of `fn` tiled by `p`: each op counts the longest row of its split operands and
    results, except a product of split rows by a whole matrix, which counts its multiply-adds per row over
    MACS_PER_ELEMENT_OP (as codegen.build.work counts a static product)."""
    total = 0
    for op in fn.block.ops:
        if op.opdef.terminator:
            break
        macs = _row_macs(op, p)
        if macs:
            total += max(1, macs // MACS_PER_ELEMENT_OP)
            continue
        rows = [_row_size(v.type) for v in [*op.operands, *op.results] if id(v) in p.split_values]
        total += max(rows, default=0)
    return total


def _row_macs(op: Any, p: "Plan") -> int:
    """Multiply-adds per row of a linear-algebra op that takes split rows of k elements and a whole static k x n
    matrix to split rows of n (x @ W, x @ W^T: k x n of them), else 0 (a convolution's sizes do not factor so)."""
    if op.opdef.kind is not Kind.LINALG or len(op.operands) != 2 or len(op.results) != 1:
        return 0
    a, b, out = op.operands[0], op.operands[1], op.results[0]
    if id(a) not in p.split_values or id(out) not in p.split_values or id(b) in p.split_values:
        return 0
    ta, tb, tout = a.type, b.type, out.type
    if not all(isinstance(t, TensorType) for t in (ta, tb, tout)) or ta.rank != 2 or tout.rank != 2 or \
            not tout.dtype.is_floating or not tb.is_static:
        return 0
    return tb.size if tb.size == _row_size(ta) * _row_size(tout) else 0


def rows_per_chunk(fn: Function, p: "Plan") -> int:
    """Rows per chunk of `fn` tiled by `p`: a divisor of its rows giving about TARGET_ELEMENTS elements of its
    widest split parameter or result per chunk (at least one row), or all rows (one chunk) when no divisor comes
    within MAX_SHORTFALL of that."""
    row = max(_row_size(t) for t, s in zip(fn.param_types + fn.result_types, p.split_params + p.split_results)
              if s)
    want = max(1, TARGET_ELEMENTS // max(row, 1))
    if p.rows is None:  # a run-time row count: a power of two (it divides the usual batch sizes)
        return 1 << (want.bit_length() - 1)
    best = max(d for d in range(1, min(p.rows, want) + 1) if p.rows % d == 0)
    # Rows without a divisor near the aim (a prime count) run whole: chunks of a row or two would spend their time
    # in calls (a 70001-element elementwise function was cut into 70001 chunks of one element).
    return best if best * MAX_SHORTFALL >= min(p.rows, want) else p.rows
