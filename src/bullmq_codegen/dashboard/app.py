"""The dashboard's Starlette app: pages, the JSON overview, actions behind confirmation and CSRF.

Routes (relative to where it is mounted):

``GET /``                               every queue (``/api/overview``: the same as JSON)
``GET /queues/{queue}``                 a page of one state's jobs (``?state=&start=&id=``)
``GET /queues/{queue}/jobs/{id}``       one job, typed
``GET /queues/{queue}/confirm/{action}`` the question an action asks first
``POST /queues/{queue}/actions/{action}`` the action itself (CSRF value required)

A page asked with the ``X-Dashboard-Live: 1`` header answers only its live
part, which ``live.js`` swaps in every few seconds; without JavaScript the
pages are whole and a reload refreshes them.
"""

from __future__ import annotations

import contextlib
import secrets as random_secrets
from collections.abc import AsyncGenerator, Mapping
from pathlib import Path
from typing import Any, cast
from urllib.parse import parse_qsl, quote, urlencode

from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from redis.exceptions import RedisError, ResponseError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from ..definitions.config import QueueConfig
from ..errors import BullMQCodegenError
from ..runtime.job_records import JobNotFoundError
from ..runtime.queue import QueueHandle
from ..runtime.registry import Runtime
from ..runtime.scheduler_view import list_schedulers
from .actions import ACTIONS, CLEANABLE, Action, ActionRequest
from .display import clip, percent, sparkline_points
from .fields import pretty_json
from .guard import TokenGuard
from .jobs import STATES, UnreadableJobError, find_job, moment, read_job, read_queue_page
from .kinds import JobKinds
from .overview import read_overview
from .security import CSRF_COOKIE, CSRF_FIELD, new_csrf, valid_csrf

__all__ = ["build_app", "path_of"]

_HERE = Path(__file__).parent
PAGE_SIZE = 25
"""Jobs per queue page."""
LIVE_HEADER = "x-dashboard-live"
_LIVE_PAGES = frozenset({"overview.html", "queue.html", "job.html"})
"""The pages with a live part (``_<page>``); any other answers whole, with its status."""
_MAX_FORM = 65_536
_PAGE_HEADERS = {
    "Cache-Control": "no-store",
    # no framing (a confirm button under another site's page), nothing from elsewhere
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; form-action 'self'",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}


class Dashboard:
    """The pages and actions of one set of queues."""

    def __init__(self, runtime: Runtime, *, read_only: bool, secret: bytes) -> None:
        self.runtime = runtime
        self.kinds = JobKinds(runtime.config)
        self.read_only = read_only
        self.secret = secret
        environment = Environment(
            loader=FileSystemLoader(_HERE / "templates"),
            autoescape=select_autoescape(default=True),
        )
        environment.filters["moment"] = moment
        environment.filters["percent"] = percent
        environment.filters["pretty"] = pretty_json
        environment.filters["clip"] = clip
        helpers: dict[str, Any] = {"sparkline": sparkline_points, "path_for": _path_for}
        environment.globals.update(helpers)
        self.templates = Jinja2Templates(env=environment)

    def render(
        self, request: Request, name: str, context: dict[str, Any], *, status: int = 200
    ) -> Response:
        """Render page ``name`` (only its live part, ``_<name>``, for the live updater)."""
        cookie = request.cookies.get(CSRF_COOKIE)
        fresh = cookie is None or not valid_csrf(self.secret, cookie, cookie)
        csrf = new_csrf(self.secret) if fresh else cast("str", cookie)
        if request.headers.get(LIVE_HEADER) == "1" and name in _LIVE_PAGES:
            name = "_" + name
        response = self.templates.TemplateResponse(
            request,
            name,
            {**context, "read_only": self.read_only, "csrf": csrf, "csrf_field": CSRF_FIELD},
            status_code=status,
        )
        response.headers.update(_PAGE_HEADERS)
        if fresh:
            response.set_cookie(
                CSRF_COOKIE,
                csrf,
                httponly=True,
                samesite="strict",
                path=request.scope.get("root_path") or "/",
            )
        return response

    def message(self, request: Request, status: int, title: str, text: str) -> Response:
        """A page that says what went wrong."""
        return self.render(request, "message.html", {"title": title, "text": text}, status=status)

    def unreadable(self, request: Request, error: UnreadableJobError) -> Response:
        """The page of a job hash the runtime cannot read, with the way to remove it."""
        remove = None
        if error.job_id is not None and not self.read_only:
            path = path_of(request, "confirm", queue=error.queue, action="remove")
            remove = f"{path}?{urlencode({'job': error.job_id})}"
        context = {"title": "Unreadable job", "text": f"{error}.", "remove": remove}
        return self.render(request, "message.html", context, status=500)

    def queue_name(self, request: Request) -> str | None:
        """The queue the path names, if it is one of the definitions'."""
        name = str(request.path_params["queue"])
        return name if name in self.kinds.queues else None

    async def overview(self, request: Request) -> Response:
        overview = await read_overview(self.runtime, self.kinds.queues)
        return self.render(request, "overview.html", {"overview": overview})

    async def overview_json(self, request: Request) -> Response:
        overview = await read_overview(self.runtime, self.kinds.queues)
        return JSONResponse(overview.to_json(), headers={"Cache-Control": "no-store"})

    async def queue(self, request: Request) -> Response:
        name = self.queue_name(request)
        if name is None:
            return self.message(request, 404, "No such queue", _unknown_queue(request, self.kinds))
        wanted = request.query_params.get("id", "").strip()
        if wanted and await find_job(self.runtime, name, wanted) is not None:
            return _see_other(path_of(request, "job", queue=name, job_id=wanted))
        state = request.query_params.get("state", "waiting")
        if state not in STATES:
            return self.message(
                request, 400, "No such state", f"{state!r} is not one of {', '.join(STATES)}"
            )
        overview = (await read_overview(self.runtime, [name])).queues[0]
        counts = overview.counts.by_state()
        total = counts.get(state, 0)
        start = min(_int(request.query_params.get("start")), total)  # past the end: empty
        page = await read_queue_page(
            self.runtime, self.kinds, name, state, start=start, count=PAGE_SIZE, total=total
        )
        schedulers = await list_schedulers(self.runtime.context(name))
        context = {
            "schedulers": schedulers,
            "queue": overview,
            "page": page,
            "counts": counts,
            "states": STATES,
            "cleanable": CLEANABLE,
            "searched": wanted,
            "job_names": self.kinds.names(name),
        }
        return self.render(request, "queue.html", context)

    async def job(self, request: Request) -> Response:
        name = self.queue_name(request)
        if name is None:
            return self.message(request, 404, "No such queue", _unknown_queue(request, self.kinds))
        job_id = str(request.path_params["job_id"])
        view = await read_job(self.runtime, self.kinds, name, job_id)
        if view is None:
            return self.message(
                request, 404, "No such job", f"Queue {name} has no job {job_id} (removed?)."
            )
        return self.render(request, "job.html", {"job": view})

    def _action(self, request: Request) -> tuple[Action, ActionRequest] | Response:
        name = self.queue_name(request)
        if name is None:
            return self.message(request, 404, "No such queue", _unknown_queue(request, self.kinds))
        action = ACTIONS.get(str(request.path_params["action"]))
        if action is None:
            return self.message(
                request, 404, "No such action", f"Actions: {', '.join(sorted(ACTIONS))}"
            )
        if self.read_only:
            return self.message(request, 403, "Read-only", "This dashboard is read-only.")
        return action, ActionRequest(queue=QueueHandle(self.runtime, name))

    async def confirm(self, request: Request) -> Response:
        found = self._action(request)
        if isinstance(found, Response):
            return found
        action, target = found
        asked = _asked(action, target, dict(request.query_params))
        if isinstance(asked, str):
            return self.message(request, 400, "Bad request", asked)
        context = {"action": action, "target": asked, "question": action.question(asked)}
        return self.render(request, "confirm.html", context)

    async def act(self, request: Request) -> Response:
        form = await _form(request)
        if form is None:
            return self.message(request, 413, "Refused", "An action's form is a few fields.")
        if not valid_csrf(self.secret, request.cookies.get(CSRF_COOKIE), form.get(CSRF_FIELD)):
            return self.message(
                request,
                403,
                "Refused",
                "The form's CSRF value is missing or wrong: reload the page and confirm again.",
            )
        found = self._action(request)
        if isinstance(found, Response):
            return found
        action, target = found
        asked = _asked(action, target, form)
        if isinstance(asked, str):
            return self.message(request, 400, "Bad request", asked)
        try:
            done = await action.run(asked)
        except JobNotFoundError as error:
            return self.message(request, 404, "Not done", str(error))
        except BullMQCodegenError as error:
            return self.message(request, 409, "Not done", str(error))
        return self.render(request, "done.html", {"action": action, "target": asked, "done": done})


def path_of(request: Request, name: str, /, **params: Any) -> str:
    """The path of route ``name`` where the app is mounted, its parameters percent-encoded (a
    job id may hold ``/``, ``?``, ``#``, ``%`` or ``..``). A path, not a URL: it works behind
    proxies that rewrite the host name or end TLS."""
    quoted = {key: quote(str(value), safe="") for key, value in params.items()}
    return request.url_for(name, **quoted).path


@pass_context
def _path_for(context: Mapping[str, Any], name: str, /, **params: Any) -> str:
    return path_of(cast("Request", context["request"]), name, **params)


def _asked(action: Action, target: ActionRequest, fields: dict[str, str]) -> ActionRequest | str:
    """The request completed from the form or query (job id, state), or what is missing."""
    if action.scope == "job":
        job_id = fields.get("job", "").strip()
        if not job_id:
            return f"{action.label} needs a job id (job=...)"
        return ActionRequest(queue=target.queue, job_id=job_id)
    if action.key == "clean":
        state = fields.get("state", "")
        if state not in CLEANABLE:
            return f"clean needs a state, one of {', '.join(CLEANABLE)}; not {state!r}"
        return ActionRequest(queue=target.queue, state=state)
    return target


async def _form(request: Request) -> dict[str, str] | None:
    """The fields of an action's form (``application/x-www-form-urlencoded``, as browsers send
    it); ``None`` for a body over 64 KiB (an action's form has a few fields), which is read no
    further, whether it says its length or not (chunked)."""
    if int(request.headers.get("content-length") or 0) > _MAX_FORM:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > _MAX_FORM:
            return None
    return dict(parse_qsl(body.decode(errors="replace"), keep_blank_values=True))


def _int(raw: str | None) -> int:
    try:
        return max(int(raw or 0), 0)
    except ValueError:
        return 0


def _see_other(path: str) -> Response:
    return Response(status_code=303, headers={"Location": path})


def _unknown_queue(request: Request, kinds: JobKinds) -> str:
    return (
        f"No queue {request.path_params['queue']!r} in the definitions "
        f"(known: {', '.join(kinds.queues) or 'none'})."
    )


def build_app(
    config: QueueConfig | Runtime,
    *,
    read_only: bool = False,
    token: str | None = None,
    secret: str | None = None,
) -> Starlette:
    """The dashboard app (see :func:`bullmq_codegen.dashboard.create_app`)."""
    runtime = config if isinstance(config, Runtime) else Runtime(config)
    key = (secret or random_secrets.token_urlsafe(32)).encode()
    dashboard = Dashboard(runtime, read_only=read_only, secret=key)
    overview_json = Route("/api/overview", dashboard.overview_json, name="overview_json")
    routes = [
        Route("/", dashboard.overview, name="overview"),
        overview_json,
        Route("/queues/{queue}", dashboard.queue, name="queue"),
        Route("/queues/{queue}/jobs/{job_id:path}", dashboard.job, name="job"),
        Route("/queues/{queue}/confirm/{action}", dashboard.confirm, name="confirm"),
        Route("/queues/{queue}/actions/{action}", dashboard.act, name="act", methods=["POST"]),
        Mount("/static", app=StaticFiles(directory=_HERE / "static"), name="static"),
    ]
    middleware = [Middleware(TokenGuard, token=token)] if token else []

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncGenerator[None]:
        yield
        await runtime.close()  # this loop's connections (when served, not mounted)

    async def redis_failed(request: Request, error: Exception) -> Response:
        # the error's text can name the host and port: only its kind is shown
        kind = type(error).__name__
        if isinstance(error, ResponseError):  # it answered: it refused a command
            status, title = 500, "Redis error"
            text = f"Redis refused a command of this page ({kind})."
        else:
            status, title = 503, "Redis unreachable"
            text = f"Redis did not answer ({kind}); the page retries on reload."
        if request.scope.get("route") is overview_json:  # scripts read JSON, errors too
            answer = {"error": title, "kind": kind}
            return JSONResponse(answer, status_code=status, headers={"Cache-Control": "no-store"})
        return dashboard.message(request, status, title, text)

    async def unreadable(request: Request, error: Exception) -> Response:
        return dashboard.unreadable(request, cast("UnreadableJobError", error))

    return Starlette(
        routes=routes,
        middleware=middleware,
        lifespan=lifespan,
        exception_handlers={
            RedisError: redis_failed,
            OSError: redis_failed,
            UnreadableJobError: unreadable,
        },
    )
