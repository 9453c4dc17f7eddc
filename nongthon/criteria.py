"""Criteria catalogues: loading one from YAML, validating it, applying a province's override file, and
the flat tables (criteria, indicators, thresholds, conditions) that scoring works on.

A catalogue covers a range of reporting years and holds up to three sets: ``ntm`` (the NTM commune
set), ``nang_cao`` (advanced) and ``kieu_mau`` (model conditions). The number of criteria per set, the
regions that select a threshold and the tiers all come from the file, not from code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from .errors import CatalogError, UnknownYear
from .text import nfc

SET_CODES = ("ntm", "nang_cao", "kieu_mau")  # the CSV's bo_tieu_chi values, in tier order
SET_NAMES_VI = {"ntm": "xã NTM", "nang_cao": "xã NTM nâng cao", "kieu_mau": "xã NTM kiểu mẫu"}
DISTRICT_SET_CODES = ("huyen_ntm", "hoan_thanh")  # recorded for district-level units (3-digit codes)
TIER_OF_SET = {"ntm": "ntm", "nang_cao": "advanced", "kieu_mau": "model"}
KINDS = {
    "boolean": "Đạt / Không đạt",
    "absence": "không còn (0) — đạt khi giá trị bằng 0",
    "minimum": "đạt khi giá trị ≥ ngưỡng",
    "maximum": "đạt khi giá trị ≤ ngưỡng",
}
UNITS = {"Đạt/Không đạt", "Có/Không", "%", "triệu đồng/người/năm", "m2/người"}
CONFIDENCE = {"confirmed", "likely", "unknown"}
ALL_REGIONS = "*"


@dataclass(frozen=True)
class Catalog:
    """One validated criteria catalogue, as flat tables.

    criteria:   set, criterion (str "1".."19"), name_vi, confidence, indicators_complete
    indicators: set, code, criterion, name_vi, measure_unit, kind, confidence, threshold_confidence, source
    thresholds: set, code, region, year (<NA> = every year), value
    conditions: code, name_vi, measure_unit, kind, confidence, from_set, from_indicator, factor
    """

    id: str
    name_vi: str
    year_from: int
    year_to: int
    regions: tuple[str, ...]
    sets: dict[str, dict[str, Any]]  # code -> {name_vi, tier, requires, criteria_count, decision}
    criteria: pd.DataFrame
    indicators: pd.DataFrame
    thresholds: pd.DataFrame
    conditions: pd.DataFrame
    overrides: tuple[str, ...] = field(default=())
    #: district-level sets (huyen_ntm, hoan_thanh): code -> {name_vi, applies_to, criteria_count,
    #: ntm_share, advanced_share}; their criteria in ``district_criteria`` (set, criterion, name_vi, confidence)
    district_sets: dict[str, dict[str, Any]] = field(default_factory=dict)
    district_criteria: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["set", "criterion", "name_vi", "confidence"]))

    def covers(self, year: int) -> bool:
        return self.year_from <= year <= self.year_to

    def criteria_count(self, set_code: str = "ntm") -> int:
        return int(self.sets[set_code]["criteria_count"])

    def criterion_names(self, set_code: str = "ntm") -> dict[str, str]:
        c = self.criteria[self.criteria["set"] == set_code]
        return dict(zip(c["criterion"], c["name_vi"]))


class _Checker:
    def __init__(self, source: str):
        self.source = source
        self.problems: list[str] = []

    def fail(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}")

    def need(self, mapping: Any, key: str, where: str, kinds: type | tuple[type, ...]) -> Any:
        if not isinstance(mapping, dict) or key not in mapping:
            self.fail(where, f"thiếu khóa bắt buộc '{key}'")
            return None
        value = mapping[key]
        if not isinstance(value, kinds):
            self.fail(f"{where}.{key}", f"giá trị {value!r} sai kiểu; cần {_kind_name(kinds)}")
            return None
        return value

    def raise_if_any(self) -> None:
        if self.problems:
            listed = "\n".join(f"  - {p}" for p in self.problems)
            raise CatalogError(f"Bộ tiêu chí {self.source} không hợp lệ ({len(self.problems)} lỗi):\n{listed}")


def _kind_name(kinds: type | tuple[type, ...]) -> str:
    names = {str: "chuỗi", int: "số nguyên", dict: "bảng khóa-giá trị", list: "danh sách", float: "số"}
    seq = kinds if isinstance(kinds, tuple) else (kinds,)
    return " hoặc ".join(names.get(k, k.__name__) for k in seq)


def _threshold_rows(
    chk: _Checker, where: str, set_code: str, code: str, spec: Any, regions: set[str], years: range
) -> list[dict[str, Any]]:
    """Rows (region, year, value) of a threshold spec: null, or {region|'*': number | {year: number}}."""
    if spec is None:
        return []
    if not isinstance(spec, dict):
        chk.fail(where, f"ngưỡng {spec!r} phải là null hoặc bảng vùng → giá trị")
        return []
    rows = []
    for region, value in spec.items():
        if region != ALL_REGIONS and region not in regions:
            chk.fail(f"{where}.{region}", f"vùng không có trong danh sách regions ({', '.join(sorted(regions))}, hoặc '*')")
            continue
        by_year = value if isinstance(value, dict) else {None: value}
        for year, v in by_year.items():
            if year is not None and (not isinstance(year, int) or year not in years):
                chk.fail(f"{where}.{region}.{year}", f"năm phải nằm trong {years.start}–{years.stop - 1}")
                continue
            if v is None:
                continue
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                chk.fail(f"{where}.{region}", f"ngưỡng {v!r} phải là số")
                continue
            rows.append({"set": set_code, "code": code, "region": region, "year": year, "value": float(v)})
    return rows


def parse_catalog(data: Any, source: str) -> Catalog:
    """Validate a catalogue document (already parsed from YAML) and turn it into flat tables.
    Every problem is collected and reported at once, each with its path in the file."""
    chk = _Checker(source)
    cid = chk.need(data, "id", "(gốc)", str)
    name = chk.need(data, "name_vi", "(gốc)", str)
    years = chk.need(data, "years", "(gốc)", dict) or {}
    y0 = chk.need(years, "from", "years", int)
    y1 = chk.need(years, "to", "years", int)
    if isinstance(y0, int) and isinstance(y1, int) and y0 > y1:
        chk.fail("years", f"from ({y0}) phải ≤ to ({y1})")
    year_range = range(y0 or 0, (y1 or 0) + 1)
    region_list = chk.need(data, "regions", "(gốc)", list) or []
    regions: list[str] = []
    for i, r in enumerate(region_list):
        code = chk.need(r, "code", f"regions[{i}]", str)
        if code in regions:
            chk.fail(f"regions[{i}].code", f"mã vùng {code!r} bị trùng")
        elif code:
            regions.append(code)
    region_set = set(regions)
    sets_doc = chk.need(data, "sets", "(gốc)", dict) or {}
    crit_rows: list[dict[str, Any]] = []
    ind_rows: list[dict[str, Any]] = []
    thr_rows: list[dict[str, Any]] = []
    cond_rows: list[dict[str, Any]] = []
    sets: dict[str, dict[str, Any]] = {}
    if "ntm" not in sets_doc:
        chk.fail("sets", "thiếu bộ 'ntm' (bộ tiêu chí xã NTM là bắt buộc)")
    for set_code, sdoc in sets_doc.items():
        where = f"sets.{set_code}"
        if set_code not in SET_CODES:
            chk.fail(where, f"bộ tiêu chí không xác định; cho phép: {', '.join(SET_CODES)}")
            continue
        if not isinstance(sdoc, dict):
            chk.fail(where, "phải là bảng khóa-giá trị")
            continue
        requires = sdoc.get("requires")
        info = {
            "name_vi": nfc(str(sdoc.get("name_vi", set_code))),
            "tier": TIER_OF_SET[set_code],
            "requires": requires,
            "decision": sdoc.get("decision"),
            "criteria_count": 0,
        }
        sets[set_code] = info
        if set_code == "kieu_mau":
            for i, c in enumerate(chk.need(sdoc, "conditions", where, list) or []):
                cw = f"{where}.conditions[{i}]"
                ccode = chk.need(c, "code", cw, str)
                kind = chk.need(c, "kind", cw, str)
                if kind and kind not in KINDS:
                    chk.fail(f"{cw}.kind", f"{kind!r} không hợp lệ; cho phép: {', '.join(KINDS)}")
                _check_common(chk, c, cw)
                frm = c.get("threshold_from") or {}
                if ccode in {r["code"] for r in cond_rows}:
                    chk.fail(f"{cw}.code", f"mã điều kiện {ccode!r} bị trùng")
                cond_rows.append(
                    {
                        "code": ccode,
                        "name_vi": nfc(str(c.get("name_vi", ""))),
                        "measure_unit": c.get("unit"),
                        "kind": kind,
                        "confidence": c.get("confidence"),
                        "from_set": frm.get("set"),
                        "from_indicator": None if frm.get("indicator") is None else str(frm.get("indicator")),
                        "factor": float(frm.get("factor", 1.0)),
                    }
                )
                thr_rows += _threshold_rows(chk, f"{cw}.threshold", "kieu_mau", ccode or "?", c.get("threshold"), region_set, year_range)
            continue
        expected = chk.need(sdoc, "criteria_count", where, int)
        info["criteria_count"] = expected or 0
        criteria = chk.need(sdoc, "criteria", where, list) or []
        if isinstance(expected, int) and len(criteria) != expected:
            chk.fail(f"{where}.criteria", f"có {len(criteria)} tiêu chí, nhưng criteria_count = {expected}")
        numbers = []
        for i, c in enumerate(criteria):
            cw = f"{where}.criteria[{i}]"
            number = chk.need(c, "number", cw, int)
            if number is None:
                continue
            if number in numbers:
                chk.fail(f"{cw}.number", f"số tiêu chí {number} bị trùng")
            numbers.append(number)
            chk.need(c, "name_vi", cw, str)
            _check_common(chk, c, cw)
            crit = str(number)
            crit_rows.append(
                {
                    "set": set_code,
                    "criterion": crit,
                    "name_vi": nfc(str(c.get("name_vi", ""))),
                    "confidence": c.get("confidence"),
                    "indicators_complete": bool(c.get("indicators_complete", True)),
                }
            )
            for j, ind in enumerate(c.get("indicators") or []):
                iw = f"{cw}.indicators[{j}]"
                code = chk.need(ind, "code", iw, str)
                kind = chk.need(ind, "kind", iw, str)
                unit = ind.get("unit") if isinstance(ind, dict) else None
                if kind and kind not in KINDS:
                    chk.fail(f"{iw}.kind", f"{kind!r} không hợp lệ; cho phép: {', '.join(KINDS)}")
                if unit not in UNITS:
                    chk.fail(f"{iw}.unit", f"đơn vị {unit!r} không xác định; cho phép: {', '.join(sorted(UNITS))}")
                if code and code != crit and not code.startswith(crit + "."):
                    chk.fail(f"{iw}.code", f"mã chỉ tiêu {code!r} phải là {crit} hoặc bắt đầu bằng '{crit}.'")
                if code in {r["code"] for r in ind_rows if r["set"] == set_code}:
                    chk.fail(f"{iw}.code", f"mã chỉ tiêu {code!r} bị trùng trong bộ {set_code}")
                _check_common(chk, ind, iw)
                if kind in ("minimum", "maximum"):
                    thr_rows += _threshold_rows(chk, f"{iw}.threshold", set_code, code or "?", ind.get("threshold"), region_set, year_range)
                elif ind.get("threshold") is not None:
                    chk.fail(f"{iw}.threshold", f"chỉ tiêu loại {kind} không có ngưỡng số; bỏ khóa threshold")
                ind_rows.append(
                    {
                        "set": set_code,
                        "code": code,
                        "criterion": crit,
                        "name_vi": nfc(str(ind.get("name_vi", ""))),
                        "measure_unit": unit,
                        "kind": kind,
                        "confidence": ind.get("confidence"),
                        "threshold_confidence": ind.get("threshold_confidence"),
                        "source": ind.get("source"),
                    }
                )
        if sorted(numbers) != list(range(1, len(numbers) + 1)):
            chk.fail(f"{where}.criteria", f"số tiêu chí phải liên tục từ 1 đến {len(numbers)}; có {sorted(numbers)}")
    for set_code, info in sets.items():
        if info["requires"] is not None and info["requires"] not in sets:
            chk.fail(f"sets.{set_code}.requires", f"bộ {info['requires']!r} không có trong danh mục")
    for c in cond_rows:
        if c["from_set"] is not None:
            known = {(r["set"], r["code"]) for r in ind_rows}
            if (c["from_set"], c["from_indicator"]) not in known:
                chk.fail(
                    f"sets.kieu_mau.conditions[{c['code']}].threshold_from",
                    f"không có chỉ tiêu {c['from_indicator']!r} trong bộ {c['from_set']!r}",
                )
    district_sets: dict[str, dict[str, Any]] = {}
    district_rows: list[dict[str, Any]] = []
    for dset, ddoc in (data.get("district_sets") or {}).items() if isinstance(data, dict) else []:
        where = f"district_sets.{dset}"
        if dset not in DISTRICT_SET_CODES:
            chk.fail(where, f"bộ cấp huyện không xác định; cho phép: {', '.join(DISTRICT_SET_CODES)}")
            continue
        count = chk.need(ddoc, "criteria_count", where, int)
        crits = chk.need(ddoc, "criteria", where, list) or []
        if isinstance(count, int) and len(crits) != count:
            chk.fail(f"{where}.criteria", f"có {len(crits)} tiêu chí, nhưng criteria_count = {count}")
        for i, c in enumerate(crits):
            n = chk.need(c, "number", f"{where}.criteria[{i}]", int)
            _check_common(chk, c, f"{where}.criteria[{i}]")
            district_rows.append(
                {"set": dset, "criterion": str(n), "name_vi": nfc(str(c.get("name_vi", ""))), "confidence": c.get("confidence")}
            )
        cond = ddoc.get("commune_conditions") or {}
        district_sets[dset] = {
            "name_vi": nfc(str(ddoc.get("name_vi", dset))),
            "decision": ddoc.get("decision"),
            "applies_to": list(ddoc.get("applies_to") or []),
            "criteria_count": count or 0,
            "ntm_share": float(cond.get("ntm_share", 1.0)),
            "advanced_share": float(cond.get("advanced_share", 0.0)),
        }
    chk.raise_if_any()
    thresholds = pd.DataFrame(thr_rows, columns=["set", "code", "region", "year", "value"])
    thresholds["year"] = thresholds["year"].astype("Int64")
    return Catalog(
        id=cid,
        name_vi=nfc(name),
        year_from=y0,
        year_to=y1,
        regions=tuple(regions),
        sets=sets,
        criteria=pd.DataFrame(crit_rows, columns=["set", "criterion", "name_vi", "confidence", "indicators_complete"]),
        indicators=pd.DataFrame(
            ind_rows,
            columns=["set", "code", "criterion", "name_vi", "measure_unit", "kind", "confidence", "threshold_confidence", "source"],
        ),
        thresholds=thresholds,
        conditions=pd.DataFrame(
            cond_rows, columns=["code", "name_vi", "measure_unit", "kind", "confidence", "from_set", "from_indicator", "factor"]
        ),
        district_sets=district_sets,
        district_criteria=pd.DataFrame(district_rows, columns=["set", "criterion", "name_vi", "confidence"]),
    )


def _check_common(chk: _Checker, item: Any, where: str) -> None:
    if not isinstance(item, dict):
        return
    for key in ("confidence", "threshold_confidence"):
        if key in item and item[key] not in CONFIDENCE:
            chk.fail(f"{where}.{key}", f"{item[key]!r} không hợp lệ; cho phép: {', '.join(sorted(CONFIDENCE))}")


def apply_overrides(catalog: Catalog, data: Any, source: str) -> Catalog:
    """Apply a province's threshold override file::

        catalog: qd318-2022
        source: "Quyết định số …/QĐ-UBND của UBND tỉnh …"
        thresholds:
          ntm:
            "15.4": {DHNTB: 60}
            "10": {DHNTB: {2023: 50, 2024: 55}}

    An overridden threshold replaces the catalogue's for the regions (and years) it names."""
    chk = _Checker(source)
    target = chk.need(data, "catalog", "(gốc)", str)
    if target is not None and target != catalog.id:
        chk.fail("catalog", f"tệp ghi đè dành cho {target!r}, không phải {catalog.id!r}")
    chk.need(data, "source", "(gốc)", str)
    rows: list[dict[str, Any]] = []
    for set_code, by_code in (chk.need(data, "thresholds", "(gốc)", dict) or {}).items():
        if set_code not in catalog.sets:
            chk.fail(f"thresholds.{set_code}", f"bộ không có trong {catalog.id}; có: {', '.join(catalog.sets)}")
            continue
        known = set(catalog.indicators.loc[catalog.indicators["set"] == set_code, "code"])
        if set_code == "kieu_mau":
            known = set(catalog.conditions["code"])
        for code, spec in (by_code or {}).items():
            code = str(code)
            if code not in known:
                chk.fail(f"thresholds.{set_code}.{code}", f"không có chỉ tiêu này trong bộ {set_code}; có: {', '.join(sorted(known))}")
                continue
            rows += _threshold_rows(
                chk,
                f"thresholds.{set_code}.{code}",
                set_code,
                code,
                spec,
                set(catalog.regions),
                range(catalog.year_from, catalog.year_to + 1),
            )
    chk.raise_if_any()
    new = pd.DataFrame(rows, columns=["set", "code", "region", "year", "value"])
    new["year"] = new["year"].astype("Int64")
    keys = ["set", "code", "region", "year"]
    old = catalog.thresholds
    if not new.empty:
        mask = old.set_index(keys).index.isin(new.set_index(keys).index)
        old = old[~mask]
    thresholds = pd.concat([old, new], ignore_index=True) if not new.empty else old
    return Catalog(**{**catalog.__dict__, "thresholds": thresholds, "overrides": catalog.overrides + (source,)})


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise CatalogError(f"Tệp {path} không phải YAML hợp lệ: {exc}") from None


def load_catalog_file(path: str | Path, overrides: str | Path | None = None) -> Catalog:
    path = Path(path)
    catalog = parse_catalog(_read_yaml(path), str(path))
    if overrides is not None:
        catalog = apply_overrides(catalog, _read_yaml(Path(overrides)), str(overrides))
    return catalog


def builtin_catalog_ids() -> list[str]:
    return sorted(
        p.name.removesuffix(".yaml") for p in resources.files(__package__).joinpath("catalogs").iterdir() if p.name.endswith(".yaml")
    )


@lru_cache(maxsize=16)
def load_catalog(catalog_id: str, overrides: str | None = None) -> Catalog:
    """A catalogue shipped with the package (nongthon/catalogs/<id>.yaml), with an optional override file."""
    ids = builtin_catalog_ids()
    if catalog_id not in ids:
        raise CatalogError(f"Không có bộ tiêu chí {catalog_id!r}; có: {', '.join(ids)}")
    path = Path(str(resources.files(__package__).joinpath("catalogs", f"{catalog_id}.yaml")))
    return load_catalog_file(path, overrides)


@dataclass(frozen=True)
class CatalogSet:
    """The catalogues in force, one per range of reporting years (ranges may not overlap)."""

    catalogs: tuple[Catalog, ...]

    def for_year(self, year: int) -> Catalog:
        for c in self.catalogs:
            if c.covers(year):
                return c
        raise UnknownYear(f"Năm {year} không thuộc bộ tiêu chí nào; các năm được hỗ trợ: {self.years_text()}")

    def covers(self, year: int) -> bool:
        return any(c.covers(year) for c in self.catalogs)

    def years(self) -> list[int]:
        return sorted(y for c in self.catalogs for y in range(c.year_from, c.year_to + 1))

    def years_text(self) -> str:
        return ", ".join(f"{c.year_from}–{c.year_to} ({c.id})" for c in sorted(self.catalogs, key=lambda c: c.year_from))

    def by_id(self, catalog_id: str) -> Catalog:
        for c in self.catalogs:
            if c.id == catalog_id:
                return c
        raise CatalogError(f"Không có bộ tiêu chí {catalog_id!r}")


def catalog_set(catalogs: list[Catalog]) -> CatalogSet:
    ordered = sorted(catalogs, key=lambda c: c.year_from)
    for a, b in zip(ordered, ordered[1:]):
        if b.year_from <= a.year_to:
            raise CatalogError(f"Bộ tiêu chí {a.id} ({a.year_from}–{a.year_to}) và {b.id} ({b.year_from}–{b.year_to}) trùng năm")
    return CatalogSet(tuple(ordered))
