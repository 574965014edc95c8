// What the packaging test's drivers (drive.mjs for Chromium, drive-webdriver.mjs for Firefox and WebKit) check of the app's
// final state: it finished, found every live host of the model, and showed exactly the text of
// the host that ran the job. Returns the number of tokens; throws what went wrong.
export function checkResult(result, expectedByHost, errors) {
  if (result.state !== "done") throw new Error(`the app ended in state ${result.state}`);
  // Every live host of the model must be found, not just one that can run the job.
  const hosts = Object.keys(expectedByHost).length;
  if (result.hosts !== String(hosts)) throw new Error(`discovery found ${result.hosts} of the ${hosts} live hosts`);
  const expected = expectedByHost[result.host];
  if (expected === undefined) throw new Error(`the job ran on an unknown host ${result.host}`);
  if (result.text !== expected) throw new Error(`streamed text differs:\n${result.text}\nexpected:\n${expected}`);
  if (errors.length) throw new Error(`page errors: ${errors.join("; ")}`);
  return expected.split(" ").length;
}
