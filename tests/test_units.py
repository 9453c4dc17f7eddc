import sys
import unicodedata
from pathlib import Path

import pytest

from nongthon.errors import UnknownUnit
from nongthon.units import UNITS_CSV, load_registry

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "geodata"))
import build_units  # noqa: E402


def test_registry_counts():
    reg = load_registry()
    assert reg.province_code == "54"
    assert len(reg.districts()) == 9
    assert len(reg.communes()) == 106
    assert reg.communes()["unit_type"].value_counts().to_dict() == {"xa": 82, "phuong": 18, "thi_tran": 6}
    assert len(reg.xa()) == 82
    assert set(reg.districts().index) == {"555", "557", "558", "559", "560", "561", "562", "563", "564"}


def test_registry_matches_package_data():
    """units.csv is exactly what the build script makes from vietnamadminunits today."""
    rows = build_units.build_rows(build_units.dataset_path())
    reg = load_registry()
    assert [r["code"] for r in rows] == list(reg.units["code"])
    for r in rows:
        u = reg.units.loc[r["code"]]
        assert (u["name"], u["unit_type"], u["level"], u["parent_code"]) == (r["name"], r["unit_type"], r["level"], r["parent_code"])


def test_codes_and_names_are_clean():
    reg = load_registry()
    communes = reg.communes()
    assert communes.index.str.fullmatch(r"\d{5}").all()
    assert reg.districts().index.str.fullmatch(r"\d{3}").all()
    text = UNITS_CSV.read_text(encoding="utf-8")
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
