"""Random chains of integer and boolean ops for the generated oracle programs (`generator.py`).

int32/int64 arithmetic with small values (bounded far from overflow), floor division and modulo with negative
operands and divisors (never zero), true division of integers (float64 in TensorFlow), comparisons, boolean logic,
`where`, integer reductions and casts. Results compare exactly, except where a true division makes floats: TF's
graph optimizer rewrites `x / c` as `x * (1 / c)`, one ulp off the correctly rounded quotient.
"""
from __future__ import annotations

import math
import random
from typing import Optional

from tests.oracle.gen_chain import Chain, ChainBuilder, Var, broadcast, input_shapes, literal

ICAP = 10 ** 6
INT = ("int32", "int64")


def ivalue(rng: random.Random) -> int:
    return rng.randint(-9, 9)


class IntBuilder(ChainBuilder):
    """Grows one chain of integer ops; shape ops are the float builder's (they are dtype-blind)."""

    def __init__(self, rng: random.Random, n_inputs: int, dtype: str = "int32") -> None:
        self.rng = rng
        self.chain = Chain()
        for i, shape in enumerate(input_shapes(rng, n_inputs)):
            v = Var(f"x{i}", shape, dtype, 9)
            self.chain.inputs.append((v, literal(rng, shape, ivalue)))
            self.chain.vars.append(v)

    def _int(self, recent: bool = True, like: Optional[Var] = None) -> Optional[Var]:
        def ok(v: Var) -> bool:
            if v.dtype not in INT:
                return False
            return like is None or (v.dtype == like.dtype and _bcast(like, v))
        return self._pick(ok, recent)

    def _divisor(self, a: Var) -> tuple[str, float, tuple[int, ...]]:
        """A divisor for `a` that is never zero (a literal, negatives included, or +-(|b| + 1) of a tensor b),
        its bound and the shape of `a` broadcast with it."""
        r = self.rng.random()
        if r < 0.4:
            d = self.rng.choice([-7, -4, -3, -2, 2, 3, 5])
            return str(d), abs(d), a.shape
        b = self._int(recent=False, like=a)
        sign = "-" if r < 0.7 else ""
        return f"{sign}(tf.abs({b.name}) + 1)", b.bound + 1, _shape(a, b)

    def arith(self) -> bool:
        a = self._int()
        if a is None:
            return False
        kind = self.rng.randrange(9)
        if kind < 5:
            op = self.rng.choice(["{a} + {b}", "{a} - {b}", "{a} * {b}", "tf.maximum({a}, {b})",
                                  "tf.minimum({a}, {b})", "{a} + 3", "2 - {a}", "{a} * -2"])
            b = self._int(recent=False, like=a) if "{b}" in op else a
            bound = a.bound * b.bound if "*" in op else a.bound + b.bound + 3
            if bound > ICAP:
                return False
            self._new(op.format(a=a.name, b=b.name), _shape(a, b), a.dtype, bound)
        elif kind < 8:
            op = self.rng.choice(["{a} // {d}", "{a} % {d}", "tf.math.floordiv({a}, {d})",
                                  "tf.math.floormod({a}, {d})"])
            d, dbound, shape = self._divisor(a)
            self._new(op.format(a=a.name, d=d), shape, a.dtype, dbound if "%" in op or "mod" in op else a.bound)
        else:
            op = self.rng.choice(["tf.abs({a})", "-{a}", "tf.square({a})", "tf.sign({a})"])
            bound = a.bound ** 2 if "square" in op else a.bound
            if bound > ICAP:
                return False
            self._new(op.format(a=a.name), a.shape, a.dtype, bound)
        return True

    def truediv(self) -> bool:
        a = self._int()
        if a is None:
            return False
        d, _, shape = self._divisor(a)
        self._new(f"{a.name} / {d}", shape, "float64", a.bound)
        self.chain.transc = True    # a float result: compared with the `arith` tolerance, not exactly
        return True

    def compare(self) -> bool:
        a = self._int()
        if a is None:
            return False
        if self.rng.random() < 0.6:
            b = self._int(recent=False, like=a)
            op = self.rng.choice(["{a} > {b}", "{a} <= {b}", "tf.equal({a}, {b})", "tf.not_equal({a}, {b})",
                                  "tf.less({a}, {b})", "tf.greater_equal({a}, {b})"])
            self._new(op.format(a=a.name, b=b.name), _shape(a, b), "bool", 1)
        else:
            op = self.rng.choice(["{a} > 0", "{a} < -2", "{a} >= 3", "tf.equal({a} % 2, 0)"])
            self._new(op.format(a=a.name), a.shape, "bool", 1)
        return True

    def logic(self) -> bool:
        c = self._pick(lambda v: v.dtype == "bool")
        if c is None:
            return self.compare()
        kind = self.rng.randrange(5)
        if kind == 0:
            d = self._pick(lambda v: v.dtype == "bool" and _bcast(c, v), recent=False)
            op = self.rng.choice(["tf.logical_and", "tf.logical_or", "tf.math.logical_xor"])
            self._new(f"{op}({c.name}, {d.name})", _shape(c, d), "bool", 1)
        elif kind == 1:
            self._new(f"tf.logical_not({c.name})", c.shape, "bool", 1)
        elif kind == 2:
            a = self._pick(lambda v: v.dtype in INT and _bcast(c, v), recent=False)
            b = a and self._pick(lambda v: v.dtype == a.dtype and broadcast_all(c, a, v) is not None, recent=False)
            if a is None or b is None:
                return False
            self._new(f"tf.where({c.name}, {a.name}, {b.name})", broadcast_all(c, a, b), a.dtype,
                      max(a.bound, b.bound))
        elif kind == 3:
            dt = self.rng.choice(INT)
            self._new(f"tf.cast({c.name}, tf.{dt})", c.shape, dt, 1)
        else:
            if not c.shape:
                return False
            fn = self.rng.choice(["tf.reduce_any", "tf.reduce_all"])
            ax = self.rng.randrange(-len(c.shape), len(c.shape))
            self._new(f"{fn}({c.name}, axis={ax})", tuple(d for i, d in enumerate(c.shape)
                                                         if i != ax % len(c.shape)), "bool", 1)
        return True

    def ireduce(self) -> bool:
        a = self._pick(lambda v: v.dtype in INT and len(v.shape) >= 1)
        if a is None:
            return False
        r = len(a.shape)
        ax = self.rng.randrange(-r, r)
        rest = tuple(d for i, d in enumerate(a.shape) if i != ax % r)
        n = a.shape[ax]
        # No argmax/argmin: small integers tie often, and TF leaves the index of a tie unspecified (a traced
        # argmin of [1, 1, 1] gave 1 where eager gives 0); the hand-written reductions module pins eager ties.
        fn = self.rng.choice(["tf.reduce_sum", "tf.reduce_max", "tf.reduce_min", "tf.reduce_prod"])
        bound = a.bound ** n if fn == "tf.reduce_prod" else a.bound * n
        if bound > ICAP:
            return False
        if self.rng.random() < 0.3:
            keep = tuple(1 if i == ax % r else d for i, d in enumerate(a.shape))
            self._new(f"{fn}({a.name}, axis={ax}, keepdims=True)", keep, a.dtype, bound)
        elif self.rng.random() < 0.3:
            self._new(f"{fn}({a.name})", (), a.dtype, a.bound * math.prod(a.shape) if fn == "tf.reduce_sum"
                      else bound if fn != "tf.reduce_prod" else ICAP + 1)
            if self.chain.vars[-1].bound > ICAP:
                self.chain.vars.pop()
                self.chain.stmts.pop()
                return False
        else:
            self._new(f"{fn}({a.name}, axis={ax})", rest, a.dtype, bound)
        return True

    def icast(self) -> bool:
        a = self._int()
        if a is None:
            return False
        other = self.rng.choice(["int64" if a.dtype == "int32" else "int32", "float32", "float64"])
        self._new(f"tf.cast({a.name}, tf.{other})", a.shape, other, a.bound)
        if other.startswith("float"):
            self._new(f"tf.cast({self.chain.vars[-1].name} * 2.0, tf.{a.dtype})", a.shape, a.dtype, a.bound * 2)
        return True

    def step(self) -> None:
        kinds = [(self.arith, 5), (self.compare, 1.2), (self.logic, 1.5), (self.ireduce, 1.2), (self.shape_op, 1),
                 (self.icast, 0.5), (self.truediv, 0.3)]
        for _ in range(20):
            fn = self.rng.choices([k for k, _ in kinds], [w for _, w in kinds])[0]
            if fn():
                return


def _bcast(a: Var, b: Var) -> bool:
    return broadcast(a.shape, b.shape) is not None


def _shape(a: Var, b: Var) -> tuple[int, ...]:
    return broadcast(a.shape, b.shape)


def broadcast_all(*vs: Var) -> Optional[tuple[int, ...]]:
    shape: Optional[tuple[int, ...]] = ()
    for v in vs:
        shape = None if shape is None else broadcast(shape, v.shape)
    return shape
