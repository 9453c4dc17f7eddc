"""Hostile input against a real server (uvicorn in a subprocess): bodies without a token are refused before
they are read, every body is cut off at its limit while it streams in, the database password never reaches
the server's output, and a revoked token's 401 names no account."""

import shutil
import subprocess
import sys
import time
import uuid

import httpx
import pytest
import sqlalchemy as sa

from nongthon.accounts import add_user, revoke_user
from nongthon.store import Store
from tests.live import free_port, start_server, stop_server

MB = 1024 * 1024
SON_HOA = "560"


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.fixture(scope="module")
def served(tmp_path_factory, mapped_db, province):
    path = tmp_path_factory.mktemp("security") / "served.db"
    shutil.copy(mapped_db, path)
    store = Store.open(path)
    editor = add_user(store, province.registry, "Cán bộ Sơn Hòa", "editor", SON_HOA)
    proc, url = start_server(str(path))
    xa = province.registry.xa()
    code = str(xa[xa["district_code"] == SON_HOA].index[0])
    yield {"proc": proc, "url": url, "store": store, "editor": editor, "code": code, "province": province}
    stop_server(proc)
    store.close()


def assessments(served) -> str:
    return f"{served['url']}/api/communes/{served['code']}/assessments/2024"


def current(served) -> tuple[str, int]:
    r = httpx.get(assessments(served), timeout=10)
    return r.headers["etag"], len(served["store"].history())


def test_large_bodies_without_a_token_are_401_before_they_are_read(served):
    url, pid = served["url"], served["proc"].pid
    json_headers = {"Content-Type": "application/json", "If-Match": '"x"'}
    # warm up both routes (lazy imports, first connections) before measuring
    assert httpx.put(assessments(served), content=b"{}", headers=json_headers, timeout=10).status_code == 401
    assert httpx.post(url + "/api/recognitions", content=b"{}", headers=json_headers, timeout=10).status_code == 401
    before_db = current(served)
    body = b"[" + b"1," * (25 * MB) + b"1]"  # 50 MB of valid JSON: parsing it would cost far more than 20 MB
    rss0 = rss_mb(pid)
    for method, target in (("PUT", assessments(served)), ("POST", url + "/api/recognitions")):
        t = time.perf_counter()
        r = httpx.request(method, target, content=body, headers=json_headers, timeout=30)
        assert r.status_code == 401, (method, r.status_code, r.text[:200])
        assert "Authorization: Bearer" in r.json()["loi"] and r.headers["www-authenticate"] == "Bearer"
        assert time.perf_counter() - t < 5
    assert rss_mb(pid) - rss0 < 20
    assert current(served) == before_db


def test_a_chunked_body_is_cut_off_at_the_limit(served):
    pid, before_db = served["proc"].pid, current(served)
    headers = {"Authorization": f"Bearer {served['editor']}", "If-Match": before_db[0], "Content-Type": "application/json"}

    def chunks():  # 5 MB of a JSON string, with no Content-Length (Transfer-Encoding: chunked)
        yield b'{"ket_qua": [], "ghi_chu": "'
        for _ in range(80):
            yield b"a" * (64 * 1024)
        yield b'"}'

    rss0 = rss_mb(pid)
    r = httpx.put(assessments(served), content=chunks(), headers=headers, timeout=30)
    assert r.status_code == 413, (r.status_code, r.text[:200])
    assert r.json()["loi"] == "Thân yêu cầu (JSON) quá lớn; tối đa 1 MB. Không có gì được ghi."
    assert rss_mb(pid) - rss0 < 20
    assert current(served) == before_db
    # a declared Content-Length over the limit is refused from the header alone
    r = httpx.put(assessments(served), content=b"{" + b" " * (MB + 10) + b"}", headers=headers, timeout=30)
    assert r.status_code == 413 and "(1.048.588 byte); tối đa 1 MB" in r.json()["loi"]
    assert current(served) == before_db


def test_a_chunked_upload_is_cut_off_at_20_mb(served):
    """Today's code spooled an editor's whole chunked upload to disk before its 413."""
    headers = {"Authorization": f"Bearer {served['editor']}", "Content-Type": "multipart/form-data; boundary=b"}
    before_db = current(served)

    sent = []

    def chunks():  # 100 MB offered; the server stops reading at 20 MB and the client stops sending soon after
        yield b'--b\r\nContent-Disposition: form-data; name="tep"; filename="a.csv"\r\nContent-Type: text/csv\r\n\r\n'
        for _ in range(100):
            sent.append(MB)
            yield b"x" * MB
        yield b"\r\n--b--\r\n"

    r = httpx.post(served["url"] + "/api/imports", content=chunks(), headers=headers, timeout=60)
    assert r.status_code == 413 and r.json()["loi"] == "Tệp tải lên quá lớn; tối đa 20 MB. Không có gì được ghi."
    assert sum(sent) < 50 * MB
    assert current(served) == before_db


def test_a_small_put_still_works(served):
    etag, n = current(served)
    headers = {"Authorization": f"Bearer {served['editor']}", "If-Match": etag}
    body = {"ket_qua": [{"bo_tieu_chi": "ntm", "tieu_chi": "17", "ket_qua": "khong_dat"}], "nguon": "Biên bản 1/2024"}
    r = httpx.put(assessments(served), json=body, headers=headers, timeout=30)
    assert r.status_code == 200, r.text
    assert r.headers["etag"] != etag and r.json()["phien_ban"] == int(etag.strip('"').rsplit("-", 1)[1]) + 1
    assert len(served["store"].history()) > n
    # reads and wrong methods are not affected: 405 names the allowed methods, with or without a token
    assert httpx.post(served["url"] + "/api/summary", timeout=10).status_code == 405


def test_a_revoked_token_is_401_without_naming_the_account(served):
    name = "Trần Thị Bí Mật"
    token = add_user(served["store"], served["province"].registry, name, "editor")
    revoke_user(served["store"], name)
    r = httpx.post(served["url"] + "/api/recognitions", json={}, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert r.status_code == 401 and r.json() == {"loi": "Mã truy cập đã bị thu hồi; xin quản trị viên cấp mã mới."}
    assert "Bí Mật" not in r.text


def test_serve_never_prints_the_database_password(pg_server):
    password = f"pw-{uuid.uuid4().hex[:10]}"
    role = f"nt_role_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(pg_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
        conn.exec_driver_sql(f"CREATE DATABASE {role} OWNER {role}")
    base = sa.engine.make_url(pg_server).set(username=role, password=password, database=role)
    try:
        # a wrong password: a one-line Vietnamese error naming the database, the password masked, no traceback
        wrong = base.set(password=password + "-sai").render_as_string(hide_password=False)
        done = subprocess.run(
            [sys.executable, "-m", "nongthon.cli", "serve", "--db", wrong, "--port", str(free_port())],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 1
        assert password not in done.stdout + done.stderr and "Traceback" not in done.stderr
        assert done.stderr.startswith(f"Không mở được cơ sở dữ liệu postgresql+psycopg://{role}:***@")
        # the right one: the startup line, the access log and uvicorn's own lines show *** in its place
        proc, url = start_server(base.render_as_string(hide_password=False))
        assert httpx.get(f"{url}/api/summary?year=2024&note={password}", timeout=30).status_code == 200
        out = stop_server(proc)
        assert f"(cơ sở dữ liệu postgresql+psycopg://{role}:***@" in out
        assert "note=***" in out and password not in out
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {role} WITH (FORCE)")
            conn.exec_driver_sql(f"DROP ROLE IF EXISTS {role}")
        admin.dispose()
