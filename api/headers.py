"""Security headers on every response: ``X-Content-Type-Options: nosniff`` on all of them (JSON too: no browser
guesses another type), and on every HTML page a Content-Security-Policy ending in ``frame-ancestors 'self'``
with ``X-Frame-Options: SAMEORIGIN`` (only this site may show it in a frame). The policy of an HTML page:

- the page's own, when the route sets one (the map: its inline scripts by hash, ``nongthon.maps.page_policy``);
- /docs, /redoc and Swagger's OAuth2 redirect, built from the app's settings alone (never from a request or
  the data): this site's scripts, and the page's inline ones by their SHA-256, hashed from the page as it is
  sent (a few kB, held until complete);
- any other page (the error pages of api/errors.py): scripts from this site only; they have none.

No policy allows inline event handlers (``onerror=``…), ``javascript:`` URLs or eval.

A pure ASGI wrapper (no BaseHTTPMiddleware), as api/limits.py; ``secure(app)`` puts it around the whole app,
Starlette's error middleware included, so that the page of an unforeseen error (500) carries the headers too."""

from __future__ import annotations

from collections.abc import Collection

from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from nongthon.maps import script_hashes

FRAME_POLICY = "frame-ancestors 'self'"
SITE_POLICY = (
    "default-src 'self'",
    "style-src 'self' 'unsafe-inline'",  # Swagger UI and ReDoc set styles inline; a style cannot run a script
    "img-src 'self' data:",
    "worker-src 'self' blob:",  # ReDoc's search runs in a worker it makes from its own script
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    FRAME_POLICY,
)
CONFIG_PAGES = ("/docs", "/docs/oauth2-redirect", "/redoc")


def site_policy(scripts: Collection[str] = ()) -> str:
    """The policy of an HTML page that brings none: scripts from this site, and ``scripts`` ('sha256-…')."""
    return "; ".join([SITE_POLICY[0], " ".join(["script-src 'self'", *scripts]), *SITE_POLICY[1:]])


def add_headers(message: Message, scripts: Collection[str] = ()) -> None:
    """Add the headers to an ``http.response.start`` message."""
    headers = MutableHeaders(scope=message)
    headers["X-Content-Type-Options"] = "nosniff"
    if headers.get("content-type", "").startswith("text/html"):
        headers["X-Frame-Options"] = "SAMEORIGIN"
        own = headers.get("content-security-policy")
        if not own:
            headers["Content-Security-Policy"] = site_policy(scripts)
        elif "frame-ancestors" not in own:
            headers["Content-Security-Policy"] = f"{own}; {FRAME_POLICY}"


class SecurityHeaders:
    """``config_pages``: the paths whose HTML depends on the app's settings only, whose inline scripts are allowed."""

    def __init__(self, app: ASGIApp, config_pages: Collection[str] = CONFIG_PAGES) -> None:
        self.app, self.config_pages = app, frozenset(config_pages)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] in self.config_pages:
            await self._hashed(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                add_headers(message)
            await send(message)

        await self.app(scope, receive, with_headers)

    async def _hashed(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The page held until its body is complete, then sent with its inline scripts' hashes in the policy."""
        held: list[Message] = []

        async def hold(message: Message) -> None:
            held.append(message)
            if message["type"] != "http.response.body" or message.get("more_body", False):
                return
            start, body = held[0], b"".join(m.get("body", b"") for m in held[1:])
            headers = MutableHeaders(scope=start)
            plain = headers.get("content-type", "").startswith("text/html") and "content-encoding" not in headers
            add_headers(start, script_hashes(body.decode("utf-8", "replace")) if plain else ())
            await send(start)
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, hold)


def secure(app: Starlette) -> None:
    """Wrap ``app`` — its whole middleware stack, when it is built at the first request — in SecurityHeaders.
    (``add_middleware`` would leave out Starlette's ServerErrorMiddleware, which sends the 500 page itself.)"""
    build = app.build_middleware_stack
    app.build_middleware_stack = lambda: SecurityHeaders(build())
