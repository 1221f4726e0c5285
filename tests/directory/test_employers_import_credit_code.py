"""The importer's fast credit-code check (:func:`importer.fast_valid`, two ``int()`` calls
instead of a loop) must give the same verdict as :func:`credit_code.is_valid` on a
normalised code: on generated valid codes and on every kind of corruption of them."""
from __future__ import annotations

import random
import string

from inspection.directory import credit_code as cc
from inspection.directory.employers.importer import fast_valid

SEED = 20240611
#: Divisions that pass (province prefixes, the central level) and that fail.
GOOD_DIVISIONS = ("370305", "110101", "820000", "650102", "100000")
BAD_DIVISIONS = ("000000", "101000", "990000", "380305", "37030A", "3703O5")
#: What a corruption may put in a position: the alphabet, the forbidden letters, lower case,
#: punctuation, a space, and a few non-ASCII characters that survive normalisation.
REPLACEMENTS = (cc.ALPHABET + cc.FORBIDDEN_LETTERS + "abxyz" + "-_.,/ *#" + "é中Ⅻ")


def disagreements(candidates):
    out = []
    for code in candidates:
        code = cc.normalise(code)
        if fast_valid(code) != cc.is_valid(code):
            out.append((code, fast_valid(code), cc.is_valid(code)))
    return out


def valid_codes(n: int, rng: random.Random) -> list[str]:
    codes = [cc.random_code(rng, division=rng.choice(GOOD_DIVISIONS)) for _ in range(n)]
    # every authority/type the alphabet allows, and bodies with all-letter characters
    for first in cc.ALPHABET:
        codes.append(cc.make_code(first, rng.choice(cc.ALPHABET), "370305",
                                  "".join(rng.choice(cc.ALPHABET) for _ in range(8))))
    assert all(cc.is_valid(c) for c in codes)
    return codes


def test_agrees_on_valid_codes():
    codes = valid_codes(2000, random.Random(SEED))
    assert disagreements(codes) == []
    assert all(fast_valid(c) for c in codes)


def test_agrees_on_every_single_character_substitution():
    rng = random.Random(SEED + 1)
    candidates = []
    for code in valid_codes(12, rng):
        for i in range(18):
            for ch in REPLACEMENTS:
                if ch != code[i]:
                    candidates.append(code[:i] + ch + code[i + 1:])
    found = disagreements(candidates)
    assert found == [], found[:10]
    # the corruptions really are mostly invalid (the test does not only see valid codes)
    assert sum(not cc.is_valid(c) for c in candidates) > 0.9 * len(candidates)


def test_agrees_on_transpositions_deletions_insertions_and_truncations():
    rng = random.Random(SEED + 2)
    candidates = ["", " ", "0" * 18, "Y" * 18, "1" * 17, "9" * 19]
    for code in valid_codes(200, rng):
        for i in range(17):
            candidates.append(code[:i] + code[i + 1] + code[i] + code[i + 2:])  # swap
        for i in range(18):
            candidates.append(code[:i] + code[i + 1:])                           # 17 chars
            candidates.append(code[:i] + rng.choice(cc.ALPHABET) + code[i:])     # 19 chars
        candidates += [code[:n] for n in range(18)]
        candidates.append(code + code[-1])
    assert disagreements(candidates) == []


def test_agrees_on_every_check_pair_of_random_prefixes():
    """All 31 x 31 endings of random 16-character beginnings: exactly the combinations that
    is_valid accepts, with good and bad divisions and bodies holding any letter."""
    rng = random.Random(SEED + 3)
    body_chars = string.digits + string.ascii_uppercase  # GB 11714 allows all 26 letters
    candidates = []
    accepted = 0
    for k in range(24):
        division = rng.choice(GOOD_DIVISIONS + BAD_DIVISIONS)
        prefix = (rng.choice(cc.ALPHABET) + rng.choice(cc.ALPHABET) + division
                  + "".join(rng.choice(body_chars if k % 2 else cc.ALPHABET) for _ in range(8)))
        for a in cc.ALPHABET:
            for b in cc.ALPHABET:
                candidates.append(prefix + a + b)
                accepted += cc.is_valid(prefix + a + b)
    assert disagreements(candidates) == []
    assert accepted > 0  # some endings were valid, so both verdicts were exercised


def test_agrees_on_random_strings():
    rng = random.Random(SEED + 4)
    pool = cc.ALPHABET + cc.FORBIDDEN_LETTERS + "abc-é中"
    candidates = ["".join(rng.choice(pool) for _ in range(rng.choice((17, 18, 18, 18, 19))))
                  for _ in range(20000)]
    assert disagreements(candidates) == []
