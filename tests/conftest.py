"""Shared fixtures: the seed articles and the peer conformance suites.

The peer suites live outside the repository, in ``../shared/peer`` beside the
clone (that is where CI puts them). ``DANGJIAN_PEER_DIR`` overrides the place.
A missing suite is an error, not a skip: a conformance test that silently
does not run cannot fail.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# Property tests: a bounded run in `make test` and CI, a long one with `make fuzz`.
settings.register_profile("ci", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("fuzz", max_examples=20_000, deadline=None, suppress_health_check=list(HealthCheck))
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

REPO = Path(__file__).resolve().parents[1]
RAW = REPO / "raw"


def peer_dir() -> Path:
    return Path(os.environ.get("DANGJIAN_PEER_DIR", REPO.parent / "shared" / "peer"))


def load_peer(name: str) -> list[dict]:
    path = peer_dir() / name
    if not path.exists():
        raise FileNotFoundError(
            f"peer suite {path} is missing: clone next to ../shared or set DANGJIAN_PEER_DIR"
        )
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


@pytest.fixture(scope="session")
def seed_paths() -> list[Path]:
    paths = sorted(RAW.glob("0*_*.txt"))
    assert len(paths) == 5, f"expected the five seed articles in {RAW}, found {len(paths)}"
    return paths


@pytest.fixture(scope="session")
def seed_texts(seed_paths) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in seed_paths}


def pytest_collection_modifyitems(items):
    """Mark every hypothesis test `fuzz`, so `make fuzz` can select exactly them."""
    for item in items:
        if getattr(getattr(item, "obj", None), "is_hypothesis_test", False):
            item.add_marker(pytest.mark.fuzz)


def fingerprint_map(fps) -> dict:
    """``warehouse.row_fingerprints`` as ``{doc_id: "rows:hash"}``: the form
    the tests state their expectations in (the pipeline keeps them as arrays)."""
    return {d: f"{n}:{h}" for d, n, h in zip(*(fps[c].to_pylist() for c in ("doc_id", "n", "h")))}
