"""Numerical gradient checks in random directions (JAX's `jax.test_util.check_grads`, on Kiln's transforms).

- forward mode: `engine.jvp(f, x, t)` against the central difference (f(x + eps t) - f(x - eps t)) / (2 eps),
  computed in float64;
- reverse mode: `engine.vjp(f, x)` checked through the inner-product identity <vjp(c), t> == <c, jvp(t)>, with the
  jvp from the numerical difference (so the check does not assume forward mode is right);
- order 2 and up: the same checks applied to the first-order transforms themselves.
"""
from __future__ import annotations

from typing import Any, Callable, Optional, Sequence

import numpy as np

from engine import nest
from engine.convert import convert_to_tensor
from engine.tensor import Tensor
from ir.types import DType

_DEFAULT_TOL = {np.dtype(np.float32): 2e-2, np.dtype(np.float64): 1e-5}
_DEFAULT_EPS = {np.dtype(np.float32): 1e-3, np.dtype(np.float64): 1e-6}


def _arrays(xs: Sequence[Any]) -> list[np.ndarray]:
    return [np.asarray(x.numpy() if isinstance(x, Tensor) else x) for x in xs]


def _is_float(x: Any) -> bool:
    return x is not None and np.dtype(x.dtype.np if isinstance(x.dtype, DType) else x.dtype).kind == "f"


def _float_dtype(xs: Sequence[np.ndarray]) -> np.dtype:
    """The dtype the checks run at: that of the floating-point arguments (integer ones are held fixed)."""
    floats = [x.dtype for x in xs if x.dtype.kind == "f"]
    return np.dtype(np.result_type(*floats)) if floats else np.dtype(np.float64)


def _outputs(f: Callable[..., Any], xs: Sequence[np.ndarray]) -> list[Optional[np.ndarray]]:
    """f's flattened outputs in float64; None where f returns None (e.g. the gradient of an integer argument)."""
    out = f(*[convert_to_tensor(x) for x in xs])
    return [None if o is None else np.asarray(o.numpy() if isinstance(o, Tensor) else o, dtype=np.float64)
            for o in nest.flatten(out)]


def _inner(a: Sequence[Any], b: Sequence[Any]) -> float:
    """Sum of the elementwise products of matching pairs; a pair with a None stands for zeros."""
    return float(sum(np.sum(np.asarray(x, np.float64) * np.asarray(y, np.float64))
                     for x, y in zip(a, b) if x is not None and y is not None))


def _random_like(rng: np.random.Generator, xs: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Random directions for floating-point arrays, zeros for the others (they are not differentiated)."""
    return [rng.standard_normal(np.shape(x)).astype(x.dtype) if x.dtype.kind == "f" else np.zeros_like(x)
            for x in map(np.asarray, xs)]


def _random_cotangents(rng: np.random.Generator, out: Any) -> tuple[Any, list[Optional[np.ndarray]]]:
    """A random cotangent per floating-point output of `out` (None for integer, bool and None outputs): the
    structure to pass to a vjp function, and the flat arrays."""
    flat = [rng.standard_normal(tuple(o.shape)).astype(o.dtype.np) if _is_float(o) else None
            for o in nest.flatten(out)]
    return nest.pack_sequence_as(out, [None if c is None else convert_to_tensor(c) for c in flat]), flat


def _same_mode(f: Callable[..., Any], g: Callable[..., Any]) -> Callable[..., Any]:
    """g as an engine.function that runs as f does (on the interpreter when f says jit_compile=False)."""
    from engine.function import Function
    return Function(g, jit_compile=f.jit_compile) if isinstance(f, Function) else g


def numerical_jvp(f: Callable[..., Any], xs: Sequence[Any], ts: Sequence[Any], eps: Optional[float] = None
                  ) -> list[Optional[np.ndarray]]:
    """Central differences along `ts`, evaluated at inputs of the primals' dtype, accumulated in float64 (None
    for None outputs)."""
    xs = _arrays(xs)
    eps = eps if eps is not None else _DEFAULT_EPS.get(_float_dtype(xs), 1e-6)
    plus = [(x.astype(np.float64) + eps * np.asarray(t, np.float64)).astype(x.dtype) if x.dtype.kind == "f" else x
            for x, t in zip(xs, ts)]
    minus = [(x.astype(np.float64) - eps * np.asarray(t, np.float64)).astype(x.dtype) if x.dtype.kind == "f" else x
             for x, t in zip(xs, ts)]
    return [None if p is None else (p - m) / (2 * eps) for p, m in zip(_outputs(f, plus), _outputs(f, minus))]


def _close(a: float, b: float, atol: float, rtol: float, what: str) -> None:
    if not abs(a - b) <= atol + rtol * max(abs(a), abs(b)):
        raise AssertionError(f"{what}: {a!r} vs {b!r} (atol={atol}, rtol={rtol})")


def check_jvp(f: Callable[..., Any], args: Sequence[Any], atol: Optional[float] = None,
              rtol: Optional[float] = None, eps: Optional[float] = None, seed: int = 0) -> None:
    """engine.jvp(f) against central differences in a random direction (floating-point outputs only)."""
    from engine.transforms import jvp
    xs = _arrays(args)
    tol = _DEFAULT_TOL.get(_float_dtype(xs), 1e-5)
    atol, rtol = atol if atol is not None else tol, rtol if rtol is not None else tol
    rng = np.random.default_rng(seed)
    ts = _random_like(rng, xs)
    _, tangent = jvp(f, [convert_to_tensor(x) for x in xs], [convert_to_tensor(t) for t in ts])
    got = [None if t is None else np.asarray(t.numpy(), np.float64) for t in nest.flatten(tangent)]
    want = numerical_jvp(f, xs, ts, eps)
    assert len(got) == len(want), f"jvp gives {len(got)} tangent(s) for {len(want)} output(s)"
    for g, w in zip(got, want):
        if g is None:
            continue
        if not np.allclose(g, w, atol=atol, rtol=rtol):
            err = np.max(np.abs(g - w))
            raise AssertionError(f"forward mode disagrees with central differences (max abs error {err:.3g}, "
                                 f"atol={atol}, rtol={rtol}):\n jvp: {g}\n numerical: {w}")


def check_vjp(f: Callable[..., Any], args: Sequence[Any], atol: Optional[float] = None,
              rtol: Optional[float] = None, eps: Optional[float] = None, seed: int = 0) -> None:
    """engine.vjp(f) through <vjp(c), t> == <c, J t>, with J t from central differences (c random on the
    floating-point outputs)."""
    from engine.transforms import vjp
    xs = _arrays(args)
    tol = _DEFAULT_TOL.get(_float_dtype(xs), 1e-5)
    atol, rtol = atol if atol is not None else tol, rtol if rtol is not None else tol
    rng = np.random.default_rng(seed + 1)
    ts = _random_like(rng, xs)
    out, vjp_fn = vjp(f, *[convert_to_tensor(x) for x in xs])
    ct, cs = _random_cotangents(rng, out)
    grads = vjp_fn(ct)
    flat_grads = [None if g is None else np.asarray(g.numpy(), np.float64) for g in nest.flatten(list(grads))]
    lhs = _inner(flat_grads, ts)
    rhs = _inner(cs, numerical_jvp(f, xs, ts, eps))
    n = sum(c is not None for c in cs)
    _close(lhs, rhs, atol * max(1, n), rtol, "reverse mode fails the inner-product check <vjp(c), t> == <c, J t>")


def check_grads(f: Callable[..., Any], args: Sequence[Any], order: int = 2, modes: Sequence[str] = ("fwd", "rev"),
                atol: Optional[float] = None, rtol: Optional[float] = None, eps: Optional[float] = None) -> None:
    """Checks f's derivatives up to `order` in the given modes, in random directions (raises AssertionError).

    Args are tensors or arrays (float64 gives tight checks); f returns tensors. Order 2 checks the first-order
    transforms of f the same way (forward over forward, reverse over reverse)."""
    args = tuple(args)
    for mode in modes:
        if mode not in ("fwd", "rev"):
            raise ValueError(f"check_grads: unknown mode {mode!r}; use 'fwd' and/or 'rev'")
    if "fwd" in modes:
        check_jvp(f, args, atol, rtol, eps)
    if "rev" in modes:
        check_vjp(f, args, atol, rtol, eps)
    if order > 1:
        rng = np.random.default_rng(order)
        xs = _arrays(args)
        if "fwd" in modes:
            ts = [convert_to_tensor(t) for t in _random_like(rng, xs)]

            def f_jvp(*primals: Any) -> Any:
                from engine.transforms import jvp
                return jvp(f, list(primals), ts)[1]
            check_grads(_same_mode(f, f_jvp), args, order - 1, ("fwd",), atol, rtol, eps)
        if "rev" in modes:
            from engine.transforms import vjp
            out, _ = vjp(f, *[convert_to_tensor(x) for x in xs])
            cs, _ = _random_cotangents(rng, out)

            def f_vjp(*primals: Any) -> Any:
                return vjp(f, *primals)[1](cs)
            check_grads(_same_mode(f, f_vjp), args, order - 1, ("rev",), atol, rtol, eps)
