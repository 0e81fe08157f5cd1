#!/usr/bin/env bash
# The benchmark: the gateway built in release mode and nginx over the same vendor simulators,
# driven by wrk; prints one Markdown table (the one in the README). Installs Debian's nginx
# and wrk when missing. Knobs: BENCH_SECONDS, BENCH_CONNECTIONS, BENCH_LATENCY_MS,
# BENCH_CONVERSATIONS (see benches/gateway.rs).
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}
missing=()
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
if [ ${#missing[@]} -gt 0 ]; then
  echo "bench: installing ${missing[*]}" >&2
  as_root apt-get update -qq >/dev/null
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# `scripts/bench.sh paging`: the page-cost table instead of the proxy-cost one.
cargo bench --locked --bench "${1:-gateway}"
