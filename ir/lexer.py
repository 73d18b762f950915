"""The IR text's tokens: `tokenize(text)`, and `ParseError`, which every reading error raises.

Tokens are values (`%x`), function names (`@f`), region labels (`^then`), numbers (`nan`, `inf` included), JSON
strings, identifiers and punctuation. Comments are not tokens: the comment ending a line is kept per line, because
`# file.py:12` there is an op's source location.
"""
from __future__ import annotations

import re
from typing import NamedTuple


class ParseError(ValueError):
    """Malformed IR text; the message names the line and column, what was expected and what was found."""

    def __init__(self, message: str, line: int, col: int, source_line: str) -> None:
        super().__init__(f"line {line}:{col}: {message}\n    {source_line}\n    {' ' * (col - 1)}^")
        self.line = line
        self.col = col


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
  | (?P<punct1>[,(){}\[\]:=&<>?])
  | (?P<bad>.)
""", re.VERBOSE | re.DOTALL)


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
