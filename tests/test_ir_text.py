"""The IR's text form (ir.printer, ir.parser): print -> parse -> print gives the same text, parsing rebuilds the same
structure (checked by a structural walk that does not use the printer), constants come back bit for bit, names
dedupe as specified, source locations round-trip, and two functions match golden files in tests/golden/ (set
KILN_REGEN_GOLDEN=1 to rewrite them after an intended change of the format). Malformed text: test_ir_parse_errors.py.
"""
from __future__ import annotations

import html
import os
import re
from typing import Any, Optional

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import ir
from ir.core import Block, Builder, Function, Op, Value
from ir.parser import parse
from ir.printer import function_html, print_function
from ir.types import RefType, TensorType, float32, float64, int32, int64
from test_optable import REGIONS, SAMPLES, type_of

DTYPE_NAMES = {d.name for d in ir.types.ALL_DTYPES}
GOLDEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden")
f32, f64 = np.float32, np.float64


def T(dtype: ir.DType, *shape: int) -> TensorType:
    return TensorType(dtype, shape)


# ---- an independent oracle: the structure of a function, values numbered by definition order -------------------------
def structure(fn: Function) -> Any:
    ids: dict[int, int] = {}

    def define(v: Value) -> tuple:
        ids[id(v)] = len(ids)
        return (ids[id(v)], str(v.type), type(v.type).__name__)

    def attr(x: Any) -> Any:
        """Attrs compared by meaning: a dtype however given, a number whatever its Python or numpy type."""
        if isinstance(x, np.ndarray):
            if x.dtype.kind == "f":  # NaNs print as `nan`: sign and payload are not part of the text
                x = np.where(np.isnan(x), np.array(np.nan, x.dtype), x)
            return ("array", x.dtype.str, x.shape, x.tobytes())
        if isinstance(x, (list, tuple)):
            return tuple(attr(y) for y in x)
        if isinstance(x, (ir.DType, np.dtype)) or isinstance(x, str) and x in DTYPE_NAMES:
            return ("dtype", ir.types.as_dtype(x).name)
        if isinstance(x, (bool, np.bool_)):
            return ("bool", bool(x))
        if isinstance(x, (int, np.integer)):
            return ("int", int(x))
        if isinstance(x, (float, np.floating)):
            return ("float", repr(float(x)))  # repr: nan equals nan, -0.0 differs from 0.0
        return (type(x).__name__, x)

    def block(b: Block) -> tuple:
        return (b.label, tuple(define(a) for a in b.args), tuple(op(o) for o in b.ops))

    def op(o: Op) -> tuple:
        operands = tuple(ids.get(id(v), "undefined") for v in o.operands)
        regions = tuple(block(r) for r in o.regions)
        results = tuple(define(r) for r in o.results)
        return (o.opdef.name, operands, tuple((k, attr(o.attrs[k])) for k in sorted(o.attrs)), results, regions)

    return (fn.name, block(fn.block))


def roundtrip(fn: Function, locations: bool = False) -> Function:
    text = print_function(fn, locations=locations)
    parsed = parse(text)
    assert print_function(parsed, locations=locations) == text
    assert structure(parsed) == structure(fn)
    return parsed


def constants(fn: Function) -> list[np.ndarray]:
    return [op.attrs["value"] for op in fn.walk() if op.name == "constant"]


def assert_bitwise(got: np.ndarray, want: np.ndarray) -> None:
    assert isinstance(got, np.ndarray) and got.dtype == want.dtype and got.shape == want.shape
    assert np.array_equal(got, want, equal_nan=want.dtype.kind == "f")
    if want.dtype.kind == "f":  # bit for bit, -0.0 included; a NaN's sign and payload are not kept
        nan = np.isnan(want)
        assert np.array_equal(np.isnan(got), nan)
        assert got[~nan].tobytes() == want[~nan].tobytes()
        assert np.array_equal(np.signbit(got[~nan]), np.signbit(want[~nan]))


# ---- the functions under test ---------------------------------------------------------------------------------------
CONSTANTS = [
    np.array([0.1, np.nan, np.inf, -np.inf, -0.0, 1e-45, 3.4028235e38, 1 / 3, 16777217.0], f32),
    np.array([[0.1, np.nan], [-0.0, 5e-324], [1.7976931348623157e308, 1 / 3]], f64),
    np.array([-2 ** 31, 2 ** 31 - 1, 0], np.int32),
    np.array([-2 ** 63, 2 ** 63 - 1], np.int64),
    np.array([[True, False], [False, True]]),
    np.array(0.1, f32), np.array(-0.0, f64), np.array(7, np.int64), np.array(True),
    np.zeros((0, 3), f32), np.zeros((2, 0), np.int32),
]


def every_attr_kind() -> Function:
    """Straight-line: every attr kind, constants of all five dtypes, a Variable read and assigned, effects."""
    x, n, v = Value(T(float32, 2, 3), "x"), Value(T(int32), "n"), Value(RefType(float32, (3,)), "v")
    block = Block([x, n, v])
    b = Builder(block)
    consts = [b.one("constant", value=c) for c in CONSTANTS]
    s = b.one("reduce_sum", x, axes=(1,))
    xt = b.one("transpose", x, perm=(1, 0))
    rev = b.one("slice", x, begin=(1, 2), end=(-1, -1), strides=(-1, -2))
    padded = b.one("pad", x, paddings=((1, 0), (0, 2)), value=np.float32(0.1))
    (i64,) = b.op("convert", [x], {"dtype": "int64"}, names=["as_int"])
    wide = b.one("convert", x, dtype=np.dtype("float64"))
    idx = b.one("iota", shape=(4,), dtype=int64, axis=0)
    am = b.one("argmax", x, axis=1, output_type=int32)
    g = b.one("gather", x, b.one("constant", value=np.array([2, 0], np.int32)), axis=1)
    mm = b.one("matmul", x, xt, transpose_a=False, transpose_b=False)
    cat = b.one("concat", s, s, axis=0)
    bc = b.one("broadcast_to", b.one("reshape", s, shape=(2, 1)), shape=(2, 3))
    r = b.one("read", v, loc=("/tmp/somewhere/prog.py", 7))
    u = b.one("random_uniform", consts[7], consts[7], shape=(2,), dtype=float64)
    b.op("assign", [v, b.one("sin", r)])
    b.op("print", [n, r], {"template": 'n = {} "r" = {}\n\t\\ <b>&</b> é\n', "stream": "stderr", "summarize": 3})
    b.op("assert", [b.one("gt", s, b.one("neg", s))], {"message": "s must be \"positive\"\n", "summarize": -1})
    b.op("return", [bc, padded, rev, i64, wide, idx, am, g, mm, cat, u] + consts)
    return Function("every_attr_kind", block)


def control_flow() -> Function:
    """A cond with captured values; a while_loop with carried and captured values and a cond nested in its body."""
    x, k = Value(T(float32, 3), "x"), Value(T(int32), "k")
    block = Block([x, k])
    b = Builder(block)
    s = b.one("reduce_sum", x, axes=(0,), loc=("prog.py", 2))
    zero = b.one("constant", value=np.array(0.0, f32), loc=("prog.py", 3))
    p = b.one("gt", s, zero, loc=("prog.py", 3))

    then = Block([Value(x.type, "x"), Value(s.type, "s")], label="then")
    tb = Builder(then)
    sin = tb.one("sin", then.args[0], loc=("prog.py", 4))
    tb.op("yield", [tb.one("mul", sin, tb.one("broadcast_to", then.args[1], shape=(3,)))])
    other = Block([Value(x.type, "x"), Value(s.type, "s")], label="else")
    eb = Builder(other)
    eb.op("yield", [eb.one("neg", other.args[0], loc=("prog.py", 6))])
    (y,) = b.op("cond", [p, x, s], regions=[then, other], result_types=[x.type], names=["y"], loc=("prog.py", 3))

    i0 = b.one("constant", value=np.array(0, np.int32))
    carried = [Value(T(int32), "i"), Value(x.type, "y"), Value(T(int32), "k")]
    cond = Block([Value(a.type, a.name) for a in carried], label="cond")
    cb = Builder(cond)
    cb.op("yield", [cb.one("lt", cond.args[0], cond.args[2])])
    body = Block([Value(a.type, a.name) for a in carried], label="body")
    bb = Builder(body)
    i, yy, _ = body.args
    one = bb.one("constant", value=np.array(1, np.int32))
    two = bb.one("constant", value=np.array(2, np.int32))
    even = bb.one("eq", bb.one("mod", i, two), bb.one("constant", value=np.array(0, np.int32)))
    half = Block([Value(yy.type, "y")], label="then")
    hb = Builder(half)
    hb.op("yield", [hb.one("mul", half.args[0], hb.one("constant", value=np.full(3, 0.5, f32)))])
    same = Block([Value(yy.type, "y")], label="else")
    Builder(same).op("yield", [same.args[0]])
    (y2,) = bb.op("cond", [even, yy], regions=[half, same], result_types=[yy.type], names=["y"], loc=("prog.py", 9))
    bb.op("yield", [bb.one("add", i, one, loc=("prog.py", 10)), y2])
    r_i, r_y = b.op("while_loop", [i0, y, k], {"carried": 2}, regions=[cond, body],
                    result_types=[T(int32), x.type], names=["i", "y"], loc=("prog.py", 8))
    b.op("return", [r_y, r_i], loc=("prog.py", 11))
    return Function("control_flow", block)


# ---- round trips ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("make", [every_attr_kind, control_flow])
@pytest.mark.parametrize("locations", [False, True])
def test_print_parse_print_is_identical(make: Any, locations: bool) -> None:
    roundtrip(make(), locations)


def test_str_is_the_text_without_locations() -> None:
    fn = control_flow()
    assert str(fn) == print_function(fn) and "#" not in str(fn)


def test_constants_come_back_bitwise() -> None:
    parsed = roundtrip(every_attr_kind())
    got = constants(parsed)
    assert len(got) == len(CONSTANTS) + 1
    for g, want in zip(got, CONSTANTS):
        assert_bitwise(g, want)


def test_float_and_dtype_attrs_parse_back_exactly() -> None:
    fn = parse(print_function(every_attr_kind()))
    ops = {op.name: op for op in fn.walk()}
    assert ops["pad"].attrs["value"] == float(np.float32(0.1))
    assert ops["pad"].attrs["paddings"] == ((1, 0), (0, 2))
    assert ops["slice"].attrs["end"] == (-1, -1)
    assert ops["iota"].attrs["dtype"] is int64 and ops["argmax"].attrs["output_type"] is int32
    assert [op.attrs["dtype"] for op in fn.walk() if op.name == "convert"] == [int64, float64]
    assert ops["print"].attrs["template"] == 'n = {} "r" = {}\n\t\\ <b>&</b> é\n'
    assert ops["matmul"].attrs == {"transpose_a": False, "transpose_b": False}


@pytest.mark.parametrize("name, k", [(n, k) for n in sorted(SAMPLES) for k in range(len(SAMPLES[n]))])
def test_every_row_sample_round_trips(name: str, k: int) -> None:
    """One op of each sample in the op-table tests, in a function of its own: each row's attrs print and parse."""
    operands, attrs = SAMPLES[name][k]
    params = [Value(type_of(a), None) for a in operands]
    block = Block(params)
    b = Builder(block)
    opdef = ir.OPS[name]
    if opdef.structured:
        types = opdef.infer_regions([p.type for p in params], REGIONS[name], attrs)
        results = b.op(opdef, params, attrs, regions=REGIONS[name], result_types=types)
    else:
        results = b.op(opdef, params, attrs)
    if not opdef.terminator:
        b.op("return", results)
    roundtrip(Function(name, block))


@given(st.sampled_from([f32, f64, np.int32, np.int64, np.bool_]).flatmap(
    lambda dt: hnp.arrays(dt, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4))))
def test_random_constants_come_back_bitwise(value: np.ndarray) -> None:
    block = Block([])
    b = Builder(block)
    b.op("return", [b.one("constant", value=value)])
    (got,) = constants(roundtrip(Function("c", block)))
    assert_bitwise(got, value)


# The float32 whose shortest decimal, read as a double, lands exactly between two float32s, so that rounding the
# double to float32 picks the wrong neighbour: the only one, by a scan of every positive float32 midpoint.
TIES_IN_FLOAT64 = np.array([0x15AE43FD], np.uint32).view(f32)


def test_float32_decimals_that_tie_in_float64_come_back_exactly() -> None:
    values = np.concatenate([TIES_IN_FLOAT64, -TIES_IN_FLOAT64])
    naive = values.astype(str).astype(f64).astype(f32)
    assert not np.array_equal(naive, values)  # the double rounding this guards against
    block = Block([])
    b = Builder(block)
    b.op("return", [b.one("constant", value=values)])
    (got,) = constants(roundtrip(Function("ties", block)))
    assert_bitwise(got, values)


# ---- names ----------------------------------------------------------------------------------------------------------
def test_names_dedupe_in_textual_order() -> None:
    x = Value(T(float32, 2), "x")
    block = Block([x])
    b = Builder(block)
    hints = ["1", None, None, "x", "x.1", "x", "0", "a b", None]
    want = ["%1", "%0", "%2", "%x.1", "%x.1.1", "%x.2", "%0.1", "%a_b", "%3"]
    for hint in hints:
        b.op("sin", [x], names=[hint])
    b.op("return", [x])
    text = print_function(Function("names", block))
    assert re.findall(r"^\s*(%\S+) =", text, re.M) == want
    assert text.startswith("func @names(%x: f32[2]) -> (f32[2]) {\n")
    assert print_function(parse(text)) == text


def test_hints_shared_across_regions_get_suffixes() -> None:
    text = print_function(control_flow())
    assert "%y = cond %2, %x, %0 : f32[3] {\n  ^then(%x.1: f32[3], %s: f32[]):\n" in text
    assert "^else(%x.2: f32[3], %s.1: f32[]):" in text
    assert "%i, %y.1 = while_loop %7, %y, %k {carried = 2} : i32[], f32[3] {\n" in text
    assert "^cond(%i.1: i32[], %y.2: f32[3], %k.1: i32[]):" in text and "^then(%y.5: f32[3]):" in text
    parsed = parse(text)
    values = parsed.params + [v for op in parsed.walk() for v in op.results]
    values += [a for op in parsed.walk() for r in op.regions for a in r.args]
    assert len({v.name for v in values}) == len(values) == 2 + 21 + 12  # params, op results, region args
    assert {"%" + v.name for v in values} == set(re.findall(r"%[\w.$]+", text))


def test_function_names_that_are_not_identifiers_are_quoted() -> None:
    fn = Function("<lambda>", Block([], [Op(ir.OPS["return"], [], [])]))
    assert print_function(fn).startswith('func @"<lambda>"() -> () {')
    assert parse(print_function(fn)).name == "<lambda>"


# ---- locations and comments -----------------------------------------------------------------------------------------
def test_locations_round_trip_as_basename_and_line() -> None:
    fn = every_attr_kind()
    text = print_function(fn, locations=True)
    assert "read %v : f32[3]  # prog.py:7\n" in text
    parsed = parse(text)
    assert [op.loc for op in parsed.walk() if op.name == "read"] == [("prog.py", 7)]
    assert all(op.loc is None for op in parsed.walk() if op.name != "read")
    original = control_flow()
    parsed = parse(print_function(original, locations=True))
    assert [op.loc for op in parsed.walk()] == [op.loc for op in original.walk()]  # basenames already
    assert print_function(parsed, locations=True).count("# prog.py:3") == 3  # constant, gt, and cond after its }


def test_other_comments_are_ignored() -> None:
    text = ("# a header comment\nfunc @f(%x: f32[]) -> (f32[]) {  # the signature\n"
            "  %y = exp %x : f32[]  # not a location\n  # a whole-line comment: 12\n  return %y\n}\n")
    fn = parse(text)
    assert [op.loc for op in fn.walk()] == [None, None]
    assert print_function(fn) == "func @f(%x: f32[]) -> (f32[]) {\n  %y = exp %x : f32[]\n  return %y\n}\n"


# ---- golden files ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("make, locations", [(every_attr_kind, False), (control_flow, True)])
def test_golden(make: Any, locations: bool) -> None:
    path = os.path.join(GOLDEN, make.__name__ + ".kir")
    text = print_function(make(), locations=locations)
    if os.environ.get("KILN_REGEN_GOLDEN"):
        os.makedirs(GOLDEN, exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
    with open(path, encoding="utf-8") as f:
        golden = f.read()
    assert text == golden, f"{path} differs; if the format changed on purpose, rerun with KILN_REGEN_GOLDEN=1"
    assert print_function(parse(golden), locations=locations) == golden


# ---- HTML -----------------------------------------------------------------------------------------------------------
def test_html_is_the_escaped_text_with_spans() -> None:
    fn = every_attr_kind()
    out = fn._repr_html_()
    assert out == function_html(fn) and out.startswith("<pre") and out.endswith("</pre>")
    assert "<b>" not in out and "&lt;b&gt;" in out
    assert '<span style="color:#d73a49">constant</span>' in out
    inner = re.sub(r"^<pre[^>]*>|</pre>$", "", out)
    assert html.unescape(re.sub(r"<[^>]+>", "", inner)) + "\n" == print_function(fn, locations=True)


# ---- random straight-line programs ----------------------------------------------------------------------------------
UNARY = ["neg", "abs", "exp", "log", "sin", "cos", "tanh", "sqrt", "logistic", "floor"]
BINARY = ["add", "sub", "mul", "div", "maximum", "minimum", "pow"]
HINTS = st.sampled_from([None, None, "x", "y", "x.1", "0", "1", "tmp", "loss"])


@st.composite
def programs(draw: Any) -> Function:
    shape = tuple(draw(st.lists(st.integers(0, 3), max_size=3)))
    t = TensorType(draw(st.sampled_from([float32, float64])), shape)
    params = [Value(t, draw(HINTS)) for _ in range(draw(st.integers(1, 3)))]
    block = Block(params)
    b = Builder(block)
    values = list(params)
    for _ in range(draw(st.integers(0, 12))):
        if draw(st.booleans()):
            name, operands = draw(st.sampled_from(UNARY)), [draw(st.sampled_from(values))]
        else:
            name = draw(st.sampled_from(BINARY))
            operands = [draw(st.sampled_from(values)), draw(st.sampled_from(values))]
        values += b.op(name, operands, names=[draw(HINTS)], loc=draw(st.none() | st.just(("f.py", 3))))
    b.op("return", draw(st.lists(st.sampled_from(values), min_size=1, max_size=3)))
    return Function(draw(st.sampled_from(["f", "g", "main"])), block)


def expected_names(hints: list[Optional[str]]) -> list[str]:
    """The naming rule, as specified: the hint if free, else hint.1, hint.2, ...; no hint: the first free 0, 1, ..."""
    used: set[str] = set()
    out, counter = [], 0
    for hint in hints:
        if hint:
            name, k = hint, 0
            while name in used:
                k += 1
                name = f"{hint}.{k}"
        else:
            while str(counter) in used:
                counter += 1
            name = str(counter)
        used.add(name)
        out.append(name)
    return out


@given(programs(), st.booleans())
def test_random_programs_round_trip(fn: Function, locations: bool) -> None:
    parsed = roundtrip(fn, locations)
    hints = [v.name for v in fn.params] + [v.name for op in fn.walk() for v in op.results]
    names = [v.name for v in parsed.params] + [v.name for op in parsed.walk() for v in op.results]
    assert names == expected_names(hints)
