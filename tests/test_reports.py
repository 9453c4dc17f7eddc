import pandas as pd

from nongthon.reports import criterion_report, district_criterion_report, report_bands, standard_report
from tests.conftest import results_frame


def xa_of(province, district):
    xa = province.registry.xa()
    return list(xa[xa["district_code"] == district].index)


def rows_for(unit, year, n_met, tier_set="ntm"):
    return [dict(unit=unit, year=year, tier_set=tier_set, item=str(i), met=i <= n_met) for i in range(1, 20)]


def test_counts_are_cumulative_and_bands_and_average(province):
    phu_hoa = xa_of(province, "563")  # 8 xã
    rows = []
    met = [19, 19, 19, 18, 15, 12, 7, 3]
    for code, n in zip(phu_hoa, met):
        rows += rows_for(code, 2023, n)
    rows += rows_for(phu_hoa[0], 2023, 19, "nang_cao") + rows_for(phu_hoa[1], 2023, 19, "nang_cao")
    rows += [
        dict(unit=phu_hoa[0], year=2023, tier_set="kieu_mau", level="condition", item=c, met=True)
        for c in ("thu_nhap", "thon_thong_minh", "linh_vuc_noi_troi")
    ]
    rep = standard_report(results_frame(rows), province, 2023)
    t = rep.table.set_index("ma_don_vi")
    assert list(rep.table.columns) == [
        "ma_don_vi", "ten_don_vi", "so_xa", "dat_ntm", "nang_cao", "kieu_mau", "binh_quan_tieu_chi",
        "xa_19", "xa_15_18", "xa_10_14", "xa_5_9", "xa_duoi_5",
    ]  # fmt: skip
    row = t.loc["563"]
    assert (row["so_xa"], row["dat_ntm"], row["nang_cao"], row["kieu_mau"]) == (8, 3, 2, 1)
    assert (row["xa_19"], row["xa_15_18"], row["xa_10_14"], row["xa_5_9"], row["xa_duoi_5"]) == (3, 2, 1, 1, 1)
    assert row["binh_quan_tieu_chi"] == round(sum(met) / 8, 2)
    prov = t.loc["54"]
    assert prov["ten_don_vi"] == "Tỉnh Phú Yên" and prov["so_xa"] == 82
    assert (prov["dat_ntm"], prov["nang_cao"], prov["kieu_mau"]) == (3, 2, 1)
    # other districts have no data: counted as eligible, not in any band, no average
    assert t.loc["562", "so_xa"] == 10 and t.loc["562", "xa_19"] == 0 and pd.isna(t.loc["562", "binh_quan_tieu_chi"])
    assert rep.xa_with_data == 8 and rep.official_xa == 83


def test_province_row_adds_up_the_districts(sample_store, province):
    rep = standard_report(sample_store.current_results(years=[2022]), province, 2022, sample=True)
    d, p = rep.table.iloc[:-1], rep.table.iloc[-1]
    for col in ("so_xa", "dat_ntm", "nang_cao", "kieu_mau", "xa_19", "xa_15_18", "xa_10_14", "xa_5_9", "xa_duoi_5"):
        assert d[col].sum() == p[col], col
    assert abs((d["binh_quan_tieu_chi"] * d["so_xa"]).sum() / d["so_xa"].sum() - p["binh_quan_tieu_chi"]) < 0.01


def test_criterion_counts(province):
    a, b = xa_of(province, "563")[:2]
    rows = rows_for(a, 2023, 19) + rows_for(b, 2023, 10)
    rows = [r for r in rows if not (r["unit"] == b and r["item"] == "19")]  # 19 not recorded for b
    crit = criterion_report(results_frame(rows), province, 2023).set_index("tieu_chi")
    assert crit.loc["1", "so_xa_dat"] == 2
    assert (crit.loc["11", "so_xa_dat"], crit.loc["11", "so_xa_chua_dat"]) == (1, 1)
    assert (crit.loc["19", "so_xa_dat"], crit.loc["19", "so_xa_chua_danh_gia"]) == (1, 1)
    assert crit.loc["17", "ten_tieu_chi"] == "Môi trường và an toàn thực phẩm"


def test_tiers_the_catalogue_cannot_assess_are_not_zero(sample_store, province):
    """1980/QĐ-TTg in this catalogue has no advanced or model set: those counts are not evaluated."""
    rep = standard_report(sample_store.current_results(years=[2019]), province, 2019, sample=True)
    assert rep.table["nang_cao"].isna().all() and rep.table["kieu_mau"].isna().all()
    assert rep.table["dat_ntm"].iloc[-1] == 48
    rep23 = standard_report(sample_store.current_results(years=[2023]), province, 2023, sample=True)
    assert rep23.table["nang_cao"].notna().all()


def test_band_edges_put_each_count_in_exactly_one_band(province):
    """Every edge of every band: 19, 18|15, 14|10, 9|5, 4|0 criteria, one xã each (hand-placed)."""
    xa = province.registry.xa().index[:10]
    counts = [19, 18, 15, 14, 10, 9, 5, 4, 0, 17]
    rows = []
    for code, n in zip(xa, counts):
        rows += rows_for(code, 2023, n)
    t = standard_report(results_frame(rows), province, 2023).table.iloc[-1]
    assert (t["xa_19"], t["xa_15_18"], t["xa_10_14"], t["xa_5_9"], t["xa_duoi_5"]) == (1, 3, 2, 2, 2)


def test_bands_follow_the_number_of_criteria():
    """A 10-criterion set (2026–2030) has no 19 and no 15–18 band: 10, 5–9, under 5."""
    assert report_bands(19) == [("xa_19", 19, 19), ("xa_15_18", 15, 18), ("xa_10_14", 10, 14), ("xa_5_9", 5, 9), ("xa_duoi_5", 0, 4)]
    assert report_bands(10) == [("xa_10", 10, 10), ("xa_5_9", 5, 9), ("xa_duoi_5", 0, 4)]


def test_criterion_counts_add_up_to_the_xa_not_the_district_units(sample_store, province):
    """The registry is Phú Yên just before the reform: the reference file's last snapshot counts 82 xã. Each
    criterion's three counts add up to that in every year of 318/QĐ-TTg, although district-level results are
    stored too."""
    import yaml

    from tests.conftest import SHARED

    facts = yaml.safe_load((SHARED / "reference" / "phu_yen_facts.yaml").read_text(encoding="utf-8"))
    xa = max(facts["administrative_units"], key=lambda s: s["as_of"])["xa"]
    assert xa == 82
    for year in (2022, 2023, 2024, 2025):
        results = sample_store.current_results(years=[year])
        assert results["unit"].str.len().eq(3).any()  # district-level results are there
        crit = criterion_report(results, province, year)
        sums = crit[["so_xa_dat", "so_xa_chua_dat", "so_xa_chua_danh_gia"]].sum(axis=1)
        assert (sums == xa).all(), (year, sums.tolist())


def test_district_results_have_their_own_table(province):
    """Tuy An (559, a huyện) recorded 1 met and 2 not met; the rest of its nine criteria not evaluated;
    Sông Cầu (557, a thị xã) has only the town set."""
    rows = [
        dict(unit="559", year=2023, tier_set="huyen_ntm", item="1", met=True),
        dict(unit="559", year=2023, tier_set="huyen_ntm", item="2", met=False),
    ]
    t = district_criterion_report(results_frame(rows), province, 2023)
    tuy_an = t[t["ma_don_vi"] == "559"]
    assert set(tuy_an["bo_tieu_chi"]) == {"huyen_ntm"}
    assert dict(zip(tuy_an["tieu_chi"], tuy_an["trang_thai"]))["1"] == "dat"
    assert dict(zip(tuy_an["tieu_chi"], tuy_an["trang_thai"]))["2"] == "khong_dat"
    assert (tuy_an["trang_thai"] == "chua_danh_gia").sum() == len(tuy_an) - 2
    assert set(t.loc[t["ma_don_vi"] == "557", "bo_tieu_chi"]) == {"hoan_thanh"}
