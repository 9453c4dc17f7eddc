import csv
import io
import json
import os
import shutil
import subprocess
import sys
import unicodedata

import pytest
from openpyxl import load_workbook

from nongthon.accounts import add_user
from nongthon.imports import export_csv
from nongthon.store import Store
from nongthon.workbooks import INDICATORS, SET_SHEETS, workbook_for_year


def cli(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "nongthon.cli", *args], capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=120
    )


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    db = tmp_path_factory.mktemp("cli") / "demo.db"
    r = cli("demo", "--db", str(db))
    assert r.returncode == 0, r.stderr
    assert "DỮ LIỆU MẪU" in r.stdout
    return db


def test_demo_then_report(demo_db):
    r = cli("report", "--db", str(demo_db), "--year", "2023")
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert out.startswith("*** DỮ LIỆU MẪU")
    assert "NĂM 2023" in out and "Tỉnh Phú Yên" in out and "Huyện Tuy An" in out
    assert "Số xã chính thức cuối năm 2023: 83" in out
    assert "Môi trường và an toàn thực phẩm" in out


def test_demo_twice_keeps_the_sample(demo_db):
    r = cli("--db", str(demo_db), "demo")
    assert r.returncode == 0 and "giữ nguyên" in r.stdout


def test_report_csv_columns_and_province_row(demo_db):
    r = cli("report", "--db", str(demo_db), "--year", "2023", "--csv")
    assert r.returncode == 0
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    bands = ["xa_19", "xa_15_18", "xa_10_14", "xa_5_9", "xa_duoi_5"]  # 19 criteria in 2023
    assert list(rows[0]) == ["ma_don_vi", "ten_don_vi", "so_xa", "dat_ntm", "nang_cao", "kieu_mau", "binh_quan_tieu_chi", *bands]
    assert len(rows) == 10 and rows[-1]["ma_don_vi"] == "54"
    assert "DỮ LIỆU MẪU" in r.stderr


def test_db_from_environment(demo_db):
    r = cli("report", "--year", "2019", "--csv", env={"NONGTHON_DB": str(demo_db)})
    assert r.returncode == 0 and list(csv.DictReader(io.StringIO(r.stdout)))[-1]["so_xa"] == "82"


def test_unknown_year_is_an_error(demo_db):
    r = cli("report", "--db", str(demo_db), "--year", "2031")  # the demo follows Đắk Lắk: 2016–2025 Phú Yên, 2026–2030 the new units
    assert r.returncode == 1 and "2016–2021 (qd1980-2016)" in r.stderr and "2026–2030 (qd51-2025)" in r.stderr


def test_import_rejects_with_row_messages_and_exit_code(tmp_path):
    db = tmp_path / "x.db"
    f = tmp_path / "bad.csv"
    f.write_text("ma_xa,nam,bo_tieu_chi,tieu_chi,ket_qua\n22015,2023,ntm,1,dat\n", encoding="utf-8")
    r = cli("import", str(f), "--db", str(db))
    assert r.returncode == 1
    assert "bị từ chối" in r.stderr and "dòng 2, cột ma_xa" in r.stderr and "phường" in r.stderr


def test_import_export_round_trip(tmp_path, demo_db):
    out = tmp_path / "2023.csv"
    r = cli("export", "--db", str(demo_db), "--year", "2023", "-o", str(out))
    assert r.returncode == 0 and out.exists()
    db = tmp_path / "y.db"
    r = cli("import", str(out), "--db", str(db), "--author", "cán bộ A")  # a new store follows Phú Yên alone
    assert r.returncode == 1 and "không có đơn vị cấp xã mã này trong danh mục Tỉnh Phú Yên" in r.stderr  # the old Đắk Lắk's xã
    r = cli("import", str(out), "--db", str(db), "--author", "cán bộ A", "--tinh", "66")  # the demo's deployment
    assert r.returncode == 0 and "mới" in r.stdout
    r2 = cli("import", str(out), "--db", str(db))
    assert "mới 0, thay đổi 0" in r2.stdout


def test_project_prints_probabilities(demo_db):
    r = cli("project", "--db", str(demo_db), "--from", "2023", "--runs", "200")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("*** DỮ LIỆU MẪU") and "2025: NTM" in r.stdout and "80% số xã đạt chuẩn nông thôn mới" in r.stdout
    bad = cli("project", "--db", str(demo_db), "--runs", "0")
    assert bad.returncode == 1 and "runs=0 phải từ 1 đến 10000" in bad.stderr


def _sample_2024(sample_db):
    """From the sample: criteria 1 and 17 of Hòa Quang Bắc (22303) in 2024; it records no indicator values."""
    s = Store.open(sample_db)
    cur = s.current_results(years=[2024], units=["22303"]).query("tier_set == 'ntm'").set_index("item")
    filled = len(s.current_results(years=[2024]).query("unit.str.len() == 5"))  # commune-level results: the workbook's cells
    s.close()
    assert "15.3" not in cur.index
    return bool(cur.loc["1", "met"]), bool(cur.loc["17", "met"]), filled


def _windows_1258(text):
    """Text as Windows-1258 keeps Vietnamese: letters with a circumflex, breve or horn whole, tone marks apart."""
    tones = "\u0300\u0301\u0303\u0309\u0323"
    out = []
    for ch in text:
        parts = unicodedata.normalize("NFD", ch)
        out.append(unicodedata.normalize("NFC", "".join(c for c in parts if c not in tones)) + "".join(c for c in parts if c in tones))
    return "".join(out).encode("cp1258")


def _csv_file(tmp_path, sample_db, province):
    """Criterion 1 as it is, criterion 17 flipped, indicator 15.3 new; Windows-1258, as Excel saves a CSV."""
    met1, met17, _ = _sample_2024(sample_db)
    word = {True: "Đạt", False: "Không đạt"}
    text = f"ma_xa,nam,bo_tieu_chi,tieu_chi,ket_qua\n22303,2024,ntm,1,{word[met1]}\n22303,2024,ntm,17,{word[not met17]}\n22303,2024,ntm,15.3,21.5\n"
    f = tmp_path / "so-lieu-2024.csv"
    f.write_bytes(_windows_1258(text))
    return f, not met17, {"moi": 1, "thay_doi": 1, "khong_doi": 1}, 3


def _workbook_file(tmp_path, sample_db, province):
    """The year's workbook as downloaded, with criterion 17 flipped and indicator 15.3 typed for 22303."""
    _, met17, filled = _sample_2024(sample_db)
    s = Store.open(sample_db)
    wb = load_workbook(io.BytesIO(workbook_for_year(s, province, 2024)))
    s.close()
    ws, ind = wb[SET_SHEETS["ntm"]], wb[INDICATORS]
    row, col = next(c.row for c in ws["A"] if c.value == "22303"), next(c.column for c in ws[1] if str(c.value).startswith("17."))
    ws.cell(row, col, "Chưa đạt" if met17 else "Đạt")
    ind.cell(row, next(c.column for c in ind[1] if str(c.value).startswith("15.3.")), 21.5)  # the same rows on every sheet
    f = tmp_path / "so-2024.xlsx"
    wb.save(f)
    return f, not met17, {"moi": 1, "thay_doi": 1, "khong_doi": filled - 1}, filled + 1


@pytest.mark.parametrize("make", [_csv_file, _workbook_file], ids=["csv", "xlsx"])
def test_the_command_line_and_the_api_import_alike(make, sample_db, province, tmp_path):
    """The same file, the same sample: `nongthon import` and POST /api/imports answer the same, dry run and
    real, and leave the same results behind."""
    from fastapi.testclient import TestClient

    from api.app import create_app

    f, met17, counts, n = make(tmp_path, sample_db, province)
    cli_db, api_db = tmp_path / "cli.db", tmp_path / "api.db"
    shutil.copy(sample_db, cli_db)
    shutil.copy(sample_db, api_db)
    s = Store.open(api_db)
    token = add_user(s, province.registry, "Quản trị", "admin")
    s.close()
    with TestClient(create_app(api_db, province)) as api:

        def post(dry_run):
            r = api.post(
                f"/api/imports?dry_run={str(dry_run).lower()}",
                files={"tep": (f.name, f.read_bytes(), "application/octet-stream")},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert r.status_code == 200, r.text
            return r.json()

        def run_cli(*extra):
            r = cli("import", str(f), "--db", str(cli_db), "--json", *extra)
            assert r.returncode == 0, r.stderr
            return json.loads(r.stdout)

        dry = run_cli("--dry-run")
        assert dry == post(True)
        assert dry["tom_tat"] == counts and dry["so_ket_qua"] == n and dry["thu_nghiem"] and not dry["da_ghi"]
        changed = [(x["ma_xa"], x["tieu_chi"], x["cu"], x["moi"]) for x in dry["chi_tiet"] if x["trang_thai"] != "khong_doi"]
        word = {True: "dat", False: "khong_dat"}
        assert changed == [("22303", "17", word[not met17], word[met17]), ("22303", "15.3", None, 21.5)]
        if f.suffix == ".csv":
            assert dry["canh_bao"] == ["Tệp mã hóa cp1258 (Windows-1258), đã chuyển sang UTF-8."]
        # the text of a dry run says the same
        text = cli("import", str(f), "--db", str(cli_db), "--dry-run").stdout
        assert f"{n} kết quả — mới 1, thay đổi 1, không đổi {counts['khong_doi']}." in text
        label = {True: "đạt", False: "chưa đạt"}
        assert f"đổi: Xã Hòa Quang Bắc (22303) 2024 ntm 17: {label[not met17]} → {label[met17]}" in text
        assert "mới: Xã Hòa Quang Bắc (22303) 2024 ntm 15.3: — → 21.5" in text
        done = run_cli()
        assert done == post(False)
        assert done["da_ghi"] and done["tom_tat"] == counts
    stores = [Store.open(cli_db), Store.open(api_db)]
    exports = [export_csv(s, years=[2024]) for s in stores]
    for s in stores:
        cur = s.current_results(years=[2024], units=["22303"]).query("tier_set == 'ntm'").set_index("item")
        assert bool(cur.loc["17", "met"]) == met17 and cur.loc["15.3", "value"] == 21.5
        s.close()
    assert exports[0] == exports[1]
