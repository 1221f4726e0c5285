"""Labels of the employers directory's codes, as ``(code, zh, en)`` like :mod:`..reference`,
so select boxes, exports and the importer share one table."""
from __future__ import annotations

from flask import has_app_context
from flask_babel import get_locale

#: 经营状态
STATUSES: tuple[tuple[str, str, str], ...] = (
    ("active", "在营", "Active"),
    ("deregistered", "注销", "Deregistered"),
    ("moved_away", "迁出", "Moved away"),
    ("closed", "关闭", "Closed"),
)

#: 信用风险等级 (seed 004): A low ... D very high.
GRADES: tuple[tuple[str, str, str], ...] = (
    ("A", "A（低风险）", "A (low risk)"),
    ("B", "B（一般风险）", "B (normal risk)"),
    ("C", "C（较高风险）", "C (high risk)"),
    ("D", "D（高风险）", "D (very high risk)"),
)

#: The flags that raise the grade or the draw weight.
FLAGS: tuple[tuple[str, str, str], ...] = (
    ("flag_complaints", "投诉举报较多", "Frequent complaints"),
    ("flag_abnormal", "列入经营异常名录", "On the abnormal-operation list"),
    ("flag_serious_violation", "有严重违法失信记录", "Serious violation record"),
)


def is_zh(lang: str | None) -> bool:
    return (lang or "zh").lower().startswith("zh")


def current_lang() -> str:
    """The user's language (the bureau's default outside a request)."""
    if not has_app_context():
        return "zh_CN"
    locale = get_locale()
    return str(locale) if locale else "zh_CN"


def pick(table: tuple[tuple[str, str, str], ...], code: str | None, lang: str | None = None) -> str:
    """The label of ``code`` in the user's language; the code itself when unknown."""
    zh = is_zh(lang or current_lang())
    for row_code, label_zh, label_en in table:
        if row_code == code:
            return label_zh if zh else label_en
    return code or ""


def choices(table: tuple[tuple[str, str, str], ...], lang: str | None = None) -> list[tuple[str, str]]:
    zh = is_zh(lang or current_lang())
    return [(code, zh_label if zh else en_label) for code, zh_label, en_label in table]
