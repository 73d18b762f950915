"""`tf.einsum` as transposes, reshapes, reductions and one batched `matmul` per pair of operands.

The equation's labels (letters; `...` stands for the unnamed leading axes, given fresh labels) are classified per
pair: labels of both operands that the output keeps are batch axes, those it drops are contracted, the others are
free. A label repeated within one operand takes that operand's diagonal (a multiply by an identity mask, then a sum);
a label found in one operand only and not in the output is summed away first. Each pair is then
`matmul([batch, free_a, k], [batch, k, free_b])`, and the result transposed to the output's order. More than two
operands fold from the left (the intermediate keeps every label a later operand or the output needs). Gradients are
those of the rows used. Shapes must be static.
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from engine.ops.array_ops import reshape, transpose
from engine.ops.composite_ops import eye
from engine.ops.funnel import as_tensor, raw_shape
from engine.ops.math_ops import multiply
from engine.ops.reduce_ops import matmul, reduce_sum
from engine.tensor import Tensor
from ir.ops_state import InvalidArgumentError

_FRESH = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _parse(equation: str, shapes: list[tuple]) -> tuple[list[str], str]:
    eq = equation.replace(" ", "")
    ins, arrow, out = eq.partition("->")
    terms = ins.split(",")
    if len(terms) != len(shapes):
        raise InvalidArgumentError(f"einsum: the equation {equation!r} names {len(terms)} operand(s), "
                                   f"got {len(shapes)}")
    ell_rank = max((len(s) - len(t.replace("...", "")) for t, s in zip(terms, shapes) if "..." in t), default=0)
    ell = _FRESH[:ell_rank]
    labels = []
    for t, s in zip(terms, shapes):
        if "..." in t:
            n = len(s) - len(t.replace("...", ""))
            t = t.replace("...", ell[ell_rank - n:])
        if len(t) != len(s) or not all(c.isalpha() for c in t):
            raise InvalidArgumentError(f"einsum: the subscripts {t!r} do not fit an operand of shape {s}")
        labels.append(t)
    if arrow:
        out = out.replace("...", ell)
    else:
        counts = {c: "".join(labels).count(c) for c in "".join(labels)}
        out = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    return labels, out


def _diagonals(x: Tensor, labels: str) -> tuple[Tensor, str]:
    while len(set(labels)) != len(labels):
        c = next(c for c in labels if labels.count(c) > 1)
        a = labels.index(c)
        b = labels.index(c, a + 1)
        shape = raw_shape(x)
        mask = eye(shape[a], dtype=x.dtype)
        mask = reshape(mask, [shape[a] if i in (a, b) else 1 for i in range(len(shape))])
        x = reduce_sum(multiply(x, mask), axis=b)
        labels = labels[:b] + labels[b + 1:]
    return x, labels


def _sum_away(x: Tensor, labels: str, keep: str) -> tuple[Tensor, str]:
    axes = [i for i, c in enumerate(labels) if c not in keep]
    if not axes:
        return x, labels
    return reduce_sum(x, axis=axes), "".join(c for c in labels if c in keep)


def _pair(a: Tensor, la: str, b: Tensor, lb: str, keep: str) -> tuple[Tensor, str]:
    sa = dict(zip(la, raw_shape(a)))
    sb = dict(zip(lb, raw_shape(b)))
    for c in set(la) & set(lb):
        if sa[c] != sb[c]:
            raise InvalidArgumentError(f"einsum: label {c!r} has size {sa[c]} in one operand and {sb[c]} in another")
    batch = [c for c in la if c in lb and c in keep]
    summed = [c for c in la if c in lb and c not in keep]
    free_a = [c for c in la if c not in lb]
    free_b = [c for c in lb if c not in la]
    size = (lambda cs, s: int(np.prod([s[c] for c in cs])))
    a2 = reshape(transpose(a, [la.index(c) for c in batch + free_a + summed]),
                 [size(batch, sa), size(free_a, sa), size(summed, sa)])
    b2 = reshape(transpose(b, [lb.index(c) for c in batch + summed + free_b]),
                 [size(batch, sb), size(summed, sb), size(free_b, sb)])
    out = matmul(a2, b2)
    shape = [sa[c] for c in batch + free_a] + [sb[c] for c in free_b]
    return reshape(out, shape), "".join(batch + free_a + free_b)


def einsum(equation: str, *inputs: Any, name: Optional[str] = None, **unused: Any) -> Tensor:
    """The tensor contraction that `equation` describes (numpy's einsum notation).

    >>> import engine as tf
    >>> tf.einsum("ij,jk->ik", tf.constant([[1, 2]]), tf.constant([[3], [4]])).numpy()
    array([[11]], dtype=int32)
    """
    ts = [as_tensor(t) for t in inputs]
    if not ts:
        raise InvalidArgumentError("einsum: needs at least one operand")
    shapes = [tuple(raw_shape(t)) for t in ts]
    if any(None in s for s in shapes):
        raise InvalidArgumentError(f"einsum: operand shapes must be static, got {shapes}")
    labels, out = _parse(equation, shapes)
    if len(set(out)) != len(out) or any(c not in "".join(labels) for c in out):
        raise InvalidArgumentError(f"einsum: bad output subscripts {out!r} in {equation!r}")
    cur, lc = _diagonals(ts[0], labels[0])
    for k in range(1, len(ts)):
        nxt, ln = _diagonals(ts[k], labels[k])
        later = "".join(labels[k + 1:]) + out
        cur, lc = _sum_away(cur, lc, later + ln)
        nxt, ln = _sum_away(nxt, ln, later + lc)
        cur, lc = _pair(cur, lc, nxt, ln, later)
    cur, lc = _sum_away(cur, lc, out)
    return transpose(cur, [lc.index(c) for c in out]) if lc != out else cur
