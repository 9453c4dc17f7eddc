"""The layers carry exactly what scoring says, as RFC 7946 asks; they are cached per data version, rebuilt only
in part, and each representation has its own ETag."""

import ast
import gzip
import json
import re
from datetime import datetime, timedelta
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from fastapi.testclient import TestClient

import api.cache
from api.app import create_app
from api.cache import LayerCache
from nongthon.layers import commune_properties
from nongthon.scoring import commune_scores, criterion_status
from nongthon.store import Store, utcnow
from tests.conftest import results_frame

FIXED = ("ma", "ten", "hang", "so_tieu_chi_dat")
TIER = {"none": "chua_dat", "ntm": "ntm", "advanced": "nang_cao", "model": "kieu_mau"}


def fc(payload):
    assert gzip.decompress(payload.gzipped) == payload.body
    return json.loads(payload.body)


def test_every_feature_carries_the_scored_tier(mapped_store, province):
    cache = LayerCache(mapped_store, province)
    for year in (2019, 2023):
        data = fc(cache.communes(year))
        assert data["type"] == "FeatureCollection" and data["nam"] == year and data["du_lieu_mau"] is True
        assert data["ranh_gioi"]["so_do_minh_hoa"] is False
        feats = {f["properties"]["ma"]: f for f in data["features"]}
        assert len(feats) == 106
        scores = commune_scores(mapped_store.current_results(years=[year]), province, years=[year]).set_index("unit")
        for code, f in feats.items():
            p = f["properties"]
            assert all(k in p for k in FIXED)
            if p["loai"] == "xa":
                assert p["du_dieu_kien"] and p["hang"] == TIER[scores.loc[code, "tier"]]
                assert p["so_tieu_chi_dat"] == scores.loc[code, "ntm_met"] and p["so_tieu_chi"] == 19
                assert len(p["tieu_chi_chua_dat"]) == scores.loc[code, "ntm_not_met"]
            else:
                assert p["hang"] is None and not p["du_dieu_kien"]
            assert f["geometry"]["type"] == "MultiPolygon"


def test_criterion_layer_carries_that_status(mapped_store, province):
    data = fc(LayerCache(mapped_store, province).communes(2023, criterion="17"))
    st = criterion_status(mapped_store.current_results(years=[2023]), province, years=[2023])
    st = st[(st["criterion"] == "17") & (st["tier_set"] == "ntm")].set_index("unit")["status"]
    words = {"met": "dat", "not_met": "khong_dat", "not_evaluated": "chua_danh_gia"}
    for f in data["features"]:
        p = f["properties"]
        assert p["tieu_chi"] == "17"
        assert p["trang_thai"] == (words[st[p["ma"]]] if p["du_dieu_kien"] else None)


def test_recognised_tier_and_decision_are_kept_apart(mapped_store, province):
    props, _ = commune_properties(mapped_store, province, 2023)
    p = {x["ma"]: x for x in props}["22303"]
    assert p["hang_cong_nhan"] in ("ntm", "nang_cao", "kieu_mau")
    assert p["quyet_dinh"]["so"].endswith("(mẫu)") and p["quyet_dinh"]["ngay"] <= "2023-12-31"


def test_etag_cache_and_rebuild_only_what_changed(mapped_store, province, tmp_path):
    cache = LayerCache(mapped_store, province)
    first = cache.communes(2023)
    assert cache.communes(2023) is first  # served from memory
    geometry_builds = cache.geometry_builds
    code = "22303"
    before = {f["properties"]["ma"]: f["properties"] for f in fc(first)["features"]}[code]
    rows = [dict(unit=code, year=2023, item=str(i), met=i != 17) for i in range(1, 20)]
    before_write = utcnow()
    mapped_store.write_results(results_frame(rows), source="test", author="t")
    second = cache.communes(2023)
    assert second.etag != first.etag
    after = {f["properties"]["ma"]: f["properties"] for f in fc(second)["features"]}[code]
    assert before["hang"] != "chua_dat" and after["hang"] == "chua_dat" and after["so_tieu_chi_dat"] == 18
    assert [c["so"] for c in after["tieu_chi_chua_dat"]] == ["17"]
    assert cache.geometry_builds == geometry_builds  # a write of results does not rebuild geometry
    # as of a time before the write, the layer is what it was
    old = cache.communes(2023, as_of=before_write)
    assert {f["properties"]["ma"]: f["properties"] for f in fc(old)["features"]}[code]["hang"] == before["hang"]
    # and as of a time before any data, nothing is assessed
    empty = cache.communes(2023, as_of="2000-01-01T00:00:00")
    assert all(f["properties"]["hang"] is None for f in fc(empty)["features"])


def test_boundary_import_rebuilds_geometry(sample_store, province):
    from nongthon.boundaries import import_boundaries
    from tests.conftest import SHARED

    s = sample_store
    cache = LayerCache(s, province)
    schematic = fc(cache.communes(2023))
    assert schematic["ranh_gioi"]["so_do_minh_hoa"] is True and "Sơ đồ minh họa" in schematic["ranh_gioi"]["nguon"]
    n = cache.geometry_builds
    import_boundaries(s, province.registry, SHARED / "geodata" / "phu_yen_pre2025.gpkg", layer="communes", author="t")
    real = fc(cache.communes(2023))
    assert real["ranh_gioi"]["so_do_minh_hoa"] is False and cache.geometry_builds == n + 1


def test_default_detail_keeps_shared_borders_and_is_small(mapped_store, province):
    cache = LayerCache(mapped_store, province)
    default, full = cache.communes(2023), cache.communes(2023, detail="full")
    assert len(default.gzipped) <= 80 * 1024
    g = gpd.GeoDataFrame.from_features(fc(default)["features"], crs=4326)
    f = gpd.GeoDataFrame.from_features(fc(full)["features"], crs=4326)
    gm, fm = g.to_crs(32649), f.to_crs(32649)
    assert gm.is_valid.all()
    overlap = gm.area.sum() - shapely.union_all(gm.geometry.values).area
    assert overlap < 50  # m², from rounding to ~1 m only
    # no gaps opened: the simplified union covers the same area as the full one, within 0.1 %
    assert abs(shapely.union_all(gm.geometry.values).area / shapely.union_all(fm.geometry.values).area - 1) < 1e-3
    coords = shapely.get_coordinates(g.geometry.values)
    assert (abs(coords * 1e5 - (coords * 1e5).round()) < 1e-6).all()  # rounded to 1e-5 degree
    assert shapely.get_num_coordinates(gm.geometry.values).sum() < shapely.get_num_coordinates(fm.geometry.values).sum() / 2


def test_districts_layer_counts(mapped_store, province):
    data = fc(LayerCache(mapped_store, province).districts(2023))
    props = {f["properties"]["ma"]: f["properties"] for f in data["features"]}
    assert len(props) == 9
    assert props["562"]["so_xa"] == 10 and props["562"]["dat_ntm"] == 10
    assert props["555"]["so_xa"] == 3 and props["555"]["so_xa_chinh_thuc"] == 4
    total = sum(p["dat_ntm"] for p in props.values())
    scores = commune_scores(mapped_store.current_results(years=[2023]), province, years=[2023])
    assert total == scores["tier"].isin(["ntm", "advanced", "model"]).sum()
    assert sum(p["chua_dat"] + p["dat_ntm"] + p["chua_co_so_lieu"] for p in props.values()) == 82
    assert pd.Series([p["nang_cao"] for p in props.values()]).sum() == 16


def test_a_slow_build_does_not_hold_up_cached_responses(mapped_store, province):
    """While one response is being built, a cached one is still served (the build holds only its own lock)."""
    import threading

    cache = LayerCache(mapped_store, province)
    cache.communes(2023)  # cached
    started, release, served = threading.Event(), threading.Event(), threading.Event()

    def slow(store, province_):
        started.set()
        release.wait(30)  # stays "in progress" until the test has its answer
        return {"ok": True}

    builder = threading.Thread(target=lambda: cache.document("slow", slow))
    builder.start()
    started.wait(30)
    reader = threading.Thread(target=lambda: (cache.communes(2023), served.set()))
    reader.start()
    reader.join(20)
    in_progress = not release.is_set() and builder.is_alive()
    release.set()
    builder.join(30)
    assert served.is_set() and in_progress, "the cached response waited for another response's build"


def signed_area(ring: list) -> float:
    """The shoelace formula: positive when the ring runs counter-clockwise (x east, y north)."""
    return sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:])) / 2


def ring_orientations(payload) -> tuple[list[float], list[float]]:
    """The signed areas of every exterior ring and every hole of every feature in the served JSON."""
    exteriors, holes = [], []
    for f in json.loads(payload.body)["features"]:
        g = f["geometry"]
        for polygon in g["coordinates"] if g["type"] == "MultiPolygon" else [g["coordinates"]]:
            exteriors.append(signed_area(polygon[0]))
            holes += [signed_area(h) for h in polygon[1:]]
    return exteriors, holes


@pytest.mark.parametrize("stored", ["sample_store", "mapped_store"])  # the schematic layer, the imported one
def test_every_ring_is_oriented_as_rfc7946_says(stored, request, province):
    """RFC 7946 §3.1.6: exterior rings counter-clockwise, holes clockwise — at both details, both layers."""
    store = request.getfixturevalue(stored)
    cache = LayerCache(store, province)
    for detail in ("default", "full"):
        communes, districts = cache.communes(2023, detail=detail), cache.districts(2023, detail=detail)
        assert json.loads(communes.body)["ranh_gioi"]["so_do_minh_hoa"] is (stored == "sample_store")
        for payload, units in ((communes, 106), (districts, 9)):
            exteriors, holes = ring_orientations(payload)
            assert len(exteriors) >= units
            assert all(a > 0 for a in exteriors), f"{sum(a <= 0 for a in exteriors)} of {len(exteriors)} exterior rings clockwise"
            assert all(a < 0 for a in holes), f"{sum(a >= 0 for a in holes)} of {len(holes)} holes counter-clockwise"
        if stored == "mapped_store":  # the real layer has a commune inside another: its hole is checked too
            assert len(ring_orientations(communes)[1]) >= 1


@pytest.mark.parametrize("stored", ["sample_store", "mapped_store"])
def test_coordinates_are_written_without_float_noise(stored, request, province):
    """The served text: at most 7 digits after the point at full detail (1e-7° ≈ 1 cm), 5 at default detail."""
    cache = LayerCache(request.getfixturevalue(stored), province)
    for detail, most in (("full", 7), ("default", 5)):
        for payload in (cache.communes(2023, detail=detail), cache.districts(2023, detail=detail)):
            digits = [len(d) for d in re.findall(r"\d\.(\d+)", payload.body.decode())]
            assert max(digits) <= most, f"detail={detail}: a number with {max(digits)} digits after the point"
        assert max(digits) == most  # rounded, not cut shorter than that


def test_gzip_and_identity_have_their_own_etags(mapped_store):
    """A strong ETag names one representation's bytes: gzip and identity differ; each gets 304 for its own tag."""
    with TestClient(create_app(mapped_store.engine.url.database)) as client:
        for url in ("/api/layers/communes?year=2023", "/api/layers/districts?year=2023"):
            gz = client.get(url, headers={"Accept-Encoding": "gzip"})
            plain = client.get(url, headers={"Accept-Encoding": "identity"})
            assert gz.headers["content-encoding"] == "gzip" and "content-encoding" not in plain.headers
            tags = gz.headers["etag"], plain.headers["etag"]
            assert tags[0] != tags[1] and all(t.startswith('"') and t.endswith('"') for t in tags)
            for encoding, own, other in (("gzip", *tags), ("identity", *tags[::-1])):
                again = client.get(url, headers={"Accept-Encoding": encoding, "If-None-Match": own})
                assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == own
                weak = client.get(url, headers={"Accept-Encoding": encoding, "If-None-Match": f"W/{own}"})
                assert weak.status_code == 304  # If-None-Match compares weakly (RFC 9110 §13.1.2)
                crossed = client.get(url, headers={"Accept-Encoding": encoding, "If-None-Match": other})
                assert crossed.status_code == 200 and crossed.headers["etag"] == own and crossed.json() == plain.json()


def test_property_cache_is_bounded(sample_store, province, monkeypatch):
    """600 distinct as_of values leave at most max_properties property sets (and their build locks) in memory,
    while both details of one layer still share one set."""
    calls = []

    def properties(store, province_, year, criterion, as_of):  # cheap stand-in: the bound is under test, not scoring
        calls.append(as_of)
        return [{"ma": code, "ten": "x" * 1000} for code in province_.registry.communes().index], False

    monkeypatch.setattr(api.cache, "commune_properties", properties)
    cache = LayerCache(sample_store, province)
    start = datetime(2001, 1, 1)
    for i in range(600):
        cache.communes(2023, as_of=start + timedelta(minutes=i))
    sizes = cache.sizes()
    assert len(calls) == 600
    assert sizes["properties"] <= LayerCache.max_properties < 600
    assert sizes["responses"] <= LayerCache.max_entries < 600
    assert sizes["locks"] <= sizes["properties"] + sizes["responses"] + sizes["geometry"]
    last = start + timedelta(minutes=599)
    cache.communes(2023, as_of=last, detail="full")  # recent: its properties are still held
    assert len(calls) == 600
    cache.communes(2023, as_of=start, detail="full")  # the oldest were let go
    assert len(calls) == 601


def test_no_module_imports_another_modules_private_helper():
    """What modules share has a public name: no ``from x import _helper`` across the project."""
    root = Path(__file__).resolve().parents[1]
    found = []
    for path in [*root.glob("nongthon/**/*.py"), *root.glob("api/*.py"), *root.glob("benchmarks/*.py"), *root.glob("tests/*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").split(".")[0] in ("nongthon", "api", "tests")):
                found += [
                    f"{path.relative_to(root)}: {a.name}" for a in node.names if a.name.startswith("_") and not a.name.startswith("__")
                ]
    assert found == []


def test_the_data_version_is_read_again_after_a_quarter_second_or_at_once_after_a_write_of_its_own(mapped_store, province, monkeypatch):
    """Store.data_version(max_age) answers from memory for max_age seconds: another Store's write (another
    process) is seen once that time has passed, a write through this Store at the next call. The response
    cache's memory-only answers (``version=``) follow the version they are asked for."""
    clock = [1000.0]
    monkeypatch.setattr("nongthon.store.monotonic", lambda: clock[0])
    other = Store.open(mapped_store.engine.url.database)
    results, recognitions, boundaries = v = mapped_store.data_version(0.25)
    other.write_results(results_frame([dict(unit="22303", year=2023, item="11", met=False)]), source="t", author="t")
    clock[0] += 0.2
    assert mapped_store.data_version(0.25) == v and mapped_store.known_data_version(0.25) == v  # remembered: no query
    clock[0] += 0.1
    assert mapped_store.known_data_version(0.25) is None
    assert mapped_store.data_version(0.25) == (results + 1, recognitions, boundaries)  # read again: one more write of results
    mapped_store.write_results(results_frame([dict(unit="22303", year=2023, item="11", met=True)]), source="t", author="t")
    assert mapped_store.known_data_version(0.25) is None  # no time has passed, but this store wrote
    assert mapped_store.data_version(0.25) == (results + 2, recognitions, boundaries)
    other.write_results(results_frame([dict(unit="22303", year=2023, item="11", met=False)]), source="t", author="t")
    assert mapped_store.data_version() == (results + 3, recognitions, boundaries)  # without max_age: read every time
    other.close()

    cache = LayerCache(mapped_store, province)
    now = cache.version()
    assert cache.communes(2023, version=now) is None  # nothing kept: memory-only answers never build
    built = cache.communes(2023)
    assert cache.communes(2023, version=now) is built
    assert cache.communes(2023, version=(now[0] + 1, *now[1:])) is None  # kept for another version only
    assert cache.default_year(now) is None and cache.default_year() == 2025 and cache.default_year(now) == 2025
