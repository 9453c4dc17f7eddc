"""The standard tables officials use, from the assessed tiers of the store's results.

* ``standard_report``: per district-level unit and for the province — eligible xã, NTM, advanced, model
  (cumulative, as officials count: NTM counts every xã at ntm or above), the average number of criteria of
  the NTM set met per xã, and the number of xã with 19, 15–18, 10–14, 5–9 and under 5 criteria;
* ``criterion_report``: per criterion, how many xã meet it, do not, or are not evaluated.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .criteria import Catalog
from .province import Province
from .scoring import MET, NOT_EVALUATED, NOT_MET, TIER_RANK, commune_scores, criterion_status
from .validation import met_code

#: the report's configuration: lower bounds of the bands of criteria met below the full set (the national
#: reports count xã with all criteria, 15 and more, 10 and more, 5 and more, and under 5); the top band is the
#: catalogue's own number of criteria, so a 10-criterion set gives the bands 10, 5–9, under 5
BAND_FLOORS = (15, 10, 5)
HEAD_COLUMNS = ["ma_don_vi", "ten_don_vi", "so_xa", "dat_ntm", "nang_cao", "kieu_mau", "binh_quan_tieu_chi"]


def report_bands(criteria_count: int) -> list[tuple[str, int, int]]:
    """(column, lowest, highest) criteria met for each band of a set of ``criteria_count`` criteria."""
    bands = [(f"xa_{criteria_count}", criteria_count, criteria_count)]
    top = criteria_count - 1
    for floor in (f for f in BAND_FLOORS if f < criteria_count):
        bands.append((f"xa_{floor}_{top}" if top > floor else f"xa_{floor}", floor, top))
        top = floor - 1
    bands.append((f"xa_duoi_{top + 1}", 0, top))
    return bands


def report_columns(criteria_count: int) -> list[str]:
    return HEAD_COLUMNS + [col for col, _, _ in report_bands(criteria_count)]


@dataclass(frozen=True)
class StandardReport:
    year: int
    catalog: str
    criteria_count: int
    table: pd.DataFrame  # report_columns(criteria_count), one row per district-level unit, the province last
    xa_with_data: int
    xa_in_registry: int
    official_xa: int | None  # the official number of eligible xã that year, when known
    sample: bool


def summarise_row(scores: pd.DataFrame, sets: dict, bands: list[tuple[str, int, int]]) -> dict[str, float | int | None]:
    """One row of the report. A tier whose set the year's catalogue does not hold is not evaluated (None),
    not zero."""
    rank = scores["tier"].map(TIER_RANK)
    with_data = scores[scores["has_data"]]
    row: dict[str, float | int | None] = {
        "so_xa": len(scores),
        "dat_ntm": int((rank >= TIER_RANK["ntm"]).sum()),
        "nang_cao": int((rank >= TIER_RANK["advanced"]).sum()) if "nang_cao" in sets else None,
        "kieu_mau": int((rank >= TIER_RANK["model"]).sum()) if "kieu_mau" in sets else None,
        "binh_quan_tieu_chi": round(float(with_data["ntm_met"].mean()), 2) if len(with_data) else float("nan"),
    }
    for col, lo, hi in bands:
        row[col] = int(with_data["ntm_met"].between(lo, hi).sum())
    return row


def standard_report(results: pd.DataFrame, province: Province, year: int, sample: bool = False) -> StandardReport:
    """The standard table for ``year`` from the current results (already read from the store)."""
    catalog = province.catalogs.for_year(year)
    reg = province.registry
    scores = commune_scores(results[results["year"] == year], province, years=[year])
    scores["district"] = scores["unit"].map(reg.units["district_code"])
    bands = report_bands(catalog.criteria_count("ntm"))
    rows = []
    for code, d in reg.districts().iterrows():
        rows.append({"ma_don_vi": code, "ten_don_vi": d["name"], **summarise_row(scores[scores["district"] == code], catalog.sets, bands)})
    rows.append({"ma_don_vi": reg.province_code, "ten_don_vi": reg.province_name, **summarise_row(scores, catalog.sets, bands)})
    table = pd.DataFrame(rows, columns=report_columns(catalog.criteria_count("ntm")))
    for col in ("nang_cao", "kieu_mau"):
        table[col] = table[col].astype("Int64")  # <NA> where the catalogue has no such set
    return StandardReport(
        year=year,
        catalog=catalog.id,
        criteria_count=catalog.criteria_count("ntm"),
        table=table,
        xa_with_data=int(scores["has_data"].sum()),
        xa_in_registry=len(scores),
        official_xa=reg.official_xa_count(year),
        sample=sample,
    )


def criterion_report(results: pd.DataFrame, province: Province, year: int, tier_set: str = "ntm") -> pd.DataFrame:
    """Per criterion of a set: xã that meet it, do not, and are not evaluated (among the xã with data; results
    recorded for district-level units belong to ``district_criterion_report``)."""
    catalog = province.catalogs.for_year(year)
    yr = results[results["year"] == year]
    with_data = sorted(set(yr["unit"]) & set(province.registry.xa().index))
    crit = criterion_status(yr, province, years=[year], units=with_data)
    crit = crit[crit["tier_set"] == tier_set]
    counts = crit.pivot_table(index="criterion", columns="status", aggfunc="size", fill_value=0)
    for st in (MET, NOT_MET, NOT_EVALUATED):
        if st not in counts:
            counts[st] = 0
    names = catalog.criterion_names(tier_set)
    out = pd.DataFrame({"tieu_chi": list(names), "ten_tieu_chi": list(names.values())})
    out = out.merge(counts.reset_index().rename(columns={"criterion": "tieu_chi"}), on="tieu_chi", how="left").fillna(0)
    out = out.rename(columns={MET: "so_xa_dat", NOT_MET: "so_xa_chua_dat", NOT_EVALUATED: "so_xa_chua_danh_gia"})
    cols = ["tieu_chi", "ten_tieu_chi", "so_xa_dat", "so_xa_chua_dat", "so_xa_chua_danh_gia"]
    out[cols[2:]] = out[cols[2:]].astype("int64")
    return out[cols]


def district_items(results: pd.DataFrame, catalog: Catalog, unit: str, district_set: str, year: int) -> pd.DataFrame:
    """Every criterion and condition of a district set (``kind``: criterion / condition) with its state for one
    district-level unit and year: ``dat``, ``khong_dat``, or ``chua_danh_gia`` when nothing was recorded."""
    items = catalog.district_criteria[catalog.district_criteria["set"] == district_set]
    rec = results[(results["unit"] == unit) & (results["tier_set"] == district_set) & (results["year"] == year)]
    recorded = dict(zip(rec["item"], rec["met"]))
    state = ["chua_danh_gia" if pd.isna(recorded.get(c, pd.NA)) else met_code(recorded[c]) for c in items["criterion"]]
    return items[["criterion", "name_vi", "kind"]].assign(state=state).reset_index(drop=True)


def district_criterion_report(results: pd.DataFrame, province: Province, year: int) -> pd.DataFrame:
    """The district-level results of a year, their own table: one row per district-level unit, district set
    and criterion (or condition) of the year's catalogue that applies to its kind of unit, with its state."""
    catalog = province.catalogs.for_year(year)
    cols = ["ma_don_vi", "ten_don_vi", "bo_tieu_chi", "tieu_chi", "ten_tieu_chi", "trang_thai"]
    parts = [
        district_items(results, catalog, code, dset, year).assign(ma_don_vi=code, ten_don_vi=d["name"], bo_tieu_chi=dset)
        for code, d in province.registry.districts().iterrows()
        for dset, spec in catalog.district_sets.items()
        if not spec["applies_to"] or d["unit_type"] in spec["applies_to"]
    ]
    if not parts:
        return pd.DataFrame(columns=cols)
    table = pd.concat(parts, ignore_index=True).rename(columns={"criterion": "tieu_chi", "name_vi": "ten_tieu_chi", "state": "trang_thai"})
    return table[cols]
