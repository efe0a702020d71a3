"""Traditional → Simplified and width folding: conformance and offset safety."""
from __future__ import annotations

import pytest
from conftest import load_peer
from hypothesis import given
from hypothesis import strategies as st

from dangjian.text.script import detect_script, fold_width, normalize, to_simplified

TRADITIONAL_SEEDS = ("002_ad230b4f88e2bb90.txt", "004_2cf8f4e56bd97bdb.txt")


@pytest.mark.parametrize("config", ["t2s", "tw2s", "hk2s"])
def test_opencc_peer_cases_all_pass(config):
    cases = [c for c in load_peer("opencc_cases.jsonl") if c["config"] == config]
    assert cases, f"no {config} cases in the peer suite"
    failures = [(c["id"], c["input"], to_simplified(c["input"], config), c["expected"])
                for c in cases if to_simplified(c["input"], config) != c["expected"]]
    print(f"PEER opencc {config}: {len(cases) - len(failures)}/{len(cases)}")
    assert failures == []


def test_conversion_preserves_length_on_every_seed(seed_texts):
    for name, text in seed_texts.items():
        out = normalize(text)
        assert len(out) == len(text), name
        # Every character either stays or becomes exactly one other character,
        # so a span of the output is the same span of the input.
        for i in range(0, len(text), 97):
            assert len(normalize(text[i:i + 40])) == len(text[i:i + 40])


def test_traditional_seeds_are_fully_converted(seed_texts):
    for name in TRADITIONAL_SEEDS:
        out = to_simplified(seed_texts[name])
        # 著 remains only where it means zhù (著名, 著作), never as the particle.
        for i, ch in enumerate(out):
            if ch == "著":
                assert out[i + 1] in "名作称述", (name, out[i - 5:i + 5])
        for traditional in "黨們國會與這時經濟實現體於發長區縣鄉鎮":
            assert traditional not in out, (name, traditional)
    # 倣 is a variant OpenCC leaves alone; our table fixes it.
    assert "仿真花" in to_simplified(seed_texts["002_ad230b4f88e2bb90.txt"])


def test_known_phrases():
    assert to_simplified("隨著城鄉一體化") == "随着城乡一体化"
    assert to_simplified("著力推進") == "着力推进"
    assert to_simplified("迴圈經濟") == "循环经济"
    assert to_simplified("黨建引領高品質發展") == "党建引领高品质发展"
    # Simplified text and non-Chinese characters pass through.
    simplified = "党建引领高质量发展,2021年…“五双”"
    assert to_simplified(simplified) == simplified


def test_width_folding_is_one_to_one_and_not_nfkc():
    assert fold_width("１２３４５户，ＧＤＰ达９０％") == "12345户，GDP达90%"
    assert fold_width("１．５万") == "1.5万"
    assert fold_width("……") == "……"  # NFKC would make this "......"
    assert fold_width("（一）") == "（一）"  # CJK punctuation stays full-width
    assert fold_width("１５－２０家") == "15-20家"


def test_detect_script(seed_texts):
    scripts = {name: detect_script(text) for name, text in seed_texts.items()}
    assert scripts == {
        "000_b3828745d2df20b3.txt": "Hans",
        "001_fb00645a8e6ebd2d.txt": "Hans",
        "002_ad230b4f88e2bb90.txt": "Hant",
        "003_6fc1dc587f997423.txt": "Hans",
        "004_2cf8f4e56bd97bdb.txt": "Hant",
    }
    assert detect_script("2021 ABC") == "Zyyy"


# Characters at and around the edges of the Han blocks detect_script counts,
# Traditional characters and their Simplified forms, full-width forms, ASCII.
_EDGES = [0x33FF, 0x3400, 0x4DBF, 0x4DC0, 0x4DFF, 0x4E00, 0x9FFF, 0xA000, 0x1FFFF, 0x20000, 0x3134F, 0x31350]
_SCRIPT_CHARS = st.sampled_from([chr(c) for c in _EDGES] + list("黨建引領高質量發展党建引领高质量发展著着") +
                                [chr(c) for c in range(0xFF01, 0xFF5F)] + list("a1%. ，\n\ud800"))


def _detect_script_by_character(text: str, simplified: str) -> str:
    """detect_script's definition, one character at a time."""
    def han(c: str) -> bool:
        return 0x3400 <= ord(c) <= 0x4DBF or 0x4E00 <= ord(c) <= 0x9FFF or 0x20000 <= ord(c) <= 0x3134F

    count = sum(map(han, text))
    changed = sum(1 for a, b in zip(text, simplified) if a != b and han(a))
    return "Zyyy" if count == 0 else "Hant" if changed / count >= 0.02 else "Hans"


@given(st.lists(st.tuples(_SCRIPT_CHARS, _SCRIPT_CHARS, st.booleans()), max_size=120))
def test_detect_script_counts_what_its_definition_counts(pairs):
    """The counts run over arrays of code points; they must be those of the
    definition, character by character, at the blocks' edges, with lone
    surrogates, and whether or not a character changed."""
    text = "".join(a for a, _, _ in pairs)
    simplified = "".join(b if changed else a for a, b, changed in pairs)
    assert detect_script(text, simplified) == _detect_script_by_character(text, simplified)


@given(st.text(_SCRIPT_CHARS, max_size=120))
def test_width_folding_folds_what_the_table_says(text):
    from dangjian.text.script import _WIDTH_TABLE

    assert fold_width(text) == text.translate(_WIDTH_TABLE)


@given(st.text(max_size=200))
def test_normalize_never_changes_length(text):
    assert len(normalize(text)) == len(text)
