"""Persistence of assessments and recognitions: a SQLite file by default, any SQLAlchemy URL (PostgreSQL)
otherwise. Rows are append-only: a correction is a new row, the current state is the latest row per key,
and "as of" a past time gives what was known then. The schema is versioned and migrated in place.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import itertools
import secrets
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from time import monotonic

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from .criteria import TIERS
from .errors import InvalidParameter, StoreError

SCHEMA_VERSION = 6
RESULT_KEY = ["unit", "year", "tier_set", "level", "item"]

metadata = sa.MetaData()

schema_info = sa.Table(
    "schema_info",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("applied_at", sa.DateTime, nullable=False),
    sa.Column("description", sa.Text, nullable=False),
)

batches = sa.Table(
    "batches",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(16), nullable=False),  # import / sample / edit
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("author", sa.Text, nullable=False),
    sa.Column("entered_at", sa.DateTime, nullable=False),
    sa.Column("sample", sa.Boolean, nullable=False, default=False),
    sa.Column("rows_written", sa.Integer, nullable=False, default=0),
)

results = sa.Table(
    "results",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("batch_id", sa.Integer, sa.ForeignKey("batches.id"), nullable=False),
    sa.Column("unit", sa.String(5), nullable=False),
    sa.Column("year", sa.Integer, nullable=False),
    sa.Column("catalog", sa.String(32), nullable=False),
    sa.Column("tier_set", sa.String(16), nullable=False),
    sa.Column("level", sa.String(16), nullable=False),
    sa.Column("item", sa.String(32), nullable=False),
    sa.Column("met", sa.Boolean, nullable=True),
    sa.Column("value", sa.Float, nullable=True),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("author", sa.Text, nullable=False),
    sa.Column("entered_at", sa.DateTime, nullable=False),
    sa.Column("note", sa.Text, nullable=True),
    sa.CheckConstraint("met IS NOT NULL OR value IS NOT NULL", name="result_has_met_or_value"),
    sa.Index("ix_results_key", "unit", "year", "tier_set", "level", "item", "id"),
    sa.Index("ix_results_entered", "entered_at"),
)

recognitions = sa.Table(
    "recognitions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("batch_id", sa.Integer, sa.ForeignKey("batches.id"), nullable=False),
    sa.Column("unit", sa.String(5), nullable=False),
    sa.Column("tier", sa.String(16), nullable=False),
    sa.Column("action", sa.String(16), nullable=False),  # recognise / revoke
    sa.Column("decision_number", sa.Text, nullable=False),
    sa.Column("decision_date", sa.Date, nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("author", sa.Text, nullable=False),
    sa.Column("entered_at", sa.DateTime, nullable=False),
    sa.Column("note", sa.Text, nullable=True),
    sa.Index("ix_recognitions_unit", "unit", "id"),
)


boundary_layers = sa.Table(
    "boundary_layers",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("source", sa.Text, nullable=False),  # file name and layer
    sa.Column("crs", sa.Text, nullable=False),  # the file's coordinate system, as read
    sa.Column("author", sa.Text, nullable=False),
    sa.Column("entered_at", sa.DateTime, nullable=False),
    sa.Column("report", sa.Text, nullable=False),  # JSON: matched, unmatched, duplicated, missing, repairs
    # the units the layer's codes name: cu (before 1 July 2025) or moi — GSO reused codes, so a code alone is not a unit
    sa.Column("period", sa.String(3), nullable=False, server_default="cu"),
)

boundary_features = sa.Table(
    "boundary_features",
    metadata,
    sa.Column("layer_id", sa.Integer, sa.ForeignKey("boundary_layers.id"), primary_key=True),
    sa.Column("unit", sa.String(5), primary_key=True),
    sa.Column("geometry", sa.LargeBinary, nullable=False),  # WKB, EPSG:4326, full detail
)


unit_versions = sa.Table(
    "unit_versions",
    metadata,
    sa.Column("unit", sa.String(5), primary_key=True),
    sa.Column("year", sa.Integer, primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),  # +1 on every write that changes this commune-year
)

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.Text, nullable=False, unique=True),
    sa.Column("role", sa.String(16), nullable=False),  # admin / editor / viewer
    sa.Column("district", sa.String(3), nullable=True),  # an editor limited to one district-level unit
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),  # sha256 of the token, never the token
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("revoked_at", sa.DateTime, nullable=True),
)


changes = sa.Table(
    "changes",
    metadata,
    sa.Column("kind", sa.String(16), primary_key=True),  # results / recognitions / boundaries
    sa.Column("counter", sa.Integer, nullable=False),  # +1 in every committed write transaction of that kind
)
CHANGE_KINDS = ("results", "recognitions", "boundaries")

store_keys = sa.Table(  # settings of this store, made once: the key that signs workbook ids, the deployment's profile
    "store_keys",
    metadata,
    sa.Column("name", sa.String(32), primary_key=True),
    sa.Column("value", sa.String(128), nullable=False),
)
WORKBOOK_KEY = "workbook_hmac"
DEPLOYMENT_KEY = "deployment"  # the profile id of the province this store follows (nongthon/deployment.py)
EPOCH = datetime(1970, 1, 1)


def _count_change(conn: Connection, kind: str) -> None:
    """Raise the counter of a kind of data inside the writing transaction. Unlike max(id) — handed out at
    insert, not at commit — it changes exactly when the write becomes visible (PostgreSQL included)."""
    conn.execute(changes.update().where(changes.c.kind == kind).values(counter=changes.c.counter + 1))


def _insert_many(conn: Connection, table: sa.Table, columns: dict[str, list], constants: dict[str, object]) -> None:
    """Insert one row per position of the equal-length lists in ``columns``, every row also taking ``constants``, in
    one executemany of the driver. The statement and the conversion of each value (a datetime as SQLite text, a bool
    as 0/1) are SQLAlchemy's, done once per distinct value; left out is only the bookkeeping that
    ``conn.execute(table.insert(), dicts)`` does per row and per column, which costs twice the driver's own insert."""
    dialect = conn.dialect
    compiled = table.insert().compile(dialect=dialect, column_keys=[*columns, *constants], for_executemany=True)  # no RETURNING

    def bound(name: str, values: list) -> list:
        process = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        if process is None:
            return values
        done = {v: process(v) for v in set(values)}
        return [done[v] for v in values]

    given = {name: bound(name, values) for name, values in columns.items()}
    given |= {name: itertools.repeat(bound(name, [value])[0]) for name, value in constants.items()}
    names = list(compiled.positiontup) if compiled.positional else list(given)
    rows = zip(*(given[name] for name in names))
    conn.exec_driver_sql(str(compiled), list(rows) if compiled.positional else [dict(zip(names, r)) for r in rows])


def _migrate_to_1(conn: Connection) -> None:
    metadata.create_all(conn, tables=[batches, results, recognitions])


def _migrate_to_2(conn: Connection) -> None:
    metadata.create_all(conn, tables=[boundary_layers, boundary_features])


def _migrate_to_3(conn: Connection) -> None:
    metadata.create_all(conn, tables=[unit_versions, users])
    # every commune-year already written starts at version 1
    existing = conn.execute(sa.select(results.c.unit, results.c.year).distinct()).all()
    if existing:
        conn.execute(sa.insert(unit_versions), [{"unit": u, "year": y, "version": 1} for u, y in existing])


def _migrate_to_4(conn: Connection) -> None:
    metadata.create_all(conn, tables=[changes])
    start = {
        "results": conn.execute(sa.select(sa.func.count()).select_from(results)).scalar() or 0,
        "recognitions": conn.execute(sa.select(sa.func.count()).select_from(recognitions)).scalar() or 0,
        "boundaries": conn.execute(sa.select(sa.func.count()).select_from(boundary_layers)).scalar() or 0,
    }
    conn.execute(sa.insert(changes), [{"kind": k, "counter": int(start[k])} for k in CHANGE_KINDS])


def _migrate_to_5(conn: Connection) -> None:
    metadata.create_all(conn, tables=[store_keys])
    conn.execute(sa.insert(store_keys).values(name=WORKBOOK_KEY, value=secrets.token_hex(32)))


def _migrate_to_6(conn: Connection) -> None:
    # a store made before version 6 has layers of the old units only (Phú Yên's); a new store's table has the column
    if "period" not in {c["name"] for c in sa.inspect(conn).get_columns("boundary_layers")}:
        conn.exec_driver_sql("ALTER TABLE boundary_layers ADD COLUMN period VARCHAR(3) NOT NULL DEFAULT 'cu'")


#: version -> (description, function). A new schema version appends an entry that alters the tables
#: in place (never drop-and-recreate), and bumps SCHEMA_VERSION.
MIGRATIONS: dict[int, tuple[str, Callable[[Connection], None]]] = {
    1: ("results, recognitions and batches (append-only)", _migrate_to_1),
    2: ("boundary layers imported from official files", _migrate_to_2),
    3: ("accounts, and a version per commune-year for safe concurrent edits", _migrate_to_3),
    4: ("a change counter per kind of data, for caches", _migrate_to_4),
    5: ("a key of this store that signs workbook ids (the moment a workbook's values were read, base of its import)", _migrate_to_5),
    6: ("the period of each boundary layer's units (codes were reused on 1 July 2025)", _migrate_to_6),
}


class StaleVersion(StoreError):
    """A write whose expected version of a commune-year is no longer current (someone else wrote first)."""

    def __init__(self, unit: str, year: int, expected: int, current: int):
        self.unit, self.year, self.expected, self.current = unit, year, expected, current
        super().__init__(
            f"Xã {unit} năm {year} đã được sửa bởi người khác (phiên bản hiện tại {current}, bạn đang sửa phiên bản {expected}); "
            "không có gì được ghi. Hãy tải lại số liệu rồi sửa tiếp."
        )


def utcnow() -> datetime:
    """Now, in UTC, without tzinfo (the store keeps naive UTC timestamps on every backend)."""
    return datetime.now(UTC).replace(tzinfo=None)


def to_utc_naive(moment: datetime | str | None) -> datetime | None:
    """An ``as_of`` moment as the store keeps times: naive UTC (a moment without offset is taken as UTC).
    InvalidParameter for text that is not ISO 8601, or a moment whose UTC time falls outside years 1–9999
    (``9999-12-31T23:59:59-12:00``, ``0001-01-01T00:00:00+14:00``)."""
    if moment is None:
        return None
    shown = (moment if isinstance(moment, str) else moment.isoformat())[:60]
    allowed = "dùng thời điểm ISO 8601 trong khoảng 0001-01-01 – 9999-12-31 theo giờ UTC, ví dụ 2024-06-30T00:00:00Z"
    if isinstance(moment, str):
        try:
            moment = datetime.fromisoformat(moment)
        except ValueError:
            raise InvalidParameter(f"as_of={shown!r} không phải thời điểm ISO 8601; {allowed}") from None
    if moment.tzinfo is not None:
        try:
            moment = moment.astimezone(UTC).replace(tzinfo=None)
        except OverflowError:
            raise InvalidParameter(f"as_of={shown!r}: đổi sang giờ UTC thì ra ngoài các năm 1–9999; {allowed}") from None
    return moment


def database_url(target: str | Path) -> str:
    """A SQLAlchemy URL from a URL or a file path (a path means SQLite)."""
    text = str(target)
    if "://" in text:
        return text
    return f"sqlite:///{Path(text).expanduser().resolve()}"


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # noqa: ANN001 - DBAPI connection
    dbapi_conn.isolation_level = None  # SQLAlchemy emits BEGIN itself (see _sqlite_begin)
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def _sqlite_begin(conn: Connection) -> None:
    # a write transaction takes the write lock at BEGIN, so two writers queue instead of deadlocking
    # when both read first and then try to write (SQLite's deferred default)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("write") else "BEGIN")


@dataclass(frozen=True)
class WriteSummary:
    """What one write did: rows new (no earlier value), changed, and unchanged (skipped); ``diff`` has one row
    per incoming result with its ``outcome`` (new / changed / unchanged) and the value it replaces."""

    batch_id: int | None
    new: int
    changed: int
    unchanged: int
    diff: pd.DataFrame | None = field(default=None, compare=False, repr=False)

    @property
    def written(self) -> int:
        return self.new + self.changed


class Store:
    """The assessment store. Open with ``Store.open(path_or_url)``; the schema is created or migrated."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._workbook_key: str | None = None  # read once from store_keys
        self._writes = 0  # write transactions ended through this Store: each one makes the remembered version stale
        self._writes_lock = threading.Lock()
        self._version: tuple[int, float, tuple[int, int, int]] | None = None  # (writes, monotonic time read, version)

    @classmethod
    def open(cls, target: str | Path) -> Store:
        url = database_url(target)
        if url.startswith("sqlite:///"):
            path = Path(url.removeprefix("sqlite:///"))
            if path.parent and not path.parent.exists():
                raise StoreError(f"Thư mục {path.parent} không tồn tại; không thể tạo cơ sở dữ liệu {path}")
        engine = sa.create_engine(url, future=True)
        if engine.dialect.name == "sqlite":
            sa.event.listen(engine, "connect", _sqlite_pragmas)
            sa.event.listen(engine, "begin", _sqlite_begin)
        store = cls(engine)
        store.migrate()
        return store

    def close(self) -> None:
        self.engine.dispose()

    @contextlib.contextmanager
    def writing(self):  # noqa: ANN201 - a context manager yielding a Connection
        """A write transaction (BEGIN IMMEDIATE on SQLite). When it ends, ``data_version`` reads the database again."""
        try:
            with self.engine.execution_options(write=True).begin() as conn:
                yield conn
        finally:
            with self._writes_lock:
                self._writes += 1

    # -- schema ---------------------------------------------------------------------------------------
    def schema_version(self) -> int:
        with self.engine.connect() as conn:
            if not sa.inspect(conn).has_table("schema_info"):
                return 0
            return int(conn.execute(sa.select(sa.func.max(schema_info.c.version))).scalar() or 0)

    def migrate(self) -> int:
        """Bring the schema to SCHEMA_VERSION, one migration per transaction. Returns the version."""
        with self.writing() as conn:
            metadata.create_all(conn, tables=[schema_info])
        current = self.schema_version()
        if current > SCHEMA_VERSION:
            raise StoreError(
                f"Cơ sở dữ liệu có lược đồ phiên bản {current}, mới hơn phiên bản {SCHEMA_VERSION} mà "
                "nongthon này hiểu; hãy cập nhật nongthon."
            )
        for version in range(current + 1, SCHEMA_VERSION + 1):
            description, step = MIGRATIONS[version]
            with self.writing() as conn:
                if conn.dialect.name == "postgresql":
                    conn.exec_driver_sql("LOCK TABLE schema_info IN EXCLUSIVE MODE")
                done = conn.execute(sa.select(sa.func.max(schema_info.c.version))).scalar() or 0
                if done >= version:  # another process migrated meanwhile
                    continue
                step(conn)
                conn.execute(sa.insert(schema_info).values(version=version, applied_at=utcnow(), description=description))
        return SCHEMA_VERSION

    # -- results --------------------------------------------------------------------------------------
    def current_results(
        self,
        as_of: datetime | str | None = None,
        years: Iterable[int] | None = None,
        units: Iterable[str] | None = None,
    ) -> pd.DataFrame:
        """The latest row per (unit, year, tier_set, level, item), as known at ``as_of`` (default: now)."""
        latest = self._filtered(self._latest_ids(), as_of, years, units)
        query = sa.select(results, batches.c.sample).join(batches, batches.c.id == results.c.batch_id)
        query = query.where(results.c.id.in_(latest.scalar_subquery()))
        return self._frame(query)

    def years_with_data(self) -> list[int]:
        """The reporting years that have at least one stored result."""
        with self.engine.connect() as conn:
            return sorted(int(y) for (y,) in conn.execute(sa.select(results.c.year).distinct()))

    @staticmethod
    def _latest_ids():  # noqa: ANN205 - a SQLAlchemy select
        """The id of the latest row of each result key."""
        return sa.select(sa.func.max(results.c.id).label("id")).group_by(*[results.c[k] for k in RESULT_KEY])

    def history(self, unit: str | None = None, year: int | None = None) -> pd.DataFrame:
        """Every stored row, oldest first: the audit trail."""
        query = sa.select(results, batches.c.sample).join(batches, batches.c.id == results.c.batch_id)
        if unit is not None:
            query = query.where(results.c.unit == unit)
        if year is not None:
            query = query.where(results.c.year == year)
        return self._frame(query.order_by(results.c.id))

    def _filtered(self, query, as_of, years, units):  # noqa: ANN001, ANN202 - SQLAlchemy select
        if as_of is not None:
            query = query.where(results.c.entered_at <= to_utc_naive(as_of))
        if years is not None:
            query = query.where(results.c.year.in_([int(y) for y in years]))
        if units is not None:
            query = query.where(results.c.unit.in_(list(units)))
        return query

    def _frame(self, query) -> pd.DataFrame:  # noqa: ANN001
        with self.engine.connect() as conn:
            df = pd.read_sql(query, conn)
        df["met"] = df["met"].astype("boolean")
        df["value"] = df["value"].astype("Float64")
        df["year"] = df["year"].astype("int64")
        df["sample"] = df["sample"].astype(bool)
        return df

    def write_results(
        self,
        rows: pd.DataFrame,
        *,
        source: str,
        author: str,
        kind: str = "import",
        sample: bool = False,
        note: str | None = None,
        dry_run: bool = False,
        expected_versions: dict[tuple[str, int], int] | None = None,
        guard: Callable[[pd.DataFrame], None] | None = None,
    ) -> WriteSummary:
        """Append the rows that differ from the current state, all in one transaction.

        ``rows`` has the columns unit, year, catalog, tier_set, level, item, met, value (and optionally note).
        A row equal to the current value of its key is skipped, so writing the same rows twice changes
        nothing the second time. Every commune-year with a changed row gets its version raised; with
        ``expected_versions`` ({(unit, year): version}) the write is refused whole (StaleVersion) when one of
        them is no longer current. ``guard`` sees the rows that would be written (inside the transaction)
        and may raise to refuse the whole write. The per-row outcome is in the summary's ``diff``."""
        incoming = rows.copy()
        if "note" not in incoming:
            incoming["note"] = note
        incoming["met"] = incoming["met"].astype("boolean")
        incoming["value"] = incoming["value"].astype("Float64")
        incoming["year"] = incoming["year"].astype("int64")
        try:
            return self._write(incoming, source, author, kind, sample, dry_run, expected_versions or {}, guard)
        except sa.exc.IntegrityError:
            # two writers created the same new commune-year version at once (PostgreSQL): try once more
            return self._write(incoming, source, author, kind, sample, dry_run, expected_versions or {}, guard)

    def _ensure_version_rows(self, keys: list[tuple[str, int]]) -> None:
        """Make sure each commune-year has a version row (version 0 = never written), so that a write that
        expects it can lock it (SELECT … FOR UPDATE locks rows, and an absent row cannot be locked)."""
        with self.engine.connect() as conn:
            missing = [k for k in keys if k not in self._versions(conn, keys)]
        for unit, year in missing:
            try:
                with self.writing() as conn:
                    conn.execute(sa.insert(unit_versions).values(unit=unit, year=year, version=0))
            except sa.exc.IntegrityError:
                pass  # another writer created it meanwhile: it exists, which is all we need

    def _write(self, incoming, source, author, kind, sample, dry_run, expected, guard) -> WriteSummary:  # noqa: ANN001
        self._ensure_version_rows(list(expected))
        # a dry run only reads: it must not queue behind (or hold up) real writers
        with self.engine.begin() if dry_run else self.writing() as conn:
            for (unit, year), version in expected.items():
                current = self._versions(conn, [(unit, year)], lock=True).get((unit, year), 0)
                if current != version:
                    raise StaleVersion(unit, year, version, current)
            diff = self._compare(conn, incoming)
            to_write = diff[diff["outcome"] != "unchanged"]
            if guard is not None:
                guard(to_write)
            new, changed, unchanged = (int((diff["outcome"] == o).sum()) for o in ("new", "changed", "unchanged"))
            if dry_run or to_write.empty:
                conn.rollback()
                return WriteSummary(None, new, changed, unchanged, diff)
            batch_id = self._append(conn, to_write, source, author, kind, sample)
        return WriteSummary(batch_id, new, changed, unchanged, diff)

    def _compare(self, conn: Connection, incoming: pd.DataFrame) -> pd.DataFrame:
        """The incoming rows with the current value of each key (met_old, value_old) and their ``outcome``."""
        merged = incoming.merge(self._current_for(conn, incoming), on=RESULT_KEY, how="left", suffixes=("", "_old"), indicator=True)
        is_new = merged["_merge"] == "left_only"
        same_met = (merged["met"] == merged["met_old"]).fillna(False) | (merged["met"].isna() & merged["met_old"].isna())
        same_val = (merged["value"] == merged["value_old"]).fillna(False) | (merged["value"].isna() & merged["value_old"].isna())
        unchanged = ~is_new & same_met & same_val
        merged["outcome"] = np.where(is_new, "new", np.where(unchanged, "unchanged", "changed"))
        return merged.drop(columns="_merge")

    def _append(self, conn: Connection, rows: pd.DataFrame, source: str, author: str, kind: str, sample: bool) -> int:
        """Insert ``rows`` as one new batch, raise the version of their commune-years and the change counter.
        Returns the batch id."""
        now = utcnow()
        batch_id = conn.execute(
            sa.insert(batches).values(kind=kind, source=source, author=author, entered_at=now, sample=sample, rows_written=len(rows))
        ).inserted_primary_key[0]
        columns = {c: rows[c].tolist() for c in ("unit", "catalog", "tier_set", "level", "item")}
        columns["year"] = rows["year"].astype("int64").tolist()
        columns["met"] = rows["met"].astype("boolean").to_numpy(dtype=object, na_value=None).tolist()
        columns["value"] = rows["value"].astype("Float64").to_numpy(dtype=object, na_value=None).tolist()
        columns["note"] = [None if n is None or (isinstance(n, float) and pd.isna(n)) else str(n) for n in rows["note"]]
        _insert_many(conn, results, columns, {"batch_id": batch_id, "source": source, "author": author, "entered_at": now})
        self._bump_versions(conn, sorted(set(zip(columns["unit"], columns["year"]))))
        _count_change(conn, "results")
        return batch_id

    def _versions(self, conn: Connection, keys: list[tuple[str, int]], lock: bool = False) -> dict[tuple[str, int], int]:
        """Versions of commune-years; ``lock`` holds their rows until the transaction ends (PostgreSQL's
        SELECT … FOR UPDATE; SQLite's write transaction already excludes other writers)."""
        if not keys:
            return {}
        units = sorted({u for u, _ in keys})
        query = sa.select(unit_versions).where(unit_versions.c.unit.in_(units))
        rows = conn.execute(query.with_for_update() if lock else query).all()
        wanted = set(keys)
        return {(u, y): v for u, y, v in rows if (u, y) in wanted}

    def _bump_versions(self, conn: Connection, keys: list[tuple[str, int]]) -> None:
        existing = self._versions(conn, keys)
        old = [{"u": u, "y": y} for u, y in keys if (u, y) in existing]
        if old:
            conn.execute(
                unit_versions.update()
                .where(unit_versions.c.unit == sa.bindparam("u"), unit_versions.c.year == sa.bindparam("y"))
                .values(version=unit_versions.c.version + 1),
                old,
            )
        new = [{"unit": u, "year": y, "version": 1} for u, y in keys if (u, y) not in existing]
        if new:
            conn.execute(sa.insert(unit_versions), new)

    def version(self, unit: str, year: int) -> int:
        """The version of a commune-year (0 before anything was written): the basis of its ETag."""
        with self.engine.connect() as conn:
            return self._versions(conn, [(unit, year)]).get((unit, year), 0)

    def changes(self, unit: str) -> pd.DataFrame:
        """The audit trail of one unit, newest first: each stored row with the value it replaced."""
        hist = self.history(unit)
        if hist.empty:
            return hist.assign(met_before=pd.Series(dtype="boolean"), value_before=pd.Series(dtype="Float64"))
        hist = hist.sort_values("id")
        grouped = hist.groupby(RESULT_KEY, sort=False)
        hist["met_before"] = grouped["met"].shift(1)
        hist["value_before"] = grouped["value"].shift(1)
        return hist.sort_values("id", ascending=False).reset_index(drop=True)

    def _current_for(self, conn: Connection, incoming: pd.DataFrame) -> pd.DataFrame:
        """The current met and value of every key in the years of ``incoming``. Read through the driver's cursor, as
        plain tuples: SQLAlchemy's rows cost as much as the query itself (100,000 rows of a re-import)."""
        years = sorted(int(y) for y in incoming["year"].unique())
        latest = sa.select(sa.func.max(results.c.id)).where(results.c.year.in_(years)).group_by(*[results.c[k] for k in RESULT_KEY])
        query = sa.select(*[results.c[k] for k in RESULT_KEY], results.c.met, results.c.value).where(
            results.c.id.in_(latest.scalar_subquery())
        )
        cursor = conn.connection.cursor()
        try:
            cursor.execute(str(query.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})))  # years: ints
            df = pd.DataFrame(cursor.fetchall(), columns=[*RESULT_KEY, "met", "value"])
        finally:
            cursor.close()
        df["met"] = df["met"].astype("boolean")
        df["value"] = df["value"].astype("Float64")
        df["year"] = df["year"].astype("int64")
        return df

    # -- workbooks -----------------------------------------------------------------------------------
    def issue_workbook(self, year: int) -> tuple[str, datetime]:
        """A workbook id for ``year`` and the moment it is issued: "year.microseconds.signature", signed with this
        store's key. An import takes the moment from a valid id only, never from the file's other cells; issuing
        writes nothing, so an anonymous download costs no storage."""
        now = utcnow()
        payload = f"{int(year)}.{(now - EPOCH) // timedelta(microseconds=1)}"
        return f"{payload}.{self._sign(payload)}", now

    def workbook_issue(self, workbook_id: str) -> tuple[int, datetime] | None:
        """(year, moment issued) of a workbook id this store signed, None for any other text."""
        parts = workbook_id.split(".")
        if len(parts) != 3 or not all(p.isascii() and p.isdigit() for p in parts[:2]) or len(parts[1]) > 18:
            return None
        payload = f"{parts[0]}.{parts[1]}"
        if not hmac.compare_digest(parts[2], self._sign(payload)):
            return None
        return int(parts[0]), EPOCH + timedelta(microseconds=int(parts[1]))

    def _sign(self, payload: str) -> str:
        if self._workbook_key is None:
            with self.engine.connect() as conn:
                self._workbook_key = conn.execute(sa.select(store_keys.c.value).where(store_keys.c.name == WORKBOOK_KEY)).scalar_one()
        return hmac.new(self._workbook_key.encode(), payload.encode(), hashlib.sha256).hexdigest()[:32]

    # -- the deployment --------------------------------------------------------------------------------
    def deployment_profile(self) -> str | None:
        """The profile id of the province this store follows through time, None when it never said (a store of
        Phú Yên alone, from before the deployment was recorded)."""
        with self.engine.connect() as conn:
            return conn.execute(sa.select(store_keys.c.value).where(store_keys.c.name == DEPLOYMENT_KEY)).scalar_one_or_none()

    def set_deployment_profile(self, profile: str) -> None:
        """Record the profile this store follows; a store that follows another one already is never switched."""
        current = self.deployment_profile()
        if current == profile:
            return
        if current is not None:
            raise StoreError(f"Cơ sở dữ liệu này theo dõi hồ sơ tỉnh {current!r}, không đổi sang {profile!r}; hãy dùng --db khác.")
        with self.writing() as conn:
            conn.execute(sa.insert(store_keys).values(name=DEPLOYMENT_KEY, value=str(profile)))

    # -- recognitions ---------------------------------------------------------------------------------
    def add_recognition(
        self,
        unit: str,
        tier: str,
        decision_number: str,
        decision_date: date,
        *,
        action: str = "recognise",
        source: str,
        author: str,
        note: str | None = None,
        sample: bool = False,
    ) -> int:
        if tier not in TIERS:
            raise StoreError(f"Hạng {tier!r} không hợp lệ; cho phép: {', '.join(TIERS)}")
        if action not in ("recognise", "revoke"):
            raise StoreError(f"Thao tác {action!r} không hợp lệ; cho phép: recognise, revoke")
        return self.add_recognitions(
            pd.DataFrame(
                [
                    {
                        "unit": unit,
                        "tier": tier,
                        "action": action,
                        "decision_number": decision_number,
                        "decision_date": decision_date,
                        "note": note,
                    }
                ]
            ),
            source=source,
            author=author,
            sample=sample,
        )

    def add_recognitions(self, rows: pd.DataFrame, *, source: str, author: str, sample: bool = False) -> int:
        now = utcnow()
        with self.writing() as conn:
            batch_id = conn.execute(
                sa.insert(batches).values(
                    kind="recognition", source=source, author=author, entered_at=now, sample=sample, rows_written=len(rows)
                )
            ).inserted_primary_key[0]
            conn.execute(
                sa.insert(recognitions),
                [
                    {
                        "batch_id": batch_id,
                        "unit": r.unit,
                        "tier": r.tier,
                        "action": r.action,
                        "decision_number": r.decision_number,
                        "decision_date": r.decision_date,
                        "source": source,
                        "author": author,
                        "entered_at": now,
                        "note": getattr(r, "note", None),
                    }
                    for r in rows.itertuples(index=False)
                ],
            )
            _count_change(conn, "recognitions")
        return int(batch_id)

    def recognitions(self, as_of: datetime | str | None = None) -> pd.DataFrame:
        query = sa.select(recognitions, batches.c.sample).join(batches, batches.c.id == recognitions.c.batch_id)
        if as_of is not None:
            query = query.where(recognitions.c.entered_at <= to_utc_naive(as_of))
        with self.engine.connect() as conn:
            df = pd.read_sql(query.order_by(recognitions.c.id), conn)
        df["decision_date"] = pd.to_datetime(df["decision_date"]).dt.date
        df["sample"] = df["sample"].astype(bool)
        return df

    # -- provenance -----------------------------------------------------------------------------------
    def is_sample(self, as_of: datetime | str | None = None) -> bool:
        """True when any result in the current state comes from the generated sample (one query, no rows read)."""
        latest = self._filtered(self._latest_ids(), as_of, None, None)
        query = (
            sa.select(results.c.id)
            .join(batches, batches.c.id == results.c.batch_id)
            .where(batches.c.sample.is_(True), results.c.id.in_(latest.scalar_subquery()))
            .limit(1)
        )
        with self.engine.connect() as conn:
            return conn.execute(query).first() is not None

    def data_version(self, max_age: float = 0.0) -> tuple[int, int, int]:
        """(results, recognitions, boundaries): each part changes when a write of that kind of data commits.

        With ``max_age`` (seconds) the version read from the database less than that long ago is answered from
        memory, unless a write went through this Store since: a write through this Store is seen at the next
        call, a write by another process (another Store, the CLI, another server) within ``max_age``."""
        known = self.known_data_version(max_age)
        if known is not None:
            return known
        writes, read_at = self._writes, monotonic()  # taken before the query: the version is at least this recent
        with self.engine.connect() as conn:
            got = dict(conn.execute(sa.select(changes.c.kind, changes.c.counter)).all())
        version = tuple(int(got.get(k, 0)) for k in CHANGE_KINDS)
        self._version = (writes, read_at, version)
        return version

    def known_data_version(self, max_age: float) -> tuple[int, int, int] | None:
        """``data_version(max_age)`` when it needs no query, else None: for callers that must not wait on the database."""
        known = self._version
        if known is not None and known[0] == self._writes and monotonic() - known[1] < max_age:
            return known[2]
        return None

    # -- boundaries -----------------------------------------------------------------------------------
    def add_boundary_layer(self, features: dict[str, bytes], *, source: str, crs: str, author: str, report: str, period: str = "cu") -> int:
        """Store a boundary layer (unit code of ``period`` -> WKB in EPSG:4326) in one transaction; it becomes the
        current layer of that period."""
        with self.writing() as conn:
            layer_id = conn.execute(
                sa.insert(boundary_layers).values(source=source, crs=crs, author=author, entered_at=utcnow(), report=report, period=period)
            ).inserted_primary_key[0]
            conn.execute(sa.insert(boundary_features), [{"layer_id": layer_id, "unit": u, "geometry": g} for u, g in features.items()])
            _count_change(conn, "boundaries")
        return int(layer_id)

    def current_boundary_layer(self, period: str = "cu") -> tuple[dict, dict[str, bytes]] | None:
        """The latest boundary layer of the units of ``period``: (its record, unit code -> WKB), or None when none
        was imported."""
        with self.engine.connect() as conn:
            query = sa.select(boundary_layers).where(boundary_layers.c.period == period)
            rec = conn.execute(query.order_by(boundary_layers.c.id.desc()).limit(1)).mappings().first()
            if rec is None:
                return None
            rows = conn.execute(
                sa.select(boundary_features.c.unit, boundary_features.c.geometry).where(boundary_features.c.layer_id == rec["id"])
            )
            return dict(rec), {u: bytes(g) for u, g in rows}
