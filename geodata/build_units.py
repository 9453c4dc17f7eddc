"""Build geodata/units.csv, the commune registry of Phú Yên (GSO code 54) as it stood just
before the 1 July 2025 reform, from the installable package ``vietnamadminunits``.

Run from the repository root::

    pip install vietnamadminunits==1.0.4
    python geodata/build_units.py          # writes geodata/units.csv

The library reads the CSV, so the package is needed only to rebuild it (and by the tests that
check the CSV against the package). See geodata/README.md for provenance.
"""

from __future__ import annotations

import csv
import sqlite3
import sys
import unicodedata
from importlib import metadata, resources
from pathlib import Path

PROVINCE_CODE = "54"
OUT = Path(__file__).with_name("units.csv")
COLUMNS = ["code", "name", "name_short", "unit_type", "level", "parent_code", "lat", "lon"]

# vietnamadminunits spells types as in GSO's lists; the registry keeps a stable ASCII key too.
TYPE_KEYS = {
    "Tỉnh": "tinh",
    "Thành phố": "thanh_pho",
    "Thị xã": "thi_xa",
    "Huyện": "huyen",
    "Xã": "xa",
    "Phường": "phuong",
    "Thị trấn": "thi_tran",
}


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text.strip())


def dataset_path() -> Path:
    return Path(str(resources.files("vietnamadminunits") / "data" / "dataset.db"))


def build_rows(db: Path, province_code: str = PROVINCE_CODE) -> list[dict[str, str]]:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        cur = con.execute(
            "SELECT province, provinceShort, provinceLat, provinceLon, district, districtShort, "
            "districtType, districtCode, districtLat, districtLon, ward, wardShort, wardType, "
            "wardCode, wardLat, wardLon FROM admin_units_legacy WHERE provinceCode = ? "
            "ORDER BY districtCode, wardCode",
            (province_code,),
        )
        records = cur.fetchall()
    finally:
        con.close()
    if not records:
        raise SystemExit(f"no units for province {province_code} in {db}")
    (province, province_short, plat, plon) = records[0][:4]
    rows = [
        {
            "code": province_code,
            "name": nfc(province),
            "name_short": nfc(province_short),
            "unit_type": "tinh",
            "level": "province",
            "parent_code": "",
            "lat": f"{plat:.6f}",
            "lon": f"{plon:.6f}",
        }
    ]
    seen_districts: set[str] = set()
    for _, _, _, _, district, district_short, dtype, dcode, dlat, dlon, ward, ward_short, wtype, wcode, wlat, wlon in records:
        if dcode not in seen_districts:
            seen_districts.add(dcode)
            rows.append(
                {
                    "code": dcode.zfill(3),
                    "name": nfc(district),
                    "name_short": nfc(district_short),
                    "unit_type": TYPE_KEYS[nfc(dtype)],
                    "level": "district",
                    "parent_code": province_code,
                    "lat": f"{dlat:.6f}",
                    "lon": f"{dlon:.6f}",
                }
            )
        rows.append(
            {
                "code": wcode.zfill(5),
                "name": nfc(ward),
                "name_short": nfc(ward_short),
                "unit_type": TYPE_KEYS[nfc(wtype)],
                "level": "commune",
                "parent_code": dcode.zfill(3),
                "lat": f"{wlat:.6f}",
                "lon": f"{wlon:.6f}",
            }
        )
    return rows


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else OUT
    rows = build_rows(dataset_path())
    with out.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    version = metadata.version("vietnamadminunits")
    print(f"wrote {len(rows)} units to {out} from vietnamadminunits {version}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
