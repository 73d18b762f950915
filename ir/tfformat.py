"""How `engine.print` (TF's `tf.print`) shows a tensor's values, digit for digit as TensorFlow 2.21 does.

TF formats each element on its own: integers as they are, bools as 1/0, floats with the fewest of two precisions
that reads back to the same value (`%.6g` else `%.9g` for float32 and the 16-bit floats, which print their float32
value; `%.15g` else `%.17g` for float64: TF's FloatToBuffer/DoubleToBuffer). Arrays are nested brackets with one
space between elements (no column alignment), rows on new lines indented by depth, a blank line between blocks of
rank 3 and more; a dimension longer than 2 * summarize shows its first and last `summarize` entries around `...`
(summarize < 0 shows everything). Empty tensors print as TF prints them.

>>> import numpy as np
>>> format_value(np.array([1.0, 2.5, 3.0], np.float32))
'[1 2.5 3]'
>>> format_value(np.float32(12345678.0)), format_value(np.float32(1 / 3)), format_value(np.float64(1 / 3))
('12345678', '0.333333343', '0.33333333333333331')
>>> format_value(np.arange(20), summarize=3)
'[0 1 2 ... 17 18 19]'
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np


def _float(value: float, short: int, long: int, exact: Callable[[str], bool]) -> str:
    text = f"{value:.{short}g}"
    return text if exact(text) else f"{value:.{long}g}"


def _element_formatter(dtype: np.dtype) -> Callable[[Any], str]:
    if dtype == np.bool_:
        return lambda v: "1" if v else "0"
    if dtype.kind in "iu":
        return lambda v: str(int(v))
    if dtype == np.float64:
        return lambda v: _float(float(v), 15, 17, lambda t: float(t) == float(v) or v != v)

    def f32(v: Any) -> str:
        x = np.float32(v)
        return _float(float(x), 6, 9, lambda t: np.float32(t) == x or x != x)
    return f32


def format_value(x: Any, summarize: int = 3) -> str:
    a = np.asarray(x)
    fmt = _element_formatter(a.dtype)
    if a.ndim == 0:
        return fmt(a[()])
    if a.size == 0:  # TF's text for an empty tensor whose first dimension is not the empty one
        return "[]" if a.shape[0] == 0 else "[" + "\n" * (a.ndim - 1) + " ...]"
    return _block(a, fmt, summarize, 0)


def _block(a: np.ndarray, fmt: Callable[[Any], str], summarize: int, depth: int) -> str:
    n = a.shape[0]
    cut = 0 <= summarize and 2 * summarize < n
    head = range(summarize if cut else n)
    tail = range(n - summarize, n) if cut else range(0)
    if a.ndim == 1:
        first = " ".join(fmt(a[i]) for i in head)
        last = " ".join(fmt(a[i]) for i in tail)
        if not cut:
            return f"[{first}]"
        return "[" + first + " ..." + (" " + last if last else "") + "]"
    rows = [_block(a[i], fmt, summarize, depth + 1) for i in head]
    if cut:
        rows.append("...")
    rows += [_block(a[i], fmt, summarize, depth + 1) for i in tail]
    sep = "\n" * (a.ndim - 1) + " " * (depth + 1)
    return "[" + sep.join(rows) + "]"
