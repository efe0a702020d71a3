"""The schedule and the sensor, evaluated the way the Dagster daemon does."""
from __future__ import annotations

import shutil

import dagster as dg
from conftest import RAW

from dangjian.defs.jobs import daily_reingest, raw_folder_changed
from dangjian.defs.resources import WarehouseResource
from dangjian.definitions import defs


def test_schedule_and_sensor_are_registered_and_off_by_default():
    repo = defs.get_repository_def()
    assert repo.get_schedule_def("daily_reingest").default_status == dg.DefaultScheduleStatus.STOPPED
    assert repo.get_sensor_def("raw_folder_changed").default_status == dg.DefaultSensorStatus.STOPPED
    assert daily_reingest.cron_schedule == "0 3 * * *"


def test_sensor_fires_on_add_change_remove_and_not_otherwise(tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(RAW, raw)
    resources = {"warehouse": WarehouseResource(raw_dir=str(raw), warehouse_dir=str(tmp_path / "wh"))}
    cursor = None

    def evaluate():
        nonlocal cursor
        with dg.build_sensor_context(cursor=cursor, resources=resources) as ctx:
            result = raw_folder_changed(ctx)
            cursor = ctx.cursor
        return result

    assert isinstance(evaluate(), dg.RunRequest)  # first look: a run
    assert isinstance(evaluate(), dg.SkipReason)  # nothing changed
    (raw / "new.txt").write_text("海门区新建党群服务中心12个。", encoding="utf-8")
    first = evaluate()
    assert isinstance(first, dg.RunRequest)
    (raw / "new.txt").write_text("海门区新建党群服务中心13个,覆盖率达95%。", encoding="utf-8")
    second = evaluate()
    assert isinstance(second, dg.RunRequest) and second.run_key != first.run_key
    (raw / "new.txt").unlink()
    assert isinstance(evaluate(), dg.RunRequest)
    assert isinstance(evaluate(), dg.SkipReason)
