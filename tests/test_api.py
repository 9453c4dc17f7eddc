"""The HTTP API: contents, ETag / 304 / gzip, pick-up of writes from another process, error answers."""

import json
import re
import subprocess
import sys
import time

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from api.app import create_app
from nongthon.accounts import add_user
from nongthon.reports import standard_report
from nongthon.store import Store
from tests.conftest import results_frame


@pytest.fixture
def client(mapped_store):
    app = create_app(mapped_store.engine.url.database)
    with TestClient(app) as c:
        c.db = mapped_store.engine.url.database
        yield c


def test_communes_layer_is_geojson_with_etag_and_gzip(client):
    r = client.get("/api/layers/communes", params={"year": 2023}, headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/geo+json"
    assert r.headers["content-encoding"] == "gzip" and int(r.headers["content-length"]) < len(r.content)
    assert r.headers["etag"].startswith('"')
    data = r.json()
    assert data["type"] == "FeatureCollection" and len(data["features"]) == 106
    r2 = client.get("/api/layers/communes", params={"year": 2023}, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in r2.headers and r2.json() == data


def test_if_none_match_gives_304(client):
    r = client.get("/api/layers/communes?year=2023")
    again = client.get("/api/layers/communes?year=2023", headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == r.headers["etag"]
    other = client.get("/api/layers/communes?year=2022", headers={"If-None-Match": r.headers["etag"]})
    assert other.status_code == 200


def test_an_import_from_the_cli_is_picked_up_without_restart(client, tmp_path):
    r = client.get("/api/layers/communes?year=2023")
    before = {f["properties"]["ma"]: f["properties"] for f in r.json()["features"]}["22303"]
    csv = tmp_path / "fix.csv"
    csv.write_text("ma_xa,nam,bo_tieu_chi,tieu_chi,ket_qua\n22303,2023,ntm,11,khong_dat\n", encoding="utf-8")
    out = subprocess.run(
        [sys.executable, "-m", "nongthon.cli", "import", str(csv), "--db", client.db], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    r2 = client.get("/api/layers/communes?year=2023", headers={"If-None-Match": r.headers["etag"]})
    assert r2.status_code == 200 and r2.headers["etag"] != r.headers["etag"]
    after = {f["properties"]["ma"]: f["properties"] for f in r2.json()["features"]}["22303"]
    assert after["so_tieu_chi_dat"] == before["so_tieu_chi_dat"] - 1 and after["trang_thai_tieu_chi"]["11"] == "khong_dat"


def test_criterion_and_as_of_parameters(client):
    r = client.get("/api/layers/communes", params={"year": 2023, "criterion": 17})
    assert all(f["properties"]["tieu_chi"] == "17" for f in r.json()["features"])
    r = client.get("/api/layers/communes", params={"year": 2023, "as_of": "2001-01-01T00:00:00Z"})
    assert all(f["properties"]["hang"] is None for f in r.json()["features"])
    full = client.get("/api/layers/communes", params={"year": 2023, "detail": "full"})
    assert len(full.content) > 2 * len(client.get("/api/layers/communes", params={"year": 2023}).content)


def test_districts_summary_and_commune_details(client, mapped_store, province):
    d = client.get("/api/layers/districts?year=2023").json()
    assert len(d["features"]) == 9 and d["features"][0]["geometry"]["type"] in ("Polygon", "MultiPolygon")
    s = client.get("/api/summary?year=2023").json()
    rep = standard_report(mapped_store.current_results(years=[2023]), province, 2023).table
    assert s["du_lieu_mau"] is True and s["xa_chinh_thuc"] == 83
    assert [row["dat_ntm"] for row in s["don_vi"]] == rep["dat_ntm"].tolist()
    assert len(s["tieu_chi"]) == 19
    c = client.get("/api/communes/22303").json()
    assert c["ten"] == "Xã Hòa Quang Bắc" and [y["nam"] for y in c["cac_nam"]] == list(range(2016, 2026))
    assert all(0 <= y["so_tieu_chi_dat"] <= 19 for y in c["cac_nam"])
    p = client.get("/api/communes/22015").json()
    assert p["du_dieu_kien"] is False and p["cac_nam"] == []


@pytest.mark.parametrize(
    ("url", "status", "needle"),
    [
        ("/api/layers/communes?year=2031", 404, "2016–2021 (qd1980-2016), 2022–2025 (qd318-2022)"),
        ("/api/layers/communes?year=2023&criterion=25", 404, "chọn 1–19"),
        ("/api/layers/communes?year=abc", 422, "tham số year='abc': phải là số nguyên"),
        ("/api/layers/communes?year=2023&detail=huge", 422, "chọn: default, full"),
        ("/api/layers/communes?year=2023&as_of=yesterday", 422, "phải là thời điểm ISO 8601"),
        ("/api/layers/districts?year=1999", 404, "Năm 1999 không thuộc bộ tiêu chí nào"),
        ("/api/communes/99999", 404, "mã gồm 5 chữ số"),
        ("/api/communes/563", 404, "Không có xã/phường/thị trấn mã '563'"),
        ("/api/summary?year=2015", 404, "các năm được hỗ trợ"),
        ("/api/khong-co", 404, "Không có đường dẫn /api/khong-co"),
        ("/api/communes/22303/khong-co", 404, "Không có đường dẫn /api/communes/22303/khong-co"),
        ("/ogc/khong-co", 404, "Không có đường dẫn /ogc/khong-co"),
    ],
)
def test_errors_say_what_is_allowed(client, url, status, needle):
    r = client.get(url)
    assert r.status_code == status and r.headers["content-type"] == "application/json"
    assert needle in r.json()["loi"], r.json()


def test_a_wrong_method_is_405_with_every_allowed_method(client):
    r = client.post("/api/summary")
    assert r.status_code == 405 and r.headers["allow"] == "GET"
    assert r.json() == {"loi": "Phương thức POST không dùng được cho /api/summary; chỉ dùng: GET."}
    r = client.delete("/api/communes/22303/assessments/2024")  # GET and PUT are two routes on one path
    assert r.status_code == 405 and r.headers["allow"] == "GET, PUT" and "chỉ dùng: GET, PUT" in r.json()["loi"]


@pytest.mark.parametrize(
    ("method", "url", "status", "needle"),
    [
        ("GET", "/map?year=1999", 404, "Năm 1999 không thuộc bộ tiêu chí nào"),
        ("GET", "/map?year=2040", 404, "các năm được hỗ trợ"),
        ("GET", "/map?year=abc", 422, "phải là số nguyên"),
        ("GET", "/trang-khong-co", 404, "Không có đường dẫn /trang-khong-co"),
        ("POST", "/map", 405, "Phương thức POST không dùng được cho /map; chỉ dùng: GET."),
    ],
)
def test_pages_answer_errors_with_a_vietnamese_html_page(client, method, url, status, needle):
    r = client.request(method, url)
    assert r.status_code == status and r.headers["content-type"] == "text/html; charset=utf-8"
    assert r.text.startswith("<!DOCTYPE html>") and '<html lang="vi">' in r.text and f"<title>Lỗi {status}" in r.text
    assert needle in r.text and '<a href="/map">' in r.text and '{"loi"' not in r.text


def test_the_error_page_escapes_what_the_user_typed(client):
    r = client.get("/<script>alert(1)</script>")
    assert r.status_code == 404 and "<script>" not in r.text
    assert "Không có đường dẫn /&lt;script&gt;alert(1)&lt;/script&gt;" in r.text


def test_an_unforeseen_error_is_500_in_the_same_form(mapped_store, monkeypatch):
    monkeypatch.setattr("nongthon.entries.history", lambda *_: 1 / 0)
    with TestClient(create_app(mapped_store.engine.url.database), raise_server_exceptions=False) as c:
        r = c.get("/api/communes/22303/history")
    assert r.status_code == 500 and r.json()["loi"].startswith("Lỗi máy chủ") and "ZeroDivision" not in r.text


def test_map_page_and_docs(client):
    r = client.get("/map?year=2023")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "DỮ LIỆU MẪU" in r.text and "<script src=" not in r.text
    assert client.get("/", follow_redirects=False).headers["location"] == "/map"
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/layers/communes", "/api/layers/districts", "/api/communes/{code}", "/api/summary", "/map"} <= set(paths)


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_load_their_assets_from_this_server(client, page):
    html = client.get(page).text
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any(a.endswith(".js") for a in assets)
    assert not [a for a in assets if "//" in a], assets  # no CDN, no fonts from elsewhere
    for a in assets:
        assert client.get(a).status_code == 200, a


def test_library_never_imports_fastapi():
    code = (
        "import sys, nongthon.cli, nongthon.layers, nongthon.maps, nongthon.boundaries, nongthon.imports, nongthon.reports;"
        "assert 'fastapi' not in sys.modules and 'starlette' not in sys.modules, 'fastapi imported'"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_default_year_is_the_latest_with_data(client):
    assert client.get("/api/layers/communes").json()["nam"] == 2025


def test_empty_database_serves_the_schematic_map(tmp_path):
    with TestClient(create_app(tmp_path / "empty.db")) as c:
        data = c.get("/api/layers/communes?year=2023").json()
        assert data["ranh_gioi"]["so_do_minh_hoa"] is True and data["du_lieu_mau"] is False
        assert all(f["properties"]["co_so_lieu"] is False for f in data["features"])
        page = c.get("/map").text
        assert "Sơ đồ minh họa — chưa phải ranh giới chính thức" in page and "DỮ LIỆU MẪU" not in json.dumps(data)
    Store.open(tmp_path / "empty.db").close()


def test_progress_and_projections(client):
    p = client.get("/api/progress?year=2023").json()
    assert p["mau_so"] == 83 and p["bo_muc_tieu"][0]["muc_tieu"][0]["so_xa"] == 63
    r = client.get("/api/projections", params={"horizon": 2025, "runs": 200, "start_year": 2023})
    assert r.status_code == 200
    data = r.json()
    ids = {m["ma"] for m in data["muc_tieu"]}
    assert {"xa_ntm_2025", "xa_nang_cao_2025", "xa_kieu_mau_2025", "tuy_an_huyen_ntm_2023", "qg_khong_xa_duoi_15"} <= ids
    assert all(set(m) >= {"ma", "mo_ta", "xac_suat"} for m in data["muc_tieu"])
    assert [y["nam"] for y in data["theo_nam"]] == [2024, 2025] and len(data["xa"]) == 82
    again = client.get(
        "/api/projections", params={"horizon": 2025, "runs": 200, "start_year": 2023}, headers={"If-None-Match": r.headers["etag"]}
    )
    assert again.status_code == 304  # cached per version of the data
    default = client.get("/api/projections?runs=50").json()  # from the last year with data before the horizon (README)
    assert default["nam_bat_dau"] == 2024 and [y["nam"] for y in default["theo_nam"]] == [2025]
    assert client.get("/api/projections?runs=0").status_code == 422
    assert "phải từ" in client.get("/api/projections?horizon=2060").json()["loi"]


def test_projection_runs_are_capped_without_a_token_and_the_horizon_by_the_catalogues(client, province):
    store = Store.open(client.db)
    editor = add_user(store, province.registry, "Biên tập tỉnh", "editor")
    viewer = add_user(store, province.registry, "Người xem", "viewer")
    store.close()
    params = {"runs": 5000, "start_year": 2024, "horizon": 2025}
    anonymous = client.get("/api/projections", params=params)
    loi = anonymous.json()["loi"]
    assert anonymous.status_code == 422 and "runs=5000" in loi and "2000" in loi and "mã truy cập" in loi and "10000" in loi
    assert client.get("/api/projections", params=params, headers={"Authorization": f"Bearer {viewer}"}).status_code == 422
    assert client.get("/api/projections", params={**params, "runs": 2000}).status_code == 200  # the cap itself is allowed
    ok = client.get("/api/projections", params=params, headers={"Authorization": f"Bearer {editor}"})
    assert ok.status_code == 200 and ok.json()["so_lan_mo_phong"] == 5000
    over = client.get("/api/projections", params={**params, "runs": 10001}, headers={"Authorization": f"Bearer {editor}"})
    assert over.status_code == 422 and "10000" in over.json()["loi"]
    assert client.get("/api/projections", params=params, headers={"Authorization": "Bearer sai"}).status_code == 401
    # the catalogues (2016–2025) and the target sets (2021–2025) end in 2025: no horizon after it
    for horizon in (2026, 2040):
        r = client.get("/api/projections", params={"horizon": horizon, "runs": 10})
        assert r.status_code == 422 and f"horizon={horizon}" in r.json()["loi"] and "đến 2025" in r.json()["loi"]
    r = client.get("/api/projections", params={"horizon": 2022, "start_year": 2023, "runs": 10})
    assert r.status_code == 422 and "phải từ 2023 (năm bắt đầu) đến 2025" in r.json()["loi"]


def version_reads(engine: sa.Engine) -> list[str]:
    """The queries of the change counters (Store.data_version) run on ``engine`` from now on, as they run."""
    seen: list[str] = []

    def count(conn, cursor, statement, *_) -> None:  # noqa: ANN001 - SQLAlchemy's event signature
        if "FROM changes" in statement:
            seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", count)
    return seen


def features(r) -> dict:
    return {f["properties"]["ma"]: f["properties"] for f in r.json()["features"]}


def test_cached_reads_skip_the_database_and_a_write_through_the_api_is_seen_at_the_next_request(client, mapped_store, province):
    """Cached reads ask the database for its data version at most every 0.25 s (not once per request), yet a
    write through this server is seen by the very next request; an answer repeated from memory is the route's."""
    url = "/api/layers/communes?year=2023"
    first = client.get(url, headers={"Accept-Encoding": "gzip"})
    page = client.get("/map?year=2023")
    before = features(first)["22303"]
    assert before["trang_thai_tieu_chi"]["11"] == "dat"
    reads = version_reads(client.app.state.store.engine)
    start = time.monotonic()
    for _ in range(20):
        assert client.get(url, headers={"If-None-Match": first.headers["etag"]}).status_code == 304
        assert client.get("/api/summary?year=2023").status_code == 200
    again = client.get(url, headers={"Accept-Encoding": "gzip"})
    page_again = client.get("/map?year=2023")
    elapsed = time.monotonic() - start
    assert len(reads) <= 1 + elapsed / 0.25, f"{len(reads)} reads of the data version for 42 requests in {elapsed:.2f} s"
    for one, other in ((first, again), (page, page_again)):  # same bytes, same headers (the page's policy included)
        assert one.content == other.content and {k: v for k, v in one.headers.items() if k != "date"} == {
            k: v for k, v in other.headers.items() if k != "date"
        }
    assert "sha256-" in page_again.headers["content-security-policy"] and page_again.headers["x-content-type-options"] == "nosniff"

    token = add_user(mapped_store, province.registry, "Văn phòng điều phối", "editor")
    tag = client.get("/api/communes/22303/assessments/2023").headers["etag"]
    body = {"ket_qua": [{"bo_tieu_chi": "ntm", "tieu_chi": "11", "ket_qua": "khong_dat"}], "nguon": "Biên bản kiểm tra"}
    put = client.put("/api/communes/22303/assessments/2023", json=body, headers={"Authorization": f"Bearer {token}", "If-Match": tag})
    assert put.status_code == 200, put.text
    after = client.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert after.status_code == 200 and after.headers["etag"] != first.headers["etag"]
    p = features(after)["22303"]
    assert p["trang_thai_tieu_chi"]["11"] == "khong_dat" and p["so_tieu_chi_dat"] == before["so_tieu_chi_dat"] - 1


def test_a_write_by_another_process_is_seen_within_a_quarter_second(client):
    """A write through another Store on the same database file (as the CLI or another worker makes) is seen by
    every request made 0.3 s after it, and not necessarily before."""
    url = "/api/layers/communes?year=2023"
    first = client.get(url)
    before = features(first)["22303"]
    assert before["trang_thai_tieu_chi"]["11"] == "dat"
    other = Store.open(client.db)
    other.write_results(results_frame([dict(unit="22303", year=2023, item="11", met=False)]), source="CLI", author="t")
    written = time.monotonic()
    other.close()
    early = client.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert early.status_code in (200, 304)  # either: the server may not know yet
    time.sleep(max(0.0, written + 0.3 - time.monotonic()))
    for _ in range(3):
        r = client.get(url, headers={"If-None-Match": first.headers["etag"]})
        assert r.status_code == 200 and r.headers["etag"] != first.headers["etag"]
        p = features(r)["22303"]
        assert p["trang_thai_tieu_chi"]["11"] == "khong_dat" and p["so_tieu_chi_dat"] == before["so_tieu_chi_dat"] - 1
