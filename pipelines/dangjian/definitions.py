"""The Dagster code location: everything under ``dangjian/defs``."""
import dagster as dg

import dangjian.defs

defs = dg.Definitions.merge(
    dg.load_defs(defs_root=dangjian.defs),
    # One writer at a time for the working DuckDB file: steps run in one process.
    dg.Definitions(executor=dg.in_process_executor),
)
