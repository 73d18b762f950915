"""tf.data pipelines with a deterministic order: elements, dtypes, batching, cardinality, element_spec shapes."""
from tests.oracle.program import programs

PROGRAMS = programs("exact",
    data_range_filter_map_batch="""
        ds = tf.data.Dataset.range(10).filter(lambda x: x % 3 != 0).map(lambda x: x * 10).batch(3)
        result = (list(ds.as_numpy_iterator()), int(ds.cardinality()))
    """,
    data_slices_of_tuples_dtypes="""
        ds = tf.data.Dataset.from_tensor_slices(([1.5, 2.5], [3, 4]))
        result = [(a, b, a.dtype, b.dtype) for a, b in ds]
    """,
    data_slices_of_dict="""
        ds = tf.data.Dataset.from_tensor_slices({"x": np.arange(6).reshape(3, 2), "y": np.array([0.5, 1.5, 2.5])})
        result = [(e["x"], e["y"]) for e in ds]
    """,
    data_batch_drop_remainder_and_len="""
        ds = tf.data.Dataset.from_tensor_slices(np.arange(7)).batch(3, drop_remainder=True)
        result = (list(ds.as_numpy_iterator()), len(ds), len(tf.data.Dataset.range(7).batch(3)))
    """,
    data_unbatch_take_skip_repeat="""
        ds = tf.data.Dataset.from_tensor_slices(np.arange(6).reshape(3, 2)).unbatch()
        result = (list(ds.skip(1).take(3).as_numpy_iterator()), list(ds.take(2).repeat(2).as_numpy_iterator()),
                  int(ds.repeat().cardinality()), int(ds.cardinality()))
    """,
    data_zip_enumerate_concatenate="""
        a = tf.data.Dataset.range(3)
        b = tf.data.Dataset.from_tensor_slices([10.0, 20.0, 30.0, 40.0])
        result = (list(tf.data.Dataset.zip((a, b)).as_numpy_iterator()), list(b.enumerate(5).as_numpy_iterator()),
                  list(a.concatenate(tf.data.Dataset.range(7, 9)).as_numpy_iterator()))
    """,
    data_map_tuple_arguments_and_reduce="""
        ds = tf.data.Dataset.from_tensor_slices((np.arange(4.0), np.arange(4.0) * 2)).map(lambda x, y: x + y)
        result = (list(ds.as_numpy_iterator()), ds.reduce(np.float64(0.0), lambda s, v: s + v))
    """,
    data_element_spec_shapes="""
        ds = tf.data.Dataset.from_tensor_slices((np.zeros((8, 3), np.float32), np.zeros(8, np.int64)))
        s1 = ds.element_spec
        s2 = ds.batch(4).element_spec
        s3 = ds.batch(4, drop_remainder=True).element_spec
        result = [(s[0].shape, s[0].dtype, s[1].shape, s[1].dtype) for s in (s1, s2, s3)]
    """,
    data_from_generator="""
        def gen():
            for i in range(3):
                yield i, [float(i)] * 2
        ds = tf.data.Dataset.from_generator(gen, output_signature=(tf.TensorSpec((), tf.int32),
                                                                  tf.TensorSpec((2,), tf.float32)))
        result = (list(ds.as_numpy_iterator()), int(ds.cardinality()))
    """,
    data_unbatch_cardinality="""
        result = [int(tf.data.Dataset.range(7).batch(3, drop_remainder=True).unbatch().cardinality()),
                  int(tf.data.Dataset.range(7).batch(3).unbatch().cardinality()),
                  tf.TensorSpec([None, 3]).shape, tf.TensorSpec([2, 3]).shape.num_elements()]
    """,
    data_shuffle_buffer_one_keeps_order="""
        result = list(tf.data.Dataset.range(6).shuffle(1).as_numpy_iterator())
    """,
    data_uint8_images_pipeline="""
        x = np.arange(2 * 4, dtype=np.uint8).reshape(2, 2, 2) * 30
        y = np.array([3, 7], np.uint8)
        ds = tf.data.Dataset.from_tensor_slices((x / 255.0, y)).batch(2)
        result = [(a.dtype, a.shape, b.dtype, b) for a, b in ds]
    """,
    data_iterate_in_python_loop_with_function="""
        @tf.function
        def step(x):
            return tf.reduce_sum(x)
        total = 0.0
        for batch in tf.data.Dataset.from_tensor_slices(np.arange(10.0, dtype=np.float32)).batch(4):
            total += float(step(batch))
        result = total
    """,
)
