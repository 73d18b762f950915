"""`tf.image` geometry: flip_left_right, flip_up_down, rot90, transpose, resize (bilinear, nearest), and
`tf.reverse_sequence`, as composites of the op table (reverse, transpose, gather, where).

Images are [height, width, channels] or [batch, height, width, channels]. `resize` follows TF 2's `tf.image.resize`
(half-pixel centers, no antialiasing): each output row and column samples at (o + 0.5) * in / out - 0.5, bilinear
blends the two nearest input rows (then columns) with gathers and weights computed once in numpy, so the gradient
is gather's; nearest takes floor((o + 0.5) * in / out). bilinear returns float32 (float64 stays), nearest keeps the
dtype, as TF.
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from engine.ops.array_ops import expand_dims, gather, transpose
from engine.ops.funnel import as_tensor, cast, raw_shape
from engine.ops.layout_ops import reverse
from engine.ops.math_ops import add, greater, less, multiply, subtract, where
from engine.ops.shape_ops import dim_size
from engine.dispatch import apply
from engine.tensor import Tensor
from ir.opdef import OPS
from ir.ops_state import InvalidArgumentError
from ir.types import float32, float64, int64


def _image(image: Any, public: str) -> tuple[Tensor, int]:
    t = as_tensor(image)
    rank = len(raw_shape(t))
    if rank not in (3, 4):
        raise ValueError(f"{public}: 'image' (shape {raw_shape(t)}) must have either 3 or 4 dimensions.")
    return t, rank - 3  # the height axis


def flip_left_right(image: Any) -> Tensor:
    """The image mirrored along its width."""
    t, h = _image(image, "flip_left_right")
    return reverse(t, [h + 1])


def flip_up_down(image: Any) -> Tensor:
    """The image mirrored along its height."""
    t, h = _image(image, "flip_up_down")
    return reverse(t, [h])


def transpose_image(image: Any, name: Optional[str] = None) -> Tensor:
    """Height and width swapped (tf.image.transpose)."""
    t, h = _image(image, "transpose")
    perm = list(range(len(raw_shape(t))))
    perm[h], perm[h + 1] = h + 1, h
    return transpose(t, perm)


def rot90(image: Any, k: int = 1, name: Optional[str] = None) -> Tensor:
    """The image rotated counter-clockwise by k quarter turns.

    >>> import engine as tf
    >>> tf.image.rot90(tf.reshape(tf.range(4), [2, 2, 1]))[..., 0].numpy()
    array([[1, 3],
           [0, 2]], dtype=int32)
    """
    t, h = _image(image, "rot90")
    k = int(k.numpy() if isinstance(k, Tensor) else k) % 4
    if k == 0:
        return t
    if k == 2:
        return reverse(t, [h, h + 1])
    if k == 1:
        return transpose_image(reverse(t, [h + 1]))
    return reverse(transpose_image(t), [h + 1])


def _axis_resize(x: Tensor, axis: int, n_in: int, n_out: int, method: str) -> Tensor:
    scale = n_in / n_out
    centers = (np.arange(n_out) + 0.5) * scale
    if method == "nearest":
        return gather(x, np.minimum(np.floor(centers), n_in - 1).astype(np.int32), axis=axis)
    src = np.maximum(centers - 0.5, 0.0)
    lo = np.minimum(np.floor(src), n_in - 1).astype(np.int32)
    hi = np.minimum(lo + 1, n_in - 1).astype(np.int32)
    w = (src - lo).astype(x.dtype.np).reshape([-1] + [1] * (len(raw_shape(x)) - axis - 1))
    a, b = gather(x, lo, axis=axis), gather(x, hi, axis=axis)
    return add(a, multiply(subtract(b, a), Tensor(w)))


def resize(images: Any, size: Any, method: str = "bilinear", preserve_aspect_ratio: bool = False,
           antialias: bool = False, name: Optional[str] = None) -> Tensor:
    """`images` resized to `size` = [new_height, new_width] (module docstring); methods bilinear and nearest."""
    t, h = _image(images, "resize")
    method = getattr(method, "value", method)
    if method not in ("bilinear", "nearest"):
        raise NotImplementedError(f"resize: method {method!r} is not supported (bilinear, nearest)")
    if preserve_aspect_ratio or antialias:
        raise NotImplementedError("resize: preserve_aspect_ratio and antialias are not supported")
    out_h, out_w = (int(s) for s in (size.numpy() if isinstance(size, Tensor) else size))
    shape = raw_shape(t)
    if shape[h] is None or shape[h + 1] is None:
        raise InvalidArgumentError("resize: the height and width of the images must be static")
    if method == "bilinear" and t.dtype is not float64:
        t = cast(t, float32)
    t = _axis_resize(t, h, shape[h], out_h, method)
    return _axis_resize(t, h + 1, shape[h + 1], out_w, method)


def reverse_sequence(input: Any, seq_lengths: Any, seq_axis: Optional[int] = None,  # noqa: A002
                     batch_axis: Optional[int] = None, name: Optional[str] = None) -> Tensor:
    """For each batch entry b, the first seq_lengths[b] elements along `seq_axis` reversed, the rest kept.

    >>> import engine as tf
    >>> tf.reverse_sequence(tf.constant([[1, 2, 3], [4, 5, 6]]), [2, 3], seq_axis=1).numpy()
    array([[2, 1, 3],
           [6, 5, 4]], dtype=int32)
    """
    t, lengths = as_tensor(input), cast(as_tensor(seq_lengths), int64)
    rank = len(raw_shape(t))
    if seq_axis is None:
        raise ValueError("reverse_sequence: seq_axis is required")
    s, b = int(seq_axis) % rank, int(batch_axis or 0) % rank
    if s == b:
        raise InvalidArgumentError("reverse_sequence: seq_axis and batch_axis must differ")
    perm = [b, s] + [i for i in range(rank) if i not in (b, s)]
    moved = transpose(t, perm)
    n = raw_shape(moved)[1]
    sizes = [] if n is not None else [dim_size(moved, 1)]
    steps = expand_dims(apply(OPS["iota"], *sizes, shape=(n,), dtype=int64, axis=0), 0)  # [1, T]
    lens = expand_dims(lengths, 1)  # [B, 1]
    idx = where(less(steps, lens), subtract(subtract(lens, 1), steps), steps)
    out = gather(moved, idx, axis=1, batch_dims=1)
    return transpose(out, list(np.argsort(perm)))
