// The "Check it in this browser" box of a draw's public page: downloads the record and the
// pool files (the page's own download links), re-runs the draw with draw-engine.js and the
// public log's proofs with draw-log.js, and shows each pick next to the record's. The page
// works without this script; the box stays hidden then. Words come from the box's data-s-*
// attributes, which the server renders in the page's language.
import { get, isObject, pyRepr, readRecord, verifyRecord } from "./draw-engine.js";
import { checkLog } from "./draw-log.js";

const box = document.getElementById("browser-check");
const say = (key, values = {}) => ((box && box.getAttribute(`data-s-${key}`)) || key)
  .replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value !== null && value !== undefined && value !== false) node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

class Stop extends Error {}

async function download(url, label) {
  const response = await fetch(url, { credentials: "omit" });
  if (!response.ok) throw new Stop(say("download", { file: label, status: response.status }));
  return new Uint8Array(await response.arrayBuffer());
}

const mark = (ok) => (ok === null ? el("span", { class: "muted" }, "–")
  : el("span", { class: ok ? "mark ok" : "mark bad", title: ok ? "✓" : "✗" }, ok ? "✓" : "✗"));

const shown = (value) => (value === undefined ? "–" : typeof value === "string" ? value : pyRepr(value));

// A problem in the reader's language, with verify.py's own words under it.
function problemItem(problem) {
  let text;
  switch (problem.code) {
    case "hash": text = say("hash", problem); break;
    case "pick": {
      text = say("pick", { pool: problem.pool, pick: problem.pick, have: shown(problem.have), want: shown(problem.want) });
      break;
    }
    case "length": case "missing": case "not_rerun": case "pool": text = say(problem.code, problem); break;
    case "secret": text = say("secret", problem); break;
    case "key": text = say("key"); break;
    case "team": text = say("team", problem); break;
    case "teams": text = say("teams"); break;
    case "log": text = say("log"); break;
    default: text = say("other");
  }
  return el("li", {}, text, el("br"), el("code", { class: "hash" }, problem.text));
}

function poolTable(pool) {
  const bad = pool.rows.some((row) => row.ok === false) || !pool.ids;
  const hashOk = pool.found !== null && pool.found === pool.committed;
  const summary = el("summary", {},
    say("pool_head", { pool: pool.name, count: pool.count, size: pool.size }), " · ",
    mark(pool.found === null ? null : hashOk), " ",
    pool.found === null ? "" : say(hashOk ? "hash_ok" : "hash_bad"));
  const rows = pool.rows.map((row) => el("tr", { class: row.ok === false ? "bad" : null },
    el("td", {}, row.pick),
    el("td", {}, row.position ?? "–"),
    el("td", {}, el("code", {}, row.id ?? "–")),
    el("td", {}, shown(row.recordPosition), " · ", el("code", {}, shown(row.recordId))),
    el("td", {}, mark(row.ok))));
  const table = el("div", { class: "table-wrap" }, el("table", {},
    el("thead", {}, el("tr", {}, ["th_pick", "th_line", "th_id", "th_record", "th_match"].map((k) => el("th", { scope: "col" }, say(k))))),
    el("tbody", {}, rows)));
  // Open when something is wrong, or when it is short enough to read at a glance.
  return el("details", { class: "verify-pool", open: bad || pool.rows.length <= 40, "data-pool": pool.name }, summary, table);
}

function teamTable(teams, problems) {
  const bad = teams.some((row) => !row.ok);
  const rows = teams.map((row) => el("tr", { class: row.ok ? null : "bad" },
    el("td", {}, el("code", {}, shown(row.visit))),
    el("td", {}, row.team.join(" + "), row.ok ? "" : el("div", { class: "muted" }, shown(row.recordTeam))),
    el("td", { class: "muted" }, row.reserve.join(" → ")),
    el("td", {}, mark(row.ok))));
  return el("details", { class: "verify-teams", open: bad || problems },
    el("summary", {}, say("teams_head"), " · ", mark(!bad)),
    el("div", { class: "table-wrap" }, el("table", {},
      el("thead", {}, el("tr", {}, ["th_visit", "th_team", "th_reserve", "th_match"].map((k) => el("th", { scope: "col" }, say(k))))),
      el("tbody", {}, rows))));
}

function logLine(log) {
  if (log.status === "ok") {
    const entries = log.entries.map((e) => `${say(`log_${e.kind}`)}: ${say("log_entry", { index: e.index, size: e.treeSize })}`).join("; ");
    return el("p", { class: "verify-log" }, mark(true), " ", say("log_ok", { entries }));
  }
  if (log.status === "failed") return el("p", { class: "verify-log" }, mark(false), " ", say("log_failed"));
  if (log.status === "unsupported") return el("p", { class: "verify-log muted" }, say("log_unsupported"));
  if (log.status === "absent") return el("p", { class: "verify-log muted", id: "log-absent" }, say("log_absent"));
  return null;  // skipped: the record itself is malformed, said above
}

function render(report, log, out) {
  const problems = [...report.problems, ...log.problems];
  // "Not re-run" follows from a problem already listed: one line is enough in the summary.
  const listed = problems.filter((p) => p.code !== "not_rerun");
  const ok = problems.length === 0;
  const parts = [
    el("p", { class: ok ? "verify-summary ok" : "verify-summary bad", role: "status" },
      mark(ok), " ", ok ? say("agree") : say("disagree", { n: listed.length })),
    listed.length ? el("ul", { class: "verify-problems" }, listed.map(problemItem)) : null,
    report.keyString ? el("p", {}, say("key_label"), " ", el("code", { class: "hash" }, report.keyString)) : null,
    report.pools.map(poolTable),
    report.teams ? teamTable(report.teams, problems.some((p) => p.code === "team")) : null,
    logLine(log),
  ];
  out.replaceChildren(...parts.flat().filter((part) => part !== null));
}

async function run(button, out) {
  button.disabled = true;
  out.replaceChildren(el("p", { class: "muted" }, say("checking")));
  try {
    const recordBytes = await download(box.dataset.record, box.dataset.record.split("/").pop());
    let record;
    try {
      record = readRecord(recordBytes);
    } catch (error) {
      throw new Stop(say("not_json", { why: error.message }));
    }
    // Each committed pool's file, by the same address as its download link; one that
    // cannot be had is left out, and the check says so for that pool.
    const pools = new Map();
    const committed = isObject(record) && isObject(get(record, "commitment")) ? get(get(record, "commitment"), "pools") : [];
    for (const pool of Array.isArray(committed) ? committed : []) {
      const name = isObject(pool) ? get(pool, "name") : null;
      if (typeof name !== "string" || !name || pools.has(name)) continue;
      try {
        pools.set(name, await download(box.dataset.pool.replace("__POOL__", encodeURIComponent(name)), name));
      } catch (error) {
        if (!(error instanceof Stop)) throw error;
      }
    }
    const report = await verifyRecord(record, pools);
    render(report, await checkLog(record), out);
  } catch (error) {
    const why = error instanceof Stop ? error.message : say("broken", { why: error && error.message ? error.message : String(error) });
    out.replaceChildren(el("p", { class: "verify-summary bad", role: "status" }, mark(false), " ", why));
  } finally {
    button.disabled = false;
  }
}

// Web Crypto (SHA-256) needs a secure context: https, or the machine itself.
if (box && globalThis.crypto && crypto.subtle) {
  const button = document.getElementById("browser-check-run");
  const out = document.getElementById("browser-check-result");
  box.hidden = false;
  button.addEventListener("click", () => run(button, out));
}
