"""The time loop of Keras's recurrent layers (Keras's `backend.rnn`): run `step(x_t, states) -> (output, states)`
over the time axis of `[batch, time, ...]` inputs, with masks, `go_backwards`, and the outputs of every step or of
the last.

Eagerly the loop is Python. Inside a traced function it is either unrolled (one copy of the step per time step, only
with `unroll=True`: `choose_unroll`) or a `while_loop` op over time, whose reverse mode the IR's autodiff provides
(stacks of each trip's carried values); with every step's outputs to keep and 32 or more steps, two nested loops
over chunks (`_nested`). Masked steps carry the states (and, by default, the previous output) through unchanged,
as in Keras.
"""
from __future__ import annotations

from typing import Any, Callable, Optional, Sequence

import numpy as np

from engine import dispatch
from engine.ops import (add, cast, equal, expand_dims, gather, less, logical_and, multiply, pad, range as arange,
                        reshape, reverse, shape, stack, transpose, where, zeros, zeros_like)
from ir.opdef import OPS

__all__ = ["rnn", "zeros_state"]

Step = Callable[[Any, list], tuple[Any, list]]


def _zeros(dims: Sequence[Any], dtype: Any) -> Any:
    """zeros of `dims`, each a Python int or a run-time size (an i64[] tensor): the result's type keeps the known
    dims (`f32[?, 64]`), as `zeros(tf.shape(...))` would not."""
    if all(isinstance(d, int) for d in dims):
        return zeros(list(dims), dtype)
    sizes = [d for d in dims if not isinstance(d, int)]
    return dispatch.apply(OPS["broadcast_to"], zeros([], dtype), *sizes,
                          shape=tuple(d if isinstance(d, int) else None for d in dims))


def _dim(x: Any, axis: int) -> Any:
    d = x.shape[axis]
    return int(d) if d is not None else dispatch.apply(OPS["dim"], x, axis=axis)


def zeros_state(batch_like: Any, size: int, dtype: Any) -> Any:
    """zeros([batch, size]) where batch is `batch_like`'s first dimension, known or not until run time."""
    return _zeros([_dim(batch_like, 0), int(size)], dtype)


def _time_major(x: Any) -> Any:
    perm = [1, 0] + list(range(2, len(x.shape)))
    return transpose(x, perm)


def choose_unroll(unroll: bool, steps: Optional[int]) -> bool:
    """Unroll only when the layer asks (`unroll=True`, Keras's default is False) and the step count is known.

    benchmarks/rnn_loop.py (train step of one layer: forward, loss, gradient, SGD; batch 32, 16 features; a
    2-core machine under a load of 8-11, so times are rough), while_loop vs unrolled: first call (trace + compile)
    LSTM T=20 H=32 9.8 s vs 26.0 s, LSTM T=20 H=128 13.3 s vs 42.4 s, GRU T=50 H=64 5.1 s vs 314 s; a step
    0.91 vs 0.62 ms, 55.9 vs 40.9 ms, 24.8 vs 28.5 ms. Unrolled code grows with T (1442 IR ops at T=20, 4190 at
    T=50) and LLVM's time with it, for at best a third less per step on short sequences."""
    return bool(unroll) and steps is not None


def rnn(step: Step, inputs: Any, initial_states: Sequence[Any], output_size: int, mask: Any = None,
        go_backwards: bool = False, unroll: bool = False, return_sequences: bool = True,
        zero_output_for_mask: bool = False) -> tuple[Any, Optional[Any], list]:
    """(last output, outputs [batch, time, output_size] or None, final states).

    `inputs` is a tensor or a list of tensors sharing their first two axes (batch, time); `step` gets each one's
    slice at a time step. `mask` is bool [batch, time]."""
    seqs = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
    xs = [_time_major(x) for x in seqs]
    ms = None if mask is None else transpose(cast(mask, "bool"), [1, 0])
    if go_backwards:
        xs = [reverse(x, [0]) for x in xs]
        ms = None if ms is None else reverse(ms, [0])
    one = not isinstance(inputs, (list, tuple))
    states = list(initial_states)
    prev = zeros_state(states[0] if states else seqs[0], output_size, states[0].dtype if states else seqs[0].dtype)
    steps = xs[0].shape[0]

    def advance(t: Any, states: list, prev: Any, sources: Optional[tuple] = None) -> tuple[Any, list]:
        """One step at time `t` of the inputs and mask (or of `sources`, a chunk of them)."""
        seq_xs, seq_ms = sources if sources is not None else (xs, ms)
        x_t = [gather(x, t) for x in seq_xs]
        out, new = step(x_t[0] if one else x_t, states)
        new = list(new) if isinstance(new, (list, tuple)) else [new]
        if seq_ms is not None:
            keep = expand_dims(gather(seq_ms, t), -1)
            new = [where(keep, n, s) for n, s in zip(new, states)]
            out = where(keep, out, zeros_like(out) if zero_output_for_mask else prev)
        return out, new

    if not dispatch.tracing() or choose_unroll(unroll, steps):
        outputs = []
        for t in range(int(steps)):
            prev, states = advance(t, states, prev)
            if return_sequences:
                outputs.append(prev)
        seq = stack(outputs, axis=1) if return_sequences else None
        return prev, seq, states
    if return_sequences and steps is not None and steps >= NESTED_FROM:
        return _nested(advance, states, prev, steps, output_size, xs, ms)
    return _while(advance, states, prev, steps, xs[0], output_size, return_sequences)


def _while(advance: Callable[..., Any], states: list, prev: Any, steps: Optional[int], x: Any, output_size: int,
           return_sequences: bool) -> tuple[Any, Optional[Any], list]:
    from engine.control_flow import while_loop
    from engine.convert import convert_to_tensor
    n = len(states)
    count = steps if steps is not None else cast(shape(x)[0], "int32")
    if return_sequences:  # [time, batch, units], each step's row chosen by position
        buffer = _zeros([_dim(x, 0), _dim(prev, 0), int(output_size)], prev.dtype)
        positions = reshape(arange(count, dtype="int32"), [-1, 1, 1])

    def cond(t: Any, *carry: Any) -> Any:
        return less(t, count)

    def body(t: Any, *carry: Any) -> tuple:
        states, prev = list(carry[:n]), carry[n]
        out, new = advance(t, states, prev)
        rest: tuple = ()
        if return_sequences:
            rest = (where(equal(positions, t), expand_dims(out, 0), carry[n + 1]),)
        return (add(t, 1), *new, out, *rest)

    init = [convert_to_tensor(0, dtype="int32"), *states, prev] + ([buffer] if return_sequences else [])
    final = while_loop(cond, body, init)
    seq = _time_major(final[n + 2]) if return_sequences else None
    return final[n + 1], seq, list(final[1:n + 1])


# Sequences of at least this many (static) steps collect their outputs through two nested loops (`_nested`).
# Gradient of LSTM(64, return_sequences), batch 32, single loop vs nested (quiet machine): 24 steps 3.5 vs 3.7 ms,
# 50 steps (32 units) 4.8 vs 2.8 ms, 100 steps 74.9 vs 16.4 ms; the nested form costs more to compile with a
# run-time batch (Embedding -> LSTM(32, return_sequences), 50 steps: 3.0 vs 7.2 s of CPU), so short sequences keep
# the single loop.
NESTED_FROM = 32


def _chunked(x: Any, chunks: int, k: int) -> Any:
    """[time, ...] as [chunks, k, ...], the time axis padded to chunks * k."""
    extra = chunks * k - int(x.shape[0])
    if extra:
        x = pad(x, [[0, extra]] + [[0, 0]] * (len(x.shape) - 1), constant_values=False if x.dtype.is_bool else 0)
    return reshape(x, [chunks, k] + [-1 if d is None else int(d) for d in x.shape[1:]])


def _nested(advance: Callable[..., Any], states: list, prev: Any, steps: int, output_size: int, xs: list,
            ms: Any) -> tuple[Any, Any, list]:
    """The loop as chunks of k ~ sqrt(steps) steps: an outer loop over chunks hands each its slice of the inputs
    and mask; an inner loop runs its steps, filling a [k, batch, units] chunk that the outer one places into a
    [chunks, k, batch, units] buffer.

    Reverse mode stacks every carried value on every trip, and the inputs' cotangent adds a scatter of the whole
    captured sequence on every trip: one loop carrying the [time, batch, units] outputs costs O(time) a step
    (O(time^2) in all); two levels cost O(sqrt(time)) a step. Measured in one process, flat loop vs nested
    (loaded 2-core machine, batch 32, 100 steps): LSTM(64, return_sequences) gradient 199 -> 52 ms, forward 12.7
    -> 10.2 ms; Embedding(1000, 64, mask_zero) -> LSTM(64, return_sequences) -> LSTM(64) gradient 355 -> 146 ms;
    first call (compile) unchanged (5.1 vs 4.7 s, 10.0 vs 11.4 s)."""
    from engine.control_flow import while_loop
    from engine.convert import convert_to_tensor
    n = len(states)
    k = int(np.ceil(np.sqrt(steps)))
    chunks = -(-steps // k)
    batch, units = _dim(prev, 0), int(output_size)
    rows = reshape(arange(k, dtype="int32"), [-1, 1, 1])
    slots = reshape(arange(chunks, dtype="int32"), [-1, 1, 1, 1])
    xs_chunks = [_chunked(x, chunks, k) for x in xs]
    ms_chunks = None if ms is None else _chunked(ms, chunks, k)

    def outer_body(c: Any, *carry: Any) -> tuple:
        start = multiply(c, k)
        sources = ([gather(x, c) for x in xs_chunks], None if ms_chunks is None else gather(ms_chunks, c))

        def inner_cond(j: Any, *inner: Any) -> Any:
            return logical_and(less(j, k), less(add(start, j), steps))

        def inner_body(j: Any, *inner: Any) -> tuple:
            out, new = advance(j, list(inner[:n]), inner[n], sources)
            return (add(j, 1), *new, out, where(equal(rows, j), expand_dims(out, 0), inner[n + 1]))

        zero = convert_to_tensor(0, dtype="int32")
        done = while_loop(inner_cond, inner_body, [zero, *carry[:n + 1], _zeros([k, batch, units], prev.dtype)])
        full = where(equal(slots, c), expand_dims(done[n + 2], 0), carry[n + 1])
        return (add(c, 1), *done[1:n + 2], full)

    init = [convert_to_tensor(0, dtype="int32"), *states, prev, _zeros([chunks, k, batch, units], prev.dtype)]
    final = while_loop(lambda c, *carry: less(c, chunks), outer_body, init)
    seq = reshape(final[n + 2], [chunks * k, -1, units])
    seq = seq[:steps] if chunks * k != steps else seq
    return final[n + 1], _time_major(seq), list(final[1:n + 1])
