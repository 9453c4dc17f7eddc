"""The one table that maps library exceptions to HTTP answers, and the one way an error leaves the app:
under /api and /ogc a JSON body {"loi": message}; anywhere else (the /map page, an unknown page) an HTML
page in Vietnamese from templates/loi.html, with the same status and message and a link back to the map."""

from __future__ import annotations

from html import escape
from pathlib import Path
from string import Template

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException
from starlette.routing import Match

from nongthon.accounts import AccountError, NotAllowed, NotAuthenticated
from nongthon.entries import PreconditionFailed
from nongthon.errors import CatalogError, ImportRejected, InvalidParameter, NongthonError, StoreError, UnknownUnit, UnknownYear
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


def answer(request: Request, status: int, body: dict, headers: dict | None = None) -> Response:
    """JSON under /api and /ogc; an HTML page elsewhere (the message escaped: it may repeat user text)."""
    path = request.url.path
    if any(path == p or path.startswith(p + "/") for p in JSON_PATHS):
        return JSONResponse(body, status_code=status, headers=headers)
    page = PAGE.substitute(status=status, title=escape(TITLES.get(status, "Có lỗi")), message=escape(body["loi"]))
    return HTMLResponse(page, status_code=status, headers=headers)


async def nongthon_error(request: Request, exc: NongthonError) -> Response:
    status = status_of(exc)
    body: dict = {"loi": str(exc)}
    if isinstance(exc, ImportRejected):
        # bounded whatever the file: the first errors (values cut short), the total, and a count per column and kind
        body = {
            "loi": exc.headline(),
            "so_loi": exc.total,
            "cac_loi": [
                {"trang": e.sheet, "dong": e.row, "cot": e.column, "gia_tri": str(e.value), "thong_bao": e.message} for e in exc.errors
            ],
            "tom_tat": [{"trang": g.sheet, "cot": g.column, "thong_bao": g.kind, "so_loi": g.count} for g in exc.summary],
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
    return answer(request, status, {"loi": message}, headers)


async def server_error(request: Request, _exc: Exception) -> Response:
    """Anything unforeseen: 500 in the same form (the details go to the server log, not to the client)."""
    return answer(request, 500, {"loi": "Lỗi máy chủ không lường trước; không có gì được ghi thêm. Vui lòng báo quản trị viên."})


#: what a parameter must look like, by pydantic's error type
EXPECTED_VI = {
    "int_parsing": "phải là số nguyên (ví dụ 2023)",
    "int_type": "phải là số nguyên (ví dụ 2023)",
    "datetime_parsing": "phải là thời điểm ISO 8601, ví dụ 2024-06-30T00:00:00Z",
    "datetime_from_date_parsing": "phải là thời điểm ISO 8601, ví dụ 2024-06-30T00:00:00Z",
    "missing": "là bắt buộc",
}


async def validation_error(request: Request, exc: RequestValidationError) -> Response:
    problems, details = [], []
    for e in exc.errors():
        where = ".".join(str(x) for x in e.get("loc", ()) if x not in ("query", "path", "body"))
        value = e.get("input")
        expected = EXPECTED_VI.get(e.get("type", ""), e.get("msg", ""))
        problems.append(f"tham số {where}={value!r}: {expected}")
        details.append({"tham_so": where, "gia_tri": None if value is None else str(value), "yeu_cau": expected})
    return answer(request, 422, {"loi": "; ".join(problems), "chi_tiet": details})


async def database_busy(request: Request, exc: Exception) -> Response:
    """The database could not be reached or stayed locked (another long write): 503, try again."""
    return answer(
        request,
        503,
        {"loi": "Cơ sở dữ liệu đang bận hoặc không truy cập được; vui lòng thử lại sau ít phút.", "chi_tiet": str(exc).splitlines()[0]},
        {"Retry-After": "30"},
    )
