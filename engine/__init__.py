"""Kiln: a JIT-compiling tensor graph engine with TensorFlow 2's API. `import engine as tf`.

Eager mode runs each op at once on numpy kernels; `GradientTape` records ops for gradients.

>>> import engine as tf
>>> x = tf.constant([1.0, 2.0, 3.0])
>>> print(tf.reduce_sum(x * x))
engine.Tensor(14.0, shape=(), dtype=float32)
"""
from __future__ import annotations

from engine import nest
from engine.concrete import ConcreteFunction, TensorSpec
from engine.control_flow import Assert, cond, print, while_loop  # noqa: A004  (tf.print)
from engine.convert import convert_to_tensor
from engine.custom_gradient import custom_gradient
from engine.errors import InvalidArgumentError, OperatorNotAllowedInGraphError
from engine.function import Function, function, make_ir
from engine.gradient_tape import GradientTape, UnconnectedGradients
from engine.ops import *  # noqa: F401,F403  (the public ops, with TensorFlow's names)
from engine.tensor import Tensor, TensorShape
from engine.tensor_array import TensorArray
from engine.transforms import grad, hessian, jvp, value_and_grad, vjp
from engine.variables import Variable
from engine.version import __version__
from ir.types import (DType, as_dtype, bfloat16, float16, float32, float64, half, int8, int16, int32, int64, uint8,
                      uint16, uint32, uint64)
from ir.types import bool_ as bool  # noqa: A001  (tf.bool)


double = float64
newaxis = None


def executing_eagerly() -> object:
    """True unless a function is being traced."""
    from engine import dispatch
    return not dispatch.tracing()


def is_tensor(x: object) -> object:
    return isinstance(x, (Tensor, Variable))


from engine import (autograph, bitwise, config, data, debugging, dtypes, image, keras, linalg, math,  # noqa: E402,F401
                    nn, optimizers, profiler, random, saved_model, testing, train)
from engine.module import Module  # noqa: E402
