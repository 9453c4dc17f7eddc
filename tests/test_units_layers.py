"""Layers and the map in the units asked (issue 11.3): ``don_vi=moi`` shows a year up to 2025 in the new units, each
new xã with its derived state from its former xã — never a tier; from 2026 only the new units exist. Expectations
come from the registry and crosswalk CSVs read here with the csv module, and from hand-made results."""

import csv
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from nongthon.cli import main
from nongthon.maps import map_data
from nongthon.province import load_province
from nongthon.store import Store
from tests.conftest import results_frame

GEODATA = Path(__file__).resolve().parents[1] / "geodata"
NOTE = "suy ra từ các xã cũ — không phải hạng được công nhận"  # what every derived state must say it is
NTM_CRITERIA = [str(i) for i in range(1, 20)]  # 318/2022: 19 criteria in the NTM set


def _read(name: str) -> list[dict]:
    with open(GEODATA / name, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


UNITS_MOI = {r["code"]: r for r in _read("units_moi.csv") if r["province_code"] == "66" and r["level"] == "commune"}
NAMES_CU = {r["code"]: r["name"] for r in _read("units_cu.csv")}
CROSSWALK = [r for r in _read("crosswalk_2025.csv") if r["tinh_moi"] == "66"]


def former(new_code: str) -> list[str]:
    return sorted(r["ma_cu"] for r in CROSSWALK if r["ma_moi"] == new_code)


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> Path:
    """A database made by `nongthon demo` (the new Đắk Lắk, 66, with Phú Yên before 2026)."""
    db = tmp_path_factory.mktemp("demo") / "demo.db"
    assert main(["--db", str(db), "demo"]) == 0
    return db


@pytest.fixture(scope="module")
def client(demo_db):
    with TestClient(create_app(demo_db)) as c:
        yield c


def ntm_rows(unit: str, year: int, met: bool = True) -> list[dict]:
    """19 criteria at criterion level: all met, or all but criterion 17."""
    return [{"unit": unit, "year": year, "item": i, "met": met or i != "17"} for i in NTM_CRITERIA]


@pytest.fixture
def hand_store(tmp_path):
    """Phú Yên alone (the tool's first deployment) with 2024 results for four former xã, written by hand:
    Xã Xuân Lộc (22057) = Xuân Hải (22054) + Xuân Lộc (22057), both NTM; Xã Tuy An Đông (22120) = 22120 NTM,
    22123 and 22126 not (each misses criterion 17)."""
    assert former("22057") == ["22054", "22057"] and former("22120") == ["22120", "22123", "22126"]
    rows = ntm_rows("22054", 2024) + ntm_rows("22057", 2024) + ntm_rows("22120", 2024)
    rows += ntm_rows("22123", 2024, met=False) + ntm_rows("22126", 2024, met=False)
    store = Store.open(tmp_path / "hand.db")
    store.write_results(results_frame(rows), source="kiểm thử", author="test")
    yield store
    store.close()


def test_2024_in_the_new_units_has_the_102_units_of_the_csv(client):
    r = client.get("/api/layers/communes", params={"year": 2024, "don_vi": "moi"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/geo+json")
    doc = r.json()
    assert doc["don_vi"] == "moi" and doc["suy_ra"] is True and NOTE in doc["ghi_chu_suy_ra"] and doc["du_lieu_mau"] is True
    props = {f["properties"]["ma"]: f["properties"] for f in doc["features"]}
    assert len(doc["features"]) == len(props) == len(UNITS_MOI) == 102
    assert set(props) == set(UNITS_MOI)
    assert all(f["geometry"] is not None for f in doc["features"])  # the new units' (schematic) layer
    for code, p in props.items():
        assert p["hang"] is None and p["so_tieu_chi_dat"] is None  # never a tier for a new unit before 2026
        assert p["ten"] == UNITS_MOI[code]["name"] and p["ma_huyen"] is None
        if UNITS_MOI[code]["unit_type"] == "xa":
            assert p["du_dieu_kien"] and p["suy_ra"] is True and NOTE in p["ghi_chu_suy_ra"]
            assert sorted(u["ma"] for u in p["don_vi_cu"]) == former(code)
            assert p["trang_thai_suy_ra"] in {"moi_xa_cu_dat", "mot_phan", "chua", "chua_co_so_lieu", "khong_co_xa_cu"}
        else:
            assert not p["du_dieu_kien"] and p["suy_ra"] is False and p["trang_thai_suy_ra"] is None
    assert sum(p["suy_ra"] for p in props.values()) == sum(u["unit_type"] == "xa" for u in UNITS_MOI.values()) == 88
    # the same year in the units of its time: Phú Yên's 106 former communes — another cache entry
    old = client.get("/api/layers/communes", params={"year": 2024}).json()
    assert old["don_vi"] == "cu" and len(old["features"]) == 106 and "suy_ra" not in old
    assert client.get("/api/layers/communes", params={"year": 2024, "don_vi": "cu"}).json()["features"] == old["features"]


def test_a_new_xa_whose_former_xa_are_all_ntm(hand_store):
    with TestClient(create_app(hand_store.engine.url.database, province=load_province("54"))) as c:
        doc = c.get("/api/layers/communes", params={"year": 2024, "don_vi": "moi"}).json()
    assert doc["du_lieu_mau"] is False and len(doc["features"]) == 102
    props = {f["properties"]["ma"]: f["properties"] for f in doc["features"]}
    loc = props["22057"]
    assert loc["ten"] == "Xã Xuân Lộc" and loc["trang_thai_suy_ra"] == "moi_xa_cu_dat" and loc["hang"] is None
    assert loc["trang_thai_suy_ra_ten"] == "mọi xã cũ đã đạt chuẩn NTM" and loc["xa_cu"] == 2 and loc["xa_cu_dat"] == 2
    assert loc["ty_le_dien_tich_dat"] == 1.0 and loc["quyet_dinh_xa_moi"] is None
    assert {(u["ma"], u["ten"], u["trang_thai"], u["hang_danh_gia"]) for u in loc["don_vi_cu"]} == {
        ("22054", NAMES_CU["22054"], "dat", "ntm"),
        ("22057", NAMES_CU["22057"], "dat", "ntm"),
    }
    dong = props["22120"]  # one former xã of three NTM: partial, and which one
    assert dong["trang_thai_suy_ra"] == "mot_phan" and dong["xa_cu_dat_ma"] == ["22120"] and dong["hang"] is None
    assert dong["ty_le_dien_tich_dat"] is None  # without boundaries of the old units the share is unknown
    # a new xã whose former xã have no 2024 result: no data, never "chưa"
    hoa = props["22303"]
    assert not set(former("22303")) & {"22054", "22057", "22120", "22123", "22126"} and hoa["trang_thai_suy_ra"] == "chua_co_so_lieu"


def test_map_data_of_the_new_units(hand_store):
    data = map_data(hand_store, load_province("54"), 2024, forecast=False, don_vi="moi")
    assert data["suy_ra"] is True and data["don_vi"] == "moi" and data["don_vi_khac"] == "cu"
    assert len(data["communes"]["features"]) == 102 and data["districts"]["features"] == []
    assert [b["chu"] for b in data["bieu_ngu"] if b["loai"] == "derived"] == ["Trạng thái " + NOTE]
    year = data["theo_nam"]["2024"]
    loc = year["suy_ra"]["22057"]
    assert loc["s"] == "moi_xa_cu_dat" and (loc["dat"], loc["n"]) == (2, 2)
    assert [(u["t"], u["w"]) for u in loc["cu"]] == [(NAMES_CU["22054"], "đạt chuẩn NTM"), (NAMES_CU["22057"], "đạt chuẩn NTM")]
    assert year["tom_tat"]["moi_xa_cu_dat"] == 1 and year["tom_tat"]["mot_phan"] == 1 and year["xa"] == {}
    assert year["tinh"] is None and year["muc_tieu"] == []  # no tier, so no share against a target
    assert "22015" not in year["suy_ra"]  # Phường Tuy Hòa: not eligible
    # the old units' page links the new units, only when served (a saved file has no server to ask)
    assert map_data(hand_store, load_province("54"), 2024, forecast=False)["don_vi_khac"] == "moi"
    assert map_data(hand_store, load_province("54"), 2024, forecast=False, don_vi="cu")["suy_ra"] is False


@pytest.mark.parametrize("path", ["/api/layers/communes", "/map"])
def test_units_refused_with_the_rule(client, path):
    r = client.get(path, params={"year": 2026, "don_vi": "cu"})
    assert r.status_code == 422
    text = r.json()["loi"] if path.startswith("/api") else r.text
    assert "don_vi=cu" in text and "từ 2026 chỉ còn đơn vị mới" in text
    r = client.get(path, params={"year": 2024, "don_vi": "xyz"})
    assert r.status_code == 422
    text = r.json()["loi"] if path.startswith("/api") else r.text
    assert "xyz" in text and "cu (" in text and "moi (" in text


def test_a_criterion_cannot_colour_derived_states(client):
    r = client.get("/api/layers/communes", params={"year": 2024, "don_vi": "moi", "criterion": 17})
    assert r.status_code == 422 and "criterion=17" in r.json()["loi"] and "don_vi=cu" in r.json()["loi"]


def test_2026_layer_is_the_new_units_with_tiers(client):
    doc = client.get("/api/layers/communes", params={"year": 2026}).json()
    assert doc["don_vi"] == "moi" and "suy_ra" not in doc
    assert {f["properties"]["ma"] for f in doc["features"]} == set(UNITS_MOI)
    assert client.get("/api/layers/communes", params={"year": 2026, "don_vi": "moi"}).json() == doc
    xa = [f["properties"] for f in doc["features"] if f["properties"]["du_dieu_kien"]]
    assert len(xa) == 88 and {p["hang"] for p in xa} <= {"chua_dat", "ntm", "ntm_hien_dai"} and all(p["so_tieu_chi"] == 10 for p in xa)


def test_map_pages_differ_by_units(client):
    old = client.get("/map", params={"year": 2024})
    new = client.get("/map", params={"year": 2024, "don_vi": "moi"})
    assert old.status_code == new.status_code == 200 and old.headers["etag"] != new.headers["etag"]
    assert "Trạng thái " + NOTE in new.text and "Trạng thái " + NOTE not in old.text
    data = json.loads(new.text.split('id="ntm-data">', 1)[1].split("</script>", 1)[0])
    assert data["suy_ra"] is True and len(data["communes"]["features"]) == 102 and max(data["cac_nam"]) == 2025
