import copy

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
