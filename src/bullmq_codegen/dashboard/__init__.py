"""A web dashboard that knows the payload types: queues, jobs and their typed data, and actions.

``create_app(queue_config)`` is an ASGI app (Starlette) to serve alone
(``bullmq-codegen dashboard``) or mount in a FastAPI/Starlette service behind
its own authentication. Importing this package imports no web framework: the
app's modules load when ``create_app`` is called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from ..definitions.config import QueueConfig
    from ..runtime.registry import Runtime

__all__ = ["create_app"]


def create_app(
    config: QueueConfig | Runtime,
    *,
    read_only: bool = False,
    token: str | None = None,
    secret: str | None = None,
) -> Starlette:
    """The dashboard of ``config``'s queues as a Starlette app (ASGI).

    ``config`` is the definitions' ``QueueConfig`` (a runtime of its own is
    built) or the generated ``runtime`` to share its connections.
    ``read_only`` hides and refuses every action. ``token``: every request must
    carry it (``Authorization: Bearer``, or ``?token=`` once, kept in a
    cookie); leave it ``None`` behind the host app's own authentication.
    ``secret`` signs the CSRF cookies (random per process when ``None``: give
    one when several processes serve the dashboard). The overview alone, without
    a web framework, is :func:`bullmq_codegen.dashboard.overview.read_overview`.
    """
    from .app import build_app

    return build_app(config, read_only=read_only, token=token, secret=secret)
