"""AutoGraph loops: break / continue / return in every loop kind and nesting, loop `else` clauses, carried tensors.

Loop kinds: Python `range`, `tf.range`, `range(tf.shape(x)[0])`, `for row in tensor`, a Python list, `enumerate`,
`zip`, `while` on a tensor condition and on a Python condition. Loops carry 1-3 tensors of float and int dtypes.
Float programs whose every value is a small integer still use `arith`: the arithmetic is float all the same.
"""
from tests.oracle.program import programs

PROGRAMS = programs("arith",
    ag_range_break="""
        @tf.function
        def f(x):
            for i in range(4):
                x = x + 1.0
                if i == 1:
                    break
            return x
        result = f(tf.constant(0.0))
    """,
    ag_tf_range_break="""
        @tf.function
        def f(x):
            for i in tf.range(4):
                x = x + 1.0
                if i == 1:
                    break
            return x
        result = f(tf.constant(0.0))
    """,
    ag_shape_range_break="""
        @tf.function
        def f(x):
            s = tf.constant(0.0)
            for i in range(tf.shape(x)[0]):
                s = s + x[i]
                if s > 2.5:
                    break
            return s
        result = f(tf.constant([1.0, 2.0, 3.0, 4.0]))
    """,
    ag_shape_range_continue_then_break="""
        @tf.function
        def f(x):
            s = tf.constant(0.0)
            for i in range(tf.shape(x)[0]):
                if x[i] < 0.0:
                    continue
                s = s + x[i]
                if i >= 3:
                    break
            return s
        result = f(tf.constant([1.0, -2.0, 3.0, 4.0, 5.0, 6.0]))
    """,
    ag_tensor_rows_break="""
        @tf.function
        def f(m):
            s = tf.zeros([2])
            for row in m:
                s = s + row
                if tf.reduce_sum(s) > 5.0:
                    break
            return s
        result = f(tf.constant([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0], [4.0, 4.0]]))
    """,
    ag_tensor_rows_continue="""
        @tf.function
        def f(m):
            s = tf.zeros([2])
            for row in m:
                if row[0] > 2.0:
                    continue
                s = s + row
            return s
        result = f(tf.constant([[1.0, 10.0], [3.0, 20.0], [2.0, 30.0]]))
    """,
    ag_range_continue="""
        @tf.function
        def f(x):
            for i in range(5):
                if i % 2 == 0:
                    continue
                x = x * 2.0
            return x
        result = f(tf.constant(1.5))
    """,
    ag_tf_range_continue_tensor_cond="""
        @tf.function
        def f(x):
            s = tf.constant(0.0)
            for i in tf.range(6):
                if x[i] > 2.0:
                    continue
                s = s + x[i]
            return s
        result = f(tf.constant([1.0, 5.0, 2.0, 7.0, 0.5, 3.0]))
    """,
    ag_tf_range_continue_then_break="""
        @tf.function
        def f():
            s = tf.constant(0)
            for i in tf.range(10):
                if i % 3 == 0:
                    continue
                if i > 7:
                    break
                s = s + i
            return s
        result = f()
    """,
    ag_python_list_loop="""
        @tf.function
        def f(x):
            for w in [1.0, 2.0, 3.0]:
                x = x * w + 1.0
            return x
        result = f(tf.constant(1.0))
    """,
    ag_python_list_break_python_cond="""
        @tf.function
        def f(x):
            for w in [1.0, 2.0, 3.0, 4.0]:
                if w > 2.5:
                    break
                x = x + w
            return x
        result = f(tf.constant(0.0))
    """,
    ag_python_list_break_tensor_cond="""
        @tf.function
        def f(x):
            for w in [1.0, 2.0, 3.0, 4.0]:
                x = x + w
                if x > 2.5:
                    break
            return x
        result = f(tf.constant(0.0))
    """,
    ag_while_tensor_cond="""
        @tf.function
        def f(x):
            n = tf.constant(0)
            while x < 100.0:
                x = x * 3.0
                n = n + 1
            return x, n
        result = f(tf.constant(2.0))
    """,
    ag_while_tensor_cond_break="""
        @tf.function
        def f(x):
            i = tf.constant(0)
            while i < 10:
                x = x + 2.0
                i = i + 1
                if x > 7.0:
                    break
            return x, i
        result = f(tf.constant(0.0))
    """,
    ag_while_true_break="""
        @tf.function
        def f(x):
            while True:
                x = x * 2.0
                if x > 50.0:
                    break
            return x
        result = f(tf.constant(3.0))
    """,
    ag_while_python_cond="""
        @tf.function
        def f(x):
            k = 0
            while k < 3:
                x = x * x
                k += 1
            return x
        result = f(tf.constant(1.5))
    """,
    ag_while_continue="""
        @tf.function
        def f(n):
            i = tf.constant(0)
            s = tf.constant(0)
            while i < n:
                i = i + 1
                if i % 2 == 0:
                    continue
                s = s + i
            return s
        result = f(tf.constant(9))
    """,
    ag_enumerate_list="""
        @tf.function
        def f(x):
            for i, w in enumerate([2.0, 3.0, 4.0]):
                x = x + w * i
            return x
        result = f(tf.constant(1.0))
    """,
    ag_enumerate_tensor="""
        @tf.function
        def f(x):
            s = tf.constant(0.0)
            for i, v in enumerate(x):
                s = s + v * tf.cast(i, tf.float32)
            return s
        result = f(tf.constant([1.0, 2.0, 3.0]))
    """,
    ag_zip_lists="""
        @tf.function
        def f(x):
            for a, b in zip([1.0, 2.0, 3.0], [10.0, 20.0, 30.0]):
                x = x + a * b
            return x
        result = f(tf.constant(0.5))
    """,
    ag_zip_tensor_rows="""
        @tf.function
        def f(a, b):
            s = tf.constant(0.0)
            for u, v in zip(a, b):
                s = s + u * v
            return s
        result = f(tf.constant([1.0, 2.0, 3.0]), tf.constant([4.0, 5.0, 6.0]))
    """,
    ag_nested_break_inner="""
        @tf.function
        def f(x):
            for i in tf.range(3):
                for j in tf.range(5):
                    if j == 2:
                        break
                    x = x + 1.0
            return x
        result = f(tf.constant(0.0))
    """,
    ag_nested_break_outer="""
        @tf.function
        def f(x):
            for i in tf.range(5):
                for j in tf.range(3):
                    x = x + 1.0
                if x > 5.0:
                    break
            return x
        result = f(tf.constant(0.0))
    """,
    ag_nested_python_outer_tensor_inner="""
        @tf.function
        def f(x):
            for i in range(3):
                for j in tf.range(i + 1):
                    x = x * 2.0
            return x
        result = f(tf.constant(1.0))
    """,
    ag_nested_tensor_outer_python_inner_break="""
        @tf.function
        def f(x):
            for i in tf.range(3):
                for w in range(4):
                    x = x + float(w)
                    if w == 1:
                        break
            return x
        result = f(tf.constant(0.0))
    """,
    ag_nested_continue_inner="""
        @tf.function
        def f():
            s = tf.constant(0)
            for i in tf.range(4):
                for j in tf.range(4):
                    if j == i:
                        continue
                    s = s + i * 10 + j
            return s
        result = f()
    """,
    ag_loop_in_if="""
        @tf.function
        def f(x, n):
            if x > 0.0:
                for i in tf.range(n):
                    x = x * 2.0
            else:
                x = -x
            return x
        result = (f(tf.constant(1.5), tf.constant(3)), f(tf.constant(-2.0), tf.constant(3)))
    """,
    ag_if_elif_else_in_loop="""
        @tf.function
        def f(x):
            a = tf.constant(0.0)
            b = tf.constant(0.0)
            for i in tf.range(6):
                if i < 2:
                    a = a + x
                elif i < 4:
                    b = b + x
                else:
                    a = a - 1.0
                    b = b * 2.0
            return a, b
        result = f(tf.constant(1.5))
    """,
    ag_return_in_tensor_for="""
        @tf.function
        def f(x):
            for i in tf.range(10):
                x = x + 1.0
                if x > 3.0:
                    return x * 10.0
            return x
        result = (f(tf.constant(0.0)), f(tf.constant(-20.0)))
    """,
    ag_return_in_python_for="""
        @tf.function
        def f(x):
            for i in range(5):
                x = x * 2.0
                if x > 10.0:
                    return x
            return -x
        result = (f(tf.constant(1.0)), f(tf.constant(0.1)))
    """,
    ag_return_in_nested_loops="""
        @tf.function
        def f(x):
            for i in tf.range(4):
                for j in tf.range(4):
                    x = x + 1.0
                    if x > 6.0:
                        return x, i, j
            return x, tf.constant(-1), tf.constant(-1)
        result = f(tf.constant(0.0))
    """,
    ag_return_in_while="""
        @tf.function
        def f(x):
            while x < 100.0:
                x = x + 7.0
                if x > 20.0:
                    return x
            return x - 1.0
        result = f(tf.constant(1.0))
    """,
    ag_for_else_no_break="""
        @tf.function
        def f(x):
            for i in tf.range(3):
                x = x + 1.0
                if x > 100.0:
                    break
            else:
                x = x * 10.0
            return x
        result = f(tf.constant(0.0))
    """,
    ag_for_else_with_break="""
        @tf.function
        def f(x):
            for i in tf.range(3):
                x = x + 1.0
                if x > 1.0:
                    break
            else:
                x = x * 10.0
            return x
        result = f(tf.constant(0.0))
    """,
    ag_python_for_else="""
        @tf.function
        def f(x):
            for i in range(3):
                x = x + 1.0
            else:
                x = x * 10.0
            return x
        result = f(tf.constant(0.0))
    """,
    ag_while_else="""
        @tf.function
        def f(x):
            while x < 5.0:
                x = x + 2.0
            else:
                x = -x
            return x
        result = f(tf.constant(0.0))
    """,
    ag_carry_three_mixed_dtypes="""
        @tf.function
        def f(x):
            n = tf.constant(0)
            m = tf.constant(1, tf.int64)
            for i in tf.range(5):
                x = x * 1.5
                n = n + i
                m = m * 2
            return x, n, m
        result = f(tf.constant(1.0))
    """,
    ag_carry_float64="""
        @tf.function
        def f(x):
            s = tf.zeros([], tf.float64)
            for i in tf.range(4):
                s = s + x * tf.cast(i, tf.float64)
            return s
        result = f(tf.constant(0.25, tf.float64))
    """,
    ag_carry_vector_and_counter="""
        @tf.function
        def f(v):
            n = tf.constant(0)
            while tf.reduce_max(v) < 20.0:
                v = v * 2.0
                n = n + 1
            return v, n
        result = f(tf.constant([1.0, 3.0]))
    """,
    ag_break_assigns_float="""
        @tf.function
        def f(x):
            y = tf.constant(0.0)
            i = tf.constant(0)
            while i < 10:
                i = i + 1
                if i > 3:
                    y = x * 2.0
                    break
            return y, i
        result = f(tf.constant(5.0))
    """,
    ag_loop_var_after_loop="""
        @tf.function
        def f(x):
            s = x
            for i in tf.range(4):
                s = s + 1.0
            return s, i
        result = f(tf.constant(0.0))
    """,
    ag_zero_trip_loop="""
        @tf.function
        def f(x, n):
            for i in tf.range(n):
                x = x * 2.0
            return x
        result = (f(tf.constant(3.0), tf.constant(0)), f(tf.constant(3.0), tf.constant(2)))
    """,
    ag_range_with_step_tensor="""
        @tf.function
        def f():
            s = tf.constant(0)
            for i in tf.range(10, 0, -3):
                s = s * 100 + i
            return s
        result = f()
    """,
    ag_break_in_python_range_with_tensor_cond="""
        @tf.function
        def f(x):
            for i in range(5):
                x = x * 2.0
                if x > 10.0:
                    break
            return x
        result = (f(tf.constant(1.0)), f(tf.constant(100.0)))
    """,
)

PROGRAMS += programs("arith",
    ag_if_tensor_cond="""
        @tf.function
        def f(x):
            if x > 0.0:
                y = x * 2.0
            else:
                y = -x
            return y
        result = (f(tf.constant(2.0)), f(tf.constant(-3.0)))
    """,
    ag_if_elif_tensor="""
        @tf.function
        def f(x):
            if x > 10.0:
                y = x - 10.0
            elif x > 0.0:
                y = x * 2.0
            else:
                y = tf.constant(0.0)
            return y
        result = [f(tf.constant(v)) for v in (12.0, 3.0, -1.0)]
    """,
    ag_if_python_cond="""
        @tf.function
        def f(x, flag):
            if flag:
                return x + 1.0
            return x - 1.0
        result = (f(tf.constant(1.0), True), f(tf.constant(1.0), False))
    """,
    ag_if_only_then_branch_assigns_existing="""
        @tf.function
        def f(x):
            y = x
            if x > 0.0:
                y = y * 3.0
            return y
        result = (f(tf.constant(2.0)), f(tf.constant(-2.0)))
    """,
    ag_if_var_defined_in_one_branch="""
        @tf.function
        def f(x):
            if x > 0.0:
                y = x * 2.0
            return y
        result = f(tf.constant(1.0))
    """,
    ag_if_var_defined_in_one_branch_unused="""
        @tf.function
        def f(x):
            if x > 0.0:
                tmp = x * 2.0
                x = tmp + 1.0
            return x
        result = (f(tf.constant(1.0)), f(tf.constant(-1.0)))
    """,
    ag_loop_var_defined_inside_only="""
        @tf.function
        def f(x):
            for i in tf.range(3):
                z = x * 2.0
                x = z
            return z
        result = f(tf.constant(1.0))
    """,
    ag_if_branches_different_dtypes="""
        @tf.function
        def f(x):
            if x > 0.0:
                y = tf.constant(1)
            else:
                y = tf.constant(1.0)
            return y
        result = f(tf.constant(1.0))
    """,
    ag_tf_cond_direct="""
        @tf.function
        def f(x):
            return tf.cond(x > 1.0, lambda: x * 10.0, lambda: x - 10.0)
        result = (f(tf.constant(2.0)), f(tf.constant(0.5)))
    """,
    ag_tf_cond_eager="""
        x = tf.constant(3.0)
        result = tf.cond(x < 1.0, lambda: x + 1.0, lambda: x * x)
    """,
    ag_tf_cond_tuple_outputs="""
        @tf.function
        def f(x):
            return tf.cond(x > 0.0, lambda: (x, tf.constant(1)), lambda: (-x, tf.constant(2)))
        result = f(tf.constant(-4.0))
    """,
    ag_while_loop_direct="""
        @tf.function
        def f(n):
            i0 = tf.constant(0)
            s0 = tf.constant(0.0)
            return tf.while_loop(lambda i, s: i < n, lambda i, s: (i + 1, s + tf.cast(i, tf.float32)), [i0, s0])
        result = f(tf.constant(5))
    """,
    ag_while_loop_eager="""
        i, x = tf.while_loop(lambda i, x: i < 4, lambda i, x: (i + 1, x * 2.0), (tf.constant(0), tf.constant(1.0)))
        result = (i, x)
    """,
    ag_while_loop_wrong_structure="""
        @tf.function
        def f():
            return tf.while_loop(lambda i, s: i < 3, lambda i, s: (i + 1,), (tf.constant(0), tf.constant(0.0)))
        result = f()
    """,
    ag_while_loop_single_var_list="""
        r = tf.while_loop(lambda i: i < 10, lambda i: [i + 3], [tf.constant(1)])
        result = r
    """,
    ag_python_side_effect_trace_count="""
        trace = []
        @tf.function
        def f(x):
            trace.append(1)
            for i in tf.range(3):
                x = x + 1.0
            return x
        a = f(tf.constant(1.0))
        b = f(tf.constant(2.0))
        c = f(tf.constant(3.0))
        result = (a, b, c, len(trace))
    """,
    ag_python_append_in_tensor_loop="""
        trace = []
        @tf.function
        def f(x):
            for i in tf.range(4):
                trace.append(1)
                x = x + 1.0
            return x
        result = (f(tf.constant(0.0)), f(tf.constant(1.0)), len(trace))
    """,
    ag_python_append_in_python_loop="""
        trace = []
        @tf.function
        def f(x):
            for i in range(4):
                trace.append(i)
                x = x + 1.0
            return x
        result = (f(tf.constant(0.0)), f(tf.constant(1.0)), trace)
    """,
    ag_tf_print_runs_each_call="""
        trace = []
        @tf.function
        def f(x):
            trace.append(1)
            print("traced")
            tf.print("x is", x)
            return x * 2.0
        result = (f(tf.constant(1.0)), f(tf.constant(2.0)), f(tf.constant(3.0)), len(trace))
    """,
)

PROGRAMS += programs("exact",
    ag_int_while_collatz="""
        @tf.function
        def f(n):
            steps = tf.constant(0)
            while n != 1:
                if n % 2 == 0:
                    n = n // 2
                else:
                    n = 3 * n + 1
                steps = steps + 1
            return steps
        result = (f(tf.constant(6)), f(tf.constant(27)))
    """,
    ag_int_nested_counts="""
        @tf.function
        def f(n):
            c = tf.constant(0)
            for i in tf.range(n):
                for j in tf.range(i):
                    if (i + j) % 3 == 0:
                        continue
                    c = c + 1
            return c
        result = f(tf.constant(7))
    """,
    ag_bool_carry="""
        @tf.function
        def f(x):
            found = tf.constant(False)
            for v in x:
                if v == 3:
                    found = tf.constant(True)
            return found
        result = (f(tf.constant([1, 2, 3])), f(tf.constant([4, 5])))
    """,
    ag_int64_accumulate="""
        @tf.function
        def f():
            p = tf.constant(1, tf.int64)
            for i in tf.range(1, 21, dtype=tf.int64):
                p = p * i
            return p
        result = f()
    """,
)
