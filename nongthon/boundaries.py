"""Commune boundaries: importing an official boundary file (GeoPackage, Shapefile, GeoJSON) in any coordinate
system pyproj knows — VN-2000 national UTM zones (EPSG:3405, 3406) and provincial TM-3 zones included —,
matching its features to the registry, repairing invalid geometry, and the schematic default layer used until
an official file is imported.

Reprojection goes through pyproj, which applies the registered VN-2000 → WGS 84 seven-parameter shift
("VN-2000 to WGS 84 (2)": dx −191.90441429 m, dy −39.30318279 m, dz −111.45032835 m, rx −0.00928836″,
ry 0.01975479″, rz −0.00427372″, ds 0.252906278 ppm). Areas are geodesic, on the WGS 84 ellipsoid.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from pyproj.crs import ProjectedCRS
from pyproj.crs.coordinate_operation import TransverseMercatorConversion

from .errors import NongthonError
from .store import Store
from .text import fold, nfc
from .units import COMMUNE_TYPES, DISTRICT_TYPES, Registry

WGS84 = "EPSG:4326"
VN2000 = 4756
GEOD = pyproj.Geod(ellps="WGS84")
SCHEMATIC_LABEL_VI = "Sơ đồ minh họa — chưa phải ranh giới chính thức"
SCHEMATIC_HOWTO_VI = "Nạp ranh giới chính thức: nongthon boundaries import TỆP.gpkg --layer communes"
SUFFIXES = {".gpkg", ".shp", ".geojson", ".json", ".zip", ".fgb"}
CODE_COLUMNS = ("ma", "ma_xa", "maxa", "gso_code", "code", "ma_dvhc", "wardcode", "ward_code")
NAME_COLUMNS = ("ten", "ten_xa", "tenxa", "name", "name_short", "ward", "ward_name", "name_3")
DISTRICT_COLUMNS = ("ten_huyen", "tenhuyen", "huyen", "district_name", "district", "name_2")
COORD_DECIMALS = 7  # 1e-7° ≈ 1 cm: the precision boundaries are stored and served at


class BoundaryError(NongthonError):
    """A boundary file that cannot be used; the message says what and how to fix it."""


def vn2000_tm3(central_meridian: float, scale: float = 0.9999, name: str | None = None) -> pyproj.CRS:
    """A VN-2000 provincial TM-3 zone (3° Transverse Mercator, false easting 500 km on the VN-2000 datum).
    Phú Yên: central meridian 108°30′ (``vn2000_tm3(108.5)``)."""
    conversion = TransverseMercatorConversion(
        latitude_natural_origin=0,
        longitude_natural_origin=central_meridian,
        false_easting=500000,
        false_northing=0,
        scale_factor_natural_origin=scale,
    )
    return ProjectedCRS(conversion=conversion, geodetic_crs=pyproj.CRS.from_epsg(VN2000), name=name or f"VN-2000 / TM-3 {central_meridian}")


PHU_YEN_TM3 = vn2000_tm3(108.5, name="VN-2000 / TM-3 Phú Yên (KTT 108°30′)")


def rfc7946(geoms: gpd.GeoSeries, decimals: int = COORD_DECIMALS) -> gpd.GeoSeries:
    """Polygons as RFC 7946 §3.1.6 wants them: every exterior ring counter-clockwise, every hole clockwise;
    coordinates rounded to ``decimals`` so that JSON shows 13.0829756, not the float noise 13.082975599999997."""
    rounded = shapely.transform(geoms.values, lambda xy: np.round(xy, decimals))
    return gpd.GeoSeries(shapely.orient_polygons(rounded, exterior_cw=False), index=geoms.index, crs=geoms.crs)


def geodesic_area_km2(geoms: gpd.GeoSeries) -> np.ndarray:
    """Areas in km² on the WGS 84 ellipsoid (geometry in any CRS; reprojected to lon/lat first)."""
    lonlat = geoms.to_crs(WGS84) if geoms.crs is not None and not geoms.crs.equals(pyproj.CRS(WGS84)) else geoms
    return np.array([abs(GEOD.geometry_area_perimeter(g)[0]) / 1e6 if g is not None and not g.is_empty else 0.0 for g in lonlat])


@dataclass
class BoundaryReport:
    """What an import found and did. Lists hold plain values so that the report serialises to JSON."""

    source: str
    crs: str
    features: int
    method: str  # "code (column X)" or "name (columns X, Y)"
    matched: int = 0
    unmatched: list[dict] = field(default_factory=list)  # features not in the registry: row, code/name
    duplicated: list[dict] = field(default_factory=list)  # units with several features (merged)
    missing: list[dict] = field(default_factory=list)  # registry communes without a feature
    repairs: list[dict] = field(default_factory=list)  # unit, problem, area change
    total_area_km2: float = 0.0
    coverage: dict = field(default_factory=dict)  # overlaps and gaps removed so that neighbours share borders
    layer_id: int | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    def lines_vi(self) -> list[str]:
        out = [
            f"Tệp {self.source} ({self.features} đối tượng, hệ tọa độ {self.crs}); ghép theo {self.method}.",
            f"Khớp {self.matched} đơn vị; tổng diện tích {self.total_area_km2:,.1f} km².",
        ]
        for u in self.unmatched:
            out.append(f"  - không khớp danh mục: đối tượng {u['row']} ({u['value']})")
        for d in self.duplicated:
            out.append(f"  - {d['name']} ({d['unit']}): {d['features']} đối tượng, đã gộp làm một")
        for m in self.missing:
            out.append(f"  - thiếu ranh giới: {m['name']} ({m['unit']})")
        for r in self.repairs:
            out.append(f"  - đã sửa hình học {r['name']} ({r['unit']}): {r['problem']}; diện tích thay đổi {r['area_change_m2']:,.0f} m²")
        if self.coverage:
            c = self.coverage
            out.append(
                f"  - chuẩn hóa ranh giới chung: chồng lấn {c['overlap_m2']:,.0f} m² trước, {c['overlap_m2_after']:,.0f} m² sau; "
                f"{c['units_changed']} đơn vị thay đổi (lớn nhất {c['max_change_m2']:,.0f} m²)"
            )
        return out


def read_boundary_file(path: str | Path, layer: str | None = None, crs: str | None = None) -> gpd.GeoDataFrame:
    """Read a boundary file with its coordinate system; ``crs`` states it when the file does not."""
    path = Path(path)
    if not path.exists():
        raise BoundaryError(f"Không tìm thấy tệp {path}")
    if path.suffix.lower() not in SUFFIXES:
        raise BoundaryError(
            f"Tệp {path.name}: định dạng {path.suffix!r} không được hỗ trợ; nhận GeoPackage (.gpkg), Shapefile (.shp) hoặc GeoJSON"
        )
    try:
        import pyogrio

        layers = [str(x[0]) for x in pyogrio.list_layers(path)]
        if layer is not None and layer not in layers:
            raise BoundaryError(f"Tệp {path.name} không có lớp {layer!r}; có: {', '.join(layers)}")
        if layer is None and len(layers) > 1:
            raise BoundaryError(f"Tệp {path.name} có nhiều lớp ({', '.join(layers)}); chọn một lớp bằng --layer")
        gdf = gpd.read_file(path, layer=layer, engine="pyogrio")
    except BoundaryError:
        raise
    except Exception as exc:  # noqa: BLE001 - GDAL raises many kinds; all mean "not a readable file"
        raise BoundaryError(f"Không đọc được {path.name} như một tệp bản đồ: {exc}") from None
    if crs is not None:
        try:
            stated = pyproj.CRS.from_user_input(crs)
        except pyproj.exceptions.CRSError:
            raise BoundaryError(f"Hệ tọa độ {crs!r} không xác định; ví dụ EPSG:3406 (VN-2000 / UTM 49N) hoặc EPSG:4326") from None
        gdf = gdf.set_crs(stated, allow_override=True)
    if gdf.crs is None:
        raise BoundaryError(f"Tệp {path.name} không ghi hệ tọa độ; hãy nêu rõ bằng --crs (ví dụ EPSG:3406, hoặc 'vn2000-tm3:108.5')")
    if gdf.empty:
        raise BoundaryError(f"Tệp {path.name} không có đối tượng nào")
    return gdf


def parse_crs(text: str) -> str | pyproj.CRS:
    """'vn2000-tm3:108.5' (a provincial TM-3 zone by central meridian) or anything pyproj reads."""
    if text.lower().startswith("vn2000-tm3:"):
        return vn2000_tm3(float(text.split(":", 1)[1]))
    return text


def _as_code(value: object) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, (int, np.integer)) or (isinstance(value, float) and value.is_integer()):
        return f"{int(value):05d}"
    text = str(value).strip()
    return text.zfill(5) if text.isdigit() and len(text) <= 5 else text


def _strip_type(name: str, types: dict[str, str]) -> str:
    key = fold(name)
    for word in sorted({fold(t) for t in types.values()} | {"tp", "tp.", "tx", "tx."}, key=len, reverse=True):
        if key.startswith(word + " "):
            return key[len(word) + 1 :].strip()
    return key


def _find_column(gdf: gpd.GeoDataFrame, candidates: tuple[str, ...], given: str | None) -> str | None:
    if given is not None:
        if given not in gdf.columns:
            raise BoundaryError(f"Không có cột {given!r}; các cột: {', '.join(c for c in gdf.columns if c != 'geometry')}")
        return given
    by_fold = {fold(c): c for c in gdf.columns if c != gdf.geometry.name}
    for cand in candidates:
        if cand in by_fold:
            return by_fold[cand]
    return None


def match_features(
    gdf: gpd.GeoDataFrame,
    registry: Registry,
    code_column: str | None = None,
    name_column: str | None = None,
    district_column: str | None = None,
) -> tuple[pd.Series, str]:
    """The registry code of each feature (None where it does not match) and the method used: by GSO code
    when a column holds them, else by name folded for case and diacritics within the district."""
    communes = registry.communes()
    col = _find_column(gdf, CODE_COLUMNS, code_column)
    if col is None and name_column is None:
        # any column whose values are mostly registry codes
        best, best_ratio = None, 0.0
        for c in gdf.columns:
            if c == gdf.geometry.name:
                continue
            ratio = gdf[c].map(_as_code).isin(communes.index).mean()
            if ratio > best_ratio:
                best, best_ratio = c, ratio
        col = best if best_ratio >= 0.5 else None
    if col is not None:
        codes = gdf[col].map(_as_code)
        return codes.where(codes.isin(communes.index), None), f"mã GSO (cột {col})"
    ncol = _find_column(gdf, NAME_COLUMNS, name_column)
    dcol = _find_column(gdf, DISTRICT_COLUMNS, district_column)
    if ncol is None:
        raise BoundaryError(
            "Không tìm thấy cột mã xã (5 chữ số) hay cột tên xã; nêu rõ bằng --code-column hoặc --name-column "
            f"(các cột: {', '.join(c for c in gdf.columns if c != gdf.geometry.name)})"
        )
    names = communes["name"].map(lambda n: _strip_type(n, COMMUNE_TYPES))
    districts = registry.districts()["name"].map(lambda n: _strip_type(n, DISTRICT_TYPES))
    district_of = {v: k for k, v in districts.items()}
    out = []
    for _, row in gdf.iterrows():
        key = _strip_type(str(row[ncol]), COMMUNE_TYPES)
        cand = names[names == key]
        if dcol is not None:
            dkey = district_of.get(_strip_type(str(row[dcol]), DISTRICT_TYPES))
            cand = cand[communes.loc[cand.index, "district_code"] == dkey]
        out.append(cand.index[0] if len(cand) == 1 else None)
    method = f"tên (cột {ncol}" + (f", trong huyện theo cột {dcol})" if dcol else ")")
    return pd.Series(out, index=gdf.index, dtype=object), method


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    """Only the polygon parts of a geometry, as a MultiPolygon, without Z."""
    geom = shapely.force_2d(geom)
    if isinstance(geom, shapely.Polygon):
        return shapely.MultiPolygon([geom])
    if isinstance(geom, shapely.MultiPolygon):
        return geom
    parts = [g for g in getattr(geom, "geoms", []) if isinstance(g, (shapely.Polygon, shapely.MultiPolygon))]
    polys = [p for g in parts for p in (g.geoms if isinstance(g, shapely.MultiPolygon) else [g])]
    return shapely.MultiPolygon(polys)


def import_boundaries(
    store: Store,
    registry: Registry,
    path: str | Path,
    *,
    layer: str | None = None,
    crs: str | None = None,
    author: str,
    code_column: str | None = None,
    name_column: str | None = None,
    district_column: str | None = None,
    require_all: bool = False,
) -> BoundaryReport:
    """Read, match, repair and store an official boundary file as the layer the app serves."""
    path = Path(path)
    gdf = read_boundary_file(path, layer, parse_crs(crs) if crs else None)
    in_crs = gdf.crs.name
    gdf = gdf.to_crs(WGS84)
    codes, method = match_features(gdf, registry, code_column, name_column, district_column)
    label_col = _find_column(gdf, NAME_COLUMNS, name_column) or _find_column(gdf, CODE_COLUMNS, code_column)
    report = BoundaryReport(source=f"{path.name}" + (f" (lớp {layer})" if layer else ""), crs=in_crs, features=len(gdf), method=method)
    names = registry.units["name"]
    for idx in gdf.index[codes.isna()]:
        report.unmatched.append({"row": int(idx) + 1, "value": nfc(str(gdf.at[idx, label_col])) if label_col else ""})
    matched = gdf[codes.notna()].assign(unit=codes[codes.notna()])
    counts = matched["unit"].value_counts()
    for unit, n in counts[counts > 1].items():
        report.duplicated.append({"unit": unit, "name": names[unit], "features": int(n)})
    features: dict[str, bytes] = {}
    areas = {}
    for unit, grp in matched.groupby("unit"):
        geom = shapely.union_all([g for g in grp.geometry if g is not None]) if len(grp) > 1 else grp.geometry.iloc[0]
        if geom is None or geom.is_empty:
            continue
        if not geom.is_valid:
            problem = shapely.is_valid_reason(geom)
            before = abs(GEOD.geometry_area_perimeter(geom)[0])
            geom = shapely.make_valid(geom)
            after = abs(GEOD.geometry_area_perimeter(_polygonal(geom))[0])
            report.repairs.append({"unit": unit, "name": names[unit], "problem": problem, "area_change_m2": round(after - before, 1)})
        geom = _polygonal(geom)
        features[unit] = shapely.to_wkb(geom)
        areas[unit] = abs(GEOD.geometry_area_perimeter(geom)[0]) / 1e6
    if not features:
        raise BoundaryError("\n".join(["Không đơn vị nào trong tệp khớp với danh mục; không ghi gì.", *report.lines_vi()]))
    features, report.coverage = _clean_coverage(features)
    areas = {u: abs(GEOD.geometry_area_perimeter(shapely.from_wkb(g))[0]) / 1e6 for u, g in features.items()}
    report.matched = len(features)
    for unit in registry.communes().index.difference(list(features)):
        report.missing.append({"unit": unit, "name": names[unit]})
    report.total_area_km2 = round(sum(areas.values()), 1)
    if require_all and (report.missing or report.unmatched):
        raise BoundaryError("\n".join(["Tệp chưa đủ hoặc có đối tượng không khớp (--require-all); không ghi gì.", *report.lines_vi()]))
    report.layer_id = store.add_boundary_layer(
        features, source=report.source, crs=in_crs, author=author, report=report.to_json(), period=registry.period
    )
    return report


def _overlap_m2(geoms: gpd.GeoSeries) -> float:
    return float(geoms.area.sum() - shapely.union_all(geoms.values).area)


def _clean_coverage(features: dict[str, bytes], gap_width_m: float = 2.0) -> tuple[dict[str, bytes], dict]:
    """Make the polygons a clean coverage — no overlaps, gaps narrower than ``gap_width_m`` closed, shared
    edges identical — so that simplification keeps neighbours' borders shared. Works in a metric CRS; the
    result is stored in lon/lat as ``rfc7946`` shapes it."""
    units = list(features)
    lonlat = gpd.GeoSeries(shapely.from_wkb([features[u] for u in units]), index=units, crs=WGS84)
    metric = lonlat.to_crs(lonlat.estimate_utm_crs())
    before = _overlap_m2(metric)
    cleaned = gpd.GeoSeries(shapely.coverage_clean(metric.values, gap_width=gap_width_m), index=units, crs=metric.crs)
    cleaned = cleaned.map(_polygonal)
    change = (cleaned.area - metric.area).abs()
    stats = {
        "overlap_m2": round(before, 1),
        "overlap_m2_after": round(_overlap_m2(cleaned), 1),
        "gap_width_m": gap_width_m,
        "units_changed": int((change > 1.0).sum()),
        "max_change_m2": round(float(change.max()), 1),
    }
    out = rfc7946(cleaned.to_crs(WGS84))
    return {u: shapely.to_wkb(g) for u, g in out.items()}, stats


@dataclass(frozen=True)
class BoundaryLayer:
    """The communes' polygons the app serves (EPSG:4326, full detail) and where they come from."""

    communes: gpd.GeoDataFrame  # index: unit code; column geometry
    schematic: bool
    source: str
    version: int  # the boundary layer id; 0 for the schematic layer


def schematic_layer(registry: Registry) -> gpd.GeoDataFrame:
    """A schematic layer made from the registry alone: the Voronoi cells of the communes' centre points,
    clipped to a plausible outline (the points' concave hull, widened by 3 km). It places every commune
    where it roughly is; it is not a boundary and is always labelled as such."""
    communes = registry.communes()
    pts = gpd.GeoSeries(gpd.points_from_xy(communes["lon"], communes["lat"]), index=communes.index, crs=WGS84)
    metric = pts.to_crs(pts.estimate_utm_crs())
    # two centre points closer than 10 m would give an empty cell: nudge duplicates apart
    coords = shapely.get_coordinates(metric.values)
    _, first = np.unique(np.round(coords), axis=0, return_index=True)
    dup = np.setdiff1d(np.arange(len(coords)), first)
    coords[dup] += 50.0
    metric = gpd.GeoSeries(shapely.points(coords), index=metric.index, crs=metric.crs)
    outline = shapely.concave_hull(shapely.multipoints(coords), ratio=0.4).buffer(3000, quad_segs=4)
    cells = shapely.voronoi_polygons(shapely.multipoints(coords), extend_to=outline.buffer(10000))
    cell_list = list(cells.geoms)
    tree = shapely.STRtree(cell_list)
    owner = tree.query(metric.values, predicate="within")
    geom = [None] * len(metric)
    for point_i, cell_i in zip(*owner):
        geom[point_i] = shapely.intersection(cell_list[cell_i], outline)
    gdf = gpd.GeoDataFrame(geometry=gpd.GeoSeries(geom, index=metric.index, crs=metric.crs)).to_crs(WGS84)
    gdf["geometry"] = rfc7946(gdf.geometry.map(_polygonal))
    return gdf


@lru_cache(maxsize=4)
def _schematic_cached(registry: Registry) -> gpd.GeoDataFrame:
    return schematic_layer(registry)


def current_layer(store: Store, registry: Registry) -> BoundaryLayer:
    """The latest boundary layer imported for the registry's units (its period: a code of the old units names
    another unit in the new ones), or the schematic layer when none was imported."""
    stored = store.current_boundary_layer(registry.period)
    if stored is None:
        return BoundaryLayer(_schematic_cached(registry), True, SCHEMATIC_LABEL_VI, 0)
    record, wkb = stored
    units = [u for u in registry.communes().index if u in wkb]
    gdf = gpd.GeoDataFrame(geometry=gpd.GeoSeries(shapely.from_wkb([wkb[u] for u in units]), index=units, crs=WGS84))
    return BoundaryLayer(gdf, False, f"{record['source']} (nạp {record['entered_at']:%d/%m/%Y})", int(record["id"]))
