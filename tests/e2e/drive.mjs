// Drives the built app in headless Chromium (Debian's, through playwright-core) and checks that
// it connected, discovered every host of the model, ran a job and showed exactly the text of
// the host that ran it. Then, with `identity: { persist: true }`, the page is loaded, run and
// reloaded: after the reload it has the same peer id and both jobs' receipts (IndexedDB).
// usage: node drive.mjs URL EXPECTED_JSON_FILE SCREENSHOT (EXPECTED_JSON: { peerId: text })
import { readFileSync } from "node:fs";
import { chromium } from "playwright-core";
import { checkResult } from "./check-result.mjs";

const [url, expectedFile, screenshot] = process.argv.slice(2);
const expectedByHost = JSON.parse(readFileSync(expectedFile, "utf8"));
const { args } = JSON.parse(readFileSync(new URL("./webdriver.json", import.meta.url), "utf8"))["goog:chromeOptions"];
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: args.filter((a) => a !== "--headless=new" && a !== "--headless"),
  headless: true,
});
try {
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => { if (m.text().includes("fabstir-sdk panicked")) errors.push(m.text()); });
  const finished = async () => {
    await page.waitForFunction(
      () => ["done", "error"].includes(document.getElementById("state").dataset.state),
      null,
      { timeout: 60_000 },
    );
    const ids = ["state", "hosts", "host", "text", "peer", "receipts"];
    return page.evaluate((ids) => Object.fromEntries(ids.map((id) => [id, document.getElementById(id).textContent])), ids);
  };
  const started = Date.now();
  await page.goto(url);
  const result = await finished();
  await page.screenshot({ path: screenshot, fullPage: true });
  const ms = Date.now() - started;
  const tokens = checkResult(result, expectedByHost, errors);
  console.log(`packaged app: ${result.hosts} host(s) found, job on ${result.host}, ${tokens} tokens exact, ${ms} ms from load to done`);

  // identity.persist across a real reload.
  await page.goto(`${url}&persist`);
  const first = await finished();
  checkResult(first, expectedByHost, errors);
  await page.reload();
  const second = await finished();
  checkResult(second, expectedByHost, errors);
  if (first.peer !== second.peer || !second.peer.startsWith("12D3")) {
    throw new Error(`the peer id changed across the reload: ${first.peer} -> ${second.peer}`);
  }
  if (first.receipts !== "1" || second.receipts !== "2") {
    throw new Error(`receipts kept: ${first.receipts} before the reload, ${second.receipts} after (expected 1, 2)`);
  }
  console.log(`packaged app with identity.persist: peer id ${second.peer} kept across a reload, with both jobs' receipts`);
} finally {
  await browser.close();
}
