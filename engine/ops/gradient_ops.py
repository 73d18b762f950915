"""Ops about gradients themselves: stop_gradient."""
from __future__ import annotations

from typing import Any, Optional

from engine.dispatch import apply
from engine.ops.funnel import as_tensor
from engine.tensor import Tensor
from ir.opdef import OPS


def stop_gradient(input: Any, name: Optional[str] = None) -> Tensor:  # noqa: A002
    """The same value, treated as a constant by every gradient (tape and IR autodiff alike)."""
    return apply(OPS["stop_gradient"], as_tensor(input))
