"""Benchmark: the field app's first load (bytes) and its Lighthouse scores at phone size.

    python -m bench.pwa [--runs N] [--lighthouse DIR] [--keep]

The demo bureau is set up on a fresh SQLite file in a temporary directory (``flask init-db``,
``flask seed-demo``) and served by gunicorn (2 workers) on a free port, as ``make run`` does.
One headless Chromium (``/usr/bin/chromium --headless=new --no-sandbox``, its own temporary
profile, a remote-debugging port) is shared by Playwright (which signs in as ``inspector1``
through the sign-in form, so the session cookie lives in the profile) and Lighthouse (which
attaches to the same browser with ``--port``). No cookie is copied by hand.

First load (the budget is 150 KB compressed): a fresh Playwright context opens ``/field/`` and
waits until the service worker controls the page (its precache is complete); every request of
the page and of the worker is recorded. Each distinct URL of the app shell (the shell page,
the manifest, CSS, JS, icons, the worker's script; not the API's JSON, which is data and is
reported apart) is then fetched once more with ``Accept-Encoding: br, gzip`` and measured:

- ``served``: the body bytes as the server sends them (the app gzips the shell's text files
  itself, ``field_views.gzip_shell``; PNG icons go as they are);
- ``gzip`` (level 6, what nginx's ``gzip on`` sends) and ``brotli`` (quality 5): the same
  bodies compressed, with images left as they are (PNG is already compressed);
- ``wire``: what the cold load moved in total, counting each request of the page and of the
  worker's precache (the worker revalidates what the page just loaded: a ``304`` moves no
  body), with the body sizes as served.

The budget figure is ``first_load_gzip_kb``: the distinct shell files, gzip.

Lighthouse 12 (npm ``lighthouse@12``, installed with ``npm install --prefix
.cache/lighthouse lighthouse@12``; the directory is git-ignored) runs with its default mobile
settings (Moto G Power screen, simulated slow 4G and 4x CPU slow-down), categories performance
and accessibility, ``N`` times per page (default 3); the median score counts. Lighthouse resets
the service worker and the Cache Storage before each run (its default ``clearStorageTypes``), so
the shell is loaded cold every time; IndexedDB and cookies are kept.

- the visit list, ``/field/#/visits``: the inspector's visits from ``/api/v1/field/visits``;
- the checklist, ``/field/#/visit/<number>/item/<code>``: the checklist is drawn from the
  visit pack in IndexedDB only, so before it is measured Playwright downloads the first visit's
  pack through the app's own button (the pack stays in IndexedDB across Lighthouse's reset) and
  answers the first question "不符合" with a note, so that the order, note and photo controls
  are on the page that is audited too. Lighthouse then loads the checklist route cold (no
  service worker, no Cache Storage), with the pack already on the device as it is in the field.

The last line printed is one JSON object with the figures: kilobytes (1024 bytes) and scores
from 0 to 100, with the metrics (ms) of the median run.
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
BUDGET_KB = 150
USER = "inspector1"
LIGHTHOUSE_DIR = ROOT / ".cache" / "lighthouse"
SHELL_PREFIXES = ("/field/", "/static/", "/manifest.webmanifest", "/service-worker.js")
METRICS = ("first-contentful-paint", "largest-contentful-paint", "total-blocking-time",
           "cumulative-layout-shift", "speed-index")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(url: str, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    raise SystemExit(f"{what} did not answer at {url} within {timeout:.0f}s")


class Demo:
    """The demo bureau under gunicorn on a free port, on its own SQLite file."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("INSPECTION_") and k not in ("DATABASE_URL", "REDIS_URL",
                                                                "SECRET_KEY")}
        (tmp / "files").mkdir()
        env.update({"DATABASE_URL": f"sqlite:///{tmp / 'demo.sqlite3'}",
                    "SECRET_KEY": "bench-pwa-secret-key-not-for-production-0123456789",
                    "INSPECTION_DEMO_MODE": "1", "INSPECTION_FILE_STORE": str(tmp / "files"),
                    "PYTHONUNBUFFERED": "1"})
        self.env = env
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def __enter__(self):
        for command in ("init-db", "seed-demo"):
            subprocess.run([sys.executable, "-m", "flask", "--app", "app", command], cwd=ROOT,
                           env=self.env, check=True, capture_output=True, timeout=300)
        self.log = open(self.tmp / "gunicorn.log", "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{self.port}",
             "--no-control-socket", "app:app"],
            cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL)
        _wait(self.base + "/healthz", "gunicorn")
        return self

    def __exit__(self, *exc):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.log.close()


class Chrome:
    """Headless Chromium with a remote-debugging port, for Playwright and Lighthouse both."""

    def __init__(self, tmp: Path):
        self.port = _free_port()
        self.profile = tmp / "chrome-profile"
        self.process: subprocess.Popen | None = None

    def __enter__(self):
        self.process = subprocess.Popen(
            [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--disable-quic", f"--remote-debugging-port={self.port}",
             f"--user-data-dir={self.profile}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        _wait(f"http://127.0.0.1:{self.port}/json/version", "chromium")
        return self

    def __exit__(self, *exc):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def sign_in(page, base: str) -> None:
    from inspection.core.passwords import DEMO_PASSWORD

    page.goto(base + "/login")
    page.fill('input[name="username"]', USER)
    page.fill('input[name="password"]', DEMO_PASSWORD)
    with page.expect_navigation():
        page.click('form:has(input[name="password"]) button[type="submit"]')
    if urlsplit(page.url).path.startswith("/login"):
        raise SystemExit("signing in as inspector1 failed")


# ---------- first load ----------

def _is_shell(path: str) -> bool:
    return path.startswith(SHELL_PREFIXES)


def record_cold_load(browser, base: str) -> list[dict]:
    """Every request of a cold /field/ load in a fresh context (page and service worker)."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True, device_scale_factor=2, locale="zh-CN")
    try:
        page = context.new_page()
        sign_in(page, base)
        seen: list[dict] = []

        def finished(request):
            response = request.response()
            sizes = request.sizes()
            seen.append({"url": request.url, "status": response.status if response else 0,
                         "worker": request.service_worker is not None,
                         "body": max(0, sizes["responseBodySize"]),
                         "headers": max(0, sizes["responseHeadersSize"])})

        context.on("requestfinished", finished)
        page.goto(base + "/field/")
        page.wait_for_function("() => navigator.serviceWorker.controller !== null",
                               timeout=30_000)
        page.wait_for_selector("article.visit, p.empty", timeout=30_000)
        page.wait_for_load_state("networkidle")
        return seen
    finally:
        context.close()


def measure_url(base: str, path: str, cookie: str) -> dict:
    request = urllib.request.Request(base + path, headers={
        "Accept-Encoding": "br, gzip", "Cookie": cookie})
    with urllib.request.urlopen(request, timeout=10) as response:
        raw = response.read()
        encoding = response.headers.get("Content-Encoding", "")
        ctype = response.headers.get("Content-Type", "")
    if encoding == "gzip":
        body = gzip.decompress(raw)
    elif encoding == "br":
        import brotli
        body = brotli.decompress(raw)
    else:
        body = raw
    compressible = not ctype.startswith("image/png")
    out = {"path": path, "type": ctype.split(";")[0], "encoding": encoding or "identity",
           "served": len(raw), "bytes": len(body),
           "gzip": len(gzip.compress(body, 6)) if compressible else len(body)}
    try:
        import brotli
        out["brotli"] = len(brotli.compress(body, quality=5)) if compressible else len(body)
    except ImportError:  # the figure is then gzip's
        out["brotli"] = out["gzip"]
    return out


def first_load(browser, base: str, cookie: str) -> dict:
    requests = record_cold_load(browser, base)
    shell_paths = sorted({urlsplit(r["url"]).path for r in requests
                          if _is_shell(urlsplit(r["url"]).path)})
    files = [measure_url(base, path, cookie) for path in shell_paths]
    by_path = {f["path"]: f for f in files}
    wire = sum(r["body"] for r in requests if _is_shell(urlsplit(r["url"]).path))
    data = sum(r["body"] for r in requests if urlsplit(r["url"]).path.startswith("/api/"))
    kb = lambda n: round(n / 1024, 1)  # noqa: E731
    print(f"{'file':44} {'type':24} {'bytes':>8} {'served':>8} {'gzip':>7} {'brotli':>7} fetched")
    for f in files:
        fetched = [r for r in requests if urlsplit(r["url"]).path == f["path"]]
        how = ", ".join(f"{'worker' if r['worker'] else 'page'} {r['status']}" for r in fetched)
        print(f"{f['path']:44} {f['type']:24} {f['bytes']:8} {f['served']:8} {f['gzip']:7} "
              f"{f['brotli']:7} {how}")
    total = {key: sum(f[key] for f in files) for key in ("bytes", "served", "gzip", "brotli")}
    worker_bodies = sum(r["body"] for r in requests if r["worker"]
                        and _is_shell(urlsplit(r["url"]).path))
    print(f"shell: {len(files)} files, {kb(total['bytes'])} KB; served {kb(total['served'])} KB, "
          f"gzip {kb(total['gzip'])} KB, brotli {kb(total['brotli'])} KB "
          f"(budget {BUDGET_KB} KB compressed)")
    print(f"cold load on the wire: {len(requests)} requests, shell bodies {kb(wire)} KB "
          f"(of which the worker's precache {kb(worker_bodies)} KB), API data {kb(data)} KB")
    missing = [p for p in ("/field/", "/manifest.webmanifest", "/static/field/app.js",
                           "/static/field/field.css") if p not in by_path]
    if missing:
        raise SystemExit(f"the cold load did not fetch {missing}: is the app broken?")
    return {
        "first_load_files": len(files),
        "first_load_kb": kb(total["bytes"]),
        "first_load_served_kb": kb(total["served"]),
        "first_load_gzip_kb": kb(total["gzip"]),
        "first_load_brotli_kb": kb(total["brotli"]),
        "first_load_wire_kb": kb(wire),
        "first_load_worker_kb": kb(worker_bodies),
        "first_load_api_kb": kb(data),
        "budget_kb": BUDGET_KB,
        "within_budget": total["gzip"] <= BUDGET_KB * 1024,
    }


# ---------- Lighthouse ----------

def lighthouse_cli(directory: Path) -> Path:
    cli = directory / "node_modules" / "lighthouse" / "cli" / "index.js"
    if not cli.exists():
        raise SystemExit(f"Lighthouse is not installed in {directory}: run\n"
                         f"  npm install --prefix {directory} lighthouse@12")
    return cli


def run_lighthouse(cli: Path, url: str, port: int, out: Path) -> dict:
    env = dict(os.environ, CHROME_PATH=CHROMIUM)
    command = ["node", str(cli), url, f"--port={port}",
               "--only-categories=performance,accessibility", "--output=json",
               f"--output-path={out}", "--quiet", "--max-wait-for-load=45000"]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    if result.returncode or not out.exists():
        raise SystemExit(f"lighthouse failed ({result.returncode}):\n{result.stderr[-3000:]}")
    report = json.loads(out.read_text())
    if report.get("runtimeError"):
        raise SystemExit(f"lighthouse: {report['runtimeError']}")
    audits = report["audits"]
    failing = sorted(key for key, audit in audits.items()
                     if audit.get("scoreDisplayMode") in ("binary", "numeric")
                     and audit.get("score") is not None and audit["score"] < 0.9
                     and key in {ref["id"] for ref in
                                 report["categories"]["accessibility"]["auditRefs"]})
    return {
        "performance": round(report["categories"]["performance"]["score"] * 100),
        "accessibility": round(report["categories"]["accessibility"]["score"] * 100),
        "metrics": {key: round(audits[key]["numericValue"], 3 if key.startswith("cumul") else 0)
                    for key in METRICS},
        "failing_accessibility": failing,
        "final_url": report.get("finalDisplayedUrl") or report.get("finalUrl"),
    }


def score_page(cli: Path, name: str, url: str, port: int, runs: int, out: Path) -> dict:
    results = []
    for n in range(runs):
        result = run_lighthouse(cli, url, port, out / f"{name}-{n + 1}.json")
        if urlsplit(result["final_url"]).path.startswith("/login"):
            raise SystemExit(f"{name}: Lighthouse was sent to the sign-in page")
        results.append(result)
        print(f"{name} run {n + 1}: performance {result['performance']}, accessibility "
              f"{result['accessibility']}; " + ", ".join(
                  f"{k} {v}" for k, v in result["metrics"].items()))
    median = statistics.median_low([r["performance"] for r in results])
    chosen = next(r for r in results if r["performance"] == median)
    failing = sorted({a for r in results for a in r["failing_accessibility"]})
    if failing:
        print(f"{name}: accessibility audits below 0.9: {', '.join(failing)}")
    return {"performance": chosen["performance"],
            "accessibility": round(statistics.median([r["accessibility"] for r in results])),
            "performance_runs": [r["performance"] for r in results],
            "metrics_ms": chosen["metrics"], "failing_accessibility": failing}


def prepare_checklist(page, base: str) -> str:
    """Download the first visit through the app and answer its first question: the URL of the
    checklist of its first item."""
    page.goto(base + "/field/")
    page.wait_for_selector("article.visit", timeout=30_000)
    card = page.locator("article.visit").first
    number = card.get_attribute("data-visit")
    card.get_by_role("button", name="下载离线包").click()
    card.get_by_role("link", name="开始检查").wait_for(timeout=30_000)
    pack = page.request.get(f"{base}/api/v1/field/visits/{number}/pack").json()
    item = pack["items"][0]
    question = item["questions"][0]["code"]
    url = f"{base}/field/#/visit/{number}/item/{item['code']}"
    page.goto(url)
    block = page.locator(f'fieldset[data-question="{question}"]')
    block.locator("label.choice.non_compliant").click()
    page.fill(f"#note-{question}", "现场未公示最低工资标准。")
    page.locator(f'fieldset[data-question="{question}"] .order').wait_for()
    for _ in range(100):  # until the draft in IndexedDB holds the note (saves are async)
        saved = page.evaluate("""async (q) => {
            const db = await new Promise((ok) => { const r = indexedDB.open('field-app');
                r.onsuccess = () => ok(r.result); });
            const all = await new Promise((ok) => { const t = db.transaction('records')
                .objectStore('records').getAll(); t.onsuccess = () => ok(t.result); });
            db.close();
            return all.some((r) => r.answers[q] && r.answers[q].note.length > 0);
        }""", question)
        if saved:
            return url
        page.wait_for_timeout(100)
    raise SystemExit("the checklist answer was not saved on the device")


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="Lighthouse runs per page")
    parser.add_argument("--lighthouse", type=Path, default=LIGHTHOUSE_DIR,
                        help="the npm prefix where lighthouse@12 is installed")
    parser.add_argument("--keep", action="store_true",
                        help="keep the temporary directory (Lighthouse reports, server log)")
    args = parser.parse_args(argv)
    cli = lighthouse_cli(args.lighthouse)
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} is missing (make browsers)")

    from playwright.sync_api import sync_playwright

    tmp = Path(tempfile.mkdtemp(prefix="bench-pwa-"))
    figures: dict = {}
    try:
        t0 = time.perf_counter()
        with Demo(tmp) as demo, Chrome(tmp) as chrome, sync_playwright() as playwright:
            print(f"demo bureau served at {demo.base} ({time.perf_counter() - t0:.1f}s)")
            browser = playwright.chromium.connect_over_cdp(f"http://127.0.0.1:{chrome.port}")
            context = browser.contexts[0]
            page = context.new_page()
            page.set_default_timeout(30_000)
            sign_in(page, demo.base)
            cookie = "; ".join(f"{c['name']}={c['value']}" for c in context.cookies(demo.base))
            figures.update(first_load(browser, demo.base, cookie))

            reports = tmp / "lighthouse"
            reports.mkdir()
            visits = score_page(cli, "visits", demo.base + "/field/#/visits", chrome.port,
                                args.runs, reports)
            checklist_url = prepare_checklist(page, demo.base)
            page.goto("about:blank")
            checklist = score_page(cli, "checklist", checklist_url, chrome.port, args.runs,
                                   reports)
        for name, result in (("visits", visits), ("checklist", checklist)):
            figures[f"{name}_performance"] = result["performance"]
            figures[f"{name}_accessibility"] = result["accessibility"]
            figures[f"{name}_performance_runs"] = result["performance_runs"]
            figures[f"{name}_metrics_ms"] = result["metrics_ms"]
            figures[f"{name}_failing_accessibility"] = result["failing_accessibility"]
        figures["lighthouse_runs"] = args.runs
        print(f"first load {figures['first_load_gzip_kb']} KB gzip of {BUDGET_KB} KB; "
              f"visit list: performance {visits['performance']}, accessibility "
              f"{visits['accessibility']}; checklist: performance {checklist['performance']}, "
              f"accessibility {checklist['accessibility']}")
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(figures, ensure_ascii=False))
    return figures


if __name__ == "__main__":
    main()
