"""Reductions and matmul with TensorFlow's signatures: reduce_sum/mean/max/min/prod/any/all (axis, keepdims),
argmax/argmin, matmul (batched, transpose_a/b), and the statistics of engine.math built on them.
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from engine.dispatch import apply
from engine.errors import InvalidDTypeError
from engine.ops.array_ops import reshape
from engine.ops.funnel import as_tensor, broadcast, broadcast_shapes, cast, floating, full, mixed_dtypes, raw_shape
from engine.ops.math_ops import add, divide, exp, greater, is_inf, log, multiply, sqrt, square, subtract, where
from engine.tensor import Tensor
from ir.opdef import OPS
from ir.ops_state import InvalidArgumentError
from ir.types import as_dtype, bool_, float64, int32, int64

_O = OPS


def _axes(public: str, axis: Any, rank: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(rank))
    if hasattr(axis, "numpy"):
        axis = np.asarray(axis).tolist()
    items = [axis] if isinstance(axis, (int, np.integer)) else list(axis)
    out: list[int] = []
    for a in items:
        a = int(a)
        if not -rank <= a < rank:
            raise InvalidArgumentError(f"{public}: axis {a} is out of range for a tensor of rank {rank}")
        if a % rank in out:
            raise InvalidArgumentError(f"{public}: axis {a % rank} is given twice in {items}")
        out.append(a % rank)
    return tuple(sorted(out))


def _reduce(opname: str, public: str, input_tensor: Any, axis: Any, keepdims: bool) -> Tensor:
    t = as_tensor(input_tensor)
    if t.dtype is bool_:
        raise InvalidDTypeError(f"{public}: bool tensors are not reduced arithmetically; use reduce_any or "
                                f"reduce_all")
    shape = raw_shape(t)
    axes = _axes(public, axis, len(shape))
    out = apply(_O[opname], t, axes=axes) if axes else t
    if keepdims:
        from engine.ops.shape_ops import dim_size
        out = reshape(out, [1 if i in axes else d if d is not None else dim_size(t, i) for i, d in enumerate(shape)])
    return out


def reduce_sum(input_tensor: Any, axis: Any = None, keepdims: bool = False, name: Optional[str] = None) -> Tensor:
    """Sum over `axis` (all axes when None).

    >>> import engine as tf
    >>> tf.reduce_sum(tf.constant([[1, 2], [3, 4]]), axis=1).numpy()
    array([3, 7], dtype=int32)
    """
    return _reduce("reduce_sum", "reduce_sum", input_tensor, axis, keepdims)


def reduce_prod(input_tensor: Any, axis: Any = None, keepdims: bool = False, name: Optional[str] = None) -> Tensor:
    return _reduce("reduce_prod", "reduce_prod", input_tensor, axis, keepdims)


def reduce_max(input_tensor: Any, axis: Any = None, keepdims: bool = False, name: Optional[str] = None) -> Tensor:
    return _reduce("reduce_max", "reduce_max", input_tensor, axis, keepdims)


def reduce_min(input_tensor: Any, axis: Any = None, keepdims: bool = False, name: Optional[str] = None) -> Tensor:
    return _reduce("reduce_min", "reduce_min", input_tensor, axis, keepdims)


def _count(t: Tensor, axis: Any, public: str) -> Any:
    """The element count of the reduced axes: an int, or an int64 scalar tensor where a dim is unknown."""
    from engine.ops.shape_ops import element_count
    return element_count(t, _axes(public, axis, len(raw_shape(t))))


def reduce_mean(input_tensor: Any, axis: Any = None, keepdims: bool = False, name: Optional[str] = None) -> Tensor:
    """Mean over `axis`; integer tensors give the truncated integer mean, as in TensorFlow."""
    t = as_tensor(input_tensor)
    s = reduce_sum(t, axis, keepdims)
    count = _count(t, axis, "reduce_mean")
    if not isinstance(count, int):  # a run-time count (an unknown dim): x / n as TF, n cast to x's dtype
        n = cast(count, t.dtype)
        if t.dtype.is_integer:
            from engine.ops.math_ops import abs as abs_, floordiv, maximum, sign
            return multiply(sign(s), floordiv(abs_(s), maximum(n, full(1, t.dtype, ()))))
        return divide(s, n)
    n = full(count, t.dtype, ())
    if t.dtype.is_integer:
        if count == 0:  # TensorFlow's integer mean of nothing is 0 (a float one is 0 / 0 = NaN)
            return s
        # TensorFlow divides integers truncating toward zero; floordiv rounds toward -inf, so fix negative sums.
        from engine.ops.math_ops import abs as abs_, floordiv, sign
        return multiply(sign(s), floordiv(abs_(s), n))
    return divide(s, n)


def reduce_variance(input_tensor: Any, axis: Any = None, keepdims: bool = False,
                    name: Optional[str] = None) -> Tensor:
    t = as_tensor(input_tensor)
    if not t.dtype.is_floating:
        raise TypeError(f"reduce_variance: expected a floating-point tensor, got {t.dtype.name}")
    mean = reduce_mean(t, axis, keepdims=True)
    return reduce_mean(square(subtract(t, mean)), axis, keepdims)


def reduce_std(input_tensor: Any, axis: Any = None, keepdims: bool = False, name: Optional[str] = None) -> Tensor:
    return sqrt(reduce_variance(input_tensor, axis, keepdims))


def reduce_logsumexp(input_tensor: Any, axis: Any = None, keepdims: bool = False,
                     name: Optional[str] = None) -> Tensor:
    """log(sum(exp(x))) computed stably around the max (which is treated as a constant where infinite)."""
    t = floating(input_tensor, "reduce_logsumexp")
    m = reduce_max(t, axis, keepdims=True)
    m = where(is_inf(m), full(0, t.dtype, ()), m)
    from engine.ops.gradient_ops import stop_gradient
    m = stop_gradient(m)
    out = add(log(reduce_sum(exp(subtract(t, m)), axis, keepdims=True)), m)
    if not keepdims:
        shape = raw_shape(t)
        axes = _axes("reduce_logsumexp", axis, len(shape))
        out = reshape(out, [d for i, d in enumerate(shape) if i not in axes])
    return out


def reduce_euclidean_norm(input_tensor: Any, axis: Any = None, keepdims: bool = False,
                          name: Optional[str] = None) -> Tensor:
    """sqrt(sum(x ** 2)) over `axis`; integers are summed, rooted in float64 and truncated back, as TensorFlow."""
    t = as_tensor(input_tensor)
    squares = reduce_sum(multiply(t, t), axis, keepdims)
    if t.dtype.is_integer:
        return cast(sqrt(cast(squares, float64)), t.dtype)
    return sqrt(squares)


def norm(tensor: Any, ord: Any = "euclidean", axis: Any = None, keepdims: Any = None,  # noqa: A002
         name: Optional[str] = None) -> Tensor:
    """Vector norms as `tf.norm`: 'euclidean' (or 'fro', or 2 over one axis), 1 and inf, over `axis` (all elements
    when None, taken as one vector); floating-point tensors only."""
    from engine.ops.math_ops import abs as abs_
    t = floating(tensor, "norm")
    keep = bool(keepdims)
    if ord in ("euclidean", "fro") or (ord == 2 and axis is not None):
        return sqrt(reduce_sum(multiply(t, t), axis, keep))
    if ord == 1:
        return reduce_sum(abs_(t), axis, keep)
    if ord == np.inf:
        return reduce_max(abs_(t), axis, keep)
    raise NotImplementedError(f"norm: ord={ord!r} is not supported (only 'euclidean', 'fro', 1, 2 and inf)")


def reduce_any(input_tensor: Any, axis: Any = None, keepdims: bool = False, name: Optional[str] = None) -> Tensor:
    """Whether any element along `axis` is true; False for none (an empty axis), as TensorFlow."""
    t = _bool_arg(input_tensor, "reduce_any")
    # The max of no elements is the integer minimum, which is not > 0.
    return greater(reduce_max(cast(t, int32), axis, keepdims), full(0, int32, ()))


def reduce_all(input_tensor: Any, axis: Any = None, keepdims: bool = False, name: Optional[str] = None) -> Tensor:
    """Whether every element along `axis` is true; True for none (an empty axis), as TensorFlow."""
    t = _bool_arg(input_tensor, "reduce_all")
    # The min of no elements is the integer maximum, which is > 0.
    return greater(reduce_min(cast(t, int32), axis, keepdims), full(0, int32, ()))


def _bool_arg(x: Any, public: str) -> Tensor:
    t = as_tensor(x)
    if t.dtype is not bool_:
        raise InvalidDTypeError(f"{public}: expected a bool tensor, got {t.dtype.name}")
    return t


def _arg(opname: str, input: Any, axis: Any, output_type: Any) -> Tensor:  # noqa: A002
    t = as_tensor(input)
    if t.dtype is bool_:  # TensorFlow ranks False below True
        t = cast(t, int32)
    shape = raw_shape(t)
    if not shape:
        raise InvalidArgumentError(f"{opname}: needs a tensor of rank >= 1, got a scalar")
    ax = _axes(opname, 0 if axis is None else axis, len(shape))
    if len(ax) != 1:
        raise InvalidArgumentError(f"{opname}: axis must be a single axis, got {axis!r}")
    if shape[ax[0]] == 0:
        raise InvalidArgumentError(f"{opname}: reduction axis {ax[0]} is empty in shape {tuple(shape)}")
    return apply(_O[opname], t, axis=ax[0], output_type=as_dtype(output_type))


def argmax(input: Any, axis: Any = None, output_type: Any = int64, name: Optional[str] = None) -> Tensor:  # noqa: A002
    """Index of the largest value along `axis` (0 by default), int64 unless `output_type` says otherwise."""
    return _arg("argmax", input, axis, output_type)


def argmin(input: Any, axis: Any = None, output_type: Any = int64, name: Optional[str] = None) -> Tensor:  # noqa: A002
    return _arg("argmin", input, axis, output_type)


def matmul(a: Any, b: Any, transpose_a: bool = False, transpose_b: bool = False, adjoint_a: bool = False,
           adjoint_b: bool = False, name: Optional[str] = None, **unused: Any) -> Tensor:
    """Matrix product over the last two axes; leading (batch) axes broadcast.

    >>> import engine as tf
    >>> print(tf.matmul(tf.constant([[1, 2], [3, 4]]), tf.constant([[5, 6], [7, 8]])))
    engine.Tensor(
    [[19 22]
     [43 50]], shape=(2, 2), dtype=int32)
    """
    from engine.ops.funnel import convert_pair
    a, b = convert_pair(a, b)
    if a.dtype is not b.dtype:
        raise mixed_dtypes("matmul", a, b)
    if a.dtype is bool_:
        raise InvalidDTypeError("matmul: bool tensors cannot be multiplied")
    ta, tb = bool(transpose_a or adjoint_a), bool(transpose_b or adjoint_b)
    sa, sb = raw_shape(a), raw_shape(b)
    if len(sa) < 2 or len(sb) < 2:
        raise InvalidArgumentError(f"matmul: both operands need rank >= 2, got shapes {tuple(sa)} and {tuple(sb)}")
    ka = sa[-2] if ta else sa[-1]
    kb = sb[-1] if tb else sb[-2]
    if ka != kb:
        raise InvalidArgumentError(f"matmul: inner dimensions differ: shapes {tuple(sa)} and {tuple(sb)} "
                                   f"(transpose_a={ta}, transpose_b={tb})")
    try:
        batch = broadcast_shapes("matmul", sa[:-2], sb[:-2])
    except ValueError:
        raise InvalidArgumentError(f"matmul: the batch dimensions of shapes {tuple(sa)} and {tuple(sb)} cannot be "
                                   f"broadcast together") from None
    a = broadcast(a, batch + tuple(sa[-2:]), b)
    b = broadcast(b, batch + tuple(sb[-2:]), a)
    return apply(_O["matmul"], a, b, transpose_a=ta, transpose_b=tb)



def tensordot(a: Any, b: Any, axes: Any, name: Optional[str] = None) -> Tensor:
    """Sums of products over `axes` of a and b: an int n (the last n of a with the first n of b) or two lists of
    axes. Written as transpose, reshape to matrices, one matmul, reshape back."""
    from engine.ops.array_ops import transpose
    from engine.ops.funnel import convert_pair
    a, b = convert_pair(a, b)
    sa, sb = raw_shape(a), raw_shape(b)
    if isinstance(axes, (int, np.integer)):
        n = int(axes)
        if not 0 <= n <= min(len(sa), len(sb)):
            raise InvalidArgumentError(f"tensordot: cannot contract {n} axes of shapes {tuple(sa)} and {tuple(sb)}")
        ax_a, ax_b = list(range(len(sa) - n, len(sa))), list(range(n))
    else:
        pair = list(axes)
        if len(pair) != 2:
            raise InvalidArgumentError(f"tensordot: axes must be an int or a pair of axis lists, got {axes!r}")
        ax_a = [a_ % len(sa) for a_ in ([pair[0]] if isinstance(pair[0], (int, np.integer)) else pair[0])]
        ax_b = [b_ % len(sb) for b_ in ([pair[1]] if isinstance(pair[1], (int, np.integer)) else pair[1])]
    if len(ax_a) != len(ax_b) or any(sa[i] != sb[j] for i, j in zip(ax_a, ax_b)):
        raise InvalidArgumentError(f"tensordot: axes {ax_a} of {tuple(sa)} and {ax_b} of {tuple(sb)} do not match")
    free_a = [i for i in range(len(sa)) if i not in ax_a]
    free_b = [j for j in range(len(sb)) if j not in ax_b]
    def size(shape: Any, dims: list[int]) -> int:
        return int(np.prod([shape[i] for i in dims], dtype=np.int64))
    left = reshape(transpose(a, free_a + ax_a), [size(sa, free_a), size(sa, ax_a)])
    right = reshape(transpose(b, ax_b + free_b), [size(sb, ax_b), size(sb, free_b)])
    return reshape(matmul(left, right), [sa[i] for i in free_a] + [sb[j] for j in free_b])
