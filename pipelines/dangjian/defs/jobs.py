"""Jobs: the whole pipeline, from raw files to a release."""
import dagster as dg

build_release = dg.define_asset_job(
    "build_release",
    selection=dg.AssetSelection.all(),
    description="Ingest every file under the raw folder, extract, check and publish a release.",
)

defs = dg.Definitions(jobs=[build_release])
