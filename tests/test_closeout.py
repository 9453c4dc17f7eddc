"""The 2021–2025 close-out (nongthon/closeout.py): the final shares against the targets on the final year's data and
on the data known at the end of the old units (30 June 2025, Vietnam time), the milestones, the xã under 15
criteria, the criteria against 2021, the 2021 and 2023 projections against what happened; the CLI and the API.

Two kinds of oracle: a small hand-made store whose every figure is worked out by hand below, and the sample,
whose figures are recomputed here from the store's raw rows (``Store.history``) with plain loops."""

import csv
import io
import math
import shutil
import subprocess
import sys
from collections import defaultdict
from datetime import datetime

import pandas as pd
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from api.app import create_app
from nongthon import closeout as co
from nongthon.errors import UnknownYear
from nongthon.province import load_province
from nongthon.store import Store, batches, recognitions, results
from tests.conftest import results_frame

TUY_AN = ["22117", "22120", "22123", "22126", "22129", "22132", "22138", "22141", "22144", "22147", "22150", "22153", "22156", "22159"]
DONG_HOA = ["22243", "22267", "22291", "22297", "22300"]
SON_HOI = "22171"  # Sơn Hòa: 12 criteria every year (under 15)
HUYEN_ITEMS = [str(i) for i in range(1, 10)] + ["thi_tran_van_minh", "hai_long"]  # 320/QĐ-TTg: 9 criteria, 2 conditions
MODEL = ["thu_nhap", "thon_thong_minh", "linh_vuc_noi_troi"]  # 319/QĐ-TTg conditions
CUTOFF_UTC = datetime(2025, 6, 30, 16, 59, 59)  # 30/6/2025 23:59:59 Vietnam time


def at(monkeypatch, moment: datetime) -> None:
    """Every write from now on is entered at ``moment`` (naive UTC, as the store keeps it)."""
    monkeypatch.setattr("nongthon.store.utcnow", lambda: moment)


def xa_rows(code, year, met=19, sets=("ntm",), model=()):
    """A xã-year: criteria 1…met of the NTM set met, the rest not; every criterion of the other ``sets`` met; the
    model conditions in ``model`` met."""
    rows = [dict(unit=code, year=year, item=str(i), met=i <= met) for i in range(1, 20)]
    rows += [dict(unit=code, year=year, tier_set=s, item=str(i), met=True) for s in sets if s != "ntm" for i in range(1, 20)]
    rows += [dict(unit=code, year=year, tier_set="kieu_mau", level="condition", item=c, met=c in model) for c in MODEL if model]
    return rows


def crit17_missing(code, year):
    return [dict(unit=code, year=year, item=str(i), met=i != 17) for i in range(1, 20)]


@pytest.fixture
def small(store, monkeypatch):
    """The hand-made store.

    Tuy An (14 xã): 2021–2022 xã 0–9 NTM, xã 10–13 lack criterion 17; 2023 only An Thọ (xã 13) lacks it, xã 0–1
    advanced; 2024 all 14 NTM, 2 advanced, district criteria met → its 2023 milestone is met late, in 2024.
    2025, entered 15/6/2025: all NTM, xã 0–1 advanced, xã 0 model; entered 1/7/2025 00:00:30 Vietnam time
    (after the reform): xã 2–3 advanced, xã 1 model. Đông Hòa (5 xã): NTM every year, its town condition met in
    2025 → on time. Sông Cầu: its condition recorded not met in 2025 → missed. Sơn Hội: 12 criteria every year.
    """
    for year in range(2021, 2025):
        rows = []
        for k, code in enumerate(TUY_AN):
            lacking = k >= 10 if year <= 2022 else (k == 13 and year == 2023)
            adv = ("ntm", "nang_cao") if year >= 2023 and k < 2 else ("ntm",)
            rows += crit17_missing(code, year) if lacking else xa_rows(code, year, sets=adv)
        rows += [r for code in DONG_HOA for r in xa_rows(code, year)] + xa_rows(SON_HOI, year, met=12)
        if year >= 2023:
            rows += [dict(unit="559", year=year, tier_set="huyen_ntm", item=i, met=True) for i in HUYEN_ITEMS]
        at(monkeypatch, datetime(year, 12, 20, 3, 0))
        store.write_results(results_frame(rows), source=f"biên bản {year}", author="test")
    rows = []
    for k, code in enumerate(TUY_AN):
        rows += xa_rows(
            code, 2025, sets=("ntm", "nang_cao") if k < 2 else ("ntm",), model=MODEL if k == 0 else (("thu_nhap",) if k == 1 else ())
        )
    rows += [r for code in DONG_HOA for r in xa_rows(code, 2025)] + xa_rows(SON_HOI, 2025, met=12)
    rows += [dict(unit="559", year=2025, tier_set="huyen_ntm", item=i, met=True) for i in HUYEN_ITEMS]
    rows += [
        dict(unit="564", year=2025, tier_set="hoan_thanh", item="1", met=True),
        dict(unit="557", year=2025, tier_set="hoan_thanh", item="1", met=False),
    ]
    at(monkeypatch, datetime(2025, 6, 15, 3, 0))
    store.write_results(results_frame(rows), source="biên bản 6/2025", author="test")
    late = xa_rows(TUY_AN[1], 2025, sets=("ntm", "nang_cao"), model=MODEL) + [
        r for code in TUY_AN[2:4] for r in xa_rows(code, 2025, sets=("ntm", "nang_cao"))
    ]
    at(monkeypatch, datetime(2025, 6, 30, 17, 0, 30))  # 1/7/2025 00:00:30 in Vietnam: the new units already
    store.write_results(results_frame(late), source="biên bản bổ sung 2025", author="test")
    return store


def by_id(snap):
    return {t["ma"]: t for ts in snap["bo_muc_tieu"] for t in ts["muc_tieu"]}


def test_hand_made_store_final_and_before_the_reform(small, province):
    r = co.closeout(small, province, "2021-2025", runs=200)
    assert r["du_lieu_mau"] is False and r["giai_doan"] == "2021-2025" and r["tinh"]["ma"] == "54"
    final, before = r["so_lieu"]
    # the final year: 19 xã NTM (14 Tuy An + 5 Đông Hòa), 4 advanced (Tuy An 0–3), 2 model (Tuy An 0–1), of 82
    assert (final["ma"], final["nam"], final["den_thoi_diem"]) == ("cuoi_giai_doan", 2025, None)
    assert (final["mau_so"], final["xa_co_so_lieu"]) == (82, 20)
    assert final["so_xa"] == {"ntm": 19, "advanced": 4, "model": 2}
    assert final["ty_le"] == pytest.approx({"ntm": 19 / 82, "advanced": 4 / 82, "model": 2 / 82})
    assert final["nhap_luc_cuoi"] == "2025-07-01T00:00:30+07:00"
    # as known at 30/6/2025 23:59:59 Vietnam time: the entry of 00:00:30 on 1 July is not in it
    assert before["den_thoi_diem"] == "2025-06-30T23:59:59+07:00" and before["nam"] == 2025
    assert before["so_xa"] == {"ntm": 19, "advanced": 2, "model": 1}
    assert before["nhap_luc_cuoi"] == "2025-06-15T10:00:00+07:00"
    t = by_id(final)
    assert (t["xa_nang_cao_2025"]["so_xa"], t["xa_nang_cao_2025"]["mau_so"], t["xa_nang_cao_2025"]["muc_tieu"]) == (4, 82, 0.15)
    assert {k: v["trang_thai"] for k, v in t.items()} == {
        "xa_ntm_2025": "khong_dat",
        "xa_nang_cao_2025": "khong_dat",
        "xa_kieu_mau_2025": "khong_dat",
        "qg_xa_ntm_2025": "khong_dat",
        "qg_xa_nang_cao_2025": "khong_dat",
        "qg_xa_kieu_mau_2025": "khong_dat",
        "qg_khong_xa_duoi_15": "khong_dat",
    }
    assert t["xa_ntm_2025"]["trang_thai_ten"] == "không đạt"  # the period is over: not "chưa đạt"
    # under 15 criteria: Sơn Hội alone, with 12
    assert final["duoi_tieu_chi"] == {"so_tieu_chi": 15, "so_xa": 1, "xa": [{"ma": SON_HOI, "ten": "Xã Sơn Hội", "so_tieu_chi_dat": 12}]}
    assert t["qg_khong_xa_duoi_15"]["so_xa_duoi"] == 1


def test_hand_made_store_milestones(small, province):
    moc = {m["ma"]: m for m in co.closeout(small, province, "2021-2025", runs=50)["moc"]}
    tuy_an = moc["tuy_an_huyen_ntm_2023"]
    assert (tuy_an["trang_thai"], tuy_an["nam_dat"], tuy_an["trang_thai_ten"]) == ("dat_muon", 2024, "đạt muộn")
    assert tuy_an["ly_do"] == "đạt năm 2024, muộn 1 năm (năm 2023: 1 xã chưa đạt chuẩn: An Thọ)"
    assert (moc["dong_hoa_hoan_thanh_2025"]["trang_thai"], moc["dong_hoa_hoan_thanh_2025"]["ly_do"]) == ("dat_dung_han", "đạt năm 2025")
    song_cau = moc["song_cau_hoan_thanh_2025"]
    assert song_cau["trang_thai"] == "khong_dat_dung_han" and song_cau["trang_thai_ten"] == "không đạt đúng hạn"
    assert song_cau["ly_do"].startswith("năm 2025, năm cuối giai đoạn 2021–2025: tiêu chí cấp huyện chưa đạt: 1.")
    assert set(moc) == {
        "tuy_an_huyen_ntm_2023",
        "song_cau_hoan_thanh_2025",
        "dong_hoa_hoan_thanh_2025",
        "tay_hoa_giu_chuan",
        "phu_hoa_giu_chuan",
    }
    assert all(m["bo_muc_tieu"] == "phu-yen-2021-2025" and m["ly_do"] for m in moc.values())


def test_hand_made_store_criteria_against_2021(small, province):
    c = co.closeout(small, province, "2021-2025", runs=50)["tieu_chi"]
    assert (c["nam_dau"], c["bo_tieu_chi_dau"], c["nam_cuoi"], c["bo_tieu_chi_cuoi"]) == (2021, "qd1980-2016", 2025, "qd318-2022")
    assert "so sánh theo số thứ tự tiêu chí" in c["ghi_chu"]
    rows = {d["tieu_chi"]: d for d in c["dong"]}
    assert len(rows) == 19
    # criterion 17: 2025 all but Sơn Hội (19 of 20); 2021 Tuy An 0–9 and Đông Hòa (15)
    assert (rows["17"]["so_xa_dat"], rows["17"]["so_xa_chua_dat"], rows["17"]["so_xa_dat_dau"], rows["17"]["thay_doi"]) == (19, 1, 15, 4)
    assert (rows["1"]["so_xa_dat"], rows["1"]["so_xa_dat_dau"], rows["1"]["thay_doi"]) == (20, 20, 0)
    assert (rows["13"]["so_xa_dat"], rows["13"]["so_xa_dat_dau"]) == (19, 19)  # Sơn Hội has 1–12 only
    assert (rows["11"]["ten_tieu_chi"], rows["11"]["ten_tieu_chi_dau"]) == ("Nghèo đa chiều", "Hộ nghèo")


def test_hand_made_store_projections_against_what_happened(small, province):
    r = co.closeout(small, province, "2021-2025", runs=200, seed=11)
    assert [p["nam_bat_dau"] for p in r["du_bao"]] == [2021, 2023]
    for p in r["du_bao"]:
        assert (p["nam_dich"], p["so_lan_mo_phong"], p["hat_giong"], p["khop_den_nam"]) == (2025, 200, 11, p["nam_bat_dau"])
        tiers = {t["hang"]: t for t in p["theo_hang"]}
        assert {h: t["thuc_te"] for h, t in tiers.items()} == pytest.approx({"ntm": 19 / 82, "advanced": 4 / 82, "model": 2 / 82})
        for t in tiers.values():
            assert t["du_bao_p10"] <= t["du_bao_trung_binh"] <= t["du_bao_p90"]
            assert t["trong_khoang_10_90"] == (t["du_bao_p10"] <= t["thuc_te"] <= t["du_bao_p90"])
            assert t["chenh_lech"] == pytest.approx(t["thuc_te"] - t["du_bao_trung_binh"])
        goals = {g["ma"]: g for g in p["muc_tieu"]}
        assert goals["xa_ntm_2025"]["thuc_te"] == "khong_dat" and goals["tuy_an_huyen_ntm_2023"]["thuc_te"] == "dat_muon"
        assert goals["dong_hoa_hoan_thanh_2025"]["thuc_te"] == "dat_dung_han"
        assert all(g["xac_suat"] is None or 0 <= g["xac_suat"] <= 1 for g in goals.values())
    assert "bắt đầu từ hạng được công nhận" in r["du_bao"][0]["ghi_chu"]  # 2021: no advanced set in 1980/QĐ-TTg
    assert r["du_bao"][1]["ghi_chu"] is None


def test_a_projection_does_not_see_what_happened_after_its_start(small, province, monkeypatch):
    """The comparison is fair only if the 2023 projection ignores 2024–2025: a change to 2025 moves what happened,
    not what was projected."""
    before = co.closeout(small, province, "2021-2025", runs=200, seed=3)["du_bao"][1]
    at(monkeypatch, datetime(2025, 12, 1))
    small.write_results(
        results_frame([r for code in DONG_HOA for r in xa_rows(code, 2025, sets=("ntm", "nang_cao"))]), source="x", author="t"
    )
    after = co.closeout(small, province, "2021-2025", runs=200, seed=3)["du_bao"][1]
    strip = lambda p: [{k: v for k, v in t.items() if k.startswith("du_bao")} for t in p["theo_hang"]]  # noqa: E731
    assert strip(after) == strip(before)
    assert {t["hang"]: t["thuc_te"] for t in after["theo_hang"]}["advanced"] == pytest.approx(9 / 82)


def test_a_year_before_the_last_is_said_and_counted_on_its_own_denominator(small, province):
    """Without 2024–2025, the figures are 2023's, on 2023's official count of xã (83, not 82), and say so."""
    until_2023 = small.current_results(years=range(2021, 2024))
    snap = co.snapshot(until_2023, province, co.CLOSEOUT_PERIODS["2021-2025"], "x", None)
    # 2023: Tuy An 13 NTM (An Thọ lacks criterion 17) + Đông Hòa 5; Tuy An xã 0–1 advanced
    assert (snap["nam"], snap["mau_so"], snap["so_xa"]) == (2023, 83, {"ntm": 18, "advanced": 2, "model": 0})
    assert snap["ty_le"]["ntm"] == pytest.approx(18 / 83) and snap["nhap_luc_cuoi"] == "2023-12-20T10:00:00+07:00"
    assert snap["ghi_chu"] == "chưa có số liệu năm 2025: số liệu năm 2023, năm cuối có số liệu"


def test_periods_and_province(store, province):
    with pytest.raises(co.UnknownPeriod, match="'2016-2020'.*2021-2025") as exc:
        co.closeout(store, province, "2016-2020")
    assert isinstance(exc.value, UnknownYear)  # the API's 404
    empty = co.closeout(store, load_province("66"), "2021-2025", runs=10)  # the new Đắk Lắk closes out former Phú Yên
    assert (empty["tinh"]["ma"], empty["tinh"]["don_vi"]) == ("54", "cu")
    assert [s["nam"] for s in empty["so_lieu"]] == [None, None]
    assert all(t["trang_thai"] == "chua_danh_gia" for s in empty["so_lieu"] for t in by_id(s).values())
    assert all("ghi_chu" in p and "theo_hang" not in p for p in empty["du_bao"])


# -- the sample, recomputed from the raw rows ---------------------------------------------------------------
EARLY = datetime(2025, 3, 1, 2, 0)  # the whole sample entered then (UTC)
LATE = datetime(2025, 11, 20, 8, 0)  # a correction for 2025 after the reform


def latest(store, cutoff=None):
    """{(unit, year): {(tier_set, item): met}} — the latest stored row per key (by id), entered by ``cutoff``."""
    best = {}
    for row in store.history().itertuples(index=False):
        if cutoff is not None and row.entered_at > cutoff:
            continue
        key = (row.unit, row.year, row.tier_set, row.level, row.item)
        if key not in best or row.id > best[key][0]:
            best[key] = (row.id, row.met)
    out = defaultdict(dict)
    for (unit, year, tier_set, _level, item), (_id, met) in best.items():
        out[(unit, year)][(tier_set, item)] = False if pd.isna(met) else bool(met)
    return out


def tier(rows):
    """none / ntm / advanced / model of one xã-year (2022–2025 catalogue: 19 + 19 criteria, 3 model conditions)."""
    ntm = all(rows.get(("ntm", str(i)), False) for i in range(1, 20))
    adv = ntm and all(rows.get(("nang_cao", str(i)), False) for i in range(1, 20))
    model = adv and all(rows.get(("kieu_mau", c), False) for c in MODEL)
    return "model" if model else "advanced" if adv else "ntm" if ntm else "none"


def counts(state, xa, year):
    tiers = [tier(state[(u, year)]) for u in xa if (u, year) in state]
    rank = {"none": 0, "ntm": 1, "advanced": 2, "model": 3}
    return {t: sum(rank[x] >= rank[t] for x in tiers) for t in ("ntm", "advanced", "model")}


@pytest.fixture(scope="module")
def sample_late(sample_db, tmp_path_factory):
    """The sample entered on 1/3/2025, then 3 xã not NTM in 2025 completing every criterion on 20/11/2025."""
    path = tmp_path_factory.mktemp("closeout") / "sample.db"
    shutil.copy(sample_db, path)
    store = Store.open(path)
    with store.writing() as conn:
        for table in (results, batches, recognitions):
            conn.execute(sa.update(table).values(entered_at=EARLY))
    province = load_province()
    xa = list(province.registry.xa().index)
    state = latest(store)
    lagging = [u for u in xa if tier(state[(u, 2025)]) == "none"][:3]
    assert len(lagging) == 3
    mp = pytest.MonkeyPatch()
    mp.setattr("nongthon.store.utcnow", lambda: LATE)
    store.write_results(results_frame([r for u in lagging for r in xa_rows(u, 2025, met=19)]), source="bổ sung", author="test")
    mp.undo()
    report = co.closeout(store, province, "2021-2025")
    yield {"store": store, "path": path, "province": province, "xa": xa, "report": report}
    store.close()


def test_sample_final_shares_match_the_raw_rows(sample_late):
    s, xa = sample_late, sample_late["xa"]
    final, before = s["report"]["so_lieu"]
    now = counts(latest(s["store"]), xa, 2025)
    then = counts(latest(s["store"], CUTOFF_UTC), xa, 2025)
    assert final["nam"] == before["nam"] == 2025 and final["mau_so"] == 82
    assert final["so_xa"] == now and before["so_xa"] == then
    assert now["ntm"] == then["ntm"] + 3  # the late-2025 entry shows in the final figures only
    assert final["nhap_luc_cuoi"] == "2025-11-20T15:00:00+07:00" and before["nhap_luc_cuoi"] == "2025-03-01T09:00:00+07:00"
    shares = {"ntm": 0.80, "advanced": 0.15, "model": 0.05}
    nat = {"ntm": 0.80, "advanced": 0.40, "model": 0.10}
    for snap, c in ((final, now), (before, then)):
        t = by_id(snap)
        for tier_, word in (("ntm", "ntm"), ("advanced", "nang_cao"), ("model", "kieu_mau")):
            mine, national = f"xa_{word}_2025", f"qg_xa_{word}_2025"
            assert t[mine]["so_xa"] == c[tier_] and t[mine]["ty_le"] == pytest.approx(c[tier_] / 82)
            assert t[mine]["trang_thai"] == ("dat" if c[tier_] / 82 >= shares[tier_] else "khong_dat")
            assert t[national]["trang_thai"] == ("dat" if c[tier_] / 82 >= nat[tier_] else "khong_dat")
        assert snap["du_lieu_mau"] is True
    # xã under 15 criteria of the NTM set, from the raw rows
    state = latest(s["store"])
    under = sorted(u for u in xa if sum(state[(u, 2025)].get(("ntm", str(i)), False) for i in range(1, 20)) < 15)
    assert sorted(x["ma"] for x in final["duoi_tieu_chi"]["xa"]) == under and final["duoi_tieu_chi"]["so_xa"] == len(under)
    assert by_id(final)["qg_khong_xa_duoi_15"]["trang_thai"] == ("dat" if not under else "khong_dat")


def test_sample_milestones_match_the_raw_rows(sample_late):
    s = sample_late
    state, reg = latest(s["store"]), s["province"].registry.xa()

    def met(unit, kind, year):
        xa = list(reg.index[reg["district_code"] == unit])
        tiers = [tier(state[(u, year)]) for u in xa]
        need = math.ceil(0.1 * len(xa) - 1e-9) if kind == "huyen_ntm" else 0
        items = HUYEN_ITEMS if kind == "huyen_ntm" else ["1"]
        return (
            all(t != "none" for t in tiers)
            and sum(t in ("advanced", "model") for t in tiers) >= need
            and all(state[(unit, year)].get((kind, i), False) for i in items)
        )

    def verdict(unit, kind, due, keep_from=None):
        if keep_from is not None:
            return ("dat_dung_han", None) if all(met(unit, kind, y) for y in range(keep_from, due + 1)) else ("khong_dat_dung_han", None)
        if met(unit, kind, due):
            return ("dat_dung_han", None)
        later = [y for y in range(due + 1, 2026) if met(unit, kind, y)]
        return ("dat_muon", later[0]) if later else ("khong_dat_dung_han", None)

    expected = {
        "tuy_an_huyen_ntm_2023": verdict("559", "huyen_ntm", 2023),
        "song_cau_hoan_thanh_2025": verdict("557", "hoan_thanh", 2025),
        "dong_hoa_hoan_thanh_2025": verdict("564", "hoan_thanh", 2025),
        "tay_hoa_giu_chuan": verdict("562", "huyen_ntm", 2025, keep_from=2022),
        "phu_hoa_giu_chuan": verdict("563", "huyen_ntm", 2025, keep_from=2022),
    }
    got = {m["ma"]: (m["trang_thai"], m.get("nam_dat")) for m in s["report"]["moc"]}
    assert got == expected
    assert all(m["ly_do"] for m in s["report"]["moc"])


def test_sample_criteria_match_the_raw_rows(sample_late):
    s = sample_late
    state = latest(s["store"])
    rows = {d["tieu_chi"]: d for d in s["report"]["tieu_chi"]["dong"]}
    for i in range(1, 20):
        now = sum(state[(u, 2025)].get(("ntm", str(i)), False) for u in s["xa"])
        then = sum(state[(u, 2021)].get(("ntm", str(i)), False) for u in s["xa"])
        assert (rows[str(i)]["so_xa_dat"], rows[str(i)]["so_xa_dat_dau"], rows[str(i)]["thay_doi"]) == (now, then, now - then)


def test_the_html_page_escapes_text_and_prints_landscape(sample_late):
    report = dict(sample_late["report"])
    report["moc"] = [dict(report["moc"][0], mo_ta='<script>alert("x")</script> & <b>')] + report["moc"][1:]
    page = co.closeout_html(report)
    assert "<script>" not in page and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;" in page
    assert "size: A4 landscape" in page and 'class="banner"' in page and "DỮ LIỆU MẪU" in page
    assert "default-src 'none'" in page  # no script could run even if one got in


def cli(*args):
    return subprocess.run([sys.executable, "-m", "nongthon.cli", *args], capture_output=True, text=True, timeout=300)


def test_cli_closeout(sample_late, tmp_path):
    db, final = str(sample_late["path"]), sample_late["report"]["so_lieu"][0]
    r = cli("--db", db, "closeout", "--period", "2021-2025", "--runs", "200")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("*** DỮ LIỆU MẪU")
    assert "BÁO CÁO TỔNG KẾT XÂY DỰNG NÔNG THÔN MỚI GIAI ĐOẠN 2021–2025" in r.stdout
    assert f"Đạt chuẩn NTM {final['so_xa']['ntm']}/82" in r.stdout and "20/11/2025 15:00" in r.stdout
    assert "Số liệu đã biết đến 30/06/2025" in r.stdout and "Dự báo từ số liệu năm 2023 đến 2025" in r.stdout
    r = cli("--db", db, "closeout", "--csv", "--runs", "20")
    assert r.returncode == 0 and "DỮ LIỆU MẪU" in r.stderr
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert list(rows[0]) == co.CSV_COLUMNS
    ntm = {(x["so_lieu"], x["ma_muc_tieu"]): x for x in rows}
    assert int(ntm[("cuoi_giai_doan", "xa_ntm_2025")]["so_xa"]) == final["so_xa"]["ntm"]
    assert ntm[("truoc_sap_xep", "xa_ntm_2025")]["den_thoi_diem"] == "2025-06-30T23:59:59+07:00"
    assert {x["du_lieu_mau"] for x in rows} == {"co"}
    page = tmp_path / "tong-ket.html"
    r = cli("--db", db, "closeout", "--html", "-o", str(page), "--runs", "20")
    assert r.returncode == 0, r.stderr
    assert "A4 landscape" in page.read_text(encoding="utf-8") and "DỮ LIỆU MẪU" in page.read_text(encoding="utf-8")
    r = cli("--db", db, "closeout", "--period", "2016-2020")
    assert r.returncode == 1 and "2021-2025" in r.stderr


def test_api_closeout(sample_late):
    app = create_app(str(sample_late["path"]))
    with TestClient(app) as client:
        r = client.get("/api/closeout", params={"period": "2021-2025"})
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
        body = r.json()
        assert body["du_lieu_mau"] is True
        assert [s["so_xa"] for s in body["so_lieu"]] == [s["so_xa"] for s in sample_late["report"]["so_lieu"]]
        again = client.get("/api/closeout?period=2021-2025", headers={"If-None-Match": r.headers["etag"]})
        assert again.status_code == 304
        bad = client.get("/api/closeout", params={"period": "2016-2020"})
        assert bad.status_code == 404 and "2021-2025" in bad.json()["loi"]
