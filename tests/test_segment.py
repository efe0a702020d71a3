"""Paragraph/sentence segmentation on the five seed articles and on edge cases.

The segmenter receives cleaned, normalised text, so the seeds go through the
pipeline's own ``clean`` and ``normalize`` first.
"""
from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dangjian.text.clean import clean as clean_markup
from dangjian.text.script import normalize
from dangjian.text.segment import MAX_PROTECTED_QUOTE, Span, paragraphs, sentences

def clean(name: str, raw: str) -> str:
    """The pipeline's own chain: clean, then Simplified and half-width (as ``read_document`` does)."""
    return normalize(clean_markup(raw).text)


@pytest.fixture(scope="module")
def cleaned(seed_texts) -> dict[str, str]:
    return {name[:3]: clean(name, raw) for name, raw in seed_texts.items()}


def assert_invariants(text: str, result: list[tuple[int, Span]]) -> None:
    paras = paragraphs(text)
    previous_end = -1
    covered = [0] * len(text)
    for index, span in result:
        assert 0 <= index < len(paras)
        para = paras[index]
        assert text[span.start:span.end] == span.text
        assert span.text and not span.text[0].isspace() and not span.text[-1].isspace()
        assert para.start <= span.start < span.end <= para.end, "sentence leaves its paragraph"
        assert span.start >= previous_end, "sentences overlap or are out of order"
        previous_end = span.end
        for i in range(span.start, span.end):
            covered[i] += 1
    for para in paras:
        for i in range(para.start, para.end):
            if not text[i].isspace():
                assert covered[i] == 1, f"char {i} {text[i]!r} covered {covered[i]} times"
    outside = set(range(len(text))) - {i for p in paras for i in range(p.start, p.end)}
    assert all(covered[i] == 0 for i in outside)


def sentence_texts(text: str) -> list[str]:
    return [s.text for _, s in sentences(text)]


# --- paragraphs -----------------------------------------------------------

def test_paragraphs_strip_and_skip_blank_lines():
    text = "  标题 \n\n\t正文第一段。\n \u3000\n末段"
    assert paragraphs(text) == [Span(2, 4, "标题"), Span(8, 14, "正文第一段。"), Span(18, 20, "末段")]


def test_paragraphs_of_each_seed_match_its_lines(cleaned):
    for key, text in cleaned.items():
        assert [p.text for p in paragraphs(text)] == text.split("\n"), key


# --- sentences on the seeds --------------------------------------------------

def test_invariants_hold_on_every_seed(cleaned):
    for key, text in cleaned.items():
        result = sentences(text)
        assert len(result) > 20, key
        assert_invariants(text, result)


def test_quote_ending_in_full_stop_closes_its_sentence(cleaned):
    got = sentence_texts(cleaned["001"])
    assert "习近平总书记强调:“党建工作平时抓得好抓得实,关键时刻才能发挥出巨大作用。”" in got
    assert got[got.index("习近平总书记强调:“党建工作平时抓得好抓得实,关键时刻才能发挥出巨大作用。”") + 1].startswith("近年来,")


def test_headings_and_titles_are_single_sentences(cleaned):
    got001 = sentence_texts(cleaned["001"])
    assert got001[:2] == ["首页>基层园地", "让党建成为高质量发展的强引擎"]
    assert "一、突出政治统领,始终坚持凝心聚力抓党建" in got001
    assert sentence_texts(cleaned["003"])[0] == "全面从严治党,筑牢高质量发展根基"


def test_list_marker_is_not_a_sentence_end(cleaned):
    got = sentence_texts(cleaned["004"])
    assert "1.经济快速发展对党委领导经济社会发展的能力提出了更高的要求。" in got
    assert "4.新时期群众工作面临新挑战。" in got
    assert "1." not in got and "4." not in got


def test_decimal_point_is_not_a_sentence_end(cleaned):
    got = sentence_texts(cleaned["002"])
    assert any(s.endswith("轮训班46期1.1万人次。") for s in got)
    assert "中央、省、市累计投入资金1.09亿元,实施扶持壮大村级集体经济项目323个,84.3%的村庄集体经济年收入2万元以上,26.7%的村庄集体经济年收入5万元以上,“一肩挑”村党组织书记年薪酬达到4.5万元。" in got


def test_ellipsis_ends_a_sentence(cleaned):
    got = sentence_texts(cleaned["002"])
    assert "城乡建设日新月异,民生保障日渐完善,脱贫攻坚圆满收官,群众的幸福指数不断攀升……" in got
    assert "此外,平凉市还大力实施“千名急需紧缺人才引进行动”和“百名高端人才柔性引进工程”,面向全国引进各类急需紧缺人才94名,签约引进教育、卫生、农林等领域专业人才2406名……" in got
    assert "人才保障支撑发展的作用更加凸显。" in got
    assert "……" in got  # a paragraph that is only an ellipsis


def test_semicolon_ends_a_sentence(cleaned):
    got = sentence_texts(cleaned["004"])
    assert "二是联系服务群众全覆盖;" in got
    assert "三是困难家庭结对全覆盖;" in got
    got000 = sentence_texts(cleaned["000"])
    assert "新场村、洋湾村等荣获“江苏省美丽乡村”。" in got000
    assert any(s.endswith("打造集农事体验、休闲观光、旅游度假为一体的生态宜居综合型社区;") for s in got000)


def test_semicolon_inside_short_bracket_does_not_split(cleaned):
    assert "【课题组负责人:李雪林;执笔:王礼鹏 唐佩佩 张凡】" in sentence_texts(cleaned["000"])


def test_parenthesis_after_full_stop_starts_a_new_sentence(cleaned):
    got = sentence_texts(cleaned["002"])
    assert "崆峒区柳湖公园。" in got
    assert "(本版资料图片由平凉市委组织部提供)" in got


def test_unbalanced_quote_does_not_swallow_the_paragraph(cleaned):
    # 004 opens “‘融入式党建’经验… and never closes the outer quote.
    got = sentence_texts(cleaned["004"])
    assert "“‘融入式党建’经验贵在一个‘实’字,通过扎实的举措,让党建切实发挥了推动作用。" in got


def test_metadata_lines_stay_whole(cleaned):
    got = sentence_texts(cleaned["004"])
    assert "2017年08月10日08:46\xa0\xa0\xa0\xa0来源:人民网-中国共产党新闻网" in got
    assert "(责编:黄瑾、乔业琼)" in got


# --- sentences on written cases ---------------------------------------------

def test_no_split_inside_short_quote():
    assert sentence_texts("他说：“我们要努力。还要坚持！”大家鼓掌。") == [
        "他说：“我们要努力。还要坚持！”",
        "大家鼓掌。",
    ]


def test_quote_longer_than_limit_is_split_inside():
    body = "甲" * MAX_PROTECTED_QUOTE
    text = f"他说：“{body}。乙乙。”丙。"
    assert sentence_texts(text) == [f"他说：“{body}。", "乙乙。”", "丙。"]


def test_book_title_with_question_mark_is_kept():
    assert sentence_texts("学习《谁是最可爱的人？》一文。然后讨论。") == ["学习《谁是最可爱的人？》一文。", "然后讨论。"]


def test_closing_marks_belong_to_the_sentence_they_close():
    assert sentence_texts("（见附件。）下一句！」又一句？』完") == ["（见附件。）", "下一句！」", "又一句？』", "完"]


def test_terminator_runs_and_ascii_marks():
    assert sentence_texts("真的吗？！是的!! 好?好... 然后。。结束") == ["真的吗？！", "是的!!", "好?", "好...", "然后。。", "结束"]


def test_whitespace_between_sentences_belongs_to_none():
    text = "第一句。 \u3000 第二句。"
    assert sentences(text) == [(0, Span(0, 4, "第一句。")), (0, Span(7, 11, "第二句。"))]


def test_offsets_are_document_offsets():
    text = "标题\n\n第一段。第二句\n  第三段。"
    assert sentences(text) == [
        (0, Span(0, 2, "标题")),
        (1, Span(4, 8, "第一段。")),
        (1, Span(8, 11, "第二句")),
        (2, Span(14, 18, "第三段。")),
    ]


def test_empty_and_blank_text():
    assert sentences("") == [] and paragraphs(" \n\t\n") == []


def test_linear_on_adversarial_input():
    text = "（" * 100_000 + "”" * 100_000 + "“好。" * 50_000 + "……" * 50_000
    began = time.perf_counter()
    result = sentences(text)
    assert time.perf_counter() - began < 5
    assert_invariants(text, result)


_ALPHABET = st.sampled_from(
    list("党建引领发展甲乙丙1.5 \t\n\u3000\xa0。！？!?；;…,，:：") + list("“”‘’「」『』（）()《》【】") + ["...", "……"]
)


@settings(deadline=None)
@given(st.lists(_ALPHABET, max_size=300).map("".join))
def test_property_invariants_and_determinism(text):
    first = sentences(text)
    assert_invariants(text, first)
    assert sentences(text) == first


@settings(deadline=None)
@given(st.text(max_size=200))
def test_property_arbitrary_unicode_never_crashes(text):
    assert_invariants(text, sentences(text))
