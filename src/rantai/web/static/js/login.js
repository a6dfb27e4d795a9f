// The login page: sign the server's challenge with the party's Ed25519 key, in the browser.
// The seed is typed (hex), read from a key file ({"party", "seed"}: the format of
// `rantai` data directories), or, in demo mode only, fetched from the server. It is kept in
// sessionStorage (this tab only) to sign approvals later, and cleared at logout.
import { KEY_STORAGE, LOGIN_DOMAIN, concat, encode, fetchJson, fromHex, keyFromSeed, sign, toHex } from "./rantai.js";

const form = document.getElementById("login-form");
const status = document.getElementById("login-status");
const say = (key) => { status.textContent = form.dataset[key] || ""; };

sessionStorage.removeItem(KEY_STORAGE);

async function logIn(party, seedHex) {
  if (!window.isSecureContext || !crypto.subtle) { say("msgUnsupported"); return; }
  say("msgWorking");
  let key;
  try {
    key = await keyFromSeed(seedHex);
  } catch {
    say("msgBadSeed");
    return;
  }
  const challenge = fromHex(form.dataset.challenge);
  const message = concat(LOGIN_DOMAIN, encode([form.dataset.chain, challenge]));
  const signature = await sign(key.privateKey, message);
  const response = await fetch("/login", {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({
      party, public_key: toHex(key.publicKey), challenge: form.dataset.challenge,
      signature: toHex(signature), next: form.dataset.next,
    }),
  });
  if (!response.ok) {
    say("msgRefused");
    // A challenge is single use: a new page brings a new one.
    setTimeout(() => window.location.reload(), 1500);
    return;
  }
  const answer = await response.json();
  sessionStorage.setItem(KEY_STORAGE, JSON.stringify({ party, seed: seedHex.trim().toLowerCase() }));
  window.location.assign(answer.next || "/");
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  logIn(form.party.value.trim(), form.seed.value);
});

document.getElementById("key-file").addEventListener("change", async (event) => {
  const file = event.target.files[0];
  if (!file) return;
  try {
    const data = JSON.parse(await file.text());
    if (typeof data.party === "string") form.party.value = data.party;
    if (typeof data.seed === "string") form.seed.value = data.seed;
  } catch {
    say("msgBadSeed");
  }
});

for (const button of document.querySelectorAll(".demo-login")) {
  button.addEventListener("click", async () => {
    const party = button.dataset.party;
    const data = await fetchJson(`/login/demo/${encodeURIComponent(party)}`);
    form.party.value = party;
    await logIn(party, data.seed);
  });
}
