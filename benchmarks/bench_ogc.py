"""OGC API benchmark (not a test): what a page of the national communes collection costs the server (issue 12.5,
second half) — ``/ogc/collections/communes-all/items?offset=3000&limit=100``, 100 of the 3,321 units of the labelled
national sample (`nongthon demo --national`) — against the floor of sending the same bytes, measured in the same
server process and the same run.

- Server CPU per request — the server's own process CPU clock (all its threads), read through a bare route before
  and after N requests from this client process — for the page (200, gzip) and its 304, each against a bare route of
  the same server (a plain FastAPI app with no middleware, routed to by path) that sends the bytes and headers the
  real route sent, captured first: the 200 against that 200, the 304 against that 304 (the floor and the clock of
  benchmarks/bench_layers.py, the server of benchmarks/bench_national.py). Real and floor alternate over rounds; the
  figure of each is its median over the rounds. Goal: ratio ≤ 1.5 (items_ratio, items_not_modified_ratio).
- Also: the first page (wall time, the national layer built, parsed and indexed for slicing), and a page not asked
  before (``new_page``: offsets never asked, each a slice of the parsed layer serialised and gzipped once), against
  the same floor.

The full run imports the real national boundaries (../shared/geodata/vietnam_2025_communes.gpkg, when present);
``--quick`` (CI, seconds) keeps the schematic layer and runs fewer requests.

    python benchmarks/bench_ogc.py --quick
    python benchmarks/bench_ogc.py

The last line printed is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
OFFSET, LIMIT = 3000, 100
ITEMS = "/ogc/collections/communes-all/items"
ITEMS_URL = f"{ITEMS}?offset={OFFSET}&limit={LIMIT}"
GOAL = 1.5

from bench_layers import capture, free_port, get, interleaved, server_cpu, wait_for  # noqa: E402 - the same floor and clock
from bench_national import NATIONAL_GPKG, build_db, serve  # noqa: E402 - the same store and server

from nongthon.national import national_registry  # noqa: E402


def http_figures(db: Path, rounds: int, n: int) -> dict:
    port = free_port()
    proc = subprocess.Popen([sys.executable, __file__, "--serve", str(db), str(port)])
    gz = {"Accept-Encoding": "gzip"}
    offsets = itertools.count(1)  # pages never asked (offset 1, 2, …: each a new slice)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=600) as client:
            wait_for(client, proc)
            t = time.perf_counter()
            first, sent = get(client, ITEMS_URL, gz, 200)
            first_s = time.perf_counter() - t
            raw = gzip.decompress(sent)
            page = json.loads(raw)
            etag = capture(client, "items", ITEMS_URL)
            assert etag == first.headers["etag"]
            cases = {
                "items": (ITEMS_URL, gz, 200),
                "floor": ("/floor/items", gz, 200),
                "items_not_modified": (ITEMS_URL, {**gz, "If-None-Match": etag}, 304),
                "floor_not_modified": ("/floor/items", {**gz, "If-None-Match": etag}, 304),
            }

            def new_pages() -> float:
                """Server CPU per request, in ms, over ``n`` pages never asked before."""
                before = server_cpu(client)
                for _ in range(n):
                    get(client, f"{ITEMS}?offset={next(offsets)}&limit={LIMIT}", gz, 200)
                return (server_cpu(client) - before) / n * 1000

            cpu = interleaved(client, cases, rounds, n, {"new_page": new_pages})
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    out = {f"{k}_cpu_ms": round(v, 4) for k, v in cpu.items()}
    out |= {
        "offset": OFFSET,
        "limit": LIMIT,
        "features_matched": page["numberMatched"],
        "features_returned": page["numberReturned"],
        "page_bytes": len(raw),
        "page_gzip_bytes": len(sent),
        "first_page_s": round(first_s, 3),
    }
    print(f"{ITEMS_URL}: {page['numberReturned']} of {page['numberMatched']:,} features, {len(raw):,} B raw, {len(sent):,} B gzip")
    print(f"  first page (the national layer built, parsed and indexed): {first_s:.2f} s")
    print(f"Server CPU per request, median of {rounds} rounds × {n} requests (one client, keep-alive, sequential)")
    for real, floor in (("items", "floor"), ("items_not_modified", "floor_not_modified"), ("new_page", "floor")):
        ratio = cpu[real] / cpu[floor]
        out[f"{real}_ratio"] = round(ratio, 3)
        note = f"goal ≤ {GOAL}" if real != "new_page" else "a page built: slice, JSON, gzip, ETag"
        print(f"  {real:<19} {cpu[real]:7.3f} ms   bare route {cpu[floor]:7.3f} ms   {ratio:5.2f}× ({note})")
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
    figures: dict = {"quick": args.quick, "real_boundaries": real, "units": len(national_registry().communes())}
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "national.db"
        build_db(db, real).close()
        rounds, n = (3, 100) if args.quick else (7, 300)
        figures |= {"rounds": rounds, "requests_per_round": n}
        figures |= http_figures(db, rounds, n)
    print(json.dumps(figures))
    if figures["features_returned"] != LIMIT or figures["features_matched"] != figures["units"]:
        raise SystemExit(f"the page should hold {LIMIT} of {figures['units']} features")


if __name__ == "__main__":
    main()
