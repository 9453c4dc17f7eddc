"""Projection benchmark (not a test): 10,000 xã × 1,000 runs × 5 years, vectorised, against a naive
per-run, per-xã Python loop measured in the same run on a small part and scaled.

    python benchmarks/bench_projection.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_foundation import synthetic_province, synthetic_results  # noqa: E402

from nongthon.projection import fit_rates, observed_states, simulate  # noqa: E402

N, RUNS, YEARS = 10_000, 1_000, 5


def naive(states, rates, start, runs, n_units, seed=1) -> float:
    """The same chains, one run, one xã, one criterion at a time."""
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
    rng = np.random.default_rng(5)
    province = synthetic_province(N)
    results = synthetic_results(list(province.registry.xa().index), rng)
    results = results[results["year"] >= 2022]
    t = time.perf_counter()
    states = observed_states(results, province)
    rates = fit_rates(states, until=2023)
    prep = time.perf_counter() - t
    t = time.perf_counter()
    sim = simulate(states, rates, 2023, 2023 + YEARS, runs=RUNS, seed=1)
    fast = time.perf_counter() - t
    sub_runs, sub_units = 2, 200
    slow = naive(states, rates, 2023, sub_runs, sub_units) * (RUNS / sub_runs) * (N / sub_units)
    cells = N * RUNS * YEARS * 19 * 2
    print(f"states + rates from {len(results):,} results: {prep:.1f} s")
    print(
        f"simulate {N:,} xã × {RUNS:,} runs × {YEARS} years (NTM and advanced sets, {cells:,} criterion-steps): {fast:.1f} s "
        f"({cells / fast / 1e6:,.0f} M steps/s); mean NTM at the horizon {sim.ntm[:, -1].mean():,.0f} xã"
    )
    print(
        f"  baseline (Python loop, NTM set only, measured on {sub_runs} runs × {sub_units} xã, scaled): {slow / 3600:,.1f} h  → {slow / fast:,.0f}× slower"
    )


if __name__ == "__main__":
    main()
