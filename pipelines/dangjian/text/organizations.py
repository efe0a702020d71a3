"""Organisations named in a cleaned, Simplified document, with offsets.

Input is the normalised text of :mod:`dangjian.document` (one paragraph per
line, Simplified, width-folded).  Output is one :class:`OrgMention` per
mention, ``text[start:end] == mention.text``, sorted by ``start``; mentions
never overlap.

What counts as an organisation (机构) here is a *specific* body: one whose
name carries its place (平凉市委, 灵台县上良镇北张村党支部), a bare
administrative form that a reader resolves from the article's own locality
(区委, 市政协, 村党支部), or a proper name (北京大学, 亨通集团, 甘肃日报).
Generic nouns are not mentions: 党组织, 基层党委, 临时党支部, 国有公司,
专业合作社 name a type, not a body.

How a mention is found, in order:

1. A *head* word fixes the kind: 委 straight after 省/市/区/县/州/旗
   (party committee), 党委/党工委/党组 (party committee), 党支部/党总支/
   党小组 (party branch), 组织部 after a party committee (party organisation
   department), 纪委监委/纪委/监委 (discipline inspection), 人大/人大常委会/
   人大工委 (people's congress), 政协/政协联络委 (CPPCC), 人民政府/政府/
   办事处 (government), 居委会 (residents' committee), 村委会 (villagers'
   committee), and open-class heads with a proper name in front: 大学, 学院,
   党校 (university), 有限公司, 集团 (enterprise), 合作社 (cooperative),
   日报, 电视台, 新闻网 (media), 课题组, 党群服务中心 (other).  A short list
   of outlets without a head word (新华社, 人民网, 新华网 …) and the article's
   stated source (``来源:X``, via :mod:`dangjian.text.metadata`) are media.
2. The *jurisdiction* is the chain of place units just before the head,
   each a name plus an administrative suffix (省, 市, 区, 县, 镇, 乡, 街道,
   村, 社区, 开发区 …): 南通市海门区 of 南通市海门区委.  The chain is read
   right to left; each name is 1–4 characters and must start at a boundary
   (punctuation, line start, a function word such as 在/由/围绕, or the end
   of the next unit to the left), and never contains such a word.  When no
   boundary fixes a single leftmost unit (海门全面建立区委), its two-character
   reading (立区) is only a place if the same unit appears elsewhere in the
   document at a boundary; otherwise the head is read as a bare form.  A
   bare suffix (区委, 村党支部) has no jurisdiction and sets
   ``implicit_jurisdiction``.
3. Generic types are rejected: a unit name such as 动迁村/贫困村, a modifier
   such as 基层/各级/临时 in front of a head, or a formula of types
   (党组织+龙头企业+专业合作社) means a type, not a body.

Known limits: a descriptor between the place and the head (崇信县庙台疫情防控
点临时党支部) is not read; a leftmost place name of three or four characters
glued to a verb and not written elsewhere (推动连云港市委) is read as the bare
市委; offices, centres and bureaus (产业园办公室, 政务服务中心, 行政服务局) are
not extracted; abbreviations without a suffix (清华, 复旦) are not
organisations here.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

KINDS = frozenset({
    "party_committee", "party_org_department", "party_branch", "government",
    "people_congress", "cppcc", "discipline_inspection", "residents_committee",
    "villagers_committee", "university", "enterprise", "cooperative", "media", "other",
})


@dataclass(frozen=True)
class OrgMention:
    """One organisation mention: ``text == document[start:end]``.

    ``jurisdiction`` is the place-name prefix as written (南通市海门区 of
    南通市海门区委), located at ``jurisdiction_start:jurisdiction_end`` inside
    the mention, so a place linker can skip or reuse that span.  A bare
    administrative form (区委, 村党支部) has ``jurisdiction=None`` and
    ``implicit_jurisdiction=True``: the body belongs to the article's own
    locality, which the integrator fills in.  National bodies (党中央) and
    proper names (亨通集团) have neither.
    """

    text: str
    start: int
    end: int
    kind: str
    jurisdiction: str | None = None
    jurisdiction_start: int | None = None
    jurisdiction_end: int | None = None
    implicit_jurisdiction: bool = False


_HAN = "\u3400-\u4dbf\u4e00-\u9fff"
_HAN_RE = re.compile(f"[{_HAN}]")

#: Administrative suffixes, longest first so 开发区 wins over 区.
ADMIN_SUFFIXES = (
    "特别行政区", "经济开发区", "经济技术开发区", "自治区", "自治州", "自治县", "自治旗",
    "开发区", "高新区", "街道", "社区", "地区", "新区", "园区",
    "省", "市", "区", "县", "州", "盟", "旗", "镇", "乡", "村",
)
#: Suffixes that may stand alone in a bare administrative form (区委, 村党支部).
_BARE_OK = frozenset({"省", "市", "区", "县", "州", "旗", "镇", "乡", "街道", "村", "社区", "开发区", "高新区"})
#: Suffixes after which a one-character name is possible (沛县, 赵县).
_ONE_CHAR_NAME_OK = frozenset({"县"})

#: Characters after which a name may start: particles, prepositions,
#: pronouns and quantity words.  Reaching one ends the leftward walk.
_BOUNDARY_CHARS = frozenset(
    "的了在和与及或并对向从把将被为是由于让给经据按以之其各全本该此每这那我你他她它们"
    "也都还又就才而且但如若受到至时任原现兼等个名位家所项次"
)
#: Characters that never sit inside a place or proper name.  Narrower than
#: the boundary set: 和平区, 成都市, 朱家坡村 and 于都县 are names.
_NOT_IN_NAME = frozenset("的了在对向从把将被是让给据按也还又就才而且但若着过们个")
#: Words that commonly sit right before an organisation (verbs acting on it,
#: time words); a name starts after them, never inside them.
_STOP_WORDS = frozenset({
    "围绕", "按照", "根据", "落实", "贯彻", "邀请", "会同", "联合", "召开", "印发", "出台", "成立",
    "建立", "组建", "时任", "担任", "兼任", "通过", "得到", "配合", "支持", "协助", "部署",
    "要求", "指导", "率先", "推动", "推进", "实施", "开展", "组织", "带领", "依托", "面向",
    "来自", "前往", "获得", "荣获", "入选", "评为", "考察", "调研", "视察", "走访", "深入",
    "来源", "稿源", "委托", "牵头", "联系", "结对", "挂钩", "参加", "出席", "主持", "审议",
    "坚持", "加强", "全面", "产生", "列席", "当前", "对照", "参照", "依照", "选举", "服务",
    "带动", "提交", "报请", "报送", "经过", "作为", "成为", "设立", "设置", "进驻", "接受",
    "对接", "对标", "对口", "全力", "全体", "各级", "各地", "在于", "为了", "以及", "由于", "本着",
    "赴", "代表", "向着", "进入", "走进", "加入", "来到", "中共", "中国共产党", "现任", "曾任", "历任", "出任", "升任", "调任", "同时", "目前", "近年", "今年", "去年", "明年", "以来", "期间",
})
_STOP_WORD_ENDS = frozenset(w[-1] for w in _STOP_WORDS)
#: Two-character words ending in an administrative suffix that name a kind
#: of area, not a place: 农村党支部 is generic, not the 村党支部 of 农.
_AREA_WORDS = frozenset({
    "城市", "都市", "农村", "乡村", "城乡", "小区", "园区", "景区", "辖区", "城区", "山区", "片区",
    "郊区", "市区", "街区", "灾区", "牧区", "库区", "矿区", "老区", "选区", "学区", "营区", "厂区",
    "全省", "全市", "全区", "全县", "全镇", "全乡", "全村", "各省", "各市", "各区", "各县", "各镇",
    "各乡", "各村", "本市", "本区", "本县", "本村", "该村", "该市", "该区", "该县", "省市", "市县",
    "县区", "区县", "县市", "乡镇", "镇村", "村村", "社区", "街镇", "区镇",
})
#: A name never ends in one of these: 照省|市委 is 对照 + 省市委, not a place
#: 照省市 (州 is left out: 苏州, 杭州).
_NO_NAME_FINAL = frozenset("省市区县委")
#: Bare suffixes that may follow a verb directly (全面建立区委, 围绕省委);
#: the others need a boundary, as 动迁村党支部 or 村转社区党委 name a type.
_BARE_AFTER_PROSE = frozenset({"省", "市", "区", "县"})

#: Unit names that name a kind of place rather than a place (动迁村, 村转社区).
_GENERIC_UNIT_NAMES = frozenset({
    "动迁", "贫困", "后进", "明星", "示范", "薄弱", "行政", "自然", "村转", "城市", "农村", "城中",
    "中心", "重点", "试点", "先进", "基层", "所在", "相关", "有关", "所有", "涉农", "美丽", "特色",
    "老旧", "安置", "搬迁", "新型农村", "经济薄弱", "软弱涣散", "全", "各", "本", "该", "每", "空壳",
    "边远", "偏远", "民族", "革命老", "脱贫", "非贫困", "贫困县", "欠发达", "发达", "传统", "新型",
    "典型", "标准化", "星级", "文明", "和谐", "平安", "智慧", "绿色", "生态", "省级", "市级", "县级",
    "区级", "镇级", "乡级", "村级", "国家级", "工业", "产业", "商贸", "街", "片", "网格", "辖",
})

#: Modifiers that make a head generic (基层党委, 临时党支部, 各级政府).
_GENERIC_MODIFIERS = (
    "基层", "各级", "上级", "下级", "临时", "联合", "行业", "功能型", "流动", "机关", "非公企业",
    "非公", "两新", "企业", "国企", "民企", "学校", "医院", "事业单位", "楼院", "楼宇", "网格",
    "专业", "国有", "民营", "外资", "龙头", "劳务", "供销", "物业", "物业服务", "物业管理",
    "扶贫", "相关", "有关", "所属", "下属", "驻区", "驻村", "共建", "全", "各", "本", "该",
)


@dataclass(frozen=True)
class _Head:
    word: str
    kind: str
    #: "admin": must follow a place unit or bare suffix; "bare_village": like
    #: admin, or alone (村委会 is always the article's own village's); "open":
    #: needs a proper name in front; "dept": a department that follows a
    #: party committee (平凉市委组织部, 中共中央党校).
    needs: str


_HEADS = (
    # Party committees and their bodies.
    _Head("党工委", "party_committee", "admin"),
    _Head("党委", "party_committee", "admin"),
    _Head("党组", "party_committee", "admin"),  # not 党组织: see _HEAD_RE
    _Head("党总支", "party_branch", "admin"),
    _Head("党支部", "party_branch", "admin"),
    _Head("党小组", "party_branch", "admin"),
    _Head("纪委监委", "discipline_inspection", "admin"),
    _Head("纪工委", "discipline_inspection", "admin"),
    _Head("纪委", "discipline_inspection", "admin"),
    _Head("监委", "discipline_inspection", "admin"),
    _Head("人大常委会", "people_congress", "admin"),
    _Head("人大工委", "people_congress", "admin"),
    _Head("人大", "people_congress", "admin"),
    _Head("政协联络委", "cppcc", "admin"),
    _Head("政协", "cppcc", "admin"),
    _Head("人民政府", "government", "admin"),
    _Head("政府", "government", "admin"),
    _Head("办事处", "government", "admin"),
    _Head("管委会", "government", "admin"),
    _Head("居民委员会", "residents_committee", "admin"),
    _Head("居委会", "residents_committee", "admin"),
    _Head("村民委员会", "villagers_committee", "bare_village"),
    _Head("村委会", "villagers_committee", "bare_village"),
    # Departments of a party committee (平凉市委组织部).
    _Head("组织部", "party_org_department", "dept"),
    _Head("宣传部", "other", "dept"),
    _Head("统战部", "other", "dept"),
    _Head("政法委", "other", "dept"),
    _Head("编办", "other", "dept"),
    _Head("党校", "university", "dept"),
    # Open-class heads: a proper name in front.
    _Head("股份有限公司", "enterprise", "open"),
    _Head("有限责任公司", "enterprise", "open"),
    _Head("有限公司", "enterprise", "open"),
    _Head("集团", "enterprise", "open"),
    _Head("专业合作社", "cooperative", "open"),
    _Head("合作社", "cooperative", "open"),
    _Head("大学", "university", "open"),
    _Head("干部学院", "university", "open"),
    _Head("行政学院", "university", "open"),
    _Head("学院", "university", "open"),
    _Head("日报", "media", "open"),
    _Head("晚报", "media", "open"),
    _Head("报社", "media", "open"),
    _Head("广播电视台", "media", "open"),
    _Head("电视台", "media", "open"),
    _Head("新闻网", "media", "open"),
    _Head("课题组", "other", "open"),
    _Head("督导组", "other", "open"),
    _Head("巡视组", "other", "open"),
    _Head("巡察组", "other", "open"),
    _Head("党群服务中心", "other", "admin"),
)

#: Outlets and national bodies known by a name without a head word.
_NAMED = {
    "新华社": "media", "人民网": "media", "新华网": "media", "中国网": "media", "央视网": "media",
    "光明网": "media", "求是网": "media", "中央电视台": "media", "央视": "media", "中国共产党新闻网": "media",
    "共产党员网": "media",
    "党中央": "party_committee", "中共中央": "party_committee", "中央纪委国家监委": "discipline_inspection",
    "中央纪委": "discipline_inspection", "国家监委": "discipline_inspection", "全国人大常委会": "people_congress",
    "全国人大": "people_congress", "全国政协": "cppcc", "国务院": "government", "中央组织部": "party_org_department",
    "中组部": "party_org_department",
}
#: Longest first, so 央视网 is one outlet rather than 央视 plus 网.
_NAMED_RE = re.compile("|".join(re.escape(n) for n in sorted(_NAMED, key=len, reverse=True)))

# 党组织 is the generic word for any party organisation; 大学生 are students.
_HEAD_RE = re.compile(
    "(?:" + "|".join(re.escape(h) for h in sorted({h.word for h in _HEADS}, key=len, reverse=True))
    + ")(?<!党组(?=织))(?<!大学(?=生))"
)
_HEADS_BY_WORD: dict[str, list[_Head]] = {}
for _h in _HEADS:
    _HEADS_BY_WORD.setdefault(_h.word, []).append(_h)

# 委 directly after an administrative suffix is a party committee (平凉市委),
# unless it starts a word of its own (委员, 委托, 委派).
_PARTY_COMMITTEE_RE = re.compile(r"(?<=[省市区县州旗])委(?![员托派屈婉])")
# 中共X委员会 / 政协X委员会: the full forms.
_FULL_FORM_RE = re.compile(r"(中国共产党|中共|中国人民政治协商会议|政协)(?=[^\s,，、。:：;；]{2,20}?委员会)")

_BOOK_MEDIA_RE = re.compile(rf"《([{_HAN}A-Za-z0-9·]{{2,20}}?(?:日报|晚报|报|周刊|杂志|时报|画报))》")
_BOOK_WEEKLY_RE = re.compile(rf"《([{_HAN}]{{2,12}})》(周刊|杂志|半月刊|月刊)")

#: Longest proper-name part in front of an open-class head.
MAX_PROPER_NAME = 10


def _is_han(ch: str) -> bool:
    return bool(_HAN_RE.match(ch))


def hard_boundary(text: str, pos: int, floor: int = 0) -> bool:
    """True if a name may start at ``pos``: nothing Han, or a function word, before it."""
    if pos <= floor:
        return True
    prev = text[pos - 1]
    if not _is_han(prev):
        return True
    if prev in _BOUNDARY_CHARS:
        # …unless it opens a word with the next character (对接, 全力).
        return text[pos - 1:pos + 1] not in _STOP_WORDS
    if prev in _STOP_WORD_ENDS:
        return any(text.startswith(w, pos - len(w)) for w in _STOP_WORDS)
    return False


def _longest_suffix_ending_at(text: str, pos: int) -> str | None:
    for s in ADMIN_SUFFIXES:
        if pos - len(s) >= 0 and text.startswith(s, pos - len(s)):
            return s
    return None


def _unit_name_ok(name: str) -> bool:
    if len(name) == 1 and name in _BOUNDARY_CHARS:
        return False  # 原县委 is the former county committee, not the county 原县
    return (
        all(_is_han(c) and c not in _NOT_IN_NAME for c in name)
        and name[-1] not in _NO_NAME_FINAL
        and name not in _GENERIC_UNIT_NAMES
        and not any(w in name for w in _STOP_WORDS)
    )


@dataclass(frozen=True)
class _Chain:
    """Place units ending at ``end``; ``hard`` if the first one starts at a boundary."""

    start: int
    end: int
    hard: bool
    units: int


def _parse_chain(text: str, pos: int, floor: int, depth: int = 0) -> _Chain | None:
    """The chain of place units ending at ``pos`` (南通市海门区 before 委), or None.

    Each unit is a name of 1–4 characters plus the longest administrative
    suffix ending there.  Two-character names are tried first; a chain whose
    first name starts at a boundary wins over one that does not (``hard``).
    """
    suffix = _longest_suffix_ending_at(text, pos)
    if suffix is None or depth > 6:
        return None
    name_end = pos - len(suffix)
    lengths = (2, 3, 4, 1) if suffix in _ONE_CHAR_NAME_OK else (2, 3, 4)
    soft: _Chain | None = None
    for n in lengths:
        start = name_end - n
        if start < floor or not _unit_name_ok(text[start:name_end]):
            continue
        # A four-character name (乌鲁木齐) must follow punctuation or a line
        # start: after a word it is usually a verb plus a name (融入南通).
        at_boundary = (
            start == floor or not _is_han(text[start - 1])
            if n == 4 else hard_boundary(text, start, floor)
        )
        if at_boundary:
            return _Chain(start, pos, True, 1)
        deeper = _parse_chain(text, start, floor, depth + 1)
        if deeper is not None and deeper.hard:
            return _Chain(deeper.start, pos, True, deeper.units + 1)
        if soft is None and n == 2:
            soft = _Chain(start, pos, False, 1)
    return soft


def _confirmed(text: str, unit: str, memo: dict[str, bool]) -> bool:
    """True if ``unit`` (e.g. 南通市) also appears somewhere at a boundary.

    ``memo`` holds the answers for one document, so a document that repeats
    an unconfirmed unit many times is still scanned once per unit.
    """
    if unit not in memo:
        memo[unit] = _scan_confirmed(text, unit)
    return memo[unit]


def _scan_confirmed(text: str, unit: str) -> bool:
    pos = text.find(unit)
    while pos != -1:
        if hard_boundary(text, pos, _line_start(text, pos)):
            return True
        pos = text.find(unit, pos + 1)
    return False


def _bare_suffix(text: str, pos: int, floor: int) -> int | None:
    """Start of a bare administrative suffix (区 of 区委) ending at ``pos``."""
    suffix = _longest_suffix_ending_at(text, pos)
    if suffix is None or suffix not in _BARE_OK:
        return None
    start = pos - len(suffix)
    if start < floor:
        return None
    if hard_boundary(text, start, floor):
        return start
    if suffix not in _BARE_AFTER_PROSE or text[start - 1:pos] in _AREA_WORDS:
        return None
    return start


def generic_modifier_before(text: str, pos: int) -> bool:
    """True if a modifier that makes a body generic (基层, 临时, 各级) ends at ``pos``."""
    return any(text.startswith(m, pos - len(m)) for m in _GENERIC_MODIFIERS)


def _line_start(text: str, pos: int) -> int:
    return text.rfind("\n", 0, pos) + 1


def _jurisdiction(text: str, head_start: int, floor: int, memo: dict[str, bool]) -> tuple[int, int, bool] | None:
    """``(start, end, implicit)`` of the place in front of a head at ``head_start``.

    A single unit that starts at no boundary (立区 of 全面建立区委) is only a
    place if the same unit appears elsewhere at a boundary; otherwise the
    head is read as a bare form (区委).
    """
    chain = _parse_chain(text, head_start, floor)
    if chain is not None and (
        chain.hard or chain.units > 1 or _confirmed(text, text[chain.start:chain.end], memo)
    ):
        return chain.start, chain.end, False
    bare = _bare_suffix(text, head_start, floor)
    if bare is not None:
        return bare, head_start, True
    return None


def _admin_mention(
    text: str, head_start: int, head_end: int, kind: str, floor: int, memo: dict[str, bool]
) -> OrgMention | None:
    place = _jurisdiction(text, head_start, floor, memo)
    if place is None:
        return None
    j_start, j_end, implicit = place
    start = j_start
    # 中共平凉市委: the party's name belongs to the mention, not to the place.
    for lead in ("中国共产党", "中共"):
        if start - len(lead) >= floor and text.startswith(lead, start - len(lead)):
            start -= len(lead)
            break
    if implicit:
        return OrgMention(text[start:head_end], start, head_end, kind, None, None, None, True)
    return OrgMention(
        text[start:head_end], start, head_end, kind, text[j_start:j_end], j_start, j_end, False
    )


def _proper_name_start(text: str, head_start: int, floor: int) -> int | None:
    """Start of the proper name in front of an open-class head, or None if unclear.

    The name is two to ``MAX_PROPER_NAME`` characters of Han script that
    begins at a boundary; a name that runs into prose (no boundary in reach)
    is not guessed.
    """
    lo = max(floor, head_start - MAX_PROPER_NAME)
    for pos in range(head_start - 1, lo - 1, -1):
        ch = text[pos]
        if not (_is_han(ch) or ch == "·") or ch in _NOT_IN_NAME:
            return None
        if head_start - pos >= 2 and hard_boundary(text, pos, floor):
            return pos
    return None


def _media_from_book_titles(text: str) -> list[OrgMention]:
    found = []
    for m in _BOOK_WEEKLY_RE.finditer(text):
        found.append(OrgMention(m.group(), m.start(), m.end(), "media"))
    for m in _BOOK_MEDIA_RE.finditer(text):
        found.append(OrgMention(m.group(1), m.start(1), m.end(1), "media"))
    return found


def _candidates(text: str) -> list[OrgMention]:
    found: list[OrgMention] = []
    memo: dict[str, bool] = {}
    for m in _PARTY_COMMITTEE_RE.finditer(text):
        floor = _line_start(text, m.start())
        # The suffix before 委 belongs to the jurisdiction: 平凉市|委.
        mention = _admin_mention(text, m.start(), m.end(), "party_committee", floor, memo)
        if mention is not None:
            found.append(mention)
    for m in _HEAD_RE.finditer(text):
        floor = _line_start(text, m.start())
        for head in _HEADS_BY_WORD[m.group()]:
            mention = _head_mention(text, m.start(), m.end(), head, floor, memo)
            if mention is not None:
                found.append(mention)
                break
    for m in _NAMED_RE.finditer(text):
        found.append(OrgMention(m.group(), m.start(), m.end(), _NAMED[m.group()]))
    found.extend(_media_from_book_titles(text))
    return found


def _in_formula(text: str, start: int, end: int) -> bool:
    """True inside a formula of types such as 党组织+龙头企业+合作社+贫困户."""
    return text[start - 1:start] == "+" or text[end:end + 1] == "+"


def _head_mention(
    text: str, start: int, end: int, head: _Head, floor: int, memo: dict[str, bool]
) -> OrgMention | None:
    if head.needs == "admin":
        if generic_modifier_before(text, start):
            return None
        mention = _admin_mention(text, start, end, head.kind, floor, memo)
        if mention is None or _in_formula(text, mention.start, end):
            return None
        return mention
    if head.needs == "bare_village":
        # 村委会 names its village or stands for the article's own village.
        mention = _admin_mention(text, start, end, head.kind, floor, memo)
        if mention is not None:
            return mention
        if hard_boundary(text, start, floor):
            return OrgMention(text[start:end], start, end, head.kind, None, None, None, True)
        return None
    if head.needs == "dept":
        # Only after a party committee: X市委组织部, 中共中央党校.
        parent = _PARTY_COMMITTEE_RE.match(text, start - 1) if start else None
        if parent is not None and parent.end() == start:
            mention = _admin_mention(text, start - 1, start, "party_committee", floor, memo)
            if mention is not None:
                return OrgMention(
                    text[mention.start:end], mention.start, end, head.kind, mention.jurisdiction,
                    mention.jurisdiction_start, mention.jurisdiction_end, mention.implicit_jurisdiction,
                )
        for lead in ("中共中央", "党中央"):
            if text.startswith(lead, start - len(lead)):
                return OrgMention(text[start - len(lead):end], start - len(lead), end, head.kind)
        return None
    # Open class: a proper name of two or more characters in front, not a
    # type in a formula such as 党组织+龙头企业+合作社.
    if generic_modifier_before(text, start):
        return None
    name_start = _proper_name_start(text, start, floor)
    if name_start is None or _in_formula(text, name_start, end):
        return None
    place = _parse_chain(text, start, floor)
    if place is not None and place.hard and place.start == name_start:
        return OrgMention(text[name_start:end], name_start, end, head.kind, text[name_start:start], name_start, start)
    return OrgMention(text[name_start:end], name_start, end, head.kind)


def _publisher_mention(text: str) -> OrgMention | None:
    from dangjian.text.metadata import extract_metadata

    publisher = extract_metadata(text).publisher
    if publisher is None or publisher.start is None:
        return None
    return OrgMention(publisher.value, publisher.start, publisher.end, "media")


def _resolve_overlaps(mentions: list[OrgMention]) -> list[OrgMention]:
    """Keep the longest mention where spans overlap (平凉市委组织部 over 平凉市委)."""
    chosen: list[OrgMention] = []
    for m in sorted(mentions, key=lambda m: (-(m.end - m.start), m.start)):
        if all(m.end <= c.start or m.start >= c.end for c in chosen):
            chosen.append(m)
    return sorted(chosen, key=lambda m: m.start)


def place_before(text: str, pos: int, memo: dict[str, bool] | None = None) -> tuple[int, int, bool] | None:
    """``(start, end, implicit)`` of a place written right before ``pos``, or None.

    The same reading as an organisation's jurisdiction: 灵台县西屯镇店子村 of
    灵台县西屯镇店子村带头人, or a bare 社区 of 社区书记 (``implicit``).  Pass
    the same ``memo`` dict for every call on one document to keep it linear.
    """
    return _jurisdiction(text, pos, _line_start(text, pos), {} if memo is None else memo)


def find_organizations(text: str) -> list[OrgMention]:
    """Organisation mentions in ``text``, sorted by start; see the module docstring."""
    mentions = _candidates(text)
    publisher = _publisher_mention(text)
    named = _resolve_overlaps(mentions)
    if publisher is not None and all(publisher.end <= m.start or publisher.start >= m.end for m in named):
        named = sorted([*named, publisher], key=lambda m: m.start)
    for m in named:
        assert text[m.start:m.end] == m.text, m
        assert m.kind in KINDS, m
        if m.jurisdiction is not None:
            assert text[m.jurisdiction_start:m.jurisdiction_end] == m.jurisdiction, m
            assert m.start <= m.jurisdiction_start < m.jurisdiction_end <= m.end, m
    return named
