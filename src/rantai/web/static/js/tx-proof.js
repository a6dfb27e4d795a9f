// A transaction page: check that the transaction and its receipt are in their block (RFC
// 9162 inclusion proofs against the header's roots) and that the header is certified.
import { checkTransaction, fetchJson } from "./rantai.js";

const section = document.getElementById("tx-verify");
const out = document.getElementById("tx-proof-result");
document.getElementById("verify-tx").addEventListener("click", async () => {
  const { tx, chain, executors, msgChecking, msgVerified, msgFailed } = section.dataset;
  out.className = "proof-result";
  out.textContent = msgChecking;
  try {
    const data = await fetchJson(`/web/proofs/tx/${tx}`);
    const header = await checkTransaction(data, tx, chain, executors.split(",").filter(Boolean));
    out.textContent = msgVerified.replace("{height}", String(header.height));
    out.className = "proof-result ok";
  } catch (error) {
    out.textContent = `${msgFailed} (${error.message})`;
    out.className = "proof-result bad";
  }
});
