"""Paragraph and sentence segmentation with exact character offsets.

Input is a *cleaned* document: one paragraph per line, lines separated by
``"\\n"``, already converted to Simplified script and width-folded (digits and
Latin letters half-width; Chinese punctuation such as ，。：（） left full-width).
Every span returned here indexes into that whole document, end exclusive, so
``text[span.start:span.end] == span.text`` always holds; downstream extraction
cites these offsets, which is why nothing is ever normalised or re-joined.

Sentence rules (applied inside one paragraph; a sentence never crosses a line):

* A sentence ends after a run of terminators: ``。！？!?``, the semicolons
  ``；;`` (in these reports a semicolon separates self-contained clauses such as
  "一是……；二是……", which are the units we want to cite), and the ellipsis
  (``…``/``⋯`` of any length, or three or more ASCII dots).
* Closing quotes/brackets directly after the terminator (``”’」』）)】``)
  belong to the sentence they close: ``他说：“好。”`` is one sentence.  A
  book-title mark ``》`` is not such a closer: ``《谁是最可爱的人？》一文`` is
  title-internal punctuation and, being protected (below), never splits.
* No split inside a bracketed or quoted stretch (“”, ‘’, 「」, 『』, （）, (), 《》,
  【】) that is at most ``MAX_PROTECTED_QUOTE`` characters long.  Longer
  stretches are usually a quoted document or an unbalanced quote mark, and
  swallowing them whole would make sentences too coarse to cite, so their
  interior is split normally.  Unmatched quote marks protect nothing.
* A single ASCII ``.`` is never a terminator, so decimals (``1.5``) and list
  markers (``1.``) stay inside their sentence.
* A paragraph without a terminator (title, heading "一、…") is one sentence;
  trailing text after the last terminator is a sentence of its own.
* Whitespace between sentences belongs to no sentence; sentences are never
  empty.

Everything is done with a few linear regex scans per paragraph.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

#: Quoted/bracketed stretches up to this many characters (marks included) are
#: never split; see the module docstring for why longer ones are.
MAX_PROTECTED_QUOTE = 200


@dataclass(frozen=True)
class Span:
    """A piece of the document: ``text == whole[start:end]`` (end exclusive)."""

    start: int
    end: int
    text: str


# From the first to the last non-whitespace character of one line.
_PARAGRAPH_RE = re.compile(r"[^\s](?:[^\n]*[^\s])?")

_OPEN_TO_CLOSE = {
    "“": "”", "‘": "’", "「": "」", "『": "』",
    "（": "）", "(": ")", "《": "》", "【": "】",
}
_CLOSE_TO_OPEN = {close: open_ for open_, close in _OPEN_TO_CLOSE.items()}
_PAIR_MARK_RE = re.compile("[" + re.escape("".join(_OPEN_TO_CLOSE) + "".join(_CLOSE_TO_OPEN)) + "]")

# A terminator run plus the closing marks that belong to it.
_BOUNDARY_RE = re.compile(r"(?:[。！？!?；;…⋯]|\.{3,})+[”’」』）)】]*")

_LEADING_SPACE_RE = re.compile(r"\s*")


def paragraphs(text: str) -> list[Span]:
    """One span per non-empty line, without the line's surrounding whitespace."""
    return [Span(m.start(), m.end(), m.group()) for m in _PARAGRAPH_RE.finditer(text)]


def _protected_intervals(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Balanced bracket/quote stretches in ``text[start:end]`` short enough to keep whole.

    Returned as sorted, merged ``(open_pos, close_end)`` pairs.  A closing mark
    pops back to its matching opener, discarding unmatched openers in between;
    a closer with no opener on the stack is ignored.
    """
    stack: list[tuple[str, int]] = []
    # Open marks of each kind on the stack: lets a closer with no opener be
    # ignored without scanning the stack, which keeps the pass linear (every
    # entry scanned past is also popped).
    pending = dict.fromkeys(_OPEN_TO_CLOSE, 0)
    found: list[tuple[int, int]] = []
    for m in _PAIR_MARK_RE.finditer(text, start, end):
        mark = m.group()
        if mark in _OPEN_TO_CLOSE:
            stack.append((mark, m.start()))
            pending[mark] += 1
            continue
        opener = _CLOSE_TO_OPEN[mark]
        if not pending[opener]:
            continue
        while True:
            kind, open_pos = stack.pop()
            pending[kind] -= 1
            if kind == opener:
                break
        if m.end() - open_pos <= MAX_PROTECTED_QUOTE:
            found.append((open_pos, m.end()))
    found.sort()
    merged: list[tuple[int, int]] = []
    for lo, hi in found:
        if merged and lo < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def _split_paragraph(text: str, para: Span) -> list[Span]:
    protected = _protected_intervals(text, para.start, para.end)
    spans: list[Span] = []
    sentence_start = para.start
    guard = 0  # index of the first protected interval that may still matter
    for m in _BOUNDARY_RE.finditer(text, para.start, para.end):
        cut = m.end()
        while guard < len(protected) and protected[guard][1] <= cut:
            guard += 1
        if guard < len(protected) and protected[guard][0] < cut:
            continue  # the cut would fall strictly inside a short quote
        spans.append(Span(sentence_start, cut, text[sentence_start:cut]))
        sentence_start = _LEADING_SPACE_RE.match(text, cut, para.end).end()
    if sentence_start < para.end:
        spans.append(Span(sentence_start, para.end, text[sentence_start:para.end]))
    # Every sentence ends on a terminator/closer or on the paragraph's last
    # character, and starts after skipped whitespace, so none needs trimming.
    return spans


def sentences(text: str) -> list[tuple[int, Span]]:
    """``(paragraph_index, sentence)`` for every sentence, in document order."""
    result: list[tuple[int, Span]] = []
    for index, para in enumerate(paragraphs(text)):
        result.extend((index, s) for s in _split_paragraph(text, para))
    return result
