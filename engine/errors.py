"""Kiln's user-facing errors (TensorFlow's names where TensorFlow has the concept).

Where TensorFlow raises a different class for the same mistake eagerly and while tracing (an op kernel's
InvalidArgumentError eagerly, the graph builder's TypeError or ValueError at trace time), Kiln raises one class that
derives from both, so `except` clauses written against either keep working. Each class also keeps the Python class
Kiln raised before it (TypeError, IndexError), for the same reason.
"""
from __future__ import annotations

from typing import Any

from ir.ops_state import IndexOutOfRangeError, InvalidArgumentError

__all__ = ["DTypeConversionError", "IndexOutOfRangeError", "InvalidArgumentError", "InvalidDTypeError",
           "OperatorNotAllowedInGraphError", "OutOfRangeError", "SymbolicAttributeError", "symbolic_bool_error", "symbolic_value_error"]


class InvalidDTypeError(InvalidArgumentError, TypeError):
    """Operands of different dtypes, or a dtype the op does not take (`int32 + float32`, `bool + bool`).

    TensorFlow 2.21 raises InvalidArgumentError eagerly ("cannot compute AddV2 as input #1 was expected to be a int32
    tensor") and TypeError while tracing ("Input 'y' of 'AddV2' Op has type float32 that does not match ...")."""


class DTypeConversionError(ValueError, TypeError):
    """A tensor converted to a dtype it does not have (`convert_to_tensor(int32 tensor, dtype=float32)`, assigning
    an int32 tensor to a float32 Variable): TensorFlow 2.21's ValueError "Tensor conversion requested dtype ...",
    eagerly and while tracing."""


class OutOfRangeError(IndexError):
    """TensorFlow's OutOfRangeError: an index past the end of a sequence (a TensorArray's write or read past its
    size). It is an IndexError too, for Python code that catches that."""


class OperatorNotAllowedInGraphError(TypeError):
    """A traced (symbolic) tensor was used where Python needs a concrete value."""


class SymbolicAttributeError(OperatorNotAllowedInGraphError, AttributeError):
    """`.numpy()` of a traced tensor: TensorFlow's symbolic tensors have no `numpy` method (AttributeError)."""


def symbolic_bool_error(t: Any) -> OperatorNotAllowedInGraphError:
    return OperatorNotAllowedInGraphError(
        f"using a traced tensor {t.name} of shape {tuple(t.shape)} as a Python bool is not allowed while tracing: "
        f"write the condition with engine.cond / engine.while_loop, or let AutoGraph convert the `if`/`while`")


def symbolic_value_error(t: Any, what: str, attribute: bool = False) -> OperatorNotAllowedInGraphError:
    """`attribute`: `what` is a method that TensorFlow's symbolic tensors lack, so the error is an AttributeError too."""
    cls = SymbolicAttributeError if attribute else OperatorNotAllowedInGraphError
    return cls(
        f"{what} needs a concrete value, but {t.name} is a traced tensor of shape {tuple(t.shape)} inside a "
        f"function being traced; its value exists only when the function runs")
