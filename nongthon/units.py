"""Administrative units: the registry of one province (province, district-level, commune-level units keyed
by GSO code), their hierarchy, and the number of NTM-eligible xã per period.

The registry is read from ``geodata/units.csv`` (built by ``geodata/build_units.py`` from the package
vietnamadminunits) and the eligible counts from ``geodata/eligible_xa.csv``; see geodata/README.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

import pandas as pd

from .errors import UnknownUnit
from .text import fold, nfc

GEODATA = Path(__file__).resolve().parent.parent / "geodata"
UNITS_CSV = GEODATA / "units.csv"
ELIGIBLE_CSV = GEODATA / "eligible_xa.csv"

#: commune-level unit types; only ``xa`` is NTM-eligible
COMMUNE_TYPES = {"xa": "Xã", "phuong": "Phường", "thi_tran": "Thị trấn"}
DISTRICT_TYPES = {"huyen": "Huyện", "thi_xa": "Thị xã", "thanh_pho": "Thành phố"}
ELIGIBLE_TYPE = "xa"


@dataclass(frozen=True, eq=False)  # identity: holds DataFrames, used as a cache key
class Registry:
    """The units of one province. ``units`` has one row per unit, indexed by code, with the columns
    name, name_short, unit_type, level (province / district / commune), parent_code, lat, lon, and
    district_code (for communes: their district; for districts: themselves)."""

    units: pd.DataFrame
    eligible: pd.DataFrame  # code, valid_from, valid_to, xa, confidence, source

    @property
    def province_code(self) -> str:
        return str(self.units.index[self.units["level"] == "province"][0])

    @property
    def province_name(self) -> str:
        return str(self.units.at[self.province_code, "name"])

    def communes(self) -> pd.DataFrame:
        return self.units[self.units["level"] == "commune"]

    def xa(self) -> pd.DataFrame:
        """The NTM-eligible communes (xã); phường and thị trấn are never counted."""
        c = self.communes()
        return c[c["unit_type"] == ELIGIBLE_TYPE]

    def districts(self) -> pd.DataFrame:
        return self.units[self.units["level"] == "district"]

    def unit(self, code: str) -> pd.Series:
        try:
            return self.units.loc[code]
        except KeyError:
            raise UnknownUnit(
                f"Không có đơn vị mã {code!r} trong danh mục {self.province_name} "
                f"({len(self.units)} đơn vị; mã xã gồm 5 chữ số, ví dụ {self.xa().index[0]})."
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
        day = date(year, 12, 31).isoformat()
        e = self.eligible
        hit = e[(e["code"] == code) & (e["valid_from"] <= day) & (e["valid_to"] >= day)]
        if hit.empty:
            day = min(day, e["valid_to"].max())  # after the reform: the last known state
            hit = e[(e["code"] == code) & (e["valid_from"] <= day) & (e["valid_to"] >= day)]
        return int(hit["xa"].iloc[0]) if not hit.empty else None


def _read_units(path: Path) -> pd.DataFrame:
    df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    for col in ("name", "name_short"):
        df[col] = df[col].map(nfc)
    df["lat"] = pd.to_numeric(df["lat"])
    df["lon"] = pd.to_numeric(df["lon"])
    df = df.set_index("code", drop=False)
    df.index.name = None
    df["district_code"] = df["parent_code"].where(df["level"] == "commune", df["code"])
    df.loc[df["level"] == "province", "district_code"] = ""
    return df


@lru_cache(maxsize=4)
def load_registry(units_csv: Path = UNITS_CSV, eligible_csv: Path = ELIGIBLE_CSV) -> Registry:
    units = _read_units(units_csv)
    eligible = pd.read_csv(eligible_csv, dtype=str, keep_default_na=False, encoding="utf-8")
    eligible["xa"] = pd.to_numeric(eligible["xa"])
    return Registry(units=units, eligible=eligible)
