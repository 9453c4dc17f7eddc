import copy
from pathlib import Path

import pytest
import yaml

from nongthon.criteria import apply_overrides, builtin_catalog_ids, catalog_set, load_catalog, load_catalog_file, parse_catalog
from nongthon.errors import CatalogError, UnknownYear


def test_builtin_catalogues_load_with_19_criteria_per_set():
    assert builtin_catalog_ids() == ["qd1980-2016", "qd318-2022"]
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
