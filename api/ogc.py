"""OGC API – Features at /ogc (the documents: nongthon/ogc.py). Thin: each route checks its parameters, takes the
layer from the response cache (api/cache.py, the same payload GET /api/layers/… sends) and answers a document made
from it — a page of items is a slice of that cached feature collection, never a new query. On a store that follows
the whole country, the national view's layers too (``provinces``, ``communes-all``: the documents of the app's
National object, api/national.py, the payloads GET /api/layers/provinces and /api/layers/communes?province=all send).

Two small bounded stores of its own, both keyed by the ETag of the layer payload they come from (so a change of
data is a new key, and what is no longer used ages out): the layer parsed and indexed for slicing (``LAYERS``
most recent), and the documents built from it, serialised with their gzip form and ETags (``DOCUMENTS`` most
recent, ``DOCUMENT_BYTES`` at most), so a page asked again costs what sending it costs; If-None-Match gives 304
as on every cached route.

JSON (GeoJSON for features) by default; HTML with ``f=html`` or when the Accept header prefers text/html.
Errors: 400 for a parameter not taken or a value not allowed, 404 for an unknown collection or feature, as JSON
``{"code", "description", "loi"}`` (the exception of the OGC standard, and this app's ``loi``)."""

from __future__ import annotations

import functools
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from nongthon import ogc
from nongthon.deployment import NATIONAL_PROFILE
from nongthon.errors import InvalidParameter, UnknownYear
from nongthon.layers import UnknownCriterion
from nongthon.national import ALL, NATIONAL_NAME_VI, codes, national_registry

from .cache import LayerCache, Payload, respond
from .national import National

LAYERS = 4  # parsed layers (one per collection, year, criterion and as_of in use)
DOCUMENTS = 256  # serialised documents (pages, collections, …) …
DOCUMENT_BYTES = 32 * 1024 * 1024  # … and their bytes (identity and gzip forms together)
HTML_TYPE = "text/html; charset=utf-8"
VARY = {"Vary": "Accept, Accept-Encoding"}


class Kept:
    """A small least-recently-used store, safe across the event loop and the worker threads: at most ``limit``
    entries and, when ``weigh`` is given, at most ``budget`` in their summed weight."""

    def __init__(self, limit: int, weigh: Callable[[object], int] | None = None, budget: int = 0) -> None:
        self.limit, self.weigh, self.budget = limit, weigh, budget
        self._items: OrderedDict[Hashable, tuple[object, int]] = OrderedDict()
        self._weight = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> object | None:
        with self._lock:
            hit = self._items.get(key)
            if hit is None:
                return None
            self._items.move_to_end(key)
            return hit[0]

    def put(self, key: Hashable, value: object) -> None:
        weight = self.weigh(value) if self.weigh else 0
        with self._lock:
            old = self._items.pop(key, None)
            self._weight += weight - (old[1] if old else 0)
            self._items[key] = (value, weight)
            while len(self._items) > self.limit or (self.weigh and self._weight > self.budget and len(self._items) > 1):
                _, (_, w) = self._items.popitem(last=False)
                self._weight -= w

    def __len__(self) -> int:
        return len(self._items)


def prefers_html(accept: str) -> bool:
    """Whether an Accept header ranks text/html above JSON (``*/*`` alone is JSON: programs get data)."""
    ranks: dict[str, float] = {}
    for part in accept.split(","):
        media, *params = [p.strip() for p in part.split(";")]
        q = 1.0
        for p in params:
            if p.startswith("q="):
                try:
                    q = float(p[2:])
                except ValueError:
                    q = 0.0
        ranks[media.lower()] = max(q, ranks.get(media.lower(), 0.0))
    html = max(ranks.get("text/html", 0.0), ranks.get("application/xhtml+xml", 0.0))
    data = max(ranks.get(t, 0.0) for t in ("application/json", "application/geo+json", "application/*"))
    return html > 0 and html > data


def problem(status: int, exc: Exception) -> JSONResponse:
    code = "NotFound" if status == 404 else "InvalidParameterValue"
    return JSONResponse({"code": code, "description": str(exc), "loi": str(exc)}, status_code=status)


def answers_errors(route: Callable) -> Callable:
    """The route's refusals as the OGC API answers them: 404 for an unknown collection or feature, 400 for the rest."""

    @functools.wraps(route)
    async def guarded(*args, **kwargs) -> Response:  # noqa: ANN002, ANN003
        try:
            return await route(*args, **kwargs)
        except ogc.NotFound as exc:
            return problem(404, exc)
        except ogc.BadParameter as exc:
            return problem(400, exc)
        except UnknownCriterion as exc:
            return problem(400, ogc.BadParameter(f"Tham số tieu_chi: {exc}"))
        except (InvalidParameter, UnknownYear) as exc:
            return problem(400, exc)

    return guarded


#: the documents' answers, for /docs (the OGC definition itself is /ogc/api, OpenAPI 3.0)
ERRORS = {
    400: {"description": "Tham số không dùng được hoặc giá trị không hợp lệ (JSON: code, description, loi)"},
    404: {"description": "Không có lớp hoặc đối tượng này (JSON: code, description, loi)"},
}
JSON_OR_HTML = {200: {"content": {"application/json": {"schema": {"type": "object"}}, "text/html": {"schema": {"type": "string"}}}}}
GEOJSON_OR_HTML = {200: {"content": {"application/geo+json": {"schema": {"type": "object"}}, "text/html": {"schema": {"type": "string"}}}}}


def _query(name: str, description: str) -> dict:
    return {"name": name, "in": "query", "required": False, "schema": {"type": "string"}, "description": description}


#: the query parameters of the /ogc routes, for the app's /docs only: the routes read them themselves
#: (ogc.parse_query, a 400 naming a bad one), so that FastAPI validates nothing and solves no dependency per request
LAYER_QUERY = {
    "parameters": [
        _query("nam", "Năm báo cáo (mặc định: năm mới nhất có số liệu)"),
        _query("tieu_chi", "Số tiêu chí (chỉ các lớp xã: communes, communes-all)"),
        _query("as_of", "Thời điểm ISO 8601: dữ liệu như đã biết lúc đó"),
        _query("f", "json (mặc định cho chương trình) hoặc html (trang web; cũng khi Accept ưu tiên text/html)"),
    ]
}
PAGE_QUERY = {
    "parameters": [
        _query("limit", f"Số đối tượng của một trang: 1–{ogc.MAX_LIMIT} (mặc định {ogc.DEFAULT_LIMIT})"),
        _query("offset", "Số đối tượng bỏ qua (mặc định 0)"),
        _query("bbox", "Kinh độ tây, vĩ độ nam, kinh độ đông, vĩ độ bắc (WGS 84), ví dụ 108.9,12.8,109.5,13.7"),
        _query("datetime", "Thời điểm hoặc khoảng RFC 3339; thời gian của đối tượng là năm nam"),
        *LAYER_QUERY["parameters"],
    ]
}


def router(cache: LayerCache, national: National, dependencies: Sequence[object] = ()) -> APIRouter:
    """The /ogc routes over ``cache`` (its deployment and its layers: each year in the province of its period) and,
    when the store follows the whole country, over ``national`` (the national view's layers, from the same cache);
    ``dependencies``: those of every read (a viewer's token when reads need one)."""
    whole_country = cache.deployment.profile == NATIONAL_PROFILE
    ids = ogc.collection_ids((p.registry for p in cache.deployment.served()), national=whole_country)
    years = cache.deployment.years()  # the national view's years (from 2026) on a store that follows the whole country
    today = cache.province.registry.province_name
    layers = Kept(LAYERS)
    documents = Kept(DOCUMENTS, lambda p: len(p.body) + len(p.gzipped), DOCUMENT_BYTES)
    r = APIRouter(prefix="/ogc", tags=["OGC API – Features"], dependencies=list(dependencies))

    def base(request: Request) -> str:
        return str(request.base_url).rstrip("/") + "/ogc"

    def checked(request: Request, allowed: tuple[str, ...] = ogc.FILTERS["communes"]) -> tuple[ogc.Query, str]:
        """The query checked (by default the layer's filters only: taken everywhere, since GDAL repeats a URL's query
        on every request), and the format asked."""
        query = ogc.parse_query(request.query_params.multi_items(), allowed, years)
        fmt = query.f or ("html" if prefers_html(request.headers.get("accept", "")) else "json")
        return query, fmt

    async def layer(collection_id: str, query: ogc.Query) -> tuple[ogc.Layer, str]:
        """The layer as GET /api/layers/… has it in the cache (built in a thread when it is not), parsed and
        indexed once per payload; and the payload's ETag."""

        def read(version: tuple | None) -> Payload | None:
            if collection_id == "provinces":
                return national.provinces(query.nam, query.as_of, "default", version)
            if collection_id == "communes-all":
                return national.communes(query.nam, ALL, query.tieu_chi, query.as_of, "default", None, version)
            year = query.nam if query.nam is not None else cache.default_year(version)
            if year is None:
                return None
            if collection_id == "communes":
                return cache.communes(year, query.tieu_chi, query.as_of, version=version)
            return cache.districts(year, query.as_of, version=version)

        known = cache.known_version()
        payload = None if known is None else read(known)
        if payload is None:
            payload = await run_in_threadpool(read, None)
        prepared = layers.get(payload.etag)
        if prepared is None:
            prepared = await run_in_threadpool(lambda: ogc.prepare(json.loads(payload.body)))
            layers.put(payload.etag, prepared)
        return prepared, payload.etag

    async def send(request: Request, key: tuple, build: Callable[[], dict | str], media_type: str) -> Response:
        """The document of ``key``, built (in a thread) and kept when it is not kept already."""
        payload = documents.get(key)
        if payload is None:

            def made() -> Payload:
                doc = build()
                return Payload.of(doc if isinstance(doc, str) else ogc.to_json(doc), media_type)

            payload = await run_in_threadpool(made)
            documents.put(key, payload)
        return respond(payload, request.headers, VARY)

    def encoded(doc_of: Callable[[], dict], fmt: str, kind: str, url: str, json_type: str = "application/json", **page) -> tuple:
        if fmt == "html":
            return (lambda: ogc.html(doc_of(), kind, url, **page)), HTML_TYPE
        return doc_of, json_type

    async def collection_docs(url: str, fmt: str, query: ogc.Query, own: str | None = None) -> tuple[list[dict], tuple[str, ...]]:
        """Every collection's description (or only ``own``'s) for the year and moment asked (the default year's when
        none is): the province's from its communes layer, the national view's each from its own layer; and the
        ETags of the layers they come from."""
        wanted = [own] if own else ids
        found: dict[str, tuple[ogc.Layer, str]] = {}
        for c in wanted:
            source = c if c in ogc.NATIONAL else "communes"
            if source not in found:
                found[source] = await layer(source, ogc.Query(nam=query.nam, as_of=query.as_of))

        def entry(c: str) -> dict:
            of = found[c if c in ogc.NATIONAL else "communes"][0]
            if c in ogc.NATIONAL:
                name, count = NATIONAL_NAME_VI, len(codes()) if c == "provinces" else len(national_registry().communes())
            else:
                registry = cache.province_for(of.year).registry
                name, count = registry.province_name, len(registry.communes() if c == "communes" else registry.districts())
            return ogc.collection(c, name, count, of, years, url, fmt, own is not None, query.filters())

        return [entry(c) for c in wanted], tuple(etag for _, etag in found.values())

    @r.get(
        "",
        summary="Trang đầu OGC API – Features",
        response_class=Response,
        openapi_extra=LAYER_QUERY,
        responses=JSON_OR_HTML | {400: ERRORS[400]},
    )
    @answers_errors
    async def landing(request: Request) -> Response:
        _, fmt = checked(request)
        url = base(request)
        build, media = encoded(lambda: ogc.landing(url, today, fmt), fmt, "landing", url)
        return await send(request, ("landing", url, fmt), build, media)

    @r.get(
        "/conformance",
        summary="Các lớp phù hợp (conformance)",
        response_class=Response,
        openapi_extra=LAYER_QUERY,
        responses=JSON_OR_HTML | {400: ERRORS[400]},
    )
    @answers_errors
    async def conformance(request: Request) -> Response:
        _, fmt = checked(request)
        url = base(request)
        build, media = encoded(lambda: ogc.conformance(url, fmt), fmt, "conformance", url)
        return await send(request, ("conformance", url, fmt), build, media)

    @r.get(
        "/api",
        summary="Định nghĩa OpenAPI 3.0 của OGC API",
        response_class=Response,
        openapi_extra=LAYER_QUERY,
        responses={200: {"content": {ogc.OPENAPI: {"schema": {"type": "object"}}}}, 400: ERRORS[400]},
    )
    @answers_errors
    async def api(request: Request) -> Response:
        query, _ = checked(request)
        if query.f == "html":
            raise ogc.BadParameter("Tham số f='html' không dùng được ở /ogc/api; định nghĩa API là JSON (OpenAPI 3.0), trang web là /docs.")
        url = base(request)
        return await send(request, ("api", url), lambda: ogc.openapi(url, ids, years, today), ogc.OPENAPI)

    @r.get(
        "/collections",
        summary="Các lớp dữ liệu",
        response_class=Response,
        openapi_extra=LAYER_QUERY,
        responses=JSON_OR_HTML | {400: ERRORS[400]},
    )
    @answers_errors
    async def collections(request: Request) -> Response:
        query, fmt = checked(request)
        url = base(request)
        entries, etag = await collection_docs(url, fmt, query)
        build, media = encoded(lambda: ogc.collections(entries, url, fmt), fmt, "collections", url)
        return await send(request, ("collections", etag, query.filters(), url, fmt), build, media)

    @r.get(
        "/collections/{collection_id}",
        summary="Một lớp dữ liệu",
        response_class=Response,
        openapi_extra=LAYER_QUERY,
        responses=JSON_OR_HTML | ERRORS,
    )
    @answers_errors
    async def collection(request: Request, collection_id: str) -> Response:
        ogc.check_collection(collection_id, ids)
        query, fmt = checked(request)
        url = base(request)
        entries, etag = await collection_docs(url, fmt, query, collection_id)
        build, media = encoded(lambda: entries[0], fmt, "collection", url, collection_id=collection_id)
        return await send(request, ("collection", collection_id, etag, query.filters(), url, fmt), build, media)

    @r.get(
        "/collections/{collection_id}/items",
        summary="Các đối tượng của một lớp (một trang)",
        response_class=Response,
        openapi_extra=PAGE_QUERY,
        responses=GEOJSON_OR_HTML | ERRORS,
    )
    @answers_errors
    async def items(request: Request, collection_id: str) -> Response:
        """Items with the properties of GET /api/layers/…, and on each feature the year, the sample flag and label,
        and whether the boundaries are schematic. numberMatched, numberReturned, timeStamp; next and prev links."""
        ogc.check_collection(collection_id, ids)
        query, fmt = checked(request, (*ogc.PAGING, *ogc.FILTERS[collection_id]))
        url = base(request)
        found, etag = await layer(collection_id, query)
        page = {"collection_id": collection_id, "filters": query.filters()}
        build, media = encoded(lambda: ogc.items_page(found, collection_id, query, url, fmt), fmt, "items", url, ogc.GEOJSON, **page)
        return await send(request, ("items", collection_id, etag, query, url, fmt), build, media)

    @r.get(
        "/collections/{collection_id}/items/{feature_id}",
        summary="Một đối tượng",
        response_class=Response,
        openapi_extra=LAYER_QUERY,
        responses=GEOJSON_OR_HTML | ERRORS,
    )
    @answers_errors
    async def item(request: Request, collection_id: str, feature_id: str) -> Response:
        ogc.check_collection(collection_id, ids)
        query, fmt = checked(request, ogc.FILTERS[collection_id])
        url = base(request)
        found, etag = await layer(collection_id, query)
        doc = ogc.feature(found, collection_id, feature_id, query, url, fmt)  # 404 before anything is kept
        build, media = encoded(lambda: doc, fmt, "feature", url, ogc.GEOJSON, collection_id=collection_id)
        return await send(request, ("item", collection_id, feature_id, etag, query, url, fmt), build, media)

    return r
