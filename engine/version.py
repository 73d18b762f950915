"""The version of Kiln (one place: the package, saved files and the disk cache read it)."""
__version__ = "0.1.0"
