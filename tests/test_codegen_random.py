"""Random programs built from the op table's rows, compiled (codegen.runtime) vs interpreted (ir.interp.run).

A program starts from one to three parameters of random dtypes and shapes (scalars, size-0 and size-1 dimensions
included) and applies random ops to values it already has: elementwise rows of every kind, broadcast_to, reshape,
transpose, slices with negative strides, reductions over random axes, argmax/argmin, concat, pad, select, convert,
matmul, gather with valid indices (computed in the program: `mod(i, size)`), scatter_add, constant tables, cond
and while_loop carrying values of any type; it returns everything it made. That mixes fused expressions,
materialized buffers, views of views and every loop-nest shape in one function. A second test builds programs
that keep thousands of rows independent, which compile chunk by chunk over the rows (codegen.tiling).

Comparing with the interpreter bit for bit needs arithmetic that does not round: compiled code contracts a*b+c
into one fma and reassociates sums, both allowed. So float inputs are small multiples of 1/4, a recording
interpreter recomputes every add, sub, mul, sum, product, matmul and scatter_add in long double, and a program in
which one of them rounded is discarded (`assume`). Rows that round by nature (div, sqrt, the vector math) make
"inexact" values: those are compared to RTOL, and only ops that cannot amplify a last-bit difference (views, neg,
abs, max/min, select, concat, pad, gather, float-to-float converts, max/min reductions) may consume them, never a
comparison, floor, sign or a cast to an integer.
"""
from __future__ import annotations

from typing import Any, Callable, Optional, Sequence

import numpy as np
from hypothesis import assume, given, note
from hypothesis import strategies as st

import ir
from codegen.runtime import compile_function
from ir.core import Block, Builder, Function, Value
from ir.interp import Interpreter
from ir.ops_reduce import MATMUL_DTYPES
from ir.types import ALL_DTYPES, NUMERIC_DTYPES, DType, TensorType, bool_, int32, int64
from ir.verify import verify
from test_codegen import assert_same

ELEMENTWISE = {name: row for name, row in ir.OPS.items() if row.kind == "elementwise"}
# Rows whose float results are rounded values the compiled code may not reproduce to the bit.
ROUNDING = {"div", "sqrt", "rsqrt", "exp", "expm1", "log", "log1p", "sin", "cos", "tanh", "logistic", "erf", "pow",
            "xlogy"}
# Rows that turn a last-bit difference of a float operand into a different value.
DISCONTINUOUS = {"floor", "ceil", "round", "sign", "floordiv", "mod", "eq", "ne", "lt", "le", "gt", "ge"}
# Rows checked for rounding (in long double) by the recording interpreter.
CHECKED = {"add", "sub", "mul", "reduce_sum", "reduce_prod", "matmul", "scatter_add"}


class Item:
    """A value of the program being built; `exact` when it is computed without rounding (so it can be compared
    bit for bit and may feed discontinuous ops)."""

    def __init__(self, value: Value, exact: bool) -> None:
        self.value = value
        self.exact = exact or not value.type.dtype.is_floating

    @property
    def type(self) -> TensorType:
        return self.value.type


class Gen:
    """Appends random ops to a builder, drawing every choice from hypothesis."""

    def __init__(self, draw: Callable[..., Any], b: Builder, params: Sequence[Value]) -> None:
        self.draw = draw
        self.b = b
        self.items = [Item(p, True) for p in params]

    # ---- helpers
    def choose(self, options: Sequence[Any]) -> Any:
        return self.draw(st.sampled_from(list(options)))

    def pick(self, ok: Callable[[Item], bool] = lambda it: True) -> Optional[Item]:
        """A value that satisfies `ok`; the newest one half of the time, so chains of ops grow deep."""
        found = [it for it in self.items if ok(it)]
        if not found:
            return None
        return found[-1] if self.draw(st.booleans()) else self.choose(found)

    def add(self, value: Value, exact: bool) -> Item:
        it = Item(value, exact)
        self.items.append(it)
        return it

    def splat(self, dtype: DType, value: Any, shape: Sequence[int]) -> Value:
        c = self.b.one("constant", value=np.asarray(value, dtype=dtype.np))
        return c if not shape else self.b.one("broadcast_to", c, shape=tuple(shape))

    def partner(self, x: Item) -> Item:
        """A second operand of x's type: another value of that type, x itself, or a constant."""
        same = [it for it in self.items if it.type == x.type]
        kind = self.choose(["same", "self", "constant"])
        if kind == "same":
            return self.choose(same)
        if kind == "self":
            return x
        dtype = x.type.dtype
        value = self.choose([True, False]) if dtype is bool_ else self.choose(
            [-1.5, -1, 0, 0.25, 2, 3] if dtype.is_floating else [0, 2, 3] if dtype.is_unsigned else [-1, 0, 2, 3])
        return Item(self.splat(dtype, value, x.type.shape), True)

    # ---- ops
    def elementwise(self) -> None:
        name = self.choose(sorted(ELEMENTWISE))
        if name == "convert":
            return self.convert()
        if name == "select":
            return self.select()
        allowed = ELEMENTWISE[name].dtypes
        x = self.pick(lambda it: it.type.dtype in allowed and (it.exact or name not in DISCONTINUOUS | ROUNDING))
        if x is None:
            return None
        b = self.b
        try:
            ELEMENTWISE[name].infer([x.type])
            operands = [x]
        except (ir.InferError, TypeError):
            y = self.partner(x)
            if not y.exact and name in DISCONTINUOUS | ROUNDING:
                y = x
            operands = [x, y]
        values = [it.value for it in operands]
        dtype = x.type.dtype
        if len(values) == 2 and dtype.is_integer and name in ("floordiv", "mod"):
            zero = b.one("eq", values[1], self.splat(dtype, 0, x.type.shape))
            values[1] = b.one("select", zero, self.splat(dtype, 3, x.type.shape), values[1])
        if len(values) == 2 and dtype.is_integer and name == "pow":
            values[1] = b.one("mod", values[1], self.splat(dtype, 4, x.type.shape))  # 0..3
        exact = all(it.exact for it in operands) and name not in ROUNDING
        self.add(b.one(name, *values), exact)

    def convert(self) -> None:
        dst = self.choose(ALL_DTYPES)
        x = self.pick(lambda it: it.exact or dst.is_floating)
        if x is None:
            return
        self.add(self.b.one("convert", x.value, dtype=dst.name), x.exact)

    def select(self) -> None:
        x = self.pick()
        c = self.pick(lambda it: it.type.dtype is bool_ and it.type.shape == x.type.shape)
        if c is None:
            shape = x.type.shape
            axis = self.draw(st.integers(0, max(len(shape) - 1, 0)))
            iota = self.b.one("iota", shape=shape, dtype="int32", axis=axis)
            c = Item(self.b.one("lt", iota, self.splat(int32, self.draw(st.integers(0, 3)), shape)), True)
        y = self.partner(x)
        self.add(self.b.one("select", c.value, x.value, y.value), x.exact and y.exact)

    def broadcast_to(self) -> None:
        x = self.pick(lambda it: it.type.rank < 4)
        if x is None:
            return
        lead = self.draw(st.lists(st.integers(0, 3), max_size=4 - x.type.rank))
        shape = tuple(lead) + tuple(self.draw(st.integers(0, 3)) if d == 1 else d for d in x.type.shape)
        self.add(self.b.one("broadcast_to", x.value, shape=shape), x.exact)

    def reshape(self) -> None:
        x = self.pick()
        size = x.type.size
        if size == 0:
            shape = self.draw(st.permutations([0] + self.draw(st.lists(st.integers(1, 3), max_size=2))))
        else:
            factors, rest = [], size
            for p in range(2, size + 1):
                while rest % p == 0:
                    factors.append(p)
                    rest //= p
            dims: list[int] = []
            for f in self.draw(st.permutations(factors)):
                if dims and self.draw(st.booleans()):
                    dims[-1] *= f
                else:
                    dims.append(f)
            shape = dims + [1] * self.draw(st.integers(0, 1))
            shape = self.draw(st.permutations(shape))
        self.add(self.b.one("reshape", x.value, shape=tuple(shape)), x.exact)

    def transpose(self) -> None:
        x = self.pick()
        perm = self.draw(st.permutations(range(x.type.rank)))
        self.add(self.b.one("transpose", x.value, perm=tuple(perm)), x.exact)

    def slice(self) -> None:
        x = self.pick(lambda it: it.type.rank > 0)
        if x is None:
            return
        begin, end, strides = [], [], []
        for d in x.type.shape:
            s = self.draw(st.sampled_from([1, 1, 2, 3, -1, -2]))
            if s < 0 and d > 0:
                b0 = self.draw(st.integers(0, d - 1))
                e0 = self.draw(st.integers(-1, b0))
            else:
                s = abs(s)
                b0 = self.draw(st.integers(0, d))
                e0 = self.draw(st.integers(b0, d))
            begin.append(b0), end.append(e0), strides.append(s)
        self.add(self.b.one("slice", x.value, begin=tuple(begin), end=tuple(end), strides=tuple(strides)), x.exact)

    def reduce(self) -> None:
        name = self.choose(["reduce_sum", "reduce_prod", "reduce_max", "reduce_min"])
        exact_needed = name in ("reduce_sum", "reduce_prod")
        x = self.pick(lambda it: it.type.dtype in NUMERIC_DTYPES and (it.exact or not exact_needed))
        if x is None:
            return
        axes = sorted(self.draw(st.sets(st.integers(0, max(x.type.rank - 1, 0)), max_size=x.type.rank)))
        axes = [a for a in axes if a < x.type.rank]
        self.add(self.b.one(name, x.value, axes=tuple(axes)), x.exact)

    def argmax(self) -> None:
        x = self.pick(lambda it: it.exact and it.type.dtype in NUMERIC_DTYPES and any(it.type.shape))
        if x is None:
            return
        axis = self.choose([k for k, d in enumerate(x.type.shape) if d])
        self.add(self.b.one(self.choose(["argmax", "argmin"]), x.value, axis=axis,
                            output_type=self.choose(["int32", "int64"])), True)

    def concat(self) -> None:
        x = self.pick(lambda it: it.type.rank > 0)
        if x is None:
            return
        axis = self.draw(st.integers(0, x.type.rank - 1))
        parts = [x]
        for _ in range(self.draw(st.integers(0, 2))):
            parts.append(self.pick(lambda it: it.type.dtype is x.type.dtype and it.type.rank == x.type.rank and all(
                a == c for k, (a, c) in enumerate(zip(it.type.shape, x.type.shape)) if k != axis)))
        self.add(self.b.one("concat", *[p.value for p in parts], axis=axis), all(p.exact for p in parts))

    def pad(self) -> None:
        x = self.pick()
        paddings = tuple((self.draw(st.integers(0, 2)), self.draw(st.integers(0, 2))) for _ in x.type.shape)
        value = True if x.type.dtype is bool_ else self.choose([0, 7 if x.type.dtype.is_unsigned else -1,
                                                                2.5 if x.type.dtype.is_floating else 7])
        self.add(self.b.one("pad", x.value, paddings=paddings, value=value), x.exact)

    def matmul(self) -> None:
        x = self.pick(lambda it: it.exact and it.type.rank >= 2 and it.type.dtype in MATMUL_DTYPES)
        if x is None:
            return
        ta, tb = self.draw(st.booleans()), self.draw(st.booleans())
        rank = x.type.rank
        swap = tuple(range(rank - 2)) + (rank - 1, rank - 2)
        # x @ x^T, written with whichever transposes the attrs ask for
        a = self.b.one("transpose", x.value, perm=swap) if ta else x.value
        other = x.value if tb else self.b.one("transpose", x.value, perm=swap)
        self.add(self.b.one("matmul", a, other, transpose_a=ta, transpose_b=tb), True)

    def gather(self) -> None:
        params = self.pick(lambda it: any(it.type.shape))
        if params is None:
            return
        axis = self.choose([k for k, d in enumerate(params.type.shape) if d])
        size = params.type.shape[axis]
        idx = self.pick(lambda it: it.type.dtype in (int32, int64) and it.type.rank <= 2)
        if idx is None:
            idx_value = self.b.one("iota", shape=(self.draw(st.integers(0, 4)),), dtype="int32", axis=0)
        else:
            idx_value = idx.value
        t = idx_value.type
        valid = self.b.one("mod", idx_value, self.splat(t.dtype, size, t.shape))  # in [0, size)
        self.add(self.b.one("gather", params.value, valid, axis=axis), params.exact)

    def same_type_op(self, b: Builder, x: Value) -> Value:
        """One exact op that keeps x's type (for the bodies of cond and while_loop)."""
        dtype = x.type.dtype
        kind = self.choose(["neg", "twice", "self", "reverse"] if dtype is not bool_ else ["not", "self", "reverse"])
        if kind == "self" or (kind == "reverse" and not x.type.rank):
            return x
        if kind == "reverse":
            shape = x.type.shape
            return b.one("slice", x, begin=tuple(d - 1 if d else 0 for d in shape),
                         end=tuple(-1 if d else 0 for d in shape), strides=tuple(-1 if d else 1 for d in shape))
        if kind == "twice":
            return b.one("add", x, x)
        return b.one("logical_not" if dtype is bool_ else "invert" if dtype.is_unsigned else "neg", x)

    def predicate(self) -> Value:
        """A bool scalar computed from some value (exact, so both sides take the same branch)."""
        x = self.pick(lambda it: it.exact and it.type.dtype in NUMERIC_DTYPES)
        if x is None:
            return self.b.one("constant", value=np.asarray(self.draw(st.booleans())))
        total = self.b.one("reduce_max" if x.type.dtype.is_floating else "reduce_sum", x.value,
                           axes=tuple(range(x.type.rank)))
        return self.b.one("gt", total, self.splat(x.type.dtype, 0, ()))

    def cond(self) -> None:
        pred = self.predicate()
        captured = [self.pick(), self.pick()]
        types = [c.type for c in captured]
        branches = []
        for label in ("then", "else"):
            args = [Value(t, f"{label}{k}") for k, t in enumerate(types)]
            rb = Builder(Block(args, label=label))
            rb.op("yield", [self.same_type_op(rb, args[0])])
            branches.append(rb.block)
        (out,) = self.b.op("cond", [pred] + [c.value for c in captured], regions=branches, result_types=[types[0]])
        self.add(out, captured[0].exact)

    def while_loop(self) -> None:
        """`for i in range(n): x = op(x)` with n from 0 to 3, x of any type; a captured value rides along."""
        x, extra = self.pick(), self.pick()
        types = [TensorType(int32, ()), x.type, extra.type]
        trips = self.draw(st.integers(0, 3))

        def region(label: str, body: Callable[[Builder, list[Value]], list[Value]]) -> Block:
            args = [Value(t, f"{label}{k}") for k, t in enumerate(types)]
            rb = Builder(Block(args, label=label))
            rb.op("yield", body(rb, args))
            return rb.block
        test = region("cond", lambda rb, a: [rb.one("lt", a[0], rb.one("constant", value=np.asarray(trips, np.int32)))])
        body = region("body", lambda rb, a: [rb.one("add", a[0], rb.one("constant", value=np.asarray(1, np.int32))),
                                             self.same_type_op(rb, a[1])])
        start = self.b.one("constant", value=np.asarray(0, np.int32))
        i, out = self.b.op("while_loop", [start, x.value, extra.value], {"carried": 2}, regions=[test, body],
                           result_types=types[:2])
        self.add(i, True)
        self.add(out, x.exact)

    def scatter_add(self) -> None:
        """The transpose of a gather: sums (or, for bools, ors) updates into `size` slots."""
        x = self.pick(lambda it: it.type.rank > 0 and (it.exact or not it.type.dtype.is_floating))
        if x is None:
            return
        axis = self.draw(st.integers(0, x.type.rank - 1))
        size = self.draw(st.integers(1, 4))
        n = x.type.shape[axis]
        idx = self.b.one("mod", self.b.one("iota", shape=(n,), dtype="int64", axis=0), self.splat(int64, size, (n,)))
        if self.draw(st.booleans()):  # a permutation of the slots, repeated
            idx = self.b.one("mod", self.b.one("mul", idx, self.splat(int64, 7, (n,))), self.splat(int64, size, (n,)))
        self.add(self.b.one("scatter_add", x.value, idx, axis=axis, size=size), x.exact)

    def constant(self) -> None:
        """A table (not a splat) of any dtype and shape."""
        dtype = self.choose(ALL_DTYPES)
        shape = tuple(self.draw(st.lists(st.integers(1, 4), max_size=3)))
        value = _input(dtype, shape, np.random.default_rng(self.draw(st.integers(0, 1000))))
        self.add(self.b.one("constant", value=np.asarray(value, dtype.np)), True)

    OPS = ("elementwise",) * 8 + ("scatter_add", "constant", "cond", "while_loop", "broadcast_to", "reshape",
                                  "transpose", "slice", "reduce", "argmax", "concat", "pad", "select", "convert",
                                  "matmul", "gather")


class RecordingInterpreter(Interpreter):
    """The reference interpreter, noting whether any float add, sub, mul, sum, product or matmul rounded (its
    result differs from the same kernel run in long double)."""

    def __init__(self) -> None:
        super().__init__()
        self.rounded: list[str] = []

    def run_op(self, op: Any, operands: Sequence[Any]) -> tuple[Any, ...]:
        outs = super().run_op(op, operands)
        if op.opdef.name in CHECKED and op.results[0].type.dtype.is_floating:
            wide = op.opdef.eager(*[np.asarray(o, np.longdouble) if np.asarray(o).dtype.kind == "f" else o
                                    for o in operands], **op.attrs)
            with np.errstate(all="ignore"):
                if not np.array_equal(np.asarray(outs[0], np.longdouble), wide, equal_nan=True):
                    self.rounded.append(op.opdef.name)
        return outs


DIMS = [0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 8, 16, 17]  # size 0 now and then; 8, 16, 17: whole vectors and tails


def _input(dtype: DType, shape: Sequence[int], rng: np.random.Generator) -> np.ndarray:
    if dtype is bool_:
        return rng.random(shape) < 0.5
    if dtype.is_floating:
        return (rng.integers(-8, 9, shape) / 4).astype(dtype.np)  # multiples of 1/4: products stay exact
    return rng.integers(0 if dtype.is_unsigned else -20, 21, shape).astype(dtype.np)


@st.composite
def programs(draw: Callable[..., Any]) -> tuple[Function, list[np.ndarray], list[bool]]:
    shapes = st.lists(st.sampled_from(DIMS), max_size=4).map(tuple)
    types = draw(st.lists(st.tuples(st.sampled_from(ALL_DTYPES), shapes), min_size=1, max_size=3))
    params = [Value(TensorType(d, s), f"x{i}") for i, (d, s) in enumerate(types)]
    b = Builder(Block(params))
    gen = Gen(draw, b, params)
    for _ in range(draw(st.integers(1, 10))):
        getattr(gen, draw(st.sampled_from(Gen.OPS)))()
    made = gen.items[len(params):] or gen.items
    b.op("return", [it.value for it in made])
    fn = Function("random", b.block)
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    return fn, [_input(d, s, rng) for d, s in types], [it.exact for it in made]


@given(programs())
def test_random_program_compiled_matches_interpreter(program: tuple[Function, list[np.ndarray], list[bool]]) -> None:
    fn, arrays, exact = program
    note(str(fn))
    verify(fn)
    interp = RecordingInterpreter()
    want = interp.run(fn, [a.copy() for a in arrays])
    assume(not interp.rounded)
    got = compile_function(fn)(arrays)
    assert len(got) == len(want)
    for k, (g, w, e) in enumerate(zip(got, want, exact)):
        assert_same(g, w, exact=e, inputs=arrays, where=f"result {k} of\n{fn}")


# ---- row-independent programs on many rows: compiled chunk by chunk (codegen.tiling), split across threads ----
class RowGen(Gen):
    """Ops that keep every value's leading axis the N rows (so the function can be tiled over rows)."""

    def rows(self, ok: Callable[[Item], bool] = lambda it: True) -> Optional[Item]:
        return self.pick(lambda it: it.type.rank == 2 and it.type.shape[0] == self.n and ok(it))

    def row_elementwise(self) -> None:
        before = len(self.items)
        self.elementwise()
        made = self.items[before:]
        if made and (made[-1].type.rank != 2 or made[-1].type.shape[0] != self.n):
            self.items.pop()  # the elementwise row picked a non-row value (a weight or a constant)

    def row_vector(self) -> None:
        """A constant row broadcast down the rows."""
        x = self.rows()
        value = _input(x.type.dtype, x.type.shape[1:], np.random.default_rng(self.draw(st.integers(0, 99))))
        c = self.b.one("constant", value=np.asarray(value, x.type.dtype.np))
        self.add(self.b.one("broadcast_to", c, shape=x.type.shape), True)

    def row_reduce(self) -> None:
        name = self.choose(["reduce_sum", "reduce_max", "reduce_min", "argmax"])
        x = self.rows(lambda it: it.type.dtype in NUMERIC_DTYPES and it.type.shape[1] > 0 and
                      (it.exact or name in ("reduce_max", "reduce_min")))
        if x is None:
            return
        b = self.b
        if name == "argmax":
            r = b.one("convert", b.one("argmax", x.value, axis=1, output_type="int64"), dtype=x.type.dtype.name)
        else:
            r = b.one(name, x.value, axes=(1,))
        self.add(b.one("broadcast_to", b.one("reshape", r, shape=(self.n, 1)), shape=x.type.shape), x.exact)

    def row_matmul(self) -> None:
        x = self.rows(lambda it: it.exact and it.type.dtype in MATMUL_DTYPES)
        if x is None:
            return
        k = x.type.shape[1]
        width = self.draw(st.integers(1, 20))
        w = _input(x.type.dtype, (width, k) if self.draw(st.booleans()) else (k, width),
                   np.random.default_rng(self.draw(st.integers(0, 99))))
        wv = self.b.one("constant", value=np.asarray(w, x.type.dtype.np))
        tb = w.shape[0] == width and (w.shape[1] != width or self.draw(st.booleans()))
        self.add(self.b.one("matmul", x.value, wv, transpose_a=False, transpose_b=tb), True)

    def row_slice(self) -> None:
        x = self.rows(lambda it: it.type.shape[1] > 0)
        d = x.type.shape[1]
        s = self.choose([1, 2, -1, -3])
        begin = self.draw(st.integers(0, d - 1)) if s < 0 else self.draw(st.integers(0, d))
        end = self.draw(st.integers(-1, begin)) if s < 0 else self.draw(st.integers(begin, d))
        self.add(self.b.one("slice", x.value, begin=(0, begin), end=(self.n, end), strides=(1, s)), x.exact)

    def row_concat(self) -> None:
        x = self.rows()
        y = self.rows(lambda it: it.type.dtype is x.type.dtype)
        self.add(self.b.one("concat", x.value, y.value, axis=1), x.exact and y.exact)

    def row_pad(self) -> None:
        x = self.rows()
        paddings = ((0, 0), (self.draw(st.integers(0, 3)), self.draw(st.integers(0, 3))))
        self.add(self.b.one("pad", x.value, paddings=paddings, value=True if x.type.dtype is bool_ else 1), x.exact)

    def row_gather(self) -> None:
        x = self.rows(lambda it: it.type.shape[1] > 0)
        if x is None:
            return
        d = x.type.shape[1]
        idx = np.random.default_rng(self.draw(st.integers(0, 99))).integers(0, d, self.draw(st.integers(1, 9)))
        iv = self.b.one("constant", value=idx.astype(self.choose([np.int32, np.int64])))
        self.add(self.b.one("gather", x.value, iv, axis=1), x.exact)

    OPS = ("row_elementwise",) * 6 + ("row_vector", "row_reduce", "row_reduce", "row_matmul", "row_slice",
                                      "row_concat", "row_pad", "row_gather")


@st.composite
def row_programs(draw: Callable[..., Any]) -> tuple[Function, list[np.ndarray], list[bool]]:
    n = draw(st.sampled_from([4096, 6144, 8190]))
    dtype = draw(st.sampled_from(ALL_DTYPES))
    width = draw(st.sampled_from([8, 16, 23]))
    x = Value(TensorType(dtype, (n, width)), "x")
    b = Builder(Block([x]))
    gen = RowGen(draw, b, [x])
    gen.n = n  # type: ignore[attr-defined]
    for _ in range(draw(st.integers(2, 7))):
        getattr(gen, draw(st.sampled_from(RowGen.OPS)))()
    made = [it for it in gen.items[1:] if it.type.rank == 2 and it.type.shape[0] == n] or gen.items[:1]
    b.op("return", [it.value for it in made])
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    return Function("rows", b.block), [_input(dtype, (n, width), rng)], [it.exact for it in made]


@given(row_programs())
def test_random_row_program_compiled_in_chunks_matches_interpreter(
        program: tuple[Function, list[np.ndarray], list[bool]]) -> None:
    fn, arrays, exact = program
    note(str(fn))
    verify(fn)
    interp = RecordingInterpreter()
    want = interp.run(fn, [a.copy() for a in arrays])
    assume(not interp.rounded)
    cf = compile_function(fn)
    got = cf(arrays)
    for k, (g, w, e) in enumerate(zip(got, want, exact)):
        assert_same(g, w, exact=e, where=f"result {k} of\n{fn}")
    note(f"chunks: {cf.lowered.chunks}")
