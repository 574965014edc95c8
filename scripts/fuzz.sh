#!/usr/bin/env bash
# Fuzzes the wire codec (every message type, frame by frame), host receipts and catalog records
# with libFuzzer through cargo-fuzz, on stable Rust (`-s none`: coverage-guided, without a
# sanitizer, which needs nightly).
#   scripts/fuzz.sh            30 s, as in the test suite; new inputs go to a temporary folder
#   scripts/fuzz.sh 3600 --save  an hour, then the repo's corpus is minimized with what it found
# A crash stops the run with the input saved under fuzz/artifacts/ (reproduce with
# `cargo fuzz run -s none frame_read <file>` in fuzz/).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
seconds="${1:-30}"
save="${2:-}"
corpus=fuzz/corpus/frame_read
found="$(mktemp -d)"
trap 'rm -rf "$found"' EXIT
cd fuzz
log "fuzzing frame_read for $seconds s (corpus: $(ls "../$corpus" | wc -l) inputs)"
status=0
cargo fuzz run -s none frame_read "$found" "../$corpus" -- \
  -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 >"$found.log" 2>&1 || status=$?
grep -E "^(Done|stat::(number_of_executed_units|average_exec_per_sec|new_units_added))" "$found.log" || true
if [ "$status" -ne 0 ]; then
  tail -40 "$found.log" >&2
  echo "the fuzzer found a failing input (exit $status); it is saved under fuzz/artifacts/" >&2
  exit "$status"
fi
rm -f "$found.log"
if [ "$save" = "--save" ]; then
  cp "$found"/* "../$corpus"/ 2>/dev/null || true
  cargo fuzz cmin -s none frame_read "../$corpus" >/dev/null 2>&1
  log "corpus now $(ls "../$corpus" | wc -l) inputs"
fi
