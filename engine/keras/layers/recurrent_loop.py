"""The time loop of Keras's recurrent layers (Keras's `backend.rnn`): run `step(x_t, states) -> (output, states)`
over the time axis of `[batch, time, ...]` inputs, with masks, `go_backwards`, and the outputs of every step or of
the last.

Eagerly the loop is Python. Inside a traced function it is either unrolled (one copy of the step per time step) or
one `while_loop` op over time, whose reverse mode the IR's autodiff provides (stacks of what each trip's rules
need). Masked steps carry the states (and, by default, the previous output) through unchanged, as in Keras.
"""
from __future__ import annotations

from typing import Any, Callable, Optional, Sequence

from engine import dispatch
from engine.ops import (add, cast, equal, expand_dims, gather, less, range as arange, reshape, reverse,
                        shape, stack, transpose, where, zeros, zeros_like)

__all__ = ["rnn", "UNROLL_MAX_STEPS", "zeros_state"]

Step = Callable[[Any, list], tuple[Any, list]]

# Traced loops over at most this many (static) time steps are unrolled when the layer does not say: see
# `choose_unroll` for the measurements behind it.
UNROLL_MAX_STEPS = 0


def zeros_state(batch_like: Any, size: int, dtype: Any) -> Any:
    """zeros([batch, size]) where batch is `batch_like`'s first dimension, known or not until run time."""
    batch = batch_like.shape[0]
    if batch is None:
        batch = shape(batch_like)[0]
        return zeros(stack([batch, size]), dtype)
    return zeros([int(batch), int(size)], dtype)


def _time_major(x: Any) -> Any:
    perm = [1, 0] + list(range(2, len(x.shape)))
    return transpose(x, perm)


def choose_unroll(unroll: Optional[bool], steps: Optional[int]) -> bool:
    """Unroll when the layer asks (`unroll=True`), never when the number of steps is unknown."""
    if steps is None:
        return False
    if unroll is not None:
        return bool(unroll)
    return steps <= UNROLL_MAX_STEPS


def rnn(step: Step, inputs: Any, initial_states: Sequence[Any], output_size: int, mask: Any = None,
        go_backwards: bool = False, unroll: Optional[bool] = False, return_sequences: bool = True,
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

    def advance(t: Any, states: list, prev: Any) -> tuple[Any, list]:
        x_t = [gather(x, t) for x in xs]
        out, new = step(x_t[0] if one else x_t, states)
        new = list(new) if isinstance(new, (list, tuple)) else [new]
        if ms is not None:
            keep = expand_dims(gather(ms, t), -1)
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
    return _while(advance, states, prev, steps, xs[0], output_size, return_sequences)


def _while(advance: Callable[..., Any], states: list, prev: Any, steps: Optional[int], x: Any, output_size: int,
           return_sequences: bool) -> tuple[Any, Optional[Any], list]:
    from engine.control_flow import while_loop
    n = len(states)
    count = steps if steps is not None else cast(shape(x)[0], "int32")
    if return_sequences:  # [time, batch, units], each step's row chosen by position
        dims = [steps, prev.shape[0], output_size]
        if any(d is None for d in dims):
            dims = [count if steps is None else steps, shape(prev)[0], output_size]
            buffer = zeros(stack([cast(d, "int32") for d in dims]), prev.dtype)
        else:
            buffer = zeros(dims, prev.dtype)
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

    from engine.convert import convert_to_tensor
    init = [convert_to_tensor(0, dtype="int32"), *states, prev] + ([buffer] if return_sequences else [])
    final = while_loop(cond, body, init)
    seq = _time_major(final[n + 2]) if return_sequences else None
    return final[n + 1], seq, list(final[1:n + 1])
