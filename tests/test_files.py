"""Files replaced whole (dangjian.files): the old content or the new, never part of either."""
from __future__ import annotations

import pytest

from dangjian.files import replaced_whole, write_whole


def test_a_file_is_replaced_whole_and_leaves_nothing_beside_it(tmp_path):
    path = tmp_path / "exports.json"
    write_whole(path, "旧的内容\n")
    with path.open(encoding="utf-8") as reader:  # a reader that opened the old file
        write_whole(path, "新的内容 «2» …\n", durable=True)
        assert reader.read() == "旧的内容\n"  # keeps reading what it opened
    assert path.read_text(encoding="utf-8") == "新的内容 «2» …\n"
    write_whole(path, b"\x00\xff bytes")
    assert path.read_bytes() == b"\x00\xff bytes"
    assert [p.name for p in tmp_path.iterdir()] == ["exports.json"]


def test_a_failed_write_keeps_the_old_file_and_removes_its_temporary(tmp_path):
    path = tmp_path / "index.html"
    path.write_text("<p>old</p>", encoding="utf-8")
    with pytest.raises(RuntimeError, match="disk full"), replaced_whole(path) as tmp:
        tmp.write_text("<p>half", encoding="utf-8")
        assert tmp.parent == path.parent and tmp.name.startswith(".index.html.")  # what leftover sweeps look for
        raise RuntimeError("disk full")
    assert path.read_text(encoding="utf-8") == "<p>old</p>"
    assert [p.name for p in tmp_path.iterdir()] == ["index.html"]
    with pytest.raises(TypeError):
        write_whole(path, {"not": "text"})  # type: ignore[arg-type]
    assert path.read_text(encoding="utf-8") == "<p>old</p>"
    assert [p.name for p in tmp_path.iterdir()] == ["index.html"]
