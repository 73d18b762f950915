"""`KILN_DUMP=ast,ir,opt,llvm,asm` (or `all`): every stage of every function, to stderr or to files.

- ast: AutoGraph's generated Python; ir: the traced IR; opt: after the passes; llvm: the optimized LLVM IR;
  asm: the host assembly.
With `KILN_DUMP_DIR=path` each dump goes to `path/<function>.<n>.<stage>.txt` instead of stderr.
"""
from __future__ import annotations

import itertools
import os
import re
import sys

STAGES = ("ast", "ir", "opt", "llvm", "asm")
_counter = itertools.count()


def wanted(stage: str) -> bool:
    spec = os.environ.get("KILN_DUMP", "")
    if not spec:
        return False
    parts = {p.strip() for p in spec.split(",")}
    return stage in parts or "all" in parts


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
