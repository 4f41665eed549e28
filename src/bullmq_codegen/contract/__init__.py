"""The contract of the queues with other languages: what each job takes and gives back.

Built from the same definitions module as the generated code, as JSON Schema
(Pydantic's, in serialization mode: the form jobs travel in), for TypeScript
producers, a catalog, and a check that a change does not break waiting jobs.
"""

from .loading import load_contract
from .model import Contract, JobContract, ScheduleContract

__all__ = ["Contract", "JobContract", "ScheduleContract", "load_contract"]
