"""The MLP training-step workloads (mlp_step_32, mlp_step_256, and mlp_first_call in compile_time.py).

One SGD step of a 784-128-10 MLP: relu hidden layer, mean softmax cross-entropy over integer labels, then
p -= lr * dloss/dp on all four parameters, as one compiled function. Kiln's is TF2 code with engine.value_and_grad,
loaded from a module file (the first-call workload needs a fresh copy per repeat); numpy's is the forward and
backward written by hand; the peers' are the same step as their users write it (TensorFlow's GradientTape, jax's
value_and_grad, torch's autograd); the reference is numpy's in float64.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from harness import Built, Workload, load_module, scratch_dir, write_module

MLP_ARGS = ("x", "y", "w1", "b1", "w2", "b2")
MLP_LR = 0.1
MLP_SOURCE = """\
import engine as tf


def loss_fn(params, x, y):
    w1, b1, w2, b2 = params
    h = tf.nn.relu(tf.matmul(x, w1) + b1)
    logits = tf.matmul(h, w2) + b2
    return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))


@tf.function
def train_step(x, y, w1, b1, w2, b2):
    params = (w1, b1, w2, b2)
    loss, grads = tf.value_and_grad(loss_fn)(params, x, y)
    return (loss,) + tuple(p - {lr} * g for p, g in zip(params, grads))
"""


def mlp_source() -> str:
    """Kiln's training step (a module source: the first-call workload loads a fresh copy per repeat)."""
    return MLP_SOURCE.format(lr=MLP_LR)


def mlp_inputs(layers: tuple, batch: int, rng: np.random.Generator) -> dict:
    """A batch of pixel-like inputs in [0, 1), integer labels, and parameters initialized as a dense layer is."""
    n_in, n_hidden, n_out = layers
    f32 = np.float32
    return {"x": rng.random((batch, n_in), dtype=f32), "y": rng.integers(0, n_out, batch).astype(np.int32),
            "w1": (rng.standard_normal((n_in, n_hidden)) / n_in ** 0.5).astype(f32),
            "b1": (0.1 * rng.standard_normal(n_hidden)).astype(f32),
            "w2": (rng.standard_normal((n_hidden, n_out)) / n_hidden ** 0.5).astype(f32),
            "b2": (0.1 * rng.standard_normal(n_out)).astype(f32), "lr": f32(MLP_LR)}


def numpy_mlp_step(x: np.ndarray, y: np.ndarray, w1: np.ndarray, b1: np.ndarray, w2: np.ndarray, b2: np.ndarray,
                   lr: Any) -> tuple:
    """The step's forward and backward written by hand: (loss, new w1, b1, w2, b2)."""
    h = x @ w1 + b1
    a = np.maximum(h, 0)
    z = a @ w2 + b2
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    s = e.sum(axis=1, keepdims=True)
    rows = np.arange(len(y))
    loss = np.mean(np.log(s[:, 0]) - z[rows, y])
    dz = e / s  # d loss / d logits = (softmax - one_hot(y)) / batch
    dz[rows, y] -= 1
    dz /= len(y)
    da = dz @ w2.T
    da[h <= 0] = 0  # relu's gradient is 0 at 0, as TensorFlow's
    return loss, w1 - lr * (x.T @ da), b1 - lr * da.sum(axis=0), w2 - lr * (a.T @ dz), b2 - lr * dz.sum(axis=0)


def mlp_reference(d: dict) -> tuple[np.ndarray, np.ndarray]:
    """The step in float64, flattened as `flatten` flattens (loss, w1, b1, w2, b2); tolerance per element: float32
    rounding of the loss and of each new parameter, plus lr * 1e-4 of the parameter's largest gradient entry."""
    f64 = {k: np.asarray(d[k], np.float64) for k in MLP_ARGS if k != "y"}
    loss, *new = numpy_mlp_step(f64["x"], d["y"], f64["w1"], f64["b1"], f64["w2"], f64["b2"], MLP_LR)
    tol = [np.array([1e-5 * abs(loss) + 1e-6])]
    for k, q in zip(("w1", "b1", "w2", "b2"), new):
        largest_step = np.abs(f64[k] - q).max()  # = lr * max |gradient|
        tol.append(np.ravel(1e-6 * np.abs(q) + 1e-4 * largest_step + 1e-9))
    return np.concatenate([[loss]] + [np.ravel(q) for q in new]), np.concatenate(tol)


def numpy_version(d: dict) -> Built:
    return numpy_mlp_step, tuple(d[k] for k in MLP_ARGS) + (d["lr"],)


def kiln_version(name: str) -> Callable[[dict], Built]:
    def build(d: dict) -> Built:
        import engine
        module = load_module(write_module(scratch_dir(), f"kiln_{name}", mlp_source()))
        return module.train_step, tuple(engine.constant(d[k]) for k in MLP_ARGS)
    return build


# ---- peers' versions -------------------------------------------------------------------------------------------------
def numba_mlp_step(x, y, w1, b1, w2, b2, lr):
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


def tensorflow_mlp_step(p: Any, d: dict) -> Built:
    """The same step in TensorFlow 2 (GradientTape), compiled with XLA as the peer compiles everything."""
    tf, lr = p.np, MLP_LR

    def step(x: Any, y: Any, w1: Any, b1: Any, w2: Any, b2: Any) -> tuple:
        params = (w1, b1, w2, b2)
        with tf.GradientTape() as tape:
            tape.watch(params)
            h = tf.nn.relu(tf.matmul(x, w1) + b1)
            logits = tf.matmul(h, w2) + b2
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
        grads = tape.gradient(loss, params)
        return (loss,) + tuple(q - lr * g for q, g in zip(params, grads))
    return p.jit(step), p.put(*(d[k] for k in MLP_ARGS))


def jax_mlp_step(p: Any, d: dict) -> Built:
    """The same step with jax.value_and_grad under jax.jit."""
    jax, jnp, lr = p.module, p.np, MLP_LR

    def loss_fn(params: tuple, x: Any, y: Any) -> Any:
        w1, b1, w2, b2 = params
        logits = jax.nn.relu(x @ w1 + b1) @ w2 + b2
        picked = jnp.take_along_axis(logits, y[:, None], axis=1)[:, 0]
        return jnp.mean(jax.nn.logsumexp(logits, axis=1) - picked)

    def step(x: Any, y: Any, w1: Any, b1: Any, w2: Any, b2: Any) -> tuple:
        params = (w1, b1, w2, b2)
        loss, grads = jax.value_and_grad(loss_fn)(params, x, y)
        return (loss,) + tuple(q - lr * g for q, g in zip(params, grads))
    return p.jit(step), p.put(*(d[k] for k in MLP_ARGS))


def torch_mlp_step(p: Any, d: dict) -> Built:
    """The same step in eager torch with torch.autograd.grad (labels as int64, which cross_entropy takes)."""
    torch, lr = p.np, MLP_LR

    def step(x: Any, y: Any, *values: Any) -> tuple:
        params = [v.detach().requires_grad_() for v in values]
        w1, b1, w2, b2 = params
        loss = torch.nn.functional.cross_entropy(torch.relu(x @ w1 + b1) @ w2 + b2, y)
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            return (loss.detach(),) + tuple(q - lr * g for q, g in zip(params, grads))
    x, y, *values = p.put(*(d[k] for k in MLP_ARGS))
    return step, (x, y.long(), *values)


PEERS: dict[str, Callable[[Any, dict], Built]] = {
    # mostly reductions (matmuls, softmax sums)
    "numba": lambda p, d: (p.jit(numba_mlp_step, reduction=True), tuple(d[k] for k in MLP_ARGS) + (d["lr"],)),
    "jax": jax_mlp_step, "tensorflow": tensorflow_mlp_step, "torch": torch_mlp_step,
}


def step_workload(batch: int) -> Workload:
    name = f"mlp_step_{batch}"
    return Workload(
        name, f"one SGD step of a 784-128-10 MLP at batch {batch} (TF2 code with value_and_grad; numpy by hand)",
        size=lambda s: "{}-{}-{}, batch {}".format(*s["mlp"], batch),
        inputs=lambda s, rng: mlp_inputs(s["mlp"], batch, rng), reference=mlp_reference, numpy=numpy_version,
        kiln=kiln_version(name), peers=PEERS)
