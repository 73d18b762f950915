"""The optimization pipeline: forward_reads, canonicalize, fold, cse and dce, repeated until the IR stops changing.

`optimize(fn)` runs the passes in rounds and stops after a round in which no pass rewrote anything (each counts its
rewrites, `common.edits`), or, from the second round on, when a round leaves the function's structural fingerprint
(its ops, operands, attrs and types; not names or locations) as it was (a pass that does not count, or rewrites that
undo each other), or after `max_rounds`. With `verify_each`, the input and the output of every pass are verified,
and an error names the pass that broke the IR.
"""
from __future__ import annotations

from typing import Callable, Sequence

from ir.core import Function
from ir.passes.canonicalize import canonicalize
from ir.passes.common import edits, fingerprint
from ir.passes.cse import cse
from ir.passes.dce import dce
from ir.passes.fold import fold
from ir.passes.forward_reads import forward_reads
from ir.verify import VerifyError, verify

Pass = Callable[[Function], Function]

# Canonicalize first, so folding sees through x*1 and friends; dce last, to sweep what the others left behind.
# Reads are forwarded before either, so that the copies of one read fold and merge as one value.
PASSES: tuple[tuple[str, Pass], ...] = (("forward_reads", forward_reads), ("canonicalize", canonicalize),
                                        ("fold", fold), ("cse", cse), ("dce", dce))


def optimize(fn: Function, verify_each: bool = False, max_rounds: int = 20,
             passes: Sequence[tuple[str, Pass]] = PASSES) -> Function:
    """An optimized copy of `fn`; the input is left as it was."""
    if verify_each:
        verify(fn)
    before = None
    for round_ in range(max_rounds):
        edited = False
        for name, run_pass in passes:
            fn = run_pass(fn)
            made = edits(fn)
            edited = edited or made is None or made > 0
            if verify_each:
                try:
                    verify(fn)
                except VerifyError as e:
                    raise VerifyError(f"after pass {name}: {e}") from e
        if not edited:
            break
        if round_ > 0:  # rewrites that keep undoing each other, or passes that do not count theirs
            after = fingerprint(fn)
            if after == before:
                break
            before = after
    return fn
