"""The office's and the approvers' pages after the visit: the review queue, a visit's review
page (the sealed record, the history, the employer's previous results and the form of each
act the user may do now), what waits for an approver, the feedback letter (PDF) and the
proof of its delivery. Thin: the work is in :mod:`.operations`; input is checked by the load
schemas of :mod:`.schemas` (through :mod:`.forms`), as in the JSON API.

A refused act re-renders the review page with the message, the field errors and what was
typed, with the error's status (422, 409, 403); an act done redirects to the review page.
"""
from __future__ import annotations

import io
import secrets
from typing import Any, Callable, Mapping

from flask import (Blueprint, Response, flash, redirect, render_template, request, send_file,
                   url_for)
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from werkzeug.datastructures import MultiDict

from ..core import storage
from ..core.access import roles
from ..core.limits import int_arg
from ..core.errors import DomainError, NotFound, ValidationFailed
from ..core.timeutil import to_local
from ..extensions import db
from ..fieldwork import documents as field_documents
from ..fieldwork.models import Visit
from ..fieldwork.results import categories, shown_label
from . import documents, forms
from . import operations as ops
from .models import CorrectionOrigin, Feedback, ObjectionStatus
from .schemas import (CorrectionInSchema, DecisionSchema, DeterminationInSchema,
                      ExceptionInSchema, FeedbackInSchema, ObjectionDecisionSchema,
                      ObjectionInSchema, ReturnSchema)

bp = Blueprint("review", __name__, url_prefix="/review")

READERS, OFFICE, APPROVERS, REVIEWERS = (documents.READERS, documents.OFFICE,
                                         documents.APPROVERS, documents.REVIEWERS)
PER_PAGE = 50


def _actor():
    return current_user._get_current_object()


def objection_status_labels() -> dict[str, str]:
    return {ObjectionStatus.OPEN.value: _("under review"),
            ObjectionStatus.UPHELD.value: _("result upheld"),
            ObjectionStatus.CORRECTED.value: _("result found wrong: to be corrected")}


def origin_labels() -> dict[str, str]:
    return {CorrectionOrigin.APPLICATION.value: _("On the party's application"),
            CorrectionOrigin.BUREAU.value: _("Found wrong by the bureau")}


@bp.context_processor
def _labels():
    return {"status_label": ops.status_label, "decision_label": ops.decision_label,
            "handling_labels": ops.handling_labels(), "exception_labels": ops.exception_labels(),
            "way_labels": ops.feedback_way_labels(),
            "objection_labels": objection_status_labels(), "origin_labels": origin_labels(),
            "result_label": shown_label, "local": to_local}


# --- the queue and the approvals --------------------------------------------------------------

@bp.get("/")
@roles(*READERS)
def queue():
    """Visits whose sealed record waits for review, oldest first."""
    page = documents.queue(int_arg("page", 1) or 1, PER_PAGE)
    return render_template("review/queue.html", page=page, today=ops.today())


@bp.get("/approvals")
@roles(*APPROVERS)
def approvals():
    """What waits for my decision: determinations, exceptions from publication and
    corrections that my position and department let me approve."""
    waiting = documents.approvals_for(_actor())
    grouped: dict[str, list] = {"determination": [], "exception": [], "correction": []}
    for w in waiting:
        grouped[w.kind].append(w)
    return render_template("review/approvals.html", grouped=grouped, total=len(waiting))


# --- the review page --------------------------------------------------------------------------

def _subjects(state: documents.ReviewState) -> list[tuple[str, str]]:
    """(``item|question``, label) of everything a finding or comment may be about."""
    out = []
    for item in state.items:
        out.append((f"{item['code']}|", f"{item['code']} {item['name']}"))
        for q in item["questions"]:
            out.append((f"{item['code']}|{q['code']}", f"{q['code']} {q['text']}"))
    return out


def _finding_rows(findings: list[dict]) -> list[dict]:
    rows = [{"subject": f"{f.get('item') or ''}|{f.get('question') or ''}",
             "finding": f.get("finding") or "", "handling": f.get("handling") or "",
             "due": f.get("due") or "", "note": f.get("note") or ""} for f in findings]
    rows += [{"subject": "", "finding": "", "handling": "", "due": "", "note": ""}
             for _n in range(forms.EXTRA_FINDING_ROWS)]
    return rows


def _posted_rows(values: Mapping, prefix: str, names: tuple[str, ...]) -> list[dict]:
    """The numbered rows of a form as they were posted (to show them again)."""
    rows = []
    for n in forms.row_numbers(values, prefix):
        rows.append({name: values.get(f"{prefix}-{n}-{name}", "") for name in names})
    return rows


FINDING_FIELDS = ("subject", "finding", "handling", "due", "note")


def _page(visit, *, errors: dict[str, dict] | None = None, values: dict[str, Any] | None = None,
          status: int = 200):
    state = documents.review_state(visit, _actor())
    values = values or {}
    record = field_documents.record_document(visit)
    record_html = Markup(render_template("review/_record_embed.html", **record.context))
    # The rows of the determination and correction forms: as posted after an error, else
    # prefilled from the record's answers and orders (propose) or the result (correct).
    propose_values = values.get("propose")
    propose_rows = _posted_rows(propose_values, "findings", FINDING_FIELDS) \
        if propose_values else _finding_rows(documents.prefilled_findings(
            state.revision.body if state.revision else {}))
    correct_values = values.get("correct")
    correct_rows = _posted_rows(correct_values, "findings", FINDING_FIELDS) \
        if correct_values else _finding_rows(state.current.findings if state.current else [])
    return render_template(
        "review/visit.html", s=state, visit=visit, employer=state.employer,
        record_html=record_html, history=documents.history(state),
        categories=categories(), subjects=_subjects(state),
        propose_rows=propose_rows, correct_rows=correct_rows,
        errors=errors or {}, values=values, key=secrets.token_urlsafe(16),
        objection_key=secrets.token_urlsafe(16), today=ops.today()), status


@bp.get("/visits/<number>")
@roles(*READERS)
def visit(number: str):
    return _page(ops.get_visit(number))


def _act(visit, form_name: str, work: Callable[[], Any], done: str, anchor: str = ""):
    """Run one act of the review page: on success flash ``done`` and go back to the page;
    refused, show the page again with the errors and what was typed."""
    try:
        work()
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return _page(visit, errors={form_name: error.fields}, status=error.status,
                     values={form_name: MultiDict(request.form)})
    flash(done, "success")
    return redirect(url_for("review.visit", number=visit.number) + (f"#{anchor}" if anchor
                                                                     else ""))


@bp.post("/visits/<number>/return")
@roles(*OFFICE)
def return_record(number: str):
    visit = ops.get_visit(number)
    data, rows = forms.return_input(request.form)

    def work():
        try:
            args = forms.load(ReturnSchema, data)
            ops.return_record(visit.number, args["comments"], args["item_comments"],
                              actor=_actor())
        except ValidationFailed as error:
            raise ValidationFailed(error.message,
                                   forms.renumber(error.fields, "item_comments", rows)) from None

    return _act(visit, "return", work, _("The record is returned to the team with your "
                                         "comments."))


@bp.post("/visits/<number>/determinations")
@roles(*OFFICE)
def propose(number: str):
    visit = ops.get_visit(number)
    data, rows = forms.determination_input(request.form)

    def work():
        try:
            args = forms.load(DeterminationInSchema, data)
            ops.propose_determination(visit.number, args["result_category"], args["findings"],
                                      args["summary"], actor=_actor(), request_key=args["key"])
        except ValidationFailed as error:
            raise ValidationFailed(error.message,
                                   forms.renumber(error.fields, "findings", rows)) from None

    return _act(visit, "propose", work, _("The determination is proposed; an approver "
                                          "decides it."))


def _decision(kind: str, row_id: int):
    getter, decide, form_name = {
        "determination": (ops.get_determination, ops.decide_determination, "decide_determination"),
        "exception": (ops.get_exception, ops.decide_exception, "decide_exception"),
        "correction": (ops.get_correction, ops.decide_correction, "decide_correction"),
    }[kind]
    row = getter(row_id)
    visit = db.session.get(Visit, row.visit_id)
    data = forms.decision_input(request.form)

    def work():
        args = forms.load(DecisionSchema, data)
        decide(row.id, args["approve"], args["reason"], actor=_actor())

    return _act(visit, form_name, work, _("Your decision is recorded."), anchor="history")


@bp.post("/determinations/<int:determination_id>/decision")
@roles(*APPROVERS)
def decide_determination(determination_id: int):
    return _decision("determination", determination_id)


@bp.post("/visits/<number>/publish")
@roles(*OFFICE)
def publish(number: str):
    visit = ops.get_visit(number)
    return _act(visit, "publish", lambda: ops.publish(visit.number, actor=_actor()),
                _("The result is published; its publication period has started."))


@bp.post("/visits/<number>/exceptions")
@roles(*OFFICE)
def propose_exception(number: str):
    visit = ops.get_visit(number)
    data = forms.exception_input(request.form)

    def work():
        args = forms.load(ExceptionInSchema, data)
        ops.propose_exception(visit.number, args["kind"], args["reason"], actor=_actor())

    return _act(visit, "propose_exception", work,
                _("The exception from publication is proposed; an approver decides it."))


@bp.post("/exceptions/<int:exception_id>/decision")
@roles(*APPROVERS)
def decide_exception(exception_id: int):
    return _decision("exception", exception_id)


@bp.post("/visits/<number>/feedback")
@roles(*OFFICE)
def record_feedback(number: str):
    visit = ops.get_visit(number)
    data = forms.feedback_input(request.form)
    upload = request.files.get("proof")

    def work():
        args = forms.load(FeedbackInSchema, data)
        proof = proof_type = None
        if upload is not None and upload.filename:
            proof = upload.read(ops.MAX_PROOF_BYTES + 1)
            proof_type = upload.mimetype
        ops.record_feedback(visit.number, args["way"], args["delivered_on"], args["note"],
                            proof=proof, proof_type=proof_type, actor=_actor())

    return _act(visit, "feedback", work, _("The feedback to the employer is recorded."),
                anchor="feedback")


@bp.get("/visits/<number>/feedback/<int:feedback_id>/proof")
@roles(*OFFICE)
def feedback_proof(number: str, feedback_id: int):
    """The scan or photo kept as proof of a delivery (office users only)."""
    visit = ops.get_visit(number)
    row = db.session.get(Feedback, feedback_id)
    if row is None or row.visit_id != visit.id or not row.proof_sha256:
        raise NotFound(_("No such proof."))
    try:
        data = storage.read(ops.AREA_FEEDBACK, row.proof_sha256)
    except storage.StoreError:
        raise NotFound(_("No such proof.")) from None
    extension = {"image/jpeg": "jpg", "image/png": "png", "application/pdf": "pdf"}.get(
        row.proof_content_type or "", "bin")
    response = send_file(io.BytesIO(data), mimetype=row.proof_content_type or
                         "application/octet-stream", as_attachment=False,
                         download_name=f"feedback-{visit.number}-{row.id}.{extension}")
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/visits/<number>/feedback-letter.pdf")
@roles(*READERS)
def feedback_letter(number: str):
    """检查结果告知书 of the visit's result, with a QR code to its public page."""
    visit = ops.get_visit(number)
    return Response(documents.feedback_letter_pdf(visit), mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="feedback-{visit.number}.pdf"',
        "Cache-Control": "no-store"})


@bp.post("/visits/<number>/objections")
@roles(*OFFICE)
def enter_objection(number: str):
    """An objection received by the office (letter, phone, counter), entered for the party."""
    visit = ops.get_visit(number)
    data = forms.objection_input(request.form, visit.number)

    def work():
        args = forms.load(ObjectionInSchema, data)
        ops.submit_objection(visit.number, args["credit_code"], args["contact"], args["text"],
                             source="office", actor=_actor(), request_key=args["key"])

    return _act(visit, "object", work, _("The objection is entered; its review has started."),
                anchor="objections")


@bp.post("/objections/<int:objection_id>/decision")
@roles(*REVIEWERS)
def decide_objection(objection_id: int):
    row = ops.get_objection(objection_id)
    visit = db.session.get(Visit, row.visit_id)
    data = forms.objection_decision_input(request.form)

    def work():
        args = forms.load(ObjectionDecisionSchema, data)
        ops.decide_objection(row.id, args["status"], args["outcome"], actor=_actor())

    return _act(visit, f"decide_objection_{row.id}", work,
                _("The outcome of the review is recorded."), anchor="objections")


@bp.post("/visits/<number>/corrections")
@roles(*OFFICE)
def propose_correction(number: str):
    visit = ops.get_visit(number)
    data, rows = forms.correction_input(request.form)

    def work():
        try:
            args = forms.load(CorrectionInSchema, data)
            ops.propose_correction(visit.number, args["origin"], args["reason"],
                                   args["result_category"], args["findings"], args["summary"],
                                   objection_id=args["objection_id"], actor=_actor())
        except ValidationFailed as error:
            raise ValidationFailed(error.message,
                                   forms.renumber(error.fields, "findings", rows)) from None

    return _act(visit, "correct", work, _("The correction is proposed; the position the "
                                          "bureau names approves it."))


@bp.post("/corrections/<int:correction_id>/decision")
@roles(*APPROVERS)
def decide_correction(correction_id: int):
    return _decision("correction", correction_id)

