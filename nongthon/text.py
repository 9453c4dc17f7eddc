"""Vietnamese text on the way in: NFC normalisation without invisible controls, the length of free text, and
the folded form used to match names."""

from __future__ import annotations

import re
import unicodedata

from .errors import InvalidParameter

_SPACES = re.compile(r"\s+")
SHORT_TEXT = 200  # characters of a decision number, a user name, a file name
LONG_TEXT = 500  # characters of a source, a note
# Removed from every text that comes in, rather than refused: they cannot be seen, so an officer could not find
# them to fix a refusal, and they arrive innocently (a BOM from Notepad, a zero-width space pasted from a web
# page). Removed, they cannot make two equal decision numbers differ, nor — the bidirectional overrides and
# isolates, Unicode's Bidi_Control characters, of no use in Vietnamese — show text in another order than stored.
INVISIBLE = dict.fromkeys(
    [0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF]  # zero-width space, non-joiner, joiner, word joiner, BOM
    + [0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]  # marks, embeddings, overrides, isolates
    # control characters but white space (U+0000 cannot be stored by PostgreSQL), and lone UTF-16 surrogates, which
    # a JSON body may carry ("\ud800") but no store or answer can encode
    + [*range(0x00, 0x09), *range(0x0E, 0x20), 0x7F, *range(0xD800, 0xE000)]
)


def nfc(text: str) -> str:
    """NFC-normalise and trim, without the invisible characters above; inner runs of white space become one space."""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text.translate(INVISIBLE))).strip()


def limited(text: str, field: str, limit: int) -> str:
    """Free text from a user or a file (a decision number, a source, a note, a name): cleaned as ``nfc`` does,
    and refused (InvalidParameter, HTTP 422) when it is longer than ``limit`` characters."""
    clean = nfc(text)
    if len(clean) > limit:
        count = f"{len(clean):,}".replace(",", ".")
        raise InvalidParameter(f"{field} dài {count} ký tự, vượt giới hạn {limit} ký tự; hãy rút gọn.")
    return clean


def fold(text: str) -> str:
    """Case- and diacritic-folded form for matching names: 'Hòa Quang Bắc' -> 'hoa quang bac'."""
    decomposed = unicodedata.normalize("NFD", nfc(text).casefold())
    stripped = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return stripped.replace("đ", "d")


def fold_word(text: str) -> str:
    """The folded form of a short answer word, with ``_`` and ``-`` read as spaces:
    'Chưa đạt', 'chua_dat' and 'CHƯA-ĐẠT' all give 'chua dat'."""
    return " ".join(fold(text).replace("_", " ").replace("-", " ").split())
