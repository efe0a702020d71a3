"""Incremental work by content hash: do nothing twice.

Every document has an *input key*: a hash of its bytes (sha256), its row in
the sources manifest, and the version of the code that turns text into rows.
Each stage records, in the working database's ``state.stage_inputs`` table,
the input key it last processed per document. A run then

- processes only documents whose key the stage has not seen (new files,
  changed files, a changed manifest row, changed processing code);
- deletes the rows of documents that are gone or changed;
- keeps every other row as it is (only ``source_path`` follows a rename).

The state table is internal to the working database and never published.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import asdict
from functools import lru_cache
from pathlib import Path

import duckdb
import pyarrow as pa

from dangjian.schema import Table
from dangjian.sources import SourceEntry

STATE = '"state"."stage_inputs"'
# The modules whose code decides the rows: a change to any of them re-runs
# every document (a new release then shows what the change did).
_CODE_FILES = ("document.py", "schema.py", "text")


@lru_cache(maxsize=1)
def code_version() -> str:
    root = Path(__file__).parent
    h = hashlib.sha256()
    for name in _CODE_FILES:
        path = root / name
        for f in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            h.update(f.relative_to(root).as_posix().encode())
            h.update(f.read_bytes())
    return h.hexdigest()[:16]


def input_key(sha256: str, manifest: SourceEntry | None) -> str:
    entry = json.dumps(asdict(manifest), sort_keys=True, ensure_ascii=False) if manifest else ""
    return hashlib.sha256(f"{sha256}\x1f{entry}\x1f{code_version()}".encode()).hexdigest()[:16]


def _ensure_state(con: duckdb.DuckDBPyConnection) -> None:
    con.execute('CREATE SCHEMA IF NOT EXISTS "state"')
    con.execute(f"CREATE TABLE IF NOT EXISTS {STATE} (stage VARCHAR, doc_id VARCHAR, input_key VARCHAR)")


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


def ensure_table(con: duckdb.DuckDBPyConnection, table: Table) -> None:
    """Create ``stage.name`` with the table's schema if it does not exist."""
    con.execute(f'CREATE SCHEMA IF NOT EXISTS "{table.stage}"')
    con.register("_empty", table.arrow_schema.empty_table())
    try:
        con.execute(f'CREATE TABLE IF NOT EXISTS "{table.stage}"."{table.name}" AS SELECT * FROM _empty')
    finally:
        con.unregister("_empty")


def drop_docs(con: duckdb.DuckDBPyConnection, table: Table, doc_ids: Iterable[str]) -> None:
    """Delete every row of ``table`` that belongs to one of ``doc_ids``."""
    ids = pa.table({"doc_id": pa.array(list(doc_ids), pa.string())})
    if ids.num_rows == 0:
        return
    con.register("_drop", ids)
    try:
        con.execute(f'DELETE FROM "{table.stage}"."{table.name}" WHERE doc_id IN (SELECT doc_id FROM _drop)')
    finally:
        con.unregister("_drop")


def append(con: duckdb.DuckDBPyConnection, table: Table, data: pa.Table) -> int:
    assert data.schema.names == table.column_names, f"{table.name}: columns differ from the schema"
    if data.num_rows == 0:
        return 0
    con.register("_incoming", data)
    try:
        con.execute(f'INSERT INTO "{table.stage}"."{table.name}" SELECT * FROM _incoming')
    finally:
        con.unregister("_incoming")
    return data.num_rows


def follow_renames(con: duckdb.DuckDBPyConnection, table: Table) -> None:
    """Rows of kept documents take the document's current ``source_path``."""
    con.execute(
        f'UPDATE "{table.stage}"."{table.name}" AS t SET source_path = d.source_path '
        f'FROM "documents"."documents" AS d WHERE t.doc_id = d.doc_id AND t.source_path <> d.source_path'
    )


def count(con: duckdb.DuckDBPyConnection, table: Table) -> int:
    return con.execute(f'SELECT count(*) FROM "{table.stage}"."{table.name}"').fetchone()[0]
