"""TF's SAME padding on a spatial axis whose size is known only at run time, left for the conv and pool rows to
resolve.

The rows take explicit `paddings = ((top, bottom), (left, right))`. SAME with a stride depends on the input's size
(`pad_total = max((ceil(in / s) - 1) * s + (k - 1) * d + 1 - in, 0)`, the smaller half before), so where that size
is `?` while tracing, engine.nn_conv leaves the axis's pair as `[none, none]` ("SAME, resolve from the size").
Each row then resolves it from its operands: its type inference once the size is known (ir.passes.specialize
re-infers with the argument shapes, and its `static_attrs` facet writes the resolved pair into the attr, so native
code always sees explicit paddings), and its numpy kernel on every call (eager mode and the interpreter).
`same_until_known` wraps a registered row's infer, kernel and `static_attrs` facet so; it only needs to know where
the row's input size, window and dilations are.
"""
from __future__ import annotations

from typing import Any, Callable, Optional, Sequence

import numpy as np

from ir.opdef import OPS
from ir.ops_dims import fill_shape
from ir.types import Dim, TensorType

Pairs = Sequence[Sequence[Optional[int]]]
#: (operand shapes, attrs, trailing size values or None) -> the input's (H, W) and the window's (KH, KW)
Geometry = Callable[[Sequence[Sequence[Dim]], dict, Optional[Sequence[Any]]], tuple[Sequence[Dim], Sequence[int]]]


def same_pads(size: int, k: int, stride: int, dilation: int) -> tuple[int, int]:
    """TensorFlow's SAME (before, after) padding of one spatial axis."""
    span = (k - 1) * dilation + 1
    out = -(-size // stride)
    total = max((out - 1) * stride + span - size, 0)
    return total // 2, total - total // 2


def unresolved(paddings: Pairs) -> bool:
    return any(p[0] is None for p in paddings)


def resolve(paddings: Pairs, hw: Sequence[Dim], ksize: Sequence[int], strides: Sequence[int],
            dilations: Sequence[int]) -> tuple[tuple[Any, Any], ...]:
    """The pairs with every SAME placeholder whose size `hw` knows worked out."""
    return tuple(same_pads(int(hw[a]), int(ksize[a]), int(strides[a]), int(dilations[a]))
                 if p[0] is None and hw[a] is not None else tuple(p) for a, p in enumerate(paddings))


def _resolved_attrs(geometry: Geometry, shapes: Sequence[Sequence[Dim]], attrs: dict,
                    sizes: Optional[Sequence[Any]]) -> dict:
    if not unresolved(attrs["paddings"]):
        return attrs
    hw, ksize = geometry(shapes, attrs, sizes)
    return dict(attrs, paddings=resolve(attrs["paddings"], hw, ksize, attrs["strides"],
                                        attrs.get("dilations", (1, 1))))


def x_geometry(window: Callable[[Sequence[Sequence[Dim]], dict], Sequence[int]]) -> Geometry:
    """The input is operand 0."""
    return lambda shapes, attrs, sizes: (tuple(shapes[0][1:3]), window(shapes, attrs))


def shape_attr_geometry(window: Callable[[Sequence[Sequence[Dim]], dict], Sequence[int]]) -> Geometry:
    """The input's shape is the `shape` attr, its unknown spatial dims the trailing size operands."""
    def geometry(shapes: Sequence[Sequence[Dim]], attrs: dict, sizes: Optional[Sequence[Any]]
                 ) -> tuple[Sequence[Dim], Sequence[int]]:
        spatial = tuple(attrs["shape"])[1:]
        if sizes is not None and None in spatial:
            spatial = fill_shape(spatial, sizes)
        return tuple(spatial[:2]), window(shapes, attrs)
    return geometry


def same_until_known(name: str, geometry: Geometry, first_size: Optional[int] = None) -> None:
    """Let row `name` take `[none, none]` SAME pairs (its size operands, if any, start at `first_size`)."""
    opdef = OPS[name]
    infer, kernel, static = opdef.infer, opdef.eager, opdef.static_attrs

    def infer_same(types: list[TensorType], **attrs: Any) -> tuple[TensorType, ...]:
        return infer(types, **_resolved_attrs(geometry, [t.shape for t in types], attrs, None))

    def kernel_same(*arrays: Any, **attrs: Any) -> np.ndarray:
        sizes = arrays[first_size:] if first_size is not None else ()
        return kernel(*arrays, **_resolved_attrs(geometry, [np.shape(a) for a in arrays], attrs, sizes))

    def static_same(types: Sequence[TensorType], constants: Sequence[Any], attrs: dict
                    ) -> Optional[tuple[int, dict]]:
        done = static(types, constants, attrs) if static is not None else (len(types), attrs)
        if done is None:
            return None
        kept, attrs = done
        return kept, _resolved_attrs(geometry, [t.shape for t in types], attrs, None)

    opdef.infer, opdef.eager, opdef.static_attrs = infer_same, kernel_same, static_same
