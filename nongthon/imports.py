"""The long CSV interchange format, in and out: one row per result, header exactly
``ma_xa,nam,bo_tieu_chi,tieu_chi,ket_qua``.

* ``ma_xa``: the 5-digit GSO code of a xã of the registry (phường and thị trấn are rejected);
* ``nam``: a reporting year covered by a catalogue;
* ``bo_tieu_chi``: ``ntm``, ``nang_cao`` or ``kieu_mau`` (present in that year's catalogue);
* ``tieu_chi``: a criterion number (1–19), an indicator code (``17.8``) or a model condition code
  (``thu_nhap``, ``thon_thong_minh``, ``linh_vuc_noi_troi``);
* ``ket_qua``: ``dat`` / ``khong_dat`` (also ``đạt``, ``không đạt``, ``chưa đạt``) or a number with a dot
  as the decimal separator. A number given for a criterion that has a single indicator of the same code
  (``10``: income) is that indicator's value.

The whole file is validated before anything is written; every error names the row, the column, the value
and what is allowed; a rejected file changes nothing; the same file imported twice changes nothing the
second time (unchanged rows are skipped).
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .criteria import DISTRICT_SET_CODES, SET_CODES, SET_NAMES_VI
from .errors import ImportRejected, RowError
from .province import Province
from .store import Store, WriteSummary
from .text import fold, nfc

HEADER = ["ma_xa", "nam", "bo_tieu_chi", "tieu_chi", "ket_qua"]
MAX_BYTES = 20 * 1024 * 1024
TRUE_WORDS = {"dat", "d"}
FALSE_WORDS = {"khong_dat", "khong dat", "chua_dat", "chua dat", "kd"}
NUMBER = r"^-?\d+(\.\d+)?$"
RESULT_HINT = "dat, khong_dat, hoặc một số (dấu chấm thập phân, ví dụ 52.5)"


@dataclass(frozen=True)
class ImportResult:
    source: str
    rows: int  # data rows read (blank rows not counted)
    summary: WriteSummary
    encoding: str
    dry_run: bool


def check_size(nbytes: int, source: str) -> None:
    """Refuse a file over the size limit, before reading or parsing it."""
    if nbytes > MAX_BYTES:
        raise ImportRejected(source, [RowError(0, "(tệp)", f"{nbytes} byte", f"tệp quá lớn; tối đa {MAX_BYTES // (1024 * 1024)} MB")])


def decode(data: bytes, source: str) -> tuple[str, str]:
    """Text and encoding of a CSV file: UTF-8 (with or without BOM), else Windows-1258."""
    check_size(len(data), source)
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
    df = raw.apply(lambda col: col.map(nfc))
    df["row"] = np.arange(len(df)) + 2
    df = df[(df[HEADER] != "").any(axis=1)].copy()  # blank rows are skipped
    return validate_rows(df, source, province), len(df)


def validate_rows(df: pd.DataFrame, source: str, province: Province, errors: list[RowError] | None = None) -> pd.DataFrame:
    """Validate results in the long format — columns ma_xa, nam, bo_tieu_chi, tieu_chi, ket_qua (strings)
    and ``row`` — and return them ready for the store, or raise ImportRejected listing every problem (those
    passed in ``errors`` too). Optional columns ``sheet`` and ``col_<column>`` say where a value stands in a
    workbook, so that messages name the sheet and the spreadsheet column instead of the CSV one."""
    errors = list(errors or [])
    df = df.copy()
    if df.empty and not errors:
        raise ImportRejected(source, [RowError(0, "(tệp)", "", "không có dòng kết quả nào")])
    district_rows = df["bo_tieu_chi"].isin(DISTRICT_SET_CODES)
    if district_rows.any():
        # district-level criteria (320/QĐ-TTg) are recorded for the district-level unit, by its 3-digit code
        extra = _district_rows(df[district_rows], province, errors)
        rest = df[~district_rows]
        if rest.empty:
            if errors:
                raise ImportRejected(source, sorted(errors, key=lambda e: (e.sheet or "", e.row)))
            return extra
        return pd.concat([validate_rows(rest, source, province, errors), extra], ignore_index=True)

    def bad(mask: pd.Series, column: str, message) -> None:  # noqa: ANN001 - str or callable(row)
        for _, r in df[mask].iterrows():
            label = r.get(f"col_{column}", column)
            errors.append(RowError(int(r["row"]), label, r[column], message(r) if callable(message) else message, r.get("sheet")))

    reg = province.registry
    communes = reg.communes()
    code_ok = df["ma_xa"].str.fullmatch(r"\d{5}")
    bad(~code_ok, "ma_xa", "mã xã phải gồm đúng 5 chữ số (mã GSO), ví dụ " + reg.xa().index[0])
    known = code_ok & df["ma_xa"].isin(communes.index)
    bad(code_ok & ~known, "ma_xa", f"không có đơn vị cấp xã mã này trong danh mục {reg.province_name}")
    utype = df["ma_xa"].map(communes["unit_type"])
    not_xa = known & (utype != "xa")
    bad(
        not_xa,
        "ma_xa",
        lambda r: (
            f"{communes.at[r['ma_xa'], 'name']} là {'phường' if utype[r.name] == 'phuong' else 'thị trấn'}, không thuộc diện xét nông thôn mới; chỉ nhận mã của xã"
        ),
    )
    unit_ok = known & ~not_xa

    year_ok = df["nam"].str.fullmatch(r"\d{4}")
    year = pd.to_numeric(df["nam"].where(year_ok), errors="coerce")
    covered = year.map(lambda y: province.catalogs.covers(int(y)) if pd.notna(y) else False).astype(bool)
    bad(~covered, "nam", f"năm phải là số nguyên có bộ tiêu chí áp dụng: {province.catalogs.years_text()}")
    catalog = year.where(covered).map(lambda y: province.catalogs.for_year(int(y)).id if pd.notna(y) else None)

    set_known = df["bo_tieu_chi"].isin(SET_CODES)
    bad(~set_known, "bo_tieu_chi", f"bộ tiêu chí phải là một trong: {', '.join(SET_CODES)}")
    set_in_cat = pd.Series(False, index=df.index)
    for cid in catalog[covered].unique():
        cat = province.catalogs.by_id(cid)
        sel = (catalog == cid) & set_known
        set_in_cat[sel] = df.loc[sel, "bo_tieu_chi"].isin(list(cat.sets))
        bad(sel & ~set_in_cat, "bo_tieu_chi", f"{cid} (các năm {cat.year_from}–{cat.year_to}) không có bộ này; có: {', '.join(cat.sets)}")

    # ket_qua: a boolean or a number
    word = df["ket_qua"].map(lambda s: fold(s).replace("-", "_"))
    is_true = word.isin(TRUE_WORDS)
    is_false = word.isin(FALSE_WORDS)
    is_num = df["ket_qua"].str.fullmatch(NUMBER)
    met = pd.Series(pd.NA, index=df.index, dtype="boolean")
    met[is_true] = True
    met[is_false] = False
    value = pd.to_numeric(df["ket_qua"].where(is_num), errors="coerce").astype("Float64")
    result_ok = is_true | is_false | is_num
    bad(~result_ok, "ket_qua", f"kết quả phải là {RESULT_HINT}")

    # tieu_chi -> (level, item), checked against the catalogue of the row's year and set
    level = pd.Series(None, index=df.index, dtype="object")
    kind = pd.Series(None, index=df.index, dtype="object")
    measure = pd.Series(None, index=df.index, dtype="object")
    ctx_ok = covered & set_in_cat
    for (cid, set_code), grp in df[ctx_ok].groupby([catalog[ctx_ok], df.loc[ctx_ok, "bo_tieu_chi"]]):
        cat = province.catalogs.by_id(cid)
        idx = grp.index
        token = grp["tieu_chi"]
        if set_code == "kieu_mau":
            conds = cat.conditions.set_index("code")
            is_cond = token.isin(conds.index)
            bad(df.index.isin(idx[~is_cond]), "tieu_chi", f"điều kiện xã NTM kiểu mẫu phải là một trong: {', '.join(conds.index)}")
            level[idx[is_cond]] = "condition"
            kind[idx[is_cond]] = token[is_cond].map(conds["kind"])
            measure[idx[is_cond]] = token[is_cond].map(conds["measure_unit"])
            continue
        crits = set(cat.criteria.loc[cat.criteria["set"] == set_code, "criterion"])
        inds = cat.indicators[cat.indicators["set"] == set_code].set_index("code")
        is_crit = token.isin(crits)
        is_ind = token.isin(inds.index)
        numeric = is_num[idx]
        as_crit = is_crit & ~numeric
        as_ind = (is_ind & ~is_crit) | (is_crit & numeric & is_ind)
        level[idx[as_crit]] = "criterion"
        kind[idx[as_crit]] = "boolean"
        level[idx[as_ind]] = "indicator"
        kind[idx[as_ind]] = token[as_ind].map(inds["kind"])
        measure[idx[as_ind]] = token[as_ind].map(inds["measure_unit"])
        n = cat.criteria_count(set_code)
        crit_value = is_crit & numeric & ~is_ind & result_ok[idx]
        bad(df.index.isin(idx[crit_value]), "ket_qua", lambda r, s=set_code, c=cat: _criterion_value_message(r, s, c))
        unknown = ~is_crit & ~is_ind
        sample_codes = ", ".join(list(inds.index[:4]))
        bad(
            df.index.isin(idx[unknown]),
            "tieu_chi",
            f"không có trong bộ {SET_NAMES_VI[set_code]} ({cid}); nhận số tiêu chí 1–{n}"
            + (f" hoặc mã chỉ tiêu của bộ này (ví dụ {sample_codes})" if len(inds) else " (bộ này chưa có danh mục chỉ tiêu)"),
        )
    typed = level.notna() & result_ok
    bool_only = typed & kind.isin(["boolean"]) & is_num
    bad(bool_only, "ket_qua", lambda r: f"'{r['tieu_chi']}' ghi kết quả đạt/không đạt; nhận dat hoặc khong_dat, không nhận số")
    absence_bad = typed & (kind == "absence") & is_num & (value.fillna(0) < 0)
    bad(absence_bad, "ket_qua", "số lượng không được âm (đạt khi bằng 0)")
    pct_bad = typed & (measure == "%") & is_num & ((value < 0) | (value > 100)).fillna(False)
    bad(pct_bad, "ket_qua", "tỷ lệ phải nằm trong khoảng 0–100 (%)")
    neg_bad = typed & (measure != "%") & kind.isin(["minimum", "maximum"]) & is_num & (value < 0).fillna(False)
    bad(neg_bad, "ket_qua", "giá trị không được âm")

    rows = pd.DataFrame(
        {
            "row": df["row"],
            "unit": df["ma_xa"],
            "year": year,
            "catalog": catalog,
            "tier_set": df["bo_tieu_chi"],
            "level": level,
            "item": df["tieu_chi"],
            "met": met.where(~is_num, pd.NA),
            "value": value,
        }
    )
    for extra in ("sheet", "col_tieu_chi"):
        if extra in df:
            rows[extra] = df[extra]
    valid = unit_ok & typed & ~bool_only & ~absence_bad & ~pct_bad & ~neg_bad
    key = ["unit", "year", "tier_set", "level", "item"]
    keyed = rows[valid]
    dup = keyed.duplicated(key, keep="first")
    if dup.any():
        first_row = keyed[~dup].set_index(key)["row"]
        for _, r in keyed[dup].iterrows():
            first = first_row.loc[tuple(r[k] for k in key)]
            errors.append(
                RowError(
                    int(r["row"]),
                    r.get("col_tieu_chi", "tieu_chi"),
                    r["item"],
                    f"trùng với dòng {first} (cùng xã {r['unit']}, năm {int(r['year'])}, bộ {r['tier_set']}); mỗi kết quả chỉ ghi một lần trong tệp",
                )
            )
    if errors:
        errors.sort(key=lambda e: (e.sheet or "", e.row, HEADER.index(e.column) if e.column in HEADER else -1))
        raise ImportRejected(source, errors)
    keep = ["unit", "year", "catalog", "tier_set", "level", "item", "met", "value", "row"] + [c for c in ("sheet",) if c in rows]
    rows = rows[valid][keep]
    if "col_ket_qua" in df:
        rows["where"] = df.loc[rows.index, "col_ket_qua"]
    rows["year"] = rows["year"].astype("int64")
    return rows.reset_index(drop=True)


def _district_rows(df: pd.DataFrame, province: Province, errors: list[RowError]) -> pd.DataFrame:
    """Rows of the district-level sets: ma_xa holds a district-level code, ket_qua dat / khong_dat."""
    reg = province.registry
    out = []
    seen: dict[tuple, int] = {}
    for _, r in df.iterrows():

        def err(column: str, message: str, r=r) -> None:
            errors.append(RowError(int(r["row"]), r.get(f"col_{column}", column), r[column], message, r.get("sheet")))

        code, set_code = r["ma_xa"], r["bo_tieu_chi"]
        year = int(r["nam"]) if str(r["nam"]).isdigit() else None
        if year is None or not province.catalogs.covers(year):
            err("nam", f"năm phải là số nguyên có bộ tiêu chí áp dụng: {province.catalogs.years_text()}")
            continue
        cat = province.catalogs.for_year(year)
        spec = cat.district_sets.get(set_code)
        if spec is None:
            err(
                "bo_tieu_chi",
                f"{cat.id} (các năm {cat.year_from}–{cat.year_to}) không có bộ cấp huyện này; có: {', '.join(cat.district_sets) or 'không có'}",
            )
            continue
        if code not in reg.districts().index:
            err("ma_xa", f"bộ {set_code} ghi cho đơn vị cấp huyện: mã 3 chữ số, một trong {', '.join(reg.districts().index)}")
            continue
        if reg.units.at[code, "unit_type"] not in spec["applies_to"]:
            err("ma_xa", f"{reg.units.at[code, 'name']} không thuộc diện bộ {set_code} (áp dụng cho: {', '.join(spec['applies_to'])})")
            continue
        crits = set(cat.district_criteria.loc[cat.district_criteria["set"] == set_code, "criterion"])
        if r["tieu_chi"] not in crits:
            err("tieu_chi", f"bộ {set_code} có các tiêu chí 1–{spec['criteria_count']}")
            continue
        word = fold(r["ket_qua"]).replace("-", "_")
        if word not in TRUE_WORDS | FALSE_WORDS:
            err("ket_qua", "tiêu chí cấp huyện ghi dat hoặc khong_dat")
            continue
        key = (code, year, set_code, r["tieu_chi"])
        if key in seen:
            err("tieu_chi", f"trùng với dòng {seen[key]}; mỗi kết quả chỉ ghi một lần trong tệp")
            continue
        seen[key] = int(r["row"])
        out.append(
            {
                "unit": code,
                "year": year,
                "catalog": cat.id,
                "tier_set": set_code,
                "level": "criterion",
                "item": r["tieu_chi"],
                "met": word in TRUE_WORDS,
                "value": None,
            }
        )
    rows = pd.DataFrame(out, columns=["unit", "year", "catalog", "tier_set", "level", "item", "met", "value"])
    rows["met"] = rows["met"].astype("boolean")
    rows["value"] = rows["value"].astype("Float64")
    rows["year"] = rows["year"].astype("int64")
    return rows


def _criterion_value_message(r: pd.Series, set_code: str, cat) -> str:  # noqa: ANN001 - Catalog
    inds = cat.indicators[(cat.indicators["set"] == set_code) & (cat.indicators["criterion"] == r["tieu_chi"])]["code"].tolist()
    where = f"; để ghi giá trị, dùng mã chỉ tiêu ({', '.join(inds)})" if inds else ""
    return f"tiêu chí {r['tieu_chi']} ghi ở cấp tiêu chí chỉ nhận dat hoặc khong_dat{where}"


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
    """Validate a whole CSV file and write it in one transaction (or nothing at all)."""
    if data is None:
        if path is None:
            raise ValueError("path or data is required")
        p = Path(path)
        check_size(p.stat().st_size, str(p))
        data = p.read_bytes()
    name = source or (Path(path).name if path is not None else "dữ liệu tải lên")
    text, encoding = decode(data, name)
    rows, n = parse_csv(text, name, province)
    digest = hashlib.sha256(data).hexdigest()[:12]
    summary = store.write_results(rows, source=f"{name} (sha256 {digest})", author=author, kind="import", note=note, dry_run=dry_run)
    return ImportResult(source=name, rows=n, summary=summary, encoding=encoding, dry_run=dry_run)


def format_result(met: object, value: object) -> str:
    if met is not None and not pd.isna(met):
        return "dat" if bool(met) else "khong_dat"
    return f"{float(value):.10g}"


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
