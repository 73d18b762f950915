"""The `lower` facets of the op table, written against `codegen.context.LowerContext`.

Importing this package fills in `OpDef.lower` for every row (a test checks none is missing). Elementwise rules take
`(ctx, op, *scalars)` and return one scalar; the driver runs them inside the consuming loop nest. Other rules take
`(ctx, op, *operands)` (operands as `codegen.values` CValues) and return the results' CValues.
"""
from codegen.rules import (bitwise, control, conv, data_sizes, elementwise, gemm, gemm_dynamic, linalg,  # noqa: F401
                           order, pool, reduce, segment, shape, sort, stack, state, tiles)
from codegen.rules.registry import lowers  # noqa: F401
