"""The kernel workloads of benchmarks/run.py, one `Workload` record each: inputs, float64 reference and tolerance,
numpy's, Kiln's and the peers' versions (see benchmarks/harness.py for the record, benchmarks/peers.py for the
helpers a peer version uses: `p.np`, `p.put`, `p.jit`).

To add a workload, write its record and put it in `WORKLOADS`, in the order the table shows it.
"""
from __future__ import annotations

from typing import Any

import numpy as np

import mlp
from harness import Built, Notes, Row, Workload

f32 = np.float32


def count(n: int) -> str:
    return f"{n >> 20}M" if n >= 1 << 20 and n % (1 << 20) == 0 else f"{n:,}"


def kiln() -> Any:
    """`engine`, imported when a Kiln version is built (the records are data; peers' processes need no Kiln)."""
    import engine
    return engine


# ---- fused_elementwise ----------------------------------------------------------------------------------------------
def fused_loop(x: np.ndarray, a: Any, b: Any) -> np.ndarray:
    """The numba version: one loop over the elements."""
    out = np.empty_like(x)
    for i in range(x.size):
        v = x[i]
        out[i] = np.tanh(v * a + b) * np.exp(-v * v)
    return out


def fused_reference(d: dict) -> tuple[np.ndarray, Any]:
    x = d["x"].astype(np.float64)
    want = np.tanh(x * float(d["a"]) + float(d["b"])) * np.exp(-x * x)
    return want, 1e-5 * np.abs(want) + 1e-6


def fused_kiln(d: dict) -> Built:
    tf = kiln()

    @tf.function
    def fused(x, a, b):
        return tf.tanh(x * a + b) * tf.exp(-x * x)
    return fused, tuple(tf.constant(d[k]) for k in ("x", "a", "b"))


def fused_array(p: Any, d: dict) -> Built:
    """jax, tensorflow and torch: the same expression on the peer's module."""
    M = p.np
    return p.jit(lambda x, a, b: M.tanh(x * a + b) * M.exp(-x * x)), p.put(d["x"], d["a"], d["b"])


FUSED_ELEMENTWISE = Workload(
    "fused_elementwise", "tanh(x*a + b) * exp(-x*x) on 4M float32 (a, b scalar tensors)",
    size=lambda s: f"{count(s['elementwise'])} f32",
    inputs=lambda s, rng: {"x": rng.standard_normal(s["elementwise"], dtype=f32), "a": f32(0.7), "b": f32(0.1)},
    reference=fused_reference,
    numpy=lambda d: ((lambda x, a, b: np.tanh(x * a + b) * np.exp(-x * x)), (d["x"], d["a"], d["b"])),
    kiln=fused_kiln,
    peers={"numba": lambda p, d: (p.jit(fused_loop), (d["x"], d["a"], d["b"])),
           "jax": fused_array, "tensorflow": fused_array, "torch": fused_array})


# ---- reductions -----------------------------------------------------------------------------------------------------
def sum_loop(x: np.ndarray) -> Any:
    s = np.float32(0.0)
    for i in range(x.size):
        s += x[i]
    return s


def max_loop(x: np.ndarray) -> Any:
    m = x[0]
    for i in range(1, x.size):
        v = x[i]
        if v > m:
            m = v
    return m


def sum_kiln(d: dict) -> Built:
    tf = kiln()

    @tf.function
    def total(x):
        return tf.reduce_sum(x)
    return total, (tf.constant(d["x"]),)


def max_kiln(d: dict) -> Built:
    tf = kiln()

    @tf.function
    def largest(x):
        return tf.reduce_max(x)
    return largest, (tf.constant(d["x"]),)


def reduction_peers(loop: Any, jax_name: str, tf_name: str, torch_name: str) -> dict:
    return {"numba": lambda p, d: (p.jit(loop, reduction=True), (d["x"],)),
            "jax": lambda p, d: (p.jit(getattr(p.np, jax_name)), p.put(d["x"])),
            "tensorflow": lambda p, d: (p.jit(getattr(p.np, tf_name)), p.put(d["x"])),
            "torch": lambda p, d: (getattr(p.np, torch_name), p.put(d["x"]))}


REDUCE_SUM = Workload(
    "reduce_sum", "sum of 16M float32", size=lambda s: f"{count(s['reduce'])} f32",
    # multiples of 1/4 in [-2, 2]: float32 sums of them are exact in any order
    inputs=lambda s, rng: {"x": (rng.integers(-8, 9, s["reduce"]) * 0.25).astype(f32)},
    reference=lambda d: (np.array(d["x"].astype(np.float64).sum()), 0.0),
    numpy=lambda d: (np.sum, (d["x"],)), kiln=sum_kiln,
    peers=reduction_peers(sum_loop, "sum", "reduce_sum", "sum"))

REDUCE_MAX = Workload(
    "reduce_max", "max of 16M float32", size=lambda s: f"{count(s['reduce'])} f32",
    inputs=lambda s, rng: {"x": rng.standard_normal(s["reduce"], dtype=f32)},
    reference=lambda d: (np.array(float(d["x"].max())), 0.0),
    numpy=lambda d: (np.max, (d["x"],)), kiln=max_kiln,
    peers=reduction_peers(max_loop, "max", "reduce_max", "amax"))


# ---- softmax --------------------------------------------------------------------------------------------------------
def numpy_softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def softmax_loop(x: np.ndarray) -> np.ndarray:
    rows, cols = x.shape
    out = np.empty_like(x)
    for r in range(rows):
        m = x[r, 0]
        for j in range(1, cols):
            v = x[r, j]
            if v > m:
                m = v
        s = np.float32(0.0)
        for j in range(cols):
            e = np.exp(x[r, j] - m)
            out[r, j] = e
            s += e
        for j in range(cols):
            out[r, j] = out[r, j] / s
    return out


def softmax_kiln(d: dict) -> Built:
    tf = kiln()

    @tf.function
    def softmax(x):
        e = tf.exp(x - tf.reduce_max(x, axis=-1, keepdims=True))
        return e / tf.reduce_sum(e, axis=-1, keepdims=True)
    return softmax, (tf.constant(d["x"]),)


def softmax_reference(d: dict) -> tuple[np.ndarray, Any]:
    want = numpy_softmax(d["x"].astype(np.float64))
    return want, 1e-5 * want + 1e-9


def jax_softmax(p: Any, d: dict) -> Built:
    jnp = p.np

    def softmax(x: Any) -> Any:
        e = jnp.exp(x - jnp.max(x, axis=-1, keepdims=True))
        return e / jnp.sum(e, axis=-1, keepdims=True)
    return p.jit(softmax), p.put(d["x"])


def tf_softmax(p: Any, d: dict) -> Built:
    tf = p.np

    def softmax(x: Any) -> Any:
        e = tf.exp(x - tf.reduce_max(x, axis=-1, keepdims=True))
        return e / tf.reduce_sum(e, axis=-1, keepdims=True)
    return p.jit(softmax), p.put(d["x"])


def torch_softmax(p: Any, d: dict) -> Built:
    torch = p.np

    def softmax(x: Any) -> Any:
        e = torch.exp(x - torch.amax(x, dim=-1, keepdim=True))
        return e / torch.sum(e, dim=-1, keepdim=True)
    return softmax, p.put(d["x"])


SOFTMAX = Workload(
    "softmax", "numerically stable softmax over the last axis of float32[4096, 1024]",
    size=lambda s: "{}x{} f32".format(*s["softmax"]),
    inputs=lambda s, rng: {"x": 3 * rng.standard_normal(s["softmax"], dtype=f32)},
    reference=softmax_reference, numpy=lambda d: (numpy_softmax, (d["x"],)), kiln=softmax_kiln,
    peers={"numba": lambda p, d: (p.jit(softmax_loop, reduction=True), (d["x"],)),
           "jax": jax_softmax, "tensorflow": tf_softmax, "torch": torch_softmax})


# ---- matmul and a dense layer ---------------------------------------------------------------------------------------
def matmul_inputs(s: dict, rng: np.random.Generator) -> dict:
    n = s["matmul"]
    return {"a": rng.standard_normal((n, n), dtype=f32), "b": rng.standard_normal((n, n), dtype=f32)}


def matmul_reference(d: dict) -> tuple[np.ndarray, Any]:
    a, b = d["a"].astype(np.float64), d["b"].astype(np.float64)
    return a @ b, 1e-5 * (np.abs(a) @ np.abs(b)) + 1e-6


def matmul_kiln(d: dict) -> Built:
    tf = kiln()

    @tf.function
    def matmul(a, b):
        return tf.matmul(a, b)
    return matmul, (tf.constant(d["a"]), tf.constant(d["b"]))


MATMUL = Workload(
    "matmul", "float32 1024 x 1024 @ 1024 x 1024", size=lambda s: f"{s['matmul']}^3 f32",
    inputs=matmul_inputs, reference=matmul_reference, numpy=lambda d: (np.matmul, (d["a"], d["b"])),
    kiln=matmul_kiln,
    peers={"numba": lambda p, d: (p.jit(lambda a, b: a @ b), (d["a"], d["b"])),
           "jax": lambda p, d: (p.jit(p.np.matmul), p.put(d["a"], d["b"])),
           "tensorflow": lambda p, d: (p.jit(p.np.matmul), p.put(d["a"], d["b"])),
           "torch": lambda p, d: (p.np.matmul, p.put(d["a"], d["b"]))})


def dense_inputs(s: dict, rng: np.random.Generator) -> dict:
    m, k, n = s["dense"]
    return {"x": rng.standard_normal((m, k), dtype=f32), "w": rng.standard_normal((k, n), dtype=f32) / 28,
            "b": rng.standard_normal(n, dtype=f32)}


def dense_reference(d: dict) -> tuple[np.ndarray, Any]:
    x, w, b = (d[k].astype(np.float64) for k in ("x", "w", "b"))
    return np.maximum(x @ w + b, 0.0), 1e-5 * (np.abs(x) @ np.abs(w) + np.abs(b)) + 1e-6


def dense_kiln(d: dict) -> Built:
    tf = kiln()

    @tf.function
    def dense(x, w, b):
        return tf.nn.relu(tf.matmul(x, w) + b)
    return dense, tuple(tf.constant(d[k]) for k in "xwb")


def numpy_dense(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.maximum(x @ w + b, np.float32(0.0))


DENSE_RELU = Workload(
    "dense_relu", "relu(x @ W + b), float32 256x784 @ 784x128", size=lambda s: "{0}x{1}@{1}x{2}".format(*s["dense"]),
    inputs=dense_inputs, reference=dense_reference, numpy=lambda d: (numpy_dense, (d["x"], d["w"], d["b"])),
    kiln=dense_kiln,
    peers={"numba": lambda p, d: (p.jit(numpy_dense), (d["x"], d["w"], d["b"])),
           "jax": lambda p, d: (p.jit(lambda x, w, b: p.module.nn.relu(x @ w + b)), p.put(d["x"], d["w"], d["b"])),
           "tensorflow": lambda p, d: (p.jit(lambda x, w, b: p.np.nn.relu(p.np.matmul(x, w) + b)),
                                       p.put(d["x"], d["w"], d["b"])),
           "torch": lambda p, d: (lambda x, w, b: p.np.relu(x @ w + b), p.put(d["x"], d["w"], d["b"]))})


# ---- a scalar while loop --------------------------------------------------------------------------------------------
def relax_loop(x0: Any, n: int) -> Any:
    """n steps of x = x*0.999 + 0.001*cos(x) on np.float32: numpy's version (plain Python) and numba's."""
    x = np.float32(x0)
    keep, step = np.float32(0.999), np.float32(0.001)
    for _ in range(n):
        x = x * keep + step * np.cos(x)
    return x


def relax_kiln(d: dict) -> Built:
    tf = kiln()

    @tf.function
    def relax(x, n):
        _, x = tf.while_loop(lambda i, x: i < n, lambda i, x: (i + 1, x * 0.999 + 0.001 * tf.cos(x)),
                             [tf.constant(0), x])
        return x
    return relax, (tf.constant(d["x0"]), tf.constant(np.int32(d["n"])))


def relax_jax(p: Any, d: dict) -> Built:
    return (p.jit(lambda x0, n: p.lax.fori_loop(0, n, lambda i, x: x * 0.999 + 0.001 * p.np.cos(x), x0)),
            p.put(d["x0"], np.int32(d["n"])))


def relax_tf(p: Any, d: dict) -> Built:
    tf = p.np

    def relax(x0: Any, n: Any) -> Any:
        _, x = tf.while_loop(lambda i, x: i < n, lambda i, x: (i + 1, x * 0.999 + 0.001 * tf.cos(x)),
                             [tf.constant(0), x0])
        return x
    return p.jit(relax), p.put(d["x0"], np.int32(d["n"]))


def scale_python_loop(rows: list[Row], d: dict, notes: Notes) -> None:
    """numpy's row timed n_python iterations: scale it to n (the table says so)."""
    scale = d["n"] / d["n_python"]
    if scale != 1 and rows[0].median is not None and rows[0].low is not None:
        rows[0].median, rows[0].low = rows[0].median * scale, rows[0].low * scale
    how = f"{d['n_python']:,} iterations timed and scaled x{scale:g} to {d['n']:,}" if scale != 1 else \
        f"all {d['n']:,} iterations timed"
    rows[0].notes.append(notes.add(f"while_loop numpy: a plain Python loop on np.float32, {how}"))


WHILE_LOOP = Workload(
    "while_loop", "10M iterations of x = x*0.999 + 0.001*cos(x) on a float32 scalar; numpy's row is a plain Python "
    "loop on np.float32, timed on fewer iterations and scaled (the table says by how much)",
    size=lambda s: f"{count(s['loop'])} iters",
    inputs=lambda s, rng: {"x0": f32(0.5), "n": s["loop"], "n_python": s["loop_python"]},
    # the full count and the Python count both converge when they differ (see run.FULL)
    reference=lambda d: (lambda want: (want, 1e-5 * abs(float(want))))(
        np.array(float(relax_loop(d["x0"], d["n_python"])))),
    numpy=lambda d: (relax_loop, (d["x0"], d["n_python"])), kiln=relax_kiln,
    peers={"numba": lambda p, d: (p.jit(relax_loop), (d["x0"], d["n"])), "jax": relax_jax, "tensorflow": relax_tf},
    skip={"torch": "a Python loop over torch scalars is slower than numpy's; not run"},
    adjust=scale_python_loop)


# ---- the cost of a call ---------------------------------------------------------------------------------------------
def add_kiln(d: dict) -> Built:
    tf = kiln()

    @tf.function
    def add(x, y):
        return x + y
    return add, (tf.constant(d["x"]), tf.constant(d["y"]))


CALL_OVERHEAD = Workload(
    "call_overhead", "one call of a compiled f(x, y) = x + y on float32[8], per call (numpy: x + y)",
    size=lambda s: f"f32[{s['call']}]/call", unit="µs",
    inputs=lambda s, rng: {"x": np.linspace(0.5, 1.5, s["call"], dtype=f32),
                           "y": np.linspace(-1, 1, s["call"], dtype=f32)},
    reference=lambda d: ((d["x"] + d["y"]).astype(np.float64), 0.0),
    numpy=lambda d: (np.add, (d["x"], d["y"])), kiln=add_kiln,
    peers={"numba": lambda p, d: (p.jit(lambda x, y: x + y), (d["x"], d["y"])),
           "jax": lambda p, d: (p.jit(lambda x, y: x + y), p.put(d["x"], d["y"])),
           # a plain tf.function here, without XLA
           "tensorflow": lambda p, d: (p.module.function(lambda x, y: x + y), p.put(d["x"], d["y"])),
           "torch": lambda p, d: (p.np.add, p.put(d["x"], d["y"]))})


WORKLOADS = [FUSED_ELEMENTWISE, REDUCE_SUM, REDUCE_MAX, SOFTMAX, MATMUL, DENSE_RELU, mlp.step_workload(32),
             mlp.step_workload(256), WHILE_LOOP, CALL_OVERHEAD]
