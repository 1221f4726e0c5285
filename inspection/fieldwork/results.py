"""What a visit record may say: answers, orders, notice ways and the result categories, and the
rules that make a record consistent.

The rules are data (:data:`CATEGORY_RULES`) so that the field app can mirror them: the same
table is written out as JavaScript constants in ``docs/field-sync.md`` and handed to the phone
in every visit pack (``category_rules``). :func:`check_record` is the one implementation on
the server; it answers field errors keyed ``result_category``, ``answers.<n>.<field>``.
"""
from __future__ import annotations

from typing import Any, Iterable

from flask_babel import gettext as _

from .models import RESULT_LABELS, ResultCategory

ANSWERS = ("compliant", "non_compliant", "not_applicable", "not_checked")
ORDER_KINDS = ("stop", "rectify")
NOTICE_WAYS = ("written", "phone", "fax")

#: Per result category: answers it cannot stand beside (``forbid``), what it needs
#: (``need``: ``non_compliant`` = at least one non-compliant answer, ``order`` = at least one
#: non-compliant answer with an order to stop or rectify) and whether it needs a photo taken
#: as evidence (``need_photo``: the scene is fixed with photos, seed 004 第二十条).
CATEGORY_RULES: dict[str, dict[str, Any]] = {
    ResultCategory.NO_PROBLEM.value: {"forbid": ["non_compliant"], "need": None,
                                      "need_photo": False},
    ResultCategory.NOT_DISCLOSED.value: {"forbid": [], "need": "non_compliant",
                                         "need_photo": False},
    ResultCategory.FALSE_DISCLOSURE.value: {"forbid": [], "need": "non_compliant",
                                            "need_photo": False},
    ResultCategory.UNREACHABLE.value: {"forbid": ["compliant", "non_compliant"], "need": None,
                                       "need_photo": True},
    ResultCategory.RECTIFICATION_ORDERED.value: {"forbid": [], "need": "order",
                                                 "need_photo": False},
    ResultCategory.REFUSED_SERIOUSLY.value: {"forbid": [], "need": None, "need_photo": True},
    ResultCategory.NO_ACTIVITY.value: {"forbid": ["compliant", "non_compliant"], "need": None,
                                       "need_photo": False},
    ResultCategory.PENDING_FOLLOW_UP.value: {"forbid": [], "need": "non_compliant",
                                             "need_photo": False},
    ResultCategory.QUALIFIED.value: {"forbid": ["non_compliant"], "need": None,
                                     "need_photo": False},
    ResultCategory.UNQUALIFIED.value: {"forbid": [], "need": "non_compliant",
                                       "need_photo": False},
}


def enabled_codes() -> list[str]:
    """The categories the bureau uses (setting ``RESULT_CATEGORIES``; all ten by default,
    seed 004 第十九条(四) "等": the list is open), in the order of the seed."""
    from flask import current_app, has_app_context

    from ..config import split_list

    chosen = set(split_list(current_app.config["SETTINGS"].RESULT_CATEGORIES)) \
        if has_app_context() else set()
    return [c.value for c in ResultCategory if not chosen or c.value in chosen]


def categories() -> list[dict[str, str]]:
    """``[{"code", "label"}]`` of the bureau's categories, in the order of the seed."""
    return [{"code": c, "label": RESULT_LABELS[c]} for c in enabled_codes()]


def label(code: str | None) -> str:
    """The legal wording of a category (seed 004 第十九条(四)), whatever the page's language:
    what documents, records and the API carry."""
    return RESULT_LABELS.get(code or "", "")


#: The categories in English, for pages read in English. Their Chinese translations are the
#: legal wording itself (``tests/core/test_i18n.py`` checks that they stay equal to
#: :data:`RESULT_LABELS`).
ENGLISH_LABELS: dict[str, str] = {
    ResultCategory.NO_PROBLEM.value: "No problem found",
    ResultCategory.NOT_DISCLOSED.value: "Information that must be made public was not",
    ResultCategory.FALSE_DISCLOSURE.value:
        "The public information hid the true situation or was falsified",
    ResultCategory.UNREACHABLE.value:
        "Cannot be reached at its registered address (place of business)",
    ResultCategory.RECTIFICATION_ORDERED.value: "Problems found and ordered to be corrected",
    ResultCategory.REFUSED_SERIOUSLY.value: "Refused to cooperate with the check, seriously",
    ResultCategory.NO_ACTIVITY.value: "The business this check is about was not found",
    ResultCategory.PENDING_FOLLOW_UP.value: "Problems found, to be handled further",
    ResultCategory.QUALIFIED.value: "Qualified",
    ResultCategory.UNQUALIFIED.value: "Not qualified",
}


def shown_label(code: str | None) -> str:
    """A category as a page shows it, in the page's language: the legal wording in Chinese,
    its English rendering in English. Unknown codes are shown as they are."""
    if not code:
        return ""
    english = ENGLISH_LABELS.get(code)
    return _(english) if english else code


def answer_labels() -> dict[str, str]:
    return {"compliant": _("Compliant"), "non_compliant": _("Non-compliant"),
            "not_applicable": _("Not applicable"), "not_checked": _("Not checked")}


def _add(errors: dict[str, list[str]], key: str, message: str) -> None:
    errors.setdefault(key, []).append(message)


def check_answers(answers: Iterable[dict]) -> dict[str, list[str]]:
    """The rules of single answers: a non-compliant answer has a note; an order goes with a
    non-compliant answer only, and an order to rectify has a due date."""
    errors: dict[str, list[str]] = {}
    for n, answer in enumerate(answers):
        kind = answer.get("answer")
        order = answer.get("order")
        if kind == "non_compliant" and not (answer.get("note") or "").strip():
            _add(errors, f"answers.{n}.note", _("A non-compliant answer needs a note."))
        if order:
            if kind != "non_compliant":
                _add(errors, f"answers.{n}.order",
                     _("An order can only be given for a non-compliant answer."))
            elif order.get("kind") == "rectify" and not order.get("due"):
                _add(errors, f"answers.{n}.order.due",
                     _("An order to rectify needs a date."))
    return errors


def check_category(category: str | None, answers: list[dict],
                   photo_count: int) -> list[str]:
    """Why ``category`` cannot stand beside these answers and photos (empty: it can)."""
    if not category:
        return []
    rule = CATEGORY_RULES.get(category)
    if rule is None or category not in enabled_codes():
        return [_("Unknown result category.")]
    problems = []
    kinds = {a.get("answer") for a in answers}
    name = label(category)
    if "non_compliant" in rule["forbid"] and "non_compliant" in kinds:
        problems.append(_("“%(category)s” cannot stand beside a non-compliant answer.",
                          category=name))
    if "compliant" in rule["forbid"] and "compliant" in kinds:
        problems.append(_("“%(category)s” cannot stand beside a compliant answer: nothing "
                          "could be checked.", category=name))
    if rule["need"] == "non_compliant" and "non_compliant" not in kinds:
        problems.append(_("“%(category)s” needs at least one non-compliant answer.",
                          category=name))
    if rule["need"] == "order" and not any(
            a.get("answer") == "non_compliant" and a.get("order") for a in answers):
        problems.append(_("“%(category)s” needs at least one non-compliant answer with an "
                          "order to stop or rectify.", category=name))
    if rule["need_photo"] and photo_count < 1:
        problems.append(_("“%(category)s” needs at least one photo as evidence.",
                          category=name))
    return problems


def check_record(answers: list[dict], category: str | None,
                 photo_count: int) -> dict[str, list[str]]:
    """Every consistency error of a record, as field errors (empty: consistent)."""
    errors = check_answers(answers)
    for problem in check_category(category, answers, photo_count):
        _add(errors, "result_category", problem)
    return errors
