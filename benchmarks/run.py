"""The benchmark table: Kiln's compiled functions next to numpy (and numba, jax, tensorflow, torch when installed).

    python benchmarks/run.py [--quick] [--only NAME[,NAME]] [--repeats N] [--peers all|none|numba,jax,...]
                             [--json PATH]

Each workload is one record (benchmarks/harness.py `Workload`): its inputs, reference, and numpy's, Kiln's and the
peers' versions side by side; the kernel workloads are in benchmarks/workloads.py (the MLP step in mlp.py), the
compile-time ones in compile_time.py. `--help` lists them with a line each. The code is split by purpose: harness.py
(the record, timing, checking, the generic runner), peers.py (the peer libraries), table.py (the output).

Method: every implementation's result is checked against an independent reference before it is timed (a wrong
answer is reported as FAILED, never timed). Warm-up calls (which compile) are excluded. Each of `--repeats` runs
makes enough calls to last a few tens of milliseconds; the table gives the median and the minimum time per call
over the runs, and `x numpy` = numpy's median / this row's median (above 1: faster than numpy; "1/N": N times
slower); the Markdown table after it gives Kiln / the fastest other implementation per workload. The timed runs
of a workload's implementations are interleaved (harness.measure_together). first_call, mlp_first_call and cache_hit
run in subprocesses, one fresh function (from a fresh module file) per repeat.
`--quick` uses tiny sizes and one repeat: it checks that everything runs, and its timings mean nothing.
`--json PATH` also writes the run as JSON (benchmarks/record.py), with each kernel workload's bytes and flops per
call from Kiln's profiler, for notebooks/06_performance.ipynb.
The process exits with status 1 when a Kiln row failed (an error or a wrong result), else 0.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import sys
from pathlib import Path
from typing import Optional

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing
sys.path.insert(0, str(Path(__file__).resolve().parent))
import compile_time  # noqa: E402
import gemm  # noqa: E402
import peers as peer_lib  # noqa: E402
import record  # noqa: E402
import workloads  # noqa: E402
from harness import Config, Notes, Row, run_workload  # noqa: E402
from table import machine_line, print_summary, print_table  # noqa: E402

WORKLOADS = workloads.WORKLOADS + gemm.WORKLOADS + compile_time.WORKLOADS

FULL = dict(elementwise=1 << 22, reduce=1 << 24, softmax=(4096, 1024), matmul=1024, dense=(256, 784, 128),
            mlp=(784, 128, 10), mlp_first_batch=32, loop=10_000_000, loop_python=200_000, call=8, f20=1024,
            gemm_batch_cap=1 << 30)
QUICK = dict(elementwise=4096, reduce=1 << 14, softmax=(16, 64), matmul=64, dense=(8, 32, 16),
             mlp=(16, 8, 10), mlp_first_batch=32, loop=1000, loop_python=1000, call=8, f20=64, gemm_batch_cap=8)


# ---- main ------------------------------------------------------------------------------------------------------------
def parse_args(argv: Optional[list[str]] = None) -> argparse.Namespace:
    listing = "\n".join(f"  {w.name:<18} {w.about}" for w in WORKLOADS)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog="workloads:\n" + listing,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="tiny sizes and 1 repeat (a smoke test)")
    parser.add_argument("--only", default="", help="comma-separated workload names (default: all)")
    parser.add_argument("--repeats", type=int, default=None, help="timed runs per row (default 7; --quick: 1)")
    parser.add_argument("--json", default="", help="also write the run as JSON to this path (benchmarks/record.py)")
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
        print(json.dumps(compile_time.CHILDREN[args.child](args)))
        return 0
    load_before = os.getloadavg()
    names = [w.name for w in WORKLOADS]
    only = [w.strip() for w in args.only.split(",") if w.strip()] or names
    unknown = [w for w in only if w not in names]
    if unknown:
        print(f"unknown workload(s) {', '.join(unknown)}; choose from {', '.join(names)}", file=sys.stderr)
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
    profiles = {}
    for w in [w for w in WORKLOADS if w.name in only]:
        print(f"{w.name} ...", file=sys.stderr, flush=True)
        rows += run_workload(w, cfg, peers, notes)
        if args.json:
            try:
                profiles[w.name] = record.profile_kiln(w, cfg)
            except Exception as e:  # the profile is extra: its failure is reported, the run goes on
                print(f"  {w.name}: no profile ({type(e).__name__}: {e})", file=sys.stderr)
        gc.collect()
    machine = machine_line(load_before)
    print_table(rows, WORKLOADS, cfg, notes, machine)
    print_summary(rows, WORKLOADS, cfg)
    if args.json:
        record.write(args.json, rows, WORKLOADS, cfg, notes, machine, args.quick, profiles)
    failed = [r for r in rows if r.status == "FAILED"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
