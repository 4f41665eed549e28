"""The dashboard's guards: the access token, CSRF tokens on every action, where it may listen.

* **Token.** With a token, every request carries it: ``Authorization: Bearer
  <token>``, or ``?token=<token>`` once (answered with a cookie that carries it
  from then on, and a redirect to the same page without it in the address).
  Anything else is refused with 403.
* **CSRF.** Actions are POSTs whose form holds the value of the ``bcg_csrf``
  cookie, itself signed with the app's secret (signed double-submit): another
  site can make the browser send the cookie, but can neither read it nor forge a
  signed one.
* **Interfaces.** The command refuses to listen beyond loopback without a token.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets

__all__ = [
    "CSRF_COOKIE",
    "CSRF_FIELD",
    "TOKEN_COOKIE",
    "TOKEN_ENV",
    "is_loopback",
    "new_csrf",
    "token_matches",
    "valid_csrf",
]

TOKEN_ENV = "BULLMQ_DASHBOARD_TOKEN"
"""The environment variable ``bullmq-codegen dashboard`` reads its token from."""
TOKEN_COOKIE = "bcg_dashboard_token"
CSRF_COOKIE = "bcg_csrf"
CSRF_FIELD = "csrf"
"""The form field every action POST carries the CSRF value in."""


def _signature(secret: bytes, nonce: str) -> str:
    return hmac.new(secret, nonce.encode(), hashlib.sha256).hexdigest()


def new_csrf(secret: bytes) -> str:
    """A fresh CSRF value: a random nonce and its signature."""
    nonce = secrets.token_urlsafe(24)
    return f"{nonce}.{_signature(secret, nonce)}"


def valid_csrf(secret: bytes, cookie: str | None, field: str | None) -> bool:
    """Whether the form's value is the cookie's, and the cookie was signed by this app."""
    if not cookie or not field or not hmac.compare_digest(cookie, field):
        return False
    nonce, _, signature = cookie.partition(".")
    return bool(nonce) and hmac.compare_digest(signature, _signature(secret, nonce))


def token_matches(expected: str, given: str | None) -> bool:
    """Whether ``given`` is the token (compared in constant time)."""
    return given is not None and hmac.compare_digest(expected.encode(), given.encode())


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback interface (``127.0.0.1``, ``::1``, ``localhost``)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
