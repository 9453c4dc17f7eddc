"""Vietnamese text on the way in: NFC normalisation, and the folded form used to match names."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")


def nfc(text: str) -> str:
    """NFC-normalise and trim; inner runs of white space become one space."""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text)).strip()


def fold(text: str) -> str:
    """Case- and diacritic-folded form for matching names: 'Hòa Quang Bắc' -> 'hoa quang bac'."""
    decomposed = unicodedata.normalize("NFD", nfc(text).casefold())
    stripped = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return stripped.replace("đ", "d")


def fold_word(text: str) -> str:
    """The folded form of a short answer word, with ``_`` and ``-`` read as spaces:
    'Chưa đạt', 'chua_dat' and 'CHƯA-ĐẠT' all give 'chua dat'."""
    return " ".join(fold(text).replace("_", " ").replace("-", " ").split())
