"""Indicators and campaign terms: rules on real sentences, and accuracy against
the hand-annotated set in tests/gold/ (see tests/gold/INDICATORS.md)."""
from __future__ import annotations

import pytest
from conftest import load_peer
from scoring import indicator_report, load_gold, score_indicators, score_peer_currency, totals

from dangjian.text.indicators import find_indicators
from dangjian.text.script import normalize
from dangjian.text.terms import find_terms


def one(text: str, surface: str, published: str | None = None):
    found = [i for i in find_indicators(normalize(text), published=published) if i.text == normalize(surface)]
    assert len(found) == 1, [i.text for i in find_indicators(normalize(text), published=published)]
    return found[0]


# --- rules, on sentences from the seeds -----------------------------------------


def test_subject_is_the_measure_before_the_figure():
    i = one("依托网销平台,农村电商销售额突破12亿元。", "突破12亿元")
    assert (i.value, i.unit, i.kind, i.qualifier, i.subject) == (1.2e9, "元", "money", "lower_bound", "农村电商销售额")
    i = one("深入推进“不见面审批”改革,網辦化率達90%。", "90%")
    assert (i.value, i.unit, i.kind, i.subject) == (90.0, "%", "percent", "网办化率")


def test_subject_is_the_noun_the_counter_introduces():
    i = one("亭湖对全区4825户建档立卡户进行“五双”帮扶。", "4825户")
    assert (i.value, i.unit, i.kind, i.subject) == (4825.0, "户", "count", "建档立卡户")
    i = one("2020年,全区33个经济薄弱村集体稳定经营收入全部超20万元。", "33个")
    assert i.subject.startswith("经济薄弱村") and i.year == 2020


def test_year_from_the_sentence_and_relative_years():
    assert one("2020年,全区33个经济薄弱村集体稳定经营收入全部超20万元。", "超20万元").year == 2020
    assert one("今年新建63座遮阳挡雨棚。", "63座", published="2021-07-05").year == 2021
    assert one("去年新建63座遮阳挡雨棚。", "63座", published="2021-07-05").year == 2020
    assert one("新建63座遮阳挡雨棚。", "63座", published="2021-07-05").year is None


def test_hedges_ranges_ratios_and_percent_forms():
    assert one("抽调近600名区机关干部", "近600名").qualifier == "approx"
    assert one("有效撬动2100多个党建项目落地", "2100多个").qualifier == "lower_bound"
    i = one("超過七成的村集体經濟年收入達到5萬元", "超過七成")
    assert (i.value, i.unit, i.kind, i.qualifier) == (70.0, "%", "percent", "lower_bound")
    i = one("每村配备3至5个网格员", "3至5个")
    assert (i.value, i.value_min, i.value_max, i.qualifier) == (None, 3.0, 5.0, "range")
    i = one("按1∶2比例动态储备人员", "1∶2")
    assert (i.value, i.unit, i.kind) == (0.5, None, "ratio")
    i = one("党员比例提高2.5个百分点", "2.5个百分点")
    assert (i.value, i.unit, i.kind) == (2.5, "%", "percent")


def test_what_is_not_an_indicator():
    text = normalize("2021年1月14日至16日,一是推进“五双”帮扶,第二批“十四五”规划,撥打12345熱線,"
                     "推行5+X模式,近三年成效明显,80年前的旧址,迎接建党100周年、建党百年。")
    assert [i.text for i in find_indicators(text)] == []


def test_fixed_expressions_are_flagged_not_dropped():
    i = one("以“兴村队伍”为抓手,打造四支队伍", "四支")
    assert i.fixed_expression
    assert not one("共组建42支党员突击先锋队", "42支").fixed_expression


def test_terms_quoted_and_numbered_formulas():
    text = normalize("实施「一強三創」行动,推行5+X模式和四抓两整治,开展“放学来吧”活动。习近平总书记强调:“党建工作平时抓得好抓得实,关键时刻才能发挥出巨大作用。”")
    terms = {(t.term, t.quote, t.is_formula) for t in find_terms(text)}
    assert terms == {("一强三创", "「」", True), ("5+X", "", True), ("四抓两整治", "", True), ("放学来吧", "“”", False)}


# --- accuracy against the annotated set ------------------------------------------

# Floors: the test fails below them. Raise them as the extractor improves; the
# issue's targets are 0.95 precision, 0.95 recall, 0.95 qualifier accuracy.
PRECISION_FLOOR = 0.97
RECALL_FLOOR = 0.97
QUALIFIER_FLOOR = 0.97
YEAR_FLOOR = 0.95  # of matches, the year agrees (null included)
SUBJECT_FLOOR = 0.75  # of matches with an annotated subject, ours is close to it (see scoring.subject_close)


@pytest.fixture(scope="module")
def indicator_scores():
    return score_indicators()


def test_gold_set_is_well_formed():
    gold = load_gold("indicators.jsonl")
    assert sum(g["required"] for g in gold) >= 120
    from scoring import ROOT

    for g in gold:
        source = (ROOT / g["doc"]).read_text(encoding="utf-8-sig")
        assert source[g["source_start"]:g["source_end"]] == g["text"], g


def test_indicator_accuracy(indicator_scores, capsys):
    t = totals(indicator_scores)
    with capsys.disabled():
        print("\n" + indicator_report(indicator_scores))
    assert t.precision >= PRECISION_FLOOR, [e for s in indicator_scores.values() for e in s.errors]
    assert t.recall >= RECALL_FLOOR, [e for s in indicator_scores.values() for e in s.errors]
    assert t.qualifier_accuracy >= QUALIFIER_FLOOR, [e for s in indicator_scores.values() for e in s.errors]
    assert t.year_right >= YEAR_FLOOR * t.tp
    assert t.subject_close >= SUBJECT_FLOOR * t.subject_total


def test_indicator_accuracy_on_the_held_out_set(capsys):
    """tests/gold/holdout was annotated after the extractor was tuned on the
    development set; its first score (P 0.969, R 0.977, qualifiers 0.992) is
    the honest estimate of accuracy on unseen reports."""
    scores = score_indicators(load_gold("holdout/indicators.jsonl"))
    t = totals(scores)
    with capsys.disabled():
        print("\n" + indicator_report(scores))
    assert t.required >= 120
    errors = [e for s in scores.values() for e in s.errors]
    assert t.precision >= PRECISION_FLOOR and t.recall >= RECALL_FLOOR, errors
    assert t.qualifier_accuracy >= QUALIFIER_FLOOR, errors


def test_peer_currency_cases():
    """Recognizers-Text CurrencyModel. Six cases expect a bare currency name
    (人民币, 美元) with no amount, which is not an indicator; the floor is set
    on what we find and the rate is reported."""
    found, total, misses = score_peer_currency(load_peer("recognizers_zh_currency_model.jsonl"))
    print(f"currency: {found}/{total}")
    assert found >= 23, misses
