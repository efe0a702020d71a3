"""Stage 4: a release of every published table."""

import dagster as dg

from dangjian.defs.resources import WarehouseResource
from dangjian.release import publish
from dangjian.schema import TABLES
from dangjian.warehouse import connect


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
    warehouse_dir = warehouse.warehouse_path()
    with connect(warehouse_dir, read_only=True) as con:
        info = publish(con, warehouse_dir)
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
