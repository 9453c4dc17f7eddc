"""Routes. Each one validates its parameters, calls the library once and wraps the result."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import sqlalchemy.exc as sa_exc
from fastapi import Body, Depends, FastAPI, File, Header, Query, Request, Response, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi_offline import FastAPIOffline
from starlette.exceptions import HTTPException

from nongthon import entries
from nongthon.accounts import User, authenticate
from nongthon.errors import NongthonError
from nongthon.layers import commune_detail, summary
from nongthon.maps import map_html
from nongthon.progress import progress_report
from nongthon.projection import projection_report
from nongthon.province import Province, load_province
from nongthon.store import Store
from nongthon.workbooks import workbook_for_year

from .cache import LayerCache, Payload, none_match
from .errors import PayloadTooLarge, PreconditionRequired, database_busy, http_error, nongthon_error, server_error, validation_error
from .limits import BodyLimits
from .settings import Settings

YEAR_DOC = "Năm báo cáo (kỳ đánh giá). Mặc định: năm mới nhất có số liệu."
AS_OF_DOC = "Thời điểm ISO 8601 (ví dụ 2024-06-30T00:00:00Z): dữ liệu như đã biết lúc đó."


def send(request: Request, payload: Payload) -> Response:
    """The cached payload, gzip when the client accepts it, 304 when If-None-Match names the ETag of the
    representation it would get (gzip and identity each have their own)."""
    body, etag, encoding = payload.representation(request.headers.get("accept-encoding", ""))
    headers = {"ETag": etag, "Cache-Control": "no-cache", "Vary": "Accept-Encoding"}
    if none_match(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    if encoding:
        headers["Content-Encoding"] = encoding
    return Response(body, media_type=payload.media_type, headers=headers)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def bearer(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    return auth[7:].strip() if auth.lower().startswith("bearer ") else None


def create_app(db: str | Path | None = None, province: Province | None = None, settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings(db=str(db) if db is not None else Settings().db)
    store = Store.open(settings.db)
    province = province or load_province()
    cache = LayerCache(store, province)
    # /docs and /redoc from the assets in the fastapi-offline package, not a CDN: they work with no internet
    app = FastAPIOffline(
        title="nongthon",
        description="Theo dõi xây dựng nông thôn mới theo từng xã — lớp bản đồ (GeoJSON), báo cáo và bản đồ cho lãnh đạo.",
        version="0.1.0",
    )
    app.state.store, app.state.province, app.state.cache = store, province, cache
    app.add_exception_handler(NongthonError, nongthon_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(sa_exc.OperationalError, database_busy)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(Exception, server_error)
    # writes: the token before the body, and every body cut off at its limit while it streams in (api/limits.py)
    app.add_middleware(
        BodyLimits,
        store=store,
        limit_for=lambda scope: settings.max_upload_bytes if scope["path"] == "/api/imports" else settings.max_json_bytes,
        bearer=bearer,
    )

    def reader(request: Request) -> User | None:
        """Reads are open unless the setting requires at least a viewer token."""
        return authenticate(store, bearer(request)) if settings.require_viewer else None

    def writer(request: Request) -> User:
        user = authenticate(store, bearer(request))
        user.check_write(province.registry)
        return user

    def year_or_latest(year: int | None) -> int:
        if year is not None:
            return year
        stored = set(store.years_with_data())
        years = [y for y in province.catalogs.years() if y in stored]
        return max(years) if years else max(province.catalogs.years())

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/map")

    @app.get("/api/layers/communes", summary="Lớp xã (GeoJSON)", response_class=Response, dependencies=[Depends(reader)])
    def communes_layer(
        request: Request,
        year: int | None = Query(None, description=YEAR_DOC),
        criterion: int | None = Query(None, description="Số tiêu chí (1–19): thêm trạng thái của tiêu chí đó để tô màu."),
        as_of: datetime | None = Query(None, description=AS_OF_DOC),
        detail: str = Query("default", description="default (đơn giản hóa, ~1 m) hoặc full (hình học đầy đủ)."),
    ) -> Response:
        """Every commune-level unit with its tier, criteria met and the status of each criterion; see the README."""
        return send(request, cache.communes(year_or_latest(year), None if criterion is None else str(criterion), as_of, detail))

    @app.get("/api/layers/districts", summary="Lớp huyện (GeoJSON)", response_class=Response, dependencies=[Depends(reader)])
    def districts_layer(
        request: Request,
        year: int | None = Query(None, description=YEAR_DOC),
        as_of: datetime | None = Query(None, description=AS_OF_DOC),
        detail: str = Query("default"),
    ) -> Response:
        return send(request, cache.districts(year_or_latest(year), as_of, detail))

    @app.get("/api/communes/{code}", summary="Chi tiết một xã qua các năm", response_class=Response, dependencies=[Depends(reader)])
    def commune(request: Request, code: str, as_of: datetime | None = Query(None, description=AS_OF_DOC)) -> Response:
        entries.commune_unit(province, code)  # 404 with the allowed form for an unknown code
        return send(request, cache.document("commune", commune_detail, code, as_of))

    @app.get("/api/summary", summary="Báo cáo tổng hợp theo huyện và toàn tỉnh", response_class=Response, dependencies=[Depends(reader)])
    def summary_route(
        request: Request, year: int | None = Query(None, description=YEAR_DOC), as_of: datetime | None = Query(None, description=AS_OF_DOC)
    ) -> Response:
        return send(request, cache.document("summary", summary, year_or_latest(year), as_of))

    @app.get(
        "/api/progress",
        summary="Tiến độ so với mục tiêu và mốc (tỷ lệ thực tế, trạng thái từng mốc)",
        response_class=Response,
        dependencies=[Depends(reader)],
    )
    def progress_route(
        request: Request, year: int | None = Query(None, description=YEAR_DOC), as_of: datetime | None = Query(None, description=AS_OF_DOC)
    ) -> Response:
        return send(request, cache.document("progress", progress_report, year_or_latest(year), as_of))

    @app.get(
        "/api/projections",
        summary="Dự báo Monte Carlo đến năm đích, xác suất đạt từng mục tiêu và mốc",
        response_class=Response,
        dependencies=[Depends(reader)],
    )
    def projections_route(
        request: Request,
        horizon: int = Query(2025, description="Năm đích"),
        runs: int = Query(1000, description="Số lần mô phỏng (1–10000)"),
        start_year: int | None = Query(
            None,
            description="Năm bắt đầu (mặc định: năm cuối có số liệu trước năm đích, ghi trong nam_bat_dau_ghi_chu); tốc độ ước lượng từ số liệu đến năm này",
        ),
    ) -> Response:
        """Cached per version of the data. ``muc_tieu``: [{ma, mo_ta, xac_suat}] for every target and milestone."""
        return send(request, cache.document("projections", projection_report, horizon, runs, start_year))

    @app.get("/map", summary="Bản đồ cho lãnh đạo", response_class=Response, dependencies=[Depends(reader)])
    def map_page(request: Request, year: int | None = Query(None, description=YEAR_DOC)) -> Response:
        return send(request, cache.document("map", map_html, year_or_latest(year), media_type="text/html; charset=utf-8"))

    @app.get(
        "/api/communes/{code}/assessments/{year}",
        summary="Kết quả hiện hành của một xã trong một năm (kèm ETag)",
        dependencies=[Depends(reader)],
    )
    def get_assessments(code: str, year: int) -> JSONResponse:
        data = entries.current_assessments(store, province, code, year)
        return JSONResponse(data, headers={"ETag": entries.etag(code, year, data["phien_ban"]), "Cache-Control": "no-cache"})

    @app.put(
        "/api/communes/{code}/assessments/{year}",
        summary="Ghi kết quả của một xã trong một năm (cần If-Match)",
        responses={
            412: {"description": "If-Match không phải ETag hiện tại (cũ, của tài nguyên khác, sai dạng, thẻ yếu W/…); không ghi gì"},
            428: {"description": "Thiếu tiêu đề If-Match"},
        },
    )
    def put_assessments(
        code: str,
        year: int,
        body: dict = Body(
            ...,
            examples=[
                {
                    "ket_qua": [{"bo_tieu_chi": "ntm", "tieu_chi": "17", "ket_qua": "dat"}],
                    "nguon": "Biên bản thẩm định 12/2024",
                    "ghi_chu": "",
                }
            ],
        ),
        if_match: str | None = Header(
            None, description='ETag nhận được khi đọc kết quả của xã-năm này (ví dụ "22303-2024-3"), hoặc * nếu xã-năm đã có kết quả'
        ),
        user: User = Depends(writer),
    ) -> JSONResponse:
        """Results at criterion or indicator level, with their source and note. The write is refused with 412 when
        If-Match names no current tag of the commune-year: stale (someone else wrote since), another resource's,
        malformed or weak (weak tags never match for If-Match, RFC 9110 §13.1.1). `*` matches a commune-year that
        already has results (version ≥ 1); a first write sends the tag of version 0 from GET. 428 without If-Match."""
        if if_match is None:
            raise PreconditionRequired(
                f"Cần tiêu đề If-Match với ETag hiện tại của xã {code} năm {year} (đọc bằng GET /api/communes/{code}/assessments/{year}), "
                "để không ghi đè thay đổi của người khác."
            )
        items = body.get("ket_qua")
        if not isinstance(items, list):
            raise NongthonError("Thân yêu cầu cần khóa ket_qua: danh sách {bo_tieu_chi, tieu_chi, ket_qua}")
        done = entries.record_results(
            store,
            province,
            user,
            code,
            year,
            items,
            if_match=if_match,
            source=str(body.get("nguon") or f"sửa qua API bởi {user.name}"),
            note=body.get("ghi_chu"),
        )
        s = done.summary
        return JSONResponse(
            {"ma": code, "nam": year, "phien_ban": done.version, "moi": s.new, "thay_doi": s.changed, "khong_doi": s.unchanged},
            headers={"ETag": done.etag},
        )

    @app.post("/api/recognitions", summary="Ghi quyết định công nhận (hoặc thu hồi)", status_code=201)
    def post_recognition(
        body: dict = Body(
            ...,
            examples=[{"ma": "22303", "hang": "nang_cao", "so_quyet_dinh": "1234/QĐ-UBND", "ngay": "2024-12-20", "thao_tac": "cong_nhan"}],
        ),
        user: User = Depends(writer),
    ) -> JSONResponse:
        rid = entries.record_recognition(store, province, user, body)
        return JSONResponse({"id": rid}, status_code=201)

    @app.get(
        "/api/communes/{code}/history", summary="Lịch sử thay đổi của một xã: ai, khi nào, từ gì thành gì", dependencies=[Depends(reader)]
    )
    def commune_history(code: str) -> JSONResponse:
        return JSONResponse(entries.history(store, province, code))

    @app.get("/api/templates/{year}.xlsx", summary="Sổ Excel của một năm (mẫu nhập và bản xuất)", dependencies=[Depends(reader)])
    def template(year: int) -> Response:
        province.catalogs.for_year(year)
        name = f"nong-thon-moi-{year}.xlsx"
        return Response(
            workbook_for_year(store, province, year), media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{name}"'}
        )

    @app.post("/api/imports", summary="Nhập sổ Excel (hoặc CSV); dry_run=true chỉ kiểm tra và tóm tắt")
    def post_import(
        tep: UploadFile = File(..., description="Sổ .xlsx theo mẫu, hoặc CSV ma_xa,nam,bo_tieu_chi,tieu_chi,ket_qua"),
        dry_run: bool = Query(False),
        ghi_chu: str | None = Query(None),
        user: User = Depends(writer),
    ) -> JSONResponse:
        """A plain (not async) route: parsing and writing block, so they run in the worker threads, not on the
        event loop that serves everyone else."""
        data = tep.file.read(settings.max_upload_bytes + 1)
        if len(data) > settings.max_upload_bytes:
            raise PayloadTooLarge(f"Tệp quá lớn; tối đa {settings.max_upload_bytes // (1024 * 1024)} MB")
        result = entries.import_file(store, province, user, data, tep.filename or "tep-tai-len", dry_run=dry_run, note=ghi_chu)
        return JSONResponse(result)

    return app


def app_from_env() -> FastAPI:
    """For ``uvicorn --factory api.app:app_from_env``: settings from the environment (NONGTHON_DB, …)."""
    return create_app(settings=Settings.from_env())
