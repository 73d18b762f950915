"""break / continue / return in every loop kind and nesting, with TensorFlow 2.21's answers as the oracle.

The generated cases span three axes: the loop kind (`LOOPS`: Python `range`, `tf.range`, `range(tf.shape(x)[0])`, a
tensor, a Python list, `while` on a tensor and on a Python int, `enumerate` and `zip` of tensors and of lists), the
body pattern (`PATTERNS`: break at the end or the start of the body, a break branch that assigns a float, break in
an if/else, continue, continue then break, return, an else clause with and without break, nested ifs) and what the
condition reads (`CONDITIONS`: the index, the item, the loop state). Then hand-written nestings below: loop in loop
(break in the inner vs the outer loop, return from inside nested loops), loop in a tensor `if`, else clauses on
inner and outer loops, flags and loop targets read after the loop; and more (`misc__`): Python numbers as loop
state, empty and negative ranges, rows of a matrix, list and dict state (also changed by item assignment), attributes
of objects as state, `and`/`or` and conditional expressions.

Every case is a function of `x` (float32 [4], `X`), run as `tf.function(case)(tf.constant(X))`. The generated
cases' source is registered with `linecache` under `GENERATED_FILE`, so that AutoGraph (Kiln's and TensorFlow's)
reads it as it reads a file. `autograph_cases_tf.json` holds TensorFlow 2.21's answers, staged and eager; running
this file with TensorFlow (`/work/tfvenv/bin/python tests/autograph_cases.py`) records them again. The suite never
imports TensorFlow.
"""
import contextlib
import json
import linecache
import os
import sys

if __name__ == "__main__":
    import tensorflow as tf  # recording TensorFlow's answers
else:
    import engine as tf

X = [1.0, 3.0, 2.0, 4.0]
ANSWERS_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "autograph_cases_tf.json")
GENERATED_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "<autograph_cases: generated>")

# name, statements before the loop, loop header, first statements of the body, condition on the index (None: the
# loop has no index)
LOOPS = [
    ("pyrange", [], "for i in range(4):", ["v = x[i]"], "i == 2"),
    ("tfrange", [], "for i in tf.range(4):", ["v = x[i]"], "i == 2"),
    ("shaperange", [], "for i in range(tf.shape(x)[0]):", ["v = x[i]"], "i == 2"),
    ("tensor", [], "for v in x:", [], None),
    ("pylist", [], "for v in [1.0, 3.0, 2.0, 4.0]:", [], None),
    ("tfwhile", ["i = tf.constant(0)"], "while i < 4:", ["v = x[i]", "i = i + 1"], "i == 2"),
    ("pywhile", ["i = 0"], "while i < 4:", ["v = x[i]", "i = i + 1"], "i == 2"),
    ("enumtensor", [], "for i, v in enumerate(x):", [], "i == 2"),
    ("enumlist", [], "for i, v in enumerate([1.0, 3.0, 2.0, 4.0]):", [], "i == 2"),
    ("ziptensor", [], "for v, w in zip(x, x * 2.0):", ["v = w - v"], None),
    ("ziplist", [], "for v, w in zip([1.0, 3.0, 2.0, 4.0], [2.0, 6.0, 4.0, 8.0]):", ["v = w - v"], None),
]
# name -> (the rest of the body, where C stands for the condition; the loop's else clause or None)
PATTERNS = {
    "break_end": (["s = s + v", "if C:", "    break"], None),
    "break_start": (["if C:", "    break", "s = s + v"], None),
    "break_assigns": (["s = s + v", "if C:", "    s = s * 10.0", "    break"], None),
    "break_in_if_else": (["if C:", "    s = s + 0.5", "    break", "else:", "    s = s + v"], None),
    "continue": (["if C:", "    continue", "s = s + v"], None),
    "continue_end": (["s = s + v", "if C:", "    continue", "s = s + 1.0"], None),
    "continue_break": (["if C:", "    continue", "s = s + v", "if s > 4.5:", "    break"], None),
    "return": (["s = s + v", "if C:", "    return s * 10.0"], None),
    "return_start": (["if C:", "    return s + 100.0", "s = s + v"], None),
    "else_break": (["s = s + v", "if C:", "    break"], ["s = s + 100.0"]),
    "nested_if_break": (["s = s + v", "if C:", "    if s > 3.5:", "        break"], None),
}
# Loops with an index test it; the others test the loop state. All test the item.
CONDITIONS = {"index": None, "value": "v > 2.5", "state": "s > 3.5"}


def _generated_sources() -> dict:
    sources = {}
    for loop, setup, header, first, index_test in LOOPS:
        variants = [(p, body, orelse, c) for p, (body, orelse) in PATTERNS.items()
                    for c in (("index", "value") if index_test else ("value", "state"))]
        variants.append(("else_no_break", ["s = s + v"], ["s = s + 100.0"], "none"))
        for pattern, body, orelse, cond in variants:
            test = index_test if cond == "index" else CONDITIONS.get(cond)
            name = f"{loop}__{pattern}__{cond}"
            lines = [f"def {name}(x):", "    s = tf.constant(0.0)"] + ["    " + s for s in setup] + ["    " + header]
            lines += ["        " + s for s in first] + ["        " + s.replace("C", test or "") for s in body]
            if orelse:
                lines += ["    else:"] + ["        " + s for s in orelse]
            sources[name] = "\n".join(lines + ["    return s"])
    return sources


def _define_generated() -> dict:
    text = "\n\n\n".join(_generated_sources().values()) + "\n"
    linecache.cache[GENERATED_FILE] = (len(text), None, text.splitlines(keepends=True), GENERATED_FILE)
    namespace = {"tf": tf}
    exec(compile(text, GENERATED_FILE, "exec"), namespace)  # noqa: S102  (our own generated cases)
    return {k: v for k, v in namespace.items() if "__" in k and callable(v) and not k.startswith("__")}


GENERATED = _define_generated()


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

HAND_WRITTEN = {name: fn for name, fn in list(globals().items()) if name.startswith(("nest__", "misc__"))}
CASES = {**GENERATED, **HAND_WRITTEN}


def record(fn, staged=True):
    """What `tf.function(fn)(tf.constant(X))` (or, not staged, `fn(tf.constant(X))` run eagerly) gives: a list of
    [dtype, value], or ["raises", exception type, the message's last line]."""
    try:
        out = (tf.function(fn) if staged else fn)(tf.constant(X))
    except Exception as e:  # noqa: BLE001  (the answer is which exception)
        lines = [line.strip() for line in str(e).splitlines() if line.strip()]
        return ["raises", type(e).__name__, lines[-1][:100] if lines else ""]
    outs = out if isinstance(out, (tuple, list)) else (out,)
    return [[t.dtype.name, t.numpy().tolist()] if hasattr(t, "numpy") else [type(t).__name__, t] for t in outs]


def load_answers() -> dict:
    with open(ANSWERS_FILE) as f:
        return json.load(f)


if __name__ == "__main__":
    answers = {"recorded_with": f"TensorFlow {tf.__version__}",
               "staged": {name: record(fn) for name, fn in CASES.items()},
               "eager": {name: record(fn, staged=False) for name, fn in CASES.items()}}
    with open(ANSWERS_FILE, "w") as f:  # one case a line, so that a diff shows which answers changed
        f.write(f'{{"recorded_with": {json.dumps(answers["recorded_with"])},\n')
        for i, kind in enumerate(("staged", "eager")):
            rows = ",\n".join(f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in answers[kind].items())
            f.write(f'"{kind}": {{\n{rows}\n}}{"," if i == 0 else ""}\n')
        f.write("}\n")
    print(f"{len(CASES)} cases recorded in {ANSWERS_FILE}")
    sys.exit(0)
