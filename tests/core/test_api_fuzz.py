"""Schemathesis over the whole API description (/api/v1/openapi.json), in process (the WSGI
app, no server), anonymous and signed in as each role, on a small bureau whose target and
team draws are made: no answer is a 5xx, and every answer has a documented status, the
documented content type and a body that matches its documented schema.

Deterministic: a fixed seed (Hypothesis derandomized, no example database), stored examples
(valid requests of the main acts, :func:`stored_examples`), and the ids of the bureau's rows
mixed into the generated path parameters so that operations reach past "no such object".
Run it alone with::

    .venv/bin/python -m pytest tests/core/test_api_fuzz.py
"""
from __future__ import annotations

import random
import re

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation.hypothesis.builder import (HypothesisTestConfig, HypothesisTestMode,
                                                        create_test)
from schemathesis.specs.openapi.checks import (content_type_conformance,
                                               response_schema_conformance,
                                               status_code_conformance)
from sqlalchemy import text

from inspection.core.access import LOGIN, PUBLIC, access_of
from inspection.directory import credit_code as cc
from inspection.extensions import db

from field_support import drawn, link
from helpers import Client

SEED = 20260401
#: Generated cases per operation and identity (the stored examples come on top).
MAX_EXAMPLES = 10
#: ... and for an operation the identity may not reach: it answers 401 or 403 before it
#: reads anything, so a few cases check that answer.
MAX_EXAMPLES_REFUSED = 3
ROLES = [None, "admin", "office", "approver", "inspector", "supervisor"]
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]

HUGE_TEXT = "99999999999999999999"
#: Path parameters by name, and the column whose values are real ones.
KNOWN = {
    "plan_id": ("annual_plan", "id"), "year": ("annual_plan", "year"),
    "task_id": ("task", "id"), "draw_id": ("draw", "id"), "number": ("visit", "number"),
    "code": ("employer", "credit_code"), "inspector_id": ("inspector", "id"),
    "conflict_id": ("inspector_conflict", "id"), "item_id": ("check_item", "id"),
    "version_id": ("check_item_version", "id"), "member_id": ("team_member", "id"),
    "substitution_id": ("substitution", "id"), "determination_id": ("determination", "id"),
    "exception_id": ("publication_exception", "id"), "objection_id": ("objection", "id"),
    "correction_id": ("correction", "id"),
}
#: The values of the current test's bureau (read by the hooks below).
_values: dict[str, list] = {}


def stored_examples(v: dict[str, list]) -> dict[str, list[dict]]:
    """Valid requests, by operation, on the bureau's rows: sent before the generated ones, so
    that every run goes through the main acts (draft, revise, publish, declare, ask ...)
    and not only their refusals."""
    dept, plan, year = v["department_id"][0], v["plan_id"][0], v["year"][0]
    employer, visit, item = v["code"][0], v["mine"][0], v["item_id"][0]
    code = cc.random_code(random.Random(SEED))
    item_body = {
        "code": "FZ-01", "name": "模糊测试检查事项", "legal_basis": "《劳动保障监察条例》第十一条",
        "content": "检查工资支付。", "department_id": dept, "target_types": ["enterprise"],
        "method": "on_site", "kind": "general", "ratio": "0.05", "frequency": 1,
        "questions": [{"text": "是否按月支付工资？", "legal_basis": "《劳动法》第五十条",
                       "evidence_hint": "工资表"}]}
    return {
        "PATCH /api/v1/me": [{"body": {"locale": "en"}}, {"body": {"locale": "zh_CN"}}],
        "GET /api/v1/audit": [{"query": {"limit": 5}}],
        "GET /api/v1/employers": [{"query": {"risk_grade": "B", "limit": 2}}],
        "POST /api/v1/employers": [{"body": {
            "credit_code": code, "name": "淄博模糊测试机械有限公司", "employer_type": "enterprise",
            "address": "临淄区桓公路8号", "region_code": "370305001", "industry": "C",
            "employees": 30, "risk_grade": "B", "status": "active"}}],
        "POST /api/v1/inspectors": [{"body": {
            "name": "模糊测试员", "department_id": dept, "cert_kind": "labour_inspector",
            "cert_number": "FZ00001", "cert_expires": "2030-12-31"}}, {"body": {
            "name": "模糊测试员乙", "department": "LSJC", "cert_kind": "law_enforcement",
            "cert_number": "FZ00002", "cert_expires": "2030-12-31"}}],
        "POST /api/v1/inspectors/{inspector_id}/conflicts": [{
            "path": {"inspector_id": v["inspector_id"][0]},
            "body": {"credit_code": employer, "relation": "relative", "note": "表亲"}}],
        "POST /api/v1/catalogue/items": [{"body": item_body}],
        "PUT /api/v1/catalogue/items/{item_id}": [{
            "path": {"item_id": item}, "body": {"frequency": 2, "change_note": "每年两次"}}],
        "POST /api/v1/catalogue/publications": [{"body": {"note": "年中调整"}}],
        "GET /api/v1/plans": [{"query": {"year": year}}],
        "POST /api/v1/plans": [{"body": {
            "year": year + 1, "title": "下一年度抽查计划", "scope": "辖区内用人单位"}}],
        "POST /api/v1/plans/{plan_id}/revise": [{
            "path": {"plan_id": plan}, "body": {"change_note": "年中调整"}}],
        "GET /api/v1/tasks": [{"query": {"year": year, "page": 1, "per_page": 5}}],
        "POST /api/v1/tasks": [{"body": {
            "plan_id": plan, "name": "模糊测试专项", "lead_department_id": dept,
            "item_ids": [item], "method": "on_site", "window_start": f"{year}-11-01",
            "window_end": f"{year}-11-30"}}],
        "POST /api/v1/teams/members/{member_id}/substitutions": [{
            "path": {"member_id": v["member_id"][0]},
            "body": {"reason": "health", "note": "住院"}}],
        "GET /api/v1/field/visits/{number}/pack": [{"path": {"number": visit}}],
        "GET /api/v1/field/visits/{number}/record": [{"path": {"number": visit}}],
        "GET /api/v1/review/visits/{number}": [{"path": {"number": visit}}],
        "POST /api/v1/review/objections": [{"body": {
            "visit": visit, "credit_code": employer, "contact": "0533-7123456",
            "text": "检查结果与事实不符。"}}],
    }


@pytest.fixture(scope="module")
def schema(app):
    config = schemathesis.Config.from_dict({
        "seed": SEED,
        "generation": {"mode": "all", "max-examples": MAX_EXAMPLES, "deterministic": True,
                       "database": "none"},
        "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
    })
    loaded = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=config)

    @loaded.hook
    def flatmap_path_parameters(context, parameters):
        """Half the time, the path names rows that exist."""
        real = {name: st.sampled_from(_values[name]) for name in parameters or ()
                if _values.get(name)}
        if not real:
            return st.just(parameters)
        return st.one_of(st.just(parameters),
                         st.fixed_dictionaries(real).map(lambda ids: {**parameters, **ids}))

    @loaded.hook
    def flatmap_query(context, query):
        return _with_huge_text(query)

    @loaded.hook
    def flatmap_body(context, body):
        return _with_huge_text(body)

    @loaded.hook
    def before_add_examples(context, examples):
        """The stored examples, and each again with one of its text values a huge number."""
        operation = context.operation
        for parts in stored_examples(_values).get(operation.label, ()):
            variants = [parts] + [
                {**parts, where: {**parts[where], key: HUGE_TEXT}}
                for where in ("query", "body") for key, value in parts.get(where, {}).items()
                if isinstance(value, str)]
            for variant in variants:
                extra = {"body": variant["body"], "media_type": "application/json"} \
                    if "body" in variant else {}
                examples.append(operation.Case(path_parameters=variant.get("path"),
                                               query=variant.get("query"), **extra))

    return loaded


def _with_huge_text(values):
    """Sometimes one text value of the query or body is a number beyond what the database
    holds: text fields that also take an id (a department by id, code or name ...) must not
    pass it to the database as a number. Random text hardly ever looks like one."""
    keys = sorted(k for k, v in values.items() if isinstance(v, str)) \
        if isinstance(values, dict) else []
    if not keys:
        return st.just(values)
    return st.one_of(st.just(values),
                     st.sampled_from(keys).map(lambda key: {**values, key: HUGE_TEXT}))


def _known_values(app) -> dict[str, list]:
    with app.app_context():
        return {name: [row[0] for row in db.session.execute(text(
                    f'SELECT DISTINCT "{column}" FROM "{table}" ORDER BY 1 LIMIT 20'))]
                for name, (table, column) in KNOWN.items()}


def _access_marks(app) -> dict[tuple[str, str], object]:
    """The access mark (``core.access``) of every API operation, by (METHOD, /path/{name})."""
    marks = {}
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if not rule.rule.startswith("/api/"):
                continue
            path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                marks[(method, path)] = access_of(rule.endpoint, method)
    return marks


def _reaches(mark, role: str | None) -> bool:
    if mark == PUBLIC:
        return True
    if role is None or mark is None:
        return False
    return mark == LOGIN or role in mark


def _sign_in(app, make_user, role, field) -> tuple[dict, dict]:
    """(cookies, headers) of a user holding ``role``; none for the anonymous caller."""
    if role is None:
        return {}, {}
    name = f"fuzz_{role}"
    make_user(name, role)
    if role == "inspector":
        link(app, field.my_inspector, name)
    client = Client(app)
    assert client.login(name).status_code == 302
    token = client.api_token()
    cookie = client.http.get_cookie("inspection_session")
    return {cookie.key: cookie.value}, {"X-CSRFToken": token}


def _describe(case, response, error) -> str:
    body = repr(case.body)[:300] if case.body is not None else ""
    title = getattr(error, "title", type(error).__name__)
    message = str(getattr(error, "message", error)).strip()[:800]
    return (f"{case.method} {case.formatted_path} query={case.query} body={body}\n"
            f"  -> {response.status_code} {response.text[:300]}\n  {title}: {message}")


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r or "anonymous")
def test_every_operation_answers_as_documented(app, department, make_user, schema, role):
    with app.app_context():
        field = drawn(department)
    _values.clear()
    _values.update(_known_values(app), department_id=[department], mine=[field.mine])
    cookies, headers = _sign_in(app, make_user, role, field)
    marks = _access_marks(app)
    failures: dict[tuple, str] = {}

    for result in schema.get_all_operations():
        operation = result.ok()
        reaches = _reaches(marks[(operation.method.upper(), operation.path)], role)
        settings = hypothesis.settings(
            max_examples=MAX_EXAMPLES if reaches else MAX_EXAMPLES_REFUSED, derandomize=True,
            database=None, deadline=None, phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck), verbosity=hypothesis.Verbosity.quiet)

        def call(case):
            response = case.call(headers=dict(headers), cookies=dict(cookies))
            try:
                case.validate_response(response, checks=CHECKS)
            except BaseExceptionGroup as group:
                for error in group.exceptions:
                    key = (operation.label, getattr(error, "title", ""), response.status_code)
                    failures.setdefault(key, _describe(case, response, error))
            except AssertionError as error:
                key = (operation.label, getattr(error, "title", ""), response.status_code)
                failures.setdefault(key, _describe(case, response, error))

        # What `schema.parametrize()` builds for each operation, called here so that one test
        # per identity runs every operation on one bureau (each test empties the database).
        test = create_test(operation=operation, test_func=call, config=HypothesisTestConfig(
            project=schema.config, settings=settings, seed=SEED,
            modes=[HypothesisTestMode.EXAMPLES, HypothesisTestMode.FUZZING]))
        test()

    assert not failures, f"{len(failures)} finding(s) as {role or 'anonymous'}:\n\n" + \
        "\n\n".join(failures.values())
