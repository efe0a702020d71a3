"""Cheap blocking checks on every table, applied in one place.

They run right after a table is written and, when one fails, stop the run
before the release step, so a broken table never reaches ``latest``:

- the key is never null and never repeated;
- rows that point into a document point at one that exists, and their
  offsets lie inside its text (``0 <= start <= end <= chars``) and inside
  its source (``source_end <= source_chars``);
- ``documents`` is not empty (a run that ingested nothing is a failed run).

After a state in which they all held, they look only at the documents that
changed since (``work/sound/<table>.arrow`` keeps that state's row
fingerprints), so adding one file does not count every key of every table
again; the counts are those of the whole table (see :func:`problems`).

The Great Expectations suites (``expectations/<table>.json``) are the deeper
layer: per table, a multi-check validates the table where it lies in the
working database and reports a blocking ``expectations`` check (critical
rules) and a non-blocking ``expectations_warnings`` check (the rest). Only
rows not validated before are validated (``validate.validate_warehouse``);
the release gate reuses these outcomes instead of validating again.
"""

import hashlib
from pathlib import Path

import dagster as dg
import numpy as np
import pyarrow as pa

from dangjian.defs.resources import WarehouseResource
from dangjian.schema import DOCUMENTS, TABLES, Table
from dangjian.warehouse import (VALIDATION_CACHE, DocFingerprints, connect, doc_fingerprints, load_doc_fingerprints,
                                save_doc_fingerprints)


#: Folder (under the warehouse) of each table's basis: the per-document row
#: fingerprints of the last state in which every rule held.
SOUND_BASIS = Path("work") / "sound"
# Changes with this module: a basis kept under other rules is not used.
_MODULE = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]


def _rules(table: Table) -> str:
    """What a table's basis holds good for: these rules, on this key, over these parts."""
    parts = ["rows", "documents"] if "start" in table.column_names else ["rows"]
    return f"{_MODULE}:{table.key}:{','.join(parts)}"


def problems(con, table: Table, basis_dir: Path | None = None) -> dict[str, int]:
    """Counts of rows that break each rule; all zero means the table is sound.

    Given ``basis_dir``, the rules are applied by difference from the last
    state in which they all held there (see :func:`_changed_docs`), and a
    sound state is kept as the next basis. The counts are the same as over
    the whole table."""
    if "doc_id" not in table.column_names:
        basis_dir = None  # small tables, not split by document: counted whole
    basis = load_doc_fingerprints(basis_dir / f"{table.name}.arrow", _rules(table)) if basis_dir is not None else None
    fps = _fingerprints(con, table)
    if basis is None:
        found = _count(con, table, None, fps)
    else:
        found = _count(con, table, _changed_docs(fps, basis), fps)
    if basis_dir is not None and not any(found.values()):
        save_doc_fingerprints(basis_dir / f"{table.name}.arrow", fps, _rules(table))
    return found


def _fingerprints(con, table: Table) -> dict[str, DocFingerprints]:
    """What the rules read, per document: the table's rows and, for rows
    that point into documents, the documents' rows (taken once per database
    state, shared with validation: ``warehouse.row_fingerprints``)."""
    fps = {"rows": doc_fingerprints(con, table)}
    if "start" in table.column_names:
        fps["documents"] = doc_fingerprints(con, DOCUMENTS)
    return fps


def _changed_docs(now: dict[str, DocFingerprints], basis: dict[str, DocFingerprints]) -> pa.Array:
    """The documents of the table whose rows, or whose document row, differ
    from the basis. When every rule held in the basis, every row that breaks
    one now is a row of these documents, or, for a repeated key, shares its
    key with one: a document whose rows and document row are as they were
    has rows that broke no rule and still point at that document row."""
    rows = now["rows"]
    differ = np.zeros(len(rows), dtype=bool)
    for part, fps in now.items():
        n, h = fps.at(rows.docs)
        was_n, was_h = basis[part].at(rows.docs)
        differ |= (n != was_n) | (h != was_h)
    return rows.docs.filter(pa.array(differ))


def _count(con, table: Table, docs: pa.Array | None, fps: dict[str, DocFingerprints]) -> dict[str, int]:
    """The counts over the whole table (``docs`` None) or over the rows of
    ``docs`` and, for repeated keys, the rows that share their keys."""
    name = f'"{table.stage}"."{table.name}"'
    key = f'"{table.key}"'
    if docs is None:
        rows, mine = name, name
    else:
        con.register("_sound_docs", pa.table({"doc_id": docs.drop_null().cast(pa.string())}))
        where = "doc_id IN (SELECT doc_id FROM _sound_docs)" + (" OR doc_id IS NULL" if docs.null_count else "")
        mine = f"(SELECT * FROM {name} WHERE {where})"
        rows = f"(SELECT * FROM {name} WHERE {where} OR {key} IN (SELECT {key} FROM {mine}))"
    try:
        # One pass over the keys, and one join with the documents for both
        # rules on them: at 80,000 documents the four queries per table
        # these were took about 1.5 s of a re-run.
        nulls = con.execute(f"SELECT count(*) - count({key}) FROM {mine}").fetchall()[0][0]
        duplicates = con.execute(f"SELECT count(*) - count(DISTINCT {key}) FROM {rows}").fetchall()[0][0]
        found = {"null_keys": nulls, "duplicate_keys": duplicates}
        if "start" in table.column_names:
            docs_table = f'"{DOCUMENTS.stage}"."{DOCUMENTS.name}"'
            [(found["orphan_rows"], found["offsets_outside_text"])] = con.execute(
                f"SELECT count(*) FILTER (WHERE d.doc_id IS NULL), "
                f'count(*) FILTER (WHERE d.doc_id IS NOT NULL AND (t.start < 0 OR t.start > t."end" OR t."end" > d.chars '
                f"OR t.source_start < 0 OR t.source_start > t.source_end OR t.source_end > d.source_chars)) "
                f"FROM {mine} t LEFT JOIN {docs_table} d USING (doc_id)"
            ).fetchall()
    finally:
        if docs is not None:
            con.unregister("_sound_docs")
    if table is DOCUMENTS:
        found["empty_table"] = int(fps["rows"].rows == 0)
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
            found = problems(con, table, warehouse.warehouse_path() / SOUND_BASIS)
        return dg.AssetCheckResult(
            passed=not any(found.values()),
            metadata={k: int(v) for k, v in found.items()},
            description=", ".join(f"{k}: {v}" for k, v in found.items() if v) or "all rules hold",
        )

    return check


def _outcome_metadata(outcomes) -> dict:
    return {
        "failed": len(outcomes),
        "details": dg.MetadataValue.md(
            "\n".join(f"- `{o.expectation}` on `{o.column}`: {o.observed}" for o in outcomes[:20]) or "none"
        ),
    }


def _expectations_for(table: Table) -> dg.AssetChecksDefinition:
    key = dg.AssetKey([table.stage, table.name])

    @dg.multi_asset_check(
        name=f"{table.name}_expectations",
        specs=[
            dg.AssetCheckSpec("expectations", asset=key, blocking=True,
                              description=f"Critical rules of expectations/{table.name}.json (Great Expectations)."),
            dg.AssetCheckSpec("expectations_warnings", asset=key,
                              description=f"Non-critical rules of expectations/{table.name}.json: warnings."),
        ],
    )
    def check(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource):
        from dangjian.validate import validate_warehouse

        warehouse_dir = warehouse.warehouse_path()
        # Every table a suite reads is written in the same step as the checked
        # table or before it, so checking never waits on a later step. The
        # outcomes are kept by fingerprint: the release gate finds them and
        # does not validate these rows again, nor does the next run.
        with connect(warehouse_dir, read_only=True) as con:
            r = validate_warehouse(con, warehouse_dir / VALIDATION_CACHE, [table.name], warehouse.volume_baseline(),
                                   log=context.log.info)[table.name]
        yield dg.AssetCheckResult(asset_key=key, check_name="expectations", passed=not r.failed_critical,
                                  metadata={"rows": r.rows, "expectations": len(r.outcomes), **_outcome_metadata(r.failed_critical)})
        yield dg.AssetCheckResult(asset_key=key, check_name="expectations_warnings", passed=not r.failed_warnings,
                                  severity=dg.AssetCheckSeverity.WARN, metadata=_outcome_metadata(r.failed_warnings))

    return check


defs = dg.Definitions(asset_checks=[c for t in TABLES for c in (_check_for(t), _expectations_for(t))])
