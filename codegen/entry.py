"""The native entry of a compiled function: the one builtin Python calls, which checks every argument first.

`build(module, specs, ...)` emits `ptr @kiln_py(ptr self, ptr args, i64 nargs)`, a METH_FASTCALL builtin taking
the arrays (parameters, then outputs, then the new arrays of assigned Variables), the workspace array (its first 16
bytes are the status words), and the chunk range [begin, end) as Python ints. Before it reads a single data pointer
it checks, for every argument, what the kernel relies on: an exact `numpy.ndarray` (no subclass, no other object),
the dtype (type number and native byte order), the rank and every static dimension (an unknown one, `None` in the
spec, is passed on to the kernel after the data pointers, see codegen.lower), C-contiguity, alignment, and
writability for what it writes; the workspace's size and 8-byte alignment; the chunk range's type and bounds. A
failed check raises `EntryArgumentError` naming the argument, so no Python object can make the kernel read or write
out of bounds. The checks are a few loads and compares per argument (a couple of nanoseconds in all).

It reads numpy's C structs at fixed offsets (`PyArrayObject_fields` and `PyArray_Descr`, stable across numpy 1.x and
2.x); `check_layout()` verifies them against this process's numpy once, at import, so a numpy with another layout
fails loudly here instead of being misread. The addresses it compares with (the ndarray and int type objects, the
exception class) are imported symbols resolved when the object code is linked, never constants in the code, so an
object file from the disk cache is valid in any process.

It also owns `raise_error`, the one place that turns a kernel's nonzero status into the Python exception of the
error table (`Lowered.errors`).
"""
from __future__ import annotations

import ctypes
import sys
from typing import Any, NamedTuple, Optional, Sequence

import llvmlite.ir as lir
import numpy as np

from codegen import interrupt
from codegen.values import I8, I32, I64, PTR


class EntryArgumentError(TypeError):
    """An argument of a native entry is not an array of exactly the type the kernel was compiled for."""


# PyArrayObject_fields: ob_refcnt, ob_type, data, nd, dimensions, strides, base, descr, flags.
_OB_TYPE, _DATA, _ND, _DIMS, _DESCR, _FLAGS = 8, 16, 24, 32, 56, 64
# PyArray_Descr: ob_refcnt, ob_type, typeobj, kind, type, byteorder, (flags), type_num.
_BYTEORDER, _TYPE_NUM = 26, 28
C_CONTIGUOUS, ALIGNED, WRITEABLE = 0x0001, 0x0100, 0x0400
_SWAPPED = ord(">" if sys.byteorder == "little" else "<")

#: Symbols the entry imports, resolved at link time (see `symbols()`).
SYMBOLS = ("kiln_sym_ndarray", "kiln_sym_int", "kiln_sym_entry_error")


def symbols() -> dict[str, int]:
    """The addresses of this process's objects the entry compares with or raises."""
    return {"kiln_sym_ndarray": id(np.ndarray), "kiln_sym_int": id(int), "kiln_sym_entry_error": id(EntryArgumentError),
            "PyErr_SetString": ctypes.cast(ctypes.pythonapi.PyErr_SetString, ctypes.c_void_p).value}


def check_layout() -> None:
    """Verifies the struct offsets above on real arrays of this numpy."""
    def at(obj: Any, offset: int, ctype: Any) -> Any:
        return ctype.from_address(id(obj) + offset).value
    a = np.empty((3, 5), np.float64)
    v = np.frombuffer(bytearray(13), np.uint8, offset=1)[::2]
    swapped = np.empty(2, ">i4" if sys.byteorder == "little" else "<i4")
    ok = (at(a, _OB_TYPE, ctypes.c_void_p) == id(np.ndarray) and at(a, _DATA, ctypes.c_void_p) == a.ctypes.data
          and at(a, _ND, ctypes.c_int32) == 2 and at(v, _ND, ctypes.c_int32) == 1
          and list((ctypes.c_int64 * 2).from_address(at(a, _DIMS, ctypes.c_void_p))) == [3, 5]
          and at(a, _DESCR, ctypes.c_void_p) == id(a.dtype)
          and at(a.dtype, _TYPE_NUM, ctypes.c_int32) == a.dtype.num
          and at(swapped.dtype, _TYPE_NUM, ctypes.c_int32) == swapped.dtype.num
          and at(swapped.dtype, _BYTEORDER, ctypes.c_uint8) == _SWAPPED
          and at(a, _FLAGS, ctypes.c_int32) & (C_CONTIGUOUS | ALIGNED | WRITEABLE) == C_CONTIGUOUS | ALIGNED | WRITEABLE
          and at(v, _FLAGS, ctypes.c_int32) & C_CONTIGUOUS == 0)
    a.flags.writeable = False
    ok = ok and at(a, _FLAGS, ctypes.c_int32) & WRITEABLE == 0
    if not ok:
        raise ImportError(f"numpy {np.__version__}: its ndarray struct layout is not the one Kiln's native entry reads")


check_layout()


def type_numbers(dtype: np.dtype) -> list[int]:
    """numpy's type numbers for arrays of `dtype` (int64 is both `long` and `long long` on LP64 platforms). An
    extension dtype (ml_dtypes' bfloat16) has the number numpy gave it when it was registered in this process; the
    disk cache's key includes it (codegen.cache.key)."""
    return sorted({np.dtype(c).num for c in np.typecodes["All"] if np.dtype(c) == dtype}) or [np.dtype(dtype).num]


class ArraySpec(NamedTuple):
    """One array argument of the entry: what it must be, and how an error names it."""
    role: str
    dtype: np.dtype
    # ints; None for a parameter's unknown dim; ("param_dim", j) for a result's dim equal to the j-th of those
    shape: tuple[Any, ...]
    writable: bool

    def describe(self, i: int) -> str:
        return f"argument {i} ({self.role}) " + self._requirement()

    def describe_format(self) -> str:
        """`describe` as a printf format taking the argument's index (%lld) and role (%s)."""
        return "argument %lld (%s) " + self._requirement().replace("%", "%%")

    def _requirement(self) -> str:
        shape = ", ".join(str(d) if isinstance(d, int) else "?" for d in self.shape)
        return (f"must be an exact numpy.ndarray of {self.dtype}[{shape}], C-contiguous, aligned"
                + (" and writable" if self.writable else ""))


def build(module: lir.Module, specs: Sequence[ArraySpec], workspace_bytes: int, chunks: int,
          release_gil: bool, rows: Any = None) -> None:
    """Emits `@kiln_py`: checks every argument, then calls `@kiln_entry(argv, workspace + 64, status, begin,
    end)` (releasing the GIL around it when `release_gil`) and returns its status code as a Python int. With
    `rows` (codegen.chunks.RunTimeRows), the chunks are those of the run-time row count: ceil(rows / rows.rows)."""
    fn = lir.Function(module, lir.FunctionType(PTR, [PTR, PTR, I64]), "kiln_py")
    _, args, nargs = fn.args
    b = lir.IRBuilder(fn.append_basic_block("entry"))
    set_error = lir.Function(module, lir.FunctionType(lir.VoidType(), [PTR, PTR]), "PyErr_SetString")
    imported = {name: lir.GlobalVariable(module, I8, name) for name in SYMBOLS}

    fails: dict[str, lir.Block] = {}

    def fail_if_not(ok: Any, message: str) -> None:
        """Continue when `ok`; else raise EntryArgumentError(message) and return NULL (one block per message)."""
        fail = fails.get(message)
        if fail is None:
            fail = fails[message] = fn.append_basic_block("fail")
            with b.goto_block(fail):
                text = bytearray(f"kiln native entry: {message}".encode()) + b"\0"
                msg = lir.GlobalVariable(module, lir.ArrayType(I8, len(text)), f"kiln_msg.{len(fails)}")
                msg.initializer = lir.Constant(lir.ArrayType(I8, len(text)), text)
                msg.global_constant = True
                msg.linkage = "private"
                b.call(set_error, [imported["kiln_sym_entry_error"], msg])
                b.ret(lir.Constant(PTR, None))
        cont = fn.append_basic_block("ok")
        b.cbranch(ok, cont, fail)
        b.position_at_end(cont)

    def field(obj: Any, offset: int, typ: lir.Type) -> Any:
        return b.load(b.gep(obj, [lir.Constant(I64, offset)], inbounds=True, source_etype=I8), typ=typ)

    def arg(i: int) -> Any:
        return b.load(b.gep(args, [lir.Constant(I64, i)], inbounds=True, source_etype=PTR), typ=PTR)

    def all_of(conds: list[Any]) -> Any:
        out = conds[0]
        for c in conds[1:]:
            out = b.and_(out, c)
        return out

    def checked_array(i: int, spec: ArraySpec, message: str, min_items: Optional[int] = None) -> Any:
        """The data pointer of argument i, after checking it against `spec` (with `min_items`: a rank-1 array of
        at least that many elements rather than an exact shape)."""
        return checked_object(arg(i), spec, lambda ok: fail_if_not(ok, message), min_items)

    def checked_object(obj: Any, spec: ArraySpec, check: Any, min_items: Optional[int] = None) -> Any:
        check(b.icmp_unsigned("==", field(obj, _OB_TYPE, PTR), imported["kiln_sym_ndarray"]))
        descr = field(obj, _DESCR, PTR)
        nums = [b.icmp_signed("==", field(descr, _TYPE_NUM, I32), lir.Constant(I32, n))
                for n in type_numbers(spec.dtype)]
        is_type = nums[0]
        for c in nums[1:]:
            is_type = b.or_(is_type, c)
        native = b.icmp_unsigned("!=", field(descr, _BYTEORDER, I8), lir.Constant(I8, _SWAPPED))
        need = C_CONTIGUOUS | ALIGNED | (WRITEABLE if spec.writable else 0)
        flags = b.and_(field(obj, _FLAGS, I32), lir.Constant(I32, need))
        rank = len(spec.shape) if min_items is None else 1
        conds = [is_type, native, b.icmp_signed("==", flags, lir.Constant(I32, need)),
                 b.icmp_signed("==", field(obj, _ND, I32), lir.Constant(I32, rank))]
        check(all_of(conds))
        if rank:
            dims = field(obj, _DIMS, PTR)
            sizes = [b.load(b.gep(dims, [lir.Constant(I64, k)], inbounds=True, source_etype=I64), typ=I64)
                     for k in range(rank)]
            if min_items is None:
                # a dim is static (an int), a parameter's unknown dim (None: passed on to the kernel), or a
                # result's dim that equals the j-th of those (("param_dim", j))
                unknown.extend(s for s, d in zip(sizes, spec.shape) if d is None)
                want = [unknown[d[1]] if isinstance(d, tuple) else d for d in spec.shape]
                ok = all_of([b.icmp_signed("==", s, lir.Constant(I64, d) if isinstance(d, int) else d)
                             for s, d in zip(sizes, want) if d is not None] or [lir.Constant(lir.IntType(1), 1)])
            else:
                ok = b.icmp_signed(">=", sizes[0], lir.Constant(I64, min_items))
            check(ok)
        return field(obj, _DATA, PTR)

    def string(text: str, prefix: str) -> lir.GlobalVariable:
        data = bytearray(text.encode()) + b"\0"
        g = lir.GlobalVariable(module, lir.ArrayType(I8, len(data)), module.get_unique_name(prefix))
        g.initializer = lir.Constant(lir.ArrayType(I8, len(data)), data)
        g.global_constant = True
        g.linkage = "private"
        return g

    def checked_run(start: int, run: Sequence[ArraySpec]) -> None:
        """Arguments start.. of equal specs, checked in a loop (the code of one check, not one per argument); a
        failure names the argument and its role as the unrolled checks do."""
        table = lir.GlobalVariable(module, lir.ArrayType(PTR, len(run)), module.get_unique_name("kiln_roles"))
        table.initializer = lir.Constant(lir.ArrayType(PTR, len(run)),
                                         [string(spec.role, "kiln_role") for spec in run])
        table.global_constant = True
        table.linkage = "private"
        fmt = string("kiln native entry: " + run[0].describe_format(), "kiln_fmt")
        pre = b.block
        head, body, fail, done = (fn.append_basic_block(x) for x in ("run.head", "run.body", "run.fail", "run.end"))
        b.branch(head)
        b.position_at_end(head)
        j = b.phi(I64)
        j.add_incoming(lir.Constant(I64, 0), pre)
        b.cbranch(b.icmp_signed("<", j, lir.Constant(I64, len(run))), body, done)
        b.position_at_end(body)
        i = b.add(j, lir.Constant(I64, start))
        with b.goto_block(fail):
            role = b.load(b.gep(table, [lir.Constant(I64, 0), j], inbounds=True), typ=PTR)
            b.call(format_error(), [imported["kiln_sym_entry_error"], fmt, i, role])
            b.ret(lir.Constant(PTR, None))

        def check(ok: Any) -> None:
            cont = fn.append_basic_block("ok")
            b.cbranch(ok, cont, fail)
            b.position_at_end(cont)
        obj = b.load(b.gep(args, [i], inbounds=True, source_etype=PTR), typ=PTR)
        data = checked_object(obj, run[0], check)
        b.store(data, b.gep(argv, [lir.Constant(I64, 0), i], inbounds=True))
        j.add_incoming(b.add(j, lir.Constant(I64, 1)), b.block)
        b.branch(head)
        b.position_at_end(done)

    def format_error() -> lir.Function:
        f = module.globals.get("PyErr_Format")
        return f if f is not None else lir.Function(module, lir.FunctionType(PTR, [PTR, PTR], var_arg=True),
                                                    "PyErr_Format")

    n = len(specs)
    fail_if_not(b.icmp_signed("==", nargs, lir.Constant(I64, n + 3)),
                f"expects {n + 3} arguments ({n} arrays, the workspace, the chunk range begin and end)")
    n_dims = sum(spec.shape.count(None) for spec in specs)
    argv = b.alloca(lir.ArrayType(PTR, max(n + n_dims, 1)))
    unknown: list[Any] = []  # the run-time sizes of the specs' unknown dims, in order
    for start, end in _runs(specs):
        if end - start >= LOOP_MIN_ARRAYS and _static(specs[start]):
            checked_run(start, specs[start:end])
            continue
        for i in range(start, end):
            if n >= LOOP_MIN_ARRAYS and len(type_numbers(specs[i].dtype)) <= 2 and _static(specs[i]):
                obj = arg(i)  # many arguments: one shared check function instead of each check inline
                fail_if_not(b.call(_check_function(module, imported["kiln_sym_ndarray"]), _check_args(module, obj,
                                                                                                    specs[i])),
                            specs[i].describe(i))
                data = field(obj, _DATA, PTR)
            else:
                data = checked_array(i, specs[i], specs[i].describe(i))
            b.store(data, b.gep(argv, [lir.Constant(I32, 0), lir.Constant(I32, i)], inbounds=True))
    for j, size in enumerate(unknown):
        b.store(size, b.gep(argv, [lir.Constant(I32, 0), lir.Constant(I32, n + j)], inbounds=True))
    ws = checked_array(n, ArraySpec("the workspace", np.dtype(np.uint8), (workspace_bytes,), True),
                       f"argument {n} (the workspace) must be an exact, C-contiguous, writable numpy.ndarray of "
                       f"uint8 with at least {workspace_bytes} elements", min_items=workspace_bytes)
    fail_if_not(b.icmp_unsigned("==", b.and_(b.ptrtoint(ws, I64), lir.Constant(I64, 7)), lir.Constant(I64, 0)),
                f"argument {n} (the workspace) must be 8-byte aligned")
    as_int = lir.Function(module, lir.FunctionType(I64, [PTR]), "PyLong_AsLongLong")
    bounds = []
    for k, what in enumerate(("begin", "end")):
        obj = arg(n + 1 + k)
        fail_if_not(b.icmp_unsigned("==", field(obj, _OB_TYPE, PTR), imported["kiln_sym_int"]),
                    f"argument {n + 1 + k} (chunk range {what}) must be an int")
        bounds.append(b.call(as_int, [obj]))
    begin, end = bounds
    if rows is None:
        last, what = lir.Constant(I64, chunks), str(chunks)
    else:  # ceil(n / rows.rows) of the row count n >= 0 the array checks read
        step = lir.Constant(I64, rows.rows)
        last = b.udiv(b.add(unknown[rows.slots[0]], lir.Constant(I64, rows.rows - 1)), step)
        what = f"ceil(rows of parameter {rows.param} / {rows.rows})"
    fail_if_not(all_of([b.icmp_signed("<=", lir.Constant(I64, 0), begin), b.icmp_signed("<=", begin, end),
                        b.icmp_signed("<=", end, last)]),
                f"the chunk range must satisfy 0 <= begin <= end <= {what}")
    status = ws
    counter = lir.GlobalVariable(module, I64, interrupt.SYMBOL) if interrupt.SYMBOL not in module.globals \
        else module.globals[interrupt.SYMBOL]
    start = b.gep(status, [lir.Constant(I64, 8 * interrupt.STATUS_START)], inbounds=True, source_etype=I8)
    b.store(b.load_atomic(counter, "monotonic", 8, typ=I64), start)
    body_ws = b.gep(ws, [lir.Constant(I64, 64)], inbounds=True, source_etype=I8)
    entry = module.globals["kiln_entry"]
    if release_gil:
        save = lir.Function(module, lir.FunctionType(PTR, []), "PyEval_SaveThread")
        restore = lir.Function(module, lir.FunctionType(lir.VoidType(), [PTR]), "PyEval_RestoreThread")
        ts = b.call(save, [])
        code = b.call(entry, [argv, body_ws, status, begin, end])
        b.call(restore, [ts])
    else:
        code = b.call(entry, [argv, body_ws, status, begin, end])
    make_int = lir.Function(module, lir.FunctionType(PTR, [I64]), "PyLong_FromLongLong")
    b.ret(b.call(make_int, [b.sext(code, I64)]))


def _check_function(module: lir.Module, ndarray: lir.GlobalVariable) -> lir.Function:
    """`i1 @kiln_check_array(ptr obj, i32 num0, i32 num1, i32 need, i32 rank, ptr dims)`: the checks of
    `checked_object` as one function (an exact ndarray, type number num0 or num1 in native byte order, the `need`
    flags, rank and dims equal to the i64 array at `dims`)."""
    f = module.globals.get("kiln_check_array")
    if f is not None:
        return f
    f = lir.Function(module, lir.FunctionType(lir.IntType(1), [PTR, I32, I32, I32, I32, PTR]), "kiln_check_array")
    f.linkage = "internal"
    obj, num0, num1, need, rank, dims = f.args
    entry, attrs, head, body, yes, no = (f.append_basic_block(x)
                                         for x in ("entry", "attrs", "dims.head", "dims.body", "yes", "no"))
    b = lir.IRBuilder(entry)

    def field(ptr: Any, offset: int, typ: lir.Type) -> Any:
        return b.load(b.gep(ptr, [lir.Constant(I64, offset)], inbounds=True, source_etype=I8), typ=typ)
    b.cbranch(b.icmp_unsigned("==", field(obj, _OB_TYPE, PTR), ndarray), attrs, no)
    b.position_at_end(attrs)
    descr = field(obj, _DESCR, PTR)
    num = field(descr, _TYPE_NUM, I32)
    ok = b.or_(b.icmp_signed("==", num, num0), b.icmp_signed("==", num, num1))
    ok = b.and_(ok, b.icmp_unsigned("!=", field(descr, _BYTEORDER, I8), lir.Constant(I8, _SWAPPED)))
    ok = b.and_(ok, b.icmp_signed("==", b.and_(field(obj, _FLAGS, I32), need), need))
    ok = b.and_(ok, b.icmp_signed("==", field(obj, _ND, I32), rank))
    actual = field(obj, _DIMS, PTR)
    b.cbranch(ok, head, no)
    b.position_at_end(head)
    k = b.phi(I32)
    k.add_incoming(lir.Constant(I32, 0), attrs)
    b.cbranch(b.icmp_signed("<", k, rank), body, yes)
    b.position_at_end(body)
    k64 = b.zext(k, I64)
    got = b.load(b.gep(actual, [k64], inbounds=True, source_etype=I64), typ=I64)
    want = b.load(b.gep(dims, [k64], inbounds=True, source_etype=I64), typ=I64)
    k.add_incoming(b.add(k, lir.Constant(I32, 1)), body)
    b.cbranch(b.icmp_signed("==", got, want), head, no)
    b.position_at_end(yes)
    b.ret(lir.Constant(lir.IntType(1), 1))
    b.position_at_end(no)
    b.ret(lir.Constant(lir.IntType(1), 0))
    return f


def _check_args(module: lir.Module, obj: Any, spec: ArraySpec) -> list[Any]:
    nums = type_numbers(spec.dtype)
    need = C_CONTIGUOUS | ALIGNED | (WRITEABLE if spec.writable else 0)
    dims_ty = lir.ArrayType(I64, max(len(spec.shape), 1))
    dims = lir.GlobalVariable(module, dims_ty, module.get_unique_name("kiln_dims"))
    dims.initializer = lir.Constant(dims_ty, [int(d) for d in spec.shape] or [0])
    dims.global_constant = True
    dims.linkage = "private"
    return [obj, lir.Constant(I32, nums[0]), lir.Constant(I32, nums[-1]), lir.Constant(I32, need),
            lir.Constant(I32, len(spec.shape)), dims]


#: Runs of at least this many arguments with equal specs are checked in a loop: the 400 weight and gradient arrays
#: of a 200-layer gradient were 19,000 lines of LLVM IR (most of its compile time) when every check was unrolled.
LOOP_MIN_ARRAYS = 8


def _static(spec: ArraySpec) -> bool:
    """Every dim of the spec is a static size (the shared checks compare with constant dims)."""
    return all(isinstance(d, int) for d in spec.shape)


def _runs(specs: Sequence[ArraySpec]) -> list[tuple[int, int]]:
    """[start, end) of the maximal runs of consecutive specs with the same dtype, shape and writability."""
    out: list[tuple[int, int]] = []
    start = 0
    for i in range(1, len(specs) + 1):
        if i == len(specs) or specs[i][1:] != specs[start][1:]:
            out.append((start, i))
            start = i
    return out


def raise_error(lowered: Any, pending: dict[int, str], code: int, ws: np.ndarray) -> None:
    """Raises the error a kernel reported with status `code`; `ws` is the workspace of that call (its second
    status word is the offending value), `pending` the details an assert's callback left for the code. Read the
    workspace before handing it to another call."""
    value, value2 = (int(v) for v in ws[8:32].view(np.int64)[[0, 2]])
    err = lowered.errors[code - 1]
    if err.kind is KeyboardInterrupt:
        interrupt.raise_interrupt(err.message)
    detail = pending.pop(code, None)
    raise err.kind(err.message.format(value=detail if detail is not None else value, value2=value2))
