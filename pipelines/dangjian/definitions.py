"""The Dagster code location: everything under ``dangjian/defs``.

Each module in ``defs/`` holds its assets and asset checks, and may define a
module-level ``defs`` (resources, jobs). Adding a module there adds it here;
nothing else is listed by hand.
"""
import importlib
import pkgutil

import dagster as dg

import dangjian.defs
from dangjian.incremental import use_system_allocator

use_system_allocator()  # every process that runs the pipeline's steps imports this module


def _modules():
    for info in pkgutil.walk_packages(dangjian.defs.__path__, prefix="dangjian.defs."):
        yield importlib.import_module(info.name)


def _module_defs(modules) -> list[dg.Definitions]:
    return [m.defs for m in modules if isinstance(getattr(m, "defs", None), dg.Definitions)]


def assets_and_checks() -> list:
    """Every asset and asset check, without resources bound (for ``dg.materialize``)."""
    modules = list(_modules())
    return [
        *dg.load_assets_from_modules(modules),
        *dg.load_asset_checks_from_modules(modules),
        *(c for d in _module_defs(modules) for c in (d.asset_checks or [])),
    ]


def load() -> dg.Definitions:
    modules = list(_modules())
    return dg.Definitions.merge(
        dg.Definitions(
            assets=dg.load_assets_from_modules(modules),
            asset_checks=dg.load_asset_checks_from_modules(modules),
            # One writer at a time for the working DuckDB file: steps run in one process.
            executor=dg.in_process_executor,
        ),
        *_module_defs(modules),
    )


defs = load()
