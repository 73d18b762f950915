"""Segment ops, tensor_scatter_nd_*, einsum, tf.linalg composites, tf.image geometry and reverse_sequence: values
against numpy, eager == traced (compiled), and gradients against float64 finite differences (check_grads)."""
from __future__ import annotations

import numpy as np
import pytest

import engine as tf
from engine.testing import check_grads

RNG = np.random.default_rng(11)


def _both(fn, *args):  # noqa: ANN001, ANN202
    return fn(*args), tf.function(fn)(*args)


def _np_unsorted(data: np.ndarray, ids: np.ndarray, n: int, reduce, empty) -> np.ndarray:  # noqa: ANN001
    out = np.full((n,) + data.shape[ids.ndim:], empty, dtype=data.dtype)
    for s in range(n):
        sel = data[ids == s]
        if len(sel):
            out[s] = reduce(sel, axis=0)
    return out


@pytest.mark.parametrize("kind,reduce,empty", [("sum", np.sum, 0), ("mean", np.mean, 0), ("prod", np.prod, 1),
                                               ("max", np.max, -np.finfo(np.float32).max),
                                               ("min", np.min, np.finfo(np.float32).max)])
def test_unsorted_segments_match_numpy(kind: str, reduce, empty) -> None:  # noqa: ANN001
    data = RNG.standard_normal((6, 3)).astype(np.float32)
    ids = np.int32([3, 0, -1, 3, 0, 1])
    op = getattr(tf.math, f"unsorted_segment_{kind}")
    want = _np_unsorted(data, ids, 5, reduce, empty)
    for got in _both(lambda d, i: op(d, i, 5), tf.constant(data), tf.constant(ids)):
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-6)


@pytest.mark.parametrize("kind", ["sum", "mean", "max", "min", "prod"])
def test_segment_gradients_match_finite_differences(kind: str) -> None:
    x = RNG.standard_normal((5, 2))
    check_grads(lambda v: getattr(tf.math, f"segment_{kind}")(v, tf.constant([0, 0, 2, 2, 2])) ** 2, [x], order=1)
    # no empty segment: an empty max/min segment holds the dtype's extreme value, where differences overflow
    check_grads(lambda v: getattr(tf.math, f"unsorted_segment_{kind}")(v, tf.constant([1, 0, 2, 1, 1]), 3) * 1.5,
                [x], order=1)


def test_segment_ids_must_be_sorted_and_in_range() -> None:
    with pytest.raises(tf.InvalidArgumentError, match="not increasing"):
        tf.math.segment_sum(tf.constant([1.0, 2.0]), [1, 0])
    with pytest.raises(tf.InvalidArgumentError, match="out of range"):
        tf.math.unsorted_segment_sum(tf.constant([1.0, 2.0]), [0, 3], 3)


def test_tensor_scatter_nd_kinds_match_numpy() -> None:
    t = RNG.standard_normal((4, 3)).astype(np.float32)
    idx = np.int32([[2], [0], [2]])
    u = RNG.standard_normal((3, 3)).astype(np.float32)
    add, sub, mx, mn, upd = t.copy(), t.copy(), t.copy(), t.copy(), t.copy()
    np.add.at(add, idx[:, 0], u)
    np.subtract.at(sub, idx[:, 0], u)
    np.maximum.at(mx, idx[:, 0], u)
    np.minimum.at(mn, idx[:, 0], u)
    upd[idx[:, 0]] = u  # numpy: the last duplicate wins, as TF's CPU kernel
    for name, want in [("add", add), ("sub", sub), ("max", mx), ("min", mn), ("update", upd)]:
        op = getattr(tf, f"tensor_scatter_nd_{name}")
        for got in _both(op, tf.constant(t), tf.constant(idx), tf.constant(u)):
            np.testing.assert_allclose(got.numpy(), want, rtol=1e-6, err_msg=name)


def test_tensor_scatter_nd_gradients() -> None:
    idx = tf.constant([[1, 0], [0, 2]])
    check_grads(lambda t, u: tf.tensor_scatter_nd_update(t, idx, u) ** 2, [RNG.standard_normal((2, 3)),
                                                                            RNG.standard_normal(2)], order=1)
    check_grads(lambda t, u: tf.tensor_scatter_nd_add(t, idx, u) ** 2, [RNG.standard_normal((2, 3)),
                                                                         RNG.standard_normal(2)], order=1)


@pytest.mark.parametrize("eq,shapes", [("ij,jk->ik", [(2, 3), (3, 4)]), ("bij,bjk->bik", [(2, 2, 3), (2, 3, 4)]),
                                       ("ii->i", [(3, 3)]), ("ij->", [(2, 3)]), ("i,j->ij", [(2,), (3,)]),
                                       ("...ij,...jk->...ik", [(2, 5, 2, 3), (2, 5, 3, 4)]),
                                       ("bhqd,bhkd->bhqk", [(2, 3, 4, 5), (2, 3, 6, 5)]),
                                       ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]), ("iij,jk->ik", [(3, 3, 2), (2, 4)]),
                                       ("bn,anm,bm->ba", [(2, 3), (4, 3, 5), (2, 5)]), ("ij,ij", [(3, 4), (3, 4)])])
def test_einsum_matches_numpy_and_its_gradient(eq: str, shapes: list) -> None:
    xs = [RNG.standard_normal(s) for s in shapes]
    for got in _both(lambda *a: tf.einsum(eq, *a), *[tf.constant(x) for x in xs]):
        np.testing.assert_allclose(got.numpy(), np.einsum(eq, *xs), rtol=1e-10, atol=1e-12)
    check_grads(lambda *a: tf.einsum(eq, *a), xs, order=1)


def test_linalg_composites_match_numpy() -> None:
    a = RNG.standard_normal((2, 3, 4))
    i, j = np.indices((3, 4))
    cases = {
        "diag_part": (tf.linalg.diag_part(a), np.diagonal(a, axis1=-2, axis2=-1)),
        "trace": (tf.linalg.trace(a), np.trace(a, axis1=-2, axis2=-1)),
        "band_part": (tf.linalg.band_part(a, 1, 0), np.where((i - j <= 1) & (j <= i), a, 0)),
        "matrix_transpose": (tf.linalg.matrix_transpose(a), np.swapaxes(a, -1, -2)),
        "diag": (tf.linalg.diag(a[0, 0]), np.diag(a[0, 0])),
        "cross": (tf.linalg.cross(a[..., :3], a[..., 1:]), np.cross(a[..., :3], a[..., 1:])),
        "matvec": (tf.linalg.matvec(a, a[:, 0]), np.einsum("bij,bj->bi", a, a[:, 0])),
    }
    s = a[0].copy()
    s[np.arange(3), np.arange(3)] = [7.0, 8.0, 9.0]
    cases["set_diag"] = (tf.linalg.set_diag(a[0], [7.0, 8.0, 9.0]), s)
    for name, (got, want) in cases.items():
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-12, err_msg=name)
    check_grads(lambda v: tf.linalg.band_part(v, 0, 1) * tf.linalg.set_diag(v, tf.linalg.diag_part(v) ** 2), [a[0]])


def test_image_geometry_and_resize() -> None:
    img = RNG.standard_normal((2, 5, 4, 3)).astype(np.float32)
    np.testing.assert_array_equal(tf.image.flip_left_right(img).numpy(), img[:, :, ::-1])
    np.testing.assert_array_equal(tf.image.flip_up_down(img[0]).numpy(), img[0, ::-1])
    for k in range(4):
        np.testing.assert_array_equal(tf.image.rot90(img, k).numpy(), np.rot90(img, k, axes=(1, 2)))
    got = tf.image.resize(img, [10, 8]).numpy()  # an exact 2x upscale: TF's half-pixel weights 0.25 / 0.75
    x = img[0, :, :, 0]
    np.testing.assert_allclose(got[0, 1, 1, 0], 0.75 * (0.75 * x[0, 0] + 0.25 * x[0, 1])
                               + 0.25 * (0.75 * x[1, 0] + 0.25 * x[1, 1]), rtol=1e-6)
    # half-pixel centers: output column o samples floor((o + 0.5) * 4 / 2), columns 1 and 3
    np.testing.assert_array_equal(tf.image.resize(img, [5, 2], method="nearest").numpy(), img[:, :, [1, 3]])
    check_grads(lambda v: tf.image.resize(v, [3, 7]), [img[:1].astype(np.float64)], order=1)


def test_reverse_sequence_matches_numpy_with_run_time_sizes() -> None:
    x = RNG.standard_normal((3, 6, 2)).astype(np.float32)
    lengths = np.int32([6, 0, 3])
    want = x.copy()
    for b, n in enumerate(lengths):
        want[b, :n] = x[b, :n][::-1]
    f = tf.function(lambda v, n: tf.reverse_sequence(v, n, seq_axis=1),
                    input_signature=[tf.TensorSpec([None, None, 2]), tf.TensorSpec([None], tf.int32)])
    np.testing.assert_array_equal(f(tf.constant(x), tf.constant(lengths)).numpy(), want)
    np.testing.assert_array_equal(tf.reverse_sequence(x, lengths, seq_axis=1).numpy(), want)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_det_inv_solve_match_numpy_and_compiled_equals_eager_bit_for_bit(dtype: type) -> None:
    a = RNG.standard_normal((3, 5, 5)).astype(dtype)
    rhs = RNG.standard_normal((3, 5, 2)).astype(dtype)
    fns = lambda m, r: (tf.linalg.det(m), tf.linalg.inv(m), tf.linalg.solve(m, r),  # noqa: E731
                        tf.linalg.solve(m, r, adjoint=True))
    eager = fns(tf.constant(a), tf.constant(rhs))
    compiled = tf.function(fns)(tf.constant(a), tf.constant(rhs))
    want = (np.linalg.det(a), np.linalg.inv(a), np.linalg.solve(a, rhs), np.linalg.solve(np.swapaxes(a, -1, -2), rhs))
    tol = 1e-4 if dtype is np.float32 else 1e-10
    for e, c, w in zip(eager, compiled, want):
        np.testing.assert_array_equal(e.numpy(), c.numpy())
        np.testing.assert_allclose(e.numpy(), w, rtol=tol, atol=tol)


def test_det_of_singular_is_zero_and_inv_raises_tf_message() -> None:
    s = tf.constant([[1.0, 2.0], [2.0, 4.0]])
    assert float(tf.linalg.det(s)) == 0.0
    for fn in (tf.linalg.inv, tf.function(tf.linalg.inv)):
        with pytest.raises(tf.InvalidArgumentError, match="Input matrix is not invertible."):
            fn(s)


def test_det_inv_solve_gradients_match_finite_differences() -> None:
    a = RNG.standard_normal((2, 3, 3))
    rhs = RNG.standard_normal((2, 3, 2))
    check_grads(tf.linalg.det, [a])
    check_grads(tf.linalg.inv, [a])
    check_grads(lambda m, r: tf.linalg.solve(m, r), [a, rhs])
    check_grads(lambda m, r: tf.linalg.solve(m, r, adjoint=True), [a, rhs], order=1)


def test_det_and_solve_on_run_time_sizes() -> None:
    f = tf.function(lambda m, r: (tf.linalg.det(m), tf.linalg.solve(m, r)),
                    input_signature=[tf.TensorSpec([None, None, None], tf.float64),
                                     tf.TensorSpec([None, None, None], tf.float64)])
    for n in (1, 4, 7):
        a, r = RNG.standard_normal((2, n, n)), RNG.standard_normal((2, n, 1))
        d, x = f(tf.constant(a), tf.constant(r))
        np.testing.assert_allclose(d.numpy(), np.linalg.det(a), rtol=1e-10)
        np.testing.assert_allclose(x.numpy(), np.linalg.solve(a, r), rtol=1e-9, atol=1e-12)


def test_segment_prod_gradient_exact_at_zeros_and_max_on_a_large_input() -> None:
    x = np.array([[2.0, 0.0], [0.0, 1.5], [3.0, 0.0], [-1.0, 2.0], [0.5, 4.0]])  # one zero or two per segment
    ids = tf.constant([0, 0, 0, 1, 1])
    check_grads(lambda v: tf.math.unsorted_segment_prod(v, ids, 2), [x], order=1)
    data = RNG.standard_normal((20000, 3)).astype(np.float32)  # O(n): the mask form would hold 20000 x 5000 x 3
    seg = RNG.integers(0, 5000, size=20000).astype(np.int32)
    got = tf.function(lambda d, i: tf.math.unsorted_segment_max(d, i, 5000))(tf.constant(data), tf.constant(seg))
    want = np.full((5000, 3), -np.finfo(np.float32).max, np.float32)
    np.maximum.at(want, seg, data)
    np.testing.assert_array_equal(got.numpy(), want)
