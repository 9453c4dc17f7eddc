"""A seeded, reproducible SAMPLE dataset (dữ liệu mẫu) on the real commune list: criterion-level results
for every xã, reporting years 2016–2025 — the NTM set every year, the advanced set and the model conditions
(from the first catalogue that has them, qd318-2022) for the xã that get near them — and recognition decisions.

It is **not** real data. What it is calibrated to is data too: the ``sample:`` block of the province profile
(nongthon/provinces/54.yaml) — the shares of NTM xã per year, the xã and years named in public sources (each
with its source in a comment there), and the sample's own choices, marked as such. tests/test_sample.py checks
it against shared/reference/phu_yen_facts.yaml and phu_yen_public_records.yaml. Every batch it writes is
flagged ``sample`` in the store, and everything that shows it says so. The trajectories look like real ones:
criteria accumulate, some xã lose income, poverty or environment for a year, and the switch to the 2021–2025
set drops some counts.

A recognition decision is dated 15 December of its year. A xã's NTM (advanced) recognition is the year the
profile gives, else the first year it is assessed NTM (advanced); a recognition before the first year a
catalogue can assess that tier (before 2016, or advanced before 2022) makes the xã assessed at that tier
from that first year.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd
import yaml

from .province import Province
from .store import Store
from .units import REFORM_DATE

SEED = 2021
YEARS = list(range(2016, 2026))
SAMPLE_LABEL_VI = "DỮ LIỆU MẪU — không phải số liệu chính thức"
SOURCE = "dữ liệu mẫu (nongthon.sample)"

#: harder criteria come last in a xã's order of completion (weights: higher = later); unlisted criteria weigh 3
DIFFICULTY = {"1": 1, "2": 4, "3": 3, "4": 1, "5": 4, "6": 3, "7": 2, "8": 1, "9": 2, "10": 5}
DIFFICULTY |= {"11": 5, "12": 3, "13": 5, "14": 2, "15": 3, "16": 2, "17": 5, "18": 1, "19": 1}
START_MEAN = 8.0  # criteria met in the first year by an average xã not yet NTM (calibrated to 15.06 on average in 2018)
CLIMB_TO = 17.0  # criteria met the year before a xã reaches all of them
VOLATILE = ("10", "11", "17")  # income, poverty, environment: what a NTM xã loses for a year
SWITCH_LOST = ("5", "6", "8", "10", "11", "13", "17")  # what a re-assessment against a new set finds missing


@dataclass(frozen=True)
class Sample:
    results: pd.DataFrame  # unit, year, catalog, tier_set, level, item, met, value
    recognitions: pd.DataFrame  # unit, tier, action, decision_number, decision_date, note
    seed: int


def calibration(province: Province) -> dict[str, Any]:
    """The ``sample:`` block of the province profile (its shares as numbers)."""
    profile = province.profile or province.code
    path = resources.files(__package__).joinpath("provinces", f"{profile}.yaml")
    doc = yaml.safe_load(path.read_text(encoding="utf-8")).get("sample")
    if not doc:
        raise ValueError(f"nongthon/provinces/{profile}.yaml không có khối 'sample:' để tạo dữ liệu mẫu")
    doc["ntm_share"] = {int(y): float(Fraction(str(v))) for y, v in doc["ntm_share"].items()}
    return doc


class _Names:
    """xã by district code and short name, as the profile names them."""

    def __init__(self, province: Province):
        self.xa = province.registry.xa()

    def district(self, district: str) -> list[str]:
        codes = list(self.xa.index[self.xa["district_code"] == str(district)])
        if not codes:
            raise ValueError(f"sample: không có huyện mã {district!r} có xã trong danh mục")
        return codes

    def code(self, district: str, name: str) -> str:
        hit = [c for c in self.district(district) if self.xa.at[c, "name_short"] == name]
        if len(hit) != 1:
            raise ValueError(f"sample: không có đúng một xã tên {name!r} ở huyện {district}")
        return hit[0]

    def years(self, table: dict | None) -> dict[str, int]:
        """{district: {name or "*": year}} → {xã: year}; "*" is every other xã of the district."""
        out: dict[str, int] = {}
        for district, names in (table or {}).items():
            out |= {self.code(district, n): int(y) for n, y in names.items() if n != "*"}
            if "*" in names:
                out |= {c: int(names["*"]) for c in self.district(district) if c not in out}
        return out

    def members(self, table: dict | None) -> dict[int, set[str]]:
        """{year: {district: [names or "*"]}} → {year: {xã}}."""
        return {
            int(y): {c for d, names in by_d.items() for n in names for c in (self.district(d) if n == "*" else [self.code(d, n)])}
            for y, by_d in (table or {}).items()
        }


def _set_code(catalog, tier: str) -> str | None:
    return next((code for code, s in catalog.sets.items() if s.get("tier") == tier), None)


def generate(province: Province, seed: int = SEED) -> Sample:
    """Build the sample in memory (no I/O besides reading the profile)."""
    cal = calibration(province)
    rng = np.random.default_rng(seed)
    names = _Names(province)
    xa = names.xa
    codes = list(xa.index)
    n = len(codes)
    catalogs = {y: province.catalogs.for_year(y) for y in YEARS}
    criteria = list(catalogs[YEARS[0]].criterion_names("ntm"))
    if any(list(c.criterion_names("ntm")) != criteria for c in catalogs.values()):
        raise ValueError("sample: các bộ tiêu chí của các năm mẫu phải có cùng danh sách tiêu chí xã NTM")
    top = len(criteria)
    switch = next(y for y in YEARS[1:] if catalogs[y].id != catalogs[y - 1].id)  # first year of the new set
    adv_years = [y for y in YEARS if _set_code(catalogs[y], "advanced")]

    readiness = pd.Series([cal["district_readiness"].get(d, 0.0) for d in xa["district_code"]], index=codes) + rng.normal(0, 0.45, n)
    y_ntm = names.years(cal.get("ntm_recognised"))
    pool = [c for c in readiness.sort_values(ascending=False).index if c not in y_ntm]
    drops = names.years(cal.get("switch_drops"))
    held = names.members(cal.get("ntm_held"))
    not_held = names.members(cal.get("ntm_not_held"))
    rec_adv = names.years(cal.get("advanced_recognised"))
    y_model = names.years(cal.get("model_recognised"))
    for table in (rec_adv, y_model):  # a xã recognised at a tier holds NTM in that year
        for c, y in table.items():
            if y in YEARS:
                held.setdefault(y, set()).add(c)
    for y, cs in not_held.items():
        held[y] = held.get(y, set()) - cs
    # criteria met, pinned: per (xã, year) a range; "*" = the district's xã neither held nor recognised by then
    pins: dict[tuple[str, int], tuple[int, int]] = {}
    for y, by_d in (cal.get("criteria_met") or {}).items():
        for district, spec in by_d.items():
            for name, v in spec.items():
                lo, hi = (v, v) if isinstance(v, int) else v
                targets = [names.code(district, name)] if name != "*" else names.district(district)
                for c in targets:
                    if name == "*" and (c in held.get(y, ()) or y_ntm.get(c, 9999) <= y or (c, y) in pins):
                        continue
                    if y_ntm.get(c, 9999) <= y or c in held.get(y, ()):
                        raise ValueError(f"sample: {xa.at[c, 'name']} có số tiêu chí đạt {v} năm {y} nhưng là xã NTM năm đó")
                    pins[(c, y)] = (lo, hi)
    blocked = {c: y for (c, y), (_, hi) in sorted(pins.items(), key=lambda kv: kv[0][1]) if hi < top}  # not NTM until after y

    lost: dict[int, set[str]] = {y: set() for y in YEARS}
    for y in YEARS:
        for c in sorted(held.get(y, set())):  # held that year: NTM by then (no later than the source's date)
            if y_ntm.get(c, 9999) > y:
                if c in y_ntm:
                    raise ValueError(f"sample: {xa.at[c, 'name']} giữ chuẩn NTM năm {y} nhưng được công nhận năm {y_ntm[c]}")
                y_ntm[c] = y
                pool.remove(c)
        target = round(cal["ntm_share"][y] * n)
        was = [c for c, v in y_ntm.items() if v < y]
        lost[y] |= not_held.get(y, set())
        if y == switch:
            lost[y] |= set(drops)
        elif y == switch + 1:
            lost[y] |= {c for c, k in drops.items() if k >= 2}
        elif y > YEARS[0]:
            candidates = sorted(set(was) - lost[y] - held.get(y, set()))
            # a few lose a criterion for a year; more when the xã fixed or regained NTM would overshoot the target
            excess = sum(1 for c, v in y_ntm.items() if v <= y and c not in lost[y]) - target
            k = min(len(candidates), max(int(rng.poisson(1.5)), excess))
            lost[y] |= set(rng.choice(candidates, size=k, replace=False).tolist()) if k else set()
        count = sum(1 for c, v in y_ntm.items() if v <= y and c not in lost[y])
        for c in [c for c in pool if blocked.get(c, 0) < y]:
            if count >= target:
                break
            y_ntm[c] = y
            pool.remove(c)
            count += 1

    # order in which each xã completes its criteria: easy first, hard last
    weights = np.array([DIFFICULTY.get(i, 3) for i in criteria], dtype=float)
    orders = {c: [criteria[i] for i in np.argsort(weights + rng.normal(0, 1.6, top))] for c in codes}
    start = {c: float(np.clip(rng.normal(START_MEAN + 1.2 * readiness[c], 1.6), 6, 16)) for c in codes}
    growth = {c: float(np.clip(rng.normal(1.0, 0.3), 0.4, 1.8)) for c in codes}

    rows: list[tuple[str, int, str, str, str, str, bool]] = []
    for c in codes:
        first = y_ntm.get(c)
        for y in YEARS:
            order = orders[c]
            if first is not None and y >= first and c not in lost[y]:
                met = set(order)
            elif first is not None and y >= first:  # a NTM xã that lost something this year
                if y in (switch, switch + 1) and c in drops:
                    k = int(rng.integers(2, 5))
                    missing = set(rng.choice(SWITCH_LOST, size=k, replace=False).tolist())
                else:
                    missing = {str(rng.choice(VOLATILE))}
                met = set(order) - missing
            else:
                if first is not None:  # climbs to CLIMB_TO the year before it becomes NTM
                    span = max(first - YEARS[0], 1)
                    level = start[c] + (CLIMB_TO - start[c]) * (y - YEARS[0]) / span
                else:
                    level = start[c] + growth[c] * (y - YEARS[0])
                if y >= switch:  # the new set is harder
                    level -= 1.5
                k = int(np.clip(round(level + rng.normal(0, 0.4)), 4, top - 1))
                if (c, y) in pins:
                    k = int(np.clip(k, *pins[(c, y)]))
                met = set(order[:k])
            rows += [(c, y, catalogs[y].id, "ntm", "criterion", i, i in met) for i in criteria]

    # advanced set for the NTM xã that get near it; a recognition before the set exists counts from its first year
    y_adv = {c: max(y, adv_years[0]) for c, y in rec_adv.items()}
    adv_pool = [
        c for c in readiness.sort_values(ascending=False).index if c not in y_adv and y_ntm.get(c, 9999) < switch - 2 and c not in drops
    ]
    for y in sorted(cal["advanced"]):
        count = sum(1 for c, v in y_adv.items() if v <= y and c not in lost[y])
        while count < cal["advanced"][y] and adv_pool:
            c = adv_pool.pop(0)
            if c in lost[y]:
                continue
            y_adv[c] = rec_adv[c] = y
            count += 1
    near = [c for c in codes if y_ntm.get(c, 9999) < switch]
    if set(y_adv) - set(near):
        raise ValueError("sample: xã nâng cao phải là xã NTM trước năm đổi bộ tiêu chí")
    model_pool = [c for c in sorted(y_adv, key=lambda c: (y_adv[c], -readiness[c])) if c not in y_model]
    for y in sorted(cal["model"]):
        count = sum(1 for c, v in y_model.items() if v <= y)
        while count < cal["model"][y] and model_pool:
            c = model_pool.pop(0)
            if y_adv[c] < y:
                y_model[c] = y
                count += 1
    for c in near:
        adv_order = [criteria[i] for i in rng.permutation(top)]
        start_adv = float(rng.uniform(9, 15))
        for y in adv_years:
            catalog = catalogs[y]
            adv_set, model_set = _set_code(catalog, "advanced"), _set_code(catalog, "model")
            if c in y_adv and y >= y_adv[c]:
                met = set(adv_order)
            else:
                goal = y_adv.get(c, adv_years[-1] + 5)
                level = start_adv + (top - 1 - start_adv) * (y - switch + 1) / max(goal - switch + 1, 1)
                met = set(adv_order[: int(np.clip(round(level), 5, top - 1))])
            rows += [(c, y, catalog.id, adv_set, "criterion", i, i in met) for i in criteria]
            if c in y_adv and y >= y_adv[c] and model_set:
                is_model = c in y_model and y >= y_model[c]
                smart = is_model or bool(rng.random() < 0.4)
                rows += [
                    (c, y, catalog.id, model_set, "condition", "thu_nhap", is_model or bool(rng.random() < 0.3)),
                    (c, y, catalog.id, model_set, "condition", "thon_thong_minh", smart),
                    (c, y, catalog.id, model_set, "condition", "linh_vuc_noi_troi", is_model),
                ]

    # district-level criteria (320/QĐ-TTg): the set that applies to the unit's type, in the years a catalogue has it
    districts = province.registry.districts()
    for y in YEARS:
        catalog = catalogs[y]
        for district, failing in (cal.get("district_criteria_failing") or {}).items():
            kind = districts.at[str(district), "unit_type"]
            set_code = next((s for s, d in catalog.district_sets.items() if kind in d["applies_to"]), None)
            if set_code is None:
                continue
            fail = {str(i) for i in (failing or {}).get(y, ())}
            items = catalog.district_criteria.loc[catalog.district_criteria["set"] == set_code, "criterion"]  # criteria and conditions
            rows += [(str(district), y, catalog.id, set_code, "criterion", i, i not in fail) for i in items]
    results = pd.DataFrame(rows, columns=["unit", "year", "catalog", "tier_set", "level", "item", "met"])
    results["met"] = results["met"].astype("boolean")
    results["value"] = pd.Series(pd.NA, index=results.index, dtype="Float64")

    rec_rows = []
    number = 0
    for tier, table in (("ntm", y_ntm), ("advanced", rec_adv), ("model", y_model)):
        for c, y in sorted(table.items(), key=lambda kv: (kv[1], kv[0])):
            number += 1
            rec_rows.append(
                {
                    "unit": c,
                    "tier": tier,
                    "action": "recognise",
                    "decision_number": f"{number:03d}/QĐ-UBND (mẫu)",
                    # mid-December, but in the reform year before 1 July: a decision dated later belongs to the new units
                    "decision_date": min(date(y, 12, 15), REFORM_DATE - timedelta(days=16)),
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


NEW_UNITS_RECOGNISED = date(2026, 3, 15)  # the sample's date of its decisions for new xã (after 1 July 2025)


def generate_new_units(province: Province, former_ntm: pd.Series, seed: int = SEED) -> Sample:
    """The sample of a province of the new units (period ``moi``): criterion-level results of every xã in the years
    of its ``sample: ntm_share`` (the catalogue in force), and recognitions. ``former_ntm``: per new xã, the share
    of its former xã assessed NTM in the last year of the old units (NaN where unknown) — the xã with the most NTM
    former xã become NTM first; with ``recognised_from_former``, those whose former xã were all NTM and that are NTM
    in the first year get a decision of their own after 1 July 2025, as in the 2023–2025 merger rounds."""
    cal = calibration(province)
    rng = np.random.default_rng(seed)
    xa = province.registry.xa()
    codes = list(xa.index)
    former = pd.Series(former_ntm, dtype="float64").reindex(codes)
    readiness = former.fillna(0.0) * 2.0 + rng.normal(0, 0.5, len(codes))
    order = list(readiness.sort_values(ascending=False).index)
    rows: list[tuple[str, int, str, str, str, str, bool]] = []
    ntm_by_year: dict[int, list[str]] = {}
    for y in sorted(cal["ntm_share"]):
        catalog = province.catalogs.for_year(y)
        criteria = list(catalog.criterion_names("ntm"))
        weights = np.array([DIFFICULTY.get(i, 3) for i in criteria], dtype=float)
        ntm = order[: round(cal["ntm_share"][y] * len(codes))]  # a xã NTM one year stays NTM the next (the sample's choice)
        ntm_by_year[y] = ntm
        for c in codes:
            if c in ntm:
                met = set(criteria)
            else:
                k = int(np.clip(round(len(criteria) * (0.45 + 0.3 * former.fillna(0.0)[c]) + rng.normal(0, 1.0)), 2, len(criteria) - 1))
                met = {criteria[i] for i in np.argsort(weights + rng.normal(0, 1.6, len(criteria)))[:k]}
            rows += [(c, y, catalog.id, _set_code(catalog, "ntm"), "criterion", i, i in met) for i in criteria]
    results = pd.DataFrame(rows, columns=["unit", "year", "catalog", "tier_set", "level", "item", "met"])
    results["met"] = results["met"].astype("boolean")
    results["value"] = pd.Series(pd.NA, index=results.index, dtype="Float64")
    first = min(ntm_by_year)
    recognised = [c for c in ntm_by_year[first] if former.get(c) == 1.0] if cal.get("recognised_from_former") else []
    recognitions = pd.DataFrame(
        [
            {
                "unit": c,
                "tier": "ntm",
                "action": "recognise",
                "decision_number": f"{i + 1:03d}/QĐ-UBND (mẫu)",
                "decision_date": NEW_UNITS_RECOGNISED,
                "note": "quyết định giả lập của dữ liệu mẫu: công nhận xã hình thành sau sắp xếp (mọi xã cũ đã đạt chuẩn)",
            }
            for i, c in enumerate(sorted(recognised))
        ],
        columns=["unit", "tier", "action", "decision_number", "decision_date", "note"],
    )
    return Sample(results=results, recognitions=recognitions, seed=seed)


def load_deployment_sample(store: Store, deployment, seed: int = SEED) -> list[tuple[Province, Sample]]:  # noqa: ANN001 - Deployment
    """The sample of a whole deployment, written to the store and flagged as sample: each predecessor with a
    ``sample:`` block (its own years, up to 2025; seed, seed+1, …), then today's province from its former xã's
    last state. The store records which deployment it follows."""
    from .crosswalk import table_pairs
    from .history import derived_states

    store.set_deployment_profile(deployment.profile)
    written = []
    for i, p in enumerate(deployment.predecessors):
        try:
            calibration(p)
        except ValueError:
            continue
        written.append((p, load_sample(store, p, seed + i)))
    current = deployment.current
    if current.period == "moi":
        former = pd.Series(dtype="float64")
        if deployment.predecessors:
            last = max(y for p in deployment.predecessors for y in p.catalogs.years())
            states = derived_states(
                store.current_results(), store.recognitions(), deployment.predecessors, current.registry, table_pairs(current.code), last
            )
            known = states[states["trang_thai_suy_ra"] != "chua_co_so_lieu"]
            former = (known["xa_cu_dat"] / known["xa_cu"].where(known["xa_cu"] > 0)).set_axis(known["ma_moi"])
        sample = generate_new_units(current, former, seed)
        source = f"{SOURCE}, seed={seed}"
        store.write_results(sample.results, source=source, author="nongthon demo", kind="sample", sample=True, note=SAMPLE_LABEL_VI)
        if len(sample.recognitions):
            store.add_recognitions(sample.recognitions, source=source, author="nongthon demo", sample=True)
        written.append((current, sample))
    elif not written:
        written.append((current, load_sample(store, current, seed)))
    return written


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
