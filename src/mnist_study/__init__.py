"""The MNIST study: data, model specs, training, evaluation, inspection and the report."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("mnist-study")
except PackageNotFoundError:
    # The workflow's jobs import the package from src/ (PYTHONPATH), which is all that
    # `--sdm conda` environments have: no installed distribution to read a version from.
    __version__ = "unknown (run from src/, not installed)"
