// The npm package's size budget (issue 15): the wasm and the JS a page loads, each compressed
// as a server would send it (gzip -9 and brotli quality 11, Node's own zlib), against the
// figure in size-budget.json. The budget only goes down: when a change makes the package
// smaller, lower it in the same commit. Usage: node scripts/check-size.mjs pkg [--json]
// (--json: the figures as JSON, for the bench, without the verdict).
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { gzipSync, brotliCompressSync, constants } from "node:zlib";

const dir = process.argv[2] ?? "pkg";
const budget = JSON.parse(readFileSync(new URL("../size-budget.json", import.meta.url)));
const files = (d) =>
  readdirSync(d).flatMap((f) => (statSync(join(d, f)).isDirectory() ? files(join(d, f)) : [join(d, f)]));
const measure = (paths) => {
  let raw = 0, gzip = 0, brotli = 0;
  for (const p of paths) {
    const bytes = readFileSync(p);
    raw += bytes.length;
    gzip += gzipSync(bytes, { level: 9 }).length;
    brotli += brotliCompressSync(bytes, {
      params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length },
    }).length;
  }
  return { raw, gzip, brotli };
};
const all = files(dir);
const wasm = measure(all.filter((p) => p.endsWith(".wasm")));
const js = measure(all.filter((p) => p.endsWith(".js")));
const total = { raw: wasm.raw + js.raw, gzip: wasm.gzip + js.gzip, brotli: wasm.brotli + js.brotli };
if (process.argv.includes("--json")) {
  console.log(JSON.stringify({ wasm, js, total }));
  process.exit(0);
}
const line = (name, m) => `${name}: ${m.raw} raw, ${m.gzip} gzip (zlib 9), ${m.brotli} brotli (11)`;
console.log([line("wasm", wasm), line("js", js), line("total", total)].join("\n"));
if (total.gzip > budget.gzipBytes) {
  console.error(
    `the package is ${total.gzip} bytes gzip, over its budget of ${budget.gzipBytes} ` +
      `(size-budget.json) by ${total.gzip - budget.gzipBytes}`,
  );
  process.exit(1);
}
console.log(`within the budget: ${total.gzip} of ${budget.gzipBytes} bytes gzip`);
