"""The office's Excel workbook, both ways (openpyxl).

``workbook_for_year`` writes one workbook per reporting year: a sheet per set of the year's catalogue
("Tiêu chí NTM", "Nâng cao", "Kiểu mẫu") with one row per xã — code, district and name pre-filled and
protected — and one column per criterion with a Đạt / Chưa đạt drop-down; a sheet "Chỉ tiêu" for indicator
values; a sheet "Hướng dẫn" of instructions; and a hidden sheet "_nongthon" with the year and catalogue.
Cells are pre-filled with the current results, so the same function is the year's export, and an export
imports back unchanged.

Each data sheet prints on landscape A4, one page wide (the 54 indicators of 2022–2025: three), with the header
row and the code and name columns repeated on every page, so that an office can print the results and sign them.

``read_workbook`` turns a filled workbook into long rows and validates them with the same rules and the same
words as the CSV (``validation``); every error names the sheet, the row, the column (letter and header), the
value and what is allowed. Formulas are refused (values only); blank rows and blank cells are skipped; other
sheets are ignored with a warning. ``imports.import_file`` is the one way a workbook is imported.
"""

from __future__ import annotations

import io
import zipfile
from datetime import datetime

import pandas as pd
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.datavalidation import DataValidation

from .errors import ImportRejected, RowError
from .province import Province
from .sample import SAMPLE_LABEL_VI
from .store import Store, utcnow
from .text import fold, nfc
from .validation import MET_LABEL, NOT_MET_LABEL, check_size, number_text, validate_rows

META = "_nongthon"
GUIDE = "Hướng dẫn"
INDICATORS = "Chỉ tiêu"
SET_SHEETS = {"ntm": "Tiêu chí NTM", "nang_cao": "Nâng cao", "kieu_mau": "Kiểu mẫu"}
FIXED = ["Mã xã", "Huyện / thị xã / TP", "Tên xã"]
EXCEL_DIGITS = 15  # Excel keeps 15 significant digits; a number cell is read to that precision
COLUMNS_PER_PAGE = 20  # data columns on one printed page, beside the code and name columns
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
LOCKED_FILL = PatternFill("solid", fgColor="F2F2F2")


def _columns(province: Province, year: int) -> dict[str, list[tuple[str, str]]]:
    """Per sheet: the (code, header) of each data column."""
    cat = province.catalogs.for_year(year)
    out: dict[str, list[tuple[str, str]]] = {}
    for set_code in ("ntm", "nang_cao"):
        if set_code in cat.sets:
            out[SET_SHEETS[set_code]] = [(c, f"{c}. {n}") for c, n in cat.criterion_names(set_code).items()]
    if "kieu_mau" in cat.sets:
        out[SET_SHEETS["kieu_mau"]] = [(r.code, f"{r.code}. {r.name_vi}") for r in cat.conditions.itertuples()]
    ind = cat.indicators[cat.indicators["set"] == "ntm"]
    out[INDICATORS] = [(r.code, f"{r.code}. {r.name_vi} ({r.measure_unit})") for r in ind.itertuples()]
    return out


def _current_values(store: Store, year: int) -> dict[tuple[str, str, str], object]:
    """(sheet, unit, code) -> the cell value of the current results."""
    cur = store.current_results(years=[year])
    out: dict[tuple[str, str, str], object] = {}
    for r in cur.itertuples(index=False):
        if r.level == "indicator" and r.tier_set == "ntm":
            sheet = INDICATORS
        elif r.level in ("criterion", "condition") and r.tier_set in SET_SHEETS:
            sheet = SET_SHEETS[r.tier_set]
        else:
            continue
        if not pd.isna(r.met):
            value: object = MET_LABEL if bool(r.met) else NOT_MET_LABEL
        else:
            v = float(r.value)
            value = int(v) if v.is_integer() else v
        out[(sheet, r.unit, r.item)] = value
    return out


def workbook_for_year(store: Store, province: Province, year: int) -> bytes:
    """The year's workbook, pre-filled with the current results (the template and the export in one)."""
    cat = province.catalogs.for_year(year)
    reg = province.registry
    xa = reg.xa()
    read_at = utcnow()
    values = _current_values(store, year)
    sample = store.is_sample()
    wb = Workbook()
    wb.remove(wb.active)
    for sheet, cols in _columns(province, year).items():
        ws = wb.create_sheet(sheet)
        headers = FIXED + [h for _, h in cols]
        ws.append(headers)
        for cell in ws[1]:
            cell.font = Font(bold=True)
            cell.fill = HEADER_FILL
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws.row_dimensions[1].height = 105
        ws.freeze_panes = "D2"
        for code, x in xa.iterrows():
            ws.append([code, reg.units.at[x["district_code"], "name"], x["name"]] + [values.get((sheet, code, c)) for c, _ in cols])
        last = ws.max_row
        for row in ws.iter_rows(min_row=2, max_row=last):
            for cell in row[:3]:
                cell.fill = LOCKED_FILL
                cell.number_format = "@"
            for cell in row[3:]:
                cell.protection = Protection(locked=False)
        ws.column_dimensions["A"].width = 8
        ws.column_dimensions["B"].width = 20
        ws.column_dimensions["C"].width = 22
        for i in range(4, len(headers) + 1):
            ws.column_dimensions[get_column_letter(i)].width = 11  # "Chưa đạt" and the drop-down arrow
        kinds = dict(zip(cat.indicators["code"], cat.indicators["kind"]))
        choice = DataValidation(
            type="list",
            formula1=f'"{MET_LABEL},{NOT_MET_LABEL}"',
            allow_blank=True,
            showErrorMessage=True,
            errorTitle="Giá trị không hợp lệ",
            error=f"Chọn {MET_LABEL} hoặc {NOT_MET_LABEL} (hoặc để trống)",
        )
        number = DataValidation(
            type="decimal",
            operator="greaterThanOrEqual",
            formula1="0",
            allow_blank=True,
            showErrorMessage=True,
            errorTitle="Giá trị không hợp lệ",
            error="Nhập một số không âm (hoặc để trống)",
        )
        ws.add_data_validation(choice)
        ws.add_data_validation(number)
        for i, (code, _) in enumerate(cols, start=4):
            rng = f"{get_column_letter(i)}2:{get_column_letter(i)}{last}"
            numeric = sheet == INDICATORS and kinds.get(code) in ("minimum", "maximum", "absence")
            (number if numeric else choice).add(rng)
        ws.protection.sheet = True
        ws.protection.formatColumns = False
        ws.protection.formatRows = False
        _print_setup(ws, f"{sheet} — năm {year}", pages_wide=-(-len(cols) // COLUMNS_PER_PAGE))
    guide = wb.create_sheet(GUIDE)
    lines = [
        f"Sổ kết quả xây dựng nông thôn mới năm {year} — {reg.province_name}",
        f"Bộ tiêu chí áp dụng: {cat.name_vi} ({cat.id}).",
        "",
        "Cách nhập:",
        f"• Trang '{SET_SHEETS['ntm']}': mỗi dòng một xã, mỗi cột một tiêu chí; chọn {MET_LABEL} hoặc {NOT_MET_LABEL} trong danh sách; để trống nếu chưa đánh giá.",
        "• Trang 'Nâng cao' và 'Kiểu mẫu' (nếu có): tương tự, cho các xã xét NTM nâng cao / kiểu mẫu.",
        f"• Trang '{INDICATORS}': giá trị các chỉ tiêu (số, dấu chấm hoặc dấu phẩy thập phân) hoặc {MET_LABEL} / {NOT_MET_LABEL}.",
        "• Ba cột đầu (mã xã, huyện, tên xã) đã khóa: không sửa, không thêm xã, không đổi tên trang.",
        "• Chỉ nhập giá trị, không dùng công thức. Có thể xóa dòng trống; các trang khác trong tệp sẽ được bỏ qua.",
        "• Tải lên để kiểm tra trước (không ghi): nongthon import TỆP.xlsx --dry-run, hoặc POST /api/imports?dry_run=true.",
        "• Nhập cùng một tệp hai lần không làm thay đổi gì ở lần thứ hai; mọi thay đổi được lưu lịch sử (ai, khi nào, từ gì thành gì).",
        "",
        "Chỉ tiêu có ngưỡng chưa xác định trong bộ tiêu chí sẽ được ghi nhận là 'chưa đánh giá', không tính đạt hay không đạt.",
    ]
    if sample:
        lines += ["", f"LƯU Ý: {SAMPLE_LABEL_VI}."]
    for line in lines:
        guide.append([line])
    guide.column_dimensions["A"].width = 140
    guide["A1"].font = Font(bold=True, size=13)
    _print_setup(guide, f"{GUIDE} — năm {year}", titles=False)
    meta = wb.create_sheet(META)
    meta.append(["nam", year])
    meta.append(["bo_tieu_chi", cat.id])
    meta.append(["tai_luc_utc", read_at.isoformat()])  # the results above are as of this moment
    meta.sheet_state = "hidden"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _print_setup(ws, title: str, titles: bool = True, pages_wide: int = 1) -> None:  # noqa: ANN001 - Worksheet
    """Landscape A4, as many pages down as the rows need but ``pages_wide`` pages across (one for the criteria
    sheets; more for the 54 indicators, which would be unreadable on one); the header row and the code,
    district and name columns repeat on every page; the sheet and year at the top, page numbers at the foot."""
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = pages_wide
    ws.page_setup.fitToHeight = 0  # 0: as many pages as the rows need
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    if titles:
        ws.print_title_rows = "1:1"
        ws.print_title_cols = "A:C"
    ws.oddHeader.center.text = title
    ws.oddFooter.center.text = "Trang &P / &N"


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return MET_LABEL if value else NOT_MET_LABEL
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return nfc(str(value))


def _result_text(value: object) -> str:
    """The cell as the long format's ket_qua: a number with a dot (to Excel's precision), or the text as typed
    (validate_rows reads the đạt / không đạt words, the same as in the CSV)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return number_text(value, EXCEL_DIGITS)
    text = _cell_text(value)
    number = text.replace(" ", "").replace(",", ".")  # one cell holds one number: a comma is a decimal comma
    try:
        float(number)
        return number
    except ValueError:
        return text


def read_workbook(data: bytes, source: str, province: Province) -> tuple[int, pd.DataFrame, list[str], datetime | None]:
    """(year, validated long rows, warnings, the moment its values were read from the store) of a filled
    workbook; ImportRejected lists every problem."""
    check_size(len(data), source)
    try:
        wb = load_workbook(io.BytesIO(data), data_only=False)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ImportRejected(
            source,
            [RowError(0, "(tệp)", source, f"không phải sổ Excel .xlsx đọc được ({type(exc).__name__}); hãy lưu lại bằng Excel dạng .xlsx")],
        ) from None
    if META not in wb.sheetnames:
        raise ImportRejected(
            source,
            [
                RowError(
                    0,
                    "(tệp)",
                    source,
                    f"không có trang ẩn '{META}' ghi năm báo cáo; hãy dùng sổ mẫu tải từ hệ thống (nongthon template --year NĂM)",
                )
            ],
        )
    meta = {str(r[0].value): r[1].value for r in wb[META].iter_rows(min_row=1, max_col=2) if r[0].value is not None}
    year = meta.get("nam")
    if not isinstance(year, int) or not province.catalogs.covers(year):
        raise ImportRejected(
            source,
            [
                RowError(
                    1, "nam", str(year), f"năm trong trang '{META}' phải có bộ tiêu chí áp dụng: {province.catalogs.years_text()}", META
                )
            ],
        )
    expected = _columns(province, year)
    warnings = [f"Bỏ qua trang '{name}' (không thuộc mẫu)." for name in wb.sheetnames if name not in expected and name not in (GUIDE, META)]
    errors: list[RowError] = []
    records: list[dict] = []
    set_of_sheet = {v: k for k, v in SET_SHEETS.items()}
    for sheet, cols in expected.items():
        if sheet not in wb.sheetnames:
            if sheet == SET_SHEETS["ntm"]:
                errors.append(
                    RowError(0, "(tệp)", sheet, f"thiếu trang '{sheet}'; các trang của mẫu năm {year}: {', '.join(expected)}", sheet)
                )
            continue
        ws = wb[sheet]
        header = [_cell_text(c.value) for c in ws[1]]
        if [fold(h) for h in header[:3]] != [fold(h) for h in FIXED]:
            errors.append(RowError(1, "A–C", " | ".join(header[:3]), f"ba cột đầu phải là {', '.join(FIXED)}", sheet))
            continue
        by_header = {fold(h): code for code, h in cols}
        by_code = {fold(code): code for code, _ in cols}
        col_codes: dict[int, str] = {}
        for i, h in enumerate(header[3:], start=4):
            if not h:
                continue
            code = by_header.get(fold(h)) or by_code.get(fold(h.split(". ", 1)[0].strip()))
            if code is None:
                errors.append(
                    RowError(
                        1, get_column_letter(i), h, f"cột không có trong mẫu năm {year}; các cột: {', '.join(c for c, _ in cols)}", sheet
                    )
                )
            else:
                col_codes[i] = code
        seen: dict[str, int] = {}
        for row in ws.iter_rows(min_row=2):
            n = row[0].row
            cells = list(row)
            if all(c.value is None or _cell_text(c.value) == "" for c in cells):
                continue  # blank row
            code_cell = cells[0].value
            unit = (
                f"{int(code_cell):05d}"
                if isinstance(code_cell, (int, float)) and not isinstance(code_cell, bool)
                else _cell_text(code_cell)
            )
            if unit in seen:
                errors.append(RowError(n, "A (Mã xã)", unit, f"xã này đã có ở dòng {seen[unit]}; mỗi xã chỉ một dòng", sheet))
                continue
            seen[unit] = n
            for c in cells[3:]:
                code = col_codes.get(c.column)
                if code is None or c.value is None or _cell_text(c.value) == "":
                    continue
                label = f"{c.column_letter} ({code})"
                if c.data_type == "f" or (isinstance(c.value, str) and c.value.startswith("=")):
                    errors.append(
                        RowError(n, label, str(c.value), "công thức không được nhận; hãy dán giá trị (Paste Special → Values)", sheet)
                    )
                    continue
                value = c.value
                if isinstance(value, (int, float)) and not isinstance(value, bool) and "%" in (c.number_format or ""):
                    value = value * 100  # Excel keeps 85 % as 0.85 in a percent-formatted cell
                text = _result_text(value)  # validate_rows names anything it cannot take, with what is allowed
                records.append(
                    {
                        "ma_xa": unit,
                        "nam": str(year),
                        "bo_tieu_chi": set_of_sheet.get(sheet, "ntm"),
                        "tieu_chi": code,
                        "ket_qua": text,
                        "row": n,
                        "sheet": sheet,
                        "col_ma_xa": "A (Mã xã)",
                        "col_ket_qua": label,
                        "col_tieu_chi": label,
                        "col_nam": META,
                        "col_bo_tieu_chi": sheet,
                    }
                )
    df = pd.DataFrame(
        records,
        columns=[
            "ma_xa",
            "nam",
            "bo_tieu_chi",
            "tieu_chi",
            "ket_qua",
            "row",
            "sheet",
            "col_ma_xa",
            "col_ket_qua",
            "col_tieu_chi",
            "col_nam",
            "col_bo_tieu_chi",
        ],
    )
    if df.empty and not errors:
        raise ImportRejected(source, [RowError(0, "(tệp)", source, "sổ không có kết quả nào (mọi ô đều trống)")])
    rows = validate_rows(df, source, province, errors) if not df.empty else None
    if rows is None:
        raise ImportRejected(source, errors)
    read_at = meta.get("tai_luc_utc")
    try:
        read_at = datetime.fromisoformat(read_at) if isinstance(read_at, str) else None
    except ValueError:
        read_at = None
    return year, rows, warnings, read_at


def _same(met_a, value_a, met_b, value_b) -> bool:  # noqa: ANN001 - scalars that may be <NA>
    def norm(m, v):  # noqa: ANN001, ANN202
        return (None if pd.isna(m) else bool(m), None if pd.isna(v) else round(float(v), 9))

    return norm(met_a, value_a) == norm(met_b, value_b)


def only_edits(store: Store, rows: pd.DataFrame, read_at: datetime | None, source: str) -> tuple[pd.DataFrame, int]:
    """The rows the officer changed in a workbook read from the store at ``read_at``, and how many were left as
    they were. A cell left alone is not written back, so a stale workbook never undoes a later edit; a cell
    the officer changed that someone else also changed since ``read_at`` is a conflict, and the whole file is
    refused naming it. Without ``read_at`` (a workbook not made by this system) every row counts."""
    if read_at is None or rows.empty:
        return rows, 0
    key = ["unit", "year", "tier_set", "level", "item"]
    years = sorted(set(rows["year"]))
    then = store.current_results(as_of=read_at, years=years).set_index(key)[["met", "value"]]
    now = store.current_results(years=years).set_index(key)[["met", "value", "author", "entered_at"]]
    edits, conflicts, untouched = [], [], 0
    for r in rows.itertuples(index=False):
        k = (r.unit, r.year, r.tier_set, r.level, r.item)
        base = then.loc[k] if k in then.index else None
        if base is not None and _same(r.met, r.value, base["met"], base["value"]):
            untouched += 1
            continue
        cur = now.loc[k] if k in now.index else None
        moved = (cur is not None) and (base is None or not _same(cur["met"], cur["value"], base["met"], base["value"]))
        if moved and not _same(r.met, r.value, cur["met"], cur["value"]):
            conflicts.append(
                RowError(
                    int(r.row),
                    getattr(r, "where", "ket_qua"),
                    _show(r.met, r.value),
                    f"ô này đã được {cur['author']} sửa thành {_show(cur['met'], cur['value'])} lúc {cur['entered_at']:%d/%m/%Y %H:%M} (UTC), "
                    "sau khi sổ được tải; hãy tải sổ mới rồi nhập lại",
                    getattr(r, "sheet", None),
                )
            )
            continue
        edits.append(r._asdict())
    if conflicts:
        raise ImportRejected(source, conflicts)
    return pd.DataFrame(edits, columns=rows.columns).astype(rows.dtypes.to_dict()), untouched


def _show(met, value) -> str:  # noqa: ANN001
    if not pd.isna(met):
        return MET_LABEL if bool(met) else NOT_MET_LABEL
    return "" if pd.isna(value) else number_text(value)
