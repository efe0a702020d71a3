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

Cost: each table streams from DuckDB into its Parquet file in row groups, so
memory stays flat however large the table. A table whose exported rows are
unchanged since the previous release (same fingerprint: row count and XOR of
row hashes of exactly what would be written) is not written again: the
previous release's file is hard-linked into the new one. Releases stay
immutable (a file is never changed after it is written, whichever folders
link it) and each is still a complete, checksummed folder.

Tables whose rows each belong to a document are sorted by document, then by
key, and each row group holds whole documents. Where a group ends depends
only on the documents themselves (:func:`plan_row_groups`), so one new or
changed document changes one row group, and the others keep their bytes: they
are copied from the previous release's file (``parquet_splice``), not encoded
again. The file is the same, byte for byte, as writing it whole.
"""
from __future__ import annotations

import datetime as dt
import fcntl
import functools
import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from dangjian import __version__
from dangjian.files import temporary_beside, write_whole
from dangjian.parquet_splice import kept_footers, row_group_spans, splice, still_used
from dangjian.release_docs import (INDEX_HTML, Changes, Region, doc_id_within, release_changes, write_index,
                                   write_release_docs)
from dangjian.schema import DOCUMENTS, SOURCE_FILES, TABLES, Table
from dangjian.warehouse import (PUBLISHED_DB, duckdb_memory, regroup, row_fingerprints,
                                table_fingerprint)

RELEASES = "releases"
LATEST = "latest"
STAGING_PREFIX = ".staging-"
RELEASE_JSON = "release.json"

# Rows per Parquet row group: small enough that a reader filtering on the key
# skips most of a file, large enough to compress well. Documents are big rows.
ROW_GROUP_ROWS = {DOCUMENTS.name: 256}
DEFAULT_ROW_GROUP_ROWS = 65_536


def _group_rows(table: Table) -> int:
    """Rows per row group of ``table``'s file (for tables of documents, the
    average their groups aim at)."""
    return ROW_GROUP_ROWS.get(table.name, DEFAULT_ROW_GROUP_ROWS)


# Stated in every dataset card until the work that lifts them lands.
LIMITATIONS = (
    "Numbers, indicators, places, organisations and people are extracted by rules tuned on five seed articles, "
    "documents written for the tests and the peer suites; unusual forms may be missed or mistyped. Accuracy on "
    "held-out indicators: precision 0.969, recall 0.977 (see the README).",
    "An indicator's subject is read from the words around the figure and is often shorter or longer than a person "
    "would write it; about four in five agree closely with the annotated subject.",
    "Organisations are found with recall of about 0.85: offices, centres and bodies named without a standard suffix "
    "are missed. People are found only with a post, title or byline next to their name.",
    "Town and village codes are the NBS 2023 statistical codes whatever the publication date; county codes and above "
    "follow the year of publication (1980–2024).",
    "Titles, publishers, dates and bylines found in the text are heuristic; the sources manifest overrides them where it has a value.",
    "Full text is withheld for every source whose rights do not allow republishing, which is all current sources.",
)

# Bump when what export_table writes changes in a way the fingerprint cannot see.
# 2: the inputs are fingerprinted, not the exported rows; 3: tables of documents
# sorted by document, in row groups of whole documents; 4: each row group
# written from one chunk.
_EXPORT_VERSION = "4"
# Private to the working folder: which release file holds which fingerprint.
EXPORT_INDEX = Path("work") / "exports.json"
#: The database published before the last release, set aside: the next
#: release's copy, once brought up to date (``build_published_db``) with the
#: changes kept beside it.
PUBLISHED_SPARE = Path("work") / "published_spare.duckdb"
SPARE_CHANGES = Path("work") / "published_spare.json"
_SPARE_FORMAT = "1"
#: Decoded Parquet footers of the last releases' files (``parquet_splice.kept_footers``).
FOOTERS = Path("work") / "footers"

# Columns that hold an article's running text, withheld where rights forbid it.
TEXT_COLUMNS = {t.name: tuple(c.name for c in t.columns if c.withheld) for t in TABLES}

# Tables published by document: every row belongs to one (``source_files``
# also lists files that are no document, and stays sorted by path).
BY_DOCUMENT = frozenset(t.name for t in TABLES if "doc_id" in t.column_names and t is not SOURCE_FILES)


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


def _export_query(table: Table, ranges: Sequence[tuple[str, str]] = ()) -> tuple[str, list[str]]:
    """SQL for a table as it is published, and its parameters: its columns in
    dictionary order, sorted by key (tables of documents: by document, then
    key), the running text withheld where the document's rights require it.
    With ``ranges`` (first and last doc_id of each), only the rows of
    documents in them. Names come from ``dangjian.schema``, never from input."""
    withheld = set(TEXT_COLUMNS.get(table.name, ()))
    assert not withheld or "doc_id" in table.column_names, f"{table.name}: text is withheld per document"
    restricted = f'(SELECT doc_id FROM "{DOCUMENTS.stage}"."{DOCUMENTS.name}" WHERE NOT redistribute_text)'
    cols = ", ".join(
        f'CASE WHEN t.doc_id IN {restricted} THEN NULL ELSE t."{c}" END AS "{c}"' if c in withheld else f't."{c}"'
        for c in table.column_names
    )
    within, bounds = doc_id_within(ranges, "t.doc_id")
    where = f" WHERE {within}" if ranges else ""
    order = f't.doc_id, t."{table.key}"' if table.name in BY_DOCUMENT else f't."{table.key}"'
    return f'SELECT {cols} FROM "{table.stage}"."{table.name}" AS t{where} ORDER BY {order}', bounds


def _row_groups(table: Table, reader: pa.RecordBatchReader, sizes: int | Iterable[int] | None = None) -> Iterator[pa.Table]:
    """The reader's rows in row groups of exactly the table's size (the last
    one shorter), or of each of ``sizes`` in turn, cast to the data
    dictionary's schema: the same file as writing the whole table at once,
    without holding it.

    Each group comes as one chunk. pyarrow ends a data page where a chunk
    ends as well as at its page size, so a group's bytes would otherwise
    depend on where DuckDB's batches happened to fall, and a group copied
    from the last release could differ from the same rows written anew
    (with text over 1 MiB a column, as redistributable documents have)."""
    wrote = False
    for held in regroup(reader, _group_rows(table) if sizes is None else sizes):
        yield pa.Table.from_batches(held, schema=reader.schema).cast(table.arrow_schema).combine_chunks()
        wrote = True
    if not wrote:
        # An empty table still gets one (empty) row group, as pq.write_table gives it.
        yield pa.Table.from_batches([], schema=reader.schema).cast(table.arrow_schema)


def _export_settings(table: Table) -> tuple:
    """What, besides the rows, decides the bytes of a table's file: the
    whole schema with every description (``str`` of a schema shortens long
    ones, so an edit near the end of one would go unseen), the row-group
    size, pyarrow's version and ours."""
    return (hashlib.sha256(table.arrow_schema.serialize().to_pybytes()).hexdigest(),
            _group_rows(table), pa.__version__, _EXPORT_VERSION)


def export_fingerprint(con: duckdb.DuckDBPyConnection, table: Table) -> str:
    """A fingerprint of everything :func:`export_table` reads, with the
    writer's settings: equal fingerprints, equal files. That is the table's
    rows (row count and XOR of row hashes) and, where text is withheld per
    document, the documents table's rows too, which say whose text may be
    republished. The row hashes are the ones validation takes
    (``warehouse.row_fingerprints``), so a run hashes each table once."""
    inputs = [table_fingerprint(row_fingerprints(con, table))]
    if TEXT_COLUMNS.get(table.name):
        inputs.append(table_fingerprint(row_fingerprints(con, DOCUMENTS)))
    return hashlib.sha256(f"{inputs}:{_export_settings(table)}".encode()).hexdigest()


@dataclass(frozen=True)
class RowGroupPlan:
    """One row group of a table of documents: whole documents, in doc_id order."""

    first: str  # its first and last doc_id
    last: str
    rows: int
    digest: str  # of its documents' rows and the writer's settings: equal digests, equal bytes


@functools.lru_cache(maxsize=1 << 17)
def _cut_chance(doc_id: str) -> float:
    """Kept for the release's other tables of documents, which ask for the same ids."""
    return int.from_bytes(hashlib.blake2b(doc_id.encode(), digest_size=8).digest(), "big") / 2**64


def plan_row_groups(docs: Iterable[tuple[str, int, str]], target: int, salt: str) -> list[RowGroupPlan]:
    """Row groups for ``docs``, each ``(doc_id, rows, fingerprint of its rows)``
    in doc_id order, holding about ``target`` rows each.

    A group ends after a document once it holds ``target // 2`` rows, with a
    chance of two in ``target`` for each of that document's rows, drawn from
    a hash of its doc_id; and always once it holds ``2 * target``. So where a
    group ends depends on its own documents only, from where the group
    before it ended: a new, changed or removed document changes its own
    group (and, where it moves an end, the next one), and every other group
    keeps its documents and its digest. Groups hold ``target`` rows on
    average, and one document never spans two."""
    docs = list(docs)
    entries = pa.array([f"\x1e{d}\x1f{f}" for d, _, f in docs], pa.string())
    return _plan(DocumentRows([d for d, _, _ in docs], [n for _, n, _ in docs], entries), target, salt)


@dataclass(frozen=True)
class DocumentRows:
    """What a table holds per document, in doc_id order: ids, row counts,
    and each document's entry in its group's digest: ``\\x1e``, the doc_id,
    ``\\x1f``, then ``rows:hash:`` of its rows in the table, followed, where
    the table's text is withheld by rights, by ``rows:hash`` of the
    document's row in ``documents``."""

    ids: list[str]
    rows: list[int]
    entries: pa.StringArray


def _plan(docs: DocumentRows, target: int, salt: str) -> list[RowGroupPlan]:
    """:func:`plan_row_groups` over :class:`DocumentRows`. A group's digest is
    the sha256 of the salt and its documents' entries, read from the
    entries' Arrow buffer: no string per document is made in Python."""
    entries = docs.entries if docs.entries.offset == 0 else pa.concat_arrays([docs.entries])
    if len(entries) == 0:
        return []
    offsets = memoryview(entries.buffers()[1]).cast("i")
    data = memoryview(entries.buffers()[2] or b"")
    ids = docs.ids

    def group(first: int, last: int, rows: int) -> RowGroupPlan:
        digest = hashlib.sha256(salt.encode())
        digest.update(data[offsets[first]:offsets[last + 1]])
        return RowGroupPlan(ids[first], ids[last], rows, digest.hexdigest())

    low, high, per_row = target // 2, 2 * target, 2 / target
    plans: list[RowGroupPlan] = []
    first, rows = None, 0
    for i, n in enumerate(docs.rows):
        if first is None:
            first, rows = i, 0
        rows += n
        if rows >= high or (rows >= low and _cut_chance(ids[i]) < n * per_row):
            plans.append(group(first, i, rows))
            first = None
    if first is not None:
        plans.append(group(first, len(ids) - 1, rows))
    return plans


def _decimal(counts) -> pa.ChunkedArray:
    """Integers as decimal text, as Python's ``str`` writes them."""
    return pc.cast(counts, pa.string())


def _documents_of(con: duckdb.DuckDBPyConnection, table: Table) -> DocumentRows:
    """The :class:`DocumentRows` of each document with rows in ``table``.
    Where text is withheld by rights, a document's entry also covers the
    document's row, which holds them. Built in Arrow: at 80,000 documents a
    string per document and table in Python took about 0.6 s of a release."""
    own = row_fingerprints(con, table).sort_by("doc_id")
    rights = pa.nulls(own.num_rows, pa.string())
    if TEXT_COLUMNS.get(table.name):
        docs = row_fingerprints(con, DOCUMENTS)
        at = pc.index_in(own["doc_id"], value_set=docs["doc_id"])
        rights = pc.binary_join_element_wise(_decimal(pc.take(docs["n"], at)), _decimal(pc.take(docs["h"], at)), ":")
    rights = pc.fill_null(rights, "")
    # A null doc_id is written "None", as a Python f-string writes it, so that its rows count in the digest.
    entries = pc.binary_join_element_wise(
        pa.scalar("\x1e"), pc.fill_null(own["doc_id"], "None"), pa.scalar("\x1f"),
        _decimal(own["n"]), pa.scalar(":"), _decimal(own["h"]), pa.scalar(":"), rights, "")
    return DocumentRows(own["doc_id"].to_pylist(), own["n"].to_pylist(), entries.combine_chunks())


def _reusable_groups(warehouse_dir: Path | None, previous: dict | None, settings: str) -> dict[str, tuple[Path, int]]:
    """The previous release's row groups of a table by digest, with where to
    copy each from: none unless its file is still there as it was written."""
    if warehouse_dir is None or not previous or previous.get("settings") != settings or not previous.get("groups"):
        return {}
    path = warehouse_dir / previous["path"]
    try:
        if path.is_symlink() or path.stat().st_size != previous["bytes"]:
            return {}
        spans = row_group_spans(path)
    except (OSError, ValueError):
        return {}
    if [s.rows for s in spans] != [group[1] for group in previous["groups"]]:
        return {}
    return {group[0]: (path, i) for i, group in enumerate(previous["groups"])}


def export_table(con: duckdb.DuckDBPyConnection, table: Table, path: Path,
                 previous: dict | None = None, warehouse_dir: Path | None = None) -> dict:
    """Stream a working table, as published, into ``path``.

    Returns ``rows``, and for a table of documents its row groups
    (``groups``: digest, rows, first and last doc_id of each) and how many were copied from
    ``previous`` (``reused``), the export index's entry for the table's file
    in the last release (under ``warehouse_dir``)."""
    size = _group_rows(table)
    settings = hashlib.sha256(str(_export_settings(table)).encode()).hexdigest()
    plan = _plan(_documents_of(con, table), size, settings) if table.name in BY_DOCUMENT else []
    if not plan:  # a table without documents, or an empty one
        reader = con.sql(_export_query(table)[0]).to_arrow_reader(size)
        return {"rows": write_parquet(table, _row_groups(table, reader), path)}
    old = _reusable_groups(warehouse_dir, previous, settings)
    fresh = [g for g in plan if g.digest not in old]
    out = {"settings": settings, "groups": [[g.digest, g.rows, g.first, g.last] for g in plan], "reused": 0}
    if len(fresh) < len(plan):
        scratch = path.with_name(f".{path.stem}.fresh.parquet")
        try:
            if fresh:
                _write_groups(con, table, scratch, fresh, every=False)
                if len(row_group_spans(scratch)) != len(fresh):
                    raise ValueError(f"{scratch.name}: not one row group per group written")
            at = iter(range(len(fresh)))
            splice([old[g.digest] if g.digest in old else (scratch, next(at)) for g in plan], path)
            return {**out, "rows": sum(g.rows for g in plan), "reused": len(plan) - len(fresh)}
        except ValueError as exc:
            # The last release's file cannot give its groups (say, it was
            # written otherwise): every group is written anew, as at first.
            out["not_copied"] = str(exc)
        finally:
            scratch.unlink(missing_ok=True)
    return {**out, "rows": _write_groups(con, table, path, plan, every=True)}


def _write_groups(con: duckdb.DuckDBPyConnection, table: Table, path: Path, groups: list[RowGroupPlan],
                  every: bool) -> int:
    """Write ``groups`` of a table of documents, in order, as the row groups of
    ``path`` (``every``: they are all of the table's)."""
    size = _group_rows(table)
    sql, params = _export_query(table, () if every else [(g.first, g.last) for g in groups])
    reader = con.sql(sql, params=params).to_arrow_reader(size)

    def checked() -> Iterator[pa.Table]:
        for group, part in zip(groups, _row_groups(table, reader, [g.rows for g in groups]), strict=True):
            ids = part["doc_id"]
            # The rows come from the committed state the plan was read from.
            if (part.num_rows, ids[0].as_py(), ids[-1].as_py()) != (group.rows, group.first, group.last):
                raise RuntimeError(f"{table.name}: a row group's rows are not those planned from its documents "
                                   f"({group.first}..{group.last}, {group.rows} rows)")
            yield part

    return write_parquet(table, checked(), path)


def write_parquet(table: Table, data: pa.Table | Iterable[pa.Table], path: Path) -> int:
    """Write ``data`` (a table, or its row groups in order, one row group
    each) as the table's Parquet file: zstd, statistics, the dictionary's
    schema and descriptions. Returns the rows written."""
    size = _group_rows(table)
    parts = [data] if isinstance(data, pa.Table) else data
    rows = 0
    with pq.ParquetWriter(path, table.arrow_schema, compression="zstd", write_statistics=True) as writer:
        for part in parts:
            group = size if isinstance(data, pa.Table) else part.num_rows or size
            writer.write_table(part.cast(table.arrow_schema), row_group_size=group)
            rows += part.num_rows
    return rows


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
    for name in (PUBLISHED_SPARE.name, SPARE_CHANGES.name):
        for child in (warehouse_dir / PUBLISHED_SPARE).parent.glob(f".{name}.*"):
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
    log: Callable[[str], None] | None = None,
    workers: int | None = None,
) -> ReleaseInfo:
    """Write the working tables as a release and make it ``latest``
    (``workers``: files written at once, as in ``incremental.worker_count``)."""
    (warehouse_dir / RELEASES).mkdir(parents=True, exist_ok=True)
    try:
        with _exclusive(warehouse_dir):
            info = _publish(con, warehouse_dir, today, validation_html, log or (lambda message: None), workers)
            write_index(warehouse_dir / RELEASES)
    finally:
        _cut_chance.cache_clear()  # a release's worth of ids: no use to the rest of the process
    return info


def _load_exports(warehouse_dir: Path) -> dict:
    try:
        return json.loads((warehouse_dir / EXPORT_INDEX).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _save_exports(warehouse_dir: Path, exports: dict) -> None:
    write_whole(warehouse_dir / EXPORT_INDEX, json.dumps(exports, indent=1) + "\n")


def _reusable(warehouse_dir: Path, found: dict | None, fingerprint: str) -> Path | None:
    """The released file that holds exactly these rows, if it is still there as written."""
    if not found or found.get("fingerprint") != fingerprint:
        return None
    path = warehouse_dir / found["path"]
    try:
        if path.is_symlink() or path.stat().st_size != found["bytes"]:
            return None
    except OSError:
        return None
    return path


def _write_tables(con, warehouse_dir: Path, staging: Path, log,
                 workers: int | None = None) -> tuple[dict, dict, dict[str, Region]]:
    """Every table's Parquet file in ``staging``: linked from an earlier release
    when its rows are unchanged, else streamed from DuckDB.

    The files to write are written by a thread each, ``workers`` at a time
    (``incremental.worker_count``: by default, one per CPU): pyarrow encodes
    and compresses a file in one thread, without the GIL, so on two cores
    two files take about the time of the larger one. Each thread reads
    through its own cursor of the same read-only connection. The files, and
    the log lines, are the same as writing them one after the other."""
    from dangjian.incremental import worker_count

    exports = _load_exports(warehouse_dir)
    fingerprints, infos, layouts, linked, to_write = {}, {}, {}, {}, []
    for table in TABLES:
        path = staging / f"{table.name}.parquet"
        fingerprints[table.name] = export_fingerprint(con, table)
        previous = exports.get(table.name)
        source = _reusable(warehouse_dir, previous, fingerprints[table.name])
        if source is not None:
            try:
                os.link(source, path)
            except OSError:  # a file system without hard links: a copy is as good, only bigger
                shutil.copyfile(source, path)
            linked[table.name] = source
            infos[table.name] = {k: previous[k] for k in ("rows", "bytes", "sha256")}
            layouts[table.name] = {k: previous[k] for k in ("settings", "groups") if k in previous}
        else:
            to_write.append(table)

    def write(table: Table) -> dict:
        path = staging / f"{table.name}.parquet"
        cur = con.cursor()
        try:
            exported = export_table(cur, table, path, exports.get(table.name), warehouse_dir)
        finally:
            cur.close()
        return {**exported, "bytes": path.stat().st_size, "sha256": _sha256_file(path)}

    # Largest first by the last release's rows, so that the last file to start is a small one.
    to_write.sort(key=lambda t: -exports.get(t.name, {}).get("rows", 0))
    workers = min(worker_count(workers), len(to_write))
    with kept_footers(warehouse_dir / FOOTERS):
        for source in linked.values():
            still_used(source)  # a linked file's footer stays kept for when its table changes
        if workers > 1:
            with ThreadPoolExecutor(workers, thread_name_prefix="export") as pool:
                written = dict(zip((t.name for t in to_write), pool.map(write, to_write)))
        else:
            written = {t.name: write(t) for t in to_write}
    for name, exported in written.items():
        infos[name] = {k: exported[k] for k in ("rows", "bytes", "sha256")}
        layouts[name] = {k: exported[k] for k in ("settings", "groups") if k in exported}
    for table in TABLES:
        if table.name in linked:
            log(f"release: {table.name}: unchanged, linked from {linked[table.name].parent.name}")
        elif "not_copied" in written[table.name]:
            log(f"release: {table.name}: {infos[table.name]['rows']} rows written; no row group copied from the "
                f"last release ({written[table.name]['not_copied']})")
        elif written[table.name].get("reused"):
            exported = written[table.name]
            log(f"release: {table.name}: {exported['rows']} rows written, {exported['reused']} of "
                f"{len(exported['groups'])} row groups copied from the last release")
        else:
            log(f"release: {table.name}: {infos[table.name]['rows']} rows written")
    files = {t.name: {"file": f"{t.name}.parquet", **infos[t.name]} for t in TABLES}
    fresh = {t.name: {"fingerprint": fingerprints[t.name], **infos[t.name], **layouts[t.name]} for t in TABLES}
    regions = {name: region for name in written if (region := _region(exports.get(name), layouts[name]))}
    return files, fresh, regions


def _region(before: dict | None, after: dict) -> Region | None:
    """Where a table's new file can differ from the file the export index
    recorded for it: the row groups whose digests only one of them has.
    Equal digests mean equal rows, whether the group was copied or not."""
    if not before or before.get("settings") != after.get("settings") or not before.get("groups") \
            or not after.get("groups"):
        return None
    old = {g[0] for g in before["groups"]}
    new = {g[0] for g in after["groups"]}
    ranges = [(g[2], g[3]) for g in after["groups"] if g[0] not in old]
    ranges += [(g[2], g[3]) for g in before["groups"] if g[0] not in new]
    return Region(before["sha256"], tuple(ranges))


def _publish(con, warehouse_dir: Path, today: dt.date | None, validation_html: str | None, log,
             workers: int | None = None) -> ReleaseInfo:
    root = warehouse_dir / RELEASES
    root.mkdir(parents=True, exist_ok=True)
    _clear_leftovers(warehouse_dir)
    staging = root / f"{STAGING_PREFIX}{uuid.uuid4().hex}"
    staging.mkdir()

    files, fresh, regions = _write_tables(con, warehouse_dir, staging, log, workers)
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
                with _cache_released(con):
                    build_published_db(warehouse_dir, root / version)
            _remember(warehouse_dir, fresh, version)
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
    previous_dir = root / previous if previous else None
    if previous_dir:
        # A region speaks of the file the export index recorded, which is
        # normally the previous release's; if not, tables are compared whole.
        before = json.loads((previous_dir / RELEASE_JSON).read_text(encoding="utf-8"))["tables"]
        regions = {name: r for name, r in regions.items() if r.ranges and before.get(name, {}).get("sha256") == r.base}
    changes = release_changes(staging, previous_dir, regions) if previous_dir else None
    write_release_docs(staging, previous_dir, [], validation_html=validation_html, limitations=LIMITATIONS,
                       changes=changes)
    # The Parquet files' sums are known from writing (or from the release they are linked from).
    known = {f["file"]: f["sha256"] for f in files.values()}
    sums = "".join(f"{known.get(p.name) or _sha256_file(p)}  {p.name}\n" for p in sorted(staging.iterdir()))
    (staging / "SHA256SUMS").write_text(sums, encoding="utf-8")
    for child in staging.iterdir():
        with child.open("rb") as f:
            os.fsync(f.fileno())
    _fsync_dir(staging)
    os.rename(staging, root / version)  # the release appears whole, or not at all
    _fsync_dir(root)
    _point_latest(root, version)
    with _cache_released(con):
        build_published_db(warehouse_dir, root / version, (previous_dir, changes) if previous_dir else None, regions)
    _remember(warehouse_dir, fresh, version)
    return ReleaseInfo(version, root / version, True, rows, content_hash)


#: The working database's memory limit while the published one is built.
_IDLE_MEMORY = "64MB"


@contextmanager
def _cache_released(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """The working database's cached blocks given up while the published
    database is built: that is a second DuckDB database in this process, with
    its own memory limit, and after validation and export the working one's
    cache is full. Lowering a connection's limit makes DuckDB evict down to
    it; the old limit comes back afterwards. On a 20,000-document warehouse
    this took a process from 305 to 102 MiB (2026-12-05). If DuckDB cannot
    evict that far (blocks pinned by a caller's open transaction), the build
    goes on with the cache as it is."""
    (limit,) = con.execute("SELECT current_setting('memory_limit')").fetchone()
    try:
        con.execute(f"SET memory_limit = '{_IDLE_MEMORY}'")
    except duckdb.Error:
        limit = None  # nothing lowered, nothing to restore
    try:
        yield
    finally:
        if limit is not None:
            con.execute(f"SET memory_limit = '{limit}'")


def _remember(warehouse_dir: Path, fresh: dict, version: str) -> None:
    """Record which file of ``version`` holds which fingerprint, for the next release to link."""
    _save_exports(warehouse_dir, {
        name: {**info, "path": f"{RELEASES}/{version}/{name}.parquet"} for name, info in fresh.items()
    })


def _sql_string(text: str) -> str:
    """A SQL string literal for our own descriptions in COMMENT statements,
    which take no bound parameters."""
    return "'" + text.replace("'", "''") + "'"


# Above this share of changed rows, building the published database afresh
# is cheaper than applying the changes (and leaves no deleted rows behind).
REBUILD_SHARE = 0.25


def build_published_db(warehouse_dir: Path, release_dir: Path,
                       previous: tuple[Path, dict[str, Changes]] | None = None,
                       regions: dict[str, Region] | None = None) -> Path:
    """Copy a release into a standalone read-only database and swap it in.

    The database holds copies, not views on the Parquet files, so it keeps
    working if the warehouse folder moves or is downloaded on its own.

    With ``previous`` (the previous release and what changed since), and the
    published database holding that release, only the changed rows are
    replaced, in a copy of it: rows are deleted by key and inserted from
    the new Parquet files. Statistics let DuckDB read only the row groups
    that hold them: on the key, or, for a table of documents, on ``doc_id``
    within the table's ``regions`` (the ranges of row groups written anew;
    every other row group is the previous release's). Otherwise, or when
    much changed, it is built afresh.
    Either way it is swapped in whole, by rename.

    The copy is the spare (:data:`PUBLISHED_SPARE`) when it can be had:
    the file published before the previous release, set aside when that one
    was swapped in, with the changes that bring it up to it
    (:data:`SPARE_CHANGES`). Copying the published database took 2.5 s of a
    one-file re-run at 80,000 documents (911 MB), and grew with the corpus;
    the spare costs that much disk instead.

    The spare is patched only here, a whole run after it stopped being
    published, and only if it opens for writing: DuckDB locks its files,
    read-only connections too, so a file anyone still has open is never
    written. Patching it at the swap instead could have made a reader who
    had just resolved the published name fail to take its lock.
    """
    target = warehouse_dir / PUBLISHED_DB
    tmp = temporary_beside(target)
    meta = json.loads((release_dir / RELEASE_JSON).read_text(encoding="utf-8"))
    incremental = previous is not None and _worth_applying(warehouse_dir, meta, previous)
    spare = warehouse_dir / PUBLISHED_SPARE
    con = _take_spare(warehouse_dir, tmp, previous[0]) if incremental else None
    if con is None:
        if incremental:
            shutil.copyfile(target, tmp)
        else:
            _drop_spare(warehouse_dir)  # no later release could use it
        con = _open_for_writing(tmp)
    try:
        _fill(con, release_dir, meta, previous[1] if incremental else None, regions)
        _describe(con)
        con.execute("CHECKPOINT")
    finally:
        con.close()
    # The file published until now holds the previous release: set aside
    # under the spare's name, with what brings it up to this release.
    kept = _link_quietly(target, temporary_beside(spare)) if incremental else None
    os.replace(tmp, target)
    if kept is not None:
        _set_aside(warehouse_dir, kept, previous, release_dir.name, regions)
    return target


def _open_for_writing(path: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(path), config={"memory_limit": duckdb_memory()})


def _fill(con: duckdb.DuckDBPyConnection, release_dir: Path, meta: dict, changes: dict[str, Changes] | None,
          regions: dict[str, Region] | None) -> None:
    """Make the database open on ``con`` hold the release in ``release_dir``:
    with ``changes``, by applying them to the tables it holds (the previous
    release's), else by loading every table afresh. The caller describes
    the tables (:func:`_describe`: a table created anew has lost its
    comments) and checkpoints."""
    present = {r[0]: r[1] for r in con.execute(
        "SELECT table_name, list(column_name ORDER BY ordinal_position) FROM information_schema.columns "
        "WHERE table_schema = 'main' GROUP BY table_name").fetchall()}
    for table in TABLES:
        parquet = str(release_dir / f"{table.name}.parquet")
        change = changes.get(table.name) if changes is not None else None
        if change is not None and present.get(table.name) == pq.read_schema(parquet).names:
            _apply(con, table, parquet, change, (regions or {}).get(table.name))
        else:
            con.execute(f'CREATE OR REPLACE TABLE "{table.name}" AS SELECT * FROM read_parquet(?)', [parquet])
    for name in set(present) - {t.name for t in TABLES} - {"release"}:
        con.execute(f'DROP TABLE "{name}"')  # a table the schema no longer has
    con.execute("CREATE OR REPLACE TABLE release (version VARCHAR, created_at VARCHAR, content_hash VARCHAR)")
    con.execute("INSERT INTO release VALUES (?, ?, ?)", [meta["version"], meta["created_at"], meta["content_hash"]])


def _describe(con: duckdb.DuckDBPyConnection) -> None:
    """Every table's and column's description, in English and Chinese, as
    DuckDB comments (``duckdb_tables()``, ``duckdb_columns()``): once, after
    the last :func:`_fill`, not after each."""
    for table in TABLES:
        con.execute(f'COMMENT ON TABLE "{table.name}" IS {_sql_string(table.en + " / " + table.zh)}')
        for c in table.columns:
            con.execute(f'COMMENT ON COLUMN "{table.name}"."{c.name}" IS {_sql_string(c.en + " / " + c.zh)}')


def _holds(con: duckdb.DuckDBPyConnection, version: str) -> bool:
    """Whether the database open on ``con`` holds release ``version``."""
    return con.execute("SELECT version FROM release").fetchall() == [(version,)]


def _take_spare(warehouse_dir: Path, tmp: Path, previous_dir: Path) -> duckdb.DuckDBPyConnection | None:
    """Move the spare to ``tmp``, open it for writing and bring it up to the
    release in ``previous_dir``, if it was set aside for that and no one
    has it open (DuckDB's lock refuses the connection then); the connection,
    which the caller goes on with and closes, or None. A spare that cannot
    be used is let go (its disk freed once its last reader closes it).
    Opened once: checking it, applying its pending changes and then this
    release's used to open it three times, and checkpoint it twice."""
    spare = warehouse_dir / PUBLISHED_SPARE
    try:
        pending = json.loads((warehouse_dir / SPARE_CHANGES).read_text(encoding="utf-8"))
        usable = pending.get("format") == _SPARE_FORMAT and pending["then"] == previous_dir.name
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        usable = False
    if not usable:
        _drop_spare(warehouse_dir)
        return None
    try:
        os.replace(spare, tmp)
    except OSError:  # none, or another file system
        return None
    con = None
    try:
        con = _open_for_writing(tmp)
        if _holds(con, pending["holds"]):
            changes = {name: Changes(*(frozenset(c[k]) for k in ("added", "removed", "changed")))
                       for name, c in pending["changes"].items()}
            regions = {name: Region(r["base"], tuple(tuple(pair) for pair in r["ranges"]))
                       for name, r in pending["regions"].items()}
            meta = json.loads((previous_dir / RELEASE_JSON).read_text(encoding="utf-8"))
            _fill(con, previous_dir, meta, changes, regions)
            return con
    except (duckdb.Error, OSError, ValueError, KeyError, TypeError):
        pass
    if con is not None:
        con.close()
    tmp.unlink(missing_ok=True)
    return None


def _set_aside(warehouse_dir: Path, kept: Path, previous: tuple[Path, dict[str, Changes]], version: str,
               regions: dict[str, Region] | None) -> None:
    """Keep ``kept`` (a hard link to the file published until now, which
    holds ``previous``'s release) as the spare, with the changes that bring
    it up to release ``version``: the next release applies them."""
    pending = {
        "format": _SPARE_FORMAT,
        "holds": previous[0].name,
        "then": version,
        "changes": {name: {"added": sorted(c.added), "removed": sorted(c.removed), "changed": sorted(c.changed)}
                    for name, c in previous[1].items()},
        "regions": {name: {"base": r.base, "ranges": [list(pair) for pair in r.ranges]}
                    for name, r in (regions or {}).items()},
    }
    try:
        write_whole(warehouse_dir / SPARE_CHANGES, json.dumps(pending, ensure_ascii=False))
        os.replace(kept, warehouse_dir / PUBLISHED_SPARE)
    except (OSError, TypeError, ValueError):
        _drop_spare(warehouse_dir)  # no spare this time: the next release copies
    finally:
        kept.unlink(missing_ok=True)


def _drop_spare(warehouse_dir: Path) -> None:
    (warehouse_dir / PUBLISHED_SPARE).unlink(missing_ok=True)
    (warehouse_dir / SPARE_CHANGES).unlink(missing_ok=True)


def _link_quietly(source: Path, link: Path) -> Path | None:
    try:
        os.link(source, link)
    except OSError:  # a file system without hard links, or none published
        return None
    return link


def _worth_applying(warehouse_dir: Path, meta: dict, previous: tuple[Path, dict[str, Changes]]) -> bool:
    """Whether the published database holds the previous release and few enough rows changed."""
    previous_dir, changes = previous
    if published_version(warehouse_dir) != previous_dir.name:
        return False
    touched = sum(len(c.added) + len(c.removed) + 2 * len(c.changed) for c in changes.values())
    rows = sum(t["rows"] for t in meta["tables"].values())
    return touched <= REBUILD_SHARE * max(rows, 1)


def _apply(con: duckdb.DuckDBPyConnection, table: Table, path: str, change: Changes,
           region: Region | None = None) -> None:
    """Replace the rows of ``table`` whose keys changed with those in ``path``
    (whose rows outside ``region``'s doc_id ranges did not change)."""
    out = change.removed | change.changed
    into = change.added | change.changed
    within, bounds = doc_id_within(region.ranges) if region and region.ranges else ("true", [])
    for keys, sql, params in (
        (out, f'DELETE FROM "{table.name}" WHERE "{table.key}" IN (SELECT k FROM _keys)', []),
        (into, f'INSERT INTO "{table.name}" SELECT * FROM read_parquet(?) WHERE "{table.key}" IN (SELECT k FROM _keys)'
               f" AND {within}", [path, *bounds]),
    ):
        if not keys:
            continue
        con.register("_keys", pa.table({"k": pa.array(sorted(keys), pa.string())}))
        try:
            con.execute(sql, params)
        finally:
            con.unregister("_keys")
