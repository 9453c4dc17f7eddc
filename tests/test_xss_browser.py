"""Stored text is data, never markup (issue 9, item 1). Hostile strings are written through every field a user
or a file can write — a recognition's decision number and note, an assessment's source and note, an account's
name, an import's note and file name, a boundary file's unit names and file name — and then, in a real headless
Chromium, the map is opened and each touched xã hovered and clicked, the commune's history is shown by the API
page (/docs) and as a raw document, and an error page repeats a hostile path. No dialog may open, every one of
the 106 commune polygons must be drawn, and no Content-Security-Policy violation may be reported (nothing needed
blocking, and the page's own code, folium's included, runs under the policy); the same holds with the policy
stripped (page.route), so the pages are safe without it. Headers: nosniff everywhere, a policy and a frame policy
on every HTML response, and a policy that does block an inline script and an inline event handler."""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import geopandas as gpd
import httpx
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from shapely.geometry import box

from api.app import create_app
from nongthon.accounts import add_user
from nongthon.boundaries import import_boundaries
from nongthon.province import load_province
from nongthon.store import Store
from tests.live import chromium, serving

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
ARTIFACTS = ROOT / "test-artifacts"
# in this order over the xã (the page's data lists them by code): were the data not escaped, the first would end
# its element and run a script, rather than the second keep it open to the end (the tokenizer's escaped states)
HOSTILE = [
    "</script><script>alert(1)</script>",
    "12/QĐ <!--<script>",
    "<img src=x onerror=alert(1)>",
    '"><svg onload=alert(1)>',
    "\u2028\u2029",
    "javascript:alert(1)",
]
YEAR = 2023
BOUNDARY_FILE = '"><svg onload=alert(1)>\u2028\u2029.geojson'
VIEW = {"width": 1600, "height": 1000}
# record every CSP violation the page reports, from its first script on
WATCH = "window.__csp = []; document.addEventListener('securitypolicyviolation', e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"
MAP = "Object.values(window).find(v => v instanceof L.Map)"
# a point of a xã's polygon that the pointer reaches (not covered by the panel, a neighbour or a control)
POINT_IN = (
    "ma => { const map = " + MAP + "; let hit = null;"
    " map.eachLayer(l => { if (l.feature && l.feature.properties.ma === ma && l._path) hit = l; });"
    " const find = () => { const r = hit._path.getBoundingClientRect();"
    "  for (let i = 1; i < 24; i++) for (let j = 1; j < 24; j++) { const x = r.left + r.width * i / 24, y = r.top + r.height * j / 24;"
    "   if (document.elementFromPoint(x, y) === hit._path) return [x, y]; } return null; };"
    " let p = find(); if (!p) { map.setView(hit.getCenter(), map.getZoom() + 1, {animate: false}); p = find(); } return p; }"
)
# commune polygons drawn: the Leaflet layers of commune-level units whose SVG path is in the document
DRAWN = (
    "() => { const seen = new Set(); " + MAP + ".eachLayer(l => { if (l.feature && 'du_dieu_kien' in l.feature.properties"
    " && l._path && l._path.isConnected && l._path.getAttribute('d')) seen.add(l.feature.properties.ma); }); return seen.size; }"
)
# what markup would leave behind if some text were parsed as HTML: handlers, javascript: links, injected elements
INJECTED = (
    "() => [...document.querySelectorAll('*')].filter(e => [...e.attributes].some(a => a.name.startsWith('on')"
    " || /^\\s*javascript:/i.test(a.value)) || (e.tagName === 'IMG' && e.getAttribute('src') === 'x')).map(e => e.outerHTML.slice(0, 80))"
)
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201a7f5e1e60000000049454e44ae426082"
)


def flip(current: dict, item: str) -> str:
    """The opposite of the stored result of criterion ``item`` (met when there is none), so the write changes it."""
    now = next(
        (r["ket_qua"] for r in current["ket_qua"] if r["bo_tieu_chi"] == "ntm" and r["cap"] == "criterion" and r["tieu_chi"] == item), None
    )
    return "khong_dat" if now == "dat" else "dat"


def hostile_boundaries(folder: Path) -> Path:
    """The real Phú Yên communes, matched by code, with hostile names in the name column for six of them and one
    more feature (an unknown code) with a hostile name, in a file whose name is markup."""
    gdf = gpd.read_file(SHARED / "geodata" / "phu_yen_pre2025.gpkg", layer="communes")[["gso_code", "name", "geometry"]]
    gdf = gdf.rename(columns={"name": "ten"})
    for i, text in enumerate(HOSTILE):
        gdf.loc[i, "ten"] = text
    extra = gpd.GeoDataFrame({"gso_code": ["99999"], "ten": [HOSTILE[0]]}, geometry=[box(110.0, 15.0, 110.01, 15.01)], crs=gdf.crs)
    path = folder / BOUNDARY_FILE
    gpd.GeoDataFrame(pd.concat([gdf, extra], ignore_index=True), crs=gdf.crs).to_file(path, driver="GeoJSON")
    return path


@pytest.fixture(scope="module")
def hostile(mapped_db, tmp_path_factory):
    """A served database where every writable field holds the hostile strings; the xã touched, one per string."""
    folder = tmp_path_factory.mktemp("xss")
    db = folder / "xss.db"
    shutil.copy(mapped_db, db)
    province = load_province()
    store = Store.open(db)
    report = import_boundaries(store, province.registry, hostile_boundaries(folder), author="kiểm thử")
    assert report.matched == 106 and [u["value"] for u in report.unmatched] == [HOSTILE[0]]
    # text of white space only would be no decision number nor note at all: there it stands between two words
    texts = [text if text.strip() else f"QĐ{text}{i}" for i, text in enumerate(HOSTILE)]
    tokens = [add_user(store, province.registry, text, "admin") for text in texts]  # the account names
    store.close()
    with serving(db) as url:
        layer = httpx.get(url + f"/api/layers/communes?year={YEAR}", timeout=120).json()["features"]
        pool = [f["properties"]["ma"] for f in layer if f["properties"]["du_dieu_kien"] and f["properties"]["hang_cong_nhan"] is None]
        chosen = pool[:: len(pool) // len(HOSTILE)][: len(HOSTILE)]  # spread over the province
        assert len(chosen) == len(HOSTILE)
        for ma, text, token in zip(chosen, texts, tokens):
            auth = {"Authorization": f"Bearer {token}"}
            r = httpx.post(
                url + "/api/recognitions",
                json={"ma": ma, "hang": "ntm", "so_quyet_dinh": text, "ngay": f"{YEAR}-06-01", "ghi_chu": text},
                headers=auth,
                timeout=60,
            )
            assert r.status_code == 201, r.text
            current = httpx.get(url + f"/api/communes/{ma}/assessments/{YEAR}", timeout=60).json()
            csv = f"ma_xa,nam,bo_tieu_chi,tieu_chi,ket_qua\n{ma},{YEAR},ntm,16,{flip(current, '16')}\n"
            r = httpx.post(
                url + "/api/imports",
                params={"ghi_chu": text},
                files={"tep": (f"{text}.csv", csv.encode(), "text/csv")},
                headers=auth,
                timeout=60,
            )
            assert r.status_code == 200 and r.json()["tom_tat"]["thay_doi"] + r.json()["tom_tat"]["moi"] == 1, r.text
            got = httpx.get(url + f"/api/communes/{ma}/assessments/{YEAR}", timeout=60)
            items = [{"bo_tieu_chi": "ntm", "tieu_chi": "17", "ket_qua": flip(got.json(), "17")}]
            r = httpx.put(
                url + f"/api/communes/{ma}/assessments/{YEAR}",
                json={"ket_qua": items, "nguon": text, "ghi_chu": text},
                headers={**auth, "If-Match": got.headers["ETag"]},
                timeout=60,
            )
            assert r.status_code == 200, r.text
        yield url, db, dict(zip(chosen, texts))


@pytest.fixture(scope="module")
def browser():
    ARTIFACTS.mkdir(exist_ok=True)
    with chromium() as b:
        yield b


def strip_policy(route):
    """The response without its Content-Security-Policy: the header and the page's own <meta> both gone."""
    response = route.fetch()
    drop = {"content-security-policy", "content-encoding", "content-length"}
    headers = {k: v for k, v in response.headers.items() if k.lower() not in drop}
    body = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", response.text())
    route.fulfill(status=response.status, headers=headers, body=body)


def new_page(browser, url: str, with_policy: bool):
    """A page that records dialogs, script errors and CSP violations; without the policy when asked."""
    page = browser.new_page(viewport=VIEW)
    seen = {"dialogs": [], "errors": []}
    page.on("dialog", lambda d: (seen["dialogs"].append(d.message), d.dismiss()))
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))
    page.on("console", lambda m: seen["errors"].append(m.text) if "Content Security Policy" in m.text else None)
    page.add_init_script(WATCH)
    if not with_policy:
        page.route(url + "/**", strip_policy)
    return page, seen


def check_clean(page, seen: dict, with_policy: bool) -> None:
    assert seen["dialogs"] == [], seen
    assert seen["errors"] == [], seen
    assert page.evaluate("window.__csp") == []  # nothing had to be blocked
    assert page.evaluate(INJECTED) == []
    has_meta = page.evaluate("() => !!document.querySelector('meta[http-equiv=\"Content-Security-Policy\"]')")
    assert has_meta == (with_policy and "/map" in page.url)


def words(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("with_policy", [True, False], ids=["with-csp", "csp-stripped"])
def test_map_shows_hostile_text_as_text(hostile, browser, with_policy):
    url, _, touched = hostile
    page, seen = new_page(browser, url, with_policy)
    tiles = []
    page.route("https://tile.openstreetmap.org/**", lambda r: (tiles.append(r.request.url), r.fulfill(body=PNG, content_type="image/png")))
    page.goto(url + f"/map?year={YEAR}")
    page.wait_for_selector(".leaflet-overlay-pane path", timeout=60000)
    assert page.evaluate(DRAWN) == 106
    for ma, text in touched.items():
        x, y = page.evaluate(POINT_IN, ma)
        page.mouse.move(x, y)
        tip = page.locator(".leaflet-tooltip")
        tip.last.wait_for(timeout=5000)
        assert set(tip.last.locator("*").evaluate_all("es => es.map(e => e.tagName)")) == {"DIV", "B", "BR"}  # name, tier, criteria
        page.mouse.click(x, y)
        popup = page.locator(".leaflet-popup-content")
        popup.wait_for(timeout=5000)
        assert f"Quyết định số {words(text)}, ngày 01/06/{YEAR}" in words(popup.inner_text())
        assert popup.locator("img, svg, script, a").count() == 0
        page.evaluate(f"() => {MAP}.closePopup()")
    page.select_option("#ntm-year", str(YEAR - 1))  # redraw everything for another year, then back
    page.select_option("#ntm-year", str(YEAR))
    assert page.evaluate(DRAWN) == 106
    # the OpenStreetMap background still loads (the tile host is allowed; the route stands in for the internet)
    page.locator(".leaflet-control-layers").hover()
    page.locator(".leaflet-control-layers label", has_text="Nền OpenStreetMap").click()
    page.wait_for_selector("img.leaflet-tile-loaded", timeout=10000)
    assert tiles
    if with_policy:
        shot = ARTIFACTS / "map-hostile-text.png"
        page.screenshot(path=str(shot))
        print(f"\nscreenshot: {shot}")
    check_clean(page, seen, with_policy)
    page.close()


@pytest.mark.parametrize("with_policy", [True, False], ids=["with-csp", "csp-stripped"])
def test_history_shows_hostile_text_as_text(hostile, browser, with_policy):
    """Each xã's history holds the strings as written (decision, notes, sources, import file, account), and
    the API page (/docs, Swagger UI's "Try it out") and the browser's own view of the document show them as text."""
    url, _, touched = hostile
    page, seen = new_page(browser, url, with_policy)
    page.goto(url + "/docs#/default/commune_history_api_communes__code__history_get")
    op = page.locator("#operations-default-commune_history_api_communes__code__history_get")
    op.locator("button.try-out__btn").click(timeout=30000)
    for ma, text in touched.items():
        history = httpx.get(url + f"/api/communes/{ma}/history", timeout=60).json()
        # stored as written (white space runs made one space, as every text coming in)
        decision, edit, imported = history["quyet_dinh"][0], history["thay_doi"][0], history["thay_doi"][1]
        assert {words(decision[k]) for k in ("so_quyet_dinh", "ghi_chu", "nguoi_nhap")} == {words(text)}
        assert edit["tieu_chi"] == "17" and {words(edit[k]) for k in ("nguon", "ghi_chu", "nguoi_nhap")} == {words(text)}
        assert imported["tieu_chi"] == "16" and {words(imported[k]) for k in ("ghi_chu", "nguoi_nhap")} == {words(text)}
        sent = text.replace('"', "%22")  # a form's file name, as multipart writes it (WHATWG HTML, multipart/form-data)
        assert words(imported["nguon"]).startswith(words(f"{sent}.csv (sha256 "))
        op.locator("input[placeholder='code']").fill(ma)
        op.locator("button.execute").click()
        body = op.locator(".live-responses-table .response-col_description pre").first
        body.wait_for(timeout=10000)
        page.wait_for_function(
            f"() => document.querySelector('#operations-default-commune_history_api_communes__code__history_get .live-responses-table pre').textContent.includes('{ma}')"
        )
        shown = body.text_content()
        assert json.loads(shown) == history  # the document, shown as its text
        assert op.locator(".live-responses-table pre img, .live-responses-table pre svg").count() == 0
    check_clean(page, seen, with_policy)
    for ma in touched:  # the document itself, opened in the browser
        page.goto(url + f"/api/communes/{ma}/history")
        assert json.loads(page.locator("body").inner_text()) == httpx.get(url + f"/api/communes/{ma}/history", timeout=60).json()
        check_clean(page, seen, with_policy)
    page.close()


@pytest.mark.parametrize("with_policy", [True, False], ids=["with-csp", "csp-stripped"])
def test_error_page_repeats_a_hostile_path_as_text(hostile, browser, with_policy):
    url, _, _ = hostile
    page, seen = new_page(browser, url, with_policy)
    for text in HOSTILE:
        r = page.goto(url + "/" + quote(text))
        assert r.status == 404
        assert words(f"Không có đường dẫn /{text};") in words(page.locator("p.loi").inner_text())
        check_clean(page, seen, with_policy)
    page.close()


def test_map_page_data_holds_the_boundary_file_name_as_data(hostile):
    """The boundary file's name reaches the page only inside its JSON data (escaped), and the names in its name
    column reach it nowhere: the map names units from the registry."""
    url, _, _ = hostile
    html = httpx.get(url + f"/map?year={YEAR}", timeout=120).text
    raw = re.search(r'<script type="application/json" id="ntm-data">(.*?)</script>', html, re.S).group(1)
    assert not set(raw) & set("<>&\u2028\u2029")  # nothing in the data can end its element or start markup
    data = json.loads(raw)
    assert data["nguon_ranh_gioi"].startswith(BOUNDARY_FILE)  # the text itself, read back from the escaped JSON
    assert all(f["properties"]["ten"] not in HOSTILE for f in data["communes"]["features"])


@pytest.mark.parametrize("with_policy", [True, False], ids=["with-csp", "csp-stripped"])
def test_exported_file_is_safe_and_carries_its_policy(hostile, browser, tmp_path, with_policy):
    """``nongthon map -o``: the file has its policy in a <meta> (no server sends it headers); it draws every
    polygon and shows the decisions as text with the policy and with the <meta> removed."""
    _, db, touched = hostile
    out = tmp_path / "ban-do.html"
    r = subprocess.run(
        [sys.executable, "-m", "nongthon.cli", "map", "--db", str(db), "--year", str(YEAR), "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    text = out.read_text(encoding="utf-8")
    assert text.index('<meta http-equiv="Content-Security-Policy"') < text.index("<script")
    if not with_policy:
        out.write_text(re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", text), encoding="utf-8")
    page, seen = new_page(browser, "file://", True)
    page.goto(out.as_uri())
    page.wait_for_selector(".leaflet-overlay-pane path", timeout=60000)
    assert page.evaluate(DRAWN) == 106
    popup_text = (
        f"ma => {{ let hit; {MAP}.eachLayer(l => {{ if (l.feature && l.feature.properties.ma === ma) hit = l; }}); hit.openPopup();"
        " const text = hit.getPopup().getElement().querySelector('.leaflet-popup-content').innerText; hit.closePopup(); return text; }"
    )
    for ma, written in touched.items():
        assert words(f"Quyết định số {written}, ngày 01/06/{YEAR}") in words(page.evaluate(popup_text, ma))
    assert seen["dialogs"] == [] and seen["errors"] == [] and page.evaluate("window.__csp") == [] and page.evaluate(INJECTED) == []
    page.close()


def test_policy_blocks_an_inline_script_and_handler(hostile, browser):
    """The map's policy is not for show: a script and an event handler slipped into the page (as if some text
    had become markup) are blocked and reported, while the page's own scripts still draw the map."""
    url, _, _ = hostile
    page, seen = new_page(browser, url, True)

    def inject(route):
        response = route.fetch()
        headers = {k: v for k, v in response.headers.items() if k.lower() not in ("content-encoding", "content-length")}
        body = response.text().replace("<body>", "<body><script>window.__pwned = 1</script><img src=x onerror='window.__pwned = 2'>", 1)
        route.fulfill(status=response.status, headers=headers, body=body)

    page.route(url + "/map*", inject)
    page.goto(url + f"/map?year={YEAR}")
    page.wait_for_selector(".leaflet-overlay-pane path", timeout=60000)
    page.wait_for_timeout(500)
    assert page.evaluate("window.__pwned") is None
    assert page.evaluate(DRAWN) == 106
    blocked = page.evaluate("window.__csp")
    assert any(v.startswith("script-src") for v in blocked) and len(blocked) >= 2, blocked
    page.close()


def test_security_headers_on_every_response(hostile):
    url, _, touched = hostile
    ma = next(iter(touched))
    frame = "frame-ancestors 'self'"
    for path in ("/map", f"/map?year={YEAR}", "/docs", "/redoc", "/docs/oauth2-redirect", "/khong-co", "/map?year=1900"):
        r = httpx.get(url + path, timeout=120)
        assert r.headers["content-type"].startswith("text/html"), path
        policy = r.headers["content-security-policy"]
        assert r.headers["x-content-type-options"] == "nosniff" and r.headers["x-frame-options"] == "SAMEORIGIN", path
        assert frame in policy and "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0], (path, policy)
        assert "unsafe-eval" not in policy, path
    for method, path in (
        ("GET", "/api/summary"),
        ("GET", f"/api/communes/{ma}/history"),
        ("POST", "/api/recognitions"),
        ("GET", "/openapi.json"),
    ):
        r = httpx.request(method, url + path, timeout=60)
        assert r.headers["content-type"].startswith("application/json") and r.headers["x-content-type-options"] == "nosniff", path
    r = httpx.get(url + "/static-offline-docs/swagger-ui-bundle.js", timeout=60)
    assert r.headers["x-content-type-options"] == "nosniff"


def test_unforeseen_error_page_carries_the_headers(tmp_path):
    """The 500 page is sent by Starlette's outermost error middleware: the headers must reach it too."""
    app = create_app(tmp_path / "e.db")

    def boom():
        raise RuntimeError("boom")

    app.add_api_route("/hong", boom)
    r = TestClient(app, raise_server_exceptions=False).get("/hong")
    assert r.status_code == 500 and r.headers["content-type"].startswith("text/html")
    assert r.headers["x-content-type-options"] == "nosniff" and r.headers["x-frame-options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in r.headers["content-security-policy"]
