"""Writers at once lose no update, and a process killed in the middle of an import leaves the store exactly
as it was — on SQLite and on PostgreSQL."""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd

from nongthon.province import load_province
from nongthon.store import StaleVersion, Store
from tests.conftest import results_frame

ROOT = Path(__file__).resolve().parents[1]


def criterion_rows(unit, year, met_upto):
    return results_frame([dict(unit=unit, year=year, item=str(i), met=i <= met_upto) for i in range(1, 20)])


def test_ten_writers_at_once_lose_no_update(db_url):
    province = load_province()
    Store.open(db_url).close()
    xa = list(province.registry.xa().index)
    others, same = xa[:8], xa[10]
    barrier = threading.Barrier(10)
    outcome: dict[str, object] = {}

    def writer(name, unit, met_upto):
        store = Store.open(db_url)  # each writer its own connection pool, as separate processes would
        try:
            barrier.wait()
            store.write_results(criterion_rows(unit, 2024, met_upto), source=name, author=name, expected_versions={(unit, 2024): 0})
            outcome[name] = "ok"
        except StaleVersion as exc:
            outcome[name] = exc
        finally:
            store.close()

    threads = [threading.Thread(target=writer, args=(f"w{i}", u, 10 + i)) for i, u in enumerate(others)]
    threads += [threading.Thread(target=writer, args=(f"same{i}", same, 19 - i)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    store = Store.open(db_url)
    cur = store.current_results()
    # the 8 writers on different communes all landed, each whole
    for i, u in enumerate(others):
        assert outcome[f"w{i}"] == "ok"
        mine = cur[cur["unit"] == u]
        assert len(mine) == 19 and mine["met"].sum() == 10 + i and set(mine["author"]) == {f"w{i}"}
    # of the two on the same commune with the same If-Match, exactly one landed; the other was told
    results = [outcome["same0"], outcome["same1"]]
    assert results.count("ok") == 1 and sum(isinstance(r, StaleVersion) for r in results) == 1
    winner = "same0" if outcome["same0"] == "ok" else "same1"
    assert set(cur[cur["unit"] == same]["author"]) == {winner} and len(store.history(same)) == 19
    assert store.version(same, 2024) == 1
    store.close()


def test_unconditional_writers_on_one_commune_both_stay_in_history(db_url):
    """Imports (no If-Match) on the same commune at once: both are kept in the history, none is lost."""
    Store.open(db_url).close()
    unit = "22303"
    barrier = threading.Barrier(4)
    errors = []

    def writer(k):
        store = Store.open(db_url)
        try:
            barrier.wait()
            store.write_results(criterion_rows(unit, 2023, 5 + k), source=f"f{k}", author=f"a{k}")
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            store.close()

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    store = Store.open(db_url)
    hist = store.history(unit)
    assert set(hist["author"]) == {"a0", "a1", "a2", "a3"}
    assert store.version(unit, 2023) == 4  # every write raised the version once
    store.close()


KILLED_IMPORT = """
import sys, time
from nongthon.imports import import_csv
from nongthon.province import load_province
from nongthon.store import Store

store = Store.open(sys.argv[1])
real_bump = Store._bump_versions

def slow_bump(self, conn, keys):
    real_bump(self, conn, keys)  # every result row is inserted by now, inside the open transaction
    print("MIDWAY", flush=True)
    time.sleep(120)

Store._bump_versions = slow_bump
import_csv(store, load_province(), sys.argv[2], author="killed")
"""


def test_a_process_killed_mid_import_changes_nothing(db_url, tmp_path, sample_db):
    store = Store.open(db_url)
    province = load_province()
    from nongthon.sample import generate

    store.write_results(generate(province).results.query("year == 2023"), source="before", author="t", sample=True, kind="sample")
    before_history = store.history()
    before_versions = store.data_version()
    csv = tmp_path / "big.csv"
    rows = [f"{u},2024,ntm,{i},dat" for u in province.registry.xa().index for i in range(1, 20)]
    csv.write_text("ma_xa,nam,bo_tieu_chi,tieu_chi,ket_qua\n" + "\n".join(rows) + "\n", encoding="utf-8")
    script = tmp_path / "killed.py"
    script.write_text(KILLED_IMPORT, encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, str(script), db_url, str(csv)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    deadline = time.time() + 60
    line = ""
    while time.time() < deadline and "MIDWAY" not in line:
        line = proc.stdout.readline()
        if not line and proc.poll() is not None:
            break
    assert "MIDWAY" in line, proc.stderr.read()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    after = Store.open(db_url)
    pd.testing.assert_frame_equal(after.history().reset_index(drop=True), before_history.reset_index(drop=True))
    assert after.data_version() == before_versions
    assert after.version(province.registry.xa().index[0], 2024) == 0
    if after.engine.dialect.name == "sqlite":
        with after.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    # and the store takes the same import afterwards
    from nongthon.imports import import_csv

    res = import_csv(after, province, csv, author="again")
    assert res.summary.new == len(rows)
    after.close()
    store.close()
