"""Second AutoGraph pass: every `if`/`while`/`for`, boolean operator, conditional expression, `assert` and call
becomes a call into `ag__` (engine.autograph.operators), which decides at run time whether to run Python or stage
IR (DESIGN §6).

Statements take and return their state explicitly. For an `if`, the branch functions take every variable either
branch assigns and return those that are live afterwards; for a loop, the loop variables are the variables the body
assigns that are live at the loop head (read by the next iteration or after the loop). Names come from the
liveness analysis of `analysis.py`, computed on the flag-lowered function before this pass rewrites it.
"""
from __future__ import annotations

import ast
import copy
from typing import Optional

from engine.autograph.analysis import Liveness, declarations, writes

_NOT_CONVERTED_CALLS = {"super", "locals", "globals", "vars", "eval", "exec", "isinstance", "issubclass",
                        "getattr", "setattr", "hasattr", "type", "id", "callable"}


def _name(id_: str, store: bool = False) -> ast.Name:
    return ast.Name(id=id_, ctx=ast.Store() if store else ast.Load())


def _ag(attr: str) -> ast.Attribute:
    return ast.Attribute(value=_name("ag__"), attr=attr, ctx=ast.Load())


def _call(func: ast.expr, *args: ast.expr) -> ast.Call:
    return ast.Call(func=func, args=list(args), keywords=[])


def _strs(names: list[str]) -> ast.Tuple:
    return ast.Tuple(elts=[ast.Constant(n) for n in names], ctx=ast.Load())


def _shape_invariants(body: list[ast.stmt]) -> list[ast.keyword]:
    """`shape_invariants=...` of a `set_loop_options(...)` call among the loop body's statements, as a keyword for
    the loop's call (evaluated before the loop, where its variables are their initial values, as in TF)."""
    for stmt in body:
        call = stmt.value if isinstance(stmt, ast.Expr) else None
        if isinstance(call, ast.Call) and getattr(call.func, "attr", getattr(call.func, "id", None)) == \
                "set_loop_options":
            return [ast.keyword(arg="shape_invariants", value=copy.deepcopy(k.value))
                    for k in call.keywords if k.arg == "shape_invariants"]
    return []


_GROWS = {"append", "extend", "insert"}


def _outer_appends(loop: ast.stmt, body: list[ast.stmt]) -> list[ast.keyword]:
    """`appended=lambda: {"l": (l, line)}` for each `l.append(...)` (extend, insert) in the loop body on a name the
    body does not assign (a list from outside the loop): a staged loop checks that no tensor of its body lands
    there (it would leak out of the loop's region); built before the body is rewritten."""
    assigned = writes(*body)
    found: dict[str, int] = {}
    for node in (n for stmt in body for n in ast.walk(stmt)):
        f = getattr(node, "func", None) if isinstance(node, ast.Call) else None
        if isinstance(f, ast.Attribute) and f.attr in _GROWS and isinstance(f.value, ast.Name) and \
                f.value.id not in assigned:
            found.setdefault(f.value.id, node.lineno)
    if not found:
        return []
    table = ast.Dict(keys=[ast.Constant(n) for n in found],
                     values=[ast.Tuple(elts=[_name(n), ast.Constant(line)], ctx=ast.Load()) for n, line in found.items()])
    return [ast.copy_location(ast.keyword(arg="appended", value=_lambda(table)), loop)]


def _lambda(body: ast.expr) -> ast.Lambda:
    return ast.Lambda(args=ast.arguments(posonlyargs=[], args=[], vararg=None, kwonlyargs=[], kw_defaults=[],
                                         kwarg=None, defaults=[]), body=body)


def _ref(state: str, store: bool = False) -> ast.expr:
    """The expression of a piece of state: a name, or an attribute `obj.attr` of a name."""
    if "." not in state:
        return _name(state, store)
    base, attr = state.split(".", 1)
    return ast.Attribute(value=_name(base), attr=attr, ctx=ast.Store() if store else ast.Load())


def _param(state: str) -> str:
    return state if "." not in state else "ag__attr_" + state.replace(".", "_")


def _inputs(state: list[str]) -> ast.expr:
    """`ag__.ld(locals(), names, getters)`: the current values of the state (attributes through getters)."""
    getters = ast.Dict(keys=[ast.Constant(n) for n in state if "." in n],
                       values=[_lambda(_ref(n)) for n in state if "." in n])
    return _call(_ag("ld"), _call(_name("locals")), _strs(state), getters)


def _def(name: str, params: list[str], body: list[ast.stmt], like: ast.AST,
         scope: tuple[list[str], list[str]] = ([], [])) -> ast.FunctionDef:
    """`def name(*params): body`, re-declaring the user function's `global` and `nonlocal` names (`scope`), so
    that assigning one inside a branch or loop body still assigns the user's variable. An attribute `obj.attr` in
    `params` is a parameter `ag__attr_obj_attr` that the body first stores back into the attribute."""
    globals_, nonlocals = scope
    decls: list[ast.stmt] = ([ast.Global(names=list(globals_))] if globals_ else []) + \
        ([ast.Nonlocal(names=list(nonlocals))] if nonlocals else [])
    decls += [_set_attribute(p, _name(_param(p))) for p in params if "." in p]
    fn = ast.FunctionDef(name=name, args=ast.arguments(posonlyargs=[], args=[ast.arg(arg=_param(p)) for p in params],
                                                       vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None,
                                                       defaults=[]),
                         body=decls + (body or [ast.Pass()]), decorator_list=[], returns=None)
    ast.copy_location(fn, like)
    return fn


def _return_tuple(names: list[str]) -> ast.Return:
    return ast.Return(value=ast.Tuple(elts=[_ref(n) for n in names], ctx=ast.Load()))


def _set_attribute(state: str, value: ast.expr) -> ast.stmt:
    """`obj.attr = value`, unless value is Undefined (the attribute did not exist and this path did not set it)."""
    base, attr = state.split(".", 1)
    return ast.Expr(value=_call(_ag("set_attribute"), _name(base), ast.Constant(attr), value))


def _unpack(names: list[str], value: ast.expr, like: ast.AST) -> list[ast.stmt]:
    if names:
        target = ast.Tuple(elts=[_name(_param(n), store=True) for n in names], ctx=ast.Store())
        stmts: list[ast.stmt] = [ast.Assign(targets=[target], value=value)]
        stmts += [_set_attribute(n, _name(_param(n))) for n in names if "." in n]
    else:
        stmts = [ast.Expr(value=value)]
    return [ast.copy_location(stmt, like) for stmt in stmts]


def _attribute_writes(stmts: list[ast.stmt]) -> set[str]:
    """`obj.attr` for every attribute of a plain name that `stmts` assign (not looking into nested functions and
    classes, which run at other times): as in TensorFlow, such attributes are state of the loop or if."""
    out: set[str] = set()
    stack: list[ast.AST] = list(stmts)
    while stack:
        n = stack.pop()
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        if isinstance(n, ast.Attribute) and isinstance(n.ctx, ast.Store) and isinstance(n.value, ast.Name) \
                and not n.value.id.startswith("ag__"):
            out.add(f"{n.value.id}.{n.attr}")
        stack.extend(ast.iter_child_nodes(n))
    return out


class ControlFlowTransformer(ast.NodeTransformer):
    """Rewrites the body of one (flag-lowered) function; nested functions are left for their own conversion."""

    def __init__(self, fn: ast.FunctionDef) -> None:
        self.live = Liveness(fn.body)
        self.scope = declarations(fn)
        self.excluded = set(self.scope[0]) | set(self.scope[1])
        self.counter = 0

    def _state(self, names: set[str]) -> list[str]:
        return sorted(n for n in names if n not in self.excluded and not n.startswith("ag__"))

    def _fresh(self, kind: str) -> str:
        self.counter += 1
        return f"ag__{kind}_{self.counter}"

    def _loc(self, node: ast.AST) -> ast.Constant:
        return ast.Constant(getattr(node, "lineno", 0))

    # Nested scopes are converted when they are called, not here.
    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        return node

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.AST:
        return node

    def visit_Lambda(self, node: ast.Lambda) -> ast.AST:
        return node

    # ---- statements
    def visit_If(self, node: ast.If) -> list[ast.stmt]:
        live_out = self.live.live_out.get(id(node), set())
        test = self.visit(node.test)
        attrs = sorted(_attribute_writes(node.body + node.orelse))  # before the rewrite hides them in branch defs
        self.generic_visit_body(node)
        params = self._state(writes(*node.body, *node.orelse)) + attrs
        outputs = [n for n in params if n in live_out or n in attrs]
        then_name, else_name = self._fresh("if_true"), self._fresh("if_false")
        then_fn = _def(then_name, params, node.body + [_return_tuple(outputs)], node, self.scope)
        else_fn = _def(else_name, params, node.orelse + [_return_tuple(outputs)], node, self.scope)
        call = _call(_ag("if_stmt"), test, _name(then_name), _name(else_name), _inputs(params), _strs(outputs),
                     _strs(params), self._loc(node))
        return [then_fn, else_fn, *_unpack(outputs, call, node)]

    def visit_While(self, node: ast.While) -> list[ast.stmt]:
        head = self.live.loop_head.get(id(node), set()) | self.live.live_out.get(id(node), set())
        test = self.visit(node.test)
        attrs = sorted(_attribute_writes(node.body))
        options = _shape_invariants(node.body) + _outer_appends(node, node.body)
        self.generic_visit_body(node)
        state = self._state(writes(*node.body) & head) + attrs
        test_name, body_name = self._fresh("loop_test"), self._fresh("loop_body")
        test_fn = _def(test_name, state, [ast.Return(value=test)], node, self.scope)
        body_fn = _def(body_name, state, node.body + [_return_tuple(state)], node, self.scope)
        call = _call(_ag("while_stmt"), _name(test_name), _name(body_name),
                     _inputs(state), _strs(state), self._loc(node))
        call.keywords = options
        out: list[ast.stmt] = [test_fn, body_fn, *_unpack(state, call, node)]
        for s in node.orelse:
            out.extend(self._as_list(self.visit(s)))
        return out

    def visit_For(self, node: ast.For) -> list[ast.stmt]:
        head = self.live.loop_head.get(id(node), set()) | self.live.live_out.get(id(node), set())
        iter_ = self._iter(node.iter)
        extra: Optional[ast.expr] = getattr(node, "ag_extra_test", None)
        attrs = sorted(_attribute_writes(node.body))
        options = _shape_invariants(node.body) + _outer_appends(node, node.body)
        self.generic_visit_body(node)
        targets = writes(node.target)
        # The target is state only when read after the loop (it then keeps the last item, as in Python).
        live_out = self.live.live_out.get(id(node), set())
        state = self._state(((writes(*node.body) - targets) & head) | (targets & live_out)) + attrs
        body_name = self._fresh("for_body")
        item = self._fresh("item")
        bind = ast.copy_location(ast.Assign(targets=[node.target], value=_name(item)), node)
        body_fn = _def(body_name, [item] + state, [bind] + node.body + [_return_tuple(state)], node, self.scope)
        out: list[ast.stmt] = [body_fn]
        extra_ref: ast.expr = ast.Constant(None)
        if extra is not None:
            extra_name = self._fresh("for_extra_test")
            out.append(_def(extra_name, state, [ast.Return(value=self.visit(extra))], node, self.scope))
            extra_ref = _name(extra_name)
        call = _call(_ag("for_stmt"), iter_, extra_ref, _name(body_name),
                     _inputs(state), _strs(state), self._loc(node))
        call.keywords = options
        out.extend(_unpack(state, call, node))
        for s in node.orelse:
            out.extend(self._as_list(self.visit(s)))
        return out

    def _iter(self, it: ast.expr) -> ast.expr:
        """`range(...)` and `engine.range(...)` go through ag__.range_call, which stages tensor bounds."""
        if isinstance(it, ast.Call) and ((isinstance(it.func, ast.Name) and it.func.id == "range") or
                                         (isinstance(it.func, ast.Attribute) and it.func.attr == "range")) \
                and not it.keywords and not any(isinstance(a, ast.Starred) for a in it.args):
            return ast.copy_location(_call(_ag("range_call"), self.visit(it.func), *[self.visit(a) for a in it.args]),
                                     it)
        return self.visit(it)

    def visit_Assert(self, node: ast.Assert) -> ast.stmt:
        msg = self.visit(node.msg) if node.msg is not None else ast.Constant(None)
        call = _call(_ag("assert_stmt"), self.visit(node.test), _lambda(msg), self._loc(node))
        return ast.copy_location(ast.Expr(value=call), node)

    def generic_visit_body(self, node: ast.AST) -> None:
        for field in ("body", "orelse"):
            stmts = getattr(node, field, None)
            if stmts is None:
                continue
            new: list[ast.stmt] = []
            for s in stmts:
                new.extend(self._as_list(self.visit(s)))
            setattr(node, field, new)

    @staticmethod
    def _as_list(r: object) -> list[ast.stmt]:
        if r is None:
            return []
        return r if isinstance(r, list) else [r]  # type: ignore[list-item]

    # ---- expressions
    def visit_BoolOp(self, node: ast.BoolOp) -> ast.expr:
        values = [self.visit(v) for v in node.values]
        fn = "and_" if isinstance(node.op, ast.And) else "or_"
        acc = values[-1]
        for v in reversed(values[:-1]):
            acc = _call(_ag(fn), _lambda(v), _lambda(acc))
        return ast.copy_location(acc, node)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.expr:
        if isinstance(node.op, ast.Not):
            return ast.copy_location(_call(_ag("not_"), self.visit(node.operand)), node)
        return self.generic_visit(node)

    def visit_IfExp(self, node: ast.IfExp) -> ast.expr:
        return ast.copy_location(_call(_ag("if_exp"), self.visit(node.test), _lambda(self.visit(node.body)),
                                       _lambda(self.visit(node.orelse)), self._loc(node)), node)

    def visit_Compare(self, node: ast.Compare) -> ast.expr:
        node = self.generic_visit(node)  # type: ignore[assignment]
        if len(node.ops) == 1:
            return node
        # a < b < c: each comparison once, combined with ag__.and_ (tensors cannot be chained in Python).
        terms = [node.left] + node.comparators
        parts = [ast.Compare(left=terms[i], ops=[op], comparators=[terms[i + 1]]) for i, op in enumerate(node.ops)]
        acc: ast.expr = parts[-1]
        for p in reversed(parts[:-1]):
            acc = _call(_ag("and_"), _lambda(p), _lambda(acc))
        return ast.copy_location(acc, node)

    def visit_Call(self, node: ast.Call) -> ast.expr:
        node = self.generic_visit(node)  # type: ignore[assignment]
        f = node.func
        if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id == "ag__":
            return node
        if isinstance(f, ast.Name) and f.id in _NOT_CONVERTED_CALLS:
            return node
        args = ast.Tuple(elts=node.args, ctx=ast.Load())
        # A keyword with arg None is `**mapping`, which a dict display spells with a None key.
        kwargs = ast.Dict(keys=[None if k.arg is None else ast.Constant(k.arg) for k in node.keywords],
                          values=[k.value for k in node.keywords])
        return ast.copy_location(_call(_ag("converted_call"), f, args, kwargs), node)


def transform(fn: ast.FunctionDef) -> ast.FunctionDef:
    t = ControlFlowTransformer(fn)
    new_body: list[ast.stmt] = []
    for s in fn.body:
        new_body.extend(t._as_list(t.visit(s)))
    fn.body = new_body
    ast.fix_missing_locations(fn)
    return fn
