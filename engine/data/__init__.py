"""`engine.data` (`tf.data`): input pipelines as Python iterators over numpy batches (DESIGN §11)."""
from engine.data import experimental, methods  # noqa: F401  (methods installs Dataset's public methods)
from engine.data.dataset import AUTOTUNE, INFINITE_CARDINALITY, UNKNOWN_CARDINALITY, Dataset

__all__ = ["Dataset", "AUTOTUNE", "INFINITE_CARDINALITY", "UNKNOWN_CARDINALITY", "experimental"]
