"""The error types of skeletal.

Every error a user can cause (a missing or corrupt file, a wrong joint count, NaN in the input) is a
:class:`SkeletalError`; the command line prints it as one line without a traceback. Anything else is a bug.
"""

from __future__ import annotations

from collections.abc import Iterable
from os import PathLike


class SkeletalError(Exception):
    """Base class of the errors caused by user input or configuration."""


class DataError(SkeletalError, ValueError):
    """A data file is missing, truncated, corrupt or of the wrong shape.

    Args:
        message: What was expected and what was found.
        path: The file in question.
        position: Where in the file (``"line 12"``, ``"frame 3, body 1"``, ``"key 'poses'"``).
    """

    def __init__(self, message: str, path: str | PathLike[str] | None = None, position: str | None = None):
        self.path = None if path is None else str(path)
        self.position = position
        where = ""
        if self.path is not None:
            where = f"{self.path}"
            if position:
                where += f", {position}"
            where += ": "
        elif position:
            where = f"{position}: "
        super().__init__(f"{where}{message}")


class LayoutError(SkeletalError, ValueError):
    """An input's joint count or layout does not match what a model, transform or metric expects."""


class ShapeError(SkeletalError, ValueError):
    """A tensor has the wrong number of dimensions, channels or dtype, or contains NaN/inf."""


class ConfigError(SkeletalError, ValueError):
    """A configuration, model name or command-line option is invalid."""


class UnsafeFileError(SkeletalError):
    """A model file would need unpickling (arbitrary code execution) and the user did not allow it."""


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """``"; did you mean 'max_epochs'?"`` for the closest of ``choices`` to a misspelt ``word``, else ``""``."""
    import difflib

    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""
