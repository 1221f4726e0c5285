"""The verifier on a draw's public page, in Chromium: the button re-runs the demo's draws and
every pick agrees with the record; an altered pool file or an altered record (served by
Playwright in place of the real one) is named as a failure; the page in English; and without
JavaScript the page still explains how to check the draw, with no dead button."""
from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

TARGET = "DRAW-2026-0001"   # the demo's target draw
TEAM = "DRAW-2026-0002"     # and its team draw
SHOTS = Path("/tmp/shots")


def open_draw(page, base: str, draw: str) -> None:
    page.goto(f"{base}/public/draws/{draw}")
    if page.locator("#check-guide").count() == 0:
        pytest.fail(f"{draw}'s record is not public in full on the demo (withheld?)", pytrace=False)


def run_check(page):
    page.click("#browser-check-run")
    summary = page.locator("#browser-check-result .verify-summary")
    expect(summary).to_be_visible(timeout=30_000)
    return summary


def box_shot(page, tmp_path: Path, name: str) -> Path:
    """The verifier's box alone (the full page is long), beside the full-page shots."""
    path = tmp_path / f"{name}.png"
    page.locator("#browser-check").screenshot(path=str(path))
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, SHOTS / path.name)
    return path


def picks_of(record: dict) -> int:
    return sum(len(r["positions"]) for r in record["results"])


PYTHON_VERDICT = """
import json, sys
from decimal import Decimal
from app import app
from inspection.draws.engine.verify import verify
client = app.test_client()
base = "/public/draws/" + sys.argv[1]
record = json.loads(client.get(base + "/record.json").data, parse_float=Decimal)
files = {p["name"]: client.get(f"{base}/pools/{p['name']}.txt").data
         for p in record["commitment"]["pools"]}
print(json.dumps(verify(record, files)))
"""


def expect_python_verdict(page, server_python, draw: str) -> None:
    """The page's verdict is verify.py's on the same files: agreement when it finds nothing,
    else exactly its problems (the demo's draws verify; should they not, the page must say
    so just as verify.py does)."""
    problems = json.loads(server_python(PYTHON_VERDICT, draw))
    summary = page.locator("#browser-check-result .verify-summary")
    if not problems:
        expect(summary).to_have_class("verify-summary ok")
        return
    expect(summary).to_have_class("verify-summary bad")
    shown = page.locator("#browser-check-result .verify-problems li code").all_inner_texts()
    assert [p for p in problems if " not re-run because " not in p] == shown


def test_the_demo_target_draw_agrees_and_a_changed_pool_file_is_named(desktop, live_server, shots,
                                                                    server_python, tmp_path):
    page = desktop
    open_draw(page, live_server, TARGET)
    expect(page.locator("#browser-check")).to_be_visible()
    record = page.request.get(f"{live_server}/public/draws/{TARGET}/record.json").json()
    run_check(page)
    expect_python_verdict(page, server_python, TARGET)
    rows = page.locator("#browser-check-result details.verify-pool tbody tr")
    expect(rows).to_have_count(picks_of(record))
    assert page.locator("#browser-check-result details .mark.bad").count() == 0
    assert page.locator("#browser-check-result tbody .mark.ok").count() == picks_of(record)
    # the record's first pick is shown next to the re-run's: same line, same ID
    first = record["results"][0]
    row = page.locator(f'details[data-pool="{first["pool"]}"] tbody tr').first
    expect(row).to_contain_text(str(first["positions"][0]))
    expect(row).to_contain_text(first["selected"][0])
    key = record["execution"]["key_string"]
    expect(page.locator("#browser-check-result")).to_contain_text(key)
    expect(page.locator("#check-guide")).to_contain_text(key)
    shots(page, "draw-verifier-desktop-ok")
    box_shot(page, tmp_path, "draw-verifier-box-ok")

    # One ID changed in a pool file, as a tampered download would be.
    pool = record["commitment"]["pools"][-1]

    def altered(route):
        body = route.fetch().body()
        lines = body.decode().splitlines()
        lines[0] = lines[0][:-1] + ("0" if lines[0][-1] != "0" else "1")
        route.fulfill(body="".join(line + "\n" for line in lines).encode(),
                      content_type="text/plain; charset=utf-8")

    page.route(f"**/public/draws/{TARGET}/pools/{pool['name']}.txt", altered)
    summary = run_check(page)
    expect(summary).to_have_class("verify-summary bad")
    problems = page.locator("#browser-check-result .verify-problems")
    expect(problems).to_contain_text(f"名单 {pool['name']}")
    expect(problems).to_contain_text(pool["sha256"])
    expect(problems).to_contain_text("SHA-256 differs from the commitment")
    expect(page.locator(f'details[data-pool="{pool["name"]}"] summary')).to_contain_text("不一致")
    shots(page, "draw-verifier-desktop-pool-altered")
    box_shot(page, tmp_path, "draw-verifier-box-pool-altered")


def test_an_altered_record_is_named(desktop, live_server):
    page = desktop
    open_draw(page, live_server, TARGET)
    url = f"{live_server}/public/draws/{TARGET}/record.json"
    record = page.request.get(url).json()
    result = next(r for r in record["results"] if len(r["positions"]) >= 2)
    result["positions"][0], result["positions"][1] = result["positions"][1], result["positions"][0]
    body = json.dumps(record, ensure_ascii=False).encode()
    page.route(url, lambda route: route.fulfill(body=body, content_type="application/json"))
    summary = run_check(page)
    expect(summary).to_have_class("verify-summary bad")
    problems = page.locator("#browser-check-result .verify-problems")
    expect(problems).to_contain_text(f"名单 {result['pool']} 第 1 个抽中对象")
    expect(problems).to_contain_text(f"pool {result['pool']}: pick 1 differs")
    bad = page.locator(f'details[data-pool="{result["pool"]}"] tbody tr.bad')
    expect(bad).to_have_count(2)
    # the logged result is no longer this record's
    expect(problems).to_contain_text("this is not the record the bureau logged")


def test_the_demo_team_draw_agrees_in_english(desktop, live_server, shots, server_python):
    page = desktop
    page.context.add_cookies([{"name": "lang", "value": "en", "url": live_server}])
    open_draw(page, live_server, TEAM)
    record = page.request.get(f"{live_server}/public/draws/{TEAM}/record.json").json()
    summary = run_check(page)
    expect_python_verdict(page, server_python, TEAM)
    expect(summary).to_contain_text("The re-run")
    teams = page.locator("#browser-check-result details.verify-teams tbody tr")
    expect(teams).to_have_count(len(record["assignment"]))
    assert page.locator("#browser-check-result details .mark.bad").count() == 0
    first = record["assignment"][0]
    expect(teams.first).to_contain_text(" + ".join(first["team"]))
    if "log" in record:
        expect(page.locator("#browser-check-result .verify-log")).to_contain_text("Public log")
    else:
        expect(page.locator("#log-absent")).to_be_visible()
    guide = page.locator("#check-guide")
    expect(guide).to_contain_text("Who goes on which visit")
    expect(guide).to_contain_text("always on the same visits")
    shots(page, "draw-verifier-desktop-team-en")


def test_without_javascript_the_page_explains_and_offers_no_button(browser, live_server):
    context = browser.new_context(java_script_enabled=False, locale="zh-CN")
    try:
        page = context.new_page()
        page.goto(f"{live_server}/public/draws/{TARGET}")
        expect(page.locator("#browser-check")).to_be_hidden()
        guide = page.locator("#check-guide")
        expect(guide).to_be_visible()
        expect(guide).to_contain_text("密钥字符串")
        record = page.request.get(f"{live_server}/public/draws/{TARGET}/record.json").json()
        expect(guide).to_contain_text(record["execution"]["key_string"])
        # step 1 of the first pool, as md5sum would give it
        key = record["execution"]["key_string"].encode()
        first = hashlib.md5(b"\0\0" + key + b"\0\0").hexdigest().upper()
        expect(guide).to_contain_text(first)
    finally:
        context.close()
