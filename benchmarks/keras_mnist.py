"""The seed tutorial's MNIST program and `model.fit`, Kiln next to TensorFlow, whole processes on the same data.

    python benchmarks/keras_mnist.py [--tf-python PATH] [--epochs 2] [--quick]

Two workloads, each run in a fresh process per framework (`import engine as tf` or `import tensorflow as tf`; the
program text is the same):
- `program`: the tutorial's custom loop (a `tf.function` train step, `Dataset.from_tensor_slices(...).batch(32)
  .shuffle(10000)`, Adam, SparseCategoricalCrossentropy) for `--epochs` epochs, then test accuracy and
  `model.save('mnist_model')`; wall time of the whole process, imports included.
- `fit`: `model.compile(...)` and `model.fit(x, y, batch_size=32, epochs=...)` on the same model; steps per second
  of the epochs after the first (read from the program's own timer), and the first epoch's extra time (compile):
  the first epoch minus the median of the later ones. Kiln's is measured in each state of its disk cache, in a
  cache directory of its own (`--runs` processes each): `cold` (empty: a new machine or Kiln version, the GEMM
  workers are built too), `new model` (the GEMM workers cached, which every model shares: the usual case for a
  model not run before), `warm` (the same program run before: the step itself is cached).
The data are MNIST-shaped (60,000 + 10,000 uint8 28x28 images, uint8 labels), synthetic, written once as an
`mnist.npz` and read with numpy by both programs (Keras checks the cache file's hash against MNIST's and would
download the real one; this machine has no network).
TensorFlow runs from `--tf-python` (a Python with `tensorflow-cpu` installed: the `bench` extra), if given or if the
current Python has it.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent

PROGRAM = """
import time, os
t0 = time.perf_counter()
import {module} as tf
import numpy as np
with np.load(os.path.join(os.environ["KERAS_HOME"], "datasets", "mnist.npz")) as f:
    (x_train, y_train), (x_test, y_test) = (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])
x_train, x_test = x_train / 255.0, x_test / 255.0
model = tf.keras.models.Sequential([tf.keras.layers.Flatten(input_shape=(28, 28)),
    tf.keras.layers.Dense(128, activation='relu'), tf.keras.layers.Dense(10, activation='softmax')])
optimizer = tf.keras.optimizers.Adam(learning_rate=0.001)
loss_fn = tf.keras.losses.SparseCategoricalCrossentropy()
@tf.function
def train_step(x, y):
    with tf.GradientTape() as tape:
        loss = loss_fn(y, model(x, training=True))
    grads = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
    return loss
ds = tf.data.Dataset.from_tensor_slices((x_train, y_train)).batch(32).shuffle(10000)
epoch_times = []
for epoch in range({epochs}):
    e0 = time.perf_counter()
    for xb, yb in ds:
        loss = train_step(xb, yb)
    epoch_times.append(time.perf_counter() - e0)
acc = tf.keras.metrics.SparseCategoricalAccuracy()
for xb, yb in tf.data.Dataset.from_tensor_slices((x_test, y_test)).batch(32):
    acc.update_state(yb, model(xb, training=False))
model.save(os.path.join({out!r}, {save!r}))
print("RESULT", {{"wall": time.perf_counter() - t0, "epochs": epoch_times, "accuracy": float(acc.result())}})
"""

FIT = """
import os, time
import numpy as np
import {module} as tf
with np.load(os.path.join(os.environ["KERAS_HOME"], "datasets", "mnist.npz")) as f:
    x_train, y_train = f["x_train"], f["y_train"]
x_train = x_train / 255.0
model = tf.keras.models.Sequential([tf.keras.layers.Flatten(input_shape=(28, 28)),
    tf.keras.layers.Dense(128, activation='relu'), tf.keras.layers.Dense(10, activation='softmax')])
model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy'])
class Timer(tf.keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None): self.t = time.perf_counter()
    def on_epoch_end(self, epoch, logs=None): times.append(time.perf_counter() - self.t)
times = []
model.fit(x_train, y_train, batch_size=32, epochs={epochs}, verbose=0, callbacks=[Timer()])
print("RESULT", {{"epochs": times, "steps": -(-len(x_train) // 32)}})
"""


def write_data(home: Path, n_train: int, n_test: int) -> None:
    rng = np.random.default_rng(0)
    prototypes = rng.integers(0, 256, size=(10, 28, 28))

    def fake(n: int) -> tuple[np.ndarray, np.ndarray]:
        y = rng.integers(0, 10, n).astype(np.uint8)
        return np.clip(prototypes[y] + rng.normal(0, 90, (n, 28, 28)), 0, 255).astype(np.uint8), y
    (home / "datasets").mkdir(parents=True, exist_ok=True)
    (xa, ya), (xb, yb) = fake(n_train), fake(n_test)
    np.savez(home / "datasets" / "mnist.npz", x_train=xa, y_train=ya, x_test=xb, y_test=yb)


def run(python: str, source: str, home: Path, **extra_env: str) -> dict:
    env = dict(os.environ, KERAS_HOME=str(home), PYTHONPATH=str(ROOT), TF_CPP_MIN_LOG_LEVEL="3",
               CUDA_VISIBLE_DEVICES="", **extra_env)
    t = time.perf_counter()
    out = subprocess.run([python, "-c", textwrap.dedent(source)], capture_output=True, text=True, env=env,
                         cwd=str(home))
    wall = time.perf_counter() - t
    if out.returncode != 0:
        raise RuntimeError(f"{python} failed:\n{out.stderr[-3000:]}")
    line = next(l for l in out.stdout.splitlines() if l.startswith("RESULT "))
    result = eval(line[len("RESULT "):], {})  # a dict literal the program printed itself
    result["process"] = wall
    return result


def keep_workers(cache_dir: Path) -> None:
    """Deletes every entry of Kiln's disk cache `cache_dir` but the GEMM workers'."""
    sys.path.insert(0, str(ROOT))
    from codegen.cache import MAGIC
    for path in cache_dir.rglob("*.kobj"):
        data = path.read_bytes()
        n = int.from_bytes(data[len(MAGIC):len(MAGIC) + 8], "little")
        if "worker" not in json.loads(data[len(MAGIC) + 8:len(MAGIC) + 8 + n]):
            path.unlink()


def extra(result: dict) -> float:
    """The first epoch's time minus the median of the later ones' (one of them can be slow for reasons of its own:
    a page-fault storm made every other epoch 0.4-0.6 s slower before fit gathered each batch's rows)."""
    return result["epochs"][0] - float(np.median(result["epochs"][1:]))


def kiln_cache_states(source: str, home: Path, runs: int) -> dict[str, list[float]]:
    """The first epoch's extra time of `runs` fresh processes in each state of the disk cache (see the docstring)."""
    states: dict[str, list[float]] = {"cold": [], "new model": [], "warm": []}
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as cache:
            states["cold"].append(extra(run(sys.executable, source, home, KILN_CACHE_DIR=cache)))
            keep_workers(Path(cache))
            states["new model"].append(extra(run(sys.executable, source, home, KILN_CACHE_DIR=cache)))
            states["warm"].append(extra(run(sys.executable, source, home, KILN_CACHE_DIR=cache)))
    return states


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tf-python", default=None, help="a Python with tensorflow installed")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="small data, to check that everything runs")
    parser.add_argument("--runs", type=int, default=3, help="processes per state of Kiln's disk cache")
    args = parser.parse_args()
    tf_python = args.tf_python
    if tf_python is None:
        probe = subprocess.run([sys.executable, "-c", "import tensorflow"], capture_output=True)
        tf_python = sys.executable if probe.returncode == 0 else None
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        write_data(home, 2000 if args.quick else 60000, 500 if args.quick else 10000)
        impls = [("kiln", sys.executable, "engine")] + ([("tensorflow", tf_python, "tensorflow")] if tf_python
                                                          else [])
        results = {}
        for name, python, module in impls:
            # TF 2.21's Keras 3 refuses an extensionless path (Kiln writes a directory there, as TF 2's SavedModel).
            save = "mnist_model" if name == "kiln" else "mnist_model.keras"
            results[name] = {"program": run(python, PROGRAM.format(module=module, epochs=args.epochs, out=tmp,
                                                                   save=save), home),
                             "fit": run(python, FIT.format(module=module, epochs=max(args.epochs, 3)), home)}
        print(f"{'workload':<34}{'impl':<12}{'value':>12}")
        for name, r in results.items():
            p, f = r["program"], r["fit"]
            later = f["epochs"][1:]
            steps_per_s = f["steps"] / (sum(later) / len(later))
            print(f"{'program wall time (s)':<34}{name:<12}{p['process']:>12.2f}")
            print(f"{'  of which epochs (s)':<34}{name:<12}{sum(p['epochs']):>12.2f}")
            print(f"{'  test accuracy':<34}{name:<12}{p['accuracy']:>12.4f}")
            print(f"{'fit steps/s (epochs after first)':<34}{name:<12}{steps_per_s:>12.0f}")
            print(f"{'fit first-epoch extra time (s)':<34}{name:<12}{extra(f):>12.2f}")
        states = kiln_cache_states(FIT.format(module="engine", epochs=max(args.epochs, 3)), home, args.runs)
        print(f"\nKiln fit first-epoch extra time by state of the disk cache, {args.runs} processes each (s):")
        for state, values in states.items():
            print(f"  {state:<12}" + "  ".join(f"{v:.2f}" for v in values) + f"   median {np.median(values):.2f}")
        if "tensorflow" in results:
            k, t = results["kiln"], results["tensorflow"]
            print(f"\nprogram: Kiln / TensorFlow wall time = {k['program']['process'] / t['program']['process']:.2f}")
            ks = k["fit"]["steps"] / (sum(k["fit"]["epochs"][1:]) / len(k["fit"]["epochs"][1:]))
            ts = t["fit"]["steps"] / (sum(t["fit"]["epochs"][1:]) / len(t["fit"]["epochs"][1:]))
            print(f"fit: Kiln steps/s / TensorFlow steps/s = {ks / ts:.2f}")
        print(json.dumps({**{n: {"program_wall": r["program"]["process"]} for n, r in results.items()},
                          "kiln_fit_extra_by_cache_state": states}))


if __name__ == "__main__":
    main()
