"""AutoGraph gives TensorFlow's answers: break / continue / return in every loop kind and nesting
(tests/autograph_cases.py), compared with what TensorFlow 2.21 gave for the same programs
(tests/autograph_cases_tf.json, recorded with real TensorFlow), traced and compiled, and traced and interpreted.

- Where TensorFlow's `tf.function` gives a value, Kiln gives the same values, dtypes and number of outputs.
- Where TensorFlow rejects the program, Kiln rejects it too, with its own error naming the user's file and line,
  except for the deliberate extensions in `EXTENSIONS`: there Kiln must give what the very same code gives run
  eagerly in TensorFlow (plain Python semantics), recorded alongside.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import engine as tf
from autograph_cases import CASES, X, load_answers
from engine.autograph.values import AutoGraphError
from engine.errors import OperatorNotAllowedInGraphError

ANSWERS = load_answers()

# Programs TensorFlow 2.21's AutoGraph rejects and Kiln runs on purpose, by reason.
EXTENSIONS: dict[str, tuple[str, ...]] = {
    # TF: "a return statement cannot be placed inside this TensorFlow loop". Kiln stages the return flag.
    "return inside a staged loop": (
        "tfrange__return__index", "tfrange__return__value", "tfrange__return_start__index",
        "tfrange__return_start__value", "shaperange__return__index", "shaperange__return__value",
        "shaperange__return_start__index", "shaperange__return_start__value", "tensor__return__value",
        "tensor__return__state", "tensor__return_start__value", "tensor__return_start__state",
        "tfwhile__return__index", "tfwhile__return__value", "tfwhile__return_start__index",
        "tfwhile__return_start__value", "nest__return_from_inner__tensor_in_tensor", "nest__while_tensor_return_value",
        "nest__return_inside_nested_tensor_ifs_in_loop"),
    # TF: "for/else statement not yet supported": the function runs unconverted and fails on the tensor loop.
    "else clause on a staged loop": (
        "tfrange__else_break__index", "tfrange__else_break__value", "tfrange__else_no_break__none",
        "shaperange__else_break__index", "shaperange__else_break__value", "shaperange__else_no_break__none",
        "tensor__else_break__value", "tensor__else_break__state", "tensor__else_no_break__none",
        "tfwhile__else_break__index", "tfwhile__else_break__value", "tfwhile__else_no_break__none",
        "nest__else_on_inner_loop_with_break", "nest__else_on_outer_loop_inner_break"),
    # TF: "Iterating over a symbolic tf.Tensor is not allowed". Kiln's shapes are static, so `enumerate(x)` and
    # `zip(x, y)` unroll over the first dimension as Python loops do (a tensor-dependent break in them is then
    # rejected, as in any Python loop).
    "enumerate() and zip() of tensors unroll": (
        "enumtensor__break_end__index", "enumtensor__break_start__index", "enumtensor__break_assigns__index",
        "enumtensor__break_in_if_else__index", "enumtensor__continue__index", "enumtensor__continue__value",
        "enumtensor__continue_end__index", "enumtensor__continue_end__value", "enumtensor__return__index",
        "enumtensor__return_start__index", "enumtensor__else_break__index", "enumtensor__else_no_break__none",
        "ziptensor__continue__value", "ziptensor__continue__state", "ziptensor__continue_end__value",
        "ziptensor__continue_end__state", "ziptensor__else_no_break__none"),
}
EXTENDED = {name: reason for reason, names in EXTENSIONS.items() for name in names}


def rejected(answer: list) -> bool:
    return answer[0] == "raises"


def run(fn: Any, jit: bool) -> Any:
    out = tf.function(fn, jit_compile=jit)(tf.constant(X))
    return out if isinstance(out, (tuple, list)) else (out,)


def assert_answer(got: Any, want: list, where: str) -> None:
    assert len(got) == len(want), f"{where}: {len(got)} outputs, TensorFlow gives {len(want)}"
    for k, (g, (dtype, value)) in enumerate(zip(got, want)):
        assert isinstance(g, tf.Tensor), f"{where}[{k}]: a {type(g).__name__}, not a tensor"
        assert g.dtype.name == dtype, f"{where}[{k}]: dtype {g.dtype.name}, TensorFlow gives {dtype}"
        np.testing.assert_allclose(g.numpy(), np.asarray(value, dtype=dtype), rtol=1e-6, err_msg=f"{where}[{k}]")


@pytest.mark.parametrize("jit", [True, False], ids=["compiled", "interpreted"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_case_gives_tensorflows_answer(name: str, jit: bool) -> None:
    staged, eager = ANSWERS["staged"][name], ANSWERS["eager"][name]
    if not rejected(staged):
        assert_answer(run(CASES[name], jit), staged, name)
    elif name in EXTENDED:
        assert_answer(run(CASES[name], jit), eager, f"{name} ({EXTENDED[name]})")
    else:
        with pytest.raises((OperatorNotAllowedInGraphError, AutoGraphError)) as info:
            run(CASES[name], jit)
        assert "autograph_cases" in str(info.value) and ", line " in str(info.value), str(info.value)


def test_the_table_covers_every_loop_kind_pattern_and_nesting() -> None:
    assert set(ANSWERS["staged"]) == set(CASES) == set(ANSWERS["eager"])
    assert ANSWERS["recorded_with"].startswith("TensorFlow 2.21")
    kinds = {name.split("__")[0] for name in CASES}
    assert {"pyrange", "tfrange", "shaperange", "tensor", "pylist", "tfwhile", "pywhile", "enumtensor", "enumlist",
            "ziptensor", "ziplist", "nest"} <= kinds
    assert len(CASES) >= 270
    # TensorFlow answers most of them, and rejects both kinds: Python loops with tensor-dependent breaks and staged
    # loops with returns.
    assert sum(not rejected(a) for a in ANSWERS["staged"].values()) >= 140


def test_extensions_are_only_programs_tensorflow_rejects() -> None:
    """An extension may not hide a disagreement: TF must reject it staged and answer it eagerly."""
    for name, reason in EXTENDED.items():
        assert rejected(ANSWERS["staged"][name]), f"{name}: TensorFlow answers it; not an extension ({reason})"
        assert not rejected(ANSWERS["eager"][name]), name
