"""The IR's text form, reading side: `parse(text) -> Function`, the inverse of `ir.printer.print_function`.

A recursive-descent parser over the one generic op syntax (see `ir.printer`), reading the tokens of `ir.lexer`;
array literals are read by `ir.literals`. Ops come from the op table `ir.opdef.OPS`; result types come from the text
(the parser does not re-infer them: `ir.verify` does), and every Value gets its printed name as its name, so
printing the parsed function gives back the same text.
`# file.py:12` comments at the end of an op's last line become `op.loc`; other comments are ignored.

Newlines do not matter except in one place: an op's operands start on the op's own line, so an op without
operands is not read as using the value defined on the next line.
Errors raise `ParseError` with the line, the column and a caret under the offending token.
"""
from __future__ import annotations

import json
import re
from typing import Any, Callable, Optional, TypeVar

import ir.ops  # noqa: F401  (registers every row of the op table)
from ir.core import Block, Function, Op, Value
from ir.lexer import ParseError, Token, tokenize
from ir.literals import array_attrs, to_array
from ir.opdef import OPS, OpDef
from ir.types import ALL_DTYPES, DType, RefType, StackType, TensorType

_DTYPES: dict[str, DType] = {d.short: d for d in ALL_DTYPES}
T = TypeVar("T")
_LOC = re.compile(r"#\s*(\S+):([0-9]+)\s*\Z")
_INT = re.compile(r"-?[0-9]+\Z")
#: Deepest nesting of regions accepted: each level costs a few Python frames of this recursive-descent parser.
MAX_NESTING = 100


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

    def dim(self) -> "int | None":
        if self.at("?"):  # an unknown dimension
            self.advance()
            return None
        if self.tok.kind != "number" or not _INT.match(self.tok.text) or self.tok.text.startswith("-"):
            raise self.expected("a dimension (a non-negative integer, or ? for an unknown one)")
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
        if len(self.scopes) > MAX_NESTING:
            raise self.error(f"regions nested more than {MAX_NESTING} deep")
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
    if not isinstance(text, str):
        raise ParseError(f"expected IR text (a str), got {type(text).__name__}", 1, 1, "")
    parser = _Parser(text)
    try:
        return parser.function()
    except RecursionError:  # a nesting the depth check does not bound (e.g. a deep attribute)
        raise parser.error("nested too deeply to parse") from None
