"""Place mentions (``dangjian.text.places``) on the seeds and on written traps.

The seeds are read through the pipeline's own ``read_document`` (decode,
clean, Simplified), with the manifest's publication dates: 001 is dated
2021-07-05, 004 2017-08-10; the others have no date. Every expected code was
looked up by hand in the MCA and NBS lists, not copied from the output.
"""
from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dangjian.document import read_document
from dangjian.sources import load_manifest, sha256_hex
from dangjian.text.places import OrgJurisdiction, PlaceMention, analyse_places, find_places, main_locality

from conftest import RAW


@pytest.fixture(scope="module")
def seeds(seed_paths) -> dict[str, dict]:
    manifest = load_manifest(RAW)
    out = {}
    for path in seed_paths:
        data = path.read_bytes()
        out[path.name[:3]] = read_document(data, sha256_hex(data), [path.name], manifest.get(path.name))
    return out


@pytest.fixture(scope="module")
def analysed(seeds) -> dict[str, tuple[str, object]]:
    return {k: (row["text"], analyse_places(row["text"], row["published"])) for k, row in seeds.items()}


def check_invariants(text: str, mentions: list[PlaceMention], orgs: list[OrgJurisdiction]) -> None:
    prev_end = 0
    for m in mentions:
        assert text[m.start:m.end] == m.text
        assert m.start >= prev_end, "mentions are sorted and do not overlap"
        prev_end = m.end
        assert 0 < m.confidence <= 1
        assert m.level in ("province", "prefecture", "county", "town", "village")
        if m.stat_code is not None:
            assert m.level in ("town", "village") and len(m.stat_code) == (9 if m.level == "town" else 12)
        if m.level in ("province", "prefecture", "county"):
            assert m.stat_code is None and (m.adcode is None or len(m.adcode) == 6)
        if m.adcode is None:
            assert m.stat_code is None and m.alt_code is None and m.confidence <= 0.3
    org_chars = set()
    for o in orgs:
        assert text[o.start:o.end] == o.text
        assert text.startswith(o.org_word, o.end)
        org_chars.update(range(o.start, o.end))
    assert not any(set(range(m.start, m.end)) & org_chars for m in mentions), "a place in an organisation name is not a mention"


def at(text: str, items, fragment: str, nth: int = 0):
    """The item (mention or org) starting at the nth occurrence of ``fragment``."""
    i = -1
    for _ in range(nth + 1):
        i = text.index(fragment, i + 1)
    found = [x for x in items if x.start == i]
    assert found, f"nothing found at {fragment!r} ({i}): {[(x.start, x.text) for x in items]}"
    return found[0]


def mention_texts(text: str, published: str | None = None) -> list[str]:
    return [m.text for m in find_places(text, published)]


# --- seeds --------------------------------------------------------------------------


def test_seed_invariants(analysed):
    for text, a in analysed.values():
        check_invariants(text, a.mentions, a.org_jurisdictions)


def test_seed_000_tinghu(analysed):
    text, a = analysed["000"]
    assert a.main_locality == "320902"
    assert [(m.text, m.adcode) for m in a.mentions[:3]] == [("江苏省", "320000"), ("盐城市", "320900"), ("亭湖区", "320902")]
    short = at(text, a.mentions, "亭湖开展")
    assert (short.text, short.adcode, short.method) == ("亭湖", "320902", "short_name_context")
    assert at(text, a.mentions, "黄尖镇").stat_code == "320902108"  # a town of 亭湖区
    # 北京大学 and 北京师范大学 are institutions, not places this report is about
    assert not [m for m in a.mentions if m.text == "北京"]
    # every one of the 38 亭湖 without 区, and the 5 亭湖区
    assert sum(m.text == "亭湖" and m.adcode == "320902" for m in a.mentions) == text.count("亭湖") - text.count("亭湖区") == 38
    assert sum(m.text == "亭湖区" for m in a.mentions) == 5


def test_seed_001_haimen_2021(analysed):
    text, a = analysed["001"]
    assert a.main_locality == "320614"
    first = at(text, a.mentions, "海门党建")
    assert (first.text, first.adcode, first.alt_code, first.level) == ("海门", "320614", "320684", "county")
    org = at(text, a.org_jurisdictions, "海门区委")
    assert (org.text, org.org_word, org.adcode, org.alt_code) == ("海门区", "委", "320614", "320684")
    assert not [m for m in a.mentions if m.text == "海门区"], "海门区 only occurs in 海门区委"
    assert at(text, a.org_jurisdictions, "南通市委").adcode == "320600"


def test_seed_002_pingliang(analysed):
    text, a = analysed["002"]
    assert a.main_locality == "620800"
    assert at(text, a.mentions, "灵台县西屯镇").adcode == "620822"
    town = at(text, a.mentions, "西屯镇")
    assert (town.stat_code, town.method) == ("620822105", "anchored_child")
    village = at(text, a.mentions, "店子村")
    assert (village.stat_code, village.adcode, village.method) == ("620822105205", "620822", "anchored_child")
    assert village.full_name == "甘肃省平凉市灵台县西屯镇店子村"
    assert at(text, a.mentions, "崆峒区").adcode == "620802"
    assert at(text, a.mentions, "华亭市").adcode == "620881"
    # 华亭市安口镇朱家坡村党支部 is an organisation; the later 朱家坡村 a place
    assert at(text, a.org_jurisdictions, "朱家坡村").org_word == "党支部"
    assert at(text, a.mentions, "朱家坡村", 1).stat_code == "620881101211"
    # 灵台县白草坡村: anchored by the county right before it
    assert at(text, a.mentions, "白草坡村").stat_code == "620822105206"
    assert at(text, a.mentions, "庄浪方式").adcode == "620825"  # short name, placed by 平凉市
    org = at(text, a.org_jurisdictions, "平凉市委")
    assert (org.adcode, org.level) == ("620800", "prefecture")
    assert at(text, a.org_jurisdictions, "甘肃日报").adcode == "620000"
    # “后进村” and “明星村” are ranks, not villages
    assert not [m for m in a.mentions if m.text in ("后进村", "明星村", "进村")]


def test_seed_003_haimen_undated(analysed):
    text, a = analysed["003"]
    assert a.main_locality == "320614"
    town = at(text, a.org_jurisdictions, "余东镇")
    assert (town.stat_code, town.org_word) == ("320614106", "政协")
    haimen = at(text, a.mentions, "海门特色")
    assert (haimen.adcode, haimen.alt_code) == ("320614", "320684")  # no date: today's code, the old one kept
    # 滨江街道 is in ten counties, none of them 海门: kept, not linked
    binjiang = at(text, a.mentions, "滨江街道", 1)  # the first is 滨江街道人大工委
    assert binjiang.adcode is None and binjiang.stat_code is None and binjiang.confidence <= 0.3


def test_seed_004_wujiang_2017(analysed):
    text, a = analysed["004"]
    assert a.main_locality == "320509"
    wj = at(text, a.mentions, "吴江区:")
    assert (wj.adcode, wj.alt_code) == ("320509", "320584")  # 吴江区 since 2012
    org = at(text, a.org_jurisdictions, "吴江市委")
    assert (org.adcode, org.alt_code) == ("320509", "320584")  # the old name, today's (2017) code
    assert at(text, a.org_jurisdictions, "市政府").adcode == "320509"  # 吴江市委、市政府
    assert at(text, a.mentions, "开弦弓村").stat_code == "320509107218"
    codes = {m.adcode for m in a.mentions}
    assert "441702" not in codes, "吴江城区 is not 江城区 (阳江)"
    assert "320214" not in codes, "新吴江 is not 新吴区 (无锡)"


# --- traps ---------------------------------------------------------------------------


def test_analysis_kept_as_json_comes_back_the_same(analysed):
    """Ingest keeps each document's analysis as JSON for facts: read back, it
    is the same analysis, field for field and type for type."""
    from dangjian.text.places import PlaceAnalysis

    for text, a in analysed.values():
        back = PlaceAnalysis.from_json(a.to_json())
        assert back == a and repr(back) == repr(a)
        assert back.mentions and any(m.lat is not None for m in back.mentions)


def test_kept_analysis_is_used_only_for_its_own_text_and_date(seeds):
    """``DocText.places`` takes the analysis ingest kept when it was made of
    this text at this date by this code; otherwise it analyses again."""
    import dataclasses

    from dangjian.document import DocText
    from dangjian.text.places import PlaceAnalysis

    row = seeds["001"]  # 海门区, 2021: its code changed in 2020
    doc = DocText.from_row(row)
    assert doc.place_analysis is not None
    assert doc.places() == analyse_places(row["text"], row["published"])
    # The kept analysis, not a new one, is what comes back while its key holds:
    # here one with its mentions dropped, under the same key.
    key, data = doc.place_analysis
    emptied = PlaceAnalysis([], [], "320614").to_json()
    assert dataclasses.replace(doc, place_analysis=(key, emptied)).places().mentions == []
    # Another date is another analysis: 2017 gives 海门市's code of the time.
    earlier = dataclasses.replace(doc, published="2017-03-01", place_analysis=(key, emptied))
    redone = earlier.places()
    assert redone == analyse_places(row["text"], "2017-03-01") and redone.mentions
    assert {m.adcode for m in redone.mentions if m.text == "海门"} == {"320684"}
    # So is another text (one character added).
    edited = dataclasses.replace(doc, text=doc.text + "。", place_analysis=(key, emptied))
    assert edited.places().mentions


def test_hezuo_the_verb_is_not_hezuo_the_city():
    text = "甘肃省甘南藏族自治州合作市加强党建工作,各部门密切合作,推动合作市场建设。"
    ms = find_places(text, "2022-01-01")
    assert [(m.text, m.adcode) for m in ms] == [("甘肃省", "620000"), ("甘南藏族自治州", "623000"), ("合作市", "623001")]


def test_yu_of_more_than_is_not_yucun():
    assert find_places("全县300余村完成换届,余村两委班子全部到位。") == []
    text = "浙江省湖州市安吉县天荒坪镇余村是“两山”理念诞生地。余村村民说,安吉县委组织部……"
    a = analyse_places(text, "2020-05-01")
    yucun = at(text, a.mentions, "余村是")
    assert (yucun.stat_code, yucun.adcode) == ("330523108204", "330523")
    org = at(text, a.org_jurisdictions, "安吉县委组织部")
    assert (org.adcode, org.org_word) == ("330523", "委")


@pytest.mark.parametrize(
    "text",
    [
        "在哈尔滨中央大街,党员志愿者开展服务。",
        "该村被评为先进/明星村,一个后进村蜕变成了“明星村”。",
        "弘扬沂蒙精神,传承红色基因。",
        "我们要团结一切可以团结的力量,和平发展,共同富裕,乡村振兴,民族复兴。",
        "推动49个行政村与36家企业签订联建协议,全区33个经济薄弱村集体收入超20万元。",
        "中国共产党中央委员会",
        "江山就是人民,人民就是江山。",
        "区政府召开常务会议,区委书记出席。",
        "苏、浙、沪三地联动,京津冀协同发展。",  # single-character names
        "全省推进高质量发展先进县(市、区),市县两级共举办培训班,各县区、各乡镇要落实责任。",
        "中山大学、中山路、中山装",  # 中山 with nothing to place it
    ],
)
def test_words_that_are_not_places(text):
    assert find_places(text) == []


def test_village_needs_its_parent_in_the_document():
    assert mention_texts("店子村党支部书记带领村民致富。") == []
    linked = find_places("灵台县近年来……店子村党支部书记带领村民致富,店子村……")
    village = [m for m in linked if m.text == "店子村"]
    assert village and village[0].stat_code == "620822105205" and village[0].method == "anchored_child"


def test_town_with_a_common_name_needs_an_anchor():
    ms = find_places("城关镇召开会议。")
    assert [(m.text, m.stat_code, m.method) for m in ms] == [("城关镇", None, "unlinked")]


def test_code_at_publication_date():
    def one(text, published):
        (m,) = [m for m in find_places(text, published) if m.level == "county"]
        return m.adcode, m.alt_code

    assert one("海门区2021年实现……", "2021-03-01") == ("320614", "320684")
    assert one("海门市2017年实现……", "2017-03-01") == ("320684", "320614")
    assert one("海门市的老同志说……", "2021-03-01") == ("320614", "320684")  # old name, today's code
    assert one("华亭县安口镇", "2016-01-01") == ("620824", "620881")
    assert one("华亭县安口镇", "2019-01-01") == ("620881", "620824")


def test_short_name_needs_context():
    assert mention_texts("海门经济发展较快。") == []
    ms = find_places("南通市各县区中,海门经济发展较快。", "2021-01-01")
    assert [(m.text, m.adcode) for m in ms] == [("南通市", "320600"), ("海门", "320614")]
    # a province's short name is a place on its own
    assert [(m.text, m.adcode) for m in find_places("视察江苏重要讲话")] == [("江苏", "320000")]
    # cities of one province named together place each other
    ms = find_places("苏州、无锡、常州等地")
    assert [(m.text, m.adcode, m.method) for m in ms] == [
        ("苏州", "320500", "short_name_sibling"), ("无锡", "320200", "short_name_sibling"), ("常州", "320400", "short_name_sibling"),
    ]


def test_ambiguous_full_name_resolved_by_context():
    ms = find_places("北京市朝阳区望京街道")
    assert [(m.text, m.adcode, m.stat_code) for m in ms] == [("北京市", "110000", None), ("朝阳区", "110105", None), ("望京街道", "110105", "110105026")]
    alone = find_places("朝阳区")
    assert alone[0].adcode is None and alone[0].method == "ambiguous"


def test_organisations_and_implied_jurisdictions():
    text = "平凉市委组织部召开会议。市委常委出席,平凉市各级党组织……"
    a = analyse_places(text, "2021-01-01")
    assert [m.text for m in a.mentions] == ["平凉市"]
    assert [(o.text, o.org_word, o.adcode, o.method) for o in a.org_jurisdictions] == [
        ("平凉市", "委", "620800", "exact_full"),
        ("市", "委", "620800", "implied_by_document"),
    ]


def test_main_locality_prefers_the_dominant_county():
    text = "平凉市崆峒区东郊社区。崆峒区……崆峒区……灵台县……"
    assert analyse_places(text).main_locality == "620802"
    text = "平凉市……平凉市……崆峒区……灵台县……泾川县"
    assert analyse_places(text).main_locality == "620800"
    assert main_locality([]) is None


@given(st.text(alphabet=st.sampled_from(list("平凉市海门区灵台县西屯镇店子村合作余江苏省委组织部、。0123全县 ")), max_size=60))
def test_property_offsets_and_invariants(text):
    a = analyse_places(text, None)
    check_invariants(text, a.mentions, a.org_jurisdictions)


@given(st.text(max_size=80))
def test_property_arbitrary_unicode(text):
    a = analyse_places(text, "2021-01-01")
    check_invariants(text, a.mentions, a.org_jurisdictions)


def test_throughput(seeds):
    text = "\n".join(row["text"] for row in seeds.values())
    find_places(text)  # build the matcher and load the villages first
    big = "\n".join([text] * 20)  # about 0.5 M characters
    t = time.perf_counter()
    find_places(big)
    rate = len(big) / (time.perf_counter() - t)
    # about 1.9 M chars/s on the development machine; a tenth of that still
    # keeps the place finder off the pipeline's critical path
    assert rate > 190_000, f"{rate:,.0f} chars/s"
