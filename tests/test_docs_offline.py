"""/docs and /redoc in a real headless Chromium with every request off this machine blocked: their
JavaScript and CSS come from the server (the fastapi-offline package), not from a CDN."""

from urllib.parse import urlsplit

import pytest

from tests.live import chromium, serving


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with serving(tmp_path_factory.mktemp("docs") / "docs.db") as url:  # the docs need no data
        yield url


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


def offline_page(browser):
    """A page that may reach 127.0.0.1 only; the list holds every other URL it tried."""
    page = browser.new_page()
    blocked = []

    def only_here(route):
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    page.route("**/*", only_here)
    return page, blocked


def test_swagger_ui_renders_the_operations_offline(server, browser):
    page, blocked = offline_page(browser)
    page.goto(server + "/docs")
    page.get_by_text("/api/layers/communes", exact=True).first.wait_for(state="visible", timeout=20000)
    assert page.get_by_text("Lớp xã (GeoJSON)").first.is_visible()  # the operation's summary, from /openapi.json
    assert page.locator(".opblock").count() >= 10
    assert blocked == []
    page.close()


def test_redoc_renders_offline(server, browser):
    page, blocked = offline_page(browser)
    page.goto(server + "/redoc")
    page.get_by_text("Lớp xã (GeoJSON)").first.wait_for(state="visible", timeout=20000)
    # ReDoc's "Powered by Redocly" footer image is the one thing it asks of the internet; it is decoration
    assert [u for u in blocked if u != "https://cdn.redoc.ly/redoc/logo-mini.svg"] == []
    page.close()
