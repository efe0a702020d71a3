"""Stage 1–2: raw files → documents (decoded, cleaned, normalised) and their segments.

Re-runs are incremental (see ``dangjian.incremental``): only new or changed
documents are processed; rows of removed documents are deleted.
"""

import time
from collections.abc import Callable

import dagster as dg
import pyarrow as pa

from dangjian import incremental as inc
from dangjian.defs.resources import WarehouseResource
from dangjian.document import DocText, rows_of_batch, segment_rows
from dangjian.ingest import ingest_folder
from dangjian.text.places import forget_gazetteer
from dangjian.schema import DOCUMENTS, PARAGRAPHS, REJECTED_FILES, SENTENCES, SOURCE_FILES, Table
from dangjian.warehouse import checkpoint, connect, to_arrow, transaction, will_write, write_table

DOC_TEXT_COLUMNS = ["doc_id", "source_path", "sha256", "source_text", "clean_text", "text", "offset_map", "published"]
BATCH_DOCS = inc.BATCH_DOCS  # documents held in memory at once by the per-document stages
# rows_for(docs, inputs) -> rows per table: a batch's work, independent of every other batch.
BatchRows = Callable[[list[DocText], dict[str, pa.Table]], tuple[list[dict], ...]]


def spec(table, deps=()) -> dg.AssetSpec:
    """The asset for a published table: key ``<stage>/<table>``, grouped by stage,
    described by the data dictionary."""
    return dg.AssetSpec(
        key=[table.stage, table.name],
        group_name=table.stage,
        description=f"{table.en}\n\n{table.zh}\n\nKey: `{table.key}`. DuckDB: `{table.qualified}`.",
        deps=list(deps),
        metadata={"dagster/table_name": table.qualified},
    )


def _set_paths(con, paths: dict[str, list[str]]) -> None:
    """Every document's current paths (renames, new duplicates, kept documents)."""
    data = pa.table({"doc_id": list(paths), "source_paths": [sorted(p) for p in paths.values()]},
                    schema=pa.schema([("doc_id", pa.string()), ("source_paths", pa.list_(pa.string()))]))
    con.register("_paths", data)
    try:
        # Only rows whose paths differ: rewriting every row's paths each run
        # would make an unchanged folder cost as much as a changed one.
        will_write(con, DOCUMENTS, docs=())
        changed = con.execute('UPDATE "documents"."documents" AS d SET source_paths = p.source_paths, '
                              "source_path = p.source_paths[1] FROM _paths AS p "
                              "WHERE d.doc_id = p.doc_id AND (d.source_paths IS DISTINCT FROM p.source_paths "
                              "OR d.source_path IS DISTINCT FROM p.source_paths[1]) RETURNING d.doc_id").fetchall()
        will_write(con, DOCUMENTS, docs=[d for (d,) in changed])
    finally:
        con.unregister("_paths")


@dg.multi_asset(specs=[spec(SOURCE_FILES), spec(DOCUMENTS), spec(REJECTED_FILES)])
def ingest(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    """Read every file under the raw folder; each becomes a document or a rejected file."""
    raw_dir, warehouse_dir = warehouse.raw_path(), warehouse.warehouse_path()
    context.log.info(f"ingesting {raw_dir}")
    with connect(warehouse_dir, writes=(SOURCE_FILES, DOCUMENTS, REJECTED_FILES)) as con, transaction(con):
        inc.ensure_table(con, DOCUMENTS)
        known = inc.stage_inputs(con, "documents")
        # Files the index records unchanged are not read (sources.Indexed);
        # ``rehash`` reads and hashes every file, as the daily schedule does.
        index = None if warehouse.rehash else inc.raw_index(con)
        if warehouse.rehash:
            context.log.info("rehash: reading and hashing every file, whatever the raw-folder index says")

        def store(rows: list[dict]) -> None:
            # A changed file keeps its doc_id only if its bytes are the same
            # (e.g. a new manifest row): replace the old row.
            inc.drop_docs(con, DOCUMENTS, [r["doc_id"] for r in rows])
            inc.append(con, DOCUMENTS, to_arrow(DOCUMENTS, rows))
            # The place analyses made for the main localities, kept for facts
            inc.store_place_analyses(con, rows)
            # Committed batch by batch, so memory does not grow with the
            # corpus. The stage marker is set at the end: a run killed
            # before it reads these documents again, and replaces their rows.
            checkpoint(con)

        result = ingest_folder(raw_dir, progress=context.log.info, known=known, on_batch=store,
                               batch_size=inc.batch_size(warehouse.batch_docs), workers=warehouse.workers,
                               index=index)
        if result.processed:
            # Reading documents here (no workers) loaded the gazetteer (main
            # localities, place analyses). Facts read the analyses ingest
            # kept, so nothing later in the run needs it (about 200 MB).
            forget_gazetteer()
            inc.release_memory()
        # Every document whose file is gone, including any a killed run
        # stored but never marked.
        stored = [d for (d,) in con.execute('SELECT doc_id FROM "documents"."documents"').fetchall()]
        inc.drop_docs(con, DOCUMENTS, [d for d in stored if d not in result.keys])
        inc.forget_place_analyses(con)
        _set_paths(con, result.paths)
        inc.set_stage_inputs(con, "documents", result.keys)
        inc.set_raw_index(con, result.index)
        write_table(con, SOURCE_FILES, to_arrow(SOURCE_FILES, result.source_files))
        write_table(con, REJECTED_FILES, to_arrow(REJECTED_FILES, result.rejected_files))
        counts = {t.name: inc.count(con, t) for t in (SOURCE_FILES, DOCUMENTS, REJECTED_FILES)}
    for reject in result.rejected_files:
        context.log.warning(f"rejected {reject['path']}: {reject['reason']}")
    extra = {"documents processed": result.processed, "documents unchanged": len(result.kept),
             "files read": result.files_read}
    for t in (SOURCE_FILES, DOCUMENTS, REJECTED_FILES):
        yield dg.MaterializeResult(asset_key=[t.stage, t.name],
                                   metadata={"dagster/row_count": counts[t.name], **(extra if t is DOCUMENTS else {})})


def _read_batch(con, batch: list[str], inputs: tuple[Table, ...],
                place_analyses: bool = False) -> tuple[pa.Table, dict[str, pa.Table]]:
    """The batch's documents (text columns, and the place analyses ingest
    kept if ``place_analyses``) and, per input table, its rows of them, in
    text order where the table has offsets."""
    con.register("_batch", pa.table({"doc_id": pa.array(batch, pa.string())}))
    try:
        cols = ", ".join(f'd."{c}"' for c in DOC_TEXT_COLUMNS)
        if place_analyses:
            cols += ", p.place_analysis_key, p.place_analysis"
            joined = f'"documents"."documents" AS d LEFT JOIN {inc.PLACE_ANALYSES} AS p USING (doc_id)'
        else:
            joined = '"documents"."documents" AS d'
        docs = con.sql(f"SELECT {cols} FROM {joined} "
                       "WHERE d.doc_id IN (SELECT doc_id FROM _batch) ORDER BY d.doc_id").to_arrow_table()
        found = {}
        for t in inputs:
            order = '"doc_id", "start"' if "start" in t.column_names else f'"doc_id", "{t.key}"'
            found[t.name] = con.sql(f'SELECT * FROM "{t.stage}"."{t.name}" '
                                    f"WHERE doc_id IN (SELECT doc_id FROM _batch) ORDER BY {order}").to_arrow_table()
    finally:
        con.unregister("_batch")
    return docs, found


def update_per_document(con, stage: str, tables: tuple[Table, ...], rows_for: BatchRows, log, inputs: tuple[Table, ...] = (),
                        workers: int | None = None, batch_docs: int | None = None, place_analyses: bool = False) -> int:
    """Bring ``tables`` up to date with the documents, one batch at a time.

    ``rows_for(docs, inputs)``, a module-level function, returns per table
    the rows of a batch of documents. ``inputs`` names the tables it reads;
    it gets the batch's rows of each as Arrow (``inputs[name]``). It never
    touches the database, so batches are independent and run in ``workers``
    processes (default: ``DANGJIAN_WORKERS``, else one per CPU).

    With ``place_analyses``, each document comes with the place analysis
    ingest kept for it (``DocText.places``).

    Returns how many documents were processed.
    """
    for t in tables:
        inc.ensure_table(con, t)
    if place_analyses:
        inc.ensure_place_analyses(con)
    current = inc.stage_inputs(con, "documents")
    done = inc.stage_inputs(con, stage)
    todo = sorted(d for d, key in current.items() if done.get(d) != key)
    gone = [d for d in done if d not in current]
    # Their old rows go, and with them their markers: the first batch's
    # commit makes both durable, and a run killed after it must not take
    # these documents for done.
    for t in tables:
        inc.drop_docs(con, t, todo + gone)
    inc.unmark(con, stage, todo + gone)
    size = inc.batch_size(batch_docs)
    batches = [todo[i:i + size] for i in range(0, len(todo), size)]
    names = tuple(t.name for t in tables)
    started = time.monotonic()
    done_docs = 0

    jobs = ((rows_for, names, *_read_batch(con, batch, inputs, place_analyses)) for batch in batches)
    found_batches = inc.ordered_map(rows_of_batch, jobs, inc.workers_for(len(batches), workers))
    for batch, found in zip(batches, found_batches):
        for t, data in zip(tables, found):
            inc.append(con, t, data)
        # Commit each batch with its marker: memory stays flat, and a killed
        # run resumes after its last finished batch.
        inc.mark_done(con, stage, {d: current[d] for d in batch})
        checkpoint(con)
        done_docs += len(batch)
        rate = done_docs / max(time.monotonic() - started, 1e-9)
        log(f"{stage}: {done_docs}/{len(todo)} documents, {rate:.1f} documents/s")
    # The next stage may need other workers; idle ones would keep their
    # memory (modules, and whatever their batches left) for the rest of the run.
    inc.close_pool()
    inc.release_memory()
    renamed = inc.renamed_since(con, stage, todo)
    for t in tables:
        inc.follow_renames(con, t, renamed)
    inc.record_paths(con, stage)
    inc.set_stage_inputs(con, stage, current)
    return len(todo)


@dg.multi_asset(specs=[spec(PARAGRAPHS, [[DOCUMENTS.stage, DOCUMENTS.name]]), spec(SENTENCES, [[DOCUMENTS.stage, DOCUMENTS.name]])])
def segments(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    """Split each document's normalised text into paragraphs and sentences."""
    with connect(warehouse.warehouse_path(), writes=(PARAGRAPHS, SENTENCES)) as con, transaction(con):
        processed = update_per_document(con, "segments", (PARAGRAPHS, SENTENCES), segment_rows, context.log.info,
                                        inputs=(), workers=warehouse.workers, batch_docs=warehouse.batch_docs)
        counts = {t.name: inc.count(con, t) for t in (PARAGRAPHS, SENTENCES)}
    for t in (PARAGRAPHS, SENTENCES):
        yield dg.MaterializeResult(asset_key=[t.stage, t.name],
                                   metadata={"dagster/row_count": counts[t.name], "documents processed": processed})
