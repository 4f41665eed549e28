"""Adding jobs of one name: validate the payload and the options, then send JSON.

Validation happens before anything reaches Redis. The payload is checked in
the form it travels in: dumped to JSON and validated back, so what a worker
receives is exactly what its schema accepts (a model built with
``model_construct`` or mutated after construction is caught here, not there).
Options are merged in this order, each over the one before: the queue's
``defaultJobOptions``, the job name's ``defaultJobOptions``, the job id or
deduplication id the worker derives from the payload, the call's options.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, cast, overload

from pydantic import BaseModel, JsonValue, TypeAdapter
from typing_extensions import TypeVar

from ..definitions.options import JobOptions
from ..definitions.worker_checks import custom_backoff_problem
from ..payloads import wire_payload
from .adding import add_job, add_jobs
from .bulk_errors import BulkValidationError, check_all
from .control import ListableState
from .events import JobFailed, Subscription
from .flows import FlowNode
from .handles import EnqueuedJob, JobRef
from .job_options import InvalidJobOptionsError, check_job_options, derived_options, name_defaults
from .listening import Callback, JobNameListener, ProgressCallback, ResultCallback
from .queue import QueueHandle
from .results import ResultType
from .stored import JobPage, page_of_name, parse_with

if TYPE_CHECKING:
    from ..job import Job

__all__ = ["BulkValidationError", "InvalidJobOptionsError", "Producer"]

P = TypeVar("P")
R = TypeVar("R", default=JsonValue)
G = TypeVar("G", default=float)
M = TypeVar("M", bound=BaseModel)
RT = TypeVar("RT")
GM = TypeVar("GM", bound=BaseModel)


class Producer(Generic[P, R, G]):
    """Adds jobs named ``name`` to ``queue``, their payload validated by ``schema``.

    ``processor`` (the job name's processor) gives the result type ``R``; a
    producer made without it reads results as plain JSON.
    """

    __slots__ = (
        "_defaults",
        "_derive",
        "_where",
        "name",
        "progress",
        "progress_adapter",
        "queue",
        "result",
        "schema",
    )

    @overload
    def __init__(
        self: Producer[M, RT, GM],
        queue: QueueHandle,
        name: str,
        schema: type[M],
        processor: Callable[[Job[M, GM]], Awaitable[RT]],
        *,
        progress: type[GM],
    ) -> None: ...

    @overload
    def __init__(
        self: Producer[M, RT, float],
        queue: QueueHandle,
        name: str,
        schema: type[M],
        processor: Callable[[Job[M]], Awaitable[RT]],
        *,
        progress: None = None,
    ) -> None: ...

    @overload
    def __init__(
        self: Producer[M, JsonValue, float], queue: QueueHandle, name: str, schema: type[M]
    ) -> None: ...

    @overload
    def __init__(
        self: Producer[None, RT, GM],
        queue: QueueHandle,
        name: str,
        schema: None,
        processor: Callable[[Job[None, GM]], Awaitable[RT]],
        *,
        progress: type[GM],
    ) -> None: ...

    @overload
    def __init__(
        self: Producer[None, RT, float],
        queue: QueueHandle,
        name: str,
        schema: None,
        processor: Callable[[Job[None]], Awaitable[RT]],
        *,
        progress: None = None,
    ) -> None: ...

    @overload
    def __init__(
        self: Producer[None, JsonValue, float], queue: QueueHandle, name: str, schema: None
    ) -> None: ...

    def __init__(
        self,
        queue: QueueHandle,
        name: str,
        schema: type[BaseModel] | None,
        processor: Callable[..., Awaitable[Any]] | None = None,
        *,
        progress: type[BaseModel] | None = None,
    ) -> None:
        self.queue = queue
        self.name = name
        self.schema = schema
        self.progress = progress
        self.result: ResultType[R] = (
            ResultType.of(processor) if processor is not None else ResultType(JsonValue)
        )
        self.progress_adapter: TypeAdapter[G] = cast(
            "TypeAdapter[G]", TypeAdapter(progress or float)
        )
        self._where = f"job {name!r} of queue {queue.name!r}"
        self._defaults: JobOptions | None = None
        self._derive: Callable[[BaseModel | None], JobOptions] | None = None

    def validated(self, payload: P) -> tuple[BaseModel | None, str]:
        """The payload as a model and the JSON data sent for it; raises ``ValidationError``."""
        return wire_payload(self.schema, payload, self._where)

    def job_options(
        self, options: Mapping[str, object], model: BaseModel | None = None
    ) -> JobOptions:
        """The options of a job of this name with payload ``model`` and the call's ``options``."""
        call = check_job_options(options, self._where) if options else None
        return self._merged(model, call)

    def _merged(self, model: BaseModel | None, call: JobOptions | None) -> JobOptions:
        if call and "backoff" in call:
            problem = custom_backoff_problem(
                call, self.queue.config.worker(self.queue.name, self.name)
            )
            if problem is not None:
                raise InvalidJobOptionsError(f"invalid job options for {self._where}: {problem}")
        if self._defaults is None:
            config = self.queue.config
            self._defaults = name_defaults(config, self.queue.name, self.name)
            self._derive = derived_options(config.worker(self.queue.name, self.name))
        derived: JobOptions = {}
        if self._derive is not None and not (call and ("jobId" in call or "deduplication" in call)):
            derived = self._derive(model)  # a call's jobId or deduplication replaces them
        return cast("JobOptions", {**self._defaults, **derived, **(call or {})})

    async def enqueue(self, payload: P, options: Mapping[str, object]) -> EnqueuedJob[P, R, G]:
        """Validate ``payload`` and ``options``, then add one job."""
        model, data = self.validated(payload)
        merged = self.job_options(options, model)
        context = self.queue.context()
        duplicate = False
        if merged.get("jobId") or merged.get("deduplication"):
            # imported here: it imports redis-py, which loads with the first connection
            from .idempotent import add_job_reporting_duplicate

            job_id, duplicate = await add_job_reporting_duplicate(context, self.name, data, merged)
        else:
            job_id = await add_job(context, self.name, data, merged)
        return EnqueuedJob(
            queue=self.queue,
            id=job_id,
            name=self.name,
            payload=payload,
            options=merged,
            result=self.result,
            progress=self.progress_adapter,
            duplicate=duplicate,
        )

    async def enqueue_and_wait(
        self, payload: P, options: Mapping[str, object], *, timeout: float = 30.0
    ) -> R:
        """Add one job and return its typed result once it completes (see ``JobRef.result``)."""
        job = await self.enqueue(payload, options)
        return await job.result(timeout=timeout)

    async def enqueue_bulk(
        self, payloads: Iterable[P], options: Mapping[str, object]
    ) -> list[EnqueuedJob[P, R, G]]:
        """Validate every payload, then add all the jobs (nothing when any payload is invalid).

        :class:`BulkValidationError` names the index of every invalid payload (and of
        every payload whose derived ``jobId``/deduplication id cannot be made). A job
        whose id already existed comes back with that id; bulk handles do not tell
        (``duplicate`` is ``False``): add one by one when you need to know.
        """
        items = list(payloads)
        call = check_job_options(options, self._where) if options else None  # once for all

        def prepare(payload: P) -> tuple[str, JobOptions]:
            model, data = self.validated(payload)
            return data, self._merged(model, call)

        checked = check_all(items, prepare, self._where)
        if not items:
            return []
        per_job = [job_options for _, job_options in checked]
        job_ids = await add_jobs(
            self.queue.context(), self.name, [data for data, _ in checked], per_job
        )
        return [
            EnqueuedJob(
                queue=self.queue,
                id=job_id,
                name=self.name,
                payload=payload,
                options=job_options,
                result=self.result,
                progress=self.progress_adapter,
            )
            for job_id, payload, job_options in zip(job_ids, items, per_job, strict=True)
        ]

    async def enqueue_count(
        self, count: int, options: Mapping[str, object]
    ) -> list[EnqueuedJob[P, R, G]]:
        """Add ``count`` jobs without payload (a worker without schema) at once."""
        if count < 0:
            raise ValueError(f"cannot add {count} {self.name!r} jobs: the count must be 0 or more")
        return await self.enqueue_bulk([cast("P", None)] * count, options)

    def node(
        self,
        payload: P,
        options: Mapping[str, object],
        *,
        children: Sequence[FlowNode[Any, Any, Any]] = (),
    ) -> FlowNode[P, R, G]:
        """A job of a flow (validated and merged as :meth:`enqueue` does); it waits for
        ``children`` when there are any. ``add_flow(root)`` adds the whole tree."""
        model, data = self.validated(payload)
        return FlowNode(
            queue=self.queue,
            name=self.name,
            payload=payload,
            data=data,
            options=self.job_options(options, model),
            result=self.result,
            progress=self.progress_adapter,
            children=children,
        )

    async def jobs(
        self, state: ListableState, *, start: int = 0, count: int = 50, asc: bool = False
    ) -> JobPage[P, R]:
        """Up to ``count`` jobs of this name in ``state``, newest first unless ``asc``, their
        payloads and results typed (see :mod:`.stored`); ``next_start`` pages on."""
        return await page_of_name(
            self.queue,
            self.name,
            state,
            start=start,
            count=count,
            asc=asc,
            parse=parse_with(self.schema),
            result=self.result,
        )

    def job(self, job_id: str) -> JobRef[R, G]:
        """A handle on job ``job_id`` of this name, to read its state and typed result."""
        return JobRef(
            queue=self.queue,
            id=job_id,
            name=self.name,
            result=self.result,
            progress=self.progress_adapter,
        )

    def listen(
        self,
        *,
        on_completed: ResultCallback[R] | None = None,
        on_failed: Callback[JobFailed] | None = None,
        on_progress: ProgressCallback[G] | None = None,
        on_stalled: Callback[str] | None = None,
    ) -> Subscription:
        """Hear the jobs of this name finish, fail for good, report progress and stall, typed.

        ``async with producer.listen(on_completed=...):`` follows the queue's
        events while the block runs; see :class:`~.listening.JobNameListener`.
        """
        sole = len(self.queue.config.queue(self.queue.name)["workers"]) == 1
        listener = JobNameListener(
            name=self.name,
            sole_name=sole,
            result=self.result,
            progress=self.progress_adapter,
            on_completed=on_completed,
            on_failed=on_failed,
            on_progress=on_progress,
            on_stalled=on_stalled,
        )
        return self.queue.subscribe(listener)
