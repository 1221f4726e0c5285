// The job page's progress bar (templates/jobs/detail.html): asks GET /api/v1/jobs/<id> every
// second and moves the bar; when the job ends (done or failed) the page is loaded again, so
// that the server shows the download link, or why it failed and the retry button.
const box = document.getElementById("job");
const bar = document.getElementById("job-progress");
const count = document.getElementById("job-count");
const message = document.getElementById("job-message");
const PERIOD_MS = 1000;

function show(job) {
  const p = job.progress || {};
  if (bar) {
    if (p.percent === null || p.percent === undefined) bar.removeAttribute("value");
    else bar.value = p.percent;
    bar.textContent = `${p.percent || 0}%`;
  }
  if (count && p.total) {
    const of = count.dataset.of || "/";
    const pct = p.percent === null || p.percent === undefined ? "" : ` (${p.percent}%)`;
    count.textContent = `${p.done.toLocaleString()} ${of} ${p.total.toLocaleString()}${pct}`;
  }
  if (message) message.textContent = p.message || "";
}

async function poll() {
  try {
    const response = await fetch(box.dataset.jobUrl, {
      headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store",
    });
    if (response.ok) {
      const job = await response.json();
      show(job);
      if (job.status !== box.dataset.status && (job.status === "done" || job.status === "failed")) {
        window.location.reload();
        return;
      }
    }
  } catch (error) {
    // offline for a moment: try again at the next tick
  }
  window.setTimeout(poll, PERIOD_MS);
}

if (box && box.dataset.jobUrl) window.setTimeout(poll, PERIOD_MS);
