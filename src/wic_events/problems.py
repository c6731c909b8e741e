"""What went wrong, and where: the one error type every stage reports."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple


class Location(NamedTuple):
    """Where a record was read: a file under data/, and a line (CSV, JSONL) or key path (JSON).

    A tuple, not a dataclass: one is made for every record read, and a tuple is made fastest.
    """

    file: str
    line: int | None = None
    path: str | None = None

    def __str__(self) -> str:
        text = self.file
        if self.line is not None:
            text += f":{self.line}"
        if self.path:
            text += f" at {self.path}"
        return text


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, said so that a contributor knows what to fix."""

    location: Location
    message: str
    field: str | None = None

    def __str__(self) -> str:
        where = str(self.location)
        if self.field:
            where += f", field '{self.field}'"
        return f"{where}: {self.message}"

    def as_dict(self) -> dict:
        return {**self.location._asdict(), "field": self.field, "message": self.message}


class InvalidData(Exception):
    """Raised when the input has problems; carries all of them."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__(f"{len(problems)} problem(s) in the data")


class CannotWrite(Exception):
    """Raised when an output (the database, an export) cannot be written where it was asked for.

    The message names the path and the reason; whatever was there before is left as it was.
    """

    @classmethod
    def because(cls, path: Path, error: OSError) -> CannotWrite:
        """The error for ``path``, naming the file that stands where a folder should be, if one does."""
        if isinstance(error, (FileExistsError, NotADirectoryError)):
            failed = Path(error.filename) if error.filename else path.parent  # the folder that could not be made or entered
            blocking = next((folder for folder in (failed, *failed.parents) if folder.exists() and not folder.is_dir()), None)
            if blocking is not None:
                return cls(f"cannot write {path}: {blocking} is a file, not a folder")
        return cls(f"cannot write {path}: {error.strerror or error}")


class CannotBuild(Exception):
    """Raised when the build cannot run or finish for a reason outside the data: a setting it
    cannot read, or a validating process that was killed (as an out-of-memory kill does).

    The message says what and what to do; the output is left as it was.
    """
