"""Request bodies are checked before they are read: a write needs a valid token first (401 without one, the
body untouched), and a body may not exceed its limit (413) — by its Content-Length when it declares one, and
byte by byte as it streams in, so a chunked body without Content-Length is cut off at the limit too.

A pure ASGI wrapper (no BaseHTTPMiddleware): reads pass through at the cost of one dictionary lookup."""

from __future__ import annotations

from collections.abc import Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from nongthon.accounts import authenticate
from nongthon.errors import NongthonError
from nongthon.store import Store

from .errors import PayloadTooLarge, nongthon_error

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
MB = 1024 * 1024


def size_vi(n: int) -> str:
    return f"{n // MB} MB" if n % MB == 0 else f"{n:,} byte".replace(",", ".")


class BodyTooLarge(Exception):
    """Raised into the app from receive() when the body passes its limit; the wrapper answers 413."""


class BodyLimits:
    """``limit_for(scope)`` gives the byte limit of a request's body; ``bearer(request)`` its token."""

    def __init__(self, app: ASGIApp, store: Store, limit_for: Callable[[Scope], int], bearer: Callable[[Request], str | None]) -> None:
        self.app, self.store, self.limit_for, self.bearer = app, store, limit_for, bearer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        if scope["method"] not in SAFE_METHODS and self._is_route(scope):
            try:  # the token before any byte of the body
                await run_in_threadpool(authenticate, self.store, self.bearer(request))
            except NongthonError as exc:
                await (await nongthon_error(request, exc))(scope, receive, send)
                return
        limit = self.limit_for(scope)
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await self._too_large(request, limit, int(declared), send)
            return

        received, too_large, started = 0, False, False

        async def counted() -> Message:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    too_large = True
                    raise BodyTooLarge
            return message

        async def guarded(message: Message) -> None:
            nonlocal started
            if too_large:  # the app's own answer to the aborted read (a 400 or a 500) is replaced by the 413
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, guarded)
        except Exception:
            if not too_large:
                raise
        if too_large and not started:
            await self._too_large(request, limit, None, send)

    @staticmethod
    def _is_route(scope: Scope) -> bool:
        """Whether a route takes this method at this path (otherwise the router answers 404 or 405)."""
        app = scope.get("app")
        return app is not None and any(route.matches(scope)[0] == Match.FULL for route in app.router.routes)

    async def _too_large(self, request: Request, limit: int, declared: int | None, send: Send) -> None:
        upload = "multipart/form-data" in request.headers.get("content-type", "")
        what = "Tệp tải lên" if upload else "Thân yêu cầu (JSON)"
        size = f" ({size_vi(declared)})" if declared is not None else ""
        exc = PayloadTooLarge(f"{what} quá lớn{size}; tối đa {size_vi(limit)}. Không có gì được ghi.")
        response = await nongthon_error(request, exc)
        response.headers["Connection"] = "close"
        await response(request.scope, request.receive, send)
