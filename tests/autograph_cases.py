"""break / continue / return in every loop kind and nesting, with TensorFlow 2.21's answers as the oracle.

The generated cases span three axes: the loop kind (`LOOPS`: Python `range`, `tf.range`, `range(tf.shape(x)[0])`, a
tensor, a Python list, `while` on a tensor and on a Python int, `enumerate` and `zip` of tensors and of lists), the
body pattern (`PATTERNS`: break at the end or the start of the body, a break branch that assigns a float, break in
an if/else, continue, continue then break, return, an else clause with and without break, nested ifs) and what the
condition reads (`CONDITIONS`: the index, the item, the loop state). Then the hand-written cases of
autograph_cases_hand.py: nestings (loop in loop, break in the inner vs the outer loop, return from inside nested
loops, loop in a tensor `if`, else clauses on inner and outer loops, flags and loop targets read after the loop) and
more: Python numbers as loop state, empty and negative ranges, rows of a matrix, list and dict state (also changed
by item assignment), attributes of objects as state, `and`/`or` and conditional expressions.

Every case is a function of `x` (float32 [4], `X`), run as `tf.function(case)(tf.constant(X))`. The generated
cases' source is registered with `linecache` under `GENERATED_FILE`, so that AutoGraph (Kiln's and TensorFlow's)
reads it as it reads a file. `autograph_cases_tf.json` holds TensorFlow 2.21's answers, staged and eager; running
this file with TensorFlow (`/work/tfvenv/bin/python tests/autograph_cases.py`) records them again. The suite never
imports TensorFlow.
"""
import json
import linecache
import os
import sys

if __name__ == "__main__":
    import tensorflow as tf  # recording TensorFlow's answers
else:
    import engine as tf

import autograph_cases_hand as hand  # noqa: E402

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


# The hand-written cases live in autograph_cases_hand.py; their `tf` is this module's.
hand.tf = tf
HAND_WRITTEN = {name: fn for name, fn in vars(hand).items() if name.startswith(("nest__", "misc__"))}
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
