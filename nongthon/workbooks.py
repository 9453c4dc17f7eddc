"""The office's Excel workbook, both ways (openpyxl).

``workbook_for_year`` writes one workbook per reporting year: a sheet per set of the year's catalogue
("Tiêu chí NTM", "Nâng cao", "Kiểu mẫu") with one row per xã — code, district and name pre-filled and
protected (code and name only for the units from 1 July 2025, which have no district level) — and one column per
criterion with a Đạt / Chưa đạt drop-down; a sheet "Chỉ tiêu" for indicator values (when the catalogue lists
indicators); a sheet "Hướng dẫn" of instructions; and a hidden sheet "_nongthon" with the year, the catalogue and
the workbook's id (``ma_so``), under which the store keeps the moment the values were read (``issued_at``).
Cells are pre-filled with the current results, so the same function is the year's export, and an export
imports back unchanged.

Each data sheet prints on landscape A4, one page wide (the 54 indicators of 2022–2025: three), with the header
row and the code and name columns repeated on every page, so that an office can print the results and sign them.

``read_workbook`` turns a filled workbook into long rows and validates them with the same rules and the same
words as the CSV (``validation``); every error names the sheet, the row, the column (letter and header), the
value and what is allowed. Formulas are refused (values only); blank rows and blank cells are skipped; other
sheets are ignored with a warning. Before openpyxl reads anything, the zip and its XML are held to limits
(inflated bytes, ratio, elements, cells, rows, columns), so that a decompression bomb is refused unparsed.
``imports.import_file`` is the one way a workbook is imported.
"""

from __future__ import annotations

import io
import zipfile
from datetime import datetime
from xml.parsers import expat

import pandas as pd
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.datavalidation import DataValidation

from .deployment import Deployment
from .errors import ImportRejected, RowError
from .lang import DEFAULT, fill, translate
from .province import Province
from .sample import SAMPLE_LABEL_VI
from .store import Store
from .text import fold, nfc
from .validation import MET_LABEL, NOT_MET_LABEL, check_size, number_text, validate_rows

MB = 1024 * 1024
# What a workbook may hold, checked before openpyxl inflates anything (``_check_zip``, ``_check_xml``). The year's
# workbook of a province of 600 xã is about 3 MB of XML and 65,000 cells; these leave ten times that or more.
MAX_PARTS = 1000  # files inside the zip (an Excel workbook has 10 to 50)
MAX_INFLATED_BYTES = 30 * MB  # all the parts, inflated, as the zip declares them (zipfile never inflates past that)
MAX_RATIO = 100  # inflated / compressed, for a part of more than RATIO_FROM bytes (Excel's own files: 2 to 20)
RATIO_FROM = 1 * MB
MAX_ELEMENTS = 600_000  # XML elements in all the parts
MAX_PART_ELEMENTS = 20_000  # XML elements of one part besides the cells of a sheet (styles, strings, validations …)
MAX_CELLS = 150_000  # cells in all the worksheets
MAX_ROWS = 5_000  # the last row number of a worksheet
MAX_COLUMNS = 250  # the last column of a worksheet (IP)

META = "_nongthon"
GUIDE = "Hướng dẫn"
INDICATORS = "Chỉ tiêu"
SET_SHEETS = {"ntm": "Tiêu chí NTM", "nang_cao": "Nâng cao", "kieu_mau": "Kiểu mẫu"}
FIXED = ["Mã xã", "Huyện / thị xã / TP", "Tên xã"]
FIXED_NO_DISTRICT = ["Mã xã", "Tên xã"]  # the units from 1 July 2025: no district level
COUNT_WORDS = {2: "hai", 3: "ba"}
EXCEL_DIGITS = 15  # Excel keeps 15 significant digits; a number cell is read to that precision
COLUMNS_PER_PAGE = 20  # data columns on one printed page, beside the code and name columns
PAGE_FOOTER = "Trang &P / &N"  # Excel's page number and count
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
LOCKED_FILL = PatternFill("solid", fgColor="F2F2F2")


def _fixed(province: Province) -> list[str]:
    """The protected columns before the data: code, district (where the registry has a district level) and name."""
    return FIXED if not province.registry.districts().empty else FIXED_NO_DISTRICT


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
    if len(ind):  # a catalogue whose indicators are not listed (qd51-2025) records criteria only
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


def workbook_for_year(store: Store, province: Province, year: int, lang: str = DEFAULT) -> bytes:
    """The year's workbook, pre-filled with the current results (the template and the export in one). ``lang``:
    the language of the instructions sheet (nongthon.lang); the sheet names, headers and the Đạt / Chưa đạt words
    stay Vietnamese whatever the language, since the import reads them."""
    cat = province.catalogs.for_year(year)
    reg = province.registry
    xa = reg.xa()
    workbook_id, read_at = store.issue_workbook(year)  # before the values are read: they are as of this moment or later
    values = _current_values(store, year)
    sample = store.is_sample()
    fixed = _fixed(province)
    lead = len(fixed)
    wb = Workbook()
    wb.remove(wb.active)
    for sheet, cols in _columns(province, year).items():
        ws = wb.create_sheet(sheet)
        headers = fixed + [h for _, h in cols]
        ws.append(headers)
        for cell in ws[1]:
            cell.font = Font(bold=True)
            cell.fill = HEADER_FILL
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws.row_dimensions[1].height = 105
        ws.freeze_panes = f"{get_column_letter(lead + 1)}2"
        for code, x in xa.iterrows():
            district = [reg.units.at[x["district_code"], "name"]] if lead == len(FIXED) else []
            ws.append([code, *district, x["name"]] + [values.get((sheet, code, c)) for c, _ in cols])
        last = ws.max_row
        for row in ws.iter_rows(min_row=2, max_row=last):
            for cell in row[:lead]:
                cell.fill = LOCKED_FILL
                cell.number_format = "@"
            for cell in row[lead:]:
                cell.protection = Protection(locked=False)
        for letter, width in zip("ABC", [8, 20, 22] if lead == len(FIXED) else [8, 22]):
            ws.column_dimensions[letter].width = width
        for i in range(lead + 1, len(headers) + 1):
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
        for i, (code, _) in enumerate(cols, start=lead + 1):
            rng = f"{get_column_letter(i)}2:{get_column_letter(i)}{last}"
            numeric = sheet == INDICATORS and kinds.get(code) in ("minimum", "maximum", "absence")
            (number if numeric else choice).add(rng)
        ws.protection.sheet = True
        ws.protection.formatColumns = False
        ws.protection.formatRows = False
        _print_setup(ws, f"{sheet} — năm {year}", pages_wide=-(-len(cols) // COLUMNS_PER_PAGE), fixed=lead)
    guide = wb.create_sheet(GUIDE)
    lines = _guide_lines(province, cat, year, INDICATORS in wb.sheetnames, lead, sample, lang)
    for line in lines:
        guide.append([line])
    guide.column_dimensions["A"].width = 140
    guide["A1"].font = Font(bold=True, size=13)
    _print_setup(guide, fill("Hướng dẫn — năm {nam}", lang, nam=year), titles=False, footer=translate(PAGE_FOOTER, lang))
    meta = wb.create_sheet(META)
    meta.append(["nam", year])
    meta.append(["bo_tieu_chi", cat.id])
    meta.append(["tai_luc_utc", read_at.isoformat()])  # for people: the import reads the moment from the store, by ma_so
    meta.append(["ma_so", workbook_id])
    meta.sheet_state = "hidden"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _guide_lines(province: Province, cat, year: int, indicators: bool, lead: int, sample: bool, lang: str) -> list[str]:  # noqa: ANN001 - Catalog
    """The instructions sheet, line by line, in ``lang`` (every line a label of nongthon/lang: a template filled here)."""
    words = {"dat": MET_LABEL, "chua_dat": NOT_MET_LABEL}
    lines = [
        fill("Sổ kết quả xây dựng nông thôn mới năm {nam} — {tinh}", lang, nam=year, tinh=province.registry.province_name),
        fill("Bộ tiêu chí áp dụng: {bo} ({ma_bo}).", lang, bo=translate(cat.name_vi, lang), ma_bo=cat.id),
        "",
        translate("Cách nhập:", lang),
        fill(
            "• Trang '{trang}': mỗi dòng một xã, mỗi cột một tiêu chí; chọn {dat} hoặc {chua_dat} trong danh sách; để trống nếu chưa đánh giá.",
            lang,
            trang=SET_SHEETS["ntm"],
            **words,
        ),
        translate("• Trang 'Nâng cao' và 'Kiểu mẫu' (nếu có): tương tự, cho các xã xét NTM nâng cao / kiểu mẫu.", lang),
        fill(
            "• Trang '{trang}': giá trị các chỉ tiêu (số, dấu chấm hoặc dấu phẩy thập phân) hoặc {dat} / {chua_dat}.",
            lang,
            trang=INDICATORS,
            **words,
        )
        if indicators
        else translate("• Bộ tiêu chí chưa có danh mục chỉ tiêu: kết quả ghi ở cấp tiêu chí.", lang),
        translate(
            "• Ba cột đầu (mã xã, huyện, tên xã) đã khóa: không sửa, không thêm xã, không đổi tên trang."
            if lead == len(FIXED)
            else "• Hai cột đầu (mã xã, tên xã) đã khóa: không sửa, không thêm xã, không đổi tên trang.",
            lang,
        ),
        translate("• Chỉ nhập giá trị, không dùng công thức. Có thể xóa dòng trống; các trang khác trong tệp sẽ được bỏ qua.", lang),
        translate(
            "• Tải lên để kiểm tra trước (không ghi): nongthon import TỆP.xlsx --dry-run, hoặc POST /api/imports?dry_run=true.", lang
        ),
        translate(
            "• Nhập cùng một tệp hai lần không làm thay đổi gì ở lần thứ hai; mọi thay đổi được lưu lịch sử (ai, khi nào, từ gì thành gì).",
            lang,
        ),
        "",
        translate(
            "Chỉ tiêu có ngưỡng chưa xác định trong bộ tiêu chí sẽ được ghi nhận là 'chưa đánh giá', không tính đạt hay không đạt.", lang
        ),
    ]
    if lang != DEFAULT:  # said in the other language only: a Vietnamese reader needs no telling
        lines += [
            "",
            fill(
                "Tên trang, tiêu đề cột và các chữ {dat} / {chua_dat} giữ nguyên tiếng Việt: chương trình nhập đọc đúng các chữ này.",
                lang,
                **words,
            ),
        ]
    if sample:
        lines += ["", fill("LƯU Ý: {nhan}.", lang, nhan=translate(SAMPLE_LABEL_VI, lang))]
    return lines


def _print_setup(
    ws,  # noqa: ANN001 - Worksheet
    title: str,
    titles: bool = True,
    pages_wide: int = 1,
    fixed: int = len(FIXED),
    footer: str = PAGE_FOOTER,
) -> None:
    """Landscape A4, as many pages down as the rows need but ``pages_wide`` pages across (one for the criteria
    sheets; more for the 54 indicators, which would be unreadable on one); the header row and the ``fixed``
    columns (code, district where there is one, name) repeat on every page; the sheet and year at the top, page numbers at the foot."""
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = pages_wide
    ws.page_setup.fitToHeight = 0  # 0: as many pages as the rows need
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    if titles:
        ws.print_title_rows = "1:1"
        ws.print_title_cols = f"A:{get_column_letter(fixed)}"
    ws.oddHeader.center.text = title
    ws.oddFooter.center.text = footer


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


def _size(n: int) -> str:
    return f"{n / MB:.1f}".removesuffix(".0").replace(".", ",") + " MB" if n >= MB else f"{n:,} byte".replace(",", ".")


def _count(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def _refuse(source: str, where: str, message: str) -> ImportRejected:
    return ImportRejected(source, [RowError(0, "(tệp)", where, message)])


def _check_zip(data: bytes, source: str) -> None:
    """Refuse a decompression bomb by what the zip declares, before anything is inflated: the number of parts,
    their inflated size in all, and how much each large part inflates. zipfile stops a part at its declared
    size (and then fails its CRC), so a part that lies about its size cannot inflate further. Anything that
    is not a readable zip is left to load_workbook, which says so."""
    # the central directory is read whole when the zip is opened: count its entries first, by their signature
    if data.count(b"PK\x01\x02") > MAX_PARTS:
        raise _refuse(source, source, f"sổ có hơn {_count(MAX_PARTS)} tệp nén bên trong, vượt giới hạn {_count(MAX_PARTS)}")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            parts = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return
    inflated = sum(p.file_size for p in parts)
    if inflated > MAX_INFLATED_BYTES:
        raise _refuse(
            source,
            source,
            f"sổ giải nén ra {_size(inflated)}, vượt giới hạn {_size(MAX_INFLATED_BYTES)} của một sổ "
            "(sổ của một năm chỉ vài MB); có thể là tệp 'bom nén', không được đọc",
        )
    for p in parts:
        if p.file_size > RATIO_FROM and p.file_size > MAX_RATIO * max(p.compress_size, 1):
            raise _refuse(
                source,
                p.filename,
                f"phần này giải nén {_size(p.compress_size)} thành {_size(p.file_size)}, gấp {p.file_size // max(p.compress_size, 1)} lần, "
                f"vượt giới hạn {MAX_RATIO} lần; có thể là tệp 'bom nén', không được đọc",
            )


class _Stop(Exception):
    """Raised by the expat handlers of ``_check_xml`` to stop at the first thing over a limit."""


class _Extent:
    """The expat handlers that count, as a part streams by, the XML elements of the whole file and of the part,
    and the rows, columns and cells of its worksheets (the parts whose root element is ``worksheet``). openpyxl
    spends up to 0.2 ms on an element it builds an object from (a style, a validation, a run of rich text)
    and a few µs on a cell: the limits keep a workbook's reading to seconds."""

    def __init__(self) -> None:
        self.elements = self.cells = 0

    def part(self, parser) -> None:  # noqa: ANN001 - an expat parser, namespaces not processed ("x:row")
        self.root, self.row, self.column, self.others = None, 0, 0, 0
        parser.StartElementHandler = self.start
        parser.StartDoctypeDeclHandler = self.doctype

    def doctype(self, *_: object) -> None:
        raise _Stop("phần này có khai báo DTD (<!DOCTYPE …>), sổ Excel không bao giờ có; hãy lưu lại bằng Excel dạng .xlsx")

    def start(self, name: str, attrs: dict) -> None:
        self.elements += 1
        if self.elements > MAX_ELEMENTS:
            raise _Stop(f"sổ có hơn {_count(MAX_ELEMENTS)} phần tử XML, vượt giới hạn {_count(MAX_ELEMENTS)} của một sổ")
        tag = name.rpartition(":")[2]
        if self.root is None:
            self.root = tag
        if self.root != "worksheet" or tag not in ("row", "c", "v", "f"):
            self.others += 1
            if self.others > MAX_PART_ELEMENTS:
                raise _Stop(
                    f"phần này có hơn {_count(MAX_PART_ELEMENTS)} phần tử XML (ngoài các ô), "
                    f"vượt giới hạn {_count(MAX_PART_ELEMENTS)} của một phần"
                )
        elif tag == "row":
            ref = attrs.get("r", "")
            row = int(ref) if ref.isdigit() else self.row + 1
            if row <= self.row:
                raise _Stop(f"dòng {row} đứng sau dòng {self.row}; các dòng của trang phải theo thứ tự (hãy lưu lại bằng Excel)")
            if row > MAX_ROWS:
                raise _Stop(f"trang có dòng số {_count(row)}, vượt giới hạn {_count(MAX_ROWS)} dòng một trang")
            self.row, self.column = row, 0
        elif tag == "c":
            self.cells += 1
            if self.cells > MAX_CELLS:
                raise _Stop(f"các trang của sổ có hơn {_count(MAX_CELLS)} ô, vượt giới hạn {_count(MAX_CELLS)} ô của một sổ")
            letters = attrs.get("r", "").rstrip("0123456789")
            try:
                self.column = column_index_from_string(letters) if letters else self.column + 1
            except ValueError:
                raise _Stop(f"ô có địa chỉ {attrs.get('r')!r} không hợp lệ") from None
            if self.column > MAX_COLUMNS:
                raise _Stop(
                    f"trang có ô ở cột {get_column_letter(self.column)} (cột thứ {_count(self.column)}), "
                    f"vượt giới hạn {MAX_COLUMNS} cột ({get_column_letter(MAX_COLUMNS)}) một trang"
                )


def _check_xml(data: bytes, source: str) -> None:
    """Stream every part of a zip already checked by ``_check_zip`` through expat, counting as it goes, and
    refuse the workbook at the first limit passed (elements, cells, rows or columns of a sheet), naming the part
    — before openpyxl, which would build every cell, reads any of it. Memory stays that of one chunk."""
    extent = _Extent()
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            for info in zf.infolist():
                parser = expat.ParserCreate()
                extent.part(parser)
                with zf.open(info) as part:
                    try:
                        while chunk := part.read(65536):
                            parser.Parse(chunk, False)
                        parser.Parse(b"", True)
                    except _Stop as stop:
                        raise _refuse(source, info.filename, str(stop)) from None
                    except expat.ExpatError:
                        continue  # not XML (an image): openpyxl does not parse it, or refuses it (ParseError)
    except (zipfile.BadZipFile, OSError, NotImplementedError, RuntimeError, ValueError, EOFError) as exc:
        raise _refuse(
            source, source, f"không phải sổ Excel .xlsx đọc được ({type(exc).__name__}); hãy lưu lại bằng Excel dạng .xlsx"
        ) from None


def read_workbook(data: bytes, source: str, province: Province) -> tuple[int, pd.DataFrame, list[str], str | None]:
    """(year, validated long rows, warnings, the workbook's id ``ma_so`` as ``workbook_for_year`` wrote it) of a
    filled workbook; ImportRejected lists every problem. The zip and its XML are checked against the limits
    above first; then openpyxl reads it in read-only mode, streaming only the sheets of the template."""
    check_size(len(data), source)
    _check_zip(data, source)
    _check_xml(data, source)
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=False, keep_links=False)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError, SyntaxError) as exc:  # SyntaxError: XML ParseError
        raise ImportRejected(
            source,
            [RowError(0, "(tệp)", source, f"không phải sổ Excel .xlsx đọc được ({type(exc).__name__}); hãy lưu lại bằng Excel dạng .xlsx")],
        ) from None
    try:
        return _read(wb, source, province)
    except SyntaxError as exc:  # XML ParseError met while streaming a sheet (an entity no DTD defines, …)
        raise ImportRejected(
            source,
            [RowError(0, "(tệp)", source, f"không phải sổ Excel .xlsx đọc được (XML hỏng: {exc}); hãy lưu lại bằng Excel dạng .xlsx")],
        ) from None
    finally:
        wb.close()


def _rows(wb, sheet: str, min_row: int = 1, max_col: int | None = None):  # noqa: ANN001, ANN202 - a read-only Workbook
    """The rows of a sheet, one per row number from ``min_row`` (blank rows included), as stored: the
    dimensions the sheet declares are ignored (they may be wrong), _check_xml has bounded what it holds."""
    ws = wb[sheet]
    ws.reset_dimensions()
    return ws.iter_rows(min_row=min_row, max_col=max_col)


def _read(wb, source: str, province: Province) -> tuple[int, pd.DataFrame, list[str], str | None]:  # noqa: ANN001 - Workbook
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
    meta = {str(r[0].value): r[1].value for r in _rows(wb, META, max_col=2) if r[0].value is not None}
    year = meta.get("nam")
    if isinstance(province, Deployment):  # a workbook is one year: the province of that year's period
        province = province.province_for(year) if isinstance(year, int) and year in province.years() else province.current
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
    fixed = _fixed(province)
    lead = len(fixed)  # the protected columns before the data
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
        header = [_cell_text(c.value) for c in next(_rows(wb, sheet), ())]
        if [fold(h) for h in header[:lead]] != [fold(h) for h in fixed]:
            span = f"A–{get_column_letter(lead)}"
            errors.append(RowError(1, span, " | ".join(header[:lead]), f"{COUNT_WORDS[lead]} cột đầu phải là {', '.join(fixed)}", sheet))
            continue
        by_header = {fold(h): code for code, h in cols}
        by_code = {fold(code): code for code, _ in cols}
        col_codes: dict[int, str] = {}
        for i, h in enumerate(header[lead:], start=lead + 1):
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
        for n, cells in enumerate(_rows(wb, sheet, min_row=2), start=2):
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
            for i, c in enumerate(cells[lead:], start=lead + 1):
                code = col_codes.get(i)
                if code is None or c.value is None or _cell_text(c.value) == "":
                    continue
                label = f"{get_column_letter(i)} ({code})"
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
    workbook_id = meta.get("ma_so")
    return year, rows, warnings, workbook_id if isinstance(workbook_id, str) else None


def issued_at(store: Store, workbook_id: str | None, year: int, source: str) -> datetime:
    """The moment the values of a workbook were read, as the store recorded it under the workbook's id when
    it made the workbook: the base of ``only_edits``. The moment is never taken from the file, where anyone can
    blank or change it; a workbook without an id this store issued for its year is refused (without a base, a
    stale workbook would undo every later edit)."""
    fresh = f"hãy tải sổ mới (nongthon template --year {year} hoặc GET /api/templates/{year}.xlsx), chép các ô đã sửa sang rồi nhập lại"
    issued = store.workbook_issue(workbook_id) if workbook_id and len(workbook_id) <= 64 else None
    if issued is None:
        why = "không có mã số sổ (ma_so)" if not workbook_id else "có mã số sổ (ma_so) không do hệ thống này cấp"
        raise ImportRejected(
            source,
            [
                RowError(
                    0,
                    "ma_so",
                    workbook_id or "(trống)",
                    f"sổ {why}: mã số cho biết số liệu trong sổ được đọc lúc nào, để không ghi đè những thay đổi "
                    f"người khác nhập sau đó; {fresh}",
                    META,
                )
            ],
        )
    issued_year, moment = issued
    if issued_year != year:
        raise ImportRejected(
            source, [RowError(1, "nam", str(year), f"sổ có mã số này được cấp cho năm {issued_year}, không phải năm {year}; {fresh}", META)]
        )
    return moment


def _same(met_a, value_a, met_b, value_b) -> bool:  # noqa: ANN001 - scalars that may be <NA>
    def norm(m, v):  # noqa: ANN001, ANN202
        return (None if pd.isna(m) else bool(m), None if pd.isna(v) else round(float(v), 9))

    return norm(met_a, value_a) == norm(met_b, value_b)


def only_edits(store: Store, rows: pd.DataFrame, read_at: datetime, source: str) -> tuple[pd.DataFrame, int]:
    """The rows the officer changed in a workbook read from the store at ``read_at`` (``issued_at``), and how
    many were left as they were. A cell left alone is not written back, so a stale workbook never undoes a
    later edit; a cell the officer changed that someone else also changed since ``read_at`` is a conflict,
    and the whole file is refused naming it."""
    if rows.empty:
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
