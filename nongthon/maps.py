"""The leaders' map: a folium map built from the same layers as the API, as one self-contained HTML page
(Leaflet is inlined from the copy in nongthon/static/leaflet, so the page works without a CDN; only the
optional OpenStreetMap background needs the internet).

On the page: communes coloured by tier (or, from the layer control, by the status of one criterion), with
a legend; phường and thị trấn greyed; district outlines and names; a tooltip (name, tier, criteria met) and
a popup (unmet criteria by name, the recognition decision); the year chosen on the page; a panel with the
province's shares against the targets and each district-level unit's state; a banner when the data is
sample or the boundaries are schematic. Every number comes from the store's assessments.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

import folium
from branca.element import Element, MacroElement
from jinja2 import Template

from .boundaries import SCHEMATIC_HOWTO_VI, SCHEMATIC_LABEL_VI, current_layer
from .layers import TIER_WORDS, _geojson_strings, commune_properties, district_properties, simplified_geometries
from .province import Province
from .sample import SAMPLE_LABEL_VI
from .store import Store
from .targets import load_targets

# viridis steps, light to dark as the tier rises: ordered, and readable with every common colour-vision deficiency
TIER_COLORS = {"chua_dat": "#fde725", "ntm": "#5ec962", "nang_cao": "#21918c", "kieu_mau": "#3b528b"}
STATUS_COLORS = {"dat": "#2166ac", "khong_dat": "#e08214", "chua_danh_gia": "#d9d9d9"}  # blue / orange: colour-blind safe
STATUS_WORDS = {"dat": "Đạt", "khong_dat": "Chưa đạt", "chua_danh_gia": "Chưa đánh giá"}
NOT_ELIGIBLE_COLOR = "#9e9e9e"
NO_DATA_COLOR = "#ffffff"
TIER_SHARE_KEY = {"ntm": "dat_ntm", "advanced": "nang_cao", "model": "kieu_mau"}


@lru_cache(maxsize=1)
def _leaflet() -> tuple[str, str]:
    base = resources.files(__package__).joinpath("static", "leaflet")
    js = base.joinpath("leaflet.js").read_text(encoding="utf-8")
    css = base.joinpath("leaflet.css").read_text(encoding="utf-8")
    import base64

    for img in ("layers.png", "layers-2x.png"):
        data = base64.b64encode(base.joinpath(img).read_bytes()).decode()
        css = css.replace(f"url(images/{img})", f"url(data:image/png;base64,{data})")
    return js, css


class OfflineMap(folium.Map):
    """A folium Map whose Leaflet is inlined in the page instead of loaded from a CDN."""

    default_js: list = []
    default_css: list = []

    def render(self, **kwargs):  # noqa: ANN003, ANN201 - folium's signature
        js, css = _leaflet()
        figure = self.get_root()
        figure.header.add_child(Element(f"<style>{css}</style>"), name="leaflet_css")
        figure.header.add_child(Element(f"<script>{js}</script>"), name="leaflet_js")
        super().render(**kwargs)


class NtmLayers(MacroElement):
    """The communes, districts, controls and panel, driven by the embedded data for every year."""

    _template = Template(
        """
{% macro header(this, kwargs) %}
<style>
  .ntm-box { background: #fff; padding: 8px 10px; border-radius: 6px; box-shadow: 0 1px 4px rgba(0,0,0,.35);
             font: 13px/1.35 system-ui, "Segoe UI", Roboto, Arial, sans-serif; color: #222; }
  .ntm-legend i { display: inline-block; width: 16px; height: 12px; margin-right: 6px; border: 1px solid #555; vertical-align: -1px; }
  .ntm-banner { background: #b71c1c; color: #fff; font-weight: 600; text-align: center; }
  .ntm-banner.schematic { background: #5d4037; }
  .ntm-title { font-size: 16px; font-weight: 700; }
  .ntm-panel { max-width: 330px; max-height: calc(100vh - 235px); overflow-y: auto; }  /* clear of the zoom and year controls */
  .ntm-panel .ntm-toggle { float: right; cursor: pointer; border: 1px solid #999; border-radius: 3px; padding: 0 5px; margin-left: 6px; background: #f4f4f4; }
  .ntm-panel.collapsed .ntm-body { display: none; }
  .ntm-bar { position: relative; height: 12px; background: #eee; border-radius: 3px; margin: 2px 0 6px; }
  .ntm-bar span { position: absolute; left: 0; top: 0; bottom: 0; border-radius: 3px; }
  .ntm-moc { font-weight: 700; cursor: help; }
  .ntm-moc.dat { color: #2166ac; } .ntm-moc.khong_dat { color: #b35806; } .ntm-moc.chua_danh_gia { color: #777; }
  .ntm-forecast { color: #333; font-size: 12px; }
  .ntm-band { height: 8px; }
  .ntm-bar b { position: absolute; top: -3px; bottom: -3px; width: 2px; background: #b71c1c; }
  .ntm-panel table { border-collapse: collapse; width: 100%; }
  .ntm-panel td { padding: 1px 4px; border-bottom: 1px solid #eee; }
  .ntm-panel td.n { text-align: right; }
  .ntm-district-label { background: transparent; border: 0; box-shadow: none; font-weight: 700; color: #222;
                        text-shadow: 0 0 3px #fff, 0 0 3px #fff; }
  .ntm-popup h4 { margin: 0 0 4px; }
  .ntm-popup ul { margin: 2px 0 4px 16px; padding: 0; }
</style>
{% endmacro %}
{% macro script(this, kwargs) %}
(function () {
  var map = {{ this._parent.get_name() }};
  var D = {{ this.data_json }};
  var C = {{ this.style_json }};
  var state = { year: String(D.nam_mac_dinh), mode: "hang" };

  function yearData() { return D.theo_nam[state.year] || { xa: {}, huyen: {}, tinh: null, ten_tieu_chi: {} }; }
  function xa(ma) { return yearData().xa[ma]; }

  function color(f) {
    var p = f.properties;
    if (!p.du_dieu_kien) return C.not_eligible;
    var r = xa(p.ma);
    if (!r || r.h === null) return C.no_data;
    if (state.mode === "hang") return C.tier[r.h];
    return C.status[r.tc[state.mode] || "chua_danh_gia"];
  }
  function style(f) {
    var p = f.properties, r = xa(p.ma);
    var noData = p.du_dieu_kien && (!r || r.h === null);
    return { fillColor: color(f), fillOpacity: p.du_dieu_kien ? 0.85 : 0.55, color: "#555", weight: 0.6,
             dashArray: noData ? "3 3" : null };
  }
  function tierWords(p) {
    if (!p.du_dieu_kien) return "Không xét NTM (" + p.loai_ten.toLowerCase() + ")";
    var r = xa(p.ma);
    if (!r || r.h === null) return "Chưa có số liệu năm " + state.year;
    return C.tier_words[r.h];
  }
  function tooltip(layer) {
    var p = layer.feature.properties, r = xa(p.ma);
    var s = "<b>" + p.ten + "</b><br>" + tierWords(p);
    if (p.du_dieu_kien && r && r.h !== null) {
      s += "<br>Đạt " + r.d + "/" + r.n + " tiêu chí";
      if (state.mode !== "hang") s += "<br>Tiêu chí " + state.mode + ": " + C.status_words[r.tc[state.mode] || "chua_danh_gia"];
    }
    return s;
  }
  function popup(layer) {
    var p = layer.feature.properties, r = xa(p.ma), names = yearData().ten_tieu_chi;
    var s = '<div class="ntm-popup"><h4>' + p.ten + "</h4>" + p.ten_huyen + "<br><b>" + tierWords(p) + "</b>";
    if (p.du_dieu_kien && r && r.h !== null) {
      s += " — đạt " + r.d + "/" + r.n + " tiêu chí (năm " + state.year + ")";
      if (r.cd.length) s += "<br>Tiêu chí chưa đạt:<ul>" + r.cd.map(function (c) { return "<li>" + c + ". " + names[c] + "</li>"; }).join("") + "</ul>";
      if (r.ce.length) s += "Chưa đánh giá:<ul>" + r.ce.map(function (c) { return "<li>" + c + ". " + names[c] + "</li>"; }).join("") + "</ul>";
    }
    if (r && r.cn) s += "<br>Công nhận: " + C.tier_words[r.cn] + " — Quyết định " + r.qd;
    else if (p.du_dieu_kien) s += "<br>Chưa có quyết định công nhận đến cuối năm " + state.year;
    if (D.du_lieu_mau) s += '<br><i>' + D.nhan_mau + "</i>";
    return s + "</div>";
  }

  var communes = L.geoJSON(D.communes, { style: style, onEachFeature: function (f, layer) {
    layer.bindTooltip(function () { return tooltip(layer); }, { sticky: true });
    layer.bindPopup(function () { return popup(layer); }, { maxWidth: 320 });
    layer.on("mouseover", function () { layer.setStyle({ weight: 2.5, color: "#000" }); });
    layer.on("mouseout", function () { communes.resetStyle(layer); });
  } }).addTo(map);
  var districts = L.geoJSON(D.districts, { interactive: false, style: { fill: false, color: "#111", weight: 2.2 } }).addTo(map);
  var labels = L.layerGroup(D.districts.features.map(function (f) {
    return L.marker([f.properties.lat, f.properties.lon], { icon: L.divIcon({ className: "ntm-district-label", html: f.properties.ten_ngan, iconSize: null }), interactive: false });
  })).addTo(map);
  map.fitBounds(communes.getBounds(), { padding: [10, 10] });

  var osm = L.tileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png", { maxZoom: 18, opacity: 0.5,
    attribution: '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>' });

  // one base layer per view: the tier, or the status of one criterion; switching restyles the same polygons
  var control = null;
  function buildControl() {
    if (control) map.removeControl(control);
    var bases = {}, names = yearData().ten_tieu_chi, current = null;
    var tierView = L.layerGroup(); tierView.ntmMode = "hang"; bases["Hạng nông thôn mới"] = tierView;
    if (state.mode === "hang") current = tierView;
    Object.keys(names).forEach(function (c) {
      var g = L.layerGroup(); g.ntmMode = c; bases["Tiêu chí " + c + ": " + names[c]] = g;
      if (state.mode === c) current = g;
    });
    if (!current) { state.mode = "hang"; current = tierView; }
    current.addTo(map);
    control = L.control.layers(bases, { "Ranh giới huyện": districts, "Tên huyện": labels, "Nền OpenStreetMap (cần Internet)": osm },
                               { collapsed: true, position: "topright" }).addTo(map);
  }
  map.on("baselayerchange", function (e) { state.mode = e.layer.ntmMode; refresh(); });

  function legendHtml() {
    var rows = [];
    if (state.mode === "hang") {
      ["chua_dat", "ntm", "nang_cao", "kieu_mau"].forEach(function (k) { rows.push([C.tier[k], C.tier_words[k]]); });
    } else {
      rows.push(["", "<b>Tiêu chí " + state.mode + ": " + yearData().ten_tieu_chi[state.mode] + "</b>"]);
      ["dat", "khong_dat", "chua_danh_gia"].forEach(function (k) { rows.push([C.status[k], C.status_words[k]]); });
    }
    rows.push([C.no_data, "Chưa có số liệu"]);
    rows.push([C.not_eligible, "Phường, thị trấn (không xét)"]);
    return '<div class="ntm-title">Năm ' + state.year + "</div>" + rows.map(function (r) {
      return r[0] ? '<div><i style="background:' + r[0] + '"></i>' + r[1] + "</div>" : "<div>" + r[1] + "</div>";
    }).join("");
  }
  var legend = L.control({ position: "bottomright" });
  legend.onAdd = function () { this._div = L.DomUtil.create("div", "ntm-box ntm-legend"); this._div.id = "ntm-legend"; return this._div; };
  legend.addTo(map);

  function pct(x) { return (100 * x).toFixed(1).replace(".", ",") + "%"; }
  function panelHtml() {
    var t = yearData().tinh;
    var s = '<div class="ntm-title"><span class="ntm-toggle" title="Thu gọn / mở rộng">' + (panelOpen ? "−" : "+") + "</span>" + D.ten_tinh + " — năm " + state.year + '</div><div class="ntm-body">';
    if (!t) return s + "Chưa có số liệu.</div>";
    s += "<div>Xã có số liệu: " + t.xa_co_so_lieu + "/" + t.xa_danh_muc + " xã trong danh mục; mẫu số: " + t.mau_so + " xã" + (t.mau_so_chinh_thuc ? " (chính thức)" : "") + "</div>";
    D.muc_tieu.forEach(function (m) {
      var v = t[m.chi_so], share = v / t.mau_so;
      if (v === null) { s += "<div>" + m.nhan + ": <i>không đánh giá</i> (bộ tiêu chí năm " + state.year + " không có bộ này) — mục tiêu " + m.nam + ": " + pct(m.ty_le) + "</div>"; return; }
      s += "<div>" + m.nhan + ": <b>" + v + "/" + t.mau_so + " = " + pct(share) + "</b> — mục tiêu " + m.nam + ": " + pct(m.ty_le) + "</div>";
      s += '<div class="ntm-bar" title="' + m.mo_ta + '"><span style="width:' + Math.min(100, 100 * share) + "%;background:" + m.mau + '"></span><b style="left:' + (100 * m.ty_le) + '%"></b></div>';
      var f = yearData().du_bao;
      if (f && f[m.chi_so]) {
        var b = f[m.chi_so], p = f.xac_suat[m.ma];
        s += '<div class="ntm-forecast">Dự báo ' + f.nam + ": " + pct(b.trung_binh) + " (" + pct(b.p10) + "–" + pct(b.p90) + ")" +
             (p === null || p === undefined ? "" : ", xác suất đạt " + Math.round(100 * p) + "%") + "</div>";
        s += '<div class="ntm-bar ntm-band"><span style="left:' + (100 * b.p10) + "%;width:" + Math.max(0.5, 100 * (b.p90 - b.p10)) + "%;background:" + m.mau + ';opacity:.45"></span><b style="left:' + (100 * m.ty_le) + '%"></b></div>';
      }
    });
    if (yearData().du_bao) s += "<div style='color:#555'>Dự báo: mô phỏng " + yearData().du_bao.so_lan + " lần từ số liệu đến năm " + state.year + " (khoảng 10–90%).</div>";
    s += "<table><tr><td><b>Huyện / thị xã / thành phố</b></td><td class=n>NTM</td><td class=n>NC</td><td class=n>KM</td><td class=n>BQ TC</td><td>Mốc</td></tr>";
    D.districts.features.forEach(function (f) {
      var h = yearData().huyen[f.properties.ma];
      if (!h) return;
      s += "<tr><td>" + f.properties.ten + "</td><td class=n>" + h.dat_ntm + "/" + h.so_xa + "</td><td class=n>" + (h.nang_cao === null ? "—" : h.nang_cao) +
           "</td><td class=n>" + (h.kieu_mau === null ? "—" : h.kieu_mau) + "</td><td class=n>" + (h.binh_quan_tieu_chi === null ? "—" : h.binh_quan_tieu_chi.toFixed(1).replace(".", ",")) + "</td><td>" +
           (h.moc || []).map(function (m) { return '<span class="ntm-moc ' + m.trang_thai + '" title="' + m.mo_ta + " — " + C.milestone_words[m.trang_thai] + ": " + m.ly_do + '">' + C.milestone_marks[m.trang_thai] + "</span>"; }).join(" ") + "</td></tr>";
    });
    return s + "</table></div><div class='ntm-body' style='color:#555;margin-top:4px'>NTM tính lũy kế (gồm nâng cao, kiểu mẫu); NC: nâng cao; KM: kiểu mẫu; BQ TC: bình quân tiêu chí/xã. Mốc: ✓ đạt, ✗ chưa đạt, ? chưa đánh giá (di chuột để xem lý do).</div>";
  }
  var panelOpen = window.innerHeight >= 700;  // on a small screen the panel starts folded
  var panel = L.control({ position: "bottomleft" });
  panel.onAdd = function () {
    var div = L.DomUtil.create("div", "ntm-box ntm-panel" + (panelOpen ? "" : " collapsed"));
    div.id = "ntm-panel";
    L.DomEvent.disableScrollPropagation(div);
    L.DomEvent.disableClickPropagation(div);
    div.addEventListener("click", function (e) {
      if (!e.target.classList.contains("ntm-toggle")) return;
      panelOpen = !panelOpen;
      div.classList.toggle("collapsed", !panelOpen);
      e.target.textContent = panelOpen ? "−" : "+";
    });
    this._div = div;
    return div;
  };
  panel.addTo(map);

  var picker = L.control({ position: "topleft" });
  picker.onAdd = function () {
    var div = L.DomUtil.create("div", "ntm-box");
    div.innerHTML = '<div class="ntm-title">Nông thôn mới — ' + D.ten_tinh + '</div><label>Năm: <select id="ntm-year">' +
      D.cac_nam.map(function (y) { return "<option" + (String(y) === state.year ? " selected" : "") + ">" + y + "</option>"; }).join("") + "</select></label>";
    L.DomEvent.disableClickPropagation(div);
    div.querySelector("select").addEventListener("change", function (e) { state.year = e.target.value; buildControl(); refresh(); });
    return div;
  };
  picker.addTo(map);

  if (D.bieu_ngu.length) {
    var banner = L.control({ position: "topright" });
    banner.onAdd = function () {
      var div = L.DomUtil.create("div", "");
      div.id = "ntm-banner";
      div.innerHTML = D.bieu_ngu.map(function (b) { return '<div class="ntm-box ntm-banner ' + b.loai + '" style="margin-bottom:4px">' + b.chu + "</div>"; }).join("");
      return div;
    };
    banner.addTo(map);
  }

  function refresh() {
    communes.setStyle(style);
    document.getElementById("ntm-legend").innerHTML = legendHtml();
    document.getElementById("ntm-panel").innerHTML = panelHtml();
  }
  buildControl();
  refresh();
})();
{% endmacro %}
"""
    )

    def __init__(self, data: dict):
        super().__init__()
        self._name = "NtmLayers"
        self.data_json = json.dumps(data, ensure_ascii=False).replace("</", "<\\/")
        self.style_json = json.dumps(
            {
                "tier": TIER_COLORS,
                "tier_words": TIER_WORDS,
                "status": STATUS_COLORS,
                "status_words": STATUS_WORDS,
                "not_eligible": NOT_ELIGIBLE_COLOR,
                "milestone_words": {"dat": "đạt", "khong_dat": "chưa đạt", "chua_danh_gia": "chưa đánh giá"},
                "milestone_marks": {"dat": "✓", "khong_dat": "✗", "chua_danh_gia": "?"},
                "no_data": NO_DATA_COLOR,
            },
            ensure_ascii=False,
        )


def map_data(store: Store, province: Province, year: int) -> dict:
    """Everything the page shows, for every year with data: geometry once, the state per year."""
    reg = province.registry
    layer = current_layer(store, reg)
    communes, districts = simplified_geometries(layer, "default", reg.units["district_code"])
    cgeo, dgeo = _geojson_strings(communes), _geojson_strings(districts)
    c_features = []
    for code, u in reg.communes().iterrows():
        if code not in cgeo:
            continue
        c_features.append(
            {
                "type": "Feature",
                "geometry": json.loads(cgeo[code]),
                "properties": {
                    "ma": code,
                    "ten": u["name"],
                    "loai": u["unit_type"],
                    "loai_ten": {"xa": "Xã", "phuong": "Phường", "thi_tran": "Thị trấn"}[u["unit_type"]],
                    "ma_huyen": u["district_code"],
                    "ten_huyen": reg.units.at[u["district_code"], "name"],
                    "du_dieu_kien": u["unit_type"] == "xa",
                },
            }
        )
    d_features = []
    for code, d in reg.districts().iterrows():
        if code not in dgeo:
            continue
        point = districts[code].representative_point()
        d_features.append(
            {
                "type": "Feature",
                "geometry": json.loads(dgeo[code]),
                "properties": {
                    "ma": code,
                    "ten": d["name"],
                    "ten_ngan": d["name_short"],
                    "lat": round(point.y, 5),
                    "lon": round(point.x, 5),
                },
            }
        )
    years = sorted(set(store.current_results()["year"]).intersection(province.catalogs.years())) or [year]
    if year not in years:
        years = sorted({*years, year})
    by_year = {}
    sample = False
    for y in years:
        props, is_sample = commune_properties(store, province, y)
        sample = sample or is_sample
        dprops, _ = district_properties(store, province, y)
        xa = {}
        for p in props:
            if not p["du_dieu_kien"]:
                if p["hang_cong_nhan"]:
                    xa[p["ma"]] = {"h": None, "cn": p["hang_cong_nhan"], "qd": _decision(p)}
                continue
            xa[p["ma"]] = {
                "h": p["hang"],
                "d": p["so_tieu_chi_dat"],
                "n": p["so_tieu_chi"],
                "tc": p["trang_thai_tieu_chi"],
                "cd": [c["so"] for c in p["tieu_chi_chua_dat"]],
                "ce": [c["so"] for c in p["tieu_chi_chua_danh_gia"]],
                "cn": p["hang_cong_nhan"],
                "qd": _decision(p),
            }
        province_row = _province_state(props, reg.official_xa_count(y), len(reg.xa()), province.catalogs.for_year(y).sets)
        by_year[str(y)] = {
            "xa": xa,
            "huyen": {d["ma"]: d for d in dprops},
            "tinh": province_row,
            "ten_tieu_chi": province.catalogs.for_year(y).criterion_names("ntm"),
        }
    # the projection to each target year, from each year of the resolution's period with data before it
    target_year = max((t.year for t in load_targets()), default=None)
    if target_year is not None:
        from .projection import fit_rates, observed_states, project
        from .targets import load_target_set

        results = store.current_results()
        if not results.empty:
            states = observed_states(results, province)
            for y in [y for y in years if target_year - 4 <= y < target_year and y in states.years]:
                proj = project(
                    results,
                    province,
                    [load_target_set()],
                    horizon=target_year,
                    runs=300,
                    start_year=y,
                    states=states,
                    rates=fit_rates(states, until=y),
                )
                last = proj["theo_nam"][-1]
                by_year[str(y)]["du_bao"] = {
                    "nam": target_year,
                    "so_lan": proj["so_lan_mo_phong"],
                    "dat_ntm": last["ntm"],
                    "nang_cao": last["nang_cao"],
                    "kieu_mau": last["kieu_mau"],
                    "xac_suat": {m["ma"]: m["xac_suat"] for m in proj["muc_tieu"]},
                }
    banners = []
    if sample:
        banners.append({"loai": "sample", "chu": SAMPLE_LABEL_VI})
    if layer.schematic:
        banners.append({"loai": "schematic", "chu": f"{SCHEMATIC_LABEL_VI}. {SCHEMATIC_HOWTO_VI}"})
    labels = {"ntm": "Xã đạt chuẩn NTM", "advanced": "Xã NTM nâng cao", "model": "Xã NTM kiểu mẫu"}
    return {
        "ten_tinh": reg.province_name,
        "nam_mac_dinh": year,
        "cac_nam": years,
        "communes": {"type": "FeatureCollection", "features": c_features},
        "districts": {"type": "FeatureCollection", "features": d_features},
        "theo_nam": by_year,
        "muc_tieu": [
            {
                "ma": t.id,
                "mo_ta": t.mo_ta,
                "nhan": labels[t.tier],
                "chi_so": TIER_SHARE_KEY[t.tier],
                "ty_le": t.share,
                "nam": t.year,
                "mau": TIER_COLORS[{"ntm": "ntm", "advanced": "nang_cao", "model": "kieu_mau"}[t.tier]],
            }
            for t in load_targets()
        ],
        "du_lieu_mau": sample,
        "nhan_mau": SAMPLE_LABEL_VI,
        "so_do": layer.schematic,
        "nguon_ranh_gioi": layer.source,
        "bieu_ngu": banners,
    }


def _decision(p: dict) -> str | None:
    q = p.get("quyet_dinh")
    if not q:
        return None
    y, m, d = q["ngay"].split("-")
    return f"số {q['so']}, ngày {d}/{m}/{y}"


def _province_state(props: list[dict], official: int | None, in_registry: int, sets: dict) -> dict:
    eligible = [p for p in props if p["du_dieu_kien"]]
    with_data = [p for p in eligible if p["co_so_lieu"]]
    rank = {"chua_dat": 0, "ntm": 1, "nang_cao": 2, "kieu_mau": 3}
    tiers = [rank[p["hang"]] for p in with_data]
    return {
        "xa_danh_muc": in_registry,
        "xa_co_so_lieu": len(with_data),
        "mau_so": official or in_registry,
        "mau_so_chinh_thuc": official is not None,
        "dat_ntm": sum(t >= 1 for t in tiers),
        "nang_cao": sum(t >= 2 for t in tiers) if "nang_cao" in sets else None,
        "kieu_mau": sum(t >= 3 for t in tiers) if "kieu_mau" in sets else None,
    }


def build_map(store: Store, province: Province, year: int) -> folium.Map:
    """The folium map (displayable in a notebook, or saved with ``.save``)."""
    province.catalogs.for_year(year)
    data = map_data(store, province, year)
    m = OfflineMap(location=[13.1, 109.0], zoom_start=9, tiles=None, control_scale=True, prefer_canvas=False)
    m.get_root().header.add_child(
        Element('<meta charset="utf-8"><link rel="icon" href="data:,"><title>Nông thôn mới — ' + data["ten_tinh"] + "</title>"),
        name="ntm_title",
    )
    NtmLayers(data).add_to(m)
    return m


def map_html(store: Store, province: Province, year: int) -> str:
    """The map as one self-contained HTML page."""
    return build_map(store, province, year).get_root().render()
