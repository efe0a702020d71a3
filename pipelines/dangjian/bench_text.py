"""Throughput of the text extractors: ``make bench-text``.

The five seeds, decoded, cleaned and normalised once, are repeated into
documents until the corpus holds about ``--mb`` megabytes of text (UTF-8).
Each extractor then runs over every document, and its rate is reported in
characters per second and as a ratio to plain OpenCC conversion of the same
text, measured in the same run (the cheapest unavoidable pass, so the ratio
is comparable across noisy machines). Results go to a JSON file and a table.
This is a benchmark, not a test: nothing here passes or fails.
"""
from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

from dangjian.document import DocText, read_document, sentence_rows
from dangjian.sources import sha256_hex

ROOT = Path(__file__).resolve().parents[2]


def _seed_docs() -> list[tuple[DocText, str | None]]:
    docs = []
    for path in sorted((ROOT / "raw").glob("0*_*.txt")):
        data = path.read_bytes()
        row = read_document(data, sha256_hex(data), [path.name], None)
        docs.append((DocText.from_row(row), row["published"]))
    return docs


def _rate(fn, docs) -> float:
    start = time.perf_counter()
    for d, published in docs:
        fn(d, published)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, default=5.0, help="corpus size in MB of UTF-8 text (default 5)")
    ap.add_argument("--out", default="build/bench_text.json")
    args = ap.parse_args(argv)

    import opencc

    from dangjian.document import indicator_rows, organization_rows, person_rows, place_rows, term_rows
    from dangjian.text.numbers import find_numbers
    from dangjian.text.organizations import find_organizations
    from dangjian.text.people import find_people
    from dangjian.text.places import analyse_places

    seeds = _seed_docs()
    seed_bytes = sum(len(d.text.encode()) for d, _ in seeds)
    copies = max(1, round(args.mb * 1e6 / seed_bytes))
    docs = seeds * copies
    chars = sum(len(d.text) for d, _ in docs)
    mb = sum(len(d.text.encode()) for d, _ in docs) / 1e6
    print(f"corpus: {len(docs)} documents, {chars:,} characters, {mb:.1f} MB", file=sys.stderr)

    analyse_places(seeds[0][0].text)  # load the gazetteer once, outside the timings
    converter = opencc.OpenCC("tw2s")
    stages = {
        "opencc_tw2s (reference)": lambda d, p: converter.convert(d.clean_text),
        "numbers": lambda d, p: find_numbers(d.text),
        "indicators (numbers + reading)": lambda d, p: indicator_rows(d, sentence_rows(d), p),
        "campaign_terms": lambda d, p: term_rows(d, []),
        "places": lambda d, p: analyse_places(d.text, p),
        "organizations": lambda d, p: find_organizations(d.text),
        "people (with organizations)": lambda d, p: find_people(d.text, find_organizations(d.text)),
    }

    def everything(d, p):
        sents = sentence_rows(d)
        mentions, places, orgs = find_numbers(d.text), d.places(), find_organizations(d.text)
        people = find_people(d.text, orgs)
        indicator_rows(d, sents, p, mentions, places)
        term_rows(d, sents)
        place_rows(d, sents, places, orgs, people)
        organization_rows(d, sents, places, orgs)
        person_rows(d, sents, places, orgs, people)

    stages["all extractors, as the facts asset runs them"] = everything
    results = {}
    for name, fn in stages.items():
        seconds = _rate(fn, docs)
        results[name] = {"seconds": round(seconds, 3), "chars_per_s": round(chars / seconds),
                         "mb_per_s": round(mb / seconds, 3)}
    reference = results["opencc_tw2s (reference)"]["chars_per_s"]
    for r in results.values():
        r["ratio_to_opencc"] = round(r["chars_per_s"] / reference, 4)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    report = {"documents": len(docs), "chars": chars, "mb": round(mb, 2), "peak_rss_mib": round(peak_mib),
              "stages": results}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")

    print(f"\n{'stage':48} {'chars/s':>12} {'MB/s':>8} {'vs OpenCC':>10}")
    for name, r in results.items():
        print(f"{name:48} {r['chars_per_s']:>12,} {r['mb_per_s']:>8.2f} {'1/' + str(round(1 / r['ratio_to_opencc'])) if r['ratio_to_opencc'] < 1 else r['ratio_to_opencc']:>10}")
    print(f"\npeak RSS {peak_mib:.0f} MiB; written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
