import csv
import io
import os
import subprocess
import sys

import pytest

from nongthon.reports import REPORT_COLUMNS


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
    assert list(rows[0]) == REPORT_COLUMNS
    assert len(rows) == 10 and rows[-1]["ma_don_vi"] == "54"
    assert "DỮ LIỆU MẪU" in r.stderr


def test_db_from_environment(demo_db):
    r = cli("report", "--year", "2019", "--csv", env={"NONGTHON_DB": str(demo_db)})
    assert r.returncode == 0 and list(csv.DictReader(io.StringIO(r.stdout)))[-1]["so_xa"] == "82"


def test_unknown_year_is_an_error(demo_db):
    r = cli("report", "--db", str(demo_db), "--year", "2030")
    assert r.returncode == 1 and "2016–2021 (qd1980-2016)" in r.stderr


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
    r = cli("import", str(out), "--db", str(db), "--author", "cán bộ A")
    assert r.returncode == 0 and "mới" in r.stdout
    r2 = cli("import", str(out), "--db", str(db))
    assert "mới 0, thay đổi 0" in r2.stdout


def test_project_prints_probabilities(demo_db):
    r = cli("project", "--db", str(demo_db), "--from", "2023", "--runs", "200")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("*** DỮ LIỆU MẪU") and "2025: NTM" in r.stdout and "80% số xã đạt chuẩn nông thôn mới" in r.stdout
    bad = cli("project", "--db", str(demo_db), "--runs", "0")
    assert bad.returncode == 1 and "runs=0 phải từ 1 đến 10000" in bad.stderr
