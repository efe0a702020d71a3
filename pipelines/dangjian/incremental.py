"""Incremental work by content hash: do nothing twice.

Every document has an *input key*: a hash of its bytes (sha256), its row in
the sources manifest, and the version of the code that turns text into rows
and of the gazetteer it links places to.
Each stage records, in the working database's ``state.stage_inputs`` table,
the input key it last processed per document. A run then

- processes only documents whose key the stage has not seen (new files,
  changed files, a changed manifest row, changed processing code);
- deletes the rows of documents that are gone or changed;
- keeps every other row as it is (only ``source_path`` follows a rename).

The state table is internal to the working database and never published,
as are ``state.raw_index``: per raw file, the ``stat`` under which its bytes
were hashed, so that a re-run need not read a file that has not changed
(:class:`dangjian.sources.Indexed`); and ``state.place_analyses``: per
document, the place analysis ingest made for its main locality, which facts
reads instead of analysing the text again (:meth:`dangjian.document.DocText.places`).
Term diffusion keeps its own (``state.term_uses``, ``state.term_basis``,
``state.term_diffusion_meta``; see :mod:`dangjian.diffusion`).

Batches of documents are independent of each other, so they may run in
worker processes (:func:`ordered_map`): a batch's inputs go to the worker as
Arrow tables and its rows come back the same way. Workers never open the
working database; only the step that holds it writes. See docs/scaling.md.
"""
from __future__ import annotations

import atexit
import ctypes
import gc
import hashlib
import json
import multiprocessing
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import asdict
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from dangjian.schema import Table
from dangjian.sources import Indexed, SourceEntry
from dangjian.warehouse import check_declared, will_write

STATE = '"state"."stage_inputs"'
RAW_INDEX = '"state"."raw_index"'
PLACE_ANALYSES = '"state"."place_analyses"'
WORKERS_ENV = "DANGJIAN_WORKERS"
BATCH_ENV = "DANGJIAN_BATCH_DOCS"
#: Documents per batch in the per-document stages: enough to keep workers
#: busy, few enough that a batch's text and rows stay small in memory.
BATCH_DOCS = 500
#: Documents per batch in facts, where a run's memory peaks: the step's
#: process holds up to ``workers + 1`` batches in flight, each with its
#: documents' text going out and their rows coming back. At 10,000 documents
#: 250 instead of 500 lowered the process tree's peak by about 230 MiB for
#: about 3 % more time (docs/scaling.md, *Memory*).
FACTS_BATCH_DOCS = 250
# The code and data that decide the rows, as (path, files in it): a change to
# any of them re-runs every document (a new release then shows what the
# change did). The gazetteer's code and files decide the places' links and
# each document's main locality.
_CODE_FILES = (("document.py", ""), ("schema.py", ""), ("text", "*.py"), ("reference", "*.py"),
               ("data/gazetteer", "*.parquet"))


@lru_cache(maxsize=1)
def code_version() -> str:
    root = Path(__file__).parent
    h = hashlib.sha256()
    for name, pattern in _CODE_FILES:
        path = root / name
        for f in sorted(path.rglob(pattern)) if pattern else [path]:
            h.update(f.relative_to(root).as_posix().encode())
            h.update(f.read_bytes())
    return h.hexdigest()[:16]


def input_key(sha256: str, manifest: SourceEntry | None) -> str:
    entry = json.dumps(asdict(manifest), sort_keys=True, ensure_ascii=False) if manifest else ""
    return hashlib.sha256(f"{sha256}\x1f{entry}\x1f{code_version()}".encode()).hexdigest()[:16]


def _ensure_per_stage(con: duckdb.DuckDBPyConnection, table: str, value: str) -> None:
    """The working database's record ``table`` (in schema ``state``): per
    stage and document, one ``value``."""
    con.execute('CREATE SCHEMA IF NOT EXISTS "state"')
    con.execute(f"CREATE TABLE IF NOT EXISTS {table} (stage VARCHAR, doc_id VARCHAR, {value} VARCHAR)")


def _ensure_state(con: duckdb.DuckDBPyConnection) -> None:
    _ensure_per_stage(con, STATE, "input_key")


def stage_inputs(con: duckdb.DuckDBPyConnection, stage: str) -> dict[str, str]:
    """doc_id → input key, as the stage last processed it."""
    _ensure_state(con)
    return dict(con.execute(f"SELECT doc_id, input_key FROM {STATE} WHERE stage = ?", [stage]).fetchall())


def set_stage_inputs(con: duckdb.DuckDBPyConnection, stage: str, keys: dict[str, str]) -> None:
    _ensure_state(con)
    con.execute(f"DELETE FROM {STATE} WHERE stage = ?", [stage])
    data = pa.table({"doc_id": list(keys), "input_key": list(keys.values())}, schema=pa.schema(
        [("doc_id", pa.string()), ("input_key", pa.string())]))
    con.register("_keys", data)
    try:
        con.execute(f"INSERT INTO {STATE} SELECT ?, doc_id, input_key FROM _keys", [stage])
    finally:
        con.unregister("_keys")


_RAW_INDEX_SCHEMA = pa.schema([("path", pa.string()), ("size_bytes", pa.int64()), ("mtime_ns", pa.int64()),
                               ("ctime_ns", pa.int64()), ("inode", pa.uint64()), ("device", pa.uint64()),
                               ("sha256", pa.string()), ("hashed_ns", pa.int64())])
_RAW_INDEX_FIELDS = _RAW_INDEX_SCHEMA.names[1:]


def _ensure_raw_index(con: duckdb.DuckDBPyConnection) -> None:
    create_empty(con, "state", "raw_index", _RAW_INDEX_SCHEMA)


def raw_index(con: duckdb.DuckDBPyConnection) -> dict[str, Indexed]:
    """The raw-folder index as the last finished ingest left it (empty at first)."""
    _ensure_raw_index(con)
    rows = con.execute(f"SELECT path, {', '.join(_RAW_INDEX_FIELDS)} FROM {RAW_INDEX}").fetchall()
    return {path: Indexed(*fields) for path, *fields in rows}


_PLACE_ANALYSES_SCHEMA = pa.schema([("doc_id", pa.string()), ("place_analysis_key", pa.string()),
                                    ("place_analysis", pa.string())])


def ensure_place_analyses(con: duckdb.DuckDBPyConnection) -> None:
    create_empty(con, "state", "place_analyses", _PLACE_ANALYSES_SCHEMA)


def place_analyses_table(rows: Iterable[dict]) -> pa.Table:
    """The rows of ``state.place_analyses``: ``doc_id`` and the
    ``PLACE_ANALYSIS_FIELDS`` of each document row that carries an analysis
    (``document.read_document``'s rows do)."""
    return pa.Table.from_pylist([r for r in rows if r.get("place_analysis") is not None],
                                schema=_PLACE_ANALYSES_SCHEMA)


def store_place_analyses(con: duckdb.DuckDBPyConnection, rows: Iterable[dict]) -> None:
    """Keep the place analysis of each document row that carries one,
    replacing any its document had: written with the documents, in their
    transaction."""
    ensure_place_analyses(con)
    kept = place_analyses_table(rows)
    if not kept.num_rows:
        return
    con.register("_places", kept)
    try:
        con.execute(f"DELETE FROM {PLACE_ANALYSES} WHERE doc_id IN (SELECT doc_id FROM _places)")
        con.execute(f"INSERT INTO {PLACE_ANALYSES} (doc_id, place_analysis_key, place_analysis) "
                    "SELECT doc_id, place_analysis_key, place_analysis FROM _places")
    finally:
        con.unregister("_places")


def forget_place_analyses(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the place analyses of documents that are gone."""
    ensure_place_analyses(con)
    con.execute(f'DELETE FROM {PLACE_ANALYSES} AS p WHERE NOT EXISTS '
                '(SELECT 1 FROM "documents"."documents" AS d WHERE d.doc_id = p.doc_id)')


def set_raw_index(con: duckdb.DuckDBPyConnection, index: dict[str, Indexed]) -> None:
    """Replace the raw-folder index; done with the ingest's stage marker, in its transaction."""
    _ensure_raw_index(con)
    columns = {"path": list(index)} | {f: [getattr(e, f) for e in index.values()] for f in _RAW_INDEX_FIELDS}
    con.execute(f"DELETE FROM {RAW_INDEX}")
    con.register("_index", pa.table(columns, schema=_RAW_INDEX_SCHEMA))
    try:
        con.execute(f"INSERT INTO {RAW_INDEX} SELECT * FROM _index")
    finally:
        con.unregister("_index")


def mark_done(con: duckdb.DuckDBPyConnection, stage: str, keys: dict[str, str]) -> None:
    """Record that ``stage`` processed these documents with these input keys
    (the others keep theirs): the marker of one finished batch."""
    _ensure_state(con)
    data = pa.table({"doc_id": pa.array(list(keys), pa.string()), "input_key": pa.array(list(keys.values()), pa.string())})
    con.register("_keys", data)
    try:
        con.execute(f"DELETE FROM {STATE} WHERE stage = ? AND doc_id IN (SELECT doc_id FROM _keys)", [stage])
        con.execute(f"INSERT INTO {STATE} SELECT ?, doc_id, input_key FROM _keys", [stage])
    finally:
        con.unregister("_keys")


def unmark(con: duckdb.DuckDBPyConnection, stage: str, doc_ids: Iterable[str]) -> None:
    """Forget that ``stage`` processed these documents: done when their rows
    are deleted, in the same transaction, so that a marker never outlives
    its document's rows."""
    _ensure_state(con)
    ids = pa.table({"doc_id": pa.array(list(doc_ids), pa.string())})
    if ids.num_rows == 0:
        return
    con.register("_unmark", ids)
    try:
        con.execute(f"DELETE FROM {STATE} WHERE stage = ? AND doc_id IN (SELECT doc_id FROM _unmark)", [stage])
    finally:
        con.unregister("_unmark")


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    """Whether the database ``con`` works in has a table ``schema.name``."""
    return con.execute("SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
                       "AND schema_name = ? AND table_name = ?", [schema, name]).fetchall()[0][0] > 0


def ensure_table(con: duckdb.DuckDBPyConnection, table: Table) -> None:
    """Create ``stage.name`` with the table's schema if it does not exist."""
    if table_exists(con, table.stage, table.name):
        check_declared(con, table)  # no write: it vouches for no row either
    else:
        will_write(con, table)
    create_empty(con, table.stage, table.name, table.arrow_schema)


def create_empty(con: duckdb.DuckDBPyConnection, schema: str, name: str, arrow_schema: pa.Schema,
                 replace: bool = False) -> None:
    """An empty table of ``arrow_schema``'s columns, unless there is one (or in its place, with ``replace``)."""
    con.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
    con.register("_empty", arrow_schema.empty_table())
    try:
        how = "CREATE OR REPLACE TABLE" if replace else "CREATE TABLE IF NOT EXISTS"
        con.execute(f'{how} "{schema}"."{name}" AS SELECT * FROM _empty')
    finally:
        con.unregister("_empty")


def drop_docs(con: duckdb.DuckDBPyConnection, table: Table, doc_ids: Iterable[str]) -> None:
    """Delete every row of ``table`` that belongs to one of ``doc_ids``."""
    ids = pa.table({"doc_id": pa.array(list(doc_ids), pa.string())})
    if ids.num_rows == 0:
        return
    will_write(con, table, docs=ids["doc_id"].to_pylist())
    con.register("_drop", ids)
    try:
        con.execute(f'DELETE FROM "{table.stage}"."{table.name}" WHERE doc_id IN (SELECT doc_id FROM _drop)')
    finally:
        con.unregister("_drop")


def append(con: duckdb.DuckDBPyConnection, table: Table, data: pa.Table) -> int:
    assert data.schema.names == table.column_names, f"{table.name}: columns differ from the schema"
    if data.num_rows == 0:
        return 0
    will_write(con, table, docs=pc.unique(data["doc_id"]).to_pylist() if "doc_id" in data.column_names else None)
    con.register("_incoming", data)
    try:
        con.execute(f'INSERT INTO "{table.stage}"."{table.name}" SELECT * FROM _incoming')
    finally:
        con.unregister("_incoming")
    return data.num_rows


STAGE_PATHS = '"state"."stage_paths"'


def _ensure_stage_paths(con: duckdb.DuckDBPyConnection) -> None:
    _ensure_per_stage(con, STAGE_PATHS, "source_path")


def renamed_since(con: duckdb.DuckDBPyConnection, stage: str, processed: Iterable[str]) -> list[str] | None:
    """The documents whose rows in ``stage``'s tables may carry another
    ``source_path`` than the document's now: those whose path differs from
    the one the stage recorded when it last finished (:func:`record_paths`),
    or that it did not record (processed by a run killed before it
    finished). Documents ``processed`` in this run are left out: their rows
    were just written with the current path. None if the stage has recorded
    nothing: every row is to be checked.

    Before, every row of every table was compared with its document's path
    on each run, a join over each table (1.2-1.4 s of a one-file re-run at
    80,000 documents), though a rename is rare."""
    _ensure_stage_paths(con)
    if not con.execute(f"SELECT 1 FROM {STAGE_PATHS} WHERE stage = ? LIMIT 1", [stage]).fetchall():
        return None
    con.register("_processed", pa.table({"doc_id": pa.array(list(processed), pa.string())}))
    try:
        return [d for (d,) in con.execute(
            f'SELECT d.doc_id FROM "documents"."documents" AS d '
            f"LEFT JOIN (SELECT doc_id, source_path FROM {STAGE_PATHS} WHERE stage = ?) AS p ON p.doc_id = d.doc_id "
            f"WHERE p.source_path IS DISTINCT FROM d.source_path AND d.doc_id NOT IN (SELECT doc_id FROM _processed) "
            f"ORDER BY d.doc_id", [stage]).fetchall()]
    finally:
        con.unregister("_processed")


def record_paths(con: duckdb.DuckDBPyConnection, stage: str) -> None:
    """Record every document's current ``source_path`` as the one ``stage``'s
    rows carry: once the stage has processed its documents and followed the
    renames, in the same transaction. Only what differs is written: the
    records of documents gone or moved are deleted, and those missing added."""
    _ensure_stage_paths(con)
    con.execute(f'DELETE FROM {STAGE_PATHS} AS p WHERE p.stage = ? AND NOT EXISTS ('
                f'SELECT 1 FROM "documents"."documents" AS d '
                f'WHERE d.doc_id = p.doc_id AND d.source_path IS NOT DISTINCT FROM p.source_path)', [stage])
    con.execute(f'INSERT INTO {STAGE_PATHS} SELECT ?, d.doc_id, d.source_path FROM "documents"."documents" AS d '
                f'WHERE NOT EXISTS (SELECT 1 FROM {STAGE_PATHS} AS p WHERE p.stage = ? AND p.doc_id = d.doc_id)',
                [stage, stage])


def follow_renames(con: duckdb.DuckDBPyConnection, table: Table, docs: Sequence[str] | None = None) -> None:
    """Rows of kept documents take the document's current ``source_path``:
    the rows of ``docs`` (see :func:`renamed_since`), or every row for None."""
    will_write(con, table, docs=())
    if docs is not None and not docs:
        return
    only = ""
    if docs is not None:
        con.register("_renamed", pa.table({"doc_id": pa.array(list(docs), pa.string())}))
        only = " AND t.doc_id IN (SELECT doc_id FROM _renamed)"
    try:
        changed = con.execute(
            f'UPDATE "{table.stage}"."{table.name}" AS t SET source_path = d.source_path '
            f'FROM "documents"."documents" AS d WHERE t.doc_id = d.doc_id AND t.source_path <> d.source_path{only} '
            f'RETURNING t.doc_id'
        ).fetchall()
    finally:
        if docs is not None:
            con.unregister("_renamed")
    will_write(con, table, docs=[d for (d,) in changed])


def count(con: duckdb.DuckDBPyConnection, table: Table) -> int:
    return con.execute(f'SELECT count(*) FROM "{table.stage}"."{table.name}"').fetchone()[0]


# ---------------------------------------------------------------------------
# Worker processes for independent batches
# ---------------------------------------------------------------------------

R = TypeVar("R")

_POOL: ProcessPoolExecutor | None = None
_POOL_SIZE = 0
_LIBC = None  # glibc, once release_memory has looked for it
_UNFREEZE_AT_EXIT = False


def worker_count(requested: int | None = None) -> int:
    """How many worker processes batches may use: ``requested`` if given
    (0 or less means as many as CPUs), else ``DANGJIAN_WORKERS``, else the
    number of CPUs. 1 means no workers: batches run in the calling process."""
    if requested is None or requested <= 0:
        env = os.environ.get(WORKERS_ENV, "").strip()
        requested = int(env) if env else 0
    if requested <= 0:
        requested = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, requested)


def workers_for(batches: int, requested: int | None = None) -> int:
    """Workers for a job of ``batches`` batches: none unless each worker gets
    more than one batch, since starting one (a new interpreter importing the
    stage's modules) costs about as much as a batch of work."""
    workers = worker_count(requested)
    return workers if batches > workers else 1


def batch_size(requested: int | None = None, default: int = BATCH_DOCS) -> int:
    """Documents per batch: ``requested`` if positive, else ``DANGJIAN_BATCH_DOCS``, else ``default``."""
    if requested is None or requested <= 0:
        env = os.environ.get(BATCH_ENV, "").strip()
        requested = int(env) if env else default
    return max(1, requested)


def pool(workers: int) -> Executor | None:
    """A pool of ``workers`` processes, or None for 1 (work in this process).

    One pool serves every step of a run in this process, so workers start
    (and import their modules) once. They are spawned, not forked: DuckDB's
    threads do not survive a fork, and a fresh interpreter inherits nothing."""
    global _POOL, _POOL_SIZE
    if workers <= 1:
        return None
    if _POOL is None or _POOL_SIZE != workers:
        if _POOL is not None:
            _POOL.shutdown(wait=True)
        _POOL = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                    initializer=_watch_parent, initargs=(os.getpid(),))
        _POOL_SIZE = workers
    return _POOL


def close_pool() -> None:
    """Stop this process's workers. A stage calls it when its batches are done:
    idle workers would otherwise keep their memory (an ingest worker holds the
    gazetteer, about 220 MB before its first batch) through the rest of the run."""
    global _POOL, _POOL_SIZE
    if _POOL is not None:
        _POOL.shutdown(wait=True, cancel_futures=True)
        _POOL, _POOL_SIZE = None, 0


def use_system_allocator() -> None:
    """Arrow allocates from the C library's heap instead of its default
    (mimalloc), which keeps freed memory for reuse: the pipeline's processes
    pass many short-lived batches, and at 10,000 documents this lowers each
    worker by about 40 MB and the run's peak by about 70 MB (docs/scaling.md).
    Called by the definitions module and in every worker."""
    if pa.default_memory_pool().backend_name != "system":
        pa.set_memory_pool(pa.system_memory_pool())


def freeze_long_lived() -> None:
    """Collect garbage once, then exempt every object alive now from future
    collections (``gc.freeze``): after the imports and set-up of a long step
    (Great Expectations' context, the gazetteer), these objects live as long
    as the process, and each full collection scanning them again cost
    0.1–0.25 s. Measured on validating two 10,000-document tables: 24.3 →
    18.3 s. Objects frozen are still freed when their last reference goes;
    only cycles among them are no longer collected."""
    gc.collect()
    freeze()


def freeze() -> None:
    """``gc.freeze``, undone when the interpreter exits, so that its last
    collection still finalises every object (DuckDB's bindings report
    objects they never saw freed as leaks)."""
    global _UNFREEZE_AT_EXIT
    if not _UNFREEZE_AT_EXIT:
        atexit.register(gc.unfreeze)
        _UNFREEZE_AT_EXIT = True
    gc.freeze()


def release_memory() -> None:
    """Collect garbage now and hand freed heap back to the system (glibc's
    ``malloc_trim``), after a stage or batch that left hundreds of MB of
    short-lived objects; peak RSS, not only live data, is what a machine pays for."""
    gc.collect()
    global _LIBC
    if _LIBC is None:
        try:
            _LIBC = ctypes.CDLL("libc.so.6")
            _LIBC.malloc_trim  # glibc only
        except (OSError, AttributeError):
            _LIBC = False
    if _LIBC:
        _LIBC.malloc_trim(0)


def _watch_parent(parent: int) -> None:
    """In a worker: exit as soon as the process that started it is gone. A
    run killed with SIGKILL cannot stop its workers, and idle ones would
    otherwise wait forever for work that will never come."""

    use_system_allocator()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="watch-parent", daemon=True).start()


@atexit.register
def _close_pool() -> None:
    global _POOL
    if _POOL is not None:
        _POOL.shutdown(wait=False, cancel_futures=True)
        _POOL = None


def ordered_map(fn: Callable[..., R], jobs: Iterable[tuple], workers: int) -> Iterator[R]:
    """``fn(*job)`` for every job, results in job order.

    With workers, at most ``workers + 1`` jobs are in flight, so a long
    iterable of jobs (each holding a batch's inputs) never sits in memory at
    once; ``fn`` must be a module-level function, since workers import it by
    name. Without, jobs run here one by one."""
    executor = pool(workers)
    if executor is None:
        for job in jobs:
            yield fn(*job)
        return
    pending: deque = deque()
    try:
        for job in jobs:
            pending.append(executor.submit(fn, *job))
            if len(pending) > workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        for future in pending:
            future.cancel()
