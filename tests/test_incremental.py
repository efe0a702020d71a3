"""Incremental re-runs: only new or changed documents are processed, and the
result is always exactly what a clean run over the same folder gives."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from conftest import RAW
from test_pipeline import materialize

from dangjian.defs.resources import WarehouseResource
from dangjian.definitions import assets_and_checks
from dangjian.release import PUBLISHED_SPARE, RELEASES, list_releases
from dangjian.schema import TABLES
from dangjian.warehouse import PUBLISHED_DB, WORK_DB

HELD_BACK = "003_6fc1dc587f997423.txt"


def processed(result) -> dict[str, int]:
    out = {}
    for e in result.get_asset_materialization_events():
        meta = e.materialization.metadata
        if "documents processed" in meta:
            out[e.asset_key.to_user_string()] = meta["documents processed"].value
    return out


def clean_hash(raw, tmp_path) -> str:
    warehouse = tmp_path / f"clean-{len(list(tmp_path.iterdir()))}"
    assert materialize(raw, warehouse).success
    return list_releases(warehouse)[-1]["content_hash"]


# Two short reports of our own, so that removing one file is a drop of less
# than 20% of the documents (a larger drop is stopped by the volume rule).
EXTRA = {
    "extra/a.txt": "海门区推进党建引领基层治理\n2020年,全区新建党群服务中心12个,覆盖率达95%。\n",
    "extra/b.txt": "亭湖区开展“双联双促”活动\n全区49个行政村与36家企业签订联建协议。\n",
}


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    """A folder (four seeds, the manifest and EXTRA) and the warehouse after
    a first run over it, once per module; each test changes its own copy."""
    root = tmp_path_factory.mktemp("incremental")
    raw = root / "raw"
    shutil.copytree(RAW, raw)
    (raw / HELD_BACK).unlink()
    for name, text in EXTRA.items():
        (raw / name).parent.mkdir(exist_ok=True)
        (raw / name).write_text(text, encoding="utf-8")
    warehouse = root / "warehouse"
    counts = processed(materialize(raw, warehouse))
    assert {"documents/documents", "documents/paragraphs", "documents/sentences", "extracted/numbers"} <= set(counts)
    assert set(counts.values()) == {6}
    return raw, warehouse


@pytest.fixture
def folder(first_run, tmp_path):
    """The first run's folder and warehouse, copied (files keep their mtimes,
    the ``latest`` link is relative), and the held-back seed beside them."""
    raw, warehouse = tmp_path / "raw", tmp_path / "warehouse"
    shutil.copytree(first_run[0], raw)
    shutil.copytree(first_run[1], warehouse, symlinks=True)
    shutil.copy2(RAW / HELD_BACK, tmp_path / HELD_BACK)
    return raw, warehouse, tmp_path


def test_unchanged_folder_processes_nothing(folder):
    raw, warehouse, _ = folder
    before = list_releases(warehouse)
    again = materialize(raw, warehouse)
    assert set(processed(again).values()) == {0}
    assert list_releases(warehouse) == before


def test_added_file(folder):
    raw, warehouse, tmp = folder
    shutil.move(tmp / HELD_BACK, raw / HELD_BACK)
    result = materialize(raw, warehouse)
    assert set(processed(result).values()) == {1}
    assert list_releases(warehouse)[-1]["content_hash"] == clean_hash(raw, tmp)


def test_a_re_run_hashes_the_rows_of_each_table_once(folder, monkeypatch):
    """The checks and the release read every table's row fingerprints, in
    the states that ingest, segments, facts and term diffusion leave. The
    steps after ingest name the tables they write, so the others'
    fingerprints carry past them: each table is hashed once per run (the
    documents were hashed four times before). Term diffusion, a small
    table of terms by localities, is hashed twice more by its own step:
    as it finds it and as it leaves it, so that an edit by hand makes the
    next update rebuild it (``dangjian.diffusion``)."""
    from collections import Counter

    from dangjian import warehouse as wh

    raw, warehouse, tmp = folder
    shutil.move(tmp / HELD_BACK, raw / HELD_BACK)
    hashed = Counter()
    real = wh._fingerprint_query
    monkeypatch.setattr(wh, "_fingerprint_query", lambda table: (hashed.update([table.name]), real(table))[1])
    assert materialize(raw, warehouse).success
    assert hashed == Counter({t.name: 3 if t.name == "term_diffusion" else 1 for t in TABLES})


def _as_a_new_process(monkeypatch) -> None:
    """Forget the row fingerprints this process holds, as a new run's process starts without them."""
    from dangjian import warehouse as wh

    monkeypatch.setattr(wh, "_FINGERPRINTS", {})
    monkeypatch.setattr(wh, "_SORTED", {})
    monkeypatch.setattr(wh, "_RESTORE_TRIED", set())


def _kept_and_fresh(warehouse) -> tuple[dict, dict]:
    """The fingerprints the last run kept beside the working database, and
    every table's fingerprints taken afresh, per table and document."""
    from dangjian import warehouse as wh

    db = warehouse / WORK_DB
    with duckdb.connect(str(db), read_only=True) as con:
        fresh = {t.name: sorted(con.execute(wh._fingerprint_query(t)).fetchall(), key=str) for t in TABLES}
        state = json.dumps(wh.committed_state(con))
    kept_state, kept = wh.read_kept_fingerprints(str(db))
    assert kept_state == state  # kept for the state the run left
    by_table = {name: list(zip(*(kept[name][c].to_pylist() for c in ("doc_id", "n", "h")))) for name in kept}
    return {name: sorted(rows, key=str) for name, rows in by_table.items()}, fresh


def test_a_re_run_in_place_hashes_only_the_rows_its_steps_write(folder, monkeypatch):
    """A run keeps every table's row fingerprints beside the working
    database, for the state it leaves. The next run, finding the file in
    that state, starts from them, and each step hashes again only the rows
    of the documents it wrote: only the tables written whole (the source
    and rejected files, and term diffusion) are hashed whole. What was kept
    is what hashing every table gives."""
    from collections import Counter

    from dangjian import warehouse as wh

    raw, warehouse, tmp = folder
    hashed = Counter()
    real = wh._fingerprint_query
    monkeypatch.setattr(wh, "_fingerprint_query", lambda table: (hashed.update([table.name]), real(table))[1])
    _as_a_new_process(monkeypatch)
    assert materialize(raw, warehouse).success  # the copied file is not the state its fingerprints were kept for
    assert hashed == Counter({t.name: 3 if t.name == "term_diffusion" else 1 for t in TABLES})

    _as_a_new_process(monkeypatch)
    hashed.clear()
    shutil.move(tmp / HELD_BACK, raw / HELD_BACK)
    result = materialize(raw, warehouse)
    assert set(processed(result).values()) == {1}
    assert hashed == Counter({"source_files": 1, "rejected_files": 1, "term_diffusion": 2})
    kept, fresh = _kept_and_fresh(warehouse)
    assert kept == fresh and len(fresh["numbers"]) == 7
    assert list_releases(warehouse)[-1]["content_hash"] == clean_hash(raw, tmp)


def test_fingerprints_kept_through_changes_equal_the_rows(folder, monkeypatch):
    """Changed, renamed, removed and added files, each in a run of its own
    in place: with ``DANGJIAN_VERIFY_FINGERPRINTS`` every table is hashed
    again wherever fingerprints were carried past a step, merged with a
    step's documents or read back from the file, and any difference fails
    the run. The release is the clean run's."""
    from dangjian.warehouse import VERIFY_ENV

    raw, warehouse, tmp = folder
    monkeypatch.setenv(VERIFY_ENV, "1")
    path = raw / "001_fb00645a8e6ebd2d.txt"
    changes = [
        lambda: path.write_text(path.read_text(encoding="utf-8").replace("1419个", "1420个"), encoding="utf-8"),
        lambda: (raw / "extra" / "b.txt").rename(raw / "extra" / "b-renamed.txt"),
        lambda: (raw / "extra" / "a.txt").unlink(),
        lambda: shutil.move(tmp / HELD_BACK, raw / HELD_BACK),
    ]
    _as_a_new_process(monkeypatch)
    assert materialize(raw, warehouse).success
    for change in changes:
        change()
        _as_a_new_process(monkeypatch)
        assert materialize(raw, warehouse).success
        kept, fresh = _kept_and_fresh(warehouse)
        assert kept == fresh
    with duckdb.connect(str(warehouse / WORK_DB), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM extracted.numbers WHERE source_path = 'extra/b-renamed.txt'").fetchall()[0][0] > 0
    assert list_releases(warehouse)[-1]["content_hash"] == clean_hash(raw, tmp)


def test_an_edit_by_hand_between_runs_is_not_hidden_by_kept_fingerprints(folder, monkeypatch):
    """Fingerprints kept for the state a run left are read back only while
    the file is in that state. A name edited by hand after the run, so that
    it no longer is the text at its offsets, must be validated again and
    stop the next release, although no file changed; so must a duplicated
    key, after the name is mended and a run has kept the mended state."""
    raw, warehouse, _ = folder
    db = warehouse / WORK_DB

    def run_in_place() -> tuple[bool, set[str]]:
        _as_a_new_process(monkeypatch)
        result = materialize(raw, warehouse, raise_on_error=False)
        return result.success, {e.asset_key.to_user_string() for e in result.get_asset_check_evaluations() if not e.passed}

    assert run_in_place() == (True, set())
    latest = list_releases(warehouse)[-1]["version"]
    with duckdb.connect(str(db)) as con:
        [(person, name)] = con.execute("SELECT person_id, name FROM extracted.people ORDER BY person_id LIMIT 1").fetchall()
        con.execute("UPDATE extracted.people SET name = ? WHERE person_id = ?", [name + "某", person])
    assert run_in_place() == (False, {"extracted/people"})
    with duckdb.connect(str(db)) as con:
        con.execute("UPDATE extracted.people SET name = ? WHERE person_id = ?", [name, person])
    assert run_in_place() == (True, set())
    with duckdb.connect(str(db)) as con:
        con.execute('INSERT INTO "extracted"."numbers" SELECT * FROM "extracted"."numbers" LIMIT 1')
    assert run_in_place() == (False, {"extracted/numbers"})
    assert list_releases(warehouse)[-1]["version"] == latest


def _diffusion_done(result) -> dict:
    [event] = [e for e in result.get_asset_materialization_events()
               if e.asset_key.to_user_string() == "extracted/term_diffusion"]
    return {k: v.value for k, v in event.materialization.metadata.items()}


def _diffusion_as_defined(warehouse) -> tuple[list, list]:
    """The working database's term_diffusion, and the rows its definition
    gives from campaign_terms and documents whole, both in key order."""
    from dangjian.diffusion import term_diffusion_rows
    from dangjian.schema import TERM_DIFFUSION

    names = TERM_DIFFUSION.column_names
    with duckdb.connect(str(warehouse / WORK_DB), read_only=True) as con:
        stored = con.execute(f"SELECT {', '.join(names)} FROM extracted.term_diffusion ORDER BY diffusion_id").fetchall()
        defined = sorted(tuple(r[n] for n in names) for r in term_diffusion_rows(con))
    return stored, defined


def test_term_diffusion_groups_again_only_the_terms_of_changed_documents(folder):
    """Term diffusion is updated by difference: the documents whose campaign
    terms or document row changed, and only their terms. After an added, a
    changed and a removed file, and then a campaign term deleted by hand
    (which no stage repairs), the table is still what its definition gives
    from the two tables whole; a row of the table edited by hand makes the
    next run rebuild it."""
    raw, warehouse, tmp = folder
    with duckdb.connect(str(warehouse / PUBLISHED_DB), read_only=True) as con:
        before = {d for (d,) in con.execute("SELECT doc_id FROM documents").fetchall()}
    shutil.move(tmp / HELD_BACK, raw / HELD_BACK)
    path = raw / "001_fb00645a8e6ebd2d.txt"
    path.write_text(path.read_text(encoding="utf-8").replace("1419个", "1420个"), encoding="utf-8")
    (raw / "extra" / "a.txt").unlink()
    done = _diffusion_done(materialize(raw, warehouse))
    with duckdb.connect(str(warehouse / PUBLISHED_DB), read_only=True) as con:
        after = {d for (d,) in con.execute("SELECT doc_id FROM documents").fetchall()}
    # New, changed (its old id and its new one) and removed documents; the others untouched.
    assert done["documents taken again"] == len(before ^ after) == 4
    stored, defined = _diffusion_as_defined(warehouse)
    assert stored == defined and len(stored) == done["dagster/row_count"] > 0
    assert list_releases(warehouse)[-1]["content_hash"] == clean_hash(raw, tmp)

    # A campaign term of one document deleted by hand: that document's terms are grouped again.
    with duckdb.connect(str(warehouse / WORK_DB)) as con:
        [(doc, term)] = con.execute(
            "SELECT c.doc_id, c.term FROM extracted.campaign_terms c JOIN extracted.term_diffusion t USING (term) "
            "ORDER BY c.term_id LIMIT 1").fetchall()
        con.execute("DELETE FROM extracted.campaign_terms WHERE doc_id = ? AND term = ?", [doc, term])
    done = _diffusion_done(materialize(raw, warehouse))
    assert done["documents taken again"] == 1
    stored, defined = _diffusion_as_defined(warehouse)
    assert stored == defined

    # A row of the table itself edited by hand: rebuilt, from every document.
    with duckdb.connect(str(warehouse / WORK_DB)) as con:
        con.execute("UPDATE extracted.term_diffusion SET mentions = mentions + 1 WHERE diffusion_id = "
                    "(SELECT min(diffusion_id) FROM extracted.term_diffusion)")
    done = _diffusion_done(materialize(raw, warehouse))
    assert done["documents taken again"] == len(after)
    assert _diffusion_as_defined(warehouse)[0] == defined


def test_term_diffusion_by_difference_survives_a_null_term(folder):
    """A null term (a defect the checks block) is regrouped like any other
    value: it must not empty the rows of the other terms, neither while it
    is there nor once it is mended. ``basis`` and ``update`` run here as the
    step runs them, on the working database of a real run."""
    from dangjian import diffusion
    from dangjian.schema import TERM_DIFFUSION
    from dangjian.warehouse import connect, transaction

    _, warehouse, _ = folder
    db = warehouse / WORK_DB

    def step() -> dict:
        with connect(warehouse, read_only=True) as con:
            now, table_fp = diffusion.basis(con)
        with connect(warehouse, writes=(TERM_DIFFUSION,)) as con, transaction(con):
            return diffusion.update(con, now, table_fp)

    defined = _diffusion_as_defined(warehouse)[1]
    with duckdb.connect(str(db)) as con:
        [(term_id, term)] = con.execute("SELECT term_id, term FROM extracted.campaign_terms ORDER BY term_id LIMIT 1").fetchall()
        con.execute("UPDATE extracted.campaign_terms SET term = NULL WHERE term_id = ?", [term_id])
    done = step()
    stored, now_defined = _diffusion_as_defined(warehouse)
    assert not done["rebuilt"] and done["documents"] == 1
    assert stored == now_defined and len(stored) >= len(defined) - 2
    with duckdb.connect(str(db)) as con:
        con.execute("UPDATE extracted.campaign_terms SET term = ? WHERE term_id = ?", [term, term_id])
    assert not step()["rebuilt"]
    assert _diffusion_as_defined(warehouse) == (defined, defined)


def test_changed_file_replaces_its_rows(folder):
    raw, warehouse, tmp = folder
    path = raw / "001_fb00645a8e6ebd2d.txt"
    path.write_text(path.read_text(encoding="utf-8").replace("1419个", "1420个"), encoding="utf-8")
    result = materialize(raw, warehouse)
    assert set(processed(result).values()) == {1}
    latest = list_releases(warehouse)[-1]
    assert latest["content_hash"] == clean_hash(raw, tmp)
    changelog = (warehouse / RELEASES / latest["version"] / "CHANGELOG.md").read_text()
    assert "| documents | `doc_id` | 6 | 1 | 1 | 0 |" in changelog


def test_removed_file_rows_are_gone(folder):
    raw, warehouse, tmp = folder
    (raw / "extra" / "a.txt").unlink()
    result = materialize(raw, warehouse)
    assert set(processed(result).values()) == {0}
    latest = list_releases(warehouse)[-1]
    assert latest["content_hash"] == clean_hash(raw, tmp)
    changelog = (warehouse / RELEASES / latest["version"] / "CHANGELOG.md").read_text()
    assert "## Documents removed (1)" in changelog and "extra/a.txt" in changelog


def test_renamed_file_keeps_its_rows_under_the_new_path(folder):
    raw, warehouse, tmp = folder
    # A file without a manifest row: renaming a seed would also drop its
    # manifest metadata, which rightly makes it a changed document.
    (raw / "extra" / "b.txt").rename(raw / "extra" / "b-renamed.txt")
    result = materialize(raw, warehouse)
    assert set(processed(result).values()) == {0}
    assert list_releases(warehouse)[-1]["content_hash"] == clean_hash(raw, tmp)


def test_manifest_change_reprocesses_that_document(folder):
    raw, warehouse, tmp = folder
    manifest = raw / "sources.csv"
    text = manifest.read_text(encoding="utf-8")
    manifest.write_text(text.replace("001_fb00645a8e6ebd2d.txt,让党建成为高质量发展的强引擎,江海先锋,2021-07-05,,",
                                     "001_fb00645a8e6ebd2d.txt,让党建成为高质量发展的强引擎,江海先锋,2021-07-05,https://example.org/a,"),
                        encoding="utf-8")
    result = materialize(raw, warehouse)
    assert set(processed(result).values()) == {1}
    assert list_releases(warehouse)[-1]["content_hash"] == clean_hash(raw, tmp)


def test_a_large_drop_is_stopped_unless_accepted(folder):
    raw, warehouse, _ = folder
    before = list_releases(warehouse)
    (raw / "002_ad230b4f88e2bb90.txt").unlink()  # about a quarter of all paragraphs
    assert not materialize(raw, warehouse, raise_on_error=False).success
    assert list_releases(warehouse) == before
    accepted = dg.materialize(
        assets_and_checks(),
        resources={"warehouse": WarehouseResource(raw_dir=str(raw), warehouse_dir=str(warehouse), accept_row_drop=True)},
        instance=dg.DagsterInstance.ephemeral(),
    )
    assert accepted.success and len(list_releases(warehouse)) == len(before) + 1


# --- what a re-run costs: only the changed documents, and the files that changed ---


def _validated_batches(warehouse, table: str) -> dict[str, list]:
    """The validation batches kept for a table: file name → its documents."""
    folder = warehouse / "work" / "validation" / table
    return {p.name: json.loads(p.read_text())["docs"] for p in folder.glob("rows-*.json")}


def test_added_file_validates_only_its_document_and_relinks_unchanged_files(folder):
    raw, warehouse, tmp = folder
    before = {t: _validated_batches(warehouse, t) for t in ("documents", "sentences", "numbers")}
    old = list_releases(warehouse)[-1]["version"]
    shutil.move(tmp / HELD_BACK, raw / HELD_BACK)
    assert materialize(raw, warehouse).success
    with duckdb.connect(str(warehouse / PUBLISHED_DB), read_only=True) as con:
        [(new_doc,)] = con.execute("SELECT doc_id FROM documents WHERE source_path = ?", [HELD_BACK]).fetchall()
    for table, batches in before.items():
        after = _validated_batches(warehouse, table)
        assert batches.items() <= after.items(), table  # the old batches' outcomes were reused
        assert [docs for name, docs in after.items() if name not in batches] == [[new_doc]], table
    new = list_releases(warehouse)[-1]["version"]
    # rejected_files did not change: the new release links the old file instead of writing it again.
    old_file, new_file = (warehouse / RELEASES / v / "rejected_files.parquet" for v in (old, new))
    assert os.path.samestat(old_file.stat(), new_file.stat())
    assert not os.path.samestat((warehouse / RELEASES / old / "numbers.parquet").stat(),
                                (warehouse / RELEASES / new / "numbers.parquet").stat())


def test_changed_file_validates_only_its_new_version(folder):
    """The five unchanged documents of the changed one's validation batch
    count by their shares of its outcomes: they become a batch of their own,
    and only the new version is validated."""
    raw, warehouse, tmp = folder
    tables = ("documents", "sentences", "numbers")
    before = {t: _validated_batches(warehouse, t) for t in tables}
    path = raw / "001_fb00645a8e6ebd2d.txt"

    def doc_id() -> str:
        with duckdb.connect(str(warehouse / PUBLISHED_DB), read_only=True) as con:
            return con.execute("SELECT doc_id FROM documents WHERE source_path = ?", [path.name]).fetchall()[0][0]

    old = doc_id()
    path.write_text(path.read_text(encoding="utf-8").replace("1419个", "1420个"), encoding="utf-8")
    assert materialize(raw, warehouse).success
    new = doc_id()
    for table, batches in before.items():
        [docs] = batches.values()  # six documents, one batch
        assert old in docs and new not in docs
        after = sorted(_validated_batches(warehouse, table).values())
        assert after == sorted([[new], [d for d in docs if d != old]]), table


def test_published_database_after_a_change_equals_its_release(folder):
    raw, warehouse, tmp = folder
    path = raw / "001_fb00645a8e6ebd2d.txt"
    path.write_text(path.read_text(encoding="utf-8").replace("1419个", "1420个"), encoding="utf-8")
    assert materialize(raw, warehouse).success
    assert_holds_latest_release(warehouse / PUBLISHED_DB, warehouse)


def assert_holds_latest_release(db, warehouse) -> None:
    """The database at ``db`` holds the latest release: its version, and every table row for row."""
    version = list_releases(warehouse)[-1]["version"]
    latest = warehouse / RELEASES / version
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT version FROM release").fetchall() == [(version,)]
        for t in TABLES:
            parquet = str(latest / f"{t.name}.parquet")
            for sql in (f'SELECT * FROM "{t.name}" EXCEPT ALL SELECT * FROM read_parquet(?)',
                        f'SELECT * FROM read_parquet(?) EXCEPT ALL SELECT * FROM "{t.name}"'):
                assert con.execute(f"SELECT count(*) FROM ({sql})", [parquet]).fetchall() == [(0,)], t.name


_READER = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
print(con.execute("SELECT version FROM release").fetchall()[0][0], flush=True)
sys.stdin.readline()
print(con.execute("SELECT version FROM release").fetchall()[0][0], con.execute("SELECT count(*) FROM numbers").fetchall()[0][0], flush=True)
"""


def test_the_published_database_is_patched_in_a_spare_no_reader_holds(folder, monkeypatch):
    """Each release sets aside the file it stops publishing, and the next one
    patches that spare and publishes it instead of copying the published
    database. A file anyone has open is never written: not the published
    one, and not a spare a reader still holds."""
    from dangjian import release

    raw, warehouse, _ = folder
    path = raw / "001_fb00645a8e6ebd2d.txt"
    published, spare = warehouse / PUBLISHED_DB, warehouse / PUBLISHED_SPARE

    def change(old: str, new: str) -> dict[str, int]:
        inodes = {"published": published.stat().st_ino, "spare": spare.stat().st_ino if spare.exists() else None}
        path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
        assert materialize(raw, warehouse).success
        assert_holds_latest_release(published, warehouse)
        return inodes

    def spare_holds_the_release_before_the_latest() -> None:
        version = list_releases(warehouse)[-2]["version"]
        with duckdb.connect(str(spare), read_only=True) as con:
            assert con.execute("SELECT version FROM release").fetchall() == [(version,)]

    assert not spare.exists()  # the first release was built afresh
    before = change("1419个", "1420个")  # copies the published database, and sets aside the one it replaces
    assert spare.stat().st_ino == before["published"]
    spare_holds_the_release_before_the_latest()

    # The spare is opened once: checked, brought up to the previous release
    # and then to this one on one connection.
    opened, connect = [], duckdb.connect
    with monkeypatch.context() as m:
        m.setattr(duckdb, "connect", lambda database=":memory:", *a, **k: (
            opened.append(database) if Path(str(database)).name.startswith(f".{PUBLISHED_DB}.") else None,
            connect(database, *a, **k))[1])
        before = change("1420个", "1421个")
    assert len(opened) == 1, opened
    assert published.stat().st_ino == before["spare"]  # the spare, patched and published: no copy
    with duckdb.connect(str(published), read_only=True) as con:  # every table and column still described, in both languages
        described = con.execute("SELECT table_name, column_name, comment FROM duckdb_columns() "
                                "WHERE NOT internal AND schema_name = 'main' AND table_name <> 'release'").fetchall()
        described += con.execute("SELECT table_name, NULL, comment FROM duckdb_tables() "
                                 "WHERE NOT internal AND schema_name = 'main' AND table_name <> 'release'").fetchall()
    assert {t for t, _, _ in described} == {t.name for t in TABLES}
    assert all(comment and " / " in comment for _, _, comment in described), described
    assert spare.stat().st_ino == before["published"]
    spare_holds_the_release_before_the_latest()

    # A reader holds the published database through two runs. In the first
    # its file is swapped out under it and set aside; in the second that
    # spare is not patched but let go, and the published database copied.
    reader = subprocess.Popen([sys.executable, "-c", _READER, str(published)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        held = reader.stdout.readline().strip()
        rows = duckdb.connect(str(published), read_only=True).execute("SELECT count(*) FROM numbers").fetchall()[0][0]
        first = change("1421个", "1422个")
        assert published.stat().st_ino == first["spare"]
        assert spare.stat().st_ino == first["published"]  # the reader's file, set aside, not written
        second = change("1422个", "1423个")
        assert published.stat().st_ino not in (second["published"], second["spare"])  # a copy
        assert spare.stat().st_ino == second["published"]
        out, _ = reader.communicate("\n", timeout=60)
    finally:
        reader.kill()
    assert out.split() == [held, str(rows)]
    assert held == list_releases(warehouse)[-3]["version"]

    # A release built afresh (here: as if much had changed) lets the spare go.
    monkeypatch.setattr(release, "_worth_applying", lambda *a: False)
    change("1423个", "1424个")
    assert not spare.exists() and not (warehouse / release.SPARE_CHANGES).exists()


def test_batches_in_worker_processes_equal_a_clean_run(folder):
    raw, warehouse, tmp = folder
    shutil.move(tmp / HELD_BACK, raw / HELD_BACK)
    (raw / "extra" / "a.txt").unlink()
    parallel = tmp / "parallel"
    result = dg.materialize(
        assets_and_checks(),
        resources={"warehouse": WarehouseResource(raw_dir=str(raw), warehouse_dir=str(parallel), workers=2, batch_docs=2)},
        instance=dg.DagsterInstance.ephemeral(),
    )
    assert result.success
    assert list_releases(parallel)[-1]["content_hash"] == clean_hash(raw, tmp)


def test_rows_converted_in_chunks_equal_rows_converted_at_once(first_run, monkeypatch):
    """A worker turns its rows into Arrow every few documents (memory); the
    tables must be those of one conversion per batch, row for row."""
    from dangjian import document
    from dangjian.defs.documents.assets import _read_batch
    from dangjian.schema import DOCUMENTS, SENTENCES

    work = first_run[1] / WORK_DB
    con = duckdb.connect(str(work), read_only=True)
    try:
        ids = [r[0] for r in con.execute(f"SELECT doc_id FROM {DOCUMENTS.qualified} ORDER BY doc_id").fetchall()]
        docs, inputs = _read_batch(con, ids, (SENTENCES,))
    finally:
        con.close()
    assert len(ids) == 6
    for rows_for, names in ((document.fact_rows, document.FACT_TABLE_NAMES),
                            (document.segment_rows, ("paragraphs", "sentences"))):
        monkeypatch.setattr(document, "CONVERT_DOCS", 1000)
        whole = document.rows_of_batch(rows_for, names, docs, inputs)
        monkeypatch.setattr(document, "CONVERT_DOCS", 4)  # a chunk of 4 and one of 2
        chunked = document.rows_of_batch(rows_for, names, docs, inputs)
        for name, a, b in zip(names, whole, chunked):
            assert a.num_rows > 0, name
            assert a.equals(b), name


def _place_analyses(warehouse) -> dict[str, str]:
    work = warehouse / WORK_DB
    with duckdb.connect(str(work), read_only=True) as con:
        return dict(con.execute("SELECT doc_id, place_analysis_key FROM state.place_analyses").fetchall())


def test_facts_use_the_place_analyses_ingest_kept(first_run, monkeypatch):
    """Ingest keeps each document's place analysis (made for its main
    locality) under a key of its text, date and code; facts read it instead
    of analysing the text again, and get the same rows as analysing anew."""
    from dangjian import document
    from dangjian.defs.documents.assets import _read_batch
    from dangjian.schema import DOCUMENTS, SENTENCES

    work = first_run[1] / WORK_DB
    con = duckdb.connect(str(work), read_only=True)
    try:
        texts = con.execute(f"SELECT doc_id, text, published FROM {DOCUMENTS.qualified} ORDER BY doc_id").fetchall()
        ids = [doc_id for doc_id, _, _ in texts]
        kept = _read_batch(con, ids, (SENTENCES,), place_analyses=True)
        bare = _read_batch(con, ids, (SENTENCES,))
    finally:
        con.close()
    assert _place_analyses(first_run[1]) == {d: document.place_analysis_key(t, p) for d, t, p in texts}
    assert len(ids) == 6

    calls = []
    analyse = document.analyse_places
    monkeypatch.setattr(document, "analyse_places", lambda *a: calls.append(a) or analyse(*a))
    names = document.FACT_TABLE_NAMES
    with_kept = document.rows_of_batch(document.fact_rows, names, *kept)
    assert calls == []
    anew = document.rows_of_batch(document.fact_rows, names, *bare)
    assert len(calls) == 6
    for name, a, b in zip(names, with_kept, anew):
        assert a.equals(b), name
    assert with_kept[names.index("places")].num_rows > 0


def test_removed_and_changed_files_replace_their_place_analyses(folder):
    raw, warehouse, _ = folder
    before = _place_analyses(warehouse)
    (raw / "extra" / "a.txt").unlink()
    path = raw / "extra" / "b.txt"
    path.write_text(path.read_text(encoding="utf-8").replace("49个", "50个"), encoding="utf-8")
    assert materialize(raw, warehouse).success
    after = _place_analyses(warehouse)
    with duckdb.connect(str(warehouse / PUBLISHED_DB), read_only=True) as con:
        assert set(after) == {d for (d,) in con.execute("SELECT doc_id FROM documents").fetchall()}
    assert len(after) == 5 and len(set(before) - set(after)) == 2 and len(set(after) - set(before)) == 1


def test_files_written_in_threads_equal_files_written_one_by_one(first_run, tmp_path, monkeypatch):
    """The release writes its Parquet files two at a time, each through its
    own cursor; the files must be those of writing them one after the other."""
    import threading

    from dangjian import release

    work = first_run[1] / WORK_DB
    threads = {}
    real = release.export_table

    def export_table(con, table, path, *args):
        threads[table.name] = threading.current_thread().name
        return real(con, table, path, *args)

    monkeypatch.setattr(release, "export_table", export_table)
    metas = {}
    for workers in (1, 2):
        out = tmp_path / f"workers-{workers}"
        (out / "work").mkdir(parents=True)
        threads.clear()
        with duckdb.connect(str(work), read_only=True) as con:
            info = release.publish(con, out, workers=workers)
        metas[workers] = json.loads((info.path / "release.json").read_text(encoding="utf-8"))
        assert set(threads) == {t.name for t in TABLES}  # no file to link from: all written
        names = set(threads.values())
        assert (len(names) == 1 and threading.main_thread().name in names) if workers == 1 else \
            (len(names) == 2 and all(n.startswith("export") for n in names)), names
    assert metas[1]["tables"] == metas[2]["tables"]
    assert metas[1]["content_hash"] == metas[2]["content_hash"]


def test_renames_are_followed_for_the_documents_a_stage_has_not_recorded(folder):
    """A stage follows renames only for documents whose path differs from
    the one it recorded when it last finished, or that it never recorded
    (a run killed before it finished), and not for the documents it has
    just processed. On the working database of a real run."""
    from dangjian import incremental as inc
    from dangjian.schema import NUMBERS

    _, warehouse, _ = folder
    with duckdb.connect(str(warehouse / WORK_DB)) as con:
        assert inc.renamed_since(con, "facts", []) == []  # the run recorded every path
        doc, old = con.execute("SELECT doc_id, source_path FROM documents.documents "
                               "WHERE source_path = 'extra/b.txt'").fetchall()[0]
        rows = con.execute("SELECT count(*) FROM extracted.numbers WHERE doc_id = ?", [doc]).fetchall()[0][0]
        assert rows > 0
        con.execute("UPDATE documents.documents SET source_path = 'extra/b-renamed.txt' WHERE doc_id = ?", [doc])
        assert inc.renamed_since(con, "facts", []) == [doc]
        assert inc.renamed_since(con, "facts", [doc]) == []  # processed now: its rows are new
        inc.follow_renames(con, NUMBERS, inc.renamed_since(con, "facts", []))
        assert con.execute("SELECT source_path, count(*) FROM extracted.numbers WHERE doc_id = ? GROUP BY 1",
                           [doc]).fetchall() == [("extra/b-renamed.txt", rows)]
        inc.record_paths(con, "facts")
        assert inc.renamed_since(con, "facts", []) == []
        # Processed by a run killed before the stage finished: never recorded.
        con.execute("DELETE FROM state.stage_paths WHERE stage = 'facts' AND doc_id = ?", [doc])
        assert inc.renamed_since(con, "facts", []) == [doc]
        # A stage that has recorded nothing checks every row.
        con.execute("DELETE FROM state.stage_paths WHERE stage = 'facts'")
        assert inc.renamed_since(con, "facts", []) is None
        assert old != "extra/b-renamed.txt"
