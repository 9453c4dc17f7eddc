"""Projections on cases whose answer is known, scenarios, the ranking and the backtest."""

import numpy as np
import pandas as pd
import pytest

from nongthon.projection import Scenario, backtest, closest_to_ntm, fit_rates, observed_states, project, simulate
from nongthon.sample import generate
from nongthon.targets import load_target_set
from tests.conftest import results_frame


def everyone(province, years, met_upto):
    rows = [dict(unit=u, year=y, item=str(i), met=i <= met_upto) for u in province.registry.xa().index for y in years for i in range(1, 20)]
    return results_frame(rows)


def probability(out, target_id):
    return next(m["xac_suat"] for m in out["muc_tieu"] if m["ma"] == target_id)


def test_every_xa_ntm_and_no_losses_meets_the_80_percent_target(province):
    results = everyone(province, [2022, 2023], 19)
    out = project(results, province, [load_target_set()], horizon=2025, runs=400, start_year=2023)
    assert probability(out, "xa_ntm_2025") > 0.98
    assert out["theo_nam"][-1]["ntm"]["p10"] > 0.9
    assert all(c["xac_suat_ntm"] > 0.9 for c in out["xa"])


def test_no_xa_gaining_anything_for_years_has_no_chance(province):
    results = everyone(province, [2022, 2023, 2024], 10)
    out = project(results, province, [load_target_set()], horizon=2025, runs=400, start_year=2024)
    assert probability(out, "xa_ntm_2025") < 0.02
    assert out["theo_nam"][-1]["ntm"]["p90"] == 0.0


@pytest.fixture(scope="module")
def sample_results(province):
    r = generate(province).results
    r["sample"] = True
    return r


def test_a_scenario_that_adds_criteria_never_lowers_any_probability(province, sample_results):
    states = observed_states(sample_results, province)
    rates = fit_rates(states, until=2023)
    sets = [load_target_set(), load_target_set("qd263-2025")]
    base = project(sample_results, province, sets, horizon=2025, runs=300, start_year=2023, states=states, rates=rates)
    lagging = [c["ma"] for c in base["xa"] if c["xac_suat_ntm"] < 0.5][:6]
    scen = Scenario(units=tuple(lagging), criteria=(17, 10), from_year=2024, name="6 xã hoàn thành tiêu chí 17 và 10")
    alt = project(sample_results, province, sets, horizon=2025, runs=300, start_year=2023, states=states, rates=rates, scenario=scen)
    for b, a in zip(base["muc_tieu"], alt["muc_tieu"]):
        assert b["ma"] == a["ma"]
        if b["xac_suat"] is not None:
            assert a["xac_suat"] >= b["xac_suat"], b["ma"]
    pb = {c["ma"]: c["xac_suat_ntm"] for c in base["xa"]}
    pa = {c["ma"]: c["xac_suat_ntm"] for c in alt["xa"]}
    assert all(pa[u] >= pb[u] for u in pb)
    assert sum(pa[u] for u in lagging) > sum(pb[u] for u in lagging)
    assert alt["theo_nam"][-1]["ntm"]["trung_binh"] >= base["theo_nam"][-1]["ntm"]["trung_binh"]


def test_seeded_and_reproducible(province, sample_results):
    states = observed_states(sample_results, province)
    rates = fit_rates(states, until=2023)
    a = simulate(states, rates, 2023, 2025, runs=200, seed=11)
    b = simulate(states, rates, 2023, 2025, runs=200, seed=11)
    c = simulate(states, rates, 2023, 2025, runs=200, seed=12)
    assert np.array_equal(a.ntm, b.ntm) and not np.array_equal(a.ntm, c.ntm)


def test_rates_come_from_the_same_catalogue_only_and_districts_shrink(province, sample_results):
    states = observed_states(sample_results, province)
    rates = fit_rates(states, until=2021)
    # 2016-2021 transitions only: the 2021→2022 switch is not read as losses
    assert rates.fitted_until == 2021 and rates.transitions > 0
    assert rates.gain["ntm"].shape == (4, 19) and rates.loss["ntm"].shape == (2, 19)
    assert (rates.gain["ntm"] > 0).all() and (rates.gain["ntm"] < 1).all()
    f = rates.district_factor
    assert f["562"] > 1 > f["561"]  # Tây Hòa moves faster than Sông Hinh, as its data shows
    assert all(0.2 < v < 5 for v in f.values())


def test_milestone_probabilities_say_when_they_are_upper_bounds(province, sample_results):
    out = project(sample_results, province, [load_target_set()], horizon=2025, runs=200, start_year=2023)
    by = {m["ma"]: m for m in out["muc_tieu"]}
    assert set(by) == {
        "xa_ntm_2025",
        "xa_nang_cao_2025",
        "xa_kieu_mau_2025",
        "tuy_an_huyen_ntm_2023",
        "song_cau_hoan_thanh_2025",
        "dong_hoa_hoan_thanh_2025",
        "tay_hoa_giu_chuan",
        "phu_hoa_giu_chuan",
    }
    assert by["tuy_an_huyen_ntm_2023"]["xac_suat"] == 0.0 and "năm đã qua" in by["tuy_an_huyen_ntm_2023"]["ghi_chu"]
    assert by["song_cau_hoan_thanh_2025"]["can_tren"] and "cận trên" in by["song_cau_hoan_thanh_2025"]["ghi_chu"]
    assert by["tay_hoa_giu_chuan"]["can_tren"] is False
    assert all(0.0 <= m["xac_suat"] <= 1.0 for m in out["muc_tieu"] if m["xac_suat"] is not None)


def test_closest_to_ntm_ranking(province, sample_results):
    top = closest_to_ntm(sample_results, province, 2023, limit=10)
    assert list(top["so_tieu_chi_dat"]) == sorted(top["so_tieu_chi_dat"], reverse=True)
    assert (top["so_tieu_chi_dat"] < 19).all()
    first = top.iloc[0]
    assert len(first["con_thieu"].split(", ")) >= 19 - first["so_tieu_chi_dat"] or ";" in first["con_thieu"]
    assert "Môi trường" in " ".join(top["con_thieu"]) or "Thu nhập" in " ".join(top["con_thieu"]) or len(top)


def test_backtest_output(province, sample_results):
    bt = backtest(sample_results, province, fit_until=2022, steps=1, runs=300)
    assert bt["du_bao_nam"] == 2023 and bt["ghi_chu"] is None
    assert sum(b["so_xa"] for b in bt["hieu_chinh"]) == 82
    for b in bt["hieu_chinh"]:
        assert b["tu"] <= b["du_bao_tb"] <= b["den"] and 0 <= b["thuc_te"] <= 1
    assert 0 <= bt["brier"] < bt["brier_tham_chieu"]  # better than always forecasting the overall rate
    assert set(bt["ty_le_ntm"]) == {"du_bao", "thuc_te", "trong_khoang_10_90"}
    across = backtest(sample_results, province, fit_until=2020, steps=2, runs=200)
    assert "đổi bộ tiêu chí" in across["ghi_chu"]
    with pytest.raises(ValueError):
        backtest(sample_results, province, fit_until=2025, steps=1)


def test_horizon_equal_to_the_last_year_reports_what_was_observed_and_beyond_projects(province, sample_results):
    by_default = project(sample_results, province, [load_target_set()], horizon=2025, runs=50)
    assert by_default["nam_bat_dau"] == 2024 and [y["nam"] for y in by_default["theo_nam"]] == [2025]  # the last year before
    out = project(sample_results, province, [load_target_set()], horizon=2025, runs=50, start_year=2025)
    assert out["theo_nam"] == [] and out["nam_bat_dau"] == 2025
    ntm = next(m for m in out["muc_tieu"] if m["ma"] == "xa_ntm_2025")
    assert ntm["xac_suat"] == 1.0 and "theo số liệu đã lưu" in ntm["ghi_chu"]  # 70/82 = 85 % ≥ 80 % in the sample
    beyond = project(sample_results, province, [load_target_set()], horizon=2027, runs=50, start_year=2025)
    assert [y["nam"] for y in beyond["theo_nam"]] == [2026, 2027]


def test_the_readme_example_starts_before_the_horizon_and_says_so(sample_store, province):
    """/api/projections?horizon=2025&runs=1000 with data up to 2025: starts in 2024 (the last year before)."""
    from nongthon.projection import projection_report

    out = projection_report(sample_store, province, horizon=2025, runs=100)
    assert out["nam_bat_dau"] == 2024 and [y["nam"] for y in out["theo_nam"]] == [2025]
    assert out["nam_bat_dau_ghi_chu"] == "mặc định: năm 2024, năm cuối có số liệu trước năm đích 2025"


def ntm_rows(units, years, met_upto=19, tier_set="ntm"):
    return [dict(unit=u, year=y, tier_set=tier_set, item=str(i), met=i <= met_upto) for u in units for y in years for i in range(1, 20)]


def test_the_advanced_xa_of_the_start_year_carry_into_the_simulation(province):
    """Every xã NTM 2020–2022 without a loss, 10 of them advanced in 2022 (the first year of the advanced set, so no
    advanced transition yet): started in 2022, about 10 of 83 official xã stay advanced every year (a handful of
    losses at most), never 0."""
    xa = list(province.registry.xa().index)
    rows = ntm_rows(xa, [2020, 2021, 2022]) + ntm_rows(xa[:10], [2022], tier_set="nang_cao")
    out = project(results_frame(rows), province, [load_target_set()], horizon=2025, runs=200, start_year=2022)
    for y in out["theo_nam"]:
        assert y["nang_cao"]["trung_binh"] >= 0.9 * 10 / 83, y
        assert y["nang_cao"]["p10"] > 0
    assert out["toc_do"]["bo_tieu_chi"]["nang_cao"]["muon_tu"] == "ntm"  # its rates borrowed from the NTM set


def test_a_set_the_start_catalogue_lacks_starts_from_the_recognised_tier(province):
    """Started in 2021 (1980/QĐ-TTg has no advanced set): the 6 xã recognised advanced on 2021-12-20 start advanced,
    the others not; advanced then needs all 19 advanced criteria, so about 6 of 83 in 2022."""
    xa = list(province.registry.xa().index)
    results = results_frame(ntm_rows(xa, [2019, 2020, 2021]))
    recognitions = pd.DataFrame(
        {
            "id": range(6),
            "unit": xa[:6],
            "tier": "advanced",
            "action": "recognise",
            "decision_number": "1/QĐ",
            "decision_date": "2021-12-20",
        }
    )
    states = observed_states(results, province, recognitions=recognitions)
    out = project(results, province, [load_target_set()], horizon=2023, runs=200, start_year=2021, states=states)
    first = out["theo_nam"][0]
    assert first["nam"] == 2022 and 5 / 83 <= first["nang_cao"]["trung_binh"] <= 6 / 83 + 1e-9
    assert first["ntm"]["trung_binh"] > 0.95 * 82 / 83


def test_the_projection_counts_advanced_only_on_top_of_ntm(province):
    """The catalogue's chain (advanced requires NTM): every xã meets all 19 advanced criteria but misses NTM
    criterion 19 every year, with no xã ever gaining it — so no xã is advanced, in any run."""
    xa = list(province.registry.xa().index)
    rows = ntm_rows(xa, [2022, 2023, 2024], met_upto=18) + ntm_rows(xa, [2022, 2023, 2024], tier_set="nang_cao")
    out = project(results_frame(rows), province, [load_target_set()], horizon=2025, runs=200, start_year=2024)
    assert out["theo_nam"][-1]["nang_cao"]["p90"] < 0.05
    assert out["theo_nam"][-1]["nang_cao"]["trung_binh"] <= out["theo_nam"][-1]["ntm"]["trung_binh"]


def test_a_change_of_catalogue_is_not_read_as_losses(province):
    """All xã fall from 19 to 10 criteria from 2021 (1980/QĐ-TTg) to 2022 (318/QĐ-TTg) — a new, stricter set, not
    lost progress — and hold steady otherwise: the loss rates stay near zero."""
    xa = list(province.registry.xa().index)
    rows = ntm_rows(xa, [2019, 2020, 2021]) + ntm_rows(xa, [2022, 2023, 2024], met_upto=10)
    rates = fit_rates(observed_states(results_frame(rows), province), until=2024)
    assert rates.loss["ntm"].max() < 0.01


def old_kernel(states, rates, start_year, horizon, runs, seed, scenario=None):
    """The Monte Carlo before issue 10 (``git show 6b1ac2c:nongthon/projection.py``, simulate's run_chunk as one
    chunk, without the district and blocking statistics): a full [run, xã, criterion] threshold array per year
    and set. The oracle of the distribution the faster kernel must keep."""
    from nongthon.projection import applicable, band_of, catalog_of, start_states
    from nongthon.scoring import reached_sets

    years = list(range(start_year + 1, horizon + 1))
    n_units, sets = len(states.units), list(states.crit)
    base, width = sets[0], {s: states.crit[s].shape[2] for s in sets}
    gains = {s: rates.gain_matrix(s, states.districts).astype("float32") for s in sets}
    keeps = {s: (1.0 - rates.loss[s]).astype("float32") for s in sets}
    catalogs = [catalog_of(states.catalog_set, y) for y in years]
    outside = [{s: ~applicable(c, s, width[s]) for s in sets} for c in catalogs]
    unit_idx = np.arange(n_units)
    forced = np.zeros((n_units, width[base]), dtype=bool)
    if scenario is not None:
        idx = pd.Index(states.units).get_indexer(list(scenario.units))
        for c in scenario.criteria:
            forced[idx[idx >= 0], c - 1] = True
    start = start_states(states, start_year)
    model_obs = states.model[:, states.years.index(start_year)]
    start_cat = states.catalog_set.for_year(start_year)

    def tiers(catalog, complete, m_state):
        reached = reached_sets(catalog.sets, {s: complete.get(s, m_state) for s in catalog.sets})
        by_tier = {catalog.sets[s]["tier"]: r for s, r in reached.items()}
        return {t: by_tier.get(t, np.zeros_like(m_state)) for t in ("ntm", "advanced", "model")}

    rng = np.random.default_rng(seed)
    st = {}
    for s in sets:
        obs, share = start[s]
        draw = rng.random((runs, n_units, width[s]), dtype=np.float32) < share[None, None, :]
        st[s] = np.where(obs[None] >= 0, obs[None] == 1, draw)
        if s in start_cat.sets:
            st[s] |= ~applicable(start_cat, s, width[s])[None, None, :]
    m_state = np.where(model_obs[None] >= 0, model_obs[None] == 1, False).repeat(runs, axis=0)
    counts = {t: np.zeros((runs, len(years)), dtype=int) for t in ("ntm", "advanced", "model", "below_15")}
    for k, y in enumerate(years):
        for s in sets:
            u = rng.random((runs, n_units, width[s]), dtype=np.float32)
            cur = st[s] | outside[k][s][None, None, :]
            missing = (~cur).sum(axis=2, dtype=np.int16)
            threshold = gains[s][band_of(missing), unit_idx[None, :]]
            keep = np.where((missing == 0)[:, :, None], keeps[s][1], keeps[s][0])
            np.copyto(threshold, keep, where=cur)
            threshold[:, :, outside[k][s]] = 1.0
            st[s] = u < threshold
            if s == base and scenario is not None and y >= scenario.from_year:
                st[s] |= forced[None]
        complete = {s: st[s].all(axis=2) for s in sets}
        u = rng.random((runs, n_units), dtype=np.float32)
        m_state = np.where(m_state, u < 1.0 - rates.model_loss, u < rates.model_gain) & tiers(catalogs[k], complete, m_state)["advanced"]
        reached = tiers(catalogs[k], complete, m_state)
        for t in ("ntm", "advanced", "model"):
            counts[t][:, k] = reached[t].sum(axis=1)
        counts["below_15"][:, k] = ((st[base] & ~outside[k][base][None, None, :]).sum(axis=2) < 15).sum(axis=1)
    return counts, reached["ntm"].mean(axis=0)


@pytest.mark.parametrize(
    ("start_year", "horizon", "with_scenario"),
    [(2023, 2025, False), (2021, 2024, True)],  # the second across the 2021 → 2022 catalogue change, with a scenario
)
def test_the_kernel_keeps_the_old_kernels_distribution(province, sample_results, start_year, horizon, with_scenario):
    """Mean NTM / advanced / model counts and xã under 15 criteria per year, and each xã's probability of being
    NTM at the horizon, from the new kernel and the old one (its copy above), 2,000 runs each: equal within 4
    standard errors of their difference (run-to-run spread / √runs; binomial for the per-xã probabilities)."""
    recognitions = generate(province).recognitions.reset_index(drop=True).rename_axis("id").reset_index()
    states = observed_states(sample_results, province, recognitions=recognitions)
    rates = fit_rates(states, until=start_year)
    scenario = None
    if with_scenario:  # the 8 xã furthest from NTM at the start complete criteria 17 and 10 from the second year
        met = (states.crit["ntm"][:, states.years.index(start_year)] == 1).sum(axis=1)
        lagging = tuple(states.units[i] for i in np.argsort(met, kind="stable")[:8])
        scenario = Scenario(units=lagging, criteria=(17, 10), from_year=start_year + 2)
    runs = 2000
    old, old_p = old_kernel(states, rates, start_year, horizon, runs, seed=3, scenario=scenario)
    new = simulate(states, rates, start_year, horizon, runs=runs, seed=4, scenario=scenario)
    assert new.years == list(range(start_year + 1, horizon + 1))
    for tier, got in (("ntm", new.ntm), ("advanced", new.advanced), ("model", new.model), ("below_15", new.below[15])):
        se = np.sqrt(old[tier].var(axis=0) / runs + got.var(axis=0) / runs)
        diff = np.abs(got.mean(axis=0) - old[tier].mean(axis=0))
        assert (diff <= 4 * se + 1e-12).all(), (tier, diff, se)
    assert old["ntm"].mean() > 10 and old["advanced"].mean() > 1  # the comparison is not between empty counts
    p = (old_p + new.p_ntm) / 2
    assert (np.abs(new.p_ntm - old_p) <= 4 * np.sqrt(2 * p * (1 - p) / runs) + 1e-12).all()
    # one uniform per run, xã and year for each of the 19 NTM and 19 advanced criteria and the model conditions,
    # and one per run for each criterion of a xã unknown at the start (in the sets of the start year's catalogue)
    si, held = states.years.index(start_year), states.catalog_set.for_year(start_year).sets
    unknown = sum(int((states.crit[s][:, si] < 0).sum()) for s in states.crit if s in held)
    assert new.draws == runs * (82 * (19 + 19 + 1) * (horizon - start_year) + unknown)
