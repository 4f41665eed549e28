"""The dashboard app over HTTP (in-process ASGI) against a real Redis: pages, typed job views,
actions behind confirmation and CSRF, the token, read-only mode, mounting, the command's refusals."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType

import httpx
import pytest
from bullmq import Queue
from starlette.applications import Starlette
from starlette.routing import Mount
from typer.testing import CliRunner

from bullmq_codegen.cli.app import app as cli
from bullmq_codegen.dashboard import create_app
from bullmq_codegen.dashboard.security import CSRF_COOKIE
from bullmq_codegen.testing import RedisSource

from ..helpers import eventually
from .conftest import client_of


async def failed_mail(case: ModuleType, fail_flag: Path) -> str:
    """A mail job that failed for good (its worker closed again)."""
    fail_flag.touch()
    job = await case.enqueue_send_mail({"to": "ops@example.com", "subject": "report"})
    async with case.create_workers(queues=["mail"]):

        async def failed() -> bool:
            return await case.mail_queue.get_job_state(job.id) == "failed"

        await eventually(failed, timeout=30)
    return str(job.id)


def csrf_of(page: httpx.Response) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


async def test_overview_lists_every_queue_with_counts(
    dash: httpx.AsyncClient, case: ModuleType
) -> None:
    await case.enqueue_send_mail({"to": "a@example.com", "subject": "x"})
    page = await dash.get("/")
    assert page.status_code == 200
    assert 'data-queue="mail"' in page.text
    assert 'data-queue="reports"' in page.text
    data = (await dash.get("/api/overview")).json()
    assert [q["name"] for q in data["queues"]] == ["mail", "reports"]
    assert data["queues"][0]["counts"]["waiting"] == 1
    assert page.headers["x-frame-options"] == "DENY"  # no confirm button under another site
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    live = await dash.get("/", headers={"X-Dashboard-Live": "1"})
    assert "<html" not in live.text
    assert 'data-queue="mail"' in live.text
    assert 'rel="icon" href="/static/favicon.svg"' in page.text  # no 404 on every page
    assert (await dash.get("/static/favicon.svg")).status_code == 200
    gone = await dash.get("/queues/mail/jobs/nope", headers={"X-Dashboard-Live": "1"})
    assert gone.status_code == 404  # the live updater stops; not a server error


async def test_queue_page_pages_newest_first_and_finds_by_id(
    dash: httpx.AsyncClient, case: ModuleType
) -> None:
    ids = [
        (await case.enqueue_send_mail({"to": f"u{i}@example.com", "subject": f"s{i}"})).id
        for i in range(30)
    ]
    first = await dash.get("/queues/mail")
    rows = re.findall(r'<tr data-job="([^"]+)">', first.text)
    assert rows == list(reversed(ids))[:25]
    assert "to=&#34;u29@example.com&#34;, subject=&#34;s29&#34;" in first.text  # one-line summary
    second = await dash.get("/queues/mail", params={"state": "waiting", "start": 25})
    assert re.findall(r'<tr data-job="([^"]+)">', second.text) == list(reversed(ids))[25:]
    found = await dash.get("/queues/mail", params={"id": ids[3]})
    assert found.status_code == 303
    assert found.headers["location"].endswith(f"/queues/mail/jobs/{ids[3]}")
    missing = await dash.get("/queues/mail", params={"id": "nope"})
    assert "No job nope in queue mail" in missing.text
    assert (await dash.get("/queues/nosuch")).status_code == 404
    assert (await dash.get("/queues/mail", params={"state": "gone"})).status_code == 400


async def test_job_page_shows_fields_with_schema_types_and_the_typed_result(
    dash: httpx.AsyncClient, case: ModuleType
) -> None:
    job = await case.enqueue_send_mail({"to": "t@example.com", "subject": "typed"})
    async with case.create_workers(queues=["mail"]):
        await case.mail_queue.wait_for_result(job.id, timeout=30)
    page = await dash.get(f"/queues/mail/jobs/{job.id}")
    text = page.text
    assert page.status_code == 200
    assert 'data-state="completed"' in text
    assert "<code>Mail</code>" in text
    assert "Recipient address" in text
    assert "Subject line" in text
    assert "<code>&#34;t@example.com&#34;</code>" in text
    assert "<code>MailSent</code>" in text
    assert f"&lt;{job.id}@test&gt;" in text
    assert "The SMTP server&#39;s id of the message" in text
    assert "sending to t@example.com" in text  # the job's log
    assert "<pre>50</pre>" in text  # progress
    assert "Stale schema" not in text


async def test_a_payload_that_no_longer_validates_is_flagged_with_pydantics_error(
    dash: httpx.AsyncClient, case: ModuleType, raw_mail: Queue
) -> None:
    old = await raw_mail.add("sendMail", {"to": 42, "title": "old field"}, {"delay": 3_600_000})
    page = await dash.get(f"/queues/mail/jobs/{old.id}")
    assert "data-stale" in page.text
    assert "Stale schema" in page.text
    assert "validation error" in page.text
    assert "subject" in page.text
    assert "not in the schema" in page.text  # the field it no longer has


async def test_retry_asks_first_and_needs_the_csrf_value(
    dash: httpx.AsyncClient, case: ModuleType, fail_flag: Path
) -> None:
    job_id = await failed_mail(case, fail_flag)
    page = await dash.get(f"/queues/mail/jobs/{job_id}")
    assert "smtp server down" in page.text
    assert "RuntimeError" in page.text
    confirm = await dash.get(f"/queues/mail/confirm/retry?job={job_id}")
    assert f"Move failed job {job_id} of queue mail back to waiting?" in confirm.text
    url = "/queues/mail/actions/retry"
    # no CSRF value, a wrong one, one not signed by this app: refused, nothing changed
    for form in ({"job": job_id}, {"job": job_id, "csrf": "x.y"}):
        refused = await dash.post(url, data=form)
        assert refused.status_code == 403
    forged = "abc.def"
    dash.cookies.set(CSRF_COOKIE, forged)
    refused = await dash.post(url, data={"job": job_id, "csrf": forged})
    assert refused.status_code == 403
    assert await case.mail_queue.get_job_state(job_id) == "failed"

    async def endless() -> AsyncIterator[bytes]:  # chunked: no length said
        for _ in range(1_000):
            yield b"x" * 1024

    huge = await dash.post(url, content=endless())  # read no further than 64 KiB
    assert huge.status_code == 413
    dash.cookies.clear()
    confirm = await dash.get(f"/queues/mail/confirm/retry?job={job_id}")
    done = await dash.post(url, data={"job": job_id, "csrf": csrf_of(confirm)})
    assert done.status_code == 200, done.text
    assert f"Job {job_id} moved from failed back to waiting" in done.text
    assert await case.mail_queue.get_job_state(job_id) == "waiting"
    again = await dash.post(url, data={"job": job_id, "csrf": csrf_of(confirm)})
    assert again.status_code == 409
    assert "it is waiting, not failed" in again.text


async def test_queue_actions_pause_clean_retry_all_promote_all_remove(
    dash: httpx.AsyncClient, case: ModuleType, fail_flag: Path
) -> None:
    failed = await failed_mail(case, fail_flag)
    csrf = csrf_of(await dash.get("/queues/mail/confirm/pause"))

    async def act(action: str, **form: str) -> httpx.Response:
        response = await dash.post(f"/queues/mail/actions/{action}", data={"csrf": csrf, **form})
        assert response.status_code == 200, response.text
        return response

    await act("pause")
    assert await case.mail_queue.is_paused()
    assert "paused" in (await dash.get("/queues/mail")).text
    live = await dash.get("/queues/mail", headers={"X-Dashboard-Live": "1"})
    assert "data-paused" in live.text  # a page open elsewhere sees it, and offers Resume
    assert "/queues/mail/confirm/resume" in live.text
    await act("resume")
    assert not await case.mail_queue.is_paused()
    assert "1 failed job(s) of queue mail moved back" in (await act("retry-all")).text
    assert await case.mail_queue.get_job_state(failed) == "waiting"
    later = [
        await case.enqueue_send_mail({"to": "d@x.io", "subject": "later"}, delay=600_000)
        for _ in range(3)
    ]
    delayed = later[0]
    await act("promote", job=str(delayed.id))
    assert await case.mail_queue.get_job_state(delayed.id) == "waiting"
    assert "2 delayed job(s) of queue mail moved to waiting" in (await act("promote-all")).text
    assert (await case.mail_queue.counts()).delayed == 0
    await act("remove", job=str(delayed.id))
    assert await case.mail_queue.get_job(delayed.id) is None
    assert "3 waiting job(s) of queue mail removed" in (await act("clean", state="waiting")).text
    assert (await case.mail_queue.counts()).waiting == 0
    bad = await dash.post("/queues/mail/actions/clean", data={"csrf": csrf, "state": "all"})
    assert bad.status_code == 400


async def test_read_only_shows_no_action_and_refuses_them(
    case: ModuleType, fail_flag: Path
) -> None:
    job_id = await failed_mail(case, fail_flag)
    async with client_of(create_app(case.queues.runtime, read_only=True)) as dash:
        page = await dash.get(f"/queues/mail/jobs/{job_id}")
        assert "read-only" in page.text
        assert "/confirm/retry" not in page.text
        assert (await dash.get(f"/queues/mail/confirm/retry?job={job_id}")).status_code == 403
        csrf = page.cookies.get(CSRF_COOKIE) or ""
        refused = await dash.post("/queues/mail/actions/retry", data={"job": job_id, "csrf": csrf})
        assert refused.status_code == 403
    assert await case.mail_queue.get_job_state(job_id) == "failed"


async def test_the_token_is_required_on_every_request(case: ModuleType) -> None:
    app = create_app(case.queues.runtime, token="s3cret-token")
    async with client_of(app) as dash:
        assert (await dash.get("/")).status_code == 403
        assert (await dash.get("/api/overview")).status_code == 403
        assert (await dash.get("/", headers={"Authorization": "Bearer wrong"})).status_code == 403
        assert (await dash.post("/queues/mail/actions/pause")).status_code == 403
        ok = await dash.get("/", headers={"Authorization": "Bearer s3cret-token"})
        assert ok.status_code == 200
        login = await dash.get("/queues/mail?state=failed&token=s3cret-token")
        assert login.status_code == 303
        assert login.headers["location"] == "/queues/mail?state=failed"  # a path: proxies
        dash.cookies.clear()
        odd = await dash.get("/queues/mail/jobs/a%2Fb%3F?token=s3cret-token")
        assert odd.headers["location"] == "/queues/mail/jobs/a%2Fb%3F"  # as it was asked
        dash.cookies.clear()
        away = await dash.get("http://dash//elsewhere.example/?token=s3cret-token")
        assert away.headers["location"] == "/elsewhere.example/"  # not //elsewhere: this site
        assert (await dash.get("/queues/mail")).status_code == 200  # the cookie carries it
    assert not await case.mail_queue.is_paused()


async def test_no_connection_secret_is_rendered(
    case: ModuleType, redis_env: RedisSource, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with client_of(create_app(case.queues.runtime)) as dash:
        pages = [await dash.get(path) for path in ("/", "/queues/mail", "/api/overview")]
    port = str(case.queues.runtime.config.connection["port"])
    for page in pages:
        assert f":{port}" not in page.text
        assert "redis://" not in page.text


async def test_mounted_in_a_host_app_links_stay_under_its_path(case: ModuleType) -> None:
    host = Starlette(routes=[Mount("/admin/queues", app=create_app(case.queues.runtime))])
    await case.enqueue_send_mail({"to": "m@example.com", "subject": "mounted"})
    async with client_of(host) as client:
        page = await client.get("/admin/queues/")
        assert page.status_code == 200
        assert 'href="/admin/queues/queues/mail"' in page.text
        assert 'href="/admin/queues/static/dashboard.css"' in page.text
        assert (await client.get("/admin/queues/static/dashboard.css")).status_code == 200
        queue = await client.get("/admin/queues/queues/mail")
        assert "/admin/queues/queues/mail/jobs/" in queue.text
        assert "Path=/admin/queues" in page.headers["set-cookie"]  # the CSRF cookie


def test_the_command_refuses_another_interface_without_a_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("BULLMQ_DASHBOARD_TOKEN", raising=False)
    result = CliRunner().invoke(cli, ["dashboard", "--host", "0.0.0.0"])
    assert result.exit_code == 2
    assert "refusing to serve the dashboard on 0.0.0.0 without a token" in result.output


async def test_redis_down_is_a_503_page_that_names_no_address(
    case: ModuleType, redis_env: RedisSource
) -> None:
    from bullmq_codegen import create_queue_config
    from bullmq_codegen.testing import free_port

    port = free_port()  # nothing listens there
    config = create_queue_config(
        queues=dict(case.queues.runtime.config.queues),
        connection={"host": "127.0.0.1", "port": port},
        prefix="down",
    )
    app = create_app(config)
    async with client_of(app) as dash:
        for path in ("/", "/queues/mail", "/queues/mail/jobs/1"):
            page = await dash.get(path)
            assert page.status_code == 503
            assert "Redis unreachable" in page.text
            assert str(port) not in page.text
        data = await dash.get("/api/overview")
        assert data.status_code == 503
        assert data.json() == {"error": "Redis unreachable", "kind": "ConnectionError"}
