"""Refusals, absences and signers: what a record's ``refusal`` section and its signatures may
say, and the rules tying them to the result category (DOMAIN.md "On site" 5-6).

Like :mod:`inspection.fieldwork.results`, the rules are data (:data:`REFUSAL_RULES`,
:data:`NEED_REFUSAL`) so that the field app can mirror them: the same table is written out as
JavaScript constants in ``docs/field-sync.md`` and handed to the phone in every visit pack
(``refusal_rules``). The checks are pure: the caller passes what they need from the database
(the user ids of the visit's team). Field errors are keyed like the record body:
``refusal.explanation``, ``signatures.2.signer.user_id``.
"""
from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from .models import ResultCategory
from .results import label

#: Why the record is not signed by the employer's representative (拒绝签字 and absences).
REFUSAL_REASONS = ("refused_to_sign", "refused_inspection", "nobody_present",
                   "premises_unreachable")
SIGNER_KINDS = ("inspector", "representative", "witness")
#: The representative's capacity (legal wording, shown as is).
REPRESENTATIVE_ROLES: dict[str, str] = {
    "legal_representative": "法定代表人",
    "person_in_charge": "负责人",
    "delegate": "受委托人",
}
#: Inspectors who sign a sealed record: at least two (行政处罚法 art. 42; 条例 art. 16).
MIN_INSPECTOR_SIGNATURES = 2

_ALL = [c.value for c in ResultCategory]

#: Per refusal reason, the result categories the record may carry (a null category is
#: allowed until the record is sealed). Every refusal needs an explanation and at least one
#: scene photo (the scene is fixed with photos, seed 004 第二十条).
REFUSAL_RULES: dict[str, dict[str, Any]] = {
    # The check was made; the representative will not sign: any result the answers allow
    # except "unreachable" (somebody was there).
    "refused_to_sign": {"categories": [c for c in _ALL
                                       if c != ResultCategory.UNREACHABLE.value]},
    # 不配合检查: serious non-cooperation, or problems found before the inspectors were
    # turned away (pending follow-up).
    "refused_inspection": {"categories": [ResultCategory.REFUSED_SERIOUSLY.value,
                                          ResultCategory.PENDING_FOLLOW_UP.value]},
    # Nobody there: unreachable, or no sign of the business activity checked.
    "nobody_present": {"categories": [ResultCategory.UNREACHABLE.value,
                                      ResultCategory.NO_ACTIVITY.value]},
    # The registered premises cannot be found or entered.
    "premises_unreachable": {"categories": [ResultCategory.UNREACHABLE.value]},
}
#: Categories a sealed record may carry only with a refusal section (the inspectors then
#: sign the refusal's explanation instead of the representative signing the record).
NEED_REFUSAL = [ResultCategory.UNREACHABLE.value, ResultCategory.REFUSED_SERIOUSLY.value]


def reason_labels() -> dict[str, str]:
    return {"refused_to_sign": _("The representative refused to sign"),
            "refused_inspection": _("The employer refused to be inspected"),
            "nobody_present": _("Nobody present"),
            "premises_unreachable": _("The premises could not be reached")}


def signer_labels() -> dict[str, str]:
    return {"inspector": _("Inspector"), "representative": _("Employer's representative"),
            "witness": _("Witness")}


def _add(errors: dict[str, list[str]], key: str, message: str) -> None:
    errors.setdefault(key, []).append(message)


def _photo_uuids(body: dict) -> set[str]:
    return {str(p.get("uuid", "")).lower() for p in (body.get("photos") or [])}


def check_refusal(body: dict, sealed: bool) -> dict[str, list[str]]:
    """The rules of the ``refusal`` section and its tie to the result category."""
    errors: dict[str, list[str]] = {}
    refusal = body.get("refusal")
    category = body.get("result_category")
    if not refusal:
        if sealed and category in NEED_REFUSAL:
            _add(errors, "result_category",
                 _("“%(category)s” needs the refusal or absence recorded (reason, "
                   "explanation, scene photos).", category=label(category)))
        return errors
    reason = refusal.get("reason")
    if not (refusal.get("explanation") or "").strip():
        _add(errors, "refusal.explanation",
             _("Write down what happened: the explanation is what the inspectors sign."))
    scene = refusal.get("photos") or []
    if not scene:
        _add(errors, "refusal.photos", _("Fix the scene with at least one photo."))
    listed = _photo_uuids(body)
    for n, uuid in enumerate(scene):
        if str(uuid).lower() not in listed:
            _add(errors, f"refusal.photos.{n}", _("This photo is not listed in the record."))
    names = [(w.get("name") or "").strip() for w in refusal.get("witnesses") or []]
    for n, name in enumerate(names):
        if name in names[:n]:
            _add(errors, f"refusal.witnesses.{n}.name", _("This witness is listed twice."))
    rule = REFUSAL_RULES.get(reason)
    if rule and category and category not in rule["categories"]:
        _add(errors, "result_category",
             _("“%(category)s” does not go with this refusal (%(reason)s).",
               category=label(category), reason=reason_labels()[reason]))
    return errors


def check_signers(body: dict, team_user_ids: set[int],
                  part: bool = False) -> dict[str, list[str]]:
    """Who signs a sealed record: at least two inspectors of the visit's team, each once;
    the representative once, unless a refusal is recorded (then nobody signs for the
    employer); witnesses only of a refusal, by the names it lists; a delegate's
    authorisation photographed. Also: a sealed record states its result category.
    A member's ``part`` of a joint visit is signed by its inspectors only: the counts and
    the category are the visit record's business."""
    errors: dict[str, list[str]] = {}
    if not part and not body.get("result_category"):
        _add(errors, "result_category", _("A sealed record states a result category."))
    refusal = body.get("refusal")
    witnesses = {(w.get("name") or "").strip() for w in (refusal or {}).get("witnesses") or []}
    inspectors: set[int] = set()
    representatives = 0
    seen: set[str] = set()
    authorised = any(p.get("authorisation") for p in body.get("photos") or [])
    for n, signature in enumerate(body.get("signatures") or []):
        uuid = str(signature.get("uuid", "")).lower()
        if uuid in seen:
            _add(errors, f"signatures.{n}.uuid", _("This signature is listed twice."))
        seen.add(uuid)
        signer = signature.get("signer") or {}
        kind = signer.get("kind")
        if kind == "inspector":
            user_id = signer.get("user_id")
            if user_id not in team_user_ids:
                _add(errors, f"signatures.{n}.signer.user_id",
                     _("This inspector is not on the visit's team."))
            elif user_id in inspectors:
                _add(errors, f"signatures.{n}.signer.user_id",
                     _("This inspector has already signed."))
            inspectors.add(user_id)
        elif kind == "representative":
            representatives += 1
            if refusal:
                _add(errors, f"signatures.{n}.signer",
                     _("A refusal is recorded: nobody signs for the employer."))
            elif representatives > 1:
                _add(errors, f"signatures.{n}.signer",
                     _("The employer's representative signs once."))
            if signer.get("role") == "delegate" and not authorised:
                _add(errors, f"signatures.{n}.signer.role",
                     _("Photograph the delegate's authorisation (a photo marked as the "
                       "authorisation)."))
        elif kind == "witness":
            if not refusal:
                _add(errors, f"signatures.{n}.signer",
                     _("Witnesses sign only a refusal or absence."))
            elif (signer.get("name") or "").strip() not in witnesses:
                _add(errors, f"signatures.{n}.signer.name",
                     _("This witness is not listed in the refusal."))
    if part:
        return errors
    if len(inspectors & team_user_ids) < MIN_INSPECTOR_SIGNATURES:
        _add(errors, "signatures",
             _("At least %(n)d inspectors of the team sign the record.",
               n=MIN_INSPECTOR_SIGNATURES))
    if not refusal and representatives == 0:
        _add(errors, "signatures",
             _("The employer's representative signs the record, or the refusal is "
               "recorded."))
    return errors
