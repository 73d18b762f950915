"""`engine.keras`: the Keras API TensorFlow 2 programs reach through `tf.keras` (layers, models, losses, metrics,
optimizers, callbacks, datasets, initializers, activations, utils, saving)."""
from engine.keras import (activations, callbacks, constraints, datasets, initializers, layers, losses, metrics,
                          mixed_precision, models, optimizers, regularizers, saving, utils)
from engine.keras.layers import Input, Layer
from engine.keras.models import Model, Sequential

__all__ = ["activations", "callbacks", "datasets", "initializers", "layers", "losses", "metrics", "mixed_precision",
           "models", "optimizers", "utils", "saving", "regularizers", "constraints", "Input", "Layer", "Model", "Sequential"]
