"""Targets and milestones: the data files, and the milestone logic for each district-level unit."""

import re

import pandas as pd
import pytest
import yaml

from nongthon.errors import CatalogError
from nongthon.progress import district_state, progress, target_state
from nongthon.scoring import commune_scores
from nongthon.targets import load_target_set, parse_target_set, target_set_ids, target_sets_for
from tests.conftest import SHARED, results_frame


def test_target_files():
    assert target_set_ids() == ["dak-lak-2026-2030", "nq257-2030", "phu-yen-2021-2025", "qd263-2025"]
    py = load_target_set()
    assert [(t.tier, t.share, t.year) for t in py.targets] == [("ntm", 0.8, 2025), ("advanced", 0.15, 2025), ("model", 0.05, 2025)]
    assert {m.unit: m.kind for m in py.milestones} == {
        "559": "huyen_ntm",
        "557": "hoan_thanh",
        "564": "hoan_thanh",
        "562": "giu_huyen_ntm",
        "563": "giu_huyen_ntm",
    }
    qg = load_target_set("qd263-2025")
    assert [t.share for t in qg.targets if t.kind == "share"] == [0.8, 0.4, 0.1]
    assert [t.min_criteria for t in qg.targets if t.kind == "min_criteria"] == [15]
    with pytest.raises(CatalogError, match="không có bộ mục tiêu 'x'".replace("không", "Không")):
        load_target_set("x")


def xa_of(province, district):
    xa = province.registry.xa()
    return list(xa[xa["district_code"] == district].index)


def build(province, district, year, *, ntm=None, advanced=(), district_set="huyen_ntm", district_met=None, n_district=9):
    """Results of one district's xã: NTM unless listed in ``ntm`` as not, advanced for ``advanced``; its
    district criteria met unless listed in ``district_met`` (None = not recorded)."""
    rows = []
    for code in xa_of(province, district):
        ok = ntm is None or code not in ntm
        rows += [dict(unit=code, year=year, item=str(i), met=ok or i < 19) for i in range(1, 20)]
        if code in advanced:
            rows += [dict(unit=code, year=year, tier_set="nang_cao", item=str(i), met=True) for i in range(1, 20)]
    if district_met is not None:  # every criterion and condition of the district set, as the catalogue lists them
        crit = province.catalogs.for_year(year).district_criteria
        items = list(crit.loc[crit["set"] == district_set, "criterion"])
        assert len([i for i in items if i.isdigit()]) == n_district
        rows += [dict(unit=district, year=year, tier_set=district_set, item=i, met=i not in district_met) for i in items]
    return results_frame(rows)


def state(province, results, district, year, district_set="huyen_ntm"):
    scores = commune_scores(results[results["year"] == year], province, years=[year])
    return district_state(province, results, scores, district, year, district_set)


def test_tuy_an_ntm_district(province):
    xa = xa_of(province, "559")
    assert len(xa) == 14
    two = tuple(xa[:2])  # 10 % of 14 xã → at least 2 advanced
    assert state(province, build(province, "559", 2023, advanced=two, district_met=()), "559", 2023) == ("dat", "đạt mọi điều kiện")
    names = province.registry.units["name_short"]
    st, why = state(province, build(province, "559", 2023, ntm=(xa[5], xa[7]), advanced=two, district_met=()), "559", 2023)
    assert st == "khong_dat" and why == f"2 xã chưa đạt chuẩn: {names[xa[5]]}, {names[xa[7]]}"
    st, why = state(province, build(province, "559", 2023, advanced=two[:1], district_met=()), "559", 2023)
    assert st == "khong_dat" and "cần ít nhất 2 xã NTM nâng cao, mới có 1" in why
    st, why = state(province, build(province, "559", 2023, advanced=two, district_met=("2",)), "559", 2023)
    assert st == "khong_dat" and why == "tiêu chí cấp huyện chưa đạt: 2. Giao thông"
    st, why = state(province, build(province, "559", 2023, advanced=two, district_met=None), "559", 2023)
    assert st == "chua_danh_gia" and why == "tiêu chí cấp huyện chưa đánh giá: 9/9; điều kiện cấp huyện chưa đánh giá: 2/2"
    # 320/QĐ-TTg: the thị trấn and the residents' satisfaction are conditions too, never a silent pass
    st, why = state(province, build(province, "559", 2023, advanced=two, district_met=("hai_long",)), "559", 2023)
    assert st == "khong_dat" and why.startswith("điều kiện cấp huyện chưa đạt: Tỷ lệ hài lòng")
    # a xã with no data: not evaluated (unless something already fails)
    r = build(province, "559", 2023, advanced=two, district_met=())
    r = r[r["unit"] != xa[3]]
    st, why = state(province, r, "559", 2023)
    assert st == "chua_danh_gia" and f"1 xã chưa có số liệu: {names[xa[3]]}" in why


@pytest.mark.parametrize("town", ["557", "564"])
def test_towns_complete_the_task(province, town):
    ok = build(province, town, 2025, district_set="hoan_thanh", district_met=(), n_district=1)
    assert state(province, ok, town, 2025, "hoan_thanh")[0] == "dat"
    one = xa_of(province, town)[0]
    st, why = state(
        province,
        build(province, town, 2025, ntm=(one,), district_set="hoan_thanh", district_met=(), n_district=1),
        town,
        2025,
        "hoan_thanh",
    )
    assert st == "khong_dat" and "1 xã chưa đạt chuẩn" in why
    st, _ = state(
        province, build(province, town, 2025, district_set="hoan_thanh", district_met=("1",), n_district=1), town, 2025, "hoan_thanh"
    )
    assert st == "khong_dat"


@pytest.mark.parametrize("district", ["562", "563"])
def test_tay_hoa_and_phu_hoa_keep_the_standard(province, district):
    xa = xa_of(province, district)
    r = build(province, district, 2024, advanced=tuple(xa[:2]), district_met=())
    assert state(province, r, district, 2024)[0] == "dat"
    r = build(province, district, 2024, ntm=(xa[-1],), advanced=tuple(xa[:2]), district_met=())
    assert state(province, r, district, 2024)[0] == "khong_dat"


def test_years_of_the_2016_2020_set_cannot_evaluate_district_criteria(province):
    st, why = state(province, build(province, "562", 2019), "562", 2019)
    assert st == "chua_danh_gia" and "qd1980-2016 không có bộ nâng cao" in why and "không có tiêu chí cấp huyện" in why


def test_progress_on_the_sample(sample_store, province):
    out = progress(sample_store.current_results(), province, 2023, [load_target_set(), load_target_set("qd263-2025")])
    assert out["mau_so"] == 83 and out["du_lieu_mau"]
    py = out["bo_muc_tieu"][0]
    ntm = py["muc_tieu"][0]
    assert (ntm["so_xa"], ntm["mau_so"], ntm["trang_thai"]) == (63, 83, "khong_dat")
    assert py["muc_tieu"][1]["so_xa"] == 16 and py["muc_tieu"][1]["trang_thai"] == "dat"
    tuy_an = next(m for m in py["moc"] if m["ma"] == "tuy_an_huyen_ntm_2023")
    assert (
        tuy_an["trang_thai"] == "khong_dat"
        and "xã chưa đạt chuẩn" in tuy_an["ly_do"]
        and "tiêu chí cấp huyện chưa đạt: 2. Giao thông; 5." in tuy_an["ly_do"]
    )
    tay_hoa = next(m for m in py["moc"] if m["ma"] == "tay_hoa_giu_chuan")
    assert [s["nam"] for s in tay_hoa["theo_nam"]] == [2022, 2023]
    qg = out["bo_muc_tieu"][1]["muc_tieu"]
    under15 = next(t for t in qg if t["ma"] == "qg_khong_xa_duoi_15")
    assert under15["trang_thai"] == "khong_dat" and under15["so_xa_duoi"] > 0


def test_a_dated_milestone_is_judged_at_its_year(province):
    """Tuy An (559) must be an NTM district in 2023. Seen from 2025: met in 2023 → on time; failed in 2023 and met in
    2025 → late, in 2025 (never plain "đạt"); failed in 2023 and every year after → missed. Before and in 2023
    the year's own state is shown."""
    from nongthon.progress import milestone_judgement

    tuy_an = next(m for m in load_target_set().milestones if m.unit == "559")
    xa = xa_of(province, "559")
    two = tuple(xa[:2])
    ok = {y: build(province, "559", y, advanced=two, district_met=()) for y in (2022, 2023, 2024, 2025)}
    bad = {y: build(province, "559", y, ntm=(xa[5],), advanced=two, district_met=()) for y in (2022, 2023, 2024, 2025)}

    def judge(by_year, year):
        return milestone_judgement(province, pd.concat(list(by_year.values()), ignore_index=True), tuy_an, year)

    on_time = judge(ok, 2025)
    assert (on_time["trang_thai"], on_time["trang_thai_ten"]) == ("dat_dung_han", "đạt đúng hạn")
    late = judge({2023: bad[2023], 2024: bad[2024], 2025: ok[2025]}, 2025)
    assert (late["trang_thai"], late["nam_dat"], late["trang_thai_ten"]) == ("dat_muon", 2025, "đạt muộn")
    assert "muộn 2 năm" in late["ly_do"] and "1 xã chưa đạt chuẩn" in late["ly_do"]
    missed = judge(bad, 2025)
    assert missed["trang_thai"] == "khong_dat_dung_han" and missed["ly_do"].startswith("năm 2023:")
    assert judge(bad, 2023)["trang_thai"] == "khong_dat" and judge(ok, 2022)["trang_thai"] == "dat"


def test_keeping_the_standard_is_judged_over_every_year(province):
    """Tây Hòa (562) keeps the NTM-district standard 2022–2025: one lost year (2023) is a miss when seen from
    2025, even though 2025 itself is met."""
    from nongthon.progress import milestone_judgement

    keep = next(m for m in load_target_set().milestones if m.unit == "562")
    xa = xa_of(province, "562")
    two = tuple(xa[:2])
    years = {y: build(province, "562", y, advanced=two, district_met=()) for y in (2022, 2024, 2025)}
    years[2023] = build(province, "562", 2023, ntm=(xa[4],), advanced=two, district_met=())
    r = pd.concat(list(years.values()), ignore_index=True)
    j = milestone_judgement(province, r, keep, 2025)
    assert j["trang_thai"] == "khong_dat_dung_han" and "năm 2023" in j["ly_do"]
    assert [s["nam"] for s in j["theo_nam"]] == [2022, 2023, 2024, 2025]
    years[2023] = build(province, "562", 2023, advanced=two, district_met=())
    assert milestone_judgement(province, pd.concat(list(years.values()), ignore_index=True), keep, 2025)["trang_thai"] == "dat_dung_han"


def test_exactly_15_criteria_is_not_under_15(province):
    """'Không còn xã dưới 15 tiêu chí': a xã at exactly 15 is not under; one at 14 is. Hand-made: every xã at 19
    but one at 15 → met; then one at 14 → not met, 1 xã under."""
    from nongthon.progress import target_state

    under15 = next(t for t in load_target_set("qd263-2025").targets if t.kind == "min_criteria")
    xa = list(province.registry.xa().index)

    def scores_with(last):
        rows = [dict(unit=u, year=2025, item=str(i), met=True) for u in xa[:-1] for i in range(1, 20)]
        rows += [dict(unit=xa[-1], year=2025, item=str(i), met=i <= last) for i in range(1, 20)]
        return commune_scores(results_frame(rows), province, years=[2025])

    at15 = target_state(under15, scores_with(15), 82)
    assert (at15["trang_thai"], at15["so_xa_duoi"]) == ("dat", 0)
    at14 = target_state(under15, scores_with(14), 82)
    assert (at14["trang_thai"], at14["so_xa_duoi"]) == ("khong_dat", 1)


# --- targets 2026-2030 -------------------------------------------------------------------------------------

REFERENCE_2026 = SHARED / "reference" / "ntm_criteria_2026_2030.yaml"


def _percent(text):
    """'khoảng 65%' -> 0.65"""
    return int(re.search(r"(\d+)%", text).group(1)) / 100


def test_the_2030_target_files_follow_the_reference():
    ref = yaml.safe_load(REFERENCE_2026.read_text(encoding="utf-8"))
    national = {t["item"]: t for t in ref["national_targets_2030"]["targets"]}
    qg = load_target_set("nq257-2030")
    assert (qg.province, qg.year_from, qg.year_to) == (None, 2026, 2030)
    ntm, hien_dai, provinces = qg.targets
    share = national["share of communes NTM"]
    assert (ntm.kind, ntm.tier, ntm.share, ntm.of, ntm.year, ntm.confidence) == (
        "share",
        "ntm",
        _percent(share["value"]),
        None,
        2030,
        share["confidence"],
    )
    modern = national["share of communes recognised NTM hiện đại"]
    assert (hien_dai.tier, hien_dai.share, hien_dai.of, hien_dai.confidence) == (
        "ntm_hien_dai",
        _percent(modern["value"]),
        "ntm",
        modern["confidence"],
    )
    five = national["provinces recognised hoàn thành nhiệm vụ NTM"]
    assert (provinces.kind, provinces.tier, provinces.share, provinces.confidence) == ("described", None, None, five["confidence"])
    assert str(five["value"]) in provinces.mo_ta and provinces.note
    own = ref["dak_lak"]["targets_2026_2030"]
    dl = load_target_set("dak-lak-2026-2030")
    assert (dl.province, dl.year_from, dl.year_to) == ("66", 2026, 2030)
    count = next(t for t in dl.targets if t.kind == "count")
    assert (count.tier, count.count, count.year, count.confidence) == ("ntm", int(own["value"].split()[0]), 2030, own["confidence"])
    assert own["confidence"] == "likely" and count.count == 77
    # from 2026 the new Đắk Lắk is measured against both; former Phú Yên's 2021-2025 sets stop at 2025
    assert [ts.id for ts in target_sets_for("66", 2026)] == ["dak-lak-2026-2030", "nq257-2030"]
    assert [ts.id for ts in target_sets_for("54", 2025)] == ["phu-yen-2021-2025", "qd263-2025"]


def _scores(missing=0, **tiers):
    """One year's scores of hand-counted xã: tier -> how many, and ``missing`` xã with no data (no tier)."""
    return pd.DataFrame({"tier": pd.array([t for t, n in tiers.items() for _ in range(n)] + [None] * missing, dtype="string")})


def test_a_share_of_the_ntm_xa_counts_the_ntm_xa_not_every_xa():
    target = next(t for t in load_target_set("nq257-2030").targets if t.of == "ntm")
    # 20 eligible xã: 5 NTM, 1 NTM hiện đại (also NTM), 14 not: 1 of the 6 NTM xã is hiện đại = 16.7 % >= 10 %
    # (of every xã it would be 1/20 = 5 %, short of 10 %)
    out = target_state(target, _scores(ntm=5, ntm_hien_dai=1, none=14), 20)
    assert (out["so_xa"], out["mau_so"], out["mau_so_la"], out["trang_thai"]) == (1, 6, "ntm", "dat")
    assert out["ty_le"] == pytest.approx(1 / 6)
    # 11 NTM xã, none hiện đại: 0/11
    out = target_state(target, _scores(ntm=11, none=9), 20)
    assert (out["so_xa"], out["mau_so"], out["trang_thai"]) == (0, 11, "khong_dat")
    # no NTM xã yet: the share of none is not evaluated (and a xã with no data is not counted)
    out = target_state(target, _scores(none=19, missing=1), 20)
    assert (out["mau_so"], out["trang_thai"]) == (0, "chua_danh_gia")
    # a share of every xã keeps the year's denominator
    every = next(t for t in load_target_set("nq257-2030").targets if t.id == "qg_xa_ntm_2030")
    out = target_state(every, _scores(ntm=12, ntm_hien_dai=1, none=7), 20)
    assert (out["so_xa"], out["mau_so"], out["mau_so_la"], out["ty_le"], out["trang_thai"]) == (13, 20, None, 0.65, "dat")


def test_a_count_target_and_a_described_one():
    dl = load_target_set("dak-lak-2026-2030").targets
    count = next(t for t in dl if t.kind == "count")
    assert target_state(count, _scores(ntm=70, ntm_hien_dai=6, none=12), 88)["trang_thai"] == "khong_dat"  # 76 < 77
    out = target_state(count, _scores(ntm=70, ntm_hien_dai=7, none=11), 88)
    assert (out["so_xa"], out["muc_tieu_so_xa"], out["trang_thai"]) == (77, 77, "dat")
    five = next(t for t in load_target_set("nq257-2030").targets if t.kind == "described")
    out = target_state(five, _scores(ntm=88), 88)
    assert out["trang_thai"] == "chua_danh_gia" and out["ly_do"] == five.note


@pytest.mark.parametrize(
    ("target", "message"),
    [
        (
            {"tier": "ntm", "share": 0.5, "of": "ntm_hien_dai"},
            r"targets\[0\]\.of: 'ntm_hien_dai' không hợp lệ; mẫu số là số xã đạt một hạng thấp hơn 'ntm': không có",
        ),
        ({"tier": "ntm_hien_dai", "share": 0.1, "of": "xa"}, r"\.of: 'xa' không hợp lệ; .*: ntm, advanced, model"),
        ({"tier": "ntm", "share": 0.5, "count": 3}, r"khóa không xác định 'count' cho mục tiêu loại share"),
        ({"kind": "count", "tier": "ntm", "count": -1}, r"targets\[0\]\.count: -1 phải là số xã"),
        ({"kind": "described"}, r"targets\[0\]\.note: mục tiêu loại described cần note"),
    ],
    ids=["of-not-below", "of-unknown", "count-on-a-share", "negative-count", "described-without-note"],
)
def test_target_fields_are_validated(target, message):
    doc = {"id": "t", "name_vi": "t", "province": None, "years": {"from": 2026, "to": 2030}}
    doc["targets"] = [{"id": "x", "mo_ta": "x", "year": 2030, **target}]
    with pytest.raises(CatalogError, match=message):
        parse_target_set(doc, "t.yaml")


def test_a_district_without_data_is_not_evaluated_not_failed(province):
    """Tây Hòa with no results at all that year, its district criteria recorded met: the advanced share cannot be
    judged, so the state is "chưa đánh giá" — never a silent fail."""
    rows = build(province, "562", 2024, district_met=())
    rows = rows[rows["unit"] == "562"]  # only the district's own rows
    st, why = state(province, rows, "562", 2024)
    assert st == "chua_danh_gia" and "10 xã chưa có số liệu" in why and "chưa tính 10 xã" in why
