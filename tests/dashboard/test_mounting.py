"""The README's recipe: the dashboard mounted in a FastAPI app, behind the app's own check."""

from __future__ import annotations

from types import ModuleType

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse
from starlette.middleware.base import RequestResponseEndpoint
from starlette.responses import Response

from bullmq_codegen.dashboard import create_app


async def is_admin(request: Request) -> bool:
    return request.cookies.get("session") == "admin"


def host_app(runtime: object) -> FastAPI:
    app = FastAPI()

    @app.middleware("http")
    async def admins_only(request: Request, call_next: RequestResponseEndpoint) -> Response:
        if request.url.path.startswith("/admin/queues") and not await is_admin(request):
            return PlainTextResponse("forbidden", status_code=403)
        return await call_next(request)

    app.mount("/admin/queues", create_app(runtime, secret="shared-by-every-process"))
    return app


async def test_mounted_behind_the_host_apps_check(case: ModuleType) -> None:
    app = host_app(case.queues.runtime)
    job = await case.enqueue_send_mail({"to": "m@example.com", "subject": "mounted"})
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://host") as stranger:
        assert (await stranger.get("/admin/queues/")).status_code == 403
        assert (await stranger.post("/admin/queues/queues/mail/actions/pause")).status_code == 403
    cookies = {"session": "admin"}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://host", cookies=cookies
    ) as admin:
        page = await admin.get("/admin/queues/queues/mail")
        assert page.status_code == 200
        assert f'href="/admin/queues/queues/mail/jobs/{job.id}"' in page.text
        confirm = await admin.get("/admin/queues/queues/mail/confirm/pause")
        assert 'action="/admin/queues/queues/mail/actions/pause"' in confirm.text
        csrf = confirm.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        done = await admin.post("/admin/queues/queues/mail/actions/pause", data={"csrf": csrf})
        assert done.status_code == 200
    assert await case.mail_queue.is_paused()
