"""sitegate's engine: load policies, evaluate facts, build the report."""
from importlib.metadata import PackageNotFoundError, version as _dist_version

try:
    __version__ = _dist_version("sitegate")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"
