"""What every benchmark workload shares: the `Workload` record, the timing and checking, and the generic runner.

A workload is one `Workload` record (benchmarks/workloads.py, benchmarks/compile_time.py): its inputs, its float64
reference, and its numpy, Kiln and peers' versions side by side. `run_kernel_workload` reads a record and never
names a workload: it builds every version, checks its result against the reference (a wrong answer is FAILED, never
timed), then times it. Workloads that need their own procedure (compile times, in fresh processes) give `run`.
"""
from __future__ import annotations

import atexit
import dataclasses
import importlib.util
import os
import shutil
import statistics
import sys
import tempfile
import timeit
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np

# (fn, args): the benchmark times fn(*args); converting inputs happens once, when the pair is built.
Built = tuple[Callable[..., Any], tuple]


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
    status: str = ""                # "", "n/a", "skipped", "FAILED"
    notes: list[int] = dataclasses.field(default_factory=list)


class Notes:
    """Footnotes under the table; identical texts share a number."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def add(self, text: str) -> int:
        if text not in self.texts:
            self.texts.append(text)
        return self.texts.index(text) + 1


@dataclasses.dataclass(frozen=True)
class Workload:
    """One benchmark, everything about it in one place. Adding a workload is adding one of these to a list.

    `inputs(sizes, rng)` makes the inputs (a dict of numpy values) that every version receives; `reference(inputs)`
    gives the expected result in float64 and the allowed absolute error per element; `numpy(inputs)` and
    `kiln(inputs)` build `(fn, args)`; `peers` maps a peer's key (benchmarks/peers.py) to `(peer, inputs) ->
    (fn, args)`, and `skip` a peer's key to why it has no version. `adjust(rows, inputs, notes)` may correct the
    rows after timing. A workload with its own procedure gives `run(workload, config, peers, notes)` instead.
    """

    name: str
    about: str                                  # one line for --help
    size: Callable[[dict], str]                 # the size column of the table, from the config's sizes
    inputs: Optional[Callable[[dict, np.random.Generator], dict]] = None
    reference: Optional[Callable[[dict], tuple[np.ndarray, Any]]] = None
    numpy: Optional[Callable[[dict], Built]] = None
    kiln: Optional[Callable[[dict], Built]] = None
    peers: dict[str, Callable[[Any, dict], Built]] = dataclasses.field(default_factory=dict)
    skip: dict[str, str] = dataclasses.field(default_factory=dict)
    unit: str = "ms"                            # "ms" or "µs" per call
    adjust: Optional[Callable[[list[Row], dict, Notes], None]] = None
    run: Optional[Callable[["Workload", Config, list, Notes], list[Row]]] = None


# ---- timing and checking ---------------------------------------------------------------------------------------------
def _steady() -> None:
    """Waits for Kiln's background O3 builds (codegen.tiers): steady state is the O3 code's, with no compile beside."""
    tiers = sys.modules.get("codegen.tiers")
    if tiers is not None:
        tiers.wait()


def timer(fn: Callable[..., Any], args: tuple) -> timeit.Timer:
    names = [f"a{i}" for i in range(len(args))]
    return timeit.Timer(f"fn({', '.join(names)})", globals={"fn": fn, **dict(zip(names, args))})


def measure(fn: Callable[..., Any], args: tuple, cfg: Config) -> tuple[float, float]:
    """(median, min) seconds per call of fn(*args), after cfg.warmup calls (one implementation alone)."""
    for _ in range(cfg.warmup):
        fn(*args)
    _steady()
    return measure_together([(fn, args)], cfg)[0]


def measure_together(built: list[Built], cfg: Config) -> list[tuple[float, float]]:
    """(median, min) seconds per call of each warmed-up fn(*args), their timed runs interleaved: run r times every
    implementation once, starting from the r-th, so that a change in the machine's load (other jobs on the shared
    cores), the threads another library leaves spinning after its calls, or what its last call left in the caches
    fall on every implementation alike instead of on whichever was timed then. Each run makes enough calls to
    last cfg.min_run."""
    timers = [timer(fn, args) for fn, args in built]
    numbers = [max(1, min(1_000_000, int(cfg.min_run / max(t.timeit(1), 1e-9)))) for t in timers]
    runs: list[list[float]] = [[] for _ in timers]
    for r in range(cfg.repeats):
        for j in range(len(timers)):
            i = (r + j) % len(timers)
            runs[i].append(timers[i].timeit(numbers[i]) / numbers[i])
    return [(statistics.median(times), min(times)) for times in runs]


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


def progress(row: Row, unit: str = "ms") -> None:
    print(f"  {row.workload:<18} {row.impl:<22} {fmt_time(row.median, unit) or row.status}", file=sys.stderr,
          flush=True)


def fmt_time(seconds: Optional[float], unit: str) -> str:
    if seconds is None:
        return ""
    value = seconds * (1e6 if unit == "µs" else 1e3)
    return f"{value:.3f} {unit}" if value < 100 else f"{value:.1f} {unit}"


def describe_error(e: BaseException) -> str:
    """`Type: first line of the message`, short enough for a footnote."""
    lines = str(e).strip().splitlines()
    return f"{type(e).__name__}: {lines[0][:160]}" if lines else type(e).__name__


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


# ---- the generic runner ----------------------------------------------------------------------------------------------
def run_kernel_workload(w: Workload, cfg: Config, peers: list, notes: Notes) -> list[Row]:
    """numpy, Kiln and every peer on the same inputs: each built, checked against the reference and warmed up, then
    all timed together (`measure_together`)."""
    import engine
    assert w.inputs and w.reference and w.numpy and w.kiln, f"{w.name} needs inputs, reference, numpy and kiln"
    d = w.inputs(cfg.sizes, np.random.default_rng(0))
    want, tol = w.reference(d)
    impls: list[tuple[str, Callable[[], Optional[Built]], Callable[[Any], np.ndarray], Any]] = [
        (f"numpy {np.__version__}", lambda: w.numpy(d), np.asarray, None),    # type: ignore[misc]
        (f"kiln {engine.__version__}", lambda: w.kiln(d), lambda r: r.numpy(), None)]   # type: ignore[misc]
    for p in peers:
        impls.append((p.name, lambda p=p: p.kernel(w, d), p.to_numpy, p))
    rows, timed = [], []
    for label, build, to_numpy, peer in impls:
        row = Row(w.name, label)
        rows.append(row)
        try:
            built = build()
            if built is None:  # a peer without this workload
                why = peer.skipped.get(w.name, "not available")
                row.status, row.notes = "skipped", [notes.add(f"{label}: {w.name} skipped ({why})")]
                continue
            fn, args = built
            problem = mismatch(flatten(fn(*args), to_numpy), want, tol)  # the first call compiles
            if problem is None:
                for _ in range(cfg.warmup):
                    fn(*args)
                timed.append((row, built))
            else:
                row.status = "FAILED"
                row.notes.append(notes.add(f"{label}: {w.name}: {problem}"))
        except Exception as e:
            row.status = "FAILED"
            row.notes.append(notes.add(f"{label}: {w.name}: {describe_error(e)}"))
        if row.status == "FAILED" and peer is not None:
            row.status = "skipped"  # a peer's failure is a footnote, not Kiln's failure
    _steady()
    for (row, _), (median, low) in zip(timed, measure_together([b for _, b in timed], cfg)):
        row.median, row.low = median, low
    for row in rows:
        progress(row, w.unit)
    if w.adjust is not None:
        w.adjust(rows, d, notes)
    return rows


def run_workload(w: Workload, cfg: Config, peers: list, notes: Notes) -> list[Row]:
    return (w.run or run_kernel_workload)(w, cfg, peers, notes)
