// Drives the built app through a browser's own WebDriver server, with the same checks as
// drive.mjs: connected, every host of the model found, a job run, and exactly the text of the
// host that ran it. Playwright drives only its own Firefox and WebKit builds, which cannot be
// had here, so this speaks the WebDriver HTTP API to Debian's browsers:
//   firefox: headless Firefox ESR through geckodriver. The page's console reaches geckodriver's
//            output (pref devtools.console.stdout.content), where a panic or an uncaught error
//            fails the run.
//   webkit:  WebKitGTK's MiniBrowser through WebKitWebDriver (needs an X display: xvfb-run).
//            Its console is not visible here, so only the page's own state is checked.
// usage: node drive-webdriver.mjs firefox|webkit URL EXPECTED_JSON_FILE SCREENSHOT
//        (EXPECTED_JSON: { peerId: text })
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { checkResult } from "./check-result.mjs";

const [browser, url, expectedFile, screenshot] = process.argv.slice(2);
const expectedByHost = JSON.parse(readFileSync(expectedFile, "utf8"));
const BROWSERS = {
  firefox: {
    name: "Firefox ESR",
    driver: "geckodriver",
    capabilities: () => JSON.parse(readFileSync(new URL("./webdriver-firefox.json", import.meta.url), "utf8")),
  },
  webkit: {
    name: "WebKitGTK",
    driver: "WebKitWebDriver",
    capabilities: () => ({
      "webkitgtk:browserOptions": {
        binary: "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser",
        args: ["--automation"],
      },
    }),
  },
};
const chosen = BROWSERS[browser];
if (!chosen) throw new Error(`unknown browser ${browser}: firefox or webkit`);

const port = await new Promise((resolve) => {
  const server = createServer().listen(0, "127.0.0.1", () => {
    const { port } = server.address();
    server.close(() => resolve(port));
  });
});
let output = "";
const driver = spawn(chosen.driver, [`--port=${port}`, "--host=127.0.0.1"], { stdio: ["ignore", "pipe", "pipe"] });
driver.stdout.on("data", (d) => { output += d; });
driver.stderr.on("data", (d) => { output += d; });
const base = `http://127.0.0.1:${port}`;
async function call(method, path, body) {
  const response = await fetch(base + path, {
    method,
    headers: { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const { value } = await response.json();
  if (!response.ok) throw new Error(`WebDriver ${method} ${path}: ${value?.error}: ${value?.message}`);
  return value;
}

let session;
try {
  for (let i = 0; ; i++) {
    try { await call("GET", "/status"); break; } catch (e) {
      if (i > 100) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  ({ sessionId: session } = await call("POST", "/session", { capabilities: { alwaysMatch: chosen.capabilities() } }));
  const started = Date.now();
  await call("POST", `/session/${session}/url`, { url });
  const read = `return {
    state: document.getElementById("state").dataset.state,
    stateText: document.getElementById("state").textContent,
    hosts: document.getElementById("hosts").textContent,
    host: document.getElementById("host").textContent,
    text: document.getElementById("text").textContent,
  };`;
  let result;
  for (;;) {
    result = await call("POST", `/session/${session}/execute/sync`, { script: read, args: [] });
    if (["done", "error"].includes(result.state)) break;
    if (Date.now() - started > 60_000) throw new Error(`the app did not finish within 60 s: ${result.stateText}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const ms = Date.now() - started;
  await call("POST", `/session/${session}/window/rect`, { width: 1100, height: 900 });
  writeFileSync(screenshot, Buffer.from(await call("GET", `/session/${session}/screenshot`), "base64"));
  const errors = output.split("\n").filter((l) => l.includes("fabstir-sdk panicked") || l.includes("JavaScript error"));
  const tokens = checkResult({ ...result, state: result.stateText }, expectedByHost, errors);
  console.log(`packaged app in ${chosen.name}: ${result.hosts} host(s) found, job on ${result.host}, ${tokens} tokens exact, ${ms} ms from load to done`);
} finally {
  if (session) await call("DELETE", `/session/${session}`).catch(() => {});
  driver.kill();
}
