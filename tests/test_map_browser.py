"""The leaders' map in a real headless Chromium: served at /map, and exported as one HTML file.
The browser is $NONGTHON_TEST_CHROMIUM, else chromium on the PATH, else Debian's /usr/bin/chromium, else the one
`playwright install chromium` downloads; without any, every test here fails with one line saying so.
Screenshots are saved in test-artifacts/."""

import csv
import json
import re
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import geopandas as gpd
import httpx
import pytest
import yaml

from nongthon.store import Store
from tests.live import chromium, serving

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
SHARED = ROOT.parent / "shared"
LAPTOP = {"width": 1366, "height": 657}  # a 1366 × 768 screen less the browser's bars, as reported
DESKTOP = {"width": 1400, "height": 1000}
# a Leaflet layer of the page by GSO code: the map is the one L.Map among the page's globals (folium names it)
FIND_LAYER = (
    "ma => { const map = Object.values(window).find(v => v instanceof L.Map); let hit = null;"
    " map.eachLayer(l => { if (l.feature && l.feature.properties.ma === ma) hit = l; }); return hit; }"
)
HOSTILE = [
    "<img src=x onerror=alert(document.domain)>",
    "12/QĐ <!--<script>",
    "</script><script>alert(1)</script>",
    "QĐ 7\u2028&amp; \u2029'\"",
]


@pytest.fixture(scope="module")
def server(mapped_db, tmp_path_factory):
    db = tmp_path_factory.mktemp("browser") / "map.db"
    shutil.copy(mapped_db, db)
    with serving(db) as url:
        yield url, db


@pytest.fixture(scope="module")
def browser():
    ARTIFACTS.mkdir(exist_ok=True)
    with chromium() as b:
        yield b


def open_map(browser, url, viewport=DESKTOP, ready=".leaflet-overlay-pane path"):
    page = browser.new_page(viewport=viewport)
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("dialog", lambda d: (errors.append("dialog: " + d.message), d.dismiss()))
    page.goto(url)
    page.wait_for_selector(ready, timeout=30000)
    return page, errors


def forecast_fetched(page, timeout=60000) -> None:
    """Wait until the served page's panel is done with its forecast (fetched after the page is shown)."""
    page.wait_for_function("() => !document.getElementById('ntm-panel').innerText.includes('Đang tính dự báo')", timeout=timeout)


def shot(page, name: str) -> Path:
    path = ARTIFACTS / name
    page.screenshot(path=str(path))
    print(f"\nscreenshot: {path}")
    return path


def layer_properties(url: str, year: int) -> dict[str, dict]:
    features = httpx.get(url + f"/api/layers/communes?year={year}", timeout=60).json()["features"]
    return {f["properties"]["ma"]: f["properties"] for f in features}


def covering_target_sets(year: int, province: str = "54") -> list[dict]:
    """The target files whose years cover ``year``, for the province or national, read straight from the YAML."""
    docs = [yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted((ROOT / "nongthon" / "targets").glob("*.yaml"))]
    return [d for d in docs if d["years"]["from"] <= year <= d["years"]["to"] and d.get("province") in (None, province)]


def test_served_map_draws_communes_legend_tooltip_and_panel(server, browser):
    url, _ = server
    page, errors = open_map(browser, url + "/map?year=2023")
    # 106 communes + 9 district outlines
    assert page.locator(".leaflet-overlay-pane path").count() >= 106 + 9
    legend = page.locator("#ntm-legend").inner_text()
    for words in ("Năm 2023", "Chưa đạt chuẩn", "Đạt chuẩn NTM", "NTM nâng cao", "NTM kiểu mẫu", "Phường, thị trấn (không xét)"):
        assert words in legend
    assert "DỮ LIỆU MẪU" in page.locator("#ntm-banner").inner_text()
    forecast_fetched(page)
    panel = page.locator("#ntm-panel").inner_text()
    assert "/83" in panel and "Mục tiêu 2025 (tỉnh): 80,0%" in panel and "Huyện Tây Hòa" in panel
    assert "Dự báo 2025:" in panel and "xác suất đạt" in panel  # the projected share with its band, next to the target
    marks = page.locator(".ntm-moc").evaluate_all("els => els.map(e => e.getAttribute('title'))")
    assert any("Huyện Tuy An đạt chuẩn huyện nông thôn mới năm 2023 — chưa đạt" in m for m in marks)
    # hover a commune: its tooltip names it and gives the tier and criteria met
    box = page.locator(".leaflet-overlay-pane svg g").bounding_box()  # the middle of the province, clear of the panel
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_selector(".leaflet-tooltip", timeout=5000)
    tip = page.locator(".leaflet-tooltip").last.inner_text()
    assert ("tiêu chí" in tip) or ("Không xét NTM" in tip)
    shot(page, "map-2023.png")
    assert not errors, errors


def test_forecast_is_fetched_once_after_the_page_is_shown(server, browser):
    """The page comes without its forecast: the panel says it is being computed, the page fetches it once from
    its own site (whatever the years looked at meanwhile), then shows it; a failed fetch is said in one line."""
    url, _ = server
    page = browser.new_page(viewport=DESKTOP)
    errors, held = [], []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.route("**/api/map/du-bao*", lambda route: held.append(route))  # the request waits here until the test lets it go
    page.goto(url + "/map?year=2023")
    page.wait_for_selector(".leaflet-overlay-pane path", timeout=30000)
    page.wait_for_function("() => document.getElementById('ntm-panel').innerText.includes('Đang tính dự báo…')", timeout=30000)
    panel = page.locator("#ntm-panel .ntm-body").inner_text()
    assert "Mục tiêu 2025 (tỉnh): 80,0%" in panel and "Dự báo 2025:" not in panel  # the page first, the forecast later
    for _ in range(100):
        if held:
            break
        page.wait_for_timeout(100)
    page.select_option("#ntm-year", "2022")
    page.select_option("#ntm-year", "2023")
    assert [r.request.url for r in held] == [url + "/api/map/du-bao?year=2023"]  # once, same site, the page's year
    shot(page, "map-forecast-loading.png")
    held[0].continue_()
    forecast_fetched(page)
    panel = page.locator("#ntm-panel .ntm-body").inner_text()
    assert "Dự báo 2025:" in panel and "xác suất đạt" in panel and "Dự báo: mô phỏng" in panel
    page.select_option("#ntm-year", "2022")  # every year's forecast came in the one response
    assert "Dự báo 2025:" in page.locator("#ntm-panel .ntm-body").inner_text() and len(held) == 1
    assert not errors, errors
    page.close()

    page = browser.new_page(viewport=DESKTOP)
    page.route("**/api/map/du-bao*", lambda route: route.fulfill(status=503, body="{}", content_type="application/json"))
    page.goto(url + "/map?year=2023")
    page.wait_for_function("() => document.getElementById('ntm-panel').innerText.includes('Không tải được dự báo')", timeout=30000)
    panel = page.locator("#ntm-panel .ntm-body").inner_text()
    assert "Không tải được dự báo (máy chủ trả lỗi HTTP 503); tải lại trang để thử lại." in panel and "Đang tính" not in panel
    assert "Mục tiêu 2025 (tỉnh): 80,0%" in panel  # the rest of the panel stays
    page.close()


def test_panel_shows_every_target_set_covering_the_year(server, browser):
    url, _ = server
    page, errors = open_map(browser, url + "/map?year=2023")
    panel = page.locator("#ntm-panel .ntm-body").inner_text()
    sets = covering_target_sets(2023)
    assert {d["id"] for d in sets} == {"phu-yen-2021-2025", "qd263-2025"}  # the province's own and the national set
    for d in sets:
        scope = "quốc gia" if d.get("province") is None else "tỉnh"
        for t in d["targets"]:
            if t.get("kind", "share") == "share":
                assert f"Mục tiêu {t['year']} ({scope}): {100 * t['share']:.1f}%".replace(".", ",") in panel, t
            else:
                assert f"Xã dưới {t['min_criteria']} tiêu chí:" in panel and f"Mục tiêu {t['year']} ({scope}): không còn xã nào" in panel
    assert "Mục tiêu 2025 (quốc gia): 40,0%" in panel  # 263/QĐ-TTg: about 40 % advanced, beside the province's 15 %
    # 2018 lies outside every set's years: no target is drawn, and the panel says so
    assert covering_target_sets(2018) == []
    page.select_option("#ntm-year", "2018")
    panel = page.locator("#ntm-panel .ntm-body").inner_text()
    assert "Mục tiêu" not in panel and "Không có bộ mục tiêu nào áp dụng cho năm 2018" in panel
    assert not errors, errors


def test_criterion_layer_and_year_switch(server, browser):
    url, _ = server
    page, errors = open_map(browser, url + "/map?year=2023")
    page.locator(".leaflet-control-layers").hover()
    page.get_by_text("Tiêu chí 17: Môi trường và an toàn thực phẩm").click()
    legend = page.locator("#ntm-legend").inner_text()
    assert "Tiêu chí 17" in legend and "Chưa đánh giá" in legend
    fills = set(page.locator(".leaflet-overlay-pane path").evaluate_all("ps => ps.map(p => p.getAttribute('fill'))"))
    assert "#2166ac" in fills and "#e08214" in fills  # met and not met both drawn
    page.select_option("#ntm-year", "2018")
    assert "Năm 2018" in page.locator("#ntm-legend").inner_text()
    assert "Tiêu chí 17" in page.locator("#ntm-legend").inner_text()  # the 2016 catalogue has a criterion 17 too
    assert "Năm 2018:" in page.locator("#ntm-panel").inner_text()
    shot(page, "map-2018-tc17.png")
    page.locator("#ntm-panel .ntm-toggle").click()  # the panel folds away
    assert "collapsed" in page.locator("#ntm-panel").get_attribute("class")
    assert not page.locator("#ntm-panel .ntm-body").is_visible()
    assert page.locator("#ntm-year").is_visible()  # the year stays at hand
    assert not errors, errors


def test_popup_lists_unmet_criteria_by_name(server, browser):
    url, _ = server
    page, errors = open_map(browser, url + "/map?year=2023")
    # open the popup of a xã that misses a criterion in 2023
    target = next(p for p in layer_properties(url, 2023).values() if p["tieu_chi_chua_dat"])
    page.evaluate(f"ma => ({FIND_LAYER})(ma).openPopup()", target["ma"])
    popup = page.locator(".leaflet-popup-content").inner_text()
    assert target["ten"] in popup and "Tiêu chí chưa đạt" in popup
    assert target["tieu_chi_chua_dat"][0]["ten"] in popup
    assert not errors, errors


def test_open_popup_follows_the_year(server, browser):
    url, _ = server
    y2023, y2018 = layer_properties(url, 2023), layer_properties(url, 2018)
    # a xã whose criteria met differ between the two years, so a stale popup cannot pass for a fresh one
    ma = next(
        m for m, p in y2023.items() if p["co_so_lieu"] and y2018[m]["co_so_lieu"] and p["so_tieu_chi_dat"] != y2018[m]["so_tieu_chi_dat"]
    )
    then, now = y2018[ma], y2023[ma]
    page, errors = open_map(browser, url + "/map?year=2023")
    page.evaluate(f"ma => ({FIND_LAYER})(ma).openPopup()", ma)
    popup = page.locator(".leaflet-popup-content")
    assert f"đạt {now['so_tieu_chi_dat']}/{now['so_tieu_chi']} tiêu chí (năm 2023)" in popup.inner_text()
    page.select_option("#ntm-year", "2018")
    text = popup.inner_text()
    assert f"đạt {then['so_tieu_chi_dat']}/{then['so_tieu_chi']} tiêu chí (năm 2018)" in text, text
    assert "2023" not in text and then["ten"] in text
    page.wait_for_timeout(500)  # the popup grew: let the map finish panning it into view
    shot(page, "map-popup-after-year-change.png")
    assert not errors, errors


def test_layer_list_is_reachable_past_the_legend_on_a_laptop(server, browser):
    url, _ = server
    page, errors = open_map(browser, url + "/map?year=2023", LAPTOP)
    requested = []
    page.route("https://tile.openstreetmap.org/**", lambda route: (requested.append(route.request.url), route.abort()))
    page.locator(".leaflet-control-layers").hover()
    # Playwright clicks only an item that nothing covers: the legend must not sit on the list's last rows
    page.locator(".leaflet-control-layers label", has_text="Tiêu chí 19:").click(timeout=5000)
    assert "Tiêu chí 19" in page.locator("#ntm-legend").inner_text()
    page.locator(".leaflet-control-layers label", has_text="Nền OpenStreetMap (cần Internet)").click(timeout=5000)
    assert page.locator(".leaflet-control-layers label", has_text="Nền OpenStreetMap").locator("input").is_checked()
    page.wait_for_timeout(300)
    assert requested, "the background layer asked for no tile"
    shot(page, "map-1366x657-layer-list.png")
    assert not errors, errors


def test_laptop_screen_opens_with_the_panel_and_a_province_that_fills_the_map(server, browser):
    url, _ = server
    page, errors = open_map(browser, url + "/map?year=2023", LAPTOP)
    assert "collapsed" not in page.locator("#ntm-panel").get_attribute("class")
    assert page.locator("#ntm-panel .ntm-body").is_visible()
    box = page.evaluate(
        """() => { const r = e => { const b = e.getBoundingClientRect(); return {left: b.left, top: b.top, right: b.right, bottom: b.bottom}; };
        return {map: r(document.querySelector('.leaflet-container')), panel: r(document.getElementById('ntm-panel')),
                province: r(document.querySelector('.leaflet-overlay-pane svg g'))}; }"""
    )
    m, p, v = box["map"], box["panel"], box["province"]
    free_width, free_height = m["right"] - p["right"], m["bottom"] - m["top"]
    assert v["left"] >= p["right"] - 1, box  # the province beside the panel, not under it
    assert v["top"] >= m["top"] - 1 and v["bottom"] <= m["bottom"] + 1 and v["right"] <= m["right"] + 1, box  # wholly in view
    # it fills the free area in its limiting dimension (the fit snaps zoom to 0.1 steps: at worst 2^-0.1 = 93 %)
    fill = max((v["bottom"] - v["top"]) / free_height, (v["right"] - v["left"]) / free_width)
    assert fill >= 0.85, box
    shot(page, "map-1366x657.png")
    assert not errors, errors


def test_every_district_row_is_reachable_in_a_forecast_year(server, browser):
    url, _ = server
    page, errors = open_map(browser, url + "/map?year=2023", LAPTOP)
    forecast_fetched(page)
    page.select_option("#ntm-year", "2018")
    page.select_option("#ntm-year", "2023")  # back to a year with a forecast: the panel grows
    assert "Dự báo 2025:" in page.locator("#ntm-panel").inner_text()
    districts = gpd.read_file(SHARED / "geodata" / "phu_yen_pre2025.gpkg", layer="districts")
    rows = page.locator("#ntm-panel tbody tr")
    assert rows.count() == len(districts) == 9
    last = rows.last
    assert last.locator("td").first.inner_text() == "Thị xã Đông Hòa"  # the registry's last district-level unit
    last.scroll_into_view_if_needed(timeout=5000)
    seen = page.evaluate(
        """() => { const body = document.querySelector('#ntm-panel .ntm-body'), rows = body.querySelectorAll('tbody tr'), row = rows[rows.length - 1];
        const b = body.getBoundingClientRect(), r = row.getBoundingClientRect(), cell = row.lastElementChild.getBoundingClientRect();
        const inside = r.top >= b.top - 0.5 && r.bottom <= b.top + body.clientHeight + 0.5 && r.left >= b.left - 0.5 && r.right <= b.left + body.clientWidth + 0.5;
        const onScreen = r.top >= 0 && r.bottom <= innerHeight && r.right <= innerWidth;
        const hitFirst = row.contains(document.elementFromPoint(r.left + 5, (r.top + r.bottom) / 2));
        const hitLast = row.contains(document.elementFromPoint((cell.left + cell.right) / 2, (cell.top + cell.bottom) / 2));
        return {inside, onScreen, hitFirst, hitLast}; }"""
    )
    assert seen == {"inside": True, "onScreen": True, "hitFirst": True, "hitLast": True}, seen
    shot(page, "map-1366x657-districts.png")
    assert not errors, errors


def test_map_opens_on_the_layer_bounds(server, browser):
    url, _ = server
    west, south, east, north = gpd.read_file(SHARED / "geodata" / "phu_yen_pre2025.gpkg", layer="communes").to_crs(4326).total_bounds
    html = httpx.get(url + "/map?year=2023", timeout=120).text
    lat, lon = map(float, re.search(r"center: \[([-\d.]+), ([-\d.]+)\]", html).groups())
    assert lat == pytest.approx((south + north) / 2, abs=1e-3) and lon == pytest.approx((west + east) / 2, abs=1e-3)
    page, errors = open_map(browser, url + "/map?year=2023")
    shown = page.evaluate(
        "() => { const b = Object.values(window).find(v => v instanceof L.Map).getBounds(); return [b.getSouth(), b.getWest(), b.getNorth(), b.getEast()]; }"
    )
    slack = 1e-3  # the simplified outline may cut a corner by a few tens of metres
    assert shown[0] <= south + slack and shown[1] <= west + slack and shown[2] >= north - slack and shown[3] >= east - slack, shown
    assert not errors, errors


def test_page_json_cannot_end_its_script():
    from nongthon.maps import script_json

    data = {"so": HOSTILE, "ten": "Xã Hòa Quang Bắc"}
    text = script_json(data)
    for raw in ("<", ">", "&", "\u2028", "\u2029"):
        assert raw not in text
    assert json.loads(text) == data  # the escapes read back as the same text


@pytest.fixture(scope="module")
def hostile_export(server, tmp_path_factory):
    """The exported 2023 map of a database whose recognition decisions carry markup, and the xã they name."""
    _, db = server
    out = tmp_path_factory.mktemp("export")
    copy = out / "hostile.db"
    shutil.copy(db, copy)
    props = layer_properties(server[0], 2023)
    chosen = [m for m, p in props.items() if p["du_dieu_kien"] and p["hang_cong_nhan"] is None][: len(HOSTILE)]
    store = Store.open(copy)
    for ma, number in zip(chosen, HOSTILE):
        store.add_recognition(ma, "ntm", number, date(2023, 6, 1), source="kiểm thử", author="test")
    store.close()
    html = out / "ban-do-2023.html"
    r = subprocess.run(
        [sys.executable, "-m", "nongthon.cli", "map", "--db", str(copy), "--year", "2023", "-o", str(html)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    assert "DỮ LIỆU MẪU" in r.stdout
    return html, dict(zip(chosen, HOSTILE))


def test_exported_file_works_offline_and_shows_stored_text_as_text(browser, hostile_export):
    html, decisions = hostile_export
    text = html.read_text(encoding="utf-8")
    assert "<script src=" not in text and "stylesheet" not in text  # Leaflet, map.js and map.css inlined: no CDN needed
    page = browser.new_page(viewport=DESKTOP)
    errors, outside = [], []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("dialog", lambda d: (errors.append("dialog: " + d.message), d.dismiss()))
    page.route(
        "**/*",
        lambda route: (
            route.continue_() if route.request.url.startswith(("file:", "data:")) else (outside.append(route.request.url), route.abort())
        ),
    )
    page.goto(html.as_uri())
    page.wait_for_selector(".leaflet-overlay-pane path", timeout=30000)
    assert page.locator(".leaflet-overlay-pane path").count() >= 106 + 9  # every polygon drawn, markup or not
    assert "Dự báo 2025:" in page.locator("#ntm-panel").inner_text()  # the saved file carries its forecast
    assert outside == []  # nothing fetched from the network
    for ma, number in decisions.items():
        page.evaluate(f"ma => ({FIND_LAYER})(ma).openPopup()", ma)
        popup = page.locator(".leaflet-popup-content")
        assert "Quyết định số " + " ".join(number.split()) in " ".join(popup.inner_text().split())  # the text itself, shown
        assert popup.locator("img, script").count() == 0
    shot(page, "map-export.png")
    assert not errors, errors


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    """`nongthon demo` (the new Đắk Lắk, 66, with Phú Yên before 2026), served."""
    db = tmp_path_factory.mktemp("demo-browser") / "demo.db"
    r = subprocess.run([sys.executable, "-m", "nongthon.cli", "--db", str(db), "demo"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    with serving(db) as url:
        yield url


def _units_csv(name: str) -> dict[str, dict]:
    with open(ROOT / "geodata" / name, encoding="utf-8", newline="") as f:
        return {r["code"]: r for r in csv.DictReader(f)}


def test_old_and_new_units_before_and_after_the_reform(demo_server, browser):
    """2024 in the old units (Phú Yên's 106 communes and 9 districts), the same year in the new units (102 units of
    the new Đắk Lắk, each new xã coloured by its derived state, a banner saying so, popups listing the former
    units), and 2026 in the new units with their tiers (26 of 88 xã NTM in the sample, no district table)."""
    url = demo_server
    moi = {c: r for c, r in _units_csv("units_moi.csv").items() if r["province_code"] == "66" and r["level"] == "commune"}
    cu = _units_csv("units_cu.csv")
    with open(ROOT / "geodata" / "crosswalk_2025.csv", encoding="utf-8", newline="") as f:
        crosswalk = [r for r in csv.DictReader(f) if r["tinh_moi"] == "66"]
    assert len(moi) == 102 and sum(r["unit_type"] == "xa" for r in moi.values()) == 88

    page, errors = open_map(browser, url + "/map?year=2024")
    assert page.locator(".leaflet-overlay-pane path").count() == 106 + 9  # Phú Yên's communes and district outlines
    assert "Tỉnh Phú Yên" in page.locator("#ntm-panel .ntm-head").inner_text()
    link = page.locator("#ntm-don-vi")
    assert link.is_visible() and link.inner_text() == "Xem năm 2024 theo đơn vị mới (từ 1/7/2025)"
    assert "Trạng thái suy ra" not in page.locator("#ntm-banner").inner_text()
    shot(page, "map-2024-don-vi-cu.png")
    link.click()  # the same year in the new units
    page.wait_for_url("**/map?year=2024&don_vi=moi", timeout=60000)
    page.wait_for_selector(".leaflet-overlay-pane path", timeout=60000)
    assert page.locator(".leaflet-overlay-pane path").count() == 102  # the new units: no district level
    banner = page.locator(".ntm-banner.derived")
    assert banner.is_visible() and banner.inner_text() == "Trạng thái suy ra từ các xã cũ — không phải hạng được công nhận"
    legend = page.locator("#ntm-legend").inner_text()
    derived_words = ("Mọi xã cũ đã đạt chuẩn NTM", "Một phần xã cũ đạt chuẩn NTM", "Chưa xã cũ nào đạt chuẩn NTM", "Chưa có số liệu")
    assert all(w in legend for w in derived_words) and "Phường (không xét)" in legend
    assert "Đạt chuẩn NTM" not in legend and "NTM nâng cao" not in legend  # no tier is drawn
    fills = set(page.locator(".leaflet-overlay-pane path").evaluate_all("ps => ps.map(p => p.getAttribute('fill'))"))
    assert {"#2166ac", "#92c5de", "#e08214", "#9e9e9e"} <= fills  # all NTM, some, none, phường
    assert page.locator("#ntm-don-vi").inner_text() == "Xem năm 2024 theo đơn vị cũ (trước 1/7/2025)"
    # the popup of the new xã nearest the middle of the map lists its former units with their own state
    ma = page.evaluate(
        """() => { const map = Object.values(window).find(v => v instanceof L.Map), c = map.getCenter(); let best = null, d = Infinity;
        map.eachLayer(l => { if (l.feature && l.feature.properties.du_dieu_kien) { const k = l.getBounds().getCenter().distanceTo(c); if (k < d) { d = k; best = l.feature.properties.ma; } } });
        return best; }"""
    )
    assert moi[ma]["unit_type"] == "xa"
    page.evaluate(f"ma => ({FIND_LAYER})(ma).openPopup()", ma)
    popup = page.locator(".leaflet-popup-content").inner_text()
    assert popup.startswith(moi[ma]["name"]) and "(suy ra)" in popup and "Xã cũ:" in popup
    states = ("đạt chuẩn NTM", "chưa đạt chuẩn NTM", "chưa có số liệu", "không thuộc diện xét NTM")
    for r in crosswalk:
        if r["ma_moi"] == ma:
            assert any(f"{cu[r['ma_cu']]['name']} — {s}" in popup for s in states), (cu[r["ma_cu"]]["name"], popup)
    assert "không phải hạng được công nhận" in popup
    page.wait_for_timeout(500)  # the popup pans into view
    shot(page, "map-2024-don-vi-moi.png")
    assert not errors, errors
    page.close()

    page, errors = open_map(browser, url + "/map?year=2026")
    assert page.locator(".leaflet-overlay-pane path").count() == 102
    panel = page.locator("#ntm-panel").inner_text()
    assert "Tỉnh Đắk Lắk" in panel and "Xã đạt chuẩn NTM: 26/88" in panel
    assert page.locator("#ntm-panel tbody tr").count() == 0 and "Huyện / thị xã" not in panel  # no district level
    assert page.locator("#ntm-don-vi").count() == 0 and page.locator(".ntm-banner.derived").count() == 0
    legend = page.locator("#ntm-legend").inner_text()
    assert "Chưa đạt chuẩn" in legend and "Đạt chuẩn NTM" in legend and "NTM nâng cao" not in legend  # qd51: no nâng cao
    page.locator(".leaflet-control-layers").hover()
    assert page.locator(".leaflet-control-layers label", has_text="Tiêu chí ").count() == 10  # the 10 criteria of qd51-2025
    assert page.locator(".leaflet-control-layers label", has_text="Ranh giới huyện").count() == 0
    shot(page, "map-2026.png")
    assert not errors, errors
    page.close()


@pytest.fixture(scope="module")
def national_server(tmp_path_factory):
    """`nongthon demo --national` (the whole country's labelled sample, schematic boundaries), served; and its store."""
    db = tmp_path_factory.mktemp("national-browser") / "national.db"
    r = subprocess.run(
        [sys.executable, "-m", "nongthon.cli", "--db", str(db), "demo", "--national"], capture_output=True, text=True, timeout=300
    )
    assert r.returncode == 0, r.stderr
    with serving(db) as url:
        yield url, db


# the map's Leaflet layers of the provinces (two-digit codes) and of the communes drawn (in the pane ntm-xa)
PROVINCE_PATHS = ".leaflet-overlay-pane path"
COMMUNE_PATHS = ".leaflet-ntm-xa-pane path"
#: letters only Vietnamese writes (a label left in Vietnamese on the English page)
VI_LETTERS = re.compile(r"[àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ]", re.I)


def national_facts(db: Path) -> tuple[dict, dict[str, set], set[str]]:
    """From units_moi.csv and the store itself: the commune-level units per province, the xã per province, the NTM xã
    (every one of the 10 criteria of 51/2025 met in 2026)."""
    units = [r for r in _units_csv("units_moi.csv").values() if r["level"] == "commune"]
    communes, xa = {}, {}
    for r in units:
        communes.setdefault(r["province_code"], set()).add(r["code"])
        if r["unit_type"] == "xa":
            xa.setdefault(r["province_code"], set()).add(r["code"])
    store = Store.open(db)
    results = store.current_results(years=[2026])
    store.close()
    met = results.groupby("unit")["met"].agg(["all", "size"])
    return communes, xa, set(met.index[met["all"] & (met["size"] == 10)])


def click_inside(page, province: str, url: str) -> None:
    """A real mouse click on a point inside a province's shape (its representative point, from the provinces layer)."""
    features = httpx.get(url + "/api/layers/provinces?year=2026", timeout=60).json()["features"]
    shape = gpd.GeoDataFrame.from_features(features).set_index("ma").geometry[province]
    point = shape.representative_point()
    xy = page.evaluate(
        """([lat, lon]) => { const map = Object.values(window).find(v => v instanceof L.Map), p = map.latLngToContainerPoint([lat, lon]);
        const box = map.getContainer().getBoundingClientRect(); return [box.left + p.x, box.top + p.y]; }""",
        [point.y, point.x],
    )
    page.mouse.click(*xy)


def test_national_view_then_one_province_then_back(national_server, browser):
    """A national store opens on the 34 provinces coloured by share of NTM xã, with the nation's row and the table of
    provinces; a click on a province draws its communes (fetched from the same site) by tier with their popups;
    "← Toàn quốc" goes back; a row of the table opens a province too; /map?province=66 opens on it."""
    url, db = national_server
    communes, xa, ntm = national_facts(db)
    all_xa = set().union(*xa.values())
    share = {p: len(ntm & xa[p]) / len(xa[p]) for p in xa}
    page, errors = open_map(browser, url + "/map")
    assert page.locator(PROVINCE_PATHS).count() == 34 and page.locator(COMMUNE_PATHS).count() == 0
    panel = page.locator("#ntm-panel").inner_text()
    assert "Nông thôn mới — Toàn quốc" in panel
    nation = len(ntm & all_xa) / len(all_xa)
    assert f"Xã đạt chuẩn NTM: {len(ntm & all_xa)}/{len(all_xa)} = {100 * nation:.1f}%".replace(".", ",") in panel
    assert "2621/2621 xã có số liệu" in panel
    rows = page.locator("#ntm-panel tbody tr")
    assert rows.count() == 34
    assert rows.first.get_attribute("id") == "ntm-tinh-" + max(share, key=share.get)  # sorted by share, highest first
    page.locator("#ntm-panel th button", has_text="Tỷ lệ").click()
    assert rows.first.get_attribute("id") == "ntm-tinh-" + min(share, key=share.get)  # the same column again: lowest first
    legend = page.locator("#ntm-legend").inner_text()
    assert all(w in legend for w in ("Năm 2026", "Tỷ lệ xã đạt chuẩn NTM", "0–20%", "80–100%", "Chưa có số liệu"))
    banners = page.locator("#ntm-banner").inner_text()
    assert "DỮ LIỆU MẪU" in banners and "Sơ đồ minh họa" in banners
    fill = page.evaluate(f"ma => ({FIND_LAYER})(ma)._path.getAttribute('fill')", "66")
    assert round(share["66"] * 88) == 26 and fill == "#bae4b3"  # 26/88 = 29.5 %: the step 20–40 %
    shot(page, "map-national.png")

    click_inside(page, "66", url)  # a real click on the map
    page.wait_for_function(f"() => document.querySelectorAll('{COMMUNE_PATHS}').length === {len(communes['66'])}", timeout=60000)
    assert len(communes["66"]) == 102 and "province=66" in page.url
    head = page.locator("#ntm-panel .ntm-head").inner_text()
    assert "Nông thôn mới — Tỉnh Đắk Lắk" in head and page.locator("#ntm-toan-quoc").is_visible()
    assert "Xã đạt chuẩn NTM: 26/88 = 29,5%" in page.locator("#ntm-panel").inner_text()
    legend = page.locator("#ntm-legend").inner_text()
    assert all(w in legend for w in ("Chưa đạt chuẩn", "Đạt chuẩn NTM", "Phường, đặc khu (không xét)")) and "0–20%" not in legend
    fills = set(page.locator(COMMUNE_PATHS).evaluate_all("ps => ps.map(p => p.getAttribute('fill'))"))
    assert fills == {"#fde725", "#5ec962", "#9e9e9e"}  # chưa đạt, NTM, phường / đặc khu: the province map's colours
    # the popup of a xã that is not NTM lists its unmet criteria, as the store has them
    store = Store.open(db)
    results = store.current_results(years=[2026])
    store.close()
    code = page.evaluate(  # the xã not NTM nearest the middle of the map, so that its popup is shown whole
        """codes => { const map = Object.values(window).find(v => v instanceof L.Map), c = map.getCenter(); let best = null, d = Infinity;
        map.eachLayer(l => { if (l.feature && codes.includes(l.feature.properties.ma)) { const k = l.getBounds().getCenter().distanceTo(c);
        if (k < d) { d = k; best = l.feature.properties.ma; } } }); return best; }""",
        sorted(xa["66"] - ntm),
    )
    unmet = sorted(results[(results["unit"] == code) & ~results["met"].astype(bool)]["item"], key=int)
    page.evaluate(f"ma => ({FIND_LAYER})(ma).openPopup()", code)
    popup = page.locator(".leaflet-popup-content")
    assert popup.inner_text().startswith(_units_csv("units_moi.csv")[code]["name"]) and "Chưa đạt chuẩn" in popup.inner_text()
    assert [li.split(".")[0] for li in popup.locator("li").all_inner_texts()] == unmet and "DỮ LIỆU MẪU" in popup.inner_text()
    page.wait_for_timeout(500)  # the popup pans into view
    shot(page, "map-national-province.png")

    page.locator("#ntm-toan-quoc").click()
    page.wait_for_function(f"() => document.querySelectorAll('{COMMUNE_PATHS}').length === 0", timeout=10000)
    assert rows.count() == 34 and not page.locator("#ntm-toan-quoc").is_visible() and "province=" not in page.url
    assert "Tỷ lệ xã đạt chuẩn NTM" in page.locator("#ntm-legend").inner_text()
    page.locator("#ntm-tinh-01").click()  # a row of the table
    page.wait_for_function(f"() => document.querySelectorAll('{COMMUNE_PATHS}').length === {len(communes['01'])}", timeout=60000)
    assert "Thành phố Hà Nội" in page.locator("#ntm-panel .ntm-head").inner_text()
    assert not errors, errors
    page.close()

    page, errors = open_map(browser, url + "/map?province=66", ready=COMMUNE_PATHS)
    page.wait_for_function(f"() => document.querySelectorAll('{COMMUNE_PATHS}').length === 102", timeout=60000)
    assert "Tỉnh Đắk Lắk" in page.locator("#ntm-panel .ntm-head").inner_text()
    assert not errors, errors
    page.close()

    # a national year without data: grey provinces; the year picker goes back to 2026
    page, errors = open_map(browser, url + "/map?year=2027")
    assert "Chưa có số liệu năm 2027." in page.locator("#ntm-panel").inner_text()
    assert set(page.locator(PROVINCE_PATHS).evaluate_all("ps => ps.map(p => p.getAttribute('fill'))")) == {"#bdbdbd"}
    page.select_option("#ntm-year", "2026")
    assert "Xã đạt chuẩn NTM: " in page.locator("#ntm-panel").inner_text()
    assert "#bdbdbd" not in set(page.locator(PROVINCE_PATHS).evaluate_all("ps => ps.map(p => p.getAttribute('fill'))"))
    assert not errors, errors
    page.close()


def test_national_view_in_english(national_server, browser):
    from nongthon.maps import MAP_TEXT_VI

    url, _ = national_server
    pieces = {p.strip() for text in MAP_TEXT_VI.values() for p in re.split(r"\{\w+\}", text)}
    labels = sorted(p for p in pieces if len(p) >= 4 and VI_LETTERS.search(p))  # the Vietnamese labels of the strings table
    page, errors = open_map(browser, url + "/map?lang=en")
    panel, legend = page.locator("#ntm-panel").inner_text(), page.locator("#ntm-legend").inner_text()
    assert "New Rural Development — Whole country" in panel and "Communes meeting the NTM standard: " in panel
    assert "Province / city" in panel and "Share" in panel and "Click a province on the map or in the table" in panel
    assert "Year 2026" in legend and "Share of communes meeting the NTM standard" in legend and "No data yet" in legend
    assert "SAMPLE DATA — not official figures" in page.locator("#ntm-banner").inner_text()
    assert not [p for p in labels if p in panel or p in legend]
    shot(page, "map-national-en.png")
    page.locator("#ntm-tinh-66").click()
    page.wait_for_function(f"() => document.querySelectorAll('{COMMUNE_PATHS}').length === 102", timeout=60000)
    assert page.locator("#ntm-toan-quoc").inner_text() == "← Whole country" and "lang=en" in page.url
    legend = page.locator("#ntm-legend").inner_text()
    assert "Not yet NTM" in legend and "NTM standard met" in legend and "Wards, special zones (not assessed)" in legend
    assert not [p for p in labels if p in legend or p in page.locator("#ntm-panel").inner_text()]
    assert not errors, errors
    page.close()
