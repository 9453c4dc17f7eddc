"""The one table that maps library exceptions to HTTP answers. Bodies are JSON: {"loi": message}."""

from __future__ import annotations

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from nongthon.accounts import AccountError, NotAllowed, NotAuthenticated
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


async def nongthon_error(_request: Request, exc: NongthonError) -> JSONResponse:
    status = status_of(exc)
    body: dict = {"loi": str(exc)}
    if isinstance(exc, ImportRejected):
        body = {
            "loi": exc.headline(),
            "so_loi": len(exc.errors),
            "cac_loi": [
                {"trang": e.sheet, "dong": e.row, "cot": e.column, "gia_tri": str(e.value), "thong_bao": e.message} for e in exc.errors
            ],
        }
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, headers=headers)


#: what a parameter must look like, by pydantic's error type
EXPECTED_VI = {
    "int_parsing": "phải là số nguyên (ví dụ 2023)",
    "int_type": "phải là số nguyên (ví dụ 2023)",
    "datetime_parsing": "phải là thời điểm ISO 8601, ví dụ 2024-06-30T00:00:00Z",
    "datetime_from_date_parsing": "phải là thời điểm ISO 8601, ví dụ 2024-06-30T00:00:00Z",
    "missing": "là bắt buộc",
}


async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
    problems, details = [], []
    for e in exc.errors():
        where = ".".join(str(x) for x in e.get("loc", ()) if x not in ("query", "path", "body"))
        value = e.get("input")
        expected = EXPECTED_VI.get(e.get("type", ""), e.get("msg", ""))
        problems.append(f"tham số {where}={value!r}: {expected}")
        details.append({"tham_so": where, "gia_tri": None if value is None else str(value), "yeu_cau": expected})
    return JSONResponse({"loi": "; ".join(problems), "chi_tiet": details}, status_code=422)


async def database_busy(_request: Request, exc: Exception) -> JSONResponse:
    """The database could not be reached or stayed locked (another long write): 503, try again."""
    return JSONResponse(
        {"loi": "Cơ sở dữ liệu đang bận hoặc không truy cập được; vui lòng thử lại sau ít phút.", "chi_tiet": str(exc).splitlines()[0]},
        status_code=503,
        headers={"Retry-After": "30"},
    )
