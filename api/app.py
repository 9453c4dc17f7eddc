"""Routes. Each one validates its parameters, calls the library once and wraps the result."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated

import sqlalchemy.exc as sa_exc
from fastapi import Body, Depends, FastAPI, File, Header, Query, Request, Response, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi_offline import FastAPIOffline
from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError
from starlette.exceptions import HTTPException

from nongthon import entries
from nongthon.accounts import User, authenticate
from nongthon.closeout import closeout_report
from nongthon.deployment import NATIONAL_PROFILE, Deployment, deployment_of
from nongthon.errors import InvalidParameter, NongthonError, clip
from nongthon.history import history_units, units_for_year
from nongthon.lang import check_lang, translate
from nongthon.layers import commune_detail, layer_units, summary
from nongthon.maps import FORECAST_PATH, map_forecasts, map_html, page_policy
from nongthon.national import ALL
from nongthon.progress import progress_report
from nongthon.projection import check_projection, projection_report
from nongthon.province import Province
from nongthon.store import Store
from nongthon.units import check_period, period_of_date
from nongthon.workbooks import workbook_for_year

from .cache import Answers, LayerCache, Payload, respond
from .errors import (
    LangCheck,
    PayloadTooLarge,
    PreconditionRequired,
    database_busy,
    http_error,
    lang_of,
    nongthon_error,
    server_error,
    validation_error,
)
from .headers import secure
from .jobs import Busy, JobPool
from .limits import BodyLimits
from .national import PROVINCE_DOC, National
from .national import router as national_router
from .ogc import router as ogc_router
from .settings import Settings

YEAR_DOC = "Năm báo cáo (kỳ đánh giá). Mặc định: năm mới nhất có số liệu."
UNITS_DOC = (
    "cu (đơn vị trước 1/7/2025) hoặc moi (từ 1/7/2025; mặc định: đơn vị hiện nay của tỉnh). Mã GSO được dùng lại: cùng mã, hai đơn vị."
)
LAYER_UNITS_DOC = (
    "cu (đơn vị trước 1/7/2025) hoặc moi (từ 1/7/2025). Mặc định: đơn vị của năm. Năm đến 2025 với moi: xã mới với trạng thái "
    "suy ra từ các xã cũ (suy_ra: true, không phải hạng). Từ 2026 chỉ còn đơn vị mới: cu là lỗi 422."
)
AS_OF_DOC = (
    "Thời điểm ISO 8601 (ví dụ 2024-06-30T00:00:00Z, 2024-06-30T07:00:00+07:00 hoặc ngày 2024-06-30; không có múi giờ là giờ UTC): "
    "dữ liệu như đã biết lúc đó. Không nhận số (giây Unix)."
)

MAP_PROVINCE_DOC = (
    "Chỉ khi cơ sở dữ liệu theo dõi toàn quốc: mã GSO của tỉnh mà bản đồ mở sẵn (ví dụ 66); all hoặc không có: mở trên toàn quốc."
)
LANG_DOC = "vi (mặc định) hoặc en: chữ trên trang, trong trang hướng dẫn của sổ và trong thông báo lỗi (lang nhận ở mọi đường dẫn)."


def _not_a_number(value: object) -> object:
    """as_of is a moment in ISO 8601. A bare number is refused: pydantic would read it as Unix seconds (or
    milliseconds past 2·10¹⁰), so as_of=2023 would silently mean 1970-01-01T00:33:43Z."""
    if isinstance(value, str | int | float) and re.fullmatch(r"\s*[+-]?[0-9.]+([eE][+-]?[0-9]+)?\s*", str(value)):
        raise PydanticCustomError(
            "as_of_number", "phải là thời điểm ISO 8601 (ví dụ 2024-06-30T00:00:00Z hoặc ngày 2024-06-30), không nhận số (giây Unix)"
        )
    return value


AsOf = Annotated[datetime | None, BeforeValidator(_not_a_number), Query(description=AS_OF_DOC)]  # every as_of parameter


def send(request: Request, payload: Payload) -> Response:
    """The cached payload, gzip when the client accepts it, 304 when If-None-Match names the ETag of the
    representation it would get (gzip and identity each have their own)."""
    return respond(payload, request.headers)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: what /map answers, each as an HTML page (errors too: outside /api an error is a page for people, api/errors.py)
PAGE_ANSWERS = {200: "Bản đồ (trang HTML)", 401: "Cần mã truy cập (khi đọc cần tài khoản xem)", 422: "Tham số không hợp lệ (trang HTML)"}


def bearer(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    return auth[7:].strip() if auth.lower().startswith("bearer ") else None


def create_app(db: str | Path | None = None, province: Province | None = None, settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings(db=str(db) if db is not None else Settings().db)
    store = Store.open(settings.db)
    # the province followed through time (nongthon/deployment.py): each year is shown in the province of its period;
    # a province given (tests, a profile file) is a deployment of that province alone
    deployment = Deployment(current=province) if province is not None else deployment_of(store)
    province = deployment.served()[0]  # the office's own oldest province: the one with districts, for account scopes
    cache = LayerCache(store, deployment)
    # projections run in worker processes of their own, never in the threads that serve reads (api/jobs.py)
    jobs = JobPool(settings.db, deployment, cache, settings.projection_workers, settings.projection_queue, settings.projection_retry_after)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI):  # noqa: ANN202
        yield
        jobs.close()  # queued projections cancelled, running ones abandoned: the server stops within seconds

    # /docs and /redoc from the assets in the fastapi-offline package, not a CDN: they work with no internet
    app = FastAPIOffline(
        title="nongthon",
        description="Theo dõi xây dựng nông thôn mới theo từng xã — lớp bản đồ (GeoJSON), báo cáo và bản đồ cho lãnh đạo.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.store, app.state.province, app.state.cache, app.state.jobs = store, province, cache, jobs
    app.state.deployment = deployment
    # a cached read asked again is answered in front of the routes while the data version is the same (api/cache.py)
    answers = None if settings.require_viewer else Answers(cache)
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
    if answers is not None:
        app.add_middleware(answers.wrap)
    app.add_middleware(LangCheck)  # lang=vi|en on any URL, else 422 (api/errors.py), before the cached answers
    secure(app)  # nosniff on every response; a Content-Security-Policy and a frame policy on every page (api/headers.py)

    async def reader(request: Request) -> User | None:
        """Reads are open unless the setting requires at least a viewer token (checked in a worker thread: the
        accounts are in the database)."""
        return await run_in_threadpool(authenticate, store, bearer(request)) if settings.require_viewer else None

    reading = [Depends(reader)] if settings.require_viewer else []  # the cached reads: no dependency to solve when reads are open

    def writer(request: Request) -> User:
        user = authenticate(store, bearer(request))
        user.check_write(province.registry)
        return user

    def year_or_latest(year: int | None, version: tuple | None = None) -> int | None:
        return year if year is not None else cache.default_year(version)

    async def cached(
        request: Request, read: Callable[[tuple | None], Payload | None], own: Callable[[Payload], dict] | None = None
    ) -> Response:
        """A cached read, ``read(version)``: answered on the event loop when the response is in memory for the
        data version this process knows (no database, no thread), and that answer kept for the next request of
        the same URL (api/cache.py, Answers); otherwise — the version is due for a check (every 0.25 s) or the
        response for a build — ``read(None)`` runs in a worker thread. ``own``: the response's own headers."""
        known = cache.known_version()
        payload = None if known is None else read(known)
        if payload is None:
            payload = await run_in_threadpool(read, None)
            return respond(payload, request.headers, own(payload) if own else None)
        extra = own(payload) if own else None
        if answers is not None:
            answers.keep(request.scope, known, payload, extra)
        return respond(payload, request.headers, extra)

    national = National(cache)  # the national view: all 34 provinces from 1 July 2025 (api/national.py)
    app.router.routes.extend(national_router(national, cached, reading).routes)
    # OGC API – Features at /ogc (api/ogc.py); its routes added flat: FastAPI's include_router nests them in a lazy
    # _IncludedRouter that the 405 answer (api/errors.py, Allow) and the fuzz test's list of routes do not see
    app.router.routes.extend(ogc_router(cache, national, reading).routes)

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/map")

    @app.get("/api/layers/communes", summary="Lớp xã (GeoJSON)", response_class=Response, dependencies=reading)
    async def communes_layer(
        request: Request,
        year: int | None = Query(None, description=YEAR_DOC),
        criterion: int | None = Query(None, description="Số tiêu chí (1–19): thêm trạng thái của tiêu chí đó để tô màu."),
        as_of: AsOf = None,
        detail: str = Query("default", description="default (đơn giản hóa, ~1 m) hoặc full (hình học đầy đủ)."),
        don_vi: str | None = Query(None, description=LAYER_UNITS_DOC),
        scope: str | None = Query(None, alias="province", description=PROVINCE_DOC),
    ) -> Response:
        """Every commune-level unit with its tier, criteria met and the status of each criterion; see the README.
        With don_vi=moi, a year up to 2025 in the new units: each new xã's derived state (suy_ra: true), never a tier.
        With province=all (or a province's code): the national view's communes (api/national.py)."""
        which = None if criterion is None else str(criterion)
        if scope is not None:
            return await cached(request, lambda v: national.communes(year, scope, which, as_of, detail, don_vi, v))

        def read(version: tuple | None) -> Payload | None:
            y = year_or_latest(year, version)
            return None if y is None else cache.communes(y, which, as_of, detail, version=version, don_vi=don_vi)

        return await cached(request, read)

    @app.get("/api/layers/districts", summary="Lớp huyện (GeoJSON)", response_class=Response, dependencies=reading)
    async def districts_layer(
        request: Request,
        year: int | None = Query(None, description=YEAR_DOC),
        as_of: AsOf = None,
        detail: str = Query("default"),
    ) -> Response:
        def read(version: tuple | None) -> Payload | None:
            y = year_or_latest(year, version)
            return None if y is None else cache.districts(y, as_of, detail, version=version)

        return await cached(request, read)

    @app.get("/api/communes/{code}", summary="Chi tiết một xã qua các năm", response_class=Response, dependencies=reading)
    async def commune(
        request: Request,
        code: str,
        as_of: AsOf = None,
        don_vi: str | None = Query(None, description=UNITS_DOC),
    ) -> Response:
        units = deployment.current.period if don_vi is None else check_period(don_vi)
        of_period = deployment.province_of_period(units)

        def read(version: tuple | None) -> Payload | None:
            if version is None:  # a response in memory is of a known code
                entries.commune_unit(of_period, code)  # 404 with the allowed form for an unknown code
            return cache.document("commune", commune_detail, code, as_of, version=version, province=of_period)

        return await cached(request, read)

    @app.get("/api/summary", summary="Báo cáo tổng hợp theo huyện và toàn tỉnh", response_class=Response, dependencies=reading)
    async def summary_route(request: Request, year: int | None = Query(None, description=YEAR_DOC), as_of: AsOf = None) -> Response:
        def read(version: tuple | None) -> Payload | None:
            y = year_or_latest(year, version)
            return None if y is None else cache.year_document("summary", summary, y, as_of, version=version)

        return await cached(request, read)

    @app.get(
        "/api/history/units",
        summary="Một năm theo đơn vị cũ hoặc mới: xã mới với trạng thái suy ra từ các xã cũ (không phải hạng) và quyết định đã có",
        response_class=Response,
        dependencies=reading,
        responses={422: {"description": "don_vi không phải cu hoặc moi; don_vi=cu cho năm từ 2026 (từ 2026 chỉ còn đơn vị mới)"}},
    )
    async def history_units_route(
        request: Request,
        year: int | None = Query(None, description=YEAR_DOC),
        don_vi: str | None = Query(
            None,
            description="cu (đơn vị trước 1/7/2025; mặc định cho năm đến 2025) hoặc moi (xã mới). Từ 2026 chỉ còn đơn vị mới: cu là lỗi 422.",
        ),
        as_of: AsOf = None,
    ) -> Response:
        """A year before 2026 in the new units: each new xã's derived state from its former xã (trang_thai_suy_ra, suy_ra:
        true — never a tier) and the decision taken for the new xã; or, with don_vi=cu, the former units with their own state."""

        def read(version: tuple | None) -> Payload | None:
            y = year_or_latest(year, version)
            if y is None:
                return None
            units_for_year(y, don_vi)  # the units rule (from 2026 only the new units) before the year's province
            return cache.year_document("history_units", history_units, y, don_vi, as_of, version=version)

        return await cached(request, read)

    @app.get(
        "/api/progress",
        summary="Tiến độ so với mục tiêu và mốc (tỷ lệ thực tế, trạng thái từng mốc)",
        response_class=Response,
        dependencies=reading,
    )
    async def progress_route(request: Request, year: int | None = Query(None, description=YEAR_DOC), as_of: AsOf = None) -> Response:
        def read(version: tuple | None) -> Payload | None:
            y = year_or_latest(year, version)
            return None if y is None else cache.year_document("progress", progress_report, y, as_of, version=version)

        return await cached(request, read)

    @app.get(
        "/api/closeout",
        summary="Báo cáo tổng kết giai đoạn (2021–2025): tỷ lệ cuối kỳ so với mục tiêu, các mốc, tiêu chí, dự báo so với thực tế",
        response_class=Response,
        dependencies=reading,
        responses={404: {"description": "Giai đoạn không có báo cáo tổng kết; thông báo nêu các giai đoạn có"}},
    )
    async def closeout_route(request: Request, period: str = Query("2021-2025", description="Giai đoạn, ví dụ 2021-2025")) -> Response:
        def read(version: tuple | None) -> Payload | None:
            return cache.document("closeout", closeout_report, period, version=version, province=deployment.province_of_period("cu"))

        return await cached(request, read)

    def token_user(request: Request) -> User | None:
        """The account of the token sent, if any (a wrong token is 401); a token is needed when reads need one."""
        token = bearer(request)
        return authenticate(store, token) if token or settings.require_viewer else None

    @app.get(
        "/api/projections",
        summary="Dự báo Monte Carlo đến năm đích, xác suất đạt từng mục tiêu và mốc",
        response_class=Response,
        responses={
            422: {"description": "runs quá giới hạn của người gọi, hoặc horizon sau năm cuối của bộ tiêu chí và bộ mục tiêu"},
            429: {"description": "Đã đủ số dự báo đang chạy và đang chờ; thử lại sau số giây trong Retry-After"},
        },
    )
    async def projections_route(
        request: Request,
        horizon: int | None = Query(
            None,
            description="Năm đích (mặc định: năm cuối của bộ tiêu chí của năm có số liệu mới nhất; 2030 với đơn vị mới, 2025 với đơn vị cũ)",
        ),
        runs: int = Query(1000, description="Số lần mô phỏng: 1–2000 khi không có mã truy cập, đến 10000 với quyền biên tập, quản trị"),
        start_year: int | None = Query(
            None,
            description="Năm bắt đầu (mặc định: năm cuối có số liệu trước năm đích, ghi trong nam_bat_dau_ghi_chu); tốc độ ước lượng từ số liệu đến năm này",
        ),
        user: User | None = Depends(token_user),
    ) -> Response:
        """Cached per version of the data. ``muc_tieu``: [{ma, mo_ta, xac_suat}] for every target and milestone.
        Computed in worker processes of their own, never in the threads that serve reads (api/jobs.py): identical
        requests share one computation, and when as many are running and waiting as the settings allow, 429."""
        limit = settings.max_runs_editor if user is not None and user.role in ("admin", "editor") else settings.max_runs_public
        if runs > limit:
            who = "người đọc không có mã truy cập" if user is None else "tài khoản quyền xem"
            raise InvalidParameter(
                f"runs={runs} vượt giới hạn {limit} lần mô phỏng cho {who}; mã truy cập của tài khoản biên tập hoặc quản trị "
                f"(tiêu đề Authorization: Bearer <mã truy cập>) nâng giới hạn lên {settings.max_runs_editor}."
            )

        def prepare() -> tuple:  # quick checks and the data version, in a thread: they read the database
            check_projection(of_horizon, store.years_with_data(), horizon, runs, start_year)
            return store.data_version()

        # the province of the horizon's period (a horizon no catalogue covers: today's, whose check names the years);
        # no horizon: the province of the latest year with data, to the last year of its catalogues
        year = horizon if horizon is not None else await run_in_threadpool(cache.default_year)
        of_horizon = deployment.province_for(year) if year in deployment.years() else deployment.current
        depends = await run_in_threadpool(prepare)
        try:
            payload = await jobs.document(
                ("projections", horizon, runs, start_year), depends, projection_report, of_horizon.period, horizon, runs, start_year
            )
        except Busy as exc:
            message = translate(str(exc), lang_of(request))
            return JSONResponse({"loi": message}, status_code=exc.status, headers={"Retry-After": str(exc.retry_after)})
        return send(request, payload)

    def own(payload: Payload) -> dict:  # a map page's own policy: its scripts by hash
        policy = page_policy(payload.body)
        return {"Content-Security-Policy": policy} if policy else {}

    @app.get(
        "/map",
        summary="Bản đồ cho lãnh đạo",
        response_class=Response,
        dependencies=reading,
        responses={
            code: {"description": what, "content": {"text/html": {"schema": {"type": "string"}}}} for code, what in PAGE_ANSWERS.items()
        },
    )
    async def map_page(
        request: Request,
        year: int | None = Query(None, description=YEAR_DOC),
        don_vi: str | None = Query(None, description=LAYER_UNITS_DOC),
        lang: str | None = Query(None, description=LANG_DOC),
        scope: str | None = Query(None, alias="province", description=MAP_PROVINCE_DOC),
    ) -> Response:
        language = check_lang(lang)
        if deployment.profile == NATIONAL_PROFILE:  # the whole country: the national page (api/national.py)
            return await cached(request, lambda v: national.map_page(year, scope or ALL, don_vi, language, v), own)
        if scope is not None:
            raise InvalidParameter(
                f"province={clip(repr(scope))}: chỉ dùng khi cơ sở dữ liệu theo dõi toàn quốc (nongthon demo --national); "
                f"cơ sở dữ liệu này theo dõi {deployment.current.name_vi}."
            )

        def read(version: tuple | None) -> Payload | None:
            y = year_or_latest(year, version)
            # forecast=False: the page carries the URL of its forecast (the route below), and no projection runs here
            if y is None:
                return None
            units = layer_units(y, don_vi)  # the units rule (from 2026 only the new units) before the year's province
            page = "text/html; charset=utf-8"
            return cache.year_document("map", map_html, y, False, units, language, media_type=page, version=version)

        return await cached(request, read, own)

    @app.get(
        FORECAST_PATH,
        summary="Dự báo cho khung bên của bản đồ /map: theo từng năm trang bản đồ có (trang tải về sau khi đã hiện)",
        response_class=Response,
        dependencies=reading,
    )
    async def map_forecast(request: Request, year: int | None = Query(None, description=YEAR_DOC)) -> Response:
        """``{"<year>": {nam, so_lan, hang, xac_suat} or null}`` for every year of the page /map?year=…: computed at the
        first request after a change of the data (Monte Carlo, maps.FORECAST_RUNS runs per year), then from memory."""

        def read(version: tuple | None) -> Payload | None:
            y = year_or_latest(year, version)
            return None if y is None else cache.year_document("map_forecast", map_forecasts, y, version=version)

        return await cached(request, read)

    @app.get(
        "/api/communes/{code}/assessments/{year}",
        summary="Kết quả hiện hành của một xã trong một năm (kèm ETag)",
        dependencies=[Depends(reader)],
    )
    def get_assessments(code: str, year: int) -> JSONResponse:
        data = entries.current_assessments(store, cache.province_for(year), code, year)
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
            cache.province_for(year),
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

    @app.post(
        "/api/recognitions",
        summary="Ghi quyết định công nhận (hoặc thu hồi)",
        status_code=201,
        responses={200: {"description": "Quyết định này (cùng xã, hạng, thao tác, số và ngày) đã được ghi: id của nó, không ghi thêm"}},
    )
    def post_recognition(
        body: dict = Body(
            ...,
            examples=[{"ma": "22303", "hang": "nang_cao", "so_quyet_dinh": "1234/QĐ-UBND", "ngay": "2024-12-20", "thao_tac": "cong_nhan"}],
        ),
        user: User = Depends(writer),
    ) -> JSONResponse:
        """Idempotent: the same decision sent again (a retry after a lost answer) is not recorded twice; 200 with
        the id recorded first and da_co: true, where a new decision gets 201."""
        try:  # the decision's date says whose units it is about (before or from 1 July 2025)
            of_date = deployment.province_of_period(period_of_date(str(body.get("ngay"))[:10]))
        except NongthonError:
            of_date = deployment.current  # an unreadable date: refused by the record, with its own message
        done = entries.record_recognition(store, of_date, user, body)
        if done.new:
            return JSONResponse({"id": done.id, "da_co": False}, status_code=201)
        return JSONResponse({"id": done.id, "da_co": True, "thong_bao": done.message}, status_code=200)

    @app.get(
        "/api/communes/{code}/history", summary="Lịch sử thay đổi của một xã: ai, khi nào, từ gì thành gì", dependencies=[Depends(reader)]
    )
    def commune_history(code: str) -> JSONResponse:
        return JSONResponse(entries.history(store, province, code))

    @app.get(
        "/api/templates/{year}.xlsx",
        summary="Sổ Excel của một năm (mẫu nhập và bản xuất)",
        response_class=Response,
        dependencies=[Depends(reader)],
        responses={200: {"description": "Sổ Excel (.xlsx)", "content": {XLSX: {"schema": {"type": "string", "format": "binary"}}}}},
    )
    def template(year: int, lang: str | None = Query(None, description=LANG_DOC)) -> Response:
        of_year = cache.province_for(year)
        name = f"nong-thon-moi-{year}.xlsx"
        body = workbook_for_year(store, of_year, year, check_lang(lang))
        return Response(body, media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{name}"'})

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
        result = entries.import_file(store, deployment, user, data, tep.filename or "tep-tai-len", dry_run=dry_run, note=ghi_chu)
        return JSONResponse(result)

    return app


def app_from_env() -> FastAPI:
    """For ``uvicorn --factory api.app:app_from_env``: settings from the environment (NONGTHON_DB, …)."""
    return create_app(settings=Settings.from_env())
