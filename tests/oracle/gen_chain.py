"""Random straight-line chains of float ops, the material of the generated oracle programs (`generator.py`).

A chain is a list of statements `tN = <op>(earlier names)`. Every name carries its static shape, its dtype and a
bound on its magnitude, so that each op is applied only where TensorFlow accepts it (broadcastable shapes, matching
dtypes, matmul's inner dimensions) and float32 stays far from overflow and from the log of a negative number. The
chain also notes whether it used a transcendental function (tolerance class `transc` rather than `arith`).

Everything is drawn from the `random.Random` passed in, so a seed gives the same source text on every run.
"""
from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass, field
from typing import Callable, Optional

CAP = 40.0                      # no value of a chain exceeds this in magnitude
SHAPES = [(), (3,), (4,), (2, 3), (3, 2), (2, 2), (2, 1, 3)]


@dataclass(frozen=True)
class Var:
    name: str
    shape: tuple[int, ...]
    dtype: str                  # "float32" or "float64"
    bound: float


@dataclass
class Chain:
    inputs: list[tuple[Var, str]] = field(default_factory=list)    # (name, the literal it is bound to)
    stmts: list[str] = field(default_factory=list)
    vars: list[Var] = field(default_factory=list)
    transc: bool = False

    def outputs(self, k: int) -> list[Var]:
        """The last k computed names that no later statement reads (never a bare input, always the last one)."""
        computed = self.vars[len(self.inputs):]
        if not computed:
            return [v for v, _ in self.inputs[:1]]
        read = [set(re.findall(r"\b[xt]\d+\b", s.split(" = ", 1)[1])) for s in self.stmts]
        leaves = [v for j, v in enumerate(computed) if not any(v.name in r for r in read[j + 1:])]
        return leaves[-k:]


def broadcast(a: tuple[int, ...], b: tuple[int, ...]) -> Optional[tuple[int, ...]]:
    out = []
    for i in range(1, max(len(a), len(b)) + 1):
        x = a[-i] if i <= len(a) else 1
        y = b[-i] if i <= len(b) else 1
        if x != y and 1 not in (x, y):
            return None
        out.append(max(x, y))
    return tuple(reversed(out))


def value(rng: random.Random, lo: float = 0.1, hi: float = 2.0) -> float:
    """A float with two decimals, away from 0 and from integers and halves (no ties for floor/round/abs)."""
    while True:
        v = round(rng.uniform(lo, hi), 2)
        if round(v * 100) % 50:
            return v if rng.random() < 0.5 else -v


def literal(rng: random.Random, shape: tuple[int, ...], make: Callable[[random.Random], object]) -> str:
    if not shape:
        return repr(make(rng))
    return "[" + ", ".join(literal(rng, shape[1:], make) for _ in range(shape[0])) + "]"


def input_shapes(rng: random.Random, n: int) -> list[tuple[int, ...]]:
    """n shapes that all broadcast to one base shape (the first is the base itself)."""
    base = rng.choice(SHAPES)
    shapes = [base]
    for _ in range(n - 1):
        r = rng.random()
        if r < 0.5 or not base:
            shapes.append(base)
        elif r < 0.7:
            shapes.append(())
        elif r < 0.85:
            shapes.append(base[1:])
        else:
            shapes.append(tuple(1 if rng.random() < 0.5 else d for d in base))
    return shapes


# ---- the op tables: (template, result bound from operand bound(s), largest operand bound allowed) ---------------
ARITH_UNARY = [
    ("tf.abs({a})", lambda b: b, CAP),
    ("-{a}", lambda b: b, CAP),
    ("tf.square({a})", lambda b: b * b, 6.0),
    ("tf.nn.relu({a})", lambda b: b, CAP),
    ("{a} * 0.5", lambda b: b * 0.5, CAP),
    ("{a} * -1.5", lambda b: b * 1.5, CAP / 1.5),
    ("{a} + 0.75", lambda b: b + 0.75, CAP - 1),
    ("1.0 - {a}", lambda b: b + 1.0, CAP - 1),
    ("tf.clip_by_value({a}, -1.0, 1.5)", lambda b: 1.5, CAP),
    ("tf.math.reciprocal(tf.abs({a}) + 1.0)", lambda b: 1.0, CAP),
]
TRANSC_UNARY = [
    ("tf.tanh({a})", lambda b: 1.0, CAP),
    ("tf.sigmoid({a})", lambda b: 1.0, CAP),
    ("tf.sin({a})", lambda b: 1.0, CAP),
    ("tf.cos({a})", lambda b: 1.0, CAP),
    ("tf.exp({a})", lambda b: math.exp(b), 3.0),
    ("tf.math.log1p(tf.abs({a}))", lambda b: math.log1p(b), CAP),
    ("tf.sqrt(tf.abs({a}) + 0.5)", lambda b: math.sqrt(b + 0.5), CAP),
    ("tf.math.softplus({a})", lambda b: b + 1.0, CAP - 1),
    ("tf.math.log(tf.abs({a}) + 1.0)", lambda b: math.log(b + 1.0), CAP),
    ("tf.math.erf({a})", lambda b: 1.0, CAP),
    ("tf.nn.elu({a})", lambda b: b, CAP),
    ("tf.math.rsqrt(tf.square({a}) + 1.0)", lambda b: 1.0, 1e3),
]
BINARY = [
    ("{a} + {b}", lambda x, y: x + y),
    ("{a} - {b}", lambda x, y: x + y),
    ("{a} * {b}", lambda x, y: x * y),
    ("tf.maximum({a}, {b})", max),
    ("tf.minimum({a}, {b})", max),
    ("{a} / (tf.abs({b}) + 1.0)", lambda x, y: x),
    ("tf.math.squared_difference({a}, {b})", lambda x, y: (x + y) ** 2),
    ("tf.where({a} > {b}, {a}, {b} * 0.5)", max),
]
REDUCE = [
    ("tf.reduce_sum", lambda b, n: b * n, False),
    ("tf.reduce_mean", lambda b, n: b, False),
    ("tf.reduce_max", lambda b, n: b, False),
    ("tf.reduce_min", lambda b, n: b, False),
    ("tf.reduce_prod", lambda b, n: b ** n, False),
    ("tf.reduce_logsumexp", lambda b, n: b + math.log(n), True),
]
# Ops without a gradient in TensorFlow (None from a tape), applied to inputs only: their values hold no ties.
NONDIFF = ["tf.floor({a})", "tf.round({a})", "tf.math.ceil({a})", "tf.cast(tf.cast({a} * 4.0, tf.int32), {dt})"]


class ChainBuilder:
    """Grows one chain; `step` adds one statement of a randomly chosen kind."""

    def __init__(self, rng: random.Random, n_inputs: int, float64: bool = False, nondiff: bool = False) -> None:
        self.rng = rng
        self.chain = Chain()
        self.allow_nondiff = nondiff
        dtype = "float64" if float64 else "float32"
        for i, shape in enumerate(input_shapes(rng, n_inputs)):
            v = Var(f"x{i}", shape, dtype, 2.0)
            self.chain.inputs.append((v, literal(rng, shape, value)))
            self.chain.vars.append(v)

    # -- helpers
    def _new(self, src: str, shape: tuple[int, ...], dtype: str, bound: float) -> Var:
        v = Var(f"t{len(self.chain.vars)}", shape, dtype, bound)
        self.chain.stmts.append(f"{v.name} = {src}")
        self.chain.vars.append(v)
        return v

    def _pick(self, pred: Callable[[Var], bool] = lambda v: True, recent: bool = True) -> Optional[Var]:
        cands = [v for v in self.chain.vars if pred(v)]
        if not cands:
            return None
        if recent and self.rng.random() < 0.6:
            return cands[-1]
        return self.rng.choice(cands)

    @staticmethod
    def _dt(dtype: str) -> str:
        return f"tf.{dtype}"

    # -- the kinds of statement
    def unary(self) -> bool:
        tmpl, bound, limit = self.rng.choice(ARITH_UNARY + TRANSC_UNARY)
        a = self._pick(lambda v: v.bound <= limit)
        if a is None:
            return False
        self._new(tmpl.format(a=a.name), a.shape, a.dtype, bound(a.bound))
        self.chain.transc |= (tmpl, bound, limit) in TRANSC_UNARY
        return True

    def binary(self) -> bool:
        tmpl, bound = self.rng.choice(BINARY)
        a = self._pick()
        b = self._pick(lambda v: v.dtype == a.dtype and broadcast(a.shape, v.shape) is not None and
                       (v is not a or self.rng.random() < 0.1), recent=False)
        if b is None or bound(a.bound, b.bound) > CAP:
            return False
        self._new(tmpl.format(a=a.name, b=b.name), broadcast(a.shape, b.shape), a.dtype, bound(a.bound, b.bound))
        return True

    def reduce(self) -> bool:
        fn, bound, transc = self.rng.choice(REDUCE)
        a = self._pick(lambda v: len(v.shape) >= 1)
        if a is None:
            return False
        r = len(a.shape)
        choice = self.rng.random()
        if choice < 0.25:
            axes, axis_src = list(range(r)), ""
        elif choice < 0.8 or r < 2:
            ax = self.rng.randrange(-r, r)
            axes, axis_src = [ax % r], f", axis={ax}"
        else:
            pair = sorted(self.rng.sample(range(r), 2))
            axes, axis_src = pair, f", axis={pair}"
        keep = self.rng.random() < 0.35
        n = math.prod(a.shape[i] for i in axes)
        if bound(a.bound, n) > CAP:
            return False
        shape = tuple(1 if i in axes else d for i, d in enumerate(a.shape)) if keep else \
            tuple(d for i, d in enumerate(a.shape) if i not in axes)
        self._new(f"{fn}({a.name}{axis_src}{', keepdims=True' if keep else ''})", shape, a.dtype, bound(a.bound, n))
        self.chain.transc |= transc
        return True

    def matmul(self) -> bool:
        a = self._pick(lambda v: len(v.shape) == 2)
        if a is None:
            return False
        m, k = a.shape
        b = self._pick(lambda v: v.dtype == a.dtype and len(v.shape) == 2 and v.shape[0] == k, recent=False)
        if b is not None and a.bound * b.bound * k <= CAP:
            op = self.rng.choice(["tf.matmul({a}, {b})", "{a} @ {b}"])
            self._new(op.format(a=a.name, b=b.name), (m, b.shape[1]), a.dtype, a.bound * b.bound * k)
            return True
        b = self._pick(lambda v: v.dtype == a.dtype and v.shape == a.shape, recent=False)
        if a.bound * b.bound * k > CAP:
            return False
        self._new(f"tf.matmul({a.name}, {b.name}, transpose_b=True)", (m, m), a.dtype, a.bound * b.bound * k)
        return True

    def shape_op(self) -> bool:
        a = self._pick(lambda v: len(v.shape) >= 1)
        if a is None:
            return False
        r, size, kind = len(a.shape), math.prod(a.shape), self.rng.randrange(7)
        if kind == 0:
            targets = [s for s in [(size,), (1, size), (size, 1)] + ([(2, size // 2)] if size % 2 == 0 else [])
                       if s != a.shape]
            target = self.rng.choice(targets)
            written = list(target)
            if self.rng.random() < 0.4:
                written[self.rng.randrange(len(written))] = -1
            self._new(f"tf.reshape({a.name}, {written})", target, a.dtype, a.bound)
        elif kind == 1 and r >= 2:
            perm = list(range(r))
            self.rng.shuffle(perm)
            src = f"tf.transpose({a.name})" if r == 2 and self.rng.random() < 0.5 else \
                f"tf.transpose({a.name}, perm={perm})"
            shape = tuple(reversed(a.shape)) if "perm" not in src else tuple(a.shape[p] for p in perm)
            self._new(src, shape, a.dtype, a.bound)
        elif kind == 2:
            b = self._pick(lambda v: v.dtype == a.dtype and v.shape == a.shape, recent=False)
            ax = self.rng.randrange(-r, r)
            shape = list(a.shape)
            shape[ax] *= 2
            self._new(f"tf.concat([{a.name}, {b.name}], axis={ax})", tuple(shape), a.dtype, max(a.bound, b.bound))
        elif kind == 3:
            b = self._pick(lambda v: v.dtype == a.dtype and v.shape == a.shape, recent=False)
            ax = self.rng.randrange(0, r + 1)
            shape = a.shape[:ax] + (2,) + a.shape[ax:]
            self._new(f"tf.stack([{a.name}, {b.name}], axis={ax})", shape, a.dtype, max(a.bound, b.bound))
        elif kind == 4 and a.shape[0] >= 2:
            src, d0 = self.rng.choice([("{a}[1:]", a.shape[0] - 1), ("{a}[:-1]", a.shape[0] - 1),
                                       ("{a}[::-1]", a.shape[0]), ("{a}[::2]", (a.shape[0] + 1) // 2)])
            self._new(src.format(a=a.name), (d0,) + a.shape[1:], a.dtype, a.bound)
        elif kind == 5:
            src, shape = self.rng.choice([("{a}[0]", a.shape[1:]), ("{a}[-1]", a.shape[1:])] +
                                         ([("{a}[..., :1]", a.shape[:-1] + (1,))] if r >= 2 else []) +
                                         ([("{a}[:, 1]", a.shape[:1] + a.shape[2:])] if r >= 2 and a.shape[1] >= 2
                                          else []))
            self._new(src.format(a=a.name), shape, a.dtype, a.bound)
        elif kind == 6:
            ax = self.rng.randrange(-r - 1, r + 1)
            pos = ax % (r + 1)
            self._new(f"tf.expand_dims({a.name}, {ax})", a.shape[:pos] + (1,) + a.shape[pos:], a.dtype, a.bound)
        else:
            return False
        return True

    def cast(self) -> bool:
        a = self._pick()
        other = "float64" if a.dtype == "float32" else "float32"
        self._new(f"tf.cast({a.name}, tf.{other})", a.shape, other, a.bound)
        return True

    def nondiff(self) -> bool:
        a = self._pick(lambda v: v in [x for x, _ in self.chain.inputs], recent=False)
        self._new(self.rng.choice(NONDIFF).format(a=a.name, dt=self._dt(a.dtype)), a.shape, a.dtype, a.bound * 4 + 1)
        return True

    def step(self) -> None:
        kinds = [(self.unary, 4), (self.binary, 4), (self.reduce, 1.5), (self.matmul, 0.7), (self.shape_op, 1.5),
                 (self.cast, 0.3)] + ([(self.nondiff, 0.4)] if self.allow_nondiff else [])
        for _ in range(20):
            fn = self.rng.choices([k for k, _ in kinds], [w for _, w in kinds])[0]
            if fn():
                return

    def build(self, n_stmts: int) -> Chain:
        for _ in range(n_stmts):
            self.step()
        return self.chain
