"""define_worker ties a worker's parts together: schedules, dedup and progress match the schema."""

from __future__ import annotations

from pydantic import BaseModel

from bullmq_codegen import Job, define_worker


class Report(BaseModel):
    account: str


class Invoice(BaseModel):
    number: str


class Percent(BaseModel):
    done: int


async def build_report(job: Job[Report]) -> str:
    await job.update_progress(50)
    await job.update_progress("half")  # expect-error: progress is a number
    return job.payload.account


async def build_with_progress(job: Job[Report, Percent]) -> None:
    await job.update_progress(Percent(done=10))
    await job.update_progress(10)  # expect-error: progress is a Percent


def account_of(report: Report) -> str:
    return report.account


def number_of(invoice: Invoice) -> str:
    return invoice.number


right = [
    define_worker(
        schema=Report,
        processor=build_report,
        schedules={
            "hourly": {"every": 3_600_000, "payload": Report(account="all")},
            "nightly": {"pattern": "0 3 * * *", "tz": "Europe/Berlin", "payload": Report(account="x")},
        },
        deduplication={"id": account_of, "ttl": 60_000},
        defaultJobOptions={"priority": 5, "lifo": True},
    ),
    define_worker(schema=Report, processor=build_with_progress, progress=Percent, jobId=account_of),
]

wrong = [
    define_worker(
        schema=Report,
        processor=build_report,
        schedules={"hourly": {"every": 3_600_000, "payload": Invoice(number="1")}},  # expect-error: schedule payload of another model
    ),
    define_worker(schema=Report, processor=build_report, deduplication={"id": number_of}),  # expect-error: dedup function of another payload type
    define_worker(schema=Report, processor=build_report, jobId=number_of),  # expect-error: job id function of another payload type
    define_worker(schema=Invoice, processor=build_report),  # expect-error: processor of another schema
    define_worker(schema=Report, processor=build_with_progress, progress=Report),  # expect-error: progress model differs from the processor's
    define_worker(schema=Report, processor=build_report, defaultJobOptions={"priorty": 1}),  # expect-error: misspelled default job option
]
