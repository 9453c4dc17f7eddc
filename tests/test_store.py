import time
from datetime import date

import pandas as pd
import pytest
import sqlalchemy as sa

from nongthon.errors import StoreError
from nongthon.store import SCHEMA_VERSION, Store, schema_info, utcnow
from tests.conftest import results_frame

A = "22303"


def write(store, met, item="17", year=2023, value=None):
    rows = results_frame([dict(unit=A, year=year, item=item, met=met, value=value)])
    return store.write_results(rows, source="test", author="tester")


def test_new_database_is_at_current_schema_version(store):
    assert store.schema_version() == SCHEMA_VERSION == 6


def test_reopening_does_not_rerun_migrations(tmp_path):
    path = tmp_path / "a.db"
    Store.open(path).close()
    s = Store.open(path)
    with s.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(schema_info)).scalar() == SCHEMA_VERSION
    s.close()


def test_database_newer_than_the_code_is_refused(tmp_path):
    path = tmp_path / "b.db"
    s = Store.open(path)
    with s.engine.begin() as conn:
        conn.execute(sa.insert(schema_info).values(version=SCHEMA_VERSION + 1, applied_at=utcnow(), description="future"))
    s.close()
    with pytest.raises(StoreError, match=f"phiên bản {SCHEMA_VERSION + 1}"):
        Store.open(path)


def test_corrections_append_and_current_state_is_the_latest(store):
    assert write(store, True).new == 1
    assert write(store, False).changed == 1
    hist = store.history(A)
    assert list(hist["met"]) == [True, False]
    cur = store.current_results()
    assert len(cur) == 1 and not cur["met"].item()


def test_same_value_twice_writes_nothing(store):
    write(store, True)
    s = write(store, True)
    assert (s.new, s.changed, s.unchanged, s.batch_id) == (0, 0, 1, None)
    assert len(store.history(A)) == 1


def test_as_of_reproduces_what_was_known_then(store):
    write(store, True)
    time.sleep(0.01)
    between = utcnow()
    time.sleep(0.01)
    write(store, False)
    write(store, True, item="5")
    then = store.current_results(as_of=between)
    assert len(then) == 1 and bool(then["met"].item())
    now = store.current_results()
    assert len(now) == 2 and not bool(now.set_index("item").loc["17", "met"])
    assert store.current_results(as_of="2000-01-01T00:00:00").empty


def test_as_of_accepts_timezone_aware_times(store):
    write(store, True)
    aware = pd.Timestamp.now(tz="Asia/Ho_Chi_Minh").to_pydatetime()
    assert len(store.current_results(as_of=aware)) == 1


def test_values_and_flags_are_kept_apart(store):
    write(store, None, item="15.3", value=21.5)
    cur = store.current_results()
    assert pd.isna(cur["met"].item()) and cur["value"].item() == 21.5


def test_recognitions_are_append_only_and_as_of(store):
    store.add_recognition(A, "ntm", "12/QĐ-UBND", date(2019, 12, 1), source="QĐ", author="t")
    mid = utcnow()
    time.sleep(0.01)
    store.add_recognition(A, "ntm", "99/QĐ-UBND", date(2024, 1, 2), action="revoke", source="QĐ", author="t")
    assert len(store.recognitions()) == 2
    assert len(store.recognitions(as_of=mid)) == 1
    with pytest.raises(StoreError, match="gold"):
        store.add_recognition(A, "gold", "1", date(2020, 1, 1), source="x", author="t")


def test_data_version_changes_on_write(store):
    v0 = store.data_version()
    write(store, True)
    assert store.data_version() != v0


def test_sample_flag(store):
    rows = results_frame([dict(unit=A, year=2023, item="1", met=True)])
    store.write_results(rows, source="s", author="t", kind="sample", sample=True)
    assert store.is_sample()
    write(store, True, item="2")
    cur = store.current_results()
    assert cur.set_index("item")["sample"].to_dict() == {"1": True, "2": False}


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(StoreError, match="không tồn tại"):
        Store.open(tmp_path / "nope" / "x.db")


def test_version_1_database_is_migrated_in_place(tmp_path):
    """A database made by schema version 1 keeps its rows and gains the later tables."""
    from nongthon import store as store_mod

    path = tmp_path / "v1.db"
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        store_mod.metadata.create_all(conn, tables=[schema_info])
        store_mod._migrate_to_1(conn)
        conn.execute(sa.insert(schema_info).values(version=1, applied_at=utcnow(), description="v1"))
        now = utcnow()
        conn.execute(
            sa.insert(store_mod.batches).values(id=1, kind="import", source="v1", author="t", entered_at=now, sample=False, rows_written=1)
        )
        conn.execute(
            sa.insert(store_mod.results).values(
                batch_id=1,
                unit=A,
                year=2023,
                catalog="qd318-2022",
                tier_set="ntm",
                level="criterion",
                item="17",
                met=True,
                source="v1",
                author="t",
                entered_at=now,
            )
        )
    engine.dispose()
    s = Store.open(path)
    assert s.schema_version() == SCHEMA_VERSION
    assert len(s.current_results()) == 1
    assert sa.inspect(s.engine).has_table("boundary_features") and sa.inspect(s.engine).has_table("users")
    assert s.version(A, 2023) == 1  # existing commune-years start at version 1
    write(s, False)
    assert s.version(A, 2023) == 2
    s.close()
    s = Store.open(path)
    assert s.schema_version() == SCHEMA_VERSION
    assert len(s.current_results()) == 1
    assert sa.inspect(s.engine).has_table("boundary_features")
    s.close()


def test_expected_version_refuses_a_stale_write_whole(store):
    from nongthon.store import StaleVersion

    assert store.version(A, 2023) == 0
    write(store, True)
    assert store.version(A, 2023) == 1
    rows = results_frame([dict(unit=A, year=2023, item="17", met=False), dict(unit="22306", year=2023, item="1", met=True)])
    with pytest.raises(StaleVersion, match="phiên bản hiện tại 1, bạn đang sửa phiên bản 0"):
        store.write_results(rows, source="t", author="b", expected_versions={(A, 2023): 0})
    assert len(store.history()) == 1  # nothing of the refused write
    store.write_results(rows, source="t", author="b", expected_versions={(A, 2023): 1})
    assert store.version(A, 2023) == 2 and store.version("22306", 2023) == 1
    write(store, False)  # unchanged: no new version
    assert store.version(A, 2023) == 2


def test_changes_give_the_value_replaced(store):
    write(store, True)
    write(store, False)
    write(store, None, item="15.3", value=21.0)
    ch = store.changes(A)
    first = ch[ch["item"] == "17"].iloc[0]
    assert (bool(first["met"]), bool(first["met_before"])) == (False, True)
    assert pd.isna(ch[ch["item"] == "15.3"].iloc[0]["value_before"])


def test_data_version_counts_commits_not_ids(store):
    """The cache key moves when a write commits, whatever ids it took (PostgreSQL hands ids out at insert)."""
    v0 = store.data_version()
    write(store, True)
    v1 = store.data_version()
    assert v1[0] == v0[0] + 1 and v1[1:] == v0[1:]
    store.add_recognition(A, "ntm", "1/QĐ", date(2023, 12, 1), source="s", author="t")
    assert store.data_version()[1] == v1[1] + 1
    write(store, True)  # unchanged: nothing committed, nothing moves
    assert store.data_version()[0] == v1[0]


def test_version_4_database_gains_the_workbook_key(tmp_path):
    """Schema 5: a key of the store signs each workbook's id (year and the moment its values were read), so an
    import never takes that moment from a cell anyone can change, and handing out a workbook writes nothing."""
    from nongthon import store as store_mod

    path = tmp_path / "v4.db"
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        store_mod.metadata.create_all(conn, tables=[schema_info])
        for version in range(1, 5):
            store_mod.MIGRATIONS[version][1](conn)
            conn.execute(sa.insert(schema_info).values(version=version, applied_at=utcnow(), description=f"v{version}"))
    assert not sa.inspect(engine).has_table("store_keys")
    engine.dispose()
    s = Store.open(path)
    assert s.schema_version() == SCHEMA_VERSION and sa.inspect(s.engine).has_table("store_keys")
    before = utcnow()
    first, at = s.issue_workbook(2024)
    assert s.workbook_issue(first) == (2024, at) and before <= at <= utcnow()
    year, micros, mac = first.split(".")
    later = int(micros) + 10**9  # the same id with a moment 1000 s later, or another year: the signature no longer holds
    assert s.workbook_issue(f"{year}.{later}.{mac}") is None and s.workbook_issue(f"2023.{micros}.{mac}") is None
    assert s.workbook_issue("not-issued") is None and s.workbook_issue("") is None
    other = Store.open(tmp_path / "other.db")  # another store's key signs differently
    assert other.workbook_issue(first) is None
    other.close()
    s.close()


def test_version_5_boundary_layers_become_layers_of_the_old_units(tmp_path):
    """Before version 6 a boundary layer had no period: it was Phú Yên's, of the units before 1 July 2025."""
    path = tmp_path / "v5.db"
    s = Store.open(path)
    s.add_boundary_layer({"22303": b"\x01"}, source="old.gpkg", crs="WGS 84", author="t", report="{}")
    s.close()
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:  # back to the version 5 table: no period column
        conn.exec_driver_sql("ALTER TABLE boundary_layers DROP COLUMN period")
        conn.exec_driver_sql("DELETE FROM schema_info WHERE version = 6")
    engine.dispose()
    s = Store.open(path)
    assert s.schema_version() == 6
    assert s.current_boundary_layer("cu")[1] == {"22303": b"\x01"}
    assert s.current_boundary_layer("moi") is None  # 22303 of the new units is another xã (Phú Hòa 2)
    s.close()


def test_a_write_is_stored_exactly_with_its_batch(store, monkeypatch):
    """The rows of one write as the database holds them, read with plain SQL: each value exactly (0.1 + 0.2 is not
    0.3), đạt / không đạt / no flag, each row's note, and the batch's source, author and moment — the moment in the
    very form of the batch's own (on SQLite a text: a form without '.000000' would sort differently against as_of).
    Written again, nothing changes; 0.3 instead of 0.1 + 0.2 is a change."""
    from datetime import datetime, timedelta

    moment = datetime(2024, 5, 6, 7, 8, 9)  # no microseconds
    monkeypatch.setattr("nongthon.store.utcnow", lambda: moment)
    rows = results_frame(
        [
            dict(unit=A, year=2023, item="17", met=True),
            dict(unit=A, year=2023, item="5", met=False),
            dict(unit=A, year=2023, item="15.3", level="indicator", value=0.1 + 0.2),
            dict(unit="22306", year=2022, item="10.1", level="indicator", value=0.0),
        ]
    ).assign(note=["ghi chú", None, "", "x"])
    summary = store.write_results(rows, source="tệp.csv", author="cán bộ")
    assert (summary.new, summary.changed, summary.unchanged) == (4, 0, 0)
    with store.engine.connect() as conn:
        stored = conn.exec_driver_sql(
            "SELECT r.unit, r.year, r.item, r.met, r.value, r.note, r.source, r.author, r.entered_at = b.entered_at, b.rows_written "
            "FROM results r JOIN batches b ON b.id = r.batch_id ORDER BY r.id"
        ).all()
    assert [(u, y, i, None if m is None else bool(m), v, n, s, a, bool(same), w) for u, y, i, m, v, n, s, a, same, w in stored] == [
        (A, 2023, "17", True, None, "ghi chú", "tệp.csv", "cán bộ", True, 4),
        (A, 2023, "5", False, None, None, "tệp.csv", "cán bộ", True, 4),
        (A, 2023, "15.3", None, 0.30000000000000004, "", "tệp.csv", "cán bộ", True, 4),
        ("22306", 2022, "10.1", None, 0.0, "x", "tệp.csv", "cán bộ", True, 4),
    ]
    assert len(store.current_results(as_of=moment)) == 4
    assert store.current_results(as_of=moment - timedelta(microseconds=1)).empty
    again = store.write_results(rows, source="tệp.csv", author="cán bộ")
    assert (again.new, again.changed, again.unchanged, again.batch_id) == (0, 0, 4, None)
    assert again.diff.set_index("item").loc["15.3", "value_old"] == 0.30000000000000004
    rounded = rows.assign(value=rows["value"].mask(rows["item"] == "15.3", 0.3))
    assert store.write_results(rounded, source="t", author="t").changed == 1
