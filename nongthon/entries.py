"""Data entry by the office: one commune-year's results (with its version, for safe concurrent edits),
recognition decisions, and the audit trail of a commune. Permission checks happen here, in the library,
so that the API and any other front end apply the same rules."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import pandas as pd

from . import imports
from .accounts import NotAllowed, User, district_level_refusal
from .criteria import TIER_CODES
from .deployment import Deployment
from .errors import ImportRejected, NongthonError, RowError, UnknownUnit, clip
from .province import Province
from .store import Store, WriteSummary
from .text import LONG_TEXT, SHORT_TEXT, limited, nfc
from .units import period_of_year
from .validation import met_code, result_value, validate_rows

TIER_BY_CODE = {code: tier for tier, code in TIER_CODES.items() if tier != "none"}
CODE_BY_TIER = {v: k for k, v in TIER_BY_CODE.items()}
ACTIONS = {"cong_nhan": "recognise", "thu_hoi": "revoke"}


@dataclass(frozen=True)
class Recorded:
    summary: WriteSummary
    version: int  # the commune-year's version after the write
    etag: str  # its entity tag, as GET answers it


@dataclass(frozen=True)
class Decision:
    id: int  # the id answered when the decision was first recorded
    new: bool  # False when the same decision was already recorded: nothing was written
    message: str = ""  # for a decision already recorded: which one, and that nothing was written


class PreconditionFailed(NongthonError):
    """An If-Match that names no current tag of the commune-year (HTTP 412): nothing is written."""


def etag(code: str, year: int, version: int) -> str:
    """The entity tag of a commune-year: code, year and version, so that no other commune-year's tag
    (nor a layer's) can match by chance."""
    return f'"{code}-{year}-{version}"'


def parse_etag(tag: str, code: str, year: int) -> int | None:
    """The version named by one entity tag of this commune-year (``"22303-2024-12"``), or None for any other
    tag. Tags compare strongly for If-Match (RFC 9110 §13.1.1): a weak tag ``W/"…"`` names nothing, and
    neither does another commune-year's tag, ``-012`` or a number longer than any version (18 digits)."""
    m = re.fullmatch(re.escape(f'"{code}-{year}-') + r'(0|[1-9][0-9]{0,17})"', tag.strip())
    return int(m[1]) if m else None


def matched_version(store: Store, code: str, year: int, if_match: str) -> int | None:
    """The current version of the commune-year when the If-Match value names its tag, None for ``*`` on a
    commune-year that exists; PreconditionFailed otherwise.

    A commune-year *exists* once something was recorded for it (version ≥ 1, by import, sample or edit):
    versions only grow, so ``*`` stays true until the write. Before that, GET still answers with no results
    and the tag of version 0; send that tag to write the first results, as ``*`` never creates one."""
    current = store.version(code, year)
    url = f"GET /api/communes/{code}/assessments/{year}"
    if if_match.strip() == "*":
        if current > 0:
            return None
        raise PreconditionFailed(
            f"If-Match: * chỉ khớp khi xã {code} năm {year} đã có kết quả, nhưng xã-năm này chưa có kết quả nào; "
            f"hãy gửi If-Match: {etag(code, year, 0)} (ETag nhận từ {url}) để ghi kết quả đầu tiên. Không có gì được ghi."
        )
    named = [v for v in (parse_etag(t, code, year) for t in if_match.split(",")) if v is not None]
    if current in named:
        return current
    why = " (đã được sửa bởi người khác sau khi bạn đọc)" if named and max(named) < current else ""
    shown = if_match if len(if_match) <= 40 else if_match[:40] + "…"
    raise PreconditionFailed(
        f"Tiêu đề If-Match: {shown or '(để trống)'} không phải ETag hiện tại của xã {code} năm {year}{why}; cần đúng ETag nhận từ {url} "
        f"(dạng {etag(code, year, 12)}, có dấu ngoặc kép, không có W/ — thẻ yếu không bao giờ khớp). "
        "Không có gì được ghi: hãy tải lại số liệu rồi sửa tiếp."
    )


def commune_unit(province: Province, code: str) -> pd.Series:
    """The registry row of a commune-level unit; UnknownUnit (saying what a code looks like) otherwise."""
    units = province.registry.units
    if code not in units.index or units.at[code, "level"] != "commune":
        raise UnknownUnit(
            f"Không có xã/phường/thị trấn mã {clip(code)!r} trong danh mục {province.registry.province_name}; mã gồm 5 chữ số, ví dụ 22303."
        )
    return units.loc[code]


def current_assessments(store: Store, province: Province, code: str, year: int) -> dict:
    """The current results of one commune-year, in the interchange vocabulary, with its ETag."""
    commune_unit(province, code)
    province.catalogs.for_year(year)
    cur = store.current_results(years=[year], units=[code])
    items = [
        {
            "bo_tieu_chi": r.tier_set,
            "tieu_chi": r.item,
            "cap": r.level,
            "ket_qua": met_code(r.met) if not pd.isna(r.met) else float(r.value),
            "nguoi_nhap": r.author,
            "thoi_gian": r.entered_at.isoformat(),
        }
        for r in cur.sort_values(["tier_set", "level", "item"]).itertuples()
    ]
    return {"ma": code, "nam": year, "phien_ban": store.version(code, year), "du_lieu_mau": bool(cur["sample"].any()), "ket_qua": items}


def record_results(
    store: Store,
    province: Province,
    user: User,
    code: str,
    year: int,
    items: list[dict],
    *,
    if_match: str,
    source: str,
    note: str | None = None,
) -> Recorded:
    """Write one commune-year's results if ``if_match`` (``*`` or a list of entity tags, as HTTP's If-Match)
    names its current version (see ``matched_version``); checked after the unit, the permission and the
    year, and again under the write lock, so a write in between still ends in StaleVersion."""
    commune_unit(province, code)
    user.check_write(province.registry, code)
    province.catalogs.for_year(year)
    expected = matched_version(store, code, year, if_match)
    if not items:
        raise ImportRejected("yêu cầu", [RowError(0, "ket_qua", "[]", "cần ít nhất một kết quả {bo_tieu_chi, tieu_chi, ket_qua}")])
    shape = [
        RowError(i + 1, f"ket_qua[{i}]", str(it), "mỗi kết quả là một đối tượng {bo_tieu_chi, tieu_chi, ket_qua}")
        for i, it in enumerate(items)
        if not isinstance(it, dict)
    ]
    if shape:
        raise ImportRejected("yêu cầu", shape)
    note = _note(note)
    source = limited(source, "nguon", LONG_TEXT)
    df = pd.DataFrame(
        [
            {
                "ma_xa": code,
                "nam": str(year),
                "bo_tieu_chi": nfc(str(it.get("bo_tieu_chi", ""))),
                "tieu_chi": nfc(str(it.get("tieu_chi", ""))),
                "ket_qua": nfc(str(it.get("ket_qua", ""))),
                "row": i + 1,
                "col_ket_qua": f"ket_qua[{i}].ket_qua",
                "col_tieu_chi": f"ket_qua[{i}].tieu_chi",
                "col_bo_tieu_chi": f"ket_qua[{i}].bo_tieu_chi",
            }
            for i, it in enumerate(items)
        ]
    )
    rows = validate_rows(df, "yêu cầu", province)
    summary = store.write_results(
        rows,
        source=source,
        author=user.name,
        kind="edit",
        note=nfc(note) if note else None,
        expected_versions={} if expected is None else {(code, year): expected},
    )
    version = store.version(code, year)
    return Recorded(summary, version, etag(code, year, version))


def record_recognition(store: Store, province: Province, user: User, payload: dict) -> Decision:
    """An official decision: recognise (cong_nhan) or revoke (thu_hoi) a tier of a xã, dated in a year of the
    programme (a year some catalogue covers). Idempotent: the same decision (xã, tier, action, number and date)
    sent again is not recorded twice; the answer names the one already recorded (``Decision.new`` False)."""
    code = str(payload.get("ma", ""))
    unit = commune_unit(province, code)
    if unit["unit_type"] != "xa":
        raise NongthonError(f"{unit['name']} không phải xã; chỉ xã được công nhận nông thôn mới")
    user.check_write(province.registry, code)
    tier = TIER_BY_CODE.get(str(payload.get("hang")))
    if tier is None:
        raise NongthonError(f"hang={clip(repr(payload.get('hang')))} không hợp lệ; chọn: {', '.join(TIER_BY_CODE)}")
    action = ACTIONS.get(str(payload.get("thao_tac", "cong_nhan")))
    if action is None:
        raise NongthonError(f"thao_tac={clip(repr(payload.get('thao_tac')))} không hợp lệ; chọn: {', '.join(ACTIONS)}")
    number = limited(str(payload.get("so_quyet_dinh", "")), "so_quyet_dinh", SHORT_TEXT)
    if not number:
        raise NongthonError("so_quyet_dinh là bắt buộc (ví dụ 1234/QĐ-UBND)")
    try:  # NĂM-THÁNG-NGÀY only: fromisoformat also reads 20241220 (a JSON number, too) and week dates 2024-W51-5
        if not isinstance(payload.get("ngay"), str) or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", payload["ngay"]):
            raise ValueError
        day = date.fromisoformat(payload["ngay"])
    except ValueError:
        raise NongthonError(f"ngay={clip(repr(payload.get('ngay')))} không hợp lệ; dùng dạng NĂM-THÁNG-NGÀY, ví dụ 2024-12-20") from None
    years = province.catalogs.years()
    if not years[0] <= day.year <= years[-1]:
        raise NongthonError(
            f"ngay={day.isoformat()!r} nằm ngoài các năm của chương trình; ngày quyết định phải trong các năm {years[0]}–{years[-1]} "
            f"(những năm có bộ tiêu chí: {province.catalogs.years_text()})"
        )
    note = _note(payload.get("ghi_chu"))
    rec = store.recognitions()
    same = rec[(rec["unit"] == code) & (rec["tier"] == tier) & (rec["action"] == action) & (rec["decision_number"] == number)]
    same = same[same["decision_date"] == day]
    if len(same):
        rid = int(same["batch_id"].iloc[0])
        said = f"Quyết định {number} ngày {day.isoformat()} của xã {code} đã được ghi (id {rid}); không ghi thêm."
        return Decision(rid, new=False, message=said)
    rid = store.add_recognition(
        code, tier, number, day, action=action, source=f"quyết định {number}", author=user.name, note=nfc(note) if note else None
    )
    return Decision(rid, new=True)


def _note(x: object) -> str | None:
    """A note from a request: text of at most LONG_TEXT characters, or nothing."""
    if x is None or x == "":
        return None
    if not isinstance(x, str):
        raise NongthonError(f"ghi_chu={clip(repr(x))} phải là một chuỗi văn bản")
    return limited(x, "ghi_chu", LONG_TEXT) or None


def _text(x: object) -> str | None:
    return None if x is None or (isinstance(x, float) and pd.isna(x)) else str(x)


_word = result_value


def history(store: Store, province: Province, code: str) -> dict:
    """Who changed what, when, from what to what, the source and the note — newest first."""
    unit = commune_unit(province, code)
    ch = store.changes(code)
    rec = store.recognitions()
    rec = rec[rec["unit"] == code]
    return {
        "ma": code,
        "ten": unit["name"],
        "thay_doi": [
            {
                "thoi_gian": r.entered_at.isoformat(),
                "nguoi_nhap": r.author,
                "nam": int(r.year),
                "bo_tieu_chi": r.tier_set,
                "cap": r.level,
                "tieu_chi": r.item,
                "tu": _word(r.met_before, r.value_before),
                "thanh": _word(r.met, r.value),
                "nguon": r.source,
                "ghi_chu": _text(r.note),
                "du_lieu_mau": bool(r.sample),
            }
            for r in ch.itertuples()
        ],
        "quyet_dinh": [
            {
                "thoi_gian": r.entered_at.isoformat(),
                "nguoi_nhap": r.author,
                "hang": CODE_BY_TIER[r.tier],
                "thao_tac": "cong_nhan" if r.action == "recognise" else "thu_hoi",
                "so_quyet_dinh": r.decision_number,
                "ngay": r.decision_date.isoformat(),
                "ghi_chu": _text(r.note),
            }
            for r in rec.sort_values("id", ascending=False).itertuples()
        ],
    }


def district_guard(user: User, province: Province | Deployment) -> Callable[[pd.DataFrame], None] | None:
    """For an editor: a check that refuses a write changing the results of a district-level unit (admin only,
    see ``User.check_write``) or, for an editor limited to a district, of any xã outside it (the editor may
    send the province's workbook, but change only its own xã). None for an admin. For a deployment, the rows of
    the new units (no district level) are checked against the new units: an editor limited to a district of the
    old units writes no row of them."""
    if user.role == "admin":
        return None
    if isinstance(province, Deployment):
        by_period = {
            period: pd.concat([p.registry.units for p in province.provinces if p.period == period])
            for period in {p.period for p in province.provinces}
        }

        def by_units(to_write: pd.DataFrame) -> None:
            for period, rows in to_write.groupby(to_write["year"].map(lambda y: period_of_year(int(y)))):
                _check_district(user, by_period[period], rows)

        return by_units
    units = province.registry.units
    return lambda to_write: _check_district(user, units, to_write)


def _check_district(user: User, units: pd.DataFrame, to_write: pd.DataFrame) -> None:
    district_level = sorted(u for u in set(to_write["unit"]) if units.at[u, "level"] != "commune")
    if district_level:
        raise NotAllowed(district_level_refusal(user.name, [f"{units.at[u, 'name']} ({u})" for u in district_level]))
    if not user.district:
        return
    outside = sorted(u for u in set(to_write["unit"]) if units.at[u, "district_code"] != user.district)
    if outside:
        names = ", ".join(f"{units.at[u, 'name']} ({u})" for u in outside[:10])
        district = units.at[user.district, "name"] if user.district in units.index else f"huyện mã {user.district} (đơn vị cũ)"
        raise NotAllowed(
            f"Tài khoản {user.name} chỉ được sửa số liệu của {district}; "
            f"tệp thay đổi {len(outside)} xã ngoài phạm vi: {names}{' …' if len(outside) > 10 else ''}. Không có gì được ghi."
        )


def import_file(
    store: Store, province: Province | Deployment, user: User, data: bytes, filename: str, *, dry_run: bool = False, note: str | None = None
) -> dict:
    """An uploaded workbook (.xlsx) or interchange CSV, through the same import path as ``nongthon import``
    (``imports.import_file``), for a user allowed to write; an editor limited to a district may change only
    its xã. The answer is the import's report."""
    user.check_write((province.served()[0] if isinstance(province, Deployment) else province).registry)
    result = imports.import_file(
        store, province, data, filename, author=user.name, note=note, dry_run=dry_run, guard=district_guard(user, province)
    )
    return result.report(province)
