"""Bytes of a source file → its text, or a clear refusal.

Input: the raw bytes of one collected file (an article saved as ``.txt`` or
``.html``). Output: :class:`Decoded` — the text exactly as the file spells it
(only a byte-order mark is removed; CRLF line ends are kept, so offsets into
``Decoded.text`` are offsets into the file's characters), the encoding it was
read with, and whether it started with a BOM.

Supported encodings, and how each is recognised:

* a byte-order mark decides at once: UTF-8 (``utf-8-sig``), UTF-16 (``utf-16``;
  the byte order comes from the mark), UTF-32 (``utf-32``);
* strict UTF-8 is tried first — it is what almost every file is, and valid
  UTF-8 is practically never anything else (the exception, a few GBK
  characters that happen to form two-byte UTF-8, is caught by scoring);
* UTF-16 LE/BE without a BOM, recognised by decoding and scoring (below); a
  file with NUL bytes must be UTF-16 or it is refused as binary;
* GB18030 (never plain GBK/GB2312: GB18030 is their superset, so a file with a
  GB18030-only character such as 䶮 or 𠀀 still decodes) and Big5 (Big5-HKSCS
  when plain Big5 cannot decode the bytes).

Choosing among the legacy encodings: the same bytes often decode *without
error* as GB18030, Big5 and UTF-16 at once, so each strict decoding is scored
(:func:`text_score`) by how much of its non-ASCII part is ordinary Chinese
text — common punctuation and above all the ~800 most frequent Chinese
characters in both scripts (:data:`COMMON_HANZI`). The right decoding reads
as Chinese (≈ 0.8–1.0 on the seeds); a wrong one yields rare characters,
Hangul, private-use or box-drawing characters (≈ 0–0.4). Near-ties (within
:data:`TIE_MARGIN`) between GB18030 and Big5 — short snippets of characters
common to both scripts — go to chardet, which is strong on short snippets;
between a legacy encoding and UTF-16, to the reading that explains more
characters. Below :data:`MIN_SCORE` nothing reads as Chinese and the file is
refused (chardet's guess, e.g. Shift_JIS, goes into the reason).

A file cut off inside its last character (a truncated download) decodes
without that partial character; nothing is ever replaced by U+FFFD.

Refusals raise :class:`DecodeError` whose ``reason`` a person can act on:
empty or whitespace-only files, binaries (by magic bytes, NUL bytes, control
characters), bytes that read as no supported encoding, and files that mix
encodings. Mixed files (some lines UTF-8, others GBK — what concatenating files
from two sources produces) are *refused*, not repaired: decoding them line by
line would silently pick an encoding per line, and decoding them as one
encoding would put U+FFFD or mojibake into citable text.
"""
from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

import chardet

#: The most frequent Simplified characters (Jun Da's modern-Chinese frequency
#: list, top 600) and the Traditional forms of those characters (Taiwan, Hong
#: Kong and OpenCC-standard spellings) — together ~800 characters that make up
#: roughly three quarters of running Chinese text in either script.
COMMON_HANZI = frozenset(
    "的一是不了在人有我他这个们中来上大为和国地到以说时要就出会可也你对生能而子那得于着下自之年过发后作里"
    "用道行所然家种事成方多经么去法学如都同现当没动面起看定天分还进好小部其些主样理心她本前开但因只从想实"
    "日军者意无力它与长把机十民第公此已工使情明性知全三又关点正业外将两高间由问很最重并物手应战向头文体政"
    "美相见被利什二等产或新己制身果加西斯月话合回特代内信表化老给世位次度门任常先海通教儿原东声提立及比员"
    "解水名真论处走义各入几口认条平系气题活尔更别打女变四神总何电数安少报才结反受目太量再感建务做接必场件"
    "计管期市直德资命山金指克许统区保至队形社便空决治展马科司五基眼书非则听白却界达光放强即像难且权思王象"
    "完设式色路记南品住告类求据程北边死张该交规万取拉格望觉术领共确传师观清今切院让识候带导争运笑飞风步改"
    "收根干造言联持组每济车亲极林服快办议往元英士证近失转夫令准布始怎呢存未远叫台单影具罗字爱击流备兵连调"
    "深商算质团集百需价花党华城石级整府离况亚请技际约示复病息究线似官火断精满支视消越器容照须九增研写称企"
    "八功吗包片史委乎查轻易早曾除农找装广显吧阿李标谈吃图念六引历首医局突专费号尽另周较注语仅考落青随选列"
    "武红响虽推势参希古众构房半节土投某案黑维革划敌致陈律足态护七兴派孩验责营星够章音跟志底站严巴例防族供"
    "效续施留讲型料终答紧黄绝奇察母京段依批群项故按河米围江织害斗双境客纪采举杀攻父苏密低朝友诉止细愿千值"
    "並乾亞來個們備傳僅價兒內兩別則劃動務勢區卻參員問喫單嗎嚴國圍圖團報場夠學實寫將專對導師帶幾廣張強後從"
    "愛態應戰採擊據敵數斷於時書會東條業極構標樣機權歷殺氣決沒況準滿濟為無營爭爲爾現產當發盡眾確種稱節紀約"
    "紅級細終組結絕給統經維緊線總織續羅羣義聯聲聽臺與興舉華萬著蘇處號衆術裏裝裡覆見規視親覺觀計記設許訴話"
    "該認語說説調談請論講證識議護變讓責費資質車軍較輕轉辦農這連進運過達遠選還邊醫長門開間關陳隊際隨雖雙離"
    "難電響項須領頭題願類顯風飛馬驗體鬥麼黃點黨"
)

#: Below this score no candidate decoding reads as Chinese text: refuse.
MIN_SCORE = 0.4
#: Below this score, a file chardet takes for Japanese or Korean is refused too
#: (EUC-KR bytes decode as GB18030 into plausible-looking common characters).
DOUBTFUL_SCORE = 0.5
#: A UTF-8 reading this share control characters is suspected of being UTF-16.
SUSPICIOUS_CONTROL_SHARE = 0.03
#: What another reading must score to replace a suspect UTF-8 reading.
CONVINCING_SCORE = 0.7
#: Fewer non-ASCII characters than this never make a file refused for a low score.
MIN_EVIDENCE = 4
#: Characters scored per candidate: plenty to decide, and bounded time.
SCORE_SAMPLE = 100_000
#: Candidates scoring within this margin of the best are a near-tie (see _best_candidate).
TIE_MARGIN = 0.05
#: A file whose decoded text is more than this share C0 control characters
#: (other than tab, newlines, form feed, escape) is binary, not text.
MAX_CONTROL_SHARE = 0.02

# Signatures at offset 0 of common binary formats a crawler saves by mistake.
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF87a", "GIF image"),
    (b"GIF89a", "GIF image"),
    (b"II*\x00", "TIFF image"),
    (b"MM\x00*", "TIFF image"),
    (b"%PDF-", "PDF document"),
    (b"PK\x03\x04", "ZIP archive or Office document such as .docx"),
    (b"PK\x05\x06", "empty ZIP archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "legacy Office document such as .doc or .xls"),
    (b"{\\rtf", "RTF document"),
    (b"\x1f\x8b", "gzip archive"),
    (b"BZh91AY&SY", "bzip2 archive"),
    (b"\xfd7zXZ\x00", "xz archive"),
    (b"(\xb5/\xfd", "Zstandard archive"),
    (b"7z\xbc\xaf\x27\x1c", "7-Zip archive"),
    (b"Rar!\x1a\x07", "RAR archive"),
    (b"\x7fELF", "ELF executable"),
    (b"\xca\xfe\xba\xbe", "Java class file or Mach-O executable"),
    (b"\xcf\xfa\xed\xfe", "Mach-O executable"),
    (b"SQLite format 3\x00", "SQLite database"),
    (b"OggS", "Ogg audio/video"),
    (b"ID3", "MP3 audio"),
    (b"fLaC", "FLAC audio"),
    (b"wOFF", "WOFF font"),
    (b"wOF2", "WOFF2 font"),
)

# Byte-order marks, longest first: the UTF-32 LE mark begins with the UTF-16 LE one.
_BOMS: tuple[tuple[bytes, str, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32", "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32", "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8-sig", "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16", "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16", "utf-16-be"),
)

# Human names for the reasons.
_LABEL = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8",
    "utf-16": "UTF-16",
    "utf-16-le": "UTF-16 LE",
    "utf-16-be": "UTF-16 BE",
    "utf-32": "UTF-32",
    "gb18030": "GB18030",
    "big5": "Big5",
    "big5hkscs": "Big5-HKSCS",
}

# chardet's names for encodings we support: naming them would not explain a refusal.
_CHINESE_OR_UNICODE = frozenset(
    {"gb18030", "gb2312", "gbk", "big5", "big5hkscs", "cp950", "utf-8", "utf-16", "utf-16le",
     "utf-16be", "utf-32", "ascii"}
)

# Python's reasons for bytes that stop inside a character.
_CUT_OFF = frozenset({"unexpected end of data", "incomplete multibyte sequence", "truncated data"})

# Control characters that text files do not contain (tab, line ends, form
# feed and escape are allowed).
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f]")

_UNSUPPORTED = "not valid text in UTF-8, UTF-16, GB18030 or Big5"


class DecodeError(ValueError):
    """The bytes are not a text file we can read; ``reason`` says why.

    ``error`` is the class of the problem, for filtering rejections:
    ``empty`` (no bytes, or only whitespace), ``binary`` (an image, archive,
    PDF, …), ``mixed_encoding`` (lines in different encodings) or
    ``undecodable`` (no supported encoding reads it).
    """

    def __init__(self, reason: str, error: str = "undecodable"):
        super().__init__(reason)
        self.reason = reason
        self.error = error


@dataclass(frozen=True)
class Decoded:
    """One file's text as stored in the file.

    ``text``: the decoded characters, BOM removed, nothing else changed (CRLF
    kept) — the coordinate system every extracted offset finally points into.
    ``encoding``: canonical lower-case codec name, one of ``utf-8``,
    ``utf-8-sig``, ``utf-16`` (BOM present), ``utf-16-le``, ``utf-16-be``,
    ``utf-32`` (BOM present), ``gb18030``, ``big5``, ``big5hkscs``; decoding
    the file's bytes with it (``utf-8-sig`` strips the mark) gives ``text`` —
    less a character cut off at the very end, if the file was truncated.
    ``had_bom``: whether the file started with a byte-order mark.
    """

    text: str
    encoding: str
    had_bom: bool


def decode_bytes(data: bytes) -> Decoded:
    """Decode a source file's bytes; raise :class:`DecodeError` if they are not text."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise DecodeError(f"expected the file's bytes, got {type(data).__name__}")
    data = bytes(data)
    if not data:
        raise DecodeError("empty file (0 bytes)", "empty")

    for bom, encoding, codec in _BOMS:
        if data.startswith(bom):
            try:
                text = _strict(data[len(bom):], codec)
            except UnicodeDecodeError as exc:
                raise DecodeError(
                    f"starts with a {_LABEL[encoding]} byte-order mark but is not valid "
                    f"{_LABEL[encoding]} (bad bytes at offset {exc.start + len(bom)})"
                ) from None
            if not text:
                raise DecodeError("empty file (only a byte-order mark)", "empty")
            return _checked(Decoded(text, encoding, True))

    kind = binary_kind(data)
    if kind:
        raise DecodeError(f"binary file ({kind}), not text", "binary")

    if b"\x00" in data:
        # ASCII-range characters in UTF-16 carry a zero byte; outside UTF-16 a
        # NUL byte means binary data.
        best = _best_candidate(_utf16_candidates(data))
        if best is not None and best[0] >= MIN_SCORE:
            return _checked(Decoded(best[2], best[1], False))
        raise DecodeError("binary file (contains NUL bytes and is not UTF-16 text), not text", "binary")

    try:
        text = _strict(data, "utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return _checked(_reconsider_utf8(data, text))

    mixed = mixed_encoding_reason(data)
    if mixed:
        raise DecodeError(mixed, "mixed_encoding")

    candidates = _legacy_candidates(data) + _utf16_candidates(data)
    if not candidates:
        raise DecodeError(_UNSUPPORTED + _chardet_hint(data))
    score, encoding, text = _best_candidate(candidates, data)
    # A few characters are too little evidence to refuse on (a file holding
    # just "䶮" is fine), unless chardet recognises Japanese or Korean.
    evidence = sum(1 for ch in text[:SCORE_SAMPLE] if ord(ch) > 0x7F) >= MIN_EVIDENCE
    if (score < MIN_SCORE and evidence) or (
        score < DOUBTFUL_SCORE and _chardet_language(data) in ("ja", "ko")
    ):
        raise DecodeError(
            f"{_UNSUPPORTED}: the best reading ({_LABEL[encoding]}) does not look like Chinese text"
            + _chardet_hint(data)
        )
    return _checked(Decoded(text, encoding, False))


def _strict(data: bytes, codec: str) -> str:
    """Strict decoding that forgives one thing: a character cut off at the very
    end (a truncated download). The partial bytes are left out, never replaced."""
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        if exc.end != len(data) or exc.reason not in _CUT_OFF:
            raise
        return data[: exc.start].decode(codec)


def _reconsider_utf8(data: bytes, text: str) -> Decoded:
    """Valid UTF-8, unless it is really a short GB18030, Big5 or UTF-16 text.

    Two accidents make other encodings valid UTF-8, both only plausible for
    short texts. GBK characters such as 一 (D2 BB) can form two-byte UTF-8, so
    a few of them decode as Cyrillic or Hebrew: suspected when no character is
    beyond U+07FF (real Chinese UTF-8 always has one). And BOM-less UTF-16 of
    Chinese without a single ASCII character has no NUL byte and can be all
    ASCII-range bytes: suspected when control characters make up
    :data:`SUSPICIOUS_CONTROL_SHARE` of the text. A suspect reading that does
    not read as Chinese loses to another that clearly does.
    """
    suspect = (not text.isascii() and max(text) < "\u0800") or (
        _control_count(text) >= SUSPICIOUS_CONTROL_SHARE * len(text)
    )
    if suspect and text_score(text) < MIN_SCORE:
        other = _best_candidate(_legacy_candidates(data) + _utf16_candidates(data), data)
        if other is not None and other[0] >= CONVINCING_SCORE:
            return Decoded(other[2], other[1], False)
    return Decoded(text, "utf-8", False)


def _control_count(text: str) -> int:
    """C0 control characters other than tab, line ends, form feed and escape; and DEL."""
    return len(_CONTROL.findall(text))


def binary_kind(data: bytes) -> str | None:
    """The binary format ``data`` starts with (e.g. ``"PNG image"``), or None."""
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return kind
    if data[:4] == b"RIFF" and data[8:12] in (b"WEBP", b"WAVE", b"AVI "):
        return f"RIFF {data[8:12].decode('ascii').strip()} media"
    if data[4:8] == b"ftyp":
        return "MP4/QuickTime media"
    return None


def text_score(text: str) -> float:
    """How much the non-ASCII part of ``text`` reads like Chinese prose, 0–1.

    Printable ASCII and whitespace are neutral (they decode the same in every
    candidate encoding); text with nothing else scores 1. Per other character:
    common punctuation and :data:`COMMON_HANZI` count 1, other CJK ideographs
    0.3, anything else (Hangul, Yi, private use, box drawing, control
    characters) 0. Only the first :data:`SCORE_SAMPLE` characters are looked at.
    """
    return _score(text)[0]


def _score(text: str) -> tuple[float, int]:
    """(:func:`text_score`, number of characters that were scored)."""
    total = 0.0
    counted = 0
    for ch in text[:SCORE_SAMPLE]:
        o = ord(ch)
        if o < 0x80 and (o >= 0x20 or ch in "\t\n\r\x0b\x0c\x1b") and o != 0x7F:
            continue
        counted += 1
        if ch in COMMON_HANZI or (
            0x3000 <= o <= 0x303F  # CJK punctuation: 、。〈〉《》「」【】
            or 0xFF01 <= o <= 0xFF5E  # full-width ASCII: ，：（）０-９
            or 0x2010 <= o <= 0x2027  # — ‘’ “” … •
            or ch in "\xa0·"
        ):
            total += 1.0
        elif 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0x20000 <= o <= 0x3134F:
            total += 0.3
    return (total / counted if counted else 1.0), counted


def mixed_encoding_reason(data: bytes) -> str | None:
    """If ``data`` (not valid UTF-8 as a whole) has whole lines of UTF-8 Chinese
    among lines that are not UTF-8, say so; else None.

    A line counts as UTF-8 only when it has at least two non-ASCII characters
    and reads as Chinese (:func:`text_score`), because a short run of GBK bytes
    can be valid UTF-8 by accident.
    """
    utf8_lines = 0
    bad_lines: list[int] = []
    for number, line in enumerate(data.split(b"\n"), start=1):
        if line.isascii():
            continue
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            bad_lines.append(number)
            continue
        if sum(1 for ch in text if ord(ch) > 0x7F) >= 2 and text_score(text) >= MIN_SCORE:
            utf8_lines += 1
    if utf8_lines and bad_lines:
        shown = ", ".join(map(str, bad_lines[:5])) + (" …" if len(bad_lines) > 5 else "")
        return (
            f"mixed or corrupted encoding: {utf8_lines} line(s) are UTF-8 but {len(bad_lines)} line(s) "
            f"are not (line {shown}); refusing to guess an encoding per line"
        )
    return None


def _legacy_candidates(data: bytes) -> list[tuple[str, str]]:
    """Strict GB18030 and Big5 (else Big5-HKSCS) decodings that succeed."""
    out = []
    for names in (("gb18030",), ("big5", "big5hkscs")):
        for name in names:
            try:
                out.append((name, _strict(data, name)))
                break
            except UnicodeDecodeError:
                continue
    return out


def _utf16_candidates(data: bytes) -> list[tuple[str, str]]:
    """Strict BOM-less UTF-16 decodings that succeed and contain no NUL (an odd
    last byte is a cut-off character, see :func:`_strict`)."""
    out = []
    for name in ("utf-16-le", "utf-16-be"):
        try:
            text = _strict(data, name)
        except UnicodeDecodeError:
            continue
        if "\x00" not in text:
            out.append((name, text))
    return out


def _best_candidate(
    candidates: list[tuple[str, str]], data: bytes | None = None
) -> tuple[float, str, str] | None:
    """(score, encoding, text) of the best candidate.

    Candidates within :data:`TIE_MARGIN` of the best score are a near-tie.
    Between GB18030 and Big5 (short snippets of characters common to both
    scripts) chardet, given ``data``, decides. Between a legacy reading and
    UTF-16 the reading with more scored characters wins: it explains more of
    the bytes as Chinese (ASCII-range bytes count for nothing in a legacy
    reading). Remaining ties go to the earlier candidate (GB18030, Big5,
    UTF-16): GB18030 is by far the commonest legacy encoding of these reports.
    """
    if not candidates:
        return None
    scored = [(*_score(text), name, text) for name, text in candidates]
    top = max(c[0] for c in scored)
    close = [c for c in scored if c[0] >= top - TIE_MARGIN]
    gb = next((c for c in close if c[2] == "gb18030"), None)
    big5 = next((c for c in close if c[2] in ("big5", "big5hkscs")), None)
    if gb is not None and big5 is not None and data is not None:
        close.remove(gb if _chardet_prefers_big5(data) else big5)
    best = max(close, key=lambda c: c[1])  # first of equals: candidate order
    return best[0], best[2], best[3]


def _chardet_prefers_big5(data: bytes) -> bool:
    try:
        result = chardet.detect(data, include_encodings=["gb18030", "big5"], no_match_encoding="gb18030")
    except Exception:  # chardet is advisory; its failure must not fail decoding
        return False
    return (result.get("encoding") or "").lower() in ("big5", "big5hkscs", "cp950")


def _chardet_language(data: bytes) -> str | None:
    try:
        return chardet.detect(data).get("language")
    except Exception:  # advisory only, see _chardet_prefers_big5
        return None


def _chardet_hint(data: bytes) -> str:
    """`` (it looks like CP932, language 'ja')`` when chardet recognises an
    encoding we do not support, to make a refusal actionable; else ``""``."""
    try:
        result = chardet.detect(data)
    except Exception:  # advisory only, see _chardet_prefers_big5
        return ""
    encoding, language = result.get("encoding"), result.get("language")
    if not encoding or encoding.lower() in _CHINESE_OR_UNICODE:
        return ""
    return f" (it looks like {encoding}" + (f", language '{language}'" if language else "") + ")"


def _checked(decoded: Decoded) -> Decoded:
    """Refuse decoded text that is empty, blank or binary-looking."""
    text = decoded.text
    if not text.strip():
        raise DecodeError("only whitespace, no text", "empty")
    if "\x00" in text:
        raise DecodeError("binary file (contains NUL characters), not text", "binary")
    controls = _control_count(text)
    if controls > 8 and controls > MAX_CONTROL_SHARE * len(text):
        raise DecodeError(f"binary file ({controls} control characters), not text", "binary")
    return decoded
