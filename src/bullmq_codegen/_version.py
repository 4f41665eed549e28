"""The version of bullmq-codegen: the installed distribution's, else this source tree's."""

from importlib.metadata import PackageNotFoundError, version

__all__ = ["SOURCE_VERSION", "__version__"]

#: The release this source tree is: pyproject.toml's ``[project] version`` (a test keeps
#: them equal). Used when the package runs from a source tree that is not installed.
SOURCE_VERSION = "0.1.0"

try:
    __version__ = version("bullmq-codegen")
except PackageNotFoundError:  # a source tree on sys.path, not installed
    __version__ = SOURCE_VERSION
