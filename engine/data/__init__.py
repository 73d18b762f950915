"""`engine.data` (`tf.data`): input pipelines as Python iterators over numpy batches (DESIGN §11)."""
from engine.data.dataset import AUTOTUNE, INFINITE_CARDINALITY, UNKNOWN_CARDINALITY, Dataset
from engine.data import experimental

__all__ = ["Dataset", "AUTOTUNE", "INFINITE_CARDINALITY", "UNKNOWN_CARDINALITY", "experimental"]
