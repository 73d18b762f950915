"""Every row of the op table is complete and self-consistent: `infer` on the operands' types predicts exactly the
dtype and shape of what `eager` returns on the operands' arrays.

SAMPLES holds operands and attrs for every row; `test_samples_cover_every_row` fails when a row is added without
one, so a new op cannot slip past these checks.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import ir
from ir.core import Block, Builder, Value
from ir.types import ALL_DTYPES, Cell, RefType, TensorType, from_numpy

f32, f64, i32, i64, b = np.float32, np.float64, np.int32, np.int64, np.bool_


def arr(values: Any, dtype: Any) -> np.ndarray:
    return np.asarray(values, dtype=dtype)


_M23 = arr([[0.5, 1.5, 2.0], [3.0, 0.25, 1.0]], f32)
_M32 = arr([[1.0, 2.0], [0.5, 0.5], [2.0, 1.0]], f32)

_X = np.arange(2 * 5 * 4 * 3, dtype=f32).reshape(2, 5, 4, 3) % 7 - 3
_F = np.arange(3 * 2 * 3 * 4, dtype=f32).reshape(3, 2, 3, 4) % 5 - 2
_CONV = {"strides": (2, 1), "dilations": (1, 2), "paddings": ((1, 1), (1, 0))}  # (2, 5, 4, 3) -> (2, 3, 3, 4)
_POOL = {"ksize": (3, 2), "strides": (2, 2), "paddings": ((1, 1), (0, 0))}  # (2, 5, 4, 3) -> (2, 3, 2, 3)
_CONV_SAMPLES = {
    "conv2d": [([_X, _F], _CONV), ([_X[:1, :3, :3].astype(f64), _F[:1, :1].astype(f64)],
                                   {"strides": (1, 1), "dilations": (1, 1), "paddings": ((0, 0), (0, 0))})],
    "conv2d_backprop_input": [([np.ones((2, 3, 3, 4), f32), _F], dict(_CONV, shape=(2, 5, 4, 3)))],
    "conv2d_backprop_filter": [([_X, np.ones((2, 3, 3, 4), f32)], dict(_CONV, shape=(3, 2, 3, 4)))],
    "max_pool2d": [([_X], _POOL)], "avg_pool2d": [([_X.astype(f64)], _POOL)],
    "max_pool2d_grad": [([_X, np.ones((2, 3, 2, 3), f32)], _POOL)],
    "max_pool2d_grad_grad": [([_X, _X], _POOL)],
    "avg_pool2d_grad": [([np.ones((2, 3, 2, 3), f32)], dict(_POOL, shape=(2, 5, 4, 3)))],
}

# op name -> list of (operands, attrs). Operands are numpy arrays, or `Cell`s for Variable references.
SAMPLES: dict[str, list[tuple[list[Any], dict[str, Any]]]] = {
    # elementwise unary (float)
    **{name: [([_M23], {}), ([arr(0.75, f64)], {})]
       for name in ["exp", "expm1", "log", "log1p", "sqrt", "rsqrt", "sin", "cos", "tanh", "logistic", "erf",
                    "floor", "ceil", "round"]},
    # elementwise unary (numeric)
    **{name: [([arr([[-1.5, 0.0, 2.0]], f32)], {}), ([arr([-3, 0, 4], i64)], {}), ([arr(-2, i32)], {})]
       for name in ["neg", "abs", "sign", "relu"]},
    # elementwise binary (numeric)
    **{name: [([_M23, _M23[::-1]], {}), ([arr([3, 7, -8], i32), arr([2, -3, 5], i32)], {}),
              ([arr(5, i64), arr(3, i64)], {})]
       for name in ["add", "sub", "mul", "floordiv", "mod", "maximum", "minimum"]},
    "pow": [([_M23, _M23[::-1]], {}), ([arr([3, 7, -8], i32), arr([2, 3, 0], i32)], {}),
            ([arr(2.0, f64), arr(-0.5, f64)], {})],
    "div": [([_M23, _M23[::-1]], {}), ([arr(1.0, f64), arr(4.0, f64)], {})],
    "xlogy": [([arr([[0.0, 2.0, 1.5]], f32), arr([[0.0, 0.5, 3.0]], f32)], {}), ([arr(0.0, f64), arr(-1.0, f64)], {})],
    # comparisons and logic
    **{name: [([_M23, _M23[::-1]], {}), ([arr([1, 2, 3], i64), arr([3, 2, 1], i64)], {})]
       for name in ["eq", "ne", "lt", "le", "gt", "ge"]},
    "logical_and": [([arr([True, False, True], b), arr([True, True, False], b)], {})],
    "logical_or": [([arr([True, False, False], b), arr([True, True, False], b)], {})],
    "logical_not": [([arr([[True, False]], b)], {}), ([arr(True, b)], {})],
    # bitwise (integers only)
    **{name: [([arr([12, -7, 0], i32), arr([10, 3, -1], i32)], {}), ([arr(-8, i64), arr(70, i64)], {})]
       for name in ["bitwise_and", "bitwise_or", "bitwise_xor", "left_shift", "right_shift"]},
    "invert": [([arr([[12, -7, 0]], i32)], {}), ([arr(-1, i64)], {})],
    "argwhere": [([arr([[True, False, True], [False, False, True]], b)], {}), ([arr([0.0, 2.0, -1.0], f32)], {}),
                 ([arr(True, b)], {}), ([arr([[0, 0]], i32)], {})],
    "argsort": [([arr([[3.0, 1.0, 3.0, np.nan, -0.0, 0.0]], f32)], {"descending": False}),
                ([arr([[3.0, 1.0, 3.0, np.nan, -0.0, 0.0]], f32)], {"descending": True}),
                ([arr([[5, -2, 5], [0, 7, -2]], i32)], {"descending": True}), ([arr([True, False, True], b)],
                                                                             {"descending": False})],
    **{name: [([_M23], {"axis": 1, "exclusive": False, "reverse": False}),
              ([_M23.astype(f64)], {"axis": 0, "exclusive": True, "reverse": True}),
              ([arr([[3, -1, 2, 4]], i32)], {"axis": 1, "exclusive": True, "reverse": False}),
              ([arr([1, 2, 3], i64)], {"axis": 0, "exclusive": False, "reverse": True})]
       for name in ["cumsum", "cumprod"]},
    "matrix_solve": [([arr([[2.0, 1.0], [4.0, 3.0]], f32), arr([[1.0, 0.5, 2.0], [-1.0, 3.0, 0.0]], f32)],
                      {"adjoint": False}),
                     ([arr([[[0.0, 2.0, 1.0], [1.0, 1.0, 0.0], [3.0, 0.5, 2.0]]] * 2, f64),
                       arr([[[1.0], [2.0], [3.0]], [[0.0], [-1.0], [0.5]]], f64)], {"adjoint": True})],
    "matrix_determinant": [([arr([[2.0, 1.0], [4.0, 3.0]], f32)], {}),
                           ([arr([[[0.0, 2.0, 1.0], [1.0, 1.0, 0.0], [3.0, 0.5, 2.0]],
                                  [[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.0, 1.0, 1.0]]], f64)], {})],  # singular
    "matrix_slogdet": [([arr([[1.0, 2.0], [4.0, 3.0]], f32)], {"part": part}) for part in ("sign", "log_abs")]
    + [([arr([[[0.0, 2.0, 1.0], [1.0, 1.0, 0.0], [3.0, 0.5, 2.0]],
              [[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.0, 1.0, 1.0]]], f64)], {"part": part})  # the second singular
       for part in ("sign", "log_abs")],
    "segment_combine": [([arr([[1.0, 2.0], [3.0, -4.0], [5.0, 6.0]], f32), arr([2, 0, 2], i32)],
                         {"kind": "max", "size": 4}),
                        ([arr([[4, -2], [3, 7]], i64), arr([[1, 1], [0, 1]], i64)], {"kind": "min", "size": 3}),
                        ([arr([1.5, 0.0, -2.0, 4.0], f64), arr([0, 1, 0, 0], i32)], {"kind": "prod", "size": 2})],
    "first_occurrence": [([arr([4, 2, 4, 7, 2], i32)], {}), ([arr([np.nan, 1.0, np.nan, -0.0, 0.0, 1.0], f32)], {}),
                         ([arr([True, False, True], b)], {}), ([arr([], f64)], {})],
    "shape_cast": [([_M23], {"shape": (None, 3)}), ([_M23], {"shape": (None, None)}), ([_M23], {"shape": (2, 3)})],
    "stop_gradient": [([_M23], {}), ([arr([1, 2], i32)], {})],
    "select": [([arr([True, False], b), arr([1.0, 2.0], f64), arr([3.0, 4.0], f64)], {}),
               ([arr(False, b), arr(1, i32), arr(2, i32)], {})],
    "convert": [([_M23], {"dtype": ir.types.int32}), ([arr([0, 2, -1], i64)], {"dtype": ir.types.bool_}),
                ([arr([True, False], b)], {"dtype": ir.types.float64})],
    # shape
    "constant": [([], {"value": arr([[1, 2, 3]], i32)}), ([], {"value": arr(2.5, f64)})],
    "broadcast_to": [([arr([1.0, 2.0, 3.0], f32)], {"shape": (2, 3)}), ([arr(7, i64)], {"shape": (2, 0)})],
    "reshape": [([_M23], {"shape": (3, 2)}), ([arr([5], i32)], {"shape": ()})],
    "transpose": [([np.zeros((2, 3, 4), f64)], {"perm": (2, 0, 1)})],
    "slice": [([np.arange(24, dtype=f32).reshape(4, 6)], {"begin": (1, 5), "end": (4, -1), "strides": (2, -2)}),
              ([np.arange(5, dtype=i64)], {"begin": (1,), "end": (1,), "strides": (1,)})],
    "concat": [([_M23, _M23, _M23[:, :1]], {"axis": 1}), ([arr([1], i32), arr([2, 3], i32)], {"axis": 0})],
    "pad": [([_M23], {"paddings": ((1, 0), (2, 3)), "value": 0.0}),
            ([arr([1, 2], i32)], {"paddings": ((0, 2),), "value": 7})],
    "gather": [([_M23, arr([[2, 0], [1, 1]], i32)], {"axis": 1}), ([_M23, arr(1, i64)], {"axis": 0})],
    "scatter_add": [([arr([[1.0, 2.0, 3.0]], f64), arr([0, 2, 0], i32)], {"axis": 1, "size": 4})],
    "dim": [([_M23], {"axis": 1}), ([arr([1, 2], i32)], {"axis": 0})],
    "broadcast_dim": [([arr(3, i64), arr(1, i64)], {"shapes": ((None, 2), (None, 2)), "axes": (0, 0)}),
                      ([arr(1, i64), arr(4, i64)], {"shapes": ((None,), (2, None)), "axes": (0, 1)}),
                      ([arr(0, i64), arr(1, i64)], {"shapes": ((None,), (None,)), "axes": (0, 0)})],
    "iota": [([], {"shape": (2, 3), "dtype": ir.types.int32, "axis": 1}),
             ([], {"shape": (4,), "dtype": ir.types.float32, "axis": 0})],
    # reductions and matmul
    **{name: [([_M23], {"axes": (1,)}), ([_M23], {"axes": (0, 1)}), ([arr([[1, 2], [3, 4]], i64)], {"axes": (0,)}),
              ([arr(3, i32)], {"axes": ()})]
       for name in ["reduce_sum", "reduce_prod", "reduce_max", "reduce_min"]},
    **{name: [([_M23], {"axis": 1, "output_type": ir.types.int64}),
              ([arr([4, 1, 9], i32)], {"axis": 0, "output_type": ir.types.int32})]
       for name in ["argmax", "argmin"]},
    "matmul": [([_M23, _M32], {"transpose_a": False, "transpose_b": False}),
               ([_M32, _M32], {"transpose_a": True, "transpose_b": False}),
               ([np.ones((4, 2, 3), f64), np.ones((4, 5, 3), f64)], {"transpose_a": False, "transpose_b": True}),
               ([arr([[1, 2], [3, 4]], i32), arr([[5, 6], [7, 8]], i32)], {"transpose_a": True, "transpose_b": True})],
    # convolution and pooling (NHWC, HWIO)
    **_CONV_SAMPLES,
    # state and effects
    "read": [([Cell(arr([1.0, 2.0], f32))], {})],
    "assign": [([Cell(arr([1.0, 2.0], f32)), arr([3.0, 4.0], f32)], {})],
    "print": [([arr([1, 2], i32), arr(0.5, f32)], {"template": "x={} y={}\n", "stream": "stderr", "summarize": 3})],
    "assert": [([arr(True, b), arr([1, 2], i32)], {"message": "never fails", "summarize": 3})],
    "random_uniform": [([arr(42, i64), arr(0, i64)], {"shape": (2, 3), "dtype": ir.types.float32}),
                       ([arr(7, i64), arr(5, i64)], {"shape": (3,), "dtype": ir.types.float64})],
}



# ---- structured ops: their regions, and a minimal block runner over the rows' eager kernels -------------------------
def _region(label: str, arg_types: list[TensorType], body: Any) -> Block:
    block = Block([Value(t, f"a{i}") for i, t in enumerate(arg_types)], label=label)
    bld = Builder(block)
    bld.op("yield", list(body(bld, *block.args)))
    return block


def run_block(block: Block, values: Any) -> list[Any]:
    env = {id(a): v for a, v in zip(block.args, values)}
    for op in block.ops:
        args = [env[id(v)] for v in op.operands]
        if op.opdef.terminator:
            return args
        out = op.opdef.eager(*args, **op.attrs)
        for r, o in zip(op.results, [out] if op.opdef.nresults == 1 else out):
            env[id(r)] = o
    raise AssertionError(f"region ^{block.label} has no terminator")


_V3 = TensorType(ir.types.float32, (3,))
_I = TensorType(ir.types.int32, ())
REGIONS: dict[str, list[Block]] = {
    "cond": [_region("then", [_V3], lambda bld, x: [bld.one("sin", x)]),
             _region("else", [_V3], lambda bld, x: [bld.one("neg", x)])],
    "while_loop": [_region("cond", [_I, _I], lambda bld, i, n: [bld.one("lt", i, n)]),
                   _region("body", [_I, _I], lambda bld, i, n: [
                       bld.one("add", i, bld.one("constant", value=arr(1, i32)))])],
    "call": [_region("body", [_V3, _V3], lambda bld, x, y: [bld.one("mul", x, bld.one("sin", y)), y])],
}
SAMPLES["cond"] = [([arr(True, b), arr([1.0, 2.0, 3.0], f32)], {}), ([arr(False, b), arr([1.0, 2.0, 3.0], f32)], {})]
SAMPLES["while_loop"] = [([arr(0, i32), arr(4, i32)], {"carried": 1})]
SAMPLES["call"] = [([arr([1.0, 2.0, 3.0], f32), arr([0.5, -1.0, 2.0], f32)], {"callee": "f"})]
SAMPLES["yield"] = [([arr([1.0], f32), arr(2, i64)], {}), ([], {})]
SAMPLES["return"] = [([arr([[1, 2]], i32)], {})]
EXPECTED_STRUCTURED = {("cond", 0): [np.sin(arr([1.0, 2.0, 3.0], f32))], ("cond", 1): [arr([-1.0, -2.0, -3.0], f32)],
                       ("while_loop", 0): [arr(4, i32)],
                       ("call", 0): [arr([1.0, 2.0, 3.0], f32) * np.sin(arr([0.5, -1.0, 2.0], f32)),
                                     arr([0.5, -1.0, 2.0], f32)]}

CASES = [pytest.param(name, k, id=f"{name}-{k}") for name in sorted(SAMPLES) for k in range(len(SAMPLES[name]))]


def type_of(x: Any) -> TensorType:
    if isinstance(x, Cell):
        return RefType(from_numpy(x.array.dtype), x.array.shape)
    x = np.asarray(x)
    return TensorType(from_numpy(x.dtype), x.shape)


# Stack values are not arrays; their rows have a test of their own below.
STACK_ROWS = {"stack_new", "stack_push", "stack_pop"}


def test_samples_cover_every_row() -> None:
    missing = sorted(set(ir.OPS) - set(SAMPLES) - STACK_ROWS)
    unknown = sorted(set(SAMPLES) - set(ir.OPS))
    assert not missing, f"ops without a sample in tests/test_optable.py SAMPLES: {missing}"
    assert not unknown, f"samples for ops that are not in ir.OPS: {unknown}"


@pytest.mark.parametrize("name", sorted(ir.OPS))
def test_row_is_complete(name: str) -> None:
    opdef = ir.OPS[name]
    assert opdef.name == name
    assert callable(opdef.infer)
    assert callable(opdef.eager)
    assert opdef.vjp is ir.NONDIFF or callable(opdef.vjp), f"{name}: vjp must be callable or ir.NONDIFF"
    assert opdef.differentiable == (opdef.vjp is not ir.NONDIFF)
    if opdef.structured:
        assert callable(opdef.infer_regions), f"{name}: a structured op infers its types from its regions"
        assert len(opdef.regions) == len(REGIONS[name])
    elif name == "stack_pop":
        assert opdef.nresults == 2  # the rest of the stack, and the top
    else:
        assert opdef.nresults in (0, 1)
    if opdef.nresults == 0:
        assert opdef.effect or opdef.terminator, f"{name}: an op without results must be an effect"
    assert isinstance(opdef.kind, ir.opdef.Kind), f"{name}: kind must be an ir.opdef.Kind"
    assert not hasattr(opdef, "extra"), "rows have typed fields, not a free `extra` dict"
    if opdef.kind is ir.opdef.Kind.ELEMENTWISE:
        assert opdef.dtypes and all(isinstance(d, ir.DType) for d in opdef.dtypes), \
            f"{name}: an elementwise row declares the dtypes it accepts"
    if opdef.writes_operand is not None:
        assert opdef.effect and opdef.writes_operand < max(len(SAMPLES[name][0][0]), 1)


# Rows without a codegen tiling rule yet (none: `dim` has one since row tiling takes run-time row counts).
_NO_CODEGEN_YET: set[str] = set()


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.xfail(
    strict=True, reason="codegen rules for run-time sizes are the codegen half of issue 12")) if n in _NO_CODEGEN_YET
    else n for n in sorted(ir.OPS)])
def test_row_has_a_tiling_rule(name: str) -> None:
    """Row tiling reads every row's `tile` facet: a rule, or the explicit mark that the row never tiles."""
    import codegen.rules.registry
    rule = ir.OPS[name].tile
    assert rule is not None, f"{name}: no tiling rule; attach one with codegen.rules.registry.tiles or never_tiles"
    assert isinstance(rule, codegen.rules.registry.Tiling)


LINEAR = {"shape_cast", "broadcast_to", "reshape", "transpose", "slice", "concat", "gather", "scatter_add",
          "avg_pool2d", "avg_pool2d_grad", "cumsum"}


@pytest.mark.parametrize("name", sorted(ir.OPS))
def test_linearity_is_declared_and_true(name: str) -> None:
    """A row declared linear satisfies f(a x + b y) = a f(x) + b f(y) in its floating-point operands (forward mode
    applies it to tangents); the list pins which rows say so."""
    opdef = ir.OPS[name]
    assert opdef.linear == (name in LINEAR)
    if not opdef.linear:
        return
    rng = np.random.default_rng(0)
    for operands, attrs in SAMPLES[name]:
        if not any(np.asarray(x).dtype.kind == "f" for x in operands):
            continue
        xs = [rng.standard_normal(np.shape(x)).astype(x.dtype) if x.dtype.kind == "f" else x for x in operands]
        ys = [rng.standard_normal(np.shape(x)).astype(x.dtype) if x.dtype.kind == "f" else x for x in operands]
        mix = [2.0 * x - 3.0 * y if x.dtype.kind == "f" else x for x, y in zip(xs, ys)]
        want = 2.0 * np.asarray(opdef.eager(*xs, **attrs), np.float64) - 3.0 * np.asarray(opdef.eager(*ys, **attrs),
                                                                                           np.float64)
        np.testing.assert_allclose(np.asarray(opdef.eager(*mix, **attrs), np.float64), want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name, k", CASES)
def test_eager_matches_infer(name: str, k: int) -> None:
    opdef = ir.OPS[name]
    operands, attrs = SAMPLES[name][k]
    assert set(attrs) == set(opdef.attrs), f"{name}: sample attrs {sorted(attrs)} vs declared {opdef.attrs}"
    types = [type_of(x) for x in operands]
    if opdef.structured:
        regions = REGIONS[name]
        inferred = tuple(opdef.infer_regions(types, regions, attrs))
        out = opdef.eager(*operands, regions=regions, run_block=run_block, **attrs)
        assert len(out) == len(inferred)
        for got, want, expected in zip(out, inferred, EXPECTED_STRUCTURED[name, k]):
            assert type_of(got) == want
            np.testing.assert_array_equal(got, expected)
        return
    inferred = opdef.infer(types, **attrs)
    assert isinstance(inferred, tuple) and len(inferred) == opdef.nresults
    out = opdef.eager(*operands, **attrs)
    if opdef.terminator:  # passes its operands on to the enclosing op
        assert len(out) == len(operands) and all(o is x for o, x in zip(out, operands))
        return
    if opdef.nresults == 0:
        assert out == ()
        return
    (want,) = inferred
    assert type(want) is TensorType
    got = np.asarray(out)
    assert from_numpy(got.dtype) is want.dtype, f"{name}: eager gave {got.dtype}, infer said {want}"
    assert got.ndim == want.rank and all(w is None or g == w for g, w in zip(got.shape, want.shape)), \
        f"{name}: eager gave shape {got.shape}, infer said {want}"  # an unknown dim (?) fits any size


ELEMENTWISE = sorted(n for n, o in ir.OPS.items()
                     if o.kind is ir.opdef.Kind.ELEMENTWISE and n not in ("select", "convert"))


def _operand(dtype: ir.DType, shape: tuple[int, ...]) -> np.ndarray:
    rng = np.random.default_rng(0)
    if dtype.is_bool:
        return rng.random(shape) < 0.5
    if dtype.is_integer:
        return rng.integers(1, 5, size=shape).astype(dtype.np)
    return rng.uniform(0.5, 2.0, size=shape).astype(dtype.np)


@pytest.mark.parametrize("name", ELEMENTWISE)
@pytest.mark.parametrize("shape", [(), (2, 3), (0, 4)], ids=["scalar", "2x3", "0x4"])
def test_elementwise_rows_over_their_dtypes(name: str, shape: tuple[int, ...]) -> None:
    """Each elementwise row runs on every dtype it declares, and infer refuses the others with a TypeError."""
    opdef = ir.OPS[name]
    nin = len(SAMPLES[name][0][0])
    allowed = opdef.dtypes
    for dtype in ALL_DTYPES:
        operands = [_operand(dtype, shape) for _ in range(nin)]
        types = [type_of(x) for x in operands]
        if dtype not in allowed:
            with pytest.raises(TypeError, match=dtype.name):
                opdef.infer(types)
            continue
        (want,) = opdef.infer(types)
        got = np.asarray(opdef.eager(*operands))
        assert (from_numpy(got.dtype), got.shape) == (want.dtype, want.shape), f"{name} on {dtype.name}{shape}"


@pytest.mark.parametrize("name", ["add", "matmul", "concat", "select", "reduce_sum", "reshape"])
def test_infer_rejects_mismatched_types(name: str) -> None:
    """infer names the op and the offending shapes (the IR never broadcasts implicitly)."""
    bad = {
        "add": [TensorType(ir.types.float32, (2, 3)), TensorType(ir.types.float32, (3,))],
        "matmul": [TensorType(ir.types.float32, (2, 3)), TensorType(ir.types.float32, (4, 5))],
        "concat": [TensorType(ir.types.float32, (2, 3)), TensorType(ir.types.float32, (4, 5))],
        "select": [TensorType(ir.types.bool_, (2,)), TensorType(ir.types.int32, (3,)),
                   TensorType(ir.types.int32, (3,))],
        "reduce_sum": [TensorType(ir.types.float32, (2, 3))],
        "reshape": [TensorType(ir.types.float32, (2, 3))],
    }[name]
    attrs = {"matmul": {"transpose_a": False, "transpose_b": False}, "concat": {"axis": 1},
             "reduce_sum": {"axes": (2,)}, "reshape": {"shape": (4, 2)}}.get(name, {})
    with pytest.raises(ir.InferError) as info:
        ir.OPS[name].infer(bad, **attrs)
    message = str(info.value)
    assert message.startswith(name + ":")
    assert str(bad[-1].shape if name != "reshape" else (4, 2)) in message


def test_infer_rejects_mixed_dtypes() -> None:
    with pytest.raises(TypeError, match="float32.*int32"):
        ir.OPS["mul"].infer([TensorType(ir.types.float32, (2,)), TensorType(ir.types.int32, (2,))])


def test_lookup_by_name_lists_known_ops() -> None:
    assert ir.op("add") is ir.OPS["add"]
    with pytest.raises(KeyError, match="known ops"):
        ir.op("no_such_op")


def test_stack_rows_push_and_pop_in_lifo_order() -> None:
    from ir.ops_stack import EMPTY
    from ir.types import StackType, float32
    new, push, pop = ir.OPS["stack_new"], ir.OPS["stack_push"], ir.OPS["stack_pop"]
    (st,) = new.infer([], dtype=float32, shape=(2,))
    assert st == StackType(float32, (2,)) and str(st) == "stack<f32[2]>"
    elem = TensorType(float32, (2,))
    assert push.infer([st, elem]) == (st,)
    assert pop.infer([st]) == (st, elem)
    with pytest.raises(ir.InferError, match="cannot push"):
        push.infer([st, TensorType(float32, (3,))])
    s0 = new.eager(dtype=float32, shape=(2,))
    a, b = arr([1.0, 2.0], f32), arr([3.0, 4.0], f32)
    s2 = push.eager(push.eager(s0, a), b)
    s1, top = pop.eager(s2)
    rest, first = pop.eager(s1)
    assert top is b and first is a and rest is EMPTY
    with pytest.raises(IndexError, match="empty"):
        pop.eager(rest)
