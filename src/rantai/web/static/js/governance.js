// Approving a proposal: the server builds the approval and the exact bytes to sign; this
// tab signs them with the key it holds in sessionStorage (never sent) and posts the
// signature; the server assembles the envelope and submits it.
import { KEY_STORAGE, fromHex, keyFromSeed, sign, toHex } from "./rantai.js";

const root = document.getElementById("governance");

async function post(url, body) {
  const response = await fetch(url, {
    method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  const data = await response.json();
  if (!response.ok) throw new Error(data.code || String(response.status));
  return data;
}

for (const button of root.querySelectorAll("button.approve")) {
  button.addEventListener("click", async () => {
    const out = document.getElementById(button.getAttribute("aria-describedby"));
    const stored = JSON.parse(sessionStorage.getItem(KEY_STORAGE) || "null");
    if (!stored || stored.party !== root.dataset.party) {
      out.textContent = root.dataset.msgNoKey;
      out.className = "proof-result bad";
      return;
    }
    button.disabled = true;
    out.className = "proof-result";
    out.textContent = root.dataset.msgSigning;
    try {
      const proposal = button.dataset.proposal;
      const note = document.getElementById(`note-${proposal}`).value;
      const draft = await post("/governance/drafts", { proposal, note });
      const key = await keyFromSeed(stored.seed);
      const signature = await sign(key.privateKey, fromHex(draft.signing_bytes));
      const result = await post("/governance/submit", { draft: draft.draft, signature: toHex(signature) });
      if (result.code !== "ok") throw new Error(result.code);
      out.textContent = root.dataset.msgDone.replace("{tx}", result.tx_id).replace("{height}", String(result.height));
      out.dataset.tx = result.tx_id;
      out.className = "proof-result ok";
    } catch (error) {
      out.textContent = `${root.dataset.msgRefused} (${error.message})`;
      out.className = "proof-result bad";
      button.disabled = false;
    }
  });
}
