"""Every tier rule on hand-written cases."""

import math
from dataclasses import replace
from datetime import date

import numpy as np
import pandas as pd
import pytest

from nongthon.scoring import SET_PREFIX, commune_scores, criterion_status, recognised_tiers
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


def test_an_unknown_criterion_number_counts_for_no_criterion(province):
    """A criterion-level row naming criterion 257 of the NTM set is no criterion of the catalogue: it must not be
    counted as criterion 1 of the advanced set (as packing the key into one integer used to do)."""
    r = results_frame([dict(unit=A, year=2023, tier_set="ntm", item="257", met=True)])
    s = score(r, province, A, 2023)
    assert (s["ntm_met"], s["adv_met"], s["adv_not_evaluated"], s["tier"]) == (0, 0, 19, "none")


# --- the vectorised scoring against a plain per-xã reference ------------------------------------------------------


class _RefCatalog:
    """A catalogue's tables as plain Python rows, and its rules written the slow, obvious way."""

    def __init__(self, cat):
        self.id, self.sets = cat.id, cat.sets
        self.criteria = list(cat.criteria.itertuples())
        self.indicators = list(cat.indicators.itertuples())
        self.thresholds = list(cat.thresholds.itertuples())
        self.conditions = list(cat.conditions.itertuples())

    def indicators_of(self, tier_set, criterion):
        return [i for i in self.indicators if i.set == tier_set and i.criterion == criterion]

    def threshold(self, tier_set, code, region, year):
        """The most specific value: (region, year), (region, every year), ('*', year), ('*', every year)."""
        for want_region, want_year in ((region, year), (region, None), ("*", year), ("*", None)):
            for t in self.thresholds:
                same_year = pd.isna(t.year) if want_year is None else (not pd.isna(t.year) and int(t.year) == want_year)
                if (t.set, t.code, t.region) == (tier_set, code, want_region) and same_year:
                    return float(t.value)
        return None


def _ref_judge(kind, met, value, threshold):
    if met is not None:
        return "met" if met else "not_met"
    if value is None or kind not in ("minimum", "maximum", "absence", "boolean"):
        return "not_evaluated"
    if kind in ("minimum", "maximum") and threshold is None:
        return "not_evaluated"
    close = threshold is not None and math.isclose(value, threshold, rel_tol=1e-9)
    ok = {
        "minimum": lambda: value >= threshold or close,
        "maximum": lambda: value <= threshold or close,
        "absence": lambda: value == 0,
        "boolean": lambda: value != 0,
    }[kind]()
    return "met" if ok else "not_met"


def _reference(rows: list[dict], province, units, years):
    """Per (unit, year), in plain Python: the status and basis of every criterion, and the counts and tier that
    commune_scores reports. ``rows`` hold at most one row per result key, as the store gives."""
    cats = {y: _RefCatalog(province.catalogs.for_year(y)) for y in years}
    by_cell: dict = {}
    for r in rows:
        by_cell.setdefault((r["unit"], r["year"]), []).append(r)
    crit, cells = {}, {}
    for unit in units:
        region = "TDMNPB" if unit in province.tdmnpb_communes else province.region
        for year in years:
            cat, mine = cats[year], by_cell.get((unit, year), [])
            cell = {"catalog": cat.id, "has_data": bool(mine)}
            complete = {}
            for s in ("ntm", "nang_cao"):
                counts = dict.fromkeys(("met", "not_met", "not_evaluated"), 0)
                for c in (c for c in cat.criteria if c.set == s):
                    recorded = [r for r in mine if r["level"] == "criterion" and r["tier_set"] == s and r["item"] == c.criterion]
                    inds = cat.indicators_of(s, c.criterion)
                    judged = [
                        _ref_judge(i.kind, r.get("met"), r.get("value"), cat.threshold(s, i.code, region, year))
                        for i in inds
                        for r in mine
                        if r["level"] == "indicator" and r["tier_set"] == s and r["item"] == i.code
                    ]
                    if recorded and recorded[0].get("met") is not None:
                        status, basis = ("met" if recorded[0]["met"] else "not_met"), "criterion"
                    elif "not_met" in judged:
                        status, basis = "not_met", "indicators"
                    else:
                        every_one_met = c.indicators_complete and len(inds) > 0 and judged.count("met") == len(inds)
                        status, basis = ("met" if every_one_met else "not_evaluated"), ("indicators" if "met" in judged else "none")
                    crit[(unit, year, s, c.criterion)] = (status, basis)
                    counts[status] += 1
                total = cat.sets[s]["criteria_count"] if s in cat.sets else 0
                cell |= {f"{SET_PREFIX[s]}_{k}": v for k, v in counts.items()} | {f"{SET_PREFIX[s]}_total": total}
                complete[s] = total > 0 and counts["met"] == total
            model = dict.fromkeys(("met", "not_met", "not_evaluated"), 0)
            for cond in cat.conditions:
                r = next((r for r in mine if r["level"] == "condition" and r["item"] == cond.code), {})
                base = cat.threshold(cond.from_set, cond.from_indicator, region, year) if isinstance(cond.from_set, str) else None
                model[_ref_judge(cond.kind, r.get("met"), r.get("value"), None if base is None else base * cond.factor)] += 1
            cell |= {f"model_{k}": v for k, v in model.items()} | {"model_total": len(cat.conditions)}
            tier = "none"
            if complete["ntm"]:
                tier = "ntm"
                if complete["nang_cao"]:
                    tier = "advanced"
                    if cat.conditions and model["met"] == len(cat.conditions):
                        tier = "model"
            cell["tier"] = tier if mine else None
            cells[(unit, year)] = cell
    return cells, crit


def _random_rows(province, rng, units, years, n_cells):
    """One result per key for n_cells random (xã, year): criteria recorded whole or by indicators (values next to
    their thresholds), model conditions, and rows that decide nothing (district-level sets, recognition)."""
    cats = {y: _RefCatalog(province.catalogs.for_year(y)) for y in years}
    rows = []
    for pick in rng.choice(len(units) * len(years), size=n_cells, replace=False):
        unit, year = units[pick // len(years)], years[pick % len(years)]
        cat = cats[year]
        region = "TDMNPB" if unit in province.tdmnpb_communes else province.region
        base = dict(unit=unit, year=year, catalog=cat.id)
        good = rng.random() < 0.5  # most criteria recorded whole and met, so that every tier is reached
        for c in cat.criteria:
            how = rng.choice(["nothing", "criterion", "indicators", "both"], p=[0, 0.9, 0, 0.1] if good else [0.05, 0.6, 0.25, 0.1])
            if how in ("criterion", "both"):
                met = None if rng.random() < 0.05 and not good else bool(rng.random() < (0.985 if good else 0.9))
                rows.append(base | dict(tier_set=c.set, level="criterion", item=c.criterion, met=met))
            if how in ("indicators", "both"):
                for i in cat.indicators_of(c.set, c.criterion):
                    if rng.random() < 0.1:
                        continue
                    if rng.random() < 0.4:
                        rows.append(base | dict(tier_set=c.set, level="indicator", item=i.code, met=bool(rng.random() < 0.9)))
                        continue
                    thr = cat.threshold(c.set, i.code, region, year)
                    near = [thr - 1, thr, thr + 1] if thr is not None else [0.0, 50.0]
                    choices = {"absence": [0.0, 0.0, 2.0], "boolean": [1.0, 1.0, 0.0]}.get(i.kind, near)
                    rows.append(base | dict(tier_set=c.set, level="indicator", item=i.code, value=float(rng.choice(choices))))
        for cond in cat.conditions:
            if rng.random() < 0.15:
                continue
            if cond.kind == "minimum" and rng.random() < 0.6:
                rows.append(
                    base | dict(tier_set="kieu_mau", level="condition", item=cond.code, value=float(rng.choice([54.9, 55.0, 60.0])))
                )
            else:
                rows.append(base | dict(tier_set="kieu_mau", level="condition", item=cond.code, met=bool(rng.random() < 0.9)))
        if rng.random() < 0.1:
            rows.append(base | dict(tier_set="huyen_ntm", level="criterion", item="1", met=True))
        if rng.random() < 0.1:
            rows.append(base | dict(tier_set="ntm", level="recognition", item="hai_long", met=True))
    return rows


def test_vectorised_scores_agree_with_a_per_xa_reference(province):
    """300 random xã-years of the two catalogues, with a TDMNPB region and a known advanced income threshold so
    that every comparison kind and the 110 % model income are exercised: commune_scores and criterion_status say
    exactly what a plain loop over each xã, year and criterion says (the loop is the oracle)."""
    from nongthon.criteria import catalog_set

    cat = province.catalogs.by_id("qd318-2022")
    extra = pd.DataFrame([{"set": "nang_cao", "code": "10", "region": "DHNTB", "year": pd.NA, "value": 50.0}])
    thresholds = pd.concat([cat.thresholds, extra], ignore_index=True).astype({"year": "Int64"})
    units = list(province.registry.xa().index)
    p = replace(
        province,
        catalogs=catalog_set([province.catalogs.by_id("qd1980-2016"), replace(cat, thresholds=thresholds)]),
        tdmnpb_communes=frozenset(units[:20]),
    )
    years = list(range(2016, 2026))
    rows = _random_rows(p, np.random.default_rng(2026), units, years, 300)
    results = results_frame(rows)
    cells, crit = _reference(rows, p, units, years)

    got = commune_scores(results, p, years=years, units=units)
    got["tier"] = got["tier"].astype(object).where(got["tier"].notna(), None)
    assert {(r.pop("unit"), r.pop("year")): r for r in got.to_dict("records")} == cells
    assert {"ntm", "advanced", "model", "none"} <= {c["tier"] for c in cells.values()}  # every tier is reached

    st = criterion_status(results, p, years=years, units=units)
    cols = ["unit", "year", "tier_set", "criterion", "status", "basis"]
    assert {(u, y, s, c): (a, b) for u, y, s, c, a, b in st[cols].itertuples(index=False)} == crit
    assert {"criterion", "indicators", "none"} <= {b for _, b in crit.values()}


def test_a_recognition_belongs_to_the_units_of_its_date():
    """22303 was Xã Hòa Quang Bắc until 30 June 2025 (recognised NTM 2016) and is Xã Phú Hòa 2 from 1 July 2025:
    the old decision never makes the new xã NTM; a decision from 1 July 2025 is about the new xã only."""
    rec = pd.DataFrame(
        [
            dict(id=1, unit="22303", tier="ntm", action="recognise", decision_number="1/QĐ-UBND", decision_date=date(2016, 12, 15)),
            dict(id=2, unit="22303", tier="ntm", action="recognise", decision_number="9/QĐ-UBND", decision_date=date(2025, 7, 1)),
            dict(id=3, unit="22306", tier="ntm", action="recognise", decision_number="2/QĐ-UBND", decision_date=date(2025, 6, 30)),
        ]
    )
    old = recognised_tiers(rec, 2025).set_index("unit")  # the old units' last year
    assert old.loc["22303", "decision_number"] == "1/QĐ-UBND" and old.loc["22306", "decision_number"] == "2/QĐ-UBND"
    new = recognised_tiers(rec, 2026).set_index("unit")
    assert list(new.index) == ["22303"] and new.loc["22303", "decision_number"] == "9/QĐ-UBND"
    assert list(recognised_tiers(rec, 2025, period="moi")["decision_number"]) == ["9/QĐ-UBND"]
