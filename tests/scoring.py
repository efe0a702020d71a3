"""Score the extractors against the hand-annotated sets in ``tests/gold/``.

Used by the accuracy tests and by ``make accuracy``, which prints the
per-document tables. The gold files list spans by their offsets in the
decoded source file; predictions are produced by the pipeline's own chain
(``read_document`` → normalised text → extractors), and their
``source_start``/``source_end`` are compared.

Matching rules (indicators):
- a prediction *matches* a gold item when their source spans overlap;
- a match to a required item is a true positive when the value (or both
  range bounds) and the unit agree; a match to an optional item is ignored;
- a prediction that overlaps no gold item, or a required one with the wrong
  value or unit, is a false positive; a required item with no correct
  prediction is a false negative;
- qualifier accuracy is measured over the true positives.
"""
from __future__ import annotations

import json
import math
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOLD = ROOT / "tests" / "gold"


def load_gold(name: str) -> list[dict]:
    path = GOLD / name
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def read_doc(rel: str):
    """The pipeline's document row and DocText for a file in the repository."""
    from dangjian.document import DocText, read_document
    from dangjian.sources import sha256_hex

    data = (ROOT / rel).read_bytes()
    row = read_document(data, sha256_hex(data), [rel], None)
    return row, DocText.from_row(row)


def predict_indicators(rel: str) -> list[dict]:
    from dangjian.document import indicator_rows, sentence_rows

    row, doc = read_doc(rel)
    return indicator_rows(doc, sentence_rows(doc), row["published"])


def _close(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def _overlap(a: dict, b: dict) -> bool:
    return a["source_start"] < b["source_end"] and b["source_start"] < a["source_end"]


def value_right(pred: dict, gold: dict) -> bool:
    if gold.get("value_min") is not None or gold.get("value_max") is not None:
        return _close(pred["value_min"], gold.get("value_min")) and _close(pred["value_max"], gold.get("value_max"))
    return _close(pred["value"], gold.get("value"))


def subject_close(pred: str, gold: str) -> bool:
    """Contained either way, or at least 60% of the annotated subject's
    characters appear in the predicted one and vice versa at half."""
    if not pred:
        return False
    if gold in pred or pred in gold:
        return True
    p, g = set(pred), set(gold)
    return len(p & g) >= 0.6 * len(g) and len(p & g) >= 0.5 * len(p)


@dataclass
class DocScore:
    doc: str
    required: int = 0
    tp: int = 0
    fp: int = 0
    qualifier_right: int = 0
    kind_right: int = 0
    subject_total: int = 0  # true positives whose gold item names a subject
    subject_right: int = 0  # … and the predicted subject contains it or lies inside it
    subject_close: int = 0  # … or shares most of its characters (annotated subjects are often paraphrased)
    year_right: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def fn(self) -> int:
        return self.required - self.tp

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / self.required if self.required else 1.0

    @property
    def qualifier_accuracy(self) -> float:
        return self.qualifier_right / self.tp if self.tp else 1.0


def score_indicators(gold: list[dict] | None = None) -> dict[str, DocScore]:
    gold = gold if gold is not None else load_gold("indicators.jsonl")
    by_doc: dict[str, list[dict]] = defaultdict(list)
    for g in gold:
        by_doc[g["doc"]].append(g)
    scores = {}
    for rel, items in sorted(by_doc.items()):
        s = DocScore(rel, required=sum(1 for g in items if g["required"]))
        preds = predict_indicators(rel)
        found = set()
        for p in preds:
            hits = [g for g in items if _overlap(p, g)]
            good = [g for g in hits if value_right(p, g) and p["unit"] == g.get("unit")]
            if any(not g["required"] for g in hits) and not any(g["required"] for g in good):
                continue  # an optional item: neither rewarded nor penalised
            required_good = [g for g in good if g["required"] and id(g) not in found]
            if required_good:
                g = required_good[0]
                found.add(id(g))
                s.tp += 1
                s.qualifier_right += p["qualifier"] == g["qualifier"]
                s.kind_right += p["kind"] == g["kind"]
                s.year_right += p["year"] == g.get("year")
                if g.get("subject"):
                    s.subject_total += 1
                    ps = p["subject"] or ""
                    s.subject_right += bool(ps) and (g["subject"] in ps or ps in g["subject"])
                    s.subject_close += subject_close(ps, g["subject"])
                if p["qualifier"] != g["qualifier"]:
                    s.errors.append(f"qualifier {p['text']!r}: {p['qualifier']} ≠ {g['qualifier']}")
                continue
            s.fp += 1
            if hits:
                g = hits[0]
                s.errors.append(f"wrong {p['text']!r}: value {p['value']}/{p['value_min']}–{p['value_max']} "
                                f"unit {p['unit']} ≠ {g['text']!r} {g.get('value')}/{g.get('value_min')}–"
                                f"{g.get('value_max')} {g.get('unit')}")
            else:
                s.errors.append(f"spurious {p['text']!r} ({p['kind']}, {p['value']} {p['unit']})")
        for g in items:
            if g["required"] and id(g) not in found:
                s.errors.append(f"missed {g['text']!r} ({g['kind']}, {g.get('value')} {g.get('unit')})")
        scores[rel] = s
    return scores


def totals(scores: dict[str, DocScore]) -> DocScore:
    t = DocScore("all")
    for s in scores.values():
        t.required += s.required
        t.tp += s.tp
        t.fp += s.fp
        t.qualifier_right += s.qualifier_right
        t.kind_right += s.kind_right
        t.subject_total += s.subject_total
        t.subject_right += s.subject_right
        t.year_right += s.year_right
        t.subject_close += s.subject_close
    return t


def indicator_report(scores: dict[str, DocScore]) -> str:
    lines = ["| document | required | found | false + | precision | recall | qualifier acc. |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for s in [*scores.values(), totals(scores)]:
        lines.append(f"| {s.doc} | {s.required} | {s.tp} | {s.fp} | {s.precision:.3f} | {s.recall:.3f} | "
                     f"{s.qualifier_accuracy:.3f} |")
    return "\n".join(lines)


# Recognizers-Text currency units → the unit our indicators use.
_CURRENCY_UNITS = {"CNY": {"元", "块", "块钱", "人民币"}, "USD": {"美元", "美圆"}, "EUR": {"欧元"}, "HKD": {"港元"},
                   "JPY": {"日元"}, "GBP": {"英镑"}, "TWD": {"台币", "新台币"}, "CHF": {"瑞士法郎"}, "NGN": {"奈拉"},
                   "KRW": {"韩元"}}


def score_peer_currency(cases: list[dict]) -> tuple[int, int, list[str]]:
    """Recognizers-Text CurrencyModel: an expected amount counts as found when
    a money indicator overlaps its span with the same value and currency."""
    from dangjian.text.indicators import find_indicators
    from dangjian.text.script import normalize

    found = total = 0
    misses = []
    for case in cases:
        text = normalize(case["input"])
        inds = [i for i in find_indicators(text) if i.kind == "money"]
        for e in case["expected"]:
            total += 1
            units = _CURRENCY_UNITS.get(e.get("iso_currency"), set())
            ok = any(i.start < e["end"] and e["start"] < i.end and i.value is not None
                     and math.isclose(i.value, float(e["value"]), rel_tol=1e-9) and i.unit in units for i in inds)
            found += ok
            if not ok:
                misses.append(f"{case['input']!r}: {e['text']} = {e['value']} {e.get('iso_currency') or e['unit']}")
    return found, total, misses


# --- entities ------------------------------------------------------------------------

COUNTY_AND_ABOVE = ("province", "prefecture", "county")


@dataclass
class SpanScore:
    """Precision/recall of span predictions against one gold file, per document."""

    doc: str
    required: int = 0
    found: int = 0  # required gold items overlapped by a prediction
    predicted: int = 0  # predictions that count (not only overlapping optional items)
    correct: int = 0  # counted predictions that overlap some gold item
    attr_total: int = 0  # matched items whose attribute (adcode, role) is checked
    attr_right: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.correct / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        return self.found / self.required if self.required else 1.0

    @property
    def attr_accuracy(self) -> float:
        return self.attr_right / self.attr_total if self.attr_total else 1.0


def score_spans(gold: list[dict], predict, attr=None, label=lambda g: g.get("text") or g.get("name")) -> dict[str, SpanScore]:
    """``predict(rel)`` gives rows with source_start/source_end; ``attr(pred,
    gold)`` is None when the attribute is not checked for that gold item, else
    whether the prediction gets it right."""
    by_doc: dict[str, list[dict]] = defaultdict(list)
    for g in gold:
        by_doc[g["doc"]].append(g)
    scores = {}
    for rel, items in sorted(by_doc.items()):
        s = SpanScore(rel, required=sum(1 for g in items if g["required"]))
        preds = predict(rel)
        for p in preds:
            hits = [g for g in items if _overlap(p, g)]
            if hits and not any(g["required"] for g in hits):
                continue
            s.predicted += 1
            if hits:
                s.correct += 1
            else:
                s.errors.append(f"spurious {p.get('text') or p.get('name')!r}")
        for g in items:
            if not g["required"]:
                continue
            matched = [p for p in preds if _overlap(p, g)]
            if not matched:
                s.errors.append(f"missed {label(g)!r}")
                continue
            s.found += 1
            if attr is not None:
                verdict = attr(matched[0], g)
                if verdict is not None:
                    s.attr_total += 1
                    s.attr_right += verdict
                    if not verdict:
                        s.errors.append(f"attribute wrong on {label(g)!r}: {matched[0]} vs {g}")
        scores[rel] = s
    return scores


def span_totals(scores: dict[str, SpanScore]) -> SpanScore:
    t = SpanScore("all")
    for s in scores.values():
        for f in ("required", "found", "predicted", "correct", "attr_total", "attr_right"):
            setattr(t, f, getattr(t, f) + getattr(s, f))
    return t


def span_report(scores: dict[str, SpanScore], attr_name: str | None = None) -> str:
    head = "| document | required | found | predicted | precision | recall |" + (f" {attr_name} |" if attr_name else "")
    lines = [head, "|---|---:|---:|---:|---:|---:|" + ("---:|" if attr_name else "")]
    for s in [*scores.values(), span_totals(scores)]:
        line = f"| {s.doc} | {s.required} | {s.found} | {s.predicted} | {s.precision:.3f} | {s.recall:.3f} |"
        if attr_name:
            line += f" {s.attr_right}/{s.attr_total} |"
        lines.append(line)
    return "\n".join(lines)


def place_adcode_right(pred: dict, gold: dict) -> bool | None:
    if gold.get("level") not in COUNTY_AND_ABOVE or not gold.get("adcode"):
        return None
    return pred.get("adcode") == gold["adcode"]


def person_role_right(pred: dict, gold: dict) -> bool | None:
    if not gold.get("role"):
        return None
    roles = [gold["role"], *(gold.get("additional_roles") or [])]
    got = pred.get("role") or ""
    return bool(got) and any(r in got or got in r for r in roles)


def entity_rows(rels) -> dict[str, dict[str, list[dict]]]:
    """Each document's places, organizations and people rows, made by the
    facts stage's own batch function, so what is scored is what the tables hold."""
    import pyarrow as pa

    from dangjian.document import FACT_TABLE_NAMES, fact_rows, sentence_rows

    out = {}
    for rel in sorted(rels):
        _, doc = read_doc(rel)
        found = dict(zip(FACT_TABLE_NAMES, fact_rows([doc], {"sentences": pa.Table.from_pylist(sentence_rows(doc))})))
        out[rel] = {name: found[name] for name in ("places", "organizations", "people")}
    return out


def with_all_roles(person: dict) -> dict:
    """A people row with its role titles joined by ';', as the gold file has one role per person."""
    return {**person, "role": ";".join(r["title"] for r in person["roles"]) or None}


def person_any_role_right(pred: dict, gold: dict) -> bool | None:
    if not pred["role"]:
        return person_role_right({"role": None}, gold)
    return any(person_role_right({"role": r}, gold) for r in pred["role"].split(";"))


def score_entities(rows: dict[str, dict[str, list[dict]]] | None = None) -> dict[str, dict[str, SpanScore]]:
    """Places (adcode), people (role) and organizations (kind), per document;
    ``rows`` as :func:`entity_rows` gives them (made here when not given)."""
    gold = {name: load_gold(f"{name}.jsonl") for name in ("places", "organizations", "people")}
    if rows is None:
        rows = entity_rows({g["doc"] for items in gold.values() for g in items})
    return {
        "places": score_spans(gold["places"], lambda rel: rows[rel]["places"], place_adcode_right),
        "people": score_spans(gold["people"], lambda rel: [with_all_roles(p) for p in rows[rel]["people"]],
                              person_any_role_right),
        "organizations": score_spans(gold["organizations"], lambda rel: rows[rel]["organizations"],
                                     lambda p, g: p["kind"] == g["kind"] if g.get("kind") else None),
    }


ENTITY_ATTRIBUTE = {"places": "adcode right", "people": "role right", "organizations": "kind right"}


def _print_indicators(title: str, scores: dict[str, DocScore]) -> None:
    print(f"{title}\n")
    print(indicator_report(scores))
    t = totals(scores)
    print(f"\nkind right on {t.kind_right}/{t.tp} matches; year right on {t.year_right}/{t.tp}; "
          f"subject containing or inside the annotated one on {t.subject_right}/{t.subject_total}, "
          f"close to it on {t.subject_close}/{t.subject_total}")
    _print_errors(scores)


def _print_errors(scores: dict) -> None:
    for s in scores.values():
        if s.errors:
            print(f"\n{s.doc}")
            for e in s.errors:
                print(f"  - {e}")


def main() -> int:
    _print_indicators("Indicators against tests/gold/indicators.jsonl (development set)", score_indicators())
    print()
    _print_indicators("Indicators against tests/gold/holdout/indicators.jsonl (held out from tuning)",
                      score_indicators(load_gold("holdout/indicators.jsonl")))
    for name, scores in score_entities().items():
        print(f"\n{name.capitalize()} against tests/gold/{name}.jsonl\n")
        print(span_report(scores, ENTITY_ATTRIBUTE[name]))
        _print_errors(scores)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "pipelines"))
    sys.exit(main())
