"""The ``dangjian`` command line: the pipeline's own modules, without the warehouse.

    dangjian normalize --jsonl            text lines on stdin → JSON lines on stdout
    dangjian extract --format jsonl F...  decode, clean, normalise files → JSON records
    dangjian run                          materialize every asset and publish a release

``extract`` processes every good file even when some are bad; the bad ones
get a message on standard error and the exit status is 1 at the end.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

EXIT_BAD_INPUT = 1
EXIT_RUN_FAILED = 2


def _number_record(m, surface: str, start: int, end: int) -> dict:
    rec = {
        "text": surface,
        "start": start,
        "end": end,
        "value": m.value,
        "kind": m.kind,
        "unit": m.unit,
        "qualifier": m.qualifier,
    }
    if m.value_min is not None or m.value_max is not None:
        rec["value_min"] = m.value_min
        rec["value_max"] = m.value_max
    if m.note:
        rec["note"] = m.note
    return rec


def cmd_normalize(args: argparse.Namespace) -> int:
    from dangjian.text.numbers import find_numbers
    from dangjian.text.script import normalize

    out = sys.stdout
    for line in sys.stdin:
        line = line.rstrip("\n").rstrip("\r")
        text = normalize(line)  # same length as the line, so offsets hold for both
        nums = [_number_record(m, line[m.start:m.end], m.start, m.end) for m in find_numbers(text)]
        out.write(json.dumps({"text": text, "numbers": nums}, ensure_ascii=False) + "\n")
    return 0


def _extract_file(path: Path, display: str) -> list[dict]:
    from dangjian.document import PLACE_ANALYSIS_FIELDS, DocText, indicator_rows, number_rows, read_document, sentence_rows, term_rows
    from dangjian.sources import sha256_hex
    from dangjian.text.numbers import find_numbers

    data = path.read_bytes()
    row = read_document(data, sha256_hex(data), [display], None)
    doc = DocText.from_row(row)
    skip = {"source_text", "clean_text", "text", "offset_map", "source_paths", *PLACE_ANALYSIS_FIELDS}
    records = [{"type": "document", "file": display, **{k: v for k, v in row.items() if k not in skip}}]
    sentences = sentence_rows(doc)
    mentions = find_numbers(doc.text)

    def span_record(kind: str, r: dict, fields: tuple[str, ...]) -> dict:
        # ``start``/``end`` point into the decoded source file, like ``text``.
        return {"type": kind, "file": display, "text": doc.source_text[r["source_start"]:r["source_end"]],
                "start": r["source_start"], "end": r["source_end"],
                "normalized_start": r["start"], "normalized_end": r["end"], **{k: r[k] for k in fields}}

    records += [span_record("number", n, ("number_id", "doc_id", "sentence_id", "text_simplified", "kind",
                                          "is_quantity", "value", "value_min", "value_max", "unit", "qualifier",
                                          "note"))
                for n in number_rows(doc, sentences, mentions)]
    records += [span_record("indicator", i, ("indicator_id", "doc_id", "sentence_id", "number_id",
                                             "text_simplified", "value", "value_min", "value_max", "unit", "kind",
                                             "qualifier", "note", "subject", "year", "place_adcode",
                                             "fixed_expression", "sentence"))
                for i in indicator_rows(doc, sentences, row["published"], mentions, doc.places())]
    records += [span_record("term", t, ("term_id", "doc_id", "sentence_id", "term", "quote", "is_formula"))
                for t in term_rows(doc, sentences)]
    return records


def cmd_extract(args: argparse.Namespace) -> int:
    from dangjian.document import NoTextError
    from dangjian.text.decode import DecodeError

    failed = 0
    total = len(args.files)
    started = last = time.monotonic()
    for i, name in enumerate(args.files, start=1):
        path = Path(name)
        try:
            if path.is_dir():
                raise IsADirectoryError("is a folder; pass the files inside it")
            records = _extract_file(path, name)
        except (DecodeError, NoTextError) as exc:
            failed += 1
            print(f"dangjian: {name}: rejected: {exc.reason}", file=sys.stderr)
            continue
        except OSError as exc:
            failed += 1
            print(f"dangjian: {name}: cannot read: {exc.strerror or exc}", file=sys.stderr)
            continue
        for rec in records:
            sys.stdout.write(json.dumps(rec, ensure_ascii=False) + "\n")
        now = time.monotonic()
        if total > 1 and (now - last >= 2 or i == total) and (args.progress or total >= 50):
            print(f"dangjian: {i}/{total} files, {i / (now - started):.1f} files/s", file=sys.stderr)
            last = now
    if failed:
        print(f"dangjian: {failed} of {total} files could not be processed", file=sys.stderr)
        return EXIT_BAD_INPUT
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    import dagster as dg

    from dangjian.definitions import defs
    from dangjian.warehouse import SetupError, resolve_raw_dir, resolve_warehouse_dir

    try:
        raw_dir = resolve_raw_dir(args.raw_dir)
        warehouse_dir = resolve_warehouse_dir(args.warehouse_dir)
    except SetupError as exc:
        print(f"dangjian: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if not any(p.is_file() for p in raw_dir.rglob("*")):
        print(f"dangjian: the raw folder {raw_dir} has no files. Put articles (.txt or .html) in it and run again.",
              file=sys.stderr)
        return EXIT_BAD_INPUT
    if os.environ.get("DAGSTER_HOME"):
        # Keep the run in the history the Dagster UI shows (make ui).
        Path(os.environ["DAGSTER_HOME"]).mkdir(parents=True, exist_ok=True)
        instance = dg.DagsterInstance.get()
    else:
        instance = dg.DagsterInstance.ephemeral()
    run_config = {
        "resources": {"warehouse": {"config": {"raw_dir": str(raw_dir), "warehouse_dir": str(warehouse_dir),
                                               "accept_row_drop": args.accept_row_drop, "rehash": args.rehash}}},
        "loggers": {"console": {"config": {"log_level": args.log_level}}},
    }
    started = time.monotonic()
    result = defs.resolve_job_def("build_release").execute_in_process(
        run_config=run_config, instance=instance, raise_on_error=False
    )
    if not result.success:
        print("dangjian: the run failed; the previous release is still the latest. See the log above.", file=sys.stderr)
        return EXIT_RUN_FAILED
    meta = {}
    for event in result.get_asset_materialization_events():
        mat = event.materialization
        meta[mat.asset_key.to_user_string()] = {k: v.value for k, v in mat.metadata.items()}
    rel = meta.get("released/release", {})
    print(f"\nrelease {rel.get('version')} ({'new' if rel.get('new_release') else 'unchanged'}) "
          f"in {time.monotonic() - started:.1f}s → {rel.get('path')}")
    for key, m in sorted(meta.items()):
        if "dagster/row_count" in m:
            print(f"  {key:28s} {m['dagster/row_count']:>8} rows")
    print(f"  published database: {warehouse_dir / 'dangjian.duckdb'}")
    steps = {k: v for k, v in step_seconds(instance, result.run_id).items() if v >= 0.1}
    if steps:  # the steps of 0.1 s or more, in the order they ran
        print(f"  {STEP_TIMES_LABEL} " + ", ".join(f"{k} {v:.2f}s" for k, v in steps.items()))
    return 0


STEP_TIMES_LABEL = "time by step:"


def step_seconds(instance, run_id: str) -> dict[str, float]:
    """Seconds each step of the run took (start to success or failure), in
    the order the steps started: where a run's time went, from the event
    log Dagster keeps of it (the UI shows the same, as a Gantt chart)."""
    started: dict[str, float] = {}
    took: dict[str, float] = {}
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None or entry.step_key is None:
            continue
        if event.event_type_value == "STEP_START":
            started[entry.step_key] = entry.timestamp
        elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE") and entry.step_key in started:
            took[entry.step_key] = entry.timestamp - started[entry.step_key]
    return {k: took[k] for k in started if k in took}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="dangjian", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)

    n = sub.add_parser("normalize", help="normalise text lines from stdin and list their numbers")
    n.add_argument("--jsonl", action="store_true", required=True, help="one text per input line, one JSON object per output line")
    n.set_defaults(func=cmd_normalize)

    e = sub.add_parser("extract", help="run the document pipeline on files and print JSON records")
    e.add_argument("--format", choices=["jsonl"], default="jsonl")
    e.add_argument("--progress", action="store_true", help="report progress on stderr (automatic from 50 files)")
    e.add_argument("files", nargs="+", metavar="FILE")
    e.set_defaults(func=cmd_extract)

    r = sub.add_parser("run", help="materialize every asset over the raw folder and publish a release")
    r.add_argument("--raw-dir", help="folder of articles (default: $DANGJIAN_RAW_DIR or ./raw)")
    r.add_argument("--warehouse-dir", help="output folder (default: $DANGJIAN_WAREHOUSE_DIR or ./warehouse)")
    r.add_argument("--accept-row-drop", action="store_true",
                   help="publish even if a table lost more than 20%% of its rows since the last release (after a deliberate removal)")
    r.add_argument("--rehash", action="store_true",
                   help="read and hash every raw file, even those unchanged in size and times since the last run")
    r.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    r.set_defaults(func=cmd_run)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except BrokenPipeError:
        # `dangjian extract … | head` closed the pipe: stop quietly, like other filters.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
