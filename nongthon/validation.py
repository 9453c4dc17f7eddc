"""The rules every incoming result obeys, whichever way it comes: the interchange CSV, the office's workbook,
or one commune-year edited through the API. Each of them turns its input into long rows — the text columns
``ma_xa, nam, bo_tieu_chi, tieu_chi, ket_qua`` and the ``row`` they came from — and ``validate_rows`` checks
them all at once against the registry and the catalogue of each row's year.

The words for "đạt / không đạt" and the way a number is written are stated here once, for the readers and
for the exports.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from . import crosswalk
from .criteria import DISTRICT_SET_CODES, SET_CODES, SET_NAMES_VI
from .errors import MAX_LISTED, ErrorGroup, ImportRejected, RowError
from .province import Province
from .text import fold_word
from .units import COMMUNE_TYPES, ELIGIBLE_TYPE, REFORM_DATE, registry_table

HEADER = ["ma_xa", "nam", "bo_tieu_chi", "tieu_chi", "ket_qua"]
MAX_BYTES = 20 * 1024 * 1024
NUMBER = r"^-?[0-9]+(\.[0-9]+)?$"  # ASCII digits: \d would also take ٢١ (Arabic-Indic) or ², which no reader turns into a number
RESULT_HINT = "dat, khong_dat, hoặc một số viết bằng chữ số 0–9 (dấu chấm thập phân, ví dụ 52.5)"

# "đạt / không đạt", in every format: the codes the CSV export and the API write, the labels of the
# workbook's drop-down, and every word a reader accepts (compared folded: case, diacritics, "_", "-").
MET_CODE, NOT_MET_CODE = "dat", "khong_dat"
MET_LABEL, NOT_MET_LABEL = "Đạt", "Chưa đạt"
MET_WORDS = frozenset(fold_word(w) for w in (MET_CODE, MET_LABEL, "d"))
NOT_MET_WORDS = frozenset(fold_word(w) for w in (NOT_MET_CODE, NOT_MET_LABEL, "không đạt", "kd"))


def read_met(text: str) -> bool | None:
    """True for a word meaning đạt, False for không đạt / chưa đạt, None for anything else."""
    word = fold_word(text)
    return True if word in MET_WORDS else False if word in NOT_MET_WORDS else None


def met_code(met: object) -> str:
    return MET_CODE if bool(met) else NOT_MET_CODE


def number_text(value: float, digits: int | None = None) -> str:
    """A number as the long format writes it: a dot, never an exponent, and the shortest digits that read
    back as the same float — or, with ``digits``, rounded to that many significant digits."""
    return np.format_float_positional(float(value), precision=digits, unique=True, fractional=False, trim="-")


def result_value(met: object, value: object) -> str | float | None:
    """One stored result as the API shows it: dat / khong_dat, the number, or None."""
    if met is not None and not pd.isna(met):
        return met_code(met)
    if value is not None and not pd.isna(value):
        return float(value)
    return None


def each_value(col: pd.Series, f: Callable[[str], object], dtype: object = None) -> pd.Series:
    """``col.map(f)``, calling f once per distinct value: a file of 100,000 results holds a few thousand distinct
    codes and a handful of years, sets, items and words, so the per-value Python work is paid a few thousand times."""
    codes, values = pd.factorize(col, use_na_sentinel=False)
    return pd.Series(np.array([f(v) for v in values], dtype=object)[codes], index=col.index, dtype=dtype)


def _fullmatch(col: pd.Series, pattern: str) -> pd.Series:
    """Whether each value matches ``pattern`` whole (bool), the pattern tried once per distinct value."""
    match = re.compile(pattern).fullmatch
    return each_value(col, lambda v: isinstance(v, str) and match(v) is not None, bool)


def check_size(nbytes: int, source: str) -> None:
    """Refuse a file over the size limit, before reading or parsing it."""
    if nbytes > MAX_BYTES:
        raise ImportRejected(source, [RowError(0, "(tệp)", f"{nbytes} byte", f"tệp quá lớn; tối đa {MAX_BYTES // (1024 * 1024)} MB")])


def validate_rows(
    df: pd.DataFrame, source: str, province: Province, errors: list[RowError] | None = None, years_text: str | None = None
) -> pd.DataFrame:
    """Validate results in the long format — columns ma_xa, nam, bo_tieu_chi, tieu_chi, ket_qua (strings)
    and ``row`` — and return them ready for the store, or raise ImportRejected listing every problem (those
    passed in ``errors`` too). Optional columns ``sheet`` and ``col_<column>`` say where a value stands in a
    workbook, so that messages name the sheet and the spreadsheet column instead of the CSV one.

    However many rows are wrong, the work is a few vectorised steps per check (no Python step per error),
    and the rejection lists the first MAX_LISTED errors in file order, with the total and a count per
    column and kind of error. ``years_text``: the years a file may hold, when more than the province's (a
    deployment's several provinces); a year outside them is named with it."""
    found = _Errors(errors)
    years_text = years_text or province.catalogs.years_text()
    if df.empty and not found:
        raise ImportRejected(source, [RowError(0, "(tệp)", "", "không có dòng kết quả nào")])
    # district-level criteria (320/QĐ-TTg) are recorded for the district-level unit, by its 3-digit code
    district = df["bo_tieu_chi"].isin(DISTRICT_SET_CODES)
    parts = [_commune_rows(df[~district], province, found, years_text)] if (~district).any() else []
    if district.any():
        parts.append(_district_rows(df[district], province, found, years_text))
    if found:
        raise found.rejected(source)
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]


class _Errors:
    """The errors found in one file, kept as frames (row, column, value, message, sheet, kind): one per check."""

    FIELDS = ["row", "column", "value", "message", "sheet", "kind"]

    def __init__(self, given: list[RowError] | None = None) -> None:
        self.frames: list[pd.DataFrame] = []
        self.add(given or [])

    def add(self, errors: list[RowError]) -> None:
        if errors:
            self.frames.append(pd.DataFrame([(e.row, e.column, e.value, e.message, e.sheet, e.kind) for e in errors], columns=self.FIELDS))

    def add_frame(self, frame: pd.DataFrame) -> None:
        if len(frame):
            self.frames.append(frame[self.FIELDS])

    def __bool__(self) -> bool:
        return bool(self.frames)

    def rejected(self, source: str) -> ImportRejected:
        """All the errors, in file order (sheet, row, then the CSV's column order), as one ImportRejected."""
        df = pd.concat(self.frames, ignore_index=True)
        df["kind"] = df["kind"].fillna(df["message"])
        df["_sheet"] = df["sheet"].fillna("")
        df["_column"] = df["column"].map({c: i for i, c in enumerate(HEADER)}).fillna(-1)
        df = df.sort_values(["_sheet", "row", "_column"], kind="stable")
        listed = [
            RowError(int(r.row), str(r.column), str(r.value), r.message, None if pd.isna(r.sheet) else r.sheet, r.kind)
            for r in df.head(MAX_LISTED).itertuples(index=False)
        ]
        counts = df.groupby(["_sheet", "column", "kind"], sort=False).size().sort_values(ascending=False, kind="stable")
        summary = [ErrorGroup(sheet or None, column, kind, int(n)) for (sheet, column, kind), n in counts.items()]
        return ImportRejected(source, listed, total=len(df), summary=summary)


class _Flag:
    """Adds an error for each row of a mask, naming the row, the column (as its source calls it), the value
    and what is allowed — for all the rows of the mask in one step."""

    def __init__(self, df: pd.DataFrame, errors: _Errors) -> None:
        self.df, self.errors = df, errors

    def __call__(self, mask, column: str, message, kind: str | None = None, by: str | None = None) -> None:  # noqa: ANN001
        """``message`` is a text, or a function of a value of the column ``by`` (default ``column``), called once
        per distinct value; ``kind`` is what the summary counts the error as (required with a function)."""
        hit = self.df[np.asarray(pd.Series(mask, index=self.df.index).fillna(False), dtype=bool)]
        if hit.empty:
            return
        if callable(message):
            key = hit[by or column]
            text = key.map({v: message(v) for v in key.unique()})
        else:
            text, kind = message, kind or message
        self.errors.add_frame(
            pd.DataFrame(
                {
                    "row": hit["row"].astype("int64"),
                    "column": hit[f"col_{column}"] if f"col_{column}" in hit else column,
                    "value": hit[column],
                    "message": text,
                    "sheet": hit["sheet"] if "sheet" in hit else None,
                    "kind": kind,
                }
            )
        )


@dataclass
class _Results:
    """ket_qua read as a word or a number."""

    met: pd.Series  # boolean, <NA> unless a word
    value: pd.Series  # Float64, <NA> unless a number
    is_num: pd.Series
    ok: pd.Series  # a word or a number


def _commune_rows(df: pd.DataFrame, province: Province, errors: _Errors, years_text: str) -> pd.DataFrame:
    """The rows of the commune-level sets (ntm, nang_cao, kieu_mau): each step flags its own errors; the
    rows that passed every step are returned."""
    flag = _Flag(df, errors)
    unit_ok = _check_units(df, province, flag)
    year, catalog = _check_years(df, province, flag, years_text)
    set_ok = _check_sets(df, province, catalog, flag)
    res = _read_results(df, flag)
    level, kind, measure = _resolve_items(df, province, catalog, set_ok, res, flag)
    typed = level.notna() & res.ok
    value_ok = _check_values(typed, kind, measure, res, flag)
    rows = pd.DataFrame(
        {
            "row": df["row"],
            "unit": df["ma_xa"],
            "year": year,
            "catalog": catalog,
            "tier_set": df["bo_tieu_chi"],
            "level": level,
            "item": df["tieu_chi"],
            "met": res.met,
            "value": res.value,
        }
    )
    for extra in ("sheet", "col_tieu_chi"):
        if extra in df:
            rows[extra] = df[extra]
    valid = unit_ok & typed & value_ok
    _check_duplicates(rows[valid], errors)
    keep = ["unit", "year", "catalog", "tier_set", "level", "item", "met", "value", "row"] + [c for c in ("sheet",) if c in rows]
    rows = rows[valid][keep]
    if "col_ket_qua" in df:
        rows["where"] = df.loc[rows.index, "col_ket_qua"]
    rows["year"] = rows["year"].astype("int64")
    return rows.reset_index(drop=True)


def _check_units(df: pd.DataFrame, province: Province, flag: _Flag) -> pd.Series:
    """ma_xa: the 5-digit code of a xã of the registry (phường, thị trấn and đặc khu are not NTM-eligible). In a
    registry of the new units (``moi``), a code of a former unit that went into the province is named with the
    new unit(s) it went to."""
    reg = province.registry
    communes = reg.communes()
    code_ok = _fullmatch(df["ma_xa"], r"[0-9]{5}")
    flag(~code_ok, "ma_xa", "mã xã phải gồm đúng 5 chữ số (mã GSO), ví dụ " + reg.xa().index[0])
    known = code_ok & df["ma_xa"].isin(communes.index)
    former = former_unit_messages(reg.province_code) if reg.period == "moi" else {}
    is_former = code_ok & ~known & df["ma_xa"].isin(former.keys())
    flag(is_former, "ma_xa", former.get, kind=f"mã của đơn vị cũ, không còn từ {_day(REFORM_DATE)}; hãy ghi theo mã đơn vị mới")
    flag(code_ok & ~known & ~is_former, "ma_xa", f"không có đơn vị cấp xã mã này trong danh mục {reg.province_name}")
    utype = df["ma_xa"].map(communes["unit_type"])
    not_xa = known & (utype != ELIGIBLE_TYPE)

    def message(code: str) -> str:
        kind = COMMUNE_TYPES[communes.at[code, "unit_type"]].lower()
        return f"{communes.at[code, 'name']} là {kind}, không thuộc diện xét nông thôn mới; chỉ nhận mã của xã"

    flag(not_xa, "ma_xa", message, kind="mã của phường hoặc thị trấn, không thuộc diện xét nông thôn mới; chỉ nhận mã của xã")
    return known & ~not_xa


def _day(day) -> str:  # noqa: ANN001 - a date
    return f"{day.day}/{day.month}/{day.year}"


@lru_cache(maxsize=8)
def former_unit_messages(province_code: str) -> dict[str, str]:
    """For every former unit (``cu``) that went into a new province (``moi`` code), the message refusing its code in
    a row of the new units (where the code names no unit of the new province): its name, the day it ended and the
    new unit(s) it went to, each with its code — all of them where it was divided — and what to write instead (the
    new xã's code; a phường or đặc khu is not assessed). Built once per province from the 2025 crosswalk."""
    new = registry_table("moi").set_index("code")
    old_names = registry_table("cu").set_index("code")["name"]
    pairs = crosswalk.table()
    pairs = pairs[pairs["ma_cu"].isin(pairs.loc[pairs["tinh_moi"] == province_code, "ma_cu"])]
    out = {}
    for code, group in pairs.groupby("ma_cu"):
        went = list(group["ma_moi"])
        listed = ", ".join(f"{new.at[c, 'name']} ({c})" for c in went)
        xa = [c for c in went if new.at[c, "unit_type"] == ELIGIBLE_TYPE]
        other = [new.at[c, "name"] for c in went if c not in xa]
        if not xa:
            tail = "không xét nông thôn mới"
        else:
            tail = "hãy ghi theo mã mới " + " hoặc ".join(xa) + (f" ({', '.join(other)} không xét nông thôn mới)" if other else "")
        where = f"nay thuộc {listed}, {tail}" if len(went) == 1 else f"nay được chia cho {listed}; {tail}"
        out[code] = f"mã {code} — {old_names.get(code, 'đơn vị cũ')} — không còn từ {_day(REFORM_DATE)}; {where}"
    return out


def _check_years(df: pd.DataFrame, province: Province, flag: _Flag, years_text: str) -> tuple[pd.Series, pd.Series]:
    """nam: a year covered by a catalogue. Returns the year and the id of its catalogue (None if not covered)."""
    year_ok = _fullmatch(df["nam"], r"[0-9]{4}")
    year = pd.to_numeric(df["nam"].where(year_ok), errors="coerce")
    ids = {y: province.catalogs.for_year(int(y)).id for y in year.dropna().unique() if province.catalogs.covers(int(y))}
    catalog = year.map(ids)  # None where the year is not covered
    covered = catalog.notna()
    flag(~covered, "nam", f"năm phải là số nguyên có bộ tiêu chí áp dụng: {years_text}")
    return year, catalog


def _check_sets(df: pd.DataFrame, province: Province, catalog: pd.Series, flag: _Flag) -> pd.Series:
    """bo_tieu_chi: a set code that the catalogue of the row's year has."""
    set_known = df["bo_tieu_chi"].isin(SET_CODES)
    flag(~set_known, "bo_tieu_chi", f"bộ tiêu chí phải là một trong: {', '.join(SET_CODES)}")
    in_cat = pd.Series(False, index=df.index)
    for cid in catalog.dropna().unique():
        cat = province.catalogs.by_id(cid)
        sel = (catalog == cid) & set_known
        in_cat[sel] = df.loc[sel, "bo_tieu_chi"].isin(list(cat.sets))
        flag(sel & ~in_cat, "bo_tieu_chi", f"{cid} (các năm {cat.year_from}–{cat.year_to}) không có bộ này; có: {', '.join(cat.sets)}")
    return in_cat


def _read_results(df: pd.DataFrame, flag: _Flag) -> _Results:
    """ket_qua: a đạt / không đạt word or a number with a dot."""
    met = each_value(df["ket_qua"], read_met, "boolean")
    is_num = _fullmatch(df["ket_qua"], NUMBER)
    value = pd.to_numeric(df["ket_qua"].where(is_num), errors="coerce").astype("Float64")
    ok = met.notna().astype(bool) | is_num
    flag(~ok, "ket_qua", f"kết quả phải là {RESULT_HINT}")
    return _Results(met, value, is_num, ok)


def _resolve_items(
    df: pd.DataFrame, province: Province, catalog: pd.Series, set_ok: pd.Series, res: _Results, flag: _Flag
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """tieu_chi, checked against the catalogue of the row's year and set: (level, kind, measure unit) per
    row, None where it is not known."""
    level = pd.Series(None, index=df.index, dtype="object")
    kind = pd.Series(None, index=df.index, dtype="object")
    measure = pd.Series(None, index=df.index, dtype="object")
    for (cid, set_code), grp in df[set_ok].groupby([catalog[set_ok], df.loc[set_ok, "bo_tieu_chi"]]):
        cat = province.catalogs.by_id(cid)
        token = _resolve_recognition(grp["tieu_chi"], cat, set_code, level, kind)
        if cat.tier_of(set_code) == "model":
            _resolve_conditions(token, cat, flag, level, kind, measure, _recognition_hint(cat, set_code))
        else:
            _resolve_criteria(token, cat, set_code, res, flag, level, kind, measure)
    return level, kind, measure


def _resolve_recognition(token: pd.Series, cat, set_code: str, level, kind) -> pd.Series:  # noqa: ANN001 - Catalog, Series
    """The conditions of recognition beyond the criteria (hai_long, khong_no_dong_xdcb, …: đạt / không đạt) are
    recorded at level ``recognition``; the other tokens are returned for the set's own items."""
    rc = cat.recognition_conditions
    is_rc = token.isin(set(rc.loc[rc["set"] == set_code, "code"]))
    level[token.index[is_rc]] = "recognition"
    kind[token.index[is_rc]] = "boolean"
    return token[~is_rc]


def _resolve_conditions(token: pd.Series, cat, flag: _Flag, level, kind, measure, hint: str = "") -> None:  # noqa: ANN001
    """The model-xã set records conditions (thu_nhap, thon_thong_minh, …), not numbered criteria."""
    conds = cat.conditions.set_index("code")
    is_cond = token.isin(conds.index)
    flag(
        flag.df.index.isin(token.index[~is_cond]),
        "tieu_chi",
        f"điều kiện xã NTM kiểu mẫu phải là một trong: {', '.join(conds.index)}{hint}",
    )
    idx = token.index[is_cond]
    level[idx] = "condition"
    kind[idx] = token[is_cond].map(conds["kind"])
    measure[idx] = token[is_cond].map(conds["measure_unit"])


def _resolve_criteria(token: pd.Series, cat, set_code: str, res: _Results, flag: _Flag, level, kind, measure) -> None:  # noqa: ANN001
    """A criterion number takes đạt / không đạt; an indicator code takes its value. A number given for a
    criterion whose single indicator has the same code (``10``: income) is that indicator's value."""
    idx = token.index
    crits = set(cat.criteria.loc[cat.criteria["set"] == set_code, "criterion"])
    inds = cat.indicators[cat.indicators["set"] == set_code].set_index("code")
    is_crit = token.isin(crits)
    is_ind = token.isin(inds.index)
    numeric = res.is_num[idx]
    as_crit = is_crit & ~numeric
    as_ind = (is_ind & ~is_crit) | (is_crit & numeric & is_ind)
    level[idx[as_crit]] = "criterion"
    kind[idx[as_crit]] = "boolean"
    level[idx[as_ind]] = "indicator"
    kind[idx[as_ind]] = token[as_ind].map(inds["kind"])
    measure[idx[as_ind]] = token[as_ind].map(inds["measure_unit"])
    crit_value = is_crit & numeric & ~is_ind & res.ok[idx]
    flag(
        flag.df.index.isin(idx[crit_value]),
        "ket_qua",
        lambda item: _criterion_value_message(item, set_code, cat),
        kind="số ghi cho một tiêu chí; tiêu chí ghi ở cấp tiêu chí chỉ nhận dat hoặc khong_dat",
        by="tieu_chi",
    )
    unknown = ~is_crit & ~is_ind
    sample_codes = ", ".join(list(inds.index[:4]))
    flag(
        flag.df.index.isin(idx[unknown]),
        "tieu_chi",
        f"không có trong bộ {SET_NAMES_VI[set_code]} ({cat.id}); nhận số tiêu chí 1–{cat.criteria_count(set_code)}"
        + (f" hoặc mã chỉ tiêu của bộ này (ví dụ {sample_codes})" if len(inds) else " (bộ này chưa có danh mục chỉ tiêu)")
        + _recognition_hint(cat, set_code),
    )


def _recognition_hint(cat, set_code: str) -> str:  # noqa: ANN001 - Catalog
    rc = cat.recognition_conditions
    codes = list(rc.loc[rc["set"] == set_code, "code"])
    return f", hoặc điều kiện công nhận ({', '.join(codes)})" if codes else ""


def _criterion_value_message(item: str, set_code: str, cat) -> str:  # noqa: ANN001 - Catalog
    inds = cat.indicators[(cat.indicators["set"] == set_code) & (cat.indicators["criterion"] == item)]["code"].tolist()
    where = f"; để ghi giá trị, dùng mã chỉ tiêu ({', '.join(inds)})" if inds else ""
    return f"tiêu chí {item} ghi ở cấp tiêu chí chỉ nhận dat hoặc khong_dat{where}"


def _check_values(typed: pd.Series, kind: pd.Series, measure: pd.Series, res: _Results, flag: _Flag) -> pd.Series:
    """A value fits its item: đạt / không đạt items take no number, counts and values are not negative,
    percentages lie in 0–100. Returns the rows that pass."""
    num = typed & res.is_num
    value = res.value
    boolean = num & kind.isin(["boolean"])
    flag(
        boolean,
        "ket_qua",
        lambda item: f"'{item}' ghi kết quả đạt/không đạt; nhận dat hoặc khong_dat, không nhận số",
        kind="số ghi cho một mục đạt/không đạt; nhận dat hoặc khong_dat, không nhận số",
        by="tieu_chi",
    )
    checks = [
        (boolean, None),
        (num & (kind == "absence") & (value.fillna(0) < 0), "số lượng không được âm (đạt khi bằng 0)"),
        (num & (measure == "%") & ((value < 0) | (value > 100)).fillna(False), "tỷ lệ phải nằm trong khoảng 0–100 (%)"),
        (num & (measure != "%") & kind.isin(["minimum", "maximum"]) & (value < 0).fillna(False), "giá trị không được âm"),
    ]
    ok = pd.Series(True, index=typed.index)
    for mask, message in checks:
        if message is not None:
            flag(mask, "ket_qua", message)
        ok &= ~mask.astype(bool)
    return ok


def _check_duplicates(keyed: pd.DataFrame, errors: _Errors) -> None:
    """Each result once per file: a repeated (xã, year, set, level, item) names the row that gave it first."""
    key = ["unit", "year", "tier_set", "level", "item"]
    dup = keyed.duplicated(key, keep="first")
    if not dup.any():
        return
    first = keyed.groupby(key, sort=False)["row"].transform("first")[dup]
    d = keyed[dup]
    message = (
        "trùng với dòng "
        + first.astype("int64").astype(str)
        + " (cùng xã "
        + d["unit"]
        + ", năm "
        + d["year"].astype("int64").astype(str)
        + ", bộ "
        + d["tier_set"]
        + "); mỗi kết quả chỉ ghi một lần trong tệp"
    )
    errors.add_frame(
        pd.DataFrame(
            {
                "row": d["row"].astype("int64"),
                "column": d["col_tieu_chi"] if "col_tieu_chi" in d else "tieu_chi",
                "value": d["item"],
                "message": message,
                "sheet": d["sheet"] if "sheet" in d else None,
                "kind": "kết quả ghi hai lần trong tệp; mỗi kết quả chỉ ghi một lần",
            }
        )
    )


def _district_rows(df: pd.DataFrame, province: Province, errors: _Errors, years_text: str) -> pd.DataFrame:
    """Rows of the district-level sets: ma_xa holds a district-level code, ket_qua đạt / không đạt."""
    reg = province.registry
    out = []
    found: list[RowError] = []
    seen: dict[tuple, int] = {}
    for _, r in df.iterrows():

        def err(column: str, message: str, r=r) -> None:
            found.append(RowError(int(r["row"]), r.get(f"col_{column}", column), r[column], message, r.get("sheet")))

        code, set_code = r["ma_xa"], r["bo_tieu_chi"]
        year = int(r["nam"]) if str(r["nam"]).isascii() and str(r["nam"]).isdigit() else None  # not ²⁰²³
        if year is None or not province.catalogs.covers(year):
            err("nam", f"năm phải là số nguyên có bộ tiêu chí áp dụng: {years_text}")
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
        met = read_met(r["ket_qua"])
        if met is None:
            err("ket_qua", "tiêu chí cấp huyện ghi dat hoặc khong_dat")
            continue
        key = (code, year, set_code, r["tieu_chi"])
        if key in seen:
            err("tieu_chi", f"trùng với dòng {seen[key]}; mỗi kết quả chỉ ghi một lần trong tệp")
            continue
        seen[key] = int(r["row"])
        out.append(
            {"unit": code, "year": year, "catalog": cat.id, "tier_set": set_code, "level": "criterion", "item": r["tieu_chi"], "met": met}
        )
    errors.add(found)
    rows = pd.DataFrame(out, columns=["unit", "year", "catalog", "tier_set", "level", "item", "met", "value"])
    rows["met"] = rows["met"].astype("boolean")
    rows["value"] = rows["value"].astype("Float64")
    rows["year"] = rows["year"].astype("int64")
    return rows
