"""Campaign terms (提法): quoted slogans and numbered formulas.

Reports name their campaigns in quotation marks (“放学来吧”, 「强富美高」) and
in numbered formulas, quoted or not (五双, 三提三当, 一强三创, 1+3+N, 6+X,
两代表一委员). Following a term across documents and places shows how a
policy spreads, so every occurrence is kept with its offsets.

Pure functions over the normalised (Simplified) text; the numbered-formula
patterns are the number recogniser's own, so a numeral it calls a term and a
formula found here agree.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from dangjian.text import numbers as nm

# Quotations longer than this, or holding sentence punctuation, are speech or
# titles (习近平总书记强调:“…。”), not names of campaigns.
MAX_TERM_CHARS = 20
_SPEECH = re.compile(r"[，。！？；：,!?;:…]")
_QUOTES = (("“", "”"), ("「", "」"), ("『", "』"), ("‘", "’"))
_QUOTE_RES = [(o + c, re.compile(f"{o}([^{o}{c}\n]{{1,{MAX_TERM_CHARS}}}){c}")) for o, c in _QUOTES]
_HAN = re.compile(r"[\u4e00-\u9fff]")
_AFTER_TERM = re.compile(r"[，。；、：！？,.;:!?”’」』）)\s]|[的和与及等]")
_HAN_OR_ALNUM = re.compile(r"[\u3400-\u9fffA-Za-z0-9]")
# Numbered formulas: a numeral heads the term (五双, 四个意识) or joins its parts (1+3+N).
_NUMBERED = re.compile(
    f"^(?:[{nm._SIMPLE_NUM}两][\u4e00-\u9fff]|[0-9]+\\+)|[{nm._SIMPLE_NUM}两][\u4e00-\u9fff]{{1,2}}[{nm._SIMPLE_NUM}两][\u4e00-\u9fff]"
)


@dataclass(frozen=True)
class CampaignTerm:
    """One occurrence of a term. ``start``/``end`` cover the term without its
    quotation marks; ``quote`` is the pair that enclosed it ('' when unquoted)."""

    start: int
    end: int
    term: str
    quote: str
    is_formula: bool


def _is_formula(term: str) -> bool:
    if nm._AR_FORMULA_RE.fullmatch(term):
        return True
    m = _NUMBERED.search(term)
    # 一线抓基层、全力打基础 starts with a numeral but lists clauses: not a formula.
    return bool(m) and (m.start() > 0 or m.group().startswith(tuple("一二两三四五六七八九十")) and
                        ("、" not in term and len(term) <= 8 or bool(_NUMBERED.search(term, 1))))


def _unquoted_formulas(text: str) -> list[tuple[int, int]]:
    """Numbered formulas outside quotation marks, whole: 一强三创, 1+3+N."""
    # Behind the lookahead for their first characters (numbers._with_first_chars):
    # the slogans' pattern took 1.09 s over the 10,000 benchmark documents, 0.23 s so.
    spans = [m.span() for m in nm._with_first_chars(nm._AR_FORMULA_RE).finditer(text)]
    spans += [m.span() for m in nm._with_first_chars(nm._SLOGAN_RE).finditer(text)]
    for m in nm._with_first_chars(nm._CN_FORMULA_RE).finditer(text):
        nums = list(nm._F_NUM_RE.finditer(m.group()))
        tails = [m.group()[a.end():b.start()] for a, b in zip(nums, nums[1:])]
        if any(set(t) & nm._FORMULA_STOP for t in tails) or nm._UNIT_RE.match(tails[0]):
            continue
        prev = text[m.start() - 1] if m.start() else ""
        if nums[0].group() == "一" and (tails[0][0] in nm._YI_WORD_NEXT or prev in nm._YI_WORD_PREV):
            continue
        # The last part is as long as the one before it (一强三创, 两代表一委员),
        # or two characters when a break follows them (四抓两整治,).
        end = min(len(text), m.end() + len(tails[-1]))
        if len(tails[-1]) == 1 and _HAN.match(text, end) and (end + 1 == len(text) or _AFTER_TERM.match(text, end + 1)):
            end += 1
        spans.append((m.start(), end))
    return spans


def find_terms(text: str) -> list[CampaignTerm]:
    """Every quoted term and every numbered formula in ``text``, in order.

    A formula inside quotation marks is reported once, as the quoted term.
    """
    out: list[CampaignTerm] = []
    quoted: list[tuple[int, int]] = []
    for pair, regex in _QUOTE_RES:
        for m in regex.finditer(text):
            term = m.group(1).strip()
            # One character in quotes is emphasis (“实”), not a name.
            if len(term) < 2 or _SPEECH.search(term) or not _HAN_OR_ALNUM.search(term):
                continue
            start = m.start(1) + (len(m.group(1)) - len(m.group(1).lstrip()))
            out.append(CampaignTerm(start, start + len(term), term, pair, _is_formula(term)))
            quoted.append(m.span())
    for start, end in _unquoted_formulas(text):
        if any(qs <= start and end <= qe for qs, qe in quoted):
            continue
        if any(t.start < end and start < t.end for t in out):
            continue
        out.append(CampaignTerm(start, end, text[start:end], "", True))
    out.sort(key=lambda t: (t.start, t.end))
    return out
