"""The sample: reproducible, complete, labelled, and how close it comes to the public figures."""

import re
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
import yaml

import nongthon.sample
from nongthon.reports import standard_report
from nongthon.sample import YEARS, generate
from nongthon.scoring import commune_scores
from tests.conftest import SHARED

FACTS = SHARED / "reference" / "phu_yen_facts.yaml"
RECORDS = SHARED / "reference" / "phu_yen_public_records.yaml"
TIER_OF_STATUS = {"ntm": "ntm", "ntm_nang_cao": "advanced", "ntm_kieu_mau": "model"}
RANK = {"none": 0, "ntm": 1, "advanced": 2, "model": 3}


def test_reproducible_and_seed_dependent(province):
    a, b = generate(province), generate(province)
    pd.testing.assert_frame_equal(a.results, b.results)
    c = generate(province, seed=7)
    assert not a.results["met"].equals(c.results["met"])


def test_every_xa_every_year_at_criterion_level(province):
    r = generate(province).results
    ntm = r[r["tier_set"] == "ntm"]
    assert set(ntm["unit"]) == set(province.registry.xa().index)
    assert sorted(ntm["year"].unique()) == YEARS
    assert (ntm.groupby(["unit", "year"]).size() == 19).all()
    assert set(r["level"]) == {"criterion", "condition"}
    assert set(r[r["tier_set"] != "ntm"]["year"]) == {2022, 2023, 2024, 2025}


def test_stored_sample_is_flagged_sample(sample_store):
    cur = sample_store.current_results()
    assert cur["sample"].all() and sample_store.is_sample()
    assert cur["source"].str.contains("dữ liệu mẫu").all()
    rec = sample_store.recognitions()
    assert rec["sample"].all() and rec["decision_number"].str.endswith("(mẫu)").all()


def test_trajectories_look_real(province):
    s = commune_scores(generate(province).results, province).sort_values(["unit", "year"])
    wide = s.pivot(index="unit", columns="year", values="ntm_met")
    # criteria accumulate: the average rises in every year of the 2016–2020 set
    means = wide.mean()
    assert all(means[y] < means[y + 1] for y in range(2016, 2021))
    # some NTM xã lose a criterion for a year, and the switch to the 2021–2025 set drops some counts
    tier = s.pivot(index="unit", columns="year", values="tier")
    lost = [(u, y) for u in tier.index for y in YEARS[1:] if tier.at[u, y - 1] != "none" and tier.at[u, y] == "none"]
    assert len([x for x in lost if x[1] != 2022]) >= 3
    assert len([x for x in lost if x[1] == 2022]) >= 5
    assert (wide[2022] < wide[2021]).sum() >= 10


def _share_ntm(rep):
    prov = rep.table.iloc[-1]
    return prov["dat_ntm"] / prov["so_xa"]


def test_calibration_against_public_figures(sample_store, province):
    """Prints, and bounds, how close the sample comes to the public figures."""
    facts = yaml.safe_load(FACTS.read_text(encoding="utf-8"))
    # the latest published count of each year ("~2023 (TTXVN …)" is dated by its year)
    published = {re.search(r"\d{4}", f["as_of"]).group(): f for f in facts["commune_progress"] if f.get("xa_ntm") and f.get("denominator")}
    results = sample_store.current_results()
    lines = [f"{'năm':<6}{'công bố':>16}{'mẫu (82 xã)':>16}{'chênh lệch':>12}"]
    for year_text, fact in sorted(published.items()):
        year = int(year_text)
        rep = standard_report(results, province, year, sample=True)
        official = fact["xa_ntm"] / fact["denominator"]
        ours = _share_ntm(rep)
        lines.append(
            f"{year:<6}{fact['xa_ntm']:>9}/{fact['denominator']} ={official:6.1%}{rep.table.iloc[-1]['dat_ntm']:>6}/82 ={ours:6.1%}{(ours - official) * 100:>+10.1f} đ%"
        )
        assert abs(ours - official) < 0.035, f"{year}: {ours:.3f} vs {official:.3f}"
    rep18 = standard_report(results, province, 2018, sample=True).table.set_index("ma_don_vi")
    avg = rep18.loc["54", "binh_quan_tieu_chi"]
    lines.append(f"2018  bình quân tiêu chí/xã: công bố 15,06 — mẫu {avg:.2f}")
    assert abs(avg - 15.06) < 0.3
    low = commune_scores(results, province, years=[2018])["ntm_met"].min()
    lines.append(f"2018  ít nhất: công bố 'không còn xã dưới 7 tiêu chí' — mẫu {low}")
    assert low >= 7
    assert rep18.loc["562", "dat_ntm"] == rep18.loc["562", "so_xa"] - 2  # Tây Hòa: 10/10 recognised, 2 below 19/19
    rep19 = standard_report(results, province, 2019, sample=True).table.set_index("ma_don_vi")
    assert rep19.loc["563", "dat_ntm"] == rep19.loc["563", "so_xa"] == 8  # Phú Hòa 8/8 by 2019
    assert rep19.loc["561", "dat_ntm"] == 4  # Sông Hinh: 4 xã NTM at the end of 2019
    rep23 = standard_report(results, province, 2023, sample=True).table.set_index("ma_don_vi")
    lines.append(f"2023  xã NTM nâng cao: công bố 16 — mẫu {rep23.loc['54', 'nang_cao']}")
    assert abs(rep23.loc["54", "nang_cao"] - 16) <= 1
    scores = commune_scores(results, province, years=[2019]).set_index("unit")
    for name in ("Sơn Định", "Sơn Xuân", "An Thọ", "An Xuân"):  # recognised in 2019
        code = province.registry.find_commune(name).index[0]
        assert scores.loc[code, "tier"] == "ntm", name
    print("\nMẫu so với số liệu công bố (shared/reference/phu_yen_facts.yaml):\n" + "\n".join(lines))


@pytest.mark.parametrize("year", [2017, 2023])
def test_denominators_differ_from_the_registry_and_say_so(sample_store, province, year):
    rep = standard_report(sample_store.current_results(years=[year]), province, year, sample=True)
    assert rep.xa_in_registry == 82 and rep.official_xa == {2017: 88, 2023: 83}[year]


def _criteria_met(results, unit, year):
    """Criteria of the NTM set met by ``unit`` in ``year``, counted from the sample's rows."""
    r = results[(results["unit"] == unit) & (results["year"] == year) & (results["tier_set"] == "ntm")]
    assert len(r) == 19, (unit, year)
    return int(r["met"].sum())


def _xa_code(province, name, district_name=None):
    xa = province.registry.xa()
    if district_name:
        xa = xa[xa["district_code"] == _district_code(province, district_name)]
    hit = xa.index[xa["name_short"] == name.removeprefix("Xã ")]
    assert len(hit) == 1, name
    return hit[0]


def _district_code(province, name):
    d = province.registry.districts()
    hit = d.index[d["name"].str.endswith(" " + name)]
    assert len(hit) == 1, name
    return hit[0]


def _first_recognition(sample, unit, tier):
    r = sample.recognitions
    dates = r.loc[(r["unit"] == unit) & (r["tier"] == tier) & (r["action"] == "recognise"), "decision_date"]
    return min(dates) if len(dates) else None


def test_agrees_with_every_confirmed_public_record(province):
    """Every ``confirmed`` entry of phu_yen_public_records.yaml ``commune_records`` (the oracle, read here), by the
    kind of year it records (``year_kind``); status ntm / ntm_nang_cao / ntm_kieu_mau is tier ntm / advanced / model:

    - ``recognition_year`` (the year named in the decision or article): the sample's first recognition decision of
      that tier for the xã is dated in that year;
    - ``no_later_than`` (the xã held the status at that date; it may have been recognised earlier): the first
      recognition decision of that tier is dated in or before that year;
    - no year ("recognised; year not shown"): the sample has a recognition decision of that tier, dated no later
      than 2025 (the records are of the pre-merger province);
    - with a year among the sample's years whose catalogue has a set for that tier, the xã is also ASSESSED at that
      tier or above in that year (met the standard in the year it was recognised for / still held it then). Before
      2016, or the advanced tier before 2022 (Phú Yên's own 2016-2020 advanced set is not in the catalogues), only
      the decision can be checked.
    Any other kind of confirmed record fails the test, so that a new kind is not skipped silently."""
    doc = yaml.safe_load(RECORDS.read_text(encoding="utf-8"))
    sample = generate(province)
    scores = commune_scores(sample.results, province).set_index(["unit", "year"])["tier"]
    confirmed = [r for r in doc["commune_records"] if r["confidence"] == "confirmed"]
    assert len(confirmed) >= 30
    problems = []
    for rec in confirmed:
        code, tier, year, kind = rec["gso_code"], TIER_OF_STATUS[rec["status"]], rec["year"], rec["year_kind"]
        assert province.registry.xa().at[code, "name"] == rec["xa"]
        first = _first_recognition(sample, code, tier)
        where = f"{rec['xa']} ({code}) {tier} {year} [{kind}]: mẫu công nhận {first}"
        if year is None:
            ok = first is not None and first <= date(2025, 12, 31)
        elif kind.startswith("recognition_year"):
            ok = first is not None and first.year == year
        elif kind.startswith("no_later_than"):
            ok = first is not None and first.year <= year
        else:
            raise AssertionError(f"kind of record not handled: {where}")
        if not ok:
            problems.append(where)
        tiers_then = {s.get("tier") for s in province.catalogs.for_year(year).sets.values()} if year in YEARS else set()
        if tier in tiers_then and RANK[scores[(code, year)]] < RANK[tier]:
            problems.append(f"{where}; đánh giá năm {year}: {scores[(code, year)]}")
    assert not problems, "\n".join(problems)


def test_the_first_advanced_xa_under_the_2021_2025_set_is_first_in_the_sample(province):
    """phu_yen_facts.yaml (2023-09-14): Xuân Bình, recognised advanced for 2023, was the first xã of the province
    recognised under the 2021-2025 advanced set: no advanced decision of the sample from 2022 on comes before it."""
    facts = yaml.safe_load(FACTS.read_text(encoding="utf-8"))
    fact = next(f for f in facts["commune_progress"] if "the first in the province under the 2021-2025 advanced set" in f["statement"])
    name, year = re.search(r"Xã (.+?) \(.*?năm (\d{4})", fact["statement"]).groups()
    sample = generate(province)
    first = _first_recognition(sample, _xa_code(province, name), "advanced")
    assert first.year == int(year)
    adv = sample.recognitions.query("tier == 'advanced'")["decision_date"]
    assert not [d for d in adv if date(2022, 1, 1) <= d < first]


def test_2018_facts(province):
    """phu_yen_facts.yaml, 17/10/2018: "TP Tuy Hòa 4/4, Phú Hòa 8/8, Tây Hòa 10/10 xã NTM (Hòa Phong, Hòa Mỹ Tây of
    Tây Hòa did not hold 19/19)": every xã of those districts holds an NTM recognition decision dated by the end of
    2018 (TP Tuy Hòa has 3 xã in the registry since Bình Ngọc became part of Phường 1), and the two named xã meet
    fewer than 19 criteria in the sample's 2018 results."""
    facts = yaml.safe_load(FACTS.read_text(encoding="utf-8"))
    fact = next(f for f in facts["commune_progress"] if f["as_of"] == "2018-10-17")
    counts = re.findall(r"(\w+ \w+) (\d+)/(\d+)", fact["statement"].split("(")[0])
    assert [c[0] for c in counts] == ["Tuy Hòa", "Phú Hòa", "Tây Hòa"]
    names, district = re.search(r"\(([^)]+) of (\w+ \w+) did not hold 19/19\)", fact["statement"]).groups()
    assert names.split(", ") == ["Hòa Phong", "Hòa Mỹ Tây"]
    sample = generate(province)
    xa = province.registry.xa()
    for name, met, of in counts:
        assert met == of  # every xã of the district
        for code in xa.index[xa["district_code"] == _district_code(province, name)]:
            first = _first_recognition(sample, code, "ntm")
            assert first is not None and first <= date(2018, 12, 31), xa.at[code, "name"]
    for name in names.split(", "):
        assert _criteria_met(sample.results, _xa_code(province, name, district), 2018) < 19, name


def test_published_criteria_counts_of_named_xa(province):
    """phu_yen_public_records.yaml ``lost_status_or_low_criteria``: every confirmed quote that gives a named xã's
    number of criteria ("xã Ea Bá đạt 12 tiêu chí, Ea Bia 11 tiêu chí …", "xã Xuân Lâm đạt 12/19 tiêu chí …") is the
    sample's count for that xã in the year of ``as_of``."""
    doc = yaml.safe_load(RECORDS.read_text(encoding="utf-8"))
    results = generate(province).results
    pattern = re.compile(r"(?:xã )?([A-ZĐ]\w*(?: [A-ZĐ0-9]\w*)*) (?:đạt )?(\d+)(?:/19)? tiêu chí")
    found = []
    for entry in doc["lost_status_or_low_criteria"]:
        if entry.get("confidence") != "confirmed" or "as_of" not in entry:
            continue
        year = int(entry["as_of"][:4])
        for name, count in pattern.findall(entry["quote"]):
            found.append((name, year, int(count), _criteria_met(results, _xa_code(province, name), year)))
    assert len(found) == 6
    assert [f for f in found if f[2] != f[3]] == []


def test_no_district_code_in_the_sample_code(province):
    """The sample's district codes are data (the province profile's ``sample:`` block), not literals in the code."""
    source = Path(nongthon.sample.__file__).read_text(encoding="utf-8")
    assert [c for c in province.registry.districts().index if f'"{c}"' in source] == []
