#!/usr/bin/env node
// Verifies a Fabstir receipt the way a third party would: from docs/PROTOCOL.md ("Receipts")
// alone, with nothing but Node's built-in crypto (no code of ours, no libp2p).
//
//   node scripts/verify-receipt.mjs <envelope-base64>   prints the verified payload
//   node scripts/verify-receipt.mjs --docs-example       verifies the example in PROTOCOL.md
//
// Exits 1 with the reason when the receipt does not verify.
import { createPublicKey, verify, createHash } from "node:crypto";
import { readFileSync } from "node:fs";

const DOMAIN = Buffer.from("fabstir-receipt");
const PAYLOAD_TYPE = Buffer.from("/fabstir/receipt/1");

function fail(reason) {
  throw new Error(`receipt invalid: ${reason}`);
}

function uvarint(n) {
  const out = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return Buffer.from(out);
}

/** The length-delimited fields (wire type 2) of a protobuf message, by field number. */
function fields(buf) {
  const found = {};
  let i = 0;
  const read = () => {
    let n = 0, shift = 0, b;
    do {
      if (i >= buf.length) fail("truncated protobuf");
      b = buf[i++];
      n += (b & 0x7f) * 2 ** shift;
      shift += 7;
    } while (b & 0x80);
    return n;
  };
  while (i < buf.length) {
    const key = read();
    const [field, wire] = [Math.floor(key / 8), key % 8];
    if (wire === 0) { found[field] = read(); continue; }
    if (wire !== 2) fail(`unexpected protobuf wire type ${wire}`);
    const len = read();
    found[field] = buf.subarray(i, i + len);
    i += len;
  }
  return found;
}

const ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
function base58(bytes) {
  let n = BigInt("0x" + (Buffer.from(bytes).toString("hex") || "0"));
  let s = "";
  while (n > 0n) { s = ALPHABET[Number(n % 58n)] + s; n /= 58n; }
  for (const b of bytes) { if (b !== 0) break; s = "1" + s; }
  return s;
}

function check(envelopeBase64) {
  const envelope = fields(Buffer.from(envelopeBase64, "base64"));
  const [publicKey, payloadType, payload, signature] = [envelope[1], envelope[2], envelope[3], envelope[5]];
  if (!publicKey || !payloadType || !payload || !signature) fail("missing envelope fields");
  if (!payloadType.equals(PAYLOAD_TYPE)) fail(`payload type ${payloadType}`);
  const key = fields(publicKey);
  if (key[1] !== 1 || key[2]?.length !== 32) fail("not an Ed25519 public key");
  const signed = Buffer.concat([
    uvarint(DOMAIN.length), DOMAIN,
    uvarint(PAYLOAD_TYPE.length), PAYLOAD_TYPE,
    uvarint(payload.length), payload,
  ]);
  const jwk = { kty: "OKP", crv: "Ed25519", x: key[2].toString("base64url") };
  if (!verify(null, signed, createPublicKey({ key: jwk, format: "jwk" }), signature)) {
    fail("the signature does not verify");
  }
  // Peer id: base58btc of the identity multihash (0x00, length) of the protobuf public key.
  const peerId = base58(Buffer.concat([Buffer.from([0x00, publicKey.length]), publicKey]));
  const receipt = JSON.parse(payload.toString("utf8"));
  if (receipt.host !== peerId) fail(`signed by ${peerId}, not the host ${receipt.host}`);
  if (receipt.version !== 1) fail(`version ${receipt.version}`);
  const cost = receipt.completionTokens * receipt.pricePerToken + receipt.promptTokens * receipt.pricePerPromptToken;
  if (receipt.cost !== cost) fail(`cost ${receipt.cost}, its numbers make ${cost}`);
  if (receipt.endedAt < receipt.startedAt) fail("ends before it starts");
  return receipt;
}

const sha256 = (text) => createHash("sha256").update(text, "utf8").digest("hex");

function main(arg) {
  if (arg === "--docs-example") {
    const docs = readFileSync(new URL("../docs/PROTOCOL.md", import.meta.url), "utf8");
    const section = docs.slice(docs.indexOf("## Receipts"));
    const envelope = section.match(/^ {4}(CiQI[A-Za-z0-9+/=]+)$/m)?.[1];
    if (!envelope) fail("no example envelope in docs/PROTOCOL.md");
    const receipt = check(envelope);
    // What the verifier knows: the request it sent and the text it got.
    const request = '{"modelId":"demo-1","prompt":"Hello","maxTokens":3,"temperature":0.0,"topP":1.0,"maxPricePerToken":5}';
    if (receipt.requestSha256 !== sha256(request)) fail("requestSha256");
    if (receipt.outputSha256 !== sha256("Hi there!")) fail("outputSha256");
    // The same envelope with its cost changed (20 -> 30) must not verify.
    const forged = Buffer.from(envelope, "base64");
    forged[forged.indexOf('"cost":20') + 7] = "3".charCodeAt(0);
    let refused = "";
    try { check(forged.toString("base64")); } catch (e) { refused = e.message; }
    if (!refused.includes("signature")) fail("a forged copy verified");
    return `docs example verified with Node's crypto alone: host ${receipt.host}, ${receipt.completionTokens} tokens, cost ${receipt.cost}; a forged copy refused`;
  }
  if (arg) return JSON.stringify(check(arg));
  fail("usage: verify-receipt.mjs <envelope-base64> | --docs-example");
}

try {
  console.log(main(process.argv[2]));
} catch (e) {
  console.error(e.message);
  process.exit(1);
}
