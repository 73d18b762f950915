"""`engine.autograph.experimental`, as `tf.autograph.experimental`: `do_not_convert`."""
from __future__ import annotations

from typing import Any, Callable, Optional


def do_not_convert(func: Optional[Callable[..., Any]] = None) -> Any:
    """Marks `func` so AutoGraph calls it as it is; as a decorator with or without parentheses."""
    from engine.autograph import do_not_convert as mark
    return mark if func is None else mark(func)
