"""The exceptions of nongthon. Every message says what is wrong, with which value, and how to fix it;
messages meant for the agriculture office are in Vietnamese."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

VALUE_CHARS = 60  # a value echoed in a message is cut to this many characters
MAX_LISTED = 200  # a rejected file lists its first errors; the rest are counted and summarised


def clip(text: str, limit: int = VALUE_CHARS) -> str:
    """``text`` as a message repeats it: at most ``limit`` characters, the cut marked with …"""
    return text if len(text) <= limit else text[: limit - 1] + "…"


class NongthonError(Exception):
    """Base class: anything the library rejects on purpose."""


class CatalogError(NongthonError):
    """A criteria catalogue or override file is malformed. The message names the file and the path in it."""


class UnknownUnit(NongthonError, LookupError):
    """A unit code that the registry does not hold."""


class UnknownYear(NongthonError, LookupError):
    """A year that no catalogue covers."""


class InvalidParameter(NongthonError, ValueError):
    """A parameter outside what is allowed (the message says what is)."""


class StoreError(NongthonError):
    """The database cannot be used as asked (wrong schema version, unreadable file)."""


@dataclass(frozen=True)
class RowError:
    """One problem in an input file: where (row, column), what value, and what is allowed."""

    row: int  # 1-based line number in the file (or sheet), the header being line 1
    column: str
    value: str  # as the file has it, cut to VALUE_CHARS characters
    message: str  # Vietnamese: what is wrong and what is allowed
    sheet: str | None = None  # the worksheet, for a workbook
    kind: str | None = None  # the message without what is particular to this row (for the summary); None: the message

    def __post_init__(self) -> None:
        object.__setattr__(self, "value", clip(str(self.value)))

    def __str__(self) -> str:
        where = f"trang '{self.sheet}', " if self.sheet else ""
        if self.row == 0:  # about the whole file
            return f"{where}{self.value!r}: {self.message}"
        return f"{where}dòng {self.row}, cột {self.column}, giá trị {self.value!r}: {self.message}"


@dataclass(frozen=True)
class ErrorGroup:
    """How many errors of one kind a column (of a sheet) has."""

    sheet: str | None
    column: str
    kind: str
    count: int


def summarise(errors: list[RowError]) -> list[ErrorGroup]:
    """The errors counted by sheet, column and kind, the most frequent first."""
    counts = Counter((e.sheet, e.column, e.kind or e.message) for e in errors)
    return [ErrorGroup(s, c, k, n) for (s, c, k), n in counts.most_common()]


class ImportRejected(NongthonError):
    """A whole input file was rejected; nothing was written. ``errors`` lists the first MAX_LISTED problems in
    file order, ``total`` counts them all and ``summary`` groups them all by sheet, column and kind."""

    def __init__(self, source: str, errors: list[RowError], total: int | None = None, summary: list[ErrorGroup] | None = None):
        self.source = clip(source, 200)
        self.errors = errors[:MAX_LISTED]
        self.total = len(errors) if total is None else total
        self.summary = summarise(errors) if summary is None else summary
        super().__init__(self.describe(limit=20))

    def headline(self) -> str:
        return f"Tệp {self.source} bị từ chối, không có dữ liệu nào được ghi: {self.total} lỗi."

    def describe(self, limit: int | None = None) -> str:
        shown = self.errors if limit is None else self.errors[:limit]
        lines = [self.headline()]
        lines += [f"  - {e}" for e in shown]
        if self.total > len(shown):
            lines.append(f"  … và {self.total - len(shown)} lỗi khác.")
            lines += [f"    {g.count} lỗi ở {f'trang {g.sheet!r}, ' if g.sheet else ''}cột {g.column}: {g.kind}" for g in self.summary[:20]]
        return "\n".join(lines)
