#!/usr/bin/env bash
# Installs everything the demo and the tests need, skipping what is already there:
# the wasm32 Rust target, wasm-bindgen-cli of the exact locked version, wasm-pack, cargo-fuzz,
# geckodriver, and Debian's chromium + chromium-driver, firefox-esr, webkit2gtk-driver + xvfb
# (the packaged app in WebKitGTK), iproute2 (the test network's namespace) and systemd (for
# `systemd-analyze verify` of deploy/fabstir-node.service) and libnss3-tools (certutil: Chromium
# trusts the https page check's test CA).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "adding the wasm32-unknown-unknown Rust target"
  rustup target add wasm32-unknown-unknown
fi
for component in rustfmt clippy; do
  if ! rustup component list --installed | grep -q "^$component"; then
    log "adding rustup component $component"
    rustup component add "$component"
  fi
done

if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
  log "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (a few minutes, once)"
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --locked --force
fi

if [ "$(wasm-pack --version 2>/dev/null | awk '{print $2}')" != "$WASM_PACK_VERSION" ]; then
  log "installing wasm-pack $WASM_PACK_VERSION (a few minutes, once)"
  cargo install wasm-pack --version "$WASM_PACK_VERSION" --locked --force
fi

if [ "$(cargo fuzz --version 2>/dev/null | awk '{print $2}')" != "$CARGO_FUZZ_VERSION" ]; then
  log "installing cargo-fuzz $CARGO_FUZZ_VERSION (about a minute, once)"
  cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked --force
fi

if [ "$(geckodriver --version 2>/dev/null | awk 'NR == 1 {print $2}')" != "$GECKODRIVER_VERSION" ]; then
  log "installing geckodriver $GECKODRIVER_VERSION (several minutes, once)"
  cargo install geckodriver --version "$GECKODRIVER_VERSION" --locked --force
fi

missing=()
for need in chromium:/usr/bin/chromium chromium-driver:/usr/bin/chromedriver \
  firefox-esr:/usr/bin/firefox-esr webkit2gtk-driver:/usr/bin/WebKitWebDriver \
  xvfb:/usr/bin/xvfb-run iproute2:/usr/sbin/ip systemd:/usr/bin/systemd-analyze \
  libnss3-tools:/usr/bin/certutil; do
  [ -x "${need#*:}" ] || missing+=("${need%%:*}")
done
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing Debian's ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

log "toolchain ready: $(rustc --version), wasm-bindgen $WASM_BINDGEN_VERSION, $(wasm-pack --version), $(/usr/bin/chromedriver --version | cut -d' ' -f1-2), $(/usr/bin/firefox-esr --version 2>/dev/null), geckodriver $GECKODRIVER_VERSION"
