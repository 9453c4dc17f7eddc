"""Administrative units in time: the two periods of units, the registry of one province of either period
(province, district-level and commune-level units keyed by GSO code) with its hierarchy, and the number of
NTM-eligible xã per year.

Two periods, and the one rule that places a year or a date in them:

- ``cu``: the units valid until 30 June 2025 — 63 provinces, each with district-level units;
- ``moi``: the units from 1 July 2025 — 34 provinces, no district level (communes belong to the province).

A reporting year up to 2025 belongs to ``cu`` (results for 2025 and earlier were assessed on the old units),
from 2026 to ``moi``; a dated decision or change belongs to ``cu`` before 2025-07-01 and to ``moi`` from that
day. GSO reused codes with new meanings (22303 is Xã Hòa Quang Bắc in ``cu`` and Xã Phú Hòa 2 in ``moi``),
so a unit's key is its code together with its period.

The registries are read from ``geodata/units_cu.csv`` and ``geodata/units_moi.csv`` (built by
``geodata/build_units.py`` from the package vietnamadminunits) and the eligible counts from
``geodata/eligible_xa.csv``; see geodata/README.md. Only ``xa`` units are NTM-eligible: phường, thị trấn
and đặc khu (the island units of the new set) are shown but never counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path

import pandas as pd

from .errors import InvalidParameter, UnknownUnit, clip
from .text import fold, nfc

GEODATA = Path(__file__).resolve().parent.parent / "geodata"
REGISTRY_CSV = {"cu": GEODATA / "units_cu.csv", "moi": GEODATA / "units_moi.csv"}
ELIGIBLE_CSV = GEODATA / "eligible_xa.csv"
OPEN_END = "9999-12-31"  # valid_to of an eligible count still in force (ISO dates compare as text)


@dataclass(frozen=True)
class Period:
    code: str
    valid_from: date | None  # None: open (the package gives the units as they stood, not when each began)
    valid_to: date | None  # None: still valid
    label_vi: str


PERIODS = {
    "cu": Period("cu", None, date(2025, 6, 30), "đơn vị hành chính trước 1/7/2025 (63 tỉnh, có cấp huyện)"),
    "moi": Period("moi", date(2025, 7, 1), None, "đơn vị hành chính từ 1/7/2025 (34 tỉnh, không còn cấp huyện)"),
}
REFORM_DATE = PERIODS["moi"].valid_from


def period_of_year(year: int) -> str:
    """The period of a reporting year: ``cu`` up to 2025 (assessed on the old units), ``moi`` from 2026."""
    return "cu" if int(year) <= PERIODS["cu"].valid_to.year else "moi"


def period_of_date(day: date | datetime | str) -> str:
    """The period of a dated decision or change: ``cu`` before 1 July 2025, ``moi`` from that day."""
    if isinstance(day, datetime):
        day = day.date()
    elif isinstance(day, str):
        try:
            day = date.fromisoformat(day.strip()[:10])
        except ValueError:
            raise InvalidParameter(f"Ngày {day!r} không hợp lệ; cần dạng NĂM-THÁNG-NGÀY, ví dụ 2025-07-01.") from None
    return "cu" if day < REFORM_DATE else "moi"


def check_period(period: str) -> str:
    if period not in PERIODS:
        allowed = "; ".join(f"{p.code} ({p.label_vi})" for p in PERIODS.values())
        raise InvalidParameter(f"Giai đoạn {clip(repr(period))} không có; chỉ nhận: {allowed}.")
    return period


#: commune-level unit types; only ``xa`` is NTM-eligible
COMMUNE_TYPES = {"xa": "Xã", "phuong": "Phường", "thi_tran": "Thị trấn", "dac_khu": "Đặc khu"}
DISTRICT_TYPES = {"huyen": "Huyện", "thi_xa": "Thị xã", "thanh_pho": "Thành phố", "quan": "Quận"}
PROVINCE_TYPES = {"tinh": "Tỉnh", "thanh_pho": "Thành phố"}
ELIGIBLE_TYPE = "xa"


@dataclass(frozen=True, eq=False)  # identity: holds DataFrames, used as a cache key
class Registry:
    """The units of one province in one period. ``units`` has one row per unit, indexed by code, with the
    columns name, name_short, unit_type, level (province / district / commune), parent_code, province_code,
    lat, lon, period, valid_from, valid_to, and district_code (for communes: their district, None in the
    ``moi`` period, which has no district level; for districts: themselves; "" for the province)."""

    units: pd.DataFrame
    eligible: pd.DataFrame  # code, valid_from, valid_to, xa, confidence, source
    period: str = "cu"

    @property
    def province_code(self) -> str:
        return str(self.units.index[self.units["level"] == "province"][0])

    @property
    def province_name(self) -> str:
        return str(self.units.at[self.province_code, "name"])

    def communes(self) -> pd.DataFrame:
        return self.units[self.units["level"] == "commune"]

    def xa(self) -> pd.DataFrame:
        """The NTM-eligible communes (xã); phường, thị trấn and đặc khu are never counted."""
        c = self.communes()
        return c[c["unit_type"] == ELIGIBLE_TYPE]

    def districts(self) -> pd.DataFrame:
        """The district-level units; empty in the ``moi`` period."""
        return self.units[self.units["level"] == "district"]

    def unit(self, code: str) -> pd.Series:
        try:
            return self.units.loc[code]
        except KeyError:
            example = next(iter(self.xa().index), None) or next(iter(self.communes().index), "")
            raise UnknownUnit(
                f"Không có đơn vị mã {code!r} trong danh mục {self.province_name}, {PERIODS[self.period].label_vi} "
                f"({len(self.units)} đơn vị; mã xã gồm 5 chữ số, ví dụ {example})."
            ) from None

    def find_commune(self, name: str, district_code: str | None = None) -> pd.DataFrame:
        """Communes whose name (with or without its type word) matches ``name`` folded for case and
        diacritics, optionally within one district."""
        key = fold(name)
        c = self.communes()
        if district_code is not None:
            c = c[c["district_code"] == district_code]
        hit = (c["name"].map(fold) == key) | (c["name_short"].map(fold) == key)
        return c[hit]

    def official_xa_count(self, year: int, code: str | None = None) -> int | None:
        """The official number of eligible xã of the province (or of one district-level unit) at the end of
        ``year`` (the reporting date), from the eligible table; None where it is not known."""
        code = code or self.province_code
        e = self.eligible[self.eligible["code"] == code]
        if e.empty:
            return None
        day = date(year, 12, 31).isoformat()
        hit = e[(e["valid_from"] <= day) & (e["valid_to"] >= day)]
        if hit.empty:
            day = min(day, e["valid_to"].max())  # after the last known date: the last known state
            hit = e[(e["valid_from"] <= day) & (e["valid_to"] >= day)]
        return int(hit["xa"].iloc[0]) if not hit.empty else None


@lru_cache(maxsize=2)
def registry_table(period: str) -> pd.DataFrame:
    """Every unit of every province in one period (read-only: shared by all callers)."""
    df = pd.read_csv(REGISTRY_CSV[check_period(period)], dtype=str, keep_default_na=False, encoding="utf-8")
    for col in ("name", "name_short"):
        df[col] = df[col].map(nfc)
    df["lat"] = pd.to_numeric(df["lat"])
    df["lon"] = pd.to_numeric(df["lon"])
    return df


def province_codes(period: str) -> list[str]:
    t = registry_table(period)
    return list(t.loc[t["level"] == "province", "code"])


@lru_cache(maxsize=1)
def _eligible() -> pd.DataFrame:
    eligible = pd.read_csv(ELIGIBLE_CSV, dtype=str, keep_default_na=False, encoding="utf-8")
    eligible["xa"] = pd.to_numeric(eligible["xa"])
    eligible["valid_to"] = eligible["valid_to"].replace("", OPEN_END)  # empty: still valid
    return eligible


def load_registry(province_code: str = "54", period: str = "cu") -> Registry:
    """The registry of one province in one period. The default is Phú Yên (54) before 1 July 2025."""
    return _load_registry(str(province_code).strip().zfill(2), check_period(period))


@lru_cache(maxsize=128)  # every province of both periods (97) fits: the national view loads all 34 of ``moi``
def _load_registry(province_code: str, period: str) -> Registry:
    table = registry_table(period)
    units = table[table["province_code"] == province_code].copy()
    if units.empty:
        raise UnknownUnit(
            f"Không có tỉnh mã {province_code!r} trong danh mục {PERIODS[period].label_vi}; có: {', '.join(province_codes(period))}."
        )
    units = units.set_index("code", drop=False)
    units.index.name = None
    level = units["level"]
    district = units["parent_code"].where(units["parent_code"].isin(units.index[level == "district"]), None)
    units["district_code"] = district.where(level == "commune", units["code"])
    units.loc[level == "province", "district_code"] = ""
    # the eligible counts of this province's units, dated within the period
    p = PERIODS[period]
    e = _eligible()
    e = e[e["code"].isin(units.index)]
    if p.valid_from:
        e = e[e["valid_to"] >= p.valid_from.isoformat()]
    if p.valid_to:
        e = e[e["valid_from"] <= p.valid_to.isoformat()]
    return Registry(units=units, eligible=e.reset_index(drop=True), period=period)
