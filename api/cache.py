"""The response cache: each response built once per version of the data and kept in memory, serialised, in
its identity and gzip forms, each with its own strong ETag; least recently used entries go first.

Geometry is cached per boundary version and properties per results version, so a write of results rebuilds
only the properties, and an import of boundaries only the geometry. Every store is bounded: responses and
property sets by count (any ``as_of``, ``runs``, ``horizon`` … makes a new key), geometry to the current
boundary version. Building the documents is the library's job (``nongthon.layers`` and the others).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

from nongthon.boundaries import BoundaryLayer, current_layer
from nongthon.layers import (
    check_detail,
    check_year,
    commune_properties,
    district_properties,
    feature_collection,
    geojson_strings,
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


def as_of_key(as_of: datetime | str | None) -> str | None:
    return None if as_of is None else to_utc_naive(as_of).isoformat()


class LayerCache:
    """Responses built once per version of the data and served from memory.

    ``get_*`` reads the store's data version (one cheap query), and rebuilds a response only when the part
    of the data it depends on changed: geometry on a boundary import, properties on a write of results or
    recognitions. Writes from another process (the CLI while the server runs) are seen at the next request."""

    max_entries = 256  # responses
    max_properties = 32  # property sets (one per layer, year, criterion and as_of), about 150 kB each for a province

    def __init__(self, store: Store, province: Province):
        self.store = store
        self.province = province
        self._lock = threading.RLock()
        self._geometry: dict[tuple, tuple[dict[str, str], dict[str, str], BoundaryLayer]] = {}
        self._responses: OrderedDict[tuple, tuple[tuple, Payload]] = OrderedDict()  # least recently used first
        self._props: OrderedDict[tuple, tuple[list[dict], bool]] = OrderedDict()  # least recently used first
        self._building: dict[tuple, threading.Lock] = {}
        self.builds = 0  # responses built (for tests and benchmarks)
        self.geometry_builds = 0

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

    def geometry(self, boundary_version: int, detail: str) -> tuple[dict[str, str], dict[str, str], BoundaryLayer]:
        """GeoJSON strings of the communes and districts at a detail, for a boundary version."""
        key = (boundary_version, detail)
        with self._build_lock(("geometry", *key)):
            with self._lock:
                if key in self._geometry:
                    return self._geometry[key]
            layer = current_layer(self.store, self.province.registry)
            communes, districts = simplified_geometries(layer, detail, self.province.registry.units["district_code"])
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

    def communes(self, year: int, criterion: str | None = None, as_of: datetime | str | None = None, detail: str = "default") -> Payload:
        return self._layer("communes", year, criterion, as_of, detail)

    def districts(self, year: int, as_of: datetime | str | None = None, detail: str = "default") -> Payload:
        return self._layer("districts", year, None, as_of, detail)

    def _layer(self, kind: str, year: int, criterion: str | None, as_of: datetime | str | None, detail: str) -> Payload:
        check_detail(detail)
        check_year(self.province, year)
        results_v, recog_v, boundary_v = self.store.data_version()
        as_of = to_utc_naive(as_of) if as_of is not None else None
        key = (kind, year, criterion, as_of_key(as_of))

        def build() -> Payload:
            communes, districts, layer = self.geometry(boundary_v, detail)
            if kind == "communes":
                props, sample = self._properties(key, (results_v, recog_v), commune_properties, year, criterion, as_of)
            else:
                props, sample = self._properties(key, (results_v, recog_v), district_properties, year, as_of)
            members = {"nam": year, "du_lieu_mau": sample, "ranh_gioi": {"so_do_minh_hoa": layer.schematic, "nguon": layer.source}}
            return Payload.of(feature_collection(communes if kind == "communes" else districts, props, members), "application/geo+json")

        return self._cached((*key, detail), (results_v, recog_v, boundary_v), build)

    def document(self, name: str, builder, *args, media_type: str = "application/json") -> Payload:  # noqa: ANN001 - callable
        """Any document derived from the data (summary, commune details, the map page): ``builder(store,
        province, *args)`` returns a dict (sent as JSON) or a str (sent as is). Rebuilt when the data changes."""
        key = (name, *[as_of_key(a) if isinstance(a, datetime) else a for a in args])

        def build() -> Payload:
            out = builder(self.store, self.province, *args)
            return Payload.of(out if isinstance(out, str) else json.dumps(out, ensure_ascii=False), media_type)

        return self._cached(key, self.store.data_version(), build)

    def _properties(self, key: tuple, versions: tuple, builder, *args):  # noqa: ANN001, ANN202
        """Properties are shared by every detail of a layer: built once per results version, the
        ``max_properties`` most recently used kept."""
        with self._build_lock(("properties", *key)):
            with self._lock:
                hit = self._props.get(key)
                if hit is not None and hit[0] == versions:
                    self._props.move_to_end(key)
                    return hit[1]
            built = builder(self.store, self.province, *args)
            with self._lock:
                self._props[key] = (versions, built)  # replaces an older data version of this layer
                self._props.move_to_end(key)
                self._evict(self._props, self.max_properties, "properties")
            return built
