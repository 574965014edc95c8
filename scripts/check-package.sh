#!/usr/bin/env bash
# The packaging test: builds the npm package, `npm pack`s it, installs the tarball into a fresh
# app, builds it for production with Vite and with webpack 5, serves each build and drives it in
# headless Chromium (playwright-core with Debian's chromium), headless Firefox ESR (geckodriver)
# and WebKitGTK's MiniBrowser (WebKitWebDriver, on Xvfb) against the running test network:
# connect, discover both hosts of demo-1, run a job, and show exactly the text of the host that
# ran it. Needs scripts/test-nodes.sh's nodes up. Keeps screenshots in
# artifacts/packaged-app-dist{,-webpack}{,-firefox,-webkit}.png (Vite, webpack; each browser).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
tools="$FABSTIR_CACHE/e2e"
mkdir -p "$tools" artifacts
cp tests/e2e/package.json tests/e2e/package-lock.json tests/e2e/*.mjs webdriver.json webdriver-firefox.json "$tools/"
if ! cmp -s tests/e2e/package-lock.json "$tools/node_modules/.package-lock.json.installed" 2>/dev/null; then
  # npm ci rejects this lock (npm leaves other platforms' optional rollup/esbuild binaries out of it
  # on this machine), so install from it with npm install, which follows it.
  (cd "$tools" && npm install --no-audit --no-fund --loglevel=error)
  cp tests/e2e/package-lock.json "$tools/node_modules/.package-lock.json.installed"
fi

scripts/build-pkg.sh
log "size budget: the package's wasm + JS against size-budget.json (gzip, brotli)"
node scripts/check-size.mjs pkg
tarball="$(cd pkg && npm pack --pack-destination "$tools" --loglevel=error | tail -1)"
log "packed $tarball: $(stat -c %s "$tools/$tarball") bytes; files: $(tar -tzf "$tools/$tarball" | sed 's|^package/||' | tr '\n' ' ')"

app="$(mktemp -d)/app"
trap 'rm -rf "$(dirname "$app")"' EXIT
cp -r tests/e2e/app "$app"
printf '{ "name": "fresh-app", "private": true, "type": "module" }\n' >"$app/package.json"
(cd "$app" && npm install --no-audit --no-fund --loglevel=error "$tools/$tarball")
(cd "$app" && "$tools/node_modules/.bin/vite" build --logLevel warn)
log "vite build: $(ls "$app/dist/assets" | tr '\n' ' ')"
(cd "$app" && "$tools/node_modules/.bin/webpack" --config webpack.config.mjs --no-stats)
# webpack's automatic public path needs a classic script (document.currentScript).
sed 's|<script type="module" src="./main.js">|<script defer src="./main.js">|' "$app/index.html" >"$app/dist-webpack/index.html"
log "webpack build: $(ls "$app/dist-webpack" | tr '\n' ' ')"
prompt="packaged and bundled"
tokens=64
# The app must show exactly the text of the host that ran the job.
source scripts/test-nodes.sh
demo_expectations "$app/expected.json" "$prompt" "$tokens"
query="bootstrap=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$FABSTIR_TEST_RELAY_WS")&model=demo-1&tokens=$tokens&prompt=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$prompt")"
servers=()
trap 'kill "${servers[@]}" 2>/dev/null || true; rm -rf "$(dirname "$app")"' EXIT
port=18090
for build in dist dist-webpack; do
  python3 -m http.server "$port" --bind 127.0.0.1 --directory "$app/$build" >/dev/null 2>&1 &
  servers+=("$!")
  for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$port/" >/dev/null && break; sleep 0.1; done
  bundler=$([ "$build" = dist ] && echo Vite || echo webpack)
  page="http://127.0.0.1:$port/?$query" shots="$PWD/artifacts/packaged-app-$build"
  log "driving the $bundler build"
  (cd "$tools" && node drive.mjs "$page" "$app/expected.json" "$shots.png")
  log "driving the $bundler build in Firefox ESR"
  (cd "$tools" && node drive-webdriver.mjs firefox "$page" "$app/expected.json" "$shots-firefox.png")
  # WebKitGTK's MiniBrowser has no headless mode: it runs on a virtual X display.
  log "driving the $bundler build in WebKitGTK"
  (cd "$tools" && xvfb-run -a node drive-webdriver.mjs webkit "$page" "$app/expected.json" "$shots-webkit.png")
  port=$((port + 1))
done
