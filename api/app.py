"""Routes. Each one validates its parameters, calls the library once and wraps the result."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from fastapi import FastAPI, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse

from nongthon.errors import NongthonError, UnknownUnit
from nongthon.layers import LayerCache, Payload, commune_detail, summary
from nongthon.maps import map_html
from nongthon.province import Province, load_province
from nongthon.store import Store

from .errors import nongthon_error, validation_error

YEAR_DOC = "Năm báo cáo (kỳ đánh giá). Mặc định: năm mới nhất có số liệu."
AS_OF_DOC = "Thời điểm ISO 8601 (ví dụ 2024-06-30T00:00:00Z): dữ liệu như đã biết lúc đó."


def send(request: Request, payload: Payload) -> Response:
    """The cached payload, gzip when the client accepts it, 304 when its ETag is current."""
    headers = {"ETag": payload.etag, "Cache-Control": "no-cache", "Vary": "Accept-Encoding"}
    inm = request.headers.get("if-none-match", "")
    if payload.etag in [t.strip() for t in inm.split(",")] or inm.strip() == "*":
        return Response(status_code=304, headers=headers)
    if "gzip" in request.headers.get("accept-encoding", ""):
        return Response(payload.gzipped, media_type=payload.media_type, headers={**headers, "Content-Encoding": "gzip"})
    return Response(payload.body, media_type=payload.media_type, headers=headers)


def create_app(db: str | Path, province: Province | None = None) -> FastAPI:
    store = Store.open(db)
    province = province or load_province()
    cache = LayerCache(store, province)
    app = FastAPI(
        title="nongthon",
        description="Theo dõi xây dựng nông thôn mới theo từng xã — lớp bản đồ (GeoJSON), báo cáo và bản đồ cho lãnh đạo.",
        version="0.1.0",
    )
    app.state.store, app.state.province, app.state.cache = store, province, cache
    app.add_exception_handler(NongthonError, nongthon_error)
    app.add_exception_handler(RequestValidationError, validation_error)

    def year_or_latest(year: int | None) -> int:
        if year is not None:
            return year
        years = [y for y in province.catalogs.years() if y in set(store.current_results()["year"])]
        return max(years) if years else max(province.catalogs.years())

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/map")

    @app.get("/api/layers/communes", summary="Lớp xã (GeoJSON)", response_class=Response)
    def communes_layer(
        request: Request,
        year: int | None = Query(None, description=YEAR_DOC),
        criterion: int | None = Query(None, description="Số tiêu chí (1–19): thêm trạng thái của tiêu chí đó để tô màu."),
        as_of: datetime | None = Query(None, description=AS_OF_DOC),
        detail: str = Query("default", description="default (đơn giản hóa, ~1 m) hoặc full (hình học đầy đủ)."),
    ) -> Response:
        """Every commune-level unit with its tier, criteria met and the status of each criterion; see the README."""
        return send(request, cache.communes(year_or_latest(year), None if criterion is None else str(criterion), as_of, detail))

    @app.get("/api/layers/districts", summary="Lớp huyện (GeoJSON)", response_class=Response)
    def districts_layer(
        request: Request,
        year: int | None = Query(None, description=YEAR_DOC),
        as_of: datetime | None = Query(None, description=AS_OF_DOC),
        detail: str = Query("default"),
    ) -> Response:
        return send(request, cache.districts(year_or_latest(year), as_of, detail))

    @app.get("/api/communes/{code}", summary="Chi tiết một xã qua các năm", response_class=Response)
    def commune(request: Request, code: str, as_of: datetime | None = Query(None, description=AS_OF_DOC)) -> Response:
        units = province.registry.units
        if code not in units.index or units.at[code, "level"] != "commune":
            raise UnknownUnit(
                f"Không có xã/phường/thị trấn mã {code!r} trong danh mục {province.registry.province_name}; mã gồm 5 chữ số, ví dụ 22303."
            )
        return send(request, cache.document("commune", commune_detail, code, as_of))

    @app.get("/api/summary", summary="Báo cáo tổng hợp theo huyện và toàn tỉnh", response_class=Response)
    def summary_route(
        request: Request, year: int | None = Query(None, description=YEAR_DOC), as_of: datetime | None = Query(None, description=AS_OF_DOC)
    ) -> Response:
        return send(request, cache.document("summary", summary, year_or_latest(year), as_of))

    @app.get("/map", summary="Bản đồ cho lãnh đạo", response_class=Response)
    def map_page(request: Request, year: int | None = Query(None, description=YEAR_DOC)) -> Response:
        return send(request, cache.document("map", map_html, year_or_latest(year), media_type="text/html; charset=utf-8"))

    return app


def app_from_env() -> FastAPI:
    """For ``uvicorn --factory api.app:app_from_env``: the database from NONGTHON_DB (default nongthon.db)."""
    return create_app(os.environ.get("NONGTHON_DB", "nongthon.db"))
