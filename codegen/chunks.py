"""How many rows one chunk of a row-tiled function holds: the one place that counts them.

`codegen.tiling` plans the split (and asks the count to decide whether BLAS would get enough rows per chunk);
`codegen.runtime` compiles the chunk kernel for that many rows and loops over the chunks.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ir.core import Function

if TYPE_CHECKING:
    from codegen.tiling import Plan

#: Elements of the widest split array that one chunk aims at (a chunk's intermediates stay in the L1/L2 cache).
TARGET_ELEMENTS = 1 << 14
#: A chunk may be this many times smaller than the aim, at most.
MAX_SHORTFALL = 8


def rows_per_chunk(fn: Function, p: "Plan") -> int:
    """Rows per chunk of `fn` tiled by `p`: a divisor of its rows giving about TARGET_ELEMENTS elements of its
    widest split parameter or result per chunk (at least one row), or all rows (one chunk) when no divisor comes
    within MAX_SHORTFALL of that."""
    row = max(t.size // p.rows for t, s in zip(fn.param_types + fn.result_types, p.split_params + p.split_results)
              if s)
    want = max(1, TARGET_ELEMENTS // max(row, 1))
    best = max(d for d in range(1, min(p.rows, want) + 1) if p.rows % d == 0)
    # Rows without a divisor near the aim (a prime count) run whole: chunks of a row or two would spend their time
    # in calls (a 70001-element elementwise function was cut into 70001 chunks of one element).
    return best if best * MAX_SHORTFALL >= min(p.rows, want) else p.rows
