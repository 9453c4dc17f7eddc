"""Layers benchmark (not a test). For the 106-commune province layer and a synthetic national layer of
about 10,000 communes it prints: payload bytes raw and gzip; the time to rebuild after a write; latency
p50/p95 and requests per second over HTTP for a cached response, for a 304, and — the baseline, in the same
run — for a naive endpoint that builds and serialises the GeoDataFrame on every request.

    python benchmarks/bench_layers.py            # reads ../shared/geodata if present (real boundaries)

The national layer is 95 translated copies of the province's 106 communes (10,070 units), with sample-like
results, so that its vertex density is that of real boundaries.
"""

from __future__ import annotations

import argparse
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED_GPKG = ROOT.parent / "shared" / "geodata" / "phu_yen_pre2025.gpkg"
COPIES = 95
YEAR = 2023

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


def payload_figures(name: str, store: Store, province) -> None:
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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(db: str, port: int, national: bool) -> None:
    """Server mode: the real app plus the naive baseline endpoint."""
    import uvicorn
    from fastapi import Response

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

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def measure(client: httpx.Client, url: str, n: int, headers: dict | None = None, expect: int = 200) -> tuple[float, float, float]:
    times = []
    start = time.perf_counter()
    for _ in range(n):
        t = time.perf_counter()
        r = client.get(url, headers=headers or {})
        r.read()
        times.append(time.perf_counter() - t)
        assert r.status_code == expect, (url, r.status_code)
    total = time.perf_counter() - start
    q = statistics.quantiles(times, n=20)
    return statistics.median(times) * 1000, q[18] * 1000, n / total


def http_figures(name: str, db: Path, national: bool, n_fast: int, n_naive: int) -> None:
    port = free_port()
    cmd = [sys.executable, __file__, "--serve", str(db), str(port)] + (["--national"] if national else [])
    proc = subprocess.Popen(cmd)
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=300, headers={"Accept-Encoding": "gzip"}) as client:
            for _ in range(600):
                try:
                    client.get("/docs")
                    break
                except httpx.HTTPError:
                    time.sleep(0.1)
            url = f"/api/layers/communes?year={YEAR}"
            etag = client.get(url).headers["etag"]  # warm the cache
            client.get(f"/naive/communes?year={YEAR}")
            rows = [
                ("cached 200 (gzip)", measure(client, url, n_fast)),
                ("304 Not Modified", measure(client, url, n_fast, {"If-None-Match": etag}, 304)),
                ("naive: build + serialise per request", measure(client, f"/naive/communes?year={YEAR}", n_naive)),
            ]
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    print(f"{name} over HTTP (one client, keep-alive, sequential):")
    naive_rps = rows[-1][1][2]
    for label, (p50, p95, rps) in rows:
        ratio = "" if label.startswith("naive") else f"   {rps / naive_rps:,.0f}× the naive throughput"
        print(f"  {label:<38} p50 {p50:9.2f} ms   p95 {p95:9.2f} ms   {rps:9.1f} req/s{ratio}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--serve", nargs=2, metavar=("DB", "PORT"))
    ap.add_argument("--national", action="store_true")
    args = ap.parse_args()
    if args.serve:
        serve(args.serve[0], int(args.serve[1]), args.national)
        return
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        store, province = build_province_db(tmp / "province.db")
        src = "real boundaries (../shared/geodata)" if SHARED_GPKG.exists() else "schematic layer (no ../shared)"
        payload_figures(f"Province layer, {src}", store, province)
        http_figures("Province layer", tmp / "province.db", False, 300, 40)
        national = national_province(province)
        t = time.perf_counter()
        nstore = national_store(tmp / "national.db", store, province, national)
        print(f"(national store prepared in {time.perf_counter() - t:.1f} s)")
        payload_figures("National layer (synthetic)", nstore, national)
        http_figures("National layer", tmp / "national.db", True, 60, 5)


if __name__ == "__main__":
    main()
