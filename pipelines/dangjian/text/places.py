"""Place mentions in the normalised text, linked to administrative division codes.

``find_places(text, published)`` returns the places a document names, each
linked to the gazetteer (``dangjian.reference.gazetteer``) where the document
gives enough to be sure. ``analyse_places`` returns the same mentions plus the
jurisdictions of organisations (平凉市委 → 平凉市) and the document's main
locality. Offsets index the normalised (Simplified) text.

How a name becomes a mention:

1. **Spans.** Province, prefecture and county names, current and former, are
   looked up at every position, full (海门区) or short (海门). Towns and
   villages are found from their level word back (…镇, …乡, …街道, …村,
   …社区): the characters before it must form a name the gazetteer has.
   Overlaps go to full names first, then towns and villages, then short
   names; within a kind the better supported by the rest of the document,
   then the longer (吴江|城区 in a 吴江 report, not 吴|江城区 of 阳江).
2. **Not places.** Short names that are ordinary words (合作, 振兴, 江山) and
   single-character names are never read without their level word; names
   with a one-character stem (和县, 余村) need the document to name their
   parent; category words are not villages (明星村, 后进村, 行政村, 薄弱村),
   nor is anything counted by a number before it (300余村, 49个行政村).
3. **Organisations.** A place followed by an organisation word (平凉市委,
   海门区委, 安吉县委组织部, 店子村党支部) is that organisation's
   jurisdiction, returned in ``org_jurisdictions``, not as a mention. A bare
   level word before one (区委, 市政府) is the document's own jurisdiction
   when its main locality has that level.
4. **Links.** A full name of one division links at once (exact_full). A name
   several divisions share (通州区, 鼓楼区) links to the one the document
   places elsewhere (full_name_context). A short name links only when the
   document names the same division, something inside it, or the division
   above it (short_name_context), or when short names of two divisions
   under one parent stand together (苏州、无锡, short_name_sibling); a
   province's short name links alone (short_name_province). A town or
   village links (stat_code) only when its county or town is named in the
   document (anchored_child); a town name unique in China links with low
   confidence (unique_town). Otherwise a town stays with null codes and low
   confidence (unlinked), and so does a village right after a town; any
   other village-shaped word goes, as not clearly a place.
5. **Dates.** Every code is the one in force at the publication date (today
   when unknown); the other code of a division whose code changed is kept as
   ``alt_code`` (海门区 320614 in 2021, alt 海门市 320684).
"""
from __future__ import annotations

import dataclasses

import atexit
import bisect
import gc
import json
import operator
import re
from collections import OrderedDict, defaultdict
from dataclasses import dataclass
from functools import cache

from dangjian.reference.gazetteer import UPPER_LEVELS, Division, Gazetteer
from dangjian.reference.gazetteer import forget as gazetteer_forget

# --- data classes ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlaceMention:
    """One place named in the text: ``text[start:end]`` (normalised text offsets).

    ``name``, ``full_name``, ``lat`` and ``lon`` are those of the division
    linked (as in ``reference.admin_divisions``), all None when unlinked.
    ``adcode`` is the 6-digit code in force at the publication date: the
    division's own for a province, prefecture or county; for a town or
    village, that of the county (or prefecture) it lies in. ``stat_code`` is
    the 9- or 12-digit NBS code of a town or village, set only when the
    document anchors it. ``alt_code`` is the other code of the ``adcode``
    division when that changed (its predecessor, or today's code when the
    date picked an old one). ``method`` says how the link was made (see the
    module docstring); ``confidence`` is 0–1, 0.3 or less when unlinked.
    """

    start: int
    end: int
    text: str
    name: str | None
    full_name: str | None
    level: str  # province, prefecture, county, town, village
    adcode: str | None
    stat_code: str | None
    alt_code: str | None
    lat: float | None
    lon: float | None
    method: str
    confidence: float


@dataclass(frozen=True, slots=True)
class OrgJurisdiction:
    """The place in an organisation's name: text[start:end] is the place,
    text[end:end+len(org_word)] the word that makes it an organisation."""

    start: int
    end: int
    text: str
    org_word: str
    name: str | None
    full_name: str | None
    level: str | None
    adcode: str | None
    stat_code: str | None
    alt_code: str | None
    method: str
    confidence: float


@dataclass(frozen=True, slots=True)
class PlaceAnalysis:
    mentions: list[PlaceMention]
    org_jurisdictions: list[OrgJurisdiction]
    main_locality: str | None

    def to_json(self) -> str:
        """The analysis as compact JSON, each mention a list of its fields in
        order: ingest works it out for the main locality and keeps it, so that
        facts need not analyse the same text again (:meth:`from_json`)."""
        return json.dumps([self.main_locality, [_MENTION_FIELDS(m) for m in self.mentions],
                           [_ORG_FIELDS(o) for o in self.org_jurisdictions]],
                          ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, data: str) -> PlaceAnalysis:
        main, mentions, orgs = json.loads(data)
        return cls([PlaceMention(*m) for m in mentions], [OrgJurisdiction(*o) for o in orgs], main)


_MENTION_FIELDS = operator.attrgetter(*(f.name for f in dataclasses.fields(PlaceMention)))
_ORG_FIELDS = operator.attrgetter(*(f.name for f in dataclasses.fields(OrgJurisdiction)))


# --- vocabulary -------------------------------------------------------------------

TOWN_SUFFIXES = ("街道", "镇", "乡", "苏木")
VILLAGE_SUFFIXES = ("村", "社区", "居委会", "嘎查")
_SUFFIX_RE = re.compile("街道|居委会|社区|苏木|嘎查|镇|乡|村")
MAX_STEM = 8

# Words that turn the place before them into an organisation. Longest first.
ORG_WORDS = tuple(sorted(set("""
委 委员会 党委 党工委 党组 党支部 党总支 党小组 人民政府 政府 人大 人大常委会 政协 纪委 监委 纪委监委
组织部 宣传部 统战部 政法委 人民法院 法院 人民检察院 检察院 公安局 公安分局 财政局 教育局 民政局
人社局 农业农村局 发改委 卫健委 住建局 自然资源局 生态环境局 市场监管局 市场监督管理局 文旅局
统计局 税务局 水利局 审计局 应急管理局 司法局 信访局 商务局 科技局 机关工委 编办 老干部局 档案馆
日报 晚报 电视台 广播电视台 融媒体中心 党校 团委 妇联 总工会 工商联 村委会 居委会 管委会 村委
人民医院 医院 大学 学院 中学 小学 供电公司 银行 检察 法庭 派出所 武装部
""".split()), key=len, reverse=True))

# Stems that name a kind or rank of village, not a village: 明星村 as an
# honour, 后进村, 行政村, 经济薄弱村.
CATEGORY_STEMS = tuple(sorted(set("""
明星 先进 后进 示范 样板 标杆 文明 薄弱 经济薄弱 贫困 脱贫 行政 自然 空壳 重点 特色 美丽 试点
软弱涣散 涣散 软弱 集体 中心 富裕 小康 生态 民主 法治 平安 和谐 红旗 五星 星级 村级 整 全 本 该
各 每 新农 传统 古 城中 城郊 偏远 边远 山 建制 合并 撤并 易地搬迁 搬迁 旅游 专业 淘宝 电商 网红
产业 康养 宜居 宜业 乡村 农 治理 数字 智慧 未来 共富 共同富裕 千万 百强 十强 亿元 千亿 百亿
小城 特色小 小 强 名 乡 城 集 中心城 卫星 新市 历史文化名 千年古 工业强 经济强 农业 商贸 文化
""".split()), key=len, reverse=True))

# Characters that count or measure what follows: 300余村, 49个行政村, 两镇.
_COUNTERS = set("0123456789零〇一二三四五六七八九十百千万两几余多个座家所")

# A bare level word before an organisation word: the document's own 区委.
_IMPLIED_RE = re.compile("(街道|省|市|县|区|州|镇|乡)(" + "|".join(w for w in ORG_WORDS if w not in ("村委", "村委会", "居委会")) + ")")

GENERIC_FULL = frozenset({"城区", "郊区", "矿区", "市区", "新区", "东区", "西区", "南区", "北区", "中区"})


def _is_han(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff"


# --- the matcher (built once per process from the gazetteer) -------------------------


class _Matcher:
    def __init__(self, g: Gazetteer):
        self.g = g
        self.full: dict[str, list[str]] = {}  # surface → upper-level codes by full name
        self.weak: dict[str, list[str]] = {}  # needs context: short names, one-character stems
        for name, codes in g.by_name.items():
            upper = [c for c in codes if g.by_code[c].level in UPPER_LEVELS]
            if not upper or len(name) < 2 or name in GENERIC_FULL:
                continue
            if len(name) == 2 and name[-1] in "省市县区旗州盟":
                self.weak.setdefault(name, []).extend(upper)  # 和县, 沙市: a one-character stem
            else:
                self.full[name] = upper
        for short, codes in g.by_short.items():
            if len(short) < 2 or short in GENERIC_FULL:
                continue
            keep = [c for c in codes if not g.by_code[c].short_name_is_common_word]
            if keep:
                self.weak.setdefault(short, []).extend(c for c in keep if c not in self.weak.get(short, ()))
        # Every name has at least two characters, so a position is worth
        # trying only where its first two characters begin some name. On the
        # seeds this tries 1 slice in 39 that the first character alone let
        # through, and finds the same spans 2.7 times as fast.
        lengths: dict[str, set[int]] = defaultdict(set)
        for surface in (*self.full, *self.weak):
            lengths[surface[:2]].add(len(surface))
        self.lengths = {pair: sorted(ls, reverse=True) for pair, ls in lengths.items()}
        self.first_chars = re.compile("[" + "".join(sorted({pair[0] for pair in self.lengths})) + "]")
        self.towns: dict[str, list[str]] = {}
        for name, codes in g.by_name.items():
            towns = [c for c in codes if g.by_code[c].level == "town"]
            if towns and name.endswith(TOWN_SUFFIXES):
                self.towns[name] = towns
        self._villages: OrderedDict[str, dict[str, str]] = OrderedDict()

    def villages_in(self, code: str) -> dict[str, str]:
        """Village name → code under a town or county, names that occur twice
        there left out (they anchor nothing). Kept for the process, for the
        most recently used 2,048 codes: a corpus about one county asks for the
        same county's villages in every document."""
        cache = self._villages
        out = cache.get(code)
        if out is not None:
            cache.move_to_end(code)
            return out
        out = {}
        dup: set[str] = set()
        for vcode, name in self.g.village_names_in(code):
            if name in out:
                dup.add(name)
            out[name] = vcode
        for name in dup:
            del out[name]
        cache[code] = out
        if len(cache) > 2048:
            cache.popitem(last=False)
        return out


@cache
def _matcher() -> _Matcher:
    matcher = _Matcher(Gazetteer.load())
    # The gazetteer's objects live as long as the process (or until
    # forget_gazetteer): the collector need not scan them again.
    gc.collect()
    gc.freeze()
    atexit.register(gc.unfreeze)  # the last collection at exit still sees them
    return matcher


def forget_gazetteer() -> None:
    """Drop the place matcher and the gazetteer behind it (see ``gazetteer.forget``)."""
    _matcher.cache_clear()
    gazetteer_forget()


# --- spans ---------------------------------------------------------------------------

_RANK = {"full": 0, "town": 1, "village": 1, "weak": 2}


@dataclass(slots=True)
class _Span:
    start: int
    end: int
    kind: str  # full, weak, town, village
    codes: list[str]
    # filled while linking
    code: str | None = None
    method: str = ""
    confidence: float = 0.0
    org_word: str | None = None
    idx: int = 0  # position among the chosen spans


def _upper_spans(text: str, m: _Matcher) -> list[_Span]:
    out = []
    lengths, full, weak = m.lengths, m.full, m.weak
    for hit in m.first_chars.finditer(text):
        i = hit.start()
        for n in lengths.get(text[i:i + 2], ()):
            surface = text[i:i + n]
            if surface in full and not (surface[-1] == "市" and text.startswith("场", i + n)):
                # X市场 is X's 市场 (market), not the city X市.
                out.append(_Span(i, i + n, "full", full[surface]))
            if surface in weak:
                out.append(_Span(i, i + n, "weak", weak[surface]))
    return out


def _counted(text: str, start: int) -> bool:
    return start > 0 and text[start - 1] in _COUNTERS


def _lower_spans(text: str, m: _Matcher) -> list[_Span]:
    out = []
    g = m.g
    for hit in _SUFFIX_RE.finditer(text):
        suffix, s, e = hit.group(), hit.start(), hit.end()
        village = suffix in VILLAGE_SUFFIXES
        for stem_len in range(1, MAX_STEM + 1):
            b = s - stem_len
            if b < 0 or not _is_han(text[b]):
                break
            surface = text[b:e]
            if village:
                if g.villages.exists(surface):
                    out.append(_Span(b, e, "village", []))
            elif surface in m.towns:
                out.append(_Span(b, e, "town", m.towns[surface]))
    return out


def _first_context(spans: list[_Span], g: Gazetteer, prefer) -> dict[int, float]:
    """Before choosing between overlapping spans: how strongly the rest of
    the document supports each span (id → 0…1), from the full names that
    name one division. 吴江 in 吴江城区 is supported by 吴江区 elsewhere; the
    江城区 (Guangdong) that overlaps it is not. A span never supports another
    it overlaps (灵台|县 does not make 灵台 more likely than 灵台县)."""
    where: dict[str, list[tuple[int, int]]] = defaultdict(list)  # lineage → full spans naming it
    for sp in spans:
        if sp.kind == "full":
            keys = {g.lineage(c)[-1] for c in prefer(sp.codes)}
            if len(keys) == 1:
                where[keys.pop()].append((sp.start, sp.end))
    inside: set[str] = set()  # divisions something named lies in
    for key in where:
        inside.update(g.lineage(a.code)[-1] for a in g.ancestors(key))
    out = {}
    for sp in spans:
        if sp.kind not in ("full", "weak"):
            continue
        best = 0.0
        for key in {g.lineage(c)[-1] for c in prefer(sp.codes)}:
            if any(e <= sp.start or s >= sp.end for s, e in where.get(key, ())):
                best = 1.0
                break
            if key in inside:
                best = max(best, 0.8)
            for a in g.ancestors(key):
                if g.lineage(a.code)[-1] in where:
                    best = max(best, 0.8 if a.level == "prefecture" else 0.6)
        out[id(sp)] = best
    return out


def _select(spans: list[_Span], n: int, g: Gazetteer, prefer) -> list[_Span]:
    """Non-overlapping spans: full names, then towns and villages, then short
    names; within a kind the better supported, then the longer. A full name
    nothing else in the document supports gives way to a supported short
    name it overlaps (吴江|城区, not 吴|江城区)."""
    ctx = _first_context(spans, g, prefer)
    supported_weak = bytearray(n)
    for sp in spans:
        if sp.kind == "weak" and ctx[id(sp)] > 0:
            supported_weak[sp.start:sp.end] = b"\x01" * (sp.end - sp.start)

    def rank(sp: _Span) -> int:
        if sp.kind == "full" and ctx[id(sp)] == 0 and any(supported_weak[sp.start:sp.end]):
            return 3
        return _RANK[sp.kind]

    taken = bytearray(n)
    chosen = []
    for sp in sorted(spans, key=lambda s: (rank(s), -ctx.get(id(s), 0.0), s.start - s.end, s.start)):
        if any(taken[sp.start:sp.end]):
            continue
        taken[sp.start:sp.end] = b"\x01" * (sp.end - sp.start)
        chosen.append(sp)
    chosen.sort(key=lambda s: s.start)
    for i, sp in enumerate(chosen):
        sp.idx = i
    return chosen


# An institution named after the place: 北京师范大学, 苏州工业园区管委会 is not
# (管委会 is in ORG_WORDS), 海门农商银行.
_INSTITUTION_RE = re.compile(r"[\u4e00-\u9fff]{0,4}?(?:大学|学院|学校|中学|小学|医院|银行|集团|公司|报社)")
# Words that start like an organisation word but are not one: 党组织 (party
# organisations in general), 委员 (a member).
_NOT_ORG = ("党组织", "委员")


_ORG_RE = re.compile("|".join(map(re.escape, ORG_WORDS)))


def _org_word(text: str, end: int) -> str | None:
    if text.startswith(_NOT_ORG, end):
        return None
    m = _ORG_RE.match(text, end) or _INSTITUTION_RE.match(text, end)
    return m.group() if m else None


def _stem(surface: str, kind: str) -> str:
    for suffix in (VILLAGE_SUFFIXES if kind == "village" else TOWN_SUFFIXES):
        if surface.endswith(suffix):
            return surface[: -len(suffix)]
    return surface


def _is_category(stem: str) -> bool:
    return any(stem.endswith(c) for c in CATEGORY_STEMS)


# --- linking ---------------------------------------------------------------------------


class _Linker:
    def __init__(self, text: str, published: str | None, m: _Matcher):
        self.text, self.published, self.m, self.g = text, published, m, m.g
        self.named: dict[str, float] = {}  # code → strength: named in the document (any code of its lineage)
        self.around: dict[str, float] = {}  # code → strength: above or below something named
        self._anchors_cache: list[tuple[str, str]] | None = None
        self._siblings: dict[str, set[str]] = {}

    def lineage_key(self, code: str) -> str:
        return self.g.lineage(code)[-1]

    def note(self, code: str, strength: float) -> None:
        """Record that the document names ``code`` (and so the divisions above it)."""
        g = self.g
        key = self.lineage_key(code)
        self.named[key] = max(self.named.get(key, 0.0), strength)
        for a in g.ancestors(code):
            k = self.lineage_key(a.code)
            self.around[k] = max(self.around.get(k, 0.0), strength * (0.9 if a.level == "prefecture" else 0.7))

    def context_of(self, code: str) -> float:
        """How strongly the document places ``code``: itself named (1), its
        prefecture or something inside it named (0.8), only its province (0.6)."""
        g = self.g
        key = self.lineage_key(code)
        if key in self.named:
            return 1.0
        if key in self.around:  # something inside it is named
            return 0.8
        best = 0.0
        for a in g.ancestors(code):
            k = self.lineage_key(a.code)
            if k in self.named:
                best = max(best, 0.8 if a.level == "prefecture" else 0.6)
        return best

    def prefer_current(self, codes: list[str]) -> list[str]:
        """Codes in force at the publication date (today when unknown), else all."""
        year = _year_of(self.published)
        g = self.g
        if year is None:
            valid = [c for c in codes if g.by_code[c].is_current]
        else:
            valid = [c for c in codes if g.by_code[c].valid_in(year)]
        return valid or codes

    def lineages(self, codes: list[str]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for c in codes:
            out.setdefault(self.lineage_key(c), []).append(c)
        return out

    def link(self, spans: list[_Span]) -> None:
        g = self.g
        # 1. Full names of one division.
        pending = []
        for sp in spans:
            if sp.kind != "full":
                continue
            groups = self.lineages(self.prefer_current(sp.codes))
            if len(groups) == 1:
                sp.code, sp.method, sp.confidence = next(iter(groups.values()))[0], "exact_full", 0.95
                self.note(sp.code, 1.0)
            else:
                pending.append(sp)
        # 2. Full names several divisions share: the one the document places.
        for sp in pending:
            self._by_context(sp, "full_name_context", 0.85)
        for sp in pending:
            if sp.code is None:
                sp.method, sp.confidence = "ambiguous", 0.3
        # 3. Towns, anchored by a county or prefecture the document names.
        for sp in spans:
            if sp.kind == "town":
                self._link_town(sp, spans)
        for sp in spans:
            if sp.kind == "town" and sp.code and sp.method != "unique_town":
                self.note(sp.code, 0.8)
        for sp in spans:
            if sp.kind == "town" and sp.method == "unique_town":
                self.note(sp.code, 0.5)
        # 4. Short names and one-character stems: only with context.
        self._siblings = self._weak_siblings(spans)
        for sp in spans:
            if sp.kind == "weak":
                self._link_weak(sp)
        # A short name placed by context is context in turn for the towns
        # that nothing anchored yet (海门 … 余东镇).
        for sp in spans:
            if sp.kind == "weak" and sp.code:
                self.note(sp.code, 0.8)
        for sp in spans:
            if sp.kind == "town" and sp.method in ("unlinked", "unique_town"):
                self._link_town(sp, spans)
        # 5. Villages, anchored by their town or county.
        for sp in spans:
            if sp.kind == "village":
                self._link_village(sp, spans)

    def _by_context(self, sp: _Span, method: str, confidence: float) -> None:
        groups = self.lineages(self.prefer_current(sp.codes))
        scored = sorted(((max(self.context_of(c) for c in cs), key) for key, cs in groups.items()), reverse=True)
        if scored and scored[0][0] > 0 and (len(scored) == 1 or scored[0][0] > scored[1][0]):
            sp.code = groups[scored[0][1]][0]
            sp.method, sp.confidence = method, round(confidence * (0.85 + 0.15 * scored[0][0]), 2)

    def _one_char_stem(self, sp: _Span) -> bool:
        """和县, 沙市: a two-character full name, read only with context."""
        return sp.end - sp.start == 2 and self.text[sp.start:sp.end] in self.g.by_name

    def _weak_siblings(self, spans: list[_Span]) -> dict[str, set[str]]:
        """Parent → the divisions under it that short names in the document
        could each mean only one of (苏州、无锡、常州 → 江苏省: three)."""
        out: dict[str, set[str]] = defaultdict(set)
        for sp in spans:
            if sp.kind == "weak" and not self._one_char_stem(sp):
                groups = self.lineages(self.prefer_current(sp.codes))
                if len(groups) == 1:
                    key = next(iter(groups))
                    parent = self.g.by_code[key].parent_code
                    if parent:
                        out[self.lineage_key(parent)].add(key)
        return out

    def _link_weak(self, sp: _Span) -> None:
        g = self.g
        groups = self.lineages(self.prefer_current(sp.codes))
        scored = sorted(((max(self.context_of(c) for c in cs), key) for key, cs in groups.items()), reverse=True)
        best, key = scored[0]
        if best == 0:
            if len(groups) != 1:
                return
            d = g.by_code[key]
            if d.level == "province":
                # A province's short name (江苏, 甘肃) is a place by itself.
                sp.code, sp.method, sp.confidence = groups[key][0], "short_name_province", 0.6
            elif d.parent_code and len(self._siblings.get(self.lineage_key(d.parent_code), ())) >= 2 and not self._one_char_stem(sp):
                # Named alongside another division under the same parent:
                # 苏州、无锡、常州 place each other.
                sp.code, sp.method, sp.confidence = groups[key][0], "short_name_sibling", 0.55
            return
        if len(scored) > 1 and scored[1][0] == best:
            return  # two divisions fit equally: not clearly one place
        stem_one = self._one_char_stem(sp)
        sp.code = groups[key][0]
        sp.method = "short_name_context"
        sp.confidence = round((0.9 if best >= 1 else 0.8 if best >= 0.8 else 0.65) - (0.1 if stem_one else 0), 2)

    def _anchors(self, sp: _Span, spans: list[_Span]) -> _Span | None:
        """The linked span right before ``sp`` (灵台县|西屯镇|店子村), if any."""
        i = sp.idx
        if i > 0 and spans[i - 1].end == sp.start and spans[i - 1].code:
            return spans[i - 1]
        return None

    def _link_town(self, sp: _Span, spans: list[_Span]) -> None:
        g = self.g
        surface = self.text[sp.start:sp.end]
        stem = _stem(surface, "town")
        prev = self._anchors(sp, spans)
        scored = []
        for code in sp.codes:
            county = g.by_code[code].parent_code
            chained = prev is not None and self.lineage_key(prev.code) in {self.lineage_key(a.code) for a in g.ancestors(code)}
            ctx = self.context_of(county) if county else 0.0
            # A prefecture named is weaker support for a town than its county.
            if ctx and self.lineage_key(county) not in self.named:
                ctx = min(ctx, 0.7)
            scored.append((2.0 if chained else ctx, code))
        scored.sort(reverse=True)
        best, code = scored[0]
        if best > 0 and (len(scored) == 1 or scored[1][0] < best):
            sp.code, sp.method = code, "anchored_child"
            sp.confidence = 0.95 if best == 2.0 else 0.85 if best >= 1 else 0.7
        elif _is_category(stem) or _counted(self.text, sp.start):
            sp.method = "drop"
        elif len(sp.codes) == 1 and len(stem) >= 2:
            sp.code, sp.method, sp.confidence = sp.codes[0], "unique_town", 0.5
        elif len(stem) >= 2:
            sp.method, sp.confidence = "unlinked", 0.3
        else:
            sp.method = "drop"

    def _link_village(self, sp: _Span, spans: list[_Span]) -> None:
        g = self.g
        surface = self.text[sp.start:sp.end]
        stem = _stem(surface, "village")
        prev = self._anchors(sp, spans)
        counted = _counted(self.text, sp.start)
        if _is_category(stem) and not (prev and prev.kind in ("town", "full")) or counted:
            sp.method = "drop"
            return
        # Where to look: the town or county right before it, else every
        # town and county the document names.
        found: dict[str, float] = {}
        if prev is not None and g.by_code[prev.code].level in ("town", "county"):
            hit = self.m.villages_in(prev.code).get(surface)
            if hit:
                found[hit] = 2.0
        if not found:
            for code, level in self._anchor_codes(spans):
                hit = self.m.villages_in(code).get(surface)
                if hit:
                    found[hit] = max(found.get(hit, 0.0), 1.0 if level == "town" else 0.8)
        if len(found) == 1 and (len(stem) >= 2 or max(found.values()) == 2.0):
            code, how = next(iter(found.items()))
            sp.code, sp.method = code, "anchored_child"
            sp.confidence = 0.95 if how == 2.0 else 0.85 if how == 1.0 else 0.75
        elif len(stem) >= 2 and prev is None and self._after_town(sp, spans):
            sp.method, sp.confidence = "unlinked", 0.2  # XX镇YY村: a place, though not one we can link
        else:
            sp.method = "drop"  # a village-shaped word with nothing to say it is a place

    def _anchor_codes(self, spans: list[_Span]) -> list[tuple[str, str]]:
        """Towns and counties the document names and links (not by name alone)."""
        if self._anchors_cache is None:
            seen: dict[str, str] = {}
            for sp in spans:
                if sp.code and sp.kind in ("town", "full", "weak") and sp.method != "unique_town":
                    d = self.g.by_code.get(sp.code)
                    if d is not None and d.level in ("town", "county"):
                        seen.setdefault(d.code, d.level)
            self._anchors_cache = list(seen.items())
        return self._anchors_cache

    def _after_town(self, sp: _Span, spans: list[_Span]) -> bool:
        i = sp.idx
        return i > 0 and spans[i - 1].end == sp.start and spans[i - 1].kind in ("town", "full")


def _year_of(published: str | None) -> int | None:
    if not published:
        return None
    m = re.match(r"\s*(\d{4})", published)
    return int(m.group(1)) if m else None


# --- building the results -------------------------------------------------------------


def _resolved(g: Gazetteer, code: str, published: str | None) -> tuple[Division, str | None, str | None, str | None]:
    """(division, adcode, stat_code, alt_code) for a linked code at the date."""
    d = g.get(code)
    assert d is not None, code
    if d.level in UPPER_LEVELS:
        choice = g.code_at(code, published)
        return g.by_code[choice.code], choice.code, None, choice.alt_code
    county = next((a for a in g.ancestors(code) if a.level in ("county", "prefecture")), None)
    if county is None:
        return d, None, code, None
    choice = g.code_at(county.code, published)
    return d, choice.code, code, choice.alt_code


def analyse_places(text: str, published: str | None = None) -> PlaceAnalysis:
    """Mentions, organisation jurisdictions and the main locality of one document."""
    m = _matcher()
    g = m.g
    linker = _Linker(text, published, m)
    spans = _select(_upper_spans(text, m) + _lower_spans(text, m), len(text), g, linker.prefer_current)
    for sp in spans:
        sp.org_word = _org_word(text, sp.end)
    linker.link(spans)

    mentions: list[PlaceMention] = []
    orgs: list[OrgJurisdiction] = []
    for sp in spans:
        if sp.method in ("", "drop") or (sp.kind == "weak" and sp.code is None):
            continue
        surface = text[sp.start:sp.end]
        if sp.code:
            d, adcode, stat_code, alt = _resolved(g, sp.code, published)
            name, full, level, lat, lon = d.name, g.full_name(d.code), d.level, d.lat, d.lon
        else:
            adcode = stat_code = alt = name = full = lat = lon = None
            level = sp.kind if sp.kind in ("town", "village") else g.by_code[sp.codes[0]].level
        if sp.org_word:
            orgs.append(OrgJurisdiction(sp.start, sp.end, surface, sp.org_word, name, full, level, adcode, stat_code, alt, sp.method, sp.confidence))
        else:
            mentions.append(PlaceMention(sp.start, sp.end, surface, name, full, level, adcode, stat_code, alt, lat, lon, sp.method, sp.confidence))

    mentions = _with_repeats(text, mentions, orgs)
    main = main_locality(mentions, orgs)
    orgs.extend(_implied_orgs(text, spans, list(orgs), main, published, g))
    orgs.sort(key=lambda o: o.start)
    return PlaceAnalysis(mentions, orgs, main)


_NUMERAL_BEFORE = set("0123456789零〇一二两三四五六七八九十百千万亿几多")


def _with_repeats(text: str, mentions: list[PlaceMention], orgs: list[OrgJurisdiction]) -> list[PlaceMention]:
    """Later bare mentions of a town or village the document has already
    anchored (天荒坪镇余村 … 习近平在余村考察) are the same place. A name right
    after a numeral is not one: 200余村 is "more than 200 villages"."""
    taken = [(m.start, m.end) for m in mentions] + [(o.start, o.end + len(o.org_word)) for o in orgs]
    linked = {}
    for m in mentions:
        if m.level in ("town", "village") and m.stat_code and len(m.text) >= 2:
            linked.setdefault(m.text, m)
    extra = []
    for surface, first in linked.items():
        i = text.find(surface)
        while i != -1:
            end = i + len(surface)
            free = not any(a < end and i < b for a, b in taken)
            # 余村党支部 is an organisation, its place the jurisdiction.
            if free and (i == 0 or text[i - 1] not in _NUMERAL_BEFORE) and _org_word(text, end) is None:
                extra.append(dataclasses.replace(first, start=i, end=end, method="repeat_in_document",
                                                 confidence=min(first.confidence, 0.8)))
                taken.append((i, end))
            i = text.find(surface, end)
    return sorted(mentions + extra, key=lambda m: m.start)


def find_places(text: str, published: str | None = None) -> list[PlaceMention]:
    """Place mentions in ``text`` (normalised, Simplified), in text order.

    ``published`` is the document's publication date (ISO 8601, or None):
    codes are those in force then. Places inside organisation names are not
    mentions; ``analyse_places`` returns them as ``org_jurisdictions``.
    """
    return analyse_places(text, published).mentions


# Characters that make a compound with a level word (园区, 社区, 城市, 乡镇)
# or count it (全区, 各县, 两市): then it is not this document's own 区/市.
_NOT_OWN_BEFORE = set("园社城街片小景辖山地郊矿灾牧特专发税验范都超门坊庄村镇乡县区市省州全各本该我两三四五多")


def _implied_orgs(text: str, spans: list[_Span], explicit: list[OrgJurisdiction], main: str | None,
                  published: str | None, g: Gazetteer) -> list[OrgJurisdiction]:
    """区委, 市政府, 省委 with no name before them.

    Right after a named one of the same level (吴江市委、市政府) it is that
    one; otherwise the document's main locality, or the division above it,
    whichever has that level word in its name at the publication date (any
    of its names when the date is unknown).
    """
    taken = bytearray(len(text))
    for sp in spans:
        taken[sp.start:sp.end] = b"\x01" * (sp.end - sp.start)
    explicit = sorted(explicit, key=lambda o: o.end + len(o.org_word))
    explicit_ends = [o.end + len(o.org_word) for o in explicit]
    d = g.by_code.get(main) if main else None
    if d is not None:
        year = _year_of(published)
        line = g.lineage(main)
        names = [g.by_code[g.code_at(main, published).code].name] if year is not None else [g.by_code[c].name for c in line]
    out = []
    for hit in _IMPLIED_RE.finditer(text):
        s, e = hit.span(1)
        if taken[s] or (s > 0 and text[s - 1] in _NOT_OWN_BEFORE):
            continue
        word, org = hit.group(1), hit.group(2)
        i = bisect.bisect_right(explicit_ends, s) - 1
        prev = explicit[i] if i >= 0 else None
        if prev is not None and s - (prev.end + len(prev.org_word)) <= 1 and prev.text.endswith(word) and prev.adcode:
            out.append(OrgJurisdiction(s, e, word, org, prev.name, prev.full_name, prev.level, prev.adcode,
                                       prev.stat_code, prev.alt_code, "implied_by_previous", 0.8))
            continue
        if d is None:
            continue
        target = None
        if word == "省":
            target = next((a for a in g.ancestors(main) if a.level == "province"), None)
        elif d.level == "prefecture" and word in ("市", "州"):
            target = d
        elif word in ("市", "区", "县") and any(n.endswith(word) for n in names):
            target = d
        elif word in ("市", "州"):
            target = next((a for a in g.ancestors(main) if a.level == "prefecture" and a.name.endswith(word)), None)
        if target is None:
            continue
        choice = g.code_at(target.code, published)
        out.append(OrgJurisdiction(s, e, word, org, g.by_code[choice.code].name, g.full_name(choice.code), target.level,
                                   choice.code, None, choice.alt_code, "implied_by_document", 0.6))
    return out


def main_locality(mentions: list[PlaceMention], org_jurisdictions: list[OrgJurisdiction] = ()) -> str | None:
    """The adcode of the county or city the document is about.

    Each linked mention (and organisation jurisdiction, when given) votes
    with its confidence for its county-level or prefecture-level code; towns
    and villages vote half for their county. The county with most votes wins
    if it has at least as many as its prefecture and twice any other
    county's; otherwise the prefecture with most votes; otherwise that
    county. None when the document names no county or prefecture.
    """
    g = Gazetteer.load()
    county: dict[str, float] = defaultdict(float)
    prefecture: dict[str, float] = defaultdict(float)
    for m in (*mentions, *(o for o in org_jurisdictions if o.method != "implied_by_document")):
        if m.adcode is None or m.adcode not in g.by_code:
            continue
        d = g.by_code[m.adcode]
        weight = m.confidence * (0.5 if m.level in ("town", "village") else 1.0)
        if d.level == "county":
            county[d.code] += weight
        elif d.level == "prefecture":
            prefecture[d.code] += weight
    if not county and not prefecture:
        return None
    if county:
        ranked = sorted(county.items(), key=lambda kv: (-kv[1], kv[0]))
        top, votes = ranked[0]
        second = ranked[1][1] if len(ranked) > 1 else 0.0
        parent = g.by_code[top].parent_code
        if votes >= prefecture.get(parent, 0.0) and votes >= 2 * second:
            return top
    if prefecture:
        return sorted(prefecture.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
    return sorted(county.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
