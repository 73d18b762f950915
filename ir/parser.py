"""The IR's text form, reading side: `parse(text) -> Function`, the inverse of `ir.printer.print_function`.

A tokenizer and a recursive-descent parser over the one generic op syntax (see `ir.printer`). Ops come from the op
table `ir.opdef.OPS`; result types come from the text (the parser does not re-infer them: `ir.verify` does), and
every Value gets its printed name as its name, so printing the parsed function gives back the same text.
`# file.py:12` comments at the end of an op's last line become `op.loc`; other comments are ignored.

Newlines do not matter except in one place: an op's operands start on the op's own line, so an op without
operands is not read as using the value defined on the next line.
Errors raise `ParseError` with the line, the column and a caret under the offending token.
"""
from __future__ import annotations

import json
import re
from typing import Any, Callable, NamedTuple, Optional, TypeVar

import numpy as np

import ir.ops  # noqa: F401  (registers every row of the op table)
from ir.core import Block, Function, Op, Value
from ir.opdef import OPS, OpDef
from ir.types import ALL_DTYPES, DType, RefType, StackType, TensorType

_DTYPES: dict[str, DType] = {d.short: d for d in ALL_DTYPES}
T = TypeVar("T")


class ParseError(ValueError):
    """Malformed IR text; the message names the line and column, what was expected and what was found."""

    def __init__(self, message: str, line: int, col: int, source_line: str) -> None:
        super().__init__(f"line {line}:{col}: {message}\n    {source_line}\n    {' ' * (col - 1)}^")
        self.line = line
        self.col = col


# ---- tokens ---------------------------------------------------------------------------------------------------------
class Token(NamedTuple):
    kind: str  # value, func, label, number, string, ident, punct, eof
    text: str
    line: int
    col: int


_TOKEN = re.compile(r"""
    (?P<space>[ \t\r\n]+)
  | (?P<comment>\#[^\n]*)
  | (?P<string>"(?:[^"\\\n]|\\.)*")
  | (?P<value>%[A-Za-z0-9_.$]+)
  | (?P<func>@(?:[A-Za-z0-9_.$]+|"(?:[^"\\\n]|\\.)*"))
  | (?P<label>\^[A-Za-z0-9_.$]*)
  | (?P<punct>->)
  | (?P<number>-?(?:inf|nan)(?![A-Za-z0-9_])|-?[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<punct1>[,(){}\[\]:=&<>])
  | (?P<bad>.)
""", re.VERBOSE | re.DOTALL)
_LOC = re.compile(r"#\s*(\S+):([0-9]+)\s*\Z")
_INT = re.compile(r"-?[0-9]+\Z")


def tokenize(text: str) -> tuple[list[Token], dict[int, str]]:
    """The tokens, ending in an `eof` token, and the comment at the end of each line that has one."""
    tokens: list[Token] = []
    comments: dict[int, str] = {}
    line, line_start = 1, 0
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup
        if kind == "space":
            newlines = m.group().count("\n")
            if newlines:
                line += newlines
                line_start = m.start() + m.group().rfind("\n") + 1
        elif kind == "comment":
            comments[line] = m.group()
        elif kind == "bad":
            raise ParseError(f"unexpected character {m.group()!r}", line, m.start() - line_start + 1,
                             text.split("\n")[line - 1])
        else:
            tokens.append(Token("punct" if kind == "punct1" else kind, m.group(), line, m.start() - line_start + 1))
    tokens.append(Token("eof", "", line, len(text) - line_start + 1))
    return tokens, comments


# ---- array attrs ----------------------------------------------------------------------------------------------------
def array_attrs(opdef: OpDef) -> tuple[str, ...]:
    """The attrs of `opdef` that hold numpy arrays typed like its result (the `constant` row's `value`)."""
    return opdef.array_attrs


def _check_elements(data: Any, dtype: DType) -> Optional[str]:
    """Why the nested literal `data` cannot be an array of `dtype`, or None when it can."""
    if isinstance(data, tuple):
        for x in data:
            problem = _check_elements(x, dtype)
            if problem:
                return problem
        return None
    ok = (isinstance(data, bool) if dtype.is_bool else
          isinstance(data, int) and not isinstance(data, bool) if dtype.is_integer else
          isinstance(data, (int, float)) and not isinstance(data, bool))
    if not ok:
        return f"element {data!r} is not a valid {dtype.short} element"
    if dtype.is_integer and not dtype.min <= data <= dtype.max:
        return f"element {data} is out of range for {dtype.short}"
    return None


def to_array(data: Any, t: TensorType) -> np.ndarray:
    """The literal `data` (nested tuples of scalars) as an array of type `t`; ValueError when it does not fit."""
    problem = _check_elements(data, t.dtype)
    if problem:
        raise ValueError(problem)
    try:
        a = np.array(data, dtype=np.float64 if t.dtype.np == np.float32 else t.dtype.np)
    except (ValueError, OverflowError) as e:
        raise ValueError(f"the nested lists are ragged or out of range ({e})") from None
    if t.dtype.np == np.float32:
        a = doubles_to_float32(a)
    if a.shape != t.shape:
        if a.size != 0 or t.size != 0:
            raise ValueError(f"the literal has shape {a.shape} but the type {t} has shape {t.shape}")
        a = a.reshape(t.shape)
    return a


def doubles_to_float32(d: np.ndarray) -> np.ndarray:
    """Rounds doubles read from the printer's float32 decimals to the float32s those decimals name.

    Decimal -> double -> float32 rounds twice: when the double lands exactly on the midpoint of two float32s, the
    tie goes to the even one, which need not be the float32 the decimal was nearer to (`7.038531e-26`, the
    shortest decimal of the float32 0x15ae43fd, reads as a double that ties, and rounds to 0x15ae43fe). The
    printer writes each float32's shortest decimal, so on a tie the float32 whose shortest decimal reads as this
    very double is the one meant. (A hand-written decimal that is no float32's shortest and ties rounds to even.)
    """
    with np.errstate(all="ignore"):  # inf and nan pass through; they never tie
        y = d.astype(np.float32)
        y64 = y.astype(np.float64)
        other = np.where(d > y64, np.nextafter(y, np.float32(np.inf)), np.nextafter(y, np.float32(-np.inf)))
        tie = np.isfinite(y) & np.isfinite(other) & ((y64 + other.astype(np.float64)) / 2 == d)
    if tie.any():
        flat_y, flat_other, flat_d = y.reshape(-1), other.reshape(-1), d.reshape(-1)
        for i in np.flatnonzero(tie):
            if float(str(flat_other[i])) == flat_d[i]:
                flat_y[i] = flat_other[i]
        y = flat_y.reshape(d.shape)
    return y


# ---- the parser -----------------------------------------------------------------------------------------------------
class _Parser:
    def __init__(self, text: str) -> None:
        self.lines = text.split("\n")
        self.tokens, self.comments = tokenize(text)
        self.pos = 0
        self.scopes: list[dict[str, Value]] = [{}]
        self.defined: dict[str, int] = {}  # every name in the function -> the line defining it
        self.op_tokens: dict[int, Token] = {}  # id(op) -> its name token, for errors found after the op

    # -- token helpers
    @property
    def tok(self) -> Token:
        return self.tokens[self.pos]

    def peek(self) -> Token:
        return self.tokens[min(self.pos + 1, len(self.tokens) - 1)]

    def error(self, message: str, tok: Optional[Token] = None) -> ParseError:
        tok = tok or self.tok
        return ParseError(message, tok.line, tok.col, self.lines[tok.line - 1] if tok.line <= len(self.lines) else "")

    def expected(self, what: str) -> ParseError:
        found = "end of input" if self.tok.kind == "eof" else repr(self.tok.text)
        return self.error(f"expected {what}, found {found}")

    def at(self, text: str) -> bool:
        return self.tok.kind in ("punct", "ident") and self.tok.text == text

    def expect(self, text: str, what: Optional[str] = None) -> Token:
        if not self.at(text):
            raise self.expected(what or repr(text))
        return self.advance()

    def expect_kind(self, kind: str, what: str) -> Token:
        if self.tok.kind != kind:
            raise self.expected(what)
        return self.advance()

    def advance(self) -> Token:
        tok = self.tok
        self.pos += 1
        return tok

    def delimited(self, close: str, item: Callable[[], T], where: str) -> list[T]:
        """Items separated by ',' up to `close`, which it consumes."""
        items: list[T] = []
        while not self.at(close):
            if items:
                self.expect(",", f"',' or '{close}' {where}")
            items.append(item())
        self.advance()
        return items

    # -- values and types
    def reserve(self, tok: Token) -> None:
        """Claims a value's name for the whole function (names are unique across regions too)."""
        name = tok.text[1:]
        if name in self.defined:
            raise self.error(f"value {tok.text} is already defined (line {self.defined[name]})", tok)
        self.defined[name] = tok.line

    def define(self, tok: Token, t: TensorType, reserved: bool = False) -> Value:
        if not reserved:
            self.reserve(tok)
        v = Value(t, tok.text[1:])
        self.scopes[-1][v.name] = v
        return v

    def use(self) -> Value:
        tok = self.expect_kind("value", "a value (%name)")
        # Outer scopes are visible so that a region using an outer value parses; the verifier names that error.
        for scope in reversed(self.scopes):
            if tok.text[1:] in scope:
                return scope[tok.text[1:]]
        raise self.error(f"undefined value {tok.text}", tok)

    def type(self) -> TensorType:
        if self.tok.kind == "ident" and self.tok.text == "stack":  # stack<f32[3]>
            self.advance()
            self.expect("<", "'<' after stack")
            elem = self.type()
            self.expect(">", "'>' closing a stack type")
            return StackType(elem.dtype, elem.shape)
        is_ref = self.at("&")
        if is_ref:
            self.advance()
        tok = self.tok
        if tok.kind != "ident" or tok.text not in _DTYPES:
            raise self.expected(f"a type ({', '.join(_DTYPES)} with a shape, e.g. f32[3])")
        self.advance()
        self.expect("[", "'[' after the dtype of a type")
        dims = self.delimited("]", self.dim, "in a shape")
        return (RefType if is_ref else TensorType)(_DTYPES[tok.text], dims)

    def dim(self) -> int:
        if self.tok.kind != "number" or not _INT.match(self.tok.text) or self.tok.text.startswith("-"):
            raise self.expected("a dimension (a non-negative integer)")
        return int(self.advance().text)

    def types(self) -> list[TensorType]:
        out = [self.type()]
        while self.at(","):
            self.advance()
            out.append(self.type())
        return out

    def params(self) -> list[Value]:
        """`(%a: type, ...)`"""
        self.expect("(")
        return self.delimited(")", self.param, "in the parameters")

    def param(self) -> Value:
        tok = self.expect_kind("value", "a parameter (%name: type)")
        self.expect(":", "':' and the parameter's type")
        return self.define(tok, self.type())

    # -- attrs
    def attr_value(self) -> Any:
        tok = self.tok
        if tok.kind == "number":
            self.advance()
            return int(tok.text) if _INT.match(tok.text) else float(tok.text)
        if tok.kind == "string":
            self.advance()
            try:
                return json.loads(tok.text)
            except json.JSONDecodeError as e:
                raise self.error(f"bad string literal: {e.msg}", tok) from None
        if tok.kind == "ident" and tok.text in ("true", "false", "none"):
            self.advance()
            return {"true": True, "false": False, "none": None}[tok.text]
        if tok.kind == "ident" and tok.text in _DTYPES:
            self.advance()
            return _DTYPES[tok.text]
        if self.at("["):
            self.advance()
            return tuple(self.delimited("]", self.attr_value, "in a list"))
        raise self.expected("an attr value (number, string, true/false, dtype or [list])")

    def attrs(self) -> dict[str, tuple[Token, Any]]:
        """`{key = value, ...}`: each value with its first token, for errors found once the types are known."""
        self.expect("{")
        attrs: dict[str, tuple[Token, Any]] = {}

        def item() -> None:
            key = self.expect_kind("ident", "an attr name")
            if key.text in attrs:
                raise self.error(f"attr {key.text!r} is given twice", key)
            self.expect("=", f"'=' after attr name {key.text!r}")
            attrs[key.text] = (self.tok, self.attr_value())
        self.delimited("}", item, "in the attrs")
        return attrs

    # -- ops, blocks, regions
    def at_region(self) -> bool:
        return self.at("{") and self.peek().kind == "label"

    def op(self) -> Op:
        result_toks: list[Token] = []
        if self.tok.kind == "value":
            result_toks.append(self.advance())
            while self.at(","):
                self.advance()
                result_toks.append(self.expect_kind("value", "a result (%name)"))
            self.expect("=", "'=' after the results")
            for tok in result_toks:  # claimed now, in text order; visible only after the op
                self.reserve(tok)
        name_tok = self.tok
        if name_tok.kind != "ident":
            raise self.expected("an op name" if not result_toks else "an op name after '='")
        if name_tok.text not in OPS:
            raise self.error(f"unknown op {name_tok.text!r}", name_tok)
        opdef = OPS[self.advance().text]
        operands: list[Value] = []
        if self.tok.kind == "value" and self.tok.line == name_tok.line:
            operands.append(self.use())
            while self.at(","):
                self.advance()
                operands.append(self.use())
        raw_attrs = self.attrs() if self.at("{") and not self.at_region() else {}
        result_types: list[TensorType] = []
        if result_toks:
            self.expect(":", f"':' and the types of the {len(result_toks)} result(s)")
            type_tok = self.tok
            result_types = self.types()
            if len(result_types) != len(result_toks):
                raise self.error(f"{len(result_toks)} result(s) but {len(result_types)} type(s)", type_tok)
        elif self.at(":"):
            raise self.error(f"{opdef.name} has no results, so no ': types'")
        regions: list[Block] = []
        while self.at_region():
            regions.append(self.region())
        attrs = self.convert_attrs(opdef, raw_attrs, result_types)
        results = [self.define(tok, t, reserved=True) for tok, t in zip(result_toks, result_types)]
        op = Op(opdef, operands, results, attrs, regions, loc=self.loc(self.tokens[self.pos - 1].line))
        self.op_tokens[id(op)] = name_tok
        return op

    def convert_attrs(self, opdef: OpDef, raw: dict[str, tuple[Token, Any]],
                      result_types: list[TensorType]) -> dict[str, Any]:
        attrs: dict[str, Any] = {}
        for key, (tok, value) in raw.items():
            if key in array_attrs(opdef):
                if len(result_types) != 1:
                    raise self.error(f"{opdef.name}: attr {key!r} takes its type from the op's one result", tok)
                try:
                    value = to_array(value, result_types[0])
                except ValueError as e:
                    raise self.error(f"{opdef.name}: attr {key!r} does not fit {result_types[0]}: {e}", tok) from None
            attrs[key] = value
        return attrs

    def loc(self, line: int) -> Optional[tuple[str, int]]:
        m = _LOC.match(self.comments.get(line, ""))
        return (m.group(1), int(m.group(2))) if m else None

    def ops_until_close(self) -> list[Op]:
        ops: list[Op] = []
        while not self.at("}"):
            if self.tok.kind == "eof":
                raise self.expected("an op or '}'")
            ops.append(self.op())
        self.advance()
        return ops

    def region(self) -> Block:
        """`{ ^label(%a: type, ...): ops }`; its names are visible only inside."""
        self.expect("{")
        label = self.expect_kind("label", "a region label (^name)")
        self.scopes.append({})
        args = self.params()
        self.expect(":", "':' after the region's arguments")
        block = Block(args, self.ops_until_close(), label=label.text[1:])
        self.scopes.pop()
        return block

    def function(self) -> Function:
        self.expect("func", "'func'")
        name_tok = self.expect_kind("func", "a function name (@name)")
        name = name_tok.text[1:]
        if name.startswith('"'):
            try:
                name = json.loads(name)
            except json.JSONDecodeError as e:
                raise self.error(f"bad function name: {e.msg}", name_tok) from None
        params = self.params()
        self.expect("->", "'->' and the result types")
        self.expect("(", "'(' before the result types")
        declared = [] if self.at(")") else self.types()
        self.expect(")", "',' or ')' after the result types")
        self.expect("{", "'{' opening the function body")
        fn = Function(name, Block(params, self.ops_until_close()))
        if self.tok.kind != "eof":
            raise self.expected("end of input after the function")
        term = fn.block.terminator
        returned = [v.type for v in fn.results]
        if term is not None and term.opdef.name == "return" and returned != declared:
            raise self.error(f"function @{name} declares results ({', '.join(map(str, declared))}) but returns "
                             f"({', '.join(map(str, returned))})", self.op_tokens[id(term)])
        return fn


def parse(text: str) -> Function:
    """The Function that `text` (as printed by `ir.printer.print_function`) describes.

    >>> fn = parse("func @f(%x: f32[3]) -> (f32[3]) {\\n  %y = sin %x : f32[3]\\n  return %y\\n}\\n")
    >>> [op.name for op in fn.walk()], fn.params[0].name
    (['sin', 'return'], 'x')
    """
    return _Parser(text).function()
