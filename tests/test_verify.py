"""The verifier (`ir.verify`) accepts well-formed IR and rejects each kind of broken IR with a message that names the
op as IR text, the user's source line, and what is wrong.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np
import pytest

from ir.core import Block, Builder, Function, Op, Value
from ir.ops import OPS
from ir.types import RefType, TensorType, bool_, float32, int32
from ir.verify import VerifyError, verify

F3 = TensorType(float32, (3,))
F4 = TensorType(float32, (4,))
I = TensorType(int32, ())


def block(params: Sequence[TensorType], body: Callable[..., Sequence[Value]], label: str = "",
          terminator: str = "return") -> Block:
    args = [Value(t, f"{label or 'p'}{i}") for i, t in enumerate(params)]
    b = Builder(Block(args, label=label))
    b.op(terminator, list(body(b, *args)))
    return b.block


def function(params: Sequence[TensorType], body: Callable[..., Sequence[Value]]) -> Function:
    return Function("f", block(params, body))


def const(b: Builder, value: Any, dtype: Any) -> Value:
    return b.one("constant", value=np.asarray(value, dtype=dtype))


def cond_op(b: Builder, pred: Value, captured: Sequence[Value], then: Callable, other: Callable,
            result_types: Sequence[TensorType]) -> list[Value]:
    types = [v.type for v in captured]
    regions = [block(types, then, "then", "yield"), block(types, other, "else", "yield")]
    return b.op("cond", [pred, *captured], regions=regions, result_types=result_types)


def loop_fn(body_yields: Callable[..., Sequence[Value]]) -> Function:
    """while i < n: (i, acc) = body_yields(...)  with carried (i, acc), captured n."""
    def body(b: Builder, n: Value) -> list[Value]:
        carried = [const(b, 0, np.int32), const(b, 0, np.int32)]
        types = [I, I, I]
        regions = [block(types, lambda b, i, acc, n: [b.one("lt", i, n)], "cond", "yield"),
                   block(types, body_yields, "body", "yield")]
        return b.op("while_loop", [*carried, n], {"carried": 2}, regions=regions, result_types=[I, I])
    return function([I], body)


def verify_error(fn: Function) -> str:
    with pytest.raises(VerifyError) as info:
        verify(fn)
    return str(info.value)


# ---- well-formed IR -------------------------------------------------------------------------------------------------
def test_accepts_straight_line_cond_loop_and_variables() -> None:
    verify(function([F3, F3], lambda b, x, y: [b.one("add", b.one("sin", x), y)]))
    verify(function([F3], lambda b, x: cond_op(b, b.one("gt", b.one("reduce_sum", x, axes=(0,)),
                                                          const(b, 0, np.float32)),
                                                [x], lambda b, x: [b.one("neg", x)], lambda b, x: [x], [F3])))
    verify(loop_fn(lambda b, i, acc, n: [b.one("add", i, const(b, 1, np.int32)), b.one("add", acc, i)]))

    def update(b: Builder, v: Value, x: Value) -> list[Value]:
        b.op("assign", [v, b.one("add", b.one("read", v), x)])
        b.op("print", [x], {"template": "{}\n", "stream": "stdout", "summarize": 3})
        return [b.one("read", v)]
    verify(function([RefType(float32, (3,)), F3], update))


# ---- def before use and closed regions ------------------------------------------------------------------------------
def test_undefined_value() -> None:
    ghost = Value(F3, "ghost")
    msg = verify_error(function([F3], lambda b, x: [b.one("add", x, ghost)]))
    assert msg.startswith("verify: op `%0 = add %p0, %ghost : f32[3]`: ")
    assert "operand #1 %ghost is not defined anywhere in the function" in msg


def test_use_before_definition() -> None:
    fn = function([F3], lambda b, x: [b.one("neg", b.one("sin", x))])
    fn.block.ops[0], fn.block.ops[1] = fn.block.ops[1], fn.block.ops[0]
    # Names follow the printed text: the misplaced neg comes first, so its result is %0 and sin's is %1.
    assert verify_error(fn) == "verify: op `%0 = neg %1 : f32[3]`: operand #0 %1 is used before it is defined"


def test_use_of_an_outer_value_inside_a_region() -> None:
    def body(b: Builder, x: Value, p: Value) -> list[Value]:
        outer = b.one("sin", x)
        # The then region uses `outer` directly instead of receiving it as a block argument.
        return cond_op(b, p, [x], lambda b, x1: [b.one("add", x1, outer)], lambda b, x1: [x1], [F3])

    msg = verify_error(function([F3, TensorType(bool_, ())], body))
    assert "`%2 = add %then0, %0 : f32[3]`" in msg
    assert "operand #1 %0 is defined outside this region; regions are closed" in msg


def test_value_of_one_region_is_invisible_in_the_parent() -> None:
    leaked: list[Value] = []

    def then(b: Builder, x1: Value) -> list[Value]:
        leaked.append(b.one("neg", x1))
        return [leaked[0]]

    def body(b: Builder, x: Value, p: Value) -> list[Value]:
        (y,) = cond_op(b, p, [x], then, lambda b, x1: [x1], [F3])
        return [b.one("add", y, leaked[0])]

    assert "is defined inside another op's region" in verify_error(function([F3, TensorType(bool_, ())], body))


def test_value_defined_twice() -> None:
    fn = function([F3], lambda b, x: [b.one("sin", x)])
    sin = fn.block.ops[0]
    fn.block.ops.insert(1, Op(OPS["cos"], [fn.params[0]], sin.results))
    assert "value %0 is defined twice (again as result #0 of op `%0 = cos %p0 : f32[3]`)" in verify_error(fn)


# ---- terminators ----------------------------------------------------------------------------------------------------
def test_missing_terminator() -> None:
    fn = function([F3], lambda b, x: [b.one("sin", x)])
    fn.block.ops.pop()
    msg = verify_error(fn)
    assert "op `%0 = sin %p0 : f32[3]`" in msg
    assert "the body of function @f does not end with a terminator: its last op must be `return`" in msg


def test_region_without_yield_and_empty_blocks() -> None:
    def body(b: Builder, x: Value, p: Value) -> list[Value]:
        return cond_op(b, p, [x], lambda b, x1: [x1], lambda b, x1: [b.one("neg", x1)], [F3])
    fn = function([F3, TensorType(bool_, ())], body)
    fn.block.ops[0].regions[1].ops.pop()
    assert "region ^else of op `%0 = cond %p1, %p0 : f32[3] {...} {...}` does not end with a terminator" \
        in verify_error(fn)
    fn.block.ops[0].regions[1].ops.clear()
    assert "region ^else of op `%0 = cond %p1, %p0 : f32[3] {...} {...}` is empty; it must end with `yield`" \
        in verify_error(fn)
    assert "is empty" in verify_error(Function("f", Block([])))


def test_terminator_in_the_middle_and_wrong_terminator_kind() -> None:
    fn = function([F3], lambda b, x: [b.one("sin", x)])
    fn.block.ops.insert(0, Op(OPS["return"], [fn.params[0]], []))
    assert "the terminator `return` must be the last op of the body of function @f, but 2 op(s) follow it" \
        in verify_error(fn)
    assert "must end with `return`, not `yield`" in verify_error(Function("f", block([F3], lambda b, x: [x],
                                                                                      terminator="yield")))


# ---- arity and types ------------------------------------------------------------------------------------------------
def test_wrong_yield_arity() -> None:
    def body(b: Builder, x: Value, p: Value) -> list[Value]:
        return cond_op(b, p, [x], lambda b, x1: [x1, x1], lambda b, x1: [x1], [F3])
    msg = verify_error(function([F3, TensorType(bool_, ())], body))
    assert msg.startswith("verify: op `%0 = cond %p1, %p0 : f32[3] {...} {...}`: InferError: cond: the branches "
                          "yield different types: then (f32[3], f32[3]) vs else (f32[3])")
    msg = verify_error(loop_fn(lambda b, i, acc, n: [b.one("add", i, const(b, 1, np.int32))]))
    assert "the body yields (i32[]) but the loop carries (i32[], i32[])" in msg


def test_wrong_result_type_names_op_and_source_line() -> None:
    fn = function([F4, F4], lambda b, x, y: [b.one("add", x, y, loc=("/home/me/model.py", 12))])
    add = fn.block.ops[0]
    add.results[0].type = F3
    assert verify_error(fn) == ("verify: op `%0 = add %p0, %p1 : f32[3]` (model.py:12): inferred type f32[4] but "
                                "the IR says f32[3]")


def test_wrong_operand_types_and_result_arity() -> None:
    fn = function([F3, F3], lambda b, x, y: [b.one("add", x, y)])
    fn.block.ops[0].operands[1] = Value(TensorType(int32, (3,)), "n")
    fn.block.args.append(fn.block.ops[0].operands[1])
    assert "TypeError: add: operands have different dtypes float32 and int32" in verify_error(fn)

    fn = function([F3], lambda b, x: [b.one("sin", x)])
    fn.block.ops[0].results.append(Value(F3, "extra"))
    assert "has 2 result(s) but `sin` makes 1" in verify_error(fn)

    fn = function([F3], lambda b, x: [b.one("sin", x)])
    fn.block.ops[0].operands.append(fn.params[0])
    assert "InferError: sin: expected 1 operand(s), got 2" in verify_error(fn)


def test_bad_attrs() -> None:
    fn = function([F3], lambda b, x: [b.one("reshape", x, shape=(3, 1))])
    del fn.block.ops[0].attrs["shape"]
    assert "bad attrs: missing attr(s) shape (`reshape` takes: shape)" in verify_error(fn)

    fn = function([F3], lambda b, x: [b.one("sin", x)])
    fn.block.ops[0].attrs["fast"] = True
    assert "bad attrs: unknown attr(s) fast (`sin` takes: none)" in verify_error(fn)

    fn = function([F3], lambda b, x: [b.one("reshape", x, shape=(3, 1))])
    fn.block.ops[0].attrs["shape"] = (2, 2)
    msg = verify_error(fn)
    assert msg.startswith("verify: op `%0 = reshape %p0 {shape = [2, 2]} : f32[3,1]`: InferError: reshape: "
                          "cannot reshape a tensor of shape (3,)")

    fn = loop_fn(lambda b, i, acc, n: [b.one("add", i, const(b, 1, np.int32)), acc])
    fn.block.ops[-2].attrs["carried"] = 5
    assert "attr carried=5 must count the carried operands" in verify_error(fn)


def test_messages_name_values_as_the_printer_does() -> None:
    printer = pytest.importorskip("ir.printer")

    def body(b: Builder, x: Value, p: Value) -> list[Value]:
        (y,) = cond_op(b, p, [x], lambda b, x1: [b.one("sin", b.one("neg", x1))], lambda b, x1: [x1], [F3])
        return [b.one("add", b.one("cos", y), x)]
    fn = function([F3, TensorType(bool_, ())], body)
    text = printer.print_function(fn)
    add = fn.block.ops[-2]
    add.results[0].type = F4
    msg = verify_error(fn)
    op_text = msg.split("`")[1]
    assert op_text.replace("f32[4]", "f32[3]") in text


def test_ops_never_produce_references() -> None:
    ref = RefType(float32, (3,))
    with pytest.raises(TypeError, match="operands must be tensors"):
        function([ref], lambda b, v: [b.one("neg", v)])
    msg = verify_error(function([ref], lambda b, v: b.op("read", [v], result_types=[ref])))
    assert "inferred type f32[3] but the IR says &f32[3]" in msg


def test_regions_on_a_plain_op() -> None:
    fn = function([F3], lambda b, x: [b.one("sin", x)])
    fn.block.ops[0].regions.append(block([], lambda b: [], "r", "yield"))
    assert "`sin` takes no regions, but the op has 1" in verify_error(fn)


def test_errors_inside_regions_name_the_inner_op() -> None:
    def body(b: Builder, x: Value, p: Value) -> list[Value]:
        return cond_op(b, p, [x], lambda b, x1: [b.one("sin", x1, loc=("net.py", 7))], lambda b, x1: [x1], [F3])
    fn = function([F3, TensorType(bool_, ())], body)
    fn.block.ops[0].regions[0].ops[0].results[0].type = F4
    assert verify_error(fn) == ("verify: op `%1 = sin %then0 : f32[4]` (net.py:7): inferred type f32[3] but the IR "
                                "says f32[4]")
