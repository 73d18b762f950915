"""`KILN_DUMP=ast,ir,opt,llvm,asm,time` (or `all`): every stage of every function, to stderr or to files.

- ast: AutoGraph's generated Python; ir: the traced IR; opt: after the passes; llvm: the optimized LLVM IR;
  asm: the host assembly; time: where each compile's time went, per phase (`ir.timing`).
With `KILN_DUMP_DIR=path` each dump goes to `path/<function>.<n>.<stage>.txt` instead of stderr. Unknown stage names
are an error listing the valid ones. Dumping opt, llvm or asm compiles even when the disk cache holds the function.
"""
from __future__ import annotations

import itertools
import os
import re
import sys

STAGES = ("ast", "ir", "opt", "llvm", "asm", "time")
_counter = itertools.count()


def stages() -> frozenset[str]:
    """The stages KILN_DUMP asks for; an unknown name is an error that lists the valid ones."""
    spec = os.environ.get("KILN_DUMP", "")
    if not spec.strip():
        return frozenset()
    parts = {p.strip() for p in spec.split(",") if p.strip()}
    unknown = sorted(parts - set(STAGES) - {"all"})
    if unknown:
        raise ValueError(f"KILN_DUMP: unknown stage name(s) {', '.join(map(repr, unknown))}; valid names are "
                         f"{', '.join(STAGES)} and all (comma-separated)")
    return frozenset(STAGES) if "all" in parts else frozenset(parts)


def wanted(stage: str) -> bool:
    return stage in stages()


def wanted_stages() -> bool:
    """True when a stage that compiling produces (opt, llvm, asm) is to be dumped: a disk-cache hit would skip it,
    so the compiler then compiles instead of loading the entry."""
    return bool(stages() & {"opt", "llvm", "asm"})


def dump(stage: str, name: str, text: str) -> None:
    if not wanted(stage):
        return
    folder = os.environ.get("KILN_DUMP_DIR")
    if folder:
        os.makedirs(folder, exist_ok=True)
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name) or "function"
        path = os.path.join(folder, f"{safe}.{next(_counter)}.{stage}.txt")
        with open(path, "w") as f:
            f.write(text)
        return
    sys.stderr.write(f"---- KILN_DUMP {stage}: {name} ----\n{text}\n")
