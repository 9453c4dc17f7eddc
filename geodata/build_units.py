"""Build the committed unit registries and the 2025 crosswalk from the installable package
``vietnamadminunits`` (1.0.4, MIT):

- ``units_cu.csv``: every unit of Viet Nam as it stood until 30 June 2025 (period ``cu``): 63 provinces,
  696 district-level units, 10,035 commune-level units (table ``admin_units_legacy``);
- ``units_moi.csv``: every unit from 1 July 2025 (period ``moi``): 34 provinces and 3,321 commune-level
  units, no district level (table ``admin_units``);
- ``crosswalk_2025.csv``: for every former unit, the new unit(s) it went into (the package's
  ``converter_2025.json``), with ``chia_tach = 1`` where the former unit was divided among several.

Run from the repository root::

    pip install vietnamadminunits==1.0.4
    python geodata/build_units.py          # writes the three files next to this script

The library reads only the CSV files, so the package is needed only to rebuild them (and by the tests
that check the files against the package). See geodata/README.md for provenance.
"""

from __future__ import annotations

import csv
import json
import sqlite3
import sys
import unicodedata
from importlib import metadata, resources
from pathlib import Path

from nongthon.units import PERIODS

HERE = Path(__file__).resolve().parent
UNITS_FILES = {"cu": "units_cu.csv", "moi": "units_moi.csv"}
CROSSWALK_FILE = "crosswalk_2025.csv"
COLUMNS = "code name name_short unit_type level parent_code province_code lat lon period valid_from valid_to".split()
CROSSWALK_COLUMNS = ["ma_moi", "ma_cu", "tinh_moi", "tinh_cu", "chia_tach"]

# vietnamadminunits spells types as in GSO's lists; the registry keeps a stable ASCII key too.
TYPE_KEYS = {
    "Tỉnh": "tinh",
    "Thành phố": "thanh_pho",
    "Thị xã": "thi_xa",
    "Huyện": "huyen",
    "Quận": "quan",
    "Xã": "xa",
    "Phường": "phuong",
    "Thị trấn": "thi_tran",
    "Đặc khu": "dac_khu",
}


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text.strip())


def package_file(name: str) -> Path:
    return Path(str(resources.files("vietnamadminunits") / "data" / name))


def dataset_path() -> Path:
    return package_file("dataset.db")


def _query(db: Path, sql: str) -> list[sqlite3.Row]:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    con.row_factory = sqlite3.Row
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


LEVELS = {"province": ("province", 2), "district": ("district", 3), "commune": ("ward", 5)}  # column prefix, code width


def _unit(r: sqlite3.Row, level: str, parent: str, period: str) -> dict[str, str]:
    """One registry row from the package's columns of one level (province…, district…, ward…)."""
    key, width = LEVELS[level]
    if level == "province":  # "Tỉnh Phú Yên", "Thành phố Hà Nội": the type is the name's first word(s)
        type_word = next(t for t in ("Tỉnh", "Thành phố") if nfc(r["province"]).startswith(t + " "))
    else:
        type_word = r[f"{key}Type"]
    start, end = PERIODS[period].valid_from, PERIODS[period].valid_to
    return {
        "code": r[f"{key}Code"].zfill(width),
        "name": nfc(r[key]),
        "name_short": nfc(r[f"{key}Short"]),
        "unit_type": TYPE_KEYS[nfc(type_word)],
        "level": level,
        "parent_code": parent,
        "province_code": r["provinceCode"].zfill(2),
        "lat": f"{r[f'{key}Lat']:.6f}",
        "lon": f"{r[f'{key}Lon']:.6f}",
        "period": period,
        "valid_from": start.isoformat() if start else "",
        "valid_to": end.isoformat() if end else "",
    }


def build_cu_rows(db: Path) -> list[dict[str, str]]:
    """Every unit before 1 July 2025: per province (by code), the province, then each district-level
    unit followed by its communes, by code. Five island districts have no commune level."""
    records = _query(db, "SELECT * FROM admin_units_legacy")
    records.sort(key=lambda r: (r["provinceCode"].zfill(2), r["districtCode"].zfill(3), (r["wardCode"] or "").zfill(5)))
    rows: list[dict[str, str]] = []
    seen: set[str] = set()
    for r in records:
        pcode, dcode = r["provinceCode"].zfill(2), r["districtCode"].zfill(3)
        if pcode not in seen:
            seen.add(pcode)
            rows.append(_unit(r, "province", "", "cu"))
        if dcode not in seen:
            seen.add(dcode)
            rows.append(_unit(r, "district", pcode, "cu"))
        if r["wardCode"]:
            rows.append(_unit(r, "commune", dcode, "cu"))
    return rows


def build_moi_rows(db: Path) -> list[dict[str, str]]:
    """Every unit from 1 July 2025: per province (by code), the province, then its communes by code;
    a commune's parent is its province (no district level)."""
    records = _query(db, "SELECT * FROM admin_units")
    records.sort(key=lambda r: (r["provinceCode"].zfill(2), r["wardCode"].zfill(5)))
    rows: list[dict[str, str]] = []
    seen: set[str] = set()
    for r in records:
        pcode = r["provinceCode"].zfill(2)
        if pcode not in seen:
            seen.add(pcode)
            rows.append(_unit(r, "province", "", "moi"))
        rows.append(_unit(r, "commune", pcode, "moi"))
    return rows


def build_crosswalk_rows(db: Path, converter: Path) -> list[dict[str, str]]:
    """One row per (new unit, former unit) pair of the package's converter table. Its keys are names
    ("tinhphuyen_huyenphuhoa_xahoaquangbac" for a former unit, "xaphuhoa2" within the new province
    "tinhdaklak"), turned into GSO codes here through the two tables of dataset.db. A former island
    district without communes ("…_huyenlyson_") is keyed by its district code."""
    old = {
        f"{r['provinceKey']}_{r['districtKey']}_{r['wardKey'] or ''}": (
            r["wardCode"].zfill(5) if r["wardCode"] else r["districtCode"].zfill(3),
            r["provinceCode"].zfill(2),
        )
        for r in _query(db, "SELECT provinceKey, districtKey, wardKey, wardCode, districtCode, provinceCode FROM admin_units_legacy")
    }
    new = {
        (r["provinceKey"], r["wardKey"]): (r["wardCode"].zfill(5), r["provinceCode"].zfill(2))
        for r in _query(db, "SELECT provinceKey, wardKey, wardCode, provinceCode FROM admin_units")
    }
    table = json.loads(converter.read_text(encoding="utf-8"))
    pairs: dict[tuple[str, str], dict[str, str]] = {}

    def add(new_key: tuple[str, str], old_key: str, divided: bool) -> None:
        (ma_moi, tinh_moi), (ma_cu, tinh_cu) = new[new_key], old[old_key]
        pairs[ma_moi, ma_cu] = dict(zip(CROSSWALK_COLUMNS, (ma_moi, ma_cu, tinh_moi, tinh_cu, "1" if divided else "0")))

    for province, wards in table["DICT_PROVINCE_WARD_NO_DIVIDED"].items():
        for ward, olds in wards.items():
            for old_key in olds:
                add((province, ward), old_key, False)
    for province, olds in table["DICT_PROVINCE_WARD_DIVIDED"].items():
        for old_key, targets in olds.items():
            for target in targets:
                add((province, target["newWardKey"]), old_key, True)
    return [pairs[k] for k in sorted(pairs)]


def write_csv(path: Path, columns: list[str], rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else HERE
    db = dataset_path()
    version = metadata.version("vietnamadminunits")
    outputs = [
        (out / UNITS_FILES["cu"], COLUMNS, build_cu_rows(db)),
        (out / UNITS_FILES["moi"], COLUMNS, build_moi_rows(db)),
        (out / CROSSWALK_FILE, CROSSWALK_COLUMNS, build_crosswalk_rows(db, package_file("converter_2025.json"))),
    ]
    for path, columns, rows in outputs:
        write_csv(path, columns, rows)
        print(f"wrote {len(rows)} rows to {path} from vietnamadminunits {version}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
