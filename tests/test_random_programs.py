"""Random straight-line programs drawn from the op table: eager execution == traced IR on the interpreter.

Each program is a list of steps (row, operand positions, attrs) over a growing pool of float32 values of one shape;
the same steps run eagerly through `engine.dispatch.apply` and under `engine.make_ir`, whose IR the interpreter
runs. Both use the rows' numpy kernels, so results must agree exactly (NaN positions included)."""
from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import engine as tf
from engine.dispatch import apply
from ir.interp import run
from ir.opdef import OPS
from ir.types import TensorType, float32

def _arity(name: str) -> int:
    t = TensorType(float32, (2, 3))
    for k in (1, 2):
        try:
            OPS[name].infer([t] * k)
            return k
        except Exception:  # noqa: BLE001  (wrong arity or dtype)
            continue
    return 0


F23 = TensorType(float32, (2, 3))
# Elementwise rows taking float32 and giving float32 (comparisons give bool and are left out of the pool).
FLOAT_ELEMENTWISE = sorted(n for n, o in OPS.items() if o.kind == "elementwise" and
                           n not in ("convert", "select", "stop_gradient"))
UNARY = [n for n in FLOAT_ELEMENTWISE if _arity(n) == 1 and OPS[n].infer([F23])[0] == F23]
BINARY = [n for n in FLOAT_ELEMENTWISE if _arity(n) == 2 and OPS[n].infer([F23, F23])[0] == F23]
SHAPE = (2, 3)


@st.composite
def programs(draw: Any) -> tuple[list[tuple], int]:
    n_inputs = draw(st.integers(1, 3))
    steps, pool = [], n_inputs
    for _ in range(draw(st.integers(1, 12))):
        kind = draw(st.sampled_from(["unary", "binary", "binary", "reduce_bcast", "transpose2"]))
        if kind == "unary":
            steps.append(("unary", draw(st.sampled_from(UNARY)), draw(st.integers(0, pool - 1))))
        elif kind == "binary":
            steps.append(("binary", draw(st.sampled_from(BINARY)), draw(st.integers(0, pool - 1)),
                          draw(st.integers(0, pool - 1))))
        elif kind == "reduce_bcast":
            steps.append(("reduce", draw(st.sampled_from(["reduce_sum", "reduce_max", "reduce_min", "reduce_prod"])),
                          draw(st.integers(0, pool - 1)), draw(st.sampled_from([(0,), (1,), (0, 1)]))))
        else:
            steps.append(("transpose2", draw(st.integers(0, pool - 1))))
        pool += 1
    return steps, n_inputs


def execute(steps: list[tuple], inputs: list[Any]) -> Any:
    pool = list(inputs)
    for step in steps:
        if step[0] == "unary":
            pool.append(apply(OPS[step[1]], pool[step[2]]))
        elif step[0] == "binary":
            pool.append(apply(OPS[step[1]], pool[step[2]], pool[step[3]]))
        elif step[0] == "reduce":
            reduced = apply(OPS[step[1]], pool[step[2]], axes=step[3])
            kept = tuple(1 if i in step[3] else d for i, d in enumerate(SHAPE))
            pool.append(apply(OPS["broadcast_to"], apply(OPS["reshape"], reduced, shape=kept), shape=SHAPE))
        else:  # a transpose there and back: exercises the shape rows without changing the pool's shape
            t = apply(OPS["transpose"], pool[step[1]], perm=(1, 0))
            pool.append(apply(OPS["transpose"], apply(OPS["neg"], t), perm=(1, 0)))
    return pool[-1]


@given(programs(), st.integers(0, 2 ** 32 - 1))
def test_interpreter_equals_eager_on_random_programs(program: tuple[list[tuple], int], seed: int) -> None:
    steps, n_inputs = program
    rng = np.random.default_rng(seed)
    arrays = [rng.uniform(-2, 2, SHAPE).astype(np.float32) for _ in range(n_inputs)]
    with np.errstate(all="ignore"):
        eager = execute(steps, [tf.constant(a) for a in arrays]).numpy()
        fn = tf.make_ir(lambda *xs: execute(steps, list(xs)))(*[tf.constant(a) for a in arrays])
        (interpreted,) = run(fn, arrays)
    assert interpreted.dtype == eager.dtype and interpreted.shape == eager.shape
    np.testing.assert_array_equal(interpreted, eager)
