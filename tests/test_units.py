import csv
import sys
import unicodedata
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest

from nongthon.errors import InvalidParameter, UnknownUnit
from nongthon.units import PERIODS, REGISTRY_CSV, load_registry, period_of_date, period_of_year

GEODATA = Path(__file__).resolve().parents[1] / "geodata"
sys.path.insert(0, str(GEODATA))
import build_units  # noqa: E402


def _committed(name: str) -> list[dict[str, str]]:
    with (GEODATA / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_registry_counts():
    reg = load_registry()
    assert reg.province_code == "54"
    assert len(reg.districts()) == 9
    assert len(reg.communes()) == 106
    assert reg.communes()["unit_type"].value_counts().to_dict() == {"xa": 82, "phuong": 18, "thi_tran": 6}
    assert len(reg.xa()) == 82
    assert set(reg.districts().index) == {"555", "557", "558", "559", "560", "561", "562", "563", "564"}


@pytest.mark.parametrize(
    ("name", "build"),
    [
        ("units_cu.csv", lambda db: build_units.build_cu_rows(db)),
        ("units_moi.csv", lambda db: build_units.build_moi_rows(db)),
        ("crosswalk_2025.csv", lambda db: build_units.build_crosswalk_rows(db, build_units.package_file("converter_2025.json"))),
    ],
)
def test_committed_files_match_package_data(name, build):
    """The committed registries and crosswalk are exactly what the build script makes from vietnamadminunits today."""
    assert _committed(name) == build(build_units.dataset_path())


def test_both_periods_hold_every_province():
    """Published counts: 63 provinces before the reform; 34 provinces and 3,321 units (2,621 xã, 687 phường,
    13 đặc khu) from 1 July 2025 (shared/geodata/SOURCE_2025.md)."""
    cu = pd.DataFrame(_committed("units_cu.csv"))
    moi = pd.DataFrame(_committed("units_moi.csv"))
    assert (cu["level"] == "province").sum() == 63
    assert (moi["level"] == "province").sum() == 34
    assert "district" not in set(moi["level"])
    assert moi.loc[moi["level"] == "commune", "unit_type"].value_counts().to_dict() == {"xa": 2621, "phuong": 687, "dac_khu": 13}
    assert set(cu["period"]) == {"cu"} and set(cu["valid_from"]) == {""} and set(cu["valid_to"]) == {"2025-06-30"}
    assert set(moi["period"]) == {"moi"} and set(moi["valid_from"]) == {"2025-07-01"} and set(moi["valid_to"]) == {""}
    assert cu["code"].is_unique and moi["code"].is_unique


def test_default_registry_is_phu_yen_before_the_reform():
    reg = load_registry()
    assert reg is load_registry("54", "cu") and reg.period == "cu"
    assert reg.province_name == "Tỉnh Phú Yên"
    u = reg.unit("22303")
    assert (u["name"], u["unit_type"], u["parent_code"], u["district_code"], u["valid_to"]) == (
        "Xã Hòa Quang Bắc",
        "xa",
        "563",
        "563",
        "2025-06-30",
    )
    assert reg.unit("563")["district_code"] == "563" and reg.unit("54")["district_code"] == ""


def test_a_code_names_different_units_in_the_two_periods():
    """22303 was Xã Hòa Quang Bắc until 30 June 2025 and is Xã Phú Hòa 2 from 1 July 2025 (issue 11)."""
    old, new = load_registry("54", "cu"), load_registry("66", "moi")
    assert old.unit("22303")["name"] == "Xã Hòa Quang Bắc"
    assert new.unit("22303")["name"] == "Xã Phú Hòa 2"
    assert new.unit("22303")["valid_from"] == "2025-07-01"


def test_new_dak_lak_has_no_district_level():
    reg = load_registry("66", "moi")
    assert reg.province_name == "Tỉnh Đắk Lắk" and reg.period == "moi"
    assert len(reg.communes()) == 102
    assert reg.communes()["unit_type"].value_counts().to_dict() == {"xa": 88, "phuong": 14}
    assert len(reg.xa()) == 88
    assert reg.districts().empty
    assert set(reg.communes()["parent_code"]) == {"66"}
    assert reg.communes()["district_code"].isna().all()
    assert list(reg.find_commune("phu hoa 2").index) == ["22303"]
    assert reg.find_commune("phu hoa 2", district_code="563").empty
    assert reg.official_xa_count(2026) == 88  # geodata/eligible_xa.csv: 88 xã from 2025-07-01


def test_a_former_unit_is_unknown_in_the_new_registry():
    with pytest.raises(UnknownUnit, match=r"'22042'.*Tỉnh Đắk Lắk, đơn vị hành chính từ 1/7/2025"):
        load_registry("66", "moi").unit("22042")


def test_old_dak_lak_is_a_separate_registry():
    """Code 66 named the old Đắk Lắk before the reform (15 district-level units) as well as the new one."""
    reg = load_registry("66", "cu")
    assert reg.province_name == "Tỉnh Đắk Lắk"
    assert len(reg.districts()) == 15
    assert "22303" not in reg.units.index
    assert reg.official_xa_count(2024) is None  # the eligible counts on file are Phú Yên's


def test_dac_khu_and_phuong_are_not_eligible():
    """Quảng Ninh (22) from 1 July 2025: 22 xã, 30 phường, 2 đặc khu (Vân Đồn, Cô Tô); only xã are NTM-eligible."""
    reg = load_registry("22", "moi")
    assert reg.communes()["unit_type"].value_counts().to_dict() == {"phuong": 30, "xa": 22, "dac_khu": 2}
    assert len(reg.xa()) == 22
    assert {"06994", "07192"} <= set(reg.communes().index) - set(reg.xa().index)


@pytest.mark.parametrize(("year", "period"), [(2016, "cu"), (2024, "cu"), (2025, "cu"), (2026, "moi"), (2030, "moi")])
def test_period_of_year(year, period):
    assert period_of_year(year) == period


@pytest.mark.parametrize(
    ("day", "period"),
    [
        (date(2025, 6, 30), "cu"),
        (date(2025, 7, 1), "moi"),
        ("2024-11-01", "cu"),
        ("2025-07-01", "moi"),
        (datetime(2025, 6, 30, 23, 59), "cu"),
        ("2025-12-31T08:00:00+07:00", "moi"),
    ],
)
def test_period_of_date(day, period):
    assert period_of_date(day) == period


def test_periods_and_their_dates():
    assert PERIODS["cu"].valid_to == date(2025, 6, 30) and PERIODS["moi"].valid_from == date(2025, 7, 1)
    with pytest.raises(InvalidParameter, match="30/6/2025"):
        period_of_date("30/6/2025")


def test_unknown_period_or_province_is_refused():
    with pytest.raises(InvalidParameter, match=r"'2025'.*cu.*moi"):
        load_registry("54", "2025")
    with pytest.raises(UnknownUnit, match=r"'54'.*từ 1/7/2025.*66"):
        load_registry("54", "moi")  # Phú Yên is no longer a province


def test_codes_and_names_are_clean():
    reg = load_registry()
    communes = reg.communes()
    assert communes.index.str.fullmatch(r"\d{5}").all()
    assert reg.districts().index.str.fullmatch(r"\d{3}").all()
    for path in REGISTRY_CSV.values():
        text = path.read_text(encoding="utf-8")
        assert unicodedata.normalize("NFC", text) == text
    assert reg.unit("22303")["name"] == "Xã Hòa Quang Bắc"
    assert reg.unit("22303")["district_code"] == "563"


def test_find_commune_folds_case_and_diacritics():
    reg = load_registry()
    assert list(reg.find_commune("hoa quang bac").index) == ["22303"]
    assert list(reg.find_commune("XÃ HÒA QUANG BẮC", district_code="563").index) == ["22303"]
    assert reg.find_commune("hoa quang bac", district_code="562").empty


def test_unknown_unit_message_names_the_code():
    with pytest.raises(UnknownUnit, match="99999"):
        load_registry().unit("99999")


@pytest.mark.parametrize(
    ("year", "code", "expected"),
    [
        (2017, None, 88),
        (2019, None, 88),
        (2021, None, 83),
        (2023, None, 83),
        (2024, None, 82),
        (2025, None, 82),
        (2023, "555", 4),
        (2024, "555", 3),
        (2023, "559", 14),
        (2019, "559", None),
    ],
)
def test_official_eligible_xa(year, code, expected):
    assert load_registry().official_xa_count(year, code) == expected
