"""A province profile: its unit registry (of one period), the catalogues in force and what selects each xã's
thresholds under each of them — its region (318/QĐ-TTg, 1980/QĐ-TTg) or its commune group (51/2025/QĐ-TTg).
Everything downstream (scoring, imports, reports) takes one ``Province``.

A profile is ``nongthon/provinces/<code>.yaml``:

- ``code``, ``name_vi``; ``period``: ``cu`` (units before 1 July 2025, the default) or ``moi`` (from that day);
- ``catalogs``: the catalogues in force, each for reporting years of the profile's period; ``overrides``:
  ``{catalogue id: file}`` of the province's own thresholds or sets (nongthon/catalogs/README.md);
- ``region``: the region whose thresholds apply, required when a catalogue in force selects by region (null
  otherwise); ``tdmnpb_communes``: xã assessed on the TDMNPB thresholds (318/QĐ-TTg Điều 1);
- ``commune_groups``: a CSV (``ma_xa,nhom``) of each xã's commune group, for a catalogue that selects by group; a
  xã not listed has no group yet (only thresholds for every group, '*', apply to it);
- ``predecessors``: the profiles of the provinces this one was formed from, in the earlier period (ids: file names
  without ``.yaml``, e.g. ``54`` and ``66-cu``; the office's own first) — what a deployment follows through time
  (nongthon/deployment.py);
- ``sample``: how the labelled sample is calibrated (nongthon/sample.py).

A profile's id is its file name: ``<code>`` or, where GSO reused the code in another period, ``<code>-<period>``
(``66`` is the new Tỉnh Đắk Lắk, ``66-cu`` the former one).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .criteria import Catalog, CatalogSet, Checker, catalog_set, load_catalog, read_yaml
from .errors import CatalogError, NongthonError, clip
from .units import COMMUNE_TYPES, ELIGIBLE_TYPE, PERIODS, Registry, load_registry, period_of_year

#: the threshold key of a xã whose commune group is not set: it matches no group, only thresholds for every group ('*')
UNGROUPED = "chua_xep_nhom"
PROFILE_KEYS = (
    "code",
    "name_vi",
    "period",
    "region",
    "tdmnpb_communes",
    "catalogs",
    "overrides",
    "commune_groups",
    "predecessors",
    "sample",
)
GROUP_COLUMNS = ["ma_xa", "nhom"]


@dataclass(frozen=True, eq=False)  # identity: holds DataFrames, used as a cache key
class Province:
    code: str
    name_vi: str
    region: str | None  # None when no catalogue in force selects by region
    tdmnpb_communes: frozenset[str]
    registry: Registry
    catalogs: CatalogSet
    period: str = "cu"
    #: xã code -> commune group ("1", "2", "3"), for the xã whose group is set (commune_groups CSV)
    groups: Mapping[str, str] = field(default_factory=dict)
    #: the profile's id (its file name without .yaml), and the ids of the profiles it was formed from
    profile: str = ""
    predecessors: tuple[str, ...] = ()

    def regions(self) -> pd.Series:
        """The threshold region of every commune, indexed by GSO code."""
        communes = self.registry.communes().index
        region = pd.Series(self.region, index=communes, name="region")
        region[region.index.isin(self.tdmnpb_communes)] = "TDMNPB"
        return region

    def commune_groups(self) -> pd.Series:
        """The commune group of every commune, indexed by GSO code; <NA> where it is not set (and for phường)."""
        communes = self.registry.communes().index
        return pd.Series(self.groups, dtype="string", name="group").reindex(communes)

    def selector(self, catalog: Catalog | str) -> pd.Series:
        """What selects the thresholds of every commune under ``catalog`` (a catalogue in force, or its id), indexed
        by GSO code: its region where the catalogue lists thresholds by region, its commune group where by group
        (UNGROUPED where the group is not set). These are the values of the catalogue's thresholds column ``region``."""
        cat = self.catalogs.by_id(catalog) if isinstance(catalog, str) else catalog
        if cat.selector == "group":
            return self.commune_groups().astype(object).fillna(UNGROUPED).rename("group")
        return self.regions()

    def threshold_selector(self, units: Any, catalogs: Any) -> pd.Series:
        """Row by row, the threshold key of ``units[i]`` under the catalogue ``catalogs[i]`` (ids; one id for every
        row): what scoring looks a threshold up by (the thresholds column ``region``). Never null: a unit outside the
        registry takes the province's region, or UNGROUPED. Aligned with ``units`` when it is a Series."""
        units = pd.Series(units, copy=False)
        index = units.index
        catalogs = pd.Series(catalogs, index=index) if isinstance(catalogs, str) else pd.Series(catalogs, copy=False)
        if len({c.selector for c in self.catalogs.catalogs}) == 1:  # the keys do not depend on the catalogue: one map
            return self._keys(units, self.catalogs.catalogs[0].id).set_axis(index).rename("region")
        u_codes, u_values = pd.factorize(units)  # a few hundred xã and a few catalogues: look each pair up once
        c_codes, c_values = pd.factorize(catalogs)
        table = np.empty((len(c_values), len(u_values) + 1), dtype=object)  # a last column where a missing unit lands
        for i, cid in enumerate(c_values):
            table[i, :-1] = self._keys(pd.Series(u_values, dtype=object), cid).to_numpy(dtype=object)
            table[i, -1] = self._keys(pd.Series([None], dtype=object), cid).iloc[0]
        return pd.Series(table[c_codes, u_codes], index=index, dtype=object, name="region")

    def _keys(self, units: pd.Series, catalog_id: str) -> pd.Series:
        cat = self.catalogs.by_id(catalog_id)
        return units.map(self.selector(cat)).fillna(UNGROUPED if cat.selector == "group" else self.region).astype(object)


def profile_ids() -> list[str]:
    """The ids of the profiles shipped with the package (``54``, ``66``, ``66-cu``, …)."""
    return sorted(p.name[: -len(".yaml")] for p in resources.files(__package__).joinpath("provinces").iterdir() if p.name.endswith(".yaml"))


@lru_cache(maxsize=8)
def load_province(profile: str = "54") -> Province:
    """A profile shipped with the package, by id: ``<code>`` or ``<code>-<period>`` (the file's name)."""
    profile = str(profile)
    if profile not in profile_ids():  # only the files there are: no path is ever built from what was asked
        raise CatalogError(f"Không có hồ sơ tỉnh {clip(repr(profile))} (nongthon/provinces/); có: {', '.join(profile_ids())}")
    path = Path(str(resources.files(__package__).joinpath("provinces", f"{profile}.yaml")))
    province = load_province_file(path)
    code, _, period = profile.partition("-")
    if province.code != code or (period and province.period != period):
        raise CatalogError(f"{path}: code {province.code!r}, period {province.period!r} khác tên tệp ({profile!r})")
    return province


def load_province_file(path: str | Path) -> Province:
    """A profile read from any file (its overrides and group CSV relative to it), validated: every problem at once,
    with its line."""
    path = Path(path)
    doc = read_yaml(path)
    chk = Checker(str(path), "Hồ sơ tỉnh")
    root = doc if isinstance(doc, dict) else {}
    chk.only(root, "(gốc)", PROFILE_KEYS)
    code = chk.need(root, "code", "(gốc)", str)
    name = chk.need(root, "name_vi", "(gốc)", str)
    period = chk.optional(root, "period", "(gốc)", str) or "cu"
    if period not in PERIODS:
        chk.fail(
            "period",
            f"{period!r} không hợp lệ; cho phép: {', '.join(f'{p.code} ({p.label_vi})' for p in PERIODS.values())}",
            root,
            "period",
        )
    if code is None or period not in PERIODS:
        chk.raise_if_any()  # no registry to check the rest against
    try:
        registry = load_registry(code, period)
    except NongthonError as exc:
        raise CatalogError(f"{path}: {exc}") from None
    catalogs = _catalogs(chk, root, path, period)
    region = _region(chk, root, catalogs)
    tdmnpb = chk.optional(root, "tdmnpb_communes", "(gốc)", list) or []
    unknown = set(tdmnpb) - set(registry.xa().index)
    if unknown:
        chk.fail("tdmnpb_communes", f"có mã không phải xã của tỉnh: {', '.join(sorted(map(str, unknown)))}", root, "tdmnpb_communes")
    groups: dict[str, str] = {}
    group_file = chk.optional(root, "commune_groups", "(gốc)", str)
    allowed = sorted({g for c in catalogs for g in c.groups})
    if group_file is not None and not allowed:
        chk.fail("commune_groups", "không bộ tiêu chí nào của hồ sơ chọn ngưỡng theo nhóm xã (threshold_by: group)", root, "commune_groups")
    predecessors = chk.optional(root, "predecessors", "(gốc)", list) or []
    if predecessors and period == "cu":
        chk.fail("predecessors", "chỉ hồ sơ của giai đoạn mới (period: moi) có tỉnh tiền thân", root, "predecessors")
    chk.raise_if_any()
    if group_file is not None:
        groups = read_commune_groups(path.parent / group_file, registry, allowed)
    return Province(
        code=code,
        name_vi=name,
        region=region,
        tdmnpb_communes=frozenset(tdmnpb),
        registry=registry,
        catalogs=catalog_set(catalogs),
        period=period,
        groups=groups,
        profile=path.name[: -len(".yaml")] if path.name.endswith(".yaml") else path.name,
        predecessors=tuple(str(p) for p in predecessors),
    )


def _catalogs(chk: Checker, root: dict, path: Path, period: str) -> list[Catalog]:
    """The catalogues in force (with the province's override files), each for reporting years of the period."""
    overrides = chk.optional(root, "overrides", "(gốc)", dict) or {}
    ids = chk.need(root, "catalogs", "(gốc)", list) or []
    for cid in overrides:
        if cid not in ids:
            chk.fail(f"overrides.{cid}", f"bộ tiêu chí không có trong catalogs ({', '.join(map(str, ids))})", overrides, cid)
    out = []
    for cid in ids:
        try:
            cat = load_catalog(cid, str(path.parent / overrides[cid]) if cid in overrides else None)
        except CatalogError as exc:
            chk.fail("catalogs", str(exc), root, "catalogs")
            continue
        if {period_of_year(cat.year_from), period_of_year(cat.year_to)} != {period}:
            chk.fail(
                "catalogs",
                f"bộ tiêu chí {cid} ({cat.year_from}–{cat.year_to}) không thuộc giai đoạn {period} ({PERIODS[period].label_vi})",
                root,
                "catalogs",
            )
        out.append(cat)
    return out


def _region(chk: Checker, root: dict, catalogs: list[Catalog]) -> str | None:
    """The province's region: required, and one of theirs, when a catalogue in force selects by region."""
    region = chk.optional(root, "region", "(gốc)", str)
    by_region = [c for c in catalogs if c.selector == "region"]
    if by_region and region is None:
        chk.fail("region", f"cần vùng của tỉnh: bộ {', '.join(c.id for c in by_region)} chọn ngưỡng theo vùng", root)
    for c in by_region:
        if region is not None and region not in c.regions:
            chk.fail("region", f"vùng {region!r} không có trong bộ {c.id}; có: {', '.join(c.regions)}", root, "region")
    return region


def read_commune_groups(path: str | Path, registry: Registry, allowed: list[str]) -> dict[str, str]:
    """The commune group of each xã listed in a CSV ``ma_xa,nhom`` (UTF-8): codes of xã of the registry, each
    once, groups among ``allowed``. Every problem is reported at once with its line and column."""
    path = Path(path)
    chk = Checker(str(path), "Tệp nhóm xã")
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise CatalogError(f"Không đọc được tệp nhóm xã {path}: {exc}") from None
    if list(df.columns) != GROUP_COLUMNS:
        raise CatalogError(
            f"{path}: các cột phải là {', '.join(GROUP_COLUMNS)}; tệp có: {', '.join(map(str, df.columns)) or 'không có cột'}"
        )
    units, where = registry.units, f"{registry.province_name}, {PERIODS[registry.period].label_vi}"
    out: dict[str, str] = {}
    seen: dict[str, int] = {}
    for i, (code, group) in enumerate(zip(df["ma_xa"].str.strip(), df["nhom"].str.strip())):
        line = i + 2  # the header is line 1
        if code not in units.index:
            chk.add(f"{path}, dòng {line}, cột ma_xa: mã {code!r} không phải đơn vị nào của {where}")
        elif units.at[code, "unit_type"] != ELIGIBLE_TYPE:
            kind = COMMUNE_TYPES.get(units.at[code, "unit_type"], units.at[code, "level"])
            chk.add(f"{path}, dòng {line}, cột ma_xa: mã {code} là {units.at[code, 'name']} ({kind}), không phải xã; chỉ xã được xếp nhóm")
        elif code in seen:
            chk.add(f"{path}, dòng {line}, cột ma_xa: mã {code} ({units.at[code, 'name']}) trùng với dòng {seen[code]}")
        if group not in allowed:
            chk.add(f"{path}, dòng {line}, cột nhom: nhóm {group!r} không hợp lệ; cho phép: {', '.join(allowed)}")
        seen.setdefault(code, line)
        out.setdefault(code, group)
    chk.raise_if_any()
    return out
