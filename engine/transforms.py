"""JAX-style transforms on the IR: `grad`, `value_and_grad`, `vjp`, `jvp`, `hessian` (DESIGN §7).

Each traces the function into an ir.Function (through `engine.function`, so AutoGraph and Variables work as in
compiled code), transforms it with `autodiff.reverse` / `autodiff.forward`, and either runs the result natively
(cached per traced signature) or, when called while another function is being traced, inlines it into that trace,
which is how `engine.function(engine.grad(f))` compiles a gradient and `grad(grad(f))` differentiates one.
Gradients flow to tensor arguments (any nesting) and to Variables passed as arguments.
"""
from __future__ import annotations

import functools
import weakref
from typing import Any, Callable, Sequence, Union

import numpy as np

from autodiff.forward import jvp_function
from autodiff.reverse import vjp_function
from engine import nest
from engine.convert import convert_to_tensor
from engine.custom_gradient import ir_transform_tracing
from engine.function import Function
from engine.tensor import Tensor
from engine.trace import current
from engine.variables import Variable
from ir.core import Function as IRFunction
from ir.types import Cell

_compiled: "weakref.WeakKeyDictionary[IRFunction, Any]" = weakref.WeakKeyDictionary()


def _as_function(fun: Callable[..., Any]) -> Function:
    return fun if isinstance(fun, Function) else Function(fun)


def _wraps(fun: Callable[..., Any]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """functools.wraps without copying `fun.__dict__`: when `fun` is an engine.function, its __dict__ holds its
    trace cache and python_function, and `engine.function(grad(fun))` (or grad(grad(fun))) copying them would
    trace `fun` itself instead of its gradient."""
    return functools.wraps(fun, updated=())


def _float_params(cf: Any, params: list[list[int]]) -> list[list[int]]:
    """Each group's IR parameters that carry a gradient: floating-point tensors and Variables (integer and bool
    arguments get None, as a GradientTape gives)."""
    return [[i for i in group if cf.ir.params[i].type.dtype.is_floating] for group in params]


def _pack_grads(value: Any, group: list[int], float_group: list[int], grads: list[Tensor]) -> Any:
    """The gradients of one argument in its structure, None at its non-floating leaves."""
    it = iter(grads)
    leaves = [next(it) if i in float_group else None for i in group]
    return nest.pack_sequence_as(value, leaves)


def _prepare(args: tuple, argnums: Union[int, Sequence[int]]) -> tuple[tuple, tuple[int, ...]]:
    """Python numbers at differentiated positions become float32 tensors (they have no parameter otherwise)."""
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    out = list(args)
    for i in nums:
        if i >= len(args):
            raise TypeError(f"argnums {i} is out of range for {len(args)} positional argument(s)")
        out[i] = nest.map_structure(lambda x: convert_to_tensor(x) if isinstance(x, (int, float)) and
                                    not isinstance(x, bool) else x, args[i])
    return tuple(out), nums


def _params_of(cf: Any, fn: Function, nums: Sequence[int]) -> list[list[int]]:
    """For each differentiated positional argument, the IR parameter indices of its leaves (tensors, Variables),
    also for arguments gathered by `*args`."""
    params = list(fn._signature.parameters.values())
    positional = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    varargs = next((p.name for p in params if p.kind is p.VAR_POSITIONAL), None)
    n_tensors = len(cf.ir.params) - len(cf.variables)
    out = []
    for i in nums:
        if i < len(positional):
            name, start, value = positional[i], 0, cf._arguments[positional[i]]
        elif varargs is not None:
            name = varargs
            items = cf._arguments[varargs]
            j = i - len(positional)
            start = sum(len(nest.flatten(x)) for x in items[:j])
            value = items[j]
        else:
            raise TypeError(f"argnums {i}: the function takes {len(positional)} positional argument(s)")
        idx = []
        for k, leaf in enumerate(nest.flatten(value)):
            if isinstance(leaf, Variable):
                idx.append(n_tensors + next(j for j, v in enumerate(cf.variables) if v is leaf))
            else:
                idx.append(cf._param_slots.index((name, start + k)))
        out.append(idx)
    return out


def _inputs(cf: Any, args: tuple, kwargs: dict) -> list[Any]:
    bound = cf._signature.bind(*args, **kwargs)
    bound.apply_defaults()
    flat = {k: nest.flatten(v) for k, v in bound.arguments.items()}
    return [flat[a][i] for a, i in cf._param_slots]


def _execute(fn: IRFunction, inputs: list[Any], variables: Sequence[Variable], extra: Sequence[Any] = (),
             jit_compile: Any = True) -> list[Tensor]:
    """Runs a transformed function whose parameters are (the traced function's tensors, its Variables, `extra`
    seeds or tangents): inlined into the trace in progress, else as (cached) native code, or on the interpreter
    when the transformed engine.function says jit_compile=False."""
    trace = current()
    if trace is not None:
        def value(x: Any) -> Any:
            return trace.value_of(x if isinstance(x, Tensor) else convert_to_tensor(x))
        operands = [value(x) for x in inputs] + [trace.variable_ref(v) for v in variables] + [value(x) for x in extra]
        return [Tensor(None, v) for v in trace.inline(fn, operands)]
    if jit_compile is False:
        from ir.interp import run
        arrays = [np.asarray(x._value if isinstance(x, Tensor) else x) for x in list(inputs) + list(extra)]
        n = len(inputs)
        return [Tensor(o) for o in run(fn, arrays[:n] + [v.cell for v in variables] + arrays[n:])]
    def array(x: Any) -> np.ndarray:
        return np.asarray(x._value if isinstance(x, Tensor) else x)
    ordered = [array(x) for x in inputs] + [v.cell for v in variables] + [array(x) for x in extra]
    from engine.kernels import native_kernel
    compiled = native_kernel(_compiled, fn, tuple(None if isinstance(a, Cell) else np.shape(a) for a in ordered))
    return [Tensor(o) for o in compiled(ordered)]


class _Traced:
    """One traced signature of a function being transformed, and its transformed IR (cached per kind)."""

    def __init__(self, fun: Callable[..., Any], args: tuple, kwargs: dict) -> None:
        self.fn = _as_function(fun)
        with ir_transform_tracing():
            self.cf = self.fn.get_concrete_function(*args, **kwargs)
        self.inputs = _inputs(self.cf, args, kwargs)
        self.out_leaves = [x for x in nest.flatten(self.cf.structured_outputs) if x is not None]

    def transformed(self, key: Any, build: Callable[[], IRFunction]) -> IRFunction:
        cache = self.cf.__dict__.setdefault("_transforms", {})
        if key not in cache:
            cache[key] = build()
        return cache[key]

    def execute(self, fn: IRFunction, extra: Sequence[Any] = ()) -> list[Tensor]:
        return _execute(fn, self.inputs, self.cf.variables, extra, self.fn.jit_compile)


def value_and_grad(fun: Callable[..., Any], argnums: Union[int, Sequence[int]] = 0, has_aux: bool = False
                   ) -> Callable[..., Any]:
    """f -> (x -> (f(x), df/dx)) for a scalar floating-point f; with has_aux, f returns (value, aux) and the
    result is ((value, aux), grads).

    >>> import engine as tf
    >>> v, g = tf.value_and_grad(lambda x: tf.reduce_sum(x * x))(tf.constant([1.0, 2.0]))
    >>> g.numpy()
    array([2., 4.], dtype=float32)
    """
    fn = _as_function(fun)  # one Function, so later calls with arguments of the same types reuse its trace

    @_wraps(fun)
    def vg(*args: Any, **kwargs: Any) -> Any:
        args, nums = _prepare(args, argnums)
        t = _Traced(fn, args, kwargs)
        outs = t.cf.ir.results
        if not outs or not outs[0].type.dtype.is_floating or outs[0].type.shape != ():
            got = "nothing" if not outs else str(outs[0].type)
            raise TypeError(f"grad requires a function whose {'first output' if has_aux else 'output'} is a "
                            f"floating-point scalar, got {got}")
        params = _params_of(t.cf, t.fn, nums)
        floats = _float_params(t.cf, params)
        wrt = [i for group in floats for i in group]
        rev = t.transformed(("vjp", tuple(wrt)), lambda: vjp_function(t.cf.ir, wrt))
        seeds = [np.ones((), outs[0].type.dtype.np) if k == 0 else np.zeros(r.type.shape, r.type.dtype.np)
                 for k, r in enumerate(r for r in outs if r.type.dtype.is_floating)]
        results = t.execute(rev, seeds)
        values, grads = results[:len(outs)], results[len(outs):]
        value = _repack(t.cf, values)
        grouped, k = [], 0
        for i, group, fgroup in zip(nums, params, floats):
            grouped.append(_pack_grads(args[i], group, fgroup, grads[k:k + len(fgroup)]))
            k += len(fgroup)
        g = grouped[0] if isinstance(argnums, int) else tuple(grouped)
        return value, g
    return vg


def _repack(cf: Any, values: list[Tensor]) -> Any:
    it = iter(values)
    return nest.pack_sequence_as(cf.structured_outputs,
                                 [None if leaf is None else next(it) for leaf in nest.flatten(cf.structured_outputs)])


def grad(fun: Callable[..., Any], argnums: Union[int, Sequence[int]] = 0, has_aux: bool = False
         ) -> Callable[..., Any]:
    """The gradient of a scalar function with respect to argument(s) `argnums` (JAX's `grad`).

    >>> import engine as tf
    >>> float(tf.grad(lambda x: x * x * x)(2.0))
    12.0
    """
    vg = value_and_grad(fun, argnums, has_aux)

    @_wraps(fun)
    def g(*args: Any, **kwargs: Any) -> Any:
        value, grads = vg(*args, **kwargs)
        return (grads, value[1]) if has_aux else grads
    return g


def vjp(fun: Callable[..., Any], *primals: Any, has_aux: bool = False) -> Any:
    """(f(primals), vjp_fn) where vjp_fn(cotangents) gives the cotangents of all primals (JAX's `vjp`)."""
    primals, nums = _prepare(primals, tuple(range(len(primals))))
    t = _Traced(fun, primals, {})
    params = _params_of(t.cf, t.fn, nums)
    floats = _float_params(t.cf, params)
    wrt = [i for group in floats for i in group]
    rev = t.transformed(("vjp", tuple(wrt)), lambda: vjp_function(t.cf.ir, wrt))
    outs = t.cf.ir.results
    out = _repack(t.cf, t.execute(t.cf.ir))
    primary = out[0] if has_aux else out

    # The primary output's leaves other than None are the first results of the traced function (aux follows).
    primary_leaves = nest.flatten(primary)
    it = iter(outs)
    leaf_floats = [leaf is not None and next(it).type.dtype.is_floating for leaf in primary_leaves]
    n_floats = sum(leaf_floats)

    def vjp_fn(cotangents: Any) -> tuple:
        flat = nest.flatten(cotangents)
        if len(flat) == len(primary_leaves):  # one per output, as JAX takes them: non-float outputs' are ignored
            flat = [c for c, f in zip(flat, leaf_floats) if f]
        elif len(flat) != n_floats:
            raise TypeError(f"vjp: expected {len(primary_leaves)} cotangent(s), one per output (or {n_floats}, "
                            f"one per floating-point output), got {len(flat)}")
        float_outs = [r for r in outs if r.type.dtype.is_floating]
        cts = [c if isinstance(c, Tensor) else convert_to_tensor(np.asarray(c, r.type.dtype.np))
               for c, r in zip(flat, float_outs)]
        if len(cts) < len(float_outs):  # with aux, only the primary output takes a cotangent
            cts += [convert_to_tensor(np.zeros(r.type.shape, r.type.dtype.np)) for r in float_outs[len(cts):]]
        results = t.execute(rev, cts)
        grads = results[len(outs):]
        grouped, k = [], 0
        for i, group, fgroup in zip(nums, params, floats):
            grouped.append(_pack_grads(primals[i], group, fgroup, grads[k:k + len(fgroup)]))
            k += len(fgroup)
        return tuple(grouped)
    if has_aux:
        return primary, vjp_fn, out[1]
    return primary, vjp_fn


def jvp(fun: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any]) -> tuple[Any, Any]:
    """(f(primals), J·tangents), by forward mode on the IR (JAX's `jvp`)."""
    primals, nums = _prepare(tuple(primals), tuple(range(len(primals))))
    t = _Traced(fun, primals, {})
    params = _params_of(t.cf, t.fn, nums)
    wrt = [i for group in params for i in group]
    fwd = t.transformed(("jvp", tuple(wrt)), lambda: jvp_function(t.cf.ir, wrt))
    tans = [x if isinstance(x, Tensor) else convert_to_tensor(np.asarray(x, dtype=np.asarray(p).dtype))
            for x, p in zip(nest.flatten(list(tangents)), nest.flatten(list(primals)))]
    results = t.execute(fwd, tans)
    n = len(t.cf.ir.results)
    values, tangent_outs = results[:n], results[n:]
    float_leaves = [r.type.dtype.is_floating for r in t.cf.ir.results]
    it = iter(tangent_outs)
    tan_full = [next(it) if f else None for f in float_leaves]
    return _repack(t.cf, values), _repack(t.cf, tan_full)


def hessian(fun: Callable[..., Any], argnums: int = 0) -> Callable[..., Any]:
    """The Hessian of a scalar function, forward over reverse: one jvp of the gradient per input element; the
    result has shape x.shape + x.shape."""
    # Traced once per signature (not once per row), run as `fun` runs: natively unless it says jit_compile=False.
    g = Function(grad(fun, argnums), jit_compile=fun.jit_compile if isinstance(fun, Function) else True)

    @_wraps(fun)
    def h(*args: Any) -> Tensor:
        from engine.ops import reshape, stack
        args, _ = _prepare(args, argnums)
        x = args[argnums]
        xt = x if isinstance(x, Tensor) else convert_to_tensor(x)
        shape = tuple(xt.shape)
        n = int(np.prod(shape, dtype=np.int64))
        rows = []
        for k in range(n):
            e = np.zeros(n, dtype=xt.dtype.np)
            e[k] = 1
            tangents = [np.zeros(np.shape(a), np.asarray(a).dtype) if i != argnums else e.reshape(shape)
                        for i, a in enumerate(args)]
            _, column = jvp(g, args, tangents)
            rows.append(column)
        return reshape(stack(rows), shape + shape)
    return h


