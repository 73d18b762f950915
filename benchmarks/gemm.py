"""The GEMM workloads: the products of a 784-128-10 MLP's training step, forward and backward, at batch 32, 256
and 1024 (`gemm_<product>_<batch>`), each alone in a compiled function.

Products (x: [batch, 784] inputs, W: [784, 128], h: [batch, 128], g: d loss / d (x @ W), d: d loss / d logits):
- `fwd`:  x @ W            [batch, 784] @ [784, 128]
- `xtg`:  x^T @ g          the weight gradient [784, batch] @ [batch, 128] (transpose_a)
- `gwt`:  g @ W^T          the input gradient [batch, 128] @ [128, 784] (transpose_b)
- `out`:  h @ W2           [batch, 128] @ [128, 10]
- `dwt`:  d @ W2^T         [batch, 10] @ [10, 128] (transpose_b)
numpy's version is `a @ b` on the transposed views (OpenBLAS reads them without copying); the reference is the
product in float64. The size column gives m x k x n.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from harness import Built, Workload

f32 = np.float32

#: name -> (rows of a, inner k, columns n, transpose_a, transpose_b) as functions of the batch size
PRODUCTS: dict[str, Callable[[int], tuple[int, int, int, bool, bool]]] = {
    "fwd": lambda batch: (batch, 784, 128, False, False),
    "xtg": lambda batch: (784, batch, 128, True, False),
    "gwt": lambda batch: (batch, 128, 784, False, True),
    "out": lambda batch: (batch, 128, 10, False, False),
    "dwt": lambda batch: (batch, 10, 128, False, True),
}
BATCHES = (32, 256, 1024)


def _inputs(product: str, batch: int) -> Callable[[dict, np.random.Generator], dict]:
    def make(s: dict, rng: np.random.Generator) -> dict:
        b = min(batch, s["gemm_batch_cap"])
        m, k, n, ta, tb = PRODUCTS[product](b)
        a = rng.standard_normal((k, m) if ta else (m, k), dtype=f32)
        w = rng.standard_normal((n, k) if tb else (k, n), dtype=f32)
        return {"a": a, "b": w, "ta": ta, "tb": tb}
    return make


def _views(d: dict) -> tuple[np.ndarray, np.ndarray]:
    return (d["a"].T if d["ta"] else d["a"]), (d["b"].T if d["tb"] else d["b"])


def _reference(d: dict) -> tuple[np.ndarray, Any]:
    a, b = (v.astype(np.float64) for v in _views(d))
    return a @ b, 1e-5 * (np.abs(a) @ np.abs(b)) + 1e-6


def _kiln(d: dict) -> Built:
    import engine as tf
    ta, tb = d["ta"], d["tb"]

    @tf.function
    def product(a, b):
        return tf.matmul(a, b, transpose_a=ta, transpose_b=tb)
    return product, (tf.constant(d["a"]), tf.constant(d["b"]))


def _peers() -> dict[str, Callable[[Any, dict], Built]]:
    def jax(p: Any, d: dict) -> Built:
        ta, tb = d["ta"], d["tb"]
        fn = p.jit(lambda a, b: (a.T if ta else a) @ (b.T if tb else b))
        return fn, p.put(d["a"], d["b"])

    def tensorflow(p: Any, d: dict) -> Built:
        ta, tb = d["ta"], d["tb"]
        fn = p.jit(lambda a, b: p.np.matmul(a, b, transpose_a=ta, transpose_b=tb))
        return fn, p.put(d["a"], d["b"])

    def torch(p: Any, d: dict) -> Built:
        ta, tb = d["ta"], d["tb"]
        return (lambda a, b: (a.T if ta else a) @ (b.T if tb else b)), p.put(d["a"], d["b"])
    return {"jax": jax, "tensorflow": tensorflow, "torch": torch}


def _size(product: str, batch: int) -> Callable[[dict], str]:
    def size(s: dict) -> str:
        m, k, n, ta, tb = PRODUCTS[product](min(batch, s["gemm_batch_cap"]))
        marks = ("^T" if ta else "") + (" B^T" if tb else "")
        return f"{m}x{k}x{n}{marks}"
    return size


def workload(product: str, batch: int) -> Workload:
    return Workload(
        f"gemm_{product}_{batch}", f"the training step's {product} product at batch {batch}, alone",
        size=_size(product, batch), inputs=_inputs(product, batch), reference=_reference,
        numpy=lambda d: ((lambda a, b: a @ b), _views(d)), kiln=_kiln, peers=_peers(), unit="µs",
        skip={"numba": "calls the same BLAS as numpy"})


WORKLOADS = [workload(p, b) for b in BATCHES for p in PRODUCTS]
