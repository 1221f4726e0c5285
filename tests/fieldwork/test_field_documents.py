"""The visit's documents (issue 6): the record, the notice and the rectification order as
PDFs (checked with poppler: the Chinese text is there, the fonts are embedded, page 1
renders), who may download them, the record page, and the public verification page."""
import json
import re

from sqlalchemy import select

from inspection.extensions import db
from inspection.fieldwork.models import RESULT_LABELS, Visit

from field_support import jpeg, link, new_key, photo_ref, put_photo, record, setup
from field_support import pdf_text as _pdf
from seal_support import (inspector, put_record, put_signature, representative, sign,
                          signature_body, strokes, team_users, witness)


def _employer(app, number):
    with app.app_context():
        return db.session.scalar(select(Visit).where(Visit.number == number)).employer.name


def _sealed_visit(app, department, login_as, *, order=True):
    """A visit with a sealed record: one non-compliant answer with an order, a photo, the
    two inspectors' and the representative's signatures."""
    client, field = setup(app, department, login_as)
    team = team_users(app, field, login_as)
    data, key = jpeg(seed=11), new_key()
    assert put_photo(client, key, data, field.mine,
                     X_Question=field.questions[0]).status_code == 201
    answer = {"item": field.item, "question": field.questions[0], "answer": "non_compliant",
              "note": "工资表显示三月工资延迟发放十五天。",
              "order": {"kind": "rectify", "due": "2026-05-01",
                        "text": "足额支付拖欠工资"} if order else None}
    body = record(field, category="rectification_ordered" if order else "pending_follow_up",
                  answers=[answer], photos=[photo_ref(key, data, field.questions[0])])
    signed = sign(client, body, [inspector(team[0]), inspector(team[1]),
                                 representative("王经理")])
    response = put_record(client, signed)
    assert response.status_code == 201, response.get_json()
    return client, field, signed


def test_the_record_pdf(app, department, login_as, tmp_path):
    client, field, signed = _sealed_visit(app, department, login_as)
    text, flat = _pdf(tmp_path, client.get(f"/visits/{field.mine}/record.pdf"), "record.pdf")
    assert _employer(app, field.mine) in flat
    assert RESULT_LABELS["rectification_ordered"] in flat
    assert signed["seal"] in flat
    assert "工资表显示三月工资延迟发放十五天。" in flat
    assert "足额支付拖欠工资" in flat
    assert signed["photos"][0]["sha256"] in flat
    assert "王经理" in flat and "法定代表人" in flat
    assert field.mine in flat


def test_rendering_a_pdf_leaves_the_photo_checks_as_strict(app, department, login_as):
    """Importing WeasyPrint makes Pillow accept truncated images process-wide; the
    documents module puts the setting back, so a truncated photo is still refused."""
    client, field, _signed = _sealed_visit(app, department, login_as)
    assert client.get(f"/visits/{field.mine}/record.pdf").status_code == 200
    whole = jpeg(seed=13)
    response = put_photo(client, new_key(), whole[:len(whole) // 2], field.mine)
    assert response.status_code == 422, response.get_data(as_text=True)


def test_the_notice_and_order_pdfs(app, department, login_as, tmp_path):
    client, field, signed = _sealed_visit(app, department, login_as)
    employer = _employer(app, field.mine)
    _text, flat = _pdf(tmp_path, client.get(f"/visits/{field.mine}/notice.pdf"), "notice.pdf")
    assert employer in flat and field.mine in flat
    with app.app_context():
        bureau = app.config["SETTINGS"].BUREAU_NAME
    assert bureau in flat
    _text, flat = _pdf(tmp_path, client.get(f"/visits/{field.mine}/order.pdf"), "order.pdf")
    assert employer in flat and "足额支付拖欠工资" in flat
    assert "2026-05-01" in flat and signed["seal"] in flat


def test_no_order_no_order_document(app, department, login_as):
    client, field, _signed = _sealed_visit(app, department, login_as, order=False)
    response = client.get(f"/visits/{field.mine}/order.pdf")
    assert response.status_code == 404


def test_a_refusal_record_pdf_shows_the_explanation_and_witnesses(app, department, login_as,
                                                                  tmp_path):
    client, field = setup(app, department, login_as)
    team = team_users(app, field, login_as)
    data, key = jpeg(seed=12), new_key()
    assert put_photo(client, key, data, field.mine).status_code == 201
    body = record(field, category="unreachable", photos=[photo_ref(key, data)],
                  answers=[], refusal={"reason": "nobody_present",
                                       "explanation": "三次敲门无人应答，邻铺称已停业两月。",
                                       "witnesses": [{"name": "邻铺店主赵六"}],
                                       "photos": [key]})
    signed = sign(client, body, [inspector(team[0]), inspector(team[1]),
                                 witness("邻铺店主赵六")])
    assert put_record(client, signed).status_code == 201
    _text, flat = _pdf(tmp_path, client.get(f"/visits/{field.mine}/record.pdf"),
                       "refusal.pdf")
    assert "三次敲门无人应答，邻铺称已停业两月。" in flat and "邻铺店主赵六" in flat
    assert RESULT_LABELS["unreachable"] in flat and signed["seal"] in flat


def test_a_draft_record_is_marked_and_has_no_seal(app, department, login_as, tmp_path):
    client, field = setup(app, department, login_as)
    assert put_record(client, record(field, category="no_problem")).status_code == 201
    text, flat = _pdf(tmp_path, client.get(f"/visits/{field.mine}/record.pdf"), "draft.pdf")
    assert _employer(app, field.mine) in flat
    assert not re.search(r"[0-9a-f]{64}", flat.replace("SHA-256", ""))


def test_who_may_download(app, department, login_as, client):
    member, field, _signed = _sealed_visit(app, department, login_as)
    url = f"/visits/{field.mine}/record.pdf"
    assert member.get(url).status_code == 200
    for role in ("office", "approver", "supervisor"):
        assert login_as(role).get(url).status_code == 200, role
    assert login_as("admin").get(url).status_code == 403
    other = login_as("inspector", username="insp_b")
    link(app, field.other_inspector, "insp_b")
    for path in ("record.pdf", "notice.pdf", "order.pdf", "record"):
        assert other.get(f"/visits/{field.mine}/{path}").status_code == 403, path
    assert member.get("/visits/2099-999999/record.pdf").status_code == 404
    anonymous = client.get(url)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def test_the_record_page(app, department, login_as):
    client, field, signed = _sealed_visit(app, department, login_as)
    response = client.get(f"/visits/{field.mine}/record")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert signed["seal"] in html and _employer(app, field.mine) in html
    assert 'style="' not in html and "<style" not in html
    assert "css/documents.css" in html


def test_voided_signatures_are_shown_to_the_office_not_printed(app, department, login_as,
                                                               tmp_path):
    """A signature that reached the server and then was voided (the record changed and was
    signed again) is kept: the office sees it beside the record, the record does not list it."""
    client, field, signed = _sealed_visit(app, department, login_as)
    team = team_users(app, field, login_as)
    stale = signature_body(field.mine, inspector(team[0]), "f" * 64, strokes(start=70))
    key = new_key()
    assert put_signature(client, key, stale).status_code == 201
    office = login_as("office", username="office_docs")
    html = office.get(f"/visits/{field.mine}/record").get_data(as_text=True)
    assert 'id="unlisted-signatures"' in html and "不在本记录中的签名" in html
    assert "f" * 64 in html
    assert all(s["uuid"] not in html for s in signed["signatures"])  # only the unlisted one
    _text, flat = _pdf(tmp_path, office.get(f"/visits/{field.mine}/record.pdf"), "r.pdf")
    assert "f" * 64 not in flat and "不在本记录中的签名" not in flat


def test_the_public_verification_page(app, department, login_as, client):
    member, field, signed = _sealed_visit(app, department, login_as)
    response = client.get(f"/public/records/{signed['seal']}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert field.mine in html and _employer(app, field.mine) in html
    # genuine, but the result is the bureau's once published: never the on-site category
    # (seed 000 三(九) "经审核批准后再予以公示")
    assert "结果待审核认定" in html and "2026-04-02" in html
    assert RESULT_LABELS["rectification_ordered"] not in html
    # nothing personal: no signer, no notes, no inspectors, no hashes of files
    for secret in ("王经理", "工资表显示", "检查员", signed["photos"][0]["sha256"],
                   signed["signatures"][0]["png_sha256"]):
        assert secret not in html, secret
    assert 'style="' not in html
    for bad in ("0" * 64, "not-a-seal", signed["seal"].upper() + "0"):
        assert client.get(f"/public/records/{bad}").status_code == 404, bad


def test_the_public_page_tells_when_a_record_was_corrected(app, department, login_as, client):
    member, field, signed = _sealed_visit(app, department, login_as)
    team = team_users(app, field, login_as)
    state = member.get(f"/api/v1/field/visits/{field.mine}/record").get_json()
    correction = json.loads(json.dumps(signed))
    correction.update(revision=2, corrects=state["revision_uuid"],
                      correction_reason="整改期限更正", seal=None, signatures=[])
    correction["answers"][0]["order"]["due"] = "2026-05-15"
    sealed = sign(member, correction, [inspector(team[0]), inspector(team[1]),
                                       representative("王经理")])
    assert put_record(member, sealed).status_code == 201
    old = client.get(f"/public/records/{signed['seal']}").get_data(as_text=True)
    assert sealed["seal"] in old                                  # points to the correction
    new = client.get(f"/public/records/{sealed['seal']}").get_data(as_text=True)
    assert field.mine in new
    # the documents show the correction
    pdf = member.get(f"/visits/{field.mine}/order.pdf")
    assert pdf.status_code == 200
