"""Map layers: units × scores joined with the boundary layer, as GeoJSON (RFC 7946, EPSG:4326).

Building only: the properties of each unit, the geometry at a level of detail, the feature collection.
At default detail the geometry is simplified as one coverage (shapely's coverage_simplify) so that shared
borders stay shared, then coordinates are rounded to 1e-5° (about a metre); ``full`` keeps the stored
geometry, rounded to 1e-7°. Rings are oriented as RFC 7946 §3.1.6 wants (exterior counter-clockwise).
This module knows nothing of URLs or of caching: ``api/cache.py`` keeps the built responses per version of
the data (gzip, ETag, LRU), and the map page calls the builders directly.

Feature properties of the communes layer (the first four are fixed; other tools rely on them):

==========================  ==============================================================================
``ma``                      GSO code (5 digits)
``ten``                     name with its type word, e.g. "Xã Hòa Quang Bắc"
``hang``                    assessed tier: ``chua_dat``, ``ntm``, ``nang_cao``, ``kieu_mau``; null for a unit
                            that is not eligible (phường, thị trấn) and for a xã with no result that year
``so_tieu_chi_dat``         criteria of the NTM set met (also for advanced and model xã)
``so_tieu_chi``             criteria in the NTM set of that year's catalogue (19)
``hang_ten``                the tier in words (Vietnamese)
``loai``, ``loai_ten``      ``xa`` / ``phuong`` / ``thi_tran`` and its Vietnamese name
``ma_huyen``, ``ten_huyen`` the district-level unit
``du_dieu_kien``            true for a xã (counted in the shares), false otherwise
``co_so_lieu``              true when results are stored for that xã and year
``tieu_chi_chua_dat``       criteria of the NTM set not met: list of {so, ten}
``tieu_chi_chua_danh_gia``  criteria of the NTM set not evaluated (no result, or an unknown threshold)
``trang_thai_tieu_chi``     {criterion number: ``dat`` / ``khong_dat`` / ``chua_danh_gia``}
``so_tieu_chi_nang_cao_dat``  criteria of the advanced set met (null where the catalogue has no such set)
``so_dieu_kien_kieu_mau_dat`` model conditions met (null where the catalogue has none)
``hang_cong_nhan``          recognised tier (official decision) at the end of the year, same codes as ``hang``
``quyet_dinh``              the recognition decision: {so, ngay} or null
``tieu_chi``, ``trang_thai``  with ?criterion=N: N and its status for styling
==========================  ==============================================================================

A year up to 2025 seen in the new units (``don_vi=moi``, :func:`derived_properties`): the units of the new
province, each new xã with its DERIVED state from its former xã (nongthon/history.py) — never a tier: ``hang``,
``so_tieu_chi_dat`` and ``so_tieu_chi`` stay null, and beside the identity (``ma`` … ``du_dieu_kien``) come
``suy_ra`` (true for a xã), ``trang_thai_suy_ra`` (a key of history.STATES_VI) and ``trang_thai_suy_ra_ten``,
``ghi_chu_suy_ra`` (history.DERIVED_NOTE_VI and the state's note), ``xa_cu`` / ``xa_cu_dat`` / ``xa_cu_dat_ma`` /
``xa_cu_cong_nhan``, ``ty_le_dien_tich_dat`` (null when unknown), ``don_vi_cu`` (the former units, each with its
own state and tiers) and ``quyet_dinh_xa_moi`` (the decision taken for the new xã: {hang, so_quyet_dinh, ngay} or
null). A phường is not eligible, as in the communes layer: ``suy_ra`` false, no state.
"""

from __future__ import annotations

import json
from datetime import datetime

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import mapping

from .boundaries import COORD_DECIMALS, WGS84, BoundaryLayer, rfc7946
from .criteria import TIER_CODES, TIER_WORDS
from .errors import InvalidParameter, NongthonError
from .history import history_units, successor, units_for_year
from .province import Province, load_province
from .reports import criterion_report, district_criterion_report, standard_report
from .scoring import commune_scores, criterion_status, recognised_tiers, recognition_condition_status
from .store import Store
from .units import COMMUNE_TYPES, DISTRICT_TYPES, period_of_year

STATUS_CODES = {"met": "dat", "not_met": "khong_dat", "not_evaluated": "chua_danh_gia"}
#: default detail: simplify to half a screen pixel of the view that shows the whole layer on a screen this
#: wide — about 56 m for Phú Yên (below the 47–178 m accuracy of its internal lines, see geodata SOURCE),
#: about 600 m for a national layer; ``detail=full`` gives the stored geometry for close-up work.
VIEW_PIXELS = 1280
MIN_TOLERANCE_M = 5.0
GRID_DECIMALS = 5  # default detail: coordinates on a grid of 1e-5° ≈ 1.1 m
DETAILS = ("default", "full")


class UnknownCriterion(NongthonError, LookupError):
    pass


class UnknownDetail(NongthonError, ValueError):
    pass


def check_detail(detail: str) -> None:
    if detail not in DETAILS:
        raise UnknownDetail(f"detail={detail!r} không hợp lệ; chọn: {', '.join(DETAILS)}")


def check_year(province: Province, year: int) -> None:
    province.catalogs.for_year(year)  # raises UnknownYear with the allowed years


def simplify_tolerance_m(metric: gpd.GeoSeries) -> float:
    """Half a pixel when the layer's extent (its diagonal) spans VIEW_PIXELS, in metres."""
    x0, y0, x1, y1 = metric.total_bounds
    return max(MIN_TOLERANCE_M, float(np.hypot(x1 - x0, y1 - y0)) / VIEW_PIXELS / 2)


def simplified_geometries(layer: BoundaryLayer, detail: str, district_of: pd.Series) -> tuple[gpd.GeoSeries, gpd.GeoSeries]:
    """Communes and districts at a level of detail, EPSG:4326. At default detail the communes are simplified
    as one coverage (borders stay shared, no gaps, no overlaps) and rounded to about a metre; the districts are
    the union of their communes. ``full`` keeps the stored geometry, rounded to 1e-7°. Either way the rings
    are oriented as RFC 7946 wants, whatever the boundary layer or the union gave."""
    check_detail(detail)
    geoms = layer.communes.geometry
    groups = geoms.index.map(district_of)
    if detail == "full":
        districts = gpd.GeoSeries({d: shapely.union_all(g.values) for d, g in geoms.groupby(groups)}, crs=WGS84)
        return rfc7946(geoms, COORD_DECIMALS), rfc7946(districts, COORD_DECIMALS)
    metric = geoms.to_crs(geoms.estimate_utm_crs())
    simple = gpd.GeoSeries(shapely.coverage_simplify(metric.values, simplify_tolerance_m(metric)), index=metric.index, crs=metric.crs)
    districts = gpd.GeoSeries({d: shapely.coverage_union_all(g.values) for d, g in simple.groupby(groups)}, crs=metric.crs)

    def rounded(gs: gpd.GeoSeries) -> gpd.GeoSeries:  # snapped to the grid keeping them valid, then written plainly
        snapped = gpd.GeoSeries(shapely.set_precision(gs.to_crs(WGS84).values, 10.0**-GRID_DECIMALS), index=gs.index, crs=WGS84)
        return rfc7946(snapped, GRID_DECIMALS)

    return rounded(simple), rounded(districts)


def geojson_strings(geoms: gpd.GeoSeries) -> dict[str, str | None]:
    """The GeoJSON text of each geometry, by unit code. Written by Python's json, whose floats are the shortest
    that read back the same (13.51532), where GEOS writes 17 digits (13.515319999999999)."""
    return {code: None if g is None else json.dumps(mapping(g), separators=(",", ":")) for code, g in geoms.items()}


def feature_collection(geometry: dict[str, str], properties: list[dict], members: dict) -> str:
    """A FeatureCollection's text: one feature per properties dict (joined to its geometry by ``ma``), and
    ``members`` as foreign members of the collection."""
    parts = []
    for props in properties:
        g = geometry.get(props["ma"])
        parts.append(
            '{"type":"Feature","geometry":'
            + (g if g is not None else "null")
            + ',"properties":'
            + json.dumps(props, ensure_ascii=False)
            + "}"
        )
    head = json.dumps({"type": "FeatureCollection", **members}, ensure_ascii=False)[:-1]
    return head + ',"features":[' + ",".join(parts) + "]}"


def commune_properties(
    store: Store, province: Province, year: int, criterion: str | None = None, as_of: datetime | None = None
) -> tuple[list[dict], bool]:
    """Properties of every commune-level unit for a year (see the module doc), and whether the data is sample."""
    check_year(province, year)
    catalog = province.catalogs.for_year(year)
    names = catalog.criterion_names("ntm")
    if criterion is not None and criterion not in names:
        raise UnknownCriterion(f"Tiêu chí {criterion!r} không có trong bộ {catalog.id} (năm {year}); chọn 1–{len(names)}")
    reg = province.registry
    results = store.current_results(as_of=as_of, years=[year])
    sample = bool(results["sample"].any())
    scores = commune_scores(results, province, years=[year]).set_index("unit")
    crit = criterion_status(results, province, years=[year])
    crit = crit[crit["tier_set"] == "ntm"]
    # one row per xã, one column per criterion, in the catalogue's order
    wide = crit.pivot(index="unit", columns="criterion", values="status").reindex(columns=list(names))
    status = dict(zip(wide.index, wide.to_numpy().tolist()))
    recog = recognised_tiers(store.recognitions(as_of=as_of), year).set_index("unit")
    recognised = {u: (r.recognised_tier, r.decision_number, r.decision_date) for u, r in zip(recog.index, recog.itertuples())}
    has_adv = "nang_cao" in catalog.sets
    has_model = "kieu_mau" in catalog.sets
    score_rows = {
        u: r for u, r in zip(scores.index, scores[["has_data", "tier", "ntm_met", "adv_met", "model_met"]].itertuples(index=False))
    }
    district_names = reg.units["name"].to_dict()
    criteria = list(names.items())
    props = []
    communes = reg.communes()
    for code, name, utype, dcode in zip(communes.index, communes["name"], communes["unit_type"], communes["district_code"]):
        p = {
            "ma": code,
            "ten": name,
            "hang": None,
            "so_tieu_chi_dat": None,
            "so_tieu_chi": len(names),
            "hang_ten": "Không xét (phường/thị trấn)" if utype != "xa" else "Chưa có số liệu",
            "loai": utype,
            "loai_ten": COMMUNE_TYPES[utype],
            "ma_huyen": dcode if isinstance(dcode, str) else None,  # None in the new units: no district level
            "ten_huyen": district_names.get(dcode) if isinstance(dcode, str) else None,
            "du_dieu_kien": utype == "xa",
            "co_so_lieu": False,
            "tieu_chi_chua_dat": [],
            "tieu_chi_chua_danh_gia": [],
            "trang_thai_tieu_chi": {},
            "so_tieu_chi_nang_cao_dat": None,
            "so_dieu_kien_kieu_mau_dat": None,
            "hang_cong_nhan": None,
            "quyet_dinh": None,
        }
        sc = score_rows.get(code)
        if sc is not None:
            st = status.get(code) or ["not_evaluated"] * len(criteria)
            p["trang_thai_tieu_chi"] = {c: STATUS_CODES[x if isinstance(x, str) else "not_evaluated"] for (c, _), x in zip(criteria, st)}
            p["co_so_lieu"] = bool(sc.has_data)
            if sc.has_data:
                tier = TIER_CODES[sc.tier]
                p.update(hang=tier, hang_ten=TIER_WORDS[tier], so_tieu_chi_dat=int(sc.ntm_met))
                p["tieu_chi_chua_dat"] = [{"so": c, "ten": n} for (c, n), x in zip(criteria, st) if x == "not_met"]
                p["tieu_chi_chua_danh_gia"] = [{"so": c, "ten": n} for (c, n), x in zip(criteria, st) if x not in ("met", "not_met")]
                p["so_tieu_chi_nang_cao_dat"] = int(sc.adv_met) if has_adv else None
                p["so_dieu_kien_kieu_mau_dat"] = int(sc.model_met) if has_model else None
        if code in recognised:
            tier, number, day = recognised[code]
            p["hang_cong_nhan"] = TIER_CODES[tier]
            p["quyet_dinh"] = {"so": number, "ngay": pd.Timestamp(day).date().isoformat()}
        if criterion is not None:
            p["tieu_chi"] = criterion
            p["trang_thai"] = p["trang_thai_tieu_chi"].get(criterion) if p["du_dieu_kien"] else None
        props.append(p)
    return props, sample


def district_properties(
    store: Store, province: Province, year: int, as_of: datetime | None = None, current: pd.DataFrame | None = None
) -> tuple[list[dict], bool]:
    """Per district-level unit: eligible xã (registry and official), counts per tier, average criteria.
    ``current``: the store's current results (every year), when the caller has read them already (the map reads
    them once for all its years); else they are read here."""
    check_year(province, year)
    if current is None:
        results = store.current_results(as_of=as_of, years=[year])
    else:
        results = current[current["year"] == year]
    sample = bool(results["sample"].any())
    rep = standard_report(results, province, year, sample=sample).table.set_index("ma_don_vi")
    scores = commune_scores(results, province, years=[year])
    scores["district"] = scores["unit"].map(province.registry.units["district_code"])
    # a milestone is judged at its own year, so it needs the years up to the one shown
    years = [y for y in province.catalogs.years() if y <= year]
    history = store.current_results(as_of=as_of, years=years) if current is None else current[current["year"].isin(years)]
    milestones = milestone_states_by_unit(history, province, year, scores)
    props = []
    for code, d in province.registry.districts().iterrows():
        r = rep.loc[code]
        sc = scores[scores["district"] == code]
        props.append(
            {
                "ma": code,
                "ten": d["name"],
                "loai": d["unit_type"],
                "loai_ten": DISTRICT_TYPES[d["unit_type"]],
                "so_xa": int(r["so_xa"]),
                "so_xa_chinh_thuc": province.registry.official_xa_count(year, code),
                "dat_ntm": int(r["dat_ntm"]),
                "nang_cao": None if pd.isna(r["nang_cao"]) else int(r["nang_cao"]),
                "kieu_mau": None if pd.isna(r["kieu_mau"]) else int(r["kieu_mau"]),
                "chua_dat": int((sc["tier"] == "none").sum()),
                "chua_co_so_lieu": int((~sc["has_data"]).sum()),
                "binh_quan_tieu_chi": None if pd.isna(r["binh_quan_tieu_chi"]) else float(r["binh_quan_tieu_chi"]),
                "moc": milestones.get(code),  # the district's milestone(s) that year: [{ma, mo_ta, trang_thai, ly_do}]
            }
        )
    return props, sample


def milestone_states_by_unit(results: pd.DataFrame, province: Province, year: int, scores: pd.DataFrame) -> dict[str, list[dict]]:
    """Every milestone of the target sets covering ``year``, by district-level unit (see progress.milestones_by_unit)."""
    from .progress import milestones_by_unit

    return milestones_by_unit(results, province, year)


def summary(store: Store, province: Province, year: int, as_of: datetime | None = None) -> dict:
    """The standard report as JSON-ready data."""
    check_year(province, year)
    results = store.current_results(as_of=as_of, years=[year])
    sample = bool(results["sample"].any())
    rep = standard_report(results, province, year, sample=sample)
    table = rep.table.astype(object).where(rep.table.notna(), None).to_dict(orient="records")
    return {
        "nam": year,
        "bo_tieu_chi": rep.catalog,
        "so_tieu_chi": rep.criteria_count,
        "du_lieu_mau": sample,
        "xa_co_so_lieu": rep.xa_with_data,
        "xa_trong_danh_muc": rep.xa_in_registry,
        "xa_chinh_thuc": rep.official_xa,
        "don_vi": table,
        "tieu_chi": criterion_report(results, province, year).to_dict(orient="records"),
        "tieu_chi_cap_huyen": district_criterion_report(results, province, year).to_dict(orient="records"),
    }


def unit_identity(reg, code: str) -> dict:  # noqa: ANN001 - Registry
    """What names a commune-level unit in every layer and document: code, name, type, district, eligibility."""
    u = reg.units.loc[code]
    return {
        "ma": code,
        "ten": u["name"],
        "loai": u["unit_type"],
        "loai_ten": COMMUNE_TYPES[u["unit_type"]],
        "ma_huyen": u["district_code"] if isinstance(u["district_code"], str) else None,  # no district in the new units
        "ten_huyen": reg.units.at[u["district_code"], "name"] if isinstance(u["district_code"], str) else None,
        "du_dieu_kien": u["unit_type"] == "xa",
    }


def commune_detail(store: Store, province: Province, code: str, as_of: datetime | None = None) -> dict:
    """One commune-level unit with its year-by-year criteria met and tier."""
    reg = province.registry
    u = reg.unit(code)
    if u["level"] != "commune":
        raise KeyError(code)
    out = {**unit_identity(reg, code), "du_lieu_mau": False, "cac_nam": []}
    if u["unit_type"] != "xa":
        return out
    # the years of this unit: those of the province's period (GSO reused codes: the same code in another period is
    # another unit, shown by the profile of that period)
    results = store.current_results(as_of=as_of, units=[code], years=province.catalogs.years())
    out["du_lieu_mau"] = bool(results["sample"].any())
    years = sorted(results["year"].unique().tolist())
    if not years:
        return out
    scores = commune_scores(results, province, years=years, units=[code]).set_index("year")
    crit = criterion_status(results, province, years=years, units=[code])
    recs = store.recognitions(as_of=as_of)
    for y in years:
        s = scores.loc[y]
        names = province.catalogs.for_year(y).criterion_names("ntm")
        cy = crit[(crit["year"] == y) & (crit["tier_set"] == "ntm")].set_index("criterion")["status"]
        rec = recognised_tiers(recs, y, units=[code])
        out["cac_nam"].append(
            {
                "nam": y,
                "bo_tieu_chi": s["catalog"],
                "hang": TIER_CODES[s["tier"]] if s["has_data"] else None,
                "so_tieu_chi_dat": int(s["ntm_met"]),
                "so_tieu_chi": int(s["ntm_total"]),
                "tieu_chi_chua_dat": [{"so": c, "ten": names[c]} for c in names if cy.get(c) == "not_met"],
                "tieu_chi_chua_danh_gia": [{"so": c, "ten": names[c]} for c in names if cy.get(c, "not_evaluated") == "not_evaluated"],
                "hang_cong_nhan": TIER_CODES[rec["recognised_tier"].iloc[0]] if len(rec) else None,
                "dieu_kien_cong_nhan": [
                    {"bo_tieu_chi": r.set, "ma": r.code, "ten": r.name_vi, "trang_thai": STATUS_CODES[r.status]}
                    for r in recognition_condition_status(results, province, y, code).itertuples()
                ],
            }
        )
    return out


def layer_units(year: int, don_vi: str | None = None, criterion: str | None = None) -> str:
    """The units a year's layer is built in (history.units_for_year: ``cu`` or ``moi``, ``cu`` refused from 2026),
    and whether a criterion can colour it: a year up to 2025 in the new units has derived states, no criteria."""
    units = units_for_year(year, don_vi)
    if criterion is not None and units != period_of_year(year):
        raise InvalidParameter(
            f"criterion={criterion} không dùng được với don_vi={units} cho năm {year}: xã mới chỉ có trạng thái suy ra từ các "
            "xã cũ, không có kết quả theo tiêu chí trước 2026; bỏ criterion hoặc dùng don_vi=cu."
        )
    return units


def new_units_province(province: Province) -> Province:
    """The province of the new units (``moi``) a province's years are viewed in: itself from 1 July 2025, else the
    profile of the province it became (Phú Yên → the new Đắk Lắk, 66)."""
    return province if province.period == "moi" else load_province(successor(province))


def derived_properties(store: Store, province: Province, year: int, as_of: datetime | None = None) -> tuple[list[dict], bool]:
    """Properties of every unit of the new province (``moi``) in a year up to 2025 (see the module doc), and whether
    the data is sample. ``province``: the year's own (old) province, whose deployment's history is read. A new xã
    gets its derived state from its former xã (history.history_units), never a tier."""
    doc = history_units(store, province, year, "moi", as_of)
    by_code = {x["ma"]: x for x in doc["xa"]}
    reg = new_units_province(province).registry
    props = []
    for code in reg.communes().index:
        ident = unit_identity(reg, code)
        x = by_code.get(code)
        s = x["trang_thai_suy_ra"] if x is not None else None
        props.append(
            {
                "ma": code,
                "ten": ident["ten"],
                "hang": None,  # never a tier for a new xã before 2026
                "so_tieu_chi_dat": None,
                "so_tieu_chi": None,
                "hang_ten": "Chưa có hạng (xã mới từ 1/7/2025)" if s is not None else f"Không xét ({ident['loai_ten'].lower()})",
                **{k: v for k, v in ident.items() if k not in ("ma", "ten")},
                "suy_ra": s is not None,
                "trang_thai_suy_ra": None if s is None else s["ma"],
                "trang_thai_suy_ra_ten": None if s is None else s["ten"],
                "ghi_chu_suy_ra": None if s is None else s["ghi_chu"],
                "xa_cu": None if s is None else s["xa_cu"],
                "xa_cu_dat": None if s is None else s["xa_cu_dat"],
                "xa_cu_dat_ma": [] if s is None else s["xa_cu_dat_ma"],
                "xa_cu_cong_nhan": None if s is None else s["xa_cu_cong_nhan"],
                "ty_le_dien_tich_dat": None if s is None else s["ty_le_dien_tich_dat"],
                "don_vi_cu": [] if x is None else x["don_vi_cu"],
                "quyet_dinh_xa_moi": None if x is None else x["quyet_dinh_xa_moi"],
            }
        )
    return props, doc["du_lieu_mau"]
