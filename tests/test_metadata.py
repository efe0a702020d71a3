"""Metadata extraction on the five seed articles and on written bylines/headers.

Seeds are put into cleaned form first (see ``clean``), as the extractor only
ever sees cleaned, Simplified, width-folded text.
"""
from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dangjian.text.clean import clean as clean_markup
from dangjian.text.script import normalize
from dangjian.text.metadata import Field, Metadata, extract_metadata

def clean(name: str, raw: str) -> str:
    """The pipeline's own chain: clean, then Simplified and half-width (as ``read_document`` does)."""
    return normalize(clean_markup(raw).text)


@pytest.fixture(scope="module")
def cleaned(seed_texts) -> dict[str, str]:
    return {name[:3]: clean(name, raw) for name, raw in seed_texts.items()}


def verbatim_fields(meta: Metadata) -> list[Field]:
    fields = [meta.title, meta.publisher, meta.original_title, meta.rights_statement, *meta.authors]
    return [f for f in fields if f is not None]


def assert_offsets(text: str, meta: Metadata) -> None:
    for field in verbatim_fields(meta):
        assert field.start is not None and field.end is not None
        assert text[field.start:field.end] == field.value, field
    assert len(meta.authors) == len(meta.author_roles)
    if meta.published is not None:
        assert 0 <= meta.published.start < meta.published.end <= len(text)


def values(fields) -> tuple[str, ...]:
    return tuple(f.value for f in fields)


def value(field: Field | None) -> str | None:
    return None if field is None else field.value


# --- the seeds ----------------------------------------------------------------

def test_seed_000_report_with_footer_credits(cleaned):
    text = cleaned["000"]
    meta = extract_metadata(text)
    assert_offsets(text, meta)
    assert meta.title is None  # the article opens with prose; headings are not titles
    assert value(meta.publisher) == "《国家治理》周刊"
    assert meta.published is None
    assert values(meta.authors) == ("李雪林", "王礼鹏", "唐佩佩", "张凡", "董惠敏", "蔡圣楠")
    assert meta.author_roles == ("课题组负责人", "执笔", "执笔", "执笔", "责编", "责编")
    assert meta.original_title is None
    assert value(meta.rights_statement) == (
        "声明:本文为《国家治理》周刊原创内容,任何单位或个人转载请回复国家治理周刊微信号获得授权,"
        "转载时务必标明来源及作者,否则追究法律责任。"
    )


def test_seed_001_breadcrumb_header_and_author_with_post(cleaned):
    text = cleaned["001"]
    meta = extract_metadata(text)
    assert_offsets(text, meta)
    assert value(meta.title) == "让党建成为高质量发展的强引擎"
    assert value(meta.publisher) == "江海先锋"
    assert meta.published.value == "2021-07-05"
    assert text[meta.published.start:meta.published.end] == "2021-07-05"
    assert values(meta.authors) == ("郭晓敏",)
    assert meta.author_roles == ("作者",)
    assert meta.original_title is None and meta.rights_statement is None


def test_seed_002_traditional_newspaper_page(cleaned):
    text = cleaned["002"]
    meta = extract_metadata(text)
    assert_offsets(text, meta)
    assert value(meta.title) == "党建引领高品质发展的“平凉实践”"
    assert meta.title.start == 0
    assert value(meta.publisher) == "甘肃日报"
    assert meta.published is None
    assert values(meta.authors) == ("田丽媛", "李芳芳", "张伟", "石进玉")
    assert meta.author_roles == ("记者", "通讯员", "通讯员", "责任编辑")
    assert value(meta.original_title) == "党建引领高品质发展的“平凉实践”"
    assert meta.original_title.start > meta.title.start  # stored separately, read from the footer
    assert meta.rights_statement is None


def test_seed_003_title_only(cleaned):
    text = cleaned["003"]
    meta = extract_metadata(text)
    assert_offsets(text, meta)
    assert meta == Metadata(
        title=Field("全面从严治党,筑牢高质量发展根基", 0, 16),
        publisher=None,
        published=None,
        authors=(),
        author_roles=(),
        original_title=None,
        rights_statement=None,
    )


def test_seed_004_people_cn_page(cleaned):
    text = cleaned["004"]
    meta = extract_metadata(text)
    assert_offsets(text, meta)
    assert value(meta.title) == "苏州吴江区:以“融入式党建”夯实基层工作,成效明显"
    assert value(meta.publisher) == "人民网-中国共产党新闻网"
    assert meta.published.value == "2017-08-10T08:46"
    assert text[meta.published.start:meta.published.end] == "2017年08月10日08:46"
    assert values(meta.authors) == ("黄瑾", "乔业琼")
    assert meta.author_roles == ("责编", "责编")
    assert meta.original_title is None and meta.rights_statement is None


# --- written headers and bylines ----------------------------------------------

def test_xinhua_dateline_credits_each_reporter():
    text = "新华社北京3月5日电（记者 张三 李四）第十四届全国人大一次会议5日上午在人民大会堂开幕。"
    meta = extract_metadata(text)
    assert_offsets(text, meta)
    assert values(meta.authors) == ("张三", "李四")
    assert meta.author_roles == ("记者", "记者")
    assert meta.published is None  # 3月5日 states no year
    assert meta.title is None  # a prose line, not a title


def test_dateline_with_glued_name_and_two_roles():
    text = "本报北京3月5日讯（记者张三 通讯员李四、王五）会议召开。"
    meta = extract_metadata(text)
    assert values(meta.authors) == ("张三", "李四", "王五")
    assert meta.author_roles == ("记者", "通讯员", "通讯员")


def test_newspaper_byline_lines():
    text = "党建引领乡村振兴\n本报记者 王五\n通讯员 赵六\n文/图 钱七\n正文第一句。"
    meta = extract_metadata(text)
    assert_offsets(text, meta)
    assert value(meta.title) == "党建引领乡村振兴"
    assert values(meta.authors) == ("王五", "赵六", "钱七")
    assert meta.author_roles == ("记者", "通讯员", "文/图")


def test_header_with_fullwidth_colons():
    text = "标题在此\n发布时间：2023年3月5日 10:20\n来源：人民日报\n正文。"
    meta = extract_metadata(text)
    assert_offsets(text, meta)
    assert value(meta.title) == "标题在此"
    assert meta.published.value == "2023-03-05T10:20"
    assert text[meta.published.start:meta.published.end] == "2023年3月5日 10:20"
    assert value(meta.publisher) == "人民日报"


def test_date_with_seconds_and_slashes():
    meta = extract_metadata("标题\n2020/01/02 03:04:05 来源:某某网\n正文。")
    assert meta.published.value == "2020-01-02T03:04:05"
    assert value(meta.publisher) == "某某网"


def test_impossible_date_is_not_published():
    assert extract_metadata("标题\n发布时间:2021-13-45\n正文。").published is None


def test_event_time_and_footer_dates_are_not_publication_dates():
    assert extract_metadata("标题\n活动时间:2021年7月5日\n正文。").published is None
    body = "\n".join(f"第{i}段正文。" for i in range(10))
    assert extract_metadata(f"标题\n{body}\n2021年7月5日").published is None


def test_labels_glued_without_space():
    meta = extract_metadata("标题\n来源:江海先锋发布时间:2021-07-05\n正文。")
    assert value(meta.publisher) == "江海先锋"
    assert meta.published.value == "2021-07-05"


def test_original_title_without_brackets_and_with_inner_brackets():
    assert value(extract_metadata("正文。\n原标题：党建引领发展").original_title) == "党建引领发展"
    assert value(extract_metadata("正文。\n（原标题：条例（试行）解读）").original_title) == "条例（试行）解读"


def test_minority_name_and_slash_separated_editors():
    meta = extract_metadata("正文。\n责任编辑：买买提·艾力／张三")
    assert values(meta.authors) == ("买买提·艾力", "张三")
    assert meta.author_roles == ("责任编辑", "责任编辑")


def test_posts_are_not_names():
    meta = extract_metadata("正文。\n（作者：张三，区委书记）\n（作者:李四,南通市海门区委书记）")
    assert values(meta.authors) == ("张三", "李四")


# --- things that must not be read as metadata --------------------------------

def test_heading_starting_with_a_role_word_is_not_a_byline():
    assert extract_metadata("标题\n通讯员队伍建设\n正文。").authors == ()


def test_role_words_in_body_prose_are_not_bylines():
    text = "标题\n" + "近年来，本地党委多次接受记者 张三采访，介绍做法。" * 5
    assert extract_metadata(text).authors == ()


def test_photo_source_is_not_the_publisher():
    assert extract_metadata("标题\n图片来源:新华社\n正文。").publisher is None


def test_mention_of_reprinting_in_body_is_not_a_rights_statement():
    text = "标题\n人民网、中国网等新媒体也纷纷转载吴江区的创新做法。"
    assert extract_metadata(text).rights_statement is None


def test_nothing_stated_nothing_extracted():
    meta = extract_metadata("这是一段很长的正文，没有标题，也没有任何来源或作者信息，只有叙述内容。")
    assert meta == Metadata(None, None, None, (), (), None, None)
    assert extract_metadata("") == Metadata(None, None, None, (), (), None, None)


_ALPHABET = st.sampled_from(
    ["来源", "发布时间", "记者", "通讯员", "作者", "责编", "原标题", "声明", "转载", "授权", "首页>",
     "2021年7月5日", "2021-07-05", "08:46", "张三", "李四", "买买提·艾力", "本报", "新华社",
     ":", "：", ",", "、", "/", " ", "\n", "（", "）", "(", ")", "【", "】", "。", "“", "”", "甲"]
)


@settings(deadline=None)
@given(st.lists(_ALPHABET, max_size=60).map("".join))
def test_property_never_crashes_and_offsets_are_exact(text):
    meta = extract_metadata(text)
    assert_offsets(text, meta)
    assert extract_metadata(text) == meta
    for name in meta.authors:
        assert re.fullmatch(r"[\u3400-\u4dbf\u4e00-\u9fff]{1,8}(?:[·•・][\u3400-\u4dbf\u4e00-\u9fff]{1,8})*", name.value)


@settings(deadline=None)
@given(st.text(max_size=200))
def test_property_arbitrary_unicode(text):
    assert_offsets(text, extract_metadata(text))


def test_a_biography_heading_is_not_a_byline():
    """作者简介 introduces a biography: 简介 is not the author's name."""
    from dangjian.text.metadata import extract_metadata

    meta = extract_metadata("标题\n作者简介:张三,男,1970年生。\n记者 李四\n正文正文正文。")
    assert [(a.value, r) for a, r in zip(meta.authors, meta.author_roles)] == [("李四", "记者")]


@pytest.mark.parametrize("paragraph, statement", [
    ("来源：某县融媒体中心 COPYRIGHT 2024 保留所有权利", "COPYRIGHT 2024 保留所有权利"),
    ("cOpYrIgHt © 某报社", "cOpYrIgHt © 某报社"),
    ("本网特别声明：转载请注明出处", "特别声明：转载请注明出处"),
    ("免责声明 : 本文仅代表作者观点", "免责声明 : 本文仅代表作者观点"),
    ("© 2024 某日报社 版权所有", "© 2024 某日报社 版权所有"),
    ("这是一项重要声明和承诺", None),  # 声明 without a colon is prose
])
def test_rights_statement_forms(paragraph, statement):
    """The statement opens at 声明：, 版权所有, © or Copyright in any case."""
    meta = extract_metadata("标题\n\n正文第一段。\n\n" + paragraph)
    assert (meta.rights_statement.value if meta.rights_statement else None) == statement
