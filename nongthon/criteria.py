"""Criteria catalogues: loading one from YAML, validating it, applying a province's override file, and
the flat tables (criteria, indicators, thresholds, conditions) that scoring works on.

A catalogue covers a range of reporting years and holds xã sets (``ntm``, ``nang_cao``, ``kieu_mau``,
``ntm_hien_dai``), each with its ``tier`` and the set it ``requires``, and the district-level sets. The number of
criteria per set, what selects a threshold (``threshold_by``: the commune's region, or its commune group), the
tiers and their order all come from the file, not from code. A key the loader does not know is an error naming
the file, the line and the key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd
import yaml

from .errors import CatalogError, UnknownYear
from .text import nfc

#: the CSV's bo_tieu_chi values for xã (tiers: Catalog.tier_of); new codes go last (scoring keys on positions)
SET_CODES = ("ntm", "nang_cao", "kieu_mau", "ntm_hien_dai")
SET_NAMES_VI = {"ntm": "xã NTM", "nang_cao": "xã NTM nâng cao", "kieu_mau": "xã NTM kiểu mẫu", "ntm_hien_dai": "xã NTM hiện đại"}
DISTRICT_SET_CODES = ("huyen_ntm", "hoan_thanh")  # recorded for district-level units (3-digit codes)
#: The tier vocabulary, lowest first: the order is the rank (scoring.TIER_RANK). A xã set's ``tier`` is one of
#: these and ranks above the tier of the set it ``requires``. "ntm_hien_dai" (NTM hiện đại, the pilot of
#: 51/2025/QĐ-TTg Phụ lục II) ranks highest: it never shares a catalogue with "model" (kiểu mẫu, 2021-2025,
#: which it succeeds), and a province that keeps its own nâng cao set in 2026-2030 places it between NTM and
#: NTM hiện đại (Đắk Lắk's plan: "NTM; NTM nâng cao; NTM hiện đại"); across the 2025/2026 boundary a xã recognised
#: hiện đại after kiểu mẫu shows its newer title.
TIERS = ("ntm", "advanced", "model", "ntm_hien_dai")
#: tiers whose set holds conditions (319/QĐ-TTg; 51/2025 Phụ lục II) instead of numbered criteria; a catalogue has
#: at most one such set (its conditions are the table ``Catalog.conditions``)
CONDITION_TIERS = ("model", "ntm_hien_dai")
#: how a tier is written in the API, the CSV and the map (a tier's code is the code of the set that confers it),
#: and in words; "none" is a xã with data that reaches no tier
TIER_CODES = {"none": "chua_dat", "ntm": "ntm", "advanced": "nang_cao", "model": "kieu_mau", "ntm_hien_dai": "ntm_hien_dai"}
TIER_WORDS = {
    "chua_dat": "Chưa đạt chuẩn",
    "ntm": "Đạt chuẩn NTM",
    "nang_cao": "NTM nâng cao",
    "kieu_mau": "NTM kiểu mẫu",
    "ntm_hien_dai": "NTM hiện đại",
}
KINDS = {
    "boolean": "Đạt / Không đạt",
    "absence": "không còn (0) — đạt khi giá trị bằng 0",
    "minimum": "đạt khi giá trị ≥ ngưỡng",
    "maximum": "đạt khi giá trị ≤ ngưỡng",
}
UNITS = {"Đạt/Không đạt", "Có/Không", "%", "triệu đồng/người/năm", "m2/người"}
CONFIDENCE = {"confirmed", "likely", "unknown"}
ALL_REGIONS = "*"
#: what selects a threshold (``threshold_by``) -> the key of the file that lists its values; the thresholds table
#: keys on the value in its column ``region`` either way (a region code such as DHNTB, or a group code "1".."3")
SELECTORS = {"region": "regions", "group": "groups"}
SELECTOR_WORDS = {"region": "vùng", "group": "nhóm xã"}


class _Selector(NamedTuple):
    kind: str  # region / group
    values: tuple[str, ...]


CRITERIA_COLUMNS = ["set", "criterion", "name_vi", "confidence", "indicators_complete"]
INDICATOR_COLUMNS = ["set", "code", "criterion", "name_vi", "measure_unit", "kind", "confidence", "threshold_confidence", "source"]
THRESHOLD_COLUMNS = ["set", "code", "region", "year", "value"]
CONDITION_COLUMNS = ["code", "name_vi", "measure_unit", "kind", "confidence", "from_set", "from_indicator", "factor"]
RECOGNITION_COLUMNS = ["set", "code", "name_vi", "confidence"]
DISTRICT_COLUMNS = ["set", "criterion", "name_vi", "confidence", "kind"]


@dataclass(frozen=True)
class Catalog:
    """One validated criteria catalogue, as flat tables.

    criteria:   set, criterion (str "1".."19"), name_vi, confidence, indicators_complete
    indicators: set, code, criterion, name_vi, measure_unit, kind, confidence, threshold_confidence, source
    thresholds: set, code, region, year (<NA> = every year), value — ``region`` holds the value of the
        catalogue's selector: a region code (threshold_by: region) or a commune group code (threshold_by: group)
    conditions: code, name_vi, measure_unit, kind, confidence, from_set, from_indicator, factor (the conditions
        of the catalogue's one set of a tier in CONDITION_TIERS: kiểu mẫu, or NTM hiện đại)
    recognition_conditions: set, code, name_vi, confidence — conditions of recognition beyond the criteria
        (18/2022/QĐ-TTg: resident satisfaction, no outstanding construction debt, security), recorded đạt / không đạt
    district_criteria: set, criterion, name_vi, confidence, kind — the items recorded for a district-level unit:
        kind "criterion" (criterion = "1".."9") or "condition" (criterion = the condition's code, e.g. "hai_long")
    """

    id: str
    name_vi: str
    year_from: int
    year_to: int
    regions: tuple[str, ...]  # the region codes (threshold_by: region); () for a catalogue that selects by group
    sets: dict[str, dict[str, Any]]  # code -> {name_vi, tier, requires, criteria_count, indicator_count, decision, ...}
    criteria: pd.DataFrame
    indicators: pd.DataFrame
    thresholds: pd.DataFrame
    conditions: pd.DataFrame
    overrides: tuple[str, ...] = field(default=())
    #: district-level sets (huyen_ntm, hoan_thanh): code -> {name_vi, decision, applies_to, criteria_count,
    #: ntm_share, advanced_share}; their criteria and conditions in ``district_criteria``
    district_sets: dict[str, dict[str, Any]] = field(default_factory=dict)
    district_criteria: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=DISTRICT_COLUMNS))
    recognition_conditions: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=RECOGNITION_COLUMNS))
    #: what selects a threshold: "region" (the commune's region, ``regions``) or "group" (its commune group, ``groups``)
    selector: str = "region"
    groups: tuple[str, ...] = ()  # the commune group codes ("1", "2", "3") when selector == "group"

    @property
    def selector_values(self) -> tuple[str, ...]:
        """The values that key the thresholds (besides '*'): the region codes or the group codes."""
        return self.groups if self.selector == "group" else self.regions

    @property
    def condition_set(self) -> str | None:
        """The set that holds ``conditions`` (tier model or ntm_hien_dai), None when the catalogue has none."""
        return next((code for code, info in self.sets.items() if info["tier"] in CONDITION_TIERS), None)

    def covers(self, year: int) -> bool:
        return self.year_from <= year <= self.year_to

    def criteria_count(self, set_code: str = "ntm") -> int:
        return int(self.sets[set_code]["criteria_count"])

    def criterion_names(self, set_code: str = "ntm") -> dict[str, str]:
        c = self.criteria[self.criteria["set"] == set_code]
        return dict(zip(c["criterion"], c["name_vi"]))

    def tier_chain(self) -> list[str]:
        """The xã sets in requirement order, the set that requires none first: ["ntm", "nang_cao", "kieu_mau"]."""
        return _chain(self.sets)

    def tier_of(self, set_code: str) -> str:
        """The tier of a xã set as the file states it: one of TIERS ("ntm", "advanced", "model", "ntm_hien_dai")."""
        if set_code not in self.sets:
            raise CatalogError(f"Bộ tiêu chí {self.id} không có bộ {set_code!r}; có: {', '.join(self.sets)}")
        return self.sets[set_code]["tier"]


def _chain(sets: dict[str, dict[str, Any]]) -> list[str]:
    """Follow ``requires`` from the set that requires none to the set that requires it, and so on."""
    after = {info["requires"]: code for code, info in sets.items()}
    chain: list[str] = []
    code = after.get(None)
    while code is not None and code not in chain:
        chain.append(code)
        code = after.get(code)
    return chain


# --- reading YAML with line numbers ---------------------------------------------------------------------


class _Mapping(dict):
    """A mapping read from a YAML file: ``line`` is where it starts, ``lines`` the line of each key (1-based),
    ``repeated`` the keys written twice (YAML keeps the last silently)."""

    def __init__(self, line: int | None = None):
        super().__init__()
        self.line = line
        self.lines: dict[Any, int] = {}
        self.repeated: list[Any] = []


class _LineLoader(yaml.SafeLoader):
    """yaml.SafeLoader whose mappings are ``_Mapping`` objects."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode):
    data = _Mapping(node.start_mark.line + 1)
    yield data
    data.update(loader.construct_mapping(node))
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in data.lines:
            data.repeated.append(key)
        data.lines[key] = key_node.start_mark.line + 1


_LineLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)


def _line(mapping: Any, key: Any = None) -> int | None:
    """The line of ``key`` in a mapping read from a file (of the mapping itself when the key is absent)."""
    if not isinstance(mapping, _Mapping):
        return None
    return mapping.lines.get(key, mapping.line)


def read_yaml(path: Path) -> Any:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader)  # noqa: S506 (a SafeLoader)
    except yaml.YAMLError as exc:
        raise CatalogError(f"Tệp {path} không phải YAML hợp lệ: {exc}") from None


# --- collecting problems ---------------------------------------------------------------------------------


class Checker:
    """Collects every problem of one file, each with its path and, when the document came from a file, its line."""

    def __init__(self, source: str, title: str = "Bộ tiêu chí"):
        self.source = source
        self.title = title  # what the file is, in the summary line: "Bộ tiêu chí …", "Hồ sơ tỉnh …"
        self.problems: list[str] = []

    def add(self, text: str, at: Any = None, key: Any = None) -> None:
        line = _line(at, key)
        self.problems.append(f"{self.source}, dòng {line}: {text}" if line else text)

    def fail(self, where: str, message: str, at: Any = None, key: Any = None) -> None:
        """A problem at path ``where``; ``at`` / ``key``: the mapping (and key) it was read from, for the line."""
        self.add(f"{where}: {message}", at, key)

    def only(self, mapping: Any, where: str, allowed: tuple[str, ...]) -> None:
        """Every key of ``mapping`` must be one of ``allowed``, and written once."""
        if not isinstance(mapping, dict):
            return
        for key in mapping:
            if key not in allowed:
                self.add(f"khóa không xác định {key!r} trong {where}; cho phép: {', '.join(allowed)}", mapping, key)
        for key in getattr(mapping, "repeated", ()):
            self.add(f"khóa {key!r} viết hai lần trong {where}; giữ một", mapping, key)

    def need(self, mapping: Any, key: str, where: str, kinds: type | tuple[type, ...]) -> Any:
        if not isinstance(mapping, dict) or key not in mapping:
            self.fail(where, f"thiếu khóa bắt buộc '{key}'", mapping)
            return None
        return self._typed(mapping, key, where, kinds)

    def optional(self, mapping: Any, key: str, where: str, kinds: type | tuple[type, ...]) -> Any:
        if not isinstance(mapping, dict) or mapping.get(key) is None:
            return None
        return self._typed(mapping, key, where, kinds)

    def _typed(self, mapping: dict, key: str, where: str, kinds: type | tuple[type, ...]) -> Any:
        value = mapping[key]
        seq = kinds if isinstance(kinds, tuple) else (kinds,)
        if not isinstance(value, seq) or (isinstance(value, bool) and bool not in seq):
            self.fail(f"{where}.{key}", f"giá trị {value!r} sai kiểu; cần {_kind_name(seq)}", mapping, key)
            return None
        return value

    def raise_if_any(self) -> None:
        if self.problems:
            listed = "\n".join(f"  - {p}" for p in self.problems)
            raise CatalogError(f"{self.title} {self.source} không hợp lệ ({len(self.problems)} lỗi):\n{listed}")


def _kind_name(kinds: tuple[type, ...]) -> str:
    names = {str: "chuỗi", int: "số nguyên", dict: "bảng khóa-giá trị", list: "danh sách", float: "số", bool: "true / false"}
    return " hoặc ".join(names.get(k, k.__name__) for k in kinds)


def _check_confidence(chk: Checker, item: Any, where: str) -> None:
    if not isinstance(item, dict):
        return
    for key in ("confidence", "threshold_confidence"):
        if key in item and item[key] not in CONFIDENCE:
            chk.fail(f"{where}.{key}", f"{item[key]!r} không hợp lệ; cho phép: {', '.join(sorted(CONFIDENCE))}", item, key)


# --- parsing a catalogue, step by step -------------------------------------------------------------------


@dataclass
class _Rows:
    """The rows of the flat tables, filled step by step while a catalogue is read."""

    criteria: list[dict[str, Any]] = field(default_factory=list)
    indicators: list[dict[str, Any]] = field(default_factory=list)
    thresholds: list[dict[str, Any]] = field(default_factory=list)
    conditions: list[dict[str, Any]] = field(default_factory=list)
    recognition: list[dict[str, Any]] = field(default_factory=list)
    district: list[dict[str, Any]] = field(default_factory=list)
    #: model conditions whose threshold follows another set's indicator: (where, mapping, set, indicator)
    references: list[tuple[str, Any, Any, Any]] = field(default_factory=list)


def parse_catalog(data: Any, source: str) -> Catalog:
    """Validate a catalogue document (already parsed from YAML) and turn it into flat tables.
    Every problem is collected and reported at once, each with its path in the file (and its line, when the
    document was read by ``load_catalog_file``)."""
    chk = Checker(source)
    root = data if isinstance(data, dict) else {}
    if not isinstance(data, dict):
        chk.fail("(gốc)", "tệp phải là bảng khóa-giá trị")
    chk.only(
        root,
        "(gốc)",
        (
            "id",
            "name_vi",
            "decisions",
            "years",
            "threshold_by",
            "regions",
            "regions_source",
            "groups",
            "groups_source",
            "sets",
            "district_sets",
        ),
    )
    cid = chk.need(root, "id", "(gốc)", str)
    name = chk.need(root, "name_vi", "(gốc)", str)
    _check_decisions(chk, root)
    years = _parse_years(chk, root)
    sel = _parse_selector(chk, root)
    rows = _Rows()
    sets = _parse_commune_sets(chk, root, sel, years, rows)
    _check_tier_chain(chk, root.get("sets"), sets)
    _check_condition_references(chk, rows)
    district_sets = _parse_district_sets(chk, root, rows)
    chk.raise_if_any()
    thresholds = pd.DataFrame(rows.thresholds, columns=THRESHOLD_COLUMNS)
    thresholds["year"] = thresholds["year"].astype("Int64")
    return Catalog(
        id=cid,
        name_vi=nfc(name),
        year_from=years.start,
        year_to=years.stop - 1,
        regions=sel.values if sel.kind == "region" else (),
        sets=sets,
        criteria=pd.DataFrame(rows.criteria, columns=CRITERIA_COLUMNS),
        indicators=pd.DataFrame(rows.indicators, columns=INDICATOR_COLUMNS),
        thresholds=thresholds,
        conditions=pd.DataFrame(rows.conditions, columns=CONDITION_COLUMNS),
        district_sets=district_sets,
        district_criteria=pd.DataFrame(rows.district, columns=DISTRICT_COLUMNS),
        recognition_conditions=pd.DataFrame(rows.recognition, columns=RECOGNITION_COLUMNS),
        selector=sel.kind,
        groups=sel.values if sel.kind == "group" else (),
    )


def _check_decisions(chk: Checker, root: dict) -> None:
    """decisions: the legal texts the catalogue follows (kept in the file for the reader; not loaded)."""
    for i, d in enumerate(chk.optional(root, "decisions", "(gốc)", list) or []):
        where = f"decisions[{i}]"
        chk.only(d, where, ("number", "date", "effective", "confidence", "source", "note"))
        chk.need(d, "number", where, str)
        _check_confidence(chk, d, where)


def _parse_years(chk: Checker, root: dict) -> range:
    years = chk.need(root, "years", "(gốc)", dict) or {}
    chk.only(years, "years", ("from", "to", "note"))
    y0 = chk.need(years, "from", "years", int)
    y1 = chk.need(years, "to", "years", int)
    if isinstance(y0, int) and isinstance(y1, int) and y0 > y1:
        chk.fail("years", f"from ({y0}) phải ≤ to ({y1})", years, "from")
    return range(y0 or 0, (y1 or 0) + 1)


def _parse_selector(chk: Checker, root: dict) -> _Selector:
    """threshold_by (default region) and the list of its values: ``regions`` (code, name_vi) or ``groups``
    (code, name_vi, definition_vi, confidence). The other list may not be given."""
    kind = chk.optional(root, "threshold_by", "(gốc)", str) or "region"
    if kind not in SELECTORS:
        allowed = ", ".join(f"{k} (khóa {v})" for k, v in SELECTORS.items())
        chk.fail("threshold_by", f"{kind!r} không hợp lệ; cho phép: {allowed}", root, "threshold_by")
        kind = "group" if "groups" in root else "region"
    for other, key in SELECTORS.items():
        if other != kind and key in root:
            chk.fail(key, f"chỉ dùng khi threshold_by: {other}; bộ này chọn ngưỡng theo {kind} (khóa {SELECTORS[kind]})", root, key)
    key, word = SELECTORS[kind], SELECTOR_WORDS[kind]
    allowed_keys = ("code", "name_vi") if kind == "region" else ("code", "name_vi", "definition_vi", "confidence")
    values: list[str] = []
    for i, r in enumerate(chk.need(root, key, "(gốc)", list) or []):
        chk.only(r, f"{key}[{i}]", allowed_keys)
        code = chk.need(r, "code", f"{key}[{i}]", str)
        _check_confidence(chk, r, f"{key}[{i}]")
        if code == ALL_REGIONS:
            chk.fail(f"{key}[{i}].code", f"'{ALL_REGIONS}' là ngưỡng chung cho mọi {word}, không dùng làm mã", r, "code")
        elif code in values:
            chk.fail(f"{key}[{i}].code", f"mã {word} {code!r} bị trùng", r, "code")
        elif code:
            values.append(code)
    return _Selector(kind, tuple(values))


def _parse_commune_sets(chk: Checker, root: dict, sel: _Selector, years: range, rows: _Rows) -> dict[str, dict[str, Any]]:
    """sets: the xã sets, code -> {name_vi, tier, requires, decision, criteria_count, ...}. The set ``ntm`` is
    required; at most one set holds conditions (CONDITION_TIERS)."""
    sets_doc = chk.need(root, "sets", "(gốc)", dict) or {}
    if isinstance(root.get("sets"), dict) and "ntm" not in sets_doc:
        chk.fail("sets", "thiếu bộ 'ntm' (bộ tiêu chí xã NTM là bắt buộc)", sets_doc)
    sets: dict[str, dict[str, Any]] = {}
    for set_code in sets_doc:
        info = _parse_commune_set(chk, sets_doc, set_code, sel, years, rows)
        if info is not None:
            sets[set_code] = info
    _check_one_condition_set(chk, sets_doc, sets)
    return sets


def _parse_commune_set(chk: Checker, sets_doc: dict, set_code: Any, sel: _Selector, years: range, rows: _Rows) -> dict[str, Any] | None:
    """One xã set. A set of a tier in CONDITION_TIERS holds ``conditions`` (``conditions_complete: false`` when the
    list is not known in full), any other set numbered ``criteria`` (``indicator_count``: how many indicators the
    decision has, listed or not); every set may list its ``recognition_conditions``."""
    where, sdoc = f"sets.{set_code}", sets_doc[set_code]
    if set_code not in SET_CODES:
        chk.fail(where, f"bộ tiêu chí không xác định; cho phép: {', '.join(SET_CODES)}", sets_doc, set_code)
        return None
    if not isinstance(sdoc, dict):
        chk.fail(where, "phải là bảng khóa-giá trị", sets_doc, set_code)
        return None
    tier = chk.need(sdoc, "tier", where, str)
    if tier is not None and tier not in TIERS:
        chk.fail(f"{where}.tier", f"hạng {tier!r} không xác định; cho phép: {', '.join(TIERS)}", sdoc, "tier")
    info = {
        "name_vi": nfc(str(sdoc.get("name_vi", set_code))),
        "tier": tier,
        "requires": chk.optional(sdoc, "requires", where, str),
        "decision": sdoc.get("decision"),
        "criteria_count": 0,
        "indicator_count": None,
        "conditions_complete": True,
    }
    if tier not in TIERS:
        return info  # its shape (criteria or conditions) depends on the tier
    conditions = tier in CONDITION_TIERS
    shape = ("conditions", "conditions_complete") if conditions else ("criteria_count", "criteria", "criteria_source", "indicator_count")
    chk.only(sdoc, where, ("name_vi", "tier", "requires", "decision", "note", "recognition_conditions") + shape)
    if conditions:
        _parse_model_conditions(chk, sdoc, where, set_code, sel, years, rows)
        info["conditions_complete"] = chk.optional(sdoc, "conditions_complete", where, bool) is not False
    else:
        info["criteria_count"] = _parse_criteria(chk, sdoc, where, set_code, sel, years, rows)
        info["indicator_count"] = _check_indicator_count(chk, sdoc, where, set_code, rows)
    recognition = chk.optional(sdoc, "recognition_conditions", where, list)
    rows.recognition += [{"set": set_code, **r} for r in _recorded_conditions(chk, recognition, f"{where}.recognition_conditions")]
    return info


def _check_indicator_count(chk: Checker, sdoc: dict, where: str, set_code: str, rows: _Rows) -> int | None:
    """indicator_count: the decision's number of indicators. Fewer listed is allowed only when a criterion says its
    list is incomplete (indicators_complete: false); more listed is an error."""
    count = chk.optional(sdoc, "indicator_count", where, int)
    if count is None:
        return None
    listed = sum(1 for r in rows.indicators if r["set"] == set_code)
    complete = all(r["indicators_complete"] for r in rows.criteria if r["set"] == set_code)
    if listed > count:
        chk.fail(
            f"{where}.indicator_count",
            f"có {listed} chỉ tiêu trong danh sách, nhiều hơn indicator_count = {count}",
            sdoc,
            "indicator_count",
        )
    elif listed < count and complete:
        chk.fail(
            f"{where}.indicator_count",
            f"có {listed} chỉ tiêu trong danh sách, ít hơn indicator_count = {count}, nhưng không tiêu chí nào ghi indicators_complete: false",
            sdoc,
            "indicator_count",
        )
    return count


def _check_one_condition_set(chk: Checker, sets_doc: Any, sets: dict[str, dict[str, Any]]) -> None:
    held = [code for code, info in sets.items() if info["tier"] in CONDITION_TIERS]
    if len(held) > 1:
        chk.fail(
            "sets",
            f"chỉ được một bộ gồm điều kiện (hạng {', '.join(CONDITION_TIERS)}); có {len(held)}: {', '.join(held)}",
            sets_doc,
        )


def _parse_criteria(chk: Checker, sdoc: dict, where: str, set_code: str, sel: _Selector, years: range, rows: _Rows) -> int:
    """A set's numbered criteria 1…N with their indicators; returns N as the file states it (criteria_count)."""
    expected = chk.need(sdoc, "criteria_count", where, int)
    criteria = chk.need(sdoc, "criteria", where, list) or []
    if isinstance(expected, int) and len(criteria) != expected:
        chk.fail(f"{where}.criteria", f"có {len(criteria)} tiêu chí, nhưng criteria_count = {expected}", sdoc, "criteria")
    numbers: list[int] = []
    for i, c in enumerate(criteria):
        cw = f"{where}.criteria[{i}]"
        chk.only(c, cw, ("number", "name_vi", "name_en", "confidence", "indicators_complete", "indicators", "notes", "source"))
        number = chk.need(c, "number", cw, int)
        if number is None:
            continue
        if number in numbers:
            chk.fail(f"{cw}.number", f"số tiêu chí {number} bị trùng", c, "number")
        numbers.append(number)
        chk.need(c, "name_vi", cw, str)
        _check_confidence(chk, c, cw)
        crit = str(number)
        rows.criteria.append(
            {
                "set": set_code,
                "criterion": crit,
                "name_vi": nfc(str(c.get("name_vi", ""))),
                "confidence": c.get("confidence"),
                "indicators_complete": bool(c.get("indicators_complete", True)),
            }
        )
        for j, ind in enumerate(chk.optional(c, "indicators", cw, list) or []):
            _parse_indicator(chk, ind, f"{cw}.indicators[{j}]", set_code, crit, sel, years, rows)
    if sorted(numbers) != list(range(1, len(numbers) + 1)):
        chk.fail(f"{where}.criteria", f"số tiêu chí phải liên tục từ 1 đến {len(numbers)}; có {sorted(numbers)}", sdoc, "criteria")
    return expected or 0


def _parse_indicator(chk: Checker, ind: Any, iw: str, set_code: str, crit: str, sel: _Selector, years: range, rows: _Rows) -> None:
    chk.only(
        ind,
        iw,
        (
            "code",
            "name_vi",
            "unit",
            "kind",
            "threshold",
            "confidence",
            "threshold_confidence",
            "source",
            "notes",
            "quote",
            "year_dependent",
        ),
    )
    code = chk.need(ind, "code", iw, str)
    kind = chk.need(ind, "kind", iw, str)
    unit = ind.get("unit") if isinstance(ind, dict) else None
    if kind and kind not in KINDS:
        chk.fail(f"{iw}.kind", f"{kind!r} không hợp lệ; cho phép: {', '.join(KINDS)}", ind, "kind")
    if unit not in UNITS:
        chk.fail(f"{iw}.unit", f"đơn vị {unit!r} không xác định; cho phép: {', '.join(sorted(UNITS))}", ind, "unit")
    if code and code != crit and not code.startswith(crit + "."):
        chk.fail(f"{iw}.code", f"mã chỉ tiêu {code!r} phải là {crit} hoặc bắt đầu bằng '{crit}.'", ind, "code")
    if code in {r["code"] for r in rows.indicators if r["set"] == set_code}:
        chk.fail(f"{iw}.code", f"mã chỉ tiêu {code!r} bị trùng trong bộ {set_code}", ind, "code")
    _check_confidence(chk, ind, iw)
    if not isinstance(ind, dict):
        return
    if kind in ("minimum", "maximum"):
        rows.thresholds += _threshold_rows(chk, f"{iw}.threshold", set_code, code or "?", ind.get("threshold"), sel, years)
    elif ind.get("threshold") is not None:
        chk.fail(f"{iw}.threshold", f"chỉ tiêu loại {kind} không có ngưỡng số; bỏ khóa threshold", ind, "threshold")
    rows.indicators.append(
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


def _parse_model_conditions(chk: Checker, sdoc: dict, where: str, set_code: str, sel: _Selector, years: range, rows: _Rows) -> None:
    """The conditions of a set of a tier in CONDITION_TIERS (kiểu mẫu, 319/QĐ-TTg; NTM hiện đại, 51/2025 Phụ lục II);
    a threshold may follow another set's indicator (threshold_from)."""
    for i, c in enumerate(chk.need(sdoc, "conditions", where, list) or []):
        cw = f"{where}.conditions[{i}]"
        chk.only(
            c,
            cw,
            ("code", "name_vi", "unit", "kind", "threshold", "threshold_from", "confidence", "threshold_confidence", "note", "source"),
        )
        code = chk.need(c, "code", cw, str)
        kind = chk.need(c, "kind", cw, str)
        if kind and kind not in KINDS:
            chk.fail(f"{cw}.kind", f"{kind!r} không hợp lệ; cho phép: {', '.join(KINDS)}", c, "kind")
        _check_confidence(chk, c, cw)
        if not isinstance(c, dict):
            continue
        if code in {r["code"] for r in rows.conditions}:
            chk.fail(f"{cw}.code", f"mã điều kiện {code!r} bị trùng", c, "code")
        frm = chk.optional(c, "threshold_from", cw, dict) or {}
        chk.only(frm, f"{cw}.threshold_from", ("set", "indicator", "factor"))
        factor = chk.optional(frm, "factor", f"{cw}.threshold_from", (int, float))
        if frm.get("set") is not None:
            rows.references.append((f"{cw}.threshold_from", frm, frm.get("set"), frm.get("indicator")))
        rows.conditions.append(
            {
                "code": code,
                "name_vi": nfc(str(c.get("name_vi", ""))),
                "measure_unit": c.get("unit"),
                "kind": kind,
                "confidence": c.get("confidence"),
                "from_set": frm.get("set"),
                "from_indicator": None if frm.get("indicator") is None else str(frm.get("indicator")),
                "factor": float(1.0 if factor is None else factor),
            }
        )
        rows.thresholds += _threshold_rows(chk, f"{cw}.threshold", set_code, code or "?", c.get("threshold"), sel, years)


def _recorded_conditions(chk: Checker, items: list | None, where: str, taken: list[str] | tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Conditions recorded đạt / không đạt, with no indicator or threshold: the recognition conditions of a xã
    set and the conditions of a district set (whose codes may not be one of its criteria, ``taken``).
    Rows (code, name_vi, confidence)."""
    out: list[dict[str, Any]] = []
    for i, c in enumerate(items or []):
        cw = f"{where}[{i}]"
        chk.only(c, cw, ("code", "name_vi", "confidence", "source"))
        code = chk.need(c, "code", cw, str)
        name = chk.need(c, "name_vi", cw, str)
        chk.need(c, "confidence", cw, str)
        chk.need(c, "source", cw, str)
        _check_confidence(chk, c, cw)
        if code is None:
            continue
        if code in taken:
            chk.fail(f"{cw}.code", f"mã {code!r} trùng với số một tiêu chí của bộ", c, "code")
        elif code in {r["code"] for r in out}:
            chk.fail(f"{cw}.code", f"mã điều kiện {code!r} bị trùng", c, "code")
        out.append({"code": code, "name_vi": nfc(name or ""), "confidence": c.get("confidence")})
    return out


def _check_tier_chain(chk: Checker, sets_doc: Any, sets: dict[str, dict[str, Any]]) -> None:
    """The xã sets form one chain through ``requires``: exactly one set requires none, every other requires a set
    of this catalogue that no other set requires, the chain reaches every set (no cycle) and each set ranks above
    the set it requires (TIERS)."""
    sets_doc = sets_doc if isinstance(sets_doc, dict) else {}
    before = len(chk.problems)
    roots = [code for code, info in sets.items() if info["requires"] is None]
    if sets and len(roots) != 1:
        chk.fail("sets", f"phải có đúng một bộ không có 'requires' (bộ gốc); có {len(roots)}: {', '.join(roots) or 'không có'}", sets_doc)
    required_by: dict[str, str] = {}
    for code, info in sets.items():
        req, where = info["requires"], f"sets.{code}.requires"
        if req is None:
            continue
        if req not in sets:
            chk.fail(where, f"bộ {req!r} không có trong danh mục này; có: {', '.join(sets)}", sets_doc.get(code), "requires")
        elif req in required_by:
            chk.fail(
                where,
                f"bộ {req!r} đã là bộ yêu cầu của {required_by[req]!r}; các bộ phải nối thành một chuỗi",
                sets_doc.get(code),
                "requires",
            )
        required_by.setdefault(req, code)
    if len(chk.problems) > before:
        return
    chain = _chain(sets)
    loose = [code for code in sets if code not in chain]
    if loose:
        chk.fail("sets", f"các bộ {', '.join(loose)} yêu cầu nhau thành vòng (requires), không nối về bộ gốc {roots[0]!r}", sets_doc)
        return
    for lower, code in zip(chain, chain[1:]):
        tier, lower_tier = sets[code]["tier"], sets[lower]["tier"]
        if tier in TIERS and lower_tier in TIERS and TIERS.index(tier) <= TIERS.index(lower_tier):
            chk.fail(
                f"sets.{code}.tier",
                f"hạng {tier!r} phải cao hơn hạng {lower_tier!r} của bộ {lower!r} mà nó yêu cầu",
                sets_doc.get(code),
                "tier",
            )


def _check_condition_references(chk: Checker, rows: _Rows, known: set[tuple[str, str]] | None = None) -> None:
    """A condition's threshold_from names an indicator of a set (of this document, or ``known`` (set, code) pairs)."""
    known = (known or set()) | {(r["set"], r["code"]) for r in rows.indicators}
    for where, frm, from_set, indicator in rows.references:
        if (from_set, None if indicator is None else str(indicator)) not in known:
            chk.fail(where, f"không có chỉ tiêu {indicator!r} trong bộ {from_set!r}", frm, "indicator")


def _parse_district_sets(chk: Checker, root: dict, rows: _Rows) -> dict[str, dict[str, Any]]:
    """district_sets (320/QĐ-TTg): per set its numbered criteria and its own ``conditions``, both recorded for the
    district (``district_criteria``, kind criterion / condition), and ``commune_conditions``, the shares of its
    xã that must be NTM / advanced."""
    out: dict[str, dict[str, Any]] = {}
    for dset, ddoc in (chk.optional(root, "district_sets", "(gốc)", dict) or {}).items():
        where = f"district_sets.{dset}"
        if dset not in DISTRICT_SET_CODES or not isinstance(ddoc, dict):
            chk.fail(where, f"cần bảng khóa-giá trị của một bộ cấp huyện: {', '.join(DISTRICT_SET_CODES)}", root["district_sets"], dset)
            continue
        chk.only(
            ddoc, where, ("name_vi", "decision", "applies_to", "criteria_count", "criteria", "conditions", "commune_conditions", "source")
        )
        count = chk.need(ddoc, "criteria_count", where, int)
        crits = chk.need(ddoc, "criteria", where, list) or []
        if isinstance(count, int) and len(crits) != count:
            chk.fail(f"{where}.criteria", f"có {len(crits)} tiêu chí, nhưng criteria_count = {count}", ddoc, "criteria")
        numbers: list[str] = []
        for i, c in enumerate(crits):
            cw = f"{where}.criteria[{i}]"
            chk.only(c, cw, ("number", "name_vi", "confidence", "source"))
            n = chk.need(c, "number", cw, int)
            name = chk.need(c, "name_vi", cw, str)
            _check_confidence(chk, c, cw)
            if n is None:
                continue
            if str(n) in numbers:
                chk.fail(f"{cw}.number", f"số tiêu chí {n} bị trùng", c, "number")
            numbers.append(str(n))
            rows.district.append(
                {"set": dset, "criterion": str(n), "name_vi": nfc(name or ""), "confidence": c.get("confidence"), "kind": "criterion"}
            )
        conditions = _recorded_conditions(chk, chk.optional(ddoc, "conditions", where, list), f"{where}.conditions", taken=numbers)
        rows.district += [{"set": dset, "criterion": r.pop("code"), **r, "kind": "condition"} for r in conditions]
        out[dset] = {
            "name_vi": nfc(str(ddoc.get("name_vi", dset))),
            "decision": ddoc.get("decision"),
            "applies_to": list(chk.optional(ddoc, "applies_to", where, list) or []),
            "criteria_count": count or 0,
            **_commune_shares(chk, ddoc, where),
        }
    return out


def _commune_shares(chk: Checker, ddoc: dict, where: str) -> dict[str, float]:
    """commune_conditions: the shares (0–1) of a district's xã that must be NTM (default 1) and advanced (default 0)."""
    shares = chk.optional(ddoc, "commune_conditions", where, dict) or {}
    defaults = {"ntm_share": 1.0, "advanced_share": 0.0}
    chk.only(shares, f"{where}.commune_conditions", tuple(defaults))
    out = dict(defaults)
    for key in defaults:
        value = chk.optional(shares, key, f"{where}.commune_conditions", (int, float))
        if value is not None and not 0 <= value <= 1:
            chk.fail(f"{where}.commune_conditions.{key}", f"tỷ lệ {value} phải trong khoảng 0–1", shares, key)
        elif value is not None:
            out[key] = float(value)
    return out


def _threshold_rows(chk: Checker, where: str, set_code: str, code: str, spec: Any, sel: _Selector, years: range) -> list[dict[str, Any]]:
    """Rows (region, year, value) of a threshold spec: null, or {key|'*': number | {year: number}}, the key a value
    of the catalogue's selector (a region code, or a group code: {"1": 100} and {1: 100} are the same)."""
    if spec is None:
        return []
    if not isinstance(spec, dict):
        chk.fail(where, f"ngưỡng {spec!r} phải là null hoặc bảng {SELECTOR_WORDS[sel.kind]} → giá trị")
        return []
    rows = []
    for written, value in spec.items():
        key = str(written) if isinstance(written, int) and not isinstance(written, bool) else written
        if key != ALL_REGIONS and key not in sel.values:
            listed = ", ".join(sorted(sel.values))
            chk.fail(
                f"{where}.{key}",
                f"{SELECTOR_WORDS[sel.kind]} không có trong danh sách {SELECTORS[sel.kind]} ({listed}, hoặc '*')",
                spec,
                written,
            )
            continue
        by_year = value if isinstance(value, dict) else {None: value}
        for year, v in by_year.items():
            if year is not None and (not isinstance(year, int) or year not in years):
                chk.fail(f"{where}.{key}.{year}", f"năm phải nằm trong {years.start}–{years.stop - 1}", by_year, year)
                continue
            if v is None:
                continue
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                chk.fail(f"{where}.{key}", f"ngưỡng {v!r} phải là số", by_year, year)
                continue
            rows.append({"set": set_code, "code": code, "region": key, "year": year, "value": float(v)})
    return rows


def apply_overrides(catalog: Catalog, data: Any, source: str) -> Catalog:
    """Apply a province's override file: its own thresholds, and sets of its own::

        catalog: qd318-2022
        source: "Quyết định số …/QĐ-UBND của UBND tỉnh …"
        thresholds:
          ntm:
            "15.4": {DHNTB: 60}
            "10": {DHNTB: {2023: 50, 2024: 55}}

    An overridden threshold replaces the catalogue's for the regions or groups (and years) it names.
    ``sets`` adds xã sets the national catalogue lacks (a province's own nâng cao set in 2026-2030), each written
    as in a catalogue; of a set the catalogue has, only ``requires`` may be given, to place the added set in the
    chain (``ntm_hien_dai: {requires: nang_cao}``). The sets of the result form one chain, as in a catalogue."""
    chk = Checker(source, f"Tệp ghi đè của {catalog.id}")
    root = data if isinstance(data, dict) else {}
    chk.only(root, "(gốc)", ("catalog", "source", "sets", "thresholds"))
    target = chk.need(root, "catalog", "(gốc)", str)
    if target is not None and target != catalog.id:
        chk.fail("catalog", f"tệp ghi đè dành cho {target!r}, không phải {catalog.id!r}", root, "catalog")
    chk.need(root, "source", "(gốc)", str)
    if root.get("sets") is None and root.get("thresholds") is None:
        chk.fail("(gốc)", "thiếu khóa bắt buộc 'thresholds' hoặc 'sets' (ngưỡng riêng của tỉnh, hoặc bộ tiêu chí riêng)", root)
    catalog = _add_sets(chk, catalog, chk.optional(root, "sets", "(gốc)", dict) or {})
    rows: list[dict[str, Any]] = []
    thresholds = chk.optional(root, "thresholds", "(gốc)", dict) or {}
    sel = _Selector(catalog.selector, catalog.selector_values)
    for set_code, by_code in thresholds.items():
        if set_code not in catalog.sets:
            chk.fail(f"thresholds.{set_code}", f"bộ không có trong {catalog.id}; có: {', '.join(catalog.sets)}", thresholds, set_code)
            continue
        if not isinstance(by_code, dict):
            chk.fail(f"thresholds.{set_code}", "phải là bảng mã chỉ tiêu → ngưỡng", thresholds, set_code)
            continue
        known = set(catalog.indicators.loc[catalog.indicators["set"] == set_code, "code"])
        if catalog.tier_of(set_code) in CONDITION_TIERS:
            known = set(catalog.conditions["code"])
        for code, spec in by_code.items():
            if str(code) not in known:
                chk.fail(
                    f"thresholds.{set_code}.{code}",
                    f"không có chỉ tiêu này trong bộ {set_code}; có: {', '.join(sorted(known))}",
                    by_code,
                    code,
                )
                continue
            where = f"thresholds.{set_code}.{code}"
            rows += _threshold_rows(chk, where, set_code, str(code), spec, sel, range(catalog.year_from, catalog.year_to + 1))
    chk.raise_if_any()
    new = pd.DataFrame(rows, columns=THRESHOLD_COLUMNS)
    new["year"] = new["year"].astype("Int64")
    keys = ["set", "code", "region", "year"]
    old = catalog.thresholds
    if not new.empty:
        mask = old.set_index(keys).index.isin(new.set_index(keys).index)
        old = old[~mask]
    thresholds = pd.concat([old, new], ignore_index=True) if not new.empty else old
    return Catalog(**{**catalog.__dict__, "thresholds": thresholds, "overrides": catalog.overrides + (source,)})


def _add_sets(chk: Checker, catalog: Catalog, sets_doc: dict) -> Catalog:
    """The catalogue with an override file's own sets added (and the ``requires`` of its sets re-linked)."""
    if not sets_doc:
        return catalog
    sel = _Selector(catalog.selector, catalog.selector_values)
    years = range(catalog.year_from, catalog.year_to + 1)
    rows = _Rows()
    sets = {code: dict(info) for code, info in catalog.sets.items()}
    for code, sdoc in sets_doc.items():
        if code in catalog.sets:
            where = f"sets.{code}"
            chk.only(sdoc, where, ("requires",))  # a national set keeps its content; only its place in the chain moves
            if isinstance(sdoc, dict) and "requires" in sdoc:
                sets[code]["requires"] = chk.optional(sdoc, "requires", where, str)
            continue
        info = _parse_commune_set(chk, sets_doc, code, sel, years, rows)
        if info is not None:
            sets[code] = info
    _check_one_condition_set(chk, sets_doc, sets)
    _check_tier_chain(chk, sets_doc, sets)
    _check_condition_references(chk, rows, set(zip(catalog.indicators["set"], catalog.indicators["code"])))
    thresholds = pd.DataFrame(rows.thresholds, columns=THRESHOLD_COLUMNS).astype({"year": "Int64"})

    def plus(old: pd.DataFrame, new: list[dict[str, Any]]) -> pd.DataFrame:
        return pd.concat([old, pd.DataFrame(new, columns=old.columns)], ignore_index=True) if new else old

    return Catalog(
        **{
            **catalog.__dict__,
            "sets": sets,
            "criteria": plus(catalog.criteria, rows.criteria),
            "indicators": plus(catalog.indicators, rows.indicators),
            "thresholds": pd.concat([catalog.thresholds, thresholds], ignore_index=True) if len(thresholds) else catalog.thresholds,
            "conditions": plus(catalog.conditions, rows.conditions),
            "recognition_conditions": plus(catalog.recognition_conditions, rows.recognition),
        }
    )


def load_catalog_file(path: str | Path, overrides: str | Path | None = None) -> Catalog:
    path = Path(path)
    catalog = parse_catalog(read_yaml(path), str(path))
    if overrides is not None:
        catalog = apply_overrides(catalog, read_yaml(Path(overrides)), str(overrides))
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
