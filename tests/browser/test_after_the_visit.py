"""The whole path after the visit, in the browser (DOMAIN.md "After the visit"): the phone
seals and sends; the office reviews and returns; the team corrects and signs again; the
office determines; the approver approves; the result is published; the public results page
and the record check show it; the employer objects from the public page; the review finds
the objection right; the correction is approved; and the public page shows the corrected
result with the original kept.

One test, four people in their own browser contexts: inspector1's phone (390x844), the
office (王晓梅), the approver (李建国, head: determinations), the director (孙立华, principal
head: corrections), and the public (no account). The visit is a fresh one of inspector1,
still ``assigned`` (:data:`FREE_INDICES`): others take the first ones (0, 2-8; 1 is usually
the demo's returned visit) and the last six of the list.
"""
from __future__ import annotations

import json
import re

from field_sign_support import link_colleague
from test_field_offline import open_field
from test_field_signing import (PHONE, answer_all, download, make_page,  # noqa: F401 (fixture)
                                seal_and_send, sign, sign_as_representative)

#: Places in inspector1's visit list no other test takes (the draw is random: the demo's
#: returned visit is usually the second, but may come later).
FREE_INDICES = (10, 9, 11, 12)
DESKTOP = {"width": 1280, "height": 900}

RETURN_COMMENT = "第一项的结论与现场照片不符，请核实后更正。"
QUESTION_COMMENT = "现场照片显示本项存在问题，请核实本项结论。"
CORRECTION_REASON = "按办公室审核意见：第一项现场核实为不符合。"
PROBLEM = "经核实，3名员工的情况不符合本项规定（见现场照片）。"
SUMMARY = "第一项不符合规定。"
OBJECTION = "检查发现的问题已于次日着手整改，认定“不合格”与事实不符。"
OUTCOME = "问题已在整改中，结果更正为“发现问题待后续处理”。"
CORRECTION_WHY = "异议成立：问题已着手整改，应认定为发现问题待后续处理。"

AUDIT = """
import json, sys
from sqlalchemy import select
from app import app
from inspection.extensions import db
from inspection.core.models import AuditEntry
from inspection.fieldwork.models import Visit
from inspection.review.models import Determination
with app.app_context():
    visit = db.session.scalar(select(Visit).where(Visit.number == sys.argv[1]))
    dets = [str(i) for i in db.session.scalars(select(Determination.id).where(
        Determination.visit_id == visit.id))]
    rows = db.session.scalars(select(AuditEntry).where(
        ((AuditEntry.object_type == "visit") & (AuditEntry.object_id == str(visit.id)))
        | ((AuditEntry.object_type == "determination") & AuditEntry.object_id.in_(dets)))
        .where(AuditEntry.action.like("review.%")).order_by(AuditEntry.seq))
    print(json.dumps([{"action": r.action, "actor": r.actor_name, "address": r.client_address,
                       "summary": r.summary}
                      for r in rows], ensure_ascii=False))
"""


def last_json(out: str):
    return json.loads(out.strip().splitlines()[-1])


def shot(page, name: str, *, full_page: bool = False) -> None:
    page.screenshot(path=f"/tmp/e2e_{name}.png", full_page=full_page)


def submit(page, button) -> None:
    """Click a form's submit button and wait for the page it answers."""
    with page.expect_navigation():
        button.click()


def flashed(page, text: str) -> None:
    page.locator(f".flash-success:has-text('{text}')").wait_for()


def test_after_the_visit_from_the_phone_to_the_corrected_public_result(
        make_page, browser, live_server, server_python, watch, login):
    base = live_server
    contexts = []

    def desk(username: str | None):
        """A desktop page of its own context, signed in as ``username`` (None: the public)."""
        context = browser.new_context(viewport=DESKTOP, locale="zh-CN",
                                      timezone_id="Asia/Shanghai")
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        watch.attach(page)
        if username:
            login(page, base, username)
        return page

    try:
        _whole_path(make_page, desk, base, server_python)
    finally:
        for context in contexts:
            context.close()


def _whole_path(make_page, desk, base, server_python):
    # --- the phone: a fresh visit, all compliant, "未发现问题", signed, sealed, sent -----------
    phone = make_page(PHONE)
    phone.context.grant_permissions(["geolocation"], origin=base)
    phone.context.set_geolocation({"latitude": 36.8166, "longitude": 118.3058, "accuracy": 25})
    open_field(phone, base)
    visits = phone.request.get(base + "/api/v1/field/visits").json()
    visit = next(visits[i] for i in FREE_INDICES  # a fresh one
                 if visits[i]["status"] == "assigned" and not visits[i]["returned"])
    number, code, employer = visit["number"], visit["employer"]["credit_code"], visit["employer"]["name"]
    if any(m["user_id"] is None for m in visit["team"]):  # the demo gives inspector3 an account
        link_colleague(server_python, number)
    pack = download(phone, base, number)
    me = next(m for m in pack["team"] if m["is_me"])
    other = next(m for m in pack["team"] if not m["is_me"])
    item, q = pack["items"][0], pack["items"][0]["questions"][0]
    phone.goto(f"{base}/field/#/visit/{number}")
    phone.get_by_role("button", name="记录到达时间和位置").click()
    phone.get_by_text("到达时间").wait_for()  # the paper record's 检查时间
    answer_all(phone, base, number, pack)
    phone.goto(f"{base}/field/#/visit/{number}")
    phone.select_option("#result", "no_problem")
    phone.wait_for_selector("text=检查项目与结论一致。")
    phone.click("#go-sign")
    sign(phone, f"inspector-{me['user_id']}", "touch")
    sign(phone, f"inspector-{other['user_id']}", "touch")
    sign_as_representative(phone, "touch", "王建国")
    first = seal_and_send(phone, base, number)
    assert first["body"]["result_category"] == "no_problem" and first["body"]["arrival"]["location"]

    # the record check (the QR code on the paper record): genuine, its result pending
    public = desk(None)
    public.goto(f"{base}/public/records/{first['seal']}")
    check = public.locator("main").inner_text()
    assert number in check and employer in check and "结果待审核认定" in check

    # --- the office: the queue, the review page, returned with comments ------------------------
    office = desk("office")
    office.goto(f"{base}/review/")
    row = office.locator(f"table.review-queue tr:has(a:text-is('{number}'))")
    assert "未发现问题" in row.inner_text() and code in row.inner_text()
    submit(office, row.get_by_role("link", name=number))
    assert office.locator("#visit-status").inner_text() == "待审核"
    office.fill("#return-comments", RETURN_COMMENT)
    office.locator("#return details summary").click()
    office.fill("#item_comments-0-comment", QUESTION_COMMENT)
    assert office.locator('input[name="item_comments-0-subject"]').input_value() == \
        f"{item['code']}|{q['code']}"
    submit(office, office.locator("#return button[type=submit]"))
    flashed(office, "已将检查记录连同审核意见退回检查组。")
    returned = office.locator("#returned")
    assert RETURN_COMMENT in returned.inner_text() and QUESTION_COMMENT in returned.inner_text()
    assert office.locator("#return, #propose").count() == 0  # nothing more until it is back

    # --- the phone: 退回修改 with the comment; a correction, signed again, sealed, sent --------
    phone.goto(f"{base}/field/#/visits")
    phone.reload()
    card = phone.locator(f'article.visit[data-visit="{number}"]')
    card.locator(".returned-tag:has-text('退回修改')").wait_for()
    card.locator(f".returned-note:has-text('{RETURN_COMMENT}')").wait_for()
    card.get_by_role("link", name="开始检查").click()
    review = phone.locator("#review-returned")
    review.wait_for()
    assert RETURN_COMMENT in review.inner_text() and QUESTION_COMMENT in review.inner_text()
    assert "王晓梅" in review.inner_text()
    shot(phone, "phone_returned_visit")
    phone.click("#start-correction")
    phone.fill("#correction-start-reason", CORRECTION_REASON)
    phone.click("#correction-confirm")
    phone.wait_for_selector("p.correcting")
    phone.goto(f"{base}/field/#/visit/{number}/item/{item['code']}")
    block = phone.locator(f'fieldset[data-question="{q["code"]}"]')
    block.locator(f".office-comment:has-text('{QUESTION_COMMENT}')").wait_for()
    block.locator("label.choice.non_compliant").click()
    phone.wait_for_selector(f'fieldset[data-question="{q["code"]}"] input[value=non_compliant]:checked')
    phone.fill(f"#note-{q['code']}", PROBLEM)
    phone.locator(f"#note-{q['code']}").blur()
    phone.goto(f"{base}/field/#/visit/{number}")
    phone.locator("p.problem:has-text('不能是“未发现问题”')").wait_for()  # the old result no longer fits
    phone.select_option("#result", "pending_follow_up")
    phone.wait_for_function("() => !document.querySelector('.checks p.problem')")
    phone.click("#go-sign")
    phone.wait_for_selector("section.correction")
    assert phone.locator("#correction-reason").input_value() == CORRECTION_REASON
    sign(phone, f"inspector-{me['user_id']}", "touch")
    sign(phone, f"inspector-{other['user_id']}", "touch")
    sign(phone, "representative", "touch")
    second = seal_and_send(phone, base, number)
    assert second["seal"] != first["seal"]
    assert second["body"]["corrects"] == first["revision_uuid"]
    assert second["body"]["result_category"] == "pending_follow_up"
    answer = next(a for a in second["body"]["answers"] if a["question"] == q["code"])
    assert answer["answer"] == "non_compliant" and answer["note"] == PROBLEM

    # --- the office: back in the queue, the determination proposed ----------------------------
    office.goto(f"{base}/review/")
    row = office.locator(f"table.review-queue tr:has(a:text-is('{number}'))")
    assert "退回后已更正" in row.inner_text() and "发现问题待后续处理" in row.inner_text()
    submit(office, row.get_by_role("link", name=number))
    assert PROBLEM in office.locator(".review-record-column").inner_text()  # the corrected record
    # a row per non-compliant answer is prefilled: the question, the note, "to be followed up"
    assert office.locator("#propose-findings-0-subject").input_value() == f"{item['code']}|{q['code']}"
    assert office.locator('#propose textarea[name="findings-0-finding"]').input_value() == PROBLEM
    assert office.locator('#propose select[name="findings-0-handling"]').input_value() == "follow_up"
    office.select_option("#propose-category", "unqualified")
    office.fill("#propose-summary", SUMMARY)
    submit(office, office.locator("#propose button[type=submit]"))
    flashed(office, "结果认定已提请审批")
    assert "不合格" in office.locator("#decide").inner_text()

    # --- the approver: the approvals page, approved --------------------------------------------
    approver = desk("approver")
    approver.goto(f"{base}/review/approvals")
    row = approver.locator(f"tr[id^=determination-]:has(a:text-is('{number}'))")
    assert "不合格" in row.inner_text() and "王晓梅" in row.inner_text()
    submit(approver, row.locator("a.button"))
    approver.fill("#decide textarea[name=reason]", "同意。")
    submit(approver, approver.locator("#decide button[name=decision][value=approve]"))
    flashed(approver, "您的审批决定已记录。")
    assert "不合格" in approver.locator("#result").inner_text()

    # --- the office publishes -------------------------------------------------------------------
    office.reload()
    office.locator("#publication form.actions button[type=submit]").wait_for()
    submit(office, office.locator("#publication form.actions button[type=submit]"))
    flashed(office, "结果已公示，公示期开始。")
    assert office.locator("#visit-status").inner_text() == "已公示"
    shot(office, "office_review_published", full_page=True)

    # --- the public: the results page (search by credit code) and the record check -------------
    public.goto(f"{base}/public/results")
    public.fill("#q", code)
    submit(public, public.locator("form[role=search] button[type=submit]"))
    hit = public.locator(f"article.public-result:has(a[href$='/public/results/{number}'])")
    hit.wait_for()
    assert employer in hit.inner_text() and code in hit.inner_text() and "不合格" in hit.inner_text()
    public.goto(f"{base}/public/records/{second['seal']}")
    published = public.locator("main").inner_text()
    assert "不合格" in published and "查看公示结果" in published and "结果待审核认定" not in published
    public.goto(f"{base}/public/records/{first['seal']}")  # the first seal names the current one
    assert second["seal"] in public.locator(".flash-error:has-text('本记录已被更正')").inner_text()

    # --- the employer objects from the public result page: a receipt ---------------------------
    submit(public, public.get_by_role("link", name="查看公示结果"))
    assert public.url.endswith(f"/public/results/{number}")
    form = public.locator("form[action$='/objection']")
    form.locator("[name=credit_code]").fill(code)
    form.locator("[name=contact]").fill("王建国 0533-7188888")
    form.locator("[name=text]").fill(OBJECTION)
    submit(public, form.locator("button[type=submit]"))
    receipt = public.locator(".receipt-number").inner_text().strip()
    assert re.fullmatch(r"YY-\d{4}-[0-9A-F]{6}", receipt), receipt
    assert "回执编号" in public.locator("main").inner_text()

    # --- the office: the review finds the objection right; a correction is proposed ------------
    office.reload()
    objection = office.locator(f"#objections .question-row:has-text('{receipt}')")
    assert OBJECTION in objection.inner_text()
    objection.locator("input[name=status][value=corrected]").check()
    objection.locator("textarea[name=outcome]").fill(OUTCOME)
    submit(office, objection.locator("button[type=submit]"))
    flashed(office, "复查复核结果已记录。")
    assert OUTCOME in office.locator("#objections").inner_text()
    office.locator("#corrections details summary").click()
    office.select_option("#correction-origin", "application")
    office.select_option("#correction-objection", label=receipt)
    office.fill("#correction-reason", CORRECTION_WHY)
    office.select_option("#correction-category", "pending_follow_up")
    # the findings come from the result: the problem stays, to be followed up
    assert office.locator('#corrections select[name="findings-0-handling"]').input_value() == "follow_up"
    submit(office, office.locator("#corrections form button[type=submit]"))
    flashed(office, "更正已提请审批")
    assert CORRECTION_WHY in office.locator("#corrections").inner_text()

    # --- the director approves the correction ---------------------------------------------------
    director = desk("director")
    director.goto(f"{base}/review/approvals")
    row = director.locator(f"tr[id^=correction-]:has(a:text-is('{number}'))")
    assert "发现问题待后续处理" in row.inner_text() and CORRECTION_WHY in row.inner_text()
    submit(director, row.locator("a.button"))
    director.fill("#corrections textarea[name=reason]", "同意更正。")
    submit(director, director.locator("#corrections button[name=decision][value=approve]"))
    flashed(director, "您的审批决定已记录。")
    result = director.locator("#result").inner_text()
    assert "发现问题待后续处理" in result and "已更正" in result
    # the history after the visit, as the office sees it: every step, by whom
    steps = director.locator("#history li").all_inner_texts()
    for what, who in [("已退回检查组", "王晓梅"), ("检查组封存了更正后的记录", ""),
                      ("提请结果认定", "王晓梅"), ("结果认定获批准", "李建国"),
                      ("结果已公示", "王晓梅"), (f"收到异议 {receipt}", ""),
                      (f"异议 {receipt} 复查复核完毕", "王晓梅"),
                      ("提请更正", "王晓梅"), ("更正获批准", "孙立华")]:
        assert any(what in s and who in s for s in steps), (what, steps)

    # --- the public: the corrected result, the original kept, the objection's outcome ----------
    listed = public.request.get(f"{base}/public/results.json", params={"q": code}).json()
    mine = [r for r in listed["results"] if r["visit"] == number]
    assert len(mine) == 1, listed
    data = mine[0]
    assert data["result_category"] == "pending_follow_up" and data["result_label"] == "发现问题待后续处理"
    assert data["corrected"]["original_category"] == "unqualified"
    assert data["corrected"]["original_label"] == "不合格"
    day = data["corrected"]["on"]
    assert day == data["determined_on"]  # the correction's approval is the result's date now
    assert [(o["status"], o["outcome"]) for o in data["objections"]] == [("corrected", OUTCOME)]
    assert OBJECTION not in json.dumps(data, ensure_ascii=False)  # the text is not published

    public.goto(f"{base}/public/results/{number}")
    facts_box = public.locator("section[aria-labelledby=result-head]").inner_text()
    assert "发现问题待后续处理" in facts_box and f"已更正（{day}）" in facts_box
    assert "经复查复核，原结果有误，予以更正" in facts_box and OUTCOME in facts_box
    assert OBJECTION not in public.locator("main").inner_text()
    history = public.locator("section[aria-labelledby=history-head]")
    assert "本结果已更正，原结果存档备查" in history.inner_text()
    entries = history.locator("ol.history li")
    assert entries.count() == 2
    assert "不合格" in entries.nth(0).inner_text() and "已被更正" in entries.nth(0).inner_text()
    assert "发现问题待后续处理" in entries.nth(1).inner_text()
    assert "现行结果" in entries.nth(1).inner_text() and f"{day} 更正" in entries.nth(1).inner_text()
    shot(public, "public_corrected_result", full_page=True)
    public.goto(f"{base}/public/records/{second['seal']}")  # the QR check follows the correction
    check = public.locator("main").inner_text()
    assert "发现问题待后续处理" in check and f"已更正（{day}）" in check

    # --- the audit trail holds every step, by whom -----------------------------------------------
    trail = last_json(server_python(AUDIT, number))
    steps = [(e["action"], e["actor"]) for e in trail]
    assert steps == [
        ("review.return", "office"),
        ("review.determination.propose", "office"),
        ("review.determination.approve", "approver"),
        ("review.publish", "office"),
        ("review.objection", "system"),  # no account: the public, known by its address
        ("review.objection.decide", "office"),
        ("review.correction.propose", "office"),
        ("review.correction.approve", "director"),
    ], steps
    assert trail[4]["address"] == "127.0.0.1"
    by_action = {e["action"]: e["summary"] for e in trail}
    assert by_action["review.objection"]["objection"] == receipt
    assert by_action["review.objection"]["source"] == "public"
    assert by_action["review.objection.decide"]["status"] == "corrected"
    assert (by_action["review.correction.approve"]["from"],
            by_action["review.correction.approve"]["to"]) == ("unqualified", "pending_follow_up")
