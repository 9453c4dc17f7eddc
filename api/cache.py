"""The response cache: each response built once per version of the data and kept in memory, serialised, in
its identity and gzip forms, each with its own strong ETag; least recently used entries go first.

Geometry is cached per boundary version and properties per results version, so a write of results rebuilds
only the properties, and an import of boundaries only the geometry. Every store is bounded: responses and
property sets by count (any ``as_of``, ``runs``, ``horizon`` … makes a new key), geometry to the current
boundary version. Building the documents is the library's job (``nongthon.layers`` and the others).

The data version is read from the database at most every ``FRESH_FOR`` seconds, and at once after a write
through this process's store (``Store.data_version(max_age)``); ``Answers`` answers a URL asked again from
memory, in front of the routes, while that version holds. A cached read thus costs about what sending its
bytes costs (benchmarks/bench_layers.py).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from nongthon.boundaries import BoundaryLayer, current_layer
from nongthon.deployment import Deployment
from nongthon.history import DERIVED_NOTE_VI
from nongthon.layers import (
    check_detail,
    check_year,
    commune_properties,
    derived_properties,
    district_properties,
    feature_collection,
    geojson_strings,
    layer_units,
    new_units_province,
    simplified_geometries,
)
from nongthon.province import Province
from nongthon.store import Store, to_utc_naive


@dataclass(frozen=True)
class Payload:
    """A serialised response in two representations, the body and its gzip form. A strong ETag names one
    representation's bytes (RFC 9110 §8.8.1), so each has its own: ``"<hash>"`` and ``"<hash>-gz"``."""

    body: bytes
    gzipped: bytes
    etag: str
    etag_gzip: str
    media_type: str

    @classmethod
    def of(cls, text: str, media_type: str) -> Payload:
        body = text.encode("utf-8")
        digest = hashlib.sha256(body).hexdigest()[:32]
        return cls(body, gzip.compress(body, compresslevel=6, mtime=0), f'"{digest}"', f'"{digest}-gz"', media_type)

    def representation(self, accept_encoding: str) -> tuple[bytes, str, str | None]:
        """The bytes, ETag and Content-Encoding to send for a request's Accept-Encoding header."""
        if "gzip" in accept_encoding:
            return self.gzipped, self.etag_gzip, "gzip"
        return self.body, self.etag, None


def none_match(if_none_match: str | None, etag: str) -> bool:
    """Whether an If-None-Match header names ``etag`` (or is ``*``), by the weak comparison RFC 9110 §13.1.2
    asks for there: ``W/"x"`` matches ``"x"``."""
    if not if_none_match:
        return False
    tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
    return "*" in tags or etag.removeprefix("W/") in tags


def respond(payload: Payload, headers: Headers, extra: dict[str, str] | None = None) -> Response:
    """The cached payload for a request with these headers: gzip when the client accepts it, 304 when
    If-None-Match names the ETag of the representation it would get (gzip and identity each have their own).
    ``extra``: headers of the response's own (a page's policy)."""
    body, etag, encoding = payload.representation(headers.get("accept-encoding", ""))
    out = {"ETag": etag, "Cache-Control": "no-cache", "Vary": "Accept-Encoding", **(extra or {})}
    if none_match(headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=out)
    if encoding:
        out["Content-Encoding"] = encoding
    return Response(body, media_type=payload.media_type, headers=out)


#: seconds a data version read from the database is trusted: the longest a write by another process goes unseen
FRESH_FOR = 0.25


def as_of_key(as_of: datetime | str | None) -> str | None:
    return None if as_of is None else to_utc_naive(as_of).isoformat()


class LayerCache:
    """Responses built once per version of the data and served from memory.

    A response is rebuilt only when the part of the data it depends on changed: geometry on a boundary import,
    properties on a write of results or recognitions. The data version comes from the store without a query
    per request (``Store.data_version(max_age)``): a write through this process's store is seen at the next
    request, a write by another process (the CLI while the server runs, another worker) within ``fresh_for``
    seconds, when the version is read from the database again.

    Every getter takes ``version``: given one (``known_version()``), it answers only from memory — the response
    kept for that version, or None — so that a server can answer hits on its event loop and send only misses
    (a build, or a version due for a check) to a thread."""

    max_entries = 256  # responses
    max_properties = 32  # property sets (one per layer, year, criterion and as_of), about 150 kB each for a province

    def __init__(self, store: Store, deployment: Deployment | Province, fresh_for: float = FRESH_FOR):
        self.store = store
        # the province followed through time: each year is built with the province of its period
        self.deployment = deployment if isinstance(deployment, Deployment) else Deployment(current=deployment)
        self.fresh_for = fresh_for
        self._years: tuple[tuple, int] | None = None  # (data version, the default year)
        self._lock = threading.RLock()
        self._geometry: dict[tuple, tuple[dict[str, str], dict[str, str], BoundaryLayer]] = {}
        self._responses: OrderedDict[tuple, tuple[tuple, Payload]] = OrderedDict()  # least recently used first
        self._props: OrderedDict[tuple, tuple[list[dict], bool]] = OrderedDict()  # least recently used first
        self._building: dict[tuple, threading.Lock] = {}
        self.builds = 0  # responses built (for tests and benchmarks)
        self.geometry_builds = 0

    @property
    def province(self) -> Province:
        """The province of today (the last period the deployment has)."""
        return self.deployment.current

    def province_for(self, year: int) -> Province:
        """The province ``year`` is shown in (UnknownYear, naming the years there are, for any other year)."""
        province = self.deployment.province_for(year)
        check_year(province, year)
        return province

    def sizes(self) -> dict[str, int]:
        """How many responses, property sets, geometries and build locks are held now."""
        with self._lock:
            return {
                "responses": len(self._responses),
                "properties": len(self._props),
                "geometry": len(self._geometry),
                "locks": len(self._building),
            }

    def _build_lock(self, key: tuple) -> threading.Lock:
        """One lock per thing being built: two requests for the same response build it once, while requests
        for anything else — cached or not — go on. The shared lock guards only the dictionaries."""
        with self._lock:
            return self._building.setdefault(key, threading.Lock())

    def _evict(self, entries: OrderedDict, limit: int, kind: str) -> None:
        """Drop the least recently used entries beyond ``limit``, with their build locks (caller holds the lock)."""
        while len(entries) > limit:
            old, _ = entries.popitem(last=False)
            self._building.pop((kind, *old), None)

    def geometry(self, boundary_version: int, detail: str, province: Province) -> tuple[dict[str, str], dict[str, str], BoundaryLayer]:
        """GeoJSON strings of a province's communes and districts at a detail, for a boundary version."""
        key = (boundary_version, detail, province.profile)
        with self._build_lock(("geometry", *key)):
            with self._lock:
                if key in self._geometry:
                    return self._geometry[key]
            layer = current_layer(self.store, province.registry)
            communes, districts = simplified_geometries(layer, detail, province.registry.units["district_code"])
            built = (geojson_strings(communes), geojson_strings(districts), layer)
            with self._lock:
                for old in [k for k in self._geometry if k[0] != boundary_version]:
                    del self._geometry[old]
                    self._building.pop(("geometry", *old), None)
                self._geometry[key] = built
                self.geometry_builds += 1
            return built

    def peek(self, key: tuple, depends: tuple) -> Payload | None:
        """The response kept for ``key`` if it was built from data version ``depends`` (then most recently used)."""
        with self._lock:
            hit = self._responses.get(key)
            if hit is not None and hit[0] == depends:
                self._responses.move_to_end(key)
                return hit[1]
        return None

    def put(self, key: tuple, depends: tuple, payload: Payload) -> None:
        """Keep a response built elsewhere (the projection pool, api/jobs.py) for ``key`` at data version ``depends``."""
        with self._lock:
            self._responses[key] = (depends, payload)
            self._responses.move_to_end(key)
            self._evict(self._responses, self.max_entries, "response")
            self.builds += 1

    def _cached(self, key: tuple, depends: tuple, build) -> Payload:  # noqa: ANN001 - callable
        hit = self.peek(key, depends)
        if hit is not None:
            return hit
        with self._build_lock(("response", *key)):
            hit = self.peek(key, depends)  # built by another request while this one waited?
            if hit is not None:
                return hit
            try:
                payload = build()
            except Exception:
                with self._lock:  # a request that fails (bad parameters) keeps nothing, not even its lock
                    if key not in self._responses:
                        self._building.pop(("response", *key), None)
                raise
            self.put(key, depends, payload)
            return payload

    def version(self) -> tuple[int, int, int]:
        """The data version, read from the database at most every ``fresh_for`` seconds (at once after a write
        through this store)."""
        return self.store.data_version(self.fresh_for)

    def known_version(self) -> tuple[int, int, int] | None:
        """``version()`` when it needs no query, else None."""
        return self.store.known_data_version(self.fresh_for)

    def default_year(self, version: tuple | None = None) -> int | None:
        """The latest year of the catalogues that has stored results (the catalogues' last year when none has):
        what a request without a year gets. Kept per data version; with ``version``, only what is kept for it."""
        versions = version or self.version()
        known = self._years
        if known is not None and known[0] == versions:
            return known[1]
        if version is not None:
            return None
        stored = set(self.store.years_with_data())  # read after the version: at least as recent
        years = self.deployment.years()
        year = max([y for y in years if y in stored] or years)
        self._years = (versions, year)
        return year

    def communes(
        self,
        year: int,
        criterion: str | None = None,
        as_of: datetime | str | None = None,
        detail: str = "default",
        version: tuple | None = None,
        *,
        don_vi: str | None = None,
    ) -> Payload | None:
        """The communes layer of a year in the units of its time, or with ``don_vi=moi`` a year up to 2025 in the
        new units with derived states (``don_vi=cu`` from 2026: InvalidParameter, history.units_for_year)."""
        return self._layer("communes", year, criterion, as_of, detail, version, don_vi)

    def districts(
        self, year: int, as_of: datetime | str | None = None, detail: str = "default", version: tuple | None = None
    ) -> Payload | None:
        return self._layer("districts", year, None, as_of, detail, version)

    def _layer(
        self,
        kind: str,
        year: int,
        criterion: str | None,
        as_of: datetime | str | None,
        detail: str,
        version: tuple | None,
        don_vi: str | None = None,
    ) -> Payload | None:
        check_detail(detail)
        units = layer_units(year, don_vi, criterion)
        province = self.province_for(year)
        derived = units != province.period  # a year up to 2025 in the new units: derived states, never tiers
        as_of = to_utc_naive(as_of) if as_of is not None else None
        key = (kind, year, criterion, as_of_key(as_of), units)
        if version is not None:
            return self.peek((*key, detail), version)
        results_v, recog_v, boundary_v = self.version()

        def build() -> Payload:
            communes, districts, layer = self.geometry(boundary_v, detail, new_units_province(province) if derived else province)
            if derived:
                props, sample = self._properties(key, (results_v, recog_v), province, derived_properties, year, as_of)
            elif kind == "communes":
                props, sample = self._properties(key, (results_v, recog_v), province, commune_properties, year, criterion, as_of)
            else:
                props, sample = self._properties(key, (results_v, recog_v), province, district_properties, year, as_of)
            members = {"nam": year, "don_vi": units, "du_lieu_mau": sample}
            if derived:
                members |= {"suy_ra": True, "ghi_chu_suy_ra": f"Trạng thái {DERIVED_NOTE_VI}"}
            members["ranh_gioi"] = {"so_do_minh_hoa": layer.schematic, "nguon": layer.source}
            return Payload.of(feature_collection(communes if kind == "communes" else districts, props, members), "application/geo+json")

        return self._cached((*key, detail), (results_v, recog_v, boundary_v), build)

    def document(
        self,
        name: str,
        builder,  # noqa: ANN001 - a library function
        *args,
        media_type: str = "application/json",
        version: tuple | None = None,
        province: Province | None = None,
    ) -> Payload | None:
        """Any document derived from the data (summary, commune details, the map page): ``builder(store,
        province, *args)`` returns a dict (sent as JSON) or a str (sent as is); ``province``: the one of the
        document's year (default: today's). Rebuilt when the data changes."""
        province = province or self.province
        key = (name, province.profile, *[as_of_key(a) if isinstance(a, datetime) else a for a in args])
        if version is not None:
            return self.peek(key, version)

        def build() -> Payload:
            out = builder(self.store, province, *args)
            return Payload.of(out if isinstance(out, str) else json.dumps(out, ensure_ascii=False), media_type)

        return self._cached(key, self.version(), build)

    def year_document(
        self,
        name: str,
        builder,
        year: int,
        *args,
        media_type: str = "application/json",
        version: tuple | None = None,  # noqa: ANN001
    ) -> Payload | None:
        """``document`` of one reporting year, built with the province of that year's period (UnknownYear, naming
        the years there are, for any other year)."""
        return self.document(name, builder, year, *args, media_type=media_type, version=version, province=self.province_for(year))

    def _properties(self, key: tuple, versions: tuple, province: Province, builder, *args):  # noqa: ANN001, ANN202
        """Properties are shared by every detail of a layer: built once per results version, the
        ``max_properties`` most recently used kept."""
        with self._build_lock(("properties", *key)):
            with self._lock:
                hit = self._props.get(key)
                if hit is not None and hit[0] == versions:
                    self._props.move_to_end(key)
                    return hit[1]
            built = builder(self.store, province, *args)
            with self._lock:
                self._props[key] = (versions, built)  # replaces an older data version of this layer
                self._props.move_to_end(key)
                self._evict(self._props, self.max_properties, "properties")
            return built


class Answers:
    """The latest answers of the cached reads by URL, sent in front of the routes (a pure ASGI wrapper).

    A route that answered a GET from memory hands its payload here (``keep``) with the data version it is for,
    under the request's path and query string. A GET of the same URL is then answered here — no routing, no
    parameter parsing, no thread — for as long as the data version this process knows (``known_version``) is
    that one; anything else goes on to the routes. Only for reads that depend on nothing but the URL and the
    data (not when reads need a token). At most ``limit`` URLs, the oldest forgotten first, each holding its
    payload weakly: what the response cache lets go is not kept here. Used only on the event loop."""

    limit = 256

    def __init__(self, cache: LayerCache) -> None:
        self.cache = cache
        self._by_url: dict[tuple[str, bytes], tuple[tuple, weakref.ref[Payload], dict[str, str] | None]] = {}

    def keep(self, scope: Scope, version: tuple, payload: Payload, extra: dict[str, str] | None = None) -> None:
        url = (scope["path"], scope["query_string"])
        self._by_url.pop(url, None)
        self._by_url[url] = (version, weakref.ref(payload), extra)
        if len(self._by_url) > self.limit:
            del self._by_url[next(iter(self._by_url))]

    def wrap(self, app: ASGIApp) -> ASGIApp:
        """``app`` with the kept answers in front of it (for ``add_middleware``)."""

        async def front(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "http" and scope["method"] == "GET":
                kept = self._by_url.get((scope["path"], scope["query_string"]))
                payload = None if kept is None or kept[0] != self.cache.known_version() else kept[1]()
                if payload is not None:
                    await respond(payload, Headers(scope=scope), kept[2])(scope, receive, send)
                    return
            await app(scope, receive, send)

        return front
