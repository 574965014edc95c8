// The benchmark's pages in Firefox ESR: each run a fresh page in a browser of its own (a new
// geckodriver session, so a new profile and nothing cached), driven over W3C WebDriver, which
// Firefox speaks through geckodriver (playwright-core drives only Playwright's own Firefox
// builds). The same bench.js scenarios as in Chromium; their results come back as JSON.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";

/** A free TCP port on 127.0.0.1 for geckodriver. */
async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Starts geckodriver; `run(name, params)` runs one bench.js scenario in a fresh Firefox page
 *  and resolves with its result; `close()` stops geckodriver. `capabilitiesFile` is the browser
 *  tests' webdriver-firefox.json (Firefox's binary, -headless and its prefs). */
export async function firefoxDriver(pageUrl, capabilitiesFile) {
  const port = await freePort();
  const driver = spawn(process.env.GECKODRIVER ?? "geckodriver", ["--host", "127.0.0.1", "--port", String(port)], {
    stdio: "ignore",
  });
  let spawnError = null;
  driver.on("error", (e) => { spawnError = e; });
  const base = `http://127.0.0.1:${port}`;
  const call = async (method, path, body) => {
    const response = await fetch(base + path, {
      method,
      headers: { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const { value } = await response.json();
    if (!response.ok) throw new Error(`geckodriver ${method} ${path}: ${value?.error}: ${value?.message}`);
    return value;
  };
  for (let i = 0; ; i++) {
    if (spawnError) throw new Error(`geckodriver could not start: ${spawnError.message}`);
    try {
      await call("GET", "/status");
      break;
    } catch (e) {
      if (i > 100) throw new Error(`geckodriver did not start on ${base}: ${e.message}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  const firefoxOptions = JSON.parse(readFileSync(capabilitiesFile, "utf8"))["moz:firefoxOptions"];

  async function run(name, params) {
    const { sessionId } = await call("POST", "/session", {
      capabilities: { alwaysMatch: { browserName: "firefox", "moz:firefoxOptions": firefoxOptions } },
    });
    const session = `/session/${sessionId}`;
    try {
      await call("POST", `${session}/timeouts`, { script: 180000, pageLoad: 60000 });
      await call("POST", `${session}/url`, { url: pageUrl });
      for (let i = 0; !(await call("POST", `${session}/execute/sync`, { script: "return window.benchReady === true", args: [] })); i++) {
        if (i > 600) throw new Error("the bench page did not get ready in Firefox within 60 s");
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const outcome = await call("POST", `${session}/execute/async`, {
        script: `const [name, params, done] = arguments;
          window.bench[name](params).then((result) => done({ result }), (e) => done({ error: String(e?.message ?? e) }));`,
        args: [name, params],
      });
      if (outcome.error !== undefined) throw new Error(outcome.error);
      return outcome.result;
    } finally {
      await call("DELETE", session).catch(() => {});
    }
  }

  return { run, close: () => driver.kill() };
}
