"""`engine.bitwise`: TensorFlow's tf.bitwise namespace (integer tensors only; no gradients)."""
from engine.ops.bitwise_ops import bitwise_and, bitwise_or, bitwise_xor, invert, left_shift, right_shift

__all__ = ["bitwise_and", "bitwise_or", "bitwise_xor", "invert", "left_shift", "right_shift"]
