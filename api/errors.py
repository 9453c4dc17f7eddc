"""The one table that maps library exceptions to HTTP answers, and the one way an error leaves the app:
under /api and /ogc a JSON body {"loi": message}; anywhere else (the /map page, an unknown page) an HTML
page from templates/loi.html, with the same status and message and a link back to the map.

Messages are Vietnamese; with ``?lang=en`` on any URL they are English, through the one table of
nongthon/lang (the keys, "loi" and the rest, stay as they are; a message the table lacks stays Vietnamese).
The language is the URL's alone, never the Accept-Language header: a response is cached, and kept by URL
(api/cache.py Answers, any HTTP cache in front), so one URL must always mean one language. ``LangCheck``
refuses any other value of ``lang`` (422) on every path, before the routes and the cached answers."""

from __future__ import annotations

from html import escape
from pathlib import Path
from string import Template

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.datastructures import QueryParams
from starlette.exceptions import HTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Receive, Scope, Send

from nongthon.accounts import AccountError, NotAllowed, NotAuthenticated
from nongthon.entries import PreconditionFailed
from nongthon.errors import CatalogError, ImportRejected, InvalidParameter, NongthonError, StoreError, UnknownUnit, UnknownYear, clip
from nongthon.lang import DEFAULT, LANGS, check_lang, translate
from nongthon.layers import UnknownCriterion, UnknownDetail
from nongthon.store import StaleVersion


class PreconditionRequired(NongthonError):
    """A write without If-Match (HTTP 428)."""


class PayloadTooLarge(NongthonError):
    """An upload over the size limit (HTTP 413)."""


STATUS = [
    (NotAuthenticated, 401),
    (NotAllowed, 403),
    (StaleVersion, 412),
    (PreconditionFailed, 412),
    (PreconditionRequired, 428),
    (PayloadTooLarge, 413),
    (AccountError, 400),
    (UnknownUnit, 404),
    (UnknownYear, 404),
    (UnknownCriterion, 404),
    (UnknownDetail, 422),
    (InvalidParameter, 422),
    (ImportRejected, 422),
    (CatalogError, 500),
    (StoreError, 503),
    (NongthonError, 400),
]


def status_of(exc: Exception) -> int:
    for cls, code in STATUS:
        if isinstance(exc, cls):
            return code
    return 500


#: the heading of the HTML error page, by status
TITLES = {
    400: "Yêu cầu không hợp lệ",
    401: "Cần đăng nhập",
    403: "Không có quyền",
    404: "Không tìm thấy",
    405: "Phương thức không được hỗ trợ",
    412: "Số liệu đã thay đổi",
    413: "Tệp quá lớn",
    422: "Tham số không hợp lệ",
    428: "Thiếu điều kiện ghi",
    500: "Lỗi máy chủ",
    503: "Máy chủ đang bận",
}
JSON_PATHS = ("/api", "/ogc", "/openapi.json")  # everything else is a page for people
PAGE = Template((Path(__file__).parent / "templates" / "loi.html").read_text(encoding="utf-8"))


#: the words of the HTML error page around its message
PAGE_WORDS = {"error": "Lỗi", "back": "← Về bản đồ nông thôn mới", "docs": "Tài liệu API"}


def lang_of(request: Request) -> str:
    """The language the request asks for with ``lang=`` (vi when none, or when the value is not one: LangCheck
    has answered those with 422 already)."""
    value = request.query_params.get("lang")
    return value if value in LANGS else DEFAULT


def answer(request: Request, status: int, body: dict, headers: dict | None = None) -> Response:
    """JSON under /api and /ogc; an HTML page elsewhere (the message escaped: it may repeat user text), in the
    request's language (the message itself is translated by the caller)."""
    path = request.url.path
    if any(path == p or path.startswith(p + "/") for p in JSON_PATHS):
        return JSONResponse(body, status_code=status, headers=headers)
    lang = lang_of(request)
    words = {k: escape(translate(v, lang)) for k, v in PAGE_WORDS.items()}
    page = PAGE.substitute(
        status=status,
        title=escape(translate(TITLES.get(status, "Có lỗi"), lang)),
        message=escape(body["loi"]),
        lang=lang,
        map="/map" if lang == DEFAULT else f"/map?lang={lang}",
        **words,
    )
    return HTMLResponse(page, status_code=status, headers=headers)


async def nongthon_error(request: Request, exc: NongthonError) -> Response:
    status, lang = status_of(exc), lang_of(request)
    body: dict = {"loi": translate(str(exc), lang)}
    if isinstance(exc, ImportRejected):
        # bounded whatever the file: the first errors (values cut short), the total, and a count per column and kind
        body = {
            "loi": translate(exc.headline(), lang),
            "so_loi": exc.total,
            "cac_loi": [
                {"trang": e.sheet, "dong": e.row, "cot": e.column, "gia_tri": str(e.value), "thong_bao": translate(e.message, lang)}
                for e in exc.errors
            ],
            "tom_tat": [{"trang": g.sheet, "cot": g.column, "thong_bao": translate(g.kind, lang), "so_loi": g.count} for g in exc.summary],
        }
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return answer(request, status, body, headers)


async def http_error(request: Request, exc: HTTPException) -> Response:
    """The router's own answers: no such path (404), a method the path does not take (405, with Allow)."""
    path, status, headers = request.url.path, exc.status_code, exc.headers
    if status == 404:
        message = f"Không có đường dẫn {path}; xem các đường dẫn của API tại /docs, bản đồ tại /map."
    elif status == 405:
        # every route of the path, not only the first one the router tried (GET and PUT are two routes)
        routes = [r for r in request.app.routes if r.matches(request.scope)[0] != Match.NONE]
        headers = {**(headers or {}), "Allow": ", ".join(sorted({m for r in routes for m in getattr(r, "methods", None) or ()}))}
        message = f"Phương thức {request.method} không dùng được cho {path}; chỉ dùng: {headers['Allow']}."
    else:
        message = f"{TITLES.get(status, 'Có lỗi')} (HTTP {status}): {exc.detail}"
    return answer(request, status, {"loi": translate(message, lang_of(request))}, headers)


async def server_error(request: Request, _exc: Exception) -> Response:
    """Anything unforeseen: 500 in the same form (the details go to the server log, not to the client)."""
    message = "Lỗi máy chủ không lường trước; không có gì được ghi thêm. Vui lòng báo quản trị viên."
    return answer(request, 500, {"loi": translate(message, lang_of(request))})


#: what a parameter must look like, by pydantic's error type
EXPECTED_VI = {
    "int_parsing": "phải là số nguyên (ví dụ 2023)",
    "int_type": "phải là số nguyên (ví dụ 2023)",
    "int_parsing_size": "phải là số nguyên (ví dụ 2023)",  # digits beyond what a number may have
    "datetime_parsing": "phải là thời điểm ISO 8601, ví dụ 2024-06-30T00:00:00Z",
    "datetime_from_date_parsing": "phải là thời điểm ISO 8601, ví dụ 2024-06-30T00:00:00Z",
    "missing": "là bắt buộc",
}


async def validation_error(request: Request, exc: RequestValidationError) -> Response:
    problems, details, lang = [], [], lang_of(request)
    for e in exc.errors():
        where = ".".join(str(x) for x in e.get("loc", ()) if x not in ("query", "path", "body"))
        value = e.get("input")
        expected = EXPECTED_VI.get(e.get("type", ""), e.get("msg", ""))
        problems.append(translate(f"tham số {where}={clip(repr(value))}: {expected}", lang))  # an echoed value is cut
        details.append({"tham_so": where, "gia_tri": None if value is None else clip(str(value)), "yeu_cau": translate(expected, lang)})
    return answer(request, 422, {"loi": "; ".join(problems), "chi_tiet": details})


async def database_busy(request: Request, exc: Exception) -> Response:
    """The database could not be reached or stayed locked (another long write): 503, try again."""
    return answer(
        request,
        503,
        {
            "loi": translate("Cơ sở dữ liệu đang bận hoặc không truy cập được; vui lòng thử lại sau ít phút.", lang_of(request)),
            "chi_tiet": str(exc).splitlines()[0],
        },
        {"Retry-After": "30"},
    )


class LangCheck:
    """``lang`` on any URL must be vi or en (nongthon.lang.check_lang): anything else is answered 422 here, in
    front of the routes and of the cached answers, so no page or document is ever sent for an unknown language.
    A pure ASGI wrapper (as api/limits.py): a URL without ``lang`` costs one lookup in its query string."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        query = scope.get("query_string", b"") if scope["type"] == "http" else b""
        if b"lang" in query or b"%" in query:  # "%": a name written l%61ng is lang all the same
            try:
                for value in QueryParams(query).getlist("lang"):
                    check_lang(value)
            except InvalidParameter as exc:
                request = Request(scope, receive)
                await (await nongthon_error(request, exc))(scope, receive, send)
                return
        await self.app(scope, receive, send)
