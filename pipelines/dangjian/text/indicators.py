"""Indicators (指标): every quantified claim in a report, typed and read in context.

An indicator is a quantity that ``numbers.find_numbers`` found (a count, an
amount of money, a share, a ratio, a duration, an area …) read together with
its sentence: what was measured (``subject``), in which year (``year``), and
whether it belongs to a fixed expression (三大主导产业, 四支队伍) rather than
being a claim of its own.

Pure functions: normalised (Simplified, half-width) text and the numbers
found in it in, ``Indicator`` records out. Everything else — dates, ordinals,
phone numbers, numerals inside slogans and formulas — is already typed as a
non-quantity by the number recogniser and never becomes an indicator.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from dangjian.text.numbers import NumberMention, find_numbers

KINDS = ("count", "money", "percent", "ratio", "duration", "area", "other")

_MONEY_UNITS = {"元", "美元", "欧元", "港元", "日元", "英镑", "块钱", "块", "人民币", "美圆", "新台币", "台币",
                "瑞士法郎", "法郎", "卢布", "韩元", "奈拉"}
_AREA_UNITS = {"亩", "平方米", "平方公里", "平方千米", "公顷", "m²", "km²", "km2"}
_DURATION_UNITS = {"年", "个月", "月", "天", "周", "星期", "小时", "分钟", "季度", "工作日", "秒"}
_OTHER_UNITS = {
    "吨", "斤", "公斤", "千克", "克", "公里", "千米", "米", "厘米", "毫米", "立方米", "毫升", "升",
    "千瓦", "千瓦时", "兆瓦", "瓦", "度", "kW", "kWh", "MW", "GW", "GB", "MB", "TB", "km", "kg", "m", "m³",
    "cm", "mm", "倍", "岁", "周岁",
}
# Units that say "how many times / how old / which anniversary" rather than a
# stock or flow a report claims: 100周年 is a date, not a quantity.
_NOT_CLAIM_UNITS = {"周年"}

# A duration is a claim (为期三天, 提前一年, 姚军福十多年来探索…) unless it dates
# something (80年前), names a plan (三年行动计划) or means "recent" (近三年).
_TIME_FRAME_AFTER = re.compile(r"(?:前(?![列进行])|之前|以前|行动计划|计划|规划)")
_TIME_FRAME_BEFORE = re.compile(r"(?:近|最近|今后|未来|过去)$")
# 建党百年, 建国70年: an anniversary, not a duration someone claims.
_ANNIVERSARY_BEFORE = re.compile(r"(?:建党|建国|成立|诞辰|建校|建院|建区|建市|改革开放)$")
# 四套班子 is the name of the leadership bodies, not a count of them.
_NAME_AFTER = re.compile(r"班子")
_TIME_COUNTER = re.compile(r"^个[多余半]?(?=月|小时|星期|季度|工作日|钟头)")
# 一个, 一条, 一支 are articles ("a"), not counts: 探索出一条…路子, 打造一支…队伍.
_ARTICLE = re.compile(r"^一(?![十百千万亿0-9])")
# A hedge separated from its figure by a particle: 突破了1万美元, 约为1:120.
_DETACHED_HEDGE = re.compile(r"(?P<h>突破|超过|超|逾|不少于|不低于|至少|近|约|接近|将近|大约|不到|不足)(?:了|为|到|达)?$")
_HEDGE_QUALIFIER = {"突破": "lower_bound", "超过": "lower_bound", "超": "lower_bound", "逾": "lower_bound",
                    "不少于": "lower_bound", "不低于": "lower_bound", "至少": "lower_bound", "近": "approx",
                    "约": "approx", "接近": "approx", "将近": "approx", "大约": "approx", "不到": "upper_bound",
                    "不足": "upper_bound"}
# A population figure: 常住人口68.5万.
_POPULATION_BEFORE = re.compile(r"(?:人口|人数)(?:达到|达|为|约|近|超过|超|逾|突破)?$")
# A figure followed by a noun that holds its counter: 70万人民群众, 160万总人口.
_PEOPLE_AFTER = re.compile(r"(?:人民|人口|总人口|常住人口|户籍人口|群众|居民|农民|党员|职工|干部|人)")

# Quotation marks and brackets do not end a clause: “两个覆盖率”稳定保持100%.
_CLAUSE_BREAK = re.compile(r"[，,。；;！!？?：:\n]")
# Words that link a subject to its figure: 销售额突破12亿元, 覆盖率达100%.
_LINK_VERB = re.compile(
    r"(?:达到了|达到|达|为|是|有|共有|共计|共|总计|合计|累计达|累计|计|超过|超|突破|逾|近|约|接近|将近|不少于|"
    r"不足|不到|低于|高于|增长|增加|提高到|提高|提升至|提升到|提升|上升到|上升|下降到|下降|降低到|降低|减少|"
    r"增至|降至|升至|占比|占|比例为|同比增长|同比|比上年|较上年|分别|均|已|已经|都|总|全部|新增|再|又|仅|即|"
    r"稳定保持|保持|稳定在|维持在|维持|保持在)+$"
)
# Scope and time words that open a clause but are not what is measured.
_LEAD_SCOPE = re.compile(
    r"^(?:其中|目前|现在|截至|截止|截至目前|至今|今年以来|今年|去年|前年|当年|同年|全年|上半年|下半年|"
    r"[0-9]{4}年(?:底|末|初|以来|上半年|下半年|全年)?|[0-9]{1,2}月(?:份)?|"
    r"全省|全市|全区|全县|全镇|全乡|全村|全党|全国|本市|本区|本县|该市|该区|该县|该镇|该村|"
    r"通过|经过|依托|围绕|共|已|累计|先后|陆续|相继|目前已|已经|全|各|每|这|那|此|还|又|并|和|及|与|在|从|对|为|让|使|以|将)+"
)
# Verbs that open a clause before its object: 招引高层次人才56名 → 高层次人才.
_LEAD_VERB = re.compile(
    r"^(?:招引|引进|培训|轮训|组建|新建|改扩建|建成|建立|打造|创建|培育|培树|实施|签约|签订|发放|慰问|走访|帮扶|帮助|"
    r"带动|吸纳|选派|抽调|选聘|选拔|发展|整顿提升|整顿|清理撤换|清理|搜寻整改|整改|排查|化解|调解|办理|受理|解决|"
    r"开展|举办|组织|推动|推进|落实|设立|增设|成立|领办|认领|评选|表彰|命名|投入|争取|兜底管理|长效管理|管理|拆除|清除)"
)
# Nouns that name a measure (…率, …额): a figure right after them is their value.
_MEASURE_NOUN = re.compile(r"(?:率|额|数|量|值|比|比例|比重|占比|收入|资金|经费|产值|规模|面积|总量|人次|GDP|指数|均价|价格|产量|总额|成本|效益|增速|增幅)$")
# Verbs and particles that end a noun phrase after the figure (33个行政村签订…).
_PHRASE_STOP = re.compile(
    r"(?:签订|参加|参与|开展|实现|完成|获得|获评|入选|被|全部|均|都|已|共|建立|成立|组建|设立|纳入|达到|达|覆盖|受益|"
    r"脱贫|增收|参训|结对|开通|建成|投入|落实|进行|享受|提供|走访|带动|帮助|推动|推进|通过|成为|形成|组成|"
    r"荣获|获|被评为|进驻|扎根|分在|实行|实施|担任|参加|加入|完成|签约|"
    r"全覆盖|全部|全面|和|与|及|等|的|在|为|是|有|向|从|对|将|把|由|也|还|并|中|以|；|、)"
)
_HAN = re.compile(r"[\u3400-\u9fff\U00020000-\U0002ffff]")
# A year after 较/比 is a baseline (较2018年增加), not the year the figure is for.
_YEAR_RE = re.compile(r"(?<![较比])(?P<y>(?:19|20)[0-9]{2})年(?!相比|比)|(?<![较比])(?P<rel>今年|去年|前年|当年)")
# Verbs of counting before a small figure: 共有三个, 新增两家 — a claim, not a fixed expression.
_COUNTING_BEFORE = re.compile(r"(?:共|有|达|累计|合计|总计|计|新增|增加|减少|建成|新建|组建|成立|培训|发放|慰问|帮扶|招引|吸纳|引进)$")
_CN_SMALL = set("一二两三四五六七八九十")


@dataclass(frozen=True)
class Indicator:
    """One quantified claim.

    ``start``/``end`` index the normalised text and cover the figure with its
    hedge and counter (``超90%``, ``两千余名``). ``value`` has multipliers
    applied; ``value_min``/``value_max`` bound a range. ``subject`` is what
    is measured, as written in the sentence, and ``subject_start``/
    ``subject_end`` locate it (None when the sentence does not say).
    """

    start: int
    end: int
    text: str
    value: float | None
    value_min: float | None
    value_max: float | None
    unit: str | None
    kind: str
    qualifier: str
    note: str | None
    subject: str | None
    subject_start: int | None
    subject_end: int | None
    year: int | None
    fixed_expression: bool
    number: NumberMention


def indicator_kind(m: NumberMention) -> str:
    if m.kind == "percent":
        return "percent"
    if m.kind in ("ratio", "fraction"):
        return "ratio"
    unit = m.unit or ""
    if unit in _MONEY_UNITS:
        return "money"
    if unit in _AREA_UNITS:
        return "area"
    if unit in _DURATION_UNITS or unit.startswith("个") and unit[1:] in _DURATION_UNITS:
        return "duration"
    if unit in _OTHER_UNITS or not unit:
        return "other"
    return "count"


def _clause(text: str, start: int, end: int) -> tuple[int, int]:
    """The clause around ``text[start:end]``: between the nearest breaks."""
    lo = start
    while lo > 0 and not _CLAUSE_BREAK.match(text, lo - 1):
        lo -= 1
    hi = end
    while hi < len(text) and not _CLAUSE_BREAK.match(text, hi):
        hi += 1
    return lo, hi


def _is_time_frame(text: str, m: NumberMention, clause_start: int) -> bool:
    if indicator_kind(m) != "duration":
        return False
    after = text[m.end:m.end + 4]
    before = text[max(clause_start, m.start - 4):m.start]
    recent = _TIME_FRAME_BEFORE.search(before) and m.unit in ("年", "个月", "月", "季度")
    return bool(_TIME_FRAME_AFTER.match(after) or recent or _ANNIVERSARY_BEFORE.search(before))


def _reading(text: str, m: NumberMention) -> tuple[float | None, float | None, float | None, str | None, str, str]:
    """(value, value_min, value_max, unit, kind, qualifier) of a quantity as an indicator."""
    value, vmin, vmax, unit, qualifier = m.value, m.value_min, m.value_max, m.unit, m.qualifier
    kind = indicator_kind(m)
    if m.kind == "fraction":  # 三分之一以上: a share, in percent like 成 and %
        value, vmin, vmax = (None if v is None else v * 100 for v in (value, vmin, vmax))
        unit, kind = "%", "percent"
    elif m.kind == "percent":
        unit = "%"
    elif unit and kind == "duration":
        unit = _TIME_COUNTER.sub("", unit)  # 两个半月 → 月, like 两年 → 年
    elif unit is None and m.kind == "number" and (
            _PEOPLE_AFTER.match(text, m.end) or _POPULATION_BEFORE.search(text, max(0, m.start - 6), m.start)):
        unit, kind = "人", "count"
    if qualifier == "exact":
        hedge = _DETACHED_HEDGE.search(text, max(0, m.start - 4), m.start)
        if hedge:
            qualifier = _HEDGE_QUALIFIER[hedge.group("h")]
    return value, vmin, vmax, unit, kind, qualifier


def _strip_scope(phrase: str, offset: int) -> tuple[str, int]:
    m = _LEAD_SCOPE.match(phrase)
    if m:
        return phrase[m.end():], offset + m.end()
    return phrase, offset


def _subject_before(text: str, clause_start: int, start: int) -> tuple[str, int] | None:
    phrase = text[clause_start:start]
    cut = _LINK_VERB.search(phrase)
    if cut:
        phrase = phrase[:cut.start()]
    # In a list (党员突击队326个、党员先锋队1120个) the subject starts after
    # the previous item's figure or separator.
    last = max(phrase.rfind(c) for c in "、0123456789")
    if last >= 0:
        phrase, clause_start = phrase[last + 1:], clause_start + last + 1
    phrase = phrase.removesuffix("的")
    phrase, at = _strip_scope(phrase, clause_start)
    lead = _LEAD_VERB.match(phrase)
    if lead and len(phrase) - lead.end() >= 2:
        phrase, at = phrase[lead.end():], at + lead.end()
    # A long run is more than a noun phrase: keep its tail.
    if len(phrase) > 12:
        at += len(phrase) - 12
        phrase = phrase[-12:]
    if len(phrase) < 2 or not _HAN.search(phrase):
        return None
    return phrase, at


def _subject_after(text: str, end: int, clause_end: int) -> tuple[str, int] | None:
    phrase = text[end:clause_end]
    if phrase.startswith("的"):  # 84.3%的村庄: a share of the villages
        phrase, end = phrase[1:], end + 1
    stop = _PHRASE_STOP.search(phrase)
    if stop:
        phrase = phrase[:stop.start()]
    phrase = phrase[:14]
    if len(phrase) < 1 or not _HAN.match(phrase.lstrip("“‘「『(（")):
        return None
    return phrase, end


def subject_of(text: str, m: NumberMention, kind: str) -> tuple[str, int] | None:
    """What ``m`` measures, from the words around it in its clause.

    Three readings, tried in order: a measure noun right before the figure
    (网办化率达90%, 销售额突破12亿元); for counts, the noun the counter
    introduces (4825户建档立卡户, 33个行政村签订…); else the noun phrase
    before the figure with its linking verb and scope words removed.
    """
    clause_start, clause_end = _clause(text, m.start, m.end)
    before = _subject_before(text, clause_start, m.start)
    if before and _MEASURE_NOUN.search(before[0]):
        return before
    if kind in ("count", "area", "other") or (kind == "percent" and not before):
        after = _subject_after(text, m.end, clause_end)
        # 清华、复旦等60多所高校: the list before is examples, the noun after is the subject.
        if after and (len(after[0]) >= 2 or not before or before[0].endswith("等")):
            return after
    return before


def _year_of(text: str, sentence_start: int, m: NumberMention, published_year: int | None) -> int | None:
    """The last year named in the sentence before the figure; 今年/去年/前年
    resolved against the publication year."""
    found = None
    for y in _YEAR_RE.finditer(text, sentence_start, m.start):
        if y.group("y"):
            found = int(y.group("y"))
        elif published_year is not None:
            found = published_year - {"今年": 0, "当年": 0, "去年": 1, "前年": 2}[y.group("rel")]
    return found


def _fixed_expression(text: str, m: NumberMention, kind: str, clause_start: int) -> bool:
    """A small Chinese count inside a set phrase: 四支队伍, 两个平台."""
    if kind != "count" or m.qualifier != "exact" or m.value is None or m.value > 10:
        return False
    digits = m.text[: len(m.text) - len(m.unit or "")]
    if not digits or any(c not in _CN_SMALL for c in digits):
        return False
    if _COUNTING_BEFORE.search(text[max(clause_start, m.start - 3):m.start]):
        return False
    return m.end < len(text) and bool(_HAN.match(text[m.end:m.end + 2].lstrip("“‘「『")))


def _sentence_start(text: str, i: int) -> int:
    j = max(text.rfind(c, 0, i) for c in "。！？!?\n")
    return j + 1


def find_indicators(text: str, numbers: list[NumberMention] | None = None,
                    published: str | None = None) -> list[Indicator]:
    """The quantified claims in ``text`` (normalised), in text order.

    ``numbers`` are the mentions ``find_numbers(text)`` returns (computed when
    not given); ``published`` is the document's ISO publication date, which
    resolves 今年/去年/前年.
    """
    if numbers is None:
        numbers = find_numbers(text)
    published_year = int(published[:4]) if published and published[:4].isdigit() else None
    out = []
    for m in numbers:
        if m.kind not in ("number", "percent", "fraction", "ratio"):
            continue
        if m.unit in _NOT_CLAIM_UNITS:
            continue
        if m.value is None and m.value_min is None:
            continue  # a three-part ratio (1∶2∶3) has no single value
        value, vmin, vmax, unit, kind, qualifier = _reading(text, m)
        if kind == "count" and value == 1 and qualifier == "exact" and _ARTICLE.match(m.text):
            continue
        if _NAME_AFTER.match(text, m.end):
            continue
        clause_start, _ = _clause(text, m.start, m.end)
        if _is_time_frame(text, m, clause_start):
            continue
        subject = subject_of(text, m, kind)
        out.append(Indicator(
            start=m.start, end=m.end, text=m.text,
            value=value, value_min=vmin, value_max=vmax, unit=unit,
            kind=kind, qualifier=qualifier, note="分之" if m.kind == "fraction" else m.note,
            subject=subject[0] if subject else None,
            subject_start=subject[1] if subject else None,
            subject_end=subject[1] + len(subject[0]) if subject else None,
            year=_year_of(text, _sentence_start(text, m.start), m, published_year),
            fixed_expression=_fixed_expression(text, m, kind, clause_start),
            number=m,
        ))
    return out
