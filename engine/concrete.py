"""ConcreteFunction and TensorSpec: one traced signature of an `engine.function`, and how it runs.

`trace_function` turns a Python function plus bound arguments into a ConcreteFunction: tensor and array arguments
become typed parameters, Variables become reference parameters (captured as they are read), Python values are
baked in. Calls run the optimized IR on the reference interpreter (`jit_compile=False`) or, once compiled code is
available, natively.

A TensorSpec's None dims stay unknown (`?`) in the IR: one trace serves every size. Whether a call then runs one
generic kernel or a specialization compiled for its argument shapes is decided in one place, `kernel_ir`
(engine.kernels, re-exported here): until codegen says it compiles a function's run-time sizes itself, each
distinct tuple of argument shapes gets its own static specialization (ir.passes.specialize), cached on the
concrete function (and on disk, keyed by its IR).
"""
from __future__ import annotations

import inspect
import sys
from typing import Any, Callable, Optional

import numpy as np

from autodiff import tape as _tape
from engine import nest
from engine.call_gradient import record_call
from engine.convert import convert_to_tensor
from engine.fastcall import PROFILING
from engine.kernels import compiles_generically, kernel_ir  # (the decision; re-exported)
from engine.tensor import Tensor, TensorShape
from engine.trace import Trace, is_library_file
from engine.variables import Variable
from ir import timing
from ir.core import Function
from ir.opdef import dims_fit
from ir.types import DType, TensorType, as_dtype, float32, from_numpy


class TensorSpec:
    """The type of a tensor argument: `TensorSpec(shape, dtype=float32, name=None)`; None dims match any size."""

    def __init__(self, shape: Any, dtype: Any = float32, name: Optional[str] = None) -> None:
        # A TensorShape (a tuple), as TensorFlow's spec.shape; None dims are unknown.
        self.shape = TensorShape(None if d is None else int(d) for d in shape) if shape is not None else None
        self.dtype: DType = as_dtype(dtype)
        self.name = name

    @classmethod
    def from_tensor(cls, tensor: Any, name: Optional[str] = None) -> "TensorSpec":
        return cls(tuple(tensor.shape), tensor.dtype, name)

    def is_compatible_with(self, value: Any) -> bool:
        if isinstance(value, TensorSpec):
            dtype, shape = value.dtype, value.shape
        elif isinstance(value, (Tensor, Variable)):
            dtype, shape = value.dtype, tuple(value.shape)
        elif isinstance(value, np.ndarray):
            try:
                dtype, shape = from_numpy(value.dtype), value.shape
            except TypeError:
                return False
        else:
            try:
                t = convert_to_tensor(value, dtype_hint=self.dtype)
            except (TypeError, ValueError):
                return False
            dtype, shape = t.dtype, tuple(t.shape)
        if dtype is not self.dtype:
            return False
        if self.shape is None:
            return True
        return shape is not None and len(shape) == len(self.shape) and all(
            s is None or d is None or s == d for s, d in zip(self.shape, shape))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TensorSpec) and (self.shape, self.dtype, self.name) == \
            (other.shape, other.dtype, other.name)

    def __hash__(self) -> int:
        return hash((self.shape, self.dtype.name, self.name))

    def __repr__(self) -> str:
        shape = "None" if self.shape is None else str(TensorShape(d for d in self.shape)) if \
            all(d is not None for d in self.shape) else "(" + ", ".join(str(d) for d in self.shape) + \
            ("," if len(self.shape) == 1 else "") + ")"
        return f"TensorSpec(shape={shape}, dtype=engine.{self.dtype.name}, name={self.name!r})"


def _is_tensor_arg(x: Any) -> bool:
    return isinstance(x, (Tensor, np.ndarray, TensorSpec)) or is_numpy_scalar(x)


def is_numpy_scalar(x: Any) -> bool:
    """A numpy scalar of a Kiln dtype: a tensor argument, as TensorFlow takes it (no retrace per value)."""
    if not isinstance(x, np.generic):
        return False
    try:
        from_numpy(x.dtype)
    except TypeError:
        return False
    return True


def _type_of_arg(x: Any) -> TensorType:
    if isinstance(x, Tensor):
        return x.type
    if isinstance(x, TensorSpec):
        return TensorType(x.dtype, x.shape)  # type: ignore[arg-type]
    return TensorType(from_numpy(x.dtype), x.shape)


def _leaf_names(name: str, value: Any) -> list[str]:
    if not nest.is_nested(value):
        return [name]
    if isinstance(value, dict):
        from engine.nest import _sort_key
        return [n for k in sorted(value, key=_sort_key) for n in _leaf_names(f"{name}_{k}", value[k])]
    return [n for i, v in enumerate(value) for n in _leaf_names(f"{name}_{i}", v)]


class _NameHints:
    """While tracing, names IR values after the user's local variables (read at each user frame's return)."""

    def __init__(self) -> None:
        self._previous: Any = None

    def _hook(self, frame: Any, event: str, arg: Any) -> None:
        if event == "return" and not is_library_file(frame.f_code.co_filename):
            for var, value in frame.f_locals.items():
                if isinstance(value, Tensor) and value._node is not None and value._node.name is None \
                        and var.isidentifier() and not var.startswith(("ag__", "_")):
                    value._node.name = var

    def __enter__(self) -> "_NameHints":
        # Names are cosmetic: under a profiler or debugger's own hook, trace without them rather than displace it.
        self._previous = sys.getprofile()
        if self._previous is None:
            sys.setprofile(self._hook)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._previous is None:
            sys.setprofile(None)


def trace_function(name: str, pyfunc: Callable[..., Any], signature: inspect.Signature,
                   bound: inspect.BoundArguments, jit_compile: Optional[bool] = True) -> "ConcreteFunction":
    with timing.compiling(name), timing.phase("trace"):
        return _trace_function(name, pyfunc, signature, bound, jit_compile)


def _trace_function(name: str, pyfunc: Callable[..., Any], signature: inspect.Signature,
                    bound: inspect.BoundArguments, jit_compile: Optional[bool]) -> "ConcreteFunction":
    arguments = dict(bound.arguments)
    trace = Trace(name)
    param_slots: list[tuple[str, int]] = []   # (argument name, leaf index) of each tensor parameter
    with trace:
        new_arguments = {}
        for arg_name, value in arguments.items():
            leaves = nest.flatten(value)
            names = _leaf_names(arg_name, value)
            new_leaves = []
            for i, (leaf, leaf_name) in enumerate(zip(leaves, names)):
                if _is_tensor_arg(leaf):
                    new_leaves.append(trace.add_param(_type_of_arg(leaf), leaf_name))
                    param_slots.append((arg_name, i))
                else:
                    new_leaves.append(leaf)
            new_arguments[arg_name] = nest.pack_sequence_as(value, new_leaves) if nest.is_nested(value) \
                else new_leaves[0]
        call = inspect.BoundArguments(signature, new_arguments)  # type: ignore[arg-type]
        with _NameHints():
            outputs = pyfunc(*call.args, **call.kwargs)
        flat_out = nest.flatten(outputs)
        returned = []
        for leaf in flat_out:
            if leaf is None:
                continue
            if isinstance(leaf, Variable):
                leaf = leaf.value()
            if not isinstance(leaf, Tensor):
                leaf = convert_to_tensor(leaf)
            returned.append(leaf)
        fn = trace.finish(returned)
    timing.note_ops(len(fn.block.ops))
    from ir.dump import dump, wanted
    if wanted("ir"):  # printing costs milliseconds: only when asked for
        dump("ir", name, str(fn))
    concrete = ConcreteFunction(name, fn, signature, arguments, param_slots, outputs, trace.variables, jit_compile)
    if trace.custom_gradients:
        concrete.custom_gradient_python = pyfunc
    return concrete


class ConcreteFunction:
    """One traced signature: callable, printable, with its IR (`.ir`, `.optimized_ir`)."""

    def __init__(self, name: str, fn: Function, signature: inspect.Signature, arguments: dict,
                 param_slots: list[tuple[str, int]], outputs: Any, variables: list[Variable],
                 jit_compile: Optional[bool]) -> None:
        self.name = name
        self.ir = fn
        self._signature = signature
        self._arguments = arguments
        self._param_slots = param_slots
        self.structured_outputs = outputs
        self.variables = list(variables)
        self.jit_compile = jit_compile
        self._optimized: Optional[Function] = None
        self._compiled: Any = None
        # Unknown dims that codegen cannot take at run time: one static specialization per argument shapes.
        self._generic = jit_compile is not False and not compiles_generically(fn)  # (needs unknown dims)
        self._specializations: dict[Any, "ConcreteFunction"] = {}
        self._single_output = isinstance(outputs, Tensor) or isinstance(outputs, Variable)
        # The traced Python function, when it calls a custom_gradient function: the IR differentiates that
        # function's own ops, so a call under a GradientTape runs the Python instead (engine.call_gradient).
        self.custom_gradient_python: Optional[Callable[..., Any]] = None

    @property
    def optimized_ir(self) -> Function:
        if self._optimized is None:
            from ir.dump import dump, wanted
            from ir.passes import optimize
            with timing.phase("passes"):
                self._optimized = optimize(self.ir)
            if wanted("opt"):
                dump("opt", self.name, str(self._optimized))
        return self._optimized

    @property
    def compiled(self) -> Any:
        """The native code (compiled on first use); None when the function runs on the interpreter."""
        if self._generic and self.jit_compile is not False:
            raise ValueError(f"{self.name}: this concrete function has unknown dims ({self.ir.param_types}); its "
                             f"native code is compiled per argument shapes: see .specialization(shapes)")
        if self._compiled is None and self.jit_compile is not False:
            from codegen.runtime import compile_function
            # Keyed by the traced IR: a disk-cache hit skips the passes as well as LLVM.
            with timing.compiling(self.name):
                self._compiled = compile_function(lambda: self.optimized_ir, source=self.ir)
        return self._compiled

    @property
    def llvm_ir(self) -> str:
        """The optimized LLVM IR of the native code."""
        return self._native("llvm_ir")

    @property
    def asm(self) -> str:
        """The host assembly of the native code."""
        return self._native("asm")

    def _native(self, what: str) -> str:
        if self.jit_compile is False:
            from codegen.runtime import compile_function
            return getattr(compile_function(self.optimized_ir), what)
        return getattr(self.compiled, what)

    @property
    def structured_input_signature(self) -> tuple:
        def spec(x: Any) -> Any:
            return TensorSpec.from_tensor(x) if isinstance(x, (Tensor, Variable)) else \
                TensorSpec(x.shape, from_numpy(x.dtype)) if isinstance(x, np.ndarray) else x
        return (tuple(nest.map_structure(spec, list(self._arguments.values()))), {})

    # ---- calling
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            bound = self._signature.bind(*args, **kwargs)
        except TypeError as e:
            raise TypeError(f"{self.name}(): {e}") from None
        bound.apply_defaults()
        if _tape.active and _tape.mine():  # one step on this thread's tapes: backward = the reverse transform
            return record_call(self, bound)
        return self._call_bound(bound)

    def _inputs(self, bound: inspect.BoundArguments) -> list[Any]:
        flat = {k: nest.flatten(v) for k, v in bound.arguments.items()}
        arrays = []
        for (arg, i), param in zip(self._param_slots, self.ir.params):
            leaf = flat[arg][i]
            if isinstance(leaf, Tensor):
                a = leaf._value if leaf._node is None else None
                if a is None:
                    raise TypeError(f"{self.name}(): argument {arg!r} is a symbolic tensor")
            else:
                a = np.asarray(leaf)
            t = param.type
            if a.dtype != t.dtype.np or not dims_fit(a.shape, t.shape):
                raise TypeError(f"{self.name}(): argument {arg!r} is {from_numpy(a.dtype).name}{list(a.shape)} "
                                f"but this concrete function takes {t.dtype.name}{list(t.shape)}")
            arrays.append(a)
        return arrays + [v.cell for v in self.variables]

    def _call_bound(self, bound: inspect.BoundArguments) -> Any:
        return self._run(self._inputs(bound))

    def inline_into(self, trace: Trace, bound: inspect.BoundArguments) -> Any:
        """This function called while `trace` traces another: its IR is copied into the block being traced, with
        its parameters bound to the arguments and its Variable references to the caller's (TensorFlow records a
        call of the concrete function; its Python does not run again)."""
        flat = {k: nest.flatten(v) for k, v in bound.arguments.items()}
        operands = [trace.value_of(convert_to_tensor(flat[arg][i])) for arg, i in self._param_slots]
        operands += [trace.variable_ref(v) for v in self.variables]
        it = iter(trace.inline(self.ir, operands))
        out = [None if leaf is None else Tensor(None, next(it)) for leaf in nest.flatten(self.structured_outputs)]
        return nest.pack_sequence_as(self.structured_outputs, out)

    def specialization(self, arg_shapes: Any) -> "ConcreteFunction":
        """The concrete function that runs calls with tensor arguments of these shapes: itself, or its
        specialization to them (see `kernel_ir`), made once per shape tuple."""
        if not self._generic:
            return self
        key = tuple(None if s is None else tuple(s) for s in arg_shapes)
        found = self._specializations.get(key)
        if found is None:
            cache_key, fn = kernel_ir(self.ir, key)
            if cache_key is None:
                self._generic = False
                return self
            found = ConcreteFunction(self.name, fn, self._signature, self._arguments, self._param_slots,
                                     self.structured_outputs, self.variables, self.jit_compile)
            self._specializations[key] = found
        return found

    def _run(self, inputs: list[Any]) -> Any:
        """`inputs`: the tensor arguments' arrays, then the captured Variables' cells."""
        if self._generic and self.jit_compile is not False:  # the interpreter runs unknown dims as they are
            n = len(inputs) - len(self.variables)
            return self.specialization([np.shape(a) for a in inputs[:n]])._run(inputs)
        if PROFILING:  # engine.profiler: the variant of the native code that times its kernels
            return PROFILING[0].run(self, inputs)
        compiled = self.compiled
        if compiled is None:
            from ir.interp import run
            return self._pack(run(self.optimized_ir, inputs))
        n = len(inputs) - len(self.variables)
        return self._pack(self._run_native(compiled, list(inputs[:n])))

    def _run_native(self, compiled: Any, arrays: list[Any]) -> list[Any]:
        variables = self.variables
        if not variables:
            return compiled.run(arrays)
        n = len(arrays)
        cells = [variables[i - n].cell for i in compiled.lowered.assigned]
        return compiled.run(arrays + [v.cell.array for v in variables], cells)

    def fast_call(self, arg_types: list[TensorType], owner: Any = None) -> Optional[Callable[..., Any]]:
        """A generated caller for positional tensor arguments of these types (engine.fastcall), when every
        parameter takes one of them in order (a static dim equal, an unknown one any size; of the specialization to
        their shapes when codegen does not compile the unknown dims); calls it cannot take go to
        `owner._call_general`, or return `fastcall.MISS` without an owner."""
        if self._generic:
            if len(arg_types) != len(self.ir.params) - len(self.variables) or \
                    not all(dims_fit(t.shape, p.type.shape) for t, p in zip(arg_types, self.ir.params)):
                return None
            spec = self.specialization([t.shape for t in arg_types])
            return spec.fast_call(arg_types, owner) if spec is not self else None
        compiled = self.compiled
        n = len(arg_types)
        params = [p.type for p in self.ir.params[:n]]
        if compiled is None or len(self.ir.params) != n + len(self.variables) or \
                not all(t.dtype == p.dtype and dims_fit(t.shape, p.shape) for t, p in zip(arg_types, params)) or \
                [slot[0] for slot in self._param_slots] != list(self._arguments)[:n]:
            return None
        from engine.fastcall import make_fast_call
        # Made for the parameter types: with unknown dims, one caller takes every size the kernel takes.
        return make_fast_call(self, compiled, params, owner)

    def _pack(self, results: list[Any]) -> Any:
        it = iter(results)
        flat = [None if leaf is None else Tensor(next(it)) for leaf in nest.flatten(self.structured_outputs)]
        return nest.pack_sequence_as(self.structured_outputs, flat)

    # ---- printing
    def pretty_printed_signature(self, verbose: bool = True) -> str:
        names = list(self._arguments)
        lines = [f"ConcreteFunction {self.name}({', '.join(names)})", "  Args:"]
        for arg, value in self._arguments.items():
            lines.append(f"    {arg}: {_describe(value)}")
        lines.append("  Returns:")
        lines.append(f"    {_describe(self.structured_outputs)}")
        return "\n".join(lines)

    __str__ = pretty_printed_signature

    def __repr__(self) -> str:
        return f"<ConcreteFunction {self.name}({', '.join(self._arguments)}) at 0x{id(self):x}>"


def _describe(value: Any) -> str:
    if isinstance(value, (Tensor, np.ndarray, TensorSpec)):
        t = _type_of_arg(value)
        return f"{t.dtype.name} Tensor, shape={TensorShape(t.shape)}"
    if isinstance(value, Variable):
        return f"{value.dtype.name} Variable, shape={value.shape}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {_describe(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        inner = ", ".join(_describe(v) for v in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner}{',' if len(value) == 1 else ''})"
    return repr(value)
