"""Row tiling with a run-time row count (`f32[?,784]`, issue 12) and row tiling of functions that read Variables.

A kernel whose rows are `?` runs in chunks of a fixed number of rows (the last chunk holds the rows left), each
chunk reading its row count from the run-time dims the chunk loop gives it (codegen.chunk_loop); a call with enough
rows shares its chunks among threads. Values are compared with numpy at sizes that split and that do not (1, odd
sizes, sizes not divisible by the chunk), with every chunk range a caller may pass, and with the IR interpreter;
writes past the last row are caught by sentinel rows around the arrays the kernel gets. Functions that read
Variables tile (every chunk reads the same value); a function that also assigns one does not.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import engine as tf
from codegen import chunks, runtime, tiling
from codegen.entry import EntryArgumentError
from ir.interp import run as interpret
from ir.parser import parse
from ir.printer import print_function

# relu(x @ W + b) and a row softmax of 2x, as the tracer emits them for a [None, K] signature
MLP = """func @f(%x: f32[?,520], %w: f32[520,24], %b: f32[24]) -> (f32[?,24]) {
  %0 = matmul %x, %w {transpose_a = false, transpose_b = false} : f32[?,24]
  %1 = dim %0 {axis = 0} : i64[]
  %2 = broadcast_to %b, %1 {shape = [none, 24]} : f32[?,24]
  %3 = add %0, %2 : f32[?,24]
  %4 = relu %3 : f32[?,24]
  return %4
}"""

SOFTMAX = """func @f(%x: f32[?,300]) -> (f32[?,300]) {
  %0 = dim %x {axis = 0} : i64[]
  %1 = constant {value = 2.0} : f32[]
  %2 = broadcast_to %1, %0 {shape = [none, 300]} : f32[?,300]
  %3 = mul %x, %2 : f32[?,300]
  %4 = reduce_max %3 {axes = [1]} : f32[?]
  %5 = reshape %4, %0 {shape = [none, 1]} : f32[?,1]
  %6 = broadcast_to %5, %0 {shape = [none, 300]} : f32[?,300]
  %7 = sub %3, %6 : f32[?,300]
  %8 = exp %7 : f32[?,300]
  %9 = reduce_sum %8 {axes = [1]} : f32[?]
  %10 = reshape %9, %0 {shape = [none, 1]} : f32[?,1]
  %11 = broadcast_to %10, %0 {shape = [none, 300]} : f32[?,300]
  %12 = div %8, %11 : f32[?,300]
  return %12
}"""

# exact integer arithmetic: a wrong row offset shows as a wrong value, not as noise
INTS = """func @f(%x: i32[?,1000], %y: i32[?,1000], %s: i32[3,1000]) -> (i32[?,1000], i32[?]) {
  %0 = mul %x, %y : i32[?,1000]
  %1 = sub %0, %x : i32[?,1000]
  %2 = reduce_sum %1 {axes = [1]} : i32[?]
  return %1, %2
}"""


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(2 * x - (2 * x).max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _compiled(text: str) -> Any:
    compiled = runtime.compile_function(parse(text))
    assert compiled.lowered.row_tiles is not None, "the function was not tiled over its run-time rows"
    assert compiled.lowered.row_tiles.rows <= 32  # the sizes below make several chunks and uneven last ones
    return compiled


def _chunk_rows(compiled: Any) -> int:
    return compiled.lowered.row_tiles.rows


def _run_ranges(compiled: Any, arrays: list[np.ndarray], out_shapes: list[tuple], dtypes: list[Any],
                ranges: list[tuple[int, int]]) -> list[np.ndarray]:
    """Calls the native entry directly, once per chunk range, on result arrays with sentinel rows before and after
    them; checks the kernel wrote none of the sentinels."""
    padded = [np.full((s[0] + 4,) + s[1:], 7777, d) for s, d in zip(out_shapes, dtypes)]
    outs = [p[2:-2] for p in padded]
    for begin, end in ranges:
        ws = compiled.workspace()
        assert compiled._py(*arrays, *outs, ws, begin, end) == 0
    for p in padded:
        assert (p[:2] == 7777).all() and (p[-2:] == 7777).all(), "the kernel wrote outside its result"
    return outs


# (1100 rows of 4000 bytes: a call big enough that its result streams out with non-temporal stores)
@pytest.mark.parametrize("n", [1, 2, 15, 16, 17, 33, 100, 257, 1100])
def test_int_kernel_over_run_time_rows_every_chunk_range(n: int) -> None:
    compiled = _compiled(INTS)
    rng = np.random.default_rng(n)
    x, y = rng.integers(-99, 99, (n, 1000)).astype(np.int32), rng.integers(-99, 99, (n, 1000)).astype(np.int32)
    s = np.zeros((3, 1000), np.int32)
    want = [x * y - x, (x * y - x).sum(axis=1, dtype=np.int32)]
    k = compiled.lowered.row_tiles.chunks(n)
    assert k == -(-n // _chunk_rows(compiled))
    # input rows read past the end would be garbage; give the kernel views whose next rows are huge values
    bx, by = np.full((n + 3, 1000), 2**30, np.int32), np.full((n + 3, 1000), 2**30, np.int32)
    bx[:n], by[:n] = x, y
    for ranges in ([(0, k)], [(0, k // 2), (k // 2, k)], [(c, c + 1) for c in range(k)][::-1]):
        got = _run_ranges(compiled, [bx[:n], by[:n], s], [(n, 1000), (n,)], [np.int32, np.int32], ranges)
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g, w)
    np.testing.assert_array_equal(interpret(parse(INTS.replace("?", str(n))), [x, y, s])[1], want[1])


def test_entry_refuses_a_chunk_range_past_the_rows() -> None:
    compiled = _compiled(INTS)
    n = 2 * _chunk_rows(compiled) + 1  # three chunks
    x = np.ones((n, 1000), np.int32)
    outs = [np.empty((n, 1000), np.int32), np.empty(n, np.int32)]
    ws = compiled.workspace()
    for begin, end in ((0, 4), (2, 1), (-1, 2)):
        with pytest.raises(EntryArgumentError, match="chunk range"):
            compiled._py(x, x, np.zeros((3, 1000), np.int32), *outs, ws, begin, end)
    assert compiled._py(x, x, np.zeros((3, 1000), np.int32), *outs, ws, 0, 3) == 0


@pytest.mark.parametrize("n", [1, 3, 16, 31, 255, 600])
@pytest.mark.parametrize("threads", [1, 2, 3])
def test_mlp_and_softmax_values_whether_split_or_not(n: int, threads: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runtime, "num_threads", lambda: threads)
    monkeypatch.setattr(chunks, "SPLIT_WORK", 1)  # every call with two chunks or more is shared among threads
    rng = np.random.default_rng(n)
    w, b = rng.standard_normal((520, 24)).astype(np.float32), rng.standard_normal(24).astype(np.float32)
    x = rng.standard_normal((n, 520)).astype(np.float32)
    mlp = _compiled(MLP)
    (got,) = mlp([x, w, b])
    want = np.maximum(x.astype(np.float64) @ w + b, 0)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(got, interpret(parse(MLP), [x, w, b])[0], rtol=1e-4, atol=1e-4)
    expect = min(threads, mlp.lowered.row_tiles.chunks(n)) if n >= mlp.lowered.row_tiles.split_rows() else 1
    assert mlp.split([x, w, b]) == (mlp.lowered.row_tiles.chunks(n), expect)
    x = rng.standard_normal((n, 300)).astype(np.float32)
    (got,) = _compiled(SOFTMAX)([x])
    np.testing.assert_allclose(got, _softmax(x.astype(np.float64)), rtol=1e-5, atol=1e-7)


def test_small_calls_stay_on_one_thread_and_big_ones_split() -> None:
    mlp = _compiled(MLP)
    rows = mlp.lowered.row_tiles
    assert rows.split_rows() * rows.row_work >= chunks.SPLIT_WORK
    one = np.zeros((1, 520), np.float32)
    assert mlp.split([one, np.zeros((520, 24), np.float32), np.zeros(24, np.float32)]) == (1, 1)
    big = np.zeros((rows.split_rows(), 520), np.float32)
    assert mlp.split([big, None, None])[1] == min(runtime.num_threads(), rows.chunks(len(big)))


def test_disk_cache_keeps_the_run_time_row_tiling(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KILN_CACHE", "1")
    monkeypatch.setenv("KILN_CACHE_DIR", str(tmp_path))
    first = _compiled(INTS)
    hits = runtime.stats["cache_hits"]
    again = _compiled(INTS)
    assert runtime.stats["cache_hits"] == hits + 1
    assert again.lowered.row_tiles == first.lowered.row_tiles
    x = np.arange(1000 * 45, dtype=np.int32).reshape(45, 1000) % 97
    for compiled in (first, again):
        monkeypatch.setattr(chunks, "SPLIT_WORK", 1)
        out, sums = compiled([x, x, np.zeros((3, 1000), np.int32)])
        np.testing.assert_array_equal(out, x * x - x)
        np.testing.assert_array_equal(sums, (x * x - x).sum(axis=1, dtype=np.int32))


def test_zero_rows_run_no_chunk() -> None:
    compiled = _compiled(INTS)
    out, sums = compiled([np.zeros((0, 1000), np.int32), np.zeros((0, 1000), np.int32), np.zeros((3, 1000), np.int32)])
    assert out.shape == (0, 1000) and sums.shape == (0,)


def test_split_parameters_with_other_row_counts_run_whole() -> None:
    """The chunks of two parameters would not line up: the function runs whole, and reports what the untiled one
    reports (a mismatch the IR assumes away), or gives the untiled values (independent rows)."""
    add = _compiled("""func @f(%x: f32[?,1000], %y: f32[?,1000]) -> (f32[?,1000]) {
  %0 = add %x, %y : f32[?,1000]
  return %0
}""")
    with pytest.raises(ValueError, match=r"add: dimension 0 has size (2|40) in one operand and (40|2) in another"):
        add([np.ones((2, 1000), np.float32), np.ones((40, 1000), np.float32)])
    two = _compiled("""func @f(%x: f32[?,1000], %y: f32[?,1000]) -> (f32[?,1000], f32[?,1000]) {
  %c = constant {value = 2.0} : f32[]
  %0 = dim %x {axis = 0} : i64[]
  %1 = broadcast_to %c, %0 {shape = [none, 1000]} : f32[?,1000]
  %2 = mul %x, %1 : f32[?,1000]
  %3 = neg %y : f32[?,1000]
  return %2, %3
}""")
    x = np.arange(1000 * 50, dtype=np.float32).reshape(50, 1000)
    y = np.arange(1000 * 7, dtype=np.float32).reshape(7, 1000)
    for a, c in ((x, y), (y, x)):
        got = _run_ranges(two, [a, c], [a.shape, c.shape], [np.float32] * 2,
                          [(0, 1), (1, two.lowered.row_tiles.chunks(len(a)))])
        np.testing.assert_array_equal(got[0], 2 * a)
        np.testing.assert_array_equal(got[1], -c)


@pytest.mark.parametrize("body", [
    # the row count used as a number: a chunk's count would differ from the whole function's
    """%0 = dim %x {axis = 0} : i64[]
  %1 = convert %0 {dtype = f32} : f32[]
  %2 = dim %x {axis = 0} : i64[]
  %3 = broadcast_to %1, %2 {shape = [none, 4]} : f32[?,4]
  %4 = div %x, %3 : f32[?,4]""",
    # positions along the rows: a chunk's would restart at 0
    """%0 = dim %x {axis = 0} : i64[]
  %1 = iota %0 {axis = 0, dtype = f32, shape = [none]} : f32[?]
  %2 = reshape %1, %0 {shape = [none, 1]} : f32[?,1]
  %3 = broadcast_to %2, %0 {shape = [none, 4]} : f32[?,4]
  %4 = add %x, %3 : f32[?,4]""",
    # a sum over the rows
    """%0 = reduce_sum %x {axes = [0]} : f32[4]
  %1 = dim %x {axis = 0} : i64[]
  %2 = broadcast_to %0, %1 {shape = [none, 4]} : f32[?,4]
  %4 = sub %x, %2 : f32[?,4]"""])
def test_functions_that_mix_rows_are_not_tiled_and_stay_right(body: str) -> None:
    text = f"func @f(%x: f32[?,4]) -> (f32[?,4]) {{\n  {body}\n  return %4\n}}"
    fn = parse(text)
    assert tiling.plan(fn) is None
    compiled = runtime.compile_function(parse(text))
    assert compiled.lowered.row_tiles is None
    x = np.arange(4 * 37, dtype=np.float32).reshape(37, 4)
    np.testing.assert_allclose(compiled([x])[0], interpret(parse(text.replace("?", "37")), [x])[0], rtol=1e-6)


@pytest.mark.parametrize("shape", ["4096,?", "?,?"])
def test_run_time_sizes_after_the_rows_are_not_tiled(shape: str) -> None:
    """Chunks advance their pointers by a static number of bytes: unknown sizes after the rows keep the function
    whole (a static row count too: its chunk rewrite needs static sizes)."""
    text = f"func @f(%x: f32[{shape}]) -> (f32[{shape}]) {{\n  %0 = exp %x : f32[{shape}]\n  return %0\n}}"
    assert tiling.plan(parse(text)) is None
    compiled = runtime.compile_function(parse(text))
    assert compiled.lowered.row_tiles is None and compiled.lowered.chunks == 1
    x = np.random.default_rng(3).standard_normal((4096, 33)).astype(np.float32)
    np.testing.assert_allclose(compiled([x])[0], np.exp(x), rtol=1e-6)


def test_row_count_and_positions_through_tf_function_are_not_tiled() -> None:
    f = tf.function(lambda x: x / tf.cast(tf.shape(x)[0], tf.float32) + tf.cast(tf.range(tf.shape(x)[0]),
                                                                                tf.float32)[:, None],
                    input_signature=[tf.TensorSpec([None, 4], tf.float32)])
    x = np.arange(4 * 300, dtype=np.float32).reshape(300, 4)
    np.testing.assert_allclose(f(tf.constant(x)).numpy(), x / 300 + np.arange(300, dtype=np.float32)[:, None])
    assert f.get_concrete_function().compiled.lowered.row_tiles is None


# ---- through tf.function: a [None, K] signature, Variables read in the tiled region ---------------------------------
def _forward(w: Any, b: Any) -> Any:
    return tf.function(lambda x: tf.nn.relu(tf.matmul(x, w) + b),
                       input_signature=[tf.TensorSpec([None, 40], tf.float32)])


@pytest.mark.parametrize("n", [1, 5, 16, 17, 300, 2001])
def test_function_reading_variables_tiles_over_run_time_rows(n: int) -> None:
    rng = np.random.default_rng(n)
    w0, b0 = rng.standard_normal((40, 24)).astype(np.float32), rng.standard_normal(24).astype(np.float32)
    w, b = tf.Variable(w0), tf.Variable(b0)
    f = _forward(w, b)
    x = rng.standard_normal((n, 40)).astype(np.float32)
    got = f(tf.constant(x)).numpy()
    eager = tf.nn.relu(tf.matmul(tf.constant(x), w) + b).numpy()
    np.testing.assert_allclose(got, np.maximum(x.astype(np.float64) @ w0 + b0, 0), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(got, eager, rtol=1e-5, atol=1e-5)
    compiled = f.get_concrete_function().compiled
    assert compiled.lowered.row_tiles is not None
    if n == 2001:  # shared among threads (through the generated fast caller's general path)
        rows = compiled.lowered.row_tiles
        assert n >= rows.split_rows() and compiled.split([x, None, None])[1] == min(runtime.num_threads(),
                                                                                    rows.chunks(n))
    # updated after the call: the next call reads the new values
    w.assign(w0 * 2)
    b.assign_add(np.ones(24, np.float32))
    np.testing.assert_allclose(f(tf.constant(x)).numpy(), np.maximum(x.astype(np.float64) @ (2 * w0) + b0 + 1, 0),
                               rtol=1e-4, atol=1e-4)
    assert f.experimental_get_tracing_count() == 1


def test_static_function_reading_a_variable_is_row_tiled() -> None:
    scale = tf.Variable(np.linspace(0.5, 2, 512, dtype=np.float32))
    f = tf.function(lambda x: tf.nn.softmax(x * scale), input_signature=[tf.TensorSpec([256, 512], tf.float32)])
    x = np.random.default_rng(0).standard_normal((256, 512)).astype(np.float32)
    got = f(tf.constant(x)).numpy()
    compiled = f.get_concrete_function().compiled
    assert compiled.lowered.chunks > 1, "a static function reading a Variable was not row-tiled"
    e = np.exp(x * scale.numpy() - (x * scale.numpy()).max(axis=1, keepdims=True))
    np.testing.assert_allclose(got, e / e.sum(axis=1, keepdims=True), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("spec", [[None, 64], [512, 64]])
def test_function_assigning_a_variable_is_not_tiled(spec: list) -> None:
    """A write into a Variable would race with the other chunks' reads: such a function runs whole."""
    total = tf.Variable(np.zeros(64, np.float32))
    scale = tf.Variable(np.full(64, 3, np.float32))

    @tf.function(input_signature=[tf.TensorSpec(spec, tf.float32)])
    def step(x: Any) -> Any:
        y = tf.exp(x * scale)
        total.assign_add(tf.reduce_sum(y, axis=0))
        return y * total

    x = np.random.default_rng(1).standard_normal((512, 64)).astype(np.float32) * 0.1
    for k in range(1, 3):
        got = step(tf.constant(x)).numpy()
        y = np.exp(x.astype(np.float64) * 3)
        np.testing.assert_allclose(total.numpy(), k * y.sum(axis=0), rtol=1e-5)
        np.testing.assert_allclose(got, y * (k * y.sum(axis=0)), rtol=1e-5)
    lowered = step.get_concrete_function().compiled.lowered
    assert lowered.row_tiles is None and lowered.chunks == 1
    assert tiling.plan(step.get_concrete_function().compiled.fn) is None


def test_read_is_tiled_but_assign_never_is() -> None:
    import codegen.rules.registry as registry
    from ir.opdef import OPS
    assert OPS["read"].tile is not registry.NEVER_TILES
    assert OPS["assign"].tile is registry.NEVER_TILES


def test_big_none_batch_matches_static_and_both_split() -> None:
    f_dyn = tf.function(lambda x: tf.nn.softmax(x * 2.0), input_signature=[tf.TensorSpec([None, 1024], tf.float32)])
    f_st = tf.function(lambda x: tf.nn.softmax(x * 2.0), input_signature=[tf.TensorSpec([2048, 1024], tf.float32)])
    x = np.random.default_rng(2).standard_normal((2048, 1024)).astype(np.float32)
    a, s = f_dyn(tf.constant(x)).numpy(), f_st(tf.constant(x)).numpy()
    np.testing.assert_allclose(a, _softmax(x.astype(np.float64)), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(a, s, rtol=1e-6, atol=1e-8)
    dyn, st = f_dyn.get_concrete_function().compiled, f_st.get_concrete_function().compiled
    assert dyn.split([x])[1] == st.threads == min(runtime.num_threads(), st.lowered.chunks)
    assert "?" in print_function(dyn.fn)
