"""Where the province stands against its targets and milestones, year by year, from the assessed tiers.

A district-level unit meets ``huyen_ntm`` in a year when 100 % of its xã are NTM, at least 10 % advanced and
all its district criteria (320/QĐ-TTg, recorded for the district) are met; ``hoan_thanh`` when 100 % of its xã
are NTM and its own conditions are recorded met. Each milestone and year is met / not met / not evaluated,
with the reason in words ("2 xã chưa đạt: An Xuân, An Lĩnh"). A condition that no result decides is
"not evaluated", never a silent pass.
"""

from __future__ import annotations

import math

import pandas as pd

from .province import Province
from .reports import district_items
from .scoring import TIER_RANK, commune_scores
from .targets import TIERS, Milestone, Target, TargetSet, measure, target_sets_for

MET, NOT_MET, NOT_EVALUATED = "dat", "khong_dat", "chua_danh_gia"


def share_of(scores: pd.DataFrame, tier: str) -> int:
    """xã at ``tier`` or above (cumulative, as officials count)."""
    return int((scores["tier"].map(TIER_RANK) >= TIER_RANK[tier]).sum())


def target_state(target: Target, scores: pd.DataFrame, denominator: int) -> dict:
    """A target against one year's scores (of that year's eligible xã): a share of ``denominator`` (the eligible xã),
    or of the xã at the tier ``target.of`` (not evaluated while there are none); a count of xã; or, for a described
    target, not evaluated with its reason."""
    if target.kind == "min_criteria":
        with_data = scores[scores["has_data"]]
        below = int((with_data["ntm_met"] < target.min_criteria).sum())
        missing = int((~scores["has_data"]).sum())
        state = NOT_MET if below else (NOT_EVALUATED if missing else MET)
        return {"ma": target.id, "mo_ta": target.mo_ta, "trang_thai": state, "so_xa_duoi": below, "xa_chua_co_so_lieu": missing}
    if target.kind == "described":  # not measurable from one province's xã (5 provinces completing the task)
        return {"ma": target.id, "mo_ta": target.mo_ta, "nam_muc_tieu": target.year, "trang_thai": NOT_EVALUATED, "ly_do": target.note}
    tiers = {t for t in (target.tier, target.of) if t is not None}
    count, denominator, met = measure(target, {t: share_of(scores, t) for t in tiers}, denominator)  # the one rule
    count, state = int(count), MET if bool(met) else NOT_MET
    if target.kind == "count":
        return {
            "ma": target.id,
            "mo_ta": target.mo_ta,
            "hang": target.tier,
            "so_xa": count,
            "muc_tieu_so_xa": target.count,
            "nam_muc_tieu": target.year,
            "trang_thai": state,
        }
    denominator = int(denominator)
    return {
        "ma": target.id,
        "mo_ta": target.mo_ta,
        "hang": target.tier,
        "so_xa": count,
        "mau_so": denominator,
        "mau_so_la": target.of,  # None: every eligible xã of the year; a tier: the xã at that tier or above
        "ty_le": count / denominator if denominator else float("nan"),
        "muc_tieu": target.share,
        "nam_muc_tieu": target.year,
        "trang_thai": NOT_EVALUATED if target.of is not None and not denominator else state,
    }


def district_state(
    province: Province, results: pd.DataFrame, scores: pd.DataFrame, district: str, year: int, district_set: str
) -> tuple[str, str]:
    """(state, reason) of a district-level unit in a year against a district set."""
    reg = province.registry
    cat = province.catalogs.for_year(year)
    spec = cat.district_sets.get(district_set)
    xa = scores[scores["unit"].map(reg.units["district_code"]) == district]
    names = reg.units["name_short"]
    reasons, unknown = [], []
    no_data = xa[~xa["has_data"]]
    not_ntm = xa[xa["has_data"] & (xa["tier"].map(TIER_RANK) < TIER_RANK["ntm"])]
    if len(not_ntm):
        reasons.append(f"{len(not_ntm)} xã chưa đạt chuẩn: {', '.join(names[u] for u in not_ntm['unit'])}")
    if len(no_data):
        unknown.append(f"{len(no_data)} xã chưa có số liệu: {', '.join(names[u] for u in no_data['unit'])}")
    advanced_share = spec["advanced_share"] if spec else (0.10 if district_set == "huyen_ntm" else 0.0)
    if advanced_share > 0:
        need = math.ceil(advanced_share * len(xa) - 1e-9)
        have = share_of(xa, "advanced") if "nang_cao" in cat.sets else None
        if have is None:
            unknown.append(f"bộ tiêu chí {cat.id} không có bộ nâng cao để đánh giá {advanced_share:.0%} số xã nâng cao")
        elif have + len(no_data) < need:  # even the xã without data could not make up the number
            reasons.append(f"cần ít nhất {need} xã NTM nâng cao, mới có {have}")
        elif have < need:
            unknown.append(f"cần ít nhất {need} xã NTM nâng cao, có {have} (chưa tính {len(no_data)} xã chưa có số liệu)")
    if spec is None:
        unknown.append(f"bộ tiêu chí {cat.id} không có tiêu chí cấp huyện ({district_set}) trong danh mục")
    else:
        items = district_items(results, cat, district, district_set, year)
        for kind, words in (("criterion", "tiêu chí cấp huyện"), ("condition", "điều kiện cấp huyện")):
            of_kind = items[items["kind"] == kind]
            failed = of_kind[of_kind["state"] == NOT_MET]
            shown = [f"{c}. {n}" if kind == "criterion" else n for c, n in zip(failed["criterion"], failed["name_vi"])]
            missing = int((of_kind["state"] == NOT_EVALUATED).sum())
            if shown:
                reasons.append(f"{words} chưa đạt: {'; '.join(shown)}")
            if missing:
                unknown.append(f"{words} chưa đánh giá: {missing}/{len(of_kind)}")
    if reasons:
        return NOT_MET, "; ".join(reasons + unknown)
    if unknown:
        return NOT_EVALUATED, "; ".join(unknown)
    return MET, "đạt mọi điều kiện"


def milestone_states(
    province: Province, results: pd.DataFrame, milestone: Milestone, years: list[int], scores_of: dict[int, pd.DataFrame] | None = None
) -> list[dict]:
    """One milestone for each year: met / not met / not evaluated, with the reason. ``scores_of`` keeps each year's
    commune scores between calls on the same results (several milestones look at the same years)."""
    scores_of = {} if scores_of is None else scores_of
    out = []
    for y in years:
        if not province.catalogs.covers(y):
            continue
        if y not in scores_of:
            scores_of[y] = commune_scores(results[results["year"] == y], province, years=[y])
        scores = scores_of[y]
        state, reason = district_state(province, results, scores, milestone.unit, y, milestone.district_set)
        out.append({"nam": y, "trang_thai": state, "ly_do": reason})
    return out


#: the verdict on a dated milestone once its year has passed; before that, the year's own state (MET / NOT_MET /
#: NOT_EVALUATED) says where the unit stands
ON_TIME, LATE, MISSED = "dat_dung_han", "dat_muon", "khong_dat_dung_han"
STATE_WORDS = {
    MET: "đạt",
    NOT_MET: "chưa đạt",
    NOT_EVALUATED: "chưa đánh giá",
    ON_TIME: "đạt đúng hạn",
    LATE: "đạt muộn",
    MISSED: "không đạt đúng hạn",
}


def milestone_judgement(
    province: Province, results: pd.DataFrame, milestone: Milestone, year: int, scores_of: dict[int, pd.DataFrame] | None = None
) -> dict:
    """A milestone seen from ``year``. Up to its year it is the state of the year being viewed. After its year
    it is judged at its year: met on time, met late (and in which year), or missed — a success after the year
    is never plain "đạt". A ``giu_huyen_ntm`` milestone (keep the standard from ``from_year`` to its year) is
    judged over every year of that span."""
    first = (milestone.from_year or milestone.year) if milestone.kind == "giu_huyen_ntm" else milestone.year
    if year < first:
        span = [year]
    elif milestone.kind == "giu_huyen_ntm":
        span = list(range(first, min(year, milestone.year) + 1))
    else:
        span = list(range(milestone.year, year + 1)) if year > milestone.year else [year]
    states = milestone_states(province, results, milestone, span, scores_of)
    if not states:
        return {"nam": year, "trang_thai": NOT_EVALUATED, "ly_do": "năm ngoài bộ tiêu chí", "theo_nam": []}
    due = {s["nam"]: s for s in states}
    verdict: dict = {"nam": year, "theo_nam": states}
    if milestone.kind == "giu_huyen_ntm" and year >= first:
        # keeping the standard every year: a lost year is a miss for good; after the span, kept throughout is on time
        lost = [s for s in states if s["trang_thai"] == NOT_MET]
        unknown = [s for s in states if s["trang_thai"] == NOT_EVALUATED]
        if lost and (lost[0]["nam"] < year or year >= milestone.year):
            verdict.update(trang_thai=MISSED, ly_do=f"không giữ được chuẩn năm {lost[0]['nam']}: {lost[0]['ly_do']}")
        elif lost:
            verdict.update(trang_thai=NOT_MET, ly_do=lost[0]["ly_do"])
        elif year >= milestone.year and not unknown:
            verdict.update(trang_thai=ON_TIME, ly_do=f"giữ chuẩn mọi năm {first}–{milestone.year}")
        elif unknown and (year >= milestone.year or unknown[-1]["nam"] == year):
            verdict.update(trang_thai=NOT_EVALUATED, ly_do="; ".join(f"năm {s['nam']}: {s['ly_do']}" for s in unknown))
        else:
            verdict.update(trang_thai=states[-1]["trang_thai"], ly_do=states[-1]["ly_do"])
    elif year <= milestone.year:
        verdict.update(trang_thai=states[-1]["trang_thai"], ly_do=states[-1]["ly_do"])
    else:
        at_year = due.get(milestone.year)
        later = [s for s in states if s["nam"] > milestone.year and s["trang_thai"] == MET]
        if at_year is not None and at_year["trang_thai"] == MET:
            verdict.update(trang_thai=ON_TIME, ly_do=f"đạt năm {milestone.year}")
        elif later:
            when = later[0]["nam"]
            why = f"năm {milestone.year}: {at_year['ly_do']}" if at_year else f"năm {milestone.year} chưa đánh giá"
            verdict.update(trang_thai=LATE, nam_dat=when, ly_do=f"đạt năm {when}, muộn {when - milestone.year} năm ({why})")
        elif at_year is not None and at_year["trang_thai"] == NOT_MET:
            verdict.update(trang_thai=MISSED, ly_do=f"năm {milestone.year}: {at_year['ly_do']}")
        else:
            why = at_year["ly_do"] if at_year else "không có số liệu"
            verdict.update(trang_thai=NOT_EVALUATED, ly_do=f"năm {milestone.year}: {why}")
    verdict["trang_thai_ten"] = STATE_WORDS[verdict["trang_thai"]]
    return verdict


def milestones_by_unit(results: pd.DataFrame, province: Province, year: int) -> dict[str, list[dict]]:
    """Every milestone of the target sets that cover ``year``, seen from that year, by district-level unit."""
    out: dict[str, list[dict]] = {}
    scores_of: dict[int, pd.DataFrame] = {}
    for ts in target_sets_for(province.code, year):
        for m in ts.milestones:
            j = milestone_judgement(province, results, m, year, scores_of)
            out.setdefault(m.unit, []).append(
                {"ma": m.id, "mo_ta": m.mo_ta, "nam_moc": m.year, **{k: v for k, v in j.items() if k != "theo_nam"}}
            )
    return out


def progress(results: pd.DataFrame, province: Province, year: int, target_sets: list[TargetSet]) -> dict:
    """Actual shares and states in ``year`` against every target and milestone of the given target sets."""
    chain = province.catalogs.for_year(year).tier_chain()
    yr = results[results["year"] == year]
    scores = commune_scores(yr, province, years=[year])
    official = province.registry.official_xa_count(year) or len(scores)
    out = {
        "nam": year,
        "du_lieu_mau": bool(results["sample"].any()) if "sample" in results else False,
        "mau_so": official,
        "xa_co_so_lieu": int(scores["has_data"].sum()),
        "xa_trong_danh_muc": len(scores),
        # a tier the year's catalogue does not have is not evaluated (None), never 0
        "ty_le": {tier: share_of(scores, tier) / official if tier in chain else None for tier in TIERS},
        "bo_muc_tieu": [],
    }
    scores_of = {year: scores}
    for ts in target_sets:
        entry = {"ma": ts.id, "ten": ts.name_vi, "muc_tieu": [target_state(t, scores, official) for t in ts.targets], "moc": []}
        for m in ts.milestones:
            j = milestone_judgement(province, results, m, year, scores_of)
            entry["moc"].append({"ma": m.id, "mo_ta": m.mo_ta, "don_vi": m.unit, "loai": m.kind, "nam_moc": m.year, **j})
        out["bo_muc_tieu"].append(entry)
    return out


def progress_report(store, province: Province, year: int, as_of=None) -> dict:  # noqa: ANN001 - Store, datetime
    """Progress of the store's results in ``year`` against every target set that covers the year (for the API)."""
    return progress(store.current_results(as_of=as_of), province, year, target_sets_for(province.code, year))
