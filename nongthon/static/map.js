/* The leaders' map page: communes coloured by tier or by one criterion, district outlines and names, a year
 * picker, a legend and a panel with the province against its targets and each district's state.
 * nongthon/maps.py inlines this file into the page and calls ntmMap(map, data) with the page's JSON data
 * (the shape is written by maps.map_data). Every text that comes from the data is set as text (textContent,
 * text nodes), never parsed as markup; the one Leaflet API that takes markup (layer names) gets escaped text.
 * A saved file has each year's forecast in its data (du_bao); a served page has instead the URL to fetch them
 * from (du_bao_url, same site), fetched once after the page is first shown, the panel redrawn when they come.
 * A year up to 2025 in the new units (D.suy_ra) colours each new xã by its derived state from its former xã
 * (theo_nam[year].suy_ra) — never a tier — lists the former units in its popup and counts the states in the panel.
 * A served page links the same year in the other units (D.don_vi_khac: a relative link, ?year=…&don_vi=…).
 * Every word written here comes from the data: C.chu (maps.MAP_TEXT_VI in the page's language, D.ngon_ngu), its
 * {placeholders} filled by tx(), and the word tables of maps.map_style; this file holds no text of its own.
 * What the national page (static/national.js) shares with this one is window.ntmKit: the builders of elements and
 * texts, a commune's words and popup. */
(function () {
  "use strict";

  /* an element with properties (className, title, id, ...) and children (nodes or text) */
  function h(tag, props) {
    var e = document.createElement(tag);
    if (props) Object.keys(props).forEach(function (k) { e[k] = props[k]; });
    for (var i = 2; i < arguments.length; i++) {
      var c = arguments[i];
      if (c !== null && c !== undefined && c !== false) e.append(c);
    }
    return e;
  }
  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  function dash(x) { return x === null || x === undefined ? "—" : x; }
  function styled(e, style) { Object.keys(style).forEach(function (k) { e.style[k] = style[k]; }); return e; }
  /* the texts of a page's style C: tx, a text of the page's language (C.chu) with its {placeholders} filled from
   * values; numbers with the page's decimal mark */
  function texts(C) {
    function tx(key, values) {
      return C.chu[key].replace(/\{(\w+)\}/g, function (m, k) { return values && k in values ? String(values[k]) : m; });
    }
    function decimal(x, digits) { return x.toFixed(digits).replace(".", C.dau_thap_phan); }
    return { tx: tx, decimal: decimal, pct: function (x) { return decimal(100 * x, 1) + "%"; } };
  }
  /* a commune's tier in words and its popup, from its properties p (ma, ten, loai, du_dieu_kien, ten_huyen) and its
   * state r in the year ({h, d, n, cd, ce, cn, qd}; none without data); names: the year's criterion names */
  function communeWords(C, T, p, r, year) {
    if (!p.du_dieu_kien) return T.tx("khong_xet", { loai: (C.unit_types[p.loai] || p.loai_ten).toLowerCase() });
    if (!r || r.h === null) return T.tx("chua_co_so_lieu_nam", { nam: year });
    return C.tier_words[r.h];
  }
  function communePopup(C, T, p, r, names, year, sampleLabel) {
    function criteriaList(codes) {
      return h.apply(null, ["ul", null].concat(codes.map(function (c) { return h("li", null, c + ". " + names[c]); })));
    }
    var div = h("div", { className: "ntm-popup" }, h("h4", null, p.ten), p.ten_huyen, h("br"), h("b", null, communeWords(C, T, p, r, year)));
    if (p.du_dieu_kien && r && r.h !== null) {
      div.append(T.tx("popup_dat", { d: r.d, n: r.n, nam: year }));
      if (r.cd.length) div.append(h("br"), T.tx("tieu_chi_chua_dat"), criteriaList(r.cd));
      if (r.ce.length) div.append(T.tx("chua_danh_gia"), criteriaList(r.ce));
    }
    if (r && r.cn) div.append(h("br"), T.tx("cong_nhan", { hang: C.tier_words[r.cn], quyet_dinh: r.qd }));
    else if (p.du_dieu_kien) div.append(h("br"), T.tx("chua_cong_nhan", { nam: year }));
    if (sampleLabel) div.append(h("br"), h("i", null, sampleLabel));
    return div;
  }
  /* what the national page (static/national.js) draws with */
  window.ntmKit = { h: h, esc: esc, dash: dash, styled: styled, texts: texts, communeWords: communeWords, communePopup: communePopup };

  window.ntmMap = function (map, D) {
    var C = D.kieu, T = texts(C), tx = T.tx, decimal = T.decimal, pct = T.pct;
    var state = { year: String(D.nam_mac_dinh), mode: "hang" };
    var empty = { xa: {}, huyen: {}, tinh: null, muc_tieu: [], ten_tieu_chi: {} };
    function yearData() { return D.theo_nam[state.year] || empty; }
    // the forecasts fetched from D.du_bao_url: "loading", then {year: forecast or null}, or {failed: why}
    var fetched = D.du_bao_url ? "loading" : null;
    function forecastOf() { return fetched === null ? yearData().du_bao : (fetched.failed === undefined && fetched[state.year]) || null; }
    function xa(ma) { return yearData().xa[ma]; }
    function derived(ma) { return (yearData().suy_ra || {})[ma]; }  // a new xã's derived state (D.suy_ra pages)
    var hasDistricts = D.districts.features.length > 0;  // none in the new units (no district level)

    /* ---- communes: colour, tooltip, popup ---- */
    function color(f) {
      var p = f.properties;
      if (!p.du_dieu_kien) return C.not_eligible;
      if (D.suy_ra) { var s = derived(p.ma); return s ? C.derived[s.s] : C.no_data; }
      var r = xa(p.ma);
      if (!r || r.h === null) return C.no_data;
      if (state.mode === "hang") return C.tier[r.h];
      return C.status[r.tc[state.mode] || "chua_danh_gia"];
    }
    function style(f) {
      var p = f.properties, r = xa(p.ma);
      var noData = p.du_dieu_kien && (D.suy_ra ? !derived(p.ma) || derived(p.ma).s === "chua_co_so_lieu" : !r || r.h === null);
      return { fillColor: color(f), fillOpacity: p.du_dieu_kien ? 0.85 : 0.55, color: "#555", weight: 0.6, dashArray: noData ? "3 3" : null };
    }
    function tierWords(p) {
      if (D.suy_ra && p.du_dieu_kien) {
        var s = derived(p.ma);
        return s ? tx("suy_ra", { trang_thai: C.derived_words[s.s] }) : tx("chua_co_so_lieu_nam", { nam: state.year });
      }
      return communeWords(C, T, p, xa(p.ma), state.year);
    }
    function tooltip(layer) {
      var p = layer.feature.properties, r = xa(p.ma);
      var div = h("div", null, h("b", null, p.ten), h("br"), tierWords(p));
      var s = D.suy_ra && derived(p.ma);
      if (s) div.append(h("br"), tx("xa_cu_dat_nam", { dat: s.dat, n: s.n, nam: state.year }));
      if (!D.suy_ra && p.du_dieu_kien && r && r.h !== null) {
        div.append(h("br"), tx("dat_tieu_chi", { d: r.d, n: r.n }));
        if (state.mode !== "hang") div.append(h("br"), tx("tieu_chi_ten", { so: state.mode, ten: C.status_words[r.tc[state.mode] || "chua_danh_gia"] }));
      }
      return div;
    }
    function derivedPopup(p) {
      var s = derived(p.ma);
      var div = h("div", { className: "ntm-popup" }, h("h4", null, p.ten), h("b", null, tierWords(p)));
      if (s) {
        div.append(tx("popup_xa_cu_dat", { dat: s.dat, n: s.n, nam: state.year }));
        if (s.s === "mot_phan") div.append(h("br"), tx("dien_tich_dat", { ty_le: s.tl }));
        div.append(h("br"), tx("xa_cu"), h.apply(null, ["ul", null].concat(s.cu.map(function (u) { return h("li", null, u.t + " — " + u.w); }))));
        div.append(s.qd, h("br"), h("i", null, D.ghi_chu_suy_ra));
      }
      if (D.du_lieu_mau) div.append(h("br"), h("i", null, D.nhan_mau));
      return div;
    }
    function popup(layer) {
      var p = layer.feature.properties;
      if (D.suy_ra && p.du_dieu_kien) return derivedPopup(p);
      return communePopup(C, T, p, xa(p.ma), yearData().ten_tieu_chi, state.year, D.du_lieu_mau && D.nhan_mau);
    }

    var communes = L.geoJSON(D.communes, {
      style: style,
      onEachFeature: function (f, layer) {
        layer.bindTooltip(function () { return tooltip(layer); }, { sticky: true });
        layer.bindPopup(function () { return popup(layer); }, { maxWidth: 320 });
        layer.on("mouseover", function () { layer.setStyle({ weight: 2.5, color: "#000" }); });
        layer.on("mouseout", function () { communes.resetStyle(layer); });
      },
    }).addTo(map);
    var districts = L.geoJSON(D.districts, { interactive: false, style: { fill: false, color: "#111", weight: 2.2 } }).addTo(map);
    var labels = L.layerGroup(D.districts.features.map(function (f) {
      var icon = L.divIcon({ className: "ntm-district-label", html: h("span", null, f.properties.ten_ngan), iconSize: null });
      return L.marker([f.properties.lat, f.properties.lon], { icon: icon, interactive: false });
    })).addTo(map);
    var osm = L.tileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png", {
      maxZoom: 18, opacity: 0.5, attribution: '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>',
    });

    /* ---- banners, then the layer list, then the legend: one column at the top right ---- */
    if (D.bieu_ngu.length) {
      var banner = L.control({ position: "topright" });
      banner.onAdd = function () {
        var div = h("div", { id: "ntm-banner" });
        D.bieu_ngu.forEach(function (b) {
          var e = h("div", { className: "ntm-box ntm-banner " + b.loai }, b.chu);
          div.append(C.banner[b.loai] ? styled(e, { background: C.banner[b.loai] }) : e);
        });
        return div;
      };
      banner.addTo(map);
    }

    // one base layer per view: the tier, or the status of one criterion; switching restyles the same polygons.
    // The list is updated in place when the year changes, so it keeps its place above the legend.
    var tierView = L.layerGroup(); tierView.ntmMode = "hang"; tierView.addTo(map);
    var criterionViews = {};
    var control = L.control.layers(null, null, { collapsed: true, position: "topright" });
    control.addBaseLayer(tierView, esc(tx(D.suy_ra ? "lop_suy_ra" : "lop_hang")));
    if (hasDistricts) {
      control.addOverlay(districts, esc(tx("lop_ranh_gioi_huyen")));
      control.addOverlay(labels, esc(tx("lop_ten_huyen")));
    }
    control.addOverlay(osm, esc(tx("lop_osm")));
    control.addTo(map);
    function updateControl() {
      var names = yearData().ten_tieu_chi, next = {};
      Object.keys(criterionViews).forEach(function (c) { control.removeLayer(criterionViews[c]); });
      if (state.mode !== "hang" && !(state.mode in names)) {
        map.removeLayer(criterionViews[state.mode]);
        state.mode = "hang";
        tierView.addTo(map);
      }
      Object.keys(names).forEach(function (c) {
        var g = criterionViews[c] || L.layerGroup();
        g.ntmMode = c;
        next[c] = g;
        control.addBaseLayer(g, esc(tx("tieu_chi_ten", { so: c, ten: names[c] })));
      });
      criterionViews = next;
    }
    map.on("baselayerchange", function (e) { state.mode = e.layer.ntmMode; refresh(); });

    var legendDiv;
    var legend = L.control({ position: "topright" });
    legend.onAdd = function () { legendDiv = h("div", { className: "ntm-box ntm-legend", id: "ntm-legend" }); return legendDiv; };
    legend.addTo(map);
    function swatch(fill, words) { return h("div", null, styled(h("i"), { background: fill }), words); }
    function legendNodes() {
      var rows = [h("div", { className: "ntm-title" }, tx("nam", { nam: state.year }))];
      if (D.suy_ra) {
        var counts = yearData().tom_tat || {};
        rows.push(h("div", { className: "ntm-note" }, tx("chu_giai_suy_ra")));
        Object.keys(C.derived).forEach(function (k) {
          if (k !== "khong_co_xa_cu" || counts[k]) rows.push(swatch(C.derived[k], C.derived_words[k]));
        });
        rows.push(swatch(C.not_eligible, tx("phuong_khong_xet")));
        return rows;
      }
      if (state.mode === "hang") {
        // the tiers of the year's catalogue (2026–2030: chưa đạt, NTM, NTM hiện đại), all of them for a year without data
        var t = yearData().tinh, has = {};
        if (t) t.hang.forEach(function (k) { has[k.ma] = k.so_xa !== null; });
        Object.keys(C.tier).forEach(function (k) { if (!t || k === "chua_dat" || has[k]) rows.push(swatch(C.tier[k], C.tier_words[k])); });
      } else {
        rows.push(h("div", null, h("b", null, tx("tieu_chi_ten", { so: state.mode, ten: yearData().ten_tieu_chi[state.mode] }))));
        Object.keys(C.status).forEach(function (k) { rows.push(swatch(C.status[k], C.status_words[k])); });
      }
      rows.push(swatch(C.no_data, tx("chua_co_so_lieu")));
      rows.push(swatch(C.not_eligible, tx("phuong_thi_tran_khong_xet")));
      return rows;
    }

    /* ---- the panel: title, year, and a body that scrolls inside the map's height ---- */
    var panelOpen = map.getSize().x >= C.panel_open_min_width;  // folded only where it would cover the province
    var panelDiv, body, toggle, select;
    var panel = L.control({ position: "topleft" });
    panel.onAdd = function () {
      toggle = h("button", { type: "button", className: "ntm-toggle", title: tx("thu_gon") });
      select = h("select", { id: "ntm-year" });
      D.cac_nam.forEach(function (y) { select.append(new Option(String(y), String(y), false, String(y) === state.year)); });
      select.addEventListener("change", function () { state.year = select.value; updateControl(); refresh(); });
      toggle.addEventListener("click", function () { setOpen(!panelOpen); });
      body = h("div", { className: "ntm-body" });
      panelDiv = h("div", { className: "ntm-box ntm-panel", id: "ntm-panel" },
        h("div", { className: "ntm-head" }, toggle, h("div", { className: "ntm-title" }, tx("tieu_de", { tinh: D.ten_tinh })), h("label", null, tx("chon_nam"), select)),
        body);
      L.DomEvent.disableScrollPropagation(panelDiv);
      L.DomEvent.disableClickPropagation(panelDiv);
      return panelDiv;
    };
    panel.addTo(map);
    function setOpen(open) {
      panelOpen = open;
      panelDiv.classList.toggle("collapsed", !open);
      toggle.textContent = open ? "−" : "+";
    }

    function targetLine(m, f) {
      var goal = m.loai === "share" ? pct(m.ty_le) : tx("khong_con_xa");
      var line = tx("muc_tieu", { nam: m.nam, cap: m.cap, muc: goal });
      var p = f && f.xac_suat[m.ma];
      if (Number(state.year) >= m.nam) line += " — " + C.target_words[m.trang_thai];
      else if (p !== null && p !== undefined) line += tx("xac_suat", { p: Math.round(100 * p) });
      return h("div", { className: "ntm-target", title: m.mo_ta + " (" + m.ten_bo + ")" }, line);
    }
    function tierBlock(k, t, targets, f) {
      var out = [], label = C.tier_labels[k.ma];
      if (k.so_xa === null) {
        out.push(h("div", null, label + ": ", h("i", null, tx("khong_danh_gia")), tx("khong_co_bo", { nam: state.year })));
        return out.concat(targets.map(function (m) { return targetLine(m, null); }));
      }
      var share = k.so_xa / t.mau_so, band = f && f.hang[k.ma];
      out.push(h("div", null, label + ": ", h("b", null, k.so_xa + "/" + t.mau_so + " = " + pct(share))));
      var bar = h("div", { className: "ntm-bar" }, styled(h("span"), { left: "0", width: Math.min(100, 100 * share) + "%", background: C.tier[k.ma] }));
      if (band) bar.append(styled(h("span", { className: "band" }), {
        left: 100 * band.p10 + "%", width: Math.max(0.5, 100 * (band.p90 - band.p10)) + "%", background: C.tier[k.ma] }));
      targets.forEach(function (m) { bar.append(styled(h("b", { title: m.mo_ta + " (" + m.ten_bo + ")" }), { left: 100 * m.ty_le + "%" })); });
      out.push(bar);
      if (band) out.push(h("div", { className: "ntm-forecast" }, tx("du_bao_nam", { nam: f.nam, tb: pct(band.trung_binh), p10: pct(band.p10), p90: pct(band.p90) })));
      return out.concat(targets.map(function (m) { return targetLine(m, f); }));
    }
    function districtTable() {
      var y = yearData();
      var rows = D.districts.features.filter(function (f) { return y.huyen[f.properties.ma]; }).map(function (f) {
        var d = y.huyen[f.properties.ma];
        var marks = (d.moc || []).map(function (m) {
          var words = C.milestone_words[m.trang_thai] || m.trang_thai_ten || m.trang_thai;
          return h("span", { className: "ntm-moc " + m.trang_thai, title: m.mo_ta + " — " + words + ": " + m.ly_do }, C.milestone_marks[m.trang_thai] || "?");
        });
        var cells = [h("td", null, f.properties.ten), h("td", { className: "n" }, d.dat_ntm + "/" + d.so_xa), h("td", { className: "n" }, dash(d.nang_cao)),
          h("td", { className: "n" }, dash(d.kieu_mau)),
          h("td", { className: "n" }, d.binh_quan_tieu_chi === null ? "—" : decimal(d.binh_quan_tieu_chi, 1)),
          h.apply(null, ["td", null].concat(marks.reduce(function (a, s) { return a.length ? a.concat([" ", s]) : [s]; }, [])))];
        return h.apply(null, ["tr", null].concat(cells));
      });
      var head = h("tr", null, h("th", null, tx("cot_huyen")), h("th", { className: "n" }, tx("cot_ntm")), h("th", { className: "n" }, tx("cot_nc")),
        h("th", { className: "n" }, tx("cot_km")), h("th", { className: "n" }, tx("cot_bq")), h("th", null, tx("cot_moc")));
      return h("table", { className: "ntm-districts" }, h("thead", null, head), h.apply(null, ["tbody", null].concat(rows)));
    }
    function unitsLink() {  // the same year in the other units (a served page)
      if (!D.don_vi_khac) return null;
      var lang = D.ngon_ngu && D.ngon_ngu !== "vi" ? "&lang=" + encodeURIComponent(D.ngon_ngu) : "";
      return h("div", { className: "ntm-units" }, h("a", { id: "ntm-don-vi", href: "?year=" + encodeURIComponent(state.year) + "&don_vi=" + D.don_vi_khac + lang },
        tx("xem_don_vi", { nam: state.year, don_vi: C.units_words[D.don_vi_khac] })));
    }
    function derivedPanel() {
      var y = yearData(), counts = y.tom_tat || {}, n = Object.keys(y.suy_ra || {}).length;
      var out = [unitsLink(), h("div", null, tx("suy_ra_tom_tat", { nam: state.year, don_vi: C.units_words.moi, n: n }), h("b", null, D.ghi_chu_suy_ra), ".")];
      Object.keys(C.derived).forEach(function (k) {
        if (k !== "khong_co_xa_cu" || counts[k]) out.push(h("div", null, styled(h("i", { className: "ntm-swatch" }), {
          display: "inline-block", width: "12px", height: "10px", marginRight: "6px", border: "1px solid #555", background: C.derived[k] }),
          C.derived_words[k] + ": ", h("b", null, tx("so_xa", { n: counts[k] || 0 }))));
      });
      out.push(h("div", { className: "ntm-note" }, tx("moi_xa_cu_dat", { ghi_chu: C.derived_notes.moi_xa_cu_dat })));
      out.push(h("div", { className: "ntm-note" }, tx("ghi_chu_suy_ra")));
      return out.filter(Boolean);
    }
    function panelNodes() {
      if (D.suy_ra) return derivedPanel();
      var y = yearData(), t = y.tinh, f = t && forecastOf(), out = [];
      if (!t) return [unitsLink(), h("div", null, tx("chua_co_so_lieu_cham", { nam: state.year }))].filter(Boolean);
      var link = unitsLink();
      if (link) out.push(link);
      out.push(h("div", null, tx("co_so_lieu", { nam: state.year, co: t.xa_co_so_lieu, dm: t.xa_danh_muc, ms: t.mau_so }) +
        (t.mau_so_chinh_thuc ? tx("chinh_thuc") : "") + "."));
      t.hang.forEach(function (k) {
        var targets = y.muc_tieu.filter(function (m) { return m.loai === "share" && m.hang === k.ma; });
        out = out.concat(tierBlock(k, t, targets, f));
      });
      y.muc_tieu.filter(function (m) { return m.loai === "min_criteria"; }).forEach(function (m) {
        out.push(h("div", null, tx("xa_duoi", { so: m.so_tieu_chi }), h("b", null, tx("so_xa", { n: m.so_xa_duoi })),
          m.xa_chua_co_so_lieu ? tx("xa_chua_co_so_lieu", { n: m.xa_chua_co_so_lieu }) : ""));
        out.push(targetLine(m, f));
      });
      if (!y.muc_tieu.length) out.push(h("div", { className: "ntm-note" }, tx("khong_co_muc_tieu", { nam: state.year })));
      if (f) out.push(h("div", { className: "ntm-note" }, tx("du_bao_ghi_chu", { n: f.so_lan, nam: state.year })));
      else if (fetched === "loading") out.push(h("div", { className: "ntm-note ntm-forecast-status" }, tx("dang_tinh")));
      else if (fetched && fetched.failed !== undefined) out.push(h("div", { className: "ntm-note ntm-forecast-status" },
        tx("khong_tai_duoc", { ly_do: fetched.failed })));
      if (hasDistricts) {  // the new units have no district level: no table
        out.push(districtTable());
        out.push(h("div", { className: "ntm-note" }, tx("ghi_chu_huyen", { chu_giai: C.milestone_legend })));
      }
      return out;
    }

    L.control.scale({ position: "bottomleft", imperial: false }).addTo(map);

    /* ---- a year or view change redraws everything shown, open popups and tooltips included ---- */
    function refresh() {
      communes.setStyle(style);
      legendDiv.replaceChildren.apply(legendDiv, legendNodes());
      body.replaceChildren.apply(body, panelNodes());
      communes.eachLayer(function (l) {
        if (l.isPopupOpen()) l.getPopup().update();
        if (l.isTooltipOpen()) l.getTooltip().update();
      });
    }
    setOpen(panelOpen);
    updateControl();
    refresh();

    /* ---- a served page's forecasts: fetched once the page is shown, then the panel redrawn ---- */
    function loadForecasts() {
      var why = tx("loi_ket_noi");
      fetch(D.du_bao_url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) {
          if (!r.ok) { why = tx("loi_http", { ma: r.status }); throw r; }
          why = tx("loi_du_lieu");
          return r.json();
        })
        .then(function (years) { fetched = years || {}; }, function () { fetched = { failed: why }; })
        .then(function () { body.replaceChildren.apply(body, panelNodes()); });
    }
    if (D.du_bao_url) requestAnimationFrame(function () { setTimeout(loadForecasts, 0); });

    // the province fills the map beside the open panel
    var left = 10;
    if (panelOpen) left = panelDiv.getBoundingClientRect().right - map.getContainer().getBoundingClientRect().left + 10;
    map.fitBounds(D.bounds, { paddingTopLeft: [left, 10], paddingBottomRight: [10, 10], animate: false });
  };
})();
