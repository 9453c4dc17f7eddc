"""Projections ("dự báo"): from the stored history, the yearly rates at which xã gain and lose each criterion,
and a seeded Monte Carlo of every xã to a horizon year — shares of NTM / advanced / model with a 10–90 %
band, the probability of each target and milestone, per-commune probabilities and what holds each xã back;
scenarios; and a backtest that fits on the data up to a year and scores the forecast against what happened.

Model. Each criterion of a xã is a two-state Markov chain per year: a criterion not met becomes met with
probability g (its gain rate), one met is lost with probability l. Rates are pooled over xã per criterion
and set (NTM, advanced), estimated from consecutive years under the same catalogue (a change of criteria set
is not progress), with a Beta(½, ½) prior; each district-level unit's gain rates are scaled by a factor
shrunk towards 1 (``prior_strength`` expected gains of weight), so districts move apart only where their
data supports it. The model conditions of an advanced xã are one chain (all met or not). A criterion whose
state is unknown at the start is drawn from the share of xã meeting it that year. Vectorised over runs × xã
× criteria with numpy; common random numbers make scenarios comparable run by run.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .province import Province
from .scoring import TIER_RANK, commune_scores, criterion_status
from .targets import TargetSet

SETS = ("ntm", "nang_cao")
PRIOR = 0.5  # Beta(½, ½)
#: gains depend on how far the xã is (criteria of the set met): a xã near the goal pushes to finish
BAND_EDGES = (10, 15, 17)  # bands: < 10, 10–14, 15–16, 17–19


def band_of(count: np.ndarray) -> np.ndarray:
    return np.searchsorted(np.array(BAND_EDGES), count, side="right")


@dataclass(frozen=True)
class States:
    """Observed states: ``crit[set][unit, year, criterion]`` = 1 met, 0 not met, -1 unknown; ``model[unit, year]``."""

    units: list[str]
    years: list[int]
    districts: np.ndarray  # district code of each unit
    crit: dict[str, np.ndarray]
    model: np.ndarray
    catalogs: list[str]  # catalogue of each year


def observed_states(results: pd.DataFrame, province: Province, years: list[int] | None = None) -> States:
    """The criterion-level state of every xã in every year, from the current results."""
    years = sorted(set(years if years is not None else results["year"].unique().tolist()))
    units = list(province.registry.xa().index)
    status = criterion_status(results, province, years=years, units=units)
    code = status["status"].map({"met": 1, "not_met": 0, "not_evaluated": -1}).astype("int8")
    crit = {}
    u_idx = pd.Index(units).get_indexer(status["unit"])
    y_idx = pd.Index(years).get_indexer(status["year"])
    for s in SETS:
        arr = np.full((len(units), len(years), 19), -1, dtype="int8")
        sel = (status["tier_set"] == s).to_numpy()
        c_idx = status.loc[sel, "criterion"].astype(int).to_numpy() - 1
        ok = c_idx < 19
        arr[u_idx[sel][ok], y_idx[sel][ok], c_idx[ok]] = code.to_numpy()[sel][ok]
        crit[s] = arr
    scores = commune_scores(results, province, years=years, units=units)
    m = np.where(
        scores["model_total"] == 0,
        -1,
        np.where(scores["model_met"] == scores["model_total"], 1, np.where(scores["model_not_met"] > 0, 0, -1)),
    )
    model = m.reshape(len(units), len(years)).astype("int8")
    return States(
        units=units,
        years=years,
        districts=province.registry.units.loc[units, "district_code"].to_numpy(),
        crit=crit,
        model=model,
        catalogs=[province.catalogs.for_year(y).id for y in years],
    )


@dataclass(frozen=True)
class Rates:
    gain: dict[str, np.ndarray]  # per set: [band, 19] yearly probability a criterion not met becomes met
    loss: dict[str, np.ndarray]  # per set: [2, 19] yearly probability a met criterion is lost (row 1: xã at 19/19)
    district_factor: dict[str, float]  # multiplier on gain rates per district-level unit (1 = pooled)
    model_gain: float
    model_loss: float
    fitted_until: int
    transitions: int  # criterion-years the rates rest on

    def gain_matrix(self, set_code: str, districts: np.ndarray) -> np.ndarray:
        """[band, unit, criterion] gain probabilities with each unit's district factor."""
        f = np.array([self.district_factor.get(d, 1.0) for d in districts], dtype="float64")[None, :, None]
        cap = 1.0 - self.loss[set_code].max(axis=0)[None, None, :]
        return np.minimum(np.clip(self.gain[set_code][:, None, :] * f, 0.0, 0.995), cap)


def fit_rates(states: States, until: int | None = None, prior_strength: float = 10.0) -> Rates:
    """Gain and loss rates from the transitions y → y+1 with both years ≤ ``until`` under the same catalogue."""
    until = until if until is not None else states.years[-1]
    pairs = [
        (i, i + 1)
        for i in range(len(states.years) - 1)
        if states.years[i + 1] == states.years[i] + 1 and states.years[i + 1] <= until and states.catalogs[i] == states.catalogs[i + 1]
    ]
    gain, loss = {}, {}
    total = 0
    district_obs: dict[str, float] = {}
    district_exp: dict[str, float] = {}
    n_bands = len(BAND_EDGES) + 1
    for s in SETS:
        arr = states.crit[s]
        g0 = np.zeros((n_bands, 19))
        g1 = np.zeros((n_bands, 19))
        l0 = np.zeros((2, 19))
        l1 = np.zeros((2, 19))
        for a, b in pairs:
            x, y = arr[:, a, :], arr[:, b, :]
            known = (x >= 0) & (y >= 0)
            count = (x == 1).sum(axis=1)
            band = band_of(count)
            full = (count == 19).astype(int)
            for k in range(n_bands):
                rows = band == k
                g0[k] += ((x == 0) & known)[rows].sum(axis=0)
                g1[k] += ((x == 0) & (y == 1) & known)[rows].sum(axis=0)
            for k in (0, 1):
                rows = full == k
                l0[k] += ((x == 1) & known)[rows].sum(axis=0)
                l1[k] += ((x == 1) & (y == 0) & known)[rows].sum(axis=0)
        # a band or group without data borrows the criterion's pooled rate (prior centred on it)
        pooled_g = (g1.sum(axis=0) + PRIOR) / (g0.sum(axis=0) + 2 * PRIOR)
        pooled_l = (l1.sum(axis=0) + PRIOR) / (l0.sum(axis=0) + 2 * PRIOR)
        # monotone in progress, so that more criteria never make a xã worse off (scenarios can only help):
        # gains do not fall as a xã advances, and a xã at 19/19 loses no faster than one below
        gain[s] = np.maximum.accumulate((g1 + 2 * PRIOR * pooled_g) / (g0 + 2 * PRIOR), axis=0)
        lo = (l1 + 2 * PRIOR * pooled_l) / (l0 + 2 * PRIOR)
        lo[1] = np.minimum(lo[1], lo[0])
        loss[s] = lo
        gain[s] = np.minimum(gain[s], 1.0 - lo.max(axis=0))  # g + l ≤ 1 keeps the coupled runs ordered
        total += int(g0.sum() + l0.sum())
        if s == "ntm":
            for a, b in pairs:
                x, y = arr[:, a, :], arr[:, b, :]
                exposed = (x == 0) & (y >= 0)
                expected = gain[s][band_of((x == 1).sum(axis=1))]  # [unit, 19]
                for d in np.unique(states.districts):
                    rows = states.districts == d
                    district_obs[d] = district_obs.get(d, 0.0) + float(((y == 1) & exposed)[rows].sum())
                    district_exp[d] = district_exp.get(d, 0.0) + float((exposed[rows] * expected[rows]).sum())
    factor = {d: (district_obs[d] + prior_strength) / (district_exp[d] + prior_strength) for d in district_obs}
    mg0 = mg1 = ml0 = ml1 = 0.0
    adv = _tier_series(states)
    for a, b in pairs:
        m_a, m_b = states.model[:, a], states.model[:, b]
        both_adv = adv[:, a] & adv[:, b]
        mg0 += float(((m_a == 0) & (m_b >= 0) & both_adv).sum())
        mg1 += float(((m_a == 0) & (m_b == 1) & both_adv).sum())
        ml0 += float(((m_a == 1) & (m_b >= 0) & both_adv).sum())
        ml1 += float(((m_a == 1) & (m_b == 0) & both_adv).sum())
    model_loss = (ml1 + PRIOR) / (ml0 + 2 * PRIOR)
    return Rates(
        gain=gain,
        loss=loss,
        district_factor=factor,
        model_gain=min((mg1 + PRIOR) / (mg0 + 2 * PRIOR), 1.0 - model_loss),
        model_loss=model_loss,
        fitted_until=until,
        transitions=total,
    )


def _tier_series(states: States) -> np.ndarray:
    """Advanced tier observed per unit and year (bool)."""
    ntm = (states.crit["ntm"] == 1).all(axis=2)
    return ntm & (states.crit["nang_cao"] == 1).all(axis=2)


@dataclass(frozen=True)
class Scenario:
    """Make ``criteria`` (of the NTM set, by number) met for ``units`` from ``from_year`` on."""

    units: tuple[str, ...]
    criteria: tuple[int, ...]
    from_year: int
    name: str = ""


@dataclass
class Simulation:
    years: list[int]  # simulated years (after the start year)
    ntm: np.ndarray  # [runs, years] xã NTM or above
    advanced: np.ndarray
    model: np.ndarray
    below: dict[int, np.ndarray]  # min criteria -> [runs, years] xã under that many criteria
    p_ntm: np.ndarray  # [units] probability of being NTM at the horizon
    blocking: np.ndarray  # [units, 19] probability the criterion is not met at the horizon when not NTM
    district_ok: dict[str, np.ndarray] = field(default_factory=dict)  # district -> [runs, years] xã conditions held


def simulate(
    states: States,
    rates: Rates,
    start_year: int,
    horizon: int,
    runs: int = 1000,
    seed: int = 2025,
    scenario: Scenario | None = None,
    chunk: int = 100,
    min_criteria: tuple[int, ...] = (15,),
    district_conditions: dict[str, float] | None = None,
    workers: int | None = None,
) -> Simulation:
    """Monte Carlo of every xã from its observed state in ``start_year`` to ``horizon``."""
    si = states.years.index(start_year)
    years = list(range(start_year + 1, horizon + 1))
    n_units = len(states.units)
    gains = {s: rates.gain_matrix(s, states.districts).astype("float32") for s in SETS}  # [band, unit, 19]
    keeps = {s: (1.0 - rates.loss[s]).astype("float32") for s in SETS}  # [2, 19]: P(a met criterion is kept)
    unit_idx = np.arange(n_units)
    forced = np.zeros((n_units, 19), dtype=bool)
    force_from = 10**9
    if scenario is not None:
        idx = pd.Index(states.units).get_indexer(list(scenario.units))
        for c in scenario.criteria:
            forced[idx[idx >= 0], c - 1] = True
        force_from = scenario.from_year
    start = {}
    for s in SETS:
        obs = states.crit[s][:, si, :]
        share = np.where((obs >= 0).any(axis=0), (obs == 1).sum(axis=0) / np.maximum((obs >= 0).sum(axis=0), 1), 0.0)
        start[s] = (obs, share)
    model_obs = states.model[:, si]
    out = Simulation(
        years=years,
        ntm=np.zeros((runs, len(years)), dtype="int32"),
        advanced=np.zeros((runs, len(years)), dtype="int32"),
        model=np.zeros((runs, len(years)), dtype="int32"),
        below={m: np.zeros((runs, len(years)), dtype="int32") for m in min_criteria},
        p_ntm=np.zeros(n_units),
        blocking=np.zeros((n_units, 19)),
    )
    dist_codes = np.unique(states.districts)
    conds = district_conditions or {}
    for d in dist_codes:
        out.district_ok[d] = np.zeros((runs, len(years)), dtype=bool)
    district_rows = {d: states.districts == d for d in dist_codes}

    def run_chunk(r0: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Runs r0 … r0+chunk: writes their rows of ``out`` and returns their per-xã sums."""
        rn = min(chunk, runs - r0)
        rng = np.random.default_rng([seed, 1, r0])  # one stream per chunk: reproducible in any thread order
        st = {}
        for s in SETS:
            obs, share = start[s]
            draw = rng.random((rn, n_units, 19), dtype=np.float32) < share[None, None, :]
            st[s] = np.where(obs[None] >= 0, obs[None] == 1, draw)
        m_state = np.where(model_obs[None] >= 0, model_obs[None] == 1, False).repeat(rn, axis=0)
        ntm_tier = st["ntm"].all(axis=2)  # the start year's state (the answer when the horizon is the start year)
        for k, y in enumerate(years):
            for s in SETS:
                u = rng.random((rn, n_units, 19), dtype=np.float32)
                cur = st[s]
                count = cur.sum(axis=2, dtype=np.int8)
                threshold = gains[s][band_of(count), unit_idx[None, :]]  # [run, unit, 19]
                keep = np.where((count == 19)[:, :, None], keeps[s][1], keeps[s][0])
                np.copyto(threshold, keep, where=cur)
                # one uniform per cell: a met criterion is kept when u < 1 − l, one not met is gained when u < g;
                # with g + l ≤ 1 a run with more criteria met stays ahead of one with fewer, draw for draw
                st[s] = u < threshold
                if s == "ntm" and y >= force_from:
                    st[s] |= forced[None]
            ntm_tier = st["ntm"].all(axis=2)
            adv_tier = ntm_tier & st["nang_cao"].all(axis=2)
            u = rng.random((rn, n_units), dtype=np.float32)
            m_state = np.where(m_state, u < 1.0 - rates.model_loss, u < rates.model_gain) & adv_tier
            out.ntm[r0 : r0 + rn, k] = ntm_tier.sum(axis=1)
            out.advanced[r0 : r0 + rn, k] = adv_tier.sum(axis=1)
            out.model[r0 : r0 + rn, k] = m_state.sum(axis=1)
            met_count = st["ntm"].sum(axis=2)
            for m in min_criteria:
                out.below[m][r0 : r0 + rn, k] = (met_count < m).sum(axis=1)
            for d, rows in district_rows.items():
                share_needed = conds.get(d, 0.0)
                ok = ntm_tier[:, rows].all(axis=1)
                if share_needed > 0:
                    ok &= adv_tier[:, rows].sum(axis=1) >= math.ceil(share_needed * rows.sum() - 1e-9)
                out.district_ok[d][r0 : r0 + rn, k] = ok
        missing = ~ntm_tier
        return ntm_tier.sum(axis=0), missing.sum(axis=0), (~st["ntm"] & missing[:, :, None]).sum(axis=0)

    # numpy releases the GIL in these array operations: chunks run side by side on the machine's cores
    with ThreadPoolExecutor(max_workers=max(1, min(workers or os.cpu_count() or 1, 4))) as pool:
        parts = list(pool.map(run_chunk, range(0, runs, chunk)))
    not_ntm_runs = np.zeros(n_units)
    for p_ntm, not_ntm, blocking in parts:
        out.p_ntm += p_ntm
        not_ntm_runs += not_ntm
        out.blocking += blocking
    out.p_ntm /= runs
    out.blocking = out.blocking / np.maximum(not_ntm_runs, 1)[:, None]
    return out


def _band(values: np.ndarray) -> dict:
    return {"trung_binh": float(values.mean()), "p10": float(np.quantile(values, 0.1)), "p90": float(np.quantile(values, 0.9))}


def project(
    results: pd.DataFrame,
    province: Province,
    target_sets: list[TargetSet],
    horizon: int = 2025,
    runs: int = 1000,
    seed: int = 2025,
    start_year: int | None = None,
    scenario: Scenario | None = None,
    states: States | None = None,
    rates: Rates | None = None,
) -> dict:
    """The projection from ``start_year`` (default: the last year with data) to ``horizon``, as JSON-ready data."""
    states = states or observed_states(results, province)
    start_year = start_year or states.years[-1]
    rates = rates or fit_rates(states, until=start_year)
    ts_all = [t for ts in target_sets for t in ts.targets]
    ms_all = [m for ts in target_sets for m in ts.milestones]
    district_conditions = {}
    for m in ms_all:
        spec_cat = province.catalogs.for_year(min(max(m.year, province.catalogs.years()[0]), province.catalogs.years()[-1]))
        spec = spec_cat.district_sets.get(m.district_set)
        district_conditions[m.unit] = spec["advanced_share"] if spec else 0.0
    mins = tuple(sorted({t.min_criteria for t in ts_all if t.kind == "min_criteria"})) or (15,)
    sim = simulate(states, rates, start_year, horizon, runs, seed, scenario, min_criteria=mins, district_conditions=district_conditions)
    reg = province.registry
    denominators = [reg.official_xa_count(y) or len(states.units) for y in sim.years]
    per_year = []
    for k, y in enumerate(sim.years):
        den = denominators[k]
        per_year.append(
            {
                "nam": y,
                "mau_so": den,
                "ntm": _band(sim.ntm[:, k] / den),
                "nang_cao": _band(sim.advanced[:, k] / den),
                "kieu_mau": _band(sim.model[:, k] / den),
            }
        )
    observed = _observed_shares(states, province)
    muc_tieu = []
    for t in ts_all:
        if t.year <= start_year or t.year not in sim.years:
            obs = observed.get(t.year)
            p = None if obs is None else float(_meets(t, obs))
            muc_tieu.append(
                {
                    "ma": t.id,
                    "mo_ta": t.mo_ta,
                    "xac_suat": p,
                    "ghi_chu": "năm đã qua: theo số liệu đã lưu" if p is not None else "ngoài khoảng dự báo",
                }
            )
            continue
        k = sim.years.index(t.year)
        if t.kind == "min_criteria":
            p = float((sim.below[t.min_criteria][:, k] == 0).mean())
        else:
            count = {"ntm": sim.ntm, "advanced": sim.advanced, "model": sim.model}[t.tier][:, k]
            p = float((count / denominators[k] >= t.share - 1e-12).mean())
        muc_tieu.append({"ma": t.id, "mo_ta": t.mo_ta, "xac_suat": p, "ghi_chu": None})
    from .progress import district_state

    for m in ms_all:
        district_part = _district_criteria_state(province, results, m, start_year)
        if m.year <= start_year:
            obs_state, _ = district_state(
                province,
                results,
                commune_scores(results[results["year"] == m.year], province, years=[m.year]),
                m.unit,
                m.year,
                m.district_set,
            )
            p = {"dat": 1.0, "khong_dat": 0.0}.get(obs_state)
            muc_tieu.append({"ma": m.id, "mo_ta": m.mo_ta, "xac_suat": p, "ghi_chu": "năm đã qua: theo số liệu đã lưu"})
            continue
        years_needed = [y for y in sim.years if (m.from_year or m.year) <= y <= m.year] if m.kind == "giu_huyen_ntm" else [m.year]
        idx = [sim.years.index(y) for y in years_needed if y in sim.years]
        ok = sim.district_ok[m.unit][:, idx].all(axis=1) if idx else np.zeros(runs, dtype=bool)
        p = float(ok.mean())
        note = None
        if district_part != "dat":
            note = (
                "cận trên: chỉ tính điều kiện các xã; tiêu chí cấp huyện "
                + ("chưa đạt" if district_part == "khong_dat" else "chưa đánh giá")
                + f" năm {start_year}"
            )
        muc_tieu.append({"ma": m.id, "mo_ta": m.mo_ta, "xac_suat": p, "ghi_chu": note, "can_tren": district_part != "dat"})
    names = province.catalogs.for_year(min(horizon, province.catalogs.years()[-1])).criterion_names("ntm")
    communes = []
    start_scores = commune_scores(results[results["year"] == start_year], province, years=[start_year]).set_index("unit")
    for i, code in enumerate(states.units):
        top = np.argsort(-sim.blocking[i])[:3]
        communes.append(
            {
                "ma": code,
                "ten": reg.units.at[code, "name"],
                "ma_huyen": states.districts[i],
                "hang_nam_dau": start_scores.at[code, "tier"] if code in start_scores.index else None,
                "so_tieu_chi_nam_dau": int(start_scores.at[code, "ntm_met"]) if code in start_scores.index else None,
                "xac_suat_ntm": float(sim.p_ntm[i]),
                "tieu_chi_can_tro": [
                    {"so": str(c + 1), "ten": names.get(str(c + 1), ""), "xac_suat_chua_dat": float(sim.blocking[i, c])}
                    for c in top
                    if sim.blocking[i, c] > 0
                ],
            }
        )
    return {
        "nam_bat_dau": start_year,
        "nam_dich": horizon,
        "so_lan_mo_phong": runs,
        "hat_giong": seed,
        "kich_ban": None
        if scenario is None
        else {"ten": scenario.name, "xa": list(scenario.units), "tieu_chi": list(scenario.criteria), "tu_nam": scenario.from_year},
        "du_lieu_mau": bool(results["sample"].any()) if "sample" in results else False,
        "ty_le_quan_sat": {str(y): v for y, v in observed.items()},
        "theo_nam": per_year,
        "muc_tieu": muc_tieu,
        "xa": communes,
        "toc_do": {
            "bo_tieu_chi": {
                s: {
                    "tang_theo_nhom": rates.gain[s].round(4).tolist(),
                    "giam": rates.loss[s].round(4).tolist(),
                    "nhom": ["<10", "10–14", "15–16", "17–19"],
                }
                for s in SETS
            },
            "he_so_huyen": {d: round(f, 3) for d, f in rates.district_factor.items()},
            "kieu_mau": {"tang": round(rates.model_gain, 4), "giam": round(rates.model_loss, 4)},
            "den_nam": rates.fitted_until,
            "so_quan_sat": rates.transitions,
        },
    }


def _district_criteria_state(province: Province, results: pd.DataFrame, milestone, year: int) -> str:  # noqa: ANN001
    cat = province.catalogs.for_year(year)
    crit = cat.district_criteria[cat.district_criteria["set"] == milestone.district_set]
    if crit.empty:
        return "chua_danh_gia"
    rec = results[(results["unit"] == milestone.unit) & (results["tier_set"] == milestone.district_set) & (results["year"] == year)]
    got = dict(zip(rec["item"], rec["met"]))
    if any(c in got and not bool(got[c]) for c in crit["criterion"]):
        return "khong_dat"
    if all(c in got for c in crit["criterion"]):
        return "dat"
    return "chua_danh_gia"


def _observed_shares(states: States, province: Province) -> dict[int, dict]:
    ntm = (states.crit["ntm"] == 1).all(axis=2)
    adv = ntm & (states.crit["nang_cao"] == 1).all(axis=2)
    model = adv & (states.model == 1)
    met = (states.crit["ntm"] == 1).sum(axis=2)
    known = (states.crit["ntm"] >= 0).any(axis=2)
    out = {}
    for j, y in enumerate(states.years):
        den = province.registry.official_xa_count(y) or len(states.units)
        has_adv = "nang_cao" in province.catalogs.for_year(y).sets
        out[y] = {
            "ntm": float(ntm[:, j].sum() / den),
            "nang_cao": float(adv[:, j].sum() / den) if has_adv else None,
            "kieu_mau": float(model[:, j].sum() / den) if has_adv else None,
            "duoi_15": int((met[:, j] < 15)[known[:, j]].sum()),
        }
    return out


def _meets(t, obs: dict) -> bool:  # noqa: ANN001 - Target
    if t.kind == "min_criteria":
        return obs["duoi_15"] == 0
    key = {"ntm": "ntm", "advanced": "nang_cao", "model": "kieu_mau"}[t.tier]
    return obs[key] is not None and obs[key] >= t.share - 1e-12


def closest_to_ntm(
    results: pd.DataFrame, province: Province, year: int, p_ntm: dict[str, float] | None = None, limit: int = 20
) -> pd.DataFrame:
    """The xã not yet NTM in ``year``, closest first (most criteria met), with what each still lacks."""
    scores = commune_scores(results[results["year"] == year], province, years=[year])
    scores = scores[scores["has_data"] & (scores["tier"].map(TIER_RANK) < TIER_RANK["ntm"])]
    crit = criterion_status(results[results["year"] == year], province, years=[year], units=list(scores["unit"]))
    crit = crit[(crit["tier_set"] == "ntm") & (crit["status"] != "met")]
    names = province.catalogs.for_year(year).criterion_names("ntm")
    lacks = crit.groupby("unit")["criterion"].apply(lambda c: ", ".join(f"{x}. {names[x]}" for x in sorted(c, key=int)))
    reg = province.registry.units
    out = pd.DataFrame(
        {
            "ma": scores["unit"],
            "ten": scores["unit"].map(reg["name"]),
            "huyen": scores["unit"].map(reg["district_code"]).map(reg["name"]),
            "so_tieu_chi_dat": scores["ntm_met"],
            "con_thieu": scores["unit"].map(lacks).fillna(""),
        }
    )
    if p_ntm is not None:
        out["xac_suat_ntm"] = out["ma"].map(p_ntm)
    keys = ["so_tieu_chi_dat"] + (["xac_suat_ntm"] if p_ntm is not None else [])
    return out.sort_values(keys, ascending=False).head(limit).reset_index(drop=True)


BINS = (0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0)


def backtest(
    results: pd.DataFrame, province: Province, fit_until: int, steps: int = 2, runs: int = 500, seed: int = 7, states: States | None = None
) -> dict:
    """Fit on the data up to ``fit_until``, project ``steps`` years, and compare with what happened: the
    calibration of the per-xã probabilities of being NTM (by bins), the Brier score, and whether the observed
    province share fell in the projected 10–90 % band."""
    states = states or observed_states(results, province)
    target = fit_until + steps
    if target not in states.years:
        raise ValueError(f"no data for {target} to compare with")
    rates = fit_rates(states, until=fit_until)
    sim = simulate(states, rates, fit_until, target, runs, seed)
    j = states.years.index(target)
    actual = (states.crit["ntm"][:, j, :] == 1).all(axis=1)
    p = sim.p_ntm
    bins = []
    for lo, hi in zip(BINS[:-1], BINS[1:]):
        sel = (p >= lo) & ((p < hi) | (hi == 1.0))
        if sel.any():
            bins.append(
                {"tu": lo, "den": hi, "so_xa": int(sel.sum()), "du_bao_tb": float(p[sel].mean()), "thuc_te": float(actual[sel].mean())}
            )
    den = province.registry.official_xa_count(target) or len(states.units)
    band = _band(sim.ntm[:, -1] / den)
    observed = float(actual.sum() / den)
    return {
        "khop_den_nam": fit_until,
        "du_bao_nam": target,
        "brier": float(np.mean((p - actual) ** 2)),
        "brier_tham_chieu": float(np.mean((actual.mean() - actual) ** 2)),  # always forecasting the overall rate
        "hieu_chinh": bins,
        "ty_le_ntm": {"du_bao": band, "thuc_te": observed, "trong_khoang_10_90": band["p10"] <= observed <= band["p90"]},
        "ghi_chu": None
        if states.catalogs[states.years.index(fit_until)] == states.catalogs[j]
        else "khoảng dự báo qua lần đổi bộ tiêu chí (2021→2022): tốc độ không tính sự thay đổi này",
    }


def projection_report(
    store, province: Province, horizon: int = 2025, runs: int = 1000, start_year: int | None = None, seed: int = 2025
) -> dict:  # noqa: ANN001 - Store
    """The projection of the store's current results against every target set shipped (for the API)."""
    from .errors import InvalidParameter, NongthonError
    from .targets import load_target_set, target_set_ids

    results = store.current_results()
    if results.empty:
        raise NongthonError("Chưa có kết quả nào trong cơ sở dữ liệu để dự báo")
    years = sorted(set(results["year"]))
    start = start_year or years[-1]
    if start not in years:
        raise InvalidParameter(f"Không có số liệu năm {start} để bắt đầu dự báo; có các năm: {', '.join(map(str, years))}")
    if not start <= horizon <= start + 15:
        raise InvalidParameter(f"horizon={horizon} phải từ {start} đến {start + 15}")
    if not 1 <= runs <= 10000:
        raise InvalidParameter(f"runs={runs} phải từ 1 đến 10000")
    return project(
        results, province, [load_target_set(t) for t in target_set_ids()], horizon=horizon, runs=runs, seed=seed, start_year=start
    )
