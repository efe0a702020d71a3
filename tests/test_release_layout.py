"""Tables of documents are published by document, in row groups of whole
documents whose ends the documents decide. So a new or changed document
changes its own row group, the release copies the others from the last
release's file, and the file is still exactly the one a clean export writes."""
from __future__ import annotations

import dataclasses
import json
import random
import shutil

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import RAW
from test_pipeline import materialize

from dangjian import release
from dangjian.release import BY_DOCUMENT, plan_row_groups
from dangjian.release_docs import release_changes
from dangjian.schema import PARAGRAPHS, TABLES
from dangjian.warehouse import WORK_DB


def _docs(rng: random.Random, n: int) -> list[tuple[str, int, str]]:
    ids = sorted({f"{rng.getrandbits(64):016x}" for _ in range(n)})
    return [(d, rng.choice([1, 3, 20, 55, 140]), f"fp-{d}") for d in ids]


def _digests(plan) -> list[str]:
    return [g.digest for g in plan]


def test_row_groups_hold_whole_documents_in_order_and_about_the_target():
    rng = random.Random(7)
    docs = _docs(rng, 3000)
    plan = plan_row_groups(docs, 1024, "salt")
    assert plan[0].first == docs[0][0] and plan[-1].last == docs[-1][0]
    # Consecutive groups meet at consecutive documents: none is skipped or split.
    index = {d: i for i, (d, _, _) in enumerate(docs)}
    assert all(index[b.first] == index[a.last] + 1 for a, b in zip(plan, plan[1:]))
    assert sum(g.rows for g in plan) == sum(n for _, n, _ in docs)
    assert all(512 <= g.rows < 2048 + 140 for g in plan[:-1])
    mean = sum(g.rows for g in plan) / len(plan)
    assert 0.7 * 1024 < mean < 1.5 * 1024, mean
    assert plan == plan_row_groups(docs, 1024, "salt")
    assert _digests(plan) != _digests(plan_row_groups(docs, 1024, "other settings"))


def test_one_new_or_changed_document_changes_one_or_two_row_groups_nearly_always():
    """A group ends where a document says, once the group holds half the
    target: so an edit changes its own group, and the next one where it
    moves an end. Now and then the moved end shifts the next ends too, until
    a document ends a group where it did before."""
    rng = random.Random(11)
    docs = _docs(rng, 2000)
    before = set(_digests(plan_row_groups(docs, 1024, "s")))
    touched = {"add": [], "remove": [], "change": []}
    for _ in range(600):
        edited = list(docs)
        what = rng.choice(list(touched))
        if what == "add":
            edited.append((f"{rng.getrandbits(64):016x}", rng.choice([1, 20, 140]), "new"))
            edited.sort()
        elif what == "remove":
            edited.pop(rng.randrange(len(edited)))
        else:
            i = rng.randrange(len(edited))
            edited[i] = (edited[i][0], edited[i][1], "changed")
        touched[what].append(len([d for d in _digests(plan_row_groups(edited, 1024, "s")) if d not in before]))
    assert set(touched["change"]) == {1}  # same rows: every end stays where it was
    moved = touched["add"] + touched["remove"]
    assert min(moved) >= 1 and sum(moved) / len(moved) < 1.4, sum(moved) / len(moved)
    assert sum(n > 2 for n in moved) <= 0.05 * len(moved)
    assert max(moved) < 10


def test_a_document_larger_than_a_group_is_a_group_of_its_own():
    docs = [("a", 10, "x"), ("b", 5000, "y"), ("c", 10, "z")]
    plan = plan_row_groups(docs, 64, "s")
    assert [(g.first, g.last) for g in plan] == [("a", "b"), ("c", "c")]
    assert plan_row_groups([], 64, "s") == []


# ---------------------------------------------------------------------------
# Releases written from the last one's row groups
# ---------------------------------------------------------------------------

NEW_REPORT = ("通州区推进“红色网格”建设\n2021年,全区建成网格党支部168个,"
              "覆盖率达到98%,化解矛盾纠纷1200余件。\n")


@pytest.fixture(scope="module")
def two_states(tmp_path_factory):
    """The working databases of two runs: the seeds, then the seeds with one
    report added and one number of a seed changed."""
    root = tmp_path_factory.mktemp("layout")
    raw = root / "raw"
    shutil.copytree(RAW, raw)
    first = root / "first"
    assert materialize(raw, first).success
    (raw / "extra").mkdir()
    (raw / "extra" / "new.txt").write_text(NEW_REPORT, encoding="utf-8")
    seed = sorted(raw.glob("000_*.txt"))[0]
    text = seed.read_text(encoding="utf-8")
    assert "4825" in text
    seed.write_text(text.replace("4825", "4826", 1), encoding="utf-8")
    second = root / "second"
    shutil.copytree(first, second, symlinks=True)
    assert materialize(raw, second).success
    return [w / WORK_DB for w in (first, second)]


@pytest.fixture
def small_groups(monkeypatch):
    """Row groups of a few rows, so that the seeds' tables of documents have
    many (the gazetteer keeps its size: 668,815 rows in groups of 24 would
    take minutes to write)."""
    monkeypatch.setattr(release, "ROW_GROUP_ROWS", {name: 2 if name == "documents" else 24 for name in BY_DOCUMENT})


def _publish(work, warehouse, lines=None):
    (warehouse / "work").mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(work), read_only=True) as con:
        return release.publish(con, warehouse, log=(lines.append if lines is not None else None), workers=1)


def _plan_as_written_before(docs, target: int, salt: str) -> list:
    """The row-group plan as releases before be4cdba made it: one digest
    update per document, from its ``(doc_id, rows, fingerprint)``."""
    import hashlib

    low, high, per_row = target // 2, 2 * target, 2 / target
    plans, first = [], None
    for doc_id, n, fingerprint in docs:
        if first is None:
            first, rows, digest = doc_id, 0, hashlib.sha256(salt.encode())
        rows += n
        digest.update(f"\x1e{doc_id}\x1f{fingerprint}".encode())
        chance = int.from_bytes(hashlib.blake2b(doc_id.encode(), digest_size=8).digest(), "big") / 2**64
        if rows >= high or (rows >= low and chance < n * per_row):
            plans.append(release.RowGroupPlan(first, doc_id, rows, digest.hexdigest()))
            first = None
    if first is not None:
        plans.append(release.RowGroupPlan(first, doc_id, rows, digest.hexdigest()))
    return plans


def test_groups_planned_from_the_fingerprints_in_arrow_are_those_planned_before(two_states):
    """A release takes each document's entry in its group's digest from the
    row fingerprints in Arrow and hashes slices of their buffer; the groups
    and digests are those that one digest update per document from the
    ``(doc_id, rows, "rows:hash:rights")`` strings gave, so release files
    written before this still give their row groups."""
    from dangjian.schema import DOCUMENTS
    from conftest import fingerprint_map

    from dangjian.warehouse import row_fingerprints

    for work in two_states:
        with duckdb.connect(str(work), read_only=True) as con:
            rights = fingerprint_map(row_fingerprints(con, DOCUMENTS))
            for table in (t for t in TABLES if t.name in BY_DOCUMENT):
                own = fingerprint_map(row_fingerprints(con, table))
                withheld = bool(release.TEXT_COLUMNS.get(table.name))
                docs = [(d, int(own[d].split(":")[0]), f"{own[d]}:{rights.get(d, '') if withheld else ''}")
                        for d in sorted(own)]
                plan = release._plan(release._documents_of(con, table), 2, "s")
                assert plan == _plan_as_written_before(docs, 2, "s") == plan_row_groups(docs, 2, "s"), table.name
                assert len(plan) > 1 and sum(g.rows for g in plan) == sum(n for _, n, _ in docs)


def test_a_release_copies_unchanged_row_groups_and_writes_the_same_files(two_states, small_groups, tmp_path):
    first, second = two_states
    warehouse, clean = tmp_path / "incremental", tmp_path / "clean"
    _publish(first, warehouse)
    lines: list[str] = []
    info = _publish(second, warehouse, lines)
    fresh = _publish(second, clean)
    assert info.created and info.content_hash == fresh.content_hash

    exports = json.loads((warehouse / release.EXPORT_INDEX).read_text(encoding="utf-8"))
    copied = [line for line in lines if "row groups copied" in line]
    assert len(copied) >= 6, lines  # paragraphs, sentences and the fact tables at least
    for table in TABLES:
        ours, theirs = info.path / f"{table.name}.parquet", fresh.path / f"{table.name}.parquet"
        assert ours.read_bytes() == theirs.read_bytes(), table.name
        if table.name in BY_DOCUMENT:
            meta = pq.ParquetFile(ours).metadata
            groups = exports[table.name]["groups"]
            assert meta.num_row_groups == len(groups) and [meta.row_group(i).num_rows for i in range(len(groups))] == \
                [g[1] for g in groups]
            ids = pq.read_table(ours, columns=list(dict.fromkeys(["doc_id", table.key])))
            pairs = list(zip(ids["doc_id"].to_pylist(), ids[table.key].to_pylist()))
            assert pairs == sorted(pairs), table.name
    numbers = next(line for line in copied if line.startswith("release: numbers:"))
    reused, total = (int(w) for w in numbers.split(", ")[1].split(" row groups")[0].split(" of "))
    assert total >= 5 and 0 < reused < total, numbers


def test_the_changelog_of_copied_files_equals_comparing_them_whole(two_states, small_groups, tmp_path):
    first, second = two_states
    warehouse = tmp_path / "w"
    one = _publish(first, warehouse)
    two = _publish(second, warehouse)
    written = (two.path / "CHANGELOG.md").read_text(encoding="utf-8")
    whole = release_changes(two.path, one.path)  # no regions: every row of both files
    assert any(c.added or c.removed or c.changed for c in whole.values())
    for name, change in whole.items():
        row = next(line for line in written.splitlines() if line.startswith(f"| {name} |"))
        counts = [int(c) for c in row.strip("|").split("|")[3:6]]
        assert counts == [len(change.added), len(change.removed), len(change.changed)], (name, row)
    assert "extra/new.txt" in written


def test_without_the_export_index_every_row_group_is_written_and_the_file_is_the_same(two_states, small_groups,
                                                                                      tmp_path):
    first, second = two_states
    warehouse, clean = tmp_path / "w", tmp_path / "clean"
    _publish(first, warehouse)
    (warehouse / release.EXPORT_INDEX).unlink()  # e.g. the working folder was set up anew
    lines: list[str] = []
    two = _publish(second, warehouse, lines)
    assert any(line.startswith("release: numbers: ") for line in lines)
    assert not any("copied" in line for line in lines), lines
    fresh = _publish(second, clean)
    for name in sorted(BY_DOCUMENT):
        assert (two.path / f"{name}.parquet").read_bytes() == (fresh.path / f"{name}.parquet").read_bytes(), name


def test_the_published_database_patched_from_copied_files_holds_the_release(two_states, small_groups, tmp_path,
                                                                            monkeypatch):
    """The published database takes the changed rows from the new files,
    reading only the row groups written anew; its tables must still equal
    the release's files row for row."""
    first, second = two_states
    warehouse = tmp_path / "w"
    _publish(first, warehouse)
    applied, real = [], release._apply

    def _apply(con, table, path, change, region=None):
        applied.append((table.name, region))
        return real(con, table, path, change, region)

    monkeypatch.setattr(release, "_worth_applying", lambda *a: True)  # the seeds change by more than a quarter
    monkeypatch.setattr(release, "_apply", _apply)
    two = _publish(second, warehouse)
    assert {name for name, region in applied if region is not None and region.ranges} >= {"numbers", "sentences"}
    with duckdb.connect(str(warehouse / "dangjian.duckdb"), read_only=True) as con:
        for table in TABLES:
            file = pq.read_table(two.path / f"{table.name}.parquet")
            rows = con.sql(f'SELECT * FROM "{table.name}"').to_arrow_table()
            assert rows.num_rows == file.num_rows, table.name
            assert sorted(rows.to_pylist(), key=str) == sorted(file.to_pylist(), key=str), table.name


def test_a_row_groups_bytes_depend_on_its_rows_not_on_how_they_arrive(tmp_path):
    """A copied group must be the bytes a clean export writes for its rows.
    pyarrow ends a data page where an Arrow chunk ends, so groups are written
    from one chunk each: text of several MiB (redistributable documents)
    arriving in batches cut at other rows gives the same file."""
    rng = random.Random(5)
    text = "党建引领基层治理，推动高质量发展。" * 300
    rows = [{"paragraph_id": f"{i:016x}", "doc_id": f"{i // 8:016x}", "paragraph_index": i % 8, "start": 0,
             "end": 10, "source_start": 0, "source_end": 10, "source_path": f"doc/{i // 8}.txt",
             "source_sha256": "0" * 64, "text": text[rng.randrange(200):]} for i in range(600)]
    data = pa.Table.from_pylist(rows, schema=PARAGRAPHS.arrow_schema)
    assert data["text"].nbytes > 4 * 2**20  # several pages of text per group
    digests = set()
    for batch_rows in (600, 1000, 97, 7):
        reader = pa.RecordBatchReader.from_batches(data.schema, data.to_batches(max_chunksize=batch_rows))
        path = tmp_path / f"{batch_rows}.parquet"
        release.write_parquet(PARAGRAPHS, release._row_groups(PARAGRAPHS, reader, [250, 350]), path)
        assert pq.ParquetFile(path).metadata.num_row_groups == 2
        digests.add(path.read_bytes())
    assert len(digests) == 1


def test_the_writers_settings_see_every_word_of_every_description():
    """A description edited near its end changes the settings: otherwise the
    last release's groups, with the old description in their file's footer,
    would be copied under a new one."""
    column = max(PARAGRAPHS.columns, key=lambda c: len(c.en))
    edited = dataclasses.replace(column, en=column.en[:-1] + "!")
    table = dataclasses.replace(PARAGRAPHS, columns=tuple(edited if c is column else c for c in PARAGRAPHS.columns))
    assert release._export_settings(table) != release._export_settings(PARAGRAPHS)


def test_a_last_file_that_cannot_give_its_groups_means_writing_the_file_whole(two_states, small_groups, tmp_path,
                                                                            monkeypatch):
    first, second = two_states
    warehouse, clean = tmp_path / "w", tmp_path / "clean"
    _publish(first, warehouse)

    def splice(parts, out):
        raise ValueError("footer differs")

    monkeypatch.setattr(release, "splice", splice)
    lines: list[str] = []
    two = _publish(second, warehouse, lines)
    assert any(line.startswith("release: numbers:") and "no row group copied" in line and "footer differs" in line
               for line in lines), lines
    fresh = _publish(second, clean)
    assert two.content_hash == fresh.content_hash
