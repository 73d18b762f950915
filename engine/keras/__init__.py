"""`engine.keras`: the parts of Keras that TensorFlow programs reach through `tf.keras` (so far: optimizers)."""
from engine.keras import optimizers

__all__ = ["optimizers"]
