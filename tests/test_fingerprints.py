"""Row fingerprints are taken once per committed state of the database, and
never outlive it.

Validation and export decide what to do again by these fingerprints, so a
stale one would reuse an outcome, or a Parquet file, for rows that are no
longer there. Each case changes one value of a real DuckDB file (the row
count stays the same) in the ways a run, a crash or a hand can, then opens
it read-only again.
"""
from __future__ import annotations

import subprocess
import sys

import duckdb
import pytest

from dangjian.schema import BY_NAME
from dangjian.warehouse import committed_state, fingerprint_map, row_fingerprints, table_fingerprint

PEOPLE = BY_NAME["people"]  # a small per-document table is enough: the code is the same for every table


def _make(path) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute('CREATE SCHEMA "extracted"')
        con.register("_empty", PEOPLE.arrow_schema.empty_table())
        con.execute('CREATE TABLE "extracted"."people" AS SELECT * FROM _empty')
        con.execute('INSERT INTO "extracted"."people" (person_id, doc_id, name) '
                    "SELECT 'p' || i, 'doc' || (i % 3), 'name' || i FROM range(30) AS r(i)")


def _read(path):
    with duckdb.connect(str(path), read_only=True) as con:
        return row_fingerprints(con, PEOPLE)


def _fresh(path) -> dict:
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute('SELECT doc_id, count(*), bit_xor(hash(t)) FROM "extracted"."people" AS t GROUP BY doc_id').fetchall()
    return {d: f"{n}:{h}" for d, n, h in rows}


UPDATE = """UPDATE "extracted"."people" SET name = '{}' WHERE person_id = 'p4'"""


def test_a_read_only_state_is_hashed_once(tmp_path):
    db = tmp_path / "w.duckdb"
    _make(db)
    first = _read(db)
    assert _read(db) is first  # another connection, the same committed state: not hashed again
    assert fingerprint_map(first) == _fresh(db)
    assert sorted(fingerprint_map(first)) == ["doc0", "doc1", "doc2"]
    assert table_fingerprint(first).startswith("30:")


def test_a_checkpointed_write_gives_new_fingerprints(tmp_path):
    db = tmp_path / "w.duckdb"
    _make(db)
    before = fingerprint_map(_read(db))
    with duckdb.connect(str(db)) as con:  # closing checkpoints the change into the file
        con.execute(UPDATE.format("changed"))
    after = fingerprint_map(_read(db))
    assert after == _fresh(db)
    assert after["doc1"] != before["doc1"] and after["doc0"] == before["doc0"]


def _write_and_die(db, name: str) -> None:
    """A process that commits a change and is killed before it checkpoints:
    the change is only in the write-ahead log."""
    code = ("import duckdb, os, sys\n"
            "con = duckdb.connect(sys.argv[1], config={'checkpoint_threshold': '1GB'})\n"
            f"con.execute({UPDATE.format(name)!r})\n"
            "os._exit(0)\n")
    subprocess.run([sys.executable, "-c", code, str(db)], check=True)


def test_writes_left_in_the_log_give_new_fingerprints(tmp_path):
    db = tmp_path / "w.duckdb"
    _make(db)
    seen = [fingerprint_map(_read(db))["doc1"]]
    for name in ("first", "second"):  # the second one only makes the log longer
        _write_and_die(db, name)
        assert (tmp_path / "w.duckdb.wal").exists()
        now = fingerprint_map(_read(db))
        assert now == _fresh(db)
        seen.append(now["doc1"])
    assert len(set(seen)) == 3


def test_a_connection_that_can_write_is_always_hashed_again(tmp_path):
    db = tmp_path / "w.duckdb"
    _make(db)
    with duckdb.connect(str(db)) as con:
        assert committed_state(con) is None
        con.execute("BEGIN TRANSACTION")
        before = row_fingerprints(con, PEOPLE)
        con.execute(UPDATE.format("uncommitted"))
        after = row_fingerprints(con, PEOPLE)  # sees its own uncommitted change
        con.execute("ROLLBACK")
    assert fingerprint_map(after) != fingerprint_map(before)
    with duckdb.connect() as con:
        assert committed_state(con) is None  # in memory: no file to vouch for


@pytest.mark.parametrize("empty", [True, False])
def test_a_table_without_documents_has_one_null_row(tmp_path, empty):
    table = BY_NAME["term_diffusion"]
    db = tmp_path / "w.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute(f'CREATE SCHEMA "{table.stage}"')
        con.register("_empty", table.arrow_schema.empty_table())
        con.execute(f'CREATE TABLE "{table.stage}"."{table.name}" AS SELECT * FROM _empty')
        if not empty:
            con.execute(f'INSERT INTO "{table.stage}"."{table.name}" ({table.key}) VALUES (\'t1\'), (\'t2\')')
    with duckdb.connect(str(db), read_only=True) as con:
        fps = row_fingerprints(con, table)
    assert fingerprint_map(fps) == ({} if empty else {None: fingerprint_map(fps)[None]})
    assert table_fingerprint(fps).startswith("0:" if empty else "2:")
