"""Build a release's Parquet file from row groups of earlier files, bytes copied.

A release writes one zstd Parquet file per table. When a few documents change,
most row groups of the new file are the same as row groups of the previous
release's file: same rows, so the same compressed pages and statistics. Rather
than decode and re-compress them, :func:`splice` copies their bytes verbatim
and writes a new footer. The result is byte for byte the file pyarrow would
have written with the same row groups, so release content hashes do not depend
on whether a file was spliced or written afresh.

A Parquet file is ``PAR1``, the column chunks of each row group, the footer
(a Thrift compact-protocol ``FileMetaData``), the footer's length as 4 bytes
little-endian, and ``PAR1``. Pages carry no absolute offsets; only the footer
does. So moving a row group means copying its byte range and shifting the
offsets its ``RowGroup`` struct holds. pyarrow exposes no Thrift encoder and we
add no dependency, so this module carries a small generic compact-protocol
codec that keeps field order and types, and refuses any footer it cannot
re-encode to the same bytes.

What cannot be moved safely is refused with ``ValueError``: encryption, column
chunks in other files, page indexes and bloom filters (they live outside the
row group's byte range), and row groups whose chunks are not one contiguous
range.
"""
from __future__ import annotations

import errno
import hashlib
import marshal
import os
import struct
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import astuple, dataclass
from pathlib import Path

from dangjian.files import write_whole

MAGIC = b"PAR1"
ENCRYPTED_MAGIC = b"PARE"

# Thrift compact-protocol type codes (the low nibble of a field header).
STOP, TRUE, FALSE, BYTE, I16, I32, I64, DOUBLE, BINARY, LIST, SET, MAP, STRUCT = range(13)
BOOL = TRUE  # a bool field's value is its type code; decoded fields say BOOL and hold True/False

# Field ids from parquet-format's parquet.thrift.
FILE_METADATA_FIELDS = {
    1: "version", 2: "schema", 3: "num_rows", 4: "row_groups", 5: "key_value_metadata",
    6: "created_by", 7: "column_orders", 8: "encryption_algorithm", 9: "footer_signing_key_metadata",
}
FMD_NUM_ROWS, FMD_ROW_GROUPS, FMD_ENCRYPTION, FMD_SIGNING_KEY = 3, 4, 8, 9
RG_COLUMNS, RG_NUM_ROWS, RG_FILE_OFFSET, RG_TOTAL_COMPRESSED, RG_ORDINAL = 1, 3, 5, 6, 7
CC_FILE_PATH, CC_FILE_OFFSET, CC_META_DATA = 1, 2, 3
CC_OFFSET_INDEX, CC_COLUMN_INDEX, CC_CRYPTO, CC_ENCRYPTED_META = 4, 6, 8, 9
CMD_TOTAL_COMPRESSED, CMD_DATA_PAGE, CMD_INDEX_PAGE, CMD_DICTIONARY_PAGE, CMD_BLOOM_FILTER = 7, 9, 10, 11, 14

# A decoded struct is a list of [field id, type code, value] in wire order, so
# that encoding it again gives the same bytes. A list or set is (element type,
# [values]); a map is (key type, value type, [(key, value)]); a bool is a bool.
Struct = list


class _Reader:
    def __init__(self, data: bytes):
        self.data, self.pos = data, 0

    def byte(self) -> int:
        self.pos += 1
        return self.data[self.pos - 1]

    def varint(self) -> int:
        shift = result = 0
        while True:
            b = self.byte()
            result |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return result

    def zigzag(self) -> int:
        n = self.varint()
        return (n >> 1) ^ -(n & 1)

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise ValueError("Thrift data ends inside a value")
        self.pos += n
        return self.data[self.pos - n:self.pos]

    def value(self, ttype: int):
        if ttype in (TRUE, FALSE):
            return self.byte() == TRUE  # only inside containers; fields carry it in the header
        if ttype == BYTE:
            return self.byte()
        if ttype in (I16, I32, I64):
            return self.zigzag()
        if ttype == DOUBLE:
            return self.take(8)  # kept as bytes: re-encoding a float could change a NaN
        if ttype == BINARY:
            return self.take(self.varint())
        if ttype in (LIST, SET):
            header = self.byte()
            size = header >> 4 if header >> 4 != 15 else self.varint()
            return header & 0x0F, [self.value(header & 0x0F) for _ in range(size)]
        if ttype == MAP:
            size = self.varint()
            kinds = self.byte() if size else 0
            return kinds >> 4, kinds & 0x0F, [(self.value(kinds >> 4), self.value(kinds & 0x0F)) for _ in range(size)]
        if ttype == STRUCT:
            return self.struct()
        raise ValueError(f"unknown Thrift compact type {ttype}")

    def struct(self) -> Struct:
        fields, last = [], 0
        while (header := self.byte()) != STOP:
            ttype, delta = header & 0x0F, header >> 4
            fid = last + delta if delta else self.zigzag()
            if ttype in (TRUE, FALSE):
                fields.append([fid, BOOL, ttype == TRUE])  # the value is the type code
            else:
                fields.append([fid, ttype, self.value(ttype)])
            last = fid
        return fields


def _varint(n: int) -> bytes:
    out = bytearray()
    while n > 0x7F:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _zigzag(n: int) -> bytes:
    return _varint((n << 1) ^ (n >> 63))


def _encode_value(ttype: int, value) -> bytes:
    if ttype in (TRUE, FALSE):
        return bytes([TRUE if value else FALSE])
    if ttype == BYTE:
        return bytes([value & 0xFF])
    if ttype in (I16, I32, I64):
        return _zigzag(value)
    if ttype == DOUBLE:
        return value
    if ttype == BINARY:
        return _varint(len(value)) + value
    if ttype in (LIST, SET):
        etype, items = value
        head = bytes([len(items) << 4 | etype]) if len(items) < 15 else bytes([0xF0 | etype]) + _varint(len(items))
        return head + b"".join(_encode_value(etype, v) for v in items)
    if ttype == MAP:
        ktype, vtype, items = value
        if not items:
            return b"\x00"
        body = b"".join(_encode_value(ktype, k) + _encode_value(vtype, v) for k, v in items)
        return _varint(len(items)) + bytes([ktype << 4 | vtype]) + body
    if ttype == STRUCT:
        return encode_struct(value)
    raise ValueError(f"unknown Thrift compact type {ttype}")


def decode_struct(data: bytes) -> Struct:
    """Decode one Thrift compact-protocol struct that fills all of ``data``."""
    reader = _Reader(data)
    try:
        fields = reader.struct()
    except IndexError:
        raise ValueError("Thrift data ends inside a struct") from None
    if reader.pos != len(data):
        raise ValueError(f"{len(data) - reader.pos} bytes after the Thrift struct")
    return fields


def encode_struct(fields: Struct) -> bytes:
    """Encode a struct as Apache Thrift's compact protocol writes it."""
    out, last = bytearray(), 0
    for fid, ttype, value in fields:
        wire_type = (TRUE if value else FALSE) if ttype == BOOL else ttype
        if 0 < fid - last <= 15:
            out.append((fid - last) << 4 | wire_type)
        else:
            out += bytes([wire_type]) + _zigzag(fid)
        if ttype != BOOL:
            out += _encode_value(ttype, value)
        last = fid
    out.append(STOP)
    return bytes(out)


def _get(fields: Struct, fid: int):
    return next((value for f, _, value in fields if f == fid), None)


def _set(fields: Struct, fid: int, value) -> None:
    for field in fields:
        if field[0] == fid:
            field[2] = value
            return
    raise ValueError(f"Thrift field {fid} is missing")


@dataclass(frozen=True)
class RowGroupSpan:
    """Where one row group lies in its file: its column chunks fill bytes
    ``[start, end)`` with nothing else between them, so copying that range
    moves the whole group. Two groups with equal bytes hold equal rows."""

    index: int  # the row group's position in its file
    start: int  # byte offset of its first column chunk's first page
    end: int  # byte offset just past its last column chunk (exclusive)
    rows: int


def _footer_bytes(path: Path) -> bytes:
    """The encoded FileMetaData of ``path``, refused if it is not a plain Parquet file."""
    with open(path, "rb") as f:
        head = f.read(4)
        size = f.seek(0, os.SEEK_END)
        f.seek(max(size - 8, 0))
        tail = f.read(8)
        if ENCRYPTED_MAGIC in (head, tail[4:]):
            raise ValueError(f"{path}: encrypted footer (PARE magic) cannot be spliced")
        if size < 12 or head != MAGIC or tail[4:] != MAGIC:
            raise ValueError(f"{path}: not a Parquet file")
        (length,) = struct.unpack("<I", tail[:4])
        if length > size - 12:
            raise ValueError(f"{path}: footer length {length} is larger than the file")
        f.seek(size - 8 - length)
        return f.read(length)


def _read_footer(path: Path, raw: bytes | None = None) -> Struct:
    """The decoded FileMetaData of ``path`` (whose footer bytes are ``raw``,
    when given), refused if it cannot be spliced."""
    raw = _footer_bytes(path) if raw is None else raw
    meta = decode_struct(raw)
    # The new footer is re-encoded, so the codec must give back these very bytes.
    if encode_struct(meta) != raw:
        raise ValueError(f"{path}: footer does not re-encode to the same bytes")
    if _get(meta, FMD_ENCRYPTION) is not None or _get(meta, FMD_SIGNING_KEY) is not None:
        raise ValueError(f"{path}: encryption fields in the footer")
    return meta


def _span(path: Path, index: int, group: Struct) -> RowGroupSpan:
    """Where row group ``index`` lies, after checking that its bytes can move
    alone: its chunks tile one range and nothing of it is stored elsewhere."""
    where = f"{path}: row group {index}"
    chunks = []
    for chunk in _get(group, RG_COLUMNS)[1]:
        if _get(chunk, CC_FILE_PATH) is not None:
            raise ValueError(f"{where}: a column chunk lives in another file (file_path)")
        if _get(chunk, CC_OFFSET_INDEX) is not None or _get(chunk, CC_COLUMN_INDEX) is not None:
            raise ValueError(f"{where}: page index (offset_index_offset or column_index_offset)")
        if _get(chunk, CC_CRYPTO) is not None or _get(chunk, CC_ENCRYPTED_META) is not None:
            raise ValueError(f"{where}: encrypted column chunk")
        meta = _get(chunk, CC_META_DATA)
        if meta is None:
            raise ValueError(f"{where}: column chunk without meta_data")
        if _get(meta, CMD_BLOOM_FILTER) is not None:
            raise ValueError(f"{where}: bloom filter (bloom_filter_offset)")
        dictionary = _get(meta, CMD_DICTIONARY_PAGE)
        first = dictionary or _get(meta, CMD_DATA_PAGE)  # 0 is PAR1: no dictionary page
        chunks.append((first, _get(meta, CMD_TOTAL_COMPRESSED), _get(chunk, CC_FILE_OFFSET) or 0))
    if not chunks:
        raise ValueError(f"{where}: no column chunks")
    chunks.sort()
    start, end = chunks[0][0], max(first + size for first, size, _ in chunks)
    # Equal sums could still hide an overlap beside a gap, so the chunks must
    # also follow one another exactly.
    tiled = all(a[0] + a[1] == b[0] for a, b in zip(chunks, chunks[1:]))
    if sum(size for _, size, _ in chunks) != end - start or not tiled:
        raise ValueError(f"{where}: column chunks are not one contiguous byte range")
    for first, size, file_offset in chunks:
        # pyarrow 26 writes 0 here; older parquet-cpp wrote the chunk's end.
        # Either moves with the group; anything else cannot be shifted safely.
        if file_offset and not first <= file_offset <= first + size:
            raise ValueError(f"{where}: ColumnChunk.file_offset {file_offset} is outside its chunk")
    total = _get(group, RG_TOTAL_COMPRESSED)
    if total is not None and total != end - start:
        raise ValueError(f"{where}: total_compressed_size {total} does not match its column chunks")
    return RowGroupSpan(index=index, start=start, end=end, rows=_get(group, RG_NUM_ROWS))


#: The last footers decoded by :func:`_groups`, by their bytes.
_DECODED: OrderedDict[bytes, tuple[Struct, list[Struct], list[RowGroupSpan]]] = OrderedDict()
_DECODED_KEPT = 16


def _groups(path: Path) -> tuple[Struct, list[Struct], list[RowGroupSpan]]:
    """A file's FileMetaData, its RowGroup structs and their spans.

    The last few are kept by the footer's bytes. A release reads the footer
    of each of the last release's files once to see which row groups it may
    reuse and again to splice them, and decoding them in Python took about
    1 s at 80,000 documents. The same bytes decode to the same structs and
    spans, and nothing here changes them (``_moved`` and ``splice`` copy
    what they set). Between runs they are kept on disk (:func:`kept_footers`)."""
    raw = _footer_bytes(path)
    name = _kept_name(raw)
    found = _DECODED.get(raw)
    if found is None:
        found = _load_kept(name)
        if found is None:
            meta = _read_footer(path, raw)
            groups = _get(meta, FMD_ROW_GROUPS)[1]
            found = meta, groups, [_span(path, i, group) for i, group in enumerate(groups)]
        _remember(raw, found)
    else:
        _DECODED.move_to_end(raw)
    _keep(name, found)
    return found


def _remember(raw: bytes, found: tuple[Struct, list[Struct], list[RowGroupSpan]]) -> None:
    _DECODED[raw] = found
    while len(_DECODED) > _DECODED_KEPT:
        _DECODED.popitem(last=False)


#: Where :func:`kept_footers` keeps decoded footers, and the ones this run used.
_KEPT_IN: Path | None = None
_KEPT_USED: set[str] = set()


@contextmanager
def kept_footers(folder: Path) -> Iterator[None]:
    """Keep decoded footers in ``folder`` between runs, by the sha256 of the
    footer's bytes: the footers a release decodes (the last release's files)
    and those :func:`splice` writes (the next release's). Decoding a
    footer in Python grows with the file's row groups: 1.6 s of a one-file
    re-run at 80,000 documents, 1.1 s of it the documents' footer (304 row
    groups of 29 columns, 1.1 MB). A kept one loads with ``marshal``, in C.

    On leaving, entries this run did not use are deleted, so the folder
    holds about two footers per table. An entry that cannot be read is
    decoded again. The key is the hash of the very bytes it was decoded
    from, or encoded to, so an entry is never taken for another footer."""
    global _KEPT_IN
    folder.mkdir(parents=True, exist_ok=True)
    _KEPT_IN = folder
    _KEPT_USED.clear()
    try:
        yield
    finally:
        used, _KEPT_IN = set(_KEPT_USED), None
        for entry in folder.iterdir():
            if entry.name not in used:
                entry.unlink(missing_ok=True)


def still_used(path: Path) -> None:
    """Keep the kept footer of ``path``, if there is one, though this run does not read it."""
    if _KEPT_IN is not None:
        try:
            _KEPT_USED.add(_kept_name(_footer_bytes(path)))
        except (OSError, ValueError):
            pass


def _kept_name(raw: bytes) -> str | None:
    """The name a footer's entry has while footers are kept (its bytes'
    sha256), else None: hashed once per footer read, not per use."""
    return None if _KEPT_IN is None else hashlib.sha256(raw).hexdigest() + ".marshal"


def _load_kept(name: str | None) -> tuple[Struct, list[Struct], list[RowGroupSpan]] | None:
    if _KEPT_IN is None or name is None:
        return None
    try:
        meta, spans = marshal.loads((_KEPT_IN / name).read_bytes())
        found = meta, _get(meta, FMD_ROW_GROUPS)[1], [RowGroupSpan(*span) for span in spans]
    except (OSError, EOFError, ValueError, TypeError, IndexError):
        (_KEPT_IN / name).unlink(missing_ok=True)  # decoded and kept again
        return None
    _KEPT_USED.add(name)
    return found


def _keep(name: str | None, found: tuple[Struct, list[Struct], list[RowGroupSpan]]) -> None:
    if _KEPT_IN is None or name is None:
        return
    if name in _KEPT_USED or (_KEPT_IN / name).exists():
        _KEPT_USED.add(name)
        return
    meta, _, spans = found
    try:
        write_whole(_KEPT_IN / name, marshal.dumps((meta, [astuple(span) for span in spans])))
    except OSError:
        return
    _KEPT_USED.add(name)


def row_group_spans(path: Path) -> list[RowGroupSpan]:
    """The byte span of each row group of the Parquet file at ``path``.

    Raises ``ValueError`` for anything :func:`splice` refuses, so every span
    returned here can be copied on its own."""
    return _groups(Path(path))[2]


def _copied(fields: Struct) -> Struct:
    """A struct whose fields can be set without changing ``fields``; their values are shared."""
    return [list(field) for field in fields]


def _moved(group: Struct, delta: int, ordinal: int) -> Struct:
    """A copy of a RowGroup struct for a group moved ``delta`` bytes and now
    at position ``ordinal``. The input is left alone: one source group may be
    chosen more than once. Only the structs on the way to a changed field are
    copied (the statistics and the rest are shared, never changed): a deep
    copy of every group took 1 s of a release at 80,000 documents."""
    group = _copied(group)

    def shift(fields: Struct, fid: int) -> None:
        value = _get(fields, fid)
        if value:  # 0 is where PAR1 lies, never a page: it means "not recorded"
            _set(fields, fid, value + delta)

    shift(group, RG_FILE_OFFSET)
    if _get(group, RG_ORDINAL) is not None:
        if ordinal > 32767:
            raise ValueError("RowGroup.ordinal is an i16: at most 32768 row groups")
        _set(group, RG_ORDINAL, ordinal)
    kind, chunks = _get(group, RG_COLUMNS)
    chunks = [_copied(chunk) for chunk in chunks]
    _set(group, RG_COLUMNS, (kind, chunks))
    for chunk in chunks:
        shift(chunk, CC_FILE_OFFSET)
        meta = _copied(_get(chunk, CC_META_DATA))
        _set(chunk, CC_META_DATA, meta)
        for fid in (CMD_DATA_PAGE, CMD_INDEX_PAGE, CMD_DICTIONARY_PAGE):
            shift(meta, fid)
    return group


def _copy(src: int, dst: int, offset: int, count: int) -> None:
    """Append ``count`` bytes of ``src`` from ``offset`` to ``dst``. In the
    kernel where it can (no trip through user space, and shared extents on
    filesystems that reflink); by plain reads and writes where it cannot."""
    kernel = hasattr(os, "copy_file_range")
    while count:
        if kernel:
            try:
                done = os.copy_file_range(src, dst, count, offset)
            except OSError as e:
                if e.errno not in (errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
                    raise
                done = 0
            # Some filesystems answer 0 rather than an error; reading decides.
            kernel = done > 0
        else:
            data = os.pread(src, min(count, 1 << 20), offset)
            if not data:
                raise ValueError("the source file ends inside a row group")
            done = os.write(dst, data)
        offset += done
        count -= done


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _check_same_header(path: Path, meta: Struct, first_path: Path, first: Struct) -> None:
    """Every FileMetaData field but row_groups and num_rows must be equal:
    the new footer takes them from the first file and must fit every group."""
    def header(fields: Struct) -> dict:
        return {fid: (ttype, value) for fid, ttype, value in fields if fid not in (FMD_NUM_ROWS, FMD_ROW_GROUPS)}

    ours, theirs = header(meta), header(first)
    for fid in sorted(ours.keys() | theirs.keys()):
        if ours.get(fid) != theirs.get(fid):
            name = FILE_METADATA_FIELDS.get(fid, f"field {fid}")
            raise ValueError(f"{path}: FileMetaData.{name} differs from {first_path}")


def splice(parts: Sequence[tuple[Path, int]], out: Path) -> None:
    """Write ``out``: a Parquet file whose row groups are, in order, row group
    ``i`` of file ``p`` for each ``(p, i)`` in ``parts``, their bytes copied.

    The footer is the first file's FileMetaData with the chosen RowGroup
    structs (offsets shifted to where each group now lies, ``ordinal``
    renumbered if present) and their summed ``num_rows``. Every other field
    must be the same in all source files, or ``ValueError`` names the first
    that differs.

    Empty ``parts`` raise ``ValueError``: with no source file there is no
    schema for the footer, so the caller writes empty tables with pyarrow.
    """
    if not parts:
        raise ValueError("nothing to splice: write an empty table with pyarrow")
    sources = {path: _groups(path) for path in dict.fromkeys(Path(p) for p, _ in parts)}
    # Opening ``out`` truncates it: it must not be a source, nor a hard link to one.
    if os.path.exists(out) and any(os.path.samefile(out, path) for path in sources):
        raise ValueError(f"{out} is one of the files it would be spliced from")
    first_path = Path(parts[0][0])
    for path, (meta, _, _) in sources.items():
        _check_same_header(path, meta, first_path, sources[first_path][0])

    chosen, position = [], len(MAGIC)
    for ordinal, (p, i) in enumerate(parts):
        _, groups, spans = sources[Path(p)]
        if not 0 <= i < len(groups):
            raise ValueError(f"{p} has no row group {i}")
        span = spans[i]
        chosen.append((Path(p), span, _moved(groups[i], position - span.start, ordinal)))
        position += span.end - span.start

    footer = [list(field) for field in sources[first_path][0]]
    groups = [group for _, _, group in chosen]
    _set(footer, FMD_ROW_GROUPS, (STRUCT, groups))
    _set(footer, FMD_NUM_ROWS, sum(span.rows for _, span, _ in chosen))
    footer_bytes = encode_struct(footer)
    written = footer, groups, [_span(out, i, group) for i, group in enumerate(groups)]

    with open(out, "wb", buffering=0) as f:
        _write_all(f.fileno(), MAGIC)
        for path, span, _ in chosen:
            with open(path, "rb", buffering=0) as src:
                _copy(src.fileno(), f.fileno(), span.start, span.end - span.start)
        _write_all(f.fileno(), footer_bytes + struct.pack("<I", len(footer_bytes)) + MAGIC)
    # The next release reads this footer to splice from this file.
    _keep(_kept_name(footer_bytes), written)
    _remember(footer_bytes, written)
