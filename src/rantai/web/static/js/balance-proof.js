// "Prove my balance": fetch the balance with its state proof and signed header, and check
// the proof here, against the chain's executor keys; the server is not trusted for it.
import { checkBalance, fetchJson } from "./rantai.js";

const table = document.getElementById("holdings");
if (table) {
  const chainId = table.dataset.chain;
  const executors = table.dataset.executors.split(",").filter(Boolean);
  for (const button of table.querySelectorAll("button.prove")) {
    button.addEventListener("click", async () => {
      const row = button.closest("tr");
      const out = document.getElementById(button.getAttribute("aria-describedby"));
      out.className = "proof-result";
      out.textContent = table.dataset.msgChecking;
      const { account, instrument } = row.dataset;
      try {
        const url = `/web/proofs/balance/${encodeURIComponent(account)}/${encodeURIComponent(instrument)}`;
        const data = await fetchJson(url);
        const amount = await checkBalance(data, account, instrument, chainId, executors);
        out.textContent = table.dataset.msgVerified.replace("{height}", String(data.height));
        row.dataset.proven = String(amount);
        out.className = "proof-result ok";
      } catch (error) {
        out.textContent = `${table.dataset.msgFailed} (${error.message})`;
        out.className = "proof-result bad";
      }
    });
  }
}
