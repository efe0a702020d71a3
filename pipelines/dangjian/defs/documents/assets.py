"""Stage 1–2: raw files → documents (decoded, cleaned, normalised) and their segments.

Re-runs are incremental (see ``dangjian.incremental``): only new or changed
documents are processed; rows of removed documents are deleted.
"""

import dagster as dg
import pyarrow as pa

from dangjian import incremental as inc
from dangjian.defs.resources import WarehouseResource
from dangjian.document import DocText, paragraph_rows, sentence_rows
from dangjian.ingest import ingest_folder
from dangjian.schema import DOCUMENTS, PARAGRAPHS, REJECTED_FILES, SENTENCES, SOURCE_FILES, Table
from dangjian.warehouse import connect, to_arrow, transaction, write_table

DOC_TEXT_COLUMNS = ["doc_id", "source_path", "sha256", "source_text", "clean_text", "text", "offset_map"]
BATCH_DOCS = 500  # documents held in memory at once by the per-document stages


def spec(table, deps=()) -> dg.AssetSpec:
    """The asset for a published table: key ``<stage>/<table>``, grouped by stage,
    described by the data dictionary."""
    return dg.AssetSpec(
        key=[table.stage, table.name],
        group_name=table.stage,
        description=f"{table.en}\n\n{table.zh}\n\nKey: `{table.key}`. DuckDB: `{table.qualified}`.",
        deps=list(deps),
        metadata={"dagster/table_name": table.qualified},
    )


def _set_paths(con, paths: dict[str, list[str]]) -> None:
    """Every document's current paths (renames, new duplicates, kept documents)."""
    data = pa.table({"doc_id": list(paths), "source_paths": [sorted(p) for p in paths.values()]},
                    schema=pa.schema([("doc_id", pa.string()), ("source_paths", pa.list_(pa.string()))]))
    con.register("_paths", data)
    try:
        con.execute('UPDATE "documents"."documents" AS d SET source_paths = p.source_paths, '
                    "source_path = p.source_paths[1] FROM _paths AS p WHERE d.doc_id = p.doc_id")
    finally:
        con.unregister("_paths")


@dg.multi_asset(specs=[spec(SOURCE_FILES), spec(DOCUMENTS), spec(REJECTED_FILES)])
def ingest(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    """Read every file under the raw folder; each becomes a document or a rejected file."""
    raw_dir, warehouse_dir = warehouse.raw_path(), warehouse.warehouse_path()
    context.log.info(f"ingesting {raw_dir}")
    with connect(warehouse_dir) as con, transaction(con):
        inc.ensure_table(con, DOCUMENTS)
        known = inc.stage_inputs(con, "documents")

        def store(rows: list[dict]) -> None:
            # A changed file keeps its doc_id only if its bytes are the same
            # (e.g. a new manifest row): replace the old row.
            inc.drop_docs(con, DOCUMENTS, [r["doc_id"] for r in rows])
            inc.append(con, DOCUMENTS, to_arrow(DOCUMENTS, rows))

        result = ingest_folder(raw_dir, progress=context.log.info, known=known, on_batch=store, batch_size=BATCH_DOCS)
        inc.drop_docs(con, DOCUMENTS, [d for d in known if d not in result.keys])
        _set_paths(con, result.paths)
        inc.set_stage_inputs(con, "documents", result.keys)
        write_table(con, SOURCE_FILES, to_arrow(SOURCE_FILES, result.source_files))
        write_table(con, REJECTED_FILES, to_arrow(REJECTED_FILES, result.rejected_files))
        counts = {t.name: inc.count(con, t) for t in (SOURCE_FILES, DOCUMENTS, REJECTED_FILES)}
    for reject in result.rejected_files:
        context.log.warning(f"rejected {reject['path']}: {reject['reason']}")
    extra = {"documents processed": result.processed, "documents unchanged": len(result.kept)}
    for t in (SOURCE_FILES, DOCUMENTS, REJECTED_FILES):
        yield dg.MaterializeResult(asset_key=[t.stage, t.name],
                                   metadata={"dagster/row_count": counts[t.name], **(extra if t is DOCUMENTS else {})})


def update_per_document(con, stage: str, tables: tuple[Table, ...], rows_for, log) -> int:
    """Bring ``tables`` up to date with the documents, one batch at a time.

    ``rows_for(con, docs)`` returns, per table, the rows of the given
    documents. Returns how many documents were processed.
    """
    for t in tables:
        inc.ensure_table(con, t)
    current = inc.stage_inputs(con, "documents")
    done = inc.stage_inputs(con, stage)
    todo = sorted(d for d, key in current.items() if done.get(d) != key)
    gone = [d for d in done if d not in current]
    for t in tables:
        inc.drop_docs(con, t, todo + gone)
    for i in range(0, len(todo), BATCH_DOCS):
        batch = todo[i:i + BATCH_DOCS]
        con.register("_batch", pa.table({"doc_id": pa.array(batch, pa.string())}))
        try:
            cols = ", ".join(f'"{c}"' for c in DOC_TEXT_COLUMNS)
            docs = [DocText.from_row(r) for r in con.sql(
                f'SELECT {cols} FROM "documents"."documents" WHERE doc_id IN (SELECT doc_id FROM _batch) ORDER BY doc_id'
            ).to_arrow_table().to_pylist()]
        finally:
            con.unregister("_batch")
        for t, rows in zip(tables, rows_for(con, docs)):
            inc.append(con, t, to_arrow(t, rows))
        log(f"{stage}: {min(i + BATCH_DOCS, len(todo))}/{len(todo)} documents")
    for t in tables:
        inc.follow_renames(con, t)
    inc.set_stage_inputs(con, stage, current)
    return len(todo)


@dg.multi_asset(specs=[spec(PARAGRAPHS, [[DOCUMENTS.stage, DOCUMENTS.name]]), spec(SENTENCES, [[DOCUMENTS.stage, DOCUMENTS.name]])])
def segments(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    """Split each document's normalised text into paragraphs and sentences."""

    def rows_for(con, docs):
        return [row for d in docs for row in paragraph_rows(d)], [row for d in docs for row in sentence_rows(d)]

    with connect(warehouse.warehouse_path()) as con, transaction(con):
        processed = update_per_document(con, "segments", (PARAGRAPHS, SENTENCES), rows_for, context.log.info)
        counts = {t.name: inc.count(con, t) for t in (PARAGRAPHS, SENTENCES)}
    for t in (PARAGRAPHS, SENTENCES):
        yield dg.MaterializeResult(asset_key=[t.stage, t.name],
                                   metadata={"dagster/row_count": counts[t.name], "documents processed": processed})
