"""Projections run in a bounded pool of their own (api/jobs.py). Against a real server: a crowd of heavy anonymous
projections leaves the layers, the summary and the map answering; the requests beyond the queue get 429 with
Retry-After; a stop with projections running ends within seconds. In process: identical requests share one
computation, cached per version of the data."""

import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from nongthon.store import Store
from tests.conftest import results_frame
from tests.live import start_server, stop_server

RUNS = 2000  # the most a reader without a token may ask for
STARTS = list(range(2016, 2024))  # eight distinct projections to 2025, each a few seconds of CPU


@pytest.fixture
def server(sample_db, tmp_path, monkeypatch):
    """`nongthon serve` with one projection worker and three places in its queue."""
    path = tmp_path / "served.db"
    shutil.copy(sample_db, path)
    monkeypatch.setenv("NONGTHON_PROJECTION_WORKERS", "1")
    monkeypatch.setenv("NONGTHON_PROJECTION_QUEUE", "3")
    proc, url = start_server(path)
    yield proc, url
    if proc.poll() is None:
        stop_server(proc)


def fire(
    url: str, starts: list[int], runs: int = RUNS, token: str | None = None
) -> tuple[list[threading.Thread], dict[int, httpx.Response | Exception]]:
    """One projection per start year (anonymous, or with an account's token), all at once, each in its own thread."""
    out: dict[int, httpx.Response | Exception] = {}
    headers = {"Authorization": f"Bearer {token}"} if token else {}

    def get(start: int) -> None:
        try:
            params = {"runs": runs, "start_year": start, "horizon": 2025}
            out[start] = httpx.get(f"{url}/api/projections", params=params, headers=headers, timeout=300)
        except httpx.HTTPError as exc:
            out[start] = exc

    threads = [threading.Thread(target=get, args=(s,)) for s in starts]
    for t in threads:
        t.start()
    return threads, out


def timed(url: str) -> tuple[int, float]:
    t0 = time.monotonic()
    r = httpx.get(url, timeout=60)
    return r.status_code, time.monotonic() - t0


def children(pid: int) -> set[int]:
    """The processes whose parent is ``pid`` (Linux /proc)."""
    out = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.add(int(stat.parent.name))
    return out


def running(pid: int) -> bool:
    """Whether a process exists and is not a zombie (an exited child that nobody has reaped yet)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_heavy_projections_leave_reads_answering_and_the_surplus_gets_429(server):
    _, url = server
    for path in ("/api/layers/communes?year=2024", "/api/summary?year=2024"):  # geometry and imports warmed up
        assert httpx.get(url + path, timeout=120).status_code == 200
    # what a read not cached yet (each year is built on demand) takes on this machine with no projection running
    alone = {kind: timed(f"{url}{path}?year=2025")[1] for kind, path in (("layer", "/api/layers/communes"), ("summary", "/api/summary"))}
    alone["map"] = timed(f"{url}/map?year=2022")[1]
    threads, out = fire(url, STARTS)
    time.sleep(1)
    # meanwhile, such reads answer within a couple of seconds (or a few times what they take alone on a slow machine)
    for year in (2023, 2022, 2021):
        for kind, path in (("layer", "/api/layers/communes"), ("summary", "/api/summary")):
            status, took = timed(f"{url}{path}?year={year}")
            assert status == 200 and took < max(3, 4 * alone[kind]), (path, year, status, took, alone)
    status, took = timed(url + "/map?year=2023")  # the map's own forecast runs beside the pool, not in it: no deadlock
    assert status == 200 and took < max(15, 4 * alone["map"]), (took, alone)
    for t in threads:
        t.join(timeout=300)
    assert not any(isinstance(r, Exception) for r in out.values()), out
    assert Counter(r.status_code for r in out.values()) == {200: 4, 429: 4}  # 1 running + 3 waiting, the rest refused
    for start, r in out.items():
        if r.status_code == 429:
            assert int(r.headers["retry-after"]) >= 1
            loi = r.json()["loi"]
            assert "tối đa 1 chạy cùng lúc" in loi and "3 chờ" in loi, loi
        else:  # the projection asked for: from its start year, one row per year to 2025
            data = r.json()
            assert data["nam_bat_dau"] == start and data["so_lan_mo_phong"] == RUNS
            assert [y["nam"] for y in data["theo_nam"]] == list(range(start + 1, 2026))
    refused = next(s for s, r in out.items() if r.status_code == 429)
    again = httpx.get(f"{url}/api/projections", params={"runs": RUNS, "start_year": refused, "horizon": 2025}, timeout=300)
    assert again.status_code == 200 and again.json()["nam_bat_dau"] == refused  # room again once the crowd is served


def test_a_stop_with_projections_running_ends_within_seconds(server, tmp_path):
    """Four projections of 10,000 runs (an editor's most; a few seconds each with one worker) outlast the 3 s a stop
    gives waiting requests, however fast the kernel gets."""
    proc, url = server
    db = next(a for a in proc.args if a.endswith(".db"))
    made = subprocess.run(
        [sys.executable, "-m", "nongthon.cli", "--db", db, "users", "add", "Trưởng phòng", "--role", "admin"],
        capture_output=True,
        text=True,
        check=True,
    )
    token = made.stdout.strip().splitlines()[-1]
    threads, out = fire(url, STARTS[:4], runs=10000, token=token)
    deadline = time.monotonic() + 60
    while not any(
        "spawn_main" in Path(f"/proc/{c}/cmdline").read_text(errors="replace") for c in children(proc.pid) if Path(f"/proc/{c}").exists()
    ):
        assert time.monotonic() < deadline, "no projection worker started"
        time.sleep(0.2)
    time.sleep(0.3)  # the first projection is running, the others wait
    workers = children(proc.pid)
    t0 = time.monotonic()
    log = stop_server(proc)
    took = time.monotonic() - t0
    assert took < 6, f"the server took {took:.1f} s to stop"
    for t in threads:
        t.join(timeout=10)
    # a projection that finished before the stop is answered; every other one is told the server is stopping (503),
    # never a 500; with one worker and four requests, the last ones were still queued
    assert {r.status_code for r in out.values()} <= {200, 503} and 503 in {r.status_code for r in out.values()}, out
    assert all("Máy chủ đang dừng" in r.json()["loi"] for r in out.values() if r.status_code == 503)
    assert "Traceback" not in log and "leaked" not in log, log
    time.sleep(0.5)
    assert not [pid for pid in workers if running(pid)], "a projection worker outlived the server"


def test_identical_requests_share_one_computation_per_data_version(sample_db, tmp_path):
    path = tmp_path / "coalesce.db"
    shutil.copy(sample_db, path)
    app = create_app(path)
    params = {"runs": 500, "start_year": 2020, "horizon": 2025}
    with TestClient(app) as client:
        barrier = threading.Barrier(5)

        def get(_: int) -> httpx.Response:
            barrier.wait()
            return client.get("/api/projections", params=params)

        with ThreadPoolExecutor(5) as pool:
            answers = list(pool.map(get, range(5)))
        assert [r.status_code for r in answers] == [200] * 5
        assert len({r.content for r in answers}) == 1 and len({r.headers["etag"] for r in answers}) == 1
        assert app.state.jobs.computations == 1
        assert client.get("/api/projections", params=params).content == answers[0].content
        assert app.state.jobs.computations == 1  # from the cache
        assert client.get("/api/projections", params={**params, "runs": 400}).status_code == 200
        assert app.state.jobs.computations == 2  # other parameters, another computation
        store = Store.open(path)  # a write from elsewhere: a new data version, computed again
        store.write_results(results_frame([{"unit": "22303", "year": 2024, "item": "17", "met": False}]), source="test", author="test")
        store.close()
        assert client.get("/api/projections", params=params).status_code == 200
        assert app.state.jobs.computations == 3
