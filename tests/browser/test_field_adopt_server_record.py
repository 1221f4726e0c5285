"""A phone that does not hold a visit's sealed record adopts the server's (docs/field-sync.md
"A record made on another device").

The demo's returned visit of inspector1 was recorded server-side (as another phone would have
sent it): inspector1's fresh phone downloads it and, instead of an empty draft, gets the sealed
record, locked, with the office's comments and its signatures listed ("在其他设备上签名").
"开始更正" works from it: the correction names the server's sealed revision, goes on from its
revision, is signed again by both inspectors and the representative, sealed and sent, and the
visit goes back to the office. Without the network the phone says where the record is instead
of offering an empty draft. A record whose photos are only on the server is corrected without
the phone ever trying to upload them: the correction lists them as the server listed them.
"""
from __future__ import annotations

import json

from field_sign_support import device, server_counts, viewshot, wait_all_sent
from test_field_correction_lock import snap
from test_field_offline import open_field
from test_field_signing import (PHONE, download, make_page,  # noqa: F401 (fixture)
                                seal_and_send, sign)

RETURNED = """
import json
from sqlalchemy import select
from app import app
from inspection.extensions import db
from inspection.core.models import User
from inspection.directory.models import Inspector
from inspection.draws.models import TeamMember
from inspection.fieldwork.models import ReviewReturn, Visit
from inspection.fieldwork import operations as ops
with app.app_context():
    me = db.session.scalar(select(User).where(User.username == "inspector1"))
    mine = db.session.scalar(select(Inspector).where(Inspector.user_id == me.id))
    visit = db.session.scalar(select(Visit).join(TeamMember, TeamMember.visit_id == Visit.id).where(
        Visit.status == "returned", TeamMember.inspector_id == mine.id,
        TeamMember.replaced_at.is_(None)).order_by(Visit.number).limit(1))
    state = ops.record_state(visit)
    back = db.session.scalar(select(ReviewReturn).where(ReviewReturn.visit_id == visit.id,
                                                        ReviewReturn.resolved_at.is_(None)))
    print(json.dumps({"number": visit.number, "key": state["revision_uuid"],
                      "sealed": state["sealed_revision_uuid"], "record_id": state["record_id"],
                      "revision": state["revision"], "comments": back.comments,
                      "item_comments": back.item_comments}))
"""

STATE = """
import json, sys
from sqlalchemy import select
from app import app
from inspection.extensions import db
from inspection.fieldwork.models import RecordRevision, ReviewReturn, Visit
from inspection.fieldwork import operations as ops
with app.app_context():
    visit = db.session.scalar(select(Visit).where(Visit.number == sys.argv[1]))
    state = ops.record_state(visit)
    returns = db.session.scalars(select(ReviewReturn).where(ReviewReturn.visit_id == visit.id)).all()
    print(json.dumps({"status": visit.status, "resolved": [r.resolved_at is not None for r in returns],
                      "state": state}))
"""

#: A sealed record with an evidence photo, made server-side on another visit of inspector1
#: (as another phone would have sent it: the demo's send_record), left in `recorded`.
SEALED_WITH_PHOTO = """
import json, sys
from sqlalchemy import select
from app import app
from inspection.planning.operations import local_today
from inspection.extensions import db
from inspection.fieldwork.models import Visit
from inspection.fieldwork import operations as ops
from inspection.review.demo import Problem, Story, send_record
with app.app_context():
    visit = db.session.scalar(select(Visit).where(Visit.number == sys.argv[1]))
    if ops.record_state(visit)["seal"] is None:
        story = Story("recorded", 1, "rectification_ordered", (
            Problem("LR-06-01", "工资发放表显示10月工资迟发。", 15, "限期补发10月工资。"),))
        send_record(visit, story, local_today())
    state = ops.record_state(visit)
    print(json.dumps({"status": db.session.get(Visit, visit.id).status, "state": state}))
"""


def last_json(text: str) -> dict:
    return json.loads(text.strip().splitlines()[-1])


def open_visit(page, base, number):
    page.goto(f"{base}/field/#/visit/{number}")


def test_returned_record_of_another_device_adopted_corrected_and_sealed(make_page, live_server,
                                                                        server_python):
    page, base = make_page(PHONE), live_server
    demo = last_json(server_python(RETURNED))
    number = demo["number"]
    assert demo["key"] == demo["sealed"]  # the server's current record is the sealed one
    open_field(page, base)
    card = page.locator(f'article.visit[data-visit="{number}"]')
    card.locator(".returned-tag:has-text('退回修改')").wait_for()
    pack = download(page, base, number)  # the record comes with the pack
    me = next(m for m in pack["team"] if m["is_me"])
    other = next(m for m in pack["team"] if not m["is_me"])
    records = device(page, number)["records"]
    assert len(records) == 1 and records[0]["seal"] and records[0]["sealed_key"] == demo["key"]
    assert records[0]["record_id"] == demo["record_id"] and records[0]["revision"] == demo["revision"]
    assert device(page, number)["outbox"] == []  # nothing to send: it is the server's

    # the visit: the office's comments first, then the sealed record, locked, answered
    card.get_by_role("link", name="开始检查").click()
    review = page.locator("#review-returned")
    review.wait_for()
    assert demo["comments"] in review.inner_text()
    assert demo["item_comments"][0]["comment"] in review.inner_text()
    locked = page.locator("#record-locked")
    assert "已签名封存，记录已锁定" in locked.inner_text()
    assert "从服务器下载" in locked.inner_text()
    assert page.locator("#result").is_disabled()
    assert page.locator("#result").input_value() == "no_problem"
    assert page.locator("#server-record").count() == 0
    progress = page.locator("ul.items .progress").all_inner_texts()
    assert progress and all(p.split("/")[0] == p.split("/")[1].split()[0] for p in progress), progress
    assert page.locator("label[for=camera-visit]").count() == 0  # no photo can be added
    page.evaluate("window.scrollTo(0, 0)")
    snap(page, "field-adopted-returned-visit")

    # the checklist: the answers as sealed, read-only, the office's comment beside its question
    comment = demo["item_comments"][0]
    page.goto(f"{base}/field/#/visit/{number}/item/{comment['item']}")
    block = page.locator(f'fieldset[data-question="{comment["question"]}"]')
    block.locator(".office-comment").wait_for()
    assert block.locator("input[value=compliant]").is_checked()
    assert block.locator("input[value=not_applicable]").is_disabled()
    page.locator("#record-locked").wait_for()
    page.evaluate("window.scrollTo(0, 0)")
    viewshot(page, "field-adopted-locked-record")
    block.scroll_into_view_if_needed()
    viewshot(page, "field-adopted-locked-answers")

    # the record: its signatures, made on another device (no pictures on this phone)
    page.goto(f"{base}/field/#/visit/{number}/record")
    figures = page.locator("figure.sig-figure")
    figures.first.wait_for()
    assert figures.count() == 3
    assert page.locator("figure.sig-figure.elsewhere .sig-elsewhere:has-text('在其他设备上签名')").count() == 3
    assert "不适用" in page.locator("section.summary-doc").inner_text()
    figures.first.scroll_into_view_if_needed()
    viewshot(page, "field-adopted-signatures")

    # "开始更正": the signatures it voids are those of the server's record
    open_visit(page, base, number)
    page.click("#start-correction")
    page.locator("#correction-dialog").wait_for()
    voids = page.locator("#correction-voids").inner_text()
    for name in (f"{me['name']}（检查人员）", f"{other['name']}（检查人员）", "（法定代表人）"):
        assert name in voids, voids
    page.fill("#correction-start-reason", "按审核意见：LR-02-03 现场核实为“符合”。")
    page.click("#correction-confirm")
    page.locator("#record-locked").wait_for(state="detached")
    page.wait_for_selector("p.correcting")
    record = device(page, number)["records"][0]
    assert record["seal"] is None and record["signatures"] == []
    assert record["corrects"] == demo["key"] and record["revision"] == demo["revision"]

    # a change: the first revision of the correction goes on from the server's
    page.goto(f"{base}/field/#/visit/{number}/item/LR-02")
    q = page.locator('fieldset[data-question="LR-02-03"]')
    q.locator("label.choice.compliant").click()
    page.wait_for_selector('fieldset[data-question="LR-02-03"] input[value=compliant]:checked')
    page.wait_for_function(
        "async (n) => { const db = await new Promise((ok) => { const r = indexedDB.open('field-app'); r.onsuccess = () => ok(r.result); });"
        " const all = await new Promise((ok) => { const q = db.transaction('records').objectStore('records').getAll(); q.onsuccess = () => ok(q.result); });"
        " return all.some((r) => r.visit === n && r.revision > %d); }" % demo["revision"], arg=number)
    first = device(page, number)
    revision = first["records"][0]["revision"]
    assert revision == demo["revision"] + 1
    body = next(e["body"] for e in first["outbox"] if e["kind"] == "record")
    assert body["corrects"] == demo["key"] and body["record_id"] == demo["record_id"]

    # signed again by both inspectors and the representative (offline), sealed, sent
    page.goto(f"{base}/field/#/visit/{number}/sign")
    page.wait_for_selector("section.correction")
    page.context.set_offline(True)
    sign(page, f"inspector-{me['user_id']}", "touch")
    sign(page, f"inspector-{other['user_id']}", "touch")
    sign(page, "representative", "touch")  # the name and role came with the record
    state = seal_and_send(page, base, number)
    assert state["body"]["corrects"] == demo["key"]
    assert state["record_id"] == demo["record_id"] and state["revision"] > demo["revision"]
    assert next(a for a in state["body"]["answers"] if a["question"] == "LR-02-03")["answer"] == "compliant"
    server = last_json(server_python(STATE, number))
    assert server["status"] == "recorded" and all(server["resolved"])
    assert server["state"]["sealed_revision_uuid"] == state["revision_uuid"] != demo["key"]
    assert server_counts(server_python, number)["sealed"] == 2  # the original stays on record
    page.goto(f"{base}/field/#/visit/{number}")
    page.locator("#record-locked").wait_for()


def test_offline_phone_says_where_the_record_is_and_downloads_it_later(make_page, live_server,
                                                                       server_python):
    page, base = make_page(PHONE), live_server
    number = _returned_number(server_python)
    open_field(page, base)
    # the pack arrives, the record does not (the network fails in between)
    page.route("**/api/v1/field/visits/*/record", lambda route: route.abort("internetdisconnected"))
    download(page, base, number)
    assert device(page, number)["records"] == []
    page.context.set_offline(True)
    open_visit(page, base, number)
    message = page.locator("#server-record")
    message.wait_for()
    assert "记录在其他设备上，联网后可下载" in message.inner_text()
    assert page.locator("#result").count() == 0 and page.locator("a.item-link").count() == 0
    assert page.locator("#review-returned").count() == 1  # the office's comments are in the pack
    page.goto(f"{base}/field/#/visit/{number}/item/LR-06")
    page.locator("#server-record").wait_for()
    assert page.locator("fieldset.question").count() == 0  # no empty draft is started
    snap(page, "field-adopt-offline")
    assert device(page, number)["records"] == []

    # online again: the record is downloaded from the message (on the screen that shows it),
    # sealed and locked
    page.unroute("**/api/v1/field/visits/*/record")
    page.context.set_offline(False)
    page.click("#server-record-retry")
    page.locator("#record-locked").wait_for()
    assert page.locator('fieldset[data-question="LR-06-01"] input[value=compliant]').is_checked()
    open_visit(page, base, number)
    page.locator("#result").wait_for()
    assert page.locator("#server-record").count() == 0 and page.locator("#record-locked").count() == 1
    record = device(page, number)["records"][0]
    assert record["seal"] and record["sealed_key"]


def _returned_number(server_python) -> str:
    """inspector1's visit the demo returned (the test above may have corrected it since: it
    is `recorded` again, with a sealed correction)."""
    code = """
import json
from sqlalchemy import select
from app import app
from inspection.extensions import db
from inspection.core.models import User
from inspection.directory.models import Inspector
from inspection.draws.models import TeamMember
from inspection.fieldwork.models import ReviewReturn, Visit
with app.app_context():
    me = db.session.scalar(select(User).where(User.username == "inspector1"))
    mine = db.session.scalar(select(Inspector).where(Inspector.user_id == me.id))
    print(json.dumps(db.session.scalar(
        select(Visit.number).join(ReviewReturn, ReviewReturn.visit_id == Visit.id)
        .join(TeamMember, TeamMember.visit_id == Visit.id)
        .where(TeamMember.inspector_id == mine.id).order_by(Visit.number).limit(1))))
"""
    return json.loads(server_python(code).strip().splitlines()[-1])


def test_photos_only_on_the_server_are_listed_never_uploaded(make_page, live_server, server_python):
    page, base = make_page(PHONE), live_server
    open_field(page, base)
    number = page.request.get(base + "/api/v1/field/visits").json()[5]["number"]  # a free one
    made = last_json(server_python(SEALED_WITH_PHOTO, number))
    assert made["status"] == "recorded" and made["state"]["complete"]
    listed = made["state"]["body"]["photos"]
    assert len(listed) == 1
    pack = download(page, base, number)
    me = next(m for m in pack["team"] if m["is_me"])
    other = next(m for m in pack["team"] if not m["is_me"])
    open_visit(page, base, number)
    page.locator("#record-locked").wait_for()
    page.goto(f"{base}/field/#/visit/{number}/item/LR-06")
    photo = page.locator(f'figure.thumb.remote[data-photo="{listed[0]["uuid"]}"]')
    photo.wait_for()
    assert "照片在服务器上" in photo.inner_text()
    assert photo.locator("button.delete").count() == 0

    page.locator("#start-correction").click()
    page.fill("#correction-start-reason", "补充责令内容。")
    page.click("#correction-confirm")
    page.wait_for_selector("p.correcting")
    page.fill("#order-text-LR-06-01", "限期补发10月工资，并报送补发记录。")
    page.locator("#order-text-LR-06-01").blur()
    page.goto(f"{base}/field/#/visit/{number}/sign")
    page.wait_for_selector("section.correction")
    assert "共 1 张" in page.locator("section.summary-doc").inner_text()
    sign(page, f"inspector-{me['user_id']}", "touch")
    sign(page, f"inspector-{other['user_id']}", "touch")
    sign(page, "representative", "touch")
    state = seal_and_send(page, base, number)  # every entry sent: none refused
    assert state["body"]["photos"] == listed and state["complete"] is True
    assert state["missing_photos"] == [] and state["body"]["corrects"] == made["state"]["revision_uuid"]
    outbox = device(page, number)["outbox"]
    assert not [e for e in outbox if e["kind"] == "photo"]  # never tried to upload it
    assert all(e["status"] == "sent" for e in outbox)
    wait_all_sent(page)
