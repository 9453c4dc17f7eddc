"""National view benchmark (not a test): the whole country's layers (issue 12.5, first half) on the labelled national
sample (`nongthon demo --national`: 2,621 xã × 10 criteria of 2026) and the 3,321 units of the new registry.

- Build: the national view's geometry (coverage simplification of 3,321 units and the provinces' union), the
  communes layer's properties and text, the province layer, the report; the first build of the national communes
  layer through the API's cache, and its rebuild after a write of one result (properties only: geometry is kept
  per boundary version).
- Size: the national communes layer and the province layer at default detail, raw and gzip, against the budgets of
  issue 12.2 (1.5 MB and 150 KB gzip): over budget, the benchmark fails.
- Server CPU per request of the cached national communes layer (200 gzip, and its 304), the province layer and the
  national report, each against a bare route of the same server that sends the same bytes and headers (the floor
  of benchmarks/bench_layers.py, measured in the same run; real and floor alternate over rounds; medians).

The full run imports the real national boundaries (../shared/geodata/vietnam_2025_communes.gpkg, when present);
``--quick`` (CI, seconds) keeps the schematic layer and runs fewer requests.

    python benchmarks/bench_national.py --quick
    python benchmarks/bench_national.py

The last line printed is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
NATIONAL_GPKG = ROOT.parent / "shared" / "geodata" / "vietnam_2025_communes.gpkg"
YEAR = 2026
GOAL = 1.5
BUDGETS = {"communes": 1_500_000, "provinces": 150_000}  # gzip bytes, default detail (issue 12.2)
COMMUNES_URL = f"/api/layers/communes?year={YEAR}&province=all"
PROVINCES_URL = f"/api/layers/provinces?year={YEAR}"
SUMMARY_URL = f"/api/national/summary?year={YEAR}"

from bench_layers import capture, floor_app, free_port, interleaved, wait_for  # noqa: E402 - the same floor and clock

from api.cache import LayerCache  # noqa: E402
from api.national import National  # noqa: E402
from nongthon.boundaries import import_boundaries  # noqa: E402
from nongthon.deployment import national_deployment  # noqa: E402
from nongthon.national import (  # noqa: E402
    ALL,
    commune_layer,
    load_national_sample,
    national_province,
    national_registry,
    national_summary,
    province_layer,
    view_geometry,
)
from nongthon.store import Store  # noqa: E402


def timed(f, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN201
    t = time.perf_counter()
    out = f(*args, **kwargs)
    return out, time.perf_counter() - t


def build_db(path: Path, real: bool) -> Store:
    store = Store.open(path)
    load_national_sample(store)
    if real:
        _, s = timed(import_boundaries, store, national_registry(), NATIONAL_GPKG, layer="communes", author="bench")
        print(f"(real national boundaries imported in {s:.1f} s)")
    return store


def build_figures(store: Store) -> dict:
    nation = national_province()
    geometry, geometry_s = timed(view_geometry, store, ALL)
    _, communes_s = timed(commune_layer, store, nation, YEAR, geometry=geometry)
    _, provinces_s = timed(province_layer, store, nation, YEAR, geometry=geometry)
    _, summary_s = timed(national_summary, store, nation, YEAR)
    national = National(LayerCache(store, national_deployment()))
    first, first_s = timed(national.communes, YEAR, ALL, None, None, "default", None, None)
    provinces = national.provinces(YEAR, None, "default", None)
    unit = national_registry().xa().index[0]
    current = store.current_results(years=[YEAR], units=[unit])
    met = bool(current.loc[current["item"] == "1", "met"].iloc[0])
    rows = pd.DataFrame({"unit": [unit], "year": YEAR, "catalog": "qd51-2025", "tier_set": "ntm", "level": "criterion", "item": "1"})
    rows["met"] = pd.array([not met], dtype="boolean")  # a real change
    rows["value"] = pd.Series([pd.NA], dtype="Float64")
    store.write_results(rows, source="bench", author="bench")
    after, rebuild_s = timed(national.communes, YEAR, ALL, None, None, "default", None, None)
    assert after.etag != first.etag
    out = {
        "units": len(national_registry().communes()),
        "boundaries": geometry.layer.source,
        "schematic": geometry.layer.schematic,
        "geometry_build_s": round(geometry_s, 3),
        "communes_layer_build_s": round(communes_s, 3),
        "provinces_layer_build_s": round(provinces_s, 3),
        "summary_build_s": round(summary_s, 3),
        "first_build_s": round(first_s, 3),
        "rebuild_after_write_s": round(rebuild_s, 3),
        "communes_bytes": len(first.body),
        "communes_gzip_bytes": len(first.gzipped),
        "provinces_bytes": len(provinces.body),
        "provinces_gzip_bytes": len(provinces.gzipped),
    }
    print(f"National view, {out['units']:,} units; boundaries: {out['boundaries']}")
    print(f"  geometry (coverage simplification + province union): {geometry_s:6.2f} s")
    print(f"  communes layer properties + text:                    {communes_s:6.2f} s")
    print(f"  province layer (report + text):                      {provinces_s:6.2f} s")
    print(f"  national report:                                     {summary_s:6.2f} s")
    print(f"  first build through the cache / rebuild after a write (properties only): {first_s:.2f} s / {rebuild_s:.2f} s")
    for name in ("communes", "provinces"):
        raw, gz = out[f"{name}_bytes"], out[f"{name}_gzip_bytes"]
        print(f"  {name:<9} layer: {raw:>11,} B raw {gz:>10,} B gzip   budget {BUDGETS[name]:>9,} B gzip")
        out[f"{name}_within_budget"] = gz <= BUDGETS[name]
    return out


def serve(db: str, port: int) -> None:
    """Server mode: the real app over the national store and, in the same process, the bare floor of bench_layers
    (a plain FastAPI app with no middleware sending back the bytes and headers it was given) and the CPU clock."""
    import uvicorn

    from api.app import create_app

    app = create_app(db)
    floor, _ = floor_app()

    async def server(scope, receive, send) -> None:  # noqa: ANN001 - ASGI
        await (floor if scope.get("path", "").startswith("/floor") else app)(scope, receive, send)

    uvicorn.run(server, host="127.0.0.1", port=port, log_level="warning")


def http_figures(db: Path, rounds: int, n: int) -> dict:
    port = free_port()
    proc = subprocess.Popen([sys.executable, __file__, "--serve", str(db), str(port)])
    gz = {"Accept-Encoding": "gzip"}
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=600) as client:
            wait_for(client, proc)
            etag = capture(client, "communes", COMMUNES_URL)
            capture(client, "provinces", PROVINCES_URL)
            capture(client, "summary", SUMMARY_URL)
            cases = {
                "cached": (COMMUNES_URL, gz, 200),
                "floor": ("/floor/communes", gz, 200),
                "not_modified": (COMMUNES_URL, {**gz, "If-None-Match": etag}, 304),
                "floor_not_modified": ("/floor/communes", {**gz, "If-None-Match": etag}, 304),
                "provinces": (PROVINCES_URL, gz, 200),
                "provinces_floor": ("/floor/provinces", gz, 200),
                "summary": (SUMMARY_URL, gz, 200),
                "summary_floor": ("/floor/summary", gz, 200),
            }
            cpu = interleaved(client, cases, rounds, n)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    out = {f"{k}_cpu_ms": round(v, 4) for k, v in cpu.items()}
    print(f"Server CPU per request, median of {rounds} rounds × {n} requests (one client, keep-alive, sequential)")
    for real, floor in (
        ("cached", "floor"),
        ("not_modified", "floor_not_modified"),
        ("provinces", "provinces_floor"),
        ("summary", "summary_floor"),
    ):
        ratio = cpu[real] / cpu[floor]
        out[f"{real}_ratio"] = round(ratio, 3)
        print(f"  {real:<14} {cpu[real]:7.3f} ms   bare route {cpu[floor]:7.3f} ms   {ratio:5.2f}× (goal ≤ {GOAL})")
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="schematic boundaries, fewer requests (CI)")
    ap.add_argument("--serve", nargs=2, metavar=("DB", "PORT"))
    args = ap.parse_args()
    if args.serve:
        serve(args.serve[0], int(args.serve[1]))
        return
    real = not args.quick and NATIONAL_GPKG.exists()
    figures: dict = {"quick": args.quick, "year": YEAR, "real_boundaries": real}
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "national.db"
        store = build_db(db, real)
        figures |= build_figures(store)
        store.close()
        rounds, n = (3, 100) if args.quick else (7, 300)
        figures |= {"rounds": rounds, "requests_per_round": n}
        figures |= http_figures(db, rounds, n)
    print(json.dumps(figures))
    if not (figures["communes_within_budget"] and figures["provinces_within_budget"]):
        raise SystemExit("a national layer is over its size budget")


if __name__ == "__main__":
    main()
