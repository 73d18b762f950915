"""Convolution and pooling (`tf.nn.conv2d`, `conv1d`, `max_pool2d`, `avg_pool2d`), NHWC: argument checking, TF's
SAME/VALID padding resolved to explicit amounts, then one row of the op table (`conv2d`, `max_pool2d`,
`avg_pool2d` in `ir.ops_conv`, whose gradients are rows too, lowered natively by `codegen.rules.conv`). Padding
follows TensorFlow: SAME pads `max((out - 1) * stride + (k - 1) * dilation + 1 - in, 0)` split with the smaller half
before; max pooling never picks a padded element and average pooling divides by the number of real elements in each
window.

>>> import engine as tf, numpy as np
>>> x = tf.reshape(tf.range(16.0), [1, 4, 4, 1])
>>> tf.nn.max_pool2d(x, 2, 2, "VALID")[0, :, :, 0].numpy()
array([[ 5.,  7.],
       [13., 15.]], dtype=float32)
"""
from __future__ import annotations

from typing import Any, Optional, Sequence, Union

import numpy as np

from engine.dispatch import apply
from engine.ops import reshape
from engine.ops.funnel import as_tensor
from engine.tensor import Tensor
from ir.ops import OPS

__all__ = ["conv2d", "conv1d", "max_pool2d", "avg_pool2d", "max_pool", "avg_pool", "convolution"]

IntOr2 = Union[int, Sequence[int]]


def _pair(name: str, value: IntOr2, rank: int = 2) -> tuple[int, ...]:
    """An int or a list of 2 (or of 4, NHWC with 1 for N and C, as TF also accepts)."""
    v = [int(value)] * rank if np.ndim(value) == 0 else [int(x) for x in value]
    if len(v) == rank + 2:
        if v[0] != 1 or v[-1] != 1:
            raise ValueError(f"{name} over the batch or channel dimension is not supported, got {v}")
        v = v[1:-1]
    if len(v) == 1:
        v = v * rank
    if len(v) != rank or any(x <= 0 for x in v):
        raise ValueError(f"{name} must be {rank} positive integers, got {value!r}")
    return tuple(v)


def _geometry(size: Optional[int], k: int, stride: int, dilation: int, padding: str) -> tuple[Any, Any, Any]:
    """(output size, padding before, padding after) of one spatial dimension, as TensorFlow computes them. A size
    known only at run time (None, while tracing) gives its padding where it does not depend on the size (VALID,
    SAME with stride 1), and else None for both: the rows resolve SAME once the size is known (ir.conv_padding)."""
    span = (k - 1) * dilation + 1
    if size is None:
        if padding == "SAME" and stride != 1:
            return None, None, None
        return None, (span - 1) // 2 if padding == "SAME" else 0, span // 2 if padding == "SAME" else 0
    if padding == "VALID":
        if size < span:
            raise ValueError(f"the window ({span}) is larger than the input ({size}) with padding VALID")
        return (size - span) // stride + 1, 0, 0
    out = -(-size // stride)
    total = max((out - 1) * stride + span - size, 0)
    return out, total // 2, total - total // 2


def _paddings(hw: Sequence[int], ksize: Sequence[int], strides: Sequence[int], dilations: Sequence[int],
              padding: str) -> tuple[tuple[int, int], tuple[int, int]]:
    """TF's SAME or VALID resolved to the rows' explicit ((top, bottom), (left, right))."""
    padding = str(padding).upper()
    if padding not in ("SAME", "VALID"):
        raise ValueError(f"padding must be 'SAME' or 'VALID', got {padding!r}")
    (_, top, bottom), (_, left, right) = (_geometry(hw[0], ksize[0], strides[0], dilations[0], padding),
                                          _geometry(hw[1], ksize[1], strides[1], dilations[1], padding))
    return (top, bottom), (left, right)


def _nhwc(x: Any, data_format: str, what: str) -> Tensor:
    x = as_tensor(x)
    if data_format not in ("NHWC", "NWC", None):
        raise ValueError(f"{what}: only data_format NHWC is supported, got {data_format!r}")
    if len(x.shape) != 4:
        raise ValueError(f"{what}: input must be 4-D (batch, height, width, channels), got shape {tuple(x.shape)}")
    if not x.dtype.is_floating:
        raise TypeError(f"{what}: input must be float16, float32 or float64, got {x.dtype.name}")
    return x


def conv2d(input: Any, filters: Any, strides: IntOr2 = 1, padding: str = "VALID", data_format: str = "NHWC",
           dilations: IntOr2 = 1, name: Optional[str] = None) -> Tensor:
    """`tf.nn.conv2d`: input (N, H, W, C), filters (KH, KW, C, OC) -> (N, OH, OW, OC)."""
    x = _nhwc(input, data_format, "conv2d")
    f = as_tensor(filters)
    if f.dtype is not x.dtype:
        raise TypeError(f"conv2d: input is {x.dtype.name} but filters are {f.dtype.name}")
    if len(f.shape) != 4 or f.shape[2] != x.shape[3]:
        raise ValueError(f"conv2d: filters must be (height, width, in_channels={x.shape[3]}, out_channels), got "
                         f"shape {tuple(f.shape)}")
    st, dl = _pair("strides", strides), _pair("dilations", dilations)
    pads = _paddings(x.shape[1:3], f.shape[:2], st, dl, padding)
    return apply(OPS["conv2d"], x, f, strides=st, dilations=dl, paddings=pads)


def _batch(x: Tensor) -> Any:
    """x's batch size for a reshape: static, or (unknown while tracing a step) a run-time size."""
    from engine.ops import shape
    return x.shape[0] if x.shape[0] is not None else shape(x)[0]


def conv1d(input: Any, filters: Any, stride: int = 1, padding: str = "VALID", data_format: str = "NWC",
           dilations: int = 1, name: Optional[str] = None) -> Tensor:
    """`tf.nn.conv1d`: input (N, W, C), filters (KW, C, OC), as a conv2d of height 1."""
    x = as_tensor(input)
    f = as_tensor(filters)
    if len(x.shape) != 3 or len(f.shape) != 3:
        raise ValueError(f"conv1d: input must be 3-D and filters 3-D, got {tuple(x.shape)} and {tuple(f.shape)}")
    y = conv2d(reshape(x, [_batch(x), 1, x.shape[1], x.shape[2]]), reshape(f, [1] + list(f.shape)),
               [1, int(stride)], padding, dilations=[1, int(dilations)])
    return reshape(y, [_batch(y), y.shape[2], y.shape[3]])


def max_pool2d(input: Any, ksize: IntOr2, strides: IntOr2, padding: str, data_format: str = "NHWC",
               name: Optional[str] = None) -> Tensor:
    """`tf.nn.max_pool2d`: the maximum of each window (padding never wins)."""
    x = _nhwc(input, data_format, "max_pool2d")
    return _pool("max_pool2d", x, ksize, strides, padding)


def avg_pool2d(input: Any, ksize: IntOr2, strides: IntOr2, padding: str, data_format: str = "NHWC",
               name: Optional[str] = None) -> Tensor:
    """`tf.nn.avg_pool2d`: the mean of the real (unpadded) elements of each window."""
    x = _nhwc(input, data_format, "avg_pool2d")
    return _pool("avg_pool2d", x, ksize, strides, padding)


def _pool(opname: str, x: Tensor, ksize: IntOr2, strides: IntOr2, padding: str) -> Tensor:
    k, st = _pair("ksize", ksize), _pair("strides", strides)
    return apply(OPS[opname], x, ksize=k, strides=st, paddings=_paddings(x.shape[1:3], k, st, (1, 1), padding))


def max_pool(input: Any, ksize: IntOr2, strides: IntOr2, padding: str, data_format: str = "NHWC",
             name: Optional[str] = None) -> Tensor:
    return max_pool2d(input, ksize, strides, padding, data_format)


def avg_pool(input: Any, ksize: IntOr2, strides: IntOr2, padding: str, data_format: str = "NHWC",
             name: Optional[str] = None) -> Tensor:
    return avg_pool2d(input, ksize, strides, padding, data_format)


def convolution(input: Any, filters: Any, strides: Any = None, padding: str = "VALID", data_format: Any = None,
                dilations: Any = None, name: Optional[str] = None) -> Tensor:
    rank = len(as_tensor(input).shape)
    if rank == 4:
        return conv2d(input, filters, strides or 1, padding, dilations=dilations or 1)
    if rank == 3:
        return conv1d(input, filters, strides or 1, padding, dilations=dilations or 1)
    raise ValueError(f"convolution: only 1-D and 2-D convolutions are supported, got an input of rank {rank}")
