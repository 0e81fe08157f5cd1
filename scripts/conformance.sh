#!/usr/bin/env bash
# Conformance: schemathesis (PyPI, installed by scripts/prepare-test-tools.sh) against the demo
# gateway's own /openapi.json, every operation, every check, failing on any finding.
# Usage: scripts/conformance.sh [MAX_EXAMPLES_PER_OPERATION]   (default 150: > 1000 requests)
set -euo pipefail
cd "$(dirname "$0")/.."

max_examples=${1:-150}
scripts/prepare-test-tools.sh
# shellcheck disable=SC1091
source target/test-tools/env.sh
cargo build --locked --quiet

out=target/conformance
mkdir -p "$out"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
RUST_LOG=warn target/debug/conversation-gateway serve --listen "127.0.0.1:$port" > "$out/gateway.log" 2>&1 &
gateway=$!
trap 'kill "$gateway" 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done

rm -f "$out"/report.json
"$SCHEMATHESIS" --config-file scripts/schemathesis.toml run "http://127.0.0.1:$port/openapi.json" \
  --checks all --max-examples "$max_examples" --seed 20261122 --workers 2 \
  --report json --report-json-path "$out/report.json" --output-truncate true

generated=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["test_cases"]["generated"])' "$out/report.json")
echo "conformance: $generated generated requests, no failures"
if [ "$generated" -lt 1000 ]; then
  echo "conformance: fewer than 1000 generated requests" >&2
  exit 1
fi
