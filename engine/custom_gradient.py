"""`engine.custom_gradient`: a function with its own gradient rule, as TensorFlow's `tf.custom_gradient`.

`f(*x)` returns `(y, grad_fn)`; tapes record the call as one op whose backward is `grad_fn(*dy)` (with
`variables=` when f read Variables: it then returns `(dx, dvariables)`). The ops inside f are not recorded. This
works eagerly and for tapes inside `engine.function` (where grad_fn's ops become IR). The IR transforms
(`engine.grad`, `jvp`, `vjp`, `hessian`) differentiate traced ops directly and refuse a custom gradient instead of
silently ignoring it.
"""
from __future__ import annotations

import contextlib
import functools
import inspect
from typing import Any, Callable, Iterator, Sequence

from autodiff import tape as _tape
from engine import dispatch, nest
from engine.ops.funnel import as_tensor, full
from engine.dispatch import apply
from engine.tensor import Tensor, TensorLike
from ir.opdef import OPS
from engine.trace import current
from engine.variables import Variable

_ir_transform_depth = dispatch.ThreadDepth()


@contextlib.contextmanager
def ir_transform_tracing() -> Iterator[None]:
    """Marks tracing done for an IR transform (custom gradients cannot be honoured there)."""
    _ir_transform_depth[0] += 1
    try:
        yield
    finally:
        _ir_transform_depth[0] -= 1


class _CustomVJP(_tape.TapeRule):
    """The tape's step for a call of a custom_gradient function: its backward is the user's grad_fn."""

    def __init__(self, name: str, grad_fn: Callable[..., Any], n_inputs: int, variables: list[Variable]) -> None:
        self.name = name
        self.grad_fn = grad_fn
        self.n_inputs = n_inputs
        self.variables = variables

    def backward(self, em: Any, gs: Sequence[Any], results: Sequence[Any], operands: Sequence[Any]) -> list[Any]:
        upstream = [g if g is not None else full(0, r.dtype, tuple(r.shape)) for g, r in zip(gs, results)]
        takes_variables = "variables" in inspect.signature(self.grad_fn).parameters
        if self.variables and not takes_variables:
            raise TypeError(f"custom_gradient: {self.name} read Variables {[v.name for v in self.variables]}, so "
                            f"its grad_fn must accept `variables=` and return (input grads, variable grads)")
        out = self.grad_fn(*upstream, variables=self.variables) if takes_variables else self.grad_fn(*upstream)
        if takes_variables:
            dx, dvars = out
        else:
            dx, dvars = out, []
        dx = list(dx) if isinstance(dx, (list, tuple)) else [dx]
        if len(dx) != self.n_inputs:
            raise ValueError(f"custom_gradient: grad_fn of {self.name} returned {len(dx)} gradient(s) for "
                             f"{self.n_inputs} input(s)")
        cts = [None if g is None else as_tensor(g) for g in dx] + \
            [None if g is None else as_tensor(g) for g in dvars]
        return cts + [None] * (len(operands) - len(cts))


def _distinct(t: Tensor, taken: set[int]) -> Tensor:
    """`t`, or a new tensor of its value when the tapes would take it for an input (f returned an input itself,
    e.g. through `identity`): the custom step's result must be a value of its own, or the cotangent reaching it
    would also flow to the input directly, past the custom rule."""
    if _tape.key(t) not in taken:
        return t
    if t._node is None:
        return Tensor(t._value)
    return apply(OPS["reshape"], t, shape=tuple(t.shape))  # while tracing: a new IR value (canonicalize drops it)


def custom_gradient(f: Callable[..., Any]) -> Callable[..., Any]:
    """Decorator: `f(*x) -> (y, grad_fn)`.

    >>> import engine as tf
    >>> @tf.custom_gradient
    ... def clip_grad(x):
    ...     return tf.identity(x), lambda dy: tf.clip_by_value(dy, -1.0, 1.0)
    >>> x = tf.constant(3.0)
    >>> with tf.GradientTape() as t:
    ...     t.watch(x)
    ...     y = clip_grad(x) * 10.0
    >>> float(t.gradient(y, x))
    1.0
    """
    @functools.wraps(f)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if _ir_transform_depth[0]:
            raise NotImplementedError(f"custom_gradient: {f.__name__} is being traced for an IR transform "
                                      f"(engine.grad, jvp, vjp, hessian), which would ignore its custom rule; "
                                      f"use a GradientTape for it")
        trace = current()
        if trace is not None:
            trace.custom_gradients = True
        inputs = [as_tensor(a) if isinstance(a, (TensorLike, int, float)) else a for a in args]
        tensors = [x for x in inputs if isinstance(x, Tensor)]
        reads: list[Variable] = []
        saved = _tape.suspend()
        probe = _tape.Tape(persistent=True, watch_accessed_variables=True)
        _tape.push(probe)  # ops inside f are not recorded; the probe only notices Variable reads
        try:
            y, grad_fn = f(*inputs, **kwargs)
        finally:
            _tape.pop(probe)
            _tape.resume(saved)
        reads = list(probe.watched_handles.values())
        if saved:
            taken = {_tape.key(x) for x in tensors}
            hidden = _tape.suspend()  # the copies _distinct makes are not steps of the tapes
            try:
                outs = [_distinct(as_tensor(o), taken) for o in nest.flatten(y)]
            finally:
                _tape.resume(hidden)
            read_values = [probe.handle_reads[id(v)][0] for v in reads]
            record = _CustomVJP(f.__name__, grad_fn, len(tensors), reads)
            for var, value in zip(reads, read_values):
                _tape.record_read(var, value, var.trainable)
            _tape.record(record, tensors + read_values, outs, {})
            return nest.pack_sequence_as(y, outs)
        return y
    return wrapped
