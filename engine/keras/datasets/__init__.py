"""`keras.datasets`: mnist, fashion_mnist and cifar10, read from the same cache files Keras uses."""
from engine.keras.datasets import cifar10, fashion_mnist, mnist

__all__ = ["mnist", "fashion_mnist", "cifar10"]
