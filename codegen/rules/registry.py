"""`@lowers("name", ...)`: attach a function as the `lower` facet of those rows of the op table."""
from __future__ import annotations

from typing import Any, Callable

from ir.opdef import OPS


def lowers(*names: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def attach(rule: Callable[..., Any]) -> Callable[..., Any]:
        for name in names:
            OPS[name].lower = rule
        return rule
    return attach
