"""People named in a cleaned, Simplified document, with their posts and offsets.

Input is the normalised text of :mod:`dangjian.document`.  Output is one
:class:`PersonMention` per mention of a person's name, sorted by ``start``,
with ``text[start:end] == name``.

A person is only recognised with evidence around the name; a string that
merely looks like a name (德治, 多士, 张謇式) is not enough:

* **a post (职务) or title right before the name**, optionally with the
  organisation or place it belongs to: 海门区委书记郭晓敏, 村党支部书记姚军福,
  带头人柳安详.  Posts chained with 、 all belong to the name that follows
  (市人大代表、市委组织部副部长、编办主任尹建东).  An honorary title
  (全国脱贫攻坚先进个人) in that chain or right before the name goes to
  ``honorary_titles``;
* **a byline** read by :mod:`dangjian.text.metadata` (作者, 记者, 通讯员, 执笔,
  责编, 责任编辑 …): ``byline=True`` and the byline word as the role;
* **an honorific after the name** at a boundary: 费孝通先生, 田野同志;
* **a national leader** from a fixed list (习近平总书记): ``national_leader=True``.
  The name inside the ideology's title (习近平新时代中国特色社会主义思想) is a
  term, not a mention of the person, and is skipped;
* **a repeat**: once a name of three or more characters is established, its
  other occurrences in the document are mentions too (the 短评 signed 田丽媛).

Posts written after the name are attached to it: ``<name>,<org><post>``
(郭晓敏,南通市海门区委书记), ``<name>(<post>)`` and ``<name>自担任<org><post>``.

The name itself is a plausible surname (single or compound) plus one or two
characters, or up to four for a compound surname.  Where the name runs into
prose (姚军福十多年来), its length is read from the word that follows: a
two-character name if the third character starts a common verb or particle
(李明强调 is 李明 + 强调), otherwise three.

A role's organisation comes from :func:`dangjian.text.organizations.find_organizations`
(the mention that ends where the post starts); a role with a place but no
organisation (灵台县西屯镇店子村带头人) gets the place.  A role whose
organisation is a bare form (村党支部书记) takes its place from the same
sentence's ``在<place>,`` when the place's suffix matches (在灵台县上良镇北张村,
…村党支部书记姚军福); otherwise ``implicit_place`` tells the integrator to use
the document's locality.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace

from dangjian.text.metadata import extract_metadata
from dangjian.text.segment import Span
from dangjian.text.organizations import (
    OrgMention,
    find_organizations,
    generic_modifier_before,
    hard_boundary,
    place_before,
)


@dataclass(frozen=True)
class Role:
    """A post (职务) or byline role held by a person.

    Spans are :class:`dangjian.text.segment.Span` (``start``, ``end``, ``text``)
    into the document.  ``title`` is the post as written (书记, 副部长, 带头人, 记者).  ``org`` is the
    organisation mention the post belongs to, when one is written next to it
    (海门区委 of 海门区委书记).  ``place`` is the place it attaches to: the
    organisation's jurisdiction, a place written before the post, or the
    sentence's ``在<place>,``.  ``implicit_place`` is True when neither names a
    place but the post belongs to a bare local body (区委书记, 村党支部书记): the
    integrator fills in the document's locality.
    """

    title: Span
    org: OrgMention | None = None
    place: Span | None = None
    implicit_place: bool = False

    @property
    def attached_to_text(self) -> str | None:
        """The most specific written attachment: the place, else the organisation."""
        if self.place is not None:
            return self.place.text
        return None if self.org is None else self.org.text


@dataclass(frozen=True)
class PersonMention:
    """One mention of a person; see the module docstring for the evidence kinds.

    Grain: one row per mention; key ``(start, end)`` within the document.
    ``evidence`` says why the name was accepted: ``post`` (a post or an
    honour right before the name), ``byline``, ``honorific``, ``bio``
    (张三,男,…), ``leader``, ``list`` (a name listed after one of those with
    、, sharing its titles) or ``repeat`` (the first that applied).
    """

    name: str
    start: int
    end: int
    roles: tuple[Role, ...] = ()
    honorary_titles: tuple[Span, ...] = ()
    byline: bool = False
    national_leader: bool = False
    evidence: str = "post"


_HAN = "\u3400-\u4dbf\u4e00-\u9fff"
_HAN_RE = re.compile(f"[{_HAN}]")

COMPOUND_SURNAMES = frozenset({
    "欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐", "长孙", "宇文",
    "司徒", "夏侯", "轩辕", "端木", "独孤", "南宫", "西门", "申屠", "万俟", "闻人", "澹台", "公冶",
    "濮阳", "淳于", "单于", "太叔", "呼延", "百里", "东郭", "拓跋", "钟离", "左丘", "第五",
})
#: The commonest single-character surnames (about 90% of people).
COMMON_SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫阎段雷侯龙史陶黎贺顾毛"
    "郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞"
    "左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈"
    "饶解牟艾尤阳"
)
#: Single-character surnames, roughly the 400 commonest.  The rarer ones are
#: also everyday characters (师, 信, 由, 闭), so a name with one needs more
#: than a bare post in front: an organisation, a place, an honour or a byline.
SURNAMES = COMMON_SURNAMES | frozenset(
    "时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟"
    "邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝官封谈匡鞠惠荆乐冀郁胥南班储"
    "原栗燕楚鄢劳谌奚皮粟冼蔺楼盘满闻位厉伊仝区郜海阚花权强帅屠豆朴盖练廉禹井祖漆巴丰支卿国狄平"
    "计索宣晋相初门云容敬来扈晁芮都普阙浦戈伏鹿薄邸雍辜羊阿乌母裘亓修邰赫杭况那宿鲜印逯隆茹诸战"
    "慕危玉银亢嵇公哈湛宾戎勾茅利於呼居揭干尉冶斯元束檀衣信展阴昝智幸奉植衡富尧闭由岑汝"
)

#: Leaders whose names appear in national boilerplate.
NATIONAL_LEADERS = frozenset({
    "习近平", "李强", "赵乐际", "王沪宁", "蔡奇", "丁薛祥", "李希", "李克强", "栗战书", "汪洋", "韩正",
    "胡锦涛", "江泽民", "温家宝", "毛泽东", "邓小平", "周恩来", "刘少奇", "朱德", "陈云", "华国锋",
})
_LEADER_RE = re.compile("|".join(sorted(NATIONAL_LEADERS, key=len, reverse=True)))
# 习近平新时代中国特色社会主义思想, 习近平法治思想: the title of a doctrine.
_DOCTRINE_AFTER_RE = re.compile(rf"新时代|[{_HAN}]{{0,4}}思想|[{_HAN}]{{0,4}}理论")

#: Posts and titles that stand right before a name, longest first.
POSTS = (
    "总书记", "第一书记", "常务副书记", "副书记", "书记",
    "常务副主任", "副主任", "主任", "常务副部长", "副部长", "部长", "常务副主席", "副主席", "主席",
    "副省长", "省长", "副市长", "市长", "副区长", "区长", "副县长", "县长", "副镇长", "镇长",
    "副乡长", "乡长", "村长", "副局长", "局长", "副处长", "处长", "副科长", "科长", "副厅长", "厅长",
    "副秘书长", "秘书长", "常委", "委员", "代表", "党代表", "宣传部长", "组织部长", "统战部长",
    "一级巡视员", "二级巡视员", "巡视员", "一级调研员", "二级调研员", "领导",
    "董事长", "总经理", "副总经理", "经理", "理事长", "副会长", "会长", "副院长", "院长", "副校长",
    "校长", "所长", "站长", "社长", "组长", "队长", "馆长", "行长", "台长", "总编辑", "主编",
    "教授", "副教授", "研究员", "副研究员", "讲师", "博士", "专家", "高级工程师", "工程师",
    "致富带头人", "带头人", "网格长", "网格员", "大学生村官", "村官", "老党员", "党员", "志愿者",
    "会计", "文书", "负责人", "调研员", "指导员", "辅导员", "监督员", "信息员", "联络员", "村医",
    "民警", "法官", "检察官", "律师", "医生", "教师", "老师", "助理", "社员", "组员", "村民", "居民",
    "特约记者", "记者", "通讯员", "摄影师", "摄影",
)
_POST_RE = re.compile("|".join(re.escape(p) for p in sorted(set(POSTS), key=len, reverse=True)))
#: Posts that are only a post with an organisation or place in front; alone
#: they are everyday nouns that may precede anything (党员 and 代表 are too
#: common to trust on their own before a two-character "name").
_WEAK_POSTS = frozenset({
    "党员", "代表", "委员", "专家", "老师", "医生", "教师", "律师", "志愿者", "村民", "居民", "社员", "组员",
    "领导",
})

#: Honorary titles (荣誉称号): what they end with.
_HONOR_ENDINGS = (
    "先进个人", "先进工作者", "劳动模范", "劳模", "优秀共产党员", "优秀党务工作者", "优秀党员",
    "道德模范", "三八红旗手", "奖章获得者", "时代楷模", "优秀村党组织书记", "优秀基层干部",
    "担当作为好干部", "好干部", "最美村官", "最美基层干部", "身边好人", "中国好人", "榜样",
)
_HONOR_SCOPE_RE = re.compile(r"全国|中国|全省|全市|全县|[省市县区]级|[省市县区](?=[优先劳道最])")
_HONOR_RE = re.compile("|".join(re.escape(h) for h in sorted(_HONOR_ENDINGS, key=len, reverse=True)))
MAX_HONOR_CHARS = 18

#: Honorifics after a name.
_HONORIFIC_AFTER_RE = re.compile(r"先生|女士|同志")

#: Words that follow a name in running text (verbs of speech and action,
#: particles, time words).  If the third character of a candidate starts one
#: of these, the name has two characters.
_FOLLOW_WORDS = (
    "说", "表示", "指出", "强调", "介绍", "告诉", "认为", "提出", "主持", "带领", "带头", "率", "一行",
    "等", "同志", "先生", "女士", "自", "在", "从", "对", "向", "为", "和", "与", "及", "是", "也", "就",
    "已", "曾", "现", "今年", "十", "多年", "出席", "参加", "讲话", "作", "发言", "来到", "深入", "到",
    "赴", "前往", "走访", "调研", "看望", "慰问", "主动", "亲自", "每天", "经常", "正在", "把", "将",
    "被", "还", "又", "都", "则", "便", "却", "所", "的", "了", "着", "坦言", "感慨", "笑着", "回忆",
    "透露", "谈到", "担任", "任", "兼任", "接受", "获得", "荣获", "同", "跟", "给", "让", "请", "要求",
    "希望", "召集", "组织", "部署", "查看", "检查", "督导", "宣读", "通报", "作出", "代表", "一起",
    "一同", "分别", "共同", "及时", "第一", "先后", "始终", "一直", "带着", "领着", "告诫", "动员",
    "和", "以", "获", "当选", "出任", "负责", "牵头", "带队", "热情", "高兴", "激动", "指导", "认真",
    "陪同", "参与", "参观", "考察", "视察",
)
_FOLLOW_RE = re.compile("|".join(re.escape(w) for w in sorted(set(_FOLLOW_WORDS), key=len, reverse=True)))

_SPEECH_FINAL = frozenset("说讲称道等")

#: Everyday words that start with a surname character and can follow a post
#: (书记项目, 书记高度重视, 部长任期): never names.
NOT_NAMES = frozenset({
    "项目", "高度", "严格", "常态", "全面", "全力", "全体", "向前", "明确", "安排", "平时", "时刻", "时间",
    "成员", "成为", "于是", "任期", "任务", "任职", "原则", "严肃", "严抓", "严把", "关心", "关注", "关键",
    "关于", "包联", "包抓", "包村", "包挂", "周末", "周期", "周边", "程度", "程序", "党员", "党组", "党建",
    "党委", "党的", "党政", "党性", "党课", "武装", "文件", "文化", "文明", "方面", "方式", "方法", "方向",
    "方案", "万元", "万人", "谢谢", "黄金", "白天", "石油", "和谐", "和平", "温暖", "康复", "施工", "齐心",
    "易地", "符合", "舒适", "毕业", "单位", "单独", "季度", "路线", "游客", "管理", "管控", "解决", "解放",
    "尤其", "阳光", "时代", "农业", "农民", "农村", "司法", "卓越", "简单", "车辆", "连续", "景区", "费用",
    "宗旨", "应该", "应急", "边缘", "师生", "师资", "商户", "商业", "荣誉", "荣获", "明显", "查看", "查找",
    "官兵", "谈心", "谈话", "乐于", "惠民", "惠及", "原来", "劳动", "满意", "满足", "位于", "海外", "权力",
    "权益", "强化", "强调", "丰富", "支持", "支部", "国家", "国际", "平台", "平安", "平均", "计划", "宣传",
    "宣讲", "晋升", "相关", "初心", "门口", "来到", "都是", "普通", "薄弱", "修建", "宿舍", "战斗", "战略",
    "危机", "银行", "公司", "公开", "公共", "利用", "居民", "居住", "干部", "信息", "信访", "展开", "富裕",
    "由于", "向着", "常委", "常务", "齐抓", "带头", "带领", "高效", "高质", "曾经", "江山", "林业", "牛羊",
    "华丽", "龙头", "金融", "安全", "安置", "申请", "成功", "成绩", "成效", "明星", "明天", "乔迁", "宁静",
    "伍", "时候", "时期", "时任", "任命", "任免", "冯", "孙子", "杨柳", "梁柱", "钱款", "贺信", "贺电",
    "蒋", "路上", "路径", "谷物", "米面", "柏油", "沙漠", "苗木", "花卉", "花园", "海洋", "强国", "国企",
    "计生", "索取", "房屋", "车间", "史上", "史料", "戴帽", "麻烦", "简报", "支书", "都要", "也是", "全村",
    "全镇", "全乡", "全县", "全市", "全区", "全省", "全国", "高位", "应对", "相互", "向上", "易于", "司机",
    "艾滋", "能力", "甘于", "甘当", "乐意", "信心", "信念", "信任", "管好", "连任", "管党", "带着",
    "简介", "单位", "包案", "宣誓", "代表", "干事", "骨干", "群众", "同志", "先锋", "模范", "示范", "冲锋", "突击", "志愿",
})
#: A "name" ending in one of these is an organisation, a post or a place.
_NOT_NAME_CHARS = frozenset("市省县区镇乡村委部局厅处科办党组们")

#: Clause delimiters inside a chain of posts: 、 between posts of one person.
_CHAIN_SEP = "、"


@dataclass(frozen=True)
class _Doc:
    """What the readers share for one document: its organisations by end
    offset, and the place reader's memo (see ``place_before``)."""

    orgs_by_end: dict[int, OrgMention]
    memo: dict[str, bool]


def _is_han(ch: str) -> bool:
    return bool(_HAN_RE.match(ch))


def _han_run(text: str, start: int, limit: int = 5) -> int:
    n = 0
    while start + n < len(text) and n < limit and _is_han(text[start + n]):
        n += 1
    return n


def _surname_len(text: str, start: int) -> int:
    if text[start:start + 2] in COMPOUND_SURNAMES:
        return 2
    return 1 if text[start:start + 1] in SURNAMES else 0


def _name_at(text: str, start: int) -> int | None:
    """End of a personal name starting at ``start``, or None if none starts there."""
    sur = _surname_len(text, start)
    if not sur:
        return None
    run = _han_run(text, start, sur + 3)
    if run < sur + 1:
        return None
    if run <= sur + 2:
        # The name is bounded by punctuation or a non-Han character, except
        # for a verb of speech glued to it (赵丽说。).
        end = start + run
        if run == sur + 2 and text[end - 1] in _SPEECH_FINAL:
            end -= 1
    else:
        # Runs into prose: two characters if the third starts a following word.
        given2 = start + sur + 1
        end = given2 if _FOLLOW_RE.match(text, given2) else given2 + 1
    name = text[start:end]
    if name in NOT_NAMES or name[:2] in NOT_NAMES or any(c in _NOT_NAME_CHARS for c in name[sur:]):
        return None
    return end


def _leader_mentions(text: str) -> list[PersonMention]:
    found = []
    for m in _LEADER_RE.finditer(text):
        if _DOCTRINE_AFTER_RE.match(text, m.end()):
            continue
        # The leader list holds full names only; 李强 inside 李强化 is not one.
        if _is_han(text[m.start() - 1:m.start()] or " ") and not hard_boundary(text, m.start()):
            if not _POST_RE.match(text, m.end()):
                continue
        roles: tuple[Role, ...] = ()
        post = _POST_RE.match(text, m.end())
        if post and post.group() in ("总书记", "主席", "总理", "委员长"):
            roles = (Role(Span(post.start(), post.end(), post.group())),)
        found.append(PersonMention(m.group(), m.start(), m.end(), roles, (), False, True, "leader"))
    return found


def _role_before(text: str, post_start: int, post_end: int, doc: _Doc) -> tuple[Role, int]:
    """The role whose post is ``text[post_start:post_end]`` and where its prefix starts."""
    title = Span(post_start, post_end, text[post_start:post_end])
    org = doc.orgs_by_end.get(post_start)
    if org is not None:
        place = None
        if org.jurisdiction is not None:
            place = Span(org.jurisdiction_start, org.jurisdiction_end, org.jurisdiction)
        return Role(title, org, place, org.implicit_jurisdiction), org.start
    unit = _BARE_UNIT_RE.search(text, max(0, post_start - 6), post_start)
    if (
        unit is not None
        and unit.end() == post_start
        and hard_boundary(text, unit.start())
        and not generic_modifier_before(text, unit.start())
    ):
        org = OrgMention(unit.group(), unit.start(), unit.end(), _BARE_UNITS[unit.group()], implicit_jurisdiction=True)
        return Role(title, org, None, True), unit.start()
    where = place_before(text, post_start, doc.memo)
    if where is not None:
        p_start, p_end, implicit = where
        if implicit:
            return Role(title, None, None, True), p_start
        return Role(title, None, Span(p_start, p_end, text[p_start:p_end]), False), p_start
    # A short qualifier between a list comma and the post belongs to the title
    # (市委秘书长、宣传部长李初敏; 组织二局二级巡视员).
    sep = text.rfind(_CHAIN_SEP, max(0, post_start - 1 - MAX_TITLE_QUALIFIER), post_start)
    if sep != -1 and all(_is_han(c) for c in text[sep + 1:post_start]):
        return Role(Span(sep + 1, post_end, text[sep + 1:post_end])), sep + 1
    return Role(title), post_start


#: Bodies named without their place inside a chain of posts (市委常委、组织部部长):
#: they belong to the article's locality.
_BARE_UNITS = {
    "组织部": "party_org_department", "宣传部": "other", "统战部": "other", "政法委": "other",
    "编办": "other", "办公室": "other", "人大常委会": "people_congress", "人大": "people_congress",
    "政协": "cppcc", "纪委监委": "discipline_inspection", "纪委": "discipline_inspection",
    "党委": "party_committee", "党工委": "party_committee", "党总支": "party_branch",
    "党支部": "party_branch", "村委会": "villagers_committee", "居委会": "residents_committee",
    "工会": "other", "妇联": "other", "团委": "other", "公司": "enterprise", "合作社": "cooperative",
    "办事处": "government", "政府": "government",
}
_BARE_UNIT_RE = re.compile("(?:" + "|".join(sorted(_BARE_UNITS, key=len, reverse=True)) + ")")


#: Longest qualifier read as part of a post inside a chain (宣传 of 宣传部长).
MAX_TITLE_QUALIFIER = 4


def _honor_ending_at(text: str, end: int) -> Span | None:
    """An honorary title ending at ``end`` (全国脱贫攻坚先进个人), or None."""
    for m in _HONOR_RE.finditer(text, max(0, end - 8), end):
        if m.end() != end:
            continue
        lo = max(0, end - MAX_HONOR_CHARS)
        start = m.start()
        while start > lo and _is_han(text[start - 1]):
            start -= 1
        scope = _HONOR_SCOPE_RE.search(text, start, m.start())
        if scope is not None:
            start = scope.start()
        elif start == lo and _is_han(text[lo - 1:lo] or " "):
            return None
        return Span(start, end, text[start:end])
    return None


def _chain_before(
    text: str, pos: int, doc: _Doc
) -> tuple[list[Role], list[Span], int] | None:
    """Roles and honours written right before ``pos`` (a name's start), or None.

    Reads right to left: ``<item>、<item>、…<item><name>`` where each item is
    an honorary title or ``[organisation|place]<post>``.
    """
    roles: list[Role] = []
    honors: list[Span] = []
    end = pos
    leftmost = pos
    while True:
        item = _item_ending_at(text, end, doc)
        if item is None:
            break
        kind, value, start = item
        leftmost = start
        if kind == "role":
            roles.append(value)
        else:
            honors.append(value)
        if text[start - 1:start] == _CHAIN_SEP:
            end = start - 1
            continue
        break
    if not roles and not honors:
        return None
    roles.reverse()
    honors.reverse()
    return roles, honors, leftmost


def _item_ending_at(text: str, end: int, doc: _Doc):
    """``(kind, value, start)`` of an honour or a role ending at ``end``, or None."""
    honor = _honor_ending_at(text, end)
    if honor is not None:
        return "honor", honor, honor.start
    for length in range(min(6, end), 1, -1):
        post = _POST_RE.fullmatch(text, end - length, end)
        if post is None:
            continue
        role, start = _role_before(text, post.start(), post.end(), doc)
        return "role", role, start
    return None


def _well_attested(text: str, start: int, end: int, roles: list[Role], honors: list[Span]) -> bool:
    """Whether the words before a name are enough evidence for it.

    A bare post before a rare surname (会计师开展, 区长信箱) is not enough, and
    an everyday noun such as 党员 or 村民 counts only before a common surname
    and a name that ends cleanly: at punctuation or before a verb
    (党员高明亮主动请缨), not inside a word (党员宣誓).
    """
    strong = [r for r in roles if r.title.text not in _WEAK_POSTS or r.org or r.place]
    if honors or len(strong) > 1 or any(r.org or r.place for r in strong):
        return True
    common = _surname_len(text, start) == 2 or text[start] in COMMON_SURNAMES
    if strong:
        return common
    ends_cleanly = not _is_han(text[end:end + 1] or " ") or bool(_FOLLOW_RE.match(text, end))
    return common and ends_cleanly


#: Credits that may be separated from the name (本刊记者/王枫林, 记者 张三).
_CREDIT_POSTS = frozenset({"记者", "特约记者", "通讯员", "摄影"})
_CREDIT_SEP_RE = re.compile(r"[ \t/／:：]{1,3}")


def _post_mentions(text: str, doc: _Doc) -> list[PersonMention]:
    found = []
    for m in _POST_RE.finditer(text):
        name_start = m.end()
        sep = _CREDIT_SEP_RE.match(text, name_start) if m.group() in _CREDIT_POSTS else None
        if sep is not None:
            name_start = sep.end()
        end = _name_at(text, name_start)
        if end is None:
            continue
        chain = _chain_before(text, m.end(), doc)
        if chain is None:
            continue
        roles, honors, _ = chain
        if not _well_attested(text, name_start, end, roles, honors):
            continue
        byline = sep is not None
        found.append(PersonMention(
            text[name_start:end], name_start, end, tuple(roles), tuple(honors), byline,
            evidence="byline" if byline else "post",
        ))
    # An honorary title glued to the name: 全国脱贫攻坚先进个人岳彩霞.
    for m in _HONOR_RE.finditer(text):
        end = _name_at(text, m.end())
        if end is None:
            continue
        chain = _chain_before(text, m.end(), doc)
        if chain is None:
            continue
        roles, honors, _ = chain
        found.append(PersonMention(text[m.end():end], m.end(), end, tuple(roles), tuple(honors)))
    return found


def _honorific_mentions(text: str) -> list[PersonMention]:
    found = []
    for m in _HONORIFIC_AFTER_RE.finditer(text):
        for length in (3, 2, 4):
            start = m.start() - length
            if start < 0 or not hard_boundary(text, start):
                continue
            if _name_at(text, start) == m.start():
                title = Span(m.start(), m.end(), m.group())
                found.append(PersonMention(text[start:m.start()], start, m.start(), (Role(title),), evidence="honorific"))
                break
    return found


def _with_honorific_after(text: str, mention: PersonMention) -> PersonMention:
    """Add the 同志/先生 written right after an already accepted name."""
    m = _HONORIFIC_AFTER_RE.match(text, mention.end)
    if m is None:
        return mention
    role = Role(Span(m.start(), m.end(), m.group()))
    if role in mention.roles:
        return mention
    return replace(mention, roles=mention.roles + (role,))


def _byline_mentions(text: str) -> list[PersonMention]:
    meta = extract_metadata(text)
    found = []
    for field, role in zip(meta.authors, meta.author_roles):
        # The byline reader takes any 2–4 characters after a role word; 作者简介
        # is a heading, not the author 简介.
        if not _surname_len(field.value, 0) or field.value in NOT_NAMES:
            continue
        role_start = text.rfind(role, 0, field.start)
        title = Span(role_start, role_start + len(role), role)
        found.append(PersonMention(field.value, field.start, field.end, (Role(title),), (), True, False, "byline"))
    return found


# <name>,<org><post>) / <name>(<post>) / <name>自担任<org><post>
_AFTER_NAME_RE = re.compile(r"[,，(（]|(?:自|现|曾|先后|时)?(?:担任|兼任|任)")
_CHAIN_END_RE = re.compile(r"[)）,，。;；\n]|以来|期间|时|后")
_APPOINTED_RE = re.compile(r"(?:现任|曾任|担任|兼任|历任|任)")
MAX_CHAIN_AFTER = 40


def _chain_after(text: str, pos: int, doc: _Doc) -> tuple[tuple[Role, ...], str]:
    """Roles written from ``pos`` up to the next delimiter, and that delimiter."""
    stop = _CHAIN_END_RE.search(text, pos)
    close = stop.start() if stop else len(text)
    if close == pos or close - pos > MAX_CHAIN_AFTER:
        return (), ""
    chain = _chain_before(text, close, doc)
    if chain is None or chain[2] != pos:
        return (), ""
    return tuple(chain[0]), stop.group() if stop else ""


def _roles_after(text: str, mention: PersonMention, doc: _Doc) -> tuple[Role, ...]:
    m = _AFTER_NAME_RE.match(text, mention.end)
    if m is None:
        return ()
    roles, closer = _chain_after(text, m.end(), doc)
    # After a comma the posts must close the bracket or the line (郭晓敏,南通
    # 市海门区委书记)); a comma alone may start a new clause about someone else.
    if m.group() in ",，" and closer not in (")", "）", "\n", ""):
        return ()
    return roles


# 欧阳春华,女,1975年生,现任街道党工委书记。
_BIO_RE = re.compile(rf"([{_HAN}]{{2,4}})(?:[(（][^()（）\n]{{1,20}}[)）])?[,，](?:男|女)[,，(（]")
# What every match of _BIO_RE contains. _BIO_RE opens with any Han character,
# so the engine tries it at nearly every position: 1.84 s over the 10,000
# benchmark documents, where this finds no biography in 0.10 s.
_BIO_SEX_RE = re.compile(r"[,，](?:男|女)[,，(（]")


def _bio_mentions(text: str, doc: _Doc) -> list[PersonMention]:
    found = []
    if not _BIO_SEX_RE.search(text):
        return found
    for m in _BIO_RE.finditer(text):
        start = m.start(1)
        for s in range(start, m.end(1) - 1):
            if hard_boundary(text, s) and _name_at(text, s) == m.end(1):
                start = s
                break
        else:
            continue
        sentence_end = _SENTENCE_END_RE.search(text, m.end())
        limit = sentence_end.start() if sentence_end else len(text)
        # 男,徐州工程学院副教授, or 男,1975年生,现任街道党工委书记。
        roles, _ = _chain_after(text, m.end(), doc)
        for a in [] if roles else _APPOINTED_RE.finditer(text, m.end(), limit):
            roles, _ = _chain_after(text, a.end(), doc)
            if roles:
                break
        found.append(PersonMention(text[start:m.end(1)], start, m.end(1), roles, evidence="bio"))
    return found


_SENTENCE_END_RE = re.compile(r"[。!?！？;；\n]")


_LIST_END_RE = re.compile(r"[,，。;；:：)）\s]|$|摄|等|报道|供图|" + _FOLLOW_RE.pattern)


def _list_continuations(text: str, mentions: list[PersonMention]) -> list[PersonMention]:
    """Names listed after an accepted one share its titles: 记者王琦、张晓东摄.

    Only a name closed by punctuation, a list ending (等, 摄) or a following
    verb (区领导夏志东、雷洪陪同) is taken.
    """
    found = []
    for m in mentions:
        pos = m.end
        prev = m
        while text[pos:pos + 1] == _CHAIN_SEP and not m.national_leader:
            end = _name_at(text, pos + 1)
            if end is None or not _LIST_END_RE.match(text, end) and text[end:end + 1] != _CHAIN_SEP:
                break
            if not (_surname_len(text, pos + 1) == 2 or text[pos + 1] in COMMON_SURNAMES):
                break
            roles = tuple(Role(r.title, r.org, r.place, r.implicit_place) for r in prev.roles)
            prev = PersonMention(text[pos + 1:end], pos + 1, end, roles, (), prev.byline, False, "list")
            found.append(prev)
            pos = end
    return found


def _sentence_start(text: str, pos: int) -> int:
    best = text.rfind("\n", 0, pos) + 1
    for mark in "。!?！？;；":
        best = max(best, text.rfind(mark, 0, pos) + 1)
    return best


_LOCATIVE_RE = re.compile(rf"在([{_HAN}]{{2,24}}?)[,，]")


def _locate_implicit(text: str, mention: PersonMention, doc: _Doc) -> PersonMention:
    """Give a bare body's role (村党支部书记) the place the sentence opens with."""
    roles = []
    for role in mention.roles:
        if role.implicit_place and role.place is None and role.org is not None:
            sentence = _sentence_start(text, mention.start)
            for m in _LOCATIVE_RE.finditer(text, sentence, mention.start):
                where = place_before(text, m.end(1), doc.memo)
                bare_suffix = role.org.text[: len(role.org.text) - _org_head_len(role.org)]
                if where and not where[2] and where[0] == m.start(1) and text[m.start(1):m.end(1)].endswith(bare_suffix):
                    role = replace(role, place=Span(m.start(1), m.end(1), m.group(1)), implicit_place=False)
                    break
        roles.append(role)
    return replace(mention, roles=tuple(roles))


def _org_head_len(org: OrgMention) -> int:
    """Length of what follows the bare suffix in an implicit org (党支部 of 村党支部)."""
    for suffix in ("社区", "街道", "开发区", "高新区", "村", "镇", "乡", "区", "县", "市", "省"):
        if org.text.startswith(suffix):
            return len(org.text) - len(suffix)
    return len(org.text)


def _merge(mentions: list[PersonMention]) -> list[PersonMention]:
    """One mention per span: roles, honours and flags from every source."""
    by_span: dict[tuple[int, int], PersonMention] = {}
    for m in mentions:
        key = (m.start, m.end)
        old = by_span.get(key)
        if old is None:
            by_span[key] = m
            continue
        roles = old.roles + tuple(r for r in m.roles if r not in old.roles)
        honors = old.honorary_titles + tuple(h for h in m.honorary_titles if h not in old.honorary_titles)
        by_span[key] = replace(
            old, roles=roles, honorary_titles=honors, byline=old.byline or m.byline,
            national_leader=old.national_leader or m.national_leader,
        )
    # Where spans overlap (a two- and a three-character reading), keep the
    # one with more evidence, then the earlier source.
    chosen: list[PersonMention] = []
    for m in sorted(by_span.values(), key=lambda m: (m.start, -(m.end - m.start))):
        if chosen and m.start < chosen[-1].end:
            continue
        chosen.append(m)
    return chosen


def _repeats(text: str, known: list[PersonMention]) -> list[PersonMention]:
    taken = [(m.start, m.end) for m in known]
    names = {m.name for m in known if len(m.name) >= 3 and not m.national_leader}
    found = []
    for name in names:
        pos = text.find(name)
        while pos != -1:
            end = pos + len(name)
            if all(end <= s or pos >= e for s, e in taken):
                found.append(PersonMention(name, pos, end, evidence="repeat"))
            pos = text.find(name, pos + 1)
    return found


def find_people(text: str, orgs: list[OrgMention] | None = None) -> list[PersonMention]:
    """Person mentions in ``text``, sorted by start; see the module docstring.

    ``orgs`` are the document's organisation mentions if already computed
    (:func:`dangjian.text.organizations.find_organizations`).
    """
    if orgs is None:
        orgs = find_organizations(text)
    doc = _Doc({o.end: o for o in orgs}, {})
    mentions = [
        *_byline_mentions(text),
        *_leader_mentions(text),
        *_post_mentions(text, doc),
        *_honorific_mentions(text),
        *_bio_mentions(text, doc),
    ]
    merged = _merge(mentions)
    merged = [
        replace(m, roles=m.roles + tuple(r for r in _roles_after(text, m, doc) if r not in m.roles))
        for m in merged
    ]
    merged = [_with_honorific_after(text, _locate_implicit(text, m, doc)) for m in merged]
    merged = _merge(merged + _list_continuations(text, merged))
    merged = _merge(merged + _repeats(text, merged))
    for m in merged:
        assert text[m.start:m.end] == m.name, m
        assert 2 <= len(m.name) <= 4, m
    return merged
