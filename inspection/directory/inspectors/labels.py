"""Codes and their names for the inspectors directory.

Every table is a tuple of ``(code, zh_name, en_name)`` like :mod:`..reference`, so one table
feeds the select boxes (label by locale), the spreadsheet import (a cell may hold the code,
the Chinese or the English name) and the export (Chinese names).
"""
from __future__ import annotations

from ..models import CertificateKind, ConflictRelation, InspectorPool, InspectorStatus

Table = tuple[tuple[str, str, str], ...]

STATUSES: Table = (
    (InspectorStatus.AVAILABLE.value, "在岗", "Available"),
    (InspectorStatus.ON_LEAVE.value, "休假", "On leave"),
    (InspectorStatus.TRANSFERRED.value, "调离", "Transferred"),
    (InspectorStatus.RETIRED.value, "退休", "Retired"),
)

POOLS: Table = (
    (InspectorPool.STAFF.value, "执法人员", "Staff"),
    (InspectorPool.EXPERT.value, "专家", "Expert"),
    (InspectorPool.THIRD_PARTY.value, "第三方", "Third party"),
)

CERT_KINDS: Table = (
    (CertificateKind.LAW_ENFORCEMENT.value, "行政执法证", "Administrative law-enforcement card"),
    (CertificateKind.LABOUR_INSPECTOR.value, "劳动保障监察员证", "Labour inspector card"),
)

RELATIONS: Table = (
    (ConflictRelation.RELATIVE.value, "近亲属在该单位工作", "A relative works there"),
    (ConflictRelation.FORMER_EMPLOYER.value, "曾在该单位工作", "Former employer"),
    (ConflictRelation.SHAREHOLDING.value, "持有股份", "Shareholding"),
    (ConflictRelation.OTHER.value, "其他利害关系", "Other interest"),
)

#: Suggested specialities. Free tags are allowed too; these are offered as check boxes and a
#: cell holding one of these names imports as its code.
SUGGESTED_TAGS: Table = (
    ("wages", "工资支付", "Wages"),
    ("minimum_wage", "最低工资", "Minimum wage"),
    ("social_insurance", "社会保险", "Social insurance"),
    ("occupational_safety", "职业安全", "Occupational safety"),
    ("labour_contracts", "劳动合同", "Labour contracts"),
    ("working_hours", "工作时间和休息休假", "Working hours and rest"),
    ("child_labour", "禁止使用童工", "Child labour"),
    ("women_minors", "女职工和未成年工保护", "Women and minor workers"),
    ("labour_dispatch", "劳务派遣", "Labour dispatch"),
    ("hr_services", "人力资源服务机构", "HR service agencies"),
    ("vocational_training", "职业技能培训", "Vocational training"),
    ("employment", "就业服务", "Employment services"),
)


def codes(table: Table) -> list[str]:
    return [code for code, _zh, _en in table]


def name(table: Table, code: str | None, lang: str = "zh") -> str:
    """The name of ``code`` in the language ``lang``; unknown codes (free tags) as they are."""
    for row_code, zh, en in table:
        if row_code == code:
            return zh if str(lang).lower().startswith("zh") else en
    return code or ""


def parse(table: Table, text: str | None) -> str | None:
    """The code for a cell holding a code, a Chinese or an English name; None if unknown."""
    value = (text or "").strip()
    if not value:
        return None
    lowered = value.lower()
    for code, zh, en in table:
        if lowered in (code, en.lower()) or value == zh:
            return code
    return None


def choices(table: Table, lang: str = "zh") -> list[tuple[str, str]]:
    return [(code, zh if str(lang).lower().startswith("zh") else en) for code, zh, en in table]
