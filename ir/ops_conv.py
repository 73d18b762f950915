"""Convolution and pooling rows of the op table (NHWC inputs, HWIO filters): conv2d with its two gradients, and
max/average pooling with theirs.

Every row takes explicit `paddings = ((top, bottom), (left, right))` worked out from TF's SAME and VALID in
`engine.nn_conv`, except SAME on an axis of size `?`: `[none, none]`, resolved by the row (ir.conv_padding). Padded
elements are zeros for convolutions, never win a max, and do not count in an average (TF's SAME average divides by
the number of real elements).

- conv2d(x[N,H,W,C], f[KH,KW,C,OC]) {strides, dilations, paddings} -> [N,OH,OW,OC]
- conv2d_backprop_input(g[N,OH,OW,OC], f) {shape = x's shape, ...} -> [N,H,W,C] (the transposed convolution)
- conv2d_backprop_filter(x, g) {shape = f's shape, ...} -> [KH,KW,C,OC]
The three are bilinear and closed under differentiation: each one's vjp is written with the other two.
- max_pool2d(x) {ksize, strides, paddings}; max_pool2d_grad(x, g) routes each window's cotangent to the first
  maximal element of the window (row-major window order), as TF does; max_pool2d_grad_grad(x, t) picks t at that
  element (the tangent of max_pool2d and the vjp of max_pool2d_grad).
- avg_pool2d(x) and avg_pool2d_grad(g) {shape = x's shape, ...}: linear, each the other's transpose.

Unknown dims: the batch and the spatial dims may be `?` (the result's are then `?` too). The two rows with a `shape`
attr (the input's) take its batch from the cotangent and, for each unknown spatial dim, a trailing `i64[]` size
operand (ir.ops_dims's contract), which `ir.passes.specialize` folds back into the attr (`_static_sizes`).

The numpy kernels view the windows with `as_strided` (no copies of the input per window) and contract them with
`tensordot`; the scatters of the gradients loop over the KH*KW window offsets, never over pixels. float16 and
bfloat16 compute in float32 and round once, as matmul does.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional, Sequence

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ir.conv_padding import same_until_known, shape_attr_geometry, x_geometry
from ir.opdef import OpDef, check_arity, check_dtype, fail, register
from ir.ops_dims import SIZE_TYPE, fill_shape
from ir.types import FLOAT_DTYPES, TensorType

if TYPE_CHECKING:
    from ir.emitter import Emitter

Pairs = Sequence[Sequence[int]]


# ---- geometry -------------------------------------------------------------------------------------------------------
def out_size(size: int, k: int, stride: int, dilation: int, pad: Sequence[int]) -> int:
    """Output length of one spatial axis: windows of span (k-1)*dilation+1 over the padded axis."""
    return (size + pad[0] + pad[1] - ((k - 1) * dilation + 1)) // stride + 1


def _check_geometry(opname: str, hw: Sequence[int], ksize: Sequence[int], strides: Sequence[int],
                    dilations: Sequence[int], paddings: Pairs, pooling: bool) -> tuple[int, int]:
    for name, v in (("ksize", ksize), ("strides", strides), ("dilations", dilations)):
        if len(v) != 2 or any(int(s) <= 0 for s in v):
            raise fail(opname, f"{name} {list(v)} must be 2 positive integers")
    same = [len(p) == 2 and p[0] is None and p[1] is None for p in paddings]  # SAME, from a `?` size (conv_padding)
    if len(paddings) != 2 or any(not s and (len(p) != 2 or None in p or min(p) < 0) for p, s in zip(paddings, same)):
        raise fail(opname, f"paddings {[list(p) for p in paddings]} must be 2 non-negative [before, after] pairs")
    if any(s and d is not None for s, d in zip(same, hw)):
        raise fail(opname, f"paddings {[list(p) for p in paddings]} leave SAME unresolved on a spatial axis of "
                           f"known size {tuple(hw)}")
    out = []
    for axis in range(2):
        span = (ksize[axis] - 1) * dilations[axis] + 1
        if pooling and not same[axis] and max(paddings[axis]) >= ksize[axis]:
            raise fail(opname, f"paddings {list(paddings[axis])} must be smaller than the window ({ksize[axis]}): "
                               f"a window of padding only has no element")
        if hw[axis] is None:  # known at run time only
            out.append(None)
            continue
        if hw[axis] + sum(paddings[axis]) < span:
            raise fail(opname, f"the window ({span}) is larger than the padded input "
                               f"({hw[axis] + sum(paddings[axis])}) on spatial axis {axis}")
        out.append(out_size(hw[axis], ksize[axis], strides[axis], dilations[axis], paddings[axis]))
    return out[0], out[1]


def _float4(opname: str, t: TensorType, what: str) -> None:
    check_dtype(opname, t, FLOAT_DTYPES, "a floating-point")
    if t.rank != 4:
        raise fail(opname, f"{what} must be 4-D, got shape {t.shape}")


def _input_type(opname: str, like: TensorType, shape: Sequence[Any], sizes: Sequence[TensorType]) -> TensorType:
    """The input's type of a row with a `shape` attr: the batch of `like` (the cotangent), the attr's other dims,
    one trailing i64[] size operand per unknown one."""
    if len(shape) != 4:
        raise fail(opname, f"shape {tuple(shape)} must be 4-D")
    if len(sizes) != sum(d is None for d in shape[1:]) or any(t != SIZE_TYPE for t in sizes):
        raise fail(opname, f"shape {tuple(shape)} takes one {SIZE_TYPE} operand per unknown dim past the batch")
    return like.with_shape((like.shape[0],) + tuple(shape)[1:])


def _filled(g: np.ndarray, shape: Sequence[Any], sizes: Sequence[Any]) -> tuple[int, ...]:
    return (g.shape[0],) + fill_shape(tuple(shape)[1:], sizes)


def _sizes(em: Emitter, x: Any) -> list[Any]:
    """The size operands for `shape=em.shape(x)`: x's unknown spatial dims."""
    return [em.dim(x, axis=k) for k, d in enumerate(em.shape(x)) if d is None and k > 0]


def _static_sizes(first: int) -> Any:
    """The `static_attrs` facet: the size operands from `first` on, once constants, go back into `shape`."""
    def resolve(types: Sequence[TensorType], constants: Sequence[Any], attrs: dict) -> Optional[tuple[int, dict]]:
        shape = tuple(attrs["shape"])
        if any(c is None for c in constants[first:]):
            return None
        return first, dict(attrs, shape=shape[:1] + fill_shape(shape[1:], constants[first:]))
    return resolve


def _same_dtype(opname: str, a: TensorType, b: TensorType) -> None:
    if a.dtype is not b.dtype:
        raise TypeError(f"{opname}: operands have different dtypes {a.dtype.name} and {b.dtype.name}")


# ---- numpy helpers --------------------------------------------------------------------------------------------------
def _wide(x: np.ndarray) -> np.ndarray:
    """float16/bfloat16 as float32 (computed there and rounded once); other dtypes unchanged."""
    return x.astype(np.float32) if x.dtype.itemsize == 2 else x


def _windows(x: np.ndarray, ksize: Sequence[int], strides: Sequence[int], dilations: Sequence[int],
             paddings: Pairs, fill: float) -> np.ndarray:
    """A read-only view (N, OH, OW, KH, KW, C) of the windows of x padded with `fill`."""
    if any(p for pair in paddings for p in pair):
        x = np.pad(x, [(0, 0), tuple(paddings[0]), tuple(paddings[1]), (0, 0)], constant_values=fill)
    n, hp, wp, c = x.shape
    oh = (hp - (ksize[0] - 1) * dilations[0] - 1) // strides[0] + 1
    ow = (wp - (ksize[1] - 1) * dilations[1] - 1) // strides[1] + 1
    sn, sh, sw, sc = x.strides
    return as_strided(x, (n, oh, ow, ksize[0], ksize[1], c),
                      (sn, sh * strides[0], sw * strides[1], sh * dilations[0], sw * dilations[1], sc),
                      writeable=False)


def _scatter(cols: np.ndarray, shape: Sequence[int], strides: Sequence[int], dilations: Sequence[int],
             paddings: Pairs) -> np.ndarray:
    """The transpose of `_windows`: adds cols (N, OH, OW, KH, KW, C) into a zero input of `shape`, one window
    offset at a time, and drops the padding."""
    n, oh, ow, kh, kw, c = cols.shape
    (top, bottom), (left, right) = paddings
    out = np.zeros((n, shape[1] + top + bottom, shape[2] + left + right, c), cols.dtype)
    for i in range(kh):
        for j in range(kw):
            r, s = i * dilations[0], j * dilations[1]
            out[:, r:r + (oh - 1) * strides[0] + 1:strides[0], s:s + (ow - 1) * strides[1] + 1:strides[1]] += \
                cols[:, :, :, i, j]
    return out[:, top:top + shape[1], left:left + shape[2]]


# ---- conv2d and its gradients ---------------------------------------------------------------------------------------
CONV_ATTRS = ("strides", "dilations", "paddings")


def _conv2d_infer(types: list[TensorType], *, strides: Sequence[int], dilations: Sequence[int],
                  paddings: Pairs) -> tuple[TensorType, ...]:
    check_arity("conv2d", types, 2)
    x, f = types
    _float4("conv2d", x, "the input")
    _float4("conv2d", f, "the filter")
    _same_dtype("conv2d", x, f)
    if f.shape[2] != x.shape[3]:
        raise fail("conv2d", f"the filter {f.shape} takes {f.shape[2]} input channels, the input {x.shape} has "
                             f"{x.shape[3]}")
    oh, ow = _check_geometry("conv2d", x.shape[1:3], f.shape[:2], strides, dilations, paddings, False)
    return (x.with_shape((x.shape[0], oh, ow, f.shape[3])),)


def _conv2d_kernel(x: np.ndarray, f: np.ndarray, *, strides: Sequence[int], dilations: Sequence[int],
                   paddings: Pairs) -> np.ndarray:
    w = _windows(_wide(x), f.shape[:2], strides, dilations, paddings, 0)
    return np.tensordot(w, _wide(f), axes=([3, 4, 5], [0, 1, 2])).astype(x.dtype)


def _conv2d_vjp(em: Emitter, g: Any, out: Any, x: Any, f: Any, **attrs: Any) -> tuple:
    return (em.conv2d_backprop_input(g, f, *_sizes(em, x), shape=em.shape(x), **attrs),
            em.conv2d_backprop_filter(x, g, shape=em.shape(f), **attrs))


def _conv2d_jvp(em: Emitter, ts: Sequence[Any], out: Any, x: Any, f: Any, **attrs: Any) -> Any:
    parts = ([em.conv2d(ts[0], f, **attrs)] if ts[0] is not None else []) + \
        ([em.conv2d(x, ts[1], **attrs)] if ts[1] is not None else [])
    return em.add_n(parts)


def _backprop_input_infer(types: list[TensorType], *, shape: Sequence[int], strides: Sequence[int],
                          dilations: Sequence[int], paddings: Pairs) -> tuple[TensorType, ...]:
    g, f, *sizes = types
    _float4("conv2d_backprop_input", g, "the cotangent")
    _float4("conv2d_backprop_input", f, "the filter")
    _same_dtype("conv2d_backprop_input", g, f)
    x = _input_type("conv2d_backprop_input", g, shape, sizes)
    if x.shape[3] != f.shape[2] or \
            _conv2d_infer([x, f], strides=strides, dilations=dilations, paddings=paddings)[0] != g:
        raise fail("conv2d_backprop_input", f"an input of shape {tuple(shape)} and the filter {f.shape} do not make "
                                            f"an output of shape {g.shape}")
    return (x,)


def _backprop_input_kernel(g: np.ndarray, f: np.ndarray, *sizes: Any, shape: Sequence[Any], strides: Sequence[int],
                           dilations: Sequence[int], paddings: Pairs) -> np.ndarray:
    cols = np.tensordot(_wide(g), _wide(f), axes=([3], [3]))  # (N, OH, OW, KH, KW, C)
    return _scatter(cols, _filled(g, shape, sizes), strides, dilations, paddings).astype(g.dtype)


def _backprop_input_vjp(em: Emitter, u: Any, out: Any, g: Any, f: Any, *sizes: Any, shape: Sequence[Any],
                        **attrs: Any) -> tuple:
    return (em.conv2d(u, f, **attrs), em.conv2d_backprop_filter(u, g, shape=em.shape(f), **attrs)) + \
        (None,) * len(sizes)


def _backprop_input_jvp(em: Emitter, ts: Sequence[Any], out: Any, g: Any, f: Any, *sizes: Any, **attrs: Any) -> Any:
    parts = ([em.conv2d_backprop_input(ts[0], f, *sizes, **attrs)] if ts[0] is not None else []) + \
        ([em.conv2d_backprop_input(g, ts[1], *sizes, **attrs)] if ts[1] is not None else [])
    return em.add_n(parts)


def _backprop_filter_infer(types: list[TensorType], *, shape: Sequence[int], strides: Sequence[int],
                           dilations: Sequence[int], paddings: Pairs) -> tuple[TensorType, ...]:
    check_arity("conv2d_backprop_filter", types, 2)
    x, g = types
    _float4("conv2d_backprop_filter", x, "the input")
    _float4("conv2d_backprop_filter", g, "the cotangent")
    _same_dtype("conv2d_backprop_filter", x, g)
    f = x.with_shape(tuple(shape))
    if f.rank != 4 or f.shape[3] != g.shape[3] or \
            _conv2d_infer([x, f], strides=strides, dilations=dilations, paddings=paddings)[0] != g:
        raise fail("conv2d_backprop_filter", f"the input {x.shape} and a filter of shape {tuple(shape)} do not make "
                                             f"an output of shape {g.shape}")
    return (f,)


def _backprop_filter_kernel(x: np.ndarray, g: np.ndarray, *, shape: Sequence[int], strides: Sequence[int],
                            dilations: Sequence[int], paddings: Pairs) -> np.ndarray:
    w = _windows(_wide(x), shape[:2], strides, dilations, paddings, 0)
    return np.tensordot(w, _wide(g), axes=([0, 1, 2], [0, 1, 2])).astype(x.dtype)


def _backprop_filter_vjp(em: Emitter, u: Any, out: Any, x: Any, g: Any, *, shape: Sequence[int], **attrs: Any
                         ) -> tuple:
    return (em.conv2d_backprop_input(g, u, *_sizes(em, x), shape=em.shape(x), **attrs), em.conv2d(x, u, **attrs))


def _backprop_filter_jvp(em: Emitter, ts: Sequence[Any], out: Any, x: Any, g: Any, **attrs: Any) -> Any:
    parts = ([em.conv2d_backprop_filter(ts[0], g, **attrs)] if ts[0] is not None else []) + \
        ([em.conv2d_backprop_filter(x, ts[1], **attrs)] if ts[1] is not None else [])
    return em.add_n(parts)


register(OpDef("conv2d", _conv2d_infer, _conv2d_kernel, _conv2d_vjp, "linalg", attrs=CONV_ATTRS, jvp=_conv2d_jvp,
               doc="2-D convolution (cross-correlation, as TF's): NHWC input, HWIO filter, explicit paddings."))
register(OpDef("conv2d_backprop_input", _backprop_input_infer, _backprop_input_kernel, _backprop_input_vjp,
               "linalg", attrs=("shape",) + CONV_ATTRS, jvp=_backprop_input_jvp, static_attrs=_static_sizes(2),
               doc="The gradient of conv2d with respect to its input: a transposed convolution."))
register(OpDef("conv2d_backprop_filter", _backprop_filter_infer, _backprop_filter_kernel, _backprop_filter_vjp,
               "linalg", attrs=("shape",) + CONV_ATTRS, jvp=_backprop_filter_jvp,
               doc="The gradient of conv2d with respect to its filter."))


# ---- pooling --------------------------------------------------------------------------------------------------------
POOL_ATTRS = ("ksize", "strides", "paddings")


def _pool_infer(opname: str, nin: int) -> Any:
    def infer(types: list[TensorType], *, ksize: Sequence[int], strides: Sequence[int], paddings: Pairs,
              shape: Sequence[int] = ()) -> tuple[TensorType, ...]:
        if len(types) < nin or not shape:
            check_arity(opname, types, nin)
        types, sizes = types[:nin], types[nin:]
        for t in types:
            _float4(opname, t, "the operand")
        x = _input_type(opname, types[0], shape, sizes) if shape else types[0]
        oh, ow = _check_geometry(opname, x.shape[1:3], ksize, strides, (1, 1), paddings, True)
        y = x.with_shape((x.shape[0], oh, ow, x.shape[3]))
        if nin == 2:  # max_pool2d_grad's g has the output's shape, max_pool2d_grad_grad's t the input's
            _same_dtype(opname, types[0], types[1])
            want = y if opname == "max_pool2d_grad" else x
            if types[1] != want:
                raise fail(opname, f"the second operand must have shape {want.shape}, got {types[1].shape}")
        if shape and types[0] != y:
            raise fail(opname, f"an input of shape {tuple(shape)} makes an output of shape {y.shape}, not "
                               f"{types[0].shape}")
        return (x if shape or opname == "max_pool2d_grad" else y,)
    return infer


def _first_max(x: np.ndarray, ksize: Sequence[int], strides: Sequence[int], paddings: Pairs) -> np.ndarray:
    """Per output element, the flat window offset (kh * KW + kw) of the first maximum (padding never wins; a NaN
    wins, as it does in the max itself)."""
    w = _windows(x, ksize, strides, (1, 1), paddings, -np.inf)
    n, oh, ow, kh, kw, c = w.shape
    return np.argmax(w.reshape(n, oh, ow, kh * kw, c), axis=3)


def _max_pool_kernel(x: np.ndarray, *, ksize: Sequence[int], strides: Sequence[int], paddings: Pairs
                     ) -> np.ndarray:
    return _windows(x, ksize, strides, (1, 1), paddings, -np.inf).max(axis=(3, 4))


def _max_pool_grad_kernel(x: np.ndarray, g: np.ndarray, *, ksize: Sequence[int], strides: Sequence[int],
                          paddings: Pairs) -> np.ndarray:
    first = _first_max(x, ksize, strides, paddings)
    offsets = np.arange(ksize[0] * ksize[1]).reshape(ksize[0], ksize[1], 1)
    cols = np.where(first[:, :, :, None, None, :] == offsets, _wide(g)[:, :, :, None, None, :], 0)
    return _scatter(cols, x.shape, strides, (1, 1), paddings).astype(x.dtype)


def _max_pool_grad_grad_kernel(x: np.ndarray, t: np.ndarray, *, ksize: Sequence[int], strides: Sequence[int],
                               paddings: Pairs) -> np.ndarray:
    first = _first_max(x, ksize, strides, paddings)
    w = _windows(t, ksize, strides, (1, 1), paddings, 0)
    n, oh, ow, kh, kw, c = w.shape
    return np.take_along_axis(w.reshape(n, oh, ow, kh * kw, c), first[:, :, :, None], axis=3)[:, :, :, 0]


def _max_pool_vjp(em: Emitter, g: Any, out: Any, x: Any, **attrs: Any) -> tuple:
    return (em.max_pool2d_grad(x, g, **attrs),)


def _max_pool_jvp(em: Emitter, ts: Sequence[Any], out: Any, x: Any, **attrs: Any) -> Any:
    return em.max_pool2d_grad_grad(x, ts[0], **attrs)


def _max_pool_grad_vjp(em: Emitter, u: Any, out: Any, x: Any, g: Any, **attrs: Any) -> tuple:
    """Piecewise constant in x (which element wins: zeros, as TF's MaxPoolGradGrad gives), linear in g."""
    return (em.zeros_like(x), em.max_pool2d_grad_grad(x, u, **attrs))


def _max_pool_grad_jvp(em: Emitter, ts: Sequence[Any], out: Any, x: Any, g: Any, **attrs: Any) -> Any:
    return em.max_pool2d_grad(x, ts[1], **attrs) if ts[1] is not None else em.zeros_like(out)


def _max_pool_grad_grad_vjp(em: Emitter, u: Any, out: Any, x: Any, t: Any, **attrs: Any) -> tuple:
    return (em.zeros_like(x), em.max_pool2d_grad(x, u, **attrs))


def _max_pool_grad_grad_jvp(em: Emitter, ts: Sequence[Any], out: Any, x: Any, t: Any, **attrs: Any) -> Any:
    return em.max_pool2d_grad_grad(x, ts[1], **attrs) if ts[1] is not None else em.zeros_like(out)


def _counts(shape: Sequence[int], ksize: Sequence[int], strides: Sequence[int], paddings: Pairs,
            dtype: Any) -> np.ndarray:
    """How many real (unpadded) elements each window holds, as an (OH, OW, 1) array."""
    per_axis = []
    for axis in range(2):
        n_out = out_size(shape[axis + 1], ksize[axis], strides[axis], 1, paddings[axis])
        start = np.arange(n_out) * strides[axis] - paddings[axis][0]
        per_axis.append(np.minimum(start + ksize[axis], shape[axis + 1]) - np.maximum(start, 0))
    return (per_axis[0][:, None] * per_axis[1][None, :]).astype(dtype)[:, :, None]


def _avg_pool_kernel(x: np.ndarray, *, ksize: Sequence[int], strides: Sequence[int], paddings: Pairs
                     ) -> np.ndarray:
    xw = _wide(x)
    total = _windows(xw, ksize, strides, (1, 1), paddings, 0).sum(axis=(3, 4))
    return (total / _counts(x.shape, ksize, strides, paddings, xw.dtype)).astype(x.dtype)


def _avg_pool_grad_kernel(g: np.ndarray, *sizes: Any, shape: Sequence[Any], ksize: Sequence[int],
                          strides: Sequence[int], paddings: Pairs) -> np.ndarray:
    shape = _filled(g, shape, sizes)
    share = _wide(g) / _counts(shape, ksize, strides, paddings, _wide(g).dtype)
    cols = np.broadcast_to(share[:, :, :, None, None, :], share.shape[:3] + tuple(ksize) + share.shape[3:])
    return _scatter(cols, shape, strides, (1, 1), paddings).astype(g.dtype)


def _avg_pool_vjp(em: Emitter, g: Any, out: Any, x: Any, **attrs: Any) -> tuple:
    return (em.avg_pool2d_grad(g, *_sizes(em, x), shape=em.shape(x), **attrs),)


def _avg_pool_grad_vjp(em: Emitter, u: Any, out: Any, g: Any, *sizes: Any, shape: Sequence[Any], **attrs: Any
                       ) -> tuple:
    return (em.avg_pool2d(u, **attrs),) + (None,) * len(sizes)


register(OpDef("max_pool2d", _pool_infer("max_pool2d", 1), _max_pool_kernel, _max_pool_vjp, "linalg",
               attrs=POOL_ATTRS, jvp=_max_pool_jvp, doc="The maximum of each window (padding never wins)."))
register(OpDef("max_pool2d_grad", _pool_infer("max_pool2d_grad", 2), _max_pool_grad_kernel, _max_pool_grad_vjp,
               "linalg", attrs=POOL_ATTRS, jvp=_max_pool_grad_jvp,
               doc="max_pool2d's input gradient: g routed to the first maximal element of each window."))
register(OpDef("max_pool2d_grad_grad", _pool_infer("max_pool2d_grad_grad", 2), _max_pool_grad_grad_kernel,
               _max_pool_grad_grad_vjp, "linalg", attrs=POOL_ATTRS, jvp=_max_pool_grad_grad_jvp,
               doc="t at the first maximal element of each window of x (max_pool2d's tangent)."))
register(OpDef("avg_pool2d", _pool_infer("avg_pool2d", 1), _avg_pool_kernel, _avg_pool_vjp, "linalg",
               attrs=POOL_ATTRS, linear=True, doc="The mean of the real (unpadded) elements of each window."))
register(OpDef("avg_pool2d_grad", _pool_infer("avg_pool2d_grad", 1), _avg_pool_grad_kernel, _avg_pool_grad_vjp,
               "linalg", attrs=("shape",) + POOL_ATTRS, linear=True, static_attrs=_static_sizes(1),
               doc="avg_pool2d's input gradient: each window's cotangent shared among its real elements."))


# SAME on a spatial axis of unknown size: each row resolves it from its input's size (ir.conv_padding).
_F_WINDOW = lambda shapes, attrs: shapes[1][:2]  # noqa: E731  (the filter, operand 1)
same_until_known("conv2d", x_geometry(_F_WINDOW))
same_until_known("conv2d_backprop_input", shape_attr_geometry(_F_WINDOW), first_size=2)
same_until_known("conv2d_backprop_filter", x_geometry(lambda shapes, attrs: tuple(attrs["shape"])[:2]))
for _name in ("max_pool2d", "max_pool2d_grad", "max_pool2d_grad_grad", "avg_pool2d"):
    same_until_known(_name, x_geometry(lambda shapes, attrs: attrs["ksize"]))
same_until_known("avg_pool2d_grad", shape_attr_geometry(lambda shapes, attrs: attrs["ksize"]), first_size=1)
