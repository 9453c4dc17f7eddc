"""English labels, a switch and not a fork (issue 12, part 4): `?lang=en` / `--lang en` turn the error messages,
the map page and the workbook's instructions into English through the one table nongthon/lang/en.yaml;
Vietnamese stays the default and the source; keys, headers and parameters never change."""

import io
import json
import re
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from api.app import create_app
from nongthon.accounts import add_user
from nongthon.imports import import_file
from nongthon.lang import LANGS, check_lang, placeholders, translate
from nongthon.maps import MAP_TEXT_VI
from nongthon.validation import former_unit_messages
from tests.live import chromium, serving

ROOT = Path(__file__).resolve().parents[1]
TABLE = ROOT / "nongthon" / "lang" / "en.yaml"
ARTIFACTS = ROOT / "test-artifacts"
#: letters that only Vietnamese writes (English text has none, once names, which are data, are taken out)
VI_LETTERS = re.compile(r"[àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ]", re.I)


def vietnamese_left(text: str, names=()) -> list[str]:
    """The Vietnamese letters of ``text`` once the given names (data) are taken out."""
    for name in sorted(names, key=len, reverse=True):
        text = text.replace(name, "")
    return VI_LETTERS.findall(text)


# -- the table ------------------------------------------------------------------------------------------------------


def raw_table() -> dict[str, list[tuple[str, str]]]:
    """The table's entries per section as the file writes them, duplicates included (yaml.safe_load would keep
    only the last of two equal keys)."""
    root = yaml.compose(TABLE.read_text(encoding="utf-8"))
    return {k.value: [(a.value, b.value) for a, b in v.value] for k, v in root.value}


def test_the_table_is_two_sections_of_text_without_duplicates():
    sections = raw_table()
    assert set(sections) == {"messages", "labels"}
    keys = [vi for entries in sections.values() for vi, _ in entries]
    assert len(keys) == len(set(keys)), sorted({k for k in keys if keys.count(k) > 1})
    for vi, en in (e for entries in sections.values() for e in entries):
        assert vi == unicodedata.normalize("NFC", vi) and en == unicodedata.normalize("NFC", en)
        assert sorted(placeholders(vi)) == sorted(placeholders(en)), vi
        assert len(set(placeholders(vi))) == len(placeholders(vi)), f"{vi}: a placeholder twice"
        assert not vietnamese_left(
            en, ("Đạt", "Chưa đạt", "QĐ-TTg", "QĐ-UBND", "'Tiêu chí NTM'", "'Nâng cao'", "'Kiểu mẫu'", "'chưa đánh giá'", "(xã)")
        ), en


def test_every_entry_round_trips_with_sample_values():
    """A message template filled with sample values is matched whole and rendered with the same values; a label
    (looked up exactly) is its English as written."""
    sections = raw_table()
    for vi, en in sections["messages"]:
        values = {name: f"<{name.upper()}-7>" for name in placeholders(vi)}
        filled_vi, filled_en = vi, en
        for name, value in values.items():
            filled_vi, filled_en = filled_vi.replace("{" + name + "}", value), filled_en.replace("{" + name + "}", value)
        assert translate(filled_vi, "en") == filled_en, vi
    for vi, en in sections["labels"]:
        assert translate(vi, "en") == en
    assert translate("Năm 2031 không thuộc bộ tiêu chí nào; các năm được hỗ trợ: 2016–2021 (qd1980-2016)", "vi").startswith("Năm 2031")


def test_a_message_without_an_entry_stays_vietnamese_and_none_is_half_translated():
    for text in ("Năm 2031: một câu không có trong bảng", "Tiêu chí 17: Môi trường — ghi chú riêng", "Đạt chuẩn"):
        assert translate(text, "en") == text
    # a value inside a message is translated only when the table has it whole: a name stays a name
    assert translate("không có đơn vị cấp xã mã này trong danh mục Tỉnh Phú Yên", "en") == (
        "no commune-level unit has this code in the register of Tỉnh Phú Yên"
    )
    # several lines: each on its own, the indent and the bullet kept
    text = "Tệp a.csv bị từ chối, không có dữ liệu nào được ghi: 1 lỗi.\n  - dòng 2, cột nam, giá trị '1999': dòng lạ không có trong bảng"
    assert translate(text, "en") == (
        "File a.csv was rejected; nothing was written: 1 errors.\n  - row 2, column nam, value '1999': dòng lạ không có trong bảng"
    )


def test_a_hostile_value_inside_a_message_costs_little():
    """A value inside a message (a path someone sent) that repeats the table's own words is not translated again and
    again: it stays as sent, quickly, and the message around it is English (before, a recursion without end)."""
    import time

    for piece in (" 1 lỗi ở trang a, cột b: ", "dòng 1, cột 2, giá trị 3: ", "(a (b ", "mã 1 — a — không còn từ 1; nay thuộc b, "):
        path = "/api/" + piece * 300
        message = f"Không có đường dẫn {path}; xem các đường dẫn của API tại /docs, bản đồ tại /map."
        start = time.perf_counter()
        english = translate(message, "en")
        assert time.perf_counter() - start < 0.5
        assert english in (f"There is no path {path}; see the API's paths at /docs and the map at /map.", message)


def test_check_lang():
    assert LANGS == ("vi", "en") and check_lang(None) == "vi" and check_lang("en") == "en"
    with pytest.raises(ValueError, match=r"lang='xx' không hợp lệ; chọn: vi, en"):
        check_lang("xx")


def test_every_former_unit_message_of_the_new_dak_lak_is_in_english():
    """The row message for a code of a former unit (the import of the new units) names the new unit(s) to write
    instead: every one of the new Đắk Lắk's is covered, the names (data) kept."""
    messages = former_unit_messages("66")
    assert len(messages) > 100
    for code, vi in messages.items():
        en = translate(vi, "en")
        assert en.startswith(f"code {code} — ") and "no longer exists from 1/7/2025" in en, en
        assert (" is now part of " in en) != (" was divided between " in en), en
        assert en.endswith("not assessed for NTM") or "write the new code " in en, en
        for word in ("không còn", "nay thuộc", "hãy ghi", "hoặc", "chia cho"):
            assert word not in en, en


def test_the_messages_the_library_raises_are_in_english(province):
    """Years, units, criteria and parameters refused by the library itself (criteria.CatalogSet.for_year,
    deployment, units, layers, history.units_for_year), each as raised, then in English."""
    from nongthon.deployment import load_deployment
    from nongthon.errors import NongthonError
    from nongthon.history import units_for_year
    from nongthon.layers import check_detail, layer_units
    from nongthon.units import check_period, period_of_date

    calls = {
        lambda: province.catalogs.for_year(2031): "Year 2031 is not covered by any criteria set; supported years: 2016–2021 (qd1980-2016), "
        "2022–2025 (qd318-2022)",
        lambda: load_deployment("66").province_for(2040): "Year 2040 is not covered by any criteria set of Tỉnh Đắk Lắk "
        "(administrative units from 1 July 2025 (34 provinces, no districts)); supported years: ",
        lambda: province.registry.unit("99999"): "There is no unit with code '99999' in the register of Tỉnh Phú Yên, administrative units "
        "before 1 July 2025 (63 provinces, with districts) (",
        lambda: check_period("xx"): "There is no period 'xx'; only: cu (administrative units before 1 July 2025 (63 provinces, with "
        "districts)); moi (administrative units from 1 July 2025 (34 provinces, no districts)).",
        lambda: period_of_date("1/7/2025"): "Date '1/7/2025' is not valid; write YEAR-MONTH-DAY, e.g. 2025-07-01.",
        lambda: check_detail("zz"): "detail='zz' is not valid; choose: default, full",
        lambda: units_for_year(2026, "cu"): "don_vi=cu cannot be used for 2026: from 2026 there are only the new units (don_vi=moi); "
        "the former units (before 1 July 2025) exist for the years up to 2025 only.",
        lambda: layer_units(2024, "moi", "3"): "criterion=3 cannot be used with don_vi=moi for 2024: before 2026 a new commune only has a "
        "state derived from its former communes, no results per criterion; leave out criterion or use don_vi=cu.",
    }
    for call, english in calls.items():
        with pytest.raises(NongthonError) as caught:
            call()
        assert vietnamese_left(str(caught.value))
        assert translate(str(caught.value), "en").startswith(english), str(caught.value)


# -- the API ----------------------------------------------------------------------------------------------------------


@pytest.fixture
def client(mapped_store):
    app = create_app(mapped_store.engine.url.database)
    with TestClient(app) as c:
        c.store = mapped_store
        yield c


def test_an_error_in_english_and_in_vietnamese(client):
    r = client.get("/api/layers/communes", params={"year": 1999, "lang": "en"})
    assert r.status_code == 404 and list(r.json()) == ["loi"]
    loi = r.json()["loi"]
    assert loi.startswith("Year 1999 is not covered by any criteria set of Tỉnh Phú Yên")
    assert "supported years: 2016–2021 (qd1980-2016), 2022–2025 (qd318-2022)" in loi
    assert not vietnamese_left(loi, ["Tỉnh Phú Yên"])
    vi = client.get("/api/layers/communes", params={"year": 1999}).json()["loi"]
    assert vi.startswith("Năm 1999 không thuộc bộ tiêu chí nào của Tỉnh Phú Yên") and "các năm được hỗ trợ: 2016–2021" in vi
    assert client.get("/api/layers/communes", params={"year": 1999, "lang": "vi"}).json()["loi"] == vi


@pytest.mark.parametrize(
    "url", ["/api/layers/communes?year=2023&lang=xx", "/api/summary?lang=EN", "/map?year=2023&lang=fr", "/ogc?lang=vi&lang=de"]
)
def test_any_other_language_is_refused_on_every_path(client, url):
    r = client.get(url)
    assert r.status_code == 422
    text = r.json()["loi"] if r.headers["content-type"].startswith("application/json") else r.text
    value = re.search(r"lang=(\w+)$", url).group(1)
    assert f"lang=&#x27;{value}&#x27;" in text or f"lang='{value}'" in text
    assert "không hợp lệ; chọn: vi, en" in text


def test_the_html_error_page_in_english(client):
    r = client.get("/map", params={"year": 1999, "lang": "en"})
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert '<html lang="en">' in r.text and "<title>Error 404 — Not found</title>" in r.text
    assert "Year 1999 is not covered by any criteria set" in r.text
    assert '<a href="/map?lang=en">← Back to the NTM map</a>' in r.text and "API documentation" in r.text
    vi = client.get("/map", params={"year": 1999}).text
    assert (
        '<html lang="vi">' in vi
        and "<title>Lỗi 404 — Không tìm thấy</title>" in vi
        and '<a href="/map">← Về bản đồ nông thôn mới</a>' in vi
    )


def test_the_errors_of_the_api_error_table_are_covered(client, province, capsys):
    """Every error the API's table answers (404, 405, 422, 401, 403, 412, 428, 413, 400 …), asked in Vietnamese and
    in English: the same status and keys, and an English message with no Vietnamese left but names (data)."""
    store = client.store
    viewer = add_user(store, province.registry, "viewer1", "viewer")
    editor = add_user(store, province.registry, "editor1", "editor")
    editor_560 = add_user(store, province.registry, "editor560", "editor", district="560")
    put = "/api/communes/22303/assessments/2023"
    body = {"ket_qua": [{"bo_tieu_chi": "ntm", "tieu_chi": "17", "ket_qua": "dat"}]}

    def auth(token, **more):
        return {"Authorization": f"Bearer {token}", **more}

    cases = [
        ("GET", "/api/khong-co", {}, 404),
        ("POST", "/api/layers/communes", {}, 405),
        ("GET", "/api/layers/communes?year=abc", {}, 422),
        ("GET", "/api/layers/communes?year=2023&as_of=2023", {}, 422),
        ("GET", "/api/layers/communes?year=2023&as_of=hom-qua", {}, 422),
        ("GET", "/api/layers/communes?year=2023&detail=zz", {}, 422),
        ("GET", "/api/layers/communes?year=2023&criterion=25", {}, 404),
        ("GET", "/api/layers/communes?year=1999", {}, 404),
        ("GET", "/api/layers/communes?year=2023&don_vi=xx", {}, 422),
        ("GET", "/api/communes/99999", {}, 404),
        ("GET", "/api/communes/22303?don_vi=xx", {}, 422),
        ("GET", "/api/summary?year=2031", {}, 404),
        ("GET", "/api/projections?runs=5000", {}, 422),
        ("GET", "/api/projections?runs=0", {}, 422),
        ("PUT", put, {"json": body}, 401),
        ("PUT", put, {"json": body, "headers": auth("sai-ma")}, 401),
        ("PUT", put, {"json": body, "headers": auth(viewer, **{"If-Match": "*"})}, 403),
        ("PUT", put, {"json": body, "headers": auth(editor_560, **{"If-Match": "*"})}, 403),
        ("PUT", put, {"json": body, "headers": auth(editor)}, 428),
        ("PUT", put, {"json": body, "headers": auth(editor, **{"If-Match": '"22303-2023-999"'})}, 412),
        ("PUT", put, {"json": {"x": 1}, "headers": auth(editor, **{"If-Match": "*"})}, 400),
        ("PUT", put, {"content": b"{" + b" " * (2 * 1024 * 1024) + b"}", "headers": auth(editor, **{"If-Match": "*"})}, 413),
        ("POST", "/api/recognitions", {"json": {"ma": "22303", "hang": "vang"}, "headers": auth(editor)}, 400),
        (
            "POST",
            "/api/recognitions",
            {"json": {"ma": "22303", "hang": "ntm", "so_quyet_dinh": "1/QĐ", "ngay": "20-12-2024"}, "headers": auth(editor)},
            400,
        ),
    ]
    names = [*province.registry.units["name"], province.registry.province_name, "QĐ-UBND"]
    met, seen = 0, []
    for method, url, kwargs, status in cases:
        vi = client.request(method, url, **kwargs)
        en = client.request(method, url + ("&" if "?" in url else "?") + "lang=en", **kwargs)
        assert vi.status_code == en.status_code == status, (url, vi.text)
        assert set(vi.json()) == set(en.json()), url
        seen.append(vi.json()["loi"])
        assert vietnamese_left(vi.json()["loi"]), vi.json()["loi"]
        left = vietnamese_left(en.json()["loi"], names)
        met += not left
        assert not left, (url, en.json()["loi"])
    print(f"\nEnglish covers {met} of the {len(seen)} error messages of the API's table met here")


def test_a_rejected_import_in_english(client, province):
    """The headline, every row's message and the summary's kinds (the common kinds of validation.py) in
    English; the keys, the sheet and column names and the values as they were."""
    editor = add_user(client.store, province.registry, "editor1", "editor")
    csv = (
        b"ma_xa,nam,bo_tieu_chi,tieu_chi,ket_qua\n"
        b"2204,2023,ntm,17,dat\n"  # not 5 digits
        b"99999,2023,ntm,17,dat\n"  # no such unit
        b"22015,2023,ntm,17,dat\n"  # a phường
        b"22303,1999,ntm,17,dat\n"  # no catalogue
        b"22303,2023,xyz,17,dat\n"  # no such set
        b"22303,2023,ntm,25,dat\n"  # no such criterion
        b"22303,2023,ntm,17,tot\n"  # not a result word
        b"22303,2023,ntm,17,52.5\n"  # a number for a criterion
        b"22303,2023,ntm,2,dat\n"
        b"22303,2023,ntm,2,dat\n"  # twice
    )
    answers = {}
    for lang in ("vi", "en"):
        r = client.post(
            f"/api/imports?dry_run=true&lang={lang}", files={"tep": ("bad.csv", csv)}, headers={"Authorization": f"Bearer {editor}"}
        )
        assert r.status_code == 422
        answers[lang] = r.json()
    vi, en = answers["vi"], answers["en"]
    assert set(en) == set(vi) == {"loi", "so_loi", "cac_loi", "tom_tat"} and en["so_loi"] == vi["so_loi"] == 9
    assert en["loi"] == "File bad.csv was rejected; nothing was written: 9 errors."
    assert [(e["dong"], e["cot"], e["gia_tri"]) for e in en["cac_loi"]] == [(e["dong"], e["cot"], e["gia_tri"]) for e in vi["cac_loi"]]
    by_row = {e["dong"]: e["thong_bao"] for e in en["cac_loi"]}
    assert by_row[2] == "a commune code has exactly 5 digits (the GSO code), e.g. 22042"
    assert by_row[3] == "no commune-level unit has this code in the register of Tỉnh Phú Yên"
    assert by_row[4] == "Phường 1 is a ward, not assessed for NTM; only the codes of communes (xã) are accepted"
    assert by_row[5].startswith("the year must be a whole number that a criteria set covers: 2016–2021")
    assert by_row[6] == "the set must be one of: ntm, nang_cao, kieu_mau, ntm_hien_dai"
    assert by_row[7].startswith("not in the set of NTM communes (qd318-2022); a criterion number 1–19")
    assert by_row[8].startswith("the result must be dat, khong_dat, or a number")
    assert by_row[9].startswith("criterion 17 recorded as a whole takes dat or khong_dat only")
    assert by_row[11] == "repeats row 10 (same commune 22303, year 2023, set ntm); each result once per file"
    names = ["Tỉnh Phú Yên", "Phường 1", "(xã)"]
    for text in [*by_row.values(), *(g["thong_bao"] for g in en["tom_tat"])]:
        assert not vietnamese_left(text, names), text
    assert {g["thong_bao"] for g in en["tom_tat"]} >= {
        "the code of a ward or township, not assessed for NTM; only the codes of communes (xã) are accepted",
        "a result given twice in the file; each result once",
    }


def test_the_workbook_instructions_in_english(client, province):
    r = client.get("/api/templates/2023.xlsx", params={"lang": "en"})
    assert r.status_code == 200
    en = load_workbook(io.BytesIO(r.content))
    vi = load_workbook(io.BytesIO(client.get("/api/templates/2023.xlsx").content))
    assert en.sheetnames == vi.sheetnames and "Hướng dẫn" in en.sheetnames  # the import reads the sheets by name
    guide = [c.value for c in en["Hướng dẫn"]["A"] if c.value]
    assert guide[0] == "New Rural Development results workbook, 2023 — Tỉnh Phú Yên"
    assert guide[3].startswith("• Sheet 'Tiêu chí NTM' (NTM criteria): one row per commune")
    assert "Sheet names, column headers and the words Đạt / Chưa đạt stay in Vietnamese: the import reads them as they are." in guide
    assert guide[-1] == "NOTE: SAMPLE DATA — not official figures."
    keep = ["Tỉnh Phú Yên", "'Tiêu chí NTM'", "'Nâng cao'", "'Kiểu mẫu'", "'Chỉ tiêu'", "Đạt", "Chưa đạt", "QĐ-TTg", "'chưa đánh giá'"]
    for line in guide:
        assert not vietnamese_left(line, keep), line
    assert [c.value for c in vi["Hướng dẫn"]["A"] if c.value][0] == "Sổ kết quả xây dựng nông thôn mới năm 2023 — Tỉnh Phú Yên"
    assert en["Hướng dẫn"].oddFooter.center.text == "Page &P / &N"
    for sheet in ("Tiêu chí NTM", "Nâng cao", "Kiểu mẫu", "Chỉ tiêu"):  # data sheets: the same headers, the same words
        assert [c.value for c in en[sheet][1]] == [c.value for c in vi[sheet][1]]
        assert [d.formula1 for d in en[sheet].data_validations.dataValidation] == [
            d.formula1 for d in vi[sheet].data_validations.dataValidation
        ]
    assert '"Đạt,Chưa đạt"' in [d.formula1 for d in en["Tiêu chí NTM"].data_validations.dataValidation]
    # the English workbook imports back unchanged
    report = import_file(client.store, province, r.content, "so-en.xlsx", author="test", dry_run=True).report(province)
    assert report["tom_tat"]["moi"] == report["tom_tat"]["thay_doi"] == 0 and report["tom_tat"]["khong_doi"] > 0


# -- the map page ----------------------------------------------------------------------------------------------------


def page_data(html: str) -> dict:
    return json.loads(re.search(r'<script type="application/json" id="ntm-data">(.*?)</script>', html, re.S).group(1))


def vietnamese_labels() -> list[str]:
    """The fixed pieces of every Vietnamese label of the map's strings table that Vietnamese alone writes."""
    pieces = {p.strip() for text in MAP_TEXT_VI.values() for p in re.split(r"\{\w+\}", text)}
    return sorted(p for p in pieces if len(p) >= 4 and VI_LETTERS.search(p))


def test_the_map_page_in_english_has_no_vietnamese_label(client):
    html = client.get("/map", params={"year": 2023, "lang": "en"}).text
    data = page_data(html)
    assert data["ngon_ngu"] == "en" and data["kieu"]["dau_thap_phan"] == "."
    words = data["kieu"]["chu"]
    assert set(words) == set(MAP_TEXT_VI)
    for key, vi in MAP_TEXT_VI.items():  # the strings table the page carries: English, the same placeholders
        assert sorted(placeholders(words[key])) == sorted(placeholders(vi)), key
        assert not vietnamese_left(words[key]), (key, words[key])
    for table in (
        "tier_words",
        "tier_labels",
        "status_words",
        "target_words",
        "derived_words",
        "derived_notes",
        "units_words",
        "unit_types",
    ):
        for value in data["kieu"][table].values():
            assert not vietnamese_left(value), (table, value)
    assert not vietnamese_left(data["kieu"]["milestone_legend"])
    assert [b["chu"] for b in data["bieu_ngu"]] == ["SAMPLE DATA — not official figures"]
    assert data["theo_nam"]["2023"]["ten_tieu_chi"]["17"] == "Environment and food safety"
    assert data["theo_nam"]["2018"]["ten_tieu_chi"]["11"] == "Poor households"
    page = html.replace(re.search(r'<script type="application/json" id="ntm-data">.*?</script>', html, re.S).group(0), "")
    for piece in vietnamese_labels():  # the page around its data: no Vietnamese label (the data's names are data)
        assert piece not in page, piece
    assert "<title>New Rural Development — Tỉnh Phú Yên</title>" in html
    # the Vietnamese page is as it was, and each language is its own cached document
    vi = client.get("/map", params={"year": 2023}).text
    assert "<title>Nông thôn mới — Tỉnh Phú Yên</title>" in vi and page_data(vi)["kieu"]["chu"] == MAP_TEXT_VI
    assert page_data(vi)["theo_nam"]["2023"]["ten_tieu_chi"]["17"] == "Môi trường và an toàn thực phẩm"
    assert (
        client.get("/map", params={"year": 2023, "lang": "en"}).headers["etag"] != client.get("/map", params={"year": 2023}).headers["etag"]
    )


@pytest.fixture(scope="module")
def server(mapped_db, tmp_path_factory):
    db = tmp_path_factory.mktemp("lang") / "map.db"
    shutil.copy(mapped_db, db)
    with serving(db) as url:
        yield url


def test_the_english_map_in_a_browser(server):
    ARTIFACTS.mkdir(exist_ok=True)
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(server + "/map?year=2023&lang=en")
        page.wait_for_selector(".leaflet-overlay-pane path", timeout=30000)
        page.wait_for_function("() => !document.getElementById('ntm-panel').innerText.includes('Computing the forecast')", timeout=60000)
        legend = page.locator("#ntm-legend").inner_text()
        for words in (
            "Year 2023",
            "Not yet NTM",
            "NTM standard met",
            "Advanced NTM",
            "Model NTM",
            "No data yet",
            "Wards, townships (not assessed)",
        ):
            assert words in legend
        panel = page.locator("#ntm-panel").inner_text()
        assert "New Rural Development — Tỉnh Phú Yên" in panel and "Year:" in panel
        assert "Target 2025 (province): 80.0%" in panel and "Forecast 2025:" in panel and "probability of meeting it" in panel
        assert "District / town / city" in panel and "Milestone" in panel and "See 2023 in the new units (from 1 July 2025)" in panel
        assert page.locator("#ntm-don-vi").get_attribute("href") == "?year=2023&don_vi=moi&lang=en"
        assert "SAMPLE DATA — not official figures" in page.locator("#ntm-banner").inner_text()
        for piece in vietnamese_labels():
            assert piece not in legend and piece not in panel, piece
        box = page.locator(".leaflet-overlay-pane svg g").bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.wait_for_selector(".leaflet-tooltip", timeout=5000)
        tip = page.locator(".leaflet-tooltip").last.inner_text()
        assert "criteria met" in tip or "Not assessed for NTM" in tip
        path = ARTIFACTS / "map-en.png"
        page.screenshot(path=str(path))
        print(f"\nscreenshot: {path}")
        # the same year in the new units, still in English
        page.click("#ntm-don-vi")
        page.wait_for_selector(".leaflet-overlay-pane path", timeout=30000)
        assert "New communes — state derived from the former communes" in page.locator("#ntm-legend").inner_text()
        assert not errors, errors


# -- the command line ------------------------------------------------------------------------------------------------


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nongthon.cli", *args], capture_output=True, text=True, timeout=300)


def test_the_cli_in_english(tmp_path, mapped_db):
    db = tmp_path / "cli.db"
    shutil.copy(mapped_db, db)
    out = run_cli("--db", str(db), "--lang", "en", "report", "--year", "1999")
    assert out.returncode == 1
    assert out.stderr.strip().startswith("Year 1999 is not covered by any criteria set of Tỉnh Phú Yên")
    assert "supported years: 2016–2021 (qd1980-2016), 2022–2025 (qd318-2022)" in out.stderr
    out = run_cli("--db", str(db), "report", "--year", "1999", "--lang", "en")  # after the command, as --db
    assert out.stderr.strip().startswith("Year 1999 is not covered")
    assert run_cli("--db", str(db), "report", "--year", "1999").stderr.startswith("Năm 1999 không thuộc bộ tiêu chí nào")
    bad = tmp_path / "bad.csv"
    bad.write_text("ma_xa,nam,bo_tieu_chi,tieu_chi,ket_qua\n2204,2023,ntm,17,dat\n22303,2023,ntm,17,tot\n", encoding="utf-8")
    out = run_cli("--db", str(db), "--lang", "en", "import", str(bad))
    assert out.returncode == 1
    assert out.stderr.splitlines()[:3] == [
        "File bad.csv was rejected; nothing was written: 2 errors.",
        "  - row 2, column ma_xa, value '2204': a commune code has exactly 5 digits (the GSO code), e.g. 22042",
        "  - row 3, column ket_qua, value 'tot': the result must be dat, khong_dat, or a number written with the digits 0–9 "
        "(a decimal point, e.g. 52.5)",
    ]
    assert run_cli("--lang", "xx", "report").returncode == 2


def test_the_exported_map_and_workbook_in_english(tmp_path, mapped_db):
    db = tmp_path / "cli.db"
    shutil.copy(mapped_db, db)
    html = tmp_path / "map-en.html"
    out = run_cli("--db", str(db), "--lang", "en", "map", "--year", "2023", "-o", str(html))
    assert out.returncode == 0, out.stderr
    text = html.read_text(encoding="utf-8")
    data = page_data(text)
    assert data["ngon_ngu"] == "en" and data["kieu"]["chu"]["dang_tinh"] == "Computing the forecast…"
    assert data["theo_nam"]["2023"]["du_bao"]["nam"] == 2025  # a saved file carries its forecast, in any language
    assert "<title>New Rural Development — Tỉnh Phú Yên</title>" in text
    xlsx = tmp_path / "so.xlsx"
    assert run_cli("--db", str(db), "template", "--year", "2023", "-o", str(xlsx), "--lang", "en").returncode == 0
    assert load_workbook(xlsx)["Hướng dẫn"]["A4"].value == "How to fill it in:"
