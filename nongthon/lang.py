"""English labels — a switch, not a fork. Vietnamese is the source and the default: the code says everything in
Vietnamese, and ``translate`` turns a Vietnamese text into another language through that language's one table,
``nongthon/lang/<lang>.yaml``, which maps Vietnamese source text to the translation. The table has two parts:

- ``messages``: what the library and the API say when they refuse something. A message is matched whole: as it
  is, or against a template whose ``{placeholders}`` capture the values (each template compiled once into a
  regular expression, placeholders non-greedy, a value's parentheses balanced; the template with the most fixed
  text is tried first) and put them back into the translation. A captured value is itself translated when the
  table has it (the label of a period, the message inside a row's error; ``DEPTH`` templates deep at most),
  else kept as it is (a code, a name, a year, what someone sent).
- ``labels``: the words of the map page and of the workbook's instructions, looked up exactly. Their
  placeholders are filled in by whoever uses them (static/map.js, workbooks.py), never matched.

A text with no entry stays Vietnamese: nothing is made up. A text of several lines is translated line by line
(a leading indent or "- " kept). Names of fields, JSON keys, CSV headers and query parameters never change."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import yaml

from .errors import InvalidParameter, clip

LANGS = ("vi", "en")
DEFAULT = "vi"
PLACEHOLDER = re.compile(r"\{(\w+)\}")
_BULLET = re.compile(r"(\s*(?:- )?)(.*)", re.S)
#: what a placeholder captures: the shortest text whose parentheses are balanced (two levels deep), so that in
#: "… {tinh}, {giai_doan} ({so} đơn vị …)" a period's label keeps its own "(63 tỉnh, …)"
VALUE = r"(?:[^()]|\((?:[^()]|\([^()]*\))*\))+?"
DEPTH = 3  # templates within templates: a file's line, its row message, the new code to write; then exact values only
MAX_MATCHED = 2000  # characters: a longer line (a list of every province is 700) is no message of the table
MAX_VALUE = 1000  # characters: a longer value inside a message (a path, a name someone sent) is kept as it is


def check_lang(value: str | None) -> str:
    """The language asked for (``lang=`` / ``--lang``): vi when none is; anything but vi or en is refused."""
    if value is None:
        return DEFAULT
    if value in LANGS:
        return value
    raise InvalidParameter(f"lang={clip(repr(value))} không hợp lệ; chọn: {', '.join(LANGS)} (mặc định: vi, tiếng Việt).")


def placeholders(text: str) -> list[str]:
    return PLACEHOLDER.findall(text)


def template_pattern(template: str) -> re.Pattern:
    """A Vietnamese template as a regular expression that matches a whole message: the fixed text literally,
    each ``{name}`` as a non-greedy group of that name (``VALUE``)."""
    parts, at = [], 0
    for m in PLACEHOLDER.finditer(template):
        parts.append(re.escape(template[at : m.start()]))
        parts.append(f"(?P<{m.group(1)}>{VALUE})")
        at = m.end()
    parts.append(re.escape(template[at:]))
    return re.compile("".join(parts), re.S)


@dataclass(frozen=True)
class Table:
    """One language's table: ``exact`` (every entry, messages and labels, by its Vietnamese text) and
    ``templates`` (the messages with placeholders: pattern and translation, the most fixed text first)."""

    exact: dict[str, str]
    templates: tuple[tuple[re.Pattern, str], ...]


def _entries(doc: dict, section: str, lang: str) -> dict[str, str]:
    entries = doc.get(section) or {}
    for vi, other in entries.items():
        if not isinstance(vi, str) or not isinstance(other, str):
            raise ValueError(f"lang/{lang}.yaml, {section}: {vi!r} → {other!r}: cả hai phải là chuỗi văn bản")
        if sorted(placeholders(vi)) != sorted(placeholders(other)):
            raise ValueError(f"lang/{lang}.yaml, {section}: {vi!r}: chỗ trống {placeholders(vi)} ≠ {placeholders(other)}")
    return entries


@lru_cache(maxsize=len(LANGS))
def table(lang: str) -> Table:
    """The table of ``lang`` (read once): the messages and labels of lang/<lang>.yaml."""
    text = resources.files(__package__).joinpath("lang", f"{lang}.yaml").read_text(encoding="utf-8")
    doc = yaml.safe_load(text) or {}
    messages, labels = _entries(doc, "messages", lang), _entries(doc, "labels", lang)
    templated = sorted((vi for vi in messages if placeholders(vi)), key=lambda vi: -len(PLACEHOLDER.sub("", vi)))
    return Table({**labels, **messages}, tuple((template_pattern(vi), messages[vi]) for vi in templated))


def translate(text_vi: str, lang: str = DEFAULT) -> str:
    """``text_vi`` in ``lang``: the table's translation of the whole text (or of each line), else the text as it is."""
    if lang == DEFAULT or not text_vi:
        return text_vi
    t = table(lang)
    return "\n".join(_line(line, t) for line in text_vi.split("\n"))


def fill(template_vi: str, lang: str = DEFAULT, **values: object) -> str:
    """A label with placeholders (``labels``), in ``lang``, its ``{placeholders}`` filled with ``values``."""
    return _render(translate(template_vi, lang), {k: str(v) for k, v in values.items()})


def _line(text: str, t: Table) -> str:
    hit = _whole(text, t, DEPTH)
    if hit is not None:
        return hit
    lead, rest = _BULLET.fullmatch(text).groups()
    if lead and rest:
        hit = _whole(rest, t, DEPTH)
        if hit is not None:
            return lead + hit
    return text


def _whole(text: str, t: Table, depth: int) -> str | None:
    """The translation of ``text`` as one entry (exact, or a template with its values translated in turn, down to
    ``depth`` templates deep), or None."""
    if text in t.exact:
        return t.exact[text]
    if depth == 0 or len(text) > (MAX_MATCHED if depth == DEPTH else MAX_VALUE):
        return None
    for pattern, other in t.templates:
        m = pattern.fullmatch(text)
        if m is not None:
            return _render(other, {k: _value(v, t, depth - 1) for k, v in m.groupdict().items()})
    return None


def _render(template: str, values: dict[str, str]) -> str:
    return PLACEHOLDER.sub(lambda p: values[p.group(1)], template)


def _value(text: str, t: Table, depth: int) -> str:
    hit = _whole(text, t, depth)
    return text if hit is None else hit
