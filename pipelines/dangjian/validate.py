"""Great Expectations validation of the published tables.

The data: the six tables of ``dangjian.schema`` (``source_files``,
``documents``, ``rejected_files``, ``paragraphs``, ``sentences``, ``numbers``)
as Arrow tables — what ``warehouse.read_table`` returns from the working
DuckDB, or what ``release.export_tables`` publishes.

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

Great Expectations takes seconds to import, so it is imported only inside the
functions that validate, never when this module is imported.
"""
from __future__ import annotations

import html
import json
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from dangjian.schema import BY_NAME, TABLES, Table

if TYPE_CHECKING:
    import great_expectations as gx
    import pandas as pd

EXPECTATIONS_ENV = "DANGJIAN_EXPECTATIONS_DIR"
# pipelines/dangjian/validate.py → <repository>/expectations
DEFAULT_EXPECTATIONS_DIR = Path(__file__).resolve().parents[2] / "expectations"

#: The expectation parameter the volume rule reads its minimum row count from.
VOLUME_PARAMETER = "min_rows_vs_previous_release"
#: Failing values shown per outcome: enough to find the rows, short enough to read.
SAMPLE_SIZE = 5
#: Names of the checks that are code rather than suite lines.
SCHEMA_CHECK = "expect_table_schema_to_match_data_dictionary"

_RESULT_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": SAMPLE_SIZE}
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
    """Lookups into the other tables, built once per validation run."""

    def __init__(self, tables: dict[str, pa.Table]):
        self.tables = tables

    def has(self, name: str) -> bool:
        return name in self.tables

    def _rows(self, name: str, columns: list[str]) -> list[dict]:
        data = self.tables[name]
        return data.select([c for c in columns if c in data.column_names]).to_pylist()

    @cached_property
    def documents(self) -> dict[str, dict]:
        rows = self._rows("documents", ["doc_id", "chars", "source_chars", "sha256", "source_path", "text", "clean_text"])
        found: dict[str, dict] = {}
        for row in rows:
            found.setdefault(row["doc_id"], row)  # a repeated doc_id fails its own uniqueness rule
        return found

    @cached_property
    def sentence_ids(self) -> set[str]:
        return set(self.tables["sentences"]["sentence_id"].to_pylist())

    @cached_property
    def number_ids(self) -> set[str]:
        return set(self.tables["numbers"]["number_id"].to_pylist())

    @cached_property
    def division_codes(self) -> set[str]:
        return set(self.tables["admin_divisions"]["code"].to_pylist())

    @cached_property
    def source_files(self) -> dict[str, dict]:
        return {r["path"]: r for r in self._rows("source_files", ["path", "status", "doc_id"])}

    @cached_property
    def rejected_paths(self) -> set[str]:
        return set(self.tables["rejected_files"]["path"].to_pylist())


def _doc_field(field: str) -> Callable[[pd.DataFrame, _Context], list]:
    def compute(frame: pd.DataFrame, ctx: _Context) -> list:
        docs = ctx.documents
        return [None if (d := docs.get(doc_id)) is None else d.get(field) for doc_id in frame["doc_id"]]

    return compute


def _doc_slice(field: str) -> Callable[[pd.DataFrame, _Context], list]:
    """``documents.<field>[start:end]`` of each row's document: what the
    row's offsets point at. None when the document or its text is missing
    (releases withhold the text of sources whose rights forbid republishing)."""

    def compute(frame: pd.DataFrame, ctx: _Context) -> list:
        docs = ctx.documents
        out = []
        for doc_id, start, end in zip(frame["doc_id"], frame["start"], frame["end"]):
            doc = docs.get(doc_id)
            text = None if doc is None else doc.get(field)
            if text is None or _missing(start) or _missing(end):
                out.append(None)
            else:
                out.append(text[int(start):int(end)])
        return out

    return compute


def _doc_exists(frame: pd.DataFrame, ctx: _Context) -> list:
    docs = ctx.documents
    return [None if _missing(d) else d in docs for d in frame["doc_id"]]


def _sentence_exists(frame: pd.DataFrame, ctx: _Context) -> list:
    ids = ctx.sentence_ids
    return [None if _missing(s) else s in ids for s in frame["sentence_id"]]


def _number_exists(frame: pd.DataFrame, ctx: _Context) -> list:
    ids = ctx.number_ids
    return [None if _missing(n) else n in ids for n in frame["number_id"]]


def _code_exists(column: str) -> Callable[[pd.DataFrame, _Context], list]:
    def compute(frame: pd.DataFrame, ctx: _Context) -> list:
        codes = ctx.division_codes
        return [None if _missing(c) else c in codes for c in frame[column]]

    return compute


def _source_file_doc_id(frame: pd.DataFrame, ctx: _Context) -> list:
    files = ctx.source_files
    return [
        f["doc_id"] if (f := files.get(path)) is not None and f["status"] == "document" else None
        for path in frame["source_path"]
    ]


def _in_rejected_files(frame: pd.DataFrame, ctx: _Context) -> list:
    return [path in ctx.rejected_paths for path in frame["path"]]


def _rejected_in_source_files(frame: pd.DataFrame, ctx: _Context) -> list:
    files = ctx.source_files
    return [(f := files.get(path)) is not None and f["status"] == "rejected" for path in frame["path"]]


def _text_chars(column: str) -> Callable[[pd.DataFrame, _Context], list]:
    def compute(frame: pd.DataFrame, ctx: _Context) -> list:
        return [None if _missing(t) else len(t) for t in frame[column]]

    return compute


def _sha256_prefix(frame: pd.DataFrame, ctx: _Context) -> list:
    return [None if _missing(s) else s[:16] for s in frame["sha256"]]


@dataclass(frozen=True)
class Derived:
    """A column added to a table's DataFrame before validation."""

    name: str
    needs: tuple[str, ...]  # the other tables it is computed from
    about: str
    compute: Callable[[pd.DataFrame, _Context], list]


_OFFSET_TABLE_COLUMNS = (
    Derived("ref_doc_in_documents", ("documents",), "doc_id is a documents.doc_id", _doc_exists),
    Derived("ref_doc_chars", ("documents",), "documents.chars of the row's document", _doc_field("chars")),
    Derived("ref_doc_source_chars", ("documents",), "documents.source_chars of the row's document", _doc_field("source_chars")),
    Derived("ref_doc_sha256", ("documents",), "documents.sha256 of the row's document", _doc_field("sha256")),
    Derived("ref_doc_source_path", ("documents",), "documents.source_path of the row's document", _doc_field("source_path")),
    Derived("ref_doc_text_slice", ("documents",), "documents.text[start:end]", _doc_slice("text")),
)

# Rows that cite a span of a document's text and sit in one of its sentences.
_TEXT_SPAN_COLUMNS = _OFFSET_TABLE_COLUMNS + (
    Derived("ref_doc_clean_text_slice", ("documents",), "documents.clean_text[start:end]", _doc_slice("clean_text")),
    Derived("ref_sentence_in_sentences", ("sentences",),
            "sentence_id is a sentences.sentence_id (null when sentence_id is null)", _sentence_exists),
)

#: Per table, the derived columns its suite may use. ``ref_*`` come from other
#: tables, ``derived_*`` from the row itself.
DERIVED: dict[str, tuple[Derived, ...]] = {
    "source_files": (
        Derived("ref_doc_in_documents", ("documents",), "doc_id is a documents.doc_id (null when doc_id is null)", _doc_exists),
        Derived("ref_path_in_rejected_files", ("rejected_files",), "path is a rejected_files.path", _in_rejected_files),
    ),
    "documents": (
        Derived("derived_sha256_prefix", (), "first 16 characters of sha256", _sha256_prefix),
        Derived("derived_text_chars", (), "length of text in code points", _text_chars("text")),
        Derived("derived_source_text_chars", (), "length of source_text in code points", _text_chars("source_text")),
        Derived("ref_source_file_doc_id", ("source_files",),
                "doc_id of the source_files row of source_path when its status is document", _source_file_doc_id),
    ),
    "rejected_files": (
        Derived("ref_path_rejected_in_source_files", ("source_files",),
                "path is a source_files row with status rejected", _rejected_in_source_files),
    ),
    "paragraphs": _OFFSET_TABLE_COLUMNS,
    "sentences": _OFFSET_TABLE_COLUMNS,
    "numbers": _TEXT_SPAN_COLUMNS,
    "indicators": _TEXT_SPAN_COLUMNS + (
        Derived("ref_number_in_numbers", ("numbers",), "number_id is a numbers.number_id", _number_exists),
    ),
    "campaign_terms": _TEXT_SPAN_COLUMNS,
    "places": _TEXT_SPAN_COLUMNS + (
        Derived("ref_adcode_in_admin_divisions", ("admin_divisions",),
                "adcode is an admin_divisions.code (null when adcode is null)", _code_exists("adcode")),
        Derived("ref_stat_code_in_admin_divisions", ("admin_divisions",),
                "stat_code is an admin_divisions.code (null when stat_code is null)", _code_exists("stat_code")),
    ),
    "organizations": _TEXT_SPAN_COLUMNS,
    "people": _TEXT_SPAN_COLUMNS,
}


def tables_needed(table_name: str) -> tuple[str, ...]:
    """The other tables ``table_name``'s cross-table rules read (``validate_table``'s context)."""
    return tuple(sorted({need for d in DERIVED.get(table_name, ()) for need in d.needs}))


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _add_derived(table_name: str, frame: pd.DataFrame, ctx: _Context) -> dict[str, str]:
    """Add the table's derived columns to ``frame``; return the ones that could
    not be computed, each with the reason."""
    import pandas as pd

    skipped = {}
    for d in DERIVED.get(table_name, ()):
        absent = [n for n in d.needs if not ctx.has(n)]
        if absent:
            skipped[d.name] = f"needs the {', '.join(absent)} table (pass it in context_tables)"
            continue
        # object dtype keeps None as None, so GE's null handling skips those rows
        frame[d.name] = pd.Series(d.compute(frame, ctx), index=frame.index, dtype=object)
    return skipped


# ---------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------


def _columns_of(kwargs: dict) -> list[str]:
    cols = [kwargs[k] for k in ("column", "column_A", "column_B") if k in kwargs]
    return cols + list(kwargs.get("column_list") or [])


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


def _schema_outcome(table: Table, data: pa.Table) -> tuple[ExpectationOutcome, pa.Table]:
    """The data's columns and types against the data dictionary. Types that
    cast safely (e.g. ``string_view`` → ``string``) pass; data that casts is
    validated in the dictionary's types."""
    expected = table.arrow_schema
    observed: dict[str, Any] = {}
    success = data.schema.names == expected.names
    if not success:
        observed["missing_columns"] = [n for n in expected.names if n not in data.schema.names]
        observed["unexpected_columns"] = [n for n in data.schema.names if n not in expected.names]
        observed["observed_value"] = data.schema.names
    else:
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


class _Validator:
    """One GE data context and pandas data source, reused for every table so
    that the set-up is paid once per run."""

    def __init__(self, expectations_dir: Path | None = None):
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        self.expectations_dir = resolve_expectations_dir(expectations_dir)
        self.context = gx.get_context(mode="ephemeral")
        # tqdm bars in the logs of a pipeline run are noise
        self.context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
        self.source = self.context.data_sources.add_pandas("dangjian")
        self._assets = 0

    def validate(
        self,
        table_name: str,
        data: pa.Table,
        context_tables: dict[str, pa.Table],
        previous_rows: int | None,
    ) -> TableValidation:
        spec = read_suite_file(table_name, self.expectations_dir)  # first: it names an unknown table
        table = BY_NAME[table_name]
        schema_outcome, data = _schema_outcome(table, data)
        # GE hashes the whole DataFrame by pickling it; nested columns no rule
        # reads (admin_divisions.former_names) would cost seconds for nothing.
        used = {c for e in spec["expectations"] for c in _columns_of(e["kwargs"])}
        nested = [f.name for f in data.schema if pa.types.is_nested(f.type) and f.name not in used]
        frame = data.drop_columns(nested).to_pandas()
        skipped = _add_derived(table_name, frame, _Context({**context_tables, table_name: data}))

        outcomes = [schema_outcome]
        runnable: list[tuple[int, dict]] = []
        for i, e in enumerate(spec["expectations"]):
            needs = [skipped[c] for c in _columns_of(e["kwargs"]) if c in skipped]
            if needs:
                outcomes.append(self._not_evaluated(table_name, e, needs[0]))
            else:
                runnable.append((i, e))

        volume = next((e for _, e in runnable if "max_drop" in e["meta"]), None)
        parameters = {VOLUME_PARAMETER: _volume_minimum(previous_rows, volume["meta"]["max_drop"]) if volume else 0}

        self._assets += 1
        asset = self.source.add_dataframe_asset(name=f"{table_name}_{self._assets}")
        batch = asset.add_batch_definition_whole_dataframe("whole").get_batch(batch_parameters={"dataframe": frame})
        result = batch.validate(
            _ge_suite(table_name, runnable),
            result_format=_RESULT_FORMAT,
            expectation_parameters=parameters,
        )
        by_id = {_expectation_id(table_name, i): e for i, e in runnable}
        ge_outcomes = []
        for r in result.results:
            config = r.expectation_config
            line = by_id[config.id]
            observed = _observed(r.result or {}, r.exception_info)
            if "max_drop" in line["meta"]:
                observed["previous_rows"] = previous_rows
            ge_outcomes.append(
                (
                    config.id,
                    ExpectationOutcome(
                        table=table_name,
                        expectation=config.type,
                        column=_column_label(line["kwargs"]),
                        kwargs=_kwargs_as_run(config.kwargs),
                        critical=line["meta"]["critical"],
                        success=bool(r.success),
                        observed=observed,
                        why=line["meta"]["why"],
                    ),
                )
            )
        # back in suite-file order, which is the order a reader expects
        ge_outcomes.sort(key=lambda pair: int(pair[0].rsplit("/", 1)[1]))
        outcomes.extend(o for _, o in ge_outcomes)
        return TableValidation(table=table_name, rows=data.num_rows, outcomes=tuple(outcomes))

    @staticmethod
    def _not_evaluated(table_name: str, line: dict, reason: str) -> ExpectationOutcome:
        return ExpectationOutcome(
            table=table_name,
            expectation=line["type"],
            column=_column_label(line["kwargs"]),
            kwargs=_kwargs_as_run(line["kwargs"]),
            critical=line["meta"]["critical"],
            success=False,
            observed={"not_evaluated": reason},
            why=line["meta"]["why"],
        )


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
