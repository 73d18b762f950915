"""The gradient tape: records ops as they run and replays the op table's `vjp` rules backwards (DESIGN §7).

The values here are opaque (eager tensors, or traced tensors while a function is traced): the tape keys them by
identity and keeps them alive; the emitter given to `backprop` knows their types and how to apply ops to them.
Because the backward pass applies ops through the emitter, any tape that is still recording records those ops too,
which is how nested tapes give higher-order gradients.
"""
from __future__ import annotations

import threading

from typing import Any, Optional, Sequence, Union

from ir.emitter import Emitter
from ir.opdef import NONDIFF, OpDef


class TapeRule:
    """A recorded step whose backward is not a row's single-result `vjp`: a custom gradient, a cond or while_loop
    recorded while tracing, a call of a compiled function. Subclasses say how to sweep back through it."""

    name: str = "?"

    def backward(self, em: Emitter, gs: Sequence[Optional[Any]], results: Sequence[Any],
                 operands: Sequence[Any]) -> list[Optional[Any]]:
        """One cotangent (or None) per operand, given the cotangents `gs` of the results (None where none)."""
        raise NotImplementedError


Record = tuple[Union[OpDef, TapeRule], tuple, tuple, dict]


def key(value: Any) -> int:
    """How the tape identifies a value: a traced tensor by its IR value (several tensor objects may wrap one
    value), anything else by identity."""
    node = getattr(value, "_node", None)
    return id(node) if node is not None else id(value)


class Tape:
    """What one GradientTape has seen: watched values, the ops that consumed them, and Variable reads."""

    def __init__(self, persistent: bool = False, watch_accessed_variables: bool = True) -> None:
        self.persistent = persistent
        self.watch_accessed_variables = watch_accessed_variables
        self.thread = threading.get_ident()
        self.records: list[Record] = []
        self.watched: dict[int, Any] = {}
        self.watched_handles: dict[int, Any] = {}      # id(variable) -> variable
        self.handle_reads: dict[int, list[Any]] = {}   # id(variable) -> the values read from it while recording
        # Where the tape started recording: the block being traced (an opaque token of the tracer) when the tape is
        # used inside a traced function, None eagerly.
        self.origin: Any = None

    def watch(self, value: Any) -> None:
        self.watched[key(value)] = value

    def watch_handle(self, handle: Any) -> None:
        self.watched_handles[id(handle)] = handle

    def reset(self) -> None:
        self.records.clear()
        self.watched.clear()
        self.watched_handles.clear()
        self.handle_reads.clear()


# Every recording tape of every thread: a cheap "is anything recording?" gate for the eager fast paths. Each tape
# records only its own thread's ops (TensorFlow's tapes are per thread): `record` skips other threads' tapes.
active: list[Tape] = []


def push(tape: Tape) -> None:
    tape.thread = threading.get_ident()
    active.append(tape)


def pop(tape: Tape) -> None:
    if tape in active:
        active.remove(tape)


def mine() -> list[Tape]:
    """The tapes recording in the current thread, innermost last."""
    me = threading.get_ident()
    return [t for t in active if t.thread == me]


def suspend() -> list[Tape]:
    """Stops the current thread's tapes (a traced function's ops are not theirs); `resume` restarts them."""
    tapes = mine()
    for t in tapes:
        pop(t)
    return tapes


def resume(tapes: Sequence[Tape]) -> None:
    active.extend(tapes)


def record(opdef: Union[OpDef, TapeRule], operands: Sequence[Any], results: Sequence[Any], attrs: dict) -> None:
    """Called by the dispatch funnel for every op while any tape records (and for TapeRule steps)."""
    if isinstance(opdef, OpDef) and opdef.vjp is NONDIFF:
        return
    me = threading.get_ident()
    for tape in list(active):
        if tape.thread != me:
            continue
        watched = tape.watched
        for x in operands:
            if key(x) in watched:
                break
        else:
            continue
        tape.records.append((opdef, tuple(operands), tuple(results), attrs))
        for r in results:
            watched[key(r)] = r


def record_read(handle: Any, value: Any, trainable: bool) -> None:
    """A Variable was read: tapes that watch it (or watch every accessed trainable Variable) track the value."""
    me = threading.get_ident()
    for tape in list(active):
        if tape.thread != me:
            continue
        hid = id(handle)
        if hid not in tape.watched_handles:
            if not (trainable and tape.watch_accessed_variables):
                continue
            tape.watched_handles[hid] = handle
        tape.handle_reads.setdefault(hid, []).append(value)
        tape.watched[key(value)] = value


def backprop(records: Sequence[Record], em: Emitter, targets: Sequence[Any], target_grads: Sequence[Any],
             sources: Sequence[Sequence[Any]]) -> list[Optional[Any]]:
    """Cotangents of `sources` (each a group of values whose cotangents add up, e.g. a Variable's reads).

    `target_grads[i]` is the cotangent seeded at `targets[i]`. A source no target depends on gets None.
    Only floating-point values carry cotangents.
    """
    def differentiable(v: Any) -> bool:
        return em.type_of(v).dtype.is_floating

    source_ids = {key(v) for group in sources for v in group}
    connected = set(source_ids)
    relevant = []
    for rec in records:
        if any(key(x) in connected for x in rec[1]):
            relevant.append(rec)
            connected.update(key(r) for r in rec[2])

    grads: dict[int, Any] = {}

    def accumulate(v: Any, g: Any) -> None:
        k = key(v)
        grads[k] = g if k not in grads else em.add(grads[k], g)

    for t, g in zip(targets, target_grads):
        if key(t) in connected and differentiable(t):
            accumulate(t, g)

    for opdef, operands, results, attrs in reversed(relevant):
        if isinstance(opdef, TapeRule):
            gs = [grads.get(key(r)) for r in results]
            if all(g is None for g in gs):
                continue
            cotangents = opdef.backward(em, gs, results, operands)
        else:
            g = grads.get(key(results[0]))
            if g is None:
                continue
            cotangents = opdef.vjp(em, g, results[0], *operands, **attrs)
        if len(cotangents) != len(operands):
            raise RuntimeError(f"the vjp rule of {opdef.name} returned {len(cotangents)} cotangents "
                               f"for {len(operands)} operands")
        for x, ct in zip(operands, cotangents):
            if ct is not None and key(x) in connected and differentiable(x):
                accumulate(x, ct)

    out: list[Optional[Any]] = []
    for group in sources:
        found = [grads[key(v)] for v in group if key(v) in grads]
        out.append(em.add_n(found) if found else None)
    return out
