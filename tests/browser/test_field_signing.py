"""Signing, refusing and sealing a visit record on the phone and the tablet (issue 6), offline,
then syncing: the server must end up with exactly one sealed revision and its signatures.

inspector1's visits are made by two inspectors; the demo gives the colleague no account, so
the tests give them one (``link_colleague``): a sealed record needs two inspectors' signatures.
Chromium's offline emulation logs failed fetches as console errors: those are allowed.
"""
from __future__ import annotations

import time

import pytest

from field_sign_support import (device, draw, ink_box, link_colleague, server_counts, viewshot,
                                wait_all_sent)
from test_field_offline import OFFLINE_ERRORS, file, jpeg, open_field

PHONE = {"width": 390, "height": 844}
TABLET = {"width": 820, "height": 1180}


@pytest.fixture
def make_page(browser, live_server, watch, login):
    contexts = []

    def make(viewport, username="inspector1"):
        context = browser.new_context(viewport=viewport, device_scale_factor=2, is_mobile=True,
                                      has_touch=True, locale="zh-CN", timezone_id="Asia/Shanghai")
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        watch.attach(page)
        login(page, live_server, username)
        return page
    watch.allow(OFFLINE_ERRORS)
    yield make
    for context in contexts:
        context.close()
    errors = watch.unexpected()
    assert not errors, errors


def visit_number(page, base, index: int) -> str:
    """The index-th of my visits (from the end: other tests take the first ones)."""
    open_field(page, base)
    return page.request.get(base + "/api/v1/field/visits").json()[index]["number"]


def download(page, base, number: str) -> dict:
    """Download the visit's pack on the phone (the colleague's account is in it now)."""
    page.reload()
    page.wait_for_selector(f'article.visit[data-visit="{number}"]')
    card = page.locator(f'article.visit[data-visit="{number}"]')
    card.get_by_role("button", name="下载离线包").click()
    card.get_by_role("link", name="开始检查").wait_for()
    return page.request.get(f"{base}/api/v1/field/visits/{number}/pack").json()


def answer_all(page, base, number, pack, answer="compliant"):
    for item in pack["items"]:
        page.goto(f"{base}/field/#/visit/{number}/item/{item['code']}")
        for q in item["questions"]:
            page.locator(f'fieldset[data-question="{q["code"]}"] label.choice.{answer}').click()
            page.wait_for_selector(f'fieldset[data-question="{q["code"]}"] input[value={answer}]:checked')


def sign(page, signer: str, how: str, *, expect_refusal_of_scribble=False):
    """Open the pad of `signer` (data-signer), draw, confirm; wait for the row to be signed."""
    row = page.locator(f'li.sign-row[data-signer="{signer}"]')
    row.get_by_role("button").click()
    page.wait_for_selector("canvas.pad")
    if expect_refusal_of_scribble:
        draw(page, how, small=True)
        page.click("#pad-confirm")
        page.wait_for_selector(".pad-message:has-text('签名太小')")
        page.click("#pad-clear")
        page.wait_for_function("() => document.querySelector('canvas.pad').dataset.points === '0'")
    draw(page, how)
    page.click("#pad-confirm")
    page.wait_for_selector(".sign-overlay", state="detached")
    page.wait_for_selector(f'li.sign-row.signed[data-signer="{signer}"]')


def sign_as_representative(page, how: str, name: str = "王建国"):
    """The employer's representative: name and role (legal representative), then the pad."""
    page.fill("#rep-name", name)
    page.locator("#rep-name").blur()
    page.locator("label.choice:has(input[name=rep-role][value=legal_representative])").click()
    page.wait_for_selector('li.sign-row[data-signer="representative"] button:not([disabled])')
    sign(page, "representative", how)


def seal_and_send(page, base: str, number: str) -> dict:
    """Seal on the phone, go online, wait for every entry to be sent; the server's record
    state, which holds that seal and is complete."""
    page.click("#seal-record")
    page.wait_for_selector("section.sealed-card")
    seal = page.locator(".seal-code").inner_text()
    page.context.set_offline(False)
    wait_all_sent(page)
    state = page.request.get(f"{base}/api/v1/field/visits/{number}/record").json()
    assert state["seal"] == seal and state["complete"] is True
    return state


@pytest.mark.parametrize("size,how,index", [(PHONE, "touch", -1), (TABLET, "mouse", -2)],
                         ids=["phone", "tablet"])
def test_sign_rotate_seal_void_sign_again_and_sync(make_page, live_server, server_python, shots,
                                                   size, how, index):
    page, base = make_page(size), live_server
    number = visit_number(page, base, index)
    second = link_colleague(server_python, number)
    pack = download(page, base, number)
    me = next(m for m in pack["team"] if m["is_me"])
    other = next(m for m in pack["team"] if not m["is_me"])
    assert other["user_id"] == second["user_id"]

    page.context.set_offline(True)  # everything below works with no network
    answer_all(page, base, number, pack)
    page.goto(f"{base}/field/#/visit/{number}")
    page.select_option("#result", "no_problem")
    page.wait_for_selector("text=检查项目与结论一致。")
    page.click("#go-sign")

    # the record in words comes first, in Chinese
    summary = page.locator("section.summary-doc")
    summary.wait_for()
    text = summary.inner_text()
    assert pack["visit"]["employer"]["name"] in text
    assert pack["items"][0]["questions"][0]["text"] in text and "符合" in text
    assert "未发现问题" in text and "未发现不符合的问题" in text

    # the first inspector signs; the pad is rotated to landscape and back before confirming
    page.locator(f'li.sign-row[data-signer="inspector-{me["user_id"]}"]').get_by_role("button").click()
    page.wait_for_selector("canvas.pad")
    draw(page, how)
    page.wait_for_function("() => Number(document.querySelector('canvas.pad').dataset.points) >= 10")
    portrait = ink_box(page)
    viewshot(page, f"field-sign-pad-{'phone' if size is PHONE else 'tablet'}")
    page.set_viewport_size({"width": size["height"], "height": size["width"]})
    page.wait_for_function("(s) => document.querySelector('canvas.pad').dataset.size !== s", arg=portrait["size"])
    landscape = ink_box(page)
    viewshot(page, f"field-sign-pad-landscape-{'phone' if size is PHONE else 'tablet'}")
    assert landscape["points"] == portrait["points"]  # every point kept
    assert landscape["ink"] > 0.3 * portrait["ink"]
    # scaled, not stretched: the signature keeps its proportions
    assert landscape["w"] / landscape["h"] == pytest.approx(portrait["w"] / portrait["h"], rel=0.15)
    page.set_viewport_size(size)
    page.wait_for_function("(s) => document.querySelector('canvas.pad').dataset.size === s", arg=portrait["size"])
    back = ink_box(page)
    assert back["points"] == portrait["points"]
    assert back["w"] == pytest.approx(portrait["w"], rel=0.1) and back["h"] == pytest.approx(portrait["h"], rel=0.1)
    page.click("#pad-confirm")
    page.wait_for_selector(f'li.sign-row.signed[data-signer="inspector-{me["user_id"]}"]')

    # the colleague signs: a scribble is refused on the phone, as the server would
    sign(page, f"inspector-{other['user_id']}", how, expect_refusal_of_scribble=True)
    # the representative: name and role, then the signature
    sign_as_representative(page, how)
    if size is PHONE:
        shots(page, "field-signing-view")
    page.click("#seal-record")
    page.wait_for_selector("section.sealed-card")
    first_seal = page.locator(".seal-code").inner_text()
    assert len(first_seal) == 64

    # sealed (not sent yet: offline): the record is locked, a tap on an answer changes nothing
    item, q = pack["items"][0], pack["items"][0]["questions"][0]["code"]
    page.goto(f"{base}/field/#/visit/{number}/item/{item['code']}")
    page.locator("#record-locked").wait_for()
    page.locator(f'fieldset[data-question="{q}"] label.choice.not_applicable').click(force=True)
    assert page.locator(f'fieldset[data-question="{q}"] input[value=compliant]').is_checked()
    # a change is a correction: a reason, and the signatures it voids named
    page.click("#start-correction")
    assert "王建国（法定代表人）" in page.locator("#correction-voids").inner_text()
    page.fill("#correction-start-reason", "封存后发现第一项应为“不适用”。")
    page.click("#correction-confirm")
    page.locator("#record-locked").wait_for(state="detached")
    page.locator(f'fieldset[data-question="{q}"] label.choice.not_applicable').click()
    page.wait_for_selector(f'fieldset[data-question="{q}"] input[value=not_applicable]:checked')
    page.goto(f"{base}/field/#/visit/{number}/sign")
    page.wait_for_selector("section.correction")
    assert page.locator("li.sign-row.signed").count() == 0
    assert page.locator("section.sealed-card").count() == 0
    assert page.locator("#rep-name").input_value() == "王建国"  # kept for signing again

    # sign again, seal again
    sign(page, f"inspector-{me['user_id']}", how)
    sign(page, f"inspector-{other['user_id']}", how)
    sign(page, "representative", how)
    page.click("#seal-record")
    page.wait_for_selector("section.sealed-card")
    seal = page.locator(".seal-code").inner_text()
    assert seal != first_seal

    # on the phone: the first sealed revision still waits, with its signatures (never replaced),
    # then the sealed correction naming it, with three new signatures
    dev = device(page, number)
    sealed = sorted((e for e in dev["outbox"] if e["kind"] == "record" and e.get("sealed")), key=lambda e: e["seq"])
    assert [e["body"]["seal"] for e in sealed] == [first_seal, seal]
    assert sealed[1]["body"]["corrects"] == sealed[0]["key"]
    assert len([e for e in dev["outbox"] if e["kind"] == "signature"]) == 6
    assert len(dev["signatures"]) == 6 and all(s["hasStrokes"] and s["hasSvg"] for s in dev["signatures"])

    # the record view, printable
    page.goto(f"{base}/field/#/visit/{number}/record")
    page.wait_for_selector("#print-record")
    assert page.locator(".sig-figure img").count() == 3
    assert seal in page.locator(".seal-line").inner_text()
    page.emulate_media(media="print")  # the print stylesheet: the record only, no app chrome
    assert page.evaluate("() => getComputedStyle(document.querySelector('.bar')).display") == "none"
    assert page.evaluate("() => getComputedStyle(document.querySelector('#print-record')).display") == "none"
    assert page.locator(".print-title").is_visible()
    if size is PHONE:
        shots(page, "field-record-print")
    page.emulate_media(media="screen")

    page.context.set_offline(False)
    wait_all_sent(page)
    state = page.request.get(f"{base}/api/v1/field/visits/{number}/record").json()
    assert state["seal"] == seal and state["sealed_revision_uuid"] == state["revision_uuid"]
    assert state["complete"] is True and state["missing_signatures"] == []
    body = state["body"]
    kinds = sorted(s["signer"]["kind"] for s in body["signatures"])
    assert kinds == ["inspector", "inspector", "representative"]
    assert {s["signer"].get("user_id") for s in body["signatures"]} >= {me["user_id"], other["user_id"]}
    assert next(a for a in body["answers"] if a["question"] == q)["answer"] == "not_applicable"
    assert body["corrects"] and body["correction_reason"] == "封存后发现第一项应为“不适用”。"
    counts = server_counts(server_python, number)
    assert counts["sealed"] == 2  # the first seal stays on record, corrected
    assert set(s["uuid"] for s in body["signatures"]) <= set(counts["signatures"])
    assert len(counts["signatures"]) == 6
    # after the receipts, the strokes and SVGs leave the phone; the PNGs stay for the record view
    dev = device(page, number)
    assert all(s["status"] == "sent" and not s["hasStrokes"] and not s["hasSvg"] and s["hasPng"]
               for s in dev["signatures"])

    # online, the record view links the server's documents
    page.goto(f"{base}/field/#/visit/{number}/record")
    href = page.locator("#server-pdf").get_attribute("href")
    assert href == f"/visits/{number}/record.pdf"
    # The PDF is made once by the job queue's worker when the sealed record is complete; until
    # it is kept, the address leads to the job's progress page.
    deadline = time.monotonic() + 120
    while True:
        pdf = page.request.get(base + href, timeout=90_000)
        if pdf.headers["content-type"].startswith("application/pdf") \
                or time.monotonic() > deadline:
            break
        page.wait_for_timeout(500)
    assert pdf.status == 200 and pdf.headers["content-type"].startswith("application/pdf")
    if size is TABLET:
        correct_the_sealed_record(page, base, number, pack, state, how, me, other, server_python)


def correct_the_sealed_record(page, base, number, pack, sealed, how, me, other, server_python):
    """The sealed revision reached the server: a change is now a correction naming it, with a
    reason, signed and sealed again; the original stays."""
    item, q = pack["items"][0], pack["items"][0]["questions"][0]["code"]
    page.goto(f"{base}/field/#/visit/{number}/item/{item['code']}")
    page.click("#start-correction")
    page.fill("#correction-start-reason", "第一项误录为“不适用”，现场核实为“符合”。")
    page.click("#correction-confirm")
    page.locator("#record-locked").wait_for(state="detached")
    page.locator(f'fieldset[data-question="{q}"] label.choice.compliant').click()
    page.wait_for_selector(f'fieldset[data-question="{q}"] input[value=compliant]:checked')
    page.goto(f"{base}/field/#/visit/{number}/sign")
    page.wait_for_selector("section.correction")
    assert page.locator("#correction-reason").input_value().startswith("第一项误录")
    sign(page, f"inspector-{me['user_id']}", how)
    sign(page, f"inspector-{other['user_id']}", how)
    sign(page, "representative", how)
    page.click("#seal-record")
    page.wait_for_selector("section.sealed-card")
    wait_all_sent(page)
    state = page.request.get(f"{base}/api/v1/field/visits/{number}/record").json()
    assert state["body"]["corrects"] == sealed["revision_uuid"]
    assert state["body"]["correction_reason"].startswith("第一项误录")
    assert state["seal"] != sealed["seal"] and state["complete"] is True
    assert server_counts(server_python, number)["sealed"] == 3  # the originals stay on record


def test_refusal_with_a_witness_is_sealed_and_arrives(make_page, live_server, server_python, shots):
    page, base = make_page(PHONE), live_server
    number = visit_number(page, base, -3)
    link_colleague(server_python, number)
    pack = download(page, base, number)
    me = next(m for m in pack["team"] if m["is_me"])
    other = next(m for m in pack["team"] if not m["is_me"])

    page.context.set_offline(True)
    page.goto(f"{base}/field/#/visit/{number}/sign")
    page.locator("label.choice:has(input[name=employer-mode][value=refusal])").click()
    page.locator("label.choice:has(input[name=refusal-reason][value=nobody_present])").click()
    # the reason narrows the result categories to those the server allows
    buttons = page.locator(".category-buttons button")
    buttons.first.wait_for()
    assert sorted(buttons.evaluate_all("els => els.map(e => e.dataset.category)")) == ["no_activity", "unreachable"]
    page.click('.category-buttons button[data-category="unreachable"]')
    page.wait_for_selector('.category-buttons button[data-category="unreachable"][aria-pressed="true"]')
    page.fill("#refusal-explanation", "9时30分到达登记住所，大门紧锁，无人应答，电话无人接听。")
    page.locator("#refusal-explanation").blur()
    page.set_input_files("#scene-photo", file("gate.jpg", jpeg((90, 90, 90))))
    page.wait_for_selector(".scene figure.thumb")
    page.click("#add-witness")
    page.fill("#witness-0", "物业管理员 李明")
    page.locator("#witness-0").blur()
    page.wait_for_selector('li.sign-row[data-signer="witness-0"]')
    sign(page, "witness-0", "touch")
    sign(page, f"inspector-{me['user_id']}", "touch")
    sign(page, f"inspector-{other['user_id']}", "touch")
    assert page.locator('li.sign-row[data-signer="representative"]').count() == 0
    page.wait_for_selector("#seal-record:not([disabled])")
    shots(page, "field-refusal-view")
    body = seal_and_send(page, base, number)["body"]
    assert body["result_category"] == "unreachable"
    assert body["refusal"]["reason"] == "nobody_present"
    assert body["refusal"]["witnesses"] == [{"name": "物业管理员 李明"}]
    assert body["refusal"]["photos"] == [p["uuid"] for p in body["photos"]]
    assert sorted(s["signer"]["kind"] for s in body["signatures"]) == ["inspector", "inspector", "witness"]
    assert server_counts(server_python, number)["sealed"] == 1
