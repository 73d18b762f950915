"""`tf.data.experimental`: the constants TF 2 programs still reach through it."""
from engine.data.dataset import AUTOTUNE, INFINITE_CARDINALITY, UNKNOWN_CARDINALITY

__all__ = ["AUTOTUNE", "INFINITE_CARDINALITY", "UNKNOWN_CARDINALITY", "cardinality"]


def cardinality(dataset: object) -> object:
    return dataset.cardinality()  # type: ignore[attr-defined]
