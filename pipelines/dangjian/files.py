"""Files replaced whole: a reader, or a run killed half-way, finds the old
file or the new one, never part of either.

The new content goes to a hidden temporary beside the file
(``.<name>.<random>.tmp``, on the same file system, so the rename is
atomic), which is renamed over the file once complete. If writing fails,
the temporary is removed and the file is as it was. The folders that keep
such files clear leftovers by that prefix (``release._clear_leftovers``).
"""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def temporary_beside(path: Path) -> Path:
    """A fresh hidden name in ``path``'s folder, for writing its next version."""
    return path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")


@contextmanager
def replaced_whole(path: Path, durable: bool = False) -> Iterator[Path]:
    """Yield a temporary path to write ``path``'s new content to; when the
    block ends without an exception, it replaces ``path``. With ``durable``
    the content is flushed to disk first (``fsync``), so a power cut after
    the rename cannot leave an empty file under the name."""
    tmp = temporary_beside(path)
    try:
        yield tmp
        if durable:
            fd = os.open(tmp, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_whole(path: Path, content: str | bytes, durable: bool = False) -> None:
    """Replace ``path`` with ``content`` (text as UTF-8), whole."""
    with replaced_whole(path, durable) as tmp:
        if isinstance(content, str):
            tmp.write_text(content, encoding="utf-8")
        else:
            tmp.write_bytes(content)
