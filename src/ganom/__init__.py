"""ganom: statistical fits for sterile-neutrino and gallium-anomaly tests with radioactive
neutrino sources."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("ganom")
except PackageNotFoundError:  # pragma: no cover - running from an uninstalled tree
    __version__ = "0+unknown"
