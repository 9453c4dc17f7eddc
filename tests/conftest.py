from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from nongthon.province import load_province
from nongthon.sample import load_sample
from nongthon.store import Store

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture(scope="session")
def province():
    return load_province()


PG_ENV = "NONGTHON_TEST_PG_URL"  # a PostgreSQL server the tests may create databases on (.ci/run sets it)


@pytest.fixture(scope="session")
def pg_server() -> str:
    """The URL of a real PostgreSQL server. .ci/run installs and starts one on loopback."""
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.fail(
            f"{PG_ENV} is not set: the store and import tests run on PostgreSQL too. Run `bash .ci/run`, which installs and starts it."
        )
    try:
        engine = sa.create_engine(url)
        with engine.connect():
            pass
        engine.dispose()
    except sa.exc.OperationalError as exc:
        pytest.fail(f"cannot reach PostgreSQL at {url}: {exc}")
    return url


@contextlib.contextmanager
def pg_database(server_url: str):
    """A fresh database on the server, dropped afterwards."""
    name = f"nt_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = sa.engine.make_url(server_url).set(database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """A fresh, empty database on each backend."""
    if request.param == "sqlite":
        yield str(tmp_path / "test.db")
    else:
        with pg_database(request.getfixturevalue("pg_server")) as url:
            yield url


@pytest.fixture
def store(db_url):
    s = Store.open(db_url)
    yield s
    s.close()


@pytest.fixture(scope="session")
def sample_db(tmp_path_factory, province) -> Path:
    path = tmp_path_factory.mktemp("sample") / "sample.db"
    s = Store.open(path)
    load_sample(s, province)
    s.close()
    return path


def private_copy(db: Path, tmp_path: Path):
    """A store on a private copy of a session database (tests may write to it)."""
    path = tmp_path / db.name
    shutil.copy(db, path)
    s = Store.open(path)
    yield s
    s.close()


@pytest.fixture
def sample_store(sample_db, tmp_path):
    yield from private_copy(sample_db, tmp_path)


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
    yield from private_copy(mapped_db, tmp_path)
