"""Unknown dimensions in the IR (issue 12, front half): shape inference through the rows, the `dim` row and the
run-time size operands (ir.ops_dims), the interpreter on any fitting arguments, and ir.passes.specialize.

The oracle is numpy: a function with `?` dims run on the interpreter, and its specialization to the arguments'
shapes (what codegen compiles for now), must both give numpy's answer for every size tried.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import ir
from ir.interp import run
from ir.parser import parse
from ir.passes import optimize
from ir.passes.canonicalize import canonicalize
from ir.passes.specialize import SpecializeError, specialize
from ir.printer import print_function
from ir.types import TensorType, float32, int64
from ir.verify import verify

F = float32


def T(*shape: Any, dtype: Any = F) -> TensorType:
    return TensorType(dtype, shape)


def infer(name: str, *types: TensorType, **attrs: Any) -> TensorType:
    (t,) = ir.OPS[name].infer(list(types), **attrs)
    return t


# ---- shape inference ------------------------------------------------------------------------------------------------
def test_elementwise_known_dim_wins_and_known_dims_must_agree() -> None:
    assert infer("add", T(None, 3), T(2, 3)) == T(2, 3)
    assert infer("add", T(None, 3), T(None, 3)) == T(None, 3)
    assert infer("select", T(None, 3, dtype=ir.types.bool_), T(4, None), T(None, 3)) == T(4, 3)
    with pytest.raises(ir.InferError, match=r"add: operands have different shapes \(None, 3\) and \(2, 4\)"):
        infer("add", T(None, 3), T(2, 4))


def test_reductions_transpose_and_matmul_keep_unknown_dims() -> None:
    assert infer("reduce_sum", T(None, 3), axes=(1,)) == T(None)
    assert infer("reduce_max", T(None, 3), axes=(0,)) == T(3)
    assert infer("argmax", T(None, 3), axis=0, output_type=int64) == T(3, dtype=int64)
    assert infer("transpose", T(None, 3, 5), perm=(2, 0, 1)) == T(5, None, 3)
    mm = dict(transpose_a=False, transpose_b=False)
    assert infer("matmul", T(None, 784), T(784, 10), **mm) == T(None, 10)
    assert infer("matmul", T(None, None), T(5, 2), **mm) == T(None, 2)
    assert infer("matmul", T(None, 4, 3), T(2, 3, 5), **mm) == T(2, 4, 5)
    with pytest.raises(ir.InferError, match="inner dimensions differ"):
        infer("matmul", T(None, 784), T(783, 10), **mm)


def test_concat_pad_gather_and_slice() -> None:
    assert infer("concat", T(None, 3), T(2, 3), axis=0) == T(None, 3)
    assert infer("concat", T(2, None), T(2, 3), axis=0) == T(4, 3)
    assert infer("concat", T(2, 3), T(2, 4), axis=1) == T(2, 7)
    assert infer("pad", T(None, 3), paddings=((1, 1), (2, 0)), value=0.0) == T(None, 5)
    assert infer("gather", T(None, 3), T(None, dtype=ir.types.int32), axis=1) == T(None, None)
    # Static bounds on an unknown dim give an unknown length, unless provably empty; end None is the axis's end.
    assert infer("slice", T(None, 3), begin=(1, 0), end=(None, 3), strides=(1, 1)) == T(None, 3)
    assert infer("slice", T(None, 3), begin=(0, 0), end=(2, 1), strides=(1, 1)) == T(None, 1)
    assert infer("slice", T(None, 3), begin=(2, 0), end=(2, 3), strides=(1, 1)) == T(0, 3)
    assert infer("slice", T(5, 3), begin=(1, 0), end=(None, 3), strides=(2, 1)) == T(2, 3)
    with pytest.raises(ir.InferError, match="bad slice"):
        infer("slice", T(None, 3), begin=(0, 0), end=(-1, 3), strides=(-1, 1))


def test_rows_that_make_a_shape_take_one_size_operand_per_none() -> None:
    n = T(dtype=int64)
    assert infer("broadcast_to", T(3), n, shape=(None, 3)) == T(None, 3)
    assert infer("broadcast_to", T(1, 3), n, shape=(None, 3)) == T(None, 3)
    assert infer("broadcast_to", T(4, 1), n, shape=(None, 3)) == T(4, 3)  # a known dim other than 1 is the size
    assert infer("reshape", T(None, 28, 28), n, shape=(None, 784)) == T(None, 784)
    assert infer("reshape", T(None, 6), shape=(2, 3)) == T(2, 3)  # checked at run time
    assert infer("iota", n, shape=(None, 4), dtype=F, axis=1) == T(None, 4)
    with pytest.raises(ir.InferError, match=r"broadcast_to: shape \[\?, 3\] has 1 unknown dim\(s\) but the op "
                                            r"passes 0 size operand\(s\)"):
        infer("broadcast_to", T(3), shape=(None, 3))
    with pytest.raises(ir.InferError, match=r"size operands must be i64\[\]"):
        infer("reshape", T(None, 3), T(dtype=ir.types.int32), shape=(None,))
    with pytest.raises(ir.InferError, match="cannot reshape"):
        infer("reshape", T(2, 3), shape=(4, 2))


def test_dim_row() -> None:
    assert infer("dim", T(None, 3), axis=0) == T(dtype=int64)
    assert ir.OPS["dim"].eager(np.zeros((7, 3)), axis=0) == 7
    assert ir.OPS["dim"].eager(np.zeros((7, 3)), axis=0).dtype == np.int64
    assert not ir.OPS["dim"].differentiable
    with pytest.raises(ir.InferError, match="axis 2 is out of range"):
        infer("dim", T(None, 3), axis=2)


# ---- text, interpreter, specialization ------------------------------------------------------------------------------
_SOFTMAX = """func @softmax(%x: f32[?,4], %b: f32[4]) -> (f32[?,4], i64[]) {
  %n = dim %x {axis = 0} : i64[]
  %bb = broadcast_to %b, %n {shape = [none, 4]} : f32[?,4]
  %y = add %x, %bb : f32[?,4]
  %m = reduce_max %y {axes = [1]} : f32[?]
  %n.1 = dim %m {axis = 0} : i64[]
  %mk = reshape %m, %n.1 {shape = [none, 1]} : f32[?,1]
  %n.2 = dim %y {axis = 0} : i64[]
  %mb = broadcast_to %mk, %n.2 {shape = [none, 4]} : f32[?,4]
  %d = sub %y, %mb : f32[?,4]
  %e = exp %d : f32[?,4]
  %s = reduce_sum %e {axes = [1]} : f32[?]
  %n.3 = dim %s {axis = 0} : i64[]
  %sk = reshape %s, %n.3 {shape = [none, 1]} : f32[?,1]
  %n.4 = dim %e {axis = 0} : i64[]
  %sb = broadcast_to %sk, %n.4 {shape = [none, 4]} : f32[?,4]
  %p = div %e, %sb : f32[?,4]
  %k = constant {value = 2} : i64[]
  %n2 = mul %n, %k : i64[]
  return %p, %n2
}"""


def _softmax_np(x: np.ndarray, b: np.ndarray) -> np.ndarray:
    y = (x + b).astype(np.float64)
    e = np.exp(y - y.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_text_round_trips_and_verifies() -> None:
    fn = parse(_SOFTMAX)
    verify(fn)
    assert print_function(fn) == _SOFTMAX + "\n"
    assert print_function(parse(print_function(fn))) == _SOFTMAX + "\n"


@pytest.mark.parametrize("rows", [1, 3, 8, 0])
def test_interpreter_and_specializations_agree_with_numpy(rows: int) -> None:
    fn = parse(_SOFTMAX)
    rng = np.random.default_rng(rows)
    x = rng.standard_normal((rows, 4)).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    p, n2 = run(fn, [x, b])
    np.testing.assert_allclose(p, _softmax_np(x, b), rtol=1e-6, atol=1e-7)
    assert n2 == 2 * rows
    static = specialize(fn, [x.shape, b.shape])
    verify(static)
    assert all(v.type.is_static for op in static.walk() for v in op.results)
    assert not any(op.opdef.name == "dim" for op in static.walk())
    assert all(len(op.operands) == 1 for op in static.walk() if op.opdef.name in ("broadcast_to", "reshape"))
    assert static.result_types == [T(rows, 4), T(dtype=int64)]
    for candidate in (static, optimize(static), optimize(fn)):
        p2, n2b = run(candidate, [x, b])
        np.testing.assert_allclose(p2, p, rtol=1e-6, atol=1e-7)
        assert n2b == 2 * rows


def test_the_size_arithmetic_folds_into_the_specialization() -> None:
    static = optimize(specialize(parse(_SOFTMAX), [(5, 4), (4,)]))
    (ret,) = [op for op in static.walk() if op.opdef.name == "return"]
    producer = {id(r): op for op in static.walk() for r in op.results}[id(ret.operands[1])]
    assert producer.opdef.name == "constant" and int(producer.attrs["value"]) == 10


def test_interpreter_names_the_parameter_a_shape_does_not_fit() -> None:
    fn = parse(_SOFTMAX)
    with pytest.raises(ValueError, match=r"parameter #0 %x of @softmax expects f32\[\?,4\], got an array of shape "
                                         r"\(2, 5\)"):
        run(fn, [np.zeros((2, 5), np.float32), np.zeros(4, np.float32)])
    with pytest.raises(ValueError, match=r"expects f32\[\?,4\], got an array of shape \(4,\)"):
        run(fn, [np.zeros(4, np.float32), np.zeros(4, np.float32)])
    with pytest.raises(SpecializeError, match=r"parameter #1 %b of @softmax is f32\[4\]: a shape \[3\] does not "
                                              r"fit it"):
        specialize(fn, [(2, 4), (3,)])


def test_a_run_time_size_that_contradicts_a_known_dim_fails_at_run_time() -> None:
    fn = parse("""func @f(%x: f32[?], %n: i64[]) -> (f32[?,3]) {
  %y = reshape %x, %n {shape = [none, 3]} : f32[?,3]
  return %y
}""")
    np.testing.assert_array_equal(run(fn, [np.arange(6, dtype=np.float32), np.int64(2)])[0],
                                  np.arange(6, dtype=np.float32).reshape(2, 3))
    with pytest.raises(ValueError, match="cannot reshape"):
        run(fn, [np.arange(6, dtype=np.float32), np.int64(3)])


def test_canonicalize_folds_static_dims_only() -> None:
    fn = parse("""func @f(%x: f32[?,3]) -> (i64[], i64[]) {
  %a = dim %x {axis = 0} : i64[]
  %b = dim %x {axis = 1} : i64[]
  return %a, %b
}""")
    out = canonicalize(fn)
    names = [op.opdef.name for op in out.walk()]
    assert names == ["dim", "constant", "return"]
    assert [int(a) for a in run(out, [np.zeros((5, 3), np.float32)])] == [5, 3]


def test_specialize_retypes_regions_and_partial_shapes_keep_what_is_unknown() -> None:
    fn = parse("""func @f(%x: f32[?,?], %p: bool[]) -> (f32[?,?]) {
  %y = cond %p, %x : f32[?,?] {
  ^then(%x.1: f32[?,?]):
    %n = dim %x.1 {axis = 1} : i64[]
    %m = dim %x.1 {axis = 0} : i64[]
    %one = constant {value = 1.0} : f32[]
    %o = broadcast_to %one, %m, %n {shape = [none, none]} : f32[?,?]
    %s = add %x.1, %o : f32[?,?]
    yield %s
  } {
  ^else(%x.2: f32[?,?]):
    %t = neg %x.2 : f32[?,?]
    yield %t
  }
  return %y
}""")
    verify(fn)
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    full = specialize(fn, [(2, 3), ()])
    verify(full)
    assert full.result_types == [T(2, 3)]
    partial = specialize(fn, [(None, 3), ()])
    verify(partial)
    assert partial.result_types == [T(None, 3)]
    for f in (fn, full, partial):
        np.testing.assert_array_equal(run(f, [x, np.bool_(True)])[0], x + 1)
        np.testing.assert_array_equal(run(f, [x, np.bool_(False)])[0], -x)
