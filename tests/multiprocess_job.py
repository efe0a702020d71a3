"""A reconstructable copy of the pipeline's job on Dagster's multiprocess
executor, for test_multiprocess.py (each step runs in its own process)."""
import dagster as dg

from dangjian.definitions import assets_and_checks
from dangjian.defs.resources import WarehouseResource


def defs() -> dg.Definitions:
    return dg.Definitions(
        assets=[a for a in assets_and_checks() if not isinstance(a, dg.AssetChecksDefinition)],
        asset_checks=[a for a in assets_and_checks() if isinstance(a, dg.AssetChecksDefinition)],
        jobs=[dg.define_asset_job("build_release_mp", selection=dg.AssetSelection.all(),
                                  executor_def=dg.multiprocess_executor)],
        resources={"warehouse": WarehouseResource()},
    )


def job():
    return defs().resolve_job_def("build_release_mp")
