"""The op table: one `OpDef` row per op (DESIGN §2). Import this module to have every row registered.

`OPS` maps names to rows; the rows themselves live beside their kin in `ops_elementwise`, `ops_shape`, `ops_dims`,
`ops_broadcast`, `ops_data_sizes`, `ops_order`, `ops_sort`, `ops_linalg`, `ops_segment`, `ops_reduce`, `ops_conv`,
`ops_state`, `ops_stack`, `ops_bitwise` and, for the structural ops, `control`.
"""
from __future__ import annotations

from ir import (control, ops_bitwise, ops_broadcast, ops_conv, ops_data_sizes, ops_dims,  # noqa: F401  (rows)
                ops_elementwise, ops_linalg, ops_order, ops_reduce, ops_segment, ops_shape, ops_sort, ops_stack,
                ops_state)
from ir.opdef import NONDIFF, OPS, InferError, OpDef

__all__ = ["OPS", "NONDIFF", "OpDef", "InferError", "op"]


def op(name: str) -> OpDef:
    """The row named `name`; KeyError lists the known names."""
    try:
        return OPS[name]
    except KeyError:
        raise KeyError(f"no op named {name!r}; known ops: {', '.join(sorted(OPS))}") from None
