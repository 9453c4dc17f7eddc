"""Foundation benchmark (not a test): prints the time to score 10,000 communes × 10 years and to import a
100,000-row CSV, each next to a naive baseline measured in the same run.

    python benchmarks/bench_foundation.py
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa

from nongthon.imports import HEADER, import_csv
from nongthon.province import load_province
from nongthon.scoring import commune_scores
from nongthon.store import Store, results, utcnow
from nongthon.units import Registry

N_COMMUNES = 10_000
YEARS = list(range(2016, 2026))


def synthetic_province(n: int):
    """Phú Yên's profile and catalogues over a registry of n synthetic xã (codes 10000…)."""
    base = load_province()
    codes = [f"{10000 + i:05d}" for i in range(n)]
    districts = [f"{100 + i // 100:03d}" for i in range(n)]
    communes = pd.DataFrame(
        {
            "code": codes,
            "name": [f"Xã {c}" for c in codes],
            "name_short": codes,
            "unit_type": "xa",
            "level": "commune",
            "parent_code": districts,
            "lat": 13.0,
            "lon": 109.0,
            "district_code": districts,
        },
        index=codes,
    )
    dcodes = sorted(set(districts))
    dist = pd.DataFrame(
        {
            "code": dcodes,
            "name": [f"Huyện {d}" for d in dcodes],
            "name_short": dcodes,
            "unit_type": "huyen",
            "level": "district",
            "parent_code": "54",
            "lat": 13.0,
            "lon": 109.0,
            "district_code": dcodes,
        },
        index=dcodes,
    )
    prov = pd.DataFrame(
        {
            "code": ["54"],
            "name": ["Tỉnh mô phỏng"],
            "name_short": ["mô phỏng"],
            "unit_type": "tinh",
            "level": "province",
            "parent_code": "",
            "lat": 13.0,
            "lon": 109.0,
            "district_code": "",
        },
        index=["54"],
    )
    reg = Registry(units=pd.concat([prov, dist, communes]), eligible=base.registry.eligible)
    return replace(base, registry=reg)


def synthetic_results(codes: list[str], rng) -> pd.DataFrame:
    n = len(codes)
    unit = np.repeat(codes, len(YEARS) * 19)
    year = np.tile(np.repeat(YEARS, 19), n)
    item = np.tile(np.arange(1, 20).astype(str), n * len(YEARS))
    met = rng.random(len(unit)) < 0.8
    df = pd.DataFrame({"unit": unit, "year": year, "tier_set": "ntm", "level": "criterion", "item": item, "met": met})
    df["catalog"] = np.where(df["year"] >= 2022, "qd318-2022", "qd1980-2016")
    df["met"] = df["met"].astype("boolean")
    df["value"] = pd.Series(pd.NA, index=df.index, dtype="Float64")
    return df


def naive_scores(res: pd.DataFrame) -> dict:
    """The baseline: a plain Python loop over communes and years."""
    out = {}
    for (unit, year), g in res.groupby(["unit", "year"]):
        met = sum(1 for m in g["met"] if m is True)
        out[(unit, year)] = ("ntm" if met == 19 else "none", met)
    return out


def bench_scoring(province, rng) -> None:
    codes = list(province.registry.xa().index)
    res = synthetic_results(codes, rng)
    t = time.perf_counter()
    scores = commune_scores(res, province)
    fast = time.perf_counter() - t
    sub = codes[:500]
    t = time.perf_counter()
    naive_scores(res[res["unit"].isin(sub)])
    naive = (time.perf_counter() - t) * len(codes) / len(sub)
    print(
        f"scoring {len(codes):,} xã × {len(YEARS)} years ({len(res):,} results): {fast:.2f} s "
        f"({len(scores):,} commune-years, {len(scores) / fast:,.0f}/s)"
    )
    print(
        f"  baseline (Python loop per commune-year, measured on 500 xã, scaled): {naive:.2f} s  → vectorised is {naive / fast:.1f}× faster"
    )


def bench_import(province, rng, tmp: Path) -> None:
    codes = list(province.registry.xa().index)
    n_rows = 100_000
    per = 19
    n_units = -(-n_rows // per)
    rows = [(c, 2023, "ntm", str(i), "dat" if rng.random() < 0.8 else "khong_dat") for c in codes[:n_units] for i in range(1, 20)][:n_rows]
    csv_path = tmp / "big.csv"
    pd.DataFrame(rows, columns=HEADER).to_csv(csv_path, index=False)
    store = Store.open(tmp / "bench.db")
    t = time.perf_counter()
    res = import_csv(store, province, csv_path, author="bench")
    fast = time.perf_counter() - t
    t = time.perf_counter()
    res2 = import_csv(store, province, csv_path, author="bench")
    again = time.perf_counter() - t
    print(
        f"import {res.rows:,}-row CSV (validate + one transaction): {fast:.2f} s ({res.rows / fast:,.0f} rows/s); "
        f"re-import (all unchanged, {res2.summary.unchanged:,}): {again:.2f} s"
    )
    # baseline: one INSERT and one commit per row, as a naive loader would do
    naive_store = Store.open(tmp / "naive.db")
    with naive_store.engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO batches (kind, source, author, entered_at, sample, rows_written) VALUES ('import','b','b',CURRENT_TIMESTAMP,0,0)"
        )
    sub = rows[:2000]
    t = time.perf_counter()
    for c, y, s, item, k in sub:
        with naive_store.engine.begin() as conn:
            conn.execute(
                sa.insert(results).values(
                    batch_id=1,
                    unit=c,
                    year=y,
                    catalog="qd318-2022",
                    tier_set=s,
                    level="criterion",
                    item=item,
                    met=k == "dat",
                    value=None,
                    source="b",
                    author="b",
                    entered_at=utcnow(),
                )
            )
    naive = (time.perf_counter() - t) * n_rows / len(sub)
    print(
        f"  baseline (one INSERT + commit per row, measured on 2,000 rows, scaled): {naive:.2f} s  → {naive / fast:.1f}× slower than the import"
    )
    store.close()
    naive_store.close()


def main() -> None:
    rng = np.random.default_rng(1)
    province = synthetic_province(N_COMMUNES)
    bench_scoring(province, rng)
    with tempfile.TemporaryDirectory() as tmp:
        bench_import(province, rng, Path(tmp))


if __name__ == "__main__":
    main()
