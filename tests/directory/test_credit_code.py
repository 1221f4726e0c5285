"""Tests for inspection.directory.credit_code (no app needed)."""

import random

import pytest

from inspection.directory import credit_code as cc
from inspection.directory.credit_code import (
    Problem,
    check,
    compute_check_char,
    compute_org_check_char,
    is_valid,
    make_code,
    normalise,
    random_code,
)

# Codes as published on real business licences / registries.  Each was checked
# by hand-independent computation (see _ref_* below) before being put here.
REAL_CODES = [
    "91350100M000100Y43",  # the worked example used with GB 32100
    "91110000802100433B",
    "914403001922038216",
    "9144030071526726XG",  # organisation-code check digit is X
    "91100000100003962T",  # central-level division 100000
    "91110000710925462X",
    "91110108551385082Q",
    "12100000400000624D",  # 12 = public institution
]


# --- independent reference implementation ---------------------------------
# Written differently on purpose: weights derived from their closed forms
# (3**i mod 31 and 2**(8-i) mod 11) and values from str.index / int(…, 36).

def _ref_check_char(first17):
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    total = sum(alphabet.index(ch) * pow(3, i, 31) for i, ch in enumerate(first17))
    return alphabet[-total % 31]


def _ref_org_check(body):
    total = sum(int(ch, 36) * pow(2, 8 - i, 11) for i, ch in enumerate(body))
    return "0123456789X0"[-total % 11] if total % 11 else "0"


def test_weights_have_their_closed_forms():
    assert cc.WEIGHTS == tuple(pow(3, i, 31) for i in range(17))
    assert cc.ORG_WEIGHTS == tuple(pow(2, 8 - i, 11) for i in range(8))
    assert len(cc.ALPHABET) == 31 and not set(cc.ALPHABET) & set("IOSVZ")


# --- check-character computation ------------------------------------------

def test_org_check_hand_computed():
    # M000100Y: M=22*3 + 1*5 + Y=34*2 = 139; 139 % 11 = 7; 11 - 7 = 4
    assert compute_org_check_char("M000100Y") == "4"
    # 00000006: 6*2 = 12; 12 % 11 = 1; 11 - 1 = 10 -> X
    assert compute_org_check_char("00000006") == "X"
    # 00000000: 0; 11 - 0 = 11 -> 0
    assert compute_org_check_char("00000000") == "0"
    # GB 11714 bodies may use letters the credit code forbids (Z = 35)
    assert compute_org_check_char("Z0000000") == _ref_org_check("Z0000000")


def test_check_char_hand_computed():
    assert compute_check_char("0" * 17) == "0"  # sum 0 -> (31 - 0) % 31 = 0
    assert compute_check_char("1" + "0" * 16) == "Y"  # 31 - 1 = 30 -> Y
    assert compute_check_char("0" * 16 + "1") == "3"  # weight 28 -> 31 - 28 = 3


@pytest.mark.parametrize("seed", range(200))
def test_check_chars_match_reference(seed):
    rng = random.Random(seed)
    body = "".join(rng.choice(cc.ALPHABET) for _ in range(8))
    assert compute_org_check_char(body) == _ref_org_check(body)
    first17 = "".join(rng.choice(cc.ALPHABET) for _ in range(17))
    assert compute_check_char(first17) == _ref_check_char(first17)


@pytest.mark.parametrize("bad", ["", "1234567", "123456789", "M000100y", "M000-100"])
def test_org_check_rejects_bad_body(bad):
    with pytest.raises(ValueError):
        compute_org_check_char(bad)


@pytest.mark.parametrize("bad", ["0" * 16, "0" * 18, "O" * 17, "9135010OM000100Y4"])
def test_check_char_rejects_bad_input(bad):
    with pytest.raises(ValueError):
        compute_check_char(bad)


# --- real codes -------------------------------------------------------------

@pytest.mark.parametrize("code", REAL_CODES)
def test_real_codes_are_valid(code):
    assert _ref_org_check(code[8:16]) == code[16]
    assert _ref_check_char(code[:17]) == code[17]
    assert check(code) == []
    assert is_valid(code)


@pytest.mark.parametrize("code", REAL_CODES)
def test_every_single_substitution_is_caught(code):
    # The mod-31 check catches any one wrong character.
    for pos in range(18):
        for ch in cc.ALPHABET:
            if ch != code[pos]:
                assert not is_valid(code[:pos] + ch + code[pos + 1:]), (pos, ch)


# --- normalisation ----------------------------------------------------------

def test_normalise():
    assert normalise(" 9135 0100m000100y43\n") == "91350100M000100Y43"
    assert normalise("９１３５０１００Ｍ０００１００Ｙ４３") == "91350100M000100Y43"
    assert normalise("91350100M000100Y43\u3000") == "91350100M000100Y43"
    assert normalise(None) == ""


def test_is_valid_normalises_first():
    assert is_valid("91350100m000100y43")
    assert is_valid("  9144 0300 7152 6726 xg ")
    assert is_valid("９１３５０１００Ｍ０００１００Ｙ４３")


# --- each Problem code ------------------------------------------------------

def codes(code):
    return [p.code for p in check(code)]


def test_problem_is_frozen():
    p = check("123")[0]
    assert isinstance(p, Problem)
    with pytest.raises(AttributeError):
        p.code = "x"


@pytest.mark.parametrize("value", ["", "   ", None])
def test_empty(value):
    assert codes(value) == ["empty"]
    assert not is_valid(value)


@pytest.mark.parametrize("code", ["91350100M000100Y4", "91350100M000100Y433", "913501"])
def test_length(code):
    problems = check(code)
    assert [p.code for p in problems] == ["length"]
    assert str(len(code)) in problems[0].message
    assert f"实际为{len(code)}位" in problems[0].message_zh


def test_length_also_reports_charset_but_nothing_positional():
    assert codes("9135O100") == ["length", "charset"]


def test_wrong_check_char():
    problems = check("91350100M000100Y44")
    assert [p.code for p in problems] == ["check_char"]
    p = problems[0]
    assert p.position == 18
    assert "'3'" in p.message and "'4'" in p.message
    assert p.message_zh == "第18位校验码应为“3”，实际为“4”。"


def test_forbidden_letter():
    # the digit 0 at position 5 typed as the letter O
    problems = check("9135O100M000100Y43")
    assert [p.code for p in problems] == ["charset"]  # no duplicate 'division'
    p = problems[0]
    assert p.position == 5
    assert "Position 5" in p.message and "digit 0" in p.message
    assert "第5位是字母“O”" in p.message_zh and "数字“0”" in p.message_zh


@pytest.mark.parametrize("letter", list("IOSVZ"))
def test_each_forbidden_letter(letter):
    code = "91350100M" + letter + "00100Y43"
    problems = check(code)
    assert [p.code for p in problems] == ["charset"]
    assert problems[0].position == 10
    assert f"第10位是字母“{letter}”" in problems[0].message_zh


def test_other_bad_character():
    problems = check("91350100M000-00Y43")
    assert [p.code for p in problems] == ["charset"]
    assert problems[0].position == 13
    assert "“-”" in problems[0].message_zh


def test_bad_org_code_check_digit():
    # position 17 changed 4 -> 5 and position 18 recomputed, so only 17 is wrong
    first17 = "91350100M000100Y5"
    code = first17 + _ref_check_char(first17)
    problems = check(code)
    assert [p.code for p in problems] == ["org_code_check"]
    p = problems[0]
    assert p.position == 17
    assert "M000100Y-5" in p.message and "'4'" in p.message
    assert p.message_zh == "第17位（组织机构代码M000100Y-5的校验码）应为“4”，实际为“5”。"


def test_division_letter():
    first17 = "913501A0M000100Y4"
    code = first17 + _ref_check_char(first17)
    problems = check(code)
    assert [p.code for p in problems] == ["division"]
    assert problems[0].position == 7
    assert "第7位不是数字" in problems[0].message_zh


def test_division_unknown_province():
    first17 = "91990100M000100Y4"
    code = first17 + _ref_check_char(first17)
    problems = check(code)
    assert [p.code for p in problems] == ["division"]
    assert "“99”" in problems[0].message_zh


def test_division_central_only_as_100000():
    first17 = "91100100M000100Y4"
    code = first17 + _ref_check_char(first17)
    assert codes(code) == ["division"]


def test_several_problems_at_once():
    # forbidden letter in the body and a wrong position 17: the org check and the
    # final check cannot be computed, the charset problem is reported.
    assert codes("91350100M00O100Y53") == ["charset"]
    # valid charset, bad division and bad position 18
    assert codes("91990100M000100Y40") == ["division", "check_char"]


def test_problem_text_by_language():
    p = check("91350100M000100Y44")[0]
    assert p.text("zh_CN") == p.message_zh
    assert p.text("en") == p.message


# --- make_code / random_code ------------------------------------------------

@pytest.mark.parametrize("code", REAL_CODES)
def test_make_code_round_trip(code):
    assert make_code(code[0], code[1], code[2:8], code[8:16]) == code


def test_make_code_normalises_and_validates():
    assert make_code("9", "1", "350100", "m000100y") == "91350100M000100Y43"
    with pytest.raises(ValueError):
        make_code("9", "1", "350100", "M000100")  # body too short
    with pytest.raises(ValueError):
        make_code("9", "1", "350100", "M00O100Y")  # forbidden letter
    with pytest.raises(ValueError):
        make_code("9", "1", "990100", "M000100Y")  # no province 99
    with pytest.raises(ValueError):
        make_code("91", "1", "350100", "M000100Y")
    with pytest.raises(ValueError):
        make_code("I", "1", "350100", "M000100Y")


def test_random_code_valid_for_1000_seeds():
    seen = set()
    for seed in range(1000):
        code = random_code(random.Random(seed))
        assert len(code) == 18 and code[2:8] == "370305"
        assert check(code) == [], (seed, code)
        assert _ref_org_check(code[8:16]) == code[16]
        assert _ref_check_char(code[:17]) == code[17]
        seen.add(code)
    assert len(seen) == 1000


def test_random_code_deterministic_and_division():
    assert random_code(random.Random(42)) == random_code(random.Random(42))
    assert random_code(random.Random(1), "110108")[2:8] == "110108"
    with pytest.raises(ValueError):
        random_code(random.Random(1), "37030")


def test_org_type_name():
    assert cc.org_type_name("91350100M000100Y43") == "企业"
    assert cc.org_type_name("12100000400000624D", "en") == "Public institution"
    assert cc.org_type_name("Y1") is None
