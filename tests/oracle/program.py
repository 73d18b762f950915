"""What an oracle program is.

A program is Python source, written as a TF 2 user writes it, run in a fresh namespace where `tf` is the framework
(TensorFlow when recording, Kiln when replaying) and `np` is numpy. It leaves what a TF program can observe in the
variable `result`: any nest of tensors, Variables, numpy values, Python scalars, strings, None, lists, tuples and
dicts (e.g. values, `x.dtype`, `x.shape`, gradients that may be None, trace counters). A program that raises is
observed as the exception's type.

`tol` names the tolerance class its floating-point results are compared with (`observe.TOLERANCES`); integers,
booleans, dtypes, shapes, structure, None-ness and exceptions are always compared exactly.
"""
from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import Iterable


@dataclass(frozen=True)
class Program:
    name: str
    tol: str
    source: str


def programs(tol: str, **sources: str) -> list[Program]:
    """Several programs of one tolerance class, given as name=source (the source is dedented)."""
    return [Program(name, tol, textwrap.dedent(src).strip() + "\n") for name, src in sources.items()]


def check_unique(progs: Iterable[Program]) -> dict[str, Program]:
    table: dict[str, Program] = {}
    for p in progs:
        if p.name in table:
            raise ValueError(f"oracle program {p.name!r} is defined twice")
        table[p.name] = p
    return table
