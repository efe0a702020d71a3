"""Publishing a release: Parquet files, a ``latest`` pointer, a read-only database.

A release is a folder ``releases/<version>/`` that is never changed once it
has its name. It is written under a hidden staging name and renamed into
place in one step, so a crash leaves either no new release or a whole one.
Then the ``latest`` symlink is swapped atomically, and the published DuckDB
database is rebuilt beside it under a temporary name and renamed over the old
one. A user who has the old database open keeps reading the old release; the
next open sees the new one. Neither ever sees a mix.

Versions are ``<UTC date>-<content hash>``, e.g. ``2026-11-22-3f9a1c2e``:
the hash covers the Parquet files, so publishing the same data twice gives no
new version. Each ``release.json`` also carries ``sequence`` (1, 2, …), the
order of publication, since two releases of one day do not sort by name.

Rights: for sources whose manifest row does not allow republishing the full
text (``redistribute_text`` false), releases carry the rows with offsets and
the short extracted values, but not the document, paragraph or sentence text.
"""
from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from dangjian import __version__
from dangjian.release_docs import INDEX_HTML, write_index, write_release_docs
from dangjian.schema import DOCUMENTS, PARAGRAPHS, SENTENCES, TABLES, Table
from dangjian.warehouse import PUBLISHED_DB, read_table

RELEASES = "releases"
LATEST = "latest"
STAGING_PREFIX = ".staging-"
RELEASE_JSON = "release.json"

# Rows per Parquet row group: small enough that a reader filtering on the key
# skips most of a file, large enough to compress well. Documents are big rows.
ROW_GROUP_ROWS = {DOCUMENTS.name: 256}
DEFAULT_ROW_GROUP_ROWS = 65_536

# Stated in every dataset card until the work that lifts them lands.
LIMITATIONS = (
    "Indicators (subject, year, place of each quantified claim), places with administrative codes, "
    "organisations and people are not extracted yet; `numbers` types every numeral but does not say what was counted.",
    "Numbers are recognised by rules tuned on five seed articles and the peer suites; unusual forms may be missed or mistyped.",
    "Titles, publishers, dates and bylines found in the text are heuristic; the sources manifest overrides them where it has a value.",
    "Full text is withheld for every source whose rights do not allow republishing, which is all current sources.",
)

# Columns that hold an article's running text, withheld where rights forbid it.
TEXT_COLUMNS = {t.name: tuple(c.name for c in t.columns if c.withheld) for t in TABLES}


@dataclass(frozen=True)
class ReleaseInfo:
    version: str
    path: Path
    created: bool  # False when identical content was already released
    rows: dict[str, int]
    content_hash: str


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _withhold_text(name: str, data: pa.Table, restricted_docs: pa.Array) -> pa.Table:
    columns = TEXT_COLUMNS.get(name)
    if not columns or len(restricted_docs) == 0:
        return data
    mask = pc.is_in(data["doc_id"], value_set=restricted_docs)
    for col in columns:
        i = data.schema.get_field_index(col)
        nulls = pa.nulls(data.num_rows, type=data.schema.field(col).type)
        data = data.set_column(i, data.schema.field(col), pc.if_else(mask, nulls, data[col]))
    return data


def export_tables(con: duckdb.DuckDBPyConnection) -> dict[str, pa.Table]:
    """The working tables as they are published: typed, sorted by key, and
    with text withheld where the source's rights require it."""
    restricted = con.sql(
        'SELECT doc_id FROM "documents"."documents" WHERE NOT redistribute_text'
    ).to_arrow_table()["doc_id"].combine_chunks()
    out = {}
    for table in TABLES:
        data = read_table(con, table).cast(table.arrow_schema)
        out[table.name] = _withhold_text(table.name, data, restricted)
    return out


def write_parquet(table: Table, data: pa.Table, path: Path) -> None:
    pq.write_table(
        data.cast(table.arrow_schema),
        path,
        compression="zstd",
        row_group_size=ROW_GROUP_ROWS.get(table.name, DEFAULT_ROW_GROUP_ROWS),
        write_statistics=True,
    )


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def list_releases(warehouse_dir: Path) -> list[dict]:
    """Every complete release (staging folders are not releases), oldest first."""
    root = warehouse_dir / RELEASES
    found = []
    for child in sorted(root.iterdir()) if root.exists() else []:
        meta = child / RELEASE_JSON
        if child.name.startswith(".") or child.is_symlink() or not meta.exists():
            continue
        found.append(json.loads(meta.read_text(encoding="utf-8")))
    # Names sort by date only: two releases of one day sort by hash. The
    # sequence number each release.json carries gives the real order.
    return sorted(found, key=release_order)


def release_order(meta: dict) -> tuple:
    return (meta.get("sequence", 0), meta.get("created_at", ""), meta["version"])


def latest_version(warehouse_dir: Path) -> str | None:
    link = warehouse_dir / RELEASES / LATEST
    return os.readlink(link) if link.is_symlink() else None


def previous_rows(warehouse_dir: Path) -> dict[str, int] | None:
    """Rows per table in the latest release, for the volume rule; None before the first."""
    version = latest_version(warehouse_dir)
    if version is None:
        return None
    meta = json.loads((warehouse_dir / RELEASES / version / RELEASE_JSON).read_text(encoding="utf-8"))
    return {name: info["rows"] for name, info in meta["tables"].items()}


def published_version(warehouse_dir: Path) -> str | None:
    """The release the published database holds, or None if there is none."""
    path = warehouse_dir / PUBLISHED_DB
    if not path.exists():
        return None
    try:
        with duckdb.connect(str(path), read_only=True) as con:
            return con.execute("SELECT version FROM release").fetchone()[0]
    except duckdb.Error:
        return None


def _clear_leftovers(warehouse_dir: Path) -> None:
    """Remove what a killed run left half-written: staging folders, pointer
    and database temporaries. None of them is ever visible as a release."""
    root = warehouse_dir / RELEASES
    for child in root.iterdir():
        if child.name.startswith(STAGING_PREFIX) and child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        elif child.name.startswith((".latest-", ".LATEST-", f".{INDEX_HTML}.")):
            child.unlink(missing_ok=True)
    for child in warehouse_dir.glob(f".{PUBLISHED_DB}.*"):
        child.unlink(missing_ok=True)


def _point_latest(root: Path, version: str) -> None:
    tmp = root / f".latest-{uuid.uuid4().hex}"
    os.symlink(version, tmp)
    os.replace(tmp, root / LATEST)
    pointer = root / f".LATEST-{uuid.uuid4().hex}"
    pointer.write_text(version + "\n", encoding="utf-8")
    os.replace(pointer, root / "LATEST")  # for static hosts that drop symlinks
    _fsync_dir(root)


@contextmanager
def _exclusive(warehouse_dir: Path) -> Iterator[None]:
    """One publisher at a time per warehouse: a second one waits, so it can
    neither clear the first one's staging folder nor race it to ``latest``."""
    with open(warehouse_dir / RELEASES / ".publish.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def publish(
    con: duckdb.DuckDBPyConnection,
    warehouse_dir: Path,
    today: dt.date | None = None,
    validation_html: str | None = None,
) -> ReleaseInfo:
    """Write the working tables as a release and make it ``latest``."""
    (warehouse_dir / RELEASES).mkdir(parents=True, exist_ok=True)
    with _exclusive(warehouse_dir):
        info = _publish(con, warehouse_dir, today, validation_html)
        write_index(warehouse_dir / RELEASES)
    return info


def _publish(con, warehouse_dir: Path, today: dt.date | None, validation_html: str | None) -> ReleaseInfo:
    root = warehouse_dir / RELEASES
    root.mkdir(parents=True, exist_ok=True)
    _clear_leftovers(warehouse_dir)
    staging = root / f"{STAGING_PREFIX}{uuid.uuid4().hex}"
    staging.mkdir()

    tables = export_tables(con)
    files = {}
    for table in TABLES:
        path = staging / f"{table.name}.parquet"
        write_parquet(table, tables[table.name], path)
        files[table.name] = {"file": path.name, "rows": tables[table.name].num_rows,
                             "bytes": path.stat().st_size, "sha256": _sha256_file(path)}
    content_hash = hashlib.sha256(
        "".join(f"{f['file']}\t{f['sha256']}\n" for f in files.values()).encode()
    ).hexdigest()
    rows = {name: f["rows"] for name, f in files.items()}

    for existing in list_releases(warehouse_dir):
        if existing["content_hash"] == content_hash:
            shutil.rmtree(staging)
            version = existing["version"]
            if latest_version(warehouse_dir) != version:
                _point_latest(root, version)
            if published_version(warehouse_dir) != version:
                # A run killed between the pointer switch and the database swap
                # left the database one release behind; catch it up.
                build_published_db(warehouse_dir, root / version)
            return ReleaseInfo(version, root / version, False, rows, content_hash)

    today = today or dt.datetime.now(dt.timezone.utc).date()
    version = f"{today.isoformat()}-{content_hash[:8]}"
    meta = {
        "version": version,
        "sequence": max((r.get("sequence", 0) for r in list_releases(warehouse_dir)), default=0) + 1,
        "created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "content_hash": content_hash,
        "pipeline": {"name": "dangjian", "version": __version__},
        "tables": files,
    }
    (staging / RELEASE_JSON).write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    previous = latest_version(warehouse_dir)
    write_release_docs(staging, root / previous if previous else None, [],
                       validation_html=validation_html, limitations=LIMITATIONS)
    sums = "".join(f"{_sha256_file(p)}  {p.name}\n" for p in sorted(staging.iterdir()))
    (staging / "SHA256SUMS").write_text(sums, encoding="utf-8")
    for child in staging.iterdir():
        with child.open("rb") as f:
            os.fsync(f.fileno())
    _fsync_dir(staging)
    os.rename(staging, root / version)  # the release appears whole, or not at all
    _fsync_dir(root)
    _point_latest(root, version)
    build_published_db(warehouse_dir, root / version)
    return ReleaseInfo(version, root / version, True, rows, content_hash)


def _sql_string(text: str) -> str:
    """A SQL string literal for our own descriptions in COMMENT statements,
    which take no bound parameters."""
    return "'" + text.replace("'", "''") + "'"


def build_published_db(warehouse_dir: Path, release_dir: Path) -> Path:
    """Copy a release into a standalone read-only database and swap it in.

    The database holds copies, not views on the Parquet files, so it keeps
    working if the warehouse folder moves or is downloaded on its own.
    """
    target = warehouse_dir / PUBLISHED_DB
    tmp = warehouse_dir / f".{PUBLISHED_DB}.{uuid.uuid4().hex}.tmp"
    meta = json.loads((release_dir / RELEASE_JSON).read_text(encoding="utf-8"))
    con = duckdb.connect(str(tmp))
    try:
        for table in TABLES:
            con.execute(
                f'CREATE TABLE "{table.name}" AS SELECT * FROM read_parquet(?)',
                [str(release_dir / f"{table.name}.parquet")],
            )
            con.execute(f'COMMENT ON TABLE "{table.name}" IS {_sql_string(table.en + " / " + table.zh)}')
            for c in table.columns:
                con.execute(f'COMMENT ON COLUMN "{table.name}"."{c.name}" IS {_sql_string(c.en + " / " + c.zh)}')
        con.execute("CREATE TABLE release (version VARCHAR, created_at VARCHAR, content_hash VARCHAR)")
        con.execute("INSERT INTO release VALUES (?, ?, ?)", [meta["version"], meta["created_at"], meta["content_hash"]])
        con.execute("CHECKPOINT")
    finally:
        con.close()
    os.replace(tmp, target)
    return target
