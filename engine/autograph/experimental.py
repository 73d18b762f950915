"""`engine.autograph.experimental`, as `tf.autograph.experimental`: `do_not_convert`."""
from __future__ import annotations

from typing import Any, Callable, Optional


def mark_do_not_convert(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Marks `fn` so AutoGraph calls it as it is (`engine.autograph.do_not_convert`)."""
    fn.__kiln_do_not_convert__ = True  # type: ignore[attr-defined]
    return fn


def do_not_convert(func: Optional[Callable[..., Any]] = None) -> Any:
    """Marks `func` so AutoGraph calls it as it is; as a decorator with or without parentheses."""
    return mark_do_not_convert if func is None else mark_do_not_convert(func)
