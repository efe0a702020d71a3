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

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from dangjian.document import NoTextError, doc_id_for, read_document, stable_id
from dangjian.incremental import input_key
from dangjian.sources import MANIFEST_NAME, RawFile, SourceEntry, load_manifest, scan
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


def ingest_folder(
    raw_dir: Path,
    progress: Progress | None = None,
    every_seconds: float = 5.0,
    known: dict[str, str] | None = None,
    on_batch: Callable[[list[dict]], None] | None = None,
    batch_size: int = 500,
) -> IngestResult:
    """Read, decode, clean and normalise every new or changed file under ``raw_dir``."""
    manifest: dict[str, SourceEntry] = load_manifest(raw_dir)
    known = known or {}
    result = IngestResult()
    paths = result.paths
    pending: list[dict] = []
    started = last_report = time.monotonic()
    done = 0

    def flush() -> None:
        if on_batch is not None and pending:
            on_batch(list(pending))
            pending.clear()

    for f in scan(raw_dir):
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
        doc_id = doc_id_for(f.sha256)
        if doc_id in paths:
            paths[doc_id].append(f.path)
            _account(result, f, "duplicate", doc_id, f"same bytes as {paths[doc_id][0]}")
            continue
        key = input_key(f.sha256, manifest.get(f.path))
        if known.get(doc_id) == key:
            result.kept.add(doc_id)
            paths[doc_id] = [f.path]
        else:
            try:
                doc = read_document(f.data, f.sha256, [f.path], manifest.get(f.path))
            except (DecodeError, NoTextError) as exc:
                _reject(result, f, _error_class(exc), exc.reason)
                continue
            except Exception as exc:  # a bug must not cost the rest of the folder; it is reported, not hidden
                _reject(result, f, "internal_error", f"internal error while processing ({type(exc).__name__}: {exc}); please report it")
                continue
            paths[doc_id] = doc["source_paths"]  # the same list: duplicates found later are added to the row
            result.processed += 1
            pending.append(doc) if on_batch is not None else result.documents.append(doc)
            if len(pending) >= batch_size:
                flush()
        result.keys[doc_id] = key
        _account(result, f, "document", doc_id)
    flush()
    if progress:
        elapsed = time.monotonic() - started
        progress(f"ingest: {done} files → {len(result.keys)} documents ({result.processed} processed, "
                 f"{len(result.kept)} unchanged), {len(result.rejected_files)} rejected, in {elapsed:.1f}s")
    return result
