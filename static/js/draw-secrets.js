// Draw wizard: a party may type its own secret; its SHA-256 is computed here, in the browser,
// and only the hash goes into the form (the secret itself is never sent before execution).
const hex = (buffer) => [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, "0")).join("");

async function sha256(text) {
  return hex(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
}

if (globalThis.crypto && crypto.subtle) {
  for (const block of document.querySelectorAll(".js-only")) block.hidden = false;
  for (const input of document.querySelectorAll("input.secret-local")) {
    input.addEventListener("input", async () => {
      const target = document.getElementById(input.dataset.target);
      if (!target) return;
      const secret = input.value.trim();
      target.value = secret ? await sha256(secret) : "";
      const row = input.closest(".party-row");
      const generate = row && row.querySelector("input[type=checkbox]");
      if (generate && secret) generate.checked = false;
    });
  }
}
