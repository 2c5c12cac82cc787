"""Exception hierarchy of fusioncheck.

Every error raised on bad input names *where* the problem is (file, table, record) and *what* is wrong,
so that a user can fix the data without reading a traceback. The command line turns these into one-line
messages and the exit codes of the CLI contract (2 usage/policy, 3 unreadable input).
"""

from __future__ import annotations

from pathlib import Path


class FusioncheckError(Exception):
    """Base class of all errors fusioncheck raises on purpose."""


class InputError(FusioncheckError):
    """Input data is unreadable, inconsistent or violates its format.

    Attributes:
        message: what is wrong.
        path: the file concerned, if any.
        table: the table (e.g. ``sample_data``) concerned, if any.
        record: the record (token, line, index) concerned, if any.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        table: str | None = None,
        record: str | None = None,
    ) -> None:
        self.message = message
        self.path = None if path is None else str(path)
        self.table = table
        self.record = record
        super().__init__(self.describe())

    def describe(self) -> str:
        """One line: where, then what."""
        where = []
        if self.path is not None:
            where.append(self.path)
        if self.table is not None:
            where.append(f"table {self.table}")
        if self.record is not None:
            where.append(f"record {self.record}")
        return f"{': '.join(where)}: {self.message}" if where else self.message


class PolicyError(FusioncheckError):
    """A policy file or command-line option is invalid."""


class TimeRangeError(FusioncheckError, ValueError):
    """A timestamp lies outside the time range that a pose track or box track covers."""


class ShapeError(FusioncheckError, ValueError):
    """An array has the wrong shape or dtype.

    Attributes:
        name: the argument's name.
        expected: the expected shape, with ``-1`` for any length.
        actual: the shape received.
    """

    def __init__(self, name: str, expected: tuple[int, ...], actual: tuple[int, ...]) -> None:
        self.name = name
        self.expected = expected
        self.actual = actual
        shown = tuple("N" if d == -1 else d for d in expected)
        super().__init__(f"{name}: expected shape {shown}, got {actual}")


def check_shape(name: str, array: object, expected: tuple[int, ...]) -> None:
    """Raise :class:`ShapeError` unless ``array`` has shape ``expected`` (``-1`` = any length)."""
    shape = getattr(array, "shape", None)
    if (
        shape is None
        or len(shape) != len(expected)
        or any(e != -1 and e != a for e, a in zip(expected, shape, strict=True))
    ):
        raise ShapeError(name, expected, tuple(shape) if shape is not None else ())
