"""History in today's units (issue 11.3): each new xã's derived state from its former xã — never a tier — and,
apart, the decision taken for the new xã. Expectations come from the crosswalk CSV and the registry CSVs read here
with the csv module, and from hand-made results."""

import csv
import json
from datetime import date
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyproj
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from nongthon.cli import main
from nongthon.errors import InvalidParameter
from nongthon.history import DERIVED_NOTE_VI, derived_states, history_units, units_for_year
from nongthon.province import load_province
from nongthon.units import load_registry
from tests.conftest import SHARED, results_frame

GEODATA = Path(__file__).resolve().parents[1] / "geodata"
NTM_CRITERIA = [str(i) for i in range(1, 20)]  # 318/2022: 19 criteria in the NTM set


def _read(name: str) -> list[dict]:
    with open(GEODATA / name, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


CROSSWALK = _read("crosswalk_2025.csv")
TYPE_CU = {r["code"]: r["unit_type"] for r in _read("units_cu.csv")}
TYPE_MOI = {r["code"]: r["unit_type"] for r in _read("units_moi.csv") if r["province_code"] == "66"}


def former(new_code: str) -> list[dict]:
    """The crosswalk CSV's rows of one new unit of Đắk Lắk (66)."""
    return [r for r in CROSSWALK if r["tinh_moi"] == "66" and r["ma_moi"] == new_code]


def ntm_rows(unit: str, year: int, met: bool = True) -> list[dict]:
    """19 criteria at criterion level: all met, or all but criterion 17."""
    return [{"unit": unit, "year": year, "item": i, "met": met or i != "17"} for i in NTM_CRITERIA]


def recs(rows: list[tuple]) -> pd.DataFrame:
    cols = ["unit", "tier", "action", "decision_number", "decision_date"]
    return pd.DataFrame([dict(zip(cols, r)) | {"id": i + 1} for i, r in enumerate(rows)], columns=[*cols, "id"])


NO_RECS = recs([])


@pytest.fixture(scope="module")
def parts():
    return [load_province("54")], load_registry("66", "moi")


def pairs_of(codes: list[str], shares: dict[str, float] | None = None) -> pd.DataFrame:
    """The CSV's pairs of some new units, with the share 1 for whole units and unknown for divided ones (what the
    converter table knows), or the ``shares`` given by hand."""
    rows = [r for c in codes for r in former(c)]
    share = [(shares or {}).get(r["ma_cu"], None if r["chia_tach"] == "1" else 1.0) for r in rows]
    return pd.DataFrame({"ma_moi": [r["ma_moi"] for r in rows], "ma_cu": [r["ma_cu"] for r in rows], "ty_le_dien_tich": share})


def test_two_new_xa_by_hand(parts):
    old, new = parts
    # Xã Xuân Lộc (22057) = Xuân Lộc (22057) + Xuân Hải (22054), both whole (crosswalk_2025.csv lines 6955–6956)
    loc = [r["ma_cu"] for r in former("22057")]
    assert sorted(loc) == ["22054", "22057"] and all(r["chia_tach"] == "0" for r in former("22057"))
    # Xã Tuy An Đông (22120) = 22120, 22123, 22126, all whole xã
    dong = [r["ma_cu"] for r in former("22120")]
    assert sorted(dong) == ["22120", "22123", "22126"] and all(TYPE_CU[c] == "xa" for c in dong)
    rows = [row for c in loc for row in ntm_rows(c, 2024)]
    rows += ntm_rows("22120", 2024) + ntm_rows("22123", 2024, met=False) + ntm_rows("22126", 2024, met=False)
    results = results_frame(rows)
    areas = {"22120": 12.0, "22123": 20.0, "22126": 8.0}  # km², by hand
    out = derived_states(results, NO_RECS, old, new, pairs_of(["22057", "22120"]), 2024, areas).set_index("ma_moi")
    assert list(out.index) == ["22057", "22120"]
    a, b = out.loc["22057"], out.loc["22120"]
    assert (a["trang_thai_suy_ra"], a["xa_cu_dat"], a["xa_cu"], a["ty_le_dien_tich_dat"]) == ("moi_xa_cu_dat", 2, 2, 1.0)
    assert (b["trang_thai_suy_ra"], b["xa_cu_dat"], b["xa_cu"]) == ("mot_phan", 1, 3)
    assert b["ty_le_dien_tich_dat"] == pytest.approx(12 / (12 + 20 + 8))
    assert {u["ma"]: u["trang_thai"] for u in b["don_vi_cu"]} == {"22120": "dat", "22123": "chua_dat", "22126": "chua_dat"}
    assert a["suy_ra"] and b["suy_ra"]
    # without boundaries of the old units the share of a partial xã is unknown; "all" and "none" need no area
    out = derived_states(results, NO_RECS, old, new, pairs_of(["22057", "22120"]), 2024).set_index("ma_moi")
    assert pd.isna(out.at["22120", "ty_le_dien_tich_dat"]) and out.at["22057", "ty_le_dien_tich_dat"] == 1.0


def test_a_former_thi_tran_is_not_counted_and_a_divided_unit_needs_its_share(parts):
    old, new = parts
    # Xã Đồng Xuân (22081) = Thị trấn La Hai (22081) + four xã, all whole
    rows = former("22081")
    xa = [r["ma_cu"] for r in rows if TYPE_CU[r["ma_cu"]] == "xa"]
    assert [TYPE_CU[r["ma_cu"]] for r in rows].count("thi_tran") == 1 and len(xa) == 4
    results = results_frame([row for c in xa for row in ntm_rows(c, 2024)])
    areas = {r["ma_cu"]: 10.0 for r in rows} | {"22081": 5.0}
    got = derived_states(results, NO_RECS, old, new, pairs_of(["22081"]), 2024, areas).iloc[0]
    assert (got["trang_thai_suy_ra"], got["xa_cu_dat"], got["xa_cu"]) == ("moi_xa_cu_dat", 4, 4)
    assert got["ty_le_dien_tich_dat"] == pytest.approx(40 / 45)  # the thị trấn's 5 km² is not NTM land
    assert [u["trang_thai"] for u in got["don_vi_cu"] if u["ma"] == "22081"] == ["khong_xet"]
    # Xã Phú Hòa 2 (22303) = Hòa Quang Bắc (22303), Hòa Quang Nam (22306) whole + part of Hòa Trị (22312)
    assert {(r["ma_cu"], r["chia_tach"]) for r in former("22303")} == {("22303", "0"), ("22306", "0"), ("22312", "1")}
    results = results_frame(ntm_rows("22303", 2024) + ntm_rows("22306", 2024) + ntm_rows("22312", 2024, met=False))
    areas = {"22303": 10.0, "22306": 14.0, "22312": 30.0}
    got = derived_states(results, NO_RECS, old, new, pairs_of(["22303"]), 2024, areas).iloc[0]
    assert (got["trang_thai_suy_ra"], got["xa_cu_dat"], got["xa_cu"]) == ("mot_phan", 2, 3)
    assert pd.isna(got["ty_le_dien_tich_dat"])  # Hòa Trị's share is unknown from the table alone
    got = derived_states(results, NO_RECS, old, new, pairs_of(["22303"], {"22312": 0.4}), 2024, areas).iloc[0]
    assert got["ty_le_dien_tich_dat"] == pytest.approx((10 + 14) / (10 + 14 + 30 * 0.4))


def test_former_xa_of_the_old_dak_lak_have_no_data(parts):
    old, new = parts
    on_old_dak_lak = sorted({r["ma_moi"] for r in CROSSWALK if r["tinh_moi"] == "66" and r["tinh_cu"] == "66"})
    code = next(c for c in on_old_dak_lak if TYPE_MOI[c] == "xa")
    assert all(r["tinh_cu"] == "66" for r in former(code))
    # results for every former Phú Yên xã of that year are there; none for the old Đắk Lắk (no profile, no data)
    py_xa = [r["ma_cu"] for r in CROSSWALK if r["tinh_cu"] == "54" and TYPE_CU[r["ma_cu"]] == "xa"]
    results = results_frame([row for c in py_xa[:5] for row in ntm_rows(c, 2024, met=False)])
    got = derived_states(results, NO_RECS, old, new, pairs_of([code]), 2024).iloc[0]
    assert got["trang_thai_suy_ra"] == "chua_co_so_lieu" and got["xa_cu_dat"] == 0
    assert {u["trang_thai"] for u in got["don_vi_cu"] if u["loai"] == "xa"} == {"chua_co_so_lieu"}
    assert pd.isna(got["ty_le_dien_tich_dat"])


def test_no_tier_for_a_merged_xa_only_a_decision_taken_for_it(parts):
    old, new = parts
    results = results_frame(ntm_rows("22303", 2024) + ntm_rows("22306", 2024) + ntm_rows("22312", 2024))
    # the former xã were recognised (22303 then named Hòa Quang Bắc): a decision of the old unit, not of Phú Hòa 2
    before = recs([(c, "advanced", "recognise", f"{c}/QĐ-UBND", date(2023, 12, 15)) for c in ("22303", "22306", "22312")])
    got = derived_states(results, before, old, new, pairs_of(["22303"]), 2024).iloc[0]
    assert got["trang_thai_suy_ra"] == "moi_xa_cu_dat" and got["xa_cu_cong_nhan"] == 3
    assert got["quyet_dinh_hang"] is None and got["quyet_dinh_so"] is None
    assert {u["hang_cong_nhan"] for u in got["don_vi_cu"]} == {"nang_cao"}  # the former units keep their own
    tier_like = [k for k in got.index if "hang" in k or "tier" in k]
    assert tier_like == ["quyet_dinh_hang"]  # the only tier of the new xã is a decision's
    # a decision for the new code from 1 July 2025 is the new xã's
    after = recs([*before.drop(columns="id").itertuples(index=False), ("22303", "ntm", "recognise", "99/QĐ-UBND", date(2025, 9, 1))])
    got = derived_states(results, after, old, new, pairs_of(["22303"]), 2024).iloc[0]
    assert (got["quyet_dinh_hang"], got["quyet_dinh_so"], got["quyet_dinh_ngay"]) == ("ntm", "99/QĐ-UBND", "2025-09-01")


def _ntm_2024(store) -> set[str]:
    """The xã whose 19 NTM criteria of 2024 are all recorded met (the sample records every criterion)."""
    met: dict[str, list[bool]] = {}
    for r in store.current_results(years=[2024]).itertuples():
        if r.tier_set == "ntm" and r.level == "criterion":
            met.setdefault(r.unit, []).append(bool(r.met))
    return {u for u, m in met.items() if len(m) == 19 and all(m)}


def test_2024_on_the_sample(sample_store, province):
    doc = history_units(sample_store, province, 2024, "moi")
    assert doc["don_vi"] == "moi" and doc["du_lieu_mau"] and doc["ghi_chu"] == DERIVED_NOTE_VI
    states = {x["ma"]: x["trang_thai_suy_ra"] for x in doc["xa"]}
    assert set(states) == {c for c, t in TYPE_MOI.items() if t == "xa"}  # the 88 xã
    ntm = _ntm_2024(sample_store)
    expected = {"moi_xa_cu_dat": 0, "mot_phan": 0, "chua": 0}
    on_phu_yen = set()
    for code in sorted(states):
        rows = former(code)
        if rows[0]["tinh_cu"] != "54":
            assert states[code]["ma"] == "chua_co_so_lieu"
            continue
        on_phu_yen.add(code)
        xa = [r["ma_cu"] for r in rows if TYPE_CU[r["ma_cu"]] == "xa"]
        done = [c for c in xa if c in ntm]
        key = "moi_xa_cu_dat" if len(done) == len(xa) else ("chua" if not done else "mot_phan")
        expected[key] += 1
        assert states[code]["ma"] == key and states[code]["xa_cu_dat"] == len(done) and states[code]["xa_cu"] == len(xa)
        assert states[code]["suy_ra"] is True and DERIVED_NOTE_VI in states[code]["ghi_chu"]
    assert len(on_phu_yen) == 27
    assert {k: doc["tom_tat"][k] for k in expected} == expected and expected["moi_xa_cu_dat"] > 0
    assert doc["tom_tat"]["chua_co_so_lieu"] == 88 - 27


def test_shares_from_the_imported_boundaries(mapped_store, province):
    """With the real pre-2025 boundaries imported, a partial xã whose former units all went in whole has the share
    of its area that its NTM former xã make up, checked against geodesic areas of the file computed here."""
    gpkg = gpd.read_file(SHARED / "geodata" / "phu_yen_pre2025.gpkg", layer="communes").set_index("gso_code")
    geod = pyproj.Geod(ellps="WGS84")
    doc = history_units(mapped_store, province, 2024, "moi")
    checked = 0
    for x in doc["xa"]:
        s, rows = x["trang_thai_suy_ra"], former(x["ma"])
        if s["ma"] != "mot_phan" or any(r["chia_tach"] == "1" for r in rows):
            continue
        area = {r["ma_cu"]: abs(geod.geometry_area_perimeter(gpkg.at[r["ma_cu"], "geometry"])[0]) for r in rows}
        expected = sum(area[c] for c in s["xa_cu_dat_ma"]) / sum(area.values())
        assert s["ty_le_dien_tich_dat"] == pytest.approx(expected, abs=1e-3), x["ma"]
        checked += 1
    assert checked >= 1
    divided = [x for x in doc["xa"] if x["trang_thai_suy_ra"]["ma"] == "mot_phan" and any(r["chia_tach"] == "1" for r in former(x["ma"]))]
    assert all(x["trang_thai_suy_ra"]["ty_le_dien_tich_dat"] is None for x in divided)


def test_from_2026_only_the_new_units():
    assert units_for_year(2024) == "cu" and units_for_year(2024, "moi") == "moi" and units_for_year(2026) == "moi"
    with pytest.raises(InvalidParameter, match="từ 2026 chỉ còn đơn vị mới"):
        units_for_year(2026, "cu")
    with pytest.raises(InvalidParameter, match="cho phép: cu"):
        units_for_year(2024, "ca")


def test_api(sample_store):
    app = create_app(sample_store.engine.url.database)
    with TestClient(app) as c:
        r = c.get("/api/history/units", params={"year": 2026, "don_vi": "cu"})
        assert r.status_code == 422 and "từ 2026 chỉ còn đơn vị mới" in r.json()["loi"]
        r = c.get("/api/history/units", params={"year": 2024, "don_vi": "moi"})
        assert r.status_code == 200 and r.headers["etag"]
        doc = json.loads(r.text, parse_constant=lambda v: pytest.fail(f"{v} in JSON"))  # no NaN
        assert len(doc["xa"]) == 88
        for x in doc["xa"]:
            assert set(x) == {"ma", "ten", "trang_thai_suy_ra", "don_vi_cu", "quyet_dinh_xa_moi"}
            assert x["trang_thai_suy_ra"]["suy_ra"] is True and not any("hang" in k for k in x["trang_thai_suy_ra"])
        r = c.get("/api/history/units", params={"year": 2024})  # the units of its time: the former units
        assert r.status_code == 200 and r.json()["don_vi"] == "cu"
        former_py = [u for u in r.json()["don_vi_cu"] if u["tinh_cu"] == "54"]
        assert len(former_py) == 106 and sum(u["loai"] == "xa" for u in former_py) == 82
        assert {u["trang_thai"] for u in r.json()["don_vi_cu"] if u["tinh_cu"] == "66" and u["loai"] == "xa"} == {"chua_co_so_lieu"}


def test_cli(sample_db, capsys):
    assert main(["report", "--db", str(sample_db), "--year", "2024", "--don-vi", "moi"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("*** DỮ LIỆU MẪU") and DERIVED_NOTE_VI in out
    lines = [line for line in out.splitlines() if line[:5].isdigit()]
    assert len(lines) == 88 and any(line.startswith("22057") and "Xã Xuân Lộc" in line for line in lines)
    assert main(["report", "--db", str(sample_db), "--year", "2024", "--don-vi", "moi", "--csv"]) == 0
    rows = list(csv.DictReader(capsys.readouterr().out.splitlines()))
    assert len(rows) == 88 and {r["trang_thai_suy_ra"] for r in rows if r["ma_moi"] in {"22057", "22120"}} <= {
        "moi_xa_cu_dat",
        "mot_phan",
        "chua",
    }
    assert main(["report", "--db", str(sample_db), "--year", "2026", "--don-vi", "cu"]) == 1
    assert "từ 2026 chỉ còn đơn vị mới" in capsys.readouterr().err
