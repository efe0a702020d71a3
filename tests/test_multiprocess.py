"""The same definitions under Dagster's multiprocess executor: every step in
its own process, two at a time, sharing the working database safely."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import dagster as dg
from conftest import RAW

from dangjian.release import list_releases


def test_multiprocess_run_publishes_the_same_release(tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(RAW, raw)
    config = {
        # Each step is still a process of its own, forked from a server that has
        # imported Dagster and the pipeline once (107 s -> 79 s on the seeds).
        "execution": {"config": {
            "max_concurrent": 2,
            "start_method": {"forkserver": {"preload_modules": ["dangjian.definitions"]}},
        }},
        "resources": {"warehouse": {"config": {"raw_dir": str(raw), "warehouse_dir": str(tmp_path / "wh")}}},
    }
    (tmp_path / "dagster").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "dagster")) as instance:
        # Each step's process rebuilds the job from tests/multiprocess_job.py.
        job = dg.build_reconstructable_job("multiprocess_job", "job",
                                           reconstructor_working_directory=str(Path(__file__).parent))
        result = dg.execute_job(job, instance=instance, run_config=config)
        assert result.success
        steps = {e.step_key for e in result.all_events if e.event_type_value == "STEP_SUCCESS"}
        pids = {e.step_key: e.pid for e in result.all_events if e.event_type_value == "STEP_START"}
    assert len(steps) >= 10  # assets and checks each ran as a step (process) of their own
    assert len(set(pids.values())) == len(pids) == len(steps) and os.getpid() not in pids.values()
    # The same content as an in-process run over the same folder.
    from test_pipeline import materialize

    materialize(raw, tmp_path / "wh_in_process")
    assert list_releases(tmp_path / "wh")[-1]["content_hash"] == list_releases(tmp_path / "wh_in_process")[-1]["content_hash"]
