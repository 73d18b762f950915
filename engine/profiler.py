"""`engine.profiler`: where the time of compiled functions goes, per function and per kernel inside it.

    >>> import engine as tf
    >>> @tf.function
    ... def f(x, y):
    ...     return tf.reduce_sum(x * y)
    >>> x = tf.ones([1000])
    >>> with tf.profiler.profile() as p:
    ...     for _ in range(3):
    ...         _ = f(x, x)
    >>> p.functions[0].calls, p.functions[0].kernels[0].runs
    (3, 3)

While a `profile()` records, every call of a compiled function runs a variant of its native code compiled with
timers around each kernel (codegen.profile; compiled once per function and cached on disk apart from the normal
build, which carries no timers), and reports: calls and wall time per function (allocation and the native call),
and per kernel its runs, time, bytes moved and floating-point operations, hence GB/s and GFLOP/s next to the
machine's measured peaks (`codegen.peaks.peaks()`, one core). Eager ops are counted with the bytes of their
results (they are numpy calls; their time is not measured). Calls recorded on a GradientTape run the function's
forward-and-backward code (engine.call_gradient) and are not profiled. `p.table()` (also `print(p)`) gives the table,
`p.export_chrome_trace(path)` a Chrome trace (JSON, for Perfetto or chrome://tracing): one slice per call, its kernels
as slices inside it, laid end to end from the call's start (their order and durations are measured, their exact
start times are not).

`KILN_PROFILE=1` profiles the whole process and prints the table to stderr at exit (`KILN_PROFILE=trace.json` also
writes the trace there). `start()` / `stop()` are the same as entering and leaving `profile()`.
"""
from __future__ import annotations

import atexit
import json
import os
import sys
import threading
import time
from typing import Any, Optional

import numpy as np

from engine import dispatch, fastcall

__all__ = ["profile", "Profile", "start", "stop"]


class KernelStats:
    """One kernel of a function: what it is (codegen.profile.KernelInfo), how often it ran and for how long."""

    def __init__(self, info: Any) -> None:
        self.info = info
        self.runs = 0
        self.ns = 0

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def bytes(self) -> int:
        """Bytes moved in all runs."""
        return self.info.bytes * self.runs

    @property
    def flops(self) -> int:
        return self.info.flops * self.runs


class FunctionStats:
    """One compiled (concrete) function: its calls, their wall time, and its kernels."""

    def __init__(self, name: str, kernels: list[Any]) -> None:
        self.name = name
        self.calls = 0
        self.ns = 0
        self.kernels = [KernelStats(k) for k in kernels]

    @property
    def bytes(self) -> int:
        return sum(k.bytes for k in self.kernels)

    @property
    def flops(self) -> int:
        return sum(k.flops for k in self.kernels)


class EagerStats:
    """One eager op: how many times it ran and the bytes of its results."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.calls = 0
        self.bytes = 0


class Profile:
    """What one profiling session recorded (see the module doc); `functions` in order of first call."""

    def __init__(self) -> None:
        self.functions: list[FunctionStats] = []
        self.eager: dict[str, EagerStats] = {}
        self.events: list[dict[str, Any]] = []
        self._by_concrete: dict[int, tuple[Any, FunctionStats]] = {}
        self._lock = threading.Lock()
        self._chained: Any = None
        self.start_ns = time.perf_counter_ns()
        self.wall_ns = 0

    # ---- recording
    def run(self, concrete: Any, inputs: list[Any]) -> Any:
        """Runs one call of `concrete` (its arrays, then its Variables' cells) on its profiling variant."""
        entry = self._by_concrete.get(id(concrete))
        if entry is None:
            variant = _profiling_variant(concrete)  # compiled outside the lock, before the first call is timed
            with self._lock:
                entry = self._by_concrete.get(id(concrete))
                if entry is None:
                    entry = self._by_concrete[id(concrete)] = (concrete, self._stats_for(concrete, variant))
        stats = entry[1]
        variant = _profiling_variant(concrete)
        n = len(inputs) - len(concrete.variables)
        t0 = time.perf_counter_ns()
        try:
            if variant is None:  # a function run by the interpreter: timed as a whole
                from ir.interp import run
                outs = run(concrete.optimized_ir, inputs)
            else:
                outs = concrete._run_native(variant, list(inputs[:n]))
        finally:
            t1 = time.perf_counter_ns()
            counters = variant.take_counters() if variant is not None else np.zeros((0, 2), np.int64)
            self._record(stats, t0, t1, counters)
        return concrete._pack(outs)

    def _stats_for(self, concrete: Any, variant: Any) -> FunctionStats:
        """A new row for `concrete` (call with the lock held)."""
        types = ", ".join(f"{p.type.dtype.short}{list(p.type.shape)}" for p in concrete.ir.params)
        stats = FunctionStats(f"{concrete.name}({types})", variant.lowered.kernels if variant is not None else [])
        self.functions.append(stats)
        return stats

    def _record(self, stats: FunctionStats, t0: int, t1: int, counters: np.ndarray) -> None:
        tid = threading.get_ident()
        with self._lock:
            stats.calls += 1
            stats.ns += t1 - t0
            self.events.append({"name": stats.name, "cat": "function", "ph": "X", "ts": (t0 - self.start_ns) / 1e3,
                                "dur": (t1 - t0) / 1e3, "pid": os.getpid(), "tid": tid})
            at = t0
            for k, (ns, runs) in zip(stats.kernels, counters.tolist()):
                k.ns += ns
                k.runs += runs
                if runs:
                    self.events.append({"name": k.name, "cat": "kernel", "ph": "X", "ts": (at - self.start_ns) / 1e3,
                                        "dur": ns / 1e3, "pid": os.getpid(), "tid": tid,
                                        "args": {"runs": runs, "bytes": k.info.bytes * runs,
                                                 "flops": k.info.flops * runs, "ops": list(k.info.ops),
                                                 "where": k.info.loc}})
                    at += ns

    def _eager_op(self, opdef: Any, results: tuple, traced: bool) -> None:
        if self._chained is not None:
            self._chained(opdef, results, traced)
        if traced:
            return
        with self._lock:
            stats = self.eager.get(opdef.name)
            if stats is None:
                stats = self.eager[opdef.name] = EagerStats(opdef.name)
            stats.calls += 1
            stats.bytes += sum(getattr(r._value, "nbytes", 0) for r in results if r is not None)

    # ---- starting and stopping
    def __enter__(self) -> "Profile":
        if fastcall.PROFILING:
            raise RuntimeError("engine.profiler: a profile is already recording")
        self.start_ns = time.perf_counter_ns()
        self._chained = dispatch.after_op
        dispatch.after_op = self._eager_op
        fastcall.PROFILING.append(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        fastcall.PROFILING.remove(self)
        if dispatch.after_op == self._eager_op:
            dispatch.after_op = self._chained
        self.wall_ns = time.perf_counter_ns() - self.start_ns

    # ---- output
    def table(self, peaks: Optional[Any] = None) -> str:
        """The table: per function (calls, total and mean time) and per kernel under it (runs, time, KB moved per
        run, GB/s and GFLOP/s with their share of the measured peaks); eager ops after."""
        from codegen.peaks import peaks as measured_peaks
        pk = peaks or measured_peaks()
        head = ["function / kernel", "calls", "total ms", "mean µs", "KB/run", "GB/s", "%bw", "GFLOP/s", "%flop",
                "where"]
        rows: list[list[str]] = []
        for f in sorted(self.functions, key=lambda f: -f.ns):
            rows.append([f.name, str(f.calls), f"{f.ns / 1e6:.3f}", f"{f.ns / 1e3 / max(f.calls, 1):.2f}", "",
                         *_rates(f.bytes, f.flops, f.ns, pk), ""])
            for k in sorted(f.kernels, key=lambda k: -k.ns):
                label = f"  {k.name}" + (f" [{', '.join(k.info.ops)}]" if k.info.ops else "")
                rows.append([label, str(k.runs), f"{k.ns / 1e6:.3f}", f"{k.ns / 1e3 / max(k.runs, 1):.2f}",
                             f"{k.info.bytes / 1e3:.1f}", *_rates(k.bytes, k.flops, k.ns, pk), k.info.loc or ""])
        for e in sorted(self.eager.values(), key=lambda e: -e.calls):
            rows.append([f"eager {e.name}", str(e.calls), "", "", f"{e.bytes / max(e.calls, 1) / 1e3:.1f}", "", "",
                         "", "", ""])
        widths = [max(len(r[i]) for r in [head] + rows) for i in range(len(head))]
        left = {0, len(head) - 1}

        def line(cells: list[str]) -> str:
            return "  ".join(c.ljust(w) if i in left else c.rjust(w)
                             for i, (c, w) in enumerate(zip(cells, widths))).rstrip()
        out = [f"peaks (one core): {pk.gbytes_per_s:.1f} GB/s streaming copy, {pk.gflops_per_s:.1f} GFLOP/s "
               f"vector FMA", line(head), "-" * len(line(head))]
        return "\n".join(out + [line(r) for r in rows])

    def __str__(self) -> str:
        return self.table()

    def chrome_trace(self) -> dict[str, Any]:
        """The Chrome trace event format (JSON object form)."""
        return {"traceEvents": list(self.events), "displayTimeUnit": "ns",
                "otherData": {"producer": "engine.profiler"}}

    def export_chrome_trace(self, path: str) -> None:
        """Writes the trace as JSON: open it in Perfetto (ui.perfetto.dev) or chrome://tracing."""
        with open(path, "w") as f:
            json.dump(self.chrome_trace(), f)


def _rates(nbytes: int, flops: int, ns: int, pk: Any) -> list[str]:
    if ns <= 0:
        return ["", "", "", ""]
    gbs, gflops = nbytes / ns, flops / ns  # bytes per ns = GB/s
    return [f"{gbs:.2f}", f"{100 * gbs / pk.gbytes_per_s:.0f}", f"{gflops:.2f}" if flops else "",
            f"{100 * gflops / pk.gflops_per_s:.0f}" if flops else ""]


def _profiling_variant(concrete: Any) -> Any:
    """The concrete function's native code with kernel timers (compiled on first use), or None (interpreted)."""
    variant = concrete.__dict__.get("_profiled")
    if variant is None and concrete.compiled is not None:
        from codegen.runtime import compile_function
        variant = compile_function(lambda: concrete.optimized_ir, source=concrete.ir, profile=True)
        concrete._profiled = variant
    return variant


def profile() -> Profile:
    """A profiling session: `with engine.profiler.profile() as p: ...`, then `print(p)`."""
    return Profile()


_session: list[Profile] = []


def start() -> Profile:
    """Starts a session that `stop()` ends (as tf.profiler.experimental.start/stop)."""
    p = Profile().__enter__()
    _session.append(p)
    return p


def stop() -> Profile:
    """Ends the session `start()` began and returns it."""
    if not _session:
        raise RuntimeError("engine.profiler.stop(): no session was started")
    p = _session.pop()
    p.__exit__(None, None, None)
    return p


def _from_environment() -> None:
    """KILN_PROFILE=1 (or a path for the trace): profile the whole process, print the table at exit."""
    value = os.environ.get("KILN_PROFILE", "")
    if value in ("", "0", "false", "no", "off"):
        return
    p = start()

    def report() -> None:
        if _session and _session[-1] is p:
            stop()
        print(p.table(), file=sys.stderr)
        if value not in ("1", "true", "yes", "on"):
            p.export_chrome_trace(value)
            print(f"engine.profiler: trace written to {value}", file=sys.stderr)
    atexit.register(report)


_from_environment()
