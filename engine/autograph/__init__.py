"""AutoGraph: Python `if`/`while`/`for`/`break`/`continue`/`return`, `and`/`or`/`not`, conditional expressions
and `assert` on tensors become `cond`/`while_loop` and the `assert` op while tracing (DESIGN §6). Python's `print`
stays Python's, as in TensorFlow: it runs while tracing; `engine.print` prints on every call.

Conversion rewrites a function's AST once per code object (`converter.py`): first `return`/`break`/`continue`
become flags (`lowering.py`), then control flow becomes calls to the runtime operators (`transformer.py`, using the
liveness of `analysis.py`). The operators (`operators.py` for `if` and the rest, `loops.py` for `while`/`for`, with
the shared values and errors of `values.py`) run plain Python for Python values and stage IR for traced tensors.
"""
from __future__ import annotations

from typing import Any, Callable


def convert_if_possible(fn: Callable[..., Any]) -> Callable[..., Any]:
    """What `engine.function` traces for `fn`: the converted function (or `fn` itself, with a warning, when it
    cannot be converted), enforcing TensorFlow's rule on Variables created while tracing (`variable_rule.py`)."""
    from engine.autograph.library import is_library
    from engine.autograph.variable_rule import guarded
    if is_library(fn):
        return guarded(fn, fn)
    try:
        from engine.autograph.converter import convert
    except ImportError:
        return fn
    return guarded(fn, convert(fn))


def to_code(fn: Callable[..., Any]) -> str:
    """The Python source AutoGraph generates for `fn`."""
    from engine.autograph.converter import to_code as _to_code
    return _to_code(fn)


from engine.autograph import experimental  # noqa: E402,F401  (tf.autograph.experimental)
from engine.autograph.experimental import mark_do_not_convert as do_not_convert  # noqa: E402
