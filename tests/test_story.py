"""The whole story of issue 11, as the office lives it: a store of the new Tỉnh Đắk Lắk (66) that carries Phú Yên's
history (54) — close out 2021–2025, view the last old year in the new units, track 2026 on the 88 new xã and project
to 2030 — through the CLI and the API, without losing a year. Oracles: the registry CSVs (read with csv), the
reference counts (26/88), the target files' declared targets, and hand-picked units (22303 reused)."""

import csv
import io
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

from api.app import create_app
from nongthon.cli import main

ROOT = Path(__file__).resolve().parents[1]


def _units(province: str, name: str) -> dict[str, dict]:
    with open(ROOT / "geodata" / name, encoding="utf-8", newline="") as f:
        return {r["code"]: r for r in csv.DictReader(f) if r["province_code"] == province and r["level"] == "commune"}


OLD = _units("54", "units_cu.csv")
NEW = _units("66", "units_moi.csv")
TARGETS_2030 = {
    f.stem: [t["id"] for t in yaml.safe_load(f.read_text(encoding="utf-8"))["targets"]]
    for f in (ROOT / "nongthon" / "targets").glob("*.yaml")
    if f.stem in ("nq257-2030", "dak-lak-2026-2030")
}


@pytest.fixture(scope="module")
def story(tmp_path_factory):
    db = tmp_path_factory.mktemp("story") / "dak-lak.db"
    assert main(["--db", str(db), "demo"]) == 0
    with TestClient(create_app(db)) as client:
        yield db, client


def test_close_out_2021_2025_is_phu_yen(story, capsys):
    db, client = story
    assert main(["--db", str(db), "closeout", "--period", "2021-2025", "--csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert rows and {r["nam_so_lieu"] for r in rows if r["nam_so_lieu"]} == {"2025"}
    r = client.get("/api/closeout?period=2021-2025").json()
    assert r["du_lieu_mau"] is True and r["tinh"] == {"ma": "54", "ten": "Tỉnh Phú Yên", "don_vi": "cu"}


def test_every_year_is_shown_in_the_units_of_its_time(story):
    _, client = story
    old = client.get("/api/layers/communes?year=2024").json()
    new = client.get("/api/layers/communes?year=2026").json()
    assert {f["properties"]["ma"] for f in old["features"]} == set(OLD) and len(OLD) == 106
    assert {f["properties"]["ma"] for f in new["features"]} == set(NEW) and len(NEW) == 102
    assert old["du_lieu_mau"] is True and new["du_lieu_mau"] is True
    s24, s26 = client.get("/api/summary?year=2024").json(), client.get("/api/summary?year=2026").json()
    assert s24["so_tieu_chi"] == 19 and s26["so_tieu_chi"] == 10 and s26["bo_tieu_chi"] == "qd51-2025"
    province26 = s26["don_vi"][-1]
    assert (province26["ma_don_vi"], province26["so_xa"], province26["dat_ntm"]) == ("66", 88, 26)
    assert any(u["ma_don_vi"] == "559" for u in s24["don_vi"])  # Tuy An district, before the district level ended


def test_a_reused_code_is_two_units(story):
    _, client = story
    new = client.get("/api/communes/22303").json()  # today's units by default
    old = client.get("/api/communes/22303?don_vi=cu").json()
    assert new["ten"] == NEW["22303"]["name"] == "Xã Phú Hòa 2" and [y["nam"] for y in new["cac_nam"]] == [2026]
    assert old["ten"] == OLD["22303"]["name"] == "Xã Hòa Quang Bắc" and [y["nam"] for y in old["cac_nam"]] == list(range(2016, 2026))
    assert client.get("/api/communes/22303?don_vi=xyz").status_code == 422


def test_2025_in_the_new_units_is_derived_never_a_tier(story):
    _, client = story
    r = client.get("/api/history/units?year=2025&don_vi=moi").json()
    assert r["don_vi"] == "moi" and r["tinh_moi"]["ma"] == "66"
    xa = [u for u in r["xa"] if u["trang_thai_suy_ra"]["suy_ra"] is True]
    assert len(xa) == len(r["xa"]) == sum(1 for u in NEW.values() if u["unit_type"] == "xa") == 88
    assert all("hang" not in u for u in xa)  # a derived state, never a tier
    # every former unit is scored (Phú Yên's with 54, the old Đắk Lắk's with 66-cu): no new xã lacks data in 2025
    assert {u["trang_thai_suy_ra"]["ma"] for u in xa} <= {"moi_xa_cu_dat", "mot_phan", "chua"}
    assert client.get("/api/history/units?year=2026&don_vi=cu").status_code == 422


def test_2026_progress_and_projection_to_2030(story):
    _, client = story
    p = client.get("/api/progress?year=2026").json()
    sets = {b["ma"]: [m["ma"] for m in b["muc_tieu"]] for b in p["bo_muc_tieu"]}
    assert set(sets) == set(TARGETS_2030) and all(set(sets[k]) == set(TARGETS_2030[k]) for k in sets)
    assert p["ty_le"]["ntm"] == pytest.approx(26 / 88) and p["ty_le"]["advanced"] is None  # no nâng cao set in qd51
    proj = client.get("/api/projections?runs=200").json()
    assert (proj["nam_bat_dau"], proj["nam_dich"]) == (2026, 2030)
    assert "ntm_hien_dai" in proj["theo_nam"][-1] and "nang_cao" not in proj["theo_nam"][-1]
    ids = {m["ma"] for m in proj["muc_tieu"]}
    assert ids >= set(TARGETS_2030["nq257-2030"]) | set(TARGETS_2030["dak-lak-2026-2030"])
