"""Data entry by the office: one commune-year's results (with its version, for safe concurrent edits),
recognition decisions, and the audit trail of a commune. Permission checks happen here, in the library,
so that the API and any other front end apply the same rules."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import date

import pandas as pd

from .accounts import NotAllowed, User
from .errors import ImportRejected, NongthonError, RowError, UnknownUnit
from .imports import validate_rows
from .province import Province
from .store import Store, WriteSummary
from .text import nfc

TIER_BY_CODE = {"ntm": "ntm", "nang_cao": "advanced", "kieu_mau": "model"}
CODE_BY_TIER = {v: k for k, v in TIER_BY_CODE.items()}
ACTIONS = {"cong_nhan": "recognise", "thu_hoi": "revoke"}


@dataclass(frozen=True)
class Recorded:
    summary: WriteSummary
    version: int  # the commune-year's version after the write

    @property
    def etag(self) -> str:
        return f'"{self.version}"'


def parse_etag(value: str) -> int | None:
    text = value.strip().removeprefix("W/").strip('"')
    return int(text) if text.isdigit() else None


def commune_unit(province: Province, code: str) -> pd.Series:
    """The registry row of a commune-level unit; UnknownUnit (saying what a code looks like) otherwise."""
    units = province.registry.units
    if code not in units.index or units.at[code, "level"] != "commune":
        raise UnknownUnit(
            f"Không có xã/phường/thị trấn mã {code!r} trong danh mục {province.registry.province_name}; mã gồm 5 chữ số, ví dụ 22303."
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
            "ket_qua": ("dat" if bool(r.met) else "khong_dat") if not pd.isna(r.met) else float(r.value),
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
    expected_version: int,
    source: str,
    note: str | None = None,
) -> Recorded:
    """Write one commune-year's results if ``expected_version`` is still current (else StaleVersion)."""
    commune_unit(province, code)
    user.check_write(province.registry, code)
    province.catalogs.for_year(year)
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
        source=nfc(source),
        author=user.name,
        kind="edit",
        note=nfc(note) if note else None,
        expected_versions={(code, year): expected_version},
    )
    return Recorded(summary, store.version(code, year))


def record_recognition(store: Store, province: Province, user: User, payload: dict) -> int:
    """An official decision: recognise (cong_nhan) or revoke (thu_hoi) a tier of a xã."""
    code = str(payload.get("ma", ""))
    unit = commune_unit(province, code)
    if unit["unit_type"] != "xa":
        raise NongthonError(f"{unit['name']} không phải xã; chỉ xã được công nhận nông thôn mới")
    user.check_write(province.registry, code)
    tier = TIER_BY_CODE.get(str(payload.get("hang")))
    if tier is None:
        raise NongthonError(f"hang={payload.get('hang')!r} không hợp lệ; chọn: {', '.join(TIER_BY_CODE)}")
    action = ACTIONS.get(str(payload.get("thao_tac", "cong_nhan")))
    if action is None:
        raise NongthonError(f"thao_tac={payload.get('thao_tac')!r} không hợp lệ; chọn: {', '.join(ACTIONS)}")
    number = nfc(str(payload.get("so_quyet_dinh", "")))
    if not number:
        raise NongthonError("so_quyet_dinh là bắt buộc (ví dụ 1234/QĐ-UBND)")
    try:
        day = date.fromisoformat(str(payload.get("ngay")))
    except ValueError:
        raise NongthonError(f"ngay={payload.get('ngay')!r} không hợp lệ; dùng dạng NĂM-THÁNG-NGÀY, ví dụ 2024-12-20") from None
    note = _note(payload.get("ghi_chu"))
    return store.add_recognition(
        code, tier, number, day, action=action, source=f"quyết định {number}", author=user.name, note=nfc(note) if note else None
    )


def _note(x: object) -> str | None:
    """A note from a request: text or nothing."""
    if x is None or x == "":
        return None
    if not isinstance(x, str):
        raise NongthonError(f"ghi_chu={x!r} phải là một chuỗi văn bản")
    return nfc(x)


def _text(x: object) -> str | None:
    return None if x is None or (isinstance(x, float) and pd.isna(x)) else str(x)


def _word(met: object, value: object) -> str | float | None:
    if met is not None and not pd.isna(met):
        return "dat" if bool(met) else "khong_dat"
    if value is not None and not pd.isna(value):
        return float(value)
    return None


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


def is_workbook(data: bytes, filename: str = "") -> bool:
    """A workbook by its content (a zip) or by its name (so that a broken .xlsx is reported as a workbook)."""
    return data[:4] == b"PK\x03\x04" or filename.lower().endswith((".xlsx", ".xlsm"))


def import_file(
    store: Store, province: Province, user: User, data: bytes, filename: str, *, dry_run: bool = False, note: str | None = None
) -> dict:
    """An uploaded workbook (.xlsx) or interchange CSV: validated whole, then written in one transaction
    (or, with ``dry_run``, only compared). An editor limited to a district may touch only its xã."""
    from .imports import decode, parse_csv
    from .workbooks import only_edits, read_workbook

    user.check_write(province.registry)
    warnings: list[str] = []
    untouched = 0
    if is_workbook(data, filename):
        year, rows, warnings, read_at = read_workbook(data, filename, province)
        rows, untouched = only_edits(store, rows, read_at, filename)  # cells left as downloaded are not written back
    else:
        text, _ = decode(data, filename)
        rows, _ = parse_csv(text, filename, province)

    def within_district(to_write: pd.DataFrame) -> None:
        """An editor limited to a district may send the province's workbook, but change only its own xã."""
        if user.role != "editor" or not user.district:
            return
        district = province.registry.units["district_code"]
        outside = sorted(u for u in set(to_write["unit"]) if district[u] != user.district)
        if outside:
            names = ", ".join(f"{province.registry.units.at[u, 'name']} ({u})" for u in outside[:10])
            raise NotAllowed(
                f"Tài khoản {user.name} chỉ được sửa số liệu của {province.registry.units.at[user.district, 'name']}; "
                f"tệp thay đổi {len(outside)} xã ngoài phạm vi: {names}{' …' if len(outside) > 10 else ''}. Không có gì được ghi."
            )

    digest = hashlib.sha256(data).hexdigest()[:12]
    summary = store.write_results(
        rows, source=f"{filename} (sha256 {digest})", author=user.name, kind="import", note=note, dry_run=dry_run, guard=within_district
    )
    summary = replace(summary, unchanged=summary.unchanged + untouched)
    diff = summary.diff
    names = province.registry.units["name"]
    return {
        "tep": filename,
        "thu_nghiem": dry_run,
        "da_ghi": not dry_run and summary.written > 0,
        "tom_tat": {"moi": summary.new, "thay_doi": summary.changed, "khong_doi": summary.unchanged},
        "canh_bao": warnings,
        "chi_tiet": [
            {
                "ma_xa": r.unit,
                "ten_xa": names[r.unit],
                "nam": int(r.year),
                "bo_tieu_chi": r.tier_set,
                "tieu_chi": r.item,
                "trang_thai": {"new": "moi", "changed": "thay_doi", "unchanged": "khong_doi"}[r.outcome],
                "cu": _word(r.met_old, r.value_old),
                "moi": _word(r.met, r.value),
            }
            for r in diff.itertuples()
        ],
    }
