// Drives the built app in headless Chromium (Debian's, through playwright-core) and checks that
// it connected, discovered every host of the model, ran a job and showed exactly the text of
// the host that ran it.
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
  const started = Date.now();
  await page.goto(url);
  await page.waitForFunction(
    () => ["done", "error"].includes(document.getElementById("state").dataset.state),
    null,
    { timeout: 60_000 },
  );
  const result = await page.evaluate(() => ({
    state: document.getElementById("state").textContent,
    hosts: document.getElementById("hosts").textContent,
    host: document.getElementById("host").textContent,
    text: document.getElementById("text").textContent,
  }));
  await page.screenshot({ path: screenshot, fullPage: true });
  const ms = Date.now() - started;
  const tokens = checkResult(result, expectedByHost, errors);
  console.log(`packaged app: ${result.hosts} host(s) found, job on ${result.host}, ${tokens} tokens exact, ${ms} ms from load to done`);
} finally {
  await browser.close();
}
