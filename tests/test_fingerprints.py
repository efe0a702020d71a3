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
from conftest import fingerprint_map

from dangjian.schema import BY_NAME
from dangjian.warehouse import committed_state, row_fingerprints, table_fingerprint

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


# --- fingerprints carried past a step that names the tables it writes ----------------

TERMS = BY_NAME["term_diffusion"]


def _warehouse(tmp_path):
    """A warehouse folder whose working database holds people and an empty term_diffusion."""
    from dangjian.warehouse import WORK_DB

    (tmp_path / WORK_DB).parent.mkdir(parents=True)
    _make(tmp_path / WORK_DB)
    with duckdb.connect(str(tmp_path / WORK_DB)) as con:
        con.execute(f'CREATE SCHEMA IF NOT EXISTS "{TERMS.stage}"')
        con.register("_empty", TERMS.arrow_schema.empty_table())
        con.execute(f'CREATE TABLE "{TERMS.stage}"."{TERMS.name}" AS SELECT * FROM _empty')
    return tmp_path


def _both(wh):
    from dangjian.warehouse import connect

    with connect(wh, read_only=True) as con:
        return row_fingerprints(con, PEOPLE), row_fingerprints(con, TERMS)


def _terms(n: int):
    import pyarrow as pa

    return pa.Table.from_pylist([{"diffusion_id": f"d{i}", "term": f"t{i}"} for i in range(n)], schema=TERMS.arrow_schema)


def test_a_step_that_names_its_tables_keeps_the_others_fingerprints(tmp_path):
    from dangjian.warehouse import connect, write_table

    wh = _warehouse(tmp_path)
    people, terms = _both(wh)
    with connect(wh, writes=(TERMS,)) as con:
        write_table(con, TERMS, _terms(2))
    people_after, terms_after = _both(wh)
    assert people_after is people  # carried: not hashed again
    assert terms_after is not terms and table_fingerprint(terms_after).startswith("2:")  # its own table: hashed again
    assert fingerprint_map(people_after) == _fresh(_warehouse_db(wh))


def _warehouse_db(wh):
    from dangjian.warehouse import WORK_DB

    return wh / WORK_DB


def test_a_write_by_hand_after_the_step_is_still_seen(tmp_path):
    from dangjian.warehouse import connect, write_table

    wh = _warehouse(tmp_path)
    people, _ = _both(wh)
    with connect(wh, writes=(TERMS,)) as con:
        write_table(con, TERMS, _terms(1))
    with duckdb.connect(str(_warehouse_db(wh))) as con:  # a hand, with nothing named
        con.execute(UPDATE.format("by hand"))
    people_after, _ = _both(wh)
    assert fingerprint_map(people_after) == _fresh(_warehouse_db(wh))
    assert fingerprint_map(people_after)["doc1"] != fingerprint_map(people)["doc1"]


def test_a_step_without_named_tables_or_that_fails_carries_nothing(tmp_path):
    from dangjian.warehouse import connect, write_table

    wh = _warehouse(tmp_path)
    people, _ = _both(wh)
    with connect(wh) as con:  # names nothing: every table is hashed again
        write_table(con, TERMS, _terms(1))
    people_after, _ = _both(wh)
    assert people_after is not people and fingerprint_map(people_after) == fingerprint_map(people)
    with pytest.raises(ZeroDivisionError), connect(wh, writes=(TERMS,)) as con:
        con.execute(UPDATE.format("then failed"))  # written outside the helpers, then the step fails
        1 / 0
    assert fingerprint_map(_both(wh)[0]) == _fresh(_warehouse_db(wh))


def test_a_helper_refuses_a_table_the_step_did_not_name(tmp_path):
    from dangjian import incremental as inc
    from dangjian.warehouse import connect, write_table

    wh = _warehouse(tmp_path)
    people, _ = _both(wh)
    with connect(wh, writes=(TERMS,)) as con:
        with pytest.raises(RuntimeError, match="extracted.people: written by a step that said it writes only term_diffusion"):
            inc.drop_docs(con, PEOPLE, ["doc1"])
        with pytest.raises(RuntimeError, match="people"):
            write_table(con, PEOPLE, PEOPLE.arrow_schema.empty_table())
        with pytest.raises(RuntimeError, match="people"):
            inc.follow_renames(con, PEOPLE)
    assert fingerprint_map(_both(wh)[0]) == fingerprint_map(people) == _fresh(_warehouse_db(wh))


def test_a_state_read_before_holds_until_something_writes_the_file(tmp_path):
    """``still_in``: what a read-only connection saw (``committed_state``)
    still holds for a connection opened after it, until a write. Term
    diffusion reads its fingerprints read-only, then writes: a write by
    another process in between makes it read them again."""
    import duckdb

    from dangjian.warehouse import committed_state, still_in

    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE t AS SELECT 1 AS x")
    with duckdb.connect(str(path), read_only=True) as con:
        seen = committed_state(con)
    with duckdb.connect(str(path)) as con:
        assert still_in(con, seen)
    with duckdb.connect(str(path)) as con:
        con.execute("INSERT INTO t VALUES (2)")
    with duckdb.connect(str(path)) as con:
        assert not still_in(con, seen)
        assert not still_in(con, None)


def test_document_fingerprints_are_built_once_per_state(tmp_path):
    """``doc_fingerprints`` sorts a table's fingerprints once while
    ``row_fingerprints`` keeps them for a state of the file, and again after
    a write; on a connection that can write, every time, as the
    fingerprints themselves."""
    from dangjian.warehouse import doc_fingerprints

    db = tmp_path / "w.duckdb"
    _make(db)
    with duckdb.connect(str(db), read_only=True) as con:
        first = doc_fingerprints(con, PEOPLE)
        assert doc_fingerprints(con, PEOPLE) is first
        assert first.docs.to_pylist() == ["doc0", "doc1", "doc2"] and first.n.tolist() == [10, 10, 10]
    with duckdb.connect(str(db)) as con:
        con.execute("UPDATE extracted.people SET doc_id = 'doc3' WHERE person_id = 'p0'")
        assert doc_fingerprints(con, PEOPLE) is not doc_fingerprints(con, PEOPLE)
    with duckdb.connect(str(db), read_only=True) as con:
        after = doc_fingerprints(con, PEOPLE)
        assert after is not first and after.docs.to_pylist() == ["doc0", "doc1", "doc2", "doc3"]


def test_reading_the_state_keeps_duckdbs_lock(tmp_path):
    """DuckDB locks its file with POSIX record locks, which a process loses
    on closing any descriptor of the file. Reading the file's state while
    this process writes it must leave the lock in place: another process
    still cannot open the file for writing."""
    from dangjian.warehouse import _file_state

    db = tmp_path / "w.duckdb"
    _make(db)
    opener = f"import duckdb; duckdb.connect({str(db)!r}).execute('CREATE TABLE x (i INTEGER)')"
    with duckdb.connect(str(db)) as con:
        con.execute("SELECT 1").fetchall()
        for _ in range(2):
            assert _file_state(str(db)) is not None
        other = subprocess.run([sys.executable, "-c", opener], capture_output=True, text=True)
    assert other.returncode != 0 and "lock" in other.stderr.lower()
    assert subprocess.run([sys.executable, "-c", opener]).returncode == 0  # once let go, it can


def test_a_named_table_is_carried_only_as_far_as_its_writes_were_reported(tmp_path):
    """A step that names its tables hashes again, as it ends, only the
    documents its writes reported. A named table no write reported (one
    changed with plain SQL) is hashed whole, as every named table was
    before; one whose only report says no row changed keeps the very
    fingerprints it had."""
    from dangjian.warehouse import WORK_DB, connect, transaction, will_write

    (tmp_path / "work").mkdir()
    db = tmp_path / WORK_DB
    _make(db)

    def read():
        with connect(tmp_path, read_only=True) as con:
            return row_fingerprints(con, PEOPLE)

    first = read()
    with connect(tmp_path, writes=(PEOPLE,)) as con, transaction(con):
        will_write(con, PEOPLE, docs=())
    assert read() is first  # vouched unchanged: carried

    with connect(tmp_path, writes=(PEOPLE,)) as con, transaction(con):
        con.execute(UPDATE.format("plain SQL"))  # reported by nothing
    after = read()
    assert after is not first
    assert fingerprint_map(after) == _fresh(db) != fingerprint_map(first)

    with connect(tmp_path, writes=(PEOPLE,)) as con, transaction(con):
        will_write(con, PEOPLE, docs=["doc1"])
        con.execute("UPDATE \"extracted\".\"people\" SET name = 'reported' WHERE person_id = 'p1'")
    assert fingerprint_map(read()) == _fresh(db)
