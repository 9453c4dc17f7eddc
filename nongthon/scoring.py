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

from .criteria import ALL_REGIONS, Catalog
from .province import Province

MET, NOT_MET, NOT_EVALUATED = "met", "not_met", "not_evaluated"
STATUSES = (MET, NOT_MET, NOT_EVALUATED)
TIER_ORDER = ("none", "ntm", "advanced", "model")
TIER_RANK = {t: i for i, t in enumerate(TIER_ORDER)}
SET_PREFIX = {"ntm": "ntm", "nang_cao": "adv", "kieu_mau": "model"}


def _catalog_tables(province: Province, years: list[int]) -> dict[str, pd.DataFrame]:
    cats: list[Catalog] = sorted({province.catalogs.for_year(y).id: province.catalogs.for_year(y) for y in years}.values(), key=lambda c: c.id)
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
    res[mn] = v[mn] >= t[mn]
    res[mx] = v[mx] <= t[mx]
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


def criterion_status(results: pd.DataFrame, province: Province, years: list[int] | None = None, units: list[str] | None = None) -> pd.DataFrame:
    """One row per (unit, year, tier_set, criterion) for every eligible xã and year: status and basis
    ('criterion' = recorded at criterion level, 'indicators' = decided from indicator values, 'none')."""
    years = sorted(set(years if years is not None else results["year"].unique().tolist()))
    units = list(units) if units is not None else list(province.registry.xa().index)
    tables = _catalog_tables(province, years)
    grid = pd.MultiIndex.from_product([units, years], names=["unit", "year"]).to_frame(index=False)
    grid = grid.merge(tables["year_catalog"], on="year")
    crit = grid.merge(tables["criteria"][["catalog", "tier_set", "criterion", "indicators_complete"]], on="catalog")
    rec = results[results["level"] == "criterion"][["unit", "year", "tier_set", "item", "met"]].rename(columns={"item": "criterion", "met": "recorded"})
    crit = crit.merge(rec, on=["unit", "year", "tier_set", "criterion"], how="left")
    ind = indicator_status(results[results["unit"].isin(units) & results["year"].isin(years)], province)
    if not ind.empty:
        agg = ind.assign(m=ind["status"] == MET, n=ind["status"] == NOT_MET).groupby(["unit", "year", "tier_set", "criterion"], as_index=False)[["m", "n"]].sum()
        crit = crit.merge(agg, on=["unit", "year", "tier_set", "criterion"], how="left")
    else:
        crit["m"] = 0
        crit["n"] = 0
    n_ind = tables["indicators"].groupby(["catalog", "tier_set", "criterion"]).size().rename("n_indicators").reset_index()
    crit = crit.merge(n_ind, on=["catalog", "tier_set", "criterion"], how="left")
    crit[["m", "n", "n_indicators"]] = crit[["m", "n", "n_indicators"]].fillna(0).astype("int64")
    from_ind = np.where(
        crit["n"] > 0,
        NOT_MET,
        np.where(crit["indicators_complete"].astype(bool) & (crit["n_indicators"] > 0) & (crit["m"] == crit["n_indicators"]), MET, NOT_EVALUATED),
    )
    recorded = crit["recorded"].astype("boolean")
    crit["status"] = np.where(recorded.isna(), from_ind, np.where(recorded.fillna(False), MET, NOT_MET))
    crit["basis"] = np.where(recorded.notna(), "criterion", np.where((crit["m"] + crit["n"]) > 0, "indicators", "none"))
    return crit[["unit", "year", "catalog", "tier_set", "criterion", "status", "basis"]]


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


def commune_scores(results: pd.DataFrame, province: Province, years: list[int] | None = None, units: list[str] | None = None) -> pd.DataFrame:
    """Per eligible xã and year: the catalogue, for each set the criteria met / not met / not evaluated
    and out of how many, the model conditions, and the assessed tier (none / ntm / advanced / model;
    <NA> when nothing was recorded for that xã and year)."""
    years = sorted(set(years if years is not None else results["year"].unique().tolist()))
    units = list(units) if units is not None else list(province.registry.xa().index)
    crit = criterion_status(results, province, years, units)
    counts = crit.pivot_table(index=["unit", "year", "catalog"], columns=["tier_set", "status"], aggfunc="size", fill_value=0)
    out = pd.MultiIndex.from_product([units, years], names=["unit", "year"]).to_frame(index=False)
    out = out.merge(_catalog_tables(province, years)["year_catalog"], on="year")
    counts.columns = [f"{SET_PREFIX[s]}_{st}" for s, st in counts.columns]
    out = out.merge(counts.reset_index(), on=["unit", "year", "catalog"], how="left")
    sets = _catalog_tables(province, years)["sets"]
    for set_code, prefix in SET_PREFIX.items():
        for st in STATUSES:
            col = f"{prefix}_{st}"
            out[col] = out[col].fillna(0).astype("int64") if col in out else 0
        total = out["catalog"].map(sets[sets["tier_set"] == set_code].set_index("catalog")["criteria_count"])
        out[f"{prefix}_total"] = total.fillna(0).astype("int64")
    cond = condition_status(results, province, years, units)
    if not cond.empty:
        cc = cond.pivot_table(index=["unit", "year"], columns="status", aggfunc="size", fill_value=0)
        cc.columns = [f"model_{c}" for c in cc.columns]
        out = out.drop(columns=[c for c in cc.columns if c in out]).merge(cc.reset_index(), on=["unit", "year"], how="left")
        n_cond = cond.groupby(["unit", "year"]).size().rename("model_total").reset_index()
        out = out.drop(columns="model_total").merge(n_cond, on=["unit", "year"], how="left")
    for col in ("model_met", "model_not_met", "model_not_evaluated", "model_total"):
        out[col] = out[col].fillna(0).astype("int64") if col in out else 0
    has = results[["unit", "year"]].drop_duplicates().assign(has_data=True)
    out = out.merge(has, on=["unit", "year"], how="left")
    out["has_data"] = out["has_data"].fillna(False).astype(bool)
    ntm_ok = (out["ntm_total"] > 0) & (out["ntm_met"] == out["ntm_total"])
    adv_ok = ntm_ok & (out["adv_total"] > 0) & (out["adv_met"] == out["adv_total"])
    model_ok = adv_ok & (out["model_total"] > 0) & (out["model_met"] == out["model_total"])
    tier = np.select([model_ok, adv_ok, ntm_ok], ["model", "advanced", "ntm"], default="none")
    out["tier"] = pd.Series(tier, index=out.index).where(out["has_data"], pd.NA).astype("string")
    return out


def recognised_tiers(recognitions: pd.DataFrame, year: int, units: list[str] | None = None) -> pd.DataFrame:
    """The recognised (officially decided) tier of each unit at the end of ``year``: the highest tier
    whose latest decision dated on or before 31 December is a recognition, not a revocation.
    Columns: unit, recognised_tier, decision_number, decision_date."""
    cols = ["unit", "recognised_tier", "decision_number", "decision_date"]
    if recognitions.empty:
        return pd.DataFrame(columns=cols)
    r = recognitions[pd.to_datetime(recognitions["decision_date"]) <= pd.Timestamp(date(year, 12, 31))]
    if units is not None:
        r = r[r["unit"].isin(units)]
    if r.empty:
        return pd.DataFrame(columns=cols)
    r = r.sort_values(["decision_date", "id"])
    last = r.groupby(["unit", "tier"], as_index=False).tail(1)
    active = last[last["action"] == "recognise"].copy()
    active["rank"] = active["tier"].map(TIER_RANK)
    best = active.sort_values(["unit", "rank"]).groupby("unit", as_index=False).tail(1)
    return best.rename(columns={"tier": "recognised_tier"})[cols].reset_index(drop=True)
