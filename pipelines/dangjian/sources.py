"""The raw folder: finding files, reading them safely, and the sources manifest.

Every file under the raw folder is accounted for. ``scan`` yields one
``RawFile`` per path; a file that cannot be read (a symlink, no permission)
comes back with ``error`` set instead of raising, so one bad file never stops
a run.

A re-run need not read a file it has read before. The raw-folder index
(``Indexed``, kept by ingest in the working database) remembers, per path,
the file's size, modification and change times, inode and device as they
were when its bytes were hashed. A file whose record is the same, and was
hashed well after its last change, keeps its sha256 without being read, so
an unchanged folder costs a ``stat`` per file rather than its bytes.

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
import time
from collections.abc import Iterator, Mapping
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
    # What the raw-folder index keeps of a regular file (None if it could not
    # be read), and whether its sha256 came from there: then ``data`` is None.
    seen: Indexed | None = None
    from_index: bool = False


# A change to a file within this long before its bytes were hashed might not
# show in its times (file systems keep them in ticks of up to 2 s), so such a
# record is not trusted: the file is read again next time.
RACY_NS = 2_000_000_000
_INT64 = (-(2**63), 2**63 - 1)  # the index keeps times as 64-bit nanoseconds


@dataclass(frozen=True, slots=True)
class Indexed:
    """A file as the raw-folder index records it: its ``stat`` when it was
    hashed, the sha256 of its bytes, and when (``hashed_ns``, wall clock)."""

    size_bytes: int
    mtime_ns: int
    ctime_ns: int
    inode: int
    device: int
    sha256: str
    hashed_ns: int

    def same_file(self, st: os.stat_result) -> bool:
        """Whether ``st`` says this is the file that was hashed, unchanged.
        The change time moves on every write and cannot be set back, so a
        file rewritten to the same size and given back its old mtime is still
        caught; a record made within :data:`RACY_NS` of the file's last change
        is never trusted."""
        return (st.st_size == self.size_bytes and st.st_mtime_ns == self.mtime_ns and st.st_ctime_ns == self.ctime_ns
                and st.st_ino == self.inode and st.st_dev == self.device
                and max(self.mtime_ns, self.ctime_ns) < self.hashed_ns - RACY_NS)


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


def _entries(raw_dir: Path) -> list[tuple[str, str]]:
    """``(path relative to raw_dir, in POSIX form; path)`` of every entry
    :func:`list_paths` lists, sorted by the first. Plain strings: with a
    ``Path`` per file, listing 80,000 files took 2 s."""
    base = os.fspath(raw_dir)
    found: list[tuple[str, str]] = []
    for root, dirs, files in os.walk(base, followlinks=False):
        prefix = os.path.relpath(root, base)
        prefix = "" if prefix == os.curdir else prefix.replace(os.sep, "/") + "/"
        for d in dirs:
            if os.path.islink(os.path.join(root, d)):
                found.append((prefix + d, os.path.join(root, d)))
        for name in files:
            found.append((prefix + name, os.path.join(root, name)))
    found.sort()
    return found


def list_paths(raw_dir: Path) -> list[Path]:
    """All entries under ``raw_dir`` that are files or symlinks, sorted.

    Symlinked folders are listed (as entries to reject) but not descended
    into, so a link can never pull files from outside the raw folder.
    """
    return [Path(path) for _, path in _entries(raw_dir)]


def read_raw_file(raw_dir: Path, path: Path, index: Mapping[str, Indexed] | None = None) -> RawFile:
    """The file at ``path``: its bytes and sha256, or why it cannot be read.
    With ``index``, a file it records unchanged is not read: it comes back
    with the recorded sha256, no data and ``from_index`` set."""
    return _read_raw(path.relative_to(raw_dir).as_posix(), os.fspath(path), index)


def _read_raw(rel: str, path: str, index: Mapping[str, Indexed] | None) -> RawFile:
    try:
        st = os.lstat(path)
    except OSError as exc:
        return RawFile(rel, None, None, None, "unreadable", f"could not be read: {exc.strerror or exc}")
    if stat.S_ISLNK(st.st_mode):
        return RawFile(rel, None, None, None, "symlink",
                       f"symbolic link to {os.readlink(path)}: links are not followed; copy the file into the raw folder instead")
    if not stat.S_ISREG(st.st_mode):
        # A FIFO or device would block or never end; only regular files are articles.
        return RawFile(rel, None, None, None, "not_a_file", "not a regular file (a pipe, socket or device): remove it from the raw folder")
    known = index.get(rel) if index is not None else None
    if known is not None and known.same_file(st):
        return RawFile(rel, known.size_bytes, known.sha256, None, seen=known, from_index=True)
    hashed_ns = time.time_ns()
    try:
        with open(path, "rb") as f:
            data = f.read()
    except PermissionError:
        return RawFile(rel, None, None, None, "unreadable", "permission denied: make the file readable by the user running the pipeline")
    except OSError as exc:
        return RawFile(rel, None, None, None, "unreadable", f"could not be read: {exc.strerror or exc}")
    digest = sha256_hex(data)
    # The stat taken before reading describes these bytes only if the file
    # did not change meanwhile; if its size did, it is not indexed (read again
    # next time). So is a file dated beyond what 64-bit nanoseconds hold
    # (before 1677 or after 2262: `touch -d 2300-01-01` is allowed).
    indexable = len(data) == st.st_size and all(_INT64[0] <= t <= _INT64[1] for t in (st.st_mtime_ns, st.st_ctime_ns))
    seen = Indexed(st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev, digest, hashed_ns) if indexable else None
    return RawFile(rel, len(data), digest, data, seen=seen)


def scan(raw_dir: Path, index: Mapping[str, Indexed] | None = None) -> Iterator[RawFile]:
    """Read every file under ``raw_dir`` in path order, one at a time; with
    ``index``, files it records unchanged come without their bytes (see
    :func:`read_raw_file`)."""
    for rel, path in _entries(raw_dir):
        yield _read_raw(rel, path, index)


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
