"""The shared corpus of small programs that every differential test runs (DESIGN §9).

Each `Program` is plain Python written against `import engine as tf`, with explicit `tf.cond` / `tf.while_loop`
for control flow on tensors and ordinary Python control flow on Python values (which unrolls when traced).

Calling convention, the same for every test that uses the corpus:
- `args = program.make_args(np.random.default_rng(seed))` gives numpy arrays (possibly inside lists, tuples and
  dicts) and Python scalars; `engine_args(args)` turns every numpy array into an `engine.constant` and leaves
  Python values alone;
- a program with `variables` is called as `fn(*args, **program.variables())`: the factory returns fresh
  `engine.Variable`s keyed by the parameter names that receive them, so eager and traced runs can each start
  from their own copy. `call(program, f, args, variables)` does exactly this.

Tags say what a program exercises: "float32", "float64", "int", "bool", "broadcast", "reduce", "matmul", "shape",
"slicing" (uses `x[...]`, i.e. `engine.indexing`), "nn", "cond", "while", "nested" (nested control flow or nested
input/output structures), "structure", "variables", "print", "python" (Python control flow on Python values).
"differentiable" marks programs whose outputs are smooth in their float inputs at the generated arguments, so
gradient tests may differentiate every float output with respect to every float array argument.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional

import numpy as np

import engine as tf


@dataclass(frozen=True)
class Program:
    name: str
    fn: Callable[..., Any]
    make_args: Callable[[np.random.Generator], tuple]
    tags: frozenset = frozenset()
    variables: Optional[Callable[[], dict]] = None


PROGRAMS: list[Program] = []


def program(make_args: Callable[[np.random.Generator], tuple], *tags: str,
            variables: Optional[Callable[[], dict]] = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Registers the decorated function as a Program named after it."""
    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        assert all(p.name != fn.__name__ for p in PROGRAMS), f"duplicate program name {fn.__name__}"
        PROGRAMS.append(Program(fn.__name__, fn, make_args, frozenset(tags), variables))
        return fn
    return register


def engine_args(args: Any) -> Any:
    """The program's arguments with every numpy array (at any depth) made an `engine.constant`."""
    if isinstance(args, np.ndarray):
        return tf.constant(args)
    if isinstance(args, dict):
        return {k: engine_args(v) for k, v in args.items()}
    if isinstance(args, (list, tuple)):
        return type(args)(engine_args(v) for v in args)
    return args


def call(prog: Program, f: Callable[..., Any], args: tuple, variables: Optional[dict] = None) -> Any:
    """`f(*args, **variables)`: how every test calls a program (f is prog.fn, or a wrapped version of it)."""
    return f(*args, **(variables or {}))


def by_name(name: str) -> Program:
    for p in PROGRAMS:
        if p.name == name:
            return p
    raise KeyError(name)


# ---- argument makers ------------------------------------------------------------------------------------------------
def f32(*shape: int, lo: float = -2.0, hi: float = 2.0) -> Callable[[np.random.Generator], np.ndarray]:
    return lambda rng: rng.uniform(lo, hi, size=shape).astype(np.float32)


def f64(*shape: int, lo: float = -2.0, hi: float = 2.0) -> Callable[[np.random.Generator], np.ndarray]:
    return lambda rng: rng.uniform(lo, hi, size=shape).astype(np.float64)


def ints(*shape: int, lo: int = -9, hi: int = 10, dtype: Any = np.int32,
         nonzero: bool = False) -> Callable[[np.random.Generator], np.ndarray]:
    def make(rng: np.random.Generator) -> np.ndarray:
        a = rng.integers(lo, hi, size=shape).astype(dtype)
        if nonzero:
            a[a == 0] = 1
        return a
    return make


def scalar(value: Any, dtype: Any) -> Callable[[np.random.Generator], np.ndarray]:
    return lambda rng: np.array(value, dtype=dtype)


def args(*makers: Any) -> Callable[[np.random.Generator], tuple]:
    """Arguments made in order; a maker that is not callable is a fixed Python value."""
    return lambda rng: tuple(m(rng) if callable(m) else m for m in makers)


# ---- straight-line elementwise math ---------------------------------------------------------------------------------
@program(args(f32(5)), "float32", "differentiable")
def poly_f32(x):
    return x * x * 3.0 - 2.0 * x + 1.0


@program(args(f64(4), f64(4)), "float64", "differentiable")
def transcendental_f64(x, y):
    return tf.exp(tf.sin(x)) + tf.math.log1p(y * y) + tf.tanh(x) * tf.cos(y) - tf.math.expm1(x / 4.0)


@program(args(f32(2, 3), f32(2, 3)), "float32", "differentiable")
def sigmoid_softplus_f32(x, y):
    return tf.sigmoid(x) * tf.math.softplus(y) + tf.sqrt(x * x + 1.0) - tf.math.log_sigmoid(y)


@program(args(f64(3, 2), f64(3, 2)), "float64", "differentiable")
def div_pow_rsqrt_f64(x, y):
    return x / (y * y + 1.0) + tf.pow(x * x + 1.0, 1.5) + tf.math.rsqrt(y * y + 0.5) - tf.square(x - y)


@program(args(f32(6), f32(6)), "float32")
def min_max_abs_clip(x, y):
    return (tf.clip_by_value(x, -0.5, 0.5), tf.maximum(x, y) - tf.minimum(x, y), tf.abs(x) * tf.sign(y),
            tf.floor(x * 3.0) + tf.math.ceil(y * 3.0) + tf.round(x * y))


@program(args(f64(5)), "float64", "differentiable")
def erf_neg_reciprocal_f64(x):
    return -tf.math.erf(x) * tf.math.reciprocal(x * x + 2.0) + tf.math.squared_difference(x, 0.25)


# ---- broadcasting ---------------------------------------------------------------------------------------------------
@program(args(f32(4), f32()), "float32", "broadcast", "differentiable")
def broadcast_scalar(x, s):
    return x + 2.5 * s, s - x, x * s * s


@program(args(f32(3, 1), f32(4), f32(3, 4)), "float32", "broadcast", "differentiable")
def broadcast_row_column(col, row, m):
    return col + row, m * row - col, (col * row) / (m * m + 1.0)


@program(args(f64(2, 3, 4), f64(4), f64(3, 1)), "float64", "broadcast", "differentiable")
def broadcast_rank_change(x, w, b):
    return tf.tanh(x * w + b) + tf.broadcast_to(w, [3, 4])


@program(args(f64(3), 0.75), "float64", "broadcast", "python", "differentiable")
def python_scalar_adopts_dtype(x, scale):
    return x * scale + 1, tf.square(x - scale) / scale


# ---- integers and bools ---------------------------------------------------------------------------------------------
@program(args(ints(6), ints(6, nonzero=True)), "int")
def int32_floordiv_mod(a, b):
    return a // b, a % b, a * b - a, -a + 7, tf.abs(a) * tf.sign(b)


@program(args(ints(2, 3, lo=-1000, hi=1000, dtype=np.int64), ints(3, lo=1, hi=7, dtype=np.int64)),
         "int", "broadcast")
def int64_arith_broadcast(a, b):
    return a // b, a % b, tf.maximum(a, b * 100), a * 3_000_000_000


@program(args(ints(5), f32(5)), "int", "float32")
def int_float_casts(n, x):
    xs = tf.cast(n, tf.float32) * x
    back = tf.cast(xs * 10.0, tf.int32)
    return xs, back, tf.cast(back, tf.int64) + 1, tf.cast(n, tf.float64) / 3.0


@program(args(f32(7), f32(7)), "float32", "bool")
def compare_where(x, y):
    bigger = x > y
    return tf.where(bigger, x, y * 2.0), tf.where(x >= 0.0, x, 0.0), bigger, tf.equal(x, x), x <= y


@program(args(f32(8), f32(8)), "bool")
def bool_logic(x, y):
    a, b = x > 0.0, y < 0.5
    return (tf.logical_and(a, b), tf.logical_or(a, tf.logical_not(b)), tf.math.logical_xor(a, b),
            (a & b) | ~a, tf.not_equal(a, b))


# ---- reductions -----------------------------------------------------------------------------------------------------
@program(args(f32(3, 4)), "float32", "reduce")
def reduce_axes_keepdims(x):
    return (tf.reduce_sum(x, axis=1, keepdims=True), tf.reduce_max(x, axis=0), tf.reduce_min(x, axis=[0, 1]),
            tf.reduce_prod(x, axis=-1), tf.reduce_sum(x), tf.reduce_max(x, axis=[1], keepdims=True))


@program(args(f64(4, 5)), "float64", "reduce", "differentiable")
def mean_std_logsumexp(x):
    return (tf.reduce_mean(x), tf.reduce_mean(x, axis=1, keepdims=True), tf.math.reduce_std(x, axis=0),
            tf.reduce_logsumexp(x, axis=1), tf.math.reduce_variance(x, axis=[0, 1]))


@program(args(f32(4, 6)), "float32", "reduce", "int")
def argmax_argmin(x):
    return tf.argmax(x, axis=1), tf.argmin(x, axis=0, output_type=tf.int32), tf.argmax(x)


@program(args(ints(3, 5), f32(3, 5)), "int", "bool", "reduce")
def reduce_ints_and_bools(n, x):
    positive = x > 0.0
    return (tf.reduce_sum(n, axis=0), tf.reduce_max(n), tf.reduce_mean(n, axis=1), tf.reduce_prod(n[:2, :2]),
            tf.reduce_any(positive, axis=1), tf.reduce_all(positive), tf.reduce_sum(tf.cast(positive, tf.int32)))


# ---- matmul ---------------------------------------------------------------------------------------------------------
@program(args(f32(3, 4), f32(4, 2)), "float32", "matmul", "differentiable")
def matmul_2d(a, b):
    return tf.matmul(a, b), a @ b @ tf.transpose(b)


@program(args(f64(2, 3, 4), f64(2, 5, 4), f64(4, 3)), "float64", "matmul", "broadcast", "differentiable")
def matmul_batched_transposes(a, b, c):
    return (tf.matmul(a, b, transpose_b=True), tf.matmul(a, c, transpose_a=True, transpose_b=True),
            tf.matmul(a, c) * 0.5)


@program(args(f32(5, 3), f32(3, 4), f32(4), f32(4, 2), f32(2)), "float32", "matmul", "nn", "differentiable")
def mlp_two_layers(x, w1, b1, w2, b2):
    h = tf.tanh(tf.matmul(x, w1) + b1)
    return tf.reduce_mean(tf.square(tf.matmul(h, w2) + b2))


@program(args(ints(2, 3), ints(3, 2)), "int", "matmul")
def matmul_int32(a, b):
    return tf.matmul(a, b), tf.matmul(b, a)


# ---- shape ops ------------------------------------------------------------------------------------------------------
@program(args(f32(2, 6)), "float32", "shape", "differentiable")
def reshape_transpose(x):
    y = tf.reshape(x, [3, 4])
    z = tf.transpose(tf.reshape(y, [3, 2, 2]), perm=[2, 0, 1])
    return tf.reshape(tf.transpose(y), [-1]), z * 2.0


@program(args(f32(3, 1, 2)), "float32", "shape", "differentiable")
def expand_squeeze(x):
    s = tf.squeeze(x, axis=1)
    return tf.expand_dims(s, 0), tf.expand_dims(s, -1) + 1.0, tf.squeeze(tf.expand_dims(x, 0))


@program(args(f32(2, 3), f32(2, 3), f32(1, 3)), "float32", "shape", "differentiable")
def concat_stack_unstack(x, y, z):
    c = tf.concat([x, y, z], axis=0)
    s = tf.stack([x, y], axis=1)
    parts = tf.unstack(c, axis=0)
    return c, s, parts[0] * parts[-1], tf.concat([x, y], axis=-1)


@program(args(f32(3, 4), ints(5, lo=0, hi=4), ints(2, lo=0, hi=3)), "float32", "int", "shape")
def pad_gather_tile_reverse(x, idx, rows):
    return (tf.pad(x, [[1, 0], [0, 2]]), tf.pad(x, [[0, 1], [2, 0]], constant_values=-1.0),
            tf.gather(x, idx, axis=1), tf.gather(x, rows), tf.tile(x[:1], [2, 1]), tf.reverse(x, axis=[0, 1]))


@program(args(ints(6, lo=-1, hi=5), ints(2, 3, lo=0, hi=3)), "int", "shape")
def one_hot_range_split(labels, grid):
    hot = tf.one_hot(labels, depth=4)
    a, b = tf.split(tf.range(10), [4, 6])
    return hot * 2.0, tf.one_hot(grid, 3, on_value=5, off_value=-1, dtype=tf.int32), a, b, tf.zeros_like(hot)


# ---- slicing and indexing (engine.indexing) ---------------------------------------------------------------------------
@program(args(f32(4, 5)), "float32", "slicing", "differentiable")
def slicing_basic(x):
    return x[1:], x[::-1], x[:, 0], x[..., None], x[-1, 1:4:2], x[None, :2, -1]


@program(args(f64(3, 4, 5)), "float64", "slicing", "differentiable")
def slicing_negative_steps(x):
    return x[1:, ::-2, 3], x[..., ::-1][0], x[:, 1] * x[:, -1], x[2, 3, 4]


@program(args(f32(5, 3), scalar(3, np.int32), ints(4, lo=-5, hi=5)), "float32", "int", "slicing")
def indexing_by_tensors(x, i, idx):
    return x[i], x[:, 1][idx], x[-i]


# ---- softmax and cross-entropy --------------------------------------------------------------------------------------
@program(lambda rng: (rng.dirichlet(np.ones(5), size=4).astype(np.float32), f32(4, 5, lo=-3, hi=3)(rng)),
         "float32", "nn", "reduce", "differentiable")
def softmax_cross_entropy(labels, logits):
    p = tf.nn.softmax(logits)
    xent = tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    return p, tf.nn.log_softmax(logits, axis=0), xent, tf.reduce_mean(xent)


@program(args(ints(6, lo=0, hi=3), f64(6, 3, lo=-4, hi=4), f64(6, 3)), "float64", "nn", "reduce")
def sparse_and_sigmoid_cross_entropy(labels, logits, targets):
    sparse = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    sig = tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.sigmoid(targets), logits=logits)
    return sparse, tf.reduce_sum(sig, axis=1), tf.nn.relu(logits) + tf.nn.l2_loss(targets)


# ---- cond -----------------------------------------------------------------------------------------------------------
@program(args(f32(4)), "float32", "cond", "differentiable")
def cond_both_branches(x):
    first = tf.reduce_sum(x)
    a = tf.cond(first > 0.0, lambda: x * 2.0, lambda: -x)
    b = tf.cond(first <= 0.0, lambda: x * 2.0, lambda: -x)
    return a, b


@program(args(f32(3), f32(3), f32(), 2.0), "float32", "cond", "broadcast", "differentiable")
def cond_captured_values(x, y, s, k):
    scale = s * k
    r1 = tf.cond(s > 0.0, lambda: x * scale + y, lambda: y - x * scale)
    r2 = tf.cond(s <= 0.0, lambda: x * scale + y, lambda: y - x * scale)
    return r1 + r2, tf.cond(tf.reduce_sum(y) > 100.0, lambda: y, lambda: tf.exp(x) + k)


@program(args(f64(4), f64()), "float64", "cond", "nested", "differentiable")
def cond_nested(x, t):
    def outer_true():
        return tf.cond(t > 0.5, lambda: tf.sin(x) * t, lambda: tf.cos(x) + t)

    def outer_false():
        return tf.cond(t < -0.5, lambda: x * x, lambda: tf.tanh(x) - t)
    return [tf.cond(t > s, outer_true, outer_false) for s in (-1.5, 0.0, 1.5)]


@program(args(f32(3), f32(2, 2)), "float32", "cond", "structure", "differentiable")
def cond_returns_tuple_and_dict(x, m):
    p = tf.reduce_sum(m) > 0.0
    a, b = tf.cond(p, lambda: (x + 1.0, m * 2.0), lambda: (x - 1.0, m * m))
    d = tf.cond(tf.logical_not(p), lambda: {"v": x * 3.0, "w": tf.reduce_sum(m)},
                lambda: {"v": -x, "w": tf.reduce_max(m)})
    return a, b, d


@program(args(ints(4, lo=-20, hi=20)), "int", "cond")
def cond_int_constant_branch(n):
    total = tf.reduce_sum(n)
    return tf.cond(total % 2 == 0, lambda: total // 2, lambda: tf.constant(-1)), \
        tf.cond(total > 0, lambda: n * 2, lambda: tf.zeros_like(n))


# ---- while_loop -----------------------------------------------------------------------------------------------------
@program(args(scalar(7, np.int32)), "int", "while")
def while_counter_sum(n):
    def body(i, total):
        return i + 1, total + i * i
    return tf.while_loop(lambda i, total: i < n, body, (tf.constant(0), tf.constant(0)))


@program(args(f64(lo=0.5, hi=50.0)), "float64", "while", "differentiable")
def while_newton_sqrt(a):
    def body(y, k):
        return 0.5 * (y + a / y), k + 1
    return tf.while_loop(lambda y, k: tf.abs(y * y - a) > 1e-12 * a, body, (a, tf.constant(0)))


@program(args(f32(lo=0.1, hi=1.0), f32(lo=10.0, hi=100.0), 1.5), "float32", "while", "differentiable")
def while_multiply_until(x, c, k):
    return tf.while_loop(lambda x: x < c, lambda x: x * k, [x])


@program(args(scalar(30, np.int64)), "int", "while")
def while_fibonacci_int64(n):
    def body(i, a, b):
        return i + 1, b, a + b
    zero = tf.constant(0, dtype=tf.int64)
    return tf.while_loop(lambda i, a, b: i < n, body, (zero, zero, tf.constant(1, dtype=tf.int64)))


@program(lambda rng: (np.array(rng.integers(2, 40), np.int32),), "int", "while", "cond", "nested")
def while_collatz_with_cond(n):
    def body(k, steps):
        k = tf.cond(tf.equal(k % 2, 0), lambda: k // 2, lambda: 3 * k + 1)
        return k, steps + 1
    return tf.while_loop(lambda k, steps: tf.not_equal(k, 1), body, (n, tf.constant(0)))


@program(args(scalar(6, np.int32), f32(3)), "int", "float32", "while", "nested")
def while_nested_loops(n, x):
    def outer(i, total, v):
        def inner(j, t, w):
            return j + 1, t + i * j, w + tf.cast(j, tf.float32) * x
        _, total, v = tf.while_loop(lambda j, t, w: j < i, inner, (tf.constant(0), total, v))
        return i + 1, total, v * 0.5
    return tf.while_loop(lambda i, t, v: i < n, outer, (tf.constant(0), tf.constant(0), tf.zeros([3])))


@program(args(f32(3), scalar(4, np.int32)), "float32", "cond", "while", "nested", "differentiable")
def cond_containing_loop(x, n):
    def loop():
        return tf.while_loop(lambda i, acc: i < n, lambda i, acc: (i + 1, acc * 0.5 + 1.0), (tf.constant(0), x))[1]
    s = tf.reduce_sum(x)
    return tf.cond(s > 0.0, loop, lambda: x - 1.0), tf.cond(s <= 0.0, loop, lambda: x - 1.0)


@program(args(f32(4)), "float32", "while", "differentiable")
def while_zero_trips(x):
    i, y = tf.while_loop(lambda i, y: i < 0, lambda i, y: (i + 1, y * 2.0), (tf.constant(0), x))
    z = tf.while_loop(lambda z: tf.reduce_sum(z) > 1e30, lambda z: z * 0.5, [x * 3.0])
    return i, y, z


@program(args(f32(4, lo=0.0, hi=1.0)), "float32", "while", "differentiable")
def while_maximum_iterations(x):
    capped = tf.while_loop(lambda y: tf.reduce_sum(y) < 1e30, lambda y: y * 2.0 + 1.0, [x], maximum_iterations=3)
    i, z = tf.while_loop(lambda i, z: i < 10, lambda i, z: (i + 1, z + x), (tf.constant(0), x),
                         maximum_iterations=tf.constant(20))
    return capped, i, z


@program(args(f32(4, 4), f32(4, lo=0.5, hi=1.0)), "float32", "while", "matmul", "differentiable")
def while_power_iteration(m, v):
    sym = m + tf.transpose(m)

    def body(i, v):
        w = tf.reshape(tf.matmul(sym, tf.reshape(v, [4, 1])), [4])
        return i + 1, w / tf.sqrt(tf.reduce_sum(w * w))
    _, v = tf.while_loop(lambda i, v: i < 5, body, (tf.constant(0), v))
    return v, tf.reduce_sum(v * tf.reshape(tf.matmul(sym, tf.reshape(v, [4, 1])), [4]))


# ---- Variables ------------------------------------------------------------------------------------------------------
def _vars_w() -> dict:
    return {"w": tf.Variable(np.linspace(-1.0, 1.0, 4, dtype=np.float32), name="w")}


def _vars_counter_and_w() -> dict:
    return {"count": tf.Variable(0, name="count"),
            "w": tf.Variable(np.arange(6, dtype=np.float64).reshape(2, 3), name="w")}


def _vars_acc() -> dict:
    return {"acc": tf.Variable(np.zeros(3, np.float32), name="acc")}


@program(args(f32(4)), "float32", "variables", variables=_vars_w)
def variable_read_assign(x, w):
    before = w.read_value()
    w.assign(w * 2.0 + x)
    return before, w.read_value() + 1.0, w + 0.0


@program(args(f64(2, 3)), "float64", "int", "variables", variables=_vars_counter_and_w)
def variable_assign_add_sub(x, count, w):
    count.assign_add(1)
    w.assign_sub(x * 0.1)
    count.assign_add(2)
    return w * 2.0, count.read_value()


@program(args(scalar(5, np.int32)), "float32", "while", "variables", variables=_vars_acc)
def variable_in_loop_body(n, acc):
    def body(i):
        acc.assign_add(tf.cast(i, tf.float32) * tf.ones([3]))
        return i + 1
    tf.while_loop(lambda i: i < n, body, [tf.constant(0)])
    return acc.read_value()


@program(args(f32(4)), "float32", "cond", "variables", variables=_vars_w)
def variable_in_cond(x, w):
    def grow():
        w.assign_add(x)
        return w.read_value()

    def shrink():
        w.assign_sub(x * 0.5)
        return w.read_value() * 2.0
    a = tf.cond(tf.reduce_sum(x) > 0.0, grow, shrink)
    b = tf.cond(tf.reduce_sum(x) <= 0.0, grow, shrink)
    return a, b


@program(args(f32(4)), "float32", "variables", variables=_vars_w)
def variable_reads_see_earlier_assigns(x, w):
    a = w.read_value()
    w.assign(a + x)
    b = w.read_value()
    w.assign(b * 2.0)
    return a, b, w * 1.0, a + b


@program(args(scalar(0, np.int32)), "float32", "while", "variables",
         variables=lambda: {"v": tf.Variable(np.float32(0.75), name="v")})
def variable_in_loop_cond(n, v):
    def body(i):
        v.assign(v * 2.0)
        return i + 1
    return tf.while_loop(lambda i: v < 40.0, body, [n]), v.read_value()


@program(args(scalar(5, np.int32)), "float32", "while", "nested", "variables", variables=_vars_acc)
def variable_in_nested_loops(n, acc):
    def outer(i):
        def inner(j):
            acc.assign_add(tf.fill([3], tf.cast(i * j, tf.float32)))
            return j + 1
        tf.while_loop(lambda j: j < i, inner, [tf.constant(0)])
        return i + 1
    tf.while_loop(lambda i: i < n, outer, [tf.constant(0)])
    return acc.read_value()


# ---- nested structures ----------------------------------------------------------------------------------------------
@program(lambda rng: ({"a": f32(3)(rng), "b": [f32(3)(rng), f32(2, 3)(rng)]},), "float32", "structure",
         "differentiable")
def nested_dict_in_out(inputs):
    a = inputs["a"]
    b0, b1 = inputs["b"]
    return {"sum": a + b0, "pair": (tf.reduce_sum(b1, axis=0) * a, tf.reduce_max(b1)), "list": [a * 2.0]}


@program(lambda rng: ([f32(2)(rng), f32(2)(rng), f32(2)(rng)], (ints(2)(rng), 3)), "float32", "int", "structure")
def nested_list_tuple_in(xs, pair):
    n, k = pair
    total = tf.add_n(xs)
    return [total * float(k), (n * k, xs[-1]), None]


# ---- tf.print -------------------------------------------------------------------------------------------------------
@program(args(f32(3), ints(2)), "float32", "print")
def print_values(x, n):
    # Printed values are computed exactly (no float rounding), so compiled code prints the same text as eager.
    tf.print("x:", x, "max:", tf.reduce_max(x), "n+1:", n + 1)
    tf.print(tf.reduce_sum(n), [1, 2], sep=" | ", end="!\n")
    return x * 2.0


@program(args(scalar(3, np.int32)), "int", "print", "while")
def print_in_loop(n):
    def body(i):
        tf.print("step", i)
        return i + 1
    return tf.while_loop(lambda i: i < n, body, [tf.constant(0)])


# ---- Python control flow on Python values (unrolled when traced) --------------------------------------------------
@program(args(f32(3), 4), "float32", "python", "differentiable")
def python_loop_unrolled(x, n):
    for i in range(n):
        x = x * 0.5 + float(i)
    return x


@program(args(f32(2, 2), True, 3.0), "float32", "python", "structure", "differentiable")
def python_branch_and_comprehension(x, flag, scale):
    y = tf.exp(x) * scale if flag else x
    outs = [y * float(k) for k in range(3)]
    if not flag:
        outs.append(x)
    return outs


@program(args(f64(4), [1.0, -2.0, 0.5]), "float64", "python", "differentiable")
def python_list_of_coefficients(x, coeffs):
    acc = tf.zeros_like(x)
    for c in reversed(coeffs):  # Horner
        acc = acc * x + c
    return acc
