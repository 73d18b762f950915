"""engine.random: the Philox kernel against published answers, the documented stream layout against a pure-Python
oracle, seeding semantics (TensorFlow's global/op seed rules), and the distributions' statistics."""
from __future__ import annotations

import math

import numpy as np
import pytest

import engine as tf
from engine import random as erandom
from ir.ops_state import InvalidArgumentError, philox4x32

MASK32 = 0xFFFFFFFF
MASK64 = (1 << 64) - 1

# Random123's known-answer vectors for Philox 4x32-10: (counter, key) -> output.
PHILOX_KAT = [
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((MASK32,) * 4, (MASK32, MASK32), (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
     (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
]


# ---- an independent oracle: Philox and SplitMix64 on Python ints, the stream layout of engine/random.py -------------
def philox_ref(counter: tuple[int, ...], key: tuple[int, int]) -> list[int]:
    c, (k0, k1) = list(counter), key
    for _ in range(10):
        p0, p1 = 0xD2511F53 * c[0], 0xCD9E8D57 * c[2]
        c = [(p1 >> 32) ^ c[1] ^ k0, p1 & MASK32, (p0 >> 32) ^ c[3] ^ k1, p0 & MASK32]
        k0, k1 = (k0 + 0x9E3779B9) & MASK32, (k1 + 0xBB67AE85) & MASK32
    return c


def splitmix_ref(x: int) -> int:
    z = (x + 0x9E3779B97F4A7C15) & MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


def words_ref(key: int, offset: int, nwords: int) -> list[int]:
    out: list[int] = []
    block = offset
    while len(out) < nwords:
        out += philox_ref((block & MASK32, block >> 32, 0, 0), (key & MASK32, key >> 32))
        block += 1
    return out[:nwords]


def uniform_ref(key: int, offset: int, n: int, dtype: type) -> np.ndarray:
    if dtype is np.float32:
        return np.array([(w >> 8) * 2.0 ** -24 for w in words_ref(key, offset, n)], dtype=np.float32)
    w = words_ref(key, offset, 2 * n)
    return np.array([(((w[2 * i] >> 5) << 26) | (w[2 * i + 1] >> 6)) * 2.0 ** -53 for i in range(n)])


def normal_ref(key: int, offset: int, n: int) -> np.ndarray:
    m = (n + 1) // 2
    u = uniform_ref(key, offset, 2 * m, np.float64)
    r = np.sqrt(-2 * np.log(1 - u[:m]))
    return np.concatenate([r * np.cos(2 * np.pi * u[m:]), r * np.sin(2 * np.pi * u[m:])])[:n]


def phi(x: float) -> float:
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


@pytest.fixture(autouse=True)
def _forget_seed():
    yield
    tf.random.set_seed(None)


# ---- the kernel and the stream --------------------------------------------------------------------------------------
@pytest.mark.parametrize("counter,key,expected", PHILOX_KAT)
def test_philox_matches_random123_known_answers(counter, key, expected):
    assert tuple(philox_ref(counter, key)) == expected  # the oracle itself
    got = philox4x32(np.array([counter], dtype=np.uint32), key)
    assert got.dtype == np.uint32
    assert tuple(int(w) for w in got[0]) == expected


def test_philox_batches_counters_independently():
    counters = np.array([c for c, _, _ in PHILOX_KAT[:2]] * 3, dtype=np.uint32)
    got = philox4x32(counters, (0, 0))
    for row, c in zip(got, counters):
        assert [int(w) for w in row] == philox_ref(tuple(int(x) for x in c), (0, 0))


def test_splitmix64_matches_the_reference_sequence():
    # SplitMix64 seeded with 0 outputs 0xe220a8397b1dcdaf, then 0x6e789e6aa1b965f4.
    assert erandom.splitmix64(0) == 0xE220A8397B1DCDAF
    assert erandom.splitmix64(0x9E3779B97F4A7C15) == 0x6E789E6AA1B965F4


def test_global_stream_layout_is_the_documented_one():
    tf.random.set_seed(1234)
    key = splitmix_ref(1234)
    a = tf.random.uniform([10])                       # blocks 0..2
    b = tf.random.uniform([3], dtype=tf.float64)      # blocks 3..4 (two words per value)
    c = tf.random.uniform([2, 2], minval=-1.0, maxval=3.0)  # block 5
    d = tf.random.normal([5], dtype=tf.float64)       # a (2, 3) float64 draw: blocks 6..8
    np.testing.assert_array_equal(a.numpy(), uniform_ref(key, 0, 10, np.float32))
    np.testing.assert_array_equal(b.numpy(), uniform_ref(key, 3, 3, np.float64))
    np.testing.assert_array_equal(c.numpy(), (uniform_ref(key, 5, 4, np.float32) * 4 - 1).reshape(2, 2))
    np.testing.assert_allclose(d.numpy(), normal_ref(key, 6, 5), rtol=1e-13, atol=1e-13)
    e = tf.random.uniform([1])
    np.testing.assert_array_equal(e.numpy(), uniform_ref(key, 9, 1, np.float32))
    f = tf.random.uniform([5], minval=-7, maxval=1000, dtype=tf.int32)   # one float64 per value: blocks 10..12
    np.testing.assert_array_equal(f.numpy(), -7 + np.floor(uniform_ref(key, 10, 5, np.float64) * 1007))


def test_op_seed_stream_layout_is_the_documented_one():
    tf.random.set_seed(7)
    key = splitmix_ref(splitmix_ref(7) ^ 99)
    a = tf.random.uniform([6], seed=99)
    b = tf.random.uniform([2], seed=99)
    np.testing.assert_array_equal(a.numpy(), uniform_ref(key, 0, 6, np.float32))
    np.testing.assert_array_equal(b.numpy(), uniform_ref(key, 2, 2, np.float32))


def test_op_seed_without_global_seed_uses_tensorflows_default_global_seed():
    tf.random.set_seed(None)
    key = splitmix_ref(splitmix_ref(87654321) ^ 5)
    np.testing.assert_array_equal(tf.random.uniform([4], seed=5).numpy(), uniform_ref(key, 0, 4, np.float32))


# ---- seeding semantics ----------------------------------------------------------------------------------------------
def _program() -> list[np.ndarray]:
    return [tf.random.uniform([7]).numpy(), tf.random.normal([3, 3], mean=1.0).numpy(),
            tf.random.uniform([5], 0, 100, dtype=tf.int64).numpy(), tf.random.uniform([4], seed=3).numpy(),
            tf.random.truncated_normal([6], dtype=tf.float64).numpy(), tf.random.uniform([4], seed=3).numpy()]


def test_same_seed_gives_the_same_sequence():
    tf.random.set_seed(42)
    first = _program()
    tf.random.set_seed(42)
    second = _program()
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[3], first[5])  # an op seed's stream advances between calls


def test_different_seeds_give_different_sequences():
    tf.random.set_seed(1)
    a = _program()
    tf.random.set_seed(2)
    b = _program()
    assert all(not np.array_equal(x, y) for x, y in zip(a, b))


def test_unseeded_draws_differ():
    tf.random.set_seed(None)
    a = tf.random.uniform([8]).numpy()
    tf.random.set_seed(None)
    b = tf.random.uniform([8]).numpy()
    assert not np.array_equal(a, b)


def test_op_seeded_draws_leave_the_global_stream_alone():
    tf.random.set_seed(5)
    a = tf.random.uniform([4]).numpy()
    tf.random.set_seed(5)
    tf.random.normal([10], seed=11)
    b = tf.random.uniform([4]).numpy()
    np.testing.assert_array_equal(a, b)


def test_op_seed_combines_with_the_global_seed():
    tf.random.set_seed(1)
    a = tf.random.uniform([4], seed=3).numpy()
    tf.random.set_seed(2)
    b = tf.random.uniform([4], seed=3).numpy()
    assert not np.array_equal(a, b)
    assert tf.random.get_global_seed() == 2


# ---- distributions --------------------------------------------------------------------------------------------------
N = 100_000


@pytest.mark.parametrize("dtype", [tf.float32, tf.float64])
def test_uniform_float_is_uniform_on_the_half_open_interval(dtype):
    tf.random.set_seed(10)
    x = tf.random.uniform([N], minval=-3.0, maxval=5.0, dtype=dtype)
    assert x.dtype is dtype and x.shape == (N,)
    v = x.numpy()
    assert v.min() >= -3.0 and v.max() < 5.0
    # Kolmogorov-Smirnov style: the sorted sample against the uniform quantiles.
    u = (np.sort(v.astype(np.float64)) + 3.0) / 8.0
    assert np.max(np.abs(u - np.linspace(0, 1, N))) < 0.01
    assert abs(v.mean() - 1.0) < 4 * 8 / math.sqrt(12 * N)


def test_uniform_replaces_a_value_that_rounds_up_to_maxval():
    # With seed 55, word 64820 of the global stream is 0xFFFFFFxx: u = 1 - 2**-24, and 1 + u rounds to 2.0 in
    # float32 (found by scanning seeds with the oracle; asserted below so the test cannot pass vacuously).
    i = 64820
    u = uniform_ref(splitmix_ref(55), i // 4, 4, np.float32)[i % 4]
    assert u == np.float32(1 - 2.0 ** -24) and np.float32(1) + u == np.float32(2)
    tf.random.set_seed(55)
    x = tf.random.uniform([i + 1], minval=1.0, maxval=2.0).numpy()
    assert x.max() < 2.0
    assert x[i] == 1.0


def test_uniform_parameters_broadcast_into_the_shape():
    tf.random.set_seed(3)
    lo = tf.constant([0.0, 10.0, -5.0])
    hi = np.array([1.0, 20.0, -4.0], dtype=np.float32)
    x = tf.random.uniform([2000, 3], minval=lo, maxval=hi).numpy()
    assert x.shape == (2000, 3)
    assert np.all(x >= lo.numpy()) and np.all(x < hi)
    assert np.all(x.max(axis=0) > hi - 0.01 * (hi - lo.numpy()))


@pytest.mark.parametrize("dtype,lo,hi", [(tf.int32, -3, 4), (tf.int64, 10, 17), (tf.int32, 0, 1),
                                          (tf.int64, 2 ** 60, 2 ** 60 + 13)])
def test_uniform_int_covers_the_range_evenly(dtype, lo, hi):
    tf.random.set_seed(11)
    x = tf.random.uniform([70_000], minval=lo, maxval=hi, dtype=dtype)
    assert x.dtype is dtype
    v = x.numpy()
    assert v.min() == lo and v.max() == hi - 1
    counts = np.bincount((v - lo).astype(np.int64), minlength=hi - lo)
    k = hi - lo
    expected = len(v) / k
    sd = math.sqrt(len(v) * (1 / k) * (1 - 1 / k))
    assert np.all(np.abs(counts - expected) <= 5 * sd + 1e-9)


def test_uniform_int64_wide_range_stays_in_range():
    tf.random.set_seed(13)
    lo, hi = -2 ** 61, 2 ** 62 + 2 ** 61 - 1   # span 2**63 - 1, the widest allowed
    v = tf.random.uniform([20_000], minval=lo, maxval=hi, dtype=tf.int64).numpy()
    assert v.dtype == np.int64 and v.min() >= lo and v.max() < hi
    assert abs(v.astype(np.float64).mean() - (lo + hi) / 2) < 4 * ((hi - lo) / math.sqrt(12)) / math.sqrt(len(v))


def test_uniform_int_full_int32_range():
    tf.random.set_seed(12)
    v = tf.random.uniform([50_000], minval=-2 ** 31, maxval=2 ** 31 - 1, dtype=tf.int32).numpy()
    assert v.dtype == np.int32
    assert v.min() < -2 ** 30 and v.max() > 2 ** 30   # both halves reached, no overflow wrap-around
    assert abs(v.astype(np.float64).mean()) < 4 * (2 ** 32 / math.sqrt(12)) / math.sqrt(len(v))


@pytest.mark.parametrize("dtype", [tf.float32, tf.float64])
def test_normal_moments_and_cdf(dtype):
    tf.random.set_seed(20)
    x = tf.random.normal([N], mean=3.0, stddev=2.0, dtype=dtype)
    assert x.dtype is dtype
    v = x.numpy().astype(np.float64)
    assert abs(v.mean() - 3.0) < 4 * 2.0 / math.sqrt(N)
    assert abs(v.std() - 2.0) < 4 * 2.0 / math.sqrt(2 * N)
    assert np.all(np.isfinite(v))
    z = np.sort((v - 3.0) / 2.0)
    cdf = np.array([phi(t) for t in z[::50]])
    assert np.max(np.abs(cdf - np.arange(0, N, 50) / N)) < 0.01


def test_normal_odd_sizes_and_shapes():
    tf.random.set_seed(21)
    for shape in ([], [1], [3], [2, 3, 5], [0], [4, 0]):
        x = tf.random.normal(shape)
        assert x.shape == tuple(shape) and x.dtype is tf.float32
    assert np.all(np.isfinite(tf.random.normal([3, 7]).numpy()))


def test_truncated_normal_matches_the_truncated_distribution():
    tf.random.set_seed(30)
    x = tf.random.truncated_normal([N], mean=-1.0, stddev=0.5, dtype=tf.float64)
    v = (x.numpy() + 1.0) / 0.5
    assert v.min() >= -2.0 and v.max() <= 2.0
    mass = phi(2) - phi(-2)
    density2 = math.exp(-2) / math.sqrt(2 * math.pi)
    std = math.sqrt(1 - 4 * density2 / mass)   # variance of N(0, 1) truncated to [-2, 2]
    assert abs(v.mean()) < 4 * std / math.sqrt(N)
    assert abs(v.std() - std) < 4 * std / math.sqrt(2 * N)
    z = np.sort(v)[::50]
    cdf = np.array([(phi(t) - phi(-2)) / mass for t in z])
    assert np.max(np.abs(cdf - np.arange(0, N, 50) / N)) < 0.01


def test_truncated_normal_float32_stays_in_range():
    tf.random.set_seed(31)
    v = tf.random.truncated_normal([N]).numpy()
    assert v.dtype == np.float32 and v.min() >= -2.0 and v.max() <= 2.0
    assert v.min() < -1.99 and v.max() > 1.99


def test_shape_forms():
    tf.random.set_seed(0)
    for shape in ([2, 3], (2, 3), tf.TensorShape([2, 3]), tf.constant([2, 3]), np.array([2, 3])):
        assert tf.random.uniform(shape).shape == (2, 3)


def test_gradients_flow_through_the_distribution_parameters():
    tf.random.set_seed(40)
    mean, stddev = tf.Variable(1.5), tf.Variable(0.5)
    with tf.GradientTape() as tape:
        x = tf.random.normal([1000], mean=mean, stddev=stddev)
        total = tf.reduce_sum(x)
    dmean, dstd = tape.gradient(total, [mean, stddev])
    assert float(dmean) == pytest.approx(1000.0)
    assert float(dstd) == pytest.approx(float(np.sum((x.numpy() - 1.5) / 0.5)), rel=1e-4, abs=1e-2)


# ---- bad input ------------------------------------------------------------------------------------------------------
def test_errors():
    with pytest.raises(ValueError, match="maxval"):
        tf.random.uniform([3], dtype=tf.int32)
    with pytest.raises(InvalidArgumentError, match="minval < maxval"):
        tf.random.uniform([3], minval=5, maxval=5, dtype=tf.int32)
    with pytest.raises(InvalidArgumentError, match="2\\*\\*63"):
        tf.random.uniform([3], minval=-2 ** 62, maxval=2 ** 62, dtype=tf.int64)
    with pytest.raises(TypeError, match="float32 or float64"):
        tf.random.normal([3], dtype=tf.int32)
    with pytest.raises(TypeError, match="float or integer"):
        tf.random.uniform([3], dtype=tf.bool)
    with pytest.raises(ValueError, match="non-negative"):
        tf.random.uniform([2, -1])
    with pytest.raises(ValueError, match="shape"):
        tf.random.uniform(3)
    with pytest.raises(ValueError, match="non-negative"):
        tf.random.normal([2.5])
    with pytest.raises(TypeError, match="dtype"):
        tf.random.normal([3], mean=tf.constant(1.0, dtype=tf.float64))
    with pytest.raises(ValueError, match="broadcast"):
        tf.random.normal([2, 3], mean=tf.constant([1.0, 2.0]))
    with pytest.raises(TypeError, match="integer"):
        tf.random.uniform([3], seed=1.5)
    with pytest.raises(TypeError, match="integer"):
        tf.random.set_seed("7")


def test_traced_draws_advance_the_stream_like_eager_ones():
    @tf.function
    def draw():
        return tf.random.uniform([3]), tf.random.normal([2], seed=4)

    tf.random.set_seed(8)
    traced = [[t.numpy() for t in draw()] for _ in range(3)]
    tf.random.set_seed(8)
    eager = [[tf.random.uniform([3]).numpy(), tf.random.normal([2], seed=4).numpy()] for _ in range(3)]
    assert draw.experimental_get_tracing_count() == 1
    for t, e in zip(traced, eager):
        np.testing.assert_array_equal(t[0], e[0])
        np.testing.assert_allclose(t[1], e[1], rtol=1e-6)
    assert not np.array_equal(traced[0][0], traced[1][0])   # each call of the one trace draws afresh


def test_threads_drawing_from_the_global_stream_never_get_the_same_numbers() -> None:
    import threading
    tf.random.set_seed(5)
    draws: list[np.ndarray] = []
    barrier = threading.Barrier(8)

    def work() -> None:
        barrier.wait()
        for _ in range(50):
            draws.append(tf.random.uniform([4]).numpy())

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({d.tobytes() for d in draws}) == 400
    tf.random.set_seed(5)  # the same 400 draws, in some order, as one thread makes them
    serial = {tf.random.uniform([4]).numpy().tobytes() for _ in range(400)}
    assert serial == {d.tobytes() for d in draws}
