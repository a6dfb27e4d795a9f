// Rantai's checks in the browser: the canonical encoding (docs/encoding.md), the RFC 9162
// list Merkle tree, the state tree's proofs, header and certificate checks, Ed25519 keys.
// A port of rantai.sdk._verify and rantai.crypto (merkle.py, smt.py): the same checks in
// the same order, so that the page trusts the server no more than the SDK does. SHA-256
// and Ed25519 come from WebCrypto; nothing else is loaded.

const te = new TextEncoder();
export const ZERO = new Uint8Array(32);
export const HEADER_DOMAIN = te.encode("rantai/header/v1");
export const BLOCK_SIGNATURE_DOMAIN = te.encode("rantai/block/v1");
export const LOGIN_DOMAIN = te.encode("rantai/login/v1");
// PKCS#8 wrapping of a 32-byte Ed25519 seed (RFC 8410): the fixed prefix, then the seed.
const PKCS8_ED25519_PREFIX = fromHex("302e020100300506032b657004220420");

export class ProofError extends Error {}

export function fromHex(text) {
  if (typeof text !== "string" || text.length % 2 !== 0 || !/^[0-9a-f]*$/.test(text)) {
    throw new ProofError("not lowercase hex");
  }
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.substr(2 * i, 2), 16);
  return out;
}

export function toHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

export function equal(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export async function sha256(...parts) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", concat(...parts)));
}

// JSON with every number as a BigInt (amounts may pass 2**53); needs the reviver's source
// text (Chromium 114+), else only safe integers are accepted.
export function parseJson(text) {
  return JSON.parse(text, (key, value, context) => {
    if (typeof value !== "number") return value;
    if (context && typeof context.source === "string" && /^-?\d+$/.test(context.source)) {
      return BigInt(context.source);
    }
    if (!Number.isSafeInteger(value)) throw new ProofError("a number that is not an integer");
    return BigInt(value);
  });
}

// --- canonical encoding: MessagePack, one form per value --------------------------------
function head(small, tag8, tag16, tag32, n, smallMax) {
  if (small !== null && n <= smallMax) return [small | n];
  if (tag8 !== null && n <= 0xff) return [tag8, n];
  if (n <= 0xffff) return [tag16, n >> 8, n & 0xff];
  return [tag32, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
}

function intBytes(value, width) {
  const out = new Uint8Array(width);
  let v = BigInt.asUintN(width * 8, value);
  for (let i = width - 1; i >= 0; i--) { out[i] = Number(v & 0xffn); v >>= 8n; }
  return out;
}

function encodeInt(n) {
  if (n >= 0n) {
    if (n <= 0x7fn) return Uint8Array.of(Number(n));
    if (n <= 0xffn) return Uint8Array.of(0xcc, Number(n));
    if (n <= 0xffffn) return concat(Uint8Array.of(0xcd), intBytes(n, 2));
    if (n <= 0xffffffffn) return concat(Uint8Array.of(0xce), intBytes(n, 4));
    if (n <= 0xffffffffffffffffn) return concat(Uint8Array.of(0xcf), intBytes(n, 8));
    throw new ProofError("integer out of range");
  }
  if (n >= -32n) return Uint8Array.of(Number(BigInt.asUintN(8, n)));
  if (n >= -0x80n) return concat(Uint8Array.of(0xd0), intBytes(n, 1));
  if (n >= -0x8000n) return concat(Uint8Array.of(0xd1), intBytes(n, 2));
  if (n >= -0x80000000n) return concat(Uint8Array.of(0xd2), intBytes(n, 4));
  if (n >= -0x8000000000000000n) return concat(Uint8Array.of(0xd3), intBytes(n, 8));
  throw new ProofError("integer out of range");
}

// Values: bigint (integer), string (text), Uint8Array (bytes), boolean, null, Array, and
// Map (keys sorted by their UTF-8 bytes, as event attributes are).
export function encode(value) {
  if (typeof value === "bigint") return encodeInt(value);
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) throw new ProofError("not an integer");
    return encodeInt(BigInt(value));
  }
  if (value === null) return Uint8Array.of(0xc0);
  if (value === true) return Uint8Array.of(0xc3);
  if (value === false) return Uint8Array.of(0xc2);
  if (typeof value === "string") {
    const bytes = te.encode(value);
    return concat(Uint8Array.from(head(0xa0, 0xd9, 0xda, 0xdb, bytes.length, 31)), bytes);
  }
  if (value instanceof Uint8Array) {
    return concat(Uint8Array.from(head(null, 0xc4, 0xc5, 0xc6, value.length, 0)), value);
  }
  if (Array.isArray(value)) {
    return concat(Uint8Array.from(head(0x90, null, 0xdc, 0xdd, value.length, 15)),
      ...value.map(encode));
  }
  if (value instanceof Map) {
    const keys = [...value.keys()].map((k) => [te.encode(k), k]);
    keys.sort((a, b) => compareBytes(a[0], b[0]));
    const parts = keys.flatMap(([, k]) => [encode(k), encode(value.get(k))]);
    return concat(Uint8Array.from(head(0x80, null, 0xde, 0xdf, keys.length, 15)), ...parts);
  }
  throw new ProofError("a value the encoding does not have");
}

function compareBytes(a, b) {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

// --- Ed25519 through WebCrypto ------------------------------------------------------------
export async function keyFromSeed(seedHex) {
  const seed = fromHex(seedHex.trim().toLowerCase());
  if (seed.length !== 32) throw new ProofError("a seed is 32 bytes");
  const pkcs8 = concat(PKCS8_ED25519_PREFIX, seed);
  const privateKey = await crypto.subtle.importKey("pkcs8", pkcs8, { name: "Ed25519" }, true, ["sign"]);
  const jwk = await crypto.subtle.exportKey("jwk", privateKey);
  const publicKey = base64url(jwk.x);
  return { privateKey, publicKey };
}

function base64url(text) {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/");
  return Uint8Array.from(atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4)), (c) => c.charCodeAt(0));
}

export async function sign(privateKey, message) {
  return new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, privateKey, message));
}

export async function verifySignature(publicKey, message, signature) {
  try {
    const key = await crypto.subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]);
    return await crypto.subtle.verify({ name: "Ed25519" }, key, signature, message);
  } catch {
    return false;
  }
}

// --- headers (rantai.sdk._verify.header_from_json) ---------------------------------------
function headerRecord(h) {
  return [h.chain_id, h.height, fromHex(h.prev_hash), h.timestamp_ms, h.tx_count,
    fromHex(h.txs_root), fromHex(h.receipts_root), fromHex(h.state_root)];
}

export async function checkHeader(info, chainId, executors) {
  const header = info.header;
  if (header.height !== info.height) throw new ProofError(`header says height ${header.height}`);
  const hash = await sha256(HEADER_DOMAIN, encode(headerRecord(header)));
  if (toHex(hash) !== info.hash) throw new ProofError(`header ${info.height}: wrong hash`);
  if (header.chain_id !== chainId) throw new ProofError(`header on chain ${header.chain_id}`);
  const message = concat(BLOCK_SIGNATURE_DOMAIN, hash);
  for (const s of info.certificate) {
    if (executors.includes(s.public_key)
        && await verifySignature(fromHex(s.public_key), message, fromHex(s.signature))) {
      return header;
    }
  }
  throw new ProofError(`header ${info.height}: no valid signature by an executor`);
}

// --- the state tree (rantai.crypto.smt.verify_state_proof) ---------------------------------
function bitAt(path, i) {
  return (path[i >> 3] >> (7 - (i & 7))) & 1;
}

async function terminalHash(path, valueDigest, leafPath, leafValue, depth) {
  if (leafPath === null && leafValue === null) return valueDigest === null ? ZERO : null;
  if (!(leafPath instanceof Uint8Array && leafPath.length === 32
        && leafValue instanceof Uint8Array && leafValue.length === 32)) return null;
  if (valueDigest === null) {
    // Another key's leaf proves absence only if it stands for path's own subtree.
    if (equal(leafPath, path)) return null;
    for (let i = 0; i < depth; i++) if (bitAt(leafPath, i) !== bitAt(path, i)) return null;
  } else if (!equal(leafPath, path) || !equal(leafValue, valueDigest)) {
    return null;
  }
  return sha256(Uint8Array.of(0x02), leafPath, leafValue);
}

export async function verifyStateProof(root, path, valueDigest, proof) {
  const siblings = proof.siblings;
  if (!Array.isArray(siblings) || siblings.length > 256) return false;
  const optional = (h) => (h === null || h === undefined ? null : fromHex(h));
  let node = await terminalHash(path, valueDigest, optional(proof.leaf_path),
    optional(proof.leaf_value_digest), siblings.length);
  if (node === null) return false;
  for (let depth = siblings.length - 1; depth >= 0; depth--) {
    const sibling = siblings[depth] === "" ? ZERO : fromHex(siblings[depth]);
    if (sibling.length !== 32) return false;
    node = bitAt(path, depth)
      ? await sha256(Uint8Array.of(0x03), sibling, node)
      : await sha256(Uint8Array.of(0x03), node, sibling);
  }
  return equal(node, root);
}

// --- the list tree (rantai.crypto.merkle.verify_inclusion, RFC 9162 2.1.3.2) ---------------
export async function verifyInclusion(root, leaf, index, size, path) {
  if (!(Number.isInteger(index) && Number.isInteger(size) && index >= 0 && index < size)) return false;
  if (root.length !== 32 || path.length > 64) return false;
  let fn = index, sn = size - 1;
  let r = await sha256(Uint8Array.of(0x00), leaf);
  for (const p of path) {
    if (sn === 0 || p.length !== 32) return false;
    if ((fn & 1) || fn === sn) {
      r = await sha256(Uint8Array.of(0x01), p, r);
      while (!(fn & 1) && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
    } else {
      r = await sha256(Uint8Array.of(0x01), r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && equal(r, root);
}

// --- a balance (rantai.sdk._verify.balance_from_json) --------------------------------------
export async function checkBalance(data, account, instrument, chainId, executors) {
  if (data.account !== account || data.instrument !== instrument) {
    throw new ProofError(`asked for ${account} ${instrument}`);
  }
  const amount = data.amount;
  if (typeof amount !== "bigint" || amount < 0n) throw new ProofError("not a balance");
  const header = await checkHeader(data.header, chainId, executors);
  if (data.height !== header.height) throw new ProofError("proof at another height");
  const value = amount === 0n ? null : encode(amount);
  const served = data.value === null || data.value === undefined ? null : fromHex(data.value);
  if ((served === null) !== (value === null) || (value !== null && !equal(served, value))) {
    throw new ProofError(`value is not the encoding of amount ${amount}`);
  }
  const path = await sha256(te.encode(`bal/${account}/${instrument}`));
  const digest = value === null ? null : await sha256(value);
  if (!await verifyStateProof(fromHex(header.state_root), path, digest, data.proof)) {
    throw new ProofError("the proof does not lead to the header's state root");
  }
  return amount;
}

// --- a transaction (rantai.sdk._verify.transaction_from_json) -------------------------------
function receiptRecord(receipt) {
  return [fromHex(receipt.tx_id), receipt.code,
    receipt.events.map((e) => [e.name, new Map(Object.entries(e.attrs))])];
}

export async function checkTransaction(data, txId, chainId, executors) {
  const header = await checkHeader(data.header, chainId, executors);
  const envelope = fromHex(data.envelope);
  if (toHex(await sha256(envelope)) !== txId) throw new ProofError("not this transaction's envelope");
  if (data.receipt.tx_id !== txId) throw new ProofError("a receipt for another transaction");
  if (data.height !== header.height) throw new ProofError("height differs from the header's");
  const index = Number(data.index), size = Number(header.tx_count);
  const txPath = data.tx_proof.map(fromHex), receiptPath = data.receipt_proof.map(fromHex);
  if (!await verifyInclusion(fromHex(header.txs_root), fromHex(txId), index, size, txPath)) {
    throw new ProofError("the transaction is not proven in its block");
  }
  const receipt = encode(receiptRecord(data.receipt));
  if (!await verifyInclusion(fromHex(header.receipts_root), receipt, index, size, receiptPath)) {
    throw new ProofError("the receipt is not proven in its block");
  }
  return header;
}

export async function fetchJson(url, options = {}) {
  const response = await fetch(url, { credentials: "same-origin", ...options });
  const text = await response.text();
  if (!response.ok) throw new ProofError(`${response.status}: ${text.slice(0, 200)}`);
  return parseJson(text);
}

export const KEY_STORAGE = "rantai.key";
