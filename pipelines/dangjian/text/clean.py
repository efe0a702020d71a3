"""Decoded source text → article text, with a map back to source offsets.

Input: one document's decoded text (:class:`dangjian.text.decode.Decoded`
``.text``) — plain text, an HTML page, or plain text with leftover tags.
Output: :class:`Cleaned` — the article as paragraphs, one per line, joined by a
single ``"\\n"`` (no blank lines, no leading/trailing whitespace on a line; the
same for LF, CRLF and CR input), and an :class:`OffsetMap` that turns any span
of the clean text into the span of the source text it came from.

Every character of the clean text is one of three kinds:

* **verbatim** — copied unchanged from the source; covered by a *run*
  ``(clean_start, source_start, length)`` with
  ``clean[c:c+n] == source[s:s+n]``. Nothing is normalised: the script
  (Traditional stays Traditional), width and punctuation are the source's.
* **substituted** — stands for a source span it does not copy: a decoded
  entity (``&amp;`` → ``&``, ``&#x4e2d;`` → ``中``), or in HTML one space for
  a run of collapsible whitespace or for the markup between two table cells.
  Covered by a *substitution* ``(clean_start, clean_end, source_start,
  source_end)``; :meth:`OffsetMap.to_source` maps any part of it to the whole
  source span.
* **inserted** — the ``"\\n"`` between two paragraphs. Not covered: it stands
  for no particular source character (a line break, a ``<p>``, or a dropped
  navigation bar). A span made only of inserted characters maps to the empty
  source span where the preceding paragraph ended.

Plain text (no markup found): lines are split at CRLF, CR or LF, each line is
stripped of whitespace at both ends (including U+3000, NBSP and zero-width
characters), empty lines are dropped — nothing else.

HTML (detected by tags such as ``<p>``, ``<div>``, ``<li>``, ``<code …>`` or by
entities): a small tokenizer that keeps exact offsets (selectolax and lxml
lose them) drops comments, tags with their attributes, and invisible
elements — script, style, noscript, template, title, nav, footer, header
outside an ``<article>``, aside, svg, iframe, forms that hold little text,
``hidden`` / ``display:none`` / ``visibility:hidden``, and elements whose id
or a class is exactly a furniture word such as ``footer``, ``nav``,
``sidebar`` — and decodes entities. Block elements (p, div, li, br, h1–h6,
tr, section, article …) end paragraphs; table cells in a row are joined by
one space. If the page has an obvious article container (``<article>`` or an
element whose id/class says content/article/text/正文, e.g. ``rm_txt_con``,
``show_text``, ``TRS_Editor``) holding most of the text, only it is kept —
plus the page's last ``<h1>`` (else ``<h2>``) just before it and the
date/source lines between the two, because the metadata extractor needs the
title and byline. Otherwise all visible text is kept. Page furniture lines
are dropped: lone bullets and punctuation-only lines, and short
share/print/scan prompts (微信“扫一扫”…, 分享到：, 打印本页, 关闭窗口,
返回顶部, 京ICP备…); a leading bullet (•) is stripped from a line.
Breadcrumbs (``首页>>党建>>…``) and bylines (``(责编:…)``, ``来源:…``) are
kept.

Where browsers would hide the rest of a page — an unclosed ``<!--`` or
``<script>`` — only the opening itself is dropped: stray markup in saved text
must not silently swallow the article.

Whitespace inside HTML follows the browser: runs of ASCII whitespace collapse
to one space, and a run holding a line break between two CJK characters
disappears (a hard-wrapped Chinese paragraph is one line). But a document
with leftover tags and no ``<p>``/``<br>``/``<html>``/``<body>`` at all (text
saved from a page, like seed 004) keeps its line structure: there a line
break *is* the paragraph break, and whitespace inside a line is kept as in
plain text.

Everything runs in linear time without recursion: 10,000 nested ``<div>`` or
a 5 MB line are fine.
"""
from __future__ import annotations

import html
import json
import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from functools import cached_property
from html.entities import html5 as _HTML5_ENTITIES

#: What joins two paragraphs in :attr:`Cleaned.text`.
PARAGRAPH_SEPARATOR = "\n"

# Unicode whitespace (what str.isspace() accepts) plus zero-width characters,
# stripped from both ends of a line.
_STRIP = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
    "\u200b\u200c\u200d\u2060\ufeff"
)
# List-item bullets, stripped from the start of a line in HTML documents.
_BULLETS = "•●▪◦‣∙·・"
_LEAD_HTML = _STRIP + _BULLETS

_LINE = re.compile(r"[^\r\n]+")


# --------------------------------------------------------------------------
# Offset map


@dataclass(frozen=True)
class OffsetMap:
    """Where each character of a clean text came from in its source text.

    ``runs``: ``(clean_start, source_start, length)``, sorted, non-overlapping:
    ``clean[c:c+n] == source[s:s+n]`` (verbatim copies).
    ``substitutions``: ``(clean_start, clean_end, source_start, source_end)``:
    clean characters that stand for, but do not copy, a source span (decoded
    entities, collapsed whitespace). Clean positions in neither are inserted
    paragraph separators. All offsets are Python ``str`` indices (code points),
    ends exclusive.
    """

    runs: tuple[tuple[int, int, int], ...] = ()
    substitutions: tuple[tuple[int, int, int, int], ...] = ()

    @cached_property
    def _pieces(self) -> tuple[list[int], list[int], list[int], list[int], list[bool]]:
        """Runs and substitutions merged in clean order, as parallel lists:
        clean starts, clean ends, source starts, source ends, is-verbatim."""
        items = [(c, c + n, s, s + n, True) for c, s, n in self.runs]
        items += [(c0, c1, s0, s1, False) for c0, c1, s0, s1 in self.substitutions]
        items.sort()
        return (
            [i[0] for i in items],
            [i[1] for i in items],
            [i[2] for i in items],
            [i[3] for i in items],
            [i[4] for i in items],
        )

    def to_source(self, start: int, end: int) -> tuple[int, int]:
        """The smallest source span ``(s, e)`` holding everything ``clean[start:end]`` came from.

        A span that crosses removed markup or separators covers the removed
        source too (it lies between its first and last characters). A span
        without source characters — empty, or only separators — maps to an
        empty span: inside a run, at the matching source position; otherwise
        where the preceding piece ended (0 at the very start).
        """
        if start < 0 or end < start:
            raise ValueError(f"not a span: ({start}, {end})")
        cs, ce, ss, se, verbatim = self._pieces
        if not cs:
            return (0, 0)
        if start < end:
            first = bisect_right(ce, start)  # first piece ending after start
            last = bisect_left(cs, end) - 1  # last piece starting before end
            if first <= last:
                s = ss[first] + (start - cs[first] if verbatim[first] and start > cs[first] else 0)
                e = se[last] - (ce[last] - end if verbatim[last] and end < ce[last] else 0)
                return (s, e)
        i = bisect_right(cs, start) - 1
        if i < 0:
            return (0, 0)
        if start < ce[i]:
            pos = ss[i] + (start - cs[i] if verbatim[i] else 0)
        else:
            pos = se[i]
        return (pos, pos)

    def to_json(self) -> str:
        """Compact JSON: ``{"runs": [[c, s, n], …], "substitutions": [[c0, c1, s0, s1], …]}``."""
        return json.dumps(
            {"runs": [list(r) for r in self.runs], "substitutions": [list(s) for s in self.substitutions]},
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, s: str) -> OffsetMap:
        data = json.loads(s)
        runs = tuple((int(c), int(src), int(n)) for c, src, n in data["runs"])
        subs = tuple((int(a), int(b), int(c), int(d)) for a, b, c, d in data.get("substitutions", ()))
        return cls(runs, subs)


@dataclass(frozen=True)
class Cleaned:
    """One document's article text.

    ``text``: paragraphs joined by :data:`PARAGRAPH_SEPARATOR`, characters as
    in the source (see the module docstring). ``offsets``: maps spans of
    ``text`` back to the decoded source. ``is_html``: markup was found and
    removed.
    """

    text: str
    offsets: OffsetMap
    is_html: bool


def clean(source: str) -> Cleaned:
    """Article text of ``source`` (a decoded document) with its offset map."""
    if not isinstance(source, str):
        raise TypeError(f"clean() takes the decoded text, got {type(source).__name__}")
    if looks_like_html(source):
        return _clean_html(source)
    return _clean_plain(source)


# --------------------------------------------------------------------------
# Plain text


def _clean_plain(source: str) -> Cleaned:
    parts: list[str] = []
    runs: list[tuple[int, int, int]] = []
    pos = 0
    for m in _LINE.finditer(source):
        line = m.group()
        body = line.lstrip(_STRIP)
        if not body:
            continue
        lead = len(line) - len(body)
        body = body.rstrip(_STRIP)
        if parts:
            pos += len(PARAGRAPH_SEPARATOR)
        runs.append((pos, m.start() + lead, len(body)))
        parts.append(body)
        pos += len(body)
    return Cleaned(PARAGRAPH_SEPARATOR.join(parts), OffsetMap(tuple(runs)), False)


# --------------------------------------------------------------------------
# HTML detection

_HTML_HINT = re.compile(
    r"<(?:!--|!doctype\b|/?(?:html|head|body|p|div|span|br|hr|li|ul|ol|dl|dt|dd|table|tbody|thead|tr|td|th"
    r"|h[1-6]|code|center|script|style|a|img|meta|link|font|b|i|u|em|strong|sup|sub|section|article|main"
    r"|nav|header|footer|aside|iframe|form|input|pre|blockquote|title|figure|figcaption)\b[^<>]{0,2000}>)"
    r"|&(?:nbsp|ensp|emsp|amp|lt|gt|quot|apos|ldquo|rdquo|lsquo|rsquo|mdash|ndash|hellip|middot|bull|copy"
    r"|reg|#[0-9]{2,7}|#[xX][0-9a-fA-F]{2,6});",
    re.IGNORECASE,
)
# Markup that means "the author relied on tags, not line breaks, for paragraphs".
_HTML_LAYOUT = re.compile(r"</?(?:p|br|html|body)[\s/>]", re.IGNORECASE)


def looks_like_html(source: str) -> bool:
    """True if ``source`` holds HTML tags, comments or entity references."""
    return _HTML_HINT.search(source) is not None


# --------------------------------------------------------------------------
# HTML tokenizer → events

# Event kinds. An event is (kind, source_start, source_end, value).
_TEXT = 0  # source[s:e] verbatim, whitespace per the document's mode
_PRE = 1  # source[s:e] verbatim inside <pre>: line breaks are paragraph breaks
_CHAR = 2  # value stands for source[s:e] (an entity)
_SPACE = 3  # a collapsible space standing for source[s:e] (markup between table cells)
_BREAK = 4  # paragraph break

#: Longest start tag matched with quote-aware attribute parsing; longer or
#: malformed tags end at the next ``>`` (keeps the scan linear).
MAX_TAG = 8192

# Where markup may start: "<" before a tag-ish character, "&" before an
# entity-ish one. Other "<" and "&" are text and are skipped over at C speed.
_SPECIAL = re.compile(r"<(?=[A-Za-z/!?])|&(?=[#A-Za-z])")
_START_TAG = re.compile(r"<([A-Za-z][^\s/>]*)((?:[^>\"']++|\"[^\"]*+\"|'[^']*+')*+)>")
_END_TAG = re.compile(r"</([A-Za-z][^\s/>]*)")
_ATTR = re.compile(r"([^\s\"'>/=]+)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>]+)))?")
_ENTITY = re.compile(r"&(?:#[xX]([0-9a-fA-F]{1,8})|#([0-9]{1,9})|([A-Za-z][A-Za-z0-9]{0,31}))(;?)")
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)

_VOID = frozenset(
    "area base basefont bgsound br col embed frame hr img input keygen link meta param source track wbr".split()
)
# Elements whose content is raw text up to their end tag: never visible here.
_RAW_TEXT = frozenset("script style textarea title xmp iframe noembed noframes noscript plaintext".split())
# Elements dropped with everything inside them.
_DROPPED = frozenset(
    "nav aside svg math template select button object canvas audio video map datalist footer".split()
)
_BLOCK = frozenset(
    "address article aside blockquote body center dd details dialog dir div dl dt fieldset figcaption figure"
    " footer form h1 h2 h3 h4 h5 h6 head header hgroup hr html legend li main menu nav ol option p pre"
    " section summary table tbody tfoot thead tr ul caption".split()
)
_CELL = frozenset(("td", "th"))
_HEADINGS = frozenset(("h1", "h2"))

# id/class values (whole words) of page furniture, dropped like <footer>.
# Also the usual CSS utility classes that hide an element (Bootstrap's hide,
# d-none, invisible; hidden).
_FURNITURE_WORDS = frozenset(
    "footer foot header nav navbar menu sidebar copyright share share-box bdsharebuttonbox "
    "hide hidden d-none invisible".split()
)
# id/class words naming an article container, and words that veto it.
_CONTAINER_NAME = re.compile(r"article|content|text|txt|正文|trs_editor|zoom|detail", re.IGNORECASE)
_NOT_CONTAINER_NAME = re.compile(
    r"nav|menu|foot|header|comment|share|related|recommend|sidebar|crumb|copyright|banner|title", re.IGNORECASE
)
#: A container is "obvious" when it holds this share of the page's text…
CONTAINER_MIN_SHARE = 0.3
#: …and at least this many non-ASCII characters.
CONTAINER_MIN_CHARS = 50
#: A container nested in the chosen one replaces it when it holds this share of its text.
NESTED_CONTAINER_SHARE = 0.8
#: A <form> is dropped unless it holds this many non-ASCII characters
#: (ASP.NET pages wrap the whole page, article included, in one form).
FORM_MIN_CHARS = 200


@dataclass
class _Element:
    """An element of interest found by the tokenizer: its event range."""

    kind: str  # "container", "form" or "h1"/"h2"
    start: int  # index of its first event
    end: int = -1  # index after its last event; -1 while open


def _non_ascii(text: str) -> int:
    """Number of non-ASCII characters: a cheap measure of Chinese text."""
    return len(text) - len(text.encode("ascii", "ignore"))


def _attributes(raw: str) -> dict[str, str]:
    """Attribute names (lower case) → values (unescaped) of a start tag's attribute string."""
    out: dict[str, str] = {}
    for m in _ATTR.finditer(raw):
        name = m.group(1).lower()
        if name not in out:
            value = next((v for v in m.group(2, 3, 4) if v is not None), "")
            out[name] = html.unescape(value)
    return out


def _decode_entity(m: re.Match) -> str | None:
    """The text an entity reference stands for, or None if it is not one."""
    hex_digits, dec_digits, name, semicolon = m.groups()
    if name is None:
        code = int(hex_digits, 16) if hex_digits else int(dec_digits)
        if code > 0x10FFFF:
            return "\ufffd"
        return html.unescape(m.group())
    key = name + semicolon
    value = _HTML5_ENTITIES.get(key)
    if value is None and semicolon:
        return None
    return value


class _Tokenizer:
    """One linear pass over the source: visible text as events, plus the
    event ranges of candidate containers, forms and headings."""

    def __init__(self, source: str):
        self.src = source
        self.events: list[tuple[int, int, int, str | None]] = []
        self.elements: list[_Element] = []
        # Open elements: (name, hides_content, element_or_None). A list, never
        # recursion, so nesting depth is unlimited.
        self.stack: list[tuple[str, bool, _Element | None]] = []
        self.open_counts: dict[str, int] = {}
        self.hidden_depth = 0  # open elements hiding their content
        self.pre_depth = 0
        self.article_depth = 0
        self.form_open = False
        self._raw_end: dict[str, re.Pattern] = {}
        # Per raw-text element name: (searched from, end tag found at or -1),
        # so repeated unclosed "<script>" tags do not rescan the page each time.
        self._raw_found: dict[str, tuple[int, int]] = {}

    def run(self) -> _Tokenizer:
        src, n = self.src, len(self.src)
        # Last "-->" and ">" in the page: past them no comment or tag can
        # close, which keeps unclosed "<!--" and "<a" from rescanning to the end.
        last_gt = src.rfind(">")
        last_comment_end = src.rfind("-->")
        pos = 0
        while pos < n:
            m = _SPECIAL.search(src, pos)
            if m is None:
                self._text(pos, n)
                break
            i = m.start()
            if i > pos:
                self._text(pos, i)
            if src[i] == "&":
                pos = self._entity(i)
                continue
            nxt = src[i + 1 : i + 2]
            if src.startswith("<!--", i) and i + 2 <= last_comment_end:
                pos = src.find("-->", i + 2) + 3
            elif nxt in ("!", "?") and i < last_gt:
                # Doctype, CDATA, processing instruction, or an unclosed comment
                # (which a browser would extend to the end of the page; here it
                # must not swallow the article).
                pos = src.find(">", i) + 1
            elif nxt == "/" and i < last_gt and (em := _END_TAG.match(src, i)):
                pos = src.find(">", em.end()) + 1
                self._end_tag(em.group(1).lower(), i, pos)
            elif nxt.isascii() and nxt.isalpha() and i < last_gt:
                pos = self._start_tag(i)
            else:
                self._text(i, i + 1)  # a "<" that opens no tag is text
                pos = i + 1
        for _, _, element in self.stack:
            if element is not None and element.end < 0:
                element.end = len(self.events)
        return self

    # -- events

    @property
    def visible(self) -> bool:
        return self.hidden_depth == 0

    def _text(self, s: int, e: int) -> None:
        if self.visible:
            kind = _PRE if self.pre_depth else _TEXT
            last = self.events[-1] if self.events else None
            if last is not None and last[0] == kind and last[2] == s:
                self.events[-1] = (kind, last[1], e, None)  # "a<b" is one text event, not three
            else:
                self.events.append((kind, s, e, None))

    def _break(self) -> None:
        if self.visible and (not self.events or self.events[-1][0] != _BREAK):
            self.events.append((_BREAK, 0, 0, None))

    def _entity(self, i: int) -> int:
        m = _ENTITY.match(self.src, i)
        value = _decode_entity(m) if m else None
        if value is None:
            self._text(i, i + 1)
            return i + 1
        if self.visible:
            self.events.append((_CHAR, i, m.end(), value))
        return m.end()

    # -- tags

    def _start_tag(self, i: int) -> int:
        src = self.src
        m = _START_TAG.match(src, i, min(len(src), i + MAX_TAG))
        if m:
            name, raw_attrs, end = m.group(1).lower(), m.group(2), m.end()
        else:
            # Too long or malformed (an unclosed quote): end at the next ">".
            end = src.find(">", i) + 1
            name = re.match(r"<([A-Za-z][^\s/>]*)", src[i : i + 256]).group(1).lower()
            raw_attrs = src[i + 1 + len(name) : end - 1]
        if name in _RAW_TEXT:
            return self._skip_raw_text(name, end)
        if name in _CELL:
            if self.visible:
                self.events.append((_SPACE, i, end, None))
        elif name in _BLOCK or name == "br":
            self._break()
        # A trailing "/" does not close a non-void HTML element (browsers
        # ignore it), so it is ignored here too.
        if name in _VOID:
            return end
        attrs = _attributes(raw_attrs) if raw_attrs.strip() else {}
        hides = (
            name in _DROPPED
            or (name == "header" and not self.article_depth)
            or "hidden" in attrs
            or bool(_HIDDEN_STYLE.search(attrs.get("style", "")))
            or self._names_furniture(attrs)
        )
        element = None
        if not hides and self.visible:
            if name == "form":
                if self.form_open:
                    return end  # a nested <form> is ignored, as browsers do
                element = _Element("form", len(self.events))
                self.form_open = True
            elif name in _HEADINGS:
                element = _Element(name, len(self.events))
            elif self._names_container(name, attrs):
                element = _Element("container", len(self.events))
            if element is not None:
                self.elements.append(element)
        self.stack.append((name, hides, element))
        self.open_counts[name] = self.open_counts.get(name, 0) + 1
        self.hidden_depth += hides
        self.pre_depth += name == "pre"
        self.article_depth += name == "article"
        return end

    def _names_furniture(self, attrs: dict[str, str]) -> bool:
        """id or a class is exactly a page-furniture word (``class="footer"``)."""
        words = {attrs.get("id", "").lower(), *attrs.get("class", "").lower().split()}
        if self.article_depth:
            words.discard("header")
        return not words.isdisjoint(_FURNITURE_WORDS)

    @staticmethod
    def _names_container(name: str, attrs: dict[str, str]) -> bool:
        if name == "article":
            return True
        label = f"{attrs.get('id', '')} {attrs.get('class', '')}"
        return bool(_CONTAINER_NAME.search(label)) and not _NOT_CONTAINER_NAME.search(label)

    def _end_tag(self, name: str, s: int, e: int) -> None:
        if name in _CELL:
            if self.visible:
                self.events.append((_SPACE, s, e, None))
        elif name in _BLOCK or name == "br":
            self._break()  # also </br> and a </p> without <p>, as browsers do
        if not self.open_counts.get(name):
            return  # stray end tag
        # Pop up to and including the matching element: closes the unclosed
        # elements inside it. Each element is popped once, so this is linear.
        while True:
            top, hides, element = self.stack.pop()
            self.open_counts[top] -= 1
            self.hidden_depth -= hides
            self.pre_depth -= top == "pre"
            self.article_depth -= top == "article"
            if element is not None:
                element.end = len(self.events)
                if element.kind == "form":
                    self.form_open = False
            if top == name:
                break

    def _skip_raw_text(self, name: str, start: int) -> int:
        """Skip a script/style/… body up to its end tag.

        Unclosed, only the start tag is skipped: a browser would hide the rest
        of the page, but a stray ``<script>`` in saved text must not silently
        swallow the article.
        """
        found = self._raw_found.get(name)
        if found is None or start < found[0] or (found[1] >= 0 and start > found[1]):
            pattern = self._raw_end.get(name)
            if pattern is None:
                pattern = self._raw_end[name] = re.compile(rf"</{re.escape(name)}[\s/>]", re.IGNORECASE)
            m = pattern.search(self.src, start)
            found = self._raw_found[name] = (start, m.start() if m else -1)
        if found[1] < 0:
            return start
        close = self.src.find(">", found[1])
        return len(self.src) if close < 0 else close + 1


# --------------------------------------------------------------------------
# Events → paragraphs

_HTML_WS = " \t\n\r\f"
# Whitespace runs that collapsing changes: anything but one lone space.
_WS_TO_COLLAPSE = re.compile(r"[ \t\n\r\f]{2,}|[\t\n\r\f]")
_LINE_OR_BREAK = re.compile(r"[^\r\n]+|\r\n|\r|\n")


def _is_cjk(ch: str) -> bool:
    o = ord(ch)
    return (
        0x2E80 <= o <= 0x9FFF  # radicals, CJK punctuation, kana, ideographs
        or 0xF900 <= o <= 0xFAFF
        or 0xFF00 <= o <= 0xFFEF  # full-width forms
        or 0x20000 <= o <= 0x3FFFF
    )


@dataclass
class _Paragraph:
    """One paragraph under construction: text parts and where each came from."""

    parts: list[str]
    # (source_start, source_end, verbatim) per part
    origins: list[tuple[int, int, bool]]


class _ParagraphBuilder:
    """Turns events into paragraphs, applying the document's whitespace mode."""

    def __init__(self, source: str, collapse: bool):
        self.src = source
        self.collapse = collapse  # HTML whitespace rules; else line breaks end paragraphs
        self.paragraphs: list[_Paragraph] = []
        self._cur = _Paragraph([], [])
        self._last = ""  # last character of the current paragraph
        self._pending: tuple[int, int, bool] | None = None  # collapsible space: (s, e, has line break)

    def feed(self, events: list, start: int, end: int, alive: list[bool] | None = None) -> None:
        for k in range(start, end):
            if alive is not None and not alive[k]:
                continue
            kind, s, e, value = events[k]
            if kind == _TEXT:
                if self.collapse:
                    self._collapsed(s, e)
                else:
                    self._lines(s, e)
            elif kind == _PRE:
                self._lines(s, e)
            elif kind == _CHAR:
                self._add(value, s, e, False)
            elif kind == _SPACE:
                self._space(s, e, False)
            else:
                self.brk()

    def _collapsed(self, s: int, e: int) -> None:
        """Text under HTML whitespace rules. A single space between words is
        kept as it is (collapsing would not change it); other whitespace runs
        and whitespace at either end become pending collapsible spaces."""
        src = self.src
        segment = src[s:e]
        body = segment.strip(_HTML_WS)
        if not body:
            self._space(s, e, "\n" in segment or "\r" in segment)
            return
        i = s + len(segment) - len(segment.lstrip(_HTML_WS))
        j = i + len(body)
        if i > s:
            self._space(s, i, "\n" in src[s:i] or "\r" in src[s:i])
        prev = i
        for m in _WS_TO_COLLAPSE.finditer(src, i, j):
            self._add(src[prev : m.start()], prev, m.start(), True)
            self._space(m.start(), m.end(), "\n" in m.group() or "\r" in m.group())
            prev = m.end()
        self._add(src[prev:j], prev, j, True)
        if j < e:
            self._space(j, e, "\n" in src[j:e] or "\r" in src[j:e])

    def _lines(self, s: int, e: int) -> None:
        for m in _LINE_OR_BREAK.finditer(self.src, s, e):
            if self.src[m.start()] in "\r\n":
                self.brk()
            else:
                self._flush_pending(m.group()[0])
                self._append(m.group(), m.start(), m.end(), True)

    def _space(self, s: int, e: int, line_break: bool) -> None:
        if self._pending is None:
            self._pending = (s, e, line_break)
        else:
            ps, _, pb = self._pending
            self._pending = (ps, e, pb or line_break)

    def _flush_pending(self, next_char: str) -> None:
        pending, self._pending = self._pending, None
        if pending is None or not self._cur.parts or self._last in _STRIP:
            return
        s, e, line_break = pending
        if line_break and _is_cjk(self._last) and _is_cjk(next_char):
            return  # a wrapped line inside Chinese text joins without a space
        if self.src[s] == " ":
            self._append(" ", s, s + 1, True)
        else:
            self._append(" ", s, e, False)

    def _add(self, text: str, s: int, e: int, verbatim: bool) -> None:
        self._flush_pending(text[0])
        self._append(text, s, e, verbatim)

    def _append(self, text: str, s: int, e: int, verbatim: bool) -> None:
        self._cur.parts.append(text)
        self._cur.origins.append((s, e, verbatim))
        self._last = text[-1]

    def brk(self) -> None:
        self._pending = None
        if self._cur.parts:
            self.paragraphs.append(self._cur)
            self._cur = _Paragraph([], [])
            self._last = ""

    def finish(self) -> list[_Paragraph]:
        self.brk()
        return self.paragraphs


# Short lines that are page furniture, not article text.
_JUNK_LINE = re.compile(
    # 微信“扫一扫”添加…, 扫描二维码…, 扫码关注
    r"(?:微信|手机|手機|用手机|用手機)?\W{0,3}"
    r"(?:扫一扫|掃一掃|扫描二维码|掃描二維碼|(?:扫码|掃碼)(?:关注|關注|下载|下載|阅读|閱讀|分享|查看|观看|觀看|订阅|訂閱|\W*$))"
    # 分享到：微信 微博 QQ空间
    r"|(?:分享到|分享至|一键分享|一鍵分享)\s*[:：]?"
    r"(?:\s|[、,，|/]|微信|微博|朋友圈|QQ空间|QQ空間|QQ|空间|空間|新浪|腾讯|騰訊|人人网|豆瓣)*$"
    # 【打印】【关闭】, 打印本页, 返回顶部 …
    r"|(?:[【\[]?(?:打印本页|打印本頁|打印此页|打印此頁|打印文章|打印|关闭窗口|關閉窗口|关闭本页|關閉本頁|关闭|關閉"
    r"|返回顶部|返回頂部|返回首页|返回首頁|收藏本页|收藏本頁|加入收藏|复制链接|複製鏈接|纠错|糾錯)[】\]]?\s*)+$"
    r"|[【\[]?字[体體号號][:：]"
    r"|上一篇|下一篇"
    r"|.{0,12}ICP[备備证證]"
)
#: Prompts longer than this are article text that happens to start alike.
MAX_JUNK_LINE = 40
# A letter, digit or ideograph: a line without one is bullets/rules/punctuation.
_HAS_WORD = re.compile(r"[^\W_]")
# Source/date lines kept between a page title and its article container.
_BYLINE = re.compile(
    r"来源|來源|稿源|作者|记者|記者|编辑|編輯|责编|責編|发布|發布|时间|時間|日期|\d{4}\s*[-年/.]\s*\d{1,2}"
)
MAX_BYLINE = 100
#: Most text between the page title heading and the article container.
PREAMBLE_MAX_CHARS = 300


def _is_junk(text: str) -> bool:
    """Page furniture: a share/print/scan prompt, or nothing but punctuation and symbols."""
    if len(text) <= MAX_JUNK_LINE and _JUNK_LINE.match(text):
        return True
    return _HAS_WORD.search(text) is None


def _stripped(par: _Paragraph) -> tuple[str, list[tuple[str, int, int, bool]]] | None:
    """The paragraph's text without edge whitespace and leading bullets, and
    its parts cut to match; None if nothing is left."""
    text = "".join(par.parts)
    lead = len(text) - len(text.lstrip(_LEAD_HTML))
    body = text[lead:].rstrip(_STRIP)
    if not body:
        return None
    stop = lead + len(body)
    pieces = []
    pos = 0
    for part, (s, e, verbatim) in zip(par.parts, par.origins):
        a, b = max(lead, pos), min(stop, pos + len(part))
        if a < b:
            if verbatim:
                pieces.append((part[a - pos : b - pos], s + a - pos, s + b - pos, True))
            else:
                pieces.append((part[a - pos : b - pos], s, e, False))
        pos += len(part)
    return body, pieces


class _Output:
    """Accumulates kept paragraphs into the clean text and its offset map."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.runs: list[list[int]] = []
        self.subs: list[tuple[int, int, int, int]] = []
        self.pos = 0

    def add(self, par: _Paragraph, keep=None) -> None:
        result = _stripped(par)
        if result is None:
            return
        body, pieces = result
        if _is_junk(body) or (keep is not None and not keep(body)):
            return
        if self.parts:
            self.parts.append(PARAGRAPH_SEPARATOR)
            self.pos += len(PARAGRAPH_SEPARATOR)
        for text, s, e, verbatim in pieces:
            if verbatim:
                run = self.runs[-1] if self.runs else None
                if run and run[0] + run[2] == self.pos and run[1] + run[2] == s:
                    run[2] += len(text)  # contiguous with the previous run: extend it
                else:
                    self.runs.append([self.pos, s, len(text)])
            else:
                self.subs.append((self.pos, self.pos + len(text), s, e))
            self.parts.append(text)
            self.pos += len(text)

    def result(self) -> tuple[str, OffsetMap]:
        return "".join(self.parts), OffsetMap(tuple(tuple(r) for r in self.runs), tuple(self.subs))


def _clean_html(source: str) -> Cleaned:
    tok = _Tokenizer(source).run()
    events = tok.events
    collapse = _HTML_LAYOUT.search(source) is not None

    # How much text each event carries, summed as a prefix so that any
    # element's share of the page is one subtraction.
    weights = [
        _non_ascii(source[s:e]) if kind in (_TEXT, _PRE) else 1 if kind == _CHAR else 0
        for kind, s, e, _ in events
    ]
    alive = [True] * len(events)
    cum = _prefix(weights, alive)
    # Forms never nest (the tokenizer ignores a nested <form>), so dropping
    # one does not change another's count.
    for el in tok.elements:
        if el.kind == "form" and _text_in(el, cum) < FORM_MIN_CHARS:
            alive[el.start : el.end] = [False] * (el.end - el.start)
    cum = _prefix(weights, alive)

    out = _Output()
    container = _article_container(tok.elements, cum)
    if container is None:
        _emit(out, source, collapse, events, 0, len(events), alive)
    else:
        heading = _heading_before(tok.elements, container, cum)
        if heading is not None:
            _emit(out, source, collapse, events, heading.start, heading.end, alive)
            _emit(out, source, collapse, events, heading.end, container.start, alive, keep=_is_byline)
        _emit(out, source, collapse, events, container.start, container.end, alive)
    text, offsets = out.result()
    return Cleaned(text, offsets, True)


def _prefix(weights: list[int], alive: list[bool]) -> list[int]:
    """Running totals of the live events' weights: ``cum[k]`` = weight before event k."""
    cum = [0] * (len(weights) + 1)
    total = 0
    for k, (w, a) in enumerate(zip(weights, alive)):
        if a:
            total += w
        cum[k + 1] = total
    return cum


def _text_in(el: _Element, cum: list[int]) -> int:
    return cum[el.end] - cum[el.start]


def _is_byline(text: str) -> bool:
    return len(text) <= MAX_BYLINE and _BYLINE.search(text) is not None


def _emit(out: _Output, source: str, collapse: bool, events, start: int, end: int, alive, keep=None) -> None:
    """Add the paragraphs of ``events[start:end]`` (live ones) to ``out``,
    those passing ``keep`` if given."""
    builder = _ParagraphBuilder(source, collapse)
    builder.feed(events, start, end, alive)
    for par in builder.finish():
        out.add(par, keep)


def _article_container(elements: list[_Element], cum: list[int]) -> _Element | None:
    """The obvious article container, or None (see the module docstring)."""
    containers = [el for el in elements if el.kind == "container"]
    if not containers:
        return None
    size = {id(el): _text_in(el, cum) for el in containers}
    best = max(containers, key=lambda el: size[id(el)])  # first of equals: the outermost
    total = cum[-1]
    if size[id(best)] < CONTAINER_MIN_CHARS or size[id(best)] < CONTAINER_MIN_SHARE * total:
        return None
    # Containers are recorded in document order, so those nested in `best`
    # follow it; take the innermost one that still holds most of its text.
    chosen = best
    for el in containers[containers.index(best) + 1 :]:
        if el.start >= best.end:
            break
        inside = chosen.start <= el.start and el.end <= chosen.end
        if inside and size[id(el)] >= NESTED_CONTAINER_SHARE * size[id(best)]:
            chosen = el
    return chosen


def _heading_before(elements: list[_Element], container: _Element, cum: list[int]) -> _Element | None:
    """The last <h1> (else <h2>) ending shortly before ``container`` starts.

    "Shortly": at most :data:`PREAMBLE_MAX_CHARS` of text in between, so a
    site logo in an ``<h1>`` at the top of the page is not taken for the title.
    """
    for level in ("h1", "h2"):
        found = [
            el
            for el in elements
            if el.kind == level
            and el.end <= container.start
            and cum[container.start] - cum[el.end] <= PREAMBLE_MAX_CHARS
        ]
        if found:
            return found[-1]
    return None
