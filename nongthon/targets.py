"""Targets and milestones as data (nongthon/targets/*.yaml): a new resolution or another province is a new file.

* a target: a share of the eligible xã at a tier (or above) by a year — or, kind ``min_criteria``, no xã
  under N criteria by a year;
* a milestone: a district-level unit's state by a year — ``huyen_ntm`` (becomes an NTM district),
  ``hoan_thanh`` (a town completes the NTM task), ``giu_huyen_ntm`` (keeps the NTM-district standard).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import yaml

from .criteria import TIERS
from .errors import CatalogError

TARGET_KINDS = ("share", "min_criteria")
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
        return self.province is None or self.province == province_code


def target_set_ids() -> list[str]:
    return sorted(
        p.name.removesuffix(".yaml") for p in resources.files(__package__).joinpath("targets").iterdir() if p.name.endswith(".yaml")
    )


@lru_cache(maxsize=8)
def load_target_set(target_id: str = "phu-yen-2021-2025") -> TargetSet:
    path = resources.files(__package__).joinpath("targets", f"{target_id}.yaml")
    if not path.is_file():
        raise CatalogError(f"Không có bộ mục tiêu {target_id!r}; có: {', '.join(target_set_ids())}")
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    where0 = f"nongthon/targets/{target_id}.yaml"
    targets = []
    for i, t in enumerate(doc.get("targets") or []):
        where = f"{where0}: targets[{i}]"
        kind = t.get("kind", "share")
        if kind not in TARGET_KINDS:
            raise CatalogError(f"{where}.kind: {kind!r} không hợp lệ; cho phép: {', '.join(TARGET_KINDS)}")
        if kind == "share":
            if t.get("tier") not in TIERS:
                raise CatalogError(f"{where}.tier: {t.get('tier')!r} không hợp lệ; cho phép: {', '.join(TIERS)}")
            share = t.get("share")
            if not isinstance(share, (int, float)) or not 0 <= share <= 1:
                raise CatalogError(f"{where}.share: {share!r} phải là tỷ lệ từ 0 đến 1")
            targets.append(Target(t["id"], t["mo_ta"], t["tier"], float(share), int(t["year"]), t.get("confidence", "unknown")))
        else:
            n = t.get("min_criteria")
            if not isinstance(n, int):
                raise CatalogError(f"{where}.min_criteria: {n!r} phải là số nguyên")
            targets.append(Target(t["id"], t["mo_ta"], None, None, int(t["year"]), t.get("confidence", "unknown"), kind, n))
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


def target_sets_for(province_code: str, year: int) -> list[TargetSet]:
    """Every shipped target set for the province (its own and the national ones) whose years cover ``year``."""
    sets = [load_target_set(t) for t in target_set_ids()]
    return [ts for ts in sets if ts.applies_to(province_code) and ts.covers(year)]


def load_targets(target_id: str = "phu-yen-2021-2025") -> tuple[Target, ...]:
    """The share targets of a target set (kept for the map's panel)."""
    return tuple(t for t in load_target_set(target_id).targets if t.kind == "share")
