"""Row tiling: run a function chunk by chunk over its leading axis when no op mixes rows.

Many kernels treat the rows of their inputs independently (elementwise chains, reductions over inner axes, softmax
over the last axis, `x @ W + b`). For those, Kiln compiles the function for a chunk of `n` rows and loops over the
chunks in native code, so every intermediate of a chunk stays in cache (the whole function is fused across its
reductions), and the chunk range is split across threads.

`plan(fn)` decides: it propagates a "row-split" mark from the parameters whose leading dimension is the batch size
N through the ops, using each row's tiling rule (`@tiles` below: how the op treats its operands' leading axis); any
op without a rule, or with operands it cannot split consistently, means no tiling; so does a matmul on split rows
that calls BLAS on chunks shorter than `MIN_MATMUL_ROWS`. `rewrite(fn, plan, n)` gives the same function with N
replaced by n in every split value's type and attrs.
"""
from __future__ import annotations

from typing import Callable, Optional, Sequence

from codegen.chunks import rows_per_chunk
from ir.core import Block, Builder, Function, Op, Value
from ir.opdef import OPS
from ir.types import RefType, TensorType

# rule(op, split: list[bool], N) -> Optional[list[bool]]: which results are split, or None if the op mixes rows.
_RULES: dict[str, Callable[..., Optional[list[bool]]]] = {}
# attrs(op, n) -> new attrs for a split op
_ATTRS: dict[str, Callable[[Op, int], dict]] = {}


def tiles(*names: str, attrs: Optional[Callable[[Op, int], dict]] = None) -> Callable[[Callable], Callable]:
    def register(rule: Callable) -> Callable:
        for n in names:
            _RULES[n] = rule
            if attrs is not None:
                _ATTRS[n] = attrs
        return rule
    return register


def _all_or_none(split: Sequence[bool]) -> Optional[bool]:
    if all(split):
        return True
    if not any(split):
        return False
    return None


@tiles(*[name for name, row in OPS.items() if row.kind == "elementwise"])
def _elementwise(op: Op, split: list[bool], N: int) -> Optional[list[bool]]:
    s = _all_or_none(split)
    return None if s is None else [s]


@tiles("constant", "iota")
def _leaf(op: Op, split: list[bool], N: int) -> Optional[list[bool]]:
    return [False]


@tiles("reduce_sum", "reduce_prod", "reduce_max", "reduce_min")
def _reduce(op: Op, split: list[bool], N: int) -> Optional[list[bool]]:
    if split[0] and 0 in op.attrs["axes"]:
        return None
    return [split[0]]


@tiles("argmax", "argmin")
def _arg(op: Op, split: list[bool], N: int) -> Optional[list[bool]]:
    if split[0] and op.attrs["axis"] == 0:
        return None
    return [split[0]]


def _shape_attr(op: Op, n: int) -> dict:
    return dict(op.attrs, shape=(n,) + tuple(op.attrs["shape"][1:]))


@tiles("broadcast_to", attrs=_shape_attr)
def _broadcast(op: Op, split: list[bool], N: int) -> Optional[list[bool]]:
    src, dst = op.operands[0].type.shape, op.results[0].type.shape
    if split[0]:
        return [True] if len(src) == len(dst) else None
    # A row-independent value broadcast over the rows is split as a broadcast to the chunk's rows.
    if dst and dst[0] == N and (len(src) < len(dst) or src[0] == 1):
        return [True]
    return [False]


@tiles("reshape", attrs=_shape_attr)
def _reshape(op: Op, split: list[bool], N: int) -> Optional[list[bool]]:
    if not split[0]:
        return [False]
    new = op.attrs["shape"]
    return [True] if new and new[0] == N else None


@tiles("transpose")
def _transpose(op: Op, split: list[bool], N: int) -> Optional[list[bool]]:
    if not split[0]:
        return [False]
    return [True] if op.attrs["perm"][0] == 0 else None


def _slice_attrs(op: Op, n: int) -> dict:
    return dict(op.attrs, end=(n,) + tuple(op.attrs["end"][1:]))


@tiles("slice", attrs=_slice_attrs)
def _slice(op: Op, split: list[bool], N: int) -> Optional[list[bool]]:
    if not split[0]:
        return [False]
    ok = op.attrs["begin"][0] == 0 and op.attrs["end"][0] == N and op.attrs["strides"][0] == 1
    return [True] if ok else None


@tiles("concat")
def _concat(op: Op, split: list[bool], N: int) -> Optional[list[bool]]:
    s = _all_or_none(split)
    if s is None or (s and op.attrs["axis"] == 0):
        return None
    return [s]


@tiles("pad")
def _pad(op: Op, split: list[bool], N: int) -> Optional[list[bool]]:
    if split[0] and tuple(op.attrs["paddings"][0]) != (0, 0):
        return None
    return [split[0]]


#: A matmul on split rows that calls BLAS gets at least this many rows per chunk, or the function is not tiled:
#: every chunk's BLAS call packs the whole right operand again, which on 16-row chunks of 256x784 @ 784x128 cost 30%
#: more than one call (and one call lets OpenBLAS thread the product itself). Codegen's own vector kernel reads the
#: right operand in place, so chunks of any size suit it.
MIN_MATMUL_ROWS = 128


@tiles("matmul")
def _matmul(op: Op, split: list[bool], N: int) -> Optional[list[bool]]:
    a, b = split
    if b or op.operands[0].type.rank != 2:
        return None if b else [False] if not a else None
    if a and op.attrs["transpose_a"]:
        return None
    return [a]


@tiles("gather")
def _gather(op: Op, split: list[bool], N: int) -> Optional[list[bool]]:
    p, i = split
    if i or (p and op.attrs["axis"] == 0):
        return None
    return [p]


class Plan:
    def __init__(self, rows: int, split_params: list[bool], split_results: list[bool], split_values: set[int]) -> None:
        self.rows = rows
        self.split_params = split_params
        self.split_results = split_results
        self.split_values = split_values


def plan(fn: Function, min_rows: int = 2) -> Optional[Plan]:
    """How to tile `fn` over the leading axis of its results, or None when some op mixes rows."""
    results = fn.result_types
    if not results or not results[0].shape or any(isinstance(p.type, RefType) for p in fn.params):
        return None
    N = results[0].shape[0]
    if N < min_rows or any(not t.shape or t.shape[0] != N for t in results):
        return None
    split: dict[int, bool] = {}
    params = []
    for p in fn.params:
        s = bool(p.type.shape) and p.type.shape[0] == N
        params.append(s)
        split[id(p)] = s
    for op in fn.block.ops:
        if op.opdef.extra.get("terminator"):
            break
        rule = _RULES.get(op.opdef.name)
        if rule is None or op.regions:
            return None
        out = rule(op, [split[id(v)] for v in op.operands], N)
        if out is None:
            return None
        for r, s in zip(op.results, out):
            if s and (not r.type.shape or r.type.shape[0] != N):
                return None
            split[id(r)] = s
    res = [split[id(v)] for v in fn.results]
    if not all(res) or not any(params):
        return None
    p = Plan(N, params, res, {k for k, v in split.items() if v})
    n = rows_per_chunk(fn, p)
    if n < MIN_MATMUL_ROWS and any(_blas_on_split_rows(op, split, n) for op in fn.block.ops):
        return None
    return p


def _blas_on_split_rows(op: Op, split: dict[int, bool], n: int) -> bool:
    if op.opdef.name != "matmul" or not split[id(op.operands[0])]:
        return False
    from codegen.rules.reduce import vector_gemm_applies
    b, out = op.operands[1].type, op.results[0].type
    k = b.shape[-1] if op.attrs["transpose_b"] else b.shape[-2]
    return not vector_gemm_applies(out.dtype, n, out.shape[-1], k, op.attrs["transpose_b"])


def rewrite(fn: Function, p: Plan, n: int) -> Function:
    """`fn` for a chunk of `n` rows: every split value's leading dimension becomes n."""
    vmap: dict[int, Value] = {}

    def chunk(v: Value) -> TensorType:
        t = v.type
        return t.with_shape((n,) + t.shape[1:]) if id(v) in p.split_values else t

    block = Block([Value(chunk(a), a.name) for a in fn.params], label=fn.block.label)
    for old, new in zip(fn.params, block.args):
        vmap[id(old)] = new
    b = Builder(block)
    for op in fn.block.ops:
        operands = [vmap[id(v)] for v in op.operands]
        if op.opdef.extra.get("terminator"):
            b.op(op.opdef, operands, dict(op.attrs), result_types=[])
            continue
        split_op = any(id(r) in p.split_values for r in op.results)
        attrs = _ATTRS[op.opdef.name](op, n) if split_op and op.opdef.name in _ATTRS else dict(op.attrs)
        results = b.op(op.opdef, operands, attrs, result_types=[chunk(r) for r in op.results], loc=op.loc,
                       names=[r.name for r in op.results])
        for old, new in zip(op.results, results):
            vmap[id(old)] = new
    return Function(fn.name, block)
