"""What the tests that need a real server or a real browser share: `nongthon serve` in a subprocess on a free
port, and the headless Chromium (found, or reported in one line)."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import sync_playwright

#: what this machine's closed network needs: no background connections, no sandbox as root
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


def start_server(db: str | Path, *options: str) -> tuple[subprocess.Popen, str]:
    """`nongthon serve` on a database (with more ``options``, e.g. ``--workers 2``), once it answers; fails the
    test with its output when it does not."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "nongthon.cli", "serve", "--db", str(db), "--port", str(port), *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        if proc.poll() is not None:
            pytest.fail("the server stopped: " + proc.stdout.read())
        try:
            if httpx.get(url + "/docs", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    pytest.fail("the server did not start: " + proc.stdout.read())


def stop_server(proc: subprocess.Popen) -> str:
    """Stop the server; its output."""
    proc.terminate()
    out, _ = proc.communicate(timeout=20)
    return out


@contextlib.contextmanager
def serving(db: str | Path) -> Iterator[str]:
    proc, url = start_server(db)
    try:
        yield url
    finally:
        stop_server(proc)


def find_chromium(playwright) -> str:  # noqa: ANN001 - a Playwright instance
    """$NONGTHON_TEST_CHROMIUM, else chromium on the PATH, else Debian's /usr/bin/chromium, else the one
    `playwright install chromium` downloads; without any, the test fails with one line saying so."""
    given = os.environ.get("NONGTHON_TEST_CHROMIUM")
    if given:
        if not Path(given).exists():
            pytest.fail(f"Chromium not found at {given} (NONGTHON_TEST_CHROMIUM): set it to a Chromium or Chrome binary", pytrace=False)
        return given
    for path in (shutil.which("chromium"), shutil.which("chromium-browser"), "/usr/bin/chromium", playwright.chromium.executable_path):
        if path and Path(path).exists():
            return path
    pytest.fail(
        "Chromium not found at /usr/bin/chromium nor on the PATH: apt-get install chromium "
        "(or `playwright install chromium`, or set NONGTHON_TEST_CHROMIUM to a Chromium binary)",
        pytrace=False,
    )


@contextlib.contextmanager
def chromium() -> Iterator:
    """A headless Chromium browser (Playwright)."""
    with sync_playwright() as p:
        path = find_chromium(p)
        try:
            b = p.chromium.launch(executable_path=path, args=FLAGS)
        except PlaywrightError as exc:
            pytest.fail(f"Chromium at {path} did not start: {str(exc).splitlines()[0]}", pytrace=False)
        try:
            yield b
        finally:
            b.close()
