"""Scoring: assessments -> status of each criterion (met / not met / not evaluated) -> criteria met per
set -> the assessed tier of each xã and year. Vectorised with pandas over all communes and years; no I/O.

Rules (per commune, year and set of the catalogue in force that year):

* an indicator recorded đạt / không đạt is met / not met; an indicator recorded as a value is compared
  with the threshold for the commune's region and the year (``minimum``: value ≥ threshold, ``maximum``:
  value ≤ threshold, ``absence``: value = 0); with no threshold (null) it is **not evaluated**;
* a criterion recorded at criterion level (how offices report) takes that result; otherwise it is met
  when every indicator of a complete indicator list is evaluated and met, not met when any evaluated
  indicator is not met, and not evaluated otherwise (also when nothing was recorded);
* tier: ``ntm`` when every criterion of the NTM set is met; ``advanced`` when ntm and every criterion of the
  advanced set is met; ``model`` when advanced and every model condition is met; otherwise ``none``.
  A xã with no result at all for a year has no tier (<NA>).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from .criteria import ALL_REGIONS, SET_CODES, TIERS, Catalog
from .province import Province

MET, NOT_MET, NOT_EVALUATED = "met", "not_met", "not_evaluated"
STATUSES = (MET, NOT_MET, NOT_EVALUATED)
BASES = ("criterion", "indicators", "none")
TIER_ORDER = ("none", *TIERS)  # the vocabulary of the catalogues, below their lowest tier
TIER_RANK = {t: i for i, t in enumerate(TIER_ORDER)}
SET_PREFIX = {"ntm": "ntm", "nang_cao": "adv", "kieu_mau": "model"}


def _catalog_tables(province: Province, years: list[int]) -> dict[str, pd.DataFrame]:
    cats: list[Catalog] = sorted(
        {province.catalogs.for_year(y).id: province.catalogs.for_year(y) for y in years}.values(), key=lambda c: c.id
    )

    def stack(attr: str) -> pd.DataFrame:
        frames = [getattr(c, attr).assign(catalog=c.id) for c in cats]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    sets = pd.DataFrame(
        [{"catalog": c.id, "tier_set": s, "criteria_count": info["criteria_count"]} for c in cats for s, info in c.sets.items()]
    )
    return {
        "criteria": stack("criteria").rename(columns={"set": "tier_set"}),
        "indicators": stack("indicators").rename(columns={"set": "tier_set"}),
        "thresholds": stack("thresholds").rename(columns={"set": "tier_set"}),
        "conditions": stack("conditions"),
        "sets": sets,
        "year_catalog": pd.DataFrame({"year": years, "catalog": [province.catalogs.for_year(y).id for y in years]}),
        "catalogs": {c.id: c for c in cats},
    }


def _lookup_thresholds(rows: pd.DataFrame, thresholds: pd.DataFrame, code_col: str, set_col: str) -> pd.Series:
    """Threshold per row (catalog, set, code, region, year): the most specific of (region, year),
    (region, every year), ('*', year), ('*', every year). <NA> when the catalogue has none."""
    out = pd.Series(np.nan, index=rows.index, dtype="float64")
    if thresholds.empty or rows.empty:
        return out
    t = thresholds.rename(columns={"code": code_col, "tier_set": set_col})
    left = rows[["catalog", set_col, code_col, "region", "year"]].copy()
    left["_row"] = rows.index
    for region_key, year_key in (("region", "year"), ("region", None), ("*", "year"), ("*", None)):
        tt = t[t["region"] == ALL_REGIONS] if region_key == "*" else t[t["region"] != ALL_REGIONS]
        tt = tt[tt["year"].notna()] if year_key else tt[tt["year"].isna()]
        if tt.empty:
            continue
        keys = ["catalog", set_col, code_col] + (["region"] if region_key == "region" else []) + (["year"] if year_key else [])
        tt = tt.astype({"year": "float64"}) if year_key else tt
        l2 = left.astype({"year": "float64"}) if year_key else left
        m = l2.merge(tt[keys + ["value"]].drop_duplicates(keys), on=keys, how="inner")
        vals = pd.Series(m["value"].to_numpy(), index=m["_row"].to_numpy())
        missing = out.isna()
        fill = vals[vals.index.isin(out.index[missing])]
        out.loc[fill.index] = fill
    return out


def _evaluate(kind: pd.Series, value: pd.Series, threshold: pd.Series) -> pd.Series:
    """Met / not met from a value; <NA> where it cannot be evaluated."""
    v = value.astype("float64")
    t = threshold.astype("float64")
    res = pd.Series(pd.NA, index=value.index, dtype="boolean")
    mn = (kind == "minimum") & v.notna() & t.notna()
    mx = (kind == "maximum") & v.notna() & t.notna()
    ab = (kind == "absence") & v.notna()
    bo = (kind == "boolean") & v.notna()
    # thresholds derived by a factor (110 % of 50 = 55.000000000000007) must not fail a value of exactly 55
    tol = 1e-9 * t.abs().clip(lower=1.0)
    res[mn] = v[mn] >= t[mn] - tol[mn]
    res[mx] = v[mx] <= t[mx] + tol[mx]
    res[ab] = v[ab] == 0
    res[bo] = v[bo] != 0
    return res


def indicator_status(results: pd.DataFrame, province: Province) -> pd.DataFrame:
    """Each indicator-level result with its threshold and status (met / not_met / not_evaluated)."""
    ind = results[results["level"] == "indicator"]
    years = sorted(ind["year"].unique().tolist())
    cols = ["unit", "year", "catalog", "tier_set", "item", "criterion", "kind", "met", "value", "threshold", "status"]
    if ind.empty:
        return pd.DataFrame(columns=cols)
    tables = _catalog_tables(province, years)
    ind = ind.merge(
        tables["indicators"][["catalog", "tier_set", "code", "criterion", "kind"]].rename(columns={"code": "item"}),
        on=["catalog", "tier_set", "item"],
        how="inner",
    )
    ind["region"] = ind["unit"].map(province.regions()).fillna(province.region)
    ind = ind.reset_index(drop=True)
    ind["threshold"] = _lookup_thresholds(ind, tables["thresholds"], "item", "tier_set")
    evaluated = _evaluate(ind["kind"], ind["value"], ind["threshold"])
    met = ind["met"].astype("boolean").fillna(evaluated)
    ind["status"] = np.where(met.isna(), NOT_EVALUATED, np.where(met.fillna(False), MET, NOT_MET))
    return ind[cols]


def _key(unit_idx: np.ndarray, year: np.ndarray, set_idx: np.ndarray, criterion: np.ndarray) -> np.ndarray:
    """One int64 per (unit, year, set, criterion): integer keys join far faster than four string columns."""
    return ((unit_idx.astype("int64") * 4096 + year.astype("int64")) * 4 + set_idx.astype("int64")) * 256 + criterion.astype("int64")


def _criterion_frame(results: pd.DataFrame, province: Province, years: list[int], units: list[str]) -> pd.DataFrame:
    """Internal: every (unit, year, set, criterion) with integer columns u (position in ``units``), year,
    s (position in SET_CODES), c (criterion number), st (0 met, 1 not met, 2 not evaluated) and basis."""
    tables = _catalog_tables(province, years)
    unit_index = pd.Index(units)
    set_pos = {code: i for i, code in enumerate(SET_CODES)}
    crit_table = tables["criteria"].merge(tables["year_catalog"], on="catalog")  # year, catalog, set, criterion
    crit_table = crit_table.assign(s=crit_table["tier_set"].map(set_pos), c=crit_table["criterion"].astype("int64"))
    n_ind = tables["indicators"].groupby(["catalog", "tier_set", "criterion"]).size().rename("n_indicators").reset_index()
    crit_table = crit_table.merge(n_ind, on=["catalog", "tier_set", "criterion"], how="left")
    crit_table["n_indicators"] = crit_table["n_indicators"].fillna(0).astype("int64")
    n_units, n_rows = len(units), len(crit_table)
    frame = pd.DataFrame(
        {
            "u": np.repeat(np.arange(n_units), n_rows),
            "year": np.tile(crit_table["year"].to_numpy(), n_units),
            "s": np.tile(crit_table["s"].to_numpy(), n_units),
            "c": np.tile(crit_table["c"].to_numpy(), n_units),
            "catalog": np.tile(crit_table["catalog"].to_numpy(), n_units),
        }
    )
    complete = np.tile(crit_table["indicators_complete"].astype(bool).to_numpy(), n_units)
    n_indicators = np.tile(crit_table["n_indicators"].to_numpy(), n_units)
    # frame row of (unit u, year, set s, criterion c) = u * n_rows + its row in crit_table
    table_keys = pd.Index(_key(np.zeros(n_rows), crit_table["year"].to_numpy(), crit_table["s"].to_numpy(), crit_table["c"].to_numpy()))

    def rows_of(u: np.ndarray, year: np.ndarray, s_idx: np.ndarray, c: np.ndarray) -> np.ndarray:
        t = table_keys.get_indexer(_key(np.zeros(len(u)), year, s_idx, c))
        return np.where((u >= 0) & (t >= 0), u * n_rows + t, -1)

    rec = results[results["level"] == "criterion"]
    # look up each distinct string once (a few dozen items, thousands of units), then spread by code
    item_codes, items = pd.factorize(rec["item"])
    rec_c = pd.to_numeric(pd.Series(items), errors="coerce").fillna(-1).astype("int64").to_numpy()[item_codes]
    rec_s = pd.Index(SET_CODES).get_indexer(rec["tier_set"])  # -1 for district-level sets
    unit_codes, rec_units = pd.factorize(rec["unit"])
    rec_u = unit_index.get_indexer(rec_units)[unit_codes]
    pos = rows_of(rec_u, rec["year"].to_numpy(), rec_s, rec_c)
    keep = pos >= 0
    pos, rec_met_values = pos[keep], rec["met"].to_numpy(dtype=object)[keep]
    last = ~pd.Series(pos).duplicated(keep="last").to_numpy()  # the store gives one row per key; be safe anyway
    rec_known = np.zeros(len(frame), dtype=bool)
    rec_met = np.zeros(len(frame), dtype=bool)
    valid = last & ~pd.isna(rec_met_values)
    rec_known[pos[valid]] = True
    rec_met[pos[valid]] = rec_met_values[valid].astype(bool)

    m = np.zeros(len(frame), dtype="int64")
    n = np.zeros(len(frame), dtype="int64")
    ind = results[results["level"] == "indicator"]
    if len(ind):
        ind = indicator_status(ind[ind["unit"].isin(units) & ind["year"].isin(years)], province)
    if len(ind):
        ipos = rows_of(
            unit_index.get_indexer(ind["unit"]),
            ind["year"].to_numpy(),
            ind["tier_set"].map(set_pos).to_numpy(),
            ind["criterion"].astype("int64").to_numpy(),
        )
        ok = ipos >= 0
        np.add.at(m, ipos[ok], (ind["status"] == MET).to_numpy()[ok])
        np.add.at(n, ipos[ok], (ind["status"] == NOT_MET).to_numpy()[ok])
    from_ind = np.where(n > 0, 1, np.where(complete & (n_indicators > 0) & (m == n_indicators), 0, 2))
    frame["st"] = np.where(rec_known, np.where(rec_met, 0, 1), from_ind).astype("int8")
    frame["basis"] = np.where(rec_known, 0, np.where((m + n) > 0, 1, 2)).astype("int8")
    return frame


def criterion_status(
    results: pd.DataFrame, province: Province, years: list[int] | None = None, units: list[str] | None = None
) -> pd.DataFrame:
    """One row per (unit, year, tier_set, criterion) for every eligible xã and year: status and basis
    ('criterion' = recorded at criterion level, 'indicators' = decided from indicator values, 'none')."""
    years = sorted(set(years if years is not None else results["year"].unique().tolist()))
    units = list(units) if units is not None else list(province.registry.xa().index)
    f = _criterion_frame(results, province, years, units)
    return pd.DataFrame(
        {
            "unit": np.asarray(units, dtype=object)[f["u"].to_numpy()] if len(f) else pd.Series(dtype=object),
            "year": f["year"],
            "catalog": f["catalog"],
            "tier_set": np.asarray(SET_CODES, dtype=object)[f["s"].to_numpy()] if len(f) else pd.Series(dtype=object),
            "criterion": f["c"].astype(str),
            "status": np.asarray(STATUSES, dtype=object)[f["st"].to_numpy()] if len(f) else pd.Series(dtype=object),
            "basis": np.asarray(BASES, dtype=object)[f["basis"].to_numpy()] if len(f) else pd.Series(dtype=object),
        }
    )


def condition_status(results: pd.DataFrame, province: Province, years: list[int], units: list[str]) -> pd.DataFrame:
    """One row per (unit, year, model condition) for the catalogues that have model conditions."""
    tables = _catalog_tables(province, years)
    cond = tables["conditions"]
    cols = ["unit", "year", "catalog", "item", "status"]
    if cond.empty:
        return pd.DataFrame(columns=cols)
    grid = pd.MultiIndex.from_product([units, years], names=["unit", "year"]).to_frame(index=False).merge(tables["year_catalog"], on="year")
    g = grid.merge(cond.rename(columns={"code": "item"}), on="catalog")
    rec = results[(results["level"] == "condition")][["unit", "year", "item", "met", "value"]]
    g = g.merge(rec, on=["unit", "year", "item"], how="left")
    g["region"] = g["unit"].map(province.regions()).fillna(province.region)
    g = g.reset_index(drop=True)
    base = g.assign(tier_set=g["from_set"], code=g["from_indicator"])
    thr = _lookup_thresholds(base, tables["thresholds"], "code", "tier_set") * g["factor"]
    evaluated = _evaluate(g["kind"], g["value"], thr)
    met = g["met"].astype("boolean").fillna(evaluated)
    g["status"] = np.where(met.isna(), NOT_EVALUATED, np.where(met.fillna(False), MET, NOT_MET))
    return g[cols]


def commune_scores(
    results: pd.DataFrame, province: Province, years: list[int] | None = None, units: list[str] | None = None
) -> pd.DataFrame:
    """Per eligible xã and year: the catalogue, for each set the criteria met / not met / not evaluated
    and out of how many, the model conditions, and the assessed tier (none / ntm / advanced / model;
    <NA> when nothing was recorded for that xã and year)."""
    years = sorted(set(years if years is not None else results["year"].unique().tolist()))
    units = list(units) if units is not None else list(province.registry.xa().index)
    f = _criterion_frame(results, province, years, units)
    tables = _catalog_tables(province, years)
    # row i of ``out`` is unit i // len(years), year i % len(years): counts come from one bincount each
    out = pd.MultiIndex.from_product([units, years], names=["unit", "year"]).to_frame(index=False)
    out["catalog"] = out["year"].map(dict(zip(tables["year_catalog"]["year"], tables["year_catalog"]["catalog"])))
    year_pos = {y: i for i, y in enumerate(years)}
    n_cells = len(units) * len(years)
    cell = f["u"].to_numpy() * len(years) + f["year"].map(year_pos).to_numpy()
    sets = tables["sets"]
    for s_idx, set_code in enumerate(SET_CODES[:2]):
        prefix = SET_PREFIX[set_code]
        for st_idx, st in enumerate(STATUSES):
            sel = (f["s"].to_numpy() == s_idx) & (f["st"].to_numpy() == st_idx)
            out[f"{prefix}_{st}"] = np.bincount(cell[sel], minlength=n_cells)
        total = out["catalog"].map(sets[sets["tier_set"] == set_code].set_index("catalog")["criteria_count"])
        out[f"{prefix}_total"] = total.fillna(0).astype("int64")
    cond = condition_status(results, province, years, units)
    ccell = (
        pd.Index(units).get_indexer(cond["unit"]) * len(years) + cond["year"].map(year_pos).to_numpy()
        if len(cond)
        else np.array([], dtype="int64")
    )
    for st in STATUSES:
        out[f"model_{st}"] = np.bincount(ccell[(cond["status"] == st).to_numpy()], minlength=n_cells) if len(cond) else 0
    out["model_total"] = np.bincount(ccell, minlength=n_cells) if len(cond) else 0
    unit_codes, distinct_units = pd.factorize(results["unit"])
    hu = pd.Index(units).get_indexer(distinct_units)[unit_codes] if len(results) else np.array([], dtype="int64")
    hy = results["year"].map(year_pos).fillna(-1).astype("int64").to_numpy()
    seen = (hu >= 0) & (hy >= 0)
    out["has_data"] = np.bincount(hu[seen] * len(years) + hy[seen], minlength=n_cells) > 0
    tier = np.full(n_cells, "none", dtype=object)
    for cid, rows in out.groupby("catalog").groups.items():
        sets = tables["catalogs"][cid].sets
        complete = {
            s: (
                (out.loc[rows, f"{SET_PREFIX[s]}_total"] > 0)
                & (out.loc[rows, f"{SET_PREFIX[s]}_met"] == out.loc[rows, f"{SET_PREFIX[s]}_total"])
            ).to_numpy()
            for s in sets
        }
        tier[out.index.get_indexer(rows)] = highest_tier(sets, reached_sets(sets, complete))
    out["tier"] = pd.Series(tier, index=out.index).where(out["has_data"], pd.NA).astype("string")
    return out


def reached_sets(sets: dict[str, dict], complete: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The one tier rule, read from the catalogue: a xã reaches a set when it meets every item of that set and
    has reached the set it ``requires`` (advanced needs NTM, model needs advanced). ``complete[s]``: every item
    of set s met (any array shape); the answer has the same shape."""
    out: dict[str, np.ndarray] = {}

    def reach(code: str) -> np.ndarray:
        if code not in out:
            required = sets[code]["requires"]
            out[code] = complete[code] & reach(required) if required else complete[code]
        return out[code]

    for code in sets:
        reach(code)
    return out


def highest_tier(sets: dict[str, dict], reached: dict[str, np.ndarray]) -> np.ndarray:
    """The tier of the highest set reached (by the tier order), "none" where no set is reached."""
    ordered = sorted(sets, key=lambda code: TIER_RANK[sets[code]["tier"]], reverse=True)
    return np.select([reached[code] for code in ordered], [sets[code]["tier"] for code in ordered], default="none")


def recognition_condition_status(results: pd.DataFrame, province: Province, year: int, unit: str) -> pd.DataFrame:
    """The conditions of recognition beyond the criteria (resident satisfaction, no outstanding construction
    debt, security and order) of every set of the year's catalogue, for one xã: met / not_met / not_evaluated
    (until recorded, at level ``recognition``). They decide no tier: they are what a recognition also needs."""
    cat = province.catalogs.for_year(year)
    rc = cat.recognition_conditions
    rec = results[(results["unit"] == unit) & (results["year"] == year) & (results["level"] == "recognition")]
    got = {(s, i): m for s, i, m in zip(rec["tier_set"], rec["item"], rec["met"])}
    met = [got.get((s, c), pd.NA) for s, c in zip(rc["set"], rc["code"])]
    status = [NOT_EVALUATED if pd.isna(m) else (MET if bool(m) else NOT_MET) for m in met]
    return rc[["set", "code", "name_vi"]].assign(status=status).reset_index(drop=True)


def recognised_tiers(recognitions: pd.DataFrame, year: int, units: list[str] | None = None) -> pd.DataFrame:
    """The recognised (officially decided) tier of each unit at the end of ``year``: decisions dated on or before
    31 December, in date order; a recognition makes a tier active, a revocation ends that tier and every tier
    above it (a xã that is no longer NTM cannot stay advanced). Columns: unit, recognised_tier,
    decision_number, decision_date (of the decision that made the highest active tier)."""
    cols = ["unit", "recognised_tier", "decision_number", "decision_date"]
    if recognitions.empty:
        return pd.DataFrame(columns=cols)
    r = recognitions[pd.to_datetime(recognitions["decision_date"]) <= pd.Timestamp(date(year, 12, 31))]
    if units is not None:
        r = r[r["unit"].isin(units)]
    rows = []
    for unit, g in r.sort_values(["decision_date", "id"]).groupby("unit", sort=True):
        active: dict[str, tuple[str, object]] = {}
        for d in g.itertuples(index=False):
            if d.action == "recognise":
                active[d.tier] = (d.decision_number, d.decision_date)
            else:
                for t in [t for t in active if TIER_RANK[t] >= TIER_RANK[d.tier]]:
                    del active[t]
        if active:
            best = max(active, key=TIER_RANK.get)
            rows.append({"unit": unit, "recognised_tier": best, "decision_number": active[best][0], "decision_date": active[best][1]})
    return pd.DataFrame(rows, columns=cols)
