"""A seeded, reproducible SAMPLE dataset (dữ liệu mẫu) on the real commune list: criterion-level results
for every xã, reporting years 2016–2025 — the NTM set every year, the advanced set and the model conditions
(2022–2025, catalogue qd318-2022) for the xã that get near them — and recognition decisions.

It is **not** real data. It is calibrated to the public figures in shared/reference/phu_yen_facts.yaml
(shares of NTM xã per year, 15.06 criteria on average in 2018, all of Tây Hòa's xã NTM in 2018 and
Phú Hòa's in 2019, the named xã recognised in 2019, 16 advanced xã in 2023, the re-assessment of Tuy An
against the 2021–2025 set). Every batch it writes is flagged ``sample`` in the store, and everything that
shows it says so. The trajectories look like real ones: criteria accumulate, some xã lose income, poverty
or environment for a year, and the switch to the 2021–2025 set in 2022 drops some counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from .province import Province
from .store import Store

SEED = 2021
YEARS = list(range(2016, 2026))
SAMPLE_LABEL_VI = "DỮ LIỆU MẪU — không phải số liệu chính thức"
SOURCE = "dữ liệu mẫu (nongthon.sample)"

#: share of the registry's xã assessed NTM at the end of each year: the official share where a public
#: figure exists (35/88 in 2017, 45/88 in 2018, 51/88 in 2019, 64/83 in 2023), interpolated otherwise;
#: 2022 dips because the 2021–2025 set is harder.
NTM_SHARE = {
    2016: 0.20,
    2017: 35 / 88,
    2018: 45 / 88,
    2019: 51 / 88,
    2020: 0.66,
    2021: 0.72,
    2022: 0.62,
    2023: 64 / 83,
    2024: 0.82,
    2025: 0.85,
}
#: advanced xã (2021–2025 set) at the end of each year; 16 in 2023 is the public figure
ADVANCED = {2022: 8, 2023: 16, 2024: 21, 2025: 25}
MODEL = {2024: 1, 2025: 4}
#: harder criteria come last in a xã's order of completion (weights: higher = later)
DIFFICULTY = {1: 1, 2: 4, 3: 3, 4: 1, 5: 4, 6: 3, 7: 2, 8: 1, 9: 2, 10: 5, 11: 5, 12: 3, 13: 5, 14: 2, 15: 3, 16: 2, 17: 5, 18: 1, 19: 1}
START_MEAN = 8.0  # criteria met in 2016 by an average xã not yet NTM (calibrated to 15.06 on average in 2018)
CLIMB_TO = 17.0  # criteria met the year before a xã reaches 19/19
VOLATILE = ("10", "11", "17")  # income, poverty, environment: what a NTM xã loses for a year
SWITCH_LOST = ("5", "6", "8", "10", "11", "13", "17")  # what the 2021–2025 re-assessment found missing
#: district readiness (higher = earlier NTM), from the public picture: Tây Hòa and Phú Hòa first,
#: the mountain districts last
DISTRICT_READINESS = {"555": 1.2, "557": 0.3, "558": -0.6, "559": 0.5, "560": -0.5, "561": -1.0, "562": 1.5, "563": 1.5, "564": 0.4}
#: first year assessed NTM, from the public record (by short name within a district)
FIXED_NTM = {
    "562": {"*": 2017, "Hòa Phong": 2016, "Hòa Mỹ Tây": 2016, "Hòa Tân Tây": 2016, "Hòa Thịnh": 2018},
    "563": {"*": 2017, "Hòa Quang Bắc": 2016, "Hòa An": 2016, "Hòa Trị": 2016, "Hòa Định Đông": 2019},
    "555": {"*": 2017, "Bình Kiến": 2016},
    "559": {
        "An Chấn": 2018,
        "An Dân": 2018,
        "An Nghiệp": 2018,
        "An Thọ": 2019,
        "An Xuân": 2019,
        "An Hiệp": 2021,
        "An Lĩnh": 2021,
        "An Mỹ": 2017,
        "An Ninh Đông": 2020,
        "An Ninh Tây": 2020,
        "An Cư": 2020,
        "An Hòa Hải": 2020,
        "An Thạch": 2020,
        "An Định": 2020,
    },
    "560": {"Sơn Định": 2019, "Sơn Xuân": 2019},
    "561": {"Ea Ly": 2017, "Sơn Giang": 2017, "Đức Bình Đông": 2018, "Đức Bình Tây": 2018},
    "557": {"Xuân Thọ 2": 2021, "Xuân Lâm": 2021, "Xuân Bình": 2017},
}
#: xã that lose NTM when re-assessed against the 2021–2025 set, and for how many years
SWITCH_DROPS = {"559": {"An Ninh Tây": 2, "An Cư": 2, "An Định": 2, "An Hòa Hải": 1, "An Thạch": 1, "An Lĩnh": 1}}
FIXED_ADVANCED = {
    "563": {
        "Hòa Quang Bắc": 2022,
        "Hòa Trị": 2022,
        "Hòa An": 2022,
        "Hòa Quang Nam": 2023,
        "Hòa Hội": 2024,
        "Hòa Thắng": 2024,
        "Hòa Định Đông": 2024,
    },
    "562": {"Hòa Phong": 2022, "Hòa Mỹ Tây": 2022, "Hòa Tân Tây": 2022},
    "555": {"Bình Kiến": 2022},
    "557": {"Xuân Bình": 2023},
}
#: district-level criteria not met, per year (sample): Tây Hòa and Phú Hòa keep theirs; Tuy An's
#: re-assessment against the 2021–2025 set found gaps (transport; health-culture-education) it closes in 2025;
#: Đông Hòa's own conditions are met from 2024, Sông Cầu's not yet
DISTRICT_CRITERIA = {
    "562": {},
    "563": {},
    "559": {2022: ("2", "5", "8"), 2023: ("2", "5"), 2024: ("5",)},
    "557": {2022: ("1",), 2023: ("1",), 2024: ("1",), 2025: ("1",)},
    "564": {2022: ("1",), 2023: ("1",)},
}
FIXED_MODEL = {"563": {"Hòa Quang Bắc": 2024, "Hòa An": 2025}}


@dataclass(frozen=True)
class Sample:
    results: pd.DataFrame  # unit, year, catalog, tier_set, level, item, met, value
    recognitions: pd.DataFrame  # unit, tier, action, decision_number, decision_date, note
    seed: int


def _by_name(province: Province, table: dict[str, dict[str, int]]) -> dict[str, int]:
    xa = province.registry.xa()
    out: dict[str, int] = {}
    for district, names in table.items():
        in_d = xa[xa["district_code"] == district]
        for name, value in names.items():
            if name == "*":
                continue
            hit = in_d[in_d["name_short"] == name]
            if len(hit) != 1:
                raise ValueError(f"sample: no single xã named {name!r} in district {district}")
            out[hit.index[0]] = value
        if "*" in names:
            for code in in_d.index:
                out.setdefault(code, names["*"])
    return out


def generate(province: Province, seed: int = SEED) -> Sample:
    """Build the sample in memory (no I/O)."""
    rng = np.random.default_rng(seed)
    xa = province.registry.xa()
    codes = list(xa.index)
    n = len(codes)
    readiness = pd.Series([DISTRICT_READINESS.get(d, 0.0) for d in xa["district_code"]], index=codes) + rng.normal(0, 0.45, n)
    fixed = _by_name(province, FIXED_NTM)
    pool = [c for c in readiness.sort_values(ascending=False).index if c not in fixed]
    drops = _by_name(province, SWITCH_DROPS)

    y_ntm: dict[str, int] = dict(fixed)
    lost: dict[int, set[str]] = {y: set() for y in YEARS}
    for y in YEARS:
        was = [c for c, v in y_ntm.items() if v < y]
        if y == 2022:
            lost[y] |= set(drops)
        elif y == 2023:
            lost[y] |= {c for c, k in drops.items() if k >= 2}
        elif y > YEARS[0]:
            # the public record has every xã of Tây Hòa and Phú Hòa at 19/19 in 2018-2019
            held = {c for c in was if xa.at[c, "district_code"] in ("562", "563")} if y in (2018, 2019) else set()
            candidates = sorted(set(was) - lost[y] - held)
            k = min(len(candidates), int(rng.poisson(1.5)))
            lost[y] |= set(rng.choice(candidates, size=k, replace=False).tolist()) if k else set()
        target = round(NTM_SHARE[y] * n)
        count = sum(1 for c, v in y_ntm.items() if v <= y and c not in lost[y])
        while count < target and pool:
            y_ntm[pool.pop(0)] = y
            count += 1

    # order in which each xã completes its criteria: easy first, hard last
    weights = np.array([DIFFICULTY[i] for i in range(1, 20)], dtype=float)
    orders = {c: [str(i + 1) for i in np.argsort(weights + rng.normal(0, 1.6, 19))] for c in codes}
    start = {c: float(np.clip(rng.normal(START_MEAN + 1.2 * readiness[c], 1.6), 6, 16)) for c in codes}
    growth = {c: float(np.clip(rng.normal(1.0, 0.3), 0.4, 1.8)) for c in codes}

    rows: list[tuple[str, int, str, str, str, str, bool]] = []
    counts: dict[tuple[str, int], int] = {}
    for c in codes:
        first = y_ntm.get(c)
        for y in YEARS:
            catalog = province.catalogs.for_year(y).id
            order = orders[c]
            if first is not None and y >= first and c not in lost[y]:
                met = set(order)
            elif first is not None and y >= first:  # a NTM xã that lost something this year
                if y in (2022, 2023) and c in drops:
                    k = int(rng.integers(2, 5))
                    missing = set(rng.choice(SWITCH_LOST, size=k, replace=False).tolist())
                else:
                    missing = {str(rng.choice(VOLATILE))}
                met = set(order) - missing
            else:
                if first is not None:  # climbs to 18 the year before it becomes NTM
                    span = max(first - YEARS[0], 1)
                    level = start[c] + (CLIMB_TO - start[c]) * (y - YEARS[0]) / span
                else:
                    level = start[c] + growth[c] * (y - YEARS[0])
                if y >= 2022:  # the 2021–2025 set is harder
                    level -= 1.5
                k = int(np.clip(round(level + rng.normal(0, 0.4)), 4, 18))
                met = set(order[:k])
            counts[(c, y)] = len(met)
            rows += [(c, y, catalog, "ntm", "criterion", str(i), str(i) in met) for i in range(1, 20)]

    # advanced set (2022–2025) for the NTM xã that get near it
    fixed_adv = _by_name(province, FIXED_ADVANCED)
    y_adv: dict[str, int] = {c: v for c, v in fixed_adv.items()}
    adv_pool = [c for c in readiness.sort_values(ascending=False).index if c not in y_adv and y_ntm.get(c, 9999) <= 2019 and c not in drops]
    for y in sorted(ADVANCED):
        count = sum(1 for c, v in y_adv.items() if v <= y and c not in lost[y])
        while count < ADVANCED[y] and adv_pool:
            c = adv_pool.pop(0)
            if c in lost[y]:
                continue
            y_adv[c] = y
            count += 1
    near = [c for c in codes if y_ntm.get(c, 9999) <= 2021]
    y_model = _by_name(province, FIXED_MODEL)
    model_pool = [c for c in sorted(y_adv, key=lambda c: (y_adv[c], -readiness[c])) if c not in y_model]
    for y in sorted(MODEL):
        count = sum(1 for c, v in y_model.items() if v <= y)
        while count < MODEL[y] and model_pool:
            c = model_pool.pop(0)
            if y_adv[c] < y:
                y_model[c] = y
                count += 1
    for c in near:
        adv_order = [str(i + 1) for i in rng.permutation(19)]
        start_adv = float(rng.uniform(9, 15))
        for y in range(2022, 2026):
            catalog = province.catalogs.for_year(y).id
            if c in y_adv and y >= y_adv[c]:
                met = set(adv_order)
            else:
                goal = y_adv.get(c, 2030)
                level = start_adv + (18 - start_adv) * (y - 2021) / max(goal - 2021, 1)
                met = set(adv_order[: int(np.clip(round(level), 5, 18))])
            rows += [(c, y, catalog, "nang_cao", "criterion", str(i), str(i) in met) for i in range(1, 20)]
            if c in y_adv and y >= y_adv[c]:
                is_model = c in y_model and y >= y_model[c]
                smart = is_model or bool(rng.random() < 0.4)
                rows += [
                    (c, y, catalog, "kieu_mau", "condition", "thu_nhap", is_model or bool(rng.random() < 0.3)),
                    (c, y, catalog, "kieu_mau", "condition", "thon_thong_minh", smart),
                    (c, y, catalog, "kieu_mau", "condition", "linh_vuc_noi_troi", is_model),
                ]

    # district-level criteria (320/QĐ-TTg) for the units with a milestone, 2022–2025
    for y in range(2022, 2026):
        catalog = province.catalogs.for_year(y).id
        for district, failing in DISTRICT_CRITERIA.items():
            set_code = "hoan_thanh" if district in ("557", "564") else "huyen_ntm"
            n = 1 if set_code == "hoan_thanh" else 9
            fail = failing.get(y, ())
            rows += [(district, y, catalog, set_code, "criterion", str(i), str(i) not in fail) for i in range(1, n + 1)]
    results = pd.DataFrame(rows, columns=["unit", "year", "catalog", "tier_set", "level", "item", "met"])
    results["met"] = results["met"].astype("boolean")
    results["value"] = pd.Series(pd.NA, index=results.index, dtype="Float64")

    rec_rows = []
    number = 0
    for tier, table in (("ntm", y_ntm), ("advanced", y_adv), ("model", y_model)):
        for c, y in sorted(table.items(), key=lambda kv: (kv[1], kv[0])):
            number += 1
            rec_rows.append(
                {
                    "unit": c,
                    "tier": tier,
                    "action": "recognise",
                    "decision_number": f"{number:03d}/QĐ-UBND (mẫu)",
                    "decision_date": date(y, 12, 15),
                    "note": "quyết định giả lập của dữ liệu mẫu",
                }
            )
    return Sample(results=results, recognitions=pd.DataFrame(rec_rows), seed=seed)


def load_sample(store: Store, province: Province, seed: int = SEED) -> Sample:
    """Generate the sample and write it to the store, flagged as sample."""
    sample = generate(province, seed)
    source = f"{SOURCE}, seed={seed}"
    store.write_results(sample.results, source=source, author="nongthon demo", kind="sample", sample=True, note=SAMPLE_LABEL_VI)
    store.add_recognitions(sample.recognitions, source=source, author="nongthon demo", sample=True)
    return sample


def open_or_create_sample(path: str, province: Province | None = None) -> Store:
    """The store at ``path``; when the file does not exist yet, a new one with the sample (labelled as such).
    For notebooks and demos: a path to a real database is opened as it is."""
    from pathlib import Path

    from .province import load_province

    exists = "://" in str(path) or Path(path).exists()
    store = Store.open(path)
    if not exists:
        load_sample(store, province or load_province())
    return store
