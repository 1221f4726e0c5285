"""Unified Social Credit Code (统一社会信用代码), GB 32100-2015.

Pure standard library; no Flask import, so forms, importers, the API and demo
data can all share it.

Layout of the 18 characters (positions are 1-based, as on a business licence)::

    9 1 350100 M000100Y 4 3
    | | |      |        | `-- 18     check character, mod 31 over positions 1-17
    | | |      |        `---- 17     check digit of the organisation code (GB 11714)
    | | |      `------------- 9-16   organisation code body (主体标识码)
    | | `-------------------- 3-8    administrative division of the registering
    | |                              authority (GB/T 2260; "100000" = central level)
    | `---------------------- 2      organisation type (机构类别), e.g. 91 企业
    `------------------------ 1      registering authority (登记管理部门), e.g. 9 工商

Only ``0-9`` and the 21 capital letters of :data:`ALPHABET` are allowed; the
letters I, O, S, V and Z never occur.

Normalisation policy (a deliberate choice): :func:`is_valid` and :func:`check`
both run :func:`normalise` first, so ``" 91350100m000100y43 "`` and a code typed
with full-width characters (``９１３５…``, common with a Chinese IME) are
accepted.  Callers that store the code should store ``normalise(code)``.
Nothing else is "repaired": the letter O is *not* silently turned into 0.

Stable :attr:`Problem.code` values returned by :func:`check`:

``empty``
    nothing entered.
``length``
    not exactly 18 characters (after normalisation).
``charset``
    one problem per position holding a character outside :data:`ALPHABET`.
``division``
    positions 3-8 are not six digits, or the first two digits are not a
    province-level code of GB/T 2260 (``10`` is accepted only as ``100000``).
``org_code_check``
    position 17 does not match the GB 11714 check over positions 9-16.
``check_char``
    position 18 does not match the GB 32100 mod-31 check over positions 1-17.

Positions 1 and 2 are only checked against the alphabet: the table of
authority and type codes has been extended since 2015 (e.g. ``N`` for rural
collective economic organisations), so rejecting unknown pairs would reject real
codes.  :data:`AUTHORITIES` and :data:`ORG_TYPES` are for display only.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass

__all__ = [
    "ALPHABET",
    "AUTHORITIES",
    "FORBIDDEN_LETTERS",
    "ORG_TYPES",
    "Problem",
    "check",
    "compute_check_char",
    "compute_org_check_char",
    "is_valid",
    "make_code",
    "normalise",
    "org_type_name",
    "random_code",
]

#: The 31 characters of GB 32100; the index of a character is its value.
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
#: Capital letters that GB 32100 never uses (I/O look like 1/0).
FORBIDDEN_LETTERS = "IOSVZ"
_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}

#: Weights for positions 1-17 (3**i mod 31).
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
#: GB 11714 weights for the 8 body characters of the organisation code.
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_DIGITS = "0123456789"
_ORG_BODY_CHARS = _DIGITS + "ABCDEFGHIJKLMNOPQRSTUVWXYZ"  # GB 11714 allows all 26

#: First two digits of GB/T 2260 province-level divisions.
PROVINCE_PREFIXES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 "
    "50 51 52 53 54 61 62 63 64 65 71 81 82".split()
)
#: Division used by authorities at central (national) level, e.g. 91100000….
CENTRAL_DIVISION = "100000"

#: Registering authority (position 1) -> (zh, en).  Display only.
AUTHORITIES: dict[str, tuple[str, str]] = {
    "1": ("机构编制", "Institutional establishment office"),
    "2": ("外交", "Foreign affairs"),
    "3": ("司法行政", "Judicial administration"),
    "4": ("文化", "Culture"),
    "5": ("民政", "Civil affairs"),
    "6": ("旅游", "Tourism"),
    "7": ("宗教", "Religious affairs"),
    "8": ("工会", "Trade unions"),
    "9": ("工商", "Market regulation (industry and commerce)"),
    "N": ("农业", "Agriculture"),
    "Y": ("其他", "Other"),
}

#: Common authority+type prefixes (positions 1-2) -> (zh, en).  Display only,
#: deliberately not exhaustive.
ORG_TYPES: dict[str, tuple[str, str]] = {
    "11": ("机关", "State organ"),
    "12": ("事业单位", "Public institution"),
    "13": ("中央编办直接管理机构编制的群众团体", "Mass organisation under the central establishment office"),
    "19": ("其他（机构编制）", "Other (establishment office)"),
    "51": ("社会团体", "Social group"),
    "52": ("民办非企业单位", "Private non-enterprise unit"),
    "53": ("基金会", "Foundation"),
    "59": ("其他（民政）", "Other (civil affairs)"),
    "91": ("企业", "Enterprise"),
    "92": ("个体工商户", "Individual business"),
    "93": ("农民专业合作社", "Farmers' specialised cooperative"),
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a code.

    ``code`` is stable (see the module docstring); ``message`` / ``message_zh``
    are for people.  ``position`` is the 1-based position concerned, or
    ``None`` when the problem is not about one place (empty, length).
    """

    code: str
    message: str
    message_zh: str
    position: int | None = None

    def text(self, lang: str = "zh") -> str:
        """The message in ``lang`` ('zh', 'zh_CN', … -> Chinese, else English)."""
        return self.message_zh if lang.lower().startswith("zh") else self.message


def normalise(code: str | None) -> str:
    """Return ``code`` as it should be checked and stored.

    NFKC-folds full-width characters to ASCII, removes all whitespace
    (including the ideographic space U+3000) and upper-cases.  ``None`` gives
    ``""``.  Other characters (hyphens, the letter O, …) are left for
    :func:`check` to report.
    """
    if code is None:
        return ""
    folded = unicodedata.normalize("NFKC", str(code))
    return "".join(folded.split()).upper()


def compute_org_check_char(org_body: str) -> str:
    """GB 11714 check character for an 8-character organisation-code body.

    Body characters are 0-9 and A-Z (A=10 … Z=35); the result is ``0``-``9``
    or ``X``.  Raises ValueError for anything else.
    """
    if len(org_body) != 8 or any(ch not in _ORG_BODY_CHARS for ch in org_body):
        raise ValueError(f"organisation code body must be 8 characters of 0-9A-Z: {org_body!r}")
    total = sum(int(ch, 36) * w for ch, w in zip(org_body, ORG_WEIGHTS))
    value = 11 - total % 11
    if value == 10:
        return "X"
    if value == 11:
        return "0"
    return str(value)


def compute_check_char(first17: str) -> str:
    """GB 32100 check character (position 18) for the first 17 characters."""
    if len(first17) != 17 or any(ch not in _VALUE for ch in first17):
        raise ValueError(f"need 17 characters from the credit-code alphabet: {first17!r}")
    total = sum(_VALUE[ch] * w for ch, w in zip(first17, WEIGHTS))
    return ALPHABET[(31 - total % 31) % 31]


def _charset_problem(pos: int, ch: str) -> Problem:
    if ch in FORBIDDEN_LETTERS:
        hint_en = hint_zh = ""
        if ch == "O":
            hint_en, hint_zh = " (did you mean the digit 0?)", "（是否应为数字“0”？）"
        elif ch == "I":
            hint_en, hint_zh = " (did you mean the digit 1?)", "（是否应为数字“1”？）"
        return Problem(
            "charset",
            f"Position {pos} holds the letter '{ch}'; credit codes never use "
            f"the letters I, O, S, V or Z{hint_en}.",
            f"第{pos}位是字母“{ch}”，统一社会信用代码不使用字母I、O、S、V、Z{hint_zh}。",
            pos,
        )
    return Problem(
        "charset",
        f"Position {pos} holds '{ch}', which is not allowed; only digits and the "
        "capital letters except I, O, S, V, Z are used.",
        f"第{pos}位字符“{ch}”无效，只能是数字或大写字母（不含I、O、S、V、Z）。",
        pos,
    )


def _division_problem(division: str, skip: set[int]) -> Problem | None:
    """Problem with positions 3-8, ignoring positions already in ``skip``."""
    bad = [i + 3 for i, ch in enumerate(division) if ch not in _DIGITS and i + 3 not in skip]
    if bad:
        where = "、".join(str(p) for p in bad)
        return Problem(
            "division",
            f"Positions 3-8 (administrative division code) must be six digits, "
            f"but '{division}' has a non-digit at position(s) {', '.join(map(str, bad))}.",
            f"第3至8位（登记管理机关行政区划码）应为6位数字，“{division}”的第{where}位不是数字。",
            bad[0],
        )
    if any(ch not in _DIGITS for ch in division):
        return None  # already reported as charset problems
    prefix = division[:2]
    if division == CENTRAL_DIVISION or prefix in PROVINCE_PREFIXES:
        return None
    return Problem(
        "division",
        f"Positions 3-8 hold '{division}', but '{prefix}' is not a province-level "
        "code of GB/T 2260 (nor the central-level 100000).",
        f"第3至8位行政区划码“{division}”无效：前两位“{prefix}”不是省级行政区划代码"
        "（中央级登记应为100000）。",
        3,
    )


def check(code: str | None) -> list[Problem]:
    """Everything wrong with ``code`` (after :func:`normalise`); ``[]`` if valid."""
    s = normalise(code)
    if not s:
        return [Problem("empty", "No credit code was entered.", "未填写统一社会信用代码。")]

    problems: list[Problem] = []
    if len(s) != 18:
        problems.append(
            Problem(
                "length",
                f"A Unified Social Credit Code has 18 characters; this one has {len(s)}.",
                f"统一社会信用代码应为18位，实际为{len(s)}位。",
            )
        )
    bad_positions: set[int] = set()
    for i, ch in enumerate(s):
        if ch not in _VALUE:
            bad_positions.add(i + 1)
            problems.append(_charset_problem(i + 1, ch))
    if len(s) != 18:
        return problems  # positions do not line up; further checks would mislead

    division_problem = _division_problem(s[2:8], bad_positions)
    if division_problem:
        problems.append(division_problem)

    body, org_check = s[8:16], s[16]
    if not bad_positions.intersection(range(9, 18)):
        expected = compute_org_check_char(body)
        if org_check != expected:
            problems.append(
                Problem(
                    "org_code_check",
                    f"Position 17, the check digit of the organisation code "
                    f"{body}-{org_check}, should be '{expected}' but is '{org_check}'.",
                    f"第17位（组织机构代码{body}-{org_check}的校验码）应为“{expected}”，"
                    f"实际为“{org_check}”。",
                    17,
                )
            )

    if not bad_positions:
        expected = compute_check_char(s[:17])
        if s[17] != expected:
            problems.append(
                Problem(
                    "check_char",
                    f"Position 18, the check character, should be '{expected}' but is '{s[17]}'.",
                    f"第18位校验码应为“{expected}”，实际为“{s[17]}”。",
                    18,
                )
            )
    return problems


def is_valid(code: str | None) -> bool:
    """True if ``code`` is a valid credit code *after* :func:`normalise`.

    Lower case, surrounding/inner whitespace and full-width characters are
    therefore accepted; store ``normalise(code)``, not the raw input.
    """
    return not check(code)


def make_code(authority: str, org_type: str, division: str, org_body: str) -> str:
    """Build a valid code, computing positions 17 and 18.

    ``authority`` and ``org_type`` are single characters, ``division`` the six
    digits of positions 3-8, ``org_body`` the eight characters of positions
    9-16.  Inputs are normalised like codes; anything that would not give a
    valid code raises ValueError.
    """
    authority, org_type = normalise(authority), normalise(org_type)
    division, org_body = normalise(division), normalise(org_body)
    for name, value, size in (
        ("authority", authority, 1),
        ("org_type", org_type, 1),
        ("org_body", org_body, 8),
    ):
        if len(value) != size or any(ch not in _VALUE for ch in value):
            raise ValueError(f"{name} must be {size} character(s) from {ALPHABET}: {value!r}")
    if len(division) != 6 or _division_problem(division, set()) is not None:
        raise ValueError(f"division must be a GB/T 2260 six-digit code: {division!r}")
    first17 = authority + org_type + division + org_body + compute_org_check_char(org_body)
    return first17 + compute_check_char(first17)


#: Prefixes drawn by random_code, weighted towards what an inspection office sees.
_RANDOM_PREFIXES = ("91",) * 12 + ("92",) * 5 + ("93", "12", "52", "51")


def random_code(rng: random.Random, division: str = "370305") -> str:
    """A valid code drawn only from ``rng`` (same seed -> same code).

    Mostly enterprises and individual businesses; the body looks like post-2015
    codes (``MA`` + 6 characters) or like a legacy 8-digit organisation code.
    """
    prefix = rng.choice(_RANDOM_PREFIXES)
    if rng.random() < 0.7:
        body = "MA" + "".join(rng.choice(ALPHABET) for _ in range(6))
    else:
        body = "".join(rng.choice(_DIGITS) for _ in range(8))
    return make_code(prefix[0], prefix[1], division, body)


def org_type_name(code: str, lang: str = "zh") -> str | None:
    """Label for positions 1-2 of ``code`` (e.g. '91…' -> 企业), or None."""
    names = ORG_TYPES.get(normalise(code)[:2])
    if names is None:
        return None
    return names[0] if lang.lower().startswith("zh") else names[1]
