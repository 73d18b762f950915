"""Static analysis for AutoGraph: which names a statement reads and writes, and which are live after it.

Liveness is the classic backward dataflow over the structured AST: a name is live after a statement if some path
from there reads it before writing it. Compound statements only *may* write (their writes do not kill). Reads
inside nested functions count at the `def` (closures may read at any time). Results are keyed by `id(node)`.
"""
from __future__ import annotations

import ast
from typing import Iterable, Optional


class _Names(ast.NodeVisitor):
    def __init__(self) -> None:
        self.reads: set[str] = set()
        self.writes: set[str] = set()

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load):
            self.reads.add(node.id)
        else:
            self.writes.add(node.id)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        # `d[k] = v` (and `l[i] += 1`, `d[a][b] = v`) changes the container `d`: as in TensorFlow's AutoGraph, it
        # is written, so it is state of the loop or if around it.
        if isinstance(node.ctx, (ast.Store, ast.Del)):
            base = node.value
            while isinstance(base, ast.Subscript):
                base = base.value
            if isinstance(base, ast.Name):
                self.writes.add(base.id)
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        if isinstance(node.target, ast.Name):
            self.reads.add(node.target.id)
        self.generic_visit(node)

    def _function(self, node: ast.AST, name: Optional[str]) -> None:
        if name:
            self.writes.add(name)
        inner = _Names()
        for child in ast.iter_child_nodes(node):
            inner.visit(child)
        self.reads |= inner.reads  # closures may read outer names whenever they run

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        for d in node.decorator_list:
            self.visit(d)
        self._function(node, node.name)

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self._function(node, None)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.writes.add(node.name)
        for child in node.bases + node.keywords + node.decorator_list:
            self.visit(child)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.writes.add((alias.asname or alias.name).split(".")[0])

    visit_ImportFrom = visit_Import  # type: ignore[assignment]

    def visit_Global(self, node: ast.Global) -> None:
        pass

    def visit_comprehension(self, node: ast.comprehension) -> None:
        self.generic_visit(node)


def names(nodes: Iterable[ast.AST]) -> tuple[set[str], set[str]]:
    """(reads, writes) of the given nodes, recursing into compound statements."""
    v = _Names()
    for n in nodes:
        v.visit(n)
    return v.reads, v.writes


def reads(*nodes: ast.AST) -> set[str]:
    return names(nodes)[0]


def writes(*nodes: ast.AST) -> set[str]:
    return names(nodes)[1]


class Liveness:
    """Live-out sets of every statement of a function body; for loops also the live set at the loop head."""

    def __init__(self, body: list[ast.stmt]) -> None:
        self.live_out: dict[int, set[str]] = {}
        self.loop_head: dict[int, set[str]] = {}
        self.block(body, set())

    def block(self, stmts: list[ast.stmt], live_after: set[str]) -> set[str]:
        live = set(live_after)
        for s in reversed(stmts):
            live = self.stmt(s, live)
        return live

    def stmt(self, s: ast.stmt, after: set[str]) -> set[str]:
        self.live_out[id(s)] = set(after)
        if isinstance(s, ast.If):
            return reads(s.test) | self.block(s.body, after) | self.block(s.orelse, after)
        if isinstance(s, ast.While):
            head = after | reads(s.test) | self.block(s.orelse, after)
            while True:
                new = after | reads(s.test) | self.block(s.body, head) | self.block(s.orelse, after)
                if new == head:
                    break
                head = new
            self.loop_head[id(s)] = head
            return head
        if isinstance(s, (ast.For, ast.AsyncFor)):
            target = writes(s.target)
            # The extra test of a lowered `for` (`not break_N`, `not do_return`) runs before every iteration.
            extra = getattr(s, "ag_extra_test", None)
            extra_reads = reads(extra) if extra is not None else set()
            head = after | extra_reads | self.block(s.orelse, after)
            while True:
                body_in = self.block(s.body, head) - target
                new = after | extra_reads | body_in | self.block(s.orelse, after)
                if new == head:
                    break
                head = new
            self.loop_head[id(s)] = head
            return head | reads(s.iter)
        if isinstance(s, (ast.Return, ast.Raise)):
            return reads(s)
        if isinstance(s, (ast.Try, ast.With, ast.AsyncWith, getattr(ast, "TryStar", ast.Try))):
            # Not staged; analysed conservatively: nothing is killed.
            for field in ("body", "orelse", "finalbody"):
                self.block(getattr(s, field, []) or [], after)
            for h in getattr(s, "handlers", []) or []:
                self.block(h.body, after)
            return after | reads(s)
        if isinstance(s, (ast.Break, ast.Continue, ast.Pass)):
            return set(after)
        r, w = names([s])
        if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return (after - w) | r
        return (after - w) | r


def declarations(fn: ast.FunctionDef) -> tuple[list[str], list[str]]:
    """The names `fn` itself declares global and nonlocal (declarations inside its nested functions and classes
    belong to those scopes)."""
    globals_: list[str] = []
    nonlocals: list[str] = []
    stack: list[ast.AST] = list(fn.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        if isinstance(node, ast.Global):
            globals_ += [n for n in node.names if n not in globals_]
        elif isinstance(node, ast.Nonlocal):
            nonlocals += [n for n in node.names if n not in nonlocals]
        stack.extend(ast.iter_child_nodes(node))
    return sorted(globals_), sorted(nonlocals)


def declared_nonlocal(fn: ast.FunctionDef) -> set[str]:
    """Names the function declares global or nonlocal (never loop or branch state)."""
    globals_, nonlocals = declarations(fn)
    return set(globals_) | set(nonlocals)
