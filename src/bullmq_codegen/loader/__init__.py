"""Loading a definitions module safely and describing it for code generation."""

from .build import load_definitions
from .importer import DefinitionsTarget, parse_target
from .model import DefinitionsModel, QueueModel, SymbolRef, WorkerModel

__all__ = [
    "DefinitionsModel",
    "DefinitionsTarget",
    "QueueModel",
    "SymbolRef",
    "WorkerModel",
    "load_definitions",
    "parse_target",
]
