"""Replay every program recorded from TensorFlow 2 with `import engine as tf` and compare (DESIGN §10).

The golden files under tests/oracle/golden were written by tests/oracle/record.py with real TensorFlow; this test
needs only Kiln. A program listed in tests/oracle/deviations.py must give Kiln's documented answer instead, and
must still differ from TensorFlow's.
"""
from __future__ import annotations

import glob
import json
import os

import pytest

import engine
from tests.oracle.deviations import DEVIATIONS
from tests.oracle.observe import compare
from tests.oracle.program import Program
from tests.oracle.run import load, modules, run_program

_HERE = os.path.dirname(os.path.abspath(__file__))
_GOLDEN = os.path.join(_HERE, "oracle", "golden")
_DOC = os.path.join(os.path.dirname(_HERE), "docs", "tf-compat.md")


def _golden() -> dict[str, dict]:
    out = {}
    for path in sorted(glob.glob(os.path.join(_GOLDEN, "*.json"))):
        with open(path) as fh:
            out[os.path.basename(path)[:-5]] = json.load(fh)["programs"]
    return out


GOLDEN = _golden()
CASES = [(f, name) for f, table in GOLDEN.items() for name in table]


@pytest.mark.parametrize("golden_file,name", CASES, ids=[f"{f}:{n}" for f, n in CASES])
def test_replay_matches_tensorflow(golden_file: str, name: str) -> None:
    entry = GOLDEN[golden_file][name]
    program = Program(name, entry["tol"], entry["source"])
    got = run_program(engine, program)
    why = compare(entry["tf"], got, entry["tol"])
    dev = DEVIATIONS.get(name)
    if dev is None:
        assert why is None, f"{name}: {why}\n--- program ---\n{program.source}"
    else:
        assert why is not None, f"{name} now gives TensorFlow's answer: remove its entry from deviations.py"
        pinned = compare(dev.kiln, got, entry["tol"])
        assert pinned is None, f"{name} (documented deviation '{dev.doc}'): {pinned}"


def test_golden_files_are_recorded_from_the_current_programs() -> None:
    for module in modules():
        progs = {p.name: p for p in load(module)}
        recorded = GOLDEN.get(module, {})
        missing = sorted(set(progs) - set(recorded))
        stale = sorted(n for n in progs if n in recorded and (recorded[n]["source"], recorded[n]["tol"])
                       != (progs[n].source, progs[n].tol))
        gone = sorted(set(recorded) - set(progs))
        assert not (missing or stale or gone), (
            f"{module}: re-record with `python tests/oracle/record.py {module}` (pip install -e '.[oracle]'): "
            f"unrecorded {missing[:5]}, changed {stale[:5]}, removed {gone[:5]}")


def test_every_deviation_is_recorded_and_documented() -> None:
    names = {n for table in GOLDEN.values() for n in table}
    with open(_DOC) as fh:
        doc = fh.read()
    for name, dev in DEVIATIONS.items():
        assert name in names, f"deviation {name} names no recorded program"
        assert dev.doc in doc, f"deviation {name}: docs/tf-compat.md has no row '{dev.doc}'"
