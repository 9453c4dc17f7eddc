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
