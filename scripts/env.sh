# Shared settings for the scripts; source it, do not run it.
# Builds are cached outside the clone so that repeat runs (and fresh clones) are fast.
export FABSTIR_CACHE="${FABSTIR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/fabstir}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$FABSTIR_CACHE/target}"
export PATH="$HOME/.cargo/bin:$PATH"
# The wasm-bindgen version pinned in Cargo.lock; the CLI must match it exactly.
WASM_BINDGEN_VERSION="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$(dirname "${BASH_SOURCE[0]}")/../Cargo.lock")"
export WASM_BINDGEN_VERSION
WASM_PACK_VERSION=0.15.1
# cargo-fuzz for the codec fuzzer (scripts/fuzz.sh); it runs on stable Rust with `-s none`.
CARGO_FUZZ_VERSION=0.13.2
export WASM_PACK_VERSION
# geckodriver for the browser tests in Firefox ESR (Debian's firefox-esr).
GECKODRIVER_VERSION=0.37.1
# Each line carries the time of day, so a run's log shows where its minutes went.
log() { printf '\033[1m==> %s %s\033[0m\n' "$(date +%T)" "$*" >&2; }
