"""Optimization passes over the IR, each a function from `ir.core.Function` to a new `Function` (DESIGN §4).

- `dce`: drops ops whose results are unused and that have no effect;
- `cse`: reuses the results of an identical earlier pure op in the same block;
- `fold`: evaluates ops on constants with their own numpy kernels;
- `canonicalize`: local algebraic rewrites from a pattern table (x*1 -> x, cond on a constant -> its branch, ...),
  run-time size arithmetic among them (`size_rules`);
- `forward_reads`: a Variable read whose value the block already holds (an earlier read, an assign) becomes it;
- `optimize`: all five, to a fixed point.
No pass mutates its input; every pass reads rows generically, and names ops only in canonicalize's pattern table.
"""
from ir.passes.canonicalize import canonicalize
from ir.passes.cse import cse
from ir.passes.dce import dce
from ir.passes.fold import fold
from ir.passes.forward_reads import forward_reads
from ir.passes.pipeline import PASSES, optimize

__all__ = ["canonicalize", "cse", "dce", "fold", "forward_reads", "optimize", "PASSES"]
