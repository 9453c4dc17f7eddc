import copy
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from nongthon.criteria import apply_overrides, builtin_catalog_ids, catalog_set, load_catalog, load_catalog_file, parse_catalog
from nongthon.errors import CatalogError, UnknownYear


def test_builtin_catalogues_load_with_19_criteria_per_set():
    assert builtin_catalog_ids() == ["qd1980-2016", "qd318-2022", "qd51-2025"]
    c = load_catalog("qd318-2022")
    assert (c.year_from, c.year_to) == (2022, 2025)
    assert set(c.sets) == {"ntm", "nang_cao", "kieu_mau"}
    assert c.criteria_count("ntm") == 19 and c.criteria_count("nang_cao") == 19
    assert c.criterion_names()["17"] == "Môi trường và an toàn thực phẩm"
    assert c.criterion_names("nang_cao")["18"] == "Chất lượng môi trường sống"
    assert set(c.conditions["code"]) == {"thu_nhap", "thon_thong_minh", "linh_vuc_noi_troi"}
    old = load_catalog("qd1980-2016")
    assert (old.year_from, old.year_to) == (2016, 2021) and list(old.sets) == ["ntm"]


def test_sources_and_confidence_are_kept_and_unknown_thresholds_stay_null():
    c = load_catalog("qd318-2022")
    ind = c.indicators.set_index(["set", "code"])
    assert ind.loc[("ntm", "15.3"), "confidence"] == "confirmed"
    assert "thuvienphapluat" in ind.loc[("ntm", "15.3"), "source"] or "118.69" in ind.loc[("ntm", "15.3"), "source"]
    assert ind.loc[("ntm", "2.2"), "threshold_confidence"] == "unknown"
    thr = c.thresholds
    # 2.2 has no threshold at all; 15.4 has one for TDMNPB but none for Phú Yên's region
    assert thr[thr["code"] == "2.2"].empty
    assert set(thr[thr["code"] == "15.4"]["region"]) == {"TDMNPB", "DBSH"}
    assert thr[(thr["code"] == "15.3") & (thr["region"] == "DHNTB")]["value"].item() == 22.0
    # candidates the research could not confirm are left out, and their criteria marked incomplete
    assert "13.5" not in set(ind.index.get_level_values("code"))
    crit = c.criteria.set_index(["set", "criterion"])
    assert not crit.loc[("ntm", "13"), "indicators_complete"]
    assert crit.loc[("ntm", "1"), "indicators_complete"]


@pytest.fixture
def doc():
    from importlib import resources

    return yaml.safe_load(resources.files("nongthon").joinpath("catalogs", "qd318-2022.yaml").read_text(encoding="utf-8"))


def test_duplicate_criterion_number_is_named(doc):
    doc["sets"]["ntm"]["criteria"][4]["number"] = 4
    with pytest.raises(CatalogError) as exc:
        parse_catalog(doc, "test.yaml")
    msg = str(exc.value)
    assert "test.yaml" in msg and "sets.ntm.criteria[4].number" in msg and "4 bị trùng" in msg


def test_wrong_number_of_criteria_is_named(doc):
    del doc["sets"]["nang_cao"]["criteria"][-1]
    with pytest.raises(CatalogError, match=r"sets\.nang_cao\.criteria: có 18 tiêu chí, nhưng criteria_count = 19"):
        parse_catalog(doc, "x")


def test_unknown_unit_region_kind_and_confidence_are_named(doc):
    bad = copy.deepcopy(doc)
    ind = bad["sets"]["ntm"]["criteria"][14]["indicators"][2]  # 15.3
    ind["unit"] = "người"
    ind["threshold"]["MARS"] = 3
    ind["confidence"] = "sure"
    bad["sets"]["ntm"]["criteria"][0]["indicators"][0]["kind"] = "percent"
    with pytest.raises(CatalogError) as exc:
        parse_catalog(bad, "x")
    msg = str(exc.value)
    assert "sets.ntm.criteria[14].indicators[2].unit: đơn vị 'người' không xác định" in msg
    assert "sets.ntm.criteria[14].indicators[2].threshold.MARS: vùng không có trong danh sách" in msg
    assert "indicators[2].confidence: 'sure' không hợp lệ" in msg
    assert "sets.ntm.criteria[0].indicators[0].kind: 'percent' không hợp lệ" in msg
    assert "(4 lỗi)" in msg


def test_duplicate_indicator_code_is_named(doc):
    inds = doc["sets"]["ntm"]["criteria"][1]["indicators"]
    inds[1]["code"] = inds[0]["code"]
    with pytest.raises(CatalogError, match=r"indicators\[1\]\.code: mã chỉ tiêu '2\.1' bị trùng"):
        parse_catalog(doc, "x")


def test_province_override_replaces_thresholds(tmp_path):
    path = tmp_path / "54-overrides.yaml"
    path.write_text(
        "catalog: qd318-2022\nsource: 'Quyết định số 1/QĐ-UBND (thử)'\nthresholds:\n  ntm:\n    '15.4': {DHNTB: 60}\n    '15.3': {DHNTB: 20}\n",
        encoding="utf-8",
    )
    from importlib import resources

    base = resources.files("nongthon").joinpath("catalogs", "qd318-2022.yaml")
    c = load_catalog_file(str(base), path)
    thr = c.thresholds.set_index(["code", "region"])["value"]
    assert thr[("15.4", "DHNTB")] == 60 and thr[("15.3", "DHNTB")] == 20 and thr[("15.3", "TDMNPB")] == 24
    assert c.overrides == (str(path),)


def test_override_of_unknown_indicator_or_other_catalogue_is_rejected():
    c = load_catalog("qd318-2022")
    with pytest.raises(CatalogError) as exc:
        apply_overrides(c, {"catalog": "qd1980-2016", "source": "x", "thresholds": {"ntm": {"99.9": {"DHNTB": 1}}}}, "o.yaml")
    msg = str(exc.value)
    assert "dành cho 'qd1980-2016'" in msg and "thresholds.ntm.99.9: không có chỉ tiêu này" in msg


def test_catalogues_may_not_overlap_and_years_outside_are_unknown():
    a, b = load_catalog("qd1980-2016"), load_catalog("qd318-2022")
    cs = catalog_set([b, a])
    assert cs.for_year(2021).id == "qd1980-2016" and cs.for_year(2022).id == "qd318-2022"
    with pytest.raises(UnknownYear, match="2015"):
        cs.for_year(2015)
    with pytest.raises(CatalogError, match="trùng năm"):
        catalog_set([a, a])


# --- keys the loader does not know, with file and line ----------------------------------------------------

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "ntm_criteria_2021_2025.yaml"


def _shipped(name):
    from importlib import resources

    return resources.files("nongthon").joinpath("catalogs", name).read_text(encoding="utf-8")


def test_district_criterion_3_loads_whole_as_the_research_file_names_it():
    ref = yaml.safe_load(REFERENCE.read_text(encoding="utf-8"))["district_and_higher"]["huyen_ntm_2021_2025"]
    expected = {str(c["number"]): c["name_vi"] for c in ref["criteria"]}
    assert expected["3"] == "Thủy lợi và phòng, chống thiên tai"
    d = load_catalog("qd318-2022").district_criteria
    crit = d[(d["set"] == "huyen_ntm") & (d["kind"] == "criterion")]
    assert dict(zip(crit["criterion"], crit["name_vi"])) == expected


def test_the_old_unquoted_comma_is_refused_with_file_line_and_key(tmp_path):
    text = _shipped("qd318-2022.yaml")
    quoted = '{number: 3, name_vi: "Thủy lợi và phòng, chống thiên tai", confidence: likely}'
    assert text.count(quoted) == 1
    broken = text.replace(quoted, "{number: 3, name_vi: Thủy lợi và phòng, chống thiên tai, confidence: likely}")
    line = broken.splitlines().index("    - {number: 3, name_vi: Thủy lợi và phòng, chống thiên tai, confidence: likely}") + 1
    path = tmp_path / "qd318-2022.yaml"
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(CatalogError) as exc:
        load_catalog_file(path)
    assert (
        f"{path}, dòng {line}: khóa không xác định 'chống thiên tai' trong district_sets.huyen_ntm.criteria[2]; "
        "cho phép: number, name_vi, confidence, source"
    ) in str(exc.value)
    assert "(1 lỗi)" in str(exc.value)


SMALL = """\
id: thu
name_vi: Bộ thử
years: {from: 2022, to: 2025}
regions:
- {code: DHNTB, name_vi: Duyên hải Nam Trung Bộ}
sets:
  ntm:
    name_vi: xã NTM
    tier: ntm
    criteria_count: 2
    criteria:
    - number: 1
      name_vi: Quy hoạch
      confidence: likely
      indicators:
      - code: '1.1'
        name_vi: Có quy hoạch
        unit: Đạt/Không đạt
        kind: boolean
        threshhold: null
    - {number: 2, name_vi: Giao thông, confidence: likely, nguon: x}
  nang_cao:
    name_vi: xã NTM nâng cao
    tier: advanced
    requires: ntm
    criteria_count: 0
    criteria: []
    recognition_conditions:
    - {code: hai_long, name_vi: Hài lòng, confidence: confirmed, source: x, nguong: 90}
district_sets:
  huyen_ntm:
    name_vi: huyện NTM
    applies_to: [huyen]
    criteria_count: 0
    criteria: []
    conditions:
    - {code: hai_long, name_vi: Hài lòng, confidence: confirmed, source: x}
    commune_conditions: {ntm_share: 1.0, advanced: 0.1}
ghi_chu: x
"""


def test_every_unknown_key_is_named_with_its_line_all_at_once(tmp_path):
    path = tmp_path / "thu.yaml"
    path.write_text(SMALL, encoding="utf-8")
    with pytest.raises(CatalogError) as exc:
        load_catalog_file(path)
    msg = str(exc.value)
    # lines counted by hand in SMALL above
    assert (
        f"{path}, dòng 20: khóa không xác định 'threshhold' trong sets.ntm.criteria[0].indicators[0]; cho phép: code, name_vi, unit" in msg
    )
    assert f"{path}, dòng 21: khóa không xác định 'nguon' trong sets.ntm.criteria[1]; cho phép: number, name_vi" in msg
    assert f"{path}, dòng 29: khóa không xác định 'nguong' trong sets.nang_cao.recognition_conditions[0]" in msg
    assert f"{path}, dòng 38: khóa không xác định 'advanced' trong district_sets.huyen_ntm.commune_conditions" in msg
    assert f"{path}, dòng 39: khóa không xác định 'ghi_chu' trong (gốc)" in msg
    assert "(5 lỗi)" in msg
    assert load_catalog_file(_write(tmp_path, _fixed(SMALL))).recognition_conditions["code"].tolist() == ["hai_long"]


def _fixed(text):
    for stray in ("        threshhold: null\n", ", nguon: x", ", nguong: 90", ", advanced: 0.1", "ghi_chu: x\n"):
        assert stray in text
        text = text.replace(stray, "")
    return text


def _write(tmp_path, text, name="ok.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_key_written_twice_is_named(tmp_path):
    # without the stray line 20 of SMALL, nang_cao's tier is on line 23: the repeat is on line 24
    path = _write(tmp_path, _fixed(SMALL).replace("    tier: advanced\n", "    tier: advanced\n    tier: advanced\n"))
    with pytest.raises(CatalogError, match=r"\(1 lỗi\):\n  - .*ok\.yaml, dòng 24: khóa 'tier' viết hai lần trong sets\.nang_cao; giữ một$"):
        load_catalog_file(path)


def test_keys_of_a_document_not_read_from_a_file_are_named_without_a_line(doc):
    doc["sets"]["kieu_mau"]["conditions"][0]["threshold_from"]["facter"] = 1.2
    with pytest.raises(
        CatalogError, match=r"  - khóa không xác định 'facter' trong sets\.kieu_mau\.conditions\[0\]\.threshold_from; cho phép: set"
    ):
        parse_catalog(doc, "x")


def test_override_file_keys_are_checked(tmp_path):
    path = _write(tmp_path, "catalog: qd318-2022\nsource: x\nthreshold:\n  ntm: {'15.4': {DHNTB: 60}}\n", "o.yaml")
    with pytest.raises(CatalogError) as exc:
        load_catalog_file(_write(tmp_path, _shipped("qd318-2022.yaml"), "qd318-2022.yaml"), path)
    assert f"{path}, dòng 3: khóa không xác định 'threshold' trong (gốc)" in str(exc.value)
    assert "thiếu khóa bắt buộc 'thresholds'" in str(exc.value)


# --- district conditions and recognition conditions --------------------------------------------------------


def test_district_ntm_conditions_of_320_are_items_to_record():
    ref = yaml.safe_load(REFERENCE.read_text(encoding="utf-8"))["district_and_higher"]["huyen_ntm_2021_2025"]["conditions"]
    town = next(c for c in ref if "thị trấn" in c["text_vi"])
    satisfied = next(c for c in ref if "hài lòng" in c["text_vi"])
    d = load_catalog("qd318-2022").district_criteria
    huyen = d[d["set"] == "huyen_ntm"].set_index("criterion")
    assert (huyen["kind"] == "criterion").sum() == 9  # 320/QĐ-TTg: 9 district criteria
    cond = huyen[huyen["kind"] == "condition"]
    assert list(cond.index) == ["thi_tran_van_minh", "hai_long"]
    assert cond.loc["thi_tran_van_minh", "name_vi"] == town["text_vi"]
    assert cond.loc["hai_long", "name_vi"] == satisfied["text_vi"]
    assert set(cond["confidence"]) == {town["confidence"], satisfied["confidence"]} == {"confirmed"}
    # the town set's own conditions are not known (research: confidence unknown): none are invented
    assert set(d.loc[d["set"] == "hoan_thanh", "kind"]) == {"criterion"}
    assert load_catalog("qd1980-2016").district_criteria.columns.tolist() == ["set", "criterion", "name_vi", "confidence", "kind"]


def test_recognition_conditions_per_commune_set():
    ref = yaml.safe_load(REFERENCE.read_text(encoding="utf-8"))["tiers"]
    ntm_ref = next(t for t in ref if t["id"] == "ntm")["conditions"][1:]  # after "meets the criteria"
    rc = load_catalog("qd318-2022").recognition_conditions
    assert rc.columns.tolist() == ["set", "code", "name_vi", "confidence"]
    for set_code in ("ntm", "nang_cao", "kieu_mau"):
        got = rc[rc["set"] == set_code]
        assert got["code"].tolist() == ["hai_long", "khong_no_dong_xdcb", "an_ninh_trat_tu"], set_code
        assert got["name_vi"].tolist() == [c["text_vi"] for c in ntm_ref]
        assert set(got["confidence"]) == {"confirmed"}
    old = load_catalog("qd1980-2016").recognition_conditions
    assert old[["set", "code", "confidence"]].values.tolist() == [["ntm", "khong_no_dong_xdcb", "likely"]]


def test_recorded_conditions_need_code_name_confidence_and_source_and_unique_codes(doc):
    rc = doc["sets"]["ntm"]["recognition_conditions"] = copy.deepcopy(doc["sets"]["ntm"]["recognition_conditions"])
    del rc[0]["source"]
    rc[1]["code"] = rc[2]["code"]
    rc[2]["confidence"] = "sure"
    doc["district_sets"]["huyen_ntm"]["conditions"][0]["code"] = "3"
    with pytest.raises(CatalogError) as exc:
        parse_catalog(doc, "x")
    msg = str(exc.value)
    assert "sets.ntm.recognition_conditions[0]: thiếu khóa bắt buộc 'source'" in msg
    assert "sets.ntm.recognition_conditions[2].code: mã điều kiện 'an_ninh_trat_tu' bị trùng" in msg
    assert "sets.ntm.recognition_conditions[2].confidence: 'sure' không hợp lệ" in msg
    assert "district_sets.huyen_ntm.conditions[0].code: mã '3' trùng với số một tiêu chí của bộ" in msg
    assert "(4 lỗi)" in msg


# --- the tier chain ---------------------------------------------------------------------------------------


def test_tier_chain_and_tiers_come_from_the_file(doc):
    c = load_catalog("qd318-2022")
    assert c.tier_chain() == ["ntm", "nang_cao", "kieu_mau"]
    assert [c.tier_of(s) for s in c.tier_chain()] == ["ntm", "advanced", "model"]
    assert load_catalog("qd1980-2016").tier_chain() == ["ntm"]
    with pytest.raises(CatalogError, match="không có bộ 'kieu_mau'"):
        load_catalog("qd1980-2016").tier_of("kieu_mau")
    # the chain follows `requires`, not the order the sets are written in
    doc["sets"] = {k: doc["sets"][k] for k in ("kieu_mau", "ntm", "nang_cao")}
    assert parse_catalog(doc, "x").tier_chain() == ["ntm", "nang_cao", "kieu_mau"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: s["nang_cao"].pop("requires"), r"sets: phải có đúng một bộ không có 'requires' \(bộ gốc\); có 2: ntm, nang_cao"),
        (lambda s: s["ntm"].update(requires="kieu_mau"), r"sets: phải có đúng một bộ không có 'requires' \(bộ gốc\); có 0"),
        (lambda s: s["kieu_mau"].update(requires="hien_dai"), r"sets\.kieu_mau\.requires: bộ 'hien_dai' không có trong danh mục này"),
        (lambda s: s["kieu_mau"].update(requires="ntm"), r"sets\.kieu_mau\.requires: bộ 'ntm' đã là bộ yêu cầu của 'nang_cao'"),
        (
            lambda s: s["nang_cao"].update(tier="modern"),
            r"sets\.nang_cao\.tier: hạng 'modern' không xác định; cho phép: ntm, advanced, model",
        ),
        (lambda s: s["nang_cao"].update(tier="ntm"), r"sets\.nang_cao\.tier: hạng 'ntm' phải cao hơn hạng 'ntm' của bộ 'ntm'"),
        (lambda s: s["ntm"].pop("tier"), r"sets\.ntm: thiếu khóa bắt buộc 'tier'"),
    ],
    ids=["two-roots", "no-root", "unknown-set", "two-sets-require-one", "unknown-tier", "tier-not-above", "no-tier"],
)
def test_a_broken_tier_chain_is_refused(doc, change, message):
    change(doc["sets"])
    with pytest.raises(CatalogError, match=message):
        parse_catalog(doc, "x")


def test_a_cycle_of_requires_is_refused(doc):
    # ntm stays the root; nang_cao and kieu_mau require each other and never reach it
    doc["sets"]["nang_cao"]["requires"] = "kieu_mau"
    with pytest.raises(CatalogError) as exc:
        parse_catalog(doc, "x")
    assert "sets: các bộ nang_cao, kieu_mau yêu cầu nhau thành vòng (requires), không nối về bộ gốc 'ntm'" in str(exc.value)


# --- the 2026-2030 catalogue (51/2025/QĐ-TTg), commune groups, NTM hiện đại ----------------------------------

REFERENCE_2026 = REFERENCE.parent / "ntm_criteria_2026_2030.yaml"


def test_qd51_holds_the_ten_criteria_of_the_reference_and_no_invented_indicator():
    ref = yaml.safe_load(REFERENCE_2026.read_text(encoding="utf-8"))
    c = load_catalog("qd51-2025")
    assert c.id == "qd51-2025"
    # in force 15/02/2026: the reporting years 2026-2030; 2025 stays with qd318-2022
    assert str(ref["decision_51_2025"]["in_force"]) == "2026-02-15"
    assert (c.year_from, c.year_to) == (2026, 2030)
    cs = catalog_set([load_catalog("qd318-2022"), c])
    assert cs.for_year(2025).id == "qd318-2022" and cs.for_year(2026).id == "qd51-2025"
    items = ref["criteria"]["items"]
    assert c.criteria_count() == ref["criteria"]["count"] == len(items) == 10
    assert c.criterion_names() == {str(i["num"]): i["name_vi"] for i in items}
    assert set(c.criteria["confidence"]) == {ref["criteria"]["confidence"]} == {"confirmed"}
    # 47 indicators (confirmed), none of them known: the list is incomplete everywhere, nothing is listed
    assert c.sets["ntm"]["indicator_count"] == ref["criteria"]["indicator_count"] == 47
    assert {i["indicators"] for i in items} == {"not_found"} and ref["criteria"]["indicators_and_thresholds"]["status"] == "not_found"
    assert c.indicators.empty and c.thresholds.empty
    assert not c.criteria["indicators_complete"].any()
    # thresholds by commune group: the three groups of the reference, in its (final) numbering
    assert c.selector == "group" and c.regions == ()
    assert c.selector_values == tuple(str(g["group"]) for g in ref["commune_groups"]["groups"]) == ("1", "2", "3")
    # the tiers: NTM and the pilot NTM hiện đại, whose conditions are not known (recorded as an empty, incomplete list)
    assert ref["tiers_2026_2030"]["xa_ntm_hien_dai"]["exists"] and ref["tiers_2026_2030"]["xa_ntm_hien_dai"]["conditions"] == "not_found"
    assert c.tier_chain() == ["ntm", "ntm_hien_dai"]
    assert [c.tier_of(s) for s in c.tier_chain()] == ["ntm", "ntm_hien_dai"]
    assert c.condition_set == "ntm_hien_dai" and c.conditions.empty and c.sets["ntm_hien_dai"]["conditions_complete"] is False
    assert c.district_sets == {} and c.recognition_conditions.empty
    assert load_catalog("qd318-2022").condition_set == "kieu_mau" and load_catalog("qd318-2022").selector == "region"


GROUPED = """\
id: nhom
name_vi: Bộ thử theo nhóm xã
years: {from: 2026, to: 2030}
threshold_by: group
groups:
- {code: '1', name_vi: Xã nhóm 1}
- {code: '2', name_vi: Xã nhóm 2}
- {code: '3', name_vi: Xã nhóm 3, confidence: confirmed}
sets:
  ntm:
    name_vi: xã NTM
    tier: ntm
    criteria_count: 1
    criteria:
    - number: 1
      name_vi: Hạ tầng
      confidence: likely
      indicators:
      - {code: '1.1', name_vi: Tỷ lệ đường được cứng hóa, unit: '%', kind: minimum, threshold: {'1': 100, 2: 90, '*': 50}}
"""


def test_thresholds_keyed_by_commune_group(tmp_path):
    c = load_catalog_file(_write(tmp_path, GROUPED))
    assert (c.selector, c.selector_values, c.regions, c.groups) == ("group", ("1", "2", "3"), (), ("1", "2", "3"))
    # the thresholds table keeps its columns: `region` holds the group code ({2: 90} is the group "2")
    assert c.thresholds.columns.tolist() == ["set", "code", "region", "year", "value"]
    assert dict(zip(c.thresholds["region"], c.thresholds["value"])) == {"1": 100.0, "2": 90.0, "*": 50.0}


def test_a_group_or_selector_the_catalogue_does_not_have_is_named_with_its_line(tmp_path):
    bad = GROUPED.replace("threshold: {'1': 100, 2: 90, '*': 50}", "threshold: {'1': 100, '4': 90, DHNTB: 50}")
    bad = bad.replace("threshold_by: group\n", "threshold_by: group\nregions: [{code: DHNTB, name_vi: x}]\n")
    path = _write(tmp_path, bad)
    with pytest.raises(CatalogError) as exc:
        load_catalog_file(path)
    msg = str(exc.value)
    # lines counted by hand in GROUPED, one line lower after the inserted regions line
    assert f"{path}, dòng 5: regions: chỉ dùng khi threshold_by: region; bộ này chọn ngưỡng theo group (khóa groups)" in msg
    assert (
        f"{path}, dòng 20: sets.ntm.criteria[0].indicators[0].threshold.4: nhóm xã không có trong danh sách groups (1, 2, 3, hoặc '*')"
        in msg
    )
    assert "threshold.DHNTB: nhóm xã không có trong danh sách groups" in msg
    assert "(3 lỗi)" in msg
    with pytest.raises(
        CatalogError, match=r"dòng 4: threshold_by: 'province' không hợp lệ; cho phép: region \(khóa regions\), group \(khóa groups\)"
    ):
        load_catalog_file(_write(tmp_path, GROUPED.replace("threshold_by: group", "threshold_by: province"), "p.yaml"))
    with pytest.raises(CatalogError, match=r"groups\[1\]\.code: mã nhóm xã '1' bị trùng"):
        load_catalog_file(_write(tmp_path, GROUPED.replace("{code: '2', name_vi: Xã nhóm 2}", "{code: '1', name_vi: Xã nhóm 2}"), "d.yaml"))


def test_the_province_looks_up_each_xa_by_its_group_under_a_group_catalogue(tmp_path):
    from dataclasses import replace

    from nongthon.province import UNGROUPED, load_province

    grouped = load_catalog_file(_write(tmp_path, GROUPED))
    base = load_province("66")
    a, b, c = list(base.registry.xa().index)[:3]
    province = replace(base, catalogs=catalog_set([grouped]), groups={a: "1", b: "3"})
    keys = province.threshold_selector(pd.Series([a, b, c], index=[10, 11, 12]), ["nhom"] * 3)
    assert keys.to_dict() == {10: "1", 11: "3", 12: UNGROUPED}
    # the keys are the thresholds table's `region` values: group 1 finds its own threshold (100); group 3 (which
    # has none of its own) and a xã with no group find only the one for every group ('*': 50)
    by_key = dict(zip(grouped.thresholds["region"], grouped.thresholds["value"]))
    assert [by_key.get(k, by_key["*"]) for k in keys] == [100.0, 50.0, 50.0]
    assert set(keys) - set(by_key) == {"3", UNGROUPED}
    # under a catalogue that selects by region, the key stays the region, as before
    py = load_province("54")
    assert set(py.selector("qd318-2022")) == {"DHNTB"} and py.threshold_selector(["22015"], ["qd318-2022"]).tolist() == ["DHNTB"]
    # one xã under catalogues of both kinds, row by row (a unit outside the registry: the region, or no group)
    xa = py.registry.xa().index[0]
    mixed = replace(py, catalogs=catalog_set([load_catalog("qd318-2022"), grouped]), groups={xa: "2"})
    keys = mixed.threshold_selector([xa, xa, "x", "x"], ["qd318-2022", "nhom", "qd318-2022", "nhom"])
    assert keys.tolist() == ["DHNTB", "2", "DHNTB", UNGROUPED]


def test_ntm_hien_dai_is_a_tier_above_advanced_whose_set_holds_conditions(doc):
    from nongthon.criteria import CONDITION_TIERS, TIER_CODES, TIER_WORDS, TIERS
    from nongthon.scoring import TIER_RANK, highest_tier

    assert TIERS.index("ntm") < TIERS.index("advanced") < TIERS.index("ntm_hien_dai")
    assert TIER_CODES["ntm_hien_dai"] == "ntm_hien_dai" and TIER_WORDS["ntm_hien_dai"] == "NTM hiện đại"
    assert "ntm_hien_dai" in CONDITION_TIERS and TIER_RANK["ntm_hien_dai"] > TIER_RANK["advanced"]
    sets = load_catalog("qd51-2025").sets
    reached = {"ntm": np.array([True, True, False]), "ntm_hien_dai": np.array([False, True, False])}
    assert highest_tier(sets, reached).tolist() == ["ntm", "ntm_hien_dai", "none"]
    # a set of the tier holds conditions, like the model set; a catalogue holds at most one such set
    two = copy.deepcopy(doc)
    two["sets"]["ntm_hien_dai"] = {"name_vi": "x", "tier": "ntm_hien_dai", "requires": "kieu_mau", "conditions": []}
    with pytest.raises(
        CatalogError, match=r"sets: chỉ được một bộ gồm điều kiện \(hạng model, ntm_hien_dai\); có 2: kieu_mau, ntm_hien_dai"
    ):
        parse_catalog(two, "x")
    criteria = copy.deepcopy(doc)
    criteria["sets"]["kieu_mau"]["tier"] = "ntm_hien_dai"
    criteria["sets"]["kieu_mau"]["criteria_count"] = 0
    with pytest.raises(
        CatalogError, match=r"khóa không xác định 'criteria_count' trong sets\.kieu_mau; cho phép: .*conditions, conditions_complete"
    ):
        parse_catalog(criteria, "x")


NANG_CAO_2026 = """\
catalog: qd51-2025
source: "Quyết định số …/QĐ-UBND (thử): Bộ tiêu chí xã NTM nâng cao tỉnh giai đoạn 2026 - 2030"
sets:
  nang_cao:
    name_vi: Bộ tiêu chí xã NTM nâng cao của tỉnh
    tier: advanced
    requires: ntm
    decision: "…/QĐ-UBND"
    criteria_count: 2
    criteria:
    - number: 1
      name_vi: Thu nhập
      confidence: likely
      indicators:
      - {code: '1.1', name_vi: Thu nhập bình quân, unit: triệu đồng/người/năm, kind: minimum, threshold: {'1': 80, '3': 60}}
    - {number: 2, name_vi: Môi trường, confidence: likely, indicators_complete: false}
  ntm_hien_dai: {requires: nang_cao}
"""


def test_a_province_override_adds_its_own_nang_cao_set_to_qd51(tmp_path):
    path = _write(tmp_path, NANG_CAO_2026, "66-nang-cao.yaml")
    c = load_catalog_file(_write(tmp_path, _shipped("qd51-2025.yaml"), "qd51-2025.yaml"), path)
    assert c.tier_chain() == ["ntm", "nang_cao", "ntm_hien_dai"]
    assert c.tier_of("nang_cao") == "advanced" and c.criteria_count("nang_cao") == 2 and c.criteria_count("ntm") == 10
    assert c.criterion_names("nang_cao") == {"1": "Thu nhập", "2": "Môi trường"}
    thr = c.thresholds[c.thresholds["set"] == "nang_cao"]
    assert dict(zip(thr["region"], thr["value"])) == {"1": 80.0, "3": 60.0}
    assert c.overrides == (str(path),)
    assert load_catalog("qd51-2025").tier_chain() == ["ntm", "ntm_hien_dai"]  # the shipped catalogue is untouched
    # the same file named in a province profile
    profile = tmp_path / "66.yaml"
    profile.write_text(
        'code: "66"\nname_vi: Tỉnh Đắk Lắk\nperiod: moi\ncatalogs: [qd51-2025]\noverrides: {qd51-2025: 66-nang-cao.yaml}\n',
        encoding="utf-8",
    )
    from nongthon.province import load_province_file

    assert load_province_file(profile).catalogs.for_year(2027).tier_chain() == ["ntm", "nang_cao", "ntm_hien_dai"]


def test_an_added_set_must_fit_the_chain_and_a_national_set_keeps_its_content(tmp_path):
    base = _write(tmp_path, _shipped("qd51-2025.yaml"), "qd51-2025.yaml")
    unlinked = _write(tmp_path, NANG_CAO_2026.replace("  ntm_hien_dai: {requires: nang_cao}\n", ""), "a.yaml")
    with pytest.raises(CatalogError) as exc:
        load_catalog_file(base, unlinked)
    assert (
        f"{unlinked}, dòng 7: sets.nang_cao.requires: bộ 'ntm' đã là bộ yêu cầu của 'ntm_hien_dai'; các bộ phải nối thành một chuỗi"
        in str(exc.value)
    )
    changed = _write(tmp_path, NANG_CAO_2026.replace("{requires: nang_cao}", "{requires: nang_cao, criteria_count: 3}"), "b.yaml")
    with pytest.raises(CatalogError, match=r"dòng 17: khóa không xác định 'criteria_count' trong sets\.ntm_hien_dai; cho phép: requires"):
        load_catalog_file(base, changed)
    upside_down = NANG_CAO_2026.replace("requires: ntm\n", "requires: ntm_hien_dai\n").replace("  ntm_hien_dai: {requires: nang_cao}\n", "")
    with pytest.raises(CatalogError, match=r"sets\.nang_cao\.tier: hạng 'advanced' phải cao hơn hạng 'ntm_hien_dai' của bộ 'ntm_hien_dai'"):
        load_catalog_file(base, _write(tmp_path, upside_down, "c.yaml"))
    bad_group = NANG_CAO_2026.replace("'3': 60", "'4': 60")
    with pytest.raises(
        CatalogError, match=r"sets\.nang_cao\.criteria\[0\]\.indicators\[0\]\.threshold\.4: nhóm xã không có trong danh sách groups"
    ):
        load_catalog_file(base, _write(tmp_path, bad_group, "d.yaml"))


def test_an_indicator_count_above_the_listed_indicators_needs_an_incomplete_criterion(tmp_path):
    listed_all = GROUPED.replace("    criteria_count: 1\n", "    criteria_count: 1\n    indicator_count: 2\n")
    with pytest.raises(
        CatalogError,
        match=r"sets\.ntm\.indicator_count: có 1 chỉ tiêu trong danh sách, ít hơn indicator_count = 2, nhưng không tiêu chí nào",
    ):
        load_catalog_file(_write(tmp_path, listed_all))
    too_many = GROUPED.replace("    criteria_count: 1\n", "    criteria_count: 1\n    indicator_count: 0\n")
    with pytest.raises(CatalogError, match=r"có 1 chỉ tiêu trong danh sách, nhiều hơn indicator_count = 0"):
        load_catalog_file(_write(tmp_path, too_many, "m.yaml"))
    fine = listed_all.replace(
        "      confidence: likely\n      indicators:", "      confidence: likely\n      indicators_complete: false\n      indicators:"
    )
    assert load_catalog_file(_write(tmp_path, fine, "f.yaml")).sets["ntm"]["indicator_count"] == 2
