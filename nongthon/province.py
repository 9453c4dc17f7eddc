"""A province profile: its unit registry, the catalogues in force and which region's thresholds apply
to each commune. Everything downstream (scoring, imports, reports) takes one ``Province``."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import pandas as pd
import yaml

from .criteria import CatalogSet, catalog_set, load_catalog
from .errors import CatalogError
from .units import Registry, load_registry


@dataclass(frozen=True, eq=False)  # identity: holds DataFrames, used as a cache key
class Province:
    code: str
    name_vi: str
    region: str
    tdmnpb_communes: frozenset[str]
    registry: Registry
    catalogs: CatalogSet

    def regions(self) -> pd.Series:
        """The threshold region of every commune, indexed by GSO code."""
        communes = self.registry.communes().index
        region = pd.Series(self.region, index=communes, name="region")
        region[region.index.isin(self.tdmnpb_communes)] = "TDMNPB"
        return region


@lru_cache(maxsize=4)
def load_province(code: str = "54") -> Province:
    path = Path(str(resources.files(__package__).joinpath("provinces", f"{code}.yaml")))
    if not path.exists():
        raise CatalogError(f"Không có hồ sơ tỉnh mã {code!r} (nongthon/provinces/{code}.yaml)")
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    overrides = doc.get("overrides") or {}
    catalogs = [load_catalog(cid, str(path.parent / overrides[cid]) if cid in overrides else None) for cid in doc["catalogs"]]
    registry = load_registry()
    if registry.province_code != doc["code"]:
        raise CatalogError(f"Danh mục đơn vị là của tỉnh {registry.province_code}, không phải {doc['code']}")
    unknown = set(doc.get("tdmnpb_communes") or []) - set(registry.xa().index)
    if unknown:
        raise CatalogError(f"{path}: tdmnpb_communes có mã không phải xã của tỉnh: {', '.join(sorted(unknown))}")
    return Province(
        code=str(doc["code"]),
        name_vi=doc["name_vi"],
        region=doc["region"],
        tdmnpb_communes=frozenset(doc.get("tdmnpb_communes") or []),
        registry=registry,
        catalogs=catalog_set(catalogs),
    )
