"""The national view: every commune-level unit of the 34 provinces from 1 July 2025 (period ``moi``: 3,321 units,
2,621 xã) in one store, for the national coordination office and the Ministry.

- One rule scores a province's xã (:func:`province_profile`): the profile shipped for it (``nongthon/provinces/``,
  period moi — ``66``, the new Đắk Lắk), else a profile built from the registry: the 2026–2030 catalogue
  (qd51-2025), no region (it selects thresholds by commune group), every xã *chưa xếp nhóm* (UNGROUPED: only
  thresholds for every group apply) until a profile gives the province's group list.
- The nation is one Province (:func:`national_province`, profile ``00``): all commune-level units, the catalogues of
  that rule, each xã's group from its province's profile — so ``scoring.commune_scores`` and
  ``layers.commune_properties`` run over the whole country at once. A province whose profile has catalogues of its
  own (an override file) cannot be scored with the nation's and is refused, by name.
- The report (:func:`national_summary`): one scoring of the nation, each province's row counted as the standard
  report counts a row (number of xã, NTM, average criteria met, bands) with the share of NTM xã; the nation's row
  the same over every xã.
- Layers: the communes of the nation or of one province (:func:`commune_layer`, the properties of
  ``layers.commune_properties`` plus ``ma_tinh`` / ``ten_tinh``) and the provinces coloured by share of NTM xã
  (:func:`province_layer`: 34 features, each the union of its communes). Geometry (:func:`view_geometry`): the
  imported boundary layer of period moi when it covers every unit shown, else the nation's schematic layer (labelled;
  a province's cells are the nation's, so they fill its outline on the national map); at default detail simplified as one coverage (``layers.simplified_geometries``: half a pixel of the
  whole view, ≈ 960 m for the nation), so the national communes layer stays near 0.5 MB gzip and the province
  layer near 0.1 MB (benchmarks/bench_national.py).
- The labelled sample (:func:`generate_national`, ``nongthon demo --national``): 2026 results of every xã.
- The map page (maps.national_map_html): the provinces layer's geometry and these reports, opened on the nation or one
  province, which fetches a province's communes from the communes layer above.

Building only: caching per data version and the URLs are the API's (api/national.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

import numpy as np
import pandas as pd

from .boundaries import SCHEMATIC_LABEL_VI, BoundaryLayer, current_layer, schematic_layer
from .criteria import CatalogSet, catalog_set, load_catalog
from .deployment import NATIONAL_PROFILE
from .errors import CatalogError, UnknownUnit
from .layers import check_year, commune_properties, feature_collection, geojson_strings, simplified_geometries
from .province import Province, load_province, profile_ids
from .reports import report_bands, summarise_row  # the standard report's row, counted the same way
from .sample import DIFFICULTY, SAMPLE_LABEL_VI, SEED, SOURCE, Sample
from .scoring import commune_scores
from .store import Store
from .units import PROVINCE_TYPES, Registry, load_registry, province_codes, registry_table

PERIOD = "moi"
#: the code and name of the nation's row in reports and of its Province (not a GSO code: GSO numbers provinces from
#: 01); a store that follows the whole country records the profile NATIONAL_PROFILE (deployment.deployment_of)
NATIONAL_CODE = NATIONAL_PROFILE
NATIONAL_NAME_VI = "Toàn quốc"
#: the catalogues a province without a profile of its own is scored with: the 2026–2030 programme
NATIONAL_CATALOGS = ("qd51-2025",)
ALL = "all"  # province=all: the whole country


@lru_cache(maxsize=1)
def codes() -> tuple[str, ...]:
    """The 34 province codes of the new units, in GSO order."""
    return tuple(province_codes(PERIOD))


@lru_cache(maxsize=1)
def _provinces() -> pd.DataFrame:
    table = registry_table(PERIOD)
    return table[table["level"] == "province"].set_index("code")


def province_names(short: bool = False) -> pd.Series:
    """The name of each province of the new units (``Tỉnh Đắk Lắk``; ``short``: ``Đắk Lắk``), by code."""
    return _provinces()["name_short" if short else "name"]


def check_province(code: str, allow_all: bool = True) -> str:
    """``all`` (with ``allow_all``) or the GSO code of a province of the new units (``66``; ``1`` is read as ``01``);
    anything else: UnknownUnit naming every code allowed."""
    text = str(code).strip().lower()
    if allow_all and text == ALL:
        return ALL
    if text.isdigit() and len(text) < 2:
        text = text.zfill(2)
    if text in codes():
        return text
    names = province_names(short=True)
    listed = ", ".join(f"{c} ({names[c]})" for c in codes())
    raise UnknownUnit(
        f"Không có tỉnh mã {str(code)[:20]!r} trong 34 tỉnh, thành phố từ 1/7/2025; "
        + ("chọn province=all (toàn quốc) hoặc một mã: " if allow_all else "chọn một mã: ")
        + listed
    )


def national_catalogs() -> CatalogSet:
    return catalog_set([load_catalog(c) for c in NATIONAL_CATALOGS])


@lru_cache(maxsize=64)
def province_profile(code: str) -> Province:
    """THE rule for scoring a province's xã in the national view: its profile shipped for the new units
    (``<code>.yaml`` or ``<code>-moi.yaml`` of period moi), else one built from the registry — catalogues
    NATIONAL_CATALOGS, no region, no commune groups (every xã UNGROUPED)."""
    code = check_province(code, allow_all=False)
    for pid in (code, f"{code}-{PERIOD}"):
        if pid in profile_ids():
            p = load_province(pid)
            if p.period == PERIOD:
                return p
    registry = load_registry(code, PERIOD)
    return Province(
        code=code,
        name_vi=registry.province_name,
        region=None,
        tdmnpb_communes=frozenset(),
        registry=registry,
        catalogs=national_catalogs(),
        period=PERIOD,
        profile=code,
    )


@lru_cache(maxsize=1)
def national_registry() -> Registry:
    """Every commune-level unit of the new units, with each province's eligible counts, under one row for the nation
    (code NATIONAL_CODE, level province: what reports and layers name as the whole)."""
    regs = [load_registry(c, PERIOD) for c in codes()]
    nation = pd.DataFrame(
        [
            {
                "code": NATIONAL_CODE,
                "name": NATIONAL_NAME_VI,
                "name_short": NATIONAL_NAME_VI,
                "unit_type": "quoc_gia",
                "level": "province",
                "parent_code": "",
                "province_code": NATIONAL_CODE,
                "period": PERIOD,
                "district_code": "",
            }
        ],
        index=[NATIONAL_CODE],
    )
    units = pd.concat([nation, *(r.communes() for r in regs)])
    eligible = pd.concat([r.eligible for r in regs], ignore_index=True)
    return Registry(units=units, eligible=eligible, period=PERIOD)


@lru_cache(maxsize=1)
def national_province() -> Province:
    """The nation as one Province (profile NATIONAL_PROFILE): every commune-level unit, scored as each province's
    rule scores it (province_profile): the same catalogues everywhere, each xã's group from its province's profile."""
    catalogs = national_catalogs()
    groups: dict[str, str] = {}
    for code in codes():
        p = province_profile(code)
        if [(c.id, c.overrides) for c in p.catalogs.catalogs] != [(c.id, c.overrides) for c in catalogs.catalogs]:
            own = ", ".join(c.id + (f" (điều chỉnh: {', '.join(c.overrides)})" if c.overrides else "") for c in p.catalogs.catalogs)
            raise CatalogError(
                f"Hồ sơ tỉnh {p.profile} ({p.name_vi}) dùng bộ tiêu chí {own}; cách xem toàn quốc chấm mọi tỉnh theo "
                f"{', '.join(NATIONAL_CATALOGS)}, không điều chỉnh."
            )
        groups |= dict(p.groups)
    return Province(
        code=NATIONAL_CODE,
        name_vi=NATIONAL_NAME_VI,
        region=None,
        tdmnpb_communes=frozenset(),
        registry=national_registry(),
        catalogs=catalogs,
        period=PERIOD,
        groups=groups,
        profile=NATIONAL_PROFILE,
    )


def scope_registry(scope: str) -> Registry:
    """The units of ``all`` (the nation) or of one province."""
    scope = check_province(scope)
    return national_registry() if scope == ALL else province_profile(scope).registry


# -- the report ----------------------------------------------------------------------------------------------------


def _row(code: str, name: str, scores: pd.DataFrame, sets: dict, bands: list, official: int | None) -> dict:
    """A row of the report, counted as the standard report counts a row (reports.summarise_row), with the share."""
    row = {"ma_don_vi": code, "ten_don_vi": name, **summarise_row(scores, sets, bands)}
    row = {k: None if isinstance(v, float) and np.isnan(v) else v for k, v in row.items()}
    row["ty_le_ntm"] = round(row["dat_ntm"] / row["so_xa"], 4) if row["so_xa"] else None
    row["xa_co_so_lieu"] = int(scores["has_data"].sum())
    row["so_xa_chinh_thuc"] = official
    return row


def national_summary(store: Store, province: Province, year: int, as_of: datetime | None = None) -> dict:
    """The national report of a year: ``tinh``, one row per province — the standard report's columns (ma_don_vi,
    ten_don_vi, so_xa, dat_ntm, nang_cao, kieu_mau, binh_quan_tieu_chi, the bands of criteria met) with
    ``ty_le_ntm`` = dat_ntm / so_xa (the registry's xã), ``xa_co_so_lieu`` and ``so_xa_chinh_thuc`` (the official
    number of xã, where known) — and ``toan_quoc``, the same for the nation. ``province``: the nation
    (national_province(), whose scoring is each province's rule); the signature of the cache's builders."""
    check_year(province, year)
    catalog = province.catalogs.for_year(year)
    results = store.current_results(as_of=as_of, years=[year])
    scores = commune_scores(results, province, years=[year])
    reg = province.registry
    of_province = scores["unit"].map(reg.units["province_code"])
    bands = report_bands(catalog.criteria_count("ntm"))
    names = province_names()
    rows = [
        _row(code, names[code], part, catalog.sets, bands, reg.official_xa_count(year, code))
        for code, part in zip(codes(), (scores[of_province == c] for c in codes()))
    ]
    return {
        "nam": year,
        "bo_tieu_chi": catalog.id,
        "so_tieu_chi": catalog.criteria_count("ntm"),
        "du_lieu_mau": bool(results["sample"].any()),
        "so_tinh": len(rows),
        "toan_quoc": _row(NATIONAL_CODE, NATIONAL_NAME_VI, scores, catalog.sets, bands, None),
        "tinh": rows,
    }


# -- geometry ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ViewGeometry:
    """GeoJSON text of the communes of a view and of its provinces (each the union of its communes), by code."""

    communes: dict[str, str | None]
    provinces: dict[str, str | None]
    layer: BoundaryLayer


@lru_cache(maxsize=1)
def _national_schematic():  # noqa: ANN202 - a GeoDataFrame
    return schematic_layer(national_registry())


def _schematic(registry: Registry):  # noqa: ANN202 - a GeoDataFrame
    """The schematic cells of the nation's layer for ``registry``'s units."""
    return _national_schematic().loc[registry.communes().index]


def boundary_layer(store: Store, registry: Registry) -> BoundaryLayer:
    """The imported boundary layer of the new units when it covers every commune-level unit of ``registry``, else the
    schematic layer, saying why (a province's file does not draw the nation). The schematic cells are the nation's
    (those of ``registry``'s units), so that a province's communes fill its outline in the nation's view."""
    layer = current_layer(store, registry)
    if layer.schematic:
        return BoundaryLayer(_schematic(registry), True, layer.source, 0)
    have, need = len(layer.communes), len(registry.communes())
    if have == need:
        return layer
    return BoundaryLayer(
        _schematic(registry),
        True,
        f"{SCHEMATIC_LABEL_VI} (lớp ranh giới đã nạp {layer.source} chỉ có {have}/{need} đơn vị)",
        0,
    )


def view_geometry(store: Store, scope: str, detail: str = "default") -> ViewGeometry:
    """The geometry of the communes of ``all`` (the nation) or one province, and of its provinces, at a detail
    (layers.simplified_geometries: at default detail one coverage simplified to half a pixel of the whole view)."""
    registry = scope_registry(scope)
    layer = boundary_layer(store, registry)
    communes, provinces = simplified_geometries(layer, detail, registry.units["province_code"])
    return ViewGeometry(geojson_strings(communes), geojson_strings(provinces), layer)


# -- layers --------------------------------------------------------------------------------------------------------


def _members(year: int, sample: bool, scope: str, layer: BoundaryLayer) -> dict:
    return {
        "nam": year,
        "don_vi": PERIOD,
        "pham_vi": scope,
        "du_lieu_mau": sample,
        "ranh_gioi": {"so_do_minh_hoa": layer.schematic, "nguon": layer.source},
    }


def commune_layer(
    store: Store,
    province: Province,
    year: int,
    scope: str = ALL,
    criterion: str | None = None,
    as_of: datetime | None = None,
    geometry: ViewGeometry | None = None,
) -> str:
    """The communes layer of the nation (``scope`` all) or of one province: the properties of
    layers.commune_properties (scored by the nation's Province, or the province's own profile) with ``ma_tinh`` and
    ``ten_tinh``; the collection carries ``pham_vi`` (all or the province's code). ``province``: the nation."""
    scope = check_province(scope)
    scored = province if scope == ALL else province_profile(scope)
    geometry = geometry or view_geometry(store, scope)
    props, sample = commune_properties(store, scored, year, criterion, as_of)
    names = province_names()
    of_province = scored.registry.units["province_code"]
    for p in props:
        p["ma_tinh"] = of_province[p["ma"]]
        p["ten_tinh"] = names[p["ma_tinh"]]
    return feature_collection(geometry.communes, props, _members(year, sample, scope, geometry.layer))


def province_layer(store: Store, province: Province, year: int, as_of: datetime | None = None, geometry: ViewGeometry | None = None) -> str:
    """The 34 provinces of a year, each with its row of the national report (``ma``, ``ten``, ``loai``, ``so_xa``,
    ``dat_ntm``, ``ty_le_ntm`` — what the map colours by —, ``binh_quan_tieu_chi``, …); the collection carries
    ``toan_quoc``, the nation's row. ``province``: the nation."""
    summary = national_summary(store, province, year, as_of)
    geometry = geometry or view_geometry(store, ALL)
    types = _provinces()["unit_type"]
    props = []
    for row in summary["tinh"]:
        code = row["ma_don_vi"]
        props.append(
            {
                "ma": code,
                "ten": row["ten_don_vi"],
                "loai": types[code],
                "loai_ten": PROVINCE_TYPES[types[code]],
                **{k: v for k, v in row.items() if k not in ("ma_don_vi", "ten_don_vi")},
                "chua_co_so_lieu": row["so_xa"] - row["xa_co_so_lieu"],
            }
        )
    members = _members(year, summary["du_lieu_mau"], ALL, geometry.layer)
    members |= {"bo_tieu_chi": summary["bo_tieu_chi"], "so_tieu_chi": summary["so_tieu_chi"], "toan_quoc": summary["toan_quoc"]}
    return feature_collection(geometry.provinces, props, members)


# -- the labelled sample -------------------------------------------------------------------------------------------

SAMPLE_YEAR = 2026


def _calibrated_share(p: Province, year: int) -> float | None:
    """The share of NTM xã a province's own profile calibrates its sample to for ``year`` (66: 26/88), if any."""
    from .sample import calibration

    if p.profile not in profile_ids():
        return None
    try:
        return calibration(p)["ntm_share"].get(year)
    except (ValueError, KeyError):  # a profile without a sample block, or without shares
        return None


def generate_national(seed: int = SEED, year: int = SAMPLE_YEAR) -> Sample:
    """The national SAMPLE (dữ liệu mẫu): criterion-level results of every xã of every province in ``year`` under
    the catalogue in force. Each province's share of NTM xã is drawn from Beta(3, 4) — mean 0.43, most between 0.15
    and 0.75: a plausible spread, THE SAMPLE'S CHOICE, not a published figure — except where the province's own
    profile calibrates its sample for that year (66: 26/88). Which xã are NTM is drawn at random within the
    province; an NTM xã meets every criterion, another meets 2 to all-but-one, the harder criteria last."""
    nation = national_province()
    catalog = nation.catalogs.for_year(year)
    set_code = next(code for code, s in catalog.sets.items() if s.get("tier") == "ntm")
    criteria = list(catalog.criterion_names(set_code))
    weights = np.array([DIFFICULTY.get(c, 3) for c in criteria], dtype=float)
    rng = np.random.default_rng(seed)
    xa = nation.registry.xa()
    ntm = pd.Series(False, index=xa.index)
    for code in codes():
        members = xa.index[xa["province_code"] == code]
        share = _calibrated_share(province_profile(code), year)
        share = float(rng.beta(3, 4)) if share is None else share
        ntm[rng.permutation(members)[: round(share * len(members))]] = True
    n, k = len(xa), len(criteria)
    # a xã not NTM: a number of criteria met, the easier first (the difficulty weights of nongthon.sample)
    count = np.clip(np.round(rng.normal(k * 0.6, k * 0.18, n)), 2, k - 1).astype(int)
    order = np.argsort(weights[None, :] + rng.normal(0, 1.6, (n, k)), axis=1)
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(k)[None, :].repeat(n, axis=0), axis=1)
    met = (rank < count[:, None]) | ntm.to_numpy()[:, None]
    results = pd.DataFrame(
        {
            "unit": np.repeat(xa.index.to_numpy(), k),
            "year": year,
            "catalog": catalog.id,
            "tier_set": set_code,
            "level": "criterion",
            "item": np.tile(criteria, n),
            "met": pd.array(met.ravel(), dtype="boolean"),
            "value": pd.array([pd.NA] * (n * k), dtype="Float64"),
        }
    )
    recognitions = pd.DataFrame(columns=["unit", "tier", "action", "decision_number", "decision_date", "note"])
    return Sample(results=results, recognitions=recognitions, seed=seed)


def load_national_sample(store: Store, seed: int = SEED) -> list[tuple[Province, Sample]]:
    """Write the national sample to the store, flagged as sample, and record that the store follows the whole
    country (NATIONAL_PROFILE)."""
    store.set_deployment_profile(NATIONAL_PROFILE)
    sample = generate_national(seed)
    source = f"{SOURCE}, toàn quốc, seed={seed}"
    store.write_results(sample.results, source=source, author="nongthon demo", kind="sample", sample=True, note=SAMPLE_LABEL_VI)
    return [(national_province(), sample)]
