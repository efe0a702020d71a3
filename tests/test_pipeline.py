"""The asset graph end to end: real Dagster runs into a real DuckDB file in a temp dir."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pyarrow.parquet as pq
import pytest
from conftest import RAW

from dangjian.defs.resources import WarehouseResource
from dangjian.definitions import assets_and_checks, defs
from dangjian.release import LATEST, RELEASES, list_releases
from dangjian.schema import TABLES
from dangjian.text.script import normalize
from dangjian.warehouse import PUBLISHED_DB, WORK_DB

SEEDS = sorted(p.name for p in RAW.glob("0*_*.txt"))


def materialize(raw_dir: Path, warehouse_dir: Path, raise_on_error: bool = True) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        assets_and_checks(),
        resources={"warehouse": WarehouseResource(raw_dir=str(raw_dir), warehouse_dir=str(warehouse_dir))},
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=raise_on_error,
    )


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    """One full run over a copy of raw/ (the seeds and the manifest)."""
    root = tmp_path_factory.mktemp("run")
    raw = root / "raw"
    shutil.copytree(RAW, raw)
    warehouse = root / "warehouse"
    result = materialize(raw, warehouse)
    assert result.success
    return raw, warehouse, result


def published(warehouse: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(warehouse / PUBLISHED_DB), read_only=True)


def test_definitions_load():
    repo = defs.get_repository_def()
    keys = {k.to_user_string() for k in repo.asset_graph.get_all_asset_keys()}
    assert {f"{t.stage}/{t.name}" for t in TABLES} | {"released/release"} <= keys
    assert repo.get_job("build_release")
    assert len(repo.asset_checks_defs_by_key) == 3 * len(TABLES)  # sound + expectations + warnings


def test_every_seed_becomes_a_document(seeded):
    _, warehouse, _ = seeded
    with published(warehouse) as con:
        docs = dict(con.execute("SELECT source_path, script FROM documents").fetchall())
        assert sorted(docs) == SEEDS
        assert docs["002_ad230b4f88e2bb90.txt"] == "Hant" and docs["000_b3828745d2df20b3.txt"] == "Hans"
        status = dict(con.execute("SELECT path, status FROM source_files").fetchall())
        assert status == {**{s: "document" for s in SEEDS}, "sources.csv": "manifest"}
        assert con.execute("SELECT count(*) FROM rejected_files").fetchone()[0] == 0


def test_row_counts_are_plausible(seeded):
    _, warehouse, result = seeded
    with published(warehouse) as con:
        counts = {t.name: con.execute(f'SELECT count(*) FROM "{t.name}"').fetchone()[0] for t in TABLES}
        per_doc = con.execute(
            "SELECT d.source_path, count(DISTINCT p.paragraph_id), count(DISTINCT s.sentence_id) "
            "FROM documents d JOIN paragraphs p USING (doc_id) JOIN sentences s USING (doc_id) GROUP BY 1"
        ).fetchall()
    assert counts["documents"] == 5
    assert counts["numbers"] > 100
    for path, n_par, n_sent in per_doc:
        assert 5 <= n_par <= n_sent, path
    # The release's row counts are the ones the assets reported.
    mats = {e.asset_key.to_user_string(): e for e in result.get_asset_materialization_events()}
    for t in TABLES:
        reported = mats[f"{t.stage}/{t.name}"].materialization.metadata["dagster/row_count"].value
        assert reported == counts[t.name], t.name


def test_manifest_overrides_and_text_metadata(seeded):
    _, warehouse, _ = seeded
    with published(warehouse) as con:
        rows = {r[0]: r[1:] for r in con.execute(
            "SELECT source_path, title, publisher, published, metadata_origin FROM documents").fetchall()}
    title, publisher, date, origin = rows["001_fb00645a8e6ebd2d.txt"]
    assert (title, publisher, date) == ("让党建成为高质量发展的强引擎", "江海先锋", "2021-07-05")
    assert json.loads(origin)["publisher"] == "manifest"
    title, publisher, date, _ = rows["004_2cf8f4e56bd97bdb.txt"]
    assert publisher == "人民网-中国共产党新闻网" and date == "2017-08-10T08:46"
    assert title == "苏州吴江区:以“融入式党建”夯实基层工作,成效明显"  # Simplified, though the manifest is Traditional


def test_spans_map_back_to_the_source(seeded):
    """Every sentence and number: the normalised span is the source span, converted."""
    _, warehouse, _ = seeded
    with duckdb.connect(str(warehouse / WORK_DB), read_only=True) as con:
        docs = dict(con.execute('SELECT doc_id, source_text FROM "documents"."documents"').fetchall())
        texts = dict(con.execute('SELECT doc_id, text FROM "documents"."documents"').fetchall())
        checked = 0
        for table in ('"documents"."sentences"', '"extracted"."numbers"', '"extracted"."indicators"',
                      '"extracted"."campaign_terms"'):
            for doc_id, start, end, s_start, s_end in con.execute(
                f'SELECT doc_id, start, "end", source_start, source_end FROM {table}'
            ).fetchall():
                assert normalize(docs[doc_id][s_start:s_end]) == texts[doc_id][start:end]
                checked += 1
    assert checked > 1000


def test_indicators_and_terms_in_the_published_database(seeded):
    _, warehouse, _ = seeded
    with published(warehouse) as con:
        row = con.execute("SELECT value, unit, kind, qualifier, subject, sentence FROM indicators "
                          "WHERE text = '突破12亿元'").fetchone()
        assert row == (1.2e9, "元", "money", "lower_bound", "农村电商销售额", None)  # sentence withheld by rights
        row = con.execute("SELECT value, unit, kind, text_simplified FROM indicators WHERE text = '1.1萬人次'").fetchone()
        assert row == (11000.0, "人次", "count", "1.1万人次")
        # Dates, ordinals and slogan numerals are numbers but never indicators.
        leaked = con.execute("SELECT count(*) FROM indicators i JOIN numbers n USING (number_id) "
                             "WHERE NOT n.is_quantity").fetchone()[0]
        assert leaked == 0
        shared = dict(con.execute("SELECT term, term_documents FROM term_diffusion").fetchall())
        assert shared["放学来吧"] == 2 and shared["两新"] == 4 and shared["强富美高"] == 3
        assert "一强三创" not in shared  # used only in 002
        formulas = {r[0] for r in con.execute("SELECT term FROM campaign_terms WHERE is_formula").fetchall()}
        assert {"五双", "三提三当", "一强三创", "四抓两整治", "十查十看十补课", "1+3+N", "6+X", "两代表一委员"} <= formulas


def test_release_layout_and_parquet_round_trip(seeded):
    _, warehouse, _ = seeded
    root = warehouse / RELEASES
    latest = root / LATEST
    assert latest.is_symlink()
    version = latest.resolve().name
    meta = json.loads((latest / "release.json").read_text())
    assert meta["version"] == version
    with published(warehouse) as con:
        for t in TABLES:
            data = pq.read_table(latest / f"{t.name}.parquet")
            assert data.schema.names == t.column_names
            assert data.num_rows == meta["tables"][t.name]["rows"]
            field = data.schema.field(t.column_names[0])
            assert field.metadata[b"description"].decode() == t.columns[0].en
            assert pq.ParquetFile(latest / f"{t.name}.parquet").metadata.row_group(0).column(0).compression == "ZSTD"
            # The published database holds exactly the release's rows.
            assert con.execute(f'SELECT count(*) FROM "{t.name}"').fetchone()[0] == data.num_rows
        assert con.execute("SELECT version FROM release").fetchone()[0] == version
    # SHA256SUMS covers every other file of the release, and every sum is right.
    sums = dict(reversed(line.split("  ")) for line in (latest / "SHA256SUMS").read_text().splitlines())
    assert set(sums) == {p.name for p in latest.iterdir()} - {"SHA256SUMS"}
    assert {"datapackage.json", "README.md", "CITATION.cff", "CHANGELOG.md"} <= set(sums)
    for name, digest in sums.items():
        assert hashlib.sha256((latest / name).read_bytes()).hexdigest() == digest, name
    assert (root / "index.html").exists()


def test_rights_withhold_full_text(seeded):
    """Every seed's manifest row says redistribute_text=false: no full text in the release."""
    _, warehouse, _ = seeded
    with published(warehouse) as con:
        assert con.execute("SELECT count(*) FROM documents WHERE text IS NOT NULL OR source_text IS NOT NULL").fetchone()[0] == 0
        assert con.execute("SELECT count(*) FROM sentences WHERE text IS NOT NULL").fetchone()[0] == 0
        assert con.execute("SELECT count(*) FROM indicators WHERE sentence IS NOT NULL").fetchone()[0] == 0
        # The extracted values themselves stay.
        assert con.execute("SELECT count(*) FROM numbers WHERE text IS NOT NULL").fetchone()[0] > 100
    with duckdb.connect(str(warehouse / WORK_DB), read_only=True) as con:
        assert con.execute('SELECT count(*) FROM "documents"."documents" WHERE text IS NULL').fetchone()[0] == 0


def test_second_run_is_idempotent(seeded, tmp_path):
    raw, warehouse, _ = seeded
    before = [r["version"] for r in list_releases(warehouse)]
    assert materialize(raw, warehouse).success
    assert [r["version"] for r in list_releases(warehouse)] == before


def test_bad_files_are_rejected_and_the_run_goes_on(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(RAW / SEEDS[1], raw / "good.txt")
    shutil.copy(RAW / SEEDS[1], raw / "copy of good.txt")
    (raw / "empty.txt").write_bytes(b"")
    (raw / "picture.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    (raw / "sub").mkdir()
    (raw / "sub" / "gbk.txt").write_bytes("全区共领办开门实事项目1419个。".encode("gb18030"))
    warehouse = tmp_path / "warehouse"
    assert materialize(raw, warehouse).success
    with published(warehouse) as con:
        status = dict(con.execute("SELECT path, status FROM source_files").fetchall())
        rejected = dict(con.execute("SELECT path, reason FROM rejected_files").fetchall())
        paths = con.execute("SELECT source_paths FROM documents WHERE source_path = 'copy of good.txt'").fetchone()[0]
    assert status == {"copy of good.txt": "document", "good.txt": "duplicate", "empty.txt": "rejected",
                      "picture.png": "rejected", "sub/gbk.txt": "document"}
    assert sorted(paths) == ["copy of good.txt", "good.txt"]
    assert "empty" in rejected["empty.txt"] and "PNG" in rejected["picture.png"]


def test_published_db_readable_while_a_run_holds_the_working_db(seeded):
    """A separate process opens the published database read-only while this
    process holds the working database open for writing, as a run does."""
    _, warehouse, _ = seeded
    with duckdb.connect(str(warehouse / WORK_DB)) as writer:
        writer.execute("CREATE OR REPLACE TABLE lock_probe AS SELECT 1 AS x")
        probe = (
            "import duckdb, sys; c = duckdb.connect(sys.argv[1], read_only=True); "
            "print(c.execute('SELECT count(*) FROM documents').fetchone()[0])"
        )
        out = subprocess.run([sys.executable, "-c", probe, str(warehouse / PUBLISHED_DB)],
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip() == "5"
        # The working database really is locked against other processes.
        blocked = subprocess.run([sys.executable, "-c", probe.replace("documents", '"documents"."documents"'),
                                  str(warehouse / WORK_DB)], capture_output=True, text=True, timeout=60)
        assert blocked.returncode != 0
        writer.execute("DROP TABLE lock_probe")


def test_checks_ran_in_the_run(seeded):
    """The blocking checks and the Great Expectations checks really ran, and passed."""
    _, _, result = seeded
    evaluations = {(e.asset_key.to_user_string(), e.check_name): e.passed
                   for e in result.get_asset_check_evaluations()}
    for t in TABLES:
        key = f"{t.stage}/{t.name}"
        assert evaluations[(key, f"{t.name}_sound")] is True
        assert evaluations[(key, "expectations")] is True
    assert len(evaluations) == 3 * len(TABLES)


def test_a_changed_folder_gives_a_new_version_and_an_exact_changelog(tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(RAW, raw)
    held_back = raw / "003_6fc1dc587f997423.txt"
    data = held_back.read_bytes()
    held_back.unlink()
    warehouse = tmp_path / "warehouse"
    assert materialize(raw, warehouse).success
    first = list_releases(warehouse)[-1]
    held_back.write_bytes(data)
    assert materialize(raw, warehouse).success
    second = list_releases(warehouse)[-1]
    assert second["version"] != first["version"]
    changelog = (warehouse / RELEASES / second["version"] / "CHANGELOG.md").read_text()
    assert f"previous release, {first['version']}" in changelog
    assert "| documents | `doc_id` | 5 | 1 | 0 | 0 |" in changelog
    assert "| rejected_files | `rejection_id` | 0 | 0 | 0 | 0 |" in changelog
    added_numbers = second["tables"]["numbers"]["rows"] - first["tables"]["numbers"]["rows"]
    assert f"| numbers | `number_id` | {second['tables']['numbers']['rows']} | {added_numbers} | 0 | 0 |" in changelog
    assert "`003_6fc1dc587f997423.txt`" in changelog.split("## Documents added (1)")[1]


def test_datapackage_of_a_real_release_validates(seeded):
    frictionless = pytest.importorskip("frictionless") if not os.environ.get("CI") else __import__("frictionless")
    _, warehouse, _ = seeded
    latest = warehouse / RELEASES / LATEST
    descriptor = json.loads((latest / "datapackage.json").read_text())
    report = frictionless.Package.validate_descriptor(descriptor)
    assert report.valid, report
    for resource in descriptor["resources"]:
        data = (latest / resource["path"]).read_bytes()
        assert resource["bytes"] == len(data)
        assert resource["hash"] == "sha256:" + hashlib.sha256(data).hexdigest()
    assert {r["name"] for r in descriptor["resources"]} == {t.name for t in TABLES}


def test_readme_queries_run_on_the_published_database(seeded):
    """The README's example SQL is what users paste first; it must work."""
    _, warehouse, _ = seeded
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    blocks = [b.split("```", 1)[0] for b in readme.split("```sql\n")[1:]]
    code = "\n".join(line for b in blocks for line in b.splitlines() if not line.strip().startswith("--"))
    statements = [s.strip() for s in code.split(";") if s.strip()]
    assert len(statements) >= 3
    with published(warehouse) as con:
        for sql in statements:
            assert con.execute(sql).fetchall(), sql


def test_published_db_is_built_with_the_working_cache_given_up(seeded, tmp_path):
    """While the release builds the published database, the working
    database's connection runs at a small memory limit, and gets its own
    limit back afterwards; the build itself is unaffected."""
    from dangjian import release
    from dangjian.warehouse import connect

    _, warehouse, _ = seeded
    copy = tmp_path / "warehouse"
    shutil.copytree(warehouse, copy, symlinks=True)
    (copy / PUBLISHED_DB).unlink()

    def limit(con) -> tuple[float, str]:
        number, unit = con.execute("SELECT current_setting('memory_limit')").fetchone()[0].split()
        return float(number), unit

    scratch = duckdb.connect(config={"memory_limit": release._IDLE_MEMORY})
    idle = limit(scratch)
    scratch.close()
    with connect(copy, read_only=True) as con:
        before = limit(con)
        assert before != idle
        with release._cache_released(con):
            assert limit(con) == idle
            release.build_published_db(copy, copy / RELEASES / list_releases(copy)[-1]["version"])
        after = limit(con)
        # DuckDB reports the limit rounded to 0.1 of its unit, so setting it
        # back from that report may move it by that much.
        assert after[1] == before[1] and abs(after[0] - before[0]) <= 0.1
        assert con.execute('SELECT count(*) FROM "documents"."documents"').fetchone() == (5,)
    with published(copy) as db:
        assert db.execute("SELECT count(*) FROM documents").fetchone() == (5,)
