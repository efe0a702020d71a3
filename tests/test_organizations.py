"""Organisation mentions on the five seeds and on written sentences.

Seeds go through the pipeline's own chain (clean, then Simplified and
half-width) as ``read_document`` does, since the extractor only ever sees
that text.
"""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dangjian.text.clean import clean as clean_markup
from dangjian.text.organizations import KINDS, OrgMention, find_organizations
from dangjian.text.script import normalize


@pytest.fixture(scope="module")
def seeds(seed_texts) -> dict[str, str]:
    return {name[:3]: normalize(clean_markup(raw).text) for name, raw in seed_texts.items()}


def assert_valid(text: str, orgs: list[OrgMention]) -> None:
    for o in orgs:
        assert text[o.start:o.end] == o.text
        assert o.kind in KINDS
        if o.jurisdiction is not None:
            assert text[o.jurisdiction_start:o.jurisdiction_end] == o.jurisdiction
            assert o.start <= o.jurisdiction_start < o.jurisdiction_end <= o.end
            assert not o.implicit_jurisdiction
    for a, b in zip(orgs, orgs[1:]):
        assert a.end <= b.start, (a, b)


def by_text(orgs: list[OrgMention]) -> dict[str, list[OrgMention]]:
    out: dict[str, list[OrgMention]] = {}
    for o in orgs:
        out.setdefault(o.text, []).append(o)
    return out


def one(text: str, wanted: str) -> OrgMention:
    found = [o for o in find_organizations(text) if o.text == wanted]
    assert len(found) == 1, (wanted, find_organizations(text))
    return found[0]


# --- the seeds ----------------------------------------------------------------

def test_seed_000_universities_and_outlets(seeds):
    text = seeds["000"]
    orgs = find_organizations(text)
    assert_valid(text, orgs)
    kinds = {o.text: o.kind for o in orgs}
    assert kinds == {
        "人民智库课题组": "other",
        "中共中央党校": "university",
        "国家行政学院": "university",
        "北京大学": "university",
        "北京师范大学": "university",
        "中国农业大学": "university",
        "党中央": "party_committee",
        "《国家治理》周刊": "media",
    }


def test_seed_001_district_committee_with_and_without_its_place(seeds):
    text = seeds["001"]
    orgs = find_organizations(text)
    assert_valid(text, orgs)
    found = by_text(orgs)
    full = found["南通市海门区委"][0]
    assert (full.kind, full.jurisdiction) == ("party_committee", "南通市海门区")
    assert text[full.jurisdiction_start:full.jurisdiction_end] == "南通市海门区"
    assert [o.jurisdiction for o in found["海门区委"]] == ["海门区", "海门区"]
    assert found["南通市委"][0].jurisdiction == "南通市"
    assert found["中南村党委"][0].jurisdiction == "中南村"
    # 海门全面建立区委: the bare 区委, not a place called 建立区.
    bare = found["区委"]
    assert len(bare) == 2 and all(o.implicit_jurisdiction and o.jurisdiction is None for o in bare)
    assert found["省委"][0].implicit_jurisdiction  # 围绕省委
    assert found["社区居委会"][0].kind == "residents_committee"
    assert found["江海先锋"][0].kind == "media"  # the stated source (来源:江海先锋)
    # 党组织 is the generic word, never the 党组 of someone.
    assert not any(o.text.endswith("党组") for o in orgs)


def test_seed_002_village_branches_and_the_city_committee(seeds):
    text = seeds["002"]
    orgs = find_organizations(text)
    assert_valid(text, orgs)
    found = by_text(orgs)
    dept = found["平凉市委组织部"][0]
    assert (dept.kind, dept.jurisdiction) == ("party_org_department", "平凉市")
    assert len(found["平凉市委"]) == 3
    branch = found["灵台县上良镇北张村党支部"][0]
    assert (branch.kind, branch.jurisdiction) == ("party_branch", "灵台县上良镇北张村")
    assert found["华亭市安口镇朱家坡村党支部"][0].jurisdiction == "华亭市安口镇朱家坡村"
    assert [o.implicit_jurisdiction for o in found["村党支部"]] == [True, True]
    assert found["崆峒区东郊社区党群服务中心"][0].jurisdiction == "崆峒区东郊社区"
    assert [o.kind for o in found["甘肃日报"]] == ["media", "media"]
    # Types in a formula (党组织+国有公司+龙头企业+专业合作社+贫困户) are not bodies.
    assert not any(o.kind in ("cooperative", "enterprise") for o in orgs)
    # 崆峒区考聘专职化大学生村文书: students, not a university.
    assert not any(o.kind == "university" for o in orgs)


def test_seed_003_congress_cppcc_and_working_committees(seeds):
    text = seeds["003"]
    orgs = find_organizations(text)
    assert_valid(text, orgs)
    found = by_text(orgs)
    assert (found["余东镇政协联络委"][0].kind, found["余东镇政协联络委"][0].jurisdiction) == ("cppcc", "余东镇")
    assert found["滨江街道人大工委"][0].kind == "people_congress"
    assert found["滨江街道人大工委"][0].jurisdiction == "滨江街道"
    assert found["海门高新区党工委"][0].jurisdiction == "海门高新区"
    assert [o.kind for o in found["市政协"]] == ["cppcc", "cppcc"]
    assert [o.kind for o in found["市人大"]] == ["people_congress", "people_congress"]
    org_dept = found["市委组织部"][0]
    assert org_dept.kind == "party_org_department" and org_dept.implicit_jurisdiction
    # 在坚持开发区党工委统一领导: 坚持 is a verb, not part of the place.
    assert found["开发区党工委"][0].implicit_jurisdiction


def test_seed_004_provincial_and_city_committees_media_and_a_company(seeds):
    text = seeds["004"]
    orgs = find_organizations(text)
    assert_valid(text, orgs)
    found = by_text(orgs)
    assert {o.jurisdiction for o in found["苏州市委"]} == {"苏州市"}  # a name may end in 州
    assert len(found["苏州市委"]) == 5
    assert {o.jurisdiction for o in found["江苏省委"]} == {"江苏省"}
    assert found["吴江市委"][0].jurisdiction == "吴江市"
    assert all(o.kind == "government" and o.implicit_jurisdiction for o in found["区政府"])
    assert found["亨通集团"][0].kind == "enterprise"
    assert found["中国浦东干部学院"][0].kind == "university"
    for outlet in ("组织人事报", "新华日报", "苏州日报", "人民网", "中国网", "新华网", "中国共产党新闻网"):
        assert all(o.kind == "media" for o in found[outlet]), outlet
    # 村转社区党委 and 动迁村党支部 name types of community, not places.
    assert not any(o.jurisdiction in ("村转社区", "动迁村", "村转社") for o in orgs)
    assert "社区党委" not in found and "村党支部" not in found
    # 产生区委委员, 列席区委全委会, 围绕当前区委区政府: verbs stay out of the name.
    assert all(o.jurisdiction is None or o.jurisdiction.endswith(("市", "省", "区", "县")) for o in orgs)
    assert len(found["区委"]) == 11


# --- written sentences ----------------------------------------------------------

@pytest.mark.parametrize(
    "text, wanted, kind, jurisdiction",
    [
        ("中共平凉市委书记王敏接受采访。", "中共平凉市委", "party_committee", "平凉市"),
        ("会上,市纪委监委通报了典型案例。", "市纪委监委", "discipline_inspection", None),
        ("县人大常委会主任罗德明带队开展执法检查。", "县人大常委会", "people_congress", None),
        ("由村委会统一组织实施。", "村委会", "villagers_committee", None),
        ("在王家庄村党支部的带领下,村里修通了路。", "王家庄村党支部", "party_branch", "王家庄村"),
        ("泾川县王村镇朱家涧村党支部被评为先进。", "泾川县王村镇朱家涧村党支部", "party_branch", "泾川县王村镇朱家涧村"),
        # A province's short name glued in front is part of the place.
        ("江苏南通市海门区委组织部部长讲话。", "江苏南通市海门区委组织部", "party_org_department", "江苏南通市海门区"),
        ("甘肃省平凉市人民政府印发通知。", "甘肃省平凉市人民政府", "government", "甘肃省平凉市"),
        ("他毕业于南京大学,后进入江苏亨通光电股份有限公司工作。", "南京大学", "university", None),
        ("他毕业于南京大学,后进入江苏亨通光电股份有限公司工作。", "江苏亨通光电股份有限公司", "enterprise", None),
        ("村里成立了绿源果蔬专业合作社。", "绿源果蔬专业合作社", "cooperative", None),
        ("据《人民日报》报道,新华社记者深入一线。", "人民日报", "media", None),
        ("据《人民日报》报道,新华社记者深入一线。", "新华社", "media", None),
    ],
)
def test_written_mentions(text, wanted, kind, jurisdiction):
    org = one(text, wanted)
    assert org.kind == kind
    assert org.jurisdiction == jurisdiction
    assert_valid(text, find_organizations(text))


def test_a_place_glued_to_a_verb_counts_only_if_written_elsewhere():
    # 融入南通市委: nothing marks where the place starts, so 南通市 is only
    # trusted because the document also writes it at the start of a line.
    alone = find_organizations("全面融入南通市委部署。")
    assert [(o.text, o.implicit_jurisdiction) for o in alone] == [("市委", True)]
    both = find_organizations("全面融入南通市委部署。\n南通市地处江海交汇处。")
    assert [(o.text, o.jurisdiction) for o in both] == [("南通市委", "南通市")]


def test_bare_forms_are_left_to_the_integrator():
    text = "区委、区政府高度重视,区人大、市政协积极参与。"
    orgs = find_organizations(text)
    assert [(o.text, o.kind) for o in orgs] == [
        ("区委", "party_committee"), ("区政府", "government"),
        ("区人大", "people_congress"), ("市政协", "cppcc"),
    ]
    assert all(o.implicit_jurisdiction and o.jurisdiction is None for o in orgs)


@pytest.mark.parametrize(
    "text",
    [
        "各级党组织要切实担负起管党治党责任。",
        "基层党委要发挥领导作用,临时党支部要发挥战斗堡垒作用。",
        "推行“党组织+龙头企业+专业合作社+贫困户”模式。",
        "建立“村转社区党委+动迁村党支部+楼宇党小组”四级网络。",
        "农村党支部和城市社区党组织结对共建。",
        "大学生村官扎根基层。",
        "党员干部要德治与法治相结合。",
    ],
)
def test_generic_types_are_not_organisations(text):
    assert find_organizations(text) == []


def test_place_names_inside_an_org_are_its_jurisdiction_not_separate():
    text = "灵台县上良镇北张村党支部书记姚军福"
    (org,) = find_organizations(text)
    assert org.text == "灵台县上良镇北张村党支部"
    assert (org.jurisdiction_start, org.jurisdiction_end) == (0, 9)


_ALPHABET = "市委区县镇村党支部书记人大政协组织社区街道政府平凉海门南通、,。在的和+大学公司日报委员会中共"


@given(st.text(alphabet=_ALPHABET, max_size=60))
def test_mentions_are_exact_sorted_and_disjoint(text):
    assert_valid(text, find_organizations(text))
