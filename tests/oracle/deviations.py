"""Where Kiln deliberately differs from TensorFlow: one entry per recorded program whose answer differs.

Each entry pins Kiln's documented behaviour (the observation Kiln must give) and names the row of
`docs/tf-compat.md` that explains it. The replay test checks both that Kiln gives exactly this and that it still
differs from TensorFlow, so an entry that is no longer needed is noticed and removed.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Deviation:
    doc: str        # the heading of its row in docs/tf-compat.md
    kiln: Any       # the observation Kiln gives (observe.observe's JSON form)


RETURN = "`return` inside a tensor loop"
ELSE = "`else` on a tensor `for`/`while` loop"
UNROLL = "`enumerate`/`zip`/`list` over a tensor"
CONCRETE_SHAPE = "a concrete function called with another shape than its spec's"
SUBNORMAL = "float32 subnormal results"
SATURATE = "`saturate_cast` where TF 2.21 computes a bound wrongly"
MINIMIZE = "`optimizer.minimize(loss, var_list, tape=...)`"
STRINGS = "string tensors"
TRUNCATEDIV = "integer `truncatediv`/`truncatemod` by zero"
CUMPROD_ZERO = "cumprod's gradient at a zero"
NAN_ORDER = "NaN in a descending `tf.sort` / `tf.argsort` / `tf.math.top_k`"
CAST_LENGTH = "float-to-integer casts out of range, by tensor length"
ADVANCED_INDEXING = "integer tensors and arrays as indices (`x[tf.constant([2, 0])]`)"
SCATTER_DUPLICATES = "gradient of `tensor_scatter_nd_update` with duplicate indices"


def _t(dtype: str, *values: Any, shape: tuple = ()) -> dict:
    return {"tensor": {"dtype": dtype, "shape": list(shape), "v": list(values)}}


def _error(name: str, *bases: str) -> dict:
    return {"error": name, "mro": [name, *bases, "Exception"], "message": ""}


# Each value below was checked by hand against plain Python's answer (the same program run eagerly, which is also
# what TensorFlow 2.21 gives with tf.config.run_functions_eagerly(True)).
DEVIATIONS: dict[str, Deviation] = {
    # TF: NotImplementedError "a return statement cannot be placed inside this TensorFlow loop".
    "ag_return_in_tensor_for": Deviation(RETURN, {"tuple": [_t("float32", 40.0), _t("float32", -10.0)]}),
    "ag_return_in_nested_loops": Deviation(RETURN, {"tuple": [_t("float32", 7.0), _t("int32", 1), _t("int32", 2)]}),
    "ag_return_in_while": Deviation(RETURN, _t("float32", 22.0)),
    # TF: "for/else statement not yet supported"; the function then runs unconverted and fails on the tensor loop.
    "ag_for_else_no_break": Deviation(ELSE, _t("float32", 30.0)),
    "ag_for_else_with_break": Deviation(ELSE, _t("float32", 2.0)),
    "ag_while_else": Deviation(ELSE, _t("float32", -6.0)),
    # TF: OperatorNotAllowedInGraphError "Iterating over a symbolic `tf.Tensor` is not allowed".
    "ag_enumerate_tensor": Deviation(UNROLL, _t("float32", 8.0)),
    "ag_zip_tensor_rows": Deviation(UNROLL, _t("float32", 32.0)),
    # TF: a concrete function of a [2] spec accepts a [3] tensor (the spec's shape is only relaxed); Kiln: TypeError.
    "fn_get_concrete_function_wrong_shape": Deviation(CONCRETE_SHAPE, _error("TypeError")),
    # TF flushes the float32 subnormal 1e-45 to zero when it makes the constant; Kiln keeps it (numpy, IEEE 754).
    "cast_f32_to_f64_widens_exactly": Deviation(SUBNORMAL, _t("float64", 0.10000000149011612, 0.3333333432674408,
                                                              1.401298464324817e-45, shape=(3,))),
    # TF saturates 1e30 to -2**63 (its float32 bound for int64 overflows); Kiln to the largest float32 below 2**63.
    "saturate_cast_f32_to_int64_large": Deviation(SATURATE, _t("int64", 9223371487098961920, -9223372036854775808,
                                                               shape=(2,))),
    # Keras 3 removed Optimizer.minimize (AttributeError); Kiln keeps tf.keras 2's.
    "opt_minimize_is_not_in_keras3": Deviation(MINIMIZE, {"list": [
        {"ndarray": {"dtype": "float32", "shape": [2], "v": v}} for v in ([0.5, -1.0], [0.25, -0.5], [0.125, -0.25])]}),
    # TF returns "tag" as a string tensor; Kiln has no string dtype: TypeError naming the value.
    "fn_return_python_values": Deviation(STRINGS, _error("TypeError")),
    # TF 2.21 raises InternalError here (InvalidArgumentError for floordiv); Kiln raises its division-by-zero error.
    "intdiv_int_truncatediv_by_zero_raises": Deviation(TRUNCATEDIV, _error(
        "IntegerDivisionByZeroError", "InvalidArgumentError", "ValueError", "ZeroDivisionError", "ArithmeticError")),
    # TF 2.21 gives [1, 0, 0] (its rule divides by x and is 0 where x == 0); the exact gradient is [1, 22, 0].
    "apis_cumprod_gradient_at_a_zero": Deviation(CUMPROD_ZERO, _t("float32", 1.0, 22.0, 0.0, shape=(3,))),
    # TF 2.21's descending sort is top_k, whose comparisons leave NaN where it stands: [3, nan, 1, nan, -2] and
    # argsort [0, 1, 2, 3, 4]; Kiln puts NaN last in both directions (ascending, both give [-2, 1, 3, nan, nan]);
    # compiled, as eager.
    "apis_sort_descending_nan_order": Deviation(NAN_ORDER, {"tuple": [
        _t("float32", 3.0, 1.0, -2.0, "nan", "nan", shape=(5,)), _t("int32", 0, 2, 4, 1, 3, shape=(5,)),
        _t("int32", 0, 2, 4, shape=(3,)), _t("float32", -2.0, 1.0, 3.0, "nan", "nan", shape=(5,)),
        _t("int32", 4, 2, 0, 1, 3, shape=(5,)), {"tuple": [_t("float32", 3.0, 1.0, -2.0, "nan", "nan", shape=(5,)),
                                                          _t("int32", 0, 2, 4, 1, 3, shape=(5,))]}]}),
    # Both keep the last update of index 1 (20); TF 2.21 gives the overwritten update 10 the slot's cotangent too
    # ([2, 2, 4]), Kiln gives it 0 (the gradient of what was computed).
    "apis_tensor_scatter_nd_update_duplicate_indices": Deviation(SCATTER_DUPLICATES, {"tuple": [
        _t("float32", 0.0, 20.0, 0.0, 30.0, shape=(4,)), _t("float32", 0.0, 2.0, 4.0, shape=(3,))]}),
    # TF 2.21 saturates out-of-range floats in its 32-element vector packets (300.0 -> 255 as uint8, NaN -> -32768 as
    # int16) and wraps them in the tail (300.0 -> 44); Kiln wraps at every length, eager and compiled.
    "cast_out_of_range_to_narrow_ints_at_every_length": Deviation(CAST_LENGTH, {"tuple": [
        _t("uint8", 44, 255, 112, 0, shape=(4,)), _t("uint8", 44, 255, 112, 0, shape=(4,)),
        _t("uint8", 44, 255, 112, 0, shape=(4,)), _t("int16", 300, -1, 4464, 0, shape=(4,)),
        _t("int16", 300, -1, 4464, 0, shape=(4,))]}),
    # TF 2.21: TypeError "Only integers, slices, ellipsis, tf.newaxis and scalar int32/int64 tensors are valid
    # indices"; Kiln indexes as numpy's advanced indexing does.
    "ix_integer_tensor_indices_are_numpys_advanced_indexing": Deviation(ADVANCED_INDEXING, {"tuple": [
        _t("int32", 8, 9, 10, 11, 0, 1, 2, 3, shape=(2, 4)), _t("int32", 1, 11, shape=(2,))]}),
}
