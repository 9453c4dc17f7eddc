"""Province profiles: former Phú Yên (54, units before 1 July 2025) and the new Đắk Lắk (66, units from that day),
the catalogue in force for each, and each xã's commune group (nhóm xã) as data."""

import re
from importlib import resources

import pytest
import yaml

from nongthon.errors import CatalogError
from nongthon.province import UNGROUPED, load_province, load_province_file
from nongthon.units import load_registry
from tests.conftest import SHARED

PROFILES = resources.files("nongthon").joinpath("provinces")
REFERENCE_2026 = SHARED / "reference" / "ntm_criteria_2026_2030.yaml"


def test_the_new_dak_lak_profile():
    ref = yaml.safe_load(REFERENCE_2026.read_text(encoding="utf-8"))["dak_lak"]["admin_units_after_merger"]["value"]
    units, xa, phuong = map(int, re.match(r"(\d+) xã-level units = (\d+) xã \+ (\d+) phường", ref).groups())
    p = load_province("66")
    assert (p.code, p.name_vi, p.period) == ("66", "Tỉnh Đắk Lắk", "moi")
    assert p.registry is load_registry("66", "moi")
    assert (len(p.registry.communes()), len(p.registry.xa())) == (units, xa) == (102, 88) and units - xa == phuong
    # the catalogue in force: 51/2025 for 2026-2030, nothing before (2025 and earlier belong to the former units)
    assert p.catalogs.years() == [2026, 2027, 2028, 2029, 2030] and p.catalogs.for_year(2026).id == "qd51-2025"
    assert not p.catalogs.covers(2025)
    # no region (its catalogue selects by group); no group is known yet: the CSV is its header alone
    assert p.region is None
    assert PROFILES.joinpath("66-nhom-xa.csv").read_text(encoding="utf-8") == "ma_xa,nhom\n"
    assert p.groups == {} and p.commune_groups().isna().all()
    assert set(p.selector("qd51-2025")) == {UNGROUPED}


def test_former_phu_yen_is_unchanged():
    p = load_province("54")
    assert (p.code, p.period, p.region, p.groups) == ("54", "cu", "DHNTB", {})
    assert p.registry is load_registry("54", "cu") and len(p.registry.xa()) == 82
    assert [c.id for c in p.catalogs.catalogs] == ["qd1980-2016", "qd318-2022"] and p.catalogs.years()[-1] == 2025
    assert set(p.regions()) == {"DHNTB"} and len(p.regions()) == len(p.registry.communes())
    assert p.selector("qd318-2022").equals(p.regions())


def _profile(tmp_path, rows, extra=""):
    (tmp_path / "nhom.csv").write_text("ma_xa,nhom\n" + "".join(f"{r}\n" for r in rows), encoding="utf-8")
    path = tmp_path / "66.yaml"
    path.write_text(
        f'code: "66"\nname_vi: Tỉnh Đắk Lắk\nperiod: moi\ncatalogs: [qd51-2025]\ncommune_groups: nhom.csv\n{extra}', encoding="utf-8"
    )
    return path


def test_groups_from_the_csv_select_the_thresholds(tmp_path):
    p = load_province_file(_profile(tmp_path, ["22057,1", " 22060 ,3"]))
    assert p.groups == {"22057": "1", "22060": "3"}
    key = p.selector("qd51-2025")
    assert (key["22057"], key["22060"], key["22075"]) == ("1", "3", UNGROUPED)
    assert p.threshold_selector(["22060", "22075"], ["qd51-2025"] * 2).tolist() == ["3", UNGROUPED]


def test_a_bad_code_or_group_in_the_csv_is_named_with_line_and_column(tmp_path):
    rows = ["22057,1", "99999,2", "22042,2", "22045,1", "22060,4", "22057,2", "22075,"]
    with pytest.raises(CatalogError) as exc:
        load_province_file(_profile(tmp_path, rows))
    msg, csv = str(exc.value), tmp_path / "nhom.csv"
    assert msg.startswith(f"Tệp nhóm xã {csv} không hợp lệ (6 lỗi):")
    units = "Tỉnh Đắk Lắk, đơn vị hành chính từ 1/7/2025 (34 tỉnh, không còn cấp huyện)"
    assert f"{csv}, dòng 3, cột ma_xa: mã '99999' không phải đơn vị nào của {units}" in msg
    # 22042 was Xã Hòa Kiến until 30 June 2025: not a unit of the new set
    assert f"{csv}, dòng 4, cột ma_xa: mã '22042' không phải đơn vị nào của {units}" in msg
    assert f"{csv}, dòng 5, cột ma_xa: mã 22045 là Phường Bình Kiến (Phường), không phải xã; chỉ xã được xếp nhóm" in msg
    assert f"{csv}, dòng 6, cột nhom: nhóm '4' không hợp lệ; cho phép: 1, 2, 3" in msg
    assert f"{csv}, dòng 7, cột ma_xa: mã 22057 (Xã Xuân Lộc) trùng với dòng 2" in msg
    assert f"{csv}, dòng 8, cột nhom: nhóm '' không hợp lệ; cho phép: 1, 2, 3" in msg


def test_the_csv_needs_its_two_columns(tmp_path):
    path = _profile(tmp_path, [])
    (tmp_path / "nhom.csv").write_text("ma_xa,nhom_xa\n22057,1\n", encoding="utf-8")
    with pytest.raises(CatalogError, match=r"nhom\.csv: các cột phải là ma_xa, nhom; tệp có: ma_xa, nhom_xa"):
        load_province_file(path)


def test_a_profile_is_checked_against_its_period_and_selectors(tmp_path):
    # a 2021-2025 catalogue in a profile of the units from 1 July 2025, and its region missing
    path = tmp_path / "x.yaml"
    path.write_text('code: "66"\nname_vi: x\nperiod: moi\ncatalogs: [qd318-2022]\nnhom: 1\n', encoding="utf-8")
    with pytest.raises(CatalogError) as exc:
        load_province_file(path)
    msg = str(exc.value)
    assert msg.startswith(f"Hồ sơ tỉnh {path} không hợp lệ (3 lỗi):")
    assert f"{path}, dòng 5: khóa không xác định 'nhom' trong (gốc)" in msg
    assert f"{path}, dòng 4: catalogs: bộ tiêu chí qd318-2022 (2022–2025) không thuộc giai đoạn moi" in msg
    assert "region: cần vùng của tỉnh: bộ qd318-2022 chọn ngưỡng theo vùng" in msg
    # groups for a profile whose catalogues select by region
    path.write_text('code: "54"\nname_vi: x\nregion: DHNTB\ncatalogs: [qd318-2022]\ncommune_groups: nhom.csv\n', encoding="utf-8")
    with pytest.raises(CatalogError, match=r"dòng 5: commune_groups: không bộ tiêu chí nào của hồ sơ chọn ngưỡng theo nhóm xã"):
        load_province_file(path)
    path.write_text('code: "54"\nname_vi: x\nregion: TÂY\ncatalogs: [qd318-2022]\n', encoding="utf-8")
    with pytest.raises(CatalogError, match=r"dòng 3: region: vùng 'TÂY' không có trong bộ qd318-2022; có: TDMNPB, DBSH"):
        load_province_file(path)
