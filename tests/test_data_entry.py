"""The office's walk-through over HTTP: accounts and roles, the workbook round trip, edits with If-Match,
recognitions, history — and every permission and precondition answer."""

import io
import unicodedata

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from api.app import create_app
from api.settings import Settings
from nongthon.accounts import AccountError, NotAuthenticated, add_user, authenticate, list_users, revoke_user
from nongthon.errors import InvalidParameter
from nongthon.store import Store
from nongthon.workbooks import INDICATORS, SET_SHEETS

NTM = SET_SHEETS["ntm"]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SON_HOA, TAY_HOA = "560", "562"


@pytest.fixture
def office(mapped_store, province):
    """The API over the sample, with an admin, a Sơn Hòa editor, an editor for all and a viewer."""
    tokens = {
        "admin": add_user(mapped_store, province.registry, "Quản trị", "admin"),
        "son_hoa": add_user(mapped_store, province.registry, "Cán bộ Sơn Hòa", "editor", SON_HOA),
        "editor": add_user(mapped_store, province.registry, "Văn phòng điều phối", "editor"),
        "viewer": add_user(mapped_store, province.registry, "Lãnh đạo", "viewer"),
    }
    with TestClient(create_app(mapped_store.engine.url.database)) as c:
        c.tokens = tokens
        c.login = lambda who: {"Authorization": f"Bearer {tokens[who]}"}
        yield c


def windows_1258(text: str) -> bytes:
    """Text as Windows-1258 stores Vietnamese: letters with circumflex, breve or horn precomposed, tone marks
    as combining characters."""
    tones = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}
    out = []
    for ch in unicodedata.normalize("NFC", text):
        parts = unicodedata.normalize("NFD", ch)
        base = unicodedata.normalize("NFC", "".join(p for p in parts if p not in tones))
        out.append(base + "".join(p for p in parts if p in tones))
    return "".join(out).encode("cp1258")


def xa_in(province, district):
    xa = province.registry.xa()
    return list(xa[xa["district_code"] == district].index)


def test_tokens_are_shown_once_and_stored_hashed(store, province):
    token = add_user(store, province.registry, "Nguyễn Văn A", "editor", SON_HOA)
    assert len(token) >= 40
    with store.engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT token_hash FROM users").scalar()
    assert token not in stored and len(stored) == 64
    assert authenticate(store, token).name == "Nguyễn Văn A"
    assert list(list_users(store)["district"]) == [SON_HOA]
    with pytest.raises(AccountError, match="Đã có tài khoản"):
        add_user(store, province.registry, "Nguyễn Văn A", "viewer")
    with pytest.raises(AccountError, match="chọn: admin, editor, viewer"):
        add_user(store, province.registry, "B", "boss")
    with pytest.raises(AccountError, match="Không có đơn vị cấp huyện mã '999'"):
        add_user(store, province.registry, "C", "editor", "999")
    revoke_user(store, "Nguyễn Văn A")
    with pytest.raises(NotAuthenticated, match="đã bị thu hồi"):
        authenticate(store, token)


def test_walk_through(office, province, mapped_store):
    # 1. the editor downloads the template of 2024
    r = office.get("/api/templates/2024.xlsx")
    assert r.status_code == 200 and r.headers["content-type"] == XLSX
    wb = load_workbook(io.BytesIO(r.content))
    # 2. fills it in, as an officer's Excel would: Sơn Hòa xã fail criterion 17, an indicator value
    ws = wb[NTM]
    targets = xa_in(province, SON_HOA)[:3]
    rows = {c.value: c.row for c in ws["A"]}
    col17 = next(c.column for c in ws[1] if str(c.value).startswith("17."))
    for code in targets:
        ws.cell(rows[code], col17, "Chưa đạt")
    ind = wb[INDICATORS]
    ind.cell({c.value: c.row for c in ind["A"]}[targets[0]], next(c.column for c in ind[1] if str(c.value).startswith("15.3.")), 18.2)
    buf = io.BytesIO()
    wb.save(buf)
    files = {"tep": ("son-hoa-2024.xlsx", buf.getvalue(), XLSX)}
    # 3. dry run: the summary, per commune and criterion, and nothing written
    before = office.get("/api/layers/communes?year=2024").json()
    dry = office.post("/api/imports?dry_run=true", files=files, headers=office.login("son_hoa"))
    assert dry.status_code == 200, dry.text
    d = dry.json()
    assert d["thu_nghiem"] and not d["da_ghi"]
    assert d["tom_tat"]["moi"] == 1 and d["tom_tat"]["thay_doi"] == sum(
        1 for f in before["features"] if f["properties"]["ma"] in targets and f["properties"]["trang_thai_tieu_chi"]["17"] == "dat"
    )
    changed = [x for x in d["chi_tiet"] if x["trang_thai"] == "thay_doi"]
    assert all(x["tieu_chi"] == "17" and x["cu"] == "dat" and x["moi"] == "khong_dat" for x in changed)
    assert office.get("/api/layers/communes?year=2024").json() == before
    # 4. the real import; the map changes at once
    done = office.post("/api/imports", files=files, headers=office.login("son_hoa"))
    assert done.status_code == 200 and done.json()["da_ghi"]
    after = {f["properties"]["ma"]: f["properties"] for f in office.get("/api/layers/communes?year=2024").json()["features"]}
    assert all(after[c]["trang_thai_tieu_chi"]["17"] == "khong_dat" and after[c]["hang"] == "chua_dat" for c in targets)
    again = office.post("/api/imports", files=files, headers=office.login("son_hoa")).json()
    assert again["tom_tat"]["moi"] == again["tom_tat"]["thay_doi"] == 0 and not again["da_ghi"]
    # 5. edit one commune through the API, with If-Match
    code = targets[0]
    cur = office.get(f"/api/communes/{code}/assessments/2024")
    etag = cur.headers["etag"]
    body = {
        "ket_qua": [{"bo_tieu_chi": "ntm", "tieu_chi": "17", "ket_qua": "dat"}],
        "nguon": "Biên bản kiểm tra 20/12/2024",
        "ghi_chu": "đã khắc phục",
    }
    put = office.put(f"/api/communes/{code}/assessments/2024", json=body, headers={**office.login("son_hoa"), "If-Match": etag})
    assert put.status_code == 200, put.text
    assert put.headers["etag"] != etag and put.json()["thay_doi"] == 1
    stale = office.put(
        f"/api/communes/{code}/assessments/2024",
        json=body | {"ket_qua": [{"bo_tieu_chi": "ntm", "tieu_chi": "17", "ket_qua": "khong_dat"}]},
        headers={**office.login("editor"), "If-Match": etag},
    )
    assert stale.status_code == 412 and "đã được sửa bởi người khác" in stale.json()["loi"]
    assert office.get(f"/api/communes/{code}/assessments/2024").headers["etag"] == put.headers["etag"]
    # 6. read its history: who changed what, when, from what to what, the source and the note
    hist = office.get(f"/api/communes/{code}/history").json()
    latest = hist["thay_doi"][0]
    assert (latest["nguoi_nhap"], latest["tieu_chi"], latest["tu"], latest["thanh"]) == ("Cán bộ Sơn Hòa", "17", "khong_dat", "dat")
    assert latest["nguon"] == "Biên bản kiểm tra 20/12/2024" and latest["ghi_chu"] == "đã khắc phục"
    imported = next(h for h in hist["thay_doi"][1:] if h["tieu_chi"] == "17" and h["nam"] == 2024)
    assert (
        imported["nguon"].startswith("son-hoa-2024.xlsx")
        and imported["thanh"] == "khong_dat"
        and imported["nguoi_nhap"] == "Cán bộ Sơn Hòa"
    )
    # and the layer as of the import (before the edit) still shows the imported state
    as_of = office.get("/api/layers/communes", params={"year": 2024, "as_of": imported["thoi_gian"]}).json()
    assert {f["properties"]["ma"]: f["properties"] for f in as_of["features"]}[code]["trang_thai_tieu_chi"]["17"] == "khong_dat"


def test_permissions(office, province):
    code_son_hoa = xa_in(province, SON_HOA)[0]
    code_tay_hoa = xa_in(province, TAY_HOA)[0]
    body = {"ket_qua": [{"bo_tieu_chi": "ntm", "tieu_chi": "1", "ket_qua": "dat"}]}
    url = f"/api/communes/{code_son_hoa}/assessments/2024"
    etag = office.get(url).headers["etag"]
    r = office.put(url, json=body, headers={"If-Match": etag})
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer" and "Authorization: Bearer" in r.json()["loi"]
    r = office.put(url, json=body, headers={"If-Match": etag, "Authorization": "Bearer sai"})
    assert r.status_code == 401 and "không đúng" in r.json()["loi"]
    r = office.put(url, json=body, headers={"If-Match": etag, **office.login("viewer")})
    assert r.status_code == 403 and "quyền xem" in r.json()["loi"]
    other = f"/api/communes/{code_tay_hoa}/assessments/2024"
    r = office.put(other, json=body, headers={"If-Match": office.get(other).headers["etag"], **office.login("son_hoa")})
    assert r.status_code == 403 and "chỉ được sửa số liệu của Huyện Sơn Hòa" in r.json()["loi"]
    r = office.put(url, json=body, headers=office.login("son_hoa"))
    assert r.status_code == 428 and "If-Match" in r.json()["loi"]
    r = office.put(
        url,
        json={"ket_qua": [{"bo_tieu_chi": "ntm", "tieu_chi": "25", "ket_qua": "dat"}]},
        headers={"If-Match": etag, **office.login("admin")},
    )
    assert r.status_code == 422 and r.json()["cac_loi"][0]["cot"] == "ket_qua[0].tieu_chi"
    # an editor of Sơn Hòa cannot import a workbook touching another district
    wb = load_workbook(io.BytesIO(office.get("/api/templates/2024.xlsx").content))
    ws = wb[NTM]
    ws.cell({c.value: c.row for c in ws["A"]}[code_tay_hoa], 4, "Chưa đạt")
    buf = io.BytesIO()
    wb.save(buf)
    r = office.post("/api/imports", files={"tep": ("x.xlsx", buf.getvalue(), XLSX)}, headers=office.login("son_hoa"))
    assert r.status_code == 403 and "ngoài phạm vi" in r.json()["loi"] and code_tay_hoa in r.json()["loi"]
    assert "tệp thay đổi 1 xã" in r.json()["loi"]  # the unchanged rows of other districts are not held against it
    r = office.post("/api/imports", files={"tep": ("x.xlsx", buf.getvalue(), XLSX)}, headers=office.login("viewer"))
    assert r.status_code == 403


def test_an_if_match_naming_no_current_tag_is_412_and_writes_nothing(office, province, mapped_store):
    code, other = xa_in(province, SON_HOA)[:2]
    url = f"/api/communes/{code}/assessments/2024"
    cur = office.get(url)
    etag = cur.headers["etag"]
    assert etag == f'"{code}-2024-1"' and office.get(f"/api/communes/{other}/assessments/2024").headers["etag"] == f'"{other}-2024-1"'
    met = {r["tieu_chi"]: r["ket_qua"] for r in cur.json()["ket_qua"] if r["bo_tieu_chi"] == "ntm" and r["cap"] == "criterion"}["1"]
    body = {"ket_qua": [{"bo_tieu_chi": "ntm", "tieu_chi": "1", "ket_qua": "khong_dat" if met == "dat" else "dat"}]}  # a real change
    history, rows = office.get(f"/api/communes/{code}/history").json(), len(mapped_store.history())
    cases = {
        "a made-up tag": '"stale-etag"',
        "the tag of another xã at the same version": f'"{other}-2024-1"',
        "the tag of another year": f'"{code}-2023-1"',
        "a layer's tag": office.get("/api/layers/communes?year=2024").headers["etag"],
        "unquoted": "abc",
        "unquoted version": f"{code}-2024-1",
        "a non-ASCII digit": '"²"'.encode(),
        "weak (never matches for If-Match)": f'W/"{code}-2024-1"',
        "zero-padded version": f'"{code}-2024-01"',
        "an older version": f'"{code}-2024-0"',
        "5,000 digits": '"' + "7" * 5000 + '"',
        "5,000 digits, bare": "7" * 5000,
        "empty": "",
    }
    for name, value in cases.items():
        r = office.put(url, json=body, headers={**office.login("admin"), "If-Match": value})
        assert r.status_code == 412, (name, r.status_code, r.text[:300])
        loi = r.json()["loi"]
        shown = value.decode("latin-1") if isinstance(value, bytes) else value  # as the server reads header bytes
        assert loi.startswith("Tiêu đề If-Match: " + (shown[:40] or "(để trống)")), (name, loi)
        assert f"GET /api/communes/{code}/assessments/2024" in loi and "Không có gì được ghi" in loi, (name, loi)
        assert len(loi) < 400 and ("…" in loi) == (len(shown) > 40), (name, loi)
    assert (
        "đã được sửa bởi người khác"
        in office.put(url, json=body, headers={**office.login("admin"), "If-Match": f'"{code}-2024-0"'}).json()["loi"]
    )
    # preconditions come after what the request would answer without them: an unknown xã stays 404
    r = office.put("/api/communes/99999/assessments/2024", json=body, headers={**office.login("admin"), "If-Match": '"stale-etag"'})
    assert r.status_code == 404 and "mã gồm 5 chữ số" in r.json()["loi"]
    assert office.get(url).headers["etag"] == etag
    assert office.get(f"/api/communes/{code}/history").json() == history and len(mapped_store.history()) == rows
    # a list that names the current tag matches (RFC 9110: If-Match is a list of tags)
    r = office.put(url, json=body, headers={**office.login("admin"), "If-Match": f'"stale-etag", {etag}'})
    assert r.status_code == 200 and r.headers["etag"] == f'"{code}-2024-2"' and r.json()["thay_doi"] == 1


def test_if_match_star_matches_only_a_commune_year_with_results(tmp_path, province):
    """`*` matches when the commune-year exists, i.e. something was recorded for it (version >= 1); it never
    creates the first results: those need the tag of version 0 that GET answers."""
    store = Store.open(tmp_path / "empty.db")
    admin = {"Authorization": "Bearer " + add_user(store, province.registry, "Quản trị", "admin")}
    store.close()
    url = "/api/communes/22303/assessments/2024"
    body = {"ket_qua": [{"bo_tieu_chi": "ntm", "tieu_chi": "1", "ket_qua": "dat"}]}
    with TestClient(create_app(tmp_path / "empty.db")) as c:
        empty = c.get(url)
        assert empty.json()["ket_qua"] == [] and empty.headers["etag"] == '"22303-2024-0"'
        r = c.put(url, json=body, headers={**admin, "If-Match": "*"})
        assert r.status_code == 412 and "If-Match: *" in r.json()["loi"] and '"22303-2024-0"' in r.json()["loi"]
        assert c.get(url).json()["ket_qua"] == [] and c.get("/api/communes/22303/history").json()["thay_doi"] == []
        first = c.put(url, json=body, headers={**admin, "If-Match": empty.headers["etag"]})
        assert first.status_code == 200 and first.headers["etag"] == '"22303-2024-1"' and first.json()["moi"] == 1
        again = c.put(url, json={"ket_qua": [{**body["ket_qua"][0], "ket_qua": "khong_dat"}]}, headers={**admin, "If-Match": " * "})
        assert again.status_code == 200 and again.headers["etag"] == '"22303-2024-2"' and again.json()["thay_doi"] == 1
        assert c.get(url).json()["ket_qua"][0]["ket_qua"] == "khong_dat"


def test_recognitions(office, province):
    code = xa_in(province, TAY_HOA)[0]
    body = {"ma": code, "hang": "kieu_mau", "so_quyet_dinh": "99/QĐ-UBND", "ngay": "2024-12-20", "thao_tac": "cong_nhan"}
    assert office.post("/api/recognitions", json=body).status_code == 401
    r = office.post("/api/recognitions", json=body, headers=office.login("editor"))
    assert r.status_code == 201
    props = {f["properties"]["ma"]: f["properties"] for f in office.get("/api/layers/communes?year=2024").json()["features"]}
    assert props[code]["hang_cong_nhan"] == "kieu_mau" and props[code]["quyet_dinh"] == {"so": "99/QĐ-UBND", "ngay": "2024-12-20"}
    r = office.post(
        "/api/recognitions",
        json=body | {"thao_tac": "thu_hoi", "so_quyet_dinh": "100/QĐ-UBND", "ngay": "2024-12-28"},
        headers=office.login("admin"),
    )
    assert r.status_code == 201
    props = {f["properties"]["ma"]: f["properties"] for f in office.get("/api/layers/communes?year=2024").json()["features"]}
    assert props[code]["hang_cong_nhan"] != "kieu_mau"
    for bad, needle in [
        ({"hang": "vang"}, "hang='vang' không hợp lệ"),
        ({"ngay": "20/12/2024"}, "NĂM-THÁNG-NGÀY"),
        ({"ma": "22015"}, "không phải xã"),
    ]:
        r = office.post("/api/recognitions", json=body | bad, headers=office.login("admin"))
        assert r.status_code == 400 and needle in r.json()["loi"]
    hist = office.get(f"/api/communes/{code}/history").json()["quyet_dinh"]
    assert [h["thao_tac"] for h in hist[:2]] == ["thu_hoi", "cong_nhan"]


def test_reads_can_require_a_viewer(mapped_store, province):
    token = add_user(mapped_store, province.registry, "Lãnh đạo tỉnh", "viewer")
    settings = Settings(db=mapped_store.engine.url.database, require_viewer=True)
    with TestClient(create_app(settings=settings)) as c:
        assert c.get("/api/summary?year=2023").status_code == 401
        assert c.get("/map").status_code == 401
        assert c.get("/api/summary?year=2023", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_uploads_that_are_refused_change_nothing(office, mapped_store):
    before = len(mapped_store.history())
    big = b"x" * (20 * 1024 * 1024 + 10)
    r = office.post("/api/imports", files={"tep": ("big.xlsx", big, XLSX)}, headers=office.login("admin"))
    assert r.status_code == 413 and "tối đa 20 MB" in r.json()["loi"]
    r = office.post("/api/imports", files={"tep": ("anh.xlsx", b"\x89PNG\r\n\x1a\n", XLSX)}, headers=office.login("admin"))
    assert r.status_code == 422 and "không phải sổ Excel" in r.json()["cac_loi"][0]["thong_bao"]
    csv_bom = "\ufeffma_xa,nam,bo_tieu_chi,tieu_chi,ket_qua\n22015,2023,ntm,1,dat\n".encode()
    r = office.post("/api/imports", files={"tep": ("a.csv", csv_bom, "text/csv")}, headers=office.login("admin"))
    assert r.status_code == 422 and r.json()["cac_loi"][0]["cot"] == "ma_xa" and r.json()["cac_loi"][0]["dong"] == 2
    text = "ma_xa,nam,bo_tieu_chi,tieu_chi,ket_qua\n22303,2023,ntm,1,Không đạt\n"
    r = office.post("/api/imports?dry_run=true", files={"tep": ("b.csv", windows_1258(text), "text/csv")}, headers=office.login("admin"))
    assert r.status_code == 200 and r.json()["chi_tiet"][0]["moi"] == "khong_dat"
    assert len(mapped_store.history()) == before
    assert office.get("/docs").status_code == 200  # and the server is still up


def test_malformed_bodies_are_400_not_500(office, province):
    code = xa_in(province, SON_HOA)[0]
    url = f"/api/communes/{code}/assessments/2024"
    etag = office.get(url).headers["etag"]
    h = {"If-Match": etag, **office.login("admin")}
    r = office.put(url, json={"ket_qua": ["17"]}, headers=h)
    assert r.status_code == 422 and "mỗi kết quả là một đối tượng" in r.json()["cac_loi"][0]["thong_bao"]
    r = office.put(url, json={"ket_qua": [{"bo_tieu_chi": "ntm", "tieu_chi": "1", "ket_qua": "dat"}], "ghi_chu": 5}, headers=h)
    assert r.status_code == 400 and "phải là một chuỗi" in r.json()["loi"]
    r = office.post(
        "/api/recognitions",
        json={"ma": code, "hang": "ntm", "so_quyet_dinh": "1", "ngay": "2024-01-01", "ghi_chu": 7},
        headers=office.login("admin"),
    )
    assert r.status_code == 400


def test_uploads_are_refused_before_the_body_is_read(office):
    r = office.post(
        "/api/imports",
        content=b"x" * 100,
        headers={"Content-Type": "multipart/form-data; boundary=x", "Content-Length": str(50 * 1024 * 1024), **office.login("admin")},
    )
    assert r.status_code == 413
    r = office.post("/api/imports", files={"tep": ("a.csv", b"ma_xa,nam,bo_tieu_chi,tieu_chi,ket_qua\n", "text/csv")})
    assert r.status_code == 401


def test_a_megabyte_of_bad_rows_gets_a_bounded_answer_with_the_total(office, mapped_store):
    """Issue 9, part 5: the first 200 errors, values cut short, the total and a count per column and kind."""
    from tests.test_imports import bad_megabyte

    text, counts = bad_megabyte()
    before = len(mapped_store.history())
    r = office.post("/api/imports", files={"tep": ("sai.csv", text.encode(), "text/csv")}, headers=office.login("admin"))
    assert r.status_code == 422 and len(r.content) < 100_000, len(r.content)
    body = r.json()
    assert body["so_loi"] == sum(counts.values()) and f"{body['so_loi']} lỗi" in body["loi"]
    assert len(body["cac_loi"]) == 200 and body["cac_loi"][0]["gia_tri"] == "x" * 59 + "…"
    assert {(g["cot"], g["thong_bao"]): g["so_loi"] for g in body["tom_tat"]} == counts
    assert len(mapped_store.history()) == before


def test_free_text_is_limited_and_invisible_characters_are_removed(office, province, mapped_store):
    """Issue 9, part 5: a decision number over 200 characters, a source or a note over 500, is 422 naming the
    field and the limit, and writes nothing; zero-width and bidirectional controls are dropped."""
    code = xa_in(province, TAY_HOA)[1]
    admin = office.login("admin")
    decision = {"ma": code, "hang": "ntm", "so_quyet_dinh": "5/QĐ-UBND", "ngay": "2024-03-01", "thao_tac": "cong_nhan"}
    decisions = office.get(f"/api/communes/{code}/history").json()["quyet_dinh"]
    for field, value, needle in [
        ("so_quyet_dinh", "9" * 201, "so_quyet_dinh dài 201 ký tự, vượt giới hạn 200 ký tự"),
        ("ghi_chu", "n" * 501, "ghi_chu dài 501 ký tự, vượt giới hạn 500 ký tự"),
    ]:
        r = office.post("/api/recognitions", json=decision | {field: value}, headers=admin)
        assert r.status_code == 422 and needle in r.json()["loi"], r.text[:300]
    # a value that is only echoed is cut short in the answer
    r = office.post("/api/recognitions", json=decision | {"hang": "v" * 100_000}, headers=admin)
    assert r.status_code == 400 and len(r.json()["loi"]) < 300
    assert office.get(f"/api/communes/{code}/history").json()["quyet_dinh"] == decisions
    hostile = "\u200b5/QĐ\u200d-UBND\ufeff\u202e\u2066"
    r = office.post("/api/recognitions", json=decision | {"so_quyet_dinh": hostile, "ghi_chu": "Theo\u2060 tờ trình\u202c"}, headers=admin)
    assert r.status_code == 201
    stored = office.get(f"/api/communes/{code}/history").json()["quyet_dinh"][0]  # newest first
    assert (stored["so_quyet_dinh"], stored["ghi_chu"]) == ("5/QĐ-UBND", "Theo tờ trình")
    # results: the source and the note
    url = f"/api/communes/{code}/assessments/2024"
    etag, rows = office.get(url).headers["etag"], len(mapped_store.history())
    item = {"bo_tieu_chi": "ntm", "tieu_chi": "1", "ket_qua": "dat"}
    for field, needle in [("nguon", "nguon dài 501 ký tự, vượt giới hạn 500"), ("ghi_chu", "ghi_chu dài 501 ký tự, vượt giới hạn 500")]:
        r = office.put(url, json={"ket_qua": [item], field: "s" * 501}, headers={**admin, "If-Match": etag})
        assert r.status_code == 422 and needle in r.json()["loi"]
    r = office.post(
        "/api/imports?ghi_chu=" + "g" * 501,
        files={"tep": ("a.csv", b"ma_xa,nam,bo_tieu_chi,tieu_chi,ket_qua\n", "text/csv")},
        headers=admin,
    )
    assert r.status_code == 422 and "ghi_chu dài 501 ký tự" in r.json()["loi"]
    assert office.get(url).headers["etag"] == etag and len(mapped_store.history()) == rows


def test_user_names_are_limited_and_cleaned(store, province):
    with pytest.raises(InvalidParameter, match="tên tài khoản dài 201 ký tự, vượt giới hạn 200 ký tự"):
        add_user(store, province.registry, "A" * 201, "viewer")
    token = add_user(store, province.registry, "\u202eNguyễn\u200b Văn B\ufeff", "viewer")
    assert authenticate(store, token).name == "Nguyễn Văn B"
    with pytest.raises(AccountError, match="Đã có tài khoản"):
        add_user(store, province.registry, "Nguyễn Văn B\u200d", "viewer")
    revoke_user(store, "Nguyễn Văn B\u2069")
    assert list_users(store)["revoked_at"].notna().all()
