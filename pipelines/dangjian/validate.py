"""Great Expectations validation of the published tables.

The data: the tables of ``dangjian.schema`` (``source_files``, ``documents``,
``rejected_files``, ``paragraphs``, ``sentences``, ``numbers``, and any table
added there with its suite), as they lie in the working DuckDB or as Arrow
tables.

The rules live in ``expectations/<table>.json``, one Great Expectations 1.x
suite per table, in GE's own suite format (``gx.ExpectationSuite(**file)``
loads it). Every expectation carries ``meta = {"critical": bool, "why": str}``:
a failed critical expectation makes the table fail (a run must not publish
it); a failed non-critical one is a warning for a person to look at.
Conditional rules use GE's ``Condition`` JSON as ``row_condition`` (see
:func:`condition_text`); pandas query strings are deprecated in GE 1.x.

GE validates one DataFrame at a time, so the rules that span tables
(referential integrity, offsets inside the document's text) are prepared
here: before validation each table's DataFrame gets *derived columns*
(:data:`DERIVED`), e.g. ``ref_doc_chars`` = the ``chars`` of the row's
document, and the suites state the rule on them with ordinary expectations
(``ref_doc_chars >= end``). So every rule is a line in a suite file and every
outcome has the same shape. Two checks are plain code, reported in the same
shape: the Arrow schema against the data dictionary, and — where a derived
column cannot be computed because the table it needs was not given —
"not evaluated", which counts as failed: an unchecked rule is not a passed one.

The volume rule compares a table's rows with the previous release's: the
suite's ``expect_table_row_count_to_be_between`` takes its ``min_value`` from
the parameter ``min_rows_vs_previous_release``, computed here from
``previous_rows`` and the expectation's ``meta.max_drop`` (0.2: a drop of
more than 20 % of the rows fails).

A pipeline run validates the working database with :func:`validate_warehouse`:
once per run and, on later runs, only the rows that changed (see the section
"Validating the working database" below and ``docs/scaling.md``). The
blocking checks and the release gate both call it; the second call finds the
first one's outcomes. :func:`validate_table` and :func:`validate_all`
validate Arrow tables held in memory, whole.

Great Expectations takes seconds to import, so it is imported only inside the
functions that validate, never when this module is imported.
"""
from __future__ import annotations

import dataclasses
import hashlib
import html
import importlib.metadata
import json
import math
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from dangjian import incremental as inc
from dangjian.files import write_whole
from dangjian.schema import BY_NAME, TABLES, Table
from dangjian.warehouse import DocFingerprints, doc_fingerprints, load_doc_fingerprints, save_doc_fingerprints

if TYPE_CHECKING:
    import great_expectations as gx

EXPECTATIONS_ENV = "DANGJIAN_EXPECTATIONS_DIR"
# pipelines/dangjian/validate.py → <repository>/expectations
DEFAULT_EXPECTATIONS_DIR = Path(__file__).resolve().parents[2] / "expectations"

#: The expectation parameter the volume rule reads its minimum row count from.
VOLUME_PARAMETER = "min_rows_vs_previous_release"
#: Failing values shown per outcome: enough to find the rows, short enough to read.
SAMPLE_SIZE = 5
#: Names of the checks that are code rather than suite lines.
SCHEMA_CHECK = "expect_table_schema_to_match_data_dictionary"

# BASIC has every count and the sample this module reports; SUMMARY adds value
# counts of the failing values, which cost about a third more time and go unused.
_RESULT_FORMAT = {"result_format": "BASIC", "partial_unexpected_count": SAMPLE_SIZE}
# Keys of GE's per-expectation result worth reporting, in report order.
_OBSERVED_KEYS = (
    "observed_value",
    "element_count",
    "missing_count",
    "unexpected_count",
    "unexpected_percent",
)


@dataclass(frozen=True)
class ExpectationOutcome:
    """One rule applied to one table.

    ``expectation`` is the GE expectation type (``expect_column_values_to_be_unique``)
    or, for the checks written in code, a name of the same style. ``kwargs``
    are the rule's arguments as validated (parameters resolved). ``observed``
    is what the data showed: ``unexpected_count``, ``unexpected_sample`` (at
    most :data:`SAMPLE_SIZE` failing values), ``observed_value``, …
    """

    table: str
    expectation: str
    column: str | None
    kwargs: dict
    critical: bool
    success: bool
    observed: dict
    why: str = ""
    line: int | None = None  # position in the suite file; None for the checks written in code


@dataclass(frozen=True)
class TableValidation:
    """Every outcome for one table. It passes when every critical rule passes."""

    table: str
    rows: int
    outcomes: tuple[ExpectationOutcome, ...]

    @property
    def success(self) -> bool:
        return not self.failed_critical

    @property
    def failed_critical(self) -> tuple[ExpectationOutcome, ...]:
        return tuple(o for o in self.outcomes if o.critical and not o.success)

    @property
    def failed_warnings(self) -> tuple[ExpectationOutcome, ...]:
        return tuple(o for o in self.outcomes if not o.critical and not o.success)


# ---------------------------------------------------------------------------
# Suite files
# ---------------------------------------------------------------------------


def resolve_expectations_dir(explicit: Path | None = None) -> Path:
    """Where the suites are: ``explicit``, else ``$DANGJIAN_EXPECTATIONS_DIR``
    (read at call time), else the repository's ``expectations/``."""
    return Path(explicit or os.environ.get(EXPECTATIONS_ENV) or DEFAULT_EXPECTATIONS_DIR)


def read_suite_file(table_name: str, expectations_dir: Path | None = None) -> dict:
    """The suite file of ``table_name`` as plain JSON, checked for the fields
    this module relies on (``meta.critical`` and ``meta.why`` on every line)."""
    if table_name not in BY_NAME:
        raise KeyError(f"no published table named {table_name!r}; tables: {', '.join(BY_NAME)}")
    path = resolve_expectations_dir(expectations_dir) / f"{table_name}.json"
    if not path.is_file():
        raise FileNotFoundError(
            f"expectation suite {path} is missing: run from the repository, or point {EXPECTATIONS_ENV} "
            f"at the folder that holds <table>.json"
        )
    spec = json.loads(path.read_text(encoding="utf-8"))
    problems = _suite_problems(table_name, spec)
    if problems:
        raise ValueError(f"{path}: " + "; ".join(problems))
    return spec


def _suite_problems(table_name: str, spec: dict) -> list[str]:
    problems = []
    if spec.get("name") != table_name:
        problems.append(f"'name' must be {table_name!r}, not {spec.get('name')!r}")
    expectations = spec.get("expectations")
    if not isinstance(expectations, list) or not expectations:
        return problems + ["'expectations' must be a non-empty list"]
    volume_rules = 0
    for i, e in enumerate(expectations):
        meta = e.get("meta") or {}
        if not isinstance(e.get("type"), str) or not isinstance(e.get("kwargs"), dict):
            problems.append(f"expectation {i}: needs 'type' (str) and 'kwargs' (object)")
        if not isinstance(meta.get("critical"), bool):
            problems.append(f"expectation {i}: meta.critical must be true or false")
        if not isinstance(meta.get("why"), str) or not meta["why"].strip():
            problems.append(f"expectation {i}: meta.why must say why the rule exists")
        if "max_drop" in meta:
            volume_rules += 1
    if volume_rules > 1:
        problems.append("at most one expectation may carry meta.max_drop (the volume rule)")
    return problems


def _expectation_id(table_name: str, index: int) -> str:
    # GE reports results grouped by metric, not in suite order; the id ties
    # each result back to its line in the suite file.
    return f"{table_name}/{index}"


def _ge_suite(table_name: str, expectations: Sequence[tuple[int, dict]]) -> gx.ExpectationSuite:
    import great_expectations as gx

    return gx.ExpectationSuite(
        name=table_name,
        expectations=[
            {
                "type": e["type"],
                "kwargs": e["kwargs"],
                "meta": e["meta"],
                "id": _expectation_id(table_name, i),
                # GE's own severity, kept in step with meta.critical for GE's renderers.
                "severity": "critical" if e["meta"]["critical"] else "warning",
            }
            for i, e in expectations
        ],
    )


def load_suite(table_name: str, expectations_dir: Path | None = None) -> gx.ExpectationSuite:
    """The committed suite of ``table_name`` as a ``gx.ExpectationSuite``."""
    spec = read_suite_file(table_name, expectations_dir)
    return _ge_suite(table_name, list(enumerate(spec["expectations"])))


# ---------------------------------------------------------------------------
# Derived columns: the cross-table facts the suites check
# ---------------------------------------------------------------------------


class _Context:
    """The other tables a table's cross-table rules read, as Arrow tables.

    Lookups are vectorised (Arrow ``index_in``/``is_in``); where a key occurs
    more than once the first row wins (a repeated key fails its own table's
    uniqueness rule)."""

    def __init__(self, tables: dict[str, pa.Table]):
        self.tables = tables

    def has(self, name: str) -> bool:
        return name in self.tables

    def _column(self, name: str, column: str) -> pa.Array:
        return self.tables[name][column].combine_chunks()

    def positions(self, name: str, key: str, keys) -> pa.Array:
        """Row of ``name`` whose ``key`` equals each of ``keys``; null where none."""
        return pc.index_in(keys, value_set=self._column(name, key))

    def lookup(self, name: str, key: str, keys, column: str):
        return self._column(name, column).take(self.positions(name, key, keys))

    def contains(self, name: str, column: str, keys):
        """Whether each key occurs in ``name.column``: null for a null key."""
        found = pc.is_in(keys, value_set=self._column(name, column))
        return pc.if_else(pc.is_null(keys), pa.scalar(None, pa.bool_()), found)


Compute = Callable[[pa.Table, _Context], Any]


def _doc_field(field: str) -> Compute:
    def compute(data: pa.Table, ctx: _Context):
        return ctx.lookup("documents", "doc_id", data["doc_id"], field)

    return compute


def _doc_slice(field: str) -> Compute:
    """``documents.<field>[start:end]`` of each row's document: what the
    row's offsets point at, with Python's slice semantics. None when the
    document or its text is missing (releases withhold the text of sources
    whose rights forbid republishing)."""

    def compute(data: pa.Table, ctx: _Context):
        texts = ctx.tables["documents"][field].to_pylist()
        where = ctx.positions("documents", "doc_id", data["doc_id"]).to_pylist()
        out = [
            None if i is None or s is None or e is None or (text := texts[i]) is None else text[s:e]
            for i, s, e in zip(where, data["start"].to_pylist(), data["end"].to_pylist())
        ]
        return pa.array(out, pa.string())

    return compute


def _doc_exists(data: pa.Table, ctx: _Context):
    return ctx.contains("documents", "doc_id", data["doc_id"])


def _pair(a, b):
    return pc.binary_join_element_wise(a, b, "\x1f")


def _sentence_exists(data: pa.Table, ctx: _Context):
    """Whether the row's sentence is a sentence of the row's own document
    (null when sentence_id is null). Keyed by document as well, so the answer
    never depends on which other documents are validated alongside."""
    return _in_own_document(data, ctx, "sentences", "sentence_id")


def _number_exists(data: pa.Table, ctx: _Context):
    """Whether the row's number is a number of the row's own document (null when number_id is null)."""
    return _in_own_document(data, ctx, "numbers", "number_id")


def _in_own_document(data: pa.Table, ctx: _Context, table: str, column: str):
    other = ctx.tables[table]
    found = pc.is_in(_pair(data["doc_id"], data[column]),
                     value_set=_pair(other["doc_id"], other[column]).combine_chunks())
    return pc.if_else(pc.is_null(data[column]), pa.scalar(None, pa.bool_()), pc.fill_null(found, False))


def _code_exists(column: str) -> Compute:
    def compute(data: pa.Table, ctx: _Context):
        return ctx.contains("admin_divisions", "code", data[column])

    return compute


def _source_file_doc_id(data: pa.Table, ctx: _Context):
    status = ctx.lookup("source_files", "path", data["source_path"], "status")
    doc_id = ctx.lookup("source_files", "path", data["source_path"], "doc_id")
    return pc.if_else(pc.equal(status, "document"), doc_id, pa.scalar(None, pa.string()))


def _in_rejected_files(data: pa.Table, ctx: _Context):
    return pc.fill_null(pc.is_in(data["path"], value_set=ctx._column("rejected_files", "path")), False)


def _rejected_in_source_files(data: pa.Table, ctx: _Context):
    status = ctx.lookup("source_files", "path", data["path"], "status")
    return pc.fill_null(pc.equal(status, "rejected"), False)


def _text_chars(column: str) -> Compute:
    def compute(data: pa.Table, ctx: _Context):
        return pc.utf8_length(data[column])

    return compute


def _sha256_prefix(data: pa.Table, ctx: _Context):
    return pc.utf8_slice_codeunits(data["sha256"], 0, 16)


@dataclass(frozen=True)
class Derived:
    """A column added to a table before validation.

    ``uses`` are the validated table's own columns it reads; ``reads`` the
    ``table.column`` pairs it reads from the other tables (``needs``).
    Declaring both lets validation read only the columns it needs."""

    name: str
    needs: tuple[str, ...]  # the other tables it is computed from
    about: str
    compute: Compute
    uses: tuple[str, ...] = ()
    reads: tuple[str, ...] = ()


_DOC_KEYS = ("documents.doc_id",)
_OFFSET_TABLE_COLUMNS = (
    Derived("ref_doc_in_documents", ("documents",), "doc_id is a documents.doc_id", _doc_exists,
            ("doc_id",), _DOC_KEYS),
    Derived("ref_doc_chars", ("documents",), "documents.chars of the row's document", _doc_field("chars"),
            ("doc_id",), _DOC_KEYS + ("documents.chars",)),
    Derived("ref_doc_source_chars", ("documents",), "documents.source_chars of the row's document",
            _doc_field("source_chars"), ("doc_id",), _DOC_KEYS + ("documents.source_chars",)),
    Derived("ref_doc_sha256", ("documents",), "documents.sha256 of the row's document", _doc_field("sha256"),
            ("doc_id",), _DOC_KEYS + ("documents.sha256",)),
    Derived("ref_doc_source_path", ("documents",), "documents.source_path of the row's document",
            _doc_field("source_path"), ("doc_id",), _DOC_KEYS + ("documents.source_path",)),
    Derived("ref_doc_text_slice", ("documents",), "documents.text[start:end]", _doc_slice("text"),
            ("doc_id", "start", "end"), _DOC_KEYS + ("documents.text",)),
)

# Rows that cite a span of a document's text and sit in one of its sentences.
_TEXT_SPAN_COLUMNS = _OFFSET_TABLE_COLUMNS + (
    Derived("ref_doc_clean_text_slice", ("documents",), "documents.clean_text[start:end]",
            _doc_slice("clean_text"), ("doc_id", "start", "end"), _DOC_KEYS + ("documents.clean_text",)),
    Derived("ref_sentence_in_sentences", ("sentences",),
            "sentence_id is a sentence of the row's document (null when sentence_id is null)", _sentence_exists,
            ("doc_id", "sentence_id"), ("sentences.doc_id", "sentences.sentence_id")),
)

#: Per table, the derived columns its suite may use. ``ref_*`` come from other
#: tables, ``derived_*`` from the row itself. A lookup into a table of
#: document rows matches on ``doc_id`` too: document tables are validated in
#: batches of documents, and an outcome must not depend on which documents
#: share a batch.
DERIVED: dict[str, tuple[Derived, ...]] = {
    "source_files": (
        Derived("ref_doc_in_documents", ("documents",), "doc_id is a documents.doc_id (null when doc_id is null)",
                _doc_exists, ("doc_id",), _DOC_KEYS),
        Derived("ref_path_in_rejected_files", ("rejected_files",), "path is a rejected_files.path", _in_rejected_files,
                ("path",), ("rejected_files.path",)),
    ),
    "documents": (
        Derived("derived_sha256_prefix", (), "first 16 characters of sha256", _sha256_prefix, ("sha256",)),
        Derived("derived_text_chars", (), "length of text in code points", _text_chars("text"), ("text",)),
        Derived("derived_source_text_chars", (), "length of source_text in code points", _text_chars("source_text"),
                ("source_text",)),
        Derived("ref_source_file_doc_id", ("source_files",),
                "doc_id of the source_files row of source_path when its status is document", _source_file_doc_id,
                ("source_path",), ("source_files.path", "source_files.status", "source_files.doc_id")),
    ),
    "rejected_files": (
        Derived("ref_path_rejected_in_source_files", ("source_files",),
                "path is a source_files row with status rejected", _rejected_in_source_files,
                ("path",), ("source_files.path", "source_files.status")),
    ),
    "paragraphs": _OFFSET_TABLE_COLUMNS,
    "sentences": _OFFSET_TABLE_COLUMNS,
    "numbers": _TEXT_SPAN_COLUMNS,
    "indicators": _TEXT_SPAN_COLUMNS + (
        Derived("ref_number_in_numbers", ("numbers",), "number_id is a number of the row's document",
                _number_exists, ("doc_id", "number_id"), ("numbers.doc_id", "numbers.number_id")),
    ),
    "campaign_terms": _TEXT_SPAN_COLUMNS,
    "places": _TEXT_SPAN_COLUMNS + (
        Derived("ref_adcode_in_admin_divisions", ("admin_divisions",),
                "adcode is an admin_divisions.code (null when adcode is null)", _code_exists("adcode"),
                ("adcode",), ("admin_divisions.code",)),
        Derived("ref_stat_code_in_admin_divisions", ("admin_divisions",),
                "stat_code is an admin_divisions.code (null when stat_code is null)", _code_exists("stat_code"),
                ("stat_code",), ("admin_divisions.code",)),
    ),
    "organizations": _TEXT_SPAN_COLUMNS,
    "people": _TEXT_SPAN_COLUMNS,
}


def tables_needed(table_name: str) -> tuple[str, ...]:
    """The other tables ``table_name``'s cross-table rules read (``validate_table``'s context)."""
    return tuple(sorted({need for d in DERIVED.get(table_name, ()) for need in d.needs}))


def context_columns(table_name: str, derived: Iterable[str] | None = None) -> dict[str, list[str]]:
    """Per context table, the columns the derived columns of ``table_name``
    (all, or those named in ``derived``) read from it."""
    out: dict[str, list[str]] = {}
    for d in DERIVED.get(table_name, ()):
        if derived is None or d.name in derived:
            for ref in d.reads:
                name, column = ref.split(".", 1)
                if column not in out.setdefault(name, []):
                    out[name].append(column)
    return out


def _add_derived(table_name: str, data: pa.Table, ctx: _Context, wanted: set[str]) -> tuple[pa.Table, dict[str, str]]:
    """``data`` with the wanted derived columns added; and the ones that could
    not be computed, each with the reason."""
    skipped = {}
    for d in DERIVED.get(table_name, ()):
        if d.name not in wanted:
            continue
        absent = [n for n in d.needs if not ctx.has(n)]
        if absent:
            skipped[d.name] = f"needs the {', '.join(absent)} table (pass it in context_tables)"
            continue
        data = data.append_column(d.name, d.compute(data, ctx))
    return data, skipped


# ---------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------

#: Expectation types whose outcome is the sum of their outcomes on any split
#: of the rows: each row passes or fails on its own values. Only these are
#: checked batch by batch (see :func:`validate_warehouse`); every other type
#: (uniqueness, row counts, anything unknown) sees the whole table at once.
ROW_WISE = frozenset({
    "expect_column_values_to_not_be_null",
    "expect_column_values_to_be_null",
    "expect_column_values_to_be_in_set",
    "expect_column_values_to_not_be_in_set",
    "expect_column_values_to_be_between",
    "expect_column_values_to_match_regex",
    "expect_column_values_to_not_match_regex",
    "expect_column_values_to_match_regex_list",
    "expect_column_values_to_not_match_regex_list",
    "expect_column_values_to_match_like_pattern",
    "expect_column_values_to_not_match_like_pattern",
    "expect_column_values_to_match_like_pattern_list",
    "expect_column_values_to_not_match_like_pattern_list",
    "expect_column_values_to_be_json_parseable",
    "expect_column_values_to_match_json_schema",
    "expect_column_values_to_match_strftime_format",
    "expect_column_values_to_be_dateutil_parseable",
    "expect_column_value_lengths_to_be_between",
    "expect_column_value_lengths_to_equal",
    "expect_column_pair_values_to_be_equal",
    "expect_column_pair_values_a_to_be_greater_than_b",
    "expect_column_pair_values_to_be_in_set",
    "expect_select_column_values_to_be_unique_within_record",
    "expect_multicolumn_sum_to_equal",
})


def row_wise(line: dict) -> bool:
    return line["type"] in ROW_WISE


#: Whole-table rules that only compare values for equality (and ignore nulls).
_UNIQUE_TYPES = frozenset({"expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique"})


def _by_hash(line: dict) -> bool:
    """Whether the line can be validated first on hashes of its columns'
    values (``_WarehouseValidation.read_hashed``): uniqueness without a
    condition, or a row count, which reads no values."""
    return line["type"] == "expect_table_row_count_to_be_between" or (
        line["type"] in _UNIQUE_TYPES and set(line["kwargs"]) <= {"column", "column_list"})


def _columns_of(kwargs: dict) -> list[str]:
    cols = [kwargs[k] for k in ("column", "column_A", "column_B") if k in kwargs]
    return cols + list(kwargs.get("column_list") or [])


def _condition_columns(condition: Any) -> list[str]:
    if not isinstance(condition, dict):
        return []
    if condition.get("type") in ("and", "or"):
        return [c for sub in condition["conditions"] for c in _condition_columns(sub)]
    column = condition.get("column")
    return [column["name"]] if isinstance(column, dict) and "name" in column else []


def _line_columns(line: dict) -> list[str]:
    """Every column an expectation reads, its row condition's included."""
    cols = _columns_of(line["kwargs"]) + _condition_columns(line["kwargs"].get("row_condition"))
    return list(dict.fromkeys(cols))


def _column_label(kwargs: dict) -> str | None:
    cols = _columns_of(kwargs)
    return ", ".join(cols) if cols else None


def _plain(value: Any) -> Any:
    """JSON-safe copy of a GE result value (numpy scalars, NaN, tuples)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        try:
            value = value.item()
        except (ValueError, TypeError):
            return str(value)
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def condition_text(condition: Any) -> str:
    """A GE row condition as one line of text, e.g. ``kind == "percent" and unit == "%"``.

    The suites write conditions as GE 1.x ``Condition`` JSON
    (``{"type": "comparison", "column": {"name": "kind"}, "operator": "==", "parameter": "percent"}``,
    ``{"type": "and", "conditions": [...]}``), not as pandas query strings,
    which GE has deprecated."""
    if not isinstance(condition, dict):
        return str(condition)
    kind = condition.get("type")
    if kind in ("and", "or"):
        return f" {kind} ".join(
            f"({condition_text(c)})" if c.get("type") in ("and", "or") else condition_text(c)
            for c in condition["conditions"]
        )
    if kind == "comparison":
        op = {"IN": "in", "NOT_IN": "not in"}.get(condition["operator"], condition["operator"])
        return f'{condition["column"]["name"]} {op} {json.dumps(condition["parameter"], ensure_ascii=False)}'
    if kind == "nullity":
        return f'{condition["column"]["name"]} is {"null" if condition["is_null"] else "not null"}'
    if kind == "pass_through":
        return condition["pass_through_filter"]
    return json.dumps(condition, ensure_ascii=False)


def _kwargs_as_run(kwargs: dict) -> dict:
    out = {}
    for key, value in kwargs.items():
        if key == "batch_id":
            continue
        out[key] = condition_text(value) if key == "row_condition" else _plain(value)
    return out


def _observed(result: dict, exception_info: dict | None) -> dict:
    observed = {k: _plain(result[k]) for k in _OBSERVED_KEYS if k in result}
    if "partial_unexpected_list" in result:
        observed["unexpected_sample"] = _plain(result["partial_unexpected_list"][:SAMPLE_SIZE])
    messages = _exception_messages(exception_info)
    if messages:
        observed["exception"] = "; ".join(sorted(set(messages)))
    return observed


def _exception_messages(info: Any) -> list[str]:
    # GE 1.x gives either one {raised_exception, exception_message} or a dict
    # of them keyed by metric; both shapes occur.
    if not isinstance(info, dict):
        return []
    if "raised_exception" in info:
        return [str(info.get("exception_message"))] if info.get("raised_exception") else []
    return [m for v in info.values() for m in _exception_messages(v)]


def _schema_outcome(table: Table, data: pa.Table | None) -> tuple[ExpectationOutcome, pa.Table | None]:
    """The data's columns and types against the data dictionary. Types that
    cast safely (e.g. ``string_view`` → ``string``) pass; data that casts is
    validated in the dictionary's types. ``None`` is a table that does not
    exist at all."""
    expected = table.arrow_schema
    observed: dict[str, Any] = {}
    if data is None:
        success = False
        observed["missing_table"] = table.qualified
    else:
        success = data.schema.names == expected.names
    if data is not None and not success:
        observed["missing_columns"] = [n for n in expected.names if n not in data.schema.names]
        observed["unexpected_columns"] = [n for n in data.schema.names if n not in expected.names]
        observed["observed_value"] = data.schema.names
    elif data is not None:
        differing = {f.name: str(f.type) for f, e in zip(data.schema, expected) if f.type != e.type}
        if differing:
            try:
                data = data.cast(expected)
                observed["cast_from"] = differing
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
                success = False
                observed["type_mismatch"] = {n: {"observed": t, "expected": str(expected.field(n).type)} for n, t in differing.items()}
                observed["exception"] = str(exc)
    outcome = ExpectationOutcome(
        table=table.name,
        expectation=SCHEMA_CHECK,
        column=None,
        kwargs={"columns": {f.name: str(f.type) for f in expected}},
        critical=True,
        success=success,
        observed=observed,
        why="Columns and types are the published contract in dangjian.schema; readers rely on them.",
    )
    return outcome, data


def _volume_minimum(previous_rows: int | None, max_drop: float) -> int:
    """The fewest rows that are not a drop of more than ``max_drop`` against
    ``previous_rows``, in exact arithmetic (GE's parameter expressions are
    floats, and its row-count bounds truncate to int)."""
    if previous_rows is None:
        return 0
    return math.ceil(previous_rows * (1 - Fraction(str(max_drop))))


def _cast_columns(table: Table, data: pa.Table) -> pa.Table:
    """Each column of ``data`` in the data dictionary's type where it casts;
    a column that does not is left as it is (the schema check reports it)."""
    for i, name in enumerate(data.schema.names):
        if name in table.column_names:
            want = table.arrow_schema.field(name)
            if data.schema.field(i).type != want.type:
                try:
                    data = data.set_column(i, want, data.column(i).cast(want.type))
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
                    pass
    return data


def _pandas(data: pa.Table):
    """``data`` as the DataFrame GE validates.

    pandas 3 keeps text columns Arrow-backed (``str``): a missing value is a
    bit of the validity bitmap, and GE's regular expressions and set tests
    run in Arrow, where object arrays cost a Python call per value. Their
    element-wise ``take`` is slower than numpy's, but GE now filters a batch
    once per condition and domain (:func:`_remember_filters`,
    :func:`_remember_domains`). Validating the 10,000-document warehouse took
    17.4 s against 24.0 s with object arrays, with identical outcomes, and
    failing samples (nulls included) the same."""
    return data.to_pandas()


_CONFIGURATIONS = threading.local()  # Expectation id() -> (expectation, configuration), inside one validation


def _remember_configurations() -> None:
    """Make GE build each expectation's configuration once per validation.

    GE 1.x rebuilds an ``ExpectationConfiguration`` (a pydantic ``dict()`` of
    the expectation) every time ``Expectation.configuration`` is read, and
    while planning the metrics it reads it once per keyword of each rule:
    about 100 times per rule per validation, 45 % of the time of validating
    one document's numbers (0.39 s; 0.24 s with this). Inside
    :meth:`_Validator._check` the expectations are GE's own objects, built for
    that call and not changed by it, so the first configuration of each
    serves for the rest of the call; anywhere else GE behaves as shipped."""
    from great_expectations.expectations.expectation import Expectation

    shipped = Expectation.__dict__["configuration"]
    if getattr(shipped.fget, "_dangjian", False):
        return

    def configuration(self):
        memo = getattr(_CONFIGURATIONS, "memo", None)
        if memo is None:
            return shipped.fget(self)
        found = memo.get(id(self))
        if found is None or found[0] is not self:
            found = memo[id(self)] = (self, shipped.fget(self))
        return found[1]

    configuration._dangjian = True
    Expectation.configuration = property(configuration, doc=shipped.__doc__)


_FILTERED = threading.local()  # (frame id, condition) -> its filtered rows, inside one validation


def _condition_key(row_condition: Any, domain_kwargs: dict) -> str:
    """A row condition as text that tells any two conditions apart: JSON for
    the suites' dicts, GE's own serialisation for its condition objects."""
    if isinstance(row_condition, dict):
        text = json.dumps(row_condition, sort_keys=True, default=str)
    elif hasattr(row_condition, "model_dump_json"):
        text = f"{type(row_condition).__qualname__}:{row_condition.model_dump_json()}"
    else:
        text = f"{type(row_condition).__qualname__}:{row_condition!r}"
    return f"{domain_kwargs.get('condition_parser')}|{text}"


def _remember_per_call(method: str, local: threading.local, key: Callable[..., Any]) -> None:
    """Make GE's ``PandasExecutionEngine.<method>`` compute once per ``key``
    of its arguments while ``local.memo`` is a dict (inside one validation,
    :func:`_within_one_validation`); anywhere else it runs as shipped. The
    arguments are kept beside the result, so an ``id()`` in a key stays that
    of the same object for the whole call."""
    from great_expectations.execution_engine.pandas_execution_engine import PandasExecutionEngine

    shipped = PandasExecutionEngine.__dict__[method]
    if getattr(shipped, "_dangjian", False):
        return

    def remembered(self, *args, **kwargs):
        memo = getattr(local, "memo", None)
        if memo is None:
            return shipped(self, *args, **kwargs)
        k = key(*args, **kwargs)
        if k not in memo:
            memo[k] = (args, kwargs, shipped(self, *args, **kwargs))
        return memo[k][2]

    remembered._dangjian = True
    remembered.__doc__ = shipped.__doc__
    setattr(PandasExecutionEngine, method, remembered)


def _remember_filters() -> None:
    """Make GE filter a frame by each row condition once per validation.

    GE's pandas engine filters the whole frame by a rule's row condition
    (``DataFrame.query``, then a copy of every column of the rows it keeps)
    each time a metric asks for the rule's rows: for the numbers' 11
    conditional rules, 200 times per batch, 2.3 of the 7.5 s of validating
    the 10,000-document warehouse's numbers. Inside :meth:`_Validator._check`
    the frame is GE's batch, built for that call; no metric the suites use
    changes the rows it is given (only GE's mean, sum and standard deviation
    of decimal columns convert in place, and no suite has them), so the
    first filtered frame for a frame and condition serves the rest of the
    call."""
    _remember_per_call("_apply_row_condition_filter", _FILTERED,
                       lambda data, row_condition, domain_kwargs: (id(data), _condition_key(row_condition, domain_kwargs)))


_DOMAINS = threading.local()  # domain kwargs -> the rows GE computes on, inside one validation


def _domain_key(domain_kwargs: dict) -> str:
    return json.dumps({k: _condition_key(v, domain_kwargs) if k == "row_condition" else v
                       for k, v in domain_kwargs.items()}, sort_keys=True, default=repr)


def _remember_domains() -> None:
    """Make GE build each metric domain's rows once per validation.

    For a pair of columns GE drops the rows where both are missing
    (``DataFrame.dropna``, a copy of every column of the rows it keeps) each
    time a metric asks for the pair's rows; the suites have 81 such rules.
    As with :func:`_remember_filters`, inside :meth:`_Validator._check` the
    first rows built for a domain serve the rest of the call; the batch is
    the only one GE holds then, and its id is part of the domain."""
    _remember_per_call("get_domain_records", _DOMAINS, _domain_key)


@contextmanager
def _within_one_validation() -> Iterator[None]:
    """Inside, GE builds each expectation's configuration once, filters a
    frame by each row condition once and builds each domain's rows once
    (:func:`_remember_configurations`, :func:`_remember_filters`,
    :func:`_remember_domains`); all are forgotten on leaving. Holding the
    filtered rows for one call raised the peak of validating the
    10,000-document warehouse from 925 to 997 MiB: each batch's copies are
    pointers to the frame's strings, not the strings."""
    _CONFIGURATIONS.memo, _FILTERED.memo, _DOMAINS.memo = {}, {}, {}
    try:
        yield
    finally:
        _CONFIGURATIONS.memo = _FILTERED.memo = _DOMAINS.memo = None


class _Validator:
    """One GE data context and pandas data source, reused for every table and
    batch, so that the set-up is paid once per run."""

    def __init__(self, expectations_dir: Path | None = None):
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig
        from great_expectations.execution_engine import pandas_execution_engine

        # GE hashes every frame below 1 GB, twice per validation, for a batch
        # marker ("pandas_data_fingerprint") that nothing here reads. On the
        # gazetteer's 668,815 rows that is 2.6 s of a 3 s validation; the
        # rules' outcomes do not depend on it.
        pandas_execution_engine.HASH_THRESHOLD = 0
        _remember_configurations()
        _remember_filters()
        _remember_domains()

        self.expectations_dir = resolve_expectations_dir(expectations_dir)
        self.context = gx.get_context(mode="ephemeral")
        # tqdm bars in the logs of a pipeline run are noise
        self.context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
        self.source = self.context.data_sources.add_pandas("dangjian")
        self._assets = 0
        inc.freeze_long_lived()  # GE's modules and context, and Dagster's, live as long as the process

    def validate(
        self,
        table_name: str,
        data: pa.Table,
        context_tables: dict[str, pa.Table],
        previous_rows: int | None,
    ) -> TableValidation:
        """Every expectation of the table's suite on ``data``, after the schema check."""
        table = BY_NAME[table_name]
        read_suite_file(table_name, self.expectations_dir)  # first: it names an unknown table
        schema_outcome, data = _schema_outcome(table, data)
        outcomes = [schema_outcome, *self.run(table_name, data, context_tables, previous_rows)]
        return TableValidation(table=table_name, rows=data.num_rows, outcomes=tuple(outcomes))

    def run(
        self,
        table_name: str,
        data: pa.Table,
        context_tables: dict[str, pa.Table],
        previous_rows: int | None,
        select: Callable[[dict], bool] | None = None,
    ) -> list[ExpectationOutcome]:
        """The outcomes of the suite's lines (those ``select`` accepts) on ``data``,
        in suite order. ``data`` needs only the columns those lines and their
        derived columns read."""
        frame, outcomes, runnable = prepare(table_name, data, context_tables, select, self.expectations_dir)
        return sorted(outcomes + self.check(table_name, frame, runnable, previous_rows), key=lambda o: o.line)

    def check(self, table_name: str, frame: pa.Table, runnable: list[int], previous_rows: int | None) -> list[ExpectationOutcome]:
        """GE's outcomes of the suite lines ``runnable`` on a frame from :func:`prepare`."""
        return self.check_shares(table_name, frame, runnable, previous_rows)[0]

    def check_shares(self, table_name: str, frame: pa.Table, runnable: list[int], previous_rows: int | None,
                     docs: pa.Array | None = None) -> tuple[list[ExpectationOutcome], dict | None]:
        """:meth:`check`, and, given each row's ``docs`` (doc_id), each
        document's share of every count (:func:`_shares`)."""
        if not runnable:
            return [], None
        try:
            return self._check(table_name, frame, runnable, previous_rows, docs)
        finally:
            # A large batch's pandas frame and GE's metric objects are garbage
            # now; without this the process keeps growing by ~100 MB per batch
            # before the collector and the allocator give it back. (Small
            # frames, as after adding one document, skip its ~0.1 s.)
            if frame.num_rows >= 10_000:
                inc.release_memory()

    def _check(self, table_name: str, frame: pa.Table, runnable: list[int], previous_rows: int | None,
               docs: pa.Array | None) -> tuple[list[ExpectationOutcome], dict | None]:
        spec = read_suite_file(table_name, self.expectations_dir)
        runnable = [(i, spec["expectations"][i]) for i in runnable]
        frame = _pandas(frame)
        volume = next((e for _, e in runnable if "max_drop" in e["meta"]), None)
        parameters = {VOLUME_PARAMETER: _volume_minimum(previous_rows, volume["meta"]["max_drop"]) if volume else 0}
        self._assets += 1
        asset = self.source.add_dataframe_asset(name=f"{table_name}_{self._assets}")
        batch = asset.add_batch_definition_whole_dataframe("whole").get_batch(batch_parameters={"dataframe": frame})
        try:
            with _within_one_validation():
                result = batch.validate(
                    _ge_suite(table_name, runnable),
                    result_format=_RESULT_FORMAT,
                    expectation_parameters=parameters,
                )
        finally:
            # GE keeps every frame it validated, and every metric it resolved
            # on it (the row masks of each rule among them) under keys of that
            # batch, which no later call asks for; one validator serves many
            # batches, so let each go once its outcomes are in. Kept, the
            # metrics grew with the corpus: at 40,000 documents the numbers'
            # 16 batches left about 140 MB of masks and their indexes.
            engine = self.source.get_execution_engine()
            engine.batch_manager.reset_batch_cache()
            engine.batch_manager.batch_data_cache.clear()
            engine._metric_cache.clear()
        by_id = {_expectation_id(table_name, i): (i, e) for i, e in runnable}
        outcomes = []
        for r in result.results:
            config = r.expectation_config
            i, line = by_id[config.id]
            observed = _observed(r.result or {}, r.exception_info)
            if "max_drop" in line["meta"]:
                observed["previous_rows"] = previous_rows
            outcomes.append(
                ExpectationOutcome(
                    table=table_name,
                    expectation=config.type,
                    column=_column_label(line["kwargs"]),
                    kwargs=_kwargs_as_run(config.kwargs),
                    critical=line["meta"]["critical"],
                    success=bool(r.success),
                    observed=observed,
                    why=line["meta"]["why"],
                    line=i,
                )
            )
        if docs is None:
            return outcomes, None
        return outcomes, _shares(spec, frame, docs, outcomes, engine._apply_row_condition_filter)


def prepare(
    table_name: str,
    data: pa.Table,
    context_tables: dict[str, pa.Table],
    select: Callable[[dict], bool] | None,
    expectations_dir: Path | None = None,
) -> tuple[pa.Table, list[ExpectationOutcome], list[int]]:
    """Everything before GE: the derived columns, computed from the context;
    the frame GE needs (the key and the columns the rules read, nothing
    else: GE hashes and copies whole frames); the outcomes of rules that
    cannot be evaluated; and the suite lines that can."""
    spec = read_suite_file(table_name, expectations_dir)
    lines = [(i, e) for i, e in enumerate(spec["expectations"]) if select is None or select(e)]
    derived_names = {d.name for d in DERIVED.get(table_name, ())}
    wanted = {c for _, e in lines for c in _line_columns(e) if c in derived_names}
    data, skipped = _add_derived(table_name, data, _Context({**context_tables, table_name: data}), wanted)

    outcomes: list[ExpectationOutcome] = []
    runnable: list[int] = []
    for i, e in lines:
        needs = [skipped[c] for c in _line_columns(e) if c in skipped]
        if needs:
            outcomes.append(_not_evaluated(table_name, i, e, needs[0]))
        else:
            runnable.append(i)
    columns = [BY_NAME[table_name].key] + [c for i in runnable for c in _line_columns(spec["expectations"][i])]
    columns = [c for c in dict.fromkeys(columns) if c in data.schema.names]
    return data.select(columns), outcomes, runnable


def _not_evaluated(table_name: str, index: int, line: dict, reason: str) -> ExpectationOutcome:
    return ExpectationOutcome(
        table=table_name,
        expectation=line["type"],
        column=_column_label(line["kwargs"]),
        kwargs=_kwargs_as_run(line["kwargs"]),
        critical=line["meta"]["critical"],
        success=False,
        observed={"not_evaluated": reason},
        why=line["meta"]["why"],
        line=index,
    )


_SHARED: dict[Path, _Validator] = {}


def _shared_validator(expectations_dir: Path | None) -> _Validator:
    """One validator per process (and suites folder): GE's set-up is paid once,
    whether the process validates one table or every batch of a run."""
    folder = resolve_expectations_dir(expectations_dir)
    if folder not in _SHARED:
        _SHARED[folder] = _Validator(folder)
    return _SHARED[folder]


def check_batch(table_name: str, frame: pa.Table, docs: pa.Array, runnable: list[int],
                expectations_dir: Path | None) -> tuple[list[ExpectationOutcome], dict | None]:
    """A batch of documents: GE's outcomes of row-wise suite lines on a frame
    from :func:`prepare`, and each document's share of their counts, given
    each row's doc_id in ``docs``. What a worker process runs (see
    :func:`validate_warehouse`)."""
    return _shared_validator(expectations_dir).check_shares(table_name, frame, runnable, None, docs)


# ---------------------------------------------------------------------------
# Each document's share of a batch's outcomes
# ---------------------------------------------------------------------------
#
# A batch's outcome counts rows of up to 2,500 documents. When one of them
# changes (or goes), the others' rows are as they were, but their outcome
# is not: it counted the old rows too. So next to each batch's outcomes we
# keep every document's share of every count (rows considered, missing,
# unexpected), and the outcome of the documents still unchanged is the sum
# of their shares, without validating them again.
#
# GE reports only totals, so the shares are counted here, on the frame GE
# validated: the rows its row condition keeps (filtered by GE's own pandas
# engine), the nulls GE calls missing, and, where a rule failed, the failing
# rows, which only "not null" rules can be attributed without GE's slower
# COMPLETE result format (40 % more time for every batch). Every share is
# checked: a document's shares must add up to GE's counts for the batch,
# else the batch keeps no shares and a change to one of its documents
# validates the others again, as before. Any outcome with a problem (an
# exception, a rule not evaluated) keeps none either.

_PAIR_DEFAULT = "both_values_are_missing"
_MULTICOLUMN_DEFAULT = "all_values_are_missing"


def _shares(spec: dict, rows, docs: pa.Array, outcomes: list[ExpectationOutcome],
            filter_rows: Callable) -> dict | None:
    """Per suite line (by its index, as text), three lists over the batch's
    documents in order of first appearance (``docs`` as given): rows GE
    considered, missing values (None where GE reports none) and unexpected
    values. Also ``docs``: the documents, in that order. ``rows`` is the
    pandas frame GE validated. None if any count cannot be attributed and
    checked."""
    import numpy as np
    import pandas as pd

    codes, uniques = pd.factorize(pd.Series(docs.to_numpy(zero_copy_only=False), dtype=object), use_na_sentinel=False)
    n = len(uniques)
    zeros = [0] * n
    everything = np.bincount(codes, minlength=n).tolist()
    nulls: dict[str, Any] = {}  # column -> its null mask, or None when it has no nulls
    domains: dict[str, Any] = {}  # row condition -> its mask

    def null(column: str):
        if column not in nulls:
            mask = rows[column].isna().to_numpy()
            nulls[column] = mask if mask.any() else None
        return nulls[column]

    def per_doc(domain, mask) -> list[int]:
        if mask is None:
            return zeros
        if domain is not None:
            mask = mask & domain
        return np.bincount(codes[mask], minlength=n).tolist()

    lines: dict[str, list] = {}
    for o in outcomes:
        kwargs = spec["expectations"][o.line]["kwargs"]
        if o.observed.keys() & {"exception", "not_evaluated"}:
            return None
        domain = None
        if kwargs.get("row_condition"):
            key = json.dumps(kwargs["row_condition"], sort_keys=True, default=str)
            if key not in domains:
                mask = np.zeros(len(rows), dtype=bool)
                mask[filter_rows(rows, kwargs["row_condition"], kwargs).index.to_numpy()] = True
                domains[key] = mask
            domain = domains[key]
        if "column" in kwargs:
            missing_rows = null(kwargs["column"])
        else:
            columns = [kwargs["column_A"], kwargs["column_B"]] if "column_A" in kwargs else list(kwargs.get("column_list") or [])
            if not columns:
                return None
            masks = [null(c) for c in columns]
            how = kwargs.get("ignore_row_if", _PAIR_DEFAULT if "column_A" in kwargs else _MULTICOLUMN_DEFAULT)
            if how in ("both_values_are_missing", "all_values_are_missing"):
                missing_rows = None if any(m is None for m in masks) else np.logical_and.reduce(masks)
            elif how in ("either_value_is_missing", "any_value_is_missing"):
                some = [m for m in masks if m is not None]
                missing_rows = np.logical_or.reduce(some) if some else None
            else:  # "neither", "never": no row is left out
                missing_rows = None
        element = everything if domain is None else per_doc(None, domain)
        missing = per_doc(domain, missing_rows) if "missing_count" in o.observed else None
        found = o.observed.get("unexpected_count")
        if not found:
            unexpected = zeros
        elif o.expectation == "expect_column_values_to_not_be_null":
            unexpected = per_doc(domain, missing_rows)
        else:
            return None
        if (sum(element), sum(missing) if missing is not None else None, sum(unexpected)) != (
                o.observed.get("element_count"), o.observed.get("missing_count"), found or 0):
            return None
        lines[str(o.line)] = [element, missing, unexpected]
    return {"docs": [None if pd.isna(d) else str(d) for d in uniques], "lines": lines}


def validate_table(
    table_name: str,
    data: pa.Table,
    context_tables: dict[str, pa.Table] | None = None,
    previous_rows: int | None = None,
) -> TableValidation:
    """Validate one table against its suite.

    ``context_tables`` are the other tables its cross-table rules read
    (``documents`` for paragraphs, sentences and numbers; ``sentences`` for
    numbers; ``source_files``/``rejected_files`` for each other). Rules whose
    table is not given are reported as not evaluated, and fail.
    ``previous_rows`` is the table's row count in the previous release, None
    when there is none.
    """
    return _Validator().validate(table_name, data, dict(context_tables or {}), previous_rows)


def validate_all(
    tables: dict[str, pa.Table],
    previous_rows: dict[str, int] | None = None,
) -> dict[str, TableValidation]:
    """Validate every given table, each with the others as its context, in
    the data dictionary's order, with one GE context for all."""
    validator = _Validator()
    previous_rows = previous_rows or {}
    return {
        t.name: validator.validate(t.name, tables[t.name], tables, previous_rows.get(t.name))
        for t in TABLES
        if t.name in tables
    }


# ---------------------------------------------------------------------------
# Outcomes of batches, combined
# ---------------------------------------------------------------------------


def combine_outcomes(parts: Sequence[ExpectationOutcome]) -> ExpectationOutcome:
    """One row-wise expectation's outcome on the union of disjoint batches,
    from its outcomes on each: what GE reports for the whole table.

    Counts add up; success follows GE's own rule (vacuous without rows to
    consider, else the share of expected rows against ``mostly``); the
    sample is the first :data:`SAMPLE_SIZE` failing values in batch order.
    A batch that raised or could not be evaluated makes the whole fail."""
    first = parts[0]
    if len(parts) == 1:
        return first
    counts: dict[str, int] = {}
    for key in ("element_count", "missing_count", "unexpected_count"):
        if any(key in p.observed for p in parts):
            counts[key] = sum(p.observed.get(key) or 0 for p in parts)
    sample = None
    if any("unexpected_sample" in p.observed for p in parts):
        sample = [v for p in parts for v in p.observed.get("unexpected_sample", [])]
    problems = {}
    for key in ("exception", "not_evaluated"):
        messages = sorted({p.observed[key] for p in parts if key in p.observed})
        if messages:
            problems[key] = "; ".join(messages)
    return _counted(first, counts, sample, problems)


def _counted(first: ExpectationOutcome, counts: dict[str, int], sample: list | None,
             problems: dict[str, str]) -> ExpectationOutcome:
    """``first`` (an outcome of the same rule) with these counts, sample and
    problems, and the success GE would give them."""
    observed: dict[str, Any] = dict(counts)
    element = observed.get("element_count", 0)
    considered = element - observed.get("missing_count", 0)
    unexpected = observed.get("unexpected_count", 0)
    if "unexpected_percent" in first.observed:
        observed["unexpected_percent"] = unexpected / considered * 100 if considered > 0 else None
    if sample is not None:
        observed["unexpected_sample"] = sample[:SAMPLE_SIZE]
    observed.update(problems)
    mostly = first.kwargs.get("mostly")
    if problems:
        success = False
    elif element == 0 or considered <= 0:
        success = True  # vacuously, as GE says
    else:
        success = (considered - unexpected) / considered >= (1.0 if mostly is None else float(mostly))
    return dataclasses.replace(first, success=success, observed=observed)


def _shares_at(lines: dict[str, list], positions: Sequence[int | None]) -> dict[str, list]:
    """Shares' lines (:func:`_shares`) for the documents at ``positions`` of
    theirs, in that order; None for a document without rows (every count 0)."""
    return {line: [None if c is None else [0 if k is None else c[k] for k in positions] for c in counts]
            for line, counts in lines.items()}


def _share_of(outcome: ExpectationOutcome, shares: list, keep: Sequence[int]) -> ExpectationOutcome:
    """A batch's outcome for only its documents at positions ``keep``, from
    their shares (:func:`_shares`). Only "not null" rules have failing rows
    with shares, so the failing values are nulls."""
    element, missing, unexpected = shares
    counts = {"element_count": sum(element[k] for k in keep)}
    if missing is not None:
        counts["missing_count"] = sum(missing[k] for k in keep)
    counts["unexpected_count"] = found = sum(unexpected[k] for k in keep)
    sample = [None] * min(found, SAMPLE_SIZE) if "unexpected_sample" in outcome.observed else None
    return _counted(outcome, counts, sample, {})


# ---------------------------------------------------------------------------
# Validating the working database: once per run, and only what changed
# ---------------------------------------------------------------------------
#
# A run validates its tables where the data is, in the working DuckDB, and
# keeps each outcome in a cache folder keyed by a fingerprint of exactly the
# rows it covers. Whoever asks again (the release gate after the checks, the
# next run) gets the stored outcome while those rows are unchanged, and a
# fresh validation as soon as one of them differs. So every published row is
# validated, and nothing twice.
#
# - A table whose rows belong to documents (a non-null ``doc_id``) is
#   validated in batches of documents. A batch holds the table's rows of its
#   documents and, as context, those documents' rows of the tables its
#   cross-table rules read. Only the row-wise expectations (:data:`ROW_WISE`)
#   run per batch; their outcomes on the whole table are the batches'
#   outcomes added up (:func:`combine_outcomes`).
# - The other expectations (key uniqueness, row counts) run once on the whole
#   table, on only the columns they read: cheap even for millions of rows.
# - Tables not split by document (source_files, rejected_files) are small
#   and are validated whole.
#
# A fingerprint is, per document, the row count and the XOR of DuckDB's
# 64-bit hash of every row of every table involved, with the version of the
# rules (suite file, this module, the schema, GE). Any change to any column
# of any of those rows, an added or a removed row, or a new rule, gives a new
# fingerprint.

#: Documents per validation batch: Great Expectations pays about half a
#: second per table and call whatever the frame's size, so batches are large;
#: after a change only the batches holding changed documents are validated
#: again. Measured on 2026-12-05 over a 10,000-document warehouse (all 13
#: tables, two workers), every row validated / one batch per table again:
#: 1,000 documents 66.0 / 6.9 s, 2,000 48.7 / 9.1 s, 2,500 44.1 / 9.9 s.
#: A first build pays the first figure once; a changed file the second.
VALIDATE_BATCH_DOCS = 2500
#: Rows per slice of a large table without documents (the gazetteer's
#: 668,815): its row-wise rules run slice by slice, so the frame GE holds
#: stays near 100 MB instead of 400.
VALIDATE_SLICE_ROWS = 100_000
_CACHE_FORMAT = "1"

Log = Callable[[str], None]


def per_document(table: Table) -> bool:
    """Whether every row of ``table`` belongs to one document (non-null ``doc_id``)."""
    return any(c.name == "doc_id" and not c.nullable for c in table.columns)


def _has_doc_id(table: Table) -> bool:
    return "doc_id" in table.column_names


def _qualified(table: Table) -> str:
    return f'"{table.stage}"."{table.name}"'


def _db_columns(con, table: Table) -> list[str] | None:
    """The table's columns in the database, or None when it does not exist."""
    rows = con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ? "
        "ORDER BY ordinal_position", [table.stage, table.name]).fetchall()
    return [r[0] for r in rows] or None


def _rules_version(table_name: str, expectations_dir: Path | None) -> str:
    h = hashlib.sha256(_CACHE_FORMAT.encode())
    h.update((resolve_expectations_dir(expectations_dir) / f"{table_name}.json").read_bytes())
    h.update(Path(__file__).read_bytes())
    h.update(repr([(t.name, str(t.arrow_schema)) for t in TABLES]).encode())
    try:
        h.update(importlib.metadata.version("great_expectations").encode())
    except importlib.metadata.PackageNotFoundError:
        pass
    return h.hexdigest()


def _volume_input(table_name: str, previous_rows: int | None, expectations_dir: Path | None) -> int | None:
    """``previous_rows`` where the table's suite has a volume rule (``meta.max_drop``),
    else None: an outcome that cannot depend on the previous release is not
    keyed by it, so a new release does not make a large table validate again."""
    spec = read_suite_file(table_name, expectations_dir)
    return previous_rows if any("max_drop" in e["meta"] for e in spec["expectations"]) else None


def _digest(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:32]


def _doc_order(doc: str | None) -> tuple:
    return (doc is None, doc or "")


class _Cache:
    """Outcomes on disk, one JSON file per fingerprint, per table. Files are
    written whole (temporary name, then rename); a file no fingerprint of the
    current data names is deleted when the table is done, but for the basis
    of key uniqueness (:data:`BASIS`)."""

    #: Per-document fingerprints of the last state of the table whose keys
    #: were validated unique (``_WarehouseValidation._keys_by_difference``),
    #: under the rules' version. Kept until a newer such state replaces it.
    BASIS = "keys-basis.arrow"

    def __init__(self, root: Path, table_name: str, rules: str = ""):
        self.folder = root / table_name
        self.folder.mkdir(parents=True, exist_ok=True)
        self.used: set[str] = set()
        self.rules = rules

    def load(self, name: str) -> dict | None:
        path = self.folder / f"{name}.json"
        try:
            found = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        self.used.add(path.name)
        return found

    def save(self, name: str, content: dict) -> None:
        path = self.folder / f"{name}.json"
        write_whole(path, json.dumps(content, ensure_ascii=False))
        self.used.add(path.name)

    def batches(self) -> list[str]:
        return sorted(p.stem for p in self.folder.glob("rows-*.json"))

    def load_shares(self, batch: str) -> dict | None:
        """A batch's documents' shares (``shares-<fingerprint>.json``), kept
        while the batch is: ``docs``, ``doc_fingerprints``, and per suite
        line its three lists of counts, one number per document."""
        try:
            found = json.loads((self.folder / f"shares-{batch.removeprefix('rows-')}.json").read_text(encoding="utf-8"))
            counts = found.pop("counts")
            found["lines"] = {line: [None if i is None else counts[i] for i in refs] for line, refs in found["lines"].items()}
        except (OSError, ValueError, KeyError, IndexError, TypeError, AttributeError):
            return None
        return found

    def save_shares(self, batch: str, content: dict) -> None:
        # Most rules count the same rows (all of them, none failing): each
        # distinct list is written once, and the lines refer to it.
        counts: list[list[int]] = []
        seen: dict[tuple, int] = {}

        def ref(found: list[int] | None) -> int | None:
            if found is None:
                return None
            key = tuple(found)
            if key not in seen:
                seen[key] = len(counts)
                counts.append(found)
            return seen[key]

        lines = {line: [ref(c) for c in found] for line, found in content["lines"].items()}
        self.save(f"shares-{batch.removeprefix('rows-')}", {**content, "counts": counts, "lines": lines})

    def load_basis(self) -> DocFingerprints | None:
        found = load_doc_fingerprints(self.folder / self.BASIS, self.rules)
        return found["rows"] if found is not None else None

    def save_basis(self, fps: DocFingerprints) -> None:
        save_doc_fingerprints(self.folder / self.BASIS, {"rows": fps}, self.rules)

    def prune(self) -> None:
        self.used.add(self.BASIS)
        for path in self.folder.iterdir():
            kept = path.name
            if kept.startswith("shares-"):
                kept = "rows-" + kept.removeprefix("shares-")
            if kept not in self.used:
                path.unlink(missing_ok=True)


def _outcomes_json(outcomes: Iterable[ExpectationOutcome]) -> list[dict]:
    return [dataclasses.asdict(o) for o in outcomes]


def _outcomes_from(found: list[dict]) -> list[ExpectationOutcome]:
    return [ExpectationOutcome(**o) for o in found]


def _doc_list(docs: Any) -> bool:
    return isinstance(docs, list) and all(d is None or isinstance(d, str) for d in docs)


def _doc_columns(tables: Sequence[DocFingerprints], docs: Sequence[str | None]) -> list[tuple]:
    wanted = pa.array(docs, pa.string())
    return [fps.at(wanted) for fps in tables]


def _batch_digests(tables: Sequence[DocFingerprints], batches: Sequence[Sequence[str | None]]) -> list[str]:
    """Per batch of documents, a digest of their ids in order and of their
    fingerprints in each of ``tables`` (the table's own, then its contexts'):
    a changed, added or removed row of one of them changes it. (A row hash
    XORed in twice cancels out, so adding two identical rows to a document
    is seen only by its row count.)"""
    columns = _doc_columns(tables, [d for docs in batches for d in docs])
    out, start = [], 0
    for docs in batches:
        end = start + len(docs)
        h = hashlib.sha256(json.dumps(list(docs)).encode())
        for n, x in columns:
            h.update(n[start:end].tobytes())
            h.update(x[start:end].tobytes())
        out.append(h.hexdigest())
        start = end
    return out


def _doc_digests(tables: Sequence[DocFingerprints], base: str, docs: Sequence[str | None]) -> list[str]:
    """Per document, a digest of ``base`` (the rules and the whole-table
    contexts), its id and its fingerprints in each of ``tables``: a share of
    a batch's outcome stands for the document while this digest holds."""
    columns = _doc_columns(tables, docs)
    cells = [[f"{a}:{b}" for a, b in zip(n.tolist(), x.tolist())] for n, x in columns]
    return [hashlib.sha256("\x1f".join([base, json.dumps(d), *(c[k] for c in cells)]).encode()).hexdigest()[:32]
            for k, d in enumerate(docs)]


class _WarehouseValidation:
    def __init__(self, con, cache_root: Path, expectations_dir: Path | None, log: Log | None, batch_docs: int,
                 workers: int, slice_rows: int = 0):
        self.con = con
        self.slice_rows = slice_rows if slice_rows > 0 else VALIDATE_SLICE_ROWS
        self.cache_root = cache_root
        self.expectations_dir = expectations_dir
        self.log = log or (lambda message: None)
        self.batch_docs = batch_docs
        self.workers = workers
        self._columns: dict[str, list[str] | None] = {}
        self._doc_fps: dict[str, DocFingerprints] = {}
        self._table_fps: dict[str, str] = {}

    # -- what is there ---------------------------------------------------------

    @property
    def validator(self) -> _Validator:
        # GE takes seconds to import: only when something needs validating
        return _shared_validator(self.expectations_dir)

    def columns(self, table: Table) -> list[str] | None:
        if table.name not in self._columns:
            self._columns[table.name] = _db_columns(self.con, table)
        return self._columns[table.name]

    def doc_fps(self, table: Table) -> DocFingerprints:
        """The table's row count and XOR of row hashes per doc_id (None for
        rows without one), as arrays (``warehouse.row_fingerprints``: hashed
        once per committed state of the database, whichever step asks)."""
        if table.name not in self._doc_fps:
            self._doc_fps[table.name] = doc_fingerprints(self.con, table)
        return self._doc_fps[table.name]

    def table_fp(self, table: Table) -> str:
        """The whole table's fingerprint, from the per-document ones."""
        if table.name not in self._table_fps:
            self._table_fps[table.name] = self.doc_fps(table).digest()
        return self._table_fps[table.name]

    def rows(self, table: Table) -> int:
        return self.doc_fps(table).rows

    def read(self, table: Table, columns: Iterable[str], docs: Sequence[str | None] | None = None,
             rows: tuple[int, int] | None = None) -> pa.Table:
        """Those of ``columns`` the table has, for the given documents (all rows
        when ``docs`` is None), sorted by key, in the data dictionary's types.
        ``rows`` (offset, count) takes one slice of the key order instead."""
        wanted = self._present(table, columns)
        cols = ", ".join(f'"{c}"' for c in wanted)
        sql = f"SELECT {cols} FROM {_qualified(table)}"
        if docs is None:
            limit = f" LIMIT {int(rows[1])} OFFSET {int(rows[0])}" if rows is not None else ""
            return _cast_columns(table, self.con.sql(f'{sql} ORDER BY "{table.key}"{limit}').to_arrow_table())
        ids = pa.table({"doc_id": pa.array([d for d in docs if d is not None], pa.string())})
        where = "doc_id IN (SELECT doc_id FROM _validate_docs)" + (" OR doc_id IS NULL" if None in docs else "")
        self.con.register("_validate_docs", ids)
        try:
            data = self.con.sql(f'{sql} WHERE {where} ORDER BY "{table.key}"').to_arrow_table()
        finally:
            self.con.unregister("_validate_docs")
        return _cast_columns(table, data)

    def _present(self, table: Table, columns: Iterable[str]) -> list[str]:
        """The key and those of ``columns`` the table has, each once, in order."""
        present = self.columns(table) or []
        return [c for c in dict.fromkeys([table.key, *columns]) if c in present]

    def read_hashed(self, table: Table, columns: Iterable[str], docs: pa.Array | None = None,
                    keys: Sequence[Sequence[str]] = ()) -> pa.Table:
        """:meth:`read` of every row, in no order, but with each text column
        as DuckDB's 64-bit ``hash()`` of its values (a null stays null): for
        rules that only compare values for equality. Eight bytes a row
        instead of a Python string each: the numbers' key column at 10,000
        documents is about 40 MB as strings.

        Given ``docs``, only the rows of those documents (None: the rows
        without one), and the other rows that share a value of one of
        ``keys`` (each a list of columns) with them."""
        wanted = self._present(table, columns)
        hashed = [c for c in wanted if pa.types.is_string(table.arrow_schema.field(c).type)]
        cols = ", ".join(f'CASE WHEN "{c}" IS NULL THEN NULL ELSE hash("{c}") END AS "{c}"' if c in hashed else f'"{c}"'
                         for c in wanted)
        if docs is None:
            data = self.con.sql(f"SELECT {cols} FROM {_qualified(table)}").to_arrow_table()
        else:
            mine = "doc_id IN (SELECT doc_id FROM _validate_docs)" + (" OR doc_id IS NULL" if docs.null_count else "")
            # A row of another document joins when its values of a key are
            # those of one of these documents' rows (nulls equal, as pandas
            # counts duplicates); rows whose values are all null are never
            # duplicates, so they draw in no others.
            shared = []
            for key in keys:
                quoted = [f'"{c}"' for c in key]
                shared.append(f"hash({', '.join(quoted)}) IN (SELECT hash({', '.join(quoted)}) FROM t WHERE _mine "
                              f"AND NOT ({' AND '.join(q + ' IS NULL' for q in quoted)}))")
            where = " OR ".join(["_mine", *shared])
            self.con.register("_validate_docs", pa.table({"doc_id": docs.drop_null().cast(pa.string())}))
            try:
                data = self.con.sql(f"WITH t AS (SELECT *, coalesce({mine}, false) AS _mine FROM {_qualified(table)}) "
                                    f"SELECT {cols} FROM t WHERE {where}").to_arrow_table()
            finally:
                self.con.unregister("_validate_docs")
        plain = _cast_columns(table, data.select([c for c in wanted if c not in hashed]))
        return pa.table({c: data[c] if c in hashed else plain[c] for c in wanted})

    # -- validating ---------------------------------------------------------

    def table(self, table: Table, previous_rows: int | None) -> TableValidation:
        columns = self.columns(table)
        if columns is None:
            schema, _ = _schema_outcome(table, None)
            return TableValidation(table.name, 0, (schema,))
        empty = self.con.sql(f"SELECT * FROM {_qualified(table)} LIMIT 0").to_arrow_table()
        schema, _ = _schema_outcome(table, empty)
        rules = _rules_version(table.name, self.expectations_dir)
        cache = _Cache(self.cache_root, table.name, rules)
        started = time.monotonic()
        if per_document(table):
            outcomes, rows, note = self._by_document(table, cache, rules, previous_rows)
        else:
            outcomes, rows, note = self._whole(table, cache, rules, previous_rows)
        cache.prune()
        self.log(f"validation: {table.name}: {note} in {time.monotonic() - started:.1f}s")
        return TableValidation(table.name, rows, (schema, *sorted(outcomes, key=lambda o: o.line)))

    def _contexts(self, table: Table) -> list[Table]:
        return [BY_NAME[n] for n in tables_needed(table.name) if n in BY_NAME and self.columns(BY_NAME[n]) is not None]

    def _whole(self, table: Table, cache: _Cache, rules: str, previous_rows: int | None):
        contexts = self._contexts(table)
        key = "all-" + _digest(rules, self.table_fp(table), [(c.name, self.table_fp(c)) for c in contexts],
                               _volume_input(table.name, previous_rows, self.expectations_dir))
        found = cache.load(key)
        if found is None:
            wanted = {d.name for d in DERIVED.get(table.name, ())}
            needed = context_columns(table.name)
            ctx = {c.name: self.read(c, needed.get(c.name, [])) for c in contexts}
            total = self.rows(table)
            if total <= self.slice_rows:
                data = self.read(table, self._own_columns(table, None, wanted))
                outcomes = self.validator.run(table.name, data, ctx, previous_rows)
                note = f"validated {data.num_rows} rows"
            else:
                outcomes = self._sliced(table, ctx, total, wanted, previous_rows)
                note = f"validated {total} rows in {math.ceil(total / self.slice_rows)} slices"
            cache.save(key, {"outcomes": _outcomes_json(outcomes)})
        else:
            outcomes = _outcomes_from(found["outcomes"])
            note = "unchanged, outcome reused"
        return outcomes, self.rows(table), note

    def _sliced(self, table: Table, ctx: dict[str, pa.Table], total: int, derived: set[str],
                previous_rows: int | None) -> list[ExpectationOutcome]:
        """A large table without documents (the gazetteer) validated in slices
        of :data:`VALIDATE_SLICE_ROWS` rows in key order: row-wise rules per
        slice, added up as for document batches, and the other rules once on
        the whole table's columns they read. Peak memory is one slice's frame,
        not the whole table's."""
        columns = self._own_columns(table, row_wise, derived)
        by_line: dict[int, list[ExpectationOutcome]] = {}
        for offset in range(0, total, self.slice_rows):
            data = self.read(table, columns, rows=(offset, self.slice_rows))
            for o in self.validator.run(table.name, data, ctx, previous_rows, select=row_wise):
                by_line.setdefault(o.line, []).append(o)
            del data
        outcomes = [combine_outcomes(found) for found in by_line.values()]
        lines = [e for e in read_suite_file(table.name, self.expectations_dir)["expectations"] if not row_wise(e)]
        if lines:
            wide = derived & {c for e in lines for c in _line_columns(e)}
            outcomes += self._whole_table(table, lambda e: not row_wise(e), wide, ctx, previous_rows)
        return sorted(outcomes, key=lambda o: o.line)

    def _whole_table(self, table: Table, select: Callable[[dict], bool], derived: set[str], ctx: dict[str, pa.Table],
                     previous_rows: int | None) -> list[ExpectationOutcome]:
        """The outcomes of the suite lines ``select`` accepts, validated on the
        whole table's columns they read. Key uniqueness and row counts go
        first on 64-bit hashes of the text columns (:meth:`read_hashed`):
        distinct hashes mean distinct values, so a pass is the values' pass,
        with the same counts. A duplicate there (or two values with one hash)
        is validated again on the values, which the report shows."""
        lines = read_suite_file(table.name, self.expectations_dir)["expectations"]
        if not derived and not any(_line_columns(e) for e in lines if select(e)):
            # Row counts read no column: a frame of the table's rows without
            # columns, instead of hashing every key to give GE something to count.
            rows = pa.table({"_": pa.nulls(self.rows(table))}).drop_columns(["_"])
            return self.validator.run(table.name, rows, {}, previous_rows, select=select)
        columns = self._own_columns(table, select, derived)
        if not derived and all(_by_hash(e) for e in lines if select(e)):
            validated = self.validator.run(table.name, self.read_hashed(table, columns), {}, previous_rows, select=select)
            if all(o.success for o in validated if lines[o.line]["type"] in _UNIQUE_TYPES):
                return validated
        return self.validator.run(table.name, self.read(table, columns), ctx, previous_rows, select=select)

    def _own_columns(self, table: Table, select: Callable[[dict], bool] | None, derived: set[str]) -> list[str]:
        spec = read_suite_file(table.name, self.expectations_dir)
        cols = [c for e in spec["expectations"] if select is None or select(e) for c in _line_columns(e)]
        cols += [c for d in DERIVED.get(table.name, ()) if d.name in derived for c in d.uses]
        return cols

    def _by_document(self, table: Table, cache: _Cache, rules: str, previous_rows: int | None):
        own = self.doc_fps(table)
        contexts = self._contexts(table)
        per_doc_contexts = [c for c in contexts if _has_doc_id(c)]
        whole_contexts = [c for c in contexts if not _has_doc_id(c)]
        whole = [(c.name, self.table_fp(c)) for c in whole_contexts]

        tables = [own, *(self.doc_fps(c) for c in per_doc_contexts)]

        def fingerprints(batches: Sequence[Sequence[str | None]]) -> list[str]:
            return ["rows-" + _digest(rules, whole, d) for d in _batch_digests(tables, batches)]

        # Batches validated before, whose rows (and context rows) are all unchanged.
        covered: set[str | None] = set()
        parts: list[tuple[tuple, list[ExpectationOutcome]]] = []
        broken: list[tuple[str, list[ExpectationOutcome]]] = []
        stored = []
        for name in cache.batches():
            found = cache.load(name)
            if isinstance(found, dict) and _doc_list(found.get("docs")):
                stored.append((name, found))
            elif found is not None:
                cache.used.discard(f"{name}.json")  # not a batch this code wrote: validated again, then pruned
        for (name, found), expected in zip(stored, fingerprints([found["docs"] for _, found in stored])):
            docs = found["docs"]
            # A batch is reusable while its fingerprint still holds: any change
            # to its rows, its context rows or the rules gives another one.
            if name != expected or covered.intersection(docs) or (len(own) and not docs):
                cache.used.discard(f"{name}.json")
                broken.append((name, _outcomes_from(found["outcomes"])))
                continue
            covered.update(docs)
            parts.append((_doc_order(docs[0]) if docs else (), _outcomes_from(found["outcomes"])))
        reused = len(parts)

        # Batches of which some documents changed or went: the others' outcome
        # is the sum of their shares, if the batch kept them.
        base = _digest(rules, whole)

        in_part = 0
        for name, outcomes in broken:
            shares = cache.load_shares(name)
            if shares is None or not _doc_list(shares.get("docs")):
                continue
            now = _doc_digests(tables, base, shares["docs"])
            keep = [k for k, (d, fp, fp_now) in enumerate(zip(shares["docs"], shares["doc_fingerprints"], now))
                    if d in own.ids and d not in covered and fp == fp_now]
            if not keep:
                continue
            try:
                outcomes = [_share_of(o, shares["lines"][str(o.line)], keep) for o in outcomes]
            except (KeyError, IndexError, TypeError):
                continue  # shares of another version of the rules or of this code
            docs = [shares["docs"][k] for k in keep]
            kept, = fingerprints([docs])
            cache.save(kept, {"docs": docs, "outcomes": _outcomes_json(outcomes)})
            cache.save_shares(kept, {"docs": docs, "doc_fingerprints": [shares["doc_fingerprints"][k] for k in keep],
                                     "lines": _shares_at(shares["lines"], keep)})
            covered.update(docs)
            parts.append((_doc_order(docs[0]), outcomes))
            in_part += len(docs)

        todo = sorted(own.ids - covered, key=_doc_order)
        if not len(own) and not parts:
            todo_batches = [[]]  # an empty table still gets its row-wise outcomes (vacuous)
        else:
            todo_batches = [todo[i:i + self.batch_docs] for i in range(0, len(todo), self.batch_docs)]
        derived = {d.name for d in DERIVED.get(table.name, ())}
        own_columns = self._own_columns(table, row_wise, derived) + ["doc_id"]
        needed = context_columns(table.name)

        unevaluated: list[list[ExpectationOutcome]] = []

        def job(docs: list) -> tuple:
            ctx = {c.name: self.read(c, needed.get(c.name, []), docs) for c in per_doc_contexts}
            ctx.update({c.name: self.read(c, needed.get(c.name, [])) for c in whole_contexts})
            data = self.read(table, own_columns, docs)
            frame, outcomes, runnable = prepare(table.name, data, ctx, row_wise, self.expectations_dir)
            unevaluated.append(outcomes)
            return table.name, frame, data.column("doc_id"), runnable, self.expectations_dir

        # Batches are independent: with workers, GE runs on several at once
        # while this process reads and prepares the next from DuckDB.
        workers = inc.workers_for(len(todo_batches), self.workers)
        results = inc.ordered_map(check_batch, (job(docs) for docs in todo_batches), workers)
        # Keys of every batch and document at once: each lookup hashes the
        # tables' whole doc_id columns, so one per batch grew as N squared.
        names, digests, start = fingerprints(todo_batches), _doc_digests(tables, base, todo), 0
        for k, (docs, name, (outcomes, shares)) in enumerate(zip(todo_batches, names, results)):
            outcomes = sorted(outcomes + unevaluated[k], key=lambda o: o.line)
            cache.save(name, {"docs": docs, "outcomes": _outcomes_json(outcomes)})
            if shares is not None and not unevaluated[k] and docs:
                # in the batch's order of documents, which the rows' order need not be
                at = {d: i for i, d in enumerate(shares["docs"])}
                cache.save_shares(name, {"docs": docs, "doc_fingerprints": digests[start:start + len(docs)],
                                         "lines": _shares_at(shares["lines"], [at.get(d) for d in docs])})
            parts.append((_doc_order(docs[0]) if docs else (), outcomes))
            start += len(docs)
        parts.sort(key=lambda p: p[0])

        by_line: dict[int, list[ExpectationOutcome]] = {}
        for _, outcomes in parts:
            for o in outcomes:
                by_line.setdefault(o.line, []).append(o)
        combined = [combine_outcomes(found) for found in by_line.values()]
        combined += self._table_wide(table, cache, rules, previous_rows, contexts)
        rows = self.rows(table)
        note = f"{reused} batches unchanged, {len(todo)} documents validated in {len(todo_batches) if todo else 0} batches"
        if in_part:
            note += f", {in_part} unchanged documents of changed batches reused"
        return combined, rows, note

    def _table_wide(self, table: Table, cache: _Cache, rules: str, previous_rows: int | None, contexts: list[Table]):
        """The expectations that need the whole table at once, on only the columns they read.

        The volume rule (``meta.max_drop``: rows against the previous release)
        is kept apart: its outcome depends on the row count and the previous
        release's, not on the rows, so it is stored under those two numbers.
        Every new release changes the second; with the rule beside key
        uniqueness, the next run, even one that changed nothing, validated
        every table's keys again (1.8 s at 10,000 documents)."""
        spec = read_suite_file(table.name, self.expectations_dir)

        def volume(e: dict) -> bool:
            return not row_wise(e) and "max_drop" in e["meta"]

        def rest(e: dict) -> bool:
            return not row_wise(e) and "max_drop" not in e["meta"]

        def derived(select: Callable[[dict], bool]) -> set[str]:
            return {d.name for d in DERIVED.get(table.name, ())} & {
                c for e in spec["expectations"] if select(e) for c in _line_columns(e)}

        groups: list[tuple[str, Callable[[dict], bool], set[str]]] = []
        if any(volume(e) for e in spec["expectations"]):
            groups.append(("volume-" + _digest(rules, self.rows(table), previous_rows), volume, derived(volume)))
        if any(rest(e) for e in spec["expectations"]):
            wanted = derived(rest)
            context_fps = [(c.name, self.table_fp(c)) for c in contexts] if wanted else []
            groups.append(("table-" + _digest(rules, self.table_fp(table), context_fps), rest, wanted))
        return self._stored(table, cache, groups, previous_rows, contexts)

    def _stored(self, table: Table, cache: _Cache, groups: list[tuple[str, Callable[[dict], bool], set[str]]],
                previous_rows: int | None, contexts: list[Table]) -> list[ExpectationOutcome]:
        """Per group (key, the suite lines it takes, the derived columns they
        read), the outcomes stored under its key, or else validated now on the
        whole table. The groups not found are validated together, in one GE
        call on one frame: after a new document both the volume rule and key
        uniqueness are, and apart they read the key column twice and pay GE's
        fixed cost per call twice (together 0.2-0.25 s for the numbers table
        at 10,000 documents). A line's outcome does not depend on the other
        lines in its call, so each group's is stored apart, as if validated
        alone."""
        outcomes: list[ExpectationOutcome] = []
        missing = []
        for key, select, derived in groups:
            found = cache.load(key)
            if found is None and key.startswith("table-") and not derived:
                found = self._keys_by_difference(table, cache, select, previous_rows)
                if found is not None:
                    cache.save(key, found)
                    cache.save_basis(self.doc_fps(table))  # the next run's changes are counted from here
            if found is None:
                missing.append((key, select, derived))
            else:
                outcomes += _outcomes_from(found["outcomes"])
        if not missing:
            return outcomes

        def select(e: dict) -> bool:
            return any(sel(e) for _, sel, _ in missing)

        derived = set().union(*(d for _, _, d in missing))
        needed = context_columns(table.name, derived)
        ctx = {c.name: self.read(c, needed.get(c.name, [])) for c in contexts} if derived else {}
        validated = self._whole_table(table, select, derived, ctx, previous_rows)
        lines = read_suite_file(table.name, self.expectations_dir)["expectations"]
        for key, sel, _ in missing:
            mine = [o for o in validated if sel(lines[o.line])]
            cache.save(key, {"outcomes": _outcomes_json(mine)})
            if key.startswith("table-") and self._keys_only(table, sel) and all(o.success for o in mine):
                cache.save_basis(self.doc_fps(table))
            outcomes += mine
        return outcomes

    def _keys_only(self, table: Table, select: Callable[[dict], bool]) -> bool:
        """Whether the suite lines ``select`` takes are all key uniqueness
        that :meth:`_keys_by_difference` can validate, on a table of documents."""
        chosen = [e for e in read_suite_file(table.name, self.expectations_dir)["expectations"] if select(e)]
        return _has_doc_id(table) and bool(chosen) and all(e["type"] in _UNIQUE_TYPES and _by_hash(e) for e in chosen)

    def _keys_by_difference(self, table: Table, cache: _Cache, select: Callable[[dict], bool],
                            previous_rows: int | None) -> dict | None:
        """Key uniqueness of the whole table, validated on the rows of the
        documents that changed since a state of the table whose keys were
        unique (the basis, ``keys-basis.arrow``), and on the rows of other
        documents that share a key with them. None when there is no basis
        for these rules, or when those rows hold a duplicate: the whole
        table is then validated, and its report counts every one.

        Why this is the whole table's outcome: a document whose row count and
        row hash are those of the basis has the rows it had there, and those
        rows held no duplicate. So every duplicate of the table now involves
        a row of a changed document, and every row that shares its value is
        in the frame: the frame's duplicates are the table's, with the same
        count (none). The counts of rows and of missing values are the whole
        table's, counted in DuckDB. Before, each added file had GE look for
        duplicates among every key of the table (3.1 s of a one-file re-run
        at 80,000 documents)."""
        if not self._keys_only(table, select):
            return None
        basis = cache.load_basis()
        if basis is None:
            return None
        own = self.doc_fps(table)
        n, h = basis.at(own.docs)
        changed = own.docs.filter(pa.array((n != own.n) | (h != own.h)))
        chosen = [(i, e) for i, e in enumerate(read_suite_file(table.name, self.expectations_dir)["expectations"])
                  if select(e)]
        keys = [_columns_of(e["kwargs"]) for _, e in chosen]
        frame = self.read_hashed(table, self._own_columns(table, select, set()), changed, keys)
        validated = self.validator.run(table.name, frame, {}, previous_rows, select=select)
        if not all(o.success for o in validated):
            return None
        missing = dict(zip((i for i, _ in chosen), self._all_null(table, keys)))
        outcomes = [_counted(o, {"element_count": own.rows, "missing_count": missing[o.line], "unexpected_count": 0},
                             [] if "unexpected_sample" in o.observed else None, {}) for o in validated]
        return {"outcomes": _outcomes_json(outcomes), "changed_documents": len(changed), "rows_validated": frame.num_rows}

    def _all_null(self, table: Table, keys: Sequence[Sequence[str]]) -> list[int]:
        """Per key (a list of columns), the rows whose values of it are all
        null: what GE counts as missing for a uniqueness rule."""
        counts = ", ".join("count(*) FILTER (WHERE " + " AND ".join(f'"{c}" IS NULL' for c in key) + ")" for key in keys)
        return list(self.con.execute(f"SELECT {counts} FROM {_qualified(table)}").fetchall()[0])


def validate_warehouse(
    con,
    cache_dir: Path,
    names: Iterable[str] | None = None,
    previous_rows: dict[str, int] | None = None,
    log: Log | None = None,
    expectations_dir: Path | None = None,
    batch_docs: int = VALIDATE_BATCH_DOCS,
    workers: int | None = 1,
    slice_rows: int = 0,
) -> dict[str, TableValidation]:
    """Validate the working database's tables (all of ``dangjian.schema``, or
    those in ``names``), reusing every stored outcome whose rows are unchanged.

    ``con`` may be read-only; outcomes are kept in ``cache_dir``. The result
    is what :func:`validate_all` gives for the same tables, except that the
    samples of failing values come batch by batch.

    Batches may run in ``workers`` processes (None or 0: ``DANGJIAN_WORKERS``,
    else one per CPU). The default is 1, this process: each worker pays
    seconds to import GE, which on two cores costs more than it saves
    (docs/scaling.md).

    Tables without documents larger than ``slice_rows`` rows (default
    :data:`VALIDATE_SLICE_ROWS`) are validated in slices of that many rows.
    """
    wanted = set(names) if names is not None else None
    run = _WarehouseValidation(con, Path(cache_dir), expectations_dir, log, batch_docs, workers, slice_rows)
    previous_rows = previous_rows or {}
    return {t.name: run.table(t, previous_rows.get(t.name)) for t in TABLES if wanted is None or t.name in wanted}


# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------

_CSS = """
body{font-family:system-ui,"Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0;width:100%}
th,td{border:1px solid #ccc;padding:4px 8px;vertical-align:top;text-align:left;font-size:14px}
th{background:#f3f3f3}
td.why{width:18%}
td.args,td.observed{width:26%}
tr.fail td{background:#fdecee}
tr.warn td{background:#fff6e5}
td.pass{color:#176b2c;font-weight:bold}
td.fail{color:#b00020;font-weight:bold}
td.warn{color:#a15c00;font-weight:bold}
pre{margin:0;white-space:pre-wrap;word-break:break-word;font-size:12px}
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _json_cell(value: dict) -> str:
    """One ``key: value`` line per entry: text as is, anything else as compact JSON."""
    lines = [f"{k}: {v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, default=str)}" for k, v in value.items()]
    return f"<pre>{_e(chr(10).join(lines))}</pre>"


def _status(o: ExpectationOutcome) -> tuple[str, str]:
    if o.success:
        return "pass", "pass"
    return ("fail", "FAIL") if o.critical else ("warn", "warn")


def report_html(results: dict[str, TableValidation], title: str) -> str:
    """A self-contained HTML page (inline CSS, no scripts, no external assets)
    listing every expectation of every table with its outcome."""
    failed = sum(len(v.failed_critical) for v in results.values())
    warned = sum(len(v.failed_warnings) for v in results.values())
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
        f"<p>{_e(len(results))} tables; {_e(failed)} critical expectation(s) failed; {_e(warned)} warning(s).</p>",
        "<table><tr><th>table</th><th>rows</th><th>expectations</th><th>critical failed</th>"
        "<th>warnings</th><th>result</th></tr>",
    ]
    for name, v in results.items():
        cls, label = ("pass", "pass") if v.success else ("fail", "FAIL")
        parts.append(
            f'<tr><td><a href="#t-{_e(name)}">{_e(name)}</a></td><td>{_e(v.rows)}</td><td>{_e(len(v.outcomes))}</td>'
            f'<td>{_e(len(v.failed_critical))}</td><td>{_e(len(v.failed_warnings))}</td><td class="{cls}">{label}</td></tr>'
        )
    parts.append("</table>")
    for name, v in results.items():
        parts.append(f'<h2 id="t-{_e(name)}">{_e(name)} — {_e(v.rows)} rows</h2>')
        parts.append(
            "<table><tr><th>result</th><th>level</th><th>expectation</th><th>column</th>"
            "<th>why</th><th>arguments</th><th>observed</th></tr>"
        )
        for o in v.outcomes:
            cls, label = _status(o)
            level = "critical" if o.critical else "warning"
            parts.append(
                f'<tr class="{cls}"><td class="{cls}">{label}</td><td>{level}</td>'
                f'<td>{_e(o.expectation)}</td><td>{_e(o.column or "")}</td><td class="why">{_e(o.why)}</td>'
                f'<td class="args">{_json_cell(o.kwargs)}</td><td class="observed">{_json_cell(o.observed)}</td></tr>'
            )
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
