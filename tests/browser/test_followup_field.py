"""A rectification follow-up in the field app, offline (issue 16, docs/followup.md): the demo's
approved results with rectification orders made follow-up visits; inspector1 joins one
(``server_python``), downloads it, loses the network, finds it marked 复查 with the original's
number and only the question found non-compliant, answers it, and the record reaches the
server once back online. Screenshots: the visit list (390x844) and the employer's page."""
from __future__ import annotations

import json

import pytest

OFFLINE_ERRORS = r"ERR_INTERNET_DISCONNECTED|Failed to fetch|net::ERR_FAILED"

JOIN = """
import json, sys
from sqlalchemy import select
from app import app
from inspection.core.models import User
from inspection.directory.models import Inspector
from inspection.draws.models import TeamMember
from inspection.extensions import db
from inspection.fieldwork.common import follow_up_scope
from inspection.fieldwork.models import Visit
with app.app_context():
    follow = db.session.scalar(select(Visit).where(Visit.follows_id.is_not(None))
                               .order_by(Visit.id).limit(1))
    me = db.session.scalar(select(Inspector).join(User, User.id == Inspector.user_id)
                           .where(User.username == "inspector1"))
    if not db.session.scalar(select(TeamMember.id).where(
            TeamMember.visit_id == follow.id, TeamMember.inspector_id == me.id)):
        db.session.add(TeamMember(visit_id=follow.id, inspector_id=me.id,
                                  department_id=me.department_id, is_leader=False,
                                  source="follow_up"))
        db.session.commit()
    follows, scope = follow_up_scope([follow])
    print(json.dumps({"number": follow.number, "follows": follows[follow.id],
                      "scope": scope[follow.id], "employer": follow.employer_id}))
"""


@pytest.fixture
def inspector(phone, live_server, login, watch):
    watch.allow(OFFLINE_ERRORS)
    phone.context.grant_permissions(["geolocation"], origin=live_server)
    phone.context.set_geolocation({"latitude": 36.8166, "longitude": 118.3058, "accuracy": 25})
    login(phone, live_server, "inspector1")
    return phone


def test_a_follow_up_done_offline_in_the_field_app(inspector, live_server, server_python,
                                                   shots, browser, login):
    page, base = inspector, live_server
    made = json.loads(server_python(JOIN).strip().splitlines()[-1])
    number, original = made["number"], made["follows"]
    [(item, questions)] = made["scope"].items()  # the demo's orders: one item
    page.goto(base + "/field/")
    page.wait_for_function(
        "() => navigator.serviceWorker && navigator.serviceWorker.controller !== null")
    card = page.locator(f'article.visit[data-visit="{number}"]')
    card.wait_for()
    assert "复查" in card.inner_text() and original in card.inner_text()
    card.get_by_role("button", name="下载离线包").click()
    card.get_by_role("link", name="开始检查").wait_for()
    card.scroll_into_view_if_needed()
    page.screenshot(path="/tmp/shots/followup-field-visits.png")

    page.context.set_offline(True)
    page.reload()
    page.wait_for_selector(f'article.visit[data-visit="{number}"]')
    assert page.locator("#net").inner_text() == "离线"
    card = page.locator(f'article.visit[data-visit="{number}"]')
    card.get_by_role("link", name="开始检查").click()
    page.wait_for_selector("#follow-up")
    assert original in page.inner_text("#follow-up")
    shots(page, "followup-field-visit")
    # only the item and the questions found non-compliant are in the checklist
    assert page.locator("a.item-link").count() == 1
    page.locator(f'a.item-link[href$="/item/{item}"]').click()
    page.wait_for_selector(f'fieldset[data-question="{questions[0]}"]')
    shown = page.eval_on_selector_all("fieldset[data-question]",
                                      "els => els.map(e => e.dataset.question)")
    assert shown == questions
    for q in questions:
        page.locator(f'fieldset[data-question="{q}"] label.choice.compliant').click()
    page.goto(f"{base}/field/#/visit/{number}")
    page.wait_for_selector("#result")
    page.select_option("#result", "no_problem")
    page.wait_for_selector("p.saved:has-text('第')")

    page.context.set_offline(False)
    page.get_by_role("button", name="同步").click()
    page.goto(page.url.split("#")[0] + "#/outbox")
    page.wait_for_function(
        """() => { const e = [...document.querySelectorAll('li.entry')];
                   return e.length > 0 && e.every(x => x.dataset.status === 'sent'); }""",
        timeout=20_000, polling=250)
    state = page.request.get(f"{base}/api/v1/field/visits/{number}/record").json()
    assert [a["question"] for a in state["body"]["answers"]] == questions
    assert {a["answer"] for a in state["body"]["answers"]} == {"compliant"}

    # the employer's page: the follow-up and its original in the history
    office = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN",
                                 timezone_id="Asia/Shanghai").new_page()
    login(office, base, "office")
    office.goto(f"{base}/employers/{made['employer']}")
    history = office.locator("#employer-history")
    assert number in history.inner_text() and original in history.inner_text()
    shots(office, "followup-employer")
    office.context.close()
