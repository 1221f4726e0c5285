"""Deny by default: every endpoint outside the allow-list refuses an anonymous user, and the
role matrix holds. The tests walk app.url_map, so a new view is covered the day it is added."""
import re

import pytest
from werkzeug.routing.converters import NumberConverter

from inspection.core.access import LOGIN, PUBLIC, access_of
from inspection.core.models import Role

#: The explicit allow-list. Widening it is a decision: change this set on purpose.
ALLOWED_ANONYMOUS = {
    "static",
    "api-docs.openapi_json",
    "core.login",
    "core.healthz",
    "core.set_language",
    # The public record of a draw: anyone can download and re-run it (issue 4).
    "public_draws.show",
    "public_draws.record",
    "public_draws.pool",
    "public_draws.verifier",
    "public_draws.engine",
    "public_draws.assigner",
    "public_draws.log_checker",
    # The public log of draws: checkpoint, tiles, entries, and the witness to run on them.
    "public_log.index",
    "public_log.checkpoint",
    "public_log.tile",
    "public_log.entries",
    "public_log.witness_source",
    "public_log.tlog_source",
    # The field app's manifest and service worker carry no data; browsers fetch them
    # without cookies at times (issue 5).
    "field.manifest",
    "field.service_worker",
    # Verification of a sealed inspection record by its seal (the QR code on the record):
    # only what the public regime publishes (issue 6).
    "public_records.show",
    # The published results (公示) and the objection form on a result (issue: after the visit).
    "public_results.results",
    "public_results.results_json",
    "public_results.show",
    "public_results.objection",
    # The public portal (一公开): the catalogue as published, published plans, approved tasks,
    # every draw's commitment, the results as CSV; each list also as JSON (docs/portal.md).
    "portal.home",
    "portal.catalogue",
    "portal.catalogue_json",
    "portal.catalogue_item",
    "portal.catalogue_item_json",
    "portal.plans",
    "portal.plans_json",
    "portal.plan",
    "portal.plan_json",
    "portal.tasks",
    "portal.tasks_json",
    "portal.task",
    "portal.task_json",
    "portal.draws",
    "portal.draws_json",
    "portal.results_csv",
}

#: Protected endpoints that send a visitor who is not signed in to a public page rather than
#: to the sign-in page: the front door of the site leads the public to the portal.
FRONT_DOORS = {"/": "/public/"}


def _rules(app):
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def _url(rule) -> str:
    url = rule.rule
    for arg in rule.arguments:
        value = "1" if isinstance(rule._converters[arg], NumberConverter) else "x"
        url = re.sub(r"<[^>]*\b" + arg + r">", value, url)
    return url


def _marks(app):
    with app.test_request_context():
        return {(r.endpoint, m): access_of(r.endpoint, m) for r, m in _rules(app)}


def test_every_endpoint_declares_who_may_use_it(app):
    missing = [key for key, mark in _marks(app).items() if mark is None]
    assert not missing, f"endpoints without an access rule: {missing}"


def test_allow_list_is_exactly_the_expected_one(app):
    public = {endpoint for (endpoint, _), mark in _marks(app).items() if mark == PUBLIC}
    assert public == ALLOWED_ANONYMOUS


def test_every_protected_endpoint_refuses_anonymous(app, client):
    token = client.token("/login")
    checked = 0
    for rule, method in _rules(app):
        if rule.endpoint in ALLOWED_ANONYMOUS:
            continue
        url = _url(rule)
        response = client.http.open(url, method=method, headers={"X-CSRFToken": token},
                                    data={"csrf_token": token})
        if url.startswith("/api/"):
            assert response.status_code == 401, (method, url, response.status_code)
            assert response.get_json()["error"]["code"] == "unauthorized"
        else:
            assert response.status_code == 302, (method, url, response.status_code)
            assert response.headers["Location"].startswith(FRONT_DOORS.get(url, "/login"))
        checked += 1
    assert checked >= 10


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_role_matrix(app, login_as, role):
    """A user holding one role gets 403 exactly where the endpoint's rule excludes the role."""
    c = login_as(role)
    token = c.token("/")
    marks = _marks(app)
    for rule, method in _rules(app):
        mark = marks[(rule.endpoint, method)]
        if mark in (PUBLIC, LOGIN) or method != "GET":
            continue
        response = c.http.open(_url(rule), method=method, headers={"X-CSRFToken": token})
        if role in mark:
            assert response.status_code != 403, (role, rule.rule)
        else:
            assert response.status_code == 403, (role, rule.rule, response.status_code)


def test_inspector_cannot_reach_office_pages(login_as):
    c = login_as("inspector")
    for path in ("/admin/users", "/admin/departments", "/audit", "/api/v1/audit"):
        assert c.get(path).status_code == 403, path


def test_supervisor_reads_the_audit_trail_but_not_accounts(login_as):
    c = login_as("supervisor")
    assert c.get("/audit").status_code == 200
    assert c.get("/api/v1/audit").status_code == 200
    assert c.get("/admin/users").status_code == 403
