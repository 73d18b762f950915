"""Every differentiable row of the op table through the IR transforms, as a hypothesis property:
`engine.testing.check_grads` (forward mode against central differences, reverse mode through the inner-product
identity, both again on the first-order transforms for order 2) on float64 operands drawn with
`engine.testing.strategies`, each in a domain away from the row's kinks and jumps.

- CASES has one strategy per row whose vjp is not NONDIFF (`read` is differentiated through Variables, in
  tests/test_grad.py); `test_every_differentiable_row_has_a_case` fails for a new row without one.
- The row is applied directly (`dispatch.apply(opdef, ...)`) inside the function being differentiated, so the IR
  holds exactly that op; integer and bool operands (indices, predicates) are constants of the function.
- The property runs the transforms on the interpreter (`engine.function(..., jit_compile=False)`), many examples
  cheaply; `test_compiled_row_gradients` runs one example of every row through the transforms' default, native
  code, with the same checks.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
import ir
from engine import dispatch
from engine.testing import check_grads
from engine.testing import strategies as kst
from ir.types import float32, float64

F64 = float64


@dataclass
class Case:
    """One drawn application of a row: the differentiated float64 operands `xs`, the other operands by position
    (`fixed`: predicates, indices), attrs, the derivative order to check and check_grads options."""
    xs: list[np.ndarray]
    attrs: dict[str, Any] = field(default_factory=dict)
    fixed: dict[int, np.ndarray] = field(default_factory=dict)
    order: int = 2
    options: dict[str, Any] = field(default_factory=dict)

    def function(self, name: str, jit_compile: bool) -> Callable[..., Any]:
        opdef = ir.OPS[name]
        n = len(self.xs) + len(self.fixed)
        fixed = {i: engine.constant(a) for i, a in self.fixed.items()}
        attrs = self.attrs

        def apply_row(*xs: Any) -> Any:
            it = iter(xs)
            operands = [fixed[i] if i in fixed else next(it) for i in range(n)]
            return dispatch.apply(opdef, *operands, **attrs)
        return engine.function(apply_row, jit_compile=jit_compile, autograph=False, name=f"row_{name}")


# ---- strategies -----------------------------------------------------------------------------------------------------
def shapes(min_rank: int = 0, max_rank: int = 3) -> st.SearchStrategy:
    return kst.shapes(min_rank, max_rank, 1, 3)


def elementwise(*domains: str, transform: Callable[..., list[np.ndarray]] = lambda *xs: list(xs),
                **case: Any) -> st.SearchStrategy:
    """Operands of one drawn shape, each in its domain (engine.testing.strategies.DOMAINS), then transformed."""
    @st.composite
    def draw(d: Any) -> Case:
        shape = d(shapes())
        xs = [d(kst.arrays(F64, shape, domain=dom)) for dom in domains]
        return Case(transform(*xs), **case)
    return draw()


def mod_operands(x: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
    """x / y kept at least 0.2 from an integer, so x mod y stays away from its jumps."""
    q = x / y
    return [(np.floor(q) + 0.2 + 0.6 * (q - np.floor(q))) * y, y]


def apart(x: np.ndarray, gap: np.ndarray) -> list[np.ndarray]:
    """x and x + gap with |gap| >= 0.25: either may win, never within the step of a tie."""
    return [x, x + gap]


@st.composite
def select_case(d: Any) -> Case:
    shape = d(shapes())
    pred = d(kst.arrays(ir.types.bool_, shape))
    return Case([d(kst.arrays(F64, shape)), d(kst.arrays(F64, shape))], fixed={0: pred})


@st.composite
def convert_case(d: Any) -> Case:
    shape = d(shapes())
    if d(st.booleans()):  # float32 -> float64: float32's default tolerances and step
        return Case([d(kst.arrays(float32, shape))], {"dtype": F64})
    # float64 -> float32: the result is rounded to float32, so a larger step and a float32-sized tolerance
    return Case([d(kst.arrays(F64, shape))], {"dtype": float32}, options={"eps": 1e-2, "atol": 1e-3, "rtol": 1e-3})


def reduction(domain: str = "real", distinct: bool = False) -> st.SearchStrategy:
    @st.composite
    def draw(d: Any) -> Case:
        shape = d(shapes(1, 3))
        axes = d(st.lists(st.integers(0, len(shape) - 1), min_size=1, max_size=len(shape), unique=True))
        x = d(kst.arrays(F64, shape, domain=domain, distinct=distinct))
        return Case([x], {"axes": tuple(sorted(axes))})
    return draw()


@st.composite
def matmul_case(d: Any) -> Case:
    batch = d(st.sampled_from([(), (2,)]))
    m, k, n = (d(st.integers(1, 3)) for _ in range(3))
    ta, tb = d(st.booleans()), d(st.booleans())
    a = d(kst.arrays(F64, batch + ((k, m) if ta else (m, k))))
    b = d(kst.arrays(F64, batch + ((n, k) if tb else (k, n))))
    return Case([a, b], {"transpose_a": ta, "transpose_b": tb})


@st.composite
def broadcast_case(d: Any) -> Case:
    shape = d(st.lists(st.sampled_from([1, 2, 3]), min_size=0, max_size=2).map(tuple))
    target = tuple(d(st.integers(1, 3)) if s == 1 else s for s in shape)
    lead = tuple(d(st.lists(st.integers(1, 3), max_size=2)))
    return Case([d(kst.arrays(F64, shape))], {"shape": lead + target})


@st.composite
def reshape_case(d: Any) -> Case:
    shape = d(shapes())
    target = d(st.sampled_from([(int(np.prod(shape)),), tuple(reversed(shape)), (1,) + shape]))
    return Case([d(kst.arrays(F64, shape))], {"shape": target})


@st.composite
def shape_cast_case(d: Any) -> Case:
    """shape_cast relaxing some dims to unknown (the values and their gradient pass through)."""
    shape = d(shapes(1, 3))
    relaxed = tuple(None if d(st.booleans()) else n for n in shape)
    return Case([d(kst.arrays(F64, shape))], {"shape": relaxed})


@st.composite
def transpose_case(d: Any) -> Case:
    shape = d(shapes(1, 3))
    perm = tuple(d(st.permutations(range(len(shape)))))
    return Case([d(kst.arrays(F64, shape))], {"perm": perm})


@st.composite
def slice_case(d: Any) -> Case:
    """Normalized slice attrs: per axis range(begin, end, stride), end -1 meaning 'through index 0'."""
    shape = d(st.lists(st.integers(1, 5), min_size=1, max_size=3).map(tuple))
    begin, end, strides = [], [], []
    for n in shape:
        s = d(st.sampled_from([-3, -2, -1, 1, 2, 3]))
        if s > 0:
            b = d(st.integers(0, n - 1))
            e = d(st.integers(b + 1, n))
        else:
            b = d(st.integers(0, n - 1))
            e = d(st.integers(-1, b - 1))
        begin.append(b)
        end.append(e)
        strides.append(s)
    return Case([d(kst.arrays(F64, shape))], {"begin": tuple(begin), "end": tuple(end), "strides": tuple(strides)})


@st.composite
def concat_case(d: Any) -> Case:
    shape = d(shapes(1, 3))
    axis = d(st.integers(0, len(shape) - 1))
    sizes = d(st.lists(st.integers(1, 3), min_size=1, max_size=3))
    xs = [d(kst.arrays(F64, shape[:axis] + (k,) + shape[axis + 1:])) for k in sizes]
    return Case(xs, {"axis": axis})


@st.composite
def pad_case(d: Any) -> Case:
    shape = d(shapes(1, 3))
    paddings = tuple((d(st.integers(0, 2)), d(st.integers(0, 2))) for _ in shape)
    return Case([d(kst.arrays(F64, shape))], {"paddings": paddings, "value": d(st.sampled_from([0.0, -1.5]))})


@st.composite
def gather_case(d: Any) -> Case:
    shape = d(shapes(1, 3))
    axis = d(st.integers(0, len(shape) - 1))
    index_shape = d(shapes(0, 2))
    n = int(np.prod(index_shape, dtype=np.int64))
    dtype = d(st.sampled_from([np.int32, np.int64]))
    idx = np.asarray(d(st.lists(st.integers(0, shape[axis] - 1), min_size=n, max_size=n)), dtype).reshape(index_shape)
    return Case([d(kst.arrays(F64, shape))], {"axis": axis}, fixed={1: idx})


@st.composite
def scatter_case(d: Any) -> Case:
    shape = d(shapes(1, 2))
    axis = d(st.integers(0, len(shape) - 1))
    size = d(st.integers(1, 4))
    index_shape = d(shapes(0, 2))
    n = int(np.prod(index_shape, dtype=np.int64))
    idx = np.asarray(d(st.lists(st.integers(0, size - 1), min_size=n, max_size=n)), np.int32).reshape(index_shape)
    updates = d(kst.arrays(F64, shape[:axis] + index_shape + shape[axis + 1:]))
    return Case([updates], {"axis": axis, "size": size}, fixed={1: idx})


@st.composite
def conv_case(d: Any, row: str) -> Case:
    """conv2d or one of its gradients on a small drawn geometry (strides, dilations and paddings included)."""
    from ir.ops_conv import out_size
    kh, kw, c, oc = d(st.integers(1, 3)), d(st.integers(1, 2)), d(st.integers(1, 2)), d(st.integers(1, 3))
    strides, dilations = (d(st.integers(1, 2)), d(st.integers(1, 2))), (d(st.integers(1, 2)), 1)
    paddings = ((d(st.integers(0, 1)), d(st.integers(0, 1))), (d(st.integers(0, 1)), 0))
    h, w = (d(st.integers((k - 1) * dl + 1, (k - 1) * dl + 3)) for k, dl in ((kh, dilations[0]), (kw, 1)))
    xshape, fshape = (d(st.integers(1, 2)), h, w, c), (kh, kw, c, oc)
    yshape = (xshape[0], out_size(h, kh, strides[0], dilations[0], paddings[0]),
              out_size(w, kw, strides[1], 1, paddings[1]), oc)
    attrs = {"strides": strides, "dilations": dilations, "paddings": paddings}
    shapes_of = {"conv2d": (xshape, fshape), "conv2d_backprop_input": (yshape, fshape),
                 "conv2d_backprop_filter": (xshape, yshape)}[row]
    if row != "conv2d":
        attrs["shape"] = xshape if row == "conv2d_backprop_input" else fshape
    return Case([d(kst.arrays(F64, s)) for s in shapes_of], attrs)


@st.composite
def pool_case(d: Any, row: str) -> Case:
    """A pooling row on distinct values (a unique maximum per window); the max-pool gradients take x as a
    constant (they are piecewise constant in it)."""
    from ir.ops_conv import out_size
    ksize, strides = (d(st.integers(1, 3)), d(st.integers(1, 2))), (d(st.integers(1, 2)), d(st.integers(1, 2)))
    paddings = tuple((d(st.integers(0, k - 1)), d(st.integers(0, k - 1))) for k in ksize)
    xshape = (d(st.integers(1, 2)), d(st.integers(ksize[0], 4)), d(st.integers(ksize[1], 4)), d(st.integers(1, 2)))
    yshape = (xshape[0],) + tuple(out_size(xshape[1 + a], ksize[a], strides[a], 1, paddings[a]) for a in range(2)) \
        + (xshape[3],)
    attrs = {"ksize": ksize, "strides": strides, "paddings": paddings}
    x = d(kst.arrays(F64, xshape, distinct=True))
    if row in ("max_pool2d", "avg_pool2d"):
        return Case([x], attrs)
    if row == "avg_pool2d_grad":
        return Case([d(kst.arrays(F64, yshape))], dict(attrs, shape=xshape))
    other = yshape if row == "max_pool2d_grad" else xshape
    return Case([d(kst.arrays(F64, other))], attrs, fixed={0: x})


@st.composite
def scan_case(d: Any) -> Case:
    shape = d(shapes(1, 3))
    attrs = {"axis": d(st.integers(0, len(shape) - 1)), "exclusive": d(st.booleans()), "reverse": d(st.booleans())}
    return Case([d(kst.arrays(F64, shape))], attrs)


@st.composite
def linalg_case(d: Any, row: str) -> Case:
    """A well-conditioned batch of matrices (a drawn one plus (n + 2) I) and, for a solve, a right-hand side."""
    n, batch = d(st.integers(1, 3)), d(shapes(0, 1))
    a = d(kst.arrays(F64, batch + (n, n), domain="small")) + (n + 2) * np.eye(n)
    if row == "matrix_determinant":
        return Case([a], {})
    if row == "matrix_slogdet":  # the sign's gradient is zero: its finite difference too, so it is not drawn
        return Case([a], {"part": "log_abs"})
    return Case([a, d(kst.arrays(F64, batch + (n, d(st.integers(1, 2)))))], {"adjoint": d(st.booleans())})


@st.composite
def segment_combine_case(d: Any) -> Case:
    """Distinct values (a unique max and min per slot); prod on positive values (its second derivative through the
    exact-at-zero rule is not checked at a zero: the first is, in test_apis_segments_linalg)."""
    shape = d(shapes(1, 2))
    size = d(st.integers(1, 3))
    idx = np.asarray(d(st.lists(st.integers(0, size - 1), min_size=shape[0], max_size=shape[0])), np.int32)
    kind = d(st.sampled_from(["max", "min", "prod"]))
    domain = "positive" if kind == "prod" else "real"
    return Case([d(kst.arrays(F64, shape, domain=domain, distinct=True))], {"kind": kind, "size": size},
                fixed={1: idx})


CASES: dict[str, st.SearchStrategy] = {
    **{name: elementwise("real") for name in ("neg", "exp", "expm1", "sin", "cos", "tanh", "logistic", "erf")},
    "abs": elementwise("nonzero"), "sign": elementwise("nonzero"), "relu": elementwise("nonzero"),
    **{name: elementwise("positive") for name in ("log", "log1p", "sqrt", "rsqrt")},
    "relu": elementwise("nonzero"),
    **{name: elementwise("real", "real") for name in ("add", "sub", "mul")},
    "div": elementwise("real", "nonzero"),
    "xlogy": elementwise("real", "positive"),
    "mod": elementwise("real", "nonzero", transform=mod_operands),
    "pow": elementwise("positive", "real"),
    "maximum": elementwise("real", "nonzero", transform=apart),
    "minimum": elementwise("real", "nonzero", transform=apart),
    "select": select_case(), "convert": convert_case(),
    "reduce_sum": reduction(), "reduce_prod": reduction("nonzero"),
    "reduce_max": reduction(distinct=True), "reduce_min": reduction(distinct=True),
    "matmul": matmul_case(),
    "broadcast_to": broadcast_case(), "reshape": reshape_case(), "transpose": transpose_case(),
    "shape_cast": shape_cast_case(),
    "slice": slice_case(), "concat": concat_case(), "pad": pad_case(),
    "gather": gather_case(), "scatter_add": scatter_case(),
    "cumsum": scan_case(), "cumprod": scan_case(), "segment_combine": segment_combine_case(),
    "matrix_solve": linalg_case("matrix_solve"), "matrix_determinant": linalg_case("matrix_determinant"),
    "matrix_slogdet": linalg_case("matrix_slogdet"),
    **{name: conv_case(name) for name in ("conv2d", "conv2d_backprop_input", "conv2d_backprop_filter")},
    **{name: pool_case(name) for name in ("max_pool2d", "max_pool2d_grad", "max_pool2d_grad_grad", "avg_pool2d",
                                          "avg_pool2d_grad")},
}


def differentiable_rows() -> set[str]:
    return {name for name, opdef in ir.OPS.items() if opdef.vjp is not ir.NONDIFF} - {"read"}


def test_every_differentiable_row_has_a_case() -> None:
    missing = sorted(differentiable_rows() - set(CASES))
    extra = sorted(set(CASES) - differentiable_rows())
    assert not missing, f"differentiable rows without a case in CASES: {missing}"
    assert not extra, f"cases for rows that are not differentiable (or not rows): {extra}"


def run_case(name: str, case: Case, jit_compile: bool) -> None:
    f = case.function(name, jit_compile)
    check_grads(f, case.xs, order=case.order, modes=("fwd", "rev"), **case.options)


@pytest.mark.parametrize("name", sorted(CASES))
@given(data=st.data())
def test_row_gradients(name: str, data: st.DataObject) -> None:
    run_case(name, data.draw(CASES[name], label=name), jit_compile=False)


@pytest.mark.parametrize("name", sorted(CASES))
def test_compiled_row_gradients(name: str) -> None:
    """One example per row (fixed by the row's name) through native code."""
    run_case(name, _example(name), jit_compile=True)


def _example(name: str) -> Case:
    """A deterministic draw from the row's strategy."""
    found: list[Case] = []

    @settings(max_examples=1, database=None, derandomize=True)
    @given(st.data())
    def grab(data: st.DataObject) -> None:
        found.append(data.draw(CASES[name]))
    grab()
    return found[0]
