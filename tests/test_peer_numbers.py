"""Conformance of ``dangjian.text.numbers`` with the peer suites (../shared/peer).

* Recognizers-Text NumberModel and PercentModel, whole-input cases: the input
  is one numeral, fed to ``parse_numeral`` / ``parse_percent``; values must
  match (relative 1e-9; 1e-12 where upstream printed a rounded double, the
  ``approx`` flag). Pass rate ≥ 97 % each, and no failure outside the
  accepted list below.
* cn2an ``smart`` mode, the package's most permissive mode and the one our
  parser claims: same threshold. The ``raises`` cases are strict-mode errors
  upstream (see the suite README): those that cn2an's own tests also list as
  errors for normal or smart mode must raise ``ValueError`` here; the others
  (``一一``, ``100万``) are valid in smart mode and must parse.
* Recognizers-Text cases from running text (``whole_input: false``) go through
  ``find_numbers`` and are only reported, with a floor a little under the
  measured rate: this project deliberately skips bare Chinese numerals without
  a counter (``二百五, 二百五``), reads ``1991年`` as a date and includes the
  counter in the span (``199个``), so most upstream spans cannot match.

Run with ``pytest -s`` to see the ``PEER ...`` summary lines.
"""
from __future__ import annotations

import math
from decimal import Decimal

import pytest
from conftest import load_peer

from dangjian.text.numbers import find_numbers, fold_numerals, parse_numeral, parse_percent

REQUIRED_RATE = 0.97

# case_index → why the case is allowed to fail. Empty: every whole-input case
# passes today; a failure that appears later must be explained here.
ACCEPTED_NUMBER_FAILURES: dict[int, str] = {}
ACCEPTED_PERCENT_FAILURES: dict[int, str] = {}
ACCEPTED_CN2AN_FAILURES: dict[str, str] = {}


def report(label: str, passed: int, total: int) -> float:
    """Print the one-line summary quoted in reports, and return the rate."""
    rate = passed / total if total else 0.0
    print(f"PEER {label}: {passed}/{total} = {100 * rate:.1f}%")
    return rate


def matches(got: float, expected: str, approx: bool) -> bool:
    want = float(Decimal(expected))
    if approx:
        return math.isclose(got, want, rel_tol=1e-12, abs_tol=1e-15)
    return math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-15)


def whole_input_failures(suite: str, parse) -> tuple[dict[int, str], int]:
    cases = [c for c in load_peer(suite) if c["whole_input"]]
    assert cases, f"{suite} has no whole-input cases"
    failures = {}
    for case in cases:
        (expected,) = case["expected"]
        try:
            got = parse(case["input"])
        except ValueError as e:
            failures[case["case_index"]] = f"{case['input']!r}: raised {e}"
            continue
        if not matches(got, expected["value"], expected.get("approx", False)):
            failures[case["case_index"]] = f"{case['input']!r}: got {got}, want {expected['value']}"
    return failures, len(cases)


def check_suite(label: str, failures: dict, total: int, accepted: dict) -> None:
    rate = report(label, total - len(failures), total)
    new = {k: v for k, v in failures.items() if k not in accepted}
    assert not new, f"new failures outside the accepted list: {new}"
    assert rate >= REQUIRED_RATE


def test_recognizers_number_whole_input():
    failures, total = whole_input_failures("recognizers_zh_number_model.jsonl", parse_numeral)
    check_suite("recognizers_number whole-input", failures, total, ACCEPTED_NUMBER_FAILURES)


def test_recognizers_percent_whole_input():
    failures, total = whole_input_failures("recognizers_zh_percent_model.jsonl", parse_percent)
    check_suite("recognizers_percent whole-input", failures, total, ACCEPTED_PERCENT_FAILURES)


def cn2an_cases() -> list[dict]:
    return [c for c in load_peer("cn2an_cases.jsonl") if c["function"] == "cn2an"]


def test_cn2an_smart_mode():
    cases = [c for c in cn2an_cases() if c["mode"] == "smart" and "raises" not in c]
    assert len(cases) == 132
    failures = {}
    for case in cases:
        try:
            got = parse_numeral(case["input"])
        except ValueError as e:
            failures[case["input"]] = f"raised {e}"
            continue
        if not math.isclose(got, case["expected"], rel_tol=1e-9, abs_tol=1e-15):
            failures[case["input"]] = f"got {got}, want {case['expected']}"
    check_suite("cn2an smart", failures, len(cases), ACCEPTED_CN2AN_FAILURES)


def test_cn2an_error_cases():
    """Inputs cn2an rejects beyond strict mode must raise; strict-only errors parse."""
    cases = cn2an_cases()
    smart_ok = {c["input"] for c in cases if c["mode"] == "smart" and "raises" not in c}
    errors = [c for c in cases if c.get("raises")]
    assert errors
    must_raise = [
        c["input"] for c in errors
        if {"error_normal_datas", "error_smart_datas"} & set(c["origin"]) and c["input"] not in smart_ok
    ]
    assert len(must_raise) >= 8
    raised = 0
    for s in must_raise:
        with pytest.raises(ValueError):
            parse_numeral(s)
        raised += 1
    report("cn2an errors (normal/smart) raise", raised, len(must_raise))
    strict_only = [c["input"] for c in errors if c["input"] in smart_ok]
    for s in strict_only:
        parse_numeral(s)
    report("cn2an strict-only errors accepted as smart", len(strict_only), len(strict_only))


QUANTITY_KINDS = {"number", "percent", "fraction"}


def running_text_rates(suite: str) -> tuple[int, int, int, int, int]:
    """(expected entities, found with identical span, found overlapping with
    the same value, negative cases with no quantity, negative cases)."""
    total = exact = found = neg_ok = neg = 0
    for case in load_peer(suite):
        if case["whole_input"]:
            continue
        text = fold_numerals(case["input"])  # same length, so offsets hold
        mentions = [m for m in find_numbers(text) if m.kind in QUANTITY_KINDS and m.value is not None]
        if not case["expected"]:
            neg += 1
            neg_ok += not mentions
            continue
        for e in case["expected"]:
            total += 1
            same = [m for m in mentions if matches(m.value, e["value"], e.get("approx", False))]
            exact += any((m.start, m.end) == (e["start"], e["end"]) for m in same)
            found += any(m.start < e["end"] and e["start"] < m.end for m in same)
    return total, exact, found, neg_ok, neg


@pytest.mark.parametrize(
    ("suite", "label", "floor_found", "floor_negative"),
    [
        # Measured 36/124 found, 30/32 negatives; 29/31 found, 7/9 negatives.
        ("recognizers_zh_number_model.jsonl", "recognizers_number running-text", 0.25, 0.85),
        ("recognizers_zh_percent_model.jsonl", "recognizers_percent running-text", 0.85, 0.5),
    ],
)
def test_recognizers_running_text_report(suite, label, floor_found, floor_negative):
    total, exact, found, neg_ok, neg = running_text_rates(suite)
    report(f"{label} same span+value", exact, total)
    found_rate = report(f"{label} overlapping span+value", found, total)
    neg_rate = report(f"{label} negatives with no quantity", neg_ok, neg)
    assert found_rate >= floor_found
    assert neg_rate >= floor_negative
