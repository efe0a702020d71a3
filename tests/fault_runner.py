"""Run ``dangjian run`` and SIGKILL this very process at a chosen point.

Used by test_faults.py as a subprocess: ``python fault_runner.py POINT RAW WAREHOUSE``.
The points wrap real library calls, so the kill lands exactly where a crash
or an operator's kill -9 could: while a table is written, while worker
processes hold batches, between Parquet files, just before the release folder
is renamed into place, before ``latest`` is switched, and before the
published database is swapped in.
"""
import os
import signal
import sys

POINT, RAW, WAREHOUSE = sys.argv[1:4]


def die():
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def install(point: str) -> None:
    import dangjian.incremental as incremental
    import dangjian.release as release

    if point == "while_writing_sentences":
        real = incremental.append

        def append(con, table, data):
            if table.name == "sentences":
                con.execute('DELETE FROM "documents"."paragraphs"')  # damage inside the step's open transaction
                die()
            return real(con, table, data)

        incremental.append = append
    elif point == "while_workers_run":
        # Batches of one document on two workers, and every document to do (as
        # after a change to the processing code): the kill lands while workers
        # hold batches. Their PIDs go to a file, so the test can see them gone.
        os.environ["DANGJIAN_BATCH_DOCS"], os.environ["DANGJIAN_WORKERS"] = "1", "2"
        incremental.code_version = lambda: "code of the killed run"
        real, appended = incremental.append, []

        def append(con, table, data):
            appended.append(table.name)
            if appended.count("sentences") == 2:
                with open(os.path.join(WAREHOUSE, "worker-pids.txt"), "w") as f:
                    f.write(" ".join(str(pid) for pid in incremental._POOL._processes))
                die()
            return real(con, table, data)

        incremental.append = append
    elif point == "after_two_batches":
        # Batches of one document, no workers: killed as the third batch of
        # segments is written, after the first two were committed.
        os.environ["DANGJIAN_BATCH_DOCS"], os.environ["DANGJIAN_WORKERS"] = "1", "1"
        real, appended = incremental.append, []

        def append(con, table, data):
            appended.append(table.name)
            if appended.count("sentences") == 3:
                die()
            return real(con, table, data)

        incremental.append = append
    elif point == "between_parquet_files":
        real_parquet, calls = release.write_parquet, []

        def write_parquet(table, data, path):
            calls.append(table.name)
            if len(calls) == 3:
                die()
            return real_parquet(table, data, path)

        release.write_parquet = write_parquet
    else:
        real_rename, real_replace = os.rename, os.replace
        target = {"before_release_rename": None, "before_latest_switch": "latest",
                  "before_database_swap": "dangjian.duckdb"}[point]

        def rename(src, dst, *a, **k):
            if target is None and os.path.basename(str(src)).startswith(".staging-"):
                die()
            return real_rename(src, dst, *a, **k)

        def replace(src, dst, *a, **k):
            if target is not None and os.path.basename(str(dst)) == target:
                die()
            return real_replace(src, dst, *a, **k)

        os.rename, os.replace = rename, replace


if __name__ == "__main__":  # worker processes import this file again; they must not start a run
    install(POINT)
    from dangjian.cli import main  # after the patches, as a user's run would import it

    sys.exit(main(["run", "--raw-dir", RAW, "--warehouse-dir", WAREHOUSE, "--log-level", "WARNING"]))
