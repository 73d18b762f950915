"""`python -m engine`: a short, deterministic tour of what Kiln does today."""
from __future__ import annotations

import importlib.util

import numpy as np

import engine as tf


def section(title: str) -> None:
    print(f"\n-- {title}")


def stages() -> list[tuple[str, bool]]:
    """The stages of DESIGN.md's pipeline, each with whether this installation has it."""
    def has(module: str) -> bool:
        return importlib.util.find_spec(module) is not None

    from engine.concrete import ConcreteFunction
    return [("eager ops on numpy kernels", True), ("GradientTape", True),
            ("engine.function tracing to typed SSA IR", hasattr(tf, "function")),
            ("AutoGraph", has("engine.autograph")), ("autodiff on the IR", has("autodiff.reverse")),
            ("LLVM codegen", hasattr(ConcreteFunction, "llvm_ir")), ("Keras", has("engine.keras.models")),
            ("tf.data", has("engine.data"))]


def keras_tour() -> None:
    tf.keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2048, 16)).astype(np.float32)
    y = (x[:, :4].sum(axis=1) > 0).astype(np.int64) + (x[:, 4] > 1).astype(np.int64)
    model = tf.keras.Sequential([tf.keras.layers.Dense(32, activation="relu", input_shape=(16,)),
                                 tf.keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.summary()
    model.fit(x, y, batch_size=64, epochs=3, validation_split=0.25)
    loss, accuracy = model.evaluate(x, y, verbose=0)
    print(f"evaluate: loss {loss:.4f}, accuracy {accuracy:.4f}")


def main() -> None:
    print(f"Kiln {tf.__version__}: a tensor engine with TensorFlow 2's API (`import engine as tf`)")

    section("a tensor prints as in TensorFlow")
    x = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    print(x)

    section("int32 matmul")
    print(tf.matmul(tf.constant([[1, 2], [3, 4]]), tf.constant([[5, 6], [7, 8]])).numpy())

    section("dtype rules")
    print("Python float ->", tf.constant(1.5).dtype.name, "| Python int ->", tf.constant(7).dtype.name)
    print("a Python scalar adopts the tensor's dtype: (x * 2).dtype =", (x * 2).dtype.name)
    try:
        tf.constant(1.0) + tf.constant(1.0, dtype=tf.float64)
    except TypeError as e:
        print("float32 + float64 -> TypeError:", e)

    section("GradientTape: d/dx of x**3 + 2x at x = 2 is 3*4 + 2 = 14")
    v = tf.Variable(2.0)
    with tf.GradientTape() as tape:
        y = v ** 3 + 2.0 * v
    print("dy/dx =", float(tape.gradient(y, v)))

    section("SGD on a tiny linear regression: y = 2x + 1")
    xs = tf.constant(np.linspace(-1.0, 1.0, 8, dtype=np.float32))
    ys = 2.0 * xs + 1.0
    w, b0 = tf.Variable(0.0, name="w"), tf.Variable(0.0, name="b")
    opt = tf.optimizers.SGD(learning_rate=0.2)
    for step in range(1, 61):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(w * xs + b0 - ys))
        grads = tape.gradient(loss, [w, b0])
        opt.apply_gradients(zip(grads, [w, b0]))
        if step in (1, 5, 20, 60):
            print(f"step {step:2d}: loss {float(loss):.6f}  w {float(w):.4f}  b {float(b0):.4f}")

    section("engine.function: traced to typed SSA IR, compiled with LLVM (AutoGraph writes `cond` from an `if`)")
    @tf.function
    def f(x):  # type: ignore[no-untyped-def]
        return tf.cond(tf.reduce_sum(x) > 0, lambda: tf.sin(x), lambda: -x)

    t = tf.constant([1.0, 2.0, 3.0])
    print(f(t))
    concrete = f.get_concrete_function(t)
    print(str(concrete.ir).rstrip())
    print(f"compiled for this CPU: {len(concrete.llvm_ir.splitlines())} lines of LLVM IR (.llvm_ir), "
          f"{len(concrete.asm.splitlines())} of assembly (.asm)")

    section("Keras: a small classifier fitted on synthetic data, one compiled train step per batch")
    keras_tour()

    section("stages")
    have = stages()
    for name, present in have:
        print(f"  [{'x' if present else ' '}] {name}")
    missing = [name for name, present in have if not present]
    print("All stages are available." if not missing else f"Not yet available: {', '.join(missing)}.")


if __name__ == "__main__":
    main()
