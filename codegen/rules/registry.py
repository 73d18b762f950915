"""`@lowers("name", ...)`: attach a function as the `lower` facet of those rows of the op table; `@tiles("name",
...)` attaches a row-tiling rule as their `tile` facet (read by `codegen.tiling`), `never_tiles` the explicit mark
that a row never tiles.

`dynamic=True` (or a predicate `dynamic(op) -> bool`) declares that a rule takes run-time sizes: operands whose
CValues carry LLVM i64 dims where the type has `?` (codegen.dynamic asks it).

`may_fail(op) -> bool`, given for elementwise rules that can fail (integer division by zero, negative integer
powers), tells the driver to evaluate such an op where it stands, so its error comes before any later effect or
error, as in eager mode; other elementwise results stay lazy and fuse into their consumers.
"""
from __future__ import annotations

from typing import Any, Callable, Optional

from ir.core import Op
from ir.opdef import OPS


def at(op: Op) -> str:
    """` (at file:line)` of the user's line that made `op`, for run-time error messages; empty if unknown."""
    return f" (at {op.loc[0]}:{op.loc[1]})" if op.loc else ""


def lowers(*names: str, may_fail: Optional[Callable[[Any], bool]] = None,
           dynamic: Any = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def attach(rule: Callable[..., Any]) -> Callable[..., Any]:
        if may_fail is not None:
            rule.may_fail = may_fail  # type: ignore[attr-defined]
        if dynamic:
            rule.dynamic = dynamic  # type: ignore[attr-defined]
        for name in names:
            OPS[name].lower = rule
        return rule
    return attach


SplitFn = Callable[[Op, list[bool], int], Optional[list[bool]]]
AttrsFn = Callable[[Op, int], dict]
RefusesFn = Callable[[Op, dict[int, bool], int], bool]
PartialFn = Callable[[Op, list[bool]], Optional[dict]]


class Tiling:
    """A row's tiling facet (`OpDef.tile`): `split(op, split, N)` says which results are split given which operands
    are (None: the op mixes rows); `attrs(op, n)` gives a split op's attrs in a chunk of n rows; `refuses(op,
    split, n)` vetoes chunks of n rows that would make the op slower than unsplit; `partial(op, split)`, for a row
    that reduces over split rows, gives the attrs with which the same row combines the chunks' results stacked along
    a new leading axis (None when it cannot; see `codegen.partial`). `takes_rows`: the rule accepts operands marked
    ROWS (the row count; see `ROWS`), which every other rule refuses by refusing the function."""

    def __init__(self, split: SplitFn, attrs: Optional[AttrsFn] = None, refuses: Optional[RefusesFn] = None,
                 partial: Optional[PartialFn] = None, takes_rows: bool = False) -> None:
        self._split = split
        self._attrs = attrs
        self._refuses = refuses
        self._partial = partial
        self.takes_rows = takes_rows

    def partial(self, op: Op, split: list[bool]) -> Optional[dict]:
        return self._partial(op, split) if self._partial is not None else None

    def split(self, op: Op, split: list[bool], rows: int) -> Optional[list[bool]]:
        return self._split(op, split, rows)

    def attrs(self, op: Op, n: int) -> dict:
        return self._attrs(op, n) if self._attrs is not None else dict(op.attrs)

    def refuses(self, op: Op, split: dict[int, bool], n: int) -> bool:
        return self._refuses is not None and self._refuses(op, split, n)


class _Rows:
    def __repr__(self) -> str:
        return "ROWS"


#: The split mark of a scalar that is the number of rows being split (`dim` of a split value's leading axis): in a
#: chunk it is the chunk's row count, right as a size operand giving a split result its rows, wrong as a number.
ROWS: Any = _Rows()


def _mixes_rows(op: Op, split: list[bool], rows: int) -> Optional[list[bool]]:
    return None


#: The explicit mark of a row that never tiles (regions, effects, Variables, stacks, random draws): a function
#: containing it runs whole.
NEVER_TILES = Tiling(_mixes_rows)


def tiles(*names: str, attrs: Optional[AttrsFn] = None, refuses: Optional[RefusesFn] = None,
          partial: Optional[PartialFn] = None, takes_rows: bool = False) -> Callable[[SplitFn], SplitFn]:
    """`@tiles("name", ...)`: attach a split rule as the `tile` facet of those rows (as `@lowers` attaches the
    LLVM rule)."""
    def attach(rule: SplitFn) -> SplitFn:
        for n in names:
            OPS[n].tile = Tiling(rule, attrs, refuses, partial, takes_rows)
        return rule
    return attach


def never_tiles(*names: str) -> None:
    for n in names:
        OPS[n].tile = NEVER_TILES
