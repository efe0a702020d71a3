"""Stage 3: facts extracted from the normalised text."""

from collections import defaultdict

import dagster as dg

from dangjian.defs.documents.assets import DOC_TEXT_COLUMNS, spec
from dangjian.defs.resources import WarehouseResource
from dangjian.document import DocText, number_rows
from dangjian.schema import DOCUMENTS, NUMBERS, SENTENCES
from dangjian.warehouse import connect, read_rows, to_arrow, write_table


@dg.multi_asset(specs=[spec(NUMBERS, [[DOCUMENTS.stage, DOCUMENTS.name], [SENTENCES.stage, SENTENCES.name]])])
def numbers(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    """Recognise every numeric expression and type it (quantity, date, ordinal, term …)."""
    with connect(warehouse.warehouse_path()) as con:
        docs = [DocText.from_row(r) for r in read_rows(con, DOCUMENTS, DOC_TEXT_COLUMNS)]
        by_doc = defaultdict(list)
        for s in read_rows(con, SENTENCES, ["doc_id", "sentence_id", "start", "end"]):
            by_doc[s["doc_id"]].append(s)
        rows = []
        for d in docs:
            rows.extend(number_rows(d, sorted(by_doc[d.doc_id], key=lambda s: s["start"])))
        count = write_table(con, NUMBERS, to_arrow(NUMBERS, rows))
    context.log.info(f"{count} numeric expressions in {len(docs)} documents")
    yield dg.MaterializeResult(asset_key=[NUMBERS.stage, NUMBERS.name], metadata={"dagster/row_count": count})
