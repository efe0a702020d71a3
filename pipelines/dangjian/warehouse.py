"""Where things live, and reading and writing the working DuckDB database.

Locations resolve at call time, never at import: an explicit value (Dagster
config or a test), else the environment (``DANGJIAN_RAW_DIR``,
``DANGJIAN_WAREHOUSE_DIR``), else ``raw/`` and ``warehouse/`` under the
current folder, which is the repository root when run through ``make``.

Layout of the warehouse folder::

    warehouse/
      work/dangjian_work.duckdb   the working database; only a pipeline run opens it
      releases/<version>/         immutable releases (Parquet and descriptors)
      releases/latest             symlink to the newest release
      dangjian.duckdb             the published read-only database (latest release)
      work/validation/            validation outcomes, by fingerprint of the rows they cover
      work/sound/                 per table, the row fingerprints of its last state that
                                  passed the blocking checks (``defs/checks.py``)
      work/exports.json           which release file holds which table's rows (for reuse)
      work/dangjian_work.duckdb.fingerprints.arrow
                                  every table's row fingerprints in the state the last
                                  run left, with that state (see ``save_fingerprints``)
"""
from __future__ import annotations

import hashlib
import itertools
import json
import os
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import reduce
from operator import xor
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from dangjian.files import replaced_whole
from dangjian.schema import TABLES, Table

_TABLES_BY_NAME = {t.name: t for t in TABLES}

RAW_ENV = "DANGJIAN_RAW_DIR"
WAREHOUSE_ENV = "DANGJIAN_WAREHOUSE_DIR"
WORK_DB = Path("work") / "dangjian_work.duckdb"
PUBLISHED_DB = "dangjian.duckdb"
VALIDATION_CACHE = Path("work") / "validation"
DUCKDB_MEMORY_ENV = "DANGJIAN_DUCKDB_MEMORY"
# DuckDB would take 80 % of the machine's memory for its buffers; bounded, it
# spills big sorts and joins to disk instead, and a run's peak memory stays
# flat as the corpus grows. Not 256 MB: that lowered the largest process of
# a 10,000-document run from 1,381 to 1,203 MiB at the same wall time, but
# `make bench` then failed (2026-12-05, b228785): copying one of the
# 10,000-document corpus's stage tables from Arrow into DuckDB with ORDER BY
# ran out of memory ("failed to pin block") instead of spilling. A default
# must not fail on bigger corpora to save 180 MB.
DEFAULT_DUCKDB_MEMORY = "512MB"


def duckdb_memory() -> str:
    """DuckDB's memory limit per connection: ``DANGJIAN_DUCKDB_MEMORY``, else the default."""
    return os.environ.get(DUCKDB_MEMORY_ENV) or DEFAULT_DUCKDB_MEMORY


class SetupError(RuntimeError):
    """A problem with the environment that the user must fix; the message says how."""


def resolve_raw_dir(explicit: str | os.PathLike | None = None) -> Path:
    value = explicit or os.environ.get(RAW_ENV) or Path.cwd() / "raw"
    path = Path(value).expanduser().resolve()
    if not path.is_dir():
        raise SetupError(
            f"raw folder {path} does not exist. Put articles in ./raw, or point {RAW_ENV} "
            f"(or the resource's raw_dir config) at the folder that holds them."
        )
    return path


def resolve_warehouse_dir(explicit: str | os.PathLike | None = None) -> Path:
    value = explicit or os.environ.get(WAREHOUSE_ENV) or Path.cwd() / "warehouse"
    path = Path(value).expanduser().resolve()
    try:
        (path / "work").mkdir(parents=True, exist_ok=True)
        (path / "releases").mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SetupError(
            f"cannot create the warehouse folder {path}: {exc.strerror}. Make it writable, or point "
            f"{WAREHOUSE_ENV} (or the resource's warehouse_dir config) at a writable folder."
        ) from exc
    if not os.access(path, os.W_OK):
        raise SetupError(f"warehouse folder {path} is not writable. Fix its permissions or set {WAREHOUSE_ENV}.")
    return path


def _open(path: Path, read_only: bool, wait_seconds: float) -> duckdb.DuckDBPyConnection:
    """Open a DuckDB file, waiting while another process holds its lock.

    DuckDB allows one writing process per file. Under Dagster's multiprocess
    executor two steps may want the working database at once; the second
    waits for the first instead of failing.
    """
    deadline = time.monotonic() + wait_seconds
    delay = 0.05
    config = {"memory_limit": duckdb_memory()}
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only, config=config)
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 1.0)


@contextmanager
def connect(warehouse_dir: Path, read_only: bool = False, wait_seconds: float = 600,
            writes: Iterable[Table] | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the working database. Only pipeline runs do this; users query the
    published copy, so a run never blocks them.

    ``writes``: a writing step may name the tables it changes. Then the row
    fingerprints this process took of every other table (see
    :func:`row_fingerprints`) stay valid in the state the step leaves
    behind, instead of being taken again; writing any other table through
    the helpers that write tables (here and in ``incremental``) raises
    (:func:`will_write`). Of its own tables, the helpers say which
    documents they changed, and only those documents' rows are hashed
    again as the step ends; a table replaced whole, or one the step named
    but no write reported, is hashed whole. SQL that such a step runs
    itself is not checked: a step that names its tables writes them
    through the helpers, or calls :func:`will_write` with the documents it
    changes. Only the connection the step opened is tracked: a cursor of
    it, or a second connection, is neither checked nor tracked."""
    con = _open(warehouse_dir / WORK_DB, read_only, wait_seconds)
    written = None if writes is None or read_only else frozenset(t.name for t in writes)
    before = after = None
    touched: dict[str, _Touched] = {}
    rehashed: dict[str, pa.Table] = {}
    try:
        if written is not None:
            before = _file_state(_database(con)[0])
            _restore_fingerprints(before, con)
            _DECLARED[id(con)] = written
            _TOUCHED[id(con)] = (before, touched)
        yield con
        if before is not None:
            # Write everything into the file while this process still holds
            # it, so that the state the step leaves is known for certain;
            # closing after a checkpoint changes nothing (measured, duckdb 2.0).
            # A failed checkpoint only means nothing is carried: the step's
            # commits stand, and closing checkpoints again.
            try:
                con.execute("CHECKPOINT")
                rehashed = _rehash_touched(con, touched)
                after = _file_state(before[0])
            except duckdb.Error:
                after = None
    finally:
        _DECLARED.pop(id(con), None)
        _TOUCHED.pop(id(con), None)
        con.close()
    # Only if nobody wrote the file since this process let go of it.
    if after is not None and _file_state(before[0]) == after:
        _carry_fingerprints(before, after, written, touched, rehashed)


#: Per open connection that named the tables it writes (``connect(writes=)``): those tables' names.
_DECLARED: dict[int, frozenset[str]] = {}


class _Touched:
    """What a step that named its tables wrote of one of them: the documents
    whose rows it changed (none: every write it reported changed no row),
    or None for any row (a table replaced whole, or one whose fingerprints
    in the step's first state this process lacks). A named table with no
    entry at all was never reported, and is hashed whole."""

    def __init__(self, table: Table):
        self.table = table
        self.docs: set[str] | None = set()


#: Per open connection that named its tables: its first state, and what it wrote of each table.
_TOUCHED: dict[int, tuple[tuple | None, dict[str, _Touched]]] = {}


def will_write(con: duckdb.DuckDBPyConnection, table: Table, docs: Iterable[str | None] | None = None) -> None:
    """Called by every helper that changes a table, before it does: raises if
    ``con`` named the tables it writes and ``table`` is not among them, since
    the fingerprints of the others are carried past its step as they were.

    ``docs``: the documents whose rows the write changes; None (the
    default) for any row. A step's tables are hashed again only for these
    documents when it ends (see :func:`connect`), so a helper must name
    every document it changes; one that cannot know leaves None."""
    check_declared(con, table)
    found = _TOUCHED.get(id(con))
    if found is None:
        return
    docs = None if docs is None else set(docs)
    before, touched = found
    entry = touched.setdefault(table.name, _Touched(table))
    if entry.docs is None or (docs is not None and not docs):
        return  # already to be hashed whole, or a write that changed no row
    kept = _FINGERPRINTS.get((before[0], table.name)) if before else None
    if docs is None or None in docs or "doc_id" not in table.column_names or kept is None or kept[0] != before:
        entry.docs = None  # hashed whole after the step, as before
        return
    entry.docs |= docs


def check_declared(con: duckdb.DuckDBPyConnection, table: Table) -> None:
    """Raise if ``con`` named the tables it writes and ``table`` is not among them."""
    declared = _DECLARED.get(id(con))
    if declared is not None and table.name not in declared:
        raise RuntimeError(f"{table.stage}.{table.name}: written by a step that said it writes only "
                           f"{', '.join(sorted(declared))}")


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """A step's writes, committed at its end (and at each :func:`checkpoint`
    inside it); a step killed or failing after the last checkpoint leaves
    nothing of what it wrote since."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def checkpoint(con: duckdb.DuckDBPyConnection) -> None:
    """Commit what a step wrote so far and go on in a new transaction.

    A per-document stage calls it after each batch, together with the batch's
    stage marker (``incremental.mark_done``): DuckDB holds an open
    transaction's rows in memory, so one transaction over a whole corpus
    grows with it. A run killed after a checkpoint keeps the finished
    batches; the next run finds them marked done and does the rest."""
    con.execute("COMMIT")
    con.execute("BEGIN TRANSACTION")


def regroup(batches: Iterable[pa.RecordBatch], size: int | Iterable[int]) -> Iterator[list[pa.RecordBatch]]:
    """Record batches of any sizes, regrouped in order into lists of exactly
    ``size`` rows (the last shorter; none for no rows), or of each size in
    turn when ``size`` is a sequence of them (rows beyond its end come as one
    last list). The pieces are zero-copy slices of the batches."""
    sizes = itertools.repeat(size) if isinstance(size, int) else iter(size)
    want = next(sizes, None)
    held: list[pa.RecordBatch] = []
    rows = 0
    for batch in batches:
        while batch.num_rows:
            take = batch.slice(0, batch.num_rows if want is None else want - rows)
            held.append(take)
            rows += take.num_rows
            batch = batch.slice(take.num_rows)
            if rows == want:
                yield held
                held, rows, want = [], 0, next(sizes, None)
    if held:
        yield held


def to_arrow(table: Table, rows: Iterable[dict]) -> pa.Table:
    """Rows (dicts keyed by column name) → an Arrow table of the table's schema."""
    schema = table.arrow_schema
    rows = list(rows)
    return pa.Table.from_pylist(rows, schema=schema)


def write_table(con: duckdb.DuckDBPyConnection, table: Table, data: pa.Table) -> int:
    """Replace ``stage.name`` with ``data``, ordered by the table's key.

    Replacing the whole table makes a re-run give the same rows, never
    duplicates. Names come from ``dangjian.schema``, never from input, so
    quoting them is safe; values go through Arrow, never into SQL text.
    """
    assert data.schema.names == table.column_names, f"{table.name}: columns differ from the schema"
    will_write(con, table)
    con.execute(f'CREATE SCHEMA IF NOT EXISTS "{table.stage}"')
    con.register("_incoming", data)
    try:
        con.execute(
            f'CREATE OR REPLACE TABLE "{table.stage}"."{table.name}" AS '
            f'SELECT * FROM _incoming ORDER BY "{table.key}"'
        )
    finally:
        con.unregister("_incoming")
    return data.num_rows


def read_table(con: duckdb.DuckDBPyConnection, table: Table, columns: list[str] | None = None) -> pa.Table:
    cols = ", ".join(f'"{c}"' for c in (columns or table.column_names))
    return con.sql(f'SELECT {cols} FROM "{table.stage}"."{table.name}" ORDER BY "{table.key}"').to_arrow_table()


# ---------------------------------------------------------------------------
# Row fingerprints: what validation and export use to tell changed rows
# ---------------------------------------------------------------------------

#: Per (database file, table): the file's committed state when the
#: fingerprints were taken, and the fingerprints. See :func:`row_fingerprints`.
_FINGERPRINTS: dict[tuple[str, str], tuple[tuple, pa.Table]] = {}
_HEADER_BYTES = 3 * 4096  # DuckDB's file headers; a checkpoint rewrites one of them


def committed_state(con: duckdb.DuckDBPyConnection) -> tuple | None:
    """An identity of what a read-only connection sees, or None when there is none to vouch for.

    While a process holds a DuckDB file open read-only no process can write
    it, and every write after it is closed changes the file: a commit
    appends to the write-ahead log (``.wal``), and a checkpoint writes a new
    database header with a higher iteration count. So the bytes of the
    headers and the size of the log name one committed state. Measured with
    duckdb 2.0 (2026-12-05): an UPDATE changed the log, its checkpoint the
    headers; opening the file read-only or read-write without writing
    changed neither. A connection that can write sees its own uncommitted
    rows, and an in-memory database has no file: None for both."""
    path, read_only = _database(con)
    return _file_state(path) if read_only else None


def still_in(con: duckdb.DuckDBPyConnection, state: tuple | None) -> bool:
    """Whether the file ``con`` has open is still in ``state``, a
    :func:`committed_state` taken before (by a read-only connection that
    has since let go), so that what was read there holds for ``con``."""
    return state is not None and _file_state(_database(con)[0]) == state


def _database(con: duckdb.DuckDBPyConnection) -> tuple[str | None, bool]:
    """The file ``con`` has open, as DuckDB names it (None in memory), and whether read-only."""
    rows = con.execute("SELECT path, readonly FROM duckdb_databases() WHERE database_name = current_database()").fetchall()
    return (rows[0][0] or None, bool(rows[0][1])) if rows else (None, False)


#: Per database file: a descriptor open on it for reading its headers, kept for the process's life.
_HEADER_FDS: dict[str, int] = {}


def _read_header(path: str) -> bytes:
    """The first bytes of the database file ``path``, read without closing a
    descriptor of it. DuckDB locks the file with POSIX record locks, and
    closing any descriptor of a file drops every such lock the process
    holds on it: reading the headers with ``open()`` inside a step let
    another process open the file for writing beside that step (under the
    multiprocess executor, ingest and the gazetteer each wrote their own
    tables into one file and the last to close kept only its own). So the
    descriptor stays open, and is closed only once the name points at
    another file, whose locks it cannot hold."""
    ino = os.stat(path).st_ino
    fd = _HEADER_FDS.get(path)
    if fd is not None and os.fstat(fd).st_ino != ino:
        os.close(fd)
        fd = None
    if fd is None:
        fd = _HEADER_FDS[path] = os.open(path, os.O_RDONLY)
        if os.fstat(fd).st_ino != ino:  # replaced between the two calls: read it as it is now
            return _read_header(path)
    return os.pread(fd, _HEADER_BYTES, 0)


def _file_state(path: str | None) -> tuple | None:
    """:func:`committed_state` of the database file ``path`` (as DuckDB names it)."""
    if not path:
        return None
    try:
        header = hashlib.sha256(_read_header(path)).hexdigest()
        st = os.stat(path)
        try:
            wal = os.stat(f"{path}.wal")
            log = (wal.st_size, wal.st_mtime_ns, wal.st_ino)
        except FileNotFoundError:
            log = None
    except OSError:
        return None
    return (path, header, st.st_size, st.st_mtime_ns, st.st_ino, log)


def _fingerprint_query(table: Table) -> str:
    q = f'"{table.stage}"."{table.name}"'
    if "doc_id" in table.column_names:
        return _PER_DOCUMENT.format(q=q, where="")
    return f"SELECT NULL::VARCHAR AS doc_id, count(*) AS n, bit_xor(hash(t)) AS h FROM {q} AS t HAVING count(*) > 0"


# One text for the whole table and for some of its documents, so that both give the same values.
_PER_DOCUMENT = "SELECT doc_id, count(*) AS n, bit_xor(hash(t)) AS h FROM {q} AS t {where} GROUP BY doc_id"


def row_fingerprints(con: duckdb.DuckDBPyConnection, table: Table) -> pa.Table:
    """Per document of ``table`` (one row with a null ``doc_id`` for a table
    without documents, none for an empty table): ``n``, its row count, and
    ``h``, the XOR of DuckDB's 64-bit ``hash()`` of each of its rows (every
    column). Any change to a value, an added or a removed row changes them.

    Every row is hashed where it lies, once per committed state of the
    database: on a read-only connection the result is kept for this process
    and given again while :func:`committed_state` is the same. One run's
    checks and release step each open the working database read-only and
    would otherwise hash the same tables again (documents, the largest, as
    the context of nine others): 3.0 s of a re-run at 10,000 documents.

    A writing step that names the tables it writes (``connect(writes=)``)
    leaves the fingerprints of the others valid for the state after it,
    and hashes again only the rows of the documents it wrote in its own.
    The release keeps them all beside the database file
    (:func:`save_fingerprints`), and the next run starts from them if the
    file is still in that state; otherwise it hashes every table once."""
    state = committed_state(con)
    key = (state[0], table.name) if state else None
    if key is not None:
        _restore_fingerprints(state, con)
        found = _FINGERPRINTS.get(key)
        if found is not None and found[0] == state:
            return found[1]
    data = con.sql(_fingerprint_query(table)).to_arrow_table()
    if key is not None:
        for k in [k for k, (s, _) in _FINGERPRINTS.items() if k[0] == key[0] and s != state]:
            del _FINGERPRINTS[k]  # another state of the same file: never asked for again
        _FINGERPRINTS[key] = (state, data)
    return data


def _rehash_touched(con: duckdb.DuckDBPyConnection, touched: dict[str, _Touched]) -> dict[str, pa.Table]:
    """The fingerprints, as the step leaves them, of the documents it wrote
    in each table it wrote by document: only their rows are hashed."""
    out = {}
    for name, entry in touched.items():
        if not entry.docs:
            continue
        ids = pa.table({"doc_id": pa.array(sorted(entry.docs), pa.string())})
        con.register("_touched", ids)
        try:
            q = f'"{entry.table.stage}"."{entry.table.name}"'
            out[name] = con.sql(_PER_DOCUMENT.format(
                q=q, where="WHERE doc_id IN (SELECT doc_id FROM _touched)")).to_arrow_table()
        finally:
            con.unregister("_touched")
    return out


def _carry_fingerprints(before: tuple, after: tuple, written: frozenset[str], touched: dict[str, _Touched],
                        rehashed: dict[str, pa.Table]) -> None:
    """The fingerprints taken in state ``before`` hold in the state ``after``
    a step left for every table it did not name, for every named table all
    of whose reported writes changed no row, and for the documents it did
    not write of a table it wrote by document (``rehashed`` has the
    others): they are kept for it. A table it wrote whole, or named and
    never reported, will be hashed again: only a report vouches for it."""
    for key, (state, data) in list(_FINGERPRINTS.items()):
        if key[0] != before[0] or state != before:
            continue
        entry = touched.get(key[1])
        if entry is not None:
            docs = entry.docs
        else:  # not named: as it was; named but never reported: hashed whole
            docs = None if key[1] in written else set()
        if docs is None:
            del _FINGERPRINTS[key]
        elif not docs:
            _FINGERPRINTS[key] = (after, data)
        else:  # rehashed has every table with documents reported
            gone = pc.is_in(data["doc_id"], value_set=pa.array(sorted(docs), pa.string()))
            kept = data.filter(pc.invert(pc.fill_null(gone, False)))
            _FINGERPRINTS[key] = (after, pa.concat_tables([kept, rehashed[key[1]].cast(data.schema)]))
    _check_kept(after)


#: Set (to anything) to hash every table again wherever fingerprints were
#: carried, merged or read from the file, and fail on any difference. For
#: tests: it costs what the carrying saves.
VERIFY_ENV = "DANGJIAN_VERIFY_FINGERPRINTS"


def _check_kept(state: tuple, con: duckdb.DuckDBPyConnection | None = None) -> None:
    """With :data:`VERIFY_ENV` set: every table's fingerprints kept for
    ``state`` against its rows (read on ``con``, which must see that state,
    or on a connection of its own)."""
    if not os.environ.get(VERIFY_ENV):
        return
    own = con is None
    if own:
        con = _open(Path(state[0]), True, 600)  # waits, like any step, while another process writes
    try:
        for (p, name), (kept, data) in list(_FINGERPRINTS.items()):
            if p == state[0] and kept == state:
                fresh = con.sql(_fingerprint_query(_TABLES_BY_NAME[name])).to_arrow_table()
                if _entries(fresh) != _entries(data):
                    raise RuntimeError(f"{name}: kept row fingerprints differ from the table's rows")
    finally:
        if own:
            con.close()


def _entries(fps: pa.Table) -> list:
    """Every entry, in order: a document listed twice is a difference too."""
    return sorted(zip(fps["doc_id"].to_pylist(), fps["n"].to_pylist(), fps["h"].to_pylist()), key=str)


# ---------------------------------------------------------------------------
# Fingerprints kept between runs

_FINGERPRINTS_FILE_VERSION = "3"
_KEPT_SCHEMA = pa.schema([("doc_id", pa.string()), ("n", pa.int64()), ("h", pa.uint64())])
_RESTORE_TRIED: set[str] = set()


def fingerprints_file(path: str) -> Path:
    """Where :func:`save_fingerprints` keeps the fingerprints of the database file ``path``."""
    return Path(f"{path}.fingerprints.arrow")


def save_fingerprints(con: duckdb.DuckDBPyConnection) -> int:
    """Keep, beside the database file, the row fingerprints this process
    holds for the state a read-only ``con`` sees, with that state. The next
    run reads them back only if the file is still in exactly that state
    (:func:`committed_state`: no commit and no checkpoint since), so a
    one-file re-run hashes only the rows its steps write. Returns how many
    tables were kept."""
    state = committed_state(con)
    if state is None:
        return 0
    parts = {key[1]: data for key, (s, data) in _FINGERPRINTS.items() if key[0] == state[0] and s == state}
    target = fingerprints_file(state[0])
    try:
        if not parts:
            target.unlink(missing_ok=True)
            return 0
        write_fingerprint_sets(target, dict(sorted(parts.items())),
                               {"version": _FINGERPRINTS_FILE_VERSION, "state": json.dumps(state)})
    except OSError:
        return 0
    return len(parts)


def read_kept_fingerprints(path: str) -> tuple[str, dict[str, pa.Table]] | None:
    """What :func:`save_fingerprints` kept for the database file ``path``:
    the state it was kept for (as JSON) and each table's fingerprints; None
    if there is nothing readable, or it was written by another version."""
    found = read_fingerprint_sets(fingerprints_file(path))
    if found is None or found[0].get(b"version") != _FINGERPRINTS_FILE_VERSION.encode() or b"state" not in found[0]:
        return None
    return found[0][b"state"].decode(), found[1]


def _restore_fingerprints(state: tuple | None, con: duckdb.DuckDBPyConnection | None = None) -> None:
    """Read back what :func:`save_fingerprints` kept, if it was kept for
    ``state``, for every table this process holds nothing of in it."""
    if state is None or json.dumps(state) in _RESTORE_TRIED:
        return
    _RESTORE_TRIED.add(json.dumps(state))
    kept = read_kept_fingerprints(state[0])
    if kept is None or kept[0] != json.dumps(state):
        return
    for name, part in kept[1].items():
        key = (state[0], name)
        held = _FINGERPRINTS.get(key)
        if name in _TABLES_BY_NAME and (held is None or held[0] != state):
            _FINGERPRINTS[key] = (state, part)
    _check_kept(state, con)


class DocFingerprints:
    """One table's :func:`row_fingerprints` (per document: row
    count ``n`` and XOR of row hashes ``h``) as arrays sorted by ``doc_id``,
    so that digests over many documents are taken in C, not with a Python
    string per document: at 80,000 documents those strings, their maps and
    the sorted table digests took 6.5 of a one-file re-run's 42 sampled CPU
    seconds (the checks and the release gate together); now 2.0."""

    def __init__(self, fps: pa.Table):
        self.source = fps  # what it was built from (``doc_fingerprints`` asks)
        fps = fps.sort_by([("doc_id", "ascending")])  # nulls (rows without a document) last
        self.docs = fps["doc_id"].combine_chunks()
        self.n = np.asarray(fps["n"].combine_chunks().to_numpy(zero_copy_only=False), dtype=np.int64)
        self.h = np.asarray(fps["h"].combine_chunks().to_numpy(zero_copy_only=False), dtype=np.uint64)
        self._ids: set[str | None] | None = None

    def __len__(self) -> int:
        return len(self.docs)

    @property
    def rows(self) -> int:
        return int(self.n.sum())

    @property
    def ids(self) -> set[str | None]:
        if self._ids is None:
            self._ids = set(self.docs.to_pylist())
        return self._ids

    def digest(self) -> str:
        """The whole table's: every document's id, count and hash, in order."""
        h = hashlib.sha256(json.dumps(self.docs.to_pylist()).encode())
        h.update(self.n.tobytes())
        h.update(self.h.tobytes())
        return h.hexdigest()[:32]

    def at(self, docs: pa.Array) -> tuple:
        """``n`` and ``h`` of each of ``docs`` (-1 and 0 where it has no rows)."""
        if not len(self.docs):
            return np.full(len(docs), -1, np.int64), np.zeros(len(docs), np.uint64)
        pos = pc.index_in(docs, value_set=self.docs, skip_nulls=False)
        found = pos.is_valid().to_numpy(zero_copy_only=False)
        pos = np.asarray(pos.fill_null(0).to_numpy(zero_copy_only=False), dtype=np.int64)
        return np.where(found, self.n[pos], -1), np.where(found, self.h[pos], np.uint64(0))


#: Per (database file, table): the last :class:`DocFingerprints` built from
#: the fingerprints :func:`row_fingerprints` keeps, so that every check of a
#: state does not sort them again (the documents' are the context of nine
#: tables: 80,000 ids each time at that size). One per table at most.
_SORTED: dict[tuple[str, str], DocFingerprints] = {}


def doc_fingerprints(con: duckdb.DuckDBPyConnection, table: Table) -> DocFingerprints:
    """:func:`row_fingerprints` as :class:`DocFingerprints`, built once for
    each set of fingerprints this process keeps."""
    fps = row_fingerprints(con, table)
    key = (_database(con)[0], table.name)
    found = _SORTED.get(key)
    if found is not None and found.source is fps:
        return found
    built = DocFingerprints(fps)
    kept = _FINGERPRINTS.get(key)
    if kept is not None and kept[1] is fps:  # kept for a state: the arrays are, beside them
        _SORTED[key] = built
    return built


def write_fingerprint_sets(path: Path, parts: dict[str, pa.Table], meta: dict[str, str]) -> None:
    """Named sets of per-document fingerprints (``doc_id``, ``n``, ``h``) in
    one Arrow file with ``meta``: one record batch per set, in order, so
    that a set reads back without a filter or a string per row. Written
    whole (temporary name, then rename)."""
    schema = _KEPT_SCHEMA.with_metadata({**meta, "parts": json.dumps(list(parts))})
    path.parent.mkdir(parents=True, exist_ok=True)
    with replaced_whole(path) as tmp, pa.ipc.new_file(tmp, schema) as writer:
        for d in parts.values():
            writer.write_batch(pa.RecordBatch.from_arrays(
                [d[name].cast(field.type).combine_chunks() for name, field in zip(_KEPT_SCHEMA.names, _KEPT_SCHEMA)],
                schema=_KEPT_SCHEMA))


def read_fingerprint_sets(path: Path) -> tuple[dict[bytes, bytes], dict[str, pa.Table]] | None:
    """What :func:`write_fingerprint_sets` wrote: its metadata and each set;
    None when there is no such file or it is not one."""
    try:
        with pa.ipc.open_file(path) as reader:
            meta = reader.schema.metadata or {}
            names = json.loads(meta[b"parts"])
            if reader.schema.names != _KEPT_SCHEMA.names or len(names) != reader.num_record_batches:
                return None
            return meta, {name: pa.Table.from_batches([reader.get_batch(i)]).replace_schema_metadata(None)
                          for i, name in enumerate(names)}
    except (OSError, pa.ArrowInvalid, KeyError, ValueError):
        return None


def save_doc_fingerprints(path: Path, parts: dict[str, DocFingerprints], version: str) -> None:
    """Named sets of :class:`DocFingerprints` in one Arrow file, under ``version``."""
    write_fingerprint_sets(path, {name: pa.table({"doc_id": f.docs, "n": f.n, "h": f.h}) for name, f in parts.items()},
                           {"version": version})


def load_doc_fingerprints(path: Path, version: str) -> dict[str, DocFingerprints] | None:
    """What :func:`save_doc_fingerprints` wrote, or None when there is no
    such file, it cannot be read, or it was written under another version."""
    found = read_fingerprint_sets(path)
    if found is None or found[0].get(b"version") != version.encode():
        return None
    return {name: DocFingerprints(part) for name, part in found[1].items()}


def table_fingerprint(fps: pa.Table) -> str:
    """The whole table's row count and XOR of row hashes, from :func:`row_fingerprints`."""
    return f"{sum(fps['n'].to_pylist())}:{reduce(xor, (h for h in fps['h'].to_pylist() if h is not None), 0)}"
