"""The output of benchmarks/run.py: the machine line and the aligned table with its footnotes."""
from __future__ import annotations

import glob
import os
import platform

import numpy as np

from harness import Config, Notes, Row, Workload, fmt_time


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

    import engine
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load_after = os.getloadavg()
    return (f"machine: {cpu_name()} (LLVM host cpu {llvm.get_host_cpu_name()}), {os.cpu_count()} cores "
            f"({usable} usable); Python {platform.python_version()}; numpy {np.__version__}; "
            f"llvmlite {llvmlite.__version__} (LLVM {'.'.join(map(str, llvm.llvm_version_info))}); "
            f"kiln {engine.__version__}; OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', 'unset')}; "
            f"OpenBLAS threads {blas_threads()}; kiln threads {kiln_threads()}; "
            f"1-min load average {load_before[0]:.2f} at start, {load_after[0]:.2f} at end")


def fmt_ratio(r: float) -> str:
    if r >= 100:
        return f"{r:.0f}x"
    if r >= 0.1:
        return f"{r:.2f}x"
    return f"1/{1 / r:,.0f}x"


def print_table(rows: list[Row], workloads: list[Workload], cfg: Config, notes: Notes, machine: str) -> None:
    header = ["workload", "impl", "median", "min", "x numpy", "notes"]
    lines = []
    by_name = {w.name: w for w in workloads}
    for name in dict.fromkeys(r.workload for r in rows):
        group = [r for r in rows if r.workload == name]
        base = next((r.median for r in group if r.impl.startswith("numpy")), None)
        unit = by_name[name].unit
        for i, r in enumerate(group):
            first = name if i == 0 else by_name[name].size(cfg.sizes) if i == 1 else ""
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
        if cells[0] and cells[0] in by_name and lines.index(cells) > 0:
            print()
        print(fmt(cells).rstrip())
    if notes.texts:
        print()
        for k, text in enumerate(notes.texts, 1):
            print(f"[{k}] {text}")


def print_summary(rows: list[Row], workloads: list[Workload], cfg: Config) -> None:
    """Kiln against the fastest other implementation (numpy or a peer; a peer only, for the compile-time
    workloads) per workload, as a Markdown table (the form of issue 14's): Kiln / best above 1 means Kiln is
    slower."""
    by_name = {w.name: w for w in workloads}
    print()
    print("| workload | size | best other | its median | Kiln | Kiln median | Kiln / best |")
    print("|---|---|---|---|---|---|---|")
    for name in dict.fromkeys(r.workload for r in rows):
        group = [r for r in rows if r.workload == name]
        unit = by_name[name].unit
        # (numpy and eager torch compile nothing: in a compile-time workload their rows are an eager evaluation,
        # no rival)
        compile_time = by_name[name].run is not None
        others = [r for r in group if not r.impl.startswith("kiln") and r.median
                  and not (compile_time and (r.impl.startswith("numpy") or "eager" in r.impl))]
        best = min(others, key=lambda r: r.median or 0.0, default=None)
        for r in (r for r in group if r.impl.startswith("kiln")):
            what = r.impl.split(", ", 1)[1] if ", " in r.impl else ""
            ratio = f"{r.median / best.median:.3g}" if r.median and best and best.median else ""
            print(f"| `{name}`{' ' + what if what else ''} | {by_name[name].size(cfg.sizes)} | "
                  f"{best.impl if best else ''} | {fmt_time(best.median, unit) if best else ''} | "
                  f"{r.impl.split(', ', 1)[0]} | {fmt_time(r.median, unit) or r.status} | {ratio} |")
