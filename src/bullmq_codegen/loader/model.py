"""The validated, frozen description of a definitions module that templates render.

Everything a template needs is computed here, in Python: names, import
statements, sort order. Templates only lay it out.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DefinitionsModel", "QueueModel", "SymbolRef", "TypeExpr", "WorkerModel"]


@dataclass(frozen=True, slots=True)
class SymbolRef:
    """A module-level object of the user's code, as generated code imports and names it."""

    module: str
    """Module it is imported from."""
    name: str
    """Top-level name imported from ``module``."""
    alias: str
    """Name it is bound to in generated code (``name`` unless that would clash)."""
    attribute_path: str = ""
    """``.Inner`` for a class nested in ``name``."""

    @property
    def expression(self) -> str:
        """How generated code refers to the object."""
        return self.alias + self.attribute_path

    @property
    def import_statement(self) -> str:
        """``from module import name`` (with ``as alias`` when renamed)."""
        renamed = f" as {self.alias}" if self.alias != self.name else ""
        return f"from {self.module} import {self.name}{renamed}"


@dataclass(frozen=True, slots=True)
class TypeExpr:
    """A type as generated code writes it (``EmailResult``, ``list[Row] | None``)."""

    expression: str
    """The type expression."""
    symbols: tuple[SymbolRef, ...] = ()
    """User classes it names, imported by generated code."""
    imports: tuple[str, ...] = ()
    """Other import statements it needs (``from pydantic import JsonValue``)."""

    @property
    def import_statements(self) -> tuple[str, ...]:
        """Every import statement the expression needs."""
        return (*(symbol.import_statement for symbol in self.symbols), *self.imports)


@dataclass(frozen=True, slots=True)
class WorkerModel:
    """A worker: one job name of one queue, its processor and optional schema."""

    name: str
    """BullMQ job name, exactly as defined (``afterSignUpEmail``)."""
    python_name: str
    """Snake-case name (``after_sign_up_email``)."""
    queue: str
    queue_python_name: str
    processor: SymbolRef
    schema: SymbolRef | None
    line: int | None
    result: TypeExpr = TypeExpr("None")
    """The job's result type: the processor's return annotation."""
    progress: SymbolRef | None = None
    """The progress model the worker declares; progress is a number without one."""

    @property
    def payload_type(self) -> str:
        """The payload type as generated code writes it (``None`` without schema)."""
        return self.schema.expression if self.schema is not None else "None"

    @property
    def progress_type(self) -> str:
        """The progress type as generated code writes it (``float`` without a model)."""
        return self.progress.expression if self.progress is not None else "float"

    @property
    def queue_handle(self) -> str:
        """Name of the generated handle of the worker's queue."""
        return f"{self.queue_python_name}_queue"

    @property
    def producer(self) -> str:
        """Name of the generated producer function."""
        return f"enqueue_{self.python_name}"

    @property
    def job_getter(self) -> str:
        """Name of the generated typed handle of a job by id (``get_after_sign_up_email_job``)."""
        return f"get_{self.python_name}_job"

    @property
    def lister(self) -> str:
        """Name of the generated typed job listing (``list_after_sign_up_email_jobs``)."""
        return f"list_{self.python_name}_jobs"

    @property
    def node(self) -> str:
        """Name of the generated flow node builder (``after_sign_up_email_node``)."""
        return f"{self.python_name}_node"

    @property
    def listener(self) -> str:
        """Name of the generated typed listener (``listen_after_sign_up_email``)."""
        return f"listen_{self.python_name}"

    @property
    def route(self) -> str:
        """Name of the generated route (``after_sign_up_email_worker``)."""
        return f"{self.python_name}_worker"


@dataclass(frozen=True, slots=True)
class QueueModel:
    """A queue and its workers, sorted by Python name."""

    name: str
    python_name: str
    workers: tuple[WorkerModel, ...]
    line: int | None

    @property
    def handle(self) -> str:
        """Name of the generated queue handle (``email_send_queue``)."""
        return f"{self.python_name}_queue"


@dataclass(frozen=True, slots=True)
class DefinitionsModel:
    """Everything generated code is made from."""

    module: str
    """Dotted name of the definitions module."""
    config: SymbolRef
    """The module-level ``QueueConfig``."""
    source: str
    """``module:attribute``, as the DO-NOT-EDIT header names it."""
    queues: tuple[QueueModel, ...]

    @property
    def workers(self) -> tuple[WorkerModel, ...]:
        """Every worker, sorted by Python name."""
        return tuple(
            sorted((w for q in self.queues for w in q.workers), key=lambda w: w.python_name)
        )
