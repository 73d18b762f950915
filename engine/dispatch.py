"""The one funnel every op goes through: `apply(opdef, *operands, **attrs)` (DESIGN §1, §3).

With no trace active in this thread it runs the row's numpy kernel and records the op on every active GradientTape;
while this thread traces a function it hands the op to its tracer, which emits an IR op. Tracing is per thread:
another thread's trace never changes what an op does here. Operands must already have the exact types the row
expects: the public ops in `engine.ops` convert, check and broadcast before they get here.
"""
from __future__ import annotations

import contextlib
import threading
import weakref
from typing import Any, Callable, Iterator, Optional, Protocol

from autodiff import tape as _tape
from engine.tensor import Tensor
from ir.opdef import OpDef


#: Where each symbolic tensor's value was made while tracing: (op name, (file, line) or None), filled by the tracer.
ORIGINS: "weakref.WeakKeyDictionary[Any, tuple]" = weakref.WeakKeyDictionary()


def leaked_tensor_error(opdef: OpDef, t: Tensor) -> TypeError:
    """The error for a symbolic tensor used after the trace that made it ended (stored in a list, global or
    attribute instead of being returned), as TensorFlow's "is out of scope and cannot be used here"."""
    value = t._node
    made, loc = ORIGINS.get(value, ("an op", None))
    name = f"'{value.name}' " if getattr(value, "name", None) else ""
    where = f" at {loc[0]}:{loc[1]}" if loc else ""
    return TypeError(f"symbolic tensor {name}({value.type}, made by {made}{where}) is out of scope and cannot be "
                     f"used here (by {opdef.name}): it was created while tracing a function and leaked out of it "
                     f"(kept in a list, global or attribute). Return it from the function instead.")


#: Called after every op with (opdef, result tensors, traced) when set: `tf.debugging.enable_check_numerics`.
after_op: Optional[Callable[[OpDef, tuple, bool], None]] = None


class Tracer(Protocol):
    """What the tracer provides while a function is traced (engine.trace)."""

    def emit(self, opdef: OpDef, operands: tuple, attrs: dict) -> Any: ...
    def read_variable(self, variable: Any) -> Tensor: ...
    def assign_variable(self, variable: Any, value: Tensor) -> None: ...


class _ThisThread(threading.local):
    """The tracers installed by this thread, innermost last: tracing is per thread (DESIGN §5)."""

    def __init__(self) -> None:
        self.tracers: list[Tracer] = []


_this_thread = _ThisThread()

#: Every tracer installed in any thread. Empty means no thread traces, which is all the eager fast paths test (one
#: module-global list is cheaper to test than the thread-local); which tracer an op goes to is decided per thread.
_tracer: list[Tracer] = []


def install(tracer: Tracer) -> None:
    """From now on `tracer` receives this thread's ops (until `uninstall`)."""
    _this_thread.tracers.append(tracer)
    _tracer.append(tracer)


def uninstall(tracer: Tracer) -> None:
    _tracer.remove(tracer)
    _this_thread.tracers.remove(tracer)


@contextlib.contextmanager
def installed(tracer: Tracer) -> Iterator[Tracer]:
    """`tracer` receives this thread's ops while the block runs."""
    install(tracer)
    try:
        yield tracer
    finally:
        uninstall(tracer)


def tracing() -> bool:
    """Is this thread tracing a function?"""
    return bool(_tracer) and bool(_this_thread.tracers)


def current_tracer() -> Optional[Tracer]:
    if not _tracer:
        return None
    tracers = _this_thread.tracers
    return tracers[-1] if tracers else None


class ThreadDepth(threading.local):
    """A nesting depth of some trace-time state, per thread (`depth[0] += 1` ... `depth[0] -= 1`, as the
    one-element lists used before), so one thread's state never leaks into another's trace."""

    def __init__(self) -> None:
        self.value = 0

    def __getitem__(self, index: int) -> int:
        return self.value

    def __setitem__(self, index: int, value: int) -> None:
        self.value = value


def apply(opdef: OpDef, *operands: Tensor, **attrs: Any) -> Any:
    """Run one op of the table on tensors; returns a Tensor, a tuple of them (several results) or None (effects)."""
    tracer = current_tracer() if _tracer else None
    if tracer is not None:
        out = tracer.emit(opdef, operands, attrs)
        if _tape.active and out is not None:
            # A tape used while tracing records traced ops: its gradient() then emits the backward IR.
            _tape.record(opdef, operands, out if isinstance(out, tuple) else (out,), attrs)
        if after_op is not None and out is not None:
            after_op(opdef, out if isinstance(out, tuple) else (out,), True)
        return out
    if opdef.kind != "elementwise":
        opdef.infer([t.type for t in operands], **attrs)
    try:
        out = opdef.eager(*[t._value for t in operands], **attrs)
    except Exception:
        leaked = next((t for t in operands if t._node is not None), None)
        if leaked is None:
            raise
        raise leaked_tensor_error(opdef, leaked) from None
    if opdef.nresults == 1:
        result = Tensor(out)
        if _tape.active:
            _tape.record(opdef, operands, (result,), attrs)
        if after_op is not None:
            after_op(opdef, (result,), False)
        return result
    if opdef.nresults == 0:
        return None
    results = tuple(Tensor(o) for o in out)
    if _tape.active:
        _tape.record(opdef, operands, results, attrs)
    if after_op is not None:
        after_op(opdef, results, False)
    return results
