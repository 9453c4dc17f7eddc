"""The map page runs no Monte Carlo while it renders (issue 10, part 1): the served page carries the URL of its
forecast, which its script fetches once it is shown (tests/test_map_browser.py); the route computes the forecast
per year once per data version. A saved file (``nongthon map -o``) keeps its forecast inline."""

import json
import re
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

from api.app import create_app
from nongthon.maps import map_html, page_policy

ROOT = Path(__file__).resolve().parents[1]
TIER_CODES = {"ntm": "ntm", "advanced": "nang_cao", "model": "kieu_mau"}  # the targets' tiers, as the page names them


def page_data(html: str) -> dict:
    return json.loads(re.search(r'<script type="application/json" id="ntm-data">(.*?)</script>', html, re.S).group(1))


def covering_sets(year: int, province: str = "54") -> list[dict]:
    """The target files covering ``year`` for the province (its own and the national ones), read from the YAML."""
    docs = [yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted((ROOT / "nongthon" / "targets").glob("*.yaml"))]
    return [d for d in docs if d["years"]["from"] <= year <= d["years"]["to"] and d.get("province") in (None, province)]


@pytest.fixture
def client(mapped_store):
    with TestClient(create_app(mapped_store.engine.url.database)) as c:
        yield c


@pytest.fixture
def projections(monkeypatch):
    """Counts the calls of projection.project (the Monte Carlo), which still run as before."""
    import nongthon.projection as projection

    calls, real = [], projection.project

    def counted(*args, **kwargs):
        calls.append(kwargs.get("start_year"))
        return real(*args, **kwargs)

    monkeypatch.setattr(projection, "project", counted)
    return calls


def test_map_page_runs_no_projection_and_names_its_forecast(client, monkeypatch):
    def refuse(*_args, **_kwargs):
        raise AssertionError("the map page ran a projection while it rendered")

    monkeypatch.setattr("nongthon.projection.project", refuse)
    r = client.get("/map?year=2023")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    data = page_data(r.text)
    assert data["du_bao_url"] == "/api/map/du-bao?year=2023"
    assert 2023 in data["cac_nam"] and not [y for y, d in data["theo_nam"].items() if "du_bao" in d]
    # the page may fetch from its own site, and nothing else is loosened
    policy = r.headers["content-security-policy"]
    assert policy == page_policy(r.text) + "; frame-ancestors 'self'"
    assert "connect-src 'self'" in policy.split("; ") and "default-src 'none'" in policy.split("; ")
    assert "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    # the page without a year names the forecast of the year it shows (the latest with data: 2025)
    assert page_data(client.get("/map").text)["du_bao_url"] == "/api/map/du-bao?year=2025"


def test_forecast_route_gives_each_year_of_the_page_its_forecast_once_per_data_version(client, projections):
    page = page_data(client.get("/map?year=2023").text)
    assert projections == []
    r = client.get(page["du_bao_url"])
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    forecasts = r.json()
    assert set(forecasts) == {str(y) for y in page["cac_nam"]}  # every year the page offers, and only those
    with_data = set(client.app.state.store.years_with_data())
    expected = {}
    for year in page["cac_nam"]:
        sets = covering_sets(year)
        horizon = max((t["year"] for d in sets for t in d["targets"]), default=None)
        if horizon is not None and year < horizon and year in with_data:
            expected[str(year)] = (horizon, sets)
    assert set(expected) == {"2021", "2022", "2023", "2024"}  # 2016-2020: no target set; 2025: its target year has come
    for year, f in forecasts.items():
        if year not in expected:
            assert f is None, year
            continue
        horizon, sets = expected[year]
        assert f["nam"] == horizon == 2025 and f["so_lan"] > 0
        # a probability for every target and milestone the covering sets declare, and for nothing else
        assert set(f["xac_suat"]) == {t["id"] for d in sets for t in d["targets"] + d["milestones"]}
        assert all(0 <= p <= 1 for p in f["xac_suat"].values() if p is not None)
        assert {TIER_CODES[t["tier"]] for d in sets for t in d["targets"] if t.get("tier")} <= set(f["hang"])
        for band in f["hang"].values():
            assert 0 <= band["p10"] <= band["trung_binh"] <= band["p90"] <= 1, (year, band)
    assert sorted(projections) == [2021, 2022, 2023, 2024]  # one projection per year with a forecast
    again = client.get(page["du_bao_url"])
    assert again.content == r.content and again.headers["etag"] == r.headers["etag"]
    assert len(projections) == 4  # from memory: same data version, nothing run again


def test_forecast_route_refuses_an_unknown_year_in_vietnamese(client):
    r = client.get("/api/map/du-bao?year=1999")
    assert r.status_code == 404 and "Năm 1999 không thuộc bộ tiêu chí nào" in r.json()["loi"]
    summary = client.get("/openapi.json").json()["paths"]["/api/map/du-bao"]["get"]["summary"]
    assert summary.startswith("Dự báo cho khung bên của bản đồ")


def test_saved_file_keeps_its_forecast_inline_and_connects_nowhere(mapped_store, province):
    html = map_html(mapped_store, province, 2023)  # what `nongthon map -o` writes
    data = page_data(html)
    assert data["du_bao_url"] is None
    assert data["theo_nam"]["2023"]["du_bao"]["nam"] == 2025 and data["theo_nam"]["2018"]["du_bao"] is None
    assert "connect-src" not in page_policy(html) and "default-src 'none'" in page_policy(html)
