"""Stage 4: a release of every published table."""

import dagster as dg

from dangjian.defs.resources import WarehouseResource
from dangjian.release import publish
from dangjian.schema import TABLES
from dangjian.warehouse import VALIDATION_CACHE, connect, save_fingerprints


@dg.asset(
    key=["released", "release"],
    group_name="released",
    deps=[[t.stage, t.name] for t in TABLES],
)
def release(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """A versioned release in ``warehouse/releases/<version>/``: one zstd Parquet
    file per table, ``release.json`` and ``SHA256SUMS``; ``releases/latest``
    and the read-only ``warehouse/dangjian.duckdb`` point at it.

    发布版本:每表一个 Parquet 文件,并更新 latest 与只读数据库。"""
    from dangjian.validate import report_html, validate_warehouse

    warehouse_dir = warehouse.warehouse_path()
    with connect(warehouse_dir, read_only=True) as con:
        # The gate: whatever was or was not checked earlier in this run, no
        # table with a failed critical expectation is published. Rows the
        # checks already validated are not validated again (their outcomes
        # are found by fingerprint); anything else, e.g. a table changed
        # since, is.
        results = validate_warehouse(con, warehouse_dir / VALIDATION_CACHE, None, warehouse.volume_baseline(),
                                     log=context.log.info)
        failed = {name: r.failed_critical for name, r in results.items() if r.failed_critical}
        if failed:
            summary = "; ".join(f"{name}: " + ", ".join(f"{o.expectation}({o.column})" for o in outs[:5])
                                for name, outs in failed.items())
            raise dg.Failure(description=f"critical expectations failed, nothing published: {summary}")
        info = publish(con, warehouse_dir, validation_html=report_html(results, "dangjian validation report"),
                       log=context.log.info, workers=warehouse.workers)
        # Every table's fingerprints, for the next run to start from (warehouse.save_fingerprints)
        save_fingerprints(con)
    verb = "published" if info.created else "unchanged, still"
    context.log.info(f"{verb} release {info.version} at {info.path}")
    return dg.MaterializeResult(
        metadata={
            "version": info.version,
            "new_release": info.created,
            "path": dg.MetadataValue.path(str(info.path)),
            **{f"rows/{name}": n for name, n in info.rows.items()},
        }
    )
