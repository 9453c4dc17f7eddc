"""The leaders' map: a folium map built from the same layers as the API, as one self-contained HTML page.
Leaflet (static/leaflet), the page's script (static/map.js) and style (static/map.css) are inlined, so the page
works without a CDN; only the optional OpenStreetMap background needs the internet. The HTML around the map is
templates/map_layers.html.

On the page: communes coloured by tier (or, from the layer control, by the status of one criterion), with
a legend; phường and thị trấn greyed; district outlines and names; a tooltip (name, tier, criteria met) and
a popup (unmet criteria by name, the recognition decision); the year chosen on the page; a panel with the
province's shares against every target set that covers the year, the forecast, and each district-level
unit's state; a banner when the data is sample or the boundaries are schematic. Every number comes from the
store's assessments; the page's data is one JSON document (``map_data``) that the script only reads.

A year up to 2025 can also be seen in the new units (``don_vi="moi"``): the new province's units, each new xã
coloured by its DERIVED state from its former xã (layers.derived_properties — never a tier), its popup listing
the former units with their own state, a banner saying the states are derived, and a panel that counts them
instead of tiers and targets. A served page links the same year in the other units (đơn vị cũ / đơn vị mới).

A store that follows the whole country gets the national page instead (``national_map_html``, drawn by
static/national.js with map.js's helpers): the 34 provinces coloured by share of NTM xã, the national report per
year, and a province's communes fetched from the API's communes layer when it is opened — never embedded.

The forecast is a Monte Carlo projection per year, slow beside the rest. A saved file carries it inline (it has
no server to ask); the page a server sends carries instead the URL of ``map_forecasts`` (``FORECAST_PATH``),
which its script fetches from the same site once the page is shown, so that the page never waits for it.

Every word the page shows besides the data is in ``MAP_TEXT_VI`` and the word tables of ``map_style`` (the
script holds none of its own), in the page's language (``lang``: vi, or en through nongthon/lang); names of
units, criteria a table lacks, target descriptions and milestone reasons are data and stay as stored.

The page carries its own Content-Security-Policy (a <meta> at the top of <head>, ``page_policy`` reads it back
for the HTTP header): scripts only by the SHA-256 of the page's own inline scripts, hashed on the page built
without its data, so no stored text can ever add a script that runs; images only inlined or OpenStreetMap tiles;
connections only to its own site, and only on a page that fetches its forecast (a saved file connects nowhere).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING

import folium
import pandas as pd
import shapely
from branca.element import MacroElement
from jinja2 import Template

from . import national
from .boundaries import SCHEMATIC_HOWTO_VI, SCHEMATIC_LABEL_VI, BoundaryLayer, current_layer
from .history import DERIVED_NOTE_VI, NO_DECISION_VI, STATE_NOTES_VI, UNKNOWN_SHARE_VI
from .lang import DEFAULT, fill, translate
from .layers import (
    TIER_CODES,
    TIER_WORDS,
    check_year,
    commune_properties,
    derived_properties,
    district_properties,
    geojson_strings,
    layer_units,
    new_units_province,
    simplified_geometries,
    unit_identity,
)
from .progress import LATE, MET, MISSED, NOT_EVALUATED, NOT_MET, ON_TIME, STATE_WORDS, share_of, target_state
from .province import Province
from .sample import SAMPLE_LABEL_VI
from .scoring import commune_scores
from .store import Store
from .targets import TIERS, TargetSet, target_sets_for
from .units import COMMUNE_TYPES, Registry

if TYPE_CHECKING:
    from .projection import States

# viridis steps, light to dark as the tier rises: ordered, and readable with every common colour-vision deficiency
TIER_COLORS = {"chua_dat": "#fde725", "ntm": "#5ec962", "nang_cao": "#21918c", "kieu_mau": "#3b528b", "ntm_hien_dai": "#440154"}
STATUS_COLORS = {"dat": "#2166ac", "khong_dat": "#e08214", "chua_danh_gia": "#d9d9d9"}  # blue / orange: colour-blind safe
STATUS_WORDS = {"dat": "Đạt", "khong_dat": "Chưa đạt", "chua_danh_gia": "Chưa đánh giá"}
NOT_ELIGIBLE_COLOR = "#9e9e9e"
NO_DATA_COLOR = "#ffffff"
# the national page's provinces by share of NTM xã in five steps of 20 % (ColorBrewer Greens: one hue, light to
# dark, readable with every common colour-vision deficiency), grey for a province without data
SHARE_COLORS = ("#edf8e9", "#bae4b3", "#74c476", "#31a354", "#006d2c")
SHARE_NO_DATA_COLOR = "#bdbdbd"
TIER_LABELS = {"ntm": "Xã đạt chuẩn NTM", "nang_cao": "Xã NTM nâng cao", "kieu_mau": "Xã NTM kiểu mẫu", "ntm_hien_dai": "Xã NTM hiện đại"}
MILESTONE_MARKS = {MET: "✓", ON_TIME: "✓", LATE: "✓*", NOT_MET: "✗", MISSED: "✗", NOT_EVALUATED: "?"}
MILESTONE_LEGEND = "✓ đạt (đúng hạn), ✓* đạt muộn, ✗ chưa đạt / không đạt đúng hạn, ? chưa đánh giá"
PANEL_OPEN_MIN_WIDTH = 700  # px: on a narrower map the panel starts folded, or it would cover the province
FORECAST_RUNS = 300
# a new xã's derived state (not a tier, so not the tiers' colours): blue / light blue / orange, colour-blind safe
DERIVED_COLORS = {"moi_xa_cu_dat": "#2166ac", "mot_phan": "#92c5de", "chua": "#e08214", "chua_co_so_lieu": NO_DATA_COLOR}
DERIVED_COLORS["khong_co_xa_cu"] = NOT_ELIGIBLE_COLOR
DERIVED_WORDS = {
    "moi_xa_cu_dat": "Mọi xã cũ đã đạt chuẩn NTM",
    "mot_phan": "Một phần xã cũ đạt chuẩn NTM",
    "chua": "Chưa xã cũ nào đạt chuẩn NTM",
    "chua_co_so_lieu": "Chưa có số liệu (xã cũ)",
    "khong_co_xa_cu": "Không có xã cũ (chỉ phường, thị trấn cũ)",
}
DERIVED_BANNER_VI = f"Trạng thái {DERIVED_NOTE_VI}"
BANNER_COLORS = {"derived": "#1f4e79"}  # the sample banner stays red, the schematic one brown (map.css)
UNITS_WORDS = {"cu": "đơn vị cũ (trước 1/7/2025)", "moi": "đơn vị mới (từ 1/7/2025)"}
FORECAST_PATH = "/api/map/du-bao"  # where a served page fetches its forecast (map_forecasts), with the page's year
#: every word static/map.js writes (it holds none of its own), by key; its {placeholders} are filled in there (tx)
MAP_TEXT_VI = {
    "tieu_de": "Nông thôn mới — {tinh}",
    "nam": "Năm {nam}",
    "chon_nam": "Năm: ",
    "thu_gon": "Thu gọn / mở rộng",
    "khong_xet": "Không xét NTM ({loai})",
    "suy_ra": "{trang_thai} (suy ra)",
    "chua_co_so_lieu_nam": "Chưa có số liệu năm {nam}",
    "xa_cu_dat_nam": "{dat}/{n} xã cũ đạt chuẩn NTM năm {nam}",
    "dat_tieu_chi": "Đạt {d}/{n} tiêu chí",
    "tieu_chi_ten": "Tiêu chí {so}: {ten}",
    "popup_xa_cu_dat": " — {dat}/{n} xã cũ đạt chuẩn NTM (năm {nam})",
    "dien_tich_dat": "Diện tích các xã cũ đạt chuẩn: {ty_le}",
    "xa_cu": "Xã cũ:",
    "popup_dat": " — đạt {d}/{n} tiêu chí (năm {nam})",
    "tieu_chi_chua_dat": "Tiêu chí chưa đạt:",
    "chua_danh_gia": "Chưa đánh giá:",
    "cong_nhan": "Công nhận: {hang} — Quyết định {quyet_dinh}",
    "chua_cong_nhan": "Chưa có quyết định công nhận đến cuối năm {nam}",
    "lop_suy_ra": "Trạng thái suy ra từ các xã cũ",
    "lop_hang": "Hạng nông thôn mới",
    "lop_ranh_gioi_huyen": "Ranh giới huyện",
    "lop_ten_huyen": "Tên huyện",
    "lop_osm": "Nền OpenStreetMap (cần Internet)",
    "chu_giai_suy_ra": "Xã mới — trạng thái suy ra từ các xã cũ",
    "phuong_khong_xet": "Phường (không xét)",
    "chua_co_so_lieu": "Chưa có số liệu",
    "phuong_thi_tran_khong_xet": "Phường, thị trấn (không xét)",
    "khong_con_xa": "không còn xã nào",
    "muc_tieu": "Mục tiêu {nam} ({cap}): {muc}",
    "xac_suat": " — xác suất đạt {p}%",
    "khong_danh_gia": "không đánh giá",
    "khong_co_bo": " (bộ tiêu chí năm {nam} không có bộ này)",
    "du_bao_nam": "Dự báo {nam}: {tb} ({p10}–{p90})",
    "cot_huyen": "Huyện / thị xã / thành phố",
    "cot_ntm": "NTM",
    "cot_nc": "NC",
    "cot_km": "KM",
    "cot_bq": "BQ TC",
    "cot_moc": "Mốc",
    "xem_don_vi": "Xem năm {nam} theo {don_vi}",
    "suy_ra_tom_tat": "Năm {nam} theo {don_vi}: {n} xã mới; ",
    "so_xa": "{n} xã",
    "moi_xa_cu_dat": "Mọi xã cũ đã đạt: {ghi_chu}.",
    "ghi_chu_suy_ra": "Xã cũ đạt: theo hạng đánh giá từ kết quả đã lưu; phường, thị trấn cũ không tính; xã cũ chưa có số liệu không tính "
    "là chưa đạt. Quyết định công nhận xã mới (từ 1/7/2025): trong từng xã.",
    "chua_co_so_lieu_cham": "Chưa có số liệu năm {nam}.",
    "co_so_lieu": "Năm {nam}: {co}/{dm} xã trong danh mục có số liệu; mẫu số {ms} xã",
    "chinh_thuc": " (chính thức)",
    "xa_duoi": "Xã dưới {so} tiêu chí: ",
    "xa_chua_co_so_lieu": " ({n} xã chưa có số liệu)",
    "khong_co_muc_tieu": "Không có bộ mục tiêu nào áp dụng cho năm {nam}.",
    "du_bao_ghi_chu": "Dự báo: mô phỏng {n} lần từ số liệu đến năm {nam} (khoảng 10–90%).",
    "dang_tinh": "Đang tính dự báo…",
    "khong_tai_duoc": "Không tải được dự báo ({ly_do}); tải lại trang để thử lại.",
    "ghi_chu_huyen": "NTM tính lũy kế (gồm nâng cao, kiểu mẫu); NC: nâng cao; KM: kiểu mẫu; BQ TC: bình quân tiêu chí/xã. "
    "Mốc: {chu_giai} (di chuột để xem lý do).",
    "loi_ket_noi": "không kết nối được máy chủ",
    "loi_http": "máy chủ trả lỗi HTTP {ma}",
    "loi_du_lieu": "máy chủ trả dữ liệu không đọc được",
    # the national page (national_map_data, static/national.js)
    "so_ngay": "số {so}, ngày {ngay}",
    "ve_toan_quoc": "← Toàn quốc",
    "ty_le_xa_ntm": "Tỷ lệ xã đạt chuẩn NTM",
    "tinh_dat": "{dat}/{n} xã đạt chuẩn NTM ({ty_le})",
    "binh_quan": "Bình quân {bq} tiêu chí/xã",
    "xa_co_so_lieu_nam": "Năm {nam}: {co}/{n} xã có số liệu",
    "cot_tinh": "Tỉnh, thành phố",
    "cot_so_xa": "Số xã",
    "cot_ty_le": "Tỷ lệ",
    "sap_xep": "Sắp xếp theo cột này",
    "ghi_chu_tinh": "Bấm vào một tỉnh trên bản đồ hoặc trong bảng để xem các xã. NTM: số xã đạt chuẩn; tỷ lệ trên số xã "
    "trong danh mục; BQ TC: bình quân tiêu chí/xã có số liệu.",
    "dang_tai_xa": "Đang tải các xã…",
    "khong_tai_duoc_xa": "Không tải được các xã ({ly_do}); bấm lại vào tỉnh để thử lại.",
    "phuong_dac_khu_khong_xet": "Phường, đặc khu (không xét)",
}
DECIMAL_MARK = {"vi": ",", "en": "."}  # how the page writes 80,0% / 80.0%


def _static(*parts: str) -> str:
    return resources.files(__package__).joinpath("static", *parts).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def _leaflet() -> tuple[str, str]:
    """Leaflet's script and style, with the style's images as data URLs."""
    base = resources.files(__package__).joinpath("static", "leaflet")
    css = _static("leaflet", "leaflet.css")
    for img in ("layers.png", "layers-2x.png"):
        data = base64.b64encode(base.joinpath(img).read_bytes()).decode()
        css = css.replace(f"url(images/{img})", f"url(data:image/png;base64,{data})")
    return _static("leaflet", "leaflet.js"), css


@lru_cache(maxsize=1)
def _template() -> Template:
    return Template(resources.files(__package__).joinpath("templates", "map_layers.html").read_text(encoding="utf-8"))


def script_json(data: object) -> str:
    """JSON that can sit inside a <script> element: no content can end the element or start markup (``<``,
    ``>``, ``&`` are written as \\u escapes) nor end a line in older JavaScript (U+2028, U+2029). These
    characters only occur inside JSON strings, where the escapes read back as the same text."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.translate({ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026", 0x2028: "\\u2028", 0x2029: "\\u2029"})


#: what the map page may load besides its inline scripts (allowed by hash): its inline styles, images inlined as
#: data: URLs and the optional OpenStreetMap background; nothing else from anywhere, no <base>, no form, no plugin
PAGE_POLICY = (
    "style-src 'unsafe-inline'",
    "img-src data: https://tile.openstreetmap.org https://*.tile.openstreetmap.org",
    "base-uri 'none'",
    "form-action 'none'",
)
FETCH_POLICY = "connect-src 'self'"  # a served page fetches its forecast from its own site
DATA_SLOT = "NTM_DATA_SLOT"  # where the page's JSON goes once the scripts around it are hashed
_SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script\s*>", re.S | re.I)
_DATA_TYPE = re.compile(r"""\btype\s*=\s*["']?application/(?:ld\+)?json""", re.I)
_POLICY_META = re.compile(r'<meta http-equiv="Content-Security-Policy" content="([^"<>]*)">')


def script_hashes(html: str) -> list[str]:
    """The CSP sources ``'sha256-…'`` of a page's inline scripts (not of data blocks such as application/json,
    which never run), in page order, each once."""
    out = []
    for attrs, text in _SCRIPT.findall(html):
        if not _DATA_TYPE.search(attrs) and not re.search(r"\bsrc\s*=", attrs, re.I):
            digest = base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode()
            out.append(f"'sha256-{digest}'")
    return list(dict.fromkeys(out))


def page_policy(html: str | bytes) -> str | None:
    """The Content-Security-Policy a map page declares in its <meta> (None for a page without one)."""
    head = html[:4096].decode("utf-8", "ignore") if isinstance(html, bytes) else html[:4096]
    found = _POLICY_META.search(head)
    return found.group(1) if found else None


class OfflineMap(folium.Map):
    """A folium Map whose Leaflet is inlined in the page instead of loaded from a CDN."""

    default_js: list = []
    default_css: list = []

    def render(self, **kwargs):  # noqa: ANN003, ANN201 - folium's signature
        js, css = _leaflet()
        figure = self.get_root()
        figure.header.add_child(folium.Element(f"<style>{css}</style>"), name="leaflet_css")
        figure.header.add_child(folium.Element(f"<script>{js}</script>"), name="leaflet_js")
        super().render(**kwargs)


class NtmLayers(MacroElement):
    """The communes, districts, controls and panel (static/map.js), driven by the embedded data for every year;
    or another page of the same kit: its ``scripts`` (static/, each inlined and hashed), then ``entry(map, data)``."""

    def __init__(self, data: dict, scripts: tuple[str, ...] = ("map.js",), entry: str = "ntmMap"):
        super().__init__()
        self._name = "NtmLayers"
        self._template = _template()
        self.province_name = data["ten_tinh"]
        self.title = data["kieu"]["chu"]["tieu_de"].replace("{tinh}", data["ten_tinh"])
        self.scripts = [_static(name) for name in scripts]
        self.entry = entry
        self.css = _static("map.css")
        self.data_json = script_json(data)


def _words(words: dict[str, str], lang: str) -> dict[str, str]:
    return {k: translate(v, lang) for k, v in words.items()}


def map_style(lang: str = DEFAULT) -> dict:
    """Colours, words and marks the script draws with (not data: the same for every page of a language)."""
    return {
        "chu": _words(MAP_TEXT_VI, lang),
        "dau_thap_phan": DECIMAL_MARK.get(lang, "."),
        "tier": TIER_COLORS,
        "tier_words": _words(TIER_WORDS, lang),
        "tier_labels": _words(TIER_LABELS, lang),
        "status": STATUS_COLORS,
        "status_words": _words(STATUS_WORDS, lang),
        "not_eligible": NOT_ELIGIBLE_COLOR,
        "no_data": NO_DATA_COLOR,
        "target_words": _words(STATE_WORDS, lang),
        "milestone_words": _words(STATE_WORDS, lang),
        "milestone_marks": MILESTONE_MARKS,
        "milestone_legend": translate(MILESTONE_LEGEND, lang),
        "panel_open_min_width": PANEL_OPEN_MIN_WIDTH,
        "derived": DERIVED_COLORS,
        "derived_words": _words(DERIVED_WORDS, lang),
        "derived_notes": _words(STATE_NOTES_VI, lang),
        "banner": BANNER_COLORS,
        "units_words": _words(UNITS_WORDS, lang),
        "unit_types": _words(COMMUNE_TYPES, lang),
        "share": SHARE_COLORS,
        "share_no_data": SHARE_NO_DATA_COLOR,
    }


# ---- the steps of map_data ---------------------------------------------------------------------------------


def _features(layer: BoundaryLayer, reg: Registry) -> tuple[dict, dict, list[list[float]]]:
    """The communes and districts as GeoJSON FeatureCollections, and the layer's bounds [[S, W], [N, E]]."""
    communes, districts = simplified_geometries(layer, "default", reg.units["district_code"])
    cgeo, dgeo = geojson_strings(communes), geojson_strings(districts)
    c_features = [
        {
            "type": "Feature",
            "geometry": json.loads(cgeo[code]),
            "properties": unit_identity(reg, code),
        }
        for code in reg.communes().index
        if cgeo.get(code) is not None
    ]
    d_features = []
    for code, d in reg.districts().iterrows():
        if dgeo.get(code) is None:
            continue
        point = districts[code].representative_point()
        properties = {"ma": code, "ten": d["name"], "ten_ngan": d["name_short"], "lat": round(point.y, 5), "lon": round(point.x, 5)}
        d_features.append({"type": "Feature", "geometry": json.loads(dgeo[code]), "properties": properties})
    x0, y0, x1, y1 = communes.total_bounds
    return (
        {"type": "FeatureCollection", "features": c_features},
        {"type": "FeatureCollection", "features": d_features},
        [[round(y0, 5), round(x0, 5)], [round(y1, 5), round(x1, 5)]],
    )


def _years(results: pd.DataFrame, province: Province, year: int) -> list[int]:
    """The years the page offers: every catalogue year with results, and the year asked for."""
    return sorted(set(results["year"]).intersection(province.catalogs.years()) | {year})


def _commune_states(props: list[dict], lang: str = DEFAULT) -> dict[str, dict]:
    """Per commune-level unit, the little the page needs in one year: tier, criteria met, statuses, decision."""
    out = {}
    for p in props:
        if not p["du_dieu_kien"]:
            if p["hang_cong_nhan"]:
                out[p["ma"]] = {"h": None, "cn": p["hang_cong_nhan"], "qd": _decision(p, lang)}
            continue
        out[p["ma"]] = {
            "h": p["hang"],
            "d": p["so_tieu_chi_dat"],
            "n": p["so_tieu_chi"],
            "tc": p["trang_thai_tieu_chi"],
            "cd": [c["so"] for c in p["tieu_chi_chua_dat"]],
            "ce": [c["so"] for c in p["tieu_chi_chua_danh_gia"]],
            "cn": p["hang_cong_nhan"],
            "qd": _decision(p, lang),
        }
    return out


def _decision(p: dict, lang: str = DEFAULT) -> str | None:
    q = p.get("quyet_dinh")
    if not q:
        return None
    y, m, d = q["ngay"].split("-")
    return fill("số {so}, ngày {ngay}", lang, so=q["so"], ngay=f"{d}/{m}/{y}")


def _province_state(scores: pd.DataFrame, province: Province, year: int) -> dict:
    """The province's xã per tier in one year (cumulative; null for a tier the year's catalogue lacks)."""
    official = province.registry.official_xa_count(year)
    sets = province.catalogs.for_year(year).sets
    return {
        "xa_danh_muc": len(scores),
        "xa_co_so_lieu": int(scores["has_data"].sum()),
        "mau_so": official or len(scores),
        "mau_so_chinh_thuc": official is not None,
        "hang": [{"ma": TIER_CODES[t], "so_xa": share_of(scores, t) if TIER_CODES[t] in sets else None} for t in TIERS],
    }


def _target_states(scores: pd.DataFrame, target_sets: list[TargetSet], denominator: int, lang: str = DEFAULT) -> list[dict]:
    """Every target of the given sets against one year's scores (progress.target_state), for the panel."""
    out = []
    for ts in target_sets:
        for t in ts.targets:
            state = target_state(t, scores, denominator)
            out.append(
                {
                    "ma": t.id,
                    "mo_ta": t.mo_ta,
                    "bo": ts.id,
                    "ten_bo": ts.name_vi,
                    "cap": translate("quốc gia" if ts.province is None else "tỉnh", lang),
                    "loai": t.kind,
                    "hang": TIER_CODES[t.tier] if t.tier else None,
                    "ty_le": t.share,
                    "nam": t.year,
                    "so_tieu_chi": t.min_criteria,
                    "so_xa_duoi": state.get("so_xa_duoi"),
                    "xa_chua_co_so_lieu": state.get("xa_chua_co_so_lieu"),
                    "trang_thai": state["trang_thai"],
                }
            )
    return out


def _forecast(results: pd.DataFrame, province: Province, year: int, states: States, target_sets: list[TargetSet]) -> dict | None:
    """The projection from ``year`` to the last target year of the sets covering it (none when that year has
    passed or ``year`` has no observed state)."""
    from .projection import project

    horizon = max((t.year for ts in target_sets for t in ts.targets), default=None)
    if horizon is None or year >= horizon or year not in states.years:
        return None
    proj = project(
        results,
        province,
        target_sets,
        horizon=horizon,
        runs=FORECAST_RUNS,
        start_year=year,
        states=states,
    )
    last = next(r for r in proj["theo_nam"] if r["nam"] == horizon)
    return {
        "nam": horizon,
        "so_lan": proj["so_lan_mo_phong"],
        "hang": {TIER_CODES[t]: last[TIER_CODES[t]] for t in TIERS if TIER_CODES[t] in last},
        "xac_suat": {m["ma"]: m["xac_suat"] for m in proj["muc_tieu"]},
    }


def _forecasts(results: pd.DataFrame, store: Store, province: Province, years: list[int]) -> dict[str, dict | None]:
    """``_forecast`` for each year, keyed by the year as text (as ``theo_nam``)."""
    from .projection import observed_states

    if results.empty:
        return {str(y): None for y in years}
    states = observed_states(results, province, recognitions=store.recognitions())
    return {str(y): _forecast(results, province, y, states, target_sets_for(province.code, y)) for y in years}


def map_forecasts(store: Store, province: Province, year: int) -> dict[str, dict | None]:
    """The forecast of the map page of ``year`` for every year that page offers (null for a year without one:
    its target years have passed, or it has no observed state): ``{"2023": {nam, so_lan, hang, xac_suat}, …}``.
    What a served page fetches after it is shown, instead of waiting for these projections."""
    province.catalogs.for_year(year)  # an unknown year: UnknownYear with the years allowed
    results = store.current_results()
    return _forecasts(results, store, province, _years(results, province, year))


def _banners(sample: bool, layer: BoundaryLayer, lang: str = DEFAULT) -> list[dict]:
    banners = []
    if sample:
        banners.append({"loai": "sample", "chu": translate(SAMPLE_LABEL_VI, lang)})
    if layer.schematic:
        banners.append({"loai": "schematic", "chu": f"{translate(SCHEMATIC_LABEL_VI, lang)}. {translate(SCHEMATIC_HOWTO_VI, lang)}"})
    return banners


def _former_words(u: dict, lang: str = DEFAULT) -> str:
    """A former unit's own state in words, with its tier above NTM: "đạt chuẩn NTM (NTM nâng cao)"."""
    tier = u["hang_danh_gia"]
    above = u["trang_thai"] == "dat" and tier not in (None, "ntm")
    return translate(u["trang_thai_ten"], lang) + (f" ({translate(TIER_WORDS[tier], lang)})" if above else "")


def _new_decision(q: dict | None, lang: str = DEFAULT) -> str:
    if not q:
        words = translate(NO_DECISION_VI, lang)
        return words[0].upper() + words[1:]
    y, m, d = q["ngay"].split("-")
    hang = translate(TIER_WORDS[q["hang"]], lang)
    return fill("Quyết định xã mới: {hang} — số {so}, ngày {ngay}", lang, hang=hang, so=q["so_quyet_dinh"], ngay=f"{d}/{m}/{y}")


def _share_text(share: float | None, lang: str = DEFAULT) -> str:
    """A share of area as the page writes it: 42,5% (vi) or 42.5% (en); "chưa rõ" when unknown."""
    if share is None:
        return translate(UNKNOWN_SHARE_VI, lang)
    return f"{100 * share:.1f}".replace(".", DECIMAL_MARK.get(lang, ".")) + "%"


def _derived_states(props: list[dict], lang: str = DEFAULT) -> dict[str, dict]:
    """Per new xã, what the page needs of its derived state in one year: the state, former xã NTM of all, the
    share of the area they make up, the former units in words, the decision taken for the new xã."""
    out = {}
    for p in props:
        if not p["suy_ra"]:
            continue
        out[p["ma"]] = {
            "s": p["trang_thai_suy_ra"],
            "dat": p["xa_cu_dat"],
            "n": p["xa_cu"],
            "tl": _share_text(p["ty_le_dien_tich_dat"], lang),
            "cu": [{"t": u["ten"], "s": u["trang_thai"], "w": _former_words(u, lang)} for u in p["don_vi_cu"]],
            "qd": _new_decision(p["quyet_dinh_xa_moi"], lang),
        }
    return out


def _page(
    reg: Registry, layer: BoundaryLayer, features: tuple, year: int, by_year: dict, sample: bool, banners: list[dict], lang: str, **own
) -> dict:
    """What every province page carries (its units, years, banners, words), with its ``own`` members."""
    communes, districts, bounds = features
    return {
        "ten_tinh": reg.province_name,
        "nam_mac_dinh": year,
        "cac_nam": [int(y) for y in by_year],
        "bounds": bounds,
        "communes": communes,
        "districts": districts,
        "theo_nam": by_year,
        **own,
        "du_lieu_mau": sample,
        "nhan_mau": translate(SAMPLE_LABEL_VI, lang),
        "so_do": layer.schematic,
        "nguon_ranh_gioi": layer.source,
        "bieu_ngu": banners,
        "ngon_ngu": lang,
        "kieu": map_style(lang),
    }


def _derived_map_data(store: Store, province: Province, year: int, forecast: bool, lang: str = DEFAULT) -> dict:
    """The page of a year up to 2025 in the new units: the new province's units, every year of the old province
    with data, each new xã's derived state per year; no tiers, targets nor forecast (a derived state is none)."""
    reg = new_units_province(province).registry
    layer = current_layer(store, reg)
    years = sorted(set(store.years_with_data()).intersection(province.catalogs.years()) | {year})
    by_year, sample = {}, False
    for y in years:
        props, is_sample = derived_properties(store, province, y)
        sample = sample or is_sample
        states = [p["trang_thai_suy_ra"] for p in props if p["suy_ra"]]
        by_year[str(y)] = {
            "xa": {},
            "suy_ra": _derived_states(props, lang),
            "tom_tat": {k: states.count(k) for k in DERIVED_WORDS},
            "huyen": {},
            "tinh": None,
            "muc_tieu": [],
            "ten_tieu_chi": {},
        }
    banners = _banners(sample, layer, lang)
    banners.insert(int(sample), {"loai": "derived", "chu": translate(DERIVED_BANNER_VI, lang)})
    return _page(
        reg,
        layer,
        _features(layer, reg),
        year,
        by_year,
        sample,
        banners,
        lang,
        du_bao_url=None,
        don_vi="moi",
        don_vi_khac=None if forecast else "cu",  # a served page links the old units; a saved file has no server
        suy_ra=True,
        ghi_chu_suy_ra=translate(DERIVED_BANNER_VI, lang),
    )


def map_data(store: Store, province: Province, year: int, forecast: bool = True, don_vi: str | None = None, lang: str = DEFAULT) -> dict:
    """Everything the page shows, for every year with data: geometry once, the state per year. With ``forecast``
    each year's forecast is inline (``du_bao``); without, the data carries the URL to fetch them from instead
    (``du_bao_url``: ``map_forecasts`` of the same year) and no projection runs here. ``don_vi``: the units
    (history.units_for_year; ``moi`` for a year up to 2025 gives the derived states of the new xã). ``lang``: the
    language of the page's words (nongthon.lang; the data's own keys and values are the same in every language)."""
    units = layer_units(year, don_vi)
    if units != province.period:
        return _derived_map_data(store, province, year, forecast, lang)
    reg = province.registry
    layer = current_layer(store, reg)
    results = store.current_results()
    years = _years(results, province, year)
    scores = commune_scores(results, province, years=years)
    forecasts = _forecasts(results, store, province, years) if forecast else {}
    by_year, sample = {}, False
    for y in years:
        props, is_sample = commune_properties(store, province, y)
        sample = sample or is_sample
        year_scores = scores[scores["year"] == y]
        province_row = _province_state(year_scores, province, y)
        target_sets = target_sets_for(province.code, y)
        by_year[str(y)] = {
            "xa": _commune_states(props, lang),
            "huyen": {d["ma"]: d for d in district_properties(store, province, y, current=results)[0]},
            "tinh": province_row,
            "muc_tieu": _target_states(year_scores, target_sets, province_row["mau_so"], lang),
            "ten_tieu_chi": _words(province.catalogs.for_year(y).criterion_names("ntm"), lang),
        }
        if forecast:
            by_year[str(y)]["du_bao"] = forecasts[str(y)]
    return _page(
        reg,
        layer,
        _features(layer, reg),
        year,
        by_year,
        sample,
        _banners(sample, layer, lang),
        lang,
        du_bao_url=None if forecast else f"{FORECAST_PATH}?year={year}",
        don_vi=units,
        # a served page of the old units links the same year in the new units; a saved file has no server to ask
        don_vi_khac="moi" if units == "cu" and not forecast else None,
        suy_ra=False,
    )


# ---- the national page ---------------------------------------------------------------------------------------

NATIONAL_SCRIPTS = ("map.js", "national.js")  # national.js draws with the kit map.js shares (window.ntmKit)
COMMUNES_PATH = "/api/layers/communes"  # where the national page fetches a province's communes (?year=…&province=…)
REPORT_KEYS = ("so_xa", "dat_ntm", "ty_le_ntm", "binh_quan_tieu_chi", "xa_co_so_lieu")  # of a national report's row


def national_map_data(
    store: Store,
    province: Province,
    year: int,
    scope: str = national.ALL,
    lang: str = DEFAULT,
    geometry: national.ViewGeometry | None = None,
) -> dict:
    """The national page's data: the 34 provinces (``cac_tinh``: geometry once, at default detail) and, for every
    year offered (the national years with data, and ``year``), the national report (national.national_summary):
    the nation's row and each province's (so_xa, dat_ntm, ty_le_ntm — what the map colours by —,
    binh_quan_tieu_chi, xa_co_so_lieu), the tiers of the year's catalogue and its criterion names. No commune is
    embedded: the page fetches a province's communes from ``xa_url`` (the API's communes layer of one province)
    when it is opened. ``scope``: the province the page opens on (its GSO code), or ``all``, the nation.
    ``province``: the nation (national.national_province()); ``geometry``: the nation's, if already built."""
    scope = national.check_province(scope)
    check_year(province, year)
    geometry = geometry or national.view_geometry(store, national.ALL)
    years = sorted(set(store.years_with_data()).intersection(province.catalogs.years()) | {year})
    by_year, sample = {}, False
    for y in years:
        summary = national.national_summary(store, province, y)
        catalog = province.catalogs.for_year(y)
        sample = sample or summary["du_lieu_mau"]
        by_year[str(y)] = {
            "toan_quoc": {k: summary["toan_quoc"][k] for k in REPORT_KEYS},
            "tinh": {r["ma_don_vi"]: {k: r[k] for k in REPORT_KEYS} for r in summary["tinh"]},
            "hang_co": ["chua_dat", *(TIER_CODES[t] for t in TIERS if TIER_CODES[t] in catalog.sets)],
            "ten_tieu_chi": _words(catalog.criterion_names("ntm"), lang),
        }
    names = national.province_names()
    shapes = {c: g for c, g in geometry.provinces.items() if g is not None}
    features = [
        {"type": "Feature", "geometry": json.loads(shapes[c]), "properties": {"ma": c, "ten": names[c]}}
        for c in national.codes()
        if c in shapes
    ]
    x0, y0, x1, y1 = shapely.total_bounds(shapely.from_geojson(list(shapes.values())))
    return {
        "ten_tinh": translate(national.NATIONAL_NAME_VI, lang),
        "nam_mac_dinh": year,
        "cac_nam": years,
        "bounds": [[round(y0, 5), round(x0, 5)], [round(y1, 5), round(x1, 5)]],
        "cac_tinh": {"type": "FeatureCollection", "features": features},
        "theo_nam": by_year,
        "mo_tinh": None if scope == national.ALL else scope,
        "xa_url": COMMUNES_PATH,
        "du_lieu_mau": sample,
        "nhan_mau": translate(SAMPLE_LABEL_VI, lang),
        "so_do": geometry.layer.schematic,
        "nguon_ranh_gioi": geometry.layer.source,
        "bieu_ngu": _banners(sample, geometry.layer, lang),
        "ngon_ngu": lang,
        "kieu": map_style(lang),
    }


def national_map_html(
    store: Store,
    province: Province,
    year: int,
    scope: str = national.ALL,
    lang: str = DEFAULT,
    geometry: national.ViewGeometry | None = None,
) -> str:
    """The national page served at /map on a store that follows the whole country (``national_map_data``, drawn by
    static/national.js): it opens on the nation, or on the province ``scope``, and fetches communes from its site."""
    return page_html(
        leaflet_map(national_map_data(store, province, year, scope, lang, geometry), NATIONAL_SCRIPTS, "ntmNational"), fetches=True
    )


def leaflet_map(data: dict, scripts: tuple[str, ...] = ("map.js",), entry: str = "ntmMap") -> folium.Map:
    """The folium map of a page's ``data``, centred on its bounds (the page's script then fits those bounds beside
    the panel), drawn by ``entry`` of ``scripts`` (NtmLayers)."""
    (south, west), (north, east) = data["bounds"]
    m = OfflineMap(location=[(south + north) / 2, (west + east) / 2], tiles=None, zoom_snap=0.1, prefer_canvas=False)
    NtmLayers(data, scripts, entry).add_to(m)
    return m


def build_map(
    store: Store, province: Province, year: int, forecast: bool = True, don_vi: str | None = None, lang: str = DEFAULT
) -> folium.Map:
    """The folium map (displayable in a notebook, or saved with ``.save``), centred on the layer's bounds; the
    page's script then fits those bounds beside the panel. ``forecast``, ``don_vi``, ``lang``: as in ``map_data``."""
    province.catalogs.for_year(year)
    return leaflet_map(map_data(store, province, year, forecast, don_vi, lang))


def page_html(m: folium.Map, fetches: bool) -> str:
    """A map (``leaflet_map``) as one self-contained HTML page, with its Content-Security-Policy. The page is built
    with a slot for its data, its scripts are hashed, and only then is the data put in the slot: were some text
    ever to end the data's element, the script it started would have no hash, and the browser would not run it.
    ``fetches``: the page may connect to its own site (a served page), else nowhere (a saved file)."""
    layers = next(c for c in m._children.values() if isinstance(c, NtmLayers))
    data_json, layers.data_json = layers.data_json, DATA_SLOT
    page = m.get_root().render()
    connect = [FETCH_POLICY] if fetches else []
    policy = "; ".join(["default-src 'none'", f"script-src {' '.join(script_hashes(page))}", *PAGE_POLICY, *connect])
    head = page.index("<head>") + len("<head>")
    if page.count(DATA_SLOT) != 1:
        raise RuntimeError(f"the map page must hold its data slot once, not {page.count(DATA_SLOT)} times")
    page = f'{page[:head]}\n<meta http-equiv="Content-Security-Policy" content="{policy}">{page[head:]}'
    return page.replace(DATA_SLOT, data_json)


def map_html(store: Store, province: Province, year: int, forecast: bool = True, don_vi: str | None = None, lang: str = DEFAULT) -> str:
    """The map as one self-contained HTML page (``page_html``). ``forecast``: inline (a saved file), or, with False,
    fetched by the page from its own site (a served page). ``don_vi``, ``lang``: the units and the language, as in
    ``map_data``."""
    return page_html(build_map(store, province, year, forecast, don_vi, lang), fetches=not forecast)
