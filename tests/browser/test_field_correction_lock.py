"""A sealed, sent record is locked on the phone; changing it is an explicit correction; and a
record the office returned shows its comments (docs/field-sync.md "The lock of a sealed
record" and "Records returned by the office").

At phone size: the record is signed, sealed and sent; the office returns it (a ReviewReturn
row, as the office's operation leaves it); the visit list flags the visit, the visit screen
and the checklist show the office's comments; a tap on an answer changes nothing; "开始更正"
asks for a reason and names the signatures it voids; cancel keeps the lock; confirming
unlocks the record as a correction, which is signed again, sealed and accepted by the server
(`corrects` = the sealed revision), and the visit goes back to the office.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from field_sign_support import device, link_colleague, server_counts, wait_all_sent
from test_field_signing import (PHONE, answer_all, download, make_page,  # noqa: F401 (fixture)
                                seal_and_send, sign, sign_as_representative, visit_number)

COMMENT = "现场照片不足：请说明第一项的核实情况。"
QUESTION_COMMENT = "该项结论与现场记录不一致，请核实。"

RETURN = """
import json, sys
from datetime import datetime
from sqlalchemy import select
from app import app
from inspection.extensions import db
from inspection.core.models import User
from inspection.fieldwork.models import RecordRevision, ReviewReturn, Visit
number, key, item, question, comment, question_comment = sys.argv[1:7]
with app.app_context():
    office = db.session.scalar(select(User).where(User.username == "office"))
    visit = db.session.scalar(select(Visit).where(Visit.number == number))
    row = db.session.scalar(select(RecordRevision).where(RecordRevision.revision_uuid == key))
    db.session.add(ReviewReturn(visit_id=visit.id, revision_id=row.id, comments=comment,
        item_comments=[{"item": item, "question": question, "comment": question_comment}],
        returned_by_id=office.id, returned_at=datetime.utcnow()))
    visit.status = "returned"
    db.session.commit()
    print(json.dumps({"by": office.display_name}))
"""

STATE = """
import json, sys
from sqlalchemy import select
from app import app
from inspection.extensions import db
from inspection.fieldwork.models import ReviewReturn, Visit
with app.app_context():
    visit = db.session.scalar(select(Visit).where(Visit.number == sys.argv[1]))
    back = db.session.scalar(select(ReviewReturn).where(ReviewReturn.visit_id == visit.id))
    print(json.dumps({"status": visit.status, "resolved": back.resolved_at is not None}))
"""


def snap(page, name: str) -> None:
    """What the phone's screen shows, to /tmp (and /tmp/shots, with the other screenshots)."""
    path = Path("/tmp") / f"{name}.png"
    page.screenshot(path=str(path))
    Path("/tmp/shots").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, Path("/tmp/shots") / path.name)


def test_sealed_record_locked_returned_corrected_and_sealed_again(make_page, live_server,
                                                                  server_python):
    page, base = make_page(PHONE), live_server
    number = visit_number(page, base, -6)  # others take -1..-5 and the first ones
    link_colleague(server_python, number)
    pack = download(page, base, number)
    me = next(m for m in pack["team"] if m["is_me"])
    other = next(m for m in pack["team"] if not m["is_me"])
    item, q = pack["items"][0], pack["items"][0]["questions"][0]
    answer_all(page, base, number, pack)
    page.goto(f"{base}/field/#/visit/{number}")
    page.select_option("#result", "no_problem")
    page.wait_for_selector("text=检查项目与结论一致。")
    page.click("#go-sign")
    sign(page, f"inspector-{me['user_id']}", "touch")
    sign(page, f"inspector-{other['user_id']}", "touch")
    sign_as_representative(page, "touch", "王建国")
    sealed = seal_and_send(page, base, number)

    # the office returns it, with a comment on the first question
    by = json.loads(server_python(RETURN, number, sealed["revision_uuid"], item["code"], q["code"],
                                  COMMENT, QUESTION_COMMENT).strip().splitlines()[-1])["by"]
    page.goto(f"{base}/field/#/visits")
    card = page.locator(f'article.visit[data-visit="{number}"]')
    card.locator(".returned-tag:has-text('退回修改')").wait_for()
    card.locator(f".returned-note:has-text('{COMMENT}')").wait_for()  # its pack came again by itself
    card.get_by_role("link", name="开始检查").click()
    review = page.locator("#review-returned")
    review.wait_for()
    assert COMMENT in review.inner_text() and QUESTION_COMMENT in review.inner_text() and by in review.inner_text()
    assert page.locator("#record-locked:has-text('已签名封存，记录已锁定')").is_visible()
    assert page.locator("#result").is_disabled()
    snap(page, "field-returned-visit")
    assert page.locator("label[for=camera-visit]").count() == 0  # no photo can be added

    # the checklist: the office's comment beside its question; a tap on an answer does nothing
    page.goto(f"{base}/field/#/visit/{number}/item/{item['code']}")
    block = page.locator(f'fieldset[data-question="{q["code"]}"]')
    block.locator(f".office-comment:has-text('{QUESTION_COMMENT}')").wait_for()
    before = device(page, number)["records"][0]
    block.locator("label.choice.not_applicable").click(force=True)
    block.locator("textarea").click(force=True)
    page.wait_for_timeout(300)
    assert block.locator("input[value=compliant]").is_checked()
    assert not block.locator("input[value=not_applicable]").is_checked()
    after = device(page, number)["records"][0]
    assert (after["seal"], after["revision"], after["saved_at"]) == (before["seal"], before["revision"], before["saved_at"])
    assert page.locator("#voided-toast").count() == 0
    block.locator(".choices").scroll_into_view_if_needed()
    snap(page, "field-record-locked-answers")
    page.evaluate("window.scrollTo(0, 0)")
    snap(page, "field-record-locked")

    # "开始更正": a reason is required, and the confirmation names the signatures it voids
    page.click("#start-correction")
    dialog = page.locator("#correction-dialog")
    dialog.wait_for()
    voids = page.locator("#correction-voids").inner_text()
    assert "将作废以下签名：" in voids
    for name in (f"{me['name']}（检查人员）", f"{other['name']}（检查人员）", "王建国（法定代表人）"):
        assert name in voids, voids
    page.click("#correction-confirm")  # no reason yet
    page.wait_for_selector("#correction-start-message:has-text('请填写更正理由。')")
    snap(page, "field-correction-confirm")
    page.click("#correction-cancel")  # cancel changes nothing
    dialog.wait_for(state="detached")
    assert page.locator("#record-locked").is_visible()
    assert device(page, number)["records"][0]["seal"] == before["seal"]

    page.click("#start-correction")
    page.fill("#correction-start-reason", "按审核意见：第一项现场核实为“不适用”。")
    page.click("#correction-confirm")
    page.locator("#record-locked").wait_for(state="detached")
    page.wait_for_selector("p.correcting")
    record = device(page, number)["records"][0]
    assert record["seal"] is None and record["signatures"] == []
    assert record["corrects"] == sealed["revision_uuid"]
    assert record["correction_reason"].startswith("按审核意见")

    # now editable: corrected, signed again by everyone, sealed, sent
    block.locator("label.choice.not_applicable").click()
    page.wait_for_selector(f'fieldset[data-question="{q["code"]}"] input[value=not_applicable]:checked')
    page.goto(f"{base}/field/#/visit/{number}/sign")
    page.wait_for_selector("section.correction")
    assert page.locator("#correction-reason").input_value().startswith("按审核意见")
    page.context.set_offline(True)
    sign(page, f"inspector-{me['user_id']}", "touch")
    sign(page, f"inspector-{other['user_id']}", "touch")
    sign(page, "representative", "touch")
    state = seal_and_send(page, base, number)
    assert state["body"]["corrects"] == sealed["revision_uuid"]
    assert state["body"]["correction_reason"].startswith("按审核意见")
    assert next(a for a in state["body"]["answers"] if a["question"] == q["code"])["answer"] == "not_applicable"
    assert server_counts(server_python, number)["sealed"] == 2  # the original stays on record
    # back to the office: the return is answered
    assert json.loads(server_python(STATE, number).strip().splitlines()[-1]) == {
        "status": "recorded", "resolved": True}
    # and the corrected record is locked in its turn
    page.goto(f"{base}/field/#/visit/{number}/item/{item['code']}")
    page.locator("#record-locked").wait_for()
    wait_all_sent(page)
