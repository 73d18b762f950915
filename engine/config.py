"""`engine.config`: run-time switches (TensorFlow's tf.config where it applies)."""
from engine.function import functions_run_eagerly, run_functions_eagerly

__all__ = ["run_functions_eagerly", "functions_run_eagerly"]
