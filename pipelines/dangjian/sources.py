"""The raw folder: finding files, reading them safely, and the sources manifest.

Every file under the raw folder is accounted for. ``scan`` yields one
``RawFile`` per path; a file that cannot be read (a symlink, no permission)
comes back with ``error`` set instead of raising, so one bad file never stops
a run.

The sources manifest (``sources.csv`` at the top of the raw folder) records
what the articles themselves state about their origin: title, publisher,
date, URL, script and rights. It is edited by hand; the pipeline reads it
and lets it override what it extracts from the text.
"""
from __future__ import annotations

import csv
import hashlib
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

MANIFEST_NAME = "sources.csv"
MANIFEST_FIELDS = ("file", "title", "publisher", "published", "url", "language", "script", "rights", "redistribute_text")


@dataclass(frozen=True)
class RawFile:
    path: str  # relative to the raw folder, "/"-separated
    size_bytes: int | None
    sha256: str | None
    data: bytes | None
    error: str | None = None  # error class when the file could not be read
    reason: str | None = None


@dataclass(frozen=True)
class SourceEntry:
    """One row of the sources manifest. Empty cells are None, never guessed."""

    file: str
    title: str | None
    publisher: str | None
    published: str | None
    url: str | None
    language: str | None
    script: str | None
    rights: str | None
    redistribute_text: bool


class ManifestError(ValueError):
    pass


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def list_paths(raw_dir: Path) -> list[Path]:
    """All entries under ``raw_dir`` that are files or symlinks, sorted.

    Symlinked folders are listed (as entries to reject) but not descended
    into, so a link can never pull files from outside the raw folder.
    """
    found: list[Path] = []
    for root, dirs, files in os.walk(raw_dir, followlinks=False):
        dirs.sort()
        for d in dirs:
            if (Path(root) / d).is_symlink():
                found.append(Path(root) / d)
        for name in files:
            found.append(Path(root) / name)
    return sorted(found, key=lambda p: p.relative_to(raw_dir).as_posix())


def read_raw_file(raw_dir: Path, path: Path) -> RawFile:
    rel = path.relative_to(raw_dir).as_posix()
    if path.is_symlink():
        return RawFile(rel, None, None, None, "symlink",
                       f"symbolic link to {os.readlink(path)}: links are not followed; copy the file into the raw folder instead")
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        return RawFile(rel, None, None, None, "unreadable", f"could not be read: {exc.strerror or exc}")
    if not stat.S_ISREG(mode):
        # A FIFO or device would block or never end; only regular files are articles.
        return RawFile(rel, None, None, None, "not_a_file", "not a regular file (a pipe, socket or device): remove it from the raw folder")
    try:
        data = path.read_bytes()
    except PermissionError:
        return RawFile(rel, None, None, None, "unreadable", "permission denied: make the file readable by the user running the pipeline")
    except OSError as exc:
        return RawFile(rel, None, None, None, "unreadable", f"could not be read: {exc.strerror or exc}")
    return RawFile(rel, len(data), sha256_hex(data), data)


def scan(raw_dir: Path) -> Iterator[RawFile]:
    """Read every file under ``raw_dir`` in path order, one at a time."""
    for path in list_paths(raw_dir):
        yield read_raw_file(raw_dir, path)


def _cell(row: dict, name: str) -> str | None:
    value = (row.get(name) or "").strip()
    return value or None


def load_manifest(raw_dir: Path) -> dict[str, SourceEntry]:
    """Read ``sources.csv``; a missing manifest is an empty one."""
    path = raw_dir / MANIFEST_NAME
    if not path.exists():
        return {}
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in MANIFEST_FIELDS if c not in (reader.fieldnames or [])]
        if missing:
            raise ManifestError(f"{path}: missing columns {', '.join(missing)}; expected {', '.join(MANIFEST_FIELDS)}")
        entries = {}
        for line, row in enumerate(reader, start=2):
            file = _cell(row, "file")
            if not file:
                raise ManifestError(f"{path}:{line}: the 'file' cell is empty")
            flag = (_cell(row, "redistribute_text") or "false").lower()
            if flag not in ("true", "false"):
                raise ManifestError(f"{path}:{line}: redistribute_text must be true or false, not {flag!r}")
            entries[file] = SourceEntry(
                file=file,
                title=_cell(row, "title"),
                publisher=_cell(row, "publisher"),
                published=_cell(row, "published"),
                url=_cell(row, "url"),
                language=_cell(row, "language"),
                script=_cell(row, "script"),
                rights=_cell(row, "rights"),
                redistribute_text=flag == "true",
            )
    return entries
