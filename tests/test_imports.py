import unicodedata

import pytest

from nongthon.errors import ImportRejected, InvalidParameter
from nongthon.imports import HEADER, export_csv, import_csv
from nongthon.store import Store
from nongthon.validation import RESULT_HINT

HEAD = ",".join(HEADER) + "\n"
GOOD = (
    HEAD
    + "22303,2023,ntm,1,dat\n22303,2023,ntm,2,khong_dat\n22303,2023,ntm,15.3,21.5\n22303,2023,kieu_mau,thon_thong_minh,dat\n22303,2020,ntm,10,45\n"
)


def run(store, province, text, **kw):
    data = text.encode("utf-8") if isinstance(text, str) else text
    return import_csv(store, province, data=data, source="t.csv", author="tester", **kw)


def rejected(store, province, text) -> list:
    before = len(store.history())
    with pytest.raises(ImportRejected) as exc:
        run(store, province, text)
    assert len(store.history()) == before, "a rejected file must change nothing"
    return exc.value.errors


def one_error(store, province, text):
    errors = rejected(store, province, text)
    assert len(errors) == 1, errors
    return errors[0]


def test_good_file_imports_every_kind_of_result(store, province):
    res = run(store, province, GOOD)
    assert (res.rows, res.summary.new, res.summary.changed, res.summary.unchanged) == (5, 5, 0, 0)
    cur = store.current_results().set_index(["year", "tier_set", "item"])
    assert cur.loc[(2023, "ntm", "1"), "level"] == "criterion" and bool(cur.loc[(2023, "ntm", "1"), "met"])
    assert cur.loc[(2023, "ntm", "15.3"), "level"] == "indicator" and cur.loc[(2023, "ntm", "15.3"), "value"] == 21.5
    assert cur.loc[(2023, "kieu_mau", "thon_thong_minh"), "level"] == "condition"
    # a number for criterion 10 is the value of its single indicator (income), catalogue of the year
    assert cur.loc[(2020, "ntm", "10"), "level"] == "indicator" and cur.loc[(2020, "ntm", "10"), "catalog"] == "qd1980-2016"


def test_second_import_changes_nothing(store, province):
    run(store, province, GOOD)
    before = len(store.history())
    res = run(store, province, GOOD)
    assert (res.summary.new, res.summary.changed, res.summary.unchanged) == (0, 0, 5)
    assert len(store.history()) == before


def test_second_import_of_numbers_only_or_words_only_changes_nothing(store, province):
    """The current results are compared whatever their columns hold: a year of numbers only (no đạt / không đạt
    stored), a year of words only (no value stored)."""
    numbers = HEAD + "22303,2022,ntm,15.3,21.5\n22306,2022,ntm,15.3,0.30000000000000004\n"
    words = HEAD + "22303,2023,ntm,1,dat\n22306,2023,ntm,2,khong_dat\n"
    for text in (numbers, words):
        first, second = run(store, province, text), run(store, province, text)
        assert (first.summary.new, second.summary.new, second.summary.changed, second.summary.unchanged) == (2, 0, 0, 2)
    assert len(store.history()) == 4
    assert run(store, province, numbers.replace("0.30000000000000004", "0.3")).summary.changed == 1


def test_a_changed_value_is_appended(store, province):
    run(store, province, GOOD)
    res = run(store, province, GOOD.replace("22303,2023,ntm,2,khong_dat", "22303,2023,ntm,2,dat"))
    assert (res.summary.new, res.summary.changed, res.summary.unchanged) == (0, 1, 4)


def test_dry_run_writes_nothing(store, province):
    res = run(store, province, GOOD, dry_run=True)
    assert res.summary.new == 5 and store.history().empty


def test_wrong_header(store, province):
    e = one_error(store, province, "ma_xa,nam,bo,tieu_chi,ket_qua\n22303,2023,ntm,1,dat\n")
    assert (e.row, e.column) == (1, "(dòng tiêu đề)")
    assert (
        "thiếu cột bo_tieu_chi" in e.message and "cột không nhận bo" in e.message and "ma_xa,nam,bo_tieu_chi,tieu_chi,ket_qua" in e.message
    )


@pytest.mark.parametrize(
    ("line", "column", "needle"),
    [
        ("2230,2023,ntm,1,dat", "ma_xa", "5 chữ số"),
        ("abcde,2023,ntm,1,dat", "ma_xa", "5 chữ số"),
        ("99999,2023,ntm,1,dat", "ma_xa", "không có đơn vị cấp xã mã này"),
        ("22015,2023,ntm,1,dat", "ma_xa", "Phường 1 là phường, không thuộc diện xét nông thôn mới"),
        ("22081,2023,ntm,1,dat", "ma_xa", "Thị trấn La Hai là thị trấn"),
        ("22303,hai,ntm,1,dat", "nam", "2016–2021 (qd1980-2016), 2022–2025 (qd318-2022)"),
        ("22303,2030,ntm,1,dat", "nam", "năm phải là số nguyên có bộ tiêu chí áp dụng"),
        ("22303,2023,xa,1,dat", "bo_tieu_chi", "ntm, nang_cao, kieu_mau"),
        ("22303,2019,nang_cao,1,dat", "bo_tieu_chi", "qd1980-2016 (các năm 2016–2021) không có bộ này; có: ntm"),
        ("22303,2023,ntm,20,dat", "tieu_chi", "nhận số tiêu chí 1–19"),
        ("22303,2023,ntm,17.99,dat", "tieu_chi", "không có trong bộ xã NTM"),
        ("22303,2023,kieu_mau,5,dat", "tieu_chi", "thu_nhap, thon_thong_minh, linh_vuc_noi_troi"),
        ("22303,2023,ntm,2,85", "ket_qua", "dùng mã chỉ tiêu (2.1, 2.2, 2.3, 2.4)"),
        ("22303,2023,ntm,1.1,1", "ket_qua", "nhận dat hoặc khong_dat, không nhận số"),
        ("22303,2023,ntm,1,có", "ket_qua", "kết quả phải là dat, khong_dat, hoặc một số"),
        ('22303,2023,ntm,15.3,"21,5"', "ket_qua", "dấu chấm thập phân"),
        ("22303,2023,ntm,15.3,120", "ket_qua", "0–100"),
        ("22303,2023,ntm,9.1,-1", "ket_qua", "không được âm"),
    ],
)
def test_each_rejection_names_row_column_value_and_what_is_allowed(store, province, line, column, needle):
    e = one_error(store, province, HEAD + "22306,2023,ntm,1,dat\n" + line + "\n")
    assert e.row == 3 and e.column == column and needle in e.message, str(e)
    assert e.value == line.split(",")[HEADER.index(column)].strip('"') or column == "ket_qua"
    assert str(e).startswith("dòng 3, cột " + column)


def test_duplicate_rows_name_the_first(store, province):
    e = one_error(store, province, HEAD + "22303,2023,ntm,1,dat\n22306,2023,ntm,1,dat\n22303,2023,ntm,1,khong_dat\n")
    assert e.row == 4 and "trùng với dòng 2" in e.message


def test_all_errors_are_reported_at_once_and_nothing_is_written(store, province):
    errors = rejected(store, province, HEAD + "22303,2023,ntm,1,dat\n22015,2023,ntm,1,dat\n22303,2031,ntm,1,dat\n22303,2023,ntm,1,x\n")
    assert [(e.row, e.column) for e in errors] == [(3, "ma_xa"), (4, "nam"), (5, "ket_qua")]


def test_nfd_text_bom_and_windows_1258_are_accepted(store, province):
    nfd = unicodedata.normalize("NFD", HEAD + "22303,2023,ntm,1,đạt\n22303,2023,ntm,2,Không đạt\n22303,2023,ntm,3,chưa đạt\n")
    assert nfd != unicodedata.normalize("NFC", nfd)
    res = run(store, province, ("\ufeff" + nfd).encode("utf-8"))
    assert res.summary.new == 3
    cur = store.current_results().set_index("item")["met"]
    assert cur.to_dict() == {"1": True, "2": False, "3": False}
    res = run(store, province, unicodedata.normalize("NFD", HEAD + "22306,2023,ntm,1,Đạt\n").encode("cp1258"))
    assert res.encoding == "cp1258" and res.summary.new == 1


def test_blank_rows_are_skipped_and_rows_keep_their_file_numbers(store, province):
    e = one_error(store, province, HEAD + "22303,2023,ntm,1,dat\n\n,,,,\n22303,2023,ntm,2,zzz\n")
    assert e.row == 5


def test_not_a_csv_at_all(store, province):
    e = one_error(store, province, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    assert "không phải tệp CSV" in e.message


def test_export_round_trip(sample_store, province, tmp_path):
    text = export_csv(sample_store, years=[2023])
    assert text.splitlines()[0] == ",".join(HEADER)
    assert len(text.splitlines()) - 1 == len(sample_store.current_results(years=[2023]))
    # the export imports back unchanged into the same store, and identically into a fresh one
    res = run(sample_store, province, text)
    assert (res.summary.new, res.summary.changed) == (0, 0)
    fresh = Store.open(tmp_path / "fresh.db")
    run(fresh, province, text)
    assert export_csv(fresh, years=[2023]) == text
    fresh.close()


def test_district_level_criteria_are_recorded_by_district_code(store, province):
    text = HEAD + "559,2023,huyen_ntm,2,dat\n559,2023,huyen_ntm,5,khong_dat\n557,2025,hoan_thanh,1,dat\n22303,2023,ntm,1,dat\n"
    res = run(store, province, text)
    assert res.summary.new == 4
    cur = store.current_results().set_index(["unit", "tier_set", "item"])
    assert bool(cur.loc[("559", "huyen_ntm", "2"), "met"]) and not bool(cur.loc[("559", "huyen_ntm", "5"), "met"])
    assert export_csv(store).count("huyen_ntm") == 2


@pytest.mark.parametrize(
    ("line", "column", "needle"),
    [
        ("22303,2023,huyen_ntm,1,dat", "ma_xa", "ghi cho đơn vị cấp huyện: mã 3 chữ số"),
        ("557,2023,huyen_ntm,1,dat", "ma_xa", "Thị xã Sông Cầu không thuộc diện bộ huyen_ntm"),
        ("559,2023,huyen_ntm,10,dat", "tieu_chi", "bộ huyen_ntm có các tiêu chí 1–9"),
        ("559,2019,huyen_ntm,1,dat", "bo_tieu_chi", "không có bộ cấp huyện này"),
        ("559,2023,huyen_ntm,1,80", "ket_qua", "dat hoặc khong_dat"),
    ],
)
def test_district_level_rejections(store, province, line, column, needle):
    e = one_error(store, province, HEAD + line + "\n")
    assert e.column == column and needle in e.message, str(e)


def test_numeric_values_go_out_and_back_exactly(store, province):
    # written in the export's own order (commune, year, set, item) so that the export must equal the file
    text = (
        HEAD
        + "22303,2023,ntm,9.1,0\n"  # an absence indicator: a count, met at 0
        + "22303,2023,ntm,10,45.25\n"
        + "22303,2023,ntm,15.3,21.5\n"
        + "22303,2023,ntm,17.8,33.3333333333333\n"  # a share pasted from a spreadsheet formula
        + "22306,2023,ntm,2.1,0.00005\n"
    )
    run(store, province, text)
    values = store.current_results().set_index(["unit", "item"])["value"].astype(float).to_dict()
    assert values == {
        ("22303", "9.1"): 0.0,
        ("22303", "10"): 45.25,
        ("22303", "15.3"): 21.5,
        ("22303", "17.8"): 33.3333333333333,
        ("22306", "2.1"): 0.00005,
    }
    assert export_csv(store) == text
    again = run(store, province, export_csv(store))
    assert (again.summary.new, again.summary.changed, again.summary.unchanged) == (0, 0, 5)


def test_conditions_of_recognition_are_recorded_beside_the_criteria(store, province):
    """18/2022/QĐ-TTg: a recognition also needs resident satisfaction, no outstanding construction debt and
    security and order. Recorded per set like a criterion (đạt / không đạt), shown per year in a commune's
    detail, "chưa đánh giá" until recorded — and they decide no tier."""
    from nongthon.layers import commune_detail

    run(
        store,
        province,
        HEAD + "22303,2023,ntm,hai_long,dat\n22303,2023,ntm,an_ninh_trat_tu,khong_dat\n22303,2023,ntm,17,dat\n",
    )
    year = commune_detail(store, province, "22303")["cac_nam"][0]
    ntm = {c["ma"]: c["trang_thai"] for c in year["dieu_kien_cong_nhan"] if c["bo_tieu_chi"] == "ntm"}
    assert ntm == {"hai_long": "dat", "an_ninh_trat_tu": "khong_dat", "khong_no_dong_xdcb": "chua_danh_gia"}
    assert year["hang"] == "chua_dat" and year["so_tieu_chi_dat"] == 1  # criteria decide the tier, not these
    assert "22303,2023,ntm,hai_long,dat" in export_csv(store)
    # a number for a đạt / không đạt condition, and a code that is none, are refused with what is allowed
    msg = one_error(store, province, HEAD + "22303,2023,ntm,hai_long,95\n").message
    assert "nhận dat hoặc khong_dat" in msg
    msg = one_error(store, province, HEAD + "22303,2023,ntm,hai_longg,dat\n").message
    assert "hoặc điều kiện công nhận (hai_long, khong_no_dong_xdcb, an_ninh_trat_tu)" in msg


# -- a file of bad rows gives a bounded answer, in time proportional to its rows (issue 9, part 5) -----------------

BAD_RESULT = f"kết quả phải là {RESULT_HINT}"
BAD_YEAR = "năm phải là số nguyên có bộ tiêu chí áp dụng: 2016–2021 (qd1980-2016), 2022–2025 (qd318-2022)"
BAD_CODE = "không có đơn vị cấp xã mã này trong danh mục Tỉnh Phú Yên"


def bad_megabyte() -> tuple[str, dict]:
    """About 1 MB of rows with one error each, in three kinds; and how many of each kind it holds."""
    kinds = [
        ("ket_qua", BAD_RESULT, lambda i: f"22303,2023,ntm,1,{'x' * 100}{i}"),  # a long value: echoed cut short
        ("nam", BAD_YEAR, lambda i: "22303,2031,ntm,1,dat"),
        ("ma_xa", BAD_CODE, lambda i: "99999,2023,ntm,1,dat"),
    ]
    lines, counts, size, i = [HEAD.strip()], {(c, m): 0 for c, m, _ in kinds}, 0, 0
    while size < 1_000_000:
        column, message, make = kinds[i % 3]
        lines.append(make(i))
        size += len(lines[-1]) + 1
        counts[(column, message)] += 1
        i += 1
    return "\n".join(lines) + "\n", counts


def test_a_megabyte_of_bad_rows_lists_200_errors_the_total_and_a_summary(store, province):
    text, counts = bad_megabyte()
    total = sum(counts.values())
    assert total > 15_000
    with pytest.raises(ImportRejected) as exc:
        run(store, province, text)
    e = exc.value
    assert e.total == total and len(e.errors) == 200 and f": {total} lỗi." in e.headline()
    # the first 200 in file order: rows 2, 3, 4, … with their kinds in turn
    assert [(x.row, x.column, x.message) for x in e.errors[:3]] == [
        (2, "ket_qua", BAD_RESULT),
        (3, "nam", BAD_YEAR),
        (4, "ma_xa", BAD_CODE),
    ]
    assert e.errors[-1].row == 201
    # an echoed value is cut to 60 characters, the cut marked
    assert e.errors[0].value == "x" * 59 + "…"
    assert {(g.column, g.kind): g.count for g in e.summary} == counts
    assert store.history().empty


def test_duplicates_are_named_for_every_repeat_in_one_step(store, province):
    text = HEAD + "22303,2023,ntm,1,dat\n22306,2023,ntm,1,dat\n" + "22303,2023,ntm,1,khong_dat\n" * 500
    errors = rejected(store, province, text)
    assert len(errors) == 200 and [x.row for x in errors[:3]] == [4, 5, 6]
    assert errors[0].message == "trùng với dòng 2 (cùng xã 22303, năm 2023, bộ ntm); mỗi kết quả chỉ ghi một lần trong tệp"
    with pytest.raises(ImportRejected) as exc:
        run(store, province, text)
    assert exc.value.total == 500 and [(g.column, g.count) for g in exc.value.summary] == [("tieu_chi", 500)]


def test_invisible_characters_in_cells_are_removed(store, province):
    """Zero-width, bidirectional-control and BOM characters are dropped on the way in, not refused."""
    text = HEAD + "\u200b22303\ufeff,2023,ntm,1,\u202edat\u202c\n2230\u20606,2023,ntm,\u200d2,\u2066khong_dat\u2069\n"
    res = run(store, province, text)
    assert res.summary.new == 2
    assert store.current_results().set_index("unit")["met"].astype(bool).to_dict() == {"22303": True, "22306": False}


def test_the_note_and_the_file_name_are_limited(store, province):
    with pytest.raises(InvalidParameter, match="ghi_chu dài 501 ký tự, vượt giới hạn 500 ký tự"):
        run(store, province, GOOD, note="n" * 501)
    with pytest.raises(InvalidParameter, match="tên tệp dài 205 ký tự, vượt giới hạn 200 ký tự"):
        import_csv(store, province, data=GOOD.encode(), source="t" * 201 + ".csv", author="tester")
    assert store.history().empty
    run(store, province, GOOD, note="\u202eGhi chú\u200b " + "n" * 480)
    assert set(store.history()["note"]) == {"Ghi chú " + "n" * 480}
