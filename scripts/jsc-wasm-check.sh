#!/usr/bin/env bash
# Shows WebKitGTK's wasm bug that scripts/webkit.sh works around (README, Browsers): the
# SDK's own crypto crates (scripts/jsc-wasm-check/) compiled into a plain wasm module, which a
# page in MiniBrowser compiles afresh many times and runs once per module. Every answer is
# known, so each wrong one counts. Run twice: with the engine as shipped, and with wasm run in
# JavaScriptCore's baseline JIT from the first call (JSC_useWasmIPInt=0 JSC_useWasmLLInt=0,
# webkit.sh's setting). By hand: run scripts/test.sh once first (it
# installs WebKitGTK's driver and Xvfb). JSC_CHECK_MODULES (default 150) sets the number of
# fresh modules of the debug build; the release build gets twice as many.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
modules="${JSC_CHECK_MODULES:-150}"
check=scripts/jsc-wasm-check
www="$FABSTIR_CACHE/tmp/jsc-wasm-check"
mkdir -p "$www"

log "building $check for wasm32 (debug and release)"
for profile in dev release; do
  (cd "$check" && cargo build --lib --locked --target wasm32-unknown-unknown --profile "$profile")
done
cp "$CARGO_TARGET_DIR/wasm32-unknown-unknown/debug/jsc_wasm_check.wasm" "$www/debug.wasm"
cp "$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/jsc_wasm_check.wasm" "$www/release.wasm"
cp "$check/page.html" "$www/"

python3 -m http.server 29394 --bind 127.0.0.1 --directory "$www" >/dev/null 2>&1 &
server=$!
driver=
stop_driver() { if [ -n "$driver" ]; then kill -TERM -- "-$driver" 2>/dev/null || true; wait "$driver" 2>/dev/null || true; driver=; fi; }
trap 'stop_driver; kill "$server" 2>/dev/null || true' EXIT

# run LABEL [VAR=VALUE...]: both builds in a MiniBrowser started with those JSC options.
run() {
  local label=$1 out="$FABSTIR_CACHE/tmp/jsc-wasm-check.out"
  shift
  : >"$out"
  env "$@" setsid xvfb-run -a python3 scripts/webkit-webdriver.py 29395 >"$out" 2>"$FABSTIR_CACHE/tmp/jsc-wasm-check.log" &
  driver=$!
  for _ in $(seq 1 300); do grep -qx ready "$out" && break; sleep 0.1; done
  grep -qx ready "$out" || { echo "WebKitWebDriver did not start within 30 s:" >&2; cat "$FABSTIR_CACHE/tmp/jsc-wasm-check.log" >&2; exit 1; }
  log "WebKitGTK, $label"
  python3 "$check/drive.py" 29395 "http://127.0.0.1:29394/page.html?build=debug&modules=$modules&steps=1,3"
  python3 "$check/drive.py" 29395 "http://127.0.0.1:29394/page.html?build=release&modules=$((modules * 2))&steps=1,3,20"
  stop_driver
}
run "the engine as shipped"
run "wasm in the baseline JIT from the first call" JSC_useWasmIPInt=0 JSC_useWasmLLInt=0
