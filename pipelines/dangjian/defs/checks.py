"""Cheap blocking checks on every table, applied in one place.

They run right after a table is written and, when one fails, stop the run
before the release step, so a broken table never reaches ``latest``:

- the key is never null and never repeated;
- rows that point into a document point at one that exists, and their
  offsets lie inside its text (``0 <= start <= end <= chars``) and inside
  its source (``source_end <= source_chars``);
- ``documents`` is not empty (a run that ingested nothing is a failed run).

The Great Expectations suites are the deeper layer; these are the guard rails.
"""

import dagster as dg

from dangjian.defs.resources import WarehouseResource
from dangjian.schema import DOCUMENTS, TABLES, Table
from dangjian.warehouse import connect


def problems(con, table: Table) -> dict[str, int]:
    """Counts of rows that break each rule; all zero means the table is sound."""
    name = f'"{table.stage}"."{table.name}"'
    key = f'"{table.key}"'
    found = {
        "null_keys": con.execute(f"SELECT count(*) FROM {name} WHERE {key} IS NULL").fetchone()[0],
        "duplicate_keys": con.execute(f"SELECT count(*) - count(DISTINCT {key}) FROM {name}").fetchone()[0],
    }
    if "start" in table.column_names:
        docs = f'"{DOCUMENTS.stage}"."{DOCUMENTS.name}"'
        found["orphan_rows"] = con.execute(
            f"SELECT count(*) FROM {name} t LEFT JOIN {docs} d USING (doc_id) WHERE d.doc_id IS NULL"
        ).fetchone()[0]
        found["offsets_outside_text"] = con.execute(
            f"SELECT count(*) FROM {name} t JOIN {docs} d USING (doc_id) "
            f'WHERE t.start < 0 OR t.start > t."end" OR t."end" > d.chars '
            f"OR t.source_start < 0 OR t.source_start > t.source_end OR t.source_end > d.source_chars"
        ).fetchone()[0]
    if table is DOCUMENTS:
        found["empty_table"] = int(con.execute(f"SELECT count(*) FROM {name}").fetchone()[0] == 0)
    return found


def _check_for(table: Table) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey([table.stage, table.name]),
        name=f"{table.name}_sound",
        blocking=True,
        description=f"Blocking: unique non-null `{table.key}`; offsets inside the document; no orphan rows.",
    )
    def check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with connect(warehouse.warehouse_path(), read_only=True) as con:
            found = problems(con, table)
        return dg.AssetCheckResult(
            passed=not any(found.values()),
            metadata={k: int(v) for k, v in found.items()},
            description=", ".join(f"{k}: {v}" for k, v in found.items() if v) or "all rules hold",
        )

    return check


defs = dg.Definitions(asset_checks=[_check_for(t) for t in TABLES])
