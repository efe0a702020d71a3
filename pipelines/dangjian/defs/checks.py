"""Cheap blocking checks on every table, applied in one place.

They run right after a table is written and, when one fails, stop the run
before the release step, so a broken table never reaches ``latest``:

- the key is never null and never repeated;
- rows that point into a document point at one that exists, and their
  offsets lie inside its text (``0 <= start <= end <= chars``) and inside
  its source (``source_end <= source_chars``);
- ``documents`` is not empty (a run that ingested nothing is a failed run).

The Great Expectations suites (``expectations/<table>.json``) are the deeper
layer: per table, a multi-check validates the table where it lies in the
working database and reports a blocking ``expectations`` check (critical
rules) and a non-blocking ``expectations_warnings`` check (the rest). Only
rows not validated before are validated (``validate.validate_warehouse``);
the release gate reuses these outcomes instead of validating again.
"""

import dagster as dg

from dangjian.defs.resources import WarehouseResource
from dangjian.schema import DOCUMENTS, TABLES, Table
from dangjian.warehouse import VALIDATION_CACHE, connect


def problems(con, table: Table) -> dict[str, int]:
    """Counts of rows that break each rule; all zero means the table is sound."""
    name = f'"{table.stage}"."{table.name}"'
    key = f'"{table.key}"'
    # One pass over the keys, and one join with the documents for both rules
    # on them: at 80,000 documents the four queries per table these were took
    # about 1.5 s of a re-run.
    rows, nulls, duplicates = con.execute(
        f"SELECT count(*), count(*) - count({key}), count(*) - count(DISTINCT {key}) FROM {name}").fetchone()
    found = {"null_keys": nulls, "duplicate_keys": duplicates}
    if "start" in table.column_names:
        docs = f'"{DOCUMENTS.stage}"."{DOCUMENTS.name}"'
        found["orphan_rows"], found["offsets_outside_text"] = con.execute(
            f"SELECT count(*) FILTER (WHERE d.doc_id IS NULL), "
            f'count(*) FILTER (WHERE d.doc_id IS NOT NULL AND (t.start < 0 OR t.start > t."end" OR t."end" > d.chars '
            f"OR t.source_start < 0 OR t.source_start > t.source_end OR t.source_end > d.source_chars)) "
            f"FROM {name} t LEFT JOIN {docs} d USING (doc_id)"
        ).fetchone()
    if table is DOCUMENTS:
        found["empty_table"] = int(rows == 0)
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
