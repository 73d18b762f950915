"""`engine.GradientTape`: TensorFlow's tape, over `autodiff.tape` and the op table's vjp rules.

The backward pass applies ops through `TensorEmitter`, i.e. through the dispatch funnel, so an outer tape records
the gradient computation of an inner one (higher-order gradients), and inside a traced function the same code
emits IR.
"""
from __future__ import annotations

import contextlib
import enum
from typing import Any, Iterator, Optional

import numpy as np

from autodiff import tape as _tape
from ir import timing
from engine import dispatch, nest
from engine.ops.funnel import as_tensor, full
from engine.tensor import Tensor
from engine.variables import Variable
from ir.emitter import Emitter
from ir.opdef import OPS, OpDef
from ir.types import DType, TensorType


class UnconnectedGradients(enum.Enum):
    NONE = "none"
    ZERO = "zero"


class TensorEmitter(Emitter):
    """Gradient rules applied to engine tensors, through the funnel (eager, or emitting IR while tracing)."""

    def apply(self, opdef: OpDef, *operands: Any, **attrs: Any) -> Any:
        return dispatch.apply(opdef, *operands, **attrs)

    def type_of(self, value: Any) -> TensorType:
        return value.type

    def constant(self, value: Any, dtype: DType) -> Any:
        return dispatch.apply(OPS["constant"], value=np.asarray(value, dtype=dtype.np))


_EMITTER = TensorEmitter()


class GradientTape:
    """Records operations on watched tensors and trainable Variables for automatic differentiation.

    >>> import engine as tf
    >>> x = tf.constant(3.0)
    >>> with tf.GradientTape() as g:
    ...     g.watch(x)
    ...     y = x * x
    >>> float(g.gradient(y, x))
    6.0
    """

    def __init__(self, persistent: bool = False, watch_accessed_variables: bool = True) -> None:
        self._tape = _tape.Tape(persistent, watch_accessed_variables)
        self._persistent = persistent
        self._recording = False
        self._used = False

    def __enter__(self) -> "GradientTape":
        tracer = dispatch.current_tracer()
        self._tape.origin = getattr(tracer, "frame", None)
        self._push()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._pop()

    def _push(self) -> None:
        _tape.push(self._tape)
        self._recording = True

    def _pop(self) -> None:
        _tape.pop(self._tape)
        self._recording = False

    def watch(self, tensor: Any) -> None:
        """Ensures `tensor` (a tensor, a Variable or a nested structure of them) is traced by this tape."""
        for t in nest.flatten(tensor):
            if isinstance(t, Variable):
                self._tape.watch_handle(t)
            elif isinstance(t, Tensor):
                self._tape.watch(t)
            else:
                raise ValueError(f"GradientTape.watch takes tensors or Variables, got {type(t).__name__}: {t!r}")

    @contextlib.contextmanager
    def stop_recording(self) -> Iterator[None]:
        """Ops run inside this block are not recorded."""
        if not self._recording:
            raise ValueError("stop_recording: the tape is not recording (use it inside the tape's `with` block)")
        self._pop()
        try:
            yield
        finally:
            self._push()

    def reset(self) -> None:
        """Forgets everything recorded so far."""
        self._tape.reset()

    def watched_variables(self) -> tuple[Variable, ...]:
        return tuple(self._tape.watched_handles.values())

    def _check_usable(self) -> None:
        if self._used and not self._persistent:
            raise RuntimeError("A non-persistent GradientTape can only be used to compute one set of gradients "
                               "(or jacobians); create it with persistent=True to call gradient() again")
        self._used = True
        if self._recording and not self._persistent:
            self._pop()

    def _backprop(self, targets: list[Tensor], seeds: list[Any], sources: list[Any]) -> list[Optional[Tensor]]:
        groups = []
        for s in sources:
            if isinstance(s, Variable):
                groups.append(list(self._tape.handle_reads.get(id(s), [])))
            elif isinstance(s, Tensor):
                # A tensor the tape never watched (not watched, not computed from watched values) has no gradient,
                # even if recorded ops consumed it: TensorFlow gives None.
                groups.append([s] if _tape.key(s) in self._tape.watched else [])
            else:
                raise ValueError(f"gradient sources must be tensors or Variables, got {type(s).__name__}: {s!r}")
        with timing.phase("autodiff"):  # while tracing: the backward sweep's IR (KILN_DUMP=time)
            return _tape.backprop(list(self._tape.records), _EMITTER, targets, seeds, groups)

    def gradient(self, target: Any, sources: Any, output_gradients: Any = None,
                 unconnected_gradients: Any = UnconnectedGradients.NONE) -> Any:
        """d(sum of target)/d(sources), with the structure of `sources`; None where a source is not connected.

        A non-scalar target is summed (its seed is ones), unless `output_gradients` gives the seed.
        """
        self._check_usable()
        flat_targets = [as_tensor(t) for t in nest.flatten(target)]
        if output_gradients is None:
            seeds = [full(1, t.dtype, tuple(t.shape), t) for t in flat_targets]  # unknown dims: t's
        else:
            seeds = [as_tensor(g) if g is not None else full(1, t.dtype, tuple(t.shape), t)
                     for g, t in zip(nest.flatten(output_gradients), flat_targets)]
        flat_sources = nest.flatten(sources)
        grads = self._backprop(flat_targets, seeds, flat_sources)
        if UnconnectedGradients(unconnected_gradients) is UnconnectedGradients.ZERO:
            grads = [g if g is not None else full(0, s.dtype, tuple(s.shape), s) for g, s in zip(grads, flat_sources)]
        return nest.pack_sequence_as(sources, grads)

    def jacobian(self, target: Any, sources: Any, unconnected_gradients: Any = UnconnectedGradients.NONE,
                 parallel_iterations: Any = None, experimental_use_pfor: bool = True) -> Any:
        """The full Jacobian: result[i][target.shape + source.shape], one backward pass per target element."""
        self._check_usable()
        from engine.ops import reshape, stack
        t = as_tensor(target)
        flat_sources = nest.flatten(sources)
        n = t.shape.num_elements()
        rows: list[list[Optional[Tensor]]] = []
        for k in range(n):
            seed = np.zeros(n, dtype=t.dtype.np)
            seed[k] = 1
            rows.append(self._backprop([t], [Tensor(seed.reshape(tuple(t.shape)))], flat_sources))
        out = []
        for j, s in enumerate(flat_sources):
            col = [r[j] for r in rows]
            if all(c is None for c in col) and UnconnectedGradients(unconnected_gradients) is UnconnectedGradients.NONE:
                out.append(None)
                continue
            col = [c if c is not None else full(0, s.dtype, tuple(s.shape)) for c in col]
            out.append(reshape(stack(col) if col else full(0, s.dtype, (0,) + tuple(s.shape)),
                               tuple(t.shape) + tuple(s.shape)))
        return nest.pack_sequence_as(sources, out)
