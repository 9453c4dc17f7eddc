"""The boundary importer on the real file, on reprojected copies, and on broken inputs."""

import json
import unicodedata

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely
from pyproj.crs import ProjectedCRS
from pyproj.crs.coordinate_operation import TransverseMercatorConversion

from nongthon.boundaries import PHU_YEN_TM3, BoundaryError, current_layer, geodesic_area_km2, import_boundaries, schematic_layer
from nongthon.store import Store
from tests.conftest import SHARED

GPKG = SHARED / "geodata" / "phu_yen_pre2025.gpkg"


@pytest.fixture(scope="module")
def communes():
    return gpd.read_file(GPKG, layer="communes")


def imported(tmp_path, registry, path, name="b.db", **kw):
    store = Store.open(tmp_path / name)
    report = import_boundaries(store, registry, path, author="test", **kw)
    return store, report


def max_distance_m(a: gpd.GeoSeries, b: gpd.GeoSeries) -> float:
    """The largest Hausdorff distance between the same units of two layers, in metres (UTM 49N)."""
    a, b = a.to_crs(32649), b.loc[a.index].to_crs(32649)
    return max(shapely.hausdorff_distance(x, y) for x, y in zip(a.values, b.values))


def test_real_file_matches_all_106_and_area_is_about_5030_km2(tmp_path, province):
    store, report = imported(tmp_path, province.registry, GPKG, layer="communes")
    assert report.method == "mã GSO (cột gso_code)"
    assert (report.features, report.matched) == (106, 106)
    assert report.unmatched == report.missing == report.duplicated == []
    assert abs(report.total_area_km2 - 5030) < 10  # SOURCE.md: 5,030.2 km² in UTM 49N; geodesic here
    assert report.coverage["overlap_m2"] > 0 and report.coverage["overlap_m2_after"] < 1
    layer = current_layer(store, province.registry)
    assert not layer.schematic and len(layer.communes) == 106 and layer.communes.is_valid.all()
    assert abs(geodesic_area_km2(layer.communes.geometry).sum() - report.total_area_km2) < 0.1


def test_vn2000_tm3_round_trip_lands_within_two_metres(tmp_path, province, communes):
    tm3 = communes.to_crs(PHU_YEN_TM3)
    # the VN-2000 datum shift is applied: the same projection on the WGS 84 datum differs by ~225 m here
    on_wgs84 = ProjectedCRS(conversion=TransverseMercatorConversion(0, 108.5, 500000, 0, 0.9999), geodetic_crs=pyproj.CRS(4326))
    shift = shapely.distance(shapely.centroid(tm3.geometry.iloc[0]), shapely.centroid(communes.to_crs(on_wgs84).geometry.iloc[0]))
    assert 150 < shift < 400
    path = tmp_path / "tm3.gpkg"
    tm3.to_file(path, layer="xa", driver="GPKG")
    store, report = imported(tmp_path, province.registry, path)
    assert report.matched == 106 and "TM-3" in report.crs
    back = current_layer(store, province.registry).communes.geometry
    ref_store, _ = imported(tmp_path, province.registry, GPKG, name="ref.db", layer="communes")
    ref = current_layer(ref_store, province.registry).communes.geometry
    assert max_distance_m(back, ref) < 2.0


def test_national_utm_zone_shapefile(tmp_path, province, communes):
    path = tmp_path / "utm49.shp"
    communes[["gso_code", "name", "geometry"]].to_crs(3406).to_file(path)
    store, report = imported(tmp_path, province.registry, path)
    assert report.matched == 106 and "UTM zone 49N" in report.crs
    ref_store, _ = imported(tmp_path, province.registry, GPKG, name="ref.db", layer="communes")
    assert (
        max_distance_m(
            current_layer(store, province.registry).communes.geometry, current_layer(ref_store, province.registry).communes.geometry
        )
        < 2.0
    )


def test_file_without_crs_needs_one_and_accepts_a_tm3_zone(tmp_path, province, communes):
    path = tmp_path / "nocrs.shp"
    communes[["gso_code", "geometry"]].to_crs(PHU_YEN_TM3).to_file(path)
    path.with_suffix(".prj").unlink()
    with pytest.raises(BoundaryError, match="không ghi hệ tọa độ; hãy nêu rõ bằng --crs"):
        imported(tmp_path, province.registry, path)
    _, report = imported(tmp_path, province.registry, path, name="c.db", crs="vn2000-tm3:108.5")
    assert report.matched == 106 and abs(report.total_area_km2 - 5030) < 10


def test_matching_by_name_within_district_reports_unmatched_and_missing(tmp_path, province, communes):
    g = communes[["name", "district_name", "geometry"]].rename(columns={"name": "ten_xa", "district_name": "ten_huyen"}).copy()
    g["ten_xa"] = g["ten_xa"].map(lambda n: unicodedata.normalize("NFD", n.upper()))  # case and NFD do not matter
    i = int(np.flatnonzero(communes["gso_code"] == "22303")[0])
    g.loc[i, "ten_xa"] = "Xã Hòa Quang Bắcc"
    path = tmp_path / "names.geojson"
    g.to_file(path, driver="GeoJSON")
    _, report = imported(tmp_path, province.registry, path)
    assert report.method.startswith("tên (cột ten_xa, trong huyện theo cột ten_huyen")
    assert report.matched == 105
    assert len(report.unmatched) == 1 and report.unmatched[0]["row"] == i + 1
    assert report.unmatched[0]["value"] == "Xã Hòa Quang Bắcc"
    assert report.missing == [{"unit": "22303", "name": "Xã Hòa Quang Bắc"}]
    text = "\n".join(report.lines_vi())
    assert "thiếu ranh giới: Xã Hòa Quang Bắc (22303)" in text and f"không khớp danh mục: đối tượng {i + 1}" in text


def test_same_name_in_two_districts_needs_the_district(province, communes):
    from nongthon.boundaries import match_features

    g = communes[["name", "district_name", "geometry"]]
    codes, _ = match_features(g, province.registry)
    assert (codes.values == communes["gso_code"].values).all()


def test_duplicated_features_are_merged_and_reported(tmp_path, province, communes):
    g = communes[["gso_code", "geometry"]].copy()
    i = int(np.flatnonzero(communes["gso_code"] == "22303")[0])
    whole = g.geometry.iloc[i]
    west = shapely.clip_by_rect(whole, -180, -90, whole.centroid.x, 90)
    east = shapely.clip_by_rect(whole, whole.centroid.x, -90, 180, 90)
    g.loc[i, "geometry"] = west
    g = gpd.GeoDataFrame(pd_concat([g, gpd.GeoDataFrame({"gso_code": ["22303"]}, geometry=[east], crs=g.crs)]), crs=g.crs)
    _, report = imported(tmp_path, province.registry, write(tmp_path, g))
    assert report.duplicated == [{"unit": "22303", "name": "Xã Hòa Quang Bắc", "features": 2}]
    assert report.matched == 106 and abs(report.total_area_km2 - 5030) < 10


def pd_concat(frames):
    import pandas as pd

    return pd.concat(frames, ignore_index=True)


def write(tmp_path, g, name="x.gpkg"):
    path = tmp_path / name
    g.to_file(path, driver="GPKG")
    return path


def test_invalid_geometry_is_repaired_and_reported(tmp_path, province, communes):
    g = communes[["gso_code", "geometry"]].copy()
    i = int(np.flatnonzero(communes["gso_code"] == "22015")[0])
    x0, y0, x1, y1 = g.geometry.iloc[i].bounds
    bowtie = shapely.Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1), (x0, y0)])
    assert not bowtie.is_valid
    g.loc[i, "geometry"] = bowtie
    store, report = imported(tmp_path, province.registry, write(tmp_path, g))
    assert [r["unit"] for r in report.repairs] == ["22015"]
    assert "Self-intersection" in report.repairs[0]["problem"]
    assert "đã sửa hình học Phường 1 (22015): Self-intersection" in "\n".join(report.lines_vi())
    assert current_layer(store, province.registry).communes.is_valid.all()
    stored = json.loads(store.current_boundary_layer()[0]["report"])
    assert stored["repairs"][0]["unit"] == "22015"


def test_several_layers_need_a_choice_and_nothing_matching_writes_nothing(tmp_path, province, communes):
    with pytest.raises(BoundaryError, match="có nhiều lớp .*communes.*--layer"):
        imported(tmp_path, province.registry, GPKG)
    g = communes[["geometry"]].assign(ma=[f"{99000 + k}" for k in range(len(communes))])
    store = Store.open(tmp_path / "n.db")
    with pytest.raises(BoundaryError, match="Không đơn vị nào"):
        import_boundaries(store, province.registry, write(tmp_path, g, "n.gpkg"), author="t")
    assert store.current_boundary_layer() is None


def test_require_all_refuses_an_incomplete_file(tmp_path, province, communes):
    store = Store.open(tmp_path / "r.db")
    with pytest.raises(BoundaryError, match="require-all"):
        import_boundaries(store, province.registry, write(tmp_path, communes.iloc[:100]), author="t", require_all=True)
    assert store.current_boundary_layer() is None


def test_unreadable_and_unsupported_files(tmp_path, province):
    bad = tmp_path / "x.gpkg"
    bad.write_text("not a geopackage")
    with pytest.raises(BoundaryError, match="Không đọc được x.gpkg"):
        imported(tmp_path, province.registry, bad)
    sheet = tmp_path / "y.xlsx"
    sheet.write_bytes(b"PK")
    with pytest.raises(BoundaryError, match="định dạng '.xlsx' không được hỗ trợ"):
        imported(tmp_path, province.registry, sheet)
    with pytest.raises(BoundaryError, match="Không tìm thấy tệp"):
        imported(tmp_path, province.registry, tmp_path / "missing.gpkg")


def test_schematic_layer_is_a_valid_coverage_holding_every_centre_point(province):
    g = schematic_layer(province.registry)
    assert len(g) == 106 and g.is_valid.all() and not g.geometry.is_empty.any()
    metric = g.to_crs(32649)
    assert shapely.coverage_is_valid(metric.values, gap_width=1.0)
    communes = province.registry.communes()
    pts = gpd.points_from_xy(communes["lon"], communes["lat"], crs=4326)
    inside = [g.geometry[c].covers(p) for c, p in zip(communes.index, pts)]
    assert sum(inside) >= 104  # two centre points closer than 10 m are nudged 50 m apart
    assert 3000 < geodesic_area_km2(g.geometry).sum() < 8000


def signed_areas(geoms) -> tuple[list[float], list[float]]:
    """Shoelace signed areas (positive = counter-clockwise) of every exterior ring and every hole."""

    def area(ring) -> float:
        xy = np.asarray(ring.coords)
        return float(np.sum(xy[:-1, 0] * xy[1:, 1] - xy[1:, 0] * xy[:-1, 1]) / 2)

    polygons = [p for g in geoms for p in (g.geoms if g.geom_type == "MultiPolygon" else [g])]
    return [area(p.exterior) for p in polygons], [area(h) for p in polygons for h in p.interiors]


def test_import_stores_rfc7946_rings_at_seven_decimals(tmp_path, province, communes):
    """The file's rings run clockwise; what is stored runs as RFC 7946 §3.1.6 says, on a 1e-7° grid."""
    exteriors, _ = signed_areas(communes.geometry)
    assert all(a < 0 for a in exteriors)  # the input is the opposite of the rule: the import must turn it
    store, _ = imported(tmp_path, province.registry, GPKG, layer="communes")
    stored = current_layer(store, province.registry).communes.geometry
    exteriors, holes = signed_areas(stored)
    assert len(exteriors) >= 106 and len(holes) >= 1
    assert all(a > 0 for a in exteriors) and all(a < 0 for a in holes)
    coords = shapely.get_coordinates(stored.values)
    assert np.abs(coords * 1e7 - np.round(coords * 1e7)).max() < 1e-6


def test_schematic_layer_runs_counter_clockwise(province):
    exteriors, holes = signed_areas(schematic_layer(province.registry).geometry)
    assert len(exteriors) >= 106 and all(a > 0 for a in exteriors) and all(a < 0 for a in holes)


def test_a_layer_of_the_old_units_never_draws_a_new_unit_of_the_same_code(mapped_store, province):
    """GSO reused codes on 1 July 2025: Phú Yên's imported layer has 22303 = Xã Hòa Quang Bắc; in the new units
    22303 is Xã Phú Hòa 2. The new units get their own layer (schematic until one is imported), never the old one."""
    from nongthon.units import load_registry

    old = current_layer(mapped_store, province.registry)
    assert not old.schematic and "22303" in old.communes.index and len(old.communes) == 106
    new_registry = load_registry("66", "moi")
    new = current_layer(mapped_store, new_registry)
    assert new.schematic and len(new.communes) == len(new_registry.communes()) == 102
    # the new unit's schematic shape sits around its own registry point, not on the old xã's boundary
    lat, lon = new_registry.unit("22303")[["lat", "lon"]]
    assert new.communes.loc["22303"].geometry.buffer(0.05).contains(shapely.Point(lon, lat))
