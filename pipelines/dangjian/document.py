"""From one source file's bytes to the rows of the published tables.

Plain functions, no Dagster: the assets and the ``dangjian`` command line both
call them. Each returns plain dicts keyed by the column names in
``dangjian.schema``.

The chain for one file: decode the bytes → clean (drop HTML and junk, keep an
offset map) → normalise (Simplified script, half-width digits; length kept)
→ metadata, segments and numbers on the normalised text. Offsets into the
normalised text equal offsets into the cleaned text, and the offset map takes
them back to the decoded source.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from dangjian.schema import BY_NAME
from dangjian.sources import SourceEntry
from dangjian.text import numbers as numbers_mod
from dangjian.text import segment
from dangjian.text.indicators import find_indicators
from dangjian.text.organizations import find_organizations
from dangjian.text.people import find_people
from dangjian.text.places import PlaceAnalysis, analyse_places
from dangjian.text.terms import find_terms
from dangjian.text.clean import OffsetMap, clean
from dangjian.text.decode import decode_bytes
from dangjian.text.metadata import extract_metadata
from dangjian.text.script import detect_script, normalize

QUANTITY_KINDS = frozenset({"number", "percent", "fraction", "ratio"})


def stable_id(*parts: object) -> str:
    """A 16-hex-digit id from the parts' text: the same input, the same id."""
    h = hashlib.sha256("\x1f".join(map(str, parts)).encode("utf-8"))
    return h.hexdigest()[:16]


def doc_id_for(sha256: str) -> str:
    return sha256[:16]


@dataclass(frozen=True)
class DocText:
    """What the extractors need of a document."""

    doc_id: str
    source_path: str
    sha256: str
    source_text: str
    clean_text: str
    text: str
    offsets: OffsetMap
    published: str | None = None  # the document's publication date, when known
    # The place analysis ingest made of this text, as (key, JSON): a row's
    # PLACE_ANALYSIS_FIELDS
    place_analysis: tuple[str, str] | None = None

    @classmethod
    def from_row(cls, row: dict) -> DocText:
        stored = tuple(row.get(f) for f in PLACE_ANALYSIS_FIELDS)
        return cls(
            doc_id=row["doc_id"],
            source_path=row["source_path"],
            sha256=row["sha256"],
            source_text=row["source_text"],
            clean_text=row["clean_text"],
            text=row["text"],
            offsets=OffsetMap.from_json(row["offset_map"]),
            published=row.get("published"),
            place_analysis=stored if None not in stored else None,
        )

    def places(self) -> PlaceAnalysis:
        """The places of the text at its publication date: those ingest found,
        when its key says they were found in this text at this date by this
        code and gazetteer, else found now. The same either way; reading them
        back costs a small share of finding them again."""
        if self.place_analysis is not None:
            key, data = self.place_analysis
            if key == place_analysis_key(self.text, self.published):
                return PlaceAnalysis.from_json(data)
        return analyse_places(self.text, self.published)

    def provenance(self, start: int, end: int) -> dict:
        source_start, source_end = self.offsets.to_source(start, end)
        return {
            "start": start,
            "end": end,
            "source_start": source_start,
            "source_end": source_end,
            "source_path": self.source_path,
            "source_sha256": self.sha256,
        }


def _field(f) -> str | None:
    return None if f is None else f.value


def read_document(data: bytes, sha256: str, paths: list[str], manifest: SourceEntry | None) -> dict:
    """Decode, clean and normalise one file; return its ``documents`` row.

    Raises ``DecodeError`` (with a ``reason``) when the bytes are not text,
    and ``NoTextError`` when nothing of an article is left after cleaning.
    """
    decoded = decode_bytes(data)
    cleaned = clean(decoded.text)
    if not cleaned.text.strip():
        raise NoTextError("no article text left after removing markup and page furniture")
    text = normalize(cleaned.text)
    meta = extract_metadata(text)

    extracted = {
        "title": _field(meta.title),
        "publisher": _field(meta.publisher),
        "published": _field(meta.published),
        "rights": _field(meta.rights_statement),
        "url": None,
        "language": "zh",
    }
    origin = {k: "text" for k, v in extracted.items() if v is not None}
    if manifest is not None:
        for key in ("title", "publisher", "published", "url", "language", "rights"):
            value = getattr(manifest, key)
            if value is not None:
                # The manifest is written in the source's own script; the
                # dataset's metadata columns are Simplified like its text.
                extracted[key] = normalize(value)
                origin[key] = "manifest"

    authors = [
        {"name": a.value, "role": role, "start": a.start, "end": a.end}
        for a, role in zip(meta.authors, meta.author_roles)
    ]
    places = analyse_places(text, extracted["published"])
    return {
        "doc_id": doc_id_for(sha256),
        "source_path": paths[0],
        "source_paths": list(paths),
        "sha256": sha256,
        "size_bytes": len(data),
        "encoding": decoded.encoding,
        "is_html": cleaned.is_html,
        # ``text`` is already the converted text; width folding leaves Han
        # characters alone, so it serves as the Simplified comparison.
        "script": detect_script(cleaned.text, text),
        **extracted,
        "redistribute_text": bool(manifest and manifest.redistribute_text),
        "original_title": _field(meta.original_title),
        "authors": authors,
        "metadata_origin": json.dumps(origin, ensure_ascii=False, sort_keys=True),
        **_main_locality(places.main_locality),
        "source_text": decoded.text,
        "clean_text": cleaned.text,
        "text": text,
        "offset_map": cleaned.offsets.to_json(),
        "source_chars": len(decoded.text),
        "chars": len(text),
        # Not columns of documents: ingest keeps them in state.place_analyses
        # for facts (DocText.places).
        "place_analysis_key": place_analysis_key(text, extracted["published"]),
        "place_analysis": places.to_json(),
    }


#: The keys of a ``documents`` row from :func:`read_document` that hold its
#: place analysis and the analysis's key. They are named like the columns of
#: ``state.place_analyses``, where ingest keeps them, so a row read back from
#: there has the same shape; they are not columns of ``documents``, and
#: ``to_arrow`` leaves them out of that table.
PLACE_ANALYSIS_FIELDS = ("place_analysis_key", "place_analysis")


def place_analysis_key(text: str, published: str | None) -> str:
    """What a place analysis was made of: the text, the date, and the code
    and gazetteer that made it (``incremental.code_version``)."""
    from dangjian.incremental import code_version

    return hashlib.sha256(f"{code_version()}\x1f{published}\x1f{text}".encode()).hexdigest()[:32]


def _main_locality(code: str | None) -> dict:
    from dangjian.reference.gazetteer import Gazetteer

    return {"main_locality_adcode": code, "main_locality_name": Gazetteer.load().full_name(code) if code else None}


class NoTextError(ValueError):
    @property
    def reason(self) -> str:
        return str(self)


def paragraph_rows(doc: DocText) -> list[dict]:
    return [
        {
            "paragraph_id": stable_id(doc.doc_id, "p", p.start, p.end),
            "doc_id": doc.doc_id,
            "paragraph_index": i,
            **doc.provenance(p.start, p.end),
            "text": p.text,
        }
        for i, p in enumerate(segment.paragraphs(doc.text))
    ]


def sentence_rows(doc: DocText) -> list[dict]:
    return [
        {
            "sentence_id": stable_id(doc.doc_id, "s", s.start, s.end),
            "doc_id": doc.doc_id,
            "paragraph_index": p_index,
            "sentence_index": i,
            **doc.provenance(s.start, s.end),
            "text": s.text,
        }
        for i, (p_index, s) in enumerate(segment.sentences(doc.text))
    ]


def _sentence_at(sentences: list[dict], start: int) -> str | None:
    """The id of the sentence containing offset ``start`` (sentences sorted)."""
    lo, hi = 0, len(sentences)
    while lo < hi:
        mid = (lo + hi) // 2
        if sentences[mid]["end"] <= start:
            lo = mid + 1
        else:
            hi = mid
    if lo < len(sentences) and sentences[lo]["start"] <= start:
        return sentences[lo]["sentence_id"]
    return None


def number_id(doc_id: str, m: numbers_mod.NumberMention) -> str:
    return stable_id(doc_id, "n", m.start, m.end, m.kind)


def number_rows(doc: DocText, sentences: list[dict],
                mentions: list[numbers_mod.NumberMention] | None = None) -> list[dict]:
    rows = []
    if mentions is None:
        mentions = numbers_mod.find_numbers(doc.text)
    for m in mentions:
        rows.append(
            {
                "number_id": number_id(doc.doc_id, m),
                "doc_id": doc.doc_id,
                "sentence_id": _sentence_at(sentences, m.start),
                **doc.provenance(m.start, m.end),
                "text": doc.clean_text[m.start:m.end],
                "text_simplified": m.text,
                "kind": m.kind,
                "is_quantity": m.kind in QUANTITY_KINDS,
                "value": m.value,
                "value_min": m.value_min,
                "value_max": m.value_max,
                "unit": m.unit,
                "qualifier": m.qualifier,
                "note": m.note,
            }
        )
    return rows


def _place_in(sentence: dict | None, places: PlaceAnalysis | None) -> str | None:
    """The most specific linked place named in the sentence: a village or town
    by its statistical code, else the lowest division by its adcode."""
    if sentence is None or places is None:
        return None
    rank = {"village": 0, "town": 1, "county": 2, "prefecture": 3, "province": 4}
    inside = [p for p in places.mentions if sentence["start"] <= p.start < sentence["end"] and p.adcode]
    if not inside:
        return None
    best = min(inside, key=lambda p: (rank.get(p.level, 5), -p.confidence, p.start))
    return best.stat_code or best.adcode


def indicator_rows(doc: DocText, sentences: list[dict], published: str | None,
                   mentions: list[numbers_mod.NumberMention] | None = None,
                   places: PlaceAnalysis | None = None) -> list[dict]:
    """The ``indicators`` rows of a document: its quantified claims in context.
    ``place_adcode`` is the most specific place named in the sentence, else the
    document's main locality (``places`` from ``analyse_places``)."""
    if mentions is None:
        mentions = numbers_mod.find_numbers(doc.text)
    by_start = {s["sentence_id"]: s for s in sentences}
    rows = []
    for ind in find_indicators(doc.text, mentions, published):
        sid = _sentence_at(sentences, ind.start)
        sentence = by_start.get(sid)
        rows.append(
            {
                "indicator_id": stable_id(doc.doc_id, "i", ind.start, ind.end),
                "doc_id": doc.doc_id,
                "sentence_id": sid,
                "number_id": number_id(doc.doc_id, ind.number),
                **doc.provenance(ind.start, ind.end),
                "text": doc.clean_text[ind.start:ind.end],
                "text_simplified": ind.text,
                "value": ind.value,
                "value_min": ind.value_min,
                "value_max": ind.value_max,
                "unit": ind.unit,
                "kind": ind.kind,
                "qualifier": ind.qualifier,
                "note": ind.note,
                "subject": ind.subject,
                "subject_start": ind.subject_start,
                "subject_end": ind.subject_end,
                "year": ind.year,
                "place_adcode": _place_in(sentence, places) or (places.main_locality if places else None),
                "fixed_expression": ind.fixed_expression,
                "sentence": doc.text[sentence["start"]:sentence["end"]] if sentence else None,
            }
        )
    return rows


def term_rows(doc: DocText, sentences: list[dict]) -> list[dict]:
    """The ``campaign_terms`` rows of a document."""
    return [
        {
            "term_id": stable_id(doc.doc_id, "t", t.start, t.end),
            "doc_id": doc.doc_id,
            "sentence_id": _sentence_at(sentences, t.start),
            **doc.provenance(t.start, t.end),
            "text": doc.clean_text[t.start:t.end],
            "term": t.term,
            "quote": t.quote,
            "is_formula": t.is_formula,
        }
        for t in find_terms(doc.text)
    ]


_LEVEL_RANK = {"province": 0, "prefecture": 1, "county": 2, "town": 3, "village": 4}


def place_chains(mentions: list) -> list:
    """Merge a written chain of divisions (甘肃省平凉市灵台县西屯镇店子村) into
    one mention of its most specific unit, spanning the whole chain: each
    part is written right after the one above it."""
    out: list = []
    for p in mentions:
        prev = out[-1] if out else None
        if (prev is not None and prev.end == p.start
                and _LEVEL_RANK.get(prev.level, 9) < _LEVEL_RANK.get(p.level, -1)):
            out[-1] = dataclasses.replace(p, start=prev.start, text=prev.text + p.text)
        else:
            out.append(p)
    return out


def place_rows(doc: DocText, sentences: list[dict], places: PlaceAnalysis, orgs=None, people=None) -> list[dict]:
    """The ``places`` rows of a document: one per place or written chain of
    places, leaving out those inside an organisation's name (华亭市安口镇朱家坡村
    党支部): there they are the organisation's jurisdiction; and those that
    are part of a person's name (陈立新, 周秀英)."""
    orgs = find_organizations(doc.text) if orgs is None else orgs
    people = find_people(doc.text, orgs) if people is None else people
    mentions = [p for p in place_chains(places.mentions)
                if not any(o.start < p.end and p.start < o.end for o in [*orgs, *people])]
    return [
        {
            "place_id": stable_id(doc.doc_id, "pl", p.start, p.end),
            "doc_id": doc.doc_id,
            "sentence_id": _sentence_at(sentences, p.start),
            **doc.provenance(p.start, p.end),
            "text": doc.clean_text[p.start:p.end],
            "text_simplified": p.text,
            "name": p.name,
            "full_name": p.full_name,
            "level": p.level,
            "adcode": p.adcode,
            "stat_code": p.stat_code,
            "alt_code": p.alt_code,
            "lat": p.lat,
            "lon": p.lon,
            "method": p.method,
            "confidence": p.confidence,
        }
        for p in mentions
    ]


@dataclasses.dataclass(frozen=True)
class _Span:
    start: int
    end: int


def _code_of(j) -> str | None:
    return None if j is None else (j.stat_code or j.adcode)


def _jurisdiction_code(org, places: PlaceAnalysis) -> str | None:
    """The code of an organisation's jurisdiction: the place in its name as the
    place finder linked it, or the main locality for a bare 区委."""
    if org.jurisdiction_start is not None:
        return _place_code_at(_Span(org.jurisdiction_start, org.jurisdiction_end), places)
    return places.main_locality if org.implicit_jurisdiction else None


def organization_rows(doc: DocText, sentences: list[dict], places: PlaceAnalysis, orgs=None) -> list[dict]:
    """The ``organizations`` rows of a document."""
    orgs = find_organizations(doc.text) if orgs is None else orgs
    return [
        {
            "org_id": stable_id(doc.doc_id, "o", o.start, o.end),
            "doc_id": doc.doc_id,
            "sentence_id": _sentence_at(sentences, o.start),
            **doc.provenance(o.start, o.end),
            "text": doc.clean_text[o.start:o.end],
            "name": o.text,
            "kind": o.kind,
            "jurisdiction": o.jurisdiction,
            "jurisdiction_adcode": _jurisdiction_code(o, places),
            "implicit_jurisdiction": o.implicit_jurisdiction,
        }
        for o in orgs
    ]


def _place_code_at(span, places: PlaceAnalysis) -> str | None:
    """The code of the most specific place inside ``span``: in a chain
    (南通市海门区) the last part."""
    inside = [p for p in [*places.mentions, *places.org_jurisdictions]
              if p.start < span.end and span.start < p.end and _code_of(p)]
    return _code_of(max(inside, key=lambda p: p.start)) if inside else None


def person_rows(doc: DocText, sentences: list[dict], places: PlaceAnalysis, orgs=None, people=None) -> list[dict]:
    """The ``people`` rows of a document: each name with its posts."""
    orgs = find_organizations(doc.text) if orgs is None else orgs
    people = find_people(doc.text, orgs) if people is None else people
    rows = []
    for m in people:
        # The post that says most: one attached to an organisation or place
        # (郭晓敏 is 作者 in the byline, but 书记 of 南通市海门区委).
        attached = [r for r in m.roles if r.place is not None or r.org is not None or r.implicit_place]
        first = attached[0] if attached else (m.roles[0] if m.roles else None)
        attached_code = None
        if first is not None:
            if first.place is not None:
                attached_code = _place_code_at(first.place, places)
            elif first.org is not None:
                attached_code = _jurisdiction_code(first.org, places)
            if attached_code is None and first.implicit_place:
                attached_code = places.main_locality
        rows.append(
            {
                "person_id": stable_id(doc.doc_id, "pe", m.start, m.end),
                "doc_id": doc.doc_id,
                "sentence_id": _sentence_at(sentences, m.start),
                **doc.provenance(m.start, m.end),
                "text": doc.clean_text[m.start:m.end],
                "name": m.name,
                "role": first.title.text if first else None,
                "attached_to": first.attached_to_text if first else None,
                "attached_adcode": attached_code,
                "roles": [
                    {"title": r.title.text, "organization": r.org.text if r.org else None,
                     "place": r.place.text if r.place else None, "start": r.title.start, "end": r.title.end}
                    for r in m.roles
                ],
                "honorary_titles": [h.text for h in m.honorary_titles],
                "byline": m.byline,
                "national_leader": m.national_leader,
                "evidence": m.evidence,
            }
        )
    return rows


def rows_of_batch(rows_for, names: tuple[str, ...], docs: pa.Table, inputs: dict[str, pa.Table]) -> list[pa.Table]:
    """One batch's rows of each table ``names``, as Arrow, from a batch
    function (:func:`segment_rows`, :func:`fact_rows`): what a worker process
    runs. It lives here, with the batch functions, so that a worker imports
    the text code and not Dagster (about 100 MB and a second per worker)."""
    texts = [DocText.from_row(r) for r in docs.to_pylist()]
    # Rows as Python dicts take several times the memory of the same rows in
    # Arrow, so they are converted every CONVERT_DOCS documents rather than
    # once per batch: a facts worker then peaks about 50 MB lower on 500
    # documents, with the same rows in the same order.
    parts: list[list[pa.Table]] = [[] for _ in names]
    for i in range(0, len(texts), CONVERT_DOCS):
        chunk = texts[i:i + CONVERT_DOCS]
        ids = pa.array([d.doc_id for d in chunk], pa.string())
        mine = {name: t.filter(pc.is_in(t["doc_id"], value_set=ids)) for name, t in inputs.items()}
        for part, name, rows in zip(parts, names, rows_for(chunk, mine)):
            part.append(pa.Table.from_pylist(rows, schema=BY_NAME[name].arrow_schema))
    return [pa.concat_tables(part) if part else BY_NAME[name].arrow_schema.empty_table()
            for name, part in zip(names, parts)]


#: Documents whose rows a worker holds as Python objects at once (see rows_of_batch).
CONVERT_DOCS = 50


def segment_rows(docs: list[DocText], inputs: dict[str, pa.Table]) -> tuple[list[dict], list[dict]]:
    """Paragraph and sentence rows of a batch of documents."""
    return [row for d in docs for row in paragraph_rows(d)], [row for d in docs for row in sentence_rows(d)]


#: The tables ``fact_rows`` fills, in the order it returns them.
FACT_TABLE_NAMES = ("numbers", "indicators", "campaign_terms", "places", "organizations", "people")


def fact_rows(docs: list[DocText], inputs: dict) -> tuple[list[dict], ...]:
    """Every fact of a batch of documents: numbers, indicators, campaign
    terms, places, organisations and people (``FACT_TABLE_NAMES``).

    ``inputs["sentences"]`` holds the batch's sentences (Arrow, any order).
    The batch depends on nothing else, so the facts
    stage runs batches in worker processes; this function lives here, not
    beside the Dagster assets, so a worker imports only the text code.
    """
    by_doc: dict[str, list[dict]] = {}
    for s in inputs["sentences"].select(["doc_id", "sentence_id", "start", "end"]).to_pylist():
        by_doc.setdefault(s["doc_id"], []).append(s)
    out: tuple[list[dict], ...] = tuple([] for _ in FACT_TABLE_NAMES)
    for d in docs:
        sents, date = sorted(by_doc.get(d.doc_id, []), key=lambda s: s["start"]), d.published
        mentions, places, orgs = numbers_mod.find_numbers(d.text), d.places(), find_organizations(d.text)
        people = find_people(d.text, orgs)
        for rows, new in zip(out, (number_rows(d, sents, mentions),
                                   indicator_rows(d, sents, date, mentions, places),
                                   term_rows(d, sents),
                                   place_rows(d, sents, places, orgs, people),
                                   organization_rows(d, sents, places, orgs),
                                   person_rows(d, sents, places, orgs, people))):
            rows += new
    return out
