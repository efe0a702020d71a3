"""The ``dangjian`` command line, run as a user runs it: a separate process."""
from __future__ import annotations

import collections
import json
import subprocess
import sys

from conftest import RAW

CLI = [sys.executable, "-m", "dangjian.cli"]


def run(args, stdin=None):
    return subprocess.run(CLI + args, input=stdin, capture_output=True, text=True, timeout=120)


def test_normalize_jsonl():
    lines = ["全县1.1萬人次參加培訓,網辦化率達90%。", "百分之八十五的村", "深入推进“五双”战略"]
    out = run(["normalize", "--jsonl"], "\n".join(lines) + "\n")
    assert out.returncode == 0, out.stderr
    records = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(records) == 3
    first = records[0]
    assert first["text"] == "全县1.1万人次参加培训,网办化率达90%。"
    by_text = {n["text"]: n for n in first["numbers"]}
    assert by_text["1.1萬人次"]["value"] == 11000 and by_text["1.1萬人次"]["unit"] == "人次"
    assert by_text["90%"]["value"] == 90 and by_text["90%"]["kind"] == "percent"
    for rec, line in zip(records, lines):
        for n in rec["numbers"]:
            assert line[n["start"]:n["end"]] == n["text"]
    assert records[1]["numbers"][0]["value"] == 85 and records[1]["numbers"][0]["kind"] == "percent"
    # The slogan's numeral is a term, never a quantity.
    assert all(n["kind"] == "term" for n in records[2]["numbers"])


def test_extract_jsonl_offsets_point_into_the_source_file(tmp_path):
    seed = RAW / "004_2cf8f4e56bd97bdb.txt"
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    out = run(["extract", "--format", "jsonl", str(bad), str(seed)])
    assert out.returncode == 1
    assert "bad.png" in out.stderr and "rejected" in out.stderr
    records = [json.loads(line) for line in out.stdout.splitlines()]
    docs = [r for r in records if r["type"] == "document"]
    assert len(docs) == 1 and docs[0]["file"] == str(seed) and docs[0]["encoding"] == "utf-8"
    source = seed.read_text(encoding="utf-8")
    numbers = [r for r in records if r["type"] == "number"]
    assert len(numbers) > 50
    for n in numbers:
        assert source[n["start"]:n["end"]] == n["text"]
    assert any(n["text"] == "26423個" and n["value"] == 26423 for n in numbers)
    # Indicators carry the place their sentence names, else the document's
    # main locality, as in the pipeline: 吴江区 (320509) and once 苏州市.
    places = collections.Counter(r["place_adcode"] for r in records if r["type"] == "indicator")
    assert places == {"320509": 33, "320500": 2}


def test_extract_missing_file_is_reported_after_the_good_ones(tmp_path):
    out = run(["extract", str(tmp_path / "nope.txt"), str(RAW / "003_6fc1dc587f997423.txt")])
    assert out.returncode == 1
    assert "nope.txt" in out.stderr
    assert '"type": "document"' in out.stdout


def test_run_explains_a_missing_or_empty_raw_folder(tmp_path):
    out = run(["run", "--raw-dir", str(tmp_path / "nowhere"), "--warehouse-dir", str(tmp_path / "wh")])
    assert out.returncode == 1
    assert "does not exist" in out.stderr and "DANGJIAN_RAW_DIR" in out.stderr
    (tmp_path / "empty").mkdir()
    out = run(["run", "--raw-dir", str(tmp_path / "empty"), "--warehouse-dir", str(tmp_path / "wh")])
    assert out.returncode == 1
    assert "has no files" in out.stderr and "Put articles" in out.stderr


def test_run_explains_an_unwritable_warehouse(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the warehouse folder should be")
    out = run(["run", "--raw-dir", str(RAW), "--warehouse-dir", str(blocker / "wh")])
    assert out.returncode == 1
    assert "cannot create the warehouse folder" in out.stderr and "DANGJIAN_WAREHOUSE_DIR" in out.stderr
