"""The ``nongthon`` command. Every command takes ``--db PATH`` (a SQLite file, or a database URL);
without it, the NONGTHON_DB environment variable, else ``nongthon.db`` in the current folder.
Messages are in Vietnamese (``--lang en``: error messages in English where nongthon/lang has them, and the
map and the workbook's instructions in English); the exit code is 0 on success, 1 when the input or the data is rejected,
2 on a usage error."""

from __future__ import annotations

import argparse
import contextlib
import getpass
import json
import os
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from . import __version__
from .errors import ImportRejected, NongthonError
from .imports import export_csv, import_file, read_file
from .lang import LANGS, translate
from .reports import criterion_report, district_criterion_report, report_bands, standard_report
from .sample import SAMPLE_LABEL_VI
from .store import Store
from .validation import MET_CODE, MET_LABEL, NOT_MET_CODE, NOT_MET_LABEL, number_text

DEFAULT_DB = "nongthon.db"
REPORT_HEADERS_VI = {
    "ma_don_vi": "Mã",
    "ten_don_vi": "Đơn vị",
    "so_xa": "Số xã",
    "dat_ntm": "Đạt NTM",
    "nang_cao": "NTM nâng cao",
    "kieu_mau": "NTM kiểu mẫu",
    "binh_quan_tieu_chi": "BQ tiêu chí/xã",
}


def band_headers(criteria_count: int) -> dict[str, str]:
    """Short headers of the report's bands: "19 TC", "15–18", …, "<5"."""
    out = {}
    for col, lo, hi in report_bands(criteria_count):
        out[col] = f"{lo} TC" if lo == hi == criteria_count else (f"<{hi + 1}" if lo == 0 else (f"{lo}–{hi}" if hi > lo else f"{lo}"))
    return out


def _db_default() -> str:
    # The command line is the edge of the program: the only place that reads the environment.
    return os.environ.get("NONGTHON_DB", DEFAULT_DB)


def build_parser() -> argparse.ArgumentParser:
    db_help = "tệp SQLite hoặc URL cơ sở dữ liệu (mặc định: $NONGTHON_DB hoặc nongthon.db)"
    # --db is accepted before or after the command; the subcommands' copy must not reset it to the default
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", default=argparse.SUPPRESS, help=db_help)
    lang_help = "ngôn ngữ của thông báo lỗi, bản đồ (map) và trang hướng dẫn của sổ Excel (template): vi (mặc định) hoặc en"
    common.add_argument("--lang", choices=LANGS, default=argparse.SUPPRESS, help=lang_help)
    parser = argparse.ArgumentParser(prog="nongthon", description="Theo dõi xây dựng nông thôn mới theo từng xã.")
    parser.add_argument("--db", default=_db_default(), help=db_help)
    parser.add_argument("--lang", choices=LANGS, default="vi", help=lang_help)
    parser.add_argument("--version", action="version", version=f"nongthon {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="LỆNH")

    p = sub.add_parser("demo", parents=[common], help="tạo cơ sở dữ liệu với dữ liệu mẫu")
    p.add_argument(
        "--tinh",
        default="66",
        help="hồ sơ tỉnh được theo dõi: 66 (mặc định: Tỉnh Đắk Lắk từ 1/7/2025, với tỉnh tiền thân Phú Yên 54 và Đắk Lắk cũ 66-cu "
        "cho các năm đến 2025) hoặc 54 (chỉ Phú Yên, đến 2025)",
    )
    p.add_argument(
        "--national",
        action="store_true",
        help="toàn quốc: mọi xã của 34 tỉnh, thành phố từ 1/7/2025, kết quả mẫu năm 2026 theo 51/2025/QĐ-TTg (thay cho --tinh)",
    )
    p.add_argument("--seed", type=int, default=None, help="hạt giống ngẫu nhiên của dữ liệu mẫu")

    p = sub.add_parser("template", parents=[common], help="sổ Excel của một năm: mẫu nhập, điền sẵn kết quả hiện có")
    p.add_argument("--year", type=int, required=True)
    p.add_argument("-o", "--output", type=Path, default=None, help="tệp ra (mặc định: nong-thon-moi-NĂM.xlsx)")

    p = sub.add_parser("import", parents=[common], help="nhập sổ Excel (.xlsx) hoặc CSV kết quả (ma_xa,nam,bo_tieu_chi,tieu_chi,ket_qua)")
    p.add_argument("file", type=Path)
    p.add_argument("--dry-run", action="store_true", help="chỉ kiểm tra và tóm tắt, không ghi")
    p.add_argument("--author", default=None, help="người nhập (mặc định: tên người dùng hệ thống)")
    p.add_argument("--note", default=None, help="ghi chú cho lần nhập")
    p.add_argument("--json", action="store_true", help="in kết quả dạng JSON, như câu trả lời của POST /api/imports")
    p.add_argument(
        "--tinh",
        default=None,
        help="hồ sơ tỉnh mà cơ sở dữ liệu MỚI theo dõi (66: Đắk Lắk từ 1/7/2025 với tiền thân 54 và 66-cu; mặc định 54); "
        "cơ sở dữ liệu đã theo dõi một tỉnh không đổi",
    )

    p = sub.add_parser("export", parents=[common], help="xuất kết quả hiện hành ra CSV cùng định dạng nhập")
    p.add_argument("--year", type=int, action="append", help="năm (có thể lặp lại; mặc định: mọi năm)")
    p.add_argument("--as-of", default=None, help="thời điểm (ISO 8601, UTC) để xuất dữ liệu như đã biết lúc đó")
    p.add_argument("-o", "--output", type=Path, default=None, help="tệp ra (mặc định: màn hình)")

    p = sub.add_parser("serve", parents=[common], help="chạy máy chủ bản đồ và API (http://HOST:PORT/map)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        help="số tiến trình phục vụ trên cùng một cổng (mặc định: 1); mỗi tiến trình có bộ nhớ đệm riêng và thấy mọi lần ghi trong 0,25 s",
    )

    p = sub.add_parser("map", parents=[common], help="ghi bản đồ ra một tệp HTML độc lập")
    p.add_argument("--year", type=int, required=True)
    p.add_argument("-o", "--output", type=Path, required=True)

    p = sub.add_parser("boundaries", parents=[common], help="ranh giới hành chính")
    bsub = p.add_subparsers(dest="boundaries_command", required=True, metavar="LỆNH")
    b = bsub.add_parser("import", parents=[common], help="nạp tệp ranh giới chính thức (GeoPackage, Shapefile, GeoJSON)")
    b.add_argument("file", type=Path)
    b.add_argument("--layer", default=None, help="tên lớp trong tệp (bắt buộc khi tệp có nhiều lớp)")
    b.add_argument("--crs", default=None, help="hệ tọa độ khi tệp không ghi: EPSG:3406, hoặc vn2000-tm3:108.5 (múi 3° của tỉnh)")
    b.add_argument("--code-column", default=None, help="cột mã xã (5 chữ số)")
    b.add_argument("--name-column", default=None, help="cột tên xã (khi không có mã)")
    b.add_argument("--district-column", default=None, help="cột tên huyện (ghép tên trong từng huyện)")
    b.add_argument("--require-all", action="store_true", help="từ chối nếu thiếu đơn vị hoặc có đối tượng không khớp")
    b.add_argument("--author", default=None)

    p = sub.add_parser("users", parents=[common], help="tài khoản: thêm, liệt kê, thu hồi")
    usub = p.add_subparsers(dest="users_command", required=True, metavar="LỆNH")
    u = usub.add_parser("add", parents=[common], help="tạo tài khoản; mã truy cập chỉ hiện một lần")
    u.add_argument("name")
    u.add_argument("--role", required=True, choices=["admin", "editor", "viewer"])
    u.add_argument("--district", default=None, help="mã huyện (3 chữ số): biên tập viên chỉ sửa được xã của huyện này")
    usub.add_parser("list", parents=[common], help="liệt kê tài khoản")
    u = usub.add_parser("revoke", parents=[common], help="thu hồi mã truy cập của một tài khoản")
    u.add_argument("name")

    p = sub.add_parser("project", parents=[common], help="dự báo đến năm đích: xác suất đạt từng mục tiêu và mốc")
    p.add_argument("--horizon", type=int, default=None, help="năm đích (mặc định: năm cuối của bộ tiêu chí của năm có số liệu mới nhất)")
    p.add_argument("--from", dest="start", type=int, default=None, help="năm bắt đầu (mặc định: năm mới nhất có số liệu)")
    p.add_argument("--runs", type=int, default=1000, help="số lần mô phỏng")
    p.add_argument("--seed", type=int, default=2025)

    p = sub.add_parser("report", parents=[common], help="báo cáo tổng hợp theo huyện và toàn tỉnh")
    p.add_argument("--year", type=int, required=True)
    p.add_argument("--csv", action="store_true", help="in CSV (ma_don_vi, ten_don_vi, so_xa, …)")
    p.add_argument("--as-of", default=None, help="thời điểm (ISO 8601, UTC)")
    p.add_argument(
        "--don-vi",
        default=None,
        help="đơn vị để xem: cu (trước 1/7/2025; mặc định đến 2025) hoặc moi (xã mới, trạng thái suy ra từ các xã cũ; năm đến 2025)",
    )
    p.add_argument("-o", "--output", type=Path, default=None)

    p = sub.add_parser("closeout", parents=[common], help="báo cáo tổng kết giai đoạn (2021–2025): tỷ lệ cuối kỳ, mốc, tiêu chí, dự báo")
    p.add_argument("--period", default="2021-2025", help="giai đoạn (mặc định 2021-2025)")
    p.add_argument("--csv", action="store_true", help="in bảng chính dạng CSV (so_lieu, nam_so_lieu, ma_muc_tieu, ty_le, trang_thai, …)")
    p.add_argument("--html", action="store_true", help="ghi trang HTML để in (A4 ngang); mặc định tệp tong-ket-GIAI_DOAN.html")
    p.add_argument("--runs", type=int, default=1000, help="số lần mô phỏng của mỗi dự báo (mặc định 1000)")
    p.add_argument("--seed", type=int, default=2025)
    p.add_argument("-o", "--output", type=Path, default=None, help="tệp ra (mặc định: màn hình)")

    p = sub.add_parser("crosswalk", parents=[common], help="đơn vị mới (từ 1/7/2025) và các đơn vị cũ hợp thành, với tỷ lệ diện tích (CSV)")
    p.add_argument("--province", required=True, help="mã tỉnh mới (2 chữ số), ví dụ 66 (Đắk Lắk)")
    p.add_argument("--ranh-gioi-cu", type=Path, default=None, help="tệp ranh giới xã trước 1/7/2025 (dùng cùng --ranh-gioi-moi)")
    p.add_argument("--ranh-gioi-moi", type=Path, default=None, help="tệp ranh giới xã từ 1/7/2025")
    p.add_argument("--lop-cu", default=None, help="lớp trong tệp ranh giới cũ (khi tệp có nhiều lớp)")
    p.add_argument("--lop-moi", default=None, help="lớp trong tệp ranh giới mới (khi tệp có nhiều lớp)")
    p.add_argument("--cot-ma-cu", default="gso_code", help="cột mã đơn vị của tệp cũ (mặc định gso_code)")
    p.add_argument("--cot-ma-moi", default="gso_code", help="cột mã đơn vị của tệp mới (mặc định gso_code)")
    p.add_argument("-o", "--output", type=Path, default=None, help="tệp CSV ra (mặc định: màn hình)")
    return parser


def _open(db: str) -> Store:
    return Store.open(db)


def _province(store: Store, year: int):  # noqa: ANN202 - a Province
    """The province ``year`` is recorded and shown in, in the deployment this store follows (UnknownYear names the
    years it has)."""
    from .deployment import deployment_of

    province = deployment_of(store).province_for(year)
    province.catalogs.for_year(year)  # UnknownYear names the years supported
    return province


def cmd_demo(args: argparse.Namespace) -> int:
    from .deployment import load_deployment, national_deployment
    from .national import load_national_sample
    from .sample import load_deployment_sample

    deployment = national_deployment() if args.national else load_deployment(args.tinh)
    store = _open(args.db)
    current = store.current_results()
    if not current.empty:
        if not current["sample"].all():
            print(
                f"Cơ sở dữ liệu {args.db} đã có số liệu thật; không ghi dữ liệu mẫu vào đó. Hãy dùng --db với một tệp khác.",
                file=sys.stderr,
            )
            return 1
        print(f"{args.db} đã có dữ liệu mẫu ({len(current)} kết quả); giữ nguyên.")
        return 0
    t = time.perf_counter()
    seed = {"seed": args.seed} if args.seed is not None else {}
    written = load_national_sample(store, **seed) if args.national else load_deployment_sample(store, deployment, **seed)
    print(f"{SAMPLE_LABEL_VI}")
    print(f"Đã tạo {args.db} theo dõi {deployment.current.name_vi} ({time.perf_counter() - t:.1f} s):")
    for province, sample in written:
        r = sample.results
        xa = r.loc[r["unit"].isin(province.registry.xa().index), "unit"].nunique()
        districts = r.loc[r["unit"].isin(province.registry.districts().index), "unit"].nunique()
        print(
            f"  {province.name_vi}: {len(r)} kết quả mẫu cho {xa} xã"
            + (f" (và tiêu chí cấp huyện của {districts} huyện, thị xã)" if districts else "")
            + f", các năm {r['year'].min()}–{r['year'].max()}, {len(sample.recognitions)} quyết định công nhận mẫu (seed={sample.seed})."
        )
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from .deployment import deployment_of

    if not args.file.exists():
        print(translate(f"Không tìm thấy tệp {args.file}", args.lang), file=sys.stderr)
        return 1
    from .deployment import load_deployment

    asked = load_deployment(args.tinh) if args.tinh is not None else None  # an unknown profile: refused before any file is made
    store = _open(args.db)
    if asked is not None:
        store.set_deployment_profile(asked.profile)  # refused when the store follows another
    province = deployment_of(store)  # each row's year (and old unit) picks its province
    try:
        data = read_file(args.file)
        res = import_file(
            store, province, data, args.file.name, author=args.author or getpass.getuser(), note=args.note, dry_run=args.dry_run
        )
    except ImportRejected as exc:
        print(translate(exc.describe(limit=200), args.lang), file=sys.stderr)
        return 1
    report = res.report(province)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=1))
    else:
        print(format_import_text(report), end="")
    return 0


def format_import_text(report: dict, limit: int = 50) -> str:
    """The import's report (the same as the API's answer) as text: warnings, the summary and, in a dry run,
    the first ``limit`` rows that would change."""
    lines = list(report["canh_bao"])
    t = report["tom_tat"]
    verb = "Kiểm tra (không ghi)" if report["thu_nghiem"] else "Đã nhập"
    counts = f"mới {t['moi']}, thay đổi {t['thay_doi']}, không đổi {t['khong_doi']}"
    lines.append(f"{verb} {report['tep']}: {report['so_ket_qua']} kết quả — {counts}.")
    if report["thu_nghiem"]:
        changed = [r for r in report["chi_tiet"] if r["trang_thai"] != "khong_doi"]
        for r in changed[:limit]:
            what = f"{r['ten_xa']} ({r['ma_xa']}) {r['nam']} {r['bo_tieu_chi']} {r['tieu_chi']}"
            lines.append(f"  {'mới' if r['trang_thai'] == 'moi' else 'đổi'}: {what}: {_label(r['cu'])} → {_label(r['moi'])}")
        if len(changed) > limit:
            lines.append(f"  … và {len(changed) - limit} dòng khác")
    return "\n".join(lines) + "\n"


def _label(result: str | float | None) -> str:
    """A result of the report as the office reads it: đạt, chưa đạt, a number, or — (none)."""
    if result is None:
        return "—"
    if isinstance(result, str):
        return {MET_CODE: MET_LABEL, NOT_MET_CODE: NOT_MET_LABEL}[result].lower()
    return number_text(result)


def cmd_template(args: argparse.Namespace) -> int:
    from .workbooks import workbook_for_year

    store = _open(args.db)
    province = _province(store, args.year)
    out = args.output or Path(f"nong-thon-moi-{args.year}.xlsx")
    out.write_bytes(workbook_for_year(store, province, args.year, args.lang))
    print(f"Đã ghi sổ Excel năm {args.year} vào {out}" + (f" ({SAMPLE_LABEL_VI})" if store.is_sample() else ""))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    store = _open(args.db)
    text = export_csv(store, years=args.year, as_of=args.as_of)
    if store.is_sample(as_of=args.as_of):
        print(f"Lưu ý: {SAMPLE_LABEL_VI}", file=sys.stderr)
    if args.output:
        args.output.write_text(text, encoding="utf-8")
        print(f"Đã ghi {text.count(chr(10)) - 1} kết quả vào {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def format_report_text(rep, crit: pd.DataFrame, district_crit: pd.DataFrame | None = None) -> str:  # noqa: ANN001 - StandardReport
    lines = []
    if rep.sample:
        lines += [f"*** {SAMPLE_LABEL_VI} ***", ""]
    lines.append(f"BÁO CÁO KẾT QUẢ XÂY DỰNG NÔNG THÔN MỚI NĂM {rep.year} — bộ tiêu chí {rep.catalog} ({rep.criteria_count} tiêu chí)")
    lines.append("")
    headers = {**REPORT_HEADERS_VI, **band_headers(rep.criteria_count)}
    table = rep.table.astype({"nang_cao": object, "kieu_mau": object}).fillna("—").rename(columns=headers)
    lines.append(table.to_string(index=False, float_format=lambda v: f"{v:.2f}".replace(".", ",")))
    if rep.table["nang_cao"].isna().all():
        lines.append(f"—: bộ tiêu chí {rep.catalog} không có bộ nâng cao / kiểu mẫu trong danh mục, nên không đánh giá (không phải 0).")
    lines.append("")
    lines.append(
        "Số đạt chuẩn tính lũy kế theo hạng đánh giá từ kết quả đã lưu: 'Đạt NTM' gồm cả xã nâng cao và kiểu mẫu; "
        "'NTM nâng cao' gồm cả xã kiểu mẫu."
    )
    from .units import PERIODS, period_of_year

    note = f"Xã có số liệu năm {rep.year}: {rep.xa_with_data}/{rep.xa_in_registry} xã của danh mục {PERIODS[period_of_year(rep.year)].label_vi}."
    if rep.official_xa is not None and rep.official_xa != rep.xa_in_registry:
        note += (
            f" Số xã chính thức cuối năm {rep.year}: {rep.official_xa} (geodata/eligible_xa.csv); danh mục chỉ có {rep.xa_in_registry} xã."
        )
    lines.append(note)
    lines.append("")
    lines.append("SỐ XÃ ĐẠT THEO TỪNG TIÊU CHÍ")
    ct = crit.rename(
        columns={
            "tieu_chi": "TC",
            "ten_tieu_chi": "Tên tiêu chí",
            "so_xa_dat": "Đạt",
            "so_xa_chua_dat": "Chưa đạt",
            "so_xa_chua_danh_gia": "Chưa đánh giá",
        }
    )
    lines.append(ct.to_string(index=False))
    if district_crit is not None and len(district_crit):
        lines += ["", "TIÊU CHÍ CẤP HUYỆN (huyện NTM, thị xã/thành phố hoàn thành nhiệm vụ): số đơn vị theo trạng thái"]
        dc = district_crit.pivot_table(
            index=["bo_tieu_chi", "tieu_chi", "ten_tieu_chi"], columns="trang_thai", values="ma_don_vi", aggfunc="count", fill_value=0
        )
        dc = dc.reindex(columns=["dat", "khong_dat", "chua_danh_gia"], fill_value=0).reset_index()
        dc = dc.sort_values(["bo_tieu_chi", "tieu_chi"], key=lambda c: c.map(lambda v: (len(v), v)))
        dc.columns = ["Bộ", "TC", "Tên tiêu chí", "Đạt", "Chưa đạt", "Chưa đánh giá"]
        lines.append(dc.to_string(index=False))
    return "\n".join(lines) + "\n"


def cmd_report(args: argparse.Namespace) -> int:
    from .history import history_csv, history_text, history_units, units_for_year

    store = _open(args.db)
    units = units_for_year(args.year, args.don_vi)  # the rule: from 2026 only moi (said before the year's province)
    province = _province(store, args.year)
    if args.don_vi is not None and units == "moi":
        doc = history_units(store, province, args.year, "moi", args.as_of)
        text = history_csv(doc) if args.csv else history_text(doc)
        if args.csv and doc["du_lieu_mau"]:
            print(f"Lưu ý: {SAMPLE_LABEL_VI}", file=sys.stderr)
        if args.output:
            args.output.write_text(text, encoding="utf-8")
        else:
            sys.stdout.write(text)
        return 0
    results = store.current_results(as_of=args.as_of, years=[args.year])
    sample = bool(results["sample"].any())
    rep = standard_report(results, province, args.year, sample=sample)
    if args.csv:
        text = rep.table.to_csv(index=False, lineterminator="\n")
        if sample:
            print(f"Lưu ý: {SAMPLE_LABEL_VI}", file=sys.stderr)
    else:
        text = format_report_text(
            rep, criterion_report(results, province, args.year), district_criterion_report(results, province, args.year)
        )
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


@contextlib.contextmanager
def _masked_output(secrets: list[str]) -> Iterator[None]:
    """Everything written to file descriptors 1 and 2 — by this process and by the processes it starts (uvicorn's
    workers, their projection workers): startup lines, access log, tracebacks — with ``***`` in place of each
    secret (the database password). Each descriptor goes through a pipe that a thread copies line by line."""
    sys.stdout.flush()
    sys.stderr.flush()
    raw = [s.encode() for s in secrets]
    saved, copiers = [], []
    for fd in (1, 2):
        real = os.dup(fd)
        read_end, write_end = os.pipe()
        os.dup2(write_end, fd)
        os.close(write_end)
        copier = threading.Thread(target=_copy_masked, args=(read_end, real, raw), daemon=True)
        copier.start()
        saved.append((fd, real))
        copiers.append(copier)
    try:
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        for fd, real in saved:
            os.dup2(real, fd)  # the pipe's last write end closes once the workers have gone: its copier ends
        for copier in copiers:
            copier.join(timeout=5)
        for _, real in saved:
            os.close(real)


def _copy_masked(read_end: int, real: int, secrets: list[bytes]) -> None:
    with open(read_end, "rb") as source, open(real, "wb", closefd=False) as sink:
        for line in source:  # whole lines: a secret is never cut in two
            for secret in secrets:
                line = line.replace(secret, b"***")
            sink.write(line)
            sink.flush()


def cmd_serve(args: argparse.Namespace) -> int:
    from urllib.parse import quote

    import sqlalchemy as sa
    import uvicorn  # the web app lives in api/; the library itself never imports FastAPI

    from .store import database_url

    try:
        url = sa.engine.make_url(database_url(args.db))
        shown, password = (url.render_as_string(hide_password=True), url.password) if url.password else (args.db, None)
    except sa.exc.ArgumentError:
        shown, password = "(URL cơ sở dữ liệu không đọc được)", None
    if args.workers < 1:
        print(f"--workers {args.workers}: số tiến trình phục vụ phải từ 1 trở lên", file=sys.stderr)
        return 2
    with _masked_output(sorted({password, quote(password, safe="")}, key=len, reverse=True)) if password else contextlib.nullcontext():
        try:
            _open(args.db).close()  # fail here, in Vietnamese, if the database cannot be opened
        except Exception as exc:  # noqa: BLE001 - the driver's message, without the password, instead of a traceback
            detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            print(f"Không mở được cơ sở dữ liệu {shown}: {detail}", file=sys.stderr)
            return 1
        os.environ["NONGTHON_DB"] = args.db  # each worker reads its settings from the environment (api/settings.py)
        workers = f", {args.workers} tiến trình" if args.workers > 1 else ""
        print(f"Bản đồ: http://{args.host}:{args.port}/map  —  API: http://{args.host}:{args.port}/docs  (cơ sở dữ liệu {shown}{workers})")
        # on a stop, requests still waiting (a queued projection) get 3 s, then the app stops its projection workers
        uvicorn.run(
            "api.app:app_from_env",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            log_level="info",
            timeout_graceful_shutdown=3,
        )
        return 0


def cmd_map(args: argparse.Namespace) -> int:
    from .maps import map_html

    store = _open(args.db)
    province = _province(store, args.year)
    args.output.write_text(map_html(store, province, args.year, lang=args.lang), encoding="utf-8")
    note = f" ({SAMPLE_LABEL_VI})" if store.is_sample() else ""
    print(f"Đã ghi bản đồ năm {args.year} vào {args.output}{note}")
    return 0


def cmd_boundaries(args: argparse.Namespace) -> int:
    from .boundaries import import_boundaries

    store = _open(args.db)
    report = import_boundaries(
        store,
        _deployment_registry(store),
        args.file,
        layer=args.layer,
        crs=args.crs,
        author=args.author or getpass.getuser(),
        code_column=args.code_column,
        name_column=args.name_column,
        district_column=args.district_column,
        require_all=args.require_all,
    )
    print("\n".join(report.lines_vi()))
    print(f"Đã lưu lớp ranh giới số {report.layer_id}; máy chủ đang chạy sẽ dùng lớp này ở lần tải tiếp theo.")
    return 0


def cmd_users(args: argparse.Namespace) -> int:
    from .accounts import add_user, list_users, revoke_user

    store = _open(args.db)
    if args.users_command == "add":
        token = add_user(store, _deployment_registry(store), args.name, args.role, args.district)
        scope = f", huyện {args.district}" if args.district else ""
        print(f"Đã tạo tài khoản {args.name} (quyền {args.role}{scope}). Mã truy cập — chỉ hiện MỘT lần, hãy lưu lại:")
        print(token)
    elif args.users_command == "list":
        table = list_users(store)
        print(table.to_string(index=False) if len(table) else "Chưa có tài khoản nào.")
    else:
        revoke_user(store, args.name)
        print(f"Đã thu hồi mã truy cập của {args.name}.")
    return 0


def _pct(x: float, digits: int = 1) -> str:
    """A share as Vietnamese write it: 79,9%."""
    return f"{100 * x:.{digits}f}".replace(".", ",") + "%"


def cmd_project(args: argparse.Namespace) -> int:
    from .deployment import deployment_of
    from .projection import projection_report

    store = _open(args.db)
    horizon = args.horizon
    if horizon is None:  # the last year of the catalogues of the start year (default: the latest year with data)
        years = store.years_with_data()
        start = args.start if args.start is not None else max(years, default=None)
        horizon = max(_province(store, start).catalogs.years()) if start is not None else None
    province = _province(store, horizon) if horizon is not None else deployment_of(store).current
    out = projection_report(store, province, horizon=horizon, runs=args.runs, start_year=args.start, seed=args.seed)
    if out["du_lieu_mau"]:
        print(f"*** {SAMPLE_LABEL_VI} ***")
    print(
        f"Dự báo từ số liệu năm {out['nam_bat_dau']} đến {out['nam_dich']} ({out['so_lan_mo_phong']} lần mô phỏng, hạt giống {out['hat_giong']}):"
    )
    for y in out["theo_nam"]:
        parts = [
            f"{name} {_pct(y[k]['trung_binh'])} ({_pct(y[k]['p10'])}–{_pct(y[k]['p90'])})"
            for k, name in (("ntm", "NTM"), ("nang_cao", "nâng cao"), ("kieu_mau", "kiểu mẫu"), ("ntm_hien_dai", "NTM hiện đại"))
            if k in y  # the tiers of the catalogue of that year
        ]
        print(f"  {y['nam']}: " + "; ".join(parts))
    print("Xác suất đạt:")
    for m in out["muc_tieu"]:
        p = "—" if m["xac_suat"] is None else _pct(m["xac_suat"], 0)
        note = f"  ({m['ghi_chu']})" if m.get("ghi_chu") else ""
        print(f"  {p:>5}  {m['mo_ta']}{note}")
    return 0


def _deployment_registry(store: Store):  # noqa: ANN202 - a Registry
    """The registry accounts are scoped in (their district): the office's oldest served province, which has districts."""
    from .deployment import deployment_of

    return deployment_of(store).served()[0].registry


def cmd_crosswalk(args: argparse.Namespace) -> int:
    from .boundaries import read_boundary_file
    from .crosswalk import SHARE_SOURCES_VI, crosswalk

    files = [args.ranh_gioi_cu, args.ranh_gioi_moi]
    if (files[0] is None) != (files[1] is None):
        print("Cần cả --ranh-gioi-cu và --ranh-gioi-moi (ranh giới hai giai đoạn) để tính tỷ lệ diện tích.", file=sys.stderr)
        return 2
    layers = [read_boundary_file(f, layer) for f, layer in zip(files, (args.lop_cu, args.lop_moi))] if files[0] else [None, None]
    cw = crosswalk(args.province, layers[0], layers[1], args.cot_ma_cu, args.cot_ma_moi)
    text = cw.to_csv()
    if args.output:
        args.output.write_text(text, encoding="utf-8")
        print(f"Đã ghi {len(cw.rows)} cặp (đơn vị mới, đơn vị cũ) vào {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    unknown = cw.unknown()
    if len(unknown):
        print(f"{len(unknown)} cặp chưa rõ tỷ lệ (ô trống): {SHARE_SOURCES_VI['chua_ro']}.", file=sys.stderr)
    for d in cw.disagreements.itertuples():
        where = "chỉ có trong bảng chuyển đổi" if d.nguon == "chi_bang" else "chỉ có khi chồng lớp ranh giới"
        print(f"Không khớp: đơn vị cũ {d.ma_cu} – đơn vị mới {d.ma_moi}: {where} (phần diện tích {_pct(d.ty_le)}).", file=sys.stderr)
    return 0


def cmd_closeout(args: argparse.Namespace) -> int:
    from .closeout import check_period, closeout, closeout_csv, closeout_html, closeout_text

    check_period(args.period)  # an unknown period: the message names the periods available
    if not 1 <= args.runs <= 10000:
        print(f"--runs {args.runs} phải từ 1 đến 10000", file=sys.stderr)
        return 2
    report = closeout(_open(args.db), None, args.period, runs=args.runs, seed=args.seed)  # the period's province: Phú Yên (54)
    text = closeout_html(report) if args.html else closeout_csv(report) if args.csv else closeout_text(report)
    out = args.output or (Path(f"tong-ket-{args.period}.html") if args.html else None)
    if report["du_lieu_mau"] and (args.csv or out):
        print(f"Lưu ý: {SAMPLE_LABEL_VI}", file=sys.stderr)
    if out:
        out.write_text(text, encoding="utf-8")
        print(f"Đã ghi báo cáo tổng kết {args.period} vào {out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


COMMANDS = {
    "demo": cmd_demo,
    "import": cmd_import,
    "export": cmd_export,
    "report": cmd_report,
    "serve": cmd_serve,
    "map": cmd_map,
    "boundaries": cmd_boundaries,
    "users": cmd_users,
    "template": cmd_template,
    "project": cmd_project,
    "crosswalk": cmd_crosswalk,
    "closeout": cmd_closeout,
}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except NongthonError as exc:
        print(translate(str(exc), args.lang), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
