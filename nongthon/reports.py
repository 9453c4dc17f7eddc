"""The standard tables officials use, from the assessed tiers of the store's results.

* ``standard_report``: per district-level unit and for the province — eligible xã, NTM, advanced, model
  (cumulative, as officials count: NTM counts every xã at ntm or above), the average number of criteria of
  the NTM set met per xã, and the number of xã with 19, 15–18, 10–14, 5–9 and under 5 criteria;
* ``criterion_report``: per criterion, how many xã meet it, do not, or are not evaluated.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .province import Province
from .scoring import MET, NOT_EVALUATED, NOT_MET, TIER_RANK, commune_scores, criterion_status

REPORT_COLUMNS = [
    "ma_don_vi",
    "ten_don_vi",
    "so_xa",
    "dat_ntm",
    "nang_cao",
    "kieu_mau",
    "binh_quan_tieu_chi",
    "xa_19",
    "xa_15_18",
    "xa_10_14",
    "xa_5_9",
    "xa_duoi_5",
]
#: band edges (inclusive lower bounds) of criteria met; provinces choose them, these are the usual ones
BANDS = [("xa_19", 19, 99), ("xa_15_18", 15, 18), ("xa_10_14", 10, 14), ("xa_5_9", 5, 9), ("xa_duoi_5", 0, 4)]


@dataclass(frozen=True)
class StandardReport:
    year: int
    catalog: str
    criteria_count: int
    table: pd.DataFrame  # REPORT_COLUMNS, one row per district-level unit, the province last
    xa_with_data: int
    xa_in_registry: int
    official_xa: int | None  # the official number of eligible xã that year, when known
    sample: bool


def _summarise(scores: pd.DataFrame, sets: dict) -> dict[str, float | int | None]:
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
    for col, lo, hi in BANDS:
        row[col] = int(with_data["ntm_met"].between(lo, hi).sum())
    return row


def standard_report(results: pd.DataFrame, province: Province, year: int, sample: bool = False) -> StandardReport:
    """The standard table for ``year`` from the current results (already read from the store)."""
    catalog = province.catalogs.for_year(year)
    reg = province.registry
    scores = commune_scores(results[results["year"] == year], province, years=[year])
    scores["district"] = scores["unit"].map(reg.units["district_code"])
    rows = []
    for code, d in reg.districts().iterrows():
        rows.append({"ma_don_vi": code, "ten_don_vi": d["name"], **_summarise(scores[scores["district"] == code], catalog.sets)})
    rows.append({"ma_don_vi": reg.province_code, "ten_don_vi": reg.province_name, **_summarise(scores, catalog.sets)})
    table = pd.DataFrame(rows, columns=REPORT_COLUMNS)
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
    """Per criterion of a set: xã that meet it, do not, and are not evaluated (among the xã with data)."""
    catalog = province.catalogs.for_year(year)
    yr = results[results["year"] == year]
    with_data = sorted(yr["unit"].unique())
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
