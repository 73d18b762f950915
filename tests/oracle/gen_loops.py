"""Random AutoGraph loops for the generated oracle programs (`generator.py`).

A loop carries 1-3 float tensors of one shape through a Python `range`, a `tf.range` (of a literal or of a tensor
argument), a `while` on tensor conditions with a counter, an iteration over a tensor's rows, or an explicit
`tf.while_loop` (or, without a loop, `if`s on tensors and `tf.cond`s); its body updates the carried tensors with
contractive steps (so nothing grows), with `if`s on Python or tensor conditions and `break`/`continue` where
TensorFlow allows them (a break that depends on a tensor is only allowed in a TF loop: AutoGraph raises
NotImplementedError in a Python loop).
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field

from tests.oracle.gen_chain import literal, value

SHAPES = [(), (3,), (2, 2)]
UPDATES = [  # (statement, transcendental?)
    ("{v} = {v} * 0.5 + {w}", False),
    ("{v} = {v} * -0.75 + 1.0", False),
    ("{v} = tf.maximum({v}, {w}) - 0.5", False),
    ("{v} = {v} - 0.25 * tf.cast({i}, {dt})", False),
    ("{v} = {v} + tf.reduce_mean({w}) * 0.5", False),
    ("{v} = tf.tanh({v}) + {w} * 0.5", True),
    ("{v} = {v} * tf.sigmoid({w})", True),
    ("{v} = tf.sin({v}) - {w} * 0.25", True),
]
CONDS = ["tf.reduce_sum({v}) > {c}", "tf.reduce_max({v}) < {c}", "tf.reduce_mean({v}) >= {c}"]


@dataclass
class Loop:
    params: list[str] = field(default_factory=list)
    args: list[list[str]] = field(default_factory=list)      # two argument lists (two calls, one trace)
    lines: list[str] = field(default_factory=list)           # the function body, indented by 4
    returns: list[str] = field(default_factory=list)
    carried: list[str] = field(default_factory=list)
    transc: bool = False
    dtype: str = "tf.float32"                                  # of the carried tensors


class LoopBuilder:
    def __init__(self, rng: random.Random, float64: bool = False) -> None:
        self.rng = rng
        self.dt = "tf.float64" if float64 else "tf.float32"
        self.loop = Loop(dtype=self.dt)

    def _update(self, i: str, v: str = "") -> str:
        tmpl, transc = self.rng.choice([u for u in UPDATES if i != "0" or "{i}" not in u[0]])
        self.loop.transc |= transc
        v = v or self.rng.choice(self.loop.carried)
        others = [x for x in self.loop.carried if x != v] + ["c"]
        w = v if self.rng.random() < 0.1 else self.rng.choice(others)
        return tmpl.format(v=v, w=w, i=i, dt=self.dt)

    def _tensor_cond(self) -> str:
        return self.rng.choice(CONDS).format(v=self.rng.choice(self.loop.carried), c=value(self.rng, 0.1, 3.0))

    def _body(self, i: str, py_index: bool, n: int, depth: int, may_exit: bool = True) -> list[str]:
        """Statements of a loop body (unindented). `py_index`: the index is a Python int (only Python conditions
        may break); `i` is None-like ("0") in loops without an index."""
        out: list[str] = []
        for _ in range(self.rng.randint(1, 3)):
            r = self.rng.random()
            if r < 0.4 or depth > 1:
                out.append(self._update(i))
            elif r < 0.6:
                out.append(f"if {self._tensor_cond()}:")
                out.extend("    " + s for s in [self._update(i)])
                if self.rng.random() < 0.5:
                    out.append("else:")
                    out.append("    " + self._update(i))
            elif r < 0.88 and may_exit:
                word = self.rng.choice(["break", "continue"])
                if py_index or (i != "0" and self.rng.random() < 0.5):
                    cond = self.rng.choice([f"{i} == {self.rng.randrange(n)}", f"{i} % 2 == 1", f"{i} >= {n - 2}"])
                else:
                    cond = self._tensor_cond()
                out.append(f"if {cond}:")
                if self.rng.random() < 0.5:
                    out.append("    " + self._update(i))
                out.append(f"    {word}")
            elif depth == 0 and self.rng.random() < 0.5:
                out.append("for j in range(2):")
                out.extend("    " + s for s in self._body("j", True, 2, depth + 1, may_exit=False))
            else:
                out.append(self._update(i))
        return out

    def build(self) -> Loop:
        rng, lp = self.rng, self.loop
        k = rng.randint(1, 3)
        kind = rng.choices(["range", "tf.range", "tf.range(n)", "while", "rows", "while_loop", "if"],
                           [3, 3, 2, 3, 1.5, 1, 1.5])[0]
        shape = rng.choice(SHAPES[1:] if kind == "rows" else SHAPES)
        lp.carried = [f"x{j}" for j in range(k)]
        lp.params = lp.carried + ["c"]
        c_shape = rng.choice([shape, ()])
        lp.args = [[self._lit(shape) for _ in range(k)] + [self._lit(c_shape)] for _ in range(2)]
        n = rng.randint(2, 4 if kind == "range" else 6)
        if kind == "range":
            head, body = f"for i in range({n}):", self._body("i", True, n, 0)
        elif kind == "tf.range":
            head, body = f"for i in tf.range({n}):", self._body("i", False, n, 0)
        elif kind == "tf.range(n)":
            lp.params.append("n")
            lp.args[0].append(f"tf.constant({n})")
            lp.args[1].append(f"tf.constant({max(1, n - rng.randint(1, 2))})")
            head, body = "for i in tf.range(n):", self._body("i", False, n, 0)
        elif kind == "while":
            lp.lines.append("k = tf.constant(0)")
            extra = f" and {self._tensor_cond()}" if rng.random() < 0.5 else ""
            head, body = f"while k < {n}{extra}:", ["k += 1"] + self._body("k", False, n, 0)
            lp.returns.append("k")
        elif kind == "rows":
            lp.params.append("m")
            for args in lp.args:
                args.append(f"tf.constant({literal(rng, (n, shape[-1]), value)}, {self.dt})")
            head, body = "for row in m:", [f"{lp.carried[0]} = {lp.carried[0]} + row * 0.25"] + \
                self._body("0", False, n, 0)
        elif kind == "if":
            return self._conds()
        else:
            return self._while_loop(n)
        lp.lines += [head] + ["    " + s for s in body]
        lp.returns = lp.carried + lp.returns
        return lp

    def _conds(self) -> Loop:
        """No loop: AutoGraph `if`s on tensor conditions (one branch or two) and explicit `tf.cond`s."""
        lp = self.loop
        for _ in range(self.rng.randint(1, 3)):
            v = self.rng.choice(lp.carried)
            if self.rng.random() < 0.3:
                yes, no = (self._update("0", v).split(" = ", 1)[1] for _ in range(2))
                lp.lines.append(f"{v} = tf.cond({self._tensor_cond()}, lambda: {yes}, lambda: {no})")
                continue
            lp.lines += [f"if {self._tensor_cond()}:", "    " + self._update("0")]
            if self.rng.random() < 0.6:
                lp.lines += ["else:", "    " + self._update("0")]
            lp.lines.append(self._update("0"))
        lp.returns = list(lp.carried)
        return lp

    def _while_loop(self, n: int) -> Loop:
        lp = self.loop
        names = ", ".join(lp.carried)
        updates = [self._update("i") for _ in lp.carried]
        for j, v in enumerate(lp.carried):
            lp.lines.append(f"def step_{j}(i, {names}, c):")
            lp.lines.append(f"    {updates[j]}")
            lp.lines.append(f"    return {v}")
        news = ", ".join(f"step_{j}(i, {names}, c)" for j in range(len(lp.carried)))
        lp.lines.append(f"i, {names} = tf.while_loop(lambda i, {names}: i < {n},")
        lp.lines.append(f"                              lambda i, {names}: (i + 1, {news}),")
        lp.lines.append(f"                              (tf.constant(0), {names}))")
        lp.returns = ["i"] + lp.carried
        return lp

    def _lit(self, shape: tuple[int, ...]) -> str:
        return f"tf.constant({literal(self.rng, shape, value)}, {self.dt})"
