"""OGC API – Features, Part 1: Core, over the layers the app already builds: the documents as dicts (and HTML
text), from a layer's feature collection. No HTTP and no caching here: api/ogc.py serves these at /ogc from the
response cache, and a page of items is a slice of the layer's cached feature collection.

Collections: ``communes`` (the commune-level units, the layer of GET /api/layers/communes) and, where a year is
shown in the units before 1 July 2025, ``districts`` (GET /api/layers/districts; no features in a year of the new
units, which have no district level). On a store that follows the whole country (``nongthon demo --national``), the
national view's two layers (api/national.py): ``provinces`` (GET /api/layers/provinces: the 34 provinces coloured by
share of NTM xã) and ``communes-all`` (GET /api/layers/communes?province=all: the 3,321 commune-level units), for the
national view's years (from 2026). Items carry the same properties as those layers, and each feature also carries
what a GIS would otherwise lose with the collection: the year ``nam``, ``du_lieu_mau`` and its label
``nhan_du_lieu_mau`` (sample data), ``ranh_gioi_so_do_minh_hoa`` and ``ranh_gioi_nguon`` (schematic boundaries and
where the boundaries come from). Coordinates are WGS 84 longitude/latitude (CRS84) only.

Query parameters of the items: ``limit`` (1 up to ``MAX_LIMIT``; more is served as ``MAX_LIMIT``, as the
standard asks), ``offset``, ``bbox`` (four numbers, CRS84), ``datetime`` (a feature's time is its reporting year
``nam``), and the layer's own ``nam``, ``tieu_chi`` (the commune collections only) and ``as_of``. Anything else is
refused (``BadParameter``, a 400), naming the parameter, the value and what is allowed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from functools import lru_cache
from importlib import resources
from urllib.parse import urlencode

import numpy as np
import shapely
from jinja2 import Environment, Template
from shapely.geometry import shape

from .errors import InvalidParameter, NongthonError, clip
from .sample import SAMPLE_LABEL_VI
from .store import to_utc_naive
from .units import Registry

CONF = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/"
CONFORMANCE = [CONF + c for c in ("core", "oas30", "html", "geojson")]
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
GREGORIAN = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"
GEOJSON = "application/geo+json"
JSON = "application/json"
HTML = "text/html"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
DEFAULT_LIMIT = 10
MAX_LIMIT = 1000  # a whole province in one page; a national layer in a few
FORMATS = ("json", "html")
#: the layer's own filters, per collection (query parameters of items and of one feature)
FILTERS = {
    "communes": ("nam", "tieu_chi", "as_of"),
    "districts": ("nam", "as_of"),
    "provinces": ("nam", "as_of"),
    "communes-all": ("nam", "tieu_chi", "as_of"),
}
PAGING = ("limit", "offset", "bbox", "datetime")
TITLES = {
    "communes": "Xã, phường, thị trấn",
    "districts": "Huyện, thị xã, thành phố",
    "provinces": "Tỉnh, thành phố",
    "communes-all": "Xã, phường, đặc khu cả nước",
}
LAYER_ROUTES = {
    "communes": "/api/layers/communes",
    "districts": "/api/layers/districts",
    "provinces": "/api/layers/provinces",
    "communes-all": "/api/layers/communes?province=all",
}
#: the national view's collections (a store that follows the whole country)
NATIONAL = ("provinces", "communes-all")

_INT = re.compile(r"[0-9]{1,9}", re.ASCII)
_NUMBER = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]{1,3})?", re.ASCII)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
_DATETIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?([Zz]|[+-][0-9]{2}:[0-9]{2})?", re.ASCII)


class BadParameter(NongthonError, ValueError):
    """A query parameter the OGC API does not take, or a value it does not allow (HTTP 400)."""


class NotFound(NongthonError, LookupError):
    """No such collection or feature (HTTP 404)."""


def collection_ids(registries: Iterable[Registry], national: bool = False) -> list[str]:
    """The collections of the provinces a server shows (one per period): the communes, and the districts when one of
    them has a district level (the units before 1 July 2025); with ``national`` (a store that follows the whole
    country), the national view's provinces and communes."""
    districts = ["districts"] if any(len(r.districts()) for r in registries) else []
    return ["communes", *districts, *(NATIONAL if national else ())]


def check_collection(collection_id: str, ids: list[str]) -> str:
    if collection_id not in ids:
        raise NotFound(f"Không có lớp (collection) {clip(collection_id)!r}; các lớp: {', '.join(ids)}.")
    return collection_id


# ---------------------------------------------------------------------------------------------- parameters


@dataclass(frozen=True)
class Query:
    """The checked query parameters of an OGC request. ``given``: the filters as the client wrote them, in a fixed
    order, carried into the links (next, prev, alternate, each feature's)."""

    f: str | None = None
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    bbox: tuple[float, float, float, float] | None = None
    span: tuple[datetime | None, datetime | None] | None = None  # the datetime parameter
    nam: int | None = None
    tieu_chi: str | None = None
    as_of: datetime | None = None
    given: tuple[tuple[str, str], ...] = ()

    def filters(self) -> tuple[tuple[str, str], ...]:
        """The layer's own filters as given (they choose the layer: year, criterion, moment)."""
        return tuple((k, v) for k, v in self.given if k in ("nam", "tieu_chi", "as_of"))


def parse_query(pairs: Iterable[tuple[str, str]], allowed: Iterable[str], years: list[int]) -> Query:
    """The query parameters ``pairs`` (name, value) checked against the ``allowed`` names (``f`` is always
    allowed) and their forms. ``years``: the years a catalogue covers (``nam``). BadParameter otherwise."""
    allowed = ("f", *[a for a in allowed if a != "f"])
    seen: dict[str, str] = {}
    for name, value in pairs:
        if name not in allowed:
            raise BadParameter(
                f"Tham số {clip(name)!r} không dùng được ở đường dẫn này (giá trị {clip(value)!r}); chỉ nhận: {', '.join(allowed)}."
            )
        if name in seen and seen[name] != value:  # the same value again is harmless (GDAL repeats what the URL had)
            raise BadParameter(f"Tham số {name} được nêu hai lần ({clip(seen[name])!r} và {clip(value)!r}); chỉ nêu một lần.")
        seen[name] = value
    out: dict = {}
    if "f" in seen:
        if seen["f"] not in FORMATS:
            raise BadParameter(f"Tham số f={clip(seen['f'])!r} không hợp lệ; chỉ nhận: json (GeoJSON/JSON) hoặc html (trang web).")
        out["f"] = seen["f"]
    if "limit" in seen:
        v = seen["limit"].strip()
        if not _INT.fullmatch(v) or int(v) < 1:
            raise BadParameter(
                f"Tham số limit={clip(seen['limit'])!r} không hợp lệ; cần số nguyên từ 1 trở lên (mặc định {DEFAULT_LIMIT}; "
                f"lớn hơn {MAX_LIMIT} thì mỗi trang có {MAX_LIMIT} đối tượng)."
            )
        out["limit"] = min(int(v), MAX_LIMIT)
    if "offset" in seen:
        v = seen["offset"].strip()
        if not _INT.fullmatch(v):
            raise BadParameter(
                f"Tham số offset={clip(seen['offset'])!r} không hợp lệ; cần số nguyên từ 0 trở lên (số đối tượng bỏ qua, mặc định 0)."
            )
        out["offset"] = int(v)
    if "bbox" in seen:
        out["bbox"] = parse_bbox(seen["bbox"])
    if "datetime" in seen:
        out["span"] = parse_datetime(seen["datetime"])
    if "nam" in seen:
        v = seen["nam"].strip()
        if not (_INT.fullmatch(v) and int(v) in years):
            raise BadParameter(f"Tham số nam={clip(seen['nam'])!r} không hợp lệ; cần một năm có bộ tiêu chí: {years[0]}–{years[-1]}.")
        out["nam"] = int(v)
    if "tieu_chi" in seen:
        v = seen["tieu_chi"].strip()
        if not _INT.fullmatch(v):
            raise BadParameter(
                f"Tham số tieu_chi={clip(seen['tieu_chi'])!r} không hợp lệ; cần số của một tiêu chí trong bộ tiêu chí của năm, ví dụ 17."
            )
        out["tieu_chi"] = str(int(v))
    if "as_of" in seen:
        out["as_of"] = parse_as_of(seen["as_of"])
    order = [n for n in ("nam", "tieu_chi", "as_of", "bbox", "datetime") if n in seen]
    return Query(**out, given=tuple((n, seen[n]) for n in order))


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    """Four numbers, CRS84: west, south, east, north (west > east for a box across the antimeridian)."""
    allowed = (
        "cần 4 số cách nhau bởi dấu phẩy — kinh độ tây, vĩ độ nam, kinh độ đông, vĩ độ bắc (WGS 84, độ), "
        "ví dụ 108.9,12.8,109.5,13.7; kinh độ trong −180…180, vĩ độ trong −90…90, vĩ độ nam không lớn hơn vĩ độ bắc"
    )
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 4 or not all(_NUMBER.fullmatch(p) for p in parts):
        raise BadParameter(f"Tham số bbox={clip(text)!r} không hợp lệ; {allowed}.")
    west, south, east, north = (float(p) for p in parts)
    if not (-180 <= west <= 180 and -180 <= east <= 180 and -90 <= south <= north <= 90):
        raise BadParameter(f"Tham số bbox={clip(text)!r} không hợp lệ; {allowed}.")
    return west, south, east, north


def _moment(text: str, end: bool) -> datetime | None:
    """One end of a ``datetime`` value, in UTC: None for an open end; a date is its first (or, at the end of an
    interval, last) moment; a date-time without offset is UTC."""
    if text in ("", ".."):
        return None
    if _DATE.fullmatch(text):
        day = date.fromisoformat(text)
        return datetime.combine(day, time.max if end else time.min, UTC)
    if _DATETIME.fullmatch(text):
        moment = datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    raise ValueError(text)


def parse_datetime(text: str) -> tuple[datetime | None, datetime | None]:
    """A ``datetime`` parameter (RFC 3339 date-time or date; an interval ``a/b`` with ``..`` for an open end) as
    the closed interval it names."""
    allowed = (
        "cần thời điểm RFC 3339 (2024-06-30T00:00:00Z), một ngày (2024-06-30) hoặc một khoảng a/b, "
        "với .. cho đầu mở (2022-01-01/.., ../2024-12-31); mỗi đối tượng mang thời gian là năm báo cáo nam"
    )
    ends = text.strip().split("/")
    try:
        if len(ends) == 1:
            start, end = _moment(ends[0], False), _moment(ends[0], True)
            if start is None:
                raise ValueError(text)
            if len(ends[0]) > 10:  # a date-time is an instant
                end = start
        elif len(ends) == 2:
            start, end = _moment(ends[0], False), _moment(ends[1], True)
        else:
            raise ValueError(text)
        if start is not None and end is not None and start > end:
            raise BadParameter(f"Tham số datetime={clip(text)!r} không hợp lệ: đầu khoảng sau cuối khoảng; {allowed}.")
    except (ValueError, OverflowError) as exc:
        if isinstance(exc, BadParameter):
            raise
        raise BadParameter(f"Tham số datetime={clip(text)!r} không hợp lệ; {allowed}.") from None
    return start, end


def parse_as_of(text: str) -> datetime:
    """``as_of`` as the layers take it (ISO 8601; a bare number is refused, it is not Unix seconds)."""
    if _NUMBER.fullmatch(text.strip()):
        raise BadParameter(
            f"Tham số as_of={clip(text)!r} không hợp lệ; cần thời điểm ISO 8601 (2024-06-30T00:00:00Z hoặc ngày 2024-06-30), không nhận số."
        )
    try:
        return to_utc_naive(text.strip())
    except InvalidParameter as exc:
        raise BadParameter(f"Tham số {exc}") from None


# ---------------------------------------------------------------------------------------------- a layer


@dataclass(frozen=True)
class Layer:
    """A layer's feature collection ready to be served in pages: its features in the layer's order, each with
    its ``id`` (the GSO code) and the layer's flags among its properties; a spatial index of their geometry;
    their extent. ``made``: when it was prepared, the ``timeStamp`` of every page made from it."""

    features: list[dict]
    ids: dict[str, int]
    tree: shapely.STRtree
    extent: list[float] | None
    year: int
    sample: bool
    schematic: bool
    source: str
    made: str

    def members(self) -> dict:
        """What /api/layers/… carries at the collection level, and the sample label."""
        return {
            "nam": self.year,
            "du_lieu_mau": self.sample,
            "nhan_du_lieu_mau": SAMPLE_LABEL_VI if self.sample else None,
            "ranh_gioi": {"so_do_minh_hoa": self.schematic, "nguon": self.source},
        }

    def matching(self, bbox: tuple[float, float, float, float] | None, span: tuple | None) -> list[int]:
        """The positions of the features whose geometry intersects ``bbox`` and whose year meets ``span``."""
        if span is not None and not _meets(self.year, span):
            return []
        if bbox is None:
            return list(range(len(self.features)))
        west, south, east, north = bbox
        boxes = (
            [shapely.box(west, south, east, north)]
            if west <= east
            else [shapely.box(west, south, 180, north), shapely.box(-180, south, east, north)]
        )
        hits = set()
        for b in boxes:
            hits.update(self.tree.query(b, predicate="intersects").tolist())
        return sorted(hits)


def _meets(year: int, span: tuple[datetime | None, datetime | None]) -> bool:
    """Whether the reporting year (1 January – 31 December, UTC) meets the closed interval ``span``."""
    first = datetime(year, 1, 1, tzinfo=UTC)
    last = datetime.combine(date(year, 12, 31), time.max, UTC)
    start, end = span
    return (start is None or start <= last) and (end is None or end >= first)


def prepare(collection: dict, made: datetime | None = None) -> Layer:
    """A Layer from a feature collection as GET /api/layers/… serves it (with ``nam``, ``du_lieu_mau``, ``ranh_gioi``)."""
    year, sample = int(collection["nam"]), bool(collection["du_lieu_mau"])
    bounds = collection.get("ranh_gioi") or {}
    schematic, source = bool(bounds.get("so_do_minh_hoa")), str(bounds.get("nguon") or "")
    flags = {
        "nam": year,
        "du_lieu_mau": sample,
        "nhan_du_lieu_mau": SAMPLE_LABEL_VI if sample else None,
        "ranh_gioi_so_do_minh_hoa": schematic,
        "ranh_gioi_nguon": source,
    }
    features = [
        {"type": "Feature", "id": f["properties"]["ma"], "geometry": f["geometry"], "properties": {**f["properties"], **flags}}
        for f in collection["features"]
    ]
    geoms = np.array([None if f["geometry"] is None else shape(f["geometry"]) for f in features], dtype=object)
    bounds4 = shapely.total_bounds(geoms) if len(geoms) else np.full(4, np.nan)  # NaN: no geometry at all
    extent = None if np.isnan(bounds4).any() else [round(float(x), 6) for x in bounds4]
    made = (made or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    return Layer(
        features=features,
        ids={f["id"]: i for i, f in enumerate(features)},
        tree=shapely.STRtree(geoms),
        extent=extent,
        year=year,
        sample=sample,
        schematic=schematic,
        source=source,
        made=made.isoformat().replace("+00:00", "Z"),
    )


# ---------------------------------------------------------------------------------------------- documents


def _href(base_url: str, path: str, params: Iterable[tuple[str, str]] = ()) -> str:
    query = urlencode(list(params), safe=",:")
    return f"{base_url}{path}" + (f"?{query}" if query else "")


def _link(href: str, rel: str, type_: str, title: str) -> dict:
    return {"href": href, "rel": rel, "type": type_, "title": title}


def _self_links(base_url: str, path: str, fmt: str, params: Iterable[tuple[str, str]] = (), json_type: str = JSON) -> list[dict]:
    """``self`` in the format served and ``alternate`` in the other."""
    params = list(params)
    as_json = _link(_href(base_url, path, [*params, ("f", "json")]), "self", json_type, "Tài liệu này (JSON)")
    as_html = _link(_href(base_url, path, [*params, ("f", "html")]), "self", HTML, "Tài liệu này (trang web)")
    if fmt == "html":
        return [as_html, {**as_json, "rel": "alternate", "title": "Tài liệu này dạng JSON"}]
    return [as_json, {**as_html, "rel": "alternate", "title": "Tài liệu này dạng trang web"}]


def landing(base_url: str, province_name: str, fmt: str = "json") -> dict:
    """The landing page: what this is, and links to the API definition, the conformance classes and the data."""
    root = base_url.rsplit("/ogc", 1)[0]
    return {
        "title": f"Nông thôn mới — {province_name} (OGC API – Features)",
        "description": (
            f"Các lớp bản đồ nông thôn mới của {province_name} theo chuẩn OGC API – Features (phần 1): xã với hạng và tiêu chí "
            "đã đạt, huyện với số xã theo hạng. Mở trong QGIS: Lớp → Thêm lớp → Thêm lớp WFS / OGC API – Features, địa chỉ này."
        ),
        "links": [
            *_self_links(base_url, "", fmt),
            _link(f"{base_url}/api", "service-desc", OPENAPI, "Định nghĩa API (OpenAPI 3.0)"),
            _link(f"{root}/docs", "service-doc", HTML, "Tài liệu API (trang web)"),
            _link(f"{base_url}/conformance", "conformance", JSON, "Các lớp phù hợp (conformance) mà API này đáp ứng"),
            _link(f"{base_url}/collections", "data", JSON, "Các lớp dữ liệu (collections)"),
        ],
    }


def conformance(base_url: str, fmt: str = "json") -> dict:
    return {"conformsTo": list(CONFORMANCE), "links": _self_links(base_url, "/conformance", fmt)}


def describe(collection_id: str, province_name: str, count: int, layer: Layer) -> str:
    """The collection's description: what it holds, how to choose the year, and the flags of its data."""
    what = {
        "communes": f"{count} đơn vị cấp xã của {province_name}: hạng nông thôn mới (NTM), số tiêu chí đã đạt, tiêu chí chưa đạt",
        "communes-all": f"{count} đơn vị cấp xã của mọi tỉnh, thành phố (đơn vị hành chính từ 1/7/2025): hạng nông thôn mới (NTM), "
        "số tiêu chí đã đạt, tiêu chí chưa đạt, tỉnh (ma_tinh, ten_tinh)",
        "provinces": f"{count} tỉnh, thành phố (đơn vị hành chính từ 1/7/2025), mỗi tỉnh là hợp các xã của nó: số xã, số xã đạt "
        "chuẩn NTM, tỷ lệ xã đạt chuẩn NTM (ty_le_ntm, màu của bản đồ), bình quân tiêu chí",
        "districts": f"{count} đơn vị cấp huyện của {province_name}: số xã, số xã đạt chuẩn NTM, nâng cao, kiểu mẫu, bình quân tiêu chí"
        if count
        else f"Không có đơn vị cấp huyện trong {province_name} năm {layer.year} (từ 1/7/2025 không còn cấp huyện; các năm đến 2025 có)",
    }[collection_id]
    choose = (
        "nam (năm), tieu_chi (một tiêu chí), as_of (thời điểm)" if "tieu_chi" in FILTERS[collection_id] else "nam (năm), as_of (thời điểm)"
    )
    text = (
        f"{what}; năm {layer.year} (chọn bằng tham số {choose}; mặc định năm mới nhất có số liệu). Thuộc tính như {LAYER_ROUTES[collection_id]}. "
        + (f"{SAMPLE_LABEL_VI}. " if layer.sample else "")
        + f"Ranh giới: {layer.source}."
    )
    return text


def collection(
    collection_id: str,
    province_name: str,
    count: int,
    layer: Layer,
    years: list[int],
    base_url: str,
    fmt: str = "json",
    own_links: bool = True,
    filters: Iterable[tuple[str, str]] = (),
) -> dict:
    """One collection's description (``own_links=False``: as an element of /collections, with links to it);
    ``filters``: the layer's filters given (those the collection takes are kept in its links)."""
    path = f"/collections/{collection_id}"
    kept = [(k, v) for k, v in filters if k in FILTERS[collection_id]]
    links = (
        _self_links(base_url, path, fmt, kept)
        if own_links
        else [_link(_href(base_url, path, [*kept, ("f", "json")]), "self", JSON, TITLES[collection_id])]
    )
    links += [
        _link(_href(base_url, f"{path}/items", [*kept, ("f", "json")]), "items", GEOJSON, f"{TITLES[collection_id]} (GeoJSON)"),
        _link(_href(base_url, f"{path}/items", [*kept, ("f", "html")]), "items", HTML, f"{TITLES[collection_id]} (trang web)"),
    ]
    return {
        "id": collection_id,
        "title": f"{TITLES[collection_id]} — {province_name}",
        "description": describe(collection_id, province_name, count, layer),
        "itemType": "feature",
        "crs": [CRS84],
        "extent": {
            **({"spatial": {"bbox": [layer.extent], "crs": CRS84}} if layer.extent else {}),
            "temporal": {"interval": [[f"{years[0]}-01-01T00:00:00Z", f"{years[-1]}-12-31T23:59:59Z"]], "trs": GREGORIAN},
        },
        "links": links,
        **layer.members(),
    }


def collections(entries: list[dict], base_url: str, fmt: str = "json") -> dict:
    """/collections from the collections' own documents (``collection(..., own_links=False)``)."""
    return {"links": _self_links(base_url, "/collections", fmt), "collections": entries}


def items_page(layer: Layer, collection_id: str, query: Query, base_url: str, fmt: str = "json") -> dict:
    """A page of items: the features matching ``query.bbox`` and ``query.span`` (datetime), from ``query.offset``, at most
    ``query.limit``; ``next`` and ``prev`` links keep every other parameter as given."""
    hits = layer.matching(query.bbox, query.span)
    chosen = hits[query.offset : query.offset + query.limit]
    path = f"/collections/{collection_id}/items"
    kind = GEOJSON if fmt == "json" else HTML

    def at(offset: int) -> list[tuple[str, str]]:
        return [*query.given, ("limit", str(query.limit)), ("offset", str(offset))]

    links = _self_links(base_url, path, fmt, at(query.offset), json_type=GEOJSON)
    if query.offset + query.limit < len(hits):
        links.append(_link(_href(base_url, path, [*at(query.offset + query.limit), ("f", fmt)]), "next", kind, "Trang sau"))
    if query.offset > 0:
        links.append(_link(_href(base_url, path, [*at(max(0, query.offset - query.limit)), ("f", fmt)]), "prev", kind, "Trang trước"))
    links.append(_link(_href(base_url, f"/collections/{collection_id}", [("f", "json")]), "collection", JSON, TITLES[collection_id]))
    return {
        "type": "FeatureCollection",
        **layer.members(),
        "numberMatched": len(hits),
        "numberReturned": len(chosen),
        "timeStamp": layer.made,
        "links": links,
        "features": [layer.features[i] for i in chosen],
    }


def feature(layer: Layer, collection_id: str, feature_id: str, query: Query, base_url: str, fmt: str = "json") -> dict:
    """One feature, with links to itself and to its collection."""
    i = layer.ids.get(feature_id)
    if i is None:
        example = next(iter(layer.ids), "")
        raise NotFound(
            f"Không có đối tượng mã {clip(feature_id)!r} trong lớp {collection_id} ({len(layer.ids)} đối tượng; mã là mã GSO, ví dụ {example})."
        )
    path = f"/collections/{collection_id}/items/{feature_id}"
    links = _self_links(base_url, path, fmt, query.filters(), json_type=GEOJSON)
    links.append(_link(_href(base_url, f"/collections/{collection_id}", [("f", "json")]), "collection", JSON, TITLES[collection_id]))
    return {**layer.features[i], "links": links}


# ---------------------------------------------------------------------------------------------- OpenAPI 3.0


def openapi(base_url: str, collection_ids: list[str], years: list[int], province_name: str) -> dict:
    """The OpenAPI 3.0 definition of the OGC paths (conformance class oas30), server ``base_url``."""

    def param(name: str, schema: dict, description: str, where: str = "query") -> dict:
        p = {"name": name, "in": where, "required": where == "path", "description": description, "schema": schema}
        return p if where == "path" else {**p, "style": "form", "explode": False}

    parameters = {
        "collectionId": param("collectionId", {"type": "string", "enum": collection_ids}, "Mã lớp", "path"),
        "featureId": param("featureId", {"type": "string"}, "Mã GSO của đơn vị", "path"),
        "f": param("f", {"type": "string", "enum": list(FORMATS)}, "Định dạng: json (mặc định cho chương trình) hoặc html (trang web)"),
        "limit": param(
            "limit",
            {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
            f"Số đối tượng tối đa của một trang (1–{MAX_LIMIT}; lớn hơn thì {MAX_LIMIT})",
        ),
        "offset": param("offset", {"type": "integer", "minimum": 0, "default": 0}, "Số đối tượng bỏ qua (trang sau: liên kết next)"),
        "bbox": param(
            "bbox",
            {"type": "array", "minItems": 4, "maxItems": 4, "items": {"type": "number"}},
            "Chỉ các đối tượng cắt hình chữ nhật này: kinh độ tây, vĩ độ nam, kinh độ đông, vĩ độ bắc (WGS 84)",
        ),
        "datetime": param(
            "datetime",
            {"type": "string"},
            "Thời điểm hoặc khoảng RFC 3339 (a/b, .. cho đầu mở); thời gian của đối tượng là năm báo cáo nam",
        ),
        "nam": param("nam", {"type": "integer", "enum": years}, "Năm báo cáo (mặc định: năm mới nhất có số liệu)"),
        "tieu_chi": param(
            "tieu_chi",
            {"type": "string", "pattern": "^[0-9]{1,9}$"},
            "Số tiêu chí: thêm trạng thái của tiêu chí đó (chỉ các lớp xã: communes, communes-all)",
        ),
        "as_of": param("as_of", {"type": "string", "format": "date-time"}, "Thời điểm ISO 8601: dữ liệu như đã biết lúc đó"),
    }
    ref = {k: {"$ref": f"#/components/parameters/{k}"} for k in parameters}
    errors = {
        "400": {"$ref": "#/components/responses/InvalidParameter"},
        "404": {"$ref": "#/components/responses/NotFound"},
    }

    def get(summary: str, op: str, params: list[str], content: dict, description: str, with_404: bool = False) -> dict:
        responses = {"200": {"description": description, "content": content}, "400": errors["400"]}
        if with_404:
            responses["404"] = errors["404"]
        return {"get": {"summary": summary, "operationId": op, "parameters": [ref[p] for p in params], "responses": responses}}

    obj = {"schema": {"type": "object"}}
    page = {"schema": {"type": "string"}}
    layer_params = ["nam", "tieu_chi", "as_of"]  # taken everywhere (GDAL repeats a URL's query on every request)
    items = ["collectionId", "limit", "offset", "bbox", "datetime", *layer_params, "f"]
    return {
        "openapi": "3.0.3",
        "info": {
            "title": f"Nông thôn mới — {province_name} (OGC API – Features)",
            "version": "1.0.0",
            "description": "OGC API – Features, phần 1 (Core), GeoJSON và HTML, tọa độ WGS 84 (CRS84).",
        },
        "servers": [{"url": base_url}],
        "paths": {
            "/": get(
                "Trang đầu",
                "getLandingPage",
                [*layer_params, "f"],
                {JSON: obj, HTML: page},
                "Trang đầu: liên kết đến định nghĩa API, conformance, các lớp",
            ),
            "/conformance": get(
                "Các lớp phù hợp", "getConformanceDeclaration", [*layer_params, "f"], {JSON: obj, HTML: page}, "Các lớp phù hợp"
            ),
            "/api": get("Định nghĩa API này", "getAPI", [*layer_params, "f"], {OPENAPI: obj}, "Định nghĩa OpenAPI 3.0"),
            "/collections": get("Các lớp", "getCollections", [*layer_params, "f"], {JSON: obj, HTML: page}, "Các lớp dữ liệu"),
            "/collections/{collectionId}": get(
                "Một lớp",
                "describeCollection",
                ["collectionId", *layer_params, "f"],
                {JSON: obj, HTML: page},
                "Mô tả một lớp",
                with_404=True,
            ),
            "/collections/{collectionId}/items": get(
                "Các đối tượng của một lớp",
                "getFeatures",
                items,
                {GEOJSON: {"schema": {"$ref": "#/components/schemas/featureCollectionGeoJSON"}}, HTML: page},
                "Một trang đối tượng (numberMatched, numberReturned, liên kết next/prev)",
                with_404=True,
            ),
            "/collections/{collectionId}/items/{featureId}": get(
                "Một đối tượng",
                "getFeature",
                ["collectionId", "featureId", "nam", "tieu_chi", "as_of", "f"],
                {GEOJSON: {"schema": {"$ref": "#/components/schemas/featureGeoJSON"}}, HTML: page},
                "Một đối tượng",
                with_404=True,
            ),
        },
        "components": {
            "parameters": parameters,
            "schemas": {
                "exception": {
                    "type": "object",
                    "required": ["code"],
                    "properties": {"code": {"type": "string"}, "description": {"type": "string"}, "loi": {"type": "string"}},
                },
                "link": {
                    "type": "object",
                    "required": ["href"],
                    "properties": {
                        "href": {"type": "string"},
                        "rel": {"type": "string"},
                        "type": {"type": "string"},
                        "title": {"type": "string"},
                    },
                },
                "featureGeoJSON": {
                    "type": "object",
                    "required": ["type", "geometry", "properties"],
                    "properties": {
                        "type": {"type": "string", "enum": ["Feature"]},
                        "id": {"type": "string"},
                        "geometry": {"type": "object", "nullable": True},
                        "properties": {"type": "object", "nullable": True},
                        "links": {"type": "array", "items": {"$ref": "#/components/schemas/link"}},
                    },
                },
                "featureCollectionGeoJSON": {
                    "type": "object",
                    "required": ["type", "features"],
                    "properties": {
                        "type": {"type": "string", "enum": ["FeatureCollection"]},
                        "features": {"type": "array", "items": {"$ref": "#/components/schemas/featureGeoJSON"}},
                        "links": {"type": "array", "items": {"$ref": "#/components/schemas/link"}},
                        "timeStamp": {"type": "string", "format": "date-time"},
                        "numberMatched": {"type": "integer", "minimum": 0},
                        "numberReturned": {"type": "integer", "minimum": 0},
                    },
                },
            },
            "responses": {
                "InvalidParameter": {
                    "description": "Tham số không hợp lệ: thông báo nêu tham số, giá trị và điều được phép",
                    "content": {JSON: {"schema": {"$ref": "#/components/schemas/exception"}}},
                },
                "NotFound": {
                    "description": "Không có lớp hoặc đối tượng này",
                    "content": {JSON: {"schema": {"$ref": "#/components/schemas/exception"}}},
                },
            },
        },
    }


# ---------------------------------------------------------------------------------------------- HTML


def _cell(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "có" if value else "không"
    if isinstance(value, list):
        return ", ".join(_cell(v.get("ten", v) if isinstance(v, dict) else v) for v in value) or "—"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_cell(v)}" for k, v in value.items()) or "—"
    return str(value)


@lru_cache(maxsize=1)
def _template() -> Template:
    source = resources.files(__package__).joinpath("templates", "ogc.html").read_text(encoding="utf-8")
    return Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True).from_string(source)


def html(doc: dict, kind: str, base_url: str, collection_id: str | None = None, filters: Iterable[tuple[str, str]] = ()) -> str:
    """A plain page for people (no script): ``kind`` is landing, conformance, collections, collection, items or
    feature (the last two of ``collection_id``; ``filters``: the layer's filters, kept in the links to each feature).
    Every text is escaped by the template engine."""
    template = _template()
    rows, columns = [], []
    if kind == "items":
        features = doc["features"]
        skip = {
            "ma",
            "ten",
            "hang",
            "loai",
            "ma_huyen",
            "nam",
            "du_lieu_mau",
            "nhan_du_lieu_mau",
            "ranh_gioi_so_do_minh_hoa",
            "ranh_gioi_nguon",
        }
        columns = [
            k for k, v in (features[0]["properties"].items() if features else []) if k not in skip and not isinstance(v, list | dict)
        ]
        rows = [
            {
                "id": f["id"],
                "ten": f["properties"].get("ten"),
                "href": _href(base_url, f"/collections/{collection_id}/items/{f['id']}", [*filters, ("f", "html")]),
                "cells": [_cell(f["properties"].get(c)) for c in columns],
            }
            for f in features
        ]
    properties = [(k, _cell(v)) for k, v in doc.get("properties", {}).items()] if kind == "feature" else []
    flags = [doc, doc.get("properties") or {}, *doc.get("collections", [])]
    sample = any(d.get("du_lieu_mau") for d in flags)
    return template.render(
        doc=doc,
        kind=kind,
        root=_href(base_url, "", [("f", "html")]),
        title=f"{TITLES[collection_id]}" if collection_id else "",
        rows=rows,
        columns=columns,
        properties=properties,
        sample_label=SAMPLE_LABEL_VI if sample else None,
        json_link=next(
            (link["href"] for link in doc.get("links", []) if link["type"] in (JSON, GEOJSON) and link["rel"] in ("self", "alternate")),
            None,
        ),
        nav=[link for link in doc.get("links", []) if link["rel"] in ("prev", "next")],
    )


def to_json(doc: dict) -> str:
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
