/* The national map page (nongthon/maps.py national_map_data; after static/map.js, whose window.ntmKit it draws with):
 * the 34 provinces coloured by their share of NTM xã (C.share, grey without data), a panel with the nation's row and
 * a table of the provinces (sorted by a click on a column's head), a year picker. A click on a province (on the map
 * or in the table), or a page opened on one (D.mo_tinh), opens it: its communes are fetched from the same site
 * (D.xa_url?year=…&province=…, the API's communes layer) and coloured by tier, with the province map's tooltips and
 * popups; "← Toàn quốc" goes back to the nation. Names come from the data and are set as text; every other word
 * comes from C.chu (maps.MAP_TEXT_VI in the page's language) and the word tables of maps.map_style. */
(function () {
  "use strict";

  window.ntmNational = function (map, D) {
    var K = window.ntmKit, h = K.h, styled = K.styled, C = D.kieu, T = K.texts(C), tx = T.tx;
    var state = { year: String(D.nam_mac_dinh), open: null, sort: "ty_le_ntm", desc: true };
    var empty = { toan_quoc: null, tinh: {}, hang_co: Object.keys(C.tier), ten_tieu_chi: {} };
    function yearData() { return D.theo_nam[state.year] || empty; }
    function row(ma) { return yearData().tinh[ma]; }
    var names = {};
    D.cac_tinh.features.forEach(function (f) { names[f.properties.ma] = f.properties.ten; });

    /* ---- the provinces, by share of NTM xã ---- */
    function hasData(r) { return Boolean(r && r.xa_co_so_lieu && r.ty_le_ntm !== null); }
    function shareColor(r) {
      return hasData(r) ? C.share[Math.min(C.share.length - 1, Math.floor(r.ty_le_ntm * C.share.length))] : C.share_no_data;
    }
    function provinceStyle(f) {
      var ma = f.properties.ma, fill = shareColor(row(ma));
      if (state.open === null) return { fillColor: fill, fillOpacity: 0.85, color: "#444", weight: 0.8 };
      return { fillColor: fill, fillOpacity: ma === state.open ? 0 : 0.3, color: "#222", weight: ma === state.open ? 2.5 : 0.8 };
    }
    function rowWords(r) {
      return hasData(r) ? tx("tinh_dat", { dat: r.dat_ntm, n: r.so_xa, ty_le: T.pct(r.ty_le_ntm) }) : tx("chua_co_so_lieu_nam", { nam: state.year });
    }
    var provinces = L.geoJSON(D.cac_tinh, {
      style: provinceStyle,
      onEachFeature: function (f, layer) {
        layer.bindTooltip(function () { return h("div", null, h("b", null, f.properties.ten), h("br"), rowWords(row(f.properties.ma))); }, { sticky: true });
        layer.on("click", function (e) {
          var shape = e.originalEvent && e.originalEvent.target;
          if (shape && shape.blur) shape.blur();  // no focus ring around the province under its communes
          if (state.open !== f.properties.ma) openProvince(f.properties.ma);
        });
        layer.on("mouseover", function () { layer.setStyle({ weight: 2.5, color: "#000" }); });
        layer.on("mouseout", function () { provinces.resetStyle(layer); });
      },
    }).addTo(map);
    var shapes = {};
    provinces.eachLayer(function (l) { shapes[l.feature.properties.ma] = l; });

    /* ---- the communes of the open province, above the provinces ---- */
    map.createPane("ntm-xa").style.zIndex = 410;
    var communes = null, loading = null, request = 0;  // loading: "…" while fetching, {failed: why} after a failure
    function communeState(p) {
      var q = p.quyet_dinh;
      function codes(list) { return list.map(function (c) { return c.so; }); }
      return { h: p.hang, d: p.so_tieu_chi_dat, n: p.so_tieu_chi, cd: codes(p.tieu_chi_chua_dat), ce: codes(p.tieu_chi_chua_danh_gia),
        cn: p.hang_cong_nhan, qd: q ? tx("so_ngay", { so: q.so, ngay: q.ngay.split("-").reverse().join("/") }) : null };
    }
    function communeStyle(f) {
      var p = f.properties;
      if (!p.du_dieu_kien) return { fillColor: C.not_eligible, fillOpacity: 0.55, color: "#555", weight: 0.6 };
      var none = p.hang === null;
      return { fillColor: none ? C.no_data : C.tier[p.hang], fillOpacity: 0.85, color: "#555", weight: 0.6, dashArray: none ? "3 3" : null };
    }
    function drawCommunes(doc, year) {
      var sample = doc.du_lieu_mau ? D.nhan_mau : null;
      communes = L.geoJSON(doc, {
        pane: "ntm-xa",
        style: communeStyle,
        onEachFeature: function (f, layer) {
          var p = f.properties, r = communeState(p);
          layer.bindTooltip(function () {
            var div = h("div", null, h("b", null, p.ten), h("br"), K.communeWords(C, T, p, r, year));
            if (p.du_dieu_kien && r.h !== null) div.append(h("br"), tx("dat_tieu_chi", { d: r.d, n: r.n }));
            return div;
          }, { sticky: true });
          layer.bindPopup(function () { return K.communePopup(C, T, p, r, yearData().ten_tieu_chi, year, sample); }, { maxWidth: 320 });
          layer.on("mouseover", function () { layer.setStyle({ weight: 2.5, color: "#000" }); });
          layer.on("mouseout", function () { communes.resetStyle(layer); });
        },
      }).addTo(map);
      if (schematic) schematic.style.display = doc.ranh_gioi && doc.ranh_gioi.so_do_minh_hoa === false ? "none" : "";
    }
    function clearCommunes() {
      if (communes) map.removeLayer(communes);
      communes = null;
      if (schematic) schematic.style.display = "";
    }
    function openProvince(ma) {
      var my = ++request, year = state.year, why = tx("loi_ket_noi");
      clearCommunes();
      state.open = ma;
      loading = "…";
      refresh();
      fit(shapes[ma].getBounds());
      fetch(D.xa_url + "?year=" + encodeURIComponent(year) + "&province=" + encodeURIComponent(ma),
        { headers: { Accept: "application/geo+json" }, credentials: "same-origin" })
        .then(function (r) {
          if (!r.ok) { why = tx("loi_http", { ma: r.status }); throw r; }
          why = tx("loi_du_lieu");
          return r.json();
        })
        .then(function (doc) {
          if (my !== request) return;
          drawCommunes(doc, year);
          loading = null;
        }, function () { if (my === request) loading = { failed: why }; })
        .then(function () { if (my === request) refresh(); });
    }
    function closeProvince() {
      request++;
      clearCommunes();
      state.open = null;
      loading = null;
      refresh();
      fit(D.bounds);
    }

    /* ---- banners, the background, the legend: one column at the top right ---- */
    var schematic = null;
    if (D.bieu_ngu.length) {
      var banner = L.control({ position: "topright" });
      banner.onAdd = function () {
        var div = h("div", { id: "ntm-banner" });
        D.bieu_ngu.forEach(function (b) {
          var e = h("div", { className: "ntm-box ntm-banner " + b.loai }, b.chu);
          if (b.loai === "schematic") schematic = e;
          div.append(C.banner[b.loai] ? styled(e, { background: C.banner[b.loai] }) : e);
        });
        return div;
      };
      banner.addTo(map);
    }
    var osm = L.tileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png", {
      maxZoom: 18, opacity: 0.5, attribution: '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>',
    });
    var control = L.control.layers(null, null, { collapsed: true, position: "topright" });
    control.addOverlay(osm, K.esc(tx("lop_osm")));
    control.addTo(map);
    var legendDiv;
    var legend = L.control({ position: "topright" });
    legend.onAdd = function () { legendDiv = h("div", { className: "ntm-box ntm-legend", id: "ntm-legend" }); return legendDiv; };
    legend.addTo(map);
    function swatch(fill, words) { return h("div", null, styled(h("i"), { background: fill }), words); }
    function legendNodes() {
      var rows = [h("div", { className: "ntm-title" }, tx("nam", { nam: state.year }))];
      if (state.open === null) {
        rows.push(h("div", { className: "ntm-note" }, tx("ty_le_xa_ntm")));
        var step = 100 / C.share.length;
        C.share.forEach(function (fill, i) { rows.push(swatch(fill, Math.round(i * step) + "–" + Math.round((i + 1) * step) + "%")); });
        rows.push(swatch(C.share_no_data, tx("chua_co_so_lieu")));
        return rows;
      }
      yearData().hang_co.forEach(function (k) { rows.push(swatch(C.tier[k], C.tier_words[k])); });
      rows.push(swatch(C.no_data, tx("chua_co_so_lieu")));
      rows.push(swatch(C.not_eligible, tx("phuong_dac_khu_khong_xet")));
      return rows;
    }

    /* ---- the panel: title, "← Toàn quốc", year; the nation's row and the provinces, or the open province ---- */
    var panelOpen = map.getSize().x >= C.panel_open_min_width;
    var panelDiv, body, toggle, select, back, title;
    var panel = L.control({ position: "topleft" });
    panel.onAdd = function () {
      toggle = h("button", { type: "button", className: "ntm-toggle", title: tx("thu_gon") });
      toggle.addEventListener("click", function () { setOpen(!panelOpen); });
      back = styled(h("button", { type: "button", id: "ntm-toan-quoc" }, tx("ve_toan_quoc")), { cursor: "pointer", font: "inherit", margin: "2px 0" });
      back.addEventListener("click", closeProvince);
      select = h("select", { id: "ntm-year" });
      D.cac_nam.forEach(function (y) { select.append(new Option(String(y), String(y), false, String(y) === state.year)); });
      select.addEventListener("change", function () {
        state.year = select.value;
        if (state.open !== null) openProvince(state.open);
        else refresh();
      });
      title = h("div", { className: "ntm-title" });
      body = h("div", { className: "ntm-body" });
      panelDiv = h("div", { className: "ntm-box ntm-panel", id: "ntm-panel" },
        h("div", { className: "ntm-head" }, toggle, title, back, h("div", null, h("label", null, tx("chon_nam"), select))), body);
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

    function rowBlock(r) {
      if (!hasData(r)) return [h("div", null, tx("chua_co_so_lieu_cham", { nam: state.year }))];
      var bar = h("div", { className: "ntm-bar" }, styled(h("span"), { left: "0", width: Math.min(100, 100 * r.ty_le_ntm) + "%", background: C.tier.ntm }));
      return [
        h("div", null, C.tier_labels.ntm + ": ", h("b", null, r.dat_ntm + "/" + r.so_xa + " = " + T.pct(r.ty_le_ntm))),
        bar,
        h("div", null, tx("binh_quan", { bq: r.binh_quan_tieu_chi === null ? "—" : T.decimal(r.binh_quan_tieu_chi, 1) })),
        h("div", { className: "ntm-note" }, tx("xa_co_so_lieu_nam", { nam: state.year, co: r.xa_co_so_lieu, n: r.so_xa })),
      ];
    }
    var COLUMNS = [["ten", "cot_tinh"], ["so_xa", "cot_so_xa"], ["dat_ntm", "cot_ntm"], ["ty_le_ntm", "cot_ty_le"], ["binh_quan_tieu_chi", "cot_bq"]];
    function sortValue(item) {
      if (state.sort === "ten") return item.ten;
      return item.r && (state.sort === "so_xa" || hasData(item.r)) ? item.r[state.sort] : null;
    }
    function provinceTable() {
      var items = D.cac_tinh.features.map(function (f) { return { ma: f.properties.ma, ten: f.properties.ten, r: row(f.properties.ma) }; });
      items.sort(function (a, b) {
        var x = sortValue(a), y = sortValue(b);
        if (x === null || y === null) return x === y ? 0 : x === null ? 1 : -1;  // no data last, either way
        var c = typeof x === "string" ? x.localeCompare(y, D.ngon_ngu) : x - y;
        return state.desc ? -c : c;
      });
      var head = h.apply(null, ["tr", null].concat(COLUMNS.map(function (col, i) {
        var arrow = state.sort === col[0] ? (state.desc ? " ▼" : " ▲") : "";
        var b = styled(h("button", { type: "button", title: tx("sap_xep"), className: "ntm-sort" }, tx(col[1]) + arrow),
          { border: "0", background: "none", padding: "0", font: "inherit", fontWeight: "700", cursor: "pointer" });
        b.addEventListener("click", function () {
          state.desc = state.sort === col[0] ? !state.desc : col[0] !== "ten";
          state.sort = col[0];
          refresh();
        });
        return h("th", { className: i ? "n" : "" }, b);
      })));
      var rows = items.map(function (it) {
        var r = it.r, has = hasData(r);
        var tr = h("tr", { id: "ntm-tinh-" + it.ma, title: rowWords(r), tabIndex: 0 },
          h("td", null, it.ten), h("td", { className: "n" }, r ? r.so_xa : "—"), h("td", { className: "n" }, has ? r.dat_ntm : "—"),
          h("td", { className: "n" }, has ? T.pct(r.ty_le_ntm) : "—"),
          h("td", { className: "n" }, has && r.binh_quan_tieu_chi !== null ? T.decimal(r.binh_quan_tieu_chi, 1) : "—"));
        tr.addEventListener("click", function () { openProvince(it.ma); });
        tr.addEventListener("keydown", function (e) { if (e.key === "Enter") openProvince(it.ma); });
        return styled(tr, { cursor: "pointer" });
      });
      return h("table", { className: "ntm-provinces" }, h("thead", null, head), h.apply(null, ["tbody", null].concat(rows)));
    }
    function panelNodes() {
      if (state.open === null) {
        return rowBlock(yearData().toan_quoc).concat([provinceTable(), h("div", { className: "ntm-note" }, tx("ghi_chu_tinh"))]);
      }
      var out = rowBlock(row(state.open));
      if (loading === "…") out.push(h("div", { className: "ntm-note ntm-status" }, tx("dang_tai_xa")));
      else if (loading) out.push(h("div", { className: "ntm-note ntm-status" }, tx("khong_tai_duoc_xa", { ly_do: loading.failed })));
      return out;
    }

    L.control.scale({ position: "bottomleft", imperial: false }).addTo(map);

    /* ---- a year, a province or a sort redraws what is shown; the address follows (a reload opens the same view) ---- */
    function refresh() {
      provinces.setStyle(provinceStyle);
      title.textContent = tx("tieu_de", { tinh: state.open === null ? D.ten_tinh : names[state.open] });
      back.style.display = state.open === null ? "none" : "";
      legendDiv.replaceChildren.apply(legendDiv, legendNodes());
      body.replaceChildren.apply(body, panelNodes());
      var query = "?year=" + encodeURIComponent(state.year) + (state.open === null ? "" : "&province=" + encodeURIComponent(state.open)) +
        (D.ngon_ngu && D.ngon_ngu !== "vi" ? "&lang=" + encodeURIComponent(D.ngon_ngu) : "");
      if (window.location.protocol !== "file:") history.replaceState(null, "", query);
    }
    function fit(bounds) {  // the view fills the map beside the open panel
      var left = 10;
      if (panelOpen) left = panelDiv.getBoundingClientRect().right - map.getContainer().getBoundingClientRect().left + 10;
      map.fitBounds(bounds, { paddingTopLeft: [left, 10], paddingBottomRight: [10, 10], animate: false });
    }
    setOpen(panelOpen);
    if (D.mo_tinh) openProvince(D.mo_tinh);
    else { refresh(); fit(D.bounds); }
  };
})();
