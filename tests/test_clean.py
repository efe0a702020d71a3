"""clean() on the seeds and on pages written here: what is kept, what is
dropped, and that every clean character maps back to its source."""
from __future__ import annotations

import html
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dangjian.text.clean import Cleaned, OffsetMap, clean, looks_like_html

SEED_004 = "004_2cf8f4e56bd97bdb.txt"

NEWS_PAGE = """<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="keywords" content="党建,元数据关键词">
<meta name="description" content="页面描述不应出现">
<title>以党建引领基层治理--党建-人民网</title>
<link rel="stylesheet" href="/css/main.css">
<style type="text/css">
  .note { display: none; }
  body::before { content: "样式里的中文"; }
</style>
<script type="text/javascript">
  var msg = "脚本里的中文字符串";
  if (a < b && c > d) { document.write("<p>脚本写的段落</p>"); }
</script>
</head>
<body>
<div id="header"><a href="/"><img src="/img/logo.png" alt="人民网标志"></a><span>网站顶部横幅</span></div>
<nav class="nav"><ul><li><a href="/">首页</a></li><li><a href="/dj/">党建</a></li><li><a href="/zz/">组织工作</a></li></ul></nav>
<div class="path"><a href="/">人民网</a>&gt;&gt;<a href="/dj/">党建</a>&gt;&gt;基层党建</div>
<div class="layout rm_txt cf">
 <div class="col col-1 fl">
  <h1 data-title="属性里的标题">以党建引领基层治理 推动高质量发展</h1>
  <div class="col-1-1 fl">2021年07月05日08:29 | 来源：<a href="http://paper.people.com.cn/" target="_blank">人民网－人民日报</a></div>
  <div class="rm_txt_con cf" id="rm_txt_zw">
   <p style="text-indent: 2em;">　　近年来，某市坚持以党建引领基层治理，全市1200个村（社区）党组织书记全部实现“一肩挑”。</p>
   <p>　　记者了解到，该市&nbsp;2020年投入资金3.5亿元，建成党群服务中心&amp;新时代文明实践站286个，&#x4e2d;心工作稳步推进&hellip;&hellip;</p>
   <div hidden>隐藏的段落一</div>
   <div class="note" style="display:none">隐藏的段落二</div>
   <p>　　“党建工作抓实了就是生产力。”该市委组织部负责人说，<strong>下一步</strong>将继续
   深化“红色网格”建设，让党旗在基层一线高高飘扬。</p>
   <!-- 注释里的中文 -->
   <p class="share-title">分享到：</p>
   <div class="edit cf">(责编：张三、李四)</div>
  </div>
 </div>
 <aside class="col col-2"><h3>相关新闻</h3><ul><li>侧栏新闻一</li></ul></aside>
</div>
<div class="footer"><p>人民网版权所有，未经书面授权禁止使用</p><p>京ICP备12345678号</p></div>
<footer><p>Copyright &copy; 1997-2021 by www.people.com.cn. all rights reserved</p></footer>
<script>var tail = "尾部脚本";</script>
</body></html>
"""

NEWS_PAGE_LINES = [
    "以党建引领基层治理 推动高质量发展",
    "2021年07月05日08:29 | 来源：人民网－人民日报",
    "近年来，某市坚持以党建引领基层治理，全市1200个村（社区）党组织书记全部实现“一肩挑”。",
    "记者了解到，该市\xa02020年投入资金3.5亿元，建成党群服务中心&新时代文明实践站286个，中心工作稳步推进……",
    "“党建工作抓实了就是生产力。”该市委组织部负责人说，下一步将继续深化“红色网格”建设，让党旗在基层一线高高飘扬。",
    "(责编：张三、李四)",
]

# Text of the page that must never reach the clean text.
NEWS_PAGE_LEAKS = [
    "脚本", "样式", "元数据", "页面描述", "人民网标志", "网站顶部", "首页", "组织工作", "隐藏", "注释",
    "侧栏", "相关新闻", "版权所有", "京ICP", "Copyright", "属性里的标题", "分享到", "--党建-人民网",
    "rm_txt", "class", "href", "style", "display", "<", "&nbsp", "&amp", "&#",
]

# The same page without a named article container: everything visible is kept.
PAGE_WITHOUT_CONTAINER = NEWS_PAGE.replace('class="layout rm_txt cf"', 'class="layout"').replace(
    'class="rm_txt_con cf" id="rm_txt_zw"', 'class="box"'
)


# --------------------------------------------------------------------------
# Offset checks shared by the tests


def char_sources(cleaned: Cleaned) -> list[tuple[int, int] | None]:
    """Per clean character, the source span it came from (None: inserted)."""
    out: list[tuple[int, int] | None] = [None] * len(cleaned.text)
    for c, s, n in cleaned.offsets.runs:
        for k in range(n):
            assert out[c + k] is None, "runs overlap"
            out[c + k] = (s + k, s + k + 1)
    for c0, c1, s0, s1 in cleaned.offsets.substitutions:
        for k in range(c0, c1):
            assert out[k] is None, "a substitution overlaps a run"
            out[k] = (s0, s1)
    return out


def assert_offsets_valid(source: str, cleaned: Cleaned, spans: int = 300, seed: int = 0) -> None:
    text, offsets = cleaned.text, cleaned.offsets
    for c, s, n in offsets.runs:
        assert n > 0 and 0 <= s and s + n <= len(source) and c + n <= len(text)
        assert text[c : c + n] == source[s : s + n]
    for c0, c1, s0, s1 in offsets.substitutions:
        assert 0 <= s0 < s1 <= len(source) and 0 <= c0 < c1 <= len(text)
        piece = source[s0:s1]
        # An entity decodes to its text; whitespace or cell markup becomes one space.
        assert text[c0:c1] == (html.unescape(piece) if piece.startswith("&") else " "), piece
    sources = char_sources(cleaned)
    for k, where in enumerate(sources):
        if where is None:
            assert text[k] == "\n", f"uncovered character {text[k]!r} at {k}"
    # to_source against a brute-force reference on random spans (and all
    # single characters of short texts).
    rng = random.Random(seed)
    n = len(text)
    pairs = [(k, k + 1) for k in range(min(n, 400))]
    pairs += [tuple(sorted((rng.randint(0, n), rng.randint(0, n)))) for _ in range(spans)]
    for start, end in pairs:
        s, e = offsets.to_source(start, end)
        assert 0 <= s <= e <= len(source)
        covered = [w for w in sources[start:end] if w is not None]
        if covered:
            assert (s, e) == (min(w[0] for w in covered), max(w[1] for w in covered)), (start, end)
        else:
            assert s == e
    assert OffsetMap.from_json(offsets.to_json()) == offsets


def assert_lines_tidy(text: str) -> None:
    for line in text.split("\n"):
        assert line and line == line.strip(), repr(line)


# --------------------------------------------------------------------------
# Seeds


def test_plain_seeds_are_their_stripped_non_empty_lines(seed_texts):
    for name, source in seed_texts.items():
        if name == SEED_004:
            continue
        cleaned = clean(source)
        assert not cleaned.is_html, name
        expected = [line.strip() for line in source.splitlines() if line.strip()]
        assert cleaned.text.split("\n") == expected, name


@pytest.mark.parametrize("newline", ["\r\n", "\r"])
def test_seeds_with_other_line_ends_give_the_same_text(seed_texts, newline):
    for name, source in seed_texts.items():
        other = source.replace("\n", newline)
        cleaned = clean(other)
        assert cleaned.text == clean(source).text, name
        assert_offsets_valid(other, cleaned)


def test_offsets_of_every_seed(seed_texts):
    for name, source in seed_texts.items():
        cleaned = clean(source)
        assert_offsets_valid(source, cleaned, spans=2000)
        assert_lines_tidy(cleaned.text)


def test_seed_004_keeps_the_article_and_drops_the_junk(seed_texts):
    source = seed_texts[SEED_004]
    cleaned = clean(source)
    assert cleaned.is_html
    lines = cleaned.text.split("\n")
    assert lines[:3] == [
        "中國共產黨新聞網>>黨建>>第四屆全國基層黨建創新典型案例征集>>黨建綜合創新",
        "蘇州吳江區:以“融入式黨建”夯實基層工作,成效明顯",
        "2017年08月10日08:46\xa0\xa0\xa0\xa0來源:人民網-中國共產黨新聞網",
    ]
    assert lines[3].startswith("從2013年提出實施“融入式黨建”創新工程到今天已經4年")
    assert "一、實施“融入式黨建”的背景" in lines
    assert lines[-1] == "(責編:黃瑾、喬業瓊)"
    # Every body paragraph of the file is kept, each as one line.
    body = [line.strip() for line in source.splitlines() if line.startswith("    ") and "<" not in line]
    body = [line for line in body if line and not line.startswith("微信")]
    assert lines[1:] == body
    for junk in ("<code", "<li", "<center", "id=", "g60kg", "微信“掃一掃”", "掃一掃", "學習大國"):
        assert junk not in cleaned.text, junk
    assert "•" not in cleaned.text
    assert_offsets_valid(source, cleaned, spans=2000)


# --------------------------------------------------------------------------
# A news page


def test_news_page_keeps_the_article_in_order():
    cleaned = clean(NEWS_PAGE)
    assert cleaned.is_html
    assert cleaned.text.split("\n") == NEWS_PAGE_LINES


def test_news_page_leaks_nothing_else():
    for page in (NEWS_PAGE, PAGE_WITHOUT_CONTAINER):
        text = clean(page).text
        for leak in NEWS_PAGE_LEAKS:
            assert leak not in text, leak


def test_news_page_without_container_keeps_all_visible_text():
    lines = clean(PAGE_WITHOUT_CONTAINER).text.split("\n")
    assert lines == ["人民网>>党建>>基层党建"] + NEWS_PAGE_LINES


def test_news_page_entities_map_to_the_whole_entity():
    cleaned = clean(NEWS_PAGE)
    entities = {NEWS_PAGE[s0:s1]: cleaned.text[c0:c1] for c0, c1, s0, s1 in cleaned.offsets.substitutions}
    assert entities["&nbsp;"] == "\xa0"
    assert entities["&amp;"] == "&"
    assert entities["&#x4e2d;"] == "中"
    assert entities["&hellip;"] == "…"
    k = cleaned.text.index("&新时代")
    s, e = cleaned.offsets.to_source(k, k + 1)
    assert NEWS_PAGE[s:e] == "&amp;"
    # A span across the entity covers it and the verbatim characters around it.
    s, e = cleaned.offsets.to_source(k - 2, k + 4)
    assert NEWS_PAGE[s:e] == "中心&amp;新时代"


def test_news_page_spans_map_back():
    cleaned = clean(NEWS_PAGE)
    for needle in ("1200个村（社区）", "3.5亿元", "人民网－人民日报", "以党建引领基层治理 推动高质量发展"):
        k = cleaned.text.index(needle)
        s, e = cleaned.offsets.to_source(k, k + len(needle))
        assert NEWS_PAGE[s:e] == needle
    # Across an inline tag the span covers the tag too.
    k = cleaned.text.index("来源：人民网")
    s, e = cleaned.offsets.to_source(k, k + 6)
    assert NEWS_PAGE[s:e] == '来源：<a href="http://paper.people.com.cn/" target="_blank">人民网'
    # The hard-wrapped paragraph joins without a space; its span covers the source line break.
    k = cleaned.text.index("将继续深化")
    s, e = cleaned.offsets.to_source(k, k + 5)
    assert NEWS_PAGE[s:e] == "将继续\n   深化"
    # A span from one paragraph into the next crosses the removed markup.
    k = cleaned.text.index("(责编")
    s, e = cleaned.offsets.to_source(k - 3, k + 3)  # "扬。" + separator + "(责编"
    assert NEWS_PAGE[s:e].startswith("扬。</p>") and NEWS_PAGE[s:e].endswith("(责编")


@pytest.mark.parametrize("page", [NEWS_PAGE, PAGE_WITHOUT_CONTAINER])
def test_news_page_offsets_and_line_ends(page):
    cleaned = clean(page)
    assert_offsets_valid(page, cleaned, spans=2000)
    assert_lines_tidy(cleaned.text)
    crlf = page.replace("\n", "\r\n")
    assert clean(crlf).text == cleaned.text
    assert_offsets_valid(crlf, clean(crlf))


# --------------------------------------------------------------------------
# HTML rules, one at a time


@pytest.mark.parametrize(
    "source, expected",
    [
        ("<p>甲</p><p>乙</p>", "甲\n乙"),
        ("<div>第一段<br>第二段<br/>第三段</div>", "第一段\n第二段\n第三段"),
        ("<p>x &lt; y &amp; z</p>", "x < y & z"),
        ("<p>a < b & c > d</p>", "a < b & c > d"),
        ("<p>A&unknown;B&#20013;&#x56FD;</p>", "A&unknown;B中国"),
        ("<p>&nbsp;&nbsp;&emsp;　　正文</p>", "正文"),
        ('<p title="a>b" data-x=\'c>d\'>正文</p>', "正文"),
        ("<div style='DISPLAY: none'>甲</div><div style=\"visibility:hidden\">乙</div><p>丙</p>", "丙"),
        ("<p>甲<span hidden>乙</span>丙</p>", "甲丙"),
        ("<p>Hello   <b>big</b>\n\t world</p>", "Hello big world"),
        ("<p>第一行\n第二行\nand English\n行</p>", "第一行第二行 and English 行"),
        ("<table><tr><td>党员人数</td><td>1234</td></tr><tr><th>党组织</th><th>56</th></tr></table>",
         "党员人数 1234\n党组织 56"),
        ("<pre>第一行\n  第二行\n</pre><p>段落</p>", "第一行\n第二行\n段落"),
        ("<ul><li>• 第一条</li><li>•</li><li>——</li><li>……</li></ul>", "第一条"),
        ("<p>正文</p><p>分享到：微信 微博</p><p>打印本页</p><p>【打印】 【关闭】</p><p>返回顶部</p>"
         "<p>微信扫一扫</p><p>扫码关注</p><p>京ICP备12345678号</p>", "正文"),
        # Article lines that merely start like a prompt are kept.
        ("<p>扫黑除恶专项斗争</p><p>扫码办事，群众少跑腿</p><p>分享到微信朋友圈的做法在各村推开。</p>",
         "扫黑除恶专项斗争\n扫码办事，群众少跑腿\n分享到微信朋友圈的做法在各村推开。"),
        ("<p>首页 > 党建 > 正文</p><p>(责编：张三)</p><p>来源：人民网</p>", "首页 > 党建 > 正文\n(责编：张三)\n来源：人民网"),
        ("<p>正文</p><script>var s = '</p><p>假段落';</script><p>尾</p>", "正文\n尾"),
        ("<p>正文</p><SCRIPT type=x>alert(1)</SCRIPT ><p>尾</p>", "正文\n尾"),
        ("<p>正文<!-- <p>注释</p> --></p>", "正文"),
        ("<form action=/search><input name=q><button>搜索</button><label>站内搜索</label></form><p>正文</p>",
         "正文"),
        ("<header>网站标志</header><article><header><h1>标题</h1></header><p>正文</p><footer>分享</footer></article>",
         "标题\n正文"),
        ("<nav>导航<p>菜单</p></nav><p>正文</p>", "正文"),
        ("<p>甲<p>乙<div>丙</span></div>丁", "甲\n乙\n丙\n丁"),
        ("<p>正文</p><p", "正文\n<p"),
        # An unclosed script hides only its tag, not the rest of the page.
        ("<p>正文<script>没有结束的脚本", "正文没有结束的脚本"),
    ],
)
def test_html_rules(source, expected):
    cleaned = clean(source)
    assert cleaned.is_html
    assert cleaned.text == expected
    assert_offsets_valid(source, cleaned)


def test_asp_net_page_wrapped_in_a_form_keeps_its_article():
    paragraph = "<p>" + "基层党组织建设质量不断提升，党员先锋模范作用充分发挥。" * 4 + "</p>"
    source = '<html><body><form id="form1" method="post">' + paragraph * 3 + "</form></body></html>"
    assert clean(source).text.count("基层党组织") == 12


def test_text_with_leftover_tags_keeps_line_breaks():
    # No <p>/<br>/<html>/<body>: the file is text, its line breaks are paragraph breaks.
    source = "<li id=x></li>\n  标题\n\n    第一段  两个空格\n    第二段\n"
    cleaned = clean(source)
    assert cleaned.text == "标题\n第一段  两个空格\n第二段"
    assert_offsets_valid(source, cleaned)


def test_article_container_is_chosen_and_heading_kept():
    body = "<p>" + "正文内容" * 30 + "</p>"
    source = (
        '<html><body><h1 class="logo">网站名称</h1><div class="menu-list">'
        + "<a>栏目</a>" * 80
        + '</div><h1>文章标题</h1><div class="info">发布时间：2021-07-05 来源：某网</div>'
        + '<div class="share-box">分享</div><div id="zoom"><div class="TRS_Editor">'
        + body * 3
        + "</div></div><div class=related><p>"
        + "相关文章" * 20
        + "</p></div></body></html>"
    )
    lines = clean(source).text.split("\n")
    assert lines[:2] == ["文章标题", "发布时间：2021-07-05 来源：某网"]
    assert lines[2:] == ["正文内容" * 30] * 3


def test_plain_text_detection():
    assert not looks_like_html("党建>>基层 a<b 1&2")
    assert looks_like_html("正文&nbsp;内容")
    assert looks_like_html("<code id=x></code>正文")


def test_empty_and_blank_sources():
    for source in ("", "\n\n", "  \u3000\r\n", "<p> </p><div>&nbsp;</div>"):
        cleaned = clean(source)
        assert cleaned.text == ""
        assert cleaned.offsets.to_source(0, 0) == (0, 0)


def test_to_source_edge_cases():
    source = "  甲乙\n\n丙丁  "
    cleaned = clean(source)
    assert cleaned.text == "甲乙\n丙丁"
    m = cleaned.offsets
    assert m.to_source(0, 0) == (2, 2)
    assert m.to_source(0, 2) == (2, 4)
    assert m.to_source(2, 3) == (4, 4)  # the separator alone: empty, where 甲乙 ends
    assert m.to_source(1, 4) == (3, 7)  # across the dropped blank line: 乙\n\n丙
    assert m.to_source(5, 5) == (8, 8)  # the end of the text: where 丁 ends
    with pytest.raises(ValueError):
        m.to_source(3, 2)


# --------------------------------------------------------------------------
# Scale


def test_deep_nesting():
    source = "<div>" * 10_000 + "正文内容" + "</div>" * 10_000
    assert clean(source).text == "正文内容"
    source = "<div hidden>" * 5_000 + "隐藏" + "</div>" * 5_000 + "<p>正文</p>" + "</span>" * 50_000
    assert clean(source).text == "正文"


def test_five_megabyte_single_line():
    line = "党建引领高质量发展，" * 500_000
    cleaned = clean(line)
    assert cleaned.text == line and not cleaned.is_html
    cleaned = clean("<p>" + line + "&amp;</p>")
    assert cleaned.text == line + "&"


@pytest.mark.parametrize(
    "source",
    [
        '<a b="' * 200_000 + ">",
        "<!--" * 300_000,
        "<script>" * 200_000,
        "<a<a" * 300_000 + "<p>",
        "&a" * 500_000 + "<p>",
        "<p>" * 300_000,
    ],
)
def test_pathological_markup_finishes(source):
    cleaned = clean(source)
    assert 0 <= len(cleaned.text) <= len(source)


# --------------------------------------------------------------------------
# Properties

_HTML_TOKENS = st.sampled_from(
    [
        "<p>", "</p>", "<div>", "</div>", "<br>", "<br/>", "<li>", "<td>", "</td>", "<tr>", "<pre>", "</pre>",
        "<div hidden>", '<div style="display:none">', "<script>", "</script>", "<style>", "</style>", "<!--",
        "-->", "<!doctype html>", "<nav>", "</nav>", "<form>", "</form>", '<div class="content">',
        '<div class="footer">', "<h1>", "</h1>", "<article>", "</article>", "&nbsp;", "&amp;", "&#20013;",
        "&#x4e2d;", "&#0;", "&#99999999;", "&bogus;", "&", "<", ">", '"', "'", "=", " ", "\n", "\r\n", "\r",
        "\t", "\u3000", "\xa0", "•", "党建", "正文内容", "分享到", "微信扫一扫", "a", "中", "<a href='x>y'>",
        "</a>", "<b", "<p title=\"", "</", "<!", "<?x", "𠀀",
    ]
)
_HTML_ISH = st.lists(_HTML_TOKENS, max_size=60).map("".join)


def _check_invariants(source: str) -> None:
    cleaned = clean(source)
    assert_offsets_valid(source, cleaned, spans=50)
    if cleaned.text:
        assert_lines_tidy(cleaned.text)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_any_text_keeps_the_invariants(source):
    _check_invariants(source)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(_HTML_ISH)
def test_any_html_ish_text_keeps_the_invariants(source):
    _check_invariants(source)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(_HTML_ISH, st.text(max_size=200)))
def test_crlf_gives_the_same_text_as_lf(source):
    lf = source.replace("\r", "")
    assert clean(lf.replace("\n", "\r\n")).text == clean(lf).text
