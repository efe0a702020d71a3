"""decode_bytes on the seed articles re-encoded every way a crawler meets them,
on short snippets, and on inputs that must be refused."""
from __future__ import annotations

import codecs
import gzip
import io
import random
import zipfile

import opencc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dangjian.text.clean import clean
from dangjian.text.decode import COMMON_HANZI, DecodeError, Decoded, decode_bytes

TRADITIONAL_SEEDS = ("002_ad230b4f88e2bb90.txt", "004_2cf8f4e56bd97bdb.txt")

# Characters of the Traditional seeds that Big5 cannot encode, and what a Big5
# file would hold instead: NBSP (001/004) has no Big5 code; 産/説 (seed 002) are
# Japanese-style variants whose Big5 forms are 產/說.
BIG5_STAND_INS = {"\xa0": " ", "産": "產", "説": "說"}


def _with_bom(bom: bytes, codec: str):
    return lambda text: bom + text.encode(codec)


# name → (encode function, encoding decode_bytes must report, had_bom)
ENCODINGS = {
    "utf-8": (lambda t: t.encode("utf-8"), "utf-8", False),
    "utf-8-bom": (_with_bom(codecs.BOM_UTF8, "utf-8"), "utf-8-sig", True),
    "gb18030": (lambda t: t.encode("gb18030"), "gb18030", False),
    "utf-16-le": (lambda t: t.encode("utf-16-le"), "utf-16-le", False),
    "utf-16-be": (lambda t: t.encode("utf-16-be"), "utf-16-be", False),
    "utf-16-le-bom": (_with_bom(codecs.BOM_UTF16_LE, "utf-16-le"), "utf-16", True),
    "utf-16-be-bom": (_with_bom(codecs.BOM_UTF16_BE, "utf-16-be"), "utf-16", True),
}


def _crlf(text: str) -> str:
    return text.replace("\n", "\r\n")


def _big5_version(text: str) -> str:
    out = "".join(BIG5_STAND_INS.get(ch, ch) for ch in text)
    out.encode("big5")  # raises if a character without a stand-in is left
    return out


@pytest.mark.parametrize("name", sorted(ENCODINGS))
@pytest.mark.parametrize("line_ends", ["lf", "crlf"])
def test_seeds_in_every_encoding_decode_to_the_same_text(seed_texts, name, line_ends):
    encode, encoding, had_bom = ENCODINGS[name]
    for seed, text in seed_texts.items():
        source = _crlf(text) if line_ends == "crlf" else text
        decoded = decode_bytes(encode(source))
        assert decoded == Decoded(source, encoding, had_bom), (seed, name)
        assert clean(decoded.text).text == clean(text).text, (seed, name)


@pytest.mark.parametrize("line_ends", ["lf", "crlf"])
def test_traditional_seeds_in_big5(seed_texts, line_ends):
    for seed in TRADITIONAL_SEEDS:
        text = _big5_version(seed_texts[seed])
        source = _crlf(text) if line_ends == "crlf" else text
        decoded = decode_bytes(source.encode("big5"))
        assert decoded.encoding == "big5", seed
        assert decoded.text == source, seed
        assert clean(decoded.text).text == clean(text).text, seed


def test_simplified_seeds_in_big5_after_conversion(seed_texts):
    """Big5 has no Simplified characters, so the Simplified seeds (000, 001,
    003) are converted to Taiwan Traditional first; the few characters Big5
    still lacks (∶, NBSP) are replaced by ASCII."""
    to_traditional = opencc.OpenCC("s2tw")
    for seed, text in seed_texts.items():
        if seed in TRADITIONAL_SEEDS:
            continue
        traditional = to_traditional.convert(text)
        source = "".join(ch if _big5_encodable(ch) else "?" for ch in traditional)
        assert source.count("?") - traditional.count("?") < 40, seed  # the test still means something
        decoded = decode_bytes(source.encode("big5"))
        assert (decoded.encoding, decoded.text) == ("big5", source), seed


def _big5_encodable(ch: str) -> bool:
    try:
        ch.encode("big5")
    except UnicodeEncodeError:
        return False
    return True


@pytest.mark.parametrize(
    "text",
    [
        "䶮是GB18030才收录的汉字",
        "𠀀和𫫇是扩展区的汉字，要四个字节",
        "刘䶮建立南汉",
        "扩展B区字𠀀",
    ],
)
def test_gb18030_only_characters_round_trip(text):
    data = text.encode("gb18030")
    with pytest.raises(UnicodeDecodeError):
        data.decode("gbk")  # what a GBK-only decoder would do with these bytes
    assert decode_bytes(data) == Decoded(text, "gb18030", False)


def _snippets(seed_texts, seeds, length):
    """The first ``length`` characters of each long-enough line of the seeds."""
    out = []
    for seed in seeds:
        for line in seed_texts[seed].splitlines():
            line = line.strip()
            if len(line) >= length and "<" not in line:
                out.append(line[:length])
    return out


@pytest.mark.parametrize("length", [10, 20, 30])
def test_short_gb18030_snippets_of_every_seed(seed_texts, length):
    snippets = _snippets(seed_texts, sorted(seed_texts), length)
    assert len(snippets) > 100
    wrong = [s for s in snippets if decode_bytes(s.encode("gb18030")).text != s]
    assert wrong == []


@pytest.mark.parametrize("length", [10, 20, 30])
def test_short_big5_snippets_of_traditional_seeds(seed_texts, length):
    snippets = [_big5_version(s) for s in _snippets(seed_texts, TRADITIONAL_SEEDS, length)]
    assert len(snippets) > 50
    wrong = [s for s in snippets if decode_bytes(s.encode("big5")).text != s]
    assert wrong == []


@pytest.mark.parametrize(
    "text, encoding",
    [
        ("党建引领高质量发展", "utf-16-le"),
        ("黨建引領高品質發展", "utf-16-be"),
        ("一一一一", "gb18030"),  # D2 BB D2 BB …: also valid UTF-8 (Cyrillic һ)
        ("一", "gb18030"),
        ("會議", "big5"),
    ],
)
def test_tiny_inputs(text, encoding):
    assert decode_bytes(text.encode(encoding)).text == text


def test_bom_only_and_empty_files_are_refused():
    for data, expected in [
        (b"", "empty file"),
        (codecs.BOM_UTF8, "empty file"),
        (codecs.BOM_UTF16_LE, "empty file"),
        (b" \t\r\n  \n", "only whitespace"),
        ("\u3000\u3000\n\xa0".encode("utf-8"), "only whitespace"),
        ("  \r\n".encode("utf-16-le"), "only whitespace"),
        (codecs.BOM_UTF16_BE + "\u3000".encode("utf-16-be"), "only whitespace"),
    ]:
        with pytest.raises(DecodeError) as err:
            decode_bytes(data)
        assert err.value.reason.startswith(expected), data


def _zip_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("word/document.xml", "<w:t>党建</w:t>")
    return buf.getvalue()


_BINARIES = [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "PNG"),
    (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(200), "JPEG"),
    (b"GIF89a\x01\x00\x01\x00" + bytes(30), "GIF"),
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n", "PDF"),
    (_zip_bytes(), "ZIP"),
    (gzip.compress("党建引领高质量发展".encode(), mtime=0), "gzip"),
    (b"\x7fELF\x02\x01\x01" + bytes(100), "ELF"),
]


# Each case is named by its kind: an id made of the bytes differed between
# processes (gzip and zip stamp the time), and pytest-xdist refuses to run
# unless every worker collects the same tests.
@pytest.mark.parametrize("data, kind", [pytest.param(data, kind, id=kind) for data, kind in _BINARIES])
def test_binaries_are_refused_by_magic_bytes(data, kind):
    with pytest.raises(DecodeError) as err:
        decode_bytes(data)
    assert err.value.reason.startswith("binary file (") and kind in err.value.reason


def test_nul_bytes_that_are_not_utf16_are_binary():
    rng = random.Random(7)
    data = bytes(rng.randrange(256) for _ in range(4096)) + b"\x00\x00\x00\x01"
    with pytest.raises(DecodeError) as err:
        decode_bytes(data)
    assert "NUL" in err.value.reason
    with pytest.raises(DecodeError):
        decode_bytes("党建\x00\x00工作".encode("utf-8"))


def test_control_characters_are_binary():
    rng = random.Random(3)
    data = bytes(rng.choice(range(1, 9)) for _ in range(500)) + "党建".encode()
    with pytest.raises(DecodeError) as err:
        decode_bytes(data)
    assert "control characters" in err.value.reason


@pytest.mark.parametrize(
    "text, codec, hint",
    [
        ("日本語のテキストです。これはテストです。東京都の天気は晴れ。", "shift_jis", "ja"),
        ("한국어 텍스트입니다. 이것은 테스트입니다. 서울의 날씨는 맑음.", "euc-kr", "ko"),
        ("Café au lait, crème brûlée et naïveté, garçon", "cp1252", "1252"),
    ],
)
def test_other_legacy_encodings_are_refused(text, codec, hint):
    with pytest.raises(DecodeError) as err:
        decode_bytes(text.encode(codec))
    assert "not valid text in UTF-8, UTF-16, GB18030 or Big5" in err.value.reason
    assert hint in err.value.reason  # chardet's guess makes the refusal actionable


def test_random_bytes_are_refused():
    for seed in range(20):
        rng = random.Random(seed)
        data = bytes(rng.randrange(1, 256) for _ in range(3000))
        with pytest.raises(DecodeError):
            decode_bytes(data)


def test_mixed_utf8_and_gbk_lines_are_refused(seed_texts):
    lines = seed_texts["003_6fc1dc587f997423.txt"].splitlines()
    data = b"\n".join(
        line.encode("gb18030") if i % 3 == 2 else line.encode("utf-8") for i, line in enumerate(lines[:9])
    )
    with pytest.raises(DecodeError) as err:
        decode_bytes(data)
    assert err.value.reason.startswith("mixed or corrupted encoding")
    assert "line 3" in err.value.reason


def test_one_corrupt_byte_in_utf8_is_refused_not_replaced(seed_texts):
    data = bytearray(seed_texts["000_b3828745d2df20b3.txt"].encode("utf-8"))
    data[1000] = 0xFF
    with pytest.raises(DecodeError) as err:
        decode_bytes(bytes(data))
    assert "mixed or corrupted" in err.value.reason


@pytest.mark.parametrize("codec", ["utf-8", "gb18030", "big5", "utf-16", "utf-16-le"])
def test_a_character_cut_off_at_the_end_is_left_out(seed_texts, codec):
    text = _big5_version(seed_texts[TRADITIONAL_SEEDS[0]])[:500]
    data = text.encode(codec)
    decoded = decode_bytes(data[:-1])
    assert decoded.text == text[:-1]
    assert "\ufffd" not in decoded.text


def test_a_bad_byte_at_the_end_is_not_forgiven(seed_texts):
    data = seed_texts["000_b3828745d2df20b3.txt"].encode("utf-8") + b"\xff"
    with pytest.raises(DecodeError):
        decode_bytes(data)


def test_non_bytes_are_refused():
    with pytest.raises(DecodeError):
        decode_bytes("党建")  # type: ignore[arg-type]


def test_bytearray_and_memoryview_are_accepted():
    data = "党建引领".encode("gb18030")
    assert decode_bytes(bytearray(data)).text == "党建引领"
    assert decode_bytes(memoryview(data)).text == "党建引领"


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300))
def test_arbitrary_bytes_decode_truthfully_or_raise_decode_error(data):
    try:
        decoded = decode_bytes(data)
    except DecodeError as err:
        assert err.reason
        return
    # The reported encoding really gives the text (utf-16 and utf-32 read the
    # BOM), possibly without a character cut off at the end.
    readings = []
    for cut in range(4):
        try:
            readings.append(data[: len(data) - cut].decode(decoded.encoding))
        except UnicodeDecodeError:
            continue
    assert decoded.text in readings
    assert decoded.text.strip()


_HANZI = sorted(COMMON_HANZI)
_CHINESE_TEXT = st.text(
    alphabet=st.sampled_from(_HANZI + list("，。、：；“”（）《》0123456789 \n")), min_size=8, max_size=80
).filter(lambda t: sum(ch in COMMON_HANZI for ch in t) >= 6)


@settings(derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(_CHINESE_TEXT, st.sampled_from(["utf-8", "gb18030", "utf-16-le", "utf-16-be"]))
def test_chinese_text_round_trips(text, codec):
    try:
        data = text.encode(codec)
    except UnicodeEncodeError:
        return
    assert decode_bytes(data).text == text
