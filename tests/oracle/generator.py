"""The seeded random program generator: `generated_programs()` -> golden-file name -> programs.

Six classes, one golden file each (`COUNTS` programs per class):
  generated_eager              float op chains run eagerly (elementwise, broadcasting, reductions, matmul, shape ops,
                               where, casts)
  generated_function           the same chains inside a `tf.function` called twice (one trace), some reading a
                               Variable assigned between the calls
  generated_tape               gradients of chains with an eager tape, and with a tape around a call of a function
                               (watched inputs and Variables; unconnected and non-differentiable paths give None)
  generated_tape_in_function   a tape inside a function, around a chain or an AutoGraph loop
  generated_autograph          AutoGraph loops carrying 1-3 tensors (Python range, tf.range, while on tensors, rows of
                               a tensor, tf.while_loop) with if/else, break and continue; ifs and tf.cond on tensors
  generated_int                int32/int64 and bool programs, eager and in functions

Program i of class C is drawn from `random.Random(f"{C}:{i}")` (a string seed hashes the same on every run and
every platform), so the source text is the same every time and classes do not shift each other. The tolerance
class is chosen per program: `exact` for integer programs (`arith` where a true division makes floats), `arith`
for float chains without transcendental functions, `transc` with them, `grad` for gradients.
"""
from __future__ import annotations

import random
from typing import Callable

from tests.oracle.gen_chain import Chain, ChainBuilder, Var, literal, value
from tests.oracle.gen_int import IntBuilder, ivalue
from tests.oracle.gen_loops import LoopBuilder
from tests.oracle.program import Program

# Programs per class. The classes that compile a function per program are smaller: a compile costs ~50-100 ms in
# Kiln, an eager program ~2 ms, and the replay of all of them must stay within a few minutes on 2 cores.
COUNTS = {"generated_eager": 650, "generated_function": 420, "generated_tape": 600,
          "generated_tape_in_function": 420, "generated_autograph": 420, "generated_int": 600}


def _float_tol(chain_transc: bool) -> str:
    return "transc" if chain_transc else "arith"


def _const(v: Var, lit: str) -> str:
    return f"tf.constant({lit}, tf.{v.dtype})"


def _fresh(rng: random.Random, v: Var) -> str:
    make = ivalue if v.dtype.startswith("int") else value
    return _const(v, literal(rng, v.shape, make))


def _indent(lines: list[str], n: int = 4) -> list[str]:
    return [" " * n + s for s in lines]


def _observed(outs: list[Var], rng: random.Random) -> str:
    """What `result` shows of a chain's outputs: the tensors, sometimes with the last one's dtype and shape."""
    names = [v.name for v in outs]
    if rng.random() < 0.3:
        names += [f"{outs[-1].name}.dtype", f"{outs[-1].name}.shape"]
    return "(" + ", ".join(names) + ("," if len(names) == 1 else "") + ")"


# ---- the classes ----------------------------------------------------------------------------------------------------
def eager(rng: random.Random) -> tuple[str, str]:
    chain = ChainBuilder(rng, rng.randint(1, 3), float64=rng.random() < 0.15).build(rng.randint(2, 7))
    lines = [f"{v.name} = {_const(v, lit)}" for v, lit in chain.inputs] + chain.stmts
    lines.append(f"result = {_observed(chain.outputs(4), rng)}")
    return "\n".join(lines), _float_tol(chain.transc)


def _function_lines(rng: random.Random, chain: Chain, returns: str) -> tuple[list[str], list[str]]:
    """A traced function computing the chain, and the lines that call it twice with other values of the same
    shapes. Its first input is sometimes a Variable read from outside (assigned between the calls); sometimes it
    also takes a Python number, the same or another one in the second call (TF traces once per Python value)."""
    inputs = [v for v, _ in chain.inputs]
    variable = inputs[0] if rng.random() < 0.25 else None
    params = [v.name for v in inputs if v is not variable]
    head: list[str] = ["traces = []"]
    if variable is not None:
        head.insert(0, f"{variable.name} = tf.Variable({_const(variable, chain.inputs[0][1])})")
    numbers: list[str] = []
    if rng.random() < 0.25:
        params.append("s")
        numbers = ["2", rng.choice(["2", "3"])] if inputs[0].dtype.startswith("int") else \
            ["0.5", rng.choice(["0.5", "1.5"])]
        chain.stmts.append(f"u = {inputs[0].name} * s")
        returns += ", u"
    head += ["", "@tf.function", f"def f({', '.join(params)}):", "    traces.append(1)"]
    head += _indent(chain.stmts) + [f"    return {returns}", ""]
    first = [_const(v, lit) for v, lit in chain.inputs if v is not variable]
    calls = [f"a = f({', '.join(first + numbers[:1])})"]
    if variable is not None:
        make = ivalue if variable.dtype.startswith("int") else value
        calls.append(f"{variable.name}.assign({literal(rng, variable.shape, make)})")
    second = [_fresh(rng, v) for v in inputs if v is not variable]
    calls.append(f"b = f({', '.join(second + numbers[1:])})")
    return head, calls


def function(rng: random.Random) -> tuple[str, str]:
    chain = ChainBuilder(rng, rng.randint(1, 3), float64=rng.random() < 0.15).build(rng.randint(4, 9))
    outs = chain.outputs(4)
    head, calls = _function_lines(rng, chain, ", ".join(v.name for v in outs))
    return "\n".join(head + calls + ["result = (a, b, len(traces))"]), _float_tol(chain.transc)


def _target(chain: Chain) -> str:
    """What a tape differentiates: the one output, or the list of all outputs (TF sums their gradients)."""
    outs = [v.name for v in chain.outputs(3)]
    return outs[0] if len(outs) == 1 else "[" + ", ".join(outs) + "]"


def _sources(chain: Chain) -> list[Var]:
    return [v for v, _ in chain.inputs]


def tape(rng: random.Random) -> tuple[str, str]:
    chain = ChainBuilder(rng, rng.randint(1, 3), float64=rng.random() < 0.15, nondiff=True).build(rng.randint(2, 6))
    sources = _sources(chain)
    target = _target(chain)
    srcs = "[" + ", ".join(v.name for v in sources) + "]"
    kinds = {v.name: rng.choice(["constant", "constant", "variable"]) for v in sources}
    lines = []
    for v, lit in chain.inputs:
        init = _const(v, lit)
        lines.append(f"{v.name} = tf.Variable({init})" if kinds[v.name] == "variable" else f"{v.name} = {init}")
    watched = [v.name for v in sources if kinds[v.name] == "constant" and rng.random() < 0.92]
    if rng.random() < 0.75:                                       # an eager tape around the chain
        persistent = rng.random() < 0.25
        lines.append(f"with tf.GradientTape({'persistent=True' if persistent else ''}) as tape:")
        lines += _indent([f"tape.watch({n})" for n in watched] + chain.stmts)
        grads = [f"tape.gradient({target}, {srcs})"]
        if persistent:
            other = rng.choice(chain.vars[len(chain.inputs):]).name
            grads.append(f"tape.gradient({other}, {srcs})")
        lines.append(f"result = ({target}, {', '.join(grads)})")
    else:                                                         # a tape around a call of a function
        params = [v.name for v in sources if kinds[v.name] == "constant"]
        lines += ["", "@tf.function", f"def f({', '.join(params)}):"] + _indent(chain.stmts)
        lines += [f"    return {target}", "", "with tf.GradientTape() as tape:"]
        lines += _indent([f"tape.watch({n})" for n in watched] + [f"y = f({', '.join(params)})"])
        lines.append(f"result = (y, tape.gradient(y, {srcs}))")
    return "\n".join(lines), "grad"


def tape_in_function(rng: random.Random) -> tuple[str, str]:
    if rng.random() < 0.35:
        return _tape_loop(rng)
    chain = ChainBuilder(rng, rng.randint(1, 3), float64=rng.random() < 0.15, nondiff=True).build(rng.randint(2, 6))
    sources = _sources(chain)
    target = _target(chain)
    srcs = "[" + ", ".join(v.name for v in sources) + "]"
    body = ["traces.append(1)", "with tf.GradientTape() as tape:"]
    body += _indent([f"tape.watch({v.name})" for v in sources] + chain.stmts)
    body.append(f"return {target}, tape.gradient({target}, {srcs})")
    lines = ["traces = []", "", "@tf.function", f"def f({', '.join(v.name for v in sources)}):"] + _indent(body)
    first = ", ".join(_const(v, lit) for v, lit in chain.inputs)
    lines += ["", f"a = f({first})", f"b = f({', '.join(_fresh(rng, v) for v in sources)})",
              "result = (a, b, len(traces))"]
    return "\n".join(lines), "grad"


def _tape_loop(rng: random.Random) -> tuple[str, str]:
    """Gradients through an AutoGraph loop: a tape inside the function, or (one in four) around its call."""
    lp = LoopBuilder(rng, float64=rng.random() < 0.15).build()
    srcs = [p for p in lp.params if p != "n" and p != "m"]
    target = " + ".join(f"tf.reduce_sum({v})" for v in lp.carried)
    renamed = [f"p_{p}" if p in srcs else p for p in lp.params]
    watched = [r for r in renamed if r.startswith("p_")]
    if rng.random() < 0.25:
        lines = ["@tf.function", f"def f({', '.join(lp.params)}):"] + _indent(lp.lines)
        lines += [f"    return {target}", ""]
        lines += [f"{r} = {a}" for r, a in zip(renamed, lp.args[0])]
        lines += ["with tf.GradientTape() as tape:"] + _indent([f"tape.watch({r})" for r in watched])
        lines += [f"    y = f({', '.join(renamed)})", f"result = (y, tape.gradient(y, [{', '.join(watched)}]))"]
        return "\n".join(lines), "grad"
    body = ["with tf.GradientTape() as tape:"]
    inner = [f"tape.watch({r})" for r in watched]
    inner += [f"{p} = {r}" for p, r in zip(lp.params, renamed) if r != p]
    inner += lp.lines + [f"y = {target}"]
    body += _indent(inner)
    body.append(f"return y, tape.gradient(y, [{', '.join(watched)}])")
    lines = ["@tf.function", f"def f({', '.join(renamed)}):"] + _indent(body)
    lines += ["", f"a = f({', '.join(lp.args[0])})", f"b = f({', '.join(lp.args[1])})", "result = (a, b)"]
    return "\n".join(lines), "grad"


def autograph(rng: random.Random) -> tuple[str, str]:
    """A loop function called twice; sometimes its loop also adds to a Variable (which keeps its value across calls)."""
    lp = LoopBuilder(rng, float64=rng.random() < 0.15).build()
    body = list(lp.lines)
    heads = [j for j, s in enumerate(body) if s.startswith(("for ", "while "))]
    variable = bool(heads) and rng.random() < 0.3
    if variable:
        body.insert(heads[0] + 1, f"    acc.assign_add(tf.reduce_sum({lp.carried[0]}))")
    lines = ["traces = []", "", "@tf.function", f"def f({', '.join(lp.params)}):", "    traces.append(1)"]
    lines += _indent(body) + [f"    return {', '.join(lp.returns)}", ""]
    if variable:
        lines.insert(0, f"acc = tf.Variable(0.0, dtype={lp.dtype})")
    lines += [f"a = f({', '.join(lp.args[0])})", f"b = f({', '.join(lp.args[1])})"]
    lines.append("result = (a, b, len(traces)" + (", acc)" if variable else ")"))
    return "\n".join(lines), _float_tol(lp.transc)


def integer(rng: random.Random) -> tuple[str, str]:
    chain = IntBuilder(rng, rng.randint(1, 3), dtype=rng.choice(["int32", "int32", "int64"])).build(rng.randint(2, 7))
    outs = chain.outputs(4)
    tol = "arith" if chain.transc else "exact"
    if rng.random() < 0.75:
        lines = [f"{v.name} = {_const(v, lit)}" for v, lit in chain.inputs] + chain.stmts
        lines.append(f"result = {_observed(outs, rng)}")
        return "\n".join(lines), tol
    head, calls = _function_lines(rng, chain, ", ".join(v.name for v in outs))
    return "\n".join(head + calls + ["result = (a, b, len(traces))"]), tol


CLASSES: dict[str, Callable[[random.Random], tuple[str, str]]] = {
    "generated_eager": eager,
    "generated_function": function,
    "generated_tape": tape,
    "generated_tape_in_function": tape_in_function,
    "generated_autograph": autograph,
    "generated_int": integer,
}


def generated_programs(per_class: int | None = None) -> dict[str, list[Program]]:
    """All generated programs by golden file (`per_class` programs each instead of `COUNTS`, for a quick look)."""
    out: dict[str, list[Program]] = {}
    for cls, make in CLASSES.items():
        progs = []
        for i in range(COUNTS[cls] if per_class is None else per_class):
            source, tol = make(random.Random(f"{cls}:{i}"))
            progs.append(Program(f"gen_{cls[len('generated_'):]}_{i:04d}", tol, source.strip() + "\n"))
        out[cls] = progs
    return out
