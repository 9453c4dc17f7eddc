"""The leaders' map in a real headless Chromium: served at /map, and exported as one HTML file.
.ci/run installs Debian's chromium; the screenshots are saved in test-artifacts/."""

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import sync_playwright

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(mapped_db, tmp_path_factory):
    db = tmp_path_factory.mktemp("browser") / "map.db"
    shutil.copy(mapped_db, db)
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "nongthon.cli", "serve", "--db", str(db), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if httpx.get(url + "/docs", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail("the server did not start: " + proc.stdout.read())
    yield url, db
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="module")
def browser():
    assert Path(CHROMIUM).exists(), f"Chromium not found at {CHROMIUM}: .ci/run installs it (apt-get install chromium)"
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


def open_map(browser, url):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    page.wait_for_selector(".leaflet-overlay-pane path", timeout=20000)
    return page, errors


def test_served_map_draws_communes_legend_tooltip_and_panel(server, browser):
    url, _ = server
    page, errors = open_map(browser, url + "/map?year=2023")
    # 106 communes + 9 district outlines
    assert page.locator(".leaflet-overlay-pane path").count() >= 106 + 9
    legend = page.locator("#ntm-legend").inner_text()
    for words in ("Năm 2023", "Chưa đạt chuẩn", "Đạt chuẩn NTM", "NTM nâng cao", "NTM kiểu mẫu", "Phường, thị trấn (không xét)"):
        assert words in legend
    assert "DỮ LIỆU MẪU" in page.locator("#ntm-banner").inner_text()
    panel = page.locator("#ntm-panel").inner_text()
    assert "/83" in panel and "mục tiêu 2025: 80,0%" in panel and "Huyện Tây Hòa" in panel
    assert "Dự báo 2025:" in panel and "xác suất đạt" in panel  # the projected share with its band, next to the target
    marks = page.locator(".ntm-moc").evaluate_all("els => els.map(e => e.getAttribute('title'))")
    assert any("Huyện Tuy An đạt chuẩn huyện nông thôn mới năm 2023 — chưa đạt" in m for m in marks)
    # hover a commune: its tooltip names it and gives the tier and criteria met
    box = page.locator(".leaflet-overlay-pane path").nth(50).bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_selector(".leaflet-tooltip", timeout=5000)
    tip = page.locator(".leaflet-tooltip").last.inner_text()
    assert ("tiêu chí" in tip) or ("Không xét NTM" in tip)
    page.screenshot(path=str(ARTIFACTS / "map-2023.png"))
    print(f"\nscreenshot: {ARTIFACTS / 'map-2023.png'}")
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
    assert "năm 2018" in page.locator("#ntm-panel").inner_text()
    page.screenshot(path=str(ARTIFACTS / "map-2018-tc17.png"))
    page.locator("#ntm-panel .ntm-toggle").click()  # the panel folds away on a small screen
    assert "collapsed" in page.locator("#ntm-panel").get_attribute("class")
    assert not page.locator("#ntm-panel .ntm-body").first.is_visible()
    assert not errors, errors


def test_popup_lists_unmet_criteria_by_name(server, browser):
    url, _ = server
    page, errors = open_map(browser, url + "/map?year=2023")
    # open the popup of a xã that misses a criterion in 2023
    props = httpx.get(url + "/api/layers/communes?year=2023").json()["features"]
    target = next(f["properties"] for f in props if f["properties"]["tieu_chi_chua_dat"])
    page.evaluate(
        "ma => { let hit; document.querySelectorAll('.leaflet-overlay-pane path'); "
        "Object.values(window).forEach(v => { if (v && v._layers) Object.values(v._layers).forEach(l => { if (l.feature && l.feature.properties.ma === ma) hit = l; }); });"
        "hit.openPopup(); }",
        target["ma"],
    )
    popup = page.locator(".leaflet-popup-content").inner_text()
    assert target["ten"] in popup and "Tiêu chí chưa đạt" in popup
    assert target["tieu_chi_chua_dat"][0]["ten"] in popup
    assert not errors, errors


def test_exported_file_works_offline(server, browser, tmp_path):
    _, db = server
    out = tmp_path / "ban-do-2023.html"
    r = subprocess.run(
        [sys.executable, "-m", "nongthon.cli", "map", "--db", str(db), "--year", "2023", "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    assert "DỮ LIỆU MẪU" in r.stdout
    html = out.read_text(encoding="utf-8")
    assert "<script src=" not in html and "stylesheet" not in html  # Leaflet inlined: no CDN needed
    page, errors = open_map(browser, out.as_uri())
    assert page.locator(".leaflet-overlay-pane path").count() >= 106
    page.screenshot(path=str(ARTIFACTS / "map-export.png"))
    assert not errors, errors
