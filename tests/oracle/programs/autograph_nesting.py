"""AutoGraph, deeper nestings: while in for, for in while, break/continue in the inner loop of each, loops under
conds, conds carrying several tensors, and loops whose trip count comes from a tensor's shape or value.
"""
from tests.oracle.program import programs

PROGRAMS = programs("arith",
    agn_while_in_for_break_inner="""
        @tf.function
        def f(x):
            total = tf.constant(0.0)
            for i in tf.range(3):
                y = x
                while y < 100.0:
                    y = y * 2.0
                    if y > 10.0:
                        break
                total = total + y
            return total
        result = f(tf.constant(1.5))
    """,
    agn_for_in_while_continue_inner="""
        @tf.function
        def f(n):
            s = tf.constant(0)
            k = tf.constant(0)
            while k < n:
                for j in tf.range(4):
                    if j == k:
                        continue
                    s = s + j
                k = k + 1
            return s
        result = f(tf.constant(3))
    """,
    agn_while_in_while_break_outer="""
        @tf.function
        def f():
            i = tf.constant(0)
            c = tf.constant(0)
            while i < 10:
                j = tf.constant(0)
                while j < i:
                    c = c + 1
                    j = j + 1
                if c > 5:
                    break
                i = i + 1
            return i, c
        result = f()
    """,
    agn_break_inner_continue_outer="""
        @tf.function
        def f():
            s = tf.constant(0)
            for i in tf.range(5):
                if i == 1:
                    continue
                for j in tf.range(5):
                    if j > i:
                        break
                    s = s + 1
            return s
        result = f()
    """,
    agn_three_level_nesting="""
        @tf.function
        def f():
            s = tf.constant(0)
            for i in tf.range(3):
                for j in tf.range(3):
                    for k in tf.range(3):
                        if k > j:
                            break
                        s = s + i * 100 + j * 10 + k
            return s
        result = f()
    """,
    agn_loop_under_tensor_if_with_break="""
        @tf.function
        def f(x, flag):
            if flag:
                for i in tf.range(10):
                    x = x + 1.0
                    if x > 3.0:
                        break
            else:
                x = x - 1.0
            return x
        result = (f(tf.constant(0.0), tf.constant(True)), f(tf.constant(0.0), tf.constant(False)))
    """,
    agn_loop_under_python_if="""
        @tf.function
        def f(x, mode):
            if mode == "double":
                for i in tf.range(2):
                    x = x * 2.0
            elif mode == "square":
                x = x * x
            return x
        result = (f(tf.constant(3.0), "double"), f(tf.constant(3.0), "square"), f(tf.constant(3.0), "none"))
    """,
    agn_cond_carrying_three="""
        @tf.function
        def f(x):
            a = x
            b = tf.constant(0)
            c = tf.constant(1.0, tf.float64)
            if x > 1.0:
                a = a * 2.0
                b = b + 5
                c = c / 4.0
            return a, b, c
        result = (f(tf.constant(2.0)), f(tf.constant(0.0)))
    """,
    agn_nested_ifs_in_loop="""
        @tf.function
        def f(x):
            pos = tf.constant(0)
            neg = tf.constant(0)
            big = tf.constant(0)
            for v in x:
                if v > 0.0:
                    pos = pos + 1
                    if v > 10.0:
                        big = big + 1
                elif v < 0.0:
                    neg = neg + 1
            return pos, neg, big
        result = f(tf.constant([1.0, -2.0, 20.0, 0.0, 30.0, -1.0]))
    """,
    agn_trip_count_from_value="""
        @tf.function
        def f(n):
            x = tf.constant(1.0)
            for i in tf.range(n):
                x = x + tf.cast(i, tf.float32) * 0.5
            return x
        result = (f(tf.constant(0)), f(tf.constant(4)))
    """,
    agn_shape_range_nested="""
        @tf.function
        def f(m):
            s = tf.constant(0.0)
            for i in range(tf.shape(m)[0]):
                for j in range(tf.shape(m)[1]):
                    if j > i:
                        break
                    s = s + m[i, j]
            return s
        result = f(tf.constant([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]))
    """,
    agn_static_shape_python_range="""
        @tf.function
        def f(m):
            s = tf.zeros([2])
            for i in range(m.shape[0]):
                s = s + m[i] * float(i + 1)
            return s
        result = f(tf.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]))
    """,
    agn_rows_of_int_tensor="""
        @tf.function
        def f(m):
            best = tf.constant(-1)
            for row in m:
                s = tf.reduce_sum(row)
                if s > best:
                    best = s
            return best
        result = f(tf.constant([[1, 2], [7, -1], [3, 3]]))
    """,
    agn_while_two_conditions="""
        @tf.function
        def f(x):
            i = tf.constant(0)
            while i < 10 and x < 50.0:
                x = x * 2.0
                i = i + 1
            return x, i
        result = f(tf.constant(1.0))
    """,
    agn_while_not_condition="""
        @tf.function
        def f(x):
            done = tf.constant(False)
            n = tf.constant(0)
            while not done:
                x = x / 2.0
                n = n + 1
                done = x < 1.0
            return x, n
        result = f(tf.constant(20.0))
    """,
    agn_if_or_and_tensors="""
        @tf.function
        def f(a, b):
            if a > 0.0 and b > 0.0:
                y = a + b
            elif a > 0.0 or b > 0.0:
                y = a - b
            else:
                y = a * b
            return y
        result = [f(tf.constant(a), tf.constant(b)) for a, b in ((1.0, 2.0), (1.0, -2.0), (-1.0, -2.0))]
    """,
    agn_continue_last_statement="""
        @tf.function
        def f():
            s = tf.constant(0)
            for i in tf.range(6):
                s = s + i
                if i > 2:
                    continue
            return s
        result = f()
    """,
    agn_break_first_statement="""
        @tf.function
        def f(n):
            s = tf.constant(0)
            for i in tf.range(10):
                if i >= n:
                    break
                s = s + i
            return s
        result = (f(tf.constant(0)), f(tf.constant(4)))
    """,
    agn_multiple_breaks="""
        @tf.function
        def f(x):
            i = tf.constant(0)
            while i < 100:
                i = i + 1
                if x[0] * tf.cast(i, tf.float32) > 10.0:
                    break
                if x[1] * tf.cast(i, tf.float32) > 10.0:
                    break
            return i
        result = (f(tf.constant([1.0, 3.0])), f(tf.constant([4.0, 0.5])))
    """,
    agn_loop_modifies_vector_elementwise="""
        @tf.function
        def f(v):
            for i in tf.range(3):
                v = tf.where(v > 1.0, v / 2.0, v * 3.0)
            return v
        result = f(tf.constant([0.5, 4.0, 9.0]))
    """,
    agn_python_loop_over_list_of_tensors="""
        @tf.function
        def f(xs):
            s = tf.constant(0.0)
            for x in xs:
                if x > 1.0:
                    s = s + x
            return s
        result = f([tf.constant(0.5), tf.constant(2.0), tf.constant(3.0)])
    """,
    agn_python_dict_items_loop="""
        @tf.function
        def f(d):
            s = tf.constant(0.0)
            for k, v in sorted(d.items()):
                s = s * 10.0 + v
            return s
        result = f({"b": tf.constant(2.0), "a": tf.constant(1.0), "c": tf.constant(3.0)})
    """,
    agn_loop_counter_python_int_in_tensor_loop="""
        @tf.function
        def f(x):
            k = 0
            for i in tf.range(3):
                x = x + 1.0
            k = k + 1
            return x, k
        result = f(tf.constant(0.0))
    """,
    agn_python_int_mutated_in_tensor_loop="""
        @tf.function
        def f(x):
            k = 0
            for i in tf.range(3):
                k = k + 1
                x = x + 1.0
            return x, k
        result = f(tf.constant(0.0))
    """,
    agn_loop_var_changes_dtype_raises="""
        @tf.function
        def f(n):
            x = tf.constant(0)
            for i in tf.range(n):
                x = tf.cast(x, tf.float32) + 1.5
            return x
        result = f(tf.constant(3))
    """,
    agn_loop_var_changes_shape_raises="""
        @tf.function
        def f(n):
            x = tf.constant([1.0])
            for i in tf.range(n):
                x = tf.concat([x, x], 0)
            return x
        result = f(tf.constant(3))
    """,
    agn_none_then_assigned_in_loop="""
        @tf.function
        def f(x):
            y = None
            for i in tf.range(3):
                y = x * 2.0
            return y
        result = f(tf.constant(1.0))
    """,
    agn_ternary_on_tensor="""
        @tf.function
        def f(x):
            return x * 2.0 if x > 0.0 else x - 5.0
        result = (f(tf.constant(3.0)), f(tf.constant(-3.0)))
    """,
    agn_if_static_shape_condition="""
        traces = []
        @tf.function
        def f(x):
            traces.append(1)
            if x.shape[0] > 2:
                return tf.reduce_sum(x)
            return tf.reduce_prod(x)
        result = (f(tf.constant([1.0, 2.0, 3.0])), f(tf.constant([4.0, 5.0])), len(traces))
    """,
    agn_if_python_flag_and_tensor="""
        @tf.function
        def f(x, use):
            if use and x > 0.0:
                y = x + 100.0
            else:
                y = x
            return y
        result = (f(tf.constant(1.0), True), f(tf.constant(1.0), False), f(tf.constant(-1.0), True))
    """,
    agn_if_reduce_any="""
        @tf.function
        def f(x):
            if tf.reduce_any(x < 0.0):
                x = tf.abs(x)
            return x
        result = (f(tf.constant([1.0, -2.0])), f(tf.constant([1.0, 2.0])))
    """,
    agn_if_is_none_python="""
        @tf.function
        def f(x, bias=None):
            if bias is not None:
                x = x + bias
            return x * 2.0
        result = (f(tf.constant(1.0)), f(tf.constant(1.0), tf.constant(0.5)))
    """,
    agn_list_append_in_tensor_loop_raises="""
        @tf.function
        def f(n):
            out = []
            for i in tf.range(n):
                out.append(i)
            return tf.stack(out)
        result = f(tf.constant(3))
    """,
    agn_list_append_in_python_loop_stack="""
        @tf.function
        def f(x):
            out = []
            for i in range(3):
                out.append(x * float(i))
            return tf.stack(out)
        result = f(tf.constant([1.0, 2.0]))
    """,
    agn_if_elif_on_python_value="""
        @tf.function
        def f(x, k):
            if k == 0:
                y = x
            elif k == 1:
                y = x * x
            else:
                y = -x
            return y
        result = [f(tf.constant(3.0), k) for k in (0, 1, 2)]
    """,
    agn_tensor_if_without_else_return_raises="""
        @tf.function
        def f(x):
            if x > 0.0:
                return x
        result = f(tf.constant(1.0))
    """,
)
