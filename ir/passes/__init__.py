"""Optimization passes over the IR, each a function from `ir.core.Function` to a new `Function` (DESIGN §4).

- `dce`: drops ops whose results are unused and that have no effect;
- `cse`: reuses the results of an identical earlier pure op in the same block;
- `fold`: evaluates ops on constants with their own numpy kernels;
- `canonicalize`: local algebraic rewrites from a pattern table (x*1 -> x, cond on a constant -> its branch, ...);
- `optimize`: all four, to a fixed point.
No pass mutates its input; every pass reads rows generically, and names ops only in canonicalize's pattern table.
"""
from ir.passes.canonicalize import canonicalize
from ir.passes.cse import cse
from ir.passes.dce import dce
from ir.passes.fold import fold
from ir.passes.pipeline import PASSES, optimize

__all__ = ["canonicalize", "cse", "dce", "fold", "optimize", "PASSES"]
