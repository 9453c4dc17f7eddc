"""Odd input that used to give 500 (or, worse, was silently taken) gets a 4xx with a located Vietnamese message
and changes nothing (issue 9.6), and district-level criteria are written by an admin only (issue 9.7)."""

import io
import zipfile

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from api.app import create_app
from nongthon.accounts import NotAllowed, User, add_user
from nongthon.workbooks import SET_SHEETS

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEAD = "ma_xa,nam,bo_tieu_chi,tieu_chi,ket_qua\n"
SON_HOA = "560"


@pytest.fixture
def office(sample_store, province):
    """The API over a private copy of the sample, with an admin, a Sơn Hòa editor and a province-wide editor."""
    reg = province.registry
    tokens = {
        "admin": add_user(sample_store, reg, "Quản trị", "admin"),
        "son_hoa": add_user(sample_store, reg, "Cán bộ Sơn Hòa", "editor", SON_HOA),
        "editor": add_user(sample_store, reg, "Văn phòng điều phối", "editor"),
    }
    with TestClient(create_app(sample_store.engine.url.database)) as c:
        c.login = lambda who: {"Authorization": f"Bearer {tokens[who]}"}
        c.rows = lambda: len(sample_store.history())  # every result row ever written
        c.decisions = lambda: len(sample_store.recognitions())
        yield c


def son_hoa_xa(province) -> str:
    xa = province.registry.xa()
    return xa[xa["district_code"] == SON_HOA].index[0]


def csv_file(text: str) -> dict:
    return {"tep": ("tep.csv", text.encode("utf-8"), "text/csv")}


def only_error(r) -> dict:
    assert r.status_code == 422, (r.status_code, r.text[:300])
    body = r.json()
    assert body["so_loi"] == 1, body
    return body["cac_loi"][0]


# -- 9.6: digits that are not 0–9 -------------------------------------------------------------------------------


def test_arabic_indic_digits_in_a_put_result_are_refused_where_they_stand(office, province):
    code = son_hoa_xa(province)
    url = f"/api/communes/{code}/assessments/2024"
    before = office.get(url)
    rows = office.rows()
    body = {
        "ket_qua": [{"bo_tieu_chi": "ntm", "tieu_chi": "1", "ket_qua": "dat"}, {"bo_tieu_chi": "ntm", "tieu_chi": "15.3", "ket_qua": "٢١"}]
    }
    r = office.put(url, json=body, headers={**office.login("admin"), "If-Match": before.headers["etag"]})
    err = only_error(r)
    assert (err["dong"], err["cot"], err["gia_tri"]) == (2, "ket_qua[1].ket_qua", "٢١")
    assert "chữ số 0–9" in err["thong_bao"]
    after = office.get(url)
    assert after.headers["etag"] == before.headers["etag"] and after.json() == before.json() and office.rows() == rows
    # the same value in ASCII digits is taken: the refusal is about the digits, not the value
    ok = office.put(url, json={"ket_qua": [{**body["ket_qua"][1], "ket_qua": "21"}]}, headers={**office.login("admin"), "If-Match": "*"})
    assert ok.status_code == 200
    assert [x["ket_qua"] for x in office.get(url).json()["ket_qua"] if x["tieu_chi"] == "15.3" and x["bo_tieu_chi"] == "ntm"] == [21.0]


YEARS = "năm phải là số nguyên có bộ tiêu chí áp dụng: 2016–2021 (qd1980-2016), 2022–2025 (qd318-2022)"


@pytest.mark.parametrize(
    "line, column, value, message",
    [
        (
            "22303,2023,ntm,15.3,٢١",
            "ket_qua",
            "٢١",
            "kết quả phải là dat, khong_dat, hoặc một số viết bằng chữ số 0–9",
        ),  # was taken as no value
        ("22303,2023,ntm,15.3,²¹", "ket_qua", "²¹", "kết quả phải là dat, khong_dat, hoặc một số viết bằng chữ số 0–9"),
        ("559,²⁰²³,huyen_ntm,2,dat", "nam", "²⁰²³", YEARS),  # a district row: was a 500
        ("559,٢٠٢٣,huyen_ntm,2,dat", "nam", "٢٠٢٣", YEARS),  # a district row: was read as 2023
        ("٢٢٣٠٣,2023,ntm,1,dat", "ma_xa", "٢٢٣٠٣", "mã xã phải gồm đúng 5 chữ số (mã GSO)"),
    ],
)
def test_digits_other_than_0_to_9_in_a_csv_are_refused_where_they_stand(office, line, column, value, message):
    rows = office.rows()
    r = office.post("/api/imports", files=csv_file(HEAD + "22303,2023,ntm,1,khong_dat\n" + line + "\n"), headers=office.login("admin"))
    err = only_error(r)
    assert (err["dong"], err["cot"], err["gia_tri"]) == (3, column, value)
    assert err["thong_bao"].startswith(message)
    assert office.rows() == rows


def test_lone_surrogates_in_a_json_body_are_dropped_not_500(office, province):
    """JSON may carry "\\ud800", which no store and no answer can encode: free text loses it, a result without it
    is refused where it stands."""
    code = son_hoa_xa(province)
    url = f"/api/communes/{code}/assessments/2024"
    h = {**office.login("admin"), "If-Match": "*", "Content-Type": "application/json"}
    rows = office.rows()
    r = office.put(url, content=b'{"ket_qua":[{"bo_tieu_chi":"ntm","tieu_chi":"15.3","ket_qua":"\\ud800"}]}', headers=h)
    err = only_error(r)
    assert (err["cot"], err["gia_tri"]) == ("ket_qua[0].ket_qua", "") and office.rows() == rows
    body = b'{"ket_qua":[{"bo_tieu_chi":"ntm","tieu_chi":"15.3","ket_qua":"33.5"}],"nguon":"Bi\\ud800\\u00ean b\\u1ea3n","ghi_chu":"a\\udfff\\u0000b"}'
    assert office.put(url, content=body, headers=h).status_code == 200
    latest = office.get(f"/api/communes/{code}/history").json()["thay_doi"][0]
    assert (latest["nguon"], latest["ghi_chu"], latest["thanh"]) == ("Biên bản", "ab", 33.5)
    r = office.post(
        "/api/recognitions",
        content=b'{"ma":"%s","hang":"ntm","so_quyet_dinh":"5\\ud800/Q\\u0110","ngay":"2024-12-20"}' % code.encode(),
        headers=h,
    )
    assert r.status_code == 201
    assert office.get(f"/api/communes/{code}/history").json()["quyet_dinh"][0]["so_quyet_dinh"] == "5/QĐ"


# -- 9.6: as_of ---------------------------------------------------------------------------------------------------

AS_OF_ROUTES = {
    "/api/layers/communes": {"year": 2023},
    "/api/layers/districts": {"year": 2023},
    "/api/communes/{code}": {},
    "/api/summary": {"year": 2023},
    "/api/progress": {"year": 2023},
    "/api/history/units": {"year": 2023, "don_vi": "moi"},
}
#: the OGC API's routes (api/ogc.py) take as_of too; their errors are OGC exceptions, 400 {code, description, loi}
OGC_AS_OF_ROUTES = {
    "/ogc": {},
    "/ogc/api": {},
    "/ogc/conformance": {},
    "/ogc/collections": {},
    "/ogc/collections/{collection_id}": {},
    "/ogc/collections/{collection_id}/items": {"nam": 2023},
    "/ogc/collections/{collection_id}/items/{feature_id}": {"nam": 2023},
}
#: the national view's routes (api/national.py): checked with the API's routes where they take as_of
NATIONAL_AS_OF_ROUTES = {"/api/layers/provinces", "/api/national/summary"}


@pytest.mark.parametrize("path", list(AS_OF_ROUTES))
def test_as_of_at_the_ends_of_the_calendar(office, path):
    url, params = path.replace("{code}", "22303"), AS_OF_ROUTES[path]
    now = office.get(url, params=params)
    assert now.status_code == 200
    # the last moment of year 9999 east of UTC is still in 9999 in UTC: everything is known then
    late = office.get(url, params={**params, "as_of": "9999-12-31T23:59:59+14:00"})
    assert late.status_code == 200 and late.json() == now.json()
    # the first moment of year 1 west of UTC is still in year 1 in UTC: nothing was known then
    early = office.get(url, params={**params, "as_of": "0001-01-01T00:00:00-12:00"})
    assert early.status_code == 200 and early.json() != now.json()
    if path == "/api/summary":
        assert early.json()["xa_co_so_lieu"] == 0 and all(u["dat_ntm"] == 0 for u in early.json()["don_vi"])
    if path == "/api/communes/{code}":
        assert early.json()["cac_nam"] == []
    # past the calendar once in UTC: 422 naming as_of and the value, not 500
    for value in ("9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00"):
        r = office.get(url, params={**params, "as_of": value})
        assert r.status_code == 422, (value, r.status_code, r.text[:200])
        assert r.json()["loi"].startswith(f"as_of={value!r}") and "0001-01-01 – 9999-12-31 theo giờ UTC" in r.json()["loi"]


@pytest.mark.parametrize("path", list(AS_OF_ROUTES))
def test_as_of_is_a_moment_never_a_number(office, path):
    """A number used to be read as Unix seconds (or milliseconds past 2·10¹⁰): as_of=2023 meant 1970-01-01T00:33:43Z."""
    paths = office.get("/openapi.json").json()["paths"]  # these tests cover every route that takes as_of
    takes = {p for p, ops in paths.items() for op in ops.values() if any(q["name"] == "as_of" for q in op.get("parameters", []))}
    assert takes - NATIONAL_AS_OF_ROUTES == set(AS_OF_ROUTES) | set(OGC_AS_OF_ROUTES)
    url, params = path.replace("{code}", "22303"), AS_OF_ROUTES[path]
    for value in ("1", "2023", "-1", "1.5", " 1700000000 "):
        r = office.get(url, params={**params, "as_of": value})
        assert r.status_code == 422, (value, r.status_code)
        detail = r.json()["chi_tiet"][0]
        assert (detail["tham_so"], detail["gia_tri"]) == ("as_of", value)
        assert "ISO 8601" in detail["yeu_cau"] and "không nhận số" in detail["yeu_cau"]
    # what is allowed: a moment with an offset (or Z), without one (UTC), or a date
    for moment in ("2024-06-30T07:00:00+07:00", "2024-06-30"):
        assert office.get(url, params={**params, "as_of": moment}).status_code == 200, moment


# -- 9.6: a workbook carrying a DTD -------------------------------------------------------------------------------


def edited_workbook(office, province) -> tuple[bytes, str]:
    """The 2024 workbook with one real change (a Sơn Hòa xã's criterion 1 flipped); and the part of its NTM sheet."""
    wb = load_workbook(io.BytesIO(office.get("/api/templates/2024.xlsx").content))
    ws = wb[SET_SHEETS["ntm"]]
    row = {c.value: c.row for c in ws["A"]}[son_hoa_xa(province)]
    col = next(c.column for c in ws[1] if str(c.value).startswith("1."))
    ws.cell(row, col, "Chưa đạt" if ws.cell(row, col).value == "Đạt" else "Đạt")
    part = f"xl/worksheets/sheet{wb.sheetnames.index(SET_SHEETS['ntm']) + 1}.xml"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue(), part


def rewrite_part(data: bytes, part: str, edit) -> bytes:  # noqa: ANN001 - bytes -> bytes
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            body = zin.read(item.filename)
            zout.writestr(item, edit(body) if item.filename == part else body)
    return out.getvalue()


def test_a_workbook_carrying_a_dtd_is_refused_naming_the_part(office, province):
    data, part = edited_workbook(office, province)
    upload = lambda d: {"tep": ("so.xlsx", d, XLSX)}  # noqa: E731
    dry = office.post("/api/imports?dry_run=true", files=upload(data), headers=office.login("admin"))
    assert dry.status_code == 200 and dry.json()["tom_tat"]["thay_doi"] == 1  # without the DTD it would write
    rows = office.rows()
    dtds = {
        "declared, unused": b'<!DOCTYPE worksheet [<!ENTITY a "x">]>',
        "an external entity, used": b'<!DOCTYPE worksheet [<!ENTITY a SYSTEM "file:///etc/passwd">]>',
        "an external DTD": b'<!DOCTYPE worksheet SYSTEM "http://example.invalid/x.dtd">',
    }
    for name, dtd in dtds.items():
        bad = rewrite_part(
            data,
            part,
            lambda body, dtd=dtd: dtd + body.replace(b"<sheetData>", b"<sheetData>&a;" if b"ENTITY" in dtd else b"<sheetData>", 1),
        )
        err = only_error(office.post("/api/imports", files=upload(bad), headers=office.login("admin")))
        assert (err["gia_tri"], err["dong"]) == (part, 0) and "<!DOCTYPE" in err["thong_bao"], name
    # however far down the prolog (behind 70 KB of comment), the DTD is found
    hidden = rewrite_part(data, part, lambda body: b"<!--" + b" " * 70_000 + b"-->" + dtds["declared, unused"] + body)
    err = only_error(office.post("/api/imports", files=upload(hidden), headers=office.login("admin")))
    assert (err["gia_tri"], err["dong"]) == (part, 0) and "<!DOCTYPE" in err["thong_bao"]
    # an entity with no DTD at all cannot be read: refused as unreadable, not 500
    undefined = rewrite_part(data, part, lambda body: body.replace(b"<sheetData>", b"<sheetData>&a;", 1))
    err = only_error(office.post("/api/imports", files=upload(undefined), headers=office.login("admin")))
    assert "không phải sổ Excel .xlsx đọc được" in err["thong_bao"]
    assert office.rows() == rows


# -- 9.6: recognitions ----------------------------------------------------------------------------------------------


def decision(code: str, **kw) -> dict:
    return {"ma": code, "hang": "ntm", "so_quyet_dinh": "77/QĐ-UBND", "ngay": "2024-12-20", "thao_tac": "cong_nhan"} | kw


def test_a_decision_is_dated_in_the_programme_years(office, province):
    """The programme's years are the catalogues' years: 2016–2025 for Phú Yên."""
    code = son_hoa_xa(province)
    before = office.decisions()
    for day in ("0001-01-01", "9999-12-31", "2015-12-31", "2026-01-01"):
        r = office.post("/api/recognitions", json=decision(code, ngay=day), headers=office.login("admin"))
        assert r.status_code == 400, day
        assert r.json()["loi"].startswith(f"ngay={day!r} nằm ngoài các năm của chương trình") and "2016–2025" in r.json()["loi"]
    assert office.decisions() == before
    for day in ("2016-01-01", "2025-12-31"):
        assert office.post("/api/recognitions", json=decision(code, ngay=day), headers=office.login("admin")).status_code == 201, day


@pytest.mark.parametrize("day", [20241220, "20241220", "2024-W51-5"])
def test_a_decision_date_is_written_year_month_day(office, province, day):
    """date.fromisoformat alone took a JSON number (20241220) and ISO week dates."""
    before = office.decisions()
    r = office.post("/api/recognitions", json=decision(son_hoa_xa(province), ngay=day), headers=office.login("admin"))
    assert r.status_code == 400 and r.json()["loi"] == f"ngay={day!r} không hợp lệ; dùng dạng NĂM-THÁNG-NGÀY, ví dụ 2024-12-20"
    assert office.decisions() == before


def test_the_same_decision_posted_twice_is_recorded_once(office, province):
    code = son_hoa_xa(province)
    before = office.decisions()
    first = office.post("/api/recognitions", json=decision(code), headers=office.login("son_hoa"))
    assert first.status_code == 201 and first.json()["da_co"] is False
    again = office.post("/api/recognitions", json=decision(code), headers=office.login("admin"))  # a retry, by anyone allowed
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"] and again.json()["da_co"] is True
    assert (
        again.json()["thong_bao"]
        == f"Quyết định 77/QĐ-UBND ngày 2024-12-20 của xã {code} đã được ghi (id {first.json()['id']}); không ghi thêm."
    )
    assert office.decisions() == before + 1
    hist = office.get(f"/api/communes/{code}/history").json()["quyet_dinh"]
    assert [h["so_quyet_dinh"] for h in hist].count("77/QĐ-UBND") == 1
    # another number, date, tier or action is another decision
    for other in ({"so_quyet_dinh": "78/QĐ-UBND"}, {"ngay": "2024-12-21"}, {"hang": "nang_cao"}, {"thao_tac": "thu_hoi"}):
        r = office.post("/api/recognitions", json=decision(code, **other), headers=office.login("admin"))
        assert r.status_code == 201 and r.json()["id"] != first.json()["id"], other
    assert office.decisions() == before + 5


# -- 9.7: district-level criteria are written by an admin only -------------------------------------------------------


def test_only_an_admin_writes_district_level_criteria(office, province, sample_store):
    reg = province.registry
    assert reg.units.at[SON_HOA, "level"] == "district"
    row = f"{SON_HOA},2023,huyen_ntm,1,khong_dat\n"
    before = sample_store.current_results(years=[2023], units=[SON_HOA])
    rows = office.rows()
    for who in ("son_hoa", "editor"):  # its own district's editor, and the province-wide editor
        for dry in ("true", "false"):
            r = office.post(f"/api/imports?dry_run={dry}", files=csv_file(HEAD + row), headers=office.login(who))
            assert r.status_code == 403, (who, dry, r.text[:200])
            assert "Huyện Sơn Hòa (560)" in r.json()["loi"] and "chỉ tài khoản quản trị" in r.json()["loi"]
    assert office.rows() == rows
    done = office.post("/api/imports", files=csv_file(HEAD + row), headers=office.login("admin"))
    assert done.status_code == 200 and done.json()["da_ghi"]
    now = sample_store.current_results(years=[2023], units=[SON_HOA])
    assert len(now) == len(before) + (1 - int(((before["tier_set"] == "huyen_ntm") & (before["item"] == "1")).sum()))
    got = now[(now["tier_set"] == "huyen_ntm") & (now["item"] == "1")]
    assert len(got) == 1 and not bool(got["met"].iloc[0])
    # a file that repeats the recorded district row unchanged is not held against the editor's change to its xã
    xa_row = f"{son_hoa_xa(province)},2023,ntm,1,khong_dat\n"
    r = office.post("/api/imports", files=csv_file(HEAD + row + xa_row), headers=office.login("son_hoa"))
    assert r.status_code == 200, r.text[:300]


def test_check_write_refuses_an_editor_a_district_level_unit(province):
    reg = province.registry
    son_hoa_editor = User(1, "Cán bộ Sơn Hòa", "editor", SON_HOA)
    for user in (son_hoa_editor, User(2, "Văn phòng điều phối", "editor", None)):
        with pytest.raises(NotAllowed, match=r"Huyện Sơn Hòa \(560\).*chỉ tài khoản quản trị"):
            user.check_write(reg, SON_HOA)
        user.check_write(reg, son_hoa_xa(province))  # its xã stay writable
    User(3, "Quản trị", "admin", None).check_write(reg, SON_HOA)


@pytest.mark.parametrize("path", list(OGC_AS_OF_ROUTES))
def test_ogc_as_of_is_a_moment_never_a_number(office, path):
    url = path.replace("{collection_id}", "communes").replace("{feature_id}", "22303")
    for value in ("2023", "1.5", "-1"):
        r = office.get(url, params={**OGC_AS_OF_ROUTES[path], "as_of": value})
        assert r.status_code == 400, (value, r.status_code)
        assert r.json()["code"] == "InvalidParameterValue" and f"as_of={value!r}" in r.json()["loi"] and "ISO 8601" in r.json()["loi"]


@pytest.mark.parametrize(
    ("url", "named"),
    [
        ("/api/layers/communes?year=2024&don_vi=" + "m" * 10_000, "don_vi="),
        ("/api/communes/22303?don_vi=" + "ú" * 1_000, "Giai đoạn"),
        ("/api/map/du-bao?year=" + "9" * 5_000, "tham số year="),
        ("/api/national/summary?year=" + "9" * 5_000, "tham số year="),
        ("/api/projections?horizon=" + "9" * 5_000, "tham số horizon="),
    ],
)
def test_a_huge_value_is_echoed_cut_and_named_in_vietnamese(office, url, named):
    """A value of thousands of characters costs a short answer: the parameter named, the value cut to 60 characters
    (errors.VALUE_CHARS) and marked …, what is allowed in Vietnamese — never the value sent back whole."""
    r = office.get(url)
    assert r.status_code == 422 and len(r.content) < 1_000, (r.status_code, len(r.content))
    loi = r.json()["loi"]
    assert named in loi and "…" in loi and "Unable" not in loi  # not pydantic's English
    assert any(word in loi for word in ("không hợp lệ", "không có", "phải là số nguyên"))
