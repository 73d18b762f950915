"""Record TensorFlow's observations of the oracle programs into `golden/` (needs the `oracle` extra).

    python tests/oracle/record.py                   # every hand-written module and the generated programs
    python tests/oracle/record.py autograph tape    # only these modules
    python tests/oracle/record.py --generated       # only the generated programs

Each golden file holds, per program: its source and tolerance class (so that a program edited after recording is
noticed) and TensorFlow's observation. Run from the repository root.
"""
from __future__ import annotations

import json
import os
import sys
import time

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, _ROOT)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

GOLDEN = os.path.join(_ROOT, "tests", "oracle", "golden")


def dumps(doc: dict) -> str:
    """One program per line: diffs of a re-recording show which programs changed."""
    lines = [f'{{"recorded_with": {json.dumps(doc["recorded_with"])}, "programs": {{']
    items = list(doc["programs"].items())
    for i, (name, entry) in enumerate(items):
        lines.append(f"{json.dumps(name)}: {json.dumps(entry)}" + ("," if i < len(items) - 1 else ""))
    lines.append("}}")
    return "\n".join(lines) + "\n"


def write_golden(name: str, progs: list, tf: object) -> None:
    from tests.oracle.run import run_program
    table = {}
    start = time.perf_counter()
    for p in progs:
        table[p.name] = {"tol": p.tol, "source": p.source, "tf": run_program(tf, p)}
    doc = {"recorded_with": f"tensorflow {tf.__version__}", "programs": table}
    path = os.path.join(GOLDEN, f"{name}.json")
    with open(path + ".tmp", "w") as fh:
        fh.write(dumps(doc))
    os.replace(path + ".tmp", path)
    errors = sum(1 for e in table.values() if isinstance(e["tf"], dict) and "error" in e["tf"])
    print(f"{name}: {len(table)} programs ({errors} raise in TensorFlow) in {time.perf_counter() - start:.1f} s")


def main(argv: list[str]) -> None:
    import tensorflow as tf
    from tests.oracle.run import load, modules
    os.makedirs(GOLDEN, exist_ok=True)
    generated = "--generated" in argv
    names = [a for a in argv if not a.startswith("--")]
    if not generated or names:
        for module in names or modules():
            write_golden(module, load(module), tf)
    if generated or not names:
        from tests.oracle.generator import generated_programs
        for name, progs in generated_programs().items():
            write_golden(name, progs, tf)


if __name__ == "__main__":
    main(sys.argv[1:])
