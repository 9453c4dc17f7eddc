"""History in today's units: a year before 2026 seen in the new units (``moi``, from 1 July 2025).

A new xã did not exist before 1 July 2025; its former units (``cu``) did, and their results are what the store
holds for those years. So a new xã gets a DERIVED STATE from its former xã in that year — never a tier:

- ``moi_xa_cu_dat``: every former xã assessed NTM (the 2023–2025 merger rounds recognised such a xã without a new
  appraisal, on a decision of the province — Văn bản 5424/BNN-VPĐP, 2023 — when every former xã was recognised);
- ``mot_phan``: some of them (which ones, and the share of the new xã's area they make up when it is known);
- ``chua``: none of them;
- ``chua_co_so_lieu``: a former xã has no result that year (or its former province has no profile to score it)
  — never counted as not NTM.

Former phường and thị trấn are not NTM-eligible: they are listed, never counted. A former xã's state is its
assessed tier (scored with its own province's profile, as the reports count "đạt NTM"); its recognised tier at the
end of the year is shown beside it. Separately, the decision actually taken for the new xã: the recognitions stored
for its code dated from 1 July 2025 (codes were reused: a decision before that day is about the former unit of the
same code), as they stand today — a new decision, or none.

The share of the new xã's area made up by its NTM former xã is Σ area(former) × share(former → new) over the NTM
ones, over the same sum over all its former units: it needs every former unit's area (from imported boundaries of
the old units) and every share (the crosswalk; a divided unit's share is known only from an overlay). It is exact
without areas when every former unit is a NTM xã (1) or none is (0); otherwise, without them, it is unknown
(None, "chưa rõ").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

import numpy as np
import pandas as pd

from .criteria import TIER_CODES, TIER_WORDS
from .crosswalk import table, table_pairs
from .errors import CatalogError, InvalidParameter, clip
from .province import Province, load_province
from .sample import SAMPLE_LABEL_VI
from .scoring import TIER_RANK, commune_scores, recognised_tiers
from .units import ELIGIBLE_TYPE, PERIODS, REFORM_DATE, Registry, load_registry, period_of_year, registry_table

DERIVED_NOTE_VI = "suy ra từ các xã cũ — không phải hạng được công nhận"
STATES_VI = {
    "moi_xa_cu_dat": "mọi xã cũ đã đạt chuẩn NTM",
    "mot_phan": "một phần",
    "chua": "chưa",
    "chua_co_so_lieu": "chưa có số liệu",
    "khong_co_xa_cu": "không có xã cũ",
}
STATE_NOTES_VI = {
    "moi_xa_cu_dat": "theo tiền lệ các đợt sáp nhập 2023–2025, xã mới có mọi xã cũ đã được công nhận có thể được tỉnh công nhận "
    "mà không thẩm định lại; vẫn cần quyết định công nhận xã mới",
    "mot_phan": "chỉ một phần các xã cũ đạt chuẩn NTM",
    "chua": "không xã cũ nào đạt chuẩn NTM",
    "chua_co_so_lieu": "có xã cũ chưa có số liệu năm này (không tính là chưa đạt)",
    "khong_co_xa_cu": "chỉ hợp thành từ phường, thị trấn cũ, không thuộc diện xét NTM",
}
FORMER_STATES_VI = {
    "dat": "đạt chuẩn NTM",
    "chua_dat": "chưa đạt chuẩn NTM",
    "chua_co_so_lieu": "chưa có số liệu",
    "khong_xet": "không thuộc diện xét NTM (phường, thị trấn)",
}
UNKNOWN_SHARE_VI = "chưa rõ"
#: recognised tiers (as TIER_CODES) that include NTM
RECOGNISED_NTM = [code for tier, code in TIER_CODES.items() if tier in TIER_RANK and TIER_RANK[tier] >= TIER_RANK["ntm"]]
NO_DECISION_VI = "chưa có quyết định công nhận xã mới (từ 1/7/2025)"
UNITS_RULE_VI = "từ 2026 chỉ còn đơn vị mới"


def units_for_year(year: int, don_vi: str | None = None) -> str:
    """The units a year is shown in: ``don_vi`` (``cu`` or ``moi``) checked against the year, or by default the
    units of its time (``cu`` up to 2025, ``moi`` from 2026). From 2026 only the new units exist."""
    period = period_of_year(year)
    if don_vi is None:
        return period
    if don_vi not in PERIODS:
        allowed = "; ".join(f"{p.code} ({p.label_vi})" for p in PERIODS.values())
        raise InvalidParameter(f"don_vi={clip(repr(don_vi))} không hợp lệ; cho phép: {allowed}.")
    if don_vi == "cu" and period == "moi":
        raise InvalidParameter(
            f"don_vi=cu không dùng được cho năm {year}: {UNITS_RULE_VI} (don_vi=moi); đơn vị cũ (trước 1/7/2025) chỉ có cho các năm đến 2025."
        )
    return don_vi


def former_states(
    results: pd.DataFrame, recognitions: pd.DataFrame, old_provinces: Iterable[Province], codes: Iterable[str], year: int
) -> pd.DataFrame:
    """One row per former unit (``cu`` code): ma_cu, ten_cu, tinh_cu, loai (unit type), trang_thai (a key of
    FORMER_STATES_VI), hang_danh_gia (the assessed tier, as TIER_CODES: chua_dat, ntm, nang_cao, kieu_mau; None
    without data and for phường, thị trấn), hang_cong_nhan and so_quyet_dinh (the recognised tier at the end of
    ``year``, from decisions dated before 1 July 2025). A xã is scored with the profile of its
    own province among ``old_provinces``; a xã of a province without a profile there has no data."""
    cu = registry_table("cu").set_index("code")
    codes = list(dict.fromkeys(codes))
    units = cu.loc[codes]
    tier = pd.Series(pd.NA, index=codes, dtype="string")
    in_year = results[results["year"] == year]
    for p in old_provinces:
        if p.period != "cu":
            raise InvalidParameter(f"Hồ sơ tỉnh {p.code} là của giai đoạn {p.period}; các xã cũ được chấm bằng hồ sơ giai đoạn cu.")
        eligible = set(p.registry.xa().index)
        xa = [c for c in codes if c in eligible]
        if xa:
            scores = commune_scores(in_year, p, years=[year], units=xa)
            tier[scores["unit"].to_numpy()] = scores["tier"].to_numpy()
    is_xa = (units["unit_type"] == ELIGIBLE_TYPE).to_numpy()
    rank = tier.map(TIER_RANK.get, na_action="ignore")
    state = np.where(~is_xa, "khong_xet", np.where(tier.isna(), "chua_co_so_lieu", np.where(rank >= TIER_RANK["ntm"], "dat", "chua_dat")))
    before = recognitions[pd.to_datetime(recognitions["decision_date"]) < pd.Timestamp(REFORM_DATE)] if len(recognitions) else recognitions
    recog = recognised_tiers(before, year, units=codes).set_index("unit")
    return pd.DataFrame(
        {
            "ma_cu": codes,
            "ten_cu": units["name"].to_numpy(),
            "tinh_cu": units["province_code"].to_numpy(),
            "loai": units["unit_type"].to_numpy(),
            "trang_thai": state,
            "hang_danh_gia": [TIER_CODES[t] if ok and not pd.isna(t) else None for t, ok in zip(tier, is_xa)],
            "hang_cong_nhan": [TIER_CODES.get(recog["recognised_tier"].get(c)) for c in codes],
            "so_quyet_dinh": [recog["decision_number"].get(c) for c in codes],
        }
    )


def new_unit_decisions(recognitions: pd.DataFrame, codes: Iterable[str]) -> pd.DataFrame:
    """The decisions taken for new units (``moi`` codes), as they stand now: recognitions dated from 1 July 2025
    only. Columns of :func:`scoring.recognised_tiers`."""
    codes = list(codes)
    if recognitions.empty:
        return recognised_tiers(recognitions, 0)
    dates = pd.to_datetime(recognitions["decision_date"])
    after = recognitions[dates >= pd.Timestamp(REFORM_DATE)]
    return recognised_tiers(after, int(dates.max().year), units=codes, period="moi")


def _value(v: object) -> object:
    """A cell as JSON takes it: None for a missing value, a float for a number."""
    return None if pd.isna(v) else (float(v) if isinstance(v, float | np.floating) else v)


def derived_states(
    results: pd.DataFrame,
    recognitions: pd.DataFrame,
    old_provinces: Iterable[Province],
    new_registry: Registry,
    pairs: pd.DataFrame,
    year: int,
    old_areas: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """The derived state in ``year`` (up to 2025) of every xã of ``new_registry`` (``moi``) from its former units.

    ``pairs``: the crosswalk's (ma_moi, ma_cu, ty_le_dien_tich) rows (crosswalk.table_pairs or Crosswalk.rows);
    ``old_areas``: km² of former units, where boundaries of the old units are known. One row per new xã: ma_moi,
    ten_moi, suy_ra (always True), trang_thai_suy_ra (a key of STATES_VI), xa_cu (former xã), xa_cu_dat (of them
    assessed NTM), xa_cu_cong_nhan (of them recognised NTM at the end of the year), ty_le_dien_tich_dat (the share
    of the new xã's area that its NTM former xã make up; NaN when unknown), don_vi_cu (the former units: a list of
    dicts with their own state, tiers and share), and the decision taken for the new xã: quyet_dinh_hang (TIER_CODES),
    quyet_dinh_so, quyet_dinh_ngay (None when there is none). No column holds a tier of the new xã but the decision's."""
    if period_of_year(year) != "cu":
        raise InvalidParameter(
            f"Năm {year}: trạng thái suy ra từ các xã cũ chỉ có cho các năm đến 2025; {UNITS_RULE_VI}, được đánh giá trực tiếp."
        )
    if new_registry.period != "moi":
        raise InvalidParameter(
            f"Danh mục {new_registry.province_name} là của giai đoạn {new_registry.period}; cần danh mục đơn vị mới (moi)."
        )
    xa = new_registry.xa()
    p = pairs[pairs["ma_moi"].isin(xa.index)][["ma_moi", "ma_cu", "ty_le_dien_tich"]]
    former = former_states(results, recognitions, old_provinces, p["ma_cu"], year)
    p = p.merge(former, on="ma_cu", how="left")
    areas = pd.Series(dict(old_areas or {}), dtype="float64")
    p["dien_tich_km2"] = p["ma_cu"].map(areas) * p["ty_le_dien_tich"].astype("float64")
    decisions = new_unit_decisions(recognitions, xa.index).set_index("unit")
    rows = []
    for code, g in p.groupby("ma_moi", sort=True):
        st = g["trang_thai"]
        n_xa, n_dat = int((st != "khong_xet").sum()), int((st == "dat").sum())
        if n_xa == 0:
            state = "khong_co_xa_cu"
        elif (st == "chua_co_so_lieu").any():
            state = "chua_co_so_lieu"
        else:
            state = "moi_xa_cu_dat" if n_dat == n_xa else ("chua" if n_dat == 0 else "mot_phan")
        share = np.nan
        if state not in ("chua_co_so_lieu", "khong_co_xa_cu"):
            if (st == "dat").all():
                share = 1.0
            elif n_dat == 0:
                share = 0.0
            elif g["dien_tich_km2"].notna().all() and g["dien_tich_km2"].sum() > 0:
                share = float(g.loc[st == "dat", "dien_tich_km2"].sum() / g["dien_tich_km2"].sum())
        d = decisions.loc[code] if code in decisions.index else None
        rows.append(
            {
                "ma_moi": code,
                "ten_moi": xa.at[code, "name"],
                "suy_ra": True,
                "trang_thai_suy_ra": state,
                "xa_cu": n_xa,
                "xa_cu_dat": n_dat,
                "xa_cu_cong_nhan": int(g["hang_cong_nhan"].isin(RECOGNISED_NTM).sum()),
                "ty_le_dien_tich_dat": share,
                "don_vi_cu": [
                    {
                        "ma": r.ma_cu,
                        "ten": r.ten_cu,
                        "tinh": r.tinh_cu,
                        "loai": r.loai,
                        "trang_thai": r.trang_thai,
                        "trang_thai_ten": FORMER_STATES_VI[r.trang_thai],
                        "hang_danh_gia": _value(r.hang_danh_gia),
                        "hang_cong_nhan": _value(r.hang_cong_nhan),
                        "so_quyet_dinh": _value(r.so_quyet_dinh),
                        "ty_le_dien_tich": _value(r.ty_le_dien_tich),
                    }
                    for r in g.itertuples(index=False)
                ],
                "quyet_dinh_hang": None if d is None else TIER_CODES[d["recognised_tier"]],
                "quyet_dinh_so": None if d is None else d["decision_number"],
                "quyet_dinh_ngay": None if d is None else str(d["decision_date"])[:10],
            }
        )
    return pd.DataFrame(rows)


def successor(province: Province) -> str:
    """The new province (``moi`` code) a deployment's province belongs to from 1 July 2025."""
    if province.period == "moi":
        return province.code
    t = table()
    return str(t.loc[t["tinh_cu"] == province.code, "tinh_moi"].iloc[0])


def predecessor_profiles(province: Province, new_code: str) -> tuple[list[str], list[Province]]:
    """The former provinces of a new province, and the ``cu`` profiles among them (the deployment's own, or the
    profile of that code in period ``cu``: ``<code>-cu`` where GSO reused the code, as 66-cu for the old Đắk Lắk,
    else ``<code>``)."""
    t = table()
    codes = sorted(set(t.loc[t["tinh_moi"] == new_code, "tinh_cu"]))
    profiles = []
    for code in codes:
        if province.period == "cu" and province.code == code:
            profiles.append(province)
            continue
        for profile in (f"{code}-cu", code):
            try:
                p = load_province(profile)
            except CatalogError:
                continue
            if p.period == "cu":
                profiles.append(p)
                break
    return codes, profiles


def stored_areas(store, province: Province, codes: Iterable[str]) -> dict[str, float]:  # noqa: ANN001 - Store
    """km² of former units from the stored boundary layer of the old units (period ``cu``: a code of the new
    units names another unit)."""
    stored = store.current_boundary_layer("cu")
    if stored is None:
        return {}
    import geopandas as gpd
    import shapely

    from .boundaries import WGS84, geodesic_area_km2

    wkb = stored[1]
    units = [c for c in dict.fromkeys(codes) if c in wkb]
    geoms = gpd.GeoSeries(shapely.from_wkb([wkb[u] for u in units]), index=units, crs=WGS84)
    return dict(zip(units, geodesic_area_km2(geoms).tolist()))


def history_units(store, province: Province, year: int, don_vi: str | None = None, as_of: datetime | None = None) -> dict:  # noqa: ANN001 - Store
    """A year in the units asked (``cu``: the former units of the new province with their own state; ``moi``: the
    new xã with their derived state and the decision taken for them), JSON-ready."""
    units = units_for_year(year, don_vi)
    new_code = successor(province)
    old_codes, profiles = predecessor_profiles(province, new_code)
    new_registry = load_registry(new_code, "moi")
    results = store.current_results(as_of=as_of, years=[year])
    recognitions = store.recognitions(as_of=as_of)
    doc = {
        "nam": year,
        "don_vi": units,
        "don_vi_ten": PERIODS[units].label_vi,
        "du_lieu_mau": bool(results["sample"].any()),
        "tinh_moi": {"ma": new_code, "ten": new_registry.province_name},
        "tinh_cu": [
            {"ma": c, "ten": load_registry(c, "cu").province_name, "co_ho_so": any(p.code == c for p in profiles)} for c in old_codes
        ],
    }
    if units == "cu":
        codes = [u for c in old_codes for u in load_registry(c, "cu").communes().index]
        former = former_states(results, recognitions, profiles, codes, year).astype(object)
        former = former.where(former.notna(), None)
        former["trang_thai_ten"] = former["trang_thai"].map(FORMER_STATES_VI)
        doc["tom_tat"] = {k: int((former["trang_thai"] == k).sum()) for k in FORMER_STATES_VI}
        doc["don_vi_cu"] = former.to_dict(orient="records")
        return doc
    pairs = table_pairs(new_code)
    states = derived_states(results, recognitions, profiles, new_registry, pairs, year, stored_areas(store, province, pairs["ma_cu"]))
    states = states.astype(object).where(states.notna(), None)
    doc["ghi_chu"] = DERIVED_NOTE_VI
    doc["tom_tat"] = {k: int((states["trang_thai_suy_ra"] == k).sum()) for k in STATES_VI}
    doc["xa"] = [
        {
            "ma": r["ma_moi"],
            "ten": r["ten_moi"],
            "trang_thai_suy_ra": {
                "suy_ra": True,
                "ma": r["trang_thai_suy_ra"],
                "ten": STATES_VI[r["trang_thai_suy_ra"]],
                "ghi_chu": f"{DERIVED_NOTE_VI}; {STATE_NOTES_VI[r['trang_thai_suy_ra']]}",
                "xa_cu": r["xa_cu"],
                "xa_cu_dat": r["xa_cu_dat"],
                "xa_cu_dat_ma": [u["ma"] for u in r["don_vi_cu"] if u["trang_thai"] == "dat"],
                "xa_cu_cong_nhan": r["xa_cu_cong_nhan"],
                "ty_le_dien_tich_dat": r["ty_le_dien_tich_dat"],
            },
            "don_vi_cu": r["don_vi_cu"],
            "quyet_dinh_xa_moi": None
            if r["quyet_dinh_so"] is None
            else {"hang": r["quyet_dinh_hang"], "so_quyet_dinh": r["quyet_dinh_so"], "ngay": r["quyet_dinh_ngay"]},
        }
        for r in states.to_dict(orient="records")
    ]
    return doc


CSV_COLUMNS = ["ma_moi", "ten_moi", "trang_thai_suy_ra", "xa_cu_dat", "xa_cu", "xa_cu_dat_ma", "ty_le_dien_tich_dat"]
CSV_COLUMNS += ["quyet_dinh_hang", "quyet_dinh_so", "quyet_dinh_ngay"]


def history_csv(doc: dict) -> str:
    """The new-unit view of :func:`history_units` as CSV, one row per new xã (CSV_COLUMNS; the derived state as its
    key in STATES_VI, the NTM former xã as codes joined by ';', the share empty when unknown, no decision empty)."""
    rows = []
    for x in doc["xa"]:
        s, d = x["trang_thai_suy_ra"], x["quyet_dinh_xa_moi"] or {}
        rows.append(
            [x["ma"], x["ten"], s["ma"], s["xa_cu_dat"], s["xa_cu"], ";".join(s["xa_cu_dat_ma"]), s["ty_le_dien_tich_dat"]]
            + [d.get("hang"), d.get("so_quyet_dinh"), d.get("ngay")]
        )
    return pd.DataFrame(rows, columns=CSV_COLUMNS).to_csv(index=False, lineterminator="\n", float_format="%.4f")


def history_text(doc: dict) -> str:
    """The new-unit view of :func:`history_units` as a table to print: one row per new xã."""
    lines = [f"*** {SAMPLE_LABEL_VI} ***", ""] if doc["du_lieu_mau"] else []
    lines.append(f"NĂM {doc['nam']} THEO ĐƠN VỊ MỚI — {doc['tinh_moi']['ten']}, {doc['don_vi_ten']}")
    lines.append(f"Trạng thái {DERIVED_NOTE_VI}.")
    lines.append("")
    rows = []
    for x in doc["xa"]:
        s = x["trang_thai_suy_ra"]
        state = s["ten"]
        if s["ma"] == "mot_phan":
            names = [u["ten"] for u in x["don_vi_cu"] if u["trang_thai"] == "dat"]
            state += ": " + ", ".join(names)
        share = s["ty_le_dien_tich_dat"]
        d = x["quyet_dinh_xa_moi"]
        rows.append(
            {
                "Mã": x["ma"],
                "Xã mới": x["ten"],
                "Trạng thái suy ra": state,
                "Xã cũ đạt/tổng": f"{s['xa_cu_dat']}/{s['xa_cu']}",
                "Diện tích xã cũ đạt": UNKNOWN_SHARE_VI if share is None else f"{100 * share:.1f}".replace(".", ",") + "%",
                "Quyết định xã mới": "chưa có" if d is None else f"{TIER_WORDS[d['hang']]} — {d['so_quyet_dinh']} ngày {d['ngay']}",
            }
        )
    lines.append(pd.DataFrame(rows).to_string(index=False) if rows else "(không có xã)")
    lines.append("")
    lines.append(
        "Xã cũ đạt: theo hạng đánh giá từ kết quả đã lưu; phường, thị trấn cũ không thuộc diện xét NTM nên không tính; "
        "xã cũ chưa có số liệu không tính là chưa đạt."
    )
    lines.append(
        f"Diện tích xã cũ đạt: phần diện tích xã mới do các xã cũ đạt chuẩn hợp thành; {UNKNOWN_SHARE_VI} khi thiếu ranh giới "
        "đơn vị cũ (nongthon boundaries import) hoặc tỷ lệ của xã cũ bị chia."
    )
    lines.append(f"Quyết định xã mới: quyết định công nhận ghi cho mã xã mới từ 1/7/2025, tính đến nay; {NO_DECISION_VI} nếu không có.")
    return "\n".join(lines) + "\n"
