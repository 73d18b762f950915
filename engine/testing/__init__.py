"""`engine.testing`: check your own gradients, as JAX's `check_grads` does, and property-test them with hypothesis
(`engine.testing.strategies`).

>>> import engine as tf
>>> from engine.testing import check_grads
>>> check_grads(lambda x: tf.sin(x) * x, (tf.constant([0.5, 1.5], tf.float64),), order=2)
"""
from engine.testing.gradients import check_grads, check_jvp, check_vjp, numerical_jvp

__all__ = ["check_grads", "check_jvp", "check_vjp", "numerical_jvp", "strategies"]


def __getattr__(name: str):  # type: ignore[no-untyped-def]
    if name == "strategies":  # hypothesis is a test dependency, imported only when asked for
        # import_module, not `from engine.testing import strategies`: that form asks this module for the attribute
        # first, i.e. calls this function again, forever.
        import importlib
        return importlib.import_module("engine.testing.strategies")
    raise AttributeError(name)
