"""Data entry for the units from 1 July 2025 (issue 11, part 7): a deployment of the new Tỉnh Đắk Lắk (66) takes
2026 results for its 88 xã, by CSV and by workbook, and refuses a former unit's code naming where it went.
Oracles: the issue's text, the registry files read here with the csv module, the 2025 crosswalk file and the
team's reference file of the 2026–2030 criteria."""

import csv
import io
from pathlib import Path

import pytest
import yaml
from openpyxl import load_workbook

from nongthon.errors import ImportRejected
from nongthon.imports import HEADER, import_file
from nongthon.province import load_province
from nongthon.workbooks import GUIDE, META, SET_SHEETS, workbook_for_year

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
NTM = SET_SHEETS["ntm"]
HEAD = ",".join(HEADER) + "\n"


def units(period: str) -> dict[str, dict]:
    with open(ROOT / "geodata" / f"units_{period}.csv", encoding="utf-8", newline="") as f:
        return {r["code"]: r for r in csv.DictReader(f)}


OLD, NEW = units("cu"), units("moi")
XA_66 = {c: r["name"] for c, r in NEW.items() if r["province_code"] == "66" and r["unit_type"] == "xa"}


@pytest.fixture(scope="module")
def dak_lak():
    return load_province("66")


def run(store, province, data, source="ket_qua_2026.csv"):
    return import_file(store, province, data.encode("utf-8") if isinstance(data, str) else data, source, author="cán bộ")


def rejected(store, province, data, source="ket_qua_2026.csv") -> list:
    with pytest.raises(ImportRejected) as exc:
        run(store, province, data, source)
    assert store.history().empty, "a rejected file must change nothing"
    return exc.value.errors


def test_a_2026_csv_with_codes_of_new_xa_is_stored(store, dak_lak):
    # 22303: Xã Phú Hòa 2 from 1 July 2025 (Xã Hòa Quang Bắc before); 24544: a xã on the former Đắk Lắk's land
    assert NEW["22303"]["name"] == "Xã Phú Hòa 2" and XA_66["24544"].startswith("Xã ")
    res = run(store, dak_lak, HEAD + "22303,2026,ntm,1,dat\n22303,2026,ntm,10,khong_dat\n24544,2026,ntm,7,đạt\n")
    assert (res.rows, res.summary.new) == (3, 3)
    cur = store.current_results(years=[2026])
    got = sorted((r.unit, r.year, r.catalog, r.tier_set, r.level, r.item, bool(r.met)) for r in cur.itertuples())
    assert got == [
        ("22303", 2026, "qd51-2025", "ntm", "criterion", "1", True),
        ("22303", 2026, "qd51-2025", "ntm", "criterion", "10", False),
        ("24544", 2026, "qd51-2025", "ntm", "criterion", "7", True),
    ]


def test_a_former_code_in_a_2026_row_names_the_new_unit_it_went_to(store, dak_lak, province):
    assert OLD["22042"]["name"] == "Xã Hòa Kiến"
    assert (NEW["22045"]["name"], NEW["22045"]["unit_type"]) == ("Phường Bình Kiến", "phuong")
    text = HEAD + "22303,2026,ntm,1,dat\n22042,2026,ntm,1,dat\n22045,2026,ntm,1,dat\n99999,2026,ntm,1,dat\n"
    errors = rejected(store, dak_lak, text)
    assert [(e.row, e.column, e.value) for e in errors] == [(3, "ma_xa", "22042"), (4, "ma_xa", "22045"), (5, "ma_xa", "99999")]
    assert [e.message for e in errors] == [
        # the text, word for word
        "mã 22042 — Xã Hòa Kiến — không còn từ 1/7/2025; nay thuộc Phường Bình Kiến (22045), không xét nông thôn mới",
        # a new phường and a code of nothing: refused as before
        "Phường Bình Kiến là phường, không thuộc diện xét nông thôn mới; chỉ nhận mã của xã",
        "không có đơn vị cấp xã mã này trong danh mục Tỉnh Đắk Lắk",
    ]
    # the same code in a 2024 row of a Phú Yên (54) deployment is Xã Hòa Kiến, and is stored
    res = run(store, province, HEAD + "22042,2024,ntm,1,dat\n")
    assert res.summary.new == 1 and list(store.current_results(years=[2024])["unit"]) == ["22042"]


def test_a_former_xa_that_went_into_a_new_xa_says_which_code_to_write(store, dak_lak):
    # 22054 Xã Xuân Hải (Sông Cầu) went whole into Xã Xuân Lộc (22057)
    with open(ROOT / "geodata" / "crosswalk_2025.csv", encoding="utf-8", newline="") as f:
        assert [r["ma_moi"] for r in csv.DictReader(f) if r["ma_cu"] == "22054"] == ["22057"]
    assert (
        OLD["22054"]["name"] == "Xã Xuân Hải"
        and "22054" not in NEW
        and (NEW["22057"]["name"], NEW["22057"]["unit_type"]) == ("Xã Xuân Lộc", "xa")
    )
    (e,) = rejected(store, dak_lak, HEAD + "22054,2026,ntm,1,dat\n")
    assert e.message == "mã 22054 — Xã Xuân Hải — không còn từ 1/7/2025; nay thuộc Xã Xuân Lộc (22057), hãy ghi theo mã mới 22057"


def test_a_divided_former_unit_lists_every_new_unit(store, dak_lak):
    with open(ROOT / "geodata" / "crosswalk_2025.csv", encoding="utf-8", newline="") as f:
        pairs = [r for r in csv.DictReader(f) if r["tinh_moi"] == "66" and r["chia_tach"] == "1" and r["ma_cu"] not in NEW]
    divided: dict[str, list[str]] = {}
    for r in pairs:
        divided.setdefault(r["ma_cu"], []).append(r["ma_moi"])
    assert "22312" in divided and len(divided) >= 5  # Xã Hòa Trị (Phú Hòa), among others
    text = HEAD + "".join(f"{code},2026,ntm,1,dat\n" for code in divided)
    errors = {e.value: e.message for e in rejected(store, dak_lak, text)}
    assert set(errors) == set(divided)
    for old, went in divided.items():
        message = errors[old]
        assert message.startswith(f"mã {old} — {OLD[old]['name']} — không còn từ 1/7/2025; nay được chia cho ")
        for code in went:
            assert f"{NEW[code]['name']} ({code})" in message
        xa = [c for c in went if NEW[c]["unit_type"] == "xa"]
        assert ("hãy ghi theo mã mới " + " hoặc ".join(xa)) in message if xa else message.endswith("không xét nông thôn mới")
    # Hòa Trị, by hand: part went to a phường, part to a xã
    assert errors["22312"] == (
        "mã 22312 — Xã Hòa Trị — không còn từ 1/7/2025; nay được chia cho Phường Tuy Hòa (22015), Xã Phú Hòa 2 (22303); "
        "hãy ghi theo mã mới 22303 (Phường Tuy Hòa không xét nông thôn mới)"
    )


def test_the_2026_workbook_lists_the_88_xa_and_the_10_criteria_of_qd51(store, dak_lak):
    wb = load_workbook(io.BytesIO(workbook_for_year(store, dak_lak, 2026)))
    assert wb.sheetnames == [NTM, GUIDE, META]  # qd51-2025 lists no indicator: no indicator sheet
    ws = wb[NTM]
    reference = yaml.safe_load((SHARED / "reference" / "ntm_criteria_2026_2030.yaml").read_text(encoding="utf-8"))
    criteria = [f"{c['num']}. {c['name_vi']}" for c in reference["criteria"]["items"]]
    assert len(criteria) == 10
    assert [c.value for c in ws[1]] == ["Mã xã", "Tên xã", *criteria]  # no district column: the new set has none
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=2)]
    assert len(rows) == 88
    assert {r[0]: r[1] for r in rows} == XA_66
    assert all(v is None for r in rows for v in r[2:])
    assert ws.freeze_panes == "C2" and ws.print_title_cols == "$A:$B"
    assert ws["B2"].protection.locked and not ws["C2"].protection.locked
    assert wb[META]["B1"].value == 2026 and wb[META]["B2"].value == "qd51-2025"
    assert "Hai cột đầu (mã xã, tên xã) đã khóa" in "\n".join(str(c.value) for c in wb[GUIDE]["A"])


def test_the_2026_workbook_filled_imports_back(store, dak_lak):
    wb = load_workbook(io.BytesIO(workbook_for_year(store, dak_lak, 2026)))
    ws = wb[NTM]
    row = {c.value: c.row for c in ws["A"]}
    ws.cell(row["22303"], 3).value = "Đạt"  # criterion 1
    ws.cell(row["22303"], 12).value = "Chưa đạt"  # criterion 10
    ws.cell(row["24544"], 9).value = "đạt"  # criterion 7
    buf = io.BytesIO()
    wb.save(buf)
    res = run(store, dak_lak, buf.getvalue(), "so_2026.xlsx")
    assert (res.kind, res.summary.new) == ("xlsx", 3)
    cur = store.current_results(years=[2026])
    got = sorted((r.unit, r.catalog, r.level, r.item, bool(r.met)) for r in cur.itertuples())
    assert got == [
        ("22303", "qd51-2025", "criterion", "1", True),
        ("22303", "qd51-2025", "criterion", "10", False),
        ("24544", "qd51-2025", "criterion", "7", True),
    ]
    # the next export carries them, and imports back unchanged
    again = workbook_for_year(store, dak_lak, 2026)
    ws2 = load_workbook(io.BytesIO(again))[NTM]
    assert (ws2.cell(row["22303"], 3).value, ws2.cell(row["22303"], 12).value, ws2.cell(row["24544"], 9).value) == (
        "Đạt",
        "Chưa đạt",
        "Đạt",
    )
    res = run(store, dak_lak, again, "so_2026.xlsx")
    assert (res.summary.new, res.summary.changed, res.summary.unchanged) == (0, 0, 3)


def test_a_former_code_added_to_the_workbook_is_refused_with_the_same_message(store, dak_lak):
    wb = load_workbook(io.BytesIO(workbook_for_year(store, dak_lak, 2026)))
    ws = wb[NTM]
    ws.append(["22042", "Xã Hòa Kiến", "Đạt"])
    buf = io.BytesIO()
    wb.save(buf)
    (e,) = rejected(store, dak_lak, buf.getvalue(), "so_2026.xlsx")
    assert (e.sheet, e.row, e.column, e.value) == (NTM, 90, "A (Mã xã)", "22042")
    assert e.message.startswith("mã 22042 — Xã Hòa Kiến — không còn từ 1/7/2025; nay thuộc Phường Bình Kiến (22045)")


def test_the_official_count_of_the_new_province_is_88(dak_lak):
    assert dak_lak.registry.official_xa_count(2026) == 88
    assert dak_lak.registry.official_xa_count(2030) == 88
