"""OGC API – Features at /ogc, read by clients nobody here wrote — GDAL's OAPIF driver (ogrinfo) and OWSLib — on a live
server with the sample; and the paging, filters, errors, encodings and caching through the FastAPI TestClient.

Oracles: the registry (how many units, their codes and centre points), the real boundaries in ../shared (which
communes a box meets), hand-computed page arithmetic, the OGC conformance URIs as the standard spells them, and
openapi-spec-validator for the OpenAPI 3.0 document."""

from __future__ import annotations

import csv
import math
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import geopandas as gpd
import pytest
import shapely
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from nongthon import ogc
from nongthon.cli import main as cli_main
from nongthon.province import load_province
from nongthon.store import Store
from nongthon.units import load_registry
from tests.conftest import SHARED
from tests.live import start_server, stop_server

GEODATA = Path(__file__).resolve().parents[1] / "geodata"
REGISTRY = load_registry("54", "cu")
COMMUNES = set(REGISTRY.communes().index)  # 106 commune-level units of Phú Yên before 1 July 2025
DISTRICTS = set(REGISTRY.districts().index)  # 9
KNOWN = "22303"  # Xã Hòa Quang Bắc
SAMPLE_WORDS = "DỮ LIỆU MẪU"
SCHEMATIC_WORDS = "Sơ đồ minh họa"
CONFORMANCE = {
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
}


def around(code: str, half: float = 0.002) -> tuple[float, float, float, float]:
    """A small box (west, south, east, north) around a unit's centre point in the registry."""
    u = REGISTRY.units.loc[code]
    return (u["lon"] - half, u["lat"] - half, u["lon"] + half, u["lat"] + half)


# ---------------------------------------------------------------------------------------------- live server


@pytest.fixture(scope="module")
def live(sample_db, tmp_path_factory):
    """`nongthon serve` on a copy of the sample (schematic boundaries); its URL, and its log once stopped."""
    db = tmp_path_factory.mktemp("ogc-live") / "sample.db"
    shutil.copy(sample_db, db)
    proc, url = start_server(db)
    try:
        yield url
    finally:
        stop_server(proc)


def ogrinfo(*args: str) -> subprocess.CompletedProcess:
    """ogrinfo from Debian's gdal-bin; without it the test fails with one line saying what to install."""
    exe = shutil.which("ogrinfo") or ("/usr/bin/ogrinfo" if Path("/usr/bin/ogrinfo").exists() else None)
    if exe is None:
        pytest.fail("ogrinfo (GDAL) not found at /usr/bin/ogrinfo nor on the PATH: apt-get install gdal-bin", pytrace=False)
    return subprocess.run([exe, *args], capture_output=True, text=True, timeout=120)


def fetched(stderr: str) -> list[dict[str, str]]:
    """The query of every items request GDAL made (its CPL_DEBUG lines)."""
    return [dict(parse_qsl(urlsplit(u).query)) for u in re.findall(r"HTTP: Fetch\((\S+/items\S*)\)", stderr)]


def test_gdal_lists_both_collections_with_their_counts_and_the_flags_it_used_to_lose(live):
    out = ogrinfo("-ro", "-al", "-so", f"OAPIF:{live}/ogc")
    assert out.returncode == 0, out.stderr
    layers = re.split(r"\nLayer name: ", "\n" + out.stdout)[1:]
    by_name = {block.split("\n", 1)[0]: block for block in layers}
    assert set(by_name) == {"communes", "districts"}
    assert f"Feature Count: {len(COMMUNES)}" in by_name["communes"]
    assert f"Feature Count: {len(DISTRICTS)}" in by_name["districts"]
    for block in by_name.values():
        description = re.search(r"DESCRIPTION=(.*)", block).group(1)
        assert SAMPLE_WORDS in description and SCHEMATIC_WORDS in description
        # and on every feature, as fields GDAL reads
        for field in ("du_lieu_mau: Integer(Boolean)", "nhan_du_lieu_mau: String", "ranh_gioi_so_do_minh_hoa: Integer(Boolean)"):
            assert field in block
    assert "so_tieu_chi_dat: Integer" in by_name["communes"] and "dat_ntm: Integer" in by_name["districts"]
    # the extent is Phú Yên's (lon 108.6–109.5, lat 12.7–13.8)
    x0, y0, x1, y1 = map(float, re.search(r"Extent: \(([\d.]+), ([\d.]+)\) - \(([\d.]+), ([\d.]+)\)", by_name["communes"]).groups())
    assert 108.5 < x0 < x1 < 109.6 and 12.6 < y0 < y1 < 13.9


def test_gdal_reads_every_commune_in_pages_of_20(live):
    out = ogrinfo("-ro", "-al", "-q", "-oo", "PAGE_SIZE=20", "--config", "CPL_DEBUG", "ON", f"OAPIF:{live}/ogc", "communes")
    assert out.returncode == 0, out.stderr[-2000:]
    codes = re.findall(r"^  ma \(String\) = (\d+)$", out.stdout, flags=re.M)
    assert len(codes) == len(COMMUNES) and set(codes) == COMMUNES
    assert out.stdout.count("du_lieu_mau (Integer(Boolean)) = 1") == len(COMMUNES)
    # it followed the next links: 106 features in pages of 20 are 6 pages, at offsets 0, 20, …, 100
    offsets = sorted({int(q.get("offset", 0)) for q in fetched(out.stderr) if q.get("limit") == "20"})
    assert offsets == [0, 20, 40, 60, 80, 100]


def test_gdal_filters_by_bbox_on_the_server(live):
    west, south, east, north = around(KNOWN)
    out = ogrinfo(
        "-ro", "-q", "--config", "CPL_DEBUG", "ON", "-spat", *map(str, (west, south, east, north)), f"OAPIF:{live}/ogc", "communes"
    )
    assert out.returncode == 0, out.stderr[-2000:]
    codes = re.findall(r"^  ma \(String\) = (\d+)$", out.stdout, flags=re.M)
    assert KNOWN in codes and len(codes) <= 4
    assert any("bbox" in q for q in fetched(out.stderr)), "GDAL should send the box to the server"


def test_gdal_takes_the_year_from_the_url(live):
    out = ogrinfo("-ro", "-al", "-q", "-oo", "PAGE_SIZE=50", f"OAPIF:{live}/ogc?nam=2021")  # GDAL repeats ?nam=2021 on every request
    assert out.returncode == 0, out.stderr[-2000:]
    years = re.findall(r"^  nam \(Integer\) = (\d+)$", out.stdout, flags=re.M)
    assert len(years) == len(COMMUNES) + len(DISTRICTS) and set(years) == {"2021"}


@pytest.fixture(scope="module")
def owslib_features(live):
    from owslib.ogcapi.features import Features

    return Features(f"{live}/ogc")


def test_owslib_lists_the_collections_and_reads_their_descriptions(owslib_features):
    assert sorted(owslib_features.feature_collections()) == ["communes", "districts"]
    assert CONFORMANCE <= set(owslib_features.conformance()["conformsTo"])
    for c in owslib_features.collections()["collections"]:
        assert SAMPLE_WORDS in c["description"] and SCHEMATIC_WORDS in c["description"]
        assert c["du_lieu_mau"] is True and c["ranh_gioi"]["so_do_minh_hoa"] is True
    districts = owslib_features.collection("districts")
    assert districts["extent"]["spatial"]["crs"] == "http://www.opengis.net/def/crs/OGC/1.3/CRS84"


def test_owslib_reads_every_commune_following_the_next_links(owslib_features):
    ids, pages, params = [], 0, {"limit": 20}
    while True:
        page = owslib_features.collection_items("communes", **params)
        pages += 1
        assert page["numberMatched"] == len(COMMUNES) and page["numberReturned"] == len(page["features"]) <= 20
        ids += [f["id"] for f in page["features"]]
        nxt = [link["href"] for link in page["links"] if link["rel"] == "next"]
        if not nxt:
            break
        params = dict(parse_qsl(urlsplit(nxt[0]).query))
    assert pages == math.ceil(len(COMMUNES) / 20) == 6
    assert len(ids) == len(set(ids)) == len(COMMUNES) and set(ids) == COMMUNES
    one = owslib_features.collection_item("communes", KNOWN)
    assert one["properties"]["ten"] == REGISTRY.units.at[KNOWN, "name"] and one["properties"]["nhan_du_lieu_mau"].startswith(SAMPLE_WORDS)


def test_owslib_filters_by_bbox(owslib_features):
    page = owslib_features.collection_items("communes", bbox=list(around(KNOWN)), limit=100)
    ids = [f["id"] for f in page["features"]]
    assert KNOWN in ids and page["numberMatched"] == len(ids) <= 4
    hanoi = owslib_features.collection_items("communes", bbox=[105.8, 21.0, 105.9, 21.1])
    assert hanoi["numberMatched"] == 0 and hanoi["features"] == []


# ---------------------------------------------------------------------------------------------- TestClient


@pytest.fixture(scope="module")
def client(mapped_db, tmp_path_factory):
    """The app on a copy of the sample with the real boundaries of Phú Yên imported."""
    db = tmp_path_factory.mktemp("ogc-client") / "mapped.db"
    shutil.copy(mapped_db, db)
    app = create_app(db)
    with TestClient(app) as c:
        yield c


def items(client, **params) -> dict:
    r = client.get("/ogc/collections/communes/items", params=params)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/geo+json"
    return r.json()


def link(doc: dict, rel: str) -> dict[str, str] | None:
    hits = [link for link in doc["links"] if link["rel"] == rel]
    assert len(hits) <= 1
    return dict(parse_qsl(urlsplit(hits[0]["href"]).query)) if hits else None


def test_pages_of_25_have_next_and_prev_links_keeping_every_filter(client):
    box = "108.5,12.5,109.9,13.9"  # all of Phú Yên
    given = {"nam": "2023", "tieu_chi": "17", "as_of": "2025-01-01T00:00:00Z", "bbox": box}
    seen, offset = [], 0
    for expected in (25, 25, 25, 25, 6):  # 106 = 4 × 25 + 6
        page = items(client, limit=25, offset=offset, **given)
        assert page["numberMatched"] == 106 and page["numberReturned"] == expected == len(page["features"])
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", page["timeStamp"])
        nxt, prev = link(page, "next"), link(page, "prev")
        if offset + 25 < 106:
            assert nxt == {**given, "limit": "25", "offset": str(offset + 25), "f": "json"}
        else:
            assert nxt is None
        assert prev == (None if offset == 0 else {**given, "limit": "25", "offset": str(offset - 25), "f": "json"})
        assert all(f["properties"]["nam"] == 2023 and f["properties"]["tieu_chi"] == "17" for f in page["features"])
        seen += [f["id"] for f in page["features"]]
        offset += 25
    assert seen == list(REGISTRY.communes().index)  # the layer's order, every unit once
    for rel in ("self", "alternate", "collection"):
        assert all({"href", "rel", "type", "title"} <= set(x) for x in page["links"] if x["rel"] == rel)


def test_default_limit_offset_past_the_end_and_a_limit_over_the_maximum(client):
    first = items(client)
    assert first["numberReturned"] == 10 and link(first, "next")["offset"] == "10"
    past = items(client, offset=500)
    assert past["numberReturned"] == 0 and link(past, "next") is None and link(past, "prev")["offset"] == "490"
    big = items(client, limit=50000)  # the standard: served as the maximum, not refused
    assert big["numberReturned"] == 106 and link(big, "self")["limit"] == str(ogc.MAX_LIMIT)


def test_items_are_the_cached_layer_with_the_flags_and_no_new_build(client):
    layer = client.get("/api/layers/communes", params={"year": 2023}).json()
    cache = client.app.state.cache
    builds = cache.builds
    page = items(client, nam=2023, limit=1000)
    assert cache.builds == builds  # a slice of the layer already built, not a new one
    assert [f["id"] for f in page["features"]] == [f["properties"]["ma"] for f in layer["features"]]
    for mine, theirs in zip(page["features"], layer["features"]):
        props = dict(mine["properties"])
        flags = {k: props.pop(k) for k in ("nam", "du_lieu_mau", "nhan_du_lieu_mau", "ranh_gioi_so_do_minh_hoa", "ranh_gioi_nguon")}
        assert props == theirs["properties"] and mine["geometry"] == theirs["geometry"]
        assert flags["nam"] == 2023 and flags["du_lieu_mau"] is True and flags["nhan_du_lieu_mau"].startswith(SAMPLE_WORDS)
        assert flags["ranh_gioi_so_do_minh_hoa"] is False and "phu_yen_pre2025.gpkg" in flags["ranh_gioi_nguon"]
    one = client.get(f"/ogc/collections/communes/items/{KNOWN}", params={"nam": 2023}).json()
    assert one["properties"] == next(f["properties"] for f in page["features"] if f["id"] == KNOWN)
    assert {x["rel"] for x in one["links"]} >= {"self", "alternate", "collection"}
    # as_of before any data: no tier anywhere (as GET /api/layers/communes)
    assert all(f["properties"]["hang"] is None for f in items(client, as_of="2001-01-01", limit=1000)["features"])


def test_bbox_selects_the_communes_whose_real_boundary_meets_the_box(client):
    real = gpd.read_file(SHARED / "geodata" / "phu_yen_pre2025.gpkg", layer="communes").set_index("gso_code")
    box = (109.0, 13.0, 109.2, 13.2)
    metric = real.to_crs(real.estimate_utm_crs())
    box_m = gpd.GeoSeries([shapely.box(*box)], crs=4326).to_crs(metric.crs).iloc[0]
    surely_in = set(metric.index[metric.intersects(box_m.buffer(-200))])  # 200 m inside: simplification cannot move a border that far
    surely_out = set(metric.index[~metric.intersects(box_m.buffer(200))])
    page = items(client, bbox=",".join(map(str, box)), limit=1000)
    got = {f["id"] for f in page["features"]}
    assert surely_in and surely_out and surely_in <= got and not (got & surely_out)
    assert page["numberMatched"] == len(got)


def test_datetime_meets_the_reporting_year(client):
    assert items(client, nam=2023, datetime="2023-06-01T00:00:00Z")["numberMatched"] == 106
    assert items(client, nam=2023, datetime="2023-12-31")["numberMatched"] == 106
    assert items(client, nam=2023, datetime="2022-01-01/..")["numberMatched"] == 106
    assert items(client, nam=2023, datetime="../2022-12-31")["numberMatched"] == 0
    assert items(client, nam=2022, datetime="2023-01-01T00:00:00+07:00")["numberMatched"] == 106  # 31/12/2022 17:00 UTC


@pytest.mark.parametrize(
    "query, needles",
    [
        ("limit=0", ["limit", "'0'", "từ 1"]),
        ("limit=ten", ["limit", "'ten'", "số nguyên"]),
        ("limit=%D9%A1%D9%A0", ["limit", "'١٠'"]),  # Arabic-Indic digits are not a number here
        ("offset=-1", ["offset", "'-1'", "từ 0"]),
        ("bbox=1,2,3", ["bbox", "'1,2,3'", "4 số"]),
        ("bbox=a,b,c,d", ["bbox", "'a,b,c,d'", "4 số"]),
        ("bbox=109,13,110,nan", ["bbox", "nan", "4 số"]),
        ("bbox=109,14,110,13", ["bbox", "'109,14,110,13'", "vĩ độ nam"]),
        ("bbox=190,13,191,14", ["bbox", "'190,13,191,14'", "−180…180"]),
        ("nam=2030", ["nam", "'2030'", "2016–2025"]),
        ("tieu_chi=25", ["tieu_chi", "'25'", "1–19"]),
        ("as_of=2023", ["as_of", "'2023'", "ISO 8601"]),
        ("as_of=hom-qua", ["as_of", "'hom-qua'", "ISO 8601"]),
        ("datetime=tomorrow", ["datetime", "'tomorrow'", "RFC 3339"]),
        ("datetime=2024-01-01/2023-01-01", ["datetime", "đầu khoảng sau cuối khoảng"]),
        ("f=xml", ["f", "'xml'", "json", "html"]),
        ("sortby=ten", ["sortby", "'ten'", "limit", "bbox"]),
        ("limit=5&limit=6", ["limit", "'5'", "'6'", "một lần"]),
    ],
)
def test_bad_parameters_are_400_naming_the_parameter_the_value_and_what_is_allowed(client, query, needles):
    r = client.get(f"/ogc/collections/communes/items?{query}")
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["code"] == "InvalidParameterValue" and body["description"] == body["loi"]
    for needle in needles:
        assert needle in body["loi"], (needle, body["loi"])


def test_districts_take_no_criterion_and_unknown_things_are_404(client):
    r = client.get("/ogc/collections/districts/items?tieu_chi=17")
    assert r.status_code == 400 and "tieu_chi" in r.json()["loi"]
    assert len(client.get("/ogc/collections/districts/items?limit=100").json()["features"]) == len(DISTRICTS)
    for url, needles in [
        ("/ogc/collections/xa", ["'xa'", "communes, districts"]),
        ("/ogc/collections/xa/items", ["'xa'", "communes, districts"]),
        ("/ogc/collections/communes/items/99999", ["'99999'", "mã GSO"]),
        ("/ogc/collections/districts/items/22303", ["'22303'"]),
    ]:
        r = client.get(url)
        assert r.status_code == 404 and r.json()["code"] == "NotFound"
        assert all(n in r.json()["loi"] for n in needles), r.json()
    assert client.post("/ogc/collections").headers["allow"] == "GET"


def test_etag_304_and_gzip(client):
    r = client.get("/ogc/collections/communes/items?limit=7", headers={"Accept-Encoding": "gzip"})
    assert r.headers["content-encoding"] == "gzip" and r.headers["etag"].startswith('"') and "Accept" in r.headers["vary"]
    again = client.get("/ogc/collections/communes/items?limit=7", headers={"Accept-Encoding": "gzip", "If-None-Match": r.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    other = client.get("/ogc/collections/communes/items?limit=8", headers={"Accept-Encoding": "gzip", "If-None-Match": r.headers["etag"]})
    assert other.status_code == 200
    for url in ("/ogc", "/ogc/collections", "/ogc/api", f"/ogc/collections/communes/items/{KNOWN}"):
        first = client.get(url)
        assert client.get(url, headers={"If-None-Match": first.headers["etag"]}).status_code == 304


def test_landing_conformance_and_the_openapi_30_document(client):
    from openapi_spec_validator import validate

    landing = client.get("/ogc").json()
    rels = {x["rel"]: x for x in landing["links"]}
    assert {"self", "alternate", "service-desc", "service-doc", "conformance", "data"} <= set(rels)
    assert rels["service-desc"]["type"] == "application/vnd.oai.openapi+json;version=3.0"
    assert set(client.get("/ogc/conformance").json()["conformsTo"]) == CONFORMANCE
    r = client.get(urlsplit(rels["service-desc"]["href"]).path)
    assert r.headers["content-type"] == "application/vnd.oai.openapi+json;version=3.0"
    doc = r.json()
    validate(doc)  # a valid OpenAPI 3.0 document (raises otherwise)
    assert doc["openapi"].startswith("3.0.")
    assert set(doc["paths"]) == {
        "/",
        "/conformance",
        "/api",
        "/collections",
        "/collections/{collectionId}",
        "/collections/{collectionId}/items",
        "/collections/{collectionId}/items/{featureId}",
    }
    assert doc["components"]["parameters"]["limit"]["schema"]["maximum"] == ogc.MAX_LIMIT
    collections = client.get("/ogc/collections").json()["collections"]
    assert [c["id"] for c in collections] == ["communes", "districts"]
    assert all(c["ranh_gioi"]["so_do_minh_hoa"] is False and SAMPLE_WORDS in c["description"] for c in collections)


def test_collections_take_the_layer_filters_and_keep_them_in_their_links(client):
    doc = client.get("/ogc/collections", params={"nam": 2022, "tieu_chi": 17}).json()
    assert all(c["nam"] == 2022 and "năm 2022" in c["description"] for c in doc["collections"])
    items_links = {
        c["id"]: [x for x in c["links"] if x["rel"] == "items" and x["type"] == "application/geo+json"][0] for c in doc["collections"]
    }
    assert dict(parse_qsl(urlsplit(items_links["communes"]["href"]).query)) == {"nam": "2022", "tieu_chi": "17", "f": "json"}
    assert dict(parse_qsl(urlsplit(items_links["districts"]["href"]).query)) == {"nam": "2022", "f": "json"}  # districts take no criterion
    assert client.get("/ogc/collections", params={"nam": 2015}).status_code == 400
    assert client.get("/ogc/collections?nam=2022&nam=2022").status_code == 200  # the same value twice is harmless


def test_html_for_people_by_accept_or_f_and_json_for_programs(client):
    browser = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
    r = client.get("/ogc/collections/communes/items?limit=5", headers=browser)
    assert r.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in r.headers["content-security-policy"] and "<script" not in r.text
    assert SAMPLE_WORDS in r.text and r.text.count("/ogc/collections/communes/items/") >= 5
    assert 'rel="next"' in r.text and "offset=5&amp;f=html" in r.text
    assert client.get("/ogc/collections/communes/items?limit=5&f=json", headers=browser).headers["content-type"] == "application/geo+json"
    assert (
        client.get("/ogc/collections/communes/items?limit=5", headers={"Accept": "*/*"}).headers["content-type"] == "application/geo+json"
    )
    page = client.get(f"/ogc/collections/communes/items/{KNOWN}?f=html")
    assert page.headers["content-type"].startswith("text/html") and REGISTRY.units.at[KNOWN, "name"] in page.text
    for url in ("/ogc?f=html", "/ogc/conformance?f=html", "/ogc/collections?f=html", "/ogc/collections/districts?f=html"):
        r = client.get(url)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html") and "<script" not in r.text


def test_the_html_escapes_stored_text(client):
    layer = ogc.prepare(
        {
            "type": "FeatureCollection",
            "nam": 2023,
            "du_lieu_mau": False,
            "ranh_gioi": {"so_do_minh_hoa": False, "nguon": "<b>tệp</b>"},
            "features": [{"type": "Feature", "geometry": None, "properties": {"ma": "1", "ten": "<script>alert(1)</script>"}}],
        }
    )
    page = ogc.items_page(layer, "communes", ogc.Query(), "http://x/ogc", "html")
    text = ogc.html(page, "items", "http://x/ogc", "communes")
    assert "<script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text and SAMPLE_WORDS not in text


def test_reads_need_a_token_when_the_setting_says_so(mapped_db, tmp_path):
    db = tmp_path / "mapped.db"
    shutil.copy(mapped_db, db)
    with TestClient(create_app(settings=Settings(db=str(db), require_viewer=True))) as c:
        assert c.get("/ogc/collections").status_code == 401


def test_a_province_without_districts_has_only_communes(tmp_path):
    registry = load_registry("66", "moi")  # the new Đắk Lắk, from 1 July 2025: no district level
    assert registry.districts().empty and ogc.collection_ids([registry]) == ["communes"]
    with TestClient(create_app(tmp_path / "empty.db", province=load_province("66"))) as c:
        assert [x["id"] for x in c.get("/ogc/collections").json()["collections"]] == ["communes"]
        r = c.get("/ogc/collections/districts/items")
        assert r.status_code == 404 and "các lớp: communes." in r.json()["loi"]
        assert c.get("/ogc/api").json()["components"]["parameters"]["collectionId"]["schema"]["enum"] == ["communes"]
        page = c.get("/ogc/collections/communes/items?limit=1000").json()
        assert page["numberMatched"] == len(registry.communes()) and {f["id"] for f in page["features"]} == set(registry.communes().index)
        assert all(f["properties"]["du_lieu_mau"] is False and f["properties"]["nhan_du_lieu_mau"] is None for f in page["features"])


def test_a_deployment_shows_each_year_in_the_units_of_its_period(tmp_path):
    """The new Đắk Lắk (66) formed from Phú Yên (54): up to 2025 Phú Yên's 106 communes and 9 districts, from 2026
    the new province's communes and no district."""
    db = tmp_path / "dak-lak.db"
    store = Store.open(db)
    store.set_deployment_profile("66")
    store.close()
    new = load_registry("66", "moi")
    with TestClient(create_app(db)) as c:
        assert [x["id"] for x in c.get("/ogc/collections").json()["collections"]] == ["communes", "districts"]
        old = {x["id"]: x for x in c.get("/ogc/collections?nam=2024").json()["collections"]}
        assert old["communes"]["description"].startswith(f"{len(COMMUNES)} đơn vị cấp xã của Tỉnh Phú Yên")
        assert old["districts"]["description"].startswith(f"{len(DISTRICTS)} đơn vị cấp huyện của Tỉnh Phú Yên")
        assert {f["id"] for f in items(c, nam=2024, limit=1000)["features"]} == COMMUNES
        assert {f["id"] for f in c.get("/ogc/collections/districts/items?nam=2024&limit=100").json()["features"]} == DISTRICTS
        assert {f["id"] for f in items(c, nam=2026, limit=1000)["features"]} == set(new.communes().index)
        later = c.get("/ogc/collections/districts/items?nam=2026").json()
        assert later["numberMatched"] == 0 and later["features"] == []
        assert "không còn cấp huyện" in c.get("/ogc/collections/districts?nam=2026").json()["description"]
        assert c.get("/ogc").json()["title"].endswith("Tỉnh Đắk Lắk (OGC API – Features)")


# ---------------------------------------------------------------------------------------------- the national view


def _units_moi() -> list[dict]:
    with open(GEODATA / "units_moi.csv", encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


UNITS_MOI = _units_moi()  # the registry file of the units from 1 July 2025, read with the csv module
PROVINCES_MOI = [r["code"] for r in UNITS_MOI if r["level"] == "province"]  # 34
COMMUNES_MOI = {r["code"]: r for r in UNITS_MOI if r["level"] == "commune"}  # 3,321
NATIONAL_YEAR = 2026


@pytest.fixture(scope="module")
def national_db(tmp_path_factory) -> Path:
    """A store made by `nongthon demo --national` (the labelled sample of every xã in 2026; schematic boundaries)."""
    db = tmp_path_factory.mktemp("ogc-national") / "national.db"
    assert cli_main(["--db", str(db), "demo", "--national"]) == 0
    return db


@pytest.fixture(scope="module")
def national_live(national_db):
    proc, url = start_server(national_db)
    try:
        yield url
    finally:
        stop_server(proc)


@pytest.fixture(scope="module")
def national_client(national_db):
    with TestClient(create_app(national_db)) as c:
        yield c


def test_a_store_of_the_whole_country_lists_the_national_collections_with_their_flags(national_client):
    c = national_client
    listed = {x["id"]: x for x in c.get("/ogc/collections").json()["collections"]}
    assert list(listed) == ["communes", "provinces", "communes-all"]
    for cid, count in (("provinces", len(PROVINCES_MOI)), ("communes-all", len(COMMUNES_MOI))):
        doc = listed[cid]
        assert doc["description"].startswith(f"{count} ") and SAMPLE_WORDS in doc["description"] and SCHEMATIC_WORDS in doc["description"]
        assert doc["du_lieu_mau"] is True and doc["ranh_gioi"]["so_do_minh_hoa"] is True and doc["nam"] == NATIONAL_YEAR
        assert doc["extent"]["temporal"]["interval"] == [["2026-01-01T00:00:00Z", "2030-12-31T23:59:59Z"]]  # qd51-2025: 2026–2030
        west, south, east, north = doc["extent"]["spatial"]["bbox"][0]
        assert 102 < west < 103 and 8 < south < 9 and 109 < east < 118 and 23 < north < 24  # Vietnam (its islands east to 117.8)
        assert c.get(f"/ogc/collections/{cid}").json()["description"] == doc["description"]
    assert c.get("/ogc/api").json()["components"]["parameters"]["collectionId"]["schema"]["enum"] == list(listed)


def test_owslib_reads_every_province_in_pages_of_10(national_live):
    from owslib.ogcapi.features import Features

    features = Features(f"{national_live}/ogc")
    assert {"provinces", "communes-all"} <= set(features.feature_collections())
    ids, pages, params = [], 0, {"limit": 10}
    while True:
        page = features.collection_items("provinces", **params)
        pages += 1
        assert page["numberMatched"] == len(PROVINCES_MOI) == 34 and page["numberReturned"] == len(page["features"]) <= 10
        ids += [f["id"] for f in page["features"]]
        nxt = [link["href"] for link in page["links"] if link["rel"] == "next"]
        if not nxt:
            break
        params = dict(parse_qsl(urlsplit(nxt[0]).query))
    assert pages == 4 and ids == PROVINCES_MOI  # 34 = 3 × 10 + 4, in GSO order
    for f in page["features"]:
        p = f["properties"]
        assert p["nam"] == NATIONAL_YEAR and p["nhan_du_lieu_mau"].startswith(SAMPLE_WORDS) and p["ranh_gioi_so_do_minh_hoa"] is True
        assert 0 <= p["ty_le_ntm"] <= 1 and p["so_xa"] == sum(r["unit_type"] == "xa" and r["province_code"] == f["id"] for r in UNITS_MOI)


def test_gdal_reads_the_provinces(national_live):
    out = ogrinfo("-ro", "-so", f"OAPIF:{national_live}/ogc", "provinces")
    assert out.returncode == 0, out.stderr[-2000:]
    assert f"Feature Count: {len(PROVINCES_MOI)}" in out.stdout
    description = re.search(r"DESCRIPTION=(.*)", out.stdout).group(1)
    assert SAMPLE_WORDS in description and SCHEMATIC_WORDS in description
    assert "ty_le_ntm: Real" in out.stdout and "du_lieu_mau: Integer(Boolean)" in out.stdout
    every = ogrinfo("-ro", "-q", "-oo", "PAGE_SIZE=10", f"OAPIF:{national_live}/ogc", "provinces")
    assert every.returncode == 0, every.stderr[-2000:]
    assert re.findall(r"^  ma \(String\) = (\d+)$", every.stdout, flags=re.M) == PROVINCES_MOI


def test_a_page_of_the_national_communes_at_offset_3000_is_a_slice_of_the_cached_layer(national_client):
    c = national_client
    layer = c.get("/api/layers/communes", params={"year": NATIONAL_YEAR, "province": "all"}).json()
    order = [f["properties"]["ma"] for f in layer["features"]]
    assert len(order) == len(set(order)) == len(COMMUNES_MOI) == 3321 and set(order) == set(COMMUNES_MOI)
    cache = c.app.state.cache
    builds = cache.builds
    r = c.get("/ogc/collections/communes-all/items", params={"nam": NATIONAL_YEAR, "offset": 3000, "limit": 100})
    assert r.status_code == 200 and r.headers["content-type"] == "application/geo+json"
    page = r.json()
    assert cache.builds == builds  # the layer GET /api/layers/communes?province=all built, not another
    assert page["numberMatched"] == 3321 and page["numberReturned"] == 100
    assert [f["id"] for f in page["features"]] == order[3000:3100]
    assert link(page, "next") == {"nam": "2026", "limit": "100", "offset": "3100", "f": "json"}
    assert link(page, "prev")["offset"] == "2900"
    theirs = {f["properties"]["ma"]: f for f in layer["features"]}
    for mine in page["features"]:
        props = dict(mine["properties"])
        flags = {k: props.pop(k) for k in ("nam", "du_lieu_mau", "nhan_du_lieu_mau", "ranh_gioi_so_do_minh_hoa", "ranh_gioi_nguon")}
        assert props == theirs[mine["id"]]["properties"] and mine["geometry"] == theirs[mine["id"]]["geometry"]
        assert props["ma_tinh"] == COMMUNES_MOI[mine["id"]]["province_code"]
        assert flags["nam"] == NATIONAL_YEAR and flags["du_lieu_mau"] is True and flags["ranh_gioi_so_do_minh_hoa"] is True
    last = items_of(c, "communes-all", offset=3300, limit=100)
    assert last["numberReturned"] == 21 and link(last, "next") is None  # 3,321 − 3,300


def items_of(client, collection_id: str, **params) -> dict:
    r = client.get(f"/ogc/collections/{collection_id}/items", params=params)
    assert r.status_code == 200, r.text
    return r.json()


def test_national_collections_take_nam_as_of_and_bbox(national_client):
    c = national_client
    later = items_of(c, "provinces", nam=2027, limit=100)  # a year of the catalogue with no results yet
    assert [f["id"] for f in later["features"]] == PROVINCES_MOI
    assert all(f["properties"]["nam"] == 2027 and f["properties"]["xa_co_so_lieu"] == 0 for f in later["features"])
    before = items_of(c, "communes-all", as_of="2001-01-01", limit=1000)  # before the sample was written: no tier
    assert before["numberMatched"] == 3321 and all(f["properties"]["co_so_lieu"] is False for f in before["features"])
    known = "00004"  # Phường Ba Đình, Hà Nội
    lon, lat = float(COMMUNES_MOI[known]["lon"]), float(COMMUNES_MOI[known]["lat"])
    box = f"{lon - 0.001},{lat - 0.001},{lon + 0.001},{lat + 0.001}"
    near = items_of(c, "communes-all", bbox=box, limit=100)
    assert known in [f["id"] for f in near["features"]] and near["numberMatched"] <= 4
    assert [f["id"] for f in items_of(c, "provinces", bbox=box)["features"]] == [COMMUNES_MOI[known]["province_code"]]
    assert items_of(c, "provinces", bbox="0,0,1,1")["numberMatched"] == 0  # the Gulf of Guinea
    hanoi = c.get("/ogc/collections/provinces/items/01").json()
    theirs = next(f for f in c.get("/api/layers/provinces").json()["features"] if f["properties"]["ma"] == "01")
    assert {k: v for k, v in hanoi["properties"].items() if k in theirs["properties"]} == theirs["properties"]
    for url, status, needles in [
        ("/ogc/collections/provinces/items?nam=2025", 400, ["nam", "'2025'", "2026–2030"]),
        ("/ogc/collections/provinces/items?tieu_chi=3", 400, ["tieu_chi", "nam, as_of"]),
        ("/ogc/collections/communes-all/items?tieu_chi=33", 400, ["'33'", "1–10"]),
        ("/ogc/collections/provinces/items/99", 404, ["'99'"]),
    ]:
        r = c.get(url)
        assert r.status_code == status and all(n in r.json()["loi"] for n in needles), r.json()


# ---------------------------------------------------------------------------------------------- the library alone


def test_bbox_across_the_antimeridian_and_hand_made_points():
    def point(code: str, lon: float, lat: float) -> dict:
        return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]}, "properties": {"ma": code}}

    layer = ogc.prepare(
        {
            "type": "FeatureCollection",
            "nam": 2024,
            "du_lieu_mau": True,
            "ranh_gioi": {"so_do_minh_hoa": True, "nguon": "sơ đồ"},
            "features": [point("a", 179.5, 0), point("b", -179.5, 0), point("c", 0, 0), point("d", 109, 13)],
        }
    )
    assert layer.extent == [-179.5, 0.0, 179.5, 13.0]
    across = ogc.items_page(layer, "communes", ogc.parse_query([("bbox", "179,-1,-179,1")], ogc.PAGING, [2024]), "http://x/ogc")
    assert [f["id"] for f in across["features"]] == ["a", "b"]
    vn = ogc.items_page(layer, "communes", ogc.parse_query([("bbox", "108,12,110,14"), ("limit", "1")], ogc.PAGING, [2024]), "http://x/ogc")
    assert vn["numberMatched"] == 1 and vn["features"][0]["properties"]["nhan_du_lieu_mau"].startswith(SAMPLE_WORDS)
    two = ogc.items_page(layer, "communes", ogc.parse_query([("limit", "3"), ("offset", "2")], ogc.PAGING, [2024]), "http://x/ogc")
    assert [f["id"] for f in two["features"]] == ["c", "d"] and link(two, "prev")["offset"] == "0" and link(two, "next") is None


def test_the_stores_of_the_ogc_routes_are_bounded():
    from api.ogc import Kept

    few = Kept(3)
    for i in range(5):
        few.put(i, str(i))
    assert len(few) == 3 and few.get(0) is None and few.get(4) == "4"
    few.get(2)  # used: the oldest is now 3
    few.put(5, "5")
    assert few.get(3) is None and few.get(2) == "2"
    heavy = Kept(100, len, budget=10)
    for word in ("aaaa", "bbbb", "cccc"):  # 12 > 10: the oldest goes
        heavy.put(word, word)
    assert heavy.get("aaaa") is None and heavy.get("cccc") == "cccc" and len(heavy) == 2
