"""Policy diffusion: which campaign terms travel between documents and places.

``term_diffusion`` groups ``campaign_terms`` by term and by the main
locality of the documents that use them (``documents.main_locality_adcode``;
null when a document's locality is not known) and keeps the terms found in
more than one document or more than one locality.

:func:`term_diffusion_rows` says what the table holds, from the two tables
whole. A run updates the table by difference instead (:func:`update`):

- ``state.term_uses`` keeps one row per term and document, what the table is
  grouped from (the term, its mentions, the document's locality and date);
- ``state.term_basis`` keeps, per document, the row fingerprints of its
  campaign terms and its document row (``warehouse.row_fingerprints``) as
  they were when its uses were last taken;
- a document whose fingerprints differ now (new, changed, removed, or
  edited by hand) has its uses taken again, and only the terms it used
  before or uses now are grouped again.

The fingerprints are those the run's checks read anyway, taken once per
database state, so the step costs what the changed documents and their
terms cost, not what the corpus does. The table is rebuilt whole when it is
not what the last update left (missing, or changed by hand) or when this
module's grouping changed.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pyarrow as pa

from dangjian.document import stable_id
from dangjian.incremental import create_empty, table_exists
from dangjian.schema import CAMPAIGN_TERMS, DOCUMENTS, TERM_DIFFUSION
from dangjian.warehouse import row_fingerprints, table_fingerprint, will_write

# One row per term and document: what the table is grouped from.
_USES = """
SELECT t.term, t.is_formula, t.doc_id, t.mentions,
       d.main_locality_adcode AS locality_adcode, d.main_locality_name AS locality_name, d.published
FROM (SELECT term, doc_id, bool_or(is_formula) AS is_formula, count(*) AS mentions
      FROM "extracted"."campaign_terms" {where} GROUP BY term, doc_id) t
JOIN "documents"."documents" d USING (doc_id)
"""

# The table's rows for the terms in {uses}.
_GROUPED = """
WITH uses AS ({uses}), spread AS (
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

_AFFECTED = "EXISTS (SELECT 1 FROM _terms x WHERE x.term IS NOT DISTINCT FROM {t}.term)"
USES = '"state"."term_uses"'
BASIS = '"state"."term_basis"'
#: Changes with this module and with the table's schema: the state tables are then rebuilt.
VERSION = hashlib.sha256(Path(__file__).read_bytes() + str(TERM_DIFFUSION.arrow_schema).encode()).hexdigest()[:16]
_TABLE = f'"{TERM_DIFFUSION.stage}"."{TERM_DIFFUSION.name}"'
_BASIS_SCHEMA = pa.schema([("doc_id", pa.string()), ("terms_n", pa.int64()), ("terms_h", pa.uint64()),
                           ("doc_n", pa.int64()), ("doc_h", pa.uint64())])


def _with_ids(data: pa.Table) -> list[dict]:
    rows = data.to_pylist()
    for r in rows:
        r["diffusion_id"] = stable_id("term_diffusion", r["term"], r["locality_adcode"])
    return rows


def term_diffusion_rows(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """Every row of ``term_diffusion``, from ``campaign_terms`` and ``documents`` whole."""
    return _with_ids(con.sql(_GROUPED.format(uses=_USES.format(where=""))).to_arrow_table())


def basis(con: duckdb.DuckDBPyConnection) -> tuple[pa.Table, str | None]:
    """Per document, the fingerprints of its campaign terms and of its
    document row, and the fingerprint of ``term_diffusion`` as it stands
    (None when there is no such table). Take it on a read-only connection,
    where the fingerprints are kept for the run's checks."""
    terms = row_fingerprints(con, CAMPAIGN_TERMS)
    docs = row_fingerprints(con, DOCUMENTS)
    present = table_exists(con, TERM_DIFFUSION.stage, TERM_DIFFUSION.name)
    table = table_fingerprint(row_fingerprints(con, TERM_DIFFUSION)) if present else None
    con.register("_t", terms)
    con.register("_d", docs)
    try:
        now = con.sql("SELECT doc_id, _t.n AS terms_n, _t.h AS terms_h, _d.n AS doc_n, _d.h AS doc_h "
                      "FROM _t FULL OUTER JOIN _d USING (doc_id) WHERE doc_id IS NOT NULL").to_arrow_table()
    finally:
        con.unregister("_t")
        con.unregister("_d")
    return now.cast(_BASIS_SCHEMA), table


def _meta(con: duckdb.DuckDBPyConnection) -> tuple[str, str] | None:
    con.execute('CREATE SCHEMA IF NOT EXISTS "state"')
    con.execute('CREATE TABLE IF NOT EXISTS "state"."term_diffusion_meta" (version VARCHAR, table_fingerprint VARCHAR)')
    rows = con.execute('SELECT version, table_fingerprint FROM "state"."term_diffusion_meta"').fetchall()
    return rows[0] if rows else None


def update(con: duckdb.DuckDBPyConnection, now: pa.Table, table_fp: str | None) -> dict:
    """Bring ``term_diffusion`` up to date with the documents whose
    fingerprints in ``now`` (from :func:`basis`, taken in the state ``con``
    sees: take them again on ``con`` if anything wrote the file since)
    differ from those of the last update. Returns what it did: the
    documents and terms it took again, and whether it rebuilt the table."""
    will_write(con, TERM_DIFFUSION)
    last = _meta(con)
    states = all(table_exists(con, "state", name) for name in ("term_uses", "term_basis"))
    rebuild = table_fp is None or last != (VERSION, table_fp) or not states
    if rebuild:
        con.execute(f"CREATE OR REPLACE TABLE {USES} AS {_USES.format(where='WHERE false')}")
        create_empty(con, "state", "term_basis", _BASIS_SCHEMA, replace=True)
    con.register("_now", now)
    try:
        con.execute(f"""CREATE OR REPLACE TEMP TABLE _changed AS
            SELECT doc_id FROM _now FULL OUTER JOIN {BASIS} b USING (doc_id)
            WHERE b.doc_id IS NULL OR _now.doc_id IS NULL
               OR _now.terms_n IS DISTINCT FROM b.terms_n OR _now.terms_h IS DISTINCT FROM b.terms_h
               OR _now.doc_n IS DISTINCT FROM b.doc_n OR _now.doc_h IS DISTINCT FROM b.doc_h""")
        changed = con.execute("SELECT count(*) FROM _changed").fetchall()[0][0]
        in_changed = "WHERE doc_id IN (SELECT doc_id FROM _changed)"
        con.execute(f"""CREATE OR REPLACE TEMP TABLE _terms AS
            SELECT term FROM {USES} {in_changed}
            UNION SELECT term FROM "extracted"."campaign_terms" {in_changed}""")
        terms = con.execute("SELECT count(*) FROM _terms").fetchall()[0][0]
        con.execute(f"DELETE FROM {USES} {in_changed}")
        con.execute(f"INSERT INTO {USES} {_USES.format(where=in_changed)}")
        con.execute(f"DELETE FROM {BASIS} {in_changed}")
        con.execute(f"INSERT INTO {BASIS} SELECT * FROM _now {in_changed}")
    finally:
        con.unregister("_now")
    # A term is compared with IS NOT DISTINCT FROM, so that a null term (a
    # defect the checks report) is regrouped like any other and empties nothing.
    grouped = _with_ids(con.sql(_GROUPED.format(
        uses=f"SELECT * FROM {USES} u WHERE {_AFFECTED.format(t='u')}")).to_arrow_table())
    fresh = pa.Table.from_pylist(grouped, schema=TERM_DIFFUSION.arrow_schema)
    con.register("_fresh", fresh)
    try:
        kept = "SELECT * FROM _fresh"
        if not rebuild:
            kept += f" UNION ALL BY NAME SELECT * FROM {_TABLE} d WHERE NOT {_AFFECTED.format(t='d')}"
        # Written whole in key order, as a rebuild writes it: the table is
        # small (terms by localities), and its order is then the same however
        # it was reached.
        con.execute(f'CREATE OR REPLACE TEMP TABLE _next AS SELECT * FROM ({kept}) ORDER BY "{TERM_DIFFUSION.key}"')
        con.execute(f'CREATE SCHEMA IF NOT EXISTS "{TERM_DIFFUSION.stage}"')
        con.execute(f"CREATE OR REPLACE TABLE {_TABLE} AS SELECT * FROM _next")
    finally:
        con.unregister("_fresh")
    for temp in ("_changed", "_terms", "_next"):
        con.execute(f"DROP TABLE IF EXISTS {temp}")
    written = table_fingerprint(row_fingerprints(con, TERM_DIFFUSION))
    con.execute('DELETE FROM "state"."term_diffusion_meta"')
    con.execute('INSERT INTO "state"."term_diffusion_meta" VALUES (?, ?)', [VERSION, written])
    [(rows, shared)] = con.execute(f"SELECT count(*), count(DISTINCT term) FROM {_TABLE}").fetchall()
    return {"documents": changed, "terms": terms, "rebuilt": rebuild, "rows": rows, "shared_terms": shared}
