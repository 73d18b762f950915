"""Crash fuzz of the native entry (DESIGN §8): no Python object passed anywhere can crash compiled code.

Every kind of argument (Python objects and numbers, numpy scalars, 0-d arrays, views, non-contiguous, Fortran-order,
broadcast, misaligned, read-only, byte-swapped, wrong-dtype, wrong-shape and subclass arrays, eager tensors holding
any of these, symbolic and forged tensors) goes in every position of functions of several arities, dtypes and
shapes, through every way in: the public `Function`, the `ConcreteFunction`, its generated fast caller, the
`CompiledFunction` (`run`), and the native builtin itself (arrays, outputs, workspace and chunk range).

The oracle: the process never dies; the native builtin returns 0 with numpy's answer exactly when an argument is an
exact, aligned, C-contiguous ndarray of the compiled dtype and shape (writable where written) and raises
`EntryArgumentError` otherwise; the Python entries either return numpy's answer or raise TypeError/ValueError (a
forged tensor, whose `_value` was overwritten, may raise anything but must not crash). The fuzz runs in a
subprocess, so a crash fails the test instead of killing pytest.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from typing import Any, Callable

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class _Sub(np.ndarray):
    pass


class _Duck:
    """Looks like a Tensor to code that only reads `_value`."""

    def __init__(self, value: Any) -> None:
        self._value = value
        self._node = None


def _misaligned(a: np.ndarray) -> np.ndarray:
    buf = bytearray(a.nbytes + 1)
    m = np.frombuffer(buf, dtype=a.dtype, count=a.size, offset=1).reshape(a.shape)
    m[...] = a
    return m


def _readonly(a: np.ndarray) -> np.ndarray:
    r = a.copy()
    r.flags.writeable = False
    return r


def array_variants(a: np.ndarray) -> list[tuple[str, Any]]:
    """Arrays of the right values but every other layout, type, dtype or shape."""
    out: list[tuple[str, Any]] = [
        ("exact", a.copy()),
        ("readonly", _readonly(a)),
        ("strided view", np.repeat(a, 2, axis=-1)[..., ::2] if a.ndim else a.copy()),
        ("reversed view", a.reshape(-1)[::-1][::-1].reshape(a.shape)),
        ("misaligned", _misaligned(a)),
        ("subclass", a.copy().view(_Sub)),
        ("masked", np.ma.array(a)),
        ("byteswapped", a.astype(a.dtype.newbyteorder())),
        ("0-d", np.array(a.reshape(-1)[0] if a.size else 0, a.dtype)),
        ("numpy scalar", a.dtype.type(a.reshape(-1)[0] if a.size else 0)),
        ("bigger", np.concatenate([a.reshape(-1), a.reshape(-1)])),
        ("rank + 1", a[None]),
        ("empty", np.zeros((0,), a.dtype)),
    ]
    if a.ndim >= 2:
        out += [("transposed", np.ascontiguousarray(a.T).T), ("fortran", np.asfortranarray(a)),
                ("broadcast", np.broadcast_to(a[:1], a.shape))]
    if a.ndim == 2:
        out.append(("matrix", np.asmatrix(a)))
    for dt in ("float32", "float64", "int32", "int64", "bool", "float16", "uint8", "complex64", "object"):
        if np.dtype(dt) != a.dtype:
            out.append((f"as {dt}", a.astype(dt)))
    out += [("str array", np.array(["a"] * max(a.size, 1))), ("datetime array", np.array(["2020-01-01"], "M8[D]"))]
    return out


def python_values() -> list[tuple[str, Any]]:
    return [("None", None), ("int", 3), ("float", 1.5), ("bool", True), ("huge int", 2 ** 70), ("nan", float("nan")),
            ("complex", 1j), ("str", "s"), ("bytes", b"b"), ("list", [1.0, 2.0, 3.0]), ("nested list", [[1], [2, 3]]),
            ("tuple", (1,)), ("dict", {"a": 1}), ("object", object()), ("function", len), ("type", np.ndarray),
            ("module", np), ("slice", slice(None)), ("ellipsis", ...), ("numpy float64", np.float64(2.0)),
            ("numpy int64", np.int64(2)), ("numpy bool", np.bool_(True)), ("numpy str", np.str_("a")),
            ("duck", _Duck(np.zeros(3, np.float32)))]


def tensor_variants(a: np.ndarray) -> list[tuple[str, Any]]:
    """Tensors built on each array variant (as the constructor allows), plus symbolic and forged ones."""
    from engine.tensor import Tensor
    from ir.core import Value
    from ir.types import TensorType, from_numpy
    out = []
    for name, v in array_variants(a):
        try:
            t = Tensor(v)
            _ = t.dtype
        except (TypeError, KeyError, ValueError):
            continue
        out.append((f"tensor({name})", t))
    out.append(("symbolic tensor", Tensor(None, Value(TensorType(from_numpy(a.dtype), a.shape), "x"))))
    for name, v in [("None", None), ("int", 5), ("list", [1.0]), ("object", object())] + array_variants(a)[2:6]:
        forged = Tensor(a.copy())
        forged._value = v  # bypasses the constructor: only "no crash" is asked of these
        out.append((f"forged tensor({name})", forged))
    return out


class Fuzz:
    def __init__(self) -> None:
        self.calls = 0
        self.bad: list[str] = []

    def expect(self, what: str, ok: bool) -> None:
        self.calls += 1
        if not ok and len(self.bad) < 50:
            self.bad.append(what)

    def python_entry(self, what: str, call: Callable[[], Any], oracle: Callable[[], Any], forged: bool) -> None:
        """A Python-level call: numpy's answer, or TypeError/ValueError (anything but a crash for forged args)."""
        from engine.fastcall import MISS
        from engine.tensor import Tensor
        try:
            result = call()
        except (TypeError, ValueError):
            self.expect(what, True)
            return
        except Exception as e:  # noqa: BLE001
            self.expect(f"{what}: raised {type(e).__name__}: {e}", forged)
            return
        if result is MISS:
            self.expect(what, True)
            return
        try:
            expected = np.asarray(oracle())
        except Exception as e:  # noqa: BLE001  (the oracle refuses: then any answer that came back is suspect)
            self.expect(f"{what}: returned {result!r} where the oracle raises {type(e).__name__}: {e}", forged)
            return
        ok = type(result) is Tensor and type(result._value) is np.ndarray and result._value.shape == expected.shape \
            and np.allclose(result._value.astype(np.float64), expected.astype(np.float64), rtol=1e-6, equal_nan=True)
        self.expect(f"{what}: returned {result!r}, numpy gives {expected!r}", ok or forged)


def fits(value: Any, dtype: np.dtype, shape: tuple, writable: bool) -> bool:
    """What the native entry must accept."""
    return (type(value) is np.ndarray and value.dtype == dtype and value.dtype.isnative and value.shape == shape
            and value.flags.c_contiguous and value.flags.aligned and (value.flags.writeable or not writable))


def fuzz_native(fz: Fuzz, name: str, compiled: Any, inputs: list[np.ndarray], oracle: Callable[..., Any],
                concrete_vars: bool) -> None:
    """The builtin itself, every position: arrays (then Variable arrays), outputs, workspace, chunk range, arity."""
    from codegen.entry import EntryArgumentError
    lowered = compiled.lowered
    outs = [np.empty(t.shape, t.dtype.np) for t in lowered.results]
    var_outs = [np.empty(lowered.params[i].shape, lowered.params[i].dtype.np) for i in lowered.assigned]
    ws = compiled.workspace()
    good = [*inputs, *outs, *var_outs, ws, 0, lowered.chunks]
    n_in, n_arrays = len(inputs), len(inputs) + len(outs) + len(var_outs)
    weird_ws = [("small", np.empty(8, np.uint8)), ("int64", np.empty(ws.size // 8 + 1, np.int64)),
                ("readonly", _readonly(ws)), ("misaligned", _misaligned(ws)),
                ("strided", np.empty(2 * ws.size, np.uint8)[::2])]
    weird_bounds = [("-1", -1), ("too far", lowered.chunks + 1), ("float", 0.0), ("bool", False), ("huge", 2 ** 80),
                    ("None", None), ("numpy int", np.int64(0))]
    for pos in range(len(good)):
        if pos < n_arrays:
            spec_arr = good[pos]
            variants = array_variants(spec_arr) + python_values()
        elif pos == n_arrays:
            variants = weird_ws + python_values()
        else:
            variants = weird_bounds + python_values()
        for vname, v in variants:
            args = list(good)
            args[pos] = v
            what = f"{name}: native arg {pos} = {vname}"
            if pos < n_arrays:
                accept = fits(v, spec_arr.dtype, spec_arr.shape, writable=pos >= n_in)
            elif pos == n_arrays:
                accept = fits(v, np.dtype(np.uint8), v.shape if type(v) is np.ndarray else (), True) and \
                    v.ndim == 1 and v.size >= ws.size and v.ctypes.data % 8 == 0
            else:
                accept = type(v) is int and 0 <= v <= lowered.chunks
            try:
                code = compiled._py(*args)
            except EntryArgumentError:
                fz.expect(what + " was refused", not accept)
                continue
            except Exception as e:  # noqa: BLE001
                fz.expect(f"{what}: raised {type(e).__name__}: {e}", False)
                continue
            ok = accept and code == 0
            if ok and pos < n_in and outs and lowered.chunks == 1 and not concrete_vars:
                ok = np.array_equal(args[n_in], oracle(*args[:n_in]), equal_nan=True)
            fz.expect(f"{what}: returned {code} (accepted: {accept})", ok)
        for extra in ((), tuple(good[:-1]), tuple(good) + (0,)):
            try:
                compiled._py(*extra)
                fz.expect(f"{name}: native call with {len(extra)} args returned", False)
            except EntryArgumentError:
                fz.expect(name, True)


def main() -> None:
    warnings.simplefilter("ignore")
    import engine as tf
    fz = Fuzz()
    v = tf.Variable(np.arange(3, dtype=np.float32))
    w = tf.Variable(np.zeros(3, np.float32))

    def assign_and_read(x: Any) -> Any:
        w.assign(x)
        return x + v
    cases: list[tuple[str, Callable[..., Any], Callable[..., Any], list[np.ndarray]]] = [
        ("scalar f32", lambda x: x * 3.0, lambda x: x * np.float32(3), [np.array(2.0, np.float32)]),
        ("f32[3]", lambda x: x * 2.0, lambda x: x * np.float32(2), [np.arange(3, dtype=np.float32)]),
        ("f64[2,3] + f64[2,3]", lambda x, y: x + y, lambda x, y: x + y,
         [np.arange(6.0).reshape(2, 3), np.ones((2, 3))]),
        ("i32[4] * i32[4] - i32[4]", lambda a, b, c: a * b - c, lambda a, b, c: a * b - c,
         [np.arange(4, dtype=np.int32), np.full(4, 3, np.int32), np.ones(4, np.int32)]),
        ("bool[3] and", lambda p, q: tf.logical_and(p, q), np.logical_and,
         [np.array([True, False, True]), np.array([True, True, False])]),
        ("i64[2,2] reduce", lambda x: tf.reduce_sum(x, axis=0), lambda x: x.sum(axis=0),
         [np.arange(4, dtype=np.int64).reshape(2, 2)]),
        ("variables f32[3]", assign_and_read, lambda x: x + np.arange(3, dtype=np.float32),
         [np.arange(3, dtype=np.float32) + 1]),
        ("tiled f32[256,256]", lambda x: x * 2.0 + 1.0, lambda x: x * np.float32(2) + np.float32(1),
         [np.ones((256, 256), np.float32)]),
    ]
    for name, body, oracle, inputs in cases:
        f = tf.function(body)
        tensors = [tf.constant(a) for a in inputs]
        f(*tensors)
        f(*tensors)
        concrete = f.get_concrete_function(*tensors)
        compiled = concrete.compiled
        fast = concrete.fast_call([t.type for t in tensors])
        for pos in range(len(inputs)):
            weird = [(n, x, False) for n, x in array_variants(inputs[pos]) + python_values()] + \
                [(n, x, n.startswith("forged")) for n, x in tensor_variants(inputs[pos])]
            if name.startswith("tiled"):
                weird = [x for x in weird if not x[0].startswith(("as ", "tensor(as "))]  # no new 256x256 compiles
            for vname, x, forged in weird:
                args = list(tensors)
                args[pos] = x

                def numpy_oracle(args: list = args) -> Any:
                    arrays = [np.asarray(a._value if hasattr(a, "_value") else a) for a in args]
                    if any(a.dtype != i.dtype or a.shape != i.shape for a, i in zip(arrays, inputs)):
                        raise TypeError("the concrete function's types only")
                    return oracle(*arrays)
                what = f"{name}: arg {pos} = {vname}"
                # The public Function converts and retraces as TensorFlow does: its oracle is the body run eagerly.
                fz.python_entry(what + " via Function", lambda: f(*args), lambda: _eager(body, args), forged)
                fz.python_entry(what + " via ConcreteFunction", lambda: concrete(*args), numpy_oracle, forged)
                if fast is not None:
                    fz.python_entry(what + " via fast caller", lambda: fast(*args), numpy_oracle, forged)
                arrays = [t._value for t in tensors] + [var.cell.array for var in concrete.variables]
                arrays[pos] = x
                cells = [concrete.variables[i - len(inputs)].cell for i in compiled.lowered.assigned]
                fz.python_entry(what + " via CompiledFunction.run", lambda: _wrap(compiled.run(arrays, cells)),
                                numpy_oracle, forged)
        fuzz_native(fz, name, compiled, [t._value for t in tensors] + [var.cell.array for var in concrete.variables],
                    oracle, bool(concrete.variables))
    print(json.dumps({"calls": fz.calls, "bad": fz.bad}))


def _eager(body: Callable[..., Any], args: list) -> Any:
    """The body run eagerly on what the Function passes it: numpy arguments become tensors (as TensorFlow converts
    them), so that `x * 3.0` on a bool array follows TensorFlow's bool operator, not numpy's."""
    import engine as tf
    args = [tf.constant(a) if isinstance(a, (np.ndarray, np.generic)) else a for a in args]
    out = body(*args)
    return out._value if hasattr(out, "_value") else out


def _wrap(outs: list) -> Any:
    from engine.tensor import Tensor
    return Tensor(outs[0])


def test_no_argument_crashes_the_native_entry() -> None:
    env = dict(os.environ, PYTHONPATH=ROOT)
    proc = subprocess.run([sys.executable, os.path.abspath(__file__)], capture_output=True, text=True, env=env,
                          timeout=600, cwd=ROOT)
    assert proc.returncode == 0, f"the fuzz process died (exit {proc.returncode}):\n{proc.stderr[-3000:]}"
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["calls"] > 3000
    assert not report["bad"], "\n".join(report["bad"])


if __name__ == "__main__":
    main()
