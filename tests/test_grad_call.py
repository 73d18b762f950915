"""The `call` row (a call of another traced function, its body a closed region) through every stage, and the rule
that the autodiff and codegen drivers name no op (DESIGN §2: region ops carry their rules as row facets).

Oracles: numpy for values; float64 central differences for reverse mode (<J^T c, d>) and forward mode (<J d, c>).
"""
from __future__ import annotations

import ast
import os

import numpy as np
import pytest

import autodiff  # noqa: F401  (fills the rows' vjp_region / jvp_region)
import ir
from autodiff.forward import jvp_function
from autodiff.reverse import vjp_function
from codegen.runtime import compile_function
from ir.interp import run
from ir.parser import parse
from ir.passes import optimize
from ir.printer import print_function
from ir.types import TensorType, float64
from ir.verify import verify
from irbuild import build, region, while_loop
from oracles import directional_fd

V3 = TensorType(float64, (3,))
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def callee_body(b, x, y):  # type: ignore[no-untyped-def]
    """g(x, y) = (x * sin(y), exp(x) + y)"""
    return [b.one("mul", x, b.one("sin", y)), b.one("add", b.one("exp", x), y)]


def with_call(b, x, y):  # type: ignore[no-untyped-def]
    """f(x, y) = u * v + x where (u, v) = g(x * x, y)"""
    x2 = b.one("mul", x, x)
    u, v = b.op("call", [x2, y], {"callee": "g"}, regions=[region("body", [V3, V3], callee_body)],
                result_types=[V3, V3])
    return [b.one("add", b.one("mul", u, v), x)]


def f_numpy(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    x2 = x * x
    return x2 * np.sin(y) * (np.exp(x2) + y) + x


X = np.array([0.3, -0.7, 1.1])
Y = np.array([0.5, 2.0, -1.5])


@pytest.fixture(scope="module")
def fn() -> ir.Function:
    return build([V3, V3], with_call)


def test_call_prints_parses_and_verifies(fn: ir.Function) -> None:
    text = print_function(fn)
    assert "call %" in text and 'callee = "g"' in text and "^body(" in text
    again = parse(text)
    verify(again)
    assert print_function(again) == text


def test_call_interprets_and_compiles_to_numpy_values(fn: ir.Function) -> None:
    want = f_numpy(X, Y)
    np.testing.assert_allclose(run(fn, [X, Y])[0], want, rtol=1e-12)
    np.testing.assert_allclose(compile_function(optimize(fn))([X, Y])[0], want, rtol=1e-12)


def test_call_of_a_loop_compiles() -> None:
    """A callee with a while_loop inside: codegen lowers the callee's body in place."""
    i32 = TensorType(ir.types.int32, ())

    def callee(b, x):  # type: ignore[no-untyped-def]
        zero = b.one("constant", value=np.asarray(0, np.int32))
        three = b.one("constant", value=np.asarray(3, np.int32))
        _, y = while_loop(b, [zero, x], [three], lambda bb, i, y, n: [bb.one("lt", i, n)],
                          lambda bb, i, y, n: [bb.one("add", i, bb.one("constant", value=np.asarray(1, np.int32))),
                                               bb.one("mul", y, y)])
        return [y]

    def body(b, x):  # type: ignore[no-untyped-def]
        return b.op("call", [x], {"callee": "cube_square"}, regions=[region("body", [V3], callee)],
                    result_types=[V3])

    f = build([V3], body)
    assert i32.dtype is ir.types.int32
    np.testing.assert_allclose(compile_function(optimize(f))([X])[0], X ** 8, rtol=1e-12)
    np.testing.assert_allclose(run(f, [X])[0], X ** 8, rtol=1e-12)
    rev = vjp_function(f, [0])
    verify(rev)
    c = np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(run(rev, [X, c])[1], c * 8 * X ** 7, rtol=1e-10)


def test_reverse_mode_through_call_matches_central_differences(fn: ir.Function) -> None:
    rev = vjp_function(fn, [0, 1])
    verify(rev)
    rng = np.random.default_rng(1)
    c, dx, dy = rng.standard_normal(3), rng.standard_normal(3), rng.standard_normal(3)
    for runner in (lambda f, a: run(f, a), lambda f, a: compile_function(optimize(f))(a)):
        _, gx, gy = runner(rev, [X, Y, c])
        ad = float(gx @ dx + gy @ dy)
        fd = directional_fd(lambda x, y: f_numpy(x, y) @ c, [X, Y], [dx, dy])
        assert abs(ad - fd) <= 1e-6 * abs(fd) + 1e-8, (ad, fd)


def test_forward_mode_through_call_matches_central_differences(fn: ir.Function) -> None:
    fwd = jvp_function(fn, [0, 1])
    verify(fwd)
    rng = np.random.default_rng(2)
    dx, dy = rng.standard_normal(3), rng.standard_normal(3)
    _, t = run(fwd, [X, Y, dx, dy])
    for k in range(3):
        e = np.eye(3)[k]
        fd = directional_fd(lambda x, y: f_numpy(x, y) @ e, [X, Y], [dx, dy])
        assert abs(t[k] - fd) <= 1e-6 * abs(fd) + 1e-8


# ---- no driver names an op ------------------------------------------------------------------------------------------
# Every module of autodiff/ but the rule files (which fill rows' facets, as codegen/rules/ does), and codegen's
# lowering and tiling drivers.
DRIVERS = sorted(f"autodiff/{name}" for name in os.listdir(os.path.join(ROOT, "autodiff"))
                 if name.endswith(".py") and not name.startswith("rules_")) + ["codegen/lower.py", "codegen/tiling.py"]


@pytest.mark.parametrize("path", DRIVERS)
def test_driver_names_no_op(path: str) -> None:
    """The generic drivers read rows' facets and never name an op: no string literal that is an op's name (in
    code, docstrings aside) and no `OPS[...]` lookup."""
    with open(os.path.join(ROOT, path)) as f:
        tree = ast.parse(f.read())
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef)) and node.body
                  and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    named = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings \
                and node.value in ir.OPS:
            named.append(f"line {node.lineno}: {node.value!r}")
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id == "OPS":
            named.append(f"line {node.lineno}: OPS[...]")
        if isinstance(node, ast.Attribute) and node.attr == "name" and isinstance(node.value, ast.Attribute) \
                and node.value.attr == "opdef":
            parent_compares = [n for n in ast.walk(tree) if isinstance(n, ast.Compare) and
                               any(c is node for c in ast.walk(n))]
            if parent_compares:
                named.append(f"line {node.lineno}: compares opdef.name")
    assert not named, f"{path} names ops: {named}"


@pytest.mark.parametrize("name", ["cond", "while_loop", "call"])
def test_region_rows_carry_their_autodiff_rules(name: str) -> None:
    row = ir.OPS[name]
    assert row.vjp_region is not None and row.jvp_region is not None
