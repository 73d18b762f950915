"""The op record: everything one op *is*, in one row (DESIGN §2).

Owns: `OpDef`, the `NONDIFF` mark, the registry `OPS` and `register`. Each stage of Kiln (eager dispatch, the
tracer, the verifier, the interpreter, constant folding, autodiff, codegen) is a generic driver that reads these rows.
Assumes nothing from the rest of Kiln.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Optional, Protocol, Sequence

from ir.types import Dim, DType, TensorType

if TYPE_CHECKING:
    from ir.core import Block, Op, Value


class _NonDiff:
    """Marks an op whose results carry no cotangent (comparisons, argmax, integer results, effects)."""

    def __repr__(self) -> str:
        return "NONDIFF"

    def __bool__(self) -> bool:
        return False


NONDIFF: Any = _NonDiff()

InferFn = Callable[..., tuple[TensorType, ...]]
EagerFn = Callable[..., Any]
VjpFn = Callable[..., Sequence[Any]]
InferRegionsFn = Callable[[Sequence[TensorType], Sequence["Block"], dict], list[TensorType]]
#: (operand types, operand constant values or None, attrs) -> (operands kept, attrs) with no run-time placeholder
#: left, once every operand type is static; None when some placeholder is not a constant yet.
StaticAttrsFn = Callable[[Sequence[TensorType], Sequence[Any], dict], Optional[tuple[int, dict]]]


class Kind(str, enum.Enum):
    """What sort of op a row is; drivers that treat a whole sort alike (fusion of elementwise ops, forward mode's
    diagonal and reduction rules) read it. A `str` enum, so a row may be declared with the plain name."""

    ELEMENTWISE = "elementwise"
    REDUCE = "reduce"
    SHAPE = "shape"
    LINALG = "linalg"
    CONSTANT = "constant"
    STATE = "state"
    EFFECT = "effect"
    RANDOM = "random"
    STACK = "stack"
    STRUCTURE = "structure"

    def __str__(self) -> str:
        return self.value


class TileRule(Protocol):
    """Row tiling's facet of a row (filled in by `codegen.rules.tiles`, as `lower` is by the other codegen rules;
    read by `codegen.tiling`)."""

    def split(self, op: "Op", split: list[bool], rows: int) -> Optional[list[bool]]:
        """Which results are split over the leading axis, given which operands are; None if the op mixes rows."""

    def attrs(self, op: "Op", n: int) -> dict:
        """The op's attrs in a chunk of `n` rows (when its results are split)."""

    def refuses(self, op: "Op", split: dict[int, bool], n: int) -> bool:
        """Whether chunks of `n` rows would make this op slower than the whole (e.g. BLAS repacking)."""


class RegionVJP(Protocol):
    """Reverse mode's rule for a row whose reverse cannot be a plain `vjp` (ops with regions, several results or
    calls); filled in by `autodiff`. `sweep` is the driver (autodiff.reverse.Sweep)."""

    def forward(self, sweep: Any, op: "Op", operands: list["Value"]) -> None:
        """Emit the op in the forward sweep (instrumented as the backward needs), binding its results."""

    def backward(self, sweep: Any, record: Any) -> None:
        """Emit the backward of a recorded op, accumulating its operands' cotangents."""


class RegionJVP(Protocol):
    """Forward mode's rule for such rows (`fwd` is autodiff.forward's driver)."""

    def __call__(self, fwd: Any, op: "Op", operands: list["Value"]) -> None: ...


class InferError(ValueError):
    """Raised by an `infer` facet; the message names the op and the offending types."""


@dataclass(eq=False)
class OpDef:
    """One op of the table.

    - `infer(types, **attrs) -> tuple[TensorType, ...]`: result types, or `InferError`/`TypeError` naming the culprit.
    - `eager(*arrays, **attrs)`: the numpy kernel, the specification of the op; returns an array for one result.
    - `vjp(em, g, out, *operands, **attrs) -> tuple`: one cotangent (or None) per operand, given the cotangent `g`
      of the single result `out`, written against an emitter `em` (`ir.emitter`); or `NONDIFF`.
    - `jvp(em, tangents, out, *operands, **attrs)`: the tangent of the result, tangents None where zero; optional
      (forward mode derives it from `vjp` where absent, or applies the op to the tangents of a `linear` row).
    - `kind`: a `Kind`; `dtypes`: the operand dtypes an elementwise row accepts.
    - `linear`: the op is linear in its floating-point operands (its tangent is the op applied to theirs).
    - `deterministic`: the same operands give the same results (False for random numbers: never folded).
    - `terminator`: ends a block (`yield`, `return`); `writes_operand`: the index of the Variable reference an
      effect assigns; `array_attrs`: attrs printed as tensor literals.
    - structured rows: `regions` (the regions' names), `region_operand_start` (the first operand passed to the
      regions' arguments), `infer_regions(operand_types, regions, attrs) -> result types`.
    - `static_attrs`: for rows whose attrs may hold run-time placeholders (a `None` in a `shape` attr whose size
      comes from a trailing `i64[]` operand; a slice `end` of None on an unknown dim), the attrs made static once
      the operand types are (read by `ir.passes.specialize`).
    - facets filled in by later layers: `lower` and `tile` (codegen), `vjp_region` and `jvp_region` (autodiff, for
      rows whose derivative is not a plain per-result rule: cond, while_loop, call, the stack ops).
    """

    name: str
    infer: InferFn
    eager: EagerFn
    vjp: Any
    kind: Kind
    attrs: tuple[str, ...] = ()
    jvp: Optional[Callable[..., Any]] = None
    lower: Optional[Callable[..., Any]] = None
    nresults: int = 1
    effect: bool = False
    variadic: bool = False
    doc: str = ""
    dtypes: tuple[DType, ...] = ()
    linear: bool = False
    deterministic: bool = True
    terminator: bool = False
    writes_operand: Optional[int] = None
    array_attrs: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    region_operand_start: int = 0
    infer_regions: Optional[InferRegionsFn] = None
    tile: Optional[TileRule] = None
    static_attrs: Optional[StaticAttrsFn] = None
    vjp_region: Optional[RegionVJP] = None
    jvp_region: Optional[RegionJVP] = None

    def __post_init__(self) -> None:
        self.kind = Kind(self.kind)
        self.dtypes = tuple(self.dtypes)
        if bool(self.regions) != (self.infer_regions is not None):
            raise ValueError(f"op {self.name!r}: a structured row names its regions and infers types from them")

    @property
    def differentiable(self) -> bool:
        return self.vjp is not NONDIFF

    @property
    def structured(self) -> bool:
        """The op carries regions (its types come from `infer_regions`)."""
        return bool(self.regions)

    def __repr__(self) -> str:
        return f"<OpDef {self.name}>"


OPS: dict[str, OpDef] = {}


def register(opdef: OpDef) -> OpDef:
    if opdef.name in OPS:
        raise ValueError(f"op {opdef.name!r} is registered twice")
    OPS[opdef.name] = opdef
    return opdef


def fail(opname: str, message: str) -> InferError:
    return InferError(f"{opname}: {message}")


def merge_dims(opname: str, a: Dim, b: Dim, what: str) -> Dim:
    """Two dims that must be equal: a known dim wins over an unknown one (checked at run time); two known dims
    that differ are an error naming `what`."""
    if a is None:
        return b
    if b is None or a == b:
        return a
    raise fail(opname, f"{what}: {a} and {b} differ")


def merge_shapes(opname: str, shapes: Sequence[Sequence[Dim]]) -> tuple[Dim, ...]:
    """Shapes that must be equal (same rank, dims merged by `merge_dims`)."""
    s0 = tuple(shapes[0])
    out = list(s0)
    for s in shapes[1:]:
        if len(s) != len(s0):
            raise fail(opname, f"operands have different shapes {tuple(s0)} and {tuple(s)}")
        for i, d in enumerate(s):
            if out[i] != d and out[i] is not None and d is not None:
                raise fail(opname, f"operands have different shapes {tuple(s0)} and {tuple(s)}")
            out[i] = merge_dims(opname, out[i], d, "dims")
    return tuple(out)


def dims_fit(shape: Sequence[Dim], pattern: Sequence[Dim]) -> bool:
    """`shape` fits `pattern`: same rank, and equal wherever both dims are known."""
    return len(shape) == len(pattern) and all(a is None or b is None or a == b for a, b in zip(shape, pattern))


def check_same(opname: str, types: Sequence[TensorType]) -> TensorType:
    """All operands of an elementwise op have one type (the tracer inserted broadcast_to and convert); a dim
    unknown in one operand and known in another is the known one."""
    t0 = types[0]
    for t in types:
        if type(t) is not TensorType:
            raise TypeError(f"{opname}: operands must be tensors, got {t} (read a Variable reference first)")
    for t in types[1:]:
        if t.dtype is not t0.dtype:
            raise TypeError(f"{opname}: operands have different dtypes {t0.dtype.name} and {t.dtype.name}")
    if all(t.shape == t0.shape for t in types[1:]):
        return t0
    return t0.with_shape(merge_shapes(opname, [t.shape for t in types]))


def check_dtype(opname: str, t: TensorType, allowed: Sequence[Any], what: str) -> None:
    if t.dtype not in allowed:
        raise TypeError(f"{opname}: expected {what} operand, got {t.dtype.name} "
                        f"(allowed: {', '.join(d.name for d in allowed)})")


def check_arity(opname: str, types: Sequence[TensorType], n: int) -> None:
    if len(types) != n:
        raise fail(opname, f"expected {n} operand(s), got {len(types)}")


def normalize_axis(opname: str, axis: int, rank: int) -> int:
    if not -rank <= axis < max(rank, 1) or (rank == 0 and axis not in (0, -1)):
        raise fail(opname, f"axis {axis} is out of range for a tensor of rank {rank}")
    return axis % rank if rank else 0
