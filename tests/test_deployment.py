"""A deployment follows a province through time (issue 11.1): the new Tỉnh Đắk Lắk (66) from 1 July 2025 with
its predecessors Phú Yên (54) and the former Đắk Lắk (also 66) before. Oracles: the registry CSVs read with the csv
module, the reference files' published counts (26/88 xã NTM after the merger, 81/149 in the old Đắk Lắk, June
2025), and hand-written rules (which province a year belongs to)."""

import csv
import re
from pathlib import Path

import pytest
import yaml

from nongthon.cli import main
from nongthon.deployment import deployment_of, load_deployment
from nongthon.errors import CatalogError, ImportRejected, StoreError, UnknownYear
from nongthon.province import load_province
from nongthon.sample import load_deployment_sample
from nongthon.scoring import commune_scores
from nongthon.store import Store
from tests.conftest import SHARED

GEODATA = Path(__file__).resolve().parents[1] / "geodata"
REFERENCE = yaml.safe_load((SHARED / "reference" / "ntm_criteria_2026_2030.yaml").read_text(encoding="utf-8"))


def _units(name: str) -> list[dict]:
    with open(GEODATA / name, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _xa(name: str, province: str) -> set[str]:
    return {r["code"] for r in _units(name) if r["province_code"] == province and r["level"] == "commune" and r["unit_type"] == "xa"}


def _fraction(text: str) -> tuple[int, int]:
    a, b = re.search(r"(\d+)/(\d+)", text).groups()
    return int(a), int(b)


@pytest.fixture(scope="session")
def deployment_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("deployment") / "dak-lak.db"
    assert main(["--db", str(path), "demo"]) == 0  # the demo's default: the new Đắk Lắk with its predecessors
    return path


def test_years_belong_to_the_province_of_their_period():
    d = load_deployment("66")
    assert [p.profile for p in d.predecessors] == ["54", "66-cu"]
    for year in (2016, 2021, 2024, 2025):
        assert d.province_for(year).profile == "54"  # the office's own predecessor
    for year in (2026, 2030):
        assert d.province_for(year).profile == "66"
    assert d.years() == list(range(2016, 2031))
    # the same code names two provinces in two periods, each with its own units
    assert set(d.province_for(2025).registry.xa().index) == _xa("units_cu.csv", "54")
    assert set(d.predecessors[1].registry.xa().index) == _xa("units_cu.csv", "66")
    assert set(d.province_for(2026).registry.xa().index) == _xa("units_moi.csv", "66")
    assert len(_xa("units_moi.csv", "66")) == 88


def test_a_deployment_of_phu_yen_alone_keeps_working_and_names_its_years():
    d = load_deployment("54")
    assert d.predecessors == () and d.province_for(2023).code == "54"
    with pytest.raises(UnknownYear, match="2022–2025 \\(qd318-2022\\)$"):
        d.province_for(2026)


def test_profile_ids_carry_the_period_where_the_code_was_reused():
    old = load_province("66-cu")
    assert (old.code, old.period, old.region) == ("66", "cu", "TN")  # Tây Nguyên, 318/QĐ-TTg
    assert load_province("66").period == "moi"
    with pytest.raises(CatalogError, match="66-cu"):
        load_province("66-moi")  # no such file; the message lists the profiles there are
    with pytest.raises(CatalogError):
        load_province("../54")


def test_the_store_remembers_its_deployment(tmp_path):
    s = Store.open(tmp_path / "a.db")
    assert deployment_of(s).profile == "54"  # a store that never said: Phú Yên, as it always was
    s.set_deployment_profile("66")
    s.set_deployment_profile("66")  # saying it again is fine
    with pytest.raises(StoreError, match="'66'"):
        s.set_deployment_profile("54")
    assert deployment_of(s).current.name_vi == "Tỉnh Đắk Lắk"


def test_demo_sample_matches_the_published_counts_of_each_period(deployment_db):
    s = Store.open(deployment_db)
    d = deployment_of(s)
    results = s.current_results()
    assert bool(results["sample"].all())
    # 2026, the new units: 26/88 xã NTM (Sở NN&MT Đắk Lắk, likely)
    ntm26, of26 = _fraction(REFERENCE["dak_lak"]["current_ntm_count"]["value"])
    tiers26 = commune_scores(results, d.province_for(2026), years=[2026])
    assert len(tiers26) == of26 == 88
    assert int((tiers26["tier"] != "none").sum()) == ntm26 == 26
    # 2025, the former Đắk Lắk: 81/149 xã NTM, 8 nâng cao, 1 kiểu mẫu (June 2025, likely)
    ntm25, of25 = _fraction(REFERENCE["dak_lak"]["pre_merger_old_dak_lak_june_2025"]["value"])
    old = commune_scores(results, d.predecessors[1], years=[2025])
    assert len(old) == of25 == 149
    assert int((old["tier"] != "none").sum()) == ntm25
    assert int(old["tier"].isin(["advanced", "model"]).sum()) == 8 and int((old["tier"] == "model").sum()) == 1
    s.close()


def test_a_reused_code_keeps_two_histories(deployment_db):
    """22303 was Xã Hòa Quang Bắc (Phú Hòa, 54) until 30 June 2025 and is Xã Phú Hòa 2 (66) from 1 July 2025."""
    cu = {r["code"]: r for r in _units("units_cu.csv")}
    moi = {r["code"]: r for r in _units("units_moi.csv")}
    assert (cu["22303"]["province_code"], moi["22303"]["province_code"]) == ("54", "66")
    s = Store.open(deployment_db)
    d = deployment_of(s)
    r = s.current_results(units=["22303"])
    assert set(r.loc[r["year"] <= 2025, "catalog"]) == {"qd1980-2016", "qd318-2022"}
    assert set(r.loc[r["year"] >= 2026, "catalog"]) == {"qd51-2025"}
    assert d.province_for(2024).registry.unit("22303")["name"] == cu["22303"]["name"] == "Xã Hòa Quang Bắc"
    assert d.province_for(2026).registry.unit("22303")["name"] == moi["22303"]["name"] == "Xã Phú Hòa 2"
    s.close()


def test_new_xa_recognised_in_the_sample_are_those_whose_former_xa_were_all_ntm(deployment_db):
    from nongthon.crosswalk import table_pairs
    from nongthon.history import derived_states

    s = Store.open(deployment_db)
    d = deployment_of(s)
    rec = s.recognitions()
    after = rec[rec["decision_date"].astype(str) >= "2025-07-01"]
    assert len(after) > 0 and set(after["unit"]) <= _xa("units_moi.csv", "66")
    states = derived_states(s.current_results(), rec, d.predecessors, d.current.registry, table_pairs("66"), 2025).set_index("ma_moi")
    assert set(states.loc[list(after["unit"]), "trang_thai_suy_ra"]) == {"moi_xa_cu_dat"}
    # every former unit was scored: the old Đắk Lắk has a profile now, so no new xã lacks data for 2025
    assert (states["trang_thai_suy_ra"] != "chua_co_so_lieu").all()
    s.close()


def test_demo_of_phu_yen_alone(tmp_path):
    path = tmp_path / "54.db"
    assert main(["--db", str(path), "demo", "--tinh", "54"]) == 0
    s = Store.open(path)
    assert deployment_of(s).profile == "54" and s.current_results()["year"].max() == 2025
    s.close()


def test_reports_pick_the_province_of_the_year(deployment_db, capsys):
    assert main(["--db", str(deployment_db), "report", "--year", "2026", "--csv"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1].split(",")[:4] == ["66", "Tỉnh Đắk Lắk", "88", "26"]
    assert main(["--db", str(deployment_db), "report", "--year", "2024", "--csv"]) == 0
    rows = [r.split(",") for r in capsys.readouterr().out.splitlines()[1:]]
    assert rows[-1][:3] == ["54", "Tỉnh Phú Yên", str(len(_xa("units_cu.csv", "54")))]


def test_load_deployment_sample_on_phu_yen_alone(tmp_path):
    s = Store.open(tmp_path / "p.db")
    written = load_deployment_sample(s, load_deployment("54"))
    assert [p.profile for p, _ in written] == ["54"]
    assert s.deployment_profile() == "54"
    s.close()


def test_one_file_holds_years_of_both_periods_each_row_checked_by_its_province(tmp_path):
    """22303 in 2024 is Xã Hòa Quang Bắc (Phú Yên), in 2026 Xã Phú Hòa 2 (new Đắk Lắk); an old Đắk Lắk xã in 2024
    is checked with the profile 66-cu. Row numbers stay those of the file."""
    from nongthon.imports import import_file

    old_dak_lak = sorted(_xa("units_cu.csv", "66"))[0]
    s = Store.open(tmp_path / "s.db")
    s.set_deployment_profile("66")
    d = deployment_of(s)
    good = (
        "ma_xa,nam,bo_tieu_chi,tieu_chi,ket_qua\n22303,2024,ntm,17,dat\n22303,2026,ntm,10,khong_dat\n" + f"{old_dak_lak},2024,ntm,1,dat\n"
    )
    res = import_file(s, d, good.encode(), "hai-giai-doan.csv", author="t")
    names = {(r["ma_xa"], r["nam"]): r["ten_xa"] for r in res.report()["chi_tiet"]}
    assert names == {
        ("22303", 2024): "Xã Hòa Quang Bắc",
        ("22303", 2026): "Xã Phú Hòa 2",
        (old_dak_lak, 2024): {r["code"]: r["name"] for r in _units("units_cu.csv")}[old_dak_lak],
    }
    assert set(s.current_results()["catalog"]) == {"qd318-2022", "qd51-2025"}
    bad = "ma_xa,nam,bo_tieu_chi,tieu_chi,ket_qua\n22303,2026,ntm,11,dat\n22303,2024,ntm,20,dat\n22042,2026,ntm,1,dat\n"
    with pytest.raises(ImportRejected) as exc:
        import_file(s, d, bad.encode(), "sai.csv", author="t")
    rows = [(e.row, e.column) for e in exc.value.errors]
    assert rows == [(2, "tieu_chi"), (3, "tieu_chi"), (4, "ma_xa")]  # qd51 has 10 criteria, qd318 19; 22042 is no more
    assert "Phường Bình Kiến (22045)" in exc.value.errors[2].message
    s.close()


@pytest.mark.parametrize("asked", ["../54", "x/y", "6" * 5000, "54\x00", "66-moi"])
def test_a_profile_is_one_of_the_files_there_are(asked, tmp_path, capsys):
    """A profile id is never made into a path: anything but 54, 66, 66-cu is refused, named (cut to 60 characters)
    with the ids there are — and `nongthon import --tinh` refuses it before any database file is made."""
    with pytest.raises(CatalogError, match="có: 54, 66, 66-cu") as exc:
        load_province(asked)
    assert len(str(exc.value)) < 200
    db = tmp_path / "never.db"
    csv_file = tmp_path / "r.csv"
    csv_file.write_text("ma_xa,nam,bo_tieu_chi,tieu_chi,ket_qua\n22303,2026,ntm,1,dat\n", encoding="utf-8")
    assert main(["--db", str(db), "import", str(csv_file), "--tinh", asked]) == 1
    assert not db.exists() and "có: 54, 66, 66-cu" in capsys.readouterr().err


def test_a_year_no_province_of_the_deployment_covers_is_named_with_every_year_it_has(tmp_path):
    from nongthon.imports import import_file

    s = Store.open(tmp_path / "s.db")
    s.set_deployment_profile("66")
    bad = "ma_xa,nam,bo_tieu_chi,tieu_chi,ket_qua\n22303,2031,ntm,1,dat\n22303,2024,ntm,1,dat\n"
    with pytest.raises(ImportRejected) as exc:
        import_file(s, deployment_of(s), bad.encode(), "nam.csv", author="t")
    [e] = exc.value.errors
    assert (e.row, e.column) == (2, "nam")
    assert e.message.endswith("2016–2021 (qd1980-2016), 2022–2025 (qd318-2022), 2026–2030 (qd51-2025)")
    s.close()
