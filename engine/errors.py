"""Kiln's user-facing errors (TensorFlow's names where TensorFlow has the concept)."""
from __future__ import annotations

from typing import Any

from ir.ops_state import InvalidArgumentError

__all__ = ["InvalidArgumentError", "OperatorNotAllowedInGraphError", "symbolic_bool_error", "symbolic_value_error"]


class OperatorNotAllowedInGraphError(TypeError):
    """A traced (symbolic) tensor was used where Python needs a concrete value."""


def symbolic_bool_error(t: Any) -> OperatorNotAllowedInGraphError:
    return OperatorNotAllowedInGraphError(
        f"using a traced tensor {t.name} of shape {tuple(t.shape)} as a Python bool is not allowed while tracing: "
        f"write the condition with engine.cond / engine.while_loop, or let AutoGraph convert the `if`/`while`")


def symbolic_value_error(t: Any, what: str) -> OperatorNotAllowedInGraphError:
    return OperatorNotAllowedInGraphError(
        f"{what} needs a concrete value, but {t.name} is a traced tensor of shape {tuple(t.shape)} inside a "
        f"function being traced; its value exists only when the function runs")
