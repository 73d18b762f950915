"""The IR's text form, printing side: `print_function(fn)` and `function_html(fn)` (DESIGN §4).

One generic syntax for every op, so `ir.parser` stays small:

    [%r, ... =] opname [%a, ...] [{key = value, ...}] [: type, ...] [{ ^label(%arg: type, ...): ops }...] [# file:line]

Ops without results print neither `=` nor `:`. Attrs print sorted by key. Values print as `%hint` when the hint is
free in the function, else `%hint.1`, `%hint.2`, ... (first free); values without a hint get `%0`, `%1`, ...
Names are unique across the whole function, regions included, and are assigned in textual order, so text printed
from parsed text names every value as the text did: print, parse, print gives the same text.

Attr values: ints, floats (repr of the exact double, `nan`/`inf`/`-inf`), `true`/`false`, JSON strings, lists,
dtypes by short name (`f32`), `none`; numpy arrays (the `constant` op's `value`) print as nested lists of scalars in
the array's own dtype, float32 elements by their shortest round-tripping decimal.
"""
from __future__ import annotations

import html
import json
import os
import re
from typing import Any, Iterable, Optional

import numpy as np

from ir.core import Block, Function, Op, Value
from ir.types import ALL_DTYPES, DType, as_dtype

# Attrs whose strings name a dtype ("float32"): they print as a dtype so they parse back as one.
DTYPE_ATTRS = ("dtype", "output_type")

_NAME_OK = re.compile(r"[A-Za-z0-9_.$]+\Z")
_BAD_NAME_CHARS = re.compile(r"[^A-Za-z0-9_.$]")
_FUNC_NAME_OK = re.compile(r"[A-Za-z_][A-Za-z0-9_.$]*\Z")
INDENT = "  "


# ---- names ----------------------------------------------------------------------------------------------------------
class Namer:
    """Gives each Value a function-wide unique printed name, in the order the values are first seen."""

    def __init__(self) -> None:
        self.names: dict[int, str] = {}
        self.used: set[str] = set()
        self.counter = 0

    def __call__(self, v: Value) -> str:
        name = self.names.get(id(v))
        if name is None:
            name = self._fresh(v.name)
            self.names[id(v)] = name
            self.used.add(name)
        return "%" + name

    def _fresh(self, hint: Optional[str]) -> str:
        if hint:
            # A hint that is not a name token (a Python name always is) is made one, so the text still parses.
            hint = hint if _NAME_OK.match(hint) else _BAD_NAME_CHARS.sub("_", hint)
            if hint not in self.used:
                return hint
            k = 1
            while f"{hint}.{k}" in self.used:
                k += 1
            return f"{hint}.{k}"
        while str(self.counter) in self.used:
            self.counter += 1
        self.counter += 1
        return str(self.counter - 1)


def function_name(name: str) -> str:
    return "@" + (name if _FUNC_NAME_OK.match(name) else json.dumps(name))


# ---- attr values ----------------------------------------------------------------------------------------------------
def format_float(x: float) -> str:
    """The exact double as Python's repr: parses back to the same float; `nan`, `inf`, `-inf` as words."""
    return repr(float(x))


def format_array(a: np.ndarray) -> str:
    """A nested list of the elements in the array's own dtype; a 0-d array prints as its scalar."""
    kind = a.dtype.kind
    if kind == "b":
        flat = ["true" if x else "false" for x in a.ravel().tolist()]
    elif kind in "iu":
        flat = [str(x) for x in a.ravel().tolist()]
    elif a.dtype == np.float32:
        # numpy's str of a float32 is its shortest decimal that rounds to the same float32; the parser reads it
        # back exactly (ir.literals.doubles_to_float32 undoes the double rounding through float64).
        flat = a.ravel().astype(str).tolist()
    elif kind == "f" or as_dtype(a.dtype).is_floating:  # float64, float16, bfloat16 (numpy kind "V")
        flat = [format_float(x) for x in a.ravel().astype(np.float64).tolist()]
    else:
        raise TypeError(f"cannot print an array of dtype {a.dtype} as an attr")
    if a.size == 0:
        return _empty_nested(a.shape)
    for d in reversed(a.shape):  # group the innermost axis first
        flat = ["[" + ", ".join(flat[i:i + d]) + "]" for i in range(0, len(flat), d)]
    return flat[0]


def _empty_nested(shape: tuple[int, ...]) -> str:
    if not shape or shape[0] == 0:
        return "[]"
    return "[" + ", ".join([_empty_nested(shape[1:])] * shape[0]) + "]"


def format_attr(value: Any, key: str = "") -> str:
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return format_float(value)
    if isinstance(value, DType):
        return value.short
    if isinstance(value, str):
        return as_dtype(value).short if key in DTYPE_ATTRS else json.dumps(value)
    if isinstance(value, (np.dtype, type)):
        return as_dtype(value).short
    if isinstance(value, np.ndarray):
        return format_array(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(format_attr(v) for v in value) + "]"
    if value is None:
        return "none"
    raise TypeError(f"attr {key!r}: cannot print a value of type {type(value).__name__}: {value!r}")


def format_attrs(attrs: dict[str, Any]) -> str:
    return "{" + ", ".join(f"{k} = {format_attr(attrs[k], k)}" for k in sorted(attrs)) + "}"


# ---- ops, blocks, functions -----------------------------------------------------------------------------------------
class _Printer:
    def __init__(self, locations: bool) -> None:
        self.locations = locations
        self.name = Namer()
        self.lines: list[str] = []

    def typed(self, values: Iterable[Value]) -> str:
        return ", ".join(f"{self.name(v)}: {v.type}" for v in values)

    def op(self, op: Op, depth: int) -> None:
        pad = INDENT * depth
        head = ""
        if op.results:
            head = ", ".join(self.name(v) for v in op.results) + " = "
        head += op.opdef.name
        if op.operands:
            head += " " + ", ".join(self.name(v) for v in op.operands)
        if op.attrs:
            head += " " + format_attrs(op.attrs)
        if op.results:
            head += " : " + ", ".join(str(v.type) for v in op.results)
        if not op.regions:
            self.lines.append(pad + head + self.loc(op))
            return
        self.lines.append(pad + head + " {")
        for i, region in enumerate(op.regions):
            if i:
                self.lines[-1] += " {"
            self.block_body(region, depth)
            self.lines.append(pad + "}")
        self.lines[-1] += self.loc(op)

    def block_body(self, block: Block, depth: int) -> None:
        label = _BAD_NAME_CHARS.sub("_", block.label)
        self.lines.append(INDENT * depth + f"^{label}({self.typed(block.args)}):")
        for op in block.ops:
            self.op(op, depth + 1)

    def loc(self, op: Op) -> str:
        if not (self.locations and op.loc):
            return ""
        filename, line = op.loc
        return f"  # {os.path.basename(str(filename))}:{int(line)}"

    def function(self, fn: Function) -> str:
        params = self.typed(fn.params)
        results = ", ".join(str(t) for t in fn.result_types)
        self.lines.append(f"func {function_name(fn.name)}({params}) -> ({results}) {{")
        for op in fn.block.ops:
            self.op(op, 1)
        self.lines.append("}")
        return "\n".join(self.lines) + "\n"


def print_function(fn: Function, locations: bool = False) -> str:
    """The text of `fn`; with `locations`, ops that know their source line end in `# file.py:12`.

    >>> from ir.core import Block, Builder, Function, Value
    >>> from ir.types import TensorType, float32
    >>> x = Value(TensorType(float32, (3,)), "x")
    >>> block = Block([x])
    >>> b = Builder(block)
    >>> y = b.one("sin", x)
    >>> _ = b.op("return", [y])
    >>> print(print_function(Function("f", block)), end="")
    func @f(%x: f32[3]) -> (f32[3]) {
      %0 = sin %x : f32[3]
      return %0
    }
    """
    return _Printer(locations).function(fn)


# ---- HTML -----------------------------------------------------------------------------------------------------------
_STYLES = {
    "comment": "color:#6a737d;font-style:italic",
    "string": "color:#032f62",
    "value": "color:#005cc5",
    "func": "color:#6f42c1;font-weight:bold",
    "label": "color:#6f42c1",
    "type": "color:#22863a",
    "keyword": "color:#d73a49;font-weight:bold",
    "op": "color:#d73a49",
    "attr": "color:#e36209",
}
_TOKEN = re.compile(r"""
    (?P<comment>\#.*)
  | (?P<string>"(?:[^"\\]|\\.)*")
  | (?P<value>%[A-Za-z0-9_.$]+)
  | (?P<func>@(?:[A-Za-z0-9_.$]+|"(?:[^"\\]|\\.)*"))
  | (?P<label>\^[A-Za-z0-9_.$]*)
  | (?P<type>&?(?:f32|f64|i32|i64|bool)\[[0-9,]*\](?![A-Za-z0-9_]))
  | (?P<attr>\b[A-Za-z_][A-Za-z0-9_]*(?=\ =\ ))
  | (?P<word>\b[A-Za-z_][A-Za-z0-9_]*)
""", re.VERBOSE)
_DTYPE_SHORT = frozenset(d.short for d in ALL_DTYPES)
# Where a line's op name starts: after the indentation and the `%r, ... = ` results, if any.
_OP_START = re.compile(r"\s*(?:%[A-Za-z0-9_.$]+(?:, %[A-Za-z0-9_.$]+)* = )?(?=[A-Za-z_])")


def _highlight(line: str) -> str:
    m = _OP_START.match(line)
    op_at = m.end() if m else -1
    out, pos = [], 0
    for m in _TOKEN.finditer(line):
        kind = m.lastgroup or ""
        if kind == "word":
            word = m.group()
            kind = ("keyword" if word == "func" and m.start() == 0 else "op" if m.start() == op_at
                    else "type" if word in _DTYPE_SHORT else "")
        out.append(html.escape(line[pos:m.start()]))
        text = html.escape(m.group())
        out.append(f'<span style="{_STYLES[kind]}">{text}</span>' if kind else text)
        pos = m.end()
    out.append(html.escape(line[pos:]))
    return "".join(out)


def function_html(fn: Function, locations: bool = True) -> str:
    """`fn`'s text as an HTML `<pre>` with inline-styled spans, for notebooks (`Function._repr_html_`)."""
    text = print_function(fn, locations=locations)
    body = "\n".join(_highlight(line) for line in text.splitlines())
    return f'<pre style="line-height:1.3">{body}</pre>'


# A Function prints as its IR text, and shows itself highlighted in notebooks. They are installed here, not defined
# in `ir.core`, so that the data structures import nothing that reads them.
setattr(Function, "__str__", lambda fn: print_function(fn))
setattr(Function, "_repr_html_", lambda fn: function_html(fn))
