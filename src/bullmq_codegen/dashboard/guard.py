"""The access-token check in front of every dashboard request (see :mod:`.security`)."""

from __future__ import annotations

from urllib.parse import parse_qsl, quote, urlencode

from starlette.requests import HTTPConnection
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from .security import TOKEN_COOKIE, token_matches

__all__ = ["TokenGuard"]


class TokenGuard:
    """Lets through requests that carry ``token``; refuses the rest with 403."""

    def __init__(self, app: ASGIApp, *, token: str) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        connection = HTTPConnection(scope)
        authorization = connection.headers.get("authorization", "")
        bearer = authorization[7:] if authorization.lower().startswith("bearer ") else None
        if token_matches(self.token, bearer) or token_matches(
            self.token, connection.cookies.get(TOKEN_COOKIE)
        ):
            await self.app(scope, receive, send)
            return
        given = connection.query_params.get("token")
        response: Response
        if token_matches(self.token, given):
            # Keep the token in a cookie and take it out of the address (history, logs).
            query = [
                (k, v)
                for k, v in parse_qsl(scope.get("query_string", b"").decode())
                if k != "token"
            ]
            # a path, not a URL: behind a proxy that ends TLS, http://... would leave https
            raw_path = scope.get("raw_path") or quote(connection.url.path).encode()
            # one leading slash: '//host/...' would send the browser to another site
            path = "/" + raw_path.decode("latin-1").lstrip("/")
            location = path + (f"?{urlencode(query)}" if query else "")
            response = Response(status_code=303, headers={"Location": location})
            response.set_cookie(
                TOKEN_COOKIE,
                self.token,
                httponly=True,
                samesite="strict",
                path=scope.get("root_path") or "/",
            )
        else:
            response = PlainTextResponse(
                "403: this dashboard needs its token (Authorization: Bearer <token>, "
                "or open it once with ?token=<token>)\n",
                status_code=403,
            )
        await response(scope, receive, send)
