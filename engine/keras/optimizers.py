"""`engine.keras.optimizers`: Keras's optimizer namespace; the optimizers themselves live in `engine.optimizers`."""
from engine.keras import schedules
from engine.optimizers import SGD, Adadelta, Adagrad, Adam, Adamax, AdamW, Ftrl, Nadam, Optimizer, RMSprop, get

__all__ = ["Optimizer", "SGD", "Adam", "RMSprop", "Adagrad", "AdamW", "Adamax", "Nadam", "Adadelta", "Ftrl",
           "schedules", "get"]
