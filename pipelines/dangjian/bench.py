"""Throughput benchmark: a synthetic corpus, each stage alone, and the whole run.

    python -m dangjian.bench [--sizes 1000,10000] [--out build/bench.json] [--workdir build/bench]

For every size N it

1. writes a synthetic corpus of N articles (:func:`make_corpus`) made by
   recombining the paragraphs of the seed articles in ``raw/``, with numbers,
   place names, script (Simplified/Traditional), encoding and HTML wrapping
   varied, spread over ``batch_000/``, ``batch_001/`` … folders of 500 files;
2. measures, each in a fresh child process so that its peak RSS is its own:
   the OpenCC reference (``decode_bytes`` and ``to_simplified`` over every
   file: the ceiling the pipeline is compared with), then the pipeline's
   stages one by one without Dagster (ingest, ingest in worker processes,
   segments, facts, facts in worker processes, validation of every row and
   then with every outcome reused, release), each reading the previous
   stage's output from Parquet files;
3. runs ``dangjian run`` end to end on a fresh warehouse, then again with
   nothing changed, after adding one file, and after changing a number in
   one file (incremental), the last two ``--repeat`` times each (the median
   is reported: one run moves by a second or more with the machine), with
   the seconds of every Dagster step, so that the growth of a one-file
   re-run from the smallest size to the largest is told step by step;
4. at the largest size, runs ``dangjian run`` once more under cProfile.

Everything goes into one JSON file (``--out``) and an aligned table is
printed. Throughput in MB/s always divides the corpus's raw file bytes
(10^6 bytes to the MB) by the stage's seconds, so stages compare with each
other and with the reference. Peak RSS is in MiB, twice: the largest single
process, and the whole process tree (with worker processes) sampled. The
report also says how much two processes gain over one on this machine
(shared or hyper-threaded cores gain less than 2x), the ceiling for workers.

This module imports only the standard library at the top: the measuring
children import it too, and their peak RSS should show what the stage needs,
not what the benchmark needs.
"""
from __future__ import annotations

import argparse
import codecs
import collections
import html
import json
import math
import os
import platform
import random
import re
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

#: The package's own directory: what counts as "our" code in a profile.
PACKAGE_DIR = Path(__file__).resolve().parent
#: pipelines/dangjian/bench.py → <repository>/raw, where the five seeds are.
DEFAULT_SEED_DIR = Path(__file__).resolve().parents[2] / "raw"
FILES_PER_BATCH = 500
MB = 1_000_000

#: Place names swapped for one another, so that documents differ in their
#: places the way reports from different counties do.
PLACES = ("亭湖区", "海门区", "平凉市", "吴江区", "灵台县", "崆峒区", "盐城市", "南通市", "苏州市")
_PLACE_RE = re.compile("|".join(PLACES))

#: Publishers and sites for the synthetic by-lines and HTML furniture.
PUBLISHERS = ("江海先锋", "人民网-中国共产党新闻网", "甘肃日报", "盐城日报", "南通日报", "苏州日报", "共产党员网")

# Encodings and their shares. Each block of BLOCK documents gets exactly
# these counts, shuffled, so any corpus of BLOCK or more files has the whole
# mix (a test at n=20 sees every encoding) and large corpora have the exact
# shares: 60 % UTF-8, 15 % GB18030, 10 % Big5, 10 % UTF-16 with BOM, 5 %
# UTF-8 with BOM and CRLF line ends.
BLOCK = 20
ENCODING_SLOTS = ("utf-8",) * 12 + ("gb18030",) * 3 + ("big5",) * 2 + ("utf-16-bom",) * 2 + ("utf-8-bom-crlf",)
#: Traditional documents per block: every Big5 one plus four others (30 %).
TRADITIONAL_OTHERS = 4
#: HTML pages per block (15 %).
HTML_PER_BLOCK = 3
assert len(ENCODING_SLOTS) == BLOCK

#: Lines of the seeds that are by-lines, rights statements or page furniture,
#: not article text; repeating them in every synthetic document would be
#: unrealistic (and put dozens of rights statements into one article).
_FURNITURE = ("<", ">", "来源", "责编", "责任编辑", "声明", "扫一扫", "作者", "记者", "原标题", "执笔", "课题组")

_DIGITS_RE = re.compile(r"[0-9０-９]+")
_WAN_YI_RE = re.compile(r"(?<=[0-9０-９])[万亿]")


def _progress(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------
# Corpus
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Pool:
    """The material synthetic documents are made of, all in Simplified script."""

    titles: tuple[str, ...]  # the seeds' titles and section headings
    paragraphs: tuple[str, ...]  # body paragraphs (at least one full sentence)


@dataclass(frozen=True)
class SyntheticDoc:
    """One generated file: where it goes, its text exactly as encoded, its bytes."""

    path: str  # relative to the corpus folder, "/"-separated
    text: str  # what decoding ``data`` must give back (CRLF and all, no BOM)
    data: bytes
    encoding: str  # one of ENCODING_SLOTS, or "utf-8" after a Big5 fallback
    script: str  # "Hans" or "Hant"
    is_html: bool
    big5_fallback: bool = False


@dataclass
class CorpusStats:
    folder: str
    files: int = 0
    bytes: int = 0
    chars: int = 0
    html: int = 0
    traditional: int = 0
    big5_fallbacks: int = 0
    by_encoding: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def load_pool(seed_dir: Path = DEFAULT_SEED_DIR) -> Pool:
    """Split the seed articles into title-like lines and body paragraphs.

    The seeds are decoded and converted to Simplified first, so that script
    is a property the generator chooses per document, not an accident of
    which seed a paragraph came from.
    """
    from dangjian.text.decode import decode_bytes
    from dangjian.text.script import to_simplified

    seeds = sorted(p for p in seed_dir.glob("*.txt") if p.is_file())
    if not seeds:
        raise FileNotFoundError(f"no seed articles (*.txt) in {seed_dir}")
    titles: list[str] = []
    paragraphs: list[str] = []
    for path in seeds:
        text = to_simplified(decode_bytes(path.read_bytes()).text)
        for line in text.splitlines():
            # Non-breaking spaces are layout, and Big5 cannot encode them.
            line = line.replace("\xa0", " ").strip(" \t\u3000•")
            if not line or any(mark in line for mark in _FURNITURE):
                continue
            if "。" in line and len(line) >= 40:
                paragraphs.append(line)
            elif 4 <= len(line) <= 30 and not line.endswith(("。", "……")):
                titles.append(line)
    if not titles or not paragraphs:
        raise ValueError(f"the seeds in {seed_dir} give no titles or no paragraphs")
    return Pool(tuple(titles), tuple(paragraphs))


def _new_number(rng: random.Random, plain: str, before: str, after: str, percent: bool) -> str:
    """Another number of about the same form as ``plain``: years stay years,
    months months, days days, percentages at most 100; other runs keep their
    length (now and then one digit more or less) and their leading zero."""
    width = len(plain)
    if before in (".", "．"):
        return "".join(str(rng.randint(0, 9)) for _ in range(width))  # decimals: any digits
    if percent:
        return str(rng.randint(1, 99))
    if width == 4 and 1949 <= int(plain) <= 2035:
        return str(rng.randint(2000, 2025))
    if after == "月" and width <= 2:
        return str(rng.randint(1, 12)).zfill(width)
    if after in ("日", "号") and width <= 2:
        return str(rng.randint(1, 28)).zfill(width)
    if ":" in (after, before) and width == 2:
        return str(rng.randint(0, 59)).zfill(2)
    if width >= 2 and rng.random() < 0.2:
        width += rng.choice((-1, 1))
    first = "0" if plain[0] == "0" and len(plain) > 1 else str(rng.randint(1, 9))
    return first + "".join(str(rng.randint(0, 9)) for _ in range(width - 1))


_HALF_DIGITS = {cp: cp - 0xFEE0 for cp in range(0xFF10, 0xFF1A)}
# After a number: its decimals, optionally the rest of a range, then a percent sign.
_PERCENT_AFTER_RE = re.compile(r"(?:[.．][0-9０-９]+)?(?:\s*[-~～—–至到]\s*[0-9０-９.．]+)?\s*[%％]")
# Between the two numbers of a range (10-20%, 3至5万, 2019—2021年, 14日至16日).
_RANGE_GAP_RE = re.compile(r"[%％万亿年月日号]?\s*[-~～—–至到]\s*")
_RANGE_NEAR_RE = re.compile(r"[-~～—–至到]")


def _vary_numbers(rng: random.Random, text: str) -> str:
    """Replace every Arabic number with another of the same kind.

    The data must stay plausible, or the pipeline's validation (rightly)
    refuses to publish it: percentages stay within 0–100, and the second
    number of a range stays above the first.
    """
    out: list[str] = []
    pos = 0
    last_value: int | None = None
    last_end = -1
    for m in _DIGITS_RE.finditer(text):
        plain = m.group(0).translate(_HALF_DIGITS)
        before = text[m.start() - 1] if m.start() else ""
        after = text[m.end():m.end() + 1]
        percent = _PERCENT_AFTER_RE.match(text, m.end()) is not None
        new = _new_number(rng, plain, before, after, percent)
        if before not in (".", "．"):
            if last_value is not None and _RANGE_GAP_RE.fullmatch(text, last_end, m.start()):
                low = last_value + 1
                if int(new) < low:
                    new = str(min(low + rng.randint(0, 2), 100) if percent else low + rng.randint(0, 2))
            last_value = int(new)
        last_end = m.end()
        if ord(m.group(0)[0]) > 127:
            new = "".join(chr(0xFF10 + int(d)) for d in new)
        out.append(text[pos:m.start()] + new)
        pos = m.end()
    out.append(text[pos:])
    return "".join(out)


def _swap_wan_yi(rng: random.Random, text: str) -> str:
    """Now and then 万 ↔ 亿 after a number, but never inside a range, where
    it could put the upper bound below the lower one."""

    def swap(m: re.Match) -> str:
        near = text[max(0, m.start() - 12):m.end() + 2]
        if _RANGE_NEAR_RE.search(near) or rng.random() >= 0.25:
            return m.group(0)
        return "亿" if m.group(0) == "万" else "万"

    return _WAN_YI_RE.sub(swap, text)


def _vary(rng: random.Random, text: str) -> str:
    """Vary numbers, 万/亿 and place names of a Simplified text."""
    text = _swap_wan_yi(rng, _vary_numbers(rng, text))
    return _PLACE_RE.sub(lambda m: rng.choice(PLACES), text)


def _body(rng: random.Random, pool: Pool, budget_chars: int) -> list[str]:
    """Paragraphs (and now and then a heading) up to about ``budget_chars``."""
    out: list[str] = []
    used = 0
    while used < budget_chars:
        if out and rng.random() < 0.2:
            out.append(rng.choice(pool.titles))
        para = rng.choice(pool.paragraphs)
        room = budget_chars - used
        if len(para) > room:
            # Cut a long paragraph after a full sentence, so no document is
            # far above its size; keep at least one sentence.
            cut = para.rfind("。", 0, max(room, para.find("。") + 1)) + 1
            para = para[:cut] if cut > 0 else para
        out.append(para)
        used += len(para)
    return out


def _html_page(rng: random.Random, title: str, byline: str | None, body: list[str], charset: str) -> str:
    """Wrap an article as a news-site page: head, script, navigation, footer."""
    site = rng.choice(PUBLISHERS)
    e = html.escape
    paras = "\n".join(f"<p>{e(p)}</p>" for p in body)
    info = f'<div class="info">{e(byline)}</div>\n' if byline else ""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="zh-CN">\n<head>\n'
        f'<meta charset="{charset}">\n'
        f"<title>{e(title)} - {e(site)}</title>\n"
        '<link rel="stylesheet" href="/static/css/main.css">\n'
        '<script type="text/javascript">var _hmt = _hmt || [];(function(){var hm = document.createElement("script");'
        f'hm.src = "https://hm.example.com/hm.js?{rng.getrandbits(64):016x}";'
        'document.getElementsByTagName("head")[0].appendChild(hm);})();</script>\n'
        "</head>\n<body>\n"
        '<div class="nav"><a href="/">首页</a> &gt; <a href="/dj/">党建要闻</a> &gt; <a href="/dj/jc/">基层党建</a></div>\n'
        '<div class="article">\n'
        f"<h1>{e(title)}</h1>\n{info}{paras}\n</div>\n"
        f'<div class="footer"><p>版权所有 {e(site)} 未经授权禁止转载</p>'
        f"<p>备案号:苏ICP备{rng.randint(10_000_000, 99_999_999)}号</p></div>\n"
        "</body>\n</html>\n"
    )


def _encode(text: str, encoding: str, rng: random.Random) -> tuple[str, bytes]:
    """The text as stored (CRLF for that kind) and its bytes. Raises
    UnicodeEncodeError when a legacy encoding cannot hold the text."""
    if encoding == "utf-8":
        return text, text.encode("utf-8")
    if encoding == "gb18030":
        return text, text.encode("gb18030")
    if encoding == "big5":
        return text, text.encode("big5")
    if encoding == "utf-16-bom":
        if rng.random() < 0.5:
            return text, codecs.BOM_UTF16_LE + text.encode("utf-16-le")
        return text, codecs.BOM_UTF16_BE + text.encode("utf-16-be")
    if encoding == "utf-8-bom-crlf":
        text = text.replace("\n", "\r\n")
        return text, codecs.BOM_UTF8 + text.encode("utf-8")
    raise ValueError(f"unknown encoding kind {encoding!r}")


_CHARSET = {"utf-8": "utf-8", "gb18030": "gb18030", "big5": "big5", "utf-16-bom": "utf-16", "utf-8-bom-crlf": "utf-8"}
_BYTES_PER_CHAR = {"utf-8": 3, "gb18030": 2, "big5": 2, "utf-16-bom": 2, "utf-8-bom-crlf": 3}


def _block_plan(seed: int, block: int) -> list[tuple[str, bool, bool]]:
    """(encoding, traditional, html) for each of the BLOCK documents of a block."""
    rng = random.Random(f"plan:{seed}:{block}")
    encodings = list(ENCODING_SLOTS)
    rng.shuffle(encodings)
    others = [i for i, enc in enumerate(encodings) if enc != "big5"]
    traditional = {i for i, enc in enumerate(encodings) if enc == "big5"} | set(rng.sample(others, TRADITIONAL_OTHERS))
    html_slots = set(rng.sample(range(BLOCK), HTML_PER_BLOCK))
    return [(enc, i in traditional, i in html_slots) for i, enc in enumerate(encodings)]


_CONVERTERS: dict[str, object] = {}


def _to_traditional(text: str, config: str) -> str:
    if config not in _CONVERTERS:
        import opencc

        _CONVERTERS[config] = opencc.OpenCC(config)
    return _CONVERTERS[config].convert(text)


def make_document(pool: Pool, i: int, seed: int = 0) -> SyntheticDoc:
    """Synthetic document number ``i``: the same ``(pool, i, seed)``, the same bytes.

    Each document has its own ``random.Random`` derived from ``seed`` and
    ``i``, so one document can be made again without making the others (the
    tests and the incremental measurement do).
    """
    encoding, traditional, is_html = _block_plan(seed, i // BLOCK)[i % BLOCK]
    rng = random.Random(f"doc:{seed}:{i}")
    # Characters of article text for a file of 2–12 KB; an HTML page's
    # markup takes about 650 characters of that.
    budget = max(300, rng.randint(2_000, 12_000) // _BYTES_PER_CHAR[encoding] - (650 if is_html else 0))

    title = rng.choice(pool.titles)
    if rng.random() < 0.3:
        title = f"{rng.choice(PLACES)}:{title}"
    byline = None
    if rng.random() < 0.5:
        byline = f"来源:{rng.choice(PUBLISHERS)} 发布时间:{rng.randint(2015, 2025)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    # Varied before any markup is added: the digits of "utf-8" or a script
    # are not the article's numbers.
    title = _vary(rng, title)
    body = [_vary(rng, p) for p in _body(rng, pool, budget - len(title))]

    if is_html:
        text = _html_page(rng, title, byline, body, _CHARSET[encoding])
    else:
        indent = rng.choice(("", "", "    ", "\u3000\u3000"))
        gap = "\n\n" if rng.random() < 0.4 else "\n"
        lines = [title] + ([byline] if byline else []) + [indent + p for p in body]
        text = gap.join(lines) + "\n"
    if traditional:
        # Big5 needs the Taiwan standard forms (为 → 為, not OpenCC's 爲).
        text = _to_traditional(text, "s2twp" if encoding == "big5" or rng.random() < 0.5 else "s2t")

    fallback = False
    try:
        stored, data = _encode(text, encoding, rng)
    except UnicodeEncodeError:
        # A character Big5 lacks: store the document as UTF-8 instead, never
        # as bytes that decode to something else.
        fallback, encoding = True, "utf-8"
        stored, data = _encode(text, encoding, rng)
    suffix = ".html" if is_html else ".txt"
    path = f"batch_{i // FILES_PER_BATCH:03d}/doc_{i:06d}{suffix}"
    return SyntheticDoc(path, stored, data, encoding, "Hant" if traditional else "Hans", is_html, fallback)


def make_corpus(folder: Path, n: int, seed: int = 0, seed_dir: Path = DEFAULT_SEED_DIR) -> CorpusStats:
    """Write ``n`` synthetic documents under ``folder``, one file at a time.

    Deterministic: the same ``n`` and ``seed`` give the same bytes. Nothing
    but the counts is kept in memory, so the corpus may be as large as the
    disk allows.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    pool = load_pool(seed_dir)
    stats = CorpusStats(folder=str(folder))
    by_encoding: collections.Counter[str] = collections.Counter()
    started = last = time.monotonic()
    for i in range(n):
        doc = make_document(pool, i, seed)
        target = folder / doc.path
        target.parent.mkdir(exist_ok=True)
        target.write_bytes(doc.data)
        stats.files += 1
        stats.bytes += len(doc.data)
        stats.chars += len(doc.text)
        stats.html += doc.is_html
        stats.traditional += doc.script == "Hant"
        stats.big5_fallbacks += doc.big5_fallback
        by_encoding[doc.encoding] += 1
        now = time.monotonic()
        if now - last >= 2 or i + 1 == n:
            _progress(f"corpus: {i + 1}/{n} files, {stats.bytes / MB:.1f} MB, {(i + 1) / (now - started):.0f} files/s")
            last = now
    stats.by_encoding = dict(sorted(by_encoding.items()))
    stats.seconds = time.monotonic() - started
    return stats


# ---------------------------------------------------------------------------
# Stages, each run in a child process (child_main)
# ---------------------------------------------------------------------------


def _corpus_files(corpus: Path) -> list[Path]:
    from dangjian.sources import list_paths

    return [p for p in list_paths(corpus) if p.is_file()]


def _stage_reference(corpus: Path, stage_dir: Path) -> dict:
    """decode_bytes and to_simplified over every file, timed apart; and
    OpenCC's own convert (no length check, no overrides) as the bare ceiling."""
    import opencc

    from dangjian.text.decode import DecodeError, decode_bytes
    from dangjian.text.script import DEFAULT_CONFIG, to_simplified

    bare = opencc.OpenCC(DEFAULT_CONFIG).convert
    read_s = decode_s = opencc_s = bare_s = 0.0
    docs = size = chars = failed = 0
    detected: collections.Counter[str] = collections.Counter()
    to_simplified("預熱")  # load the dictionaries before the clock starts
    for path in _corpus_files(corpus):
        t0 = time.perf_counter()
        data = path.read_bytes()
        t1 = time.perf_counter()
        try:
            decoded = decode_bytes(data)
        except DecodeError:
            failed += 1
            continue
        t2 = time.perf_counter()
        to_simplified(decoded.text)
        t3 = time.perf_counter()
        bare(decoded.text)
        t4 = time.perf_counter()
        read_s += t1 - t0
        decode_s += t2 - t1
        opencc_s += t3 - t2
        bare_s += t4 - t3
        docs += 1
        size += len(data)
        chars += len(decoded.text)
        detected[decoded.encoding] += 1
    return {"docs": docs, "bytes": size, "chars": chars, "seconds": opencc_s, "read_s": read_s, "decode_s": decode_s,
            "opencc_s": opencc_s, "opencc_bare_s": bare_s, "undecodable": failed, "decoded_as": dict(detected)}


def _save(stage_dir: Path, tables: dict) -> None:
    import pyarrow.parquet as pq

    stage_dir.mkdir(parents=True, exist_ok=True)
    for name, data in tables.items():
        pq.write_table(data, stage_dir / f"{name}.parquet")


def _load(stage_dir: Path, table, columns: list[str] | None = None):
    """A stage's saved table, typed by the data dictionary."""
    import pyarrow.parquet as pq

    data = pq.read_table(stage_dir / f"{table.name}.parquet", columns=columns)
    if columns is None:
        data = data.cast(table.arrow_schema)
    return data


PLACE_ANALYSES = "place_analyses"  # a stage file beside the tables, not a table


def _stage_ingest(corpus: Path, stage_dir: Path) -> dict:
    from dangjian import incremental as inc
    from dangjian.ingest import ingest_folder
    from dangjian.schema import DOCUMENTS, REJECTED_FILES, SOURCE_FILES
    from dangjian.warehouse import to_arrow

    t0 = time.perf_counter()
    result = ingest_folder(corpus, progress=_progress)
    ingest_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    tables = {t.name: to_arrow(t, getattr(result, t.name)) for t in (SOURCE_FILES, DOCUMENTS, REJECTED_FILES)}
    arrow_s = time.perf_counter() - t0
    # The place analyses ingest keeps for facts (state.place_analyses in a run)
    tables[PLACE_ANALYSES] = inc.place_analyses_table(result.documents)
    _save(stage_dir, tables)
    reasons = collections.Counter(r["reason"] for r in result.rejected_files)
    return {"docs": len(result.documents), "files": len(result.source_files),
            "bytes": sum(d["size_bytes"] for d in result.documents), "chars": sum(d["source_chars"] for d in result.documents),
            "seconds": ingest_s, "to_arrow_s": arrow_s, "rejected": len(result.rejected_files),
            "rejected_reasons": dict(reasons.most_common(10)),
            "scripts": dict(collections.Counter(d["script"] for d in result.documents)),
            "encodings": dict(collections.Counter(d["encoding"] for d in result.documents)),
            "html": sum(d["is_html"] for d in result.documents)}


def _stage_ingest_workers(corpus: Path, stage_dir: Path) -> dict:
    """Ingest reading in worker processes (one per CPU), as the ingest asset
    does; nothing is saved, the one-process stage's tables feed the next."""
    from dangjian import incremental as inc
    from dangjian.ingest import ingest_folder

    t0 = time.perf_counter()
    result = ingest_folder(corpus, progress=_progress, batch_size=inc.batch_size(), workers=0)
    seconds = time.perf_counter() - t0
    return {"docs": len(result.documents), "seconds": seconds, "workers": result.workers,
            "rejected": len(result.rejected_files)}


def _stage_segments(corpus: Path, stage_dir: Path) -> dict:
    from dangjian.defs.documents.assets import DOC_TEXT_COLUMNS
    from dangjian.document import DocText, paragraph_rows, sentence_rows
    from dangjian.schema import DOCUMENTS, PARAGRAPHS, SENTENCES
    from dangjian.warehouse import to_arrow

    t0 = time.perf_counter()
    rows = _load(stage_dir, DOCUMENTS, DOC_TEXT_COLUMNS).to_pylist()
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    docs = [DocText.from_row(r) for r in rows]
    paragraphs = [p for d in docs for p in paragraph_rows(d)]
    sentences = [s for d in docs for s in sentence_rows(d)]
    segment_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    tables = {PARAGRAPHS.name: to_arrow(PARAGRAPHS, paragraphs), SENTENCES.name: to_arrow(SENTENCES, sentences)}
    arrow_s = time.perf_counter() - t0
    _save(stage_dir, tables)
    return {"docs": len(docs), "seconds": segment_s, "load_s": load_s, "to_arrow_s": arrow_s,
            "paragraphs": len(paragraphs), "sentences": len(sentences)}


def facts_batch(docs, sentences) -> list:
    """Rows of every fact table for a batch of documents and their sentences
    (Arrow in, Arrow out), by the ``facts`` asset's own batch function.
    Module-level, so a worker process can run it."""
    from dangjian.defs.extracted.assets import FACT_TABLES
    from dangjian.document import DocText, fact_rows
    from dangjian.warehouse import to_arrow

    rows = fact_rows([DocText.from_row(r) for r in docs.to_pylist()], {"sentences": sentences})
    return [to_arrow(t, r) for t, r in zip(FACT_TABLES, rows)]


def _facts_batches(stage_dir: Path, size: int):
    """(documents, their sentences) per batch of ``size`` documents, as the
    facts asset gets them: each document with the place analysis ingest
    kept, in ingest's order.

    The documents are read from the stage file a batch at a time, so the
    harness holds one batch's text, not the corpus's (its facts stage with
    workers peaked at 2,036 MiB for the tree at 10,000 documents when it
    held all of it). Each batch is its own copy: a worker gets its inputs
    pickled, and a pickled Arrow slice carries its parent's whole buffers
    (pyarrow 26), which once shipped every 250-document batch all 10,000
    documents' text (263 MB)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from dangjian.defs.documents.assets import DOC_TEXT_COLUMNS
    from dangjian.schema import SENTENCES
    from dangjian.warehouse import regroup

    kept_path = stage_dir / f"{PLACE_ANALYSES}.parquet"
    kept = pq.read_table(kept_path) if kept_path.exists() else None
    sentences = _load(stage_dir, SENTENCES, ["doc_id", "sentence_id", "start", "end"])
    parts = pq.ParquetFile(stage_dir / "documents.parquet").iter_batches(batch_size=size, columns=DOC_TEXT_COLUMNS)
    for held in regroup(parts, size):
        docs = pa.Table.from_batches(held).combine_chunks()
        if kept is not None and kept.num_rows:
            docs = docs.append_column("_at", pa.array(range(docs.num_rows), pa.int64()))
            docs = docs.join(kept, "doc_id", join_type="left outer").sort_by("_at").drop_columns(["_at"])
        yield docs, sentences.filter(pc.is_in(sentences["doc_id"], value_set=docs["doc_id"]))


def _stage_facts(corpus: Path, stage_dir: Path) -> dict:
    """The facts stage in this process, one batch after another."""
    from dangjian import incremental as inc
    from dangjian.defs.extracted.assets import FACT_TABLES

    size = inc.batch_size()
    t0 = time.perf_counter()
    parts, docs, load_s = [], 0, 0.0
    batches = _facts_batches(stage_dir, size)
    while True:
        t1 = time.perf_counter()
        job = next(batches, None)
        load_s += time.perf_counter() - t1  # reading the inputs, not timed as facts
        if job is None:
            break
        docs += job[0].num_rows
        parts.append(facts_batch(*job))
    facts_s = time.perf_counter() - t0 - load_s
    import pyarrow as pa

    tables = {t.name: pa.concat_tables([p[k] for p in parts]) if parts else t.arrow_schema.empty_table()
              for k, t in enumerate(FACT_TABLES)}
    _save(stage_dir, tables)
    return {"docs": docs, "seconds": facts_s, "load_s": load_s,
            "rows": {name: t.num_rows for name, t in tables.items()}}


def _stage_facts_workers(corpus: Path, stage_dir: Path) -> dict:
    """The facts stage in batches of 500 documents on worker processes (one
    per CPU), as ``update_per_document`` runs the facts asset."""
    from dangjian import incremental as inc

    workers = inc.worker_count()
    size = inc.batch_size()
    t0 = time.perf_counter()

    rows: dict[str, int] = collections.Counter()
    from dangjian.defs.extracted.assets import FACT_TABLES

    docs = 0

    def jobs():
        nonlocal docs
        for job in _facts_batches(stage_dir, size):
            docs += job[0].num_rows
            yield job

    for found in inc.ordered_map(facts_batch, jobs(), workers):
        for t, data in zip(FACT_TABLES, found):
            rows[t.name] += data.num_rows
    seconds = time.perf_counter() - t0
    return {"docs": docs, "seconds": seconds, "workers": workers, "rows": dict(rows)}


def _stage_validation(corpus: Path, stage_dir: Path) -> dict:
    """``validate_warehouse`` over a working database holding the stages'
    tables: the first pass validates every row (what a clean run pays, once),
    the second finds every outcome by fingerprint (what the release gate and
    an unchanged re-run pay)."""
    from dangjian.schema import DOCUMENTS, TABLES
    from dangjian.warehouse import VALIDATION_CACHE, connect, write_table

    warehouse_dir = stage_dir / "validation_warehouse"
    shutil.rmtree(warehouse_dir, ignore_errors=True)
    (warehouse_dir / "work").mkdir(parents=True)
    # The tables the stages made, and the gazetteer the places' codes point
    # into (not term_diffusion, which summarises across documents).
    from dangjian.reference.gazetteer import load_admin_divisions
    from dangjian.schema import ADMIN_DIVISIONS

    made = [t for t in TABLES if (stage_dir / f"{t.name}.parquet").exists() or t is ADMIN_DIVISIONS]
    t0 = time.perf_counter()
    with connect(warehouse_dir) as con:
        for t in made:
            write_table(con, t, load_admin_divisions() if t is ADMIN_DIVISIONS else _load(stage_dir, t))
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    import great_expectations  # noqa: F401  (timed on its own: the first validation pays it)

    ge_import_s = time.perf_counter() - t0
    from dangjian.validate import validate_warehouse

    with connect(warehouse_dir, read_only=True) as con:
        t0 = time.perf_counter()
        names = [t.name for t in made]
        results = validate_warehouse(con, warehouse_dir / VALIDATION_CACHE, names, log=_progress)
        validate_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        validate_warehouse(con, warehouse_dir / VALIDATION_CACHE, names)
        reuse_s = time.perf_counter() - t0
    failed = {name: [f"{o.expectation}({o.column})" for o in r.failed_critical] for name, r in results.items() if r.failed_critical}
    warnings = {name: [f"{o.expectation}({o.column})" for o in r.failed_warnings] for name, r in results.items() if r.failed_warnings}
    return {"docs": results[DOCUMENTS.name].rows, "seconds": validate_s, "reuse_s": reuse_s, "ge_import_s": ge_import_s,
            "load_s": load_s, "rows": {name: r.rows for name, r in results.items()}, "success": not failed,
            "failed_critical": failed, "failed_warnings": warnings}


def _stage_release(corpus: Path, stage_dir: Path) -> dict:
    from dangjian.release import publish
    from dangjian.schema import DOCUMENTS, TABLES
    from dangjian.warehouse import connect, write_table

    warehouse_dir = stage_dir / "release_warehouse"
    shutil.rmtree(warehouse_dir, ignore_errors=True)
    (warehouse_dir / "work").mkdir(parents=True)
    with connect(warehouse_dir) as con:
        t0 = time.perf_counter()
        # One table in memory at a time, as the pipeline's stages leave them
        # in the working database; tables no stage here makes (the
        # gazetteer, term_diffusion) are released empty.
        for t in TABLES:
            saved = stage_dir / f"{t.name}.parquet"
            write_table(con, t, _load(stage_dir, t) if saved.exists() else t.arrow_schema.empty_table())
        write_s = time.perf_counter() - t0
        docs = con.execute(f"SELECT count(*) FROM {DOCUMENTS.qualified}").fetchone()[0]
        t0 = time.perf_counter()
        info = publish(con, warehouse_dir)
        publish_s = time.perf_counter() - t0
    release_bytes = sum(p.stat().st_size for p in info.path.iterdir() if p.is_file())
    return {"docs": docs, "seconds": publish_s, "db_write_s": write_s, "version": info.version,
            "rows": info.rows, "release_bytes": release_bytes}


STAGES = {
    "reference": _stage_reference,
    "ingest": _stage_ingest,
    "ingest_workers": _stage_ingest_workers,
    "segments": _stage_segments,
    "facts": _stage_facts,
    "facts_workers": _stage_facts_workers,
    "validation": _stage_validation,
    "release": _stage_release,
}


def child_main(argv: list[str]) -> int:
    """Entry point of a measuring child: ``STAGE CORPUS STAGE_DIR RESULT_JSON``."""
    stage, corpus, stage_dir, result_path = argv
    result = STAGES[stage](Path(corpus), Path(stage_dir))
    Path(result_path).write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")
    return 0


# ---------------------------------------------------------------------------
# Running children and measuring them
# ---------------------------------------------------------------------------


@dataclass
class ChildRun:
    returncode: int
    wall_s: float
    peak_rss_mib: float  # the largest single process of the tree
    stdout: str
    stderr_tail: list[str]
    peak_tree_rss_mib: float = 0.0  # the whole tree at once (the child and its worker processes), sampled
    peak_tree_at_s: float | None = None  # when the tree's peak was sampled, seconds after the child started
    peak_tree_processes_mib: list[float] = field(default_factory=list)  # each process's share of it, largest first

    def memory(self) -> dict:
        """The memory figures a result carries."""
        return {"peak_rss_mib": self.peak_rss_mib, "peak_tree_rss_mib": self.peak_tree_rss_mib,
                "peak_tree_at_s": self.peak_tree_at_s, "peak_tree_processes_mib": self.peak_tree_processes_mib}


def _tree_rss(root: int) -> list[float]:
    """Resident memory (MiB) of each of ``root`` and its descendants now,
    largest first, from /proc (Linux; empty elsewhere). Which processes make
    a peak says which part of a run it fell in: the step's process alone,
    or with the worker processes of ingest, segments or facts."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry)] = int(fields[1])
        rss[int(entry)] = int(fields[21])  # pages
    tree, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        children = [c for c, p in parents.items() if p == pid and c not in tree]
        tree.update(children)
        frontier.extend(children)
    page = os.sysconf("SC_PAGE_SIZE") / (1024 * 1024)
    return sorted((rss[pid] * page for pid in tree if pid in rss), reverse=True)


def _burn(n: int) -> float:
    started = time.perf_counter()
    total = 0
    for i in range(n):
        total += i * i
    return time.perf_counter() - started


def parallel_speedup(n: int = 10_000_000) -> dict:
    """How much faster two CPU-bound processes finish two jobs than one does:
    2.0 on two free cores, less on shared or hyper-threaded ones. The
    workers' gain in this run cannot exceed it."""
    from concurrent.futures import ProcessPoolExecutor

    one = _burn(n)
    with ProcessPoolExecutor(2) as pool:
        list(pool.map(_burn, [1000, 1000]))  # start both first
        started = time.perf_counter()
        list(pool.map(_burn, [n, n]))
        two = time.perf_counter() - started
    return {"one_job_s": one, "two_jobs_in_parallel_s": two, "speedup": 2 * one / two}


def _spawn(cmd: list[str], label: str, stdout_path: Path) -> ChildRun:
    """Run ``cmd``, pass its standard error through (prefixed with ``label``),
    and return its wall time and its own peak RSS.

    ``os.wait4`` reports the resources of exactly this child (and what it
    waited for), so every measurement's peak RSS is its own, not the
    maximum over all children so far as RUSAGE_CHILDREN would be.
    """
    env = dict(os.environ)
    # No DAGSTER_HOME: `dangjian run` then uses a throwaway Dagster instance,
    # so benchmark runs stay out of the history `make ui` shows.
    env.pop("DAGSTER_HOME", None)
    tail: collections.deque[str] = collections.deque(maxlen=60)
    stdout_path.parent.mkdir(parents=True, exist_ok=True)
    with stdout_path.open("wb") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.PIPE, env=env)

        def forward() -> None:
            for raw in proc.stderr:
                line = raw.decode("utf-8", "replace").rstrip("\n")
                tail.append(line)
                print(f"  [{label}] {line}", file=sys.stderr, flush=True)

        reader = threading.Thread(target=forward, daemon=True)
        reader.start()
        peak: dict = {"mib": 0.0, "at_s": None, "processes": []}
        running = threading.Event()
        running.set()

        def sample() -> None:
            while running.is_set():
                processes = _tree_rss(proc.pid)
                total = sum(processes)
                if total > peak["mib"]:
                    peak.update(mib=total, at_s=time.perf_counter() - started, processes=processes)
                time.sleep(0.25)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        running.clear()
        sampler.join()
        reader.join()
        proc.stderr.close()
    # wait4 reaped the child; tell Popen, so it does not wait for it again.
    proc.returncode = os.waitstatus_to_exitcode(status)
    # ru_maxrss is in KiB on Linux, in bytes on macOS.
    rss = usage.ru_maxrss / (1024 * 1024) if sys.platform == "darwin" else usage.ru_maxrss / 1024
    return ChildRun(proc.returncode, wall, rss, stdout_path.read_text(encoding="utf-8", errors="replace"), list(tail),
                    peak["mib"], peak["at_s"], [round(m, 1) for m in peak["processes"]])


def run_stage(stage: str, corpus: Path, stage_dir: Path) -> dict:
    """Run one stage in a fresh Python process and return its figures.

    ``seconds`` is the stage's own time (measured inside the child, without
    interpreter start-up, imports and loading the previous stage's output);
    ``wall_s`` is the child's whole life; ``peak_rss_mib`` its peak memory.
    On failure the result has ``error`` and the end of the child's stderr.
    """
    stage_dir = Path(stage_dir)
    stage_dir.mkdir(parents=True, exist_ok=True)
    result_path = stage_dir / f"{stage}.result.json"
    result_path.unlink(missing_ok=True)
    cmd = [sys.executable, "-c", "import sys; from dangjian.bench import child_main; sys.exit(child_main(sys.argv[1:]))",
           stage, str(corpus), str(stage_dir), str(result_path)]
    _progress(f"stage {stage}: {corpus}")
    run = _spawn(cmd, stage, stage_dir / f"{stage}.stdout.txt")
    if run.returncode != 0 or not result_path.exists():
        return {"error": f"exit status {run.returncode}", "stderr_tail": run.stderr_tail,
                "wall_s": run.wall_s, "peak_rss_mib": run.peak_rss_mib}
    result = json.loads(result_path.read_text(encoding="utf-8"))
    result.update(wall_s=run.wall_s, **run.memory())
    _progress(f"stage {stage}: {result['seconds']:.2f}s, peak RSS {run.peak_rss_mib:.0f} MiB")
    return result


def _peak_where(at_s: float | None, processes: list[float]) -> str:
    """When the tree's peak fell and what it was made of: " at 121 s: 1106 + 318 + 309" (MiB, largest first)."""
    if at_s is None:
        return ""
    return f" at {at_s:.0f} s: " + " + ".join(f"{m:.0f}" for m in _sizeable(processes))


def _sizeable(processes: list[float]) -> list[float]:
    """The processes worth naming in a peak: multiprocessing's helpers hold a few MiB."""
    return [m for m in processes if m >= 20]


_SUMMARY_RE = re.compile(r"^release (\S+) \((new|unchanged)\) in ([0-9.]+)s", re.MULTILINE)
_STEP_ITEM_RE = re.compile(r"(\S+) ([0-9.]+)s(?:, |$)")


def parse_step_times(stdout: str) -> dict[str, float]:
    """The seconds per Dagster step that ``dangjian run`` prints last
    (``cli.STEP_TIMES_LABEL``); empty if it printed none."""
    from dangjian.cli import STEP_TIMES_LABEL

    for line in reversed(stdout.splitlines()):
        line = line.strip()
        if line.startswith(STEP_TIMES_LABEL):
            return {m.group(1): float(m.group(2)) for m in _STEP_ITEM_RE.finditer(line[len(STEP_TIMES_LABEL):].strip())}
    return {}


def run_cli(corpus: Path, warehouse_dir: Path, label: str, profile_path: Path | None = None) -> dict:
    """``dangjian run`` in a child process; with ``profile_path``, under cProfile."""
    if profile_path is None:
        cmd = [sys.executable, "-m", "dangjian.cli"]
    else:
        cmd = [sys.executable, "-m", "cProfile", "-o", str(profile_path), "-m", "dangjian.cli"]
    cmd += ["run", "--raw-dir", str(corpus), "--warehouse-dir", str(warehouse_dir), "--log-level", "WARNING"]
    _progress(f"{label}: dangjian run over {corpus}")
    run = _spawn(cmd, label, warehouse_dir.parent / f"{warehouse_dir.name}.{label}.stdout.txt")
    result = {"seconds": run.wall_s, **run.memory(), "returncode": run.returncode,
              "summary": run.stdout.strip().splitlines()}
    m = _SUMMARY_RE.search(run.stdout)
    if run.returncode != 0 or m is None:
        result.update(error=f"exit status {run.returncode}", stderr_tail=run.stderr_tail)
    else:
        result.update(version=m.group(1), new_release=m.group(2) == "new", run_s=float(m.group(3)),
                      steps=parse_step_times(run.stdout))
    _progress(f"{label}: {run.wall_s:.1f}s, peak RSS {run.peak_rss_mib:.0f} MiB "
              f"(process tree {run.peak_tree_rss_mib:.0f} MiB{_peak_where(run.peak_tree_at_s, run.peak_tree_processes_mib)}), exit {run.returncode}")
    return result


def change_one_number(text: str) -> str:
    """``text`` with its first Arabic number after the first line changed to
    another of the same length (so the edit touches one number only)."""
    start = text.find("\n") + 1
    m = _DIGITS_RE.search(text, start) or _DIGITS_RE.search(text)
    if m is None:
        raise ValueError("the document has no Arabic number to change")
    digits = m.group(0)
    last = digits[-1]
    zero = "０" if ord(last) > 127 else "0"
    bumped = chr(ord(zero) + (ord(last) - ord(zero) + 1) % 10)
    return text[:m.end() - 1] + bumped + text[m.end():]


def profile_summary(path: Path, top: int = 15) -> dict:
    """The ``top`` functions by cumulative and by own time from a cProfile file."""
    import pstats

    stats = pstats.Stats(str(path))

    def ours(file: str) -> bool:
        # By location, not by a "/dangjian/" in the path: a clone is usually
        # named dangjian too, and its .venv holds Dagster, DuckDB and GE.
        return Path(file).is_absolute() and Path(file).resolve().is_relative_to(PACKAGE_DIR)

    def rows(index: int, only_ours: bool = False) -> list[dict]:
        items = [kv for kv in stats.stats.items() if not only_ours or ours(kv[0][0])]
        items = sorted(items, key=lambda kv: kv[1][index], reverse=True)[:top]
        return [
            {"function": f"{'/'.join(Path(file).parts[-2:])}:{line}({func})" if line else func, "file": file,
             "ncalls": nc, "tottime_s": round(tt, 3), "cumtime_s": round(ct, 3)}
            for (file, line, func), (cc, nc, tt, ct, _callers) in items
        ]

    # Cumulative time is led by the wrappers every call passes through
    # (runpy, the CLI, Dagster's executor); the pipeline's own functions by
    # cumulative time, and everything by own time, say where the work is.
    return {"total_s": round(stats.total_tt, 3), "top_cumulative": rows(3), "top_cumulative_dangjian": rows(3, True),
            "top_tottime": rows(2)}


# ---------------------------------------------------------------------------
# One size, the table, the command line
# ---------------------------------------------------------------------------


def bench_size(n: int, workdir: Path, seed: int = 0, profile: bool = False, repeat: int = 3) -> dict:
    """Every measurement for a corpus of ``n`` documents, in ``workdir/n<N>/``."""
    base = Path(workdir) / f"n{n}"
    shutil.rmtree(base, ignore_errors=True)  # a fresh corpus and fresh warehouses every time
    corpus, stage_dir = base / "corpus", base / "stages"
    _progress(f"n={n}: writing the corpus to {corpus}")
    stats = make_corpus(corpus, n, seed)
    out: dict = {"n": n, "corpus": asdict(stats), "stages": {}}
    for stage in STAGES:
        out["stages"][stage] = run_stage(stage, corpus, stage_dir)

    warehouse = base / "warehouse"
    out["e2e"] = run_cli(corpus, warehouse, "e2e")
    if profile:
        prof_path = base / "e2e.prof"
        out["e2e_profiled"] = run_cli(corpus, base / "warehouse_profiled", "e2e-profiled", prof_path)
        if prof_path.exists():
            out["profile"] = profile_summary(prof_path)

    # Incremental: nothing changed, then ``repeat`` times one new file, then
    # ``repeat`` times one number changed in an existing file, each followed
    # by a run on the same warehouse as the end-to-end run.
    unchanged = run_cli(corpus, warehouse, "incr-none")
    pool = load_pool()
    added = []
    for k in range(repeat):
        new = make_document(pool, n + k, seed)
        (corpus / new.path).parent.mkdir(exist_ok=True)
        (corpus / new.path).write_bytes(new.data)
        added.append(run_cli(corpus, warehouse, f"incr-add-{k + 1}"))
        added[-1].update(path=new.path, bytes=len(new.data))
    # Plain UTF-8 files, a different one each time: each edit is exactly one changed digit.
    plain = (d for d in (make_document(pool, i, seed) for i in range(n)) if d.encoding == "utf-8")
    changed = []
    for k, old in zip(range(repeat), plain):
        (corpus / old.path).write_bytes(change_one_number(old.text).encode("utf-8"))
        changed.append(run_cli(corpus, warehouse, f"incr-change-{k + 1}"))
        changed[-1].update(path=old.path)
    out["incremental"] = {"unchanged": unchanged, "add_one": _median_run(added), "change_one": _median_run(changed),
                          "add_one_runs": added, "change_one_runs": changed}

    ref = out["stages"]["reference"]
    e2e = out["e2e"]
    if "error" not in ref and "error" not in e2e and ref["seconds"] > 0:
        out["ratio_vs_opencc"] = (stats.bytes / e2e["seconds"]) / (ref["bytes"] / ref["seconds"])
    out["table"] = table_rows(out)
    return out


def _median_run(runs: list[dict]) -> dict:
    """The run of median seconds among ``runs`` (the lower middle of an even
    count), with every run's seconds beside it; a failed run if any failed."""
    failed = [r for r in runs if "error" in r]
    if failed or not runs:
        return failed[0] if failed else {"error": "no run"}
    return {**_median(runs, key=lambda r: r["seconds"]), "runs_s": [r["seconds"] for r in runs]}


def _median(items: list, key=None):
    """The lower median of ``items`` (by ``key``): always one of them, a measured value."""
    return sorted(items, key=key)[(len(items) - 1) // 2]


def incremental_growth(report: dict, kind: str = "add_one", top: int = 8) -> dict | None:
    """How a one-file re-run (``kind``: add_one or change_one) grows from the
    smallest benchmarked size to the largest: the median seconds of its runs
    at each, their ratio, and per Dagster step the median seconds at each and
    the difference, largest growth first (``top`` of them). None with fewer
    than two sizes, or without step times."""
    sizes = sorted(int(n) for n in report["sizes"])
    if len(sizes) < 2:
        return None
    runs = {}
    for n in (sizes[0], sizes[-1]):
        inc = report["sizes"][str(n)].get("incremental", {})
        found = inc.get(f"{kind}_runs") or ([inc[kind]] if kind in inc else [])
        found = [r for r in found if "error" not in r and r.get("steps")]
        if not found:
            return None
        runs[n] = found
    small, large = sizes[0], sizes[-1]
    wall = {n: _median([r["seconds"] for r in runs[n]]) for n in (small, large)}
    names = {k for n in (small, large) for r in runs[n] for k in r["steps"]}
    steps = []
    for name in names:
        a = _median([r["steps"].get(name, 0.0) for r in runs[small]])
        b = _median([r["steps"].get(name, 0.0) for r in runs[large]])
        steps.append({"step": name, f"n{small}_s": a, f"n{large}_s": b, "growth_s": b - a})
    steps.sort(key=lambda d: -d["growth_s"])
    return {"kind": kind, "from": small, "to": large, "runs": {str(n): len(runs[n]) for n in runs},
            f"n{small}_s": wall[small], f"n{large}_s": wall[large], "ratio": wall[large] / wall[small],
            "steps_sum_growth_s": sum(d["growth_s"] for d in steps), "steps": steps[:top]}


def _secs(run: dict) -> str:
    if "error" in run:
        return "FAILED"
    runs = run.get("runs_s") or [run["seconds"]]
    return f"{run['seconds']:.1f}s" + (f" ({', '.join(f'{x:.1f}' for x in runs)})" if len(runs) > 1 else "")


def format_growth(g: dict) -> str:
    a, b = g["from"], g["to"]
    label = {"add_one": "+1 file", "change_one": "1 file changed"}[g["kind"]]
    lines = [f"re-run, {label}, n={a} → n={b} (median of {g['runs'][str(a)]} and {g['runs'][str(b)]} runs): "
             f"{g[f'n{a}_s']:.1f}s → {g[f'n{b}_s']:.1f}s ({g['ratio']:.2f}x); the steps together "
             f"{g['steps_sum_growth_s']:+.2f}s, the most:"]
    for d in g["steps"]:
        lines.append(f"  {d['step']:45s} {d[f'n{a}_s']:7.2f}s → {d[f'n{b}_s']:7.2f}s  {d['growth_s']:+.2f}s")
    return "\n".join(lines)


def _row(stage: str, docs: int, size: int, seconds: float | None, rss: float | None, tree_rss: float | None = None) -> dict:
    ok = seconds is not None and seconds > 0
    return {"stage": stage, "docs_per_s": docs / seconds if ok else None, "mb_per_s": size / MB / seconds if ok else None,
            "peak_rss_mib": rss, "peak_tree_rss_mib": tree_rss, "seconds": seconds}


def table_rows(result: dict) -> list[dict]:
    """The printed table's rows for one size: corpus docs and bytes over each step's seconds."""
    n, size = result["corpus"]["files"], result["corpus"]["bytes"]
    st = result["stages"]
    rows = []

    def add(label: str, stage: dict | None, key: str = "seconds", docs: int = n, nbytes: int = size) -> None:
        if stage is None:
            return
        if "error" in stage:
            rows.append({"stage": f"{label} (FAILED)", "docs_per_s": None, "mb_per_s": None,
                         "peak_rss_mib": stage.get("peak_rss_mib"), "seconds": None})
            return
        rows.append(_row(label, docs, nbytes, stage.get(key), stage.get("peak_rss_mib"), stage.get("peak_tree_rss_mib")))

    add("reference: decode_bytes", st.get("reference"), "decode_s")
    add("reference: to_simplified", st.get("reference"), "opencc_s")
    add("reference: OpenCC bare", st.get("reference"), "opencc_bare_s")
    add("ingest", st.get("ingest"))
    add("ingest, worker processes", st.get("ingest_workers"))
    add("segments", st.get("segments"))
    add("facts (numbers, indicators, entities …)", st.get("facts"))
    add("facts, worker processes", st.get("facts_workers"))
    add("validation: GE import", st.get("validation"), "ge_import_s")
    if rows and rows[-1]["stage"] == "validation: GE import":
        # A fixed cost, paid once per process: per document it means nothing.
        rows[-1].update(docs_per_s=None, mb_per_s=None)
    add("validation, every row", st.get("validation"))
    add("validation, outcomes reused", st.get("validation"), "reuse_s")
    add("release: DuckDB write", st.get("release"), "db_write_s")
    add("release: publish", st.get("release"))
    add("end to end", result.get("e2e"))
    add("end to end, cProfile", result.get("e2e_profiled"))
    inc = result.get("incremental", {})
    add("re-run, nothing changed", inc.get("unchanged"))
    add("re-run, +1 file", inc.get("add_one"), docs=n + 1)
    add("re-run, 1 file changed", inc.get("change_one"), docs=n + 1)
    return rows


def format_table(n: int, rows: list[dict]) -> str:
    def num(v: float | None, width: int, digits: int) -> str:
        text = "-" if v is None or not math.isfinite(v) else f"{v:.{digits}f}"
        return text.rjust(width)

    label = max(30, *(len(r["stage"]) for r in rows))
    lines = [f"n={n}", f"  {'stage':{label}s} {'docs/s':>9s} {'MB/s':>8s} {'peak RSS MiB':>13s} {'all procs':>10s} {'seconds':>9s}"]
    for r in rows:
        lines.append(f"  {r['stage']:{label}s} {num(r['docs_per_s'], 9, 1)} {num(r['mb_per_s'], 8, 3)} "
                     f"{num(r['peak_rss_mib'], 13, 0)} {num(r.get('peak_tree_rss_mib'), 10, 0)} {num(r['seconds'], 9, 2)}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m dangjian.bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="1000,10000", help="comma-separated corpus sizes (documents)")
    p.add_argument("--out", default="build/bench.json", help="where the JSON results go")
    p.add_argument("--workdir", default="build/bench", help="corpora and warehouses (replaced per size)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-profile", action="store_true", help="skip the cProfile run at the largest size")
    p.add_argument("--repeat", type=int, default=3, help="runs after adding a file, and after changing one (median reported)")
    args = p.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    out_path, workdir = Path(args.out), Path(args.workdir)
    out_path.parent.mkdir(parents=True, exist_ok=True)

    report = {
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "parallel": parallel_speedup(),
        "seed": args.seed,
        "units": {"MB": "10^6 bytes of raw corpus files",
                  "peak_rss_mib": "MiB, the largest single process of the measured child's tree (os.wait4)",
                  "peak_tree_rss_mib": "MiB, the whole tree (child and worker processes) at once, sampled every 0.25 s",
                  "peak_tree_at_s": "seconds after the child started when the tree's peak was sampled",
                  "peak_tree_processes_mib": "MiB of each process of the tree at its peak, largest first"},
        "sizes": {},
    }
    for n in sizes:
        result = bench_size(n, workdir, args.seed, profile=not args.no_profile and n == max(sizes),
                            repeat=max(1, args.repeat))
        report["sizes"][str(n)] = result
        # Written after every size, so a long run that dies later keeps what it measured.
        out_path.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    report["incremental_growth"] = {kind: g for kind in ("add_one", "change_one")
                                    if (g := incremental_growth(report, kind)) is not None}
    out_path.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")

    par = report["parallel"]
    print(f"\ntwo CPU-bound processes finish {par['speedup']:.2f}x the work of one in the same time "
          f"({report['cpus']} CPUs): the ceiling for worker processes on this machine")
    print()
    for n in sizes:
        result = report["sizes"][str(n)]
        print(format_table(n, result["table"]))
        ratio = result.get("ratio_vs_opencc")
        inc = result["incremental"]
        print(f"  end-to-end MB/s ÷ to_simplified MB/s = {ratio:.4f} (1/{1 / ratio:.1f}; target ≥ 1/20)" if ratio
              else "  ratio vs OpenCC: not available")
        print(f"  incremental (median): +1 file {_secs(inc['add_one'])}, 1 file changed {_secs(inc['change_one'])} "
              f"(full run {result['e2e']['seconds']:.1f}s)")
        e2e = result["e2e"]
        if e2e.get("peak_tree_at_s") is not None:
            print(f"  memory: the full run's process tree peaked at {e2e['peak_tree_rss_mib']:.0f} MiB"
                  f"{_peak_where(e2e['peak_tree_at_s'], e2e['peak_tree_processes_mib'])} MiB")
        for name, stage in list(result["stages"].items()) + [("e2e", result["e2e"])]:
            if "error" in stage:
                print(f"  FAILED {name}: {stage['error']}; last lines of its stderr:")
                print("\n".join(f"    {line}" for line in stage.get("stderr_tail", [])[-20:]))
        print()
    for g in report["incremental_growth"].values():
        print(format_growth(g))
        print()
    for n in sizes:
        prof = report["sizes"][str(n)].get("profile")
        if prof:
            print(f"profile of `dangjian run` at n={n} (total {prof['total_s']}s), top 15 by cumulative time:")
            for r in prof["top_cumulative"]:
                print(f"  {r['cumtime_s']:9.2f}s cum {r['tottime_s']:9.2f}s own {r['ncalls']:>9} calls  {r['function']}")
            for title, key in (("dangjian's own functions by cumulative time", "top_cumulative_dangjian"),
                               ("all functions by own time", "top_tottime")):
                print(f"top 10 {title}:")
                for r in prof[key][:10]:
                    print(f"  {r['cumtime_s']:9.2f}s cum {r['tottime_s']:9.2f}s own {r['ncalls']:>9} calls  {r['function']}")
    print(f"\nresults: {out_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
