"""The Great Expectations suites, run for real (no mocks).

A small set of tables written for the tests — ten one-line reports with their
paragraphs, sentences and numbers — passes every expectation; copies with one
defect each fail the critical expectation meant to catch it. The last test
validates the tables the pipeline's own functions make from the seeds in raw/.
"""
from __future__ import annotations

import copy
import hashlib
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from dangjian.document import DocText, number_rows, sentence_rows
from dangjian.ingest import ingest_folder
from dangjian.schema import ADMIN_DIVISIONS, BY_NAME, DOCUMENTS, NUMBERS, SENTENCES, TABLES
from dangjian.warehouse import to_arrow
from dangjian.validate import (
    DERIVED,
    EXPECTATIONS_ENV,
    SCHEMA_CHECK,
    load_suite,
    read_suite_file,
    report_html,
    validate_all,
    validate_table,
    validate_warehouse,
)

REPO = Path(__file__).resolve().parents[1]
RAW = REPO / "raw"

# ten documents that differ only in the last character of the title line
TITLE_MARKS = "甲乙丙丁戊己庚辛壬癸"
SCRIPT = "<script>alert(1)</script>"


def _hex16(*parts: object) -> str:
    return hashlib.sha256("/".join(map(str, parts)).encode()).hexdigest()[:16]


def _provenance(doc: dict, start: int, end: int) -> dict:
    # source text == text in these documents, so source offsets equal text offsets
    return {"start": start, "end": end, "source_start": start, "source_end": end,
            "source_path": doc["source_path"], "source_sha256": doc["sha256"]}


def _rows_for(i: int) -> dict[str, list[dict]]:
    text = f"党建引领发展{TITLE_MARKS[i]}\n全县1.1万人次参加培训。网办化率达90%。"
    sha = hashlib.sha256(text.encode()).hexdigest()
    path = f"{i:03d}_report.txt"
    doc = {
        "doc_id": sha[:16], "source_path": path, "source_paths": [path], "sha256": sha,
        "size_bytes": len(text.encode()), "encoding": "utf-8", "is_html": False, "script": "Hans",
        "title": text.split("\n")[0], "publisher": "江海先锋", "published": "2021-07-05", "url": None,
        "language": "zh", "rights": None, "redistribute_text": False, "original_title": None, "authors": [],
        "metadata_origin": json.dumps({"title": "text"}), "source_text": text, "clean_text": text, "text": text,
        "offset_map": json.dumps([[0, 0, len(text)]]), "source_chars": len(text), "chars": len(text),
    }
    doc_id = doc["doc_id"]
    lines = text.split("\n")
    p1 = len(lines[0]) + 1
    first_sentence_end = text.index("。") + 1
    paragraphs = [(0, len(lines[0])), (p1, len(text))]
    sentences = [(0, 0, len(lines[0])), (1, p1, first_sentence_end), (1, first_sentence_end, len(text))]
    sentence_rows = [
        {"sentence_id": _hex16(doc_id, "s", s, e), "doc_id": doc_id, "paragraph_index": p, "sentence_index": k,
         **_provenance(doc, s, e), "text": text[s:e]}
        for k, (p, s, e) in enumerate(sentences)
    ]

    def number(surface: str, kind: str, value: float, unit: str, sentence: int) -> dict:
        s = text.index(surface)
        e = s + len(surface)
        return {"number_id": _hex16(doc_id, "n", s, e, kind), "doc_id": doc_id,
                "sentence_id": sentence_rows[sentence]["sentence_id"], **_provenance(doc, s, e),
                "text": surface, "text_simplified": surface, "kind": kind, "is_quantity": True, "value": value,
                "value_min": None, "value_max": None, "unit": unit, "qualifier": "exact", "note": None}

    return {
        "source_files": [{"path": path, "size_bytes": doc["size_bytes"], "sha256": sha, "status": "document",
                          "doc_id": doc_id, "reason": None}],
        "documents": [doc],
        "paragraphs": [
            {"paragraph_id": _hex16(doc_id, "p", s, e), "doc_id": doc_id, "paragraph_index": k,
             **_provenance(doc, s, e), "text": text[s:e]}
            for k, (s, e) in enumerate(paragraphs)
        ],
        "sentences": sentence_rows,
        "numbers": [number("1.1万人次", "number", 11000.0, "人次", 1), number("90%", "percent", 90.0, "%", 2)],
    }


def clean_rows() -> dict[str, list[dict]]:
    rows: dict[str, list[dict]] = {t.name: [] for t in TABLES}
    for i in range(len(TITLE_MARKS)):
        for name, found in _rows_for(i).items():
            rows[name].extend(found)
    png = b"\x89PNG\r\n\x1a\n"
    png_sha = hashlib.sha256(png).hexdigest()
    reason = "binary file (PNG image), not text"
    rows["source_files"] += [
        {"path": "photo.png", "size_bytes": len(png), "sha256": png_sha, "status": "rejected", "doc_id": None, "reason": reason},
        {"path": "sources.csv", "size_bytes": 120, "sha256": "0" * 64, "status": "manifest", "doc_id": None, "reason": None},
    ]
    rows["rejected_files"] = [{"rejection_id": _hex16("photo.png", png_sha), "path": "photo.png", "size_bytes": len(png),
                               "sha256": png_sha, "reason": reason, "error": "binary"}]
    return rows


def to_tables(rows: dict[str, list[dict]]) -> dict[str, pa.Table]:
    return {name: pa.Table.from_pylist(found, schema=BY_NAME[name].arrow_schema) for name, found in rows.items()}


def names(outcomes) -> set[tuple[str, str | None]]:
    return {(o.expectation, o.column) for o in outcomes}


@pytest.fixture(scope="module", autouse=True)
def ge_import_seconds() -> float | None:
    """Seconds it took to import Great Expectations, measured before this
    module's first test (None when another module had already imported it)."""
    if "great_expectations" in sys.modules:
        return None
    started = time.perf_counter()
    import great_expectations  # noqa: F401

    return time.perf_counter() - started


@pytest.fixture(scope="module")
def clean_results(ge_import_seconds):
    return validate_all(to_tables(clean_rows()))


# --- the suite files ---------------------------------------------------------


@pytest.mark.parametrize("table", [t.name for t in TABLES])
def test_suite_file_is_complete(table):
    spec = read_suite_file(table)
    suite = load_suite(table)
    assert suite.name == table and len(suite.expectations) == len(spec["expectations"])
    schema_columns = set(BY_NAME[table].column_names)
    derived = {d.name for d in DERIVED.get(table, ())}
    for e in spec["expectations"]:
        kwargs = e["kwargs"]
        for col in [kwargs.get("column"), kwargs.get("column_A"), kwargs.get("column_B"), *kwargs.get("column_list", [])]:
            assert col is None or col in schema_columns | derived, f"{table}: unknown column {col!r} in {e}"
    # every column the data dictionary declares non-nullable has an unconditional critical not-null rule
    guarded = {
        e["kwargs"]["column"] for e in spec["expectations"]
        if e["type"] == "expect_column_values_to_not_be_null" and e["meta"]["critical"]
        and "row_condition" not in e["kwargs"] and "mostly" not in e["kwargs"]
    }
    required = {c.name for c in BY_NAME[table].columns if not c.nullable}
    assert required <= guarded, f"{table}: no not-null rule for {sorted(required - guarded)}"
    key = BY_NAME[table].key
    assert any(e["type"] == "expect_column_values_to_be_unique" and e["kwargs"]["column"] == key
               for e in spec["expectations"]), f"{table}: key {key} has no uniqueness rule"


def test_importing_validate_does_not_import_great_expectations():
    code = "import sys, dangjian.validate; print('great_expectations' in sys.modules, 'pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_expectations_dir_override(tmp_path, monkeypatch):
    suite = {"name": "documents", "expectations": [
        {"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 1},
         "meta": {"critical": True, "why": "test"}}]}
    (tmp_path / "documents.json").write_text(json.dumps(suite), encoding="utf-8")
    monkeypatch.setenv(EXPECTATIONS_ENV, str(tmp_path))
    assert len(load_suite("documents").expectations) == 1
    with pytest.raises(FileNotFoundError, match=EXPECTATIONS_ENV):
        load_suite("numbers")
    (tmp_path / "numbers.json").write_text(json.dumps({"name": "numbers", "expectations": [
        {"type": "expect_table_row_count_to_be_between", "kwargs": {}, "meta": {"critical": "yes"}}]}), encoding="utf-8")
    with pytest.raises(ValueError, match="meta.critical"):
        load_suite("numbers")


# --- clean and corrupted tables ------------------------------------------------


def test_clean_tables_pass(clean_results):
    assert set(clean_results) == {t.name for t in TABLES}
    for name, result in clean_results.items():
        if name == "admin_divisions":
            continue  # synthetic rows leave it empty; see the next test
        assert result.success, (name, result.failed_critical)
        assert not result.failed_warnings, (name, result.failed_warnings)
        assert all(o.success for o in result.outcomes)
        assert result.outcomes[0].expectation == SCHEMA_CHECK
    assert clean_results["numbers"].rows == 20


def test_an_empty_gazetteer_fails_only_its_row_count(clean_results):
    """The synthetic set has no gazetteer rows: that, and nothing else, is caught.
    (The vendored gazetteer itself is validated by every pipeline run in test_pipeline.)"""
    result = clean_results["admin_divisions"]
    assert result.rows == 0 and not result.success
    assert names(result.failed_critical) == {("expect_table_row_count_to_be_between", None)}


def _duplicate_number_id(rows):
    rows["numbers"].append(copy.deepcopy(rows["numbers"][0]))


def _null_paragraph_id(rows):
    rows["paragraphs"][0]["paragraph_id"] = None


def _sentence_past_text(rows):
    doc = rows["documents"][0]
    sentence = next(s for s in rows["sentences"] if s["doc_id"] == doc["doc_id"])
    sentence["end"] = doc["chars"] + 5


def _unknown_kind(rows):
    rows["numbers"][0]["kind"] = "money"


def _orphan_paragraph(rows):
    rows["paragraphs"][0]["doc_id"] = "f" * 16


def _percent_250(rows):
    percent = next(n for n in rows["numbers"] if n["kind"] == "percent")
    percent["value"] = 250.0


@pytest.mark.parametrize(
    "corrupt, table, expectation, column",
    [
        (_duplicate_number_id, "numbers", "expect_column_values_to_be_unique", "number_id"),
        (_null_paragraph_id, "paragraphs", "expect_column_values_to_not_be_null", "paragraph_id"),
        (_sentence_past_text, "sentences", "expect_column_pair_values_a_to_be_greater_than_b", "ref_doc_chars, end"),
        (_unknown_kind, "numbers", "expect_column_values_to_be_in_set", "kind"),
        (_orphan_paragraph, "paragraphs", "expect_column_values_to_be_in_set", "ref_doc_in_documents"),
        (_percent_250, "numbers", "expect_column_values_to_be_between", "value"),
    ],
    ids=["duplicate_id", "null_key", "offset_past_text", "unknown_kind", "doc_not_in_documents", "percent_250"],
)
def test_each_defect_fails_a_critical_expectation(corrupt, table, expectation, column):
    rows = clean_rows()
    corrupt(rows)
    tables = to_tables(rows)
    result = validate_table(table, tables[table], context_tables=tables)
    assert not result.success
    assert (expectation, column) in names(result.failed_critical), names(result.failed_critical)
    failed = next(o for o in result.failed_critical if (o.expectation, o.column) == (expectation, column))
    assert failed.observed.get("unexpected_count", 0) >= 1 and failed.why


def test_percent_250_is_shown_in_the_observed_sample():
    rows = clean_rows()
    _percent_250(rows)
    tables = to_tables(rows)
    result = validate_table("numbers", tables["numbers"], context_tables=tables)
    failed = next(o for o in result.failed_critical if o.column == "value")
    assert failed.observed["unexpected_sample"] == [250.0]
    assert failed.kwargs["row_condition"] == 'kind == "percent" and unit == "%" and note != "change"'


@pytest.mark.parametrize("kept, passes", [(7, False), (8, True), (9, True)], ids=["drop_30pct", "drop_20pct", "drop_10pct"])
def test_volume_against_previous_release(kept, passes):
    tables = to_tables(clean_rows())
    documents = tables["documents"].slice(0, kept)
    result = validate_table("documents", documents, context_tables=tables, previous_rows=10)
    volume = [o for o in result.outcomes if "previous_rows" in o.observed]
    assert len(volume) == 1
    assert volume[0].observed == {"observed_value": kept, "previous_rows": 10}
    assert volume[0].critical and volume[0].success is passes
    assert result.success is passes


def test_no_previous_release_passes_volume(clean_results):
    volume = next(o for o in clean_results["documents"].outcomes if "previous_rows" in o.observed)
    assert volume.success and volume.observed["previous_rows"] is None


def test_odd_unit_only_warns():
    rows = clean_rows()
    for n in rows["numbers"][:2]:
        n["unit"] = SCRIPT
    tables = to_tables(rows)
    results = validate_all(tables)
    numbers = results["numbers"]
    assert numbers.success, numbers.failed_critical
    assert names(numbers.failed_warnings) == {("expect_column_values_to_be_in_set", "unit")}
    assert numbers.failed_warnings[0].observed["unexpected_sample"] == [SCRIPT, SCRIPT]

    page = report_html(results, "dangjian <validation>")
    for result in results.values():
        for o in result.outcomes:
            assert o.expectation in page
    assert SCRIPT not in page and "<validation>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script" not in page and "src=" not in page and "href=\"http" not in page


def test_rules_without_their_table_are_not_evaluated():
    tables = to_tables(clean_rows())
    result = validate_table("numbers", tables["numbers"])  # no documents, no sentences
    assert not result.success
    skipped = [o for o in result.outcomes if "not_evaluated" in o.observed]
    assert skipped and all(not o.success for o in skipped)
    assert ("expect_column_values_to_be_in_set", "ref_doc_in_documents") in names(skipped)


def test_schema_mismatch_fails():
    tables = to_tables(clean_rows())
    broken = tables["rejected_files"].drop_columns(["error"])
    result = validate_table("rejected_files", broken, context_tables=tables)
    schema = result.outcomes[0]
    assert schema.expectation == SCHEMA_CHECK and not schema.success
    assert schema.observed["missing_columns"] == ["error"]


# --- the seeds ---------------------------------------------------------------------


def seed_tables(raw: Path = RAW) -> dict[str, pa.Table]:
    """The six tables as the pipeline's own functions make them from a raw folder."""
    from dangjian.document import DocText, number_rows, paragraph_rows, sentence_rows
    from dangjian.ingest import ingest_folder
    from dangjian.warehouse import to_arrow

    ingested = ingest_folder(raw)
    rows = {"source_files": ingested.source_files, "documents": ingested.documents,
            "rejected_files": ingested.rejected_files, "paragraphs": [], "sentences": [], "numbers": []}
    for document in ingested.documents:
        doc = DocText.from_row(document)
        sentences = sentence_rows(doc)
        rows["paragraphs"] += paragraph_rows(doc)
        rows["sentences"] += sentences
        rows["numbers"] += number_rows(doc, sentences)
    return {name: to_arrow(BY_NAME[name], found) for name, found in rows.items()}


def test_seed_tables_pass_every_critical_expectation(ge_import_seconds, capsys):
    tables = seed_tables()
    started = time.perf_counter()
    results = validate_all(tables, previous_rows={name: t.num_rows for name, t in tables.items()})
    elapsed = time.perf_counter() - started
    with capsys.disabled():
        counts = ", ".join(f"{n} {r.rows}" for n, r in results.items())
        imported = "already imported" if ge_import_seconds is None else f"{ge_import_seconds:.2f}s"
        print(f"\nvalidate_all on the seed tables ({counts}): {elapsed:.2f}s; "
              f"importing Great Expectations: {imported}")
    problems = {
        name: [(o.expectation, o.column, o.observed) for o in r.failed_critical]
        for name, r in results.items() if not r.success
    }
    assert not problems, problems
    assert results["documents"].rows == 5


def test_rejections_and_duplicates_pass(tmp_path):
    """A raw folder with a duplicate and files of every kind that is refused:
    the rejected_files and source_files rules hold on what ingest makes of it."""
    seed = sorted(RAW.glob("0*_*.txt"))[0]
    (tmp_path / "a.txt").write_bytes(seed.read_bytes())
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "copy.txt").write_bytes(seed.read_bytes())
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    (tmp_path / "markup.html").write_text("<html><body><script>var a = 1;</script></body></html>", encoding="utf-8")
    (tmp_path / "link.txt").symlink_to(tmp_path / "a.txt")
    tables = seed_tables(tmp_path)
    statuses = sorted(tables["source_files"]["status"].to_pylist())
    assert statuses.count("rejected") >= 4 and "duplicate" in statuses
    results = validate_all(tables)
    problems = {n: [(o.expectation, o.column, o.observed) for o in r.failed_critical] for n, r in results.items() if not r.success}
    assert not problems, problems


def test_rate_of_change_over_100_percent_is_not_a_share_violation():
    """增长150% is a rate of change (note=change) and may exceed 100; a share of 150% may not."""
    with tempfile.TemporaryDirectory() as d:
        (Path(d) / "a.txt").write_text("区域经济报告\n全年网络零售额同比增长150%,覆盖率达90%。\n", encoding="utf-8")
        result = ingest_folder(Path(d))
    doc = DocText.from_row(result.documents[0])
    sentences = sentence_rows(doc)
    rows = number_rows(doc, sentences)
    docs = to_arrow(DOCUMENTS, result.documents)
    context = {"documents": docs, "sentences": to_arrow(SENTENCES, sentences)}
    ok = validate_table("numbers", to_arrow(NUMBERS, rows), context)
    assert ok.success, ok.failed_critical
    share = [dict(r, note=None) if r["text"] == "150%" else r for r in rows]
    bad = validate_table("numbers", to_arrow(NUMBERS, share), context)
    assert not bad.success
    assert any(o.column == "value" for o in bad.failed_critical)


# --- the working database, validated in batches and once -------------------------


def _warehouse(tmp_path: Path, tables: dict[str, pa.Table]) -> Path:
    import duckdb

    from dangjian.warehouse import write_table

    path = tmp_path / "work.duckdb"
    with duckdb.connect(str(path)) as con:
        for t in TABLES:
            write_table(con, t, tables[t.name])
    return path


def _validate_db(path: Path, cache: Path, **kwargs) -> tuple[dict, list[str]]:
    import duckdb

    messages: list[str] = []
    with duckdb.connect(str(path), read_only=True) as con:
        results = validate_warehouse(con, cache, log=messages.append, **kwargs)
    return results, messages


def _shape(result) -> list[tuple]:
    """What must agree between a whole-table and a batched validation: every
    outcome with its counts; samples compared as sets (batches give them in
    another order)."""
    out = []
    for o in result.outcomes:
        observed = {k: v for k, v in o.observed.items() if k not in ("unexpected_sample", "cast_from")}
        sample = sorted(map(str, o.observed.get("unexpected_sample", [])))
        out.append((o.expectation, o.column, o.critical, o.success, observed, sample))
    return out


def _defective_rows() -> dict[str, list[dict]]:
    """Clean rows with defects in several documents: a share of 250 %, odd
    units in two documents, and one number without a sentence (5 % of the
    numbers: exactly what the `mostly: 0.95` warning still accepts)."""
    rows = clean_rows()
    _percent_250(rows)
    rows["numbers"][0]["unit"] = SCRIPT
    rows["numbers"][4]["unit"] = SCRIPT
    rows["numbers"][6]["sentence_id"] = None
    return rows


def test_batches_add_up_to_the_whole_table(tmp_path):
    tables = to_tables(_defective_rows())
    previous = {name: t.num_rows for name, t in tables.items()}
    whole = validate_all(tables, previous_rows=previous)
    batched, _ = _validate_db(_warehouse(tmp_path, tables), tmp_path / "cache", previous_rows=previous, batch_docs=3)
    assert set(batched) == set(whole)
    for name in whole:
        assert batched[name].rows == whole[name].rows, name
        assert _shape(batched[name]) == _shape(whole[name]), name
    numbers = batched["numbers"]
    assert names(numbers.failed_critical) == {("expect_column_values_to_be_between", "value")}
    unit = next(o for o in numbers.failed_warnings if o.column == "unit")
    assert unit.observed["unexpected_count"] == 2 and unit.observed["unexpected_sample"] == [SCRIPT, SCRIPT]
    # One document's batch alone has half its numbers without a sentence; the table as a whole passes.
    mostly = next(o for o in numbers.outcomes if o.column == "sentence_id" and "mostly" in o.kwargs)
    assert mostly.success and mostly.observed["unexpected_count"] == 1


def test_a_second_validation_reuses_every_outcome(tmp_path):
    db = _warehouse(tmp_path, to_tables(clean_rows()))
    first, _ = _validate_db(db, tmp_path / "cache", batch_docs=4)
    again, messages = _validate_db(db, tmp_path / "cache", batch_docs=4)
    assert {n: _shape(r) for n, r in again.items()} == {n: _shape(r) for n, r in first.items()}
    assert all("0 documents validated" in m or "outcome reused" in m for m in messages), messages


def test_a_changed_row_is_validated_again_with_its_document_only(tmp_path):
    import duckdb

    db = _warehouse(tmp_path, to_tables(clean_rows()))
    first, _ = _validate_db(db, tmp_path / "cache", batch_docs=4)
    assert first["numbers"].success
    with duckdb.connect(str(db)) as con:  # the way a bug, or a hand, would change it
        con.execute("""UPDATE "extracted"."numbers" SET kind = 'money'
                       WHERE number_id = (SELECT min(number_id) FROM "extracted"."numbers")""")
    again, messages = _validate_db(db, tmp_path / "cache", batch_docs=4)
    assert ("expect_column_values_to_be_in_set", "kind") in names(again["numbers"].failed_critical)
    numbers = next(m for m in messages if m.startswith("validation: numbers"))
    # its batch's three other documents count by their shares of its outcomes
    assert "2 batches unchanged, 1 documents validated in 1 batches, 3 unchanged documents" in numbers, numbers
    assert all(again[n].success == first[n].success for n in again if n != "numbers")


_DOC_IDS = st.sampled_from(["a", "b", "None", "", None])
_FPS = st.dictionaries(_DOC_IDS, st.tuples(st.integers(1, 3), st.integers(0, 3)), max_size=4)


def _doc_fingerprints(fps: dict):
    from dangjian.validate import DocFingerprints

    ids = list(fps)
    return DocFingerprints(pa.table({"doc_id": pa.array(ids, pa.string()),
                                      "n": pa.array([fps[d][0] for d in ids], pa.int64()),
                                      "h": pa.array([fps[d][1] for d in ids], pa.uint64())}))


@st.composite
def _two_states(draw):
    """The same tables (own, then contexts) before and after some change."""
    count = draw(st.integers(1, 3))
    return [draw(st.lists(_FPS, min_size=count, max_size=count)) for _ in range(2)]


@given(_two_states(), st.lists(st.lists(_DOC_IDS, max_size=4), min_size=1, max_size=4))
@example([[{}], [{}]], [[None], ["None"]])
@example([[{}], [{"a": (1, 0)}]], [["a"]])
@example([[{"a": (1, 0)}], [{"a": (1, 1)}]], [["a"]])
@example([[{"a": (1, 0)}, {}], [{"a": (1, 0)}, {"a": (2, 0)}]], [["a"]])
def test_batch_and_document_digests_tell_apart_exactly_what_differs(states, batches):
    """A batch's digest in one state of the tables equals another's in the
    same or another state exactly when both list the same documents in the
    same order, each with the same row count and hash in every table, or
    missing from it in both: a null doc_id, the id "None", a document gone
    from a table and one never there are all told apart. The same holds for
    one document's digest under a given base."""
    from dangjian.validate import _batch_digests, _doc_digests

    def plain(tables, docs):
        return list(docs), [[fps.get(d) for d in docs] for fps in tables]

    found = []  # (plain description, batch digest) in each state
    for tables in states:
        arrays = [_doc_fingerprints(fps) for fps in tables]
        found += zip((plain(tables, b) for b in batches), _batch_digests(arrays, batches))
        docs = [d for b in batches for d in b]
        for base in ("rules-1", "rules-2"):
            found += zip(((base, plain(tables, [d])) for d in docs), _doc_digests(arrays, base, docs))
    for a, digest_a in found:
        for b, digest_b in found:
            assert (digest_a == digest_b) == (a == b), (a, b)


def test_a_stored_batch_this_code_did_not_write_is_validated_again(tmp_path):
    """A batch file whose documents are not ids (edited, or written by
    something else) is not reused and does not stop the validation."""
    db, cache = _warehouse(tmp_path, to_tables(clean_rows())), tmp_path / "cache"
    first, _ = _validate_db(db, cache, batch_docs=4)
    stored = sorted((cache / "numbers").glob("rows-*.json"))
    found = json.loads(stored[0].read_text(encoding="utf-8"))
    stored[0].write_text(json.dumps({**found, "docs": [1, 2]}), encoding="utf-8")
    again, messages = _validate_db(db, cache, batch_docs=4)
    numbers = next(m for m in messages if m.startswith("validation: numbers"))
    assert "0 documents validated" not in numbers, numbers
    assert _shape(again["numbers"]) == _shape(first["numbers"])
    for path in (cache / "numbers").glob("rows-*.json"):  # written anew or pruned
        assert all(isinstance(d, str) for d in json.loads(path.read_text(encoding="utf-8"))["docs"]), path


def test_a_changed_context_row_validates_its_document_again(tmp_path):
    """The numbers' rules look up their sentences, so a batch's outcome
    depends on the sentences of its documents too. Deleting one sentence a
    number points to, with every number left as it was, must validate that
    document's numbers again (and no share of its batch's old outcome may
    stand for them): the number's reference now fails, as it does when
    validating from nothing."""
    import duckdb

    db, cache = _warehouse(tmp_path, to_tables(clean_rows())), tmp_path / "cache"
    first, _ = _validate_db(db, cache, batch_docs=4)
    assert first["numbers"].success
    with duckdb.connect(str(db)) as con:
        con.execute("""DELETE FROM "documents"."sentences" WHERE sentence_id = (
                           SELECT min(sentence_id) FROM "extracted"."numbers")""")
    again, messages = _validate_db(db, cache, batch_docs=4)
    numbers = next(m for m in messages if m.startswith("validation: numbers"))
    assert "1 documents validated in 1 batches" in numbers, numbers
    assert ("expect_column_values_to_be_in_set", "ref_sentence_in_sentences") in names(again["numbers"].failed_critical)
    fresh, _ = _validate_db(db, tmp_path / "fresh", batch_docs=4)
    assert _shape(again["numbers"]) == _shape(fresh["numbers"])


def test_shares_of_a_changed_batch_give_the_outcomes_of_validating_it_again(tmp_path):
    """Documents leave two batches of four. The batch whose only failing
    rule is "not null" (one number without a sentence) kept each document's
    share of its counts, so its other documents are not validated again;
    the batch with a failing unit (a value no share can be given for) kept
    none, so they are. Either way every outcome, count and sample is what a
    validation from nothing gives."""
    import duckdb

    rows = clean_rows()
    docs = sorted({d["doc_id"] for d in rows["documents"]})
    first, second = docs[0:4], docs[4:8]  # the batches of four, in doc_id order
    of = {d: [n for n in rows["numbers"] if n["doc_id"] == d] for d in docs}
    of[first[0]][0]["sentence_id"] = None  # the "not null" warning fails (mostly 0.95 lets it pass)
    of[second[0]][0]["unit"] = SCRIPT  # the unit's pattern fails
    rows["numbers"].remove(of[first[2]][1])  # documents with other row counts than their neighbours
    rows["numbers"].remove(of[second[2]][1])
    db, cache = _warehouse(tmp_path, to_tables(rows)), tmp_path / "cache"
    before, _ = _validate_db(db, cache, batch_docs=4)
    assert len(list((cache / "numbers").glob("shares-*.json"))) == 2  # the first and last batches

    # A share is each document's own count: rows considered by the key's "not null" rule.
    with duckdb.connect(str(db), read_only=True) as con:
        counts = dict(con.execute('SELECT doc_id, count(*) FROM "extracted"."numbers" GROUP BY doc_id').fetchall())
    spec = read_suite_file("numbers")
    key_rule = next(str(i) for i, e in enumerate(spec["expectations"])
                    if e["type"] == "expect_column_values_to_not_be_null" and e["kwargs"] == {"column": "number_id"})
    from dangjian.validate import _Cache

    for path in (cache / "numbers").glob("shares-*.json"):
        shares = _Cache(cache, "numbers").load_shares(path.stem.replace("shares-", "rows-"))
        assert dict(zip(shares["docs"], shares["lines"][key_rule][0])) == {d: counts[d] for d in shares["docs"]}

    with duckdb.connect(str(db)) as con:  # one document's numbers gone from each batch
        con.execute('DELETE FROM "extracted"."numbers" WHERE doc_id IN (?, ?)', [first[1], second[1]])
    again, messages = _validate_db(db, cache, batch_docs=4)
    numbers = next(m for m in messages if m.startswith("validation: numbers"))
    assert "1 batches unchanged, 3 documents validated in 1 batches, 3 unchanged documents" in numbers, numbers
    fresh, _ = _validate_db(db, tmp_path / "fresh", batch_docs=4)
    for name in fresh:
        assert _shape(again[name]) == _shape(fresh[name]), name
    sentence = next(o for o in again["numbers"].outcomes if o.column == "sentence_id" and "mostly" in o.kwargs)
    assert sentence.observed["unexpected_count"] == 1 and sentence.observed["unexpected_sample"] == [None]
    assert sentence.observed["element_count"] == sum(counts.values()) - counts[first[1]] - counts[second[1]]
    # the reused documents are a batch of their own now: a third run validates nothing
    _, messages = _validate_db(db, cache, batch_docs=4)
    assert all("0 documents validated" in m or "outcome reused" in m for m in messages), messages


def test_a_number_sentence_must_be_of_its_own_document(tmp_path):
    """A number whose sentence belongs to another document fails, whether
    the tables are validated whole or by batches of documents: lookups match
    on the document, so an outcome never depends on which documents share a
    batch."""
    rows = clean_rows()
    other = next(s for s in rows["sentences"] if s["doc_id"] != rows["numbers"][0]["doc_id"])
    rows["numbers"][0]["sentence_id"] = other["sentence_id"]
    tables = to_tables(rows)
    rule = ("expect_column_values_to_be_in_set", "ref_sentence_in_sentences")
    assert rule in names(validate_all(tables)["numbers"].failed_critical)
    db = _warehouse(tmp_path, tables)
    for batch_docs in (1, 1000):
        batched, _ = _validate_db(db, tmp_path / f"cache{batch_docs}", batch_docs=batch_docs)
        assert rule in names(batched["numbers"].failed_critical), batch_docs


def test_batches_in_worker_processes_give_the_same_outcomes(tmp_path):
    db = _warehouse(tmp_path, to_tables(_defective_rows()))
    here, _ = _validate_db(db, tmp_path / "here", batch_docs=3, workers=1)
    workers, _ = _validate_db(db, tmp_path / "workers", batch_docs=3, workers=2)
    assert {n: _shape(r) for n, r in workers.items()} == {n: _shape(r) for n, r in here.items()}


def test_a_large_table_validated_in_slices_agrees_with_the_whole(tmp_path):
    """The gazetteer is validated in slices of rows (row-wise rules) plus once
    on its key (uniqueness, row count). Defects in different slices, and a
    duplicate code whose two rows fall in different slices, are caught
    exactly as when the table is validated at once."""
    import duckdb

    from dangjian.reference.gazetteer import load_admin_divisions
    from dangjian.warehouse import write_table

    rows = load_admin_divisions().slice(0, 2500).to_pylist()
    rows.sort(key=lambda r: r["code"])
    town = next(i for i, r in enumerate(rows) if r["level"] == "town" and i > 1200)
    rows[town]["code"] = rows[town]["code"][:6]  # a 6-digit town code, in the second slice
    rows[10]["lat"] = 99.0  # in the first slice
    rows.append(dict(rows[2300]))  # a second row with a code of the third slice
    rows[-1]["name"] = "重复"
    table = pa.Table.from_pylist(rows, schema=ADMIN_DIVISIONS.arrow_schema)
    whole = validate_table("admin_divisions", table)

    db = tmp_path / "work.duckdb"
    with duckdb.connect(str(db)) as con:
        write_table(con, ADMIN_DIVISIONS, table)
    sliced, messages = _validate_db(db, tmp_path / "cache", names=["admin_divisions"], slice_rows=1000)
    assert any("2501 rows in 3 slices" in m for m in messages), messages
    result = sliced["admin_divisions"]
    assert result.rows == whole.rows == 2501
    assert _shape(result) == _shape(whole)
    assert names(result.failed_critical) == {
        ("expect_column_values_to_be_unique", "code"),
        ("expect_column_values_to_match_regex", "code"),  # both the 6/9/12-digit rule and the town rule
        ("expect_column_values_to_be_between", "lat"),
        ("expect_table_row_count_to_be_between", None),  # 2,501 rows, not a whole gazetteer
    }
    town_rule = next(o for o in result.failed_critical if o.kwargs.get("row_condition") and "town" in str(o.kwargs))
    assert town_rule.observed["unexpected_count"] == 1


def test_remembered_configurations_filters_and_domains_give_the_outcomes_of_ge_as_shipped(monkeypatch):
    """Inside one validation GE builds each expectation's configuration once,
    filters the frame by each row condition once and builds each metric
    domain's rows once (``validate._within_one_validation``). With GE as
    shipped, every outcome, observed value and sample must be the same: on
    tables whose conditional rules fail (a share of 250 %, odd units, which
    report counts and samples of the filtered rows) and on the seeds' tables.
    The work must really be shared: fewer ``DataFrame.query`` calls (row
    conditions) and ``DataFrame.dropna`` calls (pairs of columns) than as
    shipped."""
    import contextlib

    import pandas as pd

    from dangjian import validate

    calls = {"query": 0, "dropna": 0}

    def counted(name):
        shipped = getattr(pd.DataFrame, name)

        def method(self, *args, **kwargs):
            calls[name] += 1
            return shipped(self, *args, **kwargs)

        monkeypatch.setattr(pd.DataFrame, name, method)

    counted("query")
    counted("dropna")
    cases = {"defective": to_tables(_defective_rows()), "seeds": seed_tables()}
    remembered = {case: validate_all(tables) for case, tables in cases.items()}
    remembered_calls = dict(calls)
    calls.update(query=0, dropna=0)
    monkeypatch.setattr(validate, "_within_one_validation", contextlib.nullcontext)
    shipped = {case: validate_all(tables) for case, tables in cases.items()}
    assert any(not o.success and o.kwargs.get("row_condition")
               for r in shipped["defective"].values() for o in r.outcomes)
    for name in calls:
        assert 0 < remembered_calls[name] < calls[name] / 2, (name, remembered_calls, calls)
    for case in cases:
        for name in shipped[case]:
            assert remembered[case][name].outcomes == shipped[case][name].outcomes, (case, name)


def test_a_new_previous_release_validates_the_volume_rule_and_not_the_keys_again(tmp_path):
    """The volume rule compares a table's rows with the previous release's;
    the other whole-table rules (key uniqueness) do not read it. A new
    previous release, the rows unchanged, gives the volume rule a new
    outcome and reuses the stored uniqueness outcomes."""
    tables = to_tables(clean_rows())
    db, cache = _warehouse(tmp_path, tables), tmp_path / "cache"
    rows = {name: t.num_rows for name, t in tables.items()}

    def volume(result):
        return next(o for o in result.outcomes if o.expectation == "expect_table_row_count_to_be_between"
                    and "previous_rows" in o.observed)

    def stored(prefix: str) -> dict[str, float]:
        return {str(p.relative_to(cache)): p.stat().st_mtime_ns for p in cache.rglob(f"{prefix}-*.json")}

    first, _ = _validate_db(db, cache, previous_rows=rows)
    assert volume(first["numbers"]).success
    keys, volumes = stored("table"), stored("volume")
    assert keys and volumes
    grown = {name: n * 10 for name, n in rows.items()}  # as if nine tenths of every table were gone
    again, _ = _validate_db(db, cache, previous_rows=grown)
    assert not volume(again["numbers"]).success and volume(again["numbers"]).observed["previous_rows"] == grown["numbers"]
    assert stored("table") == keys  # the same files, not written again
    assert set(stored("volume")) != set(volumes)
    unique = [o for o in again["numbers"].outcomes if o.expectation == "expect_column_values_to_be_unique"]
    assert unique and all(o.success for o in unique)


def test_whole_table_rules_not_found_are_validated_in_one_call_and_stored_apart(tmp_path, monkeypatch):
    """After a new row both the volume rule (the row count changed) and key
    uniqueness (the rows changed) must be validated again: one GE call on
    one frame, with the same outcomes as validating from nothing. Each
    group is stored under its own key: when only the volume rule must be
    validated again, the stored uniqueness outcome is the right one."""
    from dangjian import validate

    rows = clean_rows()
    db, cache = _warehouse(tmp_path, to_tables(rows)), tmp_path / "cache"
    previous = {name: len(found) for name, found in rows.items()}
    _validate_db(db, cache, previous_rows=previous)

    rows["numbers"].append(dict(rows["numbers"][0]))  # one more row, and a key twice
    changed = tmp_path / "changed"
    changed.mkdir()
    db = _warehouse(changed, to_tables(rows))

    calls: dict[str, int] = {}
    real = validate._Validator.run

    def run(self, table_name, *args, **kwargs):
        calls[table_name] = calls.get(table_name, 0) + 1
        return real(self, table_name, *args, **kwargs)

    monkeypatch.setattr(validate._Validator, "run", run)
    for n, previous_rows in enumerate((previous, {k: v * 10 for k, v in previous.items()})):
        calls.clear()
        found, _ = _validate_db(db, cache, previous_rows=previous_rows)
        # The first run looks for duplicates among the changed document's
        # keys first (``_keys_by_difference``) and finds one; then both
        # groups in one call on the keys' hashes, where the duplicate fails
        # again, so the values are validated once more, for the report. The
        # second finds uniqueness stored and runs only the volume rule.
        assert calls["numbers"] == (3 if n == 0 else 1), (n, calls)
        fresh, _ = _validate_db(db, tmp_path / f"fresh-{n}", previous_rows=previous_rows)
        for name in fresh:
            assert _shape(found[name]) == _shape(fresh[name]), (n, name)
        unique = next(o for o in found["numbers"].outcomes if o.expectation == "expect_column_values_to_be_unique")
        assert not unique.success and unique.observed["unexpected_count"] == 2


def test_the_shared_validator_keeps_nothing_of_a_batch_once_validated():
    """One GE validator serves every batch of a run (``check_batch``). GE
    caches every metric it resolves, each rule's row masks among them, under
    keys of that batch that no later call asks for; kept, they grew with the
    corpus (about 140 MB over 16 batches at 40,000 documents)."""
    from dangjian.validate import _shared_validator, check_batch, prepare

    tables = seed_tables()
    context = {name: tables[name] for name in ("documents", "sentences")}
    frame, _, runnable = prepare("numbers", tables["numbers"], context, None)
    for _ in range(2):
        outcomes, _ = check_batch("numbers", frame, tables["numbers"].column("doc_id"), runnable, None)
        assert len(outcomes) == len(runnable) and all(o.success for o in outcomes if o.critical)
        engine = _shared_validator(None).source.get_execution_engine()
        assert len(engine._metric_cache) == 0
        assert not engine.batch_manager.batch_data_cache


def test_keys_are_compared_by_their_hashes_and_a_duplicate_by_its_values(tmp_path, monkeypatch):
    """Whole-table uniqueness in the working database is validated first on
    DuckDB's 64-bit hashes of the key columns (8 bytes a row instead of a
    Python string). A pass there is the pass of the values, with the same
    counts, nulls included; a duplicate is validated again on the values, so
    the report shows the key itself. Both must agree with validating the
    tables' values directly (``validate_all``)."""
    from dangjian import validate

    frames: list[tuple[str, dict[str, str]]] = []
    real = validate._Validator.run

    def run(self, table_name, data, *args, **kwargs):
        frames.append((table_name, {f.name: str(f.type) for f in data.schema}))
        return real(self, table_name, data, *args, **kwargs)

    monkeypatch.setattr(validate._Validator, "run", run)
    rows = clean_rows()
    rows["documents"][1]["source_path"] = None  # a null is not a value: missing, not unexpected
    tables = to_tables(rows)
    found, _ = _validate_db(_warehouse(tmp_path, tables), tmp_path / "cache")
    direct = validate_all(tables)
    for name in direct:
        assert _shape(found[name]) == _shape(direct[name]), name
    source_path = next(o for o in found["documents"].outcomes if o.column == "source_path" and "unique" in o.expectation)
    assert source_path.success and source_path.observed["missing_count"] == 1
    # The whole-table call on numbers saw the key as hashes; the compound key of sentences too.
    assert ("numbers", {"number_id": "uint64"}) in frames
    assert ("sentences", {"sentence_id": "uint64", "doc_id": "uint64", "sentence_index": "int32"}) in frames, frames

    frames.clear()
    rows["numbers"].append(dict(rows["numbers"][3]))  # the same number_id twice
    tables = to_tables(rows)
    (tmp_path / "dup").mkdir()
    found, _ = _validate_db(_warehouse(tmp_path / "dup", tables), tmp_path / "dup-cache")
    direct = validate_all(tables)
    assert _shape(found["numbers"]) == _shape(direct["numbers"])
    unique = next(o for o in found["numbers"].outcomes if o.expectation == "expect_column_values_to_be_unique")
    assert not unique.success and unique.observed["unexpected_count"] == 2
    assert unique.observed["unexpected_sample"] == [rows["numbers"][3]["number_id"]] * 2
    whole = [types for name, types in frames if name == "numbers" and "unit" not in types]
    assert whole[-2:] == [{"number_id": "uint64"}, {"number_id": "string"}], frames


def test_key_uniqueness_is_validated_by_difference_and_agrees_with_the_whole_table(tmp_path):
    """After a state whose keys were unique, key uniqueness is validated on
    the rows of the changed documents and the rows that share a key with
    them (``_keys_by_difference``), not on every key of the table. Each
    state below is validated that way, from the first state's stored
    outcomes, and from nothing: every outcome of every table must agree,
    counts and samples, and the duplicates must be found wherever they lie."""
    import shutil

    rows = clean_rows()
    last = rows["documents"][-1]["doc_id"]
    first_id, second_id = (rows["numbers"][k]["number_id"] for k in (0, 1))

    def without(found: dict, doc: str) -> dict:
        return {name: [r for r in rs if r.get("doc_id") != doc] for name, rs in found.items()}

    def state(name: str, changed: dict, cache_from: Path | None) -> tuple[dict, Path]:
        folder = tmp_path / name
        folder.mkdir()
        db = _warehouse(folder, to_tables(changed))
        cache = folder / "cache"
        if cache_from is not None:
            shutil.copytree(cache_from, cache)
        found, _ = _validate_db(db, cache, batch_docs=4)
        fresh, _ = _validate_db(db, folder / "fresh", batch_docs=4)
        for table in fresh:
            assert _shape(found[table]) == _shape(fresh[table]), (name, table)
        return found, cache

    def unique(result):
        return next(o for o in result["numbers"].outcomes if o.expectation == "expect_column_values_to_be_unique")

    def stored(cache: Path) -> dict:
        [path] = (cache / "numbers").glob("table-*.json")
        return json.loads(path.read_text())

    base = without(rows, last)
    _, first = state("first", base, None)
    assert (first / "numbers" / "keys-basis.arrow").exists()

    # One more document: its two numbers are validated, no other key.
    added, cache = state("added", copy.deepcopy(rows), first)
    assert unique(added).success and unique(added).observed["element_count"] == len(rows["numbers"])
    assert (stored(cache)["changed_documents"], stored(cache)["rows_validated"]) == (1, 2)

    # The basis moves on with every state that passes: one more change after that is one document.
    further = copy.deepcopy(rows)
    further["numbers"][0]["note"] = "edited"
    _, cache = state("further", further, cache)
    assert (stored(cache)["changed_documents"], stored(cache)["rows_validated"]) == (1, 2)

    # A document removed: nothing to look at, and still the whole table's counts.
    removed, cache = state("removed", without(base, rows["documents"][3]["doc_id"]), first)
    assert unique(removed).success and (stored(cache)["changed_documents"], stored(cache)["rows_validated"]) == (0, 0)

    # The new document repeats a key of an unchanged one.
    clash = copy.deepcopy(rows)
    clash["numbers"][-1]["number_id"] = first_id
    found, clashed = state("clash", clash, first)
    assert not unique(found).success and unique(found).observed["unexpected_count"] == 2

    # A key edited in place (the document keeps its row count) to repeat another document's.
    edited = copy.deepcopy(base)
    [target] = [r for r in edited["numbers"] if r["doc_id"] == rows["numbers"][2]["doc_id"]][:1]
    target["number_id"] = second_id
    found, _ = state("edited", edited, first)
    assert not unique(found).success and unique(found).observed["unexpected_count"] == 2

    # A failing state is no basis: after the clash, another document's
    # change alone must not hide the duplicate that is still there.
    later = copy.deepcopy(clash)
    later["numbers"][10]["note"] = "edited"
    found, _ = state("later", later, clashed)
    assert not unique(found).success and unique(found).observed["unexpected_count"] == 2

    # Keys missing in the new document: counted as missing over the whole table, as GE counts them.
    nulls = copy.deepcopy(rows)
    for r in nulls["paragraphs"]:
        if r["doc_id"] == last:
            r["paragraph_id"], r["paragraph_index"] = None, None
    r["doc_id"] = None
    found, _ = state("nulls", nulls, first)
    keys = [o for o in found["paragraphs"].outcomes if "unique" in o.expectation]
    assert [o.observed["missing_count"] for o in keys] == [2, 1] and all(o.success for o in keys)
