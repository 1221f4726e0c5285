"""Deleting an evidence photo (issue 5): only one that has not been sent, only after a confirm;
a photo that has been sent (or may have reached the server) cannot be lost from the phone.
"""
from __future__ import annotations

from test_field_offline import file, inspector, jpeg, open_field, outbox_statuses, wait_all_sent  # noqa: F401
from test_field_session import DEVICE, download_and_open

THUMBS = "(q) => document.querySelectorAll(`fieldset[data-question='${q}'] figure.thumb`).length"


def test_an_unsent_photo_can_be_deleted_a_sent_one_cannot(inspector, live_server):
    page, base, context = inspector, live_server, inspector.context
    open_field(page, base)
    number, code = download_and_open(page, 4)
    item_url = page.url
    context.set_offline(True)
    block = page.locator(f'fieldset[data-question="{code}"]')
    block.locator("label.choice.non_compliant").click()
    page.fill(f"#note-{code}", "消防通道堆放杂物。")
    page.set_input_files(f"#gallery-{code}", [file("keep.jpg", jpeg((30, 120, 30))),
                                              file("wrong.jpg", jpeg((200, 200, 30)))])
    page.wait_for_function(f"{THUMBS} === 2", arg=code)
    keep, wrong = block.locator("figure.thumb").evaluate_all(
        "els => els.map((e) => e.dataset.photo)")  # in the order they were taken

    # No: the dialog is dismissed, nothing changes.
    messages: list[str] = []
    page.once("dialog", lambda dialog: (messages.append(dialog.message), dialog.dismiss()))
    block.locator(f'figure[data-photo="{wrong}"] button.delete').click()
    assert messages and "还没有上传" in messages[0]
    assert page.evaluate(THUMBS, code) == 2

    # Yes: the photo and its queued upload go, and the record's next revision drops it.
    page.once("dialog", lambda dialog: dialog.accept())
    block.locator(f'figure[data-photo="{wrong}"] button.delete').click()
    page.wait_for_function(f"{THUMBS} === 1", arg=code)
    block.get_by_text("照片已删除").wait_for()
    after = page.evaluate(DEVICE, number)
    assert [p["uuid"] for p in after["photos"]] == [keep]
    assert wrong not in {e["key"] for e in after["outbox"]}
    assert sorted(e["kind"] for e in after["outbox"]) == ["photo", "record"]

    # Online: the server gets one photo, and the record lists only that one.
    context.set_offline(False)
    page.get_by_role("button", name="同步").click()
    wait_all_sent(page)
    state = page.request.get(f"{base}/api/v1/field/visits/{number}/record").json()
    assert state["photos_listed"] == [keep] and state["photos_received"] == [keep]
    assert state["complete"] is True

    # The sent photo: shown as sent, no delete button, and the device refuses to delete it.
    page.goto(item_url)
    sent = page.locator(f'figure[data-photo="{keep}"]')
    sent.wait_for()
    assert "已上传" in sent.inner_text()
    assert sent.locator("button.delete").count() == 0
    refused = page.evaluate("""async (uuid) => {
        const photos = await import('/static/field/photos.js');
        return photos.deleteUnsentPhoto(uuid);
    }""", keep)
    assert refused is False
    kept = page.evaluate(DEVICE, number)
    assert [p["uuid"] for p in kept["photos"]] == [keep]
    assert outbox_statuses(page) == ["sent"] * len(kept["outbox"])


def test_a_photo_that_may_have_reached_the_server_is_not_deleted(inspector, live_server):
    """A PUT went out and no receipt came back (maybe_sent): the server may hold the photo."""
    page, base, context = inspector, live_server, inspector.context
    open_field(page, base)
    number, code = download_and_open(page, 6)
    context.set_offline(True)
    page.locator(f'fieldset[data-question="{code}"] label.choice.non_compliant').click()
    page.fill(f"#note-{code}", "安全出口锁闭。")
    page.set_input_files(f"#gallery-{code}", [file("maybe.jpg", jpeg((90, 30, 90)))])
    page.wait_for_function(f"{THUMBS} === 1", arg=code)
    uuid = page.evaluate(DEVICE, number)["photos"][0]["uuid"]
    page.evaluate("""async (key) => {  // as resetInterrupted leaves an interrupted upload
        const db = await new Promise((ok) => { const r = indexedDB.open('field-app'); r.onsuccess = () => ok(r.result); });
        const tx = db.transaction('outbox', 'readwrite');
        const index = tx.objectStore('outbox').index('key');
        await new Promise((ok) => { index.get(key).onsuccess = (e) => {
            tx.objectStore('outbox').put({ ...e.target.result, maybe_sent: true, attempts: 1 }); ok(); }; });
        await new Promise((ok) => { tx.oncomplete = ok; });
        db.close();
    }""", uuid)
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator(f'figure[data-photo="{uuid}"] button.delete').click()
    page.get_by_text("这张照片已上传或正在上传，不能删除。").wait_for()
    device = page.evaluate(DEVICE, number)
    assert [p["uuid"] for p in device["photos"]] == [uuid] and device["photos"][0]["hasBytes"]
    assert uuid in {e["key"] for e in device["outbox"]}
    assert page.locator(f'figure[data-photo="{uuid}"]').count() == 1
