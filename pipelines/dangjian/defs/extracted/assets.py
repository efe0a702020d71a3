"""Stage 3: facts extracted from the normalised text."""
from collections import defaultdict

import dagster as dg
import pyarrow as pa

from dangjian import incremental as inc
from dangjian.defs.documents.assets import spec, update_per_document
from dangjian.defs.resources import WarehouseResource
from dangjian.diffusion import term_diffusion_rows
from dangjian.document import (indicator_rows, number_rows, organization_rows, person_rows, place_rows,
                                term_rows)
from dangjian.schema import (CAMPAIGN_TERMS, DOCUMENTS, INDICATORS, NUMBERS, ORGANIZATIONS, PEOPLE, PLACES,
                             SENTENCES, TERM_DIFFUSION)
from dangjian.text.numbers import find_numbers
from dangjian.text.organizations import find_organizations
from dangjian.text.people import find_people
from dangjian.text.places import analyse_places
from dangjian.warehouse import connect, to_arrow, transaction, write_table

FACT_TABLES = (NUMBERS, INDICATORS, CAMPAIGN_TERMS, PLACES, ORGANIZATIONS, PEOPLE)


def _per_doc(con, sql: str, doc_ids: list[str]) -> dict[str, list[dict]]:
    """Rows of ``sql`` (which reads ``_ids``) grouped by doc_id."""
    con.register("_ids", pa.table({"doc_id": pa.array(doc_ids, pa.string())}))
    try:
        rows = con.sql(sql).to_arrow_table().to_pylist()
    finally:
        con.unregister("_ids")
    by_doc = defaultdict(list)
    for r in rows:
        by_doc[r["doc_id"]].append(r)
    return by_doc


@dg.multi_asset(specs=[spec(t, [[DOCUMENTS.stage, DOCUMENTS.name], [SENTENCES.stage, SENTENCES.name]])
                       for t in FACT_TABLES])
def facts(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    """One pass over each new or changed document: every numeric expression,
    typed; the quantities read as indicators (subject, year, hedge, place);
    campaign terms; places linked to the gazetteer; organisations; people."""

    def rows_for(con, docs):
        ids = [d.doc_id for d in docs]
        sentences = _per_doc(con, 'SELECT doc_id, sentence_id, start, "end" FROM "documents"."sentences" '
                                  "WHERE doc_id IN (SELECT doc_id FROM _ids) ORDER BY doc_id, start", ids)
        published = {r["doc_id"]: r["published"] for rs in _per_doc(
            con, 'SELECT doc_id, published FROM "documents"."documents" WHERE doc_id IN (SELECT doc_id FROM _ids)', ids
        ).values() for r in rs}
        out = tuple([] for _ in FACT_TABLES)
        for d in docs:
            sents, date = sentences[d.doc_id], published.get(d.doc_id)
            mentions, places, orgs = find_numbers(d.text), analyse_places(d.text, date), find_organizations(d.text)
            people = find_people(d.text, orgs)
            for rows, new in zip(out, (number_rows(d, sents, mentions),
                                       indicator_rows(d, sents, date, mentions, places),
                                       term_rows(d, sents),
                                       place_rows(d, sents, places, orgs, people),
                                       organization_rows(d, sents, places, orgs),
                                       person_rows(d, sents, places, orgs, people))):
                rows += new
        return out

    with connect(warehouse.warehouse_path()) as con, transaction(con):
        processed = update_per_document(con, "facts", FACT_TABLES, rows_for, context.log.info)
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
    """Terms shared by documents or localities, rebuilt whole: it is small and
    every new document can change any row."""
    with connect(warehouse.warehouse_path()) as con, transaction(con):
        rows = term_diffusion_rows(con)
        write_table(con, TERM_DIFFUSION, to_arrow(TERM_DIFFUSION, rows))
    terms = len({r["term"] for r in rows})
    context.log.info(f"{terms} terms shared across documents or localities ({len(rows)} rows)")
    return dg.MaterializeResult(metadata={"dagster/row_count": len(rows), "terms": terms})
