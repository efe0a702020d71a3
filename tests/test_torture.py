"""A torture corpus: every file becomes a document or a rejection with a reason.

The corpus is written by the test (bytes built here, plus the seeds), run
through the real asset graph, and each file's outcome is checked and printed
(`pytest -s` shows the table that goes into the closing notes).
"""
from __future__ import annotations

import dataclasses
import io
import json
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

import duckdb
import pytest
from conftest import RAW
from test_pipeline import materialize

from dangjian import sources
from dangjian.ingest import ingest_folder
from dangjian.warehouse import PUBLISHED_DB

SEED = (RAW / "001_fb00645a8e6ebd2d.txt").read_text(encoding="utf-8")
TRAD = (RAW / "002_ad230b4f88e2bb90.txt").read_text(encoding="utf-8")

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n" + bytes(range(256)) * 4


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("article.txt", SEED)
    return buf.getvalue()


def build_corpus(raw: Path, outside: Path) -> dict[str, str]:
    """Write the corpus; return, per path, the outcome we require
    ("document", "rejected", "duplicate")."""
    raw.mkdir()
    expected = {}

    def put(name: str, data: bytes, outcome: str) -> None:
        path = raw / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        expected[name] = outcome

    put("empty.txt", b"", "rejected")
    put("whitespace.txt", b"  \n\t\r\n\xe3\x80\x80\n", "rejected")
    put("image.png", PNG, "rejected")
    put("archive.zip", _zip(), "rejected")
    put("paper.pdf", PDF, "rejected")
    # A multi-byte character cut off at the very end of the file.
    put("truncated-utf8.txt", SEED.encode("utf-8")[:-2], "document")  # the cut-off fragment is left out
    lines = SEED.splitlines()
    mixed = "\n".join(lines[:3]).encode("utf-8") + b"\n" + "\n".join(lines[3:6]).encode("gbk")
    put("mixed-utf8-gbk.txt", mixed, "rejected")
    put("gb18030-only.txt", ("龑䶮年号乾亨。" + SEED[:400] + "𠀀").encode("gb18030"), "document")
    put("big5-hkscs.txt", ("香港深水埗區𨋢" + TRAD[:600]).encode("big5hkscs"), "document")
    put("utf16-no-bom.txt", SEED.encode("utf-16-le"), "document")
    put("html-no-article.html",
        b"<html><head><title>x</title><script>var a='\xe5\x85\x9a';</script><style>p{}</style></head>"
        b"<body><nav><a href='/'>&nbsp;</a></nav><div style='display:none'>\xe9\x9a\x90\xe8\x97\x8f</div></body></html>",
        "rejected")
    deep = "<div>" * 20000 + "<p>" + SEED[:300] + "</p>" + "</div>" * 20000
    put("deep-nesting.html", deep.encode("utf-8"), "document")
    put("one line 5MB.txt", (SEED.replace("\n", "") * 700)[: 5 * 1024 * 1024 // 3].encode("utf-8"), "document")
    put("same bytes A.txt", TRAD.encode("utf-8"), "document")
    put("same bytes B.txt", TRAD.encode("utf-8"), "duplicate")
    put("中文 文件名.txt", SEED[200:900].encode("utf-8"), "document")
    put("-leading-dash.txt", SEED[900:1600].encode("utf-8"), "document")
    put("nested/deeper/still.txt", SEED[1600:2400].encode("utf-8"), "document")

    outside.mkdir(exist_ok=True)
    (outside / "secret.txt").write_text("外部文件,不得读取。", encoding="utf-8")
    os.symlink(outside / "secret.txt", raw / "link-outside.txt")
    expected["link-outside.txt"] = "rejected"
    os.symlink(outside, raw / "linked-folder")
    expected["linked-folder"] = "rejected"
    os.mkfifo(raw / "a-pipe")
    expected["a-pipe"] = "rejected"
    return expected


@pytest.fixture(scope="module")
def torture(tmp_path_factory):
    root = tmp_path_factory.mktemp("torture")
    raw = root / "raw"
    expected = build_corpus(raw, root / "outside")
    warehouse = root / "warehouse"
    assert materialize(raw, warehouse).success
    with duckdb.connect(str(warehouse / PUBLISHED_DB), read_only=True) as con:
        files = {r[0]: r[1:] for r in con.execute("SELECT path, status, reason, doc_id FROM source_files").fetchall()}
        docs = {r[0]: r[1:] for r in con.execute("SELECT doc_id, encoding, text IS NULL, source_paths FROM documents").fetchall()}
        rejected = dict(con.execute("SELECT path, error FROM rejected_files").fetchall())
    return expected, files, docs, rejected, warehouse


def test_every_file_is_accounted_for(torture):
    expected, files, docs, rejected, _ = torture
    print("\nTORTURE outcome per file:")
    for path in sorted(expected):
        status, reason, doc_id = files[path]
        detail = reason if status != "document" else f"encoding {docs[doc_id][0]}"
        print(f"  {path:28s} {status:10s} {detail}")
    assert set(files) == set(expected)
    assert {p: files[p][0] for p in expected} == expected
    for path, (status, reason, _) in files.items():
        if status == "rejected":
            assert reason and len(reason) > 10, path
            assert path in rejected


def test_reasons_say_what_is_wrong(torture):
    _, files, _, rejected, _ = torture
    reason = {p: r for p, (_, r, _) in files.items()}
    assert "empty" in reason["empty.txt"]
    assert "whitespace" in reason["whitespace.txt"]
    assert "PNG" in reason["image.png"] and "ZIP" in reason["archive.zip"].upper() and "PDF" in reason["paper.pdf"]
    assert "symbolic link" in reason["link-outside.txt"] and rejected["link-outside.txt"] == "symlink"
    assert "regular file" in reason["a-pipe"]
    assert "mixed" in reason["mixed-utf8-gbk.txt"].lower() or "GBK" in reason["mixed-utf8-gbk.txt"]


def test_encodings_and_rare_characters_survive(torture):
    _, files, docs, _, warehouse = torture
    with duckdb.connect(str(warehouse / "work" / "dangjian_work.duckdb"), read_only=True) as con:
        text = dict(con.execute('SELECT source_path, source_text FROM "documents"."documents"').fetchall())
    assert docs[files["gb18030-only.txt"][2]][0] == "gb18030"
    assert "䶮" in text["gb18030-only.txt"] and "𠀀" in text["gb18030-only.txt"]
    assert docs[files["big5-hkscs.txt"][2]][0] in ("big5hkscs", "big5")
    assert "𨋢" in text["big5-hkscs.txt"]
    assert docs[files["utf16-no-bom.txt"][2]][0] == "utf-16-le"
    assert text["utf16-no-bom.txt"] == SEED
    assert "secret" not in "".join(text.values()) and "外部文件" not in "".join(text.values())


def test_same_bytes_are_one_document_with_both_paths(torture):
    _, files, docs, _, _ = torture
    doc_id = files["same bytes A.txt"][2]
    assert files["same bytes B.txt"][2] == doc_id
    assert sorted(docs[doc_id][2]) == ["same bytes A.txt", "same bytes B.txt"]


def test_a_50_mb_file_is_ingested(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    body = (SEED + "\n") * (50 * 1024 * 1024 // len((SEED + "\n").encode("utf-8")) + 1)
    (raw / "big.txt").write_text(body, encoding="utf-8")
    assert (raw / "big.txt").stat().st_size >= 50 * 1024 * 1024
    result = ingest_folder(raw)
    assert [d["source_path"] for d in result.documents] == ["big.txt"] and not result.rejected_files
    assert result.documents[0]["chars"] > 15_000_000


def _ingest_as_nobody(raw: Path) -> dict:
    """Ingest ``raw`` in a forked child that has dropped root for 'nobody'.

    Forking (not exec-ing a new interpreter) matters: the interpreter may live
    under /root, which 'nobody' cannot enter. The parent warms every cache the
    ingest needs first, so the child reads nothing but the raw folder.
    """
    ingest_folder(RAW)  # warm: imports, OpenCC dictionaries, regexes
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        try:
            os.close(read_fd)
            if os.geteuid() == 0:
                os.setgid(65534)
                os.setuid(65534)
            r = ingest_folder(raw)
            out = {"documents": [d["source_path"] for d in r.documents],
                   "rejected": {x["path"]: [x["error"], x["reason"]] for x in r.rejected_files}}
            os.write(write_fd, json.dumps(out).encode())
        finally:
            os._exit(0)
    os.close(write_fd)
    with os.fdopen(read_fd) as f:
        data = f.read()
    os.waitpid(pid, 0)
    assert data, "the child process reported nothing"
    return json.loads(data)


def test_an_unreadable_file_is_reported():
    """Permissions are checked as an ordinary user: root reads everything, so
    when the tests run as root the ingest runs as 'nobody'."""
    # pytest's own temp folders are private to root; this one must be reachable by 'nobody'.
    base = Path(tempfile.mkdtemp(prefix="dangjian-perm-"))
    try:
        raw = base / "raw"
        raw.mkdir()
        (raw / "ok.txt").write_text(SEED, encoding="utf-8")
        (raw / "locked.txt").write_text(SEED[:500], encoding="utf-8")
        os.chmod(raw / "locked.txt", 0)
        for p in (base, raw, raw / "ok.txt"):
            os.chmod(p, 0o755)
        result = _ingest_as_nobody(raw)
        assert result["documents"] == ["ok.txt"]
        assert result["rejected"]["locked.txt"][0] == "unreadable"
        assert "permission" in result["rejected"]["locked.txt"][1]
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_rejections_carry_an_error_class(torture):
    _, _, _, rejected, _ = torture
    assert rejected == {
        "empty.txt": "empty", "whitespace.txt": "empty", "image.png": "binary", "archive.zip": "binary",
        "paper.pdf": "binary", "mixed-utf8-gbk.txt": "mixed_encoding", "html-no-article.html": "no_text",
        "link-outside.txt": "symlink", "linked-folder": "symlink", "a-pipe": "not_a_file",
    }


def test_workers_read_the_corpus_as_one_process_does(tmp_path):
    """Ingest in two worker processes, two files to decode per batch, gives
    the same documents, rejections and accounting, in the same order, as
    reading in this process. A later copy of a rejected file is read again
    (here, not in a batch) and rejected again. Workers start only when more
    batches than workers read something: a re-run that reads one file starts
    none."""
    raw = tmp_path / "raw"
    build_corpus(raw, tmp_path / "outside")
    shutil.copy(raw / "image.png", raw / "zz image again.png")
    shutil.copy(raw / "same bytes A.txt", raw / "zz same bytes C.txt")
    here = ingest_folder(raw, batch_size=2, workers=1)
    pooled = ingest_folder(raw, batch_size=2, workers=2)
    assert (here.workers, pooled.workers) == (1, 2)
    assert pooled.source_files == here.source_files
    assert pooled.rejected_files == here.rejected_files
    assert pooled.documents == here.documents and pooled.keys == here.keys and pooled.paths == here.paths
    status = {r["path"]: r["status"] for r in pooled.source_files}
    assert status["zz image again.png"] == "rejected" and status["zz same bytes C.txt"] == "duplicate"
    assert pooled.processed == len(pooled.documents) >= 10

    # Re-runs: rejected files are read every time, so they go first.
    for r in pooled.rejected_files:
        (raw / r["path"]).unlink()
    docs = sorted(pooled.keys)
    for changed, workers in ((1, 1), (3, 2)):
        known = {d: pooled.keys[d] for d in docs[changed:]}
        again = ingest_folder(raw, batch_size=1, workers=2, known=known)
        assert (again.workers, again.processed, len(again.kept)) == (workers, changed, len(known))


def test_the_raw_index_changes_what_is_read_and_nothing_else(tmp_path):
    """Over the torture corpus (rejections, duplicates, a later copy of a
    rejected file), ingest with every file vouched for by the raw-folder
    index gives the rows of reading every file, whichever documents must be
    processed again: all, none, or every other one."""
    raw = tmp_path / "raw"
    build_corpus(raw, tmp_path / "outside")
    shutil.copy(raw / "image.png", raw / "zz image again.png")
    shutil.copy(raw / "same bytes A.txt", raw / "zz same bytes C.txt")
    first = ingest_folder(raw)
    # Records as if hashed long after each file's last change: all trusted.
    trusted = {p: dataclasses.replace(e, hashed_ns=max(e.mtime_ns, e.ctime_ns) + sources.RACY_NS + 1)
               for p, e in first.index.items()}
    docs = sorted(first.keys)
    for known in ({}, dict(first.keys), {d: first.keys[d] for d in docs[::2]}):
        plain = ingest_folder(raw, known=known)
        indexed = ingest_folder(raw, known=known, index=trusted)
        assert indexed.source_files == plain.source_files
        assert indexed.rejected_files == plain.rejected_files
        assert indexed.documents == plain.documents
        assert (indexed.keys, indexed.paths, indexed.kept) == (plain.keys, plain.paths, plain.kept)
        assert {p: e.sha256 for p, e in indexed.index.items()} == {p: e.sha256 for p, e in plain.index.items()}
        assert indexed.files_read + indexed.files_indexed == plain.files_read
    assert ingest_folder(raw, known=first.keys, index=trusted).files_indexed == len(
        [f for f in first.source_files if f["status"] in ("document", "duplicate", "manifest")])
