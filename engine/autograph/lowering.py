"""First AutoGraph pass: `return`, `break` and `continue` become boolean flags, as TensorFlow's AutoGraph does.

- `return x` inside control flow: `do_return = True; retval_ = x`, with `retval_` starting as
  `ag__.UndefinedReturnValue()` and one final `return ag__.retval(retval_)` (given `do_return` too when the
  function may also reach its end without a return).
- `break`: `break_N = True`, and the loop's test gains `and not break_N` (for loops: an extra test).
- `continue`: `continue_N = True`, reset at the top of each iteration.
Statements after one that may set a flag run under `if not flag:`. The flags are plain variables, so the
next pass stages them like any other state: a flag set under a tensor condition becomes a tensor.
Nested functions and classes are left alone (they are converted when called).
"""
from __future__ import annotations

import ast
import copy
from typing import Optional

RETURN_FLAG = "do_return"
RETVAL = "retval_"


def _name(id_: str, store: bool = False) -> ast.Name:
    return ast.Name(id=id_, ctx=ast.Store() if store else ast.Load())


def _assign(name: str, value: ast.expr) -> ast.Assign:
    return ast.Assign(targets=[_name(name, store=True)], value=value)


def _ag(attr: str) -> ast.Attribute:
    return ast.Attribute(value=_name("ag__"), attr=attr, ctx=ast.Load())


def _not_any(flags: list[str]) -> ast.expr:
    test = _name(flags[0]) if len(flags) == 1 else ast.BoolOp(op=ast.Or(), values=[_name(f) for f in flags])
    return ast.UnaryOp(op=ast.Not(), operand=test)


class _Loop:
    def __init__(self, n: int) -> None:
        self.break_flag = f"break_{n}"
        self.continue_flag = f"continue_{n}"
        self.uses_break = False
        self.uses_continue = False


def _contains(node: ast.AST, kinds: tuple) -> bool:
    """Whether `node` holds one of `kinds`, not looking into nested functions, classes, or (for break/continue)
    nested loops."""
    stack = list(ast.iter_child_nodes(node))
    loops_block = ast.Return not in kinds
    while stack:
        n = stack.pop()
        if isinstance(n, kinds):
            return True
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        if loops_block and isinstance(n, (ast.For, ast.While, ast.AsyncFor)):
            continue
        stack.extend(ast.iter_child_nodes(n))
    return False


def _definitely_returns(stmts: list[ast.stmt]) -> bool:
    """Whether every path through `stmts` ends in a `return` (or raises)."""
    for s in stmts:
        if isinstance(s, (ast.Return, ast.Raise)):
            return True
        if isinstance(s, ast.If) and _definitely_returns(s.body) and _definitely_returns(s.orelse):
            return True
    return False


def _move_rest_into_else(stmts: list[ast.stmt]) -> list[ast.stmt]:
    """`if c: ...return a` followed by more code becomes `if c: ...return a else: <more code>` (and the mirror
    image), as AutoGraph normalizes it: then both branches of a staged `if` return a value, instead of one branch
    leaving the return value undefined."""
    for i, s in enumerate(stmts):
        rest = stmts[i + 1:]
        if not isinstance(s, ast.If) or not rest:
            continue
        body_returns, else_returns = _definitely_returns(s.body), _definitely_returns(s.orelse)
        if body_returns == else_returns:
            continue
        s = copy.copy(s)
        if body_returns:
            s.orelse = s.orelse + _move_rest_into_else(rest)
        else:
            s.body = s.body + _move_rest_into_else(rest)
        return stmts[:i] + [s]
    return stmts


class FlagLowering:
    """Rewrites one function body; see the module docstring."""

    def __init__(self) -> None:
        self._loops = 0
        self.lower_returns = False

    def function(self, fn: ast.FunctionDef) -> None:
        body = fn.body
        # A lone trailing `return` needs no flag; any other return does.
        inner_returns = any(_contains(s, (ast.Return,)) or isinstance(s, ast.Return) for s in body[:-1]) or \
            (body and not isinstance(body[-1], ast.Return) and _contains(body[-1], (ast.Return,)))
        self.lower_returns = bool(inner_returns)
        falls_off = not _definitely_returns(body)
        new_body, _ = self.block(body, None)
        if self.lower_returns:
            # A function that may reach its end without `return` hands retval the flag, which then says whether
            # this path returned (see values.retval).
            args = [_name(RETVAL)] + ([_name(RETURN_FLAG), ast.Constant(fn.lineno)] if falls_off else [])
            new_body = [_assign(RETURN_FLAG, ast.Constant(False)),
                        _assign(RETVAL, ast.Call(func=_ag("UndefinedReturnValue"), args=[], keywords=[]))] + \
                new_body + [ast.Return(value=ast.Call(func=_ag("retval"), args=args, keywords=[]))]
        fn.body = new_body or [ast.Pass()]

    def block(self, stmts: list[ast.stmt], loop: Optional[_Loop]) -> tuple[list[ast.stmt], list[str]]:
        if self.lower_returns:
            stmts = _move_rest_into_else(stmts)
        out: list[ast.stmt] = []
        flags_seen: list[str] = []
        for i, s in enumerate(stmts):
            new, flags = self.stmt(s, loop)
            out.extend(new)
            for f in flags:
                if f not in flags_seen:
                    flags_seen.append(f)
            rest = stmts[i + 1:]
            if flags and rest:
                guarded, more = self.block(rest, loop)
                for f in more:
                    if f not in flags_seen:
                        flags_seen.append(f)
                if guarded:
                    guard = ast.If(test=_not_any(flags), body=guarded, orelse=[])
                    ast.copy_location(guard, rest[0])
                    out.append(guard)
                break
        return out, flags_seen

    def stmt(self, s: ast.stmt, loop: Optional[_Loop]) -> tuple[list[ast.stmt], list[str]]:
        if isinstance(s, ast.Return) and self.lower_returns:
            value = s.value if s.value is not None else ast.Constant(None)
            new = [_assign(RETURN_FLAG, ast.Constant(True)), _assign(RETVAL, value)]
            for n in new:
                ast.copy_location(n, s)
            return new, [RETURN_FLAG]
        if isinstance(s, ast.Break) and loop is not None:
            loop.uses_break = True
            return [ast.copy_location(_assign(loop.break_flag, ast.Constant(True)), s)], [loop.break_flag]
        if isinstance(s, ast.Continue) and loop is not None:
            loop.uses_continue = True
            return [ast.copy_location(_assign(loop.continue_flag, ast.Constant(True)), s)], [loop.continue_flag]
        if isinstance(s, ast.If):
            body, fb = self.block(s.body, loop)
            orelse, fo = self.block(s.orelse, loop)
            s.body, s.orelse = body or [ast.Pass()], orelse
            return [s], fb + [f for f in fo if f not in fb]
        if isinstance(s, (ast.While, ast.For)):
            return self.loop(s)
        if isinstance(s, (ast.With, ast.Try)):
            flags: list[str] = []
            for field in ("body", "orelse", "finalbody"):
                if getattr(s, field, None):
                    new, f = self.block(getattr(s, field), loop)
                    setattr(s, field, new)
                    flags += [x for x in f if x not in flags]
            for h in getattr(s, "handlers", []) or []:
                h.body, f = self.block(h.body, loop)
                flags += [x for x in f if x not in flags]
            return [s], flags
        return [s], []

    def loop(self, s: ast.While | ast.For) -> tuple[list[ast.stmt], list[str]]:
        self._loops += 1
        ctx = _Loop(self._loops)
        body, flags = self.block(s.body, ctx)
        outer_flags = [f for f in flags if f not in (ctx.break_flag, ctx.continue_flag)]
        if ctx.uses_continue:
            body = [ast.copy_location(_assign(ctx.continue_flag, ast.Constant(False)), s)] + body
        s.body = body or [ast.Pass()]
        stop = ([ctx.break_flag] if ctx.uses_break else []) + [f for f in outer_flags if f == RETURN_FLAG]
        pre: list[ast.stmt] = []
        if ctx.uses_break:
            pre.append(ast.copy_location(_assign(ctx.break_flag, ast.Constant(False)), s))
        if stop:
            if isinstance(s, ast.While):
                s.test = ast.BoolOp(op=ast.And(), values=[s.test, _not_any(stop)])
            else:
                s.ag_extra_test = _not_any(stop)  # type: ignore[attr-defined]
        post: list[ast.stmt] = []
        if s.orelse:
            orelse, f = self.block(s.orelse, None)
            s.orelse = []
            # Python runs a loop's else unless the loop ended by break (or left the function by return).
            guard = ([ctx.break_flag] if ctx.uses_break else []) + [f for f in outer_flags if f == RETURN_FLAG]
            post = [ast.If(test=_not_any(guard), body=orelse, orelse=[])] if guard else orelse
            outer_flags += [x for x in f if x not in outer_flags]
        return pre + [s] + post, outer_flags


def lower(fn: ast.FunctionDef) -> ast.FunctionDef:
    fn = copy.deepcopy(fn)
    FlagLowering().function(fn)
    ast.fix_missing_locations(fn)
    return fn
