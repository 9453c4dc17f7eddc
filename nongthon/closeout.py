"""The close-out of a programme period (báo cáo tổng kết giai đoạn), from the store's results and recognitions.

For 2021–2025 (former Phú Yên, the units before 1 July 2025): the final shares of NTM, advanced and model xã
against every target set covering 2025 — twice, on the final year's data as stored now (the reporting year
2025 was assessed on the old units), and on the data as known at the end of the old units (30 June 2025) —
each saying which year the figures are from and when the last result used was entered; the xã under 15
criteria; every milestone judged at 2025 (on time / late / missed, with its reason); the xã meeting each
criterion in the last year against the first (by criterion number: 2021 was assessed under 1980/QĐ-TTg); and
the projections made from 2021 and from 2023 next to what happened. ``closeout`` returns JSON-ready data (the
API sends it as is); ``closeout_text``, ``closeout_csv`` and ``closeout_html`` render it.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from importlib import resources

import pandas as pd
from jinja2 import Environment

from .criteria import TIER_CODES, TIER_WORDS
from .errors import UnknownYear
from .progress import MET, MISSED, NOT_EVALUATED, NOT_MET, ON_TIME, STATE_WORDS, milestone_judgement, share_of, target_state
from .projection import default_start_year, observed_states, project
from .province import Province, load_province
from .reports import criterion_report
from .sample import SAMPLE_LABEL_VI
from .scoring import commune_scores
from .targets import target_sets_for

VN = timezone(timedelta(hours=7), "+07:00")


@dataclass(frozen=True)
class CloseoutPeriod:
    """A programme period to close out: its reporting years, the last moment of the units it was assessed on,
    the start years of the projections compared with what happened, and the province profile it closes out by
    default (a deployment of the new units closes out the former province whose profile the tool holds)."""

    code: str
    first: int
    last: int
    units_end: datetime  # data as known at this moment: the last data before the reform
    projection_starts: tuple[int, ...]
    name_vi: str
    province: str


CLOSEOUT_PERIODS = {
    "2021-2025": CloseoutPeriod(
        "2021-2025", 2021, 2025, datetime(2025, 6, 30, 23, 59, 59, tzinfo=VN), (2021, 2023), "giai đoạn 2021–2025", "54"
    ),
}
#: the share of a tier: its key in the output (as /api/progress) and its name in words
TIER_KEYS = {"ntm": "ntm", "advanced": "advanced", "model": "model"}
MIN_CRITERIA = 15  # the xã "under 15 criteria" when no target names another floor
FINAL, AT_REFORM = "cuoi_giai_doan", "truoc_sap_xep"
#: a state in words once the period is over: a target not met by then is not met ("không đạt"), not "not yet"
WORDS = {**STATE_WORDS, NOT_MET: "không đạt"}


class UnknownPeriod(UnknownYear):
    """A period with no close-out (the API answers 404, naming the periods available)."""


def check_period(code: str) -> CloseoutPeriod:
    if code not in CLOSEOUT_PERIODS:
        raise UnknownPeriod(f"Không có báo cáo tổng kết cho giai đoạn {code!r}; các giai đoạn có: {', '.join(CLOSEOUT_PERIODS)}")
    return CLOSEOUT_PERIODS[code]


def _vn_time(moment) -> str | None:  # noqa: ANN001 - a naive UTC timestamp from the store, or NaT
    """A stored entry time (naive UTC) in ISO 8601, Vietnam time."""
    if moment is None or pd.isna(moment):
        return None
    return pd.Timestamp(moment).to_pydatetime().replace(tzinfo=UTC).astimezone(VN).isoformat(timespec="seconds")


def _xa_years(results: pd.DataFrame, province: Province, period: CloseoutPeriod) -> list[int]:
    """The years of the period with results for at least one xã of the registry."""
    xa = results[results["unit"].isin(province.registry.xa().index)]
    return sorted(int(y) for y in xa["year"].unique() if period.first <= y <= period.last)


def _stated(target: dict) -> dict:
    return {**target, "trang_thai_ten": WORDS[target["trang_thai"]]}


def snapshot(results: pd.DataFrame, province: Province, period: CloseoutPeriod, key: str, as_of: datetime | None) -> dict:
    """The shares of the last year with data in ``results`` (already read as of ``as_of``) against every target set
    covering the period's last year, the xã under the criteria floor, which year and when it was last entered."""
    out = {
        "ma": key,
        "ten": "Năm cuối giai đoạn (số liệu hiện hành)"
        if as_of is None
        else f"Số liệu đã biết đến {as_of:%d/%m/%Y} (trước sắp xếp đơn vị)",
        "den_thoi_diem": None if as_of is None else as_of.isoformat(timespec="seconds"),
        "nam": None,
        "nhap_luc_cuoi": None,
        "du_lieu_mau": bool(results["sample"].any()) if len(results) else False,
        "bo_muc_tieu": [],
    }
    years = _xa_years(results, province, period)
    sets = target_sets_for(province.code, period.last)
    if not years:
        out["ghi_chu"] = f"chưa có kết quả nào của {period.name_vi}" + ("" if as_of is None else f" được nhập đến {as_of:%d/%m/%Y}")
        out["bo_muc_tieu"] = [
            {
                "ma": ts.id,
                "ten": ts.name_vi,
                "muc_tieu": [
                    _stated({"ma": t.id, "mo_ta": t.mo_ta, "trang_thai": NOT_EVALUATED, "ly_do": out["ghi_chu"]}) for t in ts.targets
                ],
            }
            for ts in sets
        ]
        return out
    year = default_start_year(years, period.last + 1)  # the last year with data up to the period's end
    yr = results[results["year"] == year]
    used = yr[yr["unit"].isin(province.registry.xa().index)]  # the xã's results: what the shares are counted from
    scores = commune_scores(yr, province, years=[year])
    official = province.registry.official_xa_count(year) or len(scores)
    tiers = [t for t in TIER_KEYS if t in {s["tier"] for s in province.catalogs.for_year(year).sets.values()}]
    floor = min((t.min_criteria for ts in sets for t in ts.targets if t.kind == "min_criteria"), default=MIN_CRITERIA)
    with_data = scores[scores["has_data"]]
    below = with_data[with_data["ntm_met"] < floor].sort_values("ntm_met")
    names = province.registry.units["name"]
    out.update(
        nam=year,
        nhap_luc_cuoi=_vn_time(used["entered_at"].max()),
        du_lieu_mau=bool(used["sample"].any()),
        bo_tieu_chi=province.catalogs.for_year(year).id,
        mau_so=official,
        xa_co_so_lieu=int(scores["has_data"].sum()),
        xa_trong_danh_muc=len(scores),
        so_xa={TIER_KEYS[t]: share_of(scores, t) for t in tiers},
        ty_le={TIER_KEYS[t]: share_of(scores, t) / official for t in tiers},
        duoi_tieu_chi={
            "so_tieu_chi": floor,
            "so_xa": len(below),
            "xa": [{"ma": u, "ten": names[u], "so_tieu_chi_dat": int(n)} for u, n in zip(below["unit"], below["ntm_met"])],
        },
        bo_muc_tieu=[
            {"ma": ts.id, "ten": ts.name_vi, "muc_tieu": [_stated(target_state(t, scores, official)) for t in ts.targets]} for ts in sets
        ],
    )
    if year != period.last:
        out["ghi_chu"] = f"chưa có số liệu năm {period.last}: số liệu năm {year}, năm cuối có số liệu"
    return out


def milestones(results: pd.DataFrame, province: Province, period: CloseoutPeriod) -> list[dict]:
    """Every milestone of the target sets covering the period's last year, judged at that year. The period is
    over, so a milestone due in its last year is settled too: met that year is on time, not met is missed."""
    names = province.registry.units["name"]
    scores_of: dict[int, pd.DataFrame] = {}
    out = []
    for ts in target_sets_for(province.code, period.last):
        for m in ts.milestones:
            j = milestone_judgement(province, results, m, period.last, scores_of)
            if m.year == period.last and j["trang_thai"] in (MET, NOT_MET):
                settled = ON_TIME if j["trang_thai"] == MET else MISSED
                why = f"đạt năm {m.year}" if settled == ON_TIME else f"năm {m.year}, năm cuối {period.name_vi}: {j['ly_do']}"
                j = {**j, "trang_thai": settled, "trang_thai_ten": STATE_WORDS[settled], "ly_do": why}
            out.append(
                {
                    "ma": m.id,
                    "mo_ta": m.mo_ta,
                    "bo_muc_tieu": ts.id,
                    "don_vi": m.unit,
                    "ten_don_vi": names.get(m.unit, m.unit),
                    "loai": m.kind,
                    "nam_moc": m.year,
                    **{k: v for k, v in j.items() if k != "theo_nam"},
                    "theo_nam": j["theo_nam"],
                }
            )
    return out


def criteria_change(results: pd.DataFrame, province: Province, first: int, last: int) -> dict:
    """xã meeting each criterion of the NTM set in ``last`` and in ``first``, matched by criterion number."""
    cat_last, cat_first = province.catalogs.for_year(last), province.catalogs.for_year(first)
    now = criterion_report(results, province, last)
    has_first = bool(((results["year"] == first) & results["unit"].isin(province.registry.xa().index)).any())
    then = criterion_report(results, province, first) if has_first else None
    rows = []
    for r in now.itertuples(index=False):
        row = {
            "tieu_chi": r.tieu_chi,
            "ten_tieu_chi": r.ten_tieu_chi,
            "so_xa_dat": int(r.so_xa_dat),
            "so_xa_chua_dat": int(r.so_xa_chua_dat),
            "so_xa_chua_danh_gia": int(r.so_xa_chua_danh_gia),
            "ten_tieu_chi_dau": None,
            "so_xa_dat_dau": None,
            "thay_doi": None,
        }
        match = None if then is None else then[then["tieu_chi"] == r.tieu_chi]
        if match is not None and len(match):
            row.update(
                ten_tieu_chi_dau=match["ten_tieu_chi"].iloc[0],
                so_xa_dat_dau=int(match["so_xa_dat"].iloc[0]),
                thay_doi=int(r.so_xa_dat) - int(match["so_xa_dat"].iloc[0]),
            )
        rows.append(row)
    note = None
    if cat_first.id != cat_last.id:
        note = (
            f"Năm {first} đánh giá theo bộ tiêu chí {cat_first.id}, năm {last} theo {cat_last.id}: so sánh theo số thứ tự "
            "tiêu chí; nội dung và ngưỡng của hai bộ khác nhau, tên tiêu chí năm đầu ghi kèm khi khác."
        )
    if then is None:
        note = f"Không có số liệu năm {first} để so sánh."
    return {
        "nam_dau": first,
        "bo_tieu_chi_dau": cat_first.id,
        "nam_cuoi": last,
        "bo_tieu_chi_cuoi": cat_last.id,
        "ghi_chu": note,
        "dong": rows,
    }


def projections_vs_outcome(
    results: pd.DataFrame,
    recognitions: pd.DataFrame,
    province: Province,
    period: CloseoutPeriod,
    final: dict,
    verdicts: list[dict],
    runs: int,
    seed: int,
) -> list[dict]:
    """The projection from each start year to the period's last year, next to what happened: the projected mean
    share and 10–90 % band against the observed share, per tier; each target's probability against its outcome."""
    years = _xa_years(results, province, period)
    sets = target_sets_for(province.code, period.last)
    observed = final["ty_le"] if final["nam"] == period.last else None
    outcome = {t["ma"]: t["trang_thai"] for ts in final["bo_muc_tieu"] for t in ts["muc_tieu"]} if observed is not None else {}
    outcome |= {m["ma"]: m["trang_thai"] for m in verdicts}
    states = observed_states(results, province, recognitions=recognitions) if years else None
    out = []
    for start in period.projection_starts:
        entry = {"nam_bat_dau": start, "nam_dich": period.last, "so_lan_mo_phong": runs, "hat_giong": seed}
        if start not in years or start >= period.last:
            out.append({**entry, "ghi_chu": f"không có số liệu năm {start} để dự báo"})
            continue
        p = project(results, province, sets, horizon=period.last, runs=runs, seed=seed, start_year=start, states=states)
        band = p["theo_nam"][-1]
        tiers = []
        for tier, key in TIER_KEYS.items():
            projected = band.get(TIER_CODES[tier])
            if projected is None or (observed is not None and key not in observed):
                continue
            actual = None if observed is None else observed[key]
            tiers.append(
                {
                    "hang": key,
                    "hang_ten": TIER_WORDS[TIER_CODES[tier]],
                    "du_bao_trung_binh": projected["trung_binh"],
                    "du_bao_p10": projected["p10"],
                    "du_bao_p90": projected["p90"],
                    "thuc_te": actual,
                    "chenh_lech": None if actual is None else actual - projected["trung_binh"],
                    "trong_khoang_10_90": None if actual is None else bool(projected["p10"] <= actual <= projected["p90"]),
                }
            )
        goals = [
            {
                "ma": g["ma"],
                "mo_ta": g["mo_ta"],
                "xac_suat": g["xac_suat"],
                "ghi_chu": g.get("ghi_chu"),
                "thuc_te": outcome.get(g["ma"]),
                "thuc_te_ten": WORDS.get(outcome.get(g["ma"]), "chưa có số liệu"),
            }
            for g in p["muc_tieu"]
        ]
        start_sets, last_sets = (set(province.catalogs.for_year(y).sets) for y in (start, period.last))
        note = None
        if last_sets - start_sets:
            note = (
                f"bộ tiêu chí năm {start} ({province.catalogs.for_year(start).id}) không có bộ {', '.join(sorted(last_sets - start_sets))}: "
                f"các bộ này bắt đầu từ hạng được công nhận cuối năm {start}"
            )
        out.append({**entry, "khop_den_nam": start, "theo_hang": tiers, "muc_tieu": goals, "ghi_chu": note})
    return out


def closeout(store, province: Province | None = None, period: str = "2021-2025", runs: int = 1000, seed: int = 2025) -> dict:  # noqa: ANN001 - Store
    """The close-out of ``period`` as JSON-ready data, for ``province`` when it is a profile of the units the period
    was assessed on (before 1 July 2025); otherwise — none given, or a profile of the new units — for the period's
    own province (former Phú Yên, 54), which the report names."""
    spec = check_period(period)
    if province is None or province.period != "cu":
        province = load_province(spec.province)
    years = range(spec.first, spec.last + 1)
    results = store.current_results()
    in_period = results[results["year"].isin(years)]
    final = snapshot(in_period, province, spec, FINAL, None)
    at_reform = snapshot(store.current_results(as_of=spec.units_end, years=years), province, spec, AT_REFORM, spec.units_end)
    verdicts = milestones(results, province, spec)
    last = final["nam"] or spec.last
    return {
        "giai_doan": spec.code,
        "ten": f"Báo cáo tổng kết xây dựng nông thôn mới {spec.name_vi}",
        "tinh": {"ma": province.code, "ten": province.name_vi, "don_vi": province.period},
        "du_lieu_mau": bool(results["sample"].any()) if len(results) else False,
        "ghi_chu_don_vi": (
            f"Số liệu các năm {spec.first}–{spec.last} đánh giá trên đơn vị hành chính trước 1/7/2025 "
            f"(năm {spec.last} là năm đánh giá cuối cùng theo đơn vị cũ)."
        ),
        "so_lieu": [final, at_reform],
        "moc": verdicts,
        "tieu_chi": criteria_change(results, province, spec.first, last),
        "du_bao": projections_vs_outcome(results, store.recognitions(), province, spec, final, verdicts, runs, seed),
    }


def closeout_report(store, province: Province, period: str) -> dict:  # noqa: ANN001 - Store
    """For the API's response cache: ``builder(store, province, *args)``."""
    return closeout(store, province, period)


# -- rendering ----------------------------------------------------------------------------------------------
def pct(x: float | None, digits: int = 1) -> str:
    """A share as Vietnamese write it: 79,9%; — when unknown."""
    return "—" if x is None or pd.isna(x) else f"{100 * x:.{digits}f}".replace(".", ",") + "%"


def when(iso: str | None) -> str:
    """An ISO 8601 time as dd/mm/yyyy HH:MM (Vietnam time)."""
    if not iso:
        return "—"
    return datetime.fromisoformat(iso).astimezone(VN).strftime("%d/%m/%Y %H:%M") + " (giờ Việt Nam)"


#: the main table: every target against each set of figures
CSV_COLUMNS = [
    "so_lieu",
    "den_thoi_diem",
    "nam_so_lieu",
    "nhap_luc_cuoi",
    "bo_muc_tieu",
    "ma_muc_tieu",
    "mo_ta",
    "hang",
    "so_xa",
    "mau_so",
    "ty_le",
    "muc_tieu",
    "trang_thai",
    "du_lieu_mau",
]


def main_table(report: dict) -> list[dict]:
    """One row per set of figures and target: the count, the denominator, the share, the target and its state.
    For "no xã under N criteria", ``so_xa`` is the xã under N and ``mau_so`` the xã with data."""
    rows = []
    for snap in report["so_lieu"]:
        for ts in snap["bo_muc_tieu"]:
            for t in ts["muc_tieu"]:
                below = "so_xa_duoi" in t
                rows.append(
                    {
                        "so_lieu": snap["ma"],
                        "den_thoi_diem": snap["den_thoi_diem"] or "",
                        "nam_so_lieu": snap["nam"],
                        "nhap_luc_cuoi": snap["nhap_luc_cuoi"] or "",
                        "bo_muc_tieu": ts["ma"],
                        "ma_muc_tieu": t["ma"],
                        "mo_ta": t["mo_ta"],
                        "hang": "" if below else TIER_CODES.get(t.get("hang"), ""),
                        "so_xa": t["so_xa_duoi"] if below else t.get("so_xa", ""),
                        "mau_so": snap["xa_co_so_lieu"] if below else t.get("mau_so", ""),
                        "ty_le": "" if below or t.get("ty_le") is None else round(t["ty_le"], 6),
                        "muc_tieu": "" if below else t.get("muc_tieu", ""),
                        "trang_thai": t["trang_thai"],
                        "du_lieu_mau": "co" if snap["du_lieu_mau"] else "khong",
                    }
                )
    return rows


def closeout_csv(report: dict) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, CSV_COLUMNS, lineterminator="\n")
    w.writeheader()
    w.writerows(main_table(report))
    return buf.getvalue()


def _target_line(t: dict) -> str:
    state = t["trang_thai_ten"]
    if "so_xa_duoi" in t:
        missing = f"; {t['xa_chua_co_so_lieu']} xã chưa có số liệu" if t["xa_chua_co_so_lieu"] else ""
        return f"{t['mo_ta']}: {t['so_xa_duoi']} xã dưới chuẩn{missing} — {state}"
    if t.get("ty_le") is None:
        return f"{t['mo_ta']}: {state}" + (f" ({t['ly_do']})" if t.get("ly_do") else "")
    return f"{t['mo_ta']}: {t['so_xa']}/{t['mau_so']} xã = {pct(t['ty_le'])} (mục tiêu {pct(t['muc_tieu'], 0)}) — {state}"


def snapshot_heading(snap: dict) -> str:
    if snap["nam"] is None:
        return f"{snap['ten']}: {snap.get('ghi_chu', '')}"
    return f"{snap['ten']}: số liệu năm {snap['nam']} ({snap['bo_tieu_chi']}), kết quả nhập lần cuối {when(snap['nhap_luc_cuoi'])}"


def closeout_text(report: dict) -> str:
    """The close-out as a readable Vietnamese text report."""
    lines = [f"*** {SAMPLE_LABEL_VI} ***", ""] if report["du_lieu_mau"] else []
    lines += [f"{report['ten'].upper()} — {report['tinh']['ten']} (mã {report['tinh']['ma']})", report["ghi_chu_don_vi"], ""]
    for i, snap in enumerate(report["so_lieu"], 1):
        lines.append(f"{i}. {snapshot_heading(snap)}")
        if snap["nam"] is None:
            lines.append("")
            continue
        if snap.get("ghi_chu"):
            lines.append(f"   Lưu ý: {snap['ghi_chu']}.")
        if snap["du_lieu_mau"]:
            lines.append(f"   ({SAMPLE_LABEL_VI})")
        shares = "; ".join(
            f"{TIER_WORDS[TIER_CODES[t]]} {snap['so_xa'][t]}/{snap['mau_so']} = {pct(snap['ty_le'][t])}" for t in snap["ty_le"]
        )
        lines.append(f"   Số xã (mẫu số: {snap['mau_so']} xã chính thức; {snap['xa_co_so_lieu']} xã có số liệu): {shares}")
        for ts in snap["bo_muc_tieu"]:
            lines.append(f"   {ts['ten']}:")
            lines += [f"     - {_target_line(t)}" for t in ts["muc_tieu"]]
        d = snap["duoi_tieu_chi"]
        listed = ", ".join(f"{x['ten']} ({x['so_tieu_chi_dat']})" for x in d["xa"][:20]) + (" …" if len(d["xa"]) > 20 else "")
        lines.append(f"   Xã dưới {d['so_tieu_chi']} tiêu chí: {d['so_xa']}" + (f": {listed}" if d["xa"] else ""))
        lines.append("")
    lines.append(f"{len(report['so_lieu']) + 1}. Các mốc của huyện, thị xã (đánh giá năm {CLOSEOUT_PERIODS[report['giai_doan']].last})")
    for m in report["moc"]:
        lines.append(f"   - {m['mo_ta']}: {m['trang_thai_ten'].upper()} — {m['ly_do']}")
    if not report["moc"]:
        lines.append("   (không có mốc)")
    c = report["tieu_chi"]
    lines += ["", f"{len(report['so_lieu']) + 2}. Số xã đạt từng tiêu chí năm {c['nam_cuoi']} so với năm {c['nam_dau']}"]
    if c["ghi_chu"]:
        lines.append(f"   {c['ghi_chu']}")
    table = pd.DataFrame(
        [
            {
                "TC": r["tieu_chi"],
                "Tên tiêu chí": r["ten_tieu_chi"]
                + (f" (năm đầu: {r['ten_tieu_chi_dau']})" if r["ten_tieu_chi_dau"] not in (None, r["ten_tieu_chi"]) else ""),
                f"Đạt {c['nam_cuoi']}": r["so_xa_dat"],
                "Chưa đạt": r["so_xa_chua_dat"],
                "Chưa đánh giá": r["so_xa_chua_danh_gia"],
                f"Đạt {c['nam_dau']}": "—" if r["so_xa_dat_dau"] is None else r["so_xa_dat_dau"],
                "Thay đổi": "—" if r["thay_doi"] is None else f"{r['thay_doi']:+d}",
            }
            for r in c["dong"]
        ]
    )
    width = int(table["Tên tiêu chí"].str.len().max()) if len(table) else 0
    text = table.to_string(index=False, justify="left", formatters={"Tên tiêu chí": lambda v: f"{v:<{width}}"})
    lines += ["   " + line for line in text.splitlines()]
    lines += ["", f"{len(report['so_lieu']) + 3}. Dự báo trước đây so với thực tế"]
    for p in report["du_bao"]:
        head = f"   Dự báo từ số liệu năm {p['nam_bat_dau']} đến {p['nam_dich']}"
        if "theo_hang" not in p:
            lines.append(f"{head}: {p['ghi_chu']}")
            continue
        lines.append(f"{head} ({p['so_lan_mo_phong']} lần mô phỏng, hạt giống {p['hat_giong']}):")
        if p["ghi_chu"]:
            lines.append(f"     ({p['ghi_chu']})")
        for t in p["theo_hang"]:
            inside = "" if t["trong_khoang_10_90"] is None else (" — trong khoảng" if t["trong_khoang_10_90"] else " — ngoài khoảng")
            lines.append(
                f"     {t['hang_ten']}: dự báo {pct(t['du_bao_trung_binh'])} (10–90%: {pct(t['du_bao_p10'])}–{pct(t['du_bao_p90'])}), "
                f"thực tế {pct(t['thuc_te'])}{inside}"
            )
        for g in p["muc_tieu"]:
            lines.append(f"     {pct(g['xac_suat'], 0):>5} xác suất dự báo — thực tế: {g['thuc_te_ten']} — {g['mo_ta']}")
    return "\n".join(lines) + "\n"


def _environment() -> Environment:
    return Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)


def closeout_html(report: dict) -> str:
    """A printable HTML page (A4 landscape) from nongthon/templates/tong_ket.html; every text is escaped."""
    source = resources.files(__package__).joinpath("templates", "tong_ket.html").read_text(encoding="utf-8")
    template = _environment().from_string(source)
    return template.render(
        r=report,
        sample_label=SAMPLE_LABEL_VI,
        pct=pct,
        when=when,
        heading=snapshot_heading,
        target_line=_target_line,
        tier_words={k: TIER_WORDS[TIER_CODES[k]] for k in TIER_KEYS},
        state_words=WORDS,
        good={MET, ON_TIME},
        bad={NOT_MET, MISSED},
        unknown={NOT_EVALUATED},
        last_year=CLOSEOUT_PERIODS[report["giai_doan"]].last,
    )
