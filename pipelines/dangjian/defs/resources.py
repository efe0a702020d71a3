"""The one resource every asset uses: where the raw folder and the warehouse are."""

import os
from pathlib import Path

import dagster as dg

from dangjian.release import previous_rows
from dangjian.warehouse import resolve_raw_dir, resolve_warehouse_dir

ACCEPT_DROP_ENV = "DANGJIAN_ACCEPT_ROW_DROP"


class WarehouseResource(dg.ConfigurableResource):
    """Locations of the raw articles and of the warehouse.

    Leave a field empty to use ``DANGJIAN_RAW_DIR`` / ``DANGJIAN_WAREHOUSE_DIR``,
    or else ``./raw`` and ``./warehouse``. Resolved when an asset runs, not at
    import, so one code location serves any corpus.
    """

    raw_dir: str = ""
    warehouse_dir: str = ""
    # The volume rule fails a table that lost more than 20% of its rows since
    # the last release. After a deliberate removal, set this (or
    # DANGJIAN_ACCEPT_ROW_DROP=1) for one run to publish anyway.
    accept_row_drop: bool = False
    # Worker processes for batches of documents (0: DANGJIAN_WORKERS, else
    # one per CPU; 1: none) and documents per batch (0: DANGJIAN_BATCH_DOCS,
    # else 500; 250 in facts). See docs/scaling.md.
    workers: int = 0
    batch_docs: int = 0
    # Read and hash every raw file, even those the raw-folder index records
    # unchanged since they were last hashed (same size, times, inode). The
    # daily schedule sets it, so with the schedule on every sha256 is checked
    # at least once a day.
    rehash: bool = False

    def raw_path(self) -> Path:
        return resolve_raw_dir(self.raw_dir or None)

    def warehouse_path(self) -> Path:
        return resolve_warehouse_dir(self.warehouse_dir or None)

    def volume_baseline(self) -> dict[str, int] | None:
        """Rows per table to compare with, or None when a drop is accepted."""
        if self.accept_row_drop or os.environ.get(ACCEPT_DROP_ENV) == "1":
            return None
        return previous_rows(self.warehouse_path())


defs = dg.Definitions(resources={"warehouse": WarehouseResource()})
