"""Stage 1–2: raw files → documents (decoded, cleaned, normalised) and their segments."""

import dagster as dg

from dangjian.defs.resources import WarehouseResource
from dangjian.document import DocText, paragraph_rows, sentence_rows
from dangjian.ingest import ingest_folder
from dangjian.schema import DOCUMENTS, PARAGRAPHS, REJECTED_FILES, SENTENCES, SOURCE_FILES
from dangjian.warehouse import connect, read_rows, to_arrow, write_table

DOC_TEXT_COLUMNS = ["doc_id", "source_path", "sha256", "source_text", "clean_text", "text", "offset_map"]


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


@dg.multi_asset(specs=[spec(SOURCE_FILES), spec(DOCUMENTS), spec(REJECTED_FILES)])
def ingest(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    """Read every file under the raw folder; each becomes a document or a rejected file."""
    raw_dir, warehouse_dir = warehouse.raw_path(), warehouse.warehouse_path()
    context.log.info(f"ingesting {raw_dir}")
    result = ingest_folder(raw_dir, progress=context.log.info)
    with connect(warehouse_dir) as con:
        counts = {
            t.name: write_table(con, t, to_arrow(t, getattr(result, t.name)))
            for t in (SOURCE_FILES, DOCUMENTS, REJECTED_FILES)
        }
    for reject in result.rejected_files:
        context.log.warning(f"rejected {reject['path']}: {reject['reason']}")
    for t in (SOURCE_FILES, DOCUMENTS, REJECTED_FILES):
        yield dg.MaterializeResult(asset_key=[t.stage, t.name], metadata={"dagster/row_count": counts[t.name]})


@dg.multi_asset(specs=[spec(PARAGRAPHS, [[DOCUMENTS.stage, DOCUMENTS.name]]), spec(SENTENCES, [[DOCUMENTS.stage, DOCUMENTS.name]])])
def segments(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    """Split each document's normalised text into paragraphs and sentences."""
    with connect(warehouse.warehouse_path()) as con:
        docs = [DocText.from_row(r) for r in read_rows(con, DOCUMENTS, DOC_TEXT_COLUMNS)]
        paragraphs = [row for d in docs for row in paragraph_rows(d)]
        sentences = [row for d in docs for row in sentence_rows(d)]
        counts = {
            PARAGRAPHS.name: write_table(con, PARAGRAPHS, to_arrow(PARAGRAPHS, paragraphs)),
            SENTENCES.name: write_table(con, SENTENCES, to_arrow(SENTENCES, sentences)),
        }
    context.log.info(f"segmented {len(docs)} documents")
    for t in (PARAGRAPHS, SENTENCES):
        yield dg.MaterializeResult(asset_key=[t.stage, t.name], metadata={"dagster/row_count": counts[t.name]})
