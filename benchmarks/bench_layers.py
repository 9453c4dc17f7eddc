"""Layers benchmark (not a test): what a cached read costs the server, against the floor of sending the same
bytes, measured in the same server process and the same run.

- Server CPU per request — the server's own process CPU clock (all its threads), read through a bare route
  before and after N requests from this client process — for a cached communes layer (200, gzip), its 304, the
  summary and the map page. Each is set against a bare route of the same server (a plain FastAPI app with no
  middleware, routed to by path) that sends the bytes and headers the real route sent, captured first: the
  200 against that 200, the 304 against that 304; the layer also against a plain ASGI callable sending the
  same (no framework at all: a stricter floor). Real and floor alternate over rounds; the figure of each is
  its median over the rounds. Goal: ratio ≤ 1.5 (cached_ratio, not_modified_ratio, summary_ratio, map_ratio).
- Full run only: payload bytes raw and gzip, the rebuild after a write, latency p50/p95 for a cached response
  and a 304 against a naive endpoint that builds and serialises the GeoDataFrame on every request, for the
  province and — with the layer's CPU figures too (``national_*``) — for a synthetic national layer of about
  10,000 communes (95 translated copies of the province's 106, with sample-like results, so that its vertex
  density is that of real boundaries).

    python benchmarks/bench_layers.py --quick    # the province's CPU ratios only (CI: about 20 s)
    python benchmarks/bench_layers.py            # every figure; reads ../shared/geodata if present

The last line printed is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import shapely
from fastapi import FastAPI, Request, Response

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED_GPKG = ROOT.parent / "shared" / "geodata" / "phu_yen_pre2025.gpkg"
COPIES = 95
YEAR = 2023
GOAL = 1.5

from api.cache import LayerCache  # noqa: E402
from nongthon.boundaries import current_layer, import_boundaries  # noqa: E402
from nongthon.layers import commune_properties  # noqa: E402
from nongthon.province import load_province  # noqa: E402
from nongthon.sample import load_sample  # noqa: E402
from nongthon.store import Store  # noqa: E402
from nongthon.units import Registry  # noqa: E402


def national_province(base):
    """Phú Yên's profile over a registry of COPIES translated copies of its units."""
    reg = base.registry
    frames = []
    for k in range(COPIES):
        u = reg.units[reg.units["level"] != "province"].copy()
        dmap = {d: f"{100 + k * 9 + i:03d}" for i, d in enumerate(reg.districts().index)}
        is_commune = u["level"] == "commune"
        u.loc[is_commune, "code"] = [f"{10000 + k * 106 + i:05d}" for i in range(is_commune.sum())]
        u.loc[~is_commune, "code"] = u.loc[~is_commune, "code"].map(dmap)
        u.loc[is_commune, "parent_code"] = u.loc[is_commune, "parent_code"].map(dmap)
        u.loc[~is_commune, "parent_code"] = "54"
        u["district_code"] = u["parent_code"].where(is_commune, u["code"])
        u["name"] = u["name"] + f" ({k})"
        u["lon"] = u["lon"] + (k % 10) * 1.0
        u["lat"] = u["lat"] + (k // 10) * 1.1
        frames.append(u)
    units = pd.concat([reg.units[reg.units["level"] == "province"], *frames])
    units.index = units["code"]
    return replace(base, registry=Registry(units=units, eligible=reg.eligible))


def national_store(path: Path, base_store: Store, base, national) -> Store:
    layer = current_layer(base_store, base.registry).communes.geometry
    features = {}
    codes = list(national.registry.communes().index)
    i = 0
    for k in range(COPIES):
        moved = shapely.transform(layer.values, lambda xy, k=k: xy + np.array([(k % 10) * 1.0, (k // 10) * 1.1]))
        for g in moved:
            features[codes[i]] = shapely.to_wkb(g)
            i += 1
    store = Store.open(path)
    store.add_boundary_layer(features, source="95 bản sao dịch chuyển của Phú Yên (mô phỏng)", crs="WGS 84", author="bench", report="{}")
    rng = np.random.default_rng(3)
    xa = list(national.registry.xa().index)
    met = rng.random((len(xa), 19)) < 0.9
    rows = pd.DataFrame(
        {
            "unit": np.repeat(xa, 19),
            "year": YEAR,
            "catalog": "qd318-2022",
            "tier_set": "ntm",
            "level": "criterion",
            "item": np.tile(np.arange(1, 20).astype(str), len(xa)),
            "met": met.ravel(),
        }
    )
    rows["met"] = rows["met"].astype("boolean")
    rows["value"] = pd.Series(pd.NA, index=rows.index, dtype="Float64")
    store.write_results(rows, source="bench", author="bench", sample=True, kind="sample")
    return store


def build_province_db(path: Path):
    province = load_province()
    store = Store.open(path)
    load_sample(store, province)
    if SHARED_GPKG.exists():
        import_boundaries(store, province.registry, SHARED_GPKG, layer="communes", author="bench")
    return store, province


def payload_figures(name: str, store: Store, province) -> dict:
    cache = LayerCache(store, province)
    t = time.perf_counter()
    default = cache.communes(YEAR)
    first = time.perf_counter() - t
    full = cache.communes(YEAR, detail="full")
    print(f"{name}: {len(province.registry.communes()):,} communes")
    print(f"  payload default detail: {len(default.body):>12,} B raw  {len(default.gzipped):>10,} B gzip")
    print(f"  payload full detail:    {len(full.body):>12,} B raw  {len(full.gzipped):>10,} B gzip")
    print(f"  first build (geometry simplification + properties + serialisation): {first:.2f} s")
    code = province.registry.xa().index[0]
    rows = pd.DataFrame(
        {"unit": code, "year": YEAR, "catalog": "qd318-2022", "tier_set": "ntm", "level": "criterion", "item": "17", "met": [False]}
    )
    rows["met"] = rows["met"].astype("boolean")
    rows["value"] = pd.Series([pd.NA], dtype="Float64")
    cur = store.current_results(years=[YEAR], units=[code])
    cur = cur[(cur["tier_set"] == "ntm") & (cur["level"] == "criterion") & (cur["item"] == "17")]
    if len(cur) and not bool(cur["met"].iloc[0]):  # flip it, so that the write is a real change
        rows["met"] = pd.array([True], dtype="boolean")
    store.write_results(rows, source="bench", author="bench")
    t = time.perf_counter()
    after = cache.communes(YEAR)
    rebuild = time.perf_counter() - t
    assert after.etag != default.etag
    print(f"  rebuild after a write of one result (properties only; geometry kept): {rebuild:.2f} s")
    return {
        "payload_bytes": len(default.body),
        "payload_gzip_bytes": len(default.gzipped),
        "payload_full_gzip_bytes": len(full.gzipped),
        "first_build_s": round(first, 3),
        "rebuild_s": round(rebuild, 3),
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(db: str, port: int, national: bool) -> None:
    """Server mode: the real app with the naive baseline endpoint, and beside it, in the same process, a bare
    app that sends back bytes and headers it was given (the floor), the same as a plain ASGI callable with no
    framework (/raw/…, a stricter floor), and the process's CPU clock."""
    import uvicorn

    from api.app import create_app

    province = load_province()
    if national:
        province = national_province(province)
    app = create_app(db, province)

    @app.get("/naive/communes")
    def naive(year: int) -> Response:
        import geopandas as gpd

        store = app.state.store
        props, _ = commune_properties(store, province, year)
        layer = current_layer(store, province.registry).communes
        gdf = gpd.GeoDataFrame(pd.DataFrame(props).set_index("ma").join(layer), geometry="geometry", crs=4326)
        return Response(gdf.to_json(), media_type="application/geo+json")

    floor, kept = floor_app()

    async def raw(scope, receive, send) -> None:  # noqa: ANN001 - ASGI: the same, with no framework at all
        body, ok, not_modified, etag = kept[scope["path"].removeprefix("/raw/")]
        if (b"if-none-match", etag.encode()) in scope["headers"]:
            await Response(status_code=304, headers=not_modified)(scope, receive, send)
        else:
            await Response(body, headers=ok)(scope, receive, send)

    async def server(scope, receive, send) -> None:  # noqa: ANN001 - ASGI
        path = scope.get("path", "")
        target = floor if path.startswith("/floor") else raw if path.startswith("/raw/") else app
        await target(scope, receive, send)

    uvicorn.run(server, host="127.0.0.1", port=port, log_level="warning")


def floor_app() -> tuple[FastAPI, dict[str, tuple[bytes, dict, dict, str]]]:
    """The bare floor: a plain FastAPI app with no middleware, no dependency and no declared parameter, sending back
    the bytes and headers it was handed (PUT /floor/NAME), and the server's CPU clock (GET /floor-cpu)."""
    floor = FastAPI()
    kept: dict[str, tuple[bytes, dict, dict, str]] = {}

    @floor.put("/floor/{name}")
    async def keep(request: Request) -> Response:
        spec = json.loads(request.headers["x-floor"])
        kept[request.path_params["name"]] = (await request.body(), spec["ok"], spec["not_modified"], spec["etag"])
        return Response(status_code=204)

    @floor.get("/floor/{name}")
    async def bare(request: Request) -> Response:
        body, ok, not_modified, etag = kept[request.path_params["name"]]
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers=not_modified)
        return Response(body, headers=ok)

    @floor.get("/floor-cpu")
    async def cpu() -> Response:
        return Response(repr(time.process_time()))  # CLOCK_PROCESS_CPUTIME_ID: every thread of this process

    return floor, kept


def get(client: httpx.Client, url: str, headers: dict, expect: int) -> tuple[httpx.Response, bytes]:
    """One request and its body as sent (no gzip decoding on the client's side)."""
    with client.stream("GET", url, headers=headers) as r:
        body = b"".join(r.iter_raw())
    if r.status_code != expect:
        raise SystemExit(f"GET {url} {headers}: {r.status_code}, expected {expect}")
    return r, body


def capture(client: httpx.Client, name: str, url: str) -> str:
    """Hand the floor the bytes and headers the real route sends for ``url`` (200 and 304); its ETag."""
    first, body = get(client, url, {"Accept-Encoding": "gzip"}, 200)
    etag = first.headers["etag"]
    again, _ = get(client, url, {"Accept-Encoding": "gzip", "If-None-Match": etag}, 304)
    own = {"content-length", "date", "server"}  # set by the server for every response

    def kept(r: httpx.Response) -> dict:
        return {k: v for k, v in r.headers.items() if k not in own}

    spec = {"ok": kept(first), "not_modified": kept(again), "etag": etag}
    client.put(f"/floor/{name}", content=body, headers={"x-floor": json.dumps(spec)}).raise_for_status()
    return etag


def server_cpu(client: httpx.Client) -> float:
    return float(client.get("/floor-cpu").text)


def cpu_ms(client: httpx.Client, url: str, headers: dict, expect: int, n: int) -> float:
    """Server CPU per request, in ms, over ``n`` sequential requests."""
    before = server_cpu(client)
    for _ in range(n):
        get(client, url, headers, expect)
    return (server_cpu(client) - before) / n * 1000


def latency(client: httpx.Client, url: str, n: int, headers: dict, expect: int = 200) -> tuple[float, float, float]:
    times = []
    start = time.perf_counter()
    for _ in range(n):
        t = time.perf_counter()
        get(client, url, headers, expect)
        times.append(time.perf_counter() - t)
    total = time.perf_counter() - start
    q = statistics.quantiles(times, n=20)
    return statistics.median(times) * 1000, q[18] * 1000, n / total


def started(db: Path, national: bool) -> tuple[subprocess.Popen, str]:
    port = free_port()
    cmd = [sys.executable, __file__, "--serve", str(db), str(port)] + (["--national"] if national else [])
    return subprocess.Popen(cmd), f"http://127.0.0.1:{port}"


def wait_for(client: httpx.Client, proc: subprocess.Popen) -> None:
    for _ in range(1200):
        if proc.poll() is not None:
            raise SystemExit("the benchmark server stopped")
        try:
            client.get("/floor-cpu")
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit("the benchmark server did not start")


def cpu_figures(client: httpx.Client, rounds: int, n: int, pages: bool) -> dict:
    """Server CPU per request of each cached read and of its floor, interleaved over ``rounds``."""
    gz = {"Accept-Encoding": "gzip"}
    layer = f"/api/layers/communes?year={YEAR}"
    etag = capture(client, "layer", layer)
    cases = {  # name: (url, headers, status)
        "cached": (layer, gz, 200),
        "floor": ("/floor/layer", gz, 200),
        "not_modified": (layer, {**gz, "If-None-Match": etag}, 304),
        "floor_not_modified": ("/floor/layer", {**gz, "If-None-Match": etag}, 304),
        "raw_floor": ("/raw/layer", gz, 200),
        "raw_floor_not_modified": ("/raw/layer", {**gz, "If-None-Match": etag}, 304),
    }
    if pages:
        capture(client, "summary", f"/api/summary?year={YEAR}")
        capture(client, "map", "/map")
        cases |= {
            "summary": (f"/api/summary?year={YEAR}", gz, 200),
            "summary_floor": ("/floor/summary", gz, 200),
            "map": ("/map", gz, 200),
            "map_floor": ("/floor/map", gz, 200),
        }
    return interleaved(client, cases, rounds, n)


def interleaved(client: httpx.Client, cases: dict, rounds: int, n: int, extra: dict | None = None) -> dict[str, float]:
    """Median server CPU per request (ms) of each case ``name: (url, headers, status)``, after a warm-up, the cases
    measured in turn, forwards and backwards on alternate rounds (a real route and its floor see the same load);
    ``extra``: more measures, ``name: function() -> ms``, taken once per round."""
    for url, headers, status in cases.values():  # warm up
        for _ in range(max(10, n // 10)):
            get(client, url, headers, status)
    per_round: dict[str, list[float]] = {k: [] for k in [*cases, *(extra or {})]}
    for r in range(rounds):
        for name in cases if r % 2 == 0 else reversed(cases):
            per_round[name].append(cpu_ms(client, *cases[name], n))
        for name, measure in (extra or {}).items():
            per_round[name].append(measure())
    return {name: statistics.median(v) for name, v in per_round.items()}


def http_figures(name: str, db: Path, national: bool, rounds: int, n: int, n_naive: int) -> dict:
    proc, base = started(db, national)
    out: dict = {}
    try:
        with httpx.Client(base_url=base, timeout=600) as client:
            wait_for(client, proc)
            cpu = cpu_figures(client, rounds, n, pages=not national)
            out |= {f"{k}_cpu_ms": round(v, 4) for k, v in cpu.items()}
            out["cached_ratio"] = round(cpu["cached"] / cpu["floor"], 3)
            out["not_modified_ratio"] = round(cpu["not_modified"] / cpu["floor_not_modified"], 3)
            out["cached_raw_ratio"] = round(cpu["cached"] / cpu["raw_floor"], 3)
            out["not_modified_raw_ratio"] = round(cpu["not_modified"] / cpu["raw_floor_not_modified"], 3)
            for page in ("summary", "map"):
                if page in cpu:
                    out[f"{page}_ratio"] = round(cpu[page] / cpu[f"{page}_floor"], 3)
            if n_naive:
                gz = {"Accept-Encoding": "gzip"}
                url = f"/api/layers/communes?year={YEAR}"
                etag = get(client, url, gz, 200)[0].headers["etag"]
                get(client, f"/naive/communes?year={YEAR}", gz, 200)
                rows = {
                    "cached": latency(client, url, n, gz),
                    "not_modified": latency(client, url, n, {**gz, "If-None-Match": etag}, 304),
                    "naive": latency(client, f"/naive/communes?year={YEAR}", n_naive, gz),
                }
                for k, (p50, p95, rps) in rows.items():
                    out |= {f"{k}_p50_ms": round(p50, 2), f"{k}_p95_ms": round(p95, 2), f"{k}_rps": round(rps, 1)}
                out["cached_vs_naive_throughput"] = round(rows["cached"][2] / rows["naive"][2], 1)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    print(f"{name}: server CPU per request, median of {rounds} rounds × {n} requests (one client, keep-alive, sequential)")
    pairs = [("cached", "floor"), ("not_modified", "floor_not_modified"), ("summary", "summary_floor"), ("map", "map_floor")]
    for real, floor in pairs:
        if f"{real}_cpu_ms" in out:
            ratio = out[f"{real}_cpu_ms"] / out[f"{floor}_cpu_ms"]
            line = f"  {real:<14} {out[f'{real}_cpu_ms']:7.3f} ms   bare route {out[f'{floor}_cpu_ms']:7.3f} ms   {ratio:5.2f}× (goal ≤ {GOAL})"
            raw = f"raw_{floor}_cpu_ms"
            if raw in out:
                line += f"   plain ASGI {out[raw]:7.3f} ms   {out[f'{real}_cpu_ms'] / out[raw]:5.2f}×"
            print(line)
    if n_naive:
        print(f"{name} over HTTP, latency:")
        for k in ("cached", "not_modified", "naive"):
            print(f"  {k:<14} p50 {out[f'{k}_p50_ms']:9.2f} ms   p95 {out[f'{k}_p95_ms']:9.2f} ms   {out[f'{k}_rps']:9.1f} req/s")
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="the province's CPU ratios only, fewer requests (CI)")
    ap.add_argument("--serve", nargs=2, metavar=("DB", "PORT"))
    ap.add_argument("--national", action="store_true")
    args = ap.parse_args()
    if args.serve:
        serve(args.serve[0], int(args.serve[1]), args.national)
        return
    figures: dict = {"quick": args.quick, "year": YEAR}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        store, province = build_province_db(tmp / "province.db")
        figures["real_boundaries"] = SHARED_GPKG.exists()
        if args.quick:
            figures |= {"rounds": 3, "requests_per_round": 150}
            figures |= http_figures("Province layer", tmp / "province.db", False, 3, 150, 0)
        else:
            src = "real boundaries (../shared/geodata)" if SHARED_GPKG.exists() else "schematic layer (no ../shared)"
            figures |= payload_figures(f"Province layer, {src}", store, province)
            figures |= {"rounds": 7, "requests_per_round": 400}
            figures |= http_figures("Province layer", tmp / "province.db", False, 7, 400, 40)
            national = national_province(province)
            t = time.perf_counter()
            nstore = national_store(tmp / "national.db", store, province, national)
            print(f"(national store prepared in {time.perf_counter() - t:.1f} s)")
            nat = payload_figures("National layer (synthetic)", nstore, national)
            nat |= http_figures("National layer", tmp / "national.db", True, 5, 200, 5)
            figures |= {f"national_{k}": v for k, v in nat.items()}
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
