"""``bullmq-codegen dashboard``: serve the web dashboard of the project's queues."""

from __future__ import annotations

from typing import Annotated

import typer

from ..dashboard.security import TOKEN_ENV
from .common import ConfigOption, OutOption, fail, say
from .status import generated_runtime

__all__ = ["dashboard"]


def dashboard(
    config: ConfigOption = None,
    out: OutOption = None,
    host: Annotated[
        str,
        typer.Option(
            "--host", metavar="HOST", help="Interface to listen on (beyond loopback: --token)."
        ),
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", "-p", metavar="PORT", help="Port to listen on.")
    ] = 8077,
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            metavar="TOKEN",
            envvar=TOKEN_ENV,
            show_envvar=True,
            help="Require this token on every request (Bearer header, or ?token= once). "
            "Prefer the environment variable: arguments show in process lists.",
            show_default=False,
        ),
    ] = None,
    read_only: Annotated[
        bool, typer.Option("--read-only", help="Show queues and jobs; refuse every action.")
    ] = False,
) -> None:
    """Serve the dashboard: queues, jobs with their typed payloads, and actions.

    Listens on 127.0.0.1 unless --host says otherwise; another interface needs a
    token. Exit 2 when the definitions cannot be read or the host needs a token.
    """
    from ..dashboard.security import is_loopback

    if not is_loopback(host) and not token:
        fail(
            f"refusing to serve the dashboard on {host} without a token: "
            f"pass --token or set {TOKEN_ENV} (or listen on 127.0.0.1)"
        )
        raise typer.Exit(2)
    runtime = generated_runtime(config, out)
    import uvicorn

    from ..dashboard import create_app

    app = create_app(runtime, read_only=read_only, token=token)
    shown = f"[{host}]" if ":" in host else host
    mode = " (read-only)" if read_only else ""
    say.print(f"dashboard{mode} at http://{shown}:{port}/")
    if token:
        say.print("every request needs the token: open the page once with ?token=<token>")
    uvicorn.run(app, host=host, port=port, log_level="warning", server_header=False)
