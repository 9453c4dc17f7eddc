"""Files in and out: the long CSV interchange format, and the one import path that the command line, the API
and notebooks share for the CSV and the office's workbook (``import_file``).

The CSV has one row per result, header exactly ``ma_xa,nam,bo_tieu_chi,tieu_chi,ket_qua``:

* ``ma_xa``: the 5-digit GSO code of a xã of the registry (phường and thị trấn are rejected), or the
  3-digit code of a district-level unit for the district-level sets (``huyen_ntm``, ``hoan_thanh``);
* ``nam``: a reporting year covered by a catalogue;
* ``bo_tieu_chi``: ``ntm``, ``nang_cao`` or ``kieu_mau`` (present in that year's catalogue);
* ``tieu_chi``: a criterion number (1–19), an indicator code (``17.8``) or a model condition code
  (``thu_nhap``, ``thon_thong_minh``, ``linh_vuc_noi_troi``);
* ``ket_qua``: ``dat`` / ``khong_dat`` (also ``đạt``, ``không đạt``, ``chưa đạt``: the words of
  ``validation``) or a number with a dot as the decimal separator. A number given for a criterion that has a
  single indicator of the same code (``10``: income) is that indicator's value.

The whole file is validated before anything is written (``validation.validate_rows``); every error names the
row, the column, the value and what is allowed; a rejected file changes nothing; the same file imported
twice changes nothing the second time (unchanged rows are skipped). The export writes every number exactly
(the shortest digits that read back as the same value), so an export imports back unchanged.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from .criteria import SET_CODES
from .deployment import Deployment
from .errors import ErrorGroup, ImportRejected, RowError
from .province import Province
from .store import Store, WriteSummary
from .text import LONG_TEXT, SHORT_TEXT, limited, nfc
from .units import period_of_year, registry_table
from .validation import HEADER, check_size, each_value, met_code, number_text, result_value, validate_rows
from .workbooks import issued_at, only_edits, read_workbook

OUTCOME_CODES = {"new": "moi", "changed": "thay_doi", "unchanged": "khong_doi"}


@dataclass(frozen=True)
class ImportResult:
    source: str
    kind: str  # "csv" or "xlsx"
    rows: int  # results read from the file (blank rows and blank cells not counted) = new + changed + unchanged
    summary: WriteSummary  # unchanged counts the workbook cells left as downloaded, which are not compared
    warnings: list[str]
    dry_run: bool
    encoding: str | None = None  # of a CSV: utf-8 or cp1258

    def report(self, province: Province | Deployment | None = None) -> dict:
        """What the import did (or, in a dry run, would do), row by row: the API's answer, and what
        ``nongthon import`` prints (as it is with ``--json``). A unit is named as it was in its year's period
        (GSO reused codes: 22303 is Xã Hòa Quang Bắc in 2024, Xã Phú Hòa 2 in 2026)."""
        s = self.summary
        tables = {p: registry_table(p).set_index("code")["name"] for p in ("cu", "moi")}
        return {
            "tep": self.source,
            "thu_nghiem": self.dry_run,
            "da_ghi": not self.dry_run and s.written > 0,
            "so_ket_qua": self.rows,
            "tom_tat": {"moi": s.new, "thay_doi": s.changed, "khong_doi": s.unchanged},
            "canh_bao": list(self.warnings),
            "chi_tiet": [
                {
                    "ma_xa": r.unit,
                    "ten_xa": tables[period_of_year(int(r.year))].get(r.unit),
                    "nam": int(r.year),
                    "bo_tieu_chi": r.tier_set,
                    "tieu_chi": r.item,
                    "trang_thai": OUTCOME_CODES[r.outcome],
                    "cu": result_value(r.met_old, r.value_old),
                    "moi": result_value(r.met, r.value),
                }
                for r in s.diff.itertuples()
            ],
        }


def is_workbook(data: bytes, filename: str = "") -> bool:
    """A workbook by its content (a zip) or by its name (so that a broken .xlsx is reported as a workbook)."""
    return data[:4] == b"PK\x03\x04" or filename.lower().endswith((".xlsx", ".xlsm"))


def read_file(path: str | Path) -> bytes:
    """The bytes of a file to import, its size checked before it is read."""
    p = Path(path)
    check_size(p.stat().st_size, p.name)
    return p.read_bytes()


def import_file(
    store: Store,
    province: Province | Deployment,
    data: bytes,
    source: str,
    *,
    author: str,
    note: str | None = None,
    dry_run: bool = False,
    guard: Callable[[pd.DataFrame], None] | None = None,
) -> ImportResult:
    """The one import path: a workbook (.xlsx, by content or name) or an interchange CSV, validated whole, then
    written in one transaction — or, with ``dry_run``, only compared with the store. Workbook cells left as
    they were downloaded are not written back (``workbooks.only_edits``). ``guard`` sees the rows that would
    be written and may raise to refuse the whole file (the API passes its district check). The file's name
    and the note are free text, limited in length (InvalidParameter). ``province``: one province, or the
    deployment whose year (and, in the old units, whose unit) picks the province of each row."""
    source = limited(source, "tên tệp", SHORT_TEXT)
    if note is not None:
        note = limited(note, "ghi_chu", LONG_TEXT) or None
    check_size(len(data), source)
    untouched, warnings, encoding = 0, [], None
    if is_workbook(data, source):
        kind = "xlsx"
        year, rows, warnings, workbook_id = read_workbook(data, source, province)
        rows, untouched = only_edits(store, rows, issued_at(store, workbook_id, year, source), source)
    else:
        kind = "csv"
        text, encoding = decode(data, source)
        rows, _ = parse_csv(text, source, province)
        if encoding != "utf-8":
            warnings = [f"Tệp mã hóa {encoding} (Windows-1258), đã chuyển sang UTF-8."]
    digest = hashlib.sha256(data).hexdigest()[:12]
    summary = store.write_results(
        rows, source=f"{source} (sha256 {digest})", author=author, kind="import", note=note, dry_run=dry_run, guard=guard
    )
    summary = replace(summary, unchanged=summary.unchanged + untouched)
    return ImportResult(source, kind, len(rows) + untouched, summary, warnings, dry_run, encoding)


def import_csv(
    store: Store,
    province: Province,
    path: str | Path | None = None,
    *,
    data: bytes | None = None,
    source: str | None = None,
    author: str,
    note: str | None = None,
    dry_run: bool = False,
) -> ImportResult:
    """``import_file`` for a path (or bytes, named by ``source``): the file's name says what it is."""
    if data is None:
        if path is None:
            raise ValueError("path or data is required")
        data = read_file(path)
    name = source or (Path(path).name if path is not None else "dữ liệu tải lên")
    return import_file(store, province, data, name, author=author, note=note, dry_run=dry_run)


def decode(data: bytes, source: str) -> tuple[str, str]:
    """Text and encoding of a CSV file: UTF-8 (with or without BOM), else Windows-1258."""
    if b"\x00" in data[:4096]:
        raise ImportRejected(
            source, [RowError(0, "(tệp)", source, "không phải tệp CSV văn bản (có byte 0); hãy lưu bảng tính dưới dạng CSV UTF-8")]
        )
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("cp1258"), "cp1258"


def parse_csv(text: str, source: str, province: Province) -> tuple[pd.DataFrame, int]:
    """Validate the whole text; return the result rows ready for the store and the number of data rows.
    Raises ImportRejected listing every problem."""
    try:
        raw = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skip_blank_lines=False, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ImportRejected(source, [RowError(1, "(tệp)", "", f"không đọc được CSV: {exc}")]) from None
    header = [nfc(c) for c in raw.columns]
    if header != HEADER:
        missing = [c for c in HEADER if c not in header]
        extra = [c for c in header if c not in HEADER]
        detail = []
        if missing:
            detail.append(f"thiếu cột {', '.join(missing)}")
        if extra:
            detail.append(f"cột không nhận {', '.join(extra)}")
        if not detail:
            detail.append("sai thứ tự cột")
        raise ImportRejected(
            source, [RowError(1, "(dòng tiêu đề)", ",".join(header), f"{'; '.join(detail)}; tiêu đề phải đúng là {','.join(HEADER)}")]
        )
    raw.columns = HEADER
    df = raw.apply(lambda col: each_value(col, nfc))
    df["row"] = np.arange(len(df)) + 2
    df = df[(df[HEADER] != "").any(axis=1)].copy()  # blank rows are skipped
    return validate_by_province(df, source, province), len(df)


def validate_by_province(df: pd.DataFrame, source: str, target: Province | Deployment) -> pd.DataFrame:
    """``validate_rows`` with the province each row belongs to. For a deployment that follows a province through
    time, a row's year picks the period, and in the old units its code picks the predecessor whose unit it is (the
    former Đắk Lắk's xã are checked with its own profile); a row whose year no catalogue covers is checked with
    today's province, and the message names every year of the deployment. Every problem of every part is reported at once, in file
    order; nothing is written unless all parts pass."""
    if isinstance(target, Province):
        return validate_rows(df, source, target)
    years = pd.to_numeric(df["nam"].where(df["nam"].str.fullmatch(r"\d{4}")), errors="coerce")
    known = years.isin(target.years())
    owner = pd.Series(target.current.profile, index=df.index, dtype=object)
    period = years.map(lambda y: period_of_year(int(y)) if y == y else None)
    for p in target.served():
        owner[known & (period == p.period)] = p.profile
    served_old = next((p for p in target.served() if p.period == "cu"), None)
    if served_old is not None:
        old = owner == served_old.profile
        for p in target.predecessors:
            if p is not served_old:
                owner[old & df["ma_xa"].isin(p.registry.communes().index)] = p.profile
    parts, errors, total, groups = [], [], 0, {}
    by_profile = {p.profile: p for p in target.provinces}
    years_text = ", ".join(p.catalogs.years_text() for p in target.served())
    for profile, rows in df.groupby(owner, sort=False):
        try:
            parts.append(validate_rows(rows, source, by_profile[profile], years_text=years_text))
        except ImportRejected as exc:
            if len(set(owner)) == 1:
                raise
            errors += exc.errors
            total += exc.total
            for g in exc.summary:
                key = (g.sheet, g.column, g.kind)
                groups[key] = groups.get(key, 0) + g.count
    if errors:
        summary = [ErrorGroup(sheet, column, kind, n) for (sheet, column, kind), n in sorted(groups.items(), key=lambda kv: -kv[1])]
        raise ImportRejected(source, sorted(errors, key=lambda e: e.row), total, summary)
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]


def format_result(met: object, value: object) -> str:
    """ket_qua of one stored result: dat / khong_dat, or the number exactly as stored (no exponent)."""
    if met is not None and not pd.isna(met):
        return met_code(met)
    return number_text(value)


def export_frame(store: Store, years: list[int] | None = None, as_of: str | None = None) -> pd.DataFrame:
    """The current results (as of a time) in the interchange format, sorted by commune, year, set, item."""
    cur = store.current_results(as_of=as_of, years=years)
    if cur.empty:
        return pd.DataFrame(columns=HEADER)
    order = {s: i for i, s in enumerate(SET_CODES)}
    cur = cur.assign(
        _set=cur["tier_set"].map(order),
        _item=cur["item"].map(_item_sort_key),
    ).sort_values(["unit", "year", "_set", "_item", "level"])
    return pd.DataFrame(
        {
            "ma_xa": cur["unit"],
            "nam": cur["year"].astype(str),
            "bo_tieu_chi": cur["tier_set"],
            "tieu_chi": cur["item"],
            "ket_qua": [format_result(m, v) for m, v in zip(cur["met"], cur["value"])],
        }
    )


def _item_sort_key(item: str) -> tuple:
    parts = item.split(".")
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in parts)


def export_csv(store: Store, years: list[int] | None = None, as_of: str | None = None) -> str:
    return export_frame(store, years, as_of).to_csv(index=False, lineterminator="\n")
