"""Scoring: assessments -> status of each criterion (met / not met / not evaluated) -> criteria met per
set -> the assessed tier of each xã and year. Vectorised over all communes and years, no I/O: each column of the
results is hashed once into integer codes (the bulk of the cost), and the rest is small lookup tables per
catalogue (year, set, criterion) and numpy arrays [xã, criterion row] — no string merges on the results.

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
from typing import NamedTuple

import numpy as np
import pandas as pd

from .criteria import ALL_REGIONS, SET_CODES, TIERS, Catalog
from .province import Province
from .units import REFORM_DATE, period_of_year

MET, NOT_MET, NOT_EVALUATED = "met", "not_met", "not_evaluated"
STATUSES = (MET, NOT_MET, NOT_EVALUATED)
BASES = ("criterion", "indicators", "none")
TIER_ORDER = ("none", *TIERS)  # the vocabulary of the catalogues, below their lowest tier
TIER_RANK = {t: i for i, t in enumerate(TIER_ORDER)}
SET_PREFIX = {
    "ntm": "ntm",
    "nang_cao": "adv",
    "kieu_mau": "model",
    "ntm_hien_dai": "model",
}  # a catalogue's conditions set counts as model_*
KINDS = ("minimum", "maximum", "absence", "boolean")  # how an indicator value is compared with its threshold
LEVELS = ("criterion", "indicator", "condition")  # the levels that decide a tier (not "recognition")


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
    (region, every year), ('*', year), ('*', every year). <NA> when the catalogue has none.
    Looked up once per distinct (catalog, set, code, region, year), then spread to the rows."""
    out = pd.Series(np.nan, index=rows.index, dtype="float64")
    if thresholds.empty or rows.empty:
        return out
    t = thresholds.rename(columns={"code": code_col, "tier_set": set_col})
    key_cols = ["catalog", set_col, code_col, "region", "year"]
    group = rows.groupby(key_cols, sort=False, dropna=False).ngroup().to_numpy()
    first = np.full(group.max() + 1, len(group))
    np.minimum.at(first, group, np.arange(len(group)))
    left = rows[key_cols].iloc[first].reset_index(drop=True)
    found = np.full(len(left), np.nan)
    left["_row"] = left.index
    for region_key, year_key in (("region", "year"), ("region", None), ("*", "year"), ("*", None)):
        tt = t[t["region"] == ALL_REGIONS] if region_key == "*" else t[t["region"] != ALL_REGIONS]
        tt = tt[tt["year"].notna()] if year_key else tt[tt["year"].isna()]
        if tt.empty:
            continue
        keys = ["catalog", set_col, code_col] + (["region"] if region_key == "region" else []) + (["year"] if year_key else [])
        tt = tt.astype({"year": "float64"}) if year_key else tt
        l2 = left.astype({"year": "float64"}) if year_key else left
        m = l2.merge(tt[keys + ["value"]].drop_duplicates(keys), on=keys, how="inner")
        at = m["_row"].to_numpy()
        fill = np.isnan(found[at])
        found[at[fill]] = m["value"].to_numpy(dtype="float64", na_value=np.nan)[fill]
    out[:] = found[group]
    return out


def _status_codes(met_known: np.ndarray, met: np.ndarray, kind: np.ndarray, value: np.ndarray, threshold: np.ndarray) -> np.ndarray:
    """0 met, 1 not met, 2 not evaluated. A recorded đạt / không đạt decides; otherwise a value is compared with
    its threshold by ``kind`` (a position in KINDS): minimum value ≥ threshold, maximum value ≤ threshold,
    absence value = 0, boolean value ≠ 0; without a value, or without the threshold it needs, not evaluated."""
    has_value = ~np.isnan(value)
    # thresholds derived by a factor (110 % of 50 = 55.000000000000007) must not fail a value of exactly 55
    tol = 1e-9 * np.maximum(np.abs(threshold), 1.0)
    with np.errstate(invalid="ignore"):
        passed = np.select(
            [kind == 0, kind == 1, kind == 2, kind == 3],
            [value >= threshold - tol, value <= threshold + tol, value == 0, value != 0],
            False,
        )
    evaluable = has_value & (kind >= 0) & ((kind >= 2) | ~np.isnan(threshold))
    return np.where(met_known, np.where(met, 0, 1), np.where(evaluable, np.where(passed, 0, 1), 2)).astype("int8")


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
    ind["region"] = province.threshold_selector(ind["unit"], ind["catalog"])  # region (2016–2025) or commune group (2026–)
    ind = ind.reset_index(drop=True)
    ind["threshold"] = _lookup_thresholds(ind, tables["thresholds"], "item", "tier_set")
    status = _status_codes(
        ind["met"].notna().to_numpy(),
        ind["met"].to_numpy(dtype=bool, na_value=False),
        pd.Index(KINDS).get_indexer(ind["kind"]),
        ind["value"].to_numpy(dtype="float64", na_value=np.nan),
        ind["threshold"].to_numpy(),
    )
    ind["status"] = np.asarray(STATUSES)[status]
    return ind[cols]


def _positions(values: pd.Series, targets: list | tuple) -> np.ndarray:
    """The position of each value in ``targets``, -1 when it is not there or missing. A column is hashed once
    (factorize) and only its distinct values are looked up: hashing strings is the cost of scoring."""
    codes, distinct = pd.factorize(np.asarray(values))
    return np.append(pd.Index(targets).get_indexer(distinct), -1)[codes]


def _take(values: list | tuple | pd.Series, positions: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """A long column made of a few distinct values: the values' own array (dtype as pandas infers it) taken at
    ``positions``, without building and re-inferring millions of Python strings."""
    return pd.Series(np.asarray(values, dtype=object)).array.take(positions)


class _Rows(NamedTuple):
    """The results as integer codes, each column read once (position -1: not among the ones scored)."""

    u: np.ndarray  # position of the unit in ``units``
    y: np.ndarray  # position of the year in ``years``
    level: np.ndarray  # position in LEVELS
    s: np.ndarray  # position of the set in SET_CODES (district-level sets: -1)
    item: np.ndarray  # position in ``items``
    items: np.ndarray  # the distinct items
    met_known: np.ndarray
    met: np.ndarray
    value: np.ndarray  # float64, NaN when missing


def _encode(results: pd.DataFrame, units: list[str], years: list[int]) -> _Rows:
    item, items = pd.factorize(np.asarray(results["item"]))
    return _Rows(
        u=_positions(results["unit"], units),
        y=_positions(results["year"], years),
        level=_positions(results["level"], LEVELS),
        s=_positions(results["tier_set"], SET_CODES),
        item=item,
        items=items,
        met_known=results["met"].notna().to_numpy(),
        met=results["met"].to_numpy(dtype=bool, na_value=False),
        value=results["value"].to_numpy(dtype="float64", na_value=np.nan) if "value" in results else np.full(len(results), np.nan),
    )


def _criterion_table(tables: dict, years: list[int]) -> pd.DataFrame:
    """Every (year, set, criterion) of the catalogues in force, in the order criterion_status lists them:
    yp (position of the year), s (position in SET_CODES), c (criterion number), complete, n_indicators."""
    ct = tables["criteria"].merge(tables["year_catalog"], on="catalog")
    n_ind = tables["indicators"].groupby(["catalog", "tier_set", "criterion"]).size().rename("n_indicators").reset_index()
    ct = ct.merge(n_ind, on=["catalog", "tier_set", "criterion"], how="left")
    return ct.assign(
        yp=pd.Index(years).get_indexer(ct["year"]),
        s=pd.Index(SET_CODES).get_indexer(ct["tier_set"]),
        c=ct["criterion"].astype("int64"),
        complete=ct["indicators_complete"].astype(bool),
        n_indicators=ct["n_indicators"].fillna(0).astype("int64"),
    )


def _criterion_states(
    results: pd.DataFrame, rows: _Rows, ct: pd.DataFrame, province: Province, units: list[str], years: list[int]
) -> tuple[np.ndarray, np.ndarray]:
    """[unit, row of ct] status (0 met, 1 not met, 2 not evaluated) and basis (position in BASES) of every
    criterion: a result at criterion level decides (the last row of a key, when the store gives several);
    otherwise the indicators: not met when any is not met, met when every one of a complete list is met.
    Rows of ct are found in small lookup tables, with a last slot on every axis where position -1 lands."""
    n_units, n_rows = len(units), len(ct)
    yp, s, c = (ct[col].to_numpy() for col in ("yp", "s", "c"))
    st = np.full(n_units * n_rows, 2, dtype="int8")
    basis = np.full(n_units * n_rows, 2, dtype="int8")
    ind_rows = np.flatnonzero((rows.level == LEVELS.index("indicator")) & (rows.u >= 0) & (rows.y >= 0))
    ind = indicator_status(results.iloc[ind_rows], province) if len(ind_rows) else ()
    if len(ind):
        row_of = np.full((len(years) + 1, len(SET_CODES) + 1, c.max() + 2), -1)  # [year, set, criterion number]
        row_of[yp, s, c] = np.arange(n_rows)
        number = ind["criterion"].astype("int64").to_numpy()
        t = row_of[
            pd.Index(years).get_indexer(ind["year"]),
            pd.Index(SET_CODES).get_indexer(ind["tier_set"]),
            np.where(number <= c.max(), number, -1),
        ]
        u = pd.Index(units).get_indexer(ind["unit"])
        cell = (u * n_rows + t)[(u >= 0) & (t >= 0)]
        status = ind["status"].to_numpy()[(u >= 0) & (t >= 0)]
        m = np.bincount(cell[status == MET], minlength=len(st))
        n = np.bincount(cell[status == NOT_MET], minlength=len(st))
        n_ind = np.tile(ct["n_indicators"].to_numpy(), n_units)
        complete = np.tile(ct["complete"].to_numpy(), n_units) & (n_ind > 0)
        st = np.where(n > 0, 1, np.where(complete & (m == n_ind), 0, 2)).astype("int8")
        basis = np.where(m + n > 0, 1, 2).astype("int8")
    # results at criterion level: [level, year, set, item] -> row of ct, for the items that name a criterion number
    number = pd.to_numeric(pd.Series(rows.items, dtype=object), errors="coerce").fillna(-1).astype("int64").to_numpy()
    r, i = np.nonzero(c[:, None] == number[None, :])
    row_of = np.full((len(LEVELS) + 1, len(years) + 1, len(SET_CODES) + 1, len(rows.items) + 1), -1)
    row_of[LEVELS.index("criterion"), yp[r], s[r], i] = r
    t = row_of[rows.level, rows.y, rows.s, rows.item]
    sel = np.flatnonzero((t >= 0) & (rows.u >= 0))
    cell = rows.u[sel] * n_rows + t[sel]
    if len(cell) and np.bincount(cell).max() > 1:  # the store gives one row per key; be safe anyway
        last = ~pd.Series(cell).duplicated(keep="last").to_numpy()
        sel, cell = sel[last], cell[last]
    known = rows.met_known[sel]
    st[cell[known]] = np.where(rows.met[sel[known]], 0, 1)
    basis[cell[known]] = 0
    return st.reshape(n_units, n_rows), basis.reshape(n_units, n_rows)


def criterion_status(
    results: pd.DataFrame, province: Province, years: list[int] | None = None, units: list[str] | None = None
) -> pd.DataFrame:
    """One row per (unit, year, tier_set, criterion) for every eligible xã and year: status and basis
    ('criterion' = recorded at criterion level, 'indicators' = decided from indicator values, 'none')."""
    years = sorted(set(years if years is not None else results["year"].unique().tolist()))
    units = list(units) if units is not None else province.registry.xa().index.tolist()
    ct = _criterion_table(_catalog_tables(province, years), years)
    st, basis = _criterion_states(results, _encode(results, units, years), ct, province, units, years)
    t = np.tile(np.arange(len(ct)), len(units))
    return pd.DataFrame(
        copy=False,
        data={
            "unit": _take(units, np.repeat(np.arange(len(units)), len(ct))),
            "year": ct["year"].to_numpy()[t],
            "catalog": _take(ct["catalog"], t),
            "tier_set": _take(ct["tier_set"], t),
            "criterion": _take(ct["c"].astype(str), t),
            "status": _take(STATUSES, st.ravel()),
            "basis": _take(BASES, basis.ravel()),
        },
    )


class _Conditions(NamedTuple):
    """One entry per (unit, year, model condition) and recorded row of that condition; one not-evaluated entry
    where none was recorded (as a left join of the conditions with the results would give)."""

    u: np.ndarray
    y: np.ndarray
    k: np.ndarray  # position of the condition in its catalogue
    row: np.ndarray  # row of the results; -1 where nothing was recorded
    status: np.ndarray  # 0 met, 1 not met, 2 not evaluated
    items: pd.Series  # the conditions of each year, one per row
    item_at: np.ndarray  # [year position, k] -> row of ``items``


def _condition_entries(rows: _Rows, tables: dict, province: Province, units: list[str], years: list[int]) -> _Conditions | None:
    cond = tables["conditions"]
    if cond.empty:
        return None
    cond = cond.assign(k=cond.groupby("catalog").cumcount())
    per_year = tables["year_catalog"].reset_index(names="yp").merge(cond, on="catalog")
    n_units, n_years, n_k = len(units), len(years), int(cond["k"].max()) + 1
    yp, k = per_year["yp"].to_numpy(), per_year["k"].to_numpy()
    exists = np.zeros((n_years, n_k), dtype=bool)
    exists[yp, k] = True
    item_at = np.full((n_years, n_k), -1)
    item_at[yp, k] = np.arange(len(per_year))
    kind = np.full((n_years, n_k), -1)
    kind[yp, k] = pd.Index(KINDS).get_indexer(per_year["kind"])
    # the recorded rows, matched on (unit, year, item)
    k_of_item = np.full((n_years, len(rows.items) + 1), -1)
    at = pd.Index(rows.items).get_indexer(per_year["code"])
    k_of_item[yp[at >= 0], at[at >= 0]] = k[at >= 0]
    sel = np.flatnonzero((rows.level == LEVELS.index("condition")) & (rows.u >= 0) & (rows.y >= 0))
    rk = k_of_item[rows.y[sel], rows.item[sel]]
    sel, rk = sel[rk >= 0], rk[rk >= 0]
    ru, ry = rows.u[sel], rows.y[sel]
    status = np.zeros(0, dtype="int8")
    if len(sel):  # thresholds (× factor) per year, condition and region: a few dozen lookups
        # the selector of the conditions' catalogue (a catalogue holds at most one conditions set)
        selector = province.threshold_selector(pd.Series(units, dtype=object), per_year["catalog"].iloc[0])
        unit_region, regions = pd.factorize(selector)
        grid = per_year.loc[per_year.index.repeat(len(regions))].reset_index(drop=True)
        grid["region"] = np.tile(np.asarray(regions, dtype=object), len(per_year))
        grid["r"] = np.tile(np.arange(len(regions)), len(per_year))
        found = _lookup_thresholds(
            grid.assign(tier_set=grid["from_set"], code=grid["from_indicator"]), tables["thresholds"], "code", "tier_set"
        )
        threshold = np.full((n_years, n_k, len(regions)), np.nan)
        threshold[grid["yp"], grid["k"], grid["r"]] = found.to_numpy() * grid["factor"].to_numpy(dtype="float64")
        status = _status_codes(rows.met_known[sel], rows.met[sel], kind[ry, rk], rows.value[sel], threshold[ry, rk, unit_region[ru]])
    recorded = np.bincount((ru * n_years + ry) * n_k + rk, minlength=n_units * n_years * n_k).reshape(n_units, n_years, n_k)
    nu, ny, nk = np.nonzero((recorded == 0) & exists)
    return _Conditions(
        u=np.concatenate([ru, nu]),
        y=np.concatenate([ry, ny]),
        k=np.concatenate([rk, nk]),
        row=np.concatenate([sel, np.full(len(nu), -1)]),
        status=np.concatenate([status, np.full(len(nu), 2, dtype="int8")]),
        items=per_year["code"],
        item_at=item_at,
    )


def condition_status(results: pd.DataFrame, province: Province, years: list[int], units: list[str]) -> pd.DataFrame:
    """One row per (unit, year, model condition) for the catalogues that have model conditions."""
    tables = _catalog_tables(province, years)
    c = _condition_entries(_encode(results, units, years), tables, province, units, years)
    if c is None:
        return pd.DataFrame(columns=["unit", "year", "catalog", "item", "status"])
    order = np.lexsort((c.row, c.k, c.y, c.u))
    u, y, k, status = c.u[order], c.y[order], c.k[order], c.status[order]
    return pd.DataFrame(
        {
            "unit": _take(units, u),
            "year": np.asarray(years, dtype="int64")[y],
            "catalog": _take(tables["year_catalog"]["catalog"], y),
            "item": c.items.iloc[c.item_at[y, k]].reset_index(drop=True),  # the catalogue table's own dtype
            "status": _take(STATUSES, status),
        }
    )


def commune_scores(
    results: pd.DataFrame, province: Province, years: list[int] | None = None, units: list[str] | None = None
) -> pd.DataFrame:
    """Per eligible xã and year: the catalogue, for each set the criteria met / not met / not evaluated
    and out of how many, the model conditions, and the assessed tier (none / ntm / advanced / model;
    <NA> when nothing was recorded for that xã and year)."""
    years = sorted(set(years if years is not None else results["year"].unique().tolist()))
    units = list(units) if units is not None else province.registry.xa().index.tolist()
    tables = _catalog_tables(province, years)
    rows = _encode(results, units, years)
    ct = _criterion_table(tables, years)
    st, _ = _criterion_states(results, rows, ct, province, units, years)
    # row i of the answer is unit i // len(years), year i % len(years)
    n_units, n_years = len(units), len(years)
    n_cells = n_units * n_years
    catalog_of = tables["year_catalog"]["catalog"]
    out = {
        "unit": _take(units, np.repeat(np.arange(n_units), n_years)),
        "year": np.tile(np.asarray(years, dtype="int64"), n_units),
        "catalog": _take(catalog_of, np.tile(np.arange(n_years), n_units)),
    }
    # criteria per (unit, year, set, status) in one bincount; criterion rows of other sets go to a last group
    group = np.where(ct["s"] < 2, ct["yp"] * 2 + ct["s"], 2 * n_years)
    key = (np.arange(n_units)[:, None] * (2 * n_years + 1) + group[None, :]) * len(STATUSES) + st
    counts = np.bincount(key.ravel(), minlength=n_units * (2 * n_years + 1) * len(STATUSES))
    counts = counts.reshape(n_units, 2 * n_years + 1, len(STATUSES))[:, :-1].reshape(n_cells, 2, len(STATUSES))
    sets = tables["sets"]
    for s_idx, set_code in enumerate(SET_CODES[:2]):
        prefix = SET_PREFIX[set_code]
        for k, st_name in enumerate(STATUSES):
            out[f"{prefix}_{st_name}"] = counts[:, s_idx, k]
        total = catalog_of.map(sets[sets["tier_set"] == set_code].set_index("catalog")["criteria_count"])
        out[f"{prefix}_total"] = np.tile(total.fillna(0).astype("int64").to_numpy(), n_units)
    cond = _condition_entries(rows, tables, province, units, years)
    for k, st_name in enumerate(STATUSES):
        out[f"model_{st_name}"] = np.zeros(n_cells, dtype="int64")
        if cond is not None:
            out[f"model_{st_name}"] = np.bincount((cond.u * n_years + cond.y)[cond.status == k], minlength=n_cells)
    out["model_total"] = out["model_met"] + out["model_not_met"] + out["model_not_evaluated"]
    has_data = np.zeros((n_units + 1, n_years + 1), dtype=bool)  # a last row and column where position -1 lands
    has_data[rows.u, rows.y] = True
    out["has_data"] = has_data[:-1, :-1].ravel()
    tier = np.full((n_units, n_years), "none", dtype=object)
    for cid in pd.unique(catalog_of):
        js = np.flatnonzero(catalog_of.to_numpy() == cid)
        sets = tables["catalogs"][cid].sets
        complete = {}
        for s in sets:
            met, total = (out[f"{SET_PREFIX[s]}_{c}"].reshape(n_units, n_years)[:, js] for c in ("met", "total"))
            complete[s] = (total > 0) & (met == total)
        tier[:, js] = highest_tier(sets, reached_sets(sets, complete))
    out["tier"] = pd.Series(tier.ravel()).where(out["has_data"], pd.NA).astype("string")
    return pd.DataFrame(out, copy=False)


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


def recognised_tiers(recognitions: pd.DataFrame, year: int, units: list[str] | None = None, period: str | None = None) -> pd.DataFrame:
    """The recognised (officially decided) tier of each unit at the end of ``year``: decisions dated on or before
    31 December, in date order; a recognition makes a tier active, a revocation ends that tier and every tier
    above it (a xã that is no longer NTM cannot stay advanced). Columns: unit, recognised_tier,
    decision_number, decision_date (of the decision that made the highest active tier).

    Only decisions about the units of ``period`` count (default: the units of ``year``, units.period_of_year): a
    decision dated before 1 July 2025 is about a unit of the old units, one dated from that day about a new unit —
    GSO reused codes, so 22303's recognition of 2016 (Xã Hòa Quang Bắc) is never Xã Phú Hòa 2's."""
    cols = ["unit", "recognised_tier", "decision_number", "decision_date"]
    if recognitions.empty:
        return pd.DataFrame(columns=cols)
    dates = pd.to_datetime(recognitions["decision_date"])
    new_units = (period or period_of_year(year)) == "moi"
    r = recognitions[(dates <= pd.Timestamp(date(year, 12, 31))) & ((dates >= pd.Timestamp(REFORM_DATE)) == new_units)]
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
