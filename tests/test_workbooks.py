"""The office's Excel workbook: structure, round trip, and every kind of bad input (nothing is written)."""

import io
import re
import struct
import tracemalloc
import unicodedata
import zipfile

import numpy as np
import pytest
from openpyxl import load_workbook

from nongthon.errors import ImportRejected
from nongthon.imports import HEADER, export_csv, import_csv, import_file
from nongthon.store import Store
from nongthon.workbooks import GUIDE, INDICATORS, META, SET_SHEETS, workbook_for_year

NTM = SET_SHEETS["ntm"]


def book(store, province, year=2023):
    return load_workbook(io.BytesIO(workbook_for_year(store, province, year)))


def save(wb) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def run(store, province, data, **kw):
    return import_file(store, province, data, "so.xlsx", author="cán bộ", **kw)


def rejected(store, province, data) -> list:
    before = len(store.history())
    with pytest.raises(ImportRejected) as exc:
        run(store, province, data)
    assert len(store.history()) == before, "a rejected workbook must change nothing"
    return exc.value.errors


def row_of(ws, code):
    return next(c.row for c in ws["A"] if c.value == code)


def col_of(ws, prefix):
    return next(c.column for c in ws[1] if str(c.value).startswith(prefix))


def test_template_structure(store, province):
    wb = book(store, province)
    assert wb.sheetnames == [NTM, SET_SHEETS["nang_cao"], SET_SHEETS["kieu_mau"], INDICATORS, GUIDE, META]
    ws = wb[NTM]
    assert [c.value for c in ws[1]][:4] == ["Mã xã", "Huyện / thị xã / TP", "Tên xã", "1. Quy hoạch"]
    assert ws.max_column == 3 + 19 and ws.max_row == 1 + 82
    assert ws["A2"].value == province.registry.xa().index[0] and ws["C2"].value.startswith("Xã ")
    assert ws.protection.sheet and ws["A2"].protection.locked and not ws["D2"].protection.locked
    dv = ws.data_validations.dataValidation[0]
    assert dv.formula1 == '"Đạt,Chưa đạt"' and "D2" in str(dv.sqref)
    assert wb[META].sheet_state == "hidden" and wb[META]["B1"].value == 2023
    assert "Chỉ nhập giá trị, không dùng công thức" in "\n".join(str(c.value) for c in wb[GUIDE]["A"])
    assert len(list(wb[INDICATORS][1])) == 3 + len(province.catalogs.for_year(2023).indicators.query("set == 'ntm'"))
    old = book(store, province, 2019)
    assert old.sheetnames == [NTM, INDICATORS, GUIDE, META]


@pytest.mark.parametrize("year", [2019, 2023, 2025])
def test_export_of_any_year_imports_back_unchanged(sample_store, province, year):
    data = workbook_for_year(sample_store, province, year)
    res = run(sample_store, province, data)
    assert res.summary.new == res.summary.changed == 0
    cur = sample_store.current_results(years=[year])
    assert res.summary.unchanged == len(cur[cur["unit"].str.len() == 5])  # district-level criteria are not in the workbook


def test_filled_template_imports_then_second_time_changes_nothing(store, province):
    wb = book(store, province)
    ws, ind = wb[NTM], wb[INDICATORS]
    r = row_of(ws, "22303")
    for col in range(4, 4 + 19):
        ws.cell(r, col, "Đạt")
    ws.cell(row_of(ws, "22306"), 4 + 16, "Chưa đạt")
    ind.cell(row_of(ind, "22303"), col_of(ind, "15.3."), 21.5)
    ind.cell(row_of(ind, "22306"), col_of(ind, "15.3."), "23,4")  # decimal comma in a text cell
    data = save(wb)
    dry = run(store, province, data, dry_run=True)
    assert (dry.summary.new, dry.summary.changed) == (22, 0) and store.history().empty
    res = run(store, province, data)
    assert res.summary.new == 22
    cur = store.current_results().set_index(["unit", "item"])
    assert cur.loc[("22306", "15.3"), "value"] == 23.4 and not bool(cur.loc[("22306", "17"), "met"])
    again = run(store, province, data)
    assert (again.summary.new, again.summary.changed, again.summary.unchanged) == (0, 0, 22)


def _one(store, province, mutate):
    wb = book(store, province)
    mutate(wb)
    errors = rejected(store, province, save(wb))
    assert len(errors) == 1, [str(e) for e in errors]
    return errors[0]


@pytest.mark.parametrize(
    ("code", "needle"),
    [("99999", "không có đơn vị cấp xã mã này"), ("22015", "Phường 1 là phường"), ("2230", "đúng 5 chữ số")],
)
def test_wrong_codes_and_phuong(store, province, code, needle):
    def mutate(wb):
        ws = wb[NTM]
        ws.protection.sheet = False
        ws["A2"] = code
        ws["D2"] = "Đạt"

    e = _one(store, province, mutate)
    assert (e.sheet, e.row, e.column) == (NTM, 2, "A (Mã xã)") and needle in e.message


def test_unknown_criterion_column(store, province):
    e = _one(
        store, province, lambda wb: (setattr(wb[NTM].cell(1, 23), "value", "20. Tiêu chí lạ"), setattr(wb[NTM].cell(2, 23), "value", "Đạt"))
    )
    assert (e.sheet, e.row, e.column) == (NTM, 1, "W") and "cột không có trong mẫu năm 2023" in e.message


def test_duplicate_rows(store, province):
    def mutate(wb):
        ws = wb[NTM]
        ws.append(["22303", "", "", "Đạt"])
        ws.cell(row_of(ws, "22303"), 4, "Đạt")

    e = _one(store, province, mutate)
    assert e.row == 84 and "đã có ở dòng" in e.message


def test_year_outside_the_catalogues(store, province):
    e = _one(store, province, lambda wb: (setattr(wb[META]["B1"], "value", 2031), setattr(wb[NTM]["D2"], "value", "Đạt")))
    assert e.sheet == META and "2016–2021 (qd1980-2016)" in e.message


def test_text_where_a_number_belongs(store, province):
    def mutate(wb):
        ws = wb[INDICATORS]
        ws.cell(2, col_of(ws, "15.3."), "khoảng hai mươi")

    e = _one(store, province, mutate)
    assert e.sheet == INDICATORS and e.column.endswith("(15.3)") and "kết quả phải là dat, khong_dat, hoặc một số" in e.message


def test_formulas_are_refused(store, province):
    e = _one(store, province, lambda wb: setattr(wb[NTM]["E3"], "value", '=IF(1,"Đạt","Chưa đạt")'))
    assert (e.row, e.column) == (3, "E (2)") and "công thức không được nhận" in e.message


def test_nfd_text_blank_rows_and_extra_sheets_are_handled(store, province):
    wb = book(store, province)
    ws = wb[NTM]
    ws["D2"] = unicodedata.normalize("NFD", "Chưa đạt")
    ws["D3"] = unicodedata.normalize("NFD", "ĐẠT")
    ws.protection.sheet = False
    ws.delete_rows(10, 1)
    ws.insert_rows(10, 3)  # blank rows in the middle
    wb.create_sheet("Ghi chú của xã")
    res = run(store, province, save(wb))
    assert res.summary.new == 2 and res.warnings == ["Bỏ qua trang 'Ghi chú của xã' (không thuộc mẫu)."]
    assert store.current_results().set_index("unit").loc[ws["A3"].value, "met"]


def test_not_a_workbook_and_too_large(store, province):
    e = rejected(store, province, b"PK\x03\x04 this is not really a zip")[0]
    assert "không phải sổ Excel .xlsx đọc được" in e.message
    e = rejected(store, province, b"x" * (20 * 1024 * 1024 + 1))[0]
    assert "tệp quá lớn; tối đa 20 MB" in e.message


def test_a_workbook_without_its_year_sheet(store, province):
    wb = book(store, province)
    del wb[META]
    e = rejected(store, province, save(wb))[0]
    assert "không có trang ẩn '_nongthon'" in e.message


def test_all_errors_at_once(store, province):
    wb = book(store, province)
    ws = wb[NTM]
    ws["D2"] = "có lẽ"
    ws["E5"] = "=1"
    errors = rejected(store, province, save(wb))
    assert [(e.row, e.column) for e in errors] == [(2, "D (1)"), (5, "E (2)")]


def test_a_stale_workbook_does_not_undo_a_later_edit(sample_store, province):
    from tests.conftest import results_frame

    wb = book(sample_store, province, 2024)  # downloaded now
    ws = wb[NTM]
    code = ws["A5"].value
    before = bool(sample_store.current_results(years=[2024], units=[code]).query("tier_set == 'ntm' and item == '17'")["met"].iloc[0])
    # someone else changes criterion 17 of that xã after the download
    sample_store.write_results(results_frame([dict(unit=code, year=2024, item="17", met=not before)]), source="PUT", author="Cán bộ khác")
    # the officer changes another cell and uploads the (otherwise untouched) workbook
    ws["D5"] = "Chưa đạt" if ws["D5"].value == "Đạt" else "Đạt"
    res = run(sample_store, province, save(wb))
    assert (res.summary.new, res.summary.changed) == (0, 1)
    now = sample_store.current_results(years=[2024], units=[code]).query("tier_set == 'ntm'").set_index("item")["met"]
    assert bool(now["17"]) == (not before)  # the later edit stands
    # a value typed where someone else wrote a different one since the download is a conflict: nothing is written
    sample_store.write_results(
        results_frame([dict(unit=code, year=2024, level="indicator", item="15.3", value=20.0)]), source="PUT", author="Cán bộ khác"
    )
    ind = wb[INDICATORS]
    ind.cell(5, col_of(ind, "15.3."), 25)
    n = len(sample_store.history())
    with pytest.raises(ImportRejected) as exc:
        run(sample_store, province, save(wb))
    e = exc.value.errors[0]
    assert (e.sheet, e.row) == (INDICATORS, 5) and "đã được Cán bộ khác sửa thành 20" in e.message and "tải sổ mới" in e.message
    assert len(sample_store.history()) == n


def test_percent_formatted_cells_are_percentages(store, province):
    wb = book(store, province)
    ind = wb[INDICATORS]
    cell = ind.cell(2, col_of(ind, "15.3."))
    cell.value = 0.215
    cell.number_format = "0.0%"
    run(store, province, save(wb))
    assert store.current_results()["value"].iloc[0] == pytest.approx(21.5)


@pytest.mark.parametrize(("year", "indicator_pages"), [(2023, 3), (2019, 1)])
def test_every_data_sheet_prints_landscape_a4_pages_wide_with_titles_repeated(store, province, year, indicator_pages):
    wb = book(store, province, year)
    data_sheets = [name for name in wb.sheetnames if name not in (GUIDE, META)]
    assert NTM in data_sheets and INDICATORS in data_sheets
    for name in data_sheets:
        ws = wb[name]
        setup = ws.page_setup
        assert setup.orientation == "landscape" and int(setup.paperSize) == 9, name  # 9: A4 in the OOXML paper codes
        assert ws.sheet_properties.pageSetUpPr.fitToPage, name
        assert int(setup.fitToHeight) == 0, name  # as many pages down as the rows need
        # the header row, and the code, district and name columns, on every printed page
        assert (ws.print_title_rows, ws.print_title_cols) == ("$1:$1", "$A:$C"), name
        assert "Trang &P" in ws.oddFooter.center.text and str(year) in ws.oddHeader.center.text
    for name in data_sheets:
        # the criteria sheets (19 or fewer columns) one page wide; the 54 indicators of 2022–2025 three pages
        # wide (20 columns a page, hand-counted: 54 / 20 → 3), the 2 of 2016–2020 one
        assert int(wb[name].page_setup.fitToWidth) == (indicator_pages if name == INDICATORS else 1), name
    assert wb[GUIDE].page_setup.orientation == "landscape" and int(wb[GUIDE].page_setup.fitToWidth) == 1


def test_indicator_values_go_out_and_back_unchanged(store, province, tmp_path):
    """Numbers typed, pasted or entered as percentages come back exactly from the workbook and the CSV."""
    wb = book(store, province)
    ind = wb[INDICATORS]
    r = row_of(ind, "22303")
    ind.cell(r, col_of(ind, "15.3."), 21.5)
    ind.cell(r, col_of(ind, "17.8."), 33.3333333333333)  # a computed share pasted as a value (15 digits)
    ind.cell(r, col_of(ind, "10."), 45.25)  # income, triệu đồng/người/năm
    pct = ind.cell(r, col_of(ind, "2.1."), 0.07)  # typed "7%" in a percent cell: Excel keeps 0.07
    pct.number_format = "0%"
    typed = {"15.3": 21.5, "17.8": 33.3333333333333, "10": 45.25, "2.1": 7.0}
    res = run(store, province, save(wb))
    assert res.summary.new == 4
    values = store.current_results().set_index("item")["value"].astype(float).to_dict()
    assert values == typed
    # the year's export holds the same numbers and imports back with nothing changed
    exported = book(store, province)[INDICATORS]
    assert {code: exported.cell(r, col_of(exported, f"{code}.")).value for code in typed} == typed
    again = run(store, province, workbook_for_year(store, province, 2023))
    assert (again.summary.new, again.summary.changed) == (0, 0)
    # the CSV export writes each number as typed, and a fresh store reads the same values from it
    text = export_csv(store)
    for line in ("22303,2023,ntm,2.1,7", "22303,2023,ntm,10,45.25", "22303,2023,ntm,15.3,21.5", "22303,2023,ntm,17.8,33.3333333333333"):
        assert line in text.splitlines(), line
    fresh = Store.open(tmp_path / "fresh.db")
    import_csv(fresh, province, data=text.encode(), source="xuat.csv", author="t")
    assert fresh.current_results().set_index("item")["value"].astype(float).to_dict() == typed
    fresh.close()


# one set of words for đạt / không đạt, in the workbook and the CSV alike (None: refused, naming what is allowed)
WORDS = [
    ("Đạt", True),
    ("đạt", True),
    ("DAT", True),
    ("dat", True),
    ("d", True),
    ("Chưa đạt", False),
    ("chưa-đạt", False),
    ("Không đạt", False),
    ("khong_dat", False),
    ("KD", False),
    ("x", None),
    ("có", None),
]


@pytest.mark.parametrize(("word", "met"), WORDS)
def test_the_workbook_and_the_csv_read_the_same_words(store, province, word, met):
    wb = book(store, province)
    wb[NTM].cell(row_of(wb[NTM], "22303"), 4, word)
    csv = (",".join(HEADER) + f"\n22306,2023,ntm,1,{word}\n").encode()
    if met is None:
        e = rejected(store, province, save(wb))[0]
        assert e.column == "D (1)" and "kết quả phải là dat, khong_dat" in e.message
        with pytest.raises(ImportRejected, match="kết quả phải là dat, khong_dat"):
            import_csv(store, province, data=csv, source="t.csv", author="t")
        return
    run(store, province, save(wb))
    import_csv(store, province, data=csv, source="t.csv", author="t")
    assert store.current_results().set_index("unit")["met"].astype(bool).to_dict() == {"22303": met, "22306": met}


# -- hostile workbooks: decompression bombs are refused before they are parsed (issue 9, part 4) -------------------

SHEET_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
)
SHEET_TAIL = b"</sheetData></worksheet>"
NTM_PART = "xl/worksheets/sheet1.xml"  # openpyxl writes the sheets in order: the first is "Tiêu chí NTM"


@pytest.fixture
def lite(tmp_path):
    s = Store.open(tmp_path / "lite.db")
    yield s
    s.close()


def with_part(data: bytes, name: str, write) -> bytes:
    """The workbook with one part replaced by what ``write(file)`` streams into it (never held whole in memory)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if info.filename == name:
                with zout.open(name, "w") as f:
                    write(f)
            else:
                zout.writestr(info, zin.read(info))
    return out.getvalue()


def declaring(data: bytes, name: str, size: int) -> bytes:
    """The zip with the inflated size of one part, as its central directory declares it, changed to ``size``."""
    buf = bytearray(data)
    at = 0
    while (at := buf.find(b"PK\x01\x02", at + 1)) >= 0:
        name_len = struct.unpack_from("<H", buf, at + 28)[0]
        if buf[at + 46 : at + 46 + name_len].decode() == name:
            struct.pack_into("<I", buf, at + 24, size)
            return bytes(buf)
    raise AssertionError(name)


def refused_small(store, province, data) -> str:
    """The one message of a refusal, checking that the refusal took little memory (nothing was inflated)."""
    tracemalloc.start()
    try:
        errors = rejected(store, province, data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(errors) == 1, [str(e) for e in errors]
    assert peak < 20 * 1024 * 1024, f"{peak / 1e6:.0f} MB while refusing a {len(data) / 1e3:.0f} KB file"
    return errors[0]


def test_a_sheet_of_four_million_cells_is_refused_before_parsing(lite, province):
    def four_million_cells(f):  # 245 rows of 16,384 cells: 58 MB of XML in ~150 KB, as the 299 KB bomb of the issue
        f.write(SHEET_HEAD)
        row = b"<row>" + b"<c><v>1</v></c>" * 16384 + b"</row>"
        for _ in range(245):
            f.write(row)
        f.write(SHEET_TAIL)

    bomb = with_part(workbook_for_year(lite, province, 2023), NTM_PART, four_million_cells)
    assert len(bomb) < 300_000
    e = refused_small(lite, province, bomb)
    assert "sổ giải nén ra 57,7 MB, vượt giới hạn 30 MB" in e.message  # 245 × (11 + 16,384 × 15) + 136 bytes of XML


def test_a_part_that_inflates_a_thousand_times_is_refused(lite, province):
    def empty_cells(f):  # 15.3 MB of <c/>: under the size limit, but no workbook compresses like that
        f.write(SHEET_HEAD)
        for _ in range(245):
            f.write(b"<row>" + b"<c/>" * 16384 + b"</row>")
        f.write(SHEET_TAIL)

    e = refused_small(lite, province, with_part(workbook_for_year(lite, province, 2023), NTM_PART, empty_cells))
    assert e.value == NTM_PART and "vượt giới hạn 100 lần" in e.message and "bom nén" in e.message


def test_a_part_that_lies_about_its_size_is_refused(lite, province):
    data = workbook_for_year(lite, province, 2023)
    # declared huge: refused by the declaration alone
    e = refused_small(lite, province, declaring(data, NTM_PART, 4_000_000_000))
    assert "vượt giới hạn 30 MB" in e.message

    # declared small, inflating to 15 MB: zipfile stops at the declared size, and the part fails its checksum
    def empty_cells(f):
        f.write(SHEET_HEAD + b"<row>" + b"<c/>" * 4_000_000 + b"</row>" + SHEET_TAIL)

    e = refused_small(lite, province, declaring(with_part(data, NTM_PART, empty_cells), NTM_PART, 1000))
    assert "không phải sổ Excel .xlsx đọc được (BadZipFile)" in e.message


def test_too_many_cells_rows_or_columns_are_refused_naming_the_limit(lite, province):
    data = workbook_for_year(lite, province, 2023)
    rng = np.random.default_rng(9)

    def many_cells(f):  # 700 rows × 240 cells of random numbers: compresses like real data, 168,000 cells
        f.write(SHEET_HEAD)
        for values in rng.integers(10**8, 10**9, size=(700, 240)):
            f.write(b"<row>" + b"".join(b"<c><v>%d</v></c>" % v for v in values) + b"</row>")
        f.write(SHEET_TAIL)

    e = refused_small(lite, province, with_part(data, NTM_PART, many_cells))
    assert e.value == NTM_PART and "hơn 150.000 ô, vượt giới hạn 150.000 ô" in e.message
    # one cell in the last row of a sheet, or in its last column: openpyxl would make every cell before it
    wb = book(lite, province)
    wb[NTM].cell(1_048_576, 4, "Đạt")
    e = refused_small(lite, province, save(wb))
    assert "dòng số 1.048.576, vượt giới hạn 5.000 dòng" in e.message
    wb = book(lite, province)
    wb[NTM].cell(2, 16_384, "Đạt")
    e = refused_small(lite, province, save(wb))
    assert "cột XFD (cột thứ 16.384), vượt giới hạn 250 cột (IP)" in e.message


def test_a_part_of_too_many_elements_is_refused(lite, province):
    """50,000 cell styles, each different (so that they compress like real data): openpyxl would build an object
    for each, at about 0.2 ms apiece; no workbook of the office has more than a few hundred."""
    rng = np.random.default_rng(3)
    data = workbook_for_year(lite, province, 2023)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        styles = z.read("xl/styles.xml")
    xfs = b"".join(
        b'<xf numFmtId="%d" fontId="0" fillId="0" borderId="0" applyNumberFormat="%d"/>' % (n, m)
        for n, m in rng.integers(0, 50, (50_000, 2)) * [1, 10**4]
    )
    bomb = with_part(data, "xl/styles.xml", lambda f: f.write(re.sub(rb'(<cellXfs count="\d+">)', lambda m: m[1] + xfs, styles, count=1)))
    e = refused_small(lite, province, bomb)
    assert e.value == "xl/styles.xml" and "hơn 20.000 phần tử XML (ngoài các ô), vượt giới hạn 20.000" in e.message


def test_the_dimensions_a_sheet_declares_are_not_trusted(lite, province):
    """A sheet may declare any <dimension>: the limits count what it holds, and a sheet is read whole."""

    def small_dimension(data):
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            sheet = z.read(NTM_PART).decode()
        assert re.search(r'<dimension ref="A1:V\d+" ?/>', sheet)
        return with_part(data, NTM_PART, lambda f: f.write(re.sub(r'<dimension ref="[^"]+"', '<dimension ref="A1:A1"', sheet).encode()))

    wb = book(lite, province)
    wb[NTM].cell(1_048_576, 4, "Đạt")
    e = refused_small(lite, province, small_dimension(save(wb)))
    assert "dòng số 1.048.576, vượt giới hạn 5.000 dòng" in e.message
    wb = book(lite, province)
    ws = wb[NTM]
    ws.cell(row_of(ws, "22306"), 4 + 18, "Đạt")  # criterion 19, in the last column
    res = run(lite, province, small_dimension(save(wb)))
    assert res.summary.new == 1 and lite.current_results().set_index("unit").loc["22306", "item"] == "19"


# -- the lost-update guard rests on the server's record of the workbook, not on the file (issue 9, part 7) ----------


def _stale_download(store, province):
    """A workbook of 2024 downloaded now, then criterion 17 of its xã in row 5 changed by someone else."""
    from tests.conftest import results_frame

    wb = book(store, province, 2024)
    code = wb[NTM]["A5"].value
    before = bool(store.current_results(years=[2024], units=[code]).query("tier_set == 'ntm' and item == '17'")["met"].iloc[0])
    store.write_results(results_frame([dict(unit=code, year=2024, item="17", met=not before)]), source="PUT", author="Cán bộ khác")
    return wb, code, not before


def _criterion_17(store, code):
    return bool(store.current_results(years=[2024], units=[code]).query("tier_set == 'ntm'").set_index("item")["met"]["17"])


@pytest.mark.parametrize("moment", [None, "", "2099-01-01T00:00:00"], ids=["blank", "empty", "future"])
def test_blanking_or_changing_the_time_in_the_workbook_does_not_undo_a_later_edit(sample_store, province, moment):
    wb, code, later = _stale_download(sample_store, province)
    meta = wb[META]
    assert meta["A3"].value == "tai_luc_utc"
    meta["B3"] = moment
    ws = wb[NTM]
    ws["D5"] = "Chưa đạt" if ws["D5"].value == "Đạt" else "Đạt"  # the officer's one edit
    res = run(sample_store, province, save(wb))
    assert (res.summary.new, res.summary.changed) == (0, 1)
    assert _criterion_17(sample_store, code) == later  # the later edit stands


@pytest.mark.parametrize(
    ("workbook_id", "needle"),
    [(None, "không có mã số sổ (ma_so)"), ("", "không có mã số sổ (ma_so)"), ("AAAAAAAAAAAAAAAAAAAAAA", "không do hệ thống này cấp")],
    ids=["blank", "empty", "forged"],
)
def test_a_workbook_without_an_id_this_store_issued_is_refused(sample_store, province, workbook_id, needle):
    wb, code, later = _stale_download(sample_store, province)
    assert wb[META]["A4"].value == "ma_so" and len(wb[META]["B4"].value) >= 22
    wb[META]["B4"] = workbook_id
    wb[META]["B3"] = None
    wb[NTM]["D5"] = "Chưa đạt" if wb[NTM]["D5"].value == "Đạt" else "Đạt"
    e = rejected(sample_store, province, save(wb))[0]
    assert e.sheet == META and needle in e.message and "hãy tải sổ mới" in e.message
    assert _criterion_17(sample_store, code) == later


def test_a_workbook_id_of_another_year_is_refused(lite, province):
    other = book(lite, province, 2023)[META]["B4"].value
    wb = book(lite, province, 2024)
    wb[META]["B4"] = other
    wb[NTM]["D2"] = "Đạt"
    e = rejected(lite, province, save(wb))[0]
    assert "được cấp cho năm 2023, không phải năm 2024" in e.message


def test_handing_out_workbooks_writes_nothing(sample_store, province):
    """The template is open to anonymous readers: making one must not grow the database (its id is signed, not
    stored). Every table's row count is the same after ten workbooks."""
    import sqlalchemy as sa

    def counts():
        with sample_store.engine.connect() as conn:
            names = sa.inspect(conn).get_table_names()
            return {n: conn.execute(sa.text(f'SELECT COUNT(*) FROM "{n}"')).scalar() for n in names}

    before = counts()
    for _ in range(10):
        workbook_for_year(sample_store, province, 2023)
    assert counts() == before
