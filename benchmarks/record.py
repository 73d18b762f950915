"""The recorded form of a benchmark run: `python benchmarks/run.py --json PATH` writes the table as JSON, plus what
the roofline needs, for notebooks/06_performance.ipynb.

The record (format 1):

    {"format": 1, "machine": "<the table's machine line>", "repeats": 7, "quick": false,
     "peaks": {"gbytes_per_s": ..., "gflops_per_s": ...},            # one core, codegen.peaks
     "workloads": [{"name", "about", "size", "unit",
                    "rows": [{"impl", "median_s", "min_s", "status", "notes": [text, ...]}],
                    "kiln_profile": {"bytes_per_call", "flops_per_call", "table"} or null}]}

Times are seconds per call. `kiln_profile` comes from three calls of Kiln's version under engine.profiler (after the
timed runs, so the instrumented variant never affects a timing): the bytes its kernels move and the floating-point
operations they do per call, which place the workload on the roofline, and the profiler's table.
"""
from __future__ import annotations

import json
from typing import Any, Optional

import numpy as np

from harness import Config, Notes, Row, Workload

FORMAT = 1
PROFILED_CALLS = 3


def profile_kiln(w: Workload, cfg: Config) -> Optional[dict[str, Any]]:
    """Kiln's version of a kernel workload profiled over a few calls, or None (workloads with their own run)."""
    if w.run is not None or w.kiln is None or w.inputs is None:
        return None
    import engine
    from codegen.peaks import peaks
    fn, args = w.kiln(w.inputs(cfg.sizes, np.random.default_rng(0)))
    fn(*args)
    with engine.profiler.profile() as p:
        for _ in range(PROFILED_CALLS):
            fn(*args)
    return {"bytes_per_call": sum(f.bytes / max(f.calls, 1) for f in p.functions),
            "flops_per_call": sum(f.flops / max(f.calls, 1) for f in p.functions),
            "table": p.table(peaks())}


def write(path: str, rows: list[Row], workloads: list[Workload], cfg: Config, notes: Notes, machine: str,
          quick: bool, profiles: dict[str, Optional[dict[str, Any]]]) -> None:
    from codegen.peaks import peaks
    by_name = {w.name: w for w in workloads}
    out = []
    for name in dict.fromkeys(r.workload for r in rows):
        w = by_name[name]
        out.append({"name": name, "about": w.about, "size": w.size(cfg.sizes), "unit": w.unit,
                    "rows": [{"impl": r.impl, "median_s": r.median, "min_s": r.low, "status": r.status,
                              "notes": [notes.texts[k - 1] for k in r.notes]} for r in rows if r.workload == name],
                    "kiln_profile": profiles.get(name)})
    record = {"format": FORMAT, "machine": machine, "repeats": cfg.repeats, "quick": quick,
              "peaks": peaks()._asdict(), "workloads": out}
    with open(path, "w") as f:
        json.dump(record, f, indent=1)
