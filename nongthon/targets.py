"""Targets and milestones as data (nongthon/targets/*.yaml): a new resolution or another province is a new file.

* a target: a share of the eligible xã at a tier (or above) by a year — of every eligible xã, or, with ``of: ntm``,
  of the xã at that tier (NQ 257/2025/QH15: "khoảng 10% số xã [NTM] ... NTM hiện đại"); kind ``count``: at least N
  xã at a tier; kind ``min_criteria``: no xã under N criteria by a year; kind ``described``: a target recorded for
  the reader that the province's data cannot measure (5 provinces completing the task), never evaluated;
* a milestone: a district-level unit's state by a year — ``huyen_ntm`` (becomes an NTM district),
  ``hoan_thanh`` (a town completes the NTM task), ``giu_huyen_ntm`` (keeps the NTM-district standard).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
import yaml

from .criteria import TIERS
from .errors import CatalogError
from .units import period_of_year, province_codes

TARGET_KINDS = ("share", "count", "min_criteria", "described")
#: the keys of a target, by kind (besides id, mo_ta, kind, year, confidence, note)
TARGET_KEYS = {"share": ("tier", "share", "of"), "count": ("tier", "count"), "min_criteria": ("min_criteria",), "described": ()}
TARGET_COMMON = ("id", "mo_ta", "kind", "year", "confidence", "note")
SET_KEYS = ("id", "province", "years", "name_vi", "sources", "targets", "milestones")
MILESTONE_KINDS = {"huyen_ntm": "huyen_ntm", "giu_huyen_ntm": "huyen_ntm", "hoan_thanh": "hoan_thanh"}  # kind -> district set


@dataclass(frozen=True)
class Target:
    id: str
    mo_ta: str  # the description, in Vietnamese
    tier: str | None  # ntm / advanced / model: the share counts xã at this tier or above
    share: float | None
    year: int
    confidence: str
    kind: str = "share"
    min_criteria: int | None = None
    #: a share's denominator: None = every eligible xã; a tier ("ntm") = the xã at that tier or above
    of: str | None = None
    count: int | None = None  # kind "count": at least this many xã at the tier (or above)
    note: str | None = None  # kind "described": why it is not evaluated


@dataclass(frozen=True)
class Milestone:
    id: str
    mo_ta: str
    unit: str  # district-level GSO code
    kind: str  # huyen_ntm / hoan_thanh / giu_huyen_ntm
    year: int
    from_year: int | None
    confidence: str

    @property
    def district_set(self) -> str:
        return MILESTONE_KINDS[self.kind]


@dataclass(frozen=True)
class TargetSet:
    id: str
    name_vi: str
    targets: tuple[Target, ...]
    milestones: tuple[Milestone, ...]
    year_from: int = 0
    year_to: int = 0
    province: str | None = None  # None: national, applies to every province

    def covers(self, year: int) -> bool:
        return self.year_from <= year <= self.year_to

    def applies_to(self, province_code: str) -> bool:
        """Its own province; a national set (province None): every province that exists in the period of its years
        (the 2026-2030 set applies to the 34 provinces from 1 July 2025, not to former Phú Yên)."""
        if self.province is not None:
            return self.province == province_code
        return province_code in province_codes(period_of_year(self.year_from))


def target_set_ids() -> list[str]:
    return sorted(
        p.name.removesuffix(".yaml") for p in resources.files(__package__).joinpath("targets").iterdir() if p.name.endswith(".yaml")
    )


@lru_cache(maxsize=8)
def load_target_set(target_id: str = "phu-yen-2021-2025") -> TargetSet:
    path = resources.files(__package__).joinpath("targets", f"{target_id}.yaml")
    if not path.is_file():
        raise CatalogError(f"Không có bộ mục tiêu {target_id!r}; có: {', '.join(target_set_ids())}")
    return parse_target_set(yaml.safe_load(path.read_text(encoding="utf-8")), f"nongthon/targets/{target_id}.yaml")


def parse_target_set(doc: dict, where0: str) -> TargetSet:
    """Validate a target set document (parsed from YAML); ``where0`` names it in messages."""
    unknown = [k for k in doc if k not in SET_KEYS]
    if unknown:
        raise CatalogError(f"{where0}: khóa không xác định {unknown[0]!r}; cho phép: {', '.join(SET_KEYS)}")
    targets = [_target(t, f"{where0}: targets[{i}]") for i, t in enumerate(doc.get("targets") or [])]
    milestones = []
    for i, m in enumerate(doc.get("milestones") or []):
        where = f"{where0}: milestones[{i}]"
        if m.get("kind") not in MILESTONE_KINDS:
            raise CatalogError(f"{where}.kind: {m.get('kind')!r} không hợp lệ; cho phép: {', '.join(MILESTONE_KINDS)}")
        milestones.append(
            Milestone(m["id"], m["mo_ta"], str(m["unit"]), m["kind"], int(m["year"]), m.get("from_year"), m.get("confidence", "unknown"))
        )
    years = doc.get("years")
    if not isinstance(years, dict) or not isinstance(years.get("from"), int) or not isinstance(years.get("to"), int):
        raise CatalogError(f"{where0}: years: cần {{from: năm, to: năm}} — các năm bộ mục tiêu áp dụng; có {years!r}")
    province = None if doc.get("province") is None else str(doc["province"])
    return TargetSet(doc["id"], doc["name_vi"], tuple(targets), tuple(milestones), years["from"], years["to"], province)


def _target(t: dict, where: str) -> Target:
    kind = t.get("kind", "share")
    if kind not in TARGET_KINDS:
        raise CatalogError(f"{where}.kind: {kind!r} không hợp lệ; cho phép: {', '.join(TARGET_KINDS)}")
    allowed = TARGET_COMMON + TARGET_KEYS[kind]
    unknown = [k for k in t if k not in allowed]
    if unknown:
        raise CatalogError(f"{where}: khóa không xác định {unknown[0]!r} cho mục tiêu loại {kind}; cho phép: {', '.join(allowed)}")
    base = {"id": t["id"], "mo_ta": t["mo_ta"], "year": int(t["year"]), "confidence": t.get("confidence", "unknown"), "kind": kind}
    if kind in ("share", "count") and t.get("tier") not in TIERS:
        raise CatalogError(f"{where}.tier: {t.get('tier')!r} không hợp lệ; cho phép: {', '.join(TIERS)}")
    if kind == "share":
        share, of = t.get("share"), t.get("of")
        if not isinstance(share, (int, float)) or isinstance(share, bool) or not 0 <= share <= 1:
            raise CatalogError(f"{where}.share: {share!r} phải là tỷ lệ từ 0 đến 1")
        below = TIERS[: TIERS.index(t["tier"])]
        if of is not None and of not in below:
            raise CatalogError(
                f"{where}.of: {of!r} không hợp lệ; mẫu số là số xã đạt một hạng thấp hơn {t['tier']!r}: {', '.join(below) or 'không có'}"
                " (bỏ khóa of để tính trên mọi xã)"
            )
        return Target(**base, tier=t["tier"], share=float(share), of=of)
    if kind == "count":
        n = t.get("count")
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            raise CatalogError(f"{where}.count: {n!r} phải là số xã (số nguyên ≥ 0)")
        return Target(**base, tier=t["tier"], share=None, count=n)
    if kind == "min_criteria":
        n = t.get("min_criteria")
        if not isinstance(n, int):
            raise CatalogError(f"{where}.min_criteria: {n!r} phải là số nguyên")
        return Target(**base, tier=None, share=None, min_criteria=n)
    if not t.get("note"):
        raise CatalogError(f"{where}.note: mục tiêu loại described cần note: vì sao không đánh giá được theo số liệu của tỉnh")
    return Target(**base, tier=None, share=None, note=t["note"])


#: a share meets its target down to rounding (a share computed as 0.7999999999 meets 80 %)
SHARE_TOLERANCE = 1e-12
#: the kinds judged from the number of xã at each tier (``measure``); min_criteria needs each xã's criteria, and a
#: described target is never evaluated
COUNTED_KINDS = ("share", "count")


def measure(target: Target, at_or_above: Mapping[str, Any], eligible: Any) -> tuple[Any, Any, Any]:
    """The one rule of a ``share`` or ``count`` target, on plain numbers or on arrays (one value per run of a
    projection): ``at_or_above[tier]`` is the number of xã at that tier or above (cumulative, as officials count: a
    xã NTM hiện đại is NTM), ``eligible`` the year's eligible xã. Returns (count, denominator, met):

    * share: count / denominator ≥ share, the denominator being every eligible xã or, with ``of``, the xã at that
      tier or above ("10 % of the NTM xã"); with no xã in the denominator the share is NaN and never met (observed
      progress shows it as not evaluated);
    * count: count ≥ the target's number of xã (denominator None).
    """
    if target.kind not in COUNTED_KINDS:
        raise ValueError(f"mục tiêu {target.id} loại {target.kind}: không đo bằng số xã theo hạng")
    count = np.asarray(at_or_above[target.tier])
    if target.kind == "count":
        return count, None, count >= target.count
    den = np.asarray(at_or_above[target.of] if target.of is not None else eligible, dtype="float64")
    share = np.divide(count, den, out=np.full(np.broadcast(count, den).shape, np.nan), where=den > 0)
    return count, den, share >= target.share - SHARE_TOLERANCE


def target_sets_for(province_code: str, year: int) -> list[TargetSet]:
    """Every shipped target set for the province (its own and the national ones) whose years cover ``year``."""
    sets = [load_target_set(t) for t in target_set_ids()]
    return [ts for ts in sets if ts.applies_to(province_code) and ts.covers(year)]


def load_targets(target_id: str = "phu-yen-2021-2025") -> tuple[Target, ...]:
    """The share targets of a target set (kept for the map's panel)."""
    return tuple(t for t in load_target_set(target_id).targets if t.kind == "share")
