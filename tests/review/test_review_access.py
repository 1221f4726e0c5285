"""Who reaches the review pages and API: anonymous users are sent to sign in (401 under
/api), and each role reaches exactly what it may (the office acts, approvers decide,
supervisors and administrators read). Walks every route of the two blueprints, so a new
route must be added to the table below."""
from __future__ import annotations

import re

import pytest
from werkzeug.routing.converters import NumberConverter

R, O, A, S, ADMIN = "inspector", "office", "approver", "supervisor", "admin"
READ = {O, A, S, ADMIN}

#: endpoint → roles allowed (every other role: 403)
EXPECTED = {
    "review.queue": READ, "review.visit": READ, "review.feedback_letter": READ,
    "review.approvals": {A},
    "review.return_record": {O}, "review.propose": {O}, "review.publish": {O},
    "review.propose_exception": {O}, "review.record_feedback": {O},
    "review.feedback_proof": {O}, "review.enter_objection": {O},
    "review.propose_correction": {O},
    "review.decide_determination": {A}, "review.decide_exception": {A},
    "review.decide_correction": {A}, "review.decide_objection": {O, A},
    "review_api.Queue": READ, "review_api.VisitState": READ, "review_api.FeedbackLetter": READ,
    "review_api.Approvals": {A},
    "review_api.Return": {O}, "review_api.Determinations": {O}, "review_api.Publish": {O},
    "review_api.Exceptions": {O}, "review_api.FeedbackRecord": {O},
    "review_api.Objections": {O}, "review_api.Corrections": {O},
    "review_api.DeterminationDecision": {A}, "review_api.ExceptionDecision": {A},
    "review_api.CorrectionDecision": {A}, "review_api.ObjectionDecision": {O, A},
}


def _routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] not in ("review", "review_api"):
            continue
        url = rule.rule
        for arg in rule.arguments:
            value = "1" if isinstance(rule._converters[arg], NumberConverter) else "2026-999999"
            url = re.sub(r"<[^>]*\b" + arg + r">", value, url)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, method, url


def test_the_table_covers_every_route(app):
    assert {endpoint for endpoint, _m, _u in _routes(app)} == set(EXPECTED)


def test_anonymous_users_are_sent_to_sign_in(app, client):
    token = client.token("/login")
    for endpoint, method, url in _routes(app):
        response = client.http.open(url, method=method, headers={"X-CSRFToken": token},
                                    data={"csrf_token": token})
        if url.startswith("/api/"):
            assert response.status_code == 401, (endpoint, method)
        else:
            assert response.status_code == 302, (endpoint, method)
            assert response.headers["Location"].startswith("/login"), endpoint


@pytest.mark.parametrize("role", [R, O, A, S, ADMIN])
def test_each_role_reaches_exactly_its_routes(app, login_as, role):
    c = login_as(role)
    token = c.token("/")
    for endpoint, method, url in _routes(app):
        if url.startswith("/api/"):
            response = c.api(method, url, json={} if method == "POST" else None)
        else:
            response = c.http.open(url, method=method, data={"csrf_token": token})
        if role in EXPECTED[endpoint]:
            # let in: the visit or row does not exist, or the empty body is not valid
            assert response.status_code in (200, 404, 409, 422), (role, endpoint,
                                                                   response.status_code)
        else:
            assert response.status_code == 403, (role, endpoint, response.status_code)
