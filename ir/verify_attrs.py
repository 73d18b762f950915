"""Row-generic checks the verifier runs before a row's `infer`: operand arity and attribute value kinds.

- Arity comes from the row's numpy kernel, the specification of the op (STYLE 3): its positional parameters that
  are not attributes are the operands (all required ones at least, all of them at most; `*args` or
  `OpDef.variadic` means any number). Rows with regions are left to `infer_regions`.
- Attribute kinds are one vocabulary keyed by attribute *name*, shared by every row that uses the name (`axes` is
  a list of ints wherever it appears), so no op is named here. A name outside the vocabulary is not checked.
`problems(opdef, operands, attrs)` returns the first thing wrong, or None.
"""
from __future__ import annotations

import functools
import inspect
from typing import Any, Callable, Optional

from ir.opdef import OpDef
from ir.types import DType, as_dtype


def _int(v: Any) -> bool:
    import numpy as np
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def _ints(v: Any) -> bool:
    return isinstance(v, (list, tuple)) and all(_int(x) for x in v)


def _dims(v: Any) -> bool:
    """A shape attr: ints, and None for a size known only at run time (ir.ops_dims)."""
    return isinstance(v, (list, tuple)) and all(x is None or _int(x) for x in v)


def _dtype(v: Any) -> bool:
    """A DType, or anything the op table resolves to one (a dtype name, a numpy dtype)."""
    if isinstance(v, DType):
        return True
    try:
        as_dtype(v)
    except (TypeError, ValueError, KeyError):
        return False
    return True


def _pairs(v: Any) -> bool:
    """[before, after] int pairs; [none, none] is TF's SAME left to resolve (ir.conv_padding)."""
    return isinstance(v, (list, tuple)) and all(isinstance(p, (list, tuple)) and len(p) == 2 and
                                                (_ints(p) or (p[0] is None and p[1] is None)) for p in v)


#: What each attribute name holds, and how a message says it.
KINDS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "axes": (_ints, "a list of ints"), "begin": (_ints, "a list of ints"),
    "end": (_dims, "a list of ints or none"), "strides": (_ints, "a list of ints"), "perm": (_ints, "a list of ints"),
    "shape": (_dims, "a list of ints or none (a run-time size)"),
    "dilations": (_ints, "a list of ints"), "ksize": (_ints, "a list of ints"),
    "paddings": (_pairs, "a list of [before, after] int pairs (or [none, none])"),
    "axis": (_int, "an int"), "carried": (_int, "an int"),
    "size": (lambda v: v is None or _int(v), "an int or none (a run-time size)"),
    "summarize": (lambda v: v is None or _int(v), "an int or none"),
    "transpose_a": (lambda v: isinstance(v, bool), "a bool"), "transpose_b": (lambda v: isinstance(v, bool), "a bool"),
    "message": (lambda v: isinstance(v, str), "a string"), "template": (lambda v: isinstance(v, str), "a string"),
    "stream": (lambda v: isinstance(v, str), "a string"),
    "dtype": (_dtype, "a dtype"), "output_type": (_dtype, "a dtype"),
}


@functools.cache
def arity(opdef: OpDef) -> Optional[tuple[int, Optional[int]]]:
    """(fewest, most) operands of a plain row, from its numpy kernel's signature; None if it cannot be read."""
    if opdef.variadic or opdef.regions or opdef.infer_regions is not None:
        return None
    try:
        params = inspect.signature(opdef.eager).parameters.values()
    except (TypeError, ValueError):
        return None
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
                  and p.name not in opdef.attrs]
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return None
    required = sum(1 for p in positional if p.default is p.empty)
    return required, len(positional)


def problem(opdef: OpDef, n_operands: int, attrs: dict[str, Any]) -> Optional[str]:
    bounds = arity(opdef)
    if bounds is not None:
        low, high = bounds
        if not low <= n_operands <= (high if high is not None else n_operands):
            want = str(low) if low == high else f"{low} to {high}"
            return f"`{opdef.name}` takes {want} operand(s), got {n_operands}"
    for name, value in attrs.items():
        kind = KINDS.get(name)
        if kind is not None and not kind[0](value):
            return f"attr {name} = {value!r} must be {kind[1]}"
    return None
