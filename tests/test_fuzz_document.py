"""Property tests of the whole per-file chain: bytes → document → rows.

Arbitrary bytes and arbitrary text (plus HTML-ish and seed-like text) either
become a document whose every row is sound, or raise the one documented
error with a reason. `make fuzz` runs these with many more examples.
"""
from __future__ import annotations

import math

from hypothesis import example, given
from hypothesis import strategies as st

from dangjian.document import DocText, NoTextError, number_rows, paragraph_rows, read_document, sentence_rows
from dangjian.sources import sha256_hex
from dangjian.text.decode import DecodeError
from dangjian.text.script import normalize

SEED_BITS = ["全区33个经济薄弱村", "1.1萬人次", "“五双”", "<p>", "</div>", "&nbsp;", "\r\n", "百分之八十五", "2021年1月14日",
             "网办化率达90%", "两千余名", "3至5个", "<script>var x=1;</script>", "第二批", "12345", "……", "\u3000", "１２３"]
text_like = st.lists(st.one_of(st.sampled_from(SEED_BITS), st.text(max_size=12)), max_size=30).map("".join)


def rows_for(data: bytes):
    row = read_document(data, sha256_hex(data), ["fuzz.txt"], None)
    doc = DocText.from_row(row)
    sentences = sentence_rows(doc)
    return row, doc, paragraph_rows(doc), sentences, number_rows(doc, sentences)


def check_document(data: bytes) -> None:
    try:
        row, doc, paragraphs, sentences, numbers = rows_for(data)
    except (DecodeError, NoTextError) as exc:
        assert exc.reason and isinstance(exc.reason, str)
        return
    assert len(row["text"]) == len(row["clean_text"]) == row["chars"]
    for r in [*paragraphs, *sentences, *numbers]:
        assert 0 <= r["start"] <= r["end"] <= row["chars"]
        assert 0 <= r["source_start"] <= r["source_end"] <= row["source_chars"]
    for r in [*paragraphs, *sentences]:
        assert r["start"] < r["end"]
    for n in numbers:
        assert n["start"] < n["end"]
        for key in ("value", "value_min", "value_max"):
            assert n[key] is None or math.isfinite(n[key])
        assert n["text_simplified"] == doc.text[n["start"]:n["end"]]
        # The span maps back: wherever the cleaned span is a verbatim copy of
        # the source, converting that source span gives the normalised span.
        source_span = doc.source_text[n["source_start"]:n["source_end"]]
        if len(source_span) == n["end"] - n["start"]:
            assert normalize(source_span) == n["text_simplified"]
    again = rows_for(data)
    assert again[3] == sentences and again[4] == numbers  # deterministic


@given(st.binary(max_size=400))
@example(b"\xef\xbb\xbf")
@example("全县1.1萬人次".encode("utf-16-le"))
def test_arbitrary_bytes(data):
    check_document(data)


@given(text_like, st.sampled_from(["utf-8", "gb18030", "utf-16", "utf-8-sig"]))
def test_text_like_input_in_any_encoding(text, encoding):
    check_document(text.encode(encoding))
