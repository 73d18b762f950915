"""The convolution and pooling rows (`ir.ops_conv`) and their native rules (`codegen.rules.conv`, `.pool`).

- Values against independent numpy references written here (per-tap slicing for convolutions, per-window loops
  for pooling), the gradients through the adjoint identity <J^T g, u> = <g, J u> with those references.
- TensorFlow 2.21's answers, recorded with /work/tfvenv and hard-coded: a strided SAME convolution and its two
  gradients, max pooling with ties (TF routes each window's cotangent to its first maximum) and SAME average pooling
  (TF divides by the real elements only), a dilated VALID convolution.
- Every row eager == interpreter == compiled on geometries that reach each code path of the rules (the blocked
  kernel with whole vectors and scalar tails, dots over input channels, the stride-1 input gradient as a full
  convolution and the strided scatter), in float64, float32, float16 and bfloat16.
- Gradients of the public functions by `engine.testing.check_grads` (float64 central differences, both modes).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import engine as tf
import ir
from engine import dispatch
from engine.testing import check_grads
from ir.ops_conv import out_size

OPS = ir.OPS


# ---- independent references -----------------------------------------------------------------------------------------
def ref_conv(x: np.ndarray, f: np.ndarray, strides: Any, dilations: Any, paddings: Any) -> np.ndarray:
    """One strided slice of the padded input per filter tap, contracted over channels."""
    xp = np.pad(x.astype(np.float64), [(0, 0), tuple(paddings[0]), tuple(paddings[1]), (0, 0)])
    kh, kw = f.shape[:2]
    oh = out_size(x.shape[1], kh, strides[0], dilations[0], paddings[0])
    ow = out_size(x.shape[2], kw, strides[1], dilations[1], paddings[1])
    out = np.zeros((x.shape[0], oh, ow, f.shape[3]))
    for i in range(kh):
        for j in range(kw):
            r, s = i * dilations[0], j * dilations[1]
            patch = xp[:, r:r + (oh - 1) * strides[0] + 1:strides[0], s:s + (ow - 1) * strides[1] + 1:strides[1]]
            out += patch @ f[i, j].astype(np.float64)
    return out


def ref_pool(x: np.ndarray, ksize: Any, strides: Any, paddings: Any, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """(pooled, the input position (row, col) of each window's first maximum), window by window."""
    n, h, w, c = x.shape
    oh, ow = (out_size(d, k, s, 1, p) for d, k, s, p in zip((h, w), ksize, strides, paddings))
    out, where = np.zeros((n, oh, ow, c)), np.zeros((n, oh, ow, c, 2), np.int64)
    for i in range(oh):
        for j in range(ow):
            r0, c0 = i * strides[0] - paddings[0][0], j * strides[1] - paddings[1][0]
            rows = [r for r in range(r0, r0 + ksize[0]) if 0 <= r < h]
            cols = [s for s in range(c0, c0 + ksize[1]) if 0 <= s < w]
            window = x[:, rows][:, :, cols].reshape(n, -1, c).astype(np.float64)
            if kind == "avg":
                out[:, i, j] = window.mean(axis=1)
                continue
            first = np.argmax(window, axis=1)
            out[:, i, j] = window.max(axis=1)
            where[:, i, j, :, 0] = np.asarray(rows)[first // len(cols)]
            where[:, i, j, :, 1] = np.asarray(cols)[first % len(cols)]
    return out, where


def ref_max_pool_grad(x: np.ndarray, g: np.ndarray, where: np.ndarray) -> np.ndarray:
    dx = np.zeros(x.shape)
    n, oh, ow, c = g.shape
    for idx in np.ndindex(n, oh, ow, c):
        r, s = where[idx]
        dx[idx[0], r, s, idx[3]] += g[idx]
    return dx


# ---- geometries -----------------------------------------------------------------------------------------------------
CONV = [  # (x shape, filter shape, strides, dilations, paddings): each reaches a different path of the rules
    ((2, 7, 6, 3), (3, 2, 3, 5), (2, 1), (1, 2), ((1, 2), (0, 1))),        # scalar column blocks, strided scatter
    ((2, 9, 9, 4), (3, 3, 4, 32), (1, 1), (1, 1), ((1, 1), (1, 1))),       # whole vectors; flip path for dx
    ((3, 8, 7, 32), (3, 3, 32, 19), (2, 2), (1, 1), ((0, 1), (1, 1))),     # vectors + scalar tail; dx scatter
    ((2, 6, 6, 1), (3, 3, 1, 32), (1, 1), (1, 1), ((0, 0), (0, 0))),       # the first layer of a CNN
    ((1, 6, 5, 24), (2, 2, 24, 3), (1, 1), (2, 1), ((1, 1), (0, 1))),      # dots over input channels
]
POOL = [((2, 7, 6, 3), (3, 2), (2, 2), ((1, 1), (0, 1))), ((2, 8, 8, 20), (2, 2), (2, 2), ((0, 0), (0, 0))),
        ((1, 5, 5, 17), (3, 3), (1, 1), ((1, 1), (1, 1)))]
DTYPES = {"float64": 1e-12, "float32": 2e-5, "float16": 2e-2, "bfloat16": 5e-2}


def _attrs(strides: Any, dilations: Any, paddings: Any) -> dict:
    return {"strides": strides, "dilations": dilations, "paddings": paddings}


@pytest.mark.parametrize("k", range(len(CONV)))
def test_conv_rows_match_the_references(k: int) -> None:
    xs, fs, strides, dilations, paddings = CONV[k]
    rng = np.random.default_rng(k)
    x, f = rng.standard_normal(xs), rng.standard_normal(fs)
    attrs = _attrs(strides, dilations, paddings)
    y = OPS["conv2d"].eager(x, f, **attrs)
    np.testing.assert_allclose(y, ref_conv(x, f, strides, dilations, paddings), rtol=1e-12, atol=1e-12)
    g, u, v = rng.standard_normal(y.shape), rng.standard_normal(xs), rng.standard_normal(fs)
    dx = OPS["conv2d_backprop_input"].eager(g, f, shape=xs, **attrs)
    df = OPS["conv2d_backprop_filter"].eager(x, g, shape=fs, **attrs)
    assert dx.shape == xs and df.shape == fs
    np.testing.assert_allclose(np.sum(dx * u), np.sum(g * ref_conv(u, f, strides, dilations, paddings)), rtol=1e-10)
    np.testing.assert_allclose(np.sum(df * v), np.sum(g * ref_conv(x, v, strides, dilations, paddings)), rtol=1e-10)


@pytest.mark.parametrize("k", range(len(POOL)))
def test_pool_rows_match_the_references(k: int) -> None:
    xs, ksize, strides, paddings = POOL[k]
    rng = np.random.default_rng(k)
    x = rng.integers(-3, 4, size=xs).astype(np.float64)  # many ties: the first maximum must win
    attrs = {"ksize": ksize, "strides": strides, "paddings": paddings}
    want, where = ref_pool(x, ksize, strides, paddings, "max")
    np.testing.assert_array_equal(OPS["max_pool2d"].eager(x, **attrs), want)
    g, t = rng.standard_normal(want.shape), rng.standard_normal(xs)
    np.testing.assert_allclose(OPS["max_pool2d_grad"].eager(x, g, **attrs), ref_max_pool_grad(x, g, where),
                               rtol=1e-12, atol=1e-12)
    picked = t[np.arange(xs[0])[:, None, None, None], where[..., 0], where[..., 1], np.arange(xs[3])]
    np.testing.assert_array_equal(OPS["max_pool2d_grad_grad"].eager(x, t, **attrs), picked)
    mean, _ = ref_pool(x, ksize, strides, paddings, "avg")
    np.testing.assert_allclose(OPS["avg_pool2d"].eager(x, **attrs), mean, rtol=1e-12)
    da = OPS["avg_pool2d_grad"].eager(g, shape=xs, **attrs)
    np.testing.assert_allclose(np.sum(da * t), np.sum(g * ref_pool(t, ksize, strides, paddings, "avg")[0]),
                               rtol=1e-10)


def _row_cases() -> list[Any]:
    cases = []
    for k, (xs, fs, strides, dilations, paddings) in enumerate(CONV):
        a = _attrs(strides, dilations, paddings)
        ys = (xs[0], out_size(xs[1], fs[0], strides[0], dilations[0], paddings[0]),
              out_size(xs[2], fs[1], strides[1], dilations[1], paddings[1]), fs[3])
        cases += [("conv2d", [xs, fs], a, k), ("conv2d_backprop_input", [ys, fs], dict(a, shape=xs), k),
                  ("conv2d_backprop_filter", [xs, ys], dict(a, shape=fs), k)]
    for k, (xs, ksize, strides, paddings) in enumerate(POOL):
        a = {"ksize": ksize, "strides": strides, "paddings": paddings}
        ys = (xs[0],) + tuple(out_size(xs[1 + i], ksize[i], strides[i], 1, paddings[i]) for i in range(2)) + (xs[3],)
        cases += [("max_pool2d", [xs], a, k), ("avg_pool2d", [xs], a, k), ("max_pool2d_grad", [xs, ys], a, k),
                  ("max_pool2d_grad_grad", [xs, xs], a, k), ("avg_pool2d_grad", [ys], dict(a, shape=xs), k)]
    return [pytest.param(*c, id=f"{c[0]}-{c[3]}") for c in cases]


@pytest.mark.parametrize("dtype", sorted(DTYPES))
@pytest.mark.parametrize("name, shapes, attrs, k", _row_cases())
def test_eager_interpreter_and_compiled_agree(name: str, shapes: list, attrs: dict, k: int, dtype: str) -> None:
    rng = np.random.default_rng(k)
    operands = [tf.constant(rng.standard_normal(s), dtype=getattr(tf, dtype)) for s in shapes]
    eager = dispatch.apply(OPS[name], *operands, **attrs).numpy()
    run = (lambda *xs: dispatch.apply(OPS[name], *xs, **attrs))
    interpreted = tf.function(run, jit_compile=False, autograph=False)(*operands).numpy()
    compiled = tf.function(run, autograph=False)(*operands).numpy()
    np.testing.assert_array_equal(interpreted, eager)
    scale = max(float(np.max(np.abs(eager.astype(np.float64)))), 1.0)
    np.testing.assert_allclose(compiled.astype(np.float64), eager.astype(np.float64), rtol=0,
                               atol=DTYPES[dtype] * scale)


# ---- TensorFlow 2.21 ------------------------------------------------------------------------------------------------
X = (np.arange(40, dtype=np.float32).reshape(1, 4, 5, 2) % 7) - 3.0
F = (np.arange(36, dtype=np.float32).reshape(3, 2, 2, 3) % 5) - 2.0
# TF 2.21: tf.nn.conv2d(X, F, strides=[1, 2, 1, 1], padding="SAME") and the gradients of sum(y * W) with
# W = arange % 3 - 1.
TF_Y = [11.0, -7.0, -5.0, -5.0, -5.0, 5.0, -7.0, 11.0, -6.0, -2.0, -8.0, 11.0, -7.0, 3.0, 3.0, -10.0, -6.0, 3.0, 7.0,
        3.0, -6.0, 10.0, -2.0, 6.0, -1.0, 7.0, -10.0, 2.0, -2.0, 4.0]
TF_DX = [2.0, -3.0, 4.0, -6.0, 4.0, -6.0, 4.0, -6.0, 4.0, -6.0, 2.0, 2.0, -1.0, 4.0, -1.0, 4.0, -1.0, 4.0, -1.0, 4.0,
         -1.0, -1.0, 3.0, -7.0, 3.0, -7.0, 3.0, -7.0, 3.0, -7.0, 2.0, 2.0, -1.0, 4.0, -1.0, 4.0, -1.0, 4.0, -1.0, 4.0]
TF_DF = [2.0, 0.0, -2.0, 6.0, 0.0, -6.0, 2.0, 0.0, -2.0, 1.0, 0.0, -1.0, 0.0, 0.0, 0.0, -3.0, 0.0, 3.0, -1.0, 0.0,
         1.0, -2.0, 0.0, 2.0, 0.0, 0.0, 0.0, 2.0, 0.0, -2.0, 3.0, 0.0, -3.0, -1.0, 0.0, 1.0]
# TF 2.21: max_pool2d(X, [2, 3], [2, 2], "SAME") (X has ties) and the gradient of sum(m * (arange + 1)).
TF_M = [2.0, 3.0, 3.0, 3.0, 3.0, 2.0, 3.0, 2.0, 3.0, 3.0, 2.0, 3.0]
TF_DM = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 8.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 6.0, 0.0, 0.0, 0.0, 0.0, 0.0, 6.0, 7.0,
         0.0, 0.0, 0.0, 0.0, 0.0, 11.0, 22.0, 0.0, 0.0, 0.0, 0.0, 0.0, 8.0, 9.0, 0.0, 0.0, 0.0, 0.0, 0.0]
# TF 2.21: avg_pool2d(X, [3, 3], [2, 2], "SAME") and the gradient of sum(a * (arange + 1)).
TF_A = [-0.1666666716337204, -0.3333333432674408, 0.1111111119389534, 0.3333333432674408, 0.0, -0.1666666716337204,
        0.25, -0.5, 0.3333333432674408, 0.1666666716337204, -0.75, 0.25]
TF_DA = [0.1666666716337204, 0.3333333432674408, 0.5, 0.7777777910232544, 0.3333333432674408, 0.4444444477558136,
         1.1666666269302368, 1.4444444179534912, 0.8333333134651184, 1.0, 0.1666666716337204, 0.3333333432674408, 0.5,
         0.7777777910232544, 0.3333333432674408, 0.4444444477558136, 1.1666666269302368, 1.4444444179534912,
         0.8333333134651184, 1.0, 1.9166666269302368, 2.3333332538604736, 3.75, 4.44444465637207, 1.8333333730697632,
         2.1111111640930176, 5.416666507720947, 6.111111164093018, 3.5833332538604736, 4.0, 1.75, 2.0, 3.25,
         3.6666665077209473, 1.5, 1.6666666269302368, 4.25, 4.666666507720947, 2.75, 3.0]
# TF 2.21: conv2d(X, F[..., :2], strides=1, padding="VALID", dilations=[1, 2]).
TF_Y2 = [11.0, -19.0, -19.0, 11.0, 7.0, 6.0, -6.0, 5.0, 6.0, 7.0, 11.0, -19.0]


def _tf_programs(x: Any, f: Any) -> list[Any]:
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([x, f])
        y = tf.nn.conv2d(x, f, strides=[1, 2, 1, 1], padding="SAME")
        loss = tf.reduce_sum(y * (tf.cast(tf.reshape(tf.range(30), [1, 2, 5, 3]) % 3, tf.float32) - 1.0))
        m = tf.nn.max_pool2d(x, ksize=[2, 3], strides=[2, 2], padding="SAME")
        lm = tf.reduce_sum(m * tf.reshape(tf.range(1.0, 13.0), [1, 2, 3, 2]))
        a = tf.nn.avg_pool2d(x, ksize=[3, 3], strides=[2, 2], padding="SAME")
        la = tf.reduce_sum(a * tf.reshape(tf.range(1.0, 13.0), [1, 2, 3, 2]))
    dx, df = tape.gradient(loss, [x, f])
    y2 = tf.nn.conv2d(x, f[:, :, :, :2], strides=1, padding="VALID", dilations=[1, 2])
    return [y, dx, df, m, tape.gradient(lm, x), a, tape.gradient(la, x), y2]


@pytest.mark.parametrize("mode", ["eager", "compiled"])
def test_matches_tensorflow_2_21(mode: str) -> None:
    run = _tf_programs if mode == "eager" else tf.function(_tf_programs)
    got = run(tf.constant(X), tf.constant(F))
    for value, want in zip(got, [TF_Y, TF_DX, TF_DF, TF_M, TF_DM, TF_A, TF_DA, TF_Y2]):
        np.testing.assert_allclose(value.numpy().ravel(), np.asarray(want, np.float32), rtol=1e-6, atol=1e-6)


# ---- gradients of the public functions ------------------------------------------------------------------------------
@pytest.mark.parametrize("padding", ["SAME", "VALID"])
def test_public_gradients_against_finite_differences(padding: str) -> None:
    rng = np.random.default_rng(7)
    x = rng.permutation(2 * 7 * 6 * 3).reshape(2, 7, 6, 3) * 0.05  # distinct values: unique maxima
    f = rng.standard_normal((3, 2, 3, 4))

    def net(x: Any, f: Any) -> Any:
        y = tf.nn.conv2d(x, f, strides=[2, 1], padding=padding, dilations=1)
        return tf.reduce_sum(tf.sin(tf.nn.max_pool2d(y, 2, 1, padding))) + \
            tf.reduce_sum(tf.sin(tf.nn.avg_pool2d(y, [2, 3], [1, 2], padding)))
    check_grads(tf.function(net), [x, f], order=1, modes=("fwd", "rev"))
    check_grads(tf.function(net, jit_compile=False), [x, f], order=2, modes=("fwd", "rev"))


def test_rows_refuse_bad_geometry_naming_the_op() -> None:
    from ir.types import TensorType, float32
    x, f = TensorType(float32, (1, 4, 4, 2)), TensorType(float32, (3, 3, 3, 1))
    with pytest.raises(ir.InferError, match="^conv2d: .*input channels"):
        OPS["conv2d"].infer([x, f], **_attrs((1, 1), (1, 1), ((0, 0), (0, 0))))
    with pytest.raises(ir.InferError, match="^max_pool2d: .*smaller than the window"):
        OPS["max_pool2d"].infer([x], ksize=(2, 2), strides=(1, 1), paddings=((2, 0), (0, 0)))
    with pytest.raises(ir.InferError, match="^avg_pool2d: .*larger than the padded input"):
        OPS["avg_pool2d"].infer([x], ksize=(5, 1), strides=(1, 1), paddings=((0, 0), (0, 0)))


def test_parsed_ir_with_bad_window_attrs_is_refused_by_the_verifier() -> None:
    from ir.parser import parse
    from ir.verify import VerifyError, verify
    text = """func @f(%x: f32[1,4,4,2]) -> (f32[1,2,2,2]) {
  %0 = max_pool2d %x {ksize = [2, 2.5], paddings = [[0, 0], [0, 0]], strides = [2, 2]} : f32[1,2,2,2]
  return %0
}"""
    with pytest.raises(VerifyError, match="max_pool2d.*ksize = .* must be a list of ints"):
        verify(parse(text))
    verify(parse(text.replace("2.5", "2")))
