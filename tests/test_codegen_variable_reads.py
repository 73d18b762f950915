"""How compiled code reads a Variable the function assigns (codegen.lower.VarRef): before any op that may write it,
a read is the array the call found (no copy); after one, a snapshot of the new array, so later assigns do not
show through. The IR is compiled as written (no passes, which would forward the reads), against the interpreter
and hand-computed values.
"""
from __future__ import annotations

import numpy as np

from codegen import runtime
from ir.interp import run
from ir.parser import parse
from ir.types import Cell

READS = """func @f(%x: f32[4], %v: &f32[4]) -> (f32[4], f32[4], f32[4]) {
  %0 = read %v : f32[4]
  %1 = add %0, %x : f32[4]
  assign %v, %1
  %2 = read %v : f32[4]
  %3 = mul %2, %2 : f32[4]
  assign %v, %3
  %4 = read %v : f32[4]
  %5 = add %0, %2 : f32[4]
  return %5, %4, %0
}"""

LOOP = """func @f(%n: i32[], %v: &f32[3]) -> (f32[3], f32[3]) {
  %first = read %v : f32[3]
  %0 = constant {value = 0} : i32[]
  %i = while_loop %0, %n, %v {carried = 1} : i32[] {
  ^cond(%i.1: i32[], %n.1: i32[], %v.1: &f32[3]):
    %1 = lt %i.1, %n.1 : bool[]
    yield %1
  } {
  ^body(%i.2: i32[], %n.2: i32[], %v.2: &f32[3]):
    %2 = read %v.2 : f32[3]
    %3 = add %2, %2 : f32[3]
    assign %v.2, %3
    %4 = constant {value = 1} : i32[]
    %5 = add %i.2, %4 : i32[]
    yield %5
  }
  %last = read %v : f32[3]
  return %first, %last
}"""


def test_reads_before_and_after_assigns() -> None:
    fn = parse(READS)
    compiled = runtime.compile_function(fn)
    x = np.array([1.0, -2.0, 0.5, 3.0], np.float32)
    v0 = np.array([2.0, 1.0, -1.0, 0.0], np.float32)
    cell = Cell(v0.copy())
    s, last, first = compiled([x, cell])
    v1 = v0 + x
    np.testing.assert_array_equal(first, v0)          # the array the call found
    np.testing.assert_array_equal(s, v0 + v1)         # the read after the first assign, not the second's value
    np.testing.assert_array_equal(last, v1 * v1)
    np.testing.assert_array_equal(cell.array, v1 * v1)
    ref = Cell(v0.copy())
    for got, want in zip((s, last, first), run(fn, [x, ref])):
        np.testing.assert_array_equal(got, want)


def test_reads_inside_a_loop_that_assigns_see_each_trip() -> None:
    fn = parse(LOOP)
    compiled = runtime.compile_function(fn)
    v0 = np.array([1.0, -0.5, 3.0], np.float32)
    for n in (0, 1, 3):
        cell = Cell(v0.copy())
        first, last = compiled([np.int32(n), cell])
        np.testing.assert_array_equal(first, v0)
        np.testing.assert_array_equal(last, v0 * 2.0 ** n)
        np.testing.assert_array_equal(cell.array, v0 * 2.0 ** n)
        ref = Cell(v0.copy())
        for got, want in zip((first, last), run(fn, [np.int32(n), ref])):
            np.testing.assert_array_equal(got, want)
