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
