"""The national view's routes (the documents: nongthon/national.py), served like every cached read: built once per
data version by the app's LayerCache (``document``: gzip, ETags, 304, least recently used first) and answered from
memory on the event loop while that version holds (api/app.py ``cached``).

- ``GET /api/layers/provinces?year=Y`` — the 34 provinces, each with its row of the national report (``ty_le_ntm``:
  the share of NTM xã, what the map colours by);
- ``GET /api/layers/communes?year=Y&province=all`` — every commune-level unit of the country; ``province=66`` those of
  one province (the route is the app's communes route, which hands ``province`` here: :meth:`National.communes`);
- ``GET /api/national/summary?year=Y`` — the report per province and for the nation;
- ``GET /map`` on a store that follows the whole country (the app's map route hands it here: :meth:`National.map_page`)
  — the page that opens on the nation (``province=66``: on one province) and fetches a province's communes above.

Geometry is kept apart, per boundary version (a write of results rebuilds only properties): the national view's
communes and provinces, and each province's communes, the ``GEOMETRY`` most recently used.
"""

import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

from fastapi import APIRouter, Query, Request, Response

from nongthon.layers import check_detail, check_year, layer_units
from nongthon.maps import national_map_html
from nongthon.national import (
    ALL,
    ViewGeometry,
    check_province,
    commune_layer,
    national_province,
    national_summary,
    province_layer,
    view_geometry,
)
from nongthon.store import to_utc_naive

from .cache import LayerCache, Payload

GEOJSON = "application/geo+json"
GEOMETRY = 8  # geometries kept: the nation's and a few provinces', at a detail each
PROVINCE_DOC = (
    "Xem toàn quốc (đơn vị từ 1/7/2025, năm từ 2026): all (mọi xã, phường, đặc khu của 34 tỉnh, thành phố) hoặc mã GSO của một "
    "tỉnh (ví dụ 66). Không có tham số: các xã của tỉnh đang theo dõi."
)
NATIONAL_YEAR_DOC = "Năm báo cáo (từ 2026, đơn vị hành chính mới). Mặc định: năm mới nhất có số liệu."
DETAIL_DOC = "default (đơn giản hóa cho cả nước, ~1 km) hoặc full (hình học đầy đủ)."

Read = Callable[[tuple | None], Payload | None]


class National:
    """The national view's responses over a LayerCache (its store and its response cache)."""

    def __init__(self, cache: LayerCache) -> None:
        self.cache = cache
        self._geometry: OrderedDict[tuple, ViewGeometry] = OrderedDict()
        self._lock = threading.Lock()
        self._building: dict[tuple, threading.Lock] = {}

    def geometry(self, scope: str, detail: str) -> ViewGeometry:
        """The geometry of ``scope`` (all, or a province's code) at ``detail``, built once per boundary version."""
        key = (self.cache.version()[2], scope, detail)
        with self._lock:
            lock = self._building.setdefault(key, threading.Lock())
        with lock:
            with self._lock:
                hit = self._geometry.get(key)
                if hit is not None:
                    self._geometry.move_to_end(key)
                    return hit
            built = view_geometry(self.cache.store, scope, detail)
            with self._lock:
                self._geometry[key] = built
                while len(self._geometry) > GEOMETRY:
                    old, _ = self._geometry.popitem(last=False)
                    self._building.pop(old, None)
            return built

    def year(self, year: int | None, version: tuple | None) -> int | None:
        """The year asked, else the latest with data among the national view's years (2026–2030) — the deployment's
        default year when it is one of them. With ``version``: only what needs no query (None otherwise)."""
        if year is not None:
            return year
        default = self.cache.default_year(version)
        years = national_province().catalogs.years()
        if default is None or default in years:
            return default
        if version is not None:
            return None
        stored = set(self.cache.store.years_with_data())
        return max([y for y in years if y in stored] or years)

    def _document(self, name: str, builder, *args, media_type: str, version: tuple | None) -> Payload | None:  # noqa: ANN001
        return self.cache.document(name, builder, *args, media_type=media_type, version=version, province=national_province())

    def communes(
        self,
        year: int | None,
        scope: str,
        criterion: str | None,
        as_of: datetime | None,
        detail: str,
        don_vi: str | None,
        version: tuple | None,
    ) -> Payload | None:
        """The communes layer of the nation (``scope`` all) or of one province (its GSO code; another code: 404
        naming the codes)."""
        scope = check_province(scope)
        check_detail(detail)
        y = self.year(year, version)
        if y is None:
            return None
        layer_units(y, don_vi, criterion)  # from 2026 only the new units: don_vi=cu is refused

        def build(store, nation, y, scope, criterion, as_of, detail) -> str:  # noqa: ANN001
            check_year(nation, y)  # before any geometry is built
            return commune_layer(store, nation, y, scope, criterion, as_of, self.geometry(scope, detail))

        as_of = to_utc_naive(as_of) if as_of is not None else None
        return self._document("national_communes", build, y, scope, criterion, as_of, detail, media_type=GEOJSON, version=version)

    def provinces(self, year: int | None, as_of: datetime | None, detail: str, version: tuple | None) -> Payload | None:
        """The province layer: 34 features coloured by share of NTM xã, each the union of its communes."""
        check_detail(detail)
        y = self.year(year, version)
        if y is None:
            return None

        def build(store, nation, y, as_of, detail) -> str:  # noqa: ANN001
            check_year(nation, y)
            return province_layer(store, nation, y, as_of, self.geometry(ALL, detail))

        as_of = to_utc_naive(as_of) if as_of is not None else None
        return self._document("national_provinces", build, y, as_of, detail, media_type=GEOJSON, version=version)

    def map_page(self, year: int | None, scope: str, don_vi: str | None, lang: str, version: tuple | None) -> Payload | None:
        """The /map page of a store that follows the whole country (maps.national_map_html): the provinces and the
        report rows of every year, opened on the nation (``scope`` all) or on one province (its GSO code; another
        code: 404 naming the codes); the page fetches a province's communes itself."""
        scope = check_province(scope)
        y = self.year(year, version)
        if y is None:
            return None
        layer_units(y, don_vi)  # from 2026 only the new units: don_vi=cu is refused

        def build(store, nation, y, scope, lang) -> str:  # noqa: ANN001
            check_year(nation, y)  # before any geometry is built
            return national_map_html(store, nation, y, scope, lang, self.geometry(ALL, "default"))

        return self._document("national_map", build, y, scope, lang, media_type="text/html; charset=utf-8", version=version)

    def summary(self, year: int | None, as_of: datetime | None, version: tuple | None) -> Payload | None:
        y = self.year(year, version)
        if y is None:
            return None
        as_of = to_utc_naive(as_of) if as_of is not None else None
        return self._document("national_summary", national_summary, y, as_of, media_type="application/json", version=version)


def router(national: National, cached: Callable[[Request, Read], Awaitable[Response]], dependencies: Sequence[object] = ()) -> APIRouter:
    """The national view's own routes (the communes layer with ``province`` is the app's communes route). ``cached``:
    the app's way of answering a cached read; ``dependencies``: those of every read."""
    from .app import AsOf  # the as_of parameter every route takes (ISO 8601, never a bare number)

    r = APIRouter(tags=["Toàn quốc"], dependencies=list(dependencies))
    errors = {404: {"description": "Năm không thuộc bộ tiêu chí 2026–2030"}, 422: {"description": "Tham số không hợp lệ"}}

    @r.get(
        "/api/layers/provinces", summary="Lớp tỉnh toàn quốc (GeoJSON): tỷ lệ xã đạt chuẩn NTM", response_class=Response, responses=errors
    )
    async def provinces_layer(
        request: Request,
        year: int | None = Query(None, description=NATIONAL_YEAR_DOC),
        as_of: AsOf = None,
        detail: str = Query("default", description=DETAIL_DOC),
    ) -> Response:
        """The 34 provinces from 1 July 2025, each the union of its communes, with ``so_xa``, ``dat_ntm``, ``ty_le_ntm``
        (the share of NTM xã), ``binh_quan_tieu_chi`` …; the collection carries ``toan_quoc``, the nation's row."""
        return await cached(request, lambda version: national.provinces(year, as_of, detail, version))

    @r.get("/api/national/summary", summary="Báo cáo toàn quốc theo tỉnh", response_class=Response, responses=errors)
    async def national_summary_route(
        request: Request, year: int | None = Query(None, description=NATIONAL_YEAR_DOC), as_of: AsOf = None
    ) -> Response:
        """``tinh``: per province the number of xã, NTM, ``ty_le_ntm``, average criteria met and the bands; ``toan_quoc``:
        the nation."""
        return await cached(request, lambda version: national.summary(year, as_of, version))

    return r
