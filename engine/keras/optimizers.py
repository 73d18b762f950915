"""`engine.keras.optimizers`: Keras's optimizer namespace; the optimizers themselves live in `engine.optimizers`."""
from engine.keras import schedules
from engine.optimizers import SGD, Adam, Optimizer, get

__all__ = ["Optimizer", "SGD", "Adam", "schedules", "get"]
