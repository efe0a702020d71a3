"""The job, and what starts it: a daily schedule and a raw-folder sensor.

Both are off by default (a fresh `make ui` should not start runs on its own);
turn them on in the UI under Automation.
"""
import hashlib
import os

import dagster as dg

from dangjian.defs.resources import WarehouseResource

build_release = dg.define_asset_job(
    "build_release",
    selection=dg.AssetSelection.all(),
    description="Ingest every file under the raw folder, extract, check and publish a release.",
)

daily_reingest = dg.ScheduleDefinition(
    name="daily_reingest",
    job=build_release,
    cron_schedule="0 3 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    # Other runs trust the raw-folder index for files whose size and times
    # have not changed; once a day every file is read and its sha256 checked.
    run_config={"resources": {"warehouse": {"config": {"rehash": True}}}},
    description="Re-ingest the raw folder every day at 03:00 UTC, reading and hashing every file. "
                "Unchanged documents cost only that hash.",
)


def folder_fingerprint(raw_dir) -> tuple[str, int]:
    """A cheap fingerprint of the raw folder: every path with its size and
    modification time. Any file added, changed or removed changes it."""
    h = hashlib.sha256()
    n = 0
    for root, dirs, files in os.walk(raw_dir, followlinks=False):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(root, name)
            try:
                st = os.lstat(path)
            except OSError:
                continue
            h.update(f"{os.path.relpath(path, raw_dir)}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
            n += 1
    return h.hexdigest(), n


@dg.sensor(
    job=build_release,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Start a run when files under the raw folder are added, changed or removed.",
)
def raw_folder_changed(context: dg.SensorEvaluationContext, warehouse: WarehouseResource):
    fingerprint, files = folder_fingerprint(warehouse.raw_path())
    if fingerprint == context.cursor:
        return dg.SkipReason(f"raw folder unchanged ({files} files)")
    context.update_cursor(fingerprint)
    return dg.RunRequest(run_key=fingerprint, tags={"dangjian/trigger": "raw_folder_changed"})


defs = dg.Definitions(jobs=[build_release], schedules=[daily_reingest], sensors=[raw_folder_changed])
