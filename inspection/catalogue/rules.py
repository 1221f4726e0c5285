"""The numbers of the catalogue's rules, below :mod:`.schemas` (which checks them) and
:mod:`.operations`."""
from __future__ import annotations

import re
from decimal import Decimal

from ..core.ratios import percent
from ..directory.reference import EMPLOYER_TYPES

#: A general item's draw ratio may not exceed this (a bureau constant; seeds 000 and 003:
#: general items are drawn at capped ratios, key items may reach 100%).
GENERAL_RATIO_CAP = Decimal("0.20")
#: Times a year an item may be scheduled, at most.
MAX_FREQUENCY = 12
#: Questions per item version, at most (the code keeps two digits).
MAX_QUESTIONS = 99

CODE_PATTERN = re.compile(r"^[A-Z0-9]+(?:-[A-Z0-9]+)*$")
CODE_MAX = 16
NAME_MAX = 200
TEXT_MAX = 4000

#: The fields of a version compared to decide whether an edit changed anything.
VERSION_FIELDS = ("name", "name_en", "legal_basis", "content", "department_id", "target_types",
                  "method", "kind", "ratio", "frequency")
QUESTION_FIELDS = ("text", "legal_basis", "evidence_hint")

#: Employer types in the order of the reference list.
TYPE_ORDER = {code: n for n, (code, _zh, _en) in enumerate(EMPLOYER_TYPES)}

__all__ = ["CODE_MAX", "CODE_PATTERN", "GENERAL_RATIO_CAP", "MAX_FREQUENCY", "MAX_QUESTIONS",
           "NAME_MAX", "QUESTION_FIELDS", "TEXT_MAX", "TYPE_ORDER", "VERSION_FIELDS", "percent"]
