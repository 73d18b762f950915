"""The seeded program generator (tests/oracle/generator.py) reproduces exactly the programs recorded from TensorFlow.

The replay itself is tests/test_oracle_replay.py (the generated golden files are replayed like the hand-written
ones); this file checks that what was recorded is what the generator makes today, so that a change of the generator
is noticed and re-recorded (`python tests/oracle/record.py --generated`).
"""
from __future__ import annotations

import json
import os

import pytest

from tests.oracle.generator import CLASSES, generated_programs

_GOLDEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "oracle", "golden")
GENERATED = generated_programs()


@pytest.mark.parametrize("golden_file", sorted(CLASSES))
def test_generator_reproduces_the_recorded_sources(golden_file: str) -> None:
    with open(os.path.join(_GOLDEN, f"{golden_file}.json")) as fh:
        recorded = json.load(fh)["programs"]
    made = {p.name: (p.source, p.tol) for p in GENERATED[golden_file]}
    assert list(made) == list(recorded), f"{golden_file}: the generator makes other programs than were recorded"
    changed = [n for n in made if made[n] != (recorded[n]["source"], recorded[n]["tol"])]
    assert not changed, f"{golden_file}: {len(changed)} programs changed since recording, e.g. {changed[:3]}"


def test_generator_is_deterministic_and_large_enough() -> None:
    again = generated_programs()
    assert again == GENERATED
    assert sum(len(v) for v in GENERATED.values()) >= 3000
    names = [p.name for progs in GENERATED.values() for p in progs]
    assert len(names) == len(set(names))
    tols = {p.tol for progs in GENERATED.values() for p in progs}
    assert tols == {"exact", "arith", "transc", "grad"}
