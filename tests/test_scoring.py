"""Every tier rule on hand-written cases."""

from dataclasses import replace
from datetime import date

import pandas as pd
import pytest

from nongthon.scoring import commune_scores, criterion_status, recognised_tiers
from tests.conftest import results_frame

A, B = "22303", "22306"  # Hòa Quang Bắc, Hòa Quang Nam (Phú Hòa)


def crit_rows(unit, year, met_items, tier_set="ntm", not_met=(), n=19):
    rows = [dict(unit=unit, year=year, tier_set=tier_set, item=str(i), met=True) for i in met_items]
    rows += [dict(unit=unit, year=year, tier_set=tier_set, item=str(i), met=False) for i in not_met]
    return rows


def ind(unit, year, code, value=None, met=None, tier_set="ntm"):
    return dict(unit=unit, year=year, tier_set=tier_set, level="indicator", item=code, value=value, met=met)


def status(results, province, unit, year, criterion, tier_set="ntm"):
    st = criterion_status(results, province, years=[year], units=[unit])
    return st[(st["criterion"] == criterion) & (st["tier_set"] == tier_set)]["status"].item()


def score(results, province, unit, year):
    s = commune_scores(results, province, years=[year], units=[unit])
    return s.iloc[0]


def test_all_19_met_is_ntm(province):
    s = score(results_frame(crit_rows(A, 2023, range(1, 20))), province, A, 2023)
    assert (s["tier"], s["ntm_met"], s["ntm_total"]) == ("ntm", 19, 19)


def test_18_met_one_not_met_is_none(province):
    s = score(results_frame(crit_rows(A, 2023, range(1, 19), not_met=[19])), province, A, 2023)
    assert (s["tier"], s["ntm_met"], s["ntm_not_met"], s["ntm_not_evaluated"]) == ("none", 18, 1, 0)


def test_missing_criterion_is_not_evaluated_not_failed(province):
    s = score(results_frame(crit_rows(A, 2023, range(1, 19))), province, A, 2023)
    assert (s["tier"], s["ntm_met"], s["ntm_not_met"], s["ntm_not_evaluated"]) == ("none", 18, 0, 1)


def test_no_result_at_all_has_no_tier(province):
    s = commune_scores(results_frame(crit_rows(A, 2023, range(1, 20))), province, years=[2023], units=[A, B]).set_index("unit")
    assert pd.isna(s.loc[B, "tier"]) and not s.loc[B, "has_data"]
    assert s.loc[A, "tier"] == "ntm"


def test_boolean_indicators_decide_a_complete_criterion(province):
    r = results_frame([ind(A, 2023, "1.1", met=True), ind(A, 2023, "1.2", met=True)])
    assert status(r, province, A, 2023, "1") == "met"
    r = results_frame([ind(A, 2023, "1.1", met=True), ind(A, 2023, "1.2", met=False)])
    assert status(r, province, A, 2023, "1") == "not_met"
    r = results_frame([ind(A, 2023, "1.1", met=True)])
    assert status(r, province, A, 2023, "1") == "not_evaluated"


@pytest.mark.parametrize(("value", "expected"), [(22.0, "met"), (21.99, "met"), (22.01, "not_met")])
def test_maximum_threshold_boundary(province, value, expected):
    # 15.3 stunting rate: at most 22 % in Duyên hải Nam Trung Bộ
    r = results_frame([ind(A, 2023, "15.3", value=value)])
    st = criterion_status(r, province, years=[2023], units=[A])
    from nongthon.scoring import indicator_status

    assert indicator_status(r, province)["status"].item() == expected
    # 15.1 has no threshold, so criterion 15 can at best be not evaluated, and fails when 15.3 fails
    crit15 = st[(st["criterion"] == "15") & (st["tier_set"] == "ntm")]["status"].item()
    assert crit15 == ("not_met" if expected == "not_met" else "not_evaluated")


@pytest.mark.parametrize(("value", "expected"), [(100.0, "met"), (99.9, "not_met")])
def test_minimum_threshold_boundary(province, value, expected):
    from nongthon.scoring import indicator_status

    r = results_frame([ind(A, 2023, "2.1", value=value)])
    assert indicator_status(r, province)["status"].item() == expected


def test_unknown_threshold_is_not_evaluated_and_region_selects_it(province):
    from nongthon.scoring import indicator_status

    r = results_frame([ind(A, 2023, "15.4", value=95.0)])
    assert indicator_status(r, province)["status"].item() == "not_evaluated"
    # the same value in a xã assessed on the TDMNPB thresholds (≥ 50 %) is evaluated
    tdmnpb = replace(province, tdmnpb_communes=frozenset({A}))
    assert indicator_status(r, tdmnpb)["status"].item() == "met"
    assert indicator_status(results_frame([ind(A, 2023, "15.4", value=49.0)]), tdmnpb)["status"].item() == "not_met"


def test_year_dependent_threshold(province):
    from nongthon.scoring import indicator_status

    # 1980/QĐ-TTg income: 41 million in 2020 for DHNTB; the 2016–2019 steps are unknown
    r = results_frame([ind(A, 2020, "10", value=41.0), ind(B, 2020, "10", value=40.9), ind(A, 2019, "10", value=60.0)])
    st = indicator_status(r, province).set_index(["unit", "year"])["status"]
    assert st[(A, 2020)] == "met" and st[(B, 2020)] == "not_met" and st[(A, 2019)] == "not_evaluated"
    assert status(r, province, A, 2020, "10") == "met"  # single indicator, complete list


def test_incomplete_indicator_list_never_makes_a_criterion_met(province):
    rows = [ind(A, 2023, c, met=True) for c in ("13.1", "13.2", "13.3", "13.4")]
    assert status(results_frame(rows), province, A, 2023, "13") == "not_evaluated"
    rows[0]["met"] = False
    assert status(results_frame(rows), province, A, 2023, "13") == "not_met"


def test_criterion_level_result_takes_precedence_over_indicators(province):
    both = [ind(A, 2023, "1.1", met=True), ind(A, 2023, "1.2", met=True), dict(unit=A, year=2023, item="1", met=False)]
    assert status(results_frame(both), province, A, 2023, "1") == "not_met"
    both = [ind(A, 2023, "1.1", met=False), dict(unit=A, year=2023, item="1", met=True)]
    assert status(results_frame(both), province, A, 2023, "1") == "met"


def test_advanced_needs_ntm_and_all_advanced_criteria(province):
    r = results_frame(crit_rows(A, 2023, range(1, 20)) + crit_rows(A, 2023, range(1, 20), tier_set="nang_cao"))
    assert score(r, province, A, 2023)["tier"] == "advanced"
    r = results_frame(crit_rows(A, 2023, range(1, 19), not_met=[19]) + crit_rows(A, 2023, range(1, 20), tier_set="nang_cao"))
    s = score(r, province, A, 2023)
    assert (s["tier"], s["adv_met"]) == ("none", 19)
    r = results_frame(crit_rows(A, 2023, range(1, 20)) + crit_rows(A, 2023, range(1, 19), tier_set="nang_cao"))
    assert score(r, province, A, 2023)["tier"] == "ntm"


def _model(unit, year, thu_nhap=None, income=None, smart=True, field=True):
    rows = crit_rows(unit, year, range(1, 20)) + crit_rows(unit, year, range(1, 20), tier_set="nang_cao")
    rows.append(dict(unit=unit, year=year, tier_set="kieu_mau", level="condition", item="thu_nhap", met=thu_nhap, value=income))
    rows.append(dict(unit=unit, year=year, tier_set="kieu_mau", level="condition", item="thon_thong_minh", met=smart))
    rows.append(dict(unit=unit, year=year, tier_set="kieu_mau", level="condition", item="linh_vuc_noi_troi", met=field))
    return rows


def test_model_needs_advanced_and_every_condition(province):
    assert score(results_frame(_model(A, 2024, thu_nhap=True)), province, A, 2024)["tier"] == "model"
    assert score(results_frame(_model(A, 2024, thu_nhap=True, smart=False)), province, A, 2024)["tier"] == "advanced"
    # an income VALUE is compared with 110 % of the advanced threshold, which is unknown: not evaluated
    s = score(results_frame(_model(A, 2024, income=80.0)), province, A, 2024)
    assert (s["tier"], s["model_not_evaluated"]) == ("advanced", 1)
    # model conditions without the advanced set are not enough
    rows = [r for r in _model(A, 2024, thu_nhap=True) if r.get("tier_set") != "nang_cao"]
    assert score(results_frame(rows), province, A, 2024)["tier"] == "ntm"


def test_model_income_uses_110_percent_of_advanced_threshold_when_known(province):
    cat = province.catalogs.for_year(2024)
    thr = pd.concat(
        [cat.thresholds, pd.DataFrame([{"set": "nang_cao", "code": "10", "region": "DHNTB", "year": pd.NA, "value": 50.0}])],
        ignore_index=True,
    )
    thr["year"] = thr["year"].astype("Int64")
    cat2 = replace(cat, thresholds=thr)
    from nongthon.criteria import catalog_set

    p2 = replace(province, catalogs=catalog_set([province.catalogs.for_year(2020), cat2]))
    assert score(results_frame(_model(A, 2024, income=55.0)), p2, A, 2024)["tier"] == "model"
    assert score(results_frame(_model(A, 2024, income=54.9)), p2, A, 2024)["tier"] == "advanced"


def test_2016_2020_catalogue_reaches_at_most_ntm(province):
    s = score(results_frame(crit_rows(A, 2019, range(1, 20))), province, A, 2019)
    assert (s["catalog"], s["tier"], s["adv_total"], s["model_total"]) == ("qd1980-2016", "ntm", 0, 0)


def test_vectorised_over_communes_and_years(province):
    rows = []
    for y in (2021, 2022, 2023):
        rows += crit_rows(A, y, range(1, 20)) + crit_rows(B, y, range(1, 20 - (y - 2020)))
    s = commune_scores(results_frame(rows), province, units=[A, B]).set_index(["unit", "year"])
    assert s.loc[(A, 2022), "tier"] == "ntm"
    assert [s.loc[(B, y), "ntm_met"] for y in (2021, 2022, 2023)] == [18, 17, 16]


def test_recognised_tier_with_revocation(province):
    rec = pd.DataFrame(
        [
            dict(id=1, unit=A, tier="ntm", action="recognise", decision_number="1/QĐ-UBND", decision_date=date(2019, 12, 1)),
            dict(id=2, unit=A, tier="advanced", action="recognise", decision_number="2/QĐ-UBND", decision_date=date(2023, 6, 1)),
            dict(id=3, unit=A, tier="advanced", action="revoke", decision_number="3/QĐ-UBND", decision_date=date(2024, 3, 1)),
            dict(id=4, unit=B, tier="ntm", action="recognise", decision_number="4/QĐ-UBND", decision_date=date(2026, 1, 5)),
        ]
    )
    r23 = recognised_tiers(rec, 2023).set_index("unit")
    assert r23.loc[A, "recognised_tier"] == "advanced" and r23.loc[A, "decision_number"] == "2/QĐ-UBND"
    assert B not in r23.index
    r24 = recognised_tiers(rec, 2024).set_index("unit")
    assert r24.loc[A, "recognised_tier"] == "ntm"
    assert recognised_tiers(rec, 2018).empty


def test_revoking_ntm_ends_the_higher_tiers_too(province):
    rec = pd.DataFrame(
        [
            dict(id=1, unit=A, tier="ntm", action="recognise", decision_number="1", decision_date=date(2019, 12, 1)),
            dict(id=2, unit=A, tier="advanced", action="recognise", decision_number="2", decision_date=date(2022, 6, 1)),
            dict(id=3, unit=A, tier="ntm", action="revoke", decision_number="3", decision_date=date(2024, 3, 1)),
            dict(id=4, unit=A, tier="ntm", action="recognise", decision_number="4", decision_date=date(2025, 3, 1)),
        ]
    )
    assert recognised_tiers(rec, 2023).set_index("unit").loc[A, "recognised_tier"] == "advanced"
    assert recognised_tiers(rec, 2024).empty
    assert recognised_tiers(rec, 2025).set_index("unit").loc[A, "recognised_tier"] == "ntm"


@pytest.mark.parametrize(("value", "expected"), [(0, "met"), (1, "not_met"), (3, "not_met")])
def test_absence_indicator_is_met_only_at_zero(province, value, expected):
    """9.1 Nhà tạm, dột nát (kind absence): met when none is left, whatever the count otherwise."""
    from nongthon.scoring import indicator_status

    assert indicator_status(results_frame([ind(A, 2023, "9.1", value=value)]), province)["status"].item() == expected


def test_a_region_threshold_wins_over_the_every_region_value(province):
    """An override gives 15.4 both '*': 70 and DHNTB: 60; the catalogue has TDMNPB: 50. The most specific value
    wins (region and year, region, '*' and year, '*'): a DHNTB xã takes 60 (65 met, 55 not), a xã on the TDMNPB
    thresholds its region's 50 (55 met), and with only '*': 70 given, a DHNTB xã takes 70 (65 not met)."""
    from nongthon.criteria import apply_overrides, catalog_set
    from nongthon.scoring import indicator_status

    base = province.catalogs.by_id("qd318-2022")
    doc = {"catalog": "qd318-2022", "source": "kiểm thử", "thresholds": {"ntm": {"15.4": {"*": 70, "DHNTB": 60}}}}
    cat = apply_overrides(base, doc, "override.yaml")
    p = replace(province, catalogs=catalog_set([province.catalogs.by_id("qd1980-2016"), cat]))
    r = results_frame([ind(A, 2023, "15.4", value=65.0), ind(B, 2023, "15.4", value=55.0)])
    got = indicator_status(r, p).set_index("unit")["status"]
    assert (got[A], got[B]) == ("met", "not_met")  # 65 ≥ 60 (DHNTB), 55 < 60
    tdmnpb = replace(p, tdmnpb_communes=frozenset({B}))
    assert indicator_status(r, tdmnpb).set_index("unit")["status"][B] == "met"  # 55 ≥ 50, TDMNPB's own value
    only_star = replace(
        p,
        catalogs=catalog_set(
            [province.catalogs.by_id("qd1980-2016"), apply_overrides(base, {**doc, "thresholds": {"ntm": {"15.4": {"*": 70}}}}, "o.yaml")]
        ),
    )
    assert indicator_status(r, only_star).set_index("unit")["status"][A] == "not_met"  # 65 < 70 when only '*' is given
