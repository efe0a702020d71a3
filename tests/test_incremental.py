"""Incremental re-runs: only new or changed documents are processed, and the
result is always exactly what a clean run over the same folder gives."""
from __future__ import annotations

import shutil

import dagster as dg
import pytest
from conftest import RAW
from test_pipeline import materialize

from dangjian.defs.resources import WarehouseResource
from dangjian.definitions import assets_and_checks
from dangjian.release import RELEASES, list_releases

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


@pytest.fixture
def folder(tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(RAW, raw)
    (raw / HELD_BACK).rename(tmp_path / HELD_BACK)
    for name, text in EXTRA.items():
        (raw / name).parent.mkdir(exist_ok=True)
        (raw / name).write_text(text, encoding="utf-8")
    warehouse = tmp_path / "warehouse"
    first = materialize(raw, warehouse)
    assert processed(first) == {"documents/documents": 6, "documents/paragraphs": 6,
                                "documents/sentences": 6, "extracted/numbers": 6}
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
