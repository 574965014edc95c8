# Sourced by scripts/test.sh and scripts/test-webkit.sh. webkit_browser_tests [cargo test args]
# runs the browser tests in WebKitGTK (the engine under Safari) against the test network that is
# up: wasm-bindgen-test-runner's Safari mode, through scripts/webkit-webdriver.py, with
# MiniBrowser on a virtual X display; the log goes to artifacts/browser-tests-webkit.log.
webkit_browser_tests() {
  local driver status=0
  # Upstream bug: WebKitGTK 2.50.6's JavaScriptCore (Debian 12's) now and then computes wrong
  # results in wasm code that its in-place interpreter (IPInt) and its baseline JIT (BBQ) run
  # between them: an Ed25519 key that fails its own check, a signature that does not verify, a
  # u32 x u32 product that "overflows". Either tier alone computes right, so MiniBrowser runs
  # wasm in BBQ from the first call (JSC's own options, read from the environment, which the
  # browser inherits). scripts/jsc-wasm-check.sh shows the bug without them (README, Browsers).
  # Its own process group (setsid), so that stopping it stops Xvfb, the driver and the browser.
  # The network lock's descriptor is not handed on: a process that outlived this run would hold it.
  JSC_useWasmIPInt=0 JSC_useWasmLLInt=0 setsid xvfb-run -a python3 scripts/webkit-webdriver.py 29390 \
    >"$FABSTIR_CACHE/nodes/webkit-driver.out" 2>"$FABSTIR_CACHE/nodes/webkit-driver.log" {FABSTIR_LOCK_FD}>&- &
  driver=$!
  # Stopped on any way out too, with the test network: both callers trap nodes_stop on EXIT.
  trap 'kill -TERM -- "-'"$driver"'" 2>/dev/null || true; nodes_stop' EXIT
  node_wait webkit-driver ready
  mkdir -p artifacts
  SAFARIDRIVER_REMOTE=http://127.0.0.1:29390 WASM_BINDGEN_TEST_TIMEOUT=180 WASM_BINDGEN_TEST_ONLY_WEB=1 \
    CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
    cargo test --target wasm32-unknown-unknown --locked --no-fail-fast "$@" -- --nocapture \
    2>&1 | tee artifacts/browser-tests-webkit.log || status=$?
  kill -TERM -- "-$driver" 2>/dev/null || true
  wait "$driver" 2>/dev/null || true
  trap nodes_stop EXIT
  [ "$status" = 0 ] || return "$status"
  # As in Chromium and Firefox: any panic in the SDK fails the run (a run narrowed by arguments
  # may not include the hook test's deliberate one).
  python3 scripts/check-panics.py ${1:+--filtered} artifacts/browser-tests-webkit.log
}
