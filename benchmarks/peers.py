"""Peer versions of benchmarks/run.py's workloads, for the libraries that are installed: numba, jax, tensorflow, torch.

A peer that cannot be imported is skipped silently; a workload a peer cannot run (missing feature, error while
building) is skipped for that peer with a short reason, which run.py prints as a footnote. Nothing here is timed or
checked: run.py warms each kernel up, checks its result against numpy, then times it.

The inputs each kernel factory receives (numpy arrays and scalars, made by run.py):

| workload          | inputs                                                  | result                      |
|-------------------|---------------------------------------------------------|-----------------------------|
| fused_elementwise | x: float32[n], a, b: np.float32                         | tanh(x*a + b) * exp(-x*x)   |
| reduce_sum        | x: float32[n]                                           | sum(x)                      |
| reduce_max        | x: float32[n]                                           | max(x)                      |
| softmax           | x: float32[rows, cols]                                  | softmax over the last axis  |
| matmul            | a: float32[m, k], b: float32[k, n]                      | a @ b                       |
| dense_relu        | x: float32[m, k], w: float32[k, n], b: float32[n]       | relu(x @ w + b)             |
| while_loop        | x0: np.float32, n: int                                  | n steps of x*0.999 + 0.001*cos(x) |
| call_overhead     | x, y: float32[8]                                        | x + y                       |
| mlp_step          | x: float32[b, 784], y: int32[b], w1, b1, w2, b2, lr     | loss, w1, b1, w2, b2 (new)  |

`mlp_step` serves run.py's mlp_step_32 and mlp_step_256: the training step of a 784-128-10 MLP (relu hidden layer,
mean softmax cross-entropy over the integer labels y, then p -= lr * dloss/dp for the four parameters).

A factory returns `(fn, args)`: run.py times `fn(*args)`, so converting inputs to the peer's own arrays happens once,
outside the timing. Asynchronous libraries (jax) block on the result inside `fn`, or only the dispatch would be timed.

For the compile-time workloads (first_call, cache_hit) a peer gives `source_import` (the line that binds `M` to its
numpy-like module in the generated source) and `wrap(python_function, cache)`, which returns the compiled callable.
"""
from __future__ import annotations

import importlib
import os
from typing import Any, Callable, Optional

import numpy as np

Factory = Callable[[dict], tuple[Callable[..., Any], tuple]]


class Peer:
    """One installed peer library: `label` for the table, `kernels` by workload name, and compile-time hooks."""

    key = ""
    label = ""
    #: The import that binds `M` in the generated 20-op function; None when the peer has no such workload.
    source_import: Optional[str] = None

    def __init__(self, module: Any) -> None:
        self.module = module
        self.version = getattr(module, "__version__", "?")
        self.skipped: dict[str, str] = {}   # workload -> why this peer does not run it

    @property
    def name(self) -> str:
        return f"{self.label or self.key} {self.version}"

    def kernels(self) -> dict[str, Factory]:
        return {}

    def kernel(self, workload: str, inputs: dict) -> Optional[tuple[Callable[..., Any], tuple]]:
        """`(fn, args)` for this workload, or None (with the reason in `self.skipped`)."""
        factory = self.kernels().get(workload)
        if factory is None:
            self.skipped.setdefault(workload, "not implemented for this peer")
            return None
        try:
            return factory(inputs)
        except Exception as e:  # a peer's failure never stops the benchmark
            self.skipped[workload] = describe_error(e)
            return None

    def to_numpy(self, result: Any) -> np.ndarray:
        return np.asarray(result)

    def wrap(self, fn: Callable[..., Any], cache: bool = False) -> Callable[..., Any]:
        raise NotImplementedError

    def cache_env(self, directory: str) -> dict[str, str]:
        """Environment variables that point this peer's disk cache at `directory` (for cache_hit)."""
        return {}

    def cache_hits(self, wrapped: Any) -> Optional[int]:
        """How many disk-cache hits the wrapped function has had, when the peer tells."""
        return None


# ---- numba -----------------------------------------------------------------------------------------------------------
class NumbaPeer(Peer):
    """Plain `@njit` loops, one thread (no `parallel=True`), as a numba user writes them. Reductions get the
    `reassoc` and `contract` fast-math flags, the same ones Kiln allows itself inside reductions; elementwise loops
    get none."""

    key = "numba"
    label = "numba"
    source_import = "import numpy as M"

    def kernels(self) -> dict[str, Factory]:
        njit = self.module.njit
        reduce_flags = {"reassoc", "contract"}

        @njit
        def fused(x, a, b):
            out = np.empty_like(x)
            for i in range(x.size):
                v = x[i]
                out[i] = np.tanh(v * a + b) * np.exp(-v * v)
            return out

        @njit(fastmath=reduce_flags)
        def rsum(x):
            s = np.float32(0.0)
            for i in range(x.size):
                s += x[i]
            return s

        @njit(fastmath=reduce_flags)
        def rmax(x):
            m = x[0]
            for i in range(1, x.size):
                v = x[i]
                if v > m:
                    m = v
            return m

        @njit(fastmath=reduce_flags)
        def softmax(x):
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

        @njit
        def matmul(a, b):
            return a @ b

        @njit
        def dense(x, w, b):
            return np.maximum(x @ w + b, np.float32(0.0))

        @njit
        def relax(x0, n):
            x = np.float32(x0)
            keep, step = np.float32(0.999), np.float32(0.001)
            for _ in range(n):
                x = x * keep + step * np.cos(x)
            return x

        @njit
        def add(x, y):
            return x + y

        @njit(fastmath=reduce_flags)  # mostly reductions (matmuls, softmax sums)
        def mlp_step(x, y, w1, b1, w2, b2, lr):
            batch, classes = x.shape[0], w2.shape[1]
            h = x @ w1
            for i in range(batch):
                for j in range(h.shape[1]):
                    h[i, j] = max(h[i, j] + b1[j], np.float32(0.0))
            z = h @ w2
            loss = 0.0
            for i in range(batch):
                m = z[i, 0] + b2[0]
                for j in range(classes):
                    z[i, j] += b2[j]
                    m = max(m, z[i, j])
                loss -= z[i, y[i]] - m
                s = np.float32(0.0)
                for j in range(classes):
                    z[i, j] = np.exp(z[i, j] - m)
                    s += z[i, j]
                loss += np.log(s)
                for j in range(classes):  # z becomes d loss / d logits
                    z[i, j] = z[i, j] / s / batch
                z[i, y[i]] -= np.float32(1.0 / batch)
            dh = z @ w2.T
            for i in range(batch):
                for j in range(dh.shape[1]):
                    if h[i, j] <= 0:
                        dh[i, j] = 0
            return (np.float32(loss / batch), w1 - lr * (x.T @ dh), b1 - lr * dh.sum(axis=0),
                    w2 - lr * (h.T @ z), b2 - lr * z.sum(axis=0))

        return {
            "fused_elementwise": lambda d: (fused, (d["x"], d["a"], d["b"])),
            "reduce_sum": lambda d: (rsum, (d["x"],)),
            "reduce_max": lambda d: (rmax, (d["x"],)),
            "softmax": lambda d: (softmax, (d["x"],)),
            "matmul": lambda d: (matmul, (d["a"], d["b"])),
            "dense_relu": lambda d: (dense, (d["x"], d["w"], d["b"])),
            "while_loop": lambda d: (relax, (d["x0"], d["n"])),
            "call_overhead": lambda d: (add, (d["x"], d["y"])),
            "mlp_step": lambda d: (mlp_step, (d["x"], d["y"], d["w1"], d["b1"], d["w2"], d["b2"], d["lr"])),
        }

    def wrap(self, fn: Callable[..., Any], cache: bool = False) -> Callable[..., Any]:
        return self.module.njit(cache=cache)(fn)

    def cache_env(self, directory: str) -> dict[str, str]:
        return {"NUMBA_CACHE_DIR": directory}

    def cache_hits(self, wrapped: Any) -> Optional[int]:
        stats = getattr(wrapped, "stats", None)
        return None if stats is None else int(sum(stats.cache_hits.values()))


# ---- jax -------------------------------------------------------------------------------------------------------------
class JaxPeer(Peer):
    """`jax.jit` on the CPU backend, float32; every call waits for its result (`block_until_ready`)."""

    key = "jax"
    label = "jax"
    source_import = "import jax.numpy as M"

    def kernels(self) -> dict[str, Factory]:
        jax = self.module
        jnp = importlib.import_module("jax.numpy")
        lax = importlib.import_module("jax.lax")

        def blocking(f: Callable[..., Any]) -> Callable[..., Any]:
            jitted = jax.jit(f)
            return lambda *args: jitted(*args).block_until_ready()

        def softmax(x: Any) -> Any:
            e = jnp.exp(x - jnp.max(x, axis=-1, keepdims=True))
            return e / jnp.sum(e, axis=-1, keepdims=True)

        def relax(x0: Any, n: Any) -> Any:
            return lax.fori_loop(0, n, lambda i, x: x * 0.999 + 0.001 * jnp.cos(x), x0)

        put = jnp.asarray
        return {
            "fused_elementwise": lambda d: (blocking(lambda x, a, b: jnp.tanh(x * a + b) * jnp.exp(-x * x)),
                                           (put(d["x"]), put(d["a"]), put(d["b"]))),
            "reduce_sum": lambda d: (blocking(jnp.sum), (put(d["x"]),)),
            "reduce_max": lambda d: (blocking(jnp.max), (put(d["x"]),)),
            "softmax": lambda d: (blocking(softmax), (put(d["x"]),)),
            "matmul": lambda d: (blocking(jnp.matmul), (put(d["a"]), put(d["b"]))),
            "dense_relu": lambda d: (blocking(lambda x, w, b: jax.nn.relu(x @ w + b)),
                                     (put(d["x"]), put(d["w"]), put(d["b"]))),
            "while_loop": lambda d: (blocking(relax), (put(d["x0"]), put(np.int32(d["n"])))),
            "call_overhead": lambda d: (blocking(lambda x, y: x + y), (put(d["x"]), put(d["y"]))),
        }

    def wrap(self, fn: Callable[..., Any], cache: bool = False) -> Callable[..., Any]:
        jitted = self.module.jit(fn)
        return lambda *args: jitted(*args).block_until_ready()


# ---- tensorflow ------------------------------------------------------------------------------------------------------
class TensorFlowPeer(Peer):
    """`tf.function(jit_compile=True)` (XLA) on the CPU; the same TF2 source that Kiln runs."""

    key = "tensorflow"
    label = "tensorflow"
    source_import = "import tensorflow as M"

    def kernels(self) -> dict[str, Factory]:
        tf = self.module

        def xla(f: Callable[..., Any]) -> Callable[..., Any]:
            return tf.function(f, jit_compile=True)

        def softmax(x: Any) -> Any:
            e = tf.exp(x - tf.reduce_max(x, axis=-1, keepdims=True))
            return e / tf.reduce_sum(e, axis=-1, keepdims=True)

        def relax(x0: Any, n: Any) -> Any:
            _, x = tf.while_loop(lambda i, x: i < n, lambda i, x: (i + 1, x * 0.999 + 0.001 * tf.cos(x)),
                                 [tf.constant(0), x0])
            return x

        c = tf.constant
        return {
            "fused_elementwise": lambda d: (xla(lambda x, a, b: tf.tanh(x * a + b) * tf.exp(-x * x)),
                                           (c(d["x"]), c(d["a"]), c(d["b"]))),
            "reduce_sum": lambda d: (xla(tf.reduce_sum), (c(d["x"]),)),
            "reduce_max": lambda d: (xla(tf.reduce_max), (c(d["x"]),)),
            "softmax": lambda d: (xla(softmax), (c(d["x"]),)),
            "matmul": lambda d: (xla(tf.matmul), (c(d["a"]), c(d["b"]))),
            "dense_relu": lambda d: (xla(lambda x, w, b: tf.nn.relu(tf.matmul(x, w) + b)),
                                     (c(d["x"]), c(d["w"]), c(d["b"]))),
            "while_loop": lambda d: (xla(relax), (c(d["x0"]), c(np.int32(d["n"])))),
            "call_overhead": lambda d: (tf.function(lambda x, y: x + y), (c(d["x"]), c(d["y"]))),
        }

    def to_numpy(self, result: Any) -> np.ndarray:
        return np.asarray(result.numpy())

    def wrap(self, fn: Callable[..., Any], cache: bool = False) -> Callable[..., Any]:
        return self.module.function(fn, jit_compile=True)


# ---- torch -----------------------------------------------------------------------------------------------------------
class TorchPeer(Peer):
    """Eager torch on the CPU (torch.compile needs a C compiler and minutes; it is left out)."""

    key = "torch"
    label = "torch eager"

    def kernels(self) -> dict[str, Factory]:
        torch = self.module
        self.skipped["while_loop"] = "a Python loop over torch scalars is slower than numpy's; not run"

        def softmax(x: Any) -> Any:
            e = torch.exp(x - torch.amax(x, dim=-1, keepdim=True))
            return e / torch.sum(e, dim=-1, keepdim=True)

        t = torch.from_numpy
        return {
            "fused_elementwise": lambda d: (lambda x, a, b: torch.tanh(x * a + b) * torch.exp(-x * x),
                                           (t(d["x"]), float(d["a"]), float(d["b"]))),
            "reduce_sum": lambda d: (torch.sum, (t(d["x"]),)),
            "reduce_max": lambda d: (torch.amax, (t(d["x"]),)),
            "softmax": lambda d: (softmax, (t(d["x"]),)),
            "matmul": lambda d: (torch.matmul, (t(d["a"]), t(d["b"]))),
            "dense_relu": lambda d: (lambda x, w, b: torch.relu(x @ w + b), (t(d["x"]), t(d["w"]), t(d["b"]))),
            "call_overhead": lambda d: (torch.add, (t(d["x"]), t(d["y"]))),
        }

    def to_numpy(self, result: Any) -> np.ndarray:
        return result.numpy()


def describe_error(e: BaseException) -> str:
    """`Type: first line of the message`, short enough for a footnote."""
    lines = str(e).strip().splitlines()
    return f"{type(e).__name__}: {lines[0][:160]}" if lines else type(e).__name__


PEERS: dict[str, type[Peer]] = {"numba": NumbaPeer, "jax": JaxPeer, "tensorflow": TensorFlowPeer, "torch": TorchPeer}


def load_peers(wanted: Optional[set[str]] = None) -> list[Peer]:
    """The installed peers among `wanted` (all of them when None), in a fixed order; missing ones are skipped."""
    found = []
    for key, cls in PEERS.items():
        if wanted is not None and key not in wanted:
            continue
        if key == "tensorflow":
            os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        try:
            module = importlib.import_module(key)
        except Exception:  # not installed, or broken: skip it
            continue
        if key == "jax":
            try:
                module.config.update("jax_platforms", "cpu")
            except Exception:  # backends already initialized: keep what jax chose
                pass
        found.append(cls(module))
    return found
