"""Jobs the dashboard did not add and cannot trust: ids with URL characters, ids that name a
queue's other keys, payloads of other shapes, user text in progress and results, hashes other
writers left half-formed. Every page stays readable and names what is odd."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from types import ModuleType

import httpx
import pytest
from bullmq import Queue
from redis.asyncio import Redis

from bullmq_codegen.testing import RedisSource

ODD_IDS = ["a/b?c#d e%2F<x>", "../../../etc/passwd", "ünï/cødé+&=;"]


@pytest.fixture
async def redis_client(redis_env: RedisSource) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_env.url, decode_responses=True)
    yield client
    await client.aclose()


async def test_odd_job_ids_link_and_redirect_to_their_own_page(
    dash: httpx.AsyncClient, raw_mail: Queue
) -> None:
    for job_id in ODD_IDS:
        await raw_mail.add("sendMail", {"to": "a@example.com", "subject": "x"}, {"jobId": job_id})
    page = await dash.get("/queues/mail")
    links = dict(re.findall(r'<tr data-job="([^"]+)">\s*<td><a href="([^"]+)">', page.text, re.S))
    assert sorted(html.unescape(job_id) for job_id in links) == sorted(ODD_IDS)
    for shown, href in links.items():
        job = await dash.get(html.unescape(href))  # resolved as a browser does ('..' and all)
        assert job.status_code == 200, (shown, href)
        assert f"<h1>Job {shown} " in job.text
    for shown in links:
        found = await dash.get("/queues/mail", params={"id": html.unescape(shown)})
        assert found.status_code == 303
        location = found.headers["location"]
        assert location.startswith("/queues/mail/jobs/")  # a path: no http:// behind a proxy
        assert f"<h1>Job {shown} " in (await dash.get(location)).text


async def test_ids_that_name_a_queues_other_keys_are_no_jobs(
    dash: httpx.AsyncClient, case: ModuleType, redis_client: Redis, prefix: str
) -> None:
    job = await case.enqueue_send_mail({"to": "a@example.com", "subject": "x"})
    await redis_client.rpush(f"{prefix}:mail:{job.id}:logs", "a line")
    await case.mail_queue.pause()  # and its meta hash holds 'paused'
    assert await redis_client.hexists(f"{prefix}:mail:meta", "paused")
    for key in ("events", "id", "wait", "meta", f"{job.id}:logs"):
        page = await dash.get(f"/queues/mail/jobs/{key}")
        assert page.status_code == 404, (key, page.text)
        assert f"Queue mail has no job {key}" in page.text
        searched = await dash.get("/queues/mail", params={"id": key})
        assert searched.status_code == 200, (key, searched.text)
        assert f"No job {key} in queue mail" in searched.text


async def test_a_payload_that_is_not_an_object_is_shown_as_stored(
    dash: httpx.AsyncClient, raw_mail: Queue
) -> None:
    text = await raw_mail.add("sendMail", "just a string", {"delay": 600_000})
    listed = await raw_mail.add("sendMail", [1, "two"], {"delay": 600_000})
    page = await dash.get(f"/queues/mail/jobs/{text.id}")
    assert "data-stale" in page.text
    assert "<pre>&#34;just a string&#34;</pre>" in page.text
    page = await dash.get(f"/queues/mail/jobs/{listed.id}")
    assert "data-stale" in page.text
    assert re.search(r"<pre>\[\s*1,\s*&#34;two&#34;\s*\]</pre>", page.text), page.text


async def test_progress_options_and_untyped_results_read_as_written(
    dash: httpx.AsyncClient, raw_mail: Queue, redis_client: Redis, prefix: str
) -> None:
    job = await raw_mail.add("someoneElses", {"to": "x"}, {"delay": 600_000, "jobId": "ü-1"})
    key = f"{prefix}:mail:{job.id}"
    await redis_client.hset(
        key,
        mapping={
            "progress": '{"étape": "<b>deux</b>"}',
            "returnvalue": '{"reçu": "日本 & <i>"}',
        },
    )
    page = await dash.get("/queues/mail/jobs/ü-1")
    assert page.status_code == 200
    assert "&#34;étape&#34;: &#34;&lt;b&gt;deux&lt;/b&gt;&#34;" in page.text
    assert "\\u" not in page.text  # no JSON escapes where the text is plain
    assert "&#34;reçu&#34;: &#34;日本 &amp; &lt;i&gt;&#34;" in page.text


async def test_a_job_hash_other_writers_left_half_formed_is_named_not_a_server_error(
    dash: httpx.AsyncClient, redis_client: Redis, prefix: str
) -> None:
    queue = f"{prefix}:mail"
    await redis_client.hset(f"{queue}:bad", mapping={"name": "sendMail", "opts": "garbage"})
    await redis_client.zadd(f"{queue}:delayed", {"bad": 9_999_999_999_999})
    page = await dash.get("/queues/mail/jobs/bad")
    assert page.status_code == 500
    assert "Job bad of queue mail is not stored as BullMQ stores jobs" in page.text
    assert "/queues/mail/confirm/remove?job=bad" in page.text  # it can still be removed
    listing = await dash.get("/queues/mail", params={"state": "delayed"})
    assert listing.status_code == 500
    assert "A delayed job of queue mail is not stored as BullMQ stores jobs" in listing.text


async def test_a_huge_payload_makes_a_page_of_kilobytes(
    dash: httpx.AsyncClient, raw_mail: Queue
) -> None:
    big = "x" * 2_000_000
    job = await raw_mail.add(
        "sendMail", {"to": "a@example.com", "subject": big}, {"delay": 9_000_000}
    )
    page = await dash.get(f"/queues/mail/jobs/{job.id}")
    assert page.status_code == 200
    assert len(page.text) < 100_000
    assert re.search(r"\(1,980,00\d more characters not shown\)", page.text)  # the JSON
    listing = await dash.get("/queues/mail", params={"state": "delayed"})
    assert len(listing.text) < 20_000
    assert "subject=&#34;xxx" in listing.text


async def test_a_page_past_the_end_is_empty(dash: httpx.AsyncClient, case: ModuleType) -> None:
    await case.enqueue_send_mail({"to": "a@example.com", "subject": "x"})
    for start in ("1", "99999999999999999999999", "9223372036854775806"):
        page = await dash.get("/queues/mail", params={"state": "waiting", "start": start})
        assert page.status_code == 200, (start, page.text)
        assert "No waiting jobs." in page.text
        assert "newer</a>" in page.text  # the way back


async def test_redis_refusing_a_command_is_not_called_unreachable(
    dash: httpx.AsyncClient, redis_client: Redis, prefix: str
) -> None:
    await redis_client.set(f"{prefix}:mail:wait", "not a list")  # another writer's mistake
    page = await dash.get("/queues/mail")
    assert page.status_code == 500
    assert "Redis refused a command of this page (ResponseError)" in page.text
    assert "unreachable" not in page.text
    data = await dash.get("/api/overview")
    assert (data.status_code, data.json()) == (
        500,
        {"error": "Redis error", "kind": "ResponseError"},
    )
