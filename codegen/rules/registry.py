"""`@lowers("name", ...)`: attach a function as the `lower` facet of those rows of the op table.

`may_fail(op) -> bool`, given for elementwise rules that can fail (integer division by zero, negative integer
powers), tells the driver to evaluate such an op where it stands, so its error comes before any later effect or
error, as in eager mode; other elementwise results stay lazy and fuse into their consumers.
"""
from __future__ import annotations

from typing import Any, Callable, Optional

from ir.opdef import OPS


def lowers(*names: str, may_fail: Optional[Callable[[Any], bool]] = None) -> Callable[[Callable[..., Any]],
                                                                                     Callable[..., Any]]:
    def attach(rule: Callable[..., Any]) -> Callable[..., Any]:
        if may_fail is not None:
            rule.may_fail = may_fail  # type: ignore[attr-defined]
        for name in names:
            OPS[name].lower = rule
        return rule
    return attach
