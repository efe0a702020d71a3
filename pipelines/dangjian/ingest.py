"""Ingest a raw folder: every file becomes a document or a rejection.

``ingest_folder`` is the whole of stage 1 and 2 for a folder, without
Dagster. Files with identical bytes are one document that records all their
paths. A file that cannot be read, decoded or cleaned becomes a
``rejected_files`` row with a reason a person can act on, and the run goes on.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from dangjian.document import NoTextError, read_document, stable_id
from dangjian.sources import MANIFEST_NAME, RawFile, SourceEntry, load_manifest, scan
from dangjian.text.decode import DecodeError

Progress = Callable[[str], None]


@dataclass
class IngestResult:
    source_files: list[dict] = field(default_factory=list)
    documents: list[dict] = field(default_factory=list)
    rejected_files: list[dict] = field(default_factory=list)


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
    result.source_files.append(
        {"path": f.path, "size_bytes": f.size_bytes, "sha256": f.sha256, "status": "rejected", "doc_id": None, "reason": reason}
    )


def _error_class(exc: DecodeError | NoTextError) -> str:
    return "no_text" if isinstance(exc, NoTextError) else exc.error


def ingest_folder(raw_dir: Path, progress: Progress | None = None, every_seconds: float = 5.0) -> IngestResult:
    """Read, decode, clean and normalise every file under ``raw_dir``."""
    manifest: dict[str, SourceEntry] = load_manifest(raw_dir)
    result = IngestResult()
    by_hash: dict[str, dict] = {}
    started = last_report = time.monotonic()
    done = 0
    for f in scan(raw_dir):
        done += 1
        now = time.monotonic()
        if progress and now - last_report >= every_seconds:
            progress(f"ingest: {done} files, {len(by_hash)} documents, {done / (now - started):.1f} files/s")
            last_report = now
        if f.path == MANIFEST_NAME:
            result.source_files.append(
                {"path": f.path, "size_bytes": f.size_bytes, "sha256": f.sha256, "status": "manifest", "doc_id": None, "reason": None}
            )
            continue
        if f.error is not None:
            _reject(result, f, f.error, f.reason)
            continue
        if f.sha256 in by_hash:
            doc = by_hash[f.sha256]
            doc["source_paths"].append(f.path)
            result.source_files.append(
                {"path": f.path, "size_bytes": f.size_bytes, "sha256": f.sha256, "status": "duplicate", "doc_id": doc["doc_id"],
                 "reason": f"same bytes as {doc['source_path']}"}
            )
            continue
        try:
            doc = read_document(f.data, f.sha256, [f.path], manifest.get(f.path))
        except (DecodeError, NoTextError) as exc:
            _reject(result, f, _error_class(exc), exc.reason)
            continue
        except Exception as exc:  # a bug must not cost the rest of the folder; it is reported, not hidden
            _reject(result, f, "internal_error", f"internal error while processing ({type(exc).__name__}: {exc}); please report it")
            continue
        by_hash[f.sha256] = doc
        result.documents.append(doc)
        result.source_files.append(
            {"path": f.path, "size_bytes": f.size_bytes, "sha256": f.sha256, "status": "document", "doc_id": doc["doc_id"], "reason": None}
        )
    if progress:
        elapsed = time.monotonic() - started
        progress(f"ingest: {done} files → {len(result.documents)} documents, {len(result.rejected_files)} rejected, in {elapsed:.1f}s")
    return result
