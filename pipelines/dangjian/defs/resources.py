"""The one resource every asset uses: where the raw folder and the warehouse are."""

from pathlib import Path

import dagster as dg

from dangjian.warehouse import resolve_raw_dir, resolve_warehouse_dir


class WarehouseResource(dg.ConfigurableResource):
    """Locations of the raw articles and of the warehouse.

    Leave a field empty to use ``DANGJIAN_RAW_DIR`` / ``DANGJIAN_WAREHOUSE_DIR``,
    or else ``./raw`` and ``./warehouse``. Resolved when an asset runs, not at
    import, so one code location serves any corpus.
    """

    raw_dir: str = ""
    warehouse_dir: str = ""

    def raw_path(self) -> Path:
        return resolve_raw_dir(self.raw_dir or None)

    def warehouse_path(self) -> Path:
        return resolve_warehouse_dir(self.warehouse_dir or None)


defs = dg.Definitions(resources={"warehouse": WarehouseResource()})
