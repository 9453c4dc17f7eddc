"""The crosswalk between the two periods of units (see units.py): for every new unit (``moi``) its former units
(``cu``), with the share of each former unit's area that went into the new unit.

Two sources, compared where both exist:

- the 2025 converter table of the package vietnamadminunits, committed as ``geodata/crosswalk_2025.csv``
  (built by ``geodata/build_units.py``): which new unit each former unit went into, by name. A former unit
  that went whole into one new unit gives a share of 1; a former unit divided among several new units gives
  no share — the table knows only names, so the share stays unknown (None) and says so;
- an overlay of boundaries of both periods (:func:`overlay`): intersection areas in an equal-area projection.
  Pieces below a tolerance (1 % of the former unit's area, or 0.01 km²) are boundary noise, not membership.

:func:`compare` lists the pairs one source has and the other lacks; :func:`crosswalk` joins both for one new
province: the table decides which pairs exist, the overlay gives the shares of divided units where it agrees.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import shapely

from .errors import InvalidParameter
from .units import GEODATA, load_registry, registry_table

if TYPE_CHECKING:
    import geopandas as gpd

CROSSWALK_CSV = GEODATA / "crosswalk_2025.csv"
#: Albers equal-area over Viet Nam (standard parallels 10° and 22° N): areas, hence shares, are exact
EQUAL_AREA_CRS = "+proj=aea +lat_1=10 +lat_2=22 +lat_0=16 +lon_0=106 +datum=WGS84 +units=m +no_defs"
MIN_SHARE = 0.01  # a piece below 1 % of the former unit's area is boundary noise …
MIN_AREA_KM2 = 0.01  # … and so is a piece below 0.01 km² (1 ha)
COLUMNS = ["ma_moi", "ten_moi", "ma_cu", "ten_cu", "ty_le_dien_tich"]
SHARE_SOURCES_VI = {
    "ca_don_vi": "cả đơn vị cũ nhập vào đơn vị mới (bảng chuyển đổi 2025): tỷ lệ 1",
    "ranh_gioi": "tỷ lệ diện tích tính từ chồng lớp ranh giới hai giai đoạn",
    "chua_ro": "đơn vị cũ bị chia cho nhiều đơn vị mới; bảng chuyển đổi chỉ ghi theo tên nên chưa rõ tỷ lệ diện tích",
}


@lru_cache(maxsize=1)
def table() -> pd.DataFrame:
    """Every (new unit, former unit) pair of the 2025 converter table: ma_moi, ma_cu, tinh_moi, tinh_cu,
    chia_tach (True where the former unit was divided among several new units). Read-only: shared."""
    df = pd.read_csv(CROSSWALK_CSV, dtype=str, keep_default_na=False, encoding="utf-8")
    df["chia_tach"] = df["chia_tach"] == "1"
    return df


def table_pairs(province_code: str) -> pd.DataFrame:
    """The converter table's pairs of the new units of one province (``moi``), with a share of 1 for
    former units that went whole into one new unit and None (unknown) for divided ones."""
    reg = load_registry(province_code, "moi")  # UnknownUnit names the provinces when the code is not one
    t = table()
    t = t[t["tinh_moi"] == reg.province_code].copy()
    t["ty_le_dien_tich"] = np.where(t["chia_tach"], np.nan, 1.0)
    t["nguon_ty_le"] = np.where(t["chia_tach"], "chua_ro", "ca_don_vi")
    return t.reset_index(drop=True)


def _prepare(layer: gpd.GeoDataFrame, code: str, which: str) -> gpd.GeoSeries:
    """One (valid, equal-area) geometry per code; several features of one code are merged."""
    import geopandas as gpd  # only when boundaries are overlaid: the table alone needs no GIS stack

    if code not in layer.columns:
        cols = ", ".join(c for c in layer.columns if c != layer.geometry.name)
        raise InvalidParameter(f"Lớp ranh giới {which} không có cột mã {code!r}; các cột: {cols}")
    if layer.crs is None:
        raise InvalidParameter(f"Lớp ranh giới {which} không ghi hệ tọa độ; cần hệ tọa độ để tính diện tích (ví dụ EPSG:4326).")
    codes = layer[code]
    codes = codes.map(lambda v: f"{int(v):05d}" if isinstance(v, (int, np.integer)) else str(v).strip())
    geoms = gpd.GeoSeries(shapely.make_valid(layer.geometry.to_crs(EQUAL_AREA_CRS).values), crs=EQUAL_AREA_CRS)
    merged = gpd.GeoDataFrame({"code": codes.to_numpy()}, geometry=geoms.values, crs=EQUAL_AREA_CRS).dissolve(by="code")
    return merged.geometry


def overlay(
    old: gpd.GeoDataFrame,
    new: gpd.GeoDataFrame,
    old_code: str = "gso_code",
    new_code: str = "gso_code",
    *,
    min_share: float = MIN_SHARE,
    min_area_km2: float = MIN_AREA_KM2,
) -> pd.DataFrame:
    """Overlay former units (``old``) and new units (``new``), each a layer with a code column, in any CRS.
    One row per intersecting pair: ma_cu, ma_moi, dien_tich_km2 (the common area), ty_le (that area over the
    former unit's area) and vun (True for a sliver: below ``min_share`` of the former unit's area or below
    ``min_area_km2``, and not the larger part of it — boundary noise, not membership). Areas are taken in an
    Albers equal-area projection."""
    o, n = _prepare(old, old_code, "cũ"), _prepare(new, new_code, "mới")
    i_old, i_new = n.sindex.query(o.values, predicate="intersects")
    common = shapely.area(shapely.intersection(o.values[i_old], n.values[i_new])) / 1e6
    out = pd.DataFrame({"ma_cu": o.index[i_old], "ma_moi": n.index[i_new], "dien_tich_km2": common})
    out = out[out["dien_tich_km2"] > 0]
    out["ty_le"] = out["dien_tich_km2"] / out["ma_cu"].map(pd.Series(shapely.area(o.values) / 1e6, index=o.index))
    # a piece holding most of a (tiny) former unit is never noise
    out["vun"] = ((out["ty_le"] < min_share) | (out["dien_tich_km2"] < min_area_km2)) & (out["ty_le"] < 0.5)
    return out.sort_values(["ma_cu", "ma_moi"]).reset_index(drop=True)


def compare(table_pairs: pd.DataFrame, overlay_pairs: pd.DataFrame) -> pd.DataFrame:
    """The pairs (ma_cu, ma_moi) that one source has and the other lacks, slivers of the overlay left out:
    nguon "chi_bang" (only the converter table) or "chi_ranh_gioi" (only the overlay), with the overlay's
    share (ty_le: 0 when the overlay has no piece, small when it has only a sliver). Pass both restricted to
    the units that both sources cover."""
    t = table_pairs[["ma_cu", "ma_moi"]].drop_duplicates()
    ov = overlay_pairs[~overlay_pairs["vun"]][["ma_cu", "ma_moi"]]
    both = t.merge(ov, how="outer", on=["ma_cu", "ma_moi"], indicator=True)
    out = both[both["_merge"] != "both"].copy()
    out["nguon"] = np.where(out["_merge"] == "left_only", "chi_bang", "chi_ranh_gioi")
    share = overlay_pairs.set_index(["ma_cu", "ma_moi"])["ty_le"]
    out["ty_le"] = [float(share.get((c, m), 0.0)) for c, m in zip(out["ma_cu"], out["ma_moi"])]
    return out.drop(columns="_merge").sort_values(["ma_cu", "ma_moi"]).reset_index(drop=True)


@dataclass(frozen=True)
class Crosswalk:
    """``rows``: one row per (new unit, former unit) pair, sorted by ma_moi then ma_cu, with the columns of
    COLUMNS plus tinh_cu (the former province), chia_tach and nguon_ty_le (a key of SHARE_SOURCES_VI).
    ``disagreements``: the output of :func:`compare` (empty without boundaries)."""

    province_code: str
    rows: pd.DataFrame
    disagreements: pd.DataFrame

    def unknown(self) -> pd.DataFrame:
        return self.rows[self.rows["ty_le_dien_tich"].isna()]

    def to_csv(self) -> str:
        """The crosswalk as CSV: ma_moi,ten_moi,ma_cu,ten_cu,ty_le_dien_tich (empty when unknown)."""
        return self.rows[COLUMNS].to_csv(index=False, lineterminator="\n", float_format="%.4f")


def crosswalk(
    province_code: str,
    old_layer: gpd.GeoDataFrame | None = None,
    new_layer: gpd.GeoDataFrame | None = None,
    old_code: str = "gso_code",
    new_code: str = "gso_code",
) -> Crosswalk:
    """The crosswalk of one new province (``moi`` code): its new units and their former units. With boundary
    layers of both periods, a divided former unit takes its shares from the overlay — each piece over the sum
    of its pieces in its new units — when the overlay finds exactly the table's new units for it; otherwise its
    shares stay unknown and the disagreement is listed."""
    if (old_layer is None) != (new_layer is None):
        raise InvalidParameter("Cần ranh giới của cả hai giai đoạn (cũ và mới) để tính tỷ lệ diện tích, hoặc không dùng tệp nào.")
    rows = table_pairs(province_code)
    disagreements = pd.DataFrame(columns=["ma_cu", "ma_moi", "nguon", "ty_le"])
    if old_layer is not None:
        ov = overlay(old_layer, new_layer, old_code, new_code)
        # the table's pairs whose two units both layers hold; the overlay's pieces of this province's new units
        covered = rows["ma_cu"].isin(ov["ma_cu"]) & rows["ma_moi"].isin(ov["ma_moi"])
        disagreements = compare(rows[covered], ov[ov["ma_moi"].isin(rows["ma_moi"])])
        pieces = rows[["ma_cu", "ma_moi"]].merge(ov, how="left", on=["ma_cu", "ma_moi"])
        share = pieces["dien_tich_km2"] / pieces.groupby("ma_cu")["dien_tich_km2"].transform("sum")
        doubtful = set(disagreements["ma_cu"]) | set(rows.loc[~covered, "ma_cu"])
        use = rows["chia_tach"] & ~rows["ma_cu"].isin(doubtful)
        rows.loc[use, "ty_le_dien_tich"] = share[use].to_numpy()
        rows.loc[use, "nguon_ty_le"] = "ranh_gioi"
    new_names = registry_table("moi").set_index("code")["name"]
    old_names = registry_table("cu").set_index("code")["name"]
    rows["ten_moi"] = rows["ma_moi"].map(new_names)
    rows["ten_cu"] = rows["ma_cu"].map(old_names)
    rows = rows.sort_values(["ma_moi", "ma_cu"]).reset_index(drop=True)
    rows = rows[[*COLUMNS, "tinh_cu", "chia_tach", "nguon_ty_le"]]
    return Crosswalk(province_code=load_registry(province_code, "moi").province_code, rows=rows, disagreements=disagreements)
