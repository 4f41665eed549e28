"""Code generation: render the templates for a definitions module, format, write or check."""

from .codegen import BullMQCodeGen
from .output import CheckResult, WriteResult
from .render import OUTPUT_FILES, template_context

__all__ = ["OUTPUT_FILES", "BullMQCodeGen", "CheckResult", "WriteResult", "template_context"]
