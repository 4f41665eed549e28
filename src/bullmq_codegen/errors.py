"""Errors that name what is wrong and where.

Every check in bullmq-codegen reports :class:`Problem` values and raises them
together, so a user fixes all of them in one pass instead of one per run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

__all__ = [
    "BullMQCodegenError",
    "ConfigurationError",
    "DefinitionError",
    "OutputFolderError",
    "Problem",
]


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a definitions module.

    ``queue`` and ``worker`` name the definition it concerns (when it concerns
    one), ``key`` the option path inside it (``options.limiter.max``), and
    ``file``/``line`` where it is written, when the loader could find it.
    """

    message: str
    queue: str | None = None
    worker: str | None = None
    key: str | None = None
    file: str | None = None
    line: int | None = None

    def where(self) -> str:
        """The location part of the message: ``file:line: queue 'q', worker 'w', options.x``."""
        parts: list[str] = []
        if self.queue is not None:
            parts.append(f"queue {self.queue!r}")
        if self.worker is not None:
            parts.append(f"worker {self.worker!r}")
        if self.key:
            parts.append(self.key)
        place = ", ".join(parts)
        if self.file is not None:
            origin = self.file if self.line is None else f"{self.file}:{self.line}"
            return f"{origin}: {place}" if place else origin
        return place

    def __str__(self) -> str:
        where = self.where()
        return f"{where}: {self.message}" if where else self.message


class BullMQCodegenError(Exception):
    """Base class of every error bullmq-codegen raises on purpose."""


class DefinitionError(BullMQCodegenError):
    """The definitions (or the files around them) are not usable; ``problems`` says why.

    :attr:`about` says what the problems concern; subclasses name problems that
    are not in the definitions themselves.
    """

    about: ClassVar[str] = "in the queue definitions"

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        lines = "\n".join(f"  - {problem}" for problem in self.problems)
        super().__init__(f"{self.heading}:\n{lines}")

    @property
    def heading(self) -> str:
        """``1 problem in the queue definitions``, ``2 problems in the output folder``..."""
        count = len(self.problems)
        return f"{count} problem{'' if count == 1 else 's'} {self.about}"


class ConfigurationError(DefinitionError):
    """The definitions cannot be found: a ``--config`` path or module that does not lead to
    them, or a ``[tool.bullmq-codegen]`` table that does not say where they are."""

    about = "finding the definitions"


class OutputFolderError(DefinitionError):
    """The output folder cannot take the generated files (a file of yours at a generated
    name, a folder that cannot be created or written)."""

    about = "in the output folder"
