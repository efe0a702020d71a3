"""Stage 3: facts extracted from the normalised text."""

import dagster as dg

from dangjian import diffusion
from dangjian import incremental as inc
from dangjian.defs.documents.assets import spec, update_per_document
from dangjian.defs.resources import WarehouseResource
from dangjian.document import FACT_TABLE_NAMES, fact_rows
from dangjian.schema import (CAMPAIGN_TERMS, DOCUMENTS, INDICATORS, NUMBERS, ORGANIZATIONS, PEOPLE, PLACES,
                             SENTENCES, TERM_DIFFUSION)
from dangjian.warehouse import committed_state, connect, still_in, transaction

FACT_TABLES = (NUMBERS, INDICATORS, CAMPAIGN_TERMS, PLACES, ORGANIZATIONS, PEOPLE)
assert tuple(t.name for t in FACT_TABLES) == FACT_TABLE_NAMES


@dg.multi_asset(specs=[spec(t, [[DOCUMENTS.stage, DOCUMENTS.name], [SENTENCES.stage, SENTENCES.name]])
                       for t in FACT_TABLES])
def facts(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    """One pass over each new or changed document: every numeric expression,
    typed; the quantities read as indicators (subject, year, hedge, place);
    campaign terms; places linked to the gazetteer; organisations; people."""

    with connect(warehouse.warehouse_path(), writes=FACT_TABLES) as con, transaction(con):
        processed = update_per_document(con, "facts", FACT_TABLES, fact_rows, context.log.info, inputs=(SENTENCES,),
                                        workers=warehouse.workers, place_analyses=True,
                                        batch_docs=inc.batch_size(warehouse.batch_docs, default=inc.FACTS_BATCH_DOCS))
        counts = {t.name: inc.count(con, t) for t in FACT_TABLES}
    context.log.info(", ".join(f"{n} {t}" for t, n in counts.items()) + f"; {processed} documents processed")
    for t in FACT_TABLES:
        yield dg.MaterializeResult(asset_key=[t.stage, t.name],
                                   metadata={"dagster/row_count": counts[t.name], "documents processed": processed})


@dg.asset(key=[TERM_DIFFUSION.stage, TERM_DIFFUSION.name], group_name=TERM_DIFFUSION.stage,
          description=spec(TERM_DIFFUSION).description,
          deps=[[CAMPAIGN_TERMS.stage, CAMPAIGN_TERMS.name], [DOCUMENTS.stage, DOCUMENTS.name]],
          metadata={"dagster/table_name": TERM_DIFFUSION.qualified})
def term_diffusion(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Terms shared by documents or localities, updated by difference: only
    the terms of documents whose campaign terms or document row changed
    since the last update are grouped again (``dangjian.diffusion``)."""
    path = warehouse.warehouse_path()
    # The fingerprints, on a read-only connection: kept for the checks after this step.
    with connect(path, read_only=True) as con:
        now, table_fp = diffusion.basis(con)
        seen = committed_state(con)
    with connect(path, writes=(TERM_DIFFUSION,)) as con, transaction(con):
        if not still_in(con, seen):  # written in between: what was read no longer holds
            now, table_fp = diffusion.basis(con)
        done = diffusion.update(con, now, table_fp)
    how = "rebuilt" if done["rebuilt"] else "updated"
    context.log.info(f"{done['shared_terms']} terms shared across documents or localities ({done['rows']} rows); "
                     f"{how} from {done['documents']} documents and {done['terms']} terms")
    return dg.MaterializeResult(metadata={"dagster/row_count": done["rows"], "terms": done["shared_terms"],
                                          "documents taken again": done["documents"]})
