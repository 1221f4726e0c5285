"""The field app and the session (issue 5): a stale CSRF token is replaced before anything is
sent, and an expired session keeps every queued record and photo, asks the inspector to sign in
again, and then sends everything exactly once.

Each test works on a visit of its own (inspector1 has 16 demo visits; other modules use the
first and the last), since the live server is shared by the whole session.
"""
from __future__ import annotations

import re

from inspection.core.passwords import DEMO_PASSWORD
from test_field_offline import file, inspector, jpeg, open_field, outbox_statuses, wait_all_sent  # noqa: F401

DEVICE = """async (number) => {
    const db = await new Promise((ok) => { const r = indexedDB.open('field-app'); r.onsuccess = () => ok(r.result); });
    const all = (store) => new Promise((ok) => { const q = db.transaction(store).objectStore(store).getAll(); q.onsuccess = () => ok(q.result); });
    const outbox = (await all('outbox')).filter((e) => e.visit === number);
    const photos = (await all('photos')).filter((p) => p.visit === number);
    db.close();
    return { outbox: outbox.map((e) => ({ key: e.key, kind: e.kind, status: e.status })),
             photos: photos.map((p) => ({ uuid: p.uuid, hasBytes: !!p.data })) };
}"""


def download_and_open(page, index: int) -> tuple[str, str]:
    """Download the index-th visit, open its first item: (visit number, first question)."""
    number = page.locator("article.visit").nth(index).get_attribute("data-visit")
    card = page.locator(f'article.visit[data-visit="{number}"]')
    card.get_by_role("button", name="下载离线包").click()
    card.get_by_role("link", name="开始检查").click()
    page.locator("a.item-link").first.click()
    question = page.locator("fieldset.question").first
    question.wait_for()
    return number, question.get_attribute("data-question")


def form_token(html: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def puts(page) -> list[dict]:
    """Every PUT of the field API the page makes from now on, with its answer."""
    seen: list[dict] = []
    page.on("response", lambda r: seen.append({
        "url": r.url, "status": r.status, "token": r.request.headers.get("x-csrftoken")})
        if r.request.method == "PUT" and "/api/v1/field/" in r.url else None)
    return seen


def test_a_stale_csrf_token_is_refreshed_before_sending(inspector, live_server):
    page, base, context = inspector, live_server, inspector.context
    open_field(page, base)
    number, code = download_and_open(page, 2)
    item_url = page.url
    sent = puts(page)
    # Online first: a save goes out, and the app now holds a CSRF token.
    page.locator(f'fieldset[data-question="{code}"] label.choice.compliant').click()
    wait_all_sent(page)
    old_token = sent[0]["token"]
    assert old_token and sent[0]["status"] == 201

    # Offline work: a changed answer and a photo, queued.
    context.set_offline(True)
    page.goto(item_url)
    block = page.locator(f'fieldset[data-question="{code}"]')
    block.locator("label.choice.non_compliant").click()
    page.fill(f"#note-{code}", "未按规定公示最低工资标准。")
    page.set_input_files(f"#gallery-{code}", [file("notice-board.jpg", jpeg((60, 60, 160)))])
    block.locator("figure.thumb").wait_for()
    assert set(outbox_statuses(page)) == {"sent", "waiting"}

    # Meanwhile the inspector signed out and in again (another tab, the office pages): a new
    # session, so the token the field app holds is stale. The browser itself is still offline;
    # the context's own request client shares its cookies.
    home = context.request.get(base + "/").text()
    context.request.post(base + "/logout", form={"csrf_token": form_token(home)})
    login_page = context.request.get(base + "/login").text()
    answer = context.request.post(base + "/login", form={
        "csrf_token": form_token(login_page), "username": "inspector1",
        "password": DEMO_PASSWORD, "next": ""})
    assert answer.ok and "/login" not in answer.url
    stale = context.request.put(f"{base}/api/v1/field/records/00000000-0000-4000-8000-000000000000",
                                data="{}", headers={"X-CSRFToken": old_token,
                                                    "Content-Type": "application/json"})
    assert stale.status == 400 and stale.json()["error"]["code"] == "csrf_failed"

    before = len(sent)
    context.set_offline(False)
    page.get_by_role("button", name="同步").click()
    wait_all_sent(page)
    later = sent[before:]
    assert len(later) == 2  # the new revision and the photo, each sent once
    assert all(p["status"] == 201 for p in later), later  # no csrf_failed first
    assert all(p["token"] != old_token for p in later)
    state = page.request.get(f"{base}/api/v1/field/visits/{number}/record").json()
    assert state["complete"] is True and len(state["photos_received"]) == 1
    assert state["body"]["answers"][0]["answer"] == "non_compliant"


def test_expired_session_keeps_every_queued_record_and_asks_to_sign_in(inspector, live_server,
                                                                       watch):
    """A 401 while sending keeps every entry; after signing in again they go, exactly once."""
    watch.allow(r"status of 401")
    page, base, context = inspector, live_server, inspector.context
    open_field(page, base)
    number, code = download_and_open(page, 3)
    context.set_offline(True)
    block = page.locator(f'fieldset[data-question="{code}"]')
    block.locator("label.choice.non_compliant").click()
    page.fill(f"#note-{code}", "现场未见劳动合同台账。")
    page.set_input_files(f"#gallery-{code}", [file("a.jpg", jpeg((160, 60, 60))),
                                              file("b.jpg", jpeg((60, 160, 60)))])
    page.wait_for_function(
        "(q) => document.querySelectorAll(`fieldset[data-question='${q}'] figure.thumb`).length === 2",
        arg=code)
    queued = page.evaluate(DEVICE, number)
    assert sorted(e["kind"] for e in queued["outbox"]) == ["photo", "photo", "record"]

    sent = puts(page)
    context.clear_cookies()  # the session is gone (expired, or signed out elsewhere)
    context.set_offline(False)
    page.get_by_role("button", name="同步").click()
    page.get_by_role("alert").filter(has_text="登录已过期").wait_for()
    assert outbox_statuses(page) == ["waiting"] * 3  # kept, none refused
    assert "登录已过期" in page.locator("main").inner_text()
    kept = page.evaluate(DEVICE, number)
    assert {e["key"] for e in kept["outbox"]} == {e["key"] for e in queued["outbox"]}
    assert all(p["hasBytes"] for p in kept["photos"])  # the photos' bytes are still here
    assert all(p["status"] in (401, 403) for p in sent)  # nothing reached the server

    page.get_by_role("link", name="重新登录").click()
    page.wait_for_url("**/login**")
    page.fill('input[name="username"]', "inspector1")
    page.fill('input[name="password"]', DEMO_PASSWORD)
    with page.expect_navigation():
        page.click('form:has(input[name="password"]) button[type="submit"]')
    assert page.url.startswith(base + "/field/")
    wait_all_sent(page)
    ok = [p for p in sent if p["status"] in (200, 201)]
    assert sorted(p["status"] for p in ok) == [201, 201, 201]  # each created once, no replay
    assert len({p["url"] for p in ok}) == 3
    state = page.request.get(f"{base}/api/v1/field/visits/{number}/record").json()
    assert state["revisions"] == 1 and state["complete"] is True
    assert sorted(state["photos_received"]) == sorted(p["uuid"] for p in kept["photos"])
    assert state["body"]["answers"][0]["note"] == "现场未见劳动合同台账。"
