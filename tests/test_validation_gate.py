"""Corrupted tables never reach a release: the checks fail and `latest` stays.

Each case corrupts the working database the way a bug would (a duplicate
id, a null in a required column, an offset past the text), then runs the
real checks and the real release step.
"""
from __future__ import annotations

import shutil

import dagster as dg
import duckdb
import pytest
from conftest import RAW
from test_pipeline import materialize

from dangjian.defs.resources import WarehouseResource
from dangjian.definitions import assets_and_checks
from dangjian.release import latest_version, list_releases
from dangjian.warehouse import WORK_DB

# case: (table, corrupting SQL, whether the cheap `<table>_sound` check must catch it too)
CORRUPTIONS = {
    "duplicate number id": ("numbers", 'INSERT INTO "extracted"."numbers" SELECT * FROM "extracted"."numbers" LIMIT 1', True),
    "null encoding": ("documents", 'UPDATE "documents"."documents" SET encoding = NULL WHERE doc_id = (SELECT min(doc_id) FROM "documents"."documents")', False),
    "offset past the text": ("sentences", 'UPDATE "documents"."sentences" SET "end" = "end" + 1000000 WHERE sentence_index = 3', True),
}


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    root = tmp_path_factory.mktemp("gate")
    raw = root / "raw"
    shutil.copytree(RAW, raw)
    assert materialize(raw, root / "warehouse").success
    return raw, root / "warehouse"


def run_selected(raw, warehouse, selection) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        assets_and_checks(),
        selection=selection,
        resources={"warehouse": WarehouseResource(raw_dir=str(raw), warehouse_dir=str(warehouse))},
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )


@pytest.mark.parametrize("case", sorted(CORRUPTIONS))
def test_corruption_fails_the_checks_and_publishes_nothing(case, good, tmp_path):
    raw, source = good
    warehouse = tmp_path / "warehouse"
    shutil.copytree(source, warehouse, symlinks=True)
    table, sql, cheap_check_catches = CORRUPTIONS[case]
    with duckdb.connect(str(warehouse / WORK_DB)) as con:
        con.execute(sql)
    before = (latest_version(warehouse), [r["version"] for r in list_releases(warehouse)])
    stage = {"numbers": "extracted", "documents": "documents", "sentences": "documents"}[table]

    checks = run_selected(raw, warehouse, dg.AssetSelection.checks_for_assets(dg.AssetKey([stage, table])))
    failed = {(e.asset_key.to_user_string(), e.check_name) for e in checks.get_asset_check_evaluations() if not e.passed}
    assert (f"{stage}/{table}", "expectations") in failed
    assert ((f"{stage}/{table}", f"{table}_sound") in failed) == cheap_check_catches

    release = run_selected(raw, warehouse, dg.AssetSelection.assets(dg.AssetKey(["released", "release"])))
    assert not release.success
    failure = release.get_step_failure_events()[0].step_failure_data.error
    assert "critical expectations failed" in failure.message and table in failure.message
    assert (latest_version(warehouse), [r["version"] for r in list_releases(warehouse)]) == before


@pytest.mark.parametrize("case", sorted(CORRUPTIONS))
def test_gate_alone_does_not_trust_outcomes_of_the_rows_before(case, good, tmp_path):
    """The good run left passing outcomes for every row. After a corruption
    the release step, run without the checks, must see that those rows are no
    longer the ones validated, validate them again, and refuse."""
    raw, source = good
    warehouse = tmp_path / "warehouse"
    shutil.copytree(source, warehouse, symlinks=True)
    assert any((warehouse / "work" / "validation").rglob("*.json"))  # outcomes to be tempted by
    table, sql, _ = CORRUPTIONS[case]
    with duckdb.connect(str(warehouse / WORK_DB)) as con:
        con.execute(sql)
    before = (latest_version(warehouse), [r["version"] for r in list_releases(warehouse)])
    release = run_selected(raw, warehouse, dg.AssetSelection.assets(dg.AssetKey(["released", "release"])))
    assert not release.success
    failure = release.get_step_failure_events()[0].step_failure_data.error
    assert "critical expectations failed" in failure.message and table in failure.message
    assert (latest_version(warehouse), [r["version"] for r in list_releases(warehouse)]) == before


def test_the_sound_checks_count_the_rows_that_break_each_rule(good, tmp_path):
    """``problems`` counts, per table, the rows that break each cheap rule;
    each table here is broken in one way, and every other count stays 0."""
    from dangjian.defs.checks import problems
    from dangjian.schema import BY_NAME

    db = tmp_path / "work.duckdb"
    shutil.copy(good[1] / WORK_DB, db)
    with duckdb.connect(str(db)) as con:
        con.execute('INSERT INTO "extracted"."numbers" SELECT * FROM "extracted"."numbers" LIMIT 1')
        con.execute('UPDATE "extracted"."people" SET person_id = NULL WHERE person_id IN '
                    '(SELECT person_id FROM "extracted"."people" ORDER BY person_id LIMIT 2)')
        con.execute('UPDATE "documents"."sentences" SET "end" = "end" + 1000000 WHERE sentence_index = 3')
        con.execute('UPDATE "documents"."sentences" SET source_start = -1 WHERE sentence_index = 5')
        con.execute('UPDATE "extracted"."places" SET doc_id = \'not a document\' WHERE place_id IN '
                    '(SELECT place_id FROM "extracted"."places" ORDER BY place_id LIMIT 3)')
        documents_with_sentence_3 = con.execute(
            'SELECT count(*) FROM "documents"."sentences" WHERE sentence_index = 3').fetchone()[0]
        documents_with_sentence_5 = con.execute(
            'SELECT count(*) FROM "documents"."sentences" WHERE sentence_index = 5').fetchone()[0]
    assert documents_with_sentence_3 >= 4 and documents_with_sentence_5 >= 4
    with duckdb.connect(str(db), read_only=True) as con:
        found = {name: problems(con, BY_NAME[name]) for name in ("numbers", "people", "sentences", "places", "documents")}
    clean = {"null_keys": 0, "duplicate_keys": 0}
    located = {**clean, "orphan_rows": 0, "offsets_outside_text": 0}
    assert found == {
        "numbers": {**located, "duplicate_keys": 1},
        "people": {**located, "null_keys": 2, "duplicate_keys": 2},  # a null is no distinct key
        "sentences": {**located, "offsets_outside_text": documents_with_sentence_3 + documents_with_sentence_5},
        "places": {**located, "orphan_rows": 3},
        "documents": {**clean, "empty_table": 0},
    }


def test_the_sound_checks_by_difference_count_what_the_whole_table_counts(good, tmp_path):
    """After a state in which every rule held, the sound checks count only
    the rows of documents whose rows or document row changed, and the rows
    that share a key with them. Broken in many ways at once (a document row
    shortened under its unchanged sentences and facts among them), every
    table's counts must be those of the whole table, twice in a row: a
    broken state is never the next basis."""
    from dangjian.defs.checks import problems
    from dangjian.schema import TABLES

    db, basis = tmp_path / "work.duckdb", tmp_path / "sound"
    shutil.copy(good[1] / WORK_DB, db)
    with duckdb.connect(str(db), read_only=True) as con:
        assert all(not any(problems(con, t, basis).values()) for t in TABLES)
        [(shortened,)] = con.execute('SELECT min(doc_id) FROM "documents"."documents"').fetchall()
    with duckdb.connect(str(db)) as con:
        con.execute('INSERT INTO "extracted"."numbers" SELECT * FROM "extracted"."numbers" LIMIT 1')
        con.execute('UPDATE "extracted"."people" SET person_id = NULL WHERE person_id IN '
                    '(SELECT person_id FROM "extracted"."people" ORDER BY person_id LIMIT 2)')
        # one document's place takes the key of another document's place
        con.execute('UPDATE "extracted"."places" SET place_id = (SELECT max(place_id) FROM "extracted"."places") '
                    'WHERE place_id = (SELECT min(place_id) FROM "extracted"."places" WHERE doc_id <> '
                    '(SELECT doc_id FROM "extracted"."places" ORDER BY place_id DESC LIMIT 1))')
        con.execute('UPDATE "extracted"."organizations" SET doc_id = \'not a document\' WHERE org_id IN '
                    '(SELECT org_id FROM "extracted"."organizations" ORDER BY org_id LIMIT 3)')
        con.execute('UPDATE "documents"."documents" SET chars = 10, source_chars = 10 WHERE doc_id = ?', [shortened])
    for _ in range(2):
        with duckdb.connect(str(db), read_only=True) as con:
            whole = {t.name: problems(con, t) for t in TABLES}
            by_difference = {t.name: problems(con, t, basis) for t in TABLES}
        assert by_difference == whole
    assert whole["numbers"]["duplicate_keys"] == 1 and whole["people"]["null_keys"] == 2
    assert whole["places"]["duplicate_keys"] == 1 and whole["organizations"]["orphan_rows"] == 3
    assert whole["sentences"]["offsets_outside_text"] > 0 and whole["paragraphs"]["offsets_outside_text"] > 0
