"""Ingest a raw folder: every file becomes a document or a rejection.

``ingest_folder`` is the whole of stage 1 and 2 for a folder, without
Dagster. Files with identical bytes are one document that records all their
paths. A file that cannot be read, decoded or cleaned becomes a
``rejected_files`` row with a reason a person can act on, and the run goes on.

Given the input keys of the documents already processed (``known``), a
document whose key is unchanged is not decoded or normalised again: it is
listed in ``kept`` with its current paths, and its stored row stays.
New document rows can be handed over in batches (``on_batch``) so a large
folder never sits in memory at once.
"""
from __future__ import annotations

import dataclasses
import itertools
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from dangjian import incremental as inc
from dangjian.document import NoTextError, doc_id_for, read_document, stable_id
from dangjian.sources import MANIFEST_NAME, Indexed, RawFile, SourceEntry, load_manifest, read_raw_file, scan
from dangjian.text.decode import DecodeError

Progress = Callable[[str], None]


@dataclass
class IngestResult:
    source_files: list[dict] = field(default_factory=list)
    documents: list[dict] = field(default_factory=list)  # new or changed documents (unless handed to on_batch)
    rejected_files: list[dict] = field(default_factory=list)
    keys: dict[str, str] = field(default_factory=dict)  # every current doc_id → its input key
    kept: set[str] = field(default_factory=set)  # unchanged documents, not processed again
    paths: dict[str, list[str]] = field(default_factory=dict)  # every current doc_id → its paths, sorted
    processed: int = 0  # documents decoded and normalised in this run
    workers: int = 1  # processes that read them (1: this one)
    index: dict[str, Indexed] = field(default_factory=dict)  # the raw-folder index for the next run
    files_read: int = 0  # files whose bytes were read and hashed, the manifest included
    files_indexed: int = 0  # files the raw-folder index vouched for, not read


def _account(result: IngestResult, f: RawFile, status: str, doc_id: str | None = None, reason: str | None = None) -> None:
    """The file's ``source_files`` row: what became of it."""
    result.source_files.append(
        {"path": f.path, "size_bytes": f.size_bytes, "sha256": f.sha256, "status": status, "doc_id": doc_id, "reason": reason}
    )


def _reject(result: IngestResult, f: RawFile, error: str, reason: str) -> None:
    result.rejected_files.append(
        {
            "rejection_id": stable_id(f.path, f.sha256),
            "path": f.path,
            "size_bytes": f.size_bytes,
            "sha256": f.sha256,
            "reason": reason,
            "error": error,
        }
    )
    _account(result, f, "rejected", reason=reason)


def _error_class(exc: DecodeError | NoTextError) -> str:
    return "no_text" if isinstance(exc, NoTextError) else exc.error


def _read_one(data: bytes, sha256: str, path: str, entry: SourceEntry | None) -> dict | tuple[str, str]:
    """The document read from one file, or why it cannot be: (error, reason)."""
    try:
        return read_document(data, sha256, [path], entry)
    except (DecodeError, NoTextError) as exc:
        return _error_class(exc), exc.reason
    except Exception as exc:  # a bug must not cost the rest of the folder; it is reported, not hidden
        return "internal_error", f"internal error while processing ({type(exc).__name__}: {exc}); please report it"


def _read_files(items: list[tuple[bytes, str, str, SourceEntry | None]]) -> list[dict | tuple[str, str]]:
    """``_read_one`` for each file: a batch's work, run in a worker when there are many."""
    return [_read_one(*item) for item in items]


def _read_in_order(jobs: Iterator[tuple], workers: int) -> tuple[Iterator[list[dict | tuple[str, str]]], int]:
    """``_read_files`` of every job, in order, and how many processes read
    them. Workers start only if more than ``workers`` jobs read something: a
    re-run that reads one new file among thousands does not pay for starting
    them (and for their gazetteers)."""
    head: list[tuple] = []
    busy = 0
    for job in jobs:
        head.append(job)
        busy += bool(job[0])
        if busy > workers:
            break
    used = workers if busy > workers else 1
    return inc.ordered_map(_read_files, itertools.chain(head, jobs), used), used


def ingest_folder(
    raw_dir: Path,
    progress: Progress | None = None,
    every_seconds: float = 5.0,
    known: dict[str, str] | None = None,
    on_batch: Callable[[list[dict]], None] | None = None,
    batch_size: int = 500,
    workers: int | None = 1,
    index: dict[str, Indexed] | None = None,
) -> IngestResult:
    """Read, decode, clean and normalise every new or changed file under ``raw_dir``.

    Files are read in batches of ``batch_size`` files to decode, in
    ``workers`` processes (see ``incremental.worker_count``; 1, the default,
    reads here). Whatever the workers, files are accounted for in path order
    and the result is the same.

    With ``index`` (the raw-folder index of the last run), a file it records
    unchanged is not read unless its document must be processed again; the
    result holds the index for the next run (``result.index``)."""
    manifest: dict[str, SourceEntry] = load_manifest(raw_dir)
    known = known or {}
    result = IngestResult()
    paths = result.paths
    pending: list[dict] = []
    started = last_report = time.monotonic()
    done = 0
    # The files of each batch in path order, each with its doc_id and input
    # key (None for the manifest and unreadable files) and whether the batch
    # reads it; ``jobs`` fills it as the batches are handed out, and the
    # accounting below takes its decisions from it.
    chunks: deque[list[tuple[RawFile, str | None, str | None, bool]]] = deque()

    def ids(f: RawFile) -> tuple[str | None, str | None]:
        """The file's doc_id and input key; none for the manifest and unreadable files."""
        if f.path == MANIFEST_NAME or f.error is not None:
            return None, None
        return doc_id_for(f.sha256), inc.input_key(f.sha256, manifest.get(f.path))

    def jobs() -> Iterator[tuple]:
        chunk: list[tuple[RawFile, str | None, str | None, bool]] = []
        items: list[tuple] = []
        first: dict[str, bool] = {}  # doc_id → whether its first file is read
        for f in scan(raw_dir, index):
            read = False
            doc_id, key = ids(f)
            if f.from_index and (first.get(doc_id) or (doc_id not in first and known.get(doc_id) != key)):
                # Its document is to be read (new input key, or an earlier
                # file with its bytes is): these bytes are needed, and what
                # is read now is trusted over the index.
                f = read_raw_file(raw_dir, raw_dir / f.path)
                doc_id, key = ids(f)
            if doc_id is not None:
                if doc_id not in first:
                    read = first[doc_id] = known.get(doc_id) != key
                    if read:
                        items.append((f.data, f.sha256, f.path, manifest.get(f.path)))
                if not read and not first[doc_id]:
                    # Kept, or a duplicate of a kept document: its bytes are
                    # not needed again, and a batch may hold thousands.
                    f = dataclasses.replace(f, data=None)
            if f.seen is not None:
                result.index[f.path] = f.seen
            result.files_read += f.error is None and not f.from_index
            result.files_indexed += f.from_index
            chunk.append((f, doc_id, key, read))
            if len(items) >= batch_size or len(chunk) >= 20 * batch_size:
                chunks.append(chunk)
                yield (items,)
                chunk, items = [], []
        chunks.append(chunk)
        yield (items,)

    def flush() -> None:
        if on_batch is not None and pending:
            on_batch(list(pending))
            pending.clear()

    batches, result.workers = _read_in_order(jobs(), inc.worker_count(workers))
    for outcomes in batches:
        outcome = iter(outcomes)
        for f, doc_id, key, was_read in chunks.popleft():
            done += 1
            now = time.monotonic()
            if progress and now - last_report >= every_seconds:
                progress(f"ingest: {done} files, {len(result.keys)} documents ({result.processed} processed), "
                         f"{done / (now - started):.1f} files/s")
                last_report = now
            if f.path == MANIFEST_NAME:
                _account(result, f, "manifest")
                continue
            if f.error is not None:
                _reject(result, f, f.error, f.reason)
                continue
            if doc_id in paths:
                paths[doc_id].append(f.path)
                _account(result, f, "duplicate", doc_id, f"same bytes as {paths[doc_id][0]}")
                continue
            if known.get(doc_id) == key:
                result.kept.add(doc_id)
                paths[doc_id] = [f.path]
            else:
                # Read in its batch, unless an earlier file with the same
                # bytes was and failed: then this one is read here (its path
                # or manifest row may make a difference).
                doc = next(outcome) if was_read else _read_one(f.data, f.sha256, f.path, manifest.get(f.path))
                if isinstance(doc, tuple):
                    _reject(result, f, *doc)
                    continue
                paths[doc_id] = doc["source_paths"]  # the same list: duplicates found later are added to the row
                result.processed += 1
                pending.append(doc) if on_batch is not None else result.documents.append(doc)
                if len(pending) >= batch_size:
                    flush()
            result.keys[doc_id] = key
            _account(result, f, "document", doc_id)
    flush()
    if result.workers > 1:
        inc.close_pool()  # idle workers would keep their gazetteers through the rest of the run
    if progress:
        elapsed = time.monotonic() - started
        by = f" by {result.workers} workers" if result.workers > 1 else ""
        unread = f"; {result.files_indexed} files known unchanged by the index, not read" if index else ""
        progress(f"ingest: {done} files → {len(result.keys)} documents ({result.processed} processed{by}, "
                 f"{len(result.kept)} unchanged), {len(result.rejected_files)} rejected{unread}, in {elapsed:.1f}s")
    return result
