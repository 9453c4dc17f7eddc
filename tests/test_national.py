"""The national view (issue 12.2): every commune of the 34 provinces from 1 July 2025 in one store — per-province and
national report rows, a province layer coloured by share of NTM xã, the national communes layer within its size
budget, `nongthon demo --national`. Expectations come from geodata/units_moi.csv and eligible_xa.csv read here with
the csv module, from results written by hand, and from the real national boundaries in ../shared (their own
`provinces` layer gives each province's area)."""

import csv
import gzip
import json
import re
import shutil
import time
from html import unescape
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from fastapi.testclient import TestClient

import api.national
from api.app import create_app
from nongthon.boundaries import geodesic_area_km2, import_boundaries
from nongthon.cli import main
from nongthon.deployment import deployment_of
from nongthon.errors import StoreError
from nongthon.national import load_national_sample, national_registry, province_profile
from nongthon.province import UNGROUPED, load_province
from nongthon.store import Store
from tests.conftest import SHARED

GEODATA = Path(__file__).resolve().parents[1] / "geodata"
NATIONAL_GPKG = SHARED / "geodata" / "vietnam_2025_communes.gpkg"
DAK_LAK_GPKG = SHARED / "geodata" / "dak_lak_2025.gpkg"
YEAR = 2026
CRITERIA = [str(i) for i in range(1, 11)]  # 51/2025/QĐ-TTg: 10 criteria in the NTM set
COMMUNES_BUDGET = 1_500_000  # gzip bytes, default detail (issue 12.2)
PROVINCES_BUDGET = 150_000
MAP_BUDGET = 300_000  # gzip bytes: the national /map page (the provinces and the reports, no commune)


def _read(name: str) -> list[dict]:
    with open(GEODATA / name, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


UNITS = _read("units_moi.csv")
COMMUNES = [r for r in UNITS if r["level"] == "commune"]
PROVINCES = [r["code"] for r in UNITS if r["level"] == "province"]
PROVINCE_NAMES = {r["code"]: r["name"] for r in UNITS if r["level"] == "province"}
XA = [r for r in COMMUNES if r["unit_type"] == "xa"]


def xa_of(province: str) -> list[str]:
    return [r["code"] for r in XA if r["province_code"] == province]


def communes_of(province: str) -> list[str]:
    return [r["code"] for r in COMMUNES if r["province_code"] == province]


def criterion_rows(unit: str, met: int = 10) -> list[dict]:
    """The 10 criteria of 51/2025 at criterion level for ``unit`` in 2026, the first ``met`` of them met."""
    return [
        {"unit": unit, "year": YEAR, "catalog": "qd51-2025", "tier_set": "ntm", "level": "criterion", "item": c, "met": i < met}
        for i, c in enumerate(CRITERIA)
    ]


def write(store: Store, rows: list[dict]) -> None:
    df = pd.DataFrame(rows)
    df["met"] = df["met"].astype("boolean")
    df["value"] = pd.Series(pd.NA, index=df.index, dtype="Float64")
    store.write_results(df, source="viết tay", author="test")


def gzip_size(client: TestClient, url: str) -> tuple[int, bytes]:
    """The bytes the server sends for ``url`` to a client that accepts gzip (not decoded), and the decoded body."""
    with client.stream("GET", url, headers={"Accept-Encoding": "gzip"}) as r:
        assert r.status_code == 200, url
        assert r.headers["content-encoding"] == "gzip"
        raw = b"".join(r.iter_raw())
    return len(raw), gzip.decompress(raw)


@pytest.fixture(scope="module")
def national_db(tmp_path_factory) -> Path:
    """A database made by `nongthon demo --national`."""
    db = tmp_path_factory.mktemp("national") / "national.db"
    assert main(["--db", str(db), "demo", "--national"]) == 0
    return db


@pytest.fixture(scope="module")
def client(national_db):
    with TestClient(create_app(national_db)) as c:
        yield c


def test_registry_is_every_commune_of_the_34_provinces():
    """3,321 commune-level units and 34 provinces, as the CSV has them; a province without a profile is scored
    with 51/2025, no region, every xã ungrouped; a province with one keeps its own."""
    assert len(COMMUNES) == 3321 and len(PROVINCES) == 34 and len(XA) == 2621
    reg = national_registry()
    assert sorted(reg.communes().index) == sorted(r["code"] for r in COMMUNES)
    assert sorted(reg.xa().index) == sorted(r["code"] for r in XA)
    hanoi = province_profile("01")
    assert [c.id for c in hanoi.catalogs.catalogs] == ["qd51-2025"] and hanoi.region is None
    selector = hanoi.selector("qd51-2025")
    assert len(selector) == len(communes_of("01")) and set(selector) == {UNGROUPED}
    assert province_profile("66") is load_province("66")  # the new Đắk Lắk's own profile (its group list)


def test_demo_national_loads_every_xa_labelled(national_db):
    store = Store.open(national_db)
    try:
        assert store.deployment_profile() == "00"
        deployment = deployment_of(store)
        assert deployment.years() == [2026, 2027, 2028, 2029, 2030]
        assert len(deployment.province_for(YEAR).registry.communes()) == 3321
        results = store.current_results(years=[YEAR])
        assert sorted(results["unit"].unique()) == sorted(r["code"] for r in XA)  # every xã, no phường / đặc khu
        assert results["sample"].all() and set(results["catalog"]) == {"qd51-2025"}
        assert len(results) == len(XA) * len(CRITERIA)
        ntm = results.groupby("unit")["met"].all()
        shares = {p: ntm[xa_of(p)].mean() for p in PROVINCES}
        assert round(shares["66"] * 88) == 26  # the new Đắk Lắk's profile calibrates its sample: 26/88 (Sở NN&MT, late 2025)
        assert len({round(s, 2) for s in shares.values()}) >= 20 and max(shares.values()) - min(shares.values()) > 0.3  # a spread
    finally:
        store.close()


def test_national_layer_codes_and_sizes(client):
    """Schematic boundaries (none imported): the national layer holds exactly the CSV's units, each with its province;
    both layers are labelled sample and schematic, and within budget."""
    size, body = gzip_size(client, f"/api/layers/communes?year={YEAR}&province=all")
    doc = json.loads(body)
    assert sorted(f["properties"]["ma"] for f in doc["features"]) == sorted(r["code"] for r in COMMUNES)
    of_province = {r["code"]: r["province_code"] for r in COMMUNES}
    assert all(f["properties"]["ma_tinh"] == of_province[f["properties"]["ma"]] for f in doc["features"])
    assert all(f["geometry"] is not None for f in doc["features"])
    assert doc["du_lieu_mau"] is True and doc["ranh_gioi"]["so_do_minh_hoa"] is True and doc["pham_vi"] == "all"
    psize, pbody = gzip_size(client, f"/api/layers/provinces?year={YEAR}")
    provinces = json.loads(pbody)
    assert sorted(f["properties"]["ma"] for f in provinces["features"]) == sorted(PROVINCES)
    print(f"\nschematic: communes {len(body):,} B raw, {size:,} B gzip; provinces {len(pbody):,} B raw, {psize:,} B gzip")
    assert size <= COMMUNES_BUDGET and psize <= PROVINCES_BUDGET


def test_all_against_one_province(client):
    """province=66 is the 102 units of the new Đắk Lắk, scored as in the national layer; province=all is 3,321."""
    every = client.get(f"/api/layers/communes?year={YEAR}&province=all").json()
    one = client.get(f"/api/layers/communes?year={YEAR}&province=66").json()
    assert len(every["features"]) == len(COMMUNES) == 3321
    assert sorted(f["properties"]["ma"] for f in one["features"]) == sorted(communes_of("66")) and len(one["features"]) == 102
    assert one["pham_vi"] == "66"
    tier = {f["properties"]["ma"]: f["properties"]["hang"] for f in every["features"]}
    assert all(tier[f["properties"]["ma"]] == f["properties"]["hang"] for f in one["features"])
    assert sum(f["properties"]["hang"] == "ntm" for f in one["features"]) == 26  # the profile's 26/88
    assert len(client.get(f"/api/layers/communes?year={YEAR}&province=1").json()["features"]) == len(communes_of("01"))


def test_bad_province_and_year_name_what_is_allowed(client):
    r = client.get(f"/api/layers/communes?year={YEAR}&province=99")
    assert r.status_code == 404
    assert "province=all" in r.json()["loi"] and all(code in r.json()["loi"] for code in PROVINCES)
    assert client.get(f"/api/layers/communes?year={YEAR}&province=ha-noi").status_code == 404
    r = client.get("/api/layers/provinces?year=2024")
    assert r.status_code == 404 and "2026" in r.json()["loi"]
    assert client.get(f"/api/layers/provinces?year={YEAR}&detail=coarse").status_code == 422
    assert client.get(f"/api/layers/communes?year={YEAR}&province=all&don_vi=cu").status_code == 422


def test_province_row_against_a_hand_made_store(tmp_path):
    """Three xã of Hà Nội written NTM by hand, a fourth with 9 of 10 criteria, and a phường with all 10 (never
    counted): Hà Nội's row is 3 NTM of its xã in the CSV, average (10+10+10+9)/4; the nation's the same over 2,621 xã;
    the new Đắk Lắk has none and its official 88 xã (eligible_xa.csv)."""
    store = Store.open(tmp_path / "hand.db")
    hanoi = xa_of("01")
    phuong = next(r["code"] for r in COMMUNES if r["province_code"] == "01" and r["unit_type"] == "phuong")
    write(store, [row for u in hanoi[:3] for row in criterion_rows(u)] + criterion_rows(hanoi[3], met=9) + criterion_rows(phuong))
    official_66 = next(int(r["xa"]) for r in _read("eligible_xa.csv") if r["code"] == "66" and r["valid_to"] == "")
    with TestClient(create_app(tmp_path / "hand.db")) as c:
        doc = c.get(f"/api/national/summary?year={YEAR}").json()
        layer = c.get(f"/api/layers/provinces?year={YEAR}").json()
    store.close()
    rows = {r["ma_don_vi"]: r for r in doc["tinh"]}
    assert list(rows) == PROVINCES
    h = rows["01"]
    assert (h["so_xa"], h["dat_ntm"], h["xa_co_so_lieu"], h["xa_10"]) == (len(hanoi), 3, 4, 3)
    assert h["ty_le_ntm"] == round(3 / len(hanoi), 4) and h["binh_quan_tieu_chi"] == 9.75
    assert (rows["66"]["so_xa"], rows["66"]["dat_ntm"], rows["66"]["so_xa_chinh_thuc"]) == (88, 0, official_66)
    assert rows["66"]["binh_quan_tieu_chi"] is None  # no xã with data: no average, not 0
    nation = doc["toan_quoc"]
    assert (nation["so_xa"], nation["dat_ntm"], nation["xa_co_so_lieu"]) == (2621, 3, 4) and doc["du_lieu_mau"] is False
    props = {f["properties"]["ma"]: f["properties"] for f in layer["features"]}
    assert props["01"]["dat_ntm"] == 3 and props["01"]["ty_le_ntm"] == round(3 / len(hanoi), 4)
    assert props["01"]["chua_co_so_lieu"] == len(hanoi) - 4 and layer["toan_quoc"]["dat_ntm"] == 3


def test_cached_with_etag_and_a_write_rebuilds_properties_only(national_db, tmp_path, monkeypatch):
    builds = []
    real = api.national.view_geometry
    monkeypatch.setattr(api.national, "view_geometry", lambda *a: builds.append(a[1:]) or real(*a))
    db = tmp_path / "copy.db"
    shutil.copy(national_db, db)
    url = f"/api/layers/provinces?year={YEAR}"
    with TestClient(create_app(db)) as c:
        first = c.get(url, headers={"Accept-Encoding": "gzip"})
        etag = first.headers["etag"]
        assert c.get(url, headers={"Accept-Encoding": "gzip", "If-None-Match": etag}).status_code == 304
        before = next(f for f in first.json()["features"] if f["properties"]["ma"] == "01")["properties"]["dat_ntm"]
        store = Store.open(db)
        ntm = store.current_results(years=[YEAR]).groupby("unit")["met"].all()
        write(store, criterion_rows(next(u for u in xa_of("01") if not ntm[u])))  # one more NTM xã in Hà Nội
        store.close()
        time.sleep(0.3)  # another process's write is seen within 0.25 s (api/cache.py FRESH_FOR)
        after = c.get(url, headers={"Accept-Encoding": "gzip", "If-None-Match": etag})
        assert after.status_code == 200 and after.headers["etag"] != etag
        assert next(f for f in after.json()["features"] if f["properties"]["ma"] == "01")["properties"]["dat_ntm"] == before + 1
    assert builds == [("all", "default")]  # the geometry of the first build, kept across the write


@pytest.fixture(scope="module")
def real_db(national_db, tmp_path_factory) -> Path:
    """The national sample with the real boundaries of the 3,321 units imported (the national registry, period moi)."""
    db = tmp_path_factory.mktemp("real") / "real.db"
    shutil.copy(national_db, db)
    store = Store.open(db)
    report = import_boundaries(store, national_registry(), NATIONAL_GPKG, layer="communes", author="test")
    store.close()
    assert report.matched == 3321 and not report.missing and not report.unmatched
    return db


def test_real_boundaries_budget_and_areas(real_db):
    """On the real boundaries: both layers within budget; each province is the union of its communes (its area that of
    the file's own `provinces` layer within 3 %: islets go at ~1 km simplification); province=66 draws them too."""
    reference = gpd.read_file(NATIONAL_GPKG, layer="provinces").set_index("province_code")["area_km2"]
    with TestClient(create_app(real_db)) as c:
        size, body = gzip_size(c, f"/api/layers/communes?year={YEAR}&province=all")
        psize, pbody = gzip_size(c, f"/api/layers/provinces?year={YEAR}")
        one = c.get(f"/api/layers/communes?year={YEAR}&province=66").json()
    print(f"\nreal boundaries: communes {len(body):,} B raw, {size:,} B gzip; provinces {len(pbody):,} B raw, {psize:,} B gzip")
    assert size <= COMMUNES_BUDGET and psize <= PROVINCES_BUDGET
    doc, provinces = json.loads(body), json.loads(pbody)
    assert doc["ranh_gioi"]["so_do_minh_hoa"] is False and "vietnam_2025_communes.gpkg" in doc["ranh_gioi"]["nguon"]
    assert len(doc["features"]) == 3321 and all(f["geometry"] is not None for f in doc["features"])
    gdf = gpd.GeoDataFrame.from_features(provinces["features"], crs="EPSG:4326").set_index("ma")
    area = pd.Series(geodesic_area_km2(gdf.geometry), index=gdf.index)
    error = (area / reference.reindex(area.index) - 1).abs()
    assert len(area) == 34 and error.max() < 0.03, error.sort_values().tail(3)
    assert one["ranh_gioi"]["so_do_minh_hoa"] is False and len(one["features"]) == 102


def test_a_province_file_does_not_draw_the_nation(real_db, tmp_path):
    """After the new Đắk Lắk's own file (102 units) is imported, the latest layer no longer covers the country: the
    national view falls back to the schematic layer and says why; Đắk Lắk alone draws its file."""
    db = tmp_path / "partial.db"
    shutil.copy(real_db, db)
    store = Store.open(db)
    import_boundaries(store, load_province("66").registry, DAK_LAK_GPKG, layer="communes", author="test")
    store.close()
    with TestClient(create_app(db)) as c:
        every = c.get(f"/api/layers/communes?year={YEAR}&province=all").json()
        one = c.get(f"/api/layers/communes?year={YEAR}&province=66").json()
    assert every["ranh_gioi"]["so_do_minh_hoa"] is True and "102/3321" in every["ranh_gioi"]["nguon"]
    assert one["ranh_gioi"]["so_do_minh_hoa"] is False and "dak_lak_2025.gpkg" in one["ranh_gioi"]["nguon"]


def test_national_sample_refuses_a_store_of_another_province(tmp_path):
    """The demo's store records what it follows: a store of the new Đắk Lắk is never switched to the nation."""
    store = Store.open(tmp_path / "66.db")
    store.set_deployment_profile("66")
    with pytest.raises(StoreError, match="không đổi sang '00'"):
        load_national_sample(store)
    store.close()


# -- the map page on a national store (/map opens on the nation, or on one province) -----------------------------------


def page_data(html: str) -> dict:
    return json.loads(re.search(r'<script type="application/json" id="ntm-data">(.*?)</script>', html, re.S).group(1))


def ntm_xa(store: Store, year: int = YEAR) -> set[str]:
    """The xã whose every criterion of 51/2025 is met in the store (the sample writes criterion-level results)."""
    results = store.current_results(years=[year])
    met = results[results["tier_set"] == "ntm"].groupby("unit")["met"].agg(["all", "size"])
    return set(met.index[met["all"] & (met["size"] == len(CRITERIA))])


def check_national_page(client: TestClient, url: str) -> tuple[int, dict, str]:
    """The page's gzip size, its data and its text; it names the 34 provinces (units_moi.csv), carries 34 features and
    not one commune's, and may fetch only from its own site."""
    size, body = gzip_size(client, url)
    html = body.decode("utf-8")
    data = page_data(html)
    assert {f["properties"]["ma"]: f["properties"]["ten"] for f in data["cac_tinh"]["features"]} == PROVINCE_NAMES
    assert all(name in html for name in PROVINCE_NAMES.values())
    assert html.count('"type":"Feature"') == 34 and "communes" not in data  # the 34 provinces, no commune geometry
    assert not set(re.findall(r'"ma":"(\d{5})"', html)) & {r["code"] for r in COMMUNES}
    assert "connect-src 'self'" in client.get(url).headers["content-security-policy"]
    return size, data, html


def test_national_map_opens_on_the_nation_small(client, national_db):
    """/map on a store of `nongthon demo --national`: the 34 provinces and the national report of the year, within
    300 KB gzip (the old page drew 3,321 schematic communes as one province: 1.9 MB)."""
    size, data, html = check_national_page(client, "/map")
    print(f"\nnational map page (schematic): {size:,} B gzip")
    assert size <= MAP_BUDGET
    assert data["mo_tinh"] is None and data["nam_mac_dinh"] == YEAR and data["cac_nam"] == [YEAR]
    assert data["xa_url"] == "/api/layers/communes" and "ntmNational(" in html
    store = Store.open(national_db)
    ntm = ntm_xa(store)
    store.close()
    nation = data["theo_nam"][str(YEAR)]["toan_quoc"]
    assert (nation["so_xa"], nation["dat_ntm"], nation["xa_co_so_lieu"]) == (len(XA), len(ntm), len(XA))
    rows = data["theo_nam"][str(YEAR)]["tinh"]
    assert sorted(rows) == sorted(PROVINCES)
    assert rows["66"]["dat_ntm"] == 26 and rows["66"]["ty_le_ntm"] == round(26 / 88, 4)  # the profile's 26/88
    assert all(rows[p]["dat_ntm"] == len(ntm & set(xa_of(p))) and rows[p]["so_xa"] == len(xa_of(p)) for p in PROVINCES)
    assert [b["loai"] for b in data["bieu_ngu"]] == ["sample", "schematic"]
    assert "<title>Nông thôn mới — Toàn quốc</title>" in html
    assert page_data(client.get(f"/map?year={YEAR}").text) == data  # the year asked is the same page
    later = page_data(client.get(f"/map?year={YEAR + 1}").text)  # a national year without data: offered, empty
    assert later["cac_nam"] == [YEAR, YEAR + 1] and later["theo_nam"][str(YEAR + 1)]["toan_quoc"]["xa_co_so_lieu"] == 0


def test_national_map_opens_on_one_province_and_refuses_another_code(client):
    _, data, _ = check_national_page(client, "/map?province=66")
    assert data["mo_tinh"] == "66"
    assert page_data(client.get("/map?province=1").text)["mo_tinh"] == "01"
    assert page_data(client.get("/map?province=all").text)["mo_tinh"] is None
    r = client.get("/map?province=99")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert "province=all" in r.text and all(f"{code} (" in r.text for code in PROVINCES)
    assert client.get("/map?year=2024").status_code == 404  # before the new units: not a national year
    assert client.get("/map?don_vi=cu").status_code == 422


def test_national_map_in_english(client):
    html = client.get("/map?lang=en").text
    data = page_data(html)
    assert data["ngon_ngu"] == "en" and data["ten_tinh"] == "Whole country"
    assert "<title>New Rural Development — Whole country</title>" in html
    words = data["kieu"]["chu"]
    assert words["ve_toan_quoc"] == "← Whole country" and words["ty_le_xa_ntm"] == "Share of communes meeting the NTM standard"
    assert words["cot_tinh"] == "Province / city" and words["phuong_dac_khu_khong_xet"] == "Wards, special zones (not assessed)"
    assert data["theo_nam"][str(YEAR)]["ten_tieu_chi"]["1"] == "Planning"  # 51/2025, criterion 1: Quy hoạch
    assert [b["chu"].split(".")[0] for b in data["bieu_ngu"]] == [
        "SAMPLE DATA — not official figures",
        "Schematic sketch — not the official boundaries",
    ]
    r = client.get("/map?province=99&lang=en")
    assert r.status_code == 404 and "There is no province with code '99' among the 34 provinces" in unescape(r.text)


def test_a_province_store_refuses_province_on_its_map(tmp_path):
    with TestClient(create_app(tmp_path / "pu.db")) as c:
        r = c.get("/map?province=66")
    assert r.status_code == 422 and "province='66': chỉ dùng khi cơ sở dữ liệu theo dõi toàn quốc" in unescape(r.text)


def test_national_map_on_the_real_boundaries_is_small(real_db):
    """On the real boundaries of the 3,321 units the page carries the province layer (≈ 106 KB gzip alone)."""
    with TestClient(create_app(real_db)) as c:
        size, data, _ = check_national_page(c, "/map")
    print(f"\nnational map page (real boundaries): {size:,} B gzip")
    assert size <= MAP_BUDGET and data["so_do"] is False and [b["loai"] for b in data["bieu_ngu"]] == ["sample"]
