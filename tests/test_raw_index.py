"""The raw-folder index: a re-run does not read files that have not changed.

Files count as unchanged only if their size, times, inode and device are what
they were when their bytes were hashed, and the hashing came more than
``sources.RACY_NS`` after their last change. The module's folders are written
once and then left to age past that window (one real sleep), so the index is
trusted where the tests expect it to be.
"""
from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
import time

import dagster as dg
import duckdb
import pytest
from conftest import RAW
from test_pipeline import materialize

from dangjian import incremental as inc
from dangjian import sources
from dangjian.defs.jobs import daily_reingest
from dangjian.defs.resources import WarehouseResource
from dangjian.definitions import assets_and_checks, defs
from dangjian.ingest import ingest_folder

# Short reports of our own; c and c-copy have the same bytes (one document, two paths).
TEXTS = {
    "a.txt": "海门区推进党建引领基层治理\n2020年,全区新建党群服务中心12个,覆盖率达95%。\n",
    "b.txt": "亭湖区开展“双联双促”活动\n全区49个行政村与36家企业签订联建协议。\n",
    "c.txt": "如皋市推行“网格党建”\n全市划分网格1865个,配备专职网格员2100名。\n",
    "c-copy.txt": "如皋市推行“网格党建”\n全市划分网格1865个,配备专职网格员2100名。\n",
}
SEED = "001_fb00645a8e6ebd2d.txt"
FOLDERS = ("unchanged", "rewritten", "reprocessed", "dagster")


@pytest.fixture(scope="module")
def aged(tmp_path_factory):
    """One raw folder per test, written now and older than the racy window
    by the time the tests hash them."""
    root = tmp_path_factory.mktemp("raw-index")
    for name in FOLDERS:
        raw = root / name
        raw.mkdir()
        for file, text in TEXTS.items():
            (raw / file).write_text(text, encoding="utf-8")
    shutil.copy2(RAW / SEED, root / "dagster" / SEED)
    time.sleep(sources.RACY_NS / 1e9 + 0.2)
    return root


def rows(result) -> list[dict]:
    return sorted(result.source_files, key=lambda r: r["path"])


def test_unchanged_files_are_read_once(aged):
    raw = aged / "unchanged"
    first = ingest_folder(raw)
    assert first.files_read == 4 and sorted(first.index) == sorted(TEXTS)
    again = ingest_folder(raw, known=first.keys, index=first.index)
    assert again.files_read == 0 and again.processed == 0
    # The index's sha256 is the file's: the source_files rows are those of reading every file.
    assert rows(again) == rows(first)
    for row in rows(again):
        assert row["sha256"] == hashlib.sha256((raw / row["path"]).read_bytes()).hexdigest()
    assert again.index == first.index

    (raw / "d.txt").write_text("新增一篇:全区新建党群服务中心3个。\n", encoding="utf-8")
    (raw / "a.txt").unlink()
    third = ingest_folder(raw, known=again.keys, index=again.index)
    assert third.files_read == 1 and third.processed == 1
    assert sorted(third.index) == ["b.txt", "c-copy.txt", "c.txt", "d.txt"]


def test_a_file_rewritten_to_its_old_size_and_mtime_is_read(aged):
    raw = aged / "rewritten"
    first = ingest_folder(raw)
    path = raw / "b.txt"
    before = path.stat()
    changed = TEXTS["b.txt"].replace("49个", "48个")
    assert len(changed.encode()) == before.st_size
    path.write_text(changed, encoding="utf-8")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (before.st_size, before.st_mtime_ns)

    again = ingest_folder(raw, known=first.keys, index=first.index)
    assert again.files_read == 1 and again.processed == 1
    assert {r["path"]: r["sha256"] for r in again.source_files}["b.txt"] == hashlib.sha256(changed.encode()).hexdigest()
    assert "48个" in again.documents[0]["text"]


def test_a_record_made_right_after_a_change_is_not_trusted(tmp_path):
    raw = tmp_path / "fresh"
    raw.mkdir()
    for file, text in TEXTS.items():
        (raw / file).write_text(text, encoding="utf-8")
    first = ingest_folder(raw)  # within the racy window of the writes
    again = ingest_folder(raw, known=first.keys, index=first.index)
    assert again.files_read == 4 and again.processed == 0
    # Once hashed long enough after the change, the record holds.
    later = {p: dataclasses.replace(e, hashed_ns=max(e.mtime_ns, e.ctime_ns) + sources.RACY_NS + 1)
             for p, e in again.index.items()}
    assert ingest_folder(raw, known=first.keys, index=later).files_read == 0


def test_files_the_index_knows_are_read_when_their_document_is_processed_again(aged):
    raw = aged / "reprocessed"
    first = ingest_folder(raw)
    # A document whose input key changed (here: forgotten, as after a change
    # to the processing code) needs its bytes, index or not; so does the
    # second path of the same bytes, in case the first cannot be read.
    doc_id = {r["path"]: r["doc_id"] for r in first.source_files}["c.txt"]
    again = ingest_folder(raw, known={d: k for d, k in first.keys.items() if d != doc_id}, index=first.index)
    assert again.processed == 1 and again.files_read == 2
    [doc] = again.documents
    assert doc["source_paths"] == ["c-copy.txt", "c.txt"]
    assert doc["text"] == next(d["text"] for d in first.documents if d["doc_id"] == doc_id)
    assert rows(again) == rows(first)


def files_read(result) -> int:
    [value] = [e.materialization.metadata["files read"].value for e in result.get_asset_materialization_events()
               if "files read" in e.materialization.metadata]
    return value


def test_pipeline_keeps_the_index_and_rehash_reads_everything(aged, tmp_path):
    raw, warehouse = aged / "dagster", tmp_path / "warehouse"
    assert files_read(materialize(raw, warehouse)) == 5
    assert files_read(materialize(raw, warehouse)) == 0
    with (raw / "a.txt").open("a", encoding="utf-8") as f:
        f.write("2021年,新增党员37名。\n")
    assert files_read(materialize(raw, warehouse)) == 1
    rehashed = dg.materialize(assets_and_checks(), instance=dg.DagsterInstance.ephemeral(), resources={
        "warehouse": WarehouseResource(raw_dir=str(raw), warehouse_dir=str(warehouse), rehash=True)})
    assert files_read(rehashed) == 5


def test_the_daily_schedule_rehashes():
    with dg.build_schedule_context() as context:
        [request] = daily_reingest.evaluate_tick(context).run_requests
    assert request.run_config["resources"]["warehouse"]["config"]["rehash"] is True
    # The job accepts it as run config (a misspelt field would fail here).
    assert dg.validate_run_config(defs.resolve_job_def("build_release"), request.run_config)


def test_a_file_dated_beyond_64_bit_nanoseconds_is_read_each_time(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "a.txt").write_text(TEXTS["a.txt"], encoding="utf-8")
    (raw / "b.txt").write_text(TEXTS["b.txt"], encoding="utf-8")
    year_2300 = 10_413_792_000 * 10**9  # 2300-01-01 UTC, past 2**63 ns
    os.utime(raw / "a.txt", ns=(year_2300, year_2300))
    if (raw / "a.txt").stat().st_mtime_ns != year_2300:
        pytest.skip("this file system cannot keep a date in 2300")
    first = ingest_folder(raw)
    assert sorted(first.index) == ["b.txt"] and first.processed == 2
    # The index is stored and read back in a real DuckDB file.
    with duckdb.connect(str(tmp_path / "work.duckdb")) as con:
        inc.set_raw_index(con, first.index)
        assert inc.raw_index(con) == first.index
    again = ingest_folder(raw, known=first.keys, index=first.index)
    assert again.files_read == 2 and again.processed == 0  # b.txt: within the racy window
