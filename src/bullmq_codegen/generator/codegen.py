"""``BullMQCodeGen``: load → validate → render → format → write or check.

The CLI's ``generate`` is a thin shell around this class, so the programmatic
API and the command behave the same.
"""

from __future__ import annotations

import logging
from pathlib import Path
from types import ModuleType

from ..loader.build import load_definitions
from ..loader.importer import parse_target
from ..loader.model import DefinitionsModel
from .formatter import format_python
from .output import CheckResult, WriteResult, check_files, write_files
from .render import render_files
from .settings import GenerateSettings, resolve_settings

__all__ = ["BullMQCodeGen"]

_log = logging.getLogger("bullmq_codegen")


class BullMQCodeGen:
    """Generate typed queues, producers and workers from one definitions module.

    ``config`` is a file path (``app/queues/queue_definitions.py``), a dotted
    module (``app.queues.queue_definitions``), either followed by
    ``:attribute`` when the module holds several configs, or an imported
    module. ``out_dir`` defaults to a ``generated/`` package beside the
    definitions; ``templates_dir`` holds templates that override built-in ones.
    Every method raises :class:`~bullmq_codegen.errors.DefinitionError` listing
    every problem, and writes nothing then.
    """

    def __init__(
        self,
        *,
        config: str | Path | ModuleType,
        out_dir: str | Path | None = None,
        templates_dir: str | Path | None = None,
        logger: logging.Logger | None = None,
        cwd: Path | None = None,
    ) -> None:
        self._cwd = (cwd or Path.cwd()).resolve()
        if isinstance(config, ModuleType):
            if config.__file__ is None:
                raise ValueError(f"module {config.__name__} has no file to generate from")
            spec = config.__file__
        else:
            spec = str(config)
        self.settings = GenerateSettings(
            config=spec,
            base_dir=self._cwd,
            out_dir=self._cwd / out_dir if out_dir is not None else None,
            templates_dir=self._cwd / templates_dir if templates_dir is not None else None,
        )
        self.logger = logger or _log

    @classmethod
    def from_project(
        cls,
        *,
        config: str | None = None,
        out_dir: Path | None = None,
        templates_dir: Path | None = None,
        logger: logging.Logger | None = None,
        cwd: Path | None = None,
    ) -> BullMQCodeGen:
        """A generator whose unset arguments come from ``[tool.bullmq-codegen]`` in pyproject.toml."""
        directory = (cwd or Path.cwd()).resolve()
        settings = resolve_settings(
            config=config, out_dir=out_dir, templates_dir=templates_dir, cwd=directory
        )
        generator = cls(config=settings.config, logger=logger, cwd=settings.base_dir)
        generator.settings = settings
        return generator

    @property
    def out_dir(self) -> Path:
        """Where the generated files go."""
        if self.settings.out_dir is not None:
            return self.settings.out_dir
        return parse_target(self.settings.config, self.settings.base_dir).path.parent / "generated"

    def load(self) -> DefinitionsModel:
        """Import and validate the definitions."""
        return load_definitions(self.settings.config, self.settings.base_dir)

    def render(self) -> dict[str, str]:
        """File name → the exact bytes (as text) generation would write; nothing is written."""
        model = self.load()
        rendered = render_files(model, self.settings.templates_dir)
        return {name: format_python(source, name) for name, source in rendered.items()}

    def generate(self) -> WriteResult:
        """Write the generated files (only those that changed), all or none."""
        files = self.render()
        result = write_files(self.out_dir, files)
        for name in result.written:
            self.logger.info("wrote %s", result.out_dir / name)
        for name in result.removed:
            self.logger.info("removed %s (no longer generated)", result.out_dir / name)
        if not result.written and not result.removed:
            self.logger.info("%s is up to date", result.out_dir)
        return result

    def check(self) -> CheckResult:
        """Compare the files on disk with what generation would write."""
        return check_files(self.out_dir, self.render())
