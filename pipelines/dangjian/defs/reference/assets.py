"""Reference data: the gazetteer of administrative divisions (行政区划).

Loaded from the files vendored under ``dangjian/data/gazetteer`` (see
PROVENANCE.md there); nothing is downloaded. Rewritten only when those files
change, which the content hash of the files tells.
"""
import hashlib

import dagster as dg

from dangjian import incremental as inc
from dangjian.defs.documents.assets import spec
from dangjian.defs.resources import WarehouseResource
from dangjian.reference.gazetteer import DATA_DIR, load_admin_divisions
from dangjian.reference.gazetteer import forget as gazetteer_forget
from dangjian.schema import ADMIN_DIVISIONS
from dangjian.warehouse import connect, transaction, will_write, write_table


def _data_version() -> str:
    h = hashlib.sha256()
    for path in sorted(DATA_DIR.glob("*.parquet")):
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:16]


@dg.multi_asset(specs=[spec(ADMIN_DIVISIONS)])
def admin_divisions(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    """Provinces, prefectures, counties (with their years of validity), towns and villages."""
    version = _data_version()
    with connect(warehouse.warehouse_path(), writes=(ADMIN_DIVISIONS,)) as con, transaction(con):
        done = inc.stage_inputs(con, "reference")
        inc.ensure_table(con, ADMIN_DIVISIONS)
        if done.get("admin_divisions") != version or inc.count(con, ADMIN_DIVISIONS) == 0:
            write_table(con, ADMIN_DIVISIONS, load_admin_divisions())
            gazetteer_forget()  # 200 MB this process needs no more
            inc.release_memory()
            inc.set_stage_inputs(con, "reference", {"admin_divisions": version})
            context.log.info(f"admin_divisions loaded from the vendored gazetteer ({version})")
        else:
            will_write(con, ADMIN_DIVISIONS, docs=())  # unchanged: its fingerprints carry past this step
        count = inc.count(con, ADMIN_DIVISIONS)
    yield dg.MaterializeResult(asset_key=[ADMIN_DIVISIONS.stage, ADMIN_DIVISIONS.name],
                               metadata={"dagster/row_count": count, "data version": version})
