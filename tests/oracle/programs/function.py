"""tf.function: retracing rules and trace counts, input signatures, concrete functions, Variables and closures.

A Python list appended to inside the function counts its traces, as TF users count them. Every float result here
is exactly representable (small integers and halves), hence the `exact` class throughout.
"""
from tests.oracle.program import programs

PROGRAMS = programs("exact",
    fn_same_shape_dtype_one_trace="""
        traces = []
        @tf.function
        def f(x):
            traces.append(1)
            return x + 1
        a = f(tf.constant([1, 2]))
        b = f(tf.constant([3, 4]))
        result = (a, b, len(traces))
    """,
    fn_new_shape_retraces="""
        traces = []
        @tf.function
        def f(x):
            traces.append(1)
            return x * 2
        f(tf.constant([1, 2]))
        f(tf.constant([1, 2, 3]))
        r = f(tf.constant([[1], [2]]))
        result = (r, len(traces))
    """,
    fn_new_dtype_retraces="""
        traces = []
        @tf.function
        def f(x):
            traces.append(1)
            return x + x
        a = f(tf.constant(1))
        b = f(tf.constant(1.5))
        c = f(tf.constant(2))
        result = (a, b, c, len(traces))
    """,
    fn_python_scalar_retraces_per_value="""
        traces = []
        @tf.function
        def f(n):
            traces.append(n)
            return tf.constant(n) * 2
        out = [f(1), f(2), f(1), f(2), f(3)]
        result = (out, traces)
    """,
    fn_python_float_vs_int_arg="""
        traces = []
        @tf.function
        def f(x, k):
            traces.append(1)
            return x * k
        a = f(tf.constant(2.0), 3)
        b = f(tf.constant(2.0), 3.0)
        result = (a, b, len(traces))
    """,
    fn_python_bool_arg="""
        traces = []
        @tf.function
        def f(x, training):
            traces.append(training)
            if training:
                return x * 2
            return x
        out = [f(tf.constant(5), True), f(tf.constant(5), False), f(tf.constant(6), True)]
        result = (out, traces)
    """,
    fn_numpy_array_arg="""
        traces = []
        @tf.function
        def f(x):
            traces.append(1)
            return x * 2
        a = f(np.array([1, 2], dtype=np.int32))
        b = f(np.array([3, 4], dtype=np.int32))
        result = (a, b, a.dtype, len(traces))
    """,
    fn_numpy_float64_arg="""
        @tf.function
        def f(x):
            return x * 2
        r = f(np.array([1.5, 2.5]))
        result = (r, r.dtype)
    """,
    fn_list_of_tensors_arg="""
        traces = []
        @tf.function
        def f(xs):
            traces.append(len(xs))
            return tf.add_n(xs)
        a = f([tf.constant(1), tf.constant(2)])
        b = f([tf.constant(3), tf.constant(4)])
        c = f([tf.constant(1), tf.constant(2), tf.constant(3)])
        result = (a, b, c, traces)
    """,
    fn_dict_arg="""
        traces = []
        @tf.function
        def f(d):
            traces.append(1)
            return d["a"] * 10 + d["b"]
        a = f({"a": tf.constant(1), "b": tf.constant(2)})
        b = f({"a": tf.constant(3), "b": tf.constant(4)})
        result = (a, b, len(traces))
    """,
    fn_tuple_arg_and_return="""
        @tf.function
        def f(pair):
            a, b = pair
            return b, a, a + b
        result = f((tf.constant(1), tf.constant(10)))
    """,
    fn_dict_return="""
        @tf.function
        def f(x):
            return {"double": x * 2, "square": x * x}
        result = f(tf.constant([1, 2, 3]))
    """,
    fn_keyword_arguments="""
        traces = []
        @tf.function
        def f(x, scale=2):
            traces.append(scale)
            return x * scale
        a = f(tf.constant(3))
        b = f(tf.constant(3), scale=5)
        c = f(x=tf.constant(4), scale=5)
        d = f(tf.constant(3), 2)
        result = (a, b, c, d, traces)
    """,
    fn_default_tensor_argument_once="""
        traces = []
        @tf.function
        def f(x, y=None):
            traces.append(y is None)
            if y is None:
                return x
            return x + y
        a = f(tf.constant(1))
        b = f(tf.constant(1), tf.constant(5))
        c = f(tf.constant(2))
        result = (a, b, c, traces)
    """,
    fn_input_signature_no_retrace="""
        traces = []
        @tf.function(input_signature=[tf.TensorSpec(shape=[None], dtype=tf.float32)])
        def f(x):
            traces.append(1)
            return tf.reduce_sum(x)
        a = f(tf.constant([1.0, 2.0]))
        b = f(tf.constant([1.0, 2.0, 3.0]))
        result = (a, b, len(traces))
    """,
    fn_input_signature_wrong_dtype="""
        @tf.function(input_signature=[tf.TensorSpec(shape=[None], dtype=tf.float32)])
        def f(x):
            return x * 2.0
        result = f(tf.constant([1, 2]))
    """,
    fn_input_signature_wrong_rank="""
        @tf.function(input_signature=[tf.TensorSpec(shape=[None], dtype=tf.float32)])
        def f(x):
            return x * 2.0
        result = f(tf.constant([[1.0, 2.0]]))
    """,
    fn_input_signature_wrong_count="""
        @tf.function(input_signature=[tf.TensorSpec(shape=[], dtype=tf.float32)])
        def f(x):
            return x * 2.0
        result = f(tf.constant(1.0), tf.constant(2.0))
    """,
    fn_input_signature_python_list_converted="""
        @tf.function(input_signature=[tf.TensorSpec(shape=[2], dtype=tf.float32)])
        def f(x):
            return x * 2.0
        r = f([1.0, 2.0])
        result = (r, r.dtype)
    """,
    fn_input_signature_fixed_shape_mismatch="""
        @tf.function(input_signature=[tf.TensorSpec(shape=[3], dtype=tf.int32)])
        def f(x):
            return x + 1
        result = f(tf.constant([1, 2]))
    """,
    fn_get_concrete_function_call="""
        @tf.function
        def f(x):
            return x * 3
        cf = f.get_concrete_function(tf.TensorSpec(shape=[2], dtype=tf.int32))
        result = cf(tf.constant([1, 2]))
    """,
    fn_get_concrete_function_wrong_shape="""
        @tf.function
        def f(x):
            return x * 3
        cf = f.get_concrete_function(tf.TensorSpec(shape=[2], dtype=tf.int32))
        result = cf(tf.constant([1, 2, 3]))
    """,
    fn_get_concrete_function_counts_trace="""
        traces = []
        @tf.function
        def f(x):
            traces.append(1)
            return x + 1
        cf = f.get_concrete_function(tf.constant([1, 2]))
        a = f(tf.constant([5, 6]))
        result = (a, len(traces))
    """,
    fn_concrete_structured_outputs="""
        @tf.function
        def f(x):
            return x * 2, x + 1
        cf = f.get_concrete_function(tf.TensorSpec([], tf.float32))
        result = cf(tf.constant(1.5))
    """,
    fn_variable_created_first_call_only="""
        class Counter:
            def __init__(self):
                self.v = None
            @tf.function
            def __call__(self, x):
                if self.v is None:
                    self.v = tf.Variable(0)
                self.v.assign_add(x)
                return self.v.read_value()
        c = Counter()
        a = c(tf.constant(2))
        b = c(tf.constant(3))
        result = (a, b, c.v)
    """,
    fn_variable_created_every_call_raises="""
        @tf.function
        def f(x):
            v = tf.Variable(1.0)
            return v * x
        f(tf.constant(2.0))
        result = f(tf.constant(3.0))
    """,
    fn_variable_created_every_call_first_call="""
        @tf.function
        def f(x):
            v = tf.Variable(1.0)
            v.assign_add(x)
            return v.read_value()
        result = f(tf.constant(2.0))
    """,
    fn_closure_over_variable_sees_updates="""
        v = tf.Variable(1)
        traces = []
        @tf.function
        def f(x):
            traces.append(1)
            return x + v
        a = f(tf.constant(10))
        v.assign(5)
        b = f(tf.constant(10))
        result = (a, b, len(traces))
    """,
    fn_closure_over_python_global_frozen="""
        scale = 2
        @tf.function
        def f(x):
            return x * scale
        a = f(tf.constant(10))
        scale = 3
        b = f(tf.constant(10))
        result = (a, b)
    """,
    fn_closure_over_tensor_global_frozen="""
        c = tf.constant(2)
        @tf.function
        def f(x):
            return x * c
        a = f(tf.constant(10))
        c = tf.constant(3)
        b = f(tf.constant(10))
        result = (a, b)
    """,
    fn_variable_assign_in_function="""
        v = tf.Variable([1.0, 2.0])
        @tf.function
        def step(d):
            v.assign_add(d)
            v.assign(v * 2.0)
            return v.read_value()
        a = step(tf.constant([1.0, 1.0]))
        b = step(tf.constant([0.5, 0.5]))
        result = (a, b, v)
    """,
    fn_variable_assign_sub_and_read="""
        v = tf.Variable(10)
        @tf.function
        def f():
            v.assign_sub(3)
            return v + 0
        result = (f(), f(), v)
    """,
    fn_run_functions_eagerly_traces_every_call="""
        traces = []
        @tf.function
        def f(x):
            traces.append(1)
            return x + 1
        tf.config.run_functions_eagerly(True)
        try:
            a = f(tf.constant(1))
            b = f(tf.constant(2))
        finally:
            tf.config.run_functions_eagerly(False)
        c = f(tf.constant(3))
        d = f(tf.constant(4))
        result = (a, b, c, d, len(traces))
    """,
    fn_run_functions_eagerly_numpy_inside="""
        @tf.function
        def f(x):
            return x.numpy() * 2
        tf.config.run_functions_eagerly(True)
        try:
            r = f(tf.constant(3))
        finally:
            tf.config.run_functions_eagerly(False)
        result = r
    """,
    fn_numpy_inside_function_raises="""
        @tf.function
        def f(x):
            return x.numpy() * 2
        result = f(tf.constant(3))
    """,
    fn_function_calls_function="""
        traces = []
        @tf.function
        def inner(x):
            traces.append("inner")
            return x * 2
        @tf.function
        def outer(x):
            traces.append("outer")
            return inner(x) + inner(x + 1)
        a = outer(tf.constant(3))
        b = outer(tf.constant(4))
        result = (a, b, traces)
    """,
    fn_plain_python_helper="""
        def helper(x, k):
            return x * k + 1
        @tf.function
        def f(x):
            return helper(x, 3) + helper(x, 4)
        result = f(tf.constant([1, 2]))
    """,
    fn_recursion_python_base_case="""
        @tf.function
        def power(x, n):
            if n == 0:
                return tf.ones_like(x)
            return x * power(x, n - 1)
        result = power(tf.constant(3), 4)
    """,
    fn_recursion_plain_helper="""
        def fact(n):
            if n <= 1:
                return tf.constant(1)
            return n * fact(n - 1)
        @tf.function
        def f():
            return fact(6)
        result = f()
    """,
    fn_method_decorated="""
        class Model:
            def __init__(self, k):
                self.k = k
                self.traces = 0
            @tf.function
            def __call__(self, x):
                self.traces += 1
                return x * self.k
        m1 = Model(2)
        m2 = Model(3)
        a = m1(tf.constant(5))
        b = m2(tf.constant(5))
        c = m1(tf.constant(6))
        result = (a, b, c, m1.traces, m2.traces)
    """,
    fn_method_with_variable="""
        class Dense:
            def __init__(self):
                self.w = tf.Variable([[1.0], [2.0]])
                self.b = tf.Variable([0.5])
            @tf.function
            def apply(self, x):
                return tf.matmul(x, self.w) + self.b
        layer = Dense()
        a = layer.apply(tf.constant([[1.0, 1.0]]))
        layer.b.assign([10.0])
        b = layer.apply(tf.constant([[1.0, 1.0]]))
        result = (a, b)
    """,
    fn_return_python_values="""
        @tf.function
        def f(x):
            return x + 1, 7, "tag"
        result = f(tf.constant(1))
    """,
    fn_return_none="""
        v = tf.Variable(0)
        @tf.function
        def f():
            v.assign_add(1)
        r = f()
        f()
        result = (r, v)
    """,
    fn_lambda_wrapped="""
        f = tf.function(lambda a, b: a * b + 1)
        result = (f(tf.constant(3), tf.constant(4)), f(tf.constant(2.0), tf.constant(0.5)))
    """,
    fn_shape_inside_function_static="""
        @tf.function
        def f(x):
            return x.shape[0] * 10 + x.shape[1]
        result = f(tf.zeros([3, 4]))
    """,
    fn_tf_shape_inside_function="""
        @tf.function
        def f(x):
            return tf.shape(x)
        s = f(tf.zeros([3, 4]))
        result = (s, s.dtype)
    """,
    fn_reduce_retracing_trace_count="""
        traces = []
        @tf.function(reduce_retracing=True)
        def f(x):
            traces.append(1)
            return tf.reduce_sum(x)
        out = [f(tf.ones([n])) for n in (1, 2, 3, 4)]
        result = (out, len(traces))
    """,
    fn_retrace_same_structure_different_python_list="""
        traces = []
        @tf.function
        def f(x, cfg):
            traces.append(1)
            return x * cfg[0] + cfg[1]
        a = f(tf.constant(1), [2, 3])
        b = f(tf.constant(1), [2, 3])
        c = f(tf.constant(1), [2, 4])
        result = (a, b, c, len(traces))
    """,
    fn_call_with_python_list_of_numbers="""
        traces = []
        @tf.function
        def f(x):
            traces.append(1)
            return tf.reduce_sum(tf.convert_to_tensor(x))
        a = f([1, 2, 3])
        b = f([1, 2, 3])
        c = f([4, 5, 6])
        result = (a, b, c, len(traces))
    """,
    fn_float_python_arg_value="""
        @tf.function
        def f(x):
            return tf.constant(1.5) * x
        r = f(2.0)
        result = (r, r.dtype)
    """,
    fn_arg_is_eager_scalar_op_result="""
        @tf.function
        def f(x):
            return x * 2.0
        result = f(tf.constant(1.5) * tf.constant(2.0))
    """,
    fn_arg_is_eager_reduction_result="""
        @tf.function
        def f(x, y):
            return x + y
        s = tf.reduce_sum(tf.constant([1.0, 2.0, 3.0]))
        result = f(s, tf.constant(0.5))
    """,
    fn_tutorial_add_and_multiply="""
        @tf.function
        def add_and_multiply(a, b, c):
            return (a + b) * c
        a = tf.constant([1.0, 2.0])
        b = tf.constant([3.0, 4.0])
        c = tf.constant(1.5)
        result = add_and_multiply(a, b, c * 2.0)
    """,
    fn_arg_is_eager_int_scalar_op_result="""
        @tf.function
        def f(n):
            return tf.range(5)[n]
        result = f(tf.constant(1) + tf.constant(2))
    """,
    fn_result_fed_back_as_argument="""
        @tf.function
        def step(x):
            return x * 0.5 + 1.0
        x = tf.constant(8.0)
        for _ in range(4):
            x = step(x)
        result = x
    """,
)
