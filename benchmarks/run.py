"""The benchmark table: Kiln's compiled functions next to numpy (and numba, jax, tensorflow, torch when installed).

    python benchmarks/run.py [--quick] [--only NAME[,NAME]] [--repeats N] [--peers all|none|numba,jax,...]

Workloads (names for --only):

    fused_elementwise  tanh(x*a + b) * exp(-x*x) on 4M float32 (a, b scalar tensors)
    reduce_sum         sum of 16M float32
    reduce_max         max of 16M float32
    softmax            numerically stable softmax over the last axis of float32[4096, 1024]
    matmul             float32 1024 x 1024 @ 1024 x 1024
    dense_relu         relu(x @ W + b), float32 256x784 @ 784x128
    mlp_step_32        one SGD training step of a 784-128-10 MLP (relu, softmax cross-entropy on integer labels,
    mlp_step_256       w -= 0.1 * grad on all four parameters) at batch 32 / 256, compiled as one function: Kiln's
                       is TF2 code with engine.value_and_grad; numpy's is the forward and backward written by hand
    while_loop         10M iterations of x = x*0.999 + 0.001*cos(x) on a float32 scalar; numpy's row is a plain
                       Python loop on np.float32, timed on fewer iterations and scaled (the table says by how much)
    call_overhead      one call of a compiled f(x, y) = x + y on float32[8], per call (numpy: x + y)
    first_call         the first call (trace + compile + run) of a fresh 20-op elementwise function, disk cache off
    mlp_first_call     the first call (trace + autodiff + compile + run) of a fresh mlp_step at batch 32, cache off
    cache_hit          the first call of the 20-op function in a fresh process whose disk cache another process filled

Method: every implementation's result is checked against an independent reference before it is timed (a wrong
answer is reported as FAILED, never timed). Warm-up calls (which compile) are excluded. Each of `--repeats` runs
makes enough calls to last a few tens of milliseconds; the table gives the median and the minimum time per call
over the runs, and `x numpy` = numpy's median / this row's median (above 1: faster than numpy; "1/N": N times
slower). first_call, mlp_first_call and cache_hit run in subprocesses, one fresh function (from a fresh module file)
per repeat (benchmarks/compile_time.py).
`--quick` uses tiny sizes and one repeat: it checks that everything runs, and its timings mean nothing.
The process exits with status 1 when a Kiln row failed (an error or a wrong result), else 0.
"""
from __future__ import annotations

import argparse
import atexit
import dataclasses
import gc
import glob
import importlib.util
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import timeit
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout without installing
sys.path.insert(0, str(Path(__file__).resolve().parent))
import engine  # noqa: E402
import peers as peer_lib  # noqa: E402

sys.modules.setdefault("run", sys.modules[__name__])  # compile_time.py's `from run import ...` finds this module

WORKLOADS = ["fused_elementwise", "reduce_sum", "reduce_max", "softmax", "matmul", "dense_relu", "mlp_step_32",
             "mlp_step_256", "while_loop", "call_overhead", "first_call", "mlp_first_call", "cache_hit"]
COMPILE_TIME = ("first_call", "mlp_first_call", "cache_hit")  # run by benchmarks/compile_time.py
MLP_BATCH = {"mlp_step_32": 32, "mlp_step_256": 256}
PEER_KERNEL = {"mlp_step_32": "mlp_step", "mlp_step_256": "mlp_step"}  # peers.py's kernel name, where it differs
UNITS = {"call_overhead": "µs"}  # everything else in ms

FULL = dict(elementwise=1 << 22, reduce=1 << 24, softmax=(4096, 1024), matmul=1024, dense=(256, 784, 128),
            mlp=(784, 128, 10), mlp_first_batch=32, loop=10_000_000, loop_python=200_000, call=8, f20=1024)
QUICK = dict(elementwise=4096, reduce=1 << 14, softmax=(16, 64), matmul=64, dense=(8, 32, 16),
             mlp=(16, 8, 10), mlp_first_batch=32, loop=1000, loop_python=1000, call=8, f20=64)


@dataclasses.dataclass
class Config:
    sizes: dict
    repeats: int
    warmup: int
    min_run: float  # seconds each timed run should last at least


@dataclasses.dataclass
class Row:
    workload: str
    impl: str
    median: Optional[float] = None  # seconds per call; None: not timed (see status)
    low: Optional[float] = None
    status: str = ""                # "", "n/a", "FAILED"
    notes: list[int] = dataclasses.field(default_factory=list)


class Notes:
    """Footnotes under the table; identical texts share a number."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def add(self, text: str) -> int:
        if text not in self.texts:
            self.texts.append(text)
        return self.texts.index(text) + 1


# ---- timing and checking ---------------------------------------------------------------------------------------------
def measure(fn: Callable[..., Any], args: tuple, cfg: Config) -> tuple[float, float]:
    """(median, min) seconds per call of fn(*args), after cfg.warmup calls."""
    names = [f"a{i}" for i in range(len(args))]
    timer = timeit.Timer(f"fn({', '.join(names)})", globals={"fn": fn, **dict(zip(names, args))})
    for _ in range(cfg.warmup):
        fn(*args)
    one = timer.timeit(1)
    number = max(1, min(1_000_000, int(cfg.min_run / max(one, 1e-9))))
    runs = [timer.timeit(number) / number for _ in range(cfg.repeats)]
    return statistics.median(runs), min(runs)


def mismatch(got: Any, expected: np.ndarray, tol: Any) -> Optional[str]:
    """None when |got - expected| <= tol everywhere (same shape, no NaN), else what is wrong."""
    got = np.asarray(got)
    if got.shape != expected.shape:
        return f"shape {got.shape}, expected {expected.shape}"
    err = np.abs(got.astype(np.float64) - expected)
    bad = ~(err <= tol)
    if bad.any():
        i = tuple(int(k) for k in np.unravel_index(int(np.argmax(np.where(bad, np.nan_to_num(err, nan=np.inf),
                                                                           -1.0))), err.shape))
        return (f"wrong result: {bad.sum()} of {bad.size} elements off (at {list(i)}: {float(got[i])!r}, "
                f"expected {float(expected[i])!r})")
    return None


def flatten(result: Any, to_numpy: Callable[[Any], np.ndarray]) -> np.ndarray:
    """A result as one array: a tuple of outputs (the MLP step's) becomes their flattened concatenation."""
    if isinstance(result, (tuple, list)):
        return np.concatenate([np.ravel(to_numpy(r)).astype(np.float64) for r in result])
    return to_numpy(result)


# ---- functions from generated module files (AutoGraph reads their source) -------------------------------------------
def write_module(directory: str, name: str, source: str) -> str:
    path = os.path.join(directory, f"{name}.py")
    with open(path, "w") as f:
        f.write(source)
    return path


def load_module(path: str) -> Any:
    name = Path(path).stem
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


_scratch: list[str] = []


def scratch_dir() -> str:
    """A directory for generated modules that lives as long as this process."""
    if not _scratch:
        _scratch.append(tempfile.mkdtemp(prefix="kiln-bench-"))
        atexit.register(shutil.rmtree, _scratch[0], True)
    return _scratch[0]


# ---- the MLP training step -------------------------------------------------------------------------------------------
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


# ---- the kernel workloads: inputs, reference, tolerance, numpy and Kiln ----------------------------------------------
def make_inputs(name: str, s: dict, rng: np.random.Generator) -> dict:
    f32 = np.float32
    if name == "fused_elementwise":
        return {"x": rng.standard_normal(s["elementwise"], dtype=f32), "a": f32(0.7), "b": f32(0.1)}
    if name == "reduce_sum":  # multiples of 1/4 in [-2, 2]: float32 sums of them are exact in any order
        return {"x": (rng.integers(-8, 9, s["reduce"]) * 0.25).astype(f32)}
    if name == "reduce_max":
        return {"x": rng.standard_normal(s["reduce"], dtype=f32)}
    if name == "softmax":
        return {"x": 3 * rng.standard_normal(s["softmax"], dtype=f32)}
    if name == "matmul":
        n = s["matmul"]
        return {"a": rng.standard_normal((n, n), dtype=f32), "b": rng.standard_normal((n, n), dtype=f32)}
    if name == "dense_relu":
        m, k, n = s["dense"]
        return {"x": rng.standard_normal((m, k), dtype=f32), "w": rng.standard_normal((k, n), dtype=f32) / 28,
                "b": rng.standard_normal(n, dtype=f32)}
    if name in MLP_BATCH:
        return mlp_inputs(s["mlp"], MLP_BATCH[name], rng)
    if name == "while_loop":
        return {"x0": f32(0.5), "n": s["loop"], "n_python": s["loop_python"]}
    if name == "call_overhead":
        return {"x": np.linspace(0.5, 1.5, s["call"], dtype=f32), "y": np.linspace(-1, 1, s["call"], dtype=f32)}
    raise KeyError(name)


def python_relax(x0: np.float32, n: int) -> np.float32:
    keep, step = np.float32(0.999), np.float32(0.001)
    x = x0
    for _ in range(n):
        x = x * keep + step * np.cos(x)
    return x


def reference(name: str, d: dict) -> tuple[np.ndarray, Any]:
    """(expected result in float64, allowed absolute error per element)."""
    if name == "fused_elementwise":
        x = d["x"].astype(np.float64)
        want = np.tanh(x * float(d["a"]) + float(d["b"])) * np.exp(-x * x)
        return want, 1e-5 * np.abs(want) + 1e-6
    if name == "reduce_sum":
        return np.array(d["x"].astype(np.float64).sum()), 0.0
    if name == "reduce_max":
        return np.array(float(d["x"].max())), 0.0
    if name == "softmax":
        x = d["x"].astype(np.float64)
        e = np.exp(x - x.max(-1, keepdims=True))
        want = e / e.sum(-1, keepdims=True)
        return want, 1e-5 * want + 1e-9
    if name == "matmul":
        a, b = d["a"].astype(np.float64), d["b"].astype(np.float64)
        return a @ b, 1e-5 * (np.abs(a) @ np.abs(b)) + 1e-6
    if name == "dense_relu":
        x, w, b = (d[k].astype(np.float64) for k in ("x", "w", "b"))
        return np.maximum(x @ w + b, 0.0), 1e-5 * (np.abs(x) @ np.abs(w) + np.abs(b)) + 1e-6
    if name in MLP_BATCH:
        return mlp_reference(d)
    if name == "while_loop":  # the full count and the Python count both converge when they differ (see FULL)
        want = np.array(float(python_relax(d["x0"], d["n_python"])))
        return want, 1e-5 * abs(float(want))
    if name == "call_overhead":
        return (d["x"] + d["y"]).astype(np.float64), 0.0
    raise KeyError(name)


def numpy_kernel(name: str, d: dict) -> tuple[Callable[..., Any], tuple]:
    if name == "fused_elementwise":
        return (lambda x, a, b: np.tanh(x * a + b) * np.exp(-x * x)), (d["x"], d["a"], d["b"])
    if name == "reduce_sum":
        return np.sum, (d["x"],)
    if name == "reduce_max":
        return np.max, (d["x"],)
    if name == "softmax":
        def softmax(x: np.ndarray) -> np.ndarray:
            e = np.exp(x - x.max(axis=-1, keepdims=True))
            return e / e.sum(axis=-1, keepdims=True)
        return softmax, (d["x"],)
    if name == "matmul":
        return np.matmul, (d["a"], d["b"])
    if name == "dense_relu":
        return (lambda x, w, b: np.maximum(x @ w + b, np.float32(0))), (d["x"], d["w"], d["b"])
    if name in MLP_BATCH:
        return numpy_mlp_step, tuple(d[k] for k in MLP_ARGS) + (d["lr"],)
    if name == "while_loop":
        return python_relax, (d["x0"], d["n_python"])
    if name == "call_overhead":
        return np.add, (d["x"], d["y"])
    raise KeyError(name)


def kiln_kernel(name: str, d: dict) -> tuple[Callable[..., Any], tuple]:
    tf, T = engine, engine.constant
    if name == "fused_elementwise":
        @tf.function
        def fused(x, a, b):
            return tf.tanh(x * a + b) * tf.exp(-x * x)
        return fused, (T(d["x"]), T(d["a"]), T(d["b"]))
    if name == "reduce_sum":
        @tf.function
        def total(x):
            return tf.reduce_sum(x)
        return total, (T(d["x"]),)
    if name == "reduce_max":
        @tf.function
        def largest(x):
            return tf.reduce_max(x)
        return largest, (T(d["x"]),)
    if name == "softmax":
        @tf.function
        def softmax(x):
            e = tf.exp(x - tf.reduce_max(x, axis=-1, keepdims=True))
            return e / tf.reduce_sum(e, axis=-1, keepdims=True)
        return softmax, (T(d["x"]),)
    if name == "matmul":
        @tf.function
        def matmul(a, b):
            return tf.matmul(a, b)
        return matmul, (T(d["a"]), T(d["b"]))
    if name == "dense_relu":
        @tf.function
        def dense(x, w, b):
            return tf.nn.relu(tf.matmul(x, w) + b)
        return dense, (T(d["x"]), T(d["w"]), T(d["b"]))
    if name in MLP_BATCH:
        module = load_module(write_module(scratch_dir(), f"kiln_{name}", mlp_source()))
        return module.train_step, tuple(T(d[k]) for k in MLP_ARGS)
    if name == "while_loop":
        @tf.function
        def relax(x, n):
            _, x = tf.while_loop(lambda i, x: i < n, lambda i, x: (i + 1, x * 0.999 + 0.001 * tf.cos(x)),
                                 [tf.constant(0), x])
            return x
        return relax, (T(d["x0"]), T(np.int32(d["n"])))
    if name == "call_overhead":
        @tf.function
        def add(x, y):
            return x + y
        return add, (T(d["x"]), T(d["y"]))
    raise KeyError(name)


def run_kernel_workload(name: str, cfg: Config, peers: list, notes: Notes) -> list[Row]:
    d = make_inputs(name, cfg.sizes, np.random.default_rng(0))
    want, tol = reference(name, d)
    impls: list[tuple[str, Callable[[], Any], Callable[[Any], np.ndarray], bool]] = [
        (f"numpy {np.__version__}", lambda: numpy_kernel(name, d), np.asarray, False),
        (f"kiln {engine.__version__}", lambda: kiln_kernel(name, d), lambda r: r.numpy(), False)]
    for p in peers:
        impls.append((p.name, lambda p=p: p.kernel(PEER_KERNEL.get(name, name), d), p.to_numpy, True))
    rows = []
    for label, build, to_numpy, is_peer in impls:
        row = Row(name, label)
        try:
            built = build()
            if built is None:  # a peer without this workload
                peer = next(p for p in peers if p.name == label)
                why = peer.skipped.get(PEER_KERNEL.get(name, name), "not available")
                notes_id = notes.add(f"{label}: {name} skipped ({why})")
                rows.append(Row(name, label, status="skipped", notes=[notes_id]))
                continue
            fn, args = built
            problem = mismatch(flatten(fn(*args), to_numpy), want, tol)  # the first call compiles
            if problem is None:
                row.median, row.low = measure(fn, args, cfg)
            else:
                row.status = "FAILED"
                row.notes.append(notes.add(f"{label}: {name}: {problem}"))
        except Exception as e:
            row.status = "FAILED"
            row.notes.append(notes.add(f"{label}: {name}: {peer_lib.describe_error(e)}"))
        if row.status == "FAILED" and is_peer:
            row.status = "skipped"  # a peer's failure is a footnote, not Kiln's failure
        rows.append(row)
        progress(row)
    if name == "while_loop":
        scale = d["n"] / d["n_python"]
        if scale != 1 and rows[0].median is not None:
            rows[0].median, rows[0].low = rows[0].median * scale, rows[0].low * scale  # type: ignore[operator]
        how = f"{d['n_python']:,} iterations timed and scaled x{scale:g} to {d['n']:,}" if scale != 1 else \
            f"all {d['n']:,} iterations timed"
        rows[0].notes.append(notes.add(f"while_loop numpy: a plain Python loop on np.float32, {how}"))
    return rows


# ---- output ----------------------------------------------------------------------------------------------------------
def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def blas_threads() -> str:
    import ctypes
    base = os.path.dirname(os.path.dirname(np.__file__))
    for path in glob.glob(os.path.join(base, "numpy.libs", "*openblas*")):
        lib = ctypes.CDLL(path)
        for symbol in ("scipy_openblas_get_num_threads64_", "openblas_get_num_threads64_", "openblas_get_num_threads"):
            if hasattr(lib, symbol):
                return str(getattr(lib, symbol)())
    return "?"


def kiln_threads() -> str:
    """Threads Kiln splits large kernels across (KILN_NUM_THREADS, else the cores), when this checkout has them."""
    try:
        from codegen import runtime
        return str(runtime.num_threads())
    except (ImportError, AttributeError):
        return "1"


def machine_line(load_before: tuple) -> str:
    import llvmlite
    import llvmlite.binding as llvm
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load_after = os.getloadavg()
    return (f"machine: {cpu_name()} (LLVM host cpu {llvm.get_host_cpu_name()}), {os.cpu_count()} cores "
            f"({usable} usable); Python {platform.python_version()}; numpy {np.__version__}; "
            f"llvmlite {llvmlite.__version__} (LLVM {'.'.join(map(str, llvm.llvm_version_info))}); "
            f"kiln {engine.__version__}; OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', 'unset')}; "
            f"OpenBLAS threads {blas_threads()}; kiln threads {kiln_threads()}; "
            f"1-min load average {load_before[0]:.2f} at start, {load_after[0]:.2f} at end")


def fmt_time(seconds: Optional[float], unit: str) -> str:
    if seconds is None:
        return ""
    value = seconds * (1e6 if unit == "µs" else 1e3)
    return f"{value:.3f} {unit}" if value < 100 else f"{value:.1f} {unit}"


def fmt_ratio(r: float) -> str:
    if r >= 100:
        return f"{r:.0f}x"
    if r >= 0.1:
        return f"{r:.2f}x"
    return f"1/{1 / r:,.0f}x"


def progress(row: Row) -> None:
    unit = UNITS.get(row.workload, "ms")
    print(f"  {row.workload:<18} {row.impl:<22} {fmt_time(row.median, unit) or row.status}", file=sys.stderr,
          flush=True)


def size_label(name: str, s: dict) -> str:
    def count(n: int) -> str:
        return f"{n >> 20}M" if n >= 1 << 20 and n % (1 << 20) == 0 else f"{n:,}"
    return {"fused_elementwise": f"{count(s['elementwise'])} f32", "reduce_sum": f"{count(s['reduce'])} f32",
            "reduce_max": f"{count(s['reduce'])} f32", "softmax": "{}x{} f32".format(*s["softmax"]),
            "matmul": f"{s['matmul']}^3 f32", "dense_relu": "{0}x{1}@{1}x{2}".format(*s["dense"]),
            "while_loop": f"{count(s['loop'])} iters", "call_overhead": f"f32[{s['call']}]/call",
            "mlp_step_32": "{}-{}-{}, batch 32".format(*s["mlp"]),
            "mlp_step_256": "{}-{}-{}, batch 256".format(*s["mlp"]),
            "mlp_first_call": f"step, batch {s['mlp_first_batch']}",
            "first_call": f"20 ops f32[{s['f20']}]", "cache_hit": "fresh process"}[name]


def print_table(rows: list[Row], cfg: Config, notes: Notes, machine: str) -> None:
    header = ["workload", "impl", "median", "min", "x numpy", "notes"]
    lines = []
    for name in dict.fromkeys(r.workload for r in rows):
        group = [r for r in rows if r.workload == name]
        base = next((r.median for r in group if r.impl.startswith("numpy")), None)
        unit = UNITS.get(name, "ms")
        for i, r in enumerate(group):
            first = name if i == 0 else size_label(name, cfg.sizes) if i == 1 else ""
            ratio = fmt_ratio(base / r.median) if base and r.median else ""
            lines.append([first, r.impl, fmt_time(r.median, unit) or r.status, fmt_time(r.low, unit), ratio,
                          " ".join(f"[{k}]" for k in r.notes)])
    widths = [max(len(str(x)) for x in col) for col in zip(header, *lines)]
    right = {2, 3, 4}

    def fmt(cells: list[str]) -> str:
        return "  ".join(c.rjust(w) if j in right else c.ljust(w) for j, (c, w) in enumerate(zip(cells, widths)))
    print()
    print(machine)
    print(f"{cfg.repeats} timed run(s) per row after {cfg.warmup} warm-up call(s); median and min per call; "
          f"x numpy = numpy median / row median (above 1 is faster than numpy)")
    print()
    print(fmt(header).rstrip())
    print("-" * len(fmt(header)))
    for cells in lines:
        if cells[0] and cells[0] in WORKLOADS and lines.index(cells) > 0:
            print()
        print(fmt(cells).rstrip())
    if notes.texts:
        print()
        for k, text in enumerate(notes.texts, 1):
            print(f"[{k}] {text}")


# ---- main ------------------------------------------------------------------------------------------------------------
def parse_args(argv: Optional[list[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes and 1 repeat (a smoke test)")
    parser.add_argument("--only", default="", help="comma-separated workload names (default: all)")
    parser.add_argument("--repeats", type=int, default=None, help="timed runs per row (default 7; --quick: 1)")
    parser.add_argument("--peers", default="all", help="all, none, or a comma-separated subset of "
                        + ",".join(peer_lib.PEERS))
    for hidden in ("--child", "--impl", "--import-line", "--module", "--workdir"):
        parser.add_argument(hidden, help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--layers", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Optional[list[str]] = None) -> int:
    args = parse_args(argv)
    if args.child:
        import compile_time
        print(json.dumps(compile_time.CHILDREN[args.child](args)))
        return 0
    load_before = os.getloadavg()
    only = [w.strip() for w in args.only.split(",") if w.strip()] or WORKLOADS
    unknown = [w for w in only if w not in WORKLOADS]
    if unknown:
        print(f"unknown workload(s) {', '.join(unknown)}; choose from {', '.join(WORKLOADS)}", file=sys.stderr)
        return 2
    repeats = args.repeats if args.repeats is not None else 1 if args.quick else 7
    cfg = Config(QUICK if args.quick else FULL, max(1, repeats), 1 if args.quick else 2,
                 0.001 if args.quick else 0.05)
    wanted = None if args.peers == "all" else set() if args.peers == "none" else set(args.peers.split(","))
    if wanted and not wanted <= set(peer_lib.PEERS):
        print(f"unknown peer(s) {', '.join(sorted(wanted - set(peer_lib.PEERS)))}; choose from "
              f"{', '.join(peer_lib.PEERS)}", file=sys.stderr)
        return 2
    peers = peer_lib.load_peers(wanted)
    print(f"peers found: {', '.join(p.name for p in peers) or 'none'}", file=sys.stderr)
    notes = Notes()
    rows: list[Row] = []
    for name in [w for w in WORKLOADS if w in only]:
        print(f"{name} ...", file=sys.stderr, flush=True)
        if name in COMPILE_TIME:
            import compile_time
            rows += compile_time.RUNNERS[name](cfg, peers, notes)
        else:
            rows += run_kernel_workload(name, cfg, peers, notes)
        gc.collect()
    print_table(rows, cfg, notes, machine_line(load_before))
    failed = [r for r in rows if r.status == "FAILED"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
