"""Killed runs and concurrent readers: the last good release always survives.

Each fault test really SIGKILLs a ``dangjian run`` subprocess at one point
(see fault_runner.py), then checks that the previous release is intact and
``latest``, that nothing half-written looks like a release, and that the
next run recovers to exactly what a clean run produces.
"""
from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from conftest import RAW

from dangjian.release import LATEST, RELEASES, latest_version, list_releases, published_version
from dangjian.warehouse import PUBLISHED_DB, WORK_DB

RUNNER = Path(__file__).with_name("fault_runner.py")
CLI = [sys.executable, "-m", "dangjian.cli"]
POINTS = ["while_writing_sentences", "while_workers_run", "between_parquet_files", "before_release_rename",
          "before_latest_switch", "before_database_swap"]


def run_cli(raw: Path, warehouse: Path) -> subprocess.CompletedProcess:
    return subprocess.run(CLI + ["run", "--raw-dir", str(raw), "--warehouse-dir", str(warehouse),
                                 "--log-level", "WARNING"], capture_output=True, text=True, timeout=600)


def release_dirs(warehouse: Path) -> list[str]:
    """What a user listing the releases folder would take for releases."""
    return sorted(p.name for p in (warehouse / RELEASES).iterdir()
                  if not p.name.startswith(".") and p.is_dir() and not p.is_symlink())


def assert_consistent(warehouse: Path) -> str:
    """Every visible release folder is complete, and the published database
    holds exactly the rows its release says it holds."""
    complete = {r["version"] for r in list_releases(warehouse)}
    assert set(release_dirs(warehouse)) == complete
    version = published_version(warehouse)
    meta = json.loads((warehouse / RELEASES / version / "release.json").read_text())
    with duckdb.connect(str(warehouse / PUBLISHED_DB), read_only=True) as con:
        for name, info in meta["tables"].items():
            assert con.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] == info["rows"], name
    return version


@pytest.fixture(scope="module")
def corpora(tmp_path_factory):
    """Two raw folders (four seeds, then all five), the content hash a clean
    run over the second one produces, and a warehouse after one good run over
    the first (each test starts from its own copy of it)."""
    root = tmp_path_factory.mktemp("faults")
    before, after = root / "raw_before", root / "raw_after"
    shutil.copytree(RAW, after)
    shutil.copytree(RAW, before)
    (before / "003_6fc1dc587f997423.txt").unlink()
    clean = root / "clean_warehouse"
    assert run_cli(after, clean).returncode == 0
    good = root / "good_warehouse"
    assert run_cli(before, good).returncode == 0
    return before, after, list_releases(clean)[-1]["content_hash"], good


def warehouse_after_a_good_run(template: Path, tmp_path: Path) -> Path:
    """A copy of the fixture's warehouse: the state one good run over the four
    seeds leaves (the ``latest`` link is relative, so it copies as is)."""
    warehouse = tmp_path / "warehouse"
    shutil.copytree(template, warehouse, symlinks=True)
    assert latest_version(warehouse) == latest_version(template)
    return warehouse


@pytest.mark.parametrize("point", POINTS)
def test_kill_leaves_last_release_and_next_run_recovers(point, corpora, tmp_path):
    before, after, clean_hash, good = corpora
    warehouse = warehouse_after_a_good_run(good, tmp_path)
    old = latest_version(warehouse)

    killed = subprocess.run([sys.executable, str(RUNNER), point, str(after), str(warehouse)],
                            capture_output=True, text=True, timeout=600)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    if point == "while_workers_run":
        # Workers of a killed run do not linger: they notice their parent is gone.
        pids = [int(p) for p in (warehouse / "worker-pids.txt").read_text().split()]
        assert len(pids) == 2
        deadline = time.monotonic() + 10
        while any(Path(f"/proc/{pid}").exists() for pid in pids) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not any(Path(f"/proc/{pid}").exists() for pid in pids)
        (warehouse / "worker-pids.txt").unlink()

    # The last good release is intact and still what users see, except that a
    # kill after the new release was complete may leave it (whole) as latest.
    now = latest_version(warehouse)
    assert now == old or point == "before_database_swap"
    assert (warehouse / RELEASES / LATEST / "release.json").exists()
    assert assert_consistent(warehouse) == old

    recovered = run_cli(after, warehouse)
    assert recovered.returncode == 0, recovered.stderr[-2000:]
    version = assert_consistent(warehouse)
    assert version == latest_version(warehouse) != old
    # No duplicated or lost rows: exactly what a clean run over the same folder gives.
    assert list_releases(warehouse)[-1]["content_hash"] == clean_hash
    assert {r["content_hash"] for r in list_releases(warehouse) if r["version"] == version} == {clean_hash}


def test_a_killed_stage_resumes_after_its_last_finished_batch(corpora, tmp_path):
    """Per-document stages commit batch by batch with their marker: a run
    killed in the middle of one keeps the finished batches, and the next run
    does only the rest, and ends where a clean run does."""
    _, after, clean_hash, _ = corpora
    warehouse = tmp_path / "warehouse"
    killed = subprocess.run([sys.executable, str(RUNNER), "after_two_batches", str(after), str(warehouse)],
                            capture_output=True, text=True, timeout=600)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert not list_releases(warehouse)
    with duckdb.connect(str(warehouse / WORK_DB), read_only=True) as con:
        kept = con.execute('SELECT count(DISTINCT doc_id) FROM "documents"."sentences"').fetchone()[0]
    assert kept == 2

    recovered = subprocess.run(CLI + ["run", "--raw-dir", str(after), "--warehouse-dir", str(warehouse),
                                      "--log-level", "INFO"], capture_output=True, text=True, timeout=600)
    assert recovered.returncode == 0, recovered.stderr[-2000:]
    assert "segments: 3/3 documents" in recovered.stderr, recovered.stderr[-3000:]
    assert "facts: 5/5 documents" in recovered.stderr
    assert list_releases(warehouse)[-1]["content_hash"] == clean_hash


READER = r"""
import json, sys, time, duckdb
from pathlib import Path
wh, stop = Path(sys.argv[1]), Path(sys.argv[2])
ok = bad = 0
versions = set()
end = time.monotonic() + 900
# Reads until the test says the runs are over, however long they take.
while time.monotonic() < end and not stop.exists():
    try:
        with duckdb.connect(str(wh / "dangjian.duckdb"), read_only=True) as con:
            version = con.execute("SELECT version FROM release").fetchone()[0]
            meta = json.loads((wh / "releases" / version / "release.json").read_text())
            for name, info in meta["tables"].items():
                n = con.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
                if n != info["rows"]:
                    raise AssertionError(f"{version}: {name} has {n} rows, release says {info['rows']}")
        versions.add(version)
        ok += 1
    except Exception as exc:
        bad += 1
        print("FAIL", type(exc).__name__, exc, flush=True)
print(json.dumps({"ok": ok, "bad": bad, "versions": sorted(versions)}))
"""


def test_readers_see_one_whole_release_during_runs(corpora, tmp_path):
    before, after, _, good = corpora
    warehouse = warehouse_after_a_good_run(good, tmp_path)
    stop = tmp_path / "stop"
    reader = subprocess.Popen([sys.executable, "-c", READER, str(warehouse), str(stop)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(1)
        for raw in (after, before, after):  # three full runs, each publishing a release switch
            assert run_cli(raw, warehouse).returncode == 0
        time.sleep(1)
        stop.touch()
        out, err = reader.communicate(timeout=120)
    finally:
        reader.kill()
    summary = json.loads(out.strip().splitlines()[-1])
    print("READER", summary)
    assert summary["bad"] == 0, out
    assert summary["ok"] > 20
    assert len(summary["versions"]) == 2  # it saw both the old and the new release


def test_runs_report_their_steps_and_the_bench_tells_a_re_runs_growth_step_by_step(corpora, tmp_path):
    """`dangjian run` prints the seconds of every step of 0.1 s or more; the
    benchmark (`dangjian.bench`) reads them and tells how a one-file re-run
    grows, step by step, from the smallest size to the largest: here, one
    file added to four seeds, then one more to five."""
    from dangjian import bench

    before, after, _, good = corpora
    warehouse = warehouse_after_a_good_run(good, tmp_path)
    raw = tmp_path / "raw"
    shutil.copytree(before, raw)
    runs = []
    for k in range(2):
        if k == 0:
            shutil.copy(after / "003_6fc1dc587f997423.txt", raw)
        else:
            new = bench.make_document(bench.load_pool(), 7, seed=0)
            (raw / new.path).parent.mkdir(exist_ok=True)
            (raw / new.path).write_bytes(new.data)
        run = bench.run_cli(raw, warehouse, f"incr-add-{k}")
        assert "error" not in run and run["new_release"], run
        assert {"ingest", "released__release"} <= set(run["steps"]), run["steps"]
        assert all(s >= 0.1 for s in run["steps"].values())
        assert sum(run["steps"].values()) <= run["run_s"] + 0.5
        runs.append([run])
    report = {"sizes": {str(4 + k): {"incremental": {"add_one": bench._median_run(r), "add_one_runs": r}}
                        for k, r in enumerate(runs)}}
    growth = bench.incremental_growth(report, "add_one", top=100)
    a, b = runs[0][0], runs[1][0]
    assert (growth["from"], growth["to"]) == (4, 5)
    assert growth["ratio"] == pytest.approx(b["seconds"] / a["seconds"])
    assert {d["step"] for d in growth["steps"]} == set(a["steps"]) | set(b["steps"])
    for d in growth["steps"]:
        assert d["growth_s"] == pytest.approx(b["steps"].get(d["step"], 0) - a["steps"].get(d["step"], 0))
    assert [d["growth_s"] for d in growth["steps"]] == sorted((d["growth_s"] for d in growth["steps"]), reverse=True)
    assert "re-run, +1 file, n=4 → n=5" in bench.format_growth(growth)
    assert bench.incremental_growth({"sizes": {"5": report["sizes"]["5"]}}) is None  # one size: nothing to compare
