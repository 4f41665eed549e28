"""The dashboard in a real headless Chromium (Debian's ``chromium``, driven by Playwright) against
a real Redis, with the workers and the dashboard each running as the commands run them.

Set ``BCG_SCREENSHOTS`` to a directory to keep screenshots of the overview, a queue page and a
job page there (the README's come from this test).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import ModuleType

import pytest
from bullmq import Queue

from bullmq_codegen.testing import RedisSource, free_port

from ..helpers import eventually
from ..runner.support import RunnerProcess, child_env

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
EXPECT_TIMEOUT_MS = 30_000
"""How long an expectation waits for the page (Playwright's 5 s is short on a loaded machine)."""
TOKEN = "browser-test-token"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        CHROMIUM is None,
        reason="Debian's chromium is not installed (./dev test installs it: "
        "apt-get install chromium chromium-driver)",
    ),
]


def serve_dashboard(case_root: Path, env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    """``bullmq-codegen dashboard --token`` on the case, as an operator runs it."""
    with (case_root / "dashboard.log").open("wb") as log:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bullmq_codegen",
                "dashboard",
                "--config",
                "dashcase/jobs.py",
                "--port",
                str(port),
                "--token",
                TOKEN,
            ],
            cwd=case_root,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


@pytest.fixture
def served(
    case_root: Path, redis_env: RedisSource, fail_flag: Path
) -> Iterator[tuple[str, RunnerProcess]]:
    """Workers (``workers start``) and the dashboard (``dashboard --token``) on the case."""
    env = child_env()
    port = free_port()
    workers = RunnerProcess(case_root, env, config="dashcase/jobs.py")
    dashboard = serve_dashboard(case_root, env, port)
    yield f"http://127.0.0.1:{port}", workers
    dashboard.terminate()
    dashboard.wait(30)
    workers.stop()


@pytest.fixture
def dashboard_alone(case_root: Path, redis_env: RedisSource) -> Iterator[str]:
    """The dashboard on the case, without workers."""
    port = free_port()
    dashboard = serve_dashboard(case_root, child_env(), port)
    yield f"http://127.0.0.1:{port}"
    dashboard.terminate()
    dashboard.wait(30)


async def answering(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=2)  # noqa: ASYNC210 - a probe, once per loop
    except urllib.error.HTTPError:
        return True  # 403 without the token: it is up
    except OSError:
        return False
    return True


@pytest.fixture
async def browser() -> AsyncIterator[object]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield chromium
        await chromium.close()


async def test_pages_actions_and_refusals_in_chromium(
    served: tuple[str, RunnerProcess],
    browser: object,
    case: ModuleType,
    fail_flag: Path,
    redis_env: RedisSource,
    prefix: str,
    tmp_path: Path,
) -> None:
    from playwright.async_api import Browser, expect

    assert isinstance(browser, Browser)
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    base, workers = served
    await eventually(lambda: answering(base + "/"), timeout=60, interval=0.2)

    async def workers_alive() -> bool:
        assert workers.process.poll() is None, workers.log
        health = await case.get_worker_health()
        return all(queue["alive"] for queue in health["queues"].values())

    await eventually(workers_alive, timeout=60, interval=0.2)
    for index in range(3):
        await case.enqueue_send_mail({"to": f"user{index}@example.com", "subject": "welcome"})

    async def sent() -> bool:
        return (await case.mail_queue.counts()).completed == 3

    await eventually(sent, timeout=60, interval=0.1)
    fail_flag.touch()
    failed = await case.enqueue_send_mail({"to": "ops@example.com", "subject": "weekly report"})

    async def has_failed() -> bool:
        return await case.mail_queue.get_job_state(failed.id) == "failed"

    await eventually(has_failed, timeout=60, interval=0.1)
    raw = Queue("mail", {"connection": redis_env.url, "prefix": prefix})
    stale = await raw.add("sendMail", {"to": 7, "title": "from last year"}, {"delay": 3_600_000})
    await raw.close()
    shots = Path(os.environ.get("BCG_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)

    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    page = await context.new_page()
    await page.goto(f"{base}/?token={TOKEN}")
    mail_row = page.locator('tr[data-queue="mail"]')
    await expect(mail_row).to_contain_text("mail")
    await expect(page.locator('tr[data-queue="reports"]')).to_be_visible()
    await expect(mail_row.locator("td").nth(7)).to_have_text("1")  # failed
    await expect(mail_row).to_contain_text("concurrency 3")  # a live worker, from its heartbeat
    await page.screenshot(path=str(shots / "overview.png"), full_page=True)

    # live: a job added now shows up without a reload
    await case.enqueue_build_report()
    await expect(page.locator('tr[data-queue="reports"] td').nth(6)).not_to_have_text("0")

    await mail_row.get_by_role("link", name="mail", exact=True).click()
    await page.get_by_role("link", name="failed 1").click()
    await expect(page.locator(f'tr[data-job="{failed.id}"]')).to_contain_text("smtp server down")
    await page.screenshot(path=str(shots / "queue.png"), full_page=True)
    await page.locator(f'tr[data-job="{failed.id}"] a').first.click()
    await expect(page.locator("[data-failed-reason]")).to_contain_text("smtp server down")
    await expect(page.get_by_text("Recipient address")).to_be_visible()
    await page.screenshot(path=str(shots / "job-failed.png"), full_page=True)

    # retry through the UI: confirm first, see what was done, the job runs and completes
    fail_flag.unlink()
    await page.get_by_role("link", name="Retry").click()
    await expect(page.get_by_text(f"Move failed job {failed.id} of queue mail")).to_be_visible()
    await page.get_by_role("button", name="Yes, retry").click()
    await expect(page.locator("[data-done]")).to_contain_text(
        f"Job {failed.id} moved from failed back to waiting"
    )
    await case.mail_queue.wait_for_result(failed.id, timeout=60)
    await page.get_by_role("link", name=f"Job {failed.id}").click()
    await expect(page.locator("[data-state]")).to_have_text("completed")
    await expect(page.get_by_text(f"<{failed.id}@test>")).to_be_visible()
    await page.screenshot(path=str(shots / "job.png"), full_page=True)

    # a job from an older deploy whose payload no longer validates is flagged
    await page.goto(f"{base}/queues/mail/jobs/{stale.id}")
    await expect(page.locator("[data-stale]")).to_contain_text("Stale schema")
    await expect(page.locator("[data-stale]")).to_contain_text("validation error")
    await page.screenshot(path=str(shots / "job-stale.png"), full_page=True)

    # refused: a POST without the CSRF value (the token cookie is there), any request without
    # the token
    no_csrf = await page.request.post(
        f"{base}/queues/mail/actions/pause", form={"job": str(failed.id)}
    )
    assert no_csrf.status == 403
    assert not await case.mail_queue.is_paused()
    stranger = await browser.new_context()
    response = await (await stranger.new_page()).goto(f"{base}/")
    assert response is not None
    assert response.status == 403
    await stranger.close()

    # the job schedulers the workers upserted, on their queue's page
    await page.goto(f"{base}/queues/reports")
    await expect(page.locator('tr[data-scheduler="nightly"]')).to_contain_text("0 3 * * *")

    # reading works with JavaScript off
    reader = await browser.new_context(java_script_enabled=False)
    plain = await reader.new_page()
    await plain.goto(f"{base}/queues/mail?state=completed&token={TOKEN}")
    await expect(plain.locator(f'tr[data-job="{failed.id}"]')).to_be_visible()
    await reader.close()
    await context.close()


async def test_live_updates_keep_a_selection_being_copied(
    dashboard_alone: str, browser: object, redis_env: RedisSource, prefix: str
) -> None:
    from playwright.async_api import Browser, expect

    assert isinstance(browser, Browser)
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    base = dashboard_alone
    await eventually(lambda: answering(base + "/"), timeout=60, interval=0.2)
    raw = Queue("mail", {"connection": redis_env.url, "prefix": prefix})
    job = await raw.add(
        "sendMail", {"to": "a@example.com", "subject": "copy me"}, {"delay": 9_000_000}
    )
    await raw.close()
    page = await browser.new_page()
    await page.goto(f"{base}/queues/mail/jobs/{job.id}?token={TOKEN}")
    options = page.locator("h2:text-is('Options') + pre")
    await options.select_text()  # an operator copying the job's options
    selected = await page.evaluate("() => String(window.getSelection())")
    assert "delay" in selected
    status = page.locator("[data-live-status]")
    for _ in range(2):  # two live checks go by
        before = await status.text_content()
        await expect(status).not_to_have_text(before or "")
    assert await page.evaluate("() => String(window.getSelection())") == selected
    await page.close()
