#!/usr/bin/env bash
# Fuzzes page-token decoding, id parsing and each vendor's response parsing with cargo-fuzz
# (libFuzzer). Usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#   scripts/fuzz.sh 600          # every target for ten minutes
#   scripts/fuzz.sh 30 megaview  # one target, briefly
# Installs cargo-fuzz from crates.io when missing. libFuzzer needs unstable compiler flags;
# RUSTC_BOOTSTRAP=1 lets the stable toolchain accept them. Seeds come from the adapters'
# test fixtures, as they are and grown far past a real page (scripts/fuzz-seeds.py); a crash,
# out-of-memory or slow input leaves its input in fuzz/artifacts/<target>/ and fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(page_token conversation_id megaview gptbots udesk jijyun)
fi

if ! command -v cargo-fuzz >/dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz" >&2
  cargo install --locked cargo-fuzz
fi
export RUSTC_BOOTSTRAP=1

# Seeds: every fixture body behind each endpoint selector and a 200 status.
seed() {
  local target=$1 vendor=$2 selectors=$3 dir=fuzz/corpus/$1
  mkdir -p "$dir"
  for fixture in tests/api/fixtures/"$vendor"/*.json; do
    [ -e "$fixture" ] || continue
    for selector in $(seq 0 $((selectors - 1))); do
      { printf "\\x$(printf %02x "$selector")\\x00"; cat "$fixture"; } \
        > "$dir/seed-$selector-$(basename "$fixture")"
    done
  done
}
seed megaview megaview 5
seed gptbots gptbots 2
seed udesk udesk 2
seed jijyun jijyun 2
# Far larger than a real page: thousands of items, multi-MB strings, deep nesting, and a
# transcript of thousands of sentences sharing one `order`, behind the endpoint that reads each.
# A corpus of their own, fuzzed in a second pass, so the first keeps its speed on small inputs.
big() {
  local target=$1 selector=$2
  shift 2
  python3 scripts/fuzz-seeds.py "fuzz/corpus/$target-large" "$selector" \
    "${@/#/tests/api/fixtures/}"
}
big megaview 1 megaview/list.json
big megaview 4 megaview/transcript.json megaview/transcript_doc.json
big gptbots 0 gptbots/conversations.json
big gptbots 1 gptbots/messages.json
big udesk 0 udesk/sessions.json
big udesk 1 udesk/session_logs.json
big jijyun 0 jijyun/record.json
big jijyun 1 jijyun/record.json
mkdir -p fuzz/corpus/conversation_id fuzz/corpus/page_token
printf 'helpdesk:457955' > fuzz/corpus/conversation_id/seed-udesk
printf 'inbox:57a2:5c82-1' > fuzz/corpus/conversation_id/seed-jijyun
printf '{"q":"abc","o":40,"s":[1,2]}' > fuzz/corpus/page_token/seed-json

cd fuzz
cargo fuzz build --sanitizer none
# -timeout: parsing even the largest input takes well under a second, so a slower one is a
# quadratic path and fails the run.
run() {
  local target=$1 max_len=$2
  shift 2
  cargo fuzz run --sanitizer none "$target" "$@" -- -max_total_time="$seconds" \
    -max_len="$max_len" -timeout=10 -print_final_stats=1 2>&1 |
    grep -E '^(INFO: seed corpus|#[0-9]+ *DONE|Done|stat::(number_of_executed_units|peak_rss_mb)|==|SUMMARY|thread .* panicked)' || true
}
for target in "${targets[@]}"; do
  echo "fuzz: $target for ${seconds}s" >&2
  run "$target" 65536
  if [ -d "corpus/$target-large" ]; then
    # Up to the largest vendor answer the gateway reads by default (8 MiB) and the two
    # selector bytes.
    echo "fuzz: $target over answers far larger than a page for ${seconds}s" >&2
    run "$target" $((8 * 1024 * 1024 + 2)) "$PWD/corpus/$target-large"
  fi
  found=$(find "artifacts/$target" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'oom-*' \
    -o -name 'timeout-*' -o -name 'leak-*' \) 2>/dev/null || true)
  if [ -n "$found" ]; then
    echo "fuzz: $target crashed, ran out of memory or hung; inputs in fuzz/artifacts/$target/" >&2
    exit 1
  fi
done
