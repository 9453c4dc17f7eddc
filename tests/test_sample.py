"""The sample: reproducible, complete, labelled, and how close it comes to the public figures."""

import re

import pandas as pd
import pytest
import yaml

from nongthon.reports import standard_report
from nongthon.sample import YEARS, generate
from nongthon.scoring import commune_scores
from tests.conftest import SHARED

FACTS = SHARED / "reference" / "phu_yen_facts.yaml"


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
    assert rep18.loc["562", "dat_ntm"] == rep18.loc["562", "so_xa"] == 10  # Tây Hòa 10/10 in 2018
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
