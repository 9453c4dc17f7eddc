"""Projection benchmark (not a test): the Monte Carlo of 10,000 xã × 1,000 runs × 5 years (NTM and advanced
sets) against its floor measured in the same run — numpy's PCG64 filling as many float32 uniforms as the
simulation draws, in the same chunks of runs, from the same streams, on the same threads — and, for scale, a
naive per-run, per-xã Python loop measured on a small part and scaled. Figures are CPU seconds of the process
(all its threads; the machine is shared, so wall time says less); the floor is the lower of two measures, one
before and one after the simulation. Goal (issue 10): monte_carlo_ratio ≤ 3.

    python benchmarks/bench_projection.py [--quick]

The last line printed is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_foundation import synthetic_province, synthetic_results  # noqa: E402

from nongthon.projection import chunk_runs, fit_rates, observed_states, simulate  # noqa: E402

YEARS = 5
WORKERS = max(1, min(os.cpu_count() or 1, 4))  # as simulate's thread pool


def timed(f):  # noqa: ANN001, ANN201
    """(CPU seconds of the process, wall seconds, result) of f()."""
    c, w = time.process_time(), time.perf_counter()
    out = f()
    return time.process_time() - c, time.perf_counter() - w, out


def rng_floor(n_units: int, runs: int, draws: int, seed: int) -> None:
    """Draw ``draws`` float32 uniforms as simulate does: one PCG64 stream per chunk of runs, in [run, xã] blocks."""
    chunk = chunk_runs(n_units, runs)
    per_run = draws // runs  # every draw of a chunk is made for each of its runs

    def fill(r0: int) -> None:
        rn = min(chunk, runs - r0)
        rng = np.random.default_rng([seed, 1, r0])
        block = np.empty((rn, n_units), dtype=np.float32)
        left = rn * per_run
        while left >= block.size:
            rng.random(out=block, dtype=np.float32)
            left -= block.size
        rng.random(left, dtype=np.float32)

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        list(pool.map(fill, range(0, runs, chunk)))


def naive(states, rates, start: int, runs: int, n_units: int, seed: int = 1) -> float:  # noqa: ANN001
    """The same chains, one run, one xã, one criterion at a time (NTM set only); wall seconds."""
    rng = np.random.default_rng(seed)
    si = states.years.index(start)
    t = time.perf_counter()
    for _ in range(runs):
        for u in range(n_units):
            st = [bool(x == 1) for x in states.crit["ntm"][u, si]]
            for _ in range(YEARS):
                count = sum(st)
                band = int(np.searchsorted([10, 15, 17], count, side="right"))
                for c in range(19):
                    x = rng.random()
                    st[c] = x < 1 - rates.loss["ntm"][int(count == 19), c] if st[c] else x < rates.gain["ntm"][band, c]
    return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2,000 xã × 200 runs (seconds, for CI)")
    args = parser.parse_args()
    n, runs = (2_000, 200) if args.quick else (10_000, 1_000)
    rng = np.random.default_rng(5)
    province = synthetic_province(n)
    results = synthetic_results(list(province.registry.xa().index), rng)
    results = results[results["year"] >= 2022]

    def prepare():  # noqa: ANN202
        states = observed_states(results, province)
        return states, fit_rates(states, until=2023)

    prep, _, (states, rates) = timed(prepare)
    seed = 1
    sim = simulate(states, rates, 2023, 2023 + YEARS, runs=max(1, runs // 50), seed=seed)  # warm up
    floor_1 = timed(lambda: rng_floor(n, runs, sim.draws * runs // sim.ntm.shape[0], seed))
    mc_cpu, mc_wall, sim = timed(lambda: simulate(states, rates, 2023, 2023 + YEARS, runs=runs, seed=seed))
    floor_2 = timed(lambda: rng_floor(n, runs, sim.draws, seed))
    floor_cpu, floor_wall = min(floor_1[0], floor_2[0]), min(floor_1[1], floor_2[1])
    sub_runs, sub_units = 2, 100
    slow = naive(states, rates, 2023, sub_runs, sub_units) * (runs / sub_runs) * (n / sub_units)
    cells = n * runs * YEARS * 19 * 2
    print(f"states + rates from {len(results):,} results: {prep:.1f} s CPU")
    print(
        f"simulate {n:,} xã × {runs:,} runs × {YEARS} years (NTM and advanced sets, {cells:,} criterion-steps, "
        f"{sim.draws:,} uniforms): {mc_cpu:.2f} s CPU, {mc_wall:.2f} s wall on {WORKERS} threads; "
        f"mean NTM at the horizon {sim.ntm[:, -1].mean():,.0f} xã"
    )
    print(
        f"  floor (PCG64 filling {sim.draws:,} float32 in the same chunks and threads): {floor_cpu:.2f} s CPU, "
        f"{floor_wall:.2f} s wall  → {mc_cpu / floor_cpu:.2f}× the floor (goal ≤ 3)"
    )
    print(
        f"  baseline (Python loop, NTM set only, measured on {sub_runs} runs × {sub_units} xã, scaled): {slow / 3600:,.2f} h wall"
        f"  → {slow / mc_wall:,.0f}× slower"
    )
    figures = {
        "monte_carlo_s": round(mc_cpu, 3),
        "rng_floor_s": round(floor_cpu, 3),
        "monte_carlo_ratio": round(mc_cpu / floor_cpu, 3),
        "monte_carlo_wall_s": round(mc_wall, 3),
        "rng_floor_wall_s": round(floor_wall, 3),
        "monte_carlo_wall_ratio": round(mc_wall / floor_wall, 3),
        "uniforms": sim.draws,
        "communes": n,
        "runs": runs,
        "years": YEARS,
        "threads": WORKERS,
        "naive_loop_s": round(slow, 1),
        "naive_ratio": round(slow / mc_wall, 1),
        "prep_s": round(prep, 3),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
