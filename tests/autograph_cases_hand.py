"""The hand-written cases of autograph_cases.py (which see): nestings of loops (`nest__`) and more (`misc__`).

`tf` is bound by autograph_cases.py: Kiln's `engine`, or TensorFlow while it records TensorFlow's answers.
"""
import contextlib
from typing import Any

tf: Any = None


# ---- hand-written nestings -------------------------------------------------------------------------------------
def nest__break_inner__tensor_in_tensor(x):
    s = tf.constant(0.0)
    for i in tf.range(3):
        for v in x:
            s = s + v
            if v > 2.5:
                break
        s = s * 2.0
    return s


def nest__break_outer_after_inner__tensor_in_tensor(x):
    s = tf.constant(0.0)
    for i in tf.range(3):
        for v in x:
            s = s + v
        if s > 15.0:
            break
    return s


def nest__break_both__tensor_in_tensor(x):
    s = tf.constant(0.0)
    for i in tf.range(4):
        for j in tf.range(4):
            s = s + x[j]
            if j >= i:
                break
        if s > 8.0:
            break
    return s


def nest__continue_then_break_inner__tensor_in_tensor(x):
    s = tf.constant(0.0)
    for i in tf.range(3):
        for v in x:
            if v < 1.5:
                continue
            s = s + v
            if s > 6.0:
                break
    return s


def nest__return_from_inner__tensor_in_tensor(x):
    s = tf.constant(0.0)
    for i in tf.range(3):
        for v in x:
            s = s + v
            if s > 12.0:
                return s * 10.0
    return s


def nest__return_from_inner__python_in_tensor(x):
    s = tf.constant(0.0)
    for i in tf.range(3):
        for j in range(4):
            s = s + x[j]
            if s > 12.0:
                return s * 10.0
    return s


def nest__break_inner_python__python_in_tensor(x):
    s = tf.constant(0.0)
    for i in tf.range(3):
        for j in range(4):
            if j == 2:
                break
            s = s + x[j]
    return s


def nest__break_inner_tensor__tensor_in_python(x):
    s = tf.constant(0.0)
    for i in range(3):
        for v in x:
            s = s + v
            if v > 2.5:
                break
        s = s * 2.0
    return s


def nest__break_outer_python__tensor_in_python(x):
    s = tf.constant(0.0)
    for i in range(3):
        for v in x:
            s = s + v
        if i == 1:
            break
    return s


def nest__while_in_while__break_inner(x):
    s = tf.constant(0.0)
    i = tf.constant(0)
    while i < 3:
        j = tf.constant(0)
        while j < 4:
            s = s + x[j]
            j = j + 1
            if s > 5.0:
                break
        i = i + 1
    return s


def nest__loop_in_tensor_if(x):
    s = tf.constant(0.0)
    if x[0] > 0.0:
        for v in x:
            s = s + v
            if v > 2.5:
                break
    else:
        s = s - 1.0
    return s


def nest__return_in_loop_in_tensor_if(x):
    s = tf.constant(0.0)
    if x[0] > 0.0:
        for v in x:
            s = s + v
            if v > 2.5:
                return s * 10.0
    return s


def nest__else_on_inner_loop_with_break(x):
    s = tf.constant(0.0)
    for i in tf.range(2):
        for v in x:
            s = s + v
            if v > 3.5:
                break
        else:
            s = s + 100.0
    return s


def nest__else_on_outer_loop_inner_break(x):
    s = tf.constant(0.0)
    for i in tf.range(2):
        for v in x:
            s = s + v
            if v > 2.5:
                break
    else:
        s = s + 100.0
    return s


def nest__two_breaks_in_one_loop(x):
    s = tf.constant(0.0)
    for v in x:
        if v > 3.5:
            break
        s = s + v
        if s > 5.0:
            s = s + 0.25
            break
    return s


def nest__while_true_tensor_break(x):
    s = tf.constant(0.0)
    i = tf.constant(0)
    while True:
        s = s + x[i]
        i = i + 1
        if i >= 3:
            break
    return s


def nest__while_tensor_return_value(x):
    s = tf.constant(0.0)
    i = tf.constant(0)
    while i < 4:
        s = s + x[i]
        i = i + 1
        if s > 3.5:
            return s, i
    return s, i


def nest__break_flag_after_loop_used(x):
    s = tf.constant(0.0)
    found = tf.constant(False)
    for v in x:
        if v > 2.5:
            found = tf.constant(True)
            break
        s = s + v
    return s, found


def nest__loop_target_after_break(x):
    s = tf.constant(0.0)
    for i in tf.range(4):
        s = s + x[i]
        if s > 3.5:
            break
    return s, i


def nest__int_state_break(x):
    n = tf.constant(0)
    for v in x:
        n = n + 1
        if v > 2.5:
            break
    return n


def nest__continue_in_python_loop_tensor_condition(x):
    s = tf.constant(0.0)
    for j in range(4):
        if x[j] > 2.5:
            continue
        s = s + x[j]
    return s


def nest__return_python_loop_python_condition(x):
    s = tf.constant(0.0)
    for j in range(4):
        s = s + x[j]
        if j == 1:
            return s * 10.0
    return s


def nest__return_inside_nested_tensor_ifs_in_loop(x):
    s = tf.constant(0.0)
    for v in x:
        s = s + v
        if v > 1.5:
            if s > 5.0:
                return s + 1000.0
    return s - 1.0



# ---- more: Python values as loop state, empty and negative ranges, nested Python/tensor loops, nested state ---
def misc__python_float_state_in_tensor_loop(x):
    s = 0.0
    for v in x:
        s += v
    return s


def misc__python_int_counter_in_tensor_loop(x):
    n = 0
    for v in x:
        if v > 1.5:
            n += 1
    return n


def misc__python_int_state_plus_float_in_tensor_loop(x):
    s = 0
    for v in x:
        s = s + tf.cast(v, tf.int32)
    return s


def misc__zero_trip_tensor_range(x):
    s = tf.constant(5.0)
    for i in tf.range(tf.shape(x)[0] - 4):
        s = s + x[i]
    return s


def misc__negative_step_tensor_range(x):
    s = tf.constant(0.0)
    for i in tf.range(3, -1, -2):
        s = s * 10.0 + x[i]
    return s


def misc__negative_step_range_of_tensor_bound(x):
    s = tf.constant(0.0)
    for i in range(tf.shape(x)[0] - 1, 0, -1):
        s = s * 10.0 + x[i]
    return s


def misc__rows_of_a_matrix_with_break(x):
    m = tf.reshape(x, [2, 2])
    s = tf.constant(0.0)
    for row in m:
        s = s + tf.reduce_sum(row)
        if row[0] > 0.5:
            break
    return s


def misc__tensor_while_with_continue(x):
    i = tf.constant(0)
    s = tf.constant(0.0)
    while i < 4:
        i += 1
        if x[i - 1] > 2.5:
            continue
        s += x[i - 1]
    return s, i


def misc__python_loop_inside_tensor_while_with_break(x):
    s = tf.constant(0.0)
    k = tf.constant(0)
    while k < 3:
        for j in range(4):
            if j == 2:
                break
            s += x[j]
        k += 1
    return s


def misc__tensor_for_inside_python_for_with_break_outer(x):
    s = tf.constant(0.0)
    for j in range(3):
        for v in x:
            s += v
        if j >= 1:
            break
    return s


def misc__list_state_in_tensor_loop(x):
    acc = [tf.constant(0.0), tf.constant(1.0)]
    for v in x:
        acc = [acc[0] + v, acc[1] * v]
        if v > 2.5:
            break
    return acc[0], acc[1]


def misc__dict_state_in_tensor_loop(x):
    acc = {"sum": tf.constant(0.0), "max": tf.constant(-1.0)}
    for v in x:
        acc = {"sum": acc["sum"] + v, "max": tf.maximum(acc["max"], v)}
    return acc["sum"], acc["max"]


def misc__break_from_while_true_python_counter(x):
    s = tf.constant(0.0)
    j = 0
    while True:
        s += x[j]
        j += 1
        if j == 3:
            break
    return s


def misc__early_return_before_loop(x):
    if x[0] > 100.0:
        return x[0]
    s = tf.constant(0.0)
    for v in x:
        s += v
    return s


def misc__loop_after_tensor_return_branch(x):
    if x[0] > 0.5:
        return x[0] * 2.0
    for v in x:
        x = x + v
    return x[0]


def misc__nested_break_continue_same_loop(x):
    s = tf.constant(0.0)
    for i in tf.range(4):
        if i == 0:
            continue
        if x[i] > 3.5:
            break
        s += x[i]
    return s


def misc__bool_state_flag_in_while(x):
    found = tf.constant(False)
    i = tf.constant(0)
    while i < 4 and not found:
        found = x[i] > 2.5
        i += 1
    return found, i


def misc__loop_var_shadowing_argument(x):
    for x in x:
        pass
    return x


def misc__enumerate_list_of_tensors_break(x):
    s = tf.constant(0.0)
    for i, v in enumerate([x[0], x[1], x[2]]):
        s += v
        if i == 1:
            break
    return s


def misc__conditional_expression_in_loop(x):
    s = tf.constant(0.0)
    for v in x:
        s += v if v > 2.0 else -v
    return s


def misc__and_or_conditions_with_break(x):
    s = tf.constant(0.0)
    for v in x:
        if v > 1.5 and s > 0.5 or v > 3.5:
            break
        s += v
    return s


def misc__int_python_state_assigned_float_in_break_branch(x):
    s = tf.constant(0.0)
    for v in x:
        s += v
        if v > 2.5:
            s = s * 0.5
            break
    return s


def misc__return_value_only_in_loop_with_fallback(x):
    for v in x:
        if v > 2.5:
            return v * 100.0
    return tf.constant(-1.0)


@contextlib.contextmanager
def _scope():
    yield


def misc__break_inside_with(x):
    s = tf.constant(0.0)
    for v in x:
        with _scope():
            s += v
            if v > 2.5:
                break
    return s


def misc__break_inside_try_finally(x):
    s = tf.constant(0.0)
    for v in x:
        try:
            s += v
            if v > 2.5:
                break
        finally:
            pass
    return s


def misc__continue_inside_with_inside_if(x):
    s = tf.constant(0.0)
    for v in x:
        if v > 1.5:
            with _scope():
                s += v
                continue
        s -= 1.0
    return s


def misc__return_in_tensor_loop_without_return_at_the_end(x):
    for v in x:
        if v > 10.0:
            return v


def misc__return_in_tensor_while_without_return_at_the_end(x):
    i = tf.constant(0)
    while i < 4:
        if x[i] > 10.0:
            return x[i]
        i += 1


def misc__item_assignment_counter_in_staged_loop(x):
    count = [0]
    for v in x:
        count[0] += 1
    return count[0]


def misc__dict_item_assignment_in_staged_loop(x):
    d = {"a": tf.constant(0.0)}
    for v in x:
        d["a"] = d["a"] + v
    return d["a"]


def misc__nested_item_assignment_in_staged_loop(x):
    d = {"a": [tf.constant(0.0)]}
    for v in x:
        d["a"][0] = d["a"][0] + v
    return d["a"][0]


def misc__dict_item_assignment_in_both_branches(x):
    d = {"a": tf.constant(0.0)}
    if x[0] > 0.0:
        d["a"] = d["a"] + 1.0
    else:
        d["a"] = d["a"] - 1.0
    return d["a"]


def misc__list_item_assignment_in_one_branch(x):
    items = [tf.constant(0.0), tf.constant(5.0)]
    if x[0] > 0.0:
        items[1] = items[1] * 2.0
    return items[0], items[1]


def misc__append_in_staged_while_traces_once(x):
    out = []
    i = tf.constant(0)
    while i < 4:
        out.append(x[i])
        i += 1
    return len(out)


class _Box:
    """A plain object whose attributes the cases change (TF's AutoGraph carries `obj.attr` as state)."""


def misc__attribute_state_in_staged_loop(x):
    box = _Box()
    box.acc = tf.constant(0.0)
    for v in x:
        box.acc = box.acc + v
        if v > 2.5:
            break
    return box.acc


def misc__attribute_augmented_in_tensor_if_in_loop(x):
    box = _Box()
    box.acc = tf.constant(0.0)
    box.n = tf.constant(0)
    for v in x:
        box.acc += v
        if v > 1.5:
            box.n += 1
    return box.acc, box.n


def misc__attribute_in_both_branches(x):
    box = _Box()
    if x[0] > 0.0:
        box.value = x[1]
    else:
        box.value = -x[1]
    return box.value


def misc__attribute_in_one_branch_only(x):
    box = _Box()
    box.value = tf.constant(1.0)
    if x[0] > 0.0:
        box.value = box.value * 5.0
    return box.value


def misc__attribute_in_tensor_while(x):
    box = _Box()
    box.i = tf.constant(0)
    box.s = tf.constant(0.0)
    while box.i < 4:
        box.s += x[box.i]
        box.i += 1
    return box.s, box.i
