"""Targets as data (nongthon/targets/*.yaml): shares of eligible xã at a tier by a year."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import yaml

from .errors import CatalogError

TIERS = ("ntm", "advanced", "model")


@dataclass(frozen=True)
class Target:
    id: str
    mo_ta: str  # the description, in Vietnamese
    tier: str  # ntm / advanced / model: the share counts xã at this tier or above
    share: float
    year: int
    confidence: str


@lru_cache(maxsize=8)
def load_targets(target_id: str = "phu-yen-2021-2025") -> tuple[Target, ...]:
    path = resources.files(__package__).joinpath("targets", f"{target_id}.yaml")
    if not path.is_file():
        raise CatalogError(f"Không có bộ mục tiêu {target_id!r} (nongthon/targets/{target_id}.yaml)")
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    out = []
    for i, t in enumerate(doc.get("targets") or []):
        where = f"nongthon/targets/{target_id}.yaml: targets[{i}]"
        if t.get("tier") not in TIERS:
            raise CatalogError(f"{where}.tier: {t.get('tier')!r} không hợp lệ; cho phép: {', '.join(TIERS)}")
        share = t.get("share")
        if not isinstance(share, (int, float)) or not 0 <= share <= 1:
            raise CatalogError(f"{where}.share: {share!r} phải là tỷ lệ từ 0 đến 1")
        out.append(Target(t["id"], t["mo_ta"], t["tier"], float(share), int(t["year"]), t.get("confidence", "unknown")))
    return tuple(out)
