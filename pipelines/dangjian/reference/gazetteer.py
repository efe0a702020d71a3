"""The gazetteer of Chinese administrative divisions: loading and lookups.

The data are vendored under ``dangjian/data/gazetteer`` (PROVENANCE.md there
says where each file comes from; ``tools/build_gazetteer.py`` rebuilds them):

- ``divisions.parquet``: provinces, prefectures and counties, current and
  withdrawn (MCA yearly lists 1980–2024), county-level statistical units, and
  towns (NBS 2023). One row per code.
- ``villages.parquet``: villages and urban communities (NBS 2023), code and
  name only; everything else about a village follows from its town.

``load_admin_divisions`` gives the whole ``reference.admin_divisions`` table.
``Gazetteer`` is what the place finder uses: name → candidates, children of
a code, the code in force in a given year, full names. It reads the small
file at once (about 48,000 rows) and the villages only when first asked.
Nothing is read at import time.
"""
from __future__ import annotations

import bisect
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, cached_property, lru_cache
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from dangjian.reference.tables import ADMIN_DIVISIONS

DATA_DIR = Path(__file__).resolve().parents[1] / "data" / "gazetteer"
UPPER_LEVELS = ("province", "prefecture", "county")
LEVEL_RANK = {"province": 0, "prefecture": 1, "county": 2, "town": 3, "village": 4}
VILLAGE_SOURCE = "china-division 2.7.0 (NBS 2023)"


@dataclass(frozen=True, slots=True)
class Division:
    """One row of ``admin_divisions`` (villages are built on demand)."""

    code: str
    name: str
    short_name: str | None
    level: str
    parent_code: str | None
    valid_from: int | None
    valid_to: int | None
    successor_code: str | None
    former_names: tuple[tuple[str, int | None, int | None], ...]
    short_name_is_common_word: bool
    lat: float | None
    lon: float | None
    coord_source: str | None
    coord_code: str | None
    source: str

    @property
    def is_current(self) -> bool:
        return self.valid_to is None

    def valid_in(self, year: int) -> bool:
        return (self.valid_from is None or self.valid_from <= year) and (self.valid_to is None or year < self.valid_to)


@dataclass(frozen=True, slots=True)
class CodeChoice:
    """The code in force at a date, and the other code of the same division."""

    code: str
    alt_code: str | None


def _year(date: str | int | None) -> int | None:
    """2021, '2021', '2021-07-05', '2017-08-10T08:46' → the year; None stays None."""
    if date is None or isinstance(date, int):
        return date
    m = re.match(r"\s*(\d{4})", date)
    return int(m.group(1)) if m else None


#: Answers of ``_Villages.exists`` kept per process (about 10 MB when full).
EXISTS_CACHE = 1 << 16


def _name_lookup(off: memoryview, data: bytes, n: int) -> Callable[[str], bool]:
    """``exists(name)``: whether ``name`` is one of the ``n`` sorted UTF-8
    strings in ``data`` (``off``: their offsets), by binary search, with the
    last answers kept."""

    @lru_cache(maxsize=EXISTS_CACHE)
    def exists(name: str) -> bool:
        key = name.encode("utf-8")
        lo, hi = 0, n
        while lo < hi:
            mid = (lo + hi) // 2
            if data[off[mid]: off[mid + 1]] < key:
                lo = mid + 1
            else:
                hi = mid
        return lo < n and data[off[lo]: off[lo + 1]] == key

    return exists


class _Villages:
    """The 620,573 villages as Arrow arrays, sorted by code.

    Kept columnar: Python objects for every village would cost far more
    memory than the place finder needs. ``in_town`` slices one town's
    villages; ``exists`` answers "is this a village name anywhere" by binary
    search over the sorted unique names' UTF-8 bytes.
    """

    def __init__(self, path: Path):
        table = pq.ParquetFile(path).read(use_threads=False)
        self.codes: pa.Array = table.column("code").combine_chunks()
        self.names: pa.Array = table.column("name").combine_chunks()
        towns = pc.utf8_slice_codeunits(self.codes, 0, 9)
        counts = pc.value_counts(towns)  # in order of first appearance, which is sorted
        self.town_range: dict[str, tuple[int, int]] = {}
        start = 0
        for town, n in zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist()):
            self.town_range[town] = (start, start + n)
            start += n
        unique = pc.unique(self.names)
        unique = unique.take(pc.sort_indices(unique)).cast(pa.large_string())
        _, offsets, data = unique.buffers()
        self._offsets = memoryview(offsets).cast("q")[: len(unique) + 1]
        self._data = data.to_pybytes()
        self._n = len(unique)
        # The place finder asks about the same few thousand words again and
        # again (农村, 乡村 and a county's own villages in every document of
        # it); each answer costs a binary search in Python. The cache holds
        # the arrays, not this object: a cycle through it would keep the
        # villages alive once the collector has frozen them (gc.freeze).
        self.exists = _name_lookup(self._offsets, self._data, self._n)

    def in_town(self, town_code: str) -> list[tuple[str, str]]:
        lo, hi = self.town_range.get(town_code, (0, 0))
        return list(zip(self.codes.slice(lo, hi - lo).to_pylist(), self.names.slice(lo, hi - lo).to_pylist()))


    @property
    def nbytes(self) -> int:
        return self.codes.nbytes + self.names.nbytes + len(self._data) + self._offsets.nbytes


def _coordinates(col: dict[str, list]) -> list[tuple]:
    """(lat, lon, coord_source, coord_code) per row: the row's own point;
    else a withdrawn code's same-named successor's; else the nearest division
    above that has one. Never made up."""
    index = {code: i for i, code in enumerate(col["code"])}
    lat, lon, parent, succ, short = col["lat"], col["lon"], col["parent_code"], col["successor_code"], col["short_name"]
    out: list[tuple] = []
    for i, code in enumerate(col["code"]):
        if lat[i] is not None:
            out.append((lat[i], lon[i], "own", code))
            continue
        found = None
        s, seen = succ[i], set()
        while s in index and s not in seen:
            seen.add(s)
            j = index[s]
            if short[j] != short[i]:
                break
            if lat[j] is not None:
                found = (lat[j], lon[j], "successor", s)
                break
            s = succ[j]
        p = parent[i]
        while found is None and p in index:
            j = index[p]
            if lat[j] is not None:
                found = (lat[j], lon[j], "parent", p)
            p = parent[j]
        out.append(found or (None, None, None, None))
    return out


class Gazetteer:
    """Lookups over the administrative divisions. Use ``Gazetteer.load()``."""

    def __init__(self, data_dir: Path = DATA_DIR):
        self.data_dir = data_dir
        # ParquetFile.read, not read_table: the dataset machinery behind
        # read_table costs a quarter of a second and 50 MB more on first use.
        table = pq.ParquetFile(data_dir / "divisions.parquet").read(use_threads=False)
        col = {name: table.column(name).to_pylist() for name in table.column_names}
        del table
        # One string object per distinct level, source and parent code.
        for name in ("level", "source", "parent_code", "successor_code"):
            col[name] = [None if v is None else sys.intern(v) for v in col[name]]
        codes, parents = col["code"], col["parent_code"]
        self.children_of: dict[str, list[str]] = {}
        for code, parent in zip(codes, parents):
            if parent is not None:
                self.children_of.setdefault(parent, []).append(code)
        coords = _coordinates(col)
        former = [tuple((f["name"], f["valid_from"], f["valid_to"]) for f in fs) if fs else () for fs in col["former_names"]]
        self.by_code: dict[str, Division] = {
            code: Division(code, *rest)
            for code, *rest in zip(
                codes, col["name"], col["short_name"], col["level"], parents, col["valid_from"], col["valid_to"],
                col["successor_code"], former, map(bool, col["short_name_is_common_word"]), *zip(*coords), col["source"],
            )
        }
        del col, coords, former
        # Predecessors: the inverse of successor_code. Where several codes
        # were merged into one, the one with the same short name is the
        # predecessor (吴江市 320584 → 吴江区 320509).
        preds: dict[str, list[str]] = {}
        for d in self.by_code.values():
            if d.successor_code:
                preds.setdefault(d.successor_code, []).append(d.code)
        self.predecessor: dict[str, str] = {}
        for code, olds in preds.items():
            same = [o for o in olds if self.by_code[o].short_name == self.by_code[code].short_name]
            if len(olds) == 1 or len(same) == 1:
                self.predecessor[code] = olds[0] if len(olds) == 1 else same[0]
        # Name indexes: full names (current and former) and short names.
        self.by_name: dict[str, list[str]] = {}
        self.by_short: dict[str, list[str]] = {}
        for d in self.by_code.values():
            self.by_name.setdefault(d.name, []).append(d.code)
            for former, _, _ in d.former_names:
                if former != d.name:
                    self.by_name.setdefault(former, []).append(d.code)
            if d.level in UPPER_LEVELS and d.short_name and d.short_name != d.name:
                self.by_short.setdefault(d.short_name, []).append(d.code)
        self._full_names: dict[str, str] = {}
        self._lineages: dict[str, tuple[str, ...]] = {}

    @classmethod
    def load(cls) -> Gazetteer:
        """The shared gazetteer over the vendored data (read once per process)."""
        return _shared()

    # --- lookups ---------------------------------------------------------------

    def get(self, code: str) -> Division | None:
        d = self.by_code.get(code)
        if d is None and len(code) == 12:
            d = self.village(code)
        return d

    def candidates(self, name: str, levels: tuple[str, ...] | None = None, short: bool = True) -> list[Division]:
        """Divisions called ``name``: by full name (current or former), and for
        provinces, prefectures and counties also by short name (海门 →
        海门区 320614, 海门市 320684, …). Villages only when ``levels`` asks
        for them (a scan of 620,000 names). Sorted by level, current first, code.
        """
        codes = list(self.by_name.get(name, ()))
        if short:
            codes += [c for c in self.by_short.get(name, ()) if c not in codes]
        found = [self.by_code[c] for c in codes]
        if levels is not None and "village" in levels:
            v = self.villages
            idx = pc.indices_nonzero(pc.equal(v.names, name)).to_pylist()
            found += [self.village(v.codes[i].as_py()) for i in idx]
        if levels is not None:
            found = [d for d in found if d.level in levels]
        return sorted(found, key=lambda d: (LEVEL_RANK[d.level], d.valid_to is not None, d.code))

    def children(self, code: str, include_withdrawn: bool = False) -> list[Division]:
        """Divisions directly under ``code``; a town's children are its villages."""
        if len(code) == 9:
            return [self.village(c) for c, _ in self.villages.in_town(code)]
        kids = [self.by_code[c] for c in self.children_of.get(code, ())]
        return [d for d in kids if include_withdrawn or d.is_current]

    def ancestors(self, code: str) -> list[Division]:
        """From the parent up to the province."""
        out = []
        d = self.get(code)
        while d is not None and d.parent_code:
            d = self.by_code.get(d.parent_code)
            if d is not None:
                out.append(d)
        return out

    def full_name(self, code: str) -> str:
        """甘肃省平凉市灵台县西屯镇店子村: names from the province down."""
        cached = self._full_names.get(code)
        if cached is not None:
            return cached
        d = self.get(code)
        if d is None:
            raise KeyError(code)
        full = (self.full_name(d.parent_code) if d.parent_code and d.parent_code in self.by_code else "") + d.name
        if len(code) < 12:
            self._full_names[code] = full
        return full

    def lineage(self, code: str) -> list[str]:
        """The codes one division has had, oldest first (海门县 … 海门市 320684, 海门区 320614)."""
        cached = self._lineages.get(code)
        if cached is None:
            cached = self._lineages[code] = self._lineage(code)
        return list(cached)

    def _lineage(self, code: str) -> tuple[str, ...]:
        back, c, seen = [], code, {code}
        while c in self.predecessor and self.predecessor[c] not in seen:
            c = self.predecessor[c]
            seen.add(c)
            back.append(c)
        forward, c = [], code
        while True:
            d = self.by_code.get(c)
            if d is None or not d.successor_code or d.successor_code in seen:
                break
            c = d.successor_code
            seen.add(c)
            forward.append(c)
        return (*back[::-1], code, *forward)

    def code_at(self, code_or_candidate: str | Division, date: str | int | None) -> CodeChoice:
        """The code in force at ``date`` (a year or ISO date) for the division
        that ``code_or_candidate`` names, with the other code kept as
        ``alt_code``: for a current code its latest predecessor, for a
        withdrawn one the current code. ``date=None`` means today.

        A year in which a code changed counts for the new code: the yearly
        lists are as of 31 December, and the month is not known.
        """
        code = code_or_candidate.code if isinstance(code_or_candidate, Division) else code_or_candidate
        if code not in self.by_code:  # towns and villages: one 2023 snapshot
            return CodeChoice(code, None)
        line = self.lineage(code)
        year = _year(date)
        if year is None:
            chosen = line[-1] if self.by_code[line[-1]].is_current else code
        else:
            valid = [c for c in line if self.by_code[c].valid_in(year)]
            if valid:
                chosen = valid[-1]
            else:
                first = self.by_code[line[0]]
                chosen = line[0] if first.valid_from is not None and year < first.valid_from else code
        if self.by_code[chosen].is_current:
            alt = self.predecessor.get(chosen)
        else:
            alt = line[-1] if line[-1] != chosen and self.by_code[line[-1]].is_current else self.by_code[chosen].successor_code
        return CodeChoice(chosen, alt)

    # --- towns and villages ------------------------------------------------------

    @cached_property
    def villages(self) -> _Villages:
        return _Villages(self.data_dir / "villages.parquet")

    @property
    def villages_loaded(self) -> bool:
        return "villages" in self.__dict__

    def village(self, code: str) -> Division | None:
        v = self.villages
        lo, hi = v.town_range.get(code[:9], (0, 0))
        codes = v.codes.slice(lo, hi - lo).to_pylist()
        i = bisect.bisect_left(codes, code)
        if i == len(codes) or codes[i] != code:
            return None
        return self._make_village(code, v.names[lo + i].as_py())

    def _make_village(self, code: str, name: str) -> Division:
        town = self.by_code[code[:9]]
        return Division(
            code=code, name=name, short_name=_village_short(name), level="village", parent_code=town.code,
            valid_from=None, valid_to=None, successor_code=None, former_names=(), short_name_is_common_word=False,
            lat=town.lat, lon=town.lon, coord_source="parent" if town.lat is not None else None,
            coord_code=town.coord_code, source=VILLAGE_SOURCE,
        )

    def village_names_in(self, code: str) -> list[tuple[str, str]]:
        """(code, name) of the villages under a town (9 digits) or a
        county-level code (6 digits), without building a Division for each:
        the place finder only needs names and codes, for hundreds of
        villages per county."""
        if len(code) == 9:
            towns = [code]
        else:
            towns = [t.code for t in self.children(code) if t.level == "town"]
        return [pair for t in towns for pair in self.villages.in_town(t)]


def _village_short(name: str) -> str | None:
    for suffix in ("社区", "居委会", "嘎查", "村"):
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return None


@cache
def _shared() -> Gazetteer:
    return Gazetteer(DATA_DIR)


def forget() -> None:
    """Let go of this process's gazetteer and ``admin_divisions`` table
    (about 200 MB); the next lookup loads them again. For a long-running
    process that needed them for one step only."""
    _shared.cache_clear()
    load_admin_divisions.cache_clear()


@cache
def load_admin_divisions() -> pa.Table:
    """The ``reference.admin_divisions`` table: every division, villages included.

    Built from the vendored files on first call and kept for the process.
    Villages take their town's ancestry, full name and coordinates through
    Arrow ``take``, so the 620,000 rows never become Python objects.
    """
    g = Gazetteer.load()
    upper = sorted(g.by_code.values(), key=lambda d: d.code)

    def ancestry(d: Division) -> dict:
        chain = {a.level: a.code for a in g.ancestors(d.code)}
        chain[d.level] = d.code
        return {
            "province_code": chain.get("province"),
            "prefecture_code": chain.get("prefecture"),
            "county_code": chain.get("county"),
        }

    rows = []
    for d in upper:
        rows.append({
            "code": d.code,
            "name": d.name,
            "short_name": d.short_name,
            "short_name_is_common_word": d.short_name_is_common_word if d.level in UPPER_LEVELS else None,
            "level": d.level,
            "parent_code": d.parent_code,
            **ancestry(d),
            "full_name": g.full_name(d.code),
            "former_names": [{"name": n, "valid_from": f, "valid_to": t} for n, f, t in d.former_names],
            "lat": d.lat,
            "lon": d.lon,
            "coord_source": d.coord_source,
            "coord_code": d.coord_code,
            "valid_from": d.valid_from,
            "valid_to": d.valid_to,
            "successor_code": d.successor_code,
            "source": d.source,
        })
    schema = ADMIN_DIVISIONS.arrow_schema
    upper_table = pa.Table.from_pylist(rows, schema=schema)

    v = g.villages
    towns = upper_table.filter(pc.equal(upper_table["level"], "town"))
    town_idx = pc.index_in(pc.utf8_slice_codeunits(v.codes, 0, 9), value_set=towns["code"])
    assert town_idx.null_count == 0, "every village's town is in divisions.parquet"

    def from_town(col: str) -> pa.Array:
        return pc.take(towns[col], town_idx).combine_chunks()

    n = len(v.codes)
    names = v.names
    shorts = pc.if_else(
        pc.match_substring_regex(names, r"^..+(社区|居委会|嘎查|村)$"),
        pc.replace_substring_regex(names, r"(社区|居委会|嘎查|村)$", ""),
        pa.nulls(n, pa.string()),
    )
    town_coord_source = from_town("coord_source")
    village_cols = {
        "code": v.codes,
        "name": names,
        "short_name": shorts,
        "short_name_is_common_word": pa.nulls(n, pa.bool_()),
        "level": pa.repeat("village", n),
        "parent_code": pc.utf8_slice_codeunits(v.codes, 0, 9),
        "province_code": from_town("province_code"),
        "prefecture_code": from_town("prefecture_code"),
        "county_code": from_town("county_code"),
        "full_name": pc.binary_join_element_wise(from_town("full_name"), names, ""),
        "former_names": pa.ListArray.from_arrays(pa.repeat(0, n + 1).cast(pa.int32()), pa.array([], schema.field("former_names").type.value_type)),
        "lat": from_town("lat"),
        "lon": from_town("lon"),
        "coord_source": pc.if_else(pc.is_null(town_coord_source), pa.nulls(n, pa.string()), pa.scalar("parent")),
        "coord_code": from_town("coord_code"),
        "valid_from": pa.nulls(n, pa.int16()),
        "valid_to": pa.nulls(n, pa.int16()),
        "successor_code": pa.nulls(n, pa.string()),
        "source": pa.repeat(VILLAGE_SOURCE, n),
    }
    village_table = pa.Table.from_arrays([village_cols[c].cast(schema.field(c).type) for c in schema.names], schema=schema)
    # Provinces to towns in code order, then the villages in code order; the
    # warehouse orders by key when it writes, so no sort of 670,000 rows here.
    return pa.concat_tables([upper_table, village_table])
