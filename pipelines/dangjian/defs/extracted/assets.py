"""Stage 3: facts extracted from the normalised text."""
from collections import defaultdict

import dagster as dg
import pyarrow as pa

from dangjian import incremental as inc
from dangjian.defs.documents.assets import spec, update_per_document
from dangjian.defs.resources import WarehouseResource
from dangjian.document import number_rows
from dangjian.schema import DOCUMENTS, NUMBERS, SENTENCES
from dangjian.warehouse import connect, transaction


def _sentences_of(con, doc_ids: list[str]) -> dict[str, list[dict]]:
    con.register("_ids", pa.table({"doc_id": pa.array(doc_ids, pa.string())}))
    try:
        rows = con.sql('SELECT doc_id, sentence_id, start, "end" FROM "documents"."sentences" '
                       "WHERE doc_id IN (SELECT doc_id FROM _ids) ORDER BY doc_id, start").to_arrow_table().to_pylist()
    finally:
        con.unregister("_ids")
    by_doc = defaultdict(list)
    for s in rows:
        by_doc[s["doc_id"]].append(s)
    return by_doc


@dg.multi_asset(specs=[spec(NUMBERS, [[DOCUMENTS.stage, DOCUMENTS.name], [SENTENCES.stage, SENTENCES.name]])])
def numbers(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    """Recognise every numeric expression and type it (quantity, date, ordinal, term …)."""

    def rows_for(con, docs):
        sentences = _sentences_of(con, [d.doc_id for d in docs])
        return ([row for d in docs for row in number_rows(d, sentences[d.doc_id])],)

    with connect(warehouse.warehouse_path()) as con, transaction(con):
        processed = update_per_document(con, "numbers", (NUMBERS,), rows_for, context.log.info)
        count = inc.count(con, NUMBERS)
    context.log.info(f"{count} numeric expressions; {processed} documents processed")
    yield dg.MaterializeResult(asset_key=[NUMBERS.stage, NUMBERS.name],
                               metadata={"dagster/row_count": count, "documents processed": processed})
