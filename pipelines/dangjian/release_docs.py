"""Descriptors that travel with a release: what it is, where it came from, what changed.

A release folder (see :mod:`dangjian.release`) holds Parquet files, ``release.json``
and ``SHA256SUMS``. This module adds the documents a person or a tool needs to use it
without this repository:

``datapackage.json``
    A Frictionless **Data Package v2** descriptor (``$schema``
    https://datapackage.org/profiles/2.0/datapackage.json): one tabular resource
    per Parquet file with bytes, sha256, and a Table Schema whose fields carry the
    English ``description`` and, as a custom property, the Chinese
    ``description_zh``; primary and foreign keys; licenses; and one source per
    article with its publisher's rights.
``README.md``
    The dataset card: what the data is, sources and rights, how each table was
    made (with tool versions), validation, accuracy, limitations, license, how to
    cite, and the bilingual data dictionary.
``CITATION.cff``
    Citation File Format 1.2.0, ``type: dataset``.
``CHANGELOG.md``
    Rows added, removed and changed per table since the previous release, matched
    by primary key, and the documents added or removed.
``validation.html``
    The validation report, when the caller has one.

``write_index`` writes ``releases/index.html``, a static download page for all
releases that works from ``file://`` and any static host: relative links only,
no scripts, no external assets.

Everything except the two ``write_*`` functions is pure: it reads files but
writes none, so the descriptors can be tested without a pipeline run.
"""
from __future__ import annotations

import datetime as dt
import html
import importlib.metadata
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pyarrow as pa
import pyarrow.parquet as pq

from dangjian.files import write_whole
from dangjian.schema import BY_NAME, DOCUMENTS, SENTENCES, TABLES, Table

RELEASE_JSON = "release.json"
INDEX_HTML = "index.html"

NAME = "dangjian"
TITLE = "dangjian 党建: Chinese local Party-building reports as typed, citable tables"
AUTHOR = "dangjian contributors"
DATAPACKAGE_PROFILE = "https://datapackage.org/profiles/2.0/datapackage.json"
PARQUET_MEDIATYPE = "application/vnd.apache.parquet"

DATA_LICENSE = {
    "name": "CC-BY-4.0",
    "path": "https://creativecommons.org/licenses/by/4.0/",
    "title": "Creative Commons Attribution 4.0 International: the extracted data "
             "(tables, offsets, extracted values and compiled metadata). Not the source "
             "articles, which keep their publishers' rights.",
    "scope": "data",
}
CODE_LICENSE = {
    "name": "MIT",
    "path": "https://opensource.org/license/mit",
    "title": "MIT License: the pipeline code that produced the data.",
    "scope": "code",
}
DESCRIPTION = (
    "Documents, paragraphs, sentences and every number stated in Chinese reports on "
    "local Party building (党建引领高质量发展 case reports from counties, districts and "
    "cities), each value pointing at the exact characters of its source."
)
LICENSE_STATEMENT = (
    "The extracted data (the tables, offsets, extracted values and compiled metadata) is "
    "released under CC-BY-4.0; the pipeline code under MIT. The source articles are not "
    "covered by either license: they keep their publishers' rights. Their full text is "
    "withheld from the release wherever those rights do not allow republishing it, and "
    "any article text a release does include remains under its publisher's terms."
)

# Packages whose versions describe the environment that built a release. The
# distribution names are the ones pip knows; missing ones are left out.
TOOL_PACKAGES = ("dagster", "duckdb", "pyarrow", "opencc", "cn2an", "charset-normalizer", "chardet")

# The text columns release.py withholds; named here so the card can say which.
WITHHELD_COLUMNS = tuple(f"{t.name}.{c.name}" for t in TABLES for c in t.columns if c.withheld)

# Foreign keys, (column, referenced table). The referenced column is that table's key.
FOREIGN_KEYS: dict[str, tuple[tuple[str, Table], ...]] = {
    "source_files": (("doc_id", DOCUMENTS),),
    "paragraphs": (("doc_id", DOCUMENTS),),
    "sentences": (("doc_id", DOCUMENTS),),
    "numbers": (("doc_id", DOCUMENTS), ("sentence_id", SENTENCES)),
    "indicators": (("doc_id", DOCUMENTS), ("sentence_id", SENTENCES), ("number_id", BY_NAME["numbers"])),
    "campaign_terms": (("doc_id", DOCUMENTS), ("sentence_id", SENTENCES)),
    "term_diffusion": (("first_doc_id", DOCUMENTS),),
}

# How each table is made, for the dataset card. Kept beside the other
# descriptions of the data rather than in the card template.
PRODUCTION = {
    "source_files": "Every file under the raw folder is listed recursively (symbolic links "
                    "are recorded, not followed), hashed with SHA-256 and classified as a "
                    "document, a duplicate of another file's bytes, the sources manifest, or "
                    "rejected.",
    "documents": "Each distinct file content is decoded (UTF-8/UTF-16 by byte-order mark or "
                 "strict decoding; GB18030 and Big5 scored by how much of the result is common "
                 "Chinese text, with chardet breaking ties), cleaned of HTML and page furniture "
                 "into one paragraph per line, converted from Traditional to Simplified script "
                 "with OpenCC `tw2s` (one character for one, so offsets survive) and width-folded "
                 "with a one-to-one table. Title, publisher, date, bylines and rights are read "
                 "from the text; the sources manifest overrides them where it states a value.",
    "rejected_files": "Files that could not become documents (unreadable, empty, binary, "
                      "undecodable, no text, symbolic links), each with a reason a person can "
                      "act on. Nothing is dropped silently.",
    "paragraphs": "The normalised text split at line breaks; each paragraph keeps its offsets "
                  "into the normalised text and into the decoded source file.",
    "sentences": "Each paragraph split after sentence terminators (。！？!?；; and ellipses), "
                 "keeping closing quotes with their sentence and never splitting inside short "
                 "quoted or bracketed stretches.",
    "numbers": "Rule-based recognisers run in priority order over the normalised text "
               "(dates and times, phone numbers, ordinals, percentages, fractions, ranges, "
               "quantities), each claiming its characters so mentions never overlap; Arabic, "
               "Chinese, financial and mixed numerals are parsed to values with 万/亿 applied.",
    "indicators": "Each quantity in `numbers` (count, money, percent, ratio, duration, area) read "
                  "with its clause: time frames (三年来, 近五年) and anniversaries are left out; the "
                  "subject is the measure noun before the figure (销售额突破12亿元) or the noun its "
                  "counter introduces (4825户建档立卡户); the year is the last one named earlier in "
                  "the sentence, with 今年/去年/前年 resolved against the publication date. Scored "
                  "against a hand-annotated set in the test suite.",
    "campaign_terms": "Every short quotation (“…”, 「…」, 『…』, ‘…’; 2–20 characters, no sentence "
                      "punctuation) and every numbered formula outside quotation marks (一强三创, "
                      "1+3+N, fixed slogans such as 三会一课), using the number recogniser's own "
                      "formula patterns.",
    "term_diffusion": "campaign_terms grouped by term and by the main locality of the documents, "
                      "keeping terms found in more than one document or locality, with the first "
                      "publication date per locality.",
}


# --------------------------------------------------------------------------- helpers


def _read_meta(release_dir: Path) -> dict:
    return json.loads((release_dir / RELEASE_JSON).read_text(encoding="utf-8"))


def _ordered_tables(names: Iterable[str]) -> list[str]:
    """Table names in schema order, then any the schema does not know, sorted."""
    names = set(names)
    known = [t.name for t in TABLES if t.name in names]
    return known + sorted(names - set(known))


def frictionless_type(arrow_type: pa.DataType) -> str:
    """The Table Schema type of a column with this Arrow type."""
    t = pa.types
    if t.is_boolean(arrow_type):
        return "boolean"
    if t.is_integer(arrow_type):
        return "integer"
    if t.is_floating(arrow_type) or t.is_decimal(arrow_type):
        return "number"
    if t.is_string(arrow_type) or t.is_large_string(arrow_type) or t.is_string_view(arrow_type):
        return "string"
    if (t.is_list(arrow_type) or t.is_large_list(arrow_type) or t.is_fixed_size_list(arrow_type)
            or t.is_list_view(arrow_type) or t.is_large_list_view(arrow_type)):
        return "array"
    if t.is_struct(arrow_type) or t.is_map(arrow_type):
        return "object"
    if t.is_timestamp(arrow_type):
        return "datetime"
    if t.is_date(arrow_type):
        return "date"
    if t.is_time(arrow_type):
        return "time"
    # Anything else (binary, dictionary, …) has no faithful Table Schema type;
    # failing here makes whoever adds such a column decide how to describe it.
    raise ValueError(f"no Table Schema type for Arrow type {arrow_type}")


def _flag(value) -> bool:
    """``redistribute_text`` as a bool, from the manifest's text or an already parsed value."""
    if isinstance(value, bool):
        return value
    return str(value or "").strip().lower() == "true"


def _clean(value) -> str | None:
    """A manifest cell: empty means not stated."""
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def normalize_source(row: dict) -> dict:
    """One source as a plain dict with the manifest's fields, whether ``row`` came
    from ``csv.DictReader`` (strings, empty cells) or from a ``SourceEntry``."""
    return {
        "file": _clean(row.get("file") or row.get("path")),
        "title": _clean(row.get("title")),
        "publisher": _clean(row.get("publisher")),
        "published": _clean(row.get("published")),
        "url": _clean(row.get("url")),
        "language": _clean(row.get("language")),
        "script": _clean(row.get("script")),
        "rights": _clean(row.get("rights")),
        "redistribute_text": _flag(row.get("redistribute_text")),
    }


def _source_title(src: dict) -> str:
    return src["title"] or f"Untitled article ({src['file']})"


def _rights_text(src: dict) -> str:
    # No statement is not permission: the publisher keeps all rights.
    return src["rights"] or "Not stated; all rights remain with the publisher."


def release_sources(release_dir: Path, manifest_rows: Sequence[dict]) -> list[dict]:
    """The sources of the documents actually in this release.

    The manifest describes the raw folder, not the release: it may lack rows
    for some documents (another corpus, a new file) and have rows for files
    that are gone. ``documents.parquet`` already holds each document's
    metadata with the manifest's values winning, and the ``redistribute_text``
    flag the release was built with, so it is the better account; the
    manifest fills what it leaves empty. Without a documents file the
    manifest rows are returned as they are.
    """
    manifest = [normalize_source(r) for r in manifest_rows]
    path = release_dir / f"{DOCUMENTS.name}.parquet"
    if not path.exists():
        return manifest
    by_file = {m["file"]: m for m in manifest}
    columns = ["source_path", "source_paths", "title", "publisher", "published", "url",
               "language", "script", "rights", "redistribute_text"]
    docs = pq.read_table(path, columns=columns).to_pylist()
    out = []
    for doc in sorted(docs, key=lambda d: d["source_path"]):
        m = next((by_file[p] for p in [doc["source_path"], *(doc["source_paths"] or [])] if p in by_file), {})
        src = {k: _clean(doc.get(k)) or m.get(k) for k in
               ("title", "publisher", "published", "url", "language", "script", "rights")}
        out.append({"file": doc["source_path"], **src, "redistribute_text": bool(doc["redistribute_text"])})
    return out


def collect_tool_versions() -> dict[str, str]:
    """Installed versions of the packages in :data:`TOOL_PACKAGES`."""
    found = {}
    for name in TOOL_PACKAGES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return found


def _release_date(meta: dict) -> str:
    """The UTC date of a release: from ``created_at``, else the version's date prefix."""
    created = meta.get("created_at") or ""
    try:
        return dt.datetime.fromisoformat(created).astimezone(dt.timezone.utc).date().isoformat()
    except ValueError:
        return meta["version"][:10]


def _human_bytes(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    size = n / 1024
    for unit in ("KiB", "MiB"):
        if size < 1024:
            return f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"


def _md(text) -> str:
    """A Markdown table cell: one line, pipes escaped."""
    return str(text if text is not None else "").replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _md_code(text: str) -> str:
    """Inline code that survives backticks in the text."""
    return f"`` {text} ``" if "`" in text else f"`{text}`"


# --------------------------------------------------------------------------- datapackage.json


def _field(column) -> dict:
    field = {
        "name": column.name,
        "type": frictionless_type(column.type),
        "description": column.en,
        "description_zh": column.zh,
    }
    if not column.nullable:
        field["constraints"] = {"required": True}
    return field


def _table_schema(table: Table) -> dict:
    schema = {"fields": [_field(c) for c in table.columns], "primaryKey": [table.key]}
    fks = FOREIGN_KEYS.get(table.name, ())
    if fks:
        schema["foreignKeys"] = [
            {"fields": [col], "reference": {"resource": ref.name, "fields": [ref.key]}} for col, ref in fks
        ]
    return schema


def datapackage(release_dir: Path, meta: dict, sources: list[dict]) -> dict:
    """The Data Package v2 descriptor of a release.

    Sizes and checksums come from ``meta`` (``release.json``), which release.py
    computed from the files it wrote; each file's size is checked against the
    folder, so a descriptor is never written for files it does not describe.
    """
    resources = []
    for name in _ordered_tables(meta["tables"]):
        info = meta["tables"][name]
        path = release_dir / info["file"]
        if not path.is_file():
            raise FileNotFoundError(f"{path}: listed in {RELEASE_JSON} but missing")
        if path.stat().st_size != info["bytes"]:
            raise ValueError(f"{path}: {path.stat().st_size} bytes, {RELEASE_JSON} says {info['bytes']}")
        resource = {
            "name": name,
            "type": "table",
            "path": info["file"],
            "format": "parquet",
            "mediatype": PARQUET_MEDIATYPE,
            "bytes": info["bytes"],
            "hash": f"sha256:{info['sha256']}",
            "rows": info["rows"],
        }
        table = BY_NAME.get(name)
        if table is not None:
            resource["description"] = table.en
            resource["description_zh"] = table.zh
            resource["schema"] = _table_schema(table)
        resources.append(resource)

    normalized = [normalize_source(s) for s in sources]
    return {
        "$schema": DATAPACKAGE_PROFILE,
        "name": NAME,
        "title": TITLE,
        "description": f"{DESCRIPTION} {LICENSE_STATEMENT}",
        "version": meta["version"],
        "created": meta["created_at"],
        "keywords": ["Party building", "党建", "Chinese", "local governance", "numbers", "text extraction"],
        "contributors": [{"title": AUTHOR, "roles": ["creator"]}],
        "licenses": [DATA_LICENSE, CODE_LICENSE],
        "sources": [
            {
                "title": _source_title(s),
                "path": s["file"],
                "publisher": s["publisher"],
                "published": s["published"],
                "url": s["url"],
                "rights": _rights_text(s),
                "text_included": s["redistribute_text"],
            }
            for s in normalized
        ],
        "content_hash": meta["content_hash"],
        "pipeline": meta.get("pipeline"),
        "resources": resources,
    }


# --------------------------------------------------------------------------- README.md


def _dictionary_markdown(tables: Sequence[Table]) -> list[str]:
    lines = []
    for table in tables:
        lines += [
            f"### {table.name}",
            "",
            table.en,
            "",
            table.zh,
            "",
            f"Primary key 主键: `{table.key}`",
            "",
            "| Column 列 | Type 类型 | Required 必填 | Description | 说明 |",
            "|---|---|---|---|---|",
        ]
        for c in table.columns:
            lines.append(
                f"| `{c.name}` | {frictionless_type(c.type)} (`{_md(c.type)}`) | "
                f"{'yes' if not c.nullable else 'no'} | {_md(c.en)} | {_md(c.zh)} |"
            )
        lines.append("")
    return lines


#: Up to this many sources, the dataset card lists each; above it, it sums
#: them up by publisher (a card of 80,000 rows is 14 MB that nobody reads,
#: and the tables and datapackage.json list every source anyway).
SOURCES_LISTED = 200


def _sources_section(srcs: list[dict]) -> list[str]:
    """The card's sources: one row per file, or per publisher for many files."""
    if len(srcs) <= SOURCES_LISTED:
        rows = [
            f"| `{_md(s['file'])}` | {_md(s['title'] or 'not stated')} | {_md(s['publisher'] or 'not stated')} | "
            f"{_md(s['published'] or 'not stated')} | {_md(_rights_text(s))} | "
            f"{'yes' if s['redistribute_text'] else 'no, withheld'} |"
            for s in srcs
        ]
        return ["| File | Title | Publisher | Published | Rights | Full text in release |",
                "|---|---|---|---|---|---|", *(rows or ["| – | – | – | – | – | – |"])]
    groups: dict[str | None, list[dict]] = {}
    for src in srcs:
        groups.setdefault(src["publisher"], []).append(src)
    lines = [
        f"{len(srcs)} source files from {len(groups)} publishers (or none stated), too many to list here. "
        "Each one, with its title, publisher, date, URL and rights, is a row of `documents.parquet` "
        "(`source_path`, `title`, `publisher`, `published`, `url`, `rights`, `redistribute_text`) and an entry "
        "of `sources` in `datapackage.json`. By publisher:",
        "",
        "| Publisher | Files | Published, first – last | Rights | Full text in release |",
        "|---|---:|---|---|---|",
    ]
    for publisher, group in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0] or "")):
        dates = sorted(s["published"] for s in group if s["published"])
        span = f"{dates[0]} – {dates[-1]}" if dates else "not stated"
        rights = sorted({_rights_text(s) for s in group})
        stated = "; ".join(rights[:3]) + (f"; and {len(rights) - 3} more" if len(rights) > 3 else "")
        shared = sum(s["redistribute_text"] for s in group)
        lines.append(f"| {_md(publisher or 'not stated')} | {len(group)} | {_md(span)} | {_md(stated)} | "
                     f"{'all' if shared == len(group) else 'none, withheld' if not shared else f'{shared} of {len(group)}'} |")
    return lines


def dataset_card(
    meta: dict,
    sources: list[dict],
    tables: Sequence[Table],
    validation_summary: str | None,
    tool_versions: dict[str, str],
    accuracy: str | None = None,
    limitations: Sequence[str] = (),
) -> str:
    """The release's README.md (Markdown)."""
    version = meta["version"]
    date = _release_date(meta)
    srcs = [normalize_source(s) for s in sources]
    pipeline = meta.get("pipeline") or {}
    lines = [
        f"# {TITLE}",
        "",
        f"Release **{version}**, {date}. Content hash `{meta['content_hash']}`.",
        "",
        "## What this is",
        "",
        "Clean, typed tables built from Chinese reports on local Party building and governance "
        "(“党建引领高质量发展” case reports from counties, districts and cities): the documents, "
        "their paragraphs and sentences, and every number they state (“4825户”, “12亿元”, "
        "“網辦化率達90%”) with its value, unit and kind. Every row carries offsets into the "
        "normalised text and into the decoded source file, so each value can be checked "
        "against the exact characters it came from.",
        "",
        "It is meant for researchers of Chinese local governance and Party building, journalists "
        "and analysts who want to compare the figures these reports claim, and anyone building "
        "or testing Chinese text and number extraction who needs citable ground truth.",
        "",
        "## Files",
        "",
        "| Table | File | Rows | Bytes | SHA-256 |",
        "|---|---|---:|---:|---|",
    ]
    for name in _ordered_tables(meta["tables"]):
        f = meta["tables"][name]
        lines.append(f"| {_md(name)} | `{_md(f['file'])}` | {f['rows']} | {f['bytes']} | `{f['sha256']}` |")
    lines += [
        "",
        "`SHA256SUMS` lists the same checksums (`sha256sum -c SHA256SUMS`); `datapackage.json` "
        "describes the files as a Frictionless Data Package (v2); `release.json` is the "
        "release record; `CHANGELOG.md` says what changed since the previous release.",
        "",
        "## Sources and rights",
        "",
        *_sources_section(srcs),
    ]
    lines += [
        "",
        "Metadata is what the articles themselves state; empty means not stated, nothing is "
        "guessed. **Full text is withheld where the rights do not allow republishing it**: for "
        "a source whose rights do not grant republication (`redistribute_text` false in the "
        "sources manifest, which includes every source that states no rights at all, since "
        "silence is not permission) the release keeps the rows, "
        "offsets, metadata and extracted numbers, but the text columns "
        + ", ".join(f"`{c}`" for c in WITHHELD_COLUMNS)
        + " are null. The surface form of each number (`numbers.text`) is kept: it is a few "
        "characters, the value being cited.",
        "",
        "## How the tables were made",
        "",
        f"Pipeline: {pipeline.get('name', NAME)} {pipeline.get('version', 'unknown version')}, "
        "a Dagster asset graph writing DuckDB tables that are exported as zstd-compressed Parquet. "
        "Tables of documents are sorted by `doc_id`, then by key, and each row group holds whole documents, "
        "so a reader filtering on `doc_id` reads only the groups that hold them; the others are sorted by key.",
        "",
    ]
    for table in tables:
        lines.append(f"- **{table.name}**: {PRODUCTION.get(table.name, table.en)}")
    lines += ["", "Software in the environment that built this release:", ""]
    if tool_versions:
        lines += [f"- {_md(name)} {_md(v)}" for name, v in sorted(tool_versions.items())]
    else:
        lines.append("- not recorded")
    lines += [
        "",
        "## Validation",
        "",
        validation_summary or "No validation report was attached to this release.",
        "",
        "## Accuracy",
        "",
        accuracy or "Not yet measured: no hand-checked sample has been compared with this release.",
        "",
        "## Known limitations",
        "",
    ]
    lines += [f"- {item}" for item in limitations] or ["None recorded for this release."]
    lines += [
        "",
        "## License",
        "",
        LICENSE_STATEMENT,
        "",
        f"- Data: [{DATA_LICENSE['name']}]({DATA_LICENSE['path']})",
        f"- Code: [{CODE_LICENSE['name']}]({CODE_LICENSE['path']})",
        "",
        "## How to cite",
        "",
        f"{AUTHOR}. ({date[:4]}). *{TITLE}* (Version {version}) [Data set].",
        "",
        "```bibtex",
        f"@misc{{dangjian_{version.replace('-', '_')},",
        f"  author = {{{{{AUTHOR}}}}},",
        f"  title = {{{TITLE}}},",
        f"  year = {{{date[:4]}}},",
        f"  version = {{{version}}},",
        "  note = {Data set},",
        "}",
        "```",
        "",
        "`CITATION.cff` has the same in Citation File Format. Please cite the version you used: "
        "releases are immutable, so the version identifies the data exactly.",
        "",
        "## Data dictionary 数据字典",
        "",
        "Offsets are Python string offsets (Unicode code points), end exclusive: `start`/`end` "
        "index `documents.text`, `source_start`/`source_end` index `documents.source_text`. "
        "偏移量以 Unicode 码点计,结束位置不含。",
        "",
    ]
    lines += _dictionary_markdown(tables)
    return "\n".join(lines).rstrip("\n") + "\n"


# --------------------------------------------------------------------------- CITATION.cff


def _yaml_str(value: str) -> str:
    # A JSON string is a valid YAML double-quoted scalar, Chinese included.
    return json.dumps(value, ensure_ascii=False)


def citation_cff(meta: dict) -> str:
    """CITATION.cff (Citation File Format 1.2.0) for the release."""
    return "\n".join([
        "cff-version: 1.2.0",
        f"message: {_yaml_str('If you use this dataset, please cite it as below.')}",
        "type: dataset",
        f"title: {_yaml_str(TITLE)}",
        f"version: {_yaml_str(meta['version'])}",
        # Quoted so YAML readers keep it a string, as the CFF schema wants.
        f"date-released: {_yaml_str(_release_date(meta))}",
        "authors:",
        f"  - name: {_yaml_str(AUTHOR)}",
        f"license: {_yaml_str(DATA_LICENSE['name'])}",
        f"abstract: {_yaml_str(DESCRIPTION)}",
        "keywords:",
        *[f"  - {_yaml_str(k)}" for k in ("Party building", "党建", "Chinese", "local governance")],
    ]) + "\n"


# --------------------------------------------------------------------------- CHANGELOG.md


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class Changes:
    """Keys of one table added, removed, and kept with other content, between two releases."""

    added: frozenset = frozenset()
    removed: frozenset = frozenset()
    changed: frozenset = frozenset()


def doc_id_within(ranges: Sequence[tuple[str, str]], column: str = "doc_id") -> tuple[str, list[str]]:
    """A SQL condition that holds for rows whose ``column`` lies in one of
    ``ranges`` (first and last doc_id of each), and its parameters, in order.
    ``column`` is a name from the code, never from input."""
    return "(" + " OR ".join([f"{column} BETWEEN ? AND ?"] * len(ranges)) + ")", [d for pair in ranges for d in pair]


def row_changes(con, cur_path: Path | None, prev_path: Path | None, key: str, columns: Sequence[str],
                ranges: Sequence[tuple[str, str]] = ()) -> Changes:
    """What changed in one table between two Parquet files, compared over ``columns``.

    DuckDB (``con``) joins the two files on the key and compares a hash of
    each row's values, in one pass of an outer join, so a table of millions
    of rows is compared without being held in memory. With ``ranges``
    (first and last doc_id of each), only the rows of documents in them are
    compared: the caller knows the rest to be the same in both files, and
    DuckDB reads only the row groups whose doc_ids reach into them."""
    within, bounds = doc_id_within(ranges)
    where = f" WHERE {within}" if ranges else ""

    def side(path: Path | None) -> tuple[str, list]:
        if path is None:
            return "(SELECT NULL::VARCHAR AS k, NULL::UBIGINT AS h WHERE false)", []
        values = ", ".join(_quoted(c) for c in columns)
        return (f"(SELECT {_quoted(key)}::VARCHAR AS k, hash(row({values})) AS h "
                f"FROM read_parquet({_sql_literal(str(path))}){where})"), bounds

    (new, new_params), (old, old_params) = side(cur_path), side(prev_path)
    found: dict[str, list] = {"added": [], "removed": [], "changed": []}
    for k, what in con.execute(
        f"SELECT coalesce(n.k, o.k), CASE WHEN o.k IS NULL THEN 'added' WHEN n.k IS NULL THEN 'removed' "
        f"ELSE 'changed' END FROM {new} AS n FULL OUTER JOIN {old} AS o ON n.k = o.k "
        f"WHERE n.k IS NULL OR o.k IS NULL OR n.h <> o.h", new_params + old_params
    ).fetchall():
        found[what].append(k)
    return Changes(**{what: frozenset(keys) for what, keys in found.items()})


@dataclass(frozen=True)
class Region:
    """Where a table's new file may differ from the one it was written from
    (``base``, that file's sha256): the doc_id ranges of the row groups that
    were written anew, in the new file and in the old. Every other row
    group was copied byte for byte."""

    base: str
    ranges: tuple[tuple[str, str], ...]


def _columns(path: Path | None) -> list[str]:
    return pq.read_schema(path).names if path else []


def release_changes(current_dir: Path, previous_dir: Path,
                    regions: dict[str, Region] | None = None) -> dict[str, Changes]:
    """Per table both releases know, its :class:`Changes`, compared on the
    columns both files have (a new column alone does not change every row).
    A file linked into both releases, or equal by checksum, is not read; of
    a file written from the previous release's (``regions``, by table: the
    caller gives only regions whose ``base`` is that file), only the row
    groups written anew. Every table is compared in one DuckDB connection."""
    import duckdb

    from dangjian.warehouse import duckdb_memory

    cur, prev = _read_meta(current_dir), _read_meta(previous_dir)
    out = {}
    con = duckdb.connect(config={"memory_limit": duckdb_memory()})
    try:
        for name in _ordered_tables(set(cur["tables"]) | set(prev["tables"])):
            table = BY_NAME.get(name)
            if table is not None:
                out[name] = _table_changes(con, table, cur, prev, current_dir, previous_dir, (regions or {}).get(name))
    finally:
        con.close()
    return out


def _table_changes(con, table: Table, cur: dict, prev: dict, current_dir: Path, previous_dir: Path,
                   region: Region | None = None) -> Changes:
    name = table.name
    cur_path = current_dir / cur["tables"][name]["file"] if name in cur["tables"] else None
    prev_path = previous_dir / prev["tables"][name]["file"] if name in prev["tables"] else None
    if cur_path and prev_path and cur["tables"][name]["sha256"] == prev["tables"][name]["sha256"]:
        return Changes()
    cur_cols, prev_cols = _columns(cur_path), _columns(prev_path)
    shared = [c for c in cur_cols if c in prev_cols] if cur_path and prev_path else cur_cols or prev_cols
    return row_changes(con, cur_path, prev_path, table.key, shared, region.ranges if region else ())


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _doc_paths(path: Path, doc_ids: set) -> list[tuple[str, str | None, str]]:
    """(source_path, title, doc_id) of the given documents, by source_path."""
    if not doc_ids:
        return []
    import pyarrow.compute as pc

    data = pq.read_table(path, columns=["doc_id", "source_path", "title"])
    rows = data.filter(pc.is_in(data["doc_id"], value_set=pa.array(sorted(doc_ids), pa.string()))).to_pylist()
    return sorted((r["source_path"], r["title"], r["doc_id"]) for r in rows)


def changelog(current_dir: Path, previous_dir: Path | None, changes: dict[str, Changes] | None = None) -> str:
    """CHANGELOG.md: what changed since ``previous_dir``, table by table
    (``changes``: :func:`release_changes` of the two, if already known)."""
    cur = _read_meta(current_dir)
    lines = [f"# Changelog: {NAME} {cur['version']}", ""]
    if previous_dir is None:
        lines += [
            "First release: there is no earlier release to compare with.",
            "",
            "| Table | Rows |",
            "|---|---:|",
            *[f"| {_md(n)} | {cur['tables'][n]['rows']} |" for n in _ordered_tables(cur["tables"])],
        ]
        return "\n".join(lines) + "\n"

    prev = _read_meta(previous_dir)
    if changes is None:
        changes = release_changes(current_dir, previous_dir)
    lines += [
        f"Compared with the previous release, {prev['version']}. Rows are matched by each "
        "table's primary key; *changed* means the same key with different content.",
        "",
        "| Table | Key | Rows | Added | Removed | Changed |",
        "|---|---|---:|---:|---:|---:|",
    ]
    notes = []
    added_docs: set = set()
    removed_docs: set = set()
    for name in _ordered_tables(set(cur["tables"]) | set(prev["tables"])):
        table = BY_NAME.get(name)
        if table is None:
            notes.append(f"- `{name}`: not in the schema this pipeline knows, so not compared.")
            continue
        cur_path = current_dir / cur["tables"][name]["file"] if name in cur["tables"] else None
        prev_path = previous_dir / prev["tables"][name]["file"] if name in prev["tables"] else None
        cur_cols, prev_cols = _columns(cur_path), _columns(prev_path)
        if cur_path and prev_path and cur_cols != prev_cols:
            gained = [c for c in cur_cols if c not in prev_cols]
            lost = [c for c in prev_cols if c not in cur_cols]
            notes.append(f"- `{name}`: columns added {gained or 'none'}, removed {lost or 'none'}; "
                         "rows compared on the columns both releases have.")
        if cur_path is None:
            notes.append(f"- `{name}`: table removed in this release.")
        if prev_path is None:
            notes.append(f"- `{name}`: new table in this release.")
        change = changes[name]
        rows = cur["tables"][name]["rows"] if name in cur["tables"] else 0
        lines.append(f"| {name} | `{table.key}` | {rows} | {len(change.added)} | {len(change.removed)} "
                     f"| {len(change.changed)} |")
        if name == DOCUMENTS.name:
            added_docs, removed_docs = set(change.added), set(change.removed)

    doc_file = DOCUMENTS.name + ".parquet"
    for heading, ids, folder in (("Documents added", added_docs, current_dir),
                                 ("Documents removed", removed_docs, previous_dir)):
        lines += ["", f"## {heading} ({len(ids)})", ""]
        entries = _doc_paths(folder / doc_file, ids)
        lines += [f"- {_md_code(p)}" + (f" {t}" if t else "") + f" (doc_id `{d}`)" for p, t, d in entries] or ["None."]
    if notes:
        lines += ["", "## Notes", "", *notes]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- index.html


def _esc(value) -> str:
    return html.escape(str(value), quote=True)


def _href(*segments: str) -> str:
    """A relative URL from path segments, each percent-encoded (no segment can
    climb out with ``..`` or ``/``), escaped for an attribute."""
    return _esc("/".join(quote(s, safe="") for s in segments))


def _latest(releases_root: Path) -> str | None:
    """The latest version: the ``latest`` symlink, else the ``LATEST`` text file
    (static hosts and archives often drop symlinks)."""
    link = releases_root / "latest"
    if link.is_symlink():
        return Path(os.readlink(link)).name
    pointer = releases_root / "LATEST"
    if pointer.is_file():
        return pointer.read_text(encoding="utf-8").strip() or None
    return None


def _releases(releases_root: Path) -> list[tuple[Path, dict]]:
    """Release folders with a readable release.json, newest first."""
    found = []
    for child in releases_root.iterdir() if releases_root.is_dir() else []:
        if child.name.startswith(".") or child.is_symlink() or not (child / RELEASE_JSON).is_file():
            continue
        try:
            meta = _read_meta(child)
        except (OSError, ValueError):
            # release.py writes release.json before the folder gets its name, so
            # an unreadable one is not a release; one bad folder must not take the page down.
            continue
        found.append((child, meta))
    return sorted(found, key=lambda r: (r[1].get("sequence", 0), r[1].get("created_at", ""), r[0].name), reverse=True)


# Documents a release may carry besides the tables, in the order they are linked.
RELEASE_DOCS = (
    ("README.md", "Dataset card"),
    ("validation.html", "Validation report"),
    ("CHANGELOG.md", "Changelog"),
    ("datapackage.json", "Data Package descriptor"),
    ("CITATION.cff", "Citation (CFF)"),
    ("SHA256SUMS", "SHA256SUMS"),
    (RELEASE_JSON, "release.json"),
)

PAGE_CSS = """
body { font-family: system-ui, sans-serif; max-width: 72rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.5; color: #1b1b1b; }
h1, h2, h3 { line-height: 1.25; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; }
th, td { border-bottom: 1px solid #ddd; padding: .3rem .5rem; text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
code.sha256 { font-size: .8em; word-break: break-all; }
.release { border: 1px solid #ccc; border-radius: 6px; padding: 0 1rem; margin: 1rem 0; }
.release.is-latest { border-color: #2a7a2a; }
.badge { background: #2a7a2a; color: #fff; border-radius: 4px; padding: 0 .4rem; font-size: .8em; vertical-align: middle; }
.meta { color: #555; }
"""


def _release_section(folder: Path, meta: dict, is_latest: bool) -> list[str]:
    version = folder.name
    created = meta.get("created_at", "")
    pipeline = meta.get("pipeline") or {}
    out = [
        f'<section class="release{" is-latest" if is_latest else ""}" id="release-{_esc(version)}" '
        f'data-version="{_esc(version)}">',
        f"<h2>{_esc(version)}" + (' <span class="badge">latest</span>' if is_latest else "") + "</h2>",
        f'<p class="meta">Released <time datetime="{_esc(created)}">{_esc(_release_date(meta))}</time>'
        f" · content hash <code>{_esc(meta.get('content_hash', ''))}</code>"
        f" · pipeline {_esc(pipeline.get('name', NAME))} {_esc(pipeline.get('version', ''))}</p>",
        '<table class="files">',
        '<thead><tr><th scope="col">File</th><th scope="col">Table</th><th scope="col">Rows</th>'
        '<th scope="col">Size</th><th scope="col">SHA-256</th></tr></thead>',
        "<tbody>",
    ]
    tables = meta.get("tables", {})
    for name in _ordered_tables(tables):
        f = tables[name]
        out.append(
            f'<tr data-table="{_esc(name)}">'
            f'<td><a class="download" href="{_href(version, f["file"])}" download>{_esc(f["file"])}</a></td>'
            f"<td>{_esc(name)}</td>"
            f'<td class="num">{_esc(format(f["rows"], ","))}</td>'
            f'<td class="num" title="{_esc(f["bytes"])} bytes">{_esc(_human_bytes(f["bytes"]))}</td>'
            f'<td><code class="sha256">{_esc(f["sha256"])}</code></td>'
            "</tr>"
        )
    out += ["</tbody>", "</table>"]
    docs = [(file, label) for file, label in RELEASE_DOCS if (folder / file).is_file()]
    if docs:
        out.append('<ul class="docs">')
        out += [f'<li><a class="doc" href="{_href(version, file)}">{_esc(label)}</a></li>' for file, label in docs]
        out.append("</ul>")
    out.append("</section>")
    return out


def _dictionary_html() -> list[str]:
    out = ['<section id="dictionary">', '<h2>Data dictionary <span lang="zh-Hans">数据字典</span></h2>',
           "<p>Offsets are Python string offsets (Unicode code points), end exclusive: "
           "<code>start</code>/<code>end</code> index <code>documents.text</code>, "
           "<code>source_start</code>/<code>source_end</code> index <code>documents.source_text</code>.</p>"]
    for table in TABLES:
        out += [
            f'<h3 id="table-{_esc(table.name)}">{_esc(table.name)}</h3>',
            f"<p>{_esc(table.en)}</p>",
            f'<p lang="zh-Hans">{_esc(table.zh)}</p>',
            f"<p>Primary key: <code>{_esc(table.key)}</code></p>",
            '<table class="dictionary">',
            '<thead><tr><th scope="col">Column</th><th scope="col">Type</th><th scope="col">Required</th>'
            '<th scope="col">Description</th><th scope="col" lang="zh-Hans">说明</th></tr></thead>',
            "<tbody>",
        ]
        for c in table.columns:
            out.append(
                f"<tr><td><code>{_esc(c.name)}</code></td>"
                f'<td>{_esc(frictionless_type(c.type))} <code title="Arrow type">{_esc(c.type)}</code></td>'
                f"<td>{'yes' if not c.nullable else 'no'}</td>"
                f"<td>{_esc(c.en)}</td>"
                f'<td lang="zh-Hans">{_esc(c.zh)}</td></tr>'
            )
        out += ["</tbody>", "</table>"]
    out.append("</section>")
    return out


def index_html(releases_root: Path) -> str:
    """The static download page for every release under ``releases_root``."""
    releases = _releases(releases_root)
    latest = _latest(releases_root)
    out = [
        "<!doctype html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_esc(NAME)} releases</title>",
        f"<style>{PAGE_CSS}</style>",
        "</head>",
        "<body>",
        f"<h1>{_esc(TITLE)}</h1>",
        "<p>Documents, paragraphs, sentences and every number stated in Chinese reports on local "
        "Party building, as Parquet files. Releases never change once published; cite the version "
        "you used. Check a download with <code>sha256sum</code> against the checksum shown here or "
        "in the release's <code>SHA256SUMS</code>.</p>",
        f"<p>{_esc(LICENSE_STATEMENT)}</p>",
    ]
    if latest and any(folder.name == latest for folder, _ in releases):
        out.append(f'<p>Latest release: <a href="#release-{_esc(latest)}">{_esc(latest)}</a></p>')
    if not releases:
        out.append("<p>No releases yet.</p>")
    for folder, meta in releases:
        out += _release_section(folder, meta, folder.name == latest)
    out += _dictionary_html()
    out += ["</body>", "</html>"]
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- writing


def write_release_docs(
    release_dir: Path,
    previous_dir: Path | None,
    sources: list[dict],
    validation_html: str | None = None,
    accuracy: str | None = None,
    limitations: Sequence[str] = (),
    changes: dict[str, Changes] | None = None,
) -> list[Path]:
    """Write the descriptors into ``release_dir`` and return their paths
    (``changes``: :func:`release_changes` against ``previous_dir``, if known).

    Meant for the staging folder, before SHA256SUMS is written and the folder
    is renamed into place, so plain writes suffice: nobody can see the folder
    until it is whole.
    """
    meta = _read_meta(release_dir)
    srcs = release_sources(release_dir, sources)
    summary = None
    if validation_html is not None:
        summary = ("The validation report for this release is [validation.html](validation.html): "
                   "the checks run on these tables and their results.")
    docs = {
        "datapackage.json": json.dumps(datapackage(release_dir, meta, srcs), ensure_ascii=False, indent=2) + "\n",
        "README.md": dataset_card(meta, srcs, TABLES, summary, collect_tool_versions(), accuracy, limitations),
        "CITATION.cff": citation_cff(meta),
        "CHANGELOG.md": changelog(release_dir, previous_dir, changes),
    }
    if validation_html is not None:
        docs["validation.html"] = validation_html
    written = []
    for name, text in docs.items():
        path = release_dir / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def write_index(releases_root: Path) -> Path:
    """Write ``releases_root/index.html`` atomically: readers see the old page or the new one."""
    target = releases_root / INDEX_HTML
    write_whole(target, index_html(releases_root), durable=True)
    return target
