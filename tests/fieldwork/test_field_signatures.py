"""Signature uploads over HTTP (issue 6): idempotency, conflicts, hash checks, empty and
near-empty signatures, SVG safety, signers, scope."""
import base64

from sqlalchemy import func, select

from inspection.core import storage
from inspection.core.models import AuditEntry
from inspection.extensions import db
from inspection.fieldwork import seal, signing
from inspection.fieldwork.models import RecordSignature

from field_support import link, new_key, record, setup
from seal_support import (inspector, png_of, put_signature, representative, sha,
                          signature_body, strokes, svg_of, team_users)

SIGNS = "ab" * 32


def _error(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()["error"]


def _count(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(RecordSignature))


def test_signature_upload_is_idempotent_and_stores_the_three_files(app, department,
                                                                   login_as):
    client, field = setup(app, department, login_as)
    key, body = new_key(), signature_body(field.mine, representative(), SIGNS)
    first = put_signature(client, key, body)
    assert first.status_code == 201, first.get_json()
    receipt = first.get_json()
    assert receipt["key"] == key and receipt["kind"] == "signature"
    assert receipt["sha256"] == sha(seal.canonical(body))
    assert receipt["signs"] == SIGNS and receipt["png_sha256"] == body["png_sha256"]
    again = put_signature(client, key, body)
    assert again.status_code == 200 and again.get_json() == receipt
    assert _count(app) == 1
    with app.app_context():
        row = db.session.scalar(select(RecordSignature))
        assert (row.signer_kind, row.signer_name, row.signer_role) == (
            "representative", "王经理", "legal_representative")
        assert row.points == 60 and row.length > 200 and row.box_width > 200
        area = signing.AREA_SIGNATURES
        assert storage.read(area, body["png_sha256"]) == base64.b64decode(body["png"])
        assert storage.read(area, body["svg_sha256"]) == body["svg"].encode()
        assert storage.read(area, body["strokes_sha256"]) == seal.canonical(body["strokes"])
        assert db.session.scalar(select(func.count(AuditEntry.seq)).where(
            AuditEntry.action == "field.signature")) == 1


def test_another_body_under_the_same_key_is_a_conflict(app, department, login_as):
    client, field = setup(app, department, login_as)
    key = new_key()
    assert put_signature(client, key, signature_body(
        field.mine, representative(), SIGNS)).status_code == 201
    other = signature_body(field.mine, representative(), SIGNS, strokes(start=60))
    assert _error(put_signature(client, key, other), 409)["code"] == "conflict"
    renamed = signature_body(field.mine, representative("李四"), SIGNS)
    assert _error(put_signature(client, key, renamed), 409)["code"] == "conflict"
    assert _count(app) == 1


def test_each_hash_must_match_its_file(app, department, login_as):
    client, field = setup(app, department, login_as)
    good = signature_body(field.mine, representative(), SIGNS)
    for name in ("png_sha256", "svg_sha256", "strokes_sha256"):
        error = _error(put_signature(client, new_key(), dict(good, **{name: "cd" * 32})), 422)
        assert name in error["fields"], error
    # a point moved after the hash was taken
    moved = [dict(s, points=[dict(p) for p in s["points"]]) for s in good["strokes"]]
    moved[0]["points"][3]["x"] += 1
    error = _error(put_signature(client, new_key(), dict(good, strokes=moved)), 422)
    assert "strokes_sha256" in error["fields"]
    error = _error(put_signature(client, new_key(), dict(good, png="not base64!")), 422)
    assert "png" in error["fields"]
    assert _count(app) == 0


def test_empty_and_near_empty_signatures_are_refused(app, department, login_as):
    client, field = setup(app, department, login_as)
    tap = [{"points": [{"x": 100, "y": 50, "time": 1}]}]
    few = strokes(points=2)                                    # 4 points
    short = strokes(width=20, height=6)                        # 60 points, a scribble
    flat = strokes(height=0)                                   # a straight line
    for data in (tap, few, short, flat):
        body = signature_body(field.mine, representative(), SIGNS, data)
        error = _error(put_signature(client, new_key(), body), 422)
        assert "strokes" in error["fields"], (data, error)
    # the strokes look fine but the image is blank
    blank = signature_body(field.mine, representative(), SIGNS,
                           png=png_of(strokes(), ink=False))
    assert "png" in _error(put_signature(client, new_key(), blank), 422)["fields"]
    # time going backwards inside a stroke
    backwards = strokes()
    backwards[0]["points"][5]["time"] = 0
    body = signature_body(field.mine, representative(), SIGNS, backwards)
    assert "strokes.0" in _error(put_signature(client, new_key(), body), 422)["fields"]
    # no strokes at all
    body = signature_body(field.mine, representative(), SIGNS)
    assert "strokes" in _error(put_signature(client, new_key(), dict(body, strokes=[])),
                               422)["fields"]
    assert _count(app) == 0


def test_an_svg_with_scripts_or_links_is_refused(app, department, login_as):
    client, field = setup(app, department, login_as)
    data = strokes()
    clean = svg_of(data)
    for bad in (clean.replace("</svg>", "<script>alert(1)</script></svg>"),
                clean.replace("<path ", '<path onclick="x()" ', 1),
                clean.replace("</svg>", '<image href="http://x/y.png"/></svg>'),
                '<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "b">]>' + clean,
                '<?xml-stylesheet type="text/css" href="http://x/s.css"?>' + clean,
                '<?xml version="1.0"?><?xml-stylesheet href="s.xsl"?>' + clean,
                clean.replace("</svg>", "<?php echo 1; ?></svg>"),
                "<html/>", "not xml"):
        body = signature_body(field.mine, representative(), SIGNS, data, svg=bad)
        assert "svg" in _error(put_signature(client, new_key(), body), 422)["fields"], bad
    assert _count(app) == 0
    # The XML declaration alone is fine.
    body = signature_body(field.mine, representative(), SIGNS, data,
                          svg='<?xml version="1.0" encoding="UTF-8"?>' + clean)
    assert put_signature(client, new_key(), body).status_code == 201


def test_signers(app, department, login_as):
    client, field = setup(app, department, login_as)
    team = team_users(app, field, login_as)
    assert len(team) >= 2
    # a team member signs as an inspector (on my phone), by their account
    body = signature_body(field.mine, inspector(team[1]), SIGNS)
    assert put_signature(client, new_key(), body).status_code == 201
    # an account not on the team cannot sign as an inspector of this visit
    outsider = login_as("inspector", username="insp_out")
    with app.app_context():
        from inspection.core.models import User
        out_id = db.session.scalar(select(User.id).where(User.username == "insp_out"))
    body = signature_body(field.mine, inspector(out_id), SIGNS)
    assert "signer.user_id" in _error(put_signature(client, new_key(), body), 422)["fields"]
    # incomplete signers
    for signer, field_name in (({"kind": "inspector"}, "signer.user_id"),
                               ({"kind": "representative", "name": "王"}, "signer.role"),
                               ({"kind": "representative", "role": "delegate"}, "signer.name"),
                               ({"kind": "witness", "name": " "}, "signer.name"),
                               ({"kind": "boss", "name": "x"}, "signer.kind"),
                               (representative(role="manager"), "signer.role")):
        body = signature_body(field.mine, signer, SIGNS)
        error = _error(put_signature(client, new_key(), body), 422)
        assert field_name in error["fields"], (signer, error)
    assert outsider is not None


def test_permissions(app, department, login_as, client):
    inspector_client, field = setup(app, department, login_as)
    body = signature_body(field.mine, representative(), SIGNS)
    other = login_as("inspector", username="insp_b")
    link(app, field.other_inspector, "insp_b")
    assert _error(put_signature(other, new_key(), body), 404)["code"] == "not_found"
    assert _error(put_signature(inspector_client, new_key(),
                                dict(body, visit=field.others[0])), 404)
    office = login_as("office")
    assert _error(put_signature(office, new_key(), body), 403)["code"] == "forbidden"
    anonymous = client.http.put(f"/api/v1/field/signatures/{new_key()}", json=body)
    assert anonymous.status_code in (400, 401)
    assert "key" in _error(put_signature(inspector_client, "NOT-A-UUID", body), 422)["fields"]
    assert _count(app) == 0


def test_too_large_is_refused_before_reading(app, department, login_as):
    client, field = setup(app, department, login_as)
    body = signature_body(field.mine, representative(), SIGNS)
    body["svg"] = body["svg"] + " " * (signing.MAX_SIGNATURE_BYTES + 10)
    response = put_signature(client, new_key(), body)
    assert response.status_code == 413, response.get_data(as_text=True)
    assert record(field)  # the helpers still build records (no state left behind)


def test_the_openapi_description_lists_the_upload(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    put = spec["paths"]["/api/v1/field/signatures/{key}"]["put"]
    assert {"200", "201", "409", "413", "422"} <= set(put["responses"])
    assert "requestBody" in put
