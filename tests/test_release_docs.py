"""Release descriptors on real release folders: datapackage.json, README.md,
CITATION.cff and CHANGELOG.md.

The folders are built here the way release.py builds them: Parquet files
written with ``release.write_parquet`` from rows typed by the schema's
``arrow_schema``, ``release.json`` in release.py's format, the descriptors
written into the staging folder before ``SHA256SUMS``, then the rename.
``build_release`` and ``release_rows`` are also used by test_download_page.py.
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import os
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from conftest import RAW

from dangjian import __version__
from dangjian.release import write_parquet
from dangjian.release_docs import (
    DATAPACKAGE_PROFILE,
    citation_cff,
    datapackage,
    dataset_card,
    release_sources,
    write_release_docs,
)
from dangjian.schema import BY_NAME, TABLES

# --------------------------------------------------------------------------- building releases


def _id(*parts) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:16]


def _sha(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


# Three seed-like documents (a fourth joins in the second release). Text is
# withheld in releases for all of them (redistribute_text false, as for every
# seed), so the text columns are null and only offsets and numbers remain.
DOCS = {
    "000_b3828745d2df20b3.txt": {
        "title": "以高质量党建引领基层治理", "publisher": "《国家治理》周刊", "published": None, "script": "Hans",
        "rights": "本文为《国家治理》周刊原创内容,转载请联系获得授权。",
        "source": "以高质量党建引领基层治理。", "numbers": [],
    },
    "001_fb00645a8e6ebd2d.txt": {
        "title": "让党建成为高质量发展的强引擎", "publisher": "江海先锋", "published": "2021-07-05", "script": "Hans",
        "rights": None,
        "source": "全镇4825户完成改造,总投资12亿元。",
        "numbers": [("4825户", "number", 4825.0, "户"), ("12亿元", "number", 1.2e9, "元")],
    },
    "004_2cf8f4e56bd97bdb.txt": {
        "title": "苏州吴江区:以“融入式党建”夯实基层工作,成效明显", "publisher": "人民网-中国共产党新闻网",
        "published": "2017-08-10T08:46", "script": "Hant", "rights": None,
        "source": "全區1.1萬人次參加培訓,網辦化率達90%。",
        "numbers": [("1.1萬人次", "number", 11000.0, "人次"), ("90%", "percent", 90.0, "%")],
    },
}
NEW_DOC = ("002_ad230b4f88e2bb90.txt", {
    "title": "党建引领高品质发展的“平凉实践”", "publisher": "甘肃日报", "published": None, "script": "Hant",
    "rights": None, "source": "平涼市建成3個示範點。", "numbers": [("3個", "number", 3.0, "个")],
})
# Enough of OpenCC tw2s for the fixture's Traditional text; one character for one.
SIMPLIFY = str.maketrans("區萬參訓網辦達涼個範點", "区万参训网办达凉个范点")


def release_rows(docs: dict) -> dict[str, list[dict]]:
    """Rows for every published table, for the given documents."""
    rows: dict[str, list[dict]] = {t.name: [] for t in TABLES}
    rows["source_files"].append({"path": "sources.csv", "size_bytes": 1187, "sha256": _sha("sources.csv"),
                                 "status": "manifest", "doc_id": None, "reason": None})
    rows["source_files"].append({"path": "notes/scan.pdf", "size_bytes": 2048, "sha256": _sha("scan.pdf"),
                                 "status": "rejected", "doc_id": None, "reason": "binary file (PDF): save the article as text or HTML"})
    rows["rejected_files"].append({"rejection_id": _id("notes/scan.pdf"), "path": "notes/scan.pdf", "size_bytes": 2048,
                                   "sha256": _sha("scan.pdf"), "reason": "binary file (PDF): save the article as text or HTML",
                                   "error": "binary"})
    for path, d in sorted(docs.items()):
        doc_id = _id(path)
        source = d["source"]
        text = source.translate(SIMPLIFY)
        n = len(text)
        prov = {"start": 0, "end": n, "source_start": 0, "source_end": n,
                "source_path": path, "source_sha256": _sha(path)}
        rows["source_files"].append({"path": path, "size_bytes": len(source.encode()), "sha256": _sha(path),
                                     "status": "document", "doc_id": doc_id, "reason": None})
        rows["documents"].append({
            "doc_id": doc_id, "source_path": path, "source_paths": [path], "sha256": _sha(path),
            "size_bytes": len(source.encode()), "encoding": "utf-8", "is_html": False, "script": d["script"],
            "title": d["title"], "publisher": d["publisher"], "published": d["published"], "url": None,
            "language": "zh", "rights": d["rights"], "redistribute_text": False, "original_title": None,
            "authors": [{"name": "陈明", "role": "通讯员", "start": 0, "end": 2}] if path.startswith("001") else [],
            "metadata_origin": json.dumps({"title": "manifest", "publisher": "manifest"}),
            "source_text": None, "clean_text": None, "text": None, "offset_map": json.dumps([[0, 0, n]]),
            "source_chars": n, "chars": n,
        })
        rows["paragraphs"].append({"paragraph_id": _id(doc_id, "p", 0, n), "doc_id": doc_id, "paragraph_index": 0,
                                   **prov, "text": None})
        sentence_id = _id(doc_id, "s", 0, n)
        rows["sentences"].append({"sentence_id": sentence_id, "doc_id": doc_id, "paragraph_index": 0,
                                  "sentence_index": 0, **prov, "text": None})
        for surface, kind, value, unit in d["numbers"]:
            start = source.index(surface)
            end = start + len(surface)
            rows["numbers"].append({
                "number_id": _id(doc_id, start, end, kind), "doc_id": doc_id, "sentence_id": sentence_id,
                "start": start, "end": end, "source_start": start, "source_end": end,
                "source_path": path, "source_sha256": _sha(path),
                "text": surface, "text_simplified": surface.translate(SIMPLIFY), "kind": kind,
                "is_quantity": kind in ("number", "percent", "fraction"), "value": value,
                "value_min": None, "value_max": None, "unit": unit, "qualifier": "exact", "note": None,
            })
    for name, table_rows in rows.items():
        table_rows.sort(key=lambda r: r[BY_NAME[name].key])
    return rows


def build_release(releases_root: Path, rows: dict[str, list[dict]], day: dt.date,
                  previous: Path | None = None, sources: list[dict] | None = None,
                  validation_html: str | None = None) -> Path:
    """A release folder as release.py writes it, with the descriptors, made ``latest``."""
    releases_root.mkdir(parents=True, exist_ok=True)
    staging = releases_root / f".staging-{day.isoformat()}"
    staging.mkdir()
    files = {}
    for table in TABLES:
        path = staging / f"{table.name}.parquet"
        write_parquet(table, pa.Table.from_pylist(rows[table.name], schema=table.arrow_schema), path)
        files[table.name] = {"file": path.name, "rows": len(rows[table.name]), "bytes": path.stat().st_size,
                             "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
    content_hash = hashlib.sha256("".join(f"{f['file']}\t{f['sha256']}\n" for f in files.values()).encode()).hexdigest()
    version = f"{day.isoformat()}-{content_hash[:8]}"
    meta = {"version": version, "created_at": f"{day.isoformat()}T09:30:00+00:00", "content_hash": content_hash,
            "pipeline": {"name": "dangjian", "version": __version__}, "tables": files}
    (staging / "release.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    write_release_docs(staging, previous, sources if sources is not None else manifest_rows(),
                       validation_html=validation_html)
    (staging / "SHA256SUMS").write_text("".join(f"{f['sha256']}  {f['file']}\n" for f in files.values()), encoding="utf-8")
    os.rename(staging, releases_root / version)
    tmp = releases_root / ".latest-tmp"
    os.symlink(version, tmp)
    os.replace(tmp, releases_root / "latest")
    (releases_root / "LATEST").write_text(version + "\n", encoding="utf-8")
    return releases_root / version


def manifest_rows() -> list[dict]:
    """The repository's sources manifest, as csv.DictReader gives it."""
    with (RAW / "sources.csv").open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def second_release_rows() -> dict[str, list[dict]]:
    """The first release's rows plus one document, minus one number, with one number changed."""
    rows = release_rows({**DOCS, NEW_DOC[0]: NEW_DOC[1]})
    numbers = rows["numbers"]
    removed = next(r for r in numbers if r["text"] == "12亿元")
    numbers.remove(removed)
    changed = next(r for r in numbers if r["text"] == "90%")
    changed["qualifier"] = "approx"
    return rows


@pytest.fixture()
def two_releases(tmp_path):
    root = tmp_path / "releases"
    first = build_release(root, release_rows(DOCS), dt.date(2026, 11, 22))
    second = build_release(root, second_release_rows(), dt.date(2026, 11, 23), previous=first,
                           validation_html="<!doctype html><title>validation</title><p>all checks passed</p>")
    return first, second


def _sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --------------------------------------------------------------------------- datapackage.json


def test_datapackage_resources_match_the_files(two_releases):
    """Every Parquet file is a resource whose size, checksum and fields are the file's."""
    _, release = two_releases
    package = json.loads((release / "datapackage.json").read_text(encoding="utf-8"))
    assert package["$schema"] == DATAPACKAGE_PROFILE
    assert package["name"] == "dangjian"
    assert package["version"] == release.name
    parquet = sorted(p.name for p in release.glob("*.parquet"))
    assert sorted(r["path"] for r in package["resources"]) == parquet
    for resource in package["resources"]:
        path = release / resource["path"]
        assert resource["format"] == "parquet"
        assert resource["mediatype"] == "application/vnd.apache.parquet"
        assert resource["bytes"] == path.stat().st_size
        assert resource["hash"] == f"sha256:{_sha256_file(path)}"
        fields = resource["schema"]["fields"]
        assert [f["name"] for f in fields] == pq.read_schema(path).names
        for field in fields:
            assert field["description"] and re.search(r"[\u4e00-\u9fff]", field["description_zh"]), field
    by_name = {r["name"]: r for r in package["resources"]}
    types = {f["name"]: f["type"] for f in by_name["documents"]["schema"]["fields"]}
    assert (types["doc_id"], types["size_bytes"], types["is_html"], types["source_paths"]) == \
        ("string", "integer", "boolean", "array")
    assert {f["name"]: f["type"] for f in by_name["numbers"]["schema"]["fields"]}["value"] == "number"
    assert by_name["documents"]["schema"]["primaryKey"] == ["doc_id"]


def test_datapackage_foreign_keys_hold_in_the_data(two_releases):
    """The declared keys name real columns, and every child value exists in the parent."""
    _, release = two_releases
    package = json.loads((release / "datapackage.json").read_text(encoding="utf-8"))
    by_name = {r["name"]: r for r in package["resources"]}
    declared, filled = set(), set()
    for name, resource in by_name.items():
        for fk in resource["schema"].get("foreignKeys", []):
            (child,), (parent,) = fk["fields"], fk["reference"]["fields"]
            target = fk["reference"]["resource"]
            declared.add((name, child, target))
            assert by_name[target]["schema"]["primaryKey"] == [parent]
            values = set(pq.read_table(release / resource["path"], columns=[child])[child].drop_null().to_pylist())
            keys = set(pq.read_table(release / by_name[target]["path"], columns=[parent])[parent].to_pylist())
            assert values <= keys, (name, child)
            if values:
                filled.add((name, child, target))
    core = {("paragraphs", "doc_id", "documents"), ("sentences", "doc_id", "documents"),
            ("numbers", "doc_id", "documents"), ("numbers", "sentence_id", "sentences")}
    # Tables these releases leave empty hold their keys vacuously; the core ones are checked on real values.
    assert core <= declared and core <= filled


def test_datapackage_licenses_and_sources(two_releases):
    _, release = two_releases
    package = json.loads((release / "datapackage.json").read_text(encoding="utf-8"))
    licenses = {lic["name"]: lic for lic in package["licenses"]}
    assert licenses["CC-BY-4.0"]["scope"] == "data" and licenses["MIT"]["scope"] == "code"
    assert "CC-BY-4.0" in package["description"] and "publishers' rights" in package["description"]
    sources = {s["path"]: s for s in package["sources"]}
    assert set(sources) == {*DOCS, NEW_DOC[0]}
    assert sources["004_2cf8f4e56bd97bdb.txt"]["publisher"] == "人民网-中国共产党新闻网"
    assert sources["004_2cf8f4e56bd97bdb.txt"]["published"] == "2017-08-10T08:46"
    assert "转载" in sources["000_b3828745d2df20b3.txt"]["rights"]
    assert sources["001_fb00645a8e6ebd2d.txt"]["rights"].startswith("Not stated")
    assert not any(s["text_included"] for s in package["sources"])


def test_datapackage_validates_with_frictionless(two_releases):
    """The descriptor passes frictionless's Data Package metadata validation.

    Only the metadata: frictionless reads Parquet through fastparquet and
    pandas, which this project does not install, so the data checks it would
    do (bytes, hash, keys) are made by the tests above instead.
    """
    try:
        import frictionless
    except ImportError:
        message = "frictionless is not installed: pip install frictionless"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    _, release = two_releases
    descriptor = json.loads((release / "datapackage.json").read_text(encoding="utf-8"))
    report = frictionless.Package.validate_descriptor(descriptor)
    assert report.valid, report.flatten(["type", "note"])
    package = frictionless.Package(descriptor)
    assert package.get_resource("numbers").schema.primary_key == ["number_id"]
    assert package.get_resource("documents").schema.get_field("authors").type == "array"

    broken = json.loads(json.dumps(descriptor))
    broken["resources"][0]["bytes"] = "many"
    broken["resources"][1]["schema"]["primaryKey"] = ["no_such_column"]
    notes = [note for _, note in frictionless.Package.validate_descriptor(broken).flatten(["type", "note"])]
    assert any("bytes" in n for n in notes) and any("primary key" in n for n in notes), notes


def test_datapackage_refuses_a_file_that_does_not_match(tmp_path):
    release = build_release(tmp_path / "releases", release_rows(DOCS), dt.date(2026, 11, 22))
    meta = json.loads((release / "release.json").read_text(encoding="utf-8"))
    meta["tables"]["numbers"]["bytes"] += 1
    with pytest.raises(ValueError, match="numbers.parquet"):
        datapackage(release, meta, [])


# --------------------------------------------------------------------------- sources


def test_release_sources_follow_the_documents_in_the_release(tmp_path):
    """Sources are the release's documents: a manifest row for a file not in the
    release is left out, and a document without a manifest row still appears."""
    release = build_release(tmp_path / "releases", release_rows(DOCS), dt.date(2026, 11, 22))
    manifest = [r for r in manifest_rows() if r["file"] != "001_fb00645a8e6ebd2d.txt"]
    sources = {s["file"]: s for s in release_sources(release, manifest)}
    assert set(sources) == set(DOCS)
    assert sources["001_fb00645a8e6ebd2d.txt"]["publisher"] == "江海先锋"  # from documents.parquet
    assert sources["000_b3828745d2df20b3.txt"]["rights"] == DOCS["000_b3828745d2df20b3.txt"]["rights"]


# --------------------------------------------------------------------------- CHANGELOG.md


def _changelog_rows(text: str) -> dict[str, tuple[int, int, int, int]]:
    """Table → (rows, added, removed, changed) from the changelog's summary table."""
    found = {}
    for m in re.finditer(r"^\| (\w+) \| `\w+` \| (\d+) \| (\d+) \| (\d+) \| (\d+) \|$", text, re.M):
        found[m[1]] = tuple(int(x) for x in m.groups()[1:])
    return found


def test_changelog_first_release(tmp_path):
    release = build_release(tmp_path / "releases", release_rows(DOCS), dt.date(2026, 11, 22))
    text = (release / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "First release" in text
    assert "| numbers | 4 |" in text


def test_changelog_counts_added_removed_and_changed_rows(two_releases):
    first, second = two_releases
    text = (second / "CHANGELOG.md").read_text(encoding="utf-8")
    assert first.name in text
    counts = _changelog_rows(text)
    assert counts["numbers"] == (4, 1, 1, 1)
    assert counts["documents"] == (4, 1, 0, 0)
    assert counts["paragraphs"] == (4, 1, 0, 0)
    assert counts["rejected_files"] == (1, 0, 0, 0)
    added = text.split("## Documents added (1)")[1].split("##")[0]
    assert "`002_ad230b4f88e2bb90.txt`" in added and "平凉实践" in added
    assert "## Documents removed (0)" in text


# --------------------------------------------------------------------------- CITATION.cff


def test_citation_cff_is_yaml_with_the_version(two_releases):
    _, release = two_releases
    cff = yaml.safe_load((release / "CITATION.cff").read_text(encoding="utf-8"))
    assert cff["cff-version"] == "1.2.0"
    assert cff["type"] == "dataset"
    assert cff["version"] == release.name
    assert cff["date-released"] == "2026-11-23"
    assert cff["authors"] == [{"name": "dangjian contributors"}]
    assert cff["license"] == "CC-BY-4.0"
    assert "党建" in cff["title"]


def test_citation_cff_quotes_what_yaml_would_misread():
    # A version that YAML would read as a number or date must stay a string.
    meta = {"version": "2026-11-22", "created_at": "2026-11-22T00:00:00+00:00"}
    cff = yaml.safe_load(citation_cff(meta))
    assert cff["version"] == "2026-11-22" and cff["date-released"] == "2026-11-22"


# --------------------------------------------------------------------------- README.md


def test_dataset_card(two_releases):
    _, release = two_releases
    card = (release / "README.md").read_text(encoding="utf-8")
    for d in [*DOCS.values(), NEW_DOC[1]]:
        assert d["publisher"] in card
    assert "2017-08-10T08:46" in card
    assert "Full text is withheld where the rights do not allow republishing it" in card
    assert "`sentences.text`" in card
    assert f"Version {release.name}" in card and release.name in card
    assert "Not yet measured" in card
    assert f"pyarrow {pa.__version__}" in card
    assert "[validation.html](validation.html)" in card
    assert "CC-BY-4.0" in card and "MIT" in card
    for table in TABLES:  # the bilingual dictionary
        assert f"### {table.name}" in card and table.zh in card
    assert "规范化文本中的写法。" in card


def test_dataset_card_accuracy_and_limitations():
    meta = {"version": "2026-11-22-abcd1234", "created_at": "2026-11-22T09:30:00+00:00",
            "content_hash": "ab" * 32, "pipeline": {"name": "dangjian", "version": __version__},
            "tables": {"numbers": {"file": "numbers.parquet", "rows": 3, "bytes": 10, "sha256": "cd" * 32}}}
    card = dataset_card(meta, manifest_rows(), TABLES, None, {}, accuracy="Precision 0.97 on 200 numbers.",
                        limitations=["Dates without a year are ignored."])
    assert "Precision 0.97 on 200 numbers." in card and "Not yet measured" not in card
    assert "- Dates without a year are ignored." in card
    assert "No validation report was attached" in card
    assert "《国家治理》周刊" in card and "reprinting requires permission" in card


def test_write_release_docs_returns_what_it_wrote(tmp_path):
    release = build_release(tmp_path / "releases", release_rows(DOCS), dt.date(2026, 11, 22))
    written = write_release_docs(release, None, manifest_rows(), validation_html="<p>ok</p>")
    assert sorted(p.name for p in written) == ["CHANGELOG.md", "CITATION.cff", "README.md",
                                               "datapackage.json", "validation.html"]
    assert all(p.parent == release and p.is_file() for p in written)
    assert (release / "validation.html").read_text(encoding="utf-8") == "<p>ok</p>"


def test_a_card_with_many_sources_sums_them_up_by_publisher(tmp_path, monkeypatch):
    """Above SOURCES_LISTED files the card gives one row per publisher, with
    its files, dates, rights and whether text is included, and says where
    every source is listed; datapackage.json still lists each one."""
    import dangjian.release_docs as release_docs

    monkeypatch.setattr(release_docs, "SOURCES_LISTED", 3)
    docs = dict(DOCS)
    docs["005_more.txt"] = {**DOCS["001_fb00645a8e6ebd2d.txt"], "title": "又一篇", "published": "2023-03-01"}
    release = build_release(tmp_path / "releases", release_rows(docs), dt.date(2026, 11, 22), sources=[])
    card = (release / "README.md").read_text(encoding="utf-8")
    section = card.split("## Sources and rights")[1].split("\n## ")[0]
    assert "4 source files from 3 publishers" in section and "`documents.parquet`" in section
    assert "005_more.txt" not in section and "又一篇" not in section  # no longer one row per file
    rows = [line for line in section.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert rows[0] == ("| 江海先锋 | 2 | 2021-07-05 – 2023-03-01 | Not stated; all rights remain with the publisher. "
                       "| none, withheld |")
    assert any(r.startswith("| 《国家治理》周刊 | 1 | not stated | 本文为《国家治理》周刊原创内容") for r in rows)
    package = json.loads((release / "datapackage.json").read_text(encoding="utf-8"))
    assert sorted(s["path"] for s in package["sources"]) == sorted(docs)
