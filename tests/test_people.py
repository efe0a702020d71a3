"""Person mentions on the five seeds and on written sentences.

The seed tests pin the complete list of people in each article (read by hand),
so both a missed person and a spurious one fail them.
"""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dangjian.text.clean import clean as clean_markup
from dangjian.text.people import PersonMention, Role, find_people
from dangjian.text.script import normalize

#: Everyone each seed names, in order of mention.  习近平 inside the title
#: 习近平新时代中国特色社会主义思想 is a doctrine, not a mention of the man.
SEED_PEOPLE = {
    "000": ["习近平", "习近平", "习近平", "李雪林", "王礼鹏", "唐佩佩", "张凡", "董惠敏", "蔡圣楠"],
    "001": ["习近平", "郭晓敏"],
    "002": ["柳安详", "岳彩霞", "孔彦荣", "姚军福", "田丽媛", "李芳芳", "张伟", "田丽媛", "孔彦荣", "姚军福", "石进玉"],
    "003": ["江建生", "杜宏华", "尹建东", "钱雷中"],
    "004": ["石泰峰", "习近平", "费孝通", "黄瑾", "乔业琼"],
}
#: What a tagger (LAC) proposes as persons in the seeds that are not people.
SEED_NOISE = ("德治", "多士", "济弘绩", "严管", "江海", "张謇式", "吴江", "石进", "胡润")


@pytest.fixture(scope="module")
def seeds(seed_texts) -> dict[str, str]:
    return {name[:3]: normalize(clean_markup(raw).text) for name, raw in seed_texts.items()}


def assert_valid(text: str, people: list[PersonMention]) -> None:
    for p in people:
        assert text[p.start:p.end] == p.name
        for role in p.roles:
            assert text[role.title.start:role.title.end] == role.title.text
            if role.org is not None:
                assert text[role.org.start:role.org.end] == role.org.text
            if role.place is not None:
                assert text[role.place.start:role.place.end] == role.place.text
        for honor in p.honorary_titles:
            assert text[honor.start:honor.end] == honor.text
    for a, b in zip(people, people[1:]):
        assert a.end <= b.start, (a, b)


def titles(person: PersonMention) -> list[tuple[str, str | None, str | None]]:
    return [
        (r.title.text, None if r.org is None else r.org.text, None if r.place is None else r.place.text)
        for r in person.roles
    ]


def named(people: list[PersonMention], name: str) -> list[PersonMention]:
    return [p for p in people if p.name == name]


@pytest.mark.parametrize("seed", sorted(SEED_PEOPLE))
def test_seed_people_are_exactly_those_named(seeds, seed):
    text = seeds[seed]
    people = find_people(text)
    assert_valid(text, people)
    assert [p.name for p in people] == SEED_PEOPLE[seed]
    assert not {p.name for p in people} & set(SEED_NOISE)


def test_seed_000_national_leader_and_footer_credits(seeds):
    people = find_people(seeds["000"])
    leaders = named(people, "习近平")
    assert all(p.national_leader and titles(p) == [("总书记", None, None)] for p in leaders)
    credits = [(p.name, p.roles[0].title.text) for p in people if p.byline]
    assert credits == [
        ("李雪林", "课题组负责人"), ("王礼鹏", "执笔"), ("唐佩佩", "执笔"), ("张凡", "执笔"),
        ("董惠敏", "责编"), ("蔡圣楠", "责编"),
    ]


def test_seed_001_author_with_post_after_the_name(seeds):
    (guo,) = named(find_people(seeds["001"]), "郭晓敏")
    assert guo.byline
    assert titles(guo) == [("作者", None, None), ("书记", "南通市海门区委", "南通市海门区")]
    assert guo.roles[1].org.kind == "party_committee"


def test_seed_002_village_secretaries_with_honours_and_places(seeds):
    text = seeds["002"]
    people = find_people(text)
    yao_first, yao_short = named(people, "姚军福")
    assert [h.text for h in yao_first.honorary_titles] == ["全国脱贫攻坚先进个人"]
    assert titles(yao_first) == [("书记", "灵台县上良镇北张村党支部", "灵台县上良镇北张村")]
    # 在灵台县上良镇北张村,全国脱贫攻坚先进个人、村党支部书记姚军福: the bare
    # 村党支部 takes the village the sentence opens with.
    assert titles(yao_short) == [("书记", "村党支部", "灵台县上良镇北张村")]
    assert yao_short.roles[0].attached_to_text == "灵台县上良镇北张村"
    assert not yao_short.roles[0].implicit_place
    kong_first, kong_short = named(people, "孔彦荣")
    # 孔彦荣自担任华亭市安口镇朱家坡村党支部书记以来: a post after the name.
    assert titles(kong_first) == [("书记", "华亭市安口镇朱家坡村党支部", "华亭市安口镇朱家坡村")]
    assert titles(kong_short) == [("书记", "村党支部", "华亭市安口镇朱家坡村")]
    (liu,) = named(people, "柳安详")
    assert titles(liu) == [("带头人", None, "灵台县西屯镇店子村")]
    (yue,) = named(people, "岳彩霞")
    assert [h.text for h in yue.honorary_titles] == ["全国脱贫攻坚先进个人"] and yue.roles == ()
    bylines = [(p.name, p.roles[0].title.text) for p in people if p.byline]
    assert bylines == [("田丽媛", "记者"), ("李芳芳", "通讯员"), ("张伟", "通讯员"), ("石进玉", "责任编辑")]
    # The 短评 signed with the reporter's name alone: a repeat of a known name.
    assert [p.evidence for p in named(people, "田丽媛")] == ["byline", "repeat"]


def test_seed_003_speakers_with_chains_of_posts(seeds):
    people = {p.name: p for p in find_people(seeds["003"])}
    assert titles(people["尹建东"]) == [
        ("代表", "市人大", None), ("副部长", "市委组织部", None), ("主任", "编办", None),
    ]
    assert all(r.implicit_place for r in people["尹建东"].roles)
    assert titles(people["江建生"]) == [("委员", "市政协", None), ("主任", "余东镇政协联络委", "余东镇")]
    assert titles(people["杜宏华"]) == [("代表", "市人大", None), ("主任", "滨江街道人大工委", "滨江街道")]
    assert titles(people["钱雷中"]) == [("委员", "市政协", None), ("副书记", "海门高新区党工委", "海门高新区")]


def test_seed_004_former_secretary_and_a_scholar(seeds):
    people = {p.name: p for p in find_people(seeds["004"])}
    assert titles(people["石泰峰"]) == [("副书记", "江苏省委", "江苏省"), ("书记", "苏州市委", "苏州市")]
    assert people["费孝通"].evidence == "honorific" and titles(people["费孝通"]) == [("先生", None, None)]
    assert people["习近平"].national_leader


# --- written sentences ----------------------------------------------------------

@pytest.mark.parametrize(
    "text, expected",
    [
        ("海门区委书记郭晓敏主持会议。", [("郭晓敏", [("书记", "海门区委", "海门区")])]),
        ("县委书记王建国带领调研组深入田间地头。", [("王建国", [("书记", "县委", None)])]),
        # 李明强调: 强调 is the verb, the name has two characters.
        ("镇党委副书记、镇长李明强调,要压实责任。", [("李明", [("副书记", "镇党委", None), ("镇长", None, None)])]),
        ("据村党总支书记张红梅介绍,今年村集体收入突破百万元。", [("张红梅", [("书记", "村党总支", None)])]),
        ("市委常委、组织部部长刘志刚出席会议并讲话。", [("刘志刚", [("常委", "市委", None), ("部长", "组织部", None)])]),
        ("“我们要把群众的事当成自己的事。”社区党委书记赵丽说。", [("赵丽", [("书记", "社区党委", None)])]),
        ("欧阳春华,女,1975年生,现任街道党工委书记。", [("欧阳春华", [("书记", "街道党工委", None)])]),
        ("县政协主席黄志强,县委常委、宣传部部长林静等参加调研。", [
            ("黄志强", [("主席", "县政协", None)]),
            ("林静", [("常委", "县委", None), ("部长", "宣传部", None)]),
        ]),
        ("杨柳村党支部书记何小平带领群众修路。", [("何小平", [("书记", "杨柳村党支部", "杨柳村")])]),
        ("在王家庄村,党支部书记王长贵正在查看大棚蔬菜长势。", [("王长贵", [("书记", "党支部", "王家庄村")])]),
        ("大学生村官徐婷婷说:“这里就是我的第二故乡。”", [("徐婷婷", [("大学生村官", None, None)])]),
        ("中共平凉市委书记王敏接受采访。", [("王敏", [("书记", "中共平凉市委", "平凉市")])]),
        ("南京大学教授周晓虹认为,乡村振兴关键在人。", [("周晓虹", [("教授", "南京大学", None)])]),
        ("原县委书记田野同志的先进事迹感动了大家。", [("田野", [("书记", "县委", None), ("同志", None, None)])]),
        ("新华社记者王琦、张晓东摄", [("王琦", [("记者", "新华社", None)]), ("张晓东", [("记者", "新华社", None)])]),
        ("党员高明亮主动请缨,担任疫情防控志愿者。", [("高明亮", [("党员", None, None)])]),
        # Qualified posts inside a chain, and names listed after one.
        ("市委常委、市委秘书长、宣传部长刘文华出席,区领导陈志刚、吴宏陪同。", [
            ("刘文华", [("常委", "市委", None), ("秘书长", "市委", None), ("宣传部长", None, None)]),
            ("陈志刚", [("领导", None, None)]),
            ("吴宏", [("领导", None, None)]),
        ]),
        ("省委组织部二级巡视员林海涛一行到村调研。", [("林海涛", [("二级巡视员", "省委组织部", None)])]),
        # A short biography: the post after the gender.
        ("[作者简介]王明远(1980—),男,南京大学副教授,研究方向为基层治理。", [
            ("王明远", [("副教授", "南京大学", None)]),
        ]),
    ],
)
def test_written_people_and_roles(text, expected):
    people = find_people(text)
    assert_valid(text, people)
    assert [(p.name, titles(p)) for p in people] == expected


def test_credit_with_a_separator_is_a_byline():
    people = find_people("本刊记者/李东升\n全村共有党员80名。")
    assert [(p.name, p.byline, titles(p)) for p in people] == [("李东升", True, [("记者", None, None)])]


def test_honorary_title_in_a_chain():
    (p,) = find_people("全国优秀党务工作者、村党支部书记周建平在会上作交流发言。")
    assert p.name == "周建平"
    assert [h.text for h in p.honorary_titles] == ["全国优秀党务工作者"]
    assert titles(p) == [("书记", "村党支部", None)] and p.roles[0].implicit_place


def test_national_leader_in_boilerplate_but_not_in_a_doctrine():
    text = "坚持以习近平新时代中国特色社会主义思想为指导,贯彻习近平总书记重要讲话精神。"
    (p,) = find_people(text)
    assert (p.name, p.start, p.national_leader) == ("习近平", text.rindex("习近平"), True)


@pytest.mark.parametrize(
    "text",
    [
        "多士成大业,群贤济弘绩。",
        "健全完善党组织领导下的自治、法治、德治相结合的基层治理体系。",
        "该项目由县委组织部牵头实施,书记项目全覆盖。",
        "会上,市纪委监委主要负责同志通报了典型案例。",
        "记者从县委组织部获悉,今年全县共发展党员500名。",
        "此外,市委书记和市长分别带队督查。",
        "党委书记高度重视,亲自部署。",
        "镇党委书记严格落实第一责任人职责。",
        "平凉市委书记带头示范,市委常委深入基层。",
        "组织党员律师、税务师、会计师开展“三师进千企”行动。",
        "“12345”还自动接入区长信箱。",
        "疫情防控期间,崇信县庙台疫情防控点临时党支部党员宣誓。",
        "开展“张謇式”企业家培育工程。",
        "社区网格员小王每天都要走访辖区住户。",
        "四是信访地区领导包案全覆盖。",
        "[作者简介]",
    ],
)
def test_no_person_without_evidence(text):
    assert find_people(text) == []


def test_orgs_can_be_passed_in():
    from dangjian.text.organizations import find_organizations

    text = "海门区委书记郭晓敏主持会议。"
    assert find_people(text, orgs=find_organizations(text)) == find_people(text)
    # Without the organisation the post still stands, unattached.
    (p,) = find_people(text, orgs=[])
    assert p.name == "郭晓敏" and p.roles[0] == Role(p.roles[0].title)


_ALPHABET = "书记主任部长王李张刘姚军福晓敏建国市委区县村党支部、,。:(作者记者说强调全国先进个人同志先生习近平"


@given(st.text(alphabet=_ALPHABET, max_size=60))
def test_mentions_are_exact_sorted_and_disjoint(text):
    people = find_people(text)
    assert_valid(text, people)
    assert all(2 <= len(p.name) <= 4 for p in people)
