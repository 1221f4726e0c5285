"""A joint visit led by its team leader, on two phones (issue 6): the leader arranges the visit
and splits the items (a stale save answers 409 and says so), the member works on their item and
sends it as a finished part, the leader follows the progress, assembles one record from the
member's complete part and their own answers, and that record arrives on the server."""
from __future__ import annotations

from field_sign_support import link_colleague, viewshot, wait_all_sent
from test_field_offline import file, jpeg, open_field
from test_field_signing import PHONE, make_page  # noqa: F401 (the fixture)


def test_leader_arranges_member_sends_part_leader_assembles(make_page, live_server, server_python, shots,
                                                            watch):
    base = live_server
    first = make_page(PHONE)  # inspector1
    open_field(first, base)
    visit = first.request.get(base + "/api/v1/field/visits").json()[-4]  # others take -1..-3, 0
    number = visit["number"]
    items = [i["code"] for i in visit["items"]]
    assert len(items) >= 2
    colleague = link_colleague(server_python, number)
    second = make_page(PHONE, colleague["username"])
    open_field(second, base)
    leader, member = ((first, second) if any(m["is_me"] and m["is_leader"] for m in visit["team"])
                      else (second, first))
    arrangement = leader.request.get(f"{base}/api/v1/field/visits/{number}/arrangement").json()
    me = next(m for m in arrangement["members"] if m["is_me"])
    assert me["is_leader"]
    member_id = next(m["inspector_id"] for m in arrangement["members"] if not m["is_me"])

    leader.reload()
    card = leader.locator(f'article.visit[data-visit="{number}"]')
    card.get_by_role("button", name="下载离线包").click()
    card.get_by_role("link", name="开始检查").click()
    leader.click("#leader-link")
    leader.wait_for_selector("form.arrangement")

    leader.fill("#arr-day", visit["window"][0])
    leader.fill("#arr-time", "08:30")
    leader.fill("#arr-place", "园区北门")
    leader.check(f'fieldset[data-item="{items[0]}"] input[data-member="{member_id}"]')
    leader.check(f'fieldset[data-item="{items[1]}"] input[data-member="{me["inspector_id"]}"]')
    # meanwhile someone else saves the arrangement: the leader's save is stale
    token = leader.request.get(base + "/api/v1/auth/csrf-token").json()["csrf_token"]
    response = leader.request.put(f"{base}/api/v1/field/visits/{number}/arrangement",
                                  headers={"X-CSRFToken": token},
                                  data={"revision": 0, "notes": "带好执法记录仪"})
    assert response.status == 200, response.text()
    watch.allow(r"status of 409")  # the stale save, answered 409 on purpose
    leader.click("#save-arrangement")
    leader.wait_for_selector(".conflict:has-text('有人修改了安排，请重新加载')")
    leader.click("#reload-arrangement")
    leader.wait_for_function("() => document.querySelector('#arr-notes').value === '带好执法记录仪'")
    leader.fill("#arr-day", visit["window"][0])
    leader.fill("#arr-time", "08:30")
    leader.fill("#arr-place", "园区北门")
    leader.check(f'fieldset[data-item="{items[0]}"] input[data-member="{member_id}"]')
    for code in items[1:]:
        leader.check(f'fieldset[data-item="{code}"] input[data-member="{me["inspector_id"]}"]')
    leader.click("#save-arrangement")
    leader.wait_for_selector(".arrangement-message:has-text('安排已保存')")
    saved = leader.request.get(f"{base}/api/v1/field/visits/{number}/arrangement").json()
    assert saved["split"][items[0]] == [member_id] and saved["meeting_point"] == "园区北门"
    assert saved["notes"] == "带好执法记录仪"

    # the member: their item first, the others marked; works offline, marks the part finished
    member.reload()
    mcard = member.locator(f'article.visit[data-visit="{number}"]')
    mcard.get_by_role("button", name="下载离线包").click()
    mcard.get_by_role("link", name="开始检查").click()
    member.wait_for_selector("section.part")
    assert items[0] in member.locator("section.part").inner_text()
    links = member.locator("ul.items li").all_inner_texts()
    assert links[0].startswith(items[0]) and "其他组员负责" in links[1]
    assert member.locator("#result").count() == 0  # a part has no result category
    pack = member.request.get(f"{base}/api/v1/field/visits/{number}/pack").json()
    questions = [q["code"] for q in next(i for i in pack["items"] if i["code"] == items[0])["questions"]]
    member.context.set_offline(True)
    member.goto(f"{base}/field/#/visit/{number}/item/{items[0]}")
    for q in questions[1:]:
        member.locator(f'fieldset[data-question="{q}"] label.choice.compliant').click()
    bad = questions[0]
    member.locator(f'fieldset[data-question="{bad}"] label.choice.non_compliant').click()
    member.fill(f"#note-{bad}", "未按规定建立职工名册。")
    member.set_input_files(f"#camera-{bad}", file("roster.jpg", jpeg((30, 90, 160))))
    member.wait_for_selector(f'fieldset[data-question="{bad}"] figure.thumb')
    member.goto(f"{base}/field/#/visit/{number}")
    member.click("#part-finished")
    member.wait_for_selector("#part-finished:has-text('撤销')")
    member.context.set_offline(False)
    wait_all_sent(member)

    # the leader answers their own items, follows the progress and assembles
    for code in items[1:]:
        leader.goto(f"{base}/field/#/visit/{number}/item/{code}")
        for q in next(i for i in pack["items"] if i["code"] == code)["questions"]:
            leader.locator(f'fieldset[data-question="{q["code"]}"] label.choice.compliant').click()
    leader.goto(f"{base}/field/#/visit/{number}/leader")
    row = leader.locator(f'li.member-part[data-member="{member_id}"]')
    row.wait_for()
    assert row.get_attribute("data-state") == "finished"
    assert f"已答 {len(questions)}/{len(questions)}" in row.inner_text()
    leader.wait_for_selector("#assemble:not([disabled])")
    leader.click("#assemble")
    leader.wait_for_selector("#assembled")
    viewshot(leader, "field-leader-view")
    shots(leader, "field-leader-view-full")
    leader.goto(f"{base}/field/#/visit/{number}")
    leader.select_option("#result", "pending_follow_up")
    leader.wait_for_selector(".checks p.hint")  # the member's finding: only hints, nothing blocks
    assert leader.locator(".checks p.problem").count() == 0
    wait_all_sent(leader)

    state = leader.request.get(f"{base}/api/v1/field/visits/{number}/record").json()
    body = state["body"]
    assert "part" not in body and body["result_category"] == "pending_follow_up"
    answers = {a["question"]: a for a in body["answers"]}
    assert answers[bad]["answer"] == "non_compliant" and answers[bad]["note"] == "未按规定建立职工名册。"
    assert all(answers[q]["answer"] == "compliant" for q in questions[1:])
    assert {a["item"] for a in body["answers"]} == set(items)
    assert [x["inspector_id"] for x in body["assembled_from"]] == [member_id]
    assert len(body["photos"]) == 1 and body["photos"][0]["question"] == bad  # the member's photo
    assert state["complete"] is True  # that photo is on the server: nothing half-merged
