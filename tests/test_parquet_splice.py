"""Splicing Parquet row groups: on real files written by pyarrow the way a
release writes them, the spliced file is byte for byte what pyarrow writes."""
from __future__ import annotations

import errno
import os
import random
import struct

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dangjian.parquet_splice import decode_struct, encode_struct, row_group_spans, splice

ROWS = 3000

SCHEMA = pa.schema(
    [
        pa.field("doc_id", pa.string(), nullable=False, metadata={"description": "文档标识 / document id"}),
        pa.field("title", pa.string(), metadata={"description": "标题 / title, null when the report has none"}),
        pa.field("province", pa.string(), metadata={"description": "省份 / province"}),
        pa.field("year", pa.int32(), metadata={"description": "年份 / year of publication"}),
        pa.field("chars", pa.int64(), metadata={"description": "字数 / characters in the text"}),
        pa.field("has_table", pa.bool_(), metadata={"description": "含表格 / the report has a table"}),
        pa.field("score", pa.float64(), metadata={"description": "得分 / extraction score, 0 to 1"}),
    ],
    metadata={"description": "党建报告 / Party-building reports, one row per document"},
)

PHRASES = ["坚持党建引领", "基层党组织建设", "推动高质量发展", "全面推进乡村振兴", "深入开展主题教育", "加强作风建设"]
PROVINCES = ["浙江省", "江苏省", "广东省", "四川省", "山东省"]


def group(name: str, seed: int, rows: int = ROWS) -> pa.Table:
    """One row group's rows: ids ``<name>-00000…`` so that each group has its
    own id range, and a reader that mixed up statistics would skip wrong groups."""
    rng = random.Random(seed)
    return pa.table(
        {
            "doc_id": [f"{name}-{i:05d}" for i in range(rows)],
            "title": [None if rng.random() < 0.1 else "，".join(rng.sample(PHRASES, 2)) for _ in range(rows)],
            "province": [rng.choice(PROVINCES) for _ in range(rows)],
            "year": [rng.randint(2015, 2025) for _ in range(rows)],
            "chars": [rng.randint(200, 2_000_000) for _ in range(rows)],
            "has_table": [rng.random() < 0.3 for _ in range(rows)],
            "score": [None if rng.random() < 0.05 else rng.random() for _ in range(rows)],
        },
        schema=SCHEMA,
    )


def write(path, groups: list[pa.Table], schema: pa.Schema = SCHEMA, **options) -> None:
    """Write ``groups`` as a release does: one write_table call per row group."""
    with pq.ParquetWriter(path, schema, compression="zstd", write_statistics=True, **options) as writer:
        for part in groups:
            writer.write_table(part.cast(schema), row_group_size=len(part))


def footer(path) -> bytes:
    data = path.read_bytes()
    (length,) = struct.unpack("<I", data[-8:-4])
    return data[-8 - length:-8]


def field(fields: list, fid: int) -> list:
    """The [id, type, value] entry of Thrift field ``fid`` in a decoded struct."""
    return next(f for f in fields if f[0] == fid)


@pytest.fixture(scope="module")
def groups() -> dict[str, pa.Table]:
    # g1new is the changed version of g1: other rows, and a different size in bytes.
    return {"g0": group("g0", 0), "g1": group("g1", 1), "g2": group("g2", 2), "g1new": group("g1", 11, ROWS + 700)}


@pytest.fixture
def files(tmp_path, groups):
    a, b, c = tmp_path / "a.parquet", tmp_path / "b.parquet", tmp_path / "c.parquet"
    write(a, [groups["g0"], groups["g1"], groups["g2"]])
    write(b, [groups["g1new"]])
    write(c, [groups["g0"], groups["g1new"], groups["g2"]])
    return a, b, c


def test_thrift_compact_encoding_follows_the_spec():
    # Field 1 i32 -1: short header (delta 1, type 5), zigzag 1, stop.
    assert encode_struct([[1, 5, -1]]) == b"\x15\x01\x00"
    # Field 20 i64 300 after field 1: delta 19 > 15, so the long header (type 6, zigzag 40).
    assert encode_struct([[1, 1, True], [20, 6, 300]]) == b"\x11\x06\x28\xd8\x04\x00"
    # A list of 15 i32: size no longer fits the header nibble (0xF5, then varint 15).
    wide = [[2, 9, (5, list(range(15)))]]
    assert encode_struct(wide)[:3] == b"\x29\xf5\x0f"
    assert decode_struct(encode_struct(wide)) == wide


def test_footer_decode_encode_gives_the_same_bytes(files, tmp_path, groups):
    page_index, sorted_file, wide = tmp_path / "pi.parquet", tmp_path / "sorted.parquet", tmp_path / "wide.parquet"
    write(page_index, [groups["g0"]], write_page_index=True)
    write(sorted_file, [groups["g2"], groups["g0"]], sorting_columns=[pq.SortingColumn(0)])
    # 20 columns: schema and row-group column lists longer than 14 take the long list header.
    pq.write_table(pa.table({f"c{i}": list(range(i, i + 100)) for i in range(20)}), wide, compression="zstd")
    for path in [*files, page_index, sorted_file, wide]:
        raw = footer(path)
        decoded = decode_struct(raw)
        assert encode_struct(decoded) == raw, path.name
        # The decoding means something: num_rows (3) and created_by (6) as pyarrow reads them.
        meta = pq.ParquetFile(path).metadata
        assert field(decoded, 3)[2] == meta.num_rows
        assert field(decoded, 6)[2].decode() == meta.created_by


def test_row_group_spans_tile_the_file(files):
    a = files[0]
    spans = row_group_spans(a)
    meta = pq.ParquetFile(a).metadata
    assert [s.index for s in spans] == [0, 1, 2]
    assert spans[0].start == 4
    assert all(x.end == y.start for x, y in zip(spans, spans[1:]))
    assert spans[-1].end == a.stat().st_size - 8 - len(footer(a))
    assert [s.rows for s in spans] == [meta.row_group(i).num_rows for i in range(3)]
    for span in spans:
        chunks = [meta.row_group(span.index).column(j) for j in range(meta.num_columns)]
        assert span.start == min(c.dictionary_page_offset or c.data_page_offset for c in chunks)
        assert span.end - span.start == sum(c.total_compressed_size for c in chunks)


def test_splicing_all_groups_in_order_gives_the_file_back(files, tmp_path):
    a = files[0]
    out = tmp_path / "out.parquet"
    splice([(a, 0), (a, 1), (a, 2)], out)
    assert out.read_bytes() == a.read_bytes()


def test_splice_across_files_is_what_pyarrow_writes(files, tmp_path):
    a, b, c = files
    out = tmp_path / "out.parquet"
    splice([(a, 0), (b, 0), (a, 2)], out)
    # The changed middle group is larger, so g2 lands at another offset than in A.
    assert row_group_spans(c)[2].start != row_group_spans(a)[2].start
    assert out.read_bytes() == c.read_bytes()


@pytest.mark.parametrize("order", [[2, 0], [1, 1, 0], [2]])
def test_moved_and_repeated_groups_are_what_pyarrow_writes(files, tmp_path, groups, order):
    a = files[0]
    expected, out = tmp_path / "expected.parquet", tmp_path / "out.parquet"
    write(expected, [groups[f"g{i}"] for i in order])
    splice([(a, i) for i in order], out)
    assert out.read_bytes() == expected.read_bytes()


def test_copy_without_copy_file_range_gives_the_same_bytes(files, tmp_path, monkeypatch):
    a, b, c = files
    tried = []

    def cross_device(*args, **kwargs):
        tried.append(args)
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "copy_file_range", cross_device, raising=False)
    out = tmp_path / "out.parquet"
    splice([(a, 0), (b, 0), (a, 2)], out)
    assert tried, "splice should try copy_file_range first"
    assert out.read_bytes() == c.read_bytes()


def test_spliced_file_reads_back_in_pyarrow_and_duckdb(files, tmp_path, groups):
    a, b, _ = files
    out = tmp_path / "out.parquet"
    splice([(a, 2), (b, 0), (a, 0)], out)
    expected = pa.concat_tables([groups["g2"], groups["g1new"], groups["g0"]])
    assert pq.read_table(out).equals(expected)
    meta = pq.ParquetFile(out).metadata
    assert meta.num_rows == expected.num_rows
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == [ROWS, ROWS + 700, ROWS]
    assert meta.row_group(1).column(0).statistics.min == "g1-00000"

    with duckdb.connect() as con:
        assert con.execute("SELECT count(*) FROM read_parquet(?)", [str(out)]).fetchone()[0] == expected.num_rows
        # Each id lies in one group; statistics attached to the wrong group would skip it.
        for doc_id in ["g0-00042", "g1-03500", "g2-02999"]:
            rows = con.execute("SELECT doc_id FROM read_parquet(?) WHERE doc_id = ?", [str(out), doc_id]).fetchall()
            assert rows == [(doc_id,)]
        counted = con.execute(
            "SELECT count(*) FROM read_parquet(?) WHERE doc_id >= ? AND year = ? AND province = ?",
            [str(out), "g1-", 2020, "浙江省"],
        ).fetchone()[0]
    tail = pa.concat_tables([groups["g2"], groups["g1new"]]).to_pylist()
    assert counted == sum(r["year"] == 2020 and r["province"] == "浙江省" for r in tail)


def test_differing_schema_is_refused(files, tmp_path, groups):
    a = files[0]
    wider = SCHEMA.set(3, pa.field("year", pa.int64(), metadata=SCHEMA.field("year").metadata))
    other = tmp_path / "other.parquet"
    write(other, [groups["g1"]], schema=wider)
    with pytest.raises(ValueError, match=r"FileMetaData\.schema "):
        splice([(a, 0), (other, 0)], tmp_path / "out.parquet")


def test_differing_metadata_is_refused(files, tmp_path, groups):
    a = files[0]
    redescribed = SCHEMA.with_metadata({"description": "党建报告 / another description"})
    other = tmp_path / "other.parquet"
    write(other, [groups["g1"]], schema=redescribed)
    with pytest.raises(ValueError, match=r"FileMetaData\.key_value_metadata"):
        splice([(other, 0), (a, 1)], tmp_path / "out.parquet")


def test_page_index_is_refused(tmp_path, groups):
    indexed = tmp_path / "indexed.parquet"
    write(indexed, [groups["g0"]], write_page_index=True)
    with pytest.raises(ValueError, match="page index"):
        splice([(indexed, 0)], tmp_path / "out.parquet")


def test_bloom_filter_is_refused(tmp_path, groups):
    filtered = tmp_path / "filtered.parquet"
    write(filtered, [groups["g0"]], bloom_filter_options={"doc_id": {"ndv": ROWS, "fpp": 0.05}})
    with pytest.raises(ValueError, match="bloom filter"):
        splice([(filtered, 0)], tmp_path / "out.parquet")


def test_non_contiguous_row_group_is_refused(files, tmp_path):
    a = files[0]
    # Claim one byte less for the first column chunk of group 0: a gap appears
    # between it and the next chunk, which a byte copy of the span would not mean.
    meta = decode_struct(footer(a))
    first_group = field(meta, 4)[2][1][0]  # FileMetaData.row_groups[0]
    chunk_meta = field(field(first_group, 1)[2][1][0], 3)[2]  # .columns[0].meta_data
    field(chunk_meta, 7)[2] -= 1  # total_compressed_size
    raw = encode_struct(meta)
    data = a.read_bytes()
    body = data[: len(data) - 8 - len(footer(a))]
    damaged = tmp_path / "damaged.parquet"
    damaged.write_bytes(body + raw + struct.pack("<I", len(raw)) + b"PAR1")
    with pytest.raises(ValueError, match="not one contiguous byte range"):
        row_group_spans(damaged)


def test_encrypted_footer_is_refused(files, tmp_path):
    data = files[0].read_bytes()
    sealed = tmp_path / "sealed.parquet"
    sealed.write_bytes(b"PARE" + data[4:-4] + b"PARE")
    with pytest.raises(ValueError, match="encrypted footer"):
        splice([(sealed, 0)], tmp_path / "out.parquet")


def test_writing_over_a_source_is_refused(files, tmp_path):
    a = files[0]
    link = tmp_path / "link.parquet"
    os.link(a, link)
    before = a.read_bytes()
    for out in (a, link):
        with pytest.raises(ValueError, match="spliced from"):
            splice([(a, 1)], out)
    assert a.read_bytes() == before


def test_empty_parts_and_missing_groups_are_refused(files, tmp_path):
    with pytest.raises(ValueError, match="empty table"):
        splice([], tmp_path / "out.parquet")
    with pytest.raises(ValueError, match="no row group 3"):
        splice([(files[0], 3)], tmp_path / "out.parquet")


def test_footer_that_would_not_re_encode_is_refused(files, tmp_path):
    a = files[0]
    raw = footer(a)
    # FileMetaData.version in the long field header (type byte, then zigzag id 1):
    # valid Thrift, but not the short form this encoder writes, so re-encoding would
    # silently change bytes outside the row groups.
    assert raw[0] == 0x15
    odd_footer = b"\x05\x02" + raw[1:]
    data = a.read_bytes()
    odd = tmp_path / "odd.parquet"
    odd.write_bytes(data[: len(data) - 8 - len(raw)] + odd_footer + struct.pack("<I", len(odd_footer)) + b"PAR1")
    assert pq.ParquetFile(odd).metadata.num_rows == 3 * ROWS
    with pytest.raises(ValueError, match="re-encode"):
        splice([(odd, 0)], tmp_path / "out.parquet")


def test_a_footer_is_decoded_once_for_its_bytes(files, tmp_path, groups, monkeypatch):
    """A release reads each old file's footer twice (the groups it may reuse,
    then the splice): the second time the decoded footer is taken from the
    first, but only while the footer's bytes are the same."""
    from dangjian import parquet_splice as ps

    monkeypatch.setattr(ps, "_DECODED", type(ps._DECODED)())
    decoded = []
    real = ps.decode_struct
    monkeypatch.setattr(ps, "decode_struct", lambda raw: (decoded.append(len(raw)), real(raw))[1])
    a = files[0]
    spans = row_group_spans(a)
    out = tmp_path / "out.parquet"
    splice([(a, 2), (a, 0)], out)
    assert len(decoded) == 1
    assert pq.read_table(out).equals(pa.concat_tables([groups["g2"], groups["g0"]]))
    # The same path, written again with other groups: decoded anew, and its spans are its own.
    write(a, [groups["g1new"], groups["g0"]])
    assert [s.rows for s in row_group_spans(a)] == [ROWS + 700, ROWS] != [s.rows for s in spans]
    assert len(decoded) == 2
    splice([(a, 0)], out)
    assert pq.read_table(out).equals(groups["g1new"])


def test_footers_kept_between_runs_are_those_decoding_gives(files, tmp_path, groups, monkeypatch):
    """A release keeps decoded footers on disk for the next run: the footers
    of the files it read and of the file it spliced. A later run (nothing in
    memory) takes them instead of decoding, and gets what decoding gives; an
    entry that cannot be read is decoded again; entries a run does not use
    are deleted when it ends."""
    from dangjian import parquet_splice as ps

    store = tmp_path / "footers"
    a, b, _ = files
    out = tmp_path / "out.parquet"
    with ps.kept_footers(store):
        splice([(a, 2), (b, 0), (a, 0)], out)
    assert len(list(store.iterdir())) == 3  # a, b and what was written

    # What decoding gives, with nothing kept anywhere.
    monkeypatch.setattr(ps, "_DECODED", type(ps._DECODED)())
    fresh = {p: ps._groups(p) for p in (a, out)}
    assert [s.rows for s in fresh[out][2]] == [ROWS, ROWS + 700, ROWS]

    decoded = []
    real = ps.decode_struct
    monkeypatch.setattr(ps, "decode_struct", lambda raw: (decoded.append(len(raw)), real(raw))[1])
    monkeypatch.setattr(ps, "_DECODED", type(ps._DECODED)())  # a new run
    again = tmp_path / "again.parquet"
    with ps.kept_footers(store):
        kept = {p: ps._groups(p) for p in (a, out)}
        splice([(out, 1), (out, 2)], again)  # reads out's kept footer
    assert decoded == []
    assert kept == fresh
    assert pq.read_table(again).equals(pa.concat_tables([groups["g1new"], groups["g0"]]))
    assert len(list(store.iterdir())) == 3  # b's entry went unused and is gone; again's is new

    # A damaged entry is decoded again, to the same footer.
    for entry in store.iterdir():
        entry.write_bytes(entry.read_bytes()[:40])
    monkeypatch.setattr(ps, "_DECODED", type(ps._DECODED)())
    with ps.kept_footers(store):
        assert ps._groups(out) == fresh[out]
    assert len(decoded) == 1
    monkeypatch.setattr(ps, "_DECODED", type(ps._DECODED)())
    with ps.kept_footers(store):  # and kept again
        assert ps._groups(out) == fresh[out]
    assert len(decoded) == 1
