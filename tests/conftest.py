from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from nongthon.province import load_province
from nongthon.sample import load_sample
from nongthon.store import Store

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture(scope="session")
def province():
    return load_province()


@pytest.fixture
def store(tmp_path):
    s = Store.open(tmp_path / "test.db")
    yield s
    s.close()


@pytest.fixture(scope="session")
def sample_db(tmp_path_factory, province) -> Path:
    path = tmp_path_factory.mktemp("sample") / "sample.db"
    s = Store.open(path)
    load_sample(s, province)
    s.close()
    return path


@pytest.fixture
def sample_store(sample_db, tmp_path):
    """A private copy of the sample database (tests may write to it)."""
    path = tmp_path / "sample.db"
    shutil.copy(sample_db, path)
    s = Store.open(path)
    yield s
    s.close()


def results_frame(rows: list[dict]) -> pd.DataFrame:
    """Hand-written results in the store's shape (catalogue chosen from the year)."""
    df = pd.DataFrame(rows)
    for col, default in (("level", "criterion"), ("tier_set", "ntm"), ("met", pd.NA), ("value", pd.NA)):
        if col not in df:
            df[col] = default
        elif default is not pd.NA:
            df[col] = df[col].fillna(default)
    df["catalog"] = df["year"].map(lambda y: "qd318-2022" if y >= 2022 else "qd1980-2016")
    df["met"] = df["met"].astype("boolean")
    df["value"] = df["value"].astype("Float64")
    df["item"] = df["item"].astype(str)
    return df[["unit", "year", "catalog", "tier_set", "level", "item", "met", "value"]]


@pytest.fixture(scope="session")
def mapped_db(tmp_path_factory, sample_db, province) -> Path:
    """The sample database with the real boundaries imported (read-only for tests: copy before writing)."""
    from nongthon.boundaries import import_boundaries

    path = tmp_path_factory.mktemp("mapped") / "mapped.db"
    shutil.copy(sample_db, path)
    s = Store.open(path)
    import_boundaries(s, province.registry, SHARED / "geodata" / "phu_yen_pre2025.gpkg", layer="communes", author="test")
    s.close()
    return path


@pytest.fixture
def mapped_store(mapped_db, tmp_path):
    path = tmp_path / "mapped.db"
    shutil.copy(mapped_db, path)
    s = Store.open(path)
    yield s
    s.close()
