"""The field app offline, end to end (issue 5): download a visit, lose the network, reload,
fill the checklist, attach photos, close the page, find everything again offline, come back
online, sync, and find exactly one record with all its photos on the server.

The server is the real one (``live_server``: gunicorn, demo bureau, inspector1 has visits).
Chromium's offline emulation makes fetches fail with ERR_INTERNET_DISCONNECTED, which
Chromium also logs as console errors: those, and only those, are allowed.
"""
from __future__ import annotations

import io

import pytest
from PIL import Image

OFFLINE_ERRORS = r"ERR_INTERNET_DISCONNECTED|Failed to fetch|net::ERR_FAILED"


def jpeg(colour, size=(2400, 1800)) -> bytes:
    """A real camera-sized JPEG (bigger than 1600 px, so the phone must resize it)."""
    image = Image.new("RGB", size, colour)
    for x in range(0, size[0], 200):  # some structure, so it is not a trivial image
        image.paste((255 - colour[0], colour[1], 255 - colour[2]), (x, 0, x + 60, size[1]))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def file(name: str, data: bytes) -> dict:
    return {"name": name, "mimeType": "image/jpeg", "buffer": data}


def open_field(page, base):
    page.goto(base + "/field/")
    page.wait_for_function("() => navigator.serviceWorker && navigator.serviceWorker.controller !== null")
    page.wait_for_selector("article.visit")


def outbox_statuses(page) -> list[str]:
    page.goto(page.url.split("#")[0] + "#/outbox")
    page.wait_for_selector("p.summary")
    return page.eval_on_selector_all("li.entry", "els => els.map(e => e.dataset.status)")


def wait_all_sent(page, timeout=20_000):
    page.goto(page.url.split("#")[0] + "#/outbox")
    page.wait_for_function(
        """() => {
            const entries = [...document.querySelectorAll('li.entry')];
            return entries.length > 0 && entries.every(e => e.dataset.status === 'sent');
        }""", timeout=timeout, polling=250)


@pytest.fixture
def inspector(phone, live_server, login, watch):
    watch.allow(OFFLINE_ERRORS)
    context = phone.context
    context.grant_permissions(["geolocation"], origin=live_server)
    context.set_geolocation({"latitude": 36.8166, "longitude": 118.3058, "accuracy": 25})
    login(phone, live_server, "inspector1")
    return phone


def test_offline_round_trip(inspector, live_server, shots):
    page, base = inspector, live_server
    context = page.context
    open_field(page, base)

    visits = page.request.get(base + "/api/v1/field/visits").json()
    announced = [v for v in visits if v["announced"]]
    number = (announced or visits)[0]["number"]  # with the notice record when there is one
    card = page.locator(f'article.visit[data-visit="{number}"]')
    card.get_by_role("button", name="下载离线包").click()
    card = page.locator(f'article.visit[data-visit="{number}"]')
    card.get_by_role("link", name="开始检查").wait_for()
    shots(page, "field-visits")

    # No network at all from here on: the worker serves the shell, IndexedDB the data.
    context.set_offline(True)
    page.reload()
    page.wait_for_selector(f'article.visit[data-visit="{number}"]')
    assert page.locator("#net").inner_text() == "离线"
    page.locator(f'article.visit[data-visit="{number}"]').get_by_role("link", name="开始检查").click()
    page.wait_for_selector("text=被检查单位")

    pack = page.evaluate("""async (number) => {
        const db = await new Promise((ok, ko) => { const r = indexedDB.open('field-app');
            r.onsuccess = () => ok(r.result); r.onerror = ko; });
        return await new Promise((ok) => { const q = db.transaction('packs').objectStore('packs').get(number);
            q.onsuccess = () => ok(q.result.pack); });
    }""", number)
    if pack["visit"].get("announced", True):
        page.fill("#notice-date", "2026-03-02")
        page.locator("label.choice:has(input[name=notice-way][value=phone])").click()
    page.get_by_role("button", name="记录到达时间和位置").click()
    page.wait_for_selector("text=到达时间")

    item = pack["items"][0]
    q1, q2 = item["questions"][0]["code"], item["questions"][1]["code"]
    page.locator(f'a.item-link[href$="/item/{item["code"]}"]').click()
    page.wait_for_selector(f'fieldset[data-question="{q1}"]')
    page.locator(f'fieldset[data-question="{q1}"] label.choice.compliant').click()
    page.locator(f'fieldset[data-question="{q2}"] label.choice.non_compliant').click()
    page.fill(f"#note-{q2}", "工资表显示2026年2月工资于3月25日发放，晚于约定的15日。")
    page.locator(f'fieldset[data-question="{q2}"] label.choice:has(input[value=rectify])').click()
    page.fill(f"#due-{q2}", "2026-07-15")
    page.fill(f"#order-text-{q2}", "限期足额支付拖欠工资")
    page.set_input_files(f"#camera-{q2}", file("wage-sheet.jpg", jpeg((200, 40, 40))))
    page.wait_for_selector(f'fieldset[data-question="{q2}"] figure.thumb')
    page.check(f"#copy-{q2}")
    page.set_input_files(f"#gallery-{q2}", [file("bank-1.jpg", jpeg((40, 160, 40))),
                                            file("bank-2.jpg", jpeg((40, 40, 200), (1200, 1600)))])
    page.wait_for_function(
        "(q) => document.querySelectorAll(`fieldset[data-question='${q}'] figure.thumb`).length === 3", arg=q2)
    shots(page, "field-checklist")

    page.goto(f"{base}/field/#/visit/{number}")
    page.wait_for_selector("#result")
    page.select_option("#result", "rectification_ordered")
    page.wait_for_selector("text=检查项目与结论一致。")
    shots(page, "field-visit")
    page.wait_for_selector("p.saved:has-text('第')")
    statuses = outbox_statuses(page)
    assert statuses and set(statuses) == {"waiting"}, statuses
    assert statuses.count("waiting") >= 4  # a record revision and three photos

    # Close the page; open a new one, still offline: everything is there.
    page.close()
    page = context.new_page()
    page.goto(f"{base}/field/#/visit/{number}/item/{item['code']}")
    page.wait_for_selector(f'fieldset[data-question="{q2}"]')
    assert page.is_checked(f'fieldset[data-question="{q1}"] input[value=compliant]')
    assert page.is_checked(f'fieldset[data-question="{q2}"] input[value=non_compliant]')
    assert "3月25日" in page.input_value(f"#note-{q2}")
    assert page.input_value(f"#due-{q2}") == "2026-07-15"
    assert page.locator(f'fieldset[data-question="{q2}"] figure.thumb').count() == 3
    page.goto(f"{base}/field/#/visit/{number}")
    page.wait_for_selector("#result")
    assert page.input_value("#result") == "rectification_ordered"
    assert "到达时间" in page.inner_text("body")

    # Back online: the outbox empties itself, everything with a receipt.
    context.set_offline(False)
    page.get_by_role("button", name="同步").click()
    wait_all_sent(page)
    shots(page, "field-outbox")
    receipts = page.locator("li.entry.sent p.small").all_inner_texts()
    assert all(text.startswith("服务器回执") for text in receipts)

    state = page.request.get(f"{base}/api/v1/field/visits/{number}/record").json()
    device = page.evaluate("""async (number) => {
        const db = await new Promise((ok) => { const r = indexedDB.open('field-app'); r.onsuccess = () => ok(r.result); });
        const all = (store) => new Promise((ok) => { const q = db.transaction(store).objectStore(store).getAll(); q.onsuccess = () => ok(q.result); });
        const records = (await all('records')).filter((r) => r.visit === number);
        const photos = (await all('photos')).filter((p) => p.visit === number);
        const outbox = (await all('outbox')).filter((e) => e.visit === number);
        return { records, outbox, photos: photos.map((p) => ({ uuid: p.uuid, hasBytes: !!p.data, hasThumb: !!p.thumb, sha256: p.sha256 })) };
    }""", number)
    assert len(device["records"]) == 1
    record = device["records"][0]
    sent_revisions = [e for e in device["outbox"] if e["kind"] == "record"]
    assert state["record_id"] == record["record_id"]
    assert state["revision"] == record["revision"]
    assert state["revisions"] == len(sent_revisions)  # one per upload: nothing doubled
    assert state["complete"] is True and state["missing_photos"] == []
    photo_ids = sorted(p["uuid"] for p in device["photos"])
    assert sorted(state["photos_listed"]) == photo_ids
    assert sorted(state["photos_received"]) == photo_ids
    body = state["body"]
    if pack["visit"]["announced"]:
        assert body["notice"] == {"date": "2026-03-02", "way": "phone"}
    else:
        assert body["notice"] is None
    assert body["result_category"] == "rectification_ordered"
    answers = {a["question"]: a for a in body["answers"]}
    assert answers[q1]["answer"] == "compliant"
    assert answers[q2]["answer"] == "non_compliant"
    assert answers[q2]["order"] == {"kind": "rectify", "due": "2026-07-15", "text": "限期足额支付拖欠工资"}
    assert body["arrival"]["location"]["lat"] == pytest.approx(36.8166)
    copies = [p for p in body["photos"] if p["document_copy"]]
    assert len(copies) == 2 and all(p["question"] == q2 for p in body["photos"])
    # sent photos leave the phone (only the thumbnail stays), and only after the receipt
    assert all(not p["hasBytes"] and p["hasThumb"] for p in device["photos"])


def test_typing_goes_on_while_the_answer_is_saved(inspector, live_server):
    """Choosing 不符合 and typing the problem at once: the note field is not replaced when the
    answer's save completes (a replaced field loses the focus and what was typed), and every
    character ends up in the record."""
    page, base = inspector, live_server
    open_field(page, base)
    number = page.locator("article.visit").first.get_attribute("data-visit")
    card = page.locator(f'article.visit[data-visit="{number}"]')
    card.get_by_role("button", name="下载离线包").click()
    card.get_by_role("link", name="开始检查").click()
    page.locator("a.item-link").first.click()
    question = page.locator("fieldset.question").first
    code = question.get_attribute("data-question")
    page.evaluate("(id) => { window.__note = document.getElementById(id); }", f"note-{code}")
    question.locator("label.choice.non_compliant").click()
    page.locator(f"#note-{code}").press_sequentially("工资台账缺失", delay=5)
    page.wait_for_selector(f"label[for='note-{code}']:has-text('发现的问题')")
    assert page.evaluate("(id) => document.getElementById(id) === window.__note"
                         " && document.activeElement === window.__note", f"note-{code}")
    page.wait_for_function(
        """async ([visit, q]) => {
            const db = await new Promise((ok) => { const r = indexedDB.open('field-app'); r.onsuccess = () => ok(r.result); });
            const all = await new Promise((ok) => { const g = db.transaction('records').objectStore('records').getAll(); g.onsuccess = () => ok(g.result); });
            const record = all.find((r) => r.visit === visit);
            return record && record.answers[q] && record.answers[q].note === '工资台账缺失';
        }""", arg=[number, code], polling=200)
