"""Malformed IR text gets a ParseError that names its line and column, shows the line and puts a caret under the
offending token (ir.parser, ir.lexer, ir.literals).
"""
from __future__ import annotations

import re

import pytest

from ir.parser import ParseError, parse
from ir.printer import print_function
from test_ir_text import control_flow

GOOD = "func @f(%x: f32[3]) -> (f32[3]) {\n  %y = sin %x : f32[3]\n  return %y\n}\n"
BAD = [
    (GOOD.replace("sin %x", "frobnicate %x"), 2, "unknown op 'frobnicate'"),
    (GOOD.replace("sin %x", "sin %q"), 2, "undefined value %q"),
    (GOOD.replace("%y = sin %x", "%x = sin %x"), 2, "value %x is already defined (line 1)"),
    (GOOD.replace("sin %x : f32[3]", "sin %x : f33[3]"), 2, "found 'f33'"),
    (GOOD.replace("%x: f32[3]", "%x: f32[3,-1]"), 1, "found '-1'"),
    (GOOD.replace("%y = sin", "%y, %z = sin"), 2, "2 result(s) but 1 type(s)"),
    (GOOD.replace("%y = sin", "%y, %y = sin"), 2, "value %y is already defined (line 2)"),
    (GOOD.replace("%y = sin %x : f32[3]", "assign %x, %x : f32[3]"), 2, "assign has no results, so no ': types'"),
    (GOOD.replace(" : f32[3]\n", "\n"), 3, "expected ':' and the types of the 1 result(s), found 'return'"),
    (GOOD.replace("return %y", "return %y }"), 4, "expected end of input after the function, found '}'"),
    (GOOD.replace("-> (f32[3])", "-> (f32[])"), 3, "declares results (f32[]) but returns (f32[3])"),
    ("func @f() -> (f32[2]) {\n  %c = constant {value = [1.0, 2.0, 3.0]} : f32[2]\n  return %c\n}\n", 2,
     "the literal has shape (3,) but the type f32[2] has shape (2,)"),
    ("func @f() -> (i32[]) {\n  %c = constant {value = 1.5} : i32[]\n  return %c\n}\n", 2,
     "element 1.5 is not a valid i32 element"),
    (GOOD.replace("sin %x", "sin %x {axes = [0}"), 2, "expected ',' or ']' in a list, found '}'"),
    (GOOD.replace("sin", "sin ~"), 2, "unexpected character '~'"),
    (GOOD.replace("sin %x", "sin ?"), 2, "expected ':' and the types of the 1 result(s), found '?'"),
]


@pytest.mark.parametrize("text, line, message", BAD, ids=[m for _, _, m in BAD])
def test_parse_errors_name_line_and_token(text: str, line: int, message: str) -> None:
    with pytest.raises(ParseError) as info:
        parse(text)
    err = info.value
    first, source, caret = str(err).split("\n")
    assert first.startswith(f"line {line}:{err.col}: ") and message in first
    assert err.line == line and source.strip() == text.split("\n")[line - 1].strip()
    assert caret.index("^") - 4 == err.col - 1 and isinstance(err, ValueError)


def test_undefined_error_points_at_the_value() -> None:
    with pytest.raises(ParseError) as info:
        parse(GOOD.replace("sin %x", "sin %q"))
    assert (info.value.line, info.value.col) == (2, len("  %y = sin ") + 1)


def test_region_values_are_not_visible_after_the_region() -> None:
    text = print_function(control_flow())
    inner = re.search(r"(%\S+) = sin", text).group(1)
    broken = text.replace("return %y.", f"return {inner}, %y.")
    with pytest.raises(ParseError, match=f"undefined value {re.escape(inner)}"):
        parse(broken)
