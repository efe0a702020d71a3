"""Policy diffusion: which campaign terms travel between documents and places.

``term_diffusion_rows`` groups ``campaign_terms`` by term and by the main
locality of the documents that use them (``documents.main_locality_adcode``;
null when a document's locality is not known) and keeps the terms found in
more than one document or more than one locality.
"""
from __future__ import annotations

from dangjian.document import stable_id

_SQL = """
WITH per_doc AS (
    SELECT term, doc_id, bool_or(is_formula) AS is_formula, count(*) AS mentions
    FROM "extracted"."campaign_terms" GROUP BY term, doc_id
), uses AS (
    SELECT t.term, t.is_formula, t.doc_id, t.mentions,
           d.main_locality_adcode AS locality_adcode, d.main_locality_name AS locality_name, d.published
    FROM per_doc t JOIN "documents"."documents" d USING (doc_id)
), spread AS (
    SELECT term, count(DISTINCT doc_id) AS term_documents, count(DISTINCT locality_adcode) AS term_localities
    FROM uses GROUP BY term
    HAVING count(DISTINCT doc_id) > 1 OR count(DISTINCT locality_adcode) > 1
)
SELECT u.term, bool_or(u.is_formula) AS is_formula, u.locality_adcode,
       any_value(u.locality_name) AS locality_name,
       count(*) AS documents, sum(u.mentions)::BIGINT AS mentions,
       min(u.published) AS first_seen,
       arg_min(u.doc_id, (coalesce(u.published, '9999'), u.doc_id)) AS first_doc_id,
       any_value(s.term_documents) AS term_documents, any_value(s.term_localities) AS term_localities
FROM uses u JOIN spread s USING (term)
GROUP BY u.term, u.locality_adcode
ORDER BY u.term, u.locality_adcode NULLS LAST
"""


def term_diffusion_rows(con) -> list[dict]:
    rows = con.sql(_SQL).to_arrow_table().to_pylist()
    for r in rows:
        r["diffusion_id"] = stable_id("term_diffusion", r["term"], r["locality_adcode"])
    return rows
