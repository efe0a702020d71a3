"""Numbers in Chinese Party-building reports: parse one numeral, or find them all.

Two entry points, both pure (``str`` in, values out, no I/O):

``parse_numeral(s)`` / ``parse_percent(s)``
    Turn one whole numeric string into a float. Arabic (``1,286``, ``-2.5``,
    ``2e5``), Chinese (``一千零五十``, ``两千四百五``), financial (``壹佰伍拾``),
    Traditional (``萬 億 兩 點 幾 負``), full-width, mixed (``1.1万``,
    ``5亿1万4千6百``, ``100万三千``), colloquial elisions (``三万五`` = 35000),
    digit-by-digit (``一七二零`` = 1720), fractions (``三分之一``), money
    (``壹拾壹元壹角``). ``parse_percent`` returns the number of percent for
    ``90%``, ``百分之八十五``, ``三成``, ``6个百分点``, ``千分之一``, ``75折``.
    Anything else raises ``ValueError``.

``find_numbers(text)``
    Every numeric expression in running text (Simplified script, half-width
    digits), as ``NumberMention`` records with exact offsets. Each mention is
    classified (``kind``) so that a date, a list marker or the 五 in the
    slogan “五双” is never mistaken for a quantity.

How ``find_numbers`` works: the recognisers below run one after another, in
order of priority. Each claims the characters it matched; later recognisers
run on a copy of the text in which claimed characters are blanked out, so
mentions never overlap and a lower-priority pattern cannot straddle a
higher-priority one. The order is: URLs/e-mails (blanked, nothing emitted) →
idioms whose numerals are lexical (blanked) → codes and formulas (``O2O``,
``5+X``), short quotations, slogans (all ``term``) → dates and times → phone
numbers → ratios (blanked) → ordinals and list markers → percentages →
fractions → ranges → plain quantities.

The genre decides the defaults: correctness beats recall. A bare Chinese
numeral is only reported with a counter or measure after it (``三年``, ``两个``),
never on its own (``一体``, ``统一``, ``三农``).
"""
from __future__ import annotations

import dataclasses
import math
import re
from functools import cache
from re import _constants as _sre_constants
from re import _parser as _sre_parser
from dataclasses import dataclass
from decimal import Context, Decimal, localcontext

__all__ = [
    "KINDS",
    "QUALIFIERS",
    "NumberMention",
    "find_numbers",
    "fold_numerals",
    "parse_numeral",
    "parse_percent",
]

KINDS = ("number", "percent", "fraction", "ratio", "ordinal", "date", "time", "phone", "term")
QUALIFIERS = ("exact", "approx", "lower_bound", "upper_bound", "range")


@dataclass(frozen=True)
class NumberMention:
    """One numeric expression found in a text.

    ``start``/``end`` are Python ``str`` offsets (end exclusive) and
    ``text == source[start:end]``. ``value`` has multipliers applied
    (``1.1万`` → 11000.0); for ``percent`` it is the number of percent
    (``三成`` → 30.0); for ranges it is ``None`` and ``value_min``/``value_max``
    hold the bounds. Dates, times, phone numbers and terms carry no value;
    their ``note`` holds an ISO form (dates, times) or why the numeral is a
    name rather than a quantity (terms: ``quoted``, ``formula``, ``code``,
    ``slogan``).
    """

    start: int
    end: int
    text: str
    value: float | None
    value_min: float | None
    value_max: float | None
    kind: str
    unit: str | None
    qualifier: str
    note: str | None


# ---------------------------------------------------------------------------
# Characters
# ---------------------------------------------------------------------------

# Full-width ASCII → half-width, the ideographic space, and the Traditional
# forms of the characters that occur inside numerals. One character in, one
# out, so offsets survive (``fold_numerals`` is safe on running text).
_FOLD = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_FOLD[0x3000] = 0x20
_FOLD.update(
    {
        ord(a): ord(b)
        for a, b in zip(
            "萬億兩倆點幾負個貳參陸餘對雙圓",
            "万亿两两点几负个贰叁陆余对双圆",
        )
    }
)


def fold_numerals(s: str) -> str:
    """Half-width digits and signs, Simplified numeral characters; same length.

    ``１．５萬`` → ``1.5万``, ``兩個百分點`` → ``两个百分点``. Only the characters
    that matter for numbers are touched.
    """
    return s.translate(_FOLD)


_CN_DIGIT = {
    "零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
    "六": 6, "七": 7, "八": 8, "九": 9, "幺": 1,
    "壹": 1, "贰": 2, "叁": 3, "肆": 4, "伍": 5, "陆": 6, "柒": 7, "捌": 8, "玖": 9,
}
_SMALL_UNIT = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
# 兆 is 10^12 here, as in Recognizers-Text; the finder only accepts it inside
# a longer numeral, because on its own mainland usage means mega (兆瓦).
_BIG_UNIT = {"万": 10**4, "亿": 10**8, "兆": 10**12}
_TENS = {"廿": 20, "卅": 30, "卌": 40}

_DIGIT_CHARS = "".join(_CN_DIGIT)

# Enough precision for 16-digit integers plus long decimals; values leave as float.
_CTX = Context(prec=60, Emax=10**6, Emin=-(10**6))


# ---------------------------------------------------------------------------
# Parsing one numeral
# ---------------------------------------------------------------------------

_AR_TOKEN = r"[0-9]{1,3}(?:,[0-9]{3})+(?![0-9])(?:\.[0-9]+)?|[0-9]+(?:\.[0-9]+)?|\.[0-9]+"
_TOKEN_RE = re.compile(
    rf"(?P<ar>{_AR_TOKEN})|(?P<cn>[{_DIGIT_CHARS}])|(?P<small>[十拾百佰千仟])"
    rf"|(?P<big>[万亿兆])|(?P<tens>[廿卅卌])|(?P<approx>[多余几])"
)
_DEC_PART_RE = re.compile(rf"([{_DIGIT_CHARS}0-9]+)([万亿]*)")
_SCI_RE = re.compile(
    r"(?P<m>[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?|[0-9]*\.?[0-9]+)"
    r"(?:[eE](?P<e>[+-]?[0-9]+))?(?P<sfx>[kKmM])?"
)
_POW_RE = re.compile(r"(?P<b>[0-9]+(?:\.[0-9]+)?)\^(?P<s>[+-]*)(?P<e>[0-9]+)")
_SLASH_RE = re.compile(r"(?P<n>[+-]?[0-9]+(?:\.[0-9]+)?)/(?P<d>[0-9]+(?:\.[0-9]+)?)")
_MIXED_SLASH_RE = re.compile(r"\s*(?P<w>[+-]?[0-9]+)\s+(?P<n>[0-9]+)\s*/\s*(?P<d>[0-9]+)\s*")
_MONEY_RE = re.compile(r"(?P<y>.+?)[元圆](?:(?P<j>[^角分元圆]+)角)?(?:(?P<f>[^角分元圆]+)分)?(?:整|正)?")
_WS_RE = re.compile(r"\s+")
_MAX_EXP = 400


def _tokenize(s: str) -> list[tuple[str, str]]:
    tokens = []
    pos = 0
    while pos < len(s):
        m = _TOKEN_RE.match(s, pos)
        if not m:
            raise ValueError(f"unexpected character {s[pos]!r} in numeral {s!r}")
        tokens.append((m.lastgroup, m.group()))
        pos = m.end()
    return tokens


def _ar_value(tok: str) -> Decimal:
    return Decimal(tok.replace(",", ""))


def _is_integral(v: Decimal) -> bool:
    return v == v.to_integral_value()


def _parse_integer(s: str) -> tuple[Decimal, bool]:
    """Value of an integer-part numeral (no 点), and whether 多/余/几 occurred.

    Positional Chinese with sections (万/亿 multiply what precedes them), the
    colloquial elision of the next lower unit (``两千四百五`` = 2450, ``三万五``
    = 35000), ``零`` gaps, Arabic parts (``5亿1万4千6百``, ``3万4000``) and
    approximate place-holders (``二十几万`` = 200000, flagged).
    """
    tokens = _tokenize(s)
    if not tokens:
        raise ValueError("empty numeral")
    if all(k == "cn" for k, _ in tokens):
        # Digit by digit: 一七二零 = 1720, 二〇二一 = 2021, 〇 = 0.
        return Decimal("".join(str(_CN_DIGIT[t]) for _, t in tokens)), False
    if len(tokens) == 1 and tokens[0][0] == "ar":
        return _ar_value(tokens[0][1]), False

    total = Decimal(0)
    section = Decimal(0)
    cur: Decimal | None = None
    cur_elidable = False
    last_small: int | None = None  # within the current 万/亿 section
    last_unit: int | None = None
    last_big: int | None = None
    zero_gap = False
    approx = False
    frac_lock = False  # after 1.5万 nothing but larger multipliers may follow
    prev_kind = None
    for kind, tok in tokens:
        if kind in ("cn", "ar"):
            v = _ar_value(tok) if kind == "ar" else Decimal(_CN_DIGIT[tok])
            if kind == "cn" and v == 0:
                if cur is not None:
                    raise ValueError(f"misplaced zero in {s!r}")
                zero_gap = True
            else:
                if frac_lock:
                    raise ValueError(f"nothing may follow a decimal multiplicand in {s!r}")
                if cur is not None:
                    raise ValueError(f"two numbers in a row in {s!r}")
                cur = v
                cur_elidable = kind == "cn" or (tok.isdigit() and len(tok) == 1)
        elif kind == "approx":
            if prev_kind == "approx" or (cur is None and last_unit is None):
                raise ValueError(f"misplaced {tok!r} in {s!r}")
            approx = True
            if cur is None:
                cur = Decimal(0)
            cur_elidable = False
        elif kind in ("small", "tens"):
            u = 10 if kind == "tens" else _SMALL_UNIT[tok]
            if last_small is not None and u >= last_small:
                raise ValueError(f"units out of order in {s!r}")
            if kind == "tens":
                if cur is not None:
                    raise ValueError(f"misplaced {tok!r} in {s!r}")
                section += _TENS[tok]
            else:
                n = cur if cur is not None else Decimal(1)
                if frac_lock:
                    raise ValueError(f"nothing may follow a decimal multiplicand in {s!r}")
                if not _is_integral(n):
                    frac_lock = True
                section += n * u
            cur = None
            last_small = last_unit = u
            zero_gap = False
        else:  # big
            u = _BIG_UNIT[tok]
            val = section + (cur if cur is not None else 0)
            if val == 0 and total == 0:
                raise ValueError(f"multiplier without a number in {s!r}")
            if not _is_integral(val):
                frac_lock = True
            if last_big is None or u >= last_big:
                total = (total + val) * u  # 万万 = 亿, 万亿 = 10^12
            else:
                total += val * u
            section = Decimal(0)
            cur = None
            last_small = None
            last_big = last_unit = u
            zero_gap = False
        prev_kind = kind
    if cur is not None:
        if last_unit is not None and not _is_integral(cur):
            raise ValueError(f"decimal after a unit in {s!r}")
        if zero_gap or last_unit is None or not cur_elidable:
            section += cur
        else:
            section += cur * (last_unit // 10)  # 一百二 = 120, 三万五 = 35000
    return total + section, approx


def _parse_plain(s: str) -> tuple[Decimal, bool]:
    """Unsigned numeral with an optional Chinese decimal point 点."""
    if "点" not in s:
        return _parse_integer(s)
    int_s, _, dec_s = s.partition("点")
    if not int_s or not dec_s:
        raise ValueError(f"incomplete decimal {s!r}")
    m = _DEC_PART_RE.fullmatch(dec_s)
    if not m:
        raise ValueError(f"bad decimal part in {s!r}")
    int_v, approx = _parse_integer(int_s)
    if not _is_integral(int_v):
        raise ValueError(f"two decimal points in {s!r}")
    digits = "".join(str(_CN_DIGIT.get(c, c)) for c in m.group(1))
    v = int_v + Decimal("0." + digits)
    for c in m.group(2):  # 三点五万 = 35000
        v *= _BIG_UNIT[c]
    return v, approx


def _split_sign(s: str) -> tuple[int, str]:
    if s and s[0] in "-负−":
        return -1, s[1:]
    if s and s[0] == "+":
        return 1, s[1:]
    return 1, s


def _simple_value(s: str, leading_big_ok: bool = False) -> Decimal:
    """Signed numeral without fractions: Arabic notations, money, dozens, Chinese."""
    sign, body = _split_sign(s)
    if not body:
        raise ValueError(f"no digits in {s!r}")
    if leading_big_ok and body[0] in "万亿":
        body = "一" + body  # 万分之三: the denominator 万 is 一万
    m = _POW_RE.fullmatch(body)
    if m:
        e = int(m.group("e"))
        if e > _MAX_EXP:
            raise ValueError(f"exponent too large in {s!r}")
        if m.group("s").count("-") % 2:
            e = -e
        return sign * Decimal(m.group("b")) ** e
    m = _SCI_RE.fullmatch(body)
    if m and (m.group("e") or m.group("sfx")):
        v = _ar_value(m.group("m"))
        if m.group("e"):
            e = int(m.group("e"))
            if abs(e) > _MAX_EXP:
                raise ValueError(f"exponent too large in {s!r}")
            v = v.scaleb(e)
        if m.group("sfx"):
            v *= 1000 if m.group("sfx") in "kK" else 10**6
        return sign * v
    if body[-1] in "元圆整正角分":
        m = _MONEY_RE.fullmatch(body)
        if not m:
            raise ValueError(f"bad money amount {s!r}")
        v = _parse_plain(m.group("y"))[0]
        for part, scale in ((m.group("j"), Decimal("0.1")), (m.group("f"), Decimal("0.01"))):
            if part is not None:
                d = _parse_plain(part)[0]
                if not (0 <= d < 10 and _is_integral(d)):
                    raise ValueError(f"bad sub-unit in {s!r}")
                v += d * scale
        return sign * v
    if len(body) > 1 and body[-1] == "打":  # dozen: 五十打 = 600
        return sign * 12 * _parse_plain(body[:-1])[0]
    if len(body) == 2 and body[0] == "半" and body[1] in "十百千万亿":  # 半百 = 50
        unit = _SMALL_UNIT.get(body[1]) or _BIG_UNIT[body[1]]
        return sign * Decimal(unit) / 2
    return sign * _parse_plain(body)[0]


def _fraction_value(s: str) -> Decimal:
    """``X分之Y`` = Y/X, ``a/b``; signs on either side (负3分之负157 = 157/3)."""
    if "分之" in s:
        den_s, _, num_s = s.partition("分之")
        den = _simple_value(den_s, leading_big_ok=True)
        num = _simple_value(num_s)
    else:
        m = _SLASH_RE.fullmatch(s)
        if not m:
            raise ValueError(f"bad fraction {s!r}")
        num, den = Decimal(m.group("n")), Decimal(m.group("d"))
    if den == 0:
        raise ValueError(f"zero denominator in {s!r}")
    return num / den


def _value(s: str) -> Decimal:
    t = fold_numerals(s)
    m = _MIXED_SLASH_RE.fullmatch(t)  # "1 3/5": the space separates, so test first
    if m:
        w = Decimal(m.group("w"))
        f = Decimal(m.group("n")) / Decimal(m.group("d"))
        return w - f if m.group("w").startswith("-") else w + f
    t = _WS_RE.sub("", t)
    if not t:
        raise ValueError("empty string is not a number")
    sign, body = _split_sign(t)
    if not body:
        raise ValueError(f"no digits in {s!r}")
    if "又" in body:  # mixed number: 三百五又三分之一
        whole_s, _, frac_s = body.partition("又")
        if not ("分之" in frac_s or "/" in frac_s):
            raise ValueError(f"bad mixed number {s!r}")
        whole = _simple_value(whole_s)
        frac = _fraction_value(frac_s)
        if whole < 0 or frac < 0:
            raise ValueError(f"bad mixed number {s!r}")
        return sign * (whole + frac)
    if "分之" in body or "/" in body:
        return sign * _fraction_value(body)
    return sign * _simple_value(body)


def _to_float(v: Decimal, s: str) -> float:
    f = float(v)
    if not math.isfinite(f):
        raise ValueError(f"value of {s!r} is out of float range")
    return f


def parse_numeral(s: str) -> float:
    """Value of one whole numeric string; ``ValueError`` if it is not a number.

    >>> parse_numeral("1.1萬"), parse_numeral("两千四百五"), parse_numeral("三分之一")
    (11000.0, 2450.0, 0.3333333333333333)

    Internal whitespace is ignored (``7 万5 千4 百``). Approximate place-holders
    give the lower bound (``十多万`` → 100000.0). Percent forms are fractions
    here (``百分之五`` → 0.05); use ``parse_percent`` for the number of percent.
    """
    if not isinstance(s, str):
        raise TypeError(f"parse_numeral expects str, not {type(s).__name__}")
    try:
        with localcontext(_CTX):
            v = _value(s)
    except ArithmeticError as e:  # decimal overflow, 0 ** -1, ...
        raise ValueError(f"not a number: {s!r} ({e.__class__.__name__})") from e
    return _to_float(v, s)


_PCT_POINT_RE = re.compile(r"(?P<n>.+?)个?百分点")
_PCT_OF_RE = re.compile(r"(?P<sign>[-负]?)(?P<den>[^分]+)分之(?P<n>.+)")
_TENTHS_RE = re.compile(r"(?P<n>.+?)成(?P<extra>半|[一二两三四五六七八九1-9])?")
_DISCOUNT_RE = re.compile(r"打?(?P<n>.+?)折")
_SIMPLE_DIGITS = set("一二两三四五六七八九壹贰叁肆伍陆柒捌玖123456789")


def _tenths(n_s: str, extra: str | None) -> Decimal:
    """``三成`` = 30 %, ``三成半`` = 35 %, ``七成六`` = 76 %, ``半成`` = 5 %."""
    if n_s == "半":
        if extra:
            raise ValueError("bad 成 form")
        return Decimal(5)
    if any(c in "百千万亿佰仟" for c in n_s):
        raise ValueError(f"bad 成 form {n_s!r}")
    v = _parse_plain(n_s)[0]
    if not (0 < v <= 10):
        raise ValueError(f"成 counts tenths, {n_s!r} is out of range")
    pct = v * 10
    if extra == "半":
        pct += 5
    elif extra:
        if not _is_integral(v) or v == 10:
            raise ValueError("bad 成 form")
        pct += _CN_DIGIT[extra] if extra in _CN_DIGIT else int(extra)
    return pct


def _discount(n_s: str) -> Decimal:
    """折 is the fraction of the price paid: 75折 = 75 %, 9.9折 = 99 %, 三八折 = 38 %."""
    if n_s in ("对", "半"):
        return Decimal(50)
    if any(c in _SMALL_UNIT or c in _BIG_UNIT for c in n_s):
        raise ValueError(f"bad 折 form {n_s!r}")  # 十折, 百折不挠
    v = _parse_plain(n_s)[0]
    if "点" in n_s or "." in n_s:
        if not (0 < v < 10):
            raise ValueError(f"bad 折 form {n_s!r}")
        return v * 10
    if len(n_s) == 1 and n_s in _SIMPLE_DIGITS:
        return v * 10
    if len(n_s) == 2 and n_s[0] in _SIMPLE_DIGITS and n_s[1] in _SIMPLE_DIGITS:
        return v
    raise ValueError(f"bad 折 form {n_s!r}")


def _percent_value(s: str) -> tuple[Decimal, str | None]:
    t = _WS_RE.sub("", fold_numerals(s))
    if not t:
        raise ValueError("empty string is not a percentage")
    if t[-1] == "%":
        return _value(t[:-1]), None
    if t[-1] == "‰":
        return _value(t[:-1]) / 10, "千分之"
    m = _PCT_POINT_RE.fullmatch(t)
    if m:
        return _value(m.group("n")), "个百分点"
    m = _PCT_OF_RE.fullmatch(t)
    if m:
        den = _simple_value(m.group("den"), leading_big_ok=True)
        if den <= 0:
            raise ValueError(f"bad denominator in {s!r}")
        sign = -1 if m.group("sign") else 1
        note = None if den == 100 else f"{m.group('den')}分之"
        return sign * _simple_value(m.group("n")) * 100 / den, note
    m = _TENTHS_RE.fullmatch(t)
    if m:
        return _tenths(m.group("n"), m.group("extra")), "成"
    m = _DISCOUNT_RE.fullmatch(t)
    if m:
        return _discount(m.group("n")), "折"
    raise ValueError(f"not a percentage: {s!r}")


def parse_percent(s: str) -> float:
    """Number of percent in one whole percentage expression.

    ``90%`` → 90, ``百分之八十五`` → 85, ``三成`` → 30 (成 = tenths),
    ``6个百分点`` → 6 (percentage points), ``千分之一`` → 0.1, ``75折`` → 75
    (折 = share of the price paid). ``ValueError`` on anything else.
    """
    if not isinstance(s, str):
        raise TypeError(f"parse_percent expects str, not {type(s).__name__}")
    try:
        with localcontext(_CTX):
            v, _ = _percent_value(s)
    except ArithmeticError as e:
        raise ValueError(f"not a percentage: {s!r} ({e.__class__.__name__})") from e
    return _to_float(v, s)


# ---------------------------------------------------------------------------
# Finding numbers in running text: building blocks
# ---------------------------------------------------------------------------

_DIG = "零〇一二两三四五六七八九"
_FIN_DIG = "壹贰叁肆伍陆柒捌玖"
_FIN_UNIT = "拾佰仟"
_UNIT_CH = "十百千"
_BIG_CH = "万亿"
_NUMERAL_CHARS = _DIG + _UNIT_CH + _BIG_CH + "廿卅" + _FIN_DIG + _FIN_UNIT
_SIMPLE_NUM = "一二两三四五六七八九十"

_AR = r"(?:[0-9]{1,3}(?:,[0-9]{3})++(?![0-9])(?:\.[0-9]+)?|[0-9]++(?:\.[0-9]++)?)"
_CN_PLAIN = f"[{_DIG}{_UNIT_CH}{_BIG_CH}廿卅]"
# Financial numerals double as ordinary words (队伍, 大陆, 收拾, 放肆), so they
# count only next to a unit or another financial numeral.
_FIN_D = (
    f"(?:[{_FIN_DIG}](?=[{_FIN_UNIT}{_UNIT_CH}{_BIG_CH}元圆角])|(?<=[{_FIN_UNIT}{_UNIT_CH}{_BIG_CH}])[{_FIN_DIG}])"
)
_FIN_U = f"(?:(?<=[{_DIG}{_FIN_DIG}0-9])[{_FIN_UNIT}]|[{_FIN_UNIT}](?=[{_DIG}{_FIN_DIG}{_BIG_CH}]))"
_ATOM = f"(?:{_AR}|{_CN_PLAIN}|{_FIN_D}|{_FIN_U})"
_CONT = (
    f"(?:(?<![0-9]){_AR}|{_CN_PLAIN}|{_FIN_D}|{_FIN_U}"
    f"|点(?=[{_DIG}{_FIN_DIG}0-9])|兆(?=[{_DIG}])|[多余几](?=[{_UNIT_CH}{_BIG_CH}{_FIN_UNIT}]))"
)
# One numeral: Arabic and Chinese parts, multipliers, 点 decimals, 多/余/几
# inside (一千多万). Possessive, so a failed match never re-splits digit runs,
# and never starting inside another numeral, so a long digit run that fails a
# pattern is scanned once, not once per character (linear time).
RUN = f"(?<![0-9{_DIG}{_UNIT_CH}{_BIG_CH}廿卅])(?:{_ATOM}){_CONT}*+"

# Counters and measures, each with the characters that, following it, make a
# different word (人民, 项目, 支部, 一次性 ...). Longest first.
_UNIT_SPECS: list[tuple[str, str]] = [
    ("平方公里", ""), ("平方千米", ""), ("平方米", ""), ("立方米", ""), ("千瓦时", ""),
    ("千瓦", ""), ("兆瓦", ""), ("公里", ""), ("千米", ""), ("厘米", ""), ("毫米", ""),
    ("公顷", ""), ("公斤", ""), ("千克", ""), ("毫升", ""), ("周年", ""), ("周岁", ""),
    ("小时", ""), ("分钟", ""), ("星期", ""), ("季度", ""), ("工作日", ""),
    ("人次", ""), ("户次", ""), ("家次", ""), ("场次", ""), ("批次", ""), ("架次", ""),
    ("车次", ""), ("美元", ""), ("欧元", ""), ("港元", ""), ("日元", ""), ("英镑", ""),
    ("人民币", ""), ("美圆", ""), ("新台币", ""), ("台币", ""), ("瑞士法郎", ""), ("法郎", ""),
    ("卢布", ""), ("韩元", ""), ("奈拉", ""),
    ("块钱", ""),
    ("个", "人体性案"), ("名", "单称义额"), ("位", "数置于列"), ("人", "民大"),
    ("户", "口籍外型"), ("家", "庭乡长属园政具电"), ("所", "以有在属得谓"), ("座", "谈位"),
    ("条", "例件款"), ("项", "目"), ("件", ""), ("支", "部持撑援付出书"), ("部", "门署分长队落委位件署署"),
    ("批", "示准复评"), ("期", "间待望限盼刊末初中"), ("届", ""), ("次", "要序性"),
    ("轮", "训流换岗"), ("场", "所景地馆合"), ("处", "理置级长罚室"), ("类", ""),
    ("种", "植子养类"), ("级", "别"), ("层", "级面次"), ("间", ""), ("栋", ""), ("幢", ""),
    ("套", "餐"), ("台", "账湾阶风"), ("辆", ""), ("艘", ""), ("架", "构"), ("张", ""),
    ("本", "领地着正"), ("册", ""), ("篇", ""), ("份", "额"), ("节", "日约点能"), ("堂", ""),
    ("首", "先"), ("段", "落"), ("片", "面"), ("株", ""), ("棵", ""), ("头", "雾"), ("只", "有是要"),
    ("匹", ""), ("例", ""), ("起", "来点草步码伏源诉床"), ("宗", ""), ("笔", ""),
    ("元", "化素旦老首宵帅"), ("块", "儿"), ("角", "色度落"), ("吨", ""), ("斤", ""),
    ("克", "服"), ("亩", ""), ("米", "粉饭"), ("瓦", ""), ("度", "过假量化"), ("升", "级"),
    ("岁", ""), ("倍", ""), ("年", "级代"), ("天", "然下津空"), ("周", "边围末期转年"),
    ("秒", ""), ("门", "户口类槛诊"), ("组", "织建成长"), ("队", "伍员"), ("班", "子长车"),
    ("村", "民级委干庄子落务"),
]
_ASCII_UNITS = ["km²", "km2", "kWh", "kW", "MW", "GW", "GB", "MB", "TB", "km", "kg", "m²", "m³", "cm", "mm", "m"]
_TIME_UNITS = {"年", "个月", "月", "天", "周", "星期", "小时", "分钟", "季度", "工作日"}


def _unit_alternation() -> str:
    parts = []
    for unit, bad_next in sorted(_UNIT_SPECS, key=lambda p: -len(p[0])):
        parts.append(re.escape(unit) + (f"(?![{bad_next}])" if bad_next else ""))
    ascii_units = "|".join(re.escape(u) for u in _ASCII_UNITS)
    # 个月 / 个半月 / 个多小时 before the generic 个.
    return f"个[多余半]?(?:月|小时|钟头|星期|季度|工作日)|{'|'.join(parts)}|(?:{ascii_units})(?![A-Za-z0-9])"


UNIT = f"(?:{_unit_alternation()})"
_UNIT_RE = re.compile(UNIT)

_LEAD_QUAL = {
    "将近": "approx", "接近": "approx", "大约": "approx", "约": "approx", "近": "approx",
    "超过": "lower_bound", "超": "lower_bound", "突破": "lower_bound", "逾": "lower_bound",
    "不少于": "lower_bound", "不低于": "lower_bound", "至少": "lower_bound", "多于": "lower_bound",
    "高于": "lower_bound", "上": "lower_bound",
    "不到": "upper_bound", "不足": "upper_bound", "不超过": "upper_bound", "少于": "upper_bound",
    "低于": "upper_bound", "最多": "upper_bound",
}
# A qualifier preceded by one of these characters belongs to another word:
# 附近, 签约, 赶超, 以上 ...
_LEAD_BLOCK = {"近": "附最靠亲邻贴", "约": "签制预节公相条契违邀践合集", "超": "赶高", "上": "以向之而马早晚往在"}
_TRAIL_QUAL = {"左右": "approx", "上下": "approx", "以上": "lower_bound", "有余": "lower_bound",
               "以下": "upper_bound", "以内": "upper_bound"}
LEAD = "(?:" + "|".join(sorted(_LEAD_QUAL, key=len, reverse=True)) + ")"
# 上下 also starts 上下联动; accept it only before punctuation.
TRAIL = "(?:左右|以上|以下|以内|有余|上下(?=[，。；、,.;）)\\s]|$))"
_SEP = "(?:至|到|~|～|——|—|–|-|－)"

_SENTINEL = "\x00"


def _decimal_or_none(s: str) -> tuple[Decimal, bool] | None:
    try:
        return _parse_plain(s.replace(" ", ""))
    except (ValueError, ArithmeticError):
        return None


def _finite(v: Decimal | float | None) -> float | None:
    if v is None:
        return None
    f = float(v)
    return f if math.isfinite(f) else None


class _Scan:
    """The text, the characters claimed so far, and the mentions emitted."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.windows = _windows(text)
        self._narrow: dict[re.Pattern, list[tuple[int, int]]] = {}  # see windows_for
        self.claimed = bytearray(len(text))
        self.work = text
        self._pending: list[tuple[int, int]] = []  # claimed since the last refresh
        self.out: list[NumberMention] = []

    def free(self, start: int, end: int) -> bool:
        return self.claimed.find(1, start, end) == -1

    def claim(self, start: int, end: int) -> None:
        self.claimed[start:end] = b"\x01" * (end - start)
        self._pending.append((start, end))

    def refresh(self) -> None:
        """``work``: the text with every claimed character a sentinel. Built
        from slices around the new claims; joining a list of the text's
        characters after every recogniser was 4 % of the facts workers' time."""
        if not self._pending:
            return
        parts, at = [], 0
        for start, end in sorted(self._pending):
            if end <= at:
                continue
            start = max(start, at)
            parts += (self.work[at:start], _SENTINEL * (end - start))
            at = end
        parts.append(self.work[at:])
        self.work = "".join(parts)
        self._pending.clear()

    def emit(self, start: int, end: int, kind: str, value=None, vmin=None, vmax=None,
             unit: str | None = None, qualifier: str = "exact", note: str | None = None) -> bool:
        if start >= end or not self.free(start, end):
            return False
        fv, fmin, fmax = _finite(value), _finite(vmin), _finite(vmax)
        if (value is not None and fv is None) or (vmin is not None and fmin is None) or (
            vmax is not None and fmax is None
        ):
            return False  # overflowing values are dropped, never reported as inf
        self.out.append(NumberMention(start, end, self.text[start:end], fv, fmin, fmax,
                                      kind, unit, qualifier, note))
        self.claim(start, end)
        return True

    def prev_char(self, i: int) -> str:
        return self.text[i - 1] if i > 0 else ""

    def finditer(self, regex: re.Pattern):
        """``regex.finditer(self.work)``, but only over the windows around
        the numerals it can match: most of a report has none, and patterns
        that open with an optional qualifier are costly to try at every
        position. Lookbehinds still see the whole text. A list, not a
        generator: the recognisers change ``work`` only after their loop
        (``refresh``), and resuming a generator per match cost 3-5 % of the
        finder's time."""
        fast, runs = _windowed(regex)
        work, each = self.work, fast.finditer
        return [m for a, b in self.windows_for(runs) for m in each(work, a, b)]

    def windows_for(self, runs: re.Pattern | None) -> list[tuple[int, int]]:
        """The windows around the numeral characters ``runs`` finds (see
        :func:`_windowed`), or around every numeral for None; made once per
        text and kind of numeral."""
        if runs is None:
            return self.windows
        found = self._narrow.get(runs)
        if found is None:
            found = self._narrow[runs] = _windows(self.text, runs)
        return found


class _NoFirstChars(Exception):
    pass


def _first_chars(items: list) -> tuple[set[str], bool]:
    """The characters a match of the parsed sequence ``items`` can begin
    with, and whether it can match the empty string. Zero-width assertions
    (lookarounds, anchors) consume nothing, so the next item decides; anything
    this cannot bound exactly (``.``, negated or category classes, huge
    ranges, back-references, inline flags) raises :class:`_NoFirstChars`."""
    out: set[str] = set()
    for op, av in items:
        if op is _sre_constants.LITERAL:
            chars, nullable = {chr(av)}, False
        elif op is _sre_constants.IN:
            chars, nullable = set(), False
            for kind, arg in av:
                if kind is _sre_constants.LITERAL:
                    chars.add(chr(arg))
                elif kind is _sre_constants.RANGE and arg[1] - arg[0] <= 30000:
                    chars.update(chr(c) for c in range(arg[0], arg[1] + 1))
                else:
                    raise _NoFirstChars
        elif op in (_sre_constants.AT, _sre_constants.ASSERT, _sre_constants.ASSERT_NOT):
            chars, nullable = set(), True
        elif op is _sre_constants.SUBPATTERN:
            _group, add_flags, del_flags, sub = av
            if add_flags or del_flags:
                raise _NoFirstChars
            chars, nullable = _first_chars(list(sub))
        elif op is _sre_constants.BRANCH:
            chars, nullable = set(), False
            for branch in av[1]:
                c, n = _first_chars(list(branch))
                chars |= c
                nullable = nullable or n
        elif op in (_sre_constants.MAX_REPEAT, _sre_constants.MIN_REPEAT, _sre_constants.POSSESSIVE_REPEAT):
            low, _high, sub = av
            chars, nullable = _first_chars(list(sub))
            nullable = nullable or low == 0
        else:
            raise _NoFirstChars
        out |= chars
        if not nullable:
            return out, False
    return out, True


@cache
def _with_first_chars(regex: re.Pattern) -> re.Pattern:
    """``regex`` behind a lookahead for the characters its matches can begin
    with, when those can be worked out from its parse tree: the same matches,
    with the same groups, but a position that cannot begin one fails at the
    first character instead of trying every alternative of an optional
    qualifier (不少于, 超过, 约 …) first. On 398 benchmark documents this
    halved the windowed patterns' time (1.34 → 0.62 s) with identical matches.
    Patterns it cannot bound, or that can match nothing at all, are left as
    they are."""
    try:
        chars, nullable = _first_chars(list(_sre_parser.parse(regex.pattern, regex.flags)))
        if nullable or not chars:
            return regex
        cls = "".join(re.escape(c) for c in sorted(chars))
        return re.compile(f"(?=[{cls}])(?:{regex.pattern})", regex.flags)
    except (_NoFirstChars, re.error):
        return regex


# Characters a numeric expression cannot do without, and how far around them
# a match may reach (qualifiers, counters, 以上/左右, date separators). Matches
# are at most a few characters longer on either side than their numerals.
_NUMERALISH = frozenset("0123456789零〇一二两三四五六七八九十百千万亿廿卅卌壹贰叁肆伍陆柒捌玖拾佰仟半折")


@cache
def _runs_of(chars: frozenset[str]) -> re.Pattern:
    """Runs of the characters ``chars``."""
    return re.compile("[" + "".join(re.escape(c) for c in sorted(chars)) + "]+")


_NUMERALISH_RE = _runs_of(_NUMERALISH)
_WINDOW_MARGIN = 12


def _windows(text: str, runs: re.Pattern = _NUMERALISH_RE) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for m in runs.finditer(text):
        a, b = max(0, m.start() - _WINDOW_MARGIN), min(len(text), m.end() + _WINDOW_MARGIN)
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return out


_REPEATS = (_sre_constants.MAX_REPEAT, _sre_constants.MIN_REPEAT, _sre_constants.POSSESSIVE_REPEAT)


def _nested(op, av) -> list[list]:
    """The parsed sequences directly inside one item of a parse tree: a
    group's, each alternative's, a repeat's body; none for anything else
    (lookarounds included, which consume nothing)."""
    if op is _sre_constants.SUBPATTERN:
        return [list(av[3])]
    if op is _sre_constants.ATOMIC_GROUP:
        return [list(av)]
    if op is _sre_constants.BRANCH:
        return [list(branch) for branch in av[1]]
    if op in _REPEATS:
        return [list(av[2])]
    return []


def _consumed(items: list) -> set[str]:
    """Every character a match of the parsed sequence ``items`` can consume
    (lookarounds consume nothing); :class:`_NoFirstChars` for anything this
    cannot bound exactly, as in :func:`_first_chars`."""
    out: set[str] = set()
    for op, av in items:
        if op in (_sre_constants.AT, _sre_constants.ASSERT, _sre_constants.ASSERT_NOT):
            continue
        if op is _sre_constants.SUBPATTERN and (av[1] or av[2]):
            raise _NoFirstChars
        nested = _nested(op, av)
        for sub in nested:
            out |= _consumed(sub)
        if not nested:
            out |= _first_chars([(op, av)])[0]  # one character: a literal or a bounded class
    return out


def _always_consumes(items: list, chars: frozenset[str]) -> bool:
    """Whether every match of the parsed sequence ``items`` consumes at least
    one of ``chars``."""
    for op, av in items:
        if op is _sre_constants.LITERAL:
            found = chr(av) in chars
        elif op is _sre_constants.IN:
            try:
                can = _first_chars([(op, av)])[0]
            except _NoFirstChars:
                can = set()
            found = bool(can) and can <= chars
        elif op in _REPEATS and av[0] < 1:
            found = False  # may be skipped
        else:
            nested = _nested(op, av)  # every alternative must consume one
            found = bool(nested) and all(_always_consumes(sub, chars) for sub in nested)
        if found:
            return True
    return False


def _unbounded_beside(items: list, chars: frozenset[str]) -> bool:
    """Whether the parsed sequence ``items`` repeats, without a bound,
    something that can consume characters outside ``chars`` without taking
    one of them (``[ \\t]*``): a match could then reach any distance from
    its ``chars``."""
    for op, av in items:
        if op in _REPEATS and av[1] == _sre_constants.MAXREPEAT:
            body = list(av[2])
            # A body that takes one of ``chars`` each time round cannot make a long stretch without them.
            if _consumed(body) - chars and not _always_consumes(body, chars):
                return True
        if any(_unbounded_beside(sub, chars) for sub in _nested(op, av)):
            return True
    return False


_DIGITS = frozenset("0123456789")
_DIGIT_RUNS_RE = _runs_of(_DIGITS)


@cache
def _windowed(regex: re.Pattern) -> tuple[re.Pattern, re.Pattern | None]:
    """``regex`` behind its first-character lookahead, and the numerals
    whose windows hold its matches: Arabic digit runs (``_DIGIT_RUNS_RE``)
    when every match holds a digit and can hold no other numeral character,
    else None, every numeral. A date or a telephone number holds Arabic
    digits, whose windows cover about a sixth of a report, against nearly
    half for the windows around every numeral; 17 of the 52 windowed
    patterns are such. Over the 10,000 benchmark documents the finder took
    about a tenth less time, with the same mentions.

    A match lies within the margin of the numerals it contains (the
    windows' premise). One that always contains a digit and can contain no
    other numeral character cannot reach past its digit runs into the rest
    of a longer numeral (2万, 三5), so the windows around those runs hold
    it, as long as nothing else in it repeats without a bound. The list
    markers' leading ``[ \\t]*`` does: 14 spaces before ``1、`` put the
    marker beyond the margin, where only a Chinese numeral's window nearby
    still reached it, so such patterns, and patterns this cannot bound,
    take every numeral's windows.
    Narrower sets of characters (the simple Chinese numerals, say) are not
    worth it: each set costs one more pass over the text to find its runs,
    and the sets are many."""
    fast = _with_first_chars(regex)
    try:
        items = list(_sre_parser.parse(regex.pattern, regex.flags))
        digits_only = (_consumed(items) & _NUMERALISH <= _DIGITS and _always_consumes(items, _DIGITS)
                       and not _unbounded_beside(items, _DIGITS))
    except (_NoFirstChars, re.error):
        return fast, None
    return fast, _DIGIT_RUNS_RE if digits_only else None


# ---------------------------------------------------------------------------
# Recognisers, in priority order
# ---------------------------------------------------------------------------

_MASK_RE = re.compile(
    r"https?://[^\s，。；、“”）)]+|www\.[A-Za-z0-9./_%?=&#-]+|(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"
)

# Idioms and fixed words in which a numeral stands before a counter-like
# character but is not a count. Only words that the quantity patterns would
# otherwise pick up need to be here.
_IDIOMS = [
    "千层浪", "一次性", "一条龙", "一条心", "一年四季", "三番五次", "千家万户", "百家争鸣",
    "一头雾水", "三头六臂", "三天两头", "三年五载", "一年半载", "齐聚一堂", "欢聚一堂",
    "共聚一堂", "济济一堂", "百年大计", "千年大计", "百年未有之大变局", "百年变局", "五台山",
    "七台河", "五花八门", "一门心思", "一成不变", "三五成群", "一家独大", "一本正经", "独一无二",
    "一个不少", "一个都不能少", "一班人", "一一对应", "九九归一", "一波三折",
]
_IDIOM_RE = re.compile(
    f"(?<![{_NUMERAL_CHARS}0-9])(?:" + "|".join(sorted(map(re.escape, _IDIOMS), key=len, reverse=True)) + ")"
)

_MAX_TERM_QUOTE = 20  # longer quotations are speech or titles: read them normally
# One pattern per quote style, so a short ‘…’ inside a long “…” is still found.
_QUOTE_RES = [
    re.compile(f"{o}([^{o}{c}\n]*){c}") for o, c in (("“", "”"), ("「", "」"), ("『", "』"), ("‘", "’"), ('"', '"'))
]
_TERM_NUMERAL_RE = re.compile(RUN)

_SLOGANS = [
    "三个代表", "五位一体", "四位一体", "三位一体", "两学一做", "三严三实", "三会一课", "八项规定",
    "三重一大", "一岗双责", "一国两制", "四项基本原则", "两个一百年", "一带一路", "五大发展理念",
    "三大攻坚战", "四下基层", "四讲四有", "四风",
]
_SLOGAN_RE = re.compile(
    "|".join(sorted(map(re.escape, _SLOGANS), key=len, reverse=True))
    + f"|(?<![{_NUMERAL_CHARS}0-9])[两三四五六七八九十]个(?=意识|自信|维护|确立|全面|伟大|务必|服从|覆盖|典范|一百年|毫不动摇)"
    # Five-year plans: 十三五, 十四五.
    + f"|(?<![{_NUMERAL_CHARS}0-9])十[一二三四五]五(?=规划|时期|期间|开局|以来|末|初|期|发展|计划|目标|战略|[，。、；”’]|$)"
)
_AR_FORMULA_RE = re.compile(r"(?<![0-9A-Za-z.])[0-9]+(?:\+(?:[0-9]+|[A-Za-z]+|[一二三四五六七八九十]+))+\+?(?![0-9])")
_CODE_RE = re.compile(r"(?<![0-9A-Za-z])[0-9A-Za-z]+(?:[-_][0-9A-Za-z]+)*(?![0-9A-Za-z])")
_NUM_WITH_ASCII_UNIT = re.compile(
    r"[0-9]+(?:\.[0-9]+)?(?:" + "|".join(re.escape(u) for u in _ASCII_UNITS) + r"|[kK])"
)
_VERSION_RE = re.compile(r"(?<![0-9.])[0-9]+\.[0-9]+(?=版)")

# Unquoted numbered formulas: 一强三创, 四抓两整治, 十查十看十补课, 两代表一委员.
_F_NUM = "[一二两三四五六七八九十]{1,2}"
_F_TAIL = f"(?:(?![{_NUMERAL_CHARS}])[\u4e00-\u9fff])"
_CN_FORMULA_RE = re.compile(
    f"(?<![第{_NUMERAL_CHARS}0-9]){_F_NUM}(?:{_F_TAIL}{{1,2}}{_F_NUM})+(?={_F_TAIL})"
)
_F_NUM_RE = re.compile(_F_NUM)
_FORMULA_STOP = set("是至到或和与及比加减乘除又之分点的了在为对把被等年月日个次名人户家届期批项条座所")
# 一 followed by these forms an ordinary word (一线, 一体, 一起 ...).
_YI_WORD_NEXT = set("线体起直切定般致道流样同律旦度再向贯味概齐时步边面方些共半早并把下点连级类种批片")
# Characters that, before a single 一, make a word of it (进一步, 统一, 唯一)
# or a determiner phrase rather than a count (新一届, 另一个, 每一个, 这一).
_YI_WORD_PREV = set("进统唯同单之万逐划专不归合均整初周第新另每任这那某哪")

_Y = r"(?:1[5-9]|20)[0-9]{2}"
_M = r"(?:1[0-2]|0?[1-9])"
_D = r"(?:3[01]|[12][0-9]|0?[1-9])"
_DATE_SEP = r"(?:至|到|-|－|—|–|~|～)"
_DATE_RES = [
    re.compile(rf"(?<![0-9])(?P<y>{_Y}){_DATE_SEP}(?P<y2>{_Y})年(?P<du>度)?"),
    re.compile(
        rf"(?<![0-9])(?P<y>{_Y})年(?:(?P<m>{_M})月(?:(?P<d>{_D})[日号])?)?"
        rf"(?:{_DATE_SEP}(?:(?P<y2>{_Y})年(?:(?P<m2>{_M})月(?:(?P<d2>{_D})[日号])?)?"
        rf"|(?P<m3>{_M})月(?:(?P<d3>{_D})[日号])?|(?P<d4>{_D})[日号]))?(?P<du>度)?"
    ),
    re.compile(rf"(?<![0-9.])(?P<y>{_Y})(?P<s>[-/.])(?P<m>{_M})(?P=s)(?P<d>{_D})(?![0-9])"),
    re.compile(
        rf"(?<![0-9.])(?P<m>{_M})月(?P<d>{_D})[日号](?:{_DATE_SEP}(?:(?P<m3>{_M})月)?(?P<d3>{_D})[日号])?"
    ),
    # 1至8月, 1-6月份: a span of months without a year.
    re.compile(rf"(?<![0-9.])(?P<m>{_M})(?:月)?{_DATE_SEP}(?P<m3>{_M})月(?:份)?"),
    re.compile(rf"(?<![0-9.])(?P<m>{_M})月(?:份)?"),
    re.compile(rf"(?<![0-9.])(?P<d>{_D})日"),
    re.compile(r"(?<![0-9])(?:[0-9]{2}|(?:1[5-9]|20)[0-9]0)年代"),
    re.compile(r"(?<![一二三四五六七八九十])[二三四五六七八九]十年代"),
    re.compile(r"(?<![0-9])(?:第)?[一二三四1-4]季度"),
]
_CM = "(?:十[一二]|十|[一二三四五六七八九])"
_CD = "(?:三十一|三十|二十[一二三四五六七八九]|二十|十[一二三四五六七八九]|十|[一二三四五六七八九])"
_CN_DATE_RE = re.compile(
    rf"(?<![{_NUMERAL_CHARS}])(?:(?P<cy>[〇零一二三四五六七八九]{{4}})年(?:(?P<cm>{_CM})月(?:(?P<cd>{_CD})[日号])?)?"
    rf"|(?P<cm2>{_CM})月(?P<cd2>{_CD})[日号])"
)
_TIME_RES = [
    re.compile(r"(?<![0-9:])(?:[01]?[0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9])?(?![0-9:])"),
    re.compile(r"(?<![0-9])(?:[01]?[0-9]|2[0-3])[时点][0-5]?[0-9]分"),
    re.compile(r"(?<=上午|下午|晚上|凌晨|早上|中午|傍晚)(?:[01]?[0-9]|2[0-3])[时点](?:[0-5]?[0-9]分|半|整)?"),
]
_PHONE_RES = [
    (re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])"), "mobile"),
    (re.compile(r"(?<![0-9])(?:\(0[0-9]{2,3}\)|（0[0-9]{2,3}）|0[0-9]{2,3}-)[0-9]{7,8}(?![0-9])"), "landline"),
    (re.compile(r"(?<![0-9])400-?[0-9]{3}-?[0-9]{4}(?![0-9])"), "service"),
    # Government hotlines 12345, 12380, 12388 ... unless a unit follows (12345人).
    (re.compile(rf"(?<![0-9.,])123[0-9]{{2}}(?![0-9.,%])(?!{UNIT})"), "hotline"),
    (re.compile(r"(?<=拨打|报警|急救|热线)(?:110|119|120|122)(?![0-9])"), "hotline"),
]
_PHONE_CONTEXT_RE = re.compile(r"(?<![0-9.,])[0-9]{7,8}(?![0-9.,])")
_PHONE_CUES = ("电话", "热线", "传真", "联系方式", "咨询", "拨打", "Tel", "TEL", "tel")
_RATIO_RE = re.compile(r"(?<![0-9.])[0-9]+(?:\.[0-9]+)?(?:[∶:︰][0-9]+(?:\.[0-9]+)?)+(?![0-9])")

_ORD_RES = {
    "di": re.compile(f"第(?P<a>{RUN})(?P<unit>{UNIT})?"),
    "jie": re.compile(
        f"(?<![第{_NUMERAL_CHARS}0-9])(?P<a>[{_DIG}{_UNIT_CH}]+|[0-9]+)届"
        f"(?P<ctx>[{_SIMPLE_NUM}]+中全会|[{_SIMPLE_NUM}]+中|全会|人大|政协|党代会|中央|市委|县委|区委|省委"
        f"|委员|代表|全国|[{_SIMPLE_NUM}]+次)?"
    ),
    "zhong": re.compile(f"(?<![{_NUMERAL_CHARS}0-9])(?P<a>[{_SIMPLE_NUM}]{{1,3}})中(?P<q>全会)?"),
    "ci": re.compile(
        f"(?<![{_NUMERAL_CHARS}0-9])(?P<a>[{_SIMPLE_NUM}]{{1,3}})次(?=全会|全体会议|全委会|全委|党代会)"
    ),
    "da": re.compile(
        f"(?P<pre>党的|中共)?(?<![{_NUMERAL_CHARS}0-9])(?P<a>[{_SIMPLE_NUM}]{{2,3}})大"
        "(?P<post>以来|精神|报告|召开|代表|提出|强调|作出|部署|胜利|明确|首次|期间|上|后|前)?"
    ),
    "shi": re.compile(f"(?P<a>[{_SIMPLE_NUM}])是(?![否非])"),
    "line_cn": re.compile(f"(?m)^[ \\t]*(?P<a>[{_SIMPLE_NUM}]{{1,3}})[、．.]"),
    "line_ar": re.compile(r"(?m)^[ \t]*(?P<a>[0-9]{1,2})[.、．](?![0-9])"),
    "inline_ar": re.compile(r"(?<=[：:；;。！？])[ \t]*(?P<a>[0-9]{1,2})[、．.](?![0-9])"),
    "paren": re.compile(f"[（(](?P<a>[{_SIMPLE_NUM}]{{1,3}}|[0-9]{{1,2}})[）)]"),
    "circled": re.compile("[\u2460-\u2473]"),
    "hao": re.compile(
        f"(?<![月0-9{_NUMERAL_CHARS}])(?P<a>[0-9]{{1,4}}(?=号(?![召称角码]))|[{_SIMPLE_NUM}]{{1,3}}(?=号(?:文件|令)))号"
    ),
    "qi": re.compile(f"(?<![{_NUMERAL_CHARS}])(?P<a>[一二三四五六七八九])期(?=工程|项目)"),
}
# 三中、四中、五中全会: a bare 三中 counts when the list goes on.
_ZHONG_CHAIN_RE = re.compile(f"、[{_SIMPLE_NUM}]{{1,3}}中")
_CLAUSE_START = set("。；;：:，,！？!?\n \t）)”\"、")

_PCT_SIGN = "[%％]"
_PCT_RES = {
    "range_sign": re.compile(
        f"(?P<lead>{LEAD})?(?P<a>{RUN}){_PCT_SIGN}?{_SEP}(?P<b>{RUN}) ?{_PCT_SIGN}(?P<trail>{TRAIL})?"
    ),
    "range_of": re.compile(
        f"(?P<lead>{LEAD})?(?<![{_NUMERAL_CHARS}0-9])(?P<core>百分之)(?P<a>{RUN})(?:至|到|~|-|—)(?:百分之)?(?P<b>{RUN})(?P<trail>{TRAIL})?"
    ),
    "sign": re.compile(
        f"(?P<lead>{LEAD})?(?P<neg>负|(?<![0-9A-Za-z])-(?=[0-9]))?(?P<a>{RUN}) ?{_PCT_SIGN}(?P<trail>{TRAIL})?"
    ),
    "permille": re.compile(f"(?P<lead>{LEAD})?(?P<a>{RUN}) ?‰(?P<trail>{TRAIL})?"),
    "of": re.compile(
        f"(?P<lead>{LEAD})?(?P<neg>负)?(?<![{_NUMERAL_CHARS}0-9])(?P<core>(?P<den>百|千|万)分之)(?P<a>{RUN})(?P<trail>{TRAIL})?"
    ),
    "range_points": re.compile(f"(?P<lead>{LEAD})?(?P<a>{RUN}){_SEP}(?P<b>{RUN})个百分点(?P<trail>{TRAIL})?"),
    "points": re.compile(f"(?P<lead>{LEAD})?(?P<a>{RUN})个百分点(?P<trail>{TRAIL})?"),
    "tenths": re.compile(
        f"(?P<lead>{LEAD})?(?<![{_NUMERAL_CHARS}0-9.])"
        "(?P<a>十|[一二两三四五六七八九](?:点[一二三四五六七八九])?|10|[1-9](?:\\.[0-9])?)成(?P<half>半)?"
        "(?![为立员果效绩本就长熟交都型片风网功家才了规群])"
        f"(?P<trail>{TRAIL})?"
    ),
    "discount": re.compile(
        "(?:(?<=打)|(?<![\\w]))(?P<a>[0-9](?:\\.[0-9])?|[1-9][1-9]|[一二两三四五六七八九](?:点[一二三四五六七八九]|[一二三四五六七八九])?|对|半)"
        "折(?![扣叠合射磨腾算旧服返中价])"
    ),
}

_FRACTION_RES = {
    "cn": re.compile(f"(?P<lead>{LEAD})?(?:(?P<whole>{RUN})又)?(?P<den>{RUN})分之(?P<num>{RUN})(?P<trail>{TRAIL})?"),
    "slash": re.compile(r"(?<![0-9./])(?P<num>[0-9]{1,4})/(?P<den>[0-9]{1,4})(?![0-9/])"),
}

_RANGE_RE = re.compile(
    f"(?P<lead>{LEAD})?(?P<a>{RUN})(?P<ua>{UNIT})?(?P<sep>{_SEP})(?P<b>{RUN})(?P<approx>[多余])?"
    f"(?P<ub>{UNIT})?(?P<trail>{TRAIL})?"
)
_COLLOQ_RANGE_RE = re.compile(
    f"(?<![{_NUMERAL_CHARS}0-9第])(?P<a>[一二两三四五六七八九])(?P<b>[二两三四五六七八九])(?P<mag>[十百千万亿]*)(?:(?P<points>个百分点)|(?P<unit>{UNIT})|(?P<cheng>成))"
)

_NUMBER_RE = re.compile(
    f"(?P<lead>{LEAD})?(?P<neg>负|-(?=[0-9]))?(?P<run>{RUN})(?P<approx>[多余几])?(?P<unit>{UNIT})?"
    f"(?P<trail>{TRAIL})?"
)


# ---------------------------------------------------------------------------
# Helpers shared by the recognisers
# ---------------------------------------------------------------------------


def _unit_info(unit_text: str | None) -> tuple[str | None, Decimal, str | None]:
    """Normalise a matched counter: (unit, value to add, qualifier it implies).

    ``个半月`` → (个月, 0.5, None); ``个多小时`` → (小时, 0, lower_bound);
    ``个小时`` → 小时.
    """
    if not unit_text:
        return None, Decimal(0), None
    if unit_text[0] == "个" and len(unit_text) > 1:
        mid = unit_text[1] if unit_text[1] in "多余半" else ""
        noun = unit_text[1 + len(mid):]
        unit = "个月" if noun == "月" else ("小时" if noun == "钟头" else noun)
        if mid == "半":
            return unit, Decimal("0.5"), None
        return unit, Decimal(0), "lower_bound" if mid else None
    return unit_text, Decimal(0), None


def _lead_ok(scan: _Scan, lead: str | None, lead_start: int) -> bool:
    if not lead:
        return False
    blocked = _LEAD_BLOCK.get(lead)
    return not (blocked and scan.prev_char(lead_start) in blocked)


def _trail_after_unit(text: str, end: int, unit: str | None) -> tuple[int, str | None, Decimal]:
    """年多, 一年半: 多/余/半 after a time unit."""
    if unit in _TIME_UNITS and end < len(text):
        c = text[end]
        if c in "多余":
            return end + 1, "lower_bound", Decimal(0)
        if c == "半" and unit in ("年", "天", "小时"):
            return end + 1, None, Decimal("0.5")
    return end, None, Decimal(0)


def _combine_qualifier(lead: str | None, inner: str | None, trail: str | None) -> str:
    for q in (trail, lead, inner):
        if q:
            return q
    return "exact"


def _approx_ok(run: str) -> bool:
    """多/余/几 after a numeral needs a round number before it (两千多, 60余)."""
    if run[-1] in _UNIT_CH + _BIG_CH + _FIN_UNIT:
        return True
    return run.isdigit() and len(run) >= 2


def _chinese_only(run: str) -> bool:
    return not any("0" <= c <= "9" for c in run)


def _iso_date(y=None, m=None, d=None) -> str | None:
    try:
        y = int(y) if y else None
        m = int(m) if m else None
        d = int(d) if d else None
    except ValueError:
        return None
    if m is not None and not 1 <= m <= 12 or d is not None and not 1 <= d <= 31:
        return None
    if y is not None:
        return f"{y:04d}" + (f"-{m:02d}" if m else "") + (f"-{d:02d}" if m and d else "")
    if m is not None:
        return f"--{m:02d}" + (f"-{d:02d}" if d else "")
    return f"---{d:02d}" if d else None


def _cn_int(s: str | None) -> int | None:
    if not s:
        return None
    try:
        return int(_parse_integer(s)[0])
    except (ValueError, ArithmeticError):
        return None


# ---------------------------------------------------------------------------
# Recognisers
# ---------------------------------------------------------------------------


def _whole(scan: _Scan, regex: re.Pattern):
    """``regex.finditer(scan.work)`` over the whole text, not only the
    numerals' windows, behind the lookahead for its first characters
    (:func:`_with_first_chars`): the idioms' alternation went from 1.11 to
    0.24 s over the 10,000 benchmark documents, with the same matches."""
    return _with_first_chars(regex).finditer(scan.work)


def _mask(scan: _Scan, regex: re.Pattern) -> None:
    for m in _whole(scan, regex):
        if scan.free(m.start(), m.end()):
            scan.claim(m.start(), m.end())
    scan.refresh()


def _terms_in(scan: _Scan, start: int, end: int, note: str) -> None:
    for n in _TERM_NUMERAL_RE.finditer(scan.work, start, end):
        scan.emit(n.start(), n.end(), "term", note=note)


def _quotes(scan: _Scan) -> None:
    for regex in _QUOTE_RES:
        for m in regex.finditer(scan.text):
            if len(m.group(1)) <= _MAX_TERM_QUOTE:
                _terms_in(scan, m.start(1), m.end(1), "quoted")
        scan.refresh()


def _ratios(scan: _Scan) -> None:
    """1∶1.2, 3:2, 1︰2︰3. Times (08:46) were claimed before. A two-part
    ratio a∶b has value a/b; longer ones keep no single value."""
    for m in scan.finditer(_RATIO_RE):
        parts = [Decimal(p) for p in re.split("[∶:︰]", m.group())]
        value = parts[0] / parts[1] if len(parts) == 2 and parts[1] != 0 else None
        scan.emit(m.start(), m.end(), "ratio", value=value)
    scan.refresh()


def _codes_and_formulas(scan: _Scan) -> None:
    """5+X, 1+3+N (whole formula), O2O, 5G, COVID-19 (whole token), 2.0版."""
    for m in scan.finditer(_AR_FORMULA_RE):
        scan.emit(m.start(), m.end(), "term", note="formula")
    scan.refresh()
    for m in _whole(scan, _VERSION_RE):
        scan.emit(m.start(), m.end(), "term", note="code")
    for m in _whole(scan, _CODE_RE):
        tok = m.group()
        if (
            any(c.isdigit() for c in tok)
            and any(c.isalpha() for c in tok)
            and not _NUM_WITH_ASCII_UNIT.fullmatch(tok)
        ):
            scan.emit(m.start(), m.end(), "term", note="code")
    scan.refresh()


def _slogans(scan: _Scan) -> None:
    """Fixed political formulas (三个代表, 十四五) and unquoted numbered
    formulas (一强三创, 四抓两整治): every numeral in them is a term."""
    for m in scan.finditer(_SLOGAN_RE):
        _terms_in(scan, m.start(), m.end(), "slogan")
    scan.refresh()
    for m in scan.finditer(_CN_FORMULA_RE):
        nums = list(_F_NUM_RE.finditer(m.group()))
        tails = [m.group()[a.end():b.start()] for a, b in zip(nums, nums[1:])]
        first = nums[0].group()
        if any(set(t) & _FORMULA_STOP for t in tails) or _UNIT_RE.match(tails[0]):
            continue
        if first == "一" and (tails[0][0] in _YI_WORD_NEXT or scan.prev_char(m.start()) in _YI_WORD_PREV):
            continue
        for n in nums:
            scan.emit(m.start() + n.start(), m.start() + n.end(), "term", note="formula")
    scan.refresh()


def _dates_and_times(scan: _Scan) -> None:
    for regex in _DATE_RES:
        for m in scan.finditer(regex):
            g = m.groupdict()
            if "y" in g or "m" in g or "d" in g:
                first = _iso_date(g.get("y"), g.get("m"), g.get("d"))
                if first is None:
                    continue
                y2, m2, d2 = g.get("y2"), g.get("m2") or g.get("m3"), g.get("d2") or g.get("d3") or g.get("d4")
                note = first
                if y2 or m2 or d2:
                    second = _iso_date(y2 or g.get("y"), m2 or (g.get("m") if d2 else None), d2)
                    if second is None:
                        continue
                    note = f"{first}/{second}"
            else:
                note = None
            scan.emit(m.start(), m.end(), "date", note=note)
        scan.refresh()
    for m in scan.finditer(_CN_DATE_RE):
        y = _cn_int(m.group("cy"))
        mo = _cn_int(m.group("cm") or m.group("cm2"))
        d = _cn_int(m.group("cd") or m.group("cd2"))
        scan.emit(m.start(), m.end(), "date", note=_iso_date(y, mo, d))
    scan.refresh()
    for regex in _TIME_RES:
        for m in scan.finditer(regex):
            t = m.group()
            hm = re.findall(r"[0-9]+", t)
            note = f"{int(hm[0]):02d}:{int(hm[1]) if len(hm) > 1 else (30 if '半' in t else 0):02d}"
            scan.emit(m.start(), m.end(), "time", note=note)
        scan.refresh()


def _phones(scan: _Scan) -> None:
    for regex, note in _PHONE_RES:
        for m in scan.finditer(regex):
            scan.emit(m.start(), m.end(), "phone", note=note)
        scan.refresh()
    for m in scan.finditer(_PHONE_CONTEXT_RE):
        before = scan.text[max(0, m.start() - 8):m.start()]
        if any(cue in before for cue in _PHONE_CUES) and not _UNIT_RE.match(scan.text, m.end()):
            scan.emit(m.start(), m.end(), "phone", note="landline")
    scan.refresh()


def _ordinals(scan: _Scan) -> None:
    text = scan.text
    for name, regex in _ORD_RES.items():
        for m in scan.finditer(regex):
            start, end = m.start(), m.end()
            unit = None
            note = None
            if name == "circled":
                value = Decimal(ord(m.group()) - 0x2460 + 1)
                note = "list_marker"
            else:
                parsed = _decimal_or_none(m.group("a"))
                if parsed is None:
                    continue
                value = parsed[0]
            if name == "di":
                unit = _unit_info(m.group("unit"))[0]
            elif name == "jie":
                if not (m.group("ctx") or value >= 10):
                    continue  # 两届, 四届: a count of terms, left to the quantity pass
                end = m.start("a") + len(m.group("a")) + 1
                unit = "届"
            elif name == "zhong":
                chained = _ZHONG_CHAIN_RE.match(text, end)
                if not (m.group("q") or chained):
                    continue
                unit = "中全会"
            elif name == "ci":
                unit = "次"
            elif name == "da":
                if not (m.group("pre") or m.group("post")) or value < 10:
                    continue
                start, end = m.start("a"), m.end("a") + 1
                unit = "大"
            elif name == "shi":
                if start > 0 and text[start - 1] not in _CLAUSE_START:
                    continue
            elif name in ("line_cn", "line_ar", "inline_ar", "paren"):
                start = m.start("a") if name != "paren" else m.start()
                note = "list_marker"
            elif name == "hao":
                unit = "号"
            elif name == "qi":
                unit = "期"
            scan.emit(start, end, "ordinal", value=value, unit=unit, note=note)
        scan.refresh()


def _with_quals(scan: _Scan, m: re.Match, core_start: int) -> tuple[int, int, str | None, str | None]:
    """Span start/end including valid qualifiers, and the qualifiers' meanings."""
    start = core_start
    lead_q = None
    lead = m.groupdict().get("lead")
    if lead and _lead_ok(scan, lead, m.start("lead")) and lead != "上":
        start = m.start("lead")
        lead_q = _LEAD_QUAL[lead]
    trail = m.groupdict().get("trail")
    end = m.end()
    trail_q = None
    if trail:
        trail_q = _TRAIL_QUAL[trail]
    return start, end, lead_q, trail_q


def _longest_numeral(run: str) -> tuple[str, Decimal]:
    """The longest prefix of ``run`` that parses, and its value.

    Only the first 40 characters are tried: no real numeral is longer, and
    the bound keeps pathological input linear.
    """
    for k in range(min(len(run), 40), 0, -1):
        parsed = _decimal_or_none(run[:k])
        if parsed is not None:
            return run[:k], parsed[0]
    raise ValueError(f"no numeral in {run!r}")


# 一半, 半数, 过半: half of a whole, 50 %. Not 一半以上's neighbours like 另一半.
_HALF_RE = re.compile(f"(?P<lead>{LEAD})?(?<![另这那其])(?:一半|半数)(?P<trail>{TRAIL})?|过半(?:数)?")


def _halves(scan: _Scan) -> None:
    for m in scan.finditer(_HALF_RE):
        if m.group().startswith("过半"):
            scan.emit(m.start(), m.end(), "percent", value=50, unit="%", qualifier="lower_bound", note="过半")
            continue
        core = m.start() + len(m.group("lead") or "")
        start, end, lead_q, trail_q = _with_quals(scan, m, core)
        scan.emit(start, end, "percent", value=50, unit="%", qualifier=_combine_qualifier(lead_q, None, trail_q),
                  note="一半")
    scan.refresh()


def _percents(scan: _Scan) -> None:
    for name, regex in _PCT_RES.items():
        for m in scan.finditer(regex):
            groups = m.groupdict()
            core_start = m.start("core") if groups.get("core") else m.start("a") if "a" in groups else m.start()
            if groups.get("neg"):
                core_start = m.start("neg")
            start, end, lead_q, trail_q = _with_quals(scan, m, core_start)
            try:
                with localcontext(_CTX):
                    if name in ("range_sign", "range_of", "range_points"):
                        a, b = _parse_plain(m.group("a"))[0], _parse_plain(m.group("b"))[0]
                        if not a < b:
                            continue
                        note = "个百分点" if name == "range_points" else None
                        scan.emit(start, end, "percent", vmin=a, vmax=b, unit="%", qualifier="range", note=note)
                        continue
                    if name == "discount":
                        if m.group("a") == "对" and scan.prev_char(m.start()) != "打":
                            continue
                        v, note = _discount(m.group("a")), "折"
                    elif name == "tenths":
                        v, note = _tenths(m.group("a"), m.group("half")), "成"
                    else:
                        if name == "of":
                            # 百分之七十百分位: keep the longest numeral that parses.
                            a_text, v = _longest_numeral(m.group("a"))
                            if a_text != m.group("a"):
                                end, trail_q = m.start("a") + len(a_text), None
                        else:
                            v = _parse_plain(m.group("a"))[0]
                        note = None
                        if name == "permille":
                            v, note = v / 10, "千分之"
                        elif name == "of" and m.group("den") != "百":
                            v = v * 100 / _BIG_UNIT.get(m.group("den"), 1000)
                            note = m.group("den") + "分之"
                        elif name == "points":
                            note = "个百分点"
                        if m.groupdict().get("neg"):
                            v = -v
            except (ValueError, ArithmeticError):
                continue
            scan.emit(start, end, "percent", value=v, unit="%",
                      qualifier=_combine_qualifier(lead_q, None, trail_q), note=note)
        scan.refresh()


def _fractions(scan: _Scan) -> None:
    for name, regex in _FRACTION_RES.items():
        for m in scan.finditer(regex):
            try:
                with localcontext(_CTX):
                    whole = Decimal(0)
                    if name == "cn":
                        den = _simple_value(m.group("den"), leading_big_ok=True)
                        num = _parse_plain(m.group("num"))[0]
                        if m.group("whole"):
                            whole = _parse_plain(m.group("whole"))[0]
                    else:
                        den, num = Decimal(m.group("den")), Decimal(m.group("num"))
                    if den == 0:
                        continue
                    v = whole + num / den
            except (ValueError, ArithmeticError):
                continue
            core_start = m.start() if name == "slash" else m.start("whole") if m.group("whole") else m.start("den")
            start, end, lead_q, trail_q = _with_quals(scan, m, core_start)
            scan.emit(start, end, "fraction", value=v, qualifier=_combine_qualifier(lead_q, None, trail_q))
        scan.refresh()


def _trailing_multiplier(run: str) -> int:
    mult = 1
    for c in reversed(run):
        if c not in _BIG_CH:
            break
        mult *= _BIG_UNIT[c]
    return mult


def _ranges(scan: _Scan) -> None:
    for m in scan.finditer(_RANGE_RE):
        a_s, b_s, sep = m.group("a"), m.group("b"), m.group("sep")
        ua, ub = m.group("ua"), m.group("ub")
        if ua and ub and _unit_info(ua)[0] != _unit_info(ub)[0]:
            continue
        if ua and not ub:
            continue
        if (_chinese_only(a_s) or _chinese_only(b_s)) and (sep in "-–~～" or not ub):
            continue
        pa, pb = _decimal_or_none(a_s), _decimal_or_none(b_s)
        if pa is None or pb is None:
            continue
        a, b = pa[0], pb[0]
        mult = _trailing_multiplier(b_s)
        if mult > 1 and _trailing_multiplier(a_s) == 1 and not any(c in _UNIT_CH for c in a_s) and a < b / mult:
            a *= mult  # 3至5万元: the multiplier covers both ends
        if not a < b:
            continue
        start, end, _, _ = _with_quals(scan, m, m.start("a"))
        unit = _unit_info(ub)[0]
        scan.emit(start, end, "number", vmin=a, vmax=b, unit=unit, qualifier="range")
    scan.refresh()
    for m in scan.finditer(_COLLOQ_RANGE_RE):
        a, b = _CN_DIGIT[m.group("a")], _CN_DIGIT[m.group("b")]
        if b != a + 1:
            continue
        mag = _decimal_or_none("一" + m.group("mag"))[0] if m.group("mag") else Decimal(1)
        if m.group("cheng"):
            scan.emit(m.start(), m.end(), "percent", vmin=a * 10, vmax=b * 10, unit="%", qualifier="range", note="成")
        elif m.group("points"):
            scan.emit(m.start(), m.end(), "percent", vmin=a * mag, vmax=b * mag, unit="%", qualifier="range",
                      note="个百分点")
        else:
            scan.emit(m.start(), m.end(), "number", vmin=a * mag, vmax=b * mag,
                      unit=_unit_info(m.group("unit"))[0], qualifier="range")
    scan.refresh()


def _bare_single_ok(scan: _Scan, start: int, end_core: int, unit: str | None) -> bool:
    """A lone Chinese digit with a counter: reject idiomatic and article-like uses."""
    text = scan.text
    run = text[start:end_core]
    prev = scan.prev_char(start)
    if run == "一":
        if prev in _YI_WORD_PREV or unit in ("批", "种", "起", "度", "片", "类", "级", "道"):
            return False
        # 一步一个脚印, 一村一品: the second or first half of a 一X一Y pattern.
        if text[start - 2:start - 1] == "一" or "一" in text[end_core + len(unit or ""):end_core + len(unit or "") + 1]:
            return False
        # 一个个, 一次次: reduplication means "one after another".
        if unit and text[end_core + len(unit):end_core + 2 * len(unit)] == unit:
            return False
        # 一年接着一年, 一个主题接着一个主题.
        if "接着" in text[end_core:end_core + 6] or text[max(0, start - 2):start] == "接着":
            return False
    elif prev in "第周初":
        return False
    return True


def _quantities(scan: _Scan) -> None:
    text = scan.text
    for m in scan.finditer(_NUMBER_RE):
        run = m.group("run")
        run_start, run_end = m.span("run")
        approx_ch, unit_text, trail = m.group("approx"), m.group("unit"), m.group("trail")
        end = m.end()
        if approx_ch and not _approx_ok(run):
            approx_ch = unit_text = trail = None
            end = run_end
        # A lone 万/亿 is only valid after a qualifier (近万块, 上万人); see below.
        parsed = (Decimal(_BIG_UNIT[run]), False) if len(run) == 1 and run in _BIG_CH else _decimal_or_none(run)
        if parsed is None:
            continue
        value, inner_approx = parsed
        unit, extra, unit_q = _unit_info(unit_text)

        lead = m.group("lead")
        lead_valid = bool(lead) and _lead_ok(scan, lead, m.start("lead"))
        if lead == "上" and not (len(run) == 1 and run in "百千万亿" and unit):
            lead_valid = False  # 上 means "reaching" only in 上百/上千/上万
        if lead == "近" and unit in ("年", "个月", "月", "季度"):
            lead_valid = False  # 近三年: the last three years, not "nearly" (but 近40小时 is nearly)

        if _chinese_only(run):
            if len(run) >= 2 and all(c in _DIG + _FIN_DIG for c in run):
                continue  # 一二, 两两: digit strings are not quantities in prose
            if run[0] in _BIG_CH and not ((lead_valid or approx_ch) and len(run) == 1 and unit):
                continue  # 万一, 万家: a multiplier needs a number or a qualifier (近万块, 万余人)
            if not unit and not ((lead_valid or trail) and any(c in _UNIT_CH + _BIG_CH for c in run)):
                continue  # bare Chinese numerals need a counter
            if run[0] in _UNIT_CH + _BIG_CH and scan.prev_char(run_start) in "几数":
                continue  # 几十个, 数百名: vague, not a number
            core_end = run_end + (1 if approx_ch else 0)
            if len(run) == 1 and not _bare_single_ok(scan, run_start, core_end, unit_text):
                continue

        time_q = None
        if unit and not trail:
            new_end, time_q, half = _trail_after_unit(text, end, unit)
            if new_end > end and scan.free(end, new_end):
                end = new_end
                extra += half
            else:
                time_q = None

        core_start = run_start
        neg = m.group("neg")
        if neg and (neg == "负" or scan.prev_char(m.start("neg")) not in "0123456789"):
            value = -value
            core_start = m.start("neg")
        value = value + extra
        start = m.start("lead") if lead_valid else core_start
        lead_q = _LEAD_QUAL[lead] if lead_valid else None
        inner_q = "lower_bound" if (inner_approx or approx_ch or unit_q or time_q) else None
        qual = _combine_qualifier(lead_q, inner_q, _TRAIL_QUAL.get(trail) if trail else None)
        kind = "ordinal" if unit == "届" and value >= 10 else "number"
        scan.emit(start, end, kind, value=value, unit=unit, qualifier=qual)
    scan.refresh()


def find_numbers(text: str) -> list[NumberMention]:
    """All numeric expressions in ``text``, sorted by start, never overlapping.

    ``text`` is Simplified Chinese with half-width digits (``script.normalize``).
    Each mention satisfies ``text[m.start:m.end] == m.text``; values are finite.

    >>> [(m.text, m.value, m.kind, m.unit, m.qualifier) for m in find_numbers("累计招引近5000人次")]
    [('近5000人次', 5000.0, 'number', '人次', 'approx')]
    """
    if not isinstance(text, str):
        raise TypeError(f"find_numbers expects str, not {type(text).__name__}")
    scan = _Scan(text)
    with localcontext(_CTX):
        _mask(scan, _MASK_RE)
        _mask(scan, _IDIOM_RE)
        _codes_and_formulas(scan)
        _quotes(scan)
        _slogans(scan)
        _dates_and_times(scan)
        _phones(scan)
        _ratios(scan)
        _ordinals(scan)
        _percents(scan)
        _halves(scan)
        _fractions(scan)
        _ranges(scan)
        _quantities(scan)
    scan.out.sort(key=lambda m: m.start)
    return [_mark_change(text, m) for m in scan.out]


# A percentage right after a verb of change is a rate of change, not a share
# of a whole: 增长150% or 下降3.5% may exceed 100 or be read as negative.
# Marked in ``note`` so a check on shares (0–100) can leave these out.
_CHANGE_BEFORE_RE = re.compile(r"(?:增长|增加|提高|提升|上升|上涨|下降|下跌|减少|降低|回落|增幅|降幅|增速|同比|环比|涨幅|跌幅)(?:了|达|为|约|近|超过?|逾)?$")


def _mark_change(text: str, m: NumberMention) -> NumberMention:
    if m.kind != "percent" or m.note is not None:
        return m
    if _CHANGE_BEFORE_RE.search(text, max(0, m.start - 6), m.start):
        return dataclasses.replace(m, note="change")
    return m
