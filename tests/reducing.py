"""What the reduction fast-path tests (tests/test_reduce_split.py, tests/test_reduce_speedpaths.py) share besides
their fixtures (`no_disk_cache`, `threaded`: tests/conftest.py): a one-reduction IR function and float32's eps."""
from __future__ import annotations

from typing import Any, Callable, Optional, Sequence

import numpy as np

from ir.types import TensorType
from irbuild import build

EPS32 = float(np.finfo(np.float32).eps)


def reduce_fn(name: str, t: TensorType, axes: Optional[Sequence[int]],
              then: Optional[Callable[..., Any]] = None) -> Any:
    """A verified function of one `t` parameter returning the reduction `name` over `axes` (None: every axis),
    followed by `then(b, r)` when given."""
    axes = tuple(range(len(t.shape))) if axes is None else tuple(axes)

    def body(b: Any, x: Any) -> list:
        r = b.one(name, x, axes=axes)
        return [then(b, r) if then else r]
    return build([t], body)
