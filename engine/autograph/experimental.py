"""`engine.autograph.experimental`, as `tf.autograph.experimental`: `do_not_convert`, `set_loop_options`."""
from __future__ import annotations

from typing import Any, Callable, Optional


def mark_do_not_convert(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Marks `fn` so AutoGraph calls it as it is (`engine.autograph.do_not_convert`)."""
    fn.__kiln_do_not_convert__ = True  # type: ignore[attr-defined]
    return fn


def do_not_convert(func: Optional[Callable[..., Any]] = None) -> Any:
    """Marks `func` so AutoGraph calls it as it is; as a decorator with or without parentheses."""
    return mark_do_not_convert if func is None else mark_do_not_convert(func)


def set_loop_options(parallel_iterations: Any = None, swap_memory: Any = None, maximum_iterations: Any = None,
                     shape_invariants: Any = None) -> None:
    """Options of the loop whose body calls it first. AutoGraph reads them from the source (the call itself does
    nothing): `shape_invariants=[(v, TensorShape([None]))]` lets loop variable `v` change size across iterations."""
