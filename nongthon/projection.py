"""Projections ("dự báo"): from the stored history, the yearly rates at which xã gain and lose each criterion,
and a seeded Monte Carlo of every xã to a horizon year — the share of xã at each tier of the catalogue in force
(NTM / nâng cao / kiểu mẫu to 2025; NTM / NTM hiện đại from 2026) with a 10–90 % band, the probability of each
target and milestone, per-commune probabilities and what holds each xã back; scenarios; and a backtest that fits
on the data up to a year and scores the forecast against what happened.

Model. Each criterion of a xã is a two-state Markov chain per year: a criterion not met becomes met with
probability g (its gain rate), one met is lost with probability l. Rates are pooled over xã per criterion
and set, estimated from consecutive years under the same catalogue (a change of criteria set is not progress),
with a Beta(½, ½) prior; each district-level unit's gain rates are scaled by a factor shrunk towards 1
(``prior_strength`` expected gains of weight), so districts move apart only where their data supports it (a
province without districts, from 1 July 2025, is one pool). The conditions of the catalogue's conditions set
(kiểu mẫu to 2025, NTM hiện đại from 2026) are one chain (all met or not), open to a xã that has reached the set
they require (nâng cao, NTM). A criterion whose state is unknown at the start is drawn from the share of xã
meeting it that year. Vectorised over runs × xã × criteria with numpy; common random numbers make scenarios
comparable run by run.

Catalogue changes (2021 → 2022, 2025 → 2026), the deliberate rule:
* the sets, their number of criteria and the tier rule (which set requires which) are those of the catalogue
  in force in each simulated year (after the last catalogue, the last one's);
* criteria are matched across catalogues by set and number (1980/QĐ-TTg and 318/QĐ-TTg share the 19 topics);
  rates come only from pairs of consecutive years under one catalogue, pooled over the catalogues. A province
  profile covers the years of its own catalogues only: the new Đắk Lắk (from 2026, 51/2025/QĐ-TTg, new units)
  reads no year before 2026 — its history carried into the new units (history.py) is a derived state of former
  xã under another catalogue, never a criterion of the 2026–2030 set, so it gives no transition;
* a set the start year's catalogue does not hold (advanced and model when starting in 2021) starts from the
  recognised tier at the end of the start year: a xã recognised at that set's tier or above starts with every
  criterion of the set met, any other xã with none; likewise the conditions chain of a xã whose conditions are
  unknown at the start (none recorded, or none published: the NTM hiện đại pilot) starts met when the xã is
  recognised at the conditions set's tier or above;
* no transition observed up to the start year (advanced in 2022, its first year; every set when the start year
  is the first year of its catalogue, as 2026 with one year of data): a set borrows the rates of the set it
  requires (advanced ← NTM), criterion by criterion; a set with nothing to borrow (NTM) takes the pace of the
  same set in the former units — the profile's predecessors (Phú Yên and the former Đắk Lắk for the new Đắk
  Lắk), fitted on their own history and catalogue, then pooled over criteria band by band (criteria of two
  catalogues are not the same criteria, but how fast a xã missing k criteria completes them is the history the
  office has); a set with none of these (the conditions, or a province without predecessors) carries its start
  state — no xã gains or loses anything. The output says which (``toc_do.ghi_chu``).
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from .criteria import TIER_CODES, TIERS, Catalog, CatalogSet
from .province import Province
from .reports import district_items
from .scoring import TIER_RANK, commune_scores, criterion_status, reached_sets, recognised_tiers
from .targets import COUNTED_KINDS, Target, TargetSet, measure
from .units import PERIODS, period_of_year

PRIOR = 0.5  # Beta(½, ½)
#: gains depend on how far the xã is from completing the set: bands by criteria still missing — 10 or more,
#: 5–9, 3–4, 0–2 (for 19 criteria: under 10 met, 10–14, 15–16, 17–19); a xã near the goal pushes to finish
MISSING_EDGES = (2, 4, 9)
BAND_NAMES = ("thiếu ≥10", "thiếu 5–9", "thiếu 3–4", "thiếu 0–2")


def band_of(missing: np.ndarray) -> np.ndarray:
    """Band index (0 = furthest) of a count of criteria still missing."""
    return len(MISSING_EDGES) - np.searchsorted(np.array(MISSING_EDGES), missing, side="left")


def criterion_sets(catalogs: CatalogSet) -> dict[str, int]:
    """The sets made of numbered criteria in any catalogue, in tier order, with their largest number of criteria."""
    width: dict[str, int] = {}
    rank: dict[str, int] = {}
    for c in catalogs.catalogs:
        for code, info in c.sets.items():
            if info["criteria_count"] > 0:
                width[code] = max(width.get(code, 0), info["criteria_count"])
                rank[code] = TIER_RANK[info["tier"]]
    return {code: width[code] for code in sorted(width, key=rank.get)}


def catalog_of(catalogs: CatalogSet, year: int) -> Catalog:
    """The catalogue in force in ``year``; after the last catalogue, the last one (its criteria carry on)."""
    return catalogs.for_year(min(max(year, catalogs.years()[0]), catalogs.years()[-1]))


def applicable(catalog: Catalog, code: str, width: int) -> np.ndarray:
    """Which criteria 1…width belong to set ``code`` in the catalogue (none when it lacks the set)."""
    n = catalog.sets[code]["criteria_count"] if code in catalog.sets else 0
    return np.arange(width) < n


def conditions_gate(catalog: Catalog) -> str | None:
    """The tier a xã must have reached for the catalogue's conditions to count (advanced for kiểu mẫu, NTM for NTM
    hiện đại): the tier of the set its conditions set requires; None when it has no conditions set."""
    cond = catalog.condition_set
    required = catalog.sets[cond]["requires"] if cond is not None else None
    return catalog.sets[required]["tier"] if required is not None else None


def conditions_tier(catalogs: CatalogSet, year: int) -> str | None:
    """The tier the conditions chain confers from ``year`` on: that of the conditions set of the first catalogue in
    force from that year that has one (kiểu mẫu from 2021, NTM hiện đại from 2026); None when none has."""
    for c in sorted(catalogs.catalogs, key=lambda c: c.year_from):
        if c.year_to >= year and c.condition_set is not None:
            return c.sets[c.condition_set]["tier"]
    return None


#: the district code of a xã of a province without a district level (from 1 July 2025): one pool, no factor
NO_DISTRICT = ""


@dataclass(frozen=True)
class States:
    """Observed states: ``crit[set][unit, year, criterion]`` = 1 met, 0 not met, -1 unknown; ``model[unit, year]``;
    ``recognised[unit, year]`` the rank of the tier recognised at the end of the year (0: none)."""

    units: list[str]
    years: list[int]
    districts: np.ndarray  # district code of each unit
    crit: dict[str, np.ndarray]
    model: np.ndarray
    catalogs: list[str]  # catalogue of each year
    catalog_set: CatalogSet
    recognised: np.ndarray


def observed_states(
    results: pd.DataFrame, province: Province, years: list[int] | None = None, recognitions: pd.DataFrame | None = None
) -> States:
    """The criterion-level state of every xã in every year, from the current results (and recognitions). By default
    the years with results that the province's catalogues cover (a deployment's store also holds the years of
    the provinces it was formed from, on their own units)."""
    if years is None:
        years = [y for y in results["year"].unique().tolist() if province.catalogs.covers(int(y))]
    years = sorted(set(years))
    units = list(province.registry.xa().index)
    status = criterion_status(results, province, years=years, units=units)
    code = status["status"].map({"met": 1, "not_met": 0, "not_evaluated": -1}).astype("int8").to_numpy()
    u_idx = pd.Index(units).get_indexer(status["unit"])
    y_idx = pd.Index(years).get_indexer(status["year"])
    c_idx = status["criterion"].astype(int).to_numpy() - 1
    crit = {}
    for s, width in criterion_sets(province.catalogs).items():
        arr = np.full((len(units), len(years), width), -1, dtype="int8")
        sel = (status["tier_set"] == s).to_numpy()
        arr[u_idx[sel], y_idx[sel], c_idx[sel]] = code[sel]
        crit[s] = arr
    scores = commune_scores(results, province, years=years, units=units)
    m = np.where(
        scores["model_total"] == 0,
        -1,
        np.where(scores["model_met"] == scores["model_total"], 1, np.where(scores["model_not_met"] > 0, 0, -1)),
    )
    recognised = np.zeros((len(units), len(years)), dtype="int8")
    if recognitions is not None and len(recognitions):
        # decisions of the profile's period only: GSO reused codes, so a decision before 1 July 2025 on a code of the
        # new units was about the former unit of that code (and one after it, about the new unit)
        period, day = PERIODS[province.period], pd.to_datetime(recognitions["decision_date"]).dt.date
        recognitions = recognitions[(day >= (period.valid_from or date.min)) & (day <= (period.valid_to or date.max))]
        for j, y in enumerate(years):
            r = recognised_tiers(recognitions, y, units=units)
            recognised[pd.Index(units).get_indexer(r["unit"]), j] = r["recognised_tier"].map(TIER_RANK).to_numpy()
    return States(
        units=units,
        years=years,
        districts=province.registry.units.loc[units, "district_code"].fillna(NO_DISTRICT).to_numpy(),
        crit=crit,
        model=m.reshape(len(units), len(years)).astype("int8"),
        catalogs=[province.catalogs.for_year(y).id for y in years],
        catalog_set=province.catalogs,
        recognised=recognised,
    )


def observed_tiers(states: States) -> dict[str, np.ndarray]:
    """[unit, year] reached per tier (every tier of TIERS) by the catalogue's own tier rule; where the year's
    catalogue lacks a tier the answer is all False."""
    shape = (len(states.units), len(states.years))
    out = {tier: np.zeros(shape, dtype=bool) for tier in TIERS}
    for j, y in enumerate(states.years):
        cat = states.catalog_set.for_year(y)
        complete = {}
        for s in cat.sets:
            if s in states.crit:
                obs = states.crit[s][:, j, :]
                complete[s] = (obs[:, applicable(cat, s, obs.shape[1])] == 1).all(axis=1)
            else:
                complete[s] = states.model[:, j] == 1
        for s, reached in reached_sets(cat.sets, complete).items():
            out[cat.sets[s]["tier"]][:, j] = reached
    return out


@dataclass(frozen=True)
class Rates:
    gain: dict[str, np.ndarray]  # per set: [band, criterion] yearly probability a criterion not met becomes met
    loss: dict[str, np.ndarray]  # per set: [2, criterion] yearly probability a met criterion is lost (row 1: all met)
    district_factor: dict[str, float]  # multiplier on gain rates per district-level unit (1 = pooled)
    model_gain: float
    model_loss: float
    fitted_until: int
    transitions: int  # criterion-years the rates rest on
    borrowed: dict[str, str] = field(default_factory=dict)  # set -> the set whose rates it took (no transitions)
    former: tuple[str, ...] = ()  # sets that took the pace of the same set in the former units (former_rates)
    carried: tuple[str, ...] = ()  # sets with no transition and nothing to borrow: their start state carries
    model_carried: bool = False  # the conditions chain saw no transition: its start state carries

    def gain_matrix(self, set_code: str, districts: np.ndarray) -> np.ndarray:
        """[band, unit, criterion] gain probabilities with each unit's district factor."""
        f = np.array([self.district_factor.get(d, 1.0) for d in districts], dtype="float64")[None, :, None]
        cap = 1.0 - self.loss[set_code].max(axis=0)[None, None, :]
        return np.minimum(np.clip(self.gain[set_code][:, None, :] * f, 0.0, 0.995), cap)


def same_catalogue_pairs(states: States, until: int) -> list[tuple[int, int]]:
    """Index pairs of consecutive years, both ≤ ``until``, under the same catalogue: the only transitions read."""
    y, c = states.years, states.catalogs
    return [(i, i + 1) for i in range(len(y) - 1) if y[i + 1] == y[i] + 1 and y[i + 1] <= until and c[i] == c[i + 1]]


def _set_counts(arr: np.ndarray, pairs: list[tuple[int, int]], inside: list[np.ndarray]) -> tuple[np.ndarray, ...]:
    """Exposures and events of one set's observed transitions: gains g0 (not met), g1 (became met) per [band,
    criterion]; losses l0 (met), l1 (lost) per [all met or not, criterion]; ``inside[year]``: the criteria that
    belong to the set in that year's catalogue."""
    n_bands, width = len(MISSING_EDGES) + 1, arr.shape[2]
    g0, g1, l0, l1 = np.zeros((n_bands, width)), np.zeros((n_bands, width)), np.zeros((2, width)), np.zeros((2, width))
    for a, b in pairs:
        x, y = arr[:, a, :], arr[:, b, :]
        known = (x >= 0) & (y >= 0)
        missing = ((x != 1) & inside[a]).sum(axis=1)  # criteria of the year's set not (yet) met
        band = band_of(missing)
        full = (missing == 0).astype(int)
        for k in range(n_bands):
            rows = band == k
            g0[k] += ((x == 0) & known)[rows].sum(axis=0)
            g1[k] += ((x == 0) & (y == 1) & known)[rows].sum(axis=0)
        for k in (0, 1):
            rows = full == k
            l0[k] += ((x == 1) & known)[rows].sum(axis=0)
            l1[k] += ((x == 1) & (y == 0) & known)[rows].sum(axis=0)
    return g0, g1, l0, l1


def _set_rates(arr: np.ndarray, pairs: list[tuple[int, int]], inside: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, int]:
    """Gain [band, criterion] and loss [2, criterion] rates of one set from its observed transitions."""
    g0, g1, l0, l1 = _set_counts(arr, pairs, inside)
    # a band or group without data borrows the criterion's pooled rate (prior centred on it)
    pooled_g = (g1.sum(axis=0) + PRIOR) / (g0.sum(axis=0) + 2 * PRIOR)
    pooled_l = (l1.sum(axis=0) + PRIOR) / (l0.sum(axis=0) + 2 * PRIOR)
    # monotone in progress, so that more criteria never make a xã worse off (scenarios can only help):
    # gains do not fall as a xã advances, and a xã with every criterion met loses no faster than one below
    gain = np.maximum.accumulate((g1 + 2 * PRIOR * pooled_g) / (g0 + 2 * PRIOR), axis=0)
    loss = (l1 + 2 * PRIOR * pooled_l) / (l0 + 2 * PRIOR)
    loss[1] = np.minimum(loss[1], loss[0])
    gain = np.minimum(gain, 1.0 - loss.max(axis=0))  # g + l ≤ 1 keeps the coupled runs ordered
    return gain, loss, int(g0.sum() + l0.sum())


def _required_set(catalogs: CatalogSet, code: str) -> str | None:
    for c in catalogs.catalogs:
        if code in c.sets:
            return c.sets[code]["requires"]
    return None


def former_rates(results: pd.DataFrame, province: Province) -> dict[str, tuple[np.ndarray, np.ndarray, int]]:
    """The pace of each set in the former units: per set, the gain [band] and loss [all met or not] rates pooled
    over criteria — events over exposures, with the Beta(½, ½) prior — from the province's predecessors' own
    history (profiles of period ``cu`` named in ``predecessors``), and the transitions they rest on. Empty for a
    province without predecessors or without their history."""
    from .province import load_province

    counts: dict[str, list[np.ndarray]] = {}
    for profile in province.predecessors:
        old = load_province(profile)
        years = [y for y in old.catalogs.years() if y in set(results["year"])]
        if len(years) < 2:
            continue
        states = observed_states(results[results["year"].isin(years)], old)
        pairs = same_catalogue_pairs(states, states.years[-1])
        for s, arr in states.crit.items():
            inside = [applicable(states.catalog_set.for_year(y), s, arr.shape[2]) for y in states.years]
            summed = [c.sum(axis=1) for c in _set_counts(arr, pairs, inside)]  # over criteria: [band] and [2]
            counts[s] = [a + b for a, b in zip(counts[s], summed)] if s in counts else summed
    out = {}
    for s, (g0, g1, l0, l1) in counts.items():
        n = int(g0.sum() + l0.sum())
        if n == 0:
            continue
        pooled_g = (g1.sum() + PRIOR) / (g0.sum() + 2 * PRIOR)
        pooled_l = (l1.sum() + PRIOR) / (l0.sum() + 2 * PRIOR)
        gain = np.maximum.accumulate((g1 + 2 * PRIOR * pooled_g) / (g0 + 2 * PRIOR))
        loss = (l1 + 2 * PRIOR * pooled_l) / (l0 + 2 * PRIOR)
        loss[1] = min(loss[1], loss[0])
        out[s] = (gain, loss, n)
    return out


def fit_rates(
    states: States,
    until: int | None = None,
    prior_strength: float = 10.0,
    former: dict[str, tuple[np.ndarray, np.ndarray, int]] | None = None,
) -> Rates:
    """Gain and loss rates from the transitions y → y+1 with both years ≤ ``until`` under the same catalogue.
    ``former``: the pace of each set in the former units (``former_rates``), for a set with nothing else."""
    until = until if until is not None else states.years[-1]
    pairs = same_catalogue_pairs(states, until)
    gain, loss, counts = {}, {}, {}
    inside = {s: [applicable(states.catalog_set.for_year(y), s, arr.shape[2]) for y in states.years] for s, arr in states.crit.items()}
    for s, arr in states.crit.items():
        gain[s], loss[s], counts[s] = _set_rates(arr, pairs, inside[s])
    # no transition observed (the module doc's rule): borrow the required set's rates, or carry the start state
    borrowed, carried, from_former = {}, [], []
    for s in states.crit:  # in tier order: a set's required set is settled before it
        req = _required_set(states.catalog_set, s)
        if counts[s] == 0 and req in gain:
            w = min(gain[s].shape[1], gain[req].shape[1])
            gain[s][:, :w], loss[s][:, :w] = gain[req][:, :w], loss[req][:, :w]
            borrowed[s] = req
        elif counts[s] == 0 and former and s in former:
            band_gain, band_loss, _ = former[s]
            gain[s][:] = np.maximum.accumulate(band_gain)[:, None]
            loss[s][:] = band_loss[:, None]
            gain[s] = np.minimum(gain[s], 1.0 - loss[s].max(axis=0))  # g + l ≤ 1, as fitted rates
            from_former.append(s)
        elif counts[s] == 0:
            gain[s][:], loss[s][:] = 0.0, 0.0
            carried.append(s)
    factor = _district_factors(states, pairs, gain, inside, prior_strength)
    mg0 = mg1 = ml0 = ml1 = 0.0
    reached = observed_tiers(states)
    for a, b in pairs:
        gate = conditions_gate(states.catalog_set.for_year(states.years[a]))  # a and b share the catalogue
        if gate is None:
            continue
        m_a, m_b = states.model[:, a], states.model[:, b]
        both = reached[gate][:, a] & reached[gate][:, b]
        mg0 += float(((m_a == 0) & (m_b >= 0) & both).sum())
        mg1 += float(((m_a == 0) & (m_b == 1) & both).sum())
        ml0 += float(((m_a == 1) & (m_b >= 0) & both).sum())
        ml1 += float(((m_a == 1) & (m_b == 0) & both).sum())
    model_seen = ml0 + mg0 > 0
    model_loss = (ml1 + PRIOR) / (ml0 + 2 * PRIOR) if model_seen else 0.0
    model_gain = min((mg1 + PRIOR) / (mg0 + 2 * PRIOR), 1.0 - model_loss) if model_seen else 0.0
    return Rates(
        gain=gain,
        loss=loss,
        district_factor=factor,
        model_gain=model_gain,
        model_loss=model_loss,
        fitted_until=until,
        transitions=sum(counts.values()),
        borrowed=borrowed,
        former=tuple(from_former),
        carried=tuple(carried),
        model_carried=not model_seen,
    )


def _district_factors(
    states: States, pairs: list[tuple[int, int]], gain: dict[str, np.ndarray], inside: dict[str, list[np.ndarray]], prior_strength: float
) -> dict[str, float]:
    """Each district-level unit's observed NTM gains over those the pooled rates expect, shrunk towards 1."""
    base = next(iter(states.crit))  # the first set in tier order: NTM
    arr = states.crit[base]
    obs: dict[str, float] = {}
    exp: dict[str, float] = {}
    for a, b in pairs:
        x, y = arr[:, a, :], arr[:, b, :]
        exposed = (x == 0) & (y >= 0)
        missing = ((x != 1) & inside[base][a]).sum(axis=1)
        expected = gain[base][band_of(missing)]  # [unit, criterion]
        for d in np.unique(states.districts[states.districts != NO_DISTRICT]):
            rows = states.districts == d
            obs[d] = obs.get(d, 0.0) + float(((y == 1) & exposed)[rows].sum())
            exp[d] = exp.get(d, 0.0) + float((exposed[rows] * expected[rows]).sum())
    return {d: (obs[d] + prior_strength) / (exp[d] + prior_strength) for d in obs}


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
    #: tier (every tier of TIERS) -> [runs, years] xã at that tier or above (0 where the year's catalogue lacks it)
    counts: dict[str, np.ndarray]
    below: dict[int, np.ndarray]  # min criteria -> [runs, years] xã under that many criteria
    p_ntm: np.ndarray  # [units] probability of being NTM at the horizon
    blocking: np.ndarray  # [units, criterion] probability the criterion is not met at the horizon when not NTM
    district_ok: dict[str, np.ndarray] = field(default_factory=dict)  # district -> [runs, years] xã conditions held
    draws: int = 0  # uniforms drawn (the benchmark's floor draws as many)

    @property
    def ntm(self) -> np.ndarray:
        return self.counts["ntm"]

    @property
    def advanced(self) -> np.ndarray:
        return self.counts["advanced"]

    @property
    def model(self) -> np.ndarray:
        return self.counts["model"]


def start_states(states: States, start_year: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per set: the observed state at the start year [unit, criterion] (1 / 0 / -1 unknown) and the share of xã
    meeting each criterion that year (to draw the unknown ones). A set the start year's catalogue lacks starts
    from the recognised tier (see the module doc)."""
    si = states.years.index(start_year)
    cat = states.catalog_set.for_year(start_year)
    out = {}
    for s, arr in states.crit.items():
        obs = arr[:, si, :].copy()
        if s not in cat.sets:
            tier = next(c.sets[s]["tier"] for c in states.catalog_set.catalogs if s in c.sets)
            obs[:] = (states.recognised[:, si] >= TIER_RANK[tier])[:, None]
        share = np.where((obs >= 0).any(axis=0), (obs == 1).sum(axis=0) / np.maximum((obs >= 0).sum(axis=0), 1), 0.0)
        out[s] = (obs, share)
    return out


def start_conditions(states: States, start_year: int) -> np.ndarray:
    """[unit] the conditions chain at the start: as observed where the conditions are known (all met or one not
    met); where they are unknown, met for a xã recognised at the end of the start year at the tier the conditions
    confer (conditions_tier) or above (see the module doc)."""
    si = states.years.index(start_year)
    obs = states.model[:, si]
    tier = conditions_tier(states.catalog_set, start_year)
    recognised = states.recognised[:, si] >= TIER_RANK[tier] if tier is not None else np.zeros(len(obs), dtype=bool)
    return np.where(obs >= 0, obs == 1, recognised)


#: xã-runs per chunk of runs (each chunk has its own random stream): a chunk's per-criterion arrays stay in cache
CHUNK_CELLS = 2**17


def chunk_runs(n_units: int, runs: int) -> int:
    """Runs per chunk for ``n_units`` xã: about CHUNK_CELLS xã-runs."""
    return max(1, min(runs, CHUNK_CELLS // max(n_units, 1)))


def _row_codes(n_criteria: int) -> np.ndarray:
    """By count of criteria met (0…n): the row's code — its band of criteria still missing, and one code more
    for nothing missing (band 3 with every criterion met, where losses are rarer)."""
    missing = n_criteria - np.arange(n_criteria + 1)
    return band_of(missing) + (missing == 0)


def _thresholds(rates: Rates, set_code: str, districts: np.ndarray) -> np.ndarray:
    """[criterion, code × units + unit] the uniform below which a criterion of a xã is met next year: its gain
    rate (the code's band, the unit's district factor), and 1 − its loss rate when every criterion is met (the
    last code). A met criterion of a xã with some missing is kept below 1 − its loss rate, which is at least its
    gain rate: so in every row the criterion is met next year when u < threshold or (met and u < 1 − l)."""
    gain = rates.gain_matrix(set_code, districts)  # [band, unit, criterion], capped at 1 − max loss
    loss = rates.loss[set_code]
    if (loss[1] > loss[0]).any():
        raise ValueError(f"bộ {set_code}: tốc độ mất tiêu chí của xã đạt đủ bộ phải không lớn hơn của xã chưa đủ (như fit_rates)")
    n_units, width = gain.shape[1:]
    full = np.broadcast_to((1.0 - loss[1])[None, :], (n_units, width))
    return np.concatenate([gain, full[None]]).transpose(2, 0, 1).reshape(width, -1).astype("float32")


def simulate(
    states: States,
    rates: Rates,
    start_year: int,
    horizon: int,
    runs: int = 1000,
    seed: int = 2025,
    scenario: Scenario | None = None,
    chunk: int | None = None,
    min_criteria: tuple[int, ...] = (15,),
    district_conditions: dict[str, float] | None = None,
    workers: int | None = None,
) -> Simulation:
    """Monte Carlo of every xã from its observed state in ``start_year`` to ``horizon``.

    Arrays are [criterion, run, xã], one chunk of runs at a time. Each year, every criterion of the year's set
    draws one float32 uniform per run and xã and is met next year when it falls below its threshold, looked up
    in a small per-criterion table by the xã's row code (band, or nothing missing) and the xã (see _thresholds);
    the model conditions draw one uniform per run and xã. A scenario changes no draw, and with g + l ≤ 1 and
    rates monotone in progress a run with more criteria met stays ahead, draw for draw."""
    years = list(range(start_year + 1, horizon + 1))
    n_units = len(states.units)
    sets = list(states.crit)
    base = sets[0]  # NTM
    width = {s: states.crit[s].shape[2] for s in sets}
    chunk = chunk or chunk_runs(n_units, runs)
    table = {s: _thresholds(rates, s, states.districts) for s in sets}
    keep = {s: (1.0 - rates.loss[s][0]).astype("float32") for s in sets}  # P(a met criterion is kept), some missing
    unit_rows = np.arange(n_units)
    catalogs = [catalog_of(states.catalog_set, y) for y in years]
    # criteria outside a year's set count as met and stay so (they draw nothing)
    inside = [{s: applicable(c, s, width[s]) for s in sets} for c in catalogs]
    rows_of = {n: n_units * _row_codes(n) for n in {int(m.sum()) for i in inside for m in i.values()}}
    forced: dict[int, np.ndarray] = {}
    force_from = 10**9
    if scenario is not None:
        idx = pd.Index(states.units).get_indexer(list(scenario.units))
        for c in scenario.criteria:
            forced.setdefault(c - 1, np.zeros(n_units, dtype=bool))[idx[idx >= 0]] = True
        force_from = scenario.from_year
    start = start_states(states, start_year)
    model_start = start_conditions(states, start_year)
    gates = [conditions_gate(c) for c in catalogs]
    out = Simulation(
        years=years,
        counts={t: np.zeros((runs, len(years)), dtype="int32") for t in TIERS},
        below={m: np.zeros((runs, len(years)), dtype="int32") for m in min_criteria},
        p_ntm=np.zeros(n_units),
        blocking=np.zeros((n_units, width[base])),
    )
    # district statistics: the xã of each district side by side
    order = np.argsort(states.districts, kind="stable")
    dist_codes, firsts, sizes = np.unique(states.districts[order], return_index=True, return_counts=True)
    conds = district_conditions or {}
    needed = np.array([math.ceil(conds.get(d, 0.0) * k - 1e-9) if conds.get(d, 0.0) > 0 else 0 for d, k in zip(dist_codes, sizes)])
    district_ok = np.zeros((len(dist_codes), runs, len(years)), dtype=bool)
    out.district_ok = {d: district_ok[j] for j, d in enumerate(dist_codes)}
    start_cat = states.catalog_set.for_year(start_year)

    def tiers(catalog: Catalog, complete: dict[str, np.ndarray], m_state: np.ndarray) -> dict[str, np.ndarray]:
        """[run, unit] reached per tier, by the year's catalogue; the model conditions are one chain (m_state)."""
        reached = reached_sets(catalog.sets, {s: complete.get(s, m_state) for s in catalog.sets})
        by_tier = {catalog.sets[s]["tier"]: r for s, r in reached.items()}
        none = np.zeros_like(m_state)
        return {t: by_tier.get(t, none) for t in TIERS}

    def run_chunk(r0: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        """Runs r0 … r0+chunk: writes their rows of ``out`` and returns their per-xã sums and uniforms drawn."""
        rn = min(chunk, runs - r0)
        rng = np.random.default_rng([seed, 1, r0])  # one stream per chunk: reproducible in any thread order
        draws = 0
        st = {}
        for s in sets:
            obs, share = start[s]
            st[s] = np.ascontiguousarray(np.broadcast_to((obs == 1).T[:, None, :], (width[s], rn, n_units)))
            for c in np.flatnonzero((obs < 0).any(axis=0)):  # unknown at the start: drawn from the year's share
                unknown = np.flatnonzero(obs[:, c] < 0)
                st[s][c][:, unknown] = rng.random((rn, unknown.size), dtype=np.float32) < share[c]
                draws += rn * unknown.size
            if s in start_cat.sets:
                st[s][~applicable(start_cat, s, width[s])] = True
        m_state = np.broadcast_to(model_start, (rn, n_units)).copy()
        # the start year's state (the answer when the horizon is the start year)
        reached = tiers(start_cat, {s: st[s].all(axis=0) for s in sets}, m_state)
        u = np.empty((rn, n_units), dtype=np.float32)
        threshold = np.empty((rn, n_units), dtype=np.float32)
        hit = np.empty((rn, n_units), dtype=bool)
        met: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # per set: criteria counted, count met per run and xã
        for k, y in enumerate(years):
            complete = {}
            for s in sets:
                ins = inside[k][s]
                st[s][~ins] = True
                if s not in met or not np.array_equal(met[s][0], ins):
                    met[s] = (ins, st[s][ins].sum(axis=0, dtype=np.uint8))
                rows = np.take(rows_of[int(ins.sum())], met[s][1], mode="wrap") + unit_rows
                count = np.zeros((rn, n_units), dtype=np.uint8)
                for c in np.flatnonzero(ins):
                    now = st[s][c]
                    rng.random(out=u, dtype=np.float32)
                    np.take(table[s][c], rows, out=threshold, mode="wrap")
                    # a met criterion is kept when u < 1 − l, one not met is gained when u < g (g ≤ 1 − l)
                    now &= np.less(u, keep[s][c], out=hit)
                    now |= np.less(u, threshold, out=hit)
                    if s == base and y >= force_from and c in forced:
                        now |= forced[c]
                    np.add(count, now, out=count, casting="unsafe")
                draws += rn * n_units * int(ins.sum())
                met[s] = (ins, count)
                complete[s] = count == ins.sum()
            rng.random(out=u, dtype=np.float32)
            draws += rn * n_units
            # the conditions move only for a xã that has reached the tier they require (none without a conditions set)
            gate = tiers(catalogs[k], complete, m_state)[gates[k]] if gates[k] else np.zeros_like(m_state)
            m_state = np.where(m_state, u < 1.0 - rates.model_loss, u < rates.model_gain) & gate
            reached = tiers(catalogs[k], complete, m_state)
            for t in TIERS:
                out.counts[t][r0 : r0 + rn, k] = reached[t].sum(axis=1)
            for m in min_criteria:
                out.below[m][r0 : r0 + rn, k] = (met[base][1] < m).sum(axis=1)
            ok = ~np.logical_or.reduceat(~reached["ntm"][:, order], firsts, axis=1)
            if needed.any():
                ok &= np.add.reduceat(reached["advanced"][:, order], firsts, axis=1, dtype=np.int32) >= needed
            district_ok[:, r0 : r0 + rn, k] = ok.T
        missing = ~reached["ntm"]
        blocking = np.stack([(~now & missing).sum(axis=0) for now in st[base]], axis=1)
        return reached["ntm"].sum(axis=0), missing.sum(axis=0), blocking, draws

    # numpy releases the GIL in these array operations: chunks run side by side on the machine's cores
    with ThreadPoolExecutor(max_workers=max(1, min(workers or os.cpu_count() or 1, 4))) as pool:
        parts = list(pool.map(run_chunk, range(0, runs, chunk)))
    not_ntm_runs = np.zeros(n_units)
    for p_ntm, not_ntm, blocking, draws in parts:
        out.p_ntm += p_ntm
        not_ntm_runs += not_ntm
        out.blocking += blocking
        out.draws += draws
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
    """The projection from ``start_year`` (default: the last year with data before the horizon) to ``horizon``, as
    JSON-ready data."""
    states = states or observed_states(results, province)
    start_year = start_year or default_start_year(states.years, horizon)
    rates = rates or fit_rates(states, until=start_year, former=former_rates(results, province))
    ts_all = [t for ts in target_sets for t in ts.targets]
    ms_all = [m for ts in target_sets for m in ts.milestones]
    district_conditions = {}
    for m in ms_all:
        spec = catalog_of(province.catalogs, m.year).district_sets.get(m.district_set)
        district_conditions[m.unit] = spec["advanced_share"] if spec else 0.0
    mins = tuple(sorted({t.min_criteria for t in ts_all if t.kind == "min_criteria"}))
    sim = simulate(states, rates, start_year, horizon, runs, seed, scenario, min_criteria=mins, district_conditions=district_conditions)
    reg = province.registry
    denominators = [reg.official_xa_count(y) or len(states.units) for y in sim.years]
    per_year = []
    for k, y in enumerate(sim.years):
        den, cat = denominators[k], catalog_of(states.catalog_set, y)
        # every tier of the catalogue in force that year, in its chain's order (ntm, nang_cao, kieu_mau; ntm, ntm_hien_dai)
        tiers = {TIER_CODES[cat.tier_of(code)]: _band(sim.counts[cat.tier_of(code)][:, k] / den) for code in cat.tier_chain()}
        per_year.append({"nam": y, "mau_so": den, **tiers})
    observed = _observed(states, province, mins)
    muc_tieu = [_target_probability(t, sim, start_year, observed, denominators) for t in ts_all]
    muc_tieu += [_milestone_probability(m, sim, province, results, start_year) for m in ms_all]
    return {
        "nam_bat_dau": start_year,
        "nam_dich": horizon,
        "so_lan_mo_phong": runs,
        "hat_giong": seed,
        "kich_ban": None
        if scenario is None
        else {"ten": scenario.name, "xa": list(scenario.units), "tieu_chi": list(scenario.criteria), "tu_nam": scenario.from_year},
        "du_lieu_mau": bool(results["sample"].any()) if "sample" in results else False,
        "ty_le_quan_sat": {str(y): _observed_shares(v) for y, v in observed.items()},
        "theo_nam": per_year,
        "muc_tieu": muc_tieu,
        "xa": _commune_rows(sim, states, province, results, start_year, horizon),
        "toc_do": _rates_summary(rates, states, start_year, horizon),
    }


#: what a target whose kind the numbers cannot decide says instead of a probability
NOT_EVALUATED_VI = "chưa đánh giá được"


def _target_probability(t: Target, sim: Simulation, start_year: int, observed: dict, denominators: list[int]) -> dict:
    """The probability of a target: the share of runs that meet it in its year (targets.measure for a share, a
    share of the xã at a tier, a count of xã); what was observed for a past year; None with the reason for a
    described target, never a silent pass or fail."""
    entry = {"ma": t.id, "mo_ta": t.mo_ta, "loai": t.kind}
    if t.of is not None:
        entry["mau_so_la"] = TIER_CODES[t.of]  # the share is of the xã at this tier or above, not of every xã
    if t.kind not in (*COUNTED_KINDS, "min_criteria"):  # described: not measurable from the province's xã
        return {**entry, "xac_suat": None, "ghi_chu": f"{NOT_EVALUATED_VI}: {t.note}"}
    if t.year <= start_year or t.year not in sim.years:
        obs = observed.get(t.year)
        if obs is None:
            return {**entry, "xac_suat": None, "ghi_chu": "ngoài khoảng dự báo"}
        if t.kind == "min_criteria":
            met = obs["duoi"][t.min_criteria] == 0
        else:
            _, den, met = measure(t, {tier: n or 0 for tier, n in obs["so_xa"].items()}, obs["mau_so"])  # a tier lacking: no xã
            if t.of is not None and den == 0:
                why = f"năm {t.year} không có xã nào đạt hạng {TIER_CODES[t.of]} (mẫu số của mục tiêu)"
                return {**entry, "xac_suat": None, "ghi_chu": f"{NOT_EVALUATED_VI}: {why}"}
        return {**entry, "xac_suat": float(met), "ghi_chu": "năm đã qua: theo số liệu đã lưu"}
    k = sim.years.index(t.year)
    if t.kind == "min_criteria":
        met = sim.below[t.min_criteria][:, k] == 0
    else:  # a run without any xã at the tier ``of`` does not meet a share of them
        _, _, met = measure(t, {tier: c[:, k] for tier, c in sim.counts.items()}, denominators[k])
    return {**entry, "xac_suat": float(np.mean(met)), "ghi_chu": None}


def _milestone_probability(m, sim: Simulation, province: Province, results: pd.DataFrame, start_year: int) -> dict:  # noqa: ANN001
    """The probability of a milestone from the runs' xã conditions: an upper bound unless the district criteria
    are recorded met at the start; a past milestone is what was observed in its year."""
    from .progress import district_state

    if m.year <= start_year:
        scores = commune_scores(results[results["year"] == m.year], province, years=[m.year])
        obs_state, _ = district_state(province, results, scores, m.unit, m.year, m.district_set)
        p = {"dat": 1.0, "khong_dat": 0.0}.get(obs_state)
        return {"ma": m.id, "mo_ta": m.mo_ta, "xac_suat": p, "ghi_chu": "năm đã qua: theo số liệu đã lưu"}
    district_part = _district_criteria_state(province, results, m, start_year)
    years_needed = [y for y in sim.years if (m.from_year or m.year) <= y <= m.year] if m.kind == "giu_huyen_ntm" else [m.year]
    idx = [sim.years.index(y) for y in years_needed if y in sim.years]
    ok = sim.district_ok[m.unit][:, idx].all(axis=1) if idx else np.zeros(sim.ntm.shape[0], dtype=bool)
    note = None
    if district_part != "dat":
        state = "chưa đạt" if district_part == "khong_dat" else "chưa đánh giá"
        note = f"cận trên: chỉ tính điều kiện các xã; tiêu chí cấp huyện {state} năm {start_year}"
    return {"ma": m.id, "mo_ta": m.mo_ta, "xac_suat": float(ok.mean()), "ghi_chu": note, "can_tren": district_part != "dat"}


def _commune_rows(sim: Simulation, states: States, province: Province, results: pd.DataFrame, start_year: int, horizon: int) -> list[dict]:
    """Per xã: its start, its probability of being NTM at the horizon and the criteria most likely to hold it back."""
    names = catalog_of(province.catalogs, horizon).criterion_names(next(iter(states.crit)))
    start_scores = commune_scores(results[results["year"] == start_year], province, years=[start_year]).set_index("unit")
    units = province.registry.units
    rows = []
    for i, code in enumerate(states.units):
        top = np.argsort(-sim.blocking[i])[:3]
        rows.append(
            {
                "ma": code,
                "ten": units.at[code, "name"],
                "ma_huyen": states.districts[i] or None,  # None: no district level (from 1 July 2025)
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
    return rows


def _rates_summary(rates: Rates, states: States, start_year: int, horizon: int) -> dict:
    conditions = sorted({c for y in range(start_year, horizon + 1) if (c := catalog_of(states.catalog_set, y).condition_set)})
    return {
        "bo_tieu_chi": {
            s: {
                "tang_theo_nhom": rates.gain[s].round(4).tolist(),
                "giam": rates.loss[s].round(4).tolist(),
                "nhom": list(BAND_NAMES),
                "muon_tu": rates.borrowed.get(s),
                "giu_nguyen": s in rates.carried,
            }
            for s in states.crit
        },
        "he_so_huyen": {d: round(f, 3) for d, f in rates.district_factor.items()},
        # the conditions chain (kiểu mẫu to 2025, NTM hiện đại from 2026): ``bo`` its sets in the projected years
        "dieu_kien": {
            "bo": conditions,
            "tang": round(rates.model_gain, 4),
            "giam": round(rates.model_loss, 4),
            "giu_nguyen": rates.model_carried,
        },
        "den_nam": rates.fitted_until,
        "so_quan_sat": rates.transitions,
        "ghi_chu": _rates_notes(rates, states, start_year, horizon, conditions),
    }


def _rates_notes(rates: Rates, states: States, start_year: int, horizon: int, conditions: list[str]) -> list[str]:
    """In words, where the rates do not come from observed transitions (the module doc's rule): borrowed, or none
    and the start state carries."""
    notes = []
    if rates.transitions == 0:
        cat = states.catalog_set.for_year(start_year)
        seen = [str(y) for y, c in zip(states.years, states.catalogs) if c == cat.id and y <= start_year]
        before = cat.year_from - 1
        if period_of_year(before) != period_of_year(cat.year_from):  # 2025 → 2026: other units, another catalogue
            why = f" Các năm đến {before} thuộc đơn vị hành chính cũ và bộ tiêu chí trước: không cho chuyển đổi theo bộ {cat.id}."
        else:
            why = ""
        notes.append(
            f"Chưa có chuyển đổi nào quan sát được: tốc độ chỉ ước lượng từ hai năm liên tiếp có số liệu theo cùng một bộ "
            f"tiêu chí, mà đến năm {start_year} bộ {cat.id} (áp dụng từ năm {cat.year_from}) mới có số liệu năm {', '.join(seen)}.{why}"
        )
    for s in states.crit:
        if s in rates.borrowed:
            notes.append(f"Bộ {s}: chưa có chuyển đổi quan sát — dùng tốc độ của bộ {rates.borrowed[s]}.")
        elif s in rates.former:
            notes.append(
                f"Bộ {s}: chưa có chuyển đổi quan sát theo bộ tiêu chí mới — dùng tốc độ của cùng bộ ở các đơn vị cũ "
                "(lịch sử của các tỉnh tiền thân, gộp theo số tiêu chí còn thiếu, không theo từng tiêu chí): một giả định "
                "cho đến khi có hai năm số liệu theo bộ mới."
            )
        elif s in rates.carried:
            notes.append(
                f"Bộ {s}: chưa có chuyển đổi quan sát, không có bộ nào để mượn tốc độ — trạng thái năm {start_year} giữ nguyên "
                f"đến năm {horizon} (không xã nào đạt thêm hay mất tiêu chí): kết quả chỉ phản ánh số liệu năm {start_year}, "
                "chưa phải xu hướng."
            )
    if rates.model_carried and conditions:
        notes.append(
            f"Điều kiện bộ {', '.join(conditions)}: chưa có chuyển đổi quan sát — trạng thái năm {start_year} giữ nguyên "
            "(xã chưa ghi điều kiện: theo quyết định công nhận đến cuối năm)."
        )
    return notes


def default_start_year(years: list[int], horizon: int) -> int:
    """The last year with data before the horizon (a projection needs at least one year to simulate); the last
    year with data when none is earlier than the horizon (the answer is then what was observed)."""
    before = [y for y in years if y < horizon]
    return max(before) if before else max(years)


def _district_criteria_state(province: Province, results: pd.DataFrame, milestone, year: int) -> str:  # noqa: ANN001
    """khong_dat when a district criterion or condition is recorded not met, dat when all are met, else chua_danh_gia."""
    cat = province.catalogs.for_year(year)
    states = set(district_items(results, cat, milestone.unit, milestone.district_set, year)["state"])
    if "khong_dat" in states:
        return "khong_dat"
    return "dat" if states == {"dat"} else "chua_danh_gia"


def _observed(states: States, province: Province, minimums: tuple[int, ...]) -> dict[int, dict]:
    """Per year with data, by the catalogue's tier rule: the eligible xã (``mau_so``), the xã at each tier or above
    (``so_xa``; None for a tier the year's catalogue lacks) and the xã under each minimum of criteria (``duoi``)."""
    reached = observed_tiers(states)
    base = next(iter(states.crit))
    met = (states.crit[base] == 1).sum(axis=2)
    known = (states.crit[base] >= 0).any(axis=2)
    out = {}
    for j, y in enumerate(states.years):
        held = {info["tier"] for info in province.catalogs.for_year(y).sets.values()}
        out[y] = {
            "mau_so": province.registry.official_xa_count(y) or len(states.units),
            "so_xa": {tier: int(reached[tier][:, j].sum()) if tier in held else None for tier in TIERS},
            "duoi": {m: int((met[:, j] < m)[known[:, j]].sum()) for m in minimums},
        }
    return out


def _observed_shares(year: dict) -> dict:
    """One year of ``_observed`` as the output's shares: {tier code: share or None, "duoi": {...}}."""
    shares = {TIER_CODES[t]: None if n is None else n / year["mau_so"] for t, n in year["so_xa"].items()}
    return {**shares, "duoi": year["duoi"]}


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
    actual = observed_tiers(states)["ntm"][:, j]
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


#: the most Monte Carlo runs a projection may ask for (the API allows fewer to readers without a token)
MAX_RUNS = 10000


def last_projection_year(province: Province) -> int:
    """The last year a projection may reach: the last year that a catalogue of the province or one of its target
    sets covers (beyond it nothing says which criteria apply, nor what is aimed at)."""
    from .targets import load_target_set, target_set_ids

    sets = [load_target_set(t) for t in target_set_ids()]
    return max([province.catalogs.years()[-1], *(ts.year_to for ts in sets if ts.applies_to(province.code))])


def check_projection(province: Province, years: list[int], horizon: int | None, runs: int, start_year: int | None) -> int:
    """The start year of a projection with these parameters, given the years with data (only those the province's
    catalogues cover count: a deployment's store also holds its predecessors' years); InvalidParameter naming the
    value and what is allowed otherwise. ``horizon`` None: ``last_projection_year``. Cheap: the API runs it before
    it queues the projection."""
    from .errors import InvalidParameter, NongthonError

    horizon = last_projection_year(province) if horizon is None else horizon
    years = sorted(y for y in years if province.catalogs.covers(y))
    if not years:
        raise NongthonError(f"Chưa có kết quả nào của {province.name_vi} theo bộ tiêu chí {province.catalogs.years_text()} để dự báo")
    start = start_year or default_start_year(years, horizon)
    if start not in years:
        raise InvalidParameter(
            f"Không có số liệu năm {start} của {province.name_vi} để bắt đầu dự báo; có các năm: {', '.join(map(str, years))}"
        )
    last = last_projection_year(province)
    if not start <= horizon <= last:
        first = f"{start} (năm bắt đầu)" if start_year else str(years[1] if len(years) > 1 else years[0])
        raise InvalidParameter(
            f"horizon={horizon} phải từ {first} đến {last}: năm đích là một năm mà bộ tiêu chí hoặc bộ mục tiêu của tỉnh áp dụng"
        )
    if not 1 <= runs <= MAX_RUNS:
        raise InvalidParameter(f"runs={runs} phải từ 1 đến {MAX_RUNS}")
    return start


def projection_report(
    store, province: Province, horizon: int | None = None, runs: int = 1000, start_year: int | None = None, seed: int = 2025
) -> dict:  # noqa: ANN001 - Store
    """The projection of the store's current results against the province's target sets that cover the horizon
    (for the API). Without ``horizon``, to ``last_projection_year`` (2025 for Phú Yên, 2030 for the new Đắk Lắk);
    without ``start_year`` it starts from the last year with data before the horizon, and says so. The horizon goes
    no further than ``last_projection_year`` and the runs no more than MAX_RUNS."""
    from .targets import target_sets_for

    horizon = last_projection_year(province) if horizon is None else horizon
    results = store.current_results()
    start = check_projection(province, sorted(set(results["year"])) if not results.empty else [], horizon, runs, start_year)
    states = observed_states(results, province, recognitions=store.recognitions())
    out = project(
        results, province, target_sets_for(province.code, horizon), horizon=horizon, runs=runs, seed=seed, start_year=start, states=states
    )
    if start_year is None:
        out["nam_bat_dau_ghi_chu"] = (
            f"mặc định: năm {start}, năm cuối có số liệu trước năm đích {horizon}"
            if start < horizon
            else f"không có số liệu trước năm đích {horizon}: kết quả là số liệu đã lưu năm {start}"
        )
    return out
