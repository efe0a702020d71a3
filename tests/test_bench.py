"""Smoke test of the benchmark machinery (``dangjian.bench``) on 20 documents.

It checks what the benchmark's figures rest on — the synthetic corpus is
what it claims to be, and a measurement returns usable numbers — not how
fast anything is: timings depend on the machine.
"""
from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import pytest

from dangjian import bench
from dangjian.text.decode import decode_bytes

N = 20


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bench") / "corpus"
    return folder, bench.make_corpus(folder, N, seed=0)


def test_corpus_counts(corpus):
    folder, stats = corpus
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    assert stats.files == len(files) == N
    assert stats.bytes == sum(p.stat().st_size for p in files)
    assert stats.chars > 0
    assert sum(stats.by_encoding.values()) == N
    assert {p.parent.name for p in files} == {"batch_000"}


def test_every_file_decodes_to_the_generated_text(corpus):
    folder, _ = corpus
    pool = bench.load_pool()
    for i in range(N):
        doc = bench.make_document(pool, i, seed=0)
        data = (folder / doc.path).read_bytes()
        assert data == doc.data, f"{doc.path}: not deterministic"
        assert decode_bytes(data).text == doc.text, f"{doc.path} ({doc.encoding}) decodes to other text"


def test_the_mix_is_present(corpus):
    folder, stats = corpus
    pool = bench.load_pool()
    docs = [bench.make_document(pool, i, seed=0) for i in range(N)]
    # Every encoding kind, with a BOM where the kind has one; Big5 ones in Traditional script.
    assert set(stats.by_encoding) >= {"utf-8", "gb18030", "utf-16-bom", "utf-8-bom-crlf"}
    assert stats.by_encoding.get("big5", 0) + stats.big5_fallbacks == 2
    detected = Counter(decode_bytes(d.data).encoding for d in docs)
    assert {"utf-8", "gb18030", "utf-16", "utf-8-sig"} <= set(detected)
    assert all(d.script == "Hant" for d in docs if d.encoding == "big5")
    assert any(b"\r\n" in d.data for d in docs if d.encoding == "utf-8-bom-crlf")
    assert stats.traditional == 6
    # HTML pages exist and look like pages.
    html_files = list(folder.rglob("*.html"))
    assert len(html_files) == stats.html == 3
    for d in docs:
        if d.is_html:
            assert "<div class=\"article\">" in d.text and "<script" in d.text and "<p>" in d.text


def test_a_measurement_returns_finite_positive_numbers(corpus, tmp_path):
    folder, stats = corpus
    result = bench.run_stage("reference", folder, tmp_path / "stages")
    assert "error" not in result, result
    assert result["docs"] == N and result["bytes"] == stats.bytes
    for key in ("seconds", "decode_s", "opencc_s", "wall_s", "peak_rss_mib"):
        assert math.isfinite(result[key]) and result[key] > 0, key
    rows = bench.table_rows({"corpus": {"files": stats.files, "bytes": stats.bytes}, "stages": {"reference": result}})
    assert rows and all(math.isfinite(r["mb_per_s"]) and r["mb_per_s"] > 0 for r in rows)


def test_changing_one_number_changes_one_character():
    text = "标题2021\n全县4825户,网办化率达90%。\n"
    changed = bench.change_one_number(text)
    assert len(changed) == len(text)
    assert sum(a != b for a, b in zip(text, changed)) == 1
    assert changed.startswith("标题2021\n")


def test_stages_run_and_agree(corpus, tmp_path):
    """Each stage of the benchmark runs on the 20 documents; the facts stage
    in worker processes finds exactly what it finds in one process; the
    validation passes, and its second pass reuses every outcome."""
    folder, _ = corpus
    stages = tmp_path / "stages"
    results = {s: bench.run_stage(s, folder, stages)
               for s in ("ingest", "ingest_workers", "segments", "facts", "facts_workers", "validation", "release")}
    for name, result in results.items():
        assert "error" not in result, (name, result)
        assert result["peak_rss_mib"] > 0 and result["peak_tree_rss_mib"] >= 0, name
    assert results["facts_workers"]["rows"] == results["facts"]["rows"]
    assert (results["ingest_workers"]["docs"], results["ingest_workers"]["rejected"]) == (
        results["ingest"]["docs"], results["ingest"]["rejected"])
    assert results["facts"]["rows"]["numbers"] > 0
    validation = results["validation"]
    assert validation["success"], validation["failed_critical"]
    assert validation["rows"]["documents"] == N and validation["reuse_s"] < validation["seconds"]


def test_a_facts_batch_sent_to_a_worker_carries_only_its_own_documents(corpus, tmp_path):
    """The benchmark's facts stage pickles each batch to a worker. A batch
    must pickle to about its own size: an Arrow slice would carry every
    document of the corpus (10,000 documents' text per batch of 250, the
    stage's process tree at 3.8 GB)."""
    import pickle

    folder, _ = corpus
    stages = tmp_path / "stages"
    for stage in ("ingest", "segments"):
        assert "error" not in bench.run_stage(stage, folder, stages)
    from dangjian.schema import DOCUMENTS

    docs = bench._load(stages, DOCUMENTS)
    batches = list(bench._facts_batches(stages, 6))
    assert [b.num_rows for b, _ in batches] == [6, 6, 6, 2]
    assert [d for b, _ in batches for d in b["doc_id"].to_pylist()] == docs["doc_id"].to_pylist()
    # each document with the place analysis ingest kept for it
    assert all(b["place_analysis_key"].null_count == 0 for b, _ in batches)
    whole = len(pickle.dumps(docs))
    for batch, sents in batches:
        assert len(pickle.dumps(batch)) < whole / 2, (len(pickle.dumps(batch)), whole)
        assert set(sents["doc_id"].to_pylist()) == set(batch["doc_id"].to_pylist())


_PARENT_AND_CHILD = """
import subprocess, sys, time
held = bytearray(60 * 2**20)  # touched, so resident
child = subprocess.Popen([sys.executable, "-c",
    "import time; b = bytearray(200 * 2**20); time.sleep(2.5)"])
time.sleep(0.5)
child.wait()
time.sleep(1.5)  # the child is gone: the tree is smaller again
"""


def test_the_trees_peak_says_when_it_fell_and_which_processes_made_it(tmp_path):
    """A process holding 60 MiB starts a child holding 200 MiB for 2.5 s, and
    lives on 1.5 s after it: the tree's peak is while both live, made of two
    processes, the child's the larger, and not at the end of the run."""
    import sys

    run = bench._spawn([sys.executable, "-c", _PARENT_AND_CHILD], "tree", tmp_path / "out.txt")
    assert run.returncode == 0
    sizeable = bench._sizeable(run.peak_tree_processes_mib)
    assert len(sizeable) == 2, run.peak_tree_processes_mib
    assert sizeable[0] >= 200 and 60 <= sizeable[1] < 200
    assert run.peak_tree_processes_mib == sorted(run.peak_tree_processes_mib, reverse=True)
    assert abs(sum(run.peak_tree_processes_mib) - run.peak_tree_rss_mib) < 0.5
    assert 0 < run.peak_tree_at_s < run.wall_s - 1.0  # not in the last 1.5 s, when the child is gone
    where = bench._peak_where(run.peak_tree_at_s, run.peak_tree_processes_mib)
    assert where.startswith(" at ") and where.count(" + ") == 1


def test_process_tree_memory_and_parallel_probe():
    import os

    assert sum(bench._tree_rss(os.getpid())) > 10
    probe = bench.parallel_speedup(200_000)
    assert probe["speedup"] > 0 and probe["one_job_s"] > 0


def test_the_profile_lists_only_the_packages_own_functions_as_ours(tmp_path):
    """The profile's "dangjian's own functions" must not pick up Dagster or
    DuckDB code because a path contains "dangjian" (a clone named dangjian
    holds its .venv)."""
    import cProfile

    import duckdb

    from dangjian.text.script import detect_script

    profiler = cProfile.Profile()
    profiler.runcall(lambda: (duckdb.sql("SELECT 42").fetchall(), detect_script("黨建引領高質量發展")))
    path = tmp_path / "run.prof"
    profiler.dump_stats(str(path))
    summary = bench.profile_summary(path, top=50)
    ours = summary["top_cumulative_dangjian"]
    assert any(r["function"].endswith("(detect_script)") for r in ours)
    outside = [r["file"] for r in ours if not Path(r["file"]).resolve().is_relative_to(bench.PACKAGE_DIR)]
    assert outside == []
    # and the unfiltered list does hold other code
    assert any(not Path(r["file"]).resolve().is_relative_to(bench.PACKAGE_DIR) for r in summary["top_cumulative"])

