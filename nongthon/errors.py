"""The exceptions of nongthon. Every message says what is wrong, with which value, and how to fix it;
messages meant for the agriculture office are in Vietnamese."""

from __future__ import annotations

from dataclasses import dataclass


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
    value: str
    message: str  # Vietnamese: what is wrong and what is allowed
    sheet: str | None = None  # the worksheet, for a workbook

    def __str__(self) -> str:
        where = f"trang '{self.sheet}', " if self.sheet else ""
        if self.row == 0:  # about the whole file
            return f"{where}{self.value!r}: {self.message}"
        return f"{where}dòng {self.row}, cột {self.column}, giá trị {self.value!r}: {self.message}"


class ImportRejected(NongthonError):
    """A whole input file was rejected; nothing was written. ``errors`` lists every problem found."""

    def __init__(self, source: str, errors: list[RowError]):
        self.source = source
        self.errors = errors
        super().__init__(self.describe(limit=20))

    def headline(self) -> str:
        return f"Tệp {self.source} bị từ chối, không có dữ liệu nào được ghi: {len(self.errors)} lỗi."

    def describe(self, limit: int | None = None) -> str:
        shown = self.errors if limit is None else self.errors[:limit]
        lines = [self.headline()]
        lines += [f"  - {e}" for e in shown]
        if limit is not None and len(self.errors) > limit:
            lines.append(f"  … và {len(self.errors) - limit} lỗi khác.")
        return "\n".join(lines)
