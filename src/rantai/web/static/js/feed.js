// The overview's live block feed: the API's Server-Sent Events stream of headers.
const table = document.getElementById("feed");
const status = document.getElementById("feed-status");
const rows = table.querySelector("tbody");
const ROWS_MAX = 10;

function when(ms) {
  return new Date(Number(ms)).toISOString().replace("T", " ").slice(0, 19) + " UTC";
}

function cell(text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

// Blocks committed between the page's rendering and the stream's start would be missed:
// on (re)connection, fetch the headers after the last one shown, then follow the stream.
let last = Number(document.getElementById("head-height").textContent);

function show(info) {
  if (info.height <= last) return;
  last = info.height;
  const row = document.createElement("tr");
  const hash = document.createElement("code");
  hash.textContent = info.hash.slice(0, 12) + "\u2026";
  hash.title = info.hash;
  const hashCell = document.createElement("td");
  hashCell.append(hash);
  row.append(cell(String(info.height)), cell(when(info.header.timestamp_ms)),
    cell(String(info.header.tx_count), "num"), hashCell);
  rows.prepend(row);
  while (rows.rows.length > ROWS_MAX) rows.deleteRow(rows.rows.length - 1);
  document.getElementById("head-height").textContent = String(info.height);
  document.getElementById("block-count").textContent = String(info.height + 1);
}

async function catchUp() {
  const response = await fetch(`/v1/headers?from=${last + 1}&limit=${ROWS_MAX}`);
  if (!response.ok) return;
  const page = await response.json();
  for (const info of page.items) show(info);
}

const source = new EventSource(table.dataset.feed);
source.addEventListener("open", () => {
  status.textContent = status.dataset.msgLive;
  catchUp();
});
source.addEventListener("error", () => { status.textContent = status.dataset.msgLost; });
source.addEventListener("header", (event) => show(JSON.parse(event.data)));
