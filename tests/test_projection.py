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


# --- the new Tỉnh Đắk Lắk (66) from 2026: the 2026-2030 catalogue (qd51-2025: 10 criteria, tiers ntm and the pilot
# ntm_hien_dai) against the 2030 targets (NQ 257: 65 % of xã NTM, 10 % OF THE NTM XÃ hiện đại, a described target;
# Đắk Lắk: 77 xã NTM, a count)


@pytest.fixture(scope="module")
def dak_lak():
    from nongthon.province import load_province

    return load_province("66")


def sets_2030():
    return [load_target_set("nq257-2030"), load_target_set("dak-lak-2026-2030")]


def qd51_frame(plan: dict[int, list[tuple[list[str], int]]]) -> pd.DataFrame:
    """Criterion-level results of the 10 qd51 criteria: {year: [(xã, criteria 1..n met, the others not)]}."""
    rows = [
        dict(unit=u, year=y, item=str(i), met=i <= upto)
        for y, groups in plan.items()
        for units, upto in groups
        for u in units
        for i in range(1, 11)
    ]
    return results_frame(rows).assign(catalog="qd51-2025")


def ntm_60_of_88(xa, years):
    """60 of the 88 xã meet all 10 criteria, the other 28 all but criterion 10 — in every year given."""
    return {y: [(xa[:60], 10), (xa[60:], 9)] for y in years}


def hien_dai(units, day="2026-11-20"):
    return pd.DataFrame(
        {
            "id": range(len(units)),
            "unit": units,
            "tier": "ntm_hien_dai",
            "action": "recognise",
            "decision_number": "9/QĐ",
            "decision_date": day,
        }
    )


def target(out, target_id):
    return next(m for m in out["muc_tieu"] if m["ma"] == target_id)


def test_66_one_year_of_data_carries_its_state_and_says_so(dak_lak):
    """Only 2026 (the first year of qd51-2025): no transition, nothing to borrow for the NTM set, so every xã keeps
    its 2026 state to 2030 in every run: 60/88 = 68,2 % NTM ≥ 65 % → P = 1; 60 < 77 xã → P = 0."""
    xa = list(dak_lak.registry.xa().index)
    assert len(xa) == 88
    out = project(qd51_frame(ntm_60_of_88(xa, [2026])), dak_lak, sets_2030(), horizon=2030, runs=200, start_year=2026)
    assert [y["nam"] for y in out["theo_nam"]] == [2027, 2028, 2029, 2030]
    for y in out["theo_nam"]:
        assert set(y) == {"nam", "mau_so", "ntm", "ntm_hien_dai"} and y["mau_so"] == 88  # the tiers of qd51, no nâng cao
        assert y["ntm"] == {"trung_binh": pytest.approx(60 / 88), "p10": pytest.approx(60 / 88), "p90": pytest.approx(60 / 88)}
        assert y["ntm_hien_dai"]["p90"] == 0.0
    assert probability(out, "qg_xa_ntm_2030") == 1.0
    assert probability(out, "dl_77_xa_ntm_2030") == 0.0 and target(out, "dl_77_xa_ntm_2030")["loai"] == "count"
    rates = out["toc_do"]
    assert rates["so_quan_sat"] == 0 and rates["bo_tieu_chi"]["ntm"]["giu_nguyen"] is True
    assert rates["bo_tieu_chi"]["ntm"]["muon_tu"] is None and rates["dieu_kien"]["giu_nguyen"] is True
    notes = " ".join(rates["ghi_chu"])
    assert "Chưa có chuyển đổi nào" in notes and "mới có số liệu năm 2026" in notes and "giữ nguyên đến năm 2030" in notes
    assert rates["he_so_huyen"] == {} and out["xa"][0]["ma_huyen"] is None  # no district level from 1 July 2025


def test_66_described_targets_are_not_evaluated_and_say_why(dak_lak):
    xa = list(dak_lak.registry.xa().index)
    out = project(qd51_frame(ntm_60_of_88(xa, [2026])), dak_lak, sets_2030(), horizon=2030, runs=20, start_year=2026)
    assert {m["ma"] for m in out["muc_tieu"]} == {
        "qg_xa_ntm_2030",
        "qg_xa_hien_dai_2030",
        "qg_5_tinh_hoan_thanh_2030",
        "dl_77_xa_ntm_2030",
        "dl_nang_cao_hien_dai_2030",
    }
    five = target(out, "qg_5_tinh_hoan_thanh_2030")
    assert five["xac_suat"] is None and five["loai"] == "described"
    assert five["ghi_chu"].startswith("chưa đánh giá được: ") and "5 tỉnh, thành phố" in five["ghi_chu"]
    assert "16/68 = 23,5%" in target(out, "dl_nang_cao_hien_dai_2030")["ghi_chu"]


@pytest.mark.parametrize(("after", "expected"), [(6, 1.0), (5, 0.0)])
def test_66_hien_dai_target_is_a_share_of_the_ntm_xa(dak_lak, after, expected):
    """The NTM hiện đại conditions are not published, so a xã starts hiện đại by its recognition (end of 2026) and
    keeps it (no transition). Of the 60 NTM xã: 6 → 6/60 = 10 % ≥ 10 % → P = 1; 5 → 8,3 % → P = 0 (of all 88 xã
    both would fail: 6,8 % and 5,7 %). A decision dated before 1 July 2025 on the same code was about the former
    unit of that code: it does not count."""
    xa = list(dak_lak.registry.xa().index)
    results = qd51_frame(ntm_60_of_88(xa, [2026]))
    recognitions = pd.concat([hien_dai(xa[:after]), hien_dai([xa[after]], day="2025-05-10").assign(id=99)])
    states = observed_states(results, dak_lak, recognitions=recognitions)
    out = project(results, dak_lak, sets_2030(), horizon=2030, runs=100, start_year=2026, states=states)
    got = target(out, "qg_xa_hien_dai_2030")
    assert got["xac_suat"] == expected and got["mau_so_la"] == "ntm"
    last = out["theo_nam"][-1]
    assert last["ntm_hien_dai"]["trung_binh"] == pytest.approx(after / 88) and last["ntm"]["trung_binh"] == pytest.approx(60 / 88)


def test_66_two_years_fit_rates_on_2026_to_2027(dak_lak):
    """2026 and 2027 alike (no gain, no loss): rates come from the one 2026 → 2027 pair — a few criterion losses at
    most among 60 NTM xã over 3 years, so ≥ 58 stay NTM (58/88 ≥ 65 %) in nearly every run; gaining criterion 10
    for 17 of the 28 others is out of reach: 77 xã never."""
    xa = list(dak_lak.registry.xa().index)
    out = project(qd51_frame(ntm_60_of_88(xa, [2026, 2027])), dak_lak, sets_2030(), horizon=2030, runs=300)
    assert out["nam_bat_dau"] == 2027 and [y["nam"] for y in out["theo_nam"]] == [2028, 2029, 2030]
    assert probability(out, "qg_xa_ntm_2030") > 0.98 and probability(out, "dl_77_xa_ntm_2030") == 0.0
    rates = out["toc_do"]
    assert rates["so_quan_sat"] == 88 * 10 and rates["bo_tieu_chi"]["ntm"]["giu_nguyen"] is False
    assert not any("Chưa có chuyển đổi nào" in n for n in rates["ghi_chu"])
    assert out["ty_le_quan_sat"]["2027"]["ntm"] == pytest.approx(60 / 88) and out["ty_le_quan_sat"]["2027"]["nang_cao"] is None


def test_66_reads_only_its_own_years_of_a_deployments_store(dak_lak, province, tmp_path):
    """A deployment's store also holds 2024–2025 of former Phú Yên on its own units (codes GSO reused): a 66
    projection reads 2026 only, starts there by default, and its horizon defaults to 2030."""
    from nongthon.errors import InvalidParameter
    from nongthon.projection import check_projection, projection_report
    from nongthon.store import Store

    xa = list(dak_lak.registry.xa().index)
    old = results_frame(ntm_rows(list(province.registry.xa().index), [2024, 2025], met_upto=5))  # former Phú Yên (54)
    results = pd.concat([old, qd51_frame(ntm_60_of_88(xa, [2026]))], ignore_index=True)
    assert observed_states(results, dak_lak).years == [2026]
    assert check_projection(dak_lak, [2024, 2025, 2026], None, 100, None) == 2026
    with pytest.raises(InvalidParameter, match="năm 2025 của Tỉnh Đắk Lắk.*có các năm: 2026"):
        check_projection(dak_lak, [2024, 2025, 2026], 2030, 100, 2025)
    store = Store.open(tmp_path / "66.db")
    store.write_results(results, source="test", author="test")
    out = projection_report(store, dak_lak, runs=50)
    store.close()
    assert out["nam_bat_dau"] == 2026 and out["nam_dich"] == 2030 and set(out["ty_le_quan_sat"]) == {"2026"}
    assert out["nam_bat_dau_ghi_chu"] == "mặc định: năm 2026, năm cuối có số liệu trước năm đích 2030"
    assert probability(out, "qg_xa_ntm_2030") == 1.0


def test_measure_share_of_a_tier_and_count():
    """targets.measure on hand counts: 10 % of the NTM xã, 65 % of the eligible xã, at least 77 xã."""
    from nongthon.targets import measure

    nq, dl = load_target_set("nq257-2030"), load_target_set("dak-lak-2026-2030")
    by = {t.id: t for t in (*nq.targets, *dl.targets)}
    counts = {"ntm": np.array([60, 60, 0, 77]), "ntm_hien_dai": np.array([6, 5, 0, 7])}
    assert measure(by["qg_xa_hien_dai_2030"], counts, 88)[2].tolist() == [True, False, False, False]  # 0 NTM: not met
    assert measure(by["qg_xa_ntm_2030"], counts, 88)[2].tolist() == [True, True, False, True]  # 57.2 of 88
    assert measure(by["dl_77_xa_ntm_2030"], counts, 88)[2].tolist() == [False, False, False, True]
    with pytest.raises(ValueError):
        measure(by["qg_5_tinh_hoan_thanh_2030"], counts, 88)


@pytest.mark.parametrize("history", ["climbing", "slipping"])
def test_66_first_year_takes_the_pace_of_the_former_units(dak_lak, province, history):
    """With 2026 alone there is no transition under qd51; the NTM set then takes the pace of the same set in the
    former units (Phú Yên's own 2023 → 2024 → 2025 under 318/QĐ-TTg). Opposite histories, opposite forecasts from
    the same 2026: xã that climbed from 14 to 16 to 18 criteria push the new province's NTM share up by 2030; xã
    that slipped from 19 to 17 to 15 pull it down (the 60 NTM xã of 2026 lose criteria)."""
    xa, old = list(dak_lak.registry.xa().index), list(province.registry.xa().index)
    path = {"climbing": (14, 16, 18), "slipping": (19, 17, 15)}[history]
    former = results_frame([r for y, k in zip((2023, 2024, 2025), path) for r in ntm_rows(old, [y], met_upto=k)])
    results = pd.concat([former, qd51_frame(ntm_60_of_88(xa, [2026]))], ignore_index=True)
    out = project(results, dak_lak, sets_2030(), horizon=2030, runs=200, start_year=2026)
    share_2030 = out["theo_nam"][-1]["ntm"]["trung_binh"]
    if history == "climbing":
        assert share_2030 > 70 / 88  # most of the 28 xã missing one criterion complete it in four years
    else:
        assert share_2030 < 50 / 88
    rates = out["toc_do"]
    assert rates["bo_tieu_chi"]["ntm"]["giu_nguyen"] is False
    assert any("đơn vị cũ" in n for n in rates["ghi_chu"]) and not any("giữ nguyên đến năm 2030" in n for n in rates["ghi_chu"])
