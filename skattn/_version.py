"""The version of skattn: read by the package, its model files and ``pyproject.toml``."""

__version__ = "0.1.0.dev0"
