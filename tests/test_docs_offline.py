"""/docs and /redoc in a real headless Chromium with every request off this machine blocked: their
JavaScript and CSS come from the server (the fastapi-offline package), not from a CDN."""

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import sync_playwright

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
def server(tmp_path_factory):
    db = tmp_path_factory.mktemp("docs") / "docs.db"  # the docs need no data
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
    yield url
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's with `apt-get install chromium`", pytrace=False)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


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
